"""apig_backend_undeploy against a fake HTTP layer: decisions, request shapes, missing values and settling."""

import json

import pytest
import requests
import responses
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hwc.apig.plugins.modules import apig_backend_undeploy

ENDPOINT = "https://roma.example.test"
BASE = ENDPOINT + "/v2/p1/apic/instances/i1"
V1_UNDEPLOY = ENDPOINT + "/v1/p1/apic/instances/i1/livedata-apis/undeploy"
LIVEDATA = BASE + "/livedata-apis"
APIS = BASE + "/apis"

QUERY = {"id": "a" * 32, "name": "query_orders", "status": 4}
SYNC = {"id": "b" * 32, "name": "sync_inventory", "status": "3"}  # a string status, as some answers give
DRAFT = {"id": "c" * 32, "name": "draft_report", "status": 1}
REPORT = {"id": "d" * 32, "name": "monthly_report", "status": "4"}
FRONT_QUERY = {"id": "f1" * 16, "name": "query_orders_front", "group_id": "g" * 32, "group_name": "crm",
               "ld_api_id": QUERY["id"]}
FRONT_REPORT = {"id": "f2" * 16, "name": "report_front", "group_id": "g" * 32, "group_name": "crm",
                "ld_api_id": REPORT["id"]}
PLAIN_API = {"id": "e" * 32, "name": "list-orders", "group_id": "h" * 32, "group_name": "orders", "ld_api_id": None}
MISSING_ID = "9" * 32


def page(key, items):
    return {"total": len(items), "size": len(items), key: items}


def undeploy_url(ld_api):
    return "%s/%s/undeploy" % (LIVEDATA, ld_api["id"])


def detail_url(ld_api):
    return "%s/%s" % (LIVEDATA, ld_api["id"])


@pytest.fixture(autouse=True)
def clock(fake_clock):
    return fake_clock


def run_module(args, capsys):
    params = {"endpoint": ENDPOINT, "project_id": "p1", "instance_id": "i1", "access_key": "AK",
              "secret_key": "SK", "settle_timeout": 3}
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            apig_backend_undeploy.main()
    return json.loads(capsys.readouterr().out)


def writes(rsps):
    return [call.request for call in rsps.calls if call.request.method == "POST"]


def reads(rsps):
    return [call.request for call in rsps.calls if call.request.method == "GET"]


def by_name(result):
    return dict((item["name"] or item["id"], item) for item in result["backend_apis"])


# -- decisions and request shapes ---------------------------------------------------------------------

def test_only_deployed_backend_apis_are_undeployed_with_their_frontend_apis_named(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY, SYNC, DRAFT, REPORT]))
        rsps.add(responses.GET, APIS, json=page("apis", [PLAIN_API, FRONT_QUERY, FRONT_REPORT]))
        rsps.add(responses.POST, undeploy_url(QUERY), status=204)
        rsps.add(responses.POST, undeploy_url(REPORT), status=204)
        result = run_module({"backend_apis": ["query_orders", SYNC["id"], "draft_report", "monthly_report"]}, capsys)
        sent = writes(rsps)
        assert len(reads(rsps)) == 2
    # v2: the ID in the path, no body, one call per deployed backend API and none for the others.
    assert [request.url for request in sent] == [undeploy_url(QUERY), undeploy_url(REPORT)]
    assert all(not request.body for request in sent)
    assert all(request.headers["Content-Type"] == "application/json" for request in sent)
    assert not result.get("failed") and result["changed"]
    assert [item["result"] for item in result["backend_apis"]] == ["undeployed", "unchanged", "unchanged", "undeployed"]
    items = by_name(result)
    assert (items["query_orders"]["status_before"], items["query_orders"]["status_after"]) == (4, 3)
    assert (items["monthly_report"]["status_before"], items["monthly_report"]["status_after"]) == (4, 3)
    assert (items["sync_inventory"]["status_before"], items["sync_inventory"]["status_after"]) == (3, 3)
    assert (items["draft_report"]["status_before"], items["draft_report"]["status_after"]) == (1, 1)
    assert items["query_orders"]["frontend_apis"] == [
        {"id": FRONT_QUERY["id"], "name": "query_orders_front", "group_id": "g" * 32, "group_name": "crm"}]
    assert [front["id"] for front in items["monthly_report"]["frontend_apis"]] == [FRONT_REPORT["id"]]
    assert items["sync_inventory"]["frontend_apis"] == [] and items["draft_report"]["frontend_apis"] == []
    assert result["summary"] == {"undeployed": 2, "unchanged": 2, "absent": 0, "failed": 0}
    assert result["call_errors"] == []


