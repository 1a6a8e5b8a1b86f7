"""GraphML networks, through networkx's GraphML reader and writer.

Layout (what :func:`write_graphml` produces and :func:`read_graphml` expects):

- one directed graph (``edgedefault="directed"``); each ``<node id=...>`` is
  an institution, its ``<data>`` are the node-table columns (``name``,
  ``type``, ``external_assets``, ``external_liabilities``, extra columns);
- each ``<edge source=debtor target=creditor>`` is one obligation (several
  edges between one pair stay several rows), its ``<data>`` are the edge-table
  columns (``amount`` required but on debt rows, ``kind``, extra columns);
- graph-level ``<data>`` hold the metadata (values that are not text, numbers
  or booleans are stored as JSON text), plus ``contagion.node_columns`` and
  ``contagion.edge_columns`` (JSON lists) so that the column order survives.

Missing values are left out of the file (GraphML has no "null"); a key's
``<default>`` fills the elements that do not give a value, as the GraphML
specification says.

Before networkx reads the file it is checked, so that nothing is merged or
invented silently: malformed XML (line and column), not exactly one graph,
undirected graphs or edges, unknown or untyped keys, a value that does not
parse as its key's type, duplicate node or edge ids, an attribute given twice
on one element, edges to undeclared nodes (networkx would add them). Problems
are located as ``node 'A'`` or ``edge 3 ('A' -> 'B')`` (3 = 0-based position of
the edge).

Edge order: document order, except when every edge has a distinct integer
``id``: then the ids give the order (the writer numbers edges by their row,
and networkx writes them grouped by source).
"""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Mapping

from ..errors import ContagionError, InvalidNetworkError, Problem
from ..network import FinancialNetwork
from ._tables import LocatedProblem, is_missing, json_default, native, stored_metadata
from .atomic import write_bytes_atomic
from .text import parse_data

__all__ = ["read_graphml", "write_graphml", "network_to_graphml"]

_NS = "{http://graphml.graphdrawing.org/xmlns}"
_NODE_COLUMNS_KEY = "contagion.node_columns"
_EDGE_COLUMNS_KEY = "contagion.edge_columns"
_TYPES = {"boolean": bool, "int": int, "long": int, "float": float, "double": float, "string": str}
_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _convert(text: str, kind: type) -> Any:
    if kind is bool:
        return _BOOL_TEXT[text.strip().lower()]
    if kind is not str and "_" in text:  # Python's int() and float() would drop the underscores
        raise ValueError(text)
    return kind(text)


#: Columns where a NaN is a number that cannot be used, never a missing value (a missing amount means 0).
_NAN_MESSAGES = {**dict.fromkeys(("external_assets", "external_liabilities", "forced_recovery", "amount"),
                                 "not a finite number (NaN is a number, not a missing value)"),
                 **dict.fromkeys(("id", "name", "type", "kind"), "NaN is a number, not text")}


