"""Time stamps in answers (the time_format setting) and stored times set by hand (times, touch same_second_as)."""

from datetime import datetime, timezone

import pytest
from apig_emulator import testing

RELEASE = testing.RELEASE_ENV_ID
TEST_ENV = "7a1ad0c350844ee69479b47df9a881cb"
GET_PET = "abd9c4b2ff974888b0ba79be7e6b2762"  # published in RELEASE, then TEST, by the seed
LIST_PETS = "3a955b791bd24b1c9cd94c745f8d1aad"  # published in RELEASE by the seed

UPDATE = "2026-11-30T10:00:00.123456Z"
REGISTER = "2026-11-29T20:30:40.000001Z"  # the next day in +08:00
EXPECTED = {
    "fraction": (UPDATE, REGISTER),
    "whole_seconds": ("2026-11-30T10:00:00Z", "2026-11-29T20:30:40Z"),
    "offset": ("2026-11-30T18:00:00.123456+08:00", "2026-11-30T04:30:40.000001+08:00"),
    "offset_whole": ("2026-11-30T18:00:00+08:00", "2026-11-30T04:30:40+08:00"),
    "offset_compact": ("2026-11-30T18:00:00.123456+0800", "2026-11-30T04:30:40.000001+0800"),
    "no_zone": ("2026-11-30T10:00:00.123456", "2026-11-29T20:30:40.000001"),
    "millis3": ("2026-11-30T10:00:00.123Z", "2026-11-29T20:30:40.000Z"),
    "nanos9": ("2026-11-30T10:00:00.123456000Z", "2026-11-29T20:30:40.000001000Z"),
    "fraction8": ("2026-11-30T10:00:00.12345600Z", "2026-11-29T20:30:40.00000100Z"),
}


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _seconds(text: str) -> datetime:
    return _instant(text).replace(microsecond=0)


def _truncated(stored: str, time_format: str) -> datetime:
    """The instant an answer in `time_format` shows for a stored time: truncated, never rounded."""
    moment = _instant(stored)
    if time_format in ("whole_seconds", "offset_whole"):
        return moment.replace(microsecond=0)
    if time_format == "millis3":
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment


@pytest.mark.parametrize("time_format", sorted(EXPECTED))
def test_time_format_renders_answers_not_storage(apig, fresh, time_format):
    fresh.control.set_times(LIST_PETS, update_time=UPDATE, register_time=REGISTER,
                            publications={"RELEASE": "2026-11-30T10:00:01.5Z"})
    apig.publish("online", TEST_ENV, [LIST_PETS])
    stored = fresh.control.times(LIST_PETS)
    fresh.control.settings(time_format=time_format)
    update, register = EXPECTED[time_format]

    detail = apig.api(LIST_PETS)
    listed = next(a for a in apig.get("/apis", id=LIST_PETS).json()["apis"])
    for view in (detail, listed):
        assert (view["update_time"], view["register_time"]) == (update, register)
        parts = view["publish_time"].split("|")
        assert [_instant(p) for p in parts] == [_truncated(p["publish_time"], time_format)
                                                for p in stored["publications"]]
    assert detail["backend_api"]["update_time"] == update

    versions = apig.get(f"/apis/publish/{LIST_PETS}").json()["api_versions"]
    by_env = {p["env_id"]: p["publish_time"] for p in stored["publications"]}
    for version in versions:
        assert _instant(version["publish_time"]) == _truncated(by_env[version["env_id"]], time_format)
        detail = apig.get(f"/apis/versions/{version['version_id']}").json()
        assert detail["publish_time"] == version["publish_time"]
        assert detail["register_time"] == register

    assert fresh.control.times(LIST_PETS) == stored  # storage keeps microseconds and Z
    assert stored["update_time"] == UPDATE


