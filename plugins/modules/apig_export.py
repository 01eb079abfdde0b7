#!/usr/bin/python
# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: apig_export
short_description: Export API definitions to a file, rewritten only when the definitions changed
version_added: 1.0.0
description:
  - Exports the APIs of an API group of a Huawei Cloud API Gateway (APIG) dedicated gateway or a
    ROMA Connect instance as a Swagger 2.0 or OpenAPI 3.0 document (O(kind=apis)), or the custom
    backend APIs of a ROMA Connect instance (O(kind=backend_apis)), into the file O(dest).
  - The export is streamed into a temporary file and compared with O(dest). O(dest) is replaced
    atomically only when the definitions differ; otherwise it is left untouched, modification time
    included, and the task reports no change.
  - The comparison is semantic, so that files kept in git only change when an API does. The order of
    keys, and with it the order of paths and operations, does not count. When O(version) is not set
    the gateway stamps the export time into C(info.version); that stamp is left out of the
    comparison. The order of lists (parameters, tags, security requirements) does count.
  - When O(dest) already existed, RV(api_changes) lists the operations (method and path) added,
    removed and modified between the old file and the new one, and diff mode shows a unified diff.
  - O(dest) is never left partial or empty. An HTTP error, a failed or timed-out export task, a full
    disk or a failed move leave the old file as it was.
  - Large exports are streamed to disk. Memory use grows only with what parsing one document for the
    comparison needs; the old and the new document are never held in memory together.
author:
  - hwc.apig maintainers (@hwc-apig)
options:
  kind:
    description:
      - V(apis) exports the APIs of O(api_group), on APIG or ROMA Connect
        (C(POST .../openapi/export), or C(.../openapi/async-export) with O(export_mode=async)).
      - V(backend_apis) exports ROMA Connect custom backend APIs
        (C(POST .../openapi/livedata-apis/export)); it needs O(service=roma).
    type: str
    choices: [apis, backend_apis]
    default: apis
  api_group:
    description:
      - API group to export, by name or ID. Required with O(kind=apis).
    type: str
  env:
    description:
      - Environment whose published APIs are exported, by name or ID (for example V(RELEASE)).
      - Required with O(kind=apis) on APIG. Optional on ROMA Connect, where leaving it out exports
        the APIs wherever they are published.
      - With O(define=dev) unpublished APIs are exported too.
    type: str
  apis:
    description:
      - Export only these APIs, by name or ID. With O(kind=apis) they are looked up in O(api_group);
        with O(kind=backend_apis) they are custom backend API names or IDs.
      - By default everything selected by the other options is exported.
    type: list
    elements: str
  define:
    description:
      - How much of each API is exported (O(kind=apis) only; ignored for O(kind=backend_apis)).
      - V(spec) the frontend definition; V(proxy) frontend and backend; V(all) adds throttling,
        access control and custom authorizer definitions; V(dev) is V(all) including APIs that are
        not published.
    type: str
    choices: [spec, proxy, all, dev]
    default: spec
  format:
    description:
      - File format. V(yml) is another name for V(yaml).
      - Comparing YAML documents needs PyYAML on the host that runs the module; it ships with
        ansible-core. JSON needs nothing beyond the Python standard library.
    type: str
    choices: [json, yaml, yml]
    default: json
  oas_version:
    description:
      - OpenAPI version of the document, V(2.0) (Swagger) or V(3.0). APIG only; the module sends
        V(2.0) when this is not set.
      - ROMA Connect's export takes no OpenAPI version and produces Swagger 2.0, so on ROMA Connect
        nothing is sent; V(2.0) is accepted there and V(3.0) is an error.
      - Not used with O(kind=backend_apis).
    type: str
    choices: ['2.0', '3.0']
  version:
    description:
      - The C(info.version) to stamp into the document (O(kind=apis) only).
      - When not set the gateway stamps the export time, and that stamp does not count in the
        comparison; when set, a different O(version) counts as a change.
    type: str
  export_mode:
    description:
      - V(sync) downloads the document in one call.
      - V(async) (APIG only) starts an export task and polls it with a growing interval (1 s, then
        x1.5 up to 10 s) until it succeeds, fails or O(wait_timeout) passes. The document travels in
        the task result.
    type: str
    choices: [sync, async]
    default: sync
  wait_timeout:
    description:
      - How long to wait for an export task with O(export_mode=async), in seconds; must be greater
        than 0. When it passes the task fails naming the task ID and O(dest) is left as it was.
    type: int
    default: 300
  dest:
    description:
      - Path of the file to write. Its directory must exist.
    type: path
    required: true
  backup:
    description:
      - Keep a time-stamped copy of O(dest) before replacing it.
    type: bool
    default: false
  return_content:
    description:
      - Return the document in RV(content).
    type: bool
    default: false
  app:
    description:
      - Integration application ID whose custom backend APIs are exported (O(kind=backend_apis) only).
    type: str
  status:
    description:
      - Export only custom backend APIs in this status (O(kind=backend_apis) only).
      - V(pending_development), V(developing) and V(deployed) are ROMA Connect's statuses 1, 3 and 4.
    type: str
    choices: [pending_development, developing, deployed]
