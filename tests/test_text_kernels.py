"""The compiled text kernels (:mod:`contagion._text_kernels`) against Arrow and pandas.

They run for columns of at least ``COMPILED_LOOKUP_MIN`` values; the tests call them on small columns
directly, and read whole networks with the bound lowered to 0 so that every check goes through them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")

from contagion import _columns, _matrix, network  # noqa: E402
from contagion.errors import InvalidNetworkError  # noqa: E402

pytestmark = pytest.mark.skipif(not _matrix.numba_available(), reason="numba is not installed")


def _series(values, large=True, chunks=1):
    """An Arrow-backed pandas string column (``large_string`` or ``string``, in ``chunks`` chunks)."""
    typ = pa.large_string() if large else pa.string()
    arr = pa.array(values, type=typ)
    step = max(1, -(-len(values) // chunks))
    parts = [arr.slice(a, step) for a in range(0, len(values), step)] or [arr]
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(parts, type=typ))
                     if large else pd.arrays.ArrowStringArray(pa.chunked_array(parts, type=typ).cast(pa.large_string())))


def _reference(values, ids):
    """Position of each value's first occurrence among the ids, -1 when absent or missing."""
    first = {}
    for k, v in enumerate(ids):
        if v is not None:
            first.setdefault(v, k)
    return [first.get(v, -1) if v is not None else -1 for v in values]


IDS = ["a", "b", "", "Ölbank", "a", "LEI-5493001KJTIIGC8Y1R12", "LEI-5493001KJTIIGC8Y1R13", None, "x" * 40,
       "x" * 39, "日本銀行", "b ", "12345678", "123456789"]
VALUES = ["a", "b", "c", "", None, "Ölbank", "LEI-5493001KJTIIGC8Y1R13", "LEI-5493001KJTIIGC8Y1R1", "x" * 40,
          "x" * 41, "日本銀行", "b ", "b  ", "12345678", "123456789", "1234567", "A"]


@pytest.mark.parametrize("large", [True, False])
@pytest.mark.parametrize("chunks", [1, 3])
def test_compiled_lookup_equals_first_occurrence(large, chunks):
    ids, values = _series(IDS, large), _series(VALUES * 7, large, chunks)
    got = _columns._IdLookup(ids, compiled=True).positions(values)
    assert got.tolist() == _reference(VALUES * 7, IDS)
    assert _columns._IdLookup(ids, compiled=False).positions(values).tolist()[:4] == [0, 1, -1, 2]


def test_compiled_lookup_many_ids_few_partitions_and_sliced_arrays():
    """Thousands of ids in two partitions (long probe chains), values read through an offset slice."""
    from contagion import _text_kernels as K

    rng = np.random.default_rng(3)
    ids = [f"inst-{k:05d}" for k in rng.permutation(5000)] + ["inst-00007"]  # a repeat: the first one counts
    values = [f"inst-{k:05d}" for k in rng.integers(0, 5600, 20_000)]
    arr_ids = pa.array(ids, type=pa.large_string())
    arr_vals = pa.array(["pad"] * 5 + values, type=pa.large_string()).slice(5)
    off, data, valid = _columns._string_buffers(arr_ids)
    table = K.build_table(off, data, valid, 1)
    voff, vdata, vvalid = _columns._string_buffers(arr_vals)
    out = np.empty(len(values), dtype=np.int64)
    K.probe(voff, vdata, vvalid, *table, 1, out, K.BLOCK)
    assert out.tolist() == _reference(values, ids)
    assert (out >= 0).sum() == sum(v in set(ids) for v in values) > 0


def test_compiled_lookup_blocks():
    """More values than one block (the values' partitions are rebuilt per block), and a block of one."""
    from contagion import _text_kernels as K

    ids = pa.array([f"n{k}" for k in range(300)], type=pa.large_string())
    values = [f"n{k}" for k in range(0, 700, 3)] + [None, "n5"]
    off, data, valid = _columns._string_buffers(ids)
    table = K.build_table(off, data, valid, 3)
    voff, vdata, vvalid = _columns._string_buffers(pa.array(values, type=pa.large_string()))
    for block in (1, 7, 64, 10**6):
        out = np.full(len(values), -7, dtype=np.int64)
        K.probe(voff, vdata, vvalid, *table, 3, out, block)
        assert out.tolist() == [k if k < 300 else -1 for k in range(0, 700, 3)] + [-1, 5], block


def test_may_need_strip_compiled_equals_numpy(monkeypatch):
    cases = [["a", "b"], ["a ", "b"], [" a"], ["a\t"], ["\u00a0a"], ["a\u3000"], ["é"], ["", "x"], ["x", ""]]
    for values in cases:
        arr = pa.chunked_array([pa.array(values, type=pa.large_string())])
        _compiled_kernels(monkeypatch, False)
        slow = _columns._may_need_strip(arr)
        _compiled_kernels(monkeypatch, True)
        fast = _columns._may_need_strip(arr)
        assert fast == slow, values
        assert fast == any(v != v.strip() for v in values) or values == ["é"]  # a superset: é ends non-ASCII


