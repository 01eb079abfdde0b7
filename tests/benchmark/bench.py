"""`make bench`: the collection against what users would otherwise run, side by side, under latency.

Starts the emulator with a per-request latency (default 30 ms), seeds it (tests/benchmark/data.yml)
and measures, in one run, interleaved, the median of --repeat repetitions of:

  1. apig_api_publish publishing N APIs (first run and no-op re-run);
  2. the naive runbook: ansible.builtin.uri looped over the APIs, one single-API publish call each
     (N = 10 and 100 measured, larger N extrapolated);
  3. the floor: one ansible.builtin.uri POST to the batch endpoint;
  4. apig_export (sync and async) against one ansible.builtin.uri download of the same export, with
     the peak RSS of each module process next to the file size;
  5. the role hwc.apig.release (3 groups x 100 APIs) against a playbook of the floor calls it needs;
  6. the role on 1 and on 10 gateway instances (forks 10);
  7. the HTTP requests of each case, from the emulator's request log.

Writes docs/performance.md, docs/performance-publish.png (drawn by chart.py in the benchmark's own
virtualenv, which has matplotlib) and the raw figures in .cache/bench/results.json. Not part of
`make test`: timings are measured here, never asserted in tests.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "benchmark"
PLAYBOOKS = HERE / "playbooks"
sys.path.insert(0, str(ROOT / "tests" / "emulator"))

from apig_emulator.state import stable_id  # noqa: E402  pylint: disable=wrong-import-position
from apig_emulator.testing import EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position

DATA = HERE / "data.yml"
BIN = Path(sys.executable).parent
PROJECT_ID = "0123456789abcdef0123456789abcdef"
ACCESS_KEY = "BENCHAK0000000000000"
SECRET_KEY = "benchSecretKey0123456789abcdefghijklmn"
USER = {"domain": {"name": "bench-account"}, "name": "bench-user", "password": "Bench-Passw0rd!"}
BULK_INSTANCE = "5e1ec7ab1e5e1ec7ab1e5e1ec7ab1e00"
GATEWAYS = ["5e1ec7ab1e5e1ec7ab1e5e1ec7ab1e%02d" % number for number in range(1, 11)]
ROLE_GROUPS = ["orders", "payments", "catalog"]
RELEASE_ENV_ID = "DEFAULT_ENVIRONMENT_RELEASE_ID"
SIZES = (100, 1000, 5000)
NAIVE_SIZES = (10, 100)


def group_id(instance, name):
    return stable_id("group", instance, name)


def bulk_group(size):
    return "bulk-%d" % size


def bulk_api_ids(size, count):
    """IDs of the first `count` APIs of the group bulk-<size> (the seed names them b<size>-0001...)."""
    return [stable_id("api", BULK_INSTANCE, bulk_group(size), "b%d-%04d" % (size, number))
            for number in range(1, count + 1)]


class Bench(object):
    def __init__(self, args, scratch):
        self.args = args
        self.scratch = scratch
        self.emulator = None
        self.token = None
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.samples = {}  # case -> [seconds]
        self.requests = {}  # case -> {class: count}
        self.rss = {}  # case -> KiB
        self.export_bytes = {}  # group size -> bytes of its export
        self.on_repetition = None  # called after each repetition (the figures so far are saved)
        self.cpu = {}  # case -> [CPU seconds of the playbook's processes]
        self.last_cpu = None

    # -- emulator ----------------------------------------------------------------------------
    def start(self):
        self.emulator = EmulatorProcess(DATA, self.scratch / "emulator.port", subprocess.DEVNULL,
                                        "--task-seconds", "0")

    def stop(self):
        if self.emulator:
            self.emulator.stop()

    def fresh(self):
        """Seed data again, latency on, a new IAM token for the uri tasks; then an empty request log."""
        control = self.emulator.control
        control.reset()
        control.set_faults({"seed": 0, "rules": [
            {"class": "all", "kind": "latency", "latency_ms": self.args.latency_ms}]})
        body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": USER}},
                                    "scope": {"project": {"id": PROJECT_ID}}}}).encode()
        request = urllib.request.Request(self.emulator.url + "/v3/auth/tokens", data=body,
                                         headers={"Content-Type": "application/json"})
        with self.opener.open(request, timeout=30) as answer:
            self.token = answer.headers["X-Subject-Token"]
        control.reset_log()

    def publish_groups(self, instance, names):
        """Publish whole groups with direct batch calls (set-up, not measured)."""
        for name in names:
            url = "%s/v2/%s/apigw/instances/%s/apis/publish?action=online" % (self.emulator.url, PROJECT_ID, instance)
            body = json.dumps({"env_id": RELEASE_ENV_ID, "group_id": group_id(instance, name)}).encode()
            request = urllib.request.Request(url, data=body, headers={
                "Content-Type": "application/json", "X-Auth-Token": self.token})
            with self.opener.open(request, timeout=120) as answer:
                answer.read()
        self.emulator.control.reset_log()

    # -- ansible-playbook ----------------------------------------------------------------------
    def env(self, extra=None):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("HUAWEICLOUD_", "HW_", "HWC_", "ANSIBLE_"))}
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections")),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_LOCAL_TEMP": str(self.scratch / "ansible-tmp"),
            "ANSIBLE_HOME": str(self.scratch / "ansible-home"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "PATH": str(BIN) + os.pathsep + env.get("PATH", ""),
            "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT_ID,
            "HUAWEICLOUD_SDK_AK": ACCESS_KEY,
            "HUAWEICLOUD_SDK_SK": SECRET_KEY,
        })
        env.update(extra or {})
        return env

    def playbook(self, playbook, variables=None, arguments=None, env=None, interpreter=None):
        """Run one ansible-playbook; return its wall-clock seconds."""
        command = [str(BIN / "ansible-playbook")]
        if arguments is None:
            merged = {"ansible_python_interpreter": interpreter or sys.executable, "bench_url": self.emulator.url,
                      "bench_project_id": PROJECT_ID, "bench_token": self.token}
            merged.update(variables or {})
            command += ["-i", "localhost,", "-c", "local", "-e", json.dumps(merged), str(playbook)]
        else:
            command += arguments
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        result = subprocess.run(command, env=self.env(env), cwd=str(self.scratch), capture_output=True, text=True,
                                timeout=1800, check=False)
        elapsed = time.monotonic() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of ansible-playbook and the modules it ran (not the emulator): steadier than wall
        # time on a busy machine, kept in results.json to find where time goes.
        self.last_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        if result.returncode != 0:
            sys.exit("ansible-playbook %s failed (rc %d):\n%s\n%s" % (
                playbook, result.returncode, result.stdout[-6000:], result.stderr[-3000:]))
        return elapsed

    def record(self, case, seconds):
        self.samples.setdefault(case, []).append(seconds)
        self.cpu.setdefault(case, []).append(self.last_cpu)
        classes = self.emulator.control.log()["classes"]
        self.requests[case] = dict((name, count) for name, count in classes.items() if name != "auth")
        if self.args.verbose:
            print("  %-28s %7.2f s  cpu %6.2f s  %s" % (case, seconds, self.last_cpu, self.requests[case]), flush=True)

    # -- cases -------------------------------------------------------------------------------
    def publish_cases(self):
        for size in self.args.sizes:
            group = bulk_group(size)
            self.fresh()
            self.record("publish ours %d" % size, self.playbook(PLAYBOOKS / "publish.yml", {
                "bench_instance_id": BULK_INSTANCE, "bench_group": group}))
            self.emulator.control.reset_log()
            self.record("publish noop %d" % size, self.playbook(PLAYBOOKS / "publish.yml", {
                "bench_instance_id": BULK_INSTANCE, "bench_group": group}))
            self.fresh()
            self.record("publish floor %d" % size, self.playbook(PLAYBOOKS / "publish_floor.yml", {
                "bench_instance_id": BULK_INSTANCE, "bench_group_id": group_id(BULK_INSTANCE, group)}))

    def naive_cases(self):
        for count in self.args.naive_sizes:
            self.fresh()
            self.record("publish naive %d" % count, self.playbook(PLAYBOOKS / "publish_naive.yml", {
                "bench_instance_id": BULK_INSTANCE, "bench_api_ids": bulk_api_ids(SIZES[0], count)}))

    def export_cases(self, measure_rss=False):
        self.fresh()
        self.publish_groups(BULK_INSTANCE, [bulk_group(size) for size in self.args.sizes])
        for size in self.args.sizes:
            group = bulk_group(size)
            for case, playbook, variables in (
                    ("export sync %d" % size, "export.yml", {"bench_export_mode": "sync"}),
                    ("export async %d" % size, "export.yml", {"bench_export_mode": "async"}),
                    ("export floor %d" % size, "export_floor.yml", {})):
                dest = self.scratch / ("%s.json" % group)
                if dest.exists():
                    dest.unlink()
                variables = dict(variables, bench_instance_id=BULK_INSTANCE, bench_group=group,
                                 bench_group_id=group_id(BULK_INSTANCE, group), bench_dest=str(dest))
                self.emulator.control.reset_log()
                if measure_rss:
                    self.rss[case] = self.peak_rss(PLAYBOOKS / playbook, variables)
                else:
                    self.record(case, self.playbook(PLAYBOOKS / playbook, variables))
                self.export_bytes[size] = dest.stat().st_size

    def peak_rss(self, playbook, variables):
        """Peak RSS (KiB) of the module process the playbook runs, through the peak_rss.py wrapper."""
        log = self.scratch / "rss.jsonl"
        if log.exists():
            log.unlink()
        wrapper = self.scratch / "python-peak-rss"
        wrapper.write_text('#!/bin/sh\nexec "%s" "%s" "$@"\n' % (sys.executable, HERE / "peak_rss.py"))
        wrapper.chmod(0o755)
        self.playbook(playbook, variables, interpreter=str(wrapper),
                      env={"BENCH_RSS_LOG": str(log), "BENCH_REAL_PYTHON": sys.executable})
        runs = [json.loads(line) for line in log.read_text().splitlines()]
        return max(run["maxrss_kib"] for run in runs)

    def role_inventory(self, count):
        hosts = dict(("gw%02d" % (number + 1), {"instance_id": instance, "service": "apig", "region": "cn-north-4"})
                     for number, instance in enumerate(GATEWAYS[:count]))
        path = self.scratch / ("inventory-%d.yml" % count)
        path.write_text(json.dumps({"gateways": {"hosts": hosts}}))
        return path

    def role_cases(self):
        variables = self.scratch / "release-vars.yml"
        variables.write_text(json.dumps({
            "release_env": "RELEASE", "release_groups": [{"name": name} for name in ROLE_GROUPS],
            "release_export_dir": "exports/{{ inventory_hostname }}",
            "ansible_python_interpreter": sys.executable}))
        for count in (1, 10):
            self.fresh()
            shutil.rmtree(self.scratch / "exports", ignore_errors=True)
            self.record("role %d" % count, self.playbook("hwc.apig.release_and_export", arguments=[
                "hwc.apig.release_and_export", "-i", str(self.role_inventory(count)), "-e", "@" + str(variables),
                "-e", "release_hosts=gateways", "--forks", "10"], env={"HWC_APIG_ENDPOINT": self.emulator.url}))
            if count == 1:
                self.fresh()
                dest = self.scratch / "floor-exports"
                shutil.rmtree(dest, ignore_errors=True)
                dest.mkdir()
                self.record("role floor 1", self.playbook(PLAYBOOKS / "release_floor.yml", {
                    "bench_instance_id": GATEWAYS[0], "bench_dest": str(dest),
                    "bench_groups": [{"name": name, "id": group_id(GATEWAYS[0], name)} for name in ROLE_GROUPS]}))

    def baseline_rss(self):
        return self.peak_rss(PLAYBOOKS / "ping.yml", {})

    def run(self):
        steps = [("publish", self.publish_cases), ("naive", self.naive_cases), ("export", self.export_cases),
                 ("role", self.role_cases)]
        steps = [(name, step) for name, step in steps if name in self.args.cases]
        for repetition in range(self.args.repeat):
            print("repetition %d of %d" % (repetition + 1, self.args.repeat), flush=True)
            for _name, step in steps:
                step()
            if repetition == 0 and "export" in self.args.cases:
                print("peak RSS runs", flush=True)
                self.export_cases(measure_rss=True)
                self.rss["baseline"] = self.baseline_rss()
            if self.on_repetition:
                self.on_repetition(repetition + 1)


def median(values):
    return statistics.median(values) if values else None


def machine():
    memory = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) / 1024.0 / 1024.0
    except OSError:
        pass
    model = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), None)
    except OSError:
        pass
    ansible = subprocess.run([str(BIN / "python"), "-c", "import ansible.release; print(ansible.release.__version__)"],
                             capture_output=True, text=True, check=False).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gib": round(memory, 1) if memory else None,
            "python": platform.python_version(), "ansible_core": ansible, "system": platform.system()}


def load_average():
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--latency-ms", type=float, default=30.0,
                        help="latency the emulator adds to every request (default 30)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each case; medians are reported (default 3)")
    parser.add_argument("--cases", default="publish,naive,export,role",
                        help="comma-separated subset of publish,naive,export,role (default all)")
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES),
                        help="group sizes of the publish and export cases (default 100,1000,5000)")
    parser.add_argument("--naive-sizes", default=",".join(str(size) for size in NAIVE_SIZES),
                        help="API counts the naive loop is measured at (default 10,100)")
    parser.add_argument("--results", default=str(ROOT / ".cache" / "bench" / "results.json"),
                        help="where the raw figures go")
    parser.add_argument("--report", default=str(ROOT / "docs" / "performance.md"), help="the Markdown page written")
    parser.add_argument("--chart", default=str(ROOT / "docs" / "performance-publish.png"), help="the chart written")
    parser.add_argument("--chart-python", help="a Python with matplotlib that draws the chart (chart.py); "
                                               "without it the chart is not redrawn")
    parser.add_argument("--no-report", action="store_true", help="measure and save the figures only")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: write the page and the chart from the figures in --results")
    parser.add_argument("--verbose", action="store_true", help="print every measurement")
    args = parser.parse_args(argv)
    args.cases = [case.strip() for case in args.cases.split(",") if case.strip()]
    args.sizes = [int(size) for size in args.sizes.split(",")]
    args.naive_sizes = [int(size) for size in args.naive_sizes.split(",")]
    unknown = set(args.cases) - {"publish", "naive", "export", "role"}
    if unknown or args.repeat < 1 or not set(args.sizes) <= set(SIZES) or max(args.naive_sizes) > SIZES[0]:
        parser.error("cases: publish,naive,export,role; sizes among %s; naive sizes up to %d; repeat >= 1"
                     % (SIZES, SIZES[0]))
    return args


def write_outputs(args, results):
    import report  # noqa: E402  pylint: disable=import-outside-toplevel
    Path(args.report).write_text(report.render(results, os.path.relpath(args.chart, os.path.dirname(args.report))))
    print("report: %s" % args.report)
    if args.chart_python:
        subprocess.run([args.chart_python, str(HERE / "chart.py"), args.results, args.chart], check=True)
        print("chart: %s" % args.chart)


def main(argv=None):
    args = parse_args(argv)
    if args.render_only:
        write_outputs(args, json.loads(Path(args.results).read_text()))
        return 0
    # Stopped from outside: still stop the emulator and remove the scratch folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    started = time.monotonic()
    load_before = load_average()

    def figures(bench, repetitions):
        return {
            "latency_ms": args.latency_ms,
            "repeat": repetitions,
            "machine": machine(),
            "load_average": {"start": load_before, "end": load_average()},
            "duration_s": round(time.monotonic() - started, 1),
            "sizes": args.sizes,
            "naive_sizes": args.naive_sizes,
            "samples": bench.samples,
            "medians": dict((case, median(values)) for case, values in bench.samples.items()),
            "requests": bench.requests,
            "cpu_s": dict((case, median(values)) for case, values in bench.cpu.items()),
            "rss_kib": bench.rss,
            "export_bytes": bench.export_bytes,
        }

    def save(bench, repetitions):
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        Path(args.results).write_text(json.dumps(figures(bench, repetitions), indent=1))

    with tempfile.TemporaryDirectory(prefix="hwc-apig-bench-") as scratch:
        bench = Bench(args, Path(scratch))
        bench.on_repetition = lambda done: save(bench, done)  # a run cut short keeps what it measured
        bench.start()
        try:
            bench.run()
        finally:
            bench.stop()
    results = figures(bench, args.repeat)
    save(bench, args.repeat)
    print("figures: %s (%.0f s)" % (args.results, results["duration_s"]))
    if not args.no_report:
        write_outputs(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