def test_v1_sends_the_id_in_the_body(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY, REPORT]))
        rsps.add(responses.GET, APIS, json=page("apis", [FRONT_QUERY]))
        rsps.add(responses.POST, V1_UNDEPLOY, status=204)
        result = run_module({"backend_apis": [QUERY["id"], "monthly_report"], "api_version": "v1"}, capsys)
        sent = writes(rsps)
    assert [request.url for request in sent] == [V1_UNDEPLOY, V1_UNDEPLOY]
    assert [json.loads(request.body) for request in sent] == [{"ld_api_id": QUERY["id"]}, {"ld_api_id": REPORT["id"]}]
    assert all(request.headers["Content-Type"].startswith("application/json") for request in sent)
    assert [item["result"] for item in result["backend_apis"]] == ["undeployed", "undeployed"]
    assert by_name(result)["monthly_report"]["frontend_apis"] == []


def test_any_2xx_answer_is_success(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", []))
        rsps.add(responses.POST, undeploy_url(QUERY), status=200, json={})
        result = run_module({"backend_apis": ["query_orders"]}, capsys)
        assert len(writes(rsps)) == 1
    assert result["backend_apis"][0]["result"] == "undeployed" and result["changed"]


def test_nothing_deployed_means_one_read_and_no_write(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [SYNC, DRAFT]))
        result = run_module({"backend_apis": ["sync_inventory", "draft_report"], "_ansible_diff": True}, capsys)
        assert len(rsps.calls) == 1
    assert not result["changed"] and not result.get("failed")
    assert result["summary"] == {"undeployed": 0, "unchanged": 2, "absent": 0, "failed": 0}
    assert result["diff"]["before"] == {} and result["diff"]["after"] == {}


def test_a_backend_api_given_twice_is_undeployed_once(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", []))
        rsps.add(responses.POST, undeploy_url(QUERY), status=204)
        result = run_module({"backend_apis": ["query_orders", QUERY["id"]]}, capsys)
        assert len(writes(rsps)) == 1
    assert [item["id"] for item in result["backend_apis"]] == [QUERY["id"]]


def test_check_mode_reads_only_and_predicts(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY, SYNC]))
        rsps.add(responses.GET, APIS, json=page("apis", [FRONT_QUERY]))
        result = run_module({"backend_apis": ["query_orders", "sync_inventory"], "_ansible_check_mode": True,
                             "_ansible_diff": True}, capsys)
        assert writes(rsps) == []
    assert result["changed"]
    assert [item["result"] for item in result["backend_apis"]] == ["undeployed", "unchanged"]
    query = result["backend_apis"][0]
    assert (query["status_before"], query["status_after"]) == (4, 3)
    assert [front["name"] for front in query["frontend_apis"]] == ["query_orders_front"]
    assert result["diff"]["before"] == {"query_orders": {"status": 4, "frontend_apis": [FRONT_QUERY["id"]]}}
    assert result["diff"]["after"] == {"query_orders": {"status": 3, "frontend_apis": []}}


# -- missing and ambiguous values ------------------------------------------------------------------------

def test_missing_fail_names_every_missing_value_and_writes_nothing(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY, SYNC]))
        result = run_module({"backend_apis": ["query_orders", MISSING_ID, "query_order"]}, capsys)
        assert len(rsps.calls) == 1
    assert result["failed"]
    assert MISSING_ID in result["msg"] and "'query_order' not found" in result["msg"]
    assert "candidates: query_orders" in result["msg"] and "nothing was undeployed" in result["msg"]
    assert "missing: ignore" in result["msg"]
    assert result["backend_apis"] == []


def test_missing_ignore_reports_absent_and_goes_on(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", []))
        rsps.add(responses.POST, undeploy_url(QUERY), status=204)
        result = run_module({"backend_apis": [MISSING_ID, "query_orders", "gone_api"], "missing": "ignore"}, capsys)
        assert len(writes(rsps)) == 1
    assert not result.get("failed") and result["changed"]
    absent_id, query, absent_name = result["backend_apis"]
    assert (absent_id["id"], absent_id["name"], absent_id["result"]) == (MISSING_ID, None, "absent")
    assert (absent_name["id"], absent_name["name"], absent_name["result"]) == (None, "gone_api", "absent")
    assert absent_id["status_before"] is None and absent_id["status_after"] is None
    assert query["result"] == "undeployed"
    assert result["summary"] == {"undeployed": 1, "unchanged": 0, "absent": 2, "failed": 0}


def test_only_absent_values_change_nothing(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        result = run_module({"backend_apis": [MISSING_ID], "missing": "ignore"}, capsys)
        assert len(rsps.calls) == 1
    assert not result["changed"] and result["backend_apis"][0]["result"] == "absent"


@pytest.mark.parametrize("missing", ["fail", "ignore"])
def test_an_ambiguous_name_always_fails_naming_the_candidates(capsys, missing):
    twin = {"id": "5" * 32, "name": "query_orders", "status": 4}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY, twin, REPORT]))
        result = run_module({"backend_apis": ["monthly_report", "query_orders"], "missing": missing}, capsys)
        assert writes(rsps) == [] and len(rsps.calls) == 1
    assert result["failed"] and "ambiguous" in result["msg"]
    assert QUERY["id"] in result["msg"] and twin["id"] in result["msg"]


