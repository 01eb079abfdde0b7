# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The HTTP client: endpoints, paths, auth on the wire, retries and backoff, typed errors, paging, TLS."""

import datetime
import email.utils
import http.client
import json
import re
import socket
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from ansible_collections.hwc.apig.plugins.module_utils import client

from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

AK = "AKTEST0123456789ABCD"
SK = "sk-test-0123456789abcdefghijklmnopqrstuv"
PROJECT = "0123456789abcdef0123456789abcdef"
INSTANCE = "eddc4d25480b4cd6b512f270a1b8b341"
ENDPOINT = "https://apig.cn-north-4.myhuaweicloud.com"
IAM = "https://iam.cn-north-4.myhuaweicloud.com"
BASE = ENDPOINT + "/v2/%s/apigw/instances/%s" % (PROJECT, INSTANCE)
TOKENS_URL = IAM + "/v3/auth/tokens"
# Equal jitter with rand() == 0.5 and base 0.5 s: three quarters of min(20, 0.5 * 2 ** attempt).
DELAYS = [0.375, 0.75, 1.5, 3.0, 6.0, 12.0, 15.0, 15.0]


def make_client(auth=None, retries=3, service="apig", endpoint=ENDPOINT, **kwargs):
    delays = []
    policy = client.RetryPolicy(retries, sleep=delays.append, rand=lambda: 0.5)
    api = client.ApigClient(endpoint, PROJECT, INSTANCE, service, auth or client.AkSkAuth(AK, SK),
                            retry_policy=policy, **kwargs)
    return api, delays


def wire_query(call):
    return urlsplit(call.request.url).query


def body_json(call):
    return json.loads(call.request.body)


def sdk_authorization(request):
    """Recompute the Authorization of a captured request with the official SDK signer."""
    auth = request.headers["Authorization"]
    access = re.search(r"Access=([^,]+)", auth).group(1)
    signed_names = re.search(r"SignedHeaders=([^,]+)", auth).group(1).split(";")
    headers = {}
    for name in signed_names:
        headers[name] = request.headers[name]
    parts = urlsplit(request.url)
    sdk_request = SdkRequest(
        method=request.method, schema=parts.scheme, host=parts.netloc, resource_path=parts.path,
        query_params=parse_qsl(parts.query, keep_blank_values=True), header_params=headers,
        body=request.body or b"")
    Signer(SimpleNamespace(ak=access, sk=SK)).sign(sdk_request)
    return sdk_request.header_params["Authorization"], signed_names


# -- endpoints and paths -----------------------------------------------------------------------------------

@pytest.mark.parametrize("service,region,expected", [
    ("apig", "cn-north-4", "https://apig.cn-north-4.myhuaweicloud.com"),
    ("roma", "ap-southeast-1", "https://roma.ap-southeast-1.myhuaweicloud.com"),
    ("apig", "eu-west-101", "https://apig.eu-west-101.myhuaweicloud.eu"),
    ("roma", "eu-west-101", "https://roma.eu-west-101.myhuaweicloud.eu"),
    ("apig", "eu-west-0", "https://apig.eu-west-0.myhuaweicloud.com"),
    ("apig", "my-kualalumpur-1", "https://apig.my-kualalumpur-1.myhuaweicloud.com"),
])
def test_service_endpoint(service, region, expected):
    assert client.service_endpoint(service, region) == expected


def test_iam_endpoint():
    assert client.iam_endpoint_for("cn-north-4") == "https://iam.cn-north-4.myhuaweicloud.com"
    assert client.iam_endpoint_for("eu-west-101") == "https://iam.eu-west-101.myhuaweicloud.eu"


@pytest.mark.parametrize("region", ["", None, "CN-NORTH-4", "cn_north_4", "cn north 4", "cn", "https://x.y",
                                    "cn-north-4.evil.com/", "cn-north-4/"])
def test_bad_region(region):
    with pytest.raises(ValueError, match="region"):
        client.service_endpoint("apig", region)
    with pytest.raises(ValueError, match="region"):
        client.iam_endpoint_for(region)


def test_instance_paths():
    apig, _delays = make_client()
    roma, _delays = make_client(service="roma")
    assert apig.instance_path() == "/v2/%s/apigw/instances/%s" % (PROJECT, INSTANCE)
    assert roma.instance_path("/apis") == "/v2/%s/apic/instances/%s/apis" % (PROJECT, INSTANCE)
    assert roma.instance_path("/livedata-apis/undeploy", api_version="v1") == (
        "/v1/%s/apic/instances/%s/livedata-apis/undeploy" % (PROJECT, INSTANCE))
    odd = client.ApigClient(ENDPOINT + "/", "p j", "i/d", "apig", client.TokenAuth("t"))
    assert odd.instance_path("/envs") == "/v2/p%20j/apigw/instances/i%2Fd/envs"
    assert odd.endpoint == ENDPOINT


