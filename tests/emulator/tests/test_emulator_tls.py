"""HTTPS with a test CA made at run time, and the fault that expires IAM tokens mid-run."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from apig_emulator import testing
from apig_emulator.faults import FaultInjector

RUN = Path(__file__).resolve().parent.parent / "run.py"


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return testing.make_test_ca(tmp_path_factory.mktemp("ca"))


def signed_get(url, path="/envs", verify=True):
    full = url + f"/v2/{testing.TEST_PROJECT_ID}/apigw/instances/{testing.APIG_INSTANCE_ID}{path}"
    headers = testing.sign_headers("GET", full, testing.TEST_AK, testing.TEST_SK)
    return requests.get(full, headers=headers, verify=verify, timeout=10)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_shares_the_state_of_the_http_port(test_ca):
    with testing.running_emulator(tls=test_ca) as emulator:
        assert emulator.tls_url.startswith("https://127.0.0.1:") and emulator.tls_url != emulator.url
        # Refused by default: the certificate comes from a CA no system bundle holds.
        with pytest.raises(requests.exceptions.SSLError, match="certificate verify failed"):
            signed_get(emulator.tls_url)
        assert signed_get(emulator.tls_url, verify=str(test_ca.ca_cert)).status_code == 200
        assert signed_get(emulator.tls_url, verify=False).status_code == 200
        assert signed_get(emulator.url).status_code == 200
        # One request log: the refused handshake never reached the application.
        assert emulator.control.log()["counts"] == {"ListEnvironmentsV2": 3}


def test_a_dropped_connection_over_https(test_ca):
    faults = {"rules": [{"class": "reads", "kind": "drop", "max_count": 1}]}
    with testing.running_emulator(tls=test_ca, faults=faults) as emulator:
        with pytest.raises(requests.exceptions.ConnectionError):
            signed_get(emulator.tls_url, verify=str(test_ca.ca_cert))
        assert signed_get(emulator.tls_url, verify=str(test_ca.ca_cert)).status_code == 200


def test_the_certificate_names_the_hosts(test_ca):
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(test_ca.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert oct(test_ca.key.stat().st_mode & 0o777) == "0o600"


def test_command_serves_https_on_a_second_port(tmp_path, test_ca):
    port_file, tls_port_file = tmp_path / "port", tmp_path / "port.tls"
    process = subprocess.Popen(
        [sys.executable, str(RUN), "--port-file", str(port_file), "--data", str(testing.TEST_DATA),
         "--tls-cert", str(test_ca.cert), "--tls-key", str(test_ca.key), "--tls-port-file", str(tls_port_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        http_url, https_url = process.stdout.readline().strip(), process.stdout.readline().strip()
        assert http_url == f"http://127.0.0.1:{int(port_file.read_text())}"
        assert https_url == f"https://127.0.0.1:{int(tls_port_file.read_text())}"
        assert signed_get(https_url, verify=str(test_ca.ca_cert)).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr


def test_command_refuses_a_certificate_without_its_key(tmp_path, test_ca):
    result = subprocess.run([sys.executable, str(RUN), "--data", str(testing.TEST_DATA), "--tls-cert",
                             str(test_ca.cert)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and "--tls-cert and --tls-key go together" in result.stderr


def test_emulator_process_starts_both_ports(tmp_path, test_ca):
    running = testing.EmulatorProcess(testing.TEST_DATA, tmp_path / "emulator.port", subprocess.DEVNULL, tls=test_ca)
    try:
        assert signed_get(running.tls_url, verify=str(test_ca.ca_cert)).status_code == 200
        assert running.control.log()["counts"] == {"ListEnvironmentsV2": 1}
    finally:
        running.stop()


def issue_token(url):
    user = testing.TEST_USER
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "domain": {"name": user["domain_name"]}, "name": user["name"], "password": user["password"]}}},
        "scope": {"project": {"id": testing.TEST_PROJECT_ID}}}}
    response = requests.post(url + "/v3/auth/tokens", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def test_expire_tokens_fault_refuses_the_request_it_hits(fresh):
    base = f"{fresh.url}/v2/{testing.TEST_PROJECT_ID}/apigw/instances/{testing.APIG_INSTANCE_ID}"
    token = issue_token(fresh.url)
    assert requests.get(base + "/envs", headers={"X-Auth-Token": token}, timeout=10).status_code == 200
    fresh.control.set_faults({"rules": [{"class": "reads", "op": "ListApiGroupsV2", "kind": "expire_tokens",
                                         "max_count": 1}]})
    # Another read passes; the one the rule names finds the token expired, and so does every later one.
    assert requests.get(base + "/envs", headers={"X-Auth-Token": token}, timeout=10).status_code == 200
    refused = requests.get(base + "/api-groups", headers={"X-Auth-Token": token}, timeout=10)
    assert refused.status_code == 401 and refused.json()["error_code"] == "APIG.1002"
    assert requests.get(base + "/envs", headers={"X-Auth-Token": token}, timeout=10).status_code == 401
    renewed = issue_token(fresh.url)
    assert requests.get(base + "/api-groups", headers={"X-Auth-Token": renewed}, timeout=10).status_code == 200
    faults = [(entry["op"], entry["fault"]) for entry in fresh.control.log()["requests"] if entry["class"] == "read"]
    assert faults == [("ListEnvironmentsV2", None), ("ListEnvironmentsV2", None), ("ListApiGroupsV2", "expire_tokens"),
                      ("ListEnvironmentsV2", None), ("ListApiGroupsV2", None)]


def test_expire_tokens_lets_the_other_rules_decide():
    injector = FaultInjector({"rules": [{"kind": "expire_tokens"}, {"kind": "429", "class": "writes"}]})
    read, write = injector.decide("ListApisV2", "read"), injector.decide("BatchPublishOrOfflineApiV2", "write")
    assert (read.expire_tokens, read.kind, read.label()) == (True, None, "expire_tokens")
    assert (write.expire_tokens, write.kind, write.label()) == (True, "429", "429")