extends_documentation_fragment:
  - hwc.apig.connection
  - hwc.apig.attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details: Exports and compares, writes nothing, and reports whether O(dest) would change and RV(api_changes).
  diff_mode:
    support: full
    details:
      - Shows a unified diff of O(dest) before and after. Files larger than 104448 bytes (ansible-core's
        default C(MAX_FILE_SIZE_FOR_DIFF)) get no content diff; RV(api_changes) still says what moved.
  action_group:
    support: full
    membership:
      - hwc.apig.apig
notes:
  - The options and values that apply to one service or kind only are checked before any request -
    O(kind=backend_apis) needs O(service=roma), O(export_mode=async) needs O(service=apig), and the
    options of one kind are refused with the other.
  - A token that expires while an export task is polled is renewed once with password auth; a fixed
    O(auth_token) fails at once, saying the token was refused.
  - The API name in RV(api_changes) is the operation's C(operationId), which APIG and ROMA Connect
    fill with the API name.
  - A change outside the operations (security schemes, group-level policies, the title) replaces
    O(dest) with empty RV(api_changes) lists.
seealso:
  - module: ansible.builtin.get_url
    description: Downloads files the same way (temporary file, compare, atomic move).
  - name: Exporting APIs (APIG)
    description: The APIG export endpoint this module calls.
    link: https://support.huaweicloud.com/intl/en-us/api-apig/ExportApiDefinitionsV2.html
  - name: Exporting APIs asynchronously (APIG)
    description: The APIG async export endpoint.
    link: https://support.huaweicloud.com/intl/en-us/api-apig/ExportApiDefinitionsAsync.html
  - name: Exporting custom backend APIs (ROMA Connect)
    description: The ROMA Connect custom backend API export endpoint.
    link: https://support.huaweicloud.com/intl/en-us/api-roma/ExportLiveDataApiDefinitionsV2.html
"""

EXAMPLES = r"""
- name: Export the orders group as published in RELEASE, kept in git
  hwc.apig.apig_export:
    region: cn-north-4
    project_id: "{{ hwc_project_id }}"
    instance_id: "{{ hwc_instance_id }}"
    api_group: orders
    env: RELEASE
    dest: "{{ playbook_dir }}/apis/orders.json"
    mode: "0644"
  register: export

- name: Show which operations moved
  ansible.builtin.debug:
    var: export.api_changes

- name: OpenAPI 3.0 in YAML with backend and policies, through an export task
  hwc.apig.apig_export:
    api_group: orders
    env: RELEASE
    define: all
    oas_version: "3.0"
    format: yaml
    export_mode: async
    wait_timeout: 600
    dest: /srv/apis/orders.yaml
    backup: true

- name: Export the deployed custom backend APIs of a ROMA Connect integration application
  hwc.apig.apig_export:
    service: roma
    kind: backend_apis
    app: 3f2c1e0d-9b8a-4c7d-8e6f-5a4b3c2d1e0f
    status: deployed
    dest: /srv/apis/crm-backends.json
