"""Reliability of the transport: TLS with a private CA, IAM tokens that expire mid-run, and two
releases of the same group at the same moment. Figures are in docs/reliability.md."""

import collections
import json
import os
import subprocess
import time

from apig_emulator.testing import make_test_ca, running_emulator
from harness import BIN, HERE, IAM_USER, INSTANCES, PROJECT_ID, base_env, run_playbook

RELIABILITY_DATA = os.path.join(HERE, "data_reliability.yml")
USER = {"username": IAM_USER["HWC_USERNAME"], "password": IAM_USER["HWC_PASSWORD"],
        "domain_name": IAM_USER["HWC_DOMAIN_NAME"]}
EXPIRY_OPS = {"publish": "BatchPublishOrOfflineApiV2", "undeploy": "UnpublishLiveDataApiV2",
              "export": "ExportApiDefinitionsV2", "role": "UnpublishLiveDataApiV2"}
IAM_OP = "KeystoneCreateUserTokenByPassword"
REFUSED_TOKEN = "the auth_token was refused (expired or not valid)"


def transport_run(tmp_path, emulator, auth, **extra):
    variables = {"emulator_url": emulator.url, "emulator_tls_url": emulator.tls_url, "transport_auth": auth,
                 "transport_dir": str(tmp_path), "transport_instances": INSTANCES, "transport_user": USER,
                 "transport_project_id": PROJECT_ID, "transport_expiry_ops": EXPIRY_OPS}
    variables.update(extra)
    result = run_playbook(tmp_path, os.path.join(HERE, "playbooks", "reliability_transport.yml"), variables,
                          auth="none")
    return result, json.loads((tmp_path / "results.json").read_text())


def expiry_entries(log):
    return [(index, entry) for index, entry in enumerate(log["requests"]) if entry.get("fault") == "expire_tokens"]


def test_tls_and_a_token_renewed_once_with_password_auth(tmp_path):
    ca = make_test_ca(tmp_path / "ca")
    variants = [{"name": "default"}, {"name": "ca_path", "ca_path": str(ca.ca_cert)},
                {"name": "no_verify", "validate_certs": False}]
    with running_emulator(RELIABILITY_DATA, tls=ca, task_seconds=0.3) as emulator:
        result, results = transport_run(tmp_path, emulator, "password", transport_tls_variants=variants)
        log = emulator.control.log()
        roma = emulator.state.instances[INSTANCES["roma"]]
        apig = emulator.state.instances[INSTANCES["apig"]]
        statuses = dict((name, roma.find_backend_api(name)["status"]) for name in ("rel-01", "rel-03", "rel-04"))
        payments = apig.group_apis(apig.find_group("payments")["id"])
        versions = [len(apig.version_history.get((api["id"], apig.find_env("TEST")["id"]), [])) for api in payments]
    # TLS: refused by default with a message that says what to set; accepted with ca_path or without checks.
    for module in ("publish", "undeploy", "export"):
        default, with_ca, unchecked = results["tls"][module]
        assert default["failed"] and not with_ca.get("failed") and not unchecked.get("failed"), module
        assert "TLS verification of 127.0.0.1" in default["msg"] and "certificate verify failed" in default["msg"]
        assert "give ca_path" in default["msg"] and "validate_certs: false" in default["msg"], default["msg"]
    role_default, role_ca, role_unchecked = results["tls"]["role"]
    assert role_default["failed"] and "give ca_path" in role_default["msg"]
    assert not role_ca["failed"] and not role_unchecked["failed"], (role_ca, role_unchecked)
    assert (tmp_path / "tls-ca_path.json").exists() and (tmp_path / "tls-no_verify.json").exists()
    assert not (tmp_path / "tls-default.json").exists()
    # Expiry: every module and the role finished, each renewing its token once, right after the 401.
    assert [results[step]["failed"] for step in ("publish", "undeploy", "export", "role")] == [False] * 4
    fired = expiry_entries(log)
    steps = ("publish", "undeploy", "export", "role")
    assert [entry["op"] for _index, entry in fired] == [EXPIRY_OPS[step] for step in steps]
    for index, entry in fired:
        assert entry["status"] == 401
        after = log["requests"][index + 1:]
        assert after[0]["op"] == IAM_OP and after[0]["status"] == 201
        again = next(other for other in after if other["op"] == entry["op"])
        assert again["status"] < 300 and again["path"] == entry["path"]
    # No loop of 401s: only the refusals the faults caused.
    assert [entry for entry in log["requests"] if entry["status"] == 401] == [entry for _index, entry in fired]
    assert statuses == {"rel-01": 3, "rel-03": 3, "rel-04": 3}
    assert versions == [1, 1, 1]  # the refused write was not applied, the renewed one once
    assert "Traceback (most recent call last)" not in result.stdout + result.stderr