def test_unknown_service_rejected():
    with pytest.raises(ValueError, match="service"):
        client.ApigClient(ENDPOINT, PROJECT, INSTANCE, "cce", client.TokenAuth("t"))


# -- what goes on the wire ---------------------------------------------------------------------------

@responses.activate
def test_aksk_request_on_the_wire():
    responses.add(responses.POST, BASE + "/apis/publish", json={"success": []})
    api, _delays = make_client()
    api.call("POST", "/apis/publish", query={"action": "online"},
             body={"apis": ["api-1"], "env_id": "e", "remark": "\u53d1\u5e03"}, kind=client.WRITE)
    request = responses.calls[0].request
    assert request.url == BASE + "/apis/publish?action=online"
    assert request.headers["User-Agent"] == "hwc.apig/1.0.0"
    assert request.headers["Content-Type"] == "application/json;charset=utf-8"
    assert request.headers["X-Project-Id"] == PROJECT
    assert request.headers["Host"] == "apig.cn-north-4.myhuaweicloud.com"
    assert re.match(r"^\d{8}T\d{6}Z$", request.headers["X-Sdk-Date"])
    assert "X-Auth-Token" not in request.headers
    # The SDK's JSON serialisation: ", " and ": " separators, non-ASCII as \\u escapes.
    assert request.body == b'{"apis": ["api-1"], "env_id": "e", "remark": "\\u53d1\\u5e03"}'
    expected, signed_names = sdk_authorization(request)
    assert request.headers["Authorization"] == expected
    assert request.headers["Authorization"].startswith("SDK-HMAC-SHA256 Access=%s, " % AK)
    assert signed_names == ["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"]


@responses.activate
def test_aksk_get_query_sorted_and_encoded_and_signed():
    responses.add(responses.GET, BASE + "/apis", json={"total": 0, "apis": []})
    api, _delays = make_client(auth=client.AkSkAuth(AK, SK, security_token="sts-token"))
    api.call("GET", "/apis", query={"name": "my api/\u00e9~x", "offset": 0, "limit": 500, "group_id": "grp 1",
                                    "precise_search": None})
    request = responses.calls[0].request
    assert wire_query(responses.calls[0]) == "group_id=grp%201&limit=500&name=my%20api%2F%C3%A9~x&offset=0"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Security-Token"] == "sts-token"
    assert request.body is None
    expected, signed_names = sdk_authorization(request)
    assert request.headers["Authorization"] == expected
    assert "x-security-token" in signed_names


@responses.activate
def test_token_auth_sends_x_auth_token_only():
    responses.add(responses.GET, BASE + "/envs", json={"envs": [], "total": 0})
    api, _delays = make_client(auth=client.TokenAuth("user-token"))
    assert api.call("GET", "/envs") == {"envs": [], "total": 0}
    request = responses.calls[0].request
    assert request.headers["X-Auth-Token"] == "user-token"
    assert "Authorization" not in request.headers
    assert "X-Sdk-Date" not in request.headers
    assert request.headers["User-Agent"] == "hwc.apig/1.0.0"
    assert request.headers["X-Project-Id"] == PROJECT


@responses.activate
def test_roma_and_v1_paths_on_the_wire():
    roma_base = "https://roma.cn-north-4.myhuaweicloud.com"
    responses.add(responses.POST, roma_base + "/v1/%s/apic/instances/%s/livedata-apis/undeploy" % (PROJECT, INSTANCE),
                  status=204)
    api, _delays = make_client(auth=client.TokenAuth("t"), service="roma", endpoint=roma_base)
    assert api.call("POST", "/livedata-apis/undeploy", body={"ld_api_id": "x"}, kind=client.WRITE,
                    api_version="v1") == {}
    assert len(responses.calls) == 1


# -- password auth -----------------------------------------------------------------------------------

def iam_body(user="deployer", password="pw", domain="acct"):
    return {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "domain": {"name": domain}, "name": user, "password": password}}},
        "scope": {"project": {"id": PROJECT}},
    }}


def password_client(tokens, retries=3):
    for token in tokens:
        responses.add(responses.POST, TOKENS_URL, status=201, json={"token": {}}, headers={"X-Subject-Token": token})
    seen = []
    auth = client.PasswordAuth(IAM + "/", "deployer", "pw", "acct", on_token=seen.append)
    api, delays = make_client(auth=auth, retries=retries)
    return api, seen


