"""Column checks of the node and edge tables (used by :class:`~contagion.network.FinancialNetwork` constructors).

Each check appends located :class:`~contagion.errors.Problem` objects (file,
row, column, value) instead of raising at the first one, so that a reader can
report every problem of a file at once.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import Problem, shown

#: Text columns at least this long are checked and looked up by the compiled kernels of
#: :mod:`contagion._text_kernels` (shorter ones by numpy and Arrow's ``index_in``: no compiling for small tables).
COMPILED_LOOKUP_MIN = 500_000


def _long(rows: int) -> bool:
    """Whether a column of ``rows`` values goes to the compiled kernels (:data:`COMPILED_LOOKUP_MIN`)."""
    return rows >= COMPILED_LOOKUP_MIN


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    return v


def _text_column(df: pd.DataFrame, col: str, file: str, problems: list[Problem], row_offset: int,
                 required: bool) -> pd.Series:
    s = df[col]
    missing = s.isna().to_numpy()
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):  # vectorised common case
        out = pd.Series(_as_text(s).str.strip().fillna("").to_numpy(dtype=object), index=s.index)
    else:
        out = s.astype(object).where(~missing, "").map(lambda v: v if isinstance(v, str) else _id_text(v))
        out = out.astype(object).map(str.strip)
    if required:
        for k in np.flatnonzero(missing | (out == "").to_numpy()):
            problems.append(Problem("value is missing", file=file, row=int(k) + row_offset, column=col, value=""))
    return out.reset_index(drop=True)


def _text_compact(df: pd.DataFrame, col: str, file: str, problems: list[Problem], row_offset: int,
                  required: bool) -> pd.Series:
    """:func:`_text_column` for the big columns of a network (ids in edges, kinds): the same checks and
    values, kept as pandas' Arrow-backed string dtype when the column already is one (about 10 bytes per cell
    instead of a Python object of 50-60), else as :func:`_text_column` returns them."""
    s = df[col]
    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        return _text_column(df, col, file, problems, row_offset, required)
    missing = s.isna().to_numpy()
    arrow = s.array.__arrow_array__()
    out = s
    # copies only when something changes (a stripped copy of ten million ids is ~150 MB)
    if _may_need_strip(arrow):
        out = out.str.strip()
    if missing.any():
        out = out.fillna("")
    if required:
        for k in np.flatnonzero(missing | _empty_text(out)):
            problems.append(Problem("value is missing", file=file, row=int(k) + row_offset, column=col, value=""))
    return out.reset_index(drop=True)


def _empty_text(s: pd.Series) -> np.ndarray:
    """``(s == "")`` as a bool array (missing: ``False``). An Arrow-backed text column without missing values is
    read from its Arrow offsets (a cell is empty when its end is its start) instead of comparing ten million
    strings in pandas (12-40 ms a column against 30-65 ms); anything else is compared."""
    if not _arrow_backed(s):
        return (s == "").to_numpy(dtype=bool, na_value=False)
    import pyarrow as pa

    arrow = s.array.__arrow_array__()
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    if any(c.null_count or not (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)) for c in chunks):
        return (s == "").to_numpy(dtype=bool, na_value=False)
    parts = [np.equal(off[1:], off[:-1]) for off, _ in map(_text_bytes, (c for c in chunks if len(c)))]
    return np.concatenate(parts) if parts else np.zeros(len(s), dtype=bool)


#: Bytes a value that ``str.strip`` (or Arrow's trim) changes may start with: ASCII white space and the lead
#: bytes of the multi-byte white space (U+0085, U+00A0, U+1680, U+2000-U+205F, U+3000) ...
_LEAD = np.zeros(256, dtype=bool)
_LEAD[[*range(0x09, 0x0E), *range(0x1C, 0x21), 0xC2, 0xE1, 0xE2, 0xE3]] = True
#: ... and end with: ASCII white space, or any continuation byte (every string ending in a non-ASCII character).
_TAIL = np.zeros(256, dtype=bool)
_TAIL[[*range(0x09, 0x0E), *range(0x1C, 0x21), *range(0x80, 0xC0)]] = True


def _may_need_strip(arrow) -> bool:
    """Whether some value of an Arrow string column may start or end with white space (a superset: ``True``
    costs a stripped copy, never a wrong value), from its first and last bytes, without copying strings."""
    import pyarrow as pa

    kernels = None
    if _long(len(arrow)):
        from ._matrix import numba_available

        if numba_available():
            from . import _text_kernels as kernels
    for chunk in arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]:
        if len(chunk) == 0:
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return True
        off, data = _text_bytes(chunk)
        if kernels is not None:  # a sequential pass, where numpy's gathers below cost ~0.08 s per 10^7 values
            if kernels.may_need_strip(off, data, _LEAD, _TAIL):
                return True
            continue
        start, end = off[:-1], off[1:]
        full = end > start
        if not full.all():
            start, end = start[full], end[full]
        if _LEAD[data[start]].any() or _TAIL[data[end - 1]].any():
            return True
    return False


def _arrow_backed(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"


def _arrow_strings(s: pd.Series):
    """The Arrow string array (chunks combined) behind an Arrow-backed text column, else ``None``."""
    if not _arrow_backed(s):
        return None
    import pyarrow as pa

    arr = s.array.__arrow_array__()
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def _text_bytes(arr) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and bytes of an Arrow string array, as numpy views (value ``r`` is ``data[off[r]:off[r+1]]``)."""
    import pyarrow as pa

    bufs = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    off = np.frombuffer(bufs[1], dtype=width)[arr.offset: arr.offset + len(arr) + 1] if len(arr) else \
        np.zeros(1, dtype=width)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None and bufs[2].size else np.zeros(1, np.uint8)
    return off, data


