"""Reliability: every module and the role converge under injected faults with nothing lost or
duplicated, fail cleanly naming what is unsettled when retries run out, and no secret appears in any
output or file, even at -vvv. Figures from these runs are in docs/reliability.md."""

import collections
import hashlib
import json
import os
import time

import pytest
import yaml
from jsonschema import Draft202012Validator

from apig_emulator.testing import running_emulator
from harness import DATA, HERE, IAM_USER, INSTANCES, PROJECT_ID, ROOT, SECRET_KEY, run_playbook
from test_integration_undeploy import applied_undeploys

RELIABILITY_DATA = os.path.join(HERE, "data_reliability.yml")

FAULTS = [
    # Whatever the order of concurrent requests, the first write loses its answer and the second is
    # applied late; the seeded rates below then disturb the rest.
    {"class": "writes", "kind": "lost_response", "max_count": 1},
    {"class": "writes", "kind": "late_apply", "answer": "drop", "delay_seconds": 2, "max_count": 1},
    {"class": "reads", "kind": "503", "rate": 0.15, "retry_after": 0},
    {"class": "reads", "kind": "drop", "rate": 0.1},
    {"class": "reads", "kind": "429", "rate": 0.1, "retry_after": 0},
    # 30% of writes applied late (up to 3 s after the client saw a dropped connection or a 504).
    {"class": "writes", "kind": "late_apply", "rate": 0.15, "answer": "drop", "delay_seconds": 3},
    {"class": "writes", "kind": "late_apply", "rate": 0.18, "answer": "504", "delay_seconds": 1.5},
    {"class": "writes", "kind": "lost_response", "rate": 0.2},
    {"class": "writes", "kind": "429", "rate": 0.15, "retry_after": 0},
    {"class": "writes", "kind": "500", "rate": 0.1},
    {"class": "all", "kind": "latency", "rate": 0.2, "latency_ms": 20},
]


# 1,200 APIs in batches of 100 with every class of fault mixed in; each class alone at 30%, on every
# module and the role, is test_every_module_and_the_role_converge_under_faults below.
@pytest.mark.parametrize("service, seed", [("roma", 23)])
def test_release_converges_under_faults(tmp_path, service, seed):
    with running_emulator(DATA, faults={"seed": seed, "rules": FAULTS}) as emulator:
        run_playbook(tmp_path, os.path.join(HERE, "playbooks", "publish_under_faults.yml"), {
            "emulator_url": emulator.url, "apig_service": service, "apig_instance_id": INSTANCES[service]})
        log = emulator.control.log()
        instance = emulator.state.instances[INSTANCES[service]]
        test_env = instance.find_env("TEST")
        bulk = instance.group_apis(instance.find_group("bulk")["id"])
        orders = instance.group_apis(instance.find_group("orders")["id"])
        # Nothing lost: every API is live in TEST. Nothing duplicated: one publication each.
        for api in bulk:
            assert instance.publication(api["id"], test_env["id"]) is not None, api["name"]
            assert len(instance.version_history[(api["id"], test_env["id"])]) == 1, api["name"]
        for api in orders:
            assert instance.publication(api["id"], test_env["id"]) is not None, api["name"]
            assert len(instance.version_history[(api["id"], test_env["id"])]) == 1, api["name"]
    faults = [entry["fault"] for entry in log["requests"] if entry.get("fault")]
    # The run really was disturbed, including writes whose answer was lost after they were applied and
    # writes the gateway applied only after the client had given up on them.
    assert "lost_response" in faults and "late_apply" in faults and len(faults) >= 5
    late = [entry for entry in log["requests"] if entry.get("fault") == "late_apply"]
    assert all(entry.get("applied_at") for entry in late)


# --- secrets: every module and the role, every auth method, at -vvv, failures forced ------------------
TEMPORARY = {"access_key": "ITESTTEMPORARYAK000A", "secret_key": "itestTemporarySecret0123456789abcdefghij",
             "security_token": "itestSecurityToken-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"}
