"""apig_api_info against a fake HTTP layer: one listing for the plain case, ties asked of the gateway,
histories only when asked for."""

import json

import pytest
import responses
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hwc.apig.plugins.module_utils import client as apig_client
from ansible_collections.hwc.apig.plugins.modules import apig_api_info

ENDPOINT = "https://apig.example.test"
BASE = ENDPOINT + "/v2/p1/apigw/instances/i1"
RELEASE = {"id": "env-rel", "name": "RELEASE"}
TEST = {"id": "env-test", "name": "TEST"}
GROUP = {"id": "0" * 32, "name": "orders"}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(apig_client.time, "sleep", lambda seconds: None)


def api(name, update_time="2026-11-20T10:00:00Z", **joined):
    item = {"id": "id-" + name, "name": name, "group_id": GROUP["id"], "group_name": "orders",
            "update_time": update_time, "register_time": "2026-11-01T00:00:00Z"}
    item.update(joined)
    return item


def page(key, items):
    return {"total": len(items), "size": len(items), key: items}


# never published; published in RELEASE and TEST and untouched; edited since its RELEASE publication
APIS = [
    api("draft"),
    api("stable", run_env_id="env-rel|env-test", run_env_name="RELEASE|TEST", publish_id="p1|p2",
        publish_time="2026-11-21T10:00:00Z|2026-11-20T11:00:00Z"),
    api("edited", update_time="2026-11-22T10:00:00Z", run_env_id="env-rel", run_env_name="RELEASE",
        publish_id="p3", publish_time="2026-11-21T10:00:00Z"),
]


def run_module(args, capsys):
    params = {"endpoint": ENDPOINT, "project_id": "p1", "instance_id": "i1", "access_key": "AK", "secret_key": "SK"}
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            apig_api_info.main()
    return json.loads(capsys.readouterr().out)


def test_plain_case_is_one_listing(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, BASE + "/api-groups", json=page("groups", [GROUP]))
        rsps.add(responses.GET, BASE + "/apis", json=page("apis", APIS))
        result = run_module({"api_group": "orders", "_ansible_check_mode": True}, capsys)
        assert len(rsps.calls) == 2
        assert "group_id=" + GROUP["id"] in rsps.calls[1].request.url
    assert result["changed"] is False and "env" not in result
    draft, stable, edited = result["apis"]
    assert draft["publications"] == [] and "versions" not in draft
    assert [(p["env_name"], p["publish_id"], p["edited_since"]) for p in stable["publications"]] == [
        ("RELEASE", "p1", False), ("TEST", "p2", False)]
    assert edited["publications"] == [{"env_id": "env-rel", "env_name": "RELEASE", "publish_id": "p3",
                                       "publish_time": "2026-11-21T10:00:00Z", "edited_since": True}]
    assert (stable["group_name"], stable["update_time"]) == ("orders", "2026-11-20T10:00:00Z")


def test_env_keeps_every_api_and_only_that_publication(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, BASE + "/envs", json=page("envs", [RELEASE, TEST]))
        rsps.add(responses.GET, BASE + "/apis", json=page("apis", APIS))
        result = run_module({"env": "TEST", "apis": ["stable", "id-draft"]}, capsys)
        # Without a group the whole instance is listed, with no env filter (unpublished APIs stay).
        assert "env_id" not in rsps.calls[1].request.url and "group_id" not in rsps.calls[1].request.url
    assert result["env"] == TEST
    assert [item["name"] for item in result["apis"]] == ["stable", "draft"]
    assert [p["env_name"] for p in result["apis"][0]["publications"]] == ["TEST"]
    assert result["apis"][1]["publications"] == []


def test_history_one_call_per_api_newest_first(capsys):
    versions = [{"version_id": "v1", "version_no": "1", "publish_time": "2026-11-19T10:00:00Z", "remark": "a",
                 "status": "2", "env_id": "env-rel"},
                {"version_id": "v3", "version_no": "3", "publish_time": "2026-11-21T18:00:00+08:00", "remark": "c",
                 "status": 1, "env_id": "env-rel"},
                {"version_id": "v2", "version_no": "2", "publish_time": "2026-11-20T10:00:00.5Z", "remark": "b",
                 "status": 2, "env_id": "env-rel"}]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, BASE + "/envs", json=page("envs", [RELEASE, TEST]))
        rsps.add(responses.GET, BASE + "/api-groups", json=page("groups", [GROUP]))
        rsps.add(responses.GET, BASE + "/apis", json=page("apis", APIS))
        for item in APIS:
            rsps.add(responses.GET, BASE + "/apis/publish/" + item["id"],
                     json=page("api_versions", versions if item["name"] == "stable" else []))
        result = run_module({"env": "RELEASE", "api_group": "orders", "history": True}, capsys)
        asked = [call.request.url for call in rsps.calls if "/apis/publish/" in call.request.url]
    assert len(asked) == 3 and all("env_id=env-rel" in url for url in asked)
    stable = result["apis"][1]
    assert [v["version_id"] for v in stable["versions"]] == ["v3", "v2", "v1"]
    assert stable["versions"][0] == {"version_id": "v3", "version_no": "3", "publish_time": "2026-11-21T18:00:00+08:00",
                                     "remark": "c", "status": 1}
    assert stable["versions"][2]["status"] == 2
    assert result["apis"][0]["versions"] == []


def test_same_second_tie_is_asked_of_the_gateway(capsys):
    tied = api("tied", update_time="2026-11-22T10:00:00Z", run_env_id="env-rel", run_env_name="RELEASE",
               publish_id="p9", publish_time="2026-11-22T10:00:00Z")
    live = page("api_versions", [{"version_id": "v9", "status": 1, "env_id": "env-rel",
                                  "publish_time": "2026-11-22T10:00:00Z"}])
    version = {"id": "id-tied", "version_id": "v9", "update_time": "2026-11-22T10:00:00Z", "remark": "x"}
    current = {"id": "id-tied", "update_time": "2026-11-22T10:00:00Z", "remark": "edited"}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, BASE + "/apis", json=page("apis", [tied]))
        rsps.add(responses.GET, BASE + "/apis/publish/id-tied", json=live)
        rsps.add(responses.GET, BASE + "/apis/versions/v9", json=version)
        rsps.add(responses.GET, BASE + "/apis/id-tied", json=current)
        result = run_module({}, capsys)
    assert result["apis"][0]["publications"][0]["edited_since"] is True


@pytest.mark.parametrize("args, words", [
    ({"history": True}, ["history: true needs env"]),
    ({"apis": []}, ["apis must list"]),
    ({"api_group": " "}, ["api_group must be a name or ID"]),
])
def test_bad_input_fails_before_any_request(capsys, args, words):
    with responses.RequestsMock() as rsps:
        result = run_module(args, capsys)
        assert len(rsps.calls) == 0
    assert result["failed"] and all(word in result["msg"] for word in words)


def test_unknown_api_names_the_candidates(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, BASE + "/apis", json=page("apis", APIS))
        result = run_module({"apis": ["stabel"]}, capsys)
    assert result["failed"] and "'stabel' not found" in result["msg"] and "stable" in result["msg"]
