"""SDK conformance tier: the official Huawei Cloud SDK drives a running emulator.

Importing the SDK writes ~/.huaweicloud/application_id, so HOME points at a temporary directory
before any test module imports it. Each test module turns the SDK's type-conversion warnings into
errors: a value that does not convert to the model's type is a conformance bug.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

_SDK_HOME = tempfile.mkdtemp(prefix="hwc-sdk-home-")
os.environ["HOME"] = _SDK_HOME
atexit.register(shutil.rmtree, _SDK_HOME, ignore_errors=True)
# Loopback calls must not go through a proxy configured in the environment.
os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "emulator"))

from apig_emulator import testing  # noqa: E402
from huaweicloudsdkapig.v2 import ApigClient  # noqa: E402
from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkiam.v3 import IamClient  # noqa: E402
from huaweicloudsdkroma.v2 import RomaClient  # noqa: E402


@pytest.fixture(scope="session")
def emulator():
    with testing.running_emulator(task_seconds=0.2) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_state(emulator):
    """Every test starts from the seed data with an empty log and no faults."""
    emulator.control.reset()


def _build(client_class, emulator, access_key=testing.TEST_AK, secret_key=testing.TEST_SK,
           project_id=testing.TEST_PROJECT_ID):
    credentials = BasicCredentials(access_key, secret_key, project_id)
    return client_class.new_builder().with_credentials(credentials).with_endpoints([emulator.url]).build()


@pytest.fixture
def apig(emulator):
    return _build(ApigClient, emulator)


@pytest.fixture
def roma(emulator):
    return _build(RomaClient, emulator)


@pytest.fixture
def iam(emulator):
    return _build(IamClient, emulator)


@pytest.fixture
def client_factory(emulator):
    """Build a client with other credentials: client_factory(ApigClient, access_key=..., ...)."""
    return lambda client_class, **kwargs: _build(client_class, emulator, **kwargs)


def _model_package(model_class):
    return sys.modules[model_class.__module__.rsplit(".", 1)[0]]


def unknown_fields(data, model_class, where="") -> list[str]:
    """JSON keys the SDK model does not declare: the SDK would silently drop them."""
    by_json_key = {json_key: attr for attr, json_key in model_class.attribute_map.items()}
    package = _model_package(model_class)
    problems = []
    for key, value in data.items():
        attr = by_json_key.get(key)
        if attr is None:
            problems.append(f"{where}{key}")
            continue
        type_name = model_class.openapi_types[attr]
        element_type = type_name[5:-1] if type_name.startswith("list[") else type_name
        nested = getattr(package, element_type, None)
        if nested is None or value is None:
            continue
        for index, item in enumerate(value if type_name.startswith("list[") else [value]):
            problems += unknown_fields(item, nested, f"{where}{key}[{index}]." if type_name.startswith("list[")
                                       else f"{where}{key}.")
    return problems


@pytest.fixture
def conforms():
    """conforms(response): every field of the raw answer is declared by the SDK's response model."""
    def check(response):
        raw = response.to_json_object()
        assert isinstance(raw, dict), f"not a JSON object: {response.raw_content!r}"
        problems = unknown_fields(raw, type(response))
        assert not problems, f"{type(response).__name__}: fields unknown to the SDK: {problems}"
        return raw
    return check
