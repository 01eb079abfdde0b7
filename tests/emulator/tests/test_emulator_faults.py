"""Fault injection: seeded determinism, the kinds of faults, and what a lost response leaves behind."""

import time

import pytest
import requests
from apig_emulator.faults import FaultInjector

RELEASE = "DEFAULT_ENVIRONMENT_RELEASE_ID"
CREATE_PET = "5b6c7d8e9f0a41b2c3d4e5f6a7b8c9d0"


def _decisions(injector, count=200):
    ops = [("ListApisV2", "read"), ("BatchPublishOrOfflineApiV2", "write"), ("ExportApiDefinitionsV2", "export")]
    return [injector.decide(*ops[n % 3]).label() for n in range(count)]


def test_same_seed_same_decisions():
    config = {"rules": [{"class": "reads", "kind": "500", "rate": 0.3},
                        {"class": "all", "kind": "429", "rate": 0.2}]}
    first = _decisions(FaultInjector(config, seed=42))
    assert first == _decisions(FaultInjector(config, seed=42))
    assert first != _decisions(FaultInjector(config, seed=43))
    assert {"500", "429", None} == set(first)
    assert all(label != "500" for label in first[1::3])  # writes never get the reads-only rule


def test_rules_match_class_op_and_stop_at_max_count():
    injector = FaultInjector({"seed": 1, "rules": [
        {"class": "writes", "op": "UnpublishLiveDataApiV2", "kind": "503", "max_count": 2}]})
    assert injector.decide("BatchPublishOrOfflineApiV2", "write").label() is None
    assert injector.decide("UnpublishLiveDataApiV2", "read").label() is None
    labels = [injector.decide("UnpublishLiveDataApiV2", "write").label() for _attempt in range(4)]
    assert labels == ["503", "503", None, None]


def test_latency_adds_up_and_lets_other_rules_decide():
    injector = FaultInjector({"rules": [{"kind": "latency", "latency_ms": 5}, {"kind": "latency", "latency_ms": 7},
                                        {"kind": "drop", "class": "writes"}]})
    read = injector.decide("ListApisV2", "read")
    assert (read.latency_ms, read.kind, read.label()) == (12, None, "latency")
    assert injector.decide("BatchPublishOrOfflineApiV2", "write").kind == "drop"


@pytest.mark.parametrize("config", [
    {"rules": [{"kind": "teapot"}]},
    {"rules": [{"kind": "429", "class": "deletes"}]},
    {"rules": [{"kind": "429", "rate": 2}]},
])
def test_invalid_rules_are_refused(config):
    with pytest.raises(ValueError):
        FaultInjector(config)


def test_throttled_answer_has_retry_after(apig, fresh):
    fresh.control.set_faults([{"class": "reads", "kind": "429", "retry_after": 3}])
    response = apig.get("/envs")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json() == {
        "error_code": "APIG.0308",
        "error_msg": "The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute"}
    assert response.headers["X-Request-Id"]


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors(apig, fresh, kind):
    fresh.control.set_faults({"rules": [{"class": "exports", "kind": kind, "retry_after": 1}]})
    response = apig.post("/openapi/export", {"env_id": RELEASE, "group_id": "c77f5e81d9cb4424bf704ef2b0ac7600"})
    assert response.status_code == int(kind)
    assert response.json()["error_code"] == "APIG.9999"
    assert apig.get("/envs").status_code == 200  # reads are not affected


def test_latency_delays_the_answer(apig, fresh):
    fresh.control.set_faults({"rules": [{"kind": "latency", "latency_ms": 150, "op": "ListEnvironmentsV2"}]})
    started = time.perf_counter()
    assert apig.get("/envs").status_code == 200
    assert time.perf_counter() - started >= 0.15
    assert fresh.control.log()["requests"][0]["fault"] == "latency"


def test_drop_closes_the_connection_before_the_write(apig, fresh):
    fresh.control.set_faults({"rules": [{"class": "writes", "kind": "drop", "max_count": 1}]})
    with pytest.raises(requests.ConnectionError):
        apig.publish("online", RELEASE, [CREATE_PET])
    assert apig.api(CREATE_PET)["run_env_id"] == ""
    entry = fresh.control.log()["requests"][0]
    assert (entry["fault"], entry["status"]) == ("drop", None)


def test_lost_response_applies_the_write(apig, fresh):
    fresh.control.set_faults({"rules": [{"class": "writes", "kind": "lost_response", "max_count": 1}]})
    with pytest.raises(requests.ConnectionError):
        apig.publish("online", RELEASE, [CREATE_PET])
    assert apig.api(CREATE_PET)["run_env_id"] == RELEASE
    entry = fresh.control.log()["requests"][0]
    assert (entry["op"], entry["fault"], entry["status"]) == ("BatchPublishOrOfflineApiV2", "lost_response", 200)


def test_seeded_faults_are_reproducible_over_http(apig, fresh):
    config = {"seed": 7, "rules": [{"class": "reads", "kind": "503", "rate": 0.5}]}

    def run():
        fresh.control.set_faults(config)
        return [apig.get("/envs").status_code for _attempt in range(20)]

    first = run()
    assert first == run()
    assert set(first) == {200, 503}


def test_reset_restores_the_configured_faults_seed(fresh):
    fresh.control.set_faults({"seed": 5, "rules": [{"kind": "500"}]})
    fresh.control.reset()
    assert fresh.control.call("GET", "faults") == {"seed": 0, "rules": []}
