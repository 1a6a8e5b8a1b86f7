"""Format registry and the CSV-directory format."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..errors import InvalidNetworkError, Problem
from ..network import FinancialNetwork
from .atomic import write_text_atomic

__all__ = ["FORMATS", "read_network", "write_network", "read_csv_dir", "write_csv_dir"]


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        # everything as text: numbers are parsed (and checked) by FinancialNetwork.from_edges
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidNetworkError(Problem("file not found", file=str(path))) from None
    except pd.errors.EmptyDataError:
        raise InvalidNetworkError(Problem("file is empty (no header row)", file=str(path))) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidNetworkError(Problem(f"cannot parse CSV: {exc}", file=str(path))) from None


def read_csv_dir(path: str | os.PathLike) -> FinancialNetwork:
    """Read a network directory with ``nodes.csv`` and ``edges.csv``."""
    path = Path(path)
    nodes_path, edges_path = path / "nodes.csv", path / "edges.csv"
    missing = [str(p) for p in (nodes_path, edges_path) if not p.is_file()]
    if missing:
        raise InvalidNetworkError([Problem("file not found", file=m) for m in missing])
    nodes = _read_csv(nodes_path)
    edges = _read_csv(edges_path)
    return FinancialNetwork.from_edges(edges, nodes, edges_file=str(edges_path), nodes_file=str(nodes_path),
                                       row_offset=2, metadata={"source": str(path)})


def _frame_to_csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, float_format="%.17g")
    return buf.getvalue()


def write_csv_dir(net: FinancialNetwork, path: str | os.PathLike) -> Path:
    """Write ``nodes.csv`` and ``edges.csv`` into directory ``path`` (each file atomically)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path / "nodes.csv", _frame_to_csv(net.nodes))
    write_text_atomic(path / "edges.csv", _frame_to_csv(net.edges))
    return path


#: format name -> (reader, writer, how to recognise a path)
FORMATS: dict[str, tuple[Callable[..., FinancialNetwork], Callable[..., Any], Callable[[Path], bool]]] = {
    "csv": (read_csv_dir, write_csv_dir, lambda p: p.is_dir() or p.suffix == ""),
}


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise InvalidNetworkError(Problem(f"unknown network format {fmt!r}; choose one of {sorted(FORMATS)}",
                                              file=str(path)))
        return fmt
    for name, (_, _, matches) in FORMATS.items():
        if name != "csv" and matches(path):
            return name
    if FORMATS["csv"][2](path):
        return "csv"
    raise InvalidNetworkError(Problem(f"cannot tell the network format from the file name (suffix "
                                      f"{path.suffix!r}); known formats: {sorted(FORMATS)}", file=str(path)))


def read_network(path: str | os.PathLike, format: str | None = None) -> FinancialNetwork:
    """Read a network; the format follows from the path (see :mod:`contagion.io`).

    >>> import contagion, pathlib
    >>> net = contagion.read_network(pathlib.Path(contagion.datasets.dataset_path("chain")))
    >>> net.names
    ('A', 'B', 'C')
    """
    path = Path(path)
    if not path.exists():
        raise InvalidNetworkError(Problem("no such file or directory", file=str(path)))
    reader = FORMATS[_format_of(path, format)][0]
    return reader(path)


def write_network(net: FinancialNetwork, path: str | os.PathLike, format: str | None = None) -> Path:
    """Write a network; the format follows from the path (a directory for CSV). Atomic per file."""
    path = Path(path)
    writer = FORMATS[_format_of(path, format)][1]
    return writer(net, path)
