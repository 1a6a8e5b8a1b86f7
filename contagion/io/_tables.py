"""Helpers shared by the readers, writers and bridges: located problems, table <-> records.

Every reader turns its input into two pandas tables (nodes, edges) and hands
them to :meth:`FinancialNetwork.from_edges` through :func:`build_network`,
which re-labels the positions in the problems it reports with the reader's
own notation (``nodes[3]`` in JSON, ``node 'A'`` in GraphML, ...). So the
checks themselves live in one place (``contagion/network.py``).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._words import folded, one_letter_off
from ..errors import ContagionError, InvalidNetworkError, Problem, shown
from ..network import AMOUNTS_FROM_INTEREST, PLACEHOLDER, FinancialNetwork, warn_interest_amounts

__all__ = ["LocatedProblem", "build_network", "near_misses", "near_miss_message", "KNOWN_NODE_COLUMNS",
           "KNOWN_EDGE_COLUMNS", "frame_records", "frame_from_records", "native", "is_missing",
           "stored_metadata", "PROVENANCE_KEYS", "json_default"]

#: Metadata that says where a network was loaded from (set by the readers and ``load_dataset``),
#: not what it is: writers leave these keys out, readers set ``source`` to the file they read.
PROVENANCE_KEYS = ("source", "dataset")


def stored_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata a writer stores: everything but :data:`PROVENANCE_KEYS` and the count of amounts filled in
    on reading (the written table holds them)."""
    return {k: v for k, v in dict(metadata or {}).items() if k not in (*PROVENANCE_KEYS, AMOUNTS_FROM_INTEREST)}


#: Placeholder "file" labels handed to ``from_edges`` so that its problems can be re-located.
_NODES, _EDGES = PLACEHOLDER + "nodes", PLACEHOLDER + "edges"
_FIRST_SEEN = re.compile(r"\(first seen at row (\d+)\)")


@dataclass(frozen=True)
class LocatedProblem(Problem):
    """A :class:`~contagion.errors.Problem` whose position is better said in words.

    ``row`` keeps the 0-based position of the record (or ``None``); ``where``
    is how it is printed, e.g. ``"nodes[3]"`` (JSON), ``"node 'A'"``
    (GraphML, networkx) or ``"row index 3"`` (Parquet).
    """

    where: str | None = None

    def __str__(self) -> str:
        parts = [str(p) for p in (self.file, self.where) if p]
        if self.column:
            parts.append(f"column '{self.column}'")
        loc = ", ".join(parts)
        val = "" if self.value is None else f" (value: {shown(self.value)})"
        return f"{loc}: {self.message}{val}" if loc else f"{self.message}{val}"


Locator = Callable[[int], str]

#: Columns with a meaning in the node and edge tables (see :meth:`FinancialNetwork.from_edges`).
KNOWN_NODE_COLUMNS = ("id", "name", "type", "external_assets", "external_liabilities", "forced_default",
                      "forced_recovery")
KNOWN_EDGE_COLUMNS = ("debtor", "creditor", "amount", "kind")


#: Further columns with a meaning (DESIGN §7 dated debt, §8 priority and guarantees, fire-sale holdings): a
#: column named like one of them but not quite is a mistake too (see :func:`near_misses`).
MEANINGFUL_NODE_COLUMNS = KNOWN_NODE_COLUMNS + ("external_seniority", "asset_units", "target_leverage")
MEANINGFUL_EDGE_COLUMNS = KNOWN_EDGE_COLUMNS + (
    "edge_id", "start", "end", "principal", "rate", "maturity", "amortization", "rollover", "max_ltv",
    "collateral", "term_years", "covers", "seniority", "collateral_value", "residual_value", "asset_value")
#: Names at least this long are also matched one letter off (``seniorty``, ``external_asets``); shorter ones
#: (``rate``, ``end``) would catch ordinary attribute names.
TYPO_MIN_LENGTH = 8


def is_holdings_column(name: Any) -> bool:
    """Whether ``name`` is a fire-sale holdings column of a named asset (``asset_units_<name>``, node table)."""
    return str(name).startswith("asset_units_")


