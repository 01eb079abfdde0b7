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
ONLINE, OFFLINE = "online", "offline"

_TIME = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE)


def parse_time(value):
    """A comparable (epoch seconds, nanoseconds) for the time formats APIG and ROMA answer with.

    Handles ``2020-08-03T03:01:31.26522821Z`` (more than microsecond digits), a space instead of
    ``T``, ``+08:00`` offsets, no zone (UTC) and epoch milliseconds. Returns None when unknown.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        millis = int(value)
        return divmod(millis, 1000)[0], (millis % 1000) * 1000000
    found = _TIME.match(str(value))
    if not found:
        return None
    year, month, day, hour, minute, second = (int(part) for part in found.groups()[:6])
    nanos = int((found.group(7) or "0")[:9].ljust(9, "0"))
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = found.group(8)
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds, nanos


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
    """True when the API was edited after that publication (or when either time is unreadable)."""
    updated = parse_time(api.get("update_time"))
    published = parse_time(publication.get("publish_time"))
    if updated is None or published is None:
        return True
    if _whole_seconds(api.get("update_time")) or _whole_seconds(publication.get("publish_time")):
        # One side has no fraction of a second: comparing fractions would republish on every run.
        return updated[0] > published[0]
    return updated > published


def _whole_seconds(value):
    found = _TIME.match(str(value)) if isinstance(value, str) else None
    return found is not None and not found.group(7)


def decide(api, env_id, state, force=False):
    """What publishing (state=published) or taking offline (state=offline) does to one API."""
    publication = publications(api).get(env_id)
    if state == "offline":
        return TAKEN_OFFLINE if publication else UNCHANGED
    if publication is None:
        return PUBLISHED
    if force or changed_since(api, publication):
        return REPUBLISHED
    return UNCHANGED


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


def summarize(entries):
    summary = dict((result, 0) for result in RESULTS)
    for entry in entries:
        summary[entry["result"]] += 1
    return summary
