"""`make demo`: release the demo gateway and ROMA Connect instance with hwc.apig.release_and_export.

Starts the emulator with the demo data, runs the collection playbook on both instances in parallel,
edits one API on the gateway, runs the playbook again, prints what each run did to every API, the
operations the second export shows as changed and where the files are, then stops the emulator.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUTPUT = os.path.join(ROOT, "demo-output")
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(ROOT, ".collections")
HOSTS = ("apig-prod", "roma-prod")
# The API edited between the two runs: a new description, so its exported definition changes too.
EDITED = ("apig-prod", "get_pet", {"remark": "Details of one pet, with its vaccination record."})

sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
# pylint: disable-next=wrong-import-position
from apig_emulator.testing import DEMO_DATA, TEST_AK, TEST_PROJECT_ID, TEST_SK, EmulatorProcess  # noqa: E402


def playbook_env(url):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HUAWEICLOUD_", "HW_", "HWC_"))}
    # Connection settings only in environment variables, the way AWX injects a credential; the
    # instance of each host comes from the inventory.
    env.update({
        "HWC_APIG_ENDPOINT": url,
        "HUAWEICLOUD_SDK_PROJECT_ID": TEST_PROJECT_ID,
        "HUAWEICLOUD_SDK_AK": TEST_AK,
        "HUAWEICLOUD_SDK_SK": TEST_SK,
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCALHOST_WARNING": "false",
    })
    return env


def run_release(number, env):
    """One run of the collection playbook on both instances; its output goes to a log file."""
    log_path = os.path.join(OUTPUT, "run%d.log" % number)
    command = [os.path.join(BIN, "ansible-playbook"), "hwc.apig.release_and_export",
               "-i", os.path.join(HERE, "inventory.yml"), "-e", "release_hosts=gateways",
               "-e", "@" + os.path.join(HERE, "release-vars.yml"), "-e", "demo_output_dir=" + OUTPUT,
               "--forks", "2"]
    print("\n$ ansible-playbook hwc.apig.release_and_export -i tests/demo/inventory.yml "
          "-e release_hosts=gateways -e @tests/demo/release-vars.yml   (run %d)" % number)
    with open(log_path, "w") as log:
        result = subprocess.run(command, env=env, cwd=OUTPUT, stdout=log, stderr=subprocess.STDOUT, check=False)
    with open(log_path) as log:
        output = log.read()
    if "PLAY RECAP" in output:
        lines = output.split("PLAY RECAP", 1)[1].strip().splitlines()[1:]
    else:  # the play did not start: show why
        lines = output.strip().splitlines()[-12:]
    for line in lines:
        print("  " + line.rstrip())
    print("  ansible-playbook exit code %d, output in %s" % (result.returncode, os.path.relpath(log_path, ROOT)))
    reports = {}
    for host in HOSTS:
        path = os.path.join(OUTPUT, "exports", host, "release-report.json")
        if os.path.exists(path):
            with open(path) as handle:
                reports[host] = json.load(handle)
    return result.returncode, reports


def find_api(report, name):
    return next(api for api in report["apis"] if api["name"] == name)


def print_outcomes(first, second, edited_id):
    print("\nPer-API outcome (run 1 -> run 2):")
    print("  %-10s %-16s %-26s %-14s %s" % ("instance", "group", "API", "run 1", "run 2"))
    for host in HOSTS:
        later = {api["id"]: api for api in second.get(host, {}).get("apis", [])}
        for api in first.get(host, {}).get("apis", []):
            again = later.get(api["id"])
            note = ""
            if api["id"] == edited_id:
                note = "  <- edited between the runs"
            elif api.get("retired_with"):
                note = "  <- removed with backend API %s" % api["retired_with"]
            later_result = again["result"] if again else "(gone)"
            print("  %-10s %-16s %-26s %-14s %s%s" % (host, api["group"], api["name"], api["result"], later_result, note))
    for host in HOSTS:
        for number, reports in ((1, first), (2, second)):
            for backend in reports.get(host, {}).get("retired_backend_apis", []):
                fronts = ", ".join(front["name"] for front in backend["frontend_apis"]) or "none"
                print("  %-10s retired backend API %-22s run %d: %-11s frontend APIs removed with it: %s" % (
                    host, backend["name"], number, backend["result"], fronts))


def print_changes(second):
    print("\nWhat the second export shows as changed (api_changes):")
    for host in HOSTS:
        for group in second.get(host, {}).get("groups", []):
            export = group["export"]
            changes = export.get("api_changes") or {}
            moved = ["%s %s %s (%s)" % (kind, op["method"], op["path"], op.get("name"))
                     for kind in ("added", "removed", "modified") for op in changes.get(kind) or []]
            state = "rewritten" if export["changed"] else "untouched"
            print("  %-10s %-16s %-9s %s" % (host, group["name"], state, "; ".join(moved) or "no API changed"))


def main():
    # A fresh output folder each time, so the first run's exports are compared with nothing.
    shutil.rmtree(OUTPUT, ignore_errors=True)
    os.makedirs(OUTPUT)
    with open(os.path.join(OUTPUT, "emulator.log"), "w") as log:
        emulator = EmulatorProcess(DEMO_DATA, os.path.join(OUTPUT, "emulator.port"), log)
    print("emulator listening on %s (demo data: %s)" % (emulator.url, os.path.relpath(str(DEMO_DATA), ROOT)))
    try:
        env = playbook_env(emulator.url)
        code_first, first = run_release(1, env)
        host, name, changes = EDITED
        edited_id = find_api(first[host], name)["id"] if host in first else None
        if edited_id:
            emulator.control.touch(edited_id, **changes)
            print("\nedited %s on %s (POST /_emulator/apis/%s/touch: %s)" % (name, host, edited_id, json.dumps(changes)))
        code_second, second = run_release(2, env)
    finally:
        emulator.stop()
        print("\nemulator stopped")

    print_outcomes(first, second, edited_id)
    print_changes(second)
    print("\nSummary:")
    for number, reports in ((1, first), (2, second)):
        for host in HOSTS:
            if host in reports:
                print("  run %d %-10s %s" % (number, host, reports[host]["summary"]))
    print("\nExports and reports:")
    for host in HOSTS:
        folder = os.path.join(OUTPUT, "exports", host)
        if os.path.isdir(folder):
            print("  %s/  %s" % (os.path.relpath(folder, ROOT), "  ".join(sorted(os.listdir(folder)))))
    sys.exit(code_first or code_second)


if __name__ == "__main__":
    main()
