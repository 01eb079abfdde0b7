"""API definition documents: parsing, the semantic summary, operation changes, serialisation, diffs."""

import json

import pytest
import yaml

from ansible_collections.hwc.apig.plugins.module_utils import documents


def swagger(version="2026-11-22 10:00:00", **paths):
    if not paths:
        paths = {
            "/orders": {
                "get": {"operationId": "list-orders", "responses": {"200": {"description": "OK"}}},
                "post": {"operationId": "create-order", "responses": {"200": {"description": "OK"}}},
            },
            "/orders/{orderId}": {
                "parameters": [{"name": "orderId", "in": "path", "required": True, "type": "string"}],
                "get": {"operationId": "get-order", "responses": {"200": {"description": "OK"}}},
            },
        }
    return {"swagger": "2.0", "info": {"title": "orders", "version": version}, "basePath": "/", "paths": paths}


def reversed_keys(value):
    """The same document with the keys of every mapping in reverse order."""
    if isinstance(value, dict):
        return dict((key, reversed_keys(value[key])) for key in reversed(list(value)))
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return str(path)


def summary_of(tmp_path, doc, fmt="json", ignore_version=True, name=None):
    text = json.dumps(doc, indent=2) if fmt == "json" else yaml.safe_dump(doc, sort_keys=False)
    return documents.load_summary(write(tmp_path, name or ("doc." + fmt), text), fmt, ignore_version)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_version_stamp_and_key_order_do_not_count(tmp_path, fmt):
    first = summary_of(tmp_path, swagger("2026-11-22 10:00:00"), fmt, name="a")
    second = summary_of(tmp_path, reversed_keys(swagger("2026-11-22 10:00:05")), fmt, name="b")
    assert first.same_as(second)
    assert first.api_count == second.api_count == 3
    assert documents.changes(first, second) == documents.no_changes()


def test_version_counts_when_asked(tmp_path):
    first = summary_of(tmp_path, swagger("1.0.0"), ignore_version=False, name="a")
    second = summary_of(tmp_path, swagger("1.0.1"), ignore_version=False, name="b")
    assert not first.same_as(second)
    # The stamp is not an operation: nothing moved.
    assert documents.changes(first, second) == documents.no_changes()


def test_list_order_counts(tmp_path):
    doc = swagger()
    doc["paths"]["/orders"]["get"]["tags"] = ["a", "b"]
    other = swagger()
    other["paths"]["/orders"]["get"]["tags"] = ["b", "a"]
    first, second = summary_of(tmp_path, doc, name="a"), summary_of(tmp_path, other, name="b")
    assert not first.same_as(second)
    assert documents.changes(first, second)["modified"] == [{"method": "GET", "path": "/orders", "name": "list-orders"}]


def test_added_removed_modified(tmp_path):
    before = swagger()
    after = swagger()
    del after["paths"]["/orders"]["post"]
    after["paths"]["/orders"]["get"]["summary"] = "List orders"
    after["paths"]["/refunds"] = {"x-apigateway-any-method": {"operationId": "refunds"}}
    changes = documents.changes(summary_of(tmp_path, before, name="a"), summary_of(tmp_path, after, name="b"))
    assert changes == {
        "added": [{"method": "ANY", "path": "/refunds", "name": "refunds"}],
        "removed": [{"method": "POST", "path": "/orders", "name": "create-order"}],
        "modified": [{"method": "GET", "path": "/orders", "name": "list-orders"}],
    }


def test_path_level_fields_belong_to_each_operation(tmp_path):
    after = swagger()
    after["paths"]["/orders/{orderId}"]["parameters"][0]["type"] = "integer"
    changes = documents.changes(summary_of(tmp_path, swagger(), name="a"), summary_of(tmp_path, after, name="b"))
    assert changes["modified"] == [{"method": "GET", "path": "/orders/{orderId}", "name": "get-order"}]


def test_change_outside_operations_is_a_change_without_api_changes(tmp_path):
    after = swagger()
    after["securityDefinitions"] = {"apig-auth-app": {"type": "apiKey", "name": "Authorization", "in": "header"}}
    first, second = summary_of(tmp_path, swagger(), name="a"), summary_of(tmp_path, after, name="b")
    assert not first.same_as(second)
    assert documents.changes(first, second) == documents.no_changes()


def test_operation_without_id_has_no_name(tmp_path):
    doc = swagger(**{"/ping": {"head": {"responses": {}}}})
    added = documents.changes(summary_of(tmp_path, swagger(), name="a"), summary_of(tmp_path, doc, name="b"))["added"]
    assert added == [{"method": "HEAD", "path": "/ping"}]


