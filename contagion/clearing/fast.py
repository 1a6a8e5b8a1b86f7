"""Fast exact clearing: the fictitious-default algorithm on the default set only.

:func:`fda_fast` computes exactly what :func:`contagion.clearing.core.fda_solve`
computes -- the greatest clearing vector, the default set and the default
waves of the fictitious-default algorithm (FDA) -- but touches only the
obligations of defaulting institutions, reads each of them once per solve,
and solves each round's linear system by a warm-started Krylov method with
compiled, two-threaded kernels (numba).

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
   owed by members) and their obligations (to older members, and to the
   still solvent) are appended as a new layer (see :mod:`._kernels`); no
   matrix is ever rebuilt and nothing outside ``D`` is read again.
3. The round's system is solved by BiCGSTAB from the previous round's
   solution (only the new members' equations changed), to a true residual
   ``<= 1e-14 * max(pbar)``; forced institutions switch from capped to
   linear exactly as in the reference.
4. The solvency check of the next round reads only obligations owed by
   members to solvent institutions.
5. Payments, equity and the fixed-point residual in one parallel pass.

The result is verified like the reference (residual of the clearing map
``<= 1e-12 * max(pbar)``); when a Krylov solve fails (a default block that is
a closed cycle without outside money, where the system is singular) the
reference :func:`~.core.fda_solve` takes over. Extra memory: an int32 position
and an int32 scratch vector of length ``n``, and about seven vectors of the
size of the default set.

Availability
------------
numba is an ordinary dependency; when it cannot be imported, or the network
is small (compilation and thread start-up would cost more than they save),
:func:`solve` uses the reference ``fda_solve``, a pure numpy/scipy path with
identical results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .core import RESIDUAL_RTOL, TIE_RTOL, Solution, fda_solve

__all__ = ["fda_fast", "solve", "numba_available", "FAST_MIN_EDGES", "FastStats"]

#: Networks with fewer obligations than this are cleared by the reference path (unless forced).
FAST_MIN_EDGES = 50_000
#: Target of the BiCGSTAB recursion and acceptance bound of the true residual, relative to max(pbar).
LINEAR_RTOL = 2e-15
ACCEPT_RTOL = 1e-14

_NUMBA: Any = None


def numba_available() -> bool:
    """Whether the compiled kernels can be used (numba importable, not disabled by ``CONTAGION_NO_NUMBA``)."""
    global _NUMBA
    if os.environ.get("CONTAGION_NO_NUMBA"):
        return False
    if _NUMBA is None:
        try:
            from . import _kernels  # noqa: F401

            _NUMBA = _kernels
        except ImportError:  # pragma: no cover - numba is a dependency
            _NUMBA = False
    return _NUMBA is not False


@dataclass
class FastStats:
    """Work counters of one :func:`fda_fast` call (for benchmarks)."""

    rounds: int = 0
    matvecs: int = 0
    solves: int = 0
    default_set: int = 0
    block_nnz: int = 0
    boundary_nnz: int = 0
    fallback: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FastSolution(Solution):
    """:class:`~.core.Solution` plus the equity computed on the way."""

    equity: np.ndarray | None = None
    stats: FastStats | None = None


class _Layers:
    """The compact matrix ``PiT[D, D]`` as per-round layers, and the boundary blocks."""

    def __init__(self) -> None:
        self.r: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
        self.c: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.b: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def matvec(self, K, x: np.ndarray, y: np.ndarray) -> None:
        """``y = M x`` (raw product with the compact matrix)."""
        for ptr, col, val, row0 in self.r:
            K.spmv_r(ptr, col, val, row0, x, y)
        for rows, ptr, col, val in self.c:
            if rows.size:
                K.spmv_c(rows, ptr, col, val, x, y)

    @property
    def nnz(self) -> int:
        return sum(int(v.size) for _, _, v, _ in self.r) + sum(int(v.size) for *_, v in self.c)

    @property
    def boundary_nnz(self) -> int:
        return sum(int(v.size) for *_, v in self.b)


class _KrylovFailure(Exception):
    pass


def _bicgstab(K, layers: _Layers, b, x, lin, beta, tol, accept, stats: FastStats, max_iter: int = 500):
    """Solve the round's system in place in ``x``; returns ``M x`` of the answer."""
    m = x.size
    y = np.empty(m)
    r = np.empty(m)
    layers.matvec(K, x, y)
    stats.matvecs += 1
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


