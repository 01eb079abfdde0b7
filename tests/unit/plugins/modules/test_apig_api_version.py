"""apig_api_version: choosing the target version (as_of, version IDs, publications) and acting on it,
against a fake HTTP layer."""

import json

import pytest
import requests
import responses
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hwc.apig.plugins.module_utils import publication as pub
from ansible_collections.hwc.apig.plugins.modules import apig_api_version as mod

ENDPOINT = "https://apig.example.test"
BASE = ENDPOINT + "/v2/p1/apigw/instances/i1"
ENV = {"id": "env-rel", "name": "RELEASE"}
GROUP = {"id": "0" * 32, "name": "orders"}


def version(version_id, publish_time, status=2):
    return {"version_id": version_id, "version_no": version_id.upper(), "api_id": "a", "env_id": ENV["id"],
            "env_name": ENV["name"], "remark": "", "publish_time": publish_time, "status": status}


def at(text):
    return pub.parse_time(text)


# -- as_of ---------------------------------------------------------------------------------------

HISTORY = [version("v3", "2026-11-30T08:10:00.500000Z", 1), version("v2", "2026-11-29T09:00:00.000000Z"),
           version("v1", "2026-11-20T09:00:00.000000Z")]


@pytest.mark.parametrize("as_of, expected", [
    ("2026-11-30T08:00:00Z", "v2"),                       # between two releases
    ("2026-11-29T09:00:00.000000Z", "v2"),                # exactly at a publication: at or before counts
    ("2026-11-29T08:59:59.999999Z", "v1"),
    ("2026-11-30T08:10:00Z", "v2"),                       # the whole second before .5 is still before it
    ("2026-12-01T00:00:00Z", "v3"),
    ("2026-11-29 17:30:00+08:00", "v2"),                  # offset, space instead of T
    ("2026-11-29T17:30:00.123+0800", "v2"),               # compact offset, milliseconds
    ("2026-11-29T09:30:00", "v2"),                        # no zone: UTC
    ("1795946400000", "v2"),                              # epoch milliseconds: 2026-11-29T10:00:00Z
    ("2026-11-29T09:00:00.000000001Z", "v2"),             # nine digits
])
def test_as_of_picks_the_newest_version_published_at_or_before(as_of, expected):
    assert mod.version_as_of(HISTORY, at(as_of))["version_id"] == expected


def test_as_of_before_any_version_is_absent_when_nothing_was_pruned():
    assert mod.version_as_of(HISTORY, at("2026-11-01T00:00:00Z")) is mod.ABSENT
    assert mod.version_as_of([], at("2026-11-01T00:00:00Z")) is mod.ABSENT


def test_as_of_before_the_oldest_of_ten_kept_versions_cannot_be_decided():
    kept = [version("v%d" % n, "2026-11-%02dT09:00:00Z" % (10 + n)) for n in range(10)]
    with pytest.raises(mod.Undecidable) as caught:
        mod.version_as_of(kept, at("2026-11-01T00:00:00Z"))
    assert "older than the 10 versions the gateway keeps" in str(caught.value)
    assert "2026-11-10T09:00:00Z" in str(caught.value) and "version_ids" in str(caught.value)


def test_whole_second_times_tie_with_a_finer_as_of_and_count_as_before():
    # The gateway shows whole seconds; as_of has a fraction in that same second.
    history = [version("v2", "2026-11-30T08:10:00Z", 1), version("v1", "2026-11-29T09:00:00Z")]
    assert mod.version_as_of(history, at("2026-11-30T08:10:00.250Z"))["version_id"] == "v2"
    assert mod.version_as_of(history, at("2026-11-30T08:09:59.999Z"))["version_id"] == "v1"


def test_two_versions_in_the_same_shown_second_are_not_guessed():
    history = [version("v3", "2026-11-30T08:10:00Z", 1), version("v2", "2026-11-30T08:10:00Z"),
               version("v1", "2026-11-29T09:00:00Z")]
    with pytest.raises(mod.Undecidable) as caught:
        mod.version_as_of(history, at("2026-11-30T09:00:00Z"))
    assert "v3" in str(caught.value) and "v2" in str(caught.value)


