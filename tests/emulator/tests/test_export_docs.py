"""Tests for the export document renderer (APIG group export and ROMA custom backend export)."""

import copy
import json
import random
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import OpenAPIV2SpecValidator, OpenAPIV30SpecValidator, validate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apig_emulator import export_docs  # noqa: E402

DEFINES = ("spec", "proxy", "all", "dev")
OAS_VERSIONS = ("2.0", "3.0")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY")
VALIDATORS = {"2.0": OpenAPIV2SpecValidator, "3.0": OpenAPIV30SpecValidator}
POLICY_KEYS = ("x-apigateway-ratelimit", "x-apigateway-access-control")

GROUP = {
    "id": "c77f5e81d9cb4424bf704ef2b0ac7600",
    "name": "订单服务",
    "remark": "Orders group",
    "sl_domain": "c77f5e81d9cb4424bf704ef2b0ac7600.apic.example.com",
    "register_time": "2024-01-01T00:00:00Z",
    "update_time": "2024-01-01T00:00:00Z",
    "status": 1,
    "roma_app_id": None,
    "roma_app_name": None,
}


def _api(api_id, name, method, uri, **fields):
    record = {
        "id": api_id,
        "name": name,
        "group_id": GROUP["id"],
        "type": 1,
        "version": "1.0",
        "req_protocol": "HTTPS",
        "req_method": method,
        "req_uri": uri,
        "auth_type": "NONE",
        "match_mode": "NORMAL",
        "cors": False,
        "remark": "",
        "tags": [],
        "req_params": [],
        "backend_type": "MOCK",
        "backend_api": None,
        "mock_info": {"result_content": "{}"},
        "func_info": None,
        "throttle": None,
        "acl": None,
        "authorizer": None,
    }
    record.update(fields)
    return record


APIS = [
    _api(
        "a1",
        "list_orders",
        "GET",
        "/orders/{order_id}",
        auth_type="APP",
        remark="查询订单\nsecond line",
        tags=["orders"],
        req_params=[
            {"name": "order_id", "type": "STRING", "location": "PATH", "required": 1},
            {"name": "limit", "type": "NUMBER", "location": "QUERY", "required": 2},
            {"name": "X-Trace", "type": "STRING", "location": "HEADER", "required": 1},
        ],
        backend_type="HTTP",
        mock_info=None,
        backend_api={
            "req_protocol": "HTTPS",
            "req_method": "GET",
            "req_uri": "/internal/orders/{order_id}",
            "url_domain": "10.0.0.8:8443",
            "timeout": 5000,
        },
        throttle={
            "name": "orders_limit",
            "api_call_limits": 100,
            "user_call_limits": 10,
            "time_interval": 1,
            "time_unit": "SECOND",
        },
    ),
    _api(
        "a2",
        "create_order",
        "POST",
        "/orders",
        auth_type="IAM",
        req_protocol="BOTH",
        backend_type="FUNCTION",
        mock_info=None,
        func_info={"function_urn": "urn:fss:region:proj:function:default:create", "invocation_type": "sync", "timeout": 3000},
        acl={"name": "office_only", "acl_type": "PERMIT", "entity_type": "IP", "value": "10.0.0.0/8"},
    ),
    _api(
        "a3",
        "回显",
        "ANY",
        "/echo/{rest+}",
        auth_type="AUTHORIZER",
        type=2,
        match_mode="SWA",
        cors=True,
        authorizer={
            "name": "自定义认证",
            "authorizer_type": "FUNC",
            "function_urn": "urn:fss:region:proj:function:default:auth",
            "identities": [{"name": "X-Token", "location": "HEADER"}],
        },
    ),
    _api("a4", "ping", "HEAD", "/ping", req_protocol="HTTP"),
]
# (path, method key in the path item) -> operationId
EXPECTED_OPERATIONS = {
    ("/orders/{order_id}", "get"): "list_orders",
    ("/orders", "post"): "create_order",
    ("/echo/{rest+}", "x-apigateway-any-method"): "回显",
    ("/ping", "head"): "ping",
}

