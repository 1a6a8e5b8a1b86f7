"""The format registry, format detection, and the CSV-directory format.

:data:`FORMATS` maps a format name to ``(reader, writer, matches)``:

========== ============================================ ==========================================
name       on disk                                      recognised by
========== ============================================ ==========================================
``csv``    directory with ``nodes.csv`` + ``edges.csv``  a directory holding them; a new path
                                                        without suffix
``json``   one file ``{"nodes", "edges", "metadata"}``  suffix ``.json``; a file starting with ``{``
``graphml`` one GraphML file                            suffix ``.graphml``; a file with ``<graphml``
``parquet`` directory with ``nodes.parquet`` +          a directory holding them; suffix ``.parquet``
           ``edges.parquet`` (needs ``pyarrow``)
========== ============================================ ==========================================

Every format carries the same two tables (:attr:`FinancialNetwork.nodes`,
:attr:`FinancialNetwork.edges`): same columns, same order of rows, one row per
obligation (several rows for one pair stay several rows).

CSV rules (the spreadsheet convention: the header is row 1, the first data row
is row 2, and every message uses these numbers):

- UTF-8 (a byte-order mark is accepted), comma-separated, RFC 4180 quoting;
- column names are stripped of surrounding spaces; a column name may appear
  only once; a column without a name is an error unless all its cells are
  empty (a trailing comma on every line), in which case it is ignored;
- a column whose name differs from a known column only in case, spaces,
  ``_``, ``-`` or ``.`` (``External_Assets``, ``ID``) is an error in every
  format, not an extra attribute: kept as it is, the known column would
  silently take its default (every outside asset 0);
- every row must have as many cells as the header;
- an empty row (a blank line or only commas) is an error, except at the end of
  the file, where empty rows are ignored (they hold nothing);
- an empty cell is a missing value: an error in ``id``, ``debtor``,
  ``creditor``, ``amount``; the documented default elsewhere (``name`` = id,
  ``type`` = ``institution``, ``kind`` = ``obligation``, external amounts 0);
- CSV has no types: an extra column is read as booleans when every cell is
  ``true`` or ``false`` (any case), as numbers when every non-empty cell is a
  number (integers if they all are and none is missing), otherwise as text; a
  value with a leading zero (``007``) keeps the column as text.

Writers never leave half a file: each file is written to a temporary file in
the same directory and renamed over the target. For the two-file formats both
temporary files are complete before either is renamed.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NamedTuple

import numpy as np
import pandas as pd

from ..errors import ContagionError, InvalidNetworkError, Problem
from ..network import EDGE_COLUMNS, NODE_COLUMNS, PLACEHOLDER, FinancialNetwork
from . import prefetch
from ._malloc import release_arrow_memory
from .atomic import write_files_atomic
from ._tables import MEANINGFUL_EDGE_COLUMNS, MEANINGFUL_NODE_COLUMNS, big_ints, is_node_column, near_miss_message, \
    near_misses, rename_columns, split_columns, warm_up_for

__all__ = ["FORMATS", "NetworkFormat", "read_network", "write_network", "read_csv_dir", "write_csv_dir",
           "detect_format", "write_files_atomic"]

#: Columns interpreted by ``FinancialNetwork.from_edges`` (not subject to type inference).
_KNOWN_COLUMNS = frozenset(NODE_COLUMNS) | frozenset(EDGE_COLUMNS) | {"forced_default", "forced_recovery"}
_CSV_FILES = ("nodes.csv", "edges.csv")
_PARQUET_FILES = ("nodes.parquet", "edges.parquet")
#: What counts as a number in an extra CSV column (plain decimal notation, inf). Not ``nan``: a column holding it
#: stays text, so that a column the network reads as numbers (``rate``, ``seniority``, ...) reports it where it
#: is instead of taking it for a blank cell (pandas writes a missing number as an empty cell).
_NUMBER_TEXT = r"(?i)[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?|[+-]?(inf|infinity)"


class NetworkFormat(NamedTuple):
    """One entry of :data:`FORMATS`."""

    reader: Callable[[Path], FinancialNetwork]
    writer: Callable[[FinancialNetwork, Path], Path]
    matches: Callable[[Path], bool]


def target_directory(path: Path, what: str) -> Path:
    """``path`` as a directory to write into (error if it is an existing file)."""
    if path.exists() and not path.is_dir():
        raise ContagionError(f"{path}: a {what} network is a directory (holding nodes and edges files), "
                             f"but this is an existing file")
    return path


def refuse_directories(paths: Iterable[Path], what: str = "CSV file") -> None:
    """An error naming each of ``paths`` that is a directory where a ``what`` is expected (a folder named
    nodes.csv was taken for a missing file)."""
    directories = [p for p in paths if Path(p).is_dir()]
    if directories:
        raise InvalidNetworkError([Problem(f"is a directory, not a {what}", file=str(p)) for p in directories])


def source_directory(path: Path, names: tuple[str, str], what: str) -> tuple[Path, Path]:
    """The two files of a directory format, or an error naming what is missing."""
    if path.is_file():
        raise InvalidNetworkError(Problem(f"a {what} network is a directory holding {names[0]} and {names[1]}; "
                                          f"give the directory, not a file", file=str(path)))
    nodes_path, edges_path = path / names[0], path / names[1]
    refuse_directories((nodes_path, edges_path), "file")
    missing = [p for p in (nodes_path, edges_path) if not p.is_file()]
    if missing:
        raise InvalidNetworkError([Problem("file not found", file=str(p)) for p in missing])
    return nodes_path, edges_path


# ---------------------------------------------------------------------- CSV
def _record_widths(data: bytes) -> np.ndarray | None:
    """Cells per CSV record (RFC 4180 quoting; 0 for a blank line), by vectorised byte counting.

    ``None`` when the quotes do not balance (the strict parser then explains).
    UTF-8 multi-byte characters never contain the bytes counted here.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    if b.size == 0:
        return np.zeros(0, dtype=np.int64)
    if 34 in b:  # a quote: commas and newlines between quotes do not count
        quoted = (np.cumsum(b == 34, dtype=np.uint8) & 1).astype(bool)  # parity survives the wrap-around
        if quoted[-1]:
            return None
    else:
        quoted = np.zeros(b.size, dtype=bool)
    nl = np.flatnonzero((b == 10) & ~quoted)
    ends = nl if b[-1] == 10 else np.append(nl, b.size)
    starts = np.concatenate(([0], nl + 1))[: ends.size]
    commas = np.concatenate(([0], np.cumsum((b == 44) & ~quoted, dtype=np.int64)))
    widths = commas[ends] - commas[starts] + 1
    length = ends - starts
    length = length - ((length > 0) & (b[np.maximum(ends - 1, 0)] == 13))  # CRLF
    widths[length == 0] = 0
    return widths