def test_a_tie_below_the_newest_candidate_does_not_matter():
    history = [version("v3", "2026-11-30T08:10:00Z", 1), version("v2", "2026-11-29T09:00:00Z"),
               version("v1", "2026-11-29T09:00:00Z")]
    assert mod.version_as_of(history, at("2026-12-01T00:00:00Z"))["version_id"] == "v3"


def test_a_publish_time_that_does_not_parse_fails_that_api():
    with pytest.raises(mod.Undecidable) as caught:
        mod.version_as_of([version("v1", "last tuesday")], at("2026-11-30T00:00:00Z"))
    assert "last tuesday" in str(caught.value)


def test_history_order_does_not_matter():
    assert mod.version_as_of(list(reversed(HISTORY)), at("2026-11-30T08:00:00Z"))["version_id"] == "v2"


# -- version IDs and publications --------------------------------------------------------------------

def test_a_version_the_gateway_no_longer_keeps_is_named():
    with pytest.raises(mod.Undecidable) as caught:
        mod.version_by_id(HISTORY, "v0", "RELEASE")
    text = str(caught.value)
    assert "version v0 is not kept by the gateway for this API in RELEASE" in text and "10 newest" in text
    assert "v3 (2026-11-30T08:10:00.500000Z)" in text
    assert mod.version_by_id(HISTORY, "v1", "RELEASE")["version_id"] == "v1"


@pytest.mark.parametrize("publish_time", ["2026-11-29T09:00:00.000000Z", "2026-11-29T09:00:00Z",
                                          "2026-11-29T17:00:00+08:00", "2026-11-29 09:00:00"])
def test_a_publication_finds_its_version_whatever_the_time_format(publish_time):
    found = mod.version_for_publication(HISTORY, {"publish_id": "p2", "publish_time": publish_time}, "RELEASE")
    assert found["version_id"] == "v2"


def test_versions_sharing_the_shown_time_are_told_apart_by_their_detail():
    history = [version("v3", "2026-11-30T08:10:00Z", 1), version("v2", "2026-11-30T08:10:00Z")]
    details = {"v3": {"publish_id": "p3"}, "v2": {"publish_id": "p2"}}
    asked = []

    def detail(version_id):
        asked.append(version_id)
        return details[version_id]

    target = {"publish_id": "p2", "publish_time": "2026-11-30T08:10:00Z"}
    assert mod.version_for_publication(history, target, "RELEASE", detail)["version_id"] == "v2"
    assert sorted(asked) == ["v2", "v3"]
    # A single match needs no detail call.
    asked[:] = []
    assert mod.version_for_publication(HISTORY, {"publish_time": "2026-11-20T09:00:00Z"}, "RELEASE", detail)
    assert asked == []
    # Details that do not tell them apart: not guessed.
    details["v3"]["publish_id"] = "p2"
    with pytest.raises(mod.Undecidable):
        mod.version_for_publication(history, target, "RELEASE", detail)


def test_a_pruned_publication_is_named():
    with pytest.raises(mod.Undecidable) as caught:
        mod.version_for_publication(HISTORY, {"publish_id": "p0", "publish_time": "2026-10-01T00:00:00Z"}, "RELEASE")
    assert "not kept by the gateway" in str(caught.value) and "p0" in str(caught.value)


# -- what the listing alone decides ------------------------------------------------------------------

def listed(publish_id=None, publish_time=None, register_time="2026-11-01T00:00:00Z"):
    item = {"id": "a", "name": "list-orders", "register_time": register_time}
    if publish_id:
        item.update(run_env_id="env-test|" + ENV["id"], run_env_name="TEST|RELEASE",
                    publish_id="p-test|" + publish_id, publish_time="2026-11-01T00:00:00Z|" + publish_time)
    return item


