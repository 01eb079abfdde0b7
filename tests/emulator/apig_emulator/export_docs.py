"""Export documents: API definitions rendered the way APIG and ROMA Connect export them.

APIG exports a group's APIs as Swagger 2.0 or OpenAPI 3.0 carrying its "extended definition"
(``x-apigateway-*`` fields); ROMA exports custom backend ("livedata") APIs as Swagger 2.0 carrying
``x-livedata-*`` fields. Output is deterministic: equal input gives equal bytes, unless a ``shuffle``
(a ``random.Random``) is passed: then the keys of every mapping, paths and operations included, come
in a random order, which does not change what the document means.
"""

import hashlib
import json
import re
from datetime import datetime, timezone

import yaml

DEFINE_SCOPES = ("spec", "proxy", "all", "dev")
OAS_VERSIONS = ("2.0", "3.0")
FORMATS = ("json", "yaml", "yml")

OPENAPI_3_VERSION = "3.0.1"
APP_AUTH_SCHEME = "apig-auth-app"
IAM_AUTH_SCHEME = "apig-auth-iam"
AUTHORIZER_SCHEME_FALLBACK = "apig-auth-authorizer"
# The extension APIG uses for an API whose method is ANY (a Path Item field, not an operation).
ANY_METHOD_KEY = "x-apigateway-any-method"

_PATH_TEMPLATE = re.compile(r"\{([^{}]+)\}")
# OpenAPI 3.0 component keys must match this; Swagger 2.0 accepts any key.
_SAFE_COMPONENT_KEY = re.compile(r"^[A-Za-z0-9._-]+$")
# Swagger 2.0 "host": a host name or IP with an optional port, nothing else.
_SWAGGER_HOST = re.compile(r"^[^{}/ :\\]+(?::\d+)?$")

_PARAM_LOCATIONS = {"PATH": "path", "QUERY": "query", "HEADER": "header"}
_PARAM_TYPES = {"STRING": "string", "NUMBER": "number"}
_PROTOCOL_SCHEMES = {"HTTP": ["http"], "HTTPS": ["https"], "BOTH": ["http", "https"]}
_REQUEST_TYPES = {1: "public", 2: "private"}
_LIVEDATA_LOCATIONS = {"Headers": "header", "Parameters": "query", "Body": "body"}
_LIVEDATA_STATUSES = {1: "DESIGNED", 3: "DEVELOPED", 4: "DEPLOYED"}
_RESPONSES = {"200": {"description": "OK"}, "default": {"description": "default response"}}


def render_api_export(group, apis, define, oas_version, version, fmt, env, shuffle=None):
    """Render the export file of an API group.

    ``define`` picks how much is exported: ``spec`` the frontend, ``proxy`` adds the backend,
    ``all`` and ``dev`` add throttling, access control and custom authorizer details (``dev``
    differs only in which APIs the caller passes). ``env`` is accepted for the caller's
    convenience; real exports do not name the environment, so neither does this one.
    """
    _require_choice("define", define, DEFINE_SCOPES)
    _require_choice("oas_version", oas_version, OAS_VERSIONS)
    _require_choice("fmt", fmt, FORMATS)
    builder = _GroupDocBuilder(
        group,
        openapi3=oas_version == "3.0",
        with_backend=define != "spec",
        with_policies=define in ("all", "dev"),
    )
    return _serialise(_shuffled(builder.build(apis, version), shuffle), fmt)


def render_livedata_export(ld_apis, fmt, instance, shuffle=None):
    """Render ROMA custom backend APIs as a Swagger 2.0 file with ``x-livedata-*`` fields.

    ``instance`` may carry ``id`` (the title when the APIs span several integration apps) and
    ``version`` (the document version; the current UTC time when absent).
    """
    _require_choice("fmt", fmt, FORMATS)
    operation_ids = _OperationIds()
    paths = {}
    for ld_api in sorted(ld_apis, key=_livedata_sort_key):
        path = _normalise_path(ld_api.get("path"))
        method_key = _method_key(ld_api.get("method"))
        path_item = paths.setdefault(path, {})
        if method_key in path_item:
            continue  # one backend per path and method; the first one wins
        path_item[method_key] = _livedata_operation(ld_api, path, operation_ids)
    instance = instance or {}
    # The request has no version field; like APIG's export, default to the export time.
    version = instance.get("version") or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    doc = {
        "swagger": "2.0",
        "info": {"title": _livedata_title(ld_apis, instance), "version": str(version)},
        "basePath": "/",
        "paths": paths,
    }
    return _serialise(_shuffled(doc, shuffle), fmt)


