# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SDK-HMAC-SHA256 signing: the contract's fixed vectors and byte-for-byte agreement with the SDK signer."""

import copy
import datetime
import hashlib
import json
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.hwc.apig.plugins.module_utils import signer

from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

AK = "PROBEAK1234567890ABC"
SK = "probeSecretKey0123456789abcdefghijklmnop"
DATE = "20240102T030405Z"
HOST = "apig.cn-north-4.myhuaweicloud.com"
UA = "huaweicloud-usdk-python/3.0; sdk-probe"
PROJECT = "0123456789abcdef0123456789abcdef"
INSTANCE = "eddc4d25480b4cd6b512f270a1b8b341"

# Contract section 10.1, deterministic vector.
VECTOR_PATH = "/v2/%s/apigw/instances/%s/apis/publish" % (PROJECT, INSTANCE)
VECTOR_BODY = b'{"apis": ["api-1"], "env_id": "DEFAULT_ENVIRONMENT_RELEASE_ID"}'
VECTOR_SIGNED_HEADERS = "content-type;host;user-agent;x-project-id;x-sdk-date"
VECTOR_SIGNATURE = "f23cd6cdd88129ec5c064e5fa0dfad3c2e0d6913826f5e016491b397c89c3e9c"
VECTOR_CANONICAL_REQUEST = "\n".join([
    "POST",
    VECTOR_PATH + "/",
    "action=offline",
    "content-type:application/json;charset=utf-8",
    "host:" + HOST,
    "user-agent:" + UA,
    "x-project-id:" + PROJECT,
    "x-sdk-date:" + DATE,
    "",
    VECTOR_SIGNED_HEADERS,
    "c209217bc104a3f62bdefd34f03056e9fb4568bf43b4dd7f4ef6f35694b8c740",
])


def authorization(signed_headers, signature, access_key=AK):
    return "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (access_key, signed_headers, signature)


def vector_headers():
    return {
        "User-Agent": UA,
        "Content-Type": "application/json;charset=utf-8",
        "X-Project-Id": PROJECT,
        "X-Sdk-Date": DATE,
        "Host": HOST,
    }


def sdk_sign(method, host, path, query, headers, body, access_key=AK, secret_key=SK):
    """Sign with the official SDK signer; return (headers, uri). Inputs are copied (the SDK mutates them)."""
    request = SdkRequest(
        method=method, schema="https", host=host, resource_path=path,
        # The SDK client drops None query values before signing (Client._post_process_params).
        query_params=[(k, copy.deepcopy(v)) for k, v in query if v is not None],
        header_params=dict(headers), body=copy.deepcopy(body))
    signed = Signer(SimpleNamespace(ak=access_key, sk=secret_key)).sign(request)
    return signed.header_params, signed.uri


# -- the fixed vectors ---------------------------------------------------------------------------------

def test_contract_vector_authorization():
    headers = vector_headers()
    original = dict(headers)
    signed, query = signer.sign("POST", HOST, VECTOR_PATH, [("action", "offline")], headers, VECTOR_BODY, AK, SK)
    assert signed["Authorization"] == authorization(VECTOR_SIGNED_HEADERS, VECTOR_SIGNATURE)
    assert query == "action=offline"
    assert headers == original, "sign() must not change the caller's dict"
    for name, value in original.items():
        assert signed[name] == value


def test_contract_vector_canonical_parts():
    # The canonical request and string to sign of the contract hash to the values it prints.
    digest = hashlib.sha256(VECTOR_CANONICAL_REQUEST.encode("utf-8")).hexdigest()
    assert digest == "87094464a00599c0153a16f7cc91fe6945698e0d19eeab44c0c13674026fc1f1"
    lines = VECTOR_CANONICAL_REQUEST.split("\n")
    assert signer.canonical_uri(VECTOR_PATH) == lines[1]
    assert signer.canonical_query([("action", "offline")]) == lines[2]
    assert signer.payload_hash(VECTOR_BODY, vector_headers()) == lines[-1]
    assert signer.payload_hash(VECTOR_BODY.decode("utf-8"), vector_headers()) == lines[-1]


def test_contract_vector_date_from_now_and_host_from_argument():
    headers = vector_headers()
    del headers["X-Sdk-Date"]
    del headers["Host"]
    now = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    signed, _query = signer.sign("post", HOST, VECTOR_PATH, {"action": "offline"}, headers, VECTOR_BODY, AK, SK,
                                 now=now)
    assert signed["X-Sdk-Date"] == DATE
    assert signed["Host"] == HOST
    assert signed["Authorization"] == authorization(VECTOR_SIGNED_HEADERS, VECTOR_SIGNATURE)


