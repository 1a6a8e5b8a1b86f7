"""Tests of :mod:`contagion._matrix`: the compiled builders of a network's matrices equal scipy's.

The compiled kernels run for matrices with at least ``BUILD_MIN_NNZ`` entries; the
helpers take that bound as ``min_nnz=``, so the tests run them on small matrices by
passing ``min_nnz=0`` (and the scipy path with a bound no matrix reaches).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from contagion import _matrix
from contagion.generators import make_network

compiled_only = pytest.mark.skipif(not _matrix.numba_available(), reason="numba is not installed")


def _random_csr(index_dtype, seed=7):
    """Columns spanning several buckets of the transpose; one column (a hub creditor) holds a tenth."""
    from contagion._matrix_kernels import BUCKET

    rng = np.random.default_rng(seed)
    n, m = 3 * BUCKET + 17, 60_000
    cols = rng.integers(0, n, m)
    cols[::10] = n - 5
    L = sp.csr_array((rng.exponential(1.0, m), (rng.integers(0, n, m), cols)), shape=(n, n))
    L.sum_duplicates()
    L = sp.csr_array((L.data, L.indices.astype(index_dtype), L.indptr.astype(index_dtype)), shape=L.shape)
    pbar = np.asarray(L.sum(axis=1)).ravel() + rng.uniform(0, 1, n)
    return L, pbar


@compiled_only
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_matrix_builders_equal_scipy(index_dtype):
    """The compiled row scaling (Pi = L / pbar) and transpose (Pi^T) equal scipy's, with
    sorted indices, for 32- and 64-bit index arrays."""
    L, pbar = _random_csr(index_dtype)
    Pi = _matrix.relative_matrix(L, pbar, min_nnz=0)
    np.testing.assert_array_equal(Pi.indices, L.indices)
    np.testing.assert_allclose(Pi.data, L.data / np.repeat(pbar, np.diff(L.indptr)), rtol=1e-15)
    np.testing.assert_array_equal(Pi.data, _matrix.relative_matrix(L, pbar, min_nnz=10**12).data)
    T = _matrix.transpose(Pi, min_nnz=0)
    expect = sp.csr_array(Pi.T.tocsr())
    expect.sort_indices()
    np.testing.assert_array_equal(T.indptr, expect.indptr)
    np.testing.assert_array_equal(T.indices, expect.indices)
    np.testing.assert_array_equal(T.data, expect.data)
    assert T.has_sorted_indices
    # with weights: the same transpose and T @ w, adding the same products in the same order as scipy
    T2, rowsum = _matrix.transpose(Pi, pbar, min_nnz=0)
    np.testing.assert_array_equal(T2.data, expect.data)
    np.testing.assert_array_equal(rowsum, expect @ pbar)
    T3, rowsum3 = _matrix.transpose(Pi, pbar, min_nnz=10**12)     # the scipy path
    np.testing.assert_array_equal(T3.data, expect.data)
    np.testing.assert_array_equal(rowsum3, rowsum)


@compiled_only
def test_scan_matrix_counts_defects_and_copies():
    """The one-pass scan copies the arrays (sharing nothing), sums rows in order and counts each
    kind of defect; below ``min_nnz`` it declines (``None``)."""
    data = np.array([4.0, 0.0, 2.0, 1.0, 7.0, -1.0, np.nan, 3.0, 1.0])
    idx = np.array([2, 1, 1, 2, 0, 1, 2, 2, 9], dtype=np.int32)
    ptr = np.array([0, 4, 5, 7, 9], dtype=np.int32)
    M = sp.csr_array((data, idx, ptr), shape=(4, 4), copy=False)
    assert _matrix.scan_matrix(M) is None
    copy, rowsum, defects = _matrix.scan_matrix(M, min_nnz=0)
    assert defects == {"unsorted": 2, "bad": 2, "diagonal": 1, "zeros": 1, "outside": 1}  # L[2, 2] = NaN
    np.testing.assert_array_equal(copy.indices, idx)
    np.testing.assert_array_equal(copy.data, data)
    assert not any(np.shares_memory(a, b) for a in (copy.data, copy.indices, copy.indptr)
                   for b in (data, idx, ptr))
    np.testing.assert_array_equal(rowsum[[0, 1]], [7.0, 7.0])
    assert np.isnan(rowsum[2])
    D = sp.csr_array(np.array([[0, 1.0], [2.0, 3.0]]))
    assert _matrix.scan_matrix(D, min_nnz=0)[2]["diagonal"] == 1


def test_network_matrices_use_builders():
    """``FinancialNetwork.relative_liabilities`` and ``.PiT`` are what the builders give."""
    net = make_network("scale-free", 800, kappa=0.004)
    Pi = net.relative_liabilities
    np.testing.assert_allclose(Pi.toarray(), net.liabilities.toarray() / net.total_obligations[:, None])
    np.testing.assert_array_equal(net.PiT.toarray(), Pi.toarray().T)


def test_import_contagion_does_not_import_numba():
    """numba is imported only when compiled code runs, not by ``import contagion`` or a small network."""
    code = ("import sys, contagion\n"
            "net = contagion.FinancialNetwork.from_matrix([[0, 2], [1, 0]], external_assets=[1, 1])\n"
            "net.PiT\n"
            "print('numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------- an edge list's CSR (from_edges)
def _edge_list(n, m, seed):
    """Edges with repeated pairs (three or more of some), zero amounts, a pair whose amounts are all zero,
    empty rows, and rows spanning several buckets."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, m)
    cols = (rows + rng.integers(1, n, m)) % n
    vals = rng.choice([0.0, 0.1, 0.2, 0.3, 1.5, 7.25], m)
    rows[:50], cols[:50] = 0, n - 1  # fifty rows for one pair: the sum's rounding depends on the order
    rows[50:60], cols[50:60], vals[50:60] = n - 1, 0, 0.0  # a pair that only ever owes zero
    if n > 2:
        rows[rows == 1] = 2  # an empty row
    return rows, cols, vals


