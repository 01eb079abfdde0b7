"""apig_api_publish against a fake HTTP layer: batching, check mode and ambiguous writes."""

import json

import pytest
import requests
import responses
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hwc.apig.plugins.modules import apig_api_publish

ENDPOINT = "https://apig.example.test"
BASE = ENDPOINT + "/v2/p1/apigw/instances/i1"
ENV = {"id": "env-test", "name": "TEST"}
GROUP = {"id": "0" * 32, "name": "orders"}


def api(number, published_at=None, publish_id=None, update_time="2026-11-20T10:00:00Z"):
    item = {"id": "api-%d" % number, "name": "api-%d" % number, "group_id": GROUP["id"], "group_name": "orders",
            "update_time": update_time}
    if published_at:
        item.update(run_env_id=ENV["id"], run_env_name=ENV["name"], publish_id=publish_id or "pub-%d" % number,
                    publish_time=published_at)
    return item


def listing(apis):
    return {"total": len(apis), "size": len(apis), "apis": apis}


@pytest.fixture(autouse=True)
def clock(fake_clock):
    return fake_clock


def run_module(args, capsys):
    params = {"endpoint": ENDPOINT, "project_id": "p1", "instance_id": "i1", "access_key": "AK",
              "secret_key": "SK", "env": "TEST", "api_group": "orders"}
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            apig_api_publish.main()
    return json.loads(capsys.readouterr().out)


def add_reads(rsps, *listings):
    rsps.add(responses.GET, BASE + "/envs", json={"total": 1, "size": 1, "envs": [ENV]})
    rsps.add(responses.GET, BASE + "/api-groups", json={"total": 1, "size": 1, "groups": [GROUP]})
    for page in listings:
        rsps.add(responses.GET, BASE + "/apis", json=page)


def batch_calls(rsps):
    return [call for call in rsps.calls if call.request.method == "POST"]


def test_batches_in_chunks_of_batch_size(capsys):
    apis = [api(n) for n in range(5)]
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing(apis))
        answer = {"success": [{"api_id": "x"}], "failure": []}
        rsps.add(responses.POST, BASE + "/apis/publish", json=answer)
        result = run_module({"batch_size": 2}, capsys)
        bodies = [json.loads(call.request.body) for call in batch_calls(rsps)]
    # Chunks go out side by side, so their order on the wire may vary.
    assert sorted(body["apis"] for body in bodies) == [["api-0", "api-1"], ["api-2", "api-3"], ["api-4"]]
    assert all(body["env_id"] == "env-test" and "group_id" not in body for body in bodies)
    assert all("action=online" in call.request.url for call in batch_calls(rsps))
    # The fake answered for "x" only, so every API is reported as failed with the reason.
    assert result["failed"] and result["summary"]["failed"] == 5


def test_check_mode_reads_only(capsys):
    apis = [api(0), api(1, published_at="2026-11-21T00:00:00Z"), api(2, published_at="2026-11-19T00:00:00Z")]
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing(apis))
        result = run_module({"_ansible_check_mode": True}, capsys)
        assert batch_calls(rsps) == []
    assert result["changed"]
    assert [item["result"] for item in result["apis"]] == ["published", "unchanged", "republished"]
    assert result["apis"][1]["publish_id"] == "pub-1"


def reads_of(rsps, suffix="/apis"):
    return [call for call in rsps.calls if call.request.method == "GET" and
            call.request.url.split("?")[0] == BASE + suffix]


def test_ambiguous_write_settles_then_resends_only_the_rest(capsys, clock):
    before = [api(0), api(1)]
    # The lost batch call did publish api-0 but not api-1.
    after = [api(0, published_at="2026-11-22T00:00:00Z", publish_id="pub-new"), api(1)]
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing(before))
        rsps.add(responses.POST, BASE + "/apis/publish", body=requests.exceptions.ReadTimeout("lost"))
        rsps.add(responses.GET, BASE + "/apis", json=listing(after))
        rsps.add(responses.POST, BASE + "/apis/publish", json={"success": [
            {"api_id": "api-1", "publish_id": "pub-1b", "version_id": "v-1b", "publish_time": "2026-11-22T00:00:01Z"}],
            "failure": []})
        result = run_module({"settle_timeout": 15}, capsys)
        bodies = [json.loads(call.request.body) for call in batch_calls(rsps)]
        rereads = len(reads_of(rsps)) - 1
    assert [body["apis"] for body in bodies] == [["api-0", "api-1"], ["api-1"]]
    # api-1 was resent only after the whole settle window, re-read with growing delays.
    assert sum(clock.sleeps) >= 15 and clock.sleeps == sorted(clock.sleeps)[:len(clock.sleeps) - 1] + clock.sleeps[-1:]
    assert rereads == len(clock.sleeps) >= 4
    assert [item["result"] for item in result["apis"]] == ["published", "published"]
    assert result["apis"][0]["publish_id"] == "pub-new"
    assert result["apis"][1]["version_id"] == "v-1b"


