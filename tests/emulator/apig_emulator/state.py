"""In-memory model of APIG gateways and ROMA Connect instances, loaded from a seed data file.

Records are plain dicts with the keys the HTTP views and the export renderer share (the package
docstring lists them). Every mutation happens under `EmulatorState.lock`.
"""

from __future__ import annotations

import copy
import hashlib
import random
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone

RELEASE_ENV_ID = "DEFAULT_ENVIRONMENT_RELEASE_ID"
RELEASE_ENV_NAME = "RELEASE"
MAX_VERSIONS_PER_ENV = 10
KINDS = ("apig", "roma")

DEFAULT_SETTINGS = {
    "task_seconds": 1.0,
    "task_success_spelling": "succeed",
    "task_fail": False,
    "token_ttl_seconds": 86400,
    "max_clock_skew_seconds": 900,
    "time_format": "fraction",
    "joined_order": "oldest_first",
    "export_shuffle": False,
    "list_shuffle": False,
    "shuffle_seed": 0,
}
# How answers render stored times (TIME_FORMATS below); the stored times never change.
TIME_FORMATS = ("fraction", "whole_seconds", "offset", "offset_whole", "offset_compact", "no_zone", "millis3",
                "nanos9", "fraction8")
SETTING_CHOICES = {"time_format": TIME_FORMATS, "joined_order": ("oldest_first", "newest_first")}
BOOLEAN_SETTINGS = ("export_shuffle", "list_shuffle")
# The offset the offset formats show: Beijing time, what Huawei Cloud's consoles use.
LOCAL_ZONE = timezone(timedelta(hours=8))

_PATH_VAR = re.compile(r"\{([^{}]+)\}")


class SeedError(ValueError):
    """The seed data file is inconsistent (unknown reference, ambiguous name...)."""


class Clock:
    """UTC time that strictly increases between calls, so an edit right after a publication is later."""

    def __init__(self):
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            current = datetime.now(timezone.utc)
            if self._last is not None and current <= self._last:
                current = self._last + timedelta(microseconds=1)
            self._last = current
            return current

    def stamp(self) -> str:
        return iso(self.now())

    def not_before(self, moment: datetime) -> None:
        """Later readings come after `moment`, so times set by hand stay in the past."""
        with self._lock:
            if self._last is None or moment > self._last:
                self._last = moment


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(stamp: str) -> datetime:
    """A stored time (the iso() form) as an aware datetime."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def render_time(stamp: str, time_format: str) -> str:
    """A stored time as an answer shows it under the `time_format` setting (same instant, truncated)."""
    if time_format == "fraction":
        return stamp
    moment = parse_stamp(stamp)
    local = moment.astimezone(LOCAL_ZONE)
    whole = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "whole_seconds": f"{whole}Z",
        "no_zone": stamp[:-1],
        "millis3": f"{whole}.{moment.microsecond // 1000:03d}Z",
        "nanos9": f"{stamp[:-1]}000Z",
        "fraction8": f"{stamp[:-1]}00Z",
        "offset": local.isoformat(timespec="microseconds"),
        "offset_whole": local.isoformat(timespec="seconds"),
        "offset_compact": local.strftime("%Y-%m-%dT%H:%M:%S.%f%z"),
    }[time_format]


def normalize_time(value) -> str:
    """Seed files may write times loosely (YAML datetimes, no fraction, offsets): store one format."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    return iso(moment)


def stable_id(*parts: str) -> str:
    """A 32-hex ID derived from names, so seed objects keep their IDs across restarts and resets."""
    return hashlib.md5("/".join(parts).encode()).hexdigest()


def new_id() -> str:
    return uuid.uuid4().hex


def path_variables(uri: str) -> list[str]:
    return [name.rstrip("+") for name in _PATH_VAR.findall(uri or "")]