def test_listing_decisions():
    live = listed("p2", "2026-11-29T09:00:00.000000Z")
    same = {"publish_id": "p2", "publish_time": "2026-11-29T09:00:00.000000Z"}
    assert mod.listing_decision(live, ENV["id"], "publications", same) == mod.UNCHANGED
    # The same publication in another time format, to the microsecond.
    assert mod.listing_decision(live, ENV["id"], "publications",
                                dict(same, publish_time="2026-11-29T17:00:00.000000+08:00")) == mod.UNCHANGED
    # Whole seconds cannot prove it: read the history.
    whole = listed("p2", "2026-11-29T09:00:00Z")
    assert mod.listing_decision(whole, ENV["id"], "publications", dict(same, publish_time="2026-11-29T09:00:00Z")) \
        == mod.NEEDS_HISTORY
    assert mod.listing_decision(live, ENV["id"], "publications", dict(same, publish_id="p1")) == mod.NEEDS_HISTORY
    assert mod.listing_decision(live, ENV["id"], "publications", None) is mod.ABSENT
    assert mod.listing_decision(listed(), ENV["id"], "publications", same) == mod.NEEDS_HISTORY
    assert mod.listing_decision(live, ENV["id"], "version_ids", "v2") == mod.NEEDS_HISTORY
    # Created after as_of: it cannot have been published then.
    assert mod.listing_decision(listed(register_time="2026-11-30T08:05:00Z"), ENV["id"], "as_of", None,
                                at("2026-11-30T08:00:00Z")) is mod.ABSENT
    assert mod.listing_decision(listed(register_time="2026-11-30T07:05:00Z"), ENV["id"], "as_of", None,
                                at("2026-11-30T08:00:00Z")) == mod.NEEDS_HISTORY


@pytest.mark.parametrize("current, target, absent, expected", [
    (None, None, "offline", "unchanged"),
    ({"version_id": "v1"}, None, "offline", "taken_offline"),
    ({"version_id": "v1"}, None, "keep", "unchanged"),
    ({"version_id": "v1"}, {"version_id": "v1"}, "offline", "unchanged"),
    ({"version_id": "v3"}, {"version_id": "v1"}, "offline", "switched"),
    (None, {"version_id": "v1"}, "keep", "switched"),
])
def test_outcome(current, target, absent, expected):
    assert mod.outcome(current, target, absent) == expected


# -- the module against a fake HTTP layer ------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_waiting(fake_clock):
    return fake_clock


def api(name, publish_id=None, publish_time=None, register_time="2026-11-01T00:00:00Z"):
    item = {"id": "id-" + name, "name": name, "group_id": GROUP["id"], "group_name": "orders",
            "register_time": register_time, "update_time": register_time}
    if publish_id:
        item.update(run_env_id=ENV["id"], run_env_name=ENV["name"], publish_id=publish_id, publish_time=publish_time)
    return item


def page(key, items):
    return {"total": len(items), "size": len(items), key: items}


def history_of(*versions):
    return page("api_versions", list(versions))


def add_reads(rsps, apis, histories=None, group=False):
    rsps.add(responses.GET, BASE + "/envs", json=page("envs", [ENV, {"id": "env-test", "name": "TEST"}]))
    if group:
        rsps.add(responses.GET, BASE + "/api-groups", json=page("groups", [GROUP]))
    rsps.add(responses.GET, BASE + "/apis", json=page("apis", apis))
    for api_id, answer in (histories or {}).items():
        rsps.add(responses.GET, BASE + "/apis/publish/" + api_id, json=answer)


def run_module(args, capsys):
    params = {"endpoint": ENDPOINT, "project_id": "p1", "instance_id": "i1", "access_key": "AK",
              "secret_key": "SK", "env": "RELEASE"}
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            mod.main()
    return json.loads(capsys.readouterr().out)


def writes(rsps):
    return [call for call in rsps.calls if call.request.method in ("PUT", "POST")]


def history_reads(rsps):
    return [call for call in rsps.calls if "/apis/publish/" in call.request.url and call.request.method == "GET"]


# list-orders: v1 (old), v2 live since the release -> back to v1
# get-order: published by the release only (v9) -> taken offline
# pay: unchanged by the release (v5, before as_of)
# refund: created after as_of, never published -> unchanged, no history read
APIS = [api("list-orders", "p2", "2026-11-30T08:10:00.2Z"), api("get-order", "p9", "2026-11-30T08:10:00.3Z"),
        api("pay", "p5", "2026-11-20T00:00:00Z"), api("refund", register_time="2026-11-30T08:05:00Z")]
