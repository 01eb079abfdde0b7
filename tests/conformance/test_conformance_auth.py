"""Authentication, authorisation and error answers as the SDK sees them; IAM tokens."""

import huaweicloudsdkapig.v2 as apig_models
import huaweicloudsdkiam.v3 as iam_models
import huaweicloudsdkroma.v2 as roma_models
import pytest
import requests
from apig_emulator import testing
from huaweicloudsdkapig.v2 import ApigClient
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkroma.v2 import RomaClient

pytestmark = pytest.mark.filterwarnings("error::huaweicloudsdkcore.warning.warning.SdkWarning")

ENVS_PATH = f"/v2/{testing.TEST_PROJECT_ID}/apigw/instances/{testing.APIG_INSTANCE_ID}/envs"


def _list_envs(client, instance_id=testing.APIG_INSTANCE_ID):
    return client.list_environments_v2(apig_models.ListEnvironmentsV2Request(instance_id=instance_id))


def _token_request(password=testing.TEST_USER["password"], project_name=testing.TEST_REGION):
    user = iam_models.PwdPasswordUser(domain=iam_models.PwdPasswordUserDomain(name=testing.TEST_USER["domain_name"]),
                                      name=testing.TEST_USER["name"], password=password)
    auth = iam_models.PwdAuth(
        identity=iam_models.PwdIdentity(methods=["password"], password=iam_models.PwdPassword(user=user)),
        scope=iam_models.AuthScope(project=iam_models.AuthScopeProject(name=project_name)))
    return iam_models.KeystoneCreateUserTokenByPasswordRequest(
        nocatalog="true", body=iam_models.KeystoneCreateUserTokenByPasswordRequestBody(auth=auth))


def test_wrong_secret_key_is_401(client_factory):
    client = client_factory(ApigClient, secret_key="wrong" + testing.TEST_SK[5:])
    with pytest.raises(ClientRequestException) as caught:
        _list_envs(client)
    assert (caught.value.status_code, caught.value.error_code) == (401, "APIG.1002")
    assert len(caught.value.request_id) == 32


def test_unknown_access_key_is_401(client_factory):
    with pytest.raises(ClientRequestException) as caught:
        _list_envs(client_factory(ApigClient, access_key="UNKNOWNAK00000000000"))
    assert (caught.value.status_code, caught.value.error_code) == (401, "APIG.1002")


def test_credential_of_another_project_is_403(client_factory):
    client = client_factory(ApigClient, access_key=testing.OTHER_AK, secret_key=testing.OTHER_SK)
    with pytest.raises(ClientRequestException) as caught:
        _list_envs(client)
    assert (caught.value.status_code, caught.value.error_code) == (403, "APIG.1005")
    assert caught.value.error_msg == "No permissions to request this method"


def test_instance_of_the_other_service_is_404(apig, roma):
    with pytest.raises(ClientRequestException) as caught:
        _list_envs(apig, testing.ROMA_INSTANCE_ID)
    assert (caught.value.status_code, caught.value.error_code) == (404, "APIG.3030")
    assert caught.value.error_msg == f"The instance does not exist;id:{testing.ROMA_INSTANCE_ID}"
    with pytest.raises(ClientRequestException) as caught:
        roma.list_environments_v2(roma_models.ListEnvironmentsV2Request(instance_id=testing.APIG_INSTANCE_ID))
    assert caught.value.error_code == "APIG.3030"


def test_throttling_on_a_post_keeps_the_error_code(apig, emulator):
    emulator.control.set_faults({"seed": 1, "rules": [
        {"class": "writes", "op": "BatchPublishOrOfflineApiV2", "kind": "429", "retry_after": 2, "max_count": 1}]})
    body = apig_models.ApiBatchPublish(apis=["3a955b791bd24b1c9cd94c745f8d1aad"], env_id=testing.RELEASE_ENV_ID)
    request = apig_models.BatchPublishOrOfflineApiV2Request(
        instance_id=testing.APIG_INSTANCE_ID, action="online", body=body)
    with pytest.raises(ClientRequestException) as caught:
        apig.batch_publish_or_offline_api_v2(request)
    assert (caught.value.status_code, caught.value.error_code) == (429, "APIG.0308")
    assert caught.value.error_msg.startswith("The throttling threshold has been reached")
    assert apig.batch_publish_or_offline_api_v2(request).status_code == 200  # max_count reached
    [throttled, passed] = emulator.control.log()["requests"]
    assert (throttled["status"], throttled["fault"], passed["status"], passed["fault"]) == (429, "429", 200, None)


def test_iam_token_then_token_auth(iam, emulator):
    response = iam.keystone_create_user_token_by_password(_token_request())
    assert response.status_code == 201
    token = response.x_subject_token
    assert token
    assert response.token.project.id == testing.TEST_PROJECT_ID
    assert response.token.project.name == testing.TEST_REGION
    assert response.token.user.name == testing.TEST_USER["name"]
    assert response.token.catalog is None  # nocatalog
    assert response.token.methods == ["password"]

    answer = requests.get(emulator.url + ENVS_PATH, headers={"X-Auth-Token": token}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["envs"][0]["id"] == testing.RELEASE_ENV_ID
    other_project = ENVS_PATH.replace(testing.TEST_PROJECT_ID, testing.OTHER_PROJECT_ID)
    assert requests.get(emulator.url + other_project, headers={"X-Auth-Token": token}, timeout=10).status_code == 403

    assert emulator.control.expire_tokens() == 1
    expired = requests.get(emulator.url + ENVS_PATH, headers={"X-Auth-Token": token}, timeout=10)
    assert expired.status_code == 401
    assert expired.json()["error_code"] == "APIG.1002"
    log = emulator.control.log()
    assert log["counts"]["KeystoneCreateUserTokenByPassword"] == 1
    assert [entry["auth"] for entry in log["requests"][1:]] == ["token"] * 3


def test_iam_wrong_password_is_401(iam):
    with pytest.raises(ClientRequestException) as caught:
        iam.keystone_create_user_token_by_password(_token_request(password="not-the-password"))
    assert caught.value.status_code == 401


def test_roma_client_is_signed_the_same_way(client_factory):
    client = client_factory(RomaClient, secret_key="x" * 40)
    with pytest.raises(ClientRequestException) as caught:
        client.list_environments_v2(roma_models.ListEnvironmentsV2Request(instance_id=testing.ROMA_INSTANCE_ID))
    assert caught.value.error_code == "APIG.1002"