def fda_fast(PiT: sp.csr_array, Pi: sp.csr_array, pbar: np.ndarray, e: np.ndarray, *,
             cap: np.ndarray | None = None, forced: np.ndarray | None = None, alpha: float = 1.0,
             beta: float = 1.0, stats: FastStats | None = None) -> FastSolution:
    """Exact FDA clearing with the compiled kernels (same answer as :func:`~.core.fda_solve`).

    Parameters
    ----------
    PiT, Pi : csr_array (n, n)
        ``Pi.T`` and ``Pi`` (relative liabilities), both CSR.
    pbar, e, cap, forced, alpha, beta
        As in :func:`~.core.fda_solve`.
    stats : FastStats, optional
        Filled with work counters.

    Returns
    -------
    FastSolution
        With ``equity`` (``e + PiT @ p - pbar``) and ``stats``.
    """
    if not numba_available():
        raise RuntimeError("numba is not available")
    K = _NUMBA
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

    # 1. interbank assets and round-0 defaults
    ab = np.empty(n)          # a = PiT @ pbar, later the equity
    defaulted = np.empty(n, dtype=bool)
    K.init_pass(PiT.indptr, PiT.indices, PiT.data, pbar, e, forced, TIE_RTOL, tie_abs, ab, defaulted)
    new = np.flatnonzero(defaulted).astype(np.int32)
    pos = np.full(n, -1, dtype=np.int32)
    rounds = np.full(n, -1, dtype=np.int64)
    acc = np.zeros(n)          # shortfall received by solvent institutions, later the payments
    scratch = np.zeros(n, dtype=np.int64)
    layers = _Layers()

    members = np.empty(0, dtype=np.int32)
    x = np.empty(0)
    b = np.empty(0)
    lin = np.empty(0, dtype=bool)
    lo = np.empty(0)
    mx = np.empty(0)
    k = 0
    try:
        while new.size:
            start = members.size
            pos[new] = np.arange(start, start + new.size, dtype=np.int32)
            rounds[new] = k
            # 2. new layer
            ptr, col, val = K.build_r_block(PiT.indptr, PiT.indices, PiT.data, new, pos)
            layers.r.append((ptr, col, val, start))
            cr, cp, cc, cv, br, bp, bc, bv = K.build_out_blocks(Pi.indptr, Pi.indices, Pi.data, new, pos,
                                                                 start, scratch)
            layers.c.append((cr, cp, cc, cv))
            layers.b.append((br, bp, bc, bv))
            # compact vectors: right-hand side, capped/linear, warm start
            f_new = forced[new]
            c_new = pbar[new] - alpha * e[new] - beta * ab[new]
            lo_new = pbar[new] - cap[new]
            members = np.concatenate([members, new])
            lin = np.concatenate([lin, ~f_new])
            lo = np.concatenate([lo, lo_new])
            b = np.concatenate([b, np.where(f_new, lo_new, c_new)])
            x = np.concatenate([x, np.where(f_new, lo_new, np.minimum(c_new + beta * acc[new], pbar[new]))])
            # 3. solve the round (forced institutions switch from capped to linear)
            while True:
                mx = _bicgstab(K, layers, b, x, lin, beta, tol, accept, stats)
                stats.solves += 1
                capped = ~lin
                if not capped.any():
                    break
                cm = np.flatnonzero(capped)
                nodes = members[cm]
                c_c = pbar[nodes] - alpha * e[nodes] - beta * ab[nodes]
                tie_c = TIE_RTOL * pbar[nodes] + tie_abs
                switch = c_c + beta * mx[cm] > lo[cm] + tie_c
                if not switch.any():
                    break
                sw = cm[switch]
                lin[sw] = True
                b[sw] = c_c[switch]
            # 4. solvency check of the others
            acc[:] = 0.0
            for rows, bptr, bcol, bval in layers.b:
                if rows.size:
                    K.boundary_acc(rows, bptr, bcol, bval, x, pos, acc)
            new = K.collect_short(pos, pbar, e, ab, acc, TIE_RTOL, tie_abs)
            k += 1
    except _KrylovFailure as exc:
        stats.fallback = str(exc)
        sol = fda_solve(PiT, pbar, e, cap=cap, forced=forced, alpha=alpha, beta=beta)
        equity = e + PiT @ sol.payments - pbar
        return FastSolution(payments=sol.payments, defaulted=sol.defaulted, default_round=sol.default_round,
                            iterations=sol.iterations, residual=sol.residual, converged=sol.converged,
                            solver=sol.solver, equity=equity, stats=stats)
    # 5. payments, equity, residual
    if members.size == 0:
        mx = np.empty(0)
    resid = K.assemble(pos, x, mx, pbar, e, cap, forced, alpha, beta, TIE_RTOL, tie_abs, acc, ab)
    stats.rounds = max(k, 1)
    stats.default_set = int(members.size)
    stats.block_nnz = layers.nnz
    stats.boundary_nnz = layers.boundary_nnz
    converged = resid <= RESIDUAL_RTOL * max(scale, 1e-300) or scale == 0.0
    return FastSolution(payments=acc, defaulted=pos >= 0, default_round=rounds, iterations=max(k, 1),
                        residual=float(resid), converged=bool(converged), solver="fda-fast", equity=ab,
                        stats=stats)


