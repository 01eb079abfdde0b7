"""The HTTP operations: state transitions, filters, paging, tasks, errors and the control API."""

import json
import time

import requests

from apig_emulator import testing
from apig_emulator.testing import RELEASE_ENV_ID as RELEASE

TEST_ENV = "7a1ad0c350844ee69479b47df9a881cb"
PRE_PROD = "4f5e6d7c8b9a40b1a2c3d4e5f6a7b8c9"
PETSTORE = "c77f5e81d9cb4424bf704ef2b0ac7600"
ORDERS = "d88f6e92eadc4535cf815fc3b1bd8711"
LIST_PETS = "3a955b791bd24b1c9cd94c745f8d1aad"
GET_PET = "abd9c4b2ff974888b0ba79be7e6b2762"
CREATE_PET = "5b6c7d8e9f0a41b2c3d4e5f6a7b8c9d0"
DEPLOYED_LD = "bd42841c20184da6bbf457c6d8a06e37"
FRONTEND = "3d4e5f6a7b8c49d0e1f2a3b4c5d6e7f8"


def test_every_answer_has_a_request_id(apig):
    for response in (apig.get("/envs"), apig.get("/apis/" + "0" * 32), apig.get("/no-such-thing")):
        assert len(response.headers["X-Request-Id"]) == 32


def test_unknown_route_is_apig_0101_emulator_choice(apig):
    """Emulator's own choice: no document gives the management API's answer to an unknown path."""
    response = apig.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error_code"] == "APIG.0101"


def test_async_export_is_apig_only_emulator_choice(roma):
    """ROMA has no async export (contract section 2); the 404 APIG.0101 answer is the emulator's own."""
    response = roma.post("/openapi/async-export", {"env_id": RELEASE, "group_id": "x"})
    assert (response.status_code, response.json()["error_code"]) == (404, "APIG.0101")


def test_publish_then_edit_is_strictly_later(apig, fresh):
    [success] = apig.publish("online", TEST_ENV, [CREATE_PET])["success"]
    touched = fresh.control.touch(CREATE_PET, remark="edited")
    assert touched["update_time"] > success["publish_time"]
    assert apig.api(CREATE_PET)["remark"] == "edited"


def test_joined_fields_follow_publications_emulator_choice(apig):
    """The |-joined fields follow publications; their order (oldest publication first) is the emulator's own."""
    apig.publish("online", PRE_PROD, [GET_PET])
    api = apig.api(GET_PET)
    assert api["run_env_id"] == f"{RELEASE}|{TEST_ENV}|{PRE_PROD}"
    assert api["run_env_name"] == "RELEASE|TEST|pre-prod"
    assert len(api["publish_id"].split("|")) == len(api["publish_time"].split("|")) == 3

    apig.publish("offline", TEST_ENV, [GET_PET])
    api = apig.api(GET_PET)
    assert api["run_env_id"] == f"{RELEASE}|{PRE_PROD}"
    assert api["run_env_name"] == "RELEASE|pre-prod"
    listed = apig.get("/apis", env_id=TEST_ENV).json()
    assert GET_PET not in [a["id"] for a in listed["apis"]]


def test_republish_flips_the_old_version_via_http(apig):
    old = apig.get(f"/apis/publish/{LIST_PETS}").json()["api_versions"]
    apig.publish("online", RELEASE, [LIST_PETS], remark="again")
    versions = apig.get(f"/apis/publish/{LIST_PETS}", env_id=RELEASE).json()
    assert versions["total"] == 2
    statuses = {v["version_id"]: v["status"] for v in versions["api_versions"]}
    assert statuses.pop(old[0]["version_id"]) == 2
    assert list(statuses.values()) == [1]


def test_history_is_trimmed_to_ten_via_http(apig):
    for _attempt in range(12):
        apig.publish("online", PRE_PROD, [CREATE_PET])
    versions = apig.get(f"/apis/publish/{CREATE_PET}", env_id=PRE_PROD, limit=50).json()
    assert versions["total"] == 10
    assert [v["status"] for v in versions["api_versions"]].count(1) == 1


def test_batch_publish_by_group_and_errors(apig):
    result = apig.publish("online", PRE_PROD, [], group_id=ORDERS)
    assert len(result["success"]) == 3 and result["failure"] == []

    missing_env = apig.post("/apis/publish", {"apis": [LIST_PETS]}, action="online")
    assert (missing_env.status_code, missing_env.json()["error_code"]) == (400, "APIG.2001")
    bad_action = apig.post("/apis/publish", {"apis": [LIST_PETS], "env_id": RELEASE}, action="up")
    assert (bad_action.status_code, bad_action.json()["error_code"]) == (400, "APIG.2011")
    long_remark = apig.post("/apis/publish", {"apis": [LIST_PETS], "env_id": RELEASE, "remark": "x" * 256},
                            action="online")
    assert long_remark.status_code == 400
    unknown_group = apig.post("/apis/publish", {"group_id": "0" * 32, "env_id": RELEASE}, action="online")
    assert (unknown_group.status_code, unknown_group.json()["error_code"]) == (404, "APIG.3001")


