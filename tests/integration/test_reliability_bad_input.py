"""Reliability: a table of bad inputs for every module, run in one ansible-playbook start.

Each case must fail with a message naming the option (or what it names) and the value, before any
write: no write or export request reaches the emulator, and no file is created or changed. Cases
that only the gateway can refuse (a name that matches nothing, or several things) may read, never
write. The role's own table of bad inputs is in test_integration_role.py (BAD_INPUTS); the figures
count both.
"""

import json
import os

from apig_emulator.testing import running_emulator
from harness import HERE, INSTANCES, PROJECT_ID, run_playbook

RELIABILITY_DATA = os.path.join(HERE, "data_reliability.yml")
AK, SK = "ITESTAK00000000000AK", "itestSecretKey0123456789abcdefghijklmno"
MISSING_DIR = "missing-dir"
READS = "reads"  # the case may read (only the gateway knows the names); never write

# Drop an option from the base: None.
BASES = {
    "publish": {"service": "apig", "instance_id": INSTANCES["apig"], "env": "TEST", "api_group": "orders"},
    "undeploy": {"service": "roma", "instance_id": INSTANCES["roma"], "backend_apis": ["rel-01"]},
    "export": {"service": "apig", "instance_id": INSTANCES["apig"], "api_group": "orders", "env": "TEST",
               "dest": "{dir}/exports/orders.json"},
}
TYPE_ERROR = "we were unable to convert to"