class Instance:
    """One gateway (kind `apig`) or ROMA Connect instance (kind `roma`) and everything in it."""

    def __init__(self, instance_id: str, project_id: str, kind: str, name: str, region: str):
        self.id = instance_id
        self.project_id = project_id
        self.kind = kind
        self.name = name
        self.region = region
        self.envs: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.apis: dict[str, dict] = {}
        self.backend_apis: dict[str, dict] = {}
        # api_id -> env_id -> {publish_id, version_id, publish_time, remark}; env order = publication order
        self.publications: dict[str, dict[str, dict]] = {}
        self.versions: dict[str, dict] = {}
        # (api_id, env_id) -> version IDs, oldest first, at most MAX_VERSIONS_PER_ENV
        self.version_history: dict[tuple[str, str], list[str]] = {}
        self.deploy_history: dict[str, list[dict]] = {}
        self.tasks: dict[str, dict] = {}

    # --- look-ups -------------------------------------------------------------------------------

    def find_env(self, ref: str) -> dict | None:
        env = self.envs.get(ref)
        if env is None:
            env = next((e for e in self.envs.values() if e["name"] == ref), None)
        return env

    def find_group(self, ref: str) -> dict | None:
        group = self.groups.get(ref)
        if group is None:
            group = next((g for g in self.groups.values() if g["name"] == ref), None)
        return group

    def find_api(self, ref: str) -> dict | None:
        api = self.apis.get(ref)
        if api is None:
            matches = [a for a in self.apis.values() if a["name"] == ref]
            if len(matches) > 1:
                raise SeedError(f"API name {ref!r} is ambiguous in instance {self.id}")
            api = matches[0] if matches else None
        return api

    def find_backend_api(self, ref: str) -> dict | None:
        ld_api = self.backend_apis.get(ref)
        if ld_api is None:
            ld_api = next((b for b in self.backend_apis.values() if b["name"] == ref), None)
        return ld_api

    def group_apis(self, group_id: str) -> list[dict]:
        return [api for api in self.apis.values() if api["group_id"] == group_id]

    def current_publications(self, api_id: str) -> list[tuple[dict, dict]]:
        """(env, publication) pairs of the API's live publications, oldest publication first."""
        return [(self.envs[env_id], pub) for env_id, pub in self.publications.get(api_id, {}).items()]

    def publication(self, api_id: str, env_id: str) -> dict | None:
        return self.publications.get(api_id, {}).get(env_id)

    def times_of(self, api: dict) -> dict:
        """An API's stored times and its live publications' (the control API's view)."""
        return {"id": api["id"], "register_time": api["register_time"], "update_time": api["update_time"],
                "publications": [{"env_id": env["id"], "env_name": env["name"], "publish_id": pub["publish_id"],
                                  "version_id": pub["version_id"], "publish_time": pub["publish_time"]}
                                 for env, pub in self.current_publications(api["id"])]}

    # --- publication ----------------------------------------------------------------------------

    def publish(self, api: dict, env: dict, remark: str | None, now: datetime) -> dict:
        """Publish the API's current definition in env: a new effective version, history trimmed to 10."""
        api_id, env_id = api["id"], env["id"]
        previous = self.publication(api_id, env_id)
        if previous is not None:
            self.versions[previous["version_id"]]["status"] = 2
        stamp = iso(now)
        version = {
            "version_id": new_id(),
            "version_no": now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}",
            "api_id": api_id,
            "env_id": env_id,
            "env_name": env["name"],
            "remark": remark or "",
            "publish_time": stamp,
            "publish_id": new_id(),
            "status": 1,
            "definition": copy.deepcopy(api),
        }
        self.versions[version["version_id"]] = version
        history = self.version_history.setdefault((api_id, env_id), [])
        history.append(version["version_id"])
        while len(history) > MAX_VERSIONS_PER_ENV:
            self.versions.pop(history.pop(0), None)
        publications = self.publications.setdefault(api_id, {})
        # Re-inserting moves the env to the end, so the |-joined fields list publications oldest first.
        publications.pop(env_id, None)
        publications[env_id] = {
            "publish_id": version["publish_id"],
            "version_id": version["version_id"],
            "publish_time": stamp,
            "remark": version["remark"],
        }
        return version

    def take_offline(self, api_id: str, env_id: str) -> dict | None:
        """Remove the API's publication in env; its effective version becomes not effective."""
        publications = self.publications.get(api_id, {})
        publication = publications.pop(env_id, None)
        if publication is not None:
            version = self.versions.get(publication["version_id"])
            if version is not None:
                version["status"] = 2
        if not publications:
            self.publications.pop(api_id, None)
        return publication

    def switch_version(self, version: dict) -> None:
        """Make an older version of an API the effective one in its environment."""
        api_id, env_id = version["api_id"], version["env_id"]
        previous = self.publication(api_id, env_id)
        if previous is not None:
            self.versions[previous["version_id"]]["status"] = 2
        version["status"] = 1
        self.publications.setdefault(api_id, {})[env_id] = {
            "publish_id": version["publish_id"],
            "version_id": version["version_id"],
            "publish_time": version["publish_time"],
            "remark": version["remark"],
        }

    def delete_api(self, api_id: str) -> None:
        """Delete an API with its publications and version history."""
        for env_id in list(self.publications.get(api_id, {})):
            self.take_offline(api_id, env_id)
        for key in [key for key in self.version_history if key[0] == api_id]:
            for version_id in self.version_history.pop(key):
                self.versions.pop(version_id, None)
        self.apis.pop(api_id, None)

    def versions_of(self, api_id: str) -> list[dict]:
        """All kept versions of an API, newest first."""
        found = [v for v in self.versions.values() if v["api_id"] == api_id]
        return sorted(found, key=lambda v: v["publish_time"], reverse=True)


