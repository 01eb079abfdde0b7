"""docs/performance.md from the figures bench.py measured (results.json)."""

TARGETS_NOTE = "The targets are measured here, not asserted in tests."


def seconds(value):
    if value is None:
        return "-"
    return "%.2f s" % value if value < 100 else "%.0f s" % value


def ratio(top, bottom):
    if top is None or not bottom:
        return None
    return top / bottom


def times(value, digits=2):
    if value is None:
        return "-"
    return ("%%.%df×" % digits) % value


def mib(kib):
    return "-" if kib is None else "%.0f MiB" % (kib / 1024.0)


def size(count):
    if count is None:
        return "-"
    if count >= 1024 * 1024:
        return "%.1f MiB" % (count / 1024.0 / 1024.0)
    return "%.0f KiB" % (count / 1024.0)


def requests(counts):
    """`3 reads, 1 write` from the emulator's per-class counts."""
    if counts is None:
        return "-"
    parts = []
    for name in ("read", "write", "export"):
        count = counts.get(name, 0)
        if count:
            parts.append("%d %s%s" % (count, name, "" if count == 1 else "s"))
    return ", ".join(parts) or "none"


def module_baseline(rss):
    """The interpreter's baseline of apig_export: its own process on the smallest group (a 61 KiB file)."""
    return rss.get("export sync 100")


def cpu_ratio(results, case, baseline):
    cpu = results.get("cpu_s") or {}
    return ratio(cpu.get(case), cpu.get(baseline))


def naive_fit(medians, naive_sizes):
    """(intercept, seconds per API) of a straight line through the naive loop's measured points."""
    points = [(count, medians.get("publish naive %d" % count)) for count in naive_sizes]
    points = [(count, value) for count, value in points if value is not None]
    if len(points) < 2:
        return None
    (x1, y1), (x2, y2) = points[0], points[-1]
    slope = (y2 - y1) / float(x2 - x1)
    return y1 - slope * x1, slope


def naive_at(results, count):
    """(seconds, measured?) of the naive loop at `count` APIs."""
    medians = results["medians"]
    measured = medians.get("publish naive %d" % count)
    if measured is not None:
        return measured, True
    fit = naive_fit(medians, results["naive_sizes"])
    if fit is None:
        return None, False
    return fit[0] + fit[1] * count, False


def loadavg(values):
    return "/".join("%.1f" % value for value in values) if values else "-"


def verdict(ok):
    return "-" if ok is None else ("met" if ok else "**not met**")


def render(results, chart):
    medians, counts, rss = results["medians"], results["requests"], results["rss_kib"]
    machine, load = results["machine"], results["load_average"]
    latency = results["latency_ms"]
    lines = [
        "# Performance",
        "",
        "`make bench` measures the collection against what a user would otherwise run: a loop of",
        "`ansible.builtin.uri` tasks, one call per API (the naive runbook), and the least any playbook can do",
        "(the floor: one `ansible.builtin.uri` task making the one call the job needs). Every figure is the",
        "wall time of a whole `ansible-playbook` run, Ansible's start-up included, against the emulator",
        "(`tests/emulator/`) answering each request **%g ms** later, as a cloud round trip would." % latency,
        "Cases run interleaved (ours, then the baseline, in each repetition); each figure is the median of",
        "%d repetitions. Request counts come from the emulator's request log. CPU time is that of the" % results["repeat"],
        "`ansible-playbook` run and the modules it starts (not the emulator's): steadier than wall time when",
        "other work shares the machine.",
        "",
        "- Machine: %s CPUs%s, %s GiB of memory, %s, Python %s, ansible-core %s."
        % (machine["cpus"], " (%s)" % machine["cpu_model"] if machine.get("cpu_model") else "",
           machine["memory_gib"], machine["system"], machine["python"], machine["ansible_core"]),
        "- Latency added to every request: %g ms. Repetitions: %d (medians)." % (latency, results["repeat"]),
        "- Load average (1/5/15 min) at the start %s, at the end %s; the measuring took %.1f minutes."
        % (loadavg(load.get("start")), loadavg(load.get("end")), results["duration_s"] / 60.0),
        "",
    ]
    lines += publish_section(results, medians, counts, chart)
    lines += export_section(results, medians, counts, rss)
    lines += role_section(results, medians, counts)
    lines += targets_section(results, medians, counts, rss)
    lines += method_section(results)
    return "\n".join(lines) + "\n"


