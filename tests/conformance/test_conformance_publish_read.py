"""Publishing and reading operations through both the APIG and the ROMA SDK clients.

Tests named `..._emulator_choice` pin a behaviour no document gives (see docs/emulator.md, "Choices
that are the emulator's own"): they check the emulator stays as documented there, not the cloud.
"""

from dataclasses import dataclass
from datetime import datetime
from types import ModuleType

import huaweicloudsdkapig.v2 as apig_models
import huaweicloudsdkroma.v2 as roma_models
import pytest
from apig_emulator import testing
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

pytestmark = pytest.mark.filterwarnings("error::huaweicloudsdkcore.warning.warning.SdkWarning")

RELEASE = testing.RELEASE_ENV_ID


@dataclass
class Target:
    """One service's client and the test.yml objects the tests use on it."""
    client: object
    models: ModuleType
    instance_id: str
    group_id: str
    group_name: str
    api_in_release: str  # published in RELEASE only
    api_unpublished: str
    test_env_id: str


@pytest.fixture(params=["apig", "roma"])
def target(request, apig, roma):
    if request.param == "apig":
        return Target(apig, apig_models, testing.APIG_INSTANCE_ID, "c77f5e81d9cb4424bf704ef2b0ac7600", "petstore",
                      "3a955b791bd24b1c9cd94c745f8d1aad", "5b6c7d8e9f0a41b2c3d4e5f6a7b8c9d0",
                      "7a1ad0c350844ee69479b47df9a881cb")
    return Target(roma, roma_models, testing.ROMA_INSTANCE_ID, "e99a7fa3fbed4646d0926ad4c2ce9822", "crm",
                  "1b2c3d4e5f6a47b8c9d0e1f2a3b4c5d6", "2c3d4e5f6a7b48c9d0e1f2a3b4c5d6e7",
                  "1e2d3c4b5a6947f8e9d0c1b2a3948576")


def _batch(target, action, env_id, apis, remark=None):
    body = target.models.ApiBatchPublish(apis=apis, env_id=env_id, remark=remark)
    request = target.models.BatchPublishOrOfflineApiV2Request(
        instance_id=target.instance_id, action=action, body=body)
    return target.client.batch_publish_or_offline_api_v2(request)


def _show(target, api_id):
    request = target.models.ShowDetailsOfApiV2Request(instance_id=target.instance_id, api_id=api_id)
    return target.client.show_details_of_api_v2(request)


def test_batch_publish_reports_success_and_failure(target, conforms):
    response = _batch(target, "online", target.test_env_id, [target.api_unpublished, "0" * 32], "release 42")
    assert response.status_code == 200
    conforms(response)
    [success] = response.success
    assert success.api_id == target.api_unpublished
    assert success.env_id == target.test_env_id
    assert success.remark == "release 42"
    assert len(success.publish_id) == 32 and len(success.version_id) == 32
    assert isinstance(success.publish_time, datetime)
    [failure] = response.failure
    assert (failure.api_id, failure.error_code, failure.error_msg) == (
        "0" * 32, "APIG.3002", f"Api {'0' * 32} not found")

    detail = _show(target, target.api_unpublished)
    assert detail.run_env_id == target.test_env_id
    assert detail.publish_id == success.publish_id


def test_batch_offline_takes_the_api_offline(target, conforms):
    response = _batch(target, "offline", RELEASE, [target.api_in_release])
    conforms(response)
    assert [(s.api_id, s.env_id) for s in response.success] == [(target.api_in_release, RELEASE)]
    assert _show(target, target.api_in_release).run_env_id == ""


def test_batch_offline_entries_emulator_choice(target):
    """Emulator's own choice: an offline success entry omits publish_id, version_id and publish_time (the
    docs only say they are valid for `online`), and an API not published there is a failure entry."""
    response = _batch(target, "offline", RELEASE, [target.api_in_release, target.api_unpublished])
    [success] = response.success
    assert success.publish_id is None and success.version_id is None and success.publish_time is None
    [failure] = response.failure
    assert (failure.api_id, failure.error_code) == (target.api_unpublished, "APIG.3005")


