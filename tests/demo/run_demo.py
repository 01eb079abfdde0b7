"""`make demo`: start the emulator with demo data, run a release against it, show the result, stop it."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUTPUT = os.path.join(ROOT, "demo-output")
BIN = os.path.dirname(sys.executable)

sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
# pylint: disable-next=wrong-import-position
from apig_emulator.testing import DEMO_DATA, TEST_AK, TEST_PROJECT_ID, TEST_SK, EmulatorProcess  # noqa: E402


def main():
    os.makedirs(OUTPUT, exist_ok=True)
    with open(os.path.join(OUTPUT, "emulator.log"), "w") as log:
        emulator = EmulatorProcess(DEMO_DATA, os.path.join(OUTPUT, "emulator.port"), log)
    url = emulator.url
    print("emulator listening on %s" % url)
    try:
        env = dict(os.environ)
        # Connection settings only in environment variables, the way AWX injects a credential.
        env.update({
            "HWC_APIG_ENDPOINT": url,
            "HUAWEICLOUD_SDK_PROJECT_ID": TEST_PROJECT_ID,
            "HUAWEICLOUD_SDK_AK": TEST_AK,
            "HUAWEICLOUD_SDK_SK": TEST_SK,
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
        emulator.stop()
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
