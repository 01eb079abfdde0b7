"""Publication state from ListApisV2 items and the publish/offline decisions."""

import pytest

from ansible_collections.hwc.apig.plugins.module_utils import publication as pub

ENV = "DEFAULT_ENVIRONMENT_RELEASE_ID"
TEST_ENV = "7a1ad0c350d24ac6a5ba0c4b0e11c1a0"


def api(update_time="2026-11-20T10:00:00Z", **fields):
    item = {"id": "a" * 32, "name": "list-orders", "update_time": update_time}
    item.update(fields)
    return item


def published_in_both(release_time="2026-11-21T10:00:00Z", test_time="2026-11-19T10:00:00Z", **fields):
    joined = {"run_env_id": "%s|%s" % (ENV, TEST_ENV), "run_env_name": "RELEASE|TEST",
              "publish_id": "p-release|p-test", "publish_time": "%s|%s" % (release_time, test_time)}
    joined.update(fields)
    return api(**joined)


@pytest.mark.parametrize("text, expected", [
    ("2020-08-03T03:01:31Z", (1596423691, 0)),
    ("2020-08-03T03:01:31.26522821Z", (1596423691, 265228210)),
    ("2020-08-03 03:01:31", (1596423691, 0)),
    ("2020-08-03T11:01:31+08:00", (1596423691, 0)),
    ("2020-08-03T11:01:31.5+0800", (1596423691, 500000000)),
    ("2020-08-02T22:01:31-05:00", (1596423691, 0)),
    (1596423691265, (1596423691, 265000000)),
    ("yesterday", None),
    ("", None),
    (None, None),
])
def test_parse_time_formats(text, expected):
    assert pub.parse_time(text) == expected


def test_parse_time_orders_beyond_microseconds():
    assert pub.parse_time("2020-08-03T03:01:31.1234567Z") > pub.parse_time("2020-08-03T03:01:31.1234566Z")


def test_publications_split_joined_fields():
    found = pub.publications(published_in_both())
    assert set(found) == {ENV, TEST_ENV}
    assert found[TEST_ENV] == {"env_id": TEST_ENV, "env_name": "TEST", "publish_id": "p-test",
                               "publish_time": "2026-11-19T10:00:00Z"}


def test_publications_of_unpublished_api():
    assert pub.publications(api()) == {}
    assert pub.publications(api(run_env_id="", run_env_name="", publish_id="", publish_time="")) == {}


def test_publications_tolerate_short_joined_lists():
    found = pub.publications(api(run_env_id="%s|%s" % (ENV, TEST_ENV), publish_time="2026-11-19T10:00:00Z"))
    assert found[TEST_ENV]["publish_time"] is None
    assert found[ENV]["publish_time"] == "2026-11-19T10:00:00Z"


def test_not_published_is_published():
    assert pub.decide(api(), ENV, "published") == pub.PUBLISHED


def test_published_before_the_edit_is_republished_per_environment():
    item = published_in_both(update_time="2026-11-20T10:00:00Z")
    assert pub.decide(item, ENV, "published") == pub.UNCHANGED       # published after the edit
    assert pub.decide(item, TEST_ENV, "published") == pub.REPUBLISHED  # published before the edit


def test_same_whole_second_cannot_be_decided_from_the_listing():
    # An import and a publication in the same second, or an edit right after it: only the gateway knows.
    item = published_in_both(update_time="2026-11-21T10:00:00Z")
    assert pub.decide(item, ENV, "published") == pub.UNDECIDED


def test_same_instant_with_microseconds_is_unchanged():
    item = published_in_both(release_time="2026-11-21T10:00:00.250000Z", update_time="2026-11-21T10:00:00.250000Z")
    assert pub.decide(item, ENV, "published") == pub.UNCHANGED


def test_force_republishes_unchanged():
    assert pub.decide(published_in_both(), ENV, "published", force=True) == pub.REPUBLISHED


def test_unreadable_time_asks_the_gateway_instead_of_republishing():
    item = published_in_both(release_time="soon")
    assert pub.decide(item, ENV, "published") == pub.UNDECIDED


