"""apig_export against a fake HTTP layer: requests, the file written (or kept), async tasks, failures."""

import hashlib
import json
import os
import sys

import pytest
import requests
import responses
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hwc.apig.plugins.module_utils import client as apig_client
from ansible_collections.hwc.apig.plugins.module_utils import documents, transfer
from ansible_collections.hwc.apig.plugins.modules import apig_export

ENDPOINT = "https://apig.example.test"
IAM = "https://iam.example.test"
BASES = {"apig": ENDPOINT + "/v2/p1/apigw/instances/i1", "roma": ENDPOINT + "/v2/p1/apic/instances/i1"}
BASE = BASES["apig"]
ENV = {"id": "env-test", "name": "TEST"}
GROUP = {"id": "0" * 32, "name": "orders"}
TASK = "d9ce8c9eede54b3f841ec324fe0bfdc2"


def document(version="2026-11-22 10:00:00", reverse=False, **changes):
    paths = {
        "/orders": {
            "get": {"operationId": "list-orders", "responses": {"200": {"description": "OK"}}},
            "post": {"operationId": "create-order", "responses": {"200": {"description": "OK"}}},
        },
        "/orders/{orderId}": {"delete": {"operationId": "cancel-order", "responses": {"200": {"description": "OK"}}}},
    }
    paths.update(changes)
    paths = dict((key, value) for key, value in paths.items() if value is not None)
    doc = {"swagger": "2.0", "info": {"title": "orders", "version": version}, "basePath": "/", "paths": paths}
    if reverse:
        doc = json.loads(json.dumps(doc), object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    return doc


def as_bytes(doc, fmt="json"):
    if fmt == "json":
        return json.dumps(doc, indent=2).encode()
    return yaml.safe_dump(doc, sort_keys=False).encode()


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(apig_client.time, "sleep", lambda seconds: None)


@pytest.fixture
def clock(fake_clock):
    return fake_clock


@pytest.fixture
def remote_tmp(tmp_path):
    path = tmp_path / "remote-tmp"
    path.mkdir()
    return path


def leftovers(remote_tmp):
    return [name for _root, _dirs, files in os.walk(str(remote_tmp)) for name in files]


def run_module(args, capsys, remote_tmp, auth=None):
    params = {"endpoint": ENDPOINT, "project_id": "p1", "instance_id": "i1", "api_group": "orders", "env": "TEST",
              "_ansible_remote_tmp": str(remote_tmp)}
    params.update(auth or {"access_key": "AK", "secret_key": "SK"})
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            apig_export.main()
    return json.loads(capsys.readouterr().out)


def add_reads(rsps, base=BASE, env=True):
    if env:
        rsps.add(responses.GET, base + "/envs", json={"total": 1, "size": 1, "envs": [ENV]})
    rsps.add(responses.GET, base + "/api-groups", json={"total": 1, "size": 1, "groups": [GROUP]})


def add_export(rsps, data, base=BASE, status=200):
    rsps.add(responses.POST, base + "/openapi/export", body=data, status=status,
             content_type="application/octet-stream")


def posts(rsps):
    return [call for call in rsps.calls if call.request.method == "POST"]


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def old_file(tmp_path, data, name="orders.json"):
    path = tmp_path / name
    path.write_bytes(data)
    os.utime(str(path), (1000000000, 1000000000))
    return path


# --- sync export -------------------------------------------------------------------------------

def test_first_export_writes_the_file(tmp_path, capsys, remote_tmp):
    data = as_bytes(document())
    dest = tmp_path / "orders.json"
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, data)
        result = run_module({"dest": str(dest)}, capsys, remote_tmp)
        export = posts(rsps)[0].request
    assert export.url == BASE + "/openapi/export?oas_version=2.0"
    # The SDK's key order (contract 1.4): env_id, group_id, define, type, version, apis.
    assert list(json.loads(export.body).items()) == [("env_id", "env-test"), ("group_id", GROUP["id"]),
                                                     ("define", "spec"), ("type", "json")]
    assert result["changed"] and dest.read_bytes() == data
    assert result["checksum"] == sha1(data) and result["size"] == len(data)
    assert result["api_count"] == 3 and result["api_changes"] is None and result["format"] == "json"
    assert "task_id" not in result and "content" not in result and "backup_file" not in result
    assert leftovers(remote_tmp) == []


