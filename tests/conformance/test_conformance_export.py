"""Export operations: sync export on both services, APIG's async export, ROMA's backend API export.

Tests named `..._emulator_choice` pin a behaviour no document gives (docs/emulator.md, "Choices that
are the emulator's own").
"""

import json
import time

import huaweicloudsdkapig.v2 as apig_models
import huaweicloudsdkroma.v2 as roma_models
import pytest
import requests
import yaml
from apig_emulator import testing
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

pytestmark = pytest.mark.filterwarnings("error::huaweicloudsdkcore.warning.warning.SdkWarning")

PETSTORE = "c77f5e81d9cb4424bf704ef2b0ac7600"
CRM = "e99a7fa3fbed4646d0926ad4c2ce9822"
RELEASE = testing.RELEASE_ENV_ID


def _download(response) -> tuple[bytes, dict]:
    captured = {}

    def read(stream):
        captured["headers"] = dict(stream.headers)
        captured["content"] = stream.content

    response.consume_download_stream(read)
    return captured["content"], captured["headers"]


def test_apig_sync_export_openapi3_yaml(apig):
    body = apig_models.ExportOpenApiReq(env_id=RELEASE, group_id=PETSTORE, define="all", type="yaml",
                                        version="1.2.3")
    response = apig.export_api_definitions_v2(apig_models.ExportApiDefinitionsV2Request(
        instance_id=testing.APIG_INSTANCE_ID, oas_version="3.0", body=body))
    assert response.status_code == 200
    content, _headers = _download(response)
    document = yaml.safe_load(content)
    assert document["openapi"].startswith("3.0")
    assert document["info"]["version"] == "1.2.3"
    assert set(document["paths"]) == {"/pets", "/pets/{petId}"}  # only what RELEASE serves


def test_export_download_headers_emulator_choice(apig, roma):
    """Emulator's own choice: files come as application/octet-stream named `<group>.<type>` (the contract
    saw these headers only from its own recording server, never from the cloud)."""
    body = apig_models.ExportOpenApiReq(env_id=RELEASE, group_id=PETSTORE, type="yaml")
    _content, headers = _download(apig.export_api_definitions_v2(apig_models.ExportApiDefinitionsV2Request(
        instance_id=testing.APIG_INSTANCE_ID, body=body)))
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"] == 'attachment; filename="petstore.yaml"'
    _content, headers = _download(roma.export_live_data_api_definitions_v2(
        roma_models.ExportLiveDataApiDefinitionsV2Request(instance_id=testing.ROMA_INSTANCE_ID,
                                                          body=roma_models.LiveDataExportReq())))
    assert headers["Content-Disposition"] == 'attachment; filename="livedata-apis.json"'


def test_apig_sync_export_requires_env(apig):
    body = apig_models.ExportOpenApiReq(group_id=PETSTORE)
    with pytest.raises(ClientRequestException) as caught:
        apig.export_api_definitions_v2(apig_models.ExportApiDefinitionsV2Request(
            instance_id=testing.APIG_INSTANCE_ID, body=body))
    assert (caught.value.status_code, caught.value.error_code) == (400, "APIG.2001")
    assert "parameterName:env_id" in caught.value.error_msg


def test_sync_export_unknown_group_is_404(apig):
    body = apig_models.ExportOpenApiReq(env_id=RELEASE, group_id="0" * 32)
    with pytest.raises(ClientRequestException) as caught:
        apig.export_api_definitions_v2(apig_models.ExportApiDefinitionsV2Request(
            instance_id=testing.APIG_INSTANCE_ID, body=body))
    assert (caught.value.status_code, caught.value.error_code) == (404, "APIG.3001")


def test_roma_sync_export_without_env_emulator_choice(roma):
    """Emulator's own choice: the ROMA SDK marks env_id optional and has no oas_version, but the docs mark
    env_id required (contract section 12); the emulator accepts the export without it."""
    body = roma_models.ExportOpenApiReq(group_id=CRM, define="dev")
    response = roma.export_api_definitions_v2(roma_models.ExportApiDefinitionsV2Request(
        instance_id=testing.ROMA_INSTANCE_ID, body=body))
    content, _headers = _download(response)
    document = json.loads(content)
    assert document["swagger"] == "2.0"
    assert len([op for item in document["paths"].values() for op in item]) == 3