def calls_to(url):
    return [call for call in responses.calls if call.request.url.split("?")[0] == url]


@responses.activate
def test_password_auth_gets_a_project_scoped_token_once():
    api, seen = password_client(["tok-1"])
    responses.add(responses.GET, BASE + "/envs", json={"total": 0, "envs": []})
    api.call("GET", "/envs")
    api.call("GET", "/envs")
    iam_calls = calls_to(TOKENS_URL)
    assert len(iam_calls) == 1
    iam_request = iam_calls[0].request
    assert iam_request.method == "POST"
    assert iam_request.url == TOKENS_URL + "?nocatalog=true"
    assert body_json(iam_calls[0]) == iam_body()
    assert "Authorization" not in iam_request.headers
    assert "X-Auth-Token" not in iam_request.headers
    assert iam_request.headers["Content-Type"] == "application/json;charset=utf-8"
    api_calls = calls_to(BASE + "/envs")
    assert [call.request.headers["X-Auth-Token"] for call in api_calls] == ["tok-1", "tok-1"]
    assert all("Authorization" not in call.request.headers for call in api_calls)
    assert seen == ["tok-1"]
    assert set(api.auth.secrets()) == {"pw", "tok-1"}


@responses.activate
def test_password_auth_reauthenticates_once_on_401():
    api, seen = password_client(["tok-1", "tok-2"])
    responses.add(responses.GET, BASE + "/envs", status=401, json={"error_code": "APIG.1002", "error_msg": "expired"})
    responses.add(responses.GET, BASE + "/envs", json={"total": 0, "envs": []})
    assert api.call("GET", "/envs") == {"total": 0, "envs": []}
    assert len(calls_to(TOKENS_URL)) == 2
    assert [call.request.headers["X-Auth-Token"] for call in calls_to(BASE + "/envs")] == ["tok-1", "tok-2"]
    assert seen == ["tok-1", "tok-2"]


@responses.activate
def test_password_auth_fails_on_second_401():
    api, seen = password_client(["tok-1", "tok-2", "tok-3"])
    responses.add(responses.GET, BASE + "/envs", status=401, json={"error_code": "APIG.1002", "error_msg": "bad token"},
                  headers={"X-Request-Id": "req-401"})
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    assert caught.value.status == 401
    assert caught.value.error_code == "APIG.1002"
    assert caught.value.request_id == "req-401"
    assert len(calls_to(TOKENS_URL)) == 2
    assert len(calls_to(BASE + "/envs")) == 2
    assert seen == ["tok-1", "tok-2"]
    # Once renewed, a later 401 is not renewed again.
    with pytest.raises(client.ApigError):
        api.call("GET", "/envs")
    assert len(calls_to(TOKENS_URL)) == 2


