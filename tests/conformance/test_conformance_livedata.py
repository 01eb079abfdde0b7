"""ROMA custom backend ("livedata") APIs, including the v1 undeploy path the SDK does not have.

Tests named `..._emulator_choice` pin a behaviour no document gives (docs/emulator.md, "Choices that
are the emulator's own").
"""

import json
from datetime import datetime

import huaweicloudsdkroma.v2 as roma_models
import pytest
import requests
from apig_emulator import testing
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

pytestmark = pytest.mark.filterwarnings("error::huaweicloudsdkcore.warning.warning.SdkWarning")

INSTANCE = testing.ROMA_INSTANCE_ID
DEPLOYED = "bd42841c20184da6bbf457c6d8a06e37"  # query_orders, status 4, frontend query_orders_front
DEVELOPING = "ce53952d31295eb7cc0568d7b9b17f48"  # sync_inventory, status 3
FRONTEND = "3d4e5f6a7b8c49d0e1f2a3b4c5d6e7f8"
CRM = "e99a7fa3fbed4646d0926ad4c2ce9822"


def _show(roma, ld_api_id):
    return roma.show_live_data_api_v2(roma_models.ShowLiveDataApiV2Request(instance_id=INSTANCE,
                                                                           ld_api_id=ld_api_id))


def _api_ids(roma):
    listing = roma.list_apis_v2(roma_models.ListApisV2Request(instance_id=INSTANCE, limit=500))
    return {api.id for api in listing.apis}


def test_list_backend_apis(roma, conforms):
    listing = roma.list_live_data_api_v2(roma_models.ListLiveDataApiV2Request(instance_id=INSTANCE))
    conforms(listing)
    assert listing.total == 3
    assert {api.status for api in listing.apis} == {1, 3, 4}
    deployed = roma.list_live_data_api_v2(roma_models.ListLiveDataApiV2Request(instance_id=INSTANCE, status="4"))
    assert [api.id for api in deployed.apis] == [DEPLOYED]
    fuzzy = roma.list_live_data_api_v2(roma_models.ListLiveDataApiV2Request(instance_id=INSTANCE, name="order"))
    assert [api.name for api in fuzzy.apis] == ["query_orders"]
    precise = roma.list_live_data_api_v2(roma_models.ListLiveDataApiV2Request(
        instance_id=INSTANCE, name="order", precise_search="name"))
    assert precise.total == 0
    paged = roma.list_live_data_api_v2(roma_models.ListLiveDataApiV2Request(instance_id=INSTANCE, offset=2,
                                                                            limit=2))
    assert (paged.size, paged.total) == (1, 3)


def test_backend_api_detail(roma, conforms):
    detail = _show(roma, DEPLOYED)
    conforms(detail)
    assert (detail.id, detail.name, detail.status, detail.instance) == (DEPLOYED, "query_orders", 4, INSTANCE)
    assert detail.parameters[0]._in == "Parameters" and detail.parameters[0].required is True
    assert isinstance(detail.modified_time, datetime)
    with pytest.raises(ClientRequestException) as caught:
        _show(roma, "0" * 32)
    assert (caught.value.status_code, caught.value.error_code) == (404, "APIG.3084")
    assert caught.value.error_msg == f"The livedata API does not exist, id: {'0' * 32}"


def test_undeploy_v2_removes_frontend_api(roma):
    assert FRONTEND in _api_ids(roma)
    response = roma.unpublish_live_data_api_v2(roma_models.UnpublishLiveDataApiV2Request(
        instance_id=INSTANCE, ld_api_id=DEPLOYED))
    assert response.status_code == 204
    assert _show(roma, DEPLOYED).status == 3
    assert FRONTEND not in _api_ids(roma)


def test_undeploy_of_a_backend_not_deployed_emulator_choice(roma):
    """Emulator's own choice: undeploying a backend API that is not deployed is 400 APIG.3086."""
    with pytest.raises(ClientRequestException) as caught:
        roma.unpublish_live_data_api_v2(roma_models.UnpublishLiveDataApiV2Request(instance_id=INSTANCE,
                                                                                  ld_api_id=DEVELOPING))
    assert (caught.value.status_code, caught.value.error_code) == (400, "APIG.3086")


def _signed_v1_undeploy(emulator, ld_api_id):
    """The v1 call signed by the SDK's own signer (the SDK has no v1 operation)."""
    body = json.dumps({"ld_api_id": ld_api_id})
    request = SdkRequest(
        method="POST", schema="http", host=f"127.0.0.1:{emulator.port}",
        resource_path=f"/v1/{testing.TEST_PROJECT_ID}/apic/instances/{INSTANCE}/livedata-apis/undeploy",
        query_params=[],
        header_params={"Content-Type": "application/json;charset=utf-8", "X-Project-Id": testing.TEST_PROJECT_ID},
        body=body)
    signed = Signer(BasicCredentials(testing.TEST_AK, testing.TEST_SK)).sign(request)
    return requests.post(f"{emulator.url}{signed.uri}", data=body.encode(), headers=signed.header_params,
                         timeout=10)


def test_undeploy_v1_with_body(roma, emulator):
    response = _signed_v1_undeploy(emulator, DEPLOYED)
    assert response.status_code == 204, response.text
    assert response.headers["X-Request-Id"]
    assert _show(roma, DEPLOYED).status == 3
    assert FRONTEND not in _api_ids(roma)

    missing = _signed_v1_undeploy(emulator, "0" * 32)
    assert missing.status_code == 404
    assert missing.json() == {"error_code": "APIG.3084",
                              "error_msg": f"The livedata API does not exist, id: {'0' * 32}"}
    assert emulator.control.log()["counts"]["UnpublishLiveDataApiV1"] == 2


def test_deploy_with_frontend_api_and_history(roma, conforms):
    body = roma_models.LdApiDeploy(deploy_front_api=True, auth_type="APP", group_id=CRM,
                                   env_id=testing.RELEASE_ENV_ID, protocol="HTTPS")
    deployed = roma.publish_live_data_api_v2(roma_models.PublishLiveDataApiV2Request(
        instance_id=INSTANCE, ld_api_id=DEVELOPING, body=body))
    conforms(deployed)
    assert (deployed.ld_api_id, deployed.group_id, deployed.env_id) == (DEVELOPING, CRM, testing.RELEASE_ENV_ID)
    assert deployed.api_definition.status == 4
    assert isinstance(deployed.deploy_time, datetime)
    assert _show(roma, DEVELOPING).status == 4

    frontend = roma.show_details_of_api_v2(roma_models.ShowDetailsOfApiV2Request(instance_id=INSTANCE,
                                                                                 api_id=deployed.api_id))
    assert (frontend.ld_api_id, frontend.run_env_id, frontend.req_uri) == (DEVELOPING, testing.RELEASE_ENV_ID,
                                                                           "/inventory/sync")

    history = roma.list_live_data_api_deployment_history_v2(
        roma_models.ListLiveDataApiDeploymentHistoryV2Request(instance_id=INSTANCE, ld_api_id=DEVELOPING))
    conforms(history)
    assert history.total == 1
    assert history.histories[0].api_id == deployed.api_id

    roma.unpublish_live_data_api_v2(
        roma_models.UnpublishLiveDataApiV2Request(instance_id=INSTANCE, ld_api_id=DEVELOPING))
    assert deployed.api_id not in _api_ids(roma)
