# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Name-or-ID resolution for environments, API groups, APIs and ROMA custom backend APIs.

Exact matches only: an ID wins, then a name; none or several fail with the candidates named.
Private to the hwc.apig collection; not a public API.
"""

import difflib

from ansible_collections.hwc.apig.plugins.module_utils.client import ApigError

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


def match_all(kind, values, items, context_key=None):
    """Resolve every value; report all bad ones in one error, before anything is written."""
    found, problems, seen = [], [], set()
    for value in values:
        try:
            item = match(kind, value, items, context_key)
        except ResolveError as exc:
            problems.append(str(exc))
            continue
        if item.get("id") not in seen:
            seen.add(item.get("id"))
            found.append(item)
    if problems:
        raise ResolveError("; ".join(problems))
    return found


def find_environment(client, value):
    return match("environment", value, client.list_all(client.path("envs"), "envs"))


def find_group(client, value):
    """One paged listing (one read for up to 500 groups), matched exactly whatever the ID format."""
    return match("API group", value, client.list_all(client.path("api-groups"), "groups"))


def list_apis(client, group_id=None):
    """Every API of a group (or of the instance), with its |-joined publication fields."""
    return client.list_all(client.path("apis"), "apis", {"group_id": group_id})


def find_backend_apis(client, values):
    """Resolve ROMA custom backend API names or IDs from one paged listing."""
    return match_all("custom backend API", values, client.list_all(client.path("livedata-apis"), "apis"))