@responses.activate
def test_password_auth_iam_rejects():
    responses.add(responses.POST, TOKENS_URL, status=401,
                  json={"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}})
    seen = []
    api, _delays = make_client(auth=client.PasswordAuth(IAM, "deployer", "bad", "acct", on_token=seen.append))
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    assert caught.value.status == 401
    assert caught.value.error_code == "401"
    assert caught.value.error_msg == "The username or password is wrong."
    assert len(responses.calls) == 1
    assert seen == []


@responses.activate
def test_password_auth_without_subject_token():
    responses.add(responses.POST, TOKENS_URL, status=201, json={"token": {}})
    api, _delays = make_client(auth=client.PasswordAuth(IAM, "deployer", "pw", "acct"))
    with pytest.raises(client.ApigError, match="X-Subject-Token"):
        api.call("GET", "/envs")
    assert len(responses.calls) == 1


@responses.activate
def test_token_auth_does_not_retry_401():
    responses.add(responses.GET, BASE + "/envs", status=401, json={"error_code": "APIG.1002", "error_msg": "no"})
    api, delays = make_client(auth=client.TokenAuth("t"))
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    assert caught.value.status == 401
    assert len(responses.calls) == 1
    assert delays == []


# -- retries -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@responses.activate
def test_read_retried_on_retryable_status(status):
    for _attempt in range(3):
        responses.add(responses.GET, BASE + "/envs", status=status, json={"error_code": "APIG.0308", "error_msg": "x"})
    responses.add(responses.GET, BASE + "/envs", json={"total": 1, "envs": [{"id": "e"}]})
    api, delays = make_client(retries=5)
    assert api.call("GET", "/envs")["envs"] == [{"id": "e"}]
    assert len(responses.calls) == 4
    assert api.request_count == 4
    assert delays == DELAYS[:3]


@responses.activate
def test_retry_after_is_honoured_exactly():
    responses.add(responses.GET, BASE + "/envs", status=429, headers={"Retry-After": "7"},
                  json={"error_code": "APIG.0308", "error_msg": "The throttling threshold has been reached"})
    responses.add(responses.GET, BASE + "/envs", status=503, headers={"Retry-After": "0.25"})
    responses.add(responses.GET, BASE + "/envs", status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    responses.add(responses.GET, BASE + "/envs", status=429, headers={"Retry-After": "100000"})
    responses.add(responses.GET, BASE + "/envs", json={})
    api, delays = make_client(retries=5)
    assert api.call("GET", "/envs") == {}
    # An HTTP-date in the past means "now"; a huge value is capped.
    assert delays == [7.0, 0.25, 0.0, client.MAX_RETRY_AFTER]


@responses.activate
def test_retry_after_http_date_in_the_future():
    moment = email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30),
                                         usegmt=True)
    responses.add(responses.GET, BASE + "/envs", status=429, headers={"Retry-After": moment})
    responses.add(responses.GET, BASE + "/envs", json={})
    api, delays = make_client(retries=1)
    assert api.call("GET", "/envs") == {}
    assert 25.0 < delays[0] <= 30.0


@responses.activate
def test_retries_exhausted_raise_typed_error():
    responses.add(responses.GET, BASE + "/envs", status=503, headers={"X-Request-Id": "req-503"},
                  json={"error_code": "APIG.9999", "error_msg": "busy"})
    api, delays = make_client(retries=2)
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    error = caught.value
    assert len(responses.calls) == 3
    assert delays == DELAYS[:2]
    assert (error.status, error.error_code, error.error_msg, error.request_id) == (503, "APIG.9999", "busy", "req-503")
    assert error.details() == {"status": 503, "error_code": "APIG.9999", "error_msg": "busy",
                               "request_id": "req-503"}
    assert error.maybe_applied is False
    assert error.method == "GET"
    assert error.path == "/v2/%s/apigw/instances/%s/envs" % (PROJECT, INSTANCE)
    assert "HTTP 503" in str(error) and "APIG.9999" in str(error) and "req-503" in str(error)


@responses.activate
def test_backoff_grows_and_is_capped():
    responses.add(responses.GET, BASE + "/envs", status=500)
    api, delays = make_client(retries=8)
    with pytest.raises(client.ApigError):
        api.call("GET", "/envs")
    assert len(responses.calls) == 9
    assert delays == DELAYS


def test_backoff_jitter_bounds():
    low = client.RetryPolicy(rand=lambda: 0.0)
    high = client.RetryPolicy(rand=lambda: 1.0)
    for attempt in range(8):
        ceiling = min(20.0, 0.5 * 2 ** attempt)
        assert low.delay(attempt) == ceiling / 2
        assert high.delay(attempt) == ceiling
    assert low.delay(3, retry_after=2.5) == 2.5
    assert client.RetryPolicy(retries=-3).retries == 0


@responses.activate
def test_retries_zero_means_one_attempt():
    responses.add(responses.GET, BASE + "/envs", status=429, json={"error_code": "APIG.0308", "error_msg": "slow"})
    api, delays = make_client(retries=0)
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    assert caught.value.status == 429
    assert caught.value.error_code == "APIG.0308"
    assert len(responses.calls) == 1
    assert delays == []


def test_retries_option_builds_policy():
    api = client.ApigClient(ENDPOINT, PROJECT, INSTANCE, "apig", client.TokenAuth("t"), retries=4)
    assert api.retry.retries == 4


@responses.activate
def test_read_retried_on_connection_error():
    responses.add(responses.GET, BASE + "/envs", body=requests.exceptions.ConnectionError("reset by peer"))
    responses.add(responses.GET, BASE + "/envs", body=requests.exceptions.ReadTimeout("slow"))
    responses.add(responses.GET, BASE + "/envs", json={"total": 0})
    api, delays = make_client(retries=3)
    assert api.call("GET", "/envs") == {"total": 0}
    assert len(responses.calls) == 3
    assert delays == DELAYS[:2]


@responses.activate
def test_read_connection_errors_exhausted():
    responses.add(responses.GET, BASE + "/envs", body=requests.exceptions.ConnectionError("reset by peer"))
    api, delays = make_client(retries=2)
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    assert len(responses.calls) == 3
    assert delays == DELAYS[:2]
    assert caught.value.status is None
    assert caught.value.maybe_applied is False
    assert "connection failed" in str(caught.value)


@responses.activate
def test_write_retried_on_429():
    responses.add(responses.POST, BASE + "/apis/publish", status=429, headers={"Retry-After": "3"},
                  json={"error_code": "APIG.0308", "error_msg": "throttled"})
    responses.add(responses.POST, BASE + "/apis/publish", status=429,
                  json={"error_code": "APIG.0308", "error_msg": "throttled"})
    responses.add(responses.POST, BASE + "/apis/publish", json={"success": [{"api_id": "a"}]})
    api, delays = make_client(retries=3)
    answer = api.call("POST", "/apis/publish", query={"action": "online"}, body={"apis": ["a"], "env_id": "e"},
                      kind=client.WRITE)
    assert answer == {"success": [{"api_id": "a"}]}
    assert len(responses.calls) == 3
    assert delays == [3.0, DELAYS[1]]
    # Each attempt is signed afresh and carries the same body.
    assert len({call.request.body for call in responses.calls}) == 1


@responses.activate
def test_write_throttled_to_the_end_is_not_maybe_applied():
    responses.add(responses.POST, BASE + "/apis/publish", status=429,
                  json={"error_code": "APIG.0308", "error_msg": "throttled"})
    api, delays = make_client(retries=1)
    with pytest.raises(client.ApigError) as caught:
        api.call("POST", "/apis/publish", body={}, kind=client.WRITE)
    assert len(responses.calls) == 2
    assert caught.value.status == 429
    assert caught.value.maybe_applied is False


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@responses.activate
def test_write_not_retried_on_5xx(status):
    responses.add(responses.POST, BASE + "/apis/publish", status=status, headers={"X-Request-Id": "req-w"},
                  json={"error_code": "APIG.9999", "error_msg": "internal"})
    responses.add(responses.POST, BASE + "/apis/publish", json={})
    api, delays = make_client(retries=5)
    with pytest.raises(client.ApigError) as caught:
        api.call("POST", "/apis/publish", body={"apis": ["a"]}, kind=client.WRITE)
    assert len(responses.calls) == 1
    assert delays == []
    assert caught.value.maybe_applied is True
    assert caught.value.status == status
    assert caught.value.request_id == "req-w"


@responses.activate
def test_write_not_retried_on_4xx_and_not_maybe_applied():
    responses.add(responses.POST, BASE + "/apis/publish", status=400,
                  json={"error_code": "APIG.2011", "error_msg": "Invalid parameter value"})
    api, delays = make_client(retries=5)
    with pytest.raises(client.ApigError) as caught:
        api.call("POST", "/apis/publish", body={}, kind=client.WRITE)
    assert len(responses.calls) == 1
    assert caught.value.maybe_applied is False


@pytest.mark.parametrize("exc", [
    requests.exceptions.ReadTimeout("read timed out"),
    requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", http.client.RemoteDisconnected("gone"))),
], ids=["read-timeout", "dropped-after-send"])
@responses.activate
def test_write_not_retried_after_sending(exc):
    responses.add(responses.POST, BASE + "/apis/publish", body=exc)
    responses.add(responses.POST, BASE + "/apis/publish", json={})
    api, delays = make_client(retries=5)
    with pytest.raises(client.ApigError) as caught:
        api.call("POST", "/apis/publish", body={"apis": ["a"]}, kind=client.WRITE)
    assert len(responses.calls) == 1
    assert delays == []
    assert caught.value.maybe_applied is True
    assert caught.value.status is None


@pytest.mark.parametrize("exc", [
    requests.exceptions.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "Connection refused"))),
    requests.exceptions.ConnectTimeout("connect timed out"),
], ids=["refused", "connect-timeout"])
@responses.activate
def test_write_retried_when_never_sent(exc):
    responses.add(responses.POST, BASE + "/apis/publish", body=exc)
    responses.add(responses.POST, BASE + "/apis/publish", json={"ok": True})
    api, delays = make_client(retries=5)
    assert api.call("POST", "/apis/publish", body={}, kind=client.WRITE) == {"ok": True}
    assert len(responses.calls) == 2
    assert delays == DELAYS[:1]


