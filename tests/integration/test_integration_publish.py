"""apig_api_publish end to end, on both services, through ansible-playbook and the emulator."""

import pytest

from harness import run_target


@pytest.mark.parametrize("service", ["apig", "roma"])
def test_publish_target(tmp_path, emulator, service):
    run_target(tmp_path, emulator, "apig_api_publish", service)
    # Independent of the playbook's own asserts: the emulator saw batch writes only, never per-API ones.
    counts = emulator.log()["counts"]
    assert "CreateOrDeletePublishRecordForApiV2" not in counts