PASSWORD = {"username": IAM_USER["HWC_USERNAME"], "password": IAM_USER["HWC_PASSWORD"],
            "domain_name": IAM_USER["HWC_DOMAIN_NAME"]}
CREDENTIALS = {"aksk": None, "temporary": TEMPORARY, "token": None, "password": PASSWORD}


def files_under(folder):
    for root, _dirs, names in os.walk(folder):
        for name in names:
            yield os.path.join(root, name)


@pytest.mark.parametrize("auth", list(CREDENTIALS))
def test_no_secret_in_any_output(tmp_path, auth):
    variables = {"emulator_url": None, "secrets_auth": auth, "secrets_dir": str(tmp_path / "files"),
                 "secrets_instances": INSTANCES, "secrets_password": IAM_USER["HWC_PASSWORD"],
                 "secrets_project_id": PROJECT_ID}
    if CREDENTIALS[auth]:
        variables["secrets_credential"] = CREDENTIALS[auth]
    (tmp_path / "files").mkdir()
    with running_emulator(RELIABILITY_DATA, task_seconds=0.3) as emulator:
        variables["emulator_url"] = emulator.url
        result = run_playbook(tmp_path, os.path.join(HERE, "playbooks", "reliability_secrets.yml"), variables,
                              auth="aksk" if auth == "aksk" else "none", verbosity=3)
        issued = list(emulator.state.tokens)
        log = json.dumps(emulator.control.log())
    secrets = [SECRET_KEY, TEMPORARY["secret_key"], TEMPORARY["security_token"], IAM_USER["HWC_PASSWORD"]] + issued
    if auth in ("token", "password"):
        assert issued, "the token must have come from the emulator's IAM"
    output = result.stdout + result.stderr
    # The scan reads real -vvv output of every module and the role, failures included.
    for word in ("apig_api_publish", "apig_backend_undeploy", "apig_export", "hwc.apig.release", PROJECT_ID,
                 "outcome unknown", "HTTP 503", "NO-SUCH-ENV", "EXEC /bin/sh -c"):
        assert word in output, word
    files = list(files_under(str(tmp_path)))
    reports = [path for path in files if path.endswith("release-report.json")]
    assert len(reports) == 2 and os.path.exists(str(tmp_path / "files" / "orders.json"))
    places = [("output", output.encode()), ("request log", log.encode())]
    places += [(path, open(path, "rb").read()) for path in files]
    leaks = [(where, secret[:6] + "...") for secret in secrets for where, data in places if secret.encode() in data]
    assert leaks == []


