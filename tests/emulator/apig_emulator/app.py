"""The WSGI application: routing, fault injection, authentication, the request log and dispatch.

An instance of kind `apig` answers only under `/v2/{project_id}/apigw/instances/{id}`, kind `roma`
only under `/v2/{project_id}/apic/instances/{id}` (and the ROMA v1 undeploy path); anything else is
404 `APIG.3030`. `/_emulator/...` is the unauthenticated control API (see control.py).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import errors, handlers
from .auth import authenticate, expire_tokens
from .control import ControlApi
from .faults import FaultInjector
from .handlers import Call, json_response
from .state import EmulatorState

SERVICE_PATHS = {"apig": "apigw", "roma": "apic"}
BOTH = ("apig", "roma")
APIG = ("apig",)
ROMA = ("roma",)


@dataclass(frozen=True)
class Operation:
    name: str  # the SDK operation name, used in the request log and in fault rules
    request_class: str  # read | write | export | auth
    handler: Callable[[Call], Response]
    on_instance: bool = True


# (method, path after /v2/{project_id}/{apigw|apic}/instances/{instance_id}, operation, instance kinds)
INSTANCE_ROUTES = [
    ("POST", "/apis/publish", Operation("BatchPublishOrOfflineApiV2", "write", handlers.batch_publish), BOTH),
    ("POST", "/apis/action", Operation("CreateOrDeletePublishRecordForApiV2", "write", handlers.publish_one), BOTH),
    ("DELETE", "/apis/versions/<version_id>",
     Operation("DeleteApiByVersionIdV2", "write", handlers.offline_by_version), BOTH),
    ("PUT", "/apis/publish/<api_id>", Operation("ChangeApiVersionV2", "write", handlers.switch_version), BOTH),
    ("GET", "/apis", Operation("ListApisV2", "read", handlers.list_apis), BOTH),
    ("GET", "/apis/<api_id>", Operation("ShowDetailsOfApiV2", "read", handlers.show_api), BOTH),
    ("GET", "/apis/publish/<api_id>", Operation("ListApiVersionsV2", "read", handlers.list_api_versions), BOTH),
    ("GET", "/apis/versions/<version_id>", Operation("ListApiVersionDetailV2", "read", handlers.show_version), BOTH),
    ("GET", "/apis/runtime/<api_id>", Operation("ListApiRuntimeDefinitionV2", "read", handlers.show_runtime), BOTH),
    ("GET", "/envs", Operation("ListEnvironmentsV2", "read", handlers.list_envs), BOTH),
    ("GET", "/api-groups", Operation("ListApiGroupsV2", "read", handlers.list_groups), BOTH),
    ("GET", "/api-groups/<group_id>", Operation("ShowDetailsOfApiGroupV2", "read", handlers.show_group), BOTH),
    ("POST", "/openapi/export", Operation("ExportApiDefinitionsV2", "export", handlers.export_sync), BOTH),
    ("POST", "/openapi/async-export", Operation("ExportApiDefinitionsAsync", "export", handlers.export_async), APIG),
    ("GET", "/async-tasks/<task_id>", Operation("ShowAsyncTaskResult", "export", handlers.show_task), APIG),
    ("GET", "/livedata-apis", Operation("ListLiveDataApiV2", "read", handlers.list_livedata), ROMA),
    ("GET", "/livedata-apis/<ld_api_id>", Operation("ShowLiveDataApiV2", "read", handlers.show_livedata), ROMA),
    ("POST", "/livedata-apis/<ld_api_id>/deploy",
     Operation("PublishLiveDataApiV2", "write", handlers.deploy_livedata), ROMA),
    ("GET", "/livedata-apis/<ld_api_id>/deploy",
     Operation("ListLiveDataApiDeploymentHistoryV2", "read", handlers.livedata_history), ROMA),
    ("POST", "/livedata-apis/<ld_api_id>/undeploy",
     Operation("UnpublishLiveDataApiV2", "write", handlers.undeploy_livedata), ROMA),
    ("POST", "/openapi/livedata-apis/export",
     Operation("ExportLiveDataApiDefinitionsV2", "export", handlers.export_livedata), ROMA),
]
OTHER_ROUTES = [
    ("POST", "/v1/<project_id>/apic/instances/<instance_id>/livedata-apis/undeploy",
     Operation("UnpublishLiveDataApiV1", "write", handlers.undeploy_livedata_v1), "roma"),
    ("POST", "/v3/auth/tokens",
     Operation("KeystoneCreateUserTokenByPassword", "auth", handlers.create_token, on_instance=False), None),
]


def _unknown_route(call: Call) -> Response:
    raise errors.route_not_found()


UNKNOWN = Operation("Unknown", "read", _unknown_route, on_instance=False)


def build_routes() -> tuple[Map, dict[str, tuple[Operation, str | None]]]:
    rules, endpoints = [], {}
    for method, suffix, operation, kinds in INSTANCE_ROUTES:
        for kind in kinds:
            endpoint = f"{kind}:{operation.name}"
            rules.append(Rule(f"/v2/<project_id>/{SERVICE_PATHS[kind]}/instances/<instance_id>{suffix}",
                              methods=[method], endpoint=endpoint))
            endpoints[endpoint] = (operation, kind)
    for method, path, operation, kind in OTHER_ROUTES:
        rules.append(Rule(path, methods=[method], endpoint=operation.name))
        endpoints[operation.name] = (operation, kind)
    return Map(rules, strict_slashes=False, merge_slashes=False), endpoints


class RequestLog:
    """Every cloud request (not control calls), with counts per operation and per class."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.entries: list[dict] = []
            self.counts: Counter = Counter()
            self.classes: Counter = Counter()

    def add(self, entry: dict) -> None:
        with self._lock:
            self.entries.append(entry)
            self.counts[entry["op"]] += 1
            self.classes[entry["class"]] += 1

    def update(self, entry: dict, **fields) -> None:
        """Fill in an entry already logged (a late write's outcome, a held answer's status)."""
        with self._lock:
            entry.update(fields)

    def snapshot(self) -> dict:
        with self._lock:
            return {"requests": [dict(entry) for entry in self.entries], "counts": dict(self.counts),
                    "classes": dict(self.classes)}


