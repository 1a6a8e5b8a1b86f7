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
from typing import NamedTuple

import numpy as np

from .core import RESIDUAL_RTOL, TIE_RTOL, BlockLimits, Solution, fda_solve, zero_money_closed

__all__ = ["reference_batch", "compiled_batch", "hub_block", "BatchLimits"]
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


class BatchLimits(NamedTuple):
    """Limits of the compiled batch path (defaults: the module constants above)."""

    max_sweeps: int = MAX_SWEEPS
    max_cascade_sweeps: int = MAX_CASCADE_SWEEPS
    hub_degree_factor: float = HUB_DEGREE_FACTOR
    hub_min_coupling: float = HUB_MIN_COUPLING


def reference_batch(net, E: np.ndarray, alpha: float = 1.0, beta: float = 1.0, cols=None,
                    limits: BlockLimits = BlockLimits()) -> list[tuple[int, Solution]]:
    """The reference FDA (:func:`~.core.fda_solve`) on columns ``cols`` of ``E`` (default: all):
    ``[(k, solution of column k), ...]``."""
    PiT, pbar, cap, forced = net.PiT, net.total_obligations, net.payment_cap, net.forced_default
    return [(int(k), fda_solve(PiT, pbar, E[:, k], cap=cap, forced=forced, alpha=alpha, beta=beta, limits=limits))
            for k in (range(E.shape[1]) if cols is None else cols)]


def _zero_money_columns(net, E: np.ndarray, beta: float) -> np.ndarray:
    """Scenarios with a closed group without outside money (where the iteration converges slowly to
    a singular limit): the reference's exact block solve is used for them."""
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


def hub_block(net, degree_factor: float = HUB_DEGREE_FACTOR,
              min_coupling: float = HUB_MIN_COUPLING) -> tuple[np.ndarray, np.ndarray]:
    """Hubs solved as one block by the compiled batch path, and their block of ``Pi``.

    Returns ``(hubs, Hm)``: node indices (sorted) and ``Hm[r, c] = Pi[hubs[c], hubs[r]]``
    (what hub ``r`` receives per unit of shortfall of hub ``c``); empty when the network has
    no such group: institutions with at least ``degree_factor`` times the mean number of
    counterparties (:data:`HUB_DEGREE_FACTOR`), at most :data:`MAX_HUBS` of them, that owe each
    other enough (spectral radius of their block at least ``min_coupling``, :data:`HUB_MIN_COUPLING`).

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
    cand = np.flatnonzero(deg >= degree_factor * deg.mean())
    most = min(MAX_HUBS, 64)  # the kernel keys its factorization on a 64-bit pattern of member hubs
    if cand.size > most:
        cand = cand[np.argpartition(-deg[cand], most - 1)[:most]]
    if cand.size < 2:
        return none
    hubs = np.sort(cand).astype(np.int64)
    S = Pi[hubs][:, hubs].toarray()
    if np.abs(np.linalg.eigvals(S)).max() < min_coupling:
        return none
    return hubs, np.ascontiguousarray(S.T)


def compiled_batch(net, E: np.ndarray, alpha: float = 1.0, beta: float = 1.0,
                   limits: BatchLimits = BatchLimits()):
    """The compiled scenario-parallel path: ``(payments, defaulted, iterations, residual, unsettled)``.

    Parameters
    ----------
    net : FinancialNetwork
    E : ndarray (n, K)
        External assets, one scenario per column (validated by the caller).
        Fortran- and C-ordered arrays are read without a copy (a Fortran-ordered
        one, e.g. ``X.T`` for ``X`` of shape (K, n), has each scenario contiguous
        and is read fastest).
    limits : BatchLimits
        Sweep budgets and the hub selection.

    Returns
    -------
    tuple
        ``payments`` and ``defaulted`` of shape (n, K) (Fortran-ordered),
        ``iterations`` (sweeps) and ``residual`` of shape (K,), and the sorted
        scenarios the iteration did not settle (sweep budget exceeded) or that hold
        a closed group without outside money: their columns are not valid, the
        caller solves them by :func:`reference_batch`.

    Examples
    --------
    >>> import numpy as np, contagion
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10])
    >>> E = np.array([[10, 10, 10], [30, 30, 30]], dtype=float).T
    >>> P, D, its, res, unsettled = compiled_batch(net, E)
    >>> D.tolist(), unsettled.tolist()
    ([[True, False], [True, False], [False, False]], [])
    >>> bool(np.allclose(P[:, 0] * 11, [270, 290, 110]))
    True
    """
    import numba

    from ._kernels import clear_batch
    from .fast import _threads_for

    n, K = E.shape
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
    hubs, Hm = hub_block(net, limits.hub_degree_factor, limits.hub_min_coupling)
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
    with _threads_for(int(Pi.nnz) * K):
        nthreads = numba.get_num_threads()
        chunk = max(1, min(64, K // (8 * nthreads)))
        with _dynamic_schedule(numba):
            clear_batch(ptr, idx, Pi.data, a, bc, bh, tiev, pbar, thr, lo, Ein, by_column, cap, forced, hubs, Hm,
                        float(alpha), float(beta), SWEEP_RTOL * scale, ACCEPT_RTOL * scale, hubs.size > 1,
                        int(limits.max_sweeps), int(limits.max_cascade_sweeps), chunk, Pt, Dt, its, res)
    unsettled = np.union1d(np.flatnonzero(its < 0), _zero_money_columns(net, E, beta)).astype(np.int64)
    return Pt.T, Dt.T, its, res, unsettled
