"""Spreading what a syndicate is owed over its member banks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import ContagionError

from .methods import _check_seed


def syndicates_of(net: Any) -> tuple[str, ...]:
    """Ids of the institutions with member rows (edges of kind ``syndicate_share``) and something owed to them."""
    e = net.edges
    if "kind" not in e.columns:
        return ()
    members = e.loc[e["kind"] == "syndicate_share", "debtor"].astype(str)
    owed = set(e.loc[(e["kind"] != "syndicate_share") & (e["amount"] > 0), "creditor"].astype(str))
    return tuple(dict.fromkeys(s for s in members if s in owed))


@dataclass(frozen=True)
class _Spread:
    """A network with every claim on a syndicate split into one row per member (amounts set per draw)."""

    network: Any                 # template network (member rows carry the point estimate)
    rows: tuple                  # per syndicate: (edge rows of the template, claim amounts, member positions)
    alpha: tuple                 # per syndicate: Dirichlet parameters of the unknown members' part
    fixed: tuple                 # per syndicate: known fraction per member (0 also for an unknown one)
    base_amounts: np.ndarray


def _spread_plan(net: Any, syndicates: Iterable[str] | None, weights: Any, shares: Mapping[str, Mapping[str, float]]
                 | None, concentration: float | None) -> _Spread:
    from ..network import FinancialNetwork

    synd = tuple(syndicates) if syndicates is not None else syndicates_of(net)
    if not synd:
        raise ContagionError("no syndicate to spread: no institution has member rows (kind 'syndicate_share') "
                             "and something owed to it")
    e = net.edges.reset_index(drop=True)
    nodes = net.nodes
    ids = [str(i) for i in nodes["id"]]
    pos = {v: k for k, v in enumerate(ids)}
    if weights is None:
        weights = "external_assets"
    wcol = None
    if isinstance(weights, str):
        if weights not in nodes.columns:
            raise ContagionError(f"weights: the network has no node column {weights!r}")
        wcol = pd.to_numeric(nodes[weights], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    keep = np.ones(len(e), dtype=bool)
    new_rows: list[pd.DataFrame] = []
    plans = []
    for s in synd:
        if s not in pos:
            raise ContagionError(f"unknown syndicate {s!r}")
        mem = e[(e["debtor"].astype(str) == s) & (e.get("kind", "") == "syndicate_share")]
        members = list(dict.fromkeys(mem["creditor"].astype(str)))
        claims = e[(e["creditor"].astype(str) == s) & (e["amount"] > 0) & (e.get("kind", "") != "syndicate_share")]
        if not members:
            raise ContagionError(f"syndicate {s!r} has no member rows (kind 'syndicate_share')")
        total = float(claims["amount"].sum())
        if total <= 0:
            raise ContagionError(f"syndicate {s!r} is owed nothing: there is nothing to spread")
        fixed = np.zeros(len(members))
        known = np.zeros(len(members), dtype=bool)     # a share given in `shares` is known even when it is 0
        row_amt = dict(zip(mem["creditor"].astype(str), mem["amount"].astype(float)))
        for j, m in enumerate(members):
            fixed[j] = row_amt.get(m, 0.0) / total
            known[j] = fixed[j] > 0
        for m, f in (shares or {}).get(s, {}).items():
            if m not in members:
                raise ContagionError(f"shares: {m!r} is not a member of syndicate {s!r}")
            if not 0 <= float(f) <= 1:
                raise ContagionError(f"shares: the share of {m!r} in {s!r} must lie in [0, 1], got {f!r}")
            fixed[members.index(m)] = float(f)
            known[members.index(m)] = True
        if fixed.sum() > 1 + 1e-9:
            raise ContagionError(f"the known shares of syndicate {s!r} add up to {fixed.sum():.6g} > 1")
        unknown = ~known
        if isinstance(weights, Mapping):
            w = np.array([float(weights.get(m, 1.0)) for m in members])
        elif wcol is not None:
            w = np.array([wcol[pos[m]] for m in members])
        else:
            w = np.asarray(weights, dtype=float)[[pos[m] for m in members]]
        w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
        if unknown.any() and w[unknown].sum() <= 0:
            w = np.ones(len(members))
        rest = max(0.0, 1.0 - fixed.sum())
        if not unknown.any() and rest > 1e-9:
            raise ContagionError(f"every member share of syndicate {s!r} is known but they add up to "
                                 f"{fixed.sum():.6g}, not 1")
        wu = np.where(unknown, w, 0.0)
        c = float(concentration) if concentration is not None else float(unknown.sum())
        alpha = np.where(unknown, c * wu / max(wu.sum(), 1e-300), 0.0)
        point = fixed + (rest * wu / wu.sum() if wu.sum() > 0 else 0.0)
        keep[claims.index] = False
        keep[mem.index] = False
        mem0 = mem.copy()
        mem0["amount"] = 0.0
        new_rows.append(mem0)
        idx = []
        for _, row in claims.iterrows():
            rep = pd.DataFrame([row] * len(members)).reset_index(drop=True)
            rep["creditor"] = members
            rep["amount"] = float(row["amount"]) * point
            if "edge_id" in rep.columns:
                rep["edge_id"] = [f"{row['edge_id']}~{m}" for m in members]
            rep["reconstructed"] = True
            rep["reconstructed_from"] = (f"claim on syndicate {s} spread over its members: known shares fixed, "
                                         f"the rest by weight ({weights if isinstance(weights, str) else 'given'})")
            new_rows.append(rep)
            idx.append(float(row["amount"]))
        plans.append((s, np.asarray(idx), len(members), alpha, fixed, rest))
    body = pd.concat([e[keep].assign(reconstructed=False, reconstructed_from="")] + new_rows, ignore_index=True)
    body["reconstructed"] = body["reconstructed"].fillna(False).astype(bool)
    body["reconstructed_from"] = body["reconstructed_from"].fillna("").astype(str)
    template = FinancialNetwork.from_edges(body, nodes, metadata={**net.metadata, "spread_syndicates": list(synd)})
    # where each syndicate's new rows sit in the template's edge table (they follow the kept rows in order)
    start = int(keep.sum())
    rows, alphas, fixeds = [], [], []
    for s, claim_amounts, k, alpha, fixed, rest in plans:
        start += k                                              # the zeroed member rows
        at = start + np.arange(claim_amounts.size * k).reshape(claim_amounts.size, k)
        start += claim_amounts.size * k
        rows.append((at, claim_amounts, rest))
        alphas.append(alpha)
        fixeds.append(fixed)
    return _Spread(network=template, rows=tuple(rows), alpha=tuple(alphas), fixed=tuple(fixeds),
                   base_amounts=template.edges["amount"].to_numpy(dtype=float).copy())


def _spread_amounts(plan: _Spread, rng: np.random.Generator | None) -> np.ndarray:
    amounts = plan.base_amounts.copy()
    for (at, claim, rest), alpha, fixed in zip(plan.rows, plan.alpha, plan.fixed):
        if rng is None:
            share = fixed + (rest * alpha / alpha.sum() if alpha.sum() > 0 else 0.0)
        else:
            share = fixed.copy()
            u = alpha > 0
            if u.any():
                share[u] += rest * rng.dirichlet(alpha[u])
        amounts[at] = claim[:, None] * share[None, :]
    return amounts


def spread_syndicates(net: Any, syndicates: Iterable[str] | None = None, *, weights: Any = None,
                      shares: Mapping[str, Mapping[str, float]] | None = None, seed: int | None = None,
                      concentration: float | None = None) -> Any:
    """Spread what each syndicate is owed over its member institutions.

    A syndicate node is owed the claims of a loan whose allocation is not
    disclosed; its member rows (edges ``syndicate -> member`` of kind
    ``syndicate_share``, amount 0) say who the lenders are. Every claim
    ``debtor -> syndicate`` becomes one row ``debtor -> member`` per member
    (attributes copied, ``edge_id`` suffixed ``~member``, columns
    ``reconstructed`` / ``reconstructed_from`` set), so a member's loss is its
    share of what the debtor fails to pay.

    Parameters
    ----------
    net : FinancialNetwork
    syndicates : iterable of ids, optional
        Default: every syndicate (:func:`syndicates_of`).
    weights : str, mapping or array, optional
        Size weights of the members for the part of a syndicate not known: a
        node column (default ``"external_assets"``, a proxy for size), a
        mapping ``id -> weight`` (missing: 1) or an array aligned with the
        nodes. Members with no positive weight count as 1 when all do.
    shares : mapping ``syndicate -> {member: fraction}``, optional
        Known shares (fractions of the syndicate's claims), kept fixed; a
        share of 0 is known too (that member gets nothing, the rest goes to the
        others). A member row with a positive amount is a known share too
        (that amount out of the syndicate's total claims); a member row of
        amount 0 is a share not known.
    seed : int, optional
        ``None``: the maximum-entropy spread (the unknown part in proportion
        to the weights). An integer: one draw of the ensemble -- the unknown
        part split by a Dirichlet law with mean proportional to the weights
        and total ``concentration`` (default: the number of unknown members,
        so equal weights give the uniform law on the simplex: independent
        exponential amounts conditioned on their total, the Gandy--Veraart
        model with every link present).

    Returns
    -------
    FinancialNetwork
        The same institutions; the syndicate nodes are owed nothing.

    >>> import contagion
    >>> net = contagion.load_dataset("ai-infrastructure")
    >>> spread = spread_syndicates(net, ["synd_cw_revolver"])
    >>> e = spread.edges[spread.edges["reconstructed"]]
    >>> sorted(e["creditor"]), round(float(e["amount"].sum()), 6) == round(float(
    ...     net.edges.loc[net.edges["creditor"] == "synd_cw_revolver", "amount"].sum()), 6)
    (['goldman', 'jpmorgan', 'morgan_stanley'], True)
    """
    plan = _spread_plan(net, syndicates, weights, shares, concentration)
    rng = None if seed is None else np.random.Generator(np.random.PCG64(_check_seed(seed)))
    return plan.network.replace(edge_amounts=_spread_amounts(plan, rng))