def test_write_applied_late_is_never_sent_twice(capsys, clock):
    # The gateway applies the lost batch 7 s after the client saw the failure.
    before = [api(0), api(1)]
    late = [api(0, published_at="2026-11-22T00:00:00.5Z"), api(1, published_at="2026-11-22T00:00:00.5Z")]
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing(before))
        rsps.add(responses.POST, BASE + "/apis/publish", body=requests.exceptions.ConnectionError("reset by peer"))
        rsps.add(responses.GET, BASE + "/apis", json=listing(before))   # +0.5 s
        rsps.add(responses.GET, BASE + "/apis", json=listing(before))   # +1.5 s
        rsps.add(responses.GET, BASE + "/apis", json=listing(before))   # +3.5 s
        rsps.add(responses.GET, BASE + "/apis", json=listing(late))     # +7.5 s
        result = run_module({}, capsys)
        assert len(batch_calls(rsps)) == 1
    assert [item["result"] for item in result["apis"]] == ["published", "published"]
    assert result["apis"][0]["publish_time"] == "2026-11-22T00:00:00.5Z"
    assert result["call_errors"][0]["msg"].startswith("publishing 2 APIs to TEST: ")


def test_write_never_visible_with_no_retries_left_fails_as_unknown(capsys, clock):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing([api(0)]))
        rsps.add(responses.POST, BASE + "/apis/publish", status=504, headers={"X-Request-Id": "req-504"},
                 json={"error_code": "APIG.9999", "error_msg": "Gateway Timeout"})
        rsps.add(responses.GET, BASE + "/apis", json=listing([api(0)]))
        result = run_module({"retries": 0, "settle_timeout": 4}, capsys)
        assert len(batch_calls(rsps)) == 1
    assert result["failed"] and result["apis"][0]["result"] == "failed"
    assert "outcome unknown" in result["apis"][0]["error_msg"] and "req-504" in result["apis"][0]["error_msg"]
    assert "api-0" in result["msg"] and "run the task again" in result["msg"]
    assert 4 <= sum(clock.sleeps) < 5


@pytest.mark.parametrize("body", ["", "<html>bad gateway</html>", "[]"])
def test_unreadable_200_answer_is_settled_by_reading_state(capsys, body):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing([api(0)]))
        rsps.add(responses.POST, BASE + "/apis/publish", status=200, body=body)
        rsps.add(responses.GET, BASE + "/apis", json=listing([api(0, published_at="2026-11-22T00:00:00.5Z")]))
        result = run_module({}, capsys)
        assert len(batch_calls(rsps)) == 1
    assert not result.get("failed") and result["apis"][0]["result"] == "published"


def test_one_retry_budget_per_write(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing([api(0)]))
        rsps.add(responses.POST, BASE + "/apis/publish", status=429, headers={"Retry-After": "0"},
                 json={"error_code": "APIG.0308", "error_msg": "The throttling threshold has been reached"})
        result = run_module({"retries": 5}, capsys)
        assert len(batch_calls(rsps)) == 6
    assert result["failed"] and result["apis"][0]["error_code"] == "APIG.0308"


def test_timeouts_and_throttling_share_one_budget(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing([api(0)]))
        rsps.add(responses.POST, BASE + "/apis/publish", body=requests.exceptions.ReadTimeout("lost"))
        rsps.add(responses.GET, BASE + "/apis", json=listing([api(0)]))
        rsps.add(responses.POST, BASE + "/apis/publish", status=429, headers={"Retry-After": "0"},
                 json={"error_code": "APIG.0308", "error_msg": "throttled"})
        result = run_module({"retries": 3, "settle_timeout": 1}, capsys)
        # one first send + 3 retries in all, whichever way they are spent
        assert len(batch_calls(rsps)) == 4
    assert result["failed"]


def test_answer_matched_by_name_only_when_unique_in_the_chunk(capsys):
    twin = dict(api(1), name="api-0")
    answer = {"success": [{"api_id": "api-1", "publish_id": "p1"}],
              "failure": [{"api_name": "api-0", "error_code": "APIG.3002", "error_msg": "gone"}]}
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing([api(0), twin]))
        rsps.add(responses.POST, BASE + "/apis/publish", json=answer)
        result = run_module({"allow_partial": True}, capsys)
    first, second = result["apis"]
    # "api-0" names two APIs of the chunk: the failure cannot be pinned on either by name.
    assert first["result"] == "failed" and first["error_code"] is None and "did not mention" in first["error_msg"]
    assert second["result"] == "published" and second["publish_id"] == "p1"


