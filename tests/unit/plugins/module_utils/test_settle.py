"""Settling writes whose outcome is unknown, polling, per-item results and downloads."""

import hashlib
import os

import pytest
import requests
import responses

from ansible_collections.hwc.apig.plugins.module_utils import client, results, settle, transfer

ENDPOINT = "https://apig.example.test"
BASE = ENDPOINT + "/v2/p1/apigw/instances/i1"


@pytest.fixture
def clock(fake_clock):
    return fake_clock


def make_client(retries=5):
    policy = client.RetryPolicy(retries, sleep=lambda seconds: None, rand=lambda: 0.0)
    return client.ApigClient(ENDPOINT, "p1", "i1", "apig", client.AkSkAuth("AK", "SK"), retry_policy=policy)


def ambiguous(request_id="req-w"):
    return client.ApigError("POST /x failed: timed out", status=None, request_id=request_id, maybe_applied=True)


class Gateway(object):
    """A gateway that applies each write ``lag`` seconds after it was sent, and counts applications."""

    def __init__(self, clock, lag, lose_first=0):
        self.clock = clock
        self.lag = lag
        self.lose_first = lose_first
        self.pending = []
        self.applied = {}
        self.sends = 0

    def send(self, items, budget):
        self.sends += 1
        if self.sends <= self.lose_first:
            return self.fail(items)
        self.pending.append((self.clock.now + self.lag, list(items)))
        if self.lag:
            raise ambiguous()
        self.apply()
        return {"done": list(items)}

    def fail(self, items):
        raise ambiguous()

    def apply(self):
        for when, items in list(self.pending):
            if when <= self.clock.now:
                self.pending.remove((when, items))
                for item in items:
                    self.applied[item] = self.applied.get(item, 0) + 1

    def reread(self, items):
        self.apply()
        return [self.applied.get(item) for item in items]


@pytest.mark.parametrize("lag", [0.0, 0.4, 2.0, 7.0, 10.0, 14.9])
def test_a_write_applied_late_within_the_window_is_applied_once(lag, clock):
    gateway = Gateway(clock, lag)
    outcome = settle.settle_write(make_client(), ["a", "b"], gateway.send, gateway.reread,
                                  lambda item, now: bool(now), settle_timeout=15, clock=clock.monotonic,
                                  sleep=clock.sleep)
    clock.now += 60
    gateway.apply()
    assert gateway.applied == {"a": 1, "b": 1} and gateway.sends == 1
    assert outcome.failed == []
    if lag:
        assert [item for item, _now in outcome.applied] == ["a", "b"] and len(outcome.errors) == 1
        # Growing delays, never past the window.
        assert clock.sleeps == sorted(clock.sleeps) and sum(clock.sleeps) <= 15


def test_a_lost_write_is_resent_once_after_the_window(clock):
    gateway = Gateway(clock, 0.0, lose_first=1)
    outcome = settle.settle_write(make_client(), ["a"], gateway.send, gateway.reread, lambda item, now: bool(now),
                                  settle_timeout=15, clock=clock.monotonic, sleep=clock.sleep)
    assert gateway.sends == 2 and gateway.applied == {"a": 1}
    assert clock.now >= 15 and outcome.answers == [(["a"], {"done": ["a"]})]


def test_not_applied_and_no_budget_is_unknown_not_resent(clock):
    gateway = Gateway(clock, 0.0, lose_first=5)
    outcome = settle.settle_write(make_client(retries=1), ["a"], gateway.send, gateway.reread,
                                  lambda item, now: bool(now), settle_timeout=3, clock=clock.monotonic,
                                  sleep=clock.sleep)
    assert gateway.sends == 2
    [(item, error)] = outcome.failed
    assert item == "a" and isinstance(error, settle.UnknownOutcome) and "no retries left" in str(error)


def raising(error):
    def send(items, budget):
        raise error
    return send


def test_a_failed_reread_keeps_both_errors(clock):
    def reread(items):
        raise client.ApigError("GET /apis failed: HTTP 403", status=403, request_id="req-r")

    outcome = settle.settle_write(make_client(), ["a"], raising(ambiguous()), reread, lambda item, now: True,
                                  settle_timeout=5, clock=clock.monotonic, sleep=clock.sleep)
    [(_item, error)] = outcome.failed
    assert error.request_id == "req-w" and error.read_error.request_id == "req-r"
    assert "req-r" not in error.request_id and "HTTP 403" in str(error)
    assert [e.request_id for e in outcome.errors] == ["req-w", "req-r"]