HISTORIES = {
    "id-list-orders": history_of(version("v2", "2026-11-30T08:10:00.2Z", 1), version("v1", "2026-11-28T00:00:00Z")),
    "id-get-order": history_of(version("v9", "2026-11-30T08:10:00.3Z", 1)),
    "id-pay": history_of(version("v5", "2026-11-20T00:00:00Z", 1)),
}
AS_OF = {"api_group": "orders", "as_of": "2026-11-30T08:00:00Z"}


def test_as_of_switches_back_and_takes_offline_what_was_new(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS, HISTORIES, group=True)
        rsps.add(responses.PUT, BASE + "/apis/publish/id-list-orders",
                 json={"version_id": "v1", "publish_id": "p1", "publish_time": "2026-11-28T00:00:00Z",
                       "api_id": "id-list-orders", "env_id": ENV["id"]})
        rsps.add(responses.POST, BASE + "/apis/publish",
                 json={"success": [{"api_id": "id-get-order", "env_id": ENV["id"]}], "failure": []})
        result = run_module(dict(AS_OF, _ansible_diff=True), capsys)
        sent = [(call.request.method, call.request.url.replace(BASE, ""), json.loads(call.request.body))
                for call in writes(rsps)]
        read_histories = sorted(call.request.url.split("?")[0].rsplit("/", 1)[1] for call in history_reads(rsps))
    assert sorted(sent, key=str) == sorted([
        ("PUT", "/apis/publish/id-list-orders", {"version_id": "v1"}),
        ("POST", "/apis/publish?action=offline", {"apis": ["id-get-order"], "env_id": ENV["id"]})], key=str)
    assert read_histories == ["id-get-order", "id-list-orders", "id-pay"]  # not refund: created after as_of
    by_name = {item["name"]: item for item in result["apis"]}
    assert [item["name"] for item in result["apis"]] == ["list-orders", "get-order", "pay", "refund"]
    assert {name: item["result"] for name, item in by_name.items()} == {
        "list-orders": "switched", "get-order": "taken_offline", "pay": "unchanged", "refund": "unchanged"}
    assert (by_name["list-orders"]["version_before"], by_name["list-orders"]["version_after"]) == ("v2", "v1")
    assert by_name["list-orders"]["publish_time_after"] == "2026-11-28T00:00:00Z"
    assert (by_name["get-order"]["version_before"], by_name["get-order"]["version_after"]) == ("v9", None)
    assert by_name["pay"]["version_before"] == by_name["pay"]["version_after"] == "v5"
    assert by_name["refund"]["version_before"] is None and by_name["refund"]["publish_time_before"] is None
    assert result["changed"] and result["summary"] == {"switched": 1, "taken_offline": 1, "unchanged": 2, "failed": 0}
    assert result["env"] == ENV
    assert result["diff"]["before"]["list-orders"] == {"published": True, "version_id": "v2",
                                                       "publish_time": "2026-11-30T08:10:00.2Z"}
    assert result["diff"]["after"]["get-order"] == {"published": False}
    assert "pay" not in result["diff"]["before"]


def test_check_mode_predicts_and_writes_nothing(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS, HISTORIES, group=True)
        result = run_module(dict(AS_OF, _ansible_check_mode=True), capsys)
        assert writes(rsps) == []
    assert result["changed"] and [item["result"] for item in result["apis"]] == [
        "switched", "taken_offline", "unchanged", "unchanged"]
    assert result["apis"][0]["version_after"] == "v1"


def test_already_on_target_changes_nothing(capsys):
    apis = [api("list-orders", "p1", "2026-11-28T00:00:00Z"), api("get-order"), APIS[2], APIS[3]]
    histories = dict(HISTORIES, **{
        "id-list-orders": history_of(version("v2", "2026-11-30T08:10:00.2Z"), version("v1", "2026-11-28T00:00:00Z", 1)),
        "id-get-order": history_of(version("v9", "2026-11-30T08:10:00.3Z"))})
    with responses.RequestsMock() as rsps:
        add_reads(rsps, apis, histories, group=True)
        result = run_module(AS_OF, capsys)
        assert writes(rsps) == []
    assert not result["changed"] and result["summary"]["unchanged"] == 4