@compiled_only
@pytest.mark.parametrize("n, m", [(20, 5_000), (3 * 8192 + 17, 60_000), (2, 1_000)])
def test_csr_from_edges_compiled_equals_scipy_and_adds_in_row_order(n, m):
    rows, cols, vals = _edge_list(n, m, seed=n)
    rows[rows == cols] = (rows[rows == cols] + 1) % n
    fast = _matrix.csr_from_edges(rows, cols, vals, n, min_nnz=0)
    slow = _matrix.csr_from_edges(rows, cols, vals, n, min_nnz=10**12)
    assert fast.has_canonical_format and fast.has_sorted_indices
    assert fast.shape == slow.shape == (n, n)
    assert fast.indptr.tolist() == slow.indptr.tolist()
    assert fast.indices.tolist() == slow.indices.tolist()
    np.testing.assert_allclose(fast.data, slow.data, rtol=1e-14, atol=0)
    assert (fast.data > 0).all()  # zero sums left out
    # repeated pairs are added in the order of the list, exactly
    dense = {}
    for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist()):
        dense[(r, c)] = dense.get((r, c), 0.0) + v
    got = {(r, int(c)): float(v) for r in range(n)
           for c, v in zip(fast.indices[fast.indptr[r]:fast.indptr[r + 1]], fast.data[fast.indptr[r]:fast.indptr[r + 1]])}
    assert got == {k: v for k, v in dense.items() if v != 0.0}


def test_csr_from_edges_small_lists_use_scipy():
    L = _matrix.csr_from_edges(np.array([1, 0, 1, 0]), np.array([0, 1, 0, 1]), np.array([2.0, 0.0, 3.0, 0.0]), 2)
    assert L.toarray().tolist() == [[0.0, 0.0], [5.0, 0.0]]
    assert L.nnz == 1


@compiled_only
def test_from_edges_of_a_long_table_builds_the_same_matrix_as_scipy():
    """A 250,000-row edge table (above BUILD_MIN_NNZ: the compiled CSR builder runs inside from_edges), with
    repeated pairs, against scipy's coo -> csr of the same rows."""
    import pandas as pd

    import contagion

    rng = np.random.default_rng(11)
    n, m = 5_000, 250_000
    debtor = rng.integers(0, n, m)
    creditor = (debtor + rng.integers(1, n, m)) % n
    amount = rng.choice([0.5, 1.25, 3.0, 0.1], m)
    ids = np.array([f"i{k}" for k in range(n)], dtype=object)
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ids[debtor], "creditor": ids[creditor], "amount": amount}), pd.DataFrame({"id": ids}))
    ref = sp.csr_array((amount, (debtor, creditor)), shape=(n, n))
    ref.sum_duplicates()
    ref.sort_indices()
    L = net.liabilities
    assert L.indptr.tolist() == ref.indptr.tolist() and L.indices.tolist() == ref.indices.tolist()
    np.testing.assert_allclose(L.data, ref.data, rtol=1e-15, atol=0)
    assert net.n_edges == m and L.nnz < m          # repeated pairs were added, the rows kept