def publish_section(results, medians, counts, chart):
    lines = [
        "## Publishing N APIs: `hwc.apig.apig_api_publish`",
        "",
        "![Wall time against the number of APIs published: ours, the naive loop and the floor](%s)" % chart,
        "",
        "| APIs | ours, first run | ours, no-op re-run | floor: one batch `uri` POST | naive `uri` loop "
        "| ours ÷ floor | no-op ÷ floor | naive ÷ ours | CPU ÷ floor: ours / no-op "
        "| requests: ours / no-op / floor / naive |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    sizes = sorted(set(results["sizes"]) | set(results["naive_sizes"]))
    for count in sizes:
        ours, noop, floor = (medians.get("publish %s %d" % (kind, count)) for kind in ("ours", "noop", "floor"))
        naive, measured = naive_at(results, count)
        naive_text = "-" if naive is None else (seconds(naive) if measured else "≈ %s (extrapolated)" % seconds(naive))
        naive_counts = counts.get("publish naive %d" % count)
        if naive_counts is None and naive is not None:
            naive_counts_text = "%d writes (one per API)" % count
        else:
            naive_counts_text = requests(naive_counts)
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s / %s / %s |" % (
            "{:,}".format(count), seconds(ours), seconds(noop), seconds(floor), naive_text,
            times(ratio(ours, floor)), times(ratio(noop, floor)),
            times(ratio(naive, ours), 0) if ours else "-",
            times(cpu_ratio(results, "publish ours %d" % count, "publish floor %d" % count)),
            times(cpu_ratio(results, "publish noop %d" % count, "publish floor %d" % count)),
            requests(counts.get("publish ours %d" % count)), requests(counts.get("publish noop %d" % count)),
            requests(counts.get("publish floor %d" % count)), naive_counts_text))
    fit = naive_fit(medians, results["naive_sizes"])
    lines += [""]
    if fit:
        lines += ["The naive loop is measured at %s APIs; larger counts are extrapolated along the straight line"
                  % " and ".join("{:,}".format(count) for count in results["naive_sizes"]),
                  "through those points (%.2f s + %.3f s per API): each API costs one task and one call." % fit, ""]
    return lines


def export_section(results, medians, counts, rss):
    lines = [
        "## Exporting a group: `hwc.apig.apig_export`",
        "",
        "| APIs | file | ours, sync | ours, async | floor: `uri` download | sync ÷ floor | async ÷ floor "
        "| CPU ÷ floor: sync / async | peak RSS: sync / async / `uri` | requests: sync / async / floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for count in results["sizes"]:
        sync, async_, floor = (medians.get("export %s %d" % (kind, count)) for kind in ("sync", "async", "floor"))
        if sync is None and floor is None:
            continue
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s / %s | %s / %s / %s |" % (
            "{:,}".format(count), size(results["export_bytes"].get(str(count), results["export_bytes"].get(count))),
            seconds(sync), seconds(async_), seconds(floor), times(ratio(sync, floor)), times(ratio(async_, floor)),
            times(cpu_ratio(results, "export sync %d" % count, "export floor %d" % count)),
            times(cpu_ratio(results, "export async %d" % count, "export floor %d" % count)),
            mib(rss.get("export sync %d" % count)), mib(rss.get("export async %d" % count)),
            mib(rss.get("export floor %d" % count)),
            requests(counts.get("export sync %d" % count)), requests(counts.get("export async %d" % count)),
            requests(counts.get("export floor %d" % count))))
    lines += [
        "",
        "Peak RSS is that of the module process (the `ansible.builtin.uri` one for the floor), measured once",
        "per case in separate runs through an interpreter wrapper. The interpreter's baseline is that of",
        "`apig_export` on the group of 100 APIs, %s: Python, Ansible's module code and `requests`, with a" % mib(
            module_baseline(rss)),
        "document too small to count (`ansible.builtin.ping`, which imports no HTTP library, peaks at %s)." % mib(
            rss.get("baseline")),
        "The export is JSON (`define: spec`, Swagger 2.0).",
        "",
    ]
    return lines


