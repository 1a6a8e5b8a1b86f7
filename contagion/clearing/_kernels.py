"""Compiled (numba) kernels of the fast clearing paths; imported lazily by :mod:`.fast`.

Everything here works on plain arrays. Conventions (see :mod:`.fast` for the
algorithm): the *shortfall* ``s = pbar - p`` of the members of the current
default set is kept in a compact vector indexed in the order in which the
members joined; ``pos[node]`` is a node's compact index (-1 when solvent).

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
def init_pass(PiT_ptr, PiT_idx, PiT_val, pbar, e, forced, tie_rtol, tie_abs, a_out, short_out):
    """``a = PiT @ pbar`` and round-0 defaults; returns their number."""
    n = pbar.size
    cnt = 0
    for i in prange(n):
        s = 0.0
        for k in range(PiT_ptr[i], PiT_ptr[i + 1]):
            s += PiT_val[k] * pbar[PiT_idx[k]]
        a_out[i] = s
        sh = pbar[i] > 0.0 and (forced[i] or e[i] + s < pbar[i] - (tie_rtol * pbar[i] + tie_abs))
        short_out[i] = sh
        if sh:
            cnt += 1
    return cnt


@njit(cache=True)
def collect_short(pos, pbar, e, a, acc, tie_rtol, tie_abs):
    """Solvent institutions that are short given ``acc`` (shortfall received): sorted node ids."""
    n = pbar.size
    cnt = 0
    for i in range(n):
        if pos[i] < 0 and pbar[i] > 0.0 and e[i] + (a[i] - acc[i]) < pbar[i] - (tie_rtol * pbar[i] + tie_abs):
            cnt += 1
    out = np.empty(cnt, dtype=np.int32)
    j = 0
    for i in range(n):
        if pos[i] < 0 and pbar[i] > 0.0 and e[i] + (a[i] - acc[i]) < pbar[i] - (tie_rtol * pbar[i] + tie_abs):
            out[j] = i
            j += 1
    return out


# ----------------------------------------------------------------------------- building the layers


@njit(parallel=True, cache=True)
def build_r_block(PiT_ptr, PiT_idx, PiT_val, new, pos):
    """Rows of the new members: obligations they are owed by any member (compact columns)."""
    k = new.size
    cnt = np.zeros(k + 1, dtype=np.int64)
    for q in prange(k):
        i = new[q]
        c = 0
        for t in range(PiT_ptr[i], PiT_ptr[i + 1]):
            if pos[PiT_idx[t]] >= 0:
                c += 1
        cnt[q + 1] = c
    ptr = np.cumsum(cnt)
    col = np.empty(ptr[k], dtype=np.int32)
    val = np.empty(ptr[k], dtype=np.float64)
    for q in prange(k):
        i = new[q]
        w = ptr[q]
        for t in range(PiT_ptr[i], PiT_ptr[i + 1]):
            j = pos[PiT_idx[t]]
            if j >= 0:
                col[w] = j
                val[w] = PiT_val[t]
                w += 1
    return ptr, col, val


@njit(cache=True)
def build_out_blocks(Pi_ptr, Pi_idx, Pi_val, new, pos, start, count):
    """What the new members owe, grouped by creditor.

    Returns ``(c_rows, c_ptr, c_col, c_val, b_rows, b_ptr, b_col, b_val)``:
    the C block (creditors that are older members, rows = their compact
    index) and the B block (creditors still solvent, rows = node ids).
    ``count`` is a zeroed int64 scratch array of length n, left zeroed.
    """
    nc = 0
    nb = 0
    rows_c = 0
    rows_b = 0
    for q in range(new.size):
        j = new[q]
        for t in range(Pi_ptr[j], Pi_ptr[j + 1]):
            i = Pi_idx[t]
            p = pos[i]
            if p >= start:
                continue  # same round: in the R block of i
            if count[i] == 0:
                if p >= 0:
                    rows_c += 1
                else:
                    rows_b += 1
            count[i] += 1
            if p >= 0:
                nc += 1
            else:
                nb += 1
    c_rows = np.empty(rows_c, dtype=np.int32)
    b_rows = np.empty(rows_b, dtype=np.int32)
    c_node = np.empty(rows_c, dtype=np.int32)
    c_ptr = np.empty(rows_c + 1, dtype=np.int64)
    b_ptr = np.empty(rows_b + 1, dtype=np.int64)
    c_col = np.empty(nc, dtype=np.int32)
    c_val = np.empty(nc, dtype=np.float64)
    b_col = np.empty(nb, dtype=np.int32)
    b_val = np.empty(nb, dtype=np.float64)
    # second pass: give each creditor a row; count[i] becomes -(row + 1)
    rc = 0
    rb = 0
    oc = 0
    ob = 0
    for q in range(new.size):
        j = new[q]
        for t in range(Pi_ptr[j], Pi_ptr[j + 1]):
            i = Pi_idx[t]
            p = pos[i]
            c = count[i]
            if p >= start or c <= 0:
                continue
            if p >= 0:
                c_rows[rc] = p
                c_node[rc] = i
                c_ptr[rc] = oc
                oc += c
                count[i] = -(rc + 1)
                rc += 1
            else:
                b_rows[rb] = i
                b_ptr[rb] = ob
                ob += c
                count[i] = -(rb + 1)
                rb += 1
    c_ptr[rows_c] = oc
    b_ptr[rows_b] = ob
    # third pass: fill, using the row pointers as write cursors
    for q in range(new.size):
        j = new[q]
        pj = pos[j]
        for t in range(Pi_ptr[j], Pi_ptr[j + 1]):
            i = Pi_idx[t]
            p = pos[i]
            if p >= start:
                continue
            r = -count[i] - 1
            if p >= 0:
                w = c_ptr[r]
                c_col[w] = pj
                c_val[w] = Pi_val[t]
                c_ptr[r] = w + 1
            else:
                w = b_ptr[r]
                b_col[w] = pj
                b_val[w] = Pi_val[t]
                b_ptr[r] = w + 1
    # every cursor now points at the start of the next row: shift back, clear the scratch
    for r in range(rows_c, 0, -1):
        c_ptr[r] = c_ptr[r - 1]
    c_ptr[0] = 0
    for r in range(rows_b, 0, -1):
        b_ptr[r] = b_ptr[r - 1]
    b_ptr[0] = 0
    for r in range(rows_c):
        count[c_node[r]] = 0
    for r in range(rows_b):
        count[b_rows[r]] = 0
    return c_rows, c_ptr, c_col, c_val, b_rows, b_ptr, b_col, b_val


# ----------------------------------------------------------------------------- products with the layers


@njit(parallel=True, cache=True)
def spmv_r(ptr, col, val, row0, x, y):
    """``y[row0 + q] = sum_k val[k] * x[col[k]]`` over the rows of an R block (assigns)."""
    for q in prange(ptr.size - 1):
        s = 0.0
        for k in range(ptr[q], ptr[q + 1]):
            s += val[k] * x[col[k]]
        y[row0 + q] = s


@njit(parallel=True, cache=True)
def spmv_c(rows, ptr, col, val, x, y):
    """``y[rows[q]] += sum_k val[k] * x[col[k]]`` over the rows of a C block (adds)."""
    for q in prange(rows.size):
        s = 0.0
        for k in range(ptr[q], ptr[q + 1]):
            s += val[k] * x[col[k]]
        y[rows[q]] += s


@njit(parallel=True, cache=True)
def boundary_acc(rows, ptr, col, val, x, pos, acc):
    """Shortfall received by institutions still solvent: ``acc[node] += ...`` over a B block."""
    for q in prange(rows.size):
        i = rows[q]
        if pos[i] < 0:
            s = 0.0
            for k in range(ptr[q], ptr[q + 1]):
                s += val[k] * x[col[k]]
            acc[i] += s


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