def test_yaml_numbers_as_keys_equal_json_text_keys(tmp_path):
    as_json = write(tmp_path, "a.json", json.dumps(swagger()))
    as_yaml = write(tmp_path, "b.yaml", "swagger: '2.0'\ninfo: {title: orders, version: x}\nbasePath: /\npaths:\n"
                    "  /orders:\n    get:\n      operationId: list-orders\n      responses:\n        200: {description: OK}\n"
                    "    post:\n      operationId: create-order\n      responses:\n        200: {description: OK}\n"
                    "  /orders/{orderId}:\n    parameters: [{name: orderId, in: path, required: true, type: string}]\n"
                    "    get:\n      operationId: get-order\n      responses:\n        200: {description: OK}\n")
    from_json = documents.load_summary(as_json, "yaml")
    from_yaml = documents.load_summary(as_yaml, "yaml")
    # Same definitions; the files are written differently, which does count.
    assert documents.changes(from_json, from_yaml) == documents.no_changes()
    assert from_json.syntax == "json" and from_yaml.syntax == "yaml"
    assert not from_json.same_as(from_yaml)


def test_yaml_timestamps_and_binary_are_hashable(tmp_path):
    path = write(tmp_path, "a.yaml", "swagger: '2.0'\ninfo: {title: t, version: 2026-11-22 10:00:00}\n"
                 "x-when: 2026-11-22\nx-blob: !!binary aGVsbG8=\nx-set: !!set {b: null, a: null}\npaths: {}\n")
    summary = documents.load_summary(path, "yaml", ignore_version=False)
    assert summary.api_count == 0 and len(summary.digest) == 40


@pytest.mark.parametrize("text, fmt", [
    ("not json at all", "json"),
    ('{"swagger": "2.0", "paths": ', "json"),
    ("swagger: '2.0'\npaths: {", "yaml"),
    ("- a list\n- not a document\n", "yaml"),
    ("just text", "yaml"),
    (b"\xff\xfe\x00garbage", "json"),
])
def test_what_does_not_parse_is_a_document_error(tmp_path, text, fmt):
    with pytest.raises(documents.DocumentError):
        documents.load_summary(write(tmp_path, "bad", text), fmt)


def test_yaml_file_is_not_read_as_json(tmp_path):
    with pytest.raises(documents.DocumentError, match="not a JSON document"):
        documents.load_summary(write(tmp_path, "a", "swagger: '2.0'\npaths: {}\n"), "json")


def test_missing_file_is_a_document_error(tmp_path):
    with pytest.raises(documents.DocumentError, match="cannot read"):
        documents.load_summary(str(tmp_path / "absent.json"), "json")


def test_yaml_missing_is_reported_only_for_yaml(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "HAS_YAML", False)
    monkeypatch.setattr(documents, "YAML_IMPORT_ERROR", ImportError("No module named 'yaml'"))
    assert documents.load_summary(write(tmp_path, "a.json", json.dumps(swagger())), "yaml").api_count == 3
    with pytest.raises(documents.YamlMissing, match="PyYAML"):
        documents.load_summary(write(tmp_path, "b.yaml", "swagger: '2.0'\n"), "yaml")
    with pytest.raises(documents.YamlMissing):
        documents.dump({"a": 1}, "yaml")


def test_byte_order_mark_and_paths_that_are_not_mappings(tmp_path):
    path = write(tmp_path, "a.json", b"\xef\xbb\xbf" + json.dumps(swagger()).encode())
    assert documents.load_summary(path, "json").same_as(summary_of(tmp_path, swagger(), name="plain"))
    weird = {"swagger": "2.0", "info": {"title": "t"}, "paths": ["/a"]}
    assert summary_of(tmp_path, weird).api_count == 0
    assert not summary_of(tmp_path, weird, name="w1").same_as(summary_of(tmp_path, swagger(), name="w2"))


@pytest.mark.parametrize("fmt", ["json", "yaml", "yml"])
def test_dump_round_trips(tmp_path, fmt):
    data = documents.dump(swagger(), fmt)
    path = write(tmp_path, "doc", data)
    assert documents.parse(path, fmt)[1] == swagger()


def test_normalize_format():
    assert [documents.normalize_format(value) for value in ("json", "yaml", "yml")] == ["json", "yaml", "yaml"]


