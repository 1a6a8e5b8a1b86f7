"""The shock kinds: one apply function per kind, and the registry :data:`SHOCK_KINDS` that feeds
validation, the docs, the CLI and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..errors import shown

import numpy as np

from ._common import _plain
from .schema import _kind_models
from .targets import _attribute_mask, _node_mask, _resolve, _ShockProblem

if TYPE_CHECKING:  # pragma: no cover
    from ..network import FinancialNetwork
    from .model import Shock


def _number(x: float) -> str:
    """``x`` with every digit it needs to be itself (``5``, ``5.000001``, ``1e+20``)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _apply_external_assets(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    m = _node_mask(net, shock)
    e = net.external_assets.copy()
    if shock.relative is not None:
        e[m] *= 1.0 - shock.relative
    elif shock.absolute is not None:
        a = shock.absolute
        short = m & (a > e * (1 + 1e-12) + 1e-12)
        if short.any():
            # the numbers as written (shortest round trip): 5.000001 is not shown as 5 beside assets of 5
            who = ", ".join(f"{shown(net.names[i], 40, quote=False)} ({_number(e[i])})" for i in np.flatnonzero(short)[:5])
            raise _ShockProblem("absolute", f"loss {_number(a)} is larger than the external assets of {who}")
        e[m] = np.maximum(e[m] - a, 0.0)
    else:
        e[m] = shock.value
    return net.replace(external_assets=e)


def _apply_external_liabilities(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    m = _node_mask(net, shock)
    x = net.external_liabilities.copy()
    if shock.factor is not None:
        x[m] *= shock.factor
    elif shock.absolute is not None:
        x[m] += shock.absolute
    else:
        x[m] = shock.value
    return net.replace(external_liabilities=x)


def _apply_default(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    m = _node_mask(net, shock)
    forced = net.forced_default | m
    recovery = net.forced_recovery.copy()
    recovery[m] = shock.recovery if shock.recovery is not None else 0.0
    return net.replace(forced_default=forced, forced_recovery=recovery)


def _apply_edges(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    edges = net.edges
    if len(edges) == 0:
        raise _ShockProblem("", "the network has no obligations to select")
    mask = np.ones(len(edges), dtype=bool)
    ids = np.asarray(net.ids, dtype=object)
    for key in ("debtor", "creditor"):
        keys = getattr(shock, key)
        if keys is not None:
            wanted = ids[_resolve(net, keys, key)]
            col_mask = edges[key].isin(list(wanted)).to_numpy()
            if not col_mask.any():
                raise _ShockProblem(key, f"{shown(_plain(keys))} has no obligation as {key}")
            mask &= col_mask
    if shock.select is not None:
        mask &= _attribute_mask(edges, shock.select, "obligation", net, id_columns=("debtor", "creditor"))
    if not mask.any():
        raise _ShockProblem("", "debtor, creditor and select together match no obligation")
    amounts = edges["amount"].to_numpy(dtype=np.float64).copy()
    if shock.factor is not None:
        amounts[mask] *= shock.factor
    else:
        amounts[mask] = shock.value
    return net.replace(edge_amounts=amounts)


def _apply_freeze(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    """A path rule (read by :func:`contagion.clear_path`): the network is unchanged; the lenders must exist."""
    _node_mask(net, shock)
    return net


def _apply_collateral(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    """A path rule (read by :func:`contagion.clear_path`): the network is unchanged."""
    return net


@dataclass(frozen=True)
class ShockKind:
    """An entry of :data:`SHOCK_KINDS`: the pydantic model of its keys, its apply function, a one-line help."""

    name: str
    model: Any
    apply: Callable[["FinancialNetwork", Shock], "FinancialNetwork"]
    help: str


def _registry() -> dict[str, ShockKind]:
    models = _kind_models()
    return {
        "external_assets": ShockKind("external_assets", models["external_assets"], _apply_external_assets,
                                     "outside assets (cash + outside revenue): relative | absolute | value"),
        "external_liabilities": ShockKind("external_liabilities", models["external_liabilities"],
                                          _apply_external_liabilities,
                                          "obligations to outside creditors: factor | absolute | value"),
        "default": ShockKind("default", models["default"], _apply_default,
                             "forced default, paying at most recovery (default 0) x obligations"),
        "edges": ShockKind("edges", models["edges"], _apply_edges,
                           "obligations by debtor / creditor / edge attributes: factor | value"),
        "freeze": ShockKind("freeze", models["freeze"], _apply_freeze,
                            "on a path: the lenders (target | select) stop rolling over maturing debt from year"),
        "collateral": ShockKind("collateral", models["collateral"], _apply_collateral,
                                "on a path: collateral (target: ids, none = all) economic life x factor, "
                                "value -relative"),
    }


#: kind name -> :class:`ShockKind` (model, apply function, help). Feeds validation, docs and tests.
SHOCK_KINDS: dict[str, ShockKind] = _registry()
