"""Signature verification against the documented vectors, request-time checks and IAM tokens."""

from datetime import datetime, timedelta, timezone

import pytest
import requests
from apig_emulator import auth, testing
from werkzeug.datastructures import Headers

PROBE_SK = "probeSecretKey0123456789abcdefghijklmnop"


def _signature(method, path, query, headers, body):
    lower = Headers(headers)
    signed = sorted(name.lower() for name in headers if "_" not in name)
    return auth.signature(PROBE_SK, method, path, query, lower, signed, body)


def test_documented_vector():
    """Contract section 10.1: the deterministic test vector from the SDK probe."""
    headers = {
        "Content-Type": "application/json;charset=utf-8",
        "Host": "apig.cn-north-4.myhuaweicloud.com",
        "User-Agent": "huaweicloud-usdk-python/3.0; sdk-probe",
        "X-Project-Id": "0123456789abcdef0123456789abcdef",
        "X-Sdk-Date": "20240102T030405Z",
    }
    body = b'{"apis": ["api-1"], "env_id": "DEFAULT_ENVIRONMENT_RELEASE_ID"}'
    path = "/v2/0123456789abcdef0123456789abcdef/apigw/instances/eddc4d25480b4cd6b512f270a1b8b341/apis/publish"
    assert _signature("POST", path, "action=offline", headers, body) == (
        "f23cd6cdd88129ec5c064e5fa0dfad3c2e0d6913826f5e016491b397c89c3e9c")


@pytest.mark.parametrize("method, path, query, headers, body, expected", [
    ("POST", "/v2/p/apigw/instances/i/openapi/import", "",
     {"Content-Type": "application/octet-stream", "X-Sdk-Date": "20240102T030405Z",
      "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD", "Host": "apig.cn-north-4.myhuaweicloud.com"}, b"not json",
     "cf54da61e355be62a24f7f752509a02fedfc288aec50189dedfbfbe875fd824d"),
    ("POST", "/v2/p/x", "",
     {"Content-Type": "multipart/form-data", "X-Sdk-Date": "20240102T030405Z",
      "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD", "Host": "apig.cn-north-4.myhuaweicloud.com"}, b"",
     "1ba699cc7f592c55da11f6b0c95b3b181b2d87e4e4cd1da52a16dd29954731e8"),
    ("GET", "/v2/p/apigw/instances/i/envs", "name=RELEASE&limit=500&flag=true&a=x%20y",
     {"Content-Type": "application/json", "X_Custom_Header": "skip-me", "X-Trailing": "  padded  ",
      "X-Security-Token": "tok", "X-Sdk-Date": "20240102T030405Z", "Host": "apig.cn-north-4.myhuaweicloud.com"},
     b"", "df517e06b74210550ed395a80aefc268990fcdc85b51a2ab04963a16952b59b8"),
    ("DELETE", "/v2/p/apigw/instances/i/apis/versions/v%20%C3%A9", "",
     {"Content-Type": "application/json", "X-Sdk-Date": "20240102T030405Z",
      "Host": "apig.cn-north-4.myhuaweicloud.com"}, b"",
     "a5569c1b38a132f9d80f10c0ad35c72488d7af6f4ad9383dd6c8b497fcf06f34"),
])
def test_documented_edge_vectors(method, path, query, headers, body, expected):
    """Contract appendix, probe section 14: unsigned payload, empty body, underscores, padding, encoding."""
    assert _signature(method, path, query, headers, body) == expected


def test_canonical_parts():
    assert auth.canonical_uri("/a/b%20c/%C3%A9") == "/a/b%20c/%C3%A9/"
    assert auth.canonical_uri("/a/") == "/a/"
    assert auth.canonical_query("b=2&a=%2F&a=1&empty=") == "a=%2F&a=1&b=2&empty="
    assert auth.payload_hash(b"", {}) == auth.EMPTY_SHA256


def test_headers_added_after_signing_are_ignored(apig):
    url = f"{apig.url}{apig.base}/envs"
    headers = testing.sign_headers("GET", url, testing.TEST_AK, testing.TEST_SK)
    headers.update({"Accept": "*/*", "X-Extra": "not signed"})
    assert requests.get(url, headers=headers, timeout=10).status_code == 200


def test_tampering_is_detected(apig):
    url = f"{apig.url}{apig.base}/apis/publish?action=online"
    body = b'{"apis": ["3a955b791bd24b1c9cd94c745f8d1aad"], "env_id": "DEFAULT_ENVIRONMENT_RELEASE_ID"}'
    headers = testing.sign_headers("POST", url, testing.TEST_AK, testing.TEST_SK, body)
    tampered = requests.post(url.replace("online", "offline"), data=body, headers=headers, timeout=10)
    assert (tampered.status_code, tampered.json()["error_code"]) == (401, "APIG.1002")
    assert requests.post(url, data=body + b" ", headers=headers, timeout=10).status_code == 401
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200


def test_encoded_paths_and_queries_verify_emulator_choice(apig):
    """Signatures cover the path as sent (percent-encoded UTF-8) and the canonical query.

    The 404 `APIG.3022` answer for an unknown version and its wording are the emulator's own choice."""
    missing = apig.get("/apis/versions/v%20%C3%A9")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "APIG.3022")
    assert missing.json()["error_msg"].endswith("v é")
    listing = apig.get("/apis", name="my api/é~x", precise_search="name", limit=500)
    assert (listing.status_code, listing.json()["total"]) == (200, 0)
    spaced = apig.get("/apis", name="get pet")
    assert spaced.status_code == 200


