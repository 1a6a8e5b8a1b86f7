"""The fast CSV writer (contagion.io.csvtext) writes exactly the bytes of pandas' ``to_csv``, or declines."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from contagion.cli.options import FORMULA_START, csv_text
from contagion.io import csvtext
from contagion.io.csvtext import fast_csv_text


@pytest.fixture(autouse=True, params=["arrow joins", "compiled rows"])
def row_assembly(request, monkeypatch):
    """Every test twice: rows joined by Arrow (short tables) and put together by the compiled kernels of
    contagion._csv_kernels (long tables; here every table)."""
    if request.param == "compiled rows":
        from contagion import _matrix

        if not _matrix.numba_available():
            pytest.skip("numba is not installed")
        monkeypatch.setattr(csvtext, "COMPILED_MIN_ROWS", 0)
    else:
        monkeypatch.setattr(csvtext, "COMPILED_MIN_ROWS", 10**12)
    return request.param


def reference(frame: pd.DataFrame, guard: tuple[str, ...] = FORMULA_START) -> str:
    """What pandas writes, with text cells and names starting with a guard prefix given an apostrophe."""
    def neutral(v):
        return "'" + v if isinstance(v, str) and v.startswith(guard) else v

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutral, na_action="ignore")
    out.columns = [neutral(c) for c in out.columns]
    return out.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


def awkward_floats(rng: np.random.Generator, n: int) -> np.ndarray:
    """Floats of every magnitude and form: both notations of repr, whole numbers, subnormals, signed zeros,
    inf, NaN, random bit patterns."""
    special = np.array([0.0, -0.0, 1.0, -1.0, 100.0, 1e15, 1e16, 9999999999999998.0, 1e-4, 9.999e-5, 1e-5, 0.1,
                        1 / 3, 5e-324, 1.7976931348623157e308, 2.0 ** 53, 2.0 ** 63, 1e22, 123456789.125,
                        41163053637.413284, np.inf, -np.inf, np.nan])
    bits = rng.integers(0, 2 ** 63, n, dtype=np.uint64).view(np.float64)
    scaled = rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)
    money = np.round(rng.lognormal(3, 2, n) * 10.0 ** rng.integers(0, 9, n)) / 10.0 ** rng.integers(0, 9, n)
    whole = rng.integers(-10 ** 17, 10 ** 17, n).astype(np.float64)
    x = np.concatenate([special, bits, scaled, money, whole])
    return x[rng.permutation(x.size)]


def test_floats_of_every_form_match_pandas():
    rng = np.random.default_rng(7)
    x = awkward_floats(rng, 20_000)
    frame = pd.DataFrame({"a": x, "b": x[::-1].copy(), "n": np.arange(x.size) - 5, "flag": x > 0})
    assert fast_csv_text(frame) == reference(frame)
    body = reference(frame).split("\n", 1)[1]
    assert csvtext._python_body(frame, ()) == body          # the writer used without pyarrow


def test_equal_float_columns_are_written_once_and_signed_zeros_kept_apart(monkeypatch):
    """A float column with the same bits as an earlier one reuses its text (made once); -0.0 and 0.0 compare
    equal but print differently, so columns that differ only there are written each on their own."""
    rng = np.random.default_rng(3)
    x = awkward_floats(rng, 2_000)
    flipped = np.where(x == 0, -x, x)                                   # only the signs of the zeros differ
    frame = pd.DataFrame({"a": x, "b": x.copy(), "c": flipped, "d": x[::-1].copy(), "e": x.copy()})
    made = []
    original = csvtext._arrow_column

    def counting(s, guard, compiled=False):
        made.append(s.name)
        return original(s, guard, compiled)

    monkeypatch.setattr(csvtext, "_arrow_column", counting)
    assert fast_csv_text(frame) == reference(frame)
    assert made == ["a", "c", "d"]
    rows = [line.split(",") for line in fast_csv_text(frame).splitlines()[1:]]
    differ = [k for k, r in enumerate(rows) if r[0] != r[2]]
    assert differ == np.flatnonzero(x == 0).tolist() and {rows[k][0] for k in differ} == {"0.0", "-0.0"}


def test_nan_cells_are_empty_without_python_repr(monkeypatch, row_assembly):
    """A column mostly NaN (capital depletion where equity was never positive): empty cells, first, last and
    side by side, next to whole numbers and exponent notation; the compiled rows write them without handing
    them to ``repr`` (only the exponent cells are)."""
    x = np.array([np.nan, np.nan, 1.0, 0.25, np.nan, 1e-7, np.nan, -3.0, 2.5e20, np.nan])
    frame = pd.DataFrame({"depletion": np.tile(x, 50), "k": np.arange(x.size * 50)})
    handed = []
    original = csvtext._with_repr

    def counting(text, values, other):
        handed.extend(values[other].tolist())
        return original(text, values, other)

    monkeypatch.setattr(csvtext, "_with_repr", counting)
    text = fast_csv_text(frame)
    assert text == reference(frame)
    assert text.splitlines()[1:6] == [",0", ",1", "1.0,2", "0.25,3", ",4"]
    if row_assembly == "compiled rows":
        assert sorted(set(handed)) == [1e-7, 2.5e20]


@pytest.mark.parametrize("storage", ["object", "str", "arrow"])
def test_text_columns_missing_values_and_formula_guard_match_pandas(storage):
    names = ["Bank A", "=1+1", "+cmd", "-1", "@SUM(A1)", "\tTab", None, "", "Ünïcødé ∑", "n0", "  spaced  "]
    values = pd.Series(names * 3, dtype=object)
    if storage == "str":
        values = values.astype(pd.StringDtype(na_value=np.nan))
    elif storage == "arrow":
        values = values.astype("string[pyarrow]")
    frame = pd.DataFrame({"name": values, "=x": np.linspace(-1, 1, len(values)), "i": np.arange(len(values))})
    expected = reference(frame)
    assert fast_csv_text(frame, guard=FORMULA_START) == expected
    assert csv_text(frame) == expected
    assert "'=1+1" in expected and "'=x" in expected.splitlines()[0]


@pytest.mark.parametrize("cell", ["a,b", 'say "hi"', "two\nlines", "carriage\rreturn"])
def test_cells_the_csv_module_would_quote_go_to_pandas(cell):
    frame = pd.DataFrame({"name": ["ok", cell], "x": [1.0, 2.0]})
    assert fast_csv_text(frame) is None
    rows = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    assert rows[2][0] == cell


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"only": [1.0, 2.0]}),                                   # one column: pandas quotes an empty row
    pd.DataFrame({0: [1.0], 1: [2.0]}),                                   # names that are not text
    pd.DataFrame({"t": pd.to_datetime(["2026-01-01"]), "x": [1.0]}),      # a type the writer does not do
    pd.DataFrame({"x": np.array([1.5], dtype=np.float32), "y": [1]}),     # float32 prints differently
    pd.DataFrame({"x": pd.array([1, None], dtype="Int64"), "y": [1, 2]}),  # nullable integers
    pd.DataFrame({"o": pd.Series([1, "a"], dtype=object), "y": [1, 2]}),  # mixed objects
])
def test_declines_what_it_does_not_write_like_pandas(frame):
    assert fast_csv_text(frame) is None
    assert csv_text(frame) == reference(frame)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_many_rows_cross_chunk_boundaries(monkeypatch, threads):
    monkeypatch.setattr(csvtext, "CHUNK_ROWS", 1000)
    monkeypatch.setenv("CONTAGION_THREADS", threads)      # "2": chunks formatted side by side, in order
    rng = np.random.default_rng(3)
    n = 4321
    frame = pd.DataFrame({"id": [f"n{k}" for k in range(n)], "p": rng.lognormal(1, 1, n),
                          "d": rng.random(n) > 0.5, "w": rng.integers(-1, 5, n)})
    assert fast_csv_text(frame) == reference(frame)
    assert csvtext._python_body(frame, ()) == reference(frame).split("\n", 1)[1]


def test_empty_table_is_the_header():
    frame = pd.DataFrame({"a": np.array([], dtype=float), "b": pd.Series([], dtype=object)})
    assert fast_csv_text(frame) == reference(frame) == "a,b\n"


@pytest.mark.parametrize("threads", ["1", "2"])
def test_parts_are_the_text_encoded_and_emit_writes_them(monkeypatch, tmp_path, capsysbinary, threads):
    """``fast_csv_parts`` / ``csv_output`` give the bytes of the text (header first, one part a chunk, multi-byte
    text included); ``emit`` writes them to a file (atomically, part by part), through a device, and to
    standard output, with the same bytes as the text path, adding a missing final line end; a table the
    fast writer declines goes through pandas, encoded."""
    from contagion.cli.options import EncodedText, csv_output, emit

    monkeypatch.setattr(csvtext, "CHUNK_ROWS", 1000)
    monkeypatch.setenv("CONTAGION_THREADS", threads)
    rng = np.random.default_rng(5)
    n = 3210
    frame = pd.DataFrame({"id": [f"ñ{k}" for k in range(n)], "p": awkward_floats(rng, n)[:n],
                          "d": rng.random(n) > 0.5})
    text = reference(frame)
    parts = csvtext.fast_csv_parts(frame, guard=FORMULA_START)
    assert len(parts) == 1 + 4 and bytes(parts[0]) == text.split("\n", 1)[0].encode() + b"\n"
    assert b"".join(bytes(p) for p in parts) == text.encode("utf-8")
    out = csv_output(frame)
    assert isinstance(out, EncodedText) and str(out) == csv_text(frame) == text
    emit(out, str(tmp_path / "t.csv"))
    assert (tmp_path / "t.csv").read_bytes() == text.encode("utf-8")
    emit(out, "/dev/null")                                   # through a device, never replaced
    emit(out, None)
    assert capsysbinary.readouterr().out == text.encode("utf-8")
    emit(EncodedText([b"a,b\n1,", np.frombuffer(b"2", dtype=np.uint8), b""]), str(tmp_path / "u.csv"))
    assert (tmp_path / "u.csv").read_bytes() == b"a,b\n1,2\n"
    declined = pd.DataFrame({"name": ["ok", "a,b"], "x": [1.0, 2.0]})
    assert csvtext.fast_csv_parts(declined) is None
    assert str(csv_output(declined)) == csv_text(declined) == reference(declined)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_lazy_parts_are_made_as_they_are_read(monkeypatch, tmp_path, threads):
    """``fast_csv_parts(lazy=True)``: the same parts, each chunk made when the reader gets near it (one thread:
    as it is read; two: at most ``AHEAD`` ahead), a reader that stops early leaves the rest unmade, and
    ``emit`` writes a lazy table it was never asked to hold whole."""
    import threading

    from contagion.cli.options import csv_output, emit

    monkeypatch.setattr(csvtext, "CHUNK_ROWS", 100)
    monkeypatch.setenv("CONTAGION_THREADS", threads)
    rng = np.random.default_rng(11)
    n = 1234                                                    # 13 chunks
    frame = pd.DataFrame({"id": [f"n{k}" for k in range(n)], "p": awkward_floats(rng, n)[:n]})
    made, lock = [], threading.Lock()
    original = csvtext._arrow_column

    def counting(s, guard, compiled=False):
        cells = original(s, guard, compiled)

        def wrapped(a, b):
            with lock:
                made.append(a)
            return cells(a, b)
        return wrapped

    monkeypatch.setattr(csvtext, "_arrow_column", counting)
    lazy = csvtext.fast_csv_parts(frame, lazy=True)
    assert made == []                                           # nothing made before it is read
    assert bytes(next(lazy)) == b"id,p\n"
    first = next(lazy)
    ahead = len(set(made)) - 1
    assert (ahead == 0) if threads == "1" else (0 <= ahead <= csvtext.AHEAD)
    lazy.close()                                                # a reader that stops: the rest is never made
    assert len(set(made)) <= 1 + csvtext.AHEAD
    assert bytes(first) == reference(frame).encode().split(b"\n", 1)[1][:len(first)]
    made.clear()
    out = csv_output(frame)
    emit(out, str(tmp_path / "t.csv"))
    assert (tmp_path / "t.csv").read_bytes() == reference(frame).encode()
    assert sorted(set(made)) == list(range(0, n, 100))
    with pytest.raises(RuntimeError, match="made as it was written"):   # never an empty second table
        emit(out, str(tmp_path / "again.csv"))
    assert not (tmp_path / "again.csv").exists()
