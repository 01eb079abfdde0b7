#!/usr/bin/python
# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: apig_api_publish
short_description: Publish APIs to an environment or take them offline, in batches
version_added: 1.0.0
description:
  - Publishes APIs of a Huawei Cloud API Gateway (APIG) dedicated gateway or a ROMA Connect instance
    to an environment, or takes them offline, through the batch endpoint
    C(POST .../apis/publish?action=online|offline).
  - Reads first and writes only what is needed. An API already published in O(env) whose definition
    has not changed since that publication (its C(update_time) is not later than the environment's
    C(publish_time)) is left V(unchanged). State comes from paged API listings (500 per page), never
    one read per API.
  - Writes go out in chunks of O(batch_size) APIs, never one call per API.
  - Each API gets its own outcome in RV(apis). The batch endpoint answers 200 even when some APIs
    failed; every failure becomes a V(failed) entry and fails the task unless O(allow_partial=true).
  - After a write whose outcome is unknown (a timeout, a dropped connection or a server error after
    the request was sent) the module reads the state again and only sends what is still needed, so a
    retry never publishes twice.
author:
  - hwc.apig maintainers (@hwc-apig)
options:
  env:
    description:
      - Environment to publish to or take the APIs out of, by name or ID (for example V(RELEASE) or
        V(DEFAULT_ENVIRONMENT_RELEASE_ID)).
    type: str
    required: true
  apis:
    description:
      - APIs to act on, by name or ID.
      - With O(api_group), names and IDs are looked up in that group; without it, in the whole instance
        (a name found in several groups is an error that lists them; give the ID or O(api_group)).
      - A name or ID that matches nothing, or several APIs, fails the task before anything is
        written, naming the value and the candidates.
      - When not given, every API of O(api_group) is acted on.
    type: list
    elements: str
  api_group:
    description:
      - API group, by name or ID. Without O(apis), all APIs of the group; with O(apis), the scope in
        which their names are looked up.
      - One of O(apis) and O(api_group) is required.
    type: str
  state:
    description:
      - V(published) publishes what is not published in O(env) and republishes what changed since
        its publication there.
      - V(offline) takes offline what is published in O(env).
    type: str
    choices: [published, offline]
    default: published
  remark:
    description:
      - Description of this publication, at most 255 characters.
    type: str
  force:
    description:
      - Republish every selected API, even those that did not change since their publication.
      - Has no effect with O(state=offline).
    type: bool
    default: false
  batch_size:
    description:
      - Number of APIs per batch call, from 1 to 1000 (the gateway's per-call maximum).
    type: int
    default: 1000
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
    details: Shows the publication state of each API that changes, before and after.
  action_group:
    support: full
    membership:
      - hwc.apig.apig
notes:
  - ROMA Connect's batch endpoint has no C(group_id); the module always sends the API IDs it
    resolved, for both services.
  - When the times of a publication cannot be read, the API is republished rather than left stale.
seealso:
  - name: Publishing APIs or taking APIs offline in batches (ROMA Connect)
    description: The ROMA Connect batch endpoint this module calls.
    link: https://support.huaweicloud.com/intl/en-us/api-roma/BatchPublishOrOfflineApiV2.html
  - name: Publishing APIs or taking APIs offline in batches (APIG)
    description: The APIG batch endpoint this module calls.
    link: https://support.huaweicloud.com/intl/en-us/api-apig/BatchPublishOrOfflineApiV2.html
"""

EXAMPLES = r"""
- name: Publish every API of a group to RELEASE
  hwc.apig.apig_api_publish:
    region: cn-north-4
    project_id: "{{ hwc_project_id }}"
    instance_id: "{{ hwc_instance_id }}"
    env: RELEASE
    api_group: orders
    remark: "release {{ release_version }}"

- name: Publish two APIs by name (connection options from module_defaults)
  module_defaults:
    group/hwc.apig.apig:
      service: roma
      region: cn-north-4
      project_id: "{{ hwc_project_id }}"
      instance_id: "{{ hwc_roma_instance_id }}"
  block:
    - name: Publish
      hwc.apig.apig_api_publish:
        env: pre-prod
        api_group: orders
        apis:
          - list-orders
          - get-order
      register: publish

    - name: Show what happened to each API
      ansible.builtin.debug:
        msg: "{{ publish.apis | map(attribute='result') | list }}"

- name: Take a group offline from TEST, keep going when some APIs fail
  hwc.apig.apig_api_publish:
    env: TEST
    api_group: legacy
    state: offline
    allow_partial: true
"""

RETURN = r"""
apis:
  description: One entry per selected API, in the order given (or the group's order).
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
    env_id:
      description: Environment ID.
      type: str
      sample: DEFAULT_ENVIRONMENT_RELEASE_ID
    env_name:
      description: Environment name.
      type: str
      sample: RELEASE
    result:
      description: What happened to the API (or would happen, in check mode).
      type: str
      choices: [published, republished, unchanged, taken_offline, failed]
      sample: published
    version_id:
      description: The version now online, when the batch call returned it.
      type: str
      sample: 632b2c9e022941969af9a1d45735ae2c
    publish_id:
      description: Publication record ID, when known.
      type: str
      sample: 9f27d1dc4f4242a9abf88e563dbfc33d
    publish_time:
      description: Publication time, when known.
      type: str
      sample: "2026-11-22T05:01:31.265228Z"
    error_code:
      description: Error code of a failed API.
      type: str
      sample: APIG.3002
    error_msg:
      description: Error message of a failed API.
      type: str
      sample: Api 3a955b791bd24b1c9cd94c745f8d1aad not found
summary:
  description: Number of APIs per result.
  returned: always
  type: dict
  sample: {"published": 2, "republished": 1, "unchanged": 7, "taken_offline": 0, "failed": 0}
env:
  description: The environment acted on.
  returned: always
  type: dict
  sample: {"id": "DEFAULT_ENVIRONMENT_RELEASE_ID", "name": "RELEASE"}
"""

from ansible_collections.hwc.apig.plugins.module_utils import publication as pub
from ansible_collections.hwc.apig.plugins.module_utils import resolve
from ansible_collections.hwc.apig.plugins.module_utils.client import WRITE, ApigError
from ansible_collections.hwc.apig.plugins.module_utils.module import ApigModule

MAX_BATCH = 1000
MAX_REMARK = 255


def validate(module):
    params = module.params
    if not 1 <= params["batch_size"] <= MAX_BATCH:
        module.fail_json(msg="batch_size must be between 1 and %d, got %d" % (MAX_BATCH, params["batch_size"]))
    if params["remark"] is not None and len(params["remark"]) > MAX_REMARK:
        module.fail_json(msg="remark must be at most %d characters, got %d" % (MAX_REMARK, len(params["remark"])))
    if params["api_group"] is not None and not params["api_group"].strip():
        module.fail_json(msg="api_group must name an API group (name or ID), got %r" % params["api_group"])
    if params["apis"] is None and params["api_group"] is None:
        module.fail_json(msg="one of the following is required: apis, api_group")
    if params["apis"] is not None:
        empty = [repr(value) for value in params["apis"] if not value or not value.strip()]
        if empty or not params["apis"]:
            module.fail_json(msg="apis must list API names or IDs; got an empty entry or list: %s" % (
                ", ".join(empty) or "[]"))


def entry(api, env, result, **fields):
    item = {"id": api.get("id"), "name": api.get("name"), "env_id": env["id"], "env_name": env.get("name"),
            "result": result, "version_id": None, "publish_id": None, "publish_time": None,
            "error_code": None, "error_msg": None}
    item.update((key, value) for key, value in fields.items() if value is not None)
    return item


def current_publication(api, env):
    found = pub.publications(api).get(env["id"]) or {}
    return {"publish_id": found.get("publish_id"), "publish_time": found.get("publish_time")}


class Publisher(object):
    """Reads state, decides per API, writes in batches and reports per API."""

    def __init__(self, module):
        self.module = module
        self.client = module.client
        self.params = module.params
        self.call_errors = []

    def select(self):
        params = self.params
        self.env = resolve.find_environment(self.client, params["env"])
        self.group = resolve.find_group(self.client, params["api_group"]) if params["api_group"] else None
        listing = self.list_apis()
        if params["apis"] is None:
            return listing
        return resolve.match_all("API", params["apis"], listing, context_key="group_name")

    def list_apis(self):
        return resolve.list_apis(self.client, self.group["id"] if self.group else None)

    def run(self):
        targets = self.select()
        decisions = [(api, pub.decide(api, self.env["id"], self.params["state"], self.params["force"]))
                     for api in targets]
        if self.module.check_mode:
            entries = [self.predicted(api, result) for api, result in decisions]
        else:
            entries = self.apply(decisions)
        return self.report(decisions, entries)

    def predicted(self, api, result):
        if result == pub.UNCHANGED:
            return entry(api, self.env, result, **current_publication(api, self.env))
        return entry(api, self.env, result)

    # -- writes --------------------------------------------------------------------------------
    def apply(self, decisions):
        action = pub.OFFLINE if self.params["state"] == "offline" else pub.ONLINE
        outcomes = {}
        pending = []
        for api, result in decisions:
            if result == pub.UNCHANGED:
                outcomes[api["id"]] = self.predicted(api, result)
            else:
                pending.append((api, result))
        size = self.params["batch_size"]
        for start in range(0, len(pending), size):
            outcomes.update(self.write_chunk(action, pending[start:start + size]))
        return [outcomes[api["id"]] for api, _result in decisions]

    def write_chunk(self, action, items):
        """One batch call; after an ambiguous failure, re-read and resend only what is still needed."""
        outcomes = {}
        remaining = list(items)
        attempts = self.client.retry.retries + 1
        for attempt in range(attempts):
            try:
                answer = self.client.call("POST", "/apis/publish", query={"action": action},
                                          body=self.batch_body(remaining), kind=WRITE)
            except ApigError as error:
                if error.maybe_applied:
                    try:
                        remaining = self.settle(remaining, outcomes)
                    except ApigError as read_error:
                        error = read_error
                    else:
                        if not remaining:
                            return outcomes
                        if attempt + 1 < attempts:
                            self.client.retry.wait(attempt)
                            continue
                self.call_errors.append(error)
                outcomes.update(self.failed(remaining, error))
                return outcomes
            outcomes.update(self.read_answer(remaining, answer))
            return outcomes
        return outcomes

    def batch_body(self, items):
        body = {"apis": [api["id"] for api, _result in items], "env_id": self.env["id"]}
        if self.params["remark"] is not None:
            body["remark"] = self.params["remark"]
        return body

    def settle(self, items, outcomes):
        """Record what an ambiguous write did apply; return what is left to send."""
        now = dict((api["id"], api) for api in self.list_apis())
        left = []
        for api, result in items:
            after = now.get(api["id"])
            if pub.applied(result, api, after, self.env["id"]):
                fields = current_publication(after, self.env) if result != pub.TAKEN_OFFLINE else {}
                outcomes[api["id"]] = entry(api, self.env, result, **fields)
            else:
                left.append((api, result))
        return left

    def read_answer(self, items, answer):
        succeeded = dict((item.get("api_id"), item) for item in answer.get("success") or [])
        failed = {}
        for item in answer.get("failure") or []:
            failed[item.get("api_id") or ("name", item.get("api_name"))] = item
        outcomes = {}
        for api, result in items:
            failure = failed.get(api["id"]) or failed.get(("name", api.get("name")))
            if failure:
                outcomes[api["id"]] = entry(api, self.env, pub.FAILED, error_code=failure.get("error_code"),
                                            error_msg=failure.get("error_msg"))
            elif api["id"] in succeeded:
                done = succeeded[api["id"]]
                fields = {}
                if result != pub.TAKEN_OFFLINE:
                    fields = dict((key, done.get(key)) for key in ("version_id", "publish_id", "publish_time"))
                outcomes[api["id"]] = entry(api, self.env, result, **fields)
            else:
                outcomes[api["id"]] = entry(api, self.env, pub.FAILED,
                                            error_msg="the batch answer did not mention this API")
        return outcomes

    def failed(self, items, error):
        return dict((api["id"], entry(api, self.env, pub.FAILED, error_code=error.error_code,
                                      error_msg=error.error_msg or str(error)))
                    for api, _result in items)

    # -- result --------------------------------------------------------------------------------
    def report(self, decisions, entries):
        summary = pub.summarize(entries)
        result = {
            "changed": any(item["result"] in pub.CHANGES for item in entries),
            "apis": entries,
            "summary": summary,
            "env": {"id": self.env["id"], "name": self.env.get("name")},
        }
        if self.module._diff:
            result["diff"] = self.diff(decisions, entries)
        failures = [item for item in entries if item["result"] == pub.FAILED]
        if failures and not self.params["allow_partial"]:
            msg = "%d of %d APIs failed in %s: %s" % (
                len(failures), len(entries), self.env.get("name"),
                "; ".join("%s (%s): %s %s" % (item["name"], item["id"], item["error_code"] or "",
                                              item["error_msg"] or "") for item in failures))
            if self.call_errors:
                # A whole batch call failed: show its HTTP status and request ID too.
                msg += "; batch call failed: %s" % self.call_errors[-1]
                result.update(self.call_errors[-1].details())
            self.module.fail_json(msg=msg, **result)
        return result

    def diff(self, decisions, entries):
        before, after = {}, {}
        names = [api["name"] for api, _decided in decisions]
        for (api, _decided), item in zip(decisions, entries):
            if item["result"] not in pub.CHANGES:
                continue
            key = api["name"] if names.count(api["name"]) == 1 else "%s (%s)" % (api["name"], api["id"])
            was = pub.publications(api).get(self.env["id"])
            before[key] = {"published": was is not None, "publish_time": was.get("publish_time") if was else None}
            after[key] = {"published": item["result"] != pub.TAKEN_OFFLINE, "publish_time": item["publish_time"]}
        label = "%s environment %s" % (self.module.service, self.env.get("name"))
        return {"before": before, "after": after, "before_header": label, "after_header": label}


def main():
    module = ApigModule(
        argument_spec=dict(
            env=dict(type="str", required=True),
            apis=dict(type="list", elements="str"),
            api_group=dict(type="str"),
            state=dict(type="str", default="published", choices=["published", "offline"]),
            remark=dict(type="str"),
            force=dict(type="bool", default=False),
            batch_size=dict(type="int", default=MAX_BATCH),
            allow_partial=dict(type="bool", default=False),
        ),
        required_one_of=[("apis", "api_group")],
        supports_check_mode=True,
    )
    validate(module)
    module.run(lambda mod: Publisher(mod).run())


if __name__ == "__main__":
    main()
