"""Compiled building of the default-set layers (see :mod:`.fast`), in two steps each: count, then fill
arrays that numpy allocated (numpy asks for huge pages for large arrays; numba's allocations fault
4 kB at a time, which on the benchmark machine cost more than the fill itself)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import set_bits


@njit(parallel=True, cache=True)
def count_r(PiT_ptr, PiT_idx, new, bits, cnt):
    """``cnt[q + 1]`` = obligations owed to new member ``q`` by members (``cnt[0]`` untouched)."""
    for q in prange(new.size):
        i = new[q]
        c = 0
        for t in range(PiT_ptr[i], PiT_ptr[i + 1]):
            g = PiT_idx[t]
            if (bits[g >> 6] >> (g & 63)) & 1:
                c += 1
        cnt[q + 1] = c


@njit(parallel=True, cache=True)
def fill_r(PiT_ptr, PiT_idx, PiT_val, new, pos, bits, ptr, col, val):
    """Rows of the new members: obligations they are owed by members (compact columns)."""
    for q in prange(new.size):
        i = new[q]
        w = ptr[q]
        for t in range(PiT_ptr[i], PiT_ptr[i + 1]):
            g = PiT_idx[t]
            if (bits[g >> 6] >> (g & 63)) & 1:
                col[w] = pos[g]
                val[w] = PiT_val[t]
                w += 1


@njit(parallel=True, cache=True)
def count_out(Pi_ptr, Pi_idx, new, bits, newbits, cc, cb):
    """What each new member owes older members (``cc[q + 1]``) and non-members (``cb[q + 1]``).
    ``newbits``: the new members as a bitmap (two cache-resident bitmaps, no random read of ``pos``)."""
    for q in prange(new.size):
        j = new[q]
        nc = 0
        nb = 0
        for t in range(Pi_ptr[j], Pi_ptr[j + 1]):
            i = Pi_idx[t]
            w = i >> 6
            b = i & 63
            member = (bits[w] >> b) & 1
            nb += 1 - member
            nc += member & ~(newbits[w] >> b) & 1
        cc[q + 1] = nc
        cb[q + 1] = nb


@njit(parallel=True, cache=True)
def fill_out(Pi_ptr, Pi_idx, Pi_val, new, pos, bits, newbits, c_ptr, c_row, c_val, b_ptr, b_node, b_val):
    """The C block (creditors that are older members: compact index) and the B block (creditors not
    members: node id), by debtor; obligations between new members are in the R block."""
    for q in prange(new.size):
        j = new[q]
        wc = c_ptr[q]
        wb = b_ptr[q]
        for t in range(Pi_ptr[j], Pi_ptr[j + 1]):
            i = Pi_idx[t]
            if not (bits[i >> 6] >> (i & 63)) & 1:
                b_node[wb] = i
                b_val[wb] = Pi_val[t]
                wb += 1
            elif not (newbits[i >> 6] >> (i & 63)) & 1:
                c_row[wc] = pos[i]
                c_val[wc] = Pi_val[t]
                wc += 1


def build_r_block(PiT_ptr, PiT_idx, PiT_val, new, pos, bits):
    """``(ptr, col, val)``: rows of the new members of ``PiT`` restricted to members."""
    cnt = np.zeros(new.size + 1, dtype=np.int64)
    count_r(PiT_ptr, PiT_idx, new, bits, cnt)
    ptr = np.cumsum(cnt)
    col = np.empty(int(ptr[-1]), dtype=np.uint32)
    val = np.empty(int(ptr[-1]), dtype=np.float64)
    fill_r(PiT_ptr, PiT_idx, PiT_val, new, pos, bits, ptr, col, val)
    return ptr, col, val


def build_out_blocks(Pi_ptr, Pi_idx, Pi_val, new, pos, bits):
    """``(c_ptr, c_row, c_val, b_ptr, b_node, b_val)``: what the new members owe, by debtor (``pos`` and
    ``bits`` already include the new members)."""
    cc = np.zeros(new.size + 1, dtype=np.int64)
    cb = np.zeros(new.size + 1, dtype=np.int64)
    newbits = np.zeros_like(bits)
    set_bits(newbits, new)
    count_out(Pi_ptr, Pi_idx, new, bits, newbits, cc, cb)
    c_ptr = np.cumsum(cc)
    b_ptr = np.cumsum(cb)
    c_row = np.empty(int(c_ptr[-1]), dtype=np.uint32)
    c_val = np.empty(int(c_ptr[-1]), dtype=np.float64)
    b_node = np.empty(int(b_ptr[-1]), dtype=np.uint32)
    b_val = np.empty(int(b_ptr[-1]), dtype=np.float64)
    fill_out(Pi_ptr, Pi_idx, Pi_val, new, pos, bits, newbits, c_ptr, c_row, c_val, b_ptr, b_node, b_val)
    return c_ptr, c_row, c_val, b_ptr, b_node, b_val


#: A B block with fewer than ``n / SORT_BELOW`` entries is grouped by a sort rather than a transpose.
SORT_BELOW = 32


def boundary_by_creditor(b_ptr, b_node, b_val, n: int, nthreads: int, sort_below: int = SORT_BELOW):
    """The B block (by debtor) regrouped by creditor: ``(rows, ptr, col, val)`` with ``rows`` the
    creditors in increasing order, ``col`` the debtors' positions in the block. Built once per layer
    (a bucketed transpose, see :mod:`contagion._matrix_kernels`), it turns every later solvency check into
    gathers from the small default-set vector and writes in increasing order. Blocks with fewer than
    ``n / sort_below`` entries are grouped by a sort instead (same arrays)."""
    from .._matrix import row_parts
    from .._matrix_kernels import transpose_weighted

    k = b_ptr.size - 1
    m = b_node.size
    if m * sort_below < n:
        # few entries (the last rounds): a stable sort by creditor, O(m log m), instead of a transpose
        # whose parts are O(n); the same order inside each creditor (debtors ascending), so the same sums
        order = np.argsort(b_node, kind="stable")
        keys = b_node[order]
        debtors = np.repeat(np.arange(k, dtype=np.uint32), np.diff(b_ptr))[order]
        first = np.ones(m, dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        ptr = np.empty(starts.size + 1, dtype=np.int64)
        ptr[:-1] = starts
        ptr[-1] = m
        return keys[starts].astype(np.uint32), ptr, debtors, b_val[order]
    bounds = row_parts(b_ptr, nthreads)
    optr, oidx, oval, _ = transpose_weighted(b_ptr, b_node, b_val, n, bounds, np.zeros(k))
    rows = np.flatnonzero(optr[1:] != optr[:-1]).astype(np.uint32)
    ptr = np.empty(rows.size + 1, dtype=np.int64)
    ptr[:-1] = optr[rows]
    ptr[-1] = optr[-1]
    return rows, ptr, oidx.view(np.uint32), oval


@njit(parallel=True, cache=True)
def boundary_pull(rows, ptr, col, val, col0, x, bits, acc):
    """``acc[i] += sum of what the block's debtors fail to pay i`` for each creditor ``i`` of one B
    block that is not a member (each creditor appears once per block: no two threads write the
    same entry)."""
    for r in prange(rows.size):
        i = rows[r]
        if not (bits[i >> 6] >> (i & 63)) & 1:
            s = 0.0
            for k in range(ptr[r], ptr[r + 1]):
                s += val[k] * x[col0 + col[k]]
            acc[i] += s