def is_node_column(name: Any) -> bool:
    """Whether ``name`` is one of our node-table columns (for ``columns=`` renames)."""
    return name in MEANINGFUL_NODE_COLUMNS or is_holdings_column(name)


def near_misses(columns: Iterable[Any], known: Sequence[str]) -> list[tuple[Any, str]]:
    """``(column, known column)`` for each column whose name differs from a known one only in case, spaces,
    ``_``, ``-`` or ``.`` (``External_Assets``, ``external assets``, ``ID``), or, for a known name of at least
    :data:`TYPO_MIN_LENGTH` letters, by one letter (``seniorty``): read as it is, it would be kept as an extra
    attribute while the known column silently took its default. ``known``: the table's columns with a meaning
    (:data:`MEANINGFUL_NODE_COLUMNS` or :data:`MEANINGFUL_EDGE_COLUMNS`).

    >>> near_misses(["id", "External_Assets", "externalassets ", "sponsor"], MEANINGFUL_NODE_COLUMNS)
    [('External_Assets', 'external_assets'), ('externalassets ', 'external_assets')]
    >>> near_misses(["Seniority", "seniorty", "max-ltv", "rates", "notes"], MEANINGFUL_EDGE_COLUMNS)
    [('Seniority', 'seniority'), ('seniorty', 'seniority'), ('max-ltv', 'max_ltv')]
    """
    names = tuple(known)
    by_folded = {folded(k): k for k in names}
    out = []
    for c in columns:
        if c in names or is_holdings_column(c):
            continue
        f = folded(c)
        meant = by_folded.get(f) or next((k for k in names if len(k) >= TYPO_MIN_LENGTH
                                       and one_letter_off(f, folded(k))), None)
        if meant is not None:
            out.append((c, meant))
    return out


