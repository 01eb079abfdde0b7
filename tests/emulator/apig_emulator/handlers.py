"""The APIG / ROMA Connect operations and IAM's token endpoint.

Each handler takes a `Call` and returns a Werkzeug `Response` or raises `errors.ApiError`. The app runs
handlers under the state lock, after authentication and the instance check.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from . import errors, views
from .auth import issue_token
from .export_docs import render_api_export, render_livedata_export
from .state import RELEASE_ENV_ID, EmulatorState, Instance, iso, new_id

MAX_BATCH_APIS = 1000
DEFAULT_LIMIT = 20
MAX_LIMIT = 500
EXPORT_DEFINES = ("spec", "proxy", "all", "dev")
EXPORT_FORMATS = ("json", "yaml", "yml")
OAS_VERSIONS = ("2.0", "3.0")


@dataclass
class Call:
    state: EmulatorState
    request: Request
    body: bytes
    values: dict = field(default_factory=dict)
    instance: Instance | None = None

    @property
    def args(self):
        return self.request.args

    @property
    def is_apig(self) -> bool:
        return self.instance.kind == "apig"

    def json(self) -> dict:
        if not self.body.strip():
            return {}
        try:
            data = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise errors.invalid_param("body")
        if not isinstance(data, dict):
            raise errors.invalid_param("body")
        return data


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json;charset=UTF-8")


def answer(call: Call, body, status: int = 200) -> Response:
    """An operation's JSON answer, its times rendered per the time_format setting."""
    return json_response(views.format_times(body, call.state.setting("time_format")), status)


def no_content() -> Response:
    return Response(b"", status=204)


# --- parameters ---------------------------------------------------------------------------------

def _int_arg(call: Call, name: str, default: int | None = None) -> int | None:
    raw = call.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.invalid_param(name)


def _page(call: Call, items: list) -> tuple[list, int]:
    """Offset/limit paging: offset below 0 is 0; limit 0 or less is 20, above 500 is 500.

    With the list_shuffle setting a page holds the same items in a new order on every call.
    """
    offset = max(0, _int_arg(call, "offset", 0))
    limit = _int_arg(call, "limit", DEFAULT_LIMIT)
    if limit <= 0:
        limit = DEFAULT_LIMIT
    limit = min(limit, MAX_LIMIT)
    return _maybe_shuffled(call, items[offset:offset + limit]), len(items)


def _maybe_shuffled(call: Call, items: list) -> list:
    if call.state.setting("list_shuffle"):
        return call.state.shuffler.sample(items, len(items))
    return items


def _newest_first(call: Call) -> bool:
    return call.state.setting("joined_order") == "newest_first"


def _export_shuffler(call: Call):
    return call.state.shuffler if call.state.setting("export_shuffle") else None


def _precise(call: Call) -> set[str]:
    return {part.strip() for part in call.args.get("precise_search", "").split(",") if part.strip()}


def _text_match(value: str | None, wanted: str, precise: bool) -> bool:
    if precise:
        return value == wanted
    return wanted.lower() in (value or "").lower()


