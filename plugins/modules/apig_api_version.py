#!/usr/bin/python
# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: apig_api_version
short_description: Make a chosen version of APIs effective in an environment (roll back or forward)
version_added: 1.0.0
description:
  - Every publication of an API creates a version; the gateway keeps the newest versions of each API
    per environment (10) and lets any kept version be made the effective one. This module makes the
    version you choose effective for each API, on Huawei Cloud API Gateway (APIG) dedicated gateways
    and ROMA Connect instances, through C(PUT .../apis/publish/{api_id}) (C(ChangeApiVersionV2)).
  - "Choose the versions in one of three ways: O(as_of), a time (for each API, the version that was
    effective then); O(version_ids), a version ID per API; or O(publications), the publication to put
    back per API, as a release report of the role C(hwc.apig.release) records it (C(before))."
  - The version effective at O(as_of) is the newest version published at or before that time. The
    gateway's history records publications only, not take-offline events or earlier switches, so an
    API taken offline (or switched to an older version) before O(as_of) is still counted as being on
    the newest version published by then.
  - An API that was not published at O(as_of) (no version published by then, or created after it),
    or whose entry in O(publications) is null, is taken offline with O(absent=offline) (the default,
    through the batch endpoint) or left as it is with O(absent=keep).
  - Reads first and writes only what is needed. An API already on its target version (or already
    offline when it should be) is V(unchanged) with no write, so a second run changes nothing.
  - A target version that the gateway no longer keeps fails for that API with a message saying so;
    the module decides this from the version history it read, not from an error code.
  - After a write whose outcome is unknown (a timeout, a dropped connection, a server error or an
    unreadable answer after the request was sent) the module re-reads the effective version with
    growing delays for up to O(settle_timeout) seconds before it sends anything again, so a retry
    never switches twice; an outcome that cannot be settled fails that API with an "outcome unknown"
    message, and running the task again finishes the job.
author:
  - hwc.apig maintainers (@hwc-apig)
options:
  env:
    description:
      - Environment whose effective versions are changed, by name or ID (for example V(RELEASE)).
    type: str
    required: true
  apis:
    description:
      - With O(as_of), the APIs to act on, by name or ID. Without it, every API of O(api_group).
      - Not used with O(version_ids) or O(publications), whose keys name the APIs.
    type: list
    elements: str
  api_group:
    description:
      - API group, by name or ID. With O(as_of) and no O(apis), all APIs of the group; otherwise the
        scope in which API names are looked up (without it, the whole instance).
    type: str
  as_of:
    description:
      - A time. Each API is put on the version that was effective then - the newest version published
        at or before it.
      - ISO 8601 as the gateways answer with it - C(2026-11-30T08:00:00Z), C(2026-11-30 08:00:00.123456),
        C(2026-11-30T16:00:00+08:00) or C(+0800), 0 to 9 fraction digits - or epoch seconds or
        milliseconds. A time without a zone is UTC.
      - A version counts as published at or before O(as_of) when the C(publish_time) the gateway shows
        for it is not later than O(as_of); a time shown in whole seconds (or milliseconds) stands for
        the start of that second, so a version shown as C(08:10:00Z) counts for an O(as_of) of
        C(08:10:00.250Z).
      - Two versions whose times cannot be told apart (the same time as the gateway shows it) are not
        guessed between; that API fails, naming them.
      - Needs O(apis) or O(api_group).
    type: str
  version_ids:
    description:
      - Mapping of API (name or ID) to the version ID to make effective in O(env).
    type: dict
  publications:
    description:
      - Mapping of API (name or ID) to the publication to put back in O(env) - a dict with
        C(publish_time) and optionally C(publish_id) and C(version_id), as the role's
        C(release-report.json) records a publication (C(before), C(after)) - or null when the API was
        not published there (then O(absent) decides).
      - With C(version_id), that version. Otherwise the one of the API's versions in O(env) whose
        C(publish_time) is that time; when several versions have that time at the precision the
        gateway shows, the version details (C(ListApiVersionDetailV2)) decide by C(publish_id).
    type: dict
  absent:
    description:
      - What to do with an API that was not published at O(as_of), or whose O(publications) entry is
        null.
      - V(offline) takes it offline in O(env) (a batch call), V(keep) leaves it as it is.
    type: str
    choices: [offline, keep]
    default: offline
  allow_partial:
    description:
      - When some APIs fail, still succeed and report them as V(failed) in RV(apis).
      - By default any failure fails the task, after reporting every API's outcome.
    type: bool
    default: false
