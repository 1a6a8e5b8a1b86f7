"""Clearing with priority and contingent obligations (DESIGN.md §8): seniority, secured claims, guarantees.

Columns of the edge table (all optional):

- ``seniority`` (whole number >= 1, blank = 1): a debtor pays its claims level
  by level, level 1 first, pro rata within a level. Outside creditors rank at
  the node table's ``external_seniority`` (blank = 1).
- ``collateral_value``: the creditor of this obligation is paid from that value
  first (a claim of ``min(amount, collateral_value)`` ahead of every level);
  the deficiency ranks at the obligation's seniority with the other claims.
- ``kind = guarantee`` with ``covers = <edge_id>``: the guarantor (debtor)
  owes its creditor ``min(amount, unpaid part of the covered obligation)``,
  found jointly with the clearing; several guarantees of one obligation share
  its unpaid part in proportion to their caps (:func:`_calls`).
- ``kind = residual_value_guarantee`` with ``residual_value`` K and
  ``asset_value`` V: the guarantor owes ``min(amount, max(0, K - V))``.

Algorithm (greatest clearing state). Given the outside assets each debtor has
(``alpha e + beta * received`` once in default, Rogers--Veraart), its payments
follow a waterfall that is piecewise linear in those assets: every level below
the one being paid in full, the current level pro rata, nothing above. The
solver starts from full payment and, like the fictitious-default algorithm of
Eisenberg & Noe (2001, section 3), fixes each debtor's *regime* (in default or
not, the level it reaches, capped by a forced default) from the current
payments, solves the linear system those regimes give exactly (sparse LU),
and repeats until the regimes no longer change; the map is monotone (Elsinger
2009, seniority; the payment of every claim grows with its debtor's assets), so
the regimes only move down and the result is the greatest clearing vector.

Guarantees make what is owed depend on what is paid, and can break
monotonicity (Schuldenzucker, Seuken & Battiston 2020). Their amounts are found
by a fixed-point iteration around the exact inner clearing (Banerjee &
Feinstein 2019), started once from every guarantee called in full and once
from none called: when both end in the same state it is returned; when they
end in two different clearing states, the first is returned with ``unique =
False`` and a :class:`ContingentWarning` naming the institutions whose
payments differ; when the iteration finds no state, :class:`ConvergenceError`
names the guarantors involved. Every returned state is checked to be a
clearing state (residual at most ``1e-12 x max obligation``). The default waves
of a network with guarantees count no call in wave 0 (everyone paying in full
calls nothing): :func:`guarantee_waves`, computed on first use.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._columns import is_blank, located_numbers
from ..io.rows import TableRows, located_problems, table_rows
from ..errors import ConvergenceError, InvalidNetworkError, Problem, did_you_mean, shown

__all__ = ["PRIORITY_COLUMNS", "uses_priority", "refuse_priority", "owed_network", "ContingentSpec", "contingent_spec",
           "clear_priority", "priority_result", "priority_batch", "priority_columns", "call_rows",
           "ContingentWarning", "SOLVER_NAME", "guarantee_waves"]

#: ``res.solver`` of results cleared here (the compiled and reference EN paths hand such networks over)
SOLVER_NAME = "priority-regimes"

#: edge-table columns that make a network need this solver (with the two guarantee kinds)
PRIORITY_COLUMNS = ("seniority", "collateral_value", "covers", "residual_value", "asset_value")
GUARANTEE_KINDS = ("guarantee", "residual_value_guarantee")
#: outer iterations of the guarantee fixed point before giving up, and after how many it takes half steps
MAX_OUTER = 500
DAMP_AFTER = 50
#: assets this close to the end of a group (relative to that end) have paid it: the rounding of a regime's
#: solve (a few ulps) does not put a debtor back in the group before (:func:`_regimes`)
BOUNDARY_RTOL = 1e-13
#: periods (steps of the clearing map) looked for in a singular regime's iterates (:func:`_along_the_loop`)
LOOP_PERIODS = 4


class ContingentWarning(UserWarning):
    """Guarantees admit several clearing states; the result names the institutions concerned."""


_blank = is_blank


def _any_set(column: Any) -> bool:
    """Whether a table column holds any non-blank value (looked at once per distinct value)."""
    import pandas as pd

    return any(not _blank(v) for v in pd.unique(column))


def refuse_priority(net: Any, method: str) -> None:
    """Raise :class:`~contagion.ContagionError` when ``net`` uses the DESIGN §8 columns (seniority, collateral,
    guarantees, residual value guarantees) and ``method`` does not model them: read as plain obligations, a
    guarantee's or a residual value guarantee's cap would count as owed (a solvent sponsor shown in default)."""
    if uses_priority(net):
        from ..errors import ContagionError

        raise ContagionError(f"{method} does not combine with seniority, collateral_value or guarantees yet "
                             f"(it would share every payment pro rata and count a guarantee's cap as owed); clear "
                             f"with eisenberg-noe, rogers-veraart or fire-sale, or drop those columns")


def uses_priority(net: Any) -> bool:
    """Whether ``net`` has seniority, collateral, guarantees or residual value guarantees to honour.

    Decided once per network (cached on it): a distinct-value scan of the columns concerned.
    """
    cached = net.__dict__.get("_uses_priority")
    if cached is not None:
        return cached
    edges, nodes = net._edge_table, net._node_table
    found = False
    if edges is not None:
        if "kind" in edges.columns:     # a network's kinds are stripped (FinancialNetwork.from_edges)
            found = _has_kind(edges["kind"], GUARANTEE_KINDS, stripped=True)
        # (a covers / residual_value / asset_value given on any row: checked, even where the kind is misspelt)
        found = found or any(c in edges.columns and _any_set(edges[c]) for c in ("seniority", "collateral_value",
                                                                                 "covers", "residual_value",
                                                                                 "asset_value"))
    if not found and nodes is not None and "external_seniority" in nodes.columns:
        found = _any_set(nodes["external_seniority"])
    net.__dict__["_uses_priority"] = found     # the network is an immutable value: safe to remember
    return found


def _has_kind(kinds: Any, wanted: tuple[str, ...], stripped: bool = False) -> bool:
    """Whether some kind, stripped, is one of ``wanted``: Arrow's equality test when no value needs stripping
    (a byte comparison, ~5x faster at 10^7 rows than the distinct values), else over the distinct values.
    ``stripped``: the caller knows no value needs stripping (a network's edge table), so the scan that would
    find out (~0.1 s at 10^7 rows) is skipped."""
    import pandas as pd

    from .._columns import _arrow_backed, _may_need_strip

    if _arrow_backed(kinds):
        arrow = kinds.array.__arrow_array__()
        if stripped or not _may_need_strip(arrow):
            import pyarrow.compute as pc

            return any(bool(pc.any(pc.equal(arrow, w)).as_py()) for w in wanted)
    return any(isinstance(k, str) and k.strip() in wanted for k in pd.unique(kinds))


def owed_network(net: Any, spec: "ContingentSpec | None" = None) -> Any:
    """``net`` with what each row owes when everyone pays: guarantees uncalled (0), residual value guarantees at
    ``min(cap, max(0, K - V))`` instead of their caps (:attr:`ContingentSpec.fixed_amount`); ``net`` itself when
    nothing differs. What clearing starts from and what every view measures obligations and pre-shock equity by.
    Remembered on the network (an immutable value), like :func:`uses_priority`. ``spec``: the network's
    :func:`contingent_spec` when the caller has it."""
    if not uses_priority(net):
        return net
    cached = net.__dict__.get("_owed_network")
    if cached is not None:
        return cached
    owed = _with_amounts(net, (contingent_spec(net) if spec is None else spec).fixed_amount)
    net.__dict__["_owed_network"] = owed
    return owed


def _with_amounts(net: Any, amounts: np.ndarray) -> Any:
    """``net`` with these edge amounts (``net`` itself when they are its own)."""
    same = np.array_equal(amounts, net.edges["amount"].to_numpy(dtype=np.float64))
    return net if same else net.replace(edge_amounts=amounts)


@dataclass(frozen=True, eq=False)
class ContingentSpec:
    """The priority structure of a network, validated (arrays aligned with the edge-table rows)."""

    seniority: np.ndarray           # int >= 1 per row
    collateral: np.ndarray          # collateral value per row (0: unsecured)
    external_seniority: np.ndarray  # int >= 1 per institution
    guarantee: np.ndarray           # rows that are guarantees (kind = guarantee)
    covers: np.ndarray              # covered row of each guarantee row (-1 otherwise)
    fixed_amount: np.ndarray        # what each non-guarantee row owes (RVG: min(cap, max(0, K - V)))
    cap: np.ndarray                 # the amount column (the cap of guarantees)
    residual: np.ndarray            # rows that are residual value guarantees
    shortfall_value: np.ndarray     # max(0, K - V) of each residual value guarantee (0 on other rows)


def _where(net: Any) -> tuple[TableRows, TableRows]:
    """Where the rows of the edge and node tables are (:func:`contagion.io.rows.table_rows`)."""
    return table_rows(net, "edges"), table_rows(net, "nodes")


def _ints(values: list, name: str, file: str, offset: int, problems: list[Problem]) -> np.ndarray:
    """A seniority column: whole numbers >= 1, blank = 1."""
    x = located_numbers(values, name, file, offset, problems, integer=True, low=1, high=2.0**62,
                        want="a whole number >= 1 (1 = paid first)")
    return np.where(np.isnan(x), 1, x).astype(np.int64)


def contingent_spec(net: Any, collateral_within_amount: bool = True) -> ContingentSpec:
    """Read and check the DESIGN §8 columns of ``net``. ``collateral_within_amount=False`` does not hold a
    ``collateral_value`` to the row's ``amount`` (a multi-year path caps it at each year's amount instead).

    Raises
    ------
    InvalidNetworkError
        Every problem with its file, row, column and value: ``covers`` naming
        an unknown ``edge_id`` or the guarantee itself, a guarantee cycle
        without outside money, a ``seniority`` that is not a whole number >= 1,
        a ``collateral_value`` above the obligation, a residual value
        guarantee without ``residual_value`` / ``asset_value``.
    """
    edges, nodes = net.edges, net.nodes
    m = len(edges)
    di = net.edge_index[0]
    erows, nrows = _where(net)
    efile, nfile, offset = erows.file, nrows.file, erows.offset
    problems: list[Problem] = []
    col = lambda name: edges[name].tolist() if name in edges.columns else [None] * m  # noqa: E731
    seniority = _ints(col("seniority"), "seniority", efile, offset, problems)
    collateral = located_numbers(col("collateral_value"), "collateral_value", efile, offset, problems, low=0)
    ext_sen = _ints(nodes["external_seniority"].tolist() if "external_seniority" in nodes.columns else [None] * net.n,
                    "external_seniority", nfile, nrows.offset, problems)
    cap = edges["amount"].to_numpy(dtype=np.float64)
    kinds = [str(k).strip() if not _blank(k) else "" for k in col("kind")]
    ids = [None if _blank(v) else str(v).strip() for v in col("edge_id")]
    row_of: dict[str, int] = {}
    for k, i in enumerate(ids):
        if i is not None and i in row_of:
            problems.append(Problem(f"edge_id {shown(i)} is used twice (first on {erows.row(row_of[i])})", efile,
                                    k + offset, "edge_id"))
        elif i is not None:
            row_of[i] = k
    guarantee = np.array([k == "guarantee" for k in kinds], dtype=bool)
    rvg = np.array([k == "residual_value_guarantee" for k in kinds], dtype=bool)
    covers = np.full(m, -1, dtype=np.int64)
    for k, target in enumerate(col("covers")):
        if not guarantee[k]:
            if not _blank(target):
                problems.append(Problem(f"covers {shown(target)} on a row whose kind is not 'guarantee'"
                                        f"{_kind_hint(kinds[k])}", efile, k + offset, "covers"))
            continue
        if _blank(target):
            problems.append(Problem("a guarantee needs covers = the edge_id of the obligation it guarantees", efile,
                                    k + offset, "covers"))
            continue
        key = str(target).strip()
        if key not in row_of:
            problems.append(Problem(f"covers {shown(key)}: no obligation has this edge_id", efile, k + offset,
                                    "covers"))
        elif row_of[key] == k:
            problems.append(Problem(f"covers {shown(key)}: a guarantee cannot cover itself", efile, k + offset,
                                    "covers"))
        elif di[row_of[key]] == di[k]:
            problems.append(Problem(f"covers {shown(key)}: {shown(net.names[di[k]])} would guarantee its own "
                                    f"obligation (a guarantee is given by another institution)", efile, k + offset,
                                    "covers"))
        else:
            covers[k] = row_of[key]
    fixed = cap.copy()
    K = located_numbers(col("residual_value"), "residual_value", efile, offset, problems, low=0)
    V = located_numbers(col("asset_value"), "asset_value", efile, offset, problems, low=0)
    for name, arr in (("residual_value", K), ("asset_value", V)):   # only a residual value guarantee has them
        for k in np.flatnonzero(~np.isnan(arr) & ~rvg):
            problems.append(Problem(f"{name} on a row whose kind is not 'residual_value_guarantee'"
                                    f"{_kind_hint(kinds[k])}", efile, k + offset, name))
    reported = {(p.row, p.column) for p in problems}      # a bad value is said once, not also as missing
    for k in np.flatnonzero(rvg):
        for name, arr in (("residual_value", K), ("asset_value", V)):
            if np.isnan(arr[k]) and (k + offset, name) not in reported:
                problems.append(Problem(f"a residual value guarantee needs {name}", efile, k + offset, name))
        if not (np.isnan(K[k]) or np.isnan(V[k])):
            fixed[k] = min(cap[k], max(0.0, K[k] - V[k]))
    fixed[guarantee] = 0.0
    for k in np.flatnonzero(~np.isnan(collateral)) if collateral_within_amount else ():
        if collateral[k] > cap[k]:
            problems.append(Problem(f"collateral_value {collateral[k]:g} is above the obligation ({cap[k]:g})",
                                    efile, k + offset, "collateral_value"))
    _check_guarantee_cycles(net, guarantee, covers, erows, problems)
    if problems:
        raise InvalidNetworkError(located_problems(net, problems))
    gap = np.where(rvg, np.maximum(0.0, np.nan_to_num(K - V, nan=0.0)), 0.0)
    return ContingentSpec(seniority=seniority, collateral=np.nan_to_num(collateral, nan=0.0),
                          external_seniority=ext_sen, guarantee=guarantee, covers=covers, fixed_amount=fixed, cap=cap,
                          residual=rvg, shortfall_value=gap)


def _kind_hint(kind: str) -> str:
    """`` (its kind is 'Guarantee'; did you mean 'guarantee'?)``: a row's kind, and the guarantee kind it may
    have meant."""
    hint = did_you_mean(kind, GUARANTEE_KINDS).strip()
    return f" (its kind is {shown(kind)}" + (f"; {hint[1:-1]})" if hint else ")")


def _check_guarantee_cycles(net: Any, guarantee: np.ndarray, covers: np.ndarray, rows: TableRows,
                            problems: list[Problem]) -> None:
    """A chain of guarantees that comes back to itself (g1 covers g2 covers ... covers g1) with no outside
    money among its guarantors has no meaningful amount: a located error."""
    di, _ = net.edge_index
    for k in np.flatnonzero(guarantee):
        seen = [k]
        j = covers[k]
        while j >= 0 and guarantee[j] and j not in seen:
            seen.append(j)
            j = covers[j]
        if j in seen and j == k:
            outside = net.external_assets[di[seen]].sum()
            if outside <= 0:
                problems.append(Problem(f"guarantees ({', '.join(rows.row(r) for r in seen)}) cover each other "
                                        "in a cycle and their guarantors hold no outside money", rows.file,
                                        k + rows.offset,
                                        "covers"))


# ----------------------------------------------------------------------------- the waterfall
@dataclass(frozen=True, eq=False)
class _Waterfall:
    """Claims grouped by (debtor, level), in payment order."""

    claim_debtor: np.ndarray
    claim_creditor: np.ndarray     # -1: outside creditors
    claim_row: np.ndarray          # edge row, -1: outside
    claim_group: np.ndarray
    claim_amount: np.ndarray
    group_debtor: np.ndarray
    group_total: np.ndarray
    group_before: np.ndarray       # owed by the debtor at earlier levels
    first_group: np.ndarray        # per debtor: first group index (groups of a debtor are contiguous)
    n_groups: np.ndarray           # per debtor
    pbar: np.ndarray
    row_amount: np.ndarray = None         # type: ignore[assignment]  per edge row, its amount (before the split)
    # derived once, read on every round of every scenario (a sweep clears thousands with one waterfall)
    edge_claim: np.ndarray = None         # type: ignore[assignment]  claims of a creditor in the network
    edge_creditor: np.ndarray = None      # type: ignore[assignment]  claim_creditor[edge_claim]
    claim_before: np.ndarray = None       # type: ignore[assignment]  group_before[claim_group]
    claim_total: np.ndarray = None        # type: ignore[assignment]  group_total[claim_group]
    claim_share: np.ndarray = None        # type: ignore[assignment]  amount / its group's total (0 if empty)
    group_end: np.ndarray = None          # type: ignore[assignment]  group_before + group_total
    last_group: np.ndarray = None         # type: ignore[assignment]  per debtor: its last group

    def __post_init__(self) -> None:
        derived = {"edge_claim": self.claim_creditor >= 0,
                   "claim_before": self.group_before[self.claim_group],
                   "claim_total": self.group_total[self.claim_group],
                   "group_end": self.group_before + self.group_total,
                   "last_group": self.first_group + self.n_groups - 1}
        derived["edge_creditor"] = self.claim_creditor[derived["edge_claim"]]
        tot = derived["claim_total"]
        derived["claim_share"] = np.divide(self.claim_amount, tot, out=np.zeros_like(self.claim_amount),
                                           where=tot > 0)
        for k, v in derived.items():
            object.__setattr__(self, k, v)


def _waterfall(n: int, di: np.ndarray, ci: np.ndarray, amounts: np.ndarray, spec: ContingentSpec,
               ext: np.ndarray) -> _Waterfall:
    rows = np.arange(di.size)
    secured = np.minimum(amounts, spec.collateral)
    parts = [
        (di, ci, rows, spec.seniority, amounts - secured),
        (di, ci, rows, np.zeros(di.size, dtype=np.int64), secured),
        (np.arange(n), np.full(n, -1), np.full(n, -1), spec.external_seniority, ext),
    ]
    d = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    r = np.concatenate([p[2] for p in parts])
    lev = np.concatenate([p[3] for p in parts])
    amt = np.concatenate([p[4] for p in parts]).astype(np.float64)
    keep = amt > 0
    d, c, r, lev, amt = d[keep], c[keep], r[keep], lev[keep], amt[keep]
    order = np.lexsort((lev, d))
    d, c, r, lev, amt = d[order], c[order], r[order], lev[order], amt[order]
    new = np.ones(d.size, dtype=bool)
    new[1:] = (d[1:] != d[:-1]) | (lev[1:] != lev[:-1])
    group = np.cumsum(new) - 1
    G = int(group[-1]) + 1 if group.size else 0
    gtot = np.bincount(group, weights=amt, minlength=G)
    gdeb = d[new]
    pbar = np.bincount(gdeb, weights=gtot, minlength=n)
    before = np.zeros(G)
    first = np.full(n, -1, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    for g in range(G):   # groups of a debtor are contiguous and in level order
        i = gdeb[g]
        if first[i] < 0:
            first[i] = g
            before[g] = 0.0
        else:
            before[g] = before[g - 1] + gtot[g - 1]
        count[i] += 1
    return _Waterfall(d, c, r, group, amt, gdeb, gtot, before, first, count, pbar,
                      row_amount=np.asarray(amounts, dtype=np.float64).copy())


def _pay(w: _Waterfall, assets: np.ndarray) -> np.ndarray:
    """What each claim receives when each debtor has ``assets`` to share out."""
    total = w.claim_total
    paid = np.subtract(assets[w.claim_debtor], w.claim_before)
    np.clip(paid, 0.0, total, out=paid)
    # the fraction first (in [0, 1]): amount * paid would underflow for amounts near 1e-300
    return w.claim_amount * np.divide(paid, total, out=np.zeros_like(paid), where=total > 0)


def _regimes(w: _Waterfall, assets: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Per debtor: the group it pays partially (-1: pays everything): for a debtor short of what it owes, its
    first group plus the number of its groups whose end (what it owes up to and including that group) its
    assets reach, at most its last group; within :data:`BOUNDARY_RTOL` of an end counts as reaching it (a loop
    without outside money whose greatest state pays exactly its secured claims is solved an ulp below that
    end, and read in the group before it its regimes never settled). (A debtor's ends never decrease: each
    group's end is the next one's start, computed by the same sum; so this is ``searchsorted(ends, assets,
    side="right")``, for all debtors at once.)"""
    reg = np.full(assets.size, -1, dtype=np.int64)
    short = assets < w.pbar - tie
    if short.any():
        end = w.group_end
        reached = np.bincount(w.group_debtor, weights=end - BOUNDARY_RTOL * end <= assets[w.group_debtor],
                              minlength=assets.size).astype(np.int64)
        reg[short] = np.minimum(w.first_group[short] + reached[short], w.last_group[short])
    return reg