def _shuffled(value, shuffle):
    """The same document with the keys of every mapping in a random order; lists keep theirs."""
    if shuffle is None:
        return value
    if isinstance(value, dict):
        keys = list(value)
        shuffle.shuffle(keys)
        return {key: _shuffled(value[key], shuffle) for key in keys}
    if isinstance(value, list):
        return [_shuffled(item, shuffle) for item in value]
    return value


def _require_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


class _ExportDumper(yaml.SafeDumper):
    """``safe_dump`` output, minus two PyYAML habits that do not suit an export file."""

    def ignore_aliases(self, data):
        return True  # repeated values are written out in full, never as &anchors

    def represent_str(self, data):
        # PyYAML writes NEL (U+0085) raw inside single quotes, and reading it back folds it
        # into a space; double quotes escape it.
        style = '"' if "\x85" in data else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_ExportDumper.add_representer(str, _ExportDumper.represent_str)


def _serialise(doc, fmt):
    if fmt == "json":
        text = json.dumps(doc, indent=2, ensure_ascii=False)
    else:
        text = yaml.dump(doc, Dumper=_ExportDumper, sort_keys=False, allow_unicode=True)
    return text.encode("utf-8")


def _compact(mapping):
    """Drop absent values so the document only carries what the record has."""
    return {key: value for key, value in mapping.items() if value is not None}


def _normalise_path(raw_path):
    path = str(raw_path or "/")
    return path if path.startswith("/") else "/" + path


def _method_key(method):
    method = str(method or "GET").upper()
    return ANY_METHOD_KEY if method == "ANY" else method.lower()


def _path_tokens(path):
    """Template names in path order, without repeats; ``{name+}`` keeps its ``+``."""
    return list(dict.fromkeys(_PATH_TEMPLATE.findall(path)))


def _api_schemes(api):
    return _PROTOCOL_SCHEMES.get(str(api.get("req_protocol") or "").upper())


def _api_sort_key(api):
    return (_normalise_path(api.get("req_uri")), str(api.get("req_method") or "GET").upper())


def _livedata_sort_key(ld_api):
    return (_normalise_path(ld_api.get("path")), str(ld_api.get("method") or "GET").upper())


class _OperationIds:
    """Hands out operation ids: the record's name, suffixed only when already taken."""

    def __init__(self):
        self._taken = set()

    def claim(self, name, fallback):
        base = str(name or fallback)
        candidate, counter = base, 1
        while candidate in self._taken:
            counter += 1
            candidate = f"{base}_{counter}"
        self._taken.add(candidate)
        return candidate


