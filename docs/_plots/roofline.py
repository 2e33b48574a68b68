"""Roofline of each hardware preset with Llama-2-7B decode and verification points (built with the docs)."""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

HERE = Path(sys.argv[0]).resolve().parent  # the plot directive runs this file with argv[0] = its path
sys.path.insert(0, str(HERE))
import _style  # noqa: E402

from specdec.roofline import HARDWARE, forward_cost, half_precision_dtype  # noqa: E402

_style.apply()

MODEL = "llama-2-7b"
CONTEXT = 1024
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
NEW_TOKENS = [1, 2, 4, 8, 16, 32, 64]

fig, axes = plt.subplots(2, 3, figsize=(8.5, 6.4), sharex=True, sharey=True, layout="constrained")
for ax, (key, hw) in zip(axes.flat, HARDWARE.items()):
    dtype = half_precision_dtype(hw)
    peak = hw.peak(dtype)
    intensity = np.logspace(-0.5, 3.3, 200)
    ax.loglog(intensity, np.minimum(peak, intensity * hw.bandwidth_bytes_per_s) / 1e12, color=_style.GREY, lw=1.5)
    ridge = hw.ridge_point(dtype)
    ax.axvline(ridge, color=_style.GREY, lw=0.8, ls=":")
    ax.annotate(f"ridge {ridge:.0f}", (ridge, peak / 1e12), xytext=(4, -12), textcoords="offset points")

    for context, marker, color, label in (
        (0, "o", _style.GREEN, "decode, batch 1..256, context 0"),
        (CONTEXT, "o", _style.BLUE, f"decode, batch 1..256, context {CONTEXT}"),
    ):
        pts = [forward_cost(MODEL, key, batch=b, context=context, weight_dtype=dtype) for b in BATCHES]
        ax.plot(
            [p.arithmetic_intensity for p in pts],
            [p.flops / p.time_s / 1e12 for p in pts],
            marker=marker,
            ms=4,
            ls="-",
            lw=0.8,
            color=color,
            mfc="none" if context == 0 else color,
            label=label,
        )
        last = pts[-1]
        ax.annotate(
            "b=256",
            (last.arithmetic_intensity, last.flops / last.time_s / 1e12),
            xytext=(-6, 6) if context == 0 else (4, -14),
            textcoords="offset points",
            color=color,
            fontsize=8,
            ha="right" if context == 0 else "left",
        )
    pts = [forward_cost(MODEL, key, new_tokens=t, context=CONTEXT, weight_dtype=dtype) for t in NEW_TOKENS]
    ax.plot(
        [p.arithmetic_intensity for p in pts],
        [p.flops / p.time_s / 1e12 for p in pts],
        marker="s",
        ms=4,
        ls="--",
        lw=0.8,
        color=_style.ORANGE,
        label=f"verify k+1 = 1..64, batch 1, context {CONTEXT}",
    )
    last = pts[-1]
    ax.annotate(
        "k+1=64",
        (last.arithmetic_intensity, last.flops / last.time_s / 1e12),
        xytext=(6, -4),
        textcoords="offset points",
        color=_style.ORANGE,
        fontsize=8,
    )
    ax.set_title(f"{key} ({dtype})")
    ax.set_ylim(0.2, 6000)
    ax.grid(True, which="major")

for ax in axes[1, :]:
    ax.set_xlabel("intensity (FLOP/byte)")
for ax in axes[:, 0]:
    ax.set_ylabel("attainable TFLOP/s")
legend_ax = axes.flat[-1]
handles, labels = axes.flat[0].get_legend_handles_labels()
legend_ax.axis("off")
legend_ax.legend(handles, labels, loc="center", title=f"{MODEL}, roofline points", title_fontsize=10, fontsize=9)
