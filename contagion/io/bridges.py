"""Bridges to networkx and igraph that lose nothing.

``to_networkx(net)`` gives a :class:`networkx.MultiDiGraph`:

- one node per institution, keyed by its **id**, in the order of ``net.nodes``;
  node attributes = every other column of ``net.nodes`` (``name``, ``type``,
  ``external_assets``, ``external_liabilities``, extra columns; missing
  values are ``None``);
- one edge per row of ``net.edges``, directed **debtor -> creditor**, with key
  = the row's position; edge attributes = every column but ``debtor`` and
  ``creditor`` (``amount``, ``kind``, extra columns);
- ``G.graph`` = a copy of ``net.metadata``.

``from_networkx(G)`` accepts any directed networkx graph (``DiGraph`` or
``MultiDiGraph``) with an ``amount`` on every edge. Node keys become ids
(non-text keys through ``str``); edges are taken in key order when every key is
a distinct integer (as written by :func:`to_networkx`), in networkx's
iteration order otherwise. A node attribute ``id`` or an edge attribute
``debtor``/``creditor`` must agree with the key/endpoints. Undirected graphs
are refused: an obligation has a direction.

``to_igraph`` / ``from_igraph`` do the same with a directed
:class:`igraph.Graph`: vertex attributes ``id`` + the node columns (so
igraph's ``name`` is the institution name), edge attributes as above, graph
attributes = metadata. ``from_igraph`` takes ids from the ``id`` vertex
attribute, else from ``name``, else the vertex index.

Problems are located by node id and edge position, e.g. ``edge 3 ('A' -> 'B')``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ..errors import InvalidNetworkError, Problem
from .._columns import _id_text
from ..network import FinancialNetwork
from ._tables import LocatedProblem, build_network, frame_from_records, frame_records, is_missing, split_columns

if TYPE_CHECKING:  # pragma: no cover
    import igraph
    import networkx

__all__ = ["to_networkx", "from_networkx", "to_igraph", "from_igraph", "network_from_graph_items"]


def _key_text(v: Any) -> Any:
    """Node keys become id text (``1`` and ``1.0`` -> ``"1"``); missing stays missing."""
    if is_missing(v):
        return None
    return v.strip() if isinstance(v, str) else _id_text(v)


def _attribute_renames(nodes: Sequence[tuple[Any, Mapping[str, Any]]], edges: Sequence[tuple[Any, Any, Mapping[str, Any]]],
                       columns: Mapping[str, str] | None, file: str | None,
                       found: list[Problem]) -> tuple[dict[str, str], dict[str, str]]:
    """``(node renames, edge renames)`` (the attribute's name -> ours) of ``columns=``; a named attribute that no
    node (edge) has, or a rename of an edge's ends, is a problem (raised with those in ``found``)."""
    if not columns:
        return {}, {}
    node_map, edge_map = split_columns(columns)
    bad: list[Problem] = []
    for ours in ("debtor", "creditor"):
        if ours in edge_map:
            bad.append(LocatedProblem(f"--columns {ours}={edge_map[ours]}: in a graph the debtor and creditor are each "
                                      f"edge's source and target; only attributes can be renamed", file=file,
                                      where="edges", column=edge_map[ours]))
    for what, items, mapping in (("node", [a for _, a in nodes], node_map),
                                 ("edge", [a for _, _, a in edges], edge_map)):
        have = sorted({str(k) for attrs in items for k in attrs})
        for ours, theirs in mapping.items():
            if ours not in ("debtor", "creditor") and theirs not in have:
                bad.append(LocatedProblem(f"--columns names {theirs!r}, which no {what} has ({what} attributes "
                                          f"found: {', '.join(have) or 'none'})", file=file, where=f"{what}s",
                                          column=theirs))
    if bad:
        raise InvalidNetworkError([*found, *bad])
    return ({theirs: ours for ours, theirs in node_map.items()},
            {theirs: ours for ours, theirs in edge_map.items() if ours not in ("debtor", "creditor")})


def network_from_graph_items(
    nodes: Sequence[tuple[Any, Mapping[str, Any]]],
    edges: Sequence[tuple[Any, Any, Mapping[str, Any]]],
    *,
    file: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    node_columns: Sequence[str] | None = None,
    edge_columns: Sequence[str] | None = None,
    problems: Sequence[Problem] = (),
    skip: Mapping[str, set[Any]] | None = None,
    columns: Mapping[str, str] | None = None,
) -> FinancialNetwork:
    """Build a network from ``(key, attrs)`` nodes and ``(u, v, attrs)`` edges (in order).

    Shared by the networkx and igraph bridges and the GraphML reader.
    ``node_columns`` / ``edge_columns`` fix the column order (first appearance
    otherwise). ``problems`` found earlier are reported with the others;
    ``skip`` lists cells already reported (see :func:`._tables.build_network`).
    ``columns`` (ours -> the attribute's name, :func:`._tables.split_columns`)
    renames attributes, e.g. ``{"amount": "weight"}``; the debtor and creditor
    are each edge's ends and cannot be renamed.

    Examples
    --------
    >>> from contagion.io.bridges import network_from_graph_items
    >>> net = network_from_graph_items([("A", {"external_assets": 3}), ("B", {})],
    ...                                [("A", "B", {"amount": 5, "kind": "loan"})])
    >>> net.edges.to_dict("records")
    [{'debtor': 'A', 'creditor': 'B', 'amount': 5.0, 'kind': 'loan'}]
    """
    found = list(problems)
    skip = {"nodes": set((skip or {}).get("nodes", ())), "edges": set((skip or {}).get("edges", ()))}
    nren, eren = _attribute_renames(nodes, edges, columns, file, found)
    ids = [_key_text(k) for k, _ in nodes]
    node_recs = []
    for k, ((key, attrs), nid) in enumerate(zip(nodes, ids)):
        rec = {"id": nid}
        for col, v in attrs.items():
            col = nren.get(col, col)
            if col == "id":
                if not is_missing(v) and _key_text(v) != nid:
                    found.append(LocatedProblem("node attribute 'id' differs from the node's key", file=file, row=k,
                                                where=f"node {nid!r}", column="id", value=v))
                continue
            rec[col] = v
        node_recs.append(rec)
    ends = []
    edge_recs = []
    for k, (u, v, attrs) in enumerate(edges):
        d, c = _key_text(u), _key_text(v)
        ends.append((d, c))
        rec = {"debtor": d, "creditor": c}
        for col, val in attrs.items():
            col = eren.get(col, col)
            if col in ("debtor", "creditor"):
                if not is_missing(val) and _key_text(val) != rec[col]:
                    found.append(LocatedProblem(f"edge attribute '{col}' differs from the edge's "
                                                f"{'source' if col == 'debtor' else 'target'}", file=file, row=k,
                                                where=f"edge {k} ({d!r} -> {c!r})", column=col, value=val))
                continue
            rec[col] = val
        edge_recs.append(rec)
    if edge_recs and not any("amount" in rec or "principal" in rec for rec in edge_recs):  # debt: DESIGN §7
        others = sorted({str(c) for rec in edge_recs for c in rec} - {"debtor", "creditor"})
        guess = next((c for c in ("weight", "value", "amount_usd", "exposure") if c in others), None)
        hint = "" if guess is None else (f"; read it as the amount with --columns amount={guess} (Python: "
                                         f"columns={{'amount': '{guess}'}})" if file else
                                         "; rename it: the amounts are the attribute 'amount'")
        found.append(LocatedProblem(f"no edge has an 'amount' attribute (edge attributes found: "
                                    f"{', '.join(others) or 'none'}){hint}", file=file, where="edges",
                                    column="amount"))
        raise InvalidNetworkError(found)
    node_cols = ["id", *(c for c in (node_columns or ()) if c != "id")]
    edge_cols = ["debtor", "creditor", *(c for c in (edge_columns or ()) if c not in ("debtor", "creditor"))]
    if not edge_recs:
        edge_cols += [c for c in ("amount",) if c not in edge_cols]
    nodes_df = frame_from_records(node_recs, node_cols)
    edges_df = frame_from_records(edge_recs, edge_cols)
    return build_network(
        nodes_df, edges_df, file=file,
        node_at=lambda k: f"node {ids[k]!r}",
        edge_at=lambda k: f"edge {k} ({ends[k][0]!r} -> {ends[k][1]!r})",
        problems=found, skip_rows=skip, metadata=metadata,
    )


# ---------------------------------------------------------------------- networkx
def to_networkx(net: FinancialNetwork) -> "networkx.MultiDiGraph":
    """A ``networkx.MultiDiGraph`` holding every column of the node and edge tables.

    Examples
    --------
    >>> import contagion
    >>> G = to_networkx(contagion.load_dataset("chain"))
    >>> list(G.nodes(data="external_assets"))
    [('A', 5.0), ('B', 6.0), ('C', 0.5)]
    >>> list(G.edges(keys=True, data="amount"))
    [('A', 'B', 0, 10.0), ('B', 'C', 1, 10.0)]
    """
    import networkx as nx

    G = nx.MultiDiGraph()
    G.graph.update(dict(net.metadata))
    nodes = net.nodes
    node_cols = [c for c in nodes.columns if c != "id"]
    G.add_nodes_from(zip(nodes["id"].tolist(), frame_records(nodes, node_cols)))
    edges = net.edges
    edge_cols = [c for c in edges.columns if c not in ("debtor", "creditor")]
    G.add_edges_from((d, c, k, attrs) for k, (d, c, attrs) in
                     enumerate(zip(edges["debtor"].tolist(), edges["creditor"].tolist(),
                                   frame_records(edges, edge_cols))))
    return G


def ordered_edges(G: "networkx.Graph") -> list[tuple[Any, Any, Mapping[str, Any]]]:
    """The edges of ``G`` as ``(u, v, attrs)``: by key if all keys are distinct integers, else as iterated."""
    if not G.is_multigraph():
        return [(u, v, d) for u, v, d in G.edges(data=True)]
    items = list(G.edges(keys=True, data=True))
    keys = [k for _, _, k, _ in items]
    if all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys) and len(set(keys)) == len(keys):
        items.sort(key=lambda item: item[2])
    return [(u, v, d) for u, v, _, d in items]