def test_fixed_token_expiring_mid_run_fails_saying_so(tmp_path):
    with running_emulator(RELIABILITY_DATA, task_seconds=0.3) as emulator:
        _result, results = transport_run(tmp_path, emulator, "token")
        log = emulator.control.log()
    for step in ("publish", "undeploy", "export"):
        assert results[step]["failed"] and REFUSED_TOKEN in results[step]["msg"], (step, results[step])
        assert "HTTP 401" in results[step]["msg"]
    # The role writes its report, then fails naming the refused token.
    assert results["role"]["failed"] and REFUSED_TOKEN in results["role"]["msg"], results["role"]
    report = json.loads((tmp_path / "expiry-role" / "release-report.json").read_text())
    assert report["status"] == "failed"
    # One refusal per step, nothing written with the expired token, no renewal attempted.
    fired = expiry_entries(log)
    assert len(fired) == 4 and all(entry["status"] == 401 for _index, entry in fired)
    # Besides: undeploy reads the backend API after a refusal to decide (refused too), and the role's
    # export step, after its refused undeploy, is refused at its first read. Then nothing more.
    others = collections.Counter(entry["op"] for entry in log["requests"] if entry["status"] == 401
                                 and entry.get("fault") != "expire_tokens")
    assert others == {"ShowLiveDataApiV2": 2, "ListApiGroupsV2": 1}
    writes = [entry for entry in log["requests"] if entry["class"] == "write" and entry["status"] != 401]
    assert [entry["op"] for entry in writes] == ["BatchPublishOrOfflineApiV2"]  # the role's publish, before expiry
    assert [entry["op"] for entry in log["requests"] if entry["op"] == IAM_OP] == [IAM_OP] * 4  # the playbook's own


# --- two releases of the same group at the same moment ----------------------------------------------
def start_release(folder, emulator, group, gate):
    folder.mkdir()
    (folder / "vars.yml").write_text(json.dumps({"release_env": "TEST", "release_groups": [{"name": group}],
                                                 "release_export_dir": "exports"}))
    env = base_env(folder)
    env.update({"HWC_APIG_ENDPOINT": emulator.url, "HWC_APIG_INSTANCE_ID": INSTANCES["apig"]})
    command = [os.path.join(BIN, "ansible-playbook"), "hwc.apig.release_and_export", "-e", "@vars.yml"]
    # Both wait on the same gate file, so that they start their releases together.
    wrapper = "while [ ! -e %s ]; do sleep 0.01; done; exec \"$@\"" % gate
    return subprocess.Popen(["/bin/sh", "-c", wrapper, "release"] + command, env=env, cwd=str(folder),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_releases_of_the_same_group_at_once(tmp_path):
    # Every write takes 8 s to reach the gateway, so that both releases read the group before either
    # write lands: the race, made certain (without it, the later of two runs a second apart finds the
    # group published and changes nothing).
    faults = {"seed": 3, "rules": [{"class": "writes", "kind": "latency", "latency_ms": 8000}]}
    with running_emulator(RELIABILITY_DATA, faults=faults) as emulator:
        gate = tmp_path / "go"
        releases = [start_release(tmp_path / name, emulator, "orders", gate) for name in ("first", "second")]
        time.sleep(0.5)
        gate.touch()
        outputs = [process.communicate(timeout=600)[0] for process in releases]
        apig = emulator.state.instances[INSTANCES["apig"]]
        env = apig.find_env("TEST")
        orders = apig.group_apis(apig.find_group("orders")["id"])
        versions = dict((api["name"], len(apig.version_history.get((api["id"], env["id"]), []))) for api in orders)
        live = [apig.publication(api["id"], env["id"]) for api in orders]
        writes = emulator.control.log()["counts"].get("BatchPublishOrOfflineApiV2")
    for process, output in zip(releases, outputs):
        assert process.returncode == 0, output
    reports = [json.loads((tmp_path / name / "exports" / "release-report.json").read_text())
               for name in ("first", "second")]
    assert all(report["status"] == "succeeded" for report in reports)
    # Both finished cleanly and the group is published; each API once or twice (both saw it unpublished).
    assert all(live) and set(versions.values()) <= {1, 2}
    results = [sorted(api["result"] for api in report["apis"]) for report in reports]
    # Each release's export is the same document: the group as published in TEST.
    exports = [(tmp_path / name / "exports" / "orders.json").read_bytes() for name in ("first", "second")]
    assert json.loads(exports[0])["paths"] == json.loads(exports[1])["paths"]
    print("\nconcurrent releases: %d batch writes, versions per API %s, results %s" % (
        writes, sorted(versions.values()), results))
    (tmp_path / "figures.json").write_text(json.dumps({"versions": versions, "writes": writes, "results": results}))
