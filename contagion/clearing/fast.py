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
   :func:`~.core._lu_solve`), by BiCGSTAB to a true residual ``<= 1e-13 * max(pbar)`` beyond
   (the reference's acceptance bound too); forced institutions switch from
   capped to linear exactly as in the reference.
4. The solvency check of the next round reads only what members owe to
   solvent institutions, stored per layer by creditor (built once per layer
   by a bucketed transpose), so it gathers from the short vector of the
   default set and writes each creditor once per layer.

With ``waves=False`` (what :func:`contagion.clear` uses for Eisenberg--Noe),
step 3 is policy iteration instead: rounds are solved loosely
(:data:`LOOSE_RTOL`), a member whose shortfall comes out at or below its
floor leaves the default set again, and once nobody joins or leaves, the
set is solved exactly and checked once more. Eisenberg--Noe's clearing
vector is unique when no closed group without outside money exists (Theorem
2; otherwise the reference runs), so the fixed point found is the greatest
clearing vector; the FDA's waves are then not known (``default_round`` is
``None``) and are computed by an exact run when asked for.
5. Payments, equity and the fixed-point residual in one parallel pass.

Exactness guards: the answer is verified like the reference's (residual of
the clearing map ``<= 1e-12 * max(pbar)``). Where a round's system can be
singular -- a closed group of institutions without outside money
(:func:`zero_money_closed`, Eisenberg--Noe with ``beta = 1``), where the FDA
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
numba is an ordinary dependency; when it cannot be imported (or
``CONTAGION_NO_NUMBA`` is set), or the network is small (compilation and
thread start-up would cost more than they save), :mod:`.methods` uses the
reference ``fda_solve``, a pure numpy/scipy path with the same results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._matrix import numba_available, threads, uidx
from .core import RESIDUAL_RTOL, TIE_RTOL, Solution, fda_solve

__all__ = ["fda_fast", "fda_waves", "choose_path", "unique_flag", "FAST_MIN_EDGES", "FastStats"]

#: Networks with fewer obligations than this are cleared by the reference path (unless forced).
FAST_MIN_EDGES = 50_000
#: Target of the BiCGSTAB recursion and acceptance bound of its true residual, relative to max(pbar)
#: (the reference accepts its Krylov solves at 1e-13 too).
LINEAR_RTOL = 1e-14
ACCEPT_RTOL = 1e-13
#: Loose solves of policy iteration (``waves=False``), relative to max(pbar): enough to settle the
#: default set of all but a few institutions near their threshold; the last round is solved exactly.
LOOSE_RTOL = 1e-6
#: Rounds of policy iteration in which institutions left the default set, after which the reference
#: takes over (loose solves can misplace an institution near its threshold for a round or two).
MAX_DOWN_ROUNDS = 20
#: Default blocks up to this size are solved by sparse LU plus one refinement step, as in the reference.
#: Kept small: the LU of a block with a few hundred densely linked members (the core of a core-periphery
#: network) fills in and cost 14 ms against 1-2 ms for BiCGSTAB (measured at 10^4-10^5 institutions).
LU_LIMIT = 100

@dataclass
class FastStats:
    """Work counters of one :func:`fda_fast` call (for benchmarks).

    ``rounds`` FDA rounds, ``matvecs`` products with the compact matrix,
    ``solves`` linear solves (more than rounds when forced institutions switch
    from capped to linear), ``default_set`` its final size, ``block_nnz`` and
    ``boundary_nnz`` the obligations stored in the layers (between
    defaulters; owed by defaulters to institutions solvent when they
    defaulted), ``fallback`` why the reference took over (empty if it did not).
    """

    rounds: int = 0
    matvecs: int = 0
    solves: int = 0
    default_set: int = 0
    block_nnz: int = 0
    boundary_nnz: int = 0
    fallback: str = ""


@dataclass(frozen=True)
class FastSolution(Solution):
    """:class:`~.core.Solution` plus the equity computed on the way."""

    equity: np.ndarray | None = None
    stats: FastStats | None = None


