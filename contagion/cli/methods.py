"""``--method`` and the method parameters (``--alpha``, ``--beta``, ``--recovery``), from the registry.

One decorator, :func:`method_options`, adds ``--method`` (a choice of the
registered methods) and one option per parameter any of those methods takes
(:data:`contagion.clearing.METHOD_PARAMS`), with its range, default and help.
The command receives ``method`` and ``params``, a dict with every parameter of
the chosen method (its default when the option was not given); an option of
another method is a usage error (exit 2).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import click

from ..clearing.params import METHOD_PARAMS, ParamSpec

__all__ = ["method_options", "method_params", "params_text"]


def _specs(methods: Sequence[str]) -> dict[str, tuple[ParamSpec, list[str]]]:
    """Parameter name -> (its spec, the methods that take it), over ``methods``, in registry order."""
    out: dict[str, tuple[ParamSpec, list[str]]] = {}
    for m in methods:
        for spec in METHOD_PARAMS.get(m, ()):
            out.setdefault(spec.name, (spec, []))[1].append(m)
    return out


def method_params(method: str, given: dict[str, float | None]) -> dict[str, float]:
    """Every parameter of ``method``: the value given, else its default.

    Raises ``click.UsageError`` for a parameter given that ``method`` does not take.

    >>> method_params("rogers-veraart", {"alpha": 0.5, "beta": None, "recovery": None})
    {'alpha': 0.5, 'beta': 1.0}
    >>> method_params("eisenberg-noe", {"alpha": 0.5})
    Traceback (most recent call last):
    ...
    click.exceptions.UsageError: --alpha applies only to --method rogers-veraart
    """
    own = {spec.name: spec for spec in METHOD_PARAMS.get(method, ())}
    for name, value in given.items():
        if value is not None and name not in own:
            takers = [m for m, specs in METHOD_PARAMS.items() if any(s.name == name for s in specs)]
            raise click.UsageError(f"--{name.replace('_', '-')} applies only to --method {' or '.join(takers)}")
    return {name: float(spec.default if given.get(name) is None else given[name]) for name, spec in own.items()}


def params_text(params: dict[str, Any]) -> str:
    """``" (alpha=0.5, beta=1)"`` for a note on stderr; ``""`` without parameters."""
    return "" if not params else " (" + ", ".join(f"{k}={v:g}" for k, v in params.items()) + ")"


def _bound(x: float) -> float | int:
    """``1.0`` -> ``1`` so that range errors read ``0<=x<=1``."""
    return int(x) if float(x).is_integer() else x


def method_options(methods: Sequence[str] | None = None) -> Callable[[Callable], Callable]:
    """Add ``--method`` and the parameters of ``methods`` (default: every registered method).

    The decorated command is called with ``method=`` and ``params=`` (see
    :func:`method_params`) instead of one argument per parameter.
    """
    from ..clearing import CLEARING_METHODS

    choices = list(methods) if methods is not None else list(CLEARING_METHODS)
    specs = _specs(choices)

    def deco(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, method: str, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in specs}
            return func(*args, method=method, params=method_params(method, given), **kwargs)

        for name, (spec, takers) in reversed(list(specs.items())):
            wrapper = click.option(
                f"--{name.replace('_', '-')}", name,
                # (an unbounded range is still one of numbers: inf is a usage error, not a value)
                type=click.FloatRange(_bound(spec.low), _bound(spec.high), max_open=spec.high_open
                                      or spec.high == float("inf")), default=None,
                metavar=name[0].upper(),
                help=f"{' and '.join(takers)} only: {spec.help}. [default: {spec.default:g}]",
            )(wrapper)
        return click.option("--method", "-m", type=click.Choice(choices), default="eisenberg-noe",
                            show_default=True, help="Clearing method.")(wrapper)

    return deco