def test_apig_batch_publish_whole_group(apig, conforms):
    body = apig_models.ApiBatchPublish(env_id="4f5e6d7c8b9a40b1a2c3d4e5f6a7b8c9",
                                       group_id="d88f6e92eadc4535cf815fc3b1bd8711")
    response = apig.batch_publish_or_offline_api_v2(apig_models.BatchPublishOrOfflineApiV2Request(
        instance_id=testing.APIG_INSTANCE_ID, action="online", body=body))
    conforms(response)
    assert sorted(s.api_name for s in response.success) == ["cancel_order", "get_order", "list_orders"]
    assert response.failure == []


def test_apig_batch_rejects_more_than_1000_apis(apig):
    body = apig_models.ApiBatchPublish(env_id=RELEASE, apis=[f"{n:032x}" for n in range(1001)])
    with pytest.raises(ClientRequestException) as caught:
        apig.batch_publish_or_offline_api_v2(apig_models.BatchPublishOrOfflineApiV2Request(
            instance_id=testing.APIG_INSTANCE_ID, action="online", body=body))
    assert (caught.value.status_code, caught.value.error_code) == (400, "APIG.2011")


def test_batch_publish_unknown_env_emulator_choice(target):
    """Emulator's own choice: an unknown environment refuses the whole call with 404 APIG.3004."""
    with pytest.raises(ClientRequestException) as caught:
        _batch(target, "online", "no-such-env", [target.api_in_release])
    assert (caught.value.status_code, caught.value.error_code) == (404, "APIG.3004")
    assert len(caught.value.request_id) == 32


def test_publish_and_offline_one_api(target, conforms):
    def action(name):
        body = target.models.ApiActionInfo(action=name, env_id=target.test_env_id, api_id=target.api_in_release,
                                           remark="single")
        return target.client.create_or_delete_publish_record_for_api_v2(
            target.models.CreateOrDeletePublishRecordForApiV2Request(instance_id=target.instance_id, body=body))

    published = action("online")
    assert published.status_code == 201
    conforms(published)
    assert (published.api_id, published.env_id) == (target.api_in_release, target.test_env_id)
    assert published.remark == "single"
    assert isinstance(published.publish_time, datetime)
    assert set(_show(target, target.api_in_release).run_env_id.split("|")) == {RELEASE, target.test_env_id}

    taken_offline = action("offline")
    assert taken_offline.status_code == 201
    conforms(taken_offline)
    assert _show(target, target.api_in_release).run_env_id == RELEASE


def test_offline_by_version_and_switch_version(target, conforms):
    first = _batch(target, "online", target.test_env_id, [target.api_unpublished]).success[0]
    second = _batch(target, "online", target.test_env_id, [target.api_unpublished]).success[0]

    switched = target.client.change_api_version_v2(target.models.ChangeApiVersionV2Request(
        instance_id=target.instance_id, api_id=target.api_unpublished,
        body=target.models.ApiVersion(version_id=first.version_id)))
    conforms(switched)
    assert switched.version_id == first.version_id
    assert _show(target, target.api_unpublished).publish_id == first.publish_id

    deleted = target.client.delete_api_by_version_id_v2(target.models.DeleteApiByVersionIdV2Request(
        instance_id=target.instance_id, version_id=first.version_id))
    assert 200 <= deleted.status_code < 300
    assert _show(target, target.api_unpublished).run_env_id == ""


def test_offline_by_a_version_not_effective_emulator_choice(target):
    """Emulator's own choice: taking offline by a version that is not the effective one is 400 APIG.3005."""
    old = _batch(target, "online", target.test_env_id, [target.api_unpublished]).success[0]
    _batch(target, "online", target.test_env_id, [target.api_unpublished])
    with pytest.raises(ClientRequestException) as caught:
        target.client.delete_api_by_version_id_v2(target.models.DeleteApiByVersionIdV2Request(
            instance_id=target.instance_id, version_id=old.version_id))
    assert (caught.value.status_code, caught.value.error_code) == (400, "APIG.3005")


