"""Dated obligations: what each row of the edge table owes in each year (DESIGN.md §7).

Optional columns of ``edges.csv`` (every one may be blank on a row):

- ``start``, ``end``: first and last year a recurring ``amount`` falls due
  (blank: every year);
- ``principal`` (outstanding at the start of the horizon), ``rate`` (annual
  interest), ``maturity`` (year the principal is due), ``amortization``
  (``bullet``, the default, or ``linear``): a row with a ``principal`` is
  debt, and what falls due in a year is the interest on the outstanding
  principal plus the principal due that year (its ``amount`` is the one-year
  figure of a plain run and is not used on a path; when it is blank the
  reader sets it to a year's interest, ``principal * rate``);
- ``rollover``: ``none`` (default), ``always`` or ``ltv`` (with ``max_ltv``):
  a rolled principal is re-lent at maturity for ``term_years`` more years (one
  year when blank), not paid;
- ``collateral``: the id of a row of ``collateral.csv`` (needed by ``ltv``).

Every bad value is reported with the file, row, column and value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._columns import is_blank, located_numbers, table_file
from ..errors import InvalidNetworkError, Problem, shown

__all__ = ["Schedule", "schedule_of", "ROLLOVER_RULES", "AMORTIZATIONS", "DATED_COLUMNS"]

#: rollover rule -> code in :attr:`Schedule.rollover`
ROLLOVER_RULES = {"none": 0, "always": 1, "ltv": 2}
#: amortization -> code in :attr:`Schedule.amortization`
AMORTIZATIONS = {"bullet": 0, "linear": 1}
#: the columns of edges.csv that date an obligation (DESIGN.md §7)
DATED_COLUMNS = ("start", "end", "principal", "rate", "maturity", "amortization", "rollover", "max_ltv", "collateral")


@dataclass(frozen=True, eq=False)
class Schedule:
    """The dated columns of a network's edge table as arrays (one entry per row of ``net.edges``).

    Years are floats with ``-inf`` / ``inf`` for a blank ``start`` / ``end``;
    ``maturity`` is ``nan`` and ``principal`` 0 for rows that are not debt.
    """

    amount: np.ndarray          # recurring amount (rows without a principal)
    start: np.ndarray
    end: np.ndarray
    is_debt: np.ndarray         # bool: the row has a principal
    principal: np.ndarray
    rate: np.ndarray
    maturity: np.ndarray
    amortization: np.ndarray    # int8 code of AMORTIZATIONS
    rollover: np.ndarray        # int8 code of ROLLOVER_RULES
    max_ltv: np.ndarray
    term: np.ndarray            # years a rolled principal is re-lent for (>= 1)
    collateral: tuple[str | None, ...]

    @property
    def dated(self) -> bool:
        """Whether any row uses a dated column (else the network is the same every year)."""
        return bool(self.is_debt.any() or np.isfinite(self.start).any() or np.isfinite(self.end).any())

    def recurring_due(self, year: int) -> np.ndarray:
        """What the non-debt rows owe in ``year`` (their ``amount`` when ``start <= year <= end``)."""
        active = ~self.is_debt & (self.start <= year) & (year <= self.end)
        return np.where(active, self.amount, 0.0)

    def outside_years(self, year: int) -> np.ndarray:
        """The non-debt rows that cannot fall due in ``year`` (before their ``start`` or after their ``end``):
        a scenario's shock that sets their amount does not make them due then."""
        return ~self.is_debt & ((self.start > year) | (year > self.end))


def _where(net: Any) -> tuple[str, int]:
    """``(file label, row offset)`` of the edge table: rows as in the file (header = row 1) when read from one."""
    return table_file(net.metadata, "edges")


def _numbers(col: pd.Series, name: str, file: str, offset: int, problems: list[Problem], *,
             low: float | None = None, integer: bool = False, low_open: bool = False) -> np.ndarray:
    """A numeric column, blank -> nan (:func:`contagion._columns.located_numbers`; whole numbers are years)."""
    return located_numbers(col, name, file, offset, problems, low=low, low_open=low_open, integer=integer,
                           want="a whole year" if integer else None)


def _choices(col: pd.Series | None, name: str, table: dict[str, int], default: str, file: str, offset: int,
             problems: list[Problem], n: int) -> np.ndarray:
    out = np.full(n, table[default], dtype=np.int8)
    if col is None:
        return out
    for k, v in enumerate(col.tolist()):
        if is_blank(v):
            continue
        key = v.strip().lower() if isinstance(v, str) else v
        if key not in table:
            problems.append(Problem(f"must be one of {', '.join(table)}, got {shown(v)}", file, k + offset, name))
            continue
        out[k] = table[key]
    return out


