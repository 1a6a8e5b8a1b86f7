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

__all__ = ["sponsor_exposure", "look_through", "DEBT_KINDS", "LEASE_KINDS", "SPONSOR_COLUMNS", "GUARANTEE_KINDS",
           "LOOK_THROUGH_COLUMNS"]

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


#: Edge kinds that are guarantees (DESIGN §8): what they owe depends on the clearing or on an asset value.
GUARANTEE_KINDS = ("guarantee", "residual_value_guarantee")
#: Columns :func:`look_through` adds to :data:`SPONSOR_COLUMNS`.
LOOK_THROUGH_COLUMNS = ("guarantees", "guarantees_called", "guaranteed_debt")


def look_through(net: "FinancialNetwork", result=None) -> pd.DataFrame:
    """Per sponsor or guarantor: its own debt and leases, the vehicles' debt it stands behind, and its guarantees.

    The columns of :func:`sponsor_exposure`, plus:

    - ``guarantees``: the caps of the guarantees and residual value
      guarantees it gives (the contingent amount);
    - ``guarantees_called``: what they owe in ``result`` (a
      :class:`~contagion.ClearingResult` of ``net`` or of it after a scenario;
      ``nan`` without one);
    - ``guaranteed_debt``: the obligations its guarantees cover (their amounts).

    Institutions that give a guarantee are listed even when no vehicle names
    them as sponsor. Sorted by ``total + guarantees`` (largest first).

    Examples
    --------
    >>> import contagion
    >>> nodes = [{"id": "M", "name": "Meta", "type": "hyperscaler", "external_assets": 50},
    ...          {"id": "H", "name": "Hyperion", "type": "data_center_spv", "sponsor": "Meta", "external_assets": 4},
    ...          {"id": "P", "name": "PIMCO", "type": "asset_manager"}]
    >>> edges = [{"edge_id": "b", "debtor": "H", "creditor": "P", "amount": 10, "kind": "bond"},
    ...          {"edge_id": "g", "debtor": "M", "creditor": "P", "amount": 8, "kind": "guarantee", "covers": "b"}]
    >>> net = contagion.FinancialNetwork.from_edges(edges, nodes)
    >>> look_through(net, contagion.clear(net))[["off_balance_sheet_debt", "guarantees", "guarantees_called"]]
             off_balance_sheet_debt  guarantees  guarantees_called
    sponsor
    Meta                       10.0         8.0                6.0
    """
    frame = sponsor_exposure(net)
    edges = net.edges
    di, _ = net.edge_index
    kind = edges["kind"].astype("string").fillna("").str.strip().str.lower() if "kind" in edges.columns else \
        pd.Series([""] * len(edges))
    is_g = kind.isin(GUARANTEE_KINDS).to_numpy()
    cap = edges["amount"].to_numpy(dtype=np.float64)
    gives = np.bincount(di[is_g], weights=cap[is_g], minlength=net.n)
    called = np.full(net.n, np.nan)
    if result is not None:
        owed = result.network.edges["amount"].to_numpy(dtype=np.float64)
        called = np.bincount(di[is_g], weights=owed[is_g], minlength=net.n)
    covered = np.zeros(net.n)
    if "covers" in edges.columns and "edge_id" in edges.columns and is_g.any():
        row_of = {str(i).strip(): k for k, i in enumerate(edges["edge_id"]) if isinstance(i, str) or i == i}
        for k in np.flatnonzero(is_g):
            target = edges["covers"].iloc[k]
            if isinstance(target, str) and target.strip() in row_of:
                covered[di[k]] += cap[row_of[target.strip()]]
    names = list(net.names)
    types = np.asarray(net.types, dtype=object)
    for i in np.flatnonzero(gives > 0):
        if names[i] not in frame.index:
            frame.loc[names[i]] = {"type": types[i], "debt": 0.0, "leases": 0.0, "off_balance_sheet_debt": 0.0,
                                   "off_balance_sheet_external": 0.0, "total": 0.0, "vehicles": 0, "vehicle_names": ""}
    index = pd.Index(list(net.names))
    pos = index.get_indexer(frame.index)
    ok = pos >= 0
    frame["guarantees"] = np.where(ok, gives[np.maximum(pos, 0)], 0.0)
    frame["guarantees_called"] = np.where(ok, called[np.maximum(pos, 0)], np.nan if result is None else 0.0)
    frame["guaranteed_debt"] = np.where(ok, covered[np.maximum(pos, 0)], 0.0)
    frame = frame.astype({"debt": float, "leases": float, "total": float, "vehicles": np.int64})
    order = np.argsort(-(frame["total"].to_numpy() + frame["guarantees"].to_numpy()), kind="stable")
    frame = frame.iloc[order]
    frame.index.name = "sponsor"
    return frame
