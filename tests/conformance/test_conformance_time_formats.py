"""Time stamps in every time_format the emulator can answer with, read through the official SDK.

The SDK parses datetime fields with dateutil after appending `Z` when the text does not end in one.
Text with a UTC offset then no longer parses: the SDK keeps the original string in the datetime field
and warns (TypeConversionWarning). A client must therefore read offsets itself; the |-joined
publish_time of listings is a plain string in every case.
"""

import contextlib
from datetime import datetime, timezone

import huaweicloudsdkapig.v2 as apig_models
import huaweicloudsdkroma.v2 as roma_models
import pytest
from apig_emulator import testing
from huaweicloudsdkcore.warning.warning import TypeConversionWarning

pytestmark = pytest.mark.filterwarnings("error::huaweicloudsdkcore.warning.warning.SdkWarning")

LIST_PETS = "3a955b791bd24b1c9cd94c745f8d1aad"
LIST_CUSTOMERS = "1b2c3d4e5f6a47b8c9d0e1f2a3b4c5d6"
UPDATE = "2026-11-30T10:00:00.123456Z"
REGISTER = "2026-11-29T20:30:40.000001Z"
PUBLISHED = "2026-11-30T10:00:01.654321Z"
UTC_FORMATS = ("fraction", "whole_seconds", "no_zone", "millis3", "nanos9", "fraction8")
OFFSET_FORMATS = ("offset", "offset_whole", "offset_compact")


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _shown(stored: str, time_format: str) -> datetime:
    """The instant an answer shows for a stored time: truncated to the format's precision."""
    moment = _instant(stored)
    if time_format in ("whole_seconds", "offset_whole"):
        return moment.replace(microsecond=0)
    if time_format == "millis3":
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment


@pytest.fixture(params=["apig", "roma"])
def read_api(request, apig, roma, emulator):
    """read_api(): the SDK's answers about one API published in RELEASE with known stored times."""
    client, models, instance_id, api_id = (
        (apig, apig_models, testing.APIG_INSTANCE_ID, LIST_PETS) if request.param == "apig"
        else (roma, roma_models, testing.ROMA_INSTANCE_ID, LIST_CUSTOMERS))
    emulator.control.set_times(api_id, update_time=UPDATE, register_time=REGISTER,
                               publications={"RELEASE": PUBLISHED})

    def read():
        detail = client.show_details_of_api_v2(
            models.ShowDetailsOfApiV2Request(instance_id=instance_id, api_id=api_id))
        [listed] = client.list_apis_v2(models.ListApisV2Request(instance_id=instance_id, id=api_id)).apis
        [version] = client.list_api_versions_v2(models.ListApiVersionsV2Request(
            instance_id=instance_id, api_id=api_id)).api_versions
        version_detail = client.list_api_version_detail_v2(models.ListApiVersionDetailV2Request(
            instance_id=instance_id, version_id=version.version_id))
        return {"detail": detail, "listed": listed, "version": version, "version_detail": version_detail}

    return read


def _datetime_fields(answers) -> list[tuple[object, str]]:
    """(value the SDK gave, stored time) for the fields the SDK types as datetime."""
    return [(answers["detail"].update_time, UPDATE), (answers["detail"].register_time, REGISTER),
            (answers["listed"].update_time, UPDATE), (answers["listed"].register_time, REGISTER),
            (answers["version"].publish_time, PUBLISHED), (answers["version_detail"].publish_time, PUBLISHED),
            (answers["version_detail"].update_time, UPDATE)]


@pytest.mark.parametrize("time_format", UTC_FORMATS)
def test_sdk_parses_utc_time_formats(read_api, emulator, time_format):
    emulator.control.settings(time_format=time_format)
    answers = read_api()
    for value, stored in _datetime_fields(answers):
        assert isinstance(value, datetime)
        assert value.timestamp() == _shown(stored, time_format).timestamp()
    for answer in (answers["detail"], answers["listed"]):
        assert isinstance(answer.publish_time, str)
        assert _instant(answer.publish_time) == _shown(PUBLISHED, time_format)


@pytest.mark.parametrize("time_format", OFFSET_FORMATS)
def test_sdk_keeps_offset_times_as_text(read_api, emulator, time_format):
    emulator.control.settings(time_format=time_format)
    with pytest.warns(TypeConversionWarning):
        answers = read_api()
    for value, stored in _datetime_fields(answers):
        assert isinstance(value, str) and value.endswith(("+08:00", "+0800"))
        assert _instant(value) == _shown(stored, time_format)
    assert _instant(answers["listed"].publish_time) == _shown(PUBLISHED, time_format)


@pytest.mark.parametrize("time_format", ["whole_seconds", "offset"])
def test_other_answers_with_times_still_parse(apig, roma, emulator, time_format):
    emulator.control.settings(time_format=time_format)
    # The module's filter turns any SDK warning into an error unless one is expected here.
    with pytest.warns(TypeConversionWarning) if time_format == "offset" else contextlib.nullcontext():
        published = apig.batch_publish_or_offline_api_v2(apig_models.BatchPublishOrOfflineApiV2Request(
            instance_id=testing.APIG_INSTANCE_ID, action="online",
            body=apig_models.ApiBatchPublish(apis=[LIST_PETS], env_id=testing.RELEASE_ENV_ID)))
        envs = apig.list_environments_v2(apig_models.ListEnvironmentsV2Request(
            instance_id=testing.APIG_INSTANCE_ID))
        backends = roma.list_live_data_api_v2(roma_models.ListLiveDataApiV2Request(
            instance_id=testing.ROMA_INSTANCE_ID))
    expected = datetime if time_format == "whole_seconds" else str
    assert isinstance(published.success[0].publish_time, expected)
    assert all(isinstance(env.create_time, expected) for env in envs.envs)
    assert all(isinstance(api.modified_time, expected) for api in backends.apis)
