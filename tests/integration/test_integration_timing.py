"""apig_api_publish against the cloud's timing: whole-second and odd time formats, same-second edits,
and writes the gateway applies late. The emulator can show each of these (docs/emulator.md)."""

import os

import pytest

from apig_emulator.testing import running_emulator
from harness import DATA, HERE, INSTANCES, run_playbook


@pytest.mark.parametrize("service", ["apig", "roma"])
def test_time_formats_and_same_second_edits(tmp_path, emulator, service):
    run_playbook(tmp_path, os.path.join(HERE, "playbooks", "publish_timing.yml"), {
        "emulator_url": emulator.url, "apig_service": service, "apig_instance_id": INSTANCES[service]})


def test_batch_applied_late_after_a_dropped_connection_is_published_once(tmp_path):
    # Every batch write loses its connection and the gateway applies it 3 s later.
    faults = {"seed": 5, "rules": [{"class": "writes", "kind": "late_apply", "answer": "drop", "delay_seconds": 3}]}
    with running_emulator(DATA, faults=faults) as emulator:
        result = run_playbook(tmp_path, os.path.join(HERE, "playbooks", "publish_late.yml"), {
            "emulator_url": emulator.url, "apig_service": "apig", "apig_instance_id": INSTANCES["apig"]})
        instance = emulator.state.instances[INSTANCES["apig"]]
        env = instance.find_env("TEST")
        orders = instance.group_apis(instance.find_group("orders")["id"])
        assert all(len(instance.version_history[(api["id"], env["id"])]) == 1 for api in orders)
        writes = [entry for entry in emulator.control.log()["requests"] if entry["class"] == "write"]
    assert len(writes) == 1 and writes[0]["fault"] == "late_apply"
    assert "published" in result.stdout


def test_write_never_applied_fails_naming_the_apis_as_unknown(tmp_path):
    # The gateway answers 504 and never applies the write; with no retries left the module must not resend.
    faults = {"seed": 5, "rules": [{"class": "writes", "kind": "500"}]}
    with running_emulator(DATA, faults=faults) as emulator:
        result = run_playbook(tmp_path, os.path.join(HERE, "playbooks", "publish_late.yml"), {
            "emulator_url": emulator.url, "apig_service": "roma", "apig_instance_id": INSTANCES["roma"],
            "late_retries": 0, "late_settle_timeout": 2}, check=False)
        writes = [entry for entry in emulator.control.log()["requests"] if entry["class"] == "write"]
    assert result.returncode != 0 and len(writes) == 1
    assert "outcome unknown" in result.stdout and "list-orders" in result.stdout
    assert "run the task again" in result.stdout and "Traceback" not in result.stdout + result.stderr
