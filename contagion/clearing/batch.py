"""Batched clearing: many vectors of external assets on one network.

Two paths with the same answers (column ``k`` equals :func:`contagion.clear`
on the network with ``E[:, k]`` as external assets):

- ``"gs-parallel"`` (compiled, numba): chunks of scenarios are spread over the
  threads (dynamic scheduling); each scenario runs its own monotone iteration on
  the shortfall ``s = pbar - p`` from ``s = 0``, with its own convergence
  test, so an easy scenario never waits for a hard one. The network (``Pi`` in
  CSR) is shared and, for networks of thousands of institutions, stays in
  cache. Phase 1 pushes every change along all obligations of the defaulter,
  so that institutions join as soon as they are short; every iterate is below
  the least fixed point, so the limit is the greatest clearing vector and an
  institution short at an iterate is in the final default set. Phase 2, once a
  sweep adds no defaulter, sweeps over what defaulters owe each other only; at
  the end what everyone receives is recomputed from scratch, latecomers join
  (and phase 2 resumes), and the fixed-point residual is verified
  (``<= 1e-13 * max(pbar)``). Hubs (institutions with many counterparties that
  owe each other much, e.g. the core of a core-periphery network) are solved
  together exactly in both phases (dense LU of their block: a block
  Gauss--Seidel that needs half the sweeps there); see :func:`hub_block`.
- ``"fda-per-column"`` (pure numpy/scipy): the reference fictitious-default
  algorithm, column by column. Used without numba and for small batches;
  and, on the compiled path, for any scenario that would converge too slowly
  (more than :data:`MAX_SWEEPS` sweeps: a nearly closed group, where the
  fixed point is ill-conditioned and the direct solve is more accurate) or
  that contains a closed group without outside money. Nothing unconverged is
  ever returned.

Measured lesson behind the design: a sparse-times-dense batched Picard
(``PiT @ P``) is no faster than separate solves, because every column
iterates until the slowest one converges.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..errors import ConvergenceError
from .core import RESIDUAL_RTOL, TIE_RTOL, fda_solve

__all__ = ["solve_batch", "hub_block", "BATCH_MIN_WORK"]

#: Batches with fewer than this many obligations x scenarios use the reference path (unless forced) ...
BATCH_MIN_WORK = 2_000_000
#: ... unless they have at least this many scenarios: the reference costs about a millisecond of
#: Python overhead per scenario whatever the network's size, so many scenarios pay for compiled
#: code even on a tiny network (100,000 sweep draws on a 61-node network: minutes -> seconds).
MANY_SCENARIOS = 256
#: Sweep tolerance and acceptance bound of the compiled path, relative to max(pbar).
SWEEP_RTOL = 1e-14
ACCEPT_RTOL = 1e-13
#: Hubs: institutions with at least this many times the mean number of counterparties (in + out),
#: at most MAX_HUBS (<= 64) of them, ...
HUB_DEGREE_FACTOR = 4.0
MAX_HUBS = 64
#: ... solved as one block only if they owe each other enough: spectral radius of Pi[hubs, hubs]
#: at least this (below it plain Gauss--Seidel converges about as fast and the block costs more).
HUB_MIN_COUPLING = 0.3
#: Phase-1 sweeps (pushes along all obligations) at most; defaulters found later join at the check
#: from scratch (three sweeps find almost all; a fourth costs more than the rare late join).
MAX_CASCADE_SWEEPS = 3
#: Sweep budget per scenario. Iterations that need more are nearly singular (a group that owes
#: almost everything inside itself): there the fixed point is ill-conditioned, the reference's
#: direct solve is more accurate, and it takes over for that scenario.
MAX_SWEEPS = 400


def _reference(net, E: np.ndarray, alpha: float, beta: float, cols=None, P=None, D=None, its=None, res=None):
    n, K = E.shape
    if P is None:
        P = np.empty((n, K))
        D = np.empty((n, K), dtype=bool)
        its = np.empty(K, dtype=np.int64)
        res = np.empty(K)
    PiT, pbar, cap, forced = net.PiT, net.total_obligations, net.payment_cap, net.forced_default
    for k in (range(K) if cols is None else cols):
        sol = fda_solve(PiT, pbar, E[:, k], cap=cap, forced=forced, alpha=alpha, beta=beta)
        if not sol.converged:
            raise ConvergenceError(f"scenario {k} did not converge", sol.iterations, sol.residual)
        P[:, k] = sol.payments
        D[:, k] = sol.defaulted
        its[k] = sol.iterations
        res[k] = sol.residual
    return P, D, its, res


def _zero_money_columns(net, E: np.ndarray, beta: float) -> np.ndarray:
    """Scenarios with a closed group without outside money (where the iteration converges slowly to
    a singular limit): the reference's exact block solve is used for them."""
    from .fast import zero_money_closed

    if beta != 1.0:
        return np.zeros(0, dtype=np.int64)
    z = (net.external_liabilities == 0) & (net.total_obligations > 0)
    if not z.any():
        return np.zeros(0, dtype=np.int64)
    zero = E[z] == 0
    cols = np.flatnonzero(zero.any(axis=0))
    if cols.size == 0:
        return cols.astype(np.int64)
    # the answer depends only on which of these institutions have no outside assets: one check
    # per distinct pattern (a sweep's columns mostly share the base network's pattern)
    patterns, inverse = np.unique(zero[:, cols].T, axis=0, return_inverse=True)
    z_idx = np.flatnonzero(z)
    closed = np.zeros(len(patterns), dtype=bool)
    for k, pattern in enumerate(patterns):
        e = np.ones(net.n)
        e[z_idx[pattern]] = 0.0
        closed[k] = zero_money_closed(net.liabilities, net.external_liabilities, e).size > 0
    return cols[closed[np.ravel(inverse)]].astype(np.int64)