# --- every module and the role under each class of fault ---------------------------------------------
# Each run: apig_api_publish (APIG, 29 APIs in concurrent batches), apig_backend_undeploy (ROMA, four
# backend APIs through v2 and v1), apig_export (APIG, sync JSON and an async YAML task) and the role
# hwc.apig.release (ROMA: two groups published, two backend APIs retired, two exports, the report).
# A step that fails is run again, up to three attempts, as an operator would; every failed attempt
# must be a clean failure naming what is unsettled. Rules are seeded and bounded by max_count.
FAULT_STEPS = ["publish", "undeploy", "export", "role"]
MAX_FAULTS = 20  # per rule: bounds the count, and so the time, of every run
FAULT_RUNS = {
    # 30% throttled, the first three with Retry-After: 1 s (honoured), the rest with Retry-After: 0.
    "429": [{"class": "all", "kind": "429", "rate": 0.3, "retry_after": 1, "max_count": 3},
            {"class": "all", "kind": "429", "rate": 0.3, "retry_after": 0, "max_count": MAX_FAULTS}],
    # 30% server errors: a write that gets one may have been applied, so it is settled before any resend.
    "5xx": [{"class": "all", "kind": "500", "rate": 0.15, "max_count": MAX_FAULTS},
            {"class": "all", "kind": "503", "rate": 0.18, "max_count": MAX_FAULTS}],
    "drop": [{"class": "all", "kind": "drop", "rate": 0.3, "max_count": MAX_FAULTS}],
    # Spikes longer than the 1 s timeout the run uses: reads time out and are retried; a write that
    # times out is applied by the gateway a moment later, and settling finds it. Capped per class of
    # request, so that writes get their share.
    "latency": [{"class": cls, "kind": "latency", "rate": 0.3, "latency_ms": 1200, "max_count": count}
                for cls, count in (("reads", 8), ("writes", 6), ("exports", 3))],
    "lost_response": [{"class": "all", "kind": "lost_response", "rate": 0.3, "max_count": MAX_FAULTS}],
    # 30% of writes applied 1 to 1.5 s after the client saw a dropped connection, a 504 or a timeout.
    "late_apply": [
        {"class": "writes", "kind": "late_apply", "rate": 0.1, "answer": "drop", "delay_seconds": 1.5},
        {"class": "writes", "kind": "late_apply", "rate": 0.11, "answer": "504", "delay_seconds": 1},
        {"class": "writes", "kind": "late_apply", "rate": 0.125, "answer": "timeout", "hold_seconds": 1.5,
         "delay_seconds": 1}],
    # Every class at once, 10% each.
    "mixed": [{"class": "all", "kind": "429", "rate": 0.1, "retry_after": 0, "max_count": MAX_FAULTS},
              {"class": "all", "kind": "500", "rate": 0.05, "max_count": MAX_FAULTS},
              {"class": "all", "kind": "503", "rate": 0.05, "max_count": MAX_FAULTS},
              {"class": "all", "kind": "drop", "rate": 0.1, "max_count": MAX_FAULTS},
              {"class": "all", "kind": "latency", "rate": 0.1, "latency_ms": 1200, "max_count": 6},
              {"class": "all", "kind": "lost_response", "rate": 0.1, "max_count": MAX_FAULTS},
              {"class": "writes", "kind": "late_apply", "rate": 0.1, "answer": "drop", "delay_seconds": 1.5}],
}
# Whatever the order of concurrent requests, the first write of every run is hit too (the rates decide
# the rest), so that every run disturbs writes for certain.
FIRST_WRITE = {
    "429": {"kind": "429", "retry_after": 1}, "5xx": {"kind": "500"}, "drop": {"kind": "drop"},
    "latency": {"kind": "latency", "latency_ms": 1200}, "lost_response": {"kind": "lost_response"},
    "late_apply": {"kind": "late_apply", "answer": "drop", "delay_seconds": 1.5},
    "mixed": {"kind": "lost_response"},
}
FAULT_SEEDS = {"429": 101, "5xx": 102, "drop": 103, "latency": 104, "lost_response": 105, "late_apply": 106,
               "mixed": 107}
# Seconds one run may take at most (a loaded 2-core machine included).
RUN_BOUND = 300


def fault_run(tmp_path, emulator, **extra):
    variables = {"emulator_url": emulator.url, "fault_dir": str(tmp_path), "fault_steps": FAULT_STEPS,
                 "fault_instances": INSTANCES}
    variables.update(extra)
    started = time.monotonic()
    result = run_playbook(tmp_path, os.path.join(HERE, "playbooks", "reliability_faults.yml"), variables)
    elapsed = time.monotonic() - started
    # Late writes still pending would change the state after the checks.
    deadline = time.monotonic() + 10
    while emulator.control.log()["late_writes_pending"] and time.monotonic() < deadline:
        time.sleep(0.05)
    with open(os.path.join(str(tmp_path), "attempts.json")) as handle:
        return result, json.load(handle), elapsed


def failed_items(result):
    """The entries of a failed module result that failed (publish: apis, undeploy: backend_apis)."""
    return [entry for key in ("apis", "backend_apis") for entry in (result.get(key) or [])
            if entry.get("result") == "failed"]


def assert_clean_failure(attempt, output):
    result = attempt["result"]
    msg = result.get("msg") or ""
    assert msg and "unexpected error" not in msg and "module_stderr" not in result, attempt
    # ansible-core 2.19 puts "(traceback unavailable)" into every failure; a real one never appears.
    assert "Traceback (most recent call last)" not in json.dumps(result), attempt
    # What is unsettled is named: each failed API or backend API by name.
    for entry in failed_items(result):
        assert entry["name"] in msg, (entry["name"], msg)
    # An export that failed left no partial file (there was none before the first success).
    for stat in attempt["files"]:
        assert not stat["exists"] or stat["size"] > 0, attempt
    assert "Traceback (most recent call last)" not in output and "The full traceback" not in output


