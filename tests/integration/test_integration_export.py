"""apig_export end to end through ansible-playbook and the emulator: the target on both services, a
token that expires while an export task is polled, and a group of 5,000 APIs (with the module's peak
memory measured next to the file size, reported as figures, not asserted)."""

import json
import os
import subprocess
import sys
import time

import pytest
from apig_emulator.testing import EmulatorProcess

from harness import BIN, HERE, IAM_USER, INSTANCES, PROJECT_ID, base_env, run_playbook, run_target

DATA_EXPORT = os.path.join(HERE, "data_export.yml")
LARGE_GROUP_SIZE = 5000


@pytest.fixture
def export_emulator(tmp_path):
    running = EmulatorProcess(DATA_EXPORT, tmp_path / "emulator.port", subprocess.DEVNULL, "--task-seconds", "0.3")
    yield running
    running.stop()


def requests_of(log, op):
    return [entry for entry in log["requests"] if entry["op"] == op]


@pytest.mark.parametrize("service", ["apig", "roma"])
def test_export_target(tmp_path, export_emulator, service):
    run_target(tmp_path, export_emulator, "apig_export", service, export_dir=str(tmp_path / "exports"))
    exports = tmp_path / "exports"
    # Independent of the playbook's asserts: no temporary or partial file is left beside the exports.
    assert not [name for name in os.listdir(str(exports)) if name.startswith(("hwc-apig-", ".", "tmp"))]


def start_playbook(tmp_path, playbook, extra_vars, auth):
    """ansible-playbook in the background (run_playbook waits; these tests act while it runs)."""
    env = base_env(tmp_path, auth)
    variables = {"ansible_python_interpreter": sys.executable}
    variables.update(extra_vars)
    command = [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
               json.dumps(variables), playbook]
    return subprocess.Popen(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def wait_for_first_poll(emulator, process, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if requests_of(emulator.control.log(), "ShowAsyncTaskResult"):
            return
        if process.poll() is not None:
            pytest.fail("the playbook ended before the task was polled:\n" + process.stdout.read())
        time.sleep(0.05)
    pytest.fail("the export task was never polled")


@pytest.mark.parametrize("auth", ["password", "token"])
def test_token_expiring_while_polling(tmp_path, export_emulator, auth):
    export_dir = tmp_path / "exports"
    export_dir.mkdir()
    export_emulator.control.settings(task_seconds=4)
    process = start_playbook(tmp_path, os.path.join(HERE, "playbooks", "export_polling.yml"), {
        "emulator_url": export_emulator.url, "apig_instance_id": INSTANCES["apig"], "export_dir": str(export_dir),
        "polling_auth": auth, "token_password": IAM_USER["HWC_PASSWORD"], "token_project_id": PROJECT_ID},
        auth="password" if auth == "password" else "none")
    wait_for_first_poll(export_emulator, process)
    assert export_emulator.control.expire_tokens() >= 1
    output, _ignored = process.communicate(timeout=120)
    assert process.returncode == 0, output
    result = json.loads((export_dir / "result.json").read_text())
    log = export_emulator.control.log()
    polls = requests_of(log, "ShowAsyncTaskResult")
    refused = [entry for entry in polls if entry["status"] == 401]
    # One refusal, never a loop of them.
    assert len(refused) == 1
    if auth == "password":
        assert not result.get("failed") and result["changed"] and result["api_count"] == 5
        assert (export_dir / "catalog.json").exists()
        # The module authenticated once at the start and once more after the 401, then carried on.
        assert len(requests_of(log, "KeystoneCreateUserTokenByPassword")) == 2
        assert polls[-1]["status"] == 200 and polls.index(refused[0]) < len(polls) - 1
    else:
        assert result["failed"] and result["task_id"] and result["status"] == 401
        assert "the auth_token was refused (expired or not valid)" in result["msg"]
        assert polls[-1] is refused[0]  # nothing was polled after the refusal
        assert len(requests_of(log, "KeystoneCreateUserTokenByPassword")) == 1  # the playbook's own
        assert not (export_dir / "catalog.json").exists()


RSS_WRAPPER = """#!{python}
# Runs the real interpreter and records the peak RSS of what it ran (ru_maxrss of the child, KiB).
import json, resource, subprocess, sys
status = subprocess.call([{python!r}] + sys.argv[1:])
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}) + "\\n")
sys.exit(status)
"""


@pytest.mark.slow
def test_large_group_export(tmp_path, export_emulator):
    export_dir = tmp_path / "exports"
    export_dir.mkdir()
    rss_log = tmp_path / "rss.jsonl"
    wrapper = tmp_path / "python-rss"
    wrapper.write_text(RSS_WRAPPER.format(python=sys.executable, log=str(rss_log)))
    wrapper.chmod(0o755)
    created = export_emulator.control.create_apis(INSTANCES["apig"], {"group": "large", "count": LARGE_GROUP_SIZE,
                                                                      "prefix": "big-"})
    assert created["created"] == LARGE_GROUP_SIZE
    export_emulator.control.reset_log()
    run_playbook(tmp_path, os.path.join(HERE, "playbooks", "export_large.yml"), {
        "emulator_url": export_emulator.url, "apig_instance_id": INSTANCES["apig"], "export_dir": str(export_dir),
        "ansible_python_interpreter": str(wrapper)})
    results = json.loads((export_dir / "results.json").read_text())
    log = export_emulator.control.log()

    for key in ("sync", "sync_again", "async", "async_yaml", "yaml_again"):
        assert results[key]["api_count"] == LARGE_GROUP_SIZE, key
    assert results["baseline"]["api_count"] == 5
    assert results["sync"]["changed"] and results["async_yaml"]["changed"]
    # Re-exports, and the task's copy of the same document, keep the files.
    assert not results["sync_again"]["changed"] and not results["async"]["changed"]
    assert not results["yaml_again"]["changed"]
    assert results["sync_again"]["api_changes"] == {"added": [], "removed": [], "modified": []}
    document = json.loads((export_dir / "large.json").read_text())
    assert len(document["paths"]) == LARGE_GROUP_SIZE
    assert os.path.getsize(export_dir / "large.json") == results["sync"]["size"]
    # Requests: one per environment and group listing and one export; a task adds its polls.
    assert log["counts"]["ExportApiDefinitionsV2"] == 4
    assert log["counts"]["ExportApiDefinitionsAsync"] == 2
    assert log["counts"]["ShowAsyncTaskResult"] <= 6

    runs = [json.loads(line) for line in rss_log.read_text().splitlines()]
    exports = [run["maxrss_kib"] for run in runs if any("AnsiballZ_apig_export" in arg for arg in run["argv"])]
    assert len(exports) == 6
    names = ["baseline", "sync", "sync_again", "async", "async_yaml", "yaml_again"]
    figures = dict((name, {"peak_rss_mib": round(kib / 1024.0, 1), "file_bytes": results[name]["size"]})
                   for name, kib in zip(names, exports))
    (tmp_path / "figures.json").write_text(json.dumps(figures, indent=2))
    print("\napig_export peak RSS next to file size (%d APIs): %s" % (LARGE_GROUP_SIZE, json.dumps(figures)))