def split_columns(columns: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """``(node columns, edge columns)`` of a ``columns=`` mapping (ours -> the file's): our names of the node
    table (:data:`KNOWN_NODE_COLUMNS`: ``id``, ``name``, ``type``, the outside amounts, ...) rename the nodes'
    columns, every other one the edges'.

    >>> split_columns({"id": "bank_id", "debtor": "source", "creditor": "target"})
    ({'id': 'bank_id'}, {'debtor': 'source', 'creditor': 'target'})
    """
    ours_known = MEANINGFUL_NODE_COLUMNS + MEANINGFUL_EDGE_COLUMNS
    for ours in columns or {}:
        if ours not in ours_known and not is_holdings_column(ours):
            from ..errors import did_you_mean

            raise ContagionError(f"columns=: {ours!r} is not a column contagion reads{did_you_mean(str(ours), ours_known)}"
                                 f" (ours: {', '.join(ours_known)})")
    nodes = {ours: theirs for ours, theirs in (columns or {}).items() if is_node_column(ours)}
    edges = {ours: theirs for ours, theirs in (columns or {}).items() if ours not in nodes}
    twice = columns_named_twice(columns)
    if twice:
        raise ContagionError(f"columns=: {twice}")
    return nodes, edges


def columns_named_twice(columns: Mapping[str, str] | None) -> str:
    """What is wrong when ``columns`` (ours -> the file's) reads two of our columns of one table (nodes, or
    edges) from one of the file's columns, said in words; '' when nothing is.

    >>> columns_named_twice({"id": "bank_id", "name": "bank_id", "debtor": "bank_id"})
    "'id' and 'name' are both read from 'bank_id'; each of our columns needs a column of its own"
    """
    for node_table in (True, False):
        seen: dict[str, str] = {}
        for ours, theirs in (columns or {}).items():
            if is_node_column(ours) != node_table:
                continue
            if theirs in seen:
                return (f"{seen[theirs]!r} and {ours!r} are both read from {theirs!r}; each of our columns needs "
                        f"a column of its own")
            seen[theirs] = ours
    return ""


def rename_columns(table: pd.DataFrame, columns: Mapping[str, str], label: str, file: str | None,
                   problems: list, row: int | None = None) -> pd.DataFrame:
    """``table`` with ``columns`` (ours -> the file's) applied; a named column that ``label`` (``nodes.csv``,
    ``the edges of n.json``) does not have is a problem (at ``row``: a CSV header is row 1)."""
    for theirs in columns.values():
        if theirs not in table.columns:
            problems.append(Problem(f"--columns names {theirs!r}, not a column of {label} (it has "
                                    f"{', '.join(map(str, table.columns)) or 'none'})", file=file, row=row,
                                    column=theirs))
    return table.rename(columns={theirs: ours for ours, theirs in columns.items() if theirs in table.columns})


def near_miss_message(meant: str, column: Any = None) -> str:
    how = ("only in case, spaces or '_'/'-'" if column is None or folded(column) == folded(meant)
           else "by one letter")
    return (f"column name differs from the known column '{meant}' {how}: rename it '{meant}' (as it is, {meant} "
            f"would be left at its default)")


def build_network(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    file: str | None,
    nodes_file: str | None = None,
    edges_file: str | None = None,
    node_at: Locator,
    edge_at: Locator,
    nodes_section: str | None = "nodes",
    edges_section: str | None = "edges",
    problems: Sequence[Problem] = (),
    skip_rows: Mapping[str, set[Any]] | None = None,
    metadata: Mapping[str, Any] | None = None,
    columns: Mapping[str, str] | None = None,
) -> FinancialNetwork:
    """``FinancialNetwork.from_edges(edges, nodes)`` with problems located by ``node_at`` / ``edge_at``.

    ``columns`` (ours -> the file's, :func:`split_columns`) renames columns first; a named column that is not
    there is reported (with the problems found earlier) before anything else is checked.

    ``node_at(k)`` / ``edge_at(k)`` say where record ``k`` (0-based) is;
    ``nodes_section`` / ``edges_section`` name the table for problems about a
    whole column; ``nodes_file`` / ``edges_file`` default to ``file``.

    ``problems`` found earlier by the reader (structure, types) are reported
    together with those of ``from_edges``; problems of ``from_edges`` on rows
    (``k``) or cells (``(k, column)``) listed in ``skip_rows["nodes"|"edges"]``
    are left out (the reader has reported them already).
    """
    found = list(problems)
    if columns:
        renamed: list[Problem] = []
        tables = []
        for table, mapping, section, tfile in zip((nodes, edges), split_columns(columns),
                                                  (nodes_section, edges_section), (nodes_file, edges_file)):
            label = Path(tfile).name if tfile else f"the {section} of {Path(str(file)).name}" if file else \
                f"the {section}"
            tables.append(rename_columns(table, mapping, label, tfile or file, renamed) if mapping else table)
        if renamed:
            raise InvalidNetworkError(found + renamed)
        nodes, edges = tables
    for table, known, section, tfile in ((nodes, MEANINGFUL_NODE_COLUMNS, nodes_section, nodes_file),
                                         (edges, MEANINGFUL_EDGE_COLUMNS, edges_section, edges_file)):
        for col, meant in near_misses(table.columns, known):
            found.append(LocatedProblem(near_miss_message(meant, col), file=tfile or file, column=str(col), where=section,
                                        value=col))
    skip = skip_rows or {}
    try:
        net = FinancialNetwork.from_edges(edges, nodes, edges_file=_EDGES, nodes_file=_NODES, row_offset=0,
                                          metadata=metadata)
    except InvalidNetworkError as exc:
        rank = {_NODES: 0, _EDGES: 1}
        for p in sorted(exc.problems, key=lambda p: (rank.get(p.file, 2), -1 if p.row is None else p.row)):
            section = "nodes" if p.file == _NODES else "edges" if p.file == _EDGES else None
            if section is not None and p.row is not None and (p.row in skip.get(section, ())
                                                               or (p.row, p.column) in skip.get(section, ())):
                continue
            if section == "nodes":
                found.append(relocate(p, nodes_file or file, section, node_at, nodes_section))
            else:
                found.append(relocate(p, edges_file or file, section, edge_at, edges_section))
        raise InvalidNetworkError(found) from None
    if found:
        raise InvalidNetworkError(found)
    filled = int(net.metadata.get(AMOUNTS_FROM_INTEREST, 0))
    if filled:      # from_edges leaves this to the reader, which can name the file
        warn_interest_amounts(edges_file or file or "edges", filled, stacklevel=3)
    return net


def relocate(p: Problem, file: str | None, section: str | None, at: Locator, section_name: str | None) -> Problem:
    """Re-express a ``from_edges`` problem (0-based row) in the reader's notation."""
    if section is None:  # not about a table (should not happen): keep, name the file
        return replace(p, file=p.file or file) if type(p) is Problem else p
    message = _FIRST_SEEN.sub(lambda m: f"(first seen at {at(int(m.group(1)))})", p.message)
    where = at(p.row) if p.row is not None else section_name
    return LocatedProblem(message, file=file, row=p.row, column=p.column, value=p.value, where=where)


# ---------------------------------------------------------------------- values
def is_missing(v: Any) -> bool:
    """None, NaN, ``pd.NA`` or ``pd.NaT``."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def native(v: Any) -> Any:
    """A plain Python scalar for a numpy/pandas scalar (``None`` for missing values)."""
    if isinstance(v, np.generic):
        v = v.item()
    if is_missing(v):
        return None
    return v


def json_default(o: Any) -> Any:
    """``default=`` for :func:`json.dumps`: numpy scalars and arrays, paths, sets; else ``str``."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return str(o)


def frame_records(df: pd.DataFrame, columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Rows of ``df`` as dicts of plain Python scalars (missing -> ``None``), column order kept."""
    cols = list(df.columns if columns is None else columns)
    data = [[native(v) for v in df[c].tolist()] for c in cols]
    return [dict(zip(cols, row)) for row in zip(*data)] if cols else [{} for _ in range(len(df))]


def frame_from_records(records: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A DataFrame from dict records; columns in ``columns`` order, then first appearance.

    A column with no value at all is kept as an object column of ``None``.
    """
    order: dict[str, None] = dict.fromkeys(columns or ())
    for rec in records:
        for k in rec:
            if k not in order:
                order[k] = None
    df = pd.DataFrame({c: pd.Series([rec.get(c) for rec in records], dtype=object) for c in order},
                      index=pd.RangeIndex(len(records)), columns=list(order))
    return tidy_missing(df)


def big_ints(values: Iterable[Any]) -> bool:
    """Whether ``values`` hold a whole number (Python ``int``) that float64 does not hold exactly."""
    return any(type(v) is int and int(float(v)) != v for v in values)


def tidy_missing(df: pd.DataFrame) -> pd.DataFrame:
    """Give every reader the same dtypes for the same values.

    Object columns get their natural dtype (``infer_objects``: text -> pandas'
    string dtype, numbers -> int64/float64); an all-missing column, or one of
    mixed kinds, stays ``object`` with ``None`` for missing values.
    """
    cols, changed = [], False
    for k in range(df.shape[1]):
        s = df.iloc[:, k]
        if s.dtype.kind in "fiub" and not (len(s) and s.isna().all()):  # numbers: nothing to tidy, no copy
            cols.append(s)
            continue
        if len(s) and s.isna().all():
            s, changed = pd.Series([None] * len(s), dtype=object, index=s.index), True
        elif s.dtype == object:
            typed, changed = s.infer_objects(), True
            # whole numbers a float column would not hold exactly (16+ digit account numbers beside a blank)
            # stay the integers they are
            exact = typed.dtype != object and not (typed.dtype.kind == "f" and big_ints(s.tolist()))
            s = typed if exact else s.where(s.notna(), None)
        cols.append(s)
    if not changed:  # the common case of a typed file: the frame as it is (a copy of ten million rows saved)
        return df
    out = pd.concat(cols, axis=1) if cols else pd.DataFrame(index=df.index)
    out.columns = df.columns
    return out


#: Edge files at least this large (about half a million obligations) are read with the compiled kernels, and
#: numba is imported in the background while Arrow reads them (:func:`contagion._matrix.warm_up`).
WARM_UP_MIN_BYTES = 8 << 20


def warm_up_for(edges_path: Any) -> None:
    """Start importing numba in the background when ``edges_path`` is large enough to need it."""
    try:
        large = os.path.getsize(edges_path) >= WARM_UP_MIN_BYTES
    except OSError:
        return
    if large:
        from .._matrix import warm_up

        warm_up()
