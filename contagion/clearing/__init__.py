"""Clearing methods: a registry plus :func:`clear` and :func:`clear_many`.

``CLEARING_METHODS`` maps a method name to a function ``f(network, **params)
-> ClearingResult``; the CLI's ``--method`` choice and the contract tests are
built from it.

>>> import contagion
>>> net = contagion.FinancialNetwork.from_matrix(
...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10])
>>> res = contagion.clear(net)
>>> res.payments.round(4).tolist()
[24.5455, 26.3636, 10.0]
>>> res.defaulted.tolist(), res.default_round.tolist()
([True, True, False], [0, 1, -1])
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from ..errors import ContagionError, did_you_mean
from .result import BatchClearingResult, ClearingResult
from .methods import BATCH_CLEARERS, eisenberg_noe, rogers_veraart, clear_many
from .firesale_batch import FireSaleBatchResult, clear_many_fire_sale
from .solvers import SOLVERS
from .params import METHOD_PARAMS, ParamSpec
from .threshold import threshold_cascade
from .firesale import FIRE_SALE_PARAMS, LEVERAGE_PARAMS, FireSaleResult, fire_sale, fire_sale_leverage

__all__ = [
    "CLEARING_METHODS",
    "clear",
    "clear_many",
    "register_method",
    "METHOD_PARAMS",
    "ParamSpec",
    "eisenberg_noe",
    "rogers_veraart",
    "ClearingResult",
    "BatchClearingResult",
    "FireSaleResult",
    "FireSaleBatchResult",
    "fire_sale",
    "fire_sale_leverage",
]

#: name -> function(network, **params) -> ClearingResult
CLEARING_METHODS: dict[str, Callable[..., ClearingResult]] = {
    "eisenberg-noe": eisenberg_noe,
    "rogers-veraart": rogers_veraart,
    "threshold": threshold_cascade,
}


@functools.lru_cache(maxsize=None)
def _signature(func: Callable) -> inspect.Signature:
    """A method's signature, computed once (``inspect.signature`` costs tens of microseconds a call)."""
    return inspect.signature(func)


def register_method(name: str, func: Callable[..., ClearingResult], params: tuple[ParamSpec, ...] = ()) -> None:
    """Add a clearing method to the registry (it then appears in the CLI and the contract tests).

    ``params``: its numeric parameters (:class:`~contagion.clearing.params.ParamSpec`), from which the
    command line builds one option each.
    """
    CLEARING_METHODS[name] = func
    METHOD_PARAMS[name] = tuple(params)


register_method("fire-sale", fire_sale, FIRE_SALE_PARAMS)
register_method("fire-sale-leverage", fire_sale_leverage, LEVERAGE_PARAMS)
# clear_many clears the fire-sale methods too (side by side, contagion.clearing.firesale_batch)
BATCH_CLEARERS["fire-sale"] = (clear_many_fire_sale, ("impact",))
BATCH_CLEARERS["fire-sale-leverage"] = (clear_many_fire_sale, ("impact", "leverage"))


def clear(network, method: str = "eisenberg-noe", solver: str = "auto", **params: Any) -> ClearingResult:
    """Clear a network: find who pays what, who defaults and in which wave.

    Parameters
    ----------
    network : FinancialNetwork
    method : str
        A key of :data:`CLEARING_METHODS`: ``"eisenberg-noe"`` (default),
        ``"rogers-veraart"`` (with ``alpha=``, ``beta=``, the fractions of
        external and interbank assets recovered from a defaulting institution) or
        ``"threshold"`` (the Furfine / Gai--Kapadia threshold cascade, with
        ``recovery=``; see :mod:`contagion.channels`), ``"fire-sale"`` (with
        ``impact=``) or ``"fire-sale-leverage"`` (``impact=``, ``leverage=``):
        price-mediated contagion through sales of common assets
        (:mod:`contagion.clearing.firesale`).
    solver : {"auto", "reference", "compiled"}
        How the exact methods compute it (same answer on every path; see
        :mod:`contagion.clearing.solvers` for each one's cost). ``"auto"``
        (default): the compiled kernels for networks of at least 50,000
        obligations when numba is installed, else ``"reference"``, the
        fictitious-default algorithm in numpy/scipy. ``res.solver`` records
        the path taken. Methods without a choice of solver take ``"auto"`` only.
    **params
        Passed to the method.

    Raises
    ------
    ContagionError
        Unknown method or solver, parameters the method does not take, or
        ``solver="compiled"`` without numba.
    ConvergenceError
        The solver could not reach its residual bound.

    Examples
    --------
    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> contagion.clear(net, solver="reference").payments.tolist() == contagion.clear(net).payments.tolist()
    True
    """
    try:
        func = CLEARING_METHODS[method]
    except KeyError:
        raise ContagionError(f"unknown clearing method {method!r}{did_you_mean(method, CLEARING_METHODS)}; choose one "
                             f"of {sorted(CLEARING_METHODS)}") from None
    sig = _signature(func)
    takes_solver = "solver" in sig.parameters
    try:
        sig.bind(network, **params)
    except TypeError:
        accepted = [p for p in sig.parameters if p != "solver"][1:]
        raise ContagionError(f"method {method!r} does not take {sorted(params)}; it takes "
                             f"{', '.join(accepted) if accepted else 'no parameters'}") from None
    if takes_solver:
        return func(network, solver=solver, **params)
    if solver not in SOLVERS:
        raise ContagionError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    if solver != "auto":
        raise ContagionError(f"method {method!r} has a single algorithm; solver={solver!r} applies to "
                             f"{', '.join(m for m, f in CLEARING_METHODS.items() if 'solver' in _signature(f).parameters)}")
    return func(network, **params)