# (case, module, options over the base, words the message must contain[, READS])
CASES = [
    # -- auth: none, several, incomplete --------------------------------------------------------
    ("no credentials", "publish", {"access_key": None, "secret_key": None},
     ["no credentials", "access_key", "auth_token", "username"]),
    ("AK/SK and a token", "publish", {"auth_token": "tok-0123"}, ["exactly one auth method", "access_key", "auth_token"]),
    ("AK/SK and a password", "undeploy", {"username": "itest-user", "password": "Itest-Passw0rd!",
                                          "domain_name": "itest-account"},
     ["exactly one auth method", "access_key", "username"]),
    ("token and a password", "export", {"access_key": None, "secret_key": None, "auth_token": "tok-0123",
                                        "username": "itest-user", "password": "Itest-Passw0rd!",
                                        "domain_name": "itest-account"},
     ["exactly one auth method", "auth_token", "username"]),
    ("access key without its secret", "export", {"secret_key": None}, ["secret_key", "missing"]),
    ("security token without AK/SK", "undeploy", {"access_key": None, "secret_key": None,
                                                  "security_token": "st-0123"},
     ["AK/SK", "access_key", "secret_key", "missing"]),
    ("password without domain", "publish", {"access_key": None, "secret_key": None, "username": "itest-user",
                                            "password": "Itest-Passw0rd!"}, ["domain_name", "missing"]),
    # -- where to connect -----------------------------------------------------------------------
    ("endpoint not http", "publish", {"endpoint": "ftp://apig.example.com"}, ["endpoint", "ftp://apig.example.com"]),
    ("endpoint not a URL", "undeploy", {"endpoint": "apig.example.com"}, ["endpoint", "apig.example.com"]),
    ("iam_endpoint not a URL", "export", {"iam_endpoint": "iam example"}, ["iam_endpoint", "iam example"]),
    ("region in capitals", "publish", {"endpoint": None, "region": "CN-NORTH-4"}, ["region", "CN-NORTH-4"]),
    ("region with underscores", "undeploy", {"endpoint": None, "region": "cn_north_4"}, ["region", "cn_north_4"]),
    ("region unknown word", "export", {"endpoint": None, "region": "mars"}, ["region", "mars"]),
    ("neither region nor endpoint", "export", {"endpoint": None}, ["region", "endpoint"]),
    ("unknown service", "publish", {"service": "aws"}, ["service", "aws"]),
    ("undeploy on APIG", "undeploy", {"service": "apig"}, ["service: apig", "service: roma"]),
    ("empty project_id", "publish", {"project_id": ""}, ["project_id", "''"]),
    ("project_id with a slash", "undeploy", {"project_id": PROJECT_ID + "/x"}, ["project_id", PROJECT_ID + "/x"]),
    ("empty instance_id", "export", {"instance_id": " "}, ["instance_id", "' '"]),
    ("instance_id with a slash", "publish", {"instance_id": "../" + INSTANCES["apig"]},
     ["instance_id", "../" + INSTANCES["apig"]]),
    # -- transport options ----------------------------------------------------------------------
    ("timeout zero", "export", {"timeout": 0}, ["timeout", "0"]),
    ("timeout not a number", "publish", {"timeout": "soon"}, ["timeout", "soon", TYPE_ERROR]),
    ("retries negative", "undeploy", {"retries": -1}, ["retries", "-1"]),
    ("retries not a number", "export", {"retries": "many"}, ["retries", "many", TYPE_ERROR]),
    ("settle_timeout negative", "export", {"settle_timeout": -5}, ["settle_timeout", "-5"]),
    ("validate_certs not a bool", "publish", {"validate_certs": "sometimes"}, ["validate_certs", "sometimes"]),
    ("ca_path missing", "publish", {"ca_path": "/nonexistent/ca.pem"}, ["ca_path", "/nonexistent/ca.pem"]),
    ("ca_path missing (undeploy)", "undeploy", {"ca_path": "{dir}/no-ca.pem"}, ["ca_path", "no-ca.pem"]),
    ("ca_path missing (export)", "export", {"ca_path": "{dir}/no-ca.pem"}, ["ca_path", "no-ca.pem"]),
    # -- apig_api_publish ----------------------------------------------------------------------
    ("publish empty env", "publish", {"env": ""}, ["env", "''"]),
    ("publish blank env", "publish", {"env": "   "}, ["env", "'   '"]),
    ("publish empty api_group", "publish", {"api_group": ""}, ["api_group", "''"]),
    ("publish no apis nor api_group", "publish", {"api_group": None}, ["apis", "api_group"]),
    ("publish empty apis", "publish", {"apis": []}, ["apis", "[]"]),
    ("publish empty API name", "publish", {"apis": ["list-orders", ""]}, ["apis", "''"]),
    ("publish apis not a list", "publish", {"apis": {"name": "list-orders"}}, ["apis", TYPE_ERROR]),
    ("publish unknown state", "publish", {"state": "online"}, ["state", "online"]),
    ("publish remark too long", "publish", {"remark": "r" * 256}, ["remark", "255", "256"]),
    ("publish batch_size zero", "publish", {"batch_size": 0}, ["batch_size", "0"]),
    ("publish batch_size over 1000", "publish", {"batch_size": 1001}, ["batch_size", "1001"]),
    ("publish batch_size negative", "publish", {"batch_size": -3}, ["batch_size", "-3"]),
    ("publish batch_size not a number", "publish", {"batch_size": "ten"}, ["batch_size", "ten", TYPE_ERROR]),
    ("publish force not a bool", "publish", {"force": "maybe"}, ["force", "maybe"]),
    ("publish allow_partial not a bool", "publish", {"allow_partial": "perhaps"}, ["allow_partial", "perhaps"]),
    ("publish no env", "publish", {"env": None}, ["env"]),
    ("publish unknown env", "publish", {"env": "PROD"}, ["environment", "PROD", "TEST"], READS),
    ("publish unknown group", "publish", {"api_group": "no-such-group"}, ["API group", "no-such-group", "orders"],
     READS),
    ("publish unknown API", "publish", {"apis": ["list-orders", "no-such-api"]}, ["API", "no-such-api"], READS),
    ("publish ambiguous API", "publish", {"api_group": None, "apis": ["list-orders"]},
     ["list-orders", "ambiguous", "orders", "payments"], READS),
    ("publish env ID of the wrong shape", "publish", {"env": "DEFAULT_ENVIRONMENT_RELEASE"},
     ["environment", "DEFAULT_ENVIRONMENT_RELEASE"], READS),
    # -- apig_backend_undeploy -----------------------------------------------------------------
    ("undeploy empty list", "undeploy", {"backend_apis": []}, ["backend_apis", "[]"]),
    ("undeploy blank name", "undeploy", {"backend_apis": ["rel-01", " "]}, ["backend_apis", "' '"]),
    ("undeploy no backend_apis", "undeploy", {"backend_apis": None}, ["backend_apis"]),
    ("undeploy unknown api_version", "undeploy", {"api_version": "v3"}, ["api_version", "v3"]),
    ("undeploy unknown missing", "undeploy", {"missing": "skip"}, ["missing", "skip"]),
    ("undeploy allow_partial not a bool", "undeploy", {"allow_partial": "later"}, ["allow_partial", "later"]),
    ("undeploy unknown name", "undeploy", {"backend_apis": ["rel-01", "no-such-backend"]},
     ["custom backend API", "no-such-backend", "nothing was undeployed"], READS),
    ("undeploy ambiguous name", "undeploy", {"backend_apis": ["ld-twin"], "missing": "ignore"},
     ["ld-twin", "ambiguous", "7e1f0c2a9b3d4e5f8a6b7c8d9e0f1a2b", "8f2a1d3b0c4e5f6a9b7c8d9e0f1a2b3c"], READS),
    ("undeploy ID of the wrong shape", "undeploy", {"backend_apis": ["7e1f0c2a9b3d4e5f8a6b7c8d9e0f1a2"]},
     ["custom backend API", "7e1f0c2a9b3d4e5f8a6b7c8d9e0f1a2"], READS),
    # -- apig_export ---------------------------------------------------------------------------
    ("export missing dest directory", "export", {"dest": "{dir}/" + MISSING_DIR + "/orders.json"},
     ["dest", MISSING_DIR]),
    ("export dest is a directory", "export", {"dest": "{dir}/exports"}, ["dest", "exports", "directory"]),
    ("export no dest", "export", {"dest": None}, ["dest"]),
    ("export wait_timeout zero", "export", {"wait_timeout": 0}, ["wait_timeout", "0"]),
    ("export wait_timeout negative", "export", {"wait_timeout": -30, "export_mode": "async"}, ["wait_timeout", "-30"]),
    ("export wait_timeout not a number", "export", {"wait_timeout": "1h"}, ["wait_timeout", "1h", TYPE_ERROR]),
    ("export unknown format", "export", {"format": "xml"}, ["format", "xml"]),
    ("export unknown define", "export", {"define": "everything"}, ["define", "everything"]),
    ("export unknown oas_version", "export", {"oas_version": "3.1"}, ["oas_version", "3.1"]),
    ("export unknown export_mode", "export", {"export_mode": "later"}, ["export_mode", "later"]),
    ("export unknown kind", "export", {"kind": "backend"}, ["kind", "backend"]),
    ("export unknown status", "export", {"kind": "backend_apis", "service": "roma", "instance_id": INSTANCES["roma"],
                                         "api_group": None, "env": None, "status": "live"}, ["status", "live"]),
    ("export backup not a bool", "export", {"backup": "often"}, ["backup", "often"]),
    ("export empty api_group", "export", {"api_group": ""}, ["api_group", "''"]),
    ("export empty env", "export", {"env": " "}, ["env", "' '"]),
    ("export no api_group", "export", {"api_group": None}, ["api_group", "kind: apis"]),
    ("export no env on APIG", "export", {"env": None}, ["env", "service: apig"]),
    ("export empty apis", "export", {"apis": []}, ["apis", "[]"]),
    ("export blank API name", "export", {"apis": [""]}, ["apis", "''"]),
    ("export backend APIs on APIG", "export", {"kind": "backend_apis", "api_group": None, "env": None},
     ["kind: backend_apis", "service: apig"]),
    ("export async on ROMA", "export", {"service": "roma", "instance_id": INSTANCES["roma"], "export_mode": "async"},
     ["export_mode: async", "service: roma"]),
    ("export OpenAPI 3.0 on ROMA", "export", {"service": "roma", "instance_id": INSTANCES["roma"],
                                              "oas_version": "3.0"}, ["oas_version", "3.0", "service: roma"]),
    ("export app with kind apis", "export", {"app": "a1b2"}, ["app", "kind: apis"]),
    ("export empty app", "export", {"kind": "backend_apis", "service": "roma", "instance_id": INSTANCES["roma"],
                                    "api_group": None, "env": None, "app": ""}, ["app", "''"]),
    ("export mode not a mode", "export", {"mode": "rwx-bad"}, ["mode", "rwx-bad"]),
    ("export unknown group", "export", {"api_group": "no-such-group"}, ["API group", "no-such-group"], READS),
    ("export unknown env", "export", {"env": "PROD"}, ["environment", "PROD"], READS),
    ("export unknown API", "export", {"apis": ["no-such-api"]}, ["API", "no-such-api"], READS),
    ("export ambiguous backend API", "export", {"kind": "backend_apis", "service": "roma",
                                                "instance_id": INSTANCES["roma"], "api_group": None, "env": None,
                                                "apis": ["ld-twin"]}, ["ld-twin", "ambiguous"], READS),
]


