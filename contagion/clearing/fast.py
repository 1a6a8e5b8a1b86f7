"""Fast exact clearing: the fictitious-default algorithm on the default set only.

:func:`fda_fast` computes what :func:`contagion.clearing.core.fda_solve`
computes -- the greatest clearing vector, the default set and the default
waves of the fictitious-default algorithm (FDA), with the same definitions,
tie rule and residual bound -- but touches only the obligations of defaulting
institutions, reads each of them once per solve, and solves each round's
linear system by a warm-started Krylov method with compiled, two-threaded
kernels (numba).

How
---
Write ``s = pbar - p`` (the *shortfall*; zero for solvent institutions) and
``a = PiT @ pbar`` (interbank assets). What institution ``i`` receives is
``a_i - (PiT s)_i``, and ``PiT s`` only involves the columns of defaulting
institutions. Round ``k`` of the FDA, with default set ``D``, is the linear
system on ``D`` only::

    s_i = pbar_i - alpha e_i - beta a_i + beta (PiT[D, D] s)_i    (i in D, linear)
    s_i = pbar_i - cap_i                                          (i forced and capped)

1. ``a`` and the round-0 defaults: one parallel pass over ``PiT``.
2. When institutions join ``D``, their rows of ``PiT[D, D]`` (what they are
   owed by members), what they owe older members and what they owe the still
   solvent are appended as a new layer (see :mod:`._kernels`); no matrix is
   rebuilt and each obligation of a defaulter is read once.
3. The round's system is solved from the previous round's solution (only the
   new members' equations are new): by sparse LU plus one refinement step
   while the default set has at most :data:`LU_LIMIT` members (the reference's
   :func:`~.core._lu_solve`), by BiCGSTAB to a true residual ``<= 1e-13 * pbar_i`` in every row
   beyond (each member on its own scale, as in the reference); forced institutions switch from
   capped to linear exactly as in the reference.
4. The solvency check of the next round reads only what members owe to
   solvent institutions, stored per layer by creditor (built once per layer
   by a bucketed transpose), so it gathers from the short vector of the
   default set and writes each creditor once per layer.

In :func:`policy_iteration` (what :func:`contagion.clear` uses for Eisenberg--Noe),
step 3 is policy iteration instead: rounds are solved loosely
(:data:`LOOSE_RTOL`), a member whose shortfall comes out at or below its
floor leaves the default set again, and once nobody joins or leaves, the
set is solved exactly and checked once more. Eisenberg--Noe's clearing
vector is unique when no closed group without outside money exists (Theorem
2; otherwise the reference runs), so the fixed point found is the greatest
clearing vector; the FDA's waves are then not known (``default_round`` is
``None``) and are computed by an exact run when asked for.
5. Payments, equity and the fixed-point residual in one parallel pass.

Exactness guards: round 0 is decided exactly when the caller passes ``short0``
(:func:`~.core.short_in_full`; :mod:`.solvers` does), ties are per institution
(:func:`~.core.tie_tolerance`, nothing absolute) and the answer is verified like
the reference's (residual of the clearing map ``<= 1e-12 * pbar_i`` for every
institution). Where a round's system can be
singular -- a closed group of institutions without outside money
(:func:`~.core.zero_money_closed`, Eisenberg--Noe with ``beta = 1``), where the FDA
must pick the greatest of many solutions -- and whenever a Krylov solve fails,
the reference ``fda_solve`` takes over.

Cost: waves are the FDA's rounds, so a solve costs about one Krylov solve
(~12 products with ``PiT[D, D]``) per round whose default set contains the
bulk of the defaulters. Extra memory: the layers (the obligations of the
defaulters, 12 bytes each), an int32 position and a bitmap of length ``n``
beyond the results (payments, equity, default flags), and about ten vectors of
the size of the default set.

Availability
------------
numba is an ordinary dependency; :mod:`.solvers` decides when this path runs
(``solver="compiled"``, or ``"auto"`` on large networks) and uses the reference
``fda_solve`` (a pure numpy/scipy path with the same results) otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._matrix import numba_available, threads, uidx
from ._compact import FastStats, _bicgstab, _direct, _KrylovFailure, _Layers
from .core import RESIDUAL_RTOL, TIE_RTOL, Solution, fda_solve, tie_tolerance, zero_money_closed

__all__ = ["fda_fast", "policy_iteration", "fda_waves", "FastStats", "FastSolution"]

#: Target of the BiCGSTAB recursion and acceptance bound of its true residual, relative to each member's
#: own pbar (the reference accepts its solves at 1e-13 of each row's pbar too).
LINEAR_RTOL = 1e-14
ACCEPT_RTOL = 1e-13
#: Loose solves of :func:`policy_iteration`, relative to each member's pbar: enough to settle the
#: default set of all but a few institutions near their threshold; the last round is solved exactly.
LOOSE_RTOL = 1e-6
#: Rounds of policy iteration in which institutions left the default set, after which the reference
#: takes over (loose solves can misplace an institution near its threshold for a round or two).
MAX_DOWN_ROUNDS = 20
#: Default blocks up to this size are solved by sparse LU plus one refinement step, as in the reference.
#: Kept small: the LU of a block with a few hundred densely linked members (the core of a core-periphery
#: network) fills in and cost 14 ms against 1-2 ms for BiCGSTAB (measured at 10^4-10^5 institutions).
LU_LIMIT = 100

@dataclass(frozen=True)
class FastSolution(Solution):
    """:class:`~.core.Solution` plus the equity computed on the way."""

    equity: np.ndarray | None = None
    stats: FastStats | None = None


def _reference(PiT, Pi, pbar, e, cap, forced, alpha, beta, stats, short0=None) -> FastSolution:
    sol = fda_solve(PiT, pbar, e, cap=cap, forced=forced, alpha=alpha, beta=beta, short0=short0)
    equity = e + PiT @ sol.payments - pbar
    return FastSolution(payments=sol.payments, defaulted=sol.defaulted, default_round=sol.default_round,
                        iterations=sol.iterations, residual=sol.residual, converged=sol.converged,
                        solver=sol.solver, equity=equity, stats=stats)


#: Below this many obligations the kernels run on one thread (starting threads would cost more).
#: Measured (clear + waves, 2 threads against 1): at 6*10^4 to 2*10^5 obligations two threads were never
#: slower and up to 23% faster, so every problem big enough for the compiled path uses them.
PARALLEL_MIN_NNZ = 50_000


class _threads_for:
    """Context: numba threads limited to one for small problems (restored on exit)."""

    def __init__(self, nnz: int) -> None:
        self.one = nnz < PARALLEL_MIN_NNZ

    def __enter__(self):
        if self.one:
            import numba

            self.saved = numba.get_num_threads()
            numba.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self.one:
            import numba

            numba.set_num_threads(self.saved)



# ----------------------------------------------------------------------------- the steps of a solve


class _Problem(NamedTuple):
    """A clearing problem as the compiled path reads it (contiguous arrays, unsigned indices, bounds)."""

    PiT: sp.csr_array
    Pi: sp.csr_array
    PiT_idx: np.ndarray
    Pi_idx: np.ndarray
    pbar: np.ndarray
    e: np.ndarray
    cap: np.ndarray
    forced: np.ndarray
    alpha: float
    beta: float
    tie_abs: float       # absolute part of the tie slack: 0 (ties are per institution)
    tol: float           # BiCGSTAB target, relative to each member's pbar
    accept: float        # acceptance bound of a round's true residual, relative to each member's pbar
    lu_limit: int        # default sets up to this size are solved by LU
    short0: np.ndarray | None   # round-0 defaults decided exactly (None: from the tie band)


def _problem(PiT, Pi, pbar, e, cap, forced, alpha, beta, lu_limit, short0=None) -> _Problem:
    n = pbar.shape[0]
    pbar = np.ascontiguousarray(pbar, dtype=np.float64)
    cap = pbar if cap is None else np.ascontiguousarray(cap, dtype=np.float64)
    forced = np.zeros(n, dtype=bool) if forced is None else np.ascontiguousarray(forced, dtype=bool)
    return _Problem(PiT, Pi, uidx(PiT.indices), uidx(Pi.indices), pbar, np.ascontiguousarray(e, dtype=np.float64),
                    cap, forced & (pbar > 0), float(alpha), float(beta), 0.0, LINEAR_RTOL, ACCEPT_RTOL,
                    int(lu_limit), None if short0 is None else np.asarray(short0, dtype=bool))


def _closed_without_money(prob: _Problem, ext_liab) -> bool:
    """Whether a round's system may be singular: ``beta == 1`` and a closed group without outside money
    exists (then the reference, which returns the greatest solution there, takes over)."""
    if prob.beta != 1.0:
        return False
    if ext_liab is None:
        pbar = prob.pbar
        ext_liab = np.maximum(pbar - np.asarray(prob.Pi.sum(axis=1)).ravel() * pbar, 0.0)
        ext_liab[ext_liab <= 1e-12 * pbar] = 0.0
    return zero_money_closed(prob.Pi, ext_liab, prob.e).size > 0


def _reference_of(prob: _Problem, stats: FastStats) -> FastSolution:
    return _reference(prob.PiT, prob.Pi, prob.pbar, prob.e, prob.cap, prob.forced, prob.alpha, prob.beta, stats,
                      prob.short0)


class _DefaultSet:
    """The default set ``D`` of a solve and its compact system, with the steps that change them.

    Compact vectors (indexed in the order members joined): ``x`` the shortfalls,
    ``b`` the right-hand side, ``cc`` the right-hand side of the linear equation,
    ``lo`` the floor (``pbar - cap``), ``tie_m`` the tie slack, ``iw`` 1 / the
    member's pbar (residuals are judged on each member's own scale), ``lin``
    linear (else capped at the floor), ``mx = M x`` for the current ``x``.
    """

    def __init__(self, prob: _Problem, received_in_full, stats: FastStats) -> None:
        """Step 1: interbank assets and round-0 defaults (``self.new``)."""
        from ._kernels import round0

        n = prob.pbar.shape[0]
        self.prob = prob
        self.stats = stats
        self.ab = np.empty(n)          # a = PiT @ pbar, later the equity
        self.defaulted = np.empty(n, dtype=bool)
        if received_in_full is None:
            received_in_full = prob.PiT @ prob.pbar
        round0(np.ascontiguousarray(received_in_full, dtype=np.float64), prob.pbar, prob.e, prob.forced, TIE_RTOL,
               prob.tie_abs, self.ab, self.defaulted)
        if prob.short0 is not None:      # round 0 decided exactly by the caller
            np.logical_or(prob.forced, prob.short0 & (prob.pbar > 0), out=self.defaulted)
        self.new = np.flatnonzero(self.defaulted).astype(np.int32)
        # fundamental defaults (short even when everyone pays in full, decided exactly) never leave the set
        self.fundamental = self.defaulted & ~prob.forced
        self.pos = np.full(n, -1, dtype=np.int32)
        self.bits = np.zeros((n + 63) // 64, dtype=np.uint64)
        self.acc = np.zeros(n)         # shortfall received by solvent institutions, later the payments
        self.layers = _Layers()
        self.members = np.empty(0, dtype=np.int32)
        self.x = np.empty(0)
        self.b = np.empty(0)
        self.cc = np.empty(0)
        self.tie_m = np.empty(0)
        self.iw = np.empty(0)
        self.must = np.empty(0, dtype=bool)
        self.lin = np.empty(0, dtype=bool)
        self.lo = np.empty(0)
        self.mx = np.empty(0)

    def join(self) -> None:
        """Step 2: the institutions in ``self.new`` join; their layer and compact equations are appended,
        and ``mx`` is extended (only the new layer is multiplied)."""
        from . import _kernels as K
        from ._layers import boundary_by_creditor, build_out_blocks, build_r_block

        prob, new, layers = self.prob, self.new, self.layers
        start = self.members.size
        self.pos[new] = np.arange(start, start + new.size, dtype=np.int32)
        K.set_bits(self.bits, new)
        ptr, col, val = build_r_block(prob.PiT.indptr, prob.PiT_idx, prob.PiT.data, new, self.pos, self.bits)
        layers.r.append((ptr, col, val, start))
        cp, cr, cv, bp, bn, bv = build_out_blocks(prob.Pi.indptr, prob.Pi_idx, prob.Pi.data, new, self.pos, self.bits)
        if cv.size:
            layers.c.append(K.gather_form(cp, cr, cv, start, start))
        layers.b.append((*boundary_by_creditor(bp, bn, bv, prob.pbar.shape[0], threads()), start))
        # compact vectors: right-hand side, capped/linear, warm start
        pbar, beta = prob.pbar, prob.beta
        f_new = prob.forced[new]
        c_new = pbar[new] - prob.alpha * prob.e[new] - beta * self.ab[new]
        lo_new = pbar[new] - prob.cap[new]
        self.members = np.concatenate([self.members, new])
        self.lin = np.concatenate([self.lin, ~f_new])
        self.lo = np.concatenate([self.lo, lo_new])
        self.cc = np.concatenate([self.cc, c_new])
        self.tie_m = np.concatenate([self.tie_m, tie_tolerance(pbar[new])])
        self.iw = np.concatenate([self.iw, 1.0 / pbar[new]])
        self.must = np.concatenate([self.must, self.fundamental[new]])
        self.b = np.concatenate([self.b, np.where(f_new, lo_new, c_new)])
        self.x = np.concatenate([self.x, np.where(f_new, lo_new, np.minimum(c_new + beta * self.acc[new], pbar[new]))])
        # M x for the warm start: the old rows' product is known, only the new layer is multiplied
        y0 = np.empty(self.x.size)
        y0[:start] = self.mx
        K.spmv_r(ptr, col, val, start, self.x, y0)
        if cv.size:
            rows_c, ptr_c, col_c, val_c = layers.c[-1]
            K.spmv_c(rows_c, ptr_c, col_c, val_c, self.x, y0)
        self.mx = y0

    def solve(self, exact: bool) -> None:
        """Step 3: solve the round's system for ``x`` (LU for small sets, BiCGSTAB exact or loose)."""
        from . import _kernels as K

        prob = self.prob
        if self.members.size <= prob.lu_limit:
            self.mx = _direct(self.layers, self.b, self.x, self.lin, prob.beta, prob.accept, self.stats, self.iw)
        elif exact:
            self.mx = _bicgstab(K, self.layers, self.b, self.x, self.lin, prob.beta, prob.tol, prob.accept,
                                self.stats, self.mx, self.iw)
        else:
            self.mx = _bicgstab(K, self.layers, self.b, self.x, self.lin, prob.beta, LOOSE_RTOL, LOOSE_RTOL,
                                self.stats, self.mx, self.iw)
        self.stats.solves += 1

    def switch_forced(self) -> bool:
        """FDA: forced members whose resources exceed their floor switch from capped to linear (as in the
        reference); returns whether any did (the round is then solved again)."""
        capped = ~self.lin
        if not capped.any():
            return False
        cm = np.flatnonzero(capped)
        switch = self.cc[cm] + self.prob.beta * self.mx[cm] > self.lo[cm] + self.tie_m[cm]
        if not switch.any():
            return False
        sw = cm[switch]
        self.lin[sw] = True
        self.b[sw] = self.cc[sw]
        return True

    def update_policy(self) -> tuple[bool, bool]:
        """Policy iteration: linear where what is short exceeds the floor, both ways. Returns ``(changed,
        anyone left)``; members that leave restart at their floor (and ``mx`` is recomputed)."""
        from . import _kernels as K

        want = (self.cc + self.prob.beta * self.mx > self.lo + self.tie_m) | self.must
        flip = want != self.lin
        if not flip.any():
            return False, False
        self.lin = want
        self.b = np.where(want, self.cc, self.lo)
        down = flip & ~want
        if not down.any():
            return True, False
        self.x[down] = self.lo[down]
        self.mx = np.empty(self.x.size)
        self.layers.matvec(K, self.x, self.mx)
        self.stats.matvecs += 1
        return True, True

    def check(self) -> None:
        """Step 4: solvency check of the others; who is now short goes to ``self.new``."""
        from ._kernels import mark_short

        prob = self.prob
        self.layers.boundary(self.x, self.bits, self.acc)
        if mark_short(self.pos, prob.pbar, prob.e, self.ab, self.acc, TIE_RTOL, prob.tie_abs, self.defaulted):
            self.new = np.flatnonzero(self.defaulted).astype(np.int32)
        else:
            self.new = self.new[:0]

    def answer(self, rounds: int, default_round, solver: str) -> FastSolution:
        """Step 5: payments, equity and the fixed-point residual in one pass."""
        from ._kernels import assemble

        prob = self.prob
        resid, rel = assemble(self.pos, self.x, self.mx, prob.pbar, prob.e, prob.cap, prob.forced, prob.alpha,
                              prob.beta, TIE_RTOL, prob.tie_abs, self.acc, self.ab)
        self.layers.record(self.stats, max(rounds, 1), int(self.members.size))
        converged = rel <= RESIDUAL_RTOL
        np.greater_equal(self.pos, 0, out=self.defaulted)
        return FastSolution(payments=self.acc, defaulted=self.defaulted, default_round=default_round,
                            iterations=max(rounds, 1), residual=float(resid), converged=bool(converged),
                            solver=solver, equity=self.ab, stats=self.stats)