@pytest.mark.parametrize("joined_order", ["oldest_first", "newest_first"])
def test_list_apis_filters_paging_and_joined_fields(target, conforms, emulator, joined_order):
    emulator.control.settings(joined_order=joined_order)
    _batch(target, "online", target.test_env_id, [target.api_in_release])
    models, client = target.models, target.client

    everything = client.list_apis_v2(models.ListApisV2Request(instance_id=target.instance_id, limit=500))
    conforms(everything)
    assert everything.total == everything.size == len(everything.apis)

    page = client.list_apis_v2(models.ListApisV2Request(instance_id=target.instance_id, offset=1, limit=2))
    assert (page.size, page.total) == (2, everything.total)
    assert {a.id for a in page.apis} == {a.id for a in everything.apis[1:3]}

    published = client.list_apis_v2(models.ListApisV2Request(instance_id=target.instance_id, env_id=RELEASE,
                                                             group_id=target.group_id, limit=500))
    api = next(a for a in published.apis if a.id == target.api_in_release)
    _assert_joined_fields(target, api, {RELEASE: "RELEASE", target.test_env_id: "TEST"})
    assert isinstance(api.update_time, datetime)
    assert api.group_name == target.group_name
    assert all(RELEASE in a.run_env_id.split("|") for a in published.apis)

    name = _show(target, target.api_in_release).name
    fuzzy = client.list_apis_v2(models.ListApisV2Request(instance_id=target.instance_id, name=name[1:-1]))
    assert target.api_in_release in [a.id for a in fuzzy.apis]
    precise = client.list_apis_v2(models.ListApisV2Request(instance_id=target.instance_id, name=name[1:-1],
                                                           precise_search="name"))
    assert precise.total == 0
    exact = client.list_apis_v2(models.ListApisV2Request(instance_id=target.instance_id, name=name,
                                                         precise_search="name", req_method="GET", type=1))
    assert [a.id for a in exact.apis] == [target.api_in_release]


def _assert_joined_fields(target, api, expected_envs: dict[str, str]):
    """The |-joined fields name the expected environments, in whatever order, index-aligned: position i of
    each field is the same publication (checked against the runtime definition and the version list)."""
    env_ids, env_names = api.run_env_id.split("|"), api.run_env_name.split("|")
    publish_ids, publish_times = api.publish_id.split("|"), api.publish_time.split("|")
    assert isinstance(api.publish_time, str)
    assert len(env_ids) == len(env_names) == len(publish_ids) == len(publish_times) == len(expected_envs)
    assert set(env_ids) == set(expected_envs)
    for env_id, env_name, publish_id, publish_time in zip(env_ids, env_names, publish_ids, publish_times):
        assert env_name == expected_envs[env_id]
        runtime = target.client.list_api_runtime_definition_v2(target.models.ListApiRuntimeDefinitionV2Request(
            instance_id=target.instance_id, api_id=api.id, env_id=env_id))
        assert runtime.publish_id == publish_id
        versions = target.client.list_api_versions_v2(target.models.ListApiVersionsV2Request(
            instance_id=target.instance_id, api_id=api.id, env_id=env_id)).api_versions
        [effective] = [v for v in versions if v.status == 1]
        assert datetime.fromisoformat(publish_time.replace("Z", "+00:00")).timestamp() == \
            effective.publish_time.timestamp()


def test_joined_fields_list_the_oldest_publication_first_emulator_choice(target):
    """Emulator's own choice: no document gives the order of the |-joined fields; it lists the oldest
    publication first (the joined_order setting reverses it)."""
    _batch(target, "online", target.test_env_id, [target.api_in_release])
    api = _show(target, target.api_in_release)
    assert (api.run_env_id, api.run_env_name) == (f"{RELEASE}|{target.test_env_id}", "RELEASE|TEST")


def test_apig_list_apis_return_data_mode(apig, conforms):
    response = apig.list_apis_v2(apig_models.ListApisV2Request(
        instance_id=testing.APIG_INSTANCE_ID, return_data_mode="include_group_backend", limit=1))
    conforms(response)
    [api] = response.apis
    assert api.api_group_info.id == api.group_id
    assert api.backend_api.url_domain