def test_roma_batch_ignores_group_id(roma):
    response = roma.post("/apis/publish", {"group_id": "e99a7fa3fbed4646d0926ad4c2ce9822", "env_id": RELEASE},
                         action="online")
    assert (response.status_code, response.json()["error_code"]) == (400, "APIG.2001")


def test_offline_of_unpublished_api_is_a_failure_entry(apig):
    result = apig.publish("offline", RELEASE, [CREATE_PET, LIST_PETS])
    assert [s["api_id"] for s in result["success"]] == [LIST_PETS]
    assert set(result["success"][0]) == {"api_id", "api_name", "env_id"}
    [failure] = result["failure"]
    assert (failure["api_id"], failure["api_name"]) == (CREATE_PET, "create_pet")


def test_name_filter_is_fuzzy_unless_precise(apig):
    fuzzy = apig.get("/apis", name="PET").json()
    assert {a["name"] for a in fuzzy["apis"]} == {"list_pets", "get_pet", "create_pet", "delete_pet", "pet_health"}
    assert apig.get("/apis", name="pet", precise_search="name").json()["total"] == 0
    exact = apig.get("/apis", name="get_pet", precise_search="name").json()
    assert [a["id"] for a in exact["apis"]] == [GET_PET]
    by_uri = apig.get("/apis", req_uri="/pets").json()
    assert by_uri["total"] == 5
    assert apig.get("/apis", req_uri="/pets", precise_search="name,req_uri").json()["total"] == 2


def test_other_list_filters(apig):
    assert apig.get("/apis", group_id=ORDERS).json()["total"] == 3
    assert apig.get("/apis", auth_type="IAM").json()["apis"][0]["id"] == CREATE_PET
    assert apig.get("/apis", req_method="DELETE").json()["total"] == 1
    assert apig.get("/apis", id=GET_PET).json()["total"] == 1
    assert apig.get("/apis", type=2).json()["total"] == 0
    assert apig.get("/apis", tags="#no_tags#").json()["total"] == 8
    assert apig.get("/apis", limit="x").status_code == 400
    groups = apig.get("/api-groups", name="ORD").json()
    assert [g["id"] for g in groups["groups"]] == [ORDERS]
    assert apig.get("/api-groups", name="ord", precise_search="name").json()["total"] == 0
    assert apig.get("/envs", name="pre").json()["envs"][0]["id"] == PRE_PROD


def test_paging_1200_apis_in_three_pages(apig, fresh):
    created = fresh.control.create_apis(testing.APIG_INSTANCE_ID,
                                        {"group": "orders", "count": 1200, "prefix": "bulk-api-"})
    assert created["created"] == 1200
    apig.publish("online", RELEASE, [], group_id=ORDERS)
    seen, offset = [], 0
    started = time.perf_counter()
    while True:
        page = apig.get("/apis", group_id=ORDERS, env_id=RELEASE, offset=offset, limit=500).json()
        seen += page["apis"]
        offset += page["size"]
        if offset >= page["total"] or not page["size"]:
            break
    elapsed = time.perf_counter() - started
    assert len(seen) == 1203 and len({a["id"] for a in seen}) == 1203
    assert elapsed < 1.0, f"3 pages took {elapsed:.2f}s"
    assert fresh.control.log()["counts"]["ListApisV2"] == 3


def test_limit_bounds(apig, fresh):
    fresh.control.create_apis(testing.APIG_INSTANCE_ID, {"group": "orders", "count": 600, "prefix": "x-"})
    assert apig.get("/apis", limit=0).json()["size"] == 20
    assert apig.get("/apis", limit=-5).json()["size"] == 20
    assert apig.get("/apis").json()["size"] == 20
    assert apig.get("/apis", limit=501).json()["size"] == 500
    assert apig.get("/apis", offset=-3, limit=2).json()["apis"] == apig.get("/apis", offset=0, limit=2).json()["apis"]
    assert apig.get("/apis", offset=10_000).json()["size"] == 0


def test_undeploy_sets_status_3_and_deletes_the_frontend_api(roma):
    assert roma.api(FRONTEND)["ld_api_id"] == DEPLOYED_LD
    response = roma.post(f"/livedata-apis/{DEPLOYED_LD}/undeploy")
    assert response.status_code == 204 and response.content == b""
    assert roma.get(f"/livedata-apis/{DEPLOYED_LD}").json()["status"] == 3
    assert roma.get(f"/apis/{FRONTEND}").status_code == 404


