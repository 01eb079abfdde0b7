"""The control API under /_emulator/: no authentication, loopback clients only.

    GET  /_emulator/health                      {"status": "ok"}
    GET  /_emulator/log                         {"requests": [...], "counts": {op: n}, "classes": {class: n}}
    POST /_emulator/log/reset
    GET  /_emulator/faults                      the current fault configuration
    POST /_emulator/faults                      replace it (body: fault config; {} clears)
    POST /_emulator/reset                       reload the seed data; clears the log, the faults and the
                                                late writes not applied yet
    POST /_emulator/apis/{api_id}/touch         simulate an edit: update_time = now (body: fields to change;
                                                with "same_second_as": env name or ID, the edit is later than
                                                the publication there but in the same whole second)
    GET  /_emulator/apis/{api_id}/times         the API's stored times and its publications'
    POST /_emulator/apis/{api_id}/times         set them: {"update_time", "register_time",
                                                "publications": {env name or ID: publish_time}} (any ISO form)
    POST /_emulator/instances/{iid}/apis        create APIs: {group, count, prefix} | {group, apis: [...]}
                                                | [{group, name, ...}, ...]
    POST /_emulator/races                       {"delete_before_next_write": [API name or ID, ...]}: the next
                                                write request deletes these APIs of its instance first, as
                                                if someone removed them between a client's read and write
    POST /_emulator/tokens/expire               expire every issued IAM token
    GET  /_emulator/settings                    task_seconds, task_success_spelling, task_fail,
    POST /_emulator/settings                    token_ttl_seconds, max_clock_skew_seconds, time_format,
                                                joined_order, export_shuffle, list_shuffle, shuffle_seed
    GET  /_emulator/state                       everything, for debugging
"""

from __future__ import annotations

import json

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .auth import expire_tokens
from .handlers import json_response
from .state import SeedError, normalize_time

