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
    bases : tuple of FinancialNetwork
        Each year's network before that year's shocks, with what earlier years carry into it (cash in hand,
        unpaid amounts owed again, the guarantees' caps left) and before any acceleration: the shock, the
        pre-shock equity and the losses of the year are measured against it (``loss_summary(clearings[k],
        bases[k])``, ``clearings[k].to_frame(owed_network(bases[k]))``).
    asset_names : tuple of str
        The assets carried from year to year by a method that sells them
        (``fire-sale``, ``fire-sale-leverage``); empty otherwise.
    prices : mapping
        Asset name -> ``(years,)`` array: its price where each year's clearing
        ended (the next year starts there; 1 before any sale).
    units_held, units_sold : ndarray or None
        ``(years, institutions, assets)``: units held at the start of each year
        (before its sales) and units sold in it, aligned with ``asset_names``;
        ``units_held[k + 1] = units_held[k] - units_sold[k]``. None without assets.
    guarantees_given : ndarray or None
        ``(years,)``: the caps of the guarantees and residual value guarantees still in force each year (a cap
        is for the whole path: what was paid on it in earlier years is gone; the year's shocks and the rows'
        ``start``/``end`` apply). None when the network has none.
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
    asset_names: tuple[str, ...] = ()
    prices: dict = field(default_factory=dict, repr=False)
    guarantees_given: np.ndarray | None = field(default=None, repr=False)
    units_held: np.ndarray | None = field(default=None, repr=False)
    units_sold: np.ndarray | None = field(default=None, repr=False)

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
        new_default, default_round``; on a path with assets (fire sales) also ``units_held``, ``units_sold``
        and ``asset_value`` (units held at the year's prices), summed over assets as in a one-year
        fire-sale table, and ``price_<asset>`` per asset (the year's price, on every row of the year).
        """
        K, n = self.payments.shape
        idx = pd.MultiIndex.from_product([list(self.years), list(self.names)], names=["year", "name"])
        types = np.tile(np.asarray(self.network.types, dtype=object).astype(str), K)
        return pd.DataFrame({**{
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
        }, **self._asset_columns()}, index=idx)

    def _asset_columns(self) -> dict[str, np.ndarray]:
        """The long-format asset columns (none without assets)."""
        if not self.asset_names:
            return {}
        n = len(self.names)
        q = np.column_stack([self.prices[a] for a in self.asset_names])           # (years, K)
        return {"units_held": self.units_held.sum(axis=2).ravel(), "units_sold": self.units_sold.sum(axis=2).ravel(),
                "asset_value": np.einsum("ynk,yk->yn", self.units_held, q).ravel(),
                **{f"price_{a}": np.repeat(self.prices[a], n) for a in self.asset_names}}

    def summary(self) -> list[dict[str, Any]]:
        """Per year: ``year, defaults, new_defaults, total_shortfall, external_shortfall, rolled_principal,
        called_principal, cash`` (plain Python values); with assets also ``prices`` (asset -> the year's price)
        and ``units_sold`` (all institutions)."""
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
                **({"prices": {a: float(self.prices[a][k]) for a in self.asset_names},
                    "units_sold": float(self.units_sold[k].sum())} if self.asset_names else {}),
            })
        return out

    def _repr_html_(self, max_rows: int = 12) -> str:
        """Jupyter display: the path year by year (defaults, new ones and who, shortfall, principal rolled and
        called, cash carried), then the institutions that default (first ``max_rows``, by year and shortfall),
        every text escaped."""
        from html import escape
        from pathlib import Path

        from ..formatting import fmt_amount, summary_html

        meta = self.network.metadata or {}
        label = str(meta.get("dataset") or (Path(str(meta["source"])).name if meta.get("source") else "network"))
        scen = " + ".join(s.name for s in self.scenarios) if self.scenarios else "no scenario"
        ever = [y for y in self.default_year if y is not None]
        head = summary_html(f"Path {self.years[0]}\u2013{self.years[-1]} ({self.method})", [
            ("network", label), ("scenarios", scen), ("institutions that default", f"{len(ever)} of {len(self.names)}")])

        def table(caption: str, cols: list[tuple[str, str]], rows: list[list[str]]) -> str:
            return ('<table><caption style="text-align:left">' + escape(caption) + "</caption><tr>"
                    + "".join(f'<th style="text-align:{a}">{escape(h)}</th>' for a, h in cols) + "</tr>"
                    + "".join("<tr>" + "".join(f'<td style="text-align:{a}">{escape(v)}</td>'
                                               for (a, _), v in zip(cols, r)) + "</tr>" for r in rows) + "</table>")

        years = [[str(s["year"]), str(s["defaults"]), str(s["new_defaults"]), fmt_amount(s["total_shortfall"]),
                  fmt_amount(s["rolled_principal"]), fmt_amount(s["called_principal"]), fmt_amount(s["cash"]),
                  ", ".join(s["new_default_names"])] for s in self.summary()]
        year_table = table("year by year", [("right", "year"), ("right", "defaults"), ("right", "new"),
                                            ("right", "shortfall"), ("right", "rolled principal"),
                                            ("right", "called principal"), ("right", "cash carried"),
                                            ("left", "who defaults")], years)
        first = np.argmax(self.defaulted, axis=0)
        who = [i for i, y in enumerate(self.default_year) if y is not None]
        who.sort(key=lambda i: (first[i], -self.shortfall[first[i], i], i))
        types = self.network.types
        rows = [[str(self.names[i]), str(types[i]), str(self.default_year[i]),
                 fmt_amount(self.shortfall[first[i], i])] for i in who[:max_rows]]
        more = len(who) - len(rows)
        caption = "institutions that default" + (f" (first {len(rows)}; {more:,} more in to_frame())" if more > 0
                                                 else "")
        who_table = table(caption, [("left", "name"), ("left", "type"), ("right", "year"),
                                    ("right", "shortfall that year")], rows) if who else ""
        return head[:-len("</div>")] + year_table + who_table + "</div>"

    def __repr__(self) -> str:
        first = [y for y in self.default_year if y is not None]
        return (f"PathResult(years={self.years[0]}-{self.years[-1]}, n={len(self.names)}, "
                f"defaults={len(first)}, method={self.method!r})")