def test_old_signature_date_is_refused(apig):
    url = f"{apig.url}{apig.base}/envs"
    headers = testing.sign_headers("GET", url, testing.TEST_AK, testing.TEST_SK)
    stale = (datetime.now(timezone.utc) - timedelta(minutes=16)).strftime("%Y%m%dT%H%M%SZ")
    headers["X-Sdk-Date"] = stale
    lower = {k.lower(): v for k, v in headers.items()}
    names = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    signature = auth.signature(testing.TEST_SK, "GET", f"{apig.base}/envs", "", lower, names, b"")
    headers["Authorization"] = headers["Authorization"].rsplit("Signature=", 1)[0] + f"Signature={signature}"
    response = requests.get(url, headers=headers, timeout=10)
    assert (response.status_code, response.json()["error_code"]) == (401, "APIG.1002")


def test_missing_credentials_are_401(apig):
    response = requests.get(f"{apig.url}{apig.base}/envs", timeout=10)
    assert (response.status_code, response.json()["error_code"]) == (401, "APIG.1002")


def test_temporary_credentials_need_their_security_token(make_cloud):
    cloud = make_cloud("TESTTEMPAK000000000C", "tempSecretKey0123456789abcdefghijklmnop")
    assert cloud.get("/envs").status_code == 401
    good = cloud.request("GET", "/envs", headers={"X-Security-Token": "temp-security-token-0123456789abcdef"})
    assert good.status_code == 200
    assert cloud.request("GET", "/envs", headers={"X-Security-Token": "wrong"}).status_code == 401


def test_other_project_credentials_are_403(make_cloud):
    cloud = make_cloud(testing.OTHER_AK, testing.OTHER_SK)
    response = cloud.get("/envs")
    assert response.status_code == 403
    assert response.json() == {"error_code": "APIG.1005", "error_msg": "No permissions to request this method"}


def _token_body(password=testing.TEST_USER["password"], scope=None):
    user = {"domain": {"name": testing.TEST_USER["domain_name"]}, "name": testing.TEST_USER["name"],
            "password": password}
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                     "scope": scope or {"project": {"name": testing.TEST_REGION}}}}


def test_token_lifecycle(fresh):
    issued = requests.post(f"{fresh.url}/v3/auth/tokens", json=_token_body(), timeout=10)
    assert issued.status_code == 201
    token = issued.headers["X-Subject-Token"]
    body = issued.json()["token"]
    assert body["project"]["id"] == testing.TEST_PROJECT_ID and body["catalog"]
    assert body["expires_at"].endswith("Z")
    envs = f"{fresh.url}/v2/{testing.TEST_PROJECT_ID}/apigw/instances/{testing.APIG_INSTANCE_ID}/envs"
    assert requests.get(envs, headers={"X-Auth-Token": token}, timeout=10).status_code == 200
    assert requests.get(envs, headers={"X-Auth-Token": token + "x"}, timeout=10).status_code == 401
    fresh.control.expire_tokens()
    assert requests.get(envs, headers={"X-Auth-Token": token}, timeout=10).status_code == 401


def test_token_ttl_and_scopes(fresh):
    fresh.control.settings(token_ttl_seconds=0)
    token = requests.post(f"{fresh.url}/v3/auth/tokens?nocatalog=true", json=_token_body(),
                          timeout=10).headers["X-Subject-Token"]
    envs = f"{fresh.url}/v2/{testing.TEST_PROJECT_ID}/apigw/instances/{testing.APIG_INSTANCE_ID}/envs"
    assert requests.get(envs, headers={"X-Auth-Token": token}, timeout=10).status_code == 401

    fresh.control.settings(token_ttl_seconds=60)
    by_id = requests.post(f"{fresh.url}/v3/auth/tokens",
                          json=_token_body(scope={"project": {"id": testing.TEST_PROJECT_ID}}), timeout=10)
    assert by_id.status_code == 201
    domain = requests.post(f"{fresh.url}/v3/auth/tokens",
                           json=_token_body(scope={"domain": {"name": testing.TEST_USER["domain_name"]}}), timeout=10)
    assert "project" not in domain.json()["token"]
    assert requests.get(envs, headers={"X-Auth-Token": domain.headers["X-Subject-Token"]},
                        timeout=10).status_code == 403
    other = requests.post(f"{fresh.url}/v3/auth/tokens",
                          json=_token_body(scope={"project": {"name": "cn-east-3"}}), timeout=10)
    assert other.status_code == 401


def test_wrong_password_keeps_the_password_out_of_the_log(fresh):
    response = requests.post(f"{fresh.url}/v3/auth/tokens", json=_token_body("guess-Passw0rd"), timeout=10)
    assert response.status_code == 401
    assert response.json()["error_msg"] == "The username or password is wrong."
    log = fresh.control.log()
    assert "guess-Passw0rd" not in str(log) and testing.TEST_USER["password"] not in str(log)
    assert log["classes"] == {"auth": 1}
