"""Multi-year clearing: dated obligations, rollover, collateral, cash carried forward (DESIGN.md §7).

:func:`clear_path` clears a network year by year over a horizon and returns a
:class:`PathResult`; :mod:`~contagion.paths.engine` states the order of the
steps within a year, :mod:`~contagion.paths.schedule` the dated columns of the
edge table, :mod:`~contagion.paths.tables` ``collateral.csv`` and
``cashflows.csv``.

>>> import contagion
>>> path = contagion.clear_path(contagion.load_dataset("chain"), (2026, 2027), ["a-fails"])
>>> path.default_year
(2026, 2026, 2026)
"""

from __future__ import annotations

from .engine import MAX_YEARS, AccelerationWarning, HorizonWarning, clear_path
from .result import PathResult
from .schedule import DATED_COLUMNS, Schedule, schedule_of
from .slowdown import demand_slowdown, slowdown_path
from .tables import Cashflows, CollateralTable, read_cashflows, read_collateral

__all__ = ["clear_path", "PathResult", "Schedule", "schedule_of", "DATED_COLUMNS", "CollateralTable", "Cashflows",
           "read_collateral", "read_cashflows", "MAX_YEARS", "HorizonWarning", "AccelerationWarning", "demand_slowdown", "slowdown_path"]
