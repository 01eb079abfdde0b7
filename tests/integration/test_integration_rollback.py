"""Release history and rollback end to end, against the emulator: the apig_api_info and apig_api_version
targets (one ansible-playbook run per service), and the playbook hwc.apig.rollback undoing a run of
hwc.apig.release_and_export exactly - the effective version of every API in the emulator's state is the
one it had before the release - then changing nothing on a second run.

Every ansible-playbook start costs about a second: the APIG rollback covers check mode, the change, the
re-run and a wrong instance; the ROMA one an offline release with a retired backend API.
"""

import json
import os

import pytest
from jsonschema import Draft202012Validator

from harness import HERE, INSTANCES, ROOT, run_ansible_playbook, run_playbook, start_emulator

ROLE_DATA = os.path.join(HERE, "data_role.yml")
RELEASE = "DEFAULT_ENVIRONMENT_RELEASE_ID"


@pytest.mark.parametrize("service", ["apig", "roma"])
def test_info_and_version_targets(tmp_path, emulator, service):
    run_playbook(tmp_path, os.path.join(HERE, "playbooks", "versions.yml"), {
        "emulator_url": emulator.url, "apig_service": service, "apig_instance_id": INSTANCES[service]})


@pytest.fixture
def role_emulator(tmp_path):
    running = start_emulator(tmp_path, ROLE_DATA)
    yield running
    running.stop()


def load_json(path):
    with open(path) as handle:
        return json.load(handle)


def load_rollback_report(path):
    report = load_json(path)
    Draft202012Validator(load_json(os.path.join(ROOT, "docs", "rollback-report.schema.json"))).validate(report)
    return report


def effective(emulator, instance_id):
    """What is live, per API and environment, in the emulator's own state (not through the modules)."""
    [instance] = [item for item in emulator.control.dump()["instances"] if item["id"] == instance_id]
    return {api_id: {env_id: (record["version_id"], record["publish_id"], record["publish_time"])
                     for env_id, record in envs.items()}
            for api_id, envs in instance["publications"].items()}


def connection(emulator, service):
    """The connection the way AWX injects a credential: environment variables only."""
    env = {"HWC_APIG_ENDPOINT": emulator.url, "HWC_APIG_INSTANCE_ID": INSTANCES[service]}
    if service == "roma":
        env["HWC_APIG_SERVICE"] = "roma"
    return env


def release(tmp_path, emulator, service, variables):
    path = tmp_path / "vars.yml"
    path.write_text(json.dumps(variables))
    run_ansible_playbook(tmp_path, ["hwc.apig.release_and_export", "-e", "@" + str(path)],
                         env_extra=connection(emulator, service))
    return load_json(tmp_path / "exports" / "release-report.json")


def rollback(tmp_path, emulator, service, *extra, check=True, env=None):
    return run_ansible_playbook(tmp_path, ["hwc.apig.rollback", "-e", "rollback_report=exports/release-report.json"]
                                + list(extra), env_extra=env or connection(emulator, service), check=check)


def module_lines(stdout):
    lines, inside = [], False
    for line in stdout.splitlines():
        if line.startswith(("TASK [", "PLAY RECAP")):
            inside = "Put each API back on the version effective before the release" in line
        elif inside and line.strip():
            lines.append(line)
    return lines


