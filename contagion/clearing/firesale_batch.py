"""Fire sales for many scenarios at once: :func:`clear_many` with ``method="fire-sale"`` or
``"fire-sale-leverage"``.

The same monotone iteration as :mod:`.firesale` (greatest joint fixed point of
payments and prices, from full payment and the start prices), run for every
scenario side by side: each round clears the scenarios still moving in one
batched Eisenberg--Noe call (:func:`~contagion.clearing.clear_many`, exact) with
the holdings valued at each scenario's current prices, computes the units sold
and the new prices, and retires the scenarios whose prices have settled (the
same stopping rule, per scenario). A settled scenario is cleared once more at
its final prices, as the single-network solver does. Column ``k`` equals
``contagion.clear(net with external_assets=E[:, k], method=...)`` (payments,
default flags and prices; to the round-off of the batched Eisenberg--Noe solver,
whose answers equal the single clearing's exactly in default set and within
``1e-12`` of each obligation in payments). The least fixed point is not
computed (a sweep reads the greatest, as it does for Eisenberg--Noe).

A network with seniority, collateral or guarantees (DESIGN §8) is cleared scenario by scenario by the single
clearing (:func:`.firesale.fire_sale`, whose rounds are priority clearings), and ``obligations`` holds what
each one owed per scenario (guarantees as called).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ContagionError, ConvergenceError
from .result import BatchClearingResult

__all__ = ["FireSaleBatchResult", "clear_many_fire_sale", "FIRE_SALE_METHODS"]

#: Methods cleared here by :func:`contagion.clear_many`.
FIRE_SALE_METHODS = ("fire-sale", "fire-sale-leverage")


@dataclass(frozen=True, eq=False)
class FireSaleBatchResult(BatchClearingResult):
    """A :class:`~contagion.BatchClearingResult` with fire sales: the clearing price of each asset per scenario.

    Attributes
    ----------
    asset_names : tuple of str
    prices : ndarray, shape (assets, K)
    holdings : ndarray, shape (n, assets)
        Units held before any sale.
    start_prices : ndarray, shape (assets,)
    """

    asset_names: tuple[str, ...] = ()
    prices: np.ndarray | None = None
    holdings: np.ndarray | None = None
    start_prices: np.ndarray | None = None


def _fraction_sold(net, E: np.ndarray, P: np.ndarray, value: np.ndarray, targets: np.ndarray | None) -> np.ndarray:
    """Share of its holdings each institution sells per scenario (as :meth:`.firesale._Model.fraction_sold`)."""
    pbar = net.total_obligations[:, None]
    liquid = E + np.asarray(net.PiT @ P)
    need = np.maximum(pbar - liquid, 0.0)
    if targets is not None:
        assets = liquid + value
        equity = assets - pbar
        need = np.maximum(need, np.where(equity >= 0, assets - targets[:, None] * equity, 0.0))
    frac = np.divide(need, value, out=np.zeros_like(value), where=value > 0)
    # holdings worth 0.0 (a price that underflowed: impact x units past ~745) still short: all of it is sold
    frac[(value <= 0) & (need > 0)] = 1.0
    frac[net.forced_default] = 1.0
    return np.clip(frac, 0.0, 1.0)


def clear_many_fire_sale(net, E: np.ndarray, method: str = "fire-sale", impact: Any = 0.01,
                         leverage: float | None = None, solver: str = "auto") -> FireSaleBatchResult:
    """Greatest fire-sale clearing of every column of ``E`` (outside assets, shape ``(n, K)``, validated by
    :func:`contagion.clear_many`, which calls this for the fire-sale methods).

    Examples
    --------
    The neocloud N and GPU vehicle V of :mod:`contagion.clearing.firesale`; N's cash 4 (both pay, price
    0.8502) and 1 (both default, price exp(-0.18)):

    >>> import numpy as np, pandas as pd, contagion
    >>> nodes = pd.DataFrame({"id": ["N", "F", "V", "B"], "external_assets": [4.0, 0, 3, 0],
    ...                       "external_liabilities": [1.0, 0, 0, 0], "asset_units": [10.0, 0, 8, 0]})
    >>> edges = pd.DataFrame({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [10.0, 9.8]})
    >>> net = contagion.FinancialNetwork.from_edges(edges, nodes)
    >>> E = np.c_[net.external_assets, [1.0, 0, 3, 0]]
    >>> batch = contagion.clear_many(net, E, method="fire-sale", impact=0.01)
    >>> batch.defaulted.T.tolist(), batch.prices.round(4).tolist()
    ([[False, False, False, False], [True, False, True, False]], [[0.8502, 0.8353]])
    """
    from .firesale import MAX_ROUNDS, PRICE_TOL, _impacts, _state, _targets
    from .priority import uses_priority
    from .solvers import clear_batch

    if method not in FIRE_SALE_METHODS:
        raise ContagionError(f"clear_many_fire_sale clears {' and '.join(FIRE_SALE_METHODS)}, not {method!r}")
    names, units, start = _state(net, None, None)
    imp = _impacts(impact, names)
    targets = _targets(net, 10.0 if leverage is None else leverage) if method == "fire-sale-leverage" else None
    params = {"impact": impact} if targets is None else {"impact": impact, "leverage": float(leverage or 10.0)}
    if uses_priority(net):
        return _per_column(net, E, method, impact, targets, params, (names, units, start), solver)
    n, K = E.shape
    A = len(names)
    Q = np.repeat(start[:, None], K, axis=1)
    last = np.zeros(K)                        # previous step per scenario (0: none yet)
    rounds = np.zeros(K, dtype=np.int64)
    active = np.arange(K)
    done: list[np.ndarray] = []
    eps4 = 4 * np.finfo(float).eps
    for r in range(1, MAX_ROUNDS + 1):
        if not active.size:
            break
        Ea = E[:, active]
        P = clear_batch(net, Ea + units @ Q[:, active], "eisenberg-noe", solver=solver).payments
        value = units @ Q[:, active]
        sold = units.T @ _fraction_sold(net, Ea, P, value, targets)           # (A, active)
        q_new = start[:, None] * np.exp(-imp[:, None] * sold)
        step = np.max(np.abs(q_new - Q[:, active]), axis=0, initial=0.0)
        rate = np.where(last[active] > 0, step / np.where(last[active] > 0, last[active], 1.0), 1.0)
        Q[:, active] = np.minimum(Q[:, active], q_new)
        with np.errstate(divide="ignore", invalid="ignore"):
            settled = (step <= eps4) | ((rate < 1.0) & (step * rate / (1.0 - rate) <= PRICE_TOL))
        rounds[active] = r
        last[active] = step
        done.append(active[settled])
        active = active[~settled]
    if active.size:
        raise ConvergenceError(f"fire-sale prices did not settle in {active.size} of {K} scenarios",
                               iterations=MAX_ROUNDS, residual=float(np.max(last[active])))
    final = clear_batch(net, E + units @ Q, "eisenberg-noe", solver=solver)   # every scenario at its final prices
    P = final.payments
    value = units @ Q
    pbar = net.total_obligations
    T = np.where(pbar[:, None] > 0, np.minimum(net.payment_cap[:, None], E + np.asarray(net.PiT @ P) + value), 0.0)
    q_new = start[:, None] * np.exp(-imp[:, None] * (units.T @ _fraction_sold(net, E, P, value, targets)))
    scale = max(float(pbar.max(initial=0.0)), 1e-300)
    residual = np.maximum(np.max(np.abs(T - P), axis=0, initial=0.0) / scale,
                          np.max(np.abs(q_new - Q), axis=0, initial=0.0) if A else 0.0)
    return FireSaleBatchResult(network=net, payments=P, defaulted=final.defaulted, iterations=rounds,
                               residual=residual, method=method, solver=f"monotone/{final.solver}", params=params,
                               asset_names=names, prices=Q, holdings=units, start_prices=start)


def _per_column(net, E: np.ndarray, method: str, impact: Any, targets: np.ndarray | None, params: dict,
                state: tuple, solver: str) -> FireSaleBatchResult:
    """Every column by the single fire-sale clearing, greatest fixed point only (a network with priority
    columns: each round of it is a priority clearing, which has no side-by-side version). ``state``: the
    holdings as :func:`.firesale._state` read them, read once for all columns."""
    from .firesale import _clear
    from .priority import owed_network
    from .result import unpaid_calls_by

    names, units, start = state
    holdings = {a: units[:, j] for j, a in enumerate(names)}
    start_prices = {a: float(v) for a, v in zip(names, start)}
    n, K = E.shape
    P, owed, Q, inflow = np.empty((n, K)), np.empty((n, K)), np.empty((len(names), K)), np.empty((n, K))
    D = np.empty((n, K), dtype=bool)
    its, res_ = np.empty(K, dtype=np.int64), np.empty(K)
    calls = None
    solvers = []
    for k in range(K):
        r = _clear(net.replace(external_assets=E[:, k]), impact, targets, method, solver, params, holdings,
                   start_prices, least=False)
        P[:, k], D[:, k], owed[:, k], its[k], res_[k] = (r.payments, r.defaulted, r.network.total_obligations,
                                                         r.iterations, r.residual)
        inflow[:, k] = r.received                # claims paid by the waterfall, calls included
        unpaid = unpaid_calls_by(r)
        if unpaid is not None:
            calls = np.zeros((n, K)) if calls is None else calls
            calls[:, k] = unpaid
        Q[:, k] = [r.prices[a] for a in names]
        solvers.append(r.solver)
    return FireSaleBatchResult(network=owed_network(net), payments=P, defaulted=D, iterations=its, residual=res_,
                               method=method, solver=" | ".join(dict.fromkeys(solvers)) or "monotone",
                               params=params, obligations=owed, inflow=inflow, unpaid_calls=calls,
                               asset_names=names, prices=Q, holdings=units, start_prices=start)