def role_section(results, medians, counts):
    one, floor, ten = medians.get("role 1"), medians.get("role floor 1"), medians.get("role 10")
    cpu = results.get("cpu_s") or {}
    if one is None:
        return []
    return [
        "## The whole release: the role `hwc.apig.release`",
        "",
        "The collection playbook `hwc.apig.release_and_export` on gateways of three groups of 100 APIs each:",
        "publish each group, export each group, write the report.",
        "",
        "| case | wall time | CPU time | compared with | wall ratio | CPU ratio | requests |",
        "|---|---:|---:|---|---:|---:|---|",
        "| the role, 1 gateway | %s | %s | its floor | %s | %s | %s |" % (
            seconds(one), seconds(cpu.get("role 1")), times(ratio(one, floor)),
            times(ratio(cpu.get("role 1"), cpu.get("role floor 1"))), requests(counts.get("role 1"))),
        "| floor of the tasks it runs, 1 gateway | %s | %s | | | | %s |" % (
            seconds(floor), seconds(cpu.get("role floor 1")), requests(counts.get("role floor 1"))),
        "| the role, 10 gateways (`--forks 10`) | %s | %s | the role on 1 gateway | %s | %s | %s |" % (
            seconds(ten), seconds(cpu.get("role 10")), times(ratio(ten, one)),
            times(ratio(cpu.get("role 10"), cpu.get("role 1"))), requests(counts.get("role 10"))),
        "",
        "The floor is one playbook with the one call each step needs: an `ansible.builtin.uri` batch publish",
        "per group, an `ansible.builtin.uri` export download per group, and the report written as JSON and",
        "Markdown by `ansible.builtin.copy`.",
        "",
    ]


def targets_section(results, medians, counts, rss):
    rows = []

    def add(target, measured, ok, cpu=None):
        rows.append("| %s | %s | %s | %s |" % (target, measured, times(cpu) if cpu else "", verdict(ok)))

    def cpu(case, baseline):
        return cpu_ratio(results, case, baseline)

    ours, noop, floor = (medians.get("publish %s 1000" % kind) for kind in ("ours", "noop", "floor"))
    naive, measured = naive_at(results, 1000)
    if ours and floor:
        value = ratio(ours, floor)
        add("publish 1,000 APIs ≤ 1.10× the floor", times(value), value <= 1.10,
            cpu("publish ours 1000", "publish floor 1000"))
        if naive:
            value = ratio(naive, ours)
            add("publish 1,000 APIs ≥ 200× faster than the naive loop", "%s%s" % (
                times(value, 0), "" if measured else " (naive loop extrapolated)"), value >= 200)
        found = counts.get("publish ours 1000", {})
        add("publish 1,000 APIs: ≤ 4 reads, 1 write", requests(found),
            found.get("read", 0) <= 4 and found.get("write", 0) == 1)
    if noop and floor:
        value = ratio(noop, floor)
        add("no-op re-run of 1,000 APIs ≤ 1.10× the floor", times(value), value <= 1.10,
            cpu("publish noop 1000", "publish floor 1000"))
    ours, floor = medians.get("publish ours 5000"), medians.get("publish floor 5000")
    if ours and floor:
        value = ratio(ours, floor)
        add("publish 5,000 APIs ≤ 1.4× the floor", times(value), value <= 1.4,
            cpu("publish ours 5000", "publish floor 5000"))
    sync, floor = medians.get("export sync 5000"), medians.get("export floor 5000")
    if sync and floor:
        value = ratio(sync, floor)
        add("export of 5,000 APIs ≤ 1.3× the `uri` download", "sync %s, async %s" % (
            times(value), times(ratio(medians.get("export async 5000"), floor))), value <= 1.3,
            cpu("export sync 5000", "export floor 5000"))
    file_bytes = results["export_bytes"].get("5000", results["export_bytes"].get(5000))
    baseline = module_baseline(rss)
    for mode in ("sync", "async"):
        peak = rss.get("export %s 5000" % mode)
        if peak and file_bytes and baseline:
            bound = 3 * file_bytes / 1024.0 + baseline
            add("module peak RSS ≤ 3× the file size + the interpreter's baseline (5,000 APIs, %s)" % mode,
                "%s against 3 × %s + %s = %s" % (mib(peak), size(file_bytes), mib(baseline), mib(bound)),
                peak <= bound)
    one, ten = medians.get("role 1"), medians.get("role 10")
    if one and ten:
        value = ratio(ten, one)
        add("the role on 10 gateways ≤ 2.5× the role on 1", times(value), value <= 2.5, cpu("role 10", "role 1"))
    if not rows:
        return []
    return ["## Targets", "", TARGETS_NOTE + " They are judged on wall time; the CPU-time ratio is beside it.", "",
            "| target | measured (wall time) | CPU-time ratio | |", "|---|---|---:|---|"] + rows + [""]