def test_contract_vector_matches_sdk_signer():
    sdk_headers, sdk_uri = sdk_sign("POST", HOST, VECTOR_PATH, [("action", "offline")], vector_headers(),
                                    VECTOR_BODY)
    assert sdk_headers["Authorization"] == authorization(VECTOR_SIGNED_HEADERS, VECTOR_SIGNATURE)
    assert sdk_uri == VECTOR_PATH + "?action=offline"


def test_sdk_date_format():
    assert signer.sdk_date(datetime.datetime(2031, 12, 9, 23, 5, 1)) == "20311209T230501Z"
    assert len(signer.sdk_date()) == 16


# Appendix A, section 14: (method, path, query, headers, body, signed headers, signature, expected uri)
SECTION_14 = {
    "octet-stream-unsigned-payload": (
        "POST", "/v2/p/apigw/instances/i/openapi/import", [],
        {"Content-Type": "application/octet-stream", "X-Sdk-Date": DATE}, b"\x00\x01binary\xff",
        "content-type;host;x-sdk-content-sha256;x-sdk-date",
        "cf54da61e355be62a24f7f752509a02fedfc288aec50189dedfbfbe875fd824d",
        "/v2/p/apigw/instances/i/openapi/import"),
    "multipart-empty-body": (
        "POST", "/v2/p/x", [],
        {"Content-Type": "multipart/form-data", "X-Sdk-Date": DATE}, b"",
        "content-type;host;x-sdk-content-sha256;x-sdk-date",
        "1ba699cc7f592c55da11f6b0c95b3b181b2d87e4e4cd1da52a16dd29954731e8",
        "/v2/p/x"),
    "underscore-padding-security-token": (
        "GET", "/v2/p/apigw/instances/i/envs", [("name", "RELEASE"), ("limit", 500), ("flag", True), ("a", "x y")],
        {"Content-Type": "application/json", "X_Custom_Header": "  skip-me  ", "X-Trailing": "  padded \t",
         "X-Security-Token": "tok", "X-Sdk-Date": DATE}, b"",
        "content-type;host;x-sdk-date;x-security-token;x-trailing",
        "df517e06b74210550ed395a80aefc268990fcdc85b51a2ab04963a16952b59b8",
        "/v2/p/apigw/instances/i/envs?a=x%20y&flag=true&limit=500&name=RELEASE"),
    "encoded-path-delete": (
        "DELETE", "/v2/p/apigw/instances/i/apis/versions/v%20%C3%A9", [],
        {"Content-Type": "application/json", "X-Sdk-Date": DATE}, None,
        "content-type;host;x-sdk-date",
        "a5569c1b38a132f9d80f10c0ad35c72488d7af6f4ad9383dd6c8b497fcf06f34",
        "/v2/p/apigw/instances/i/apis/versions/v%20%C3%A9"),
}


@pytest.mark.parametrize("name", sorted(SECTION_14))
def test_appendix_vectors(name):
    method, path, query, headers, body, signed_headers, signature, uri = SECTION_14[name]
    signed, query_string = signer.sign(method, HOST, path, query, headers, body, AK, SK)
    assert signed["Authorization"] == authorization(signed_headers, signature)
    assert path + ("?" + query_string if query_string else "") == uri
    assert signed["Host"] == HOST
    # The SDK signer itself agrees, header for header.
    sdk_headers, sdk_uri = sdk_sign(method, HOST, path, query, headers, body)
    assert sdk_headers["Authorization"] == authorization(signed_headers, signature)
    assert sdk_uri == uri
    assert signed == sdk_headers


