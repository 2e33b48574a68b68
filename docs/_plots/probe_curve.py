"""The recorded CPU probe run: measured t(n)/t(1) against the roofline's (built with the docs)."""

import sys
from pathlib import Path

import matplotlib.pyplot as plt

HERE = Path(sys.argv[0]).resolve().parent  # the plot directive runs this file with argv[0] = its path
sys.path.insert(0, str(HERE))
import _style  # noqa: E402

_style.apply()

run = _style.record("probe-cpu.json")

fig, ax = plt.subplots(figsize=(_style.WIDTH_IN, 3.6), layout="constrained")
ax.plot(
    run["tokens"], run["measured_ratios"], marker="o", color=_style.ORANGE, label="measured (recorded run)"
)
ax.plot(
    run["tokens"],
    run["predicted_ratios"],
    marker="s",
    color=_style.BLUE,
    label="roofline from measured peaks",
)
ax.axhline(1.0, color=_style.GREY, lw=0.8, ls=":")
ax.set_xscale("log", base=2)
ax.set_xticks(run["tokens"], [str(t) for t in run["tokens"]])
ax.minorticks_off()
ax.set_xlabel("n (token positions in x[n, d] @ W)")
ax.set_ylabel("t(n) / t(1)")
ax.set_title(f"x[n, {run['d_in']}] @ W[{run['d_in']}, {run['d_out']}]\nfp32, NumPy {run['numpy_version']}")
ax.grid(True)
ax.legend(loc="upper left")