"""

RETURN = r"""
dest:
  description: The file written (or that would be written in check mode).
  returned: always
  type: str
  sample: /srv/apis/orders.json
checksum:
  description: sha1 of O(dest) after the run (in check mode, of what it would hold).
  returned: success
  type: str
  sample: 6e642bb8dd5c2e027bf21dd923337cbb4214f827
size:
  description: Size of O(dest) in bytes after the run (in check mode, what it would be).
  returned: success
  type: int
  sample: 20631
format:
  description: Format of the document, V(json) or V(yaml).
  returned: success
  type: str
  sample: json
api_count:
  description:
    - Number of operations (method and path) in the exported document.
    - Null when the document could not be parsed (a warning says why).
  returned: success
  type: int
  sample: 42
task_id:
  description: ID of the export task (O(export_mode=async)); also returned when the task failed or timed out.
  returned: when O(export_mode=async)
  type: str
  sample: d9ce8c9eede54b3f841ec324fe0bfdc2
api_changes:
  description:
    - Operations added, removed and modified between the previous O(dest) and the new export, each
      list sorted by path and method. A removed operation carries its old name.
    - Null when there was no previous document to compare with (O(dest) did not exist or did not
      parse as an API definition document).
  returned: success
  type: dict
  contains:
    added:
      description: Operations only in the new document.
      type: list
      elements: dict
      sample: [{"method": "POST", "path": "/orders/{orderId}/refund", "name": "refund-order"}]
    removed:
      description: Operations only in the old document.
      type: list
      elements: dict
      sample: [{"method": "DELETE", "path": "/orders/{orderId}", "name": "cancel-order"}]
    modified:
      description: Operations in both whose definition changed.
      type: list
      elements: dict
      sample: [{"method": "GET", "path": "/orders", "name": "list-orders"}]
  sample: {"added": [], "removed": [], "modified": [{"method": "GET", "path": "/orders", "name": "list-orders"}]}
backup_file:
  description: The backup copy of the previous O(dest).
  returned: when O(backup=true) and O(dest) was replaced
  type: str
  sample: /srv/apis/orders.json.2412.2026-11-22@10:01:02~
content:
  description: The document now in O(dest) (in check mode, the exported document when it would replace O(dest)).
  returned: when O(return_content=true)
  type: str
  sample: '{"swagger": "2.0", "info": {"title": "orders", "version": "2026-11-22 10:01:02"}, "paths": {}}'