extends_documentation_fragment:
  - hwc.apig.connection
  - hwc.apig.attributes
attributes:
  check_mode:
    support: full
    details: Makes the same reads and reports what would happen to each API, without writing.
  diff_mode:
    support: full
    details: Shows, for each API that changes, the version effective before and after.
  action_group:
    support: full
    membership:
      - hwc.apig.apig
notes:
  - Exactly one of O(as_of), O(version_ids) and O(publications) is required.
  - The module reads each API's version history (C(ListApiVersionsV2), one paged call per API, four
    at a time) only where the API listing cannot decide. With O(publications), an API whose live
    publication is already the one named (same C(publish_id) and the same C(publish_time) to the
    microsecond), or that should be offline and is not published, is decided from the listing alone;
    with O(as_of), so is an API created after that time.
  - Switching uses C(ChangeApiVersionV2) also for an API that is offline in O(env) (putting back a
    version of an API that a release took offline); a gateway that refuses it fails that API with
    its message.
  - Times in any of the forms the gateways answer with are understood - fractions of 0 to 9 digits,
    C(Z), C(+08:00), C(+0800) or no zone, and epoch milliseconds.
seealso:
  - module: hwc.apig.apig_api_info
    description: What is live, and each API's versions in an environment.
  - module: hwc.apig.apig_api_publish
    description: Publish APIs (a new version) or take them offline.
  - name: Switching the version of an API (APIG)
    description: The APIG call this module makes.
    link: https://support.huaweicloud.com/intl/en-us/api-apig/ChangeApiVersionV2.html
"""

EXAMPLES = r"""
- name: Put the orders group back on what was live at 08:00 UTC
  hwc.apig.apig_api_version:
    region: cn-north-4
    project_id: "{{ hwc_project_id }}"
    instance_id: "{{ hwc_instance_id }}"
    env: RELEASE
    api_group: orders
    as_of: "2026-11-30T08:00:00Z"

- name: Roll back two APIs, leaving alone those that were not published then (connection from module_defaults)
  module_defaults:
    group/hwc.apig.apig:
      service: roma
      region: cn-north-4
      instance_id: "{{ hwc_roma_instance_id }}"
  block:
    - name: Switch back
      hwc.apig.apig_api_version:
        env: pre-prod
        api_group: orders
        apis: [list-orders, get-order]
        as_of: "2026-11-30 16:00:00+08:00"
        absent: keep
      register: rollback

    - name: Show the version of each API before and after
      ansible.builtin.debug:
        msg: "{{ rollback.apis | items2dict(key_name='name', value_name='version_after') }}"

- name: Make given versions effective
  hwc.apig.apig_api_version:
    env: RELEASE
    api_group: orders
    version_ids:
      list-orders: 632b2c9e022941969af9a1d45735ae2c
      3a955b791bd24b1c9cd94c745f8d1aad: 9d7a4e1c3b2f4a5e8c6d0f1b2a3c4d5e

- name: Put back what was live before a release, from its report
  hwc.apig.apig_api_version:
    env: "{{ report.env.id }}"
    publications: "{{ report.apis | items2dict(key_name='id', value_name='before') }}"
    allow_partial: true
  vars:
    report: "{{ lookup('ansible.builtin.file', 'exports/release-report.json') | from_json }}"