def test_time_format_applies_to_every_time_field(apig, roma, fresh):
    fresh.control.settings(time_format="offset_compact")
    answers = [apig.get("/envs").json(), apig.get("/api-groups").json(), roma.get("/livedata-apis").json(),
               roma.get("/livedata-apis/bd42841c20184da6bbf457c6d8a06e37/deploy").json(),
               apig.publish("online", TEST_ENV, [LIST_PETS])]
    found = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key.endswith("_time") and isinstance(item, str) and item:
                    found.append(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(answers)
    assert len(found) > 10
    assert all(stamp.endswith("+0800") for stamp in found), found


def test_unknown_time_format_is_refused(fresh):
    with pytest.raises(RuntimeError, match="time_format"):
        fresh.control.settings(time_format="rfc2822")
    assert fresh.control.settings()["time_format"] == "fraction"


def test_set_times_accepts_any_iso_form_and_keeps_oldest_first(apig, fresh):
    result = fresh.control.set_times(GET_PET, update_time="2026-11-30T17:59:59.1+08:00",
                                     publications={"RELEASE": "2026-11-30T10:00:03", TEST_ENV: "2026-11-30T10:00:02Z"})
    assert result["update_time"] == "2026-11-30T09:59:59.100000Z"
    assert [(p["env_name"], p["publish_time"]) for p in result["publications"]] == [
        ("TEST", "2026-11-30T10:00:02.000000Z"), ("RELEASE", "2026-11-30T10:00:03.000000Z")]
    detail = apig.api(GET_PET)
    assert detail["publish_time"] == "2026-11-30T10:00:02.000000Z|2026-11-30T10:00:03.000000Z"
    assert detail["run_env_id"] == f"{TEST_ENV}|{RELEASE}"
    versions = {v["env_id"]: v["publish_time"] for v in apig.get(f"/apis/publish/{GET_PET}").json()["api_versions"]}
    assert versions == {RELEASE: "2026-11-30T10:00:03.000000Z", TEST_ENV: "2026-11-30T10:00:02.000000Z"}


def test_times_set_by_hand_stay_in_the_past(apig, fresh):
    """A publication after a time set in the future is still later than it."""
    fresh.control.set_times(LIST_PETS, update_time="2099-01-01T00:00:00Z")
    [success] = apig.publish("online", RELEASE, [LIST_PETS])["success"]
    assert success["publish_time"] > "2099-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("body", [
    {"update_time": "yesterday"},
    {"publications": {"pre-prod": "2026-11-30T10:00:00Z"}},  # not published there
    {"publications": {"nowhere": "2026-11-30T10:00:00Z"}},
    {"publications": ["RELEASE"]},
    {"publish_time": "2026-11-30T10:00:00Z"},
])
def test_set_times_refuses_bad_bodies(fresh, body):
    with pytest.raises(RuntimeError, match=": 400 "):
        fresh.control.call("POST", f"apis/{LIST_PETS}/times", body)


def test_set_times_of_an_unknown_api_is_404(fresh):
    with pytest.raises(RuntimeError, match=": 404 "):
        fresh.control.call("POST", f"apis/{'0' * 32}/times", {"update_time": UPDATE})


def test_imported_and_published_in_the_same_second_untouched_since(apig, fresh):
    fresh.control.set_times(LIST_PETS, update_time="2026-11-30T10:00:00.100000Z",
                            publications={"RELEASE": "2026-11-30T10:00:00.300000Z"})
    fresh.control.settings(time_format="whole_seconds")
    detail = apig.api(LIST_PETS)
    assert detail["update_time"] == detail["publish_time"] == "2026-11-30T10:00:00Z"
    [version] = apig.get(f"/apis/publish/{LIST_PETS}", env_id=RELEASE).json()["api_versions"]
    published = apig.get(f"/apis/versions/{version['version_id']}").json()
    # The published definition is the current one, update_time included.
    for key in ("name", "req_uri", "req_method", "remark", "update_time", "register_time"):
        assert published[key] == detail[key]

    fresh.control.settings(time_format="fraction")
    assert apig.api(LIST_PETS)["update_time"] < apig.api(LIST_PETS)["publish_time"]
    fresh.control.set_times(LIST_PETS, update_time="2026-11-30T10:00:00.300000Z")  # equal is possible too
    assert apig.api(LIST_PETS)["update_time"] == apig.api(LIST_PETS)["publish_time"]


@pytest.mark.parametrize("fraction, moved", [(".200000", False), (".950000", True)])
def test_edit_in_the_same_second_after_the_publication(apig, fresh, fraction, moved):
    publish_time = f"2026-11-30T10:00:05{fraction}Z"
    fresh.control.set_times(GET_PET, update_time="2026-11-30T09:00:00Z",
                            publications={"TEST": publish_time, "RELEASE": "2026-11-30T09:30:00Z"})
    touched = fresh.control.touch(GET_PET, same_second_as="TEST", remark="edited")
    assert touched["update_time"] == "2026-11-30T10:00:05.900000Z"
    assert touched["remark"] == "edited"
    times = fresh.control.times(GET_PET)
    test_publication = next(p for p in times["publications"] if p["env_name"] == "TEST")
    assert test_publication["publish_time"] == ("2026-11-30T10:00:05.200000Z" if moved else publish_time)
    assert test_publication["publish_time"] < times["update_time"]
    assert _seconds(test_publication["publish_time"]) == _seconds(times["update_time"])

    fresh.control.settings(time_format="whole_seconds")
    detail = apig.api(GET_PET)
    assert detail["update_time"] == "2026-11-30T10:00:05Z" == detail["publish_time"].split("|")[-1]
    [version] = apig.get(f"/apis/publish/{GET_PET}", env_id=TEST_ENV).json()["api_versions"]
    assert version["publish_time"] == "2026-11-30T10:00:05Z"
    published = apig.get(f"/apis/versions/{version['version_id']}").json()
    assert published["remark"] != "edited"  # the definition running in TEST predates the edit
    assert published["update_time"] <= version["publish_time"]


def test_same_second_needs_a_publication_there(fresh):
    with pytest.raises(RuntimeError, match=": 400 "):
        fresh.control.touch(LIST_PETS, same_second_as="TEST")
    with pytest.raises(RuntimeError, match=": 400 "):
        fresh.control.touch(LIST_PETS, same_second_as="RELEASE", update_time="2026-11-30T10:00:00Z")