"""

import json
import os
import stat

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.hwc.apig.plugins.module_utils import documents, resolve, settle, transfer
from ansible_collections.hwc.apig.plugins.module_utils.client import EXPORT, ApigError, doing
from ansible_collections.hwc.apig.plugins.module_utils.module import ApigModule

BACKEND_STATUS = {"pending_development": 1, "developing": 3, "deployed": 4}
TASK_SUCCEEDED = ("succeed", "succeeded")  # the SDK and older docs say succeed, newer docs succeeded
TASK_FAILED = "failed"
DEFAULT_OAS_VERSION = "2.0"
KIND_OPTIONS = {"apis": ("api_group", "env", "version", "oas_version"), "backend_apis": ("app", "status")}
TEMP_PREFIX = "hwc-apig-export-"


def validate(module):
    """Every check that needs no request, so bad input never reaches the gateway."""
    params, service, kind = module.params, module.service, module.params["kind"]

    def fail(msg):
        module.fail_json(msg=msg, dest=params["dest"], changed=False)

    if kind == "backend_apis" and service != "roma":
        fail("kind: backend_apis exports ROMA Connect custom backend APIs and needs service: roma; got service: %s"
             % service)
    if params["export_mode"] == "async" and service != "apig":
        fail("export_mode: async is APIG's export task (service: apig); ROMA Connect has no async export, "
             "use export_mode: sync; got service: %s" % service)
    if params["wait_timeout"] < 1:
        fail("wait_timeout must be greater than 0, got %d" % params["wait_timeout"])
    if service == "roma" and params["oas_version"] == "3.0":
        fail("oas_version: 3.0 is not available on ROMA Connect (service: roma): its export takes no OpenAPI "
             "version and produces Swagger 2.0; leave oas_version out or set 2.0")
    other = "backend_apis" if kind == "apis" else "apis"
    misplaced = [option for option in KIND_OPTIONS[other] if params[option] is not None]
    if misplaced:
        fail("%s: for kind: %s only; got kind: %s" % (", ".join(misplaced), other, kind))
    for option in ("api_group", "env", "app"):
        if params[option] is not None and not params[option].strip():
            fail("%s must not be empty, got %r" % (option, params[option]))
    if kind == "apis" and params["api_group"] is None:
        fail("api_group is required with kind: apis (an API group name or ID)")
    if kind == "apis" and service == "apig" and params["env"] is None:
        fail("env is required with kind: apis on APIG (service: apig): the environment whose published APIs "
             "are exported (name or ID)")
    if params["apis"] is not None:
        empty = [repr(value) for value in params["apis"] if not value or not value.strip()]
        if empty or not params["apis"]:
            fail("apis must list API names or IDs; got an empty entry or list: %s" % (", ".join(empty) or "[]"))
    check_dest(module, params["dest"])
    check_file_mode(module, params["mode"])


def check_file_mode(module, mode):
    """A mode that the file options would refuse only after the file was written is refused now."""
    if mode is None or isinstance(mode, int):
        return
    try:
        value = int(mode, 8)
    except ValueError:
        try:
            value = module._symbolic_mode_to_octal(os.stat_result((0o100644,) + (0,) * 9), mode)
        except Exception:  # pylint: disable=broad-except  # any failure means the same: not a mode
            value = None
    if value is None or value != stat.S_IMODE(value):
        module.fail_json(msg="mode must be an octal or symbolic file mode (for example 0644 or u=rw,g=r,o=r), got %r"
                         % (mode,), dest=module.params["dest"], changed=False)


def check_dest(module, dest):
    def fail(msg):
        module.fail_json(msg=msg, dest=dest, changed=False)

    if os.path.isdir(dest):
        fail("dest %s is a directory; give the path of the file to write, for example %s"
             % (dest, os.path.join(dest, "export.json")))
    directory = os.path.dirname(dest) or "."
    if not os.path.exists(directory):
        fail("the directory of dest does not exist: %s (create it first, for example with ansible.builtin.file "
             "and state: directory)" % directory)
    if not os.path.isdir(directory):
        fail("the directory of dest is not a directory: %s" % directory)
    if not os.access(directory, os.W_OK | os.X_OK):
        fail("the directory of dest is not writable: %s" % directory)
    if os.path.exists(dest) and not os.access(dest, os.R_OK):
        fail("dest %s is not readable; it is compared with the export" % dest)


def task_failure(task_id, result):
    """An ApigError from a failed task's task_result (a JSON string with error_code/error_msg, usually)."""
    code = message = None
    if isinstance(result, dict):
        code, message = result.get("error_code"), result.get("error_msg")
    reason = " ".join(str(part) for part in (code, message) if part) or "no reason given"
    return ApigError("export task %s failed: %s" % (task_id, reason), error_code=code, error_msg=message)


