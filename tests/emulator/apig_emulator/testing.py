"""Running the emulator inside a test process.

    from apig_emulator.testing import running_emulator, TEST_AK, TEST_SK, TEST_PROJECT_ID

    with running_emulator(task_seconds=0.2) as emulator:     # test.yml, on a free port
        emulator.url                                         # http://127.0.0.1:PORT
        emulator.control.set_faults({"seed": 7, "rules": [{"class": "writes", "kind": "429"}]})
        ...
        emulator.control.log()["counts"]

`running_emulator` also takes `data=` (a dict or a YAML path), `faults=` (a fault configuration) and
`seed=`, plus any setting of `EmulatorState` (task_seconds, task_success_spelling, token_ttl_seconds...).
`EmulatorControl(url)` drives the control API of an emulator started as a separate process too.

HTTPS: `make_test_ca(folder)` makes a CA and a certificate for 127.0.0.1 and localhost signed by it (at
run time, with `cryptography`); `running_emulator(tls=ca)` (or `EmulatorProcess(..., tls=ca)`) then
also serves HTTPS on a second port, `emulator.tls_url`, from the same state. The control API stays on
`emulator.url`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from . import auth
from .faults import FaultInjector
from .server import create_server, load_yaml
from .state import EmulatorState

RUN = Path(__file__).resolve().parent.parent / "run.py"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TEST_DATA = DATA_DIR / "test.yml"
DEMO_DATA = DATA_DIR / "demo.yml"

# Identifiers in test.yml
TEST_AK = "TESTAK0000000000000A"
TEST_SK = "testSecretKey0123456789abcdefghijklmno"
TEST_PROJECT_ID = "0123456789abcdef0123456789abcdef"
TEST_REGION = "cn-north-4"
OTHER_AK = "TESTAK0000000000000B"
OTHER_SK = "otherSecretKey0123456789abcdefghijklmn"
OTHER_PROJECT_ID = "fedcba9876543210fedcba9876543210"
TEST_USER = {"domain_name": "demo-account", "name": "demo-user", "password": "Demo-Passw0rd!"}
APIG_INSTANCE_ID = "eddc4d25480b4cd6b512f270a1b8b341"
ROMA_INSTANCE_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
RELEASE_ENV_ID = "DEFAULT_ENVIRONMENT_RELEASE_ID"


class EmulatorControl:
    """Client of the /_emulator/ control API."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        # Loopback calls must not go through an HTTP proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_emulator/{path.lstrip('/')}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"control API {method} {path}: {error.code} {error.read().decode()}") from None

    def log(self) -> dict:
        return self.call("GET", "log")

    def reset_log(self) -> None:
        self.call("POST", "log/reset")

    def set_faults(self, config: dict | list) -> dict:
        return self.call("POST", "faults", config)

    def clear_faults(self) -> dict:
        return self.call("POST", "faults", {})

    def reset(self) -> None:
        self.call("POST", "reset")

    def touch(self, api_id: str, **changes) -> dict:
        """Simulate an edit; same_second_as="TEST" makes it later than that publication, in its second."""
        return self.call("POST", f"apis/{api_id}/touch", changes)

    def times(self, api_id: str) -> dict:
        return self.call("GET", f"apis/{api_id}/times")

    def set_times(self, api_id: str, update_time: str | None = None, register_time: str | None = None,
                  publications: dict[str, str] | None = None) -> dict:
        """Set stored times; publications maps an environment name or ID to its publish_time."""
        body = {"update_time": update_time, "register_time": register_time, "publications": publications}
        return self.call("POST", f"apis/{api_id}/times", {key: value for key, value in body.items() if value})

    def create_apis(self, instance_id: str, spec: dict | list) -> dict:
        return self.call("POST", f"instances/{instance_id}/apis", spec)

    def delete_before_next_write(self, *api_refs: str) -> None:
        """Make the next write request find these APIs (names or IDs) gone."""
        self.call("POST", "races", {"delete_before_next_write": list(api_refs)})

    def expire_tokens(self) -> int:
        return self.call("POST", "tokens/expire")["expired"]

    def settings(self, **changes) -> dict:
        return self.call("POST", "settings", changes) if changes else self.call("GET", "settings")

    def dump(self) -> dict:
        return self.call("GET", "state")