class _Scan:
    """What the pre-check learnt: problems, and the nodes and edges (document order) as it read them.

    The tables are used for the edge order, and, when there are problems, to
    find the content problems too (a networkx graph would have merged or
    invented elements by then); ``skip`` lists the cells already reported.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.keys: dict[str, tuple[str, type, str]] = {}
        self.defaults: dict[str, dict[str, Any]] = {"node": {}, "edge": {}}
        self.nodes: list[tuple[Any, dict[str, Any]]] = []
        self.edges: list[tuple[Any, Any, dict[str, Any]]] = []
        self.skip: dict[str, set[Any]] = {"nodes": set(), "edges": set()}
        self.edge_ids: list[str | None] = []
        self.yfiles: set[str] = set()  # keys of yEd drawing data (elements inside <data> are expected there)

    def edge_order(self) -> list[int]:
        """Document order, or the order of the edge ids when every edge has a distinct integer id
        (``write_graphml`` numbers edges by their row; networkx writes them grouped by source)."""
        ids = self.edge_ids
        try:
            numbers = [int(i) for i in ids]  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return list(range(len(ids)))
        if len(set(numbers)) != len(numbers):
            return list(range(len(ids)))
        return sorted(range(len(ids)), key=numbers.__getitem__)


def _text_of(element: ET.Element) -> str:
    """The text inside an element and its children (for a message; cut by the caller)."""
    return "".join(element.itertext())[:200]


def _scan(root: ET.Element, file: str) -> _Scan:
    scan = _Scan()
    out = scan.problems

    def problem(message: str, where: str, column: str | None = None, value: Any = None, row: int | None = None):
        out.append(LocatedProblem(message, file=file, row=row, where=where, column=column, value=value))

    if root.tag != f"{_NS}graphml":
        tag = root.tag.split("}")[-1]
        hint = " (GraphML needs xmlns=\"http://graphml.graphdrawing.org/xmlns\")" if tag == "graphml" else ""
        problem(f"not a GraphML document: the root element is <{tag}>{hint}", "document")
        return scan
    for k, key in enumerate(root.iter(f"{_NS}key")):
        kid, name, kind = key.get("id"), key.get("attr.name"), key.get("attr.type")
        where = f"key {kid!r}" if kid else f"key {k}"
        if not kid:
            problem("<key> without an id", where)
            continue
        if key.get("yfiles.type") is not None:
            scan.keys[kid] = (key.get("yfiles.type"), str, key.get("for") or "all")  # yEd drawing data, kept as read
            scan.yfiles.add(kid)
            continue
        if not name:
            problem("<key> without attr.name", where)
            continue
        if kind not in _TYPES:
            problem(f"attr.type must be one of {', '.join(_TYPES)}", where, column=name, value=kind)
            continue
        if kid in scan.keys:
            problem("duplicate key id", where, column=name, value=kid)
        scan.keys[kid] = (name, _TYPES[kind], key.get("for") or "all")
        default = key.find(f"{_NS}default")
        if default is not None and default.text is not None:
            try:
                value = _convert(default.text, _TYPES[kind])
            except (ValueError, KeyError):
                problem(f"default value is not a valid {kind}", where, column=name, value=default.text)
            else:
                for scope in ("node", "edge"):
                    if key.get("for") in (scope, "all", None):
                        scan.defaults[scope][name] = value
    graphs = root.findall(f"{_NS}graph")
    if len(graphs) != 1:
        problem(f"expected exactly one <graph>, found {len(graphs)}", "document")
        return scan
    graph = graphs[0]
    if any(True for _ in graph.iter(f"{_NS}hyperedge")):
        problem("hyperedges are not supported", "graph")
    if len(list(graph.iter(f"{_NS}graph"))) > 1:
        problem("nested graphs are not supported", "graph")
    if graph.get("edgedefault") != "directed":
        problem("the graph is undirected; an obligation has a direction: use edgedefault=\"directed\"", "graph",
                value=graph.get("edgedefault"))

    def check_data(element: ET.Element, where: str, row: int | None, scope: str, table: str) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for data in element.findall(f"{_NS}data"):
            kid = data.get("key")
            if kid not in scan.keys:
                problem("<data> refers to an undeclared key", where, value=kid, row=row)
                continue
            name, kind, _ = scan.keys[kid]
            if name in attrs:
                problem("attribute given twice", where, column=name, row=row)
            value: Any = None
            if len(data) and kid not in scan.yfiles:
                child = data[0].tag.split("}")[-1]
                problem(f"the value holds an element <{child}>; GraphML data here must be plain text", where,
                        column=name, value=_text_of(data), row=row)
                if row is not None:
                    scan.skip[table].add((row, name))
            elif len(data) == 0 and data.text is not None and (data.text.strip() != "" or kind is str):
                try:
                    value = _convert(data.text, kind)
                except (ValueError, KeyError):
                    problem(f"not a valid {kind.__name__ if kind is not bool else 'boolean'}", where, column=name,
                            value=data.text, row=row)
                    if row is not None:
                        scan.skip[table].add((row, name))
                else:
                    if isinstance(value, float) and value != value and name in _NAN_MESSAGES:
                        problem(_NAN_MESSAGES[name], where, column=name, value=value, row=row)
                        if row is not None:
                            scan.skip[table].add((row, name))
            attrs[name] = value
        return {**{k: v for k, v in scan.defaults.get(scope, {}).items() if k not in attrs}, **attrs}

    check_data(graph, "graph", None, "graph", "graph")
    nodes: dict[str, int] = {}
    for k, node in enumerate(graph.findall(f"{_NS}node")):
        nid = node.get("id")
        where = f"node {nid!r}" if nid is not None else f"node {k}"
        if nid is None:
            problem("<node> without an id", where, row=k)
            scan.skip["nodes"].add((k, "id"))
        elif nid in nodes:
            problem(f"duplicate node id (first at node {nodes[nid]})", where, column="id", value=nid, row=k)
            scan.skip["nodes"].add((k, "id"))
        else:
            nodes[nid] = k
        scan.nodes.append((nid, check_data(node, where, k, "node", "nodes")))
    edge_ids: dict[str, int] = {}
    for k, edge in enumerate(graph.findall(f"{_NS}edge")):
        s, t = edge.get("source"), edge.get("target")
        where = f"edge {k} ({s!r} -> {t!r})"
        for col, end in (("debtor", s), ("creditor", t)):
            if end is None:
                problem(f"<edge> without a {'source' if col == 'debtor' else 'target'}", where, column=col, row=k)
                scan.skip["edges"].add((k, col))
            elif end not in nodes:
                problem("unknown node id (no <node> declares it)", where, column=col, value=end, row=k)
                scan.skip["edges"].add((k, col))
        if edge.get("directed") == "false":
            problem("undirected edge (directed=\"false\"); an obligation has a direction", where, row=k)
        eid = edge.get("id")
        if eid is not None:
            if eid in edge_ids:
                problem(f"duplicate edge id (first at edge {edge_ids[eid]})", where, column="id", value=eid, row=k)
            else:
                edge_ids[eid] = k
        scan.edges.append((s, t, check_data(edge, where, k, "edge", "edges")))
        scan.edge_ids.append(eid)
    return scan


def read_graphml(path: str | os.PathLike, columns: Mapping[str, str] | None = None) -> FinancialNetwork:
    """Read a GraphML network (checked first, then read with :func:`networkx.read_graphml`); ``columns``
    renames attributes (ours -> the file's), e.g. ``{"amount": "weight"}`` for a networkx export.

    Examples
    --------
    >>> import contagion, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ring.graphml"
    >>> _ = contagion.write_network(contagion.load_dataset("ring"), path)
    >>> from contagion.io.graphml import read_graphml
    >>> read_graphml(path).edges["amount"].tolist()
    [10.0, 10.0, 10.0, 4.0]
    """
    import networkx as nx

    from .bridges import network_from_graph_items

    path = Path(path)
    file = str(path)
    data = path.read_bytes()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, col = exc.position
        msg = str(exc).split(":")[0]
        raise InvalidNetworkError(LocatedProblem(f"malformed XML: {msg}", file=file,
                                                 where=f"line {line}, column {col + 1}")) from None
    scan = _scan(root, file)
    if scan.problems:  # report the content problems too, from the checker's own reading (this raises)
        order = scan.edge_order()
        position = {k: i for i, k in enumerate(order)}
        skip = {"nodes": scan.skip["nodes"], "edges": {(position[r], c) for r, c in scan.skip["edges"]}}
        network_from_graph_items(scan.nodes, [scan.edges[k] for k in order], file=file, problems=scan.problems,
                                 skip=skip, columns=columns)
        raise InvalidNetworkError(scan.problems)  # pragma: no cover - the line above raises
    try:
        G = nx.read_graphml(io.BytesIO(data), node_type=str, force_multigraph=True)
    except (nx.NetworkXError, ValueError, KeyError) as exc:  # pragma: no cover - the scan catches these first
        raise InvalidNetworkError(Problem(f"cannot read GraphML: {exc}", file=file)) from None
    graph_attrs = dict(G.graph)
    graph_attrs.pop("node_default", None), graph_attrs.pop("edge_default", None)
    node_default, edge_default = scan.defaults["node"], scan.defaults["edge"]  # also keys for="all"
    orders = {}
    problems: list[Problem] = []
    for key in (_NODE_COLUMNS_KEY, _EDGE_COLUMNS_KEY):
        if key in graph_attrs:
            try:
                listed = parse_data(str(graph_attrs.pop(key)), ".json")
                if not isinstance(listed, list):
                    raise TypeError(listed)
                orders[key] = [str(c) for c in listed]
            except (TypeError, ValueError, ContagionError):
                problems.append(LocatedProblem("not a JSON list of column names", file=file, where="graph",
                                               column=key))
    typed = {name for name, kind, _ in scan.keys.values() if kind is not str}

    def fill(attrs: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
        """Key defaults for absent data; empty data of a non-text key is a missing value (networkx gives "")."""
        out = {**defaults, **attrs} if defaults else attrs
        if "" in out.values():
            out = {k: (None if (v == "" and k in typed) else v) for k, v in out.items()}
        return out

    nodes = [(n, fill(d, node_default)) for n, d in G.nodes(data=True)]
    pending = {}
    edges = []
    for s, t, _ in scan.edges:  # document order: the i-th (s, t) edge in the file is the i-th in G[s][t]
        it = pending.get((s, t))
        if it is None:
            it = pending[(s, t)] = iter(G[s][t].values())
        edges.append((s, t, fill(next(it), edge_default)))
    edges = [edges[k] for k in scan.edge_order()]
    return network_from_graph_items(nodes, edges, file=file, metadata={**graph_attrs, "source": file},
                                    node_columns=orders.get(_NODE_COLUMNS_KEY),
                                    edge_columns=orders.get(_EDGE_COLUMNS_KEY), problems=problems, columns=columns)


_SCALARS = (bool, int, float, str)


def _uniform(G: Any, items: list[tuple[Any, dict[str, Any]]], columns: list[str], what: str) -> list[Problem]:
    """Drop missing values; make each column one GraphML type (int+float -> float); report the rest."""
    kinds: dict[str, set[type]] = {c: set() for c in columns}
    problems: list[Problem] = []
    for label, attrs in items:
        for c in list(attrs):
            v = attrs[c]
            if is_missing(v):
                del attrs[c]
            elif not isinstance(v, _SCALARS):
                problems.append(Problem(f"GraphML cannot store a value of type {type(v).__name__}", file=what,
                                        column=c, value=repr(v)[:60]))
            else:
                kinds.setdefault(c, set()).add(type(v))
    for c, ks in kinds.items():
        if ks == {int, float}:
            for _, attrs in items:
                if isinstance(attrs.get(c), int) and not isinstance(attrs.get(c), bool):
                    attrs[c] = float(attrs[c])
        elif len(ks) > 1:
            problems.append(Problem(f"GraphML needs one type per column; this column mixes "
                                    f"{', '.join(sorted(k.__name__ for k in ks))}", file=what, column=c))
    return problems


def network_to_graphml(net: FinancialNetwork) -> bytes:
    """The GraphML document of ``net`` (UTF-8 bytes), written by networkx's GraphML writer.

    Examples
    --------
    >>> import contagion
    >>> from contagion.io.graphml import network_to_graphml
    >>> text = network_to_graphml(contagion.load_dataset("chain")).decode()
    >>> '<edge source="A" target="B" id="0">' in text
    True
    """
    import networkx as nx

    from .bridges import to_networkx

    G = to_networkx(net)
    node_cols = [str(c) for c in net.nodes.columns if c != "id"]
    edge_cols = [str(c) for c in net.edges.columns if c not in ("debtor", "creditor")]
    problems = _uniform(G, [(n, d) for n, d in G.nodes(data=True)], node_cols, "nodes")
    problems += _uniform(G, [((u, v, k), d) for u, v, k, d in G.edges(keys=True, data=True)], edge_cols, "edges")
    if problems:
        raise InvalidNetworkError(problems)
    meta = stored_metadata(net.metadata)
    G.graph.clear()
    for key, value in meta.items():
        value = native(value)
        if value is not None:
            G.graph[str(key)] = value if isinstance(value, _SCALARS) else json.dumps(value, default=json_default)
    G.graph[_NODE_COLUMNS_KEY] = json.dumps(node_cols)
    G.graph[_EDGE_COLUMNS_KEY] = json.dumps(edge_cols)
    lines = nx.generate_graphml(G, encoding="utf-8", prettyprint=True)  # networkx's GraphMLWriter
    return ("<?xml version='1.0' encoding='utf-8'?>\n" + "\n".join(lines) + "\n").encode("utf-8")


def write_graphml(net: FinancialNetwork, path: str | os.PathLike) -> Path:
    """Write ``net`` as one GraphML file (atomically)."""
    return write_bytes_atomic(Path(path), network_to_graphml(net))