@pytest.mark.parametrize("previous", ["none", "same bytes"])
def test_no_hashing_without_a_different_file_to_compare_with(tmp_path, capsys, remote_tmp, monkeypatch, previous):
    """A first export, and one whose bytes equal the file's, only count operations: hashing every
    operation of a large export costs more than parsing it."""
    data = as_bytes(document())
    dest = tmp_path / "orders.json"
    if previous == "same bytes":
        old_file(tmp_path, data)
    monkeypatch.setattr(documents, "digest", lambda value: pytest.fail("hashed with nothing to compare"))
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, data)
        result = run_module({"dest": str(dest)}, capsys, remote_tmp)
    assert result["changed"] == (previous == "none") and result["api_count"] == 3
    assert result["api_changes"] == (None if previous == "none" else documents.no_changes())
    assert dest.read_bytes() == data


def test_request_options_reach_the_body(tmp_path, capsys, remote_tmp):
    listing = {"total": 2, "size": 2, "apis": [{"id": "a-1", "name": "list-orders"}, {"id": "a-2", "name": "get"}]}
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        rsps.add(responses.GET, BASE + "/apis", json=listing)
        add_export(rsps, as_bytes(document(version="7.1"), "yaml"))
        result = run_module({"dest": str(tmp_path / "o.yaml"), "format": "yml", "define": "all", "oas_version": "3.0",
                             "version": "7.1", "apis": ["list-orders", "a-2"]}, capsys, remote_tmp)
        export = posts(rsps)[0].request
    assert export.url.endswith("/openapi/export?oas_version=3.0")
    assert json.loads(export.body) == {"env_id": "env-test", "group_id": GROUP["id"], "define": "all",
                                       "type": "yaml", "version": "7.1", "apis": ["a-1", "a-2"]}
    assert result["format"] == "yaml" and result["api_count"] == 3


def test_roma_sends_no_oas_version_and_env_is_optional(tmp_path, capsys, remote_tmp):
    with responses.RequestsMock() as rsps:
        add_reads(rsps, BASES["roma"], env=False)
        add_export(rsps, as_bytes(document()), BASES["roma"])
        result = run_module({"dest": str(tmp_path / "o.json"), "service": "roma", "env": None, "oas_version": "2.0"},
                            capsys, remote_tmp)
        export = posts(rsps)[0].request
        assert len(rsps.calls) == 2
    assert export.url == BASES["roma"] + "/openapi/export"
    assert json.loads(export.body) == {"group_id": GROUP["id"], "define": "spec", "type": "json"}
    assert result["changed"]


def test_version_stamp_and_key_order_alone_keep_the_file(tmp_path, capsys, remote_tmp):
    old = as_bytes(document("2026-11-22 10:00:00"))
    dest = old_file(tmp_path, old)
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, json.dumps(document("2026-11-23 11:11:11", reverse=True)).encode())
        result = run_module({"dest": str(dest), "_ansible_diff": True}, capsys, remote_tmp)
    assert not result["changed"] and "diff" not in result
    assert dest.read_bytes() == old and os.stat(str(dest)).st_mtime == 1000000000
    assert result["checksum"] == sha1(old) and result["size"] == len(old)
    assert result["api_changes"] == {"added": [], "removed": [], "modified": []}
    assert leftovers(remote_tmp) == []


def test_a_version_asked_for_counts(tmp_path, capsys, remote_tmp):
    dest = old_file(tmp_path, as_bytes(document("1.0.0")))
    new = as_bytes(document("1.0.1"))
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, new)
        result = run_module({"dest": str(dest), "version": "1.0.1"}, capsys, remote_tmp)
    assert result["changed"] and dest.read_bytes() == new
    assert result["api_changes"] == {"added": [], "removed": [], "modified": []}