def tie(number, edited):
    """An API published and changed within the same whole second, as a whole-second listing shows it."""
    return api(number, published_at="2026-11-22T10:00:00Z", update_time="2026-11-22T10:00:00Z")


@pytest.mark.parametrize("version_update, current_remark, expected", [
    ("2026-11-22T10:00:00Z", "same", "unchanged"),      # imported and published in one second, untouched
    ("2026-11-22T09:59:59Z", "same", "republished"),    # the version predates the current definition
    ("2026-11-22T10:00:00Z", "edited", "republished"),  # an edit in the same second, same whole-second stamp
])
def test_same_second_tie_asks_the_gateway_about_that_api_only(capsys, version_update, current_remark, expected):
    apis = [tie(0, True), api(1, published_at="2026-11-22T10:00:00.5Z", update_time="2026-11-20T10:00:00Z")]
    versions = {"total": 2, "size": 2, "api_versions": [
        {"version_id": "v-old", "env_id": ENV["id"], "status": 2, "publish_time": "2026-11-21T10:00:00Z"},
        {"version_id": "v-live", "env_id": ENV["id"], "status": 1, "publish_time": "2026-11-22T10:00:00Z"}]}
    version = {"id": "api-0", "name": "api-0", "version_id": "v-live", "update_time": version_update,
               "remark": "same", "req_uri": "/a", "publish_time": "2026-11-22T10:00:00Z"}
    current = dict(version, remark=current_remark, update_time="2026-11-22T10:00:00Z", run_env_id=ENV["id"])
    current.pop("version_id")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        add_reads(rsps, listing(apis))
        rsps.add(responses.GET, BASE + "/apis/publish/api-0", json=versions)
        rsps.add(responses.GET, BASE + "/apis/versions/v-live", json=version)
        rsps.add(responses.GET, BASE + "/apis/api-0", json=current)
        result = run_module({"_ansible_check_mode": True}, capsys)
        asked = [call.request.url for call in rsps.calls if "/apis/" in call.request.url]
    assert [item["result"] for item in result["apis"]] == [expected, "unchanged"]
    # Only the tied API is looked at, and the version list is filtered on the environment.
    assert all("api-1" not in url for url in asked)
    assert "env_id=env-test" in asked[0]


def test_server_error_on_write_is_never_blindly_resent(capsys):
    before = [api(0)]
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing(before))
        rsps.add(responses.POST, BASE + "/apis/publish", status=500,
                 json={"error_code": "APIG.9999", "error_msg": "System error"}, headers={"X-Request-Id": "r-1"})
        # Re-read: the write went through after all.
        rsps.add(responses.GET, BASE + "/apis", json=listing([api(0, published_at="2026-11-22T00:00:00Z")]))
        result = run_module({}, capsys)
        assert len(batch_calls(rsps)) == 1
    assert not result.get("failed")
    assert result["apis"][0]["result"] == "published"


def test_failure_entries_fail_the_task_unless_allowed(capsys):
    apis = [api(0), api(1)]
    answer = {"success": [{"api_id": "api-0", "publish_id": "p0", "version_id": "v0", "publish_time": "t0"}],
              "failure": [{"api_id": "api-1", "error_code": "APIG.3002", "error_msg": "Api api-1 not found"}]}
    for allow in (False, True):
        with responses.RequestsMock() as rsps:
            add_reads(rsps, listing(apis))
            rsps.add(responses.POST, BASE + "/apis/publish", json=answer)
            result = run_module({"allow_partial": allow}, capsys)
        assert bool(result.get("failed")) is not allow
        assert result["changed"]
        assert result["summary"] == {"published": 1, "republished": 0, "unchanged": 0, "taken_offline": 0,
                                     "failed": 1}
        assert result["apis"][1]["error_code"] == "APIG.3002"
        if not allow:
            assert "api-1" in result["msg"] and "APIG.3002" in result["msg"]