def _optional(body: dict, name: str) -> str | None:
    """A string field of the body; other JSON types are a 400, as the cloud's validation does."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise errors.invalid_param(name)
    return value or None


def _required(body: dict, name: str) -> str:
    value = _optional(body, name)
    if value is None:
        raise errors.missing_param(name)
    return value


def _remark(body: dict) -> str | None:
    remark = body.get("remark")
    if remark is not None and (not isinstance(remark, str) or len(remark) > 255):
        raise errors.invalid_param("remark")
    return remark


def _env(call: Call, env_id: str) -> dict:
    env = call.instance.envs.get(env_id)
    if env is None:
        raise errors.env_not_found(env_id)
    return env


def _api(call: Call, api_id: str) -> dict:
    api = call.instance.apis.get(api_id)
    if api is None:
        raise errors.api_not_found(api_id)
    return api


def _group(call: Call, group_id: str) -> dict:
    group = call.instance.groups.get(group_id)
    if group is None:
        raise errors.group_not_found(group_id)
    return group


def _now(call: Call) -> datetime:
    return call.state.clock.now()


# --- publishing ---------------------------------------------------------------------------------

def batch_publish(call: Call) -> Response:
    action = call.args.get("action")
    if action not in ("online", "offline"):
        raise errors.invalid_action()
    body = call.json()
    env_id = _required(body, "env_id")
    remark = _remark(body)
    api_ids = body.get("apis")
    if api_ids is not None and (not isinstance(api_ids, list) or not all(isinstance(a, str) for a in api_ids)):
        raise errors.invalid_param("apis")
    group_id = _optional(body, "group_id") if call.is_apig else None
    if not api_ids and not group_id:
        raise errors.missing_param("apis")
    if call.is_apig and api_ids and len(api_ids) > MAX_BATCH_APIS:
        raise errors.invalid_param("apis")
    env = _env(call, env_id)
    group = _group(call, group_id) if group_id else None
    if api_ids:
        targets = list(dict.fromkeys(api_ids))
    else:
        targets = [api["id"] for api in call.instance.group_apis(group["id"])]

    success, failure = [], []
    for api_id in targets:
        api = call.instance.apis.get(api_id)
        if api is None or (group is not None and api["group_id"] != group["id"]):
            failure.append(_failure(errors.api_not_found(api_id), api_id))
        elif action == "online":
            version = call.instance.publish(api, env, remark, _now(call))
            success.append(views.publish_view(api, env["id"], version))
        elif call.instance.take_offline(api_id, env["id"]) is None:
            failure.append(_failure(errors.not_published(api_id, env["id"]), api_id, api["name"]))
        else:
            success.append({"api_id": api_id, "api_name": api["name"], "env_id": env["id"]})
    return answer(call, {"success": success, "failure": failure})


def _failure(error: errors.ApiError, api_id: str, api_name: str | None = None) -> dict:
    entry = {"api_id": api_id, "error_code": error.code, "error_msg": error.msg}
    if api_name is not None:
        entry["api_name"] = api_name
    return entry


def publish_one(call: Call) -> Response:
    body = call.json()
    action = _required(body, "action")
    if action not in ("online", "offline"):
        raise errors.invalid_action()
    env = _env(call, _required(body, "env_id"))
    api = _api(call, _required(body, "api_id"))
    remark = _remark(body)
    if action == "online":
        version = call.instance.publish(api, env, remark, _now(call))
        return answer(call, views.publish_view(api, env["id"], version), 201)
    publication = call.instance.take_offline(api["id"], env["id"])
    if publication is None:
        raise errors.not_published(api["id"], env["id"])
    return answer(call, {**views.publish_view(api, env["id"], call.instance.versions[publication["version_id"]]),
                         "remark": remark or publication["remark"]}, 201)


def offline_by_version(call: Call) -> Response:
    version = call.instance.versions.get(call.values["version_id"])
    if version is None:
        raise errors.version_not_found(call.values["version_id"])
    if version["status"] != 1:
        raise errors.version_not_effective(version["version_id"])
    call.instance.take_offline(version["api_id"], version["env_id"])
    return no_content()


def switch_version(call: Call) -> Response:
    api = _api(call, call.values["api_id"])
    version_id = _required(call.json(), "version_id")
    version = call.instance.versions.get(version_id)
    if version is None or version["api_id"] != api["id"]:
        raise errors.version_not_found(version_id)
    call.instance.switch_version(version)
    return answer(call, views.publish_view(api, version["env_id"], version))


# --- reading APIs -------------------------------------------------------------------------------

def list_apis(call: Call) -> Response:
    args, precise, instance = call.args, _precise(call), call.instance
    api_type = _int_arg(call, "type")
    exact = {key: args[key] for key in ("id", "group_id", "req_protocol", "req_method", "auth_type")
             if args.get(key)}
    if not call.is_apig and args.get("roma_app_id"):
        exact["roma_app_id"] = args["roma_app_id"]
    fuzzy = {key: args[key] for key in ("name", "req_uri") if args.get(key)}
    if not call.is_apig and args.get("roma_app_name"):
        fuzzy["roma_app_name"] = args["roma_app_name"]
    env_id = args.get("env_id")
    tag = args.get("tags") if call.is_apig else None
    channel_name = args.get("vpc_channel_name")
    channel_id = None if call.is_apig else args.get("vpc_channel_id")

    def selected(api: dict) -> bool:
        if any(api[key] != value for key, value in exact.items()):
            return False
        if any(not _text_match(api[key], value, key in precise) for key, value in fuzzy.items()):
            return False
        if api_type is not None and api["type"] != api_type:
            return False
        if env_id and instance.publication(api["id"], env_id) is None:
            return False
        if tag and (bool(api["tags"]) if tag == "#no_tags#" else tag not in api["tags"]):
            return False
        backend = api["backend_api"] or {}
        if channel_name and not _text_match(backend.get("vpc_channel_name"), channel_name,
                                            "vpc_channel_name" in precise):
            return False
        return not channel_id or backend.get("vpc_channel_id") == channel_id

    page, total = _page(call, [api for api in instance.apis.values() if selected(api)])
    modes = set(args.get("return_data_mode", "brief").split(",")) if call.is_apig else set()
    include_backend = "include_group_backend" in modes
    include_group = include_backend or "include_group" in modes
    apis = [views.api_list_view(instance, api, include_group, include_backend, _newest_first(call)) for api in page]
    return answer(call, {"size": len(apis), "total": total, "apis": apis})


def show_api(call: Call) -> Response:
    return answer(call, views.api_detail_view(call.instance, _api(call, call.values["api_id"]), _newest_first(call)))


def list_api_versions(call: Call) -> Response:
    api = _api(call, call.values["api_id"])
    env_id, env_name = call.args.get("env_id"), call.args.get("env_name")
    versions = [v for v in call.instance.versions_of(api["id"])
                if (not env_id or v["env_id"] == env_id) and (not env_name or v["env_name"] == env_name)]
    page, total = _page(call, versions)
    return answer(call, {"size": len(page), "total": total,
                         "api_versions": [views.version_view(v) for v in page]})


def show_version(call: Call) -> Response:
    version = call.instance.versions.get(call.values["version_id"])
    if version is None:
        raise errors.version_not_found(call.values["version_id"])
    return answer(call, views.version_detail_view(call.instance, version))


def show_runtime(call: Call) -> Response:
    env = _env(call, call.args.get("env_id") or RELEASE_ENV_ID)
    api = _api(call, call.values["api_id"])
    publication = call.instance.publication(api["id"], env["id"])
    if publication is None:
        raise errors.not_published(api["id"], env["id"], status=404)
    version = call.instance.versions[publication["version_id"]]
    return answer(call, views.runtime_view(call.instance, version, env))


def list_envs(call: Call) -> Response:
    name = call.args.get("name")
    envs = [e for e in call.instance.envs.values() if not name or _text_match(e["name"], name, False)]
    page, total = _page(call, envs)
    return answer(call, {"size": len(page), "total": total, "envs": [views.env_view(e) for e in page]})


def list_groups(call: Call) -> Response:
    args, precise = call.args, _precise(call)

    def selected(group: dict) -> bool:
        if args.get("id") and group["id"] != args["id"]:
            return False
        if args.get("name") and not _text_match(group["name"], args["name"], "name" in precise):
            return False
        if call.is_apig:
            return True
        if args.get("roma_app_id") and group["roma_app_id"] != args["roma_app_id"]:
            return False
        domain = args.get("domain_name")
        return not domain or _text_match(group["sl_domain"], domain, "domain_name" in precise)

    page, total = _page(call, [g for g in call.instance.groups.values() if selected(g)])
    groups = [views.group_view(call.instance, g) for g in page]
    return answer(call, {"size": len(groups), "total": total, "groups": groups})


def show_group(call: Call) -> Response:
    return answer(call, views.group_view(call.instance, _group(call, call.values["group_id"])))


# --- export -------------------------------------------------------------------------------------

def _render_group_export(call: Call) -> tuple[bytes, str, dict]:
    """Validate an ExportOpenApiReq and render the document: (bytes, format, group)."""
    body = call.json()
    oas_version = call.args.get("oas_version") or "2.0"
    if oas_version not in OAS_VERSIONS:
        raise errors.invalid_param("oas_version")
    env_id = _optional(body, "env_id")
    if call.is_apig and not env_id:
        raise errors.missing_param("env_id")
    group = _group(call, _required(body, "group_id"))
    define = _optional(body, "define") or "spec"
    if define not in EXPORT_DEFINES:
        raise errors.invalid_param("define")
    fmt = _optional(body, "type") or "json"
    if fmt not in EXPORT_FORMATS:
        raise errors.invalid_param("type")
    wanted = body.get("apis")
    if wanted is not None and not isinstance(wanted, list):
        raise errors.invalid_param("apis")
    env = _env(call, env_id) if env_id else None
    version = _optional(body, "version") or _now(call).strftime("%Y-%m-%d %H:%M:%S")

    instance = call.instance
    apis = []
    for api in instance.group_apis(group["id"]):
        if wanted is not None and api["id"] not in wanted:
            continue
        if define == "dev":
            apis.append(api)
            continue
        # Published scopes export what runs in the environment, not later edits.
        publications = ([instance.publication(api["id"], env["id"])] if env
                        else [pub for _env, pub in instance.current_publications(api["id"])])
        publication = next((p for p in publications if p is not None), None)
        if publication is not None:
            apis.append(instance.versions[publication["version_id"]]["definition"])
    document = render_api_export(group, apis, define, oas_version, version, fmt, env, _export_shuffler(call))
    return document, fmt, group


def file_response(document: bytes, filename: str) -> Response:
    """A file download; a non-ASCII name (Chinese group names are common) goes in RFC 6266 filename*."""
    if filename.isascii():
        disposition = f'attachment; filename="{filename}"'
    else:
        fallback = "export" + filename[filename.rfind("."):]
        disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(document, status=200, content_type="application/octet-stream",
                    headers={"Content-Disposition": disposition})


def export_sync(call: Call) -> Response:
    document, fmt, group = _render_group_export(call)
    return file_response(document, f"{group['name']}.{fmt}")


def export_async(call: Call) -> Response:
    document, fmt, _name = _render_group_export(call)
    task_id = new_id()
    call.instance.tasks[task_id] = {
        "task_id": task_id,
        "task_type": "export_api",
        "file_type": fmt,
        "document": document.decode("utf-8"),
        "created": time.monotonic(),
        "seconds": float(call.state.setting("task_seconds")),
        "fail": bool(call.state.setting("task_fail")),
    }
    return answer(call, {"task_id": task_id}, 202)


def show_task(call: Call) -> Response:
    task = call.instance.tasks.get(call.values["task_id"])
    if task is None:
        raise errors.task_not_found(call.values["task_id"])
    elapsed = time.monotonic() - task["created"]
    view = {"task_id": task["task_id"], "task_type": task["task_type"]}
    if elapsed < task["seconds"] * 0.25:
        view["task_status"] = "waiting"
    elif elapsed < task["seconds"]:
        view["task_status"] = "processing"
    elif task["fail"]:
        view["task_status"] = "failed"
        view["task_result"] = json.dumps({"error_code": "APIG.9999", "error_msg": "System error"})
    else:
        view["task_status"] = call.state.setting("task_success_spelling")
        view["task_result"] = json.dumps({"file_type": task["file_type"], "content": task["document"]},
                                         ensure_ascii=False)
    return answer(call, view)


# --- ROMA custom backend (livedata) APIs --------------------------------------------------------

def _livedata(call: Call, ld_api_id: str) -> dict:
    ld_api = call.instance.backend_apis.get(ld_api_id)
    if ld_api is None:
        raise errors.livedata_not_found(ld_api_id)
    return ld_api


def list_livedata(call: Call) -> Response:
    args, precise = call.args, _precise(call)
    status = args.get("status")
    if status:
        try:
            status = int(status)
        except ValueError:
            raise errors.invalid_param("status")

    def selected(ld_api: dict) -> bool:
        if args.get("app_id") and ld_api["roma_app_id"] != args["app_id"]:
            return False
        if args.get("app_name") and not _text_match(ld_api["roma_app_name"], args["app_name"], False):
            return False
        if args.get("name") and not _text_match(ld_api["name"], args["name"], "name" in precise):
            return False
        if args.get("path") and not _text_match(ld_api["path"], args["path"], "path" in precise):
            return False
        return not status or ld_api["status"] == status

    page, total = _page(call, [b for b in call.instance.backend_apis.values() if selected(b)])
    return answer(call, {"size": len(page), "total": total, "apis": [views.livedata_view(b) for b in page]})


def show_livedata(call: Call) -> Response:
    return answer(call, views.livedata_view(_livedata(call, call.values["ld_api_id"])))


def deploy_livedata(call: Call) -> Response:
    instance = call.instance
    ld_api = _livedata(call, call.values["ld_api_id"])
    body = call.json()
    front, group, env = None, None, None
    if body.get("deploy_front_api"):
        for name in ("auth_type", "group_id", "env_id", "protocol"):
            _required(body, name)
        group = _group(call, body["group_id"])
        env = _env(call, body["env_id"])
        front = _front_api_for(call, ld_api, group, body)
    now = _now(call)
    ld_api["status"] = 4
    ld_api["modified_time"] = iso(now)
    if front is not None:
        instance.publish(front, env, f"Deployed with backend API {ld_api['name']}", _now(call))
    record = {
        "id": new_id(),
        "ld_api_id": ld_api["id"],
        "group_id": group["id"] if group else None,
        "env_id": env["id"] if env else None,
        "api_id": front["id"] if front else None,
        "deploy_time": iso(now),
        "api_definition": views.livedata_view(ld_api),
    }
    instance.deploy_history.setdefault(ld_api["id"], []).append(record)
    return answer(call, record, 201)


def _front_api_for(call: Call, ld_api: dict, group: dict, body: dict) -> dict:
    """The frontend API a deployment publishes: the one already bound to the backend, or a new one."""
    instance = call.instance
    existing = next((a for a in instance.group_apis(group["id"]) if a["ld_api_id"] == ld_api["id"]), None)
    if existing is not None:
        return existing
    taken = {a["name"] for a in instance.group_apis(group["id"])}
    name = ld_api["name"] if ld_api["name"] not in taken else f"{ld_api['name']}_{ld_api['id'][:6]}"
    locations = {"Parameters": "QUERY", "Headers": "HEADER"}
    path = _optional(body, "path") or ld_api["path"]
    method = (_optional(body, "method") or ld_api["method"]).upper()
    timeout = body.get("backend_timeout")
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)):
        raise errors.invalid_param("backend_timeout")
    return call.state.add_api(instance, group, {
        "id": new_id(),
        "name": name,
        "req_method": method,
        "req_uri": path,
        "req_protocol": body["protocol"].upper(),
        "auth_type": body["auth_type"].upper(),
        "cors": bool(body.get("cors", False)),
        "remark": f"Frontend API of backend API {ld_api['name']}",
        "ld_api_id": ld_api["id"],
        "roma_app_id": _optional(body, "roma_app_id") or ld_api["roma_app_id"],
        "roma_app_name": ld_api["roma_app_name"],
        "req_params": [{"name": p["name"], "location": locations[p["in"]], "required": 1 if p["required"] else 2,
                        "description": p["description"]}
                       for p in ld_api["parameters"] if p["in"] in locations],
        "backend_api": {"req_protocol": "HTTPS", "req_method": method, "req_uri": ld_api["path"],
                        "url_domain": f"{instance.id}.livedata.roma.internal",
                        "timeout": timeout or 60000},
    })


def _undeploy(call: Call, ld_api_id: str) -> Response:
    """Status 4 -> 3; the frontend APIs published for the backend go offline and are deleted."""
    ld_api = _livedata(call, ld_api_id)
    if ld_api["status"] != 4:
        raise errors.livedata_not_deployed(ld_api_id)
    ld_api["status"] = 3
    ld_api["modified_time"] = iso(_now(call))
    for api in [a for a in call.instance.apis.values() if a["ld_api_id"] == ld_api_id]:
        call.instance.delete_api(api["id"])
    return no_content()


def undeploy_livedata(call: Call) -> Response:
    return _undeploy(call, call.values["ld_api_id"])


def undeploy_livedata_v1(call: Call) -> Response:
    return _undeploy(call, _required(call.json(), "ld_api_id"))


def livedata_history(call: Call) -> Response:
    ld_api = _livedata(call, call.values["ld_api_id"])
    histories = _maybe_shuffled(call, sorted(call.instance.deploy_history.get(ld_api["id"], []),
                                             key=lambda h: h["deploy_time"], reverse=True))
    return answer(call, {"size": len(histories), "total": len(histories), "histories": histories})


def export_livedata(call: Call) -> Response:
    body = call.json()
    fmt = _optional(body, "format") or "json"
    if fmt not in EXPORT_FORMATS:
        raise errors.invalid_param("format")
    status = body.get("status")
    if status is not None and status not in (1, 3, 4):
        raise errors.invalid_param("status")
    wanted = body.get("apis")
    if wanted is not None and not isinstance(wanted, list):
        raise errors.invalid_param("apis")
    app_id = _optional(body, "app_id")
    selected = [b for b in call.instance.backend_apis.values()
                if (not app_id or b["roma_app_id"] == app_id)
                and (wanted is None or b["id"] in wanted)
                and (status is None or b["status"] == status)]
    instance = call.instance
    document = render_livedata_export(selected, fmt, {"id": instance.id, "name": instance.name,
                                                      "project_id": instance.project_id, "region": instance.region},
                                      _export_shuffler(call))
    return file_response(document, f"livedata-apis.{fmt}")


# --- IAM ----------------------------------------------------------------------------------------

def create_token(call: Call) -> Response:
    token, body = issue_token(call.state, call.json(), with_catalog=not call.args.get("nocatalog"))
    return json_response(body, 201, headers={"X-Subject-Token": token})