def test_unsigned_payload_marker_and_hash():
    headers = {"Content-Type": "application/octet-stream", "X-Sdk-Date": DATE, "Host": HOST}
    signed, _query = signer.sign("PUT", HOST, "/a", [], headers, b"data", AK, SK)
    assert signed["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert signer.payload_hash(b"data", signed) == "UNSIGNED-PAYLOAD"
    # The empty-body hash wins over the marker.
    assert signer.payload_hash(b"", signed) == signer.EMPTY_BODY_SHA256
    # JSON and BSON bodies are hashed, with no marker.
    for content_type in ("application/json", "application/json;charset=utf-8", "application/bson"):
        signed, _query = signer.sign("PUT", HOST, "/a", [], dict(headers, **{"Content-Type": content_type}),
                                     b"data", AK, SK)
        assert "X-Sdk-Content-Sha256" not in signed
        assert signer.payload_hash(b"data", signed) == hashlib.sha256(b"data").hexdigest()


def test_underscore_header_not_signed_but_sent_stripped():
    headers = {"Content-Type": "application/json", "X_Trace_Id": "  t-1  ", "X-Sdk-Date": DATE, "Host": HOST}
    signed, _query = signer.sign("GET", HOST, "/a", [], headers, None, AK, SK)
    assert "SignedHeaders=content-type;host;x-sdk-date," in signed["Authorization"]
    assert signed["X_Trace_Id"] == "t-1"


def test_non_ascii_header_value_sent_as_utf8_bytes():
    headers = {"Content-Type": "application/json", "X-Remark": " r\u00e9sum\u00e9 \u53d1\u5e03 ", "X-Sdk-Date": DATE,
               "Host": HOST}
    signed, _query = signer.sign("GET", HOST, "/a", [], headers, None, AK, SK)
    # requests encodes str header values as Latin-1, so this puts the UTF-8 bytes on the wire.
    assert signed["X-Remark"].encode("iso-8859-1") == "r\u00e9sum\u00e9 \u53d1\u5e03".encode("utf-8")
    assert signed == sdk_sign("GET", HOST, "/a", [], headers, None)[0]


def test_canonical_uri_rules():
    assert signer.canonical_uri("/a/b") == "/a/b/"
    assert signer.canonical_uri("/a/b/") == "/a/b/"
    assert signer.canonical_uri("/v 1/\u00e9~x") == "/v%201/%C3%A9~x/"
    assert signer.canonical_uri("/a%2Fb") == "/a/b/"  # an encoded slash becomes a separator
    assert signer.canonical_uri("/a+b=c") == "/a%2Bb%3Dc/"


def test_canonical_query_rules():
    assert signer.canonical_query(None) == ""
    assert signer.canonical_query([]) == ""
    assert signer.canonical_query({"b": None, "a": 1}) == "a=1"
    assert signer.canonical_query([("flag", False), ("on", True)]) == "flag=false&on=true"
    assert signer.canonical_query([("k", "a&b=c d~")]) == "k=a%26b%3Dc%20d~"
    assert signer.canonical_query([("k", ["b", "a"])]) == "k=a&k=b"
    # Raw sort, not encoded sort: "\u00e9" sorts after "z" raw, although "%C3%A9" would sort first.
    assert signer.canonical_query([("\u00e9", 1), ("z", 2)]) == "z=2&%C3%A9=1"


def test_canonical_query_lists_sort_as_sent():
    """Where the SDK is not self-consistent, the pairs are ordered as a verifier re-sorting the query sees them.

    The SDK orders list items by their Python value (9 before 10) and renders bools inside lists as
    ``True``; a server that parses and re-sorts the query would see ``10`` before ``9``. The collection
    sorts the rendered strings, so the order it signs is the order any verifier rebuilds.
    """
    assert signer.canonical_query([("k", [9, 10])]) == "k=10&k=9"
    assert signer.canonical_query([("k", [True, False])]) == "k=false&k=true"
    assert signer.canonical_query([("a", 10), ("a", 9)]) == "a=10&a=9"


def test_mixed_case_content_type_follows_sdk():
    # The SDK looks for the exact "Content-Type" key when deciding on the unsigned-payload marker.
    headers = {"content-type": "application/octet-stream", "X-Sdk-Date": DATE, "Host": HOST}
    signed, _query = signer.sign("POST", HOST, "/a", [], headers, b"\x00", AK, SK)
    assert "X-Sdk-Content-Sha256" not in signed
    assert signed == sdk_sign("POST", HOST, "/a", [], headers, b"\x00")[0]


# -- generated requests against the SDK signer --------------------------------------------------------

PATH_PIECES = list("abzAZ09-._~%+=&?@:;,! ") + [
    "\u00e9", "\u4e2d", "%20", "%2F", "%2f", "%C3%A9", "%zz", "%", "%25", "{x}", "'", "*"]
QUERY_CHARS = list("abzAZ09-._~ &=+%/?#") + ["\u00e9", "\u4e2d", "\U0001f600"]
NAME_CHARS = list("abcxyzABCXYZ019-_")
RESERVED = {"content-type", "host", "x-sdk-date", "authorization", "x-sdk-content-sha256"}

segments = st.lists(st.sampled_from(PATH_PIECES), max_size=6).map("".join)
paths = st.builds(
    lambda parts, slash: "/" + "/".join(parts) + ("/" if slash else ""),
    st.lists(segments, min_size=1, max_size=5), st.booleans())
query_text = st.lists(st.sampled_from(QUERY_CHARS), max_size=8).map("".join)
scalar_values = st.one_of(query_text, st.integers(-10 ** 12, 10 ** 12), st.booleans(), st.none())
query_values = st.one_of(scalar_values, st.lists(query_text, max_size=4))
header_values = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12).flatmap(
    lambda text: st.builds(lambda left, right: left + text + right,
                           st.sampled_from(["", " ", "  ", "\t"]), st.sampled_from(["", " ", " \t "])))