class _Layers:
    """The compact matrix ``PiT[D, D]`` as per-round layers, and the boundary blocks."""

    def __init__(self) -> None:
        # R: (ptr, col, val, first row); C: (rows, ptr, col, val); B: (creditors, ptr, col, val, first column)
        self.r: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
        self.c: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.b: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]] = []

    def matvec(self, K, x: np.ndarray, y: np.ndarray) -> None:
        """``y = M x`` (raw product with the compact matrix)."""
        for ptr, col, val, row0 in self.r:
            K.spmv_r(ptr, col, val, row0, x, y)
        for rows, ptr, col, val in self.c:
            if val.size:
                K.spmv_c(rows, ptr, col, val, x, y)

    def boundary(self, x: np.ndarray, bits: np.ndarray, acc: np.ndarray) -> None:
        """``acc[i] = (PiT s)_i`` for every institution ``i`` outside the default set."""
        from ._layers import boundary_pull

        acc[:] = 0.0
        for rows, ptr, col, val, col0 in self.b:
            if val.size:
                boundary_pull(rows, ptr, col, val, col0, x, bits, acc)

    def to_csr(self, m: int) -> sp.csr_array:
        """The compact matrix as one scipy CSR (for direct solves of small blocks)."""
        rows, cols, vals = [], [], []
        for ptr, col, val, row0 in self.r:
            rows.append(row0 + np.repeat(np.arange(ptr.size - 1), np.diff(ptr)))
            cols.append(col)
            vals.append(val)
        for crow, ptr, col, val in self.c:
            rows.append(np.repeat(crow.astype(np.int64), np.diff(ptr)))
            cols.append(col)
            vals.append(val)
        if not rows:
            return sp.csr_array((m, m))
        return sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m, m))

    @property
    def nnz(self) -> int:
        return sum(int(v.size) for _, _, v, _ in self.r) + sum(int(v.size) for _, _, _, v in self.c)

    @property
    def boundary_nnz(self) -> int:
        return sum(int(v.size) for _, _, _, v, _ in self.b)

    def record(self, stats: FastStats, rounds: int, default_set: int) -> None:
        """Fill ``stats`` with the rounds, the default set's size and the layers' sizes."""
        stats.rounds = rounds
        stats.default_set = default_set
        stats.block_nnz = self.nnz
        stats.boundary_nnz = self.boundary_nnz


class _KrylovFailure(Exception):
    pass


def _bicgstab(K, layers: _Layers, b, x, lin, beta, tol, accept, stats: FastStats, max_iter: int = 500,
              y0: np.ndarray | None = None):
    """Solve the round's system in place in ``x``; returns ``M x`` of the answer.

    ``y0``, when given, is ``M x`` for the starting ``x`` (saves a product).
    """
    m = x.size
    if y0 is None:
        y = np.empty(m)
        layers.matvec(K, x, y)
        stats.matvecs += 1
    else:
        y = y0
    r = np.empty(m)
    rn = K.residual_from(b, y, lin, beta, x, r)
    if rn <= accept:
        return y  # residual_from leaves y = M x
    rhat = r.copy()
    p = np.zeros(m)
    v = np.zeros(m)
    t = np.empty(m)
    rho_old = alpha = omega = 1.0
    rho = K.dot(rhat, r)
    restarts = 0
    it = 0
    while it < max_iter:
        it += 1
        if rho == 0.0 or omega == 0.0:
            raise _KrylovFailure("breakdown")
        if it == 1:
            p[:] = r
        else:
            K.update_p(p, r, v, (rho / rho_old) * (alpha / omega), omega)
        layers.matvec(K, p, v)
        rv = K.finish_dot(p, v, lin, beta, rhat)
        stats.matvecs += 1
        if rv == 0.0:
            raise _KrylovFailure("breakdown")
        alpha = rho / rv
        sn = K.axpy_norm(r, alpha, v)
        if sn <= tol:
            x += alpha * p
            done = True
        else:
            layers.matvec(K, r, t)
            ts, tt = K.finish_dot2(r, t, lin, beta)
            stats.matvecs += 1
            omega = ts / tt if tt > 0.0 else 0.0
            rho_old = rho
            rn, rho = K.update_xr(x, p, r, t, alpha, omega, rhat)
            done = rn <= tol
        if done:
            # verify with the true residual; restart from it if the recursion drifted
            layers.matvec(K, x, y)
            stats.matvecs += 1
            true = K.residual_from(b, y, lin, beta, x, r)
            if true <= accept:
                return y
            restarts += 1
            if restarts > 5:
                raise _KrylovFailure(f"stagnated at residual {true:.3g}")
            rhat[:] = r
            rho = K.dot(rhat, r)
            rho_old = alpha = omega = 1.0
            it = 0
            max_iter -= 1
    raise _KrylovFailure("no convergence")