"""

RETURN = r"""
apis:
  description: One entry per API, in the order given (or the group's order).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: API ID.
      type: str
      sample: 3a955b791bd24b1c9cd94c745f8d1aad
    name:
      description: API name.
      type: str
      sample: list-orders
    result:
      description:
        - What happened to the API (or would happen, in check mode).
        - V(switched) - another version is now effective.
        - V(taken_offline) - it was published in O(env) and is now offline there.
        - V(unchanged) - it was already on its target (or offline as it should be, or O(absent=keep)).
        - V(failed) - see RV(apis[].error_code) and RV(apis[].error_msg).
      type: str
      choices: [switched, taken_offline, unchanged, failed]
      sample: switched
    version_before:
      description:
        - ID of the version effective in O(env) before the run; null when the API was not published
          there.
        - Also null when the module did not need the API's version history to decide (see the notes);
          RV(apis[].publish_time_before) then identifies the version.
      type: str
      sample: 9d7a4e1c3b2f4a5e8c6d0f1b2a3c4d5e
    version_after:
      description:
        - ID of the version effective after the run (predicted in check mode); null when the API is
          offline in O(env) after the run, when it failed, or when its history was not read.
      type: str
      sample: 632b2c9e022941969af9a1d45735ae2c
    publish_time_before:
      description: Publication time of the version effective before the run; null when not published.
      type: str
      sample: "2026-11-30T08:10:04.363493Z"
    publish_time_after:
      description: Publication time of the version effective after the run; null when offline or failed.
      type: str
      sample: "2026-11-29T09:12:44.123456Z"
    error_code:
      description: Error code of a failed API.
      type: str
      sample: APIG.3022
    error_msg:
      description: Error message of a failed API.
      type: str
      sample: "version 632b2c9e022941969af9a1d45735ae2c is not kept by the gateway for this API in RELEASE"
summary:
  description: Number of APIs per result.
  returned: always
  type: dict
  sample: {"switched": 7, "taken_offline": 3, "unchanged": 25, "failed": 0}
call_errors:
  description:
    - Calls that failed during the run, with what the module was doing, the HTTP status, the error
      code and message, and the C(X-Request-Id) that Huawei support asks for. A write whose outcome
      was unknown is listed together with the read that tried to settle it.
  returned: always
  type: list
  elements: dict
  sample: [{"msg": "switching API list-orders to version 632b...: PUT /v2/.../apis/publish/3a95... failed: HTTP 504 ...",
            "status": 504, "error_code": "APIG.9999", "error_msg": "Gateway Timeout", "request_id": "8c5f..."}]
env:
  description: The environment acted on.
  returned: always
  type: dict
  sample: {"id": "DEFAULT_ENVIRONMENT_RELEASE_ID", "name": "RELEASE"}
"""

from ansible_collections.hwc.apig.plugins.module_utils import publication as pub
from ansible_collections.hwc.apig.plugins.module_utils import resolve
from ansible_collections.hwc.apig.plugins.module_utils.client import WRITE, ApigError, doing
from ansible_collections.hwc.apig.plugins.module_utils.module import ApigModule
from ansible_collections.hwc.apig.plugins.module_utils.results import ItemResults, error_fields
from ansible_collections.hwc.apig.plugins.module_utils.settle import settle_write

SWITCHED = "switched"
TAKEN_OFFLINE = "taken_offline"
UNCHANGED = "unchanged"
FAILED = "failed"
RESULTS = (SWITCHED, TAKEN_OFFLINE, UNCHANGED, FAILED)
CHANGES = (SWITCHED, TAKEN_OFFLINE)
# The gateway keeps this many versions per API and environment (the oldest go first).
KEPT_VERSIONS = 10
MAX_BATCH = 1000
EFFECTIVE = "1"
# A target that means "not published": taken offline (absent: offline) or left alone (absent: keep).
ABSENT = None
# The listing cannot decide: read the API's version history.
NEEDS_HISTORY = "needs history"


class Undecidable(Exception):
    """The history read cannot single out the target version; the message says why (the API fails)."""


# -- decisions (pure functions of what was read) ------------------------------------------------

def is_effective(version):
    return str(version.get("status")).strip() == EFFECTIVE


def effective_version(versions):
    """The version effective now (status 1), or None when the API is not published in the environment."""
    effective = [version for version in versions if is_effective(version)]
    return effective[0] if effective else None


def _moment(version):
    moment = pub.parse_time(version.get("publish_time"))
    if moment is None:
        raise Undecidable("the publish_time %r of version %s does not parse as a time" % (
            version.get("publish_time"), version.get("version_id")))
    return moment


def version_as_of(versions, as_of, kept=KEPT_VERSIONS):
    """The version effective at ``as_of`` (a Moment): the newest one published at or before it.

    ABSENT when no version was published by then and the history is complete. Raises Undecidable
    when the gateway may have pruned that version, or when two versions share the newest time.
    """
    dated = [(_moment(version), version) for version in versions]
    # At or before, as the gateway shows the time: one shown in whole seconds is the start of its second.
    candidates = [(moment, version) for moment, version in dated if tuple(moment) <= tuple(as_of)]
    if not candidates:
        if len(versions) >= kept:
            oldest = min(dated, key=lambda pair: tuple(pair[0]))[1]
            raise Undecidable(
                "the version effective at that time is older than the %d versions the gateway keeps for this "
                "API in the environment (the oldest kept was published at %s): it was pruned, or the API was "
                "not published then; give version_ids for this API" % (len(versions), oldest.get("publish_time")))
        return ABSENT
    newest_moment, newest = max(candidates, key=lambda pair: tuple(pair[0]))
    tied = [version for moment, version in candidates if version is not newest
            and pub.compare_times(moment, newest_moment) in (0, None)]
    if tied:
        raise Undecidable("versions %s were published at the same time as far as the gateway's times show (%s); "
                          "cannot tell which was effective; give version_ids for this API" % (
                              ", ".join(str(version.get("version_id")) for version in [newest] + tied),
                              newest.get("publish_time")))
    return newest


def version_by_id(versions, version_id, env_name):
    for version in versions:
        if version.get("version_id") == version_id:
            return version
    raise Undecidable(
        "version %s is not kept by the gateway for this API in %s (it keeps the %d newest per API and "
        "environment): it was pruned, or it belongs to another API or environment; kept: %s" % (
            version_id, env_name, KEPT_VERSIONS,
            ", ".join("%s (%s)" % (v.get("version_id"), v.get("publish_time")) for v in versions) or "none"))


def versions_published_at(versions, publish_time):
    """The versions whose publish_time is ``publish_time`` at the precision both have."""
    wanted = pub.parse_time(publish_time)
    return [version for version in versions if pub.compare_times(_moment(version), wanted) in (0, None)]


def version_for_publication(versions, publication, env_name, detail=None):
    """The version a publication ({publish_time, publish_id?}) made effective.

    ``detail(version_id)`` reads a version's detail; it decides between versions that share the time.
    """
    found = versions_published_at(versions, publication["publish_time"])
    if len(found) > 1 and publication.get("publish_id") and detail is not None:
        found = [version for version in found
                 if detail(version["version_id"]).get("publish_id") == publication["publish_id"]]
    if len(found) == 1:
        return found[0]
    if not found:
        raise Undecidable(
            "the version published at %s (publication %s) is not kept by the gateway for this API in %s any "
            "more (it keeps the %d newest per API and environment)" % (
                publication["publish_time"], publication.get("publish_id") or "-", env_name, KEPT_VERSIONS))
    raise Undecidable("versions %s were all published at %s and their details do not tell which is publication "
                      "%s; give version_ids for this API" % (
                          ", ".join(str(version.get("version_id")) for version in found),
                          publication["publish_time"], publication.get("publish_id") or "-"))


def listing_decision(api, env_id, mode, target, as_of=None):
    """What the API listing alone decides: ABSENT (not published at the target), a version-less
    UNCHANGED (already on the named publication), or NEEDS_HISTORY."""
    if mode == "publications":
        if target is None:
            return ABSENT
        live = pub.publications(api).get(env_id)
        if live and same_publication(live, target):
            return UNCHANGED
        return NEEDS_HISTORY
    if mode == "as_of":
        registered = pub.parse_time(api.get("register_time"))
        if registered is not None and pub.compare_times(registered, as_of) == 1:
            return ABSENT  # created after as_of: it cannot have been published then
    return NEEDS_HISTORY


def same_publication(live, target):
    """The live publication is the one named: same publish_id and the same time to the microsecond."""
    if not target.get("publish_id") or live.get("publish_id") != target.get("publish_id"):
        return False
    times = pub.parse_time(live.get("publish_time")), pub.parse_time(target.get("publish_time"))
    return None not in times and pub.compare_times(*times) == 0


def outcome(current_published, target, absent):
    """The result for an API from where it is and its target (a version dict or ABSENT)."""
    if target is ABSENT:
        if not current_published or absent == "keep":
            return UNCHANGED
        return TAKEN_OFFLINE
    return UNCHANGED if current_published and current_published.get("version_id") == target.get(
        "version_id") else SWITCHED


# -- options --------------------------------------------------------------------------------------

def validate(module):
    params = module.params
    module.require_name("env", "an environment")
    module.require_name("api_group", "an API group")
    if params["as_of"] is not None:
        if pub.parse_time(params["as_of"]) is None:
            module.fail_json(msg="as_of must be a time such as 2026-11-30T08:00:00Z (ISO 8601; no zone means UTC) "
                                 "or epoch seconds or milliseconds, got %r" % params["as_of"])
        if params["apis"] is None and params["api_group"] is None:
            module.fail_json(msg="as_of needs apis or api_group: which APIs to act on")
    module.require_names("apis", "API")
    for option in ("version_ids", "publications"):
        mapping = params[option]
        if mapping is None:
            continue
        if not mapping:
            module.fail_json(msg="%s must map at least one API (name or ID) to its target" % option)
        problems = [problem for key, value in mapping.items() for problem in [target_problem(option, key, value)]
                    if problem]
        if problems:
            module.fail_json(msg="%s: %s" % (option, "; ".join(problems)))


def target_problem(option, key, value):
    if not str(key).strip():
        return "an empty API name or ID"
    if option == "version_ids":
        if value is None or isinstance(value, (bool, dict, list)) or not str(value).strip():
            return "%s: the version ID must be a non-empty string, got %r" % (key, value)
        return None
    if value is None:
        return None
    if not isinstance(value, dict) or not value.get("publish_time"):
        return "%s: give null (not published) or a dict with publish_time (and publish_id), got %r" % (key, value)
    if pub.parse_time(value["publish_time"]) is None:
        return "%s: publish_time %r does not parse as a time" % (key, value["publish_time"])
    unknown = sorted(set(value) - {"publish_time", "publish_id", "version_id"})
    if unknown:
        return "%s: unknown keys %s (give publish_time and publish_id)" % (key, ", ".join(unknown))
    return None


def entry(api, result, before=None, after=None, **fields):
    """One API's outcome; ``before``/``after`` are {version_id, publish_time} or None (not published)."""
    before, after = before or {}, after or {}
    item = {"id": api.get("id"), "name": api.get("name"), "result": result,
            "version_before": before.get("version_id"), "version_after": after.get("version_id"),
            "publish_time_before": before.get("publish_time"), "publish_time_after": after.get("publish_time"),
            "error_code": None, "error_msg": None}
    item.update((key, value) for key, value in fields.items() if value is not None)
    return item


def state_of(version):
    return {"version_id": version.get("version_id"), "publish_time": version.get("publish_time")} if version else None


class Plan(object):
    """One API: what was read, its target and the decided result."""

    def __init__(self, api, target_spec):
        self.api = api
        self.target_spec = target_spec  # the version ID, publication or None given for it (as_of: None)
        self.versions = None  # the history, when read
        self.current = None  # {version_id, publish_time} effective now, None when not published
        self.target = ABSENT  # the version to make effective, or ABSENT
        self.result = None
        self.error = None  # (error_code, error_msg) for a failed API


class Switcher(object):
    """Options -> resolve -> read (listing, then histories where needed) -> decide -> act -> report."""

    def __init__(self, module):
        self.module = module
        self.client = module.client
        self.params = module.params
        self.items = module.item_results = ItemResults("apis", "APIs", RESULTS, CHANGES)
        if self.params["as_of"] is not None:
            self.mode, self.as_of = "as_of", pub.parse_time(self.params["as_of"])
        else:
            self.mode = "version_ids" if self.params["version_ids"] is not None else "publications"
            self.as_of = None

    # -- reads ---------------------------------------------------------------------------------
    def select(self):
        """[(api, target given for it)] in the order given."""
        params = self.params
        self.scope = resolve.ApiScope(self.client, params["env"], params["api_group"])
        self.env = self.scope.env
        if self.mode == "as_of":
            return [(api, None) for api in self.scope.select(params["apis"])]
        mapping = params[self.mode]
        keys = list(mapping)
        listing = self.scope.list_apis()
        # A rollback names thousands of APIs: one indexed pass, every bad key in one error.
        with doing("resolving the APIs of %s%s" % (self.mode, self.scope.label)):
            found = resolve.match_each("API", keys, listing, "group_name")
        chosen, seen = [], {}
        for key, api in zip(keys, found):
            if api["id"] in seen:
                if mapping[seen[api["id"]]] != mapping[key]:
                    raise resolve.ResolveError("%s names API %s (%s) twice (%r and %r) with different targets" % (
                        self.mode, api.get("name"), api["id"], seen[api["id"]], key))
                continue
            seen[api["id"]] = key
            chosen.append((api, mapping[key]))
        return chosen

    def history(self, api):
        """The API's versions in env (every page), or the ApigError that stopped the read."""
        try:
            with doing("reading the versions of API %s (%s) in %s" % (api.get("name"), api["id"], self.env.get("name"))):
                return pub.list_versions(self.client, api["id"], self.env["id"])
        except ApigError as error:
            return error

    def version_detail(self, version_id):
        with doing("reading version %s" % version_id):
            return self.client.call("GET", self.client.path("apis", "versions", version_id))

    # -- decisions -----------------------------------------------------------------------------
    def decide_from_listing(self, plan):
        live = pub.publications(plan.api).get(self.env["id"])
        plan.current = {"version_id": None, "publish_time": live.get("publish_time")} if live else None
        decided = listing_decision(plan.api, self.env["id"], self.mode, plan.target_spec, self.as_of)
        if decided is ABSENT:
            plan.target = ABSENT
            plan.result = outcome(plan.current, ABSENT, self.params["absent"])
            return True
        if decided == UNCHANGED:
            plan.target = plan.current
            plan.result = UNCHANGED
            return True
        return False

    def decide_from_history(self, plan, versions):
        plan.versions = versions
        plan.current = state_of(effective_version(versions))
        env_name = self.env.get("name")
        try:
            if self.mode == "as_of":
                plan.target = version_as_of(versions, self.as_of)
            elif self.mode == "version_ids":
                plan.target = version_by_id(versions, str(plan.target_spec).strip(), env_name)
            elif plan.target_spec is None:
                plan.target = ABSENT
            elif plan.target_spec.get("version_id"):
                plan.target = version_by_id(versions, plan.target_spec["version_id"], env_name)
            else:
                with doing("telling apart the versions of API %s published at %s" % (
                        plan.api.get("name"), plan.target_spec["publish_time"])):
                    plan.target = version_for_publication(versions, plan.target_spec, env_name, self.version_detail)
        except Undecidable as problem:
            plan.result, plan.error = FAILED, (None, str(problem))
            return
        except ApigError as error:
            self.items.note_error(error)
            plan.result, plan.error = FAILED, (error.error_code, error_fields(error)["error_msg"])
            return
        plan.result = outcome(plan.current, plan.target, self.params["absent"])

    def run(self):
        plans = [Plan(api, target) for api, target in self.select()]
        self.items.expect(plan.api["id"] for plan in plans)
        pending = [plan for plan in plans if not self.decide_from_listing(plan)]
        # One paged history call per API the listing cannot decide, four at a time.
        for plan, versions in zip(pending, self.client.map_concurrently(self.history, [p.api for p in pending])):
            if isinstance(versions, ApigError):
                self.items.note_error(versions)
                plan.result, plan.error = FAILED, (versions.error_code, error_fields(versions)["error_msg"])
            else:
                self.decide_from_history(plan, versions)
        for plan in plans:
            if plan.result == FAILED:
                code, message = plan.error
                self.items.set(plan.api["id"], entry(plan.api, FAILED, plan.current, error_code=code,
                                                     error_msg=message))
            elif plan.result == UNCHANGED:
                self.items.set(plan.api["id"], entry(plan.api, UNCHANGED, plan.current, plan.current))
            elif self.module.check_mode:
                self.items.set(plan.api["id"], entry(plan.api, plan.result, plan.current, state_of(plan.target)))
        if not self.module.check_mode:
            self.write([plan for plan in plans if plan.result in CHANGES])
        return self.report(plans)

    # -- writes --------------------------------------------------------------------------------
    def write(self, plans):
        offline = [plan for plan in plans if plan.result == TAKEN_OFFLINE]
        tasks = [(self.take_offline, offline[start:start + MAX_BATCH]) for start in range(0, len(offline), MAX_BATCH)]
        tasks += [(self.switch, plan) for plan in plans if plan.result == SWITCHED]
        # Independent writes go out side by side on the client's small pool; results are recorded here.
        for record in self.client.map_concurrently(lambda task: task[0](task[1]), tasks):
            record()

    def switch(self, plan):
        """One ChangeApiVersionV2 call; an ambiguous failure is settled by re-reading the effective version."""
        target_id = plan.target["version_id"]
        written = settle_write(self.client, [plan], self.send_switch, self.reread_effective,
                               lambda _plan, now: now is not None and now.get("version_id") == target_id,
                               settle_timeout=self.params["settle_timeout"])
        refusal_state = None
        if written.failed and not written.failed[0][1].maybe_applied:
            refusal_state = self.after_refusal(plan)
        return lambda: self.record_switch(plan, written, refusal_state)

    def send_switch(self, items, budget):
        [plan] = items
        with doing("switching API %s (%s) to version %s in %s" % (
                plan.api.get("name"), plan.api["id"], plan.target["version_id"], self.env.get("name"))):
            return self.client.call("PUT", self.client.path("apis", "publish", plan.api["id"]),
                                    body={"version_id": plan.target["version_id"]}, kind=WRITE, budget=budget)

    def reread_effective(self, items):
        current = []
        for plan in items:
            versions = self.history(plan.api)
            if isinstance(versions, ApigError):
                raise versions
            current.append(effective_version(versions))
        return current

    def after_refusal(self, plan):
        """A definitive refusal: read the history once (the versions, or the error that stopped the read)
        and go by what it shows, not by the error code."""
        return self.history(plan.api)

    def record_switch(self, plan, written, refusal_state):
        api = plan.api
        for error in written.errors:
            self.items.note_error(error)
        if isinstance(refusal_state, ApigError):
            self.items.note_error(refusal_state)
        target = state_of(plan.target)
        for _item, answer in written.answers:
            after = {"version_id": answer.get("version_id") or target["version_id"],
                     "publish_time": answer.get("publish_time") or target["publish_time"]}
            self.items.set(api["id"], entry(api, SWITCHED, plan.current, after))
        for _item, now in written.applied:
            self.items.set(api["id"], entry(api, SWITCHED, plan.current, state_of(now)))
        for _item, error in written.failed:
            fields = error_fields(error)
            if isinstance(refusal_state, list):
                now = effective_version(refusal_state)
                if now is not None and now.get("version_id") == target["version_id"]:
                    ours = any(seen.maybe_applied for seen in written.errors)
                    self.items.set(api["id"], entry(api, SWITCHED if ours else UNCHANGED, plan.current, state_of(now)))
                    continue
                if not any(v.get("version_id") == target["version_id"] for v in refusal_state):
                    fields["error_msg"] = "%s; the gateway no longer keeps version %s for this API in %s" % (
                        fields["error_msg"], target["version_id"], self.env.get("name"))
            self.items.set(api["id"], entry(api, FAILED, plan.current, **fields))

    def take_offline(self, plans):
        """One batch call; an ambiguous failure is settled by re-reading the listing."""
        env_id = self.env["id"]
        written = settle_write(
            self.client, plans, self.send_offline, self.reread_listing,
            lambda _plan, now: now is None or env_id not in pub.publications(now),
            settle_timeout=self.params["settle_timeout"])
        refused = {}
        for _sent, answer in written.answers:
            refused.update((item.get("api_id"), item) for item in answer.get("failure") or [] if item.get("api_id"))
        now = None
        if refused:
            # Refused entries are decided by the state found now, not by their error code.
            try:
                now = dict((api["id"], api) for api in self.reread_listing(plans) if api)
            except ApigError as error:
                written.errors.append(error)
        return lambda: self.record_offline(written, refused, now)

    def send_offline(self, items, budget):
        body = {"apis": [plan.api["id"] for plan in items], "env_id": self.env["id"]}
        with doing("taking %d APIs offline in %s" % (len(items), self.env.get("name"))):
            return self.client.call("POST", self.client.path("apis", "publish"), query={"action": "offline"},
                                    body=body, kind=WRITE, budget=budget, require_body=True)

    def reread_listing(self, items):
        now = dict((api["id"], api) for api in self.scope.list_apis())
        return [now.get(plan.api["id"]) for plan in items]

    def record_offline(self, written, refused, now):
        env_id = self.env["id"]
        for error in written.errors:
            self.items.note_error(error)
        for plan, _now in written.applied:
            self.items.set(plan.api["id"], entry(plan.api, TAKEN_OFFLINE, plan.current))
        for sent, answer in written.answers:
            done = set(item.get("api_id") for item in answer.get("success") or [])
            for plan in sent:
                api = plan.api
                failure = refused.get(api["id"])
                if failure is None and api["id"] in done:
                    self.items.set(api["id"], entry(api, TAKEN_OFFLINE, plan.current))
                    continue
                if failure is not None and now is not None and env_id not in pub.publications(now.get(api["id"]) or {}):
                    # Not published there any more: someone else took it offline meanwhile.
                    self.items.set(api["id"], entry(api, UNCHANGED, plan.current))
                    continue
                if failure is None:
                    failure = {"error_msg": "the batch answer did not mention this API"}
                self.items.set(api["id"], entry(api, FAILED, plan.current, error_code=failure.get("error_code"),
                                                error_msg=failure.get("error_msg")))
        for plan, error in written.failed:
            self.items.set(plan.api["id"], entry(plan.api, FAILED, plan.current, **error_fields(error)))

    # -- result --------------------------------------------------------------------------------
    def report(self, plans):
        extra = {"env": {"id": self.env["id"], "name": self.env.get("name")}}
        if self.module._diff:
            extra["diff"] = self.diff(plans)
        return self.items.finish(self.module, "in %s" % self.env.get("name"), self.params["allow_partial"], **extra)

    def diff(self, plans):
        def sides(_api, item):
            return (self.diff_side(item["version_before"], item["publish_time_before"]),
                    self.diff_side(item["version_after"], item["publish_time_after"]))

        label = "%s environment %s" % (self.module.service, self.env.get("name"))
        return self.items.diff([plan.api for plan in plans], sides, label)

    @staticmethod
    def diff_side(version_id, publish_time):
        if version_id is None and publish_time is None:
            return {"published": False}
        return {"published": True, "version_id": version_id, "publish_time": publish_time}


def main():
    module = ApigModule(
        argument_spec=dict(
            env=dict(type="str", required=True),
            apis=dict(type="list", elements="str"),
            api_group=dict(type="str"),
            as_of=dict(type="str"),
            version_ids=dict(type="dict"),
            publications=dict(type="dict"),
            absent=dict(type="str", default="offline", choices=["offline", "keep"]),
            allow_partial=dict(type="bool", default=False),
        ),
        required_one_of=[("as_of", "version_ids", "publications")],
        mutually_exclusive=[("as_of", "version_ids", "publications"), ("apis", "version_ids"),
                            ("apis", "publications")],
        supports_check_mode=True,
    )
    validate(module)
    module.run(lambda mod: Switcher(mod).run())


if __name__ == "__main__":
    main()