def test_a_real_change_replaces_the_file_with_the_server_bytes(tmp_path, capsys, remote_tmp):
    dest = old_file(tmp_path, as_bytes(document()))
    changed = document(**{"/orders/{orderId}": None, "/refunds": {"post": {"operationId": "refund"}}})
    changed["paths"]["/orders"]["get"]["summary"] = "List orders"
    new = json.dumps(changed, separators=(",", ":")).encode()
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, new)
        result = run_module({"dest": str(dest), "_ansible_diff": True}, capsys, remote_tmp)
    assert result["changed"] and dest.read_bytes() == new
    assert result["checksum"] == sha1(new) and result["api_count"] == 3
    assert result["api_changes"] == {
        "added": [{"method": "POST", "path": "/refunds", "name": "refund"}],
        "removed": [{"method": "DELETE", "path": "/orders/{orderId}", "name": "cancel-order"}],
        "modified": [{"method": "GET", "path": "/orders", "name": "list-orders"}],
    }
    diff = result["diff"]
    assert diff["before_header"] == str(dest) and diff["after_header"] == "%s (exported)" % dest
    assert diff["before"] == as_bytes(document()).decode() and diff["after"] == new.decode()


def test_a_dest_that_does_not_parse_is_replaced(tmp_path, capsys, remote_tmp):
    dest = old_file(tmp_path, b"<html>not an export</html>")
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, as_bytes(document()))
        result = run_module({"dest": str(dest)}, capsys, remote_tmp)
    assert result["changed"] and result["api_changes"] is None
    assert dest.read_bytes() == as_bytes(document())
    assert "counts as different" in json.dumps(result["warnings"])  # structured warnings from ansible-core 2.19


def test_switching_format_counts_as_a_change(tmp_path, capsys, remote_tmp):
    dest = old_file(tmp_path, as_bytes(document()), "orders.yaml")  # JSON text under a YAML name
    new = as_bytes(document(), "yaml")
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, new)
        result = run_module({"dest": str(dest), "format": "yaml"}, capsys, remote_tmp)
    assert result["changed"] and dest.read_bytes() == new
    assert result["api_changes"] == {"added": [], "removed": [], "modified": []}


def test_diff_is_skipped_above_the_size_limit(tmp_path, capsys, remote_tmp):
    big = document(**dict(("/p%05d" % number, {"get": {"operationId": "op-%d" % number}}) for number in range(2500)))
    dest = old_file(tmp_path, as_bytes(document()))
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, as_bytes(big))
        result = run_module({"dest": str(dest), "_ansible_diff": True}, capsys, remote_tmp)
    assert result["changed"] and result["diff"]["src_larger"] == 104448
    assert "before" not in result["diff"] and "after" not in result["diff"]
    assert len(result["api_changes"]["added"]) == 2500


def test_check_mode_writes_nothing(tmp_path, capsys, remote_tmp):
    old = as_bytes(document())
    dest = old_file(tmp_path, old)
    absent = tmp_path / "absent.json"
    new = as_bytes(document(**{"/refunds": {"post": {"operationId": "refund"}}}))
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, new)
        result = run_module({"dest": str(dest), "_ansible_check_mode": True, "return_content": True, "backup": True},
                            capsys, remote_tmp)
    assert result["changed"] and dest.read_bytes() == old and os.stat(str(dest)).st_mtime == 1000000000
    assert result["api_changes"]["added"] == [{"method": "POST", "path": "/refunds", "name": "refund"}]
    assert result["checksum"] == sha1(new) and result["content"] == new.decode()
    assert "would replace" in result["msg"] and "backup_file" not in result
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, new)
        result = run_module({"dest": str(absent), "_ansible_check_mode": True}, capsys, remote_tmp)
    assert result["changed"] and not absent.exists() and result["api_count"] == 4
    assert leftovers(remote_tmp) == []


def test_backup_keeps_the_old_file(tmp_path, capsys, remote_tmp):
    old = as_bytes(document())
    dest = old_file(tmp_path, old)
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, as_bytes(document(**{"/refunds": {"post": {}}})))
        result = run_module({"dest": str(dest), "backup": True, "return_content": True}, capsys, remote_tmp)
    assert result["changed"] and open(result["backup_file"], "rb").read() == old
    assert result["content"] == dest.read_text()


