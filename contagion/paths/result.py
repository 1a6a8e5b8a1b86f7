"""The outcome of a multi-year clearing: per year and institution, and per institution over the path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PathResult"]


@dataclass(frozen=True, eq=False)
class PathResult:
    """A path of yearly clearings (immutable; arrays are ``(years, institutions)``, rows in :attr:`years` order).

    Attributes
    ----------
    network : FinancialNetwork
        The network before the path (after any scenario without a year).
    years : tuple of int
    scenarios : tuple of Scenario
        The scenarios applied (shocks without ``year`` every year, the others in their years).
    default_applied : bool
        Whether ``scenarios`` is the dataset's default scenario (none was asked for).
    payments, obligations, shortfall, equity, external_assets, cash : ndarray
        Per year: what each one paid, what fell due (``pbar``, accelerated and
        carried amounts included), the shortfall, equity after clearing, the
        outside assets it had (cash carried in included), and the cash it
        carried out to the next year.
    defaulted : ndarray of bool
        In default in that year or before (a default is absorbing).
    default_round : ndarray of int
        Wave in which it defaulted that year (-1: not a new default that year): its wave in the year's
        first clearing; for those brought down only once the first defaulters' later debts were
        accelerated, their wave in that clearing, at least one more than the last wave before.
    default_year : tuple of int or None
        First year in default (None: never), aligned with ``network.names``.
    rolled_principal, called_principal : ndarray
        Per year: principal re-lent at maturity, and principal due that year (called or amortised).
    rolled_by_row, called_by_row : ndarray
        The same per row of ``network.edges``, ``(years, obligations)`` (their row sums are
        ``rolled_principal`` and ``called_principal``): the maturity wall by borrower or lender.
    clearings : tuple of ClearingResult
        The clearing of each year (exact, through :func:`contagion.clear`).
    """

    network: Any = field(repr=False)
    years: tuple[int, ...]
    scenarios: tuple = ()
    default_applied: bool = False
    payments: np.ndarray = field(default=None, repr=False)
    obligations: np.ndarray = field(default=None, repr=False)
    shortfall: np.ndarray = field(default=None, repr=False)
    equity: np.ndarray = field(default=None, repr=False)
    external_assets: np.ndarray = field(default=None, repr=False)
    cash: np.ndarray = field(default=None, repr=False)
    defaulted: np.ndarray = field(default=None, repr=False)
    default_round: np.ndarray = field(default=None, repr=False)
    rolled_principal: np.ndarray = field(default=None, repr=False)
    called_principal: np.ndarray = field(default=None, repr=False)
    rolled_by_row: np.ndarray = field(default=None, repr=False)
    called_by_row: np.ndarray = field(default=None, repr=False)
    clearings: tuple = field(default=(), repr=False)
    bases: tuple = field(default=(), repr=False)
    method: str = "eisenberg-noe"
    params: dict = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.network.names)

    @property
    def default_year(self) -> tuple[int | None, ...]:
        """First year each institution is in default (None = never)."""
        first = np.argmax(self.defaulted, axis=0)
        ever = self.defaulted.any(axis=0)
        return tuple(int(self.years[k]) if e else None for k, e in zip(first, ever))

    @property
    def new_defaults(self) -> np.ndarray:
        """``(years, n)`` bool: defaults that start in that year."""
        before = np.vstack([np.zeros((1, self.defaulted.shape[1]), dtype=bool), self.defaulted[:-1]])
        return self.defaulted & ~before

    def year(self, year: int):
        """The :class:`~contagion.ClearingResult` of ``year``."""
        try:
            return self.clearings[self.years.index(int(year))]
        except ValueError:
            raise KeyError(f"{year} is not in the horizon {self.years[0]}-{self.years[-1]}") from None

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per year and institution, indexed by ``(year, name)``.

        Columns: ``type, obligations, payment, shortfall, equity, external_assets, cash, defaulted,
        new_default, default_round``.
        """
        K, n = self.payments.shape
        idx = pd.MultiIndex.from_product([list(self.years), list(self.names)], names=["year", "name"])
        types = np.tile(np.asarray(self.network.types, dtype=object).astype(str), K)
        return pd.DataFrame({
            "type": types,
            "obligations": self.obligations.ravel(),
            "payment": self.payments.ravel(),
            "shortfall": self.shortfall.ravel(),
            "equity": self.equity.ravel(),
            "external_assets": self.external_assets.ravel(),
            "cash": self.cash.ravel(),
            "defaulted": self.defaulted.ravel(),
            "new_default": self.new_defaults.ravel(),
            "default_round": self.default_round.ravel(),
        }, index=idx)

    def summary(self) -> list[dict[str, Any]]:
        """Per year: ``year, defaults, new_defaults, total_shortfall, external_shortfall, rolled_principal,
        called_principal, cash`` (plain Python values)."""
        out = []
        new = self.new_defaults
        for k, y in enumerate(self.years):
            res = self.clearings[k]
            out.append({
                "year": int(y),
                "defaults": int(self.defaulted[k].sum()),
                "new_defaults": int(new[k].sum()),
                "new_default_names": [self.names[i] for i in np.flatnonzero(new[k])],
                "total_shortfall": float(self.shortfall[k].sum()),
                "external_shortfall": float(res.external_shortfall),
                "rolled_principal": float(self.rolled_principal[k]),
                "called_principal": float(self.called_principal[k]),
                "cash": float(self.cash[k].sum()),
            })
        return out

    def __repr__(self) -> str:
        first = [y for y in self.default_year if y is not None]
        return (f"PathResult(years={self.years[0]}-{self.years[-1]}, n={len(self.names)}, "
                f"defaults={len(first)}, method={self.method!r})")