def _dynamic_schedule(numba):
    """Context: chunks of a parallel loop handed out one at a time (threads that finish early take more)."""
    cm = getattr(numba, "parallel_chunksize", None)
    return cm(1) if cm is not None else contextlib.nullcontext()


def hub_block(net) -> tuple[np.ndarray, np.ndarray]:
    """Hubs solved as one block by the compiled batch path, and their block of ``Pi``.

    Returns ``(hubs, Hm)``: node indices (sorted) and ``Hm[r, c] = Pi[hubs[c], hubs[r]]``
    (what hub ``r`` receives per unit of shortfall of hub ``c``); empty when the network has
    no such group (:data:`HUB_DEGREE_FACTOR`, :data:`MAX_HUBS`, :data:`HUB_MIN_COUPLING`).

    Examples
    --------
    >>> from contagion.generators import make_network
    >>> hubs, Hm = hub_block(make_network("core-periphery", 500, seed=1))
    >>> len(hubs), Hm.shape == (len(hubs), len(hubs))
    (10, True)
    >>> len(hub_block(make_network("erdos-renyi", 500, seed=1))[0])
    0
    """
    Pi = net.relative_liabilities
    n = net.n
    none = np.zeros(0, dtype=np.int64), np.zeros((0, 0))
    if n == 0 or Pi.nnz == 0:
        return none
    deg = np.diff(Pi.indptr).astype(np.int64) + np.bincount(Pi.indices, minlength=n)
    cand = np.flatnonzero(deg >= HUB_DEGREE_FACTOR * deg.mean())
    most = min(MAX_HUBS, 64)  # the kernel keys its factorization on a 64-bit pattern of member hubs
    if cand.size > most:
        cand = cand[np.argpartition(-deg[cand], most - 1)[:most]]
    if cand.size < 2:
        return none
    hubs = np.sort(cand).astype(np.int64)
    S = Pi[hubs][:, hubs].toarray()
    if np.abs(np.linalg.eigvals(S)).max() < HUB_MIN_COUPLING:
        return none
    return hubs, np.ascontiguousarray(S.T)


