"""Unit-test fixtures shared by the module and module_utils tests."""

import pytest

from ansible_collections.hwc.apig.plugins.module_utils import client, settle


class FakeClock(object):
    """Time that moves only when the code under test sleeps: settle windows and polls take no real time."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch):
    """A FakeClock behind settle's waits and polls; retry backoff does not wait at all."""
    fake = FakeClock()
    monkeypatch.setattr(client.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(settle, "_monotonic", fake.monotonic)
    monkeypatch.setattr(settle, "_sleep", fake.sleep)
    return fake
