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
  (``|T(p)_i - p_i| <= 1e-13 * pbar_i`` for every institution). Scenarios
  whose round 0 the kernel's tie band would decide differently from the
  exact rule (:func:`~.core.short_in_full`), and scenarios in which a nearly
  closed group (:func:`~.core.tight_groups`) is in default or at its
  threshold (or a closed one leaves a tie floats may not decide), go to the
  reference, which decides them exactly or refuses. Hubs (institutions with many counterparties that
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

from ..errors import ConvergenceError
from .core import (NEARLY_CLOSED_RTOL, ROUND0_BAND, TIE_RTOL, BlockLimits, Solution, exact_or_refuse,
                   exact_when_stuck, fda_solve, short_in_full, tie_band_equity, tight_groups, zero_money_closed)

__all__ = ["reference_batch", "compiled_batch", "hub_block", "BatchLimits"]
#: Sweep tolerance and acceptance bound of the compiled path, relative to each institution's own pbar.
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
                    limits: BlockLimits = BlockLimits(), exact_why: str = "") -> list[tuple[int, Solution]]:
    """The reference FDA (:func:`~.core.fda_solve`, round 0 decided exactly) on columns ``cols`` of ``E``
    (default: all): ``[(k, solution of column k), ...]``. With ``exact_why`` (the network is outside the
    float range) every column is solved exactly or refused (:func:`~.core.exact_or_refuse`)."""
    PiT, pbar, cap, forced = net.PiT, net.total_obligations, net.payment_cap, net.forced_default
    L, ext, assets = net.liabilities, net.external_liabilities, net.interbank_assets
    out = []
    for k in (range(E.shape[1]) if cols is None else cols):
        e = E[:, k]
        if exact_why:
            sol = exact_or_refuse(net, exact_why, alpha, beta, e)
        else:
            try:
                sol = fda_solve(PiT, pbar, e, cap=cap, forced=forced, alpha=alpha, beta=beta, limits=limits,
                                short0=short_in_full(L, ext, e, pbar, assets))
            except ConvergenceError as exc:
                sol = exact_when_stuck(net, exc, alpha, beta, e)
        out.append((int(k), sol))
    return out


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
    # per distinct pattern (a sweep's columns mostly share the base network's pattern). Each column's pattern
    # is packed into bytes and the distinct ones found among those (np.unique(..., axis=0) on the boolean rows
    # took 0.85 s of a 1.4 s batch of 18,944 sweep draws on the built-in network; this takes milliseconds)
    width = -(-int(np.count_nonzero(z)) // 8)
    keys = np.ascontiguousarray(np.packbits(zero[:, cols], axis=0).T).view(np.dtype((np.void, width))).ravel()
    uniq, inverse = np.unique(keys, return_inverse=True)
    patterns = np.unpackbits(uniq.view(np.uint8).reshape(-1, width), axis=1, count=zero.shape[0]).astype(bool)
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
    tiev = TIE_RTOL * pbar                 # each institution's own tie band, nothing absolute
    owes = pbar > 0
    ipbar = np.divide(1.0, pbar, out=np.zeros(n), where=owes)
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
                        float(alpha), float(beta), SWEEP_RTOL, ACCEPT_RTOL, ipbar, hubs.size > 1,
                        int(limits.max_sweeps), int(limits.max_cascade_sweeps), chunk, Pt, Dt, its, res)
    P, D = Pt.T, Dt.T
    unsettled = np.flatnonzero(its < 0)
    for extra in (_zero_money_columns(net, E, beta), _round0_columns(net, E, tiev),
                  _nearly_closed_columns(net, E, P, D), _cancelling_columns(net, E, P, alpha, beta)):
        unsettled = np.union1d(unsettled, extra)
    return P, D, its, res, unsettled.astype(np.int64)


#: :func:`_cancelling_columns` multiplies by a dense copy of its rows of ``PiT`` up to this many entries.
DENSE_CHECK_MAX = 1 << 22
#: An institution owed more than this many times what it owes is checked in payment form (see
#: :func:`_cancelling_columns`): the kernel's ``assets - shortfall received`` loses ``~1e-16 * assets``.
CANCEL_RATIO = 100.0


