"""hwc.apig.release_and_export run by ansible-runner, the engine AWX runs jobs with, against the emulator.

The connection comes only from the environment that the credential type of docs/awx/ injects, as AWX
injects it; the role's variables are the job's extra variables. The first run is an AWX project
playbook that imports the collection playbook; the second runs the collection playbook by name.
"""

import json
import os

import ansible_runner
import pytest

import awx
from harness import BIN, HERE, INSTANCES, PROJECT_ID, start_emulator

ROLE_DATA = os.path.join(HERE, "data_role.yml")
ACCESS_KEY = "ITESTAK00000000000AK"
SECRET_KEY = "itestSecretKey0123456789abcdefghijklmno"
MODULE_TASKS = ("Release each group in", "Undeploy the retired backend APIs", "Export each group from")
PROJECT_PLAYBOOK = """---
- name: Release with the hwc.apig collection playbook
  ansible.builtin.import_playbook: hwc.apig.release_and_export
"""


@pytest.fixture
def role_emulator(tmp_path):
    running = start_emulator(tmp_path, ROLE_DATA)
    yield running
    running.stop()


@pytest.fixture
def job_environment(tmp_path, monkeypatch):
    """The runner's own environment: nothing of the connection, Ansible's files kept inside tmp_path."""
    for name in list(os.environ):
        if name.startswith(("HUAWEICLOUD_", "HW_", "HWC_")) or name in ("ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_ROLES_PATH"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANSIBLE_LOCAL_TEMP", str(tmp_path / "ansible-tmp"))
    monkeypatch.setenv("ANSIBLE_HOME", str(tmp_path / "ansible-home"))
    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ.get("PATH", ""))


def events_by_task(runner):
    """{task name: [event, ...]} for the task result events of a run."""
    tasks = {}
    for event in runner.events:
        if event["event"] in ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"):
            tasks.setdefault(event["event_data"]["task"], []).append(event)
    return tasks


def module_task_outcomes(runner):
    """(changed, failed) per module task of the role, from its job events."""
    outcomes = {}
    for task, events in events_by_task(runner).items():
        if task.startswith(MODULE_TASKS):
            outcomes[task] = (any(e["event_data"]["res"].get("changed") for e in events),
                              any(e["event"] == "runner_on_failed" for e in events))
    return outcomes


def check_artifacts(private_data_dir, runner, ident):
    artifacts = os.path.join(private_data_dir, "artifacts", ident)
    with open(os.path.join(artifacts, "rc")) as handle:
        assert handle.read().strip() == "0"
    with open(os.path.join(artifacts, "status")) as handle:
        assert handle.read().strip() == "successful"
    with open(os.path.join(artifacts, "stdout")) as handle:
        stdout = handle.read()
    assert "PLAY RECAP" in stdout and "failed=0" in stdout
    names = sorted(os.listdir(os.path.join(artifacts, "job_events")))
    assert len(names) == len(list(runner.events)) > 0
    counters = []
    for name in names:
        with open(os.path.join(artifacts, "job_events", name)) as handle:
            event = json.load(handle)
        counters.append(event["counter"])
        assert event["runner_ident"] == ident and event["uuid"]
        # AK/SK never reach the job output, whatever the task returned.
        assert SECRET_KEY not in json.dumps(event)
    assert sorted(counters) == list(range(1, len(counters) + 1))
    assert SECRET_KEY not in stdout
    return stdout


def test_release_and_export_through_ansible_runner(tmp_path, role_emulator, job_environment):
    private = tmp_path / "job"
    (private / "project").mkdir(parents=True)
    (private / "project" / "release.yml").write_text(PROJECT_PLAYBOOK)
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    exports = tmp_path / "exports"
    credential = awx.inject(awx.load_credential_type(), {
        "service": "roma", "endpoint": role_emulator.url, "project_id": PROJECT_ID,
        "instance_id": INSTANCES["roma"], "access_key": ACCESS_KEY, "secret_key": SECRET_KEY})
    extravars = {"release_env": "RELEASE", "release_groups": [{"name": "orders"}, {"name": "payments"}],
                 "release_retire_backend_apis": ["legacy_lookup", "planned_report"], "release_remark": "CHG-7",
                 "release_export_dir": str(exports)}

    first = ansible_runner.run(private_data_dir=str(private), playbook="release.yml", envvars=credential,
                               extravars=extravars, ident="first", quiet=True)
    assert (first.status, first.rc) == ("successful", 0), first.stdout.read()
    assert module_task_outcomes(first) == {
        "Release each group in RELEASE": (True, False),
        "Undeploy the retired backend APIs": (True, False),
        "Export each group from RELEASE": (True, False)}
    assert first.stats["failures"] == {} and first.stats["changed"].get("localhost", 0) >= 3
    check_artifacts(str(private), first, "first")
    report = json.loads((exports / "release-report.json").read_text())
    assert report["status"] == "succeeded" and report["changed"] is True
    assert {backend["name"]: backend["result"] for backend in report["retired_backend_apis"]} == {
        "legacy_lookup": "undeployed", "planned_report": "unchanged"}
    assert {entry["auth"] for entry in role_emulator.control.log()["requests"]} == {"aksk"}

    role_emulator.control.reset_log()
    second = ansible_runner.run(private_data_dir=str(private), playbook="hwc.apig.release_and_export",
                                envvars=credential, extravars=extravars, ident="second", quiet=True)
    assert (second.status, second.rc) == ("successful", 0), second.stdout.read()
    assert module_task_outcomes(second) == {
        "Release each group in RELEASE": (False, False),
        "Undeploy the retired backend APIs": (False, False),
        "Export each group from RELEASE": (False, False)}
    stdout = check_artifacts(str(private), second, "second")
    assert "localhost: succeeded" in stdout
    assert "write" not in role_emulator.control.log()["classes"]
    assert json.loads((exports / "release-report.json").read_text())["changed"] is False
