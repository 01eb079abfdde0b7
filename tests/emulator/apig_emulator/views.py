"""Records rendered as the JSON objects the APIG and ROMA APIs answer with (field names of the SDK models).

APIG-only fields (trace_enabled, sl_domain_access_enabled...) are left out for ROMA instances, whose
models do not have them.
"""

from __future__ import annotations

from .state import Instance, render_time, stable_id

# Keys whose values are stored times (publish_time may be |-joined): what the time_format setting renders.
TIME_FIELDS = frozenset({"register_time", "update_time", "publish_time", "create_time", "created_time",
                         "modified_time", "deploy_time"})


def format_times(value, time_format: str):
    """A copy of an answer with every time field rendered in `time_format`; the records stay as stored."""
    if time_format == "fraction":
        return value
    if isinstance(value, dict):
        return {key: "|".join(render_time(part, time_format) for part in item.split("|"))
                if key in TIME_FIELDS and isinstance(item, str) and item else format_times(item, time_format)
                for key, item in value.items()}
    if isinstance(value, list):
        return [format_times(item, time_format) for item in value]
    return value


def env_view(env: dict) -> dict:
    return {"id": env["id"], "name": env["name"], "remark": env["remark"], "create_time": env["create_time"]}


def group_view(instance: Instance, group: dict) -> dict:
    view = {
        "id": group["id"],
        "name": group["name"],
        "status": group["status"],
        "sl_domain": group["sl_domain"],
        "sl_domains": [group["sl_domain"]],
        "register_time": group["register_time"],
        "update_time": group["update_time"],
        "on_sell_status": 2,
        "url_domains": [],
        "remark": group["remark"],
        "call_limits": 0,
        "time_interval": 0,
        "time_unit": "",
        "is_default": group["is_default"],
        "version": "V1",
        "roma_app_id": group["roma_app_id"],
        "roma_app_name": group["roma_app_name"],
    }
    if instance.kind == "apig":
        view["sl_domain_access_enabled"] = True
    return view


def group_common_view(group: dict) -> dict:
    return {key: group[key] for key in ("id", "name", "status", "sl_domain", "register_time", "update_time")} | {
        "on_sell_status": 2, "url_domains": []}


def req_param_view(api_id: str, param: dict) -> dict:
    return {
        "id": stable_id("param", api_id, param["location"], param["name"]),
        "name": param["name"],
        "type": param["type"],
        "location": param["location"],
        "required": param["required"],
        "remark": param["description"],
        "default_value": "",
        "sample_value": "",
        "valid_enable": 2,
        "pass_through": 1,
    }


def backend_view(api: dict) -> dict | None:
    backend = api["backend_api"]
    if backend is None:
        return None
    return {
        "id": stable_id("backend", api["id"]),
        "url_domain": backend["url_domain"],
        "req_protocol": backend["req_protocol"],
        "req_method": backend["req_method"],
        "req_uri": backend["req_uri"],
        "timeout": backend["timeout"],
        "remark": "",
        "retry_count": "-1",
        "enable_client_ssl": False,
        "status": 1,
        "register_time": api["register_time"],
        "update_time": api["update_time"],
        "vpc_channel_status": 2,
    }


def _api_base(instance: Instance, api: dict) -> dict:
    """Fields shared by the list, detail, version and runtime answers."""
    group = instance.groups[api["group_id"]]
    view = {
        "id": api["id"],
        "name": api["name"],
        "type": api["type"],
        "version": api["version"],
        "req_protocol": api["req_protocol"],
        "req_method": api["req_method"],
        "req_uri": api["req_uri"],
        "auth_type": api["auth_type"],
        "auth_opt": {"app_code_auth_type": "DISABLE"},
        "cors": api["cors"],
        "match_mode": api["match_mode"],
        "backend_type": api["backend_type"],
        "remark": api["remark"],
        "group_id": api["group_id"],
        "group_name": group["name"],
        "body_remark": "",
        "result_normal_sample": '{"result": "ok"}',
        "result_failure_sample": '{"error_code": "APIG.9999"}',
        "authorizer_id": stable_id("authorizer", api["authorizer"]["name"]) if api["authorizer"] else None,
        "tags": list(api["tags"]),
        "tag": api["tags"][0] if api["tags"] else None,
        "content_type": "application/json",
        "roma_app_id": api["roma_app_id"],
        "req_params": [req_param_view(api["id"], p) for p in api["req_params"]],
    }
    if instance.kind == "apig":
        view.update({"trace_enabled": False, "is_send_fg_body_base64": True})
    return view


