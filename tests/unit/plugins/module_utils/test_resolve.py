# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Name-or-ID resolution: exact matches only, helpful errors, and as few reads as possible."""

import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from ansible_collections.hwc.apig.plugins.module_utils import client, resolve

PROJECT = "0123456789abcdef0123456789abcdef"
INSTANCE = "eddc4d25480b4cd6b512f270a1b8b341"
ENDPOINT = "https://apig.cn-north-4.myhuaweicloud.com"
BASE = ENDPOINT + "/v2/%s/apigw/instances/%s" % (PROJECT, INSTANCE)
GROUP_ID = "c77f5e81d9cb4424bf704ef2b0ac7600"
OTHER_ID = "0f3c1d2e3f4a5b6c7d8e9f0a1b2c3d4e"


def make_client(retries=0):
    policy = client.RetryPolicy(retries, sleep=lambda seconds: None, rand=lambda: 0.5)
    return client.ApigClient(ENDPOINT, PROJECT, INSTANCE, "apig", client.TokenAuth("t"), retry_policy=policy)


def made():
    """(path after the instance, decoded query) of every request made."""
    result = []
    for call in responses.calls:
        parts = urlsplit(call.request.url)
        result.append((parts.path.split(INSTANCE, 1)[1], dict(parse_qsl(parts.query))))
    return result


def listing(key, items):
    return {"total": len(items), "size": len(items), key: items}


# -- match ---------------------------------------------------------------------------------------

ENVS = [
    {"id": "RELEASE", "name": "staging"},
    {"id": "env-2", "name": "RELEASE"},
    {"id": "env-3", "name": "prod"},
]


def test_exact_id_wins_over_a_name():
    assert resolve.match("environment", "RELEASE", ENVS) is ENVS[0]


def test_exact_name_match():
    assert resolve.match("environment", "prod", ENVS) is ENVS[2]
    assert resolve.match("environment", "env-3", ENVS) is ENVS[2]


def test_no_fuzzy_or_case_insensitive_match():
    for value in ("Prod", "prod ", "pro", "release"):
        with pytest.raises(resolve.ResolveError):
            resolve.match("environment", value, ENVS)


def test_not_found_lists_close_candidates_first():
    items = [{"id": str(i), "name": name} for i, name in enumerate(
        ["alpha", "beta", "orders-api", "gamma", "orders-apis", "delta", "order-api"])]
    with pytest.raises(resolve.ResolveError) as caught:
        resolve.match("API", "orders-ap", items)
    message = str(caught.value)
    assert message.startswith("API 'orders-ap' not found; candidates: ")
    shown = message.split("candidates: ", 1)[1].split(", ")
    assert set(shown[:3]) == {"orders-api", "orders-apis", "order-api"}
    assert shown[3:] == ["alpha", "beta", "delta", "gamma"]
    assert isinstance(caught.value, client.ApigError)


def test_not_found_caps_the_candidate_list():
    items = [{"id": str(i), "name": "api-%02d" % i} for i in range(25)]
    with pytest.raises(resolve.ResolveError, match=r"candidates: .* and 15 more$"):
        resolve.match("API", "zzz", items)
    with pytest.raises(resolve.ResolveError, match=r"candidates: none$"):
        resolve.match("API", "zzz", [])


def test_ambiguous_name_lists_each_match_with_its_id():
    items = [
        {"id": "id-1", "name": "orders", "group_name": "shop"},
        {"id": "id-2", "name": "orders", "group_name": "legacy"},
        {"id": "id-3", "name": "users", "group_name": "shop"},
    ]
    with pytest.raises(resolve.ResolveError) as caught:
        resolve.match("API", "orders", items, context_key="group_name")
    message = str(caught.value)
    assert "'orders' is ambiguous" in message
    assert "orders (id-1) in shop" in message
    assert "orders (id-2) in legacy" in message
    assert "id-3" not in message
    assert "give the ID instead" in message
    # Giving the ID settles it.
    assert resolve.match("API", "id-2", items)["group_name"] == "legacy"


def test_match_all_reports_every_bad_value_at_once():
    items = [
        {"id": "id-1", "name": "orders"},
        {"id": "id-2", "name": "orders"},
        {"id": "id-3", "name": "users"},
    ]
    with pytest.raises(resolve.ResolveError) as caught:
        resolve.match_all("API", ["users", "orders", "nope", "id-1", "missing"], items)
    message = str(caught.value)
    assert "'orders' is ambiguous" in message
    assert "'nope' not found" in message
    assert "'missing' not found" in message
    assert message.count("; ") >= 2


