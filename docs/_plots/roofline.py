"""Roofline of each hardware preset with Llama-2-7B decode and verification points (built with the docs).

One panel per preset of ``specdec.roofline.HARDWARE``, two per row, so a preset added to the data file
gets its panel; the legend takes the spare place of an odd count, or sits below an even one.
"""

import math
import sys
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

HERE = Path(sys.argv[0]).resolve().parent  # the plot directive runs this file with argv[0] = its path
sys.path.insert(0, str(HERE))
import _style  # noqa: E402
from specdec.roofline import HARDWARE, forward_cost, half_precision_dtype  # noqa: E402

_style.apply()

MODEL = "llama-2-7b"
CONTEXT = 1024
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
NEW_TOKENS = [1, 2, 4, 8, 16, 32, 64]
COLUMNS = 2
PANEL_HEIGHT_IN = 2.7
# Five panels need the full 5 in (the shared _style.WIDTH_IN is 4 in), so all text is 12.5 pt: shrunk
# to a 390 px phone's ~358 px column, 12.5 pt still renders at 12.4 px (12.5 x 4/3 x 358 / 480).
FIGURE_WIDTH_IN = 5.0
TEXT_PT = 12.5
mpl.rcParams.update({"font.size": TEXT_PT, "xtick.labelsize": TEXT_PT, "ytick.labelsize": TEXT_PT})
PLAIN = FuncFormatter(lambda value, _: f"{value:g}")  # "100", not mathtext 10^2 (kept as SVG text)


def attainable(points):
    """Intensity and attained TFLOP/s of each forward cost."""
    return [p.arithmetic_intensity for p in points], [p.flops / p.time_s / 1e12 for p in points]


def label_last(ax, points, text, offset, color, ha="left"):
    x, y = attainable(points[-1:])
    ax.annotate(
        text, (x[0], y[0]), xytext=offset, textcoords="offset points", color=color, fontsize=TEXT_PT, ha=ha
    )


def panel(ax, key, hw):
    dtype = half_precision_dtype(hw)
    peak = hw.peak(dtype)
    intensity = np.logspace(-0.5, 3.3, 200)
    ax.loglog(
        intensity, np.minimum(peak, intensity * hw.bandwidth_bytes_per_s) / 1e12, color=_style.GREY, lw=1.5
    )
    ridge = hw.ridge_point(dtype)
    ax.axvline(ridge, color=_style.GREY, lw=0.8, ls=":")
    ax.annotate(
        f"ridge {ridge:.0f}",
        (ridge, 0.3),
        xytext=(-3, 0),
        textcoords="offset points",
        fontsize=TEXT_PT,
        ha="right",
        va="center",
    )
    for context, color in ((0, _style.GREEN), (CONTEXT, _style.BLUE)):
        pts = [forward_cost(MODEL, key, batch=b, context=context, weight_dtype=dtype) for b in BATCHES]
        ax.plot(
            *attainable(pts),
            marker="o",
            ms=4,
            lw=0.8,
            color=color,
            mfc="none" if context == 0 else color,
            label=f"decode, batch 1 to 256,\ncontext {context}",
        )
        if context:
            label_last(ax, pts, "B=256", (4, -13), color)
    pts = [forward_cost(MODEL, key, new_tokens=t, context=CONTEXT, weight_dtype=dtype) for t in NEW_TOKENS]
    ax.plot(
        *attainable(pts),
        marker="s",
        ms=4,
        ls="--",
        lw=0.8,
        color=_style.ORANGE,
        label=f"verify k+1 = 1 to 64,\nbatch 1, context {CONTEXT}",
    )
    label_last(ax, pts, "k+1=64", (-2, 7), _style.ORANGE, ha="right")
    ax.set_title(f"{key} ({dtype})", fontsize=TEXT_PT)
    ax.set_ylim(0.2, 6000)
    ax.grid(True, which="major")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(PLAIN)
        axis.set_minor_formatter(NullFormatter())


n = len(HARDWARE)
rows = math.ceil(n / COLUMNS)
spare = rows * COLUMNS - n
fig, axes = plt.subplots(
    rows,
    COLUMNS,
    figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * rows + (0 if spare else 0.8)),
    sharex=True,
    sharey=True,
    layout="constrained",
    squeeze=False,
)
for ax, (key, hw) in zip(axes.flat, HARDWARE.items()):
    panel(ax, key, hw)
for ax in axes.flat[n - COLUMNS : n]:  # the lowest panel of each column shows the x ticks
    ax.xaxis.set_tick_params(labelbottom=True)
fig.supxlabel("intensity (FLOP/byte)", fontsize=TEXT_PT)
fig.supylabel("attainable TFLOP/s", fontsize=TEXT_PT)
handles, labels = axes.flat[0].get_legend_handles_labels()
title = f"{MODEL}, roofline points"
if spare:
    for ax in axes.flat[n:]:
        ax.axis("off")
    axes.flat[-1].legend(handles, labels, loc="center", title=title, title_fontsize=TEXT_PT, fontsize=TEXT_PT)
else:
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=COLUMNS,
        title=title,
        title_fontsize=TEXT_PT,
        fontsize=TEXT_PT,
    )