def _direct(layers: _Layers, b, x, lin, beta, accept, stats: FastStats):
    """Sparse LU of the (small) round system and a refinement step (the reference's
    :func:`~.core._lu_solve`), checked against ``accept``; returns ``M x``."""
    from .core import _lu_solve

    m = x.size
    M = layers.to_csr(m)
    Mlin = sp.csr_array(M.multiply(lin[:, None])) if not lin.all() else M
    sol = _lu_solve(sp.identity(m, format="csr") - beta * Mlin, b, lambda v: beta * (Mlin @ v), accept)
    if sol is None:
        raise _KrylovFailure("singular block")
    x[:] = sol
    y = M @ x
    stats.matvecs += 2
    r = b - np.where(lin, x - beta * y, x)
    if np.max(np.abs(r), initial=0.0) > accept:
        raise _KrylovFailure("ill-conditioned block")
    return y


def _reference(PiT, Pi, pbar, e, cap, forced, alpha, beta, stats) -> FastSolution:
    sol = fda_solve(PiT, pbar, e, cap=cap, forced=forced, alpha=alpha, beta=beta)
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


def fda_fast(PiT: sp.csr_array, Pi: sp.csr_array, pbar: np.ndarray, e: np.ndarray, *,
             cap: np.ndarray | None = None, forced: np.ndarray | None = None, alpha: float = 1.0,
             beta: float = 1.0, ext_liab: np.ndarray | None = None, stats: FastStats | None = None,
             waves: bool = True, received_in_full: np.ndarray | None = None) -> FastSolution:
    """Exact FDA clearing with the compiled kernels (same answer as :func:`~.core.fda_solve`).

    Parameters
    ----------
    PiT, Pi : csr_array (n, n)
        ``Pi.T`` and ``Pi`` (relative liabilities), both CSR.
    pbar, e, cap, forced, alpha, beta
        As in :func:`~.core.fda_solve`.
    ext_liab : ndarray, optional
        External liabilities; with ``beta == 1`` a closed group without
        outside money (:func:`zero_money_closed`) can make a round's system
        singular, and then the reference ``fda_solve`` (which returns the
        greatest solution there) is used. Default: read from ``Pi``'s row sums.
    stats : FastStats, optional
        Filled with work counters.
    waves : bool, default True
        Compute the FDA's default waves (every round solved exactly). With
        ``False``, Eisenberg--Noe (``alpha == beta == 1``) is solved by policy
        iteration instead (``solver == "howard-fast"``): rounds are solved
        loosely and institutions may also leave the default set, until the
        set settles; then it is solved exactly and checked again. Same
        clearing vector and default set (the vector is unique here), about
        half the work; ``default_round`` is then ``None``.
    received_in_full : ndarray, optional
        ``PiT @ pbar`` when already known (the network computes it with
        ``PiT``); saves the one pass over all obligations.

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
    if not numba_available():
        raise RuntimeError("numba is not available")
    with _threads_for(int(PiT.nnz)):
        return _fda_fast(PiT, Pi, pbar, e, cap, forced, alpha, beta, ext_liab, stats, waves, received_in_full)


def fda_waves(PiT: sp.csr_array, Pi: sp.csr_array, pbar: np.ndarray, e: np.ndarray, final_defaulted: np.ndarray, *,
              cap: np.ndarray | None = None, forced: np.ndarray | None = None, ext_liab: np.ndarray | None = None,
              received_in_full: np.ndarray | None = None, stats: FastStats | None = None) -> np.ndarray:
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
    if not numba_available():
        raise RuntimeError("numba is not available")
    stop_at = np.ascontiguousarray(final_defaulted, dtype=bool)
    with _threads_for(int(PiT.nnz)):
        out = _fda_fast(PiT, Pi, pbar, e, cap, forced, 1.0, 1.0, ext_liab, stats, True, received_in_full, stop_at)
    return out if isinstance(out, np.ndarray) else out.default_round


def _fda_fast(PiT, Pi, pbar, e, cap, forced, alpha, beta, ext_liab, stats, waves=True,
              received_in_full=None, stop_at=None):
    """The work of :func:`fda_fast`; with ``stop_at`` (:func:`fda_waves`) it returns the waves alone, as an
    array, once the default set equals ``stop_at``."""
    from . import _kernels as K

    stats = stats if stats is not None else FastStats()
    n = pbar.shape[0]
    pbar = np.ascontiguousarray(pbar, dtype=np.float64)
    e = np.ascontiguousarray(e, dtype=np.float64)
    cap = pbar if cap is None else np.ascontiguousarray(cap, dtype=np.float64)
    forced = np.zeros(n, dtype=bool) if forced is None else np.ascontiguousarray(forced, dtype=bool)
    forced = forced & (pbar > 0)
    scale = float(pbar.max()) if n else 0.0
    tie_abs = 1e-3 * RESIDUAL_RTOL * scale
    tol = LINEAR_RTOL * scale
    accept = ACCEPT_RTOL * scale

    if beta == 1.0:
        if ext_liab is None:
            ext_liab = np.maximum(pbar - np.asarray(Pi.sum(axis=1)).ravel() * pbar, 0.0)
            ext_liab[ext_liab <= 1e-12 * pbar] = 0.0
        if zero_money_closed(Pi, ext_liab, e).size:
            stats.fallback = "closed group without outside money"
            return _reference(PiT, Pi, pbar, e, cap, forced, alpha, beta, stats)

    howard = not waves and alpha == 1.0 and beta == 1.0
    from ._layers import boundary_by_creditor, build_out_blocks, build_r_block

    # 1. interbank assets and round-0 defaults
    ab = np.empty(n)          # a = PiT @ pbar, later the equity
    defaulted = np.empty(n, dtype=bool)
    PiT_idx = uidx(PiT.indices)
    Pi_idx = uidx(Pi.indices)
    if received_in_full is None:
        received_in_full = PiT @ pbar
    K.round0(np.ascontiguousarray(received_in_full, dtype=np.float64), pbar, e, forced, TIE_RTOL, tie_abs, ab,
             defaulted)
    new = np.flatnonzero(defaulted).astype(np.int32)
    pos = np.full(n, -1, dtype=np.int32)
    bits = np.zeros((n + 63) // 64, dtype=np.uint64)
    rounds = None if howard else np.full(n, -1, dtype=np.int64)   # the FDA's waves
    acc = np.zeros(n)          # shortfall received by solvent institutions, later the payments
    layers = _Layers()

    members = np.empty(0, dtype=np.int32)
    x = np.empty(0)
    b = np.empty(0)
    cc = np.empty(0)           # right-hand side of the linear equation of each member
    tie_m = np.empty(0)        # its tie tolerance
    lin = np.empty(0, dtype=bool)
    lo = np.empty(0)
    mx = np.empty(0)
    y0: np.ndarray | None = mx
    k = 0
    # Policy iteration (Howard) with loose solves first: only for Eisenberg--Noe, whose clearing
    # vector is unique here (no closed group without outside money), so that any fixed point found
    # is the greatest one. Otherwise (and when waves are wanted) every round is solved exactly (FDA).
    exact = not howard
    downs = 0
    outside = 0               # members not in stop_at
    n_final = int(np.count_nonzero(stop_at)) if stop_at is not None else -1
    loose_tol = LOOSE_RTOL * scale
    try:
        while True:
            if new.size:
                start = members.size
                pos[new] = np.arange(start, start + new.size, dtype=np.int32)
                K.set_bits(bits, new)
                if rounds is not None:
                    rounds[new] = k
                if stop_at is not None:
                    outside += int(np.count_nonzero(~stop_at[new]))
                    if outside == 0 and start + new.size == n_final:
                        layers.record(stats, k + 1, n_final)
                        return rounds     # the final set: this round could only confirm it
                # 2. new layer
                ptr, col, val = build_r_block(PiT.indptr, PiT_idx, PiT.data, new, pos, bits)
                layers.r.append((ptr, col, val, start))
                cp, cr, cv, bp, bn, bv = build_out_blocks(Pi.indptr, Pi_idx, Pi.data, new, pos, bits)
                if cv.size:
                    layers.c.append(K.gather_form(cp, cr, cv, start, start))
                layers.b.append((*boundary_by_creditor(bp, bn, bv, n, threads()), start))
                # compact vectors: right-hand side, capped/linear, warm start
                f_new = forced[new]
                c_new = pbar[new] - alpha * e[new] - beta * ab[new]
                lo_new = pbar[new] - cap[new]
                members = np.concatenate([members, new])
                lin = np.concatenate([lin, ~f_new])
                lo = np.concatenate([lo, lo_new])
                cc = np.concatenate([cc, c_new])
                tie_m = np.concatenate([tie_m, TIE_RTOL * pbar[new] + tie_abs])
                b = np.concatenate([b, np.where(f_new, lo_new, c_new)])
                x = np.concatenate([x, np.where(f_new, lo_new, np.minimum(c_new + beta * acc[new], pbar[new]))])
                # M x for the warm start: the old rows' product is known, only the new layer is multiplied
                y0 = np.empty(x.size)
                y0[:start] = mx
                K.spmv_r(ptr, col, val, start, x, y0)
                if cv.size:
                    rows_c, ptr_c, col_c, val_c = layers.c[-1]
                    K.spmv_c(rows_c, ptr_c, col_c, val_c, x, y0)
            # 3. solve the round
            changed = False
            while True:
                if members.size <= LU_LIMIT:
                    mx = _direct(layers, b, x, lin, beta, accept, stats)
                elif exact:
                    mx = _bicgstab(K, layers, b, x, lin, beta, tol, accept, stats, y0=y0)
                else:
                    mx = _bicgstab(K, layers, b, x, lin, beta, loose_tol, loose_tol, stats, y0=y0)
                y0 = mx
                stats.solves += 1
                if howard:
                    # policy update, both ways: linear where what is short exceeds the floor
                    want = cc + beta * mx > lo + tie_m
                    flip = want != lin
                    if flip.any():
                        changed = True
                        lin = want
                        b = np.where(lin, cc, lo)
                        down = flip & ~lin
                        if down.any():
                            x[down] = lo[down]
                            y0 = None
                            downs += 1
                    break
                # FDA: forced institutions switch from capped to linear (and the round is solved again)
                capped = ~lin
                if not capped.any():
                    break
                cm = np.flatnonzero(capped)
                switch = cc[cm] + beta * mx[cm] > lo[cm] + tie_m[cm]
                if not switch.any():
                    break
                sw = cm[switch]
                lin[sw] = True
                b[sw] = cc[sw]
            if y0 is None:
                mx = np.empty(x.size)
                layers.matvec(K, x, mx)
                stats.matvecs += 1
                y0 = mx
            # 4. solvency check of the others
            layers.boundary(x, bits, acc)
            if K.mark_short(pos, pbar, e, ab, acc, TIE_RTOL, tie_abs, defaulted):
                new = np.flatnonzero(defaulted).astype(np.int32)
            else:
                new = new[:0]
            k += 1
            if new.size == 0 and not changed:
                if exact or members.size <= LU_LIMIT:
                    break         # (the direct solves of small blocks are exact)
                exact = True      # the policy has settled at loose precision: solve exactly and check again
            elif downs > MAX_DOWN_ROUNDS:
                raise _KrylovFailure(f"policy iteration did not settle ({downs} rounds with exits)")
    except _KrylovFailure as exc:
        stats.fallback = str(exc)
        return _reference(PiT, Pi, pbar, e, cap, forced, alpha, beta, stats)
    # 5. payments, equity, residual
    if members.size == 0:
        mx = np.empty(0)
    resid = K.assemble(pos, x, mx, pbar, e, cap, forced, alpha, beta, TIE_RTOL, tie_abs, acc, ab)
    layers.record(stats, max(k, 1), int(members.size))
    converged = resid <= RESIDUAL_RTOL * max(scale, 1e-300) or scale == 0.0
    np.greater_equal(pos, 0, out=defaulted)
    if howard:
        # members whose policy ended "solvent" (non-forced, floor 0) pay in full
        defaulted[members[~lin & ~forced[members]]] = False
    return FastSolution(payments=acc, defaulted=defaulted, default_round=None if howard else rounds,
                        iterations=max(k, 1), residual=float(resid), converged=bool(converged),
                        solver="howard-fast" if howard else "fda-fast", equity=ab, stats=stats)


# ----------------------------------------------------------------------------- dispatch

#: Solver paths: "auto" (compiled kernels for networks with at least FAST_MIN_EDGES obligations when
#: numba is available, the reference otherwise), "fast" (compiled kernels; the reference without numba),
#: "reference" (pure numpy/scipy fictitious-default algorithm).
SOLVER_PATHS = ("auto", "fast", "reference")


def choose_path(work: int, path: str | None = None, threshold: int | None = None) -> str:
    """``"fast"`` or ``"reference"``: the path taken for ``work`` (obligations, or obligations x scenarios).

    ``path`` defaults to the environment variable ``CONTAGION_SOLVER``, else
    ``"auto"``: the compiled path when numba is available and ``work`` is at
    least ``threshold`` (default :data:`FAST_MIN_EDGES`).

    >>> choose_path(10, "reference"), choose_path(10, "auto")
    ('reference', 'reference')
    """
    threshold = FAST_MIN_EDGES if threshold is None else threshold
    path = path or os.environ.get("CONTAGION_SOLVER") or "auto"
    if path not in SOLVER_PATHS:
        raise ValueError(f"unknown solver path {path!r}; choose one of {SOLVER_PATHS}")
    if path == "reference":
        return "reference"
    if path == "fast":
        return "fast" if numba_available() else "reference"
    return "fast" if work >= threshold and numba_available() else "reference"


def zero_money_closed(L: sp.csr_array, ext_liab: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Institutions that could belong to a closed group without outside money (sorted node ids).

    A second clearing vector can only live on a set of institutions without
    external assets or liabilities that is *closed*: everything its members
    owe is owed inside it (:func:`~.core.closed_zero_sets`, Eisenberg & Noe
    2001, Theorem 2). Such a set lies inside ``Z`` = institutions with
    obligations but no external assets or liabilities; this prunes from ``Z``
    every institution that owes something outside what remains. No work
    beyond one pass over ``n`` when ``Z`` is empty (the usual case).

    >>> import numpy as np, scipy.sparse as sp
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


def unique_flag(net, p: np.ndarray) -> bool:
    """Same answer as :func:`~.core.is_unique`, without a strongly-connected-components pass in the usual case.

    The candidates of :func:`zero_money_closed` are split into strongly
    connected components; a component that is a sink (nothing owed outside
    it) with at least two members is a closed group without outside money,
    and the clearing vector is not unique when such a group receives nothing
    from outside and still pays something inside (the test of :func:`~.core.is_unique`).

    >>> import contagion
    >>> net = contagion.load_dataset("ring")
    >>> unique_flag(net, contagion.clear(net).payments)
    False
    """
    from scipy.sparse.csgraph import connected_components

    cand = zero_money_closed(net.liabilities, net.external_liabilities, net.external_assets)
    if cand.size < 2:
        return True
    G = net.liabilities[cand][:, cand]
    ncomp, labels = connected_components(G, directed=True, connection="strong")
    coo = G.tocoo()
    leaves = labels[coo.row] != labels[coo.col]
    out_comp = np.zeros(ncomp, dtype=bool)
    out_comp[labels[coo.row[leaves]]] = True
    size = np.bincount(labels, minlength=ncomp)
    scale = max(float(p.max()) if p.size else 0.0, 1e-300)
    PiT = net.PiT
    for c in np.flatnonzero(~out_comp & (size > 1)):
        members = cand[labels == c]
        rows = PiT[members]
        inflow = rows @ p
        inside = rows[:, members] @ p[members]
        from_outside = float(np.sum(inflow - inside))
        if np.max(p[members]) > RESIDUAL_RTOL * scale and from_outside <= RESIDUAL_RTOL * scale * members.size:
            return False
    return True
