"""apig_backend_undeploy end to end on the ROMA instance, through ansible-playbook and the emulator."""

import collections
import os
import time

import pytest

from apig_emulator.faults import KINDS as FAULT_KINDS
from apig_emulator.testing import running_emulator
from harness import DATA, HERE, INSTANCES, PROJECT_ID, run_playbook, run_target

ROMA = INSTANCES["roma"]
UNDEPLOY_OPS = ("UnpublishLiveDataApiV2", "UnpublishLiveDataApiV1")
FAULTED = ["ld-fault-0%d" % number for number in range(1, 7)]
PLAYBOOK = os.path.join(HERE, "playbooks", "undeploy_under_faults.yml")


def roma_state(emulator):
    return next(instance for instance in emulator.control.dump()["instances"] if instance["id"] == ROMA)


def backend_ids(instance):
    return dict((ld_api["name"], ld_api["id"]) for ld_api in instance["backend_apis"])


def applied_undeploys(log):
    """Backend API ID -> how many undeploy calls the emulator applied (answered or not)."""
    applied = collections.Counter()
    for entry in log["requests"]:
        if entry["op"] not in UNDEPLOY_OPS:
            continue
        status = entry.get("apply_status") if entry.get("fault") == "late_apply" else entry["status"]
        if status == 204:
            if entry["op"] == "UnpublishLiveDataApiV1":
                applied[entry["body"]["ld_api_id"]] += 1
            else:
                applied[entry["path"].split("/")[-2]] += 1
    return applied


def test_undeploy_target(tmp_path, emulator):
    run_target(tmp_path, emulator, "apig_backend_undeploy", "roma")
    # Independent of the playbook's own asserts: what the emulator holds afterwards.
    instance = roma_state(emulator)
    status = dict((ld_api["name"], ld_api["status"]) for ld_api in instance["backend_apis"])
    undeployed = ["ld-orders-query", "ld-orders-sync", "ld-report-monthly", "ld-stock-check", "ld-stock-update"]
    assert [status[name] for name in undeployed] == [3] * 5
    assert status["ld-inventory-dev"] == 3 and status["ld-report-draft"] == 1
    assert [status[name] for name in FAULTED] == [4] * 6
    fronts = set(api["name"] for api in instance["apis"] if api["ld_api_id"])
    assert fronts == set(name + "-front" for name in FAULTED)


def test_request_counts_and_shapes(tmp_path, emulator):
    """An undeploy of N backend APIs: one backend listing, the API listing pages, N writes."""
    ids = backend_ids(roma_state(emulator))
    api_pages = -(-len(roma_state(emulator)["apis"]) // 500)
    emulator.control.reset_log()
    run_playbook(tmp_path, PLAYBOOK, {"emulator_url": emulator.url, "apig_instance_id": ROMA})
    log = emulator.control.log()
    # Two tasks of three: per task 1 + pages reads and 3 writes, nothing else.
    assert log["counts"] == {"ListLiveDataApiV2": 2, "ListApisV2": 2 * api_pages,
                             "UnpublishLiveDataApiV2": 3, "UnpublishLiveDataApiV1": 3}
    v2 = [entry for entry in log["requests"] if entry["op"] == "UnpublishLiveDataApiV2"]
    v1 = [entry for entry in log["requests"] if entry["op"] == "UnpublishLiveDataApiV1"]
    prefix = "/%%s/%s/apic/instances/%s/livedata-apis" % (PROJECT_ID, ROMA)
    assert [entry["path"] for entry in v2] == [
        prefix % "v2" + "/%s/undeploy" % ids[name] for name in FAULTED[:3]]
    assert all(entry["method"] == "POST" and entry.get("body") is None for entry in v2)
    assert [entry["path"] for entry in v1] == [prefix % "v1" + "/undeploy"] * 3
    assert [entry["body"] for entry in v1] == [{"ld_api_id": ids[name]} for name in FAULTED[3:]]
    assert applied_undeploys(log) == collections.Counter(ids[name] for name in FAULTED)


FAULT_CASES = [
    ("429", [{"class": "writes", "kind": "429", "rate": 0.5, "retry_after": 0, "max_count": 4}]),
    ("500", [{"class": "writes", "kind": "500", "rate": 0.5, "max_count": 3}]),
    ("503", [{"class": "writes", "kind": "503", "rate": 0.5, "max_count": 3}]),
    ("lost_response", [{"class": "writes", "kind": "lost_response", "rate": 0.5, "max_count": 4}]),
    ("drop", [{"class": "writes", "kind": "drop", "rate": 0.5, "max_count": 3}]),
    # Applied while the module is still settling: seen by a re-read, never resent.
    ("late_apply", [{"class": "writes", "kind": "late_apply", "rate": 0.5, "max_count": 3, "delay_seconds": 0.8}]),
    # Applied only after the settle window: the resend and the late write meet; one of them applies.
    ("late_apply", [{"class": "writes", "kind": "late_apply", "answer": "504", "rate": 0.5, "max_count": 2,
                     "delay_seconds": 3}]),
]


@pytest.mark.parametrize("kind, rules", FAULT_CASES, ids=["%s-%d" % (case[0], n) for n, case in enumerate(FAULT_CASES)])
def test_each_backend_api_is_undeployed_exactly_once_under_faults(tmp_path, kind, rules):
    if kind not in FAULT_KINDS:
        pytest.skip("the emulator has no %s fault" % kind)
    extra = [{"class": "reads", "kind": "503", "rate": 0.1, "retry_after": 0},
             {"class": "all", "kind": "latency", "rate": 0.2, "latency_ms": 10}]
    with running_emulator(DATA, faults={"seed": 5, "rules": rules + extra}) as emulator:
        ids = backend_ids(roma_state(emulator))
        run_playbook(tmp_path, PLAYBOOK, {"emulator_url": emulator.url, "apig_instance_id": ROMA,
                                          "undeploy_settle_timeout": 2})
        deadline = time.monotonic() + 10
        while emulator.control.log()["late_writes_pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
        log = emulator.control.log()
        instance = roma_state(emulator)
    fired = [entry for entry in log["requests"] if entry["op"] in UNDEPLOY_OPS and entry.get("fault") == kind]
    assert fired, "the %s fault never hit an undeploy call" % kind
    # Nothing lost, nothing duplicated: one applied undeploy per backend API, whatever the faults did.
    assert applied_undeploys(log) == collections.Counter(ids[name] for name in FAULTED)
    # And no blind resend: a second undeploy of an undeployed backend API is refused (400), never sent.
    refused = [entry for entry in log["requests"] if entry["op"] in UNDEPLOY_OPS and entry["status"]
               and 400 <= entry["status"] < 500 and entry["status"] != 429]
    assert refused == []
    status = dict((ld_api["name"], ld_api["status"]) for ld_api in instance["backend_apis"])
    assert [status[name] for name in FAULTED] == [3] * 6
    assert not [api for api in instance["apis"] if api["ld_api_id"] in set(ids[name] for name in FAULTED)]