def _short_in_full(w: _Waterfall, e: np.ndarray, received: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Round 0 (every claim paid in full) decided exactly, as :func:`.core.short_in_full` does: the float gap
    decides outside its rounding band, :func:`math.fsum` of the obligations inside it (ties solvent). The sum is
    over the rows' own amounts: a row split into its secured part and the rest (3.0 secured by 2.3: 2.3 and
    0.7000000000000002) no longer adds up to its amount exactly."""
    from .core import ROUND0_BAND

    gap = e + received - w.pbar
    band = ROUND0_BAND * (e + received + w.pbar)
    has = w.pbar > 0
    short = has & (gap < -band)
    edge, rows = w.edge_claim, w.claim_row
    for i in np.flatnonzero(has & (np.abs(gap) <= band)):
        into = w.row_amount[np.unique(rows[edge & (w.claim_creditor == i)])]
        out = w.row_amount[np.unique(rows[edge & (w.claim_debtor == i)])]
        outside = w.claim_amount[~edge & (w.claim_debtor == i)]
        short[i] = math.fsum([float(e[i]), *into.tolist(), *(-out).tolist(), *(-outside).tolist()]) < 0.0
    return short


def _solve_regimes(w: _Waterfall, reg: np.ndarray, default: np.ndarray, e: np.ndarray, pbar: np.ndarray,
                   cap: np.ndarray, alpha: float, beta: float, edge_claim: np.ndarray) -> np.ndarray:
    """Assets of every debtor when each pays as its regime says (-1: in full, -2: its cap, g: group g partially):
    one sparse linear solve for the debtors paying a group partially."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    n = e.size
    part = np.flatnonzero(reg >= 0)
    a_fixed = np.where(reg == -2, cap, pbar)
    if not part.size:
        return a_fixed
    pos = np.full(n, -1, dtype=np.int64)
    pos[part] = np.arange(part.size)
    cg = w.claim_group
    creg = reg[w.claim_debtor]
    in_part = creg >= 0
    at = in_part & (cg == creg)
    const = np.where(in_part & (cg < creg), w.claim_amount, 0.0)
    fixed_debtor = ~in_part
    const[fixed_debtor] = _pay(w, a_fixed)[fixed_debtor]
    share = w.claim_share
    rec_const = np.bincount(w.claim_creditor[edge_claim], weights=const[edge_claim], minlength=n)
    aa = np.where(default, alpha, 1.0)
    bb = np.where(default, beta, 1.0)
    sel = at & edge_claim & (pos[np.maximum(w.claim_creditor, 0)] >= 0)
    rows_, cols_, vals = pos[w.claim_creditor[sel]], pos[w.claim_debtor[sel]], bb[w.claim_creditor[sel]] * share[sel]
    ate = at & edge_claim
    offset_in = np.bincount(w.claim_creditor[ate], weights=share[ate] * w.claim_before[ate], minlength=n)
    rhs = aa[part] * e[part] + bb[part] * (rec_const[part] - offset_in[part])
    try:
        if part.size <= 400:   # small systems: a dense solve costs less than building a sparse one
            A = np.eye(part.size)
            np.add.at(A, (rows_, cols_), -vals)
            sol = np.linalg.solve(A, rhs)
        else:
            A = sp.identity(part.size, format="csc") - sp.csc_array((vals, (rows_, cols_)),
                                                                    shape=(part.size, part.size))
            sol = spla.spsolve(A, rhs)
    except (np.linalg.LinAlgError, RuntimeError):  # a singular regime (a closed group): step the map instead
        return np.where(reg >= 0, -1.0, a_fixed)
    a_all = a_fixed.copy()
    a_all[part] = np.maximum(np.atleast_1d(np.asarray(sol, dtype=np.float64)), 0.0)
    return a_all