class Exporter(object):
    """Options -> resolve -> export into a temporary file -> compare with dest -> replace or keep."""

    def __init__(self, module):
        self.module = module
        self.client = module.client
        self.params = module.params
        self.format = documents.normalize_format(self.params["format"])
        self.task_id = None

    def run(self):
        download = self.export()
        try:
            return self.store(download)
        finally:
            download.discard()  # a no-op once the file was moved into place

    # -- export ------------------------------------------------------------------------------
    def query(self):
        if self.module.service != "apig":
            return None  # ROMA Connect's export has no oas_version
        return [("oas_version", self.params["oas_version"] or DEFAULT_OAS_VERSION)]

    def export(self):
        if self.params["kind"] == "backend_apis":
            return self.export_backend_apis()
        body, label = self.apis_body()
        if self.params["export_mode"] == "async":
            return self.export_async(body, label)
        with doing("exporting %s" % label):
            return transfer.download(self.client, "POST", self.client.path("openapi", "export"), self.module.tmpdir,
                                     query=self.query(), body=body, prefix=TEMP_PREFIX)

    def apis_body(self):
        params = self.params
        with doing("resolving API group %r" % params["api_group"]):
            group = resolve.find_group(self.client, params["api_group"])
        body = {}
        label = "API group %s" % group.get("name")
        if params["env"] is not None:
            with doing("resolving environment %r" % params["env"]):
                env = resolve.find_environment(self.client, params["env"])
            body["env_id"] = env["id"]
            label += " in %s" % env.get("name")
        body.update(group_id=group["id"], define=params["define"], type=self.format)
        if params["version"] is not None:
            body["version"] = params["version"]
        if params["apis"] is not None:
            with doing("resolving the APIs of group %s" % group.get("name")):
                listing = resolve.list_apis(self.client, group["id"])
                body["apis"] = [api["id"] for api in resolve.match_all("API", params["apis"], listing)]
        return body, label

    def export_backend_apis(self):
        params = self.params
        body = {}
        if params["app"] is not None:
            body["app_id"] = params["app"]
        body["format"] = self.format
        if params["apis"] is not None:
            with doing("resolving the custom backend APIs"):
                body["apis"] = [item["id"] for item in resolve.find_backend_apis(self.client, params["apis"])]
        if params["status"] is not None:
            body["status"] = BACKEND_STATUS[params["status"]]
        with doing("exporting the custom backend APIs"):
            return transfer.download(self.client, "POST", self.client.path("openapi", "livedata-apis", "export"),
                                     self.module.tmpdir, body=body, prefix=TEMP_PREFIX)

    def export_async(self, body, label):
        with doing("starting the export task of %s" % label):
            answer = self.client.call("POST", self.client.path("openapi", "async-export"), query=self.query(),
                                      body=body, kind=EXPORT, require_body=True)
        self.task_id = answer.get("task_id")
        if not self.task_id:
            raise ApigError("starting the export task of %s: the answer carries no task_id" % label)
        # From here on a failure names the task (the module wrapper adds these to any failure).
        self.module.failure_fields.update(task_id=self.task_id, dest=self.params["dest"], changed=False)
        path = self.client.path("async-tasks", self.task_id)
        with doing("exporting %s (task %s)" % (label, self.task_id)):
            # A 401 is not retried: password auth renews its token once, a fixed auth_token fails at once.
            task = settle.poll(lambda: self.client.call("GET", path), self.task_done, self.params["wait_timeout"],
                               "export task %s to finish (raise wait_timeout to wait longer)" % self.task_id)
            return self.task_document(task)

    @staticmethod
    def task_done(task):
        return str(task.get("task_status") or "").lower() in TASK_SUCCEEDED + (TASK_FAILED,)

    def task_document(self, task):
        """The exported file from the task result: json.loads(task_result)["content"] (text or an object)."""
        result = task.pop("task_result", None)  # the document may be large: keep one copy at a time
        if isinstance(result, str):
            try:
                result = json.loads(result)
            except ValueError:
                result = {"error_msg": result} if result.strip() else None
        if str(task.get("task_status")).lower() == TASK_FAILED:
            raise task_failure(self.task_id, result)
        content = result.get("content") if isinstance(result, dict) else None
        if content is None:
            raise ApigError("export task %s finished but its task_result carries no content" % self.task_id)
        file_type = result.get("file_type")
        if file_type and documents.normalize_format(str(file_type).lower()) != self.format:
            self.module.warn("export task %s produced file_type %s; %s was asked for" % (
                self.task_id, file_type, self.format))
        del result
        try:
            data = content.encode("utf-8") if isinstance(content, str) else documents.dump(content, self.format)
        except documents.YamlMissing as exc:
            return self.need_yaml(exc, "to write the YAML document")
        del content
        return transfer.save_bytes(self.module.tmpdir, data, prefix=TEMP_PREFIX)

    # -- compare and store ---------------------------------------------------------------------
    def summary(self, path, what, digests=True):
        """(Summary or None, YamlMissing or None) of a file; a file that does not parse gives None."""
        try:
            return documents.load_summary(path, self.format, ignore_version=self.params["version"] is None,
                                          digests=digests), None
        except documents.YamlMissing as exc:
            return None, exc
        except documents.DocumentError as exc:
            self.module.warn("%s is not a %s API definition document (%s); it counts as different" % (
                what, self.format.upper(), exc))
            return None, None

    def need_yaml(self, missing, why="to compare YAML exports"):
        self.module.fail_json(msg="%s (%s)" % (missing_required_lib("PyYAML"), why),
                              exception=str(missing), dest=self.params["dest"], changed=False, task_id=self.task_id)

    def store(self, download):
        module, params, dest = self.module, self.params, self.params["dest"]
        if not download.size:
            raise ApigError("the export answer was empty; %s was left as it was" % dest)
        existed = os.path.exists(dest)
        old_sha1 = module.sha1(dest) if existed else None
        # Digests only when there is a previous file with other bytes to compare with; else api_count is all.
        new, new_missing = self.summary(download.path, "the exported document",
                                        digests=existed and old_sha1 != download.sha1)
        api_changes = None
        if not existed:
            changed = True
        elif old_sha1 == download.sha1:
            changed, api_changes = False, documents.no_changes()
        else:
            if new_missing:
                self.need_yaml(new_missing)
            old, old_missing = self.summary(dest, "the previous %s" % dest)
            if old_missing:
                self.need_yaml(old_missing)
            changed = not (new is not None and new.same_as(old))
            if old is not None and new is not None:
                api_changes = documents.changes(old, new)
        if new_missing and not existed:
            module.warn("PyYAML is not available: api_count is not known (%s)" % new_missing)

        result = {"dest": dest, "format": self.format, "api_count": new.api_count if new else None,
                  "api_changes": api_changes}
        if self.task_id:
            result["task_id"] = self.task_id
        if changed and module._diff:
            result["diff"] = documents.file_diff(dest if existed else None, download.path, dest,
                                                 "%s (exported)" % dest)
        if changed and not module.check_mode:
            if params["backup"] and existed:
                result["backup_file"] = module.backup_local(dest)
            module.atomic_move(download.path, dest, unsafe_writes=params["unsafe_writes"])
        if changed:
            result.update(checksum=download.sha1, size=download.size)
        else:
            result.update(checksum=old_sha1, size=os.path.getsize(dest))
        if params["return_content"]:
            source = download.path if changed and module.check_mode else dest
            with open(source, "rb") as handle:
                result["content"] = handle.read().decode("utf-8", "replace")
        if os.path.exists(dest):
            file_args = module.load_file_common_arguments(params, path=dest)
            changed = module.set_fs_attributes_if_different(file_args, changed)
        result["changed"] = changed
        result["msg"] = self.message(changed, existed, result)
        return result

    def message(self, changed, existed, result):
        count = "%s operations" % (result["api_count"] if result["api_count"] is not None else "an unknown number of")
        if not changed:
            return "%s is up to date (%s)" % (result["dest"], count)
        verb = ("would replace" if existed else "would create") if self.module.check_mode else (
            "replaced" if existed else "created")
        return "%s %s (%s)" % (verb, result["dest"], count)


def main():
    module = ApigModule(
        argument_spec=dict(
            kind=dict(type="str", default="apis", choices=["apis", "backend_apis"]),
            api_group=dict(type="str"),
            env=dict(type="str"),
            apis=dict(type="list", elements="str"),
            define=dict(type="str", default="spec", choices=["spec", "proxy", "all", "dev"]),
            format=dict(type="str", default="json", choices=["json", "yaml", "yml"]),
            oas_version=dict(type="str", choices=["2.0", "3.0"]),
            version=dict(type="str"),
            export_mode=dict(type="str", default="sync", choices=["sync", "async"]),
            wait_timeout=dict(type="int", default=300),
            dest=dict(type="path", required=True),
            backup=dict(type="bool", default=False),
            return_content=dict(type="bool", default=False),
            app=dict(type="str"),
            status=dict(type="str", choices=list(BACKEND_STATUS)),
        ),
        supports_check_mode=True,
        add_file_common_args=True,
    )
    validate(module)
    module.run(lambda mod: Exporter(mod).run())


if __name__ == "__main__":
    main()