@dataclass(frozen=True)
class TestCA:
    """Files of a test certificate authority and of a server certificate it signed (PEM)."""

    ca_cert: Path  # give this to clients as their CA bundle (ca_path)
    cert: Path  # the server's certificate
    key: Path  # the server's private key

    __test__ = False  # not a pytest test class


def make_test_ca(folder: str | Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
                 name: str = "hwc.apig emulator test CA") -> TestCA:
    """A CA made now, and a server certificate for `hosts` (IP addresses or DNS names) signed by it."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = TestCA(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    paths.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    paths.key.chmod(0o600)
    return paths


def _wait_for_file(path: Path, process: subprocess.Popen, deadline: float) -> str:
    while not (path.exists() and path.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the emulator did not start (exit code {process.poll()})")
        time.sleep(0.05)
    return path.read_text().strip()


class EmulatorProcess:
    """The emulator command in a process of its own (for ansible-playbook runs and the demo).

    With `tls=` (a TestCA) it also serves HTTPS: `tls_url`.
    """

    def __init__(self, data: str | Path, port_file: str | Path, output=subprocess.DEVNULL, *args: str,
                 tls: TestCA | None = None):
        port_file = Path(port_file)
        port_file.unlink(missing_ok=True)
        tls_args: list[str] = []
        tls_port_file = port_file.with_name(port_file.name + ".tls")
        if tls is not None:
            tls_port_file.unlink(missing_ok=True)
            tls_args = ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key), "--tls-port-file", str(tls_port_file)]
        self.process = subprocess.Popen(
            [sys.executable, str(RUN), "--port", "0", "--port-file", str(port_file), "--data", str(data), *tls_args,
             *args],
            stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        # The HTTPS port file is written first: once the HTTP port file exists, both are listening.
        self.url = f"http://127.0.0.1:{_wait_for_file(port_file, self.process, deadline)}"
        self.tls_url = f"https://127.0.0.1:{tls_port_file.read_text().strip()}" if tls is not None else None
        self.control = EmulatorControl(self.url)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class RunningEmulator:
    def __init__(self, server, state: EmulatorState, tls_server=None):
        self.server = server
        self.state = state
        self.app = server.app
        self.port = server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.tls_url = f"https://127.0.0.1:{tls_server.server_port}" if tls_server is not None else None
        self.control = EmulatorControl(self.url)


@contextmanager
def running_emulator(data: dict | str | Path | None = None, *, faults: dict | list | None = None,
                     seed: int | None = None, tls: TestCA | None = None, **settings) -> Iterator[RunningEmulator]:
    """Serve the emulator on 127.0.0.1 and a free port, in a background thread, for the block.

    With `tls` (a TestCA) it serves HTTPS too, on a second free port (`tls_url`), from the same state.
    """
    if data is None:
        data = TEST_DATA
    if not isinstance(data, dict):
        data = load_yaml(data)
    state = EmulatorState(data, **settings)
    servers = [create_server(state, FaultInjector(faults, seed))]
    if tls is not None:
        servers.append(create_server(state, app=servers[0].app, tls=(tls.cert, tls.key)))
    threads = [threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
               for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield RunningEmulator(servers[0], state, servers[1] if tls is not None else None)
    finally:
        servers[0].app.late_writes.cancel()
        for server, thread in zip(servers, threads):
            server.shutdown()
            server.server_close()
            thread.join()


def sign_headers(method: str, url: str, access_key: str, secret_key: str, body: bytes = b"",
                 headers: dict | None = None) -> dict:
    """Headers for an SDK-HMAC-SHA256 signed request, for tests calling the emulator without the SDK.

    The query of `url` must already be in canonical order and encoding, as the SDK sends it.
    """
    parts = urlsplit(url)
    signed = {"Content-Type": "application/json", **(headers or {}),
              "Host": parts.netloc,
              "X-Sdk-Date": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")}
    lower = {name.lower(): value for name, value in signed.items()}
    names = sorted(name for name in lower if "_" not in name)
    signature = auth.signature(secret_key, method, parts.path, parts.query, lower, names, body)
    signed["Authorization"] = (f"{auth.ALGORITHM} Access={access_key}, SignedHeaders={';'.join(names)}, "
                               f"Signature={signature}")
    return signed