def closed_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_write_on_a_refused_connection_is_retried_then_not_maybe_applied():
    api, delays = make_client(retries=2, endpoint="http://127.0.0.1:%d" % closed_port(), timeout=5)
    with pytest.raises(client.ApigError) as caught:
        api.call("POST", "/apis/publish", body={"apis": ["a"]}, kind=client.WRITE)
    assert api.request_count == 3
    assert delays == DELAYS[:2]
    assert caught.value.maybe_applied is False
    assert caught.value.status is None
    assert "connection failed" in str(caught.value)


@responses.activate
def test_export_retried_on_5xx():
    responses.add(responses.POST, BASE + "/openapi/export", status=502)
    responses.add(responses.POST, BASE + "/openapi/export", body=b'{"swagger": "2.0"}',
                  content_type="application/octet-stream")
    api, delays = make_client(retries=2)
    response = api.stream("POST", "/openapi/export", body={"env_id": "e", "group_id": "g"})
    try:
        assert response.content == b'{"swagger": "2.0"}'
    finally:
        response.close()
    assert len(responses.calls) == 2
    assert delays == DELAYS[:1]
    assert responses.calls[1].request.req_kwargs["stream"] is True


@responses.activate
def test_non_retryable_read_error_fails_at_once():
    responses.add(responses.GET, BASE + "/envs", status=404, json={"error_code": "APIG.3030", "error_msg": "gone"})
    api, delays = make_client(retries=5)
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    assert len(responses.calls) == 1
    assert delays == []
    assert caught.value.status == 404