def test_file_attributes_apply_and_count(tmp_path, capsys, remote_tmp):
    data = as_bytes(document())
    dest = old_file(tmp_path, data)
    os.chmod(str(dest), 0o644)
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, data)
        result = run_module({"dest": str(dest), "mode": "0600"}, capsys, remote_tmp)
    assert result["changed"] and os.stat(str(dest)).st_mode & 0o777 == 0o600
    assert dest.read_bytes() == data and os.stat(str(dest)).st_mtime == 1000000000


# --- async export ------------------------------------------------------------------------------

def add_async(rsps, *tasks):
    rsps.add(responses.POST, BASE + "/openapi/async-export", json={"task_id": TASK}, status=202)
    for task in tasks:
        if isinstance(task, tuple):
            rsps.add(responses.GET, BASE + "/async-tasks/" + TASK, status=task[0], json=task[1])
        else:
            rsps.add(responses.GET, BASE + "/async-tasks/" + TASK, json=dict(task, task_id=TASK, task_type="export_api"))


def done(content, status="succeed", fmt="json"):
    return {"task_status": status, "task_result": json.dumps({"file_type": fmt, "content": content})}


@pytest.mark.parametrize("spelling", ["succeed", "succeeded"])
def test_async_polls_with_a_growing_interval_until_done(tmp_path, capsys, remote_tmp, clock, spelling):
    data = as_bytes(document())
    dest = tmp_path / "orders.json"
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_async(rsps, {"task_status": "waiting"}, {"task_status": "processing"}, {"task_status": "processing"},
                  done(data.decode(), spelling))
        result = run_module({"dest": str(dest), "export_mode": "async", "oas_version": "3.0"}, capsys, remote_tmp)
        start = posts(rsps)[0].request
        polls = [call for call in rsps.calls if "/async-tasks/" in call.request.url]
    assert start.url == BASE + "/openapi/async-export?oas_version=3.0"
    assert json.loads(start.body) == {"env_id": "env-test", "group_id": GROUP["id"], "define": "spec", "type": "json"}
    assert len(polls) == 4 and clock.sleeps == [1.0, 1.5, 2.25]
    assert result["changed"] and result["task_id"] == TASK and dest.read_bytes() == data
    assert result["checksum"] == sha1(data) and result["api_count"] == 3


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_async_content_may_be_an_object(tmp_path, capsys, remote_tmp, clock, fmt):
    dest = tmp_path / ("orders." + fmt)
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_async(rsps, {"task_status": "succeed", "task_result": {"file_type": fmt, "content": document()}})
        result = run_module({"dest": str(dest), "export_mode": "async", "format": fmt}, capsys, remote_tmp)
    assert result["changed"] and result["api_count"] == 3
    parsed = json.loads(dest.read_text()) if fmt == "json" else yaml.safe_load(dest.read_text())
    assert parsed == document()


def test_async_failed_task_fails_and_keeps_the_file(tmp_path, capsys, remote_tmp, clock):
    old = as_bytes(document())
    dest = old_file(tmp_path, old)
    failed = {"task_status": "failed", "task_result": json.dumps({"error_code": "APIG.9999", "error_msg": "System error"})}
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_async(rsps, {"task_status": "processing"}, failed)
        result = run_module({"dest": str(dest), "export_mode": "async"}, capsys, remote_tmp)
    assert result["failed"] and not result["changed"] and result["task_id"] == TASK
    assert "export task %s failed: APIG.9999 System error" % TASK in result["msg"]
    assert result["error_code"] == "APIG.9999"
    assert dest.read_bytes() == old and os.stat(str(dest)).st_mtime == 1000000000


