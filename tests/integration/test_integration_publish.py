"""apig_api_publish end to end, on both services, through ansible-playbook and the emulator."""

import os

import pytest

from harness import HERE, IAM_USER, INSTANCES, PROJECT_ID, run_playbook, run_target


@pytest.mark.parametrize("service", ["apig", "roma"])
def test_publish_target(tmp_path, emulator, service):
    run_target(tmp_path, emulator, "apig_api_publish", service)
    # Independent of the playbook's own asserts: the emulator saw batch writes only, never per-API ones.
    counts = emulator.control.log()["counts"]
    assert "CreateOrDeletePublishRecordForApiV2" not in counts


@pytest.mark.parametrize("service", ["apig", "roma"])
def test_token_auth(tmp_path, emulator, service):
    run_playbook(tmp_path, os.path.join(HERE, "playbooks", "token_auth.yml"), {
        "emulator_url": emulator.url, "apig_service": service, "apig_instance_id": INSTANCES[service],
        "token_password": IAM_USER["HWC_PASSWORD"], "token_project_id": PROJECT_ID}, auth="none")
    auth_kinds = {entry["auth"] for entry in emulator.control.log()["requests"] if entry["op"] == "BatchPublishOrOfflineApiV2"}
    assert auth_kinds == {"token"}
