"""Debt behind each sponsor, on and off its balance sheet.

Off-balance-sheet vehicles (data-centre SPVs and joint ventures) borrow in
their own name; the institution that sponsors them (the future tenant, the
equity partner) is named in the vehicle's ``sponsor`` node attribute. This
module adds up, for each sponsor:

- ``debt``: its own obligations of a debt kind (:data:`DEBT_KINDS`: ``loan``,
  ``bond``, ``credit_facility``, ``vendor_financing``);
- ``leases``: its own obligations of kind ``lease`` (shown separately: a
  lease is a liability on the balance sheet under IFRS 16 / ASC 842, but
  analysts often read it apart from borrowing);
- ``off_balance_sheet_debt``: the debt-kind obligations of the vehicles whose
  ``sponsor`` attribute names it, times its share of each vehicle;
- ``off_balance_sheet_external``: the same share of those vehicles'
  obligations to creditors outside the network (``external_liabilities``;
  of unknown kind, so not counted in ``total``);
- ``total = debt + leases + off_balance_sheet_debt``.

Amounts are the network's edge amounts: for a dataset cleared over a horizon,
what falls due in that horizon, not necessarily the principal outstanding.

Sponsor attribute. ``sponsor`` holds a name or id; several sponsors are
separated by ``;`` and share the vehicle equally unless a ``sponsor_share``
attribute gives the shares in the same order (also ``;``-separated, each in
[0, 1], summing to at most 1: a remainder belongs to investors not in the
network). A sponsor that is not an institution of the network is still
listed (type ``""``, no own debt).

Examples
--------
>>> import contagion
>>> from contagion.sponsors import sponsor_exposure
>>> nodes = [{"id": "M", "name": "Meta", "type": "hyperscaler"},
...          {"id": "H", "name": "Hyperion", "type": "data_center_spv", "sponsor": "Meta"},
...          {"id": "P", "name": "PIMCO", "type": "asset_manager", "sponsor": ""}]
>>> edges = [{"debtor": "H", "creditor": "P", "amount": 27, "kind": "bond"},
...          {"debtor": "M", "creditor": "H", "amount": 3, "kind": "lease"}]
>>> net = contagion.FinancialNetwork.from_edges(edges, nodes)
>>> sponsor_exposure(net)[["debt", "leases", "off_balance_sheet_debt", "total", "vehicle_names"]]
         debt  leases  off_balance_sheet_debt  total vehicle_names
sponsor
Meta      0.0     3.0                    27.0   30.0      Hyperion
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import InvalidNetworkError, Problem

if TYPE_CHECKING:  # pragma: no cover
    from .network import FinancialNetwork

__all__ = ["sponsor_exposure", "DEBT_KINDS", "LEASE_KINDS", "SPONSOR_COLUMNS"]

#: Edge kinds counted as debt.
DEBT_KINDS = ("loan", "bond", "credit_facility", "vendor_financing")
#: Edge kinds counted as leases (shown apart from debt).
LEASE_KINDS = ("lease",)
#: Columns of the frame returned by :func:`sponsor_exposure` (index: ``sponsor``).
SPONSOR_COLUMNS = ("type", "debt", "leases", "off_balance_sheet_debt", "off_balance_sheet_external", "total",
                   "vehicles", "vehicle_names")


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object if c in ("type", "vehicle_names") else
                                       (np.int64 if c == "vehicles" else np.float64)) for c in SPONSOR_COLUMNS})
    frame.index = pd.Index([], name="sponsor", dtype=object)
    return frame


def _explode(col: pd.Series, name: str) -> pd.DataFrame:
    """``"a; b"`` in row v -> rows ``(v, 0, "a"), (v, 1, "b")`` (vectorised; empty parts dropped)."""
    parts = col.reset_index(drop=True).astype("string").fillna("").str.split(";").explode().str.strip()
    parts = parts[parts.fillna("") != ""]
    out = pd.DataFrame({"vehicle": parts.index.to_numpy(dtype=np.int64), name: parts.to_numpy(dtype=object)})
    out["slot"] = out.groupby("vehicle").cumcount().to_numpy()
    return out


def sponsor_exposure(net: "FinancialNetwork") -> pd.DataFrame:
    """Debt on and off each sponsor's balance sheet (see the module docstring).

    Parameters
    ----------
    net : FinancialNetwork
        A network whose node table may have ``sponsor`` (and ``sponsor_share``)
        columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by sponsor name, with columns :data:`SPONSOR_COLUMNS`, sorted by
        ``total`` (largest first). Empty (same columns) when the network has no
        ``sponsor`` column or no vehicle names a sponsor.

    Raises
    ------
    InvalidNetworkError
        ``sponsor_share`` with a different number of values than sponsors, a
        share that is not a number in [0, 1], or shares summing to more than 1.
    """
    nodes = net.nodes
    if "sponsor" not in nodes.columns:
        return _empty()
    long = _explode(nodes["sponsor"], "sponsor")
    if long.empty:
        return _empty()
    names = np.asarray(net.names, dtype=object)
    n_sponsors = long.groupby("vehicle")["slot"].transform("size").to_numpy()

    # shares: given per slot, or equal
    problems: list[Problem] = []
    if "sponsor_share" in nodes.columns:
        shares = _explode(nodes["sponsor_share"], "share_text")
        n_given = shares.groupby("vehicle")["slot"].size()
        n_sp = long.groupby("vehicle")["slot"].size()
        mismatch = n_given.index[(n_given != n_sp.reindex(n_given.index, fill_value=0)).to_numpy()]
        for v in mismatch[:50]:
            problems.append(Problem(f"institution {names[v]!r}: {n_given[v]} shares for "
                                    f"{int(n_sp.get(v, 0))} sponsors", column="sponsor_share",
                                    value=str(nodes["sponsor_share"].iloc[v])))
        if problems:
            raise InvalidNetworkError(problems)
        long = long.merge(shares, on=["vehicle", "slot"], how="left")
    else:
        long["share_text"] = None
    given = pd.to_numeric(long["share_text"], errors="coerce").to_numpy(dtype=np.float64)
    has_text = long["share_text"].notna().to_numpy()
    bad = has_text & (~np.isfinite(given) | (given < 0) | (given > 1))
    for k in np.flatnonzero(bad)[:50]:
        v = int(long["vehicle"].iloc[k])
        problems.append(Problem(f"institution {names[v]!r}: sponsor share must be a number in [0, 1]",
                                column="sponsor_share", value=long["share_text"].iloc[k]))
    if problems:
        raise InvalidNetworkError(problems)
    long["share"] = np.where(has_text, given, 1.0 / n_sponsors)
    total_share = long.groupby("vehicle")["share"].sum()
    for v in total_share.index[total_share.to_numpy() > 1 + 1e-9][:50]:
        problems.append(Problem(f"institution {names[v]!r}: sponsor shares sum to {total_share[v]:g} (> 1)",
                                column="sponsor_share"))
    if problems:
        raise InvalidNetworkError(problems)

    # debt and leases of every institution, by debtor (vectorised)
    edges = net.edges
    di, _ = net.edge_index
    kind = edges["kind"].astype("string").fillna("").str.strip().str.lower()
    amount = edges["amount"].to_numpy(dtype=np.float64)
    is_debt = kind.isin(DEBT_KINDS).to_numpy()
    is_lease = kind.isin(LEASE_KINDS).to_numpy()
    debt = np.bincount(di[is_debt], weights=amount[is_debt], minlength=net.n)
    leases = np.bincount(di[is_lease], weights=amount[is_lease], minlength=net.n)

    # sponsor text -> position (by name, then id); -1 = not in the network
    pos = pd.Index(list(net.names)).get_indexer(long["sponsor"])
    by_id = pd.Index(list(net.ids)).get_indexer(long["sponsor"])
    pos = np.where(pos >= 0, pos, by_id)
    long["label"] = np.where(pos >= 0, names[np.maximum(pos, 0)], long["sponsor"].to_numpy(dtype=object))
    long["pos"] = pos
    vehicle = long["vehicle"].to_numpy()
    long["off"] = debt[vehicle] * long["share"].to_numpy()
    long["off_ext"] = net.external_liabilities[vehicle] * long["share"].to_numpy()
    long["vehicle_name"] = names[vehicle]

    grouped = long.groupby("label", sort=True)
    frame = pd.DataFrame({
        "pos": grouped["pos"].first(),
        "off_balance_sheet_debt": grouped["off"].sum(),
        "off_balance_sheet_external": grouped["off_ext"].sum(),
        "vehicles": grouped["vehicle"].nunique().astype(np.int64),
        "vehicle_names": grouped["vehicle_name"].agg(lambda s: "; ".join(dict.fromkeys(s))),
    })
    p = frame["pos"].to_numpy()
    known = p >= 0
    types = np.asarray(net.types, dtype=object)
    frame["type"] = np.where(known, types[np.maximum(p, 0)], "")
    frame["debt"] = np.where(known, debt[np.maximum(p, 0)], 0.0)
    frame["leases"] = np.where(known, leases[np.maximum(p, 0)], 0.0)
    frame["total"] = frame["debt"] + frame["leases"] + frame["off_balance_sheet_debt"]
    frame.index.name = "sponsor"
    frame = frame.sort_values(["total"], ascending=False, kind="stable")
    return frame[list(SPONSOR_COLUMNS)]