LD_APIS = [
    {
        "id": "ld1",
        "name": "query_users",
        "path": "/users/{dept}",
        "method": "POST",
        "description": "查询用户",
        "version": "1.0.1",
        "content_type": "json",
        "parameters": [
            {"name": "dept", "in": "Parameters", "default": None, "description": "department", "required": True},
            {"name": "page", "in": "Parameters", "default": 1, "description": "", "required": False},
            {"name": "X-Tenant", "in": "Headers", "default": "t0", "description": "", "required": True},
            {"name": "filter", "in": "Body", "default": None, "description": "where clause", "required": True},
            {"name": "fields", "in": "Body", "default": "*", "description": "", "required": False},
        ],
        "roma_app_id": "app-1",
        "roma_app_name": "crm",
        "type": "data",
        "status": 4,
        "scripts": [
            {
                "ds_id": "ds-1",
                "ds_name": "crm-db",
                "ds_type": "mysql",
                "type": "SQL",
                "object_name": None,
                "content": "c2VsZWN0ICogZnJvbSB1c2Vycw==",
                "enable_result_paging": True,
                "enable_preparestatement": True,
            }
        ],
    },
    {
        "id": "ld2",
        "name": "sum",
        "path": "/sum",
        "method": "GET",
        "description": "",
        "version": "1.0",
        "content_type": "application/json",
        "parameters": [],
        "roma_app_id": "app-1",
        "roma_app_name": "crm",
        "type": "function",
        "status": 1,
        "scripts": [],
    },
]


def _parse(raw, fmt):
    text = raw.decode("utf-8")
    return json.loads(text) if fmt == "json" else yaml.safe_load(text)


def _operations(doc):
    return {
        (path, method): operation
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    }


def _schemes(doc):
    return doc["components"]["securitySchemes"] if "openapi" in doc else doc["securityDefinitions"]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("oas_version", OAS_VERSIONS)
@pytest.mark.parametrize("define", DEFINES)
def test_group_export_is_valid_and_scoped(define, oas_version, fmt):
    raw = export_docs.render_api_export(GROUP, APIS, define, oas_version, "2024.06.01", fmt, None)
    doc = _parse(raw, fmt)
    validate(doc, cls=VALIDATORS[oas_version])

    assert doc["info"] == {"title": "订单服务", "description": "Orders group", "version": "2024.06.01"}
    operations = _operations(doc)
    assert {key: op["operationId"] for key, op in operations.items()} == EXPECTED_OPERATIONS

    with_backend = define != "spec"
    with_policies = define in ("all", "dev")
    for operation in operations.values():
        assert ("x-apigateway-backend" in operation) == with_backend
        assert {"x-apigateway-request-type", "x-apigateway-match-mode", "x-apigateway-cors"} <= operation.keys()
    if not with_policies:
        assert not any(key in op for op in operations.values() for key in POLICY_KEYS)
        assert "x-apigateway-ratelimits" not in doc and "x-apigateway-access-controls" not in doc
        assert not any("x-apigateway-authorizer" in scheme for scheme in _schemes(doc).values())
    else:
        by_id = {op["operationId"]: op for op in operations.values()}
        assert by_id["list_orders"]["x-apigateway-ratelimit"] == "orders_limit"
        assert doc["x-apigateway-ratelimits"] == {
            "orders_limit": {"api-limit": 100, "user-limit": 10, "interval": 1, "unit": "SECOND"}
        }
        assert by_id["create_order"]["x-apigateway-access-control"] == "office_only"
        assert doc["x-apigateway-access-controls"] == {
            "office_only": {"acl-type": "PERMIT", "entity-type": "IP", "value": "10.0.0.0/8"}
        }
        assert not any(key in by_id["ping"] for key in POLICY_KEYS)
        (authorizer_ref,) = by_id["回显"]["security"][0]
        authorizer = _schemes(doc)[authorizer_ref]["x-apigateway-authorizer"]
        assert authorizer["authorizer_uri"] == "urn:fss:region:proj:function:default:auth"
        assert authorizer["identities"] == [{"name": "X-Token", "location": "HEADER"}]