def schedule_of(net: Any) -> Schedule:
    """Read the dated columns of ``net.edges`` (blank where a column is missing).

    Raises
    ------
    InvalidNetworkError
        Listing every bad value with file, row, column and value (a maturity
        that is not a whole year, a negative principal, an unknown rollover
        rule, ``ltv`` without ``max_ltv`` or ``collateral``, ...).

    Examples
    --------
    >>> import contagion, pandas as pd
    >>> net = contagion.FinancialNetwork.from_edges(pd.DataFrame({
    ...     "debtor": ["A"], "creditor": ["B"], "amount": [5.0], "principal": [100.0], "rate": [0.05],
    ...     "maturity": [2028]}))
    >>> s = schedule_of(net)
    >>> s.dated, s.principal.tolist(), s.maturity.tolist()
    (True, [100.0], [2028.0])
    """
    edges = net.edges
    n = len(edges)
    file, offset = _where(net)
    problems: list[Problem] = []
    col = lambda c: edges[c] if c in edges.columns else None  # noqa: E731
    blank = pd.Series([None] * n, dtype=object)

    start = _numbers(col("start") if col("start") is not None else blank, "start", file, offset, problems,
                     integer=True)
    end = _numbers(col("end") if col("end") is not None else blank, "end", file, offset, problems, integer=True)
    principal = _numbers(col("principal") if col("principal") is not None else blank, "principal", file, offset,
                         problems, low=0.0)
    rate = _numbers(col("rate") if col("rate") is not None else blank, "rate", file, offset, problems, low=0.0)
    maturity = _numbers(col("maturity") if col("maturity") is not None else blank, "maturity", file, offset,
                        problems, integer=True)
    max_ltv = _numbers(col("max_ltv") if col("max_ltv") is not None else blank, "max_ltv", file, offset, problems,
                       low=0.0, low_open=True)
    term = _numbers(col("term_years") if col("term_years") is not None else blank, "term_years", file, offset,
                    problems, low=0.0)
    amort = _choices(col("amortization"), "amortization", AMORTIZATIONS, "bullet", file, offset, problems, n)
    roll = _choices(col("rollover"), "rollover", ROLLOVER_RULES, "none", file, offset, problems, n)
    coll_col = col("collateral")
    collateral: list[str | None] = []
    for v in (coll_col.tolist() if coll_col is not None else [None] * n):
        collateral.append(None if is_blank(v) else str(v).strip())

    is_debt = ~np.isnan(principal)
    for k in range(n):
        row = k + offset
        if np.isfinite(start[k]) and np.isfinite(end[k]) and end[k] < start[k]:
            problems.append(Problem(f"end {int(end[k])} is before start {int(start[k])}", file, row, "end"))
        raw_maturity = edges["maturity"].iloc[k] if "maturity" in edges.columns else None
        blank_maturity = is_blank(raw_maturity)
        if is_debt[k] and blank_maturity:
            problems.append(Problem("a debt row (with a principal) needs a maturity year", file, row, "maturity"))
        if not is_debt[k]:
            # a maturity without a principal describes nothing that falls due: say so, do not ignore it
            if not np.isnan(maturity[k]):
                problems.append(Problem(f"maturity {int(maturity[k])} without a principal", file, row, "maturity"))
            if roll[k] != ROLLOVER_RULES["none"]:
                problems.append(Problem("a rollover rule needs a principal to roll", file, row, "rollover"))
        if roll[k] == ROLLOVER_RULES["ltv"]:
            if np.isnan(max_ltv[k]):
                problems.append(Problem("rollover 'ltv' needs max_ltv (> 0)", file, row, "max_ltv"))
            if collateral[k] is None:
                problems.append(Problem("rollover 'ltv' needs a collateral id", file, row, "collateral"))
    if problems:
        raise InvalidNetworkError(problems)
    amount = edges["amount"].to_numpy(dtype=np.float64)
    term = np.where(np.isnan(term) | (term < 1), 1.0, np.round(term))
    return Schedule(
        amount=amount, start=np.where(np.isnan(start), -np.inf, start), end=np.where(np.isnan(end), np.inf, end),
        is_debt=is_debt, principal=np.where(is_debt, principal, 0.0), rate=np.where(np.isnan(rate), 0.0, rate),
        maturity=np.where(is_debt, maturity, np.nan), amortization=amort, rollover=roll,
        max_ltv=np.where(np.isnan(max_ltv), np.inf, max_ltv), term=term, collateral=tuple(collateral),
    )
