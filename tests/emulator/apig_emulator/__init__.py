"""Offline emulator of Huawei Cloud APIG (dedicated gateway), ROMA Connect APIC and IAM tokens.

Test-only code: the collection never imports it. Run it with `python tests/emulator/run.py` (see
server.py) or inside a test with `testing.running_emulator()`.

Modules: state (in-memory model and seed loading), app (routing, faults, auth, request log),
handlers (the operations), views (JSON answers), auth (AK/SK signatures, IAM tokens), faults,
control (the /_emulator/ API), export_docs (Swagger / OpenAPI documents), server, testing.

Record shapes shared by the handlers and the export renderer:

    group:  id, name, remark, sl_domain, register_time, update_time, status (1), is_default (2),
            roma_app_id, roma_app_name
    API:    id (32 hex), name, group_id, type (1 public | 2 private), version,
            req_protocol (HTTP|HTTPS|BOTH), req_method (GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS|ANY),
            req_uri, auth_type (NONE|APP|IAM|AUTHORIZER), match_mode (NORMAL|SWA), cors, remark, tags,
            req_params [{name, type (STRING|NUMBER), location (PATH|QUERY|HEADER), required (1|2),
            description}], backend_type (HTTP|MOCK|FUNCTION),
            backend_api {req_protocol, req_method, req_uri, url_domain, timeout} | None,
            mock_info {result_content} | None, func_info {function_urn, invocation_type, timeout} | None,
            throttle {name, api_call_limits, user_call_limits, time_interval, time_unit} | None,
            acl {name, acl_type (PERMIT|DENY), entity_type (IP), value} | None,
            authorizer {name, authorizer_type (FUNC), function_urn, identities} | None,
            ld_api_id, roma_app_id, roma_app_name, register_time, update_time, status (1)
    custom backend (livedata) API: the LdApiInfo fields id, name, path, method, description, version,
            content_type, return_format, parameters [{name, in, default, description, required}],
            roma_app_id, roma_app_name, instance, type, status (1|3|4), created_time, modified_time

Every `{x}` in an API's req_uri has a PATH parameter. Times are stored as ISO 8601 UTC with
microseconds and `Z`, strictly increasing, so an edit right after a publication is later than it; times
set through the control API stay earlier than every later reading of the clock. The `time_format`
setting changes only how answers render them.
"""