def method_section(results):
    cpu = results.get("cpu_s") or {}
    cpu_total = sum(cpu.values())
    # Every case runs on one CPU at a time but the 10-gateway role, which keeps all of them busy.
    # Plus about 20 s per repetition for the emulator's resets and the round trips.
    idle = cpu_total - cpu.get("role 10", 0) + cpu.get("role 10", 0) / float(results["machine"]["cpus"] or 1) + 20
    return [
        "## How it is measured",
        "",
        "- `make bench` (not part of `make test`) builds and installs the collection, starts the emulator",
        "  with `tests/benchmark/data.yml` (one gateway with groups of 100, 1,000 and 5,000 APIs; ten gateways",
        "  with three groups of 100 APIs), and runs `tests/benchmark/bench.py`. `make bench LATENCY_MS=100`",
        "  changes the latency; `BENCH_ARGS` passes other options (`--repeat`, `--cases`, `--sizes`,",
        "  see `bench.py --help`). The chart is drawn with matplotlib, installed only for `make bench` into",
        "  a virtualenv of its own (`tests/benchmark/requirements.txt`).",
        "- Before each first run the emulator is reset to its seed data (nothing published); the no-op",
        "  re-run follows the first run. The export cases run on groups already published.",
        "- The collection's modules sign each request with AK/SK; the `uri` baselines send an IAM token",
        "  (`uri` cannot sign), fetched before the run. The token request is not counted.",
        "- The emulator's export task finishes as soon as it is started, so the async figures are the",
        "  module's own cost (start the task, poll once), not a gateway's processing time.",
        "- Both export sides write a new file (the old one is removed before each run).",
        "- The emulator runs on the same machine, so its own processing (rendering 500-API pages, applying",
        "  1,000-API batches) is part of every figure, the floor's included.",
        "- A load average above the CPU count means other work shared the machine while measuring: the",
        "  absolute times are then higher than on an idle machine, and interleaving keeps the comparisons fair.",
        "- Duration: the processes of one repetition use %.0f CPU-seconds (the 10-gateway role, the largest," % cpu_total,
        "  runs on every CPU); with the emulator's resets the measuring takes about %.0f minutes per repetition"
        % (idle / 60.0),
        "  on an idle machine of this size, and a fresh clone's `make bench` (virtualenvs and build, about 3",
        "  minutes) about %.0f. Hence %d repetitions, N up to 5,000 and the naive loop measured at %s APIs"
        % (3 + idle * results["repeat"] / 60.0, results["repeat"],
           " and ".join("{:,}".format(count) for count in results["naive_sizes"])),
        "  only; `BENCH_ARGS` with `--repeat`, `--cases` or `--sizes` shortens a run.",
        "",
    ]
