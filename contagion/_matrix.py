"""Sparse-matrix helpers of a network, compiled for large matrices: ``Pi``, ``Pi.T`` and the one-pass scan.

This module sits below :mod:`contagion.network` (and :mod:`contagion.clearing`
imports from it). It imports numpy and scipy only; the compiled kernels
(:mod:`contagion._matrix_kernels`, numba) are imported the first time a matrix
with at least :data:`BUILD_MIN_NNZ` entries is built, so ``import contagion``
never imports numba. Without numba every helper takes the scipy path, with the
same results.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

__all__ = ["numba_available", "threads", "relative_matrix", "scan_matrix", "transpose", "row_parts", "uidx",
           "BUILD_MIN_NNZ"]

#: Matrices with at least this many entries are built by the compiled kernels (when numba is available).
BUILD_MIN_NNZ = 200_000


@functools.cache
def numba_available() -> bool:
    """Whether numba can be imported (the compiled kernels can run)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def threads() -> int:
    """Threads numba runs its parallel loops on (numba must be available)."""
    import numba

    return max(1, int(numba.get_num_threads()))


def uidx(a: np.ndarray) -> np.ndarray:
    """Index array reinterpreted as unsigned (no copy): the compiled gathers skip the negative-index check."""
    if a.dtype == np.int32:
        return a.view(np.uint32)
    if a.dtype == np.int64:
        return a.view(np.uint64)
    return a.astype(np.uint64)


def row_parts(ptr: np.ndarray, nparts: int) -> np.ndarray:
    """Row bounds splitting a CSR (row pointers ``ptr``) into ``nparts`` parts with about equal entries.

    >>> row_parts(np.array([0, 5, 5, 6, 10]), 2).tolist()
    [0, 1, 4]
    """
    nrows = ptr.size - 1
    bounds = np.searchsorted(ptr, np.linspace(0, ptr[-1], nparts + 1)).astype(np.int64)
    bounds[0], bounds[-1] = 0, nrows
    return np.maximum.accumulate(np.minimum(bounds, nrows))


def _compiled(A: sp.csr_array, min_nnz: int) -> bool:
    return A.nnz >= min_nnz and A.shape[0] < 2**31 and A.shape[1] < 2**31 and numba_available()


def _thread_parts(A: sp.csr_array) -> np.ndarray:
    """Row bounds splitting ``A`` into one part per thread (at most 8) with about equal entries."""
    return row_parts(A.indptr, max(1, min(threads(), 8)))


def relative_matrix(L: sp.csr_array, pbar: np.ndarray, *, min_nnz: int = BUILD_MIN_NNZ) -> sp.csr_array:
    """``Pi = diag(1 / pbar) @ L`` as CSR, sharing ``L``'s index arrays (``L`` is never mutated).

    Rows with ``pbar == 0`` are empty (``pbar`` is at least the row sum). Matrices
    with at least ``min_nnz`` entries are scaled by a compiled two-threaded pass
    (same divisions, same result).

    >>> L = sp.csr_array(np.array([[0, 2.0], [0, 0]]))
    >>> relative_matrix(L, np.array([4.0, 0.0])).toarray().tolist()
    [[0.0, 0.5], [0.0, 0.0]]
    """
    if _compiled(L, min_nnz):
        from ._matrix_kernels import scale_rows

        data = np.empty_like(L.data)
        scale_rows(L.indptr, L.data, np.ascontiguousarray(pbar, dtype=np.float64), data)
    else:
        data = L.data / np.repeat(pbar, np.diff(L.indptr))
    out = sp.csr_array((data, L.indices, L.indptr), shape=L.shape, copy=False)
    out.has_sorted_indices = True
    return out


def scan_matrix(M: sp.csr_array, *, min_nnz: int = BUILD_MIN_NNZ):
    """A copy of a large CSR matrix, its row sums and its defects, from one compiled pass.

    Returns ``None`` when ``M`` has fewer than ``min_nnz`` entries or numba is
    unavailable (the caller then uses scipy). Otherwise ``(copy, rowsum,
    defects)``: ``copy`` shares nothing with ``M``; ``rowsum[i]`` adds row
    ``i``'s entries in order; ``defects`` counts, by name, entries out of column
    order or duplicated (``"unsorted"``), negative or non-finite values
    (``"bad"``), nonzero diagonal entries (``"diagonal"``), explicit zeros
    (``"zeros"``) and column indices outside the matrix (``"outside"``).
    """
    if not _compiled(M, min_nnz):
        return None
    from ._matrix_kernels import scan_copy

    idx = np.empty_like(M.indices)
    val = np.empty(M.nnz)
    rowsum = np.empty(M.shape[0])
    counts = scan_copy(M.indptr, M.indices, np.ascontiguousarray(M.data, dtype=np.float64), M.shape[1],
                       _thread_parts(M), idx, val, rowsum)
    copy = sp.csr_array((val, idx, M.indptr.copy()), shape=M.shape, copy=False)
    names = ("unsorted", "bad", "diagonal", "zeros", "outside")
    return copy, rowsum, dict(zip(names, (int(c) for c in counts)))


def transpose(A: sp.csr_array, weights: np.ndarray | None = None, *, min_nnz: int = BUILD_MIN_NNZ):
    """``A.T`` as CSR with sorted indices; with ``weights``, also ``A.T @ weights``.

    Matrices with at least ``min_nnz`` entries (when numba is available): the
    two-threaded bucketed transpose of :mod:`contagion._matrix_kernels`, which
    keeps every scatter in cache (measured 0.14 s against 0.26 s for scipy's
    ``A.T.tocsr()`` at 10^7 entries and 10^6 columns on 2 cores) and computes
    the product on the way, adding the same products in the same order as
    scipy does. Otherwise scipy's.

    Returns
    -------
    csr_array, or (csr_array, ndarray) when ``weights`` is given.

    >>> T, w = transpose(sp.csr_array(np.array([[0, 2.0], [3.0, 0]])), np.array([1.0, 10.0]))
    >>> T.toarray().tolist(), w.tolist()
    ([[0.0, 3.0], [2.0, 0.0]], [30.0, 2.0])
    """
    if not _compiled(A, min_nnz):
        out = sp.csr_array(A.T.tocsr())
        out.has_sorted_indices = True
        return out if weights is None else (out, out @ weights)
    from ._matrix_kernels import transpose_weighted

    w = np.zeros(A.shape[0]) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    optr, oidx, oval, rowsum = transpose_weighted(A.indptr, uidx(A.indices), A.data, A.shape[1], _thread_parts(A), w)
    if optr[-1] < np.iinfo(np.int32).max:
        optr = optr.astype(np.int32)
    out = sp.csr_array((oval, oidx, optr), shape=(A.shape[1], A.shape[0]), copy=False)
    out.has_sorted_indices = True
    return out if weights is None else (out, rowsum)