def test_failed_task_fails_outside_the_exception_handler(tmp_path, capsys, remote_tmp, clock, monkeypatch):
    """ansible-core before 2.19 attaches the traceback of an exception being handled to fail_json (-vvv)."""
    handling = []
    original = apig_export.ApigModule.fail_json

    def fail_json(self, *args, **kwargs):
        handling.append(sys.exc_info()[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(apig_export.ApigModule, "fail_json", fail_json)
    failed = {"task_status": "failed", "task_result": json.dumps({"error_code": "APIG.9999", "error_msg": "System error"})}
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_async(rsps, failed)
        result = run_module({"dest": str(tmp_path / "orders.json"), "export_mode": "async"}, capsys, remote_tmp)
    assert result["failed"] and result["task_id"] == TASK and handling == [None]


def test_async_timeout_names_the_task_and_writes_nothing(tmp_path, capsys, remote_tmp, clock):
    dest = tmp_path / "orders.json"
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_async(rsps, {"task_status": "processing"})
        result = run_module({"dest": str(dest), "export_mode": "async", "wait_timeout": 5}, capsys, remote_tmp)
        polls = [call for call in rsps.calls if "/async-tasks/" in call.request.url]
    assert result["failed"] and result["task_id"] == TASK and TASK in result["msg"]
    assert "timed out after 5s" in result["msg"] and "wait_timeout" in result["msg"]
    # Polls at 0, 1, 2.5, 4.75 and at the deadline.
    assert not dest.exists() and sum(clock.sleeps) == 5 and len(polls) == 5


def test_async_success_without_content_fails(tmp_path, capsys, remote_tmp, clock):
    dest = tmp_path / "orders.json"
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_async(rsps, {"task_status": "succeed", "task_result": json.dumps({"file_type": "json"})})
        result = run_module({"dest": str(dest), "export_mode": "async"}, capsys, remote_tmp)
    assert result["failed"] and "carries no content" in result["msg"] and not dest.exists()


def test_fixed_token_expiring_while_polling_fails_at_once(tmp_path, capsys, remote_tmp, clock):
    dest = tmp_path / "orders.json"
    expired = (401, {"error_code": "APIG.1002", "error_msg": "Incorrect token or token resolution failed"})
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_async(rsps, {"task_status": "processing"}, expired)
        result = run_module({"dest": str(dest), "export_mode": "async"}, capsys, remote_tmp,
                            auth={"auth_token": "fixed-token"})
        polls = [call for call in rsps.calls if "/async-tasks/" in call.request.url]
    assert result["failed"] and result["task_id"] == TASK and result["status"] == 401
    assert "auth_token was refused" in result["msg"] and "expired" in result["msg"]
    assert len(polls) == 2 and not dest.exists()


def test_password_auth_renews_the_token_once_while_polling(tmp_path, capsys, remote_tmp, clock):
    dest = tmp_path / "orders.json"
    data = as_bytes(document())
    expired = (401, {"error_code": "APIG.1002", "error_msg": "Incorrect token or token resolution failed"})
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, IAM + "/v3/auth/tokens", status=201, json={}, headers={"X-Subject-Token": "token-1"})
        rsps.add(responses.POST, IAM + "/v3/auth/tokens", status=201, json={}, headers={"X-Subject-Token": "token-2"})
        add_reads(rsps)
        add_async(rsps, {"task_status": "processing"}, expired, done(data.decode()))
        result = run_module({"dest": str(dest), "export_mode": "async"}, capsys, remote_tmp,
                            auth={"username": "u", "password": "pw", "domain_name": "d", "iam_endpoint": IAM})
        polls = [call.request for call in rsps.calls if "/async-tasks/" in call.request.url]
        logins = [call for call in rsps.calls if "/v3/auth/tokens" in call.request.url]
    assert result["changed"] and dest.read_bytes() == data
    assert len(logins) == 2 and [poll.headers["X-Auth-Token"] for poll in polls] == ["token-1", "token-1", "token-2"]


# --- ROMA custom backend APIs ------------------------------------------------------------------

def test_backend_apis_export(tmp_path, capsys, remote_tmp):
    base = BASES["roma"]
    listing = {"total": 2, "size": 2, "apis": [{"id": "ld-1", "name": "query_orders"}, {"id": "ld-2", "name": "sync"}]}
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, base + "/livedata-apis", json=listing)
        rsps.add(responses.POST, base + "/openapi/livedata-apis/export", body=as_bytes(document(), "yaml"))
        result = run_module({"dest": str(tmp_path / "ld.yaml"), "service": "roma", "kind": "backend_apis",
                             "api_group": None, "env": None, "app": "app-1", "apis": ["query_orders", "ld-2"],
                             "status": "deployed", "format": "yaml"}, capsys, remote_tmp)
        export = posts(rsps)[0].request
    assert export.url == base + "/openapi/livedata-apis/export"
    assert list(json.loads(export.body).items()) == [("app_id", "app-1"), ("format", "yaml"),
                                                     ("apis", ["ld-1", "ld-2"]), ("status", 4)]
    assert result["changed"] and result["api_count"] == 3