def test_undeploy_again_is_refused_emulator_choice(roma):
    """Emulator's own choice: undeploying a backend API that is not deployed is 400 APIG.3086."""
    assert roma.post(f"/livedata-apis/{DEPLOYED_LD}/undeploy").status_code == 204
    again = roma.post(f"/livedata-apis/{DEPLOYED_LD}/undeploy")
    assert (again.status_code, again.json()["error_code"]) == (400, "APIG.3086")


def test_v1_undeploy_needs_its_body(roma):
    path = f"/v1/{testing.TEST_PROJECT_ID}/apic/instances/{testing.ROMA_INSTANCE_ID}/livedata-apis/undeploy"
    missing = roma.request("POST", path, body={}, absolute=True)
    assert (missing.status_code, missing.json()["error_code"]) == (400, "APIG.2001")
    done = roma.request("POST", path, body={"ld_api_id": DEPLOYED_LD}, absolute=True)
    assert done.status_code == 204
    wrong_service = roma.request("POST", path.replace(testing.ROMA_INSTANCE_ID, testing.APIG_INSTANCE_ID),
                                 body={"ld_api_id": DEPLOYED_LD}, absolute=True)
    assert (wrong_service.status_code, wrong_service.json()["error_code"]) == (404, "APIG.3030")


def test_async_task_moves_waiting_processing_succeed(apig, fresh):
    fresh.control.settings(task_seconds=0.3)
    task_id = apig.post("/openapi/async-export", {"env_id": RELEASE, "group_id": PETSTORE}).json()["task_id"]
    statuses = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        task = apig.get(f"/async-tasks/{task_id}").json()
        if not statuses or statuses[-1] != task["task_status"]:
            statuses.append(task["task_status"])
        if task["task_status"] == "succeed":
            break
        time.sleep(0.01)
    assert statuses == ["waiting", "processing", "succeed"]
    result = json.loads(task["task_result"])
    assert json.loads(result["content"])["info"]["title"] == "petstore"


def test_async_task_can_fail(apig, fresh):
    fresh.control.settings(task_seconds=0, task_fail=True)
    task_id = apig.post("/openapi/async-export", {"env_id": RELEASE, "group_id": PETSTORE}).json()["task_id"]
    task = apig.get(f"/async-tasks/{task_id}").json()
    assert task["task_status"] == "failed"
    assert json.loads(task["task_result"])["error_code"] == "APIG.9999"


def test_export_scopes_select_apis(apig, fresh):
    def paths(**body):
        response = apig.post("/openapi/export", {"group_id": PETSTORE, "env_id": RELEASE, **body})
        assert response.status_code == 200, response.text
        return set(json.loads(response.content)["paths"])

    assert paths() == {"/pets", "/pets/{petId}"}
    assert paths(define="dev") == {"/pets", "/pets/{petId}", "/pets/health"}
    assert paths(apis=[LIST_PETS]) == {"/pets"}
    assert paths(env_id=PRE_PROD) == set()
    bad = apig.post("/openapi/export", {"group_id": PETSTORE, "env_id": RELEASE, "define": "everything"})
    assert (bad.status_code, bad.json()["error_code"]) == (400, "APIG.2011")
    assert apig.post("/openapi/export", {"group_id": PETSTORE, "env_id": "nope"}).status_code == 404


def test_export_of_a_published_api_shows_the_published_definition(apig, fresh):
    fresh.control.touch(LIST_PETS, req_uri="/animals")
    published = apig.post("/openapi/export", {"group_id": PETSTORE, "env_id": RELEASE, "apis": [LIST_PETS]})
    assert set(json.loads(published.content)["paths"]) == {"/pets"}
    dev = apig.post("/openapi/export", {"group_id": PETSTORE, "env_id": RELEASE, "apis": [LIST_PETS],
                                        "define": "dev"})
    assert set(json.loads(dev.content)["paths"]) == {"/animals"}


