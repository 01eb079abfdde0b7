"""`make demo`: start the emulator with demo data, run a release against it, show the result, stop it."""

import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUTPUT = os.path.join(ROOT, "demo-output")
BIN = os.path.dirname(sys.executable)


def start_emulator():
    port_file = os.path.join(OUTPUT, "emulator.port")
    if os.path.exists(port_file):
        os.remove(port_file)
    log = open(os.path.join(OUTPUT, "emulator.log"), "w")
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tests", "emulator", "run.py"), "--port", "0", "--port-file", port_file,
         "--data", os.path.join(ROOT, "tests", "emulator", "data", "demo.yml")],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            sys.exit("the emulator did not start; see demo-output/emulator.log")
        time.sleep(0.05)
    return process, "http://127.0.0.1:%s" % open(port_file).read().strip()


def main():
    os.makedirs(OUTPUT, exist_ok=True)
    process, url = start_emulator()
    print("emulator listening on %s" % url)
    try:
        env = dict(os.environ)
        # Connection settings only in environment variables, the way AWX injects a credential.
        env.update({
            "HWC_APIG_ENDPOINT": url,
            "HUAWEICLOUD_SDK_PROJECT_ID": "0123456789abcdef0123456789abcdef",
            "HUAWEICLOUD_SDK_AK": "TESTAK0000000000000A",
            "HUAWEICLOUD_SDK_SK": "testSecretKey0123456789abcdefghijklmno",
            "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".collections"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        })
        command = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                   os.path.join(HERE, "demo.yml"), "-e", "demo_output_dir=%s" % OUTPUT,
                   "-e", "ansible_python_interpreter=%s" % sys.executable]
        result = subprocess.run(command, env=env, check=False)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    report = os.path.join(OUTPUT, "release-report.json")
    if os.path.exists(report):
        with open(report) as handle:
            data = json.load(handle)
        print("\nPer-API outcome:")
        for release in data["releases"]:
            for api in release["apis"]:
                print("  %-6s %-16s %-28s %-14s %s" % (
                    release["service"], release["group"], api["name"], api["result"], api.get("publish_id") or ""))
        print("\nSummary: %s" % json.dumps(data["summary"]))
        print("Report: %s" % report)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