class EmulatorState:
    """The whole emulated cloud: projects, credentials, users, tokens, instances and settings."""

    def __init__(self, data: dict | None = None, **settings):
        self.lock = threading.RLock()
        self.clock = Clock()
        self._seed = copy.deepcopy(data or {})
        self._initial_settings = {**DEFAULT_SETTINGS, **settings}
        self.load()

    # --- seed loading ---------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)build everything from the seed data; issued tokens and tasks are forgotten."""
        with self.lock:
            data = copy.deepcopy(self._seed)
            self.settings = dict(self._initial_settings)
            # Orders of shuffled listings and exports: a new sequence per call, the same run after a reset.
            self.shuffler = random.Random(self.settings["shuffle_seed"])
            self.projects = {p["id"]: {"id": p["id"], "name": p.get("name", p["id"])}
                             for p in data.get("projects", [])}
            self.credentials = {c["access_key"]: c for c in data.get("credentials", [])}
            self.users = [self._load_user(u) for u in data.get("users", [])]
            self.tokens: dict[str, dict] = {}
            self.instances: dict[str, Instance] = {}
            for raw in data.get("instances", []):
                instance = self._load_instance(raw)
                self.instances[instance.id] = instance

    def _load_user(self, raw: dict) -> dict:
        user = dict(raw)
        user.setdefault("id", stable_id("user", raw["domain_name"], raw["name"]))
        user.setdefault("domain_id", stable_id("domain", raw["domain_name"]))
        return user

    def _load_instance(self, raw: dict) -> Instance:
        kind = raw.get("kind", "apig")
        if kind not in KINDS:
            raise SeedError(f"instance {raw.get('id')}: kind must be one of {KINDS}")
        project_id = raw["project_id"]
        if project_id not in self.projects:
            raise SeedError(f"instance {raw['id']}: unknown project {project_id}")
        region = self.projects[project_id]["name"]
        instance = Instance(raw["id"], project_id, kind, raw.get("name", f"{kind}-{raw['id'][:8]}"), region)
        now = self.clock.stamp()

        envs = list(raw.get("envs", []))
        if not any(e.get("id") == RELEASE_ENV_ID or e.get("name") == RELEASE_ENV_NAME for e in envs):
            envs.insert(0, {"id": RELEASE_ENV_ID, "name": RELEASE_ENV_NAME})
        for env_raw in envs:
            env_raw = {"name": env_raw} if isinstance(env_raw, str) else env_raw
            env = self._complete_env(instance, env_raw, now)
            instance.envs[env["id"]] = env

        for group_raw in raw.get("groups", []):
            group = self.complete_group(instance, group_raw, now)
            instance.groups[group["id"]] = group
            for api_raw in group_raw.get("apis", []):
                self.add_api(instance, group, api_raw)
        for spec in raw.get("generate", []):
            group = instance.find_group(spec["group"])
            if group is None:
                raise SeedError(f"generate: unknown group {spec['group']!r}")
            self.generate_apis(instance, group, int(spec.get("count", 1)), spec.get("prefix", "api-"))

        for ld_raw in raw.get("backend_apis", []):
            ld_api = self.complete_backend_api(instance, ld_raw, now)
            instance.backend_apis[ld_api["id"]] = ld_api
        for api in instance.apis.values():
            if api["ld_api_id"]:
                ld_api = instance.find_backend_api(api["ld_api_id"])
                if ld_api is None:
                    raise SeedError(f"API {api['name']}: unknown backend API {api['ld_api_id']!r}")
                api["ld_api_id"] = ld_api["id"]

        for item in raw.get("published", []):
            env = instance.find_env(item["env"])
            if env is None:
                raise SeedError(f"published: unknown environment {item['env']!r}")
            for api in self._seed_targets(instance, item):
                instance.publish(api, env, item.get("remark", "Initial publication"), self.clock.now())

        # APIs edited after their publication, so a release sees them as changed.
        for ref in raw.get("touched", []):
            api = instance.find_api(ref)
            if api is None:
                raise SeedError(f"touched: unknown API {ref!r}")
            api["update_time"] = self.clock.stamp()

        for ld_api in instance.backend_apis.values():
            if ld_api["status"] == 4:
                self._record_seed_deployment(instance, ld_api)
        return instance

    def _seed_targets(self, instance: Instance, item: dict) -> list[dict]:
        if "group" in item:
            group = instance.find_group(item["group"])
            if group is None:
                raise SeedError(f"published: unknown group {item['group']!r}")
            return instance.group_apis(group["id"])
        api = instance.find_api(item["api"])
        if api is None:
            raise SeedError(f"published: unknown API {item['api']!r}")
        return [api]

    def _record_seed_deployment(self, instance: Instance, ld_api: dict) -> None:
        front = next((a for a in instance.apis.values() if a["ld_api_id"] == ld_api["id"]), None)
        publications = instance.current_publications(front["id"]) if front else []
        env_id = publications[0][0]["id"] if publications else RELEASE_ENV_ID
        instance.deploy_history.setdefault(ld_api["id"], []).append({
            "id": stable_id("deploy", instance.id, ld_api["id"]),
            "ld_api_id": ld_api["id"],
            "group_id": front["group_id"] if front else None,
            "env_id": env_id if front else None,
            "api_id": front["id"] if front else None,
            "deploy_time": ld_api["modified_time"],
            "api_definition": copy.deepcopy(ld_api),
        })

    @staticmethod
    def _complete_env(instance: Instance, raw: dict, now: str) -> dict:
        name = raw["name"]
        env_id = raw.get("id") or (RELEASE_ENV_ID if name == RELEASE_ENV_NAME else stable_id("env", instance.id, name))
        remark = raw.get("remark")
        if remark is None:
            remark = "Production environment" if env_id == RELEASE_ENV_ID else f"{name} environment"
        return {"id": env_id, "name": name, "remark": remark,
                "create_time": normalize_time(raw["create_time"]) if raw.get("create_time") else now}

    def complete_group(self, instance: Instance, raw: dict, now: str) -> dict:
        group_id = raw.get("id") or stable_id("group", instance.id, raw["name"])
        roma_app_id = raw.get("roma_app_id")
        roma_app_name = raw.get("roma_app_name")
        if instance.kind == "roma" and roma_app_id is None:
            roma_app_id = str(uuid.UUID(stable_id("app", instance.id, raw["name"])))
            roma_app_name = roma_app_name or f"app_{raw['name']}"
        return {
            "id": group_id,
            "name": raw["name"],
            "remark": raw.get("remark", ""),
            "sl_domain": raw.get("sl_domain") or f"{group_id}.apic.{instance.region}.huaweicloudapis.com",
            "register_time": normalize_time(raw["register_time"]) if raw.get("register_time") else now,
            "update_time": normalize_time(raw["update_time"]) if raw.get("update_time") else now,
            "status": 1,
            "is_default": raw.get("is_default", 2),
            "roma_app_id": roma_app_id,
            "roma_app_name": roma_app_name,
        }

    def add_api(self, instance: Instance, group: dict, raw: dict) -> dict:
        api = self.complete_api(instance, group, raw)
        if api["id"] in instance.apis:
            raise SeedError(f"duplicate API ID {api['id']}")
        instance.apis[api["id"]] = api
        return api

    def complete_api(self, instance: Instance, group: dict, raw: dict) -> dict:
        """Fill realistic defaults into a (possibly very sparse) API record from a seed or control call."""
        now = self.clock.stamp()
        name = raw["name"]
        method = raw.get("req_method", "GET").upper()
        uri = raw.get("req_uri") or "/" + _slug(name)
        backend_type = raw.get("backend_type", "HTTP").upper()
        auth_type = raw.get("auth_type", "APP").upper()
        api = {
            "id": raw.get("id") or stable_id("api", instance.id, group["name"], name),
            "name": name,
            "group_id": group["id"],
            "type": int(raw.get("type", 1)),
            "version": str(raw.get("version", "1.0.0")),
            "req_protocol": raw.get("req_protocol", "HTTPS").upper(),
            "req_method": method,
            "req_uri": uri,
            "auth_type": auth_type,
            "match_mode": raw.get("match_mode", "NORMAL"),
            "cors": bool(raw.get("cors", False)),
            "remark": raw.get("remark", ""),
            "tags": list(raw.get("tags", [])),
            "req_params": _complete_params(raw.get("req_params", []), uri),
            "backend_type": backend_type,
            "backend_api": None,
            "mock_info": None,
            "func_info": None,
            "throttle": _complete_throttle(raw.get("throttle")),
            "acl": _complete_acl(raw.get("acl")),
            "authorizer": _complete_authorizer(raw.get("authorizer"), auth_type, instance, name),
            "ld_api_id": raw.get("ld_api_id"),
            "roma_app_id": raw.get("roma_app_id", group["roma_app_id"]),
            "roma_app_name": raw.get("roma_app_name", group["roma_app_name"]),
            "register_time": normalize_time(raw["register_time"]) if raw.get("register_time") else now,
            "update_time": normalize_time(raw["update_time"]) if raw.get("update_time") else now,
            "status": 1,
        }
        if backend_type == "MOCK":
            api["mock_info"] = {"result_content": '{"message": "mocked response"}', **(raw.get("mock_info") or {})}
        elif backend_type == "FUNCTION":
            api["func_info"] = {
                "function_urn": (f"urn:fss:{instance.region}:{instance.project_id}:function:default:"
                                 f"{re.sub(r'[^A-Za-z0-9_-]', '_', name)}:latest"),
                "invocation_type": "sync",
                "timeout": 5000,
                **(raw.get("func_info") or {}),
            }
        else:
            api["backend_api"] = {
                "req_protocol": "HTTPS",
                "req_method": method,
                "req_uri": uri,
                "url_domain": "backend.internal.example.com",
                "timeout": 5000,
                **(raw.get("backend_api") or {}),
            }
        return api

    def touch_api(self, api: dict, changes: dict) -> dict:
        """Simulate an edit: apply field changes (path parameters kept complete) and set update_time."""
        api.update(changes)
        if "req_uri" in changes or "req_params" in changes:
            api["req_params"] = _complete_params(api["req_params"], api["req_uri"])
        api["update_time"] = self.clock.stamp()
        return api

    def set_times(self, instance: Instance, api: dict, update_time: str | None = None,
                  register_time: str | None = None, publications: dict[str, str] | None = None) -> dict:
        """Set stored times by hand (normalised stamps; publications keyed by env ID).

        A publication's effective version gets the same publish_time, the |-joined fields stay oldest
        first, and each published definition keeps the update_time it had when published: the API's own
        when it was not edited since, otherwise one no later than the publication.
        """
        for env_id, stamp in (publications or {}).items():
            publication = instance.publication(api["id"], env_id)
            publication["publish_time"] = instance.versions[publication["version_id"]]["publish_time"] = stamp
        live = instance.publications.get(api["id"])
        if live:
            instance.publications[api["id"]] = dict(sorted(live.items(), key=lambda item: item[1]["publish_time"]))
        if register_time:
            api["register_time"] = register_time
        if update_time:
            api["update_time"] = update_time
        for _env, publication in instance.current_publications(api["id"]):
            definition = instance.versions[publication["version_id"]]["definition"]
            definition["register_time"] = api["register_time"]
            if api["update_time"] <= publication["publish_time"]:
                definition["update_time"] = api["update_time"]
            else:
                definition["update_time"] = min(definition["update_time"], publication["publish_time"])
        stamps = [stamp for stamp in (update_time, register_time, *(publications or {}).values()) if stamp]
        if stamps:
            self.clock.not_before(max(parse_stamp(stamp) for stamp in stamps))
        return instance.times_of(api)

    def touch_in_same_second(self, instance: Instance, api: dict, env_id: str, changes: dict) -> dict:
        """An edit later than the API's publication in env, within the same whole second.

        The edit is at .900000 of the publication's second; a publication at .900000 or later moves to
        .200000 of its second first.
        """
        published = parse_stamp(instance.publication(api["id"], env_id)["publish_time"])
        second = published.replace(microsecond=0)
        moved = {env_id: iso(second + timedelta(microseconds=200000))} if published.microsecond >= 900000 else None
        self.touch_api(api, changes)
        self.set_times(instance, api, update_time=iso(second + timedelta(microseconds=900000)), publications=moved)
        return api

    def generate_apis(self, instance: Instance, group: dict, count: int, prefix: str) -> list[dict]:
        """Many APIs at once (listing and batching tests use 1,200)."""
        methods = ("GET", "POST", "PUT", "DELETE")
        existing = sum(1 for a in instance.apis.values() if a["name"].startswith(prefix))
        created = []
        for number in range(existing + 1, existing + count + 1):
            name = f"{prefix}{number:04d}"
            created.append(self.add_api(instance, group, {
                "name": name,
                "req_method": methods[number % len(methods)],
                "req_uri": f"/{_slug(group['name'])}/{name}",
                "remark": f"Generated API {number}",
            }))
        return created

    def complete_backend_api(self, instance: Instance, raw: dict, now: str) -> dict:
        name = raw["name"]
        status = int(raw.get("status", 1))
        if status not in (1, 3, 4):
            raise SeedError(f"backend API {name}: status must be 1, 3 or 4")
        default_app = next((g for g in instance.groups.values() if g["roma_app_id"]), None)
        return {
            "id": raw.get("id") or stable_id("livedata", instance.id, name),
            "name": name,
            "path": raw.get("path") or "/" + _slug(name),
            "method": raw.get("method", "GET").upper(),
            "description": raw.get("description", ""),
            "version": str(raw.get("version", "1.0.0")),
            "content_type": raw.get("content_type", "application/json"),
            "return_format": bool(raw.get("return_format", False)),
            "parameters": [
                {"name": p["name"], "in": p.get("in", "Parameters"), "default": p.get("default"),
                 "description": p.get("description", ""), "required": bool(p.get("required", False))}
                for p in raw.get("parameters", [])
            ],
            "roma_app_id": raw.get("roma_app_id", default_app["roma_app_id"] if default_app else None),
            "roma_app_name": raw.get("roma_app_name", default_app["roma_app_name"] if default_app else None),
            "instance": instance.id,
            "type": raw.get("type", "data"),
            "status": status,
            "created_time": normalize_time(raw["created_time"]) if raw.get("created_time") else now,
            "modified_time": normalize_time(raw["modified_time"]) if raw.get("modified_time") else now,
        }

    # --- run-time helpers -----------------------------------------------------------------------

    def setting(self, name: str):
        return self.settings[name]

    def update_settings(self, changes: dict) -> dict:
        unknown = set(changes) - set(DEFAULT_SETTINGS)
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        for name, value in changes.items():
            if name in SETTING_CHOICES and value not in SETTING_CHOICES[name]:
                raise ValueError(f"{name} must be one of {SETTING_CHOICES[name]}, got {value!r}")
            if name in BOOLEAN_SETTINGS and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")
        if "shuffle_seed" in changes and not isinstance(changes["shuffle_seed"], int):
            raise ValueError("shuffle_seed must be an integer")
        with self.lock:
            self.settings.update(changes)
            if "shuffle_seed" in changes:
                self.shuffler = random.Random(self.settings["shuffle_seed"])
            return dict(self.settings)

    def dump(self) -> dict:
        """Everything, JSON-ready, for debugging."""
        with self.lock:
            return {
                "settings": dict(self.settings),
                "projects": list(self.projects.values()),
                "tokens": len(self.tokens),
                "instances": [{
                    "id": inst.id, "project_id": inst.project_id, "kind": inst.kind, "name": inst.name,
                    "envs": list(inst.envs.values()),
                    "groups": list(inst.groups.values()),
                    "apis": list(inst.apis.values()),
                    "publications": inst.publications,
                    "versions": [{k: v for k, v in ver.items() if k != "definition"}
                                 for ver in inst.versions.values()],
                    "backend_apis": list(inst.backend_apis.values()),
                    "deploy_history": inst.deploy_history,
                    "tasks": [{k: v for k, v in task.items() if k != "document"} for task in inst.tasks.values()],
                } for inst in self.instances.values()],
            }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "api"