def test_control_api(fresh, apig):
    control = fresh.control
    assert control.call("GET", "health") == {"status": "ok"}
    apig.get("/envs")
    log = control.log()
    assert log["counts"] == {"ListEnvironmentsV2": 1} and log["classes"] == {"read": 1}
    entry = log["requests"][0]
    assert (entry["method"], entry["status"], entry["auth"], entry["fault"]) == ("GET", 200, "aksk", None)
    control.reset_log()
    assert control.log()["requests"] == []

    created = control.create_apis(testing.APIG_INSTANCE_ID, [
        {"group": "petstore", "name": "adopt_pet", "req_method": "POST", "req_uri": "/pets/{petId}/adopt"}])
    [api] = created["apis"]
    assert api["req_params"][0]["name"] == "petId"
    assert apig.api(api["id"])["name"] == "adopt_pet"

    assert "error" in json.dumps(_control_error(control, "POST", f"apis/{GET_PET}/touch", {"id": "x"}))
    moved = control.touch(GET_PET, req_uri="/pets/{petId}/owners/{ownerId}")
    assert [p["name"] for p in moved["req_params"] if p["location"] == "PATH"] == ["petId", "ownerId"]
    assert control.settings()["task_seconds"] == 0.2
    assert _control_error(control, "POST", "settings", {"no_such_setting": 1})
    assert _control_error(control, "POST", "faults", {"rules": [{"kind": "explode"}]})
    dump = control.dump()
    assert {i["id"] for i in dump["instances"]} == {testing.APIG_INSTANCE_ID, testing.ROMA_INSTANCE_ID}


def _control_error(control, method, path, body):
    try:
        control.call(method, path, body)
    except RuntimeError as error:
        return str(error)
    raise AssertionError("the control call should have failed")


def test_control_api_refuses_remote_clients(fresh):
    from werkzeug.test import Client

    client = Client(fresh.app)
    assert client.get("/_emulator/log", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    assert client.get("/_emulator/log", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


BAD_BODIES = [[], "x", 1, {"env_id": 1}, {"env_id": RELEASE, "apis": "x"}, {"env_id": RELEASE, "apis": [1]},
              {"env_id": [RELEASE], "group_id": {}}, {"action": 1, "env_id": RELEASE, "api_id": LIST_PETS},
              {"group_id": PETSTORE, "env_id": RELEASE, "define": 3, "type": [], "version": 2},
              {"ld_api_id": 5}, {"deploy_front_api": True, "auth_type": "APP", "group_id": 1, "env_id": RELEASE,
                                 "protocol": "HTTPS"},
              {"version_id": ["x"]}, {"format": 1, "status": "4", "apis": "x", "app_id": 2}]


def test_odd_bodies_never_cause_server_errors(apig, roma):
    v1 = f"/v1/{testing.TEST_PROJECT_ID}/apic/instances/{testing.ROMA_INSTANCE_ID}/livedata-apis/undeploy"
    calls = [(apig, "POST", "/apis/publish", {"action": "online"}), (apig, "POST", "/apis/action", {}),
             (apig, "PUT", f"/apis/publish/{LIST_PETS}", {}), (apig, "POST", "/openapi/export", {}),
             (apig, "POST", "/openapi/async-export", {"oas_version": "3.0"}),
             (roma, "POST", "/apis/publish", {"action": "offline"}),
             (roma, "POST", f"/livedata-apis/{DEPLOYED_LD}/deploy", {}),
             (roma, "POST", "/openapi/livedata-apis/export", {})]
    for cloud, method, path, query in calls:
        for body in BAD_BODIES:
            response = cloud.request(method, path, query, body)
            assert response.status_code < 500, (method, path, body, response.text)
            if response.status_code >= 400:
                assert response.json()["error_code"].startswith("APIG.")
    for body in BAD_BODIES:
        assert 400 <= roma.request("POST", v1, body=body, absolute=True).status_code < 500
    assert roma.request("POST", v1, body=None, absolute=True).status_code == 400
    empty = apig.request("POST", "/apis/publish", {"action": "online"}, headers={"Content-Type": "application/json"})
    assert (empty.status_code, empty.json()["error_code"]) == (400, "APIG.2001")
    url = f"{apig.url}{apig.base}/apis/publish?action=online"
    headers = testing.sign_headers("POST", url, testing.TEST_AK, testing.TEST_SK, b"{not json")
    malformed = requests.post(url, data=b"{not json", headers=headers, timeout=10)
    assert (malformed.status_code, malformed.json()["error_code"]) == (400, "APIG.2011")


def test_race_deletes_apis_before_the_next_write(apig, roma, fresh):
    fresh.control.delete_before_next_write("get_pet", LIST_PETS)
    apig.get("/envs")  # reads do not trigger it
    result = apig.publish("online", TEST_ENV, [LIST_PETS, GET_PET, CREATE_PET])
    assert [s["api_id"] for s in result["success"]] == [CREATE_PET]
    assert {f["error_code"] for f in result["failure"]} == {"APIG.3002"}
    assert apig.get(f"/apis/{GET_PET}").status_code == 404
    again = apig.publish("online", TEST_ENV, [CREATE_PET])  # the race happened once
    assert again["failure"] == []
    assert _control_error(fresh.control, "POST", "races", {"delete_before_next_write": "get_pet"})