def case_args(module, options, folder):
    args = {"endpoint": "{url}", "project_id": PROJECT_ID, "access_key": AK, "secret_key": SK}
    args.update(BASES[module])
    args.update(options)
    return dict((key, value) for key, value in args.items() if value is not None)


def fill(value, **names):
    if isinstance(value, str):
        return value.replace("{dir}", names["dir"]).replace("{url}", names["url"])
    if isinstance(value, list):
        return [fill(item, **names) for item in value]
    if isinstance(value, dict):
        return dict((key, fill(item, **names)) for key, item in value.items())
    return value


def snapshot(folder):
    """Every file under folder with its size and mtime."""
    found = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            stat = os.stat(path)
            found[os.path.relpath(path, folder)] = (stat.st_size, stat.st_mtime_ns)
    return found


def test_bad_input_matrix(tmp_path):
    assert len(CASES) == len(set(case[0] for case in CASES))
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "orders.json").write_text('{"swagger": "2.0", "info": {"title": "orders", "version": "1"}, "paths": {}}')
    results_file = tmp_path / "results.json"
    with running_emulator(RELIABILITY_DATA) as emulator:
        names = {"dir": str(tmp_path), "url": emulator.url}
        cases = [{"name": name, "module": module, "args": fill(case_args(module, options, tmp_path), **names)}
                 for name, module, options, _words, *_reads in CASES]
        before = snapshot(str(tmp_path))
        result = run_playbook(tmp_path, os.path.join(HERE, "playbooks", "reliability_bad_input.yml"),
                              {"bad_cases": cases, "bad_results": str(results_file)}, auth="none")
        log = emulator.control.log()
    results = dict((item["case"], item) for item in json.loads(results_file.read_text()))
    assert list(results) == [case["name"] for case in cases]
    problems = []
    for name, _module, _options, words, *reads in CASES:
        got = results[name]
        if not got["failed"]:
            problems.append("%s: not refused" % name)
            continue
        missing = [word for word in words if word not in got["msg"]]
        if missing:
            problems.append("%s: %r not in %r" % (name, missing, got["msg"]))
        if "Traceback (most recent call last)" in got["msg"] + got["exception"]:
            problems.append("%s: a traceback" % name)
        seen = [entry for entry in log["requests"] if got["start"] <= entry["time"] <= got["end"]]
        if reads:
            seen = [entry for entry in seen if entry["class"] != "read"]
        if seen:
            problems.append("%s: %s" % (name, ", ".join("%s %s" % (e["op"], e["status"]) for e in seen)))
    assert not problems, "\n".join(problems)
    # Nothing written, nothing exported, whatever the timing; no file created or touched.
    assert not [entry for entry in log["requests"] if entry["class"] in ("write", "export")]
    after = snapshot(str(tmp_path))
    created = set(after) - set(before) - {"results.json"}
    assert not [path for path in created if not path.startswith(("ansible-tmp", "ansible-home"))]
    assert dict((path, after[path]) for path in before) == before
    assert not os.path.exists(str(tmp_path / MISSING_DIR))
    assert "Traceback (most recent call last)" not in result.stdout + result.stderr
    print("\nbad-input matrix: %d module cases, %d with reads only, %d requests in all" % (
        len(CASES), sum(1 for case in CASES if len(case) > 4), len(log["requests"])))