def test_match_all_keeps_order_and_drops_duplicates():
    items = [{"id": "id-1", "name": "orders"}, {"id": "id-3", "name": "users"}]
    assert [item["id"] for item in resolve.match_all("API", ["users", "id-1", "orders", "id-3"], items)] == [
        "id-3", "id-1"]
    assert resolve.match_all("API", [], items) == []


# -- reads ---------------------------------------------------------------------------------------

@responses.activate
def test_find_group_by_id_or_name_uses_one_unfiltered_listing():
    groups = [{"id": OTHER_ID, "name": "shop-legacy"}, {"id": GROUP_ID, "name": "shop"}, {"id": "grp-3", "name": "x"}]
    responses.add(responses.GET, BASE + "/api-groups", json=listing("groups", groups))
    for value, expected in ((GROUP_ID, GROUP_ID), ("shop", GROUP_ID), ("grp-3", "grp-3"), ("shop-legacy", OTHER_ID)):
        responses.calls.reset()
        assert resolve.find_group(make_client(), value)["id"] == expected
        # No server-side name filter: it is fuzzy, and an ID in any format must match too.
        assert made() == [("/api-groups", {"offset": "0", "limit": "500"})]


@responses.activate
def test_find_group_name_with_two_exact_matches_is_ambiguous():
    responses.add(responses.GET, BASE + "/api-groups", json=listing("groups", [
        {"id": OTHER_ID, "name": "shop"}, {"id": GROUP_ID, "name": "shop"}]))
    with pytest.raises(resolve.ResolveError) as caught:
        resolve.find_group(make_client(), "shop")
    assert "shop (%s)" % OTHER_ID in str(caught.value)
    assert "shop (%s)" % GROUP_ID in str(caught.value)
    assert "give the ID instead" in str(caught.value)
    assert len(responses.calls) == 1


@responses.activate
def test_find_group_not_found_names_the_candidates():
    responses.add(responses.GET, BASE + "/api-groups", json=listing("groups", [
        {"id": OTHER_ID, "name": "shop"}, {"id": "x", "name": "payments"}]))
    with pytest.raises(resolve.ResolveError) as caught:
        resolve.find_group(make_client(), GROUP_ID)
    assert "API group %r not found; candidates: payments, shop" % GROUP_ID == str(caught.value)


@responses.activate
def test_find_group_errors_propagate():
    responses.add(responses.GET, BASE + "/api-groups", status=403,
                  json={"error_code": "APIG.1005", "error_msg": "No permissions to request this method"})
    with pytest.raises(client.ApigError) as caught:
        resolve.find_group(make_client(), GROUP_ID)
    assert not isinstance(caught.value, resolve.ResolveError)
    assert caught.value.status == 403
    assert len(responses.calls) == 1


@responses.activate
def test_find_environment_reads_every_page():
    envs = [{"id": "env-%d" % i, "name": "env %d" % i} for i in range(700)]

    def callback(request):
        query = dict(parse_qsl(urlsplit(request.url).query))
        offset, limit = int(query["offset"]), int(query["limit"])
        return 200, {}, json.dumps(dict(listing("envs", envs[offset:offset + limit]), total=len(envs)))

    responses.add_callback(responses.GET, BASE + "/envs", callback=callback)
    assert resolve.find_environment(make_client(), "env 650")["id"] == "env-650"
    assert [query["offset"] for _path, query in made()] == ["0", "500"]


@responses.activate
def test_list_apis_filters_by_group():
    responses.add(responses.GET, BASE + "/apis", json=listing("apis", [{"id": "a"}]))
    assert resolve.list_apis(make_client(), GROUP_ID) == [{"id": "a"}]
    assert resolve.list_apis(make_client()) == [{"id": "a"}]
    assert made() == [
        ("/apis", {"group_id": GROUP_ID, "offset": "0", "limit": "500"}),
        ("/apis", {"offset": "0", "limit": "500"}),
    ]


@responses.activate
def test_find_backend_apis():
    responses.add(responses.GET, BASE + "/livedata-apis", json=listing("apis", [
        {"id": "ld-1", "name": "orders"}, {"id": "ld-2", "name": "users"}]))
    found = resolve.find_backend_apis(make_client(), ["users", "ld-1"])
    assert [item["id"] for item in found] == ["ld-2", "ld-1"]
    with pytest.raises(resolve.ResolveError, match="custom backend API 'gone' not found"):
        resolve.find_backend_apis(make_client(), ["gone"])
    assert [path for path, _query in made()] == ["/livedata-apis", "/livedata-apis"]