def test_backend_apis_need_nothing_but_dest(tmp_path, capsys, remote_tmp):
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, BASES["roma"] + "/openapi/livedata-apis/export", body=as_bytes(document()))
        result = run_module({"dest": str(tmp_path / "ld.json"), "service": "roma", "kind": "backend_apis",
                             "api_group": None, "env": None}, capsys, remote_tmp)
        assert json.loads(posts(rsps)[0].request.body) == {"format": "json"}
        assert len(rsps.calls) == 1
    assert result["changed"]


# --- failures leave dest as it was -------------------------------------------------------------

def test_http_error_keeps_the_file(tmp_path, capsys, remote_tmp):
    old = as_bytes(document())
    dest = old_file(tmp_path, old)
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        rsps.add(responses.POST, BASE + "/openapi/export", status=500, headers={"X-Request-Id": "req-500"},
                 json={"error_code": "APIG.9999", "error_msg": "System error"})
        result = run_module({"dest": str(dest), "retries": 0}, capsys, remote_tmp)
    assert result["failed"] and result["request_id"] == "req-500" and "exporting API group orders" in result["msg"]
    assert dest.read_bytes() == old and os.stat(str(dest)).st_mtime == 1000000000


def broken_stream(monkeypatch, breaks):
    """The first ``breaks`` downloads send part of the body, then the connection breaks."""
    real = requests.models.Response.iter_content
    state = {"left": breaks}

    def iter_content(self, chunk_size=1, decode_unicode=False):
        if state["left"] > 0 and "/openapi/export" in self.url:
            state["left"] -= 1
            yield b'{"swagger": "2.0", "paths": {'
            raise requests.exceptions.ChunkedEncodingError("connection broken mid-body")
        yield from real(self, chunk_size, decode_unicode)

    monkeypatch.setattr(requests.models.Response, "iter_content", iter_content)


def test_connection_broken_mid_download_keeps_the_file(tmp_path, capsys, remote_tmp, monkeypatch):
    old = as_bytes(document())
    dest = old_file(tmp_path, old)
    broken_stream(monkeypatch, 1)
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, as_bytes(document(**{"/refunds": {"post": {}}})))
        result = run_module({"dest": str(dest), "retries": 0}, capsys, remote_tmp)
    assert result["failed"] and "connection broke while downloading" in result["msg"]
    assert dest.read_bytes() == old and leftovers(remote_tmp) == []


def test_connection_broken_mid_download_is_retried_whole(tmp_path, capsys, remote_tmp, monkeypatch):
    new = as_bytes(document(**{"/refunds": {"post": {}}}))
    dest = old_file(tmp_path, as_bytes(document()))
    broken_stream(monkeypatch, 1)
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, new)
        result = run_module({"dest": str(dest)}, capsys, remote_tmp)
        assert len(posts(rsps)) == 2
    assert result["changed"] and dest.read_bytes() == new


def test_disk_full_keeps_the_file(tmp_path, capsys, remote_tmp, monkeypatch):
    old = as_bytes(document())
    dest = old_file(tmp_path, old)
    real_fdopen = os.fdopen

    class Full(object):
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(transfer.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, as_bytes(document(**{"/refunds": {"post": {}}})))
        result = run_module({"dest": str(dest)}, capsys, remote_tmp)
    assert result["failed"] and "No space left on device" in result["msg"]
    assert dest.read_bytes() == old and leftovers(remote_tmp) == []