# -- error bodies ------------------------------------------------------------------------------------

@pytest.mark.parametrize("body,code,message", [
    ({"error_code": "APIG.2011", "error_msg": "Invalid parameter value"}, "APIG.2011", "Invalid parameter value"),
    ({"errorCode": "APIG.1002", "errorMsg": "Incorrect token"}, "APIG.1002", "Incorrect token"),
    ({"code": "APIG.1005", "message": "No permissions"}, "APIG.1005", "No permissions"),
    ({"error": {"code": "APIG.3084", "message": "not found", "title": "x"}}, "APIG.3084", "not found"),
    ({"error": {"code": 401, "message": "requires authentication"}}, "401", "requires authentication"),
    ({"outer": {"inner": {"error_code": "X.1", "error_msg": "deep"}}}, "X.1", "deep"),
    ({"error_code": "A.1", "error_msg": "first", "code": "B.2", "message": "second"}, "A.1", "first"),
], ids=["snake", "camel", "code-message", "nested", "nested-int-code", "deeply-nested", "snake-first"])
@responses.activate
def test_error_body_spellings(body, code, message):
    responses.add(responses.GET, BASE + "/envs", status=400, json=body, headers={"x-request-id": "req-e"})
    api, _delays = make_client(retries=0)
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    assert caught.value.status == 400
    assert caught.value.error_code == code
    assert caught.value.error_msg == message
    assert caught.value.request_id == "req-e"


@pytest.mark.parametrize("status,text", [
    (502, "<html><body>Bad Gateway</body></html>"),
    (400, "[1, 2]"),
    (403, "{\"unrelated\": 1}"),
])
@responses.activate
def test_error_body_fallbacks(status, text):
    responses.add(responses.GET, BASE + "/envs", status=status, body=text)
    api, _delays = make_client(retries=0)
    with pytest.raises(client.ApigError) as caught:
        api.call("GET", "/envs")
    assert caught.value.status == status
    assert caught.value.error_code == str(status)
    assert caught.value.error_msg == text
    assert caught.value.request_id is None


@responses.activate
def test_success_bodies():
    responses.add(responses.POST, BASE + "/apis/action", status=204)
    responses.add(responses.GET, BASE + "/envs", status=200, body="not json", headers={"X-Request-Id": "req-t"})
    api, _delays = make_client()
    assert api.call("POST", "/apis/action", body={"action": "online"}, kind=client.WRITE) == {}
    with pytest.raises(client.ApigError, match="not JSON") as caught:
        api.call("GET", "/envs")
    assert caught.value.status == 200
    assert caught.value.request_id == "req-t"


# -- paging ------------------------------------------------------------------------------------------

def page_callback(items, key, cap=None):
    """A list endpoint over ``items`` honouring offset/limit (capped at ``cap`` per page like a server)."""
    def callback(request):
        query = dict(parse_qsl(urlsplit(request.url).query))
        offset, limit = int(query["offset"]), int(query["limit"])
        if cap:
            limit = min(limit, cap)
        chunk = items[offset:offset + limit]
        return 200, {}, json.dumps({"total": len(items), "size": len(chunk), key: chunk})
    return callback


@responses.activate
def test_paging_walks_until_total():
    items = [{"id": "api-%04d" % i} for i in range(1100)]
    responses.add_callback(responses.GET, BASE + "/apis", callback=page_callback(items, "apis"))
    api, _delays = make_client()
    assert api.list_all("/apis", "apis", {"group_id": "g 1", "name": None}) == items
    queries = [dict(parse_qsl(wire_query(call))) for call in responses.calls]
    assert queries == [{"group_id": "g 1", "limit": "500", "offset": str(offset)} for offset in (0, 500, 1000)]
    assert wire_query(responses.calls[0]) == "group_id=g%201&limit=500&offset=0"


