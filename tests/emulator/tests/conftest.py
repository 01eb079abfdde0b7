"""Unit tests of the emulator: a live server on a free port, called with signed `requests` calls."""

import json
import os
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Loopback calls must not go through a proxy configured in the environment.
os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))

from apig_emulator import testing  # noqa: E402


class Cloud:
    """Signed calls to one instance of a running emulator."""

    def __init__(self, url: str, service: str, instance_id: str, access_key: str = testing.TEST_AK,
                 secret_key: str = testing.TEST_SK, project_id: str = testing.TEST_PROJECT_ID):
        self.url = url
        self.base = f"/v2/{project_id}/{service}/instances/{instance_id}"
        self.access_key = access_key
        self.secret_key = secret_key

    def request(self, method: str, path: str, query: dict | None = None, body=None, headers: dict | None = None,
                absolute: bool = False, timeout: float = 10) -> requests.Response:
        pairs = sorted((key, str(value)) for key, value in (query or {}).items())
        query_string = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in pairs)
        url = self.url + (path if absolute else self.base + path) + (f"?{query_string}" if query_string else "")
        data = b"" if body is None else json.dumps(body).encode()
        extra = dict(headers or {})
        if body is not None:
            extra.setdefault("Content-Type", "application/json;charset=utf-8")
        signed = testing.sign_headers(method, url, self.access_key, self.secret_key, data, extra)
        return requests.request(method, url, data=data or None, headers=signed, timeout=timeout)

    def get(self, path: str, **query) -> requests.Response:
        return self.request("GET", path, query)

    def post(self, path: str, body=None, **query) -> requests.Response:
        return self.request("POST", path, query, body)

    def publish(self, action: str, env_id: str, apis: list[str], **extra) -> dict:
        response = self.post("/apis/publish", {"apis": apis, "env_id": env_id, **extra}, action=action)
        assert response.status_code == 200, response.text
        return response.json()

    def api(self, api_id: str) -> dict:
        response = self.get(f"/apis/{api_id}")
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def emulator():
    with testing.running_emulator(task_seconds=0.2) as running:
        yield running


@pytest.fixture
def fresh(emulator):
    """The emulator reset to test.yml, with an empty log and no faults."""
    emulator.control.reset()
    return emulator


@pytest.fixture
def apig(fresh):
    return Cloud(fresh.url, "apigw", testing.APIG_INSTANCE_ID)


@pytest.fixture
def roma(fresh):
    return Cloud(fresh.url, "apic", testing.ROMA_INSTANCE_ID)


@pytest.fixture
def make_cloud(fresh):
    """make_cloud(access_key, secret_key, service="apigw", instance_id=...): calls with other credentials."""
    def make(access_key, secret_key, service="apigw", instance_id=testing.APIG_INSTANCE_ID):
        return Cloud(fresh.url, service, instance_id, access_key, secret_key)
    return make