def _inner(n: int, di: np.ndarray, ci: np.ndarray, amounts: np.ndarray, spec: ContingentSpec, net: Any,
           alpha: float, beta: float, e: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Greatest clearing state for fixed amounts: ``(row payments, outside payments, defaulted, waves, iterations)``
    (``e``: outside assets other than the network's)."""
    w = _waterfall(n, di, ci, amounts, spec, net.external_liabilities)
    return _inner_waterfall(w, di, net.external_assets if e is None else e, net.forced_default, net.forced_recovery,
                            alpha, beta)


def _inner_waterfall(w: _Waterfall, di: np.ndarray, e: np.ndarray, forced: np.ndarray, recovery: np.ndarray,
                     alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`_inner` on a waterfall built once (many scenarios of outside assets share it)."""
    from .core import tie_tolerance

    n = e.size
    pbar = w.pbar
    tie = tie_tolerance(pbar)
    forced = forced & (pbar > 0)      # one that owes nothing cannot default, forced or not (as on the plain path)
    cap = np.where(forced, recovery * pbar, pbar)
    x = w.claim_amount.copy()                       # everyone pays in full
    waves = np.full(n, -1, dtype=np.int64)
    wave = 0
    done = None
    edge_claim = w.edge_claim
    # everyone paying in full: round 0 decided exactly; these stay in default
    fundamental = _short_in_full(w, e, np.bincount(w.edge_creditor, weights=x[edge_claim], minlength=n), tie)
    state = functools.partial(_state, w, e=e, forced=forced, fundamental=fundamental, short_below=pbar - tie,
                              alpha=alpha, beta=beta, cap=cap, tie=tie)
    for it in range(1, 100 * (w.group_total.size + n) + 1000):
        default, reg, a_eff = state(x)
        new = default & (waves < 0)
        if new.any():
            waves[new] = wave
            wave += 1
        if done is not None and (done[0] == default).all() and (done[1] == reg).all():
            ext_paid = np.bincount(w.claim_debtor[~edge_claim], weights=x[~edge_claim], minlength=n)
            rows = np.bincount(w.claim_row[edge_claim], weights=x[edge_claim], minlength=di.size)
            return rows, ext_paid, default, waves, it
        # ---- the candidate: solve the regimes exactly (unknown: assets of the debtors paying a group partially)
        a_all = _solve_regimes(w, reg, default, e, pbar, cap, alpha, beta, edge_claim)
        candidate = _pay(w, np.where(reg == -1, pbar, a_all))
        # accepted when it is consistent (its own regimes are those solved) and not above the iterate; otherwise
        # one step of the clearing map itself (monotone: the sequence falls towards the greatest fixed point)
        if (candidate <= x + 1e-12 * np.maximum(x, 1.0)).all():
            default_c, reg_c, _ = state(candidate)
            if (default_c == default).all() and (reg_c == reg).all():
                x = np.minimum(candidate, x)
                done = (default, reg)
                continue
        step = np.minimum(_pay(w, np.where(reg == -1, pbar, a_eff)), x)
        if (a_all < 0).any():   # a singular regime (a loop that loses a fixed amount a round): to its next change
            step = _along_the_loop(w, x, step, default, reg, state)
        x = step
    raise ConvergenceError("priority clearing: the regimes did not settle", it, math.inf)


def _state(w: _Waterfall, x: np.ndarray, *, e: np.ndarray, forced: np.ndarray, fundamental: np.ndarray,
           short_below: np.ndarray, alpha: float, beta: float, cap: np.ndarray, tie: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(default, regimes, assets)`` of the claims paid ``x``: who is short (round 0's ``fundamental`` stay in
    default), what each debtor has to pay with (a defaulter ``alpha e + beta received``, at most its cap), and
    the group it pays partially (-1: all, -2: its cap)."""
    received = np.bincount(w.edge_creditor, weights=x[w.edge_claim], minlength=e.size)
    full_value = e + received
    default = forced | fundamental | (full_value < short_below)
    a_eff = np.where(default, alpha * e + beta * received, full_value)
    capped = forced & (a_eff >= cap)
    a_eff = np.minimum(a_eff, cap)
    reg = _regimes(w, a_eff, tie)
    reg[capped] = -2
    return default, reg, a_eff


def _along_the_loop(w: _Waterfall, x: np.ndarray, step: np.ndarray, default: np.ndarray, reg: np.ndarray,
                    state: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Where the steps of the clearing map from ``x`` lead while the regimes stay those of ``x``, when every
    ``k`` steps (``k`` at most :data:`LOOP_PERIODS`) take the same amount ``D`` (a singular regime: a loop of
    debtors paying each other partially loses what leaves it a round at a time -- A owing C 3 before B, B
    owing A what A pays it: 3 of 10000 every two steps). There ``k`` steps of the map are affine with
    ``M D = D``, so ``x + t D`` for a real ``t`` lies between two iterates, above the greatest clearing state:
    the iterate jumps to the largest ``t`` at which the regimes still hold (doubling, then bisection); the
    next steps cross into the next regime. Returns ``step`` when no period repeats. ``state``: :func:`_state`
    with the clearing's parameters."""

    def same(y: np.ndarray) -> bool:
        if (y < 0).any():
            return False
        dd, rr, _ = state(y)
        return bool((dd == default).all() and (rr == reg).all())

    def mapped(y: np.ndarray) -> np.ndarray:
        _, rr, aa = state(y)
        return np.minimum(_pay(w, np.where(rr == -1, w.pbar, aa)), y)

    scale = max(float(np.max(x, initial=0.0)), 1e-300)

    def held(y: np.ndarray) -> bool:
        """``y`` in the regimes of ``x``, and its next ``k`` steps those of ``x`` shifted by ``y - x``."""
        if not same(y):
            return False
        z = y
        for j in range(1, k + 1):
            z = mapped(z)
            if not np.allclose(z - y, ys[j] - x, rtol=1e-9, atol=1e-12 * scale):
                return False
        return True

    ys = [x, step]
    for k in range(1, LOOP_PERIODS + 1):
        while len(ys) < 2 * k + 1:
            if not same(ys[-1]):
                return step
            ys.append(mapped(ys[-1]))
        D = ys[k] - ys[0]
        if (D < 0).any() and all(np.allclose(ys[k + j] - ys[j], D, rtol=1e-9, atol=1e-12 * scale)
                                 for j in range(1, k + 1)):
            break
    else:
        return step
    lo, hi = 1.0, 2.0
    while held(x + hi * D):
        lo, hi = hi, 2.0 * hi
        if hi > 2.0 ** 62:
            return step
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        lo, hi = (mid, hi) if held(x + mid * D) else (lo, mid)
    return np.minimum(x + lo * D, step)


def _settle_in_full(net: Any, default: np.ndarray, rows: np.ndarray, ext_paid: np.ndarray, amounts: np.ndarray,
                    pbar: np.ndarray | None = None) -> np.ndarray:
    """Payments per institution; a debtor not in default pays what it owes exactly. The waterfall splits a row
    into its secured and unsecured parts and sums claims in another order than ``total_obligations``, so a
    debtor paying in full could otherwise show a payment a few ulps above or below what it owes (a shortfall of
    -3.6e-15). ``rows`` and ``ext_paid`` are set in place for those debtors."""
    di = net.edge_index[0]
    full = ~default
    on_full = full[di]
    rows[on_full] = amounts[on_full]
    ext_paid[full] = net.external_liabilities[full]
    payments = np.bincount(di, weights=rows, minlength=net.n) + ext_paid
    if pbar is not None:
        payments[full] = pbar[full]
    return payments


def _calls(covers: np.ndarray, cap: np.ndarray, unpaid: np.ndarray, owed_to: np.ndarray | None = None) -> np.ndarray:
    """What each guarantee (covering row ``covers``, capped at ``cap``) is called for, given the ``unpaid`` part
    of every row: ``min(cap, unpaid part of the covered obligation)``; several guarantees of one obligation
    owed to one creditor (``owed_to``, default all alike) share its unpaid part in proportion to their caps, so
    that together they are never called for more than is unpaid. Protection bought by another party is a
    claim of its own: it does not dilute the covered creditor's guarantees.

    >>> _calls(np.array([0, 0]), np.array([10.0, 5.0]), np.array([6.0, 0.0, 0.0])).tolist()    # 6 unpaid
    [4.0, 2.0]
    >>> _calls(np.array([0, 0]), np.array([10.0, 5.0]), np.array([30.0, 0.0, 0.0])).tolist()   # both caps
    [10.0, 5.0]
    >>> _calls(np.array([0]), np.array([10.0]), np.array([6.0, 0.0])).tolist()                # one: min(cap, 6)
    [6.0]
    """
    group = covers
    if owed_to is not None and covers.size:       # one group per (covered row, creditor of the guarantee)
        group = np.unique(covers.astype(np.int64) * (int(owed_to.max()) + 1) + owed_to, return_inverse=True)[1]
    caps = np.bincount(group, weights=cap)[group]     # caps of all the guarantees sharing the row's unpaid part
    share = np.divide(cap, caps, out=np.ones_like(cap), where=caps > 0)
    return np.minimum(cap, share * unpaid[covers])


def _called_fixed_point(net: Any, spec: ContingentSpec, start: np.ndarray, alpha: float, beta: float,
                        e: np.ndarray | None = None):
    """The guarantees' called amounts found by iterating around the exact inner clearing from ``start`` (the
    amounts of the guarantee rows): ``(amounts, row payments, outside payments, defaulted, waves, iterations)``;
    ``e``: outside assets other than the network's."""
    di, ci = net.edge_index
    n = net.n
    g_rows = np.flatnonzero(spec.guarantee)
    amounts = spec.fixed_amount.copy()
    amounts[g_rows] = start
    total = 0
    for outer in range(MAX_OUTER):
        rows, ext_paid, default, waves, its = _inner(n, di, ci, amounts, spec, net, alpha, beta, e)
        total += its
        if not g_rows.size:
            return amounts, rows, ext_paid, default, waves, total
        called = _calls(spec.covers[g_rows], spec.cap[g_rows], np.maximum(0.0, amounts - rows), ci[g_rows])
        scale = max(float(np.max(amounts, initial=0.0)), 1e-300)
        if np.max(np.abs(called - amounts[g_rows]), initial=0.0) <= 1e-13 * scale:
            amounts[g_rows] = called
            rows, ext_paid, default, waves, its = _inner(n, di, ci, amounts, spec, net, alpha, beta, e)
            return amounts, rows, ext_paid, default, waves, total + its
        if outer >= DAMP_AFTER:
            # a call that lowers itself (protection bought by a third party: called 7, the debtor pays more and
            # the call falls to 0, which calls it for 3 again, ...) swings for ever; half steps settle on the
            # state in between (the same fixed points: a state is what the amounts called reproduce)
            called = 0.5 * (called + amounts[g_rows])
        amounts[g_rows] = called
    names = sorted({net.names[i] for i in di[g_rows]})
    raise ConvergenceError(f"no clearing state found for the guarantees of {', '.join(names)} (the amounts "
                           f"called keep changing)", total, math.inf)


def guarantee_waves(net: Any, spec: ContingentSpec, defaulted: np.ndarray, alpha: float = 1.0,
                    beta: float = 1.0) -> np.ndarray | None:
    """The default waves of DESIGN §2 on a network with guarantees, whose final default set is ``defaulted``;
    ``None`` when the waves do not end in that set (guarantees with several clearing states).

    Wave 0 is who is short when everyone pays in full -- and then no guarantee is called: a guarantor that
    fails only because a guarantee is called is not a fundamental default. Then, as in the fictitious-default
    algorithm: with the defaulters found so far paying what they can and everyone else paying in full (their
    guarantees called as far as the defaulters leave their obligations unpaid), those now short form the
    next wave. Without guarantees these are the waves the clearing reports.
    """
    di, ci = net.edge_index
    n = net.n
    e = net.external_assets
    g_rows = np.flatnonzero(spec.guarantee)
    waves = np.where(_inner(n, di, ci, spec.fixed_amount, spec, net, alpha, beta)[3] == 0, 0, -1)
    known = waves == 0
    # outside assets large enough that an institution not (yet) in default pays everything, guarantees included
    most = np.bincount(di, weights=np.where(spec.guarantee, spec.cap, spec.fixed_amount), minlength=n)
    plenty = e + most + net.external_liabilities + 1.0
    from .core import tie_tolerance

    for wave in range(1, n + 1):
        amounts, rows, _, _, _, _ = _called_fixed_point(net, spec, spec.cap[g_rows].copy(), alpha, beta,
                                                        np.where(known, e, plenty))
        pbar = np.bincount(di, weights=amounts, minlength=n) + net.external_liabilities
        received = np.bincount(ci, weights=rows, minlength=n)
        new = ~known & (e + received < pbar - tie_tolerance(pbar))
        if not new.any():
            break
        waves[new] = wave
        known |= new
    return waves if np.array_equal(known, defaulted) else None


def clear_priority(net: Any, alpha: float = 1.0, beta: float = 1.0) -> dict[str, Any]:
    """Greatest clearing state with seniority, collateral and guarantees (see the module docstring).

    Returns a dict with ``payments`` (per institution), ``defaulted``,
    ``default_round``, ``amounts`` (what each row owed: guarantees as called),
    ``row_payments``, ``unique`` (None or False), ``iterations``, ``residual``, ``spec`` (the network's
    :class:`ContingentSpec`).

    Raises
    ------
    InvalidNetworkError
        A bad DESIGN §8 value (:func:`contingent_spec`).
    ConvergenceError
        No clearing state found for the guarantees (naming the guarantors).
    """
    spec = contingent_spec(net)
    di, ci = net.edge_index
    n = net.n
    g_rows = np.flatnonzero(spec.guarantee)
    solve = lambda start: _called_fixed_point(net, spec, start, alpha, beta)  # noqa: E731

    first = solve(spec.cap[g_rows].copy())
    unique = None
    if g_rows.size:
        second = solve(np.zeros(g_rows.size))
        p1 = np.bincount(di, weights=first[1], minlength=n) + first[2]
        p2 = np.bincount(di, weights=second[1], minlength=n) + second[2]
        scale = max(float(np.max(first[0], initial=0.0)), 1e-300)
        differ = (np.abs(p1 - p2) > 1e-9 * scale) | (first[3] != second[3])
        # two states may pay the same totals and still differ in what is called, row by row, and who defaults
        # (two guarantors covering each other's debts: both called and in default, or neither)
        rows_differ = (np.abs(first[0] - second[0]) > 1e-9 * scale) | (np.abs(first[1] - second[1]) > 1e-9 * scale)
        differ[di[rows_differ]] = True
        if differ.any():
            unique = False
            who = ", ".join(str(net.names[i]) for i in np.flatnonzero(differ)[:8])
            warnings.warn(f"the guarantees admit more than one clearing state: the payments, calls or defaults of "
                          f"{who} differ between them; the state with every guarantee called as far as it goes is "
                          f"shown", ContingentWarning, stacklevel=3)
    amounts, rows, ext_paid, default, waves, its = first
    payments = _settle_in_full(net, default, rows, ext_paid, amounts)
    return {"payments": payments, "row_payments": rows, "amounts": amounts, "defaulted": default,
            "default_round": waves, "unique": unique, "iterations": its, "differ": unique is False, "spec": spec}


def _refuse_float_range(owed: Any, method: str) -> None:
    """A :class:`~contagion.ContagionError` when floats cannot represent the waterfall's shares (a row below the
    smallest normal float of its debtor's obligations, or a total that overflows): its payments would carry
    few or no correct digits, and the exact-arithmetic fallback of the plain solvers does not model seniority,
    collateral or guarantees."""
    from .core import float_range_problem

    why = float_range_problem(owed.liabilities, owed.total_obligations, owed.relative_liabilities)
    if why:
        from ..errors import ContagionError

        raise ContagionError(f"{method} with priority is ill-conditioned in floating point: {why}; exact "
                             f"arithmetic is not available with seniority, collateral or guarantees")


def priority_result(net: Any, method: str, alpha: float = 1.0, beta: float = 1.0):
    """A :class:`~contagion.ClearingResult` from :func:`clear_priority`.

    Its ``network`` owes what was really owed: guarantees as called, residual
    value guarantees as ``min(cap, max(0, K - V))`` (the input's ``amount``
    column keeps the caps), so ``obligations``, ``shortfall`` and equity read
    as for any other network.
    """
    from .result import ClearingResult

    out = clear_priority(net, alpha, beta)
    owed = _with_amounts(net, out["amounts"])
    _refuse_float_range(owed, method)
    pbar = owed.total_obligations
    p = np.where(out["defaulted"], out["payments"], pbar)     # not in default: pays what it owes, exactly
    inflow = np.bincount(owed.edge_index[1], weights=out["row_payments"], minlength=net.n)
    e = owed.external_assets
    equity = e + inflow - pbar
    # the clearing condition, checked: each pays min(what it owes (or its cap), what it has)
    d = out["defaulted"]
    has = np.where(d, alpha * e + beta * inflow, e + inflow)
    due = np.where(owed.forced_default, owed.forced_recovery * pbar, pbar)
    gap = np.abs(p - np.minimum(due, has))
    residual = float(np.max(gap, initial=0.0))
    # each institution on its own scale (nothing relative to the largest obligation in the network)
    if not np.all(np.isfinite(p)):       # a singular regime system: a nearly closed group refuses clearly
        _refuse_nearly_closed(owed, np.ones(net.n, dtype=bool), np.zeros(net.n), np.zeros(net.n), beta)
    if not np.all(np.isfinite(p)) or np.any(gap > 1e-9 * pbar):
        raise ConvergenceError(f"{method} clearing with priority: the state found is not a clearing state",
                               out["iterations"], residual)
    _refuse_nearly_closed(owed, d, equity, p, beta)
    params = {} if method == "eisenberg-noe" else {"alpha": alpha, "beta": beta}
    waves = out["default_round"]
    spec = out["spec"]
    all_pay = None
    calls = call_rows(net, spec)
    call_full = None
    if calls is not None and (alpha < 1.0 or beta < 1.0):
        # what each call row would be paid if its debtor's default destroyed nothing (it shared all of e +
        # received by its waterfall): the unpaid call beyond that is the covered debt's, the rest is lost value
        di, ci = owed.edge_index
        w = _waterfall(net.n, di, ci, out["amounts"], spec, owed.external_liabilities)
        claims = _pay(w, e + inflow)
        row = w.claim_row >= 0
        call_full = np.bincount(w.claim_row[row], weights=claims[row], minlength=di.size)
        forced = owed.forced_default[di]        # a forced recovery is the scenario's, not a default's cost
        call_full = np.where(calls & ~forced, np.maximum(call_full, out["row_payments"]), out["row_payments"])
    # the waves by fictitious-default rounds (on first use): the solver's own count is of steps of the map, which
    # can spread one round over two (with collateral: [0, 1, 0, 2] where the rounds give [0, 1, 0, 1]); and a
    # guarantor brought down by a call is not a fundamental default
    found = waves

    def waves():
        try:
            again = guarantee_waves(net, spec, out["defaulted"], alpha, beta)
        except ConvergenceError:    # a partial default set whose calls do not settle (Rogers--Veraart)
            again = None
        return found if again is None else again

    if spec.guarantee.any():
        # everyone paying in full: nothing called (what each row owes then: spec.fixed_amount)
        di, ci = net.edge_index
        all_pay = (e + np.bincount(ci, weights=spec.fixed_amount, minlength=net.n)
                   - np.bincount(di, weights=spec.fixed_amount, minlength=net.n) - net.external_liabilities)
    return ClearingResult(
        network=owed, payments=p, defaulted=out["defaulted"], equity=equity, default_round=waves,
        shortfall=pbar - p, iterations=out["iterations"], converged=True, residual=residual, method=method,
        unique=out["unique"], solver=SOLVER_NAME, params=params, row_payments=out["row_payments"],
        all_pay_equity=all_pay, call_rows=calls, call_full_payments=call_full,
    )


def call_rows(net: Any, spec: ContingentSpec) -> np.ndarray | None:
    """The guarantee rows owed to the creditor of the obligation they cover (a guarantee of a guarantee: of the
    guarantee it covers), or ``None`` when there are none: their unpaid part is also unpaid on the covered
    obligation (:attr:`~contagion.clearing.result.ClearingResult.call_rows`). A guarantee owed to someone
    else (credit protection bought by a third party) is a claim of its own."""
    g = np.flatnonzero(spec.guarantee & (spec.covers >= 0))
    if g.size == 0:
        return None
    ci = net.edge_index[1]
    same = g[ci[g] == ci[spec.covers[g]]]
    if same.size == 0:
        return None
    rows = np.zeros(len(spec.guarantee), dtype=bool)
    rows[same] = True
    return rows


def _refuse_nearly_closed(net: Any, defaulted: np.ndarray, equity: np.ndarray, p: np.ndarray,
                          beta: float = 1.0) -> None:
    """What floats cannot decide (:func:`.core.undecided_groups`: a nearly closed group in default or at its
    threshold, a closed group's ties) the priority solver refuses (:class:`~contagion.ContagionError`,
    ill-conditioned), as the other paths clear it exactly or refuse."""
    from ..errors import ContagionError
    from .core import describe_groups, undecided_groups

    groups = undecided_groups(net.liabilities, net.external_liabilities, net.external_assets, net.total_obligations,
                              net.PiT, p, defaulted, equity, beta, net.forced_default)
    if groups:
        raise ContagionError(f"the clearing is ill-conditioned in floating point: {describe_groups(net, groups)}"
                             f"; the priority solver cannot decide it (a float answer could contradict the "
                             f"default rule)")


def priority_batch(net: Any, E: np.ndarray, method: str, alpha: float = 1.0, beta: float = 1.0):
    """:func:`priority_result` for every column of ``E`` (outside assets), as a batch result."""
    from .result import BatchClearingResult, unpaid_calls_by

    n, K = E.shape
    P = np.empty((n, K))
    D = np.empty((n, K), dtype=bool)
    owed = np.empty((n, K))
    its = np.empty(K, dtype=np.int64)
    res_ = np.empty(K)
    inflow = np.empty((n, K))
    calls = None
    for k in range(K):
        res = priority_result(net.replace(external_assets=E[:, k]), method, alpha, beta)
        P[:, k], D[:, k], its[k], res_[k] = res.payments, res.defaulted, res.iterations, res.residual
        owed[:, k] = res.network.total_obligations        # guarantees as called in this scenario
        inflow[:, k] = res.received                       # claims paid by the waterfall, calls included
        unpaid = unpaid_calls_by(res)
        if unpaid is not None:
            calls = np.zeros((n, K)) if calls is None else calls
            calls[:, k] = unpaid
    return BatchClearingResult(network=owed_network(net), payments=P, defaulted=D,
                               iterations=its, residual=res_, method=method, solver=SOLVER_NAME,
                               params={} if method == "eisenberg-noe" else {"alpha": alpha, "beta": beta},
                               obligations=owed, inflow=inflow, unpaid_calls=calls)


def priority_columns(net: Any, E: np.ndarray, columns: np.ndarray, alpha: float = 1.0, beta: float = 1.0,
                     spec: ContingentSpec | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Payments, default flags, iterations, residuals and what each institution received (the claims paid by
    the waterfall) of the columns ``columns`` of ``E`` (outside assets),
    for a network without guarantees: its claims' waterfall is built once. Each result equals
    :func:`priority_result` on the network with that column as outside assets; the residual is the largest
    ``|p - min(what it owes or its cap, what it has)|`` (a clearing state has 0). ``spec``: the network's
    :func:`contingent_spec`, when the caller has it already. A debtor not in default pays what it owes
    (:func:`owed_network`: residual value guarantees not at their caps)."""
    spec = contingent_spec(net) if spec is None else spec
    owed = owed_network(net, spec)
    _refuse_float_range(owed, "clearing")
    di, ci = net.edge_index
    w = _waterfall(net.n, di, ci, spec.fixed_amount, spec, net.external_liabilities)
    P = np.empty((net.n, columns.size))
    D = np.empty((net.n, columns.size), dtype=bool)
    its = np.empty(columns.size, dtype=np.int64)
    res = np.empty(columns.size)
    R = np.empty((net.n, columns.size))
    due = np.where(net.forced_default, net.forced_recovery * w.pbar, w.pbar)
    for j, k in enumerate(columns):
        e = E[:, k]
        rows, ext_paid, default, _, it = _inner_waterfall(w, di, e, net.forced_default, net.forced_recovery,
                                                          alpha, beta)
        p = _settle_in_full(net, default, rows, ext_paid, spec.fixed_amount, owed.total_obligations)
        received = np.bincount(ci, weights=rows, minlength=net.n)
        has = np.where(default, alpha * e + beta * received, e + received)
        P[:, j], D[:, j], its[j], R[:, j] = p, default, it, received
        res[j] = float(np.max(np.abs(p - np.minimum(due, has)), initial=0.0))
    return P, D, its, res, R
