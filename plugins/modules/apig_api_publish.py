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
  - When the listing's times cannot decide (an edit and a publication within the same whole second,
    or a time that does not parse), the module asks the gateway about that API alone - its version
    live in O(env) against its current definition - so an edit made in the same second after a
    publication is republished, and an API imported and published in the same second and untouched
    since stays V(unchanged). Runs whose times decide make no such calls.
  - After a write whose outcome is unknown (a timeout, a dropped connection, a server error or an
    unreadable answer after the request was sent) the module re-reads the state with growing delays
    for up to O(settle_timeout) seconds, because the gateway may still be applying the first request,
    and resends only what is still not visible after that; a retry never publishes twice. APIs whose
    outcome cannot be settled fail with an "outcome unknown" message; running the task again
    finishes the job.
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
  - Times in any of the forms the gateways answer with are understood - fractions of 0 to 9 digits,
    C(Z), C(+08:00), C(+0800) or no zone, and epoch milliseconds.
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
    previous_publish_id:
      description:
        - The publication record that was live in the environment before this run (null when the API
          was not published there). With RV(apis[].previous_publish_time) it identifies the version
          to go back to.
      type: str
      sample: 1b1c3e0f2a6d4c8e9f7a6b5c4d3e2f10
    previous_publish_time:
      description: Publication time of the publication that was live before this run (null when none).
      type: str
      sample: "2026-11-20T09:12:44.123456Z"
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
call_errors:
  description:
    - Calls that failed during the run, with what the module was doing, the HTTP status, the error
      code and message, and the C(X-Request-Id) that Huawei support asks for. A write whose outcome
      was unknown is listed together with the read that tried to settle it.
  returned: always
  type: list
  elements: dict
  sample: [{"msg": "publishing 2 APIs to RELEASE: POST /v2/.../apis/publish failed: HTTP 504 ...",
            "status": 504, "error_code": "APIG.9999", "error_msg": "Gateway Timeout", "request_id": "8c5f..."}]
env:
  description: The environment acted on.
  returned: always
  type: dict
  sample: {"id": "DEFAULT_ENVIRONMENT_RELEASE_ID", "name": "RELEASE"}
"""

import collections

from ansible_collections.hwc.apig.plugins.module_utils import publication as pub
from ansible_collections.hwc.apig.plugins.module_utils import resolve
from ansible_collections.hwc.apig.plugins.module_utils.client import WRITE, doing
from ansible_collections.hwc.apig.plugins.module_utils.module import ApigModule
from ansible_collections.hwc.apig.plugins.module_utils.results import ItemResults, error_fields
from ansible_collections.hwc.apig.plugins.module_utils.settle import settle_write

MAX_BATCH = 1000
MAX_REMARK = 255
PUBLICATION_FIELDS = ("version_id", "publish_id", "publish_time")


def validate(module):
    params = module.params
    if not 1 <= params["batch_size"] <= MAX_BATCH:
        module.fail_json(msg="batch_size must be between 1 and %d, got %d" % (MAX_BATCH, params["batch_size"]))
    if params["remark"] is not None and len(params["remark"]) > MAX_REMARK:
        module.fail_json(msg="remark must be at most %d characters, got %d" % (MAX_REMARK, len(params["remark"])))
    module.require_name("api_group", "an API group")
    module.require_name("env", "an environment")
    if params["apis"] is None and params["api_group"] is None:
        module.fail_json(msg="one of the following is required: apis, api_group")
    module.require_names("apis", "API")


def entry(api, env, result, **fields):
    """One API's outcome; ``api`` is the listing item read before any write (the previous publication)."""
    was = pub.publications(api).get(env["id"]) or {}
    item = {"id": api.get("id"), "name": api.get("name"), "env_id": env["id"], "env_name": env.get("name"),
            "result": result, "version_id": None, "publish_id": None, "publish_time": None,
            "previous_publish_id": was.get("publish_id"), "previous_publish_time": was.get("publish_time"),
            "error_code": None, "error_msg": None}
    item.update((key, value) for key, value in fields.items() if value is not None)
    return item


def current_publication(api, env):
    found = pub.publications(api).get(env["id"]) or {}
    return {"publish_id": found.get("publish_id"), "publish_time": found.get("publish_time")}


