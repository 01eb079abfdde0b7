"""Benchmark: rolling back a release of 1,000 APIs with the playbook hwc.apig.rollback, against the
emulator with 30 ms of latency on every request.

Prints a Markdown table and writes it into the "Performance" section of docs/rollback.md. Run by
`make bench` (or alone, with ANSIBLE_COLLECTIONS_PATH pointing at an installed copy). The releases it
rolls back are made without latency and are not measured.
"""

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "emulator"))

from apig_emulator.testing import running_emulator  # noqa: E402  pylint: disable=wrong-import-position
from harness import ACCESS_KEY, PROJECT_ID, SECRET_KEY, run_ansible_playbook  # noqa: E402  pylint: disable=wrong-import-position

DOC = ROOT / "docs" / "rollback.md"
INSTANCE = "5e1ec7ab1e5e1ec7ab1e5e1ec7ab1e10"
COUNT = 1000
DEFAULT_LATENCY_MS = 30
# "republished": live before the release and edited since, so the release republishes every API and the
# rollback switches each back; "fresh": never published, so the rollback takes them all offline.
DATA = {
    "projects": [{"id": PROJECT_ID, "name": "cn-north-4"}],
    "credentials": [{"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "project_ids": [PROJECT_ID]}],
    "instances": [{
        "id": INSTANCE, "project_id": PROJECT_ID, "kind": "apig",
        "groups": [{"name": "republished", "apis": []}, {"name": "fresh", "apis": []}],
        "generate": [{"group": "republished", "count": COUNT, "prefix": "rb-"},
                     {"group": "fresh", "count": COUNT, "prefix": "fresh-"}],
        "published": [{"group": "republished", "env": "RELEASE"}],
        "touched": ["rb-%04d" % number for number in range(1, COUNT + 1)],
    }],
}
OPS = ("ListApiVersionsV2", "ChangeApiVersionV2", "BatchPublishOrOfflineApiV2")


def release(scratch, emulator, group):
    """Release one group into its own folder (not measured); return the report's path."""
    folder = scratch / group
    variables = scratch / (group + ".yml")
    variables.write_text(json.dumps({"release_env": "RELEASE", "release_groups": [{"name": group}],
                                     "release_export_dir": str(folder)}))
    run_ansible_playbook(scratch, ["hwc.apig.release_and_export", "-e", "@" + str(variables)],
                         env_extra=connection(emulator))
    return folder / "release-report.json"


def connection(emulator):
    return {"HWC_APIG_ENDPOINT": emulator.url, "HWC_APIG_INSTANCE_ID": INSTANCE}


def rollback(scratch, emulator, report_path):
    """One measured run of the rollback playbook: wall clock, the report's own duration, request counts."""
    emulator.control.reset_log()
    started = time.monotonic()
    run_ansible_playbook(scratch, ["hwc.apig.rollback", "-e", "rollback_report=" + str(report_path)],
                         env_extra=connection(emulator))
    wall = time.monotonic() - started
    log = emulator.control.log()
    report = json.loads((report_path.parent / "rollback-report.json").read_text())
    assert report["status"] == "succeeded", report["summary"]
    return {"wall": wall, "inside": report["duration_seconds"], "reads": log["classes"].get("read", 0),
            "writes": log["classes"].get("write", 0), "counts": log["counts"], "summary": report["counts"]}


def table(rows):
    lines = ["| case | wall-clock (s) | rollback tasks (s) | reads | writes | history reads | switches | "
             "batch offline calls |", "|---|---|---|---|---|---|---|---|"]
    for label, row in rows:
        counts = row["counts"]
        lines.append("| %s | %.1f | %.1f | %d | %d | %d | %d | %d |" % (
            label, row["wall"], row["inside"], row["reads"], row["writes"],
            counts.get("ListApiVersionsV2", 0), counts.get("ChangeApiVersionV2", 0),
            counts.get("BatchPublishOrOfflineApiV2", 0)))
    return "\n".join(lines)


def write_section(text):
    """Replace the body of the "## Performance" section of docs/rollback.md (up to the next heading)."""
    doc = DOC.read_text()
    heading = re.search(r"^## Performance\n", doc, flags=re.M)
    if heading is None:
        raise SystemExit("%s has no '## Performance' section to write into" % DOC)
    rest = doc[heading.end():]
    following = re.search(r"^## ", rest, flags=re.M)
    tail = "\n" + rest[following.start():] if following else ""
    DOC.write_text(doc[:heading.end()] + "\n" + text + "\n" + tail)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS,
                        help="latency the emulator adds to every request (default %(default)s)")
    latency = parser.parse_args().latency_ms
    rows = []
    with tempfile.TemporaryDirectory() as folder, running_emulator(DATA) as emulator:
        scratch = Path(folder)
        republished = release(scratch, emulator, "republished")
        fresh = release(scratch, emulator, "fresh")
        emulator.control.set_faults({"seed": 1, "rules": [{"class": "all", "kind": "latency",
                                                           "latency_ms": latency}]})
        rows.append(("1,000 APIs republished by the release: each switched back", rollback(scratch, emulator, republished)))
        rows.append(("the same again (nothing to do)", rollback(scratch, emulator, republished)))
        rows.append(("1,000 APIs first published by the release: taken offline", rollback(scratch, emulator, fresh)))
    assert rows[0][1]["summary"]["switched"] == COUNT and rows[2][1]["summary"]["taken_offline"] == COUNT
    assert rows[1][1]["writes"] == 0
    text = "\n".join([
        "`tests/benchmark/bench_rollback.py` (run by `make bench`) rolls back releases of 1,000 APIs made with",
        "`hwc.apig.release_and_export`, with `ansible-playbook hwc.apig.rollback` against the emulator, %g ms of" % latency,
        "latency added to every request. Wall-clock includes Ansible's start-up; \"rollback tasks\" is the",
        "rollback report's own `duration_seconds` (from the playbook's first tasks to the report's data, before",
        "its two files are written). Request counts are exact, from the emulator's log.",
        "",
        table(rows),
        "",
        "A switch needs the API's version history (the release report records the publication that was",
        "live, not its version ID) and one `ChangeApiVersionV2` call, as the gateway has no batch form of it:",
        "two requests per API, four at a time. Taking APIs offline is one batch call per 1,000 APIs and",
        "needs no history. A run with nothing to do reads the listings only (the instance holds 2,000 APIs:",
        "environments and four listing pages, once for `apig_api_info` and once for `apig_api_version`).",
        "Waiting on the latency accounts for about %.0f s of the first case (%s requests, four at a time);" % (
            (rows[0][1]["reads"] + rows[0][1]["writes"]) / 4.0 * latency / 1000.0,
            "{:,}".format(rows[0][1]["reads"] + rows[0][1]["writes"])),
        "the rest is Ansible's: start-up, the two module runs' own work on 1,000 APIs, and templating and",
        "writing the rollback report.",
    ])
    write_section(text)
    print(text)


if __name__ == "__main__":
    main()