@pytest.mark.parametrize("oas_version", OAS_VERSIONS)
def test_group_export_frontend_details(oas_version):
    doc = json.loads(export_docs.render_api_export(GROUP, APIS, "proxy", oas_version, "1", "json", None))
    operations = _operations(doc)
    orders = operations[("/orders/{order_id}", "get")]
    assert orders["summary"] == "查询订单"
    assert orders["tags"] == ["orders"]
    params = {(p["name"], p["in"]): p for p in orders["parameters"]}
    assert params[("order_id", "path")]["required"] is True
    assert params[("limit", "query")]["required"] is False
    assert params[("X-Trace", "header")]["required"] is True
    limit_type = params[("limit", "query")]["schema"]["type"] if oas_version == "3.0" else params[("limit", "query")]["type"]
    assert limit_type == "number"
    assert orders["security"] == [{"apig-auth-app": []}]
    assert orders["x-apigateway-backend"] == {
        "type": "HTTP",
        "httpEndpoints": {
            "address": "10.0.0.8:8443",
            "scheme": "https",
            "method": "GET",
            "path": "/internal/orders/{order_id}",
            "timeout": 5000,
        },
    }
    assert set(orders["responses"]) == {"200", "default"}

    create = operations[("/orders", "post")]
    assert create["security"] == [{"apig-auth-iam": []}]
    assert create["x-apigateway-backend"]["functionEndpoints"]["function-urn"].endswith(":create")

    echo = operations[("/echo/{rest+}", "x-apigateway-any-method")]
    assert echo["x-apigateway-request-type"] == "private"
    assert echo["x-apigateway-match-mode"] == "SWA"
    assert echo["x-apigateway-cors"] is True
    assert echo["x-apigateway-backend"] == {"type": "MOCK", "mockEndpoints": {"result-content": "{}"}}
    assert [p["name"] for p in echo["parameters"]] == ["rest+"]

    ping = operations[("/ping", "head")]
    assert ping["security"] == []

    schemes = _schemes(doc)
    assert schemes["apig-auth-app"]["x-apigateway-auth-type"] == "AppSigv1"
    assert schemes["apig-auth-iam"]["x-apigateway-auth-type"] == "IAM"
    if oas_version == "2.0":
        assert doc["swagger"] == "2.0" and doc["host"] == GROUP["sl_domain"] and doc["basePath"] == "/"
        assert ping["schemes"] == ["http"] and create["schemes"] == ["http", "https"]
    else:
        assert doc["openapi"].startswith("3.0.")
        assert {server["url"] for server in doc["servers"]} == {
            f"http://{GROUP['sl_domain']}",
            f"https://{GROUP['sl_domain']}",
        }
        assert ping["servers"] == [{"url": f"http://{GROUP['sl_domain']}"}]


@pytest.mark.parametrize("oas_version", OAS_VERSIONS)
@pytest.mark.parametrize("fmt", ["json", "yaml", "yml"])
def test_group_export_is_deterministic(oas_version, fmt):
    first = export_docs.render_api_export(GROUP, copy.deepcopy(APIS), "all", oas_version, "v", fmt, None)
    again = export_docs.render_api_export(GROUP, copy.deepcopy(APIS), "all", oas_version, "v", fmt, None)
    shuffled = copy.deepcopy(APIS)
    random.Random(7).shuffle(shuffled)
    reordered = export_docs.render_api_export(GROUP, shuffled, "all", oas_version, "v", fmt, None)
    assert first == again == reordered
    if fmt != "json":
        assert b"&id" not in first  # no YAML anchors or aliases
        assert first.decode("utf-8").count("订单服务") == 1  # unicode kept as is, not escaped