# Fields of an API record that a touch may not change: identity and bookkeeping.
FROZEN_API_FIELDS = {"id", "group_id", "register_time", "update_time", "status"}
LOOPBACK = ("127.", "::1", "::ffff:127.")


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ControlApi:
    def __init__(self, app):
        self.app = app
        self.state = app.state
        self.url_map = Map([
            Rule("/_emulator/health", methods=["GET"], endpoint="health"),
            Rule("/_emulator/log", methods=["GET"], endpoint="log"),
            Rule("/_emulator/log/reset", methods=["POST"], endpoint="log_reset"),
            Rule("/_emulator/faults", methods=["GET"], endpoint="faults_get"),
            Rule("/_emulator/faults", methods=["POST"], endpoint="faults_set"),
            Rule("/_emulator/reset", methods=["POST"], endpoint="reset"),
            Rule("/_emulator/apis/<api_id>/touch", methods=["POST"], endpoint="touch"),
            Rule("/_emulator/apis/<api_id>/times", methods=["GET"], endpoint="times_get"),
            Rule("/_emulator/apis/<api_id>/times", methods=["POST"], endpoint="times_set"),
            Rule("/_emulator/instances/<instance_id>/apis", methods=["POST"], endpoint="create_apis"),
            Rule("/_emulator/races", methods=["POST"], endpoint="races"),
            Rule("/_emulator/tokens/expire", methods=["POST"], endpoint="expire_tokens"),
            Rule("/_emulator/settings", methods=["GET"], endpoint="settings_get"),
            Rule("/_emulator/settings", methods=["POST"], endpoint="settings_set"),
            Rule("/_emulator/state", methods=["GET"], endpoint="dump"),
        ], strict_slashes=False)

    def handle(self, request: Request) -> Response:
        if not str(request.remote_addr or "").startswith(LOOPBACK):
            return json_response({"error": "the control API answers loopback clients only"}, 403)
        try:
            endpoint, values = self.url_map.bind_to_environ(request.environ).match()
            body = _json_body(request)
            return json_response(getattr(self, endpoint)(body, **values))
        except HTTPException as error:
            return json_response({"error": error.description}, error.code or 404)
        except ControlError as error:
            return json_response({"error": error.message}, error.status)

    def health(self, body):
        return {"status": "ok"}

    def log(self, body):
        return self.app.log.snapshot() | {"late_writes_pending": self.app.late_writes.pending()}

    def log_reset(self, body):
        self.app.log.reset()
        return {"status": "ok"}

    def faults_get(self, body):
        return self.app.faults.config

    def faults_set(self, body):
        try:
            self.app.faults.configure(body or {})
        except (TypeError, ValueError, AttributeError) as error:
            raise ControlError(400, f"invalid fault configuration: {error}")
        return self.app.faults.config

    def reset(self, body):
        cancelled = self.app.late_writes.cancel()
        self.state.load()
        self.app.log.reset()
        self.app.faults.configure({}, seed=self.app.initial_faults.get("seed"))
        self.app.delete_before_next_write = []
        return {"status": "ok", "late_writes_cancelled": cancelled}

    def touch(self, body, api_id):
        if not isinstance(body or {}, dict):
            raise ControlError(400, "the body must be a JSON object of API fields")
        changes = dict(body or {})
        same_second_as = changes.pop("same_second_as", None)
        with self.state.lock:
            instance, api = self._find_api(api_id)
            refused = (set(changes) & FROZEN_API_FIELDS) | (set(changes) - set(api))
            if refused:
                raise ControlError(400, f"fields that cannot be changed: {sorted(refused)}")
            if same_second_as is None:
                return self.state.touch_api(api, changes)
            env_id = self._published_env(instance, api, same_second_as)
            return self.state.touch_in_same_second(instance, api, env_id, changes)

    def times_get(self, body, api_id):
        with self.state.lock:
            instance, api = self._find_api(api_id)
            return instance.times_of(api)

    def times_set(self, body, api_id):
        body = body or {}
        if (not isinstance(body, dict) or set(body) - {"update_time", "register_time", "publications"}
                or not isinstance(body.get("publications", {}), dict)):
            raise ControlError(400, 'expected {"update_time", "register_time", "publications": {env: time}}')
        with self.state.lock:
            instance, api = self._find_api(api_id)
            publications = {self._published_env(instance, api, env_ref): _stamp(stamp)
                            for env_ref, stamp in body.get("publications", {}).items()}
            return self.state.set_times(instance, api, _stamp(body.get("update_time")),
                                        _stamp(body.get("register_time")), publications)

    def _find_api(self, api_id):
        for instance in self.state.instances.values():
            api = instance.apis.get(api_id)
            if api is not None:
                return instance, api
        raise ControlError(404, f"API {api_id} does not exist")

    @staticmethod
    def _published_env(instance, api, env_ref) -> str:
        env = instance.find_env(str(env_ref))
        if env is None or instance.publication(api["id"], env["id"]) is None:
            raise ControlError(400, f"API {api['id']} is not published in environment {env_ref!r}")
        return env["id"]

    def create_apis(self, body, instance_id):
        with self.state.lock:
            instance = self.state.instances.get(instance_id)
            if instance is None:
                raise ControlError(404, f"instance {instance_id} does not exist")
            requests = body if isinstance(body, list) else [body or {}]
            created = []
            try:
                for spec in requests:
                    group = instance.find_group(str(spec.get("group", "")))
                    if group is None:
                        raise ControlError(404, f"group {spec.get('group')!r} does not exist")
                    if "count" in spec:
                        created += self.state.generate_apis(instance, group, int(spec["count"]),
                                                            spec.get("prefix", "api-"))
                    elif "apis" in spec:
                        created += [self.state.add_api(instance, group, raw) for raw in spec["apis"]]
                    else:
                        record = {k: v for k, v in spec.items() if k != "group"}
                        created.append(self.state.add_api(instance, group, record))
            except (KeyError, TypeError, ValueError, SeedError) as error:
                raise ControlError(400, f"invalid API definition: {error}")
            return {"created": len(created), "apis": created}

    def races(self, body):
        refs = (body or {}).get("delete_before_next_write", []) if isinstance(body, dict) else None
        if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
            raise ControlError(400, "expected {\"delete_before_next_write\": [API name or ID, ...]}")
        self.app.delete_before_next_write = list(refs)
        return {"delete_before_next_write": refs}

    def expire_tokens(self, body):
        with self.state.lock:
            return {"expired": expire_tokens(self.state)}

    def settings_get(self, body):
        return dict(self.state.settings)

    def settings_set(self, body):
        try:
            return self.state.update_settings(body or {})
        except KeyError as error:
            raise ControlError(400, f"unknown settings: {error.args[0]}")
        except ValueError as error:
            raise ControlError(400, str(error))

    def dump(self, body):
        return self.state.dump()


def _stamp(value) -> str | None:
    """A time in any ISO 8601 form, as stored (UTC, microseconds, Z); no zone means UTC."""
    if value is None:
        return None
    try:
        return normalize_time(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"not an ISO 8601 time: {value!r}")


def _json_body(request: Request):
    data = request.get_data()
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except ValueError:
        raise ControlError(400, "the body must be JSON")