# -- failures and settling ------------------------------------------------------------------------------

def test_an_ambiguous_write_that_was_applied_is_not_resent(capsys, clock):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", [FRONT_QUERY]))
        rsps.add(responses.POST, undeploy_url(QUERY), body=requests.exceptions.ReadTimeout("lost"))
        rsps.add(responses.GET, detail_url(QUERY), json=dict(QUERY, status=3))
        result = run_module({"backend_apis": ["query_orders"]}, capsys)
        assert len(writes(rsps)) == 1
        assert [request.url for request in reads(rsps)][-1] == detail_url(QUERY)
    assert not result.get("failed") and result["changed"]
    item = result["backend_apis"][0]
    assert (item["result"], item["status_before"], item["status_after"]) == ("undeployed", 4, 3)
    assert [front["id"] for front in item["frontend_apis"]] == [FRONT_QUERY["id"]]
    assert len(result["call_errors"]) == 1 and "undeploying custom backend API query_orders" in \
        result["call_errors"][0]["msg"]


def test_an_ambiguous_write_not_applied_is_resent_once_after_the_settle_window(capsys, clock):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", []))
        rsps.add(responses.POST, undeploy_url(QUERY), status=502, json={"error_code": "APIG.9999", "error_msg": "Bad"})
        rsps.add(responses.POST, undeploy_url(QUERY), status=204)
        rsps.add(responses.GET, detail_url(QUERY), json=QUERY)  # still deployed at every re-read
        result = run_module({"backend_apis": ["query_orders"], "settle_timeout": 3}, capsys)
        assert len(writes(rsps)) == 2
        rereads = [request for request in reads(rsps) if request.url == detail_url(QUERY)]
    # The resend came only once the whole window had passed, after several re-reads.
    assert sum(clock.sleeps) >= 3 and len(rereads) >= 2
    assert not result.get("failed") and result["backend_apis"][0]["result"] == "undeployed"


def test_an_ambiguous_write_whose_reread_fails_is_outcome_unknown_with_both_errors(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", []))
        rsps.add(responses.POST, undeploy_url(QUERY), status=502, headers={"X-Request-Id": "req-502"},
                 json={"error_code": "APIG.9999", "error_msg": "Bad Gateway"})
        rsps.add(responses.GET, detail_url(QUERY), status=403, headers={"X-Request-Id": "req-403"},
                 json={"error_code": "APIG.1005", "error_msg": "No permissions to request this method"})
        result = run_module({"backend_apis": ["query_orders"]}, capsys)
        assert len(writes(rsps)) == 1
    assert result["failed"] and "query_orders" in result["msg"]
    item = result["backend_apis"][0]
    assert item["result"] == "failed" and item["status_after"] is None
    assert "outcome unknown" in item["error_msg"] and "req-502" in item["error_msg"] and "req-403" in item["error_msg"]
    assert [error["request_id"] for error in result["call_errors"]] == ["req-502", "req-403"]
    assert [error["status"] for error in result["call_errors"]] == [502, 403]


def test_a_write_answering_404_is_absent_when_the_reread_finds_it_gone(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", []))
        rsps.add(responses.POST, undeploy_url(QUERY), status=404,
                 json={"error_code": "APIG.3084", "error_msg": "The livedata API does not exist"})
        rsps.add(responses.GET, detail_url(QUERY), status=404,
                 json={"error_code": "APIG.3084", "error_msg": "The livedata API does not exist"})
        result = run_module({"backend_apis": ["query_orders"]}, capsys)
        assert len(writes(rsps)) == 1
    assert not result.get("failed") and not result["changed"]
    item = result["backend_apis"][0]
    assert (item["result"], item["status_before"], item["status_after"]) == ("absent", 4, None)


def test_the_state_decides_not_the_error_code(capsys):
    # A 404 with the "does not exist" code, but the backend API is still there and deployed: a failure.
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", []))
        rsps.add(responses.POST, undeploy_url(QUERY), status=404,
                 json={"error_code": "APIG.3084", "error_msg": "The livedata API does not exist"})
        rsps.add(responses.GET, detail_url(QUERY), json=QUERY)
        result = run_module({"backend_apis": ["query_orders"], "allow_partial": True}, capsys)
    assert not result.get("failed") and not result["changed"]
    item = result["backend_apis"][0]
    assert (item["result"], item["status_after"], item["error_code"]) == ("failed", 4, "APIG.3084")


def test_a_refusal_after_someone_else_undeployed_it_is_unchanged(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", [FRONT_QUERY]))
        rsps.add(responses.POST, undeploy_url(QUERY), status=400,
                 json={"error_code": "APIG.2011", "error_msg": "Invalid parameter value"})
        rsps.add(responses.GET, detail_url(QUERY), json=dict(QUERY, status="3"))
        result = run_module({"backend_apis": ["query_orders"]}, capsys)
    assert not result.get("failed") and not result["changed"]
    item = result["backend_apis"][0]
    assert (item["result"], item["status_before"], item["status_after"]) == ("unchanged", 4, 3)
    assert item["frontend_apis"] == []


def test_a_refusal_after_our_own_lost_write_landed_is_undeployed(capsys):
    # The first call's answer was lost; it landed only after the settle window, just before the resend.
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY]))
        rsps.add(responses.GET, APIS, json=page("apis", [FRONT_QUERY]))
        rsps.add(responses.POST, undeploy_url(QUERY), body=requests.exceptions.ConnectionError("reset by peer"))
        rsps.add(responses.POST, undeploy_url(QUERY), status=400,
                 json={"error_code": "APIG.3086", "error_msg": "The livedata API has not been deployed"})

        def detail(request):
            # Deployed while the module settles; undeployed once the resend has been refused.
            status = 3 if len(writes(rsps)) == 2 else 4
            return 200, {}, json.dumps(dict(QUERY, status=status))

        rsps.add_callback(responses.GET, detail_url(QUERY), callback=detail)
        result = run_module({"backend_apis": ["query_orders"], "settle_timeout": 1}, capsys)
        assert len(writes(rsps)) == 2
    assert not result.get("failed") and result["changed"]
    item = result["backend_apis"][0]
    assert (item["result"], item["status_after"]) == ("undeployed", 3)
    assert [front["id"] for front in item["frontend_apis"]] == [FRONT_QUERY["id"]]


