"""CSV text of a table, fast: the bytes pandas' ``DataFrame.to_csv`` writes, without its per-cell cost.

``DataFrame.to_csv(index=False, lineterminator="\\n")`` turns every float
into text through numpy's ``astype(str)`` and hands every cell to the csv
module: about 1 s for a 100,000-row result table, more than reading the
network it came from. :func:`fast_csv_text` writes the same text column by
column and joins the rows in chunks of :data:`CHUNK_ROWS` (two chunks at a time when two cores are
free):

- floats as Python's ``repr`` writes them (the shortest text that reads back
  to the same number; numpy's ``astype(str)`` gives the same), NaN as an
  empty cell. With pyarrow, Arrow's cast to text gives the same digits
  wherever it writes plain decimal notation (``1e-4 <= |x| < 1e16``); it only
  leaves off the ``.0`` of a whole number, which is added, and any other
  value (exponent notation, inf) is written by ``repr``;
- integers by ``str``, booleans as ``True`` / ``False``;
- text as it is (missing: an empty cell), with a leading apostrophe on cells
  and names that start with one of ``guard`` (spreadsheet formulas).

It takes only what it writes exactly as pandas does: at least two columns
with text names; float64, integer, boolean and text columns; and no name or
text cell that the csv module would quote (one holding ``,``, ``"``, a line
feed or a carriage return). Anything else returns ``None`` and the caller
uses pandas (see :func:`contagion.cli.options.csv_text`).

>>> import pandas as pd
>>> print(fast_csv_text(pd.DataFrame({"name": ["A", "=B"], "x": [0.1, float("nan")], "ok": [True, False]}),
...                     guard=("=",)), end="")
name,x,ok
A,0.1,True
'=B,,False
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from .._columns import _text_bytes
from ._malloc import release_arrow_memory

__all__ = ["fast_csv_text", "fast_csv_parts", "CHUNK_ROWS", "COMPILED_MIN_ROWS"]

#: Rows formatted and joined at a time (bounds the text cells alive at once).
CHUNK_ROWS = 1 << 15
#: A cell the csv module would quote (QUOTE_MINIMAL with ``\n`` line ends): the fast path declines it.
_NEEDS_QUOTES = re.compile(r'[,"\n\r]')
#: The bytes of those characters (in UTF-8 they never occur inside a multi-byte character).
_QUOTE_BYTES = tuple(c.encode() for c in ',"\n\r')


def fast_csv_text(frame: pd.DataFrame, *, guard: tuple[str, ...] = ()) -> str | None:
    """``frame.to_csv(index=False, lineterminator="\\n")`` (QUOTE_MINIMAL) as a string, with text cells and
    names starting with one of ``guard`` given a leading apostrophe; ``None`` when the table has anything
    this writer does not write exactly as pandas does (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        The table (its index is not written).
    guard : tuple of str
        Prefixes of text a spreadsheet would run as a formula (``contagion.cli.options.FORMULA_START``).
    """
    parts = fast_csv_parts(frame, guard=guard)
    return None if parts is None else "".join(bytes(part).decode("utf-8") for part in parts)


def fast_csv_parts(frame: pd.DataFrame, *, guard: tuple[str, ...] = (), lazy: bool = False
                   ) -> list[Any] | Iterator[Any] | None:
    """The text of :func:`fast_csv_text` already encoded as UTF-8, in parts (``bytes`` or numpy ``uint8``
    arrays, in order; the header first): a long table goes to a file without ever being one ``str``, which
    costs a decode, a join and an encode of the whole text (~0.15 s each for 150 MB). ``None`` as
    :func:`fast_csv_text` (decided before any row is written).

    With ``lazy``, an iterator: each chunk of rows is made as the parts are read (a few chunks ahead, in
    two threads when two cores are free), so a writer can put the first parts on disk while the last are
    made, and the whole text is never held at once."""
    if frame.shape[1] < 2 or not all(isinstance(c, str) for c in frame.columns):
        return None
    header = _python_text(list(frame.columns), guard)
    if header is None:
        return None
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        text = _python_body(frame, guard)
        body = None if text is None else [text.encode("utf-8")]
    else:
        body = _arrow_body(frame, guard)
    if body is None:
        return None
    head = (",".join(header) + "\n").encode("utf-8")
    return _after(head, body) if lazy else [head, *body]


def _after(head: bytes, body: Iterator[Any]) -> Iterator[Any]:
    """``head``, then the parts of ``body`` (a generator: closing it closes ``body``, which stops making)."""
    yield head
    yield from body


# ---------------------------------------------------------------------- without pyarrow
def _python_text(values: list[Any], guard: tuple[str, ...]) -> list[str] | None:
    """Text cells as written, or ``None`` when a cell is neither text nor missing, or would be quoted."""
    out: list[str] = []
    for v in values:
        if v.__class__ is str:
            out.append("'" + v if guard and v.startswith(guard) else v)
        elif v is None or v is pd.NA or (isinstance(v, float) and v != v):
            out.append("")
        else:
            return None
    if _NEEDS_QUOTES.search("\x00".join(out)):
        return None
    return out


def _is_text(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.StringDtype):
        return True
    return s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


def _python_column(s: pd.Series, guard: tuple[str, ...]) -> Callable[[int, int], list[str]] | None:
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype != object:
        values = s.to_numpy()
        if dtype == np.float64:
            def floats(a: int, b: int) -> list[str]:
                chunk = values[a:b]
                cells = list(map(float.__repr__, chunk.tolist()))
                for k in np.flatnonzero(np.isnan(chunk)).tolist():
                    cells[k] = ""
                return cells
            return floats
        if dtype.kind in "iu":
            return lambda a, b: list(map(str, values[a:b].tolist()))
        if dtype.kind == "b":
            return lambda a, b: np.where(values[a:b], "True", "False").tolist()
        return None
    if not _is_text(s):
        return None
    cells = _python_text(s.to_numpy(dtype=object).tolist(), guard)
    return None if cells is None else (lambda a, b: cells[a:b])


def _python_body(frame: pd.DataFrame, guard: tuple[str, ...]) -> str | None:
    columns = [_python_column(frame.iloc[:, j], guard) for j in range(frame.shape[1])]
    if any(c is None for c in columns):
        return None
    parts = []
    for a in range(0, len(frame), CHUNK_ROWS):
        b = min(len(frame), a + CHUNK_ROWS)
        parts.append("\n".join(map(",".join, zip(*(c(a, b) for c in columns)))) + "\n")
    return "".join(parts)


# ---------------------------------------------------------------------- with pyarrow
def _arrow_floats(values: np.ndarray) -> Any:
    """Text of float64 ``values`` as ``repr`` writes it (NaN: empty), mostly inside Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.cast(pa.array(values), pa.string())
    plain = _plain_range(values) & ~pc.match_substring(text, "e").to_numpy(zero_copy_only=False)
    whole = plain & ~pc.match_substring(text, ".").to_numpy(zero_copy_only=False)
    if whole.any():
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
    other = ~plain
    return _with_repr(text, values, other) if other.any() else text


def _plain_range(values: np.ndarray) -> np.ndarray:
    """Where Arrow's text of a float can be Python's (plain decimal notation): ``1e-4 <= |x| < 1e16`` or 0."""
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        return (size < 1e16) & ((size >= 1e-4) | (size == 0))        # False for NaN and inf


def _with_repr(text: Any, values: np.ndarray, other: np.ndarray) -> Any:
    """``text`` with the cells ``other`` written by ``repr`` (NaN: empty)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    nan = np.isnan(values)
    cells = ["" if bad else float.__repr__(x) for x, bad in zip(values[other].tolist(), nan[other].tolist())]
    return pc.replace_with_mask(text, pa.array(other), pa.array(cells, text.type))


def _arrow_text(s: pd.Series, guard: tuple[str, ...]) -> Any:
    """An Arrow text column as written (missing: empty; ``guard`` prefixes get an apostrophe), or ``None``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not _is_text(s):
        return None
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        text = s.array.__arrow_array__()
    else:
        text = pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    text = pc.fill_null(text.cast(pa.large_string()), pa.scalar("", pa.large_string()))
    if _has_quote_bytes(text):
        return None
    if guard:
        hit = None
        for g in guard:
            m = pc.starts_with(text, g)
            hit = m if hit is None else pc.or_(hit, m)
        if pc.any(hit).as_py():
            quote, empty = pa.scalar("'", pa.large_string()), pa.scalar("", pa.large_string())
            text = pc.if_else(hit, pc.binary_join_element_wise(quote, text, empty), text)
    return text


def _has_quote_bytes(text: Any) -> bool:
    """Whether some cell of an Arrow text column holds a byte of :data:`_QUOTE_BYTES`: a byte search (memchr)
    per byte over the bytes of its cells (a regular expression per cell took 0.15 s a column at 10^6 rows,
    ``numpy.isin`` over the bytes 2.5x as long as the search)."""
    import pyarrow as pa

    for chunk in (text.chunks if isinstance(text, pa.ChunkedArray) else [text]):
        if len(chunk) == 0:
            continue
        off, data = _text_bytes(chunk)
        cells = data[int(off[0]): int(off[-1])]
        if cells.size:
            buf = cells.tobytes()
            if any(q in buf for q in _QUOTE_BYTES):
                return True
    return False


def _arrow_column(s: pd.Series, guard: tuple[str, ...], compiled: bool = False) -> Callable[[int, int], Any] | None:
    """A function ``(start, stop) -> Arrow large_string array`` of one column's cells, or ``None``; with
    ``compiled``, ``(start, stop) -> (array, fix)`` for :func:`_compiled_rows` (``fix``: the ``.0`` of whole
    floats, or ``None``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype != object:
        values = s.to_numpy()
        if dtype == np.float64:
            if compiled:
                return lambda a, b: _compiled_floats(values[a:b])
            return lambda a, b: _arrow_floats(values[a:b]).cast(pa.large_string())
        if dtype.kind in "iu":
            cells = lambda a, b: pc.cast(pa.array(values[a:b]), pa.large_string())  # noqa: E731
        elif dtype.kind == "b":
            cells = lambda a, b: pc.if_else(pa.array(values[a:b]), "True", "False").cast(pa.large_string())  # noqa: E731
        else:
            return None
        return (lambda a, b: (cells(a, b), None)) if compiled else cells
    text = _arrow_text(s, guard)
    if text is None:
        return None
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    if compiled:
        return lambda a, b: (text.slice(a, b - a), None)
    return lambda a, b: text.slice(a, b - a)


def _compiled_floats(values: np.ndarray) -> tuple[Any, np.ndarray]:
    """:func:`_arrow_floats` for the compiled row assembly: Arrow's text and what to change in it
    (:func:`contagion._csv_kernels.float_fixes`: ``fix == 1`` adds ``.0``, ``fix == 3`` is NaN, an empty
    cell), the few cells Arrow writes differently from ``repr`` replaced by ``repr``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .. import _csv_kernels as K

    text = pc.cast(pa.array(values), pa.large_string())
    off, data = _text_bytes(text)
    fix = np.empty(len(values), dtype=np.uint8)
    if K.float_fixes(off, data, values, fix):
        other = fix == 2
        text = _with_repr(text, values, other)
        fix[other] = 0
    return text, fix


def _compiled_rows(cells: list[tuple[Any, np.ndarray | None]], rows: int) -> np.ndarray:
    """The CSV lines of a chunk (UTF-8 bytes) from its columns' text (``(large_string array, fix or None)``)."""
    from .. import _csv_kernels as K

    length = np.zeros(rows, dtype=np.int64)
    parts = []
    for text, fix in cells:
        off, data = _text_bytes(text)
        fix = np.zeros(rows, dtype=np.uint8) if fix is None else fix
        K.add_lengths(off, fix, length)
        parts.append((off, data, fix))
    cursor = np.zeros(rows, dtype=np.int64)
    np.cumsum(length[:-1], out=cursor[1:])
    out = np.empty(int(length.sum()), dtype=np.uint8)
    comma, newline = np.uint8(ord(",")), np.uint8(ord("\n"))
    for j, (off, data, fix) in enumerate(parts):
        K.put_column(off, data, fix, newline if j == len(parts) - 1 else comma, out, cursor)
    return out


#: Tables at least this long have their rows put together by the compiled kernels of
#: :mod:`contagion._csv_kernels` (the same bytes; shorter ones by Arrow's joins, without compiling).
COMPILED_MIN_ROWS = 200_000


def _arrow_body(frame: pd.DataFrame, guard: tuple[str, ...]) -> Iterator[Any] | None:
    """The rows of ``frame`` as UTF-8 parts (numpy ``uint8`` arrays or ``bytes``), a chunk each, made as they
    are read (:func:`_in_order`); ``None`` at once when a column is not one this writer takes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(frame)
    compiled = False
    if n >= COMPILED_MIN_ROWS:
        from .._matrix import numba_available

        compiled = numba_available()
    columns = []
    floats: list[tuple[np.ndarray, Callable]] = []
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        same = _same_floats(s, floats)
        col = same if same is not None else _arrow_column(s, guard, compiled)
        if col is None:
            return None
        if same is None and s.dtype == np.float64:
            floats.append((s.to_numpy(), col))
        columns.append(col)
    comma, empty, newline = (pa.scalar(t, pa.large_string()) for t in (",", "", "\n"))

    def cells(a: int, b: int) -> list:
        made = {c: c(a, b) for c in dict.fromkeys(columns)}  # a column equal to an earlier one is written once
        return [made[c] for c in columns]

    def chunk_text(a: int) -> Any:
        b = min(n, a + CHUNK_ROWS)
        if compiled:
            return _compiled_rows(cells(a, b), b - a)
        rows = pc.binary_join_element_wise(*cells(a, b), comma)
        lines = pc.binary_join_element_wise(rows, empty, newline)  # each row followed by a line end
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset: lines.offset + len(lines) + 1]
        return memoryview(lines.buffers()[2])[offsets[0]: offsets[-1]].tobytes()

    starts = range(0, n, CHUNK_ROWS)
    return _in_order(chunk_text, starts, len(starts) >= 4 and _two_cores())


#: Chunks made ahead of the one being read, at most (two threads keep busy; the rest of the text is not held).
AHEAD = 4


def _in_order(make: Callable[[int], Any], starts: range, two: bool) -> Iterator[Any]:
    """``make(a)`` for each of ``starts``, in order, each when the one before is read; with ``two``, up to
    :data:`AHEAD` of them made ahead in two threads (Arrow's kernels and the compiled ones release the GIL).
    Arrow's unused memory goes back to the system at the end (:func:`~._malloc.release_arrow_memory`)."""
    try:
        if not two:
            for a in starts:
                yield make(a)
            return
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            todo = iter(starts)
            ahead = deque(pool.submit(make, a) for a in itertools.islice(todo, AHEAD))
            try:
                while ahead:
                    part = ahead.popleft().result()
                    for a in itertools.islice(todo, 1):
                        ahead.append(pool.submit(make, a))
                    yield part
            finally:
                for f in ahead:           # a reader that stops early (an error on the way): drop the rest
                    f.cancel()
    finally:
        release_arrow_memory()


def _same_floats(s: pd.Series, floats: list[tuple[np.ndarray, Callable]]) -> Callable | None:
    """The cell function of an earlier float column with the same bits as ``s`` (e.g. the equity before and
    after a scenario that changed nothing: its text is made once), else ``None``."""
    if s.dtype != np.float64:
        return None
    bits = s.to_numpy().view(np.int64)
    for values, col in floats:
        if np.array_equal(values.view(np.int64), bits):
            return col
    return None


def _two_cores() -> bool:
    """Whether two cores are free now (``contagion._matrix.available_cores``: ``CONTAGION_THREADS``, workers,
    other processes' load)."""
    from .._matrix import available_cores

    return available_cores(2) >= 2
