"""FinancialNetwork: constructors, derived quantities, and validation at the boundary.

Hand values use the three-bank example of the NetworkValuation package
(siebenbrunner/NetworkValuation, Eisenberg-Noe example): L = [[0, 20, 10],
[5, 0, 24], [10, 0, 0]], e = [10, 10, 10]; L[i, j] is what i owes j.

Each validation test writes the bad input as real CSV files (rows follow the
spreadsheet convention: the header is row 1) and checks that the reported
problem names the file, the row, the column and the offending value, both as
fields and in the message a user reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import contagion
from contagion import FinancialNetwork, InvalidNetworkError
from contagion.errors import Problem

L3 = [[0, 20, 10], [5, 0, 24], [10, 0, 0]]

NODES = "id,name,type,external_assets,external_liabilities\nA,Alpha,bank,10,0\nB,Beta,fund,10,1\nC,Gamma,lab,10,2\n"
EDGES = "debtor,creditor,amount,kind\nA,B,20,loan\nA,C,10,lease\nB,A,5,loan\n"


# ---------------------------------------------------------------------- constructors and derived quantities
def test_from_matrix_derived_quantities_by_hand():
    net = FinancialNetwork.from_matrix(L3, external_assets=[10, 10, 10], names=["A", "B", "C"])
    assert net.n == 3 and net.names == ("A", "B", "C") and net.ids == ("A", "B", "C")
    assert isinstance(net.liabilities, sp.csr_array) and net.liabilities.dtype == np.float64
    assert net.liabilities.nnz == 5  # zeros are not stored
    # pbar = row sums + external liabilities (none here)
    np.testing.assert_array_equal(net.total_obligations, [30.0, 29.0, 10.0])
    np.testing.assert_array_equal(net.pbar, net.total_obligations)
    # Pi[i, j] = L[i, j] / pbar[i]
    Pi = np.array([[0, 20 / 30, 10 / 30], [5 / 29, 0, 24 / 29], [1, 0, 0]])
    np.testing.assert_allclose(net.relative_liabilities.toarray(), Pi, rtol=0, atol=1e-15)
    np.testing.assert_allclose(net.PiT.toarray(), Pi.T, rtol=0, atol=1e-15)
    assert isinstance(net.PiT, sp.csr_array)
    # interbank assets = column sums of L: A is owed 5 + 10, B 20, C 10 + 24
    np.testing.assert_array_equal(net.interbank_assets, [15.0, 20.0, 34.0])
    np.testing.assert_array_equal(net.interbank_liabilities, [30.0, 29.0, 10.0])
    # equity if everyone paid in full: e + interbank assets - pbar
    np.testing.assert_array_equal(net.equity_before, [-5.0, 1.0, 34.0])
    # PiT @ pbar: what each receives when all pay in full = interbank assets
    np.testing.assert_allclose(net.PiT @ net.pbar, [15.0, 20.0, 34.0])


def test_from_matrix_external_liabilities_and_rows_without_obligations():
    L = sp.coo_matrix(([4.0], ([0], [1])), shape=(3, 3))
    net = FinancialNetwork.from_matrix(L, external_assets=[1, 2, 3], external_liabilities=[6, 0, 0])
    np.testing.assert_array_equal(net.total_obligations, [10.0, 0.0, 0.0])
    # Pi[0, 1] = 4 / 10; rows of B and C (pbar = 0) are empty, not NaN
    np.testing.assert_array_equal(net.relative_liabilities.toarray(), [[0, 0.4, 0], [0, 0, 0], [0, 0, 0]])
    assert net.names == ("0", "1", "2")
    assert net.edges.to_dict("records") == [{"debtor": "0", "creditor": "1", "amount": 4.0, "kind": "obligation"}]
    assert list(net.nodes.columns) == ["id", "name", "type", "external_assets", "external_liabilities"]


def test_from_edges_multi_edges_stay_rows_and_sum_in_L():
    edges = pd.DataFrame({"debtor": ["A", "A", "B"], "creditor": ["B", "B", "A"], "amount": [3.0, 4.5, 1.0],
                          "kind": ["loan", "lease", "loan"], "term_years": [5, 2, 1]})
    nodes = pd.DataFrame({"id": ["B", "A"], "external_assets": [1.0, 2.0], "country": ["US", "FR"]})
    net = FinancialNetwork.from_edges(edges, nodes)
    assert net.ids == ("B", "A")  # node-table order, not sorted
    assert net.n_edges == 3 and net.liabilities.nnz == 2
    # L[A, B] = 3 + 4.5; A is position 1, B position 0
    np.testing.assert_array_equal(net.liabilities.toarray(), [[0, 1.0], [7.5, 0]])
    assert net.edges["kind"].tolist() == ["loan", "lease", "loan"]
    assert net.edges["term_years"].tolist() == [5, 2, 1]
    assert list(net.nodes.columns) == ["id", "name", "type", "external_assets", "external_liabilities", "country"]
    assert net.nodes["name"].tolist() == ["B", "A"] and net.nodes["type"].tolist() == ["institution"] * 2
    di, ci = net.edge_index
    assert di.tolist() == [1, 1, 0] and ci.tolist() == [0, 0, 1]


@pytest.mark.parametrize("threads", ["1", "2"])
def test_long_edge_tables_look_up_debtors_and_creditors_side_by_side(monkeypatch, threads):
    import contagion.network as network

    monkeypatch.setattr(network, "PARALLEL_LOOKUP_MIN", 1)
    monkeypatch.setenv("CONTAGION_THREADS", threads)        # "2": the two lookups in two threads
    ids = pd.array(["B", "A", "C"], dtype="string[pyarrow]")
    edges = pd.DataFrame({"debtor": pd.array(["A", "A", "B", "C"], dtype="string[pyarrow]"),
                          "creditor": pd.array(["B", "C", "A", "zz"], dtype="string[pyarrow]"),
                          "amount": [3.0, 4.5, 1.0, 2.0]})
    with pytest.raises(InvalidNetworkError) as info:
        FinancialNetwork.from_edges(edges, pd.DataFrame({"id": ids}), edges_file="e", row_offset=2)
    assert [str(p) for p in info.value.problems] == [
        "e, row 5, column 'creditor': unknown institution id (not in the node table) (value: 'zz')"]
    net = FinancialNetwork.from_edges(edges.iloc[:3], pd.DataFrame({"id": ids}))
    assert net.edge_index[0].tolist() == [1, 1, 0] and net.edge_index[1].tolist() == [0, 2, 1]
    np.testing.assert_array_equal(net.liabilities.toarray(), [[0, 1, 0], [3, 0, 4.5], [0, 0, 0]])


def test_from_edges_without_node_table_uses_first_appearance():
    net = FinancialNetwork.from_edges([{"debtor": "x", "creditor": "y", "amount": 1},
                                       {"debtor": "z", "creditor": "x", "amount": 2}])
    assert net.ids == ("x", "y", "z")
    np.testing.assert_array_equal(net.external_assets, [0, 0, 0])


def test_numeric_ids_are_text_and_match_between_tables():
    # JSON or pandas may give ids as numbers: 1 and 1.0 are both the id "1"
    net = FinancialNetwork.from_edges(pd.DataFrame({"debtor": [1.0, 2.0], "creditor": [2, 1], "amount": [1, 1]}),
                                      pd.DataFrame({"id": [1, 2]}))
    assert net.ids == ("1", "2")
    np.testing.assert_array_equal(net.liabilities.toarray(), [[0, 1], [1, 0]])


def test_forced_default_columns_round_trip_through_the_node_table():
    net = contagion.load_dataset("chain").replace(forced_default=np.array([False, True, False]),
                                                  forced_recovery=np.array([0.0, 0.5, 0.0]))
    again = FinancialNetwork.from_edges(net.edges, net.nodes)
    np.testing.assert_array_equal(again.forced_default, [False, True, False])
    np.testing.assert_array_equal(again.forced_recovery, [0.0, 0.5, 0.0])
    pd.testing.assert_frame_equal(again.nodes, net.nodes)


# ---------------------------------------------------------------------- validation: helpers
def write_network_dir(tmp_path: Path, nodes: str = NODES, edges: str = EDGES) -> Path:
    d = tmp_path / "net"
    d.mkdir()
    (d / "nodes.csv").write_text(nodes, encoding="utf-8")
    (d / "edges.csv").write_text(edges, encoding="utf-8")
    return d


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(InvalidNetworkError) as info:
        contagion.read_network(path)
    return info.value.problems


def assert_located(problems: list[Problem], file: str, row: int | None, column: str | None, value, words: str):
    """Exactly one problem at (file, row, column) with that value; its text names all four."""
    hits = [p for p in problems if Path(str(p.file)).name == file and p.row == row and p.column == column]
    assert len(hits) == 1, f"no single problem at {file} row {row} column {column}: {[str(p) for p in problems]}"
    p = hits[0]
    assert p.value == value
    text = str(p)
    assert file in text and words in text
    if row is not None:
        assert f"row {row}" in text
    if column is not None:
        assert f"column '{column}'" in text
    if value is not None:
        assert repr(value) in text
    return p


def test_valid_files_read(tmp_path):
    net = contagion.read_network(write_network_dir(tmp_path))
    assert net.names == ("Alpha", "Beta", "Gamma")
    np.testing.assert_array_equal(net.total_obligations, [30.0, 6.0, 2.0])


# ---------------------------------------------------------------------- validation: one test per error
def test_negative_amount(tmp_path):
    d = write_network_dir(tmp_path, edges=EDGES.replace("A,C,10,lease", "A,C,-10,lease"))
    assert_located(problems_of(d), "edges.csv", 3, "amount", "-10", "negative amount")


def test_negative_external_assets(tmp_path):
    d = write_network_dir(tmp_path, nodes=NODES.replace("B,Beta,fund,10,1", "B,Beta,fund,-2.5,1"))
    assert_located(problems_of(d), "nodes.csv", 3, "external_assets", "-2.5", "negative amount")


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "NaN", "Infinity"])
def test_non_finite_amount(tmp_path, text):
    d = write_network_dir(tmp_path, edges=EDGES.replace("B,A,5,loan", f"B,A,{text},loan"))
    assert_located(problems_of(d), "edges.csv", 4, "amount", text, "not a finite number")


def test_non_finite_external_liabilities(tmp_path):
    d = write_network_dir(tmp_path, nodes=NODES.replace("C,Gamma,lab,10,2", "C,Gamma,lab,10,inf"))
    assert_located(problems_of(d), "nodes.csv", 4, "external_liabilities", "inf", "not a finite number")


@pytest.mark.parametrize("text, hint", [
    ("ten", ""), ("12 USD", ""), ("$5", "; drop the currency sign"), ("€ 5", "; drop the currency sign"),
    ("1,000", "; thousands separators or a decimal comma? write 1000 or 1.000"),
    ("1,234,567.5", "; thousands separators? write 1234567.5"), ("1.234,5", "; a decimal comma? write 1234.5"),
    ("12,5", "; a decimal comma? write 12.5"), ("12%", "; a percentage? write 0.05 for 5%")])
def test_text_where_an_amount_belongs(tmp_path, text, hint):
    """Spreadsheet formatting (separators, a decimal comma, a currency sign, a percentage) is an error that says
    what to write instead."""
    quoted = f'"{text}"' if "," in text else text
    d = write_network_dir(tmp_path, edges=EDGES.replace("A,B,20,loan", f"A,B,{quoted},loan"))
    assert_located(problems_of(d), "edges.csv", 2, "amount", text, "not a number" + hint)
    [problem] = problems_of(d)
    assert problem.message == "not a number" + hint


def test_text_where_external_assets_belong(tmp_path):
    d = write_network_dir(tmp_path, nodes=NODES.replace("A,Alpha,bank,10,0", "A,Alpha,bank,lots,0"))
    assert_located(problems_of(d), "nodes.csv", 2, "external_assets", "lots", "not a number")


def test_unknown_node_id_in_edges(tmp_path):
    d = write_network_dir(tmp_path, edges=EDGES + "Z,A,1,loan\n")
    assert_located(problems_of(d), "edges.csv", 5, "debtor", "Z", "unknown institution id")


def test_duplicate_node_ids(tmp_path):
    d = write_network_dir(tmp_path, nodes=NODES + "B,Other,bank,1,0\n")
    p = assert_located(problems_of(d), "nodes.csv", 5, "id", "B", "duplicate id")
    assert "first seen at row 3" in str(p)


def test_duplicate_names(tmp_path):
    d = write_network_dir(tmp_path, nodes=NODES.replace("C,Gamma", "C,Alpha"))
    assert_located(problems_of(d), "nodes.csv", 4, "name", "Alpha", "duplicate name")


def test_self_loop(tmp_path):
    d = write_network_dir(tmp_path, edges=EDGES + "C,C,3,loan\n")
    assert_located(problems_of(d), "edges.csv", 5, "creditor", "C", "self-loop")


@pytest.mark.parametrize("file, column", [("edges.csv", "amount"), ("edges.csv", "debtor"), ("nodes.csv", "id")])
def test_missing_required_column(tmp_path, file, column):
    texts = {"nodes.csv": NODES, "edges.csv": EDGES}
    header, *rows = texts[file].splitlines()
    keep = [k for k, c in enumerate(header.split(",")) if c != column]
    texts[file] = "\n".join(",".join(line.split(",")[k] for k in keep) for line in [header, *rows]) + "\n"
    d = write_network_dir(tmp_path, nodes=texts["nodes.csv"], edges=texts["edges.csv"])
    assert_located(problems_of(d), file, None, column, None, "required column is missing")


@pytest.mark.parametrize("file, line, column, row", [("edges.csv", "A,B,,loan", "amount", 2),
                                                     ("edges.csv", ",B,1,loan", "debtor", 2),
                                                     ("nodes.csv", ",Alpha,bank,10,0", "id", 2)])
def test_missing_required_value(tmp_path, file, line, column, row):
    texts = {"nodes.csv": NODES.replace("A,Alpha,bank,10,0", line) if file == "nodes.csv" else NODES,
             "edges.csv": EDGES.replace("A,B,20,loan", line) if file == "edges.csv" else EDGES}
    d = write_network_dir(tmp_path, nodes=texts["nodes.csv"], edges=texts["edges.csv"])
    assert_located(problems_of(d), file, row, column, "", "value is missing")


def test_empty_network(tmp_path):
    d = write_network_dir(tmp_path, nodes="id,name,type\n", edges="debtor,creditor,amount\n")
    problems = problems_of(d)
    assert len(problems) == 1 and Path(problems[0].file).name == "nodes.csv"
    assert "empty" in str(problems[0]) and "nodes.csv" in str(problems[0])


def test_a_network_without_obligations_is_valid(tmp_path):
    net = contagion.read_network(write_network_dir(tmp_path, edges="debtor,creditor,amount,kind\n"))
    assert net.n == 3 and net.n_edges == 0 and net.liabilities.nnz == 0


def test_empty_file(tmp_path):
    d = write_network_dir(tmp_path, edges="")
    problems = problems_of(d)
    assert [Path(p.file).name for p in problems] == ["edges.csv"] and "empty" in problems[0].message


def test_empty_row_in_the_middle_is_an_error_and_keeps_row_numbers(tmp_path):
    d = write_network_dir(tmp_path, edges="debtor,creditor,amount,kind\nA,B,20,loan\n\nA,C,-1,lease\n")
    problems = problems_of(d)
    assert_located(problems, "edges.csv", 3, None, None, "empty row")
    assert_located(problems, "edges.csv", 4, "amount", "-1", "negative amount")  # numbering not shifted


def test_row_of_only_commas_is_an_empty_row(tmp_path):
    d = write_network_dir(tmp_path, nodes=NODES.replace("B,Beta,fund,10,1\n", ",,,,\nB,Beta,fund,10,1\n"))
    assert_located(problems_of(d), "nodes.csv", 3, None, None, "empty row")


def test_trailing_empty_rows_are_ignored(tmp_path):
    d = write_network_dir(tmp_path, nodes=NODES + "\n,,,,\n\n", edges=EDGES + "\n\n")
    assert contagion.read_network(d).n_edges == 3


@pytest.mark.parametrize("line, cells", [("A,B,20", 3), ("A,B,20,loan,oops", 5)])
def test_row_with_wrong_number_of_cells(tmp_path, line, cells):
    d = write_network_dir(tmp_path, edges=EDGES.replace("A,B,20,loan", line))
    p = assert_located(problems_of(d), "edges.csv", 2, None, line, f"row has {cells} cells but the header has 4")
    assert p.row == 2


def test_duplicated_column(tmp_path):
    d = write_network_dir(tmp_path, edges="debtor,creditor,amount,amount\nA,B,20,30\n")
    assert_located(problems_of(d), "edges.csv", 1, "amount", "amount", "duplicate column")


def test_column_with_values_but_no_name(tmp_path):
    d = write_network_dir(tmp_path, edges="debtor,creditor,amount,\nA,B,20,x\n")
    assert_located(problems_of(d), "edges.csv", 1, None, None, "column 4 holds values but has no name")


def test_trailing_comma_on_every_line_is_an_empty_unnamed_column(tmp_path):
    d = write_network_dir(tmp_path, edges="debtor,creditor,amount,\nA,B,20,\n")
    assert list(contagion.read_network(d).edges.columns) == ["debtor", "creditor", "amount", "kind"]


def test_semicolon_separated_file_gets_a_hint(tmp_path):
    d = write_network_dir(tmp_path, edges="debtor;creditor;amount\nA;B;20\n")
    problems = problems_of(d)
    # the cause alone (its consequences, e.g. "column 'amount': required column is missing", are not listed)
    assert_located(problems, "edges.csv", 1, None, "debtor;creditor;amount", "the file looks semicolon-separated")
    assert len(problems) == 1


def test_not_utf8(tmp_path):
    d = write_network_dir(tmp_path)
    (d / "nodes.csv").write_bytes(NODES.replace("Beta", "B\xe9ta").encode("latin-1"))
    problems = problems_of(d)
    assert len(problems) == 1 and "not UTF-8" in str(problems[0]) and "nodes.csv" in str(problems[0])
    assert "line 3" in str(problems[0])
    assert problems[0].message.endswith('; save it as UTF-8 (a spreadsheet\'s "CSV UTF-8")')
    # a spreadsheet's "Unicode Text" export is UTF-16 with a byte-order mark: named as such
    (d / "nodes.csv").write_bytes(NODES.encode("utf-16"))
    [problem] = problems_of(d)
    assert problem.message == 'UTF-16 text, not UTF-8 (a spreadsheet\'s "Unicode Text"); save it as UTF-8 ("CSV UTF-8")'


def test_forced_recovery_outside_unit_interval(tmp_path):
    nodes = "id,forced_default,forced_recovery\nA,true,1.5\nB,false,0\nC,,\n"
    d = write_network_dir(tmp_path, nodes=nodes)
    assert_located(problems_of(d), "nodes.csv", 2, "forced_recovery", "1.5", "must lie in [0, 1]")


def test_forced_default_not_a_boolean(tmp_path):
    d = write_network_dir(tmp_path, nodes="id,forced_default\nA,maybe\nB,no\nC,1\n")
    assert_located(problems_of(d), "nodes.csv", 2, "forced_default", "maybe", "not true or false")


def test_every_problem_is_listed(tmp_path):
    nodes = NODES + "A,Again,bank,-1,x\n"
    edges = EDGES + "A,A,1,loan\nQ,B,-3,loan\nB,C,,loan\n"
    problems = problems_of(write_network_dir(tmp_path, nodes=nodes, edges=edges))
    got = {(Path(p.file).name, p.row, p.column) for p in problems}
    assert got == {
        ("nodes.csv", 5, "id"), ("nodes.csv", 5, "external_assets"), ("nodes.csv", 5, "external_liabilities"),
        ("edges.csv", 5, "creditor"), ("edges.csv", 6, "debtor"), ("edges.csv", 6, "amount"),
        ("edges.csv", 7, "amount"),
    }
    # problems come in file and row order, and the exception's message names the first and the count
    assert [(Path(p.file).name, p.row) for p in problems] == sorted(
        [(Path(p.file).name, p.row) for p in problems], key=lambda t: (t[0] != "nodes.csv", t[1]))
    with pytest.raises(InvalidNetworkError, match=r"and 6 more problems"):
        contagion.read_network(tmp_path / "net")


def test_many_problems_are_not_truncated(tmp_path):
    edges = "debtor,creditor,amount\n" + "A,B,-1\n" * 120
    problems = problems_of(write_network_dir(tmp_path, edges=edges))
    assert [p.row for p in problems] == list(range(2, 122))


# ---------------------------------------------------------------------- validation of in-memory input
def test_from_edges_in_memory_rows_are_positions():
    with pytest.raises(InvalidNetworkError) as info:
        FinancialNetwork.from_edges(pd.DataFrame({"debtor": ["A", "B"], "creditor": ["B", "A"], "amount": [1, -2]}),
                                    pd.DataFrame({"id": ["A", "B"]}))
    (p,) = info.value.problems
    assert (p.file, p.row, p.column, p.value) == ("edges", 1, "amount", -2.0)


def test_from_edges_duplicated_dataframe_columns():
    edges = pd.DataFrame([["A", "B", 1, 2]], columns=["debtor", "creditor", "amount", "amount"])
    with pytest.raises(InvalidNetworkError) as info:
        FinancialNetwork.from_edges(edges, pd.DataFrame({"id": ["A", "B"]}))
    assert [(p.column, p.message) for p in info.value.problems] == [("amount", "duplicate column")]


def test_from_edges_boolean_amounts_are_not_numbers():
    with pytest.raises(InvalidNetworkError) as info:
        FinancialNetwork.from_edges([{"debtor": "A", "creditor": "B", "amount": True}])
    assert [(p.row, p.column, p.value, p.message) for p in info.value.problems] == [(0, "amount", True, "not a number")]


@pytest.mark.parametrize("kwargs, words", [
    (dict(L=[[0, -1], [0, 0]]), "is negative"),
    (dict(L=[[0, np.inf], [0, 0]]), "not a finite number"),
    (dict(L=[[1, 0], [0, 0]]), "self-loop"),
    (dict(L=[[0, 1, 0], [0, 0, 1]]), "must be square"),
    (dict(L=np.zeros((0, 0))), "empty"),
    (dict(L=[[0, 1], [0, 0]], external_assets=[1, 2, 3]), "shape (3,)"),
    (dict(L=[[0, 1], [0, 0]], external_liabilities=[1, -2]), "is negative"),
    (dict(L=[[0, 1], [0, 0]], names=["a", "a"]), "duplicate names"),
    (dict(L=[[0, 1], [0, 0]], names=["a"]), "1 names given for 2 institutions"),
])
def test_from_matrix_validation(kwargs, words):
    L = kwargs.pop("L")
    with pytest.raises(InvalidNetworkError, match=None) as info:
        FinancialNetwork.from_matrix(L, **kwargs)
    assert words in str(info.value)


def _padded(M: sp.csr_array) -> sp.csr_array:
    """``M`` (its arrays as given, in its first rows and columns) followed by a clean block large enough
    (``contagion._matrix.BUILD_MIN_NNZ`` entries) that ``from_matrix`` scans it with the compiled pass."""
    from contagion._matrix import BUILD_MIN_NNZ

    n2 = 2000
    per_row = -(-BUILD_MIN_NNZ // n2)
    rows = np.repeat(np.arange(n2), per_row)
    cols = (rows + 1 + np.tile(np.arange(per_row), n2)) % n2
    big = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n2, n2))
    big.sum_duplicates()
    k, c = M.shape
    ptr = np.concatenate([M.indptr, M.indptr[-1] + big.indptr[1:]]).astype(np.int64)
    idx = np.concatenate([M.indices, big.indices + c]).astype(np.int64)
    return sp.csr_array((np.concatenate([M.data, big.data]), idx, ptr), shape=(k + n2, c + n2))


@pytest.fixture(params=["scipy", "compiled"])
def matrix_path(request):
    """How ``from_matrix`` receives a test's matrix ``M``: as it is (small: scipy's checks), or in the
    top-left corner of a matrix large enough for the compiled one-pass scan (``M``'s rows, columns and
    problems keep their indices)."""
    from contagion._matrix import numba_available

    if request.param == "scipy":
        return lambda M: M
    if not numba_available():
        pytest.skip("numba not available")
    return _padded


def _messy_csr():
    """3 institutions; row 0 lists its columns out of order, with an explicit zero and a duplicate
    (0 owes 2 twice: 4 + 1); row 1 owes 0 7; row 2 owes nothing."""
    data = np.array([4.0, 0.0, 2.0, 1.0, 7.0])
    idx = np.array([2, 1, 1, 2, 0], dtype=np.int32)
    ptr = np.array([0, 4, 5, 5], dtype=np.int32)
    return sp.csr_array((data, idx, ptr), shape=(3, 3))


def test_from_matrix_leaves_the_callers_matrix_alone(matrix_path):
    """Summing duplicates, dropping explicit zeros and sorting happen on a copy: the caller's
    arrays are unchanged, and the network does not share them (it is an immutable value)."""
    M = matrix_path(_messy_csr())
    before = [a.copy() for a in (M.data, M.indices, M.indptr)]
    net = FinancialNetwork.from_matrix(M, external_assets=np.arange(M.shape[0]) + 1.0)
    for a, b in zip((M.data, M.indices, M.indptr), before):
        np.testing.assert_array_equal(a, b)
    L = net.liabilities
    assert L.has_canonical_format and L.nnz == M.nnz - 2
    np.testing.assert_array_equal(L[:3][:, :3].toarray(), [[0, 2, 5], [7, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(net.total_obligations[:3], [7, 7, 0])
    for a in (M.data, M.indices, M.indptr):
        assert not any(np.shares_memory(a, b) for b in (L.data, L.indices, L.indptr))


@pytest.mark.parametrize("rows", [3, 600_000])
def test_from_edges_leaves_the_callers_tables_alone(rows):
    """The amounts are read from the caller's edge table without a copy (the liabilities matrix and the
    edge table copy what they keep): writing to the caller's tables afterwards changes nothing in the
    network, and the network's arrays share no memory with them (short tables and ones long enough for the
    compiled paths)."""
    rng = np.random.default_rng(8)
    n = 1000
    deb = rng.integers(0, n, rows)
    cred = (deb + 1 + rng.integers(0, n - 1, rows)) % n
    edges = pd.DataFrame({"debtor": [f"i{k}" for k in deb], "creditor": [f"i{k}" for k in cred],
                          "amount": rng.random(rows) + 1.0})
    nodes = pd.DataFrame({"id": [f"i{k}" for k in range(n)], "external_assets": rng.random(n)})
    net = FinancialNetwork.from_edges(edges, nodes)
    amounts, assets = edges["amount"].to_numpy().copy(), nodes["external_assets"].to_numpy().copy()
    L = net.liabilities.copy()
    for table, col in ((edges, "amount"), (nodes, "external_assets")):
        assert not np.shares_memory(table[col].to_numpy(), net.edges["amount"].to_numpy())
        assert not np.shares_memory(table[col].to_numpy(), net.liabilities.data)
        assert not np.shares_memory(table[col].to_numpy(), net.external_assets)
    edges.loc[0, "amount"] = 1e9
    edges.iloc[1, 2] = 2e9
    nodes.loc[0, "external_assets"] = 3e9
    np.testing.assert_array_equal(net.edges["amount"].to_numpy(), amounts)
    np.testing.assert_array_equal(net.external_assets, assets)
    assert (net.liabilities != L).nnz == 0 and net.liabilities.sum() == pytest.approx(amounts.sum())


def test_from_matrix_canonical_input_row_sums(matrix_path):
    """A canonical matrix (the compiled scan's fast case): same liabilities, row sums equal to
    scipy's to the last bit on short rows and to rounding on long ones."""
    rng = np.random.default_rng(3)
    n, m = 400, 6000
    M = sp.csr_array((rng.exponential(1.0, m), (rng.integers(0, n, m), rng.integers(0, n, m))), shape=(n, n))
    M.setdiag(0)
    M.eliminate_zeros()
    M.sum_duplicates()
    M.data[::7] = 0.0          # explicit zeros are dropped
    M = matrix_path(M)
    n = M.shape[0]
    net = FinancialNetwork.from_matrix(M, external_assets=np.ones(n), external_liabilities=np.full(n, 0.5))
    expect = sp.csr_array(M)
    expect.eliminate_zeros()
    np.testing.assert_array_equal(net.liabilities.indptr, expect.indptr)
    np.testing.assert_array_equal(net.liabilities.indices, expect.indices)
    np.testing.assert_array_equal(net.liabilities.data, expect.data)
    rows = np.asarray(expect.sum(axis=1)).ravel()
    np.testing.assert_allclose(net.interbank_liabilities, rows, rtol=1e-15, atol=0)
    np.testing.assert_allclose(net.total_obligations, rows + 0.5, rtol=1e-15, atol=0)


@pytest.mark.parametrize("entry, words", [
    (-1.0, "L[1, 2] is negative"),
    (np.nan, "L[1, 2] is not a finite number"),
    (np.inf, "L[1, 2] is not a finite number"),
])
def test_from_matrix_bad_values_either_path(matrix_path, entry, words):
    """Negative and non-finite liabilities are reported with their place, by both paths."""
    M = sp.csr_array(np.array([[0, 1.0, 0], [2, 0, 3], [0, 0, 0]]))
    M.data[2] = entry          # L[1, 2]
    with pytest.raises(InvalidNetworkError) as info:
        FinancialNetwork.from_matrix(matrix_path(M))
    assert words in str(info.value)


def test_from_matrix_self_loop_and_bad_index_either_path(matrix_path):
    """A nonzero diagonal entry is a self-loop, by both paths; a column index outside the
    matrix (possible in a hand-built CSR, which scipy does not check) is an error that names
    the first such entry's row, index and value."""
    with pytest.raises(InvalidNetworkError, match="self-loop: institution 1 owes itself"):
        FinancialNetwork.from_matrix(matrix_path(sp.csr_array(np.array([[0, 1.0], [0, 5.0]]))))
    good = matrix_path(sp.csr_array(np.array([[0, 1.0], [0, 0]])))
    n = good.shape[0]
    idx = good.indices.copy()
    bad = sp.csr_array((np.concatenate([[1.0, 2.0], good.data[1:]]), np.concatenate([[1, n + 5], idx[1:]]),
                        np.concatenate([[0, 1], good.indptr[2:] + 1])), shape=(n, n))
    with pytest.raises(InvalidNetworkError, match=f"1 column indices outside 0..{n - 1}") as info:
        FinancialNetwork.from_matrix(bad)
    assert f"the first in row 1, column index {n + 5} (value: 2.0)" in str(info.value)


def test_from_matrix_reports_where_in_the_matrix():
    with pytest.raises(InvalidNetworkError) as info:
        FinancialNetwork.from_matrix([[0, 2, -3], [0, 0, 0], [0, 0, 0]])
    (p,) = info.value.problems
    assert "L[0, 2]" in str(p) and p.value == -3.0
