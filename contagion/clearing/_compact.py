"""The compact system of the compiled FDA (:mod:`.fast`): the default set's matrix in layers, and its solvers.

``M = PiT[D, D]`` is stored as one layer per round (see :mod:`._kernels`); a
round's system is ``(A s)_i = s_i - beta (M s)_i`` on linear rows and ``s_i``
on capped rows. :func:`_bicgstab` solves it with the compiled kernels (warm
started, judged by the true residual), :func:`_direct` by sparse LU plus one
refinement step (the reference's :func:`~.core._lu_solve`) for small sets.
Imported by :mod:`.fast` only; the kernels are imported when a solve runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


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


def _bicgstab(K, layers: _Layers, b, x, lin, beta, tol, accept, stats: FastStats, y0: np.ndarray, iw: np.ndarray,
              max_iter: int = 500):
    """Solve the round's system in place in ``x``; returns ``M x`` of the answer.

    ``y0`` is ``M x`` for the starting ``x`` (overwritten). ``tol`` and ``accept``
    bound each row's residual relative to its own scale (``iw`` = 1 / the
    member's pbar).
    """
    m = x.size
    y = y0
    r = np.empty(m)
    rn = K.residual_from(b, y, lin, beta, x, r, iw)
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
        sn = K.axpy_norm(r, alpha, v, iw)
        if sn <= tol:
            x += alpha * p
            done = True
        else:
            layers.matvec(K, r, t)
            ts, tt = K.finish_dot2(r, t, lin, beta)
            stats.matvecs += 1
            omega = ts / tt if tt > 0.0 else 0.0
            rho_old = rho
            rn, rho = K.update_xr(x, p, r, t, alpha, omega, rhat, iw)
            done = rn <= tol
        if done:
            # verify with the true residual; restart from it if the recursion drifted
            layers.matvec(K, x, y)
            stats.matvecs += 1
            true = K.residual_from(b, y, lin, beta, x, r, iw)
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


def _direct(layers: _Layers, b, x, lin, beta, accept, stats: FastStats, iw: np.ndarray):
    """Sparse LU of the (small) round system and a refinement step (the reference's
    :func:`~.core._lu_solve`), each row checked against ``accept`` of its own scale (``iw`` = 1 / the
    member's pbar); returns ``M x``."""
    from .core import _lu_solve

    m = x.size
    M = layers.to_csr(m)
    Mlin = sp.csr_array(M.multiply(lin[:, None])) if not lin.all() else M
    with np.errstate(divide="ignore"):
        bound = accept / iw
    sol = _lu_solve(sp.identity(m, format="csr") - beta * Mlin, b, lambda v: beta * (Mlin @ v), bound)
    if sol is None:
        raise _KrylovFailure("singular block")
    x[:] = sol
    y = M @ x
    stats.matvecs += 2
    r = b - np.where(lin, x - beta * y, x)
    if np.max(np.abs(r) * iw, initial=0.0) > accept:
        raise _KrylovFailure("ill-conditioned block")
    return y
