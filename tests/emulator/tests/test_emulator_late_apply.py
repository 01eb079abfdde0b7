"""The late_apply fault: the client sees a failure now, the write lands later, reads do not show it before."""

import time

import pytest
import requests
from apig_emulator import testing
from apig_emulator.faults import FaultInjector

RELEASE = testing.RELEASE_ENV_ID
CREATE_PET = "5b6c7d8e9f0a41b2c3d4e5f6a7b8c9d0"
GET_PET = "abd9c4b2ff974888b0ba79be7e6b2762"
DEPLOYED_LD = "bd42841c20184da6bbf457c6d8a06e37"
FRONTEND = "3d4e5f6a7b8c49d0e1f2a3b4c5d6e7f8"


def _late(answer="drop", delay=0.4, **extra):
    return {"seed": 3, "rules": [{"class": "writes", "kind": "late_apply", "answer": answer,
                                  "delay_seconds": delay, "max_count": 1, **extra}]}


def _wait_applied(control, timeout=5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = control.log()
        if log["late_writes_pending"] == 0:
            return log
        time.sleep(0.02)
    raise AssertionError("the late write was not applied in time")


def _published_envs(cloud, api_id) -> set[str]:
    return set(filter(None, cloud.api(api_id)["run_env_id"].split("|")))


def test_rule_defaults_and_validation():
    [rule] = FaultInjector({"rules": [{"class": "writes", "kind": "late_apply"}]}).rules
    assert (rule.answer, rule.delay_seconds, rule.hold_seconds) == ("drop", 2.0, 35.0)
    for bad in ({"kind": "late_apply", "class": "reads"}, {"kind": "late_apply", "answer": "418"},
                {"kind": "late_apply", "delay_seconds": -1}):
        with pytest.raises(ValueError):
            FaultInjector({"rules": [bad]})


def test_only_writes_get_it_and_decisions_follow_the_seed():
    config = {"rules": [{"class": "all", "kind": "late_apply", "rate": 0.5}]}
    ops = [("ListApisV2", "read"), ("BatchPublishOrOfflineApiV2", "write"), ("UnpublishLiveDataApiV1", "write")]

    def labels(seed):
        injector = FaultInjector(config, seed=seed)
        return [injector.decide(*ops[n % 3]).label() for n in range(90)]

    first = labels(11)
    assert first == labels(11) and first != labels(12)
    assert set(first[0::3]) == {None}
    assert set(first[1::3]) == set(first[2::3]) == {"late_apply", None}


def test_dropped_write_is_applied_later_and_invisible_until_then(apig, fresh):
    fresh.control.set_faults(_late(delay=0.5))
    started = time.time()
    with pytest.raises(requests.ConnectionError):
        apig.publish("online", RELEASE, [CREATE_PET])
    assert _published_envs(apig, CREATE_PET) == set()
    assert CREATE_PET not in [a["id"] for a in apig.get("/apis", env_id=RELEASE).json()["apis"]]
    pending = fresh.control.log()
    [entry] = [e for e in pending["requests"] if e["op"] == "BatchPublishOrOfflineApiV2"]
    assert (entry["fault"], entry["status"], entry["applied_at"], entry["apply_status"]) == (
        "late_apply", None, None, None)
    assert entry["apply_due"] >= started + 0.5
    assert pending["late_writes_pending"] == 1

    log = _wait_applied(fresh.control)
    assert _published_envs(apig, CREATE_PET) == {RELEASE}
    [entry] = [e for e in log["requests"] if e["op"] == "BatchPublishOrOfflineApiV2"]
    assert entry["apply_status"] == 200
    assert entry["applied_at"] >= entry["apply_due"]
    [version] = apig.get(f"/apis/publish/{CREATE_PET}").json()["api_versions"]
    assert version["status"] == 1  # one publication: the write was applied once


@pytest.mark.parametrize("answer", ["504", "502"])
def test_gateway_error_answer_then_applied(apig, fresh, answer):
    fresh.control.set_faults(_late(answer=answer, delay=0.3))
    response = apig.post("/apis/publish", {"apis": [CREATE_PET], "env_id": RELEASE}, action="online")
    assert response.status_code == int(answer)
    assert response.json()["error_code"] == "APIG.9999"
    assert len(response.headers["X-Request-Id"]) == 32
    assert _published_envs(apig, CREATE_PET) == set()
    entry = _wait_applied(fresh.control)["requests"][0]
    assert (entry["fault"], entry["status"], entry["apply_status"]) == ("late_apply", int(answer), 200)
    assert _published_envs(apig, CREATE_PET) == {RELEASE}


def test_held_connection_outlasts_the_client_timeout(apig, fresh):
    fresh.control.set_faults(_late(answer="timeout", delay=0.3, hold_seconds=2))
    with pytest.raises(requests.Timeout):
        apig.request("POST", "/apis/publish", {"action": "offline"}, {"apis": [GET_PET], "env_id": RELEASE},
                     timeout=0.2)
    assert RELEASE in _published_envs(apig, GET_PET)
    _wait_applied(fresh.control)
    assert _published_envs(apig, GET_PET) == {"7a1ad0c350844ee69479b47df9a881cb"}
    fresh.control.reset()  # releases the held connection


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_late_undeploy(roma, fresh, version):
    fresh.control.set_faults(_late(answer="504", delay=0.3))
    if version == "v2":
        response = roma.post(f"/livedata-apis/{DEPLOYED_LD}/undeploy")
    else:
        path = f"/v1/{testing.TEST_PROJECT_ID}/apic/instances/{testing.ROMA_INSTANCE_ID}/livedata-apis/undeploy"
        response = roma.request("POST", path, body={"ld_api_id": DEPLOYED_LD}, absolute=True)
    assert response.status_code == 504
    assert roma.get(f"/livedata-apis/{DEPLOYED_LD}").json()["status"] == 4
    assert roma.get(f"/apis/{FRONTEND}").status_code == 200
    entry = _wait_applied(fresh.control)["requests"][0]
    assert (entry["op"], entry["apply_status"]) == (f"UnpublishLiveDataApi{version.upper()}", 204)
    assert roma.get(f"/livedata-apis/{DEPLOYED_LD}").json()["status"] == 3
    assert roma.get(f"/apis/{FRONTEND}").status_code == 404


def test_a_late_write_is_judged_when_it_applies(apig, fresh):
    """It meets the state of its own time: here another write got there first."""
    fresh.control.set_faults(_late(answer="504", delay=0.4))
    assert apig.post("/apis/publish", {"apis": [GET_PET], "env_id": RELEASE}, action="offline").status_code == 504
    assert apig.publish("offline", RELEASE, [GET_PET])["failure"] == []
    entry = _wait_applied(fresh.control)["requests"][0]
    assert entry["apply_status"] == 200
    assert RELEASE not in _published_envs(apig, GET_PET)


def test_refused_request_is_never_applied(make_cloud, apig, fresh):
    fresh.control.set_faults(_late(answer="504", delay=0.1))
    intruder = make_cloud(testing.TEST_AK, "wrong-secret-key")
    response = intruder.post("/apis/publish", {"apis": [CREATE_PET], "env_id": RELEASE}, action="online")
    assert response.status_code == 504
    [entry] = fresh.control.log()["requests"]
    assert (entry["fault"], entry["apply_status"]) == ("late_apply", 401)
    time.sleep(0.3)
    assert _published_envs(apig, CREATE_PET) == set()


def test_reset_cancels_pending_late_writes(apig, fresh):
    fresh.control.set_faults(_late(answer="504", delay=0.4))
    apig.post("/apis/publish", {"apis": [CREATE_PET], "env_id": RELEASE}, action="online")
    assert fresh.control.call("POST", "reset")["late_writes_cancelled"] == 1
    assert fresh.control.log() == {"requests": [], "counts": {}, "classes": {}, "late_writes_pending": 0}
    time.sleep(0.6)
    assert _published_envs(apig, CREATE_PET) == set()


def test_reads_are_never_late(apig, fresh):
    fresh.control.set_faults({"rules": [{"kind": "late_apply", "answer": "504"}]})
    assert apig.get("/envs").status_code == 200
    assert fresh.control.log()["requests"][0]["fault"] is None