def test_a_clear_failure_is_not_settled():
    rereads = []
    refused = client.ApigError("POST /x failed: HTTP 400", status=400, error_code="APIG.2011")
    outcome = settle.settle_write(make_client(), ["a"], raising(refused), rereads.append, lambda item, now: True)
    assert outcome.failed == [("a", refused)] and rereads == []


def test_poll_grows_its_interval_and_times_out_naming_what(clock):
    values = iter(["waiting", "processing", "processing", "succeed"])
    assert settle.poll(lambda: next(values), lambda value: value == "succeed", 60, "task t1",
                       clock=clock.monotonic, sleep=clock.sleep) == "succeed"
    assert clock.sleeps == sorted(clock.sleeps) and clock.sleeps[0] < clock.sleeps[-1]
    with pytest.raises(client.ApigError, match="timed out after 5s waiting for export task t2"):
        settle.poll(lambda: "processing", lambda value: False, 5, "export task t2", clock=clock.monotonic,
                    sleep=clock.sleep)


def test_item_results_order_summary_and_failure_message():
    class Module(object):
        def fail_json(self, **kwargs):
            raise AssertionError(kwargs)

    items = results.ItemResults("backend_apis", "backend APIs", ("done", "unchanged", "failed"), ("done",))
    items.expect(["b", "a"])
    items.set("a", {"id": "a", "name": "A", "result": "failed", "error_code": "X.1", "error_msg": "boom"})
    assert items.entries == [items.get("a")]  # partial results, in item order, only what is known
    items.set("b", {"id": "b", "name": "B", "result": "done"})
    assert [entry["id"] for entry in items.entries] == ["b", "a"]
    assert items.summary() == {"done": 1, "unchanged": 0, "failed": 1} and items.changed()
    with pytest.raises(AssertionError) as failed:
        items.finish(Module(), "in RELEASE", allow_partial=False)
    assert "1 of 2 backend APIs failed in RELEASE: A (a): X.1 boom" in failed.value.args[0]["msg"]
    assert items.finish(Module(), "", allow_partial=True)["summary"]["failed"] == 1
    with pytest.raises(ValueError):
        items.set("c", {"result": "bogus"})


@responses.activate
def test_download_retries_a_body_cut_off_midway_and_leaves_no_partial_file(tmp_path):
    responses.add(responses.POST, BASE + "/openapi/export", body=requests.exceptions.ChunkedEncodingError("cut"))
    responses.add(responses.POST, BASE + "/openapi/export", body=b'{"swagger": "2.0"}')
    api = make_client()
    found = transfer.download(api, "POST", api.path("openapi", "export"), str(tmp_path), body={"group_id": "g"})
    with open(found.path, "rb") as handle:
        assert handle.read() == b'{"swagger": "2.0"}'
    assert found.size == 18 and found.sha1 == hashlib.sha1(b'{"swagger": "2.0"}').hexdigest()
    found.discard()
    assert os.listdir(str(tmp_path)) == []


@responses.activate
def test_download_that_keeps_failing_raises_and_cleans_up(tmp_path):
    responses.add(responses.POST, BASE + "/openapi/export", body=requests.exceptions.ChunkedEncodingError("cut"))
    api = make_client(retries=2)
    with pytest.raises(client.ApigError, match="ChunkedEncodingError"):
        transfer.download(api, "POST", api.path("openapi", "export"), str(tmp_path))
    assert len(responses.calls) == 3 and os.listdir(str(tmp_path)) == []


def test_save_bytes_hashes_what_it_writes(tmp_path):
    found = transfer.save_bytes(str(tmp_path), b"openapi: 3.0.1\n")
    assert found.sha1 == hashlib.sha1(b"openapi: 3.0.1\n").hexdigest() and found.size == 15


def test_path_quotes_each_segment_and_v1_paths():
    api = make_client()
    assert api.path("livedata-apis", "a/b c", "undeploy") == "/livedata-apis/a%2Fb%20c/undeploy"
    assert api.instance_path(api.path("livedata-apis", "undeploy"), "v1") == "/v1/p1/apigw/instances/i1/livedata-apis/undeploy"


def test_doing_prefixes_the_innermost_context_only():
    with pytest.raises(client.ApigError) as raised:
        with client.doing("exporting group orders"):
            with client.doing("polling task t1"):
                raise client.ApigError("GET /x failed: HTTP 500")
    assert str(raised.value) == "polling task t1: GET /x failed: HTTP 500"
