"""The single-file JSON network format.

One object with three keys::

    {
     "nodes": [{"id": "A", "name": "A", "type": "bank", "external_assets": 5.0, ...}, ...],
     "edges": [{"debtor": "A", "creditor": "B", "amount": 10.0, "kind": "loan", ...}, ...],
     "metadata": {...}
    }

The records have the columns of ``nodes.csv`` / ``edges.csv`` (same names,
same meaning). ``nodes`` and ``edges`` are required (``edges`` may be empty),
``metadata`` is optional and may hold anything JSON can; no other top-level
key is accepted (put it under ``metadata``). Values in records must be
strings, numbers, booleans or ``null`` (= missing). A key that appears twice in
one object is an error (JSON parsers usually keep the last silently).

Positions in messages are JSON paths with 0-based indices: ``nodes[3]`` is the
fourth node record. ``NaN`` and ``Infinity`` (accepted by Python's parser)
are reported as non-finite numbers when they appear where an amount belongs.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Mapping

from ..errors import SHOWN_CHARS, InvalidNetworkError, Problem, shown
from ..network import FinancialNetwork
from ._tables import (LocatedProblem, build_network, frame_from_records, frame_records, json_default,
                      stored_metadata)
from .atomic import write_bytes_atomic
from .text import MAX_NESTING, BigNumber, TextProblem, _describe_big, _surrogate, check_json_value, json_loads, \
    not_utf8

__all__ = ["read_json", "write_json", "network_to_json", "network_from_json"]

_TOP_KEYS = ("nodes", "edges", "metadata")
_AMOUNT_COLUMNS = {"nodes": ("external_assets", "external_liabilities", "forced_recovery"), "edges": ("amount",)}
_EMPTY_COLUMNS = {"nodes": ("id",), "edges": ("debtor", "creditor", "amount")}


def _kind(v: Any) -> str:
    """The JSON name of a parsed value's type."""
    for types, name in ((dict, "object"), (list, "array"), (str, "string"), (bool, "boolean"),
                        ((int, float), "number")):
        if isinstance(v, types):
            return name
    return "null"


def _short(v: Any) -> str:
    """The JSON text of a value, for a message (at most about 80 characters, whatever its size or depth)."""
    try:
        text = json.dumps(v, ensure_ascii=False, default=json_default)
    except (RecursionError, ValueError):
        return shown(v, quote=False)
    return text if len(text) <= SHOWN_CHARS - 2 else text[:SHOWN_CHARS - 5] + "..."


class _Shown(str):
    """Text already cut for a message: shown as it is (no quotes added)."""

    def __repr__(self) -> str:
        return str(self)


_ID_COLUMNS = {"nodes": ("id",), "edges": ("debtor", "creditor")}


