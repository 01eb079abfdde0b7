"""Exported documents are valid Swagger 2.0 / OpenAPI 3.0 for every scope and format."""

import json

import pytest
import requests
import yaml
from apig_emulator import testing
from apig_emulator.server import load_yaml
from openapi_spec_validator import validate

RELEASE = testing.RELEASE_ENV_ID
GROUPS = {"apigw": ["c77f5e81d9cb4424bf704ef2b0ac7600", "d88f6e92eadc4535cf815fc3b1bd8711"],
          "apic": ["e99a7fa3fbed4646d0926ad4c2ce9822"]}


def _parse(content: bytes, fmt: str) -> dict:
    return json.loads(content) if fmt == "json" else yaml.safe_load(content)


@pytest.mark.parametrize("define", ["spec", "proxy", "all", "dev"])
@pytest.mark.parametrize("oas_version", ["2.0", "3.0"])
@pytest.mark.parametrize("fmt", ["json", "yaml", "yml"])
def test_group_exports_validate(apig, roma, define, oas_version, fmt):
    for cloud, service in ((apig, "apigw"), (roma, "apic")):
        for group_id in GROUPS[service]:
            response = cloud.post("/openapi/export", {"env_id": RELEASE, "group_id": group_id, "define": define,
                                                      "type": fmt, "version": "1.0.0"}, oas_version=oas_version)
            assert response.status_code == 200, response.text
            assert response.headers["Content-Disposition"].endswith(f'.{fmt}"')
            document = _parse(response.content, fmt)
            validate(document)
            assert document["info"]["version"] == "1.0.0"


def test_export_of_many_apis_validates(apig, fresh):
    fresh.control.create_apis(testing.APIG_INSTANCE_ID, {"group": "orders", "count": 300, "prefix": "bulk-api-"})
    response = apig.post("/openapi/export", {"env_id": RELEASE, "group_id": GROUPS["apigw"][1], "define": "dev"},
                         oas_version="3.0")
    document = json.loads(response.content)
    validate(document)
    assert len(document["paths"]) == 303


def test_async_export_content_validates(apig, fresh):
    fresh.control.settings(task_seconds=0)
    task_id = apig.post("/openapi/async-export", {"env_id": RELEASE, "group_id": GROUPS["apigw"][0],
                                                  "define": "all", "type": "yaml"}, oas_version="3.0").json()["task_id"]
    task = apig.get(f"/async-tasks/{task_id}").json()
    result = json.loads(task["task_result"])
    assert result["file_type"] == "yaml"
    validate(yaml.safe_load(result["content"]))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("status", [None, 1, 3, 4])
def test_backend_api_exports_validate(roma, fmt, status):
    body = {"format": fmt} if status is None else {"format": fmt, "status": status}
    response = roma.post("/openapi/livedata-apis/export", body)
    assert response.status_code == 200, response.text
    document = _parse(response.content, fmt)
    validate(document)
    assert len(document["paths"]) == (3 if status is None else 1)


def test_backend_api_export_filters(roma):
    only = roma.post("/openapi/livedata-apis/export", {"apis": ["ce53952d31295eb7cc0568d7b9b17f48"]})
    assert list(json.loads(only.content)["paths"]) == ["/inventory/sync"]
    other_app = roma.post("/openapi/livedata-apis/export", {"app_id": "no-such-app"})
    assert json.loads(other_app.content)["paths"] == {}
    assert roma.post("/openapi/livedata-apis/export", {"status": 2}).status_code == 400
    assert roma.post("/openapi/livedata-apis/export", {"format": "xml"}).status_code == 400


@pytest.mark.parametrize("oas_version", ["2.0", "3.0"])
def test_demo_exports_validate(oas_version):
    with testing.running_emulator(testing.DEMO_DATA) as emulator:
        for instance in emulator.state.instances.values():
            service = "apigw" if instance.kind == "apig" else "apic"
            base = f"/v2/{instance.project_id}/{service}/instances/{instance.id}"
            for group_id in list(instance.groups):
                for define in ("all", "dev"):
                    url = f"{emulator.url}{base}/openapi/export?oas_version={oas_version}"
                    body = json.dumps({"env_id": RELEASE, "group_id": group_id, "define": define}).encode()
                    headers = testing.sign_headers("POST", url, testing.TEST_AK, testing.TEST_SK, body)
                    response = requests.post(url, data=body, headers=headers, timeout=10)
                    assert response.status_code == 200, response.text
                    validate(json.loads(response.content))


def test_non_ascii_group_name():
    data = load_yaml(testing.TEST_DATA)
    data["instances"][0]["groups"][0]["name"] = "宠物商店"
    with testing.running_emulator(data) as emulator:
        url = (f"{emulator.url}/v2/{testing.TEST_PROJECT_ID}/apigw/instances/{testing.APIG_INSTANCE_ID}"
               f"/openapi/export")
        body = json.dumps({"env_id": RELEASE, "group_id": GROUPS["apigw"][0], "type": "yaml"}).encode()
        headers = testing.sign_headers("POST", url, testing.TEST_AK, testing.TEST_SK, body)
        response = requests.post(url, data=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"export.yaml\"; filename*=UTF-8''%E5%AE%A0%E7%89%A9%E5%95%86%E5%BA%97.yaml")
    document = yaml.safe_load(response.content)
    validate(document)
    assert document["info"]["title"] == "宠物商店"