def test_api_detail(target, conforms):
    detail = _show(target, target.api_in_release)
    assert detail.status_code == 200
    conforms(detail)
    assert (detail.id, detail.group_id, detail.run_env_id, detail.run_env_name) == (
        target.api_in_release, target.group_id, RELEASE, "RELEASE")
    assert detail.req_method == "GET" and detail.req_uri.startswith("/")
    with pytest.raises(ClientRequestException) as caught:
        _show(target, "f" * 32)
    assert (caught.value.status_code, caught.value.error_code) == (404, "APIG.3002")


def test_versions_version_detail_and_runtime(target, conforms):
    models, client = target.models, target.client
    republished = _batch(target, "online", RELEASE, [target.api_in_release], "second").success[0]

    versions = client.list_api_versions_v2(models.ListApiVersionsV2Request(
        instance_id=target.instance_id, api_id=target.api_in_release, env_id=RELEASE))
    conforms(versions)
    assert versions.total == 2
    [newest] = [v for v in versions.api_versions if v.version_id == republished.version_id]
    [oldest] = [v for v in versions.api_versions if v.version_id != republished.version_id]
    assert (newest.status, newest.remark) == (1, "second")
    assert oldest.status == 2
    assert newest.env_name == "RELEASE" and isinstance(newest.publish_time, datetime)
    assert oldest.publish_time < newest.publish_time

    detail = client.list_api_version_detail_v2(models.ListApiVersionDetailV2Request(
        instance_id=target.instance_id, version_id=oldest.version_id))
    conforms(detail)
    assert (detail.id, detail.version_id, detail.run_env_id) == (target.api_in_release, oldest.version_id, RELEASE)
    assert isinstance(detail.publish_time, datetime)

    runtime = client.list_api_runtime_definition_v2(models.ListApiRuntimeDefinitionV2Request(
        instance_id=target.instance_id, api_id=target.api_in_release))
    conforms(runtime)
    assert (runtime.id, runtime.run_env_id, runtime.publish_id) == (target.api_in_release, RELEASE,
                                                                    republished.publish_id)


def test_runtime_definition_where_not_published_emulator_choice(target):
    """Emulator's own choice: the runtime definition in an environment the API is not published in is
    404 APIG.3005."""
    with pytest.raises(ClientRequestException) as caught:
        target.client.list_api_runtime_definition_v2(target.models.ListApiRuntimeDefinitionV2Request(
            instance_id=target.instance_id, api_id=target.api_in_release, env_id=target.test_env_id))
    assert (caught.value.status_code, caught.value.error_code) == (404, "APIG.3005")


def test_environments(target, conforms):
    envs = target.client.list_environments_v2(target.models.ListEnvironmentsV2Request(
        instance_id=target.instance_id))
    conforms(envs)
    [release] = [e for e in envs.envs if e.id == RELEASE]
    assert release.name == "RELEASE"
    assert isinstance(release.create_time, datetime)
    fuzzy = target.client.list_environments_v2(target.models.ListEnvironmentsV2Request(
        instance_id=target.instance_id, name="es"))
    assert [e.name for e in fuzzy.envs] == ["TEST"]


def test_groups_and_group_detail(target, conforms):
    models, client = target.models, target.client
    groups = client.list_api_groups_v2(models.ListApiGroupsV2Request(instance_id=target.instance_id,
                                                                     name=target.group_name[:2]))
    conforms(groups)
    assert target.group_id in [g.id for g in groups.groups]
    precise = client.list_api_groups_v2(models.ListApiGroupsV2Request(
        instance_id=target.instance_id, name=target.group_name[:2], precise_search="name"))
    assert precise.total == 0

    detail = client.show_details_of_api_group_v2(models.ShowDetailsOfApiGroupV2Request(
        instance_id=target.instance_id, group_id=target.group_id))
    conforms(detail)
    assert (detail.id, detail.name, detail.status) == (target.group_id, target.group_name, 1)
    assert detail.sl_domain.startswith(target.group_id)
    with pytest.raises(ClientRequestException) as caught:
        client.show_details_of_api_group_v2(models.ShowDetailsOfApiGroupV2Request(
            instance_id=target.instance_id, group_id="0" * 32))
    assert (caught.value.status_code, caught.value.error_code) == (404, "APIG.3001")