@responses.activate
def test_paging_follows_a_server_smaller_page():
    items = [{"id": str(i)} for i in range(45)]
    responses.add_callback(responses.GET, BASE + "/envs", callback=page_callback(items, "envs", cap=20))
    api, _delays = make_client()
    assert api.list_all("/envs", "envs") == items
    assert [dict(parse_qsl(wire_query(call)))["offset"] for call in responses.calls] == ["0", "20", "40"]


@responses.activate
def test_paging_stops_on_an_empty_page():
    def page(request):
        # Answer by offset: concurrent page reads arrive in any order.
        offset = int(dict(parse_qsl(request.url.split("?", 1)[1]))["offset"])
        items = {0: [{"id": "a"}, {"id": "b"}], 2: []}.get(offset, [{"id": "never"}])
        return 200, {}, json.dumps({"total": 900, "size": len(items), "envs": items})

    responses.add_callback(responses.GET, BASE + "/envs", callback=page)
    api, _delays = make_client()
    assert api.list_all("/envs", "envs") == [{"id": "a"}, {"id": "b"}]
    # Pages after the first are read in concurrent windows: at most one window is read past the end.
    assert len(responses.calls) <= 1 + client.MAX_CONCURRENCY


@responses.activate
def test_pages_after_the_first_are_read_concurrently_and_kept_in_order():
    import threading
    import time as clock
    threads = set()

    def page(request):
        threads.add(threading.get_ident())
        offset = int(dict(parse_qsl(request.url.split("?", 1)[1]))["offset"])
        clock.sleep(0.05)
        items = [{"id": "e%04d" % number} for number in range(offset, min(offset + 500, 2200))]
        return 200, {}, json.dumps({"total": 2200, "size": len(items), "envs": items})

    responses.add_callback(responses.GET, BASE + "/envs", callback=page)
    api, _delays = make_client()
    found = api.list_all("/envs", "envs")
    assert [item["id"] for item in found] == ["e%04d" % number for number in range(2200)]
    assert len(responses.calls) == 5 and len(threads) > 1


