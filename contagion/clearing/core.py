"""Array-level exact clearing: the fictitious-default algorithm (FDA).

This module works on arrays only (no :class:`~contagion.FinancialNetwork`), so
that the single, batched and benchmark paths share one definition.

The clearing map, for an institution ``i`` with obligations ``pbar_i > 0``::

    inflow = PiT @ p                                   # what i receives
    solvent_i  <=> not forced_i and e_i + inflow_i >= pbar_i    (ties are solvent)
    p_i = pbar_i                                        if solvent_i
    p_i = min(cap_i, alpha * e_i + beta * inflow_i)     otherwise

With ``alpha = beta = 1`` this is Eisenberg--Noe ``p = min(pbar, max(0, e +
Pi.T p))`` (``e >= 0`` so the ``max`` never binds); with ``alpha, beta <= 1`` it
is Rogers--Veraart. ``cap_i = pbar_i`` except for institutions forced to
default by a shock (``cap_i = recovery_i * pbar_i``).

The map is monotone, so the greatest clearing vector is reached from above.
The FDA (Eisenberg & Noe 2001, section 3; Rogers & Veraart 2013, section 3.2)
does it in at most ``n`` rounds: assume the current default set ``D``; solve
the linear system in which members of ``D`` pay what they have and everyone
else pays in full; add the institutions that are now short; repeat until no
one new defaults. The round in which an institution joins ``D`` is its
*default wave* (0 = fundamental default: short even when everyone pays in full).

Each round's linear system ``(I - beta * PiT[D, D]) p_D = alpha * e_D + beta *
PiT[D, ~D] @ p[~D]`` is solved exactly by sparse LU for blocks up to
``DIRECT_LIMIT`` rows, and by a Krylov solver with an iterative refinement to
the residual bound above that (LU fill-in explodes on blocks with a densely
linked core); a block the Krylov solver cannot settle goes to LU (up to
``LU_FALLBACK_LIMIT`` rows), then to GMRES, then to the monotone iteration.
Blocks that may be singular (``beta == 1`` and a member that owes nothing
outside the network) get LU first up to ``LU_FALLBACK_LIMIT`` rows, and the
monotone iteration from above when LU fails, as the greatest solution needs.

Tolerance rule (every solver path: reference, compiled, batch, priority)
-----------------------------------------------------------------------
Every decision and every accuracy bound is taken on the institution's *own*
scale, never on the largest amount in the network:

- **Round 0 (everyone pays in full) is decided exactly.** Institution ``i``
  is short iff ``e_i + sum_j L[j, i] < sum_k L[i, k] + ext_i`` over the
  exact values of the floats (ties are solvent). The float sum decides when
  it is farther from zero than its rounding bound (:data:`ROUND0_BAND` times
  ``e_i + assets_i + pbar_i``); inside that band the sign is taken from
  :func:`math.fsum` of the amounts themselves (:func:`short_in_full`).
- **Later rounds** compare with payments that come out of a linear solve
  (accurate to about ``1e-13 * pbar_j`` for each payer ``j``): a shortfall of
  at most :data:`TIE_RTOL` times the institution's own ``pbar_i`` is a tie
  (:func:`tie_tolerance`); nothing absolute, nothing scaled by another
  institution.
- **Residuals and convergence** are per institution too: a clearing vector
  is accepted when ``|T(p)_i - p_i| <= 1e-12 * pbar_i`` for every ``i``
  (:func:`relative_residual_of`; ``residual`` in results stays the absolute
  ``max |T(p) - p|``). The reference's block solves are componentwise
  accurate: each row to ``1e-13`` of the magnitudes it adds up
  (:func:`_row_tolerance`), so a member paying 1e-15 is exact next to one
  paying 1e15. The compiled paths (accurate to ``1e-13 * pbar`` of each
  payer, in shortfall form) are verified in payment form and recomputed by
  the reference when that fails; networks with an institution owed more
  than :data:`WIDE_RATIO` times what it owes run on the reference.
- **Nearly closed groups.** A group of institutions that owe each other all
  but a fraction below :data:`NEARLY_CLOSED_RTOL` of what they owe (summed
  over the members; e.g. a ring of banks one of which owes 1e-10 outside)
  makes a default block ill-conditioned: its float payments can be wrong in
  every digit and its members' shortfalls can be below float resolution.
  When such a group is in default or at its threshold
  (:func:`nearly_closed_groups`), the network is cleared in exact rational
  arithmetic (:func:`fda_rational`, networks up to :data:`EXACT_LIMIT`
  institutions) or refused with a :class:`~contagion.ContagionError` that
  says the answer is ill-conditioned -- never answered in floats.
- **Closed groups and their ties.** In a group that owes nothing outside
  itself the payments add up; without outside money and receiving nothing
  from outside, every member that pays in full therefore ends *exactly* at
  its threshold, and that tie is decided from the defaulters' solved
  payments. Floats decide it only when no group among those defaulters
  leaks less than :data:`CLOSED_TIE_RTOL` (then the payments are accurate to
  well within the tie band); otherwise -- and whenever a whole closed group
  comes out in default, which the greatest clearing vector never has
  (``beta == 1``) -- the network goes to exact rationals or is refused, as
  above (:func:`undecided_groups`). A member at its threshold can also close
  a group of defaulters that leaks to it alone, so nearly closed groups are
  looked for among the defaulters of a closed group too.
- **Representable range.** Amounts from about 1e-300 to 1e300 are accepted;
  the solvers need every sum (``pbar``, assets) below 1.8e308 and every ratio
  ``Pi[i, j] = L[i, j] / pbar_i`` above 2.2e-308 (a debtor's obligations
  within about 307 orders of magnitude of each other). A network outside
  that range (:func:`float_range_problem`) is cleared exactly when small and
  refused otherwise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import ContagionError, ConvergenceError

#: Largest default block solved by direct sparse LU first when it cannot be singular (every member owes
#: something outside the network, or beta < 1). Larger blocks go to BiCGSTAB first: the LU of a block of a
#: few thousand institutions with a densely linked core fills in (measured 0.9 s at 10^4 core-periphery
#: institutions, 2.5 s at 3 * 10^4, against 13-40 ms by BiCGSTAB, same answers).
DIRECT_LIMIT = 300
#: Largest block solved by LU first when it may be singular, and largest block that BiCGSTAB cannot
#: settle (nearly singular: a nearly closed cycle) that is solved by LU before GMRES is tried.
LU_FALLBACK_LIMIT = 4000
#: Iteration budget of the monotone iteration, the block solver's last resort.
MAX_ITER = 100_000


class BlockLimits(NamedTuple):
    """How each round's block is solved (defaults: the module constants above).

    ``direct``: largest block solved by LU first when it cannot be singular
    (:data:`DIRECT_LIMIT`); ``lu_fallback``: largest block solved by LU first
    when it may be singular, and largest block BiCGSTAB cannot settle that goes to
    LU before GMRES (:data:`LU_FALLBACK_LIMIT`); ``krylov``: whether the Krylov
    solvers are tried at all (without them a block LU does not take goes to the
    monotone iteration); ``max_iter``: the monotone iteration's budget
    (:data:`MAX_ITER`).
    """

    direct: int = DIRECT_LIMIT
    lu_fallback: int = LU_FALLBACK_LIMIT
    krylov: bool = True
    max_iter: int = MAX_ITER


#: Relative tolerance (to the institution's own ``pbar``) under which a shortfall found after round 0
#: counts as a tie (ties are solvent). Round 0 is decided exactly (:func:`short_in_full`).
TIE_RTOL = 1e-12
#: Target residual of every institution, relative to its own ``pbar``.
RESIDUAL_RTOL = 1e-12
#: Round 0: a float gap ``e + assets - pbar`` within this fraction of ``e + assets + pbar`` may have the
#: wrong sign (summation round-off of up to a few thousand terms); its sign is then taken exactly.
ROUND0_BAND = 1e-11
#: A group whose members together owe less than this fraction of their obligations outside it is
#: nearly closed: its block is too ill-conditioned for floats (condition number ~ 1 / that fraction).
NEARLY_CLOSED_RTOL = 1e-6
#: In a closed group without outside money that receives nothing from outside, every member paying in full
#: ends *exactly* at its threshold (the group's payments add up), and those ties are decided from the
#: defaulters' solved payments, accurate to about 1.1e-16 / leak of the tightest group among them (measured:
#: 9e-13 of a solvent member's obligations at a leak of 1e-4, 2e-13 at 1e-3, 1e-14 at 1e-2). Below this leak
#: that error can reach the tie band TIE_RTOL: floats cannot decide those ties (:func:`undecided_groups`).
CLOSED_TIE_RTOL = 1e-2
#: Largest network cleared in exact rational arithmetic when floats cannot decide it.
EXACT_LIMIT = 60
#: An institution owed more than this many times what it owes needs its debtors' payments to a relative
#: accuracy the compiled paths (accurate to ~1e-13 of each payer's pbar) do not promise: such networks
#: run on the reference, whose block solves are componentwise accurate (see :func:`_row_tolerance`).
WIDE_RATIO = 1e6
#: Smallest positive normal float: ``Pi`` entries below it have lost precision (underflow).
_TINY = np.finfo(np.float64).tiny


@dataclass(frozen=True)
class Solution:
    """Raw output of :func:`fda_solve` (arrays aligned with the network)."""

    payments: np.ndarray
    defaulted: np.ndarray
    default_round: np.ndarray
    iterations: int
    residual: float
    converged: bool
    solver: str
    #: ``(rows, how)`` of every block solve, in order (``how``: "lu", "krylov" or "picard")
    blocks: tuple[tuple[int, str], ...] = ()


def tie_tolerance(pbar: np.ndarray) -> np.ndarray:
    """Per-institution slack under which ``resources < pbar`` is treated as a tie (solvent).

    Relative to each institution's own obligations, so that a small institution's
    real shortfall is never mistaken for a tie next to a large one.
    """
    return TIE_RTOL * pbar


def short_in_full(L: sp.csr_array, ext: np.ndarray, e: np.ndarray, pbar: np.ndarray,
                  assets: np.ndarray | None = None) -> np.ndarray:
    """Institutions short when everyone pays in full (round 0), decided exactly (ties solvent).

    ``e_i + sum_j L[j, i] < sum_k L[i, k] + ext_i`` on the exact values of the
    floats: the float gap decides when it is outside the rounding band
    :data:`ROUND0_BAND` of the institution's own amounts; inside it the sign of
    :func:`math.fsum` of the amounts (correctly rounded, so its sign is exact).
    ``assets`` are the column sums of ``L`` (computed if not given).

    >>> L = sp.csr_array(np.array([[0, 100.0], [100.0, 0]]))
    >>> short_in_full(L, np.array([1e-15, 0]), np.zeros(2), np.array([100.0, 100.0])).tolist()
    [True, False]
    """
    if assets is None:
        assets = np.asarray(L.sum(axis=0)).ravel()
    gap = e + assets - pbar
    band = ROUND0_BAND * (e + assets + pbar)
    has = pbar > 0
    short = has & (gap < -band)
    unsure = np.flatnonzero(has & (np.abs(gap) <= band))
    if unsure.size:
        LT = sp.csr_array(L.T)
        for i in unsure:
            out = L.data[L.indptr[i]:L.indptr[i + 1]]
            into = LT.data[LT.indptr[i]:LT.indptr[i + 1]]
            exact = math.fsum([float(e[i]), *into.tolist(), *(-out).tolist(), -float(ext[i])])
            short[i] = exact < 0.0
    return short


def tight_groups(L: sp.csr_array, ext: np.ndarray, pbar: np.ndarray, within: np.ndarray | None = None,
                 rtol: float = NEARLY_CLOSED_RTOL, closed: bool = False) -> list[tuple[np.ndarray, float]]:
    """Strongly connected groups (two or more members, among ``within``) in which every member owes at
    most ``rtol`` of its obligations outside the group, and something outside it (with ``closed``, also
    the groups that owe nothing outside themselves, with leak ``0.0``).

    Returns ``[(members, leak), ...]`` with ``leak`` the sum over members of
    (owed outside the group) / ``pbar`` (computed from the amounts, never as
    ``1 - sum``, so a leak far below float resolution of ``pbar`` is seen;
    at least the smallest normal float when something is owed outside).
    Members that leak more are pruned and the components recomputed until
    stable. Costs nothing beyond one pass over ``n`` when no institution owes
    (almost) everything inside the network.
    """
    n = pbar.shape[0]
    cand = (pbar > 0) & (ext <= rtol * pbar)
    if within is not None:
        cand &= within
    idx = np.flatnonzero(cand)
    while idx.size >= 2:
        # imported here: scipy.sparse.csgraph brings scipy.sparse.linalg (~0.1 s) into runs that never need it
        from scipy.sparse.csgraph import connected_components

        sub = L[idx]
        rows = np.repeat(np.arange(idx.size), np.diff(sub.indptr))
        label = np.full(n, -1, dtype=np.int64)
        G = sub[:, idx]
        ncomp, lab = connected_components(G, directed=True, connection="strong")
        label[idx] = lab
        outside = label[sub.indices] != lab[rows]
        leak = ext[idx] + np.bincount(rows[outside], weights=sub.data[outside], minlength=idx.size)
        frac = leak / pbar[idx]
        size = np.bincount(lab, minlength=ncomp)
        drop = (frac > rtol) | (size[lab] < 2)
        if not drop.any():
            out = []
            total = np.bincount(lab, weights=frac, minlength=ncomp)
            leaks = np.bincount(lab, weights=(leak > 0).astype(np.float64), minlength=ncomp)
            for c in range(ncomp):
                if leaks[c] > 0:      # something owed outside (its fraction may underflow to 0)
                    out.append((idx[lab == c], max(float(total[c]), _TINY)))
                elif closed:
                    out.append((idx[lab == c], 0.0))
            return out
        cand[idx[drop]] = False
        idx = idx[~drop]
    return []


def nearly_closed_groups(L: sp.csr_array, ext: np.ndarray, pbar: np.ndarray,
                         within: np.ndarray | None = None) -> list[tuple[np.ndarray, float]]:
    """The nearly closed groups among ``within``: :func:`tight_groups` whose summed leak is below
    :data:`NEARLY_CLOSED_RTOL` and above zero (a closed group, leak 0, is judged by :func:`undecided_groups`)."""
    return [(m, leak) for m, leak in tight_groups(L, ext, pbar, within) if 0.0 < leak < NEARLY_CLOSED_RTOL]


def float_range_problem(L: sp.csr_array, pbar: np.ndarray, Pi: sp.csr_array) -> str:
    """Why the float solvers cannot represent this network ('' when they can): a sum that overflows,
    or a ratio ``L[i, j] / pbar_i`` below the smallest normal float (see the module docstring)."""
    if not np.all(np.isfinite(pbar)):
        return "a total of obligations exceeds the largest float (1.8e308)"
    if Pi.nnz and float(Pi.data.min()) < _TINY:
        return ("an obligation is below 2.2e-308 of its debtor's total obligations (the debtor's obligations "
                "span more than ~307 orders of magnitude)")
    return ""


def overflow_problems(net: Any) -> list:
    """One located problem for each institution whose obligations, or whose outside assets and claims, add up
    past the largest float (1.8e308): its payments and equity cannot be written as numbers, so no clearing
    answers (exact arithmetic would find them, and they would still overflow when written out)."""
    from ..io.rows import located_problems, table_rows
    from ..errors import Problem

    owes = net.total_obligations
    with np.errstate(over="ignore", invalid="ignore"):
        has = net.external_assets + net.interbank_assets
    bad = np.flatnonzero(~np.isfinite(owes) | ~np.isfinite(has))
    if not bad.size:
        return []
    rows = table_rows(net, "nodes")
    file, offset = rows.file, rows.offset
    out = []
    for i in bad:
        what = "its obligations" if not np.isfinite(owes[i]) else "its outside assets and claims"
        out.append(Problem(f"{what} add up past the largest float (1.8e308): no payment or equity can be written "
                           f"as a number (give the amounts in a larger unit, e.g. billions)", file, int(i) + offset,
                           "id", net.ids[i]))
    return located_problems(net, out)


def is_wide(pbar: np.ndarray, assets: np.ndarray) -> bool:
    """Whether some institution is owed more than :data:`WIDE_RATIO` times what it owes (or owes nothing
    while owed something does not count: it cannot default)."""
    return bool(np.any(assets > WIDE_RATIO * pbar, where=pbar > 0))


def _row_tolerance(b: np.ndarray, M) -> "callable":
    """Componentwise (Oettli--Prager) residual bound of a block solve: row ``i`` of ``x - M x = b`` is
    accepted when ``|r_i| <= 1e-13 * (|b_i| + |x_i| + (M |x|)_i)`` (``M >= 0``), i.e. relative to the
    magnitudes that row itself adds up, so a member paying 1e-15 is solved to 1e-28 even when another
    member pays 1e15 (a bound relative to the largest obligation left it no correct digit)."""
    ab = np.abs(b)

    def tol(x: np.ndarray) -> np.ndarray:
        ax = np.abs(x)
        return 0.1 * RESIDUAL_RTOL * (ab + ax + M @ ax) + _TINY

    return tol


def tie_band_equity(equity: np.ndarray, pbar: np.ndarray) -> np.ndarray:
    """Institutions with obligations whose equity is negative or within the tie band of zero."""
    return (pbar > 0) & (equity <= TIE_RTOL * pbar)


def clearing_map(PiT: sp.csr_array, pbar: np.ndarray, e: np.ndarray, cap: np.ndarray, p: np.ndarray,
                 alpha: float = 1.0, beta: float = 1.0, forced: np.ndarray | None = None) -> np.ndarray:
    """One application of the clearing map ``T(p)`` (see the module docstring)."""
    return clearing_map_from(PiT @ p, pbar, e, cap, alpha, beta, forced)


def clearing_map_from(inflow: np.ndarray, pbar: np.ndarray, e: np.ndarray, cap: np.ndarray, alpha: float = 1.0,
                      beta: float = 1.0, forced: np.ndarray | None = None) -> np.ndarray:
    """``T(p)`` given ``inflow = PiT @ p``."""
    short = e + inflow < pbar - tie_tolerance(pbar)
    if forced is not None:
        short = short | forced
    out = np.where(short, np.minimum(cap, alpha * e + beta * inflow), pbar)
    return np.where(pbar > 0, np.maximum(out, 0.0), 0.0)


def residual_of(PiT, pbar, e, cap, p, alpha=1.0, beta=1.0, forced=None) -> float:
    """``max |T(p) - p|``: how far ``p`` is from a fixed point."""
    if p.size == 0:
        return 0.0
    return float(np.max(np.abs(clearing_map(PiT, pbar, e, cap, p, alpha, beta, forced) - p)))


def relative_residual_of(PiT, pbar, e, cap, p, alpha=1.0, beta=1.0, forced=None) -> tuple[float, float]:
    """``(max |T(p) - p|, max_i |T(p)_i - p_i| / pbar_i)``: the absolute residual and the per-institution
    one that decides convergence (institutions without obligations pay 0 exactly)."""
    if p.size == 0:
        return 0.0, 0.0
    d = np.abs(clearing_map(PiT, pbar, e, cap, p, alpha, beta, forced) - p)
    rel = np.divide(d, pbar, out=np.zeros_like(d), where=pbar > 0)
    return float(d.max()), float(rel.max())


def _lu_solve(A: sp.csr_array, b: np.ndarray, M_apply, tol_abs) -> np.ndarray | None:
    """Sparse LU solve of ``A x = b`` plus one step of iterative refinement; None if ``A`` is singular.

    ``tol_abs``: bound on each row's residual (a scalar, one per row, or a function of ``x`` giving one
    per row, :func:`_row_tolerance`)."""
    import scipy.sparse.linalg as spla  # here, not at the top: 0.1-0.3 s of every run that never solves a block

    # factorise once; the same factors serve the solve and its refinement step
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            lu = spla.splu(A.tocsc())
            x = lu.solve(b)
        except RuntimeError:  # exactly singular
            return None
    x = np.atleast_1d(x)
    if not np.all(np.isfinite(x)):
        return None
    # iterative refinement removes LU round-off (two steps at most)
    for _ in range(2):
        r = b - (x - M_apply(x))
        if not np.any(np.abs(r) > (tol_abs(x) if callable(tol_abs) else tol_abs)):
            break
        dx = lu.solve(r)
        if not np.all(np.isfinite(dx)):
            break
        x = x + dx
    return x


def _solve_block(A: sp.csr_array, b: np.ndarray, x0: np.ndarray, M_apply, tol_abs,
                 may_be_singular: bool = True, limits: BlockLimits = BlockLimits()) -> tuple[np.ndarray, str, int]:
    """Solve ``A x = b`` with ``A = I - beta*PiT[D, D]`` exactly (LU) or iteratively.

    ``M_apply(x)`` computes ``beta * PiT[D, D] @ x`` (so ``A x = x - M_apply(x)``).
    ``x0`` is an upper bound of the greatest solution. ``tol_abs`` bounds each row's
    residual (a scalar, or one per row: ``1e-13`` of each member's own ``pbar``). ``may_be_singular``: whether the
    block can be singular (``beta == 1`` and a member owes everything inside the
    network); a singular but consistent block has many solutions, any of which a Krylov
    solver may return, so such blocks go to LU first (up to ``limits.lu_fallback``
    rows), whose failure sends them to the monotone iteration from ``x0``.
    Returns ``(x, how, iterations)``.
    """
    import scipy.sparse.linalg as spla

    m = A.shape[0]
    upper = x0               # the monotone iteration below must start from this upper bound

    def tol_of(x: np.ndarray):
        return tol_abs(x) if callable(tol_abs) else tol_abs

    if m <= (limits.lu_fallback if may_be_singular else limits.direct) or not limits.krylov:
        x = _lu_solve(A, b, M_apply, tol_abs) if m <= max(limits.direct, limits.lu_fallback) else None
        if x is not None:
            return x, "lu", 1
        # singular block (a closed cycle without outside money): fall through to
        # the monotone iteration from above, which converges to the greatest solution
    else:
        # Krylov solves from the current (upper) iterate, judged by the true residual: BiCGSTAB first
        # (cheap); a block it cannot settle is nearly singular (a nearly closed cycle), which sparse LU
        # solves in one go up to LU_FALLBACK_LIMIT rows (no GMRES refinement of BiCGSTAB first, which
        # could need up to m products per restart there); beyond, restarted GMRES, with a restart as
        # long as memory allows (~160 MB of Krylov vectors): a nearly closed cycle of length m needs
        # a Krylov space of dimension m
        restart = int(min(m, max(200, 20_000_000 // max(m, 1))))
        lu_fallback = m <= limits.lu_fallback

        def residual(x: np.ndarray) -> float:
            """Largest row residual in units of that row's bound (<= 1: accepted)."""
            return float(np.max(np.abs(b - (x - M_apply(x))) / tol_of(x), initial=0.0))

        atol = float(np.min(tol_of(x0))) * 1e-2     # scipy's absolute target: the smallest row's

        def krylov(solver, refinements: int) -> np.ndarray | None:
            """``solver(x0)`` plus GMRES refinement steps; the answer if it meets ``tol_abs``, else None
            (and a finite failed iterate tightens the start ``x0`` of the next attempt)."""
            nonlocal x0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x, _info = solver(x0)
            if not np.all(np.isfinite(x)):
                return None
            for _ in range(refinements):
                if residual(x) <= 1.0:
                    return x
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    dx, _info = spla.gmres(A, b - (x - M_apply(x)), rtol=1e-14, restart=restart, maxiter=20)
                if not np.all(np.isfinite(dx)):
                    break
                x = x + dx
            if residual(x) <= 1.0:
                return x
            x0 = np.minimum(x0, np.maximum(x, 0.0))
            return None

        x = krylov(lambda start: spla.bicgstab(A, b, x0=start, rtol=1e-14, atol=atol, maxiter=2000),
                   0 if lu_fallback else 3)
        if x is not None:
            return x, "krylov", 1
        if lu_fallback:
            x = _lu_solve(A, b, M_apply, tol_abs)
            if x is not None:
                return x, "lu", 1
        x = krylov(lambda start: spla.gmres(A, b, x0=start, rtol=1e-14, atol=atol, restart=restart,
                                            maxiter=50), 3)
        if x is not None:
            return x, "krylov", 1
    # monotone fixed-point iteration x <- b + M x from an upper bound (not from a failed Krylov iterate,
    # which may lie below the greatest solution of a singular block)
    x = upper.copy()
    max_iter = limits.max_iter
    for it in range(1, max_iter + 1):
        x_new = b + M_apply(x)
        change = np.abs(x_new - x)
        delta = float(np.max(change, initial=0.0))
        x = x_new
        if np.all(change <= tol_of(x)):
            return x, "picard", it
    raise ConvergenceError("default block did not converge", iterations=max_iter, residual=delta)


def fda_solve(PiT: sp.csr_array, pbar: np.ndarray, e: np.ndarray, *, cap: np.ndarray | None = None,
              forced: np.ndarray | None = None, alpha: float = 1.0, beta: float = 1.0,
              limits: BlockLimits = BlockLimits(), short0: np.ndarray | None = None) -> Solution:
    """Greatest clearing vector by the fictitious-default algorithm (exact).

    Parameters
    ----------
    PiT : csr_array (n, n)
        ``Pi.T`` as CSR.
    pbar, e : ndarray (n,)
        Total obligations and external assets (``e >= 0``).
    cap : ndarray, optional
        Payment caps (default ``pbar``); below ``pbar`` only where ``forced``.
    forced : ndarray of bool, optional
        Institutions forced to default (round 0).
    alpha, beta : float
        Recovery fractions of external and interbank assets of a defaulting
        institution (Rogers--Veraart); 1 gives Eisenberg--Noe.
    limits : BlockLimits
        How each round's block is solved (LU, Krylov, monotone iteration; the
        module constants by default).
    short0 : ndarray of bool, optional
        Who is short when everyone pays in full, decided exactly
        (:func:`short_in_full`, which needs ``L``); without it round 0 uses
        ``PiT @ pbar`` and the tie band :func:`tie_tolerance`.

    Returns
    -------
    Solution
    """
    n = pbar.shape[0]
    if cap is None:
        cap = pbar
    if forced is None:
        forced = np.zeros(n, dtype=bool)
    forced = forced & (pbar > 0)
    has_obl = pbar > 0
    tie = tie_tolerance(pbar)

    p = pbar.copy()
    if short0 is None:
        short0 = e + PiT @ p < pbar - tie
    defaulted = has_obl & (forced | short0)
    # a block can only be singular if beta == 1 and a member owes everything inside the network (a column
    # of PiT summing to 1): otherwise I - beta * PiT[D, D] is strictly diagonally dominant by columns
    if beta == 1.0:
        owes_all_inside = np.asarray(PiT.sum(axis=0)).ravel() >= 1.0 - 1e-9
    else:
        owes_all_inside = np.zeros(n, dtype=bool)
    rounds = np.full(n, -1, dtype=np.int64)
    rounds[defaulted] = 0
    solver = "none"
    solves = 0
    blocks: list[tuple[int, str]] = []
    k = 0
    p = np.where(forced, cap, p)
    while defaulted.any():
        # --- solve for p given the default set; forced institutions start capped
        capped = forced.copy()
        while True:
            lin = defaulted & ~capped
            idx = np.flatnonzero(lin)
            p_fixed = np.where(lin, 0.0, p)
            if idx.size:
                sub = PiT[idx]  # rows: receivers in the block
                A_blk = sub[:, idx]
                b = alpha * e[idx] + beta * (sub @ p_fixed)
                M = (beta * A_blk).tocsr()
                A = sp.identity(idx.size, format="csr") - M
                x, how, its = _solve_block(A, b, p[idx], lambda v, M=M: M @ v, _row_tolerance(b, M),
                                           bool(owes_all_inside[idx].any()), limits)
                solves += its
                blocks.append((int(idx.size), how))
                solver = how if solver in ("none", how) else "mixed"
                p = p_fixed
                p[idx] = np.minimum(np.maximum(x, 0.0), pbar[idx])
            # forced institutions whose resources fall below their cap pay what they have
            res = alpha * e + beta * (PiT @ p)
            newly_lin = capped & (res < cap - tie)
            if not newly_lin.any():
                break
            capped &= ~newly_lin
        inflow = PiT @ p
        new = has_obl & ~defaulted & (e + inflow < pbar - tie)
        if not new.any():
            break
        k += 1
        rounds[new] = k
        defaulted |= new
    p = np.where(has_obl, p, 0.0)
    # institutions that pay in full do so exactly
    p = np.where(defaulted, p, pbar)
    # the map at the default set found: round 0 is decided exactly (short0), so one short by less than the tie
    # band is in default and pays as a defaulter (under Rogers--Veraart alpha e + beta inflow, not pbar)
    resid, rel = relative_residual_of(PiT, pbar, e, cap, p, alpha, beta, forced | defaulted)
    converged = rel <= RESIDUAL_RTOL
    return Solution(payments=p, defaulted=defaulted, default_round=rounds, iterations=k + 1,
                    residual=resid, converged=bool(converged), solver=f"fda-{solver}" if solver != "none" else "fda",
                    blocks=tuple(blocks))


def zero_money_closed(L: sp.csr_array, ext_liab: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Institutions that could belong to a closed group without outside money (sorted node ids).

    A second clearing vector can only live on a set of institutions without
    external assets or liabilities that is *closed*: everything its members
    owe is owed inside it (Eisenberg & Noe 2001, Theorem 2). Such a set lies
    inside ``Z`` = institutions with obligations but no external assets or
    liabilities; this prunes from ``Z`` every institution that owes something
    outside what remains. No work beyond one pass over ``n`` when ``Z`` is
    empty (the usual case).

    >>> ring = sp.csr_array(np.array([[0, 5.0, 0], [0, 0, 5], [5, 0, 0]]))
    >>> zero_money_closed(ring, np.zeros(3), np.zeros(3)).tolist()
    [0, 1, 2]
    >>> zero_money_closed(ring, np.array([0, 0, 1.0]), np.zeros(3)).tolist()
    []
    """
    pbar_pos = np.diff(L.indptr) > 0
    z = (ext_liab == 0) & (e == 0) & pbar_pos
    cand = np.flatnonzero(z)
    if cand.size == 0:
        return cand
    inside = np.zeros(L.shape[0], dtype=bool)
    inside[cand] = True
    while cand.size:
        sub = L[cand]
        rows = np.repeat(np.arange(cand.size), np.diff(sub.indptr))
        bad = np.zeros(cand.size, dtype=bool)
        bad[rows[~inside[sub.indices]]] = True
        if not bad.any():
            break
        inside[cand[bad]] = False
        cand = cand[~bad]
    return cand


def closed_groups(L: sp.csr_array, ext_liab: np.ndarray, e: np.ndarray, p: np.ndarray,
                  PiT: sp.csr_array) -> list[np.ndarray]:
    """The closed groups on which the clearing vector ``p`` (the greatest) is not the least.

    Each group is a strongly connected sink component (its members owe
    everything inside it) of at least two institutions without outside assets
    or liabilities (:func:`zero_money_sinks`), that receives nothing from
    outside under ``p`` and pays something inside. Returns their sorted member
    positions; ``[]`` when the clearing vector is unique (then
    :func:`~contagion.clearing.core.is_unique` is ``True``).

    Both are judged on each member's own scale, as residuals are: "nothing"
    is at most ``RESIDUAL_RTOL * pbar_i`` received by every member ``i`` (so
    zero payments on the group are a clearing vector to that residual), and
    "something" is more than that paid by some member. A bound on the
    group's summed obligations instead would call a group whose amounts span
    1e-94 .. 1e83 unique because its payments are 1e-88.

    >>> L = sp.csr_array(np.array([[0, 5.0, 0], [5.0, 0, 0], [0, 0, 0]]))
    >>> PiT = sp.csr_array(np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]))
    >>> [g.tolist() for g in closed_groups(L, np.zeros(3), np.zeros(3), np.array([5.0, 5.0, 0]), PiT)]
    [[0, 1]]
    """
    sinks = zero_money_sinks(L, ext_liab, e)
    if not sinks:
        return []
    pbar = np.asarray(L.sum(axis=1)).ravel() + ext_liab
    groups = []
    for members in sinks:
        own = RESIDUAL_RTOL * pbar[members]       # each member's own scale
        if np.any(p[members] > own) and np.all(received_from_outside(PiT, p, members) <= own):
            groups.append(members)
    return groups


def zero_money_sinks(L: sp.csr_array, ext_liab: np.ndarray, e: np.ndarray) -> list[np.ndarray]:
    """Closed groups without outside money: strongly connected groups of two or more institutions without
    outside assets or liabilities that owe nothing outside the group (sorted member positions).

    ``[]`` after one pass over ``n`` in the usual case (:func:`zero_money_closed` finds no candidate).

    >>> L = sp.csr_array(np.array([[0, 5.0, 0], [5.0, 0, 0], [1.0, 0, 0]]))
    >>> [g.tolist() for g in zero_money_sinks(L, np.zeros(3), np.zeros(3))]
    [[0, 1]]
    """
    cand = zero_money_closed(L, ext_liab, e)
    if cand.size < 2:
        return []
    from scipy.sparse.csgraph import connected_components  # here: ~0.1 s of imports (see above)

    G = L[cand][:, cand]
    ncomp, labels = connected_components(G, directed=True, connection="strong")
    coo = G.tocoo()
    leaves = labels[coo.row] != labels[coo.col]
    out_comp = np.zeros(ncomp, dtype=bool)
    out_comp[labels[coo.row[leaves]]] = True
    size = np.bincount(labels, minlength=ncomp)
    return [np.sort(cand[labels == c]) for c in np.flatnonzero(~out_comp & (size > 1))]


def received_from_outside(PiT: sp.csr_array, p: np.ndarray, members: np.ndarray) -> np.ndarray:
    """What each of ``members`` receives under ``p`` from institutions outside ``members`` (summed from
    those payments themselves, not as a difference, so a tiny amount next to large inside flows is seen)."""
    rows = PiT[members]
    outside = np.ones(PiT.shape[1], dtype=bool)
    outside[members] = False
    return rows @ np.where(outside, p, 0.0)



def is_unique(L: sp.csr_array, ext_liab: np.ndarray, e: np.ndarray, p: np.ndarray, PiT: sp.csr_array) -> bool:
    """Whether the Eisenberg--Noe clearing vector is unique, given the greatest one ``p``.

    The one place uniqueness is decided (every solver path reports this). A
    second clearing vector can only differ from ``p`` on a closed group without
    outside money: a strongly connected sink component (nothing owed outside it)
    of at least two institutions without external assets or liabilities
    (Eisenberg & Noe 2001, Theorem 2); such groups lie among the candidates of
    :func:`zero_money_closed`, so the components are computed on those only (no
    work beyond one pass over ``n`` in the usual case). Every member of a group
    where two vectors differ ends with zero equity; summing over the group shows
    that it then receives nothing from outside it. So ``p`` is the only clearing
    vector unless some such group receives nothing from outside and still pays
    something inside.

    >>> L = sp.csr_array(np.array([[0, 5.0], [5.0, 0]]))
    >>> PiT = sp.csr_array(np.array([[0, 1.0], [1.0, 0]]))
    >>> is_unique(L, np.zeros(2), np.zeros(2), np.array([5.0, 5.0]), PiT)
    False
    >>> is_unique(L, np.zeros(2), np.zeros(2), np.array([0.0, 0.0]), PiT)
    True
    """
    return not closed_groups(L, ext_liab, e, p, PiT)


# ----------------------------------------------------------------------------- exact rational clearing


def _solve_rational(rows: list[dict], rhs: list) -> list:
    """Solve a square sparse system over the rationals (rows as ``{column: value}``; Gauss--Jordan with
    the first nonzero pivot, which keeps a ring's fill-in small)."""
    m = len(rhs)
    rows = [dict(r) for r in rows]
    rhs = list(rhs)
    done = [False] * m
    order = [0] * m
    for c in range(m):
        piv = next((r for r in range(m) if not done[r] and rows[r].get(c, 0) != 0), None)
        if piv is None:
            raise ZeroDivisionError("singular block")
        done[piv] = True
        order[c] = piv
        inv = 1 / rows[piv][c]
        rows[piv] = {k: v * inv for k, v in rows[piv].items()}
        rhs[piv] *= inv
        prow, pr = rows[piv], rhs[piv]
        for r in range(m):
            if r != piv:
                f = rows[r].get(c, 0)
                if f != 0:
                    row = rows[r]
                    for k, v in prow.items():
                        nv = row.get(k, 0) - f * v
                        if nv == 0:
                            row.pop(k, None)
                        else:
                            row[k] = nv
                    rhs[r] -= f * pr
    return [rhs[order[c]] for c in range(m)]


@dataclass(frozen=True)
class ExactSolution(Solution):
    """:class:`Solution` of :func:`fda_rational`, with the equity computed exactly (``Pi`` may underflow)."""

    equity: np.ndarray | None = None


def fda_rational(L: sp.csr_array, ext: np.ndarray, e: np.ndarray, *, forced: np.ndarray | None = None,
                 recovery: np.ndarray | None = None, alpha: float = 1.0, beta: float = 1.0,
                 pbar_float: np.ndarray | None = None) -> Solution:
    """The fictitious-default algorithm in exact rational arithmetic (small networks, label ``"fda-exact"``).

    The float inputs are taken at their exact binary values (``pbar`` is their
    exact sum), every comparison is exact (ties solvent) and every round's
    system is solved exactly; the answer is rounded to floats once at the end
    (institutions that pay in full pay ``pbar_float``, the network's float
    ``pbar``). Used when floats cannot decide the clearing: a nearly closed
    group at or past its threshold, or amounts outside the float range of
    ``Pi`` (see the module docstring). Cost grows quickly with the size of
    the default set; :data:`EXACT_LIMIT` bounds the networks sent here.

    >>> ring = sp.csr_array(np.array([[0, 100.0], [100.0, 0]]))
    >>> fda_rational(ring, np.array([1e-10, 0]), np.zeros(2)).payments.tolist()
    [0.0, 0.0]
    """
    from fractions import Fraction as Q

    L = sp.csr_array(L)
    n = L.shape[0]
    forced = np.zeros(n, bool) if forced is None else np.asarray(forced, bool)
    recovery = np.zeros(n) if recovery is None else np.asarray(recovery, dtype=float)
    a, b_ = Q(float(alpha)), Q(float(beta))
    pbar = []
    for i in range(n):
        pbar.append(sum((Q(float(v)) for v in L.data[L.indptr[i]:L.indptr[i + 1]]), Q(0)) + Q(float(ext[i])))
    eq = [Q(float(v)) for v in e]
    LT = sp.csr_array(L.T)
    # into[i] = [(payer j, Pi[j, i] exactly)]
    into = [[(int(j), Q(float(v)) / pbar[int(j)]) for j, v in zip(LT.indices[LT.indptr[i]:LT.indptr[i + 1]],
                                                                     LT.data[LT.indptr[i]:LT.indptr[i + 1]])]
            for i in range(n)]
    has = [pbar[i] > 0 for i in range(n)]
    forced = [bool(forced[i]) and has[i] for i in range(n)]
    cap = [Q(float(recovery[i])) * pbar[i] if forced[i] else pbar[i] for i in range(n)]

    def inflow(p, i):
        return sum((w * p[j] for j, w in into[i]), Q(0))

    D = [has[i] and (forced[i] or eq[i] + inflow(pbar, i) < pbar[i]) for i in range(n)]
    rounds = np.where(D, 0, -1).astype(np.int64)
    capped = list(forced)
    k = 0
    p = list(pbar)
    while True:
        while True:
            lin = [D[i] and not capped[i] for i in range(n)]
            fixed = [Q(0) if lin[i] else (cap[i] if capped[i] else pbar[i]) for i in range(n)]
            idx = [i for i in range(n) if lin[i]]
            pos = {i: r for r, i in enumerate(idx)}
            p = list(fixed)
            if idx:
                rows, rhs = [], []
                for i in idx:
                    row = {pos[i]: Q(1)}
                    const = a * eq[i]
                    for j, w in into[i]:
                        if j in pos:
                            row[pos[j]] = row.get(pos[j], Q(0)) - b_ * w
                        else:
                            const += b_ * w * fixed[j]
                    rows.append({c: v for c, v in row.items() if v != 0})
                    rhs.append(const)
                for i, v in zip(idx, _solve_rational(rows, rhs)):
                    p[i] = v
            freed = [capped[i] and a * eq[i] + b_ * inflow(p, i) < cap[i] for i in range(n)]
            if not any(freed):
                break
            capped = [capped[i] and not freed[i] for i in range(n)]
        new = [has[i] and not D[i] and eq[i] + inflow(p, i) < pbar[i] for i in range(n)]
        if not any(new):
            break
        k += 1
        for i in range(n):
            if new[i]:
                rounds[i] = k
                D[i] = True
    pf = np.zeros(n) if pbar_float is None else np.asarray(pbar_float, dtype=float)
    pay = np.array([float(max(Q(0), min(p[i], pbar[i]))) if D[i] else (pf[i] if pbar_float is not None
                    else float(pbar[i])) if has[i] else 0.0 for i in range(n)])
    # the exact residual of the rounded answer, absolute and per institution
    res_abs = res_rel = Q(0)
    pq = [Q(float(v)) for v in pay]
    equity = np.array([float(eq[i] + inflow(pq, i) - pbar[i]) for i in range(n)])
    for i in range(n):
        if not has[i]:
            continue
        res = eq[i] + inflow(pq, i)
        t = pbar[i] if (not forced[i] and res >= pbar[i]) else max(Q(0), min(cap[i], a * eq[i] + b_ * inflow(pq, i)))
        d = abs(t - pq[i])
        res_abs = max(res_abs, d)
        res_rel = max(res_rel, d / pbar[i])
    return ExactSolution(payments=pay, defaulted=np.array(D, dtype=bool), default_round=rounds, iterations=k + 1,
                         residual=float(res_abs), converged=bool(res_rel <= RESIDUAL_RTOL), solver="fda-exact",
                         equity=equity)


def exact_or_refuse(net, why: str, alpha: float = 1.0, beta: float = 1.0, e: np.ndarray | None = None) -> Solution:
    """:func:`fda_rational` on ``net`` (with outside assets ``e``) when it has at most :data:`EXACT_LIMIT`
    institutions; else a :class:`~contagion.ContagionError` saying the answer is ill-conditioned (``why``)."""
    if net.n > EXACT_LIMIT:
        raise ContagionError(f"the clearing is ill-conditioned in floating point: {why}; a float answer could "
                             f"contradict the default rule, and exact arithmetic is used only up to {EXACT_LIMIT} "
                             f"institutions (this network has {net.n})")
    return fda_rational(net.liabilities, net.external_liabilities, net.external_assets if e is None else e,
                        forced=net.forced_default, recovery=net.forced_recovery, alpha=alpha, beta=beta,
                        pbar_float=net.total_obligations)


def undecided_groups(L: sp.csr_array, ext: np.ndarray, e: np.ndarray, pbar: np.ndarray, PiT: sp.csr_array,
                     p: np.ndarray, defaulted: np.ndarray, equity: np.ndarray, beta: float = 1.0,
                     forced: np.ndarray | None = None) -> list[tuple[np.ndarray, float]]:
    """The groups of institutions floats cannot decide at the clearing vector ``p``: ``[(members, leak), ...]``.

    ``[]`` in the usual case, after one pass over ``n`` when no institution owes (almost) everything inside
    the network. Three kinds (``leak`` as in :func:`tight_groups`):

    1. A nearly closed group (:func:`nearly_closed_groups`) among the institutions in default or at their
       threshold (equity within the tie band): its block's payments can be wrong in every digit.
    2. The same among the *defaulters* of a closed group of such institutions (one owing nothing outside
       itself): a member at its threshold closes the group and hides how little its defaulters pass on.
       With ``beta == 1`` such a closed group entirely in default is reported too (leak ``0.0``) unless a
       shock forces one of its members: the greatest clearing vector never has it (the payments of a closed
       group add up, so whatever it receives from outside and its members' outside assets stay with its
       solvent members, and without either its payments are a multiple of a positive vector whose largest
       multiple below the obligations has a member paying, and receiving, exactly what it owes -- solvent);
       floats get there only by deciding such a tie with the wrong sign.
    3. With ``beta == 1``, a closed group without outside money (:func:`zero_money_sinks`) that receives
       nothing from outside: every member paying in full ends *exactly* at its threshold, a tie decided from
       the defaulters' solved payments. Floats decide it only when no group among those defaulters leaks less
       than :data:`CLOSED_TIE_RTOL` (then their payments are accurate to well within the tie band); groups
       that do are reported.

    Examples
    --------
    No one has outside money; 1 and 2 owe each other almost everything (2 owes 3e-5 of its 3.00003 to 0,
    which owes 1e-5 to 1). The greatest clearing vector: 1 and 2 default and 0 pays in full, receiving
    exactly what it owes. Floats put 0 in default too (its receipts come out ~1e-12 short) and then pay
    nothing at all:

    >>> L = sp.csr_array(np.array([[0, 1e-5, 0], [0, 0, 5.0], [3e-5, 3.0, 0]]))
    >>> pbar = np.asarray(L.sum(axis=1)).ravel()
    >>> PiT = sp.csr_array((L / pbar[:, None]).T)
    >>> exact = fda_rational(L, np.zeros(3), np.zeros(3))
    >>> exact.defaulted.tolist(), fda_solve(PiT, pbar, np.zeros(3)).payments.tolist()
    ([False, True, True], [0.0, 0.0, 0.0])
    >>> undecided_groups(L, np.zeros(3), np.zeros(3), pbar, PiT, exact.payments, exact.defaulted, exact.equity)
    [(array([1, 2]), 9.9999...e-06)]
    """
    cand = (pbar > 0) & (ext <= NEARLY_CLOSED_RTOL * pbar)
    if not cand.any():
        return []
    forced = np.zeros(pbar.shape[0], dtype=bool) if forced is None else forced
    out: list[tuple[np.ndarray, float]] = []
    suspect = cand & (defaulted | tie_band_equity(equity, pbar))
    if np.count_nonzero(suspect) >= 2:
        for members, leak in tight_groups(L, ext, pbar, suspect, closed=True):
            if leak > 0.0:
                if leak < NEARLY_CLOSED_RTOL:
                    out.append((members, leak))
                continue
            inside = defaulted[members]
            if inside.all():
                if beta == 1.0 and not forced[members].any():
                    out.append((members, 0.0))
            elif inside.sum() >= 2:
                out += nearly_closed_groups(L, ext, pbar, _mask(pbar.shape[0], members[inside]))
    if not out and beta == 1.0 and np.count_nonzero(cand & defaulted) >= 2:
        for members in zero_money_sinks(L, ext, e):
            inside = defaulted[members]
            if inside.sum() < 2 or inside.all() or not np.all(
                    received_from_outside(PiT, p, members) <= RESIDUAL_RTOL * pbar[members]):
                continue
            out += [(m, leak) for m, leak in tight_groups(L, ext, pbar, _mask(pbar.shape[0], members[inside]),
                                                           CLOSED_TIE_RTOL) if 0.0 < leak < CLOSED_TIE_RTOL]
    return out


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[idx] = True
    return m


def exact_when_stuck(net, exc: ConvergenceError, alpha: float = 1.0, beta: float = 1.0,
                     e: np.ndarray | None = None) -> Solution:
    """The exact answer (:func:`fda_rational`) when a float block solve gave up (``exc``) on a network of at
    most :data:`EXACT_LIMIT` institutions with a closed group without outside money (``beta == 1``); else
    ``exc`` is raised again.

    There a block is singular only after floats decided a tie at such a group's threshold with the wrong
    sign (the greatest clearing vector never puts a whole closed group in default, :func:`undecided_groups`),
    and the monotone iteration on it can stall; the exact answer settles what floats could not.
    """
    e = net.external_assets if e is None else e
    if beta != 1.0 or net.n > EXACT_LIMIT or not zero_money_sinks(net.liabilities, net.external_liabilities, e):
        raise exc
    return exact_or_refuse(net, f"a default block floats could not settle ({exc})", alpha, beta, e)


def describe_groups(net, groups) -> str:
    """A short description of the first of :func:`undecided_groups` for an error message (names capped)."""
    members, leak = groups[0]
    names = [str(net.names[i]) for i in members[:6]]
    more = f" and {members.size - 6} more" if members.size > 6 else ""
    if leak == 0.0:
        return (f"{', '.join(names)}{more} owe each other everything they owe and are all found in default, which "
                f"the greatest clearing vector never has (a tie at a member's threshold decided by round-off)")
    return (f"{', '.join(names)}{more} owe each other all but {leak:.3g} of their obligations (a nearly closed "
            f"group at or past its default threshold)")


def float_check(net, sol: Solution, alpha: float = 1.0, beta: float = 1.0, e: np.ndarray | None = None,
                equity: np.ndarray | None = None) -> Solution:
    """``sol`` if floats could decide it; else the exact answer or a refusal (:func:`exact_or_refuse`).

    Floats cannot decide it when :func:`undecided_groups` finds a group: a nearly closed group among the
    institutions in default or at their threshold (equity within the tie band), or a closed group whose
    ties floats cannot settle. Costs nothing beyond a pass over ``n`` when no institution owes (almost)
    everything inside the network.
    """
    pbar = net.total_obligations
    e = net.external_assets if e is None else e
    ext = net.external_liabilities
    if not ((pbar > 0) & (ext <= NEARLY_CLOSED_RTOL * pbar)).any():
        return sol
    if equity is None:
        equity = e + net.PiT @ sol.payments - pbar
    groups = undecided_groups(net.liabilities, ext, e, pbar, net.PiT, sol.payments, sol.defaulted, equity, beta,
                              net.forced_default)
    if not groups:
        return sol
    return exact_or_refuse(net, describe_groups(net, groups), alpha, beta, e)