def test_rollback_undoes_a_release_exactly(tmp_path, role_emulator):
    instance = INSTANCES["apig"]
    before = effective(role_emulator, instance)
    report = release(tmp_path, role_emulator, "apig", {
        "release_env": "RELEASE", "release_remark": "CHG-7",
        "release_groups": [{"name": "orders"}, {"name": "payments", "apis": ["pay", "refund"]}]})
    released = effective(role_emulator, instance)
    results = {api["name"]: api["result"] for api in report["apis"]}
    assert results == {"list-orders": "unchanged", "get-order": "republished", "create-order": "unchanged",
                       "cancel-order": "published", "order-status": "published", "pay": "unchanged",
                       "refund": "published"}
    assert released != before
    exports = tmp_path / "exports"

    # --- check mode: predicts, writes nothing, writes no report ------------------------------------
    role_emulator.control.reset_log()
    result = rollback(tmp_path, role_emulator, "apig", "--check")
    assert effective(role_emulator, instance) == released
    assert "write" not in role_emulator.control.log()["classes"]
    assert not (exports / "rollback-report.json").exists()
    assert "localhost: succeeded - rollback of the release of %s in RELEASE: 7 APIs (1 switched back, 3 taken " \
           "offline, 3 unchanged, 0 failed)" % report["start"] in result.stdout

    # --- the rollback: every API back on its version from before the release ---------------------------
    role_emulator.control.reset_log()
    rollback(tmp_path, role_emulator, "apig")
    after = effective(role_emulator, instance)
    for api in report["apis"]:
        assert after.get(api["id"], {}).get(RELEASE) == before.get(api["id"], {}).get(RELEASE), api["name"]
    assert after == before  # and nothing else moved, in any environment
    log = role_emulator.control.log()
    assert log["counts"]["ChangeApiVersionV2"] == 1 and log["counts"]["BatchPublishOrOfflineApiV2"] == 1
    assert log["classes"]["write"] == 2
    # History reads only where the listing could not decide: the switched API.
    assert log["counts"]["ListApiVersionsV2"] == 1

    first = load_rollback_report(exports / "rollback-report.json")
    assert first["status"] == "succeeded" and first["changed"] is True and first["errors"] == []
    assert first["release"]["report"] == str(exports / "release-report.json")
    assert (first["release"]["remark"], first["release"]["start"], first["env"]["name"]) == (
        "CHG-7", report["start"], "RELEASE")
    assert first["counts"] == {"total": 7, "switched": 1, "taken_offline": 3, "unchanged": 3, "failed": 0,
                               "not_restored": 0, "changed_since_release": 0}
    by_name = {api["name"]: api for api in first["apis"]}
    released_by_name = {api["name"]: api for api in report["apis"]}
    get_order = by_name["get-order"]
    assert get_order["result"] == "switched" and get_order["release_result"] == "republished"
    assert get_order["version_before"] == released_by_name["get-order"]["after"]["version_id"]
    assert get_order["version_after"] == before[get_order["id"]][RELEASE][0]
    assert get_order["restore_to"] == released_by_name["get-order"]["before"]
    assert by_name["refund"]["result"] == "taken_offline" and by_name["refund"]["restore_to"] is None
    markdown = (exports / "rollback-report.md").read_text()
    assert "# Rollback in RELEASE: succeeded" in markdown and "| orders | get-order | %s | switched |" % (
        get_order["id"]) in markdown
    assert "| payments | refund |" in markdown and "Unchanged, already as before the release (3)" in markdown

    # --- a second run changes nothing ------------------------------------------------------------------
    role_emulator.control.reset_log()
    result = rollback(tmp_path, role_emulator, "apig")
    assert effective(role_emulator, instance) == before
    log = role_emulator.control.log()
    assert "write" not in log["classes"] and "ListApiVersionsV2" not in log["counts"]
    second = load_rollback_report(exports / "rollback-report.json")
    assert second["status"] == "succeeded" and second["changed"] is False
    assert second["counts"]["unchanged"] == 7
    # The APIs now differ from what the release left: the report says so.
    assert second["counts"]["changed_since_release"] == 4
    lines = module_lines(result.stdout)
    assert lines and not [line for line in lines if line.startswith("changed:")], result.stdout

    # --- pointed at another instance: stops before any write, says why, still writes its report ---------
    role_emulator.control.reset_log()
    result = rollback(tmp_path, role_emulator, "roma", check=False)
    assert result.returncode == 2
    assert "write" not in role_emulator.control.log()["classes"]
    wrong = load_rollback_report(exports / "rollback-report.json")
    assert wrong["status"] == "failed" and wrong["counts"]["failed"] == 7
    assert "none of the 7 APIs of" in wrong["errors"][0]["msg"] and INSTANCES["roma"] in wrong["errors"][0]["msg"]
    tail = result.stdout[result.stdout.rindex("Fail the rollback when anything failed"):]
    assert "fatal: [localhost]: FAILED!" in tail and str(exports / "rollback-report.md") in tail


def test_rollback_of_an_offline_release_that_retired_a_backend_api(tmp_path, role_emulator):
    instance = INSTANCES["roma"]
    before = effective(role_emulator, instance)
    report = release(tmp_path, role_emulator, "roma", {
        "release_env": "RELEASE", "release_state": "offline", "release_groups": [{"name": "payments"}],
        "release_retire_backend_apis": ["old_feed"]})
    results = {api["name"]: (api["result"], api["retired_with"]) for api in report["apis"]}
    assert results == {"pay": ("taken_offline", None), "refund": ("unchanged", None),
                       "list-payments": ("unchanged", None), "old-feed": ("taken_offline", "old_feed")}

    result = rollback(tmp_path, role_emulator, "roma")
    after = effective(role_emulator, instance)
    ids = {api["name"]: api["id"] for api in report["apis"]}
    # pay is live again on the very version it had; the deleted frontend API cannot come back.
    assert after[ids["pay"]] == before[ids["pay"]]
    assert ids["refund"] not in after and ids["list-payments"] not in after and ids["old-feed"] not in after
    assert {api_id: envs for api_id, envs in after.items() if api_id != ids["old-feed"]} == {
        api_id: envs for api_id, envs in before.items() if api_id != ids["old-feed"]}
    first = load_rollback_report(tmp_path / "exports" / "rollback-report.json")
    assert first["status"] == "partial" and first["changed"] is True
    by_name = {api["name"]: api for api in first["apis"]}
    assert by_name["pay"]["result"] == "switched" and by_name["pay"]["version_before"] is None
    assert by_name["pay"]["version_after"] == before[ids["pay"]][RELEASE][0]
    assert by_name["old-feed"]["result"] == "not_restored" and "old_feed" in by_name["old-feed"]["error_msg"]
    assert "1 not restored" in result.stdout

    role_emulator.control.reset_log()
    rollback(tmp_path, role_emulator, "roma")
    assert "write" not in role_emulator.control.log()["classes"]
    second = load_rollback_report(tmp_path / "exports" / "rollback-report.json")
    assert second["changed"] is False and second["counts"]["unchanged"] == 3 and second["counts"]["not_restored"] == 1