def _publication_fields(instance: Instance, api: dict, newest_first: bool = False) -> dict:
    """run_env_id, run_env_name, publish_id and publish_time, each |-joined over live publications.

    Oldest publication first unless `newest_first` (the joined_order setting); the four stay aligned.
    """
    publications = instance.current_publications(api["id"])
    if newest_first:
        publications.reverse()
    return {
        "run_env_id": "|".join(env["id"] for env, _pub in publications),
        "run_env_name": "|".join(env["name"] for env, _pub in publications),
        "publish_id": "|".join(pub["publish_id"] for _env, pub in publications),
        "publish_time": "|".join(pub["publish_time"] for _env, pub in publications),
    }


def api_list_view(instance: Instance, api: dict, include_group: bool = False, include_backend: bool = False,
                  newest_first: bool = False) -> dict:
    view = _api_base(instance, api)
    view.update({
        "status": api["status"],
        "arrange_necessary": 2,
        "register_time": api["register_time"],
        "update_time": api["update_time"],
        "group_version": "V1",
        "roma_app_name": api["roma_app_name"],
        "ld_api_id": api["ld_api_id"],
    })
    view.update(_publication_fields(instance, api, newest_first))
    if include_group:
        view["api_group_info"] = group_common_view(instance.groups[api["group_id"]])
    if include_backend:
        view["backend_api"] = backend_view(api)
    return view


def _backend_details(api: dict) -> dict:
    mock, func = api["mock_info"], api["func_info"]
    return {
        "backend_api": backend_view(api),
        "mock_info": None if mock is None else {
            "id": stable_id("mock", api["id"]), "result_content": mock["result_content"], "remark": "",
            "status": 1, "register_time": api["register_time"], "update_time": api["update_time"]},
        "func_info": None if func is None else {
            "id": stable_id("func", api["id"]), "function_urn": func["function_urn"],
            "invocation_type": func["invocation_type"], "timeout": func["timeout"], "version": "latest",
            "remark": "", "status": 1, "register_time": api["register_time"], "update_time": api["update_time"]},
        "backend_params": [],
        "policy_functions": [],
        "policy_mocks": [],
        "policy_https": [],
    }


def api_detail_view(instance: Instance, api: dict, newest_first: bool = False) -> dict:
    view = api_list_view(instance, api, include_group=True, newest_first=newest_first)
    view.update(_backend_details(api))
    return view


def version_detail_view(instance: Instance, version: dict) -> dict:
    """The API as it was published in this version; publish_time is a single time here."""
    definition = version["definition"]
    group = instance.groups[definition["group_id"]]
    view = _api_base(instance, definition)
    view.update({
        "status": definition["status"],
        "arrange_necessary": 2,
        "register_time": definition["register_time"],
        "update_time": definition["update_time"],
        "group_version": "V1",
        "roma_app_name": definition["roma_app_name"],
        "ld_api_id": definition["ld_api_id"],
        "api_group_info": group_common_view(group),
        "run_env_id": version["env_id"],
        "run_env_name": version["env_name"],
        "publish_id": version["publish_id"],
        "publish_time": version["publish_time"],
        "version_id": version["version_id"],
        "sl_domain": group["sl_domain"],
        "sl_domains": [group["sl_domain"]],
    })
    view.update(_backend_details(definition))
    return view


def runtime_view(instance: Instance, version: dict, env: dict) -> dict:
    """The definition running in env: no status, publish_time or version_id in this answer."""
    definition = version["definition"]
    group = instance.groups[definition["group_id"]]
    view = _api_base(instance, definition)
    view.update({
        "run_env_id": env["id"],
        "run_env_name": env["name"],
        "publish_id": version["publish_id"],
        "sl_domain": group["sl_domain"],
        "sl_domains": [group["sl_domain"]],
    })
    return view


def version_view(version: dict) -> dict:
    return {key: version[key] for key in
            ("version_id", "version_no", "api_id", "env_id", "env_name", "remark", "publish_time", "status")}


def publish_view(api: dict, env_id: str, version: dict) -> dict:
    return {
        "publish_id": version["publish_id"],
        "api_id": api["id"],
        "api_name": api["name"],
        "env_id": env_id,
        "remark": version["remark"],
        "publish_time": version["publish_time"],
        "version_id": version["version_id"],
    }


def livedata_view(ld_api: dict) -> dict:
    return dict(ld_api, parameters=[dict(p) for p in ld_api["parameters"]])
