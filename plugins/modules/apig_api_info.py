#!/usr/bin/python
# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: apig_api_info
short_description: What is live - APIs with their publication per environment, and their versions
version_added: 1.0.0
description:
  - Reads the APIs of a group, a list of APIs or the whole instance of a Huawei Cloud API Gateway
    (APIG) dedicated gateway or a ROMA Connect instance, with, per environment, the publication that
    is live there (publish ID and time) and whether the API was edited since that publication.
  - C(edited_since) follows the rule M(hwc.apig.apig_api_publish) uses to decide whether to
    republish - an API whose C(update_time) is later than the environment's C(publish_time) was
    edited since. When the listing's times cannot decide (both in the same whole second, or a time
    that does not parse), the module asks the gateway about that API alone - its version live there
    against its current definition.
  - With O(history=true) (and O(env)), also each API's versions in O(env), newest first, from the
    gateway's version history (C(ListApiVersionsV2)) - what M(hwc.apig.apig_api_version) can switch
    to. The gateway keeps the 10 newest versions per API and environment.
  - One paged listing (500 APIs per call) for the plain case. History calls, one per API, are made
    only with O(history=true), four at a time.
  - Read-only - never changes anything and always returns C(changed=false).
author:
  - hwc.apig maintainers (@hwc-apig)
options:
  api_group:
    description:
      - API group, by name or ID. Without O(apis), all APIs of the group; with O(apis), the scope in
        which their names are looked up.
      - Without O(api_group) and O(apis), every API of the instance.
    type: str
  apis:
    description:
      - APIs to read, by name or ID, looked up in O(api_group) or, without it, in the whole instance
        (a name found in several groups is an error that lists them; give the ID or O(api_group)).
      - A name or ID that matches nothing, or several APIs, fails the task naming the value and the
        candidates.
    type: list
    elements: str
  env:
    description:
      - Environment, by name or ID. When given, RV(apis[].publications) holds only the publication in
        that environment (an empty list when the API is not published there); every selected API is
        returned either way.
      - Required with O(history=true).
    type: str
  history:
    description:
      - Also return each API's versions in O(env) (RV(apis[].versions)).
    type: bool
    default: false
extends_documentation_fragment:
  - hwc.apig.connection
  - hwc.apig.attributes
attributes:
  check_mode:
    support: full
    details: Read-only; check mode changes nothing in what it does.
  diff_mode:
    support: none
  action_group:
    support: full
    membership:
      - hwc.apig.apig
notes:
  - Times are returned as the gateway gives them; any of the forms it answers with (fractions of 0 to
    9 digits, C(Z), C(+08:00), C(+0800) or no zone, epoch milliseconds) is understood when comparing.
  - The version history records publications, not take-offline events or switches between versions;
    C(status) says which version is effective now.
seealso:
  - module: hwc.apig.apig_api_version
    description: Make a chosen version effective (roll back).
  - module: hwc.apig.apig_api_publish
    description: Publish APIs or take them offline.
"""

EXAMPLES = r"""
- name: What is live in the orders group, in RELEASE
  hwc.apig.apig_api_info:
    region: cn-north-4
    project_id: "{{ hwc_project_id }}"
    instance_id: "{{ hwc_instance_id }}"
    api_group: orders
    env: RELEASE
  register: orders

- name: APIs edited since their publication in RELEASE
  ansible.builtin.debug:
    msg: "{{ orders.apis | selectattr('publications') | selectattr('publications.0.edited_since') | map(attribute='name') | list }}"

- name: Every API of the instance, with its publication in each environment
  hwc.apig.apig_api_info:
  register: everything

- name: The versions of two APIs in RELEASE (connection options from module_defaults)
  module_defaults:
    group/hwc.apig.apig:
      service: roma
      region: cn-north-4
      instance_id: "{{ hwc_roma_instance_id }}"
  block:
    - name: Read the history
      hwc.apig.apig_api_info:
        api_group: orders
        apis: [list-orders, get-order]
        env: RELEASE
        history: true
      register: history

    - name: Show the versions of list-orders
      ansible.builtin.debug:
        msg: "{{ (history.apis | selectattr('name', 'eq', 'list-orders') | first).versions }}"
