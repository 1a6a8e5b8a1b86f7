"""Compiled (numba) kernels of :mod:`contagion._matrix`: row scaling, the one-pass scan of a liabilities
matrix, and the transpose of a large CSR matrix, partitioned so that every scatter stays in cache.

Imported only when a large matrix is built (``import contagion`` does not import numba).

The transpose: a plain counting-sort transpose scatters each entry to a random place of an
``nnz``-long output and bumps a random one of ``ncols`` cursors: at 10^6
columns and 10^7 entries every access misses the cache (measured ~15 ns per
random access into an 8 MB vector on the 2-core benchmark machine, against
~3 ns into 1.5 MB). Here the columns are cut into buckets of
:data:`BUCKET` columns:

1. count the entries of every (part of the rows, bucket) -- a sequential read;
2. move each entry (its row, its column inside the bucket, its value) to its
   bucket's region, parts in row order -- sequential writes into a few
   hundred streams;
3. inside each bucket (in parallel), a counting sort by column: its cursors
   and its slice of the output fit in cache.

The order of the rows is kept at every step, so each row of the transpose
lists its columns in increasing order (sorted indices), and
``T @ w`` computed on the way (``rowsum``) adds the same products in the
same order as scipy's CSR product would.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Columns per bucket: the bucket's cursors (8 bytes each) stay in L1/L2.
BUCKET = 8192


@njit(parallel=True, cache=True)
def count_buckets(keys, entry_bounds, nkeys):
    """Entries per (part, bucket of keys), shape ``(parts, buckets)``: part ``t`` is the entries
    ``entry_bounds[t] .. entry_bounds[t + 1]`` (for a CSR matrix, ``ptr[row bounds]``), bucket ``b`` the keys
    (columns, or an edge list's rows) ``b * BUCKET ..``."""
    nparts = entry_bounds.size - 1
    nb = (nkeys + BUCKET - 1) // BUCKET
    cnt = np.zeros((nparts, nb), dtype=np.int64)
    for t in prange(nparts):
        ct = cnt[t]
        for k in range(entry_bounds[t], entry_bounds[t + 1]):
            ct[np.uint64(keys[k]) // BUCKET] += 1
    return cnt


def bucket_starts(cnt):
    """``start[t, b]``: where part ``t``'s entries of bucket ``b`` begin (buckets in order, parts in order inside
    each bucket; column ``nb`` is 0), and the number of entries."""
    nparts, nb = cnt.shape
    start = np.zeros((nparts, nb + 1), dtype=np.int64)
    flat = np.cumsum(cnt.T.ravel())
    start[:, :nb] = (flat - cnt.T.ravel()).reshape(nb, nparts).T
    return start, int(flat[-1]) if flat.size else 0


@njit(cache=True)
def _bucket_offsets(t_key, lo, hi, width, ptr, first):
    """Step 3's counting: ``cc[q]`` = where key ``first + q``'s entries of the bucket region ``lo .. hi`` go
    (``t_key``: each entry's key inside the bucket); also written to ``ptr[first + q]``."""
    cc = np.zeros(width + 1, dtype=np.int64)
    for d in range(lo, hi):
        cc[np.int64(t_key[d]) + 1] += 1
    acc = lo
    for q in range(width):
        acc += cc[q + 1]
        cc[q + 1] = acc
    cc[0] = lo
    for q in range(width):
        ptr[first + q] = cc[q]
    return cc


@njit(parallel=True, cache=True)
def transpose_fill(ptr, idx, val, ncols, bounds, start, w, t_col, out_ptr, out_idx, out_val, rowsum):
    """Steps 2 and 3 into preallocated arrays (numpy's allocations of large arrays use huge pages; numba's
    do not, and on the benchmark machine a 4 kB page fault costs more than the whole sort).

    ``start[t, b]``: where part ``t``'s entries of bucket ``b`` begin (parts in order inside each bucket).
    Fills ``out_ptr, out_idx, out_val`` (the transpose) and ``rowsum = T @ w``. A bucket's region is the
    same before and after step 3, so step 2 writes rows and values into the output arrays themselves
    (only the column inside the bucket, ``t_col``, needs a buffer of its own) and step 3 sorts each
    region through a copy the size of one bucket.
    """
    nparts = bounds.size - 1
    nb = (ncols + BUCKET - 1) // BUCKET
    nnz = out_idx.size
    # 2. move every entry to its bucket's region
    for t in prange(nparts):
        cur = start[t].copy()
        for i in range(bounds[t], bounds[t + 1]):
            for k in range(ptr[i], ptr[i + 1]):
                c = np.uint64(idx[k])
                b = c // BUCKET
                d = cur[b]
                out_idx[d] = i
                t_col[d] = c - b * BUCKET
                out_val[d] = val[k]
                cur[b] = d + 1
    # 3. counting sort by column inside each bucket
    for b in prange(nb):
        c0 = b * BUCKET
        width = min(BUCKET, ncols - c0)
        lo = start[0, b]
        hi = start[0, b + 1] if b + 1 < nb else nnz
        cc = _bucket_offsets(t_col, lo, hi, width, out_ptr, c0)
        rs = np.zeros(width)
        t_row = out_idx[lo:hi].copy()
        t_val = out_val[lo:hi].copy()
        for d in range(lo, hi):
            q = np.int64(t_col[d])
            o = cc[q]
            r = t_row[d - lo]
            v = t_val[d - lo]
            out_idx[o] = r
            out_val[o] = v
            cc[q] = o + 1
            # rows arrive in increasing order (w is read almost sequentially), so each sum adds the
            # same products in the same order as a CSR product with the transpose
            rs[q] += v * w[r]
        for q in range(width):
            rowsum[c0 + q] = rs[q]
    out_ptr[ncols] = nnz


def transpose_weighted(ptr, idx, val, ncols: int, bounds, w):
    """CSR of the transpose of ``(ptr, idx, val)`` (``bounds`` splits the rows among threads) and its
    product with ``w``: ``(out_ptr int64, out_idx int32, out_val float64, rowsum)``."""
    start, nnz = bucket_starts(count_buckets(idx, ptr[bounds], ncols))
    t_col = np.empty(nnz, dtype=np.uint16)
    out_ptr = np.empty(ncols + 1, dtype=np.int64)
    out_idx = np.empty(nnz, dtype=np.int32)
    out_val = np.empty(nnz, dtype=np.float64)
    rowsum = np.empty(ncols)
    if ncols:
        transpose_fill(ptr, idx, val, ncols, bounds, start, w, t_col, out_ptr, out_idx, out_val, rowsum)
    else:
        out_ptr[0] = 0
    return out_ptr, out_idx, out_val, rowsum


# ----------------------------------------------------------------------------- a network's matrices


@njit(parallel=True, cache=True)
def scale_rows(ptr, val, d, out):
    """``out[k] = val[k] / d[row(k)]`` (rows with ``d == 0`` have no entries)."""
    for i in prange(ptr.size - 1):
        di = d[i]
        for k in range(ptr[i], ptr[i + 1]):
            out[k] = val[k] / di


@njit(parallel=True, cache=True)
def scan_copy(ptr, idx, val, ncols, bounds, out_idx, out_val, rowsum):
    """One pass over a CSR matrix: copy its index and value arrays, sum its rows, and count what a
    network's liabilities matrix must not have.

    ``bounds`` splits the rows among the parts (threads). Returns the counts
    ``[indices not strictly increasing in their row, values negative or not finite, nonzero
    diagonal entries, explicit zeros, column indices out of range]``; the row sums add the row's
    entries in order.
    """
    nparts = bounds.size - 1
    counts = np.zeros((nparts, 5), dtype=np.int64)
    for t in prange(nparts):
        unsorted = 0
        bad = 0
        diag = 0
        zeros = 0
        outside = 0
        for i in range(bounds[t], bounds[t + 1]):
            s = 0.0
            prev = -1
            for k in range(ptr[i], ptr[i + 1]):
                j = np.int64(idx[k])
                v = val[k]
                out_idx[k] = idx[k]
                out_val[k] = v
                unsorted += j <= prev
                outside += (j < 0) | (j >= ncols)
                prev = j
                ok = (v >= 0.0) & (v < np.inf)       # False for NaN too
                bad += not ok
                zeros += v == 0.0
                diag += (j == i) & (v != 0.0)
                s += v
            rowsum[i] = s
        counts[t, 0] = unsorted
        counts[t, 1] = bad
        counts[t, 2] = diag
        counts[t, 3] = zeros
        counts[t, 4] = outside
    return counts.sum(axis=0)


# ----------------------------------------------------------------------------- an edge list's matrix


@njit(parallel=True, cache=True)
def edges_fill(rows, cols, vals, nrows, bounds, start, t_row, ptr, idx, val, kept):
    """The CSR of an edge list, by the bucketed counting sort of :func:`transpose_fill`.

    2. move every edge (its row inside its bucket, its column, its amount) to its bucket's region, parts
       of the list in order; 3. inside each bucket, a counting sort by row (``ptr``), then each row sorted
       by column (a stable insertion sort: rows are short) with the amounts of a repeated pair added in
       the order of the list, zero sums dropped. ``kept[r]``: entries left in row ``r``, which start at
       ``ptr[r]``; the caller closes the gaps.
    """
    nparts = bounds.size - 1
    nb = (nrows + BUCKET - 1) // BUCKET
    nnz = idx.size
    for t in prange(nparts):
        cur = start[t].copy()
        for k in range(bounds[t], bounds[t + 1]):
            r = np.uint64(rows[k])
            b = r // BUCKET
            d = cur[b]
            t_row[d] = r - b * BUCKET
            idx[d] = cols[k]
            val[d] = vals[k]
            cur[b] = d + 1
    for b in prange(nb):
        r0 = b * BUCKET
        width = min(BUCKET, nrows - r0)
        lo = start[0, b]
        hi = start[0, b + 1] if b + 1 < nb else nnz
        cc = _bucket_offsets(t_row, lo, hi, width, ptr, r0)
        b_idx = idx[lo:hi].copy()
        b_val = val[lo:hi].copy()
        for d in range(lo, hi):
            q = np.int64(t_row[d])
            o = cc[q]
            idx[o] = b_idx[d - lo]
            val[o] = b_val[d - lo]
            cc[q] = o + 1
        for q in range(width):
            a = ptr[r0 + q]
            e = cc[q]  # the row's end after the sort
            for s in range(a + 1, e):  # stable insertion sort by column
                c, v = idx[s], val[s]
                u = s - 1
                while u >= a and idx[u] > c:
                    idx[u + 1] = idx[u]
                    val[u + 1] = val[u]
                    u -= 1
                idx[u + 1] = c
                val[u + 1] = v
            w = a
            s = a
            while s < e:  # add repeated pairs in the order of the list; drop zero sums
                c = idx[s]
                total = val[s]
                s += 1
                while s < e and idx[s] == c:
                    total += val[s]
                    s += 1
                if total != 0.0:
                    idx[w] = c
                    val[w] = total
                    w += 1
            kept[r0 + q] = w - a


@njit(cache=True)
def close_gaps(ptr, kept, idx, val, new_ptr):
    """Move each row's kept entries (at ``ptr[r]``, ``kept[r]`` of them) down to ``new_ptr[r] <= ptr[r]``, in
    place, rows in order (a row only ever moves into space already read)."""
    for r in range(kept.size):
        a, o = ptr[r], new_ptr[r]
        if a != o:
            for k in range(kept[r]):
                idx[o + k] = idx[a + k]
                val[o + k] = val[a + k]


def csr_of_edges(rows, cols, vals, nrows: int, bounds):
    """``(ptr int64, idx, val)``: the CSR of the edges ``rows[k] -> cols[k]`` carrying ``vals[k]``, columns
    sorted in each row, repeated pairs added in list order, zero sums left out (``bounds`` splits the list
    among threads). ``idx`` has the dtype of ``cols``."""
    m = rows.size
    start, _ = bucket_starts(count_buckets(rows, bounds, nrows))
    t_row = np.empty(m, dtype=np.uint16)
    ptr = np.empty(nrows + 1, dtype=np.int64)
    idx = np.empty(m, dtype=cols.dtype)
    val = np.empty(m, dtype=np.float64)
    kept = np.empty(nrows, dtype=np.int64)
    if nrows:
        edges_fill(rows, cols, vals, nrows, bounds, start, t_row, ptr, idx, val, kept)
    new_ptr = np.zeros(nrows + 1, dtype=np.int64)
    np.cumsum(kept, out=new_ptr[1:])
    if new_ptr[-1] == m:
        return new_ptr, idx, val
    close_gaps(ptr, kept, idx, val, new_ptr)  # in place: a copy would hold the matrix twice at its peak
    nnz = new_ptr[-1]
    return new_ptr, idx[:nnz], val[:nnz]
