"""Compiled (numba) kernels of the fast clearing paths; imported lazily by :mod:`.fast`.

(About 630 lines: the single-clearing kernels and the batch kernel share the conventions below. The
batch kernel still takes its arrays one by one (28 parameters): passing them as NamedTuple records
was tried and, on a loaded 2-core machine, ran the 10,000-scenario benchmark batches far slower and
changed last digits; it stays as is until that is measured properly.)

Everything here works on plain arrays. Conventions (see :mod:`.fast` for the
algorithm): the *shortfall* ``s = pbar - p`` of the members of the current
default set is kept in a compact vector indexed in the order in which the
members joined; ``pos[node]`` is a node's compact index (-1 when solvent) and
``bits`` the same membership as a bitmap (one bit per node, uint64 words: it
stays in cache where ``pos`` does not).

The compact matrix ``M = PiT[D, D]`` is stored in layers, one per round of
the fictitious-default algorithm, so that every obligation is read once
when the round that makes it relevant begins:

- an *R block* per round: the rows of the members that joined in that round
  (their obligations received from any member), contiguous compact rows;
- a *C block* per round: what the new members owe to older members, grouped
  by the (older) compact row;
- a *B block* per round: what the new members owe to institutions that are
  still solvent, grouped by creditor (node id), read by the solvency check.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# ----------------------------------------------------------------------------- set-up passes


@njit(parallel=True, cache=True)
def round0(a, pbar, e, forced, tie_rtol, tie_abs, a_out, short_out):
    """``a_out = a`` and ``short_out`` = institutions short even if everyone pays in full (or forced)."""
    for i in prange(pbar.size):
        s = a[i]
        a_out[i] = s
        short_out[i] = pbar[i] > 0.0 and (forced[i] or e[i] + s < pbar[i] - (tie_rtol * pbar[i] + tie_abs))


@njit(cache=True)
def set_bits(bits, nodes):
    """Mark ``nodes`` as members in the bitmap."""
    for q in range(nodes.size):
        g = np.uint64(nodes[q])
        bits[g >> np.uint64(6)] |= np.uint64(1) << (g & np.uint64(63))


@njit(parallel=True, cache=True)
def mark_short(pos, pbar, e, a, acc, tie_rtol, tie_abs, flag):
    """``flag[i]``: institution ``i`` is solvent so far but short given ``acc``; returns how many."""
    cnt = 0
    for i in prange(pbar.size):
        f = pos[i] < 0 and pbar[i] > 0.0 and e[i] + (a[i] - acc[i]) < pbar[i] - (tie_rtol * pbar[i] + tie_abs)
        flag[i] = f
        if f:
            cnt += 1
    return cnt


# ----------------------------------------------------------------------------- building the layers: see ._layers


# ----------------------------------------------------------------------------- products with the layers


@njit(parallel=True, cache=True)
def spmv_r(ptr, col, val, row0, x, y):
    """``y[row0 + q] = sum_k val[k] * x[col[k]]`` over the rows of an R block (assigns)."""
    for q in prange(ptr.size - 1):
        s = 0.0
        for k in range(ptr[q], ptr[q + 1]):
            s += val[k] * x[col[k]]
        y[row0 + q] = s


@njit(cache=True)
def gather_form(ptr, row, val, col0, start):
    """Transpose a C block (by debtor) into rows of creditors: ``(rows, ptr, col, val)``."""
    cnt = np.zeros(start, dtype=np.int64)
    for k in range(row.size):
        cnt[row[k]] += 1
    nrows = 0
    for t in range(start):
        if cnt[t] > 0:
            nrows += 1
    rows = np.empty(nrows, dtype=np.uint32)
    gptr = np.empty(nrows + 1, dtype=np.int64)
    w = 0
    r = 0
    for t in range(start):
        c = cnt[t]
        if c > 0:
            rows[r] = t
            gptr[r] = w
            cnt[t] = w
            w += c
            r += 1
    gptr[nrows] = w
    gcol = np.empty(row.size, dtype=np.uint32)
    gval = np.empty(row.size, dtype=np.float64)
    for q in range(ptr.size - 1):
        for k in range(ptr[q], ptr[q + 1]):
            t = row[k]
            w = cnt[t]
            gcol[w] = col0 + q
            gval[w] = val[k]
            cnt[t] = w + 1
    return rows, gptr, gcol, gval


@njit(parallel=True, cache=True)
def spmv_c(rows, ptr, col, val, x, y):
    """``y[rows[q]] += sum_k val[k] * x[col[k]]`` over a C block in gather form (adds)."""
    for q in prange(rows.size):
        s = 0.0
        for k in range(ptr[q], ptr[q + 1]):
            s += val[k] * x[col[k]]
        y[rows[q]] += s


# ----------------------------------------------------------------------------- BiCGSTAB pieces
# The linear system of a round: (A s)_i = s_i - beta * (M s)_i on linear rows, s_i on capped rows.


# The sums of a round's dot products are added in blocks of ``SUM_BLOCK`` entries, each block in order and
# the blocks' sums in order, whatever the number of threads: a prange reduction would add each thread's share
# first, so the last digits of the answer (and the rounds BiCGSTAB takes) would follow the thread count, which
# follows the machine's load (contagion._matrix.use_threads).
SUM_BLOCK = 4096


@njit(cache=True, inline="always")
def _blocks(n):
    return (n + SUM_BLOCK - 1) // SUM_BLOCK


@njit(cache=True, inline="always")
def _span(b, n):
    """The entries of block ``b`` of ``n``."""
    return range(b * SUM_BLOCK, min(n, (b + 1) * SUM_BLOCK))


@njit(cache=True)
def _sum(parts):
    d = 0.0
    for b in range(parts.size):
        d += parts[b]
    return d


@njit(cache=True)
def _max(parts):
    m = 0.0
    for b in range(parts.size):
        m = max(m, parts[b])
    return m


@njit(cache=True, inline="always")
def _ax(x, y, lin, beta, i):
    """``(A x)_i`` from ``y = M x``: ``x_i - beta y_i`` on a linear row, ``x_i`` on a capped one."""
    return x[i] - beta * y[i] if lin[i] else x[i]


@njit(parallel=True, cache=True)
def finish_dot(x, y, lin, beta, w):
    """``y <- A x`` from ``y = M x``; returns ``w . y`` (summed in fixed blocks)."""
    n = x.size
    parts = np.empty(_blocks(n))
    for b in prange(parts.size):
        d = 0.0
        for i in _span(b, n):
            v = _ax(x, y, lin, beta, i)
            y[i] = v
            d += w[i] * v
        parts[b] = d
    return _sum(parts)


@njit(parallel=True, cache=True)
def finish_dot2(x, y, lin, beta):
    """``y <- A x`` from ``y = M x``; returns ``(y . x, y . y)`` (summed in fixed blocks)."""
    n = x.size
    nb = _blocks(n)
    p1 = np.empty(nb)
    p2 = np.empty(nb)
    for b in prange(nb):
        d1 = 0.0
        d2 = 0.0
        for i in _span(b, n):
            v = _ax(x, y, lin, beta, i)
            y[i] = v
            d1 += v * x[i]
            d2 += v * v
        p1[b] = d1
        p2[b] = d2
    return _sum(p1), _sum(p2)


@njit(parallel=True, cache=True)
def residual_from(b, y, lin, beta, x, r, iw):
    """``r = b - A x`` from ``y = M x``; returns ``max |r_i| * iw_i`` (``iw``: 1 / each row's own scale)."""
    m = 0.0
    for i in prange(x.size):
        v = b[i] - _ax(x, y, lin, beta, i)
        r[i] = v
        m = max(m, abs(v) * iw[i])
    return m


@njit(parallel=True, cache=True)
def update_p(p, r, v, bet, omega):
    for i in prange(p.size):
        p[i] = r[i] + bet * (p[i] - omega * v[i])


@njit(parallel=True, cache=True)
def axpy_norm(r, alpha, v, iw):
    """``r -= alpha * v``; returns ``max |r_i| * iw_i``."""
    m = 0.0
    for i in prange(r.size):
        t = r[i] - alpha * v[i]
        r[i] = t
        m = max(m, abs(t) * iw[i])
    return m


@njit(parallel=True, cache=True)
def update_xr(x, p, r, t, alpha, omega, rhat, iw):
    """``x += alpha p + omega r``; ``r -= omega t``; returns ``(max |r_i| * iw_i, rhat . r)`` (the dot product
    summed in fixed blocks)."""
    n = x.size
    nb = _blocks(n)
    pm = np.empty(nb)
    pd = np.empty(nb)
    for b in prange(nb):
        m = 0.0
        d = 0.0
        for i in _span(b, n):
            x[i] += alpha * p[i] + omega * r[i]
            v = r[i] - omega * t[i]
            r[i] = v
            m = max(m, abs(v) * iw[i])
            d += rhat[i] * v
        pm[b] = m
        pd[b] = d
    return _max(pm), _sum(pd)


@njit(parallel=True, cache=True)
def dot(a, b):
    """``a . b``, summed in fixed blocks."""
    n = a.size
    parts = np.empty(_blocks(n))
    for q in prange(parts.size):
        d = 0.0
        for i in _span(q, n):
            d += a[i] * b[i]
        parts[q] = d
    return _sum(parts)


# ----------------------------------------------------------------------------- the answer


@njit(cache=True, inline="always")
def _map_at(pb, ei, inflow, capi, forced_i, alpha, beta, tie):
    """The clearing map at one institution, ``T(p)_i`` given what it receives, as
    :func:`.core.clearing_map_from` computes it: 0 without obligations; ``pbar`` unless forced or short
    (resources below ``pbar - tie``); else ``alpha e + beta inflow`` cut to ``[0, cap]`` (NaN stays NaN, as
    in numpy's ``minimum`` / ``maximum``). Shared by every kernel that checks a fixed point."""
    if not pb > 0.0:
        return 0.0
    if not (forced_i or ei + inflow < pb - tie):
        return pb
    v = alpha * ei + beta * inflow
    v = capi if v > capi else v
    return 0.0 if v < 0.0 else v


@njit(parallel=True, cache=True)
def assemble(pos, x, mx, pbar, e, cap, forced, alpha, beta, tie_rtol, tie_abs, acc_p, a_eq):
    """Payments (written over ``acc_p``), equity (over ``a_eq``) and the fixed-point residual: ``(max |T(p) -
    p|, max |T(p)_i - p_i| / pbar_i)``.

    On entry ``acc_p`` holds the shortfall received by solvent institutions and
    ``a_eq`` the interbank assets ``PiT @ pbar``.
    """
    n = pbar.size
    res = 0.0
    rel = 0.0
    for i in prange(n):
        k = pos[i]
        if k >= 0:
            acc = mx[k]
            pi = pbar[i] - x[k]
            pi = min(max(pi, 0.0), pbar[i])
        else:
            acc = acc_p[i]
            pi = pbar[i]
        inflow = a_eq[i] - acc
        a_eq[i] = e[i] + inflow - pbar[i]
        acc_p[i] = pi
        t = _map_at(pbar[i], e[i], inflow, cap[i], forced[i], alpha, beta, tie_rtol * pbar[i] + tie_abs)
        res = max(res, abs(t - pi))
        if pbar[i] > 0.0:
            rel = max(rel, abs(t - pi) / pbar[i])
    return res, rel


@njit(parallel=True, cache=True)
def payment_form(ptr, idx, val, p, pbar, e, cap, forced, alpha, beta, tie_rtol, rtol, inflow):
    """The check of :func:`.solvers._verified` in one parallel pass: ``inflow = PiT @ p`` (each row added in
    order, as scipy's CSR product does: the same bits) and how many institutions are farther than
    ``rtol * pbar_i`` from the clearing map ``T(p)_i`` (:func:`.core.clearing_map_from`; NaN counts)."""
    bad = 0
    for i in prange(pbar.size):
        s = 0.0
        for k in range(ptr[i], ptr[i + 1]):
            s += val[k] * p[idx[k]]
        inflow[i] = s
        t = _map_at(pbar[i], e[i], s, cap[i], forced[i], alpha, beta, tie_rtol * pbar[i])
        if not abs(t - p[i]) <= rtol * pbar[i]:
            bad += 1
    return bad


# ----------------------------------------------------------------------------- many scenarios
#
# One scenario = one vector of external assets on a fixed network. The batch kernel spreads
# chunks of scenarios over the threads (dynamic scheduling); each scenario runs its own
# iteration on the shortfall ``s = pbar - p`` with its own convergence test. All per-node
# vectors are indexed by node (the network is small enough to stay in cache); indices are
# unsigned (no wrap-around code in the loops). ``h[i]`` is the value of ``acc[i]`` (shortfall
# received, ``PiT @ s``) above which ``i`` is short; it is set to +inf when ``i`` joins the
# default set (so a push never re-tests a member) and is NaN for institutions that owe nothing.
# Hubs (a small dense group of large institutions, e.g. the core of a core-periphery network)
# are solved together exactly (dense LU of ``I - beta * Pi[H, H]^T`` over the member hubs), the
# rest by Gauss--Seidel: a block Gauss--Seidel that converges in half the sweeps where the hubs
# owe each other most of what they owe.

_U0 = np.uint64(0)
_U1 = np.uint64(1)
#: LU pivots of the hub block below this are treated as singular (block not used for the scenario).
_MIN_PIVOT = 1e-3
#: In the monotone phase a hub block correction is shrunk by this factor, so that its rounding
#: can never lift an iterate above the fixed point.
_SHRINK = 1.0 - 1e-10


@njit(cache=True)
def _lu_factor(A, nh):
    """In-place LU of the leading ``nh x nh`` block without pivoting (an M-matrix); False if a pivot is small."""
    for k in range(nh):
        piv = A[k, k]
        if not piv > _MIN_PIVOT:
            return False
        inv = 1.0 / piv
        for r in range(k + 1, nh):
            f = A[r, k] * inv
            A[r, k] = f
            if f != 0.0:
                for c in range(k + 1, nh):
                    A[r, c] -= f * A[k, c]
    return True


@njit(cache=True)
def _lu_solve(A, nh, x):
    """Solve with the factors of :func:`_lu_factor`, in place in ``x[:nh]``."""
    for r in range(1, nh):
        v = x[r]
        for c in range(r):
            v -= A[r, c] * x[c]
        x[r] = v
    for r in range(nh - 1, -1, -1):
        v = x[r]
        for c in range(r + 1, nh):
            v -= A[r, c] * x[c]
        x[r] = v / A[r, r]


@njit(cache=True)
def _hub_block(hubs, Hm, h, thr, beta, blk, hsel, A, cache):
    """Select the member hubs that are not forced into default (``blk``, and their nodes in ``hsel``) and
    factor their block; returns how many (0: no block). ``cache[0]``: the bit pattern of the hubs in the
    factors held in ``A`` (reused when the same hubs are members)."""
    nh = 0
    pattern = _U0
    for r in range(hubs.size):
        i = hubs[r]
        blk[i] = False
        if h[i] == np.inf and thr[i] == -np.inf:
            nh += 1
            pattern |= _U1 << np.uint64(r)
    if nh < 2:
        return 0
    k = 0
    for r in range(hubs.size):
        if pattern & (_U1 << np.uint64(r)):
            hsel[k] = r
            k += 1
    if pattern != cache[0]:
        for p in range(nh):
            rp = hsel[p]
            for q in range(nh):
                A[p, q] = -beta * Hm[rp, hsel[q]]
            A[p, p] += 1.0
        if not _lu_factor(A, nh):
            cache[0] = _U0
            return 0
        cache[0] = pattern
    for p in range(nh):
        hsel[p] = hubs[hsel[p]]
        blk[hsel[p]] = True
    return nh


@njit(cache=True)
def _cascade(ptr, idx, val, thr, lo, pbar, ipbar, forced, hubs, Hm, beta, use_block, max_sweeps, max_cascade, s, acc,
             h, c0, blk, lst, hsel, A, x, cache, out):
    """Monotone phase: sweeps that push every change along all obligations, until one adds no defaulter
    (or ``max_cascade`` sweeps: later defaulters are found by the check from scratch).

    Starts from ``s = 0`` with the fundamental defaults; a defaulter joins ``lst`` as soon as it is
    short. Every iterate stays below the least fixed point, so every member is in the final default
    set. Returns ``(largest change of the last sweep relative to each institution's pbar, whether the
    hub block is still usable)``;
    ``out = (members, sweeps)``, sweeps -1 when ``max_sweeps`` was not enough.
    """
    n = pbar.size
    m = 0
    for i in range(n):
        if h[i] < 0.0 or forced[i]:
            h[i] = np.inf
            lst[m] = i
            m += 1
    sweeps = 0
    dmax = 0.0
    while True:
        sweeps += 1
        if sweeps > max_sweeps:
            out[0] = m
            out[1] = -1
            return dmax, use_block
        dmax = 0.0
        m0 = m
        if use_block and sweeps > 1:
            nh = _hub_block(hubs, Hm, h, thr, beta, blk, hsel, A, cache)
            if nh > 0:
                for r in range(nh):
                    i = hsel[r]
                    x[r] = max(c0[i] + beta * acc[i] - s[i], 0.0)
                _lu_solve(A, nh, x)
                ok = True
                for r in range(nh):
                    i = hsel[r]
                    x[r] = max(x[r], 0.0) * _SHRINK
                    if s[i] + x[r] > pbar[i]:
                        ok = False      # a hub would pay nothing: the linear block does not apply
                if ok:
                    # the push below (and in the sweep after it) is written out on purpose: moving it, or the
                    # shortfall update, into a helper function measured 15-30% slower on the hard batch
                    for r in range(nh):
                        i = hsel[r]
                        d = x[r]
                        dmax = max(dmax, d * ipbar[i])
                        s[i] += d
                        for t in range(ptr[i], ptr[i + _U1]):
                            j = idx[t]
                            v = acc[j] + val[t] * d
                            acc[j] = v
                            if v > h[j]:
                                h[j] = np.inf
                                lst[m] = j
                                m += 1
                else:
                    for r in range(nh):
                        blk[hsel[r]] = False
                    use_block = False
        q = 0
        while q < m:
            i = lst[q]
            q += 1
            if blk[i]:
                continue
            c = c0[i] + beta * acc[i]
            if c <= thr[i]:
                c = lo[i]
            c = min(c, pbar[i])
            d = c - s[i]
            if d > 0.0:
                s[i] = c
                dmax = max(dmax, d * ipbar[i])
                for t in range(ptr[i], ptr[i + _U1]):
                    j = idx[t]
                    v = acc[j] + val[t] * d
                    acc[j] = v
                    if v > h[j]:
                        h[j] = np.inf
                        lst[m] = j
                        m += 1
        if m == m0 or sweeps >= max_cascade:
            out[0] = m
            out[1] = sweeps
            return dmax, use_block


@njit(cache=True)
def _compact_rows(ptr, idx, val, h, lst, m, rbeg, rend, cidx, cval):
    """What members owe members: member ``i``'s row is ``cidx/cval[rbeg[i]:rend[i]]`` (branch-free filter)."""
    w = _U0
    for q in range(m):
        i = lst[q]
        rbeg[i] = w
        for t in range(ptr[i], ptr[i + _U1]):
            j = idx[t]
            cidx[w] = j
            cval[w] = val[t]
            w += np.uint64(h[j] == np.inf)
        rend[i] = w


@njit(cache=True)
def _settle(thr, lo, pbar, ipbar, beta, tol, nh, max_sweeps, sweeps, dprev, s, acc, c0, blk, lst, m, hsel, rbeg, rend,
            cidx, cval, A, x):
    """Block Gauss--Seidel sweeps over what members owe each other, until the largest change (relative to
    each institution's own pbar) is below ``tol`` (and, at the observed rate, so is what is left). Returns ``(sweeps, block still usable)``;
    sweeps -1 when ``max_sweeps`` was not enough."""
    ok = nh > 0
    while True:
        sweeps += 1
        if sweeps > max_sweeps:
            return -1, ok
        dmax = 0.0
        if ok:
            for r in range(nh):
                i = hsel[r]
                d = c0[i] + beta * acc[i] - s[i]
                x[r] = d
                dmax = max(dmax, abs(d) * ipbar[i])
            _lu_solve(A, nh, x)
            for r in range(nh):
                i = hsel[r]
                if s[i] + x[r] > pbar[i]:
                    ok = False
            if ok:
                for r in range(nh):
                    i = hsel[r]
                    d = x[r]
                    s[i] += d
                    for t in range(rbeg[i], rend[i]):
                        acc[cidx[t]] += cval[t] * d
            else:
                for r in range(nh):
                    blk[hsel[r]] = False
        for q in range(m):
            i = lst[q]
            if blk[i]:
                continue
            c = c0[i] + beta * acc[i]
            if c <= thr[i]:
                c = lo[i]
            c = min(c, pbar[i])
            d = c - s[i]
            if d != 0.0:
                dmax = max(dmax, abs(d) * ipbar[i])
                s[i] = c
                for t in range(rbeg[i], rend[i]):
                    acc[cidx[t]] += cval[t] * d
        # the error left is about dmax * rate / (1 - rate) (geometric convergence at the observed
        # rate): slow, nearly singular cases keep sweeping until that is small too
        rate = dmax / dprev if dprev > 0.0 else 0.0
        dprev = dmax
        if dmax <= tol and (rate < 0.5 or dmax * rate <= tol * (1.0 - rate)):
            return sweeps, ok or nh == 0


@njit(cache=True)
def _received_from_scratch(ptr, idx, val, s, acc, h, lst, m):
    """``acc = PiT @ s`` recomputed from scratch (no accumulated rounding); institutions now short join.
    Returns the new number of members."""
    for j in range(acc.size):
        acc[j] = 0.0
    for q in range(m):
        i = lst[q]
        si = s[i]
        for t in range(ptr[i], ptr[i + _U1]):
            acc[idx[t]] += val[t] * si
    for j in range(acc.size):
        if acc[j] > h[j]:
            h[j] = np.inf
            lst[m] = j
            m += 1
    return m


@njit(cache=True)
def _fixed_point_residual(a, pbar, ipbar, tiev, e, cap, forced, alpha, beta, s, acc, lst, m):
    """``(max |T(p) - p|, max |T(p)_i - p_i| / pbar_i)`` over the defaulters, ``T`` the clearing map (the
    others pay in full)."""
    res = 0.0
    rel = 0.0
    for q in range(m):
        i = lst[q]
        inflow = a[i] - acc[i]
        pi = min(max(pbar[i] - s[i], 0.0), pbar[i])
        t = _map_at(pbar[i], e[i], inflow, cap[i], forced[i], alpha, beta, tiev[i])
        res = max(res, abs(t - pi))
        rel = max(rel, abs(t - pi) * ipbar[i])
    return res, rel


@njit(cache=True)
def _gs_scenario(ptr, idx, val, a, bc, bh, tiev, pbar, thr, lo, e, cap, forced, hubs, Hm, alpha, beta, tol, accept,
                 ipbar, use_block, max_sweeps, max_cascade, s, acc, h, c0, blk, lst, hsel, rbeg, rend, cidx, cval, A, x, cache,
                 out):
    """Greatest clearing vector of one scenario (external assets ``e``).

    Returns ``(number of defaulters, sweeps, residual)``; the defaulters are ``lst[:m]`` and their
    shortfalls ``s``; sweeps is -1 when ``max_sweeps`` was not enough. Phase 1
    (:func:`_cascade`) finds the default set by monotone sweeps from ``s = 0``; phase 2
    (:func:`_settle`) converges the shortfalls on what the defaulters owe each other; then what
    everyone receives is recomputed from scratch, institutions found short join (and phase 2
    resumes on the larger set), and the answer is accepted when nobody new is short and every
    institution's fixed-point residual is at most ``accept`` of its own pbar (``tol`` is relative too).
    """
    n = pbar.size
    for i in range(n):
        s[i] = 0.0
        acc[i] = 0.0
        h[i] = bh[i] + e[i]
        c0[i] = bc[i] - alpha * e[i]
    for r in range(hubs.size):
        blk[hubs[r]] = False
    dprev, use_block = _cascade(ptr, idx, val, thr, lo, pbar, ipbar, forced, hubs, Hm, beta, use_block, max_sweeps,
                                max_cascade, s, acc, h, c0, blk, lst, hsel, A, x, cache, out)
    m = out[0]
    sweeps = out[1]
    if sweeps < 0:
        return m, -1, np.inf
    rebuild = True
    nh = 0
    while True:
        if rebuild:
            _compact_rows(ptr, idx, val, h, lst, m, rbeg, rend, cidx, cval)
            nh = _hub_block(hubs, Hm, h, thr, beta, blk, hsel, A, cache) if use_block else 0
        sweeps, ok = _settle(thr, lo, pbar, ipbar, beta, tol, nh, max_sweeps, sweeps, dprev, s, acc, c0, blk, lst, m, hsel,
                             rbeg, rend, cidx, cval, A, x)
        if sweeps < 0:
            return m, -1, np.inf
        if not ok:
            use_block = False
            nh = 0
        m0 = m
        m = _received_from_scratch(ptr, idx, val, s, acc, h, lst, m)
        dprev = np.inf
        rebuild = m > m0
        if rebuild:
            continue
        res, rel = _fixed_point_residual(a, pbar, ipbar, tiev, e, cap, forced, alpha, beta, s, acc, lst, m)
        if rel <= accept:
            return m, sweeps, res
        tol = tol * 0.1


@njit(parallel=True, cache=True)
def near_zero_columns(E, by_column, base, thr, out):
    """``out[k]``: whether some ``|E_ik + base_i| <= thr_i`` in scenario ``k`` (row ``E[k]``, or column ``E[:, k]``
    when ``by_column``); one pass over ``E``, nothing allocated."""
    K = out.size
    n = base.size
    for k in prange(K):
        hit = False
        for i in range(n):
            v = E[i, k] if by_column else E[k, i]
            if abs(v + base[i]) <= thr[i]:
                hit = True
                break
        out[k] = hit


@njit(parallel=True, cache=True)
def clear_batch(ptr, idx, val, a, bc, bh, tiev, pbar, thr, lo, E, by_column, cap, forced, hubs, Hm, alpha, beta, tol,
                accept, ipbar, use_block, max_sweeps, max_cascade, chunk, P, D, its, res):
    """Clear every scenario; results in rows of ``P`` (payments) and ``D`` (defaulted), shape (K, n).

    ``E`` holds the external assets: scenario ``k`` is row ``E[k]``, or column ``E[:, k]`` when
    ``by_column``. Chunks of ``chunk`` scenarios are the parallel work items (each with its own
    scratch vectors); the network's arrays are shared. Per-network constants (see
    :func:`contagion.clearing.batch.compiled_batch`): ``tol``, ``accept`` relative to each institution's
    pbar (``ipbar = 1 / pbar``, 0 where nothing is owed), ``bc = pbar - beta * a``, ``bh = a - pbar + tiev``
    (NaN where ``pbar == 0``), ``tiev`` the tie slack, ``thr``/``lo`` the forced-default threshold
    and floor of the shortfall (``-inf``/0 when not forced), ``hubs`` and their block ``Hm[r, c] =
    Pi[hubs[c], hubs[r]]``.
    """
    K = E.shape[1] if by_column else E.shape[0]
    n = pbar.size
    nnz = val.size
    nhc = max(hubs.size, 1)
    nchunks = (K + chunk - 1) // chunk
    for c in prange(nchunks):
        e = np.empty(n)
        s = np.empty(n)
        acc = np.empty(n)
        h = np.empty(n)
        c0 = np.empty(n)
        blk = np.zeros(n, dtype=np.bool_)
        lst = np.empty(n + 1, dtype=np.uint64)
        hsel = np.empty(nhc, dtype=np.int64)
        rbeg = np.empty(n, dtype=np.uint64)
        rend = np.empty(n, dtype=np.uint64)
        cidx = np.empty(nnz + 1, dtype=idx.dtype)
        cval = np.empty(nnz + 1)
        A = np.empty((nhc, nhc))
        x = np.empty(nhc)
        cache = np.zeros(1, dtype=np.uint64)
        out = np.zeros(2, dtype=np.int64)
        for k in range(c * chunk, min(K, (c + 1) * chunk)):
            if by_column:
                for i in range(n):
                    e[i] = E[i, k]
            else:
                for i in range(n):
                    e[i] = E[k, i]
            m, sw, r = _gs_scenario(ptr, idx, val, a, bc, bh, tiev, pbar, thr, lo, e, cap, forced, hubs, Hm, alpha,
                                    beta, tol, accept, ipbar, use_block, max_sweeps, max_cascade, s, acc, h, c0, blk, lst,
                                    hsel, rbeg, rend, cidx, cval, A, x, cache, out)
            Pk = P[k]
            Dk = D[k]
            for i in range(n):
                Pk[i] = pbar[i]
                Dk[i] = False
            for q in range(m):
                i = lst[q]
                Pk[i] = min(max(pbar[i] - s[i], 0.0), pbar[i])
                Dk[i] = True
            its[k] = sw
            res[k] = r
