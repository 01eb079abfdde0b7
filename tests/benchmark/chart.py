"""The chart of docs/performance.md: wall time against the number of APIs published.

    python chart.py RESULTS.json OUT.png

Runs in the benchmark's own virtualenv (matplotlib, tests/benchmark/requirements.txt).
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402  pylint: disable=wrong-import-position

from report import naive_at  # noqa: E402  pylint: disable=wrong-import-position


def main(results_path, out_path):
    with open(results_path, encoding="utf-8") as handle:
        results = json.load(handle)
    medians = results["medians"]
    sizes = sorted(results["sizes"])
    figure, axes = plt.subplots(figsize=(7.5, 4.6), dpi=110)

    def series(kind):
        points = [(count, medians.get("publish %s %d" % (kind, count))) for count in sizes]
        return [count for count, value in points if value], [value for count, value in points if value]

    for kind, label, style in (("ours", "apig_api_publish, first run", "o-"),
                               ("noop", "apig_api_publish, no-op re-run", "s--"),
                               ("floor", "floor: one batch uri POST", "^-")):
        xs, ys = series(kind)
        if xs:
            axes.plot(xs, ys, style, label=label, linewidth=2, markersize=6)
    measured = [(count, naive_at(results, count)[0]) for count in sorted(results["naive_sizes"])]
    measured = [(count, value) for count, value in measured if value is not None]
    if measured:
        axes.plot([count for count, _value in measured], [value for _count, value in measured], "D-",
                  color="tab:red", linewidth=2, markersize=6, label="naive uri loop (measured)")
        extrapolated = [(count, naive_at(results, count)[0]) for count in sizes if count >= measured[-1][0]]
        extrapolated = [(count, value) for count, value in extrapolated if value is not None]
        if len(extrapolated) > 1:
            axes.plot([count for count, _value in extrapolated], [value for _count, value in extrapolated], "D:",
                      color="tab:red", linewidth=1.5, markersize=5, markerfacecolor="none",
                      label="naive uri loop (extrapolated)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    plain = FuncFormatter(lambda value, _position: "{:,g}".format(value))
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("APIs published")
    axes.set_ylabel("wall time of ansible-playbook (s)")
    axes.set_title("Publishing N APIs, %g ms per request (median of %d)" % (results["latency_ms"], results["repeat"]))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(out_path, metadata={"Software": None})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