def _string_buffers(arr) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets, bytes and validity of an Arrow string array, as numpy views (no copy but the validity)."""
    valid = (np.ones(len(arr), dtype=bool) if arr.null_count == 0
             else arr.is_valid().to_numpy(zero_copy_only=False))
    return (*_text_bytes(arr), valid)


class _IdLookup:
    """Positions of text values among ``ids`` (first occurrence; -1 when absent), for several columns.

    A long Arrow-backed column is looked up by the compiled, cache-partitioned kernel (the ids' table is
    built once for every column); anything else by :func:`_positions`. :meth:`positions` releases the GIL
    in the compiled kernel, so two columns can be looked up in two threads.
    """

    def __init__(self, ids: pd.Series, compiled: bool):
        self.ids = ids
        self._table = None
        #: distinct non-missing ids (from the compiled table), else ``None``
        self.distinct: int | None = None
        if compiled:
            arr = _arrow_strings(ids)
            if arr is not None:
                from ._matrix import numba_available

                if numba_available():
                    from . import _text_kernels as K

                    off, data, valid = _string_buffers(arr)
                    bits = max(1, int(math.ceil(math.log2(max(1.0, len(arr) / K.PART_IDS)))))
                    self._table = (*K.build_table(off, data, valid, bits), bits)
                    self.distinct = int(np.count_nonzero(self._table[2]))   # slots in use
                    self._block = K.block_for(len(arr))

    def positions(self, values: pd.Series) -> np.ndarray:
        if self._table is None or not _arrow_backed(values):
            return _positions(values, self.ids)
        import pyarrow as pa

        from . import _text_kernels as K

        arrow = values.array.__arrow_array__()
        chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
        if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
            return _positions(values, self.ids)
        out = np.empty(len(values), dtype=np.int64)
        start = size = 0
        group: list = []
        # chunks a block at a time: short chunks (Parquet pages, CSV blocks) are put together, one block's
        # worth at a time, so that each partition's table is loaded once per block and no copy of the whole
        # column is made
        for k, chunk in enumerate(chunks):
            group.append(chunk)
            size += len(chunk)
            if size < self._block and k + 1 < len(chunks):
                continue
            arr = group[0] if len(group) == 1 else pa.concat_arrays(group)
            off, data, valid = _string_buffers(arr)
            K.probe(off, data, valid, *self._table, out[start: start + size], self._block)
            start += size
            size = 0
            group = []
        return out


def _positions(values: pd.Series, ids: pd.Series) -> np.ndarray:
    """Position in ``ids`` of the first occurrence of each value (int64; -1 when absent).

    Hashes inside Arrow (no Python object per value) when both are Arrow-backed strings.
    """
    if all(isinstance(x.dtype, pd.StringDtype) and x.dtype.storage == "pyarrow" for x in (values, ids)):
        import pyarrow as pa
        import pyarrow.compute as pc

        arrow = [pa.chunked_array(x.array.__arrow_array__()) for x in (values, ids)]
        found = pc.index_in(arrow[0], value_set=arrow[1].combine_chunks())
        return pc.fill_null(found, -1).to_numpy().astype(np.int64, copy=False)
    first = ~ids.duplicated(keep="first").to_numpy()
    index, where = pd.Index(ids[first]), np.flatnonzero(first)
    codes = index.get_indexer(values.to_numpy(dtype=object))
    return np.where(codes >= 0, where[codes], -1)


def _check_columns(df: pd.DataFrame, required: Sequence[str], file: str, problems: list[Problem]) -> None:
    """Required columns present, and no column name twice (``df[col]`` would be ambiguous)."""
    dup = pd.Index(df.columns)[pd.Index(df.columns).duplicated()].unique()
    for col in dup:
        problems.append(Problem("duplicate column", file=file, column=str(col), value=col))
    for col in required:
        if col not in df.columns:
            problems.append(Problem("required column is missing", file=file, column=col))


_TRUE = frozenset({"true", "yes", "1", "1.0"})
_FALSE = frozenset({"false", "no", "0", "0.0", ""})


def _bool_column(df: pd.DataFrame, col: str, file: str, problems: list[Problem], row_offset: int) -> np.ndarray:
    """A yes/no column (missing = False); text must be true/false/yes/no/1/0 in any case."""
    if col not in df.columns:
        return np.zeros(len(df), dtype=bool)
    s = df[col]
    if s.dtype.kind == "b":
        return s.to_numpy(dtype=bool)
    text = s.astype(object).where(s.notna(), "").map(lambda v: str(v).strip().lower())
    truthy, falsy = text.isin(_TRUE).to_numpy(), text.isin(_FALSE).to_numpy()
    for k in np.flatnonzero(~(truthy | falsy)):
        problems.append(Problem("not true or false", file=file, row=int(k) + row_offset, column=col,
                                value=_raw_value(s, k)))
    return truthy


def _as_text(s: pd.Series) -> pd.Series:
    """``s`` (text with missing values) as pandas' string dtype: vectorised ``.str`` methods (Arrow if present)."""
    return s if isinstance(s.dtype, pd.StringDtype) else s.astype(pd.StringDtype(na_value=np.nan))


