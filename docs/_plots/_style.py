"""Shared look of the page's plots: dark grey text and axes, dark series colours, on white.

The SVGs are transparent; the site's stylesheet sets every plot on a white card in both of furo's
themes, so each colour here is chosen for white: text in any of them has a contrast of at least
4.5:1 (GREY 7.5:1, the series 4.8-6.5:1).

Sizes are chosen for a phone: a figure WIDTH_IN inches wide is drawn at its natural width (96 px
per inch) on a desktop and shrunk to the ~358 px column of a 390 px screen, where a 10 pt tick
label still renders at about 12.4 px (10 × 4/3 × 358 / (4 × 96)). Text stays text in the SVG
(``svg.fonttype: none``), so the site's browser test can read every font size.
"""

import json
from pathlib import Path

import matplotlib as mpl

WIDTH_IN = 4.0  # every figure is this wide; panels stack rather than sit side by side
GREY = "#555555"
BLUE = "#1f6dbf"
ORANGE = "#b35900"
GREEN = "#1e7d4f"
PURPLE = "#7a3fb8"
RED = "#c0392b"
SERIES = [BLUE, ORANGE, GREEN, PURPLE, RED]


def apply() -> None:
    mpl.rcParams.update(
        {
            "savefig.transparent": True,
            "figure.facecolor": "none",
            "axes.facecolor": "none",
            "text.color": GREY,
            "axes.labelcolor": GREY,
            "axes.edgecolor": GREY,
            "axes.titlecolor": GREY,
            "xtick.color": GREY,
            "ytick.color": GREY,
            "grid.color": GREY,
            "grid.alpha": 0.3,
            "legend.frameon": False,
            "legend.labelcolor": GREY,
            "font.size": 11,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 10,
            "svg.fonttype": "none",
            "axes.prop_cycle": mpl.cycler(color=SERIES),
        }
    )


RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"  # recorded runs the plots draw


def record(name: str) -> dict:
    """A recorded run from ``bench/results/`` (JSON), e.g. ``record("probe-cpu.json")``."""
    return json.loads((RESULTS / name).read_text())