def _fda_rounds(ds: _DefaultSet, rounds: np.ndarray, final: np.ndarray | None = None) -> tuple[int, bool]:
    """The FDA on ``ds``: each round's new defaulters join, the round is solved exactly (forced members
    switching from capped to linear as in the reference), the others are checked. Fills ``rounds`` (the
    waves). With ``final`` (a default set), stops as soon as the default set equals it. Returns ``(number
    of rounds, whether it stopped at final)``."""
    outside = 0                               # members not in final
    n_final = int(np.count_nonzero(final)) if final is not None else 0
    k = 0
    while True:
        new = ds.new
        if new.size:
            rounds[new] = k
            if final is not None:
                outside += int(np.count_nonzero(~final[new]))
                if outside == 0 and ds.members.size + new.size == n_final:
                    ds.layers.record(ds.stats, k + 1, n_final)
                    return k + 1, True        # the final set: this round could only confirm it
            ds.join()
        while True:
            ds.solve(exact=True)
            if not ds.switch_forced():
                break
        ds.check()
        k += 1
        if ds.new.size == 0:
            return k, False


def _policy_rounds(ds: _DefaultSet) -> int:
    """Policy iteration (Howard) on ``ds`` with loose solves first: members may also leave the default set;
    once nobody joins or leaves, the set is solved exactly and checked once more. Returns the rounds."""
    exact = False
    downs = 0
    k = 0
    while True:
        if ds.new.size:
            ds.join()
        ds.solve(exact)
        changed, left = ds.update_policy()
        downs += left
        ds.check()
        k += 1
        if ds.new.size == 0 and not changed:
            if exact or ds.members.size <= ds.prob.lu_limit:
                return k          # (the direct solves of small blocks are exact)
            exact = True          # the policy has settled at loose precision: solve exactly and check again
        elif downs > MAX_DOWN_ROUNDS:
            raise _KrylovFailure(f"policy iteration did not settle ({downs} rounds with exits)")