def _id_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _number_column(df: pd.DataFrame, col: str, file: str, problems: list[Problem], row_offset: int,
                   required: bool = False, copy: bool = True) -> np.ndarray:
    """The numbers of column ``col`` (missing = 0), every bad value reported to ``problems``. A new array unless
    ``copy`` is False: then a valid float64 column may come back as a view of ``df`` (for a caller that only
    reads it and copies what it keeps)."""
    if col not in df.columns:
        return np.zeros(len(df))
    s = df[col]
    if s.dtype.kind in "fiu":
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if vals.size and np.isfinite(vals).all() and vals.min() >= 0:  # the common case: nothing to report
            return vals.copy() if copy else vals  # a copy is never a view of the caller's table
        missing = np.isnan(vals) & s.isna().to_numpy()
        bad_text = np.zeros(len(s), dtype=bool)
    elif s.dtype.kind == "b":
        for k in np.flatnonzero(s.notna().to_numpy()):
            problems.append(Problem("not a number", file=file, row=int(k) + row_offset, column=col,
                                    value=_plain(s.iloc[k])))
        return np.zeros(len(df))
    else:
        raw = s.astype(object)
        if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):  # vectorised common case (CSV)
            text = _as_text(s).str.strip().fillna("")  # '1_000' is not a number here (Python's float() says it is)
            missing = (text == "").to_numpy(dtype=bool)
            vals = pd.to_numeric(np.where(missing, "nan", text.to_numpy(dtype=object)), errors="coerce")
            vals = np.asarray(vals, dtype=np.float64)
            nan_text = text.str.lower().str.lstrip("+-").eq("nan").to_numpy(dtype=bool)
        else:
            missing = raw.isna().to_numpy() | raw.map(lambda v: isinstance(v, str) and v.strip() == "").to_numpy()
            conv = pd.to_numeric(raw.where(~missing, np.nan).map(_num_text), errors="coerce")
            vals = conv.to_numpy(dtype=np.float64)
            nan_text = raw.map(lambda v: isinstance(v, str) and v.strip().lstrip("+-").lower() == "nan").to_numpy(bool)
        # literal "nan" text is a non-finite number, reported below as such, not as text
        bad_text = np.isnan(vals) & ~missing & ~nan_text
        for k in np.flatnonzero(bad_text):
            problems.append(Problem(f"not a number{number_hint(raw.iloc[k])}", file=file, row=int(k) + row_offset,
                                    column=col, value=raw.iloc[k]))
    if required:
        for k in np.flatnonzero(missing):
            problems.append(Problem("value is missing", file=file, row=int(k) + row_offset, column=col, value=""))
    vals = np.where(missing, 0.0, vals)
    checked = np.where(bad_text, 0.0, vals)
    nonfinite = ~np.isfinite(checked)
    negative = np.isfinite(checked) & (checked < 0)
    for k in np.flatnonzero(nonfinite):
        problems.append(Problem("not a finite number", file=file, row=int(k) + row_offset, column=col,
                                value=_raw_value(s, k)))
    for k in np.flatnonzero(negative):
        problems.append(Problem("negative amount", file=file, row=int(k) + row_offset, column=col,
                                value=_raw_value(s, k)))
    return np.where(bad_text, 0.0, vals)


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_CURRENCY = re.compile(r"[+-]?\s*[$€£¥]\s*[\d.,]+|[+-]?[\d.,]+\s*[$€£¥]")
_PERCENT = re.compile(r"[+-]?\d+(\.\d+)?\s*%")


