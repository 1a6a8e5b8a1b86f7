"""The located-number reader shared by the table readers (contagion._columns.located_numbers)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import contagion
from contagion._columns import located_numbers


@pytest.mark.parametrize("cells, kw, values, bad", [
    (["1", " 2.5 ", "", None, float("nan")], {}, [1.0, 2.5, math.nan, math.nan, math.nan], []),
    (["x", "1_000", "nan", "inf", True], {}, [math.nan] * 5, [0, 1, 2, 3, 4]),
    ([0, -1, 3], {"low": 0}, [0.0, math.nan, 3.0], [1]),
    ([0, 1e-9, 3], {"low": 0, "low_open": True}, [math.nan, 1e-9, 3.0], [0]),
    ([2026, 2026.5, "2027"], {"integer": True}, [2026.0, math.nan, 2027.0], [1]),
    ([0.5, 1.5], {"high": 1}, [0.5, math.nan], [1]),
])
def test_values_and_problems(cells, kw, values, bad):
    problems: list = []
    got = located_numbers(cells, "c", "t.csv", 2, problems, **kw)
    np.testing.assert_array_equal(got, values)
    assert [p.row for p in problems] == [k + 2 for k in bad]
    assert all(p.file == "t.csv" and p.column == "c" and "got" in p.message for p in problems)


def test_a_numeric_column_reads_as_its_text_would():
    """The vectorised path (float column) and the cell-by-cell path (text) agree on values and problems."""
    floats = pd.Series([1.0, np.nan, -2.0, np.inf, 4.0])
    text = pd.Series(["1", "", "-2", "inf", "4"], dtype=object)
    p1: list = []
    p2: list = []
    np.testing.assert_array_equal(located_numbers(floats, "c", None, 0, p1, low=0),
                                  located_numbers(text, "c", None, 0, p2, low=0))
    assert [p.row for p in p1] == [p.row for p in p2] == [2, 3]


def test_required_blank_cells_are_problems():
    problems: list = []
    located_numbers(["1", " "], "value", "c.csv", 2, problems, required=True)
    assert [str(p) for p in problems] == ["c.csv, row 3, column 'value': is blank; a number is needed"]


@pytest.mark.parametrize("where, column, value, text", [
    ("edges", "seniority", "first", "whole number >= 1 (1 = paid first), got 'first'"),
    ("edges", "rate", "-0.1", "a finite number >= 0, got -0.1"),          # a numeric column: read as a number
    ("nodes", "asset_units", "-3", "units of the asset held), got -3.0"),
    ("collateral", "value", "lots", "a finite number >= 0, got 'lots'"),
])
def test_every_reader_locates_a_bad_number_in_its_file(tmp_path, where, column, value, text):
    """The priority columns, the dated columns, the fire-sale holdings and collateral.csv: file, row, column,
    value, through the command line (exit 1, one line)."""
    from click.testing import CliRunner

    from contagion.cli import cli

    d = tmp_path / "net"
    d.mkdir()
    edges = {"debtor": ["A"], "creditor": ["B"], "amount": ["1"], "principal": ["10"], "rate": ["0.1"],
             "maturity": ["2027"], "rollover": ["ltv"], "max_ltv": ["0.5"], "collateral": ["gpu"]}
    nodes = {"id": ["A", "B"], "external_assets": ["5", "0"], "asset_units": ["3", ""]}
    coll = {"id": ["gpu"], "value": ["10"], "year": ["2026"], "economic_life": ["3"]}
    table = {"edges": edges, "nodes": nodes, "collateral": coll}[where]
    table[column] = [value] + table.get(column, [])[1:]
    method = "eisenberg-noe" if column == "seniority" else "fire-sale"     # fire sales refuse seniority
    for name, t in (("edges", edges), ("nodes", nodes), ("collateral", coll)):
        pd.DataFrame(t).to_csv(d / f"{name}.csv", index=False)
    net = contagion.read_network(d)
    with pytest.raises(contagion.InvalidNetworkError) as info:
        contagion.clear_path(net, (2026, 2027), method=method)
    problem = info.value.problems[0]
    assert (str(problem.file).endswith(f"{where}.csv"), problem.row, problem.column) == (True, 2, column)
    assert text in str(problem)
    out = CliRunner().invoke(cli, ["run", str(d), "--horizon", "2026:2027", "-m", method])
    assert out.exit_code == 1 and f"{where}.csv, row 2, column '{column}'" in out.stderr


def test_empty_text_from_arrow_offsets_equals_comparison():
    """Empty cells of an Arrow-backed column read from the offsets equal ``s == ""``: chunks, empty chunks,
    sliced chunks (offsets that do not start at 0; pandas holds Arrow text as ``large_string``); a column
    with missing values, and one that is not Arrow-backed, take the comparison (missing is not empty)."""
    pa = pytest.importorskip("pyarrow")
    from contagion._columns import _empty_text

    t = pa.large_string()
    arr = pa.chunked_array([pa.array(["a", "", "bc"], type=t), pa.array([], type=t),
                            pa.array(["zz", "", "x", ""], type=t).slice(1, 3)])
    s = pd.Series(pd.arrays.ArrowStringArray(arr))
    assert _empty_text(s).tolist() == (s == "").to_numpy(dtype=bool).tolist() == [False, True, False, True, False,
                                                                                     True]
    with_missing = pd.Series(["a", None, ""], dtype="string[pyarrow]")
    assert _empty_text(with_missing).tolist() == [False, False, True]
    assert _empty_text(pd.Series([], dtype="string[pyarrow]")).tolist() == []
    assert _empty_text(pd.Series(["", "a", None], dtype=object)).tolist() == [True, False, False]
