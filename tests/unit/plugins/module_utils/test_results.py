"""Per-item results: order, summary, partial results, and the failure message."""

import pytest

from ansible_collections.hwc.apig.plugins.module_utils import results

RESULTS = ("published", "unchanged", "failed")


def make():
    return results.ItemResults("apis", "APIs", RESULTS, ("published",))


def test_entries_follow_the_expected_order_whatever_order_outcomes_arrive_in():
    items = make()
    items.expect(["a", "b", "c"])
    items.set("c", {"result": "failed"})
    items.set("a", {"result": "published"})
    items.set("b", {"result": "unchanged"})
    assert [entry["result"] for entry in items.entries] == ["published", "unchanged", "failed"]


def test_an_id_expected_twice_keeps_its_first_place_and_one_entry():
    items = make()
    items.expect(["a", "b", "a"])
    items.expect(["b", "c"])
    for item_id in ("a", "b", "c"):
        items.set(item_id, {"id": item_id, "result": "unchanged"})
    items.set("a", {"id": "a", "result": "published"})  # a later outcome replaces the earlier one
    assert [entry["id"] for entry in items.entries] == ["a", "b", "c"]
    assert items.get("a")["result"] == "published"
    assert items.summary() == {"published": 1, "unchanged": 2, "failed": 0}


def test_an_outcome_for_an_id_not_expected_goes_last():
    items = make()
    items.expect(["a", "b"])
    items.set("z", {"id": "z", "result": "unchanged"})
    items.set("a", {"id": "a", "result": "unchanged"})
    assert [entry["id"] for entry in items.entries] == ["a", "z"]


def test_expected_ids_without_an_outcome_are_left_out():
    items = make()
    items.expect(["a", "b", "c"])
    items.set("b", {"result": "published"})
    assert items.entries == [{"result": "published"}]
    assert items.changed()


def test_an_unknown_result_is_refused():
    with pytest.raises(ValueError):
        make().set("a", {"result": "done"})


def test_many_items_keep_their_order():
    items = make()
    ids = ["%032x" % (number * 7919) for number in range(5000)]
    items.expect(ids)
    items.expect(reversed(ids))
    for item_id in reversed(ids):
        items.set(item_id, {"id": item_id, "result": "unchanged"})
    assert [entry["id"] for entry in items.entries] == ids
    assert items.summary()["unchanged"] == 5000
