"""Where a row of a network's table is, in the words of the file it was read from (every format): for located
problems found after reading (multi-year columns, priority columns, holdings).

In :mod:`contagion.io` because it asks the readers how a format names its rows (:func:`~.formats.detect_format`,
:class:`~._tables.LocatedProblem`); the checks above the network (clearing, paths) use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..errors import Problem

__all__ = ["TableRows", "table_rows", "located_problems"]

#: What a located check passes as ``file`` for a table whose rows a format other than CSV says in words
#: (:class:`TableRows`): its problems are re-located by :func:`located_problems` before they are raised.
_UNPLACED = "\x00table:"


@dataclass(frozen=True)
class TableRows:
    """Where the rows of one table of a network are, for located problems: one way for every format.

    A check passes :attr:`file` and :attr:`offset` to the located helpers (:func:`located_numbers`, or
    ``Problem(message, file, k + offset, column)`` for row ``k``, 0-based) and raises
    :func:`located_problems` of what it found. For a CSV folder ``file`` is ``<folder>/<table>.csv`` and
    rows are as in the file (header = row 1); for an in-memory table it is the table's name and rows are
    0-based; for JSON, Parquet and GraphML it is a placeholder that :meth:`locate` turns into the file and
    the format's own words for a record (``edges[0]``, ``row index 0``, ``edge 0 ('A' -> 'B')``), as the
    readers say it (:func:`contagion.io._tables.build_network`).
    """

    table: str
    file: str
    offset: int
    source_file: str | None = None
    at: Callable[[int], str] | None = None

    def row(self, k: int) -> str:
        """Row ``k`` (0-based) in words, for a message that names another row: ``row 5``, ``edges[3]``."""
        return self.at(int(k)) if self.at is not None else f"row {int(k) + self.offset}"

    def locate(self, problem: Problem) -> Problem:
        """``problem`` said in the table's own file and words (unchanged unless it was found on this table's
        placeholder)."""
        if self.at is None or problem.file != self.file:
            return problem
        from ._tables import LocatedProblem

        where = self.at(problem.row) if problem.row is not None else self.table
        return LocatedProblem(problem.message, file=self.source_file, row=problem.row, column=problem.column,
                              value=problem.value, where=where)


def _source_format(source: str) -> str:
    """The format of the file or folder a network was read from (``csv`` when it cannot be told)."""
    from ..errors import ContagionError
    from .formats import detect_format

    try:
        return detect_format(source)
    except (ContagionError, OSError):
        return "csv"


def table_rows(net: Any, table: str) -> TableRows:
    """:class:`TableRows` of ``net``'s ``table`` (``"nodes"`` / ``"edges"``), from where it was read
    (``net.metadata["source"]``).

    >>> import contagion
    >>> rows = table_rows(contagion.load_dataset("chain"), "edges")
    >>> rows.file.endswith("edges.csv"), rows.offset, rows.row(0)
    (True, 2, 'row 2')
    """
    from pathlib import Path

    source = (getattr(net, "metadata", None) or {}).get("source")
    if not source:
        return TableRows(table, table, 0)
    fmt = _source_format(str(source))
    if fmt == "csv":
        return TableRows(table, f"{source}/{table}.csv", 2)
    unplaced = _UNPLACED + table
    if fmt == "parquet":
        return TableRows(table, unplaced, 0, str(Path(str(source)) / f"{table}.parquet"), lambda k: f"row index {k}")
    if fmt == "graphml":
        if table == "nodes":
            ids = net.ids
            return TableRows(table, unplaced, 0, str(source), lambda k: f"node {ids[k]!r}")
        edges = net.edges
        return TableRows(table, unplaced, 0, str(source),
                         lambda k: f"edge {k} ({edges['debtor'].iloc[k]!r} -> {edges['creditor'].iloc[k]!r})")
    return TableRows(table, unplaced, 0, str(source), lambda k: f"{table}[{k}]")


def located_problems(net: Any, problems: Sequence[Problem]) -> list[Problem]:
    """``problems`` found with :func:`table_rows` of ``net``'s tables, each said in its file's own words."""
    tables: dict[str, TableRows] = {}
    out = []
    for p in problems:
        if isinstance(p.file, str) and p.file.startswith(_UNPLACED):
            name = p.file[len(_UNPLACED):]
            rows = tables.get(name) or tables.setdefault(name, table_rows(net, name))
            p = rows.locate(p)
        out.append(p)
    return out