# ----------------------------------------------------------------------------- dispatch

#: Solver paths: "auto" (compiled kernels for networks with at least FAST_MIN_EDGES obligations when
#: numba is available, the reference otherwise), "fast" (compiled kernels; the reference without numba),
#: "reference" (pure numpy/scipy fictitious-default algorithm).
SOLVER_PATHS = ("auto", "fast", "reference")


def choose_path(nnz: int, path: str | None = None) -> str:
    """Which path :func:`solve` takes for a network with ``nnz`` obligations.

    ``path`` defaults to the environment variable ``CONTAGION_SOLVER``, else ``"auto"``.
    """
    path = path or os.environ.get("CONTAGION_SOLVER") or "auto"
    if path not in SOLVER_PATHS:
        raise ValueError(f"unknown solver path {path!r}; choose one of {SOLVER_PATHS}")
    if path == "reference":
        return "reference"
    if path == "fast":
        return "fast" if numba_available() else "reference"
    return "fast" if nnz >= FAST_MIN_EDGES and numba_available() else "reference"


def solve(net, alpha: float = 1.0, beta: float = 1.0, path: str | None = None) -> Solution:
    """Exact FDA clearing of a :class:`~contagion.FinancialNetwork` on the chosen path."""
    how = choose_path(int(net.liabilities.nnz), path)
    if how == "fast":
        return fda_fast(net.PiT, net.relative_liabilities, net.total_obligations, net.external_assets,
                        cap=net.payment_cap, forced=net.forced_default, alpha=alpha, beta=beta)
    return fda_solve(net.PiT, net.total_obligations, net.external_assets, cap=net.payment_cap,
                     forced=net.forced_default, alpha=alpha, beta=beta)


def unique_flag(net, p: np.ndarray) -> bool:
    """Same answer as :func:`~.core.is_unique`, without a strongly-connected-components pass in the usual case.

    A second clearing vector can only live on a closed set of institutions
    without outside money (:func:`~.core.closed_zero_sets`). Such a set lies
    inside ``Z`` = institutions with obligations but no external assets or
    liabilities, and it is closed: everything its members owe is owed inside
    it. So the candidates are found by pruning from ``Z`` every institution
    that owes something outside the remaining set (no work at all when ``Z``
    is empty, the common case), then taking the sink strongly connected
    components of what is left.
    """
    from scipy.sparse.csgraph import connected_components

    pbar = net.total_obligations
    z = (net.external_liabilities == 0) & (net.external_assets == 0) & (pbar > 0)
    if not z.any():
        return True
    L = net.liabilities
    cand = np.flatnonzero(z)
    while cand.size:
        sub = L[cand]
        inside = np.zeros(net.n, dtype=bool)
        inside[cand] = True
        ok = np.ones(cand.size, dtype=bool)
        rows = np.repeat(np.arange(cand.size), np.diff(sub.indptr))
        bad = ~inside[sub.indices]
        ok[np.unique(rows[bad])] = False
        if ok.all():
            break
        cand = cand[ok]
    if cand.size < 2:
        return True
    G = L[cand][:, cand]
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
