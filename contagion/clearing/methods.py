"""Eisenberg--Noe and Rogers--Veraart clearing on a :class:`~contagion.FinancialNetwork`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import ContagionError
from .least import least_payments
from .handover import clear_many_with_priority, clear_with_priority
from .priority import uses_priority
from .result import BatchClearingResult, ClearingResult
from .solvers import clear_batch, clear_exact

__all__ = ["eisenberg_noe", "rogers_veraart", "clear_many", "BATCH_CLEARERS"]

#: Further methods :func:`clear_many` clears: name -> (``f(net, E, method, solver=, **params)``, parameter
#: names); the fire-sale methods are registered by :mod:`contagion.clearing`.
BATCH_CLEARERS: dict[str, tuple[Any, tuple[str, ...]]] = {}


def eisenberg_noe(net, *, solver: str = "auto") -> ClearingResult:
    """Greatest Eisenberg--Noe clearing vector, exactly.

    ``p = min(pbar, max(0, e + Pi.T @ p))``, computed by the fictitious-default
    algorithm from ``p = pbar`` (see :mod:`contagion.clearing.core`), or on the
    path ``solver`` selects (:mod:`contagion.clearing.solvers`).

    Notes
    -----
    Eisenberg, L. & Noe, T. H. (2001). Systemic risk in financial systems.
    *Management Science* 47(2), 236-249, section 3 (fictitious default
    algorithm, Theorem 2 on uniqueness).

    Examples
    --------
    Glasserman & Young (2015), core-periphery example: the core owes 10 to each
    of four periphery banks and 100 outside; a shock of 94 to its outside assets
    brings down all five.

    >>> import numpy as np, contagion
    >>> L = np.zeros((5, 5)); L[2, [0, 1, 3, 4]] = 10
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     L, external_assets=[50, 50, 150 - 94, 50, 50],
    ...     external_liabilities=[55, 55, 100, 55, 55])
    >>> res = contagion.clear(net)
    >>> res.payments.round(6).tolist(), res.total_shortfall
    ([54.0, 54.0, 56.0, 54.0, 54.0], 88.0)

    Where the clearing vector is not unique (``res.unique`` is ``False``),
    ``res.least_payments`` is the least one (:mod:`contagion.clearing.least`):

    >>> ring = contagion.clear(contagion.load_dataset("ring"))
    >>> ring.unique, ring.least_payments.tolist()
    (False, [0.0, 0.0, 0.0, 1.0, 6.0])
    """
    if uses_priority(net):   # seniority, collateral, guarantees: the priority solver (res.solver says so)
        return clear_with_priority(net, "eisenberg-noe", solver=solver)
    res = clear_exact(net, "eisenberg-noe", solver=solver)
    if res.unique is False:   # a closed group without outside money: the least vector too
        res = replace(res, least_payments=least_payments(net, res.payments))
    return res


def rogers_veraart(net, alpha: float = 1.0, beta: float = 1.0, *, solver: str = "auto") -> ClearingResult:
    """Greatest Rogers--Veraart clearing vector with default costs.

    A defaulting institution pays ``alpha * e_i + beta * (Pi.T p)_i``: it
    recovers the fraction ``alpha`` of its external and ``beta`` of its
    interbank assets (1 = no default cost; ``alpha = beta = 1`` is
    Eisenberg--Noe). Solvency is judged on the full value ``e_i + (Pi.T p)_i``.
    Equity is reported as ``e + Pi.T @ p - pbar`` (before default costs).

    Notes
    -----
    Rogers, L. C. G. & Veraart, L. A. M. (2013). Failure and rescue in an
    interbank network. *Management Science* 59(4), 882-898, section 3
    (Greatest Clearing Vector Algorithm).

    Examples
    --------
    >>> import contagion
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 30, 0], [5, 0, 20], [10, 0, 0]], external_assets=[10, 5, 5])
    >>> res = contagion.clear(net, method="rogers-veraart", alpha=0.4, beta=1.0)
    >>> res.payments.round(9).tolist(), res.equity.round(9).tolist()
    ([18.0, 20.0, 10.0], [-6.0, -2.0, 11.0])
    """
    alpha, beta = _check_recovery(alpha, beta)
    if uses_priority(net):
        return clear_with_priority(net, "rogers-veraart", alpha, beta, solver=solver)
    return clear_exact(net, "rogers-veraart", alpha, beta, solver=solver)


def _check_recovery(alpha: Any, beta: Any) -> tuple[float, float]:
    out = []
    for name, v in (("alpha", alpha), ("beta", beta)):
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ContagionError(f"{name} must be a number in [0, 1], got {v!r}") from None
        if not (0.0 <= f <= 1.0):
            raise ContagionError(f"{name} must lie in [0, 1] (fraction recovered), got {f}")
        out.append(f)
    return out[0], out[1]


def clear_many(net, external_assets: Any, method: str = "eisenberg-noe", solver: str = "auto",
               **params: Any) -> BatchClearingResult:
    """Clear many scenarios of external assets on one network.

    Parameters
    ----------
    net : FinancialNetwork
    external_assets : array_like or dask.array.Array, shape (n, K)
        Column ``k`` is the vector of external assets of scenario ``k``. A
        ``dask.array`` chunked by column is cleared chunk by chunk where each
        chunk lives (on a ``dask.distributed`` cluster when a client is active),
        and the results are gathered into the same result as for a NumPy array
        (:mod:`contagion.clearing.dask_scenarios`).
    method : str
        ``"eisenberg-noe"``, ``"rogers-veraart"`` (with ``alpha``, ``beta``), or ``"fire-sale"`` /
        ``"fire-sale-leverage"`` (with ``impact``, ``leverage``): the greatest fire-sale clearing of every
        scenario, its prices in ``batch.prices`` (:mod:`contagion.clearing.firesale_batch`).
    solver : {"auto", "reference", "compiled"}
        The path (see :mod:`contagion.clearing.solvers` for each one's cost):
        ``"auto"`` runs the compiled scenario-parallel path for batches of at
        least 2,000,000 obligations x scenarios or 256 scenarios, the reference
        column by column otherwise. ``batch.solver`` records the path taken.

    Returns
    -------
    BatchClearingResult
        ``payments`` and ``defaulted`` of shape ``(n, K)``; column ``k`` equals
        :func:`contagion.clear` on the network with ``E[:, k]`` as external assets.

    Examples
    --------
    >>> import numpy as np, contagion
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10])
    >>> E = np.array([[10, 10, 10], [30, 30, 30]], dtype=float).T
    >>> batch = contagion.clear_many(net, E)
    >>> batch.defaulted.tolist()
    [[True, False], [True, False], [False, False]]
    """
    from .dask_scenarios import is_dask_array

    if is_dask_array(external_assets):    # each chunk of columns cleared where it lives, results gathered
        from .dask_scenarios import clear_dask_columns

        return clear_dask_columns(clear_many, net, external_assets, method, solver, params)
    E = np.asarray(external_assets, dtype=np.float64)
    n = net.n
    if E.ndim == 1:
        E = E[:, None]
    if E.ndim != 2 or E.shape[0] != n:
        raise ContagionError(f"external_assets must have shape (n, K) = ({n}, K), got {E.shape}")
    # two reductions without temporaries (NaN fails both comparisons); where they fail, find the entry
    if E.size and not (E.min() >= 0.0 and E.max() < np.inf):
        i, k = np.argwhere(~(np.isfinite(E) & (E >= 0)))[0]
        raise ContagionError(f"external_assets must be finite and non-negative: external_assets[{i}, {k}] = "
                             f"{float(E[i, k])} (institution {net.names[i]!r}, scenario {k})")
    if method == "eisenberg-noe":
        alpha = beta = 1.0
        if params:
            raise ContagionError(f"eisenberg-noe takes no parameters, got {sorted(params)}")
    elif method == "rogers-veraart":
        alpha, beta = _check_recovery(params.pop("alpha", 1.0), params.pop("beta", 1.0))
        if params:
            raise ContagionError(f"rogers-veraart takes alpha and beta, got {sorted(params)}")
    elif method in BATCH_CLEARERS:
        func, allowed = BATCH_CLEARERS[method]
        if set(params) - set(allowed):
            raise ContagionError(f"{method} takes {' and '.join(allowed)}, got {sorted(params)}")
        return func(net, E, method, solver=solver, **params)
    else:
        raise ContagionError(f"clear_many supports {', '.join(['eisenberg-noe', 'rogers-veraart', *BATCH_CLEARERS])}, "
                             f"not {method!r}")
    if uses_priority(net):
        return clear_many_with_priority(net, E, method, alpha, beta, solver=solver)
    return clear_batch(net, E, method, alpha, beta, solver=solver)