def sha1_of(path):
    with open(path, "rb") as handle:
        return hashlib.sha1(handle.read()).hexdigest()


def operations(document):
    """The number of operations (method + path) of an exported document."""
    return sum(len([key for key in item if not key.startswith("x-") and key != "parameters"])
               for item in document["paths"].values())


def assert_exact_state(emulator, tmp_path):
    """The state a clean run leaves, checked in the emulator and on disk."""
    apig = emulator.state.instances[INSTANCES["apig"]]
    roma = emulator.state.instances[INSTANCES["roma"]]
    # Publish: every API live in TEST, each published once for its one intended publication.
    for instance, groups in ((apig, ("bulk", "orders")), (roma, ("orders", "payments"))):
        env = instance.find_env("TEST")
        for group in groups:
            apis = instance.group_apis(instance.find_group(group)["id"])
            assert apis
            for api in apis:
                assert instance.publication(api["id"], env["id"]) is not None, api["name"]
                assert len(instance.version_history[(api["id"], env["id"])]) == 1, api["name"]
    # Undeploy (the module's four and the role's two): each applied exactly once, frontends gone.
    ids = dict((ld_api["name"], ld_api["id"]) for ld_api in roma.backend_apis.values())
    retired = ["rel-01", "rel-02", "rel-03", "rel-04", "legacy_lookup", "old_feed"]
    assert applied_undeploys(emulator.control.log()) == collections.Counter(ids[name] for name in retired)
    assert [roma.find_backend_api(name)["status"] for name in retired] == [3] * 6
    assert not [api for api in roma.apis.values() if api.get("ld_api_id") in set(ids[name] for name in retired)]
    # Exports: whole documents of the five published APIs, no temporary file beside them.
    exports = tmp_path / "exports"
    assert sorted(os.listdir(str(exports))) == ["orders.json", "orders.yaml"]
    assert operations(json.loads((exports / "orders.json").read_text())) == 5
    assert operations(yaml.safe_load((exports / "orders.yaml").read_text())) == 5
    # The role: its report complete and matching the files and the gateway.
    role = tmp_path / "role"
    assert sorted(os.listdir(str(role))) == [
        "orders.json", "payments.json", "release-report.json", "release-report.md"]
    report = json.loads((role / "release-report.json").read_text())
    with open(os.path.join(ROOT, "docs", "release-report.schema.json")) as handle:
        Draft202012Validator(json.load(handle)).validate(report)
    assert report["status"] == "succeeded" and report["errors"] == []
    env = roma.find_env("TEST")
    live = set(api["id"] for group in ("orders", "payments")
               for api in roma.group_apis(roma.find_group(group)["id"]))
    reported = dict((api["id"], api) for api in report["apis"])
    assert live <= set(reported)
    for api_id in live:
        assert reported[api_id]["result"] in ("published", "unchanged"), reported[api_id]
        assert reported[api_id]["after"]["publish_id"] == roma.publication(api_id, env["id"])["publish_id"]
    assert sorted(backend["name"] for backend in report["retired_backend_apis"]) == ["legacy_lookup", "old_feed"]
    assert all(backend["result"] in ("undeployed", "unchanged") for backend in report["retired_backend_apis"])
    for group in report["groups"]:
        assert group["export"]["checksum"] == sha1_of(group["export"]["file"]), group
        with open(group["export"]["file"]) as handle:
            assert group["export"]["api_count"] == operations(json.load(handle))