@st.composite
def query_params(draw):
    # Keys are unique except in a separate namespace whose values are all strings (the SDK sorts raw
    # tuples, so repeated keys with values of different types would not even sort there).
    unique = draw(st.dictionaries(query_text.filter(lambda k: k and not k.startswith("dup")), query_values,
                                  max_size=5))
    repeated = draw(st.lists(st.tuples(st.sampled_from(["dup", "dup2"]), query_text), max_size=3))
    pairs = list(unique.items()) + repeated
    return draw(st.permutations(pairs))


@st.composite
def header_dicts(draw):
    headers = {}
    seen = set()
    for name in draw(st.lists(st.lists(st.sampled_from(NAME_CHARS), min_size=1, max_size=10).map("".join),
                              max_size=5)):
        name = draw(st.sampled_from(["", " "])) + name + draw(st.sampled_from(["", " "]))
        if name.lower() in seen or name.strip().lower() in RESERVED:
            continue
        seen.add(name.lower())
        headers[name] = draw(header_values)
    return headers


def spell(name, draw):
    return draw(st.sampled_from([name, name.lower(), name.upper()]))


@st.composite
def requests_to_sign(draw):
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "get"]))
    host = draw(st.sampled_from([HOST, "roma.cn-north-4.myhuaweicloud.com", "127.0.0.1:8443", "[::1]:9999"]))
    date = draw(st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2099, 12, 31))).strftime(
        "%Y%m%dT%H%M%SZ")
    headers = draw(header_dicts())
    headers[spell("X-Sdk-Date", draw)] = date
    headers[spell("Host", draw)] = host
    kind = draw(st.sampled_from(["none", "json", "octet", "multipart", "text"]))
    if kind == "none":
        body = draw(st.sampled_from([None, b"", ""]))
        content_type = draw(st.sampled_from([None, "application/json", "application/octet-stream"]))
    elif kind == "json":
        document = draw(st.dictionaries(query_text, st.one_of(query_text, st.integers()), max_size=4))
        body = json.dumps(document)
        body = draw(st.sampled_from([body, body.encode("utf-8")]))
        content_type = draw(st.sampled_from(["application/json;charset=utf-8", "application/json"]))
    else:
        body = draw(st.binary(max_size=64))
        content_type = {"octet": "application/octet-stream", "multipart": "multipart/form-data; boundary=b",
                        "text": "text/plain"}[kind]
    if content_type is not None:
        headers[draw(st.sampled_from(["Content-Type", "Content-Type", "content-type"]))] = content_type
    if draw(st.booleans()):
        headers["X-Project-Id"] = draw(st.sampled_from([PROJECT, " %s " % PROJECT]))
    if draw(st.booleans()):
        headers["X-Security-Token"] = draw(st.text(st.sampled_from("abcXYZ019+/="), max_size=40))
    ordered = draw(st.permutations(list(headers.items())))
    access_key = draw(st.text(st.sampled_from("ABCXYZ0189"), min_size=1, max_size=20))
    secret_key = draw(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
    return method, host, draw(paths), draw(query_params()), dict(ordered), body, access_key, secret_key


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests_to_sign())
def test_matches_sdk_signer(request_to_sign):
    method, host, path, query, headers, body, access_key, secret_key = request_to_sign
    sdk_headers, sdk_uri = sdk_sign(method, host, path, query, headers, body, access_key, secret_key)
    ours, query_string = signer.sign(method, host, path, copy.deepcopy(query), headers, body, access_key, secret_key)
    assert ours["Authorization"] == sdk_headers["Authorization"]
    assert path + ("?" + query_string if query_string else "") == sdk_uri
    # Every header sent, with its exact value, is the SDK's.
    assert ours == sdk_headers


@settings(max_examples=100, deadline=None)
@given(paths)
def test_canonical_uri_matches_sdk(path):
    request = SdkRequest(method="GET", resource_path=path, query_params=[], header_params={})
    assert signer.canonical_uri(path) == Signer._process_canonical_uri(Signer(SimpleNamespace(ak="a", sk="b")),
                                                                       request)


@settings(max_examples=100, deadline=None)
@given(query_params())
def test_canonical_query_matches_sdk(query):
    request = SdkRequest(query_params=[(k, copy.deepcopy(v)) for k, v in query if v is not None])
    assert signer.canonical_query(query) == Signer.process_canonical_query_string(request)