def _compiled_kernels(monkeypatch, on: bool) -> None:
    """Every text column through the compiled kernels (``on``), or none."""
    monkeypatch.setattr(_columns, "COMPILED_LOOKUP_MIN", 0 if on else 10**9)


def _edges_nodes():
    nodes = pd.DataFrame({"id": _series(["A", "B", "C", "D"]), "external_assets": [1.0, 2.0, 3.0, 4.0]})
    edges = pd.DataFrame({"debtor": _series(["A", "B", "C", " D", "B"]), "creditor": _series(["B", "C", "A", "A", "C"]),
                          "amount": [5.0, 1.0, 2.0, 4.0, 0.5]})
    return edges, nodes


def test_network_read_through_the_compiled_kernels_equals_the_other_way(monkeypatch):
    edges, nodes = _edges_nodes()
    _compiled_kernels(monkeypatch, False)
    slow = network.FinancialNetwork.from_edges(edges, nodes)
    _compiled_kernels(monkeypatch, True)
    from contagion import _text_kernels as K

    probed = []
    probe = K.probe
    monkeypatch.setattr(K, "probe", lambda *args: probed.append(len(args[0]) - 1) or probe(*args))
    fast = network.FinancialNetwork.from_edges(edges, nodes)
    assert probed == [5, 5]         # debtors and creditors went through the compiled lookup
    assert fast.liabilities.toarray().tolist() == slow.liabilities.toarray().tolist() == [
        [0, 5, 0, 0], [0, 0, 1.5, 0], [2, 0, 0, 0], [4, 0, 0, 0]]
    assert fast.edges["debtor"].tolist() == ["A", "B", "C", "D", "B"]  # stripped


def _problems(edges, nodes, **files) -> dict:
    """``{(row, column, value): message}`` of the network these tables would make (it must be invalid)."""
    with pytest.raises(InvalidNetworkError) as err:
        network.FinancialNetwork.from_edges(edges, nodes, row_offset=2, **files)
    return {(p.row, p.column, p.value): p.message for p in err.value.problems}


def test_network_errors_through_the_compiled_kernels(monkeypatch):
    _compiled_kernels(monkeypatch, True)
    edges, nodes = _edges_nodes()
    edges["creditor"] = _series(["B", "Z", "A", "D", "C"])
    found = _problems(edges, nodes, edges_file="edges.csv")
    assert found == {(3, "creditor", "Z"): "unknown institution id (not in the node table)",
                     (5, "creditor", "D"): "self-loop: an institution cannot owe itself"}


def test_all_distinct_compiled(monkeypatch):
    _compiled_kernels(monkeypatch, True)
    assert _columns._all_distinct(_series(["a", "b", "", "ab"]))
    assert not _columns._all_distinct(_series(["a", "b", "a"]))
    assert not _columns._all_distinct(_series(["", "b", ""]))
    assert not _columns._all_distinct(_series(["a", None]))  # missing: look closer
    ids = _series(["x", "y", "y"])
    lookup = _columns._IdLookup(ids, compiled=True)
    assert lookup.distinct == 2 and not _columns._all_distinct(ids, lookup)


def test_duplicate_ids_and_names_found_through_the_compiled_kernels(monkeypatch):
    _compiled_kernels(monkeypatch, True)
    edges, nodes = _edges_nodes()
    nodes["id"] = _series(["A", "B", "C", "B"])
    nodes["name"] = _series(["Alpha", "Beta", "Alpha", "Delta"])
    edges["debtor"] = _series(["A", "B", "C", "C", "B"])
    found = _problems(edges, nodes, nodes_file="nodes.csv")
    assert found == {(5, "id", "B"): "duplicate id (first seen at row 3)",
                     (4, "name", "Alpha"): "duplicate name (first seen at row 2)"}


@pytest.mark.parametrize("block", [1, 4, 5, 1000])
def test_compiled_lookup_of_a_chunked_column_a_block_at_a_time(monkeypatch, block):
    """Chunks are put together a block at a time (never the whole column): every grouping gives the same."""
    from contagion import _text_kernels as K

    monkeypatch.setattr(K, "block_for", lambda ids: block)
    ids, values = _series(IDS), _series(VALUES * 3, chunks=7)
    assert _columns._IdLookup(ids, compiled=True).positions(values).tolist() == _reference(VALUES * 3, IDS)