def _complete_params(raw_params: list[dict], uri: str) -> list[dict]:
    params = []
    for raw in raw_params:
        location = raw.get("location", "QUERY").upper()
        params.append({
            "name": raw["name"],
            "type": raw.get("type", "STRING").upper(),
            "location": location,
            "required": int(raw.get("required", 1 if location == "PATH" else 2)),
            "description": raw.get("description", ""),
        })
    declared = {p["name"] for p in params if p["location"] == "PATH"}
    for name in path_variables(uri):
        if name not in declared:
            params.append({"name": name, "type": "STRING", "location": "PATH", "required": 1,
                           "description": f"{name} path parameter"})
    return params


def _complete_throttle(raw: dict | None) -> dict | None:
    if not raw:
        return None
    return {"name": raw.get("name", "default-throttle"), "api_call_limits": int(raw.get("api_call_limits", 1000)),
            "user_call_limits": int(raw.get("user_call_limits", 100)),
            "time_interval": int(raw.get("time_interval", 1)), "time_unit": raw.get("time_unit", "SECOND")}


def _complete_acl(raw: dict | None) -> dict | None:
    if not raw:
        return None
    return {"name": raw.get("name", "default-acl"), "acl_type": raw.get("acl_type", "PERMIT"),
            "entity_type": raw.get("entity_type", "IP"), "value": raw.get("value", "10.0.0.0/8")}


def _complete_authorizer(raw: dict | None, auth_type: str, instance: Instance, api_name: str) -> dict | None:
    if not raw and auth_type != "AUTHORIZER":
        return None
    raw = raw or {}
    return {
        "name": raw.get("name", "custom-authorizer"),
        "authorizer_type": raw.get("authorizer_type", "FUNC"),
        "function_urn": raw.get("function_urn",
                                f"urn:fss:{instance.region}:{instance.project_id}:function:default:authorizer:latest"),
        "identities": list(raw.get("identities", [{"name": "Authorization", "location": "HEADER"}])),
    }
