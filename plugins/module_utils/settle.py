# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waiting on the gateway: settling writes whose outcome is unknown, and polling a task.

A write that timed out, lost its connection or got a 5xx after it was sent may still be applied
later (a gateway working through a large batch, a load balancer that cut the connection). Resending
at once would apply it twice, so the module re-reads state with growing delays for a settle window
and resends only what is still not visible when the window has passed. Private to the hwc.apig
collection; not a public API.
"""

import time

from ansible_collections.hwc.apig.plugins.module_utils.client import ApigError

# How long an ambiguous write may take to show before it is resent (the settle_timeout option).
DEFAULT_SETTLE_SECONDS = 15
FIRST_DELAY = 0.5
MAX_DELAY = 10.0


def _monotonic():
    return time.monotonic()


def _sleep(seconds):
    time.sleep(seconds)


class UnknownOutcome(ApigError):
    """A write that may or may not have been applied, and that the module could not settle."""

    def __init__(self, write_error, reason, read_error=None):
        text = "outcome unknown: %s; %s" % (write_error, reason)
        if read_error is not None:
            text += " (%s)" % read_error
        text += "; run the task again to finish"
        super(UnknownOutcome, self).__init__(
            text, status=write_error.status, error_code=write_error.error_code,
            error_msg=write_error.error_msg or str(write_error), request_id=write_error.request_id,
            method=write_error.method, path=write_error.path, maybe_applied=True)
        self.write_error = write_error
        self.read_error = read_error


class SettledWrite(object):
    """What a settled write did.

    ``answers``: (items, answer) for each call that answered; ``applied``: (item, current) for items
    that a re-read showed as applied; ``failed``: (item, error); ``errors``: every call error seen.
    """

    def __init__(self):
        self.answers = []
        self.applied = []
        self.failed = []
        self.errors = []


class Waiter(object):
    """Growing delays up to a deadline on a monotonic clock (replaceable in tests)."""

    def __init__(self, timeout, first=FIRST_DELAY, factor=2.0, cap=MAX_DELAY, clock=None, sleep=None):
        self.clock = clock or _monotonic
        self.sleep = sleep or _sleep
        self.timeout = timeout
        self.deadline = self.clock() + timeout
        self.delay = first
        self.factor = factor
        self.cap = cap

    def wait(self):
        """Sleep for the next delay; False once the deadline has passed (no sleep then)."""
        left = self.deadline - self.clock()
        if left <= 0:
            return False
        self.sleep(min(self.delay, left))
        self.delay = min(self.delay * self.factor, self.cap)
        return True


def settle_write(client, items, send, reread, is_applied, settle_timeout=DEFAULT_SETTLE_SECONDS,
                 clock=None, sleep=None):
    """Send ``items`` with one retry budget; after an ambiguous failure, settle before resending.

    ``send(items, budget)`` makes the write and returns its answer; ``reread(items)`` returns the
    current state of each item (a list in the same order; None for an item that is gone);
    ``is_applied(item, current)`` says whether the intended change is visible.
    """
    outcome = SettledWrite()
    budget = client.new_budget()
    remaining = list(items)
    while remaining:
        try:
            answer = send(remaining, budget)
        except ApigError as error:
            outcome.errors.append(error)
            if not error.maybe_applied:
                outcome.failed.extend((item, error) for item in remaining)
                return outcome
            try:
                waiter = Waiter(settle_timeout, clock=clock, sleep=sleep)
                remaining = _settle(remaining, reread, is_applied, outcome, waiter)
            except ApigError as read_error:
                outcome.errors.append(read_error)
                unknown = UnknownOutcome(error, "re-reading the state failed", read_error)
                outcome.failed.extend((item, unknown) for item in remaining)
                return outcome
            if remaining and not budget.take():
                unknown = UnknownOutcome(
                    error, "still not visible %ss after the failure and no retries left" % settle_timeout)
                outcome.failed.extend((item, unknown) for item in remaining)
                return outcome
            continue
        outcome.answers.append((remaining, answer))
        return outcome
    return outcome


def _settle(items, reread, is_applied, outcome, waiter):
    """Re-read with growing delays until every item shows as applied or the window has passed."""
    remaining = list(items)
    while remaining and waiter.wait():
        current = reread(remaining)
        left = []
        for item, now in zip(remaining, current):
            if is_applied(item, now):
                outcome.applied.append((item, now))
            else:
                left.append(item)
        remaining = left
    return remaining


def poll(fetch, is_done, timeout, what, first=1.0, factor=1.5, cap=MAX_DELAY, clock=None, sleep=None):
    """Call ``fetch()`` with a growing interval until ``is_done(value)``; return that value.

    Fails with a clean ApigError naming ``what`` when ``timeout`` seconds have passed.
    """
    waiter = Waiter(timeout, first=first, factor=factor, cap=cap, clock=clock, sleep=sleep)
    while True:
        value = fetch()
        if is_done(value):
            return value
        if not waiter.wait():
            raise ApigError("timed out after %ss waiting for %s" % (timeout, what))