def test_absent_keep_leaves_new_apis_published(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS, HISTORIES, group=True)
        rsps.add(responses.PUT, BASE + "/apis/publish/id-list-orders", json={"version_id": "v1"})
        result = run_module(dict(AS_OF, absent="keep"), capsys)
        assert [call.request.method for call in writes(rsps)] == ["PUT"]
    assert result["apis"][1]["result"] == "unchanged" and result["apis"][1]["version_after"] == "v9"


def test_a_pruned_version_fails_cleanly_and_others_go_ahead(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS[:3], {key: HISTORIES[key] for key in ("id-list-orders", "id-pay")}, group=True)
        rsps.add(responses.PUT, BASE + "/apis/publish/id-list-orders", json={"version_id": "v1"})
        result = run_module({"api_group": "orders", "version_ids": {"list-orders": "v1", "id-pay": "v0"}}, capsys)
        assert [call.request.url for call in writes(rsps)] == [BASE + "/apis/publish/id-list-orders"]
    assert result["failed"]
    failed = result["apis"][1]
    assert (failed["name"], failed["result"]) == ("pay", "failed")
    assert "version v0 is not kept by the gateway for this API in RELEASE" in failed["error_msg"]
    assert "pay (id-pay)" in result["msg"] and "not kept" in result["msg"]
    assert result["apis"][0]["result"] == "switched"


def test_allow_partial_succeeds_with_the_failure_reported(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS[:3], {"id-pay": HISTORIES["id-pay"]})
        result = run_module({"version_ids": {"pay": "v0"}, "allow_partial": True}, capsys)
    assert not result.get("failed") and result["summary"]["failed"] == 1 and not result["changed"]


def test_unknown_api_fails_before_any_history_or_write(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS)
        result = run_module({"version_ids": {"list-orders": "v1", "nope": "v1", "id-nope": "v2"}}, capsys)
        assert writes(rsps) == [] and history_reads(rsps) == []
    assert result["failed"] and "'nope' not found" in result["msg"] and "'id-nope' not found" in result["msg"]


def test_publications_decide_from_the_listing_when_they_can(capsys):
    targets = {
        "id-list-orders": {"publish_id": "p1", "publish_time": "2026-11-28T00:00:00Z"},   # needs the history
        "id-get-order": None,                                                              # offline, no history
        "id-pay": {"publish_id": "p5", "publish_time": "2026-11-20T00:00:00.000000Z"},     # live already
        "id-refund": None,                                                                 # not published: nothing
    }
    apis = [APIS[0], APIS[1], api("pay", "p5", "2026-11-20T00:00:00.000000Z"), APIS[3]]
    with responses.RequestsMock() as rsps:
        add_reads(rsps, apis, {"id-list-orders": HISTORIES["id-list-orders"]})
        rsps.add(responses.PUT, BASE + "/apis/publish/id-list-orders", json={"version_id": "v1"})
        rsps.add(responses.POST, BASE + "/apis/publish", json={"success": [{"api_id": "id-get-order"}], "failure": []})
        result = run_module({"publications": targets}, capsys)
        assert len(history_reads(rsps)) == 1
    assert [item["result"] for item in result["apis"]] == ["switched", "taken_offline", "unchanged", "unchanged"]
    assert result["apis"][0]["version_after"] == "v1"
    # Decided from the listing: the time is known, the version ID was not read.
    assert result["apis"][2]["publish_time_before"] == "2026-11-20T00:00:00.000000Z"
    assert result["apis"][2]["version_before"] is None