"""

RETURN = r"""
apis:
  description: One entry per selected API, in the order given (or the listing's order).
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
    group_id:
      description: ID of the API's group.
      type: str
      sample: c77f5e81d9cb4424bf704ef2b0ac7600
    group_name:
      description: Name of the API's group.
      type: str
      sample: orders
    update_time:
      description: When the API's definition was last changed, as the gateway gives it.
      type: str
      sample: "2026-11-30T08:02:11.512334Z"
    publications:
      description:
        - The API's live publication in each environment it is published in (only O(env) when
          given); empty when it is not published.
      type: list
      elements: dict
      contains:
        env_id:
          description: Environment ID.
          type: str
          sample: DEFAULT_ENVIRONMENT_RELEASE_ID
        env_name:
          description: Environment name.
          type: str
          sample: RELEASE
        publish_id:
          description: Publication record ID.
          type: str
          sample: 9f27d1dc4f4242a9abf88e563dbfc33d
        publish_time:
          description: Publication time, as the gateway gives it.
          type: str
          sample: "2026-11-30T08:10:04.363493Z"
        edited_since:
          description: Whether the API's definition changed after this publication (it would be
            republished by M(hwc.apig.apig_api_publish)).
          type: bool
          sample: false
    versions:
      description:
        - With O(history=true), the API's versions in O(env), newest first (by C(publish_time));
          empty when it was never published there.
      returned: when O(history=true)
      type: list
      elements: dict
      contains:
        version_id:
          description: Version ID (what M(hwc.apig.apig_api_version) takes in O(hwc.apig.apig_api_version#module:version_ids)).
          type: str
          sample: 632b2c9e022941969af9a1d45735ae2c
        version_no:
          description: Version number, as the gateway gives it.
          type: str
          sample: "20261130081004363"
        publish_time:
          description: When this version was published.
          type: str
          sample: "2026-11-30T08:10:04.363493Z"
        remark:
          description: The remark of that publication.
          type: str
          sample: CHG-1234
        status:
          description: V(1) for the version effective now, V(2) for the others.
          type: int
          sample: 1
env:
  description: The environment given in O(env).
  returned: when O(env) is given
  type: dict
  sample: {"id": "DEFAULT_ENVIRONMENT_RELEASE_ID", "name": "RELEASE"}
"""

from ansible_collections.hwc.apig.plugins.module_utils import publication as pub
from ansible_collections.hwc.apig.plugins.module_utils import resolve
from ansible_collections.hwc.apig.plugins.module_utils.client import doing
from ansible_collections.hwc.apig.plugins.module_utils.module import ApigModule

VERSION_FIELDS = ("version_id", "version_no", "publish_time", "remark", "status")


def validate(module):
    params = module.params
    for option in ("api_group", "env"):
        if params[option] is not None and not params[option].strip():
            module.fail_json(msg="%s must be a name or ID, got %r" % (option, params[option]))
    module.require_names("apis", "API")
    if params["history"] and params["env"] is None:
        module.fail_json(msg="history: true needs env: the gateway keeps the versions per environment")


def status_of(value):
    try:
        return int(str(value).strip())
    except ValueError:
        return value


def newest_first(versions):
    """Versions sorted by publish_time, newest first; a time that does not parse sorts last."""
    def key(version):
        moment = pub.parse_time(version.get("publish_time"))
        return (moment is not None, tuple(moment) if moment is not None else (0, 0))
    return sorted(versions, key=key, reverse=True)


def version_entry(version):
    item = dict((key, version.get(key)) for key in VERSION_FIELDS)
    item["status"] = status_of(item["status"])
    return item


class Reader(object):
    """Options -> resolve -> one paged listing -> (ties asked of the gateway, histories) -> report."""

    def __init__(self, module):
        self.module = module
        self.client = module.client
        self.params = module.params
        self.env = None

    def select(self):
        scope = resolve.ApiScope(self.client, self.params["env"], self.params["api_group"])
        self.env = scope.env
        return scope.select(self.params["apis"])

    def publications(self, api):
        found = list(pub.publications(api).values())
        if self.env is not None:
            found = [item for item in found if item["env_id"] == self.env["id"]]
        return found

    def edited_since(self, pair):
        api, publication = pair
        with doing("comparing API %s with its version published in %s" % (api.get("name"), publication["env_name"])):
            return pub.edited_since_publication(self.client, api, publication["env_id"])

    def history(self, api):
        with doing("reading the versions of API %s (%s) in %s" % (api.get("name"), api["id"], self.env.get("name"))):
            return pub.list_versions(self.client, api["id"], self.env["id"])

    def run(self):
        apis = self.select()
        entries = []
        undecided = []
        for api in apis:
            publications = []
            for found in self.publications(api):
                item = dict(found, edited_since=pub.changed_since(api, found))
                if item["edited_since"] is None:
                    undecided.append((api, item))
                publications.append(item)
            entries.append({"id": api.get("id"), "name": api.get("name"), "group_id": api.get("group_id"),
                            "group_name": api.get("group_name"), "update_time": api.get("update_time"),
                            "publications": publications})
        # The listing's times tie within a second (or do not parse): ask the gateway, as publishing does.
        for (_api, item), edited in zip(undecided, self.client.map_concurrently(self.edited_since, undecided)):
            item["edited_since"] = bool(edited)
        if self.params["history"]:
            for entry, versions in zip(entries, self.client.map_concurrently(self.history, apis)):
                entry["versions"] = [version_entry(version) for version in newest_first(versions)]
        result = {"changed": False, "apis": entries}
        if self.env is not None:
            result["env"] = {"id": self.env["id"], "name": self.env.get("name")}
        return result


def main():
    module = ApigModule(
        argument_spec=dict(
            api_group=dict(type="str"),
            apis=dict(type="list", elements="str"),
            env=dict(type="str"),
            history=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    validate(module)
    module.run(lambda mod: Reader(mod).run())


if __name__ == "__main__":
    main()
