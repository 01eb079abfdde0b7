"""The AWX / Automation Platform credential type of docs/awx/: AWX accepts it, and the environment it
injects is all the modules need, for every auth method."""

import json
import os
import subprocess
import urllib.request

import pytest
from apig_emulator.testing import ROMA_INSTANCE_ID, TEST_DATA, TEST_PROJECT_ID, TEST_USER

import awx
from harness import BIN, HERE, base_env, start_emulator

APIG_INSTANCE_ID = "eddc4d25480b4cd6b512f270a1b8b341"
AKSK = {"access_key": "TESTAK0000000000000A", "secret_key": "testSecretKey0123456789abcdefghijklmno"}
TEMPORARY = {"access_key": "TESTTEMPAK000000000C", "secret_key": "tempSecretKey0123456789abcdefghijklmnop",
             "security_token": "temp-security-token-0123456789abcdef"}
PASSWORD = {"username": TEST_USER["name"], "password": TEST_USER["password"], "domain_name": TEST_USER["domain_name"]}
CONNECTION_VARIABLES = ("HUAWEICLOUD_", "HW_", "HWC_")


@pytest.fixture
def test_emulator(tmp_path):
    running = start_emulator(tmp_path, TEST_DATA)
    yield running
    running.stop()


def test_awx_accepts_the_credential_type():
    doc = awx.load_credential_type()
    assert awx.check_credential_type(doc) == []
    fields = {field["id"] for field in doc["inputs"]["fields"]}
    # One field per connection option of the modules that a credential carries, each injected.
    assert fields == {"service", "region", "endpoint", "iam_endpoint", "project_id", "instance_id", "access_key",
                      "secret_key", "security_token", "auth_token", "username", "password", "domain_name"}
    assert set(awx.secret_fields(doc)) == {"secret_key", "security_token", "auth_token", "password"}
    assert set(doc["injectors"]["env"]) == {
        "HWC_APIG_SERVICE", "HUAWEICLOUD_SDK_REGION", "HWC_APIG_ENDPOINT", "HUAWEICLOUD_SDK_IAM_ENDPOINT",
        "HUAWEICLOUD_SDK_PROJECT_ID", "HWC_APIG_INSTANCE_ID", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HWC_AUTH_TOKEN", "HWC_USERNAME", "HWC_PASSWORD", "HWC_DOMAIN_NAME"}


def test_the_checker_refuses_what_awx_refuses():
    doc = awx.load_credential_type()
    doc["injectors"]["env"]["ANSIBLE_CONFIG"] = "{{ region }}"
    doc["injectors"]["env"]["HWC_APIG_TYPO"] = "{{ regoin }}"
    doc["inputs"]["fields"].append({"id": "flag", "label": "Flag", "type": "boolean", "secret": True})
    problems = awx.check_credential_type(doc)
    assert any("ANSIBLE_CONFIG" in problem for problem in problems)
    assert any("HWC_APIG_TYPO" in problem and "regoin" in problem for problem in problems)
    assert any("'flag'" in problem and "secret" in problem for problem in problems)


def test_unset_fields_inject_empty_variables_and_the_default_service():
    doc = awx.load_credential_type()
    env = awx.inject(doc, {"project_id": "p", "instance_id": "i", "region": "cn-north-4", **AKSK})
    assert env["HWC_APIG_SERVICE"] == "apig"
    assert env["HUAWEICLOUD_SDK_AK"] == AKSK["access_key"] and env["HUAWEICLOUD_SDK_SK"] == AKSK["secret_key"]
    assert env["HWC_AUTH_TOKEN"] == env["HWC_USERNAME"] == env["HWC_APIG_ENDPOINT"] == ""


def iam_token(url):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "domain": {"name": TEST_USER["domain_name"]}, "name": TEST_USER["name"], "password": TEST_USER["password"]}}},
        "scope": {"project": {"id": TEST_PROJECT_ID}}}}
    request = urllib.request.Request(url + "/v3/auth/tokens", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        return response.headers["X-Subject-Token"]


@pytest.mark.parametrize("method,service", [("aksk", "apig"), ("temporary", "apig"), ("token", "roma"),
                                            ("password", "roma")])
def test_modules_run_on_the_injected_environment_alone(tmp_path, test_emulator, method, service):
    inputs = {"project_id": TEST_PROJECT_ID, "endpoint": test_emulator.url,
              "instance_id": APIG_INSTANCE_ID if service == "apig" else ROMA_INSTANCE_ID}
    if service == "roma":
        inputs["service"] = "roma"  # apig, the default, is left unset for the APIG cases
    if method == "aksk":
        inputs.update(AKSK)
    elif method == "temporary":
        inputs.update(TEMPORARY)
    elif method == "token":
        inputs["auth_token"] = iam_token(test_emulator.url)
    else:
        inputs.update(PASSWORD, iam_endpoint=test_emulator.url)
    injected = awx.inject(awx.load_credential_type(), inputs)

    env = {name: value for name, value in base_env(tmp_path, auth="none").items()
           if not name.startswith(CONNECTION_VARIABLES)}
    env.update(injected)
    (tmp_path / "exports").mkdir()
    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", os.path.join(HERE, "playbooks", "awx_credential.yml"),
         "-e", json.dumps({"awx_service": service, "awx_export_dir": str(tmp_path / "exports")})],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]

    requests = [entry for entry in test_emulator.control.log()["requests"] if entry["class"] != "auth"]
    assert requests and all(entry["status"] < 400 for entry in requests)
    expected = "aksk" if method in ("aksk", "temporary") else "token"
    assert {entry["auth"] for entry in requests} == {expected}
    assert {entry["class"] for entry in requests} >= {"read", "write", "export"}
    for secret in ("secret_key", "security_token", "auth_token", "password"):
        if inputs.get(secret):
            assert inputs[secret] not in result.stdout + result.stderr