def number_hint(value: Any) -> str:
    """What a spreadsheet-formatted cell that is not a number probably means, for the error message ("" when
    nothing looks familiar).

    >>> number_hint("1,234.5"), number_hint("1.234,5"), number_hint("1,234")
    ('; thousands separators? write 1234.5', '; a decimal comma? write 1234.5', '; thousands separators or a decimal comma? write 1234 or 1.234')
    >>> number_hint("$3"), number_hint("5%"), number_hint("x")
    ('; drop the currency sign', '; a percentage? write 0.05 for 5%', '')
    """
    if not isinstance(value, str):
        return ""
    text = value.strip()
    if _THOUSANDS.fullmatch(text):
        plain = text.replace(",", "")
        if "." not in text and _DECIMAL_COMMA.fullmatch(text):
            return f"; thousands separators or a decimal comma? write {plain} or {text.replace(',', '.')}"
        return f"; thousands separators? write {plain}"
    if "," in text and _DECIMAL_COMMA.fullmatch(text):
        return f"; a decimal comma? write {text.replace('.', '').replace(',', '.')}"
    if _CURRENCY.fullmatch(text):
        return "; drop the currency sign"
    if _PERCENT.fullmatch(text):
        return "; a percentage? write 0.05 for 5%"
    return ""


def _num_text(v: Any) -> Any:
    if isinstance(v, str):
        t = v.strip()
        low = t.lower()
        if low in ("nan", "+nan", "-nan"):
            return math.nan
        if low in ("inf", "+inf", "infinity", "+infinity"):
            return math.inf
        if low in ("-inf", "-infinity"):
            return -math.inf
        return t
    if isinstance(v, bool):
        return None  # booleans are not amounts
    return v


def _raw_value(s: pd.Series, k: int) -> Any:
    return _plain(s.iloc[k])


def _all_distinct(values: pd.Series, lookup: "_IdLookup | None" = None) -> bool:
    """Whether no value repeats (hashed inside Arrow for Arrow-backed text, or by the compiled table of a long
    column -- ``lookup``'s when it holds these values; ``False`` = look closer)."""
    if lookup is None and _long(len(values)):
        lookup = _IdLookup(values, compiled=True)
    if lookup is not None and lookup.ids is values and lookup.distinct is not None:
        return lookup.distinct == len(values)
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow.compute as pc

        return len(pc.unique(values.array.__arrow_array__())) == len(values)  # 1.7x faster than count_distinct
    return False


def _check_unique(values: pd.Series, col: str, problems: list[Problem], file: str | None, row_offset: int) -> None:
    if _all_distinct(values):
        return
    dup = values.duplicated(keep="first").to_numpy() & (values != "").to_numpy()
    if not dup.any():
        return
    codes = pd.factorize(values)[0]
    first_of = np.full(codes.max() + 1, len(values), dtype=np.int64)
    np.minimum.at(first_of, codes, np.arange(len(values)))
    for k in np.flatnonzero(dup):
        first = int(first_of[codes[k]])
        problems.append(Problem(f"duplicate {col} (first seen at row {first + row_offset})", file=file,
                                row=int(k) + row_offset, column=col, value=values.iloc[k]))