def test_yml_is_yaml():
    as_yaml = export_docs.render_api_export(GROUP, APIS, "all", "2.0", "v", "yaml", None)
    assert export_docs.render_api_export(GROUP, APIS, "all", "2.0", "v", "yml", None) == as_yaml


def test_yaml_keeps_line_separator_characters():
    group = {**GROUP, "name": "a\x85b", "remark": "\u2028x\x85"}
    api = _api("n1", "nel\x85", "GET", "/nel", remark="line\x85\nnext")
    raw = export_docs.render_api_export(group, [api], "spec", "2.0", "\x85", "yaml", None)
    doc = yaml.safe_load(raw)
    assert doc["info"] == {"title": "a\x85b", "description": "\u2028x\x85", "version": "\x85"}
    assert doc["paths"]["/nel"]["get"]["description"] == "line\x85\nnext"


def test_json_output_is_indented_utf8():
    raw = export_docs.render_api_export(GROUP, APIS, "spec", "2.0", "v", "json", None)
    assert raw.startswith(b'{\n  "swagger": "2.0"')
    assert "订单服务".encode("utf-8") in raw


@pytest.mark.parametrize(
    ("define", "oas_version", "fmt"),
    [("full", "2.0", "json"), ("", "2.0", "json"), ("spec", "3.1", "json"), ("spec", "2", "json"), ("spec", "2.0", "xml")],
)
def test_invalid_arguments_raise_value_error(define, oas_version, fmt):
    with pytest.raises(ValueError):
        export_docs.render_api_export(GROUP, APIS, define, oas_version, "v", fmt, None)


def test_livedata_invalid_format_raises_value_error():
    with pytest.raises(ValueError):
        export_docs.render_livedata_export(LD_APIS, "xml", {"id": "inst"})


@pytest.mark.parametrize("oas_version", OAS_VERSIONS)
def test_duplicate_path_and_method_keeps_first(oas_version):
    first = _api("d1", "first", "GET", "/dup")
    second = _api("d2", "second", "GET", "/dup", backend_type="HTTP", mock_info=None)
    other_method = _api("d3", "first", "POST", "/dup")
    doc = json.loads(export_docs.render_api_export(GROUP, [first, second, other_method], "proxy", oas_version, "v", "json", None))
    validate(doc, cls=VALIDATORS[oas_version])
    assert doc["paths"]["/dup"]["get"]["operationId"] == "first"
    assert doc["paths"]["/dup"]["get"]["x-apigateway-backend"]["type"] == "MOCK"
    # the same name on another operation gets a suffix rather than an invalid duplicate id
    assert doc["paths"]["/dup"]["post"]["operationId"] == "first_2"


@pytest.mark.parametrize("oas_version", OAS_VERSIONS)
def test_undeclared_path_parameter_is_synthesised(oas_version):
    api = _api(
        "s1",
        "s1",
        "DELETE",
        "/items/{item_id}/tags/{tag}",
        req_params=[
            {"name": "tag", "type": "NUMBER", "location": "PATH", "required": 2, "description": "tag id"},
            {"name": "stale", "type": "STRING", "location": "PATH", "required": 1},
        ],
    )
    doc = json.loads(export_docs.render_api_export(GROUP, [api], "spec", oas_version, "v", "json", None))
    validate(doc, cls=VALIDATORS[oas_version])
    params = doc["paths"]["/items/{item_id}/tags/{tag}"]["delete"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in params] == [
        ("item_id", "path", True),
        ("tag", "path", True),
    ]
    assert params[1]["description"] == "tag id"


def test_group_without_domain_or_apis_is_still_valid():
    group = {"id": "g", "name": "empty", "remark": None, "sl_domain": None}
    for oas_version in OAS_VERSIONS:
        doc = json.loads(export_docs.render_api_export(group, [], "dev", oas_version, "v", "json", None))
        validate(doc, cls=VALIDATORS[oas_version])
        assert doc["paths"] == {}
        assert "host" not in doc