def test_offline_decisions():
    assert pub.decide(published_in_both(), TEST_ENV, "offline") == pub.TAKEN_OFFLINE
    assert pub.decide(api(), TEST_ENV, "offline") == pub.UNCHANGED
    assert pub.decide(published_in_both(), "other-env", "offline", force=True) == pub.UNCHANGED


def test_action_for_results():
    assert pub.action_for(pub.PUBLISHED) == "online"
    assert pub.action_for(pub.REPUBLISHED) == "online"
    assert pub.action_for(pub.TAKEN_OFFLINE) == "offline"


def test_applied_after_ambiguous_write():
    before = api()
    after = published_in_both()
    assert pub.applied(pub.PUBLISHED, before, after, ENV)
    assert not pub.applied(pub.PUBLISHED, before, before, ENV)
    republished = published_in_both(release_time="2026-11-22T10:00:00Z", publish_id="p-new|p-test")
    assert pub.applied(pub.REPUBLISHED, after, republished, ENV)
    assert not pub.applied(pub.REPUBLISHED, after, after, ENV)
    assert pub.applied(pub.TAKEN_OFFLINE, after, api(), ENV)
    assert pub.applied(pub.TAKEN_OFFLINE, after, None, ENV)  # the API itself is gone
    assert not pub.applied(pub.TAKEN_OFFLINE, after, after, ENV)


def test_whole_second_times_compare_by_second_and_tie_within_it():
    # Published at 10:00:00.2, edited at 10:00:00.9, one side shown without fraction: a tie, not "unchanged".
    item = published_in_both(release_time="2026-11-21T10:00:00Z", update_time="2026-11-21T10:00:00.900Z")
    assert pub.decide(item, ENV, "published") == pub.UNDECIDED
    edited_first = published_in_both(release_time="2026-11-21T10:00:00.200Z", update_time="2026-11-21T10:00:00Z")
    assert pub.decide(edited_first, ENV, "published") == pub.UNDECIDED
    later = published_in_both(release_time="2026-11-21T10:00:00Z", update_time="2026-11-21T10:00:01.100Z")
    assert pub.decide(later, ENV, "published") == pub.REPUBLISHED
    earlier = published_in_both(release_time="2026-11-21T10:00:00Z", update_time="2026-11-21T09:59:59.900Z")
    assert pub.decide(earlier, ENV, "published") == pub.UNCHANGED


@pytest.mark.parametrize("update_time, release_time, expected", [
    # offsets, compact offsets, no zone, epoch milliseconds, 0 to 9 fraction digits
    ("2026-11-21T18:00:01+08:00", "2026-11-21T10:00:00.5Z", pub.REPUBLISHED),
    ("2026-11-21T17:59:59+0800", "2026-11-21T10:00:00Z", pub.UNCHANGED),
    ("2026-11-21 10:00:02", "2026-11-21T18:00:01.123456789+08:00", pub.REPUBLISHED),
    (1795255200000, "2026-11-21T10:00:00.500Z", pub.UNCHANGED),
    ("1795255201500", "2026-11-21T10:00:01.400Z", pub.REPUBLISHED),
    ("2026-11-21T10:00:00.1234567Z", "2026-11-21T10:00:00.1234560Z", pub.REPUBLISHED),
    ("2026-11-21T10:00:00.12Z", "2026-11-21T10:00:00.12Z", pub.UNDECIDED),
    ("2026-11-21T10:00:00.120000Z", "2026-11-21T10:00:00.120000Z", pub.UNCHANGED),
    ("yesterday", "2026-11-21T10:00:00Z", pub.UNDECIDED),
])
def test_time_formats(update_time, release_time, expected):
    item = published_in_both(release_time=release_time, update_time=update_time)
    assert pub.decide(item, ENV, "published") == expected


def test_applied_when_only_the_publish_time_moves():
    before = published_in_both()
    after = published_in_both(release_time="2026-11-22T10:00:00Z")  # same publish_id, new time
    assert pub.applied(pub.REPUBLISHED, before, after, ENV)


def test_joined_fields_with_spaces():
    found = pub.publications(api(run_env_id="%s | %s" % (ENV, TEST_ENV), publish_time="t1 | t2"))
    assert set(found) == {ENV, TEST_ENV} and found[TEST_ENV]["publish_time"] == "t2"