def is_blank(v: Any) -> bool:
    """Whether a table cell is blank: missing, NaN, or empty / white-space text."""
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def blank_cells(s: pd.Series, cells: list | None = None) -> np.ndarray:
    """:func:`is_blank` of every cell of a column (a numeric one without a Python loop; ``cells``: its values as
    a list, when the caller has them already)."""
    if s.dtype.kind in "fiu":
        return np.isnan(s.to_numpy(dtype=np.float64, na_value=np.nan))
    if cells is None and (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
        # vectorised: missing, or text that is empty once stripped (``.str`` gives NaN for anything but text)
        try:
            return (s.isna() | s.str.strip().eq("")).to_numpy(dtype=bool, na_value=False)
        except AttributeError:       # no text at all (an object column of numbers, booleans, ...)
            return s.isna().to_numpy(dtype=bool)
    cells = s.tolist() if cells is None else cells
    return np.fromiter((is_blank(v) for v in cells), dtype=bool, count=len(cells))


def _cell_number(v: Any) -> float:
    """A cell as a float: nan when it is not a number at all (text, a boolean, ``1_000``, an object)."""
    if isinstance(v, (bool, np.bool_)):
        return math.nan
    if isinstance(v, str):
        text = v.strip()
        if "_" in text:                       # Python's float() reads '1_000'; a table does not
            return math.nan
        try:
            x = float(text)
        except ValueError:
            return math.nan
        return math.inf if math.isnan(x) else x   # literal 'nan' text is a value that is not finite, not a blank
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def located_numbers(values: Any, column: str, file: str | None, row_offset: int, problems: list[Problem], *,
                    low: float | None = None, high: float | None = None, low_open: bool = False,
                    integer: bool = False, required: bool = False, want: str | None = None) -> np.ndarray:
    """One table column read as numbers, every bad value a located problem (file, row, column, value).

    Blank cells (missing, NaN, empty or white-space text) are ``nan``; with
    ``required`` they are problems too ("is blank; a number is needed").
    Every other cell must be a finite number (not a boolean, not ``1_000``),
    whole with ``integer``, ``>= low`` (``> low`` with ``low_open``) and
    ``<= high``; one that is not is reported as ``must be <want>, got
    <value>`` (``want`` defaults to the rule, e.g. ``a finite number >= 0``)
    and read as ``nan``. Rows are ``position + row_offset`` (2 for a CSV file:
    the header is row 1).

    Parameters
    ----------
    values : Series or sequence
        The cells (a numeric column is checked without a Python loop).
    column, file, row_offset, problems
        Where the column is, and the list the problems are appended to.

    Returns
    -------
    ndarray of float64

    Examples
    --------
    >>> problems = []
    >>> located_numbers(["1", " ", "x", "-2", "1_000"], "rate", "e.csv", 2, problems, low=0).tolist()
    [1.0, nan, nan, nan, nan]
    >>> for p in problems[:2]:
    ...     print(p)
    e.csv, row 4, column 'rate': must be a finite number >= 0, got 'x'
    e.csv, row 5, column 'rate': must be a finite number >= 0, got '-2'
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if s.dtype.kind in "fiu":                 # the common case: a numeric column (NaN = blank)
        raw = None
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        blank = np.isnan(x)
    else:
        raw = s.tolist()
        blank = blank_cells(s, raw)
        x = np.fromiter((math.nan if b else _cell_number(v) for v, b in zip(raw, blank)), dtype=np.float64,
                        count=len(raw))
    with np.errstate(invalid="ignore"):
        bad = ~blank & ~np.isfinite(x)
        if integer:
            bad |= ~blank & np.isfinite(x) & (x != np.round(x))
        if low is not None:
            bad |= ~blank & ((x <= low) if low_open else (x < low))
        if high is not None:
            bad |= ~blank & (x > high)
    if bad.any():
        if want is None:
            want = ("a whole number" if integer else "a finite number") + (
                f" {'>' if low_open else '>='} {low:g}" if low is not None else "") + (
                f" <= {high:g}" if high is not None else "")
        cells = raw if raw is not None else s.tolist()
        for k in np.flatnonzero(bad):
            problems.append(Problem(f"must be {want}, got {shown(cells[k])}"
                                    f"{number_hint(cells[k]) if math.isnan(x[k]) else ''}", file, int(k) + row_offset,
                                    column))
    if required:
        for k in np.flatnonzero(blank):
            problems.append(Problem("is blank; a number is needed", file, int(k) + row_offset, column))
    return np.where(bad, np.nan, x)