@responses.activate
def test_paging_without_total_walks_to_an_empty_page():
    # A server may cap its pages below the limit asked for: a short page does not end the walk.
    responses.add(responses.GET, BASE + "/envs", json={"envs": [{"id": "a"}, {"id": "b"}]})
    responses.add(responses.GET, BASE + "/envs", json={"envs": [{"id": "c"}]})
    responses.add(responses.GET, BASE + "/envs", json={"envs": []})
    api, _delays = make_client()
    assert api.list_all("/envs", "envs") == [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    assert [dict(parse_qsl(wire_query(call)))["offset"] for call in responses.calls] == ["0", "2", "3"]


@responses.activate
def test_paging_stops_when_the_server_ignores_offset():
    responses.add(responses.GET, BASE + "/envs", json={"envs": [{"id": "a"}]})
    api, _delays = make_client()
    assert api.list_all("/envs", "envs") == [{"id": "a"}]
    assert len(responses.calls) == 2


@responses.activate
def test_paging_drops_items_repeated_across_pages():
    responses.add(responses.GET, BASE + "/envs", json={"total": 3, "envs": [{"id": "a"}, {"id": "b"}]})
    responses.add(responses.GET, BASE + "/envs", json={"total": 3, "envs": [{"id": "b"}]})
    api, _delays = make_client()
    assert api.list_all("/envs", "envs") == [{"id": "a"}, {"id": "b"}]


# -- transport settings ------------------------------------------------------------------------------

class RecordingSession(requests.Session):
    """A real session that records the keyword arguments each request is made with."""

    def __init__(self):
        super(RecordingSession, self).__init__()
        self.recorded = []

    def request(self, method, url, **kwargs):
        self.recorded.append(kwargs)
        return super(RecordingSession, self).request(method, url, **kwargs)


@pytest.mark.parametrize("settings,verify", [
    ({}, True),
    ({"validate_certs": False}, False),
    ({"ca_path": "/etc/pki/private-ca.pem"}, "/etc/pki/private-ca.pem"),
    ({"validate_certs": False, "ca_path": "/etc/pki/private-ca.pem"}, False),
])
@responses.activate
def test_timeout_and_verify_reach_the_session(settings, verify):
    responses.add(responses.GET, BASE + "/envs", json={})
    session = RecordingSession()
    api, _delays = make_client(timeout=17, session=session, **settings)
    api.call("GET", "/envs")
    assert len(session.recorded) == 1
    assert session.recorded[0]["timeout"] == 17
    assert session.recorded[0]["verify"] == verify
    assert session.recorded[0]["stream"] is False
    adapter_kwargs = responses.calls[0].request.req_kwargs
    assert adapter_kwargs["timeout"] == 17
    if verify is not True:  # True may be replaced by a CA bundle from the environment
        assert adapter_kwargs["verify"] == verify


def test_one_session_and_no_redirects():
    recorded = []

    class Session(object):
        def request(self, method, url, **kwargs):
            recorded.append((method, url, kwargs))
            response = requests.Response()
            response.status_code = 200
            response._content = b'{"ok": 1}'
            return response

    session = Session()
    api = client.ApigClient(ENDPOINT, PROJECT, INSTANCE, "apig", client.TokenAuth("t"), timeout=9, session=session)
    assert api.call("GET", "/envs", query={"name": "RELEASE"}) == {"ok": 1}
    assert api.call("GET", "/envs") == {"ok": 1}
    assert api.session is session
    assert [(method, url) for method, url, _kwargs in recorded] == [
        ("GET", BASE + "/envs?name=RELEASE"), ("GET", BASE + "/envs")]
    for _method, _url, kwargs in recorded:
        assert kwargs["timeout"] == 9
        assert kwargs["allow_redirects"] is False
        assert kwargs["verify"] is True
    default = client.ApigClient(ENDPOINT, PROJECT, INSTANCE, "apig", client.TokenAuth("t"))
    assert isinstance(default.session, requests.Session)
    assert default.timeout == 30
    assert default.retry.retries == 5


@responses.activate
def test_tls_failure_is_not_retried_and_names_ca_path():
    responses.add(responses.GET, re.compile(r".*/envs.*"), body=requests.exceptions.SSLError("self-signed certificate"))
    rest, delays = make_client(retries=3)
    with pytest.raises(client.ApigError) as raised:
        rest.call("GET", "/envs")
    assert len(responses.calls) == 1 and delays == []
    assert "ca_path" in str(raised.value) and not raised.value.maybe_applied


@responses.activate
def test_tls_error_while_reading_a_write_answer_is_ambiguous():
    # The request went out; the TLS session broke while the answer came back: maybe applied.
    responses.add(responses.POST, re.compile(r".*/apis/publish.*"),
                  body=requests.exceptions.SSLError("EOF occurred in violation of protocol (_ssl.c:2427)"))
    rest, delays = make_client(retries=3)
    with pytest.raises(client.ApigError) as raised:
        rest.call("POST", "/apis/publish", body={"apis": ["a"]}, kind=client.WRITE)
    assert raised.value.maybe_applied and len(responses.calls) == 1 and delays == []


@responses.activate
def test_certificate_failure_on_a_write_says_what_to_set():
    responses.add(responses.POST, re.compile(r".*/apis/publish.*"), body=requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain"))
    rest, _delays = make_client(retries=3)
    with pytest.raises(client.ApigError) as raised:
        rest.call("POST", "/apis/publish", body={"apis": ["a"]}, kind=client.WRITE)
    assert not raised.value.maybe_applied and "ca_path" in str(raised.value) and "validate_certs" in str(raised.value)
    assert len(responses.calls) == 1


@responses.activate
def test_refused_fixed_token_says_it_expired_and_is_not_retried():
    responses.add(responses.GET, re.compile(r".*/async-tasks/.*"), status=401,
                  json={"error_code": "APIG.1002", "error_msg": "Incorrect token or token resolution failed"})
    policy = client.RetryPolicy(5, sleep=lambda seconds: None)
    rest = client.ApigClient("https://apig.example.test", "p1", "i1", "apig", client.TokenAuth("tok"),
                             retry_policy=policy)
    with pytest.raises(client.ApigError, match="auth_token was refused"):
        rest.call("GET", rest.path("async-tasks", "t1"))
    assert len(responses.calls) == 1


@responses.activate
def test_write_answer_that_is_empty_is_ambiguous_only_when_a_body_is_needed():
    responses.add(responses.POST, re.compile(r".*/apis/publish.*"), status=200, body="")
    rest, _delays = make_client()
    with pytest.raises(client.ApigError) as raised:
        rest.call("POST", "/apis/publish", body={}, kind=client.WRITE, require_body=True)
    assert raised.value.maybe_applied
    assert rest.call("POST", "/apis/publish", body={}, kind=client.WRITE) == {}
