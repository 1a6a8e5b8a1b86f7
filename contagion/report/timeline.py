"""The timeline of a report over a horizon: tables of one or several multi-year paths
(:class:`~contagion.paths.PathResult`), one per scenario.

- :func:`defaults_by_year`: institutions in default at the end of each year, and the new ones;
- :func:`maturity_wall`: principal falling due per year by borrower type, rolled over or called
  (from :attr:`PathResult.rolled_by_row` / :attr:`PathResult.called_by_row`);
- :func:`path_defaults`: who defaults, in which year and wave, with the shortfall and the cash the year before;
- :func:`failing_cash`: the cash carried out of each year by the institutions that default.

Examples
--------
>>> import contagion
>>> path = contagion.clear_path(contagion.load_dataset("chain"), (2026, 2027), ["a-fails"])
>>> defaults_by_year({"a-fails": path})["a-fails"].tolist()
[3, 3]
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

__all__ = ["defaults_by_year", "new_defaults_by_year", "maturity_wall", "path_defaults", "failing_cash",
           "MAX_FAILING_LINES"]

#: institutions drawn at most per scenario in the cash chart (the largest obligations before the path)
MAX_FAILING_LINES = 8


def _years(paths: Mapping[str, Any]) -> pd.Index:
    first = next(iter(paths.values()))
    return pd.Index([int(y) for y in first.years], name="year")


def defaults_by_year(paths: Mapping[str, Any]) -> pd.DataFrame:
    """Institutions in default at the end of each year (rows: years), one column per scenario."""
    return pd.DataFrame({label: p.defaulted.sum(axis=1).astype(int) for label, p in paths.items()},
                        index=_years(paths))


def new_defaults_by_year(paths: Mapping[str, Any]) -> pd.DataFrame:
    """Institutions whose default starts in each year (rows: years), one column per scenario."""
    return pd.DataFrame({label: p.new_defaults.sum(axis=1).astype(int) for label, p in paths.items()},
                        index=_years(paths))


def maturity_wall(paths: Mapping[str, Any]) -> pd.DataFrame:
    """Principal falling due per year and borrower type: ``scenario, year, borrower_type, rolled, called``.

    ``rolled``: re-lent at maturity; ``called``: due and not rolled (repaid, or owed by a borrower that cannot
    pay). Principal accelerated by a default is not in either. Borrower types in order of first appearance
    among the debt rows; every (scenario, year, type) of a type with debt is a row, zeros included.
    """
    frames = []
    for label, p in paths.items():
        di, _ = p.network.edge_index
        borrower = np.asarray(p.network.types, dtype=object).astype(str)[di]
        debt = (p.rolled_by_row > 0).any(axis=0) | (p.called_by_row > 0).any(axis=0)
        types = list(dict.fromkeys(borrower[debt]))
        for k, year in enumerate(p.years):
            rolled = pd.Series(p.rolled_by_row[k]).groupby(borrower).sum()
            called = pd.Series(p.called_by_row[k]).groupby(borrower).sum()
            frames.append(pd.DataFrame({"scenario": label, "year": int(year), "borrower_type": types,
                                        "rolled": [float(rolled.get(t, 0.0)) for t in types],
                                        "called": [float(called.get(t, 0.0)) for t in types]}))
    if not frames:
        return pd.DataFrame(columns=["scenario", "year", "borrower_type", "rolled", "called"])
    return pd.concat(frames, ignore_index=True)


def path_defaults(paths: Mapping[str, Any]) -> pd.DataFrame:
    """Who defaults on each path: ``scenario, name, type, default_year, wave, shortfall, cash_before`` (the
    shortfall in the default year; the cash carried into it, NaN in the first year), by year then wave."""
    rows = []
    for label, p in paths.items():
        types = np.asarray(p.network.types, dtype=object).astype(str)
        order = sorted((y, int(p.default_round[p.years.index(y), i]), i)
                       for i, y in enumerate(p.default_year) if y is not None)
        for y, wave, i in order:
            k = p.years.index(y)
            rows.append({"scenario": label, "name": str(p.names[i]), "type": types[i], "default_year": int(y),
                         "wave": wave, "shortfall": float(p.shortfall[k, i]),
                         "cash_before": float(p.cash[k - 1, i]) if k > 0 else float("nan")})
    return pd.DataFrame(rows, columns=["scenario", "name", "type", "default_year", "wave", "shortfall",
                                       "cash_before"])


def failing_cash(paths: Mapping[str, Any], limit: int | None = None) -> pd.DataFrame:
    """Cash carried out of each year by the institutions that default on each path (long format:
    ``scenario, name, default_year, year, cash``); with ``limit``, the ``limit`` of largest total
    obligations before the path per scenario."""
    rows = []
    for label, p in paths.items():
        failing = [i for i, y in enumerate(p.default_year) if y is not None]
        if limit is not None and len(failing) > limit:
            size = p.network.total_obligations
            failing = sorted(sorted(failing, key=lambda i: -size[i])[:limit])
        for i in failing:
            for k, year in enumerate(p.years):
                rows.append({"scenario": label, "name": str(p.names[i]), "default_year": int(p.default_year[i]),
                             "year": int(year), "cash": float(p.cash[k, i])})
    return pd.DataFrame(rows, columns=["scenario", "name", "default_year", "year", "cash"])