def from_networkx(graph: "networkx.Graph", *, metadata: Mapping[str, Any] | None = None) -> FinancialNetwork:
    """A :class:`FinancialNetwork` from a directed networkx graph (inverse of :func:`to_networkx`).

    Parameters
    ----------
    graph : networkx.DiGraph or networkx.MultiDiGraph
        Edges u -> v mean "u owes v" and need an ``amount`` attribute.
    metadata : mapping, optional
        Default: ``graph.graph``.

    Examples
    --------
    >>> import networkx as nx
    >>> from contagion.io.bridges import from_networkx
    >>> G = nx.DiGraph()
    >>> G.add_node("bank", external_assets=10.0)
    >>> G.add_edge("bank", "fund", amount=4.0, kind="loan")
    >>> net = from_networkx(G)
    >>> net.names, net.total_obligations.tolist()
    (('bank', 'fund'), [4.0, 0.0])
    """
    if not graph.is_directed():
        raise InvalidNetworkError(Problem("the graph is undirected; an obligation has a direction (debtor -> "
                                          "creditor): use a networkx DiGraph or MultiDiGraph"))
    meta = dict(graph.graph) if metadata is None else dict(metadata)
    return network_from_graph_items(list(graph.nodes(data=True)), ordered_edges(graph), metadata=meta)


