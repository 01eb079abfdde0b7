"""Orders nobody documents, varied on purpose: export key order, listing order, |-joined field order."""

import json

import pytest
import yaml
from apig_emulator import testing
from openapi_spec_validator import validate

RELEASE = testing.RELEASE_ENV_ID
TEST_ENV = "7a1ad0c350844ee69479b47df9a881cb"
PRE_PROD = "4f5e6d7c8b9a40b1a2c3d4e5f6a7b8c9"
PETSTORE = "c77f5e81d9cb4424bf704ef2b0ac7600"
GET_PET = "abd9c4b2ff974888b0ba79be7e6b2762"


def _key_orders(value) -> list:
    """Every mapping's key sequence, depth first: what a shuffle changes and a parser ignores."""
    if isinstance(value, dict):
        return [list(value)] + [order for item in value.values() for order in _key_orders(item)]
    if isinstance(value, list):
        return [order for item in value for order in _key_orders(item)]
    return []


def _sync_export(apig, fmt="json"):
    response = apig.post("/openapi/export", {"group_id": PETSTORE, "env_id": RELEASE, "define": "dev",
                                             "type": fmt, "version": "1.0.0"}, oas_version="3.0")
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_shuffle_changes_order_not_meaning(apig, fresh, fmt):
    plain = _sync_export(apig, fmt)
    fresh.control.settings(export_shuffle=True)
    shuffled = [_sync_export(apig, fmt) for _call in range(8)]
    parse = json.loads if fmt == "json" else yaml.safe_load
    assert all(parse(content) == parse(plain) for content in shuffled)
    assert len(set(shuffled + [plain])) == 9
    assert len({tuple(parse(content)["paths"]) for content in shuffled}) > 1
    assert len({tuple(parse(content)["paths"]["/pets"]) for content in shuffled}) > 1  # operations
    for content in shuffled:
        validate(parse(content))


def test_export_shuffle_is_seeded(apig, fresh):
    def run(seed):
        fresh.control.reset()
        fresh.control.settings(export_shuffle=True, shuffle_seed=seed)
        return [_sync_export(apig) for _call in range(3)]

    first = run(5)
    assert first == run(5)
    assert first != run(6)


def test_async_export_content_is_shuffled_too(apig, fresh):
    fresh.control.settings(export_shuffle=True, task_seconds=0)
    documents = []
    for _call in range(4):
        task_id = apig.post("/openapi/async-export", {"env_id": RELEASE, "group_id": PETSTORE,
                                                      "version": "1.0.0"}).json()["task_id"]
        documents.append(json.loads(apig.get(f"/async-tasks/{task_id}").json()["task_result"])["content"])
    assert len({json.dumps(_key_orders(json.loads(doc))) for doc in documents}) > 1
    assert all(json.loads(doc) == json.loads(documents[0]) for doc in documents)


def test_livedata_export_is_shuffled_too(roma, fresh):
    def export():
        response = roma.post("/openapi/livedata-apis/export", {"format": "json"})
        document = json.loads(response.content)
        document["info"].pop("version")  # the export time
        return document

    plain = export()
    fresh.control.settings(export_shuffle=True)
    shuffled = [export() for _call in range(5)]
    assert all(document == plain for document in shuffled)
    assert len({json.dumps(_key_orders(document)) for document in shuffled}) > 1


def test_list_shuffle_keeps_each_page_and_changes_its_order(apig, fresh):
    fresh.control.create_apis(testing.APIG_INSTANCE_ID, {"group": "orders", "count": 60, "prefix": "bulk-"})
    plain = [apig.get("/apis", offset=offset, limit=25).json()["apis"] for offset in (0, 25, 50)]
    fresh.control.settings(list_shuffle=True)
    orders = set()
    for _call in range(4):
        pages = [apig.get("/apis", offset=offset, limit=25).json() for offset in (0, 25, 50)]
        assert [{a["id"] for a in page["apis"]} for page in pages] == [{a["id"] for a in p} for p in plain]
        assert [page["total"] for page in pages] == [68] * 3
        orders.add(tuple(a["id"] for page in pages for a in page["apis"]))
    assert len(orders) > 1


def test_list_shuffle_covers_the_other_listings(apig, fresh):
    for _publication in range(4):
        apig.publish("online", RELEASE, [GET_PET])
    fresh.control.settings(list_shuffle=True)
    version_orders = {tuple(v["version_id"] for v in apig.get(f"/apis/publish/{GET_PET}").json()["api_versions"])
                      for _call in range(6)}
    env_orders = {tuple(e["id"] for e in apig.get("/envs").json()["envs"]) for _call in range(6)}
    assert len(version_orders) > 1 and len(env_orders) > 1


def test_joined_order_newest_first_keeps_the_fields_aligned(apig, fresh):
    apig.publish("online", PRE_PROD, [GET_PET])
    oldest_first = apig.api(GET_PET)
    fresh.control.settings(joined_order="newest_first")
    newest_first = apig.api(GET_PET)
    assert newest_first["run_env_id"] == f"{PRE_PROD}|{TEST_ENV}|{RELEASE}"
    for field in ("run_env_id", "run_env_name", "publish_id", "publish_time"):
        assert newest_first[field].split("|") == oldest_first[field].split("|")[::-1]
    listed = apig.get("/apis", id=GET_PET).json()["apis"][0]
    assert listed["run_env_name"] == "pre-prod|TEST|RELEASE"


@pytest.mark.parametrize("changes", [{"export_shuffle": "yes"}, {"list_shuffle": 1}, {"joined_order": "random"},
                                     {"shuffle_seed": "x"}])
def test_order_settings_are_validated(fresh, changes):
    with pytest.raises(RuntimeError, match=": 400 "):
        fresh.control.settings(**changes)


def test_reset_restores_plain_orders(apig, fresh):
    fresh.control.settings(export_shuffle=True, list_shuffle=True, joined_order="newest_first")
    fresh.control.reset()
    assert _sync_export(apig) == _sync_export(apig)
    assert apig.api(GET_PET)["run_env_id"] == f"{RELEASE}|{TEST_ENV}"
