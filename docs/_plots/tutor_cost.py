"""The recorded benchmark of the grammar tutor: t(T)/t(1) of one forward of T new tokens (built with
the docs)."""

import sys
from pathlib import Path

import matplotlib.pyplot as plt

HERE = Path(sys.argv[0]).resolve().parent  # the plot directive runs this file with argv[0] = its path
sys.path.insert(0, str(HERE))
import _style  # noqa: E402

_style.apply()

run = _style.record("tutor-bench.json")

fig, ax = plt.subplots(figsize=(_style.WIDTH_IN, 3.6), layout="constrained")
for (name, rec), color, marker in zip(run["models"].items(), (_style.BLUE, _style.ORANGE), "os"):
    curve = rec["cost_curve"]
    ax.plot(
        curve["tokens"],
        curve["ratio"],
        marker=marker,
        color=color,
        label=f"{name}: t(1) = {curve['ms'][0]:.2f} ms",
    )
ax.plot([1, 32], [1, 32], color=_style.GREY, lw=0.8, ls=":", label="T one-token forwards")
ax.set_xticks([1, 4, 8, 12, 16, 20, 24, 28, 32])
ax.set_ylim(0, 8)

ax.set_xlabel("T (new tokens in one forward)")
ax.set_ylabel("t(T) / t(1)")
ax.set_title(f"{curve['context']} cached positions, batch 1\n(recorded run)")
ax.grid(True)
ax.legend(loc="upper left")
