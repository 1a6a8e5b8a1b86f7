"""Figures for notebooks and reports: each function returns a ``matplotlib.figure.Figure`` (no global state).

- :func:`cascade`: defaults and shortfall by wave of a clearing;
- :func:`losses_by_creditor_type`: who bears the loss;
- :func:`loss_distribution`: a sweep's system-loss histogram with VaR and expected shortfall;
- :func:`path_timeline`: defaults and shortfall by year of a multi-year path.

>>> import contagion
>>> from contagion import plots
>>> st = contagion.stress(contagion.load_dataset("core-periphery"))
>>> fig = plots.cascade(st.clearing)
>>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
['0', '1']
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["cascade", "losses_by_creditor_type", "loss_distribution", "path_timeline"]

_COLOURS = ("#0f2a44", "#c8a951", "#2a7f8e", "#b03a2e", "#7d8b99")


def _figure(width: float = 6.4, height: float = 3.6, integer_y: bool = False):
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    if integer_y:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig, ax


def cascade(result: Any):
    """Bars of the number of institutions defaulting in each wave, with their shortfall on a second axis.

    ``result``: a :class:`~contagion.ClearingResult` (or anything with ``clearing``, e.g. a
    :class:`~contagion.pipeline.StressResult`).
    """
    res = getattr(result, "clearing", result)
    rounds = np.asarray(res.default_round)
    waves = np.arange(int(rounds.max()) + 1) if (rounds >= 0).any() else np.arange(0)
    counts = np.array([(rounds == w).sum() for w in waves])
    short = np.array([res.shortfall[rounds == w].sum() for w in waves])
    fig, ax = _figure(integer_y=True)
    ax.bar(waves, counts, color=_COLOURS[0], label="defaults")
    ax.set_xticks(waves, [str(w) for w in waves])
    ax.set_xlabel("wave (0 = fundamental)")
    ax.set_ylabel("institutions defaulting")
    ax.set_title("Default cascade")
    if waves.size:
        ax2 = ax.twinx()
        ax2.plot(waves, short, "o-", color=_COLOURS[3], label="shortfall")
        ax2.set_ylabel("shortfall")
    return fig


def losses_by_creditor_type(result: Any):
    """Horizontal bars of the losses borne by each creditor type (outside creditors included)."""
    from .measures import losses_by_creditor_type as losses

    res = getattr(result, "clearing", result)
    s = losses(res).sort_values()
    fig, ax = _figure(6.4, 0.4 * max(len(s), 2) + 1.2)
    ax.barh([str(k) for k in s.index], s.to_numpy(), color=_COLOURS[2])
    ax.set_xlabel("loss")
    ax.set_title("Who bears the loss")
    return fig


def loss_distribution(sweep: Any, bins: int = 50):
    """Histogram of a sweep's system loss with the VaR and expected shortfall of each configured level."""
    from .sweep.result import level_key

    counts, edges = sweep.histogram(bins)
    fig, ax = _figure()
    ax.stairs(counts, edges, fill=True, color=_COLOURS[4])
    for k, q in enumerate(sweep.levels):
        colour = _COLOURS[(k + 1) % len(_COLOURS)]
        ax.axvline(sweep.var(q), color=colour, linestyle="--", label=f"VaR {level_key(q)}")
        ax.axvline(sweep.es(q), color=colour, linestyle=":", label=f"ES {level_key(q)}")
    ax.set_xlabel("system loss")
    ax.set_ylabel("draws")
    ax.set_title(f"System loss over {sweep.n:,} draws")
    ax.legend(frameon=False)
    return fig


def path_timeline(path: Any):
    """Institutions in default (cumulative, and new) and total shortfall, by year of a path."""
    years = np.asarray(path.years)
    fig, ax = _figure(integer_y=True)
    ax.bar(years, path.defaulted.sum(axis=1), color=_COLOURS[4], label="in default")
    ax.bar(years, path.new_defaults.sum(axis=1), color=_COLOURS[3], label="new defaults")
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_ylabel("institutions")
    ax.set_title("Defaults by year")
    ax.legend(frameon=False, loc="upper left")
    ax2 = ax.twinx()
    ax2.plot(years, path.shortfall.sum(axis=1), "o-", color=_COLOURS[0])
    ax2.set_ylabel("total shortfall")
    return fig
