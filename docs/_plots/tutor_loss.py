"""The recorded training run of the grammar tutor and its draft: loss against step (built with the docs)."""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

HERE = Path(sys.argv[0]).resolve().parent  # the plot directive runs this file with argv[0] = its path
sys.path.insert(0, str(HERE))
import _style  # noqa: E402

_style.apply()

run = _style.record("tutor-train.json")
FLOOR = 1e-5

fig, ax = plt.subplots(figsize=(_style.WIDTH_IN, 3.6), layout="constrained")
for (name, rec), color in zip(run["models"].items(), (_style.BLUE, _style.ORANGE)):
    steps, loss = zip(*rec["loss_curve"])
    # the record rounds each 25-step mean to 5 decimals: a 0 there is a mean below 5e-6, drawn at the floor
    ax.plot(
        steps,
        [max(v, FLOOR) for v in loss],
        color=color,
        label=f"{name}, {rec['parameters'] / 1e6:.2f} M parameters",
    )
ax.set_yscale("log")
ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # plain text, not mathtext 10^x
ax.yaxis.set_minor_formatter(NullFormatter())
lowest = min(max(v, FLOOR) for rec in run["models"].values() for _, v in rec["loss_curve"])
ax.set_ylim(lowest / 2, None)  # the floor only when a mean rounded to 0
ax.set_xlabel("training step (16 rows of 128 tokens)")
ax.set_ylabel("cross-entropy (nats/token)")  # mean of each 25 steps
ax.set_title("loss on the corrections\n(recorded run)")
ax.grid(True)
ax.legend(loc="upper right")
