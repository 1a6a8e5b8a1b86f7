"""Resolution of a shock's targets: names or ids to positions, attribute selectors to masks.

Every function here raises :class:`_ShockProblem` (a key and a reason) that
:func:`contagion.shocks.apply` locates as ``scenario 'name': shocks[i].key: reason``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import did_you_mean, shown
from ._common import _plain

if TYPE_CHECKING:  # pragma: no cover
    from ..network import FinancialNetwork
    from .model import Shock


class _ShockProblem(Exception):
    """Raised by a kind's apply function as ``(key, message)``; located by :func:`apply`."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


def _resolve(net: "FinancialNetwork", keys: str | tuple[str, ...], what: str) -> np.ndarray:
    """Positions of institutions given by names or ids (a short loop over the keys, not the nodes)."""
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    names = pd.Index(list(net.names))
    ids = pd.Index(list(net.ids))
    pos = names.get_indexer(list(keys))
    by_id = ids.get_indexer(list(keys))
    clash = (pos >= 0) & (by_id >= 0) & (pos != by_id)
    if clash.any():
        k = int(np.flatnonzero(clash)[0])
        name_of, id_of = int(pos[k]), int(by_id[k])
        raise _ShockProblem(what, f"{shown(keys[k])} is ambiguous: the name of the institution with id "
                                  f"{shown(net.ids[name_of])} and the id of the institution named "
                                  f"{shown(net.names[id_of])}; rename one of them")
    pos = np.where(pos >= 0, pos, by_id)
    unknown = [k for k, p in zip(keys, pos) if p < 0]
    if unknown:
        msgs = []
        for k in unknown[:5]:
            msgs.append(shown(k) + (did_you_mean(k, [*net.names, *net.ids]) if len(net.names) <= 100_000 else ""))
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise _ShockProblem(what, f"unknown institution {', '.join(msgs)}{more}")
    return pos.astype(np.int64)


def _text(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x).strip().lower()


def _column_text(col: pd.Series) -> pd.Series:
    """A column as lower-case stripped text, vectorised (booleans -> true/false, 3.0 -> 3)."""
    txt = col.astype("string").fillna("").str.strip().str.lower()
    if col.dtype.kind == "f":
        txt = txt.str.replace(r"\.0$", "", regex=True)
    return txt


def _column_matches(col: pd.Series, wanted: tuple[Any, ...]) -> np.ndarray:
    """Vectorised membership test of one column (see "Matching values" in the module docstring)."""
    numbers = [float(w) for w in wanted if isinstance(w, (int, float)) and not isinstance(w, bool)]
    mask = np.zeros(len(col), dtype=bool)
    if numbers and col.dtype.kind in "iuf":
        mask |= np.isin(col.to_numpy(dtype=np.float64), numbers)
    elif numbers and col.dtype.kind not in "b":
        num = pd.to_numeric(col.astype(object), errors="coerce").to_numpy(dtype=np.float64)
        mask |= np.isin(num, numbers)
    mask |= _column_text(col).isin([_text(w) for w in wanted]).to_numpy()
    return mask


def _attribute_mask(table: pd.DataFrame, selector: tuple, what: str, net: "FinancialNetwork",
                    id_columns: tuple[str, ...] = ()) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    for key, want in selector:
        if key not in table.columns:
            raise _ShockProblem("select", f"unknown {what} attribute {shown(key)}"
                                          f"{did_you_mean(key, map(str, table.columns))}; available: "
                                          f"{shown(', '.join(map(str, table.columns)), 200, quote=False)}")
        wanted = want if isinstance(want, tuple) else (want,)
        if key in id_columns:  # accept names as well as ids for debtor/creditor
            named = [w for w in wanted if isinstance(w, str) and w in net._name_index]
            if named:
                _resolve(net, tuple(named), "select")  # a name that is also another institution's id: an error
            wanted = tuple(net.ids[net._name_index[w]] if isinstance(w, str) and w in net._name_index else w
                           for w in wanted)
        col_mask = _column_matches(table[key], wanted)
        if not col_mask.any():
            present = pd.unique(_column_text(table[key]))
            listed = ", ".join(shown(x, 40) for x in present[:10]) + (", ..." if len(present) > 10 else "")
            hint = did_you_mean(want, [str(x) for x in present[:10_000]]) if isinstance(want, str) else ""
            raise _ShockProblem("select", f"{shown(key, 40, quote=False)} = {shown(_plain(want))} matches no {what}"
                                          f"{hint} (values present: {listed})")
        mask &= col_mask
    if not mask.any():
        raise _ShockProblem("select", f"{shown(_plain(selector))} matches no {what} (each key matches some, "
                                      f"but not together)")
    return mask


def _node_mask(net: "FinancialNetwork", shock: Shock) -> np.ndarray:
    if shock.target is not None:
        mask = np.zeros(net.n, dtype=bool)
        mask[_resolve(net, shock.target, "target")] = True
        return mask
    return _attribute_mask(net.nodes, shock.select, "institution", net)
