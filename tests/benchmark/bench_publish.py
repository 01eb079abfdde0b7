"""Benchmark: wall-clock time and request counts of apig_api_publish against the emulator.

Run with `make bench`; writes docs/benchmarks.md. Not part of `make test`: timings belong here.
"""

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "emulator"))

from apig_emulator.testing import running_emulator  # noqa: E402  pylint: disable=wrong-import-position
from harness import DATA, INSTANCES, run_playbook  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = ROOT / "tests" / "benchmark" / "publish.yml"
CASES = [
    ("publish 1,200 APIs (first run)", {"bench_state": "published"}),
    ("publish 1,200 APIs again (no-op)", {"bench_state": "published"}),
    ("republish 1,200 APIs (force)", {"bench_state": "published", "bench_force": True}),
    ("take 1,200 APIs offline", {"bench_state": "offline"}),
]


def main():
    rows = []
    with tempfile.TemporaryDirectory() as scratch, running_emulator(DATA) as emulator:
        for label, variables in CASES:
            emulator.control.reset_log()
            variables.update({"emulator_url": emulator.url, "apig_service": "apig",
                              "apig_instance_id": INSTANCES["apig"]})
            started = time.monotonic()
            run_playbook(Path(scratch), str(PLAYBOOK), variables)
            elapsed = time.monotonic() - started
            classes = emulator.control.log()["classes"]
            rows.append((label, elapsed, classes.get("read", 0), classes.get("write", 0)))
    lines = ["# Benchmarks", "",
             "`make bench` runs `tests/benchmark/bench_publish.py`: one `ansible-playbook` run per case against the",
             "local emulator (APIG, group of 1,200 APIs, default `batch_size` 1000). Wall-clock includes Ansible's",
             "start-up (about 1 s); request counts are exact.", "",
             "| case | wall-clock (s) | reads | writes |", "|---|---|---|---|"]
    lines += ["| %s | %.2f | %d | %d |" % row for row in rows]
    report = "\n".join(lines) + "\n"
    (ROOT / "docs" / "benchmarks.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
