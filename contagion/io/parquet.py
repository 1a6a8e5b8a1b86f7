"""Parquet networks: a directory holding ``nodes.parquet`` and ``edges.parquet``.

The two files have the columns of ``nodes.csv`` / ``edges.csv`` with their
types (text, integers, floats, booleans; nulls are missing values). The
metadata is stored as JSON under the key ``contagion.metadata`` of the schema
metadata of ``nodes.parquet``. Needs the optional dependency ``pyarrow``
(``pip install "contagion[parquet]"``); without it, reading or writing raises
a :class:`~contagion.errors.ContagionError` that says so.

Positions in messages are 0-based row indices (``row index 3``), as pandas
and Arrow show them.
"""

from __future__ import annotations

import io
import json
import os
from importlib import import_module
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..errors import ContagionError, InvalidNetworkError, Problem
from ..network import FinancialNetwork
from ._malloc import release_arrow_memory
from ._tables import LocatedProblem, build_network, json_default, stored_metadata, tidy_missing, warm_up_for
from .formats import source_directory, target_directory, write_files_atomic
from .text import parse_data

__all__ = ["read_parquet_dir", "write_parquet_dir"]

_FILES = ("nodes.parquet", "edges.parquet")
_META_KEY = b"contagion.metadata"


def _pyarrow() -> Any:
    try:
        pyarrow = import_module("pyarrow")
        import_module("pyarrow.parquet")
    except ImportError:
        raise ContagionError('Parquet networks need the optional dependency pyarrow: pip install "contagion[parquet]"'
                             ) from None
    return pyarrow


def _read_table(path: Path, problems: list[Problem], skip: set[Any]) -> tuple[pd.DataFrame | None, dict]:
    pa = _pyarrow()
    try:
        table = pa.parquet.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        problems.append(Problem(f"cannot read Parquet: {exc}", file=str(path)))
        return None, {}
    names = table.column_names
    dups = sorted({n for n in names if names.count(n) > 1})
    for name in dups:
        problems.append(Problem("duplicate column", file=str(path), column=name, value=name))
    if dups:
        return None, {}
    meta = (table.schema.metadata or {}).get(_META_KEY)
    metadata: Any = {}
    if meta:
        try:
            metadata = parse_data(meta.decode("utf-8"), ".json")
        except UnicodeDecodeError as exc:
            problems.append(Problem(f"schema metadata 'contagion.metadata' is not UTF-8 text ({exc.reason} at byte "
                                    f"{exc.start})", file=str(path)))
        except ContagionError as exc:
            problems.append(Problem(f"schema metadata 'contagion.metadata' is not usable JSON: {exc}",
                                    file=str(path)))
    _nan_amounts(table, path, problems, skip)
    df = table.to_pandas(split_blocks=True, self_destruct=True)  # text stays Arrow-backed, numbers move
    del table
    return tidy_missing(df.reset_index(drop=True)), metadata if isinstance(metadata, dict) else {}


#: Columns of amounts and of ids: a NaN there is a number that cannot be used, never a missing value (pandas
#: reads NaN and null alike, and a missing amount means 0).
_NAN_MESSAGES = {**dict.fromkeys(("external_assets", "external_liabilities", "forced_recovery", "amount"),
                                 "not a finite number (NaN is a number, not a missing value)"),
                 **dict.fromkeys(("id", "debtor", "creditor"), "NaN is a number, not an id")}


def _nan_amounts(table: Any, path: Path, problems: list[Problem], skip: set[Any]) -> None:
    """Report NaN (not null) in the amount and id columns (see :data:`_NAN_MESSAGES`)."""
    import pyarrow.compute as pc

    for name, message in _NAN_MESSAGES.items():
        if name not in table.column_names or not pa_is_floating(table.column(name).type):
            continue
        nan = pc.fill_null(pc.is_nan(table.column(name)), False).to_numpy(zero_copy_only=False)
        for k in nan.nonzero()[0]:
            problems.append(LocatedProblem(message, file=str(path), row=int(k), column=name,
                                           where=f"row index {int(k)}", value=float("nan")))
            skip.add((int(k), name))


def pa_is_floating(typ: Any) -> bool:
    import pyarrow.types as pt

    return pt.is_floating(typ)


def read_parquet_dir(path: str | os.PathLike, columns: Mapping[str, str] | None = None) -> FinancialNetwork:
    """Read a directory with ``nodes.parquet`` and ``edges.parquet``; ``columns`` renames columns as for a CSV
    folder (ours -> the file's; node-table names rename ``nodes.parquet`` columns, the others ``edges.parquet``).

    Examples
    --------
    >>> import contagion, tempfile, pathlib
    >>> out = contagion.write_network(contagion.load_dataset("chain"), pathlib.Path(tempfile.mkdtemp()) / "c.parquet")
    >>> from contagion.io.parquet import read_parquet_dir
    >>> read_parquet_dir(out).edges[["debtor", "creditor", "amount"]].values.tolist()
    [['A', 'B', 10.0], ['B', 'C', 10.0]]
    """
    path = Path(path)
    nodes_path, edges_path = source_directory(path, _FILES, "Parquet")
    warm_up_for(edges_path)
    problems: list[Problem] = []
    skip: dict[str, set[Any]] = {"nodes": set(), "edges": set()}
    nodes, metadata = _read_table(nodes_path, problems, skip["nodes"])
    edges, _ = _read_table(edges_path, problems, skip["edges"])
    if nodes is None or edges is None:
        raise InvalidNetworkError(problems)
    try:
        return build_network(nodes, edges, file=None, nodes_file=str(nodes_path), edges_file=str(edges_path),
                             node_at=lambda k: f"row index {k}", edge_at=lambda k: f"row index {k}",
                             nodes_section=None, edges_section=None, problems=problems, skip_rows=skip,
                             metadata={**stored_metadata(metadata), "source": str(path)}, columns=columns)
    finally:
        del nodes, edges
        release_arrow_memory()  # the file's pages and the columns moved to pandas


def _table_bytes(df: pd.DataFrame, what: str, metadata: dict | None = None) -> bytes:
    pa = _pyarrow()
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        bad = next((c for c in df.columns if f"column {c} " in str(exc)), None)
        raise InvalidNetworkError(Problem(f"cannot be written as Parquet ({exc.args[0] if exc.args else exc})",
                                          file=what, column=bad)) from None
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               _META_KEY: json.dumps(metadata, default=json_default).encode("utf-8")})
    buf = io.BytesIO()
    pa.parquet.write_table(table, buf)
    return buf.getvalue()


def write_parquet_dir(net: FinancialNetwork, path: str | os.PathLike) -> Path:
    """Write ``nodes.parquet`` and ``edges.parquet`` into directory ``path`` (both complete before either
    replaces an old file)."""
    path = target_directory(Path(path), "Parquet")
    files = {path / "nodes.parquet": _table_bytes(net.nodes, "nodes", stored_metadata(net.metadata)),
             path / "edges.parquet": _table_bytes(net.edges, "edges")}
    write_files_atomic(files)
    return path