def test_switch_whose_answer_is_lost_is_settled_by_rereading_not_resent(capsys):
    switched = history_of(version("v2", "2026-11-30T08:10:00.2Z"), version("v1", "2026-11-28T00:00:00Z", 1))
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS[:1], {"id-list-orders": HISTORIES["id-list-orders"]})
        rsps.add(responses.PUT, BASE + "/apis/publish/id-list-orders", body=requests.exceptions.ReadTimeout("lost"))
        rsps.add(responses.GET, BASE + "/apis/publish/id-list-orders", json=HISTORIES["id-list-orders"])
        rsps.add(responses.GET, BASE + "/apis/publish/id-list-orders", json=switched)
        result = run_module({"version_ids": {"list-orders": "v1"}}, capsys)
        assert len(writes(rsps)) == 1
    assert result["apis"][0]["result"] == "switched" and result["apis"][0]["version_after"] == "v1"
    assert "timed out" in result["call_errors"][0]["msg"]


def test_refused_switch_is_decided_by_the_state_found(capsys):
    pruned_meanwhile = history_of(version("v3", "2026-11-30T09:00:00Z", 1), version("v2", "2026-11-30T08:10:00.2Z"))
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS[:1], {"id-list-orders": HISTORIES["id-list-orders"]})
        rsps.add(responses.PUT, BASE + "/apis/publish/id-list-orders", status=404,
                 json={"error_code": "APIG.3022", "error_msg": "The version does not exist"})
        rsps.add(responses.GET, BASE + "/apis/publish/id-list-orders", json=pruned_meanwhile)
        result = run_module({"version_ids": {"list-orders": "v1"}, "allow_partial": True}, capsys)
    item = result["apis"][0]
    assert item["result"] == "failed" and item["error_code"] == "APIG.3022"
    assert "no longer keeps version v1" in item["error_msg"]


def test_refused_offline_entry_of_an_api_already_offline_is_unchanged(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, APIS[1:2])
        rsps.add(responses.POST, BASE + "/apis/publish", json={"success": [], "failure": [
            {"api_id": "id-get-order", "error_code": "APIG.3005", "error_msg": "not published"}]})
        rsps.add(responses.GET, BASE + "/apis", json=page("apis", [api("get-order")]))
        result = run_module({"publications": {"get-order": None}}, capsys)
    assert result["apis"][0]["result"] == "unchanged" and not result["changed"]


def test_roma_uses_the_apic_paths(capsys):
    roma = ENDPOINT + "/v2/p1/apic/instances/i1"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, roma + "/envs", json=page("envs", [ENV]))
        rsps.add(responses.GET, roma + "/apis", json=page("apis", APIS[:1]))
        rsps.add(responses.GET, roma + "/apis/publish/id-list-orders", json=HISTORIES["id-list-orders"])
        rsps.add(responses.PUT, roma + "/apis/publish/id-list-orders", json={"version_id": "v1"})
        result = run_module({"service": "roma", "version_ids": {"list-orders": "v1"}}, capsys)
    assert result["apis"][0]["result"] == "switched"


@pytest.mark.parametrize("args, words", [
    ({"as_of": "yesterday", "api_group": "orders"}, ["as_of", "yesterday"]),
    ({"as_of": "2026-11-30T08:00:00Z"}, ["as_of needs apis or api_group"]),
    ({"version_ids": {}}, ["version_ids must map at least one API"]),
    ({"version_ids": {"list-orders": ""}}, ["list-orders", "non-empty string"]),
    ({"publications": {"list-orders": {"publish_id": "p"}}}, ["list-orders", "publish_time"]),
    ({"publications": {"list-orders": {"publish_time": "soon"}}}, ["soon", "does not parse"]),
    ({"publications": {"list-orders": {"publish_time": "2026-11-30T08:00:00Z", "env": "x"}}}, ["unknown keys env"]),
    ({"as_of": "2026-11-30T08:00:00Z", "version_ids": {"a": "b"}}, ["mutually exclusive"]),
    ({}, ["one of the following is required"]),
    ({"apis": [], "as_of": "2026-11-30T08:00:00Z"}, ["apis must list"]),
    ({"env": " ", "as_of": "2026-11-30T08:00:00Z", "api_group": "orders"}, ["env must name"]),
])
def test_bad_input_fails_before_any_request(capsys, args, words):
    with responses.RequestsMock() as rsps:
        result = run_module(args, capsys)
        assert len(rsps.calls) == 0
    assert result["failed"]
    for word in words:
        assert word in result["msg"]