@pytest.mark.parametrize("fmt", ["json", "yaml", "yml"])
def test_livedata_export_is_valid_swagger(fmt):
    doc = _parse(export_docs.render_livedata_export(LD_APIS, fmt, {"id": "inst-1"}), fmt)
    validate(doc, cls=OpenAPIV2SpecValidator)
    assert doc["swagger"] == "2.0"
    assert doc["info"]["title"] == "crm"
    assert doc["info"]["version"]

    query = doc["paths"]["/users/{dept}"]["post"]
    assert query["operationId"] == "query_users"
    assert query["produces"] == ["application/json"]
    assert query["x-livedata-status"] == "DEPLOYED"
    assert query["x-livedata-type"] == "data"
    assert query["x-livedata-version"] == "1.0.1"
    assert query["x-livedata-roma-app"] == "crm"
    assert query["x-livedata-scripts"][0]["datasource"] == {"id": "ds-1", "name": "crm-db", "type": "mysql"}
    assert query["x-livedata-scripts"][0]["content"] == "c2VsZWN0ICogZnJvbSB1c2Vycw=="
    params = {(p["name"], p["in"]): p for p in query["parameters"]}
    assert params[("dept", "path")]["required"] is True
    assert params[("page", "query")]["default"] == "1"
    assert params[("X-Tenant", "header")]["required"] is True
    body = params[("body", "body")]["schema"]
    assert set(body["properties"]) == {"filter", "fields"} and body["required"] == ["filter"]

    plain = doc["paths"]["/sum"]["get"]
    assert plain["x-livedata-status"] == "DESIGNED" and plain["x-livedata-type"] == "function"
    assert "x-livedata-scripts" not in plain


def test_livedata_title_falls_back_to_instance():
    mixed = copy.deepcopy(LD_APIS)
    mixed[1]["roma_app_name"] = "other"
    doc = json.loads(export_docs.render_livedata_export(mixed, "json", {"id": "inst-1"}))
    assert doc["info"]["title"] == "inst-1"
    empty = json.loads(export_docs.render_livedata_export([], "json", {"id": "inst-1"}))
    validate(empty, cls=OpenAPIV2SpecValidator)


def test_livedata_version_comes_from_instance_when_given():
    raw = export_docs.render_livedata_export(LD_APIS, "json", {"id": "inst-1", "version": "2024-06-01 00:00:00"})
    assert json.loads(raw)["info"]["version"] == "2024-06-01 00:00:00"
    assert raw == export_docs.render_livedata_export(LD_APIS, "json", {"id": "inst-1", "version": "2024-06-01 00:00:00"})


# ---- property-based: any plausible API record set gives a valid document -------------------------

_unicode_names = st.text(
    alphabet=st.one_of(st.characters(categories=["L", "N"]), st.just("_")), min_size=1, max_size=12
)
_ascii_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,8}", fullmatch=True)
_literal_segments = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,6}", fullmatch=True)