def test_file_diff_within_and_above_the_limit(tmp_path):
    old = write(tmp_path, "old", "a\nb\n")
    new = write(tmp_path, "new", "a\nc\n")
    assert documents.file_diff(old, new, "dest", "export") == {
        "before_header": "dest", "after_header": "export", "before": "a\nb\n", "after": "a\nc\n"}
    assert documents.file_diff(None, new, "dest", "export")["before"] == ""
    big = write(tmp_path, "big", "x" * (documents.MAX_DIFF_SIZE + 1))
    diff = documents.file_diff(big, new, "dest", "export")
    assert diff["dst_larger"] == documents.MAX_DIFF_SIZE and "before" not in diff and "after" not in diff
    diff = documents.file_diff(old, big, "dest", "export")
    assert diff["src_larger"] == documents.MAX_DIFF_SIZE and "before" not in diff


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_summary_without_digests_counts_the_same_operations_and_compares_with_nothing(tmp_path, fmt, monkeypatch):
    doc = swagger(**{"/orders": {"get": {"operationId": "list-orders"}, "x-apigateway-any-method": {}},
                     "/ping": {"head": {}}, "/odd": "not a path item"})
    path = write(tmp_path, "doc." + fmt, json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc))
    full = documents.load_summary(path, fmt)
    monkeypatch.setattr(documents, "digest", lambda value: pytest.fail("no hashing without digests"))
    light = documents.load_summary(path, fmt, digests=False)
    assert light.api_count == full.api_count == 3
    assert sorted(light.operations) == sorted(full.operations)
    assert all(light.operations[key][0] == full.operations[key][0] for key in full.operations)
    assert light.digest is None and not light.same_as(light) and not full.same_as(light)
    assert not light.same_as(full)


EQUIVALENT_DOCUMENTS = {
    "plain": swagger(),
    "path-level fields, ANY and odd items": swagger(**{
        "/orders": {"parameters": [{"name": "x", "in": "query"}], "get": {"operationId": "list"},
                    "x-apigateway-any-method": {"operationId": "any"}, "HEAD": {}},
        "/odd": "not a path item", "/list": [1, 2.5, None, True], "/empty": {}}),
    "paths not a mapping": {"swagger": "2.0", "info": {"version": "1"}, "paths": ["/a", "/b"]},
    "paths null": {"swagger": "2.0", "paths": None},
    "no paths": {"openapi": "3.0.1", "info": {"title": "t", "version": "v"}},
    "unicode and numbers": swagger(**{"/订单": {"get": {"operationId": "查询", "x-n": [1e300, -0.0, 12345678901234567890]}}}),
}


@pytest.mark.parametrize("digests", [True, False])
@pytest.mark.parametrize("name", sorted(EQUIVALENT_DOCUMENTS))
def test_json_read_item_by_item_summarises_as_the_whole_tree(tmp_path, name, digests):
    doc = EQUIVALENT_DOCUMENTS[name]
    for indent, prefix in ((None, b""), (2, b" \n"), (1, b"\xef\xbb\xbf")):
        path = write(tmp_path, "doc.json", prefix + json.dumps(doc, indent=indent, ensure_ascii=False).encode())
        streamed = documents._stream_json_summary(path, True, digests)  # pylint: disable=protected-access
        whole = documents.summarize(json.loads(open(path, "rb").read()), "json", True, digests)
        assert streamed is not None
        assert (streamed.syntax, streamed.digest, streamed.operations) == (whole.syntax, whole.digest, whole.operations)


def test_duplicate_keys_resolve_as_json_loads_does(tmp_path):
    text = ('{"swagger": "2.0", "paths": {"/a": {"get": {"operationId": "one"}}, "/b": {"put": {}}},'
            ' "info": {"version": "1"}, "paths": {"/a": {"post": {"operationId": "two"}},'
            ' "/a": {"delete": {"operationId": "three"}}}, "info": {"title": "last"}}')
    path = write(tmp_path, "dup.json", text)
    streamed = documents.load_summary(path, "json")
    whole = documents.summarize(json.loads(text), "json")
    assert streamed.operations == whole.operations == {("DELETE", "/a"): ("three", whole.operations[("DELETE", "/a")][1])}
    assert streamed.digest == whole.digest


@pytest.mark.parametrize("text", ['[{"paths": {}}]', '{"paths": {}} trailing', '{"paths": {"/a": }}', "{'a': 1}"])
def test_json_that_does_not_read_item_by_item_goes_to_the_whole_parser(tmp_path, text):
    path = write(tmp_path, "odd.json", text)
    assert documents._stream_json_summary(path, True, True) is None  # pylint: disable=protected-access
    with pytest.raises(documents.DocumentError):
        documents.load_summary(path, "json")


def test_yaml_is_not_read_item_by_item(tmp_path):
    path = write(tmp_path, "doc.yaml", yaml.safe_dump(swagger()))
    assert documents._stream_json_summary(path, True, True) is None  # pylint: disable=protected-access
    assert documents.load_summary(path, "yaml").api_count == 3
