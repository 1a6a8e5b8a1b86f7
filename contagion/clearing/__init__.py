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

import numpy as np

from ..errors import ContagionError
from .result import BatchClearingResult, ClearingResult
from .methods import eisenberg_noe, rogers_veraart, clear_many
from .params import METHOD_PARAMS, ParamSpec
from .threshold import threshold_cascade

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


def clear(network, method: str = "eisenberg-noe", **params: Any) -> ClearingResult:
    """Clear a network: find who pays what, who defaults and in which wave.

    Parameters
    ----------
    network : FinancialNetwork
    method : str
        A key of :data:`CLEARING_METHODS`: ``"eisenberg-noe"`` (default),
        ``"rogers-veraart"`` (with ``alpha=``, ``beta=``, the fractions of
        external and interbank assets recovered from a defaulting institution) or
        ``"threshold"`` (the Furfine / Gai--Kapadia threshold cascade, with
        ``recovery=``; see :mod:`contagion.channels`).
    **params
        Passed to the method.

    Raises
    ------
    ContagionError
        Unknown method.
    ConvergenceError
        The solver could not reach its residual bound.
    """
    try:
        func = CLEARING_METHODS[method]
    except KeyError:
        raise ContagionError(f"unknown clearing method {method!r}; choose one of {sorted(CLEARING_METHODS)}") from None
    try:
        _signature(func).bind(network, **params)
    except TypeError:
        accepted = [p for p in _signature(func).parameters][1:]
        raise ContagionError(f"method {method!r} does not take {sorted(params)}; it takes "
                             f"{', '.join(accepted) if accepted else 'no parameters'}") from None
    return func(network, **params)
