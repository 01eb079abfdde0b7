"""The in-memory model: publication versions, history trimming, seed loading."""

import time

import pytest
from apig_emulator import testing
from apig_emulator.server import load_yaml
from apig_emulator.state import MAX_VERSIONS_PER_ENV, RELEASE_ENV_ID, Clock, EmulatorState, SeedError


@pytest.fixture
def state():
    return EmulatorState(load_yaml(testing.TEST_DATA))


@pytest.fixture
def apig(state):
    return state.instances[testing.APIG_INSTANCE_ID]


def test_clock_strictly_increases():
    clock = Clock()
    stamps = [clock.stamp() for _count in range(1000)]
    assert stamps == sorted(set(stamps))
    assert stamps[0].endswith("Z") and len(stamps[0]) == len("2026-11-22T05:01:31.265228Z")


def test_publish_creates_an_effective_version(state, apig):
    api = apig.find_api("create_pet")
    version = apig.publish(api, apig.envs[RELEASE_ENV_ID], "first", state.clock.now())
    assert version["status"] == 1
    assert version["definition"] == api and version["definition"] is not api
    assert apig.publication(api["id"], RELEASE_ENV_ID)["version_id"] == version["version_id"]
    assert version["publish_time"] > api["update_time"]


def test_republish_makes_the_old_version_not_effective(state, apig):
    api = apig.find_api("list_pets")
    [old] = apig.versions_of(api["id"])
    new = apig.publish(api, apig.envs[RELEASE_ENV_ID], None, state.clock.now())
    assert (old["status"], new["status"]) == (2, 1)
    assert [v["version_id"] for v in apig.versions_of(api["id"])] == [new["version_id"], old["version_id"]]


def test_history_keeps_ten_versions_per_api_and_env(state, apig):
    api = apig.find_api("get_pet")  # published in RELEASE and TEST by the seed
    release = apig.envs[RELEASE_ENV_ID]
    published = [apig.publish(api, release, f"n{n}", state.clock.now()) for n in range(12)]
    kept = [v for v in apig.versions_of(api["id"]) if v["env_id"] == RELEASE_ENV_ID]
    assert len(kept) == MAX_VERSIONS_PER_ENV
    assert [v["remark"] for v in kept] == [f"n{n}" for n in range(11, 1, -1)]
    assert all(v["version_id"] not in apig.versions for v in published[:2])
    assert [v["status"] for v in kept] == [1] + [2] * 9
    # the other environment's history is untouched
    assert len([v for v in apig.versions_of(api["id"]) if v["env_id"] != RELEASE_ENV_ID]) == 1


def test_take_offline_keeps_history(state, apig):
    api = apig.find_api("get_pet")
    publication = apig.take_offline(api["id"], RELEASE_ENV_ID)
    assert apig.versions[publication["version_id"]]["status"] == 2
    assert [env["name"] for env, _pub in apig.current_publications(api["id"])] == ["TEST"]
    assert apig.take_offline(api["id"], RELEASE_ENV_ID) is None


def test_delete_api_removes_publications_and_versions(state, apig):
    api = apig.find_api("get_pet")
    apig.delete_api(api["id"])
    assert api["id"] not in apig.apis
    assert not apig.versions_of(api["id"])
    assert api["id"] not in apig.publications


def test_seed_defaults_are_complete(apig):
    api = apig.find_api("delete_pet")
    assert api["req_params"] == [{"name": "petId", "type": "STRING", "location": "PATH", "required": 1,
                                  "description": "petId path parameter"}]
    assert api["throttle"]["api_call_limits"] == 100
    assert api["backend_api"]["req_method"] == "DELETE"
    assert apig.find_api("get_order")["authorizer"]["authorizer_type"] == "FUNC"
    assert apig.find_api("cancel_order")["func_info"]["function_urn"].startswith("urn:fss:cn-north-4:")
    assert apig.find_api("pet_health")["mock_info"]["result_content"]
    group = apig.groups["c77f5e81d9cb4424bf704ef2b0ac7600"]
    assert group["sl_domain"] == "c77f5e81d9cb4424bf704ef2b0ac7600.apic.cn-north-4.huaweicloudapis.com"


def test_generated_ids_are_stable_across_loads(state):
    data = load_yaml(testing.TEST_DATA)
    data["instances"][0]["generate"] = [{"group": "petstore", "count": 3, "prefix": "bulk-api-"}]
    first, second = EmulatorState(data), EmulatorState(data)
    ids = [a["id"] for a in first.instances[testing.APIG_INSTANCE_ID].apis.values()]
    assert ids == [a["id"] for a in second.instances[testing.APIG_INSTANCE_ID].apis.values()]
    assert "bulk-api-0003" in [a["name"] for a in first.instances[testing.APIG_INSTANCE_ID].apis.values()]


def test_generating_1200_apis_is_fast():
    data = load_yaml(testing.TEST_DATA)
    data["instances"][0]["generate"] = [{"group": "orders", "count": 1200, "prefix": "bulk-api-"}]
    data["instances"][0]["published"].append({"group": "orders", "env": "RELEASE"})
    started = time.perf_counter()
    state = EmulatorState(data)
    assert time.perf_counter() - started < 2
    assert len(state.instances[testing.APIG_INSTANCE_ID].apis) == 1208


def test_reload_restores_the_seed(state, apig):
    apig.delete_api(apig.find_api("list_pets")["id"])
    state.tokens["x"] = {}
    state.load()
    assert state.instances[testing.APIG_INSTANCE_ID].find_api("list_pets") is not None
    assert state.tokens == {}


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["instances"][0]["published"].append({"api": "nope", "env": "RELEASE"}), "unknown API"),
    (lambda d: d["instances"][0]["published"].append({"api": "list_pets", "env": "nope"}), "unknown environment"),
    (lambda d: d["instances"][1]["groups"][0]["apis"][2].update(ld_api_id="nope"), "unknown backend API"),
    (lambda d: d["instances"][0].update(kind="other"), "kind must be"),
    (lambda d: d["instances"][0].update(project_id="nope"), "unknown project"),
])
def test_inconsistent_seed_is_refused(mutate, message):
    data = load_yaml(testing.TEST_DATA)
    mutate(data)
    with pytest.raises(SeedError, match=message):
        EmulatorState(data)


def test_demo_data_loads():
    state = EmulatorState(load_yaml(testing.DEMO_DATA))
    kinds = sorted(instance.kind for instance in state.instances.values())
    assert kinds == ["apig", "roma"]
    roma = next(i for i in state.instances.values() if i.kind == "roma")
    assert {b["status"] for b in roma.backend_apis.values()} == {1, 3, 4}
    deployed = [b for b in roma.backend_apis.values() if b["status"] == 4]
    assert any(a["ld_api_id"] == deployed[0]["id"] for a in roma.apis.values())
    for instance in state.instances.values():
        assert {e["name"] for e in instance.envs.values()} >= {"RELEASE", "TEST", "pre-prod"}
        assert instance.envs[RELEASE_ENV_ID]["name"] == "RELEASE"