def network_from_json(text: str, file: str | None = None, columns: Mapping[str, str] | None = None
                      ) -> FinancialNetwork:
    """Build a network from the text of a JSON network document (``file`` names it in messages; ``columns``
    renames keys of the records, ours -> the file's).

    Examples
    --------
    >>> from contagion.io.json_format import network_from_json
    >>> net = network_from_json('{"nodes": [{"id": "A", "external_assets": 1}, {"id": "B"}], '
    ...                         '"edges": [{"debtor": "A", "creditor": "B", "amount": 2}]}')
    >>> net.total_obligations.tolist()
    [2.0, 0.0]
    """
    try:
        doc = json_loads(text)
    except TextProblem as exc:
        where = f"line {exc.line}, column {exc.column}" if exc.line is not None else None
        msg = exc.message if exc.message.startswith("nested") else f"malformed JSON: {exc.message}"
        raise InvalidNetworkError(LocatedProblem(msg, file=file, where=where)) from None
    if not isinstance(doc, dict):
        raise InvalidNetworkError(LocatedProblem(f"expected a JSON object with keys nodes, edges, metadata; got "
                                                 f"{_kind(doc)}", file=file, where="top level"))
    problems: list[Problem] = []
    top = LocatedProblem
    for key in getattr(doc, "duplicates", ()):
        problems.append(top("key appears more than once", file=file, where="top level", column=key, value=key))
    for key in doc:
        if key not in _TOP_KEYS:
            problems.append(top("unknown top-level key (allowed: nodes, edges, metadata; put anything else under "
                                "metadata)", file=file, where="top level", column=key, value=key))
    tables: dict[str, list[dict[str, Any]]] = {}
    skip: dict[str, set[Any]] = {"nodes": set(), "edges": set()}
    for section in ("nodes", "edges"):
        items = doc.get(section)
        if items is None:
            problems.append(top(f"required key '{section}' is missing" if section not in doc else
                                f"'{section}' is null; expected a list of objects", file=file, where="top level",
                                column=section))
            items = []
        elif not isinstance(items, list):
            problems.append(top(f"expected a list of objects, got {_kind(items)}", file=file,
                                where=section, value=_short(items)))
            items = []
        records = []
        for k, rec in enumerate(items):
            where = f"{section}[{k}]"
            if not isinstance(rec, dict):
                problems.append(top(f"expected an object, got {_kind(rec)}", file=file, row=k, where=where,
                                    value=_short(rec)))
                skip[section].add(k)
                records.append({})
                continue
            clean = {}
            for col, v in rec.items():
                if isinstance(v, (dict, list)):
                    problems.append(top("value must be a string, number, boolean or null", file=file, row=k,
                                        where=where, column=col, value=_short(v)))
                    skip[section].add((k, col))
                    v = None
                elif isinstance(v, BigNumber):
                    problems.append(top(f"number too large for a float ({_describe_big(v)})", file=file, row=k,
                                        where=where, column=col))
                    skip[section].add((k, col))
                    v = None
                elif isinstance(v, str) and _surrogate(v):
                    problems.append(top("text contains a lone surrogate, which is not a character", file=file,
                                        row=k, where=where, column=col, value=_short(v)))
                    skip[section].add((k, col))
                    v = None
                elif isinstance(v, float) and math.isnan(v) and col in _ID_COLUMNS[section]:
                    problems.append(top("NaN is a number, not an id", file=file, row=k, where=where, column=col,
                                        value=_Shown("NaN")))
                    skip[section].add((k, col))
                    v = None
                elif isinstance(v, float) and math.isnan(v) and col in _AMOUNT_COLUMNS[section]:
                    v = "NaN"  # a non-finite number, not a missing value
                if isinstance(col, str) and _surrogate(col):
                    problems.append(top("column name contains a lone surrogate, which is not a character",
                                        file=file, row=k, where=where, value=_short(col)))
                    skip[section].add((k, col))
                    continue
                clean[col] = v
            for col in getattr(rec, "duplicates", ()):
                problems.append(top("key appears more than once in this object", file=file, row=k, where=where,
                                    column=col))
            records.append(clean)
        tables[section] = records
    metadata = doc.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        problems.append(top(f"expected an object, got {_kind(metadata)}", file=file, where="metadata",
                            value=_short(metadata)))
        metadata = {}
    for key in getattr(metadata, "duplicates", ()):
        problems.append(top("key appears more than once", file=file, where="metadata", column=key, value=key))
    try:
        check_json_value({k: v for k, v in metadata.items()}, "metadata", max_depth=MAX_NESTING + 1)
    except TextProblem as exc:
        problems.append(top(exc.message, file=file, where=exc.path or "metadata"))
        metadata = {}
    nodes = frame_from_records(tables["nodes"], None if tables["nodes"] else _EMPTY_COLUMNS["nodes"])
    edges = frame_from_records(tables["edges"], None if tables["edges"] else _EMPTY_COLUMNS["edges"])
    meta = stored_metadata(metadata)
    if file is not None:
        meta["source"] = file
    return build_network(nodes, edges, file=file, node_at=lambda k: f"nodes[{k}]", edge_at=lambda k: f"edges[{k}]",
                         problems=problems, skip_rows=skip, metadata=meta, columns=columns)


def read_json(path: str | os.PathLike, columns: Mapping[str, str] | None = None) -> FinancialNetwork:
    """Read a JSON network file (see the module docstring for the layout); ``columns`` renames keys of the
    records (ours -> the file's).

    Examples
    --------
    >>> import contagion, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "chain.json"
    >>> _ = contagion.write_network(contagion.load_dataset("chain"), path)
    >>> from contagion.io.json_format import read_json
    >>> read_json(path).names
    ('A', 'B', 'C')
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidNetworkError(Problem(not_utf8(data, exc, spreadsheet=False), file=str(path),
                                          value=data[exc.start:exc.end])) from None
    return network_from_json(text, file=str(path), columns=columns)


def _records_json(df: Any, section: str) -> list[str]:
    lines = []
    for k, rec in enumerate(frame_records(df)):
        for col, v in rec.items():
            if isinstance(v, float) and not math.isfinite(v):
                raise InvalidNetworkError(Problem("JSON cannot hold a non-finite number", file=section, row=k,
                                                  column=col, value=v))
        try:
            lines.append(json.dumps(rec, ensure_ascii=False, allow_nan=False))
        except TypeError as exc:
            bad = next((c for c, v in rec.items() if not isinstance(v, (str, int, float, bool, type(None)))), None)
            raise InvalidNetworkError(Problem(f"cannot be written as JSON ({exc})", file=section, row=k, column=bad,
                                              value=repr(rec.get(bad)) if bad else None)) from None
    return lines


def network_to_json(net: FinancialNetwork) -> str:
    """The JSON document of a network: one record per line, UTF-8 text, ``metadata`` without ``source``/``dataset``.

    Examples
    --------
    >>> import contagion
    >>> from contagion.io.json_format import network_to_json
    >>> print(network_to_json(contagion.load_dataset("chain")))  # doctest: +ELLIPSIS
    {
     "nodes": [
      {"id": "A", "name": "A", "type": "bank", "external_assets": 5.0, "external_liabilities": 0.0},
    ...
    """
    meta = stored_metadata(net.metadata)
    parts = []
    for section, df in (("nodes", net.nodes), ("edges", net.edges)):
        lines = _records_json(df, section)
        body = ",\n".join("  " + line for line in lines)
        parts.append(f' "{section}": [\n{body}\n ]' if lines else f' "{section}": []')
    parts.append(' "metadata": ' + json.dumps(meta, ensure_ascii=False, default=json_default))
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_json(net: FinancialNetwork, path: str | os.PathLike) -> Path:
    """Write ``net`` as one JSON file (atomically)."""
    return write_bytes_atomic(Path(path), network_to_json(net).encode("utf-8"))