def _cancelling_columns(net, E: np.ndarray, P: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Scenarios whose answer is not a fixed point, checked in payment form (``e + PiT @ p``), on the
    institutions where the kernel's form cancels: those owed more than :data:`CANCEL_RATIO` times what they
    owe (what they receive is ``assets - what defaulters fail to pay``, with no correct digit when most is
    lost). Each on its own scale (``1e-12 * pbar_i``); the others are computed accurately by the kernel."""
    from .core import RESIDUAL_RTOL, tie_tolerance

    pbar, a = net.total_obligations, net.interbank_assets
    risky = np.flatnonzero((pbar > 0) & (a > CANCEL_RATIO * pbar))
    if risky.size == 0 or E.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    # P is Fortran-ordered: a sparse product copies all of it first (80 MB, 60 ms at 10,000 x 1,000), BLAS
    # reads it as it is (these rows are few: a dense copy of them is small)
    rows = net.PiT[risky]
    inflow = rows.toarray() @ P if risky.size * net.n <= DENSE_CHECK_MAX else rows @ P
    pb = pbar[risky, None]
    e = E[risky]
    short = (e + inflow < pb - tie_tolerance(pb)) | net.forced_default[risky, None]
    T = np.where(short, np.minimum(net.payment_cap[risky, None], alpha * e + beta * inflow), pb)
    T = np.maximum(T, 0.0)
    bad = np.abs(T - P[risky]) > RESIDUAL_RTOL * pb
    return np.flatnonzero(bad.any(axis=0)).astype(np.int64)


def _round0_columns(net, E: np.ndarray, tiev: np.ndarray) -> np.ndarray:
    """Scenarios whose round 0 the kernel (short iff ``gap < -tiev``) decides differently from the exact rule
    (short iff the exact gap is negative, :func:`~.core.short_in_full`): the reference solves them."""
    pbar, assets = net.total_obligations, net.interbank_assets
    base = assets - pbar
    if E.size == 0:
        return np.zeros(0, dtype=np.int64)
    # a superset of the entries within the kernel's tie band or the rounding band of zero:
    # |gap| <= tiev + ROUND0_BAND * (largest outside assets in the row + assets + pbar), found by one compiled
    # pass over E (numpy's three passes and a copy of E took 40 ms of a 300 ms batch of 10,000 x 1,000)
    from ._kernels import near_zero_columns

    thr = np.where(pbar > 0, tiev + ROUND0_BAND * (E.max(axis=1) + assets + pbar), -1.0)
    near = np.empty(E.shape[1], dtype=bool)
    if E.flags.f_contiguous:
        near_zero_columns(E.T, False, base, thr, near)
    else:
        near_zero_columns(np.ascontiguousarray(E), True, base, thr, near)
    cols = np.flatnonzero(near)
    bad = []
    for k in cols:
        e = E[:, k]
        exact = short_in_full(net.liabilities, net.external_liabilities, e, pbar, assets)
        kernel = (pbar > 0) & (E[:, k] + base < -tiev)
        if not np.array_equal(exact & ~net.forced_default, kernel & ~net.forced_default):
            bad.append(k)
    return np.asarray(bad, dtype=np.int64)


def _nearly_closed_columns(net, E: np.ndarray, P: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Scenarios the reference checks (:func:`~.core.float_check`) because of a group found from the structure
    (:func:`~.core.tight_groups`): a tight group with a member in default or at its threshold; a closed group
    (owing nothing outside itself) with defaulters next to a solvent member at its threshold, or entirely in
    default (see :func:`~.core.undecided_groups`). A closed group with defaulters and clearly solvent members
    (e.g. a whole network without outside liabilities) stays on the compiled path."""
    pbar, ext = net.total_obligations, net.external_liabilities
    if not ((pbar > 0) & (ext <= NEARLY_CLOSED_RTOL * pbar)).any():
        return np.zeros(0, dtype=np.int64)
    groups = tight_groups(net.liabilities, ext, pbar, closed=True)
    if not groups or E.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    members = np.concatenate([m for m, _ in groups])
    start = np.cumsum([0] + [m.size for m, _ in groups[:-1]])      # each group's first row in `members`
    closed = np.array([leak == 0.0 for _, leak in groups])
    equity = E[members] + (net.PiT[members] @ P) - pbar[members, None]
    d, at = D[members], tie_band_equity(equity, pbar[members, None])
    anyd, anyat = np.logical_or.reduceat(d, start), np.logical_or.reduceat(at, start)
    alld, solvent_at = np.logical_and.reduceat(d, start), np.logical_or.reduceat(at & ~d, start)
    touched = np.where(closed[:, None], (anyd & solvent_at) | alld, anyd | anyat)
    return np.flatnonzero(touched.any(axis=0)).astype(np.int64)