class _GroupDocBuilder:
    def __init__(self, group, openapi3, with_backend, with_policies):
        self.group = group
        self.sl_domain = group.get("sl_domain")
        self.openapi3 = openapi3
        self.with_backend = with_backend
        self.with_policies = with_policies
        self.operation_ids = _OperationIds()
        self.security_schemes = {
            APP_AUTH_SCHEME: _auth_scheme("Authorization", "AppSigv1"),
            IAM_AUTH_SCHEME: _auth_scheme("unused", "IAM"),
        }
        self.ratelimits = {}
        self.access_controls = {}
        self.root_schemes = []

    def build(self, apis, version):
        # Sorting first makes ids and "first wins" independent of how the caller ordered APIs
        # with different paths; the sort is stable, so among duplicates the caller's first wins.
        kept = {}
        for api in sorted(apis, key=_api_sort_key):
            key = (_normalise_path(api.get("req_uri")), _method_key(api.get("req_method")))
            kept.setdefault(key, api)  # APIG forbids two APIs on one path and method
        used_schemes = {scheme for api in kept.values() for scheme in _api_schemes(api) or []}
        self.root_schemes = sorted(used_schemes) or ["http", "https"]
        paths = {}
        for (path, method_key), api in kept.items():
            paths.setdefault(path, {})[method_key] = self._operation(api, path)
        doc = self._header(version)
        doc["paths"] = paths
        if self.openapi3:
            doc["components"] = {"securitySchemes": self.security_schemes}
        else:
            doc["securityDefinitions"] = self.security_schemes
        if self.ratelimits:
            doc["x-apigateway-ratelimits"] = dict(sorted(self.ratelimits.items()))
        if self.access_controls:
            doc["x-apigateway-access-controls"] = dict(sorted(self.access_controls.items()))
        return doc

    def _header(self, version):
        info = _compact(
            {
                "title": str(self.group.get("name") or ""),
                "description": self.group.get("remark") or None,
                "version": str(version),
            }
        )
        if self.openapi3:
            servers = self._servers(self.root_schemes) if self.sl_domain else [{"url": "/"}]
            return {"openapi": OPENAPI_3_VERSION, "info": info, "servers": servers}
        doc = {"swagger": "2.0", "info": info}
        if self.sl_domain and _SWAGGER_HOST.match(self.sl_domain):
            doc["host"] = self.sl_domain
        doc["basePath"] = "/"
        doc["schemes"] = self.root_schemes
        return doc

    def _servers(self, schemes):
        return [{"url": f"{scheme}://{self.sl_domain}"} for scheme in schemes]

    def _operation(self, api, path):
        operation = {"operationId": self.operation_ids.claim(api.get("name"), api.get("id") or "api")}
        remark = str(api.get("remark") or "")
        if remark.strip():
            operation["summary"] = remark.strip().splitlines()[0]
            operation["description"] = remark
        tags = list(dict.fromkeys(str(tag) for tag in api.get("tags") or []))
        if tags:
            operation["tags"] = tags
        schemes = _api_schemes(api)
        if schemes and not self.openapi3:
            operation["schemes"] = schemes
        elif schemes and self.sl_domain and schemes != self.root_schemes:
            # OpenAPI 3.0 has no per-operation schemes; narrowed servers say the same thing.
            operation["servers"] = self._servers(schemes)
        parameters = self._parameters(api.get("req_params") or [], path)
        if parameters:
            operation["parameters"] = parameters
        operation["responses"] = {code: dict(body) for code, body in _RESPONSES.items()}
        operation["security"] = self._security(api)
        operation["x-apigateway-request-type"] = _REQUEST_TYPES.get(api.get("type"), "public")
        operation["x-apigateway-match-mode"] = api.get("match_mode") or "NORMAL"
        operation["x-apigateway-cors"] = bool(api.get("cors"))
        if self.with_backend:
            operation["x-apigateway-backend"] = _backend(api)
        if self.with_policies:
            self._attach_policies(operation, api)
        return operation

    def _parameters(self, req_params, path):
        by_location = {}
        for param in req_params:
            location = _PARAM_LOCATIONS.get(str(param.get("location") or "").upper())
            # APIG only has these three locations; anything else cannot be expressed.
            if location:
                by_location.setdefault(location, []).append(param)
        parameters = []
        declared_path_params = by_location.get("path", [])
        # Path parameters come from the template, so a "{x}" with no declared parameter still
        # gets one, and a declared one missing from the path (APIG rejects those) is left out.
        for token in _path_tokens(path):
            declared = next(
                (p for p in declared_path_params if p.get("name") in (token, token.rstrip("+"))),
                {},
            )
            parameters.append(self._parameter(token, "path", True, declared))
        seen = {(p["name"], "path") for p in parameters}
        for location in ("query", "header"):
            for param in by_location.get(location, []):
                name = str(param.get("name") or "")
                if not name or (name, location) in seen:
                    continue
                seen.add((name, location))
                parameters.append(self._parameter(name, location, param.get("required") == 1, param))
        return parameters

    def _parameter(self, name, location, required, record):
        value_type = _PARAM_TYPES.get(str(record.get("type") or "").upper(), "string")
        parameter = {"name": name, "in": location, "required": required}
        if record.get("description"):
            parameter["description"] = str(record["description"])
        if self.openapi3:
            parameter["schema"] = {"type": value_type}
        else:
            parameter["type"] = value_type
        return parameter

    def _security(self, api):
        auth_type = str(api.get("auth_type") or "NONE").upper()
        if auth_type == "APP":
            return [{APP_AUTH_SCHEME: []}]
        if auth_type == "IAM":
            return [{IAM_AUTH_SCHEME: []}]
        if auth_type == "AUTHORIZER":
            return [{self._authorizer_scheme(api.get("authorizer") or {}): []}]
        return []

    def _authorizer_scheme(self, authorizer):
        key = _authorizer_scheme_key(authorizer.get("name"))
        if key not in self.security_schemes:
            scheme = _auth_scheme("Authorization", "AUTHORIZER")
            if self.with_policies:
                scheme["x-apigateway-authorizer"] = _authorizer_definition(authorizer)
            self.security_schemes[key] = scheme
        return key

    def _attach_policies(self, operation, api):
        throttle = api.get("throttle")
        if throttle:
            name = str(throttle.get("name") or f"ratelimit_{operation['operationId']}")
            # A policy name identifies one policy; the first definition seen is kept.
            self.ratelimits.setdefault(name, _ratelimit_policy(throttle))
            operation["x-apigateway-ratelimit"] = name
        acl = api.get("acl")
        if acl:
            name = str(acl.get("name") or f"acl_{operation['operationId']}")
            self.access_controls.setdefault(name, _access_control_policy(acl))
            operation["x-apigateway-access-control"] = name