def test_offline_sends_only_published_apis(capsys):
    apis = [api(0, published_at="2026-11-21T00:00:00Z"), api(1)]
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing(apis))
        rsps.add(responses.POST, BASE + "/apis/publish", json={"success": [{"api_id": "api-0"}], "failure": []})
        result = run_module({"state": "offline", "_ansible_diff": True}, capsys)
        bodies = [json.loads(call.request.body) for call in batch_calls(rsps)]
        assert "action=offline" in batch_calls(rsps)[0].request.url
    assert [body["apis"] for body in bodies] == [["api-0"]]
    assert [item["result"] for item in result["apis"]] == ["taken_offline", "unchanged"]
    assert result["diff"]["before"] == {"api-0": {"published": True, "publish_time": "2026-11-21T00:00:00Z"}}
    assert result["diff"]["after"] == {"api-0": {"published": False, "publish_time": None}}


@pytest.mark.parametrize("args, message", [
    ({"batch_size": 1001}, "batch_size must be between 1 and 1000, got 1001"),
    ({"remark": "r" * 256}, "remark must be at most 255 characters, got 256"),
    ({"apis": ["ok", " "]}, "apis must list API names or IDs"),
])
def test_bad_input_fails_before_any_request(capsys, args, message):
    with responses.RequestsMock() as rsps:
        result = run_module(args, capsys)
        assert len(rsps.calls) == 0
    assert result["failed"] and message in result["msg"]


@pytest.mark.parametrize("args", [{"api_group": ""}, {"api_group": "  "}, {"api_group": None, "apis": None}])
def test_empty_group_never_means_the_whole_instance(capsys, args):
    with responses.RequestsMock() as rsps:
        result = run_module(args, capsys)
        assert len(rsps.calls) == 0
    assert result["failed"] and "api_group" in result["msg"]


def test_ambiguous_write_is_settled_even_without_retries(capsys):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing([api(0)]))
        rsps.add(responses.POST, BASE + "/apis/publish", body=requests.exceptions.ChunkedEncodingError("cut off"))
        rsps.add(responses.GET, BASE + "/apis", json=listing([api(0, published_at="2026-11-22T00:00:00Z")]))
        result = run_module({"retries": 0}, capsys)
        assert len(batch_calls(rsps)) == 1
    assert not result.get("failed") and result["changed"]
    assert result["apis"][0]["result"] == "published"


def test_failed_reread_keeps_the_write_error_and_the_read_error(capsys):
    apis = [api(0), api(1)]
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing(apis))

        def answer(request):
            # Chunks go out side by side: answer by content, not by arrival order.
            if json.loads(request.body)["apis"] == ["api-0"]:
                return 200, {}, json.dumps({"success": [{"api_id": "api-0"}], "failure": []})
            return 504, {"X-Request-Id": "req-504"}, json.dumps({"error_code": "APIG.9999",
                                                                 "error_msg": "Gateway Timeout"})

        rsps.add_callback(responses.POST, BASE + "/apis/publish", callback=answer)
        rsps.add(responses.GET, BASE + "/apis", status=403, headers={"X-Request-Id": "req-403"},
                 json={"error_code": "APIG.1005", "error_msg": "No permissions to request this method"})
        result = run_module({"batch_size": 1, "retries": 0}, capsys)
    assert result["failed"] and result["changed"]
    assert [item["result"] for item in result["apis"]] == ["published", "failed"]
    unknown = result["apis"][1]
    # The entry says its outcome is unknown and carries the write's request ID, not just the read's.
    assert unknown["error_code"] == "APIG.9999"
    assert "outcome unknown" in unknown["error_msg"] and "req-504" in unknown["error_msg"]
    assert "req-403" in unknown["error_msg"]
    assert [error["request_id"] for error in result["call_errors"]] == ["req-504", "req-403"]
    assert "req-504" in result["msg"] and "req-403" in result["msg"]
    assert result["call_errors"][1]["msg"].startswith("listing the APIs of group orders: ")


def test_failure_entry_matched_by_name_when_it_has_no_id(capsys):
    answer = {"success": [], "failure": [{"api_name": "api-0", "error_code": "APIG.3002", "error_msg": "gone"}]}
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing([api(0)]))
        rsps.add(responses.POST, BASE + "/apis/publish", json=answer)
        result = run_module({"allow_partial": True}, capsys)
    assert result["apis"][0]["error_code"] == "APIG.3002" and result["apis"][0]["error_msg"] == "gone"


def test_diff_keys_stay_apart_for_equal_names(capsys):
    twin = dict(api(1), name="api-0", group_name="payments")
    with responses.RequestsMock() as rsps:
        add_reads(rsps, listing([api(0), twin]))
        result = run_module({"_ansible_check_mode": True, "_ansible_diff": True}, capsys)
    assert sorted(result["diff"]["after"]) == ["api-0 (api-0)", "api-0 (api-1)"]
