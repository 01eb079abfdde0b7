# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Name-or-ID resolution for environments, API groups, APIs and ROMA custom backend APIs.

Exact matches only: an ID wins, then a name; none or several fail with the candidates named.
Private to the hwc.apig collection; not a public API.
"""

import difflib

from ansible_collections.hwc.apig.plugins.module_utils.client import ApigError, doing

MAX_CANDIDATES = 10


class ResolveError(ApigError):
    """A name or ID that matches nothing, or more than one thing."""


def _describe(item, context_key):
    label = "%s (%s)" % (item.get("name"), item.get("id"))
    if context_key and item.get(context_key):
        label += " in %s" % item[context_key]
    return label


def _candidates(value, items):
    names = sorted(set(str(item.get("name")) for item in items if item.get("name") is not None))
    close = difflib.get_close_matches(str(value), names, n=MAX_CANDIDATES, cutoff=0.5)
    rest = [name for name in names if name not in close]
    shown = (close + rest)[:MAX_CANDIDATES]
    more = len(names) - len(shown)
    text = ", ".join(shown) if shown else "none"
    return text + (" and %d more" % more if more > 0 else "")


def match(kind, value, items, context_key=None):
    """Return the one item whose id, else name, equals ``value``; raise ResolveError otherwise."""
    for item in items:
        if item.get("id") == value:
            return item
    named = [item for item in items if item.get("name") == value]
    if len(named) == 1:
        return named[0]
    if not named:
        raise ResolveError("%s %r not found; candidates: %s" % (kind, value, _candidates(value, items)))
    raise ResolveError("%s name %r is ambiguous: it matches %s; give the ID instead" % (
        kind, value, ", ".join(_describe(item, context_key) for item in named)))


def match_each(kind, values, items, context_key=None):
    """The item each value names, in the order given (repeats kept), by the rules of ``match``.

    One pass builds an index, so thousands of values cost no more than one; every bad value is
    reported in one error, before anything is written.
    """
    by_id, by_name = {}, {}
    for item in items:
        by_id.setdefault(item.get("id"), item)
        by_name.setdefault(item.get("name"), []).append(item)
    found, problems = [], []
    for value in values:
        named = by_name.get(value, [])
        item = by_id.get(value) or (named[0] if len(named) == 1 else None)
        if item is None:
            try:
                match(kind, value, items, context_key)
            except ResolveError as exc:
                problems.append(str(exc))
        found.append(item)
    if problems:
        raise ResolveError("; ".join(problems))
    return found


def match_all(kind, values, items, context_key=None):
    """Resolve every value, each item once; report all bad ones in one error, before anything is written."""
    found, seen = [], set()
    for item in match_each(kind, values, items, context_key):
        if item.get("id") not in seen:
            seen.add(item.get("id"))
            found.append(item)
    return found


def find_environment(client, value):
    return match("environment", value, client.list_all(client.path("envs"), "envs"))


def find_group(client, value):
    """One paged listing (one read for up to 500 groups), matched exactly whatever the ID format."""
    return match("API group", value, client.list_all(client.path("api-groups"), "groups"))


def list_apis(client, group_id=None):
    """Every API of a group (or of the instance), with its |-joined publication fields."""
    return client.list_all(client.path("apis"), "apis", {"group_id": group_id})


class ApiScope(object):
    """The environment and API group a module works in, resolved by name or ID, and its APIs.

    ``env`` and ``group`` are None when the option was not given.
    """

    def __init__(self, client, env=None, api_group=None):
        self.client = client
        self.env = self.group = None
        if env is not None:
            with doing("resolving environment %r" % env):
                self.env = find_environment(client, env)
        if api_group:
            with doing("resolving API group %r" % api_group):
                self.group = find_group(client, api_group)

    @property
    def label(self):
        return " of group %s" % self.group.get("name") if self.group else " of the instance"

    def list_apis(self):
        """Every API of the group (or of the instance): one paged listing."""
        with doing("listing the APIs" + self.label):
            return list_apis(self.client, self.group["id"] if self.group else None)

    def select(self, values, listing=None, what="the APIs"):
        """The APIs ``values`` name (all of the listing when None), each once, in the order given."""
        listing = self.list_apis() if listing is None else listing
        if values is None:
            return listing
        with doing("resolving %s%s" % (what, self.label)):
            return match_all("API", values, listing, context_key="group_name")


def list_backend_apis(client):
    """Every ROMA custom backend API of the instance: one paged listing."""
    return client.list_all(client.path("livedata-apis"), "apis")


def find_backend_apis(client, values):
    """Resolve ROMA custom backend API names or IDs from one paged listing."""
    return match_all("custom backend API", values, list_backend_apis(client))