def _check_numba() -> None:
    if not numba_available():
        raise RuntimeError("numba is not available")


def fda_fast(PiT: sp.csr_array, Pi: sp.csr_array, pbar: np.ndarray, e: np.ndarray, *,
             cap: np.ndarray | None = None, forced: np.ndarray | None = None, alpha: float = 1.0,
             beta: float = 1.0, ext_liab: np.ndarray | None = None, stats: FastStats | None = None,
             received_in_full: np.ndarray | None = None, lu_limit: int = LU_LIMIT,
             short0: np.ndarray | None = None) -> FastSolution:
    """Exact FDA clearing with the compiled kernels (same answer and waves as :func:`~.core.fda_solve`).

    Parameters
    ----------
    PiT, Pi : csr_array (n, n)
        ``Pi.T`` and ``Pi`` (relative liabilities), both CSR.
    pbar, e, cap, forced, alpha, beta
        As in :func:`~.core.fda_solve`.
    ext_liab : ndarray, optional
        External liabilities; with ``beta == 1`` a closed group without
        outside money (:func:`~.core.zero_money_closed`) can make a round's system
        singular, and then the reference ``fda_solve`` (which returns the
        greatest solution there) is used. Default: read from ``Pi``'s row sums.
    stats : FastStats, optional
        Filled with work counters.
    received_in_full : ndarray, optional
        ``PiT @ pbar`` when already known (the network computes it with
        ``PiT``); saves the one pass over all obligations.
    lu_limit : int
        Default sets up to this size are solved by sparse LU, larger ones by
        BiCGSTAB (default :data:`LU_LIMIT`).
    short0 : ndarray of bool, optional
        Round-0 defaults decided exactly (:func:`~.core.short_in_full`); without
        it round 0 uses ``received_in_full`` and the tie band.

    Returns
    -------
    FastSolution
        With ``equity`` (``e + PiT @ p - pbar``) and ``stats``.

    Examples
    --------
    The three-bank example of siebenbrunner/NetworkValuation: bank 0 is short
    from the start (round 0), bank 1 once bank 0 pays what it has (round 1).

    >>> import contagion
    >>> from contagion.clearing.fast import fda_fast, FastStats
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10])
    >>> stats = FastStats()
    >>> sol = fda_fast(net.PiT, net.relative_liabilities, net.total_obligations,
    ...                net.external_assets, stats=stats)
    >>> (sol.payments * 11).round(9).tolist(), sol.default_round.tolist()
    ([270.0, 290.0, 110.0], [0, 1, -1])
    >>> sol.solver, stats.rounds, stats.default_set
    ('fda-fast', 2, 2)
    """
    _check_numba()
    stats = stats if stats is not None else FastStats()
    prob = _problem(PiT, Pi, pbar, e, cap, forced, alpha, beta, lu_limit, short0)
    if _closed_without_money(prob, ext_liab):
        stats.fallback = "closed group without outside money"
        return _reference_of(prob, stats)
    with _threads_for(int(PiT.nnz)):
        try:
            ds = _DefaultSet(prob, received_in_full, stats)
            rounds = np.full(prob.pbar.shape[0], -1, dtype=np.int64)
            k, _ = _fda_rounds(ds, rounds)
        except _KrylovFailure as exc:
            stats.fallback = str(exc)
            return _reference_of(prob, stats)
        return ds.answer(k, rounds, "fda-fast")


