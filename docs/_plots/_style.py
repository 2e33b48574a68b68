"""Shared look of the page's plots: transparent background, mid-grey text and axes, mid-tone series.

Mid-tone colours read on furo's light (white) and dark (#131416-ish) backgrounds alike.
"""

import matplotlib as mpl

GREY = "#888888"
BLUE = "#4c9be8"
ORANGE = "#e8833a"
GREEN = "#3fb37f"
PURPLE = "#b07fe0"
RED = "#e06c75"
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
            "font.size": 10,
            "axes.prop_cycle": mpl.cycler(color=SERIES),
        }
    )
