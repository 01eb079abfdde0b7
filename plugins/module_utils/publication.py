# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Publication state of APIs, read from ListApisV2 items, and the publish/offline decisions.

Private to the hwc.apig collection; not a public API.
"""

import calendar
import re

PUBLISHED, REPUBLISHED, UNCHANGED, TAKEN_OFFLINE, FAILED = (
    "published", "republished", "unchanged", "taken_offline", "failed")
RESULTS = (PUBLISHED, REPUBLISHED, UNCHANGED, TAKEN_OFFLINE, FAILED)
CHANGES = (PUBLISHED, REPUBLISHED, TAKEN_OFFLINE)
# The listing's times cannot say whether the API changed: ask the gateway about that API alone.
UNDECIDED = "undecided"
ONLINE, OFFLINE = "online", "offline"
# Below this many fraction digits two equal times may still hide an edit made after the publication.
EXACT_DIGITS = 6

_TIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$",
    re.IGNORECASE)
_EPOCH = re.compile(r"^\s*(\d{9,})(?:\.(\d+))?\s*$")

# Fields of an API answer that record its publication or bookkeeping rather than its definition.
BOOKKEEPING = frozenset((
    "run_env_id", "run_env_name", "publish_id", "publish_time", "version_id", "version_no", "env_id",
    "env_name", "update_time", "register_time", "status", "sl_domain", "sl_domains", "group_version",
    "api_group_info", "roma_app_name", "group_name"))


class Moment(tuple):
    """(epoch seconds, nanoseconds) plus how many fraction digits the source carried."""

    def __new__(cls, seconds, nanos, digits):
        moment = super(Moment, cls).__new__(cls, (seconds, nanos))
        moment.digits = digits
        return moment


def parse_time(value):
    """A Moment for the time formats APIG and ROMA answer with, or None when it does not parse.

    Handles ``2020-08-03T03:01:31.26522821Z`` (0 to 9 or more fraction digits), a space instead of
    ``T``, ``+08:00`` / ``+0800`` / ``+08`` offsets, no zone (UTC) and epoch milliseconds (number
    or digits).
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = repr(value)
    text = str(value)
    epoch = _EPOCH.match(text)
    if epoch:
        number = int(epoch.group(1))
        if len(epoch.group(1)) >= 12:
            return Moment(number // 1000, (number % 1000) * 1000000, 3)
        fraction = epoch.group(2) or ""
        return Moment(number, int(fraction[:9].ljust(9, "0") or 0), min(len(fraction), 9))
    found = _TIME.match(text)
    if not found:
        return None
    year, month, day, hour, minute, second = (int(part) for part in found.groups()[:6])
    fraction = found.group(7) or ""
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    zone = found.group(8)
    if zone and zone.upper() not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "").ljust(4, "0")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)
    return Moment(seconds, int(fraction[:9].ljust(9, "0") or 0), min(len(fraction), 9))


def compare_times(first, second):
    """-1, 0 or 1 at the coarser precision of the two Moments; None when they tie below microseconds."""
    digits = min(first.digits, second.digits)
    scale = 10 ** (9 - digits)
    left, right = (first[0], first[1] // scale), (second[0], second[1] // scale)
    if left != right:
        return 1 if left > right else -1
    return 0 if digits >= EXACT_DIGITS else None


def _split(value):
    if value is None or value == "":
        return []
    return [part.strip() for part in str(value).split("|")]


def publications(api):
    """Map env_id -> {env_id, env_name, publish_id, publish_time} from the |-joined listing fields."""
    env_ids = _split(api.get("run_env_id"))
    names = _split(api.get("run_env_name"))
    publish_ids = _split(api.get("publish_id"))
    times = _split(api.get("publish_time"))
    found = {}
    for index, env_id in enumerate(env_ids):
        if not env_id:
            continue
        found[env_id] = {
            "env_id": env_id,
            "env_name": names[index] if index < len(names) else None,
            "publish_id": publish_ids[index] if index < len(publish_ids) else None,
            "publish_time": times[index] if index < len(times) else None,
        }
    return found


def changed_since(api, publication):
    """True, False, or None when the listing's times cannot decide (a tie within the second, or a
    time that does not parse)."""
    updated = parse_time(api.get("update_time"))
    published = parse_time(publication.get("publish_time"))
    if updated is None or published is None:
        return None
    order = compare_times(updated, published)
    return None if order is None else order > 0


def decide(api, env_id, state, force=False):
    """What publishing (state=published) or taking offline (state=offline) does to one API.

    UNDECIDED means the listing cannot tell whether the API changed since its publication.
    """
    publication = publications(api).get(env_id)
    if state == "offline":
        return TAKEN_OFFLINE if publication else UNCHANGED
    if publication is None:
        return PUBLISHED
    if force:
        return REPUBLISHED
    changed = changed_since(api, publication)
    if changed is None:
        return UNDECIDED
    return REPUBLISHED if changed else UNCHANGED


def same_time(first, second):
    parsed = parse_time(first), parse_time(second)
    if None in parsed:
        return str(first) == str(second)
    return compare_times(*parsed) in (0, None)


def definition(answer):
    return dict((key, value) for key, value in answer.items() if key not in BOOKKEEPING)


def list_versions(client, api_id, env_id):
    """The API's versions in an environment (ListApiVersionsV2, every page)."""
    return client.list_all(client.path("apis", "publish", api_id), "api_versions", {"env_id": env_id})


def edited_since_publication(client, api, env_id):
    """Ask the gateway whether the API differs from the version live in env (contract section 4).

    The live version (ListApiVersionsV2, status 1) keeps the definition as published, with its
    update_time: a different update_time, or a different definition, means an edit since.
    """
    versions = list_versions(client, api["id"], env_id)
    live = [version for version in versions
            if str(version.get("status")) == "1" and version.get("env_id") in (None, env_id)]
    if not live or not live[0].get("version_id"):
        return True
    version = client.call("GET", client.path("apis", "versions", live[0]["version_id"]))
    if not same_time(version.get("update_time"), api.get("update_time")):
        return True
    current = client.call("GET", client.path("apis", api["id"]))
    was, now = definition(version), definition(current)
    return any(was[key] != now[key] for key in set(was) & set(now))


def action_for(result):
    return OFFLINE if result == TAKEN_OFFLINE else ONLINE


def applied(result, before, after, env_id):
    """After an ambiguous write: did the intended change reach the gateway? (before/after: items)."""
    now = publications(after).get(env_id) if after else None
    if result == TAKEN_OFFLINE:
        return now is None
    then = publications(before).get(env_id)
    if now is None:
        return False
    # A gateway may keep one record per API and environment, so a new publish_time counts too.
    return then is None or any(now.get(key) != then.get(key) for key in ("publish_id", "publish_time"))