def policy_iteration(PiT: sp.csr_array, Pi: sp.csr_array, pbar: np.ndarray, e: np.ndarray, *,
                     cap: np.ndarray | None = None, forced: np.ndarray | None = None,
                     ext_liab: np.ndarray | None = None, stats: FastStats | None = None,
                     received_in_full: np.ndarray | None = None, lu_limit: int = LU_LIMIT,
                     short0: np.ndarray | None = None) -> FastSolution:
    """Eisenberg--Noe clearing by policy iteration with the compiled kernels (``solver == "howard-fast"``).

    Rounds are solved loosely (:data:`LOOSE_RTOL`) and institutions may also
    leave the default set, until the set settles; then it is solved exactly
    and checked again. Same clearing vector and default set as
    :func:`fda_fast` (the vector is unique here: with a closed group without
    outside money the reference runs), about half the work; the FDA's waves
    are not computed (``default_round`` is ``None``; :func:`fda_waves` gives
    them). Parameters as in :func:`fda_fast` (``alpha = beta = 1``).

    >>> import contagion
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10])
    >>> sol = policy_iteration(net.PiT, net.relative_liabilities, net.total_obligations, net.external_assets)
    >>> (sol.payments * 11).round(9).tolist(), sol.defaulted.tolist(), sol.solver
    ([270.0, 290.0, 110.0], [True, True, False], 'howard-fast')
    """
    _check_numba()
    stats = stats if stats is not None else FastStats()
    prob = _problem(PiT, Pi, pbar, e, cap, forced, 1.0, 1.0, lu_limit, short0)
    if _closed_without_money(prob, ext_liab):
        stats.fallback = "closed group without outside money"
        return _reference_of(prob, stats)
    with _threads_for(int(PiT.nnz)):
        try:
            ds = _DefaultSet(prob, received_in_full, stats)
            k = _policy_rounds(ds)
        except _KrylovFailure as exc:
            stats.fallback = str(exc)
            return _reference_of(prob, stats)
        sol = ds.answer(k, None, "howard-fast")
    # members whose policy ended "solvent" (non-forced, floor 0) pay in full
    sol.defaulted[ds.members[~ds.lin & ~prob.forced[ds.members]]] = False
    return sol


