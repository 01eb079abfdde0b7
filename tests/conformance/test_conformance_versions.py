"""Version history and switching through both SDK clients: ListApiVersionsV2 (paged, per environment,
at most 10 versions kept), ListApiVersionDetailV2 and ChangeApiVersionV2 - the calls apig_api_info and
apig_api_version make.

Tests named `..._emulator_choice` pin a behaviour no document gives (docs/emulator.md, "Choices that
are the emulator's own").
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

KEPT = 10


@dataclass
class Target:
    client: object
    models: ModuleType
    instance_id: str
    api_id: str  # not published anywhere in test.yml
    test_env_id: str


@pytest.fixture(params=["apig", "roma"])
def target(request, apig, roma):
    if request.param == "apig":
        return Target(apig, apig_models, testing.APIG_INSTANCE_ID, "5b6c7d8e9f0a41b2c3d4e5f6a7b8c9d0",
                      "7a1ad0c350844ee69479b47df9a881cb")
    return Target(roma, roma_models, testing.ROMA_INSTANCE_ID, "2c3d4e5f6a7b48c9d0e1f2a3b4c5d6e7",
                  "1e2d3c4b5a6947f8e9d0c1b2a3948576")


def _publish(target, times):
    published = []
    for number in range(times):
        body = target.models.ApiBatchPublish(apis=[target.api_id], env_id=target.test_env_id,
                                             remark="publication %d" % number)
        answer = target.client.batch_publish_or_offline_api_v2(target.models.BatchPublishOrOfflineApiV2Request(
            instance_id=target.instance_id, action="online", body=body))
        published.append(answer.success[0])
    return published


def _versions(target, **query):
    return target.client.list_api_versions_v2(target.models.ListApiVersionsV2Request(
        instance_id=target.instance_id, api_id=target.api_id, **query))


def test_history_keeps_ten_versions_per_environment_and_pages(target, conforms):
    published = _publish(target, KEPT + 2)
    pages = []
    for offset in (0, 4, 8):
        answer = _versions(target, env_id=target.test_env_id, offset=offset, limit=4)
        conforms(answer)
        assert answer.total == KEPT
        pages.append(answer)
    assert [page.size for page in pages] == [4, 4, 2]
    versions = [version for page in pages for version in page.api_versions]
    assert {version.version_id for version in versions} == {item.version_id for item in published[2:]}
    assert all(isinstance(version.publish_time, datetime) for version in versions)
    assert all(version.env_id == target.test_env_id and version.api_id == target.api_id for version in versions)
    [effective] = [version for version in versions if version.status == 1]
    assert effective.version_id == published[-1].version_id
    assert {version.status for version in versions} == {1, 2}
    assert sorted(version.remark for version in versions) == sorted("publication %d" % n for n in range(2, KEPT + 2))
    # The same history by environment name; none in an environment the API was never published to.
    assert _versions(target, env_name="TEST").total == KEPT
    assert _versions(target, env_id=testing.RELEASE_ENV_ID).total == 0


def test_switch_answers_like_a_publication_and_moves_the_effective_version(target, conforms):
    first, second, _third = _publish(target, 3)
    switched = target.client.change_api_version_v2(target.models.ChangeApiVersionV2Request(
        instance_id=target.instance_id, api_id=target.api_id,
        body=target.models.ApiVersion(version_id=second.version_id)))
    assert switched.status_code == 200  # the status is the emulator's choice; any 2xx is success
    conforms(switched)
    assert (switched.version_id, switched.publish_id, switched.api_id, switched.env_id) == (
        second.version_id, second.publish_id, target.api_id, target.test_env_id)
    assert isinstance(switched.publish_time, datetime)
    effective = [version.version_id for version in _versions(target, env_id=target.test_env_id).api_versions
                 if version.status == 1]
    assert effective == [second.version_id]
    # The listing shows the switched-to publication, with its own publish_id and time.
    listing = target.client.list_apis_v2(target.models.ListApisV2Request(
        instance_id=target.instance_id, id=target.api_id))
    assert (listing.apis[0].publish_id, listing.apis[0].run_env_id) == (second.publish_id, target.test_env_id)
    detail = target.client.list_api_version_detail_v2(target.models.ListApiVersionDetailV2Request(
        instance_id=target.instance_id, version_id=first.version_id))
    conforms(detail)
    assert (detail.version_id, detail.publish_id, detail.run_env_id) == (
        first.version_id, first.publish_id, target.test_env_id)


def test_switching_an_offline_api_back_on_emulator_choice(target):
    """Emulator's own choice: ChangeApiVersionV2 on an API taken offline in the version's environment
    makes that version effective again (the documents do not say whether the cloud allows it)."""
    [published] = _publish(target, 1)
    target.client.batch_publish_or_offline_api_v2(target.models.BatchPublishOrOfflineApiV2Request(
        instance_id=target.instance_id, action="offline",
        body=target.models.ApiBatchPublish(apis=[target.api_id], env_id=target.test_env_id)))
    assert [v.status for v in _versions(target, env_id=target.test_env_id).api_versions] == [2]
    target.client.change_api_version_v2(target.models.ChangeApiVersionV2Request(
        instance_id=target.instance_id, api_id=target.api_id,
        body=target.models.ApiVersion(version_id=published.version_id)))
    assert [v.status for v in _versions(target, env_id=target.test_env_id).api_versions] == [1]


def test_switch_to_a_pruned_version_emulator_choice(target):
    """Emulator's own choice: switching to a version the gateway no longer keeps is 404 APIG.3022 (the
    modules decide from the history, not from this code)."""
    published = _publish(target, KEPT + 1)
    with pytest.raises(ClientRequestException) as caught:
        target.client.change_api_version_v2(target.models.ChangeApiVersionV2Request(
            instance_id=target.instance_id, api_id=target.api_id,
            body=target.models.ApiVersion(version_id=published[0].version_id)))
    assert (caught.value.status_code, caught.value.error_code) == (404, "APIG.3022")
    with pytest.raises(ClientRequestException) as caught:
        target.client.list_api_version_detail_v2(target.models.ListApiVersionDetailV2Request(
            instance_id=target.instance_id, version_id=published[0].version_id))
    assert caught.value.status_code == 404
