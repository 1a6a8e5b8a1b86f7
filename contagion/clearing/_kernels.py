"""Compiled (numba) kernels of the fast clearing paths; imported lazily by :mod:`.fast`.

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
    cnt = 0
    for i in prange(pbar.size):
        s = a[i]
        a_out[i] = s
        sh = pbar[i] > 0.0 and (forced[i] or e[i] + s < pbar[i] - (tie_rtol * pbar[i] + tie_abs))
        short_out[i] = sh
        if sh:
            cnt += 1
    return cnt


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


@njit(parallel=True, cache=True)
def finish_dot(x, y, lin, beta, w):
    """``y <- A x`` from ``y = M x``; returns ``w . y``."""
    d = 0.0
    for i in prange(x.size):
        v = x[i] - beta * y[i] if lin[i] else x[i]
        y[i] = v
        d += w[i] * v
    return d


@njit(parallel=True, cache=True)
def finish_dot2(x, y, lin, beta):
    """``y <- A x`` from ``y = M x``; returns ``(y . x, y . y)``."""
    d1 = 0.0
    d2 = 0.0
    for i in prange(x.size):
        v = x[i] - beta * y[i] if lin[i] else x[i]
        y[i] = v
        d1 += v * x[i]
        d2 += v * v
    return d1, d2


@njit(parallel=True, cache=True)
def residual_from(b, y, lin, beta, x, r):
    """``r = b - A x`` from ``y = M x``; returns ``max |r|``."""
    m = 0.0
    for i in prange(x.size):
        v = b[i] - (x[i] - beta * y[i] if lin[i] else x[i])
        r[i] = v
        m = max(m, abs(v))
    return m


@njit(parallel=True, cache=True)
def update_p(p, r, v, bet, omega):
    for i in prange(p.size):
        p[i] = r[i] + bet * (p[i] - omega * v[i])


@njit(parallel=True, cache=True)
def axpy_norm(r, alpha, v):
    """``r -= alpha * v``; returns ``max |r|``."""
    m = 0.0
    for i in prange(r.size):
        t = r[i] - alpha * v[i]
        r[i] = t
        m = max(m, abs(t))
    return m


@njit(parallel=True, cache=True)
def update_xr(x, p, r, t, alpha, omega, rhat):
    """``x += alpha p + omega r``; ``r -= omega t``; returns ``(max |r|, rhat . r)``."""
    m = 0.0
    d = 0.0
    for i in prange(x.size):
        x[i] += alpha * p[i] + omega * r[i]
        v = r[i] - omega * t[i]
        r[i] = v
        m = max(m, abs(v))
        d += rhat[i] * v
    return m, d


@njit(parallel=True, cache=True)
def dot(a, b):
    d = 0.0
    for i in prange(a.size):
        d += a[i] * b[i]
    return d


# ----------------------------------------------------------------------------- the answer


@njit(parallel=True, cache=True)
def assemble(pos, x, mx, pbar, e, cap, forced, alpha, beta, tie_rtol, tie_abs, acc_p, a_eq):
    """Payments (written over ``acc_p``), equity (over ``a_eq``) and the fixed-point residual.

    On entry ``acc_p`` holds the shortfall received by solvent institutions and
    ``a_eq`` the interbank assets ``PiT @ pbar``.
    """
    n = pbar.size
    res = 0.0
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
        if pbar[i] > 0.0:
            if (not forced[i]) and e[i] + inflow >= pbar[i] - (tie_rtol * pbar[i] + tie_abs):
                t = pbar[i]
            else:
                t = min(cap[i], max(0.0, alpha * e[i] + beta * inflow))
        else:
            t = 0.0
        res = max(res, abs(t - pi))
    return res


# ----------------------------------------------------------------------------- many scenarios


@njit(cache=True)
def _update(i, s, acc, c0, pbar, cap, forced, beta, tie_rtol, tie_abs):
    """New shortfall of defaulter ``i`` given what it receives; returns the increase (>= 0 or negative)."""
    c = c0[i] + beta * acc[i]
    if forced[i]:
        lo = pbar[i] - cap[i]
        if c <= lo + (tie_rtol * pbar[i] + tie_abs):
            c = lo
    if c > pbar[i]:
        c = pbar[i]
    return c - s[i]


@njit(cache=True)
def _gs_scenario(Pi_ptr, Pi_idx, Pi_val, a, pbar, e, cap, forced, alpha, beta, tie_rtol, tie_abs, tol,
                 accept, switch, omega, max_sweeps, s, acc, c0, h, mem, lst, cptr, cidx, cval):
    """Greatest clearing vector of one scenario by monotone Gauss--Seidel on the shortfall.

    Works in place on scratch vectors of length n: ``s`` (shortfall
    ``pbar - p``), ``acc`` (shortfall received, ``PiT @ s``), ``c0``
    (``pbar - alpha e - beta a``), ``h`` (the value of ``acc`` above which an
    institution is short), ``mem`` (defaulted), ``lst`` (defaulters in order
    of default), and the compact lists ``cptr, cidx, cval`` (what defaulters
    owe each other). Returns ``(number of defaulters, sweeps, residual)``;
    sweeps is -1 when ``max_sweeps`` was not enough.

    Starting from ``s = 0`` (everyone pays in full) the iteration only ever
    raises shortfalls, so every iterate is below the least fixed point (the
    greatest clearing vector) and an institution short at an iterate is in
    the final default set. Phase 1 pushes every change along all obligations
    of the defaulter, so that institutions join as soon as they are short;
    once the default set has settled (a sweep without newcomers and changes
    below ``switch``), phase 2 sweeps only over what defaulters owe each
    other; then what everyone receives is recomputed from scratch,
    institutions found short join and the sweeps resume; the answer is
    accepted when nobody new is short and the residual is below ``accept``.
    """
    n = pbar.size
    m = 0
    for i in range(n):
        s[i] = 0.0
        acc[i] = 0.0
        mem[i] = False
        c0[i] = pbar[i] - alpha * e[i] - beta * a[i]
        # short  <=>  e + (a - acc) < pbar - tie  <=>  acc > e + a - pbar + tie
        if pbar[i] > 0.0:
            h[i] = (e[i] + a[i] - pbar[i]) + (tie_rtol * pbar[i] + tie_abs)
            if forced[i] or h[i] < 0.0:
                mem[i] = True
                lst[m] = i
                m += 1
        else:
            h[i] = np.inf
    sweeps = 0
    # ---- phase 1: full pushes until the default set settles
    while True:
        sweeps += 1
        if sweeps > max_sweeps:
            return m, -1, np.inf
        dmax = 0.0
        m0 = m
        q = 0
        while q < m:
            i = lst[q]
            q += 1
            d = _update(i, s, acc, c0, pbar, cap, forced, beta, tie_rtol, tie_abs)
            if d > 0.0:
                s[i] += d
                if d > dmax:
                    dmax = d
                for t in range(Pi_ptr[i], Pi_ptr[i + 1]):
                    j = Pi_idx[t]
                    v = acc[j] + Pi_val[t] * d
                    acc[j] = v
                    if v > h[j] and not mem[j]:
                        mem[j] = True
                        lst[m] = j
                        m += 1
        if m == m0 and dmax <= switch:
            break
    while True:
        # ---- phase 2: sweeps over what defaulters owe each other
        w = 0
        for q in range(m):
            i = lst[q]
            cptr[q] = w
            for t in range(Pi_ptr[i], Pi_ptr[i + 1]):
                j = Pi_idx[t]
                if mem[j]:
                    cidx[w] = j
                    cval[w] = Pi_val[t]
                    w += 1
        cptr[m] = w
        dprev = np.inf
        while True:
            sweeps += 1
            if sweeps > max_sweeps:
                return m, -1, np.inf
            dmax = 0.0
            for q in range(m):
                i = lst[q]
                d = _update(i, s, acc, c0, pbar, cap, forced, beta, tie_rtol, tie_abs)
                if d != 0.0:
                    ad = abs(d)
                    if ad > dmax:
                        dmax = ad
                    d *= omega
                    if s[i] + d > pbar[i]:
                        d = pbar[i] - s[i]
                    s[i] += d
                    for t in range(cptr[q], cptr[q + 1]):
                        acc[cidx[t]] += cval[t] * d
            # the error left is about dmax * rate / (1 - rate) (geometric convergence at the observed
            # rate): slow, nearly singular cases keep sweeping until that is small too
            rate = dmax / dprev if dprev > 0.0 else 0.0
            dprev = dmax
            if dmax <= tol and (rate < 0.5 or dmax * rate <= tol * (1.0 - rate)):
                break
        # ---- what everyone receives, recomputed from scratch (no accumulated rounding); institutions
        #      now short join and the sweeps resume
        for j in range(n):
            acc[j] = 0.0
        for q in range(m):
            i = lst[q]
            si = s[i]
            if si != 0.0:
                for t in range(Pi_ptr[i], Pi_ptr[i + 1]):
                    acc[Pi_idx[t]] += Pi_val[t] * si
        m0 = m
        for j in range(n):
            if not mem[j] and acc[j] > h[j]:
                mem[j] = True
                lst[m] = j
                m += 1
        if m > m0:
            continue
        res = 0.0
        for q in range(m):
            i = lst[q]
            inflow = a[i] - acc[i]
            pi = min(max(pbar[i] - s[i], 0.0), pbar[i])
            if (not forced[i]) and e[i] + inflow >= pbar[i] - (tie_rtol * pbar[i] + tie_abs):
                t_ = pbar[i]
            else:
                t_ = min(cap[i], max(0.0, alpha * e[i] + beta * inflow))
            r = abs(t_ - pi)
            if r > res:
                res = r
        if res <= accept:
            return m, sweeps, res
        tol = tol * 0.1


@njit(parallel=True, cache=True)
def clear_batch(Pi_ptr, Pi_idx, Pi_val, a, pbar, E, cap, forced, alpha, beta, tie_rtol, tie_abs, tol, accept,
                switch, omega, max_sweeps, nthreads, P, D, its, res):
    """Clear every row of ``E`` (scenarios x institutions); results in rows of ``P``, ``D``.

    Scenarios are spread over the threads, each with its own scratch vectors
    and its own convergence test; the network stays shared (and in cache).
    """
    K = E.shape[0]
    n = pbar.size
    nnz = Pi_val.size
    nth = min(nthreads, max(K, 1))
    for t in prange(nth):
        s = np.empty(n)
        acc = np.empty(n)
        c0 = np.empty(n)
        h = np.empty(n)
        mem = np.empty(n, dtype=np.bool_)
        lst = np.empty(n, dtype=np.int32)
        cptr = np.empty(n + 1, dtype=np.int64)
        cidx = np.empty(nnz, dtype=Pi_idx.dtype)
        cval = np.empty(nnz)
        for k in range(t, K, nth):
            m, sw, r = _gs_scenario(Pi_ptr, Pi_idx, Pi_val, a, pbar, E[k], cap, forced, alpha, beta, tie_rtol,
                                    tie_abs, tol, accept, switch, omega, max_sweeps, s, acc, c0, h, mem, lst,
                                    cptr, cidx, cval)
            for i in range(n):
                P[k, i] = pbar[i]
                D[k, i] = False
            for q in range(m):
                i = lst[q]
                P[k, i] = min(max(pbar[i] - s[i], 0.0), pbar[i])
                D[k, i] = True
            its[k] = sw
            res[k] = r


# ----------------------------------------------------------------------------- building the network's matrices


@njit(parallel=True, cache=True)
def scale_rows(ptr, val, d, out):
    """``out[k] = val[k] / d[row(k)]`` (rows with ``d == 0`` have no entries)."""
    for i in prange(ptr.size - 1):
        di = d[i]
        for k in range(ptr[i], ptr[i + 1]):
            out[k] = val[k] / di