@st.composite
def _api_records(draw, api_id):
    literals = draw(st.lists(_literal_segments, max_size=3))
    templates = draw(st.lists(_ascii_names, max_size=3, unique=True))
    segments = [*literals, *(f"{{{name}}}" for name in templates)]
    draw(st.randoms(use_true_random=False)).shuffle(segments)
    if templates and draw(st.booleans()):
        segments[segments.index(f"{{{templates[-1]}}}")] = f"{{{templates[-1]}+}}"
    uri = "/" + "/".join(segments)

    params = [
        {"name": name, "type": draw(st.sampled_from(["STRING", "NUMBER"])), "location": "PATH", "required": 1}
        for name in templates
        if draw(st.booleans())
    ]
    params += draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": _ascii_names,
                    "type": st.sampled_from(["STRING", "NUMBER"]),
                    "location": st.sampled_from(["PATH", "QUERY", "HEADER"]),
                    "required": st.sampled_from([1, 2]),
                    "description": st.none() | st.text(max_size=10),
                }
            ),
            max_size=4,
        )
    )
    backend_type = draw(st.sampled_from(["HTTP", "MOCK", "FUNCTION"]))
    auth_type = draw(st.sampled_from(["NONE", "APP", "IAM", "AUTHORIZER"]))
    return {
        "id": api_id,
        "name": draw(_unicode_names),
        "group_id": GROUP["id"],
        "type": draw(st.sampled_from([1, 2])),
        "req_protocol": draw(st.sampled_from(["HTTP", "HTTPS", "BOTH"])),
        "req_method": draw(st.sampled_from(HTTP_METHODS)),
        "req_uri": uri,
        "auth_type": auth_type,
        "match_mode": draw(st.sampled_from(["NORMAL", "SWA"])),
        "cors": draw(st.booleans()),
        "remark": draw(st.none() | st.text(max_size=30)),
        "tags": draw(st.lists(_unicode_names, max_size=3)),
        "req_params": params,
        "backend_type": backend_type,
        "backend_api": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "req_protocol": st.sampled_from(["HTTP", "HTTPS"]),
                    "req_method": st.sampled_from(HTTP_METHODS),
                    "req_uri": st.just(uri),
                    "url_domain": st.just("backend.example.com:8080"),
                    "timeout": st.integers(1, 60000),
                }
            )
        )
        if backend_type == "HTTP"
        else None,
        "mock_info": {"result_content": draw(st.text(max_size=20))} if backend_type == "MOCK" else None,
        "func_info": {"function_urn": "urn:fss:r:p:function:default:f", "invocation_type": "async", "timeout": 5000}
        if backend_type == "FUNCTION"
        else None,
        "throttle": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "name": _unicode_names,
                    "api_call_limits": st.integers(1, 10000),
                    "user_call_limits": st.none() | st.integers(1, 100),
                    "time_interval": st.integers(1, 60),
                    "time_unit": st.sampled_from(["SECOND", "MINUTE", "HOUR", "DAY"]),
                }
            )
        ),
        "acl": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "name": _unicode_names,
                    "acl_type": st.sampled_from(["PERMIT", "DENY"]),
                    "entity_type": st.just("IP"),
                    "value": st.just("192.168.0.0/16"),
                }
            )
        ),
        "authorizer": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "name": _unicode_names,
                    "authorizer_type": st.just("FUNC"),
                    "function_urn": st.just("urn:fss:r:p:function:default:auth"),
                    "identities": st.lists(
                        st.fixed_dictionaries({"name": _ascii_names, "location": st.sampled_from(["HEADER", "QUERY"])}),
                        max_size=2,
                    ),
                }
            )
        )
        if auth_type == "AUTHORIZER"
        else None,
    }


@st.composite
def _api_lists(draw):
    count = draw(st.integers(0, 6))
    return [draw(_api_records(f"api-{index}")) for index in range(count)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    apis=_api_lists(),
    define=st.sampled_from(DEFINES),
    oas_version=st.sampled_from(OAS_VERSIONS),
    group_name=st.text(max_size=15),
    version=st.text(min_size=1, max_size=10),
)
def test_generated_records_always_give_valid_documents(apis, define, oas_version, group_name, version):
    group = {**GROUP, "name": group_name}
    as_json = json.loads(export_docs.render_api_export(group, apis, define, oas_version, version, "json", None))
    as_yaml = yaml.safe_load(export_docs.render_api_export(group, apis, define, oas_version, version, "yaml", None))
    assert as_json == as_yaml
    validate(as_json, cls=VALIDATORS[oas_version])
    assert as_json["info"]["version"] == version

    operations = _operations(as_json)
    distinct_routes = {(api["req_uri"], api["req_method"]) for api in apis}
    assert len(operations) == len(distinct_routes)
    operation_ids = [op["operationId"] for op in operations.values()]
    assert len(set(operation_ids)) == len(operation_ids)
    for operation in operations.values():
        assert ("x-apigateway-backend" in operation) == (define != "spec")
        for requirement in operation["security"]:
            assert set(requirement) <= set(_schemes(as_json))