def test_throttled_writes_are_retried_and_failures_fail_the_task_unless_allowed(capsys):
    for allow in (False, True):
        with responses.RequestsMock() as rsps:
            rsps.add(responses.GET, LIVEDATA, json=page("apis", [QUERY, REPORT]))
            rsps.add(responses.GET, APIS, json=page("apis", []))
            rsps.add(responses.POST, undeploy_url(QUERY), status=429, headers={"Retry-After": "0"},
                     json={"error_code": "APIG.0308", "error_msg": "throttled"})
            rsps.add(responses.POST, undeploy_url(QUERY), status=204)
            rsps.add(responses.POST, undeploy_url(REPORT), status=403, headers={"X-Request-Id": "req-403"},
                     json={"error_code": "APIG.1005", "error_msg": "No permissions to request this method"})
            rsps.add(responses.GET, detail_url(REPORT), json=REPORT)
            result = run_module({"backend_apis": ["query_orders", "monthly_report"], "allow_partial": allow},
                                capsys)
            assert len(writes(rsps)) == 3
        assert bool(result.get("failed")) is not allow
        assert result["changed"]
        assert [item["result"] for item in result["backend_apis"]] == ["undeployed", "failed"]
        failed = result["backend_apis"][1]
        assert (failed["error_code"], failed["error_msg"]) == ("APIG.1005", "No permissions to request this method")
        assert failed["frontend_apis"] == []
        if not allow:
            assert "1 of 2 custom backend APIs failed to undeploy" in result["msg"]
            assert "monthly_report" in result["msg"] and result["request_id"] == "req-403"


# -- input and service -----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [{"service": "apig"}, {}])
def test_service_apig_is_refused_before_any_request(capsys, monkeypatch, args):
    if not args:
        monkeypatch.setenv("HWC_APIG_SERVICE", "apig")
    with responses.RequestsMock() as rsps:
        result = run_module(dict(args, backend_apis=["query_orders"]), capsys)
        assert len(rsps.calls) == 0
    assert result["failed"] and "ROMA Connect" in result["msg"] and "service: apig" in result["msg"]


@pytest.mark.parametrize("values", [[], ["query_orders", " "], [""]])
def test_empty_values_fail_before_any_request(capsys, values):
    with responses.RequestsMock() as rsps:
        result = run_module({"backend_apis": values}, capsys)
        assert len(rsps.calls) == 0
    assert result["failed"] and "backend_apis must list" in result["msg"]


def test_the_service_defaults_to_roma(capsys):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, LIVEDATA, json=page("apis", [DRAFT]))
        result = run_module({"backend_apis": ["draft_report"]}, capsys)
        assert "/apic/" in rsps.calls[0].request.url
    assert result["backend_apis"][0]["result"] == "unchanged"