class LateWrites:
    """Writes accepted now and applied later by timers (the `late_apply` fault).

    Applying and cancelling both hold the state lock, so a reset never races a write being applied.
    """

    def __init__(self, state_lock):
        self._state_lock = state_lock
        self._pending: set[threading.Timer] = set()
        self._generation = 0
        self._changed = threading.Condition()

    def schedule(self, delay: float, apply: Callable[[], None]) -> None:
        def fire():
            with self._state_lock:
                if timer not in self._pending:
                    return  # cancelled by a reset
                self._pending.discard(timer)
                apply()

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._state_lock:
            self._pending.add(timer)
        timer.start()

    def pending(self) -> int:
        with self._state_lock:
            return len(self._pending)

    def hold(self, seconds: float) -> None:
        """Keep a connection waiting, cut short by cancel()."""
        with self._changed:
            generation = self._generation
            self._changed.wait_for(lambda: self._generation != generation, timeout=seconds)

    def cancel(self) -> int:
        """Drop every write not applied yet and release held connections; returns how many were dropped."""
        with self._state_lock:
            cancelled = len(self._pending)
            for timer in self._pending:
                timer.cancel()
            self._pending.clear()
        with self._changed:
            self._generation += 1
            self._changed.notify_all()
        return cancelled


class ConnectionClosed(ConnectionAbortedError):
    """Raised after closing the client's connection on purpose; the server drops the exchange."""


