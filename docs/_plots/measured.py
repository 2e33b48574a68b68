"""The recorded H200 run and CPU probe beside the roofline's prediction for the same shapes (built
with the docs from bench/results/, with specdec.evidence pairing every measured point with its
prediction)."""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

HERE = Path(sys.argv[0]).resolve().parent  # the plot directive runs this file with argv[0] = its path
sys.path.insert(0, str(HERE))
import _style  # noqa: E402
from specdec.evidence import gpu_points, probe_points  # noqa: E402

_style.apply()

TEXT_PT = 10  # legends; nothing is smaller (a 390 px phone shows 10 pt at ~12.4 px)
PLAIN = FuncFormatter(lambda value, _: f"{value:g}")  # "100", not mathtext 10^2 (kept as SVG text)

series: dict[str, list] = {}
for p in gpu_points(_style.record("gpu-h200-2026-11-29.json")):
    series.setdefault(p.series, []).append(p)
series["cpu probe"] = probe_points(_style.record("probe-cpu.json"))


def column(name, attr, scale=1.0):
    return [p.tokens for p in series[name]], [getattr(p, attr) * scale for p in series[name]]


fig, axes = plt.subplots(2, 2, figsize=(_style.WIDTH_IN, 6.2), layout="constrained")
(gemm, stack), (achieved, ratio) = axes

gemm.loglog(*column("gemm", "measured_s", 1e6), "o", ms=4, color=_style.ORANGE, label="measured")
gemm.loglog(*column("gemm", "predicted_s", 1e6), "-", color=_style.GREY, label="roofline")
gemm.set(title="GEMM, d 8192", xlabel="T", ylabel="time (us)")

key = "llama7b_shape_S1024"
stack.semilogx(
    *column(f"{key} graph", "measured_s", 1e3), "o-", ms=4, lw=0.8, color=_style.ORANGE, label="graph"
)
stack.semilogx(
    *column(f"{key} eager", "measured_s", 1e3), "s--", ms=3, lw=0.8, color=_style.PURPLE, label="eager"
)
stack.semilogx(*column(f"{key} graph", "predicted_s", 1e3), "-", color=_style.GREY, label="roofline")
stack.set(title="7B-shaped stack", xlabel="T", ylabel="time (ms)", ylim=(0, 24))

styles = {
    "gemm": ("o", _style.ORANGE),
    f"{key} graph": ("s", _style.BLUE),
    f"{key} eager": ("s", _style.PURPLE),
    "tiny_S64 graph": ("^", _style.GREEN),
    "tiny_S64 eager": ("^", _style.RED),
    "cpu probe": ("D", _style.GREY),
}
labels = {"gemm": "GEMM", f"{key} graph": "7B graph", f"{key} eager": "7B eager", "cpu probe": "CPU"}
for name, (marker, color) in styles.items():
    label = labels.get(name, name.replace("tiny_S64", "25M"))
    achieved.loglog(*column(name, "fraction"), marker=marker, ms=3, lw=0.8, color=color, label=label)
achieved.set(title="achieved / roofline", xlabel="T", ylim=(0.0004, 2), yticks=[0.01, 0.1, 1])

for name, color, label in ((f"{key} graph", _style.BLUE, "7B graph"), ("gemm", _style.ORANGE, "GEMM")):
    tokens, measured = column(name, "measured_s")
    _, predicted = column(name, "predicted_s")
    ratio.semilogx(tokens, [m / measured[0] for m in measured], "o-", ms=3, lw=0.8, color=color, label=label)
    ratio.semilogx(tokens, [p / predicted[0] for p in predicted], ":", lw=1.2, color=color)
ratio.semilogx([], [], ":", lw=1.2, color=_style.GREY, label="roofline")
ratio.set(title="t(T) / t(1)", xlabel="T", ylim=(0.9, 2.0), xlim=(1, 300))

for ax in axes.flat:
    ax.grid(True, which="major")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(PLAIN)
        axis.set_minor_formatter(NullFormatter())
    ax.title.set_fontsize(11)
for ax in (gemm, stack, ratio):
    ax.legend(fontsize=TEXT_PT, loc="upper left", handlelength=1.5)
# six series: a legend under the figure, not over the half-width panel's points
fig.legend(
    *achieved.get_legend_handles_labels(),
    loc="outside lower center",
    ncols=3,
    fontsize=TEXT_PT,
    handlelength=1.0,
    columnspacing=0.8,
)