@pytest.mark.parametrize("fault_class", list(FAULT_RUNS))
def test_every_module_and_the_role_converge_under_faults(tmp_path, fault_class):
    first = dict(FIRST_WRITE[fault_class], **{"class": "writes", "max_count": 1})
    faults = {"seed": FAULT_SEEDS[fault_class], "rules": [first] + FAULT_RUNS[fault_class]}
    extra = {"fault_timeout": 1} if fault_class in ("latency", "mixed") else {}
    with running_emulator(RELIABILITY_DATA, faults=faults, task_seconds=0.3) as emulator:
        result, attempts, elapsed = fault_run(tmp_path, emulator, **extra)
        log = emulator.control.log()
        assert_exact_state(emulator, tmp_path)
    output = result.stdout + result.stderr
    assert elapsed < RUN_BOUND
    # Every step ended in success; the attempts before that failed cleanly.
    assert sorted(attempt["step"] for attempt in attempts if not attempt["failed"]) == sorted(FAULT_STEPS)
    for attempt in attempts:
        if attempt["failed"]:
            assert_clean_failure(attempt, output)
    # The run really was disturbed, writes included for the kinds that can hit them.
    kinds = set(rule["kind"] for rule in FAULT_RUNS[fault_class])
    fired = [entry for entry in log["requests"] if entry.get("fault") in kinds]
    # Writes only for late_apply (a few dozen requests at 30% for the others).
    assert len(fired) >= (1 if fault_class == "late_apply" else 5), [entry.get("fault") for entry in log["requests"]]
    assert [entry for entry in fired if entry["class"] == "write"]
    print("\n%s: %d requests, %d faults, %d failed attempts, %.1f s" % (
        fault_class, len(log["requests"]), len(fired), sum(1 for a in attempts if a["failed"]), elapsed))


def test_retries_run_out_with_clean_failures_naming_what_is_unsettled(tmp_path):
    # Every write and every export fails with a server error the gateway never applies; one retry.
    faults = {"seed": 7, "rules": [{"class": "writes", "kind": "500"}, {"class": "exports", "kind": "503"}]}
    with running_emulator(RELIABILITY_DATA, faults=faults, task_seconds=0.3) as emulator:
        result, attempts, _elapsed = fault_run(tmp_path, emulator, fault_max_attempts=1, fault_retries=1,
                                               fault_settle_timeout=1)
        apig, roma = emulator.state.instances[INSTANCES["apig"]], emulator.state.instances[INSTANCES["roma"]]
        log = emulator.control.log()
        # Nothing applied, so nothing applied twice.
        assert not any(apig.version_history.get((api["id"], apig.find_env("TEST")["id"])) for api in apig.apis.values())
        assert not applied_undeploys(log)
        assert [roma.find_backend_api(name)["status"] for name in ("rel-01", "legacy_lookup")] == [4, 4]
    assert [(attempt["step"], attempt["failed"]) for attempt in attempts] == [
        ("publish", True), ("undeploy", True), ("export", True), ("role", True)]
    output = result.stdout + result.stderr
    by_step = dict((attempt["step"], attempt) for attempt in attempts)
    for attempt in attempts:
        assert_clean_failure(attempt, output)
    publish = by_step["publish"]["result"]["msg"]
    assert "outcome unknown" in publish and "run the task again" in publish and "bulk-api-0001" in publish
    undeploy = by_step["undeploy"]["result"]["msg"]
    assert "outcome unknown" in undeploy and "rel-01" in undeploy and "rel-02" in undeploy
    export = by_step["export"]["result"]["msg"]
    assert "exporting API group orders in TEST" in export and "HTTP 503" in export
    assert not os.path.exists(str(tmp_path / "exports" / "orders.json"))
    assert os.listdir(str(tmp_path / "exports")) == []
    # The role wrote a complete report first, then failed naming each unsettled API and backend API.
    report = json.loads((tmp_path / "role" / "release-report.json").read_text())
    assert report["status"] == "failed"
    role_msg = by_step["role"]["result"]["msg"]
    for api in report["apis"]:
        if api["result"] == "failed":
            assert "%s/%s failed" % (api["group"], api["name"]) in role_msg
    assert [backend["result"] for backend in report["retired_backend_apis"]] == ["failed", "failed"]
    assert "Backend API legacy_lookup failed" in role_msg and "Backend API old_feed failed" in role_msg
    assert report["counts"]["exports"]["failed"] == 2 and "release-report.md" in role_msg