def test_roma_sync_export_with_documented_oas_version(emulator):
    """ROMA's docs list oas_version although its SDK lacks it: a hand-signed request uses it."""
    url = (f"{emulator.url}/v2/{testing.TEST_PROJECT_ID}/apic/instances/{testing.ROMA_INSTANCE_ID}"
           f"/openapi/export?oas_version=3.0")
    body = json.dumps({"env_id": RELEASE, "group_id": CRM}).encode()
    headers = testing.sign_headers("POST", url, testing.TEST_AK, testing.TEST_SK, body,
                                   {"Content-Type": "application/json;charset=utf-8"})
    response = requests.post(url, data=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["openapi"].startswith("3.0")


def test_apig_async_export_and_task(apig, conforms):
    body = apig_models.ExportOpenApiReq(env_id=RELEASE, group_id=PETSTORE, define="spec")
    started = apig.export_api_definitions_async(apig_models.ExportApiDefinitionsAsyncRequest(
        instance_id=testing.APIG_INSTANCE_ID, oas_version="2.0", body=body))
    assert started.status_code == 202
    conforms(started)
    assert len(started.task_id) == 32

    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        task = apig.show_async_task_result(apig_models.ShowAsyncTaskResultRequest(
            instance_id=testing.APIG_INSTANCE_ID, task_id=started.task_id))
        seen.append(task.task_status)
        if task.task_status == "succeed":
            break
        time.sleep(0.02)
    conforms(task)
    assert seen[0] == "waiting" and "processing" in seen and seen[-1] == "succeed"
    assert task.task_type == "export_api"
    result = json.loads(task.task_result)
    assert result["file_type"] == "json"
    assert json.loads(result["content"])["swagger"] == "2.0"

    with pytest.raises(ClientRequestException) as caught:
        apig.show_async_task_result(apig_models.ShowAsyncTaskResultRequest(
            instance_id=testing.APIG_INSTANCE_ID, task_id="0" * 32))
    assert 400 <= caught.value.status_code < 500


def test_async_task_success_spelling_can_be_succeeded(apig, emulator):
    emulator.control.settings(task_seconds=0, task_success_spelling="succeeded")
    body = apig_models.ExportOpenApiReq(env_id=RELEASE, group_id=PETSTORE)
    started = apig.export_api_definitions_async(apig_models.ExportApiDefinitionsAsyncRequest(
        instance_id=testing.APIG_INSTANCE_ID, body=body))
    task = apig.show_async_task_result(apig_models.ShowAsyncTaskResultRequest(
        instance_id=testing.APIG_INSTANCE_ID, task_id=started.task_id))
    assert task.task_status == "succeeded"


def test_roma_backend_api_export(roma):
    body = roma_models.LiveDataExportReq(format="yaml", status=4)
    response = roma.export_live_data_api_definitions_v2(roma_models.ExportLiveDataApiDefinitionsV2Request(
        instance_id=testing.ROMA_INSTANCE_ID, body=body))
    assert response.status_code == 200
    content, _headers = _download(response)
    document = yaml.safe_load(content)
    assert list(document["paths"]) == ["/crm/orders"]


@pytest.mark.parametrize("export", ["sync", "async", "livedata"])
def test_shuffled_exports_still_download(apig, roma, emulator, export):
    """With export_shuffle the SDK still hands back the file, and it parses to the same document."""
    def download():
        if export == "livedata":
            response = roma.export_live_data_api_definitions_v2(roma_models.ExportLiveDataApiDefinitionsV2Request(
                instance_id=testing.ROMA_INSTANCE_ID, body=roma_models.LiveDataExportReq(format="yaml")))
            document = yaml.safe_load(_download(response)[0])
            document["info"].pop("version")  # the export time
            return document
        body = apig_models.ExportOpenApiReq(env_id=RELEASE, group_id=PETSTORE, define="dev", version="1")
        if export == "sync":
            return json.loads(_download(apig.export_api_definitions_v2(apig_models.ExportApiDefinitionsV2Request(
                instance_id=testing.APIG_INSTANCE_ID, body=body)))[0])
        task_id = apig.export_api_definitions_async(apig_models.ExportApiDefinitionsAsyncRequest(
            instance_id=testing.APIG_INSTANCE_ID, body=body)).task_id
        task = apig.show_async_task_result(apig_models.ShowAsyncTaskResultRequest(
            instance_id=testing.APIG_INSTANCE_ID, task_id=task_id))
        return json.loads(json.loads(task.task_result)["content"])

    emulator.control.settings(task_seconds=0)
    plain = download()
    emulator.control.settings(export_shuffle=True)
    assert all(download() == plain for _call in range(3))
