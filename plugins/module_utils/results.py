# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Per-item results shared by the modules: entries, summary, allow_partial and the failure message.

Private to the hwc.apig collection; not a public API.
"""

import collections

FAILED = "failed"


def call_error(error):
    """A call error as the modules return it (never a credential: the message is ours)."""
    return {
        "msg": str(error),
        "status": error.status,
        "error_code": error.error_code,
        "error_msg": error.error_msg,
        "request_id": error.request_id,
    }


def error_fields(error):
    """The error_code and error_msg of an item that a whole call failed for."""
    if getattr(error, "maybe_applied", False) or error.error_msg is None:
        message = str(error)
    else:
        message = error.error_msg
    return {"error_code": error.error_code, "error_msg": message}


class ItemResults(object):
    """The outcome of each item of one module run, in the order of the items.

    ``key`` names the list in the module result (``apis``, ``backend_apis``), ``results`` the values
    ``result`` may take and ``changes`` those that count as a change. The module wrapper returns the
    entries recorded so far when an unexpected error ends the run.
    """

    def __init__(self, key, noun, results, changes):
        self.key = key
        self.noun = noun
        self.results = tuple(results)
        self.changes = tuple(changes)
        self._entries = {}
        self._order = []
        self._known = set()  # the IDs in _order: a membership test per item, not a scan of the list
        self.call_errors = []

    def expect(self, item_ids):
        """Fix the order of the entries to the order of the items, before any outcome is known."""
        for item_id in item_ids:
            self._remember(item_id)

    def _remember(self, item_id):
        if item_id not in self._known:
            self._known.add(item_id)
            self._order.append(item_id)

    def set(self, item_id, entry):
        if entry.get("result") not in self.results:
            raise ValueError("result %r is not one of %s" % (entry.get("result"), ", ".join(self.results)))
        self._remember(item_id)
        self._entries[item_id] = entry

    def get(self, item_id):
        return self._entries.get(item_id)

    def note_error(self, error):
        self.call_errors.append(error)

    @property
    def entries(self):
        return [self._entries[item_id] for item_id in self._order if item_id in self._entries]

    def summary(self):
        counts = dict((result, 0) for result in self.results)
        for entry in self.entries:
            counts[entry["result"]] += 1
        return counts

    def changed(self):
        return any(entry["result"] in self.changes for entry in self.entries)

    def failures(self):
        return [entry for entry in self.entries if entry["result"] == FAILED]

    def result(self, **extra):
        """The module result: changed, the entries, the summary and the call errors."""
        result = {"changed": self.changed(), self.key: self.entries, "summary": self.summary(),
                  "call_errors": [call_error(error) for error in self.call_errors]}
        result.update(extra)
        return result

    def diff(self, items, sides, header):
        """Diff-mode ``before``/``after`` of the items that changed, keyed by name (plus the ID where
        names repeat); ``sides(item, entry)`` gives the (before, after) pair of one item."""
        names = collections.Counter(item.get("name") for item in items)
        before, after = {}, {}
        for item in items:
            entry = self.get(item["id"])
            if entry is None or entry["result"] not in self.changes:
                continue
            name = item.get("name")
            key = name if names[name] == 1 else "%s (%s)" % (name, item["id"])
            before[key], after[key] = sides(item, entry)
        return {"before": before, "after": after, "before_header": header, "after_header": header}

    def finish(self, module, where, allow_partial, **extra):
        """Return the result, or fail with it when items failed and allow_partial is false."""
        result = self.result(**extra)
        failures = self.failures()
        if failures and not allow_partial:
            msg = "%d of %d %s failed%s: %s" % (
                len(failures), len(self.entries), self.noun, " " + where if where else "",
                "; ".join("%s (%s): %s" % (entry.get("name"), entry.get("id"), " ".join(
                    str(part) for part in (entry.get("error_code"), entry.get("error_msg")) if part))
                    for entry in failures))
            if self.call_errors:
                # Show the HTTP status and request ID of the call that failed (what support asks for).
                last = self.call_errors[-1]
                result.update(status=last.status, error_code=last.error_code, error_msg=last.error_msg,
                              request_id=last.request_id)
                msg += "; failed calls: %s" % "; ".join(str(error) for error in self.call_errors)
            module.fail_json(msg=msg, **result)
        return result
