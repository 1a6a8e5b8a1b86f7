"""Price-mediated contagion: clearing with fire sales of common illiquid assets.

Institutions hold units of one or more illiquid assets (GPUs, data-centre
equity, ...): node column ``asset_units`` (one asset, named ``"asset"``) or
``asset_units_<name>`` (several; both forms may be mixed). A unit is worth 1
before any sale; the price of asset ``k`` falls with the units of it sold::

    q_k = exp(-impact_k * units_sold_k)

Method ``fire-sale`` (Cifuentes, Shin & Ferrucci 2005; Amini, Filipovic &
Minca 2016): an institution first pays from its cash and what it receives,
``e_i + (Pi.T p)_i``; if that falls short of ``pbar_i`` it sells *just enough*
of its holdings at the clearing prices to cover the gap -- the same fraction
of each asset it holds (pro-rata liquidation); if all of them are not enough it
defaults, sells everything and pays what it has (an institution a scenario
forces to default sells everything and pays at most its cap)::

    value_i = sum_k units_ik q_k
    p_i     = min(pbar_i, e_i + (Pi.T p)_i + value_i)
    sold_i  = clip((pbar_i - e_i - (Pi.T p)_i) / value_i, 0, 1)   (fraction of its holdings)

Method ``fire-sale-leverage`` (Greenwood, Landier & Thesmar 2015): as above,
and a solvent institution also sells until its leverage ``assets / equity``
(marked at the clearing prices) is back at the target (``leverage``, or the
node column ``target_leverage``): it sells ``max(need, A_i - lambda_i E_i)`` in
value (capped at its holdings), with ``A_i = e_i + (Pi.T p)_i + value_i`` and
``E_i = A_i - pbar_i``. Selling and repaying debt leaves equity unchanged and
lowers leverage; the sales move the prices for everyone.

Both maps are monotone in ``(p, q)`` (more payments or higher prices mean
fewer sales, hence higher prices), so by Tarski the joint fixed points form a
lattice. The **greatest** is found by monotone iteration from full payment and
price 1: for the current prices, the greatest Eisenberg--Noe clearing vector
with outside assets ``e + units @ q`` is computed exactly
(:func:`~contagion.clearing.methods.eisenberg_noe`), the units sold follow, and
the prices are updated; the prices decrease to the greatest fixed point
(Feinstein 2017, Theorem 3.6 and the algorithm of section 3.2). The **least**
is found the same way from below (everyone sells everything: ``q = exp(-impact
* units held)``, and the least clearing vector at each price); when the two
differ, the result says ``unique = False`` and carries the least payments
(``least_payments``); on a network with seniority, collateral or guarantees,
whose clearing gives no least vector, ``unique`` is ``None`` (not determined)
unless the two ends differ. Iteration stops when the price change, extrapolated by
the observed contraction rate, is below ``1e-13`` (:data:`PRICE_TOL`); the
result's ``residual`` is ``max |Phi(p, q) - (p, q)|`` of the joint map (payments
relative to ``max(pbar)``), ``ConvergenceError`` past :data:`MAX_ROUNDS` rounds.

Results are :class:`FireSaleResult`: a :class:`ClearingResult` whose ``equity``
is marked to market, ``e + Pi.T p + units @ q - pbar``, with ``prices`` (asset
name -> clearing price), ``units_sold`` (n, K) and ``asset_names``.
``default_round`` holds the waves of the fictitious-default algorithm at the
final prices, with wave 0 as everywhere (DESIGN §2): short even if everyone
paid in full and nothing were sold, holdings at their start prices. An
institution short at the final prices only because the others' sales drove
the price down is in wave 1 (and every later wave one further).

References
----------
Cifuentes, R., Shin, H. S. & Ferrucci, G. (2005). Liquidity risk and contagion.
*JEEA* 3(2-3), 556-566. Amini, H., Filipovic, D. & Minca, A. (2016). Uniqueness
of equilibrium in a payment system with liquidation costs. *Operations Research
Letters* 44(1), 1-5. Feinstein, Z. (2017). Financial contagion and asset
liquidation strategies. *Operations Research Letters* 45(2), 109-114
(arXiv:1506.00937). Greenwood, R., Landier, A. & Thesmar, D. (2015). Vulnerable
banks. *Journal of Financial Economics* 115(3), 471-485.

Examples
--------
A neocloud N (cash 4, 10 GPU units, owes 10 to a fund F and 1 outside) and a GPU
vehicle V (cash 3, 8 units, owes 9.8 to a lender B); impact 0.01. Both must
sell; the price settles at ``q = exp(-0.01 * (7 + 6.8) / q)``, about 0.8502,
and both pay in full:

>>> import pandas as pd, contagion
>>> nodes = pd.DataFrame({"id": ["N", "F", "V", "B"], "external_assets": [4.0, 0, 3, 0],
...                       "external_liabilities": [1.0, 0, 0, 0], "asset_units": [10.0, 0, 8, 0]})
>>> edges = pd.DataFrame({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [10.0, 9.8]})
>>> net = contagion.FinancialNetwork.from_edges(edges, nodes)
>>> res = contagion.clear(net, method="fire-sale", impact=0.01)
>>> res.defaulted.tolist(), round(res.prices["asset"], 4)
([False, False, False, False], 0.8502)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._columns import located_numbers
from ..io.rows import located_problems, table_rows
from ..errors import ContagionError, ConvergenceError, InvalidNetworkError, Problem
from .params import ParamSpec
from .result import ClearingResult

__all__ = ["fire_sale", "fire_sale_leverage", "FireSaleResult", "asset_holdings", "FIRE_SALE_PARAMS",
           "LEVERAGE_PARAMS", "PRICE_TOL", "MAX_ROUNDS", "NoAssetsWarning"]


class NoAssetsWarning(UserWarning):
    """A fire-sale clearing of a network that holds no units of any asset: nothing can be sold, and the answer is
    the Eisenberg--Noe one (with ``fire-sale-leverage``, nobody can deleverage either)."""

#: Stop when the price change, extrapolated by the contraction rate, is below this.
PRICE_TOL = 1e-13
#: Most rounds of the monotone iteration (each one exact Eisenberg--Noe clearing).
MAX_ROUNDS = 10_000
#: Name of the asset of the plain ``asset_units`` column.
DEFAULT_ASSET = "asset"
UNITS_PREFIX = "asset_units"

_IMPACT = ParamSpec("impact", 0.01, 0.0, math.inf,
                    "price impact: the price of an asset is exp(-impact x units of it sold) (per asset in Python)")
FIRE_SALE_PARAMS = (_IMPACT,)
LEVERAGE_PARAMS = (_IMPACT, ParamSpec("leverage", 10.0, 1.0, math.inf,
                                      "target leverage, assets / equity at clearing prices (node column "
                                      "target_leverage overrides it)"))


@dataclass(frozen=True, eq=False)
class FireSaleResult(ClearingResult):
    """A clearing with fire sales: a :class:`ClearingResult` plus the asset prices and sales.

    ``equity`` is marked to market (``e + Pi.T p + units @ q - pbar``).

    Attributes
    ----------
    asset_names : tuple of str
    prices : mapping
        Asset name -> clearing price (1 = no sale).
    units_sold : ndarray, shape (n, K)
        Units of each asset each institution sells.
    holdings : ndarray, shape (n, K)
        Units held before any sale.
    start_prices : mapping
        Asset name -> price before any sale (1 unless given).
    """

    asset_names: tuple[str, ...] = ()
    prices: Mapping[str, float] = field(default_factory=dict)
    units_sold: np.ndarray | None = None
    holdings: np.ndarray | None = None
    start_prices: Mapping[str, float] = field(default_factory=dict)

    def _q(self, which: Mapping[str, float]) -> np.ndarray:
        return np.array([which.get(k, 1.0) for k in self.asset_names])

    @property
    def liquid_equity(self) -> np.ndarray:
        """Equity without the units still held: cash and claims after paying, sale proceeds included
        (``equity - (holdings - units_sold) @ prices``); what a multi-year run carries forward as cash."""
        if not self.asset_names:
            return self.equity
        return self.equity - (self.holdings - self.units_sold) @ self._q(self.prices)

    @property
    def start_value(self) -> np.ndarray:
        """Each one's holdings at their start prices (before any sale; 0 without assets)."""
        if not self.asset_names:
            return np.zeros(self.network.n)
        return self.holdings @ self._q(self.start_prices)

    def pre_shock_equity(self, base: Any = None) -> np.ndarray:
        """As :meth:`ClearingResult.pre_shock_equity`, with the holdings at their start prices (pre-sale)."""
        return super().pre_shock_equity(base) + self.start_value

    def to_frame(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """As :meth:`ClearingResult.to_frame` (same arguments), with the holdings at their start prices in the
        equities where everyone pays in full (the pre-sale value; ``equity_pre_shock`` is :meth:`pre_shock_equity`),
        and ``units_held``, ``units_sold`` and
        ``asset_value`` (holdings at the clearing prices) summed over assets (when the network holds any)."""
        frame = super().to_frame(*args, **kwargs)
        if not self.asset_names:      # no holdings: the Eisenberg--Noe table as it is
            return frame
        q = np.array([self.prices[k] for k in self.asset_names])
        held = self.holdings.sum(axis=1)
        start = self.start_value
        for col in ("equity_before", "equity_if_all_pay"):     # (equity_pre_shock: from pre_shock_equity)
            if col in frame.columns:
                frame[col] = frame[col].to_numpy() + start
        frame["units_held"] = held
        frame["units_sold"] = self.units_sold.sum(axis=1)
        frame["asset_value"] = self.holdings @ q
        return frame

    @property
    def fire_sale_loss(self) -> float:
        """Value lost to the price fall, ``sum(units held x (start price - price))`` (sold and kept units alike)."""
        if not self.asset_names:
            return 0.0
        return float(np.sum(self.holdings @ (self._q(self.start_prices) - self._q(self.prices))))

    def summary(self) -> dict[str, Any]:
        """As :meth:`ClearingResult.summary`, plus ``prices`` and ``fire_sale_loss``."""
        return {**super().summary(), "prices": {k: float(v) for k, v in self.prices.items()},
                "fire_sale_loss": self.fire_sale_loss}


def _asset_columns(nodes: pd.DataFrame) -> tuple[list[str], tuple[str, ...]]:
    """The holdings columns of a node table and the names of their assets."""
    cols = [c for c in nodes.columns if c == UNITS_PREFIX or str(c).startswith(UNITS_PREFIX + "_")]
    return cols, tuple(DEFAULT_ASSET if c == UNITS_PREFIX else str(c)[len(UNITS_PREFIX) + 1:] for c in cols)


def asset_holdings(net) -> tuple[tuple[str, ...], np.ndarray]:
    """Asset names and units held, ``(names, units)`` with ``units`` of shape (n, K), from the node table.

    Columns ``asset_units`` (asset ``"asset"``) and ``asset_units_<name>``;
    blank cells are 0. ``K = 0`` when there are none.

    Raises
    ------
    InvalidNetworkError
        A value that is not a finite non-negative number (file, row, column, value).

    >>> import contagion
    >>> asset_holdings(contagion.load_dataset("chain"))[0]
    ()
    """
    nodes = net.nodes
    cols, names = _asset_columns(nodes)
    units = np.zeros((net.n, len(cols)))
    problems: list[Problem] = []
    rows = table_rows(net, "nodes")
    file, offset = rows.file, rows.offset
    for k, c in enumerate(cols):
        vals = located_numbers(nodes[c], str(c), file, offset, problems, low=0,
                               want="a finite number >= 0 (units of the asset held)")
        units[:, k] = np.nan_to_num(vals, nan=0.0)
    seen: dict[str, Any] = {}
    for c, name in zip(cols, names):
        if not name.strip():
            problems.append(Problem("this holdings column names no asset: write asset_units_<name> (or "
                                    "asset_units for one asset)", file=file, column=str(c)))
        elif name in seen:     # two columns for one asset (asset_units is the asset 'asset')
            problems.append(Problem(f"asset {name!r} has two holdings columns, {seen[name]!r} and {str(c)!r} "
                                    f"(asset_units is the asset 'asset')", file=file, column=str(c)))
        seen.setdefault(name, str(c))
    if problems:
        raise InvalidNetworkError(located_problems(net, problems))
    return names, units


def _impacts(impact: Any, names: tuple[str, ...]) -> np.ndarray:
    """``impact`` (a number for every asset, or a mapping asset name -> number) as an array aligned with names."""
    if isinstance(impact, Mapping):
        unknown = sorted(set(map(str, impact)) - set(names))
        if unknown:
            raise ContagionError(f"impact given for unknown assets {unknown}; the network holds {list(names)}")
        missing = [k for k in names if k not in impact]
        if missing:
            raise ContagionError(f"impact missing for assets {missing}")
        values = [impact[k] for k in names]
    else:
        values = [impact] * len(names)
    out = []
    for k, v in zip(names, values):
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ContagionError(f"impact of asset {k!r} must be a number >= 0, got {v!r}") from None
        if not (f >= 0.0 and math.isfinite(f)):
            raise ContagionError(f"impact of asset {k!r} must be a finite number >= 0, got {f}")
        out.append(f)
    return np.array(out, dtype=np.float64)


def _targets(net, leverage: Any) -> np.ndarray:
    """Target leverage per institution: the node column ``target_leverage`` where given, else ``leverage``."""
    try:
        lam = float(leverage)
    except (TypeError, ValueError):
        raise ContagionError(f"leverage must be a number >= 1, got {leverage!r}") from None
    if not (lam >= 1.0 and math.isfinite(lam)):
        raise ContagionError(f"leverage (assets / equity) must be a finite number >= 1, got {lam}")
    out = np.full(net.n, lam)
    nodes = net.nodes
    if "target_leverage" in nodes.columns:
        problems: list[Problem] = []
        rows = table_rows(net, "nodes")
        col = located_numbers(nodes["target_leverage"], "target_leverage", rows.file, rows.offset, problems, low=1,
                              want="a number >= 1 (assets / equity)")
        if problems:
            raise InvalidNetworkError(located_problems(net, problems))
        out = np.where(np.isnan(col), out, col)
    return out


class _Model:
    """What one round of the iteration needs: the network, holdings, impacts and the sales rule."""

    def __init__(self, net, names, units, impact, targets, solver, start):
        from .methods import eisenberg_noe
        from .priority import uses_priority

        self.net, self.names, self.units, self.impact, self.targets = net, names, units, impact, targets
        self.start = start
        # each round an exact Eisenberg--Noe clearing; on a network with seniority, collateral or guarantees
        # that is the priority clearing (eisenberg_noe hands it over), whose result says what each one owed
        # (guarantees as called) and received (the waterfall), not the caps and Pi
        self.priority = uses_priority(net)
        self.en = lambda e: eisenberg_noe(net.replace(external_assets=e), solver=solver)
        self.e, self.pbar, self.PiT = net.external_assets, net.total_obligations, net.PiT

    def clear_at(self, q: np.ndarray, least: bool):
        """Exact (greatest or least) Eisenberg--Noe clearing with the holdings valued at prices ``q``."""
        res = self.en(self.e + self.units @ q)
        p = res.least_payments if least and res.least_payments is not None else res.payments
        return res, p

    def owed_and_received(self, res, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What each institution owes and receives at payments ``p`` of the clearing ``res``."""
        if self.priority:    # guarantees as called, claims paid by the waterfall (no least vector: p is res.payments)
            return res.network.total_obligations, res.received
        return self.pbar, self.PiT @ p

    def fraction_sold(self, res, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        value = self.units @ q
        pbar, received = self.owed_and_received(res, p)
        liquid = self.e + received
        need = np.maximum(pbar - liquid, 0.0)
        if self.targets is not None:
            assets = liquid + value
            equity = assets - pbar
            need = np.maximum(need, np.where(equity >= 0, assets - self.targets * equity, 0.0))
        frac = np.divide(need, value, out=np.zeros_like(value), where=value > 0)
        # holdings worth 0.0 (a price that underflowed: impact x units past ~745) still short: all of it is sold
        frac[(value <= 0) & (need > 0)] = 1.0
        frac[self.net.forced_default] = 1.0          # made to default: sells everything
        return np.clip(frac, 0.0, 1.0)

    def prices(self, res, p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sold = self.fraction_sold(res, p, q)[:, None] * self.units
        return self.start * np.exp(-self.impact * sold.sum(axis=0)), sold

    def solve(self, least: bool) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, int]:
        """Monotone iteration from above (greatest) or below (least): ``(EN result, p, q, units sold, rounds)``."""
        q = self.start * np.exp(-self.impact * self.units.sum(axis=0)) if least else self.start.copy()
        last = None
        for rounds in range(1, MAX_ROUNDS + 1):
            res, p = self.clear_at(q, least)
            q_new, sold = self.prices(res, p, q)
            step = float(np.max(np.abs(q_new - q), initial=0.0))
            rate = step / last if last else 1.0                            # unknown before the second round
            q = np.maximum(q, q_new) if least else np.minimum(q, q_new)   # monotone (round-off cannot turn back)
            if step <= 4 * np.finfo(float).eps or (rate < 1.0 and step * rate / (1.0 - rate) <= PRICE_TOL):
                res, p = self.clear_at(q, least)
                return res, p, q, self.prices(res, p, q)[1], rounds
            last = step
        raise ConvergenceError(
            f"fire-sale prices did not settle: in the last rounds each price step was {rate:.6f} of the one before, "
            f"so the prices sit at a tipping point of the price impact, where a slightly larger impact makes them "
            f"fall much further (the fixed point is ill-conditioned there); clear with an impact a little above or "
            f"below", iterations=MAX_ROUNDS, residual=step)

    def residual(self, res, p: np.ndarray, q: np.ndarray) -> float:
        """``max |Phi(p, q) - (p, q)|`` (payments relative to ``max(pbar)``; with priority, the inner clearing's
        own check of its clearing state)."""
        q_new, _ = self.prices(res, p, q)
        gap = float(np.max(np.abs(q_new - q), initial=0.0))
        if self.priority:
            scale = max(float(res.network.total_obligations.max(initial=0.0)), 1e-300)
            return max(float(res.residual) / scale, gap)
        scale = max(float(self.pbar.max()), 1e-300)
        T = np.where(self.pbar > 0, np.minimum(self.net.payment_cap, self.e + self.PiT @ p + self.units @ q), 0.0)
        return max(float(np.max(np.abs(T - p), initial=0.0)) / scale, gap)


def _waves_from_the_start(waves: np.ndarray, defaulted: np.ndarray, before: np.ndarray, owed: Any) -> np.ndarray:
    """The waves of the clearing at the final prices, with wave 0 as DESIGN §2 has it: who is short when
    everyone pays in full and nothing is sold (``before``: equity so, holdings at their start prices; or made
    to default). An institution in wave 0 at the final prices only because the others' sales drove the price
    down is price contagion: it moves to wave 1, and every later wave one further."""
    from .core import tie_tolerance

    waves = np.asarray(waves, dtype=np.int64)
    pbar = owed.total_obligations
    fundamental = owed.forced_default | ((pbar > 0) & (before < -tie_tolerance(pbar)))
    if not (defaulted & (waves == 0) & ~fundamental).any():
        return waves
    return np.where(defaulted & ~(fundamental & (waves == 0)), waves + 1, waves)


def _state(net, holdings: Any, start_prices: Any) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Asset names, units held (n, K) and start prices (K,): the node table's, or those given."""
    names, units = asset_holdings(net)
    if holdings is not None:
        h = dict(holdings) if isinstance(holdings, Mapping) else {DEFAULT_ASSET: holdings}
        names = tuple(str(k) for k in h)
        units = np.zeros((net.n, len(names)))
        for k, name in enumerate(names):
            col = np.asarray(h[name], dtype=np.float64)
            if col.shape != (net.n,) or not (np.all(np.isfinite(col)) and np.all(col >= 0)):
                raise ContagionError(f"holdings of {name!r} must be {net.n} finite numbers >= 0")
            units[:, k] = col
    start = np.ones(len(names))
    for name, v in dict(start_prices or {}).items():
        if name not in names:
            raise ContagionError(f"start price given for unknown asset {name!r}; the network holds {list(names)}")
        try:
            price = float(v)
        except (TypeError, ValueError):
            price = math.nan
        if isinstance(v, bool) or not (price > 0 and math.isfinite(price)):
            raise ContagionError(f"start price of {name!r} must be a positive number, got {v!r}")
        start[names.index(name)] = price
    if holdings is None and not units.any():     # (holdings given, e.g. a path's after every unit is sold: no)
        warnings.warn("the network holds no units of any asset (no asset_units column, or only zeros, and no "
                      "holdings=): nothing can be sold, so the fire-sale clearing is the Eisenberg-Noe one",
                      NoAssetsWarning, stacklevel=5)
    return names, units, start


def _clear(net, impact, targets, method: str, solver: str, params: dict, holdings=None,
           start_prices=None, least: bool = True) -> FireSaleResult:
    """The greatest joint fixed point and, with ``least``, the least one too (``unique``, ``least_payments``;
    without it ``unique`` is None: a batch reads the greatest only)."""
    names, units, start = _state(net, holdings, start_prices)
    model = _Model(net, names, units, _impacts(impact, names), targets, solver, start)
    res, p, q, sold, rounds = model.solve(least=False)
    unique, p_low, rounds_low = None, None, 0
    if least:
        _, p_low, q_low, _, rounds_low = model.solve(least=True)
        scale = max(float(net.total_obligations.max()), 1e-300)
        unique = bool(np.max(np.abs(p - p_low), initial=0.0) <= 1e-9 * scale
                      and np.max(np.abs(q - q_low), initial=0.0) <= 1e-9)
        if unique and model.priority:
            # the priority clearing gives no least vector: both ends read its greatest payments at their prices,
            # so their agreeing settles nothing about the payments (a loop owing each other may pay any amount)
            unique = None
    if res.unique is False:     # guarantees with more than one clearing state at these prices (DESIGN §8)
        unique = False
    resid = model.residual(res, p, q)
    row_payments = calls = all_pay = None
    if model.priority:
        # what was owed (guarantees as called) and paid per claim, the outside assets as given: the result's
        # network is the owed one, as clear() returns it
        owed = res.network.replace(external_assets=net.external_assets)
        equity, shortfall, row_payments, calls = res.equity, res.shortfall, res.row_payments, res.call_rows
        if res.all_pay_equity is not None:    # everyone paying, no call; holdings are not cash (as equity_before)
            all_pay = res.all_pay_equity - units @ q
    else:
        owed = net
        equity = net.external_assets + net.PiT @ p + units @ q - net.total_obligations
        shortfall = net.total_obligations - p
    before = (owed.equity_before if all_pay is None else all_pay) + units @ start   # all pay, nothing sold
    waves = _waves_from_the_start(res.default_round, res.defaulted, before, owed)
    return FireSaleResult(
        network=owed, payments=p, defaulted=res.defaulted, equity=equity, default_round=waves,
        shortfall=shortfall, iterations=rounds + rounds_low, converged=resid <= 1e-12,
        residual=resid, method=method, unique=unique, solver=f"monotone/{res.solver}", params=params,
        row_payments=row_payments, call_rows=calls, all_pay_equity=all_pay,
        least_payments=None if unique in (True, None) else p_low, asset_names=names,
        prices={k: float(v) for k, v in zip(names, q)}, units_sold=sold, holdings=units,
        start_prices={k: float(v) for k, v in zip(names, start)})


def fire_sale(net, impact: Any = 0.01, *, holdings: Any = None, start_prices: Any = None,
              solver: str = "auto") -> FireSaleResult:
    """Greatest clearing with fire sales of common illiquid assets (see the module docstring).

    Parameters
    ----------
    net : FinancialNetwork
        Holdings in node columns ``asset_units`` / ``asset_units_<name>``
        (without any, this is Eisenberg--Noe with ``prices == {}``).
    impact : float or mapping, default 0.01
        Price impact per unit sold, ``q = exp(-impact * units sold)``; a
        mapping asset name -> impact gives each asset its own.
    holdings : array or mapping, optional
        Units held instead of the node columns: an (n,) array (the asset
        ``"asset"``) or a mapping asset name -> (n,) array (what a multi-year
        run passes after the sales of the year before).
    start_prices : mapping, optional
        Asset name -> price before any sale (default 1): the price is then
        ``start x exp(-impact x units sold)``.
    solver : str
        The path of each inner Eisenberg--Noe clearing (:mod:`.solvers`).

    Returns
    -------
    FireSaleResult
        ``unique`` compares the greatest with the least joint fixed point;
        ``least_payments`` is set when they differ.

    Examples
    --------
    The neocloud N and GPU vehicle V of the module docstring, with N's cash cut
    from 4 to 1: without price impact N sells its 10 units at 1 and pays its 11
    exactly; with impact 0.01 N cannot cover 10 at any price below 1 and sells
    all 10 units, V then needs 6.8 / q units of its 8 and at q = exp(-0.01 * (10
    + 8)) = exp(-0.18) ~ 0.8353 it cannot (8 q = 6.68 < 6.8): both default.

    >>> import pandas as pd, contagion
    >>> nodes = pd.DataFrame({"id": ["N", "F", "V", "B"], "external_assets": [1.0, 0, 3, 0],
    ...                       "external_liabilities": [1.0, 0, 0, 0], "asset_units": [10.0, 0, 8, 0]})
    >>> edges = pd.DataFrame({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [10.0, 9.8]})
    >>> net = contagion.FinancialNetwork.from_edges(edges, nodes)
    >>> contagion.clear(net, method="fire-sale", impact=0).defaulted.tolist()
    [False, False, False, False]
    >>> res = contagion.clear(net, method="fire-sale", impact=0.01)
    >>> res.defaulted.tolist(), round(res.prices["asset"], 6)
    ([True, False, True, False], 0.83527)
    """
    return _clear(net, impact, None, "fire-sale", solver, {"impact": impact}, holdings, start_prices)


def fire_sale_leverage(net, impact: Any = 0.01, leverage: float = 10.0, *, holdings: Any = None,
                       start_prices: Any = None, solver: str = "auto") -> FireSaleResult:
    """Fire sales with leverage targeting (Greenwood, Landier & Thesmar 2015; see the module docstring).

    As :func:`fire_sale`, and a solvent institution whose leverage (assets /
    equity at the clearing prices) exceeds its target sells assets and repays
    debt until it is back at the target: ``max(need, A - leverage * E)`` in value.

    Parameters
    ----------
    net : FinancialNetwork
    impact : float or mapping, default 0.01
    leverage : float, default 10
        Target assets / equity (>= 1); node column ``target_leverage`` overrides it per institution.
    holdings, start_prices : optional
        As for :func:`fire_sale`.
    solver : str

    Examples
    --------
    A bank A with cash 100 owes 95 to a creditor Z and holds 10 units: it can
    pay from cash and a plain ``fire-sale`` sells nothing (price 1). Its
    leverage is (100 + 10) / 15 = 7.33; with a target of 7 it sells ``x = A -
    7 E = (100 + 10 q) - 7 (5 + 10 q) = 65 - 60 q`` in value: 5 at q = 1, which
    lowers the price, which raises its leverage and the sale (7.9 at q =
    exp(-0.05), 9.8 at the next price, more than its holdings), until it sells
    all 10 units at q = exp(-0.1) (it stays solvent: equity 5 + 10 exp(-0.1)).

    >>> import pandas as pd, contagion
    >>> net = contagion.FinancialNetwork.from_edges(
    ...     pd.DataFrame({"debtor": ["A"], "creditor": ["Z"], "amount": [95.0]}),
    ...     pd.DataFrame({"id": ["A", "Z"], "external_assets": [100.0, 0], "asset_units": [10.0, 0]}))
    >>> contagion.clear(net, method="fire-sale", impact=0.01).prices
    {'asset': 1.0}
    >>> res = contagion.clear(net, method="fire-sale-leverage", impact=0.01, leverage=7)
    >>> round(res.prices["asset"], 6), res.units_sold[:, 0].tolist(), res.defaulted.tolist()
    (0.904837, [10.0, 0.0], [False, False])
    """
    return _clear(net, impact, _targets(net, leverage), "fire-sale-leverage", solver,
                  {"impact": impact, "leverage": float(leverage)}, holdings, start_prices)