class Publisher(object):
    """Options -> resolve -> read -> decide -> act through the shared helpers -> report."""

    def __init__(self, module):
        self.module = module
        self.client = module.client
        self.params = module.params
        self.items = module.item_results = ItemResults("apis", "APIs", pub.RESULTS, pub.CHANGES)

    def select(self):
        self.scope = resolve.ApiScope(self.client, self.params["env"], self.params["api_group"])
        self.env = self.scope.env
        return self.scope.select(self.params["apis"])

    def decide(self, api):
        result = pub.decide(api, self.env["id"], self.params["state"], self.params["force"])
        if result == pub.UNDECIDED:
            with doing("comparing API %s with its version published in %s" % (api.get("name"), self.env.get("name"))):
                edited = pub.edited_since_publication(self.client, api, self.env["id"])
            result = pub.REPUBLISHED if edited else pub.UNCHANGED
        return result

    def run(self):
        targets = self.select()
        self.items.expect(api["id"] for api in targets)
        decisions = [(api, self.decide(api)) for api in targets]
        for api, result in decisions:
            if result == pub.UNCHANGED:
                self.items.set(api["id"], entry(api, self.env, result, **current_publication(api, self.env)))
            elif self.module.check_mode:
                self.items.set(api["id"], entry(api, self.env, result))
        pending = [(api, result) for api, result in decisions if result != pub.UNCHANGED]
        if not self.module.check_mode:
            size = self.params["batch_size"]
            chunks = [pending[start:start + size] for start in range(0, len(pending), size)]
            # Chunks are independent: a small pool sends them side by side; results are recorded here.
            for outcome in self.client.map_concurrently(self.write_chunk, chunks):
                self.record(outcome)
        return self.report(decisions)

    # -- writes --------------------------------------------------------------------------------
    def write_chunk(self, items):
        """One batch call; an ambiguous failure is settled by reading state before anything is resent."""
        env_id = self.env["id"]
        return settle_write(
            self.client, items, self.send, self.reread,
            lambda item, now: pub.applied(item[1], item[0], now, env_id),
            settle_timeout=self.params["settle_timeout"])

    def record(self, outcome):
        for error in outcome.errors:
            self.items.note_error(error)
        for (api, result), now in outcome.applied:
            fields = current_publication(now, self.env) if result != pub.TAKEN_OFFLINE else {}
            self.items.set(api["id"], entry(api, self.env, result, **fields))
        for sent, answer in outcome.answers:
            self.read_answer(sent, answer)
        for (api, _result), error in outcome.failed:
            self.items.set(api["id"], entry(api, self.env, pub.FAILED, **error_fields(error)))

    def send(self, items, budget):
        action = pub.OFFLINE if self.params["state"] == "offline" else pub.ONLINE
        body = {"apis": [api["id"] for api, _result in items], "env_id": self.env["id"]}
        if self.params["remark"] is not None:
            body["remark"] = self.params["remark"]
        verb = "taking %d APIs offline in %s" if action == pub.OFFLINE else "publishing %d APIs to %s"
        with doing(verb % (len(items), self.env.get("name"))):
            return self.client.call("POST", self.client.path("apis", "publish"), query={"action": action},
                                    body=body, kind=WRITE, budget=budget, require_body=True)

    def reread(self, items):
        now = dict((api["id"], api) for api in self.scope.list_apis())
        return [now.get(api["id"]) for api, _result in items]

    def read_answer(self, items, answer):
        succeeded = dict((item.get("api_id"), item) for item in answer.get("success") or [] if item.get("api_id"))
        failed = dict((item.get("api_id"), item) for item in answer.get("failure") or [] if item.get("api_id"))
        # An answer that names an API without its ID is matched by name only where the name is unique.
        names = collections.Counter(api.get("name") for api, _result in items)
        for key, found in (("success", succeeded), ("failure", failed)):
            for item in answer.get(key) or []:
                if not item.get("api_id") and names[item.get("api_name")] == 1:
                    found.setdefault(("name", item.get("api_name")), item)
        for api, result in items:
            failure = failed.get(api["id"]) or failed.get(("name", api.get("name")))
            done = succeeded.get(api["id"]) or succeeded.get(("name", api.get("name")))
            if failure:
                self.items.set(api["id"], entry(api, self.env, pub.FAILED, error_code=failure.get("error_code"),
                                                error_msg=failure.get("error_msg")))
            elif done:
                fields = {}
                if result != pub.TAKEN_OFFLINE:
                    fields = dict((key, done.get(key)) for key in PUBLICATION_FIELDS)
                self.items.set(api["id"], entry(api, self.env, result, **fields))
            else:
                self.items.set(api["id"], entry(api, self.env, pub.FAILED,
                                                error_msg="the batch answer did not mention this API"))

    # -- result --------------------------------------------------------------------------------
    def report(self, decisions):
        extra = {"env": {"id": self.env["id"], "name": self.env.get("name")}}
        if self.module._diff:
            extra["diff"] = self.diff(decisions)
        return self.items.finish(self.module, "in %s" % self.env.get("name"), self.params["allow_partial"], **extra)

    def diff(self, decisions):
        def sides(api, item):
            was = pub.publications(api).get(self.env["id"])
            return ({"published": was is not None, "publish_time": was.get("publish_time") if was else None},
                    {"published": item["result"] != pub.TAKEN_OFFLINE, "publish_time": item["publish_time"]})

        label = "%s environment %s" % (self.module.service, self.env.get("name"))
        return self.items.diff([api for api, _decided in decisions], sides, label)


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