class EmulatorApp:
    def __init__(self, state: EmulatorState, faults: FaultInjector | None = None):
        self.state = state
        self.faults = faults or FaultInjector()
        self.initial_faults = dict(self.faults.config)
        self.log = RequestLog()
        self.late_writes = LateWrites(state.lock)
        # API names or IDs the next write request deletes before it is handled (a race, see control.py)
        self.delete_before_next_write: list[str] = []
        self.url_map, self.endpoints = build_routes()
        self.control = ControlApi(self)

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/_emulator" or request.path.startswith("/_emulator/"):
            response = self.control.handle(request)
            response.headers["X-Request-Id"] = uuid.uuid4().hex
        else:
            response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        request_id = uuid.uuid4().hex
        operation, kind, values = self._route(request)
        entry = {
            "op": operation.name,
            "class": operation.request_class,
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(),
            "status": None,
            "fault": None,
            "auth": "token" if request.headers.get("X-Auth-Token") else
                    "aksk" if request.headers.get("Authorization") else None,
            "request_id": request_id,
            "time": time.time(),
        }
        decision = self.faults.decide(operation.name, operation.request_class)
        entry["fault"] = decision.label()
        if decision.latency_ms:
            time.sleep(decision.latency_ms / 1000.0)
        if decision.expire_tokens:
            with self.state.lock:
                expire_tokens(self.state)
        if decision.kind == "drop":
            self.log.add(entry)
            close_connection(request.environ)
        if decision.kind == "late_apply":
            return self._late_apply(request, operation, kind, values, entry, decision.rule)

        if decision.kind == "429":
            response = error_response(errors.throttled(decision.rule.retry_after))
        elif decision.kind in ("500", "503"):
            response = error_response(errors.server_error(int(decision.kind), decision.rule.retry_after))
        else:
            response = self._handle(request, operation, kind, values, entry)

        response.headers["X-Request-Id"] = request_id
        entry["status"] = response.status_code
        self.log.add(entry)
        if decision.kind == "lost_response":
            close_connection(request.environ)
        return response

    def _route(self, request: Request) -> tuple[Operation, str | None, dict]:
        try:
            endpoint, values = self.url_map.bind_to_environ(request.environ).match()
        except HTTPException:
            return UNKNOWN, None, {}
        operation, kind = self.endpoints[endpoint]
        return operation, kind, values

    def _handle(self, request: Request, operation: Operation, kind: str | None, values: dict,
                entry: dict) -> Response:
        call = self._prepare(request, operation, values, entry)
        if isinstance(call, Response):
            return call
        return self._execute(call, operation, kind, values)

    def _prepare(self, request: Request, operation: Operation, values: dict, entry: dict) -> Call | Response:
        """Read the body and authenticate: what happens before the gateway processes a request."""
        try:
            body = request.get_data(cache=True)
            if request.is_json or body[:1] in (b"{", b"["):
                entry["body"] = _loggable_body(body, operation)
            call = Call(self.state, request, body, values)
            call.args  # parsed now: a late write reads it after the exchange is over
            if "project_id" in values:
                identity = authenticate(self.state, request.method, _raw_path(request.environ),
                                        request.environ.get("QUERY_STRING", ""), request.headers, body)
                if not identity.may_use(values["project_id"]):
                    raise errors.forbidden()
            return call
        except errors.ApiError as error:
            return error_response(error)
        except Exception:  # noqa: BLE001 - a bug must still answer like the cloud does
            traceback.print_exc(file=sys.stderr)
            return error_response(errors.server_error(500))

    def _execute(self, call: Call, operation: Operation, kind: str | None, values: dict) -> Response:
        try:
            with self.state.lock:
                if operation.on_instance:
                    call.instance = self._instance(values, kind)
                    if operation.request_class == "write" and self.delete_before_next_write:
                        self._delete_apis(call.instance)
                return operation.handler(call)
        except errors.ApiError as error:
            return error_response(error)
        except Exception:  # noqa: BLE001 - a bug must still answer like the cloud does
            traceback.print_exc(file=sys.stderr)
            return error_response(errors.server_error(500))

    def _late_apply(self, request: Request, operation: Operation, kind: str | None, values: dict, entry: dict,
                    rule) -> Response:
        """The client sees a failure now; the write is applied `delay_seconds` later.

        A request refused before processing (a bad signature...) is never applied; its status is
        logged as `apply_status`.
        """
        call = self._prepare(request, operation, values, entry)
        if isinstance(call, Response):
            entry["apply_status"] = call.status_code
        else:
            def apply():
                response = self._execute(call, operation, kind, values)
                self.log.update(entry, applied_at=time.time(), apply_status=response.status_code)

            entry.update(apply_due=time.time() + rule.delay_seconds, applied_at=None, apply_status=None)
            self.late_writes.schedule(rule.delay_seconds, apply)
        self.log.add(entry)
        if rule.answer == "drop":
            close_connection(request.environ)
        if rule.answer == "timeout":
            self.late_writes.hold(rule.hold_seconds)
        response = error_response(errors.server_error(502 if rule.answer == "502" else 504))
        response.headers["X-Request-Id"] = entry["request_id"]
        self.log.update(entry, status=response.status_code)
        return response

    def _delete_apis(self, instance) -> None:
        refs, self.delete_before_next_write = set(self.delete_before_next_write), []
        for api in [a for a in instance.apis.values() if a["id"] in refs or a["name"] in refs]:
            instance.delete_api(api["id"])

    def _instance(self, values: dict, kind: str):
        instance = self.state.instances.get(values["instance_id"])
        if instance is None or instance.kind != kind or instance.project_id != values["project_id"]:
            raise errors.instance_not_found(values["instance_id"])
        return instance


def error_response(error: errors.ApiError) -> Response:
    return json_response(error.body(), error.status, headers=error.headers)


def close_connection(environ) -> None:
    """Close the client's connection without an answer (Werkzeug's server exposes the socket)."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionClosed("connection closed by fault injection")


def _raw_path(environ) -> str:
    """The path as sent on the wire (percent-encoding intact), which the signature covers."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0]
    return quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/~")


def _loggable_body(body: bytes, operation: Operation):
    """JSON bodies go into the request log, except credentials sent to IAM."""
    if operation.request_class == "auth":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None