def test_empty_answer_never_empties_dest(tmp_path, capsys, remote_tmp):
    old = as_bytes(document())
    dest = old_file(tmp_path, old)
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, b"")
        result = run_module({"dest": str(dest)}, capsys, remote_tmp)
    assert result["failed"] and "empty" in result["msg"] and dest.read_bytes() == old


@pytest.mark.parametrize("mode", ["0640", "u=rw,g=r,o=", "a+r", 0o600])
def test_good_modes_pass_the_check(tmp_path, capsys, remote_tmp, mode):
    dest = tmp_path / "orders.json"
    with responses.RequestsMock() as rsps:
        add_reads(rsps)
        add_export(rsps, as_bytes(document()))
        result = run_module({"dest": str(dest), "mode": mode}, capsys, remote_tmp)
    assert result["changed"] and dest.exists(), result


def test_unwritable_directory_fails_before_any_request(tmp_path, capsys, remote_tmp, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(apig_export.os, "access",
                        lambda path, mode: False if path == str(tmp_path) and mode & os.W_OK else real_access(path, mode))
    with responses.RequestsMock() as rsps:
        result = run_module({"dest": str(tmp_path / "o.json")}, capsys, remote_tmp)
        assert len(rsps.calls) == 0
    assert result["failed"] and "not writable: %s" % tmp_path in result["msg"]


@pytest.mark.parametrize("args, message", [
    ({"dest": "{tmp}/missing/o.json"}, "the directory of dest does not exist: {tmp}/missing"),
    ({"dest": "{tmp}"}, "dest {tmp} is a directory"),
    ({"dest": "{tmp}/file/o.json"}, "the directory of dest is not a directory: {tmp}/file"),
    ({"wait_timeout": 0}, "wait_timeout must be greater than 0, got 0"),
    ({"wait_timeout": -5}, "wait_timeout must be greater than 0, got -5"),
    ({"kind": "backend_apis", "api_group": None, "env": None}, "kind: backend_apis exports ROMA Connect custom "
                                                               "backend APIs and needs service: roma; got service: apig"),
    ({"service": "roma", "export_mode": "async"}, "export_mode: async is APIG's export task"),
    ({"service": "roma", "oas_version": "3.0"}, "oas_version: 3.0 is not available on ROMA Connect"),
    ({"api_group": None}, "api_group is required with kind: apis"),
    ({"env": None}, "env is required with kind: apis on APIG"),
    ({"env": " "}, "env must not be empty"),
    ({"apis": []}, "apis must list API names or IDs"),
    ({"app": "app-1"}, "app: for kind: backend_apis only; got kind: apis"),
    ({"service": "roma", "kind": "backend_apis", "status": "deployed"},
     "api_group, env: for kind: apis only; got kind: backend_apis"),
    ({"service": "roma", "kind": "backend_apis", "api_group": None, "env": None, "version": "1"},
     "version: for kind: apis only"),
    # The file options would refuse these only after the file was written.
    ({"mode": "rwx-bad"}, "mode must be an octal or symbolic file mode (for example 0644 or u=rw,g=r,o=r), "
                          "got 'rwx-bad'"),
    ({"mode": "01000000"}, "mode must be an octal or symbolic file mode"),
    ({"mode": "u=rwq"}, "got 'u=rwq'"),
])
def test_bad_input_fails_before_any_request(tmp_path, capsys, remote_tmp, args, message):
    (tmp_path / "file").write_text("x")
    args = dict((key, value.replace("{tmp}", str(tmp_path)) if isinstance(value, str) else value)
                for key, value in args.items())
    args.setdefault("dest", str(tmp_path / "o.json"))
    with responses.RequestsMock() as rsps:
        result = run_module(args, capsys, remote_tmp)
        assert len(rsps.calls) == 0
    assert result["failed"] and message.replace("{tmp}", str(tmp_path)) in result["msg"]
    assert not (tmp_path / "o.json").exists()