# ---------------------------------------------------------------------- igraph
def to_igraph(net: FinancialNetwork) -> "igraph.Graph":
    """A directed ``igraph.Graph``: vertex attributes ``id`` + node columns, edge attributes = edge columns.

    Examples
    --------
    >>> import contagion
    >>> g = to_igraph(contagion.load_dataset("chain"))
    >>> g.vs["id"], g.es["amount"], g.get_edgelist()
    (['A', 'B', 'C'], [10.0, 10.0], [(0, 1), (1, 2)])
    """
    import igraph as ig

    di, ci = net.edge_index
    g = ig.Graph(n=net.n, edges=list(zip(di.tolist(), ci.tolist())), directed=True)
    nodes = net.nodes
    for col in nodes.columns:
        g.vs[str(col)] = _column_values(nodes, col)
    edges = net.edges
    for col in edges.columns:
        if col not in ("debtor", "creditor"):
            g.es[str(col)] = _column_values(edges, col)
    for key, value in net.metadata.items():
        g[str(key)] = value
    return g


def _column_values(df: Any, col: str) -> list[Any]:
    return [rec[col] for rec in frame_records(df, [col])]


def from_igraph(graph: "igraph.Graph", *, metadata: Mapping[str, Any] | None = None) -> FinancialNetwork:
    """A :class:`FinancialNetwork` from a directed igraph graph (inverse of :func:`to_igraph`).

    Examples
    --------
    >>> import igraph as ig
    >>> from contagion.io.bridges import from_igraph
    >>> g = ig.Graph(n=2, edges=[(0, 1)], directed=True)
    >>> g.vs["name"] = ["bank", "fund"]
    >>> g.es["amount"] = [4.0]
    >>> from_igraph(g).ids
    ('bank', 'fund')
    """
    if not graph.is_directed():
        raise InvalidNetworkError(Problem("the graph is undirected; an obligation has a direction (debtor -> "
                                          "creditor): use a directed igraph.Graph"))
    vattrs = graph.vs.attributes()
    if "id" in vattrs:
        keys = list(graph.vs["id"])
    elif "name" in vattrs:
        keys = list(graph.vs["name"])
    else:
        keys = [str(i) for i in range(graph.vcount())]
    node_attrs = {a: graph.vs[a] for a in vattrs if a != "id"}
    nodes = [(keys[i], {a: vals[i] for a, vals in node_attrs.items()}) for i in range(graph.vcount())]
    eattrs = graph.es.attributes()
    edge_attrs = {a: graph.es[a] for a in eattrs}
    edges = [(keys[u], keys[v], {a: vals[k] for a, vals in edge_attrs.items()})
             for k, (u, v) in enumerate(graph.get_edgelist())]
    meta = {a: graph[a] for a in graph.attributes()} if metadata is None else dict(metadata)
    return network_from_graph_items(nodes, edges, metadata=meta, node_columns=[a for a in vattrs if a != "id"],
                                    edge_columns=eattrs)