def _parse_csv_fast(text: str, data: bytes) -> list[list[str]] | pd.DataFrame | None:
    """The C parser of pandas when the file is regular (every record as wide as the header, no blank
    record before the end); ``None`` otherwise, so that the strict parser reports what is wrong."""
    widths = _record_widths(data)
    if widths is None or widths.size == 0 or widths[0] == 0:
        return None
    last = int(np.flatnonzero(widths)[-1])
    if (widths[1:last + 1] != widths[0]).any():
        return None
    try:
        df = pd.read_csv(io.StringIO(text), header=None, dtype=str, na_filter=False, skip_blank_lines=False,
                         engine="c", nrows=last + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None
    if df.shape != (last + 1, int(widths[0])):
        return None
    return df


def _parse_csv_strict(text: str, file: str, problems: list[Problem]) -> pd.DataFrame | None:
    """Python's csv module in strict mode: slow, but it knows every record's cells."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for rec in reader:
            rows.append(rec)
    except csv.Error as exc:
        problems.append(Problem(f"cannot parse CSV: {exc} (line {reader.line_num})", file=file, row=len(rows) + 1))
        return None
    if not rows:
        return pd.DataFrame()
    width = len(rows[0])
    bad = [k for k, rec in enumerate(rows) if len(rec) != width and any(c.strip() for c in rec)]
    last = max((k for k, rec in enumerate(rows) if any(c.strip() for c in rec)), default=0)
    for k in bad:
        rec = rows[k]
        problems.append(Problem(f"row has {len(rec)} cells but the header has {width}", file=file, row=k + 1,
                                value=",".join(rec) if len(rec) < 20 else None))
    rows = [rec if len(rec) == width else (rec + [""] * width)[:width] for rec in rows[: last + 1]]
    return pd.DataFrame(rows, dtype=object)


def _read_csv_table(path: Path, problems: list[Problem], bad_rows: set[int], infer: bool = True) -> pd.DataFrame | None:
    """Parse one CSV file; structural problems go to ``problems`` (their rows to ``bad_rows``). Columns the
    network does not know get their types inferred (:func:`_infer_column`) unless ``infer`` is false: then every
    column is the file's text (a table whose checks show each value as written)."""
    file = str(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from .text import not_utf8

        problems.append(Problem(not_utf8(data, exc), file=file, value=data[exc.start:exc.end]))
        return None
    found: list[Problem] = []
    raw = _parse_csv_fast(text, data)
    if raw is None:
        raw = _parse_csv_strict(text, file, found)
        if raw is None:
            problems += found
            return None
    raw = raw.astype(pd.StringDtype(na_value=np.nan))
    blank = np.ones(len(raw), dtype=bool)
    for j in range(raw.shape[1]):
        blank &= (raw.iloc[:, j].str.strip() == "").to_numpy(dtype=bool)
    if raw.shape[0] == 0 or blank[0]:
        problems.append(Problem("file is empty (no header row)", file=file, row=1 if raw.shape[0] else None))
        return None
    header = [str(h).strip() for h in raw.iloc[0]]
    width = len(header)
    sep = next((s for s in (";", "\t") if width == 1 and s in header[0]), None)
    if sep is not None:  # the cause of every other problem of this file: said alone, with what to do
        what = "semicolon" if sep == ";" else "tab"
        why = " (as spreadsheets save CSV in some locales)" if sep == ";" else ""
        problems.append(Problem(f"the header is a single column holding {what}s: the file looks {what}-separated"
                                f"{why}; contagion reads comma-separated files with '.' as the decimal point: save it "
                                f"as CSV (comma delimited)", file=file, row=1, value=header[0]))
        return None
    # empty rows: ignored at the end of the file, an error elsewhere
    nonblank = np.flatnonzero(~blank)
    body = raw.iloc[1: nonblank[-1] + 1].reset_index(drop=True)
    for k in np.flatnonzero(blank[1: nonblank[-1] + 1]):
        found.append(Problem("empty row (delete it)", file=file, row=int(k) + 2))
    bad_rows.update(p.row for p in found if p.row is not None)
    problems += sorted(found, key=lambda p: p.row or 0)
    keep: dict[str, int] = {}
    for j, name in enumerate(header):
        if name == "":
            if (body.iloc[:, j].str.strip() != "").any():
                problems.append(Problem(f"column {j + 1} holds values but has no name in the header", file=file,
                                        row=1))
            continue
        if name in keep:
            problems.append(Problem(f"duplicate column (columns {keep[name] + 1} and {j + 1})", file=file,
                                    row=1, column=name, value=name))
            continue
        keep[name] = j
    df = pd.DataFrame({name: body.iloc[:, j] for name, j in keep.items()}, index=body.index, columns=list(keep))
    for name in df.columns if infer else ():
        if name not in _KNOWN_COLUMNS:
            df[name] = _infer_column(df[name])
    return df


def _infer_column(s: pd.Series) -> pd.Series:
    """Booleans, numbers or text (see the module docstring); an empty cell is a missing value."""
    text = s.astype(pd.StringDtype(na_value=np.nan)).str.strip()
    present = (text != "").to_numpy(dtype=bool)
    if not present.any():
        return pd.Series([None] * len(s), dtype=object, index=s.index)
    values = text[present]
    low = values.str.lower()
    if present.all() and low.isin(("true", "false")).all():
        return low.eq("true").astype(bool)
    if values.str.fullmatch(_NUMBER_TEXT).all() and not values.str.match(r"[+-]?0\d").any() \
            and not _inexact_integers(values, bool(present.all())):
        numbers = pd.to_numeric(values.to_numpy(dtype=object), errors="coerce")
        if present.all() and values.str.fullmatch(r"[+-]?\d+").all() and np.asarray(numbers).dtype.kind == "i":
            return pd.Series(numbers, index=s.index, dtype=np.int64)
        out = np.full(len(s), np.nan)
        out[present] = np.asarray(numbers, dtype=np.float64)
        return pd.Series(out, index=s.index)
    return s.astype(pd.StringDtype(na_value=np.nan)).where(present, np.nan)


def _inexact_integers(values: pd.Series, all_present: bool) -> bool:
    """Whether some whole number among ``values`` (the present cells' text) would not be kept exactly by the
    column's type -- int64 when every cell holds a whole number within its range, else float64 (an account
    number of 16+ digits: 9007199254740993 became 9007199254740992.0); such a column stays text."""
    whole = values.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
    long = [int(v) for v in values[whole & (values.str.len() >= 16).to_numpy(dtype=bool)].tolist()]
    if not long:
        return False
    if all_present and whole.all() and all(-2 ** 63 <= v < 2 ** 63 for v in long):
        return False                                   # an int64 column holds them
    return big_ints(long)


def _read_csv_arrow(path: Path, columns: Mapping[str, str] | None = None) -> pd.DataFrame | None:
    """One CSV file read by Arrow (:func:`contagion.io.prefetch.read_csv_table`: multi-threaded, explicit
    column types; ``None`` when pyarrow is missing or the file is anything but plain), taken from the
    command line's read-ahead when it read this file (:func:`contagion.io.prefetch.take`), as a frame: text
    stays Arrow-backed, unknown columns' types inferred. ``columns`` (ours -> the file's) renames columns."""
    if columns:
        rename = {theirs: ours for ours, theirs in columns.items()}
        table = prefetch.read_csv_table(path, rename)
    else:
        table = prefetch.take(path, prefetch.read_csv_table)
    if table is None or _holds_nan(table):
        return None      # 'nan' in a number column: the strict reader says where (pandas would take it for blank)
    df = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    for name in df.columns:
        if name not in _KNOWN_COLUMNS:
            df[name] = _infer_column(df[name])
    return df


def _holds_nan(table: Any) -> bool:
    """Whether a number column of an Arrow table holds NaN (the text ``nan``; an empty cell is null)."""
    import pyarrow.compute as pc
    import pyarrow.types as pt

    return any(pt.is_floating(col.type) and col.null_count < len(col) and pc.any(pc.is_nan(col)).as_py()
               for col in table.columns)


def _read_csv_fast(path: Path, nodes_path: Path, edges_path: Path, node_columns: Mapping[str, str] | None = None,
                   edge_columns: Mapping[str, str] | None = None) -> FinancialNetwork | None:
    """The network, when both files are plain and valid; ``None`` at the first doubt (see :func:`read_csv_dir`).
    ``node_columns`` / ``edge_columns``: ``columns=`` of each file (ours -> the file's)."""
    nodes = _read_csv_arrow(nodes_path, node_columns)
    if nodes is None:
        return None
    edges = _read_csv_arrow(edges_path, edge_columns)
    if edges is None or near_misses(nodes.columns, MEANINGFUL_NODE_COLUMNS) or near_misses(edges.columns,
                                                                                              MEANINGFUL_EDGE_COLUMNS):
        return None
    try:
        return FinancialNetwork.from_edges(edges, nodes, edges_file=str(edges_path), nodes_file=str(nodes_path),
                                           row_offset=2, metadata={"source": str(path)})
    except InvalidNetworkError:
        return None
    finally:
        del nodes, edges
        release_arrow_memory()


class InferredNodesWarning(UserWarning):
    """A CSV network folder without ``nodes.csv``: institutions were taken from the edges, outside amounts 0."""


#: column names of common edge-list exports, and what they mean here (for the hint of a missing column)
EDGE_LIST_ALIASES = (("source", "target", "weight"), ("from", "to", "value"), ("from", "to", "weight"),
                     ("source", "target", "value"), ("src", "dst", "weight"))


def _inferred_nodes(edges: pd.DataFrame) -> pd.DataFrame | None:
    """The institutions of an edge table: ids in order of appearance (debtor, then creditor, row by row)."""
    if "debtor" not in edges.columns or "creditor" not in edges.columns:
        return None
    pairs = edges[["debtor", "creditor"]].astype(str).to_numpy().ravel()
    ids = pd.unique(pd.Series([v.strip() for v in pairs if v.strip() and v != "nan"], dtype=object))
    return pd.DataFrame({"id": ids})


def _edge_problems(edges: pd.DataFrame, file: str, bad: set[int]) -> list[Problem]:
    """The problems of an edge table that need no node table (amounts, blank ids, self-loops), found with the
    institutions taken from the edges: when the node table cannot be read, validate still lists them."""
    import warnings

    nodes = _inferred_nodes(edges)
    try:
        with warnings.catch_warnings():      # (the file is reported as invalid: its warnings can wait)
            warnings.simplefilter("ignore")
            FinancialNetwork.from_edges(edges, nodes, edges_file=file, nodes_file=PLACEHOLDER + "nodes",
                                        row_offset=2)
    except InvalidNetworkError as exc:
        return [p for p in exc.problems if str(p.file) == file and p.row not in bad]
    return []


def _edge_list_hint(columns: Any) -> str | None:
    """``--columns debtor=source,creditor=target,amount=weight`` when the columns look like an edge list."""
    have = {str(c).strip().lower(): str(c) for c in columns}
    for src, dst, val in EDGE_LIST_ALIASES:
        if src in have and dst in have:
            amount = f",amount={have[val]}" if val in have else ""
            return f"debtor={have[src]},creditor={have[dst]}{amount}"
    return None


def read_csv_dir(path: str | os.PathLike, columns: Mapping[str, str] | None = None) -> FinancialNetwork:
    """Read a network directory with ``edges.csv`` and (optionally) ``nodes.csv``.

    Rows in messages follow the spreadsheet convention (header = row 1).

    Two readers, one answer: a plain file (a header of unique names, every
    row as wide, no empty line) is read by pyarrow's multi-threaded CSV
    reader with explicit column types and validated by vectorised checks;
    any doubt on the way (a parse error, a problem the checks find, pyarrow
    missing) sends both files to the strict reader, which reports every
    problem with its file, row, column and value. A valid file never gets
    there, so errors cost time only when there are errors.

    Without ``nodes.csv`` the institutions are the ids met in the edges (in
    order of appearance), with outside amounts 0, and an
    :class:`InferredNodesWarning` says so. ``columns`` renames columns
    first (our name -> the file's): ``{"debtor": "source", "creditor":
    "target", "amount": "weight"}`` for an edge list exported by another tool
    (a missing required column names such a mapping when the file looks like
    one); our node-table names (``id``, ``name``, ``type``, the outside
    amounts) rename columns of ``nodes.csv``, e.g. ``{"id": "bank_id"}``.

    Examples
    --------
    >>> import contagion
    >>> from contagion.io.formats import read_csv_dir
    >>> read_csv_dir(contagion.datasets.dataset_path("chain")).names
    ('A', 'B', 'C')
    """
    path = Path(path)
    if path.is_file():
        raise InvalidNetworkError(Problem(f"a CSV network is a directory holding {_CSV_FILES[0]} and {_CSV_FILES[1]} "
                                          f"(or {_CSV_FILES[1]} alone); give the directory, not a file",
                                          file=str(path)))
    nodes_path, edges_path = path / _CSV_FILES[0], path / _CSV_FILES[1]
    refuse_directories((nodes_path, edges_path))    # (not a missing nodes.csv, institutions taken from the edges)
    if not edges_path.is_file():
        raise InvalidNetworkError([Problem("file not found", file=str(p)) for p in (nodes_path, edges_path)
                                   if not p.is_file()])
    infer = not nodes_path.is_file()
    warm_up_for(edges_path)
    node_columns, edge_columns = split_columns(columns)
    if not infer:
        net = _read_csv_fast(path, nodes_path, edges_path, node_columns, edge_columns)
        if net is not None:
            return net
    problems: list[Problem] = []
    bad: dict[str, set[int]] = {str(nodes_path): set(), str(edges_path): set()}
    renamed: list[Problem] = []       # --columns naming what a file lacks: reported alone (it explains the rest)
    edges = _read_csv_table(edges_path, problems, bad[str(edges_path)])
    if edges is not None and edge_columns:
        edges = rename_columns(edges, edge_columns, edges_path.name, str(edges_path), renamed, row=1)
    if infer:
        for ours, theirs in node_columns.items():
            renamed.append(Problem(f"--columns names {theirs!r} for {ours!r}, a column of nodes.csv, and there is no "
                                   f"nodes.csv", file=str(nodes_path), column=theirs))
        nodes = None if edges is None else _inferred_nodes(edges)
        if nodes is not None:
            import warnings

            warnings.warn(f"{path}: no nodes.csv; {len(nodes)} institutions taken from the edges, with outside "
                          f"assets and liabilities 0", InferredNodesWarning, stacklevel=2)
    else:
        nodes = _read_csv_table(nodes_path, problems, bad[str(nodes_path)])
        if nodes is not None and node_columns:
            nodes = rename_columns(nodes, node_columns, nodes_path.name, str(nodes_path), renamed, row=1)
    order = {str(nodes_path): 0, str(edges_path): 1}

    def place(p: Problem) -> tuple[int, int]:      # file order, then row order (a whole-column problem first)
        return order.get(str(p.file), 2), -1 if p.row is None else p.row

    if renamed:
        raise InvalidNetworkError(sorted(problems + renamed, key=place))
    for table, known, file in ((nodes, MEANINGFUL_NODE_COLUMNS, nodes_path),
                               (edges, MEANINGFUL_EDGE_COLUMNS, edges_path)):
        for col, meant in near_misses(table.columns if table is not None else (), known):
            problems.append(Problem(near_miss_message(meant, col), file=str(file), row=1, column=str(col), value=col))
    if edges is not None and not {"debtor", "creditor", "amount"} <= set(edges.columns):
        hint = _edge_list_hint(edges.columns)
        if hint:
            problems.append(Problem(f"this looks like an edge list: name the columns debtor, creditor, amount, or "
                                    f"map them with --columns {hint} (Python: read_network(path, "
                                    f"columns={{...}}))", file=str(edges_path), row=1))
    if nodes is None or edges is None:
        if edges is not None and {"debtor", "creditor", "amount"} <= set(edges.columns):
            problems += _edge_problems(edges, str(edges_path), bad[str(edges_path)])
        raise InvalidNetworkError(sorted(problems, key=place))
    try:
        net = FinancialNetwork.from_edges(edges, nodes, edges_file=str(edges_path), nodes_file=str(nodes_path),
                                          row_offset=2, metadata={"source": str(path),
                                                                  **({"nodes_inferred": True} if infer else {})})
    except InvalidNetworkError as exc:  # report them with the structural problems, in file and row order
        problems += [p for p in exc.problems if p.row is None or p.row not in bad.get(str(p.file), ())]
    else:
        if not problems:
            return net
    raise InvalidNetworkError(sorted(problems, key=place))


def csv_quoting(df: pd.DataFrame) -> int:
    """``csv.QUOTE_MINIMAL``, or ``csv.QUOTE_NONNUMERIC`` when a text cell or column name holds a carriage
    return: with ``\\n`` line ends the csv module would write that one unquoted, and a reader would split the
    row there (the quotes change nothing else: every reader drops them)."""
    def has_cr(values: Any) -> bool:
        return bool(pd.Series(values, dtype=object).map(lambda v: isinstance(v, str) and "\r" in v).any())

    if has_cr(list(df.columns)):
        return csv.QUOTE_NONNUMERIC
    for col in df.columns:
        s = df[col]
        if (s.dtype == object or pd.api.types.is_string_dtype(s)) and has_cr(s.to_numpy(dtype=object)):
            return csv.QUOTE_NONNUMERIC
    return csv.QUOTE_MINIMAL


def _frame_to_csv(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", quoting=csv_quoting(df))
    return buf.getvalue().encode("utf-8")


def write_csv_dir(net: FinancialNetwork, path: str | os.PathLike) -> Path:
    """Write ``nodes.csv`` and ``edges.csv`` into directory ``path`` (created if needed).

    Floats are written with the shortest text that reads back to the same
    number; missing values as empty cells.

    Examples
    --------
    >>> import contagion, tempfile, pathlib
    >>> from contagion.io.formats import write_csv_dir
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "chain"
    >>> sorted(p.name for p in write_csv_dir(contagion.load_dataset("chain"), out).iterdir())
    ['edges.csv', 'nodes.csv']
    """
    path = target_directory(Path(path), "CSV")
    write_files_atomic({path / "nodes.csv": _frame_to_csv(net.nodes), path / "edges.csv": _frame_to_csv(net.edges)})
    return path


# ---------------------------------------------------------------------- detection
_KNOWN_SUFFIXES = {".json", ".graphml", ".parquet", ".csv"}


def _holds(path: Path, names: tuple[str, ...]) -> bool:
    return any((path / n).is_file() for n in names)


def _head(path: Path, size: int = 4096) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(size).lstrip(b"\xef\xbb\xbf").lstrip()
    except OSError:
        return b""


def _matches_csv(p: Path) -> bool:
    if p.is_dir():
        return _holds(p, _CSV_FILES) or (p / _CSV_FILES[1]).is_file() or (not _holds(p, _PARQUET_FILES) and p.suffix.lower() != ".parquet")
    if p.is_file():
        return p.suffix.lower() == ".csv"  # the reader explains that a directory is needed
    return p.suffix == ""


def _matches_parquet(p: Path) -> bool:
    if p.is_dir():
        return _holds(p, _PARQUET_FILES) or (not _holds(p, _CSV_FILES) and p.suffix.lower() == ".parquet")
    return p.suffix.lower() == ".parquet"


def _matches_json(p: Path) -> bool:
    if p.suffix.lower() == ".json":
        return not p.is_dir()
    return p.is_file() and p.suffix.lower() not in _KNOWN_SUFFIXES and _head(p, 64).startswith(b"{")


def _matches_graphml(p: Path) -> bool:
    if p.suffix.lower() == ".graphml":
        return not p.is_dir()
    if not p.is_file() or p.suffix.lower() in _KNOWN_SUFFIXES:
        return False
    head = _head(p)
    return head.startswith(b"<") and b"<graphml" in head


def _lazy(module: str, attr: str) -> Callable[..., Any]:
    """A function that imports ``contagion.io.<module>`` only when called."""

    def call(*args: Any, **kwargs: Any) -> Any:
        from importlib import import_module

        return getattr(import_module(f"contagion.io.{module}"), attr)(*args, **kwargs)

    call.__name__ = call.__qualname__ = attr
    call.__doc__ = f"See :func:`contagion.io.{module}.{attr}`."
    return call


#: format name -> (reader, writer, matches(path)); feeds ``read_network``/``write_network`` and CLI choices.
FORMATS: dict[str, NetworkFormat] = {
    "csv": NetworkFormat(read_csv_dir, write_csv_dir, _matches_csv),
    "json": NetworkFormat(_lazy("json_format", "read_json"), _lazy("json_format", "write_json"), _matches_json),
    "graphml": NetworkFormat(_lazy("graphml", "read_graphml"), _lazy("graphml", "write_graphml"), _matches_graphml),
    "parquet": NetworkFormat(_lazy("parquet", "read_parquet_dir"), _lazy("parquet", "write_parquet_dir"),
                             _matches_parquet),
}


def detect_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The name of the format of ``path`` (an existing one, or one about to be written).

    Examples
    --------
    >>> from contagion.io.formats import detect_format
    >>> detect_format("network.json"), detect_format("network.graphml"), detect_format("new-directory")
    ('json', 'graphml', 'csv')
    """
    path = Path(path)
    if format is not None:
        if format not in FORMATS:
            raise ContagionError(f"unknown network format {format!r}; choose one of {', '.join(FORMATS)}")
        return format
    found = [name for name, fmt in FORMATS.items() if fmt.matches(path)]
    if len(found) == 1:
        return found[0]
    if found:
        raise ContagionError(f"{path}: could be {' or '.join(found)}; say which with format=")
    sheet = ("; a spreadsheet: save its two sheets as nodes.csv and edges.csv in a folder (UTF-8 CSV) and give the "
             "folder") if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods", ".numbers") else ""
    raise ContagionError(f"{path}: cannot tell the network format (suffix {path.suffix!r}); known formats: "
                         f"{', '.join(FORMATS)} (a directory for csv and parquet, a .json or .graphml file){sheet}")


def read_network(path: str | os.PathLike, format: str | None = None, *,
                 columns: Mapping[str, str] | None = None) -> FinancialNetwork:
    """Read a network; the format follows from the path and its contents (see :mod:`contagion.io`).

    Parameters
    ----------
    path : str or path-like
        A directory (``nodes.csv`` + ``edges.csv``, or ``nodes.parquet`` +
        ``edges.parquet``), a ``.json`` file or a ``.graphml`` file.
    format : {"csv", "json", "graphml", "parquet"}, optional
        Skip detection.
    columns : mapping, optional
        Rename columns before reading (our name -> the file's), e.g.
        ``{"debtor": "source", "creditor": "target", "amount": "weight"}``
        for the edges of a CSV folder, ``{"amount": "weight"}`` for a
        networkx GraphML file; node-table names (``id``, ``name``, ``type``,
        the outside amounts) rename the nodes' columns. (In GraphML the
        debtor and creditor are each edge's source and target.)

    Raises
    ------
    InvalidNetworkError
        With every problem found (file, row, column, value).

    Examples
    --------
    >>> import contagion
    >>> net = contagion.read_network(contagion.datasets.dataset_path("chain"))
    >>> net.names, net.metadata["source"].endswith("chain")
    (('A', 'B', 'C'), True)
    """
    path = Path(path)
    try:
        if not path.exists():
            raise InvalidNetworkError(Problem("no such file or directory", file=str(path)))
        fmt = detect_format(path, format)
        net = FORMATS[fmt].reader(path, columns=columns) if columns else FORMATS[fmt].reader(path)
    except InvalidNetworkError as exc:
        if not columns:
            raise
        # a problem in a renamed column names it as the file does (weight, not amount)
        raise InvalidNetworkError([replace(p, column=columns[p.column]) if p.column in columns else p
                                   for p in exc.problems]) from None
    finally:
        prefetch.drop()  # files the command line read ahead that this read did not take
    _warn_unread_money(net, path)
    return net


class UnreadColumnWarning(UserWarning):
    """A node column named like outside assets or liabilities is not read, and those amounts are all 0."""


def _warn_unread_money(net: FinancialNetwork, path: Path) -> None:
    """Warn when every institution's outside assets (or liabilities) are 0 while the node table has a column
    named like them that contagion does not read (``assets``, ``Total liabilities``): most likely the amounts
    are there under another name (``--columns external_assets=assets`` maps them)."""
    nodes = net.nodes
    for ours, stem, values in (("external_assets", "asset", net.external_assets),
                               ("external_liabilities", "liabilit", net.external_liabilities)):
        if values.any():
            continue
        unread = [str(c) for c in nodes.columns
                  if stem in str(c).lower() and not is_node_column(c) and str(c) != ours]
        if unread:
            import warnings

            many = len(unread) > 1
            warnings.warn(f"{path}: every institution's {ours} is 0, and the node column{'s' if many else ''} "
                          f"{', '.join(repr(c) for c in unread)} {'are' if many else 'is'} not read; if it holds "
                          f"them, name it {ours} (or map it: --columns {ours}={unread[0]})", UnreadColumnWarning,
                          stacklevel=3)


def write_network(net: FinancialNetwork, path: str | os.PathLike, format: str | None = None) -> Path:
    """Write a network (atomically); the format follows from the path.

    A path ending in ``.json`` or ``.graphml`` is a file; a path ending in
    ``.parquet`` is a directory of Parquet files; any other path without a
    suffix is a directory of CSV files. ``metadata`` is stored by JSON, GraphML
    and Parquet (CSV has no place for it), except ``source`` and ``dataset``,
    which record where a network was loaded from; reading sets ``source`` to
    the path read.

    Examples
    --------
    >>> import contagion, tempfile, pathlib
    >>> net = contagion.load_dataset("chain")
    >>> out = contagion.write_network(net, pathlib.Path(tempfile.mkdtemp()) / "chain.json")
    >>> contagion.read_network(out).edges.equals(net.edges)
    True
    """
    path = Path(path)
    return FORMATS[detect_format(path, format)].writer(net, path)
