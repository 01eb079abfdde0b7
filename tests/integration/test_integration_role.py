"""The role hwc.apig.release and the playbook hwc.apig.release_and_export end to end, against the emulator.

Every ansible-playbook start costs about a second, so each run covers as much as it can: the
collection playbook twice per service (change, then nothing to do), one run of the role three times
(an API vanishes before the write: partial; offline; a missing group and another vanished API:
failed after the report), three instances in parallel, and a table of bad inputs.
"""

import hashlib
import json
import os
import sys

import pytest
from jsonschema import Draft202012Validator

from harness import HERE, INSTANCES, ROOT, run_ansible_playbook, run_playbook, start_emulator

ROLE_DATA = os.path.join(HERE, "data_role.yml")
CATALOG_INSTANCE = "b2c3d4e5f6a748b9c0d1e2f3a4b5c6d7"
MODULE_TASKS = ("Release each group in", "Undeploy the retired backend APIs", "Export each group from")
# A stale export of the orders group: GET /orders differs, GET /old-orders is gone since.
STALE_ORDERS = {
    "swagger": "2.0",
    "info": {"title": "orders", "version": "2026-01-01 00:00:00"},
    "paths": {
        "/orders": {"get": {"operationId": "list-orders", "summary": "old text", "responses": {"200": {"description": "OK"}}}},
        "/old-orders": {"get": {"operationId": "old-orders", "responses": {"200": {"description": "OK"}}}},
    },
}


@pytest.fixture
def role_emulator(tmp_path):
    running = start_emulator(tmp_path, ROLE_DATA)
    yield running
    running.stop()


