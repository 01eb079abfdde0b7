#!/usr/bin/python
# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: apig_backend_undeploy
short_description: Take ROMA Connect custom backend APIs out of service (undeploy them)
version_added: 1.0.0
description:
  - Undeploys custom backend APIs (C(livedata-apis)) of a ROMA Connect instance, given by name or ID.
  - B(Warning) - undeploying a custom backend API also takes offline and B(deletes) the frontend API
    that was published for it (Huawei's documented behaviour). The frontend APIs that will be (or were)
    deleted are listed per backend API in RV(backend_apis[].frontend_apis); run in check mode first to
    see them.
  - Works on ROMA Connect instances only. O(service) defaults to V(roma) for this module, and
    V(apig) - set on the task, through C(module_defaults) or E(HWC_APIG_SERVICE) - fails before any
    request is made.
  - Reads first and writes only what is needed. The status of every backend API comes from one paged
    listing (C(GET .../livedata-apis), 500 per page). Only a backend API whose status is V(4)
    (deployed) is undeployed; V(1) (to be developed) and V(3) (developing) are left V(unchanged), so a
    second run changes nothing and makes no write.
  - Names and IDs are matched exactly against that listing, and every value is checked before anything
    is written. A value that matches nothing fails the task with O(missing=fail), naming it and the
    candidates, and then nothing is undeployed; with O(missing=ignore) it is reported as V(absent). A
    name shared by several backend APIs always fails, listing them; give the ID instead.
  - One undeploy call per backend API (the API has no batch form). O(api_version) chooses between the
    current V(v2) call and the older V(v1) one.
  - After an undeploy call whose outcome is unknown (a timeout, a dropped connection, a server error or
    an unreadable answer after the request was sent) the module reads that backend API again, with
    growing delays for up to O(settle_timeout) seconds, and resends only when it is still deployed
    after that; a retry never undeploys twice. A backend API that no longer exists when the module
    writes (it was deleted after the listing was read) is reported as V(absent).
author:
  - hwc.apig maintainers (@hwc-apig)
options:
  backend_apis:
    description:
      - Custom backend APIs to undeploy, by name or ID.
      - An exact ID match wins, then an exact name match. A name shared by several backend APIs fails
        the task, naming them.
      - A backend API given twice (for example by name and by ID) is acted on once.
    type: list
    elements: str
    required: true
  api_version:
    description:
      - Which undeploy call to make.
      - V(v2) calls C(POST /v2/{project_id}/apic/instances/{instance_id}/livedata-apis/{ld_api_id}/undeploy)
        with no body, as the official Huawei SDK does.
      - >-
        V(v1) calls C(POST /v1/{project_id}/apic/instances/{instance_id}/livedata-apis/undeploy) with the
        body C({"ld_api_id": "..."}). Huawei lists this call among its out-of-date APIs; use it for
        instances that do not offer the V(v2) path.
      - The reads are the same for both.
    type: str
    choices: [v1, v2]
    default: v2
  missing:
    description:
      - What to do with a value of O(backend_apis) that matches no backend API of the instance.
      - V(fail) fails the task before anything is undeployed, naming every such value and the candidates.
      - V(ignore) reports it as V(absent) and goes on with the others (useful when a re-run finds a
        backend API already deleted).
      - A name that matches several backend APIs fails the task either way.
    type: str
    choices: [fail, ignore]
    default: fail
  allow_partial:
    description:
      - When some backend APIs fail to undeploy, still succeed and report them as V(failed) in
        RV(backend_apis).
      - By default any failure fails the task, after reporting every backend API's outcome.
    type: bool
    default: false
extends_documentation_fragment:
  - hwc.apig.connection
  - hwc.apig.attributes
attributes:
  check_mode:
    support: full
    details: Makes the same reads and reports what would happen to each backend API, including the
      frontend APIs that would be deleted, without writing.
  diff_mode:
    support: full
    details: Shows the status and the frontend APIs of each backend API that is undeployed, before and
      after.
  action_group:
    support: full
    membership:
      - hwc.apig.apig
notes:
  - Undeploying a custom backend API takes offline and deletes the frontend API published for it; this
    cannot be undone by this collection (deploy the backend API again with a new frontend API to
    restore the service). The frontend APIs are found in the instance's API listing
    (C(GET .../apis)), as the APIs whose C(ld_api_id) is the backend API's ID; the module reads that
    listing only when at least one backend API is to be undeployed.
  - After an undeploy, Huawei documents the backend API's status as V(3) (developing); that is the
    RV(backend_apis[].status_after) reported after a successful call, and the one predicted in check
    mode. After an ambiguous failure it is the status the module read again.
  - The listing's C(status) is read whether the service gives it as a number or as a string.
  - An undeploy refused with a definitive error is followed by one read of that backend API; the
    outcome follows the state found (gone is V(absent), still deployed is V(failed)), never an error
    code.
  - Cost of a run that undeploys N backend APIs - the listing of backend APIs (1 read per 500), the
    listing of the instance's APIs (1 read per 500 APIs) and N undeploy calls. A run with nothing to
    undeploy makes one listing read and no write.
seealso:
  - name: Canceling deployment of a backend API (v2)
    description: The ROMA Connect call used with O(api_version=v2).
    link: https://support.huaweicloud.com/api-roma/UnpublishLiveDataApiV2.html
  - name: Canceling deployment of a backend API (v1, out of date)
    description: The ROMA Connect call used with O(api_version=v1).
    link: https://support.huaweicloud.com/api-roma/UnpublishLiveDataApi.html
  - name: Custom backends in ROMA Connect
    description: What undeploying does to the frontend API published for a backend API.
    link: https://support.huaweicloud.com/intl/en-us/usermanual-roma/roma_03_2137.html
  - module: hwc.apig.apig_api_publish
"""

EXAMPLES = r"""
- name: See which frontend APIs undeploying two backend APIs would delete
  hwc.apig.apig_backend_undeploy:
    region: cn-north-4
    project_id: "{{ hwc_project_id }}"
    instance_id: "{{ hwc_roma_instance_id }}"
    backend_apis:
      - query_orders
      - bd42841c20184da6bbf457c6d8a06e37
  check_mode: true
  register: undeploy_plan

- name: Show the frontend APIs that would be deleted
  ansible.builtin.debug:
    msg: "{{ undeploy_plan.backend_apis | map(attribute='frontend_apis') | flatten | map(attribute='name') | list }}"

- name: Retire backend APIs (connection options from module_defaults), tolerating ones already deleted
  module_defaults:
    group/hwc.apig.apig:
      region: cn-north-4
      project_id: "{{ hwc_project_id }}"
      instance_id: "{{ hwc_roma_instance_id }}"
  block:
    - name: Undeploy
      hwc.apig.apig_backend_undeploy:
        backend_apis: "{{ retired_backend_apis }}"
        missing: ignore
      register: undeploy

    - name: Show what happened to each backend API
      ansible.builtin.debug:
        msg: "{{ undeploy.backend_apis | map(attribute='result') | list }}"

- name: Undeploy through the older v1 call, keep going when some fail
  hwc.apig.apig_backend_undeploy:
    backend_apis: [sync_inventory, query_orders]
    api_version: v1
    allow_partial: true
"""

RETURN = r"""
backend_apis:
  description: One entry per backend API, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Backend API ID; null for a name that matched nothing (V(absent)).
      type: str
      sample: bd42841c20184da6bbf457c6d8a06e37
    name:
      description: Backend API name; null for an ID that matched nothing (V(absent)).
      type: str
      sample: query_orders
    result:
      description:
        - What happened to the backend API (or would happen, in check mode).
        - V(undeployed) - it was deployed and is now undeployed.
        - V(unchanged) - it was not deployed (status V(1) or V(3)), or was undeployed by someone else
          before this module's call; nothing was written for it.
        - V(absent) - no such backend API (with O(missing=ignore)), or it was deleted before the module
          could undeploy it.
        - V(failed) - the undeploy call failed; see RV(backend_apis[].error_code) and
          RV(backend_apis[].error_msg).
      type: str
      choices: [undeployed, unchanged, absent, failed]
      sample: undeployed
    status_before:
      description: Status read before acting (V(1) to be developed, V(3) developing, V(4) deployed); null
        when absent.
      type: int
      sample: 4
    status_after:
      description:
        - Status after acting - V(3) after an undeploy (as Huawei documents; predicted in check mode),
          the status read again after an ambiguous failure, the unchanged status otherwise.
        - Null when absent, or when the outcome is unknown.
      type: int
      sample: 3
    frontend_apis:
      description:
        - For an V(undeployed) backend API, the frontend APIs that undeploying deleted - or, in check
          mode, B(would delete) - found in the instance's API listing by their C(ld_api_id).
        - Empty for any other result.
      type: list
      elements: dict
      contains:
        id:
          description: Frontend API ID.
          type: str
        name:
          description: Frontend API name.
          type: str
        group_id:
          description: ID of the API group the frontend API was in.
          type: str
        group_name:
          description: Name of that API group.
          type: str
      sample: [{"id": "3d4e5f6a7b8c49d0e1f2a3b4c5d6e7f8", "name": "query_orders_front",
                "group_id": "c77f5e81d9cb4424bf704ef2b0ac7600", "group_name": "crm"}]
    error_code:
      description: Error code of a failed backend API.
      type: str
      sample: APIG.1005
    error_msg:
      description: Error message of a failed backend API.
      type: str
      sample: No permissions to request this method
summary:
  description: Number of backend APIs per result.
  returned: always
  type: dict
  sample: {"undeployed": 2, "unchanged": 1, "absent": 0, "failed": 0}
call_errors:
  description:
    - Calls that failed during the run, with what the module was doing, the HTTP status, the error
      code and message, and the C(X-Request-Id) that Huawei support asks for. An undeploy whose outcome
      was unknown is listed together with the read that tried to settle it.
  returned: always
  type: list
  elements: dict
  sample: [{"msg": "undeploying custom backend API query_orders (bd42...): POST /v2/.../undeploy failed: HTTP 502 ...",
            "status": 502, "error_code": "APIG.9999", "error_msg": "Bad Gateway", "request_id": "8c5f..."}]
"""

import re

from ansible_collections.hwc.apig.plugins.module_utils import resolve
from ansible_collections.hwc.apig.plugins.module_utils.client import WRITE, ApigError, doing
from ansible_collections.hwc.apig.plugins.module_utils.module import ApigModule
from ansible_collections.hwc.apig.plugins.module_utils.results import ItemResults, error_fields
from ansible_collections.hwc.apig.plugins.module_utils.settle import settle_write

KIND = "custom backend API"
DEPLOYED = 4
# Huawei documents the status a backend API takes after it is undeployed: 3, developing.
AFTER_UNDEPLOY = 3
UNDEPLOYED = "undeployed"
UNCHANGED = "unchanged"
ABSENT = "absent"
FAILED = "failed"
RESULTS = (UNDEPLOYED, UNCHANGED, ABSENT, FAILED)
CHANGES = (UNDEPLOYED,)
# Huawei resource IDs: 32 hex digits. A missing value of this shape is reported as an ID, else as a name.
ID_SHAPE = re.compile(r"^[0-9a-fA-F]{32}$")
FRONTEND_FIELDS = ("id", "name", "group_id", "group_name")


def validate(module):
    module.require_names("backend_apis", "custom backend API")


def status_of(ld_api):
    """The listing's status as an int (it may come as 4 or "4"); anything else as given."""
    value = ld_api.get("status") if ld_api else None
    try:
        return int(str(value).strip())
    except ValueError:
        return value


def entry(ld_api, result, status_before=None, status_after=None, frontend_apis=(), **fields):
    item = {"id": ld_api.get("id"), "name": ld_api.get("name"), "result": result,
            "status_before": status_before, "status_after": status_after,
            "frontend_apis": list(frontend_apis), "error_code": None, "error_msg": None}
    item.update((key, value) for key, value in fields.items() if value is not None)
    return item


def resolve_all(values, listing, missing):
    """[(key, backend API or a stand-in for a missing one, found)], once each, in the order given.

    Every value is checked before anything is written; all problems go into one error.
    """
    found, problems, seen, not_found = [], [], set(), False
    for value in values:
        try:
            ld_api = resolve.match(KIND, value, listing)
            key, present = ld_api.get("id"), True
        except resolve.ResolveError as error:
            named = any(item.get("id") == value or item.get("name") == value for item in listing)
            if named or missing == "fail":
                not_found = not_found or not named
                problems.append(str(error))
                continue
            ld_api = {"id": value, "name": None} if ID_SHAPE.match(value) else {"id": None, "name": value}
            key, present = ("missing", value), False
        if key not in seen:
            seen.add(key)
            found.append((key, ld_api, present))
    if problems:
        hint = " (with missing: ignore, backend APIs that do not exist are reported as absent)" if not_found else ""
        raise resolve.ResolveError("; ".join(problems) + "; nothing was undeployed" + hint)
    return found


class Undeployer(object):
    """Options -> resolve -> read -> decide -> act through the shared helpers -> report."""

    def __init__(self, module):
        self.module = module
        self.client = module.client
        self.params = module.params
        self.items = module.item_results = ItemResults("backend_apis", "custom backend APIs", RESULTS, CHANGES)

    def run(self):
        with doing("listing the custom backend APIs"):
            listing = resolve.list_backend_apis(self.client)
        with doing("resolving the custom backend APIs"):
            targets = resolve_all(self.params["backend_apis"], listing, self.params["missing"])
        self.items.expect(key for key, _ld_api, _present in targets)
        pending = []
        for key, ld_api, present in targets:
            if not present:
                self.items.set(key, entry(ld_api, ABSENT))
            elif status_of(ld_api) != DEPLOYED:
                status = status_of(ld_api)
                self.items.set(key, entry(ld_api, UNCHANGED, status, status))
            else:
                pending.append(ld_api)
        fronts = self.frontend_apis() if pending else {}
        for ld_api in pending:
            if self.module.check_mode:
                self.items.set(ld_api["id"], entry(ld_api, UNDEPLOYED, DEPLOYED, AFTER_UNDEPLOY,
                                                   fronts.get(ld_api["id"], [])))
            else:
                self.undeploy(ld_api, fronts.get(ld_api["id"], []))
        return self.report(pending)

    def frontend_apis(self):
        """Frontend APIs per backend API ID, from one paged listing of the instance's APIs."""
        with doing("listing the APIs of the instance (to find the frontend APIs of the backend APIs)"):
            apis = resolve.list_apis(self.client)
        found = {}
        for api in apis:
            if api.get("ld_api_id"):
                found.setdefault(api["ld_api_id"], []).append(dict((key, api.get(key)) for key in FRONTEND_FIELDS))
        return found

    # -- writes --------------------------------------------------------------------------------
    def undeploy(self, ld_api, fronts):
        """One call per backend API; an ambiguous failure is settled by reading it before any resend."""
        outcome = settle_write(self.client, [ld_api], self.send, self.reread,
                               lambda item, now: now is None or status_of(now) != DEPLOYED,
                               settle_timeout=self.params["settle_timeout"])
        for error in outcome.errors:
            self.items.note_error(error)
        if outcome.answers:
            self.items.set(ld_api["id"], entry(ld_api, UNDEPLOYED, DEPLOYED, AFTER_UNDEPLOY, fronts))
        for _item, now in outcome.applied:
            if now is None:
                self.items.set(ld_api["id"], entry(ld_api, ABSENT, DEPLOYED))
            else:
                self.items.set(ld_api["id"], entry(ld_api, UNDEPLOYED, DEPLOYED, status_of(now), fronts))
        for _item, error in outcome.failed:
            if error.maybe_applied:
                # Outcome unknown: settling could not tell, so say so rather than guess.
                self.items.set(ld_api["id"], entry(ld_api, FAILED, DEPLOYED, **error_fields(error)))
            else:
                ours = any(seen.maybe_applied for seen in outcome.errors)
                self.after_refusal(ld_api, error, fronts, ours)

    def after_refusal(self, ld_api, error, fronts, maybe_ours):
        """A definitive refusal: the state found now decides, never the error code."""
        try:
            now = self.reread([ld_api])[0]
        except ApigError as read_error:
            self.items.note_error(read_error)
            self.items.set(ld_api["id"], entry(ld_api, FAILED, DEPLOYED, **error_fields(error)))
            return
        if now is None:
            self.items.set(ld_api["id"], entry(ld_api, ABSENT, DEPLOYED))
        elif status_of(now) != DEPLOYED:
            # Undeployed by an earlier attempt of ours whose answer was lost, or by someone else.
            if maybe_ours:
                self.items.set(ld_api["id"], entry(ld_api, UNDEPLOYED, DEPLOYED, status_of(now), fronts))
            else:
                self.items.set(ld_api["id"], entry(ld_api, UNCHANGED, DEPLOYED, status_of(now)))
        else:
            self.items.set(ld_api["id"], entry(ld_api, FAILED, DEPLOYED, status_of(now), **error_fields(error)))

    def send(self, items, budget):
        [ld_api] = items
        with doing("undeploying %s %s (%s)" % (KIND, ld_api.get("name"), ld_api["id"])):
            if self.params["api_version"] == "v1":
                return self.client.call("POST", self.client.path("livedata-apis", "undeploy"),
                                        body={"ld_api_id": ld_api["id"]}, kind=WRITE, budget=budget,
                                        api_version="v1")
            return self.client.call("POST", self.client.path("livedata-apis", ld_api["id"], "undeploy"),
                                    kind=WRITE, budget=budget)

    def reread(self, items):
        """The current record of each backend API; None when the service says it does not exist (404)."""
        current = []
        for ld_api in items:
            with doing("reading %s %s (%s) again" % (KIND, ld_api.get("name"), ld_api["id"])):
                try:
                    now = self.client.call("GET", self.client.path("livedata-apis", ld_api["id"]),
                                           require_body=True)
                except ApigError as error:
                    if error.status != 404:
                        raise
                    now = None
                if now is not None and "status" not in now:
                    raise ApigError("the answer has no status field; cannot tell whether it is still deployed")
            current.append(now)
        return current

    # -- result --------------------------------------------------------------------------------
    def report(self, pending):
        extra = {}
        if self.module._diff:
            extra["diff"] = self.diff(pending)
        return self.items.finish(self.module, "to undeploy", self.params["allow_partial"], **extra)

    def diff(self, pending):
        def sides(_ld_api, item):
            fronts = [front["id"] for front in item["frontend_apis"]]
            return ({"status": item["status_before"], "frontend_apis": fronts},
                    {"status": item["status_after"], "frontend_apis": []})

        label = "roma instance %s, custom backend APIs" % self.params["instance_id"]
        return self.items.diff(pending, sides, label)


def main():
    module = ApigModule(
        argument_spec=dict(
            backend_apis=dict(type="list", elements="str", required=True),
            api_version=dict(type="str", default="v2", choices=["v1", "v2"]),
            missing=dict(type="str", default="fail", choices=["fail", "ignore"]),
            allow_partial=dict(type="bool", default=False),
        ),
        services=("roma",),
        default_service="roma",
        supports_check_mode=True,
    )
    validate(module)
    module.run(lambda mod: Undeployer(mod).run())


if __name__ == "__main__":
    main()