def _auth_scheme(header_name, auth_type):
    return {"type": "apiKey", "name": header_name, "in": "header", "x-apigateway-auth-type": auth_type}


def _authorizer_scheme_key(name):
    """The authorizer's name when it is a legal component key, else a stable ASCII stand-in."""
    if not name:
        return AUTHORIZER_SCHEME_FALLBACK
    name = str(name)
    if _SAFE_COMPONENT_KEY.match(name) and name not in (APP_AUTH_SCHEME, IAM_AUTH_SCHEME):
        return name
    ascii_part = re.sub(r"[^A-Za-z0-9._-]", "", name)
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{ascii_part or AUTHORIZER_SCHEME_FALLBACK}-{digest}"


def _authorizer_definition(authorizer):
    identities = [
        _compact({"name": i.get("name"), "location": i.get("location"), "validation": i.get("validation")})
        for i in authorizer.get("identities") or []
    ]
    return _compact(
        {
            "authorizer_type": authorizer.get("authorizer_type") or "FUNC",
            "authorizer_uri": authorizer.get("function_urn"),
            "identities": identities or None,
            "type": "FRONTEND",
        }
    )


def _backend(api):
    backend_type = str(api.get("backend_type") or "HTTP").upper()
    backend = {"type": backend_type}
    if backend_type == "HTTP" and api.get("backend_api"):
        http = api["backend_api"]
        backend["httpEndpoints"] = _compact(
            {
                "address": http.get("url_domain"),
                "scheme": str(http["req_protocol"]).lower() if http.get("req_protocol") else None,
                "method": http.get("req_method"),
                "path": http.get("req_uri"),
                "timeout": http.get("timeout"),
            }
        )
    elif backend_type == "MOCK" and api.get("mock_info"):
        backend["mockEndpoints"] = {"result-content": api["mock_info"].get("result_content") or ""}
    elif backend_type == "FUNCTION" and api.get("func_info"):
        function = api["func_info"]
        backend["functionEndpoints"] = _compact(
            {
                "function-urn": function.get("function_urn"),
                # APIG invokes the "latest" version unless the API names another one.
                "version": function.get("version") or "latest",
                "invocation-type": function.get("invocation_type"),
                "timeout": function.get("timeout"),
            }
        )
    return backend