def solve_batch(net, E: np.ndarray, alpha: float = 1.0, beta: float = 1.0, path: str | None = None):
    """Return ``(payments, defaulted, iterations, residual, solver)`` for every column of ``E``.

    Parameters
    ----------
    net : FinancialNetwork
    E : ndarray (n, K)
        External assets, one scenario per column (validated by the caller).
        Fortran- and C-ordered arrays are read without a copy (a Fortran-ordered
        one, e.g. ``X.T`` for ``X`` of shape (K, n), has each scenario contiguous
        and is read fastest).
    path : {"auto", "fast", "reference"}, optional
        Default: the environment variable ``CONTAGION_SOLVER``, else
        ``"auto"`` (compiled when numba is available and the batch is not tiny).

    Returns
    -------
    tuple
        ``payments`` and ``defaulted`` of shape (n, K) (Fortran-ordered),
        ``iterations`` (sweeps, or FDA rounds on the reference path) and
        ``residual`` of shape (K,), and the name of the path.

    Examples
    --------
    >>> import numpy as np, contagion
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10])
    >>> E = np.array([[10, 10, 10], [30, 30, 30]], dtype=float).T
    >>> P, D, its, res, solver = solve_batch(net, E, path="fast")
    >>> solver, D.tolist()
    ('gs-parallel', [[True, False], [True, False], [False, False]])
    >>> bool(np.allclose(P[:, 0] * 11, [270, 290, 110]))
    True
    """
    from .fast import choose_path

    n, K = E.shape
    work = int(net.liabilities.nnz) * K
    if K >= MANY_SCENARIOS:
        work = max(work, BATCH_MIN_WORK)
    how = choose_path(work, path, threshold=BATCH_MIN_WORK)
    if how != "fast":
        P, D, its, res = _reference(net, E, alpha, beta)
        return P, D, its, res, "fda-per-column"
    from . import _kernels as K_

    Pi = net.relative_liabilities
    pbar = np.ascontiguousarray(net.total_obligations, dtype=np.float64)
    a = np.ascontiguousarray(net.received_in_full)   # PiT @ pbar, computed once with PiT
    cap = np.ascontiguousarray(net.payment_cap, dtype=np.float64)
    forced = np.ascontiguousarray(net.forced_default & (pbar > 0))
    scale = float(pbar.max()) if n else 0.0
    tiev = TIE_RTOL * pbar + 1e-3 * RESIDUAL_RTOL * scale
    owes = pbar > 0
    bc = pbar - beta * a
    bh = np.where(owes, a - pbar + tiev, np.nan)
    lo = np.where(forced, pbar - cap, 0.0)
    thr = np.where(forced, lo + tiev, -np.inf)
    ptr = Pi.indptr.astype(np.uint64)
    idx = Pi.indices.astype(np.uint32 if n < 2**32 else np.uint64)
    hubs, Hm = hub_block(net)
    # scenario k is a contiguous row of E.T when E is Fortran-ordered (no copy), else a column of E
    if E.flags.f_contiguous:
        Ein, by_column = E.T, False
    elif E.flags.c_contiguous:
        Ein, by_column = E, True
    else:
        Ein, by_column = np.ascontiguousarray(E.T), False
    Pt = np.empty((K, n))
    Dt = np.empty((K, n), dtype=bool)
    its = np.empty(K, dtype=np.int64)
    res = np.empty(K)
    import numba

    from .fast import _threads_for

    with _threads_for(int(Pi.nnz) * K):
        nthreads = numba.get_num_threads()
        chunk = max(1, min(64, K // (8 * nthreads)))
        with _dynamic_schedule(numba):
            K_.clear_batch(ptr, idx, Pi.data, a, bc, bh, tiev, pbar, thr, lo, Ein, by_column, cap, forced, hubs, Hm,
                           float(alpha), float(beta), SWEEP_RTOL * scale, ACCEPT_RTOL * scale, hubs.size > 1,
                           MAX_SWEEPS, MAX_CASCADE_SWEEPS, chunk, Pt, Dt, its, res)
    P, D = Pt.T, Dt.T
    its[_zero_money_columns(net, E, beta)] = -1  # possibly singular: the reference settles those exactly
    bad = np.flatnonzero(its < 0)
    solver = "gs-parallel"
    if bad.size:
        _reference(net, E, alpha, beta, cols=bad, P=P, D=D, its=its, res=res)
        solver = "gs-parallel+fda"
    return P, D, its, res, solver