def write_json(path, data):
    """JSON is YAML too: vars files and inventories are written this way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))
    return str(path)


def load_json(path):
    with open(path) as handle:
        return json.load(handle)


def load_report(path):
    """A release-report.json, checked against the schema that documents it."""
    report = load_json(path)
    Draft202012Validator(load_json(os.path.join(ROOT, "docs", "release-report.schema.json"))).validate(report)
    return report


def sha1(path):
    with open(path, "rb") as handle:
        return hashlib.sha1(handle.read()).hexdigest()


def task_lines(stdout, prefixes):
    """The result lines of the tasks whose name starts with one of the prefixes."""
    lines, inside = [], False
    for line in stdout.splitlines():
        if line.startswith(("TASK [", "PLAY RECAP")):
            inside = any((" : " + prefix) in line or ("[" + prefix) in line for prefix in prefixes)
        elif inside and line.strip():
            lines.append(line)
    return lines


def release(tmp_path, emulator, service, variables, check=True):
    """`ansible-playbook hwc.apig.release_and_export -e @vars.yml` with the connection in the environment only."""
    env = {"HWC_APIG_ENDPOINT": emulator.url, "HWC_APIG_INSTANCE_ID": INSTANCES[service]}
    if service == "roma":
        env["HWC_APIG_SERVICE"] = "roma"
    vars_file = write_json(tmp_path / "vars.yml", variables)
    return run_ansible_playbook(tmp_path, ["hwc.apig.release_and_export", "-e", "@" + vars_file],
                                env_extra=env, check=check)


def by_name(report):
    return {api["name"]: api for api in report["apis"]}


@pytest.mark.parametrize("service", ["apig", "roma"])
def test_release_then_nothing_to_do(tmp_path, role_emulator, service):
    variables = {
        "release_env": "RELEASE",
        "release_groups": [{"name": "orders"}, {"name": "payments", "apis": ["pay", "refund"]}],
        "release_remark": "CHG-42",
    }
    if service == "roma":
        variables["release_retire_backend_apis"] = ["legacy_lookup", "old_feed", "planned_report"]
    exports = tmp_path / "exports"
    write_json(exports / "orders.json", STALE_ORDERS)

    # --- first run: publishes, retires, exports, reports -------------------------------------------
    release(tmp_path, role_emulator, service, variables)
    first = load_report(exports / "release-report.json")
    assert first["status"] == "succeeded" and first["changed"] is True and first["errors"] == []
    assert first["env"] == {"id": "DEFAULT_ENVIRONMENT_RELEASE_ID", "name": "RELEASE"}
    assert (first["state"], first["remark"], first["host"], first["report_format"]) == ("published", "CHG-42", "localhost", 1)
    assert first["files"] == {"json": str(exports / "release-report.json"), "markdown": str(exports / "release-report.md")}
    assert first["start"] < first["end"] and first["duration_seconds"] > 0

    apis = by_name(first)
    expected = {"list-orders": "unchanged", "get-order": "republished", "create-order": "unchanged",
                "cancel-order": "published", "order-status": "published", "pay": "unchanged", "refund": "published"}
    if service == "roma":
        expected["legacy-lookup"] = "unchanged"
    assert {name: api["result"] for name, api in apis.items()} == expected
    assert {api["group"] for api in first["apis"] if api["name"] in ("pay", "refund")} == {"payments"}
    for name, api in apis.items():
        if api["result"] == "published":
            assert api["before"] is None and api["after"]["version_id"] and api["after"]["publish_id"]
        elif api["result"] == "republished":
            assert api["before"]["publish_id"] != api["after"]["publish_id"] and api["after"]["version_id"]
        elif api.get("retired_with"):
            assert api["after"] is None and api["before"]["publish_id"]
        else:
            assert api["before"]["publish_id"] == api["after"]["publish_id"] and api["after"]["version_id"] is None
        if api["after"]:
            # The report's "after" is what the gateway has live now.
            live = {pub["env_name"]: pub for pub in role_emulator.control.times(api["id"])["publications"]}
            assert live["RELEASE"]["publish_id"] == api["after"]["publish_id"]
    assert first["counts"]["apis"] == {"total": len(expected), "published": 3, "republished": 1,
                                       "unchanged": len(expected) - 4, "taken_offline": 0, "failed": 0}

    groups = {group["name"]: group for group in first["groups"]}
    orders, payments = groups["orders"]["export"], groups["payments"]["export"]
    assert orders["file"] == str(exports / "orders.json") and orders["changed"] is True
    assert orders["checksum"] == sha1(orders["file"]) and payments["checksum"] == sha1(payments["file"])
    assert orders["api_count"] == 5 and payments["api_count"] == 2
    changes = {kind: {(op["method"], op["path"]) for op in ops} for kind, ops in orders["api_changes"].items()}
    assert changes == {"added": {("GET", "/orders/{orderId}"), ("POST", "/orders"), ("DELETE", "/orders/{orderId}"),
                                 ("GET", "/orders/{orderId}/status")},
                       "removed": {("GET", "/old-orders")}, "modified": {("GET", "/orders")}}
    assert payments["api_changes"] is None  # there was no file to compare with
    assert groups["orders"]["publish"]["changed"] is True and groups["payments"]["apis"] == ["pay", "refund"]

    if service == "roma":
        retired = {backend["name"]: backend for backend in first["retired_backend_apis"]}
        assert {name: (b["result"], b["status_before"], b["status_after"]) for name, b in retired.items()} == {
            "legacy_lookup": ("undeployed", 4, 3), "old_feed": ("undeployed", 4, 3), "planned_report": ("unchanged", 1, 1)}
        assert [front["name"] for front in retired["legacy_lookup"]["frontend_apis"]] == ["legacy-lookup"]
        assert [front["name"] for front in retired["old_feed"]["frontend_apis"]] == ["old-feed"]
        assert apis["legacy-lookup"]["retired_with"] == "legacy_lookup"
        assert first["counts"]["backend_apis"] == {"total": 3, "undeployed": 2, "unchanged": 1, "absent": 0, "failed": 0}
    else:
        assert first["retired_backend_apis"] == [] and first["counts"]["backend_apis"]["total"] == 0

    markdown = (exports / "release-report.md").read_text()
    assert "# Release in RELEASE: succeeded" in markdown and "CHG-42" in markdown
    assert "| orders | get-order | %s | republished |" % apis["get-order"]["id"] in markdown
    assert "DELETE /orders/{orderId}" in markdown and "GET /old-orders (old-orders)" in markdown
    if service == "roma":
        assert "| legacy_lookup |" in markdown and "legacy-lookup" in markdown

    log = role_emulator.control.log()
    assert log["counts"]["BatchPublishOrOfflineApiV2"] == 2  # one batch per group
    assert log["classes"]["write"] == (4 if service == "roma" else 2)

    # --- second run: nothing to do, nothing written, exports untouched, and the report says so ---------
    role_emulator.control.reset_log()
    stamps = {name: os.stat(exports / name).st_mtime_ns for name in ("orders.json", "payments.json")}
    result = release(tmp_path, role_emulator, service, variables)
    second = load_report(exports / "release-report.json")
    assert second["status"] == "succeeded" and second["changed"] is False
    assert second["counts"]["apis"]["unchanged"] == second["counts"]["apis"]["total"] == len(expected) - (service == "roma")
    assert second["counts"]["exports"] == {"total": 2, "changed": 0, "unchanged": 2, "failed": 0}
    assert all(not group["publish"]["changed"] and not group["export"]["changed"] for group in second["groups"])
    assert all(group["export"]["api_changes"] == {"added": [], "removed": [], "modified": []} for group in second["groups"])
    after_first = {api["id"]: api["after"] for api in first["apis"]}
    for api in second["apis"]:
        assert api["before"]["publish_id"] == api["after"]["publish_id"] == after_first[api["id"]]["publish_id"]
    if service == "roma":
        assert [b["result"] for b in second["retired_backend_apis"]] == ["unchanged"] * 3
    assert {name: os.stat(exports / name).st_mtime_ns for name in stamps} == stamps
    assert {group["name"]: group["export"]["checksum"] for group in second["groups"]} == {
        group["name"]: group["export"]["checksum"] for group in first["groups"]}
    assert "write" not in role_emulator.control.log()["classes"]
    module_lines = task_lines(result.stdout, MODULE_TASKS)
    assert module_lines and not [line for line in module_lines if line.startswith("changed:")], result.stdout
    assert "localhost: succeeded - RELEASE: " in result.stdout  # the play's summary


def test_failed_apis_are_reported_then_fail_the_release(tmp_path, role_emulator):
    result = run_playbook(tmp_path, os.path.join(HERE, "playbooks", "role_partial.yml"),
                          {"emulator_url": role_emulator.url, "apig_instance_id": INSTANCES["apig"]}, check=False)
    assert result.returncode == 2, result.stdout
    # With release_allow_partial the release went on (the playbook asserted it); its report says so.
    partial = load_report(tmp_path / "partial" / "release-report.json")
    assert partial["status"] == "partial" and partial["counts"]["apis"]["failed"] == 1
    # Without it: the report is written, the exports too, and only then does the release fail.
    report = load_report(tmp_path / "failed" / "release-report.json")
    assert report["status"] == "failed"
    # The missing group failed its publish and export steps; the other groups went ahead.
    assert [(error["step"], error["target"]) for error in report["errors"]] == [
        ("publish", "no-such-group"), ("export", "no-such-group")]
    assert all("no-such-group" in error["msg"] for error in report["errors"])
    missing = report["groups"][2]
    assert missing["publish"]["error"] and missing["export"]["error"] and missing["export"]["checksum"] is None
    failed = [api for api in report["apis"] if api["result"] == "failed"]
    assert [api["name"] for api in failed] == ["refund"] and failed[0]["group"] == "payments"
    assert failed[0]["error_code"] and failed[0]["error_msg"] and failed[0]["after"] is None
    assert by_name(report)["list-payments"]["result"] == "published"
    assert by_name(report)["pay"]["result"] == "published"  # back online after the offline release
    assert [group["export"]["changed"] for group in report["groups"]] == [True, True, False]
    assert report["counts"]["exports"] == {"total": 3, "changed": 2, "unchanged": 0, "failed": 1}
    assert os.path.exists(tmp_path / "failed" / "payments.json")
    markdown = (tmp_path / "failed" / "release-report.md").read_text()
    assert "# Release in RELEASE: failed" in markdown and "| payments | refund |" in markdown
    tail = result.stdout[result.stdout.rindex("Fail the release when anything failed"):]
    assert "fatal: [localhost]: FAILED!" in tail and str(tmp_path / "failed" / "release-report.md") in tail
    assert "API payments/refund failed: APIG.3002" in tail and "The publish step failed for no-such-group" in tail


def test_three_instances_in_parallel(tmp_path, role_emulator):
    hosts = {
        "gw-apig": {"service": "apig", "instance_id": INSTANCES["apig"], "release_groups": [{"name": "orders"}]},
        "gw-roma": {"service": "roma", "instance_id": INSTANCES["roma"],
                    "release_groups": [{"name": "orders"}, {"name": "payments"}],
                    "release_retire_backend_apis": ["legacy_lookup"]},
        "gw-catalog": {"service": "apig", "instance_id": CATALOG_INSTANCE, "release_groups": [{"name": "catalog"}]},
    }
    for host in hosts.values():
        host["region"] = "cn-north-4"
    inventory = write_json(tmp_path / "inventory.yml", {"gateways": {"hosts": hosts}})
    vars_file = write_json(tmp_path / "vars.yml", {"release_env": "RELEASE",
                                                   "release_export_dir": "exports/{{ inventory_hostname }}"})
    # No instance or service in the environment: each comes from its host.
    result = run_ansible_playbook(tmp_path, ["hwc.apig.release_and_export", "-i", inventory, "-e", "@" + vars_file,
                                             "-e", "release_hosts=gateways", "--forks", "3"],
                                  env_extra={"HWC_APIG_ENDPOINT": role_emulator.url})
    state = role_emulator.control.dump()
    for name, host in hosts.items():
        folder = tmp_path / "exports" / name
        report = load_report(folder / "release-report.json")
        groups = [group["name"] for group in host["release_groups"]]
        assert report["host"] == name and report["status"] == "succeeded"
        assert sorted(os.listdir(folder)) == sorted(["release-report.json", "release-report.md"]
                                                    + [group + ".json" for group in groups])
        instance = next(item for item in state["instances"] if item["id"] == host["instance_id"])
        published = {api_id for api_id, envs in instance["publications"].items() if "DEFAULT_ENVIRONMENT_RELEASE_ID" in envs}
        assert {api["id"] for api in report["apis"] if api["after"]} <= published
        assert [group["name"] for group in report["groups"]] == groups
        assert "%s: succeeded - RELEASE: " % name in result.stdout
    assert load_report(tmp_path / "exports" / "gw-roma" / "release-report.json")["counts"]["backend_apis"]["undeployed"] == 1
    assert "ok=" in result.stdout.split("PLAY RECAP", 1)[1]


# Bad inputs: (case, variables, the task that must refuse them, words its message must contain).
ARG_SPEC = "Validating arguments against arg spec 'main'"
BAD_INPUTS = [
    ("state", {"release_state": "online"}, ARG_SPEC, ["release_state", "online"]),
    ("groups not a list of dicts", {"release_groups": ["orders"]}, ARG_SPEC, ["release_groups"]),
    ("group without name", {"release_groups": [{"apis": ["x"]}]}, ARG_SPEC, ["name"]),
    ("unknown group key", {"release_groups": [{"name": "orders", "api": ["x"]}]}, ARG_SPEC, ["api"]),
    ("format", {"release_export_format": "xml"}, ARG_SPEC, ["release_export_format", "xml"]),
    ("oas version", {"release_export_oas_version": "3.1"}, ARG_SPEC, ["release_export_oas_version", "3.1"]),
    ("mode", {"release_export_mode": "later"}, ARG_SPEC, ["release_export_mode", "later"]),
    ("define", {"release_export_define": "everything"}, ARG_SPEC, ["release_export_define", "everything"]),
    ("allow partial", {"release_allow_partial": "perhaps"}, ARG_SPEC, ["release_allow_partial", "perhaps"]),
    # Variables of the wrong type. The argument spec would take text given as a list or a mapping as its
    # printed form ("['RELEASE']"); the role's own checks refuse it.
    ("env as a list", {"release_env": ["RELEASE"]}, "Check release_env", ["release_env", '["RELEASE"]']),
    ("remark as a mapping", {"release_remark": {"ticket": "CHG-42"}}, "Check release_remark",
     ["release_remark", "dict", '{"ticket": "CHG-42"}']),
    ("export dir as a list", {"release_export_dir": ["exports"]}, "Check release_export_dir",
     ["release_export_dir", '["exports"]']),
    ("group name as a list", {"release_groups": [{"name": ["orders"]}]}, "Check release_groups",
     ["release_groups", '["orders"]']),
    ("backend API as a mapping", {"release_retire_backend_apis": [{"name": "old_feed"}]},
     "Check release_retire_backend_apis", ["release_retire_backend_apis", '{"name": "old_feed"}']),
    ("backend APIs as a mapping", {"release_retire_backend_apis": {"name": "old_feed"}}, ARG_SPEC,
     ["release_retire_backend_apis", "dict"]),
    ("apis as a mapping", {"release_groups": [{"name": "orders", "apis": {"get-order": 1}}]}, ARG_SPEC,
     ["apis", "dict"]),
    ("allow partial as a number", {"release_allow_partial": 5}, ARG_SPEC, ["release_allow_partial", "5"]),
    ("empty env", {"release_env": "  "}, "Check release_env", ["release_env", '"  "']),
    ("no groups", {"release_groups": []}, "Check release_groups", ["release_groups", "[]"]),
    ("blank group name", {"release_groups": [{"name": " "}]}, "Check release_groups", ["release_groups", '" "']),
    ("slash in group name", {"release_groups": [{"name": "../orders"}]}, "Check release_groups", ["../orders"]),
    ("group twice", {"release_groups": [{"name": "orders"}, {"name": "orders"}]}, "Check release_groups",
     ["each group once", "orders"]),
    ("empty apis", {"release_groups": [{"name": "orders", "apis": []}]}, "Check release_groups", ['"apis": []']),
    ("blank api", {"release_groups": [{"name": "orders", "apis": ["get-order", ""]}]}, "Check release_groups",
     ['""']),
    ("long remark", {"release_remark": "x" * 256}, "Check release_remark", ["release_remark", "256"]),
    ("blank backend API", {"release_retire_backend_apis": ["legacy_lookup", ""]},
     "Check release_retire_backend_apis", ["release_retire_backend_apis", '""']),
    ("backend API twice", {"release_retire_backend_apis": ["old_feed", "old_feed"]},
     "Check release_retire_backend_apis", ["each once", "old_feed"]),
    ("empty export dir", {"release_export_dir": ""}, "Check release_export_dir", ["release_export_dir", '""']),
    ("shared export dir", {"release_export_dir": "exports/shared"},
     "Check that no other instance of the play writes into the same folder", ["exports/shared", "inventory_hostname"]),
]


def test_bad_inputs_fail_before_any_request(tmp_path, role_emulator):
    cases = [{"name": name, "vars": variables} for name, variables, _task, _words in BAD_INPUTS]
    extra = {"role_cases": cases, "role_results_dir": str(tmp_path), "ansible_python_interpreter": sys.executable}
    run_ansible_playbook(tmp_path, ["-i", "bad-a,bad-b,", "-c", "local", "-e", json.dumps(extra),
                                    os.path.join(HERE, "playbooks", "role_bad_inputs.yml")],
                         env_extra={"HWC_APIG_ENDPOINT": role_emulator.url, "HWC_APIG_INSTANCE_ID": INSTANCES["apig"]})
    for host, other in (("bad-a", "bad-b"), ("bad-b", "bad-a")):
        results = {item["case"]: item for item in load_json(tmp_path / (host + ".json"))}
        assert list(results) == [case["name"] for case in cases]
        for name, _variables, task, words in BAD_INPUTS:
            got = results[name]
            assert got["failed"], "case %r was not refused" % name
            assert task in got["task"], (name, got)
            for word in words + ([other] if name == "shared export dir" else []):
                assert word in got["msg"], (name, word, got["msg"])
    assert role_emulator.control.log()["requests"] == []
    assert not os.path.exists(tmp_path / "exports")