def fda_waves(PiT: sp.csr_array, Pi: sp.csr_array, pbar: np.ndarray, e: np.ndarray, final_defaulted: np.ndarray, *,
              cap: np.ndarray | None = None, forced: np.ndarray | None = None, ext_liab: np.ndarray | None = None,
              received_in_full: np.ndarray | None = None, stats: FastStats | None = None,
              lu_limit: int = LU_LIMIT, short0: np.ndarray | None = None) -> np.ndarray:
    """The FDA's default waves (Eisenberg--Noe) when the final default set is already known.

    Same waves as ``fda_fast(...).default_round``, but the FDA stops as soon as its
    default set equals ``final_defaulted`` (e.g. the set policy iteration found): that
    round's solve and solvency check, which could only confirm the set, are skipped.
    ``final_defaulted`` must be the FDA's final default set (the clearing vector of
    Eisenberg--Noe is unique when the FDA runs here, so any exact solver's set is it);
    if the FDA never reaches it, the FDA runs to the end as usual.

    >>> import contagion
    >>> from contagion.clearing.fast import fda_waves
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10])
    >>> fda_waves(net.PiT, net.relative_liabilities, net.total_obligations, net.external_assets,
    ...           final_defaulted=[True, True, False]).tolist()
    [0, 1, -1]
    """
    _check_numba()
    stats = stats if stats is not None else FastStats()
    prob = _problem(PiT, Pi, pbar, e, cap, forced, 1.0, 1.0, lu_limit, short0)
    if _closed_without_money(prob, ext_liab):
        stats.fallback = "closed group without outside money"
        return _reference_of(prob, stats).default_round
    final = np.ascontiguousarray(final_defaulted, dtype=bool)
    with _threads_for(int(PiT.nnz)):
        try:
            ds = _DefaultSet(prob, received_in_full, stats)
            rounds = np.full(prob.pbar.shape[0], -1, dtype=np.int64)
            k, stopped = _fda_rounds(ds, rounds, final)
        except _KrylovFailure as exc:
            stats.fallback = str(exc)
            return _reference_of(prob, stats).default_round
        if not stopped:
            ds.answer(k, rounds, "fda-fast")     # fills stats as a full run does
    return rounds