def test_blocks_grow_with_the_table_of_ids_within_bounds():
    """Each block reads every partition's table once: a large table of ids gets blocks of twice its size,
    between BLOCK and MAX_BLOCK values."""
    from contagion import _text_kernels as K

    assert K.block_for(10) == K.BLOCK == 2 ** 19
    assert K.block_for(10**6) == 2 * 10**6
    assert K.block_for(10**8) == K.MAX_BLOCK == 2 ** 22
    assert _columns._IdLookup(_series(IDS), compiled=True)._block == K.BLOCK


def test_compiled_lookup_compares_the_whole_text_around_eight_bytes():
    """Ids are compared by their first eight bytes as one integer, their length and the bytes after the
    eighth: texts that differ only in length, in a NUL byte, in a byte after the eighth or only beyond
    the first eight are told apart, in one partition (long probe chains) and in many; the number of
    distinct ids is the number of slots in use."""
    from contagion import _text_kernels as K

    base = ["", "\x00", "\x00\x00", "a", "a\x00", "abcdefg", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefgi",
            "abcdefghij", "abcdefghik", "bbcdefghij", "abcdefgh" * 4, "abcdefgh" * 4 + "x", "é" * 4, "é" * 5]
    ids = base + ["abcdefghij", "a"]                        # repeats: the first occurrence counts
    values = base + ["abcdefgh" * 3, "abcdefgj", "abcdefghh", "\x00\x00\x00", "é" * 3 + "e", None, "zz"]
    arr_ids = pa.array(ids, type=pa.large_string())
    voff, vdata, vvalid = _columns._string_buffers(pa.array(values, type=pa.large_string()))
    for bits in (1, 4):
        table = K.build_table(*_columns._string_buffers(arr_ids), bits)
        out = np.full(len(values), -7, dtype=np.int64)
        K.probe(voff, vdata, vvalid, *table, bits, out, 5)
        assert out.tolist() == _reference(values, ids) == list(range(len(base))) + [-1] * 7
        assert np.count_nonzero(table[2]) == len(base)
    lookup = _columns._IdLookup(_series(ids), compiled=True)
    assert lookup.distinct == len(base) and not _columns._all_distinct(lookup.ids, lookup)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_names_checked_beside_the_ids_table(monkeypatch, threads):
    """A long node table's names are checked for repeats in a second thread while the ids' table is built
    (two cores free), or after it (one): the same problems, ids' first, in either case."""
    import threading

    _compiled_kernels(monkeypatch, True)
    monkeypatch.setenv("CONTAGION_THREADS", threads)
    where = []
    original = _columns._all_distinct

    def spying(values, lookup=None):
        where.append(threading.current_thread() is threading.main_thread())
        return original(values, lookup)

    monkeypatch.setattr(network, "_all_distinct", spying)
    edges = pd.DataFrame({"debtor": _series(["A", "B"]), "creditor": _series(["B", "C"]), "amount": [1.0, 2.0]})
    nodes = pd.DataFrame({"id": _series(["A", "B", "A", "C"]), "name": _series(["x", "y", "z", "y"])})
    assert [str(p) for p in _problem_list(edges, nodes)] == [
        "nodes.csv, row 4, column 'id': duplicate id (first seen at row 2) (value: 'A')",
        "nodes.csv, row 5, column 'name': duplicate name (first seen at row 3) (value: 'y')"]
    nodes = pd.DataFrame({"id": _series(["A", "B", "C", "D"]), "name": _series(["x", "y", "x", ""])})
    assert [str(p) for p in _problem_list(edges, nodes)] == [
        "nodes.csv, row 4, column 'name': duplicate name (first seen at row 2) (value: 'x')"]
    where.clear()
    nodes = pd.DataFrame({"id": _series(["A", "B", "C", "D"]), "name": _series(["x", "y", "", "w"])})
    net = network.FinancialNetwork.from_edges(edges, nodes)
    assert net.names == ("x", "y", "C", "w")
    # the ids asked in this thread; the names in the second one with two cores (with one, _check_unique asks)
    assert sorted(where) == ([False, True] if threads == "2" else [True])


def _problem_list(edges, nodes) -> list:
    with pytest.raises(InvalidNetworkError) as err:
        network.FinancialNetwork.from_edges(edges, nodes, row_offset=2, nodes_file="nodes.csv")
    return err.value.problems


def test_word_reads_up_to_eight_bytes_at_any_place_of_the_buffer():
    """``_word`` (one unaligned eight-byte load, masked, inside the buffer; byte by byte at its very end) is
    the little-endian integer of exactly the bytes asked for, at every start and length."""
    from contagion import _text_kernels as K

    data = np.frombuffer(bytes(range(200, 220)), dtype=np.uint8)          # 20 bytes, none zero
    for a in range(data.size + 1):
        for b in range(a, min(a + 8, data.size) + 1):
            assert K._word(data, a, b) == int.from_bytes(data[a:b].tobytes(), "little"), (a, b)