def _ratelimit_policy(throttle):
    return _compact(
        {
            "api-limit": throttle.get("api_call_limits"),
            "user-limit": throttle.get("user_call_limits"),
            "app-limit": throttle.get("app_call_limits"),
            "ip-limit": throttle.get("ip_call_limits"),
            "interval": throttle.get("time_interval"),
            "unit": throttle.get("time_unit"),
        }
    )


def _access_control_policy(acl):
    value = acl.get("value")
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return _compact(
        {
            "acl-type": acl.get("acl_type"),
            "entity-type": acl.get("entity_type") or "IP",
            "value": value,
        }
    )


def _livedata_title(ld_apis, instance):
    app_names = {ld_api.get("roma_app_name") for ld_api in ld_apis}
    if len(app_names) == 1 and None not in app_names:
        return str(app_names.pop())
    return str(instance.get("id") or "")


def _livedata_operation(ld_api, path, operation_ids):
    operation = {"operationId": operation_ids.claim(ld_api.get("name"), ld_api.get("id") or "api")}
    if ld_api.get("description"):
        operation["description"] = str(ld_api["description"])
    if ld_api.get("content_type"):
        operation["produces"] = [_media_type(ld_api["content_type"])]
    parameters = _livedata_parameters(ld_api.get("parameters") or [], path)
    if any(p["in"] == "body" for p in parameters):
        operation["consumes"] = ["application/json"]
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = {code: dict(body) for code, body in _RESPONSES.items()}
    operation.update(
        _compact(
            {
                "x-livedata-version": ld_api.get("version"),
                "x-livedata-status": _livedata_status(ld_api.get("status")),
                "x-livedata-type": ld_api.get("type"),
                "x-livedata-roma-app": ld_api.get("roma_app_name"),
                "x-livedata-scripts": [_livedata_script(s) for s in ld_api.get("scripts") or []] or None,
            }
        )
    )
    return operation


def _livedata_status(status):
    if status is None:
        return None
    return _LIVEDATA_STATUSES.get(status, str(status))


def _media_type(content_type):
    # ROMA records the return type as a short name ("json", "xml") or as a media type.
    content_type = str(content_type)
    return content_type if "/" in content_type else f"application/{content_type}"


def _livedata_parameters(ld_params, path):
    tokens = _path_tokens(path)
    parameters = [
        {"name": token, "in": "path", "required": True, "type": "string"} for token in tokens
    ]
    by_token = {p["name"]: p for p in parameters}
    seen = {(token, "path") for token in tokens}
    body_properties, body_required = {}, []
    for param in ld_params:
        name = str(param.get("name") or "")
        location = _LIVEDATA_LOCATIONS.get(param.get("in"))
        if not name or not location:
            continue
        details = _compact(
            {
                "description": str(param["description"]) if param.get("description") else None,
                # Swagger 2.0 checks a default against the parameter type, which is string here.
                "default": None if param.get("default") is None else str(param["default"]),
            }
        )
        if location == "query" and name in by_token:
            by_token[name].update(details)  # a "Parameters" entry that fills a path template
            continue
        if location == "body":
            # Swagger 2.0 allows one body parameter, so body fields become its properties.
            body_properties.setdefault(name, {"type": "string", **details})
            if param.get("required") and name not in body_required:
                body_required.append(name)
            continue
        if (name, location) in seen:
            continue
        seen.add((name, location))
        parameters.append(
            {"name": name, "in": location, "required": bool(param.get("required")), "type": "string", **details}
        )
    if body_properties:
        schema = {"type": "object", "properties": body_properties}
        if body_required:
            schema["required"] = body_required
        parameters.append({"name": "body", "in": "body", "required": bool(body_required), "schema": schema})
    return parameters


def _livedata_script(script):
    datasource = _compact({"id": script.get("ds_id"), "name": script.get("ds_name"), "type": script.get("ds_type")})
    return _compact(
        {
            "type": script.get("type"),
            "object_name": script.get("object_name"),
            "content": script.get("content"),
            "enable_result_paging": script.get("enable_result_paging"),
            "enable_preparestatement": script.get("enable_preparestatement"),
            "datasource": datasource or None,
        }
    )
