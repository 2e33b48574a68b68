"""Leviathan et al. Theorem 3.8: speedup against k for several alpha and c (built with the docs)."""

import sys
from pathlib import Path

import matplotlib.pyplot as plt

HERE = Path(sys.argv[0]).resolve().parent  # the plot directive runs this file with argv[0] = its path
sys.path.insert(0, str(HERE))
import _style  # noqa: E402
from specdec.speedup import optimal_k, walltime_speedup  # noqa: E402

_style.apply()

KS = list(range(1, 17))
ALPHAS = [0.6, 0.7, 0.8, 0.9]
COSTS = [0.0, 0.05, 0.2]

fig, axes = plt.subplots(
    len(COSTS), 1, figsize=(_style.WIDTH_IN, 2.6 * len(COSTS)), sharex=True, layout="constrained"
)
for ax, c in zip(axes, COSTS):
    for alpha, color in zip(ALPHAS, _style.SERIES):
        ax.plot(KS, [walltime_speedup(alpha, k, c) for k in KS], color=color, lw=1.5, label=f"α = {alpha}")
        k_best, s_best = optimal_k(alpha, c, k_max=KS[-1])
        ax.plot([k_best], [s_best], marker="o", ms=5, color=color)
    ax.axhline(1.0, color=_style.GREY, lw=0.8, ls=":")
    ax.set_title(f"c = {c}")
    ax.set_xticks([1, 4, 8, 12, 16])
    ax.set_ylabel("speedup")
    ax.grid(True)
axes[-1].set_xlabel("k (drafted tokens per step)")
axes[0].legend(loc="upper left", ncols=2)
