"""Reliability: releases converge under injected faults with nothing lost or duplicated, and no
secret appears in any output, even at -vvv."""

import os

import pytest

from apig_emulator.testing import running_emulator
from harness import DATA, HERE, IAM_USER, INSTANCES, PROJECT_ID, SECRET_KEY, run_playbook

FAULTS = [
    # Whatever the order of concurrent requests, the first write loses its answer and the second is
    # applied late; the seeded rates below then disturb the rest.
    {"class": "writes", "kind": "lost_response", "max_count": 1},
    {"class": "writes", "kind": "late_apply", "answer": "drop", "delay_seconds": 2, "max_count": 1},
    {"class": "reads", "kind": "503", "rate": 0.15, "retry_after": 0},
    {"class": "reads", "kind": "drop", "rate": 0.1},
    {"class": "reads", "kind": "429", "rate": 0.1, "retry_after": 0},
    # 30% of writes applied late (up to 3 s after the client saw a dropped connection or a 504).
    {"class": "writes", "kind": "late_apply", "rate": 0.15, "answer": "drop", "delay_seconds": 3},
    {"class": "writes", "kind": "late_apply", "rate": 0.18, "answer": "504", "delay_seconds": 1.5},
    {"class": "writes", "kind": "lost_response", "rate": 0.2},
    {"class": "writes", "kind": "429", "rate": 0.15, "retry_after": 0},
    {"class": "writes", "kind": "500", "rate": 0.1},
    {"class": "all", "kind": "latency", "rate": 0.2, "latency_ms": 20},
]


@pytest.mark.parametrize("service, seed", [("apig", 11), ("roma", 23), ("apig", 37)])
def test_release_converges_under_faults(tmp_path, service, seed):
    with running_emulator(DATA, faults={"seed": seed, "rules": FAULTS}) as emulator:
        run_playbook(tmp_path, os.path.join(HERE, "playbooks", "publish_under_faults.yml"), {
            "emulator_url": emulator.url, "apig_service": service, "apig_instance_id": INSTANCES[service]})
        log = emulator.control.log()
        instance = emulator.state.instances[INSTANCES[service]]
        test_env = instance.find_env("TEST")
        bulk = instance.group_apis(instance.find_group("bulk")["id"])
        orders = instance.group_apis(instance.find_group("orders")["id"])
        # Nothing lost: every API is live in TEST. Nothing duplicated: one publication each.
        for api in bulk:
            assert instance.publication(api["id"], test_env["id"]) is not None, api["name"]
            assert len(instance.version_history[(api["id"], test_env["id"])]) == 1, api["name"]
        for api in orders:
            assert instance.publication(api["id"], test_env["id"]) is not None, api["name"]
            assert len(instance.version_history[(api["id"], test_env["id"])]) == 1, api["name"]
    faults = [entry["fault"] for entry in log["requests"] if entry.get("fault")]
    # The run really was disturbed, including writes whose answer was lost after they were applied and
    # writes the gateway applied only after the client had given up on them.
    assert "lost_response" in faults and "late_apply" in faults and len(faults) >= 5
    late = [entry for entry in log["requests"] if entry.get("fault") == "late_apply"]
    assert all(entry.get("applied_at") for entry in late)


@pytest.mark.parametrize("auth", ["aksk", "password"])
def test_no_secret_in_any_output(tmp_path, auth):
    with running_emulator(DATA) as emulator:
        result = run_playbook(tmp_path, os.path.join(HERE, "playbooks", "secrets.yml"), {
            "emulator_url": emulator.url, "apig_service": "apig", "apig_instance_id": INSTANCES["apig"]},
            auth=auth, verbosity=3)
        issued = list(emulator.state.tokens)
    output = result.stdout + result.stderr
    secrets = [SECRET_KEY] if auth == "aksk" else [IAM_USER["HWC_PASSWORD"]] + issued
    if auth == "password":
        assert issued, "password auth must have fetched a token from the emulator's IAM"
    assert "apig_api_publish" in output and PROJECT_ID in output  # the scan reads real -vvv output
    for secret in secrets:
        assert secret not in output
