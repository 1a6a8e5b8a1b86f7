"""Dated obligations: what each row of the edge table owes in each year (DESIGN.md §7).

Optional columns of ``edges.csv`` (every one may be blank on a row):

- ``start``, ``end``: first and last year a recurring ``amount`` falls due
  (blank: every year); on a debt row ``start`` is the first year its interest and
  principal can fall due, and ``end`` is an error (a debt runs until it is repaid);
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

from .._columns import blank_cells, located_numbers
from ..io.rows import located_problems, table_rows
from ..errors import InvalidNetworkError, Problem, shown

__all__ = ["Schedule", "schedule_of", "ROLLOVER_RULES", "AMORTIZATIONS", "DATED_COLUMNS"]

#: rollover rule -> code in :attr:`Schedule.rollover`
ROLLOVER_RULES = {"none": 0, "always": 1, "ltv": 2}
#: amortization -> code in :attr:`Schedule.amortization`
AMORTIZATIONS = {"bullet": 0, "linear": 1}
#: the columns of edges.csv that date an obligation (DESIGN.md §7)
DATED_COLUMNS = ("start", "end", "principal", "rate", "maturity", "amortization", "rollover", "max_ltv", "collateral",
                 "term_years")


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
    collateral: np.ndarray      # collateral id of each row (object: str, or None where blank)

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


def _numbers(col: pd.Series, name: str, file: str, offset: int, problems: list[Problem], *,
             low: float | None = None, integer: bool = False, low_open: bool = False) -> np.ndarray:
    """A numeric column, blank -> nan (:func:`contagion._columns.located_numbers`; whole numbers are years)."""
    return located_numbers(col, name, file, offset, problems, low=low, low_open=low_open, integer=integer,
                           want="a whole year" if integer else None)


def _choices(col: pd.Series | None, name: str, table: dict[str, int], default: str, file: str, offset: int,
             problems: list[Problem], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, given)``: the code of each row's choice (``default`` where blank) and whether the cell holds
    one; every other value is a located problem. Vectorised: one pass of pandas' string methods."""
    out = np.full(n, table[default], dtype=np.int8)
    if col is None:
        return out, np.zeros(n, dtype=bool)
    blank = blank_cells(col)
    text = col.astype(object).where(~blank, "").astype(str).str.strip().str.lower()
    codes = text.map(table)
    known = codes.notna().to_numpy()
    for k in np.flatnonzero(~blank & ~known):
        problems.append(Problem(f"must be one of {', '.join(table)}, got {shown(col.iloc[k])}", file, int(k) + offset,
                                name))
    ok = ~blank & known
    out[ok] = codes.to_numpy()[ok].astype(np.int8)
    return out, ok


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
    rows = table_rows(net, "edges")      # its file, rows in its format's words
    file, offset = rows.file, rows.offset
    problems: list[Problem] = []
    col = lambda c: edges[c] if c in edges.columns else None  # noqa: E731
    blank = pd.Series(np.full(n, np.nan))       # a missing column: numeric blanks, checked without a loop

    def numbers(c: str, **rule: Any) -> np.ndarray:
        return _numbers(col(c) if col(c) is not None else blank, c, file, offset, problems, **rule)

    start = numbers("start", integer=True)
    end = numbers("end", integer=True)
    principal = numbers("principal", low=0.0)
    rate = numbers("rate", low=0.0)
    maturity = numbers("maturity", integer=True)
    max_ltv = numbers("max_ltv", low=0.0, low_open=True)
    amort, amort_given = _choices(col("amortization"), "amortization", AMORTIZATIONS, "bullet", file, offset,
                                  problems, n)
    roll, _ = _choices(col("rollover"), "rollover", ROLLOVER_RULES, "none", file, offset, problems, n)
    rolls = roll != ROLLOVER_RULES["none"]
    # term_years is the term of a rolled principal on a row that rolls (a whole number of years >= 1, blank = 1);
    # on any other row it only describes the contract (any number of years >= 0, e.g. 3.5; not used)
    term = np.full(n, np.nan)
    if col("term_years") is not None:
        raw_term = col("term_years")
        kept = located_numbers(raw_term.where(~rolls), "term_years", file, offset, problems, low=0.0)
        rolled = located_numbers(raw_term.where(rolls), "term_years", file, offset, problems, low=1.0, integer=True,
                                 want="a whole number of years >= 1 (the term a rolled principal is re-lent for)")
        term = np.where(rolls, rolled, kept)
    coll_col = col("collateral")
    coll_blank = blank_cells(coll_col) if coll_col is not None else np.ones(n, dtype=bool)
    collateral = np.full(n, None, dtype=object)
    if coll_col is not None and not coll_blank.all():
        collateral[~coll_blank] = coll_col[~coll_blank].astype(str).str.strip().to_numpy(dtype=object)

    is_debt = ~np.isnan(principal)
    bad_principal = ~is_debt & ~blank_cells(col("principal")) if col("principal") is not None else np.zeros(n, bool)
    plain = ~is_debt & ~bad_principal        # rows without a principal (a bad one is reported already)
    problems += [Problem(f"end {int(end[k])} is before start {int(start[k])}", file, int(k) + offset, "end")
                 for k in np.flatnonzero(np.isfinite(start) & np.isfinite(end) & (end < start))]
    problems += [Problem(f"end {int(end[k])} on a debt row: a debt runs until its principal is repaid (maturity, "
                         f"amortization, rollover); end is the last year of a recurring amount", file, int(k) + offset,
                         "end") for k in np.flatnonzero(is_debt & np.isfinite(end))]
    maturity_blank = blank_cells(col("maturity")) if col("maturity") is not None else np.ones(n, dtype=bool)
    problems += [Problem("a debt row (with a principal) needs a maturity year", file, int(k) + offset, "maturity")
                 for k in np.flatnonzero(is_debt & maturity_blank)]
    # a dated value without a principal describes nothing that falls due: say so, do not ignore it
    for name, values, mask in (("maturity", maturity, ~np.isnan(maturity)), ("rate", rate, ~np.isnan(rate)),
                               ("max_ltv", max_ltv, ~np.isnan(max_ltv))):
        problems += [Problem(f"{name} {values[k]:g} without a principal (only a debt row has one)", file,
                             int(k) + offset, name) for k in np.flatnonzero(plain & mask)]
    problems += [Problem(f"amortization {shown(col('amortization').iloc[k])} without a principal (only a debt row "
                         f"is repaid)", file, int(k) + offset, "amortization")
                 for k in np.flatnonzero(plain & amort_given & (amort != AMORTIZATIONS["bullet"]))]
    problems += [Problem("a rollover rule needs a principal to roll", file, int(k) + offset, "rollover")
                 for k in np.flatnonzero(plain & rolls)]
    ltv = roll == ROLLOVER_RULES["ltv"]
    problems += [Problem(f"max_ltv {max_ltv[k]:g} applies only to rollover 'ltv' (this row's rollover is "
                         f"{'none' if not rolls[k] else 'always'})", file, int(k) + offset, "max_ltv")
                 for k in np.flatnonzero(is_debt & ~ltv & ~np.isnan(max_ltv))]
    max_ltv_blank = blank_cells(col("max_ltv")) if col("max_ltv") is not None else np.ones(n, dtype=bool)
    problems += [Problem("rollover 'ltv' needs max_ltv (> 0)", file, int(k) + offset, "max_ltv")
                 for k in np.flatnonzero(ltv & max_ltv_blank)]
    problems += [Problem("rollover 'ltv' needs a collateral id", file, int(k) + offset, "collateral")
                 for k in np.flatnonzero(ltv & coll_blank)]
    if problems:
        problems.sort(key=lambda p: (-1 if p.row is None else p.row))
        raise InvalidNetworkError(located_problems(net, problems))
    amount = edges["amount"].to_numpy(dtype=np.float64)
    term = np.where(np.isnan(term) | ~rolls, 1.0, term)
    return Schedule(
        amount=amount, start=np.where(np.isnan(start), -np.inf, start), end=np.where(np.isnan(end), np.inf, end),
        is_debt=is_debt, principal=np.where(is_debt, principal, 0.0), rate=np.where(np.isnan(rate), 0.0, rate),
        maturity=np.where(is_debt, maturity, np.nan), amortization=amort, rollover=roll,
        max_ltv=np.where(np.isnan(max_ltv), np.inf, max_ltv), term=term, collateral=collateral,
    )
