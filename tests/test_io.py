"""Reading and writing networks: every format and both graph bridges round-trip without loss,
readers locate every problem, and writers never leave half a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import contagion
from contagion import FinancialNetwork, InvalidNetworkError
from contagion.errors import ContagionError
from contagion.io import FORMATS, read_network, write_network
from contagion.io.bridges import from_igraph, from_networkx, to_igraph, to_networkx
from contagion.io.formats import detect_format

#: the file or directory name each format is written to
TARGET = {"csv": "net", "json": "net.json", "graphml": "net.graphml", "parquet": "net.parquet"}


def rich_network() -> FinancialNetwork:
    """Every kind of column a user may bring: text with gaps, integers, floats with gaps, booleans;
    two obligations between one pair (a loan and a lease); edges not grouped by debtor; a forced default."""
    nodes = pd.DataFrame({
        "id": ["lab", "cloud", "fund", "spv"],
        "name": ["AI Lab", "Hyperscaler, Inc.", "Credit Fund \u00e9", "DC SPV"],
        "type": ["ai_lab", "hyperscaler", "private_credit", "spv"],
        "external_assets": [12.5, 300.0, 0.1 + 0.2, 0.0],
        "external_liabilities": [1.0, 50.0, 0.0, 2.0],
        "country": ["US", None, "LU", "US"],
        "founded": [2015, 2006, 2019, 2024],
        "rating": [np.nan, 0.93, 0.5, 1e-7],
        "listed": [False, True, False, False],
    })
    edges = pd.DataFrame({
        "debtor": ["lab", "spv", "lab", "fund", "cloud"],
        "creditor": ["cloud", "fund", "cloud", "spv", "lab"],
        "amount": [10.0, 7.25, 4.0, 1e-3, 2.0],
        "kind": ["compute_contract", "loan", "lease", "equity_commitment", "credit_facility"],
        "term_years": [5, 7, 3, 10, 1],
        "source": ["10-K 2024", None, "press release", "filing", "news"],
        "contingent": [False, False, False, True, False],
    })
    net = FinancialNetwork.from_edges(edges, nodes, metadata={"title": "rich", "year": 2025, "notes": ["a", "b"]})
    return net.replace(forced_default=np.array([False, False, False, True]),
                       forced_recovery=np.array([0.0, 0.0, 0.0, 0.25]))


def assert_same_network(a: FinancialNetwork, b: FinancialNetwork) -> None:
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.edges, b.edges)
    assert (a.liabilities != b.liabilities).nnz == 0
    np.testing.assert_array_equal(a.external_assets, b.external_assets)
    np.testing.assert_array_equal(a.forced_default, b.forced_default)
    np.testing.assert_array_equal(a.forced_recovery, b.forced_recovery)


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_round_trip_keeps_every_column_order_and_multi_edge(tmp_path, fmt):
    net = rich_network()
    out = write_network(net, tmp_path / TARGET[fmt])
    assert detect_format(out) == fmt
    back = read_network(out)
    assert_same_network(net, back)
    assert back.edges["kind"].tolist()[:3] == ["compute_contract", "loan", "lease"]  # file order, not grouped
    assert back.nodes.loc[1, "name"] == "Hyperscaler, Inc." and back.nodes.loc[2, "external_assets"] == 0.1 + 0.2
    assert back.metadata["source"] == str(out)
    # and once more: what was read writes the same tables again
    assert_same_network(back, read_network(write_network(back, tmp_path / ("again-" + TARGET[fmt]))))


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_metadata_round_trip(tmp_path, fmt):
    back = read_network(write_network(rich_network(), tmp_path / TARGET[fmt]))
    assert {k: v for k, v in back.metadata.items() if k != "source"} == {
        "title": "rich", "year": 2025, "notes": ["a", "b"]}


def test_graphml_metadata_keeps_scalars_and_stores_the_rest_as_json(tmp_path):
    back = read_network(write_network(rich_network(), tmp_path / "n.graphml"))
    assert back.metadata["title"] == "rich" and back.metadata["year"] == 2025
    assert json.loads(back.metadata["notes"]) == ["a", "b"]


def test_provenance_is_not_written(tmp_path):
    net = contagion.load_dataset("chain")
    assert net.metadata["dataset"] == "chain"
    doc = json.loads((write_network(net, tmp_path / "c.json")).read_text(encoding="utf-8"))
    assert doc["metadata"] == {} and list(doc) == ["nodes", "edges", "metadata"]
    back = read_network(tmp_path / "c.json")
    assert "dataset" not in back.metadata and back.metadata["source"] == str(tmp_path / "c.json")


def test_json_layout_is_the_csv_columns(tmp_path):
    net = contagion.load_dataset("chain")
    doc = json.loads(write_network(net, tmp_path / "c.json").read_text(encoding="utf-8"))
    assert doc["nodes"][1] == {"id": "B", "name": "B", "type": "bank", "external_assets": 6.0,
                               "external_liabilities": 5.0}
    assert doc["edges"] == [{"debtor": "A", "creditor": "B", "amount": 10.0, "kind": "loan"},
                            {"debtor": "B", "creditor": "C", "amount": 10.0, "kind": "loan"}]


def test_csv_type_inference_of_extra_columns(tmp_path):
    d = tmp_path / "n"
    d.mkdir()
    (d / "nodes.csv").write_text("id,code,score,count,flag,mixed\nA,007,1.5,3,true,1\nB,010,,4,FALSE,x\n")
    (d / "edges.csv").write_text("debtor,creditor,amount\nA,B,1\n")
    nodes = read_network(d).nodes
    assert nodes["code"].tolist() == ["007", "010"]  # leading zeros: text
    assert nodes["score"].dtype == np.float64 and np.isnan(nodes.loc[1, "score"])
    assert nodes["count"].dtype == np.int64 and nodes["flag"].tolist() == [True, False]
    assert nodes["mixed"].tolist() == ["1", "x"]


@pytest.mark.parametrize("nodes, edges, expected", [
    ("id,external_assets\nA,nan\nB,1\n", "debtor,creditor,amount\nA,B,1\n",
     "nodes.csv, row 2, column 'external_assets': not a finite number (value: 'nan')"),
    ("id,external_assets,external_liabilities\nA,1,-NaN\nB,1,0\n", "debtor,creditor,amount\nA,B,1\n",
     "nodes.csv, row 2, column 'external_liabilities': not a finite number (value: '-NaN')"),
    ("id\nA\nB\n", "debtor,creditor,amount,rate,principal,maturity\nA,B,5,nan,100,2028\n",
     "edges.csv, row 2, column 'rate': must be a finite number >= 0, got 'nan'"),
    ("id\nA\nB\n", "debtor,creditor,amount,rate,principal,maturity\nA,B,,0.05,nan,2028\n",
     "edges.csv, row 2, column 'principal': must be a finite number >= 0, got 'nan'"),
    ("id\nA\nB\n", "edge_id,debtor,creditor,amount,seniority\ne1,A,B,5,nan\n",
     "edges.csv, row 2, column 'seniority': must be a whole number >= 1 (1 = paid first), got 'nan'"),
    ("id\nA\nB\n", "edge_id,debtor,creditor,amount,collateral_value\ne1,A,B,5,NaN\n",
     "edges.csv, row 2, column 'collateral_value': must be a finite number >= 0, got 'NaN'"),
])
def test_the_text_nan_in_a_number_column_is_an_error_not_a_blank(tmp_path, nodes, edges, expected):
    """'nan' (numpy's savetxt writes it) was read as a blank cell: outside assets 0, no interest, seniority 1."""
    d = tmp_path / "n"
    d.mkdir()
    (d / "nodes.csv").write_text(nodes)
    (d / "edges.csv").write_text(edges)
    with pytest.raises(InvalidNetworkError) as err:
        contagion.clear_path(read_network(d), (2026, 2026)) if "rate" in edges or "principal" in edges \
            else contagion.clear(read_network(d))
    assert expected in str(err.value)


def test_csv_written_by_hand_with_quotes_bom_crlf_and_spaces_in_header(tmp_path):
    d = tmp_path / "n"
    d.mkdir()
    (d / "nodes.csv").write_bytes(b'\xef\xbb\xbfid , name\r\nA,"Acme, ""Inc."""\r\nB,"two\r\nlines"\r\n')
    (d / "edges.csv").write_text("debtor,creditor,amount\nA,B, 1000 \n")
    net = read_network(d)
    assert net.names == ('Acme, "Inc."', "two\r\nlines") and net.edges["amount"].tolist() == [1000.0]


@pytest.mark.parametrize("sep, what", [(";", "semicolon"), ("\t", "tab")])
def test_csv_with_another_separator_is_one_problem_per_file_saying_what_to_do(tmp_path, sep, what):
    """A spreadsheet's semicolon-separated export (decimal commas) was reported as eight problems, the first
    "column 'id': required column is missing" -- the one `run` shows; the cause is now the only problem of each
    file, nodes first."""
    d = tmp_path / "n"
    d.mkdir()
    (d / "nodes.csv").write_text(f"id{sep}name{sep}external_assets\nA{sep}Alpha{sep}10,5\nB{sep}Beta{sep}0\n")
    (d / "edges.csv").write_text(f"debtor{sep}creditor{sep}amount\nA{sep}B{sep}20,0\n")
    with pytest.raises(InvalidNetworkError) as info:
        read_network(d)
    problems = info.value.problems
    assert [(Path(p.file).name, p.row) for p in problems] == [("nodes.csv", 1), ("edges.csv", 1)]
    assert f"the file looks {what}-separated" in str(problems[0]) and "save it as CSV (comma delimited)" in str(
        problems[0])
    assert problems[1].value == f"debtor{sep}creditor{sep}amount"


def test_write_csv_floats_are_exact_and_short(tmp_path):
    net = FinancialNetwork.from_matrix([[0, 0.1], [1 / 3, 0]], external_assets=[0.1 + 0.2, 5])
    out = write_network(net, tmp_path / "m")
    assert "0.30000000000000004" in (out / "nodes.csv").read_text() and ",0.1," in (out / "edges.csv").read_text()
    assert_same_network(net, read_network(out))


def test_from_matrix_network_round_trips(tmp_path):
    net = FinancialNetwork.from_matrix([[0, 2, 0], [0, 0, 3], [1, 0, 0]], external_assets=[1, 2, 3])
    for fmt in FORMATS:
        assert_same_network(net, read_network(write_network(net, tmp_path / TARGET[fmt])))


# ---------------------------------------------------------------------- bridges
def test_to_networkx_layout():
    net = rich_network()
    G = to_networkx(net)
    assert isinstance(G, nx.MultiDiGraph)
    assert list(G.nodes) == ["lab", "cloud", "fund", "spv"]
    assert G.nodes["cloud"] == {"name": "Hyperscaler, Inc.", "type": "hyperscaler", "external_assets": 300.0,
                                "external_liabilities": 50.0, "country": None, "founded": 2006, "rating": 0.93,
                                "listed": True, "forced_default": False, "forced_recovery": 0.0}
    # two obligations lab -> cloud (debtor -> creditor), keyed by their row
    assert G.number_of_edges("lab", "cloud") == 2
    assert G.edges["lab", "cloud", 2] == {"amount": 4.0, "kind": "lease", "term_years": 3,
                                          "source": "press release", "contingent": False}
    assert G.graph["title"] == "rich"


@pytest.mark.parametrize("bridge", ["networkx", "igraph"])
def test_bridge_round_trip_loses_nothing(bridge):
    net = rich_network()
    to, back = {"networkx": (to_networkx, from_networkx), "igraph": (to_igraph, from_igraph)}[bridge]
    again = back(to(net))
    assert_same_network(net, again)
    assert again.metadata == dict(net.metadata)
    # contagion.io exports the same functions (the network itself knows nothing of io)
    import contagion.io

    assert getattr(contagion.io, f"to_{bridge}") is to and getattr(contagion.io, f"from_{bridge}") is back
    assert not hasattr(FinancialNetwork, f"to_{bridge}")


def test_to_igraph_layout():
    g = to_igraph(rich_network())
    assert g.is_directed() and g.vs["id"] == ["lab", "cloud", "fund", "spv"]
    assert g.vs["name"][1] == "Hyperscaler, Inc."
    assert g.get_edgelist() == [(0, 1), (3, 2), (0, 1), (2, 3), (1, 0)]
    assert g.es["term_years"] == [5, 7, 3, 10, 1] and "debtor" not in g.es.attributes()


def test_from_networkx_digraph_and_plain_multidigraph():
    G = nx.DiGraph()
    G.add_node("b", external_assets=2.0, type="bank")
    G.add_edge("a", "b", amount=3.0)
    net = from_networkx(G)
    assert net.ids == ("b", "a") and net.types.tolist() == ["bank", "institution"]
    np.testing.assert_array_equal(net.total_obligations, [0.0, 3.0])
    M = nx.MultiDiGraph()
    M.add_edge("a", "b", amount=1.0, kind="loan")
    M.add_edge("a", "b", amount=2.0, kind="lease")  # key 1 of this pair; keys not distinct overall
    M.add_edge("b", "a", amount=5.0)
    edges = from_networkx(M).edges
    assert edges[["debtor", "creditor", "amount", "kind"]].values.tolist() == [
        ["a", "b", 1.0, "loan"], ["a", "b", 2.0, "lease"], ["b", "a", 5.0, "obligation"]]


def test_from_igraph_ids_from_name_or_index():
    import igraph as ig

    g = ig.Graph(n=3, edges=[(2, 0), (0, 1)], directed=True)
    g.es["amount"] = [1.0, 2.0]
    assert from_igraph(g).ids == ("0", "1", "2")
    g.vs["name"] = ["x", "y", "z"]
    net = from_igraph(g)
    assert net.ids == ("x", "y", "z") and net.edges["debtor"].tolist() == ["z", "x"]


def test_bridges_refuse_undirected_graphs():
    import igraph as ig

    with pytest.raises(InvalidNetworkError, match="undirected"):
        from_networkx(nx.Graph([("a", "b")]))
    with pytest.raises(InvalidNetworkError, match="undirected"):
        from_igraph(ig.Graph(n=2, edges=[(0, 1)]))


def test_from_networkx_problems_are_located_by_node_and_edge():
    G = nx.MultiDiGraph()
    G.add_node("a", id="not-a")
    G.add_edge("a", "b", amount=-1.0)
    G.add_edge("b", "b", amount=1.0)
    G.add_edge("b", "a", amount="x", creditor="zzz")
    with pytest.raises(InvalidNetworkError) as info:
        from_networkx(G)
    assert [str(p) for p in info.value.problems] == [
        "node 'a', column 'id': node attribute 'id' differs from the node's key (value: 'not-a')",
        "edge 2 ('b' -> 'a'), column 'creditor': edge attribute 'creditor' differs from the edge's target "
        "(value: 'zzz')",
        "edge 0 ('a' -> 'b'), column 'amount': negative amount (value: -1.0)",
        "edge 1 ('b' -> 'b'), column 'creditor': self-loop: an institution cannot owe itself (value: 'b')",
        "edge 2 ('b' -> 'a'), column 'amount': not a number (value: 'x')",
    ]


def test_from_networkx_without_amount_names_the_attributes_found():
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=3.0)
    with pytest.raises(InvalidNetworkError, match=r"no edge has an 'amount' attribute \(edge attributes found: "
                                                  r"weight\); rename it: the amounts are the attribute 'amount'"):
        from_networkx(G)


def test_a_networkx_graphml_export_is_pointed_to_columns(tmp_path):
    from click.testing import CliRunner

    from contagion.cli import cli

    G = nx.DiGraph()
    G.add_edge("a", "b", weight=3.0)
    nx.write_graphml(G, tmp_path / "g.graphml")
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "g.graphml")])
    assert res.exit_code == 1
    assert res.stderr.strip().endswith("no edge has an 'amount' attribute (edge attributes found: weight); read it "
                                       "as the amount with --columns amount=weight (Python: columns={'amount': "
                                       "'weight'})")
    ok = CliRunner().invoke(cli, ["run", str(tmp_path / "g.graphml"), "--columns", "amount=weight", "--baseline",
                                  "-f", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["institutions"][0]["obligations"] == 3.0


# ---------------------------------------------------------------------- JSON problems
def json_problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidNetworkError) as info:
        read_network(path)
    return [str(p).replace(str(path), "F") for p in info.value.problems]


def test_json_malformed_names_line_and_column(tmp_path):
    assert json_problems(tmp_path, '{"nodes": [\n  {"id": "A"},\n], "edges": []}') == [
        "F, line 3, column 1: malformed JSON: Expecting value"]


def test_json_positions_are_json_paths(tmp_path):
    doc = {"nodes": [{"id": "A"}, {"id": "B", "external_assets": "abc"}, {"id": "A"}, {"id": "C"}],
           "edges": [{"debtor": "A", "creditor": "B", "amount": 1}, {"debtor": "B", "creditor": "Q", "amount": -2}]}
    assert json_problems(tmp_path, json.dumps(doc)) == [
        "F, nodes[1], column 'external_assets': not a number (value: 'abc')",
        "F, nodes[2], column 'id': duplicate id (first seen at nodes[0]) (value: 'A')",
        "F, edges[1], column 'amount': negative amount (value: -2)",
        "F, edges[1], column 'creditor': unknown institution id (not in the node table) (value: 'Q')",
    ]


def test_json_structure_problems_are_all_listed(tmp_path):
    text = ('{"nodes": [{"id": "A", "id": "B"}, 7, {"id": "C", "tags": ["x"]}, {"id": "D", '
            '"external_assets": NaN}], "edges": {}, "graph": 1}')
    assert json_problems(tmp_path, text) == [
        "F, top level, column 'graph': unknown top-level key (allowed: nodes, edges, metadata; put anything else "
        "under metadata) (value: 'graph')",
        "F, nodes[0], column 'id': key appears more than once in this object",
        "F, nodes[1]: expected an object, got number (value: '7')",
        "F, nodes[2], column 'tags': value must be a string, number, boolean or null (value: '[\"x\"]')",
        "F, edges: expected a list of objects, got object (value: '{}')",
        "F, nodes[3], column 'external_assets': not a finite number (value: 'NaN')",
    ]


def test_json_missing_sections_and_empty_network(tmp_path):
    assert json_problems(tmp_path, '{"nodes": [{"id": "A"}]}') == [
        "F, top level, column 'edges': required key 'edges' is missing"]
    assert json_problems(tmp_path, '{"nodes": [], "edges": []}') == [
        "F, nodes: the network is empty (no institutions)"]
    assert json_problems(tmp_path, '[1, 2]') == [
        "F, top level: expected a JSON object with keys nodes, edges, metadata; got array"]


# ---------------------------------------------------------------------- GraphML
GRAPHML = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="k0" for="node" attr.name="external_assets" attr.type="double"><default>1.5</default></key>
  <key id="k1" for="node" attr.name="type" attr.type="string"/>
  <key id="k2" for="edge" attr.name="amount" attr.type="double"/>
  <key id="k3" for="edge" attr.name="kind" attr.type="string"/>
  <key id="k4" for="edge" attr.name="term_years" attr.type="int"/>
  <graph edgedefault="directed">
    <node id="A"><data key="k0">10</data><data key="k1">lab</data></node>
    <node id="B"><data key="k1">cloud</data></node>
    <node id="C"/>
    {edges}
  </graph>
</graphml>
"""


def graphml_file(tmp_path, edges: str, name: str = "g.graphml") -> Path:
    path = tmp_path / name
    path.write_text(GRAPHML.replace("{edges}", edges), encoding="utf-8")
    return path


def graphml_problems(tmp_path, text: str) -> list[str]:
    path = tmp_path / "bad.graphml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidNetworkError) as info:
        read_network(path)
    return [str(p).replace(str(path), "F") for p in info.value.problems]


def test_graphml_written_elsewhere_keeps_document_order_and_defaults(tmp_path):
    # no edge ids, a multi-edge, edges not grouped by source: rows follow the document
    path = graphml_file(tmp_path, """
    <edge source="A" target="B"><data key="k2">1</data><data key="k3">loan</data></edge>
    <edge source="C" target="A"><data key="k2">2</data></edge>
    <edge source="A" target="B"><data key="k2">3</data><data key="k3">lease</data><data key="k4">4</data></edge>""")
    net = read_network(path)
    assert net.ids == ("A", "B", "C")
    np.testing.assert_array_equal(net.external_assets, [10.0, 1.5, 1.5])  # <default> fills B and C
    assert net.edges[["debtor", "creditor", "amount", "kind"]].values.tolist() == [
        ["A", "B", 1.0, "loan"], ["C", "A", 2.0, "obligation"], ["A", "B", 3.0, "lease"]]
    assert net.edges["term_years"].tolist()[2] == 4 and pd.isna(net.edges["term_years"].tolist()[0])
    assert list(net.nodes.columns) == ["id", "name", "type", "external_assets", "external_liabilities"]


def test_graphml_from_networkx_writer_and_sniffing_without_suffix(tmp_path):
    G = nx.DiGraph()
    G.add_node("x", external_assets=3.0)
    G.add_edge("x", "y", amount=2.0)
    nx.write_graphml(G, tmp_path / "export")
    assert detect_format(tmp_path / "export") == "graphml"
    net = read_network(tmp_path / "export")
    assert net.edges.to_dict("records") == [{"debtor": "x", "creditor": "y", "amount": 2.0, "kind": "obligation"}]


def test_graphml_malformed_xml(tmp_path):
    assert graphml_problems(tmp_path, '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n<graph>\n'
                                      '<node id="A">\n</graph></graphml>') == [
        "F, line 4, column 3: malformed XML: mismatched tag"]


def test_graphml_structure_and_content_problems_all_listed(tmp_path):
    text = GRAPHML.replace('<node id="C"/>', '<node id="C"><data key="k0">lots</data></node><node id="A"/>')
    text = text.replace("{edges}", """
    <edge source="A" target="B"><data key="k2">-1</data></edge>
    <edge source="A" target="Z"><data key="k2">1</data></edge>
    <edge source="B" target="B"><data key="k2">2</data><data key="k4">2.5</data></edge>
    <edge source="B" target="C"/>""")
    assert graphml_problems(tmp_path, text) == [
        "F, node 'C', column 'external_assets': not a valid float (value: 'lots')",
        "F, node 'A', column 'id': duplicate node id (first at node 0) (value: 'A')",
        "F, edge 1 ('A' -> 'Z'), column 'creditor': unknown node id (no <node> declares it) (value: 'Z')",
        "F, edge 2 ('B' -> 'B'), column 'term_years': not a valid int (value: '2.5')",
        "F, edge 0 ('A' -> 'B'), column 'amount': negative amount (value: -1.0)",
        "F, edge 2 ('B' -> 'B'), column 'creditor': self-loop: an institution cannot owe itself (value: 'B')",
        "F, edge 3 ('B' -> 'C'), column 'amount': value is missing (value: '')",
    ]


def test_graphml_undirected_and_duplicate_edge_ids(tmp_path):
    text = GRAPHML.replace('edgedefault="directed"', 'edgedefault="undirected"').replace("{edges}", """
    <edge id="e" source="A" target="B"><data key="k2">1</data></edge>
    <edge id="e" source="A" target="B"><data key="k2">2</data></edge>""")
    assert graphml_problems(tmp_path, text) == [
        "F, graph: the graph is undirected; an obligation has a direction: use edgedefault=\"directed\" "
        "(value: 'undirected')",
        "F, edge 1 ('A' -> 'B'), column 'id': duplicate edge id (first at edge 0) (value: 'e')",
    ]


def test_graphml_writer_refuses_values_it_cannot_type(tmp_path):
    net = FinancialNetwork.from_edges(pd.DataFrame({"debtor": ["a", "b"], "creditor": ["b", "a"], "amount": [1, 2],
                                                    "mixed": [1, "one"]}))
    with pytest.raises(InvalidNetworkError, match="one type per column; this column mixes int, str"):
        write_network(net, tmp_path / "m.graphml")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- Parquet
def test_parquet_problems_use_row_indices(tmp_path):
    d = tmp_path / "bad.parquet"
    d.mkdir()
    pd.DataFrame({"id": ["A", "A", "B"], "external_assets": [1.0, -2.0, 3.0]}).to_parquet(d / "nodes.parquet")
    pd.DataFrame({"debtor": ["A"], "creditor": ["Q"], "amount": ["x"]}).to_parquet(d / "edges.parquet")
    with pytest.raises(InvalidNetworkError) as info:
        read_network(d)
    assert [str(p).replace(str(d), "D") for p in info.value.problems] == [
        "D/nodes.parquet, row index 1, column 'id': duplicate id (first seen at row index 0) (value: 'A')",
        "D/nodes.parquet, row index 1, column 'external_assets': negative amount (value: -2.0)",
        "D/edges.parquet, row index 0, column 'amount': not a number (value: 'x')",
        "D/edges.parquet, row index 0, column 'creditor': unknown institution id (not in the node table) "
        "(value: 'Q')",
    ]


def test_parquet_without_pyarrow_says_so(tmp_path, monkeypatch):
    import contagion.io.parquet as parquet

    def no_pyarrow(name):  # what importing an absent package does (pandas itself still has pyarrow)
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.setattr(parquet, "import_module", no_pyarrow)
    with pytest.raises(ContagionError, match=r'optional dependency pyarrow: pip install "contagion\[parquet\]"'):
        write_network(contagion.load_dataset("chain"), tmp_path / "c.parquet")
    assert not (tmp_path / "c.parquet").exists() or list((tmp_path / "c.parquet").iterdir()) == []


# ---------------------------------------------------------------------- format detection
def test_detect_format(tmp_path):
    assert [detect_format(tmp_path / n) for n in ("a.json", "a.JSON", "a.graphml", "a.parquet", "newdir")] == [
        "json", "json", "graphml", "parquet", "csv"]
    net = contagion.load_dataset("chain")
    write_network(net, tmp_path / "data.json")
    os.rename(tmp_path / "data.json", tmp_path / "data")
    assert detect_format(tmp_path / "data") == "json" and read_network(tmp_path / "data").names == ("A", "B", "C")
    both = write_network(net, tmp_path / "both")
    write_network(net, both, format="parquet")
    with pytest.raises(ContagionError, match="could be csv or parquet"):
        read_network(both)
    assert read_network(both, format="parquet").names == ("A", "B", "C")
    with pytest.raises(ContagionError, match="cannot tell the network format"):
        write_network(net, tmp_path / "net.txt")
    with pytest.raises(ContagionError, match="unknown network format 'xml'"):
        write_network(net, tmp_path / "x", format="xml")


def test_read_missing_path_and_csv_file_instead_of_directory(tmp_path):
    with pytest.raises(InvalidNetworkError, match="no such file or directory"):
        read_network(tmp_path / "nope")
    (tmp_path / "edges.csv").write_text("debtor,creditor,amount\n")
    with pytest.raises(InvalidNetworkError, match="a CSV network is a directory holding nodes.csv and edges.csv"):
        read_network(tmp_path / "edges.csv")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "nodes.csv").write_text("id\nA\n")
    with pytest.raises(InvalidNetworkError) as info:
        read_network(tmp_path / "half")
    assert [(Path(p.file).name, p.message) for p in info.value.problems] == [("edges.csv", "file not found")]


@pytest.mark.parametrize("name, fmt", [("nodes.csv", "csv"), ("edges.csv", "csv"), ("nodes.parquet", "parquet"),
                                       ("edges.parquet", "parquet")])
def test_a_directory_where_a_network_file_is_expected_is_an_error(tmp_path, name, fmt):
    """A folder named nodes.csv is not a missing nodes.csv (institutions taken from the edges, outside amounts
    silently 0): an error naming it."""
    write_network(contagion.load_dataset("chain"), tmp_path / "net", format=fmt)
    (tmp_path / "net" / name).unlink()
    (tmp_path / "net" / name).mkdir()
    with pytest.raises(InvalidNetworkError) as info:
        read_network(tmp_path / "net", format=fmt)
    assert [(p.file, p.message) for p in info.value.problems] == [
        (str(tmp_path / "net" / name), f"is a directory, not a {'CSV ' if fmt == 'csv' else ''}file")]


# ---------------------------------------------------------------------- the §7/§8 columns of every format
def _columns_network() -> FinancialNetwork:
    """Valid as a network; bad in the columns read later: the dated columns (§7), the guarantee and seniority
    columns (§8), the fire-sale holdings."""
    edges = pd.DataFrame({"debtor": ["A", "B"], "creditor": ["B", "C"], "amount": [5.0, 4.0],
                          "principal": [100.0, None], "rate": [0.05, None], "maturity": [2027, None],
                          "amortization": ["bullet", "balloon"], "edge_id": ["e1", "g1"], "kind": ["loan", "guarantee"],
                          "covers": [None, "e9"], "seniority": [1, 0]})
    nodes = pd.DataFrame({"id": ["A", "B", "C"], "external_assets": [20.0, 0.0, 0.0], "asset_units": [-1.0, 0.0, 2.0]})
    return FinancialNetwork.from_edges(edges, nodes)


@pytest.mark.parametrize("fmt, edge, node", [
    ("csv", "{path}/edges.csv, row 3", "{path}/nodes.csv, row 2"),
    ("json", "{path}, edges[1]", "{path}, nodes[0]"),
    ("parquet", "{path}/edges.parquet, row index 1", "{path}/nodes.parquet, row index 0"),
    ("graphml", "{path}, edge 1 ('B' -> 'C')", "{path}, node 'A'"),
])
def test_problems_of_the_later_columns_are_located_as_the_format_says_rows(tmp_path, fmt, edge, node):
    """The dated, guarantee, seniority and holdings columns are located in the file the network was read from,
    as the reader locates its own problems (they named '<file>.json/edges.csv, row 2' for every format)."""
    from contagion.clearing.firesale import asset_holdings
    from contagion.clearing.priority import contingent_spec
    from contagion.paths import schedule_of

    path = tmp_path / ("net" if fmt in ("csv", "parquet") else f"net.{fmt}")
    write_network(_columns_network(), path, format=fmt)
    net = read_network(path, format=fmt)
    edge, node = edge.format(path=path), node.format(path=path)
    found = []
    for check in (schedule_of, contingent_spec, asset_holdings):
        with pytest.raises(InvalidNetworkError) as info:
            check(net)
        found += [str(p) for p in info.value.problems]
    assert found == [
        f"{edge}, column 'amortization': must be one of bullet, linear, got 'balloon'",
        f"{edge}, column 'seniority': must be a whole number >= 1 (1 = paid first), got 0",
        f"{edge}, column 'covers': covers 'e9': no obligation has this edge_id",
        f"{node}, column 'asset_units': must be a finite number >= 0 (units of the asset held), got -1.0"]


def test_a_row_named_in_a_message_is_named_as_the_format_says_it(tmp_path):
    from contagion.clearing.priority import contingent_spec

    net = FinancialNetwork.from_edges(pd.DataFrame({"debtor": ["A", "B"], "creditor": ["B", "C"], "amount": [5.0, 4.0],
                                                    "edge_id": ["e1", "e1"]}))
    write_network(net, tmp_path / "n.json")
    with pytest.raises(InvalidNetworkError) as info:
        contingent_spec(read_network(tmp_path / "n.json"))
    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path / 'n.json'}, edges[1], column 'edge_id': edge_id 'e1' is used twice (first on edges[0])"]


# ---------------------------------------------------------------------- atomic writes
def _failing_fsync(monkeypatch, fail_on_call: int) -> None:
    """Make the n-th ``os.fsync`` fail, as a full disk would, after the data went to the temporary file."""
    calls = {"n": 0}
    real = os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == fail_on_call:
            raise OSError(28, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_failed_write_leaves_old_files_and_no_temporary_file(tmp_path, monkeypatch, fmt):
    old = contagion.load_dataset("chain")
    target = write_network(old, tmp_path / TARGET[fmt])
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    before = {p: p.read_bytes() for p in files}
    # the last file's fsync fails: for the two-file formats the first file is complete by then
    _failing_fsync(monkeypatch, fail_on_call=1 if fmt in ("json", "graphml") else 2)
    with pytest.raises(OSError, match="(?i)no space left"):
        write_network(rich_network(), target)
    monkeypatch.undo()
    after = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert after == files  # no temporary file left behind
    assert {p: p.read_bytes() for p in after} == before  # nothing replaced, not even the first of a pair
    assert_same_network(read_network(target), old)


def test_failed_first_write_creates_no_file(tmp_path, monkeypatch):
    _failing_fsync(monkeypatch, fail_on_call=1)
    with pytest.raises(OSError):
        write_network(contagion.load_dataset("chain"), tmp_path / "new.json")
    assert list(tmp_path.iterdir()) == []


def test_long_text_is_written_in_slices_atomically(tmp_path, monkeypatch):
    from contagion.io import atomic

    monkeypatch.setattr(atomic, "_TEXT_SLICE", 7)
    text = "id,name\n" + "".join(f"n{k},Bänk ∑ {k}\n" for k in range(50))   # slices end inside multi-byte text
    target = tmp_path / "out.csv"
    target.write_text("old")
    assert atomic.write_text_atomic(target, text) == target
    assert target.read_bytes() == text.encode("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    _failing_fsync(monkeypatch, fail_on_call=1)
    with pytest.raises(OSError, match="(?i)no space left"):
        atomic.write_text_atomic(target, text.upper())
    monkeypatch.undo()
    assert target.read_bytes() == text.encode("utf-8")          # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_parts_are_synced_on_the_way_and_a_failing_maker_leaves_the_old_file(tmp_path, monkeypatch):
    """``write_parts_atomic`` syncs the staged file's data every ``SYNC_EVERY`` bytes while it reads the
    parts (a table made in other threads goes to disk as it is made), and a maker of parts that fails half
    way leaves the old file whole and no staged file behind."""
    from contagion.io import atomic

    monkeypatch.setattr(atomic, "SYNC_EVERY", 10)
    name = "fdatasync" if hasattr(os, "fdatasync") else "fsync"
    real, synced = getattr(os, name), []
    target = tmp_path / "out.csv"

    def counting(fd):
        synced.append(os.fstat(fd).st_size)
        return real(fd)

    monkeypatch.setattr(os, name, counting)
    parts = (np.frombuffer(f"r{k},x\n".encode(), dtype=np.uint8) for k in range(5))   # 5 parts of 5 bytes
    assert atomic.write_parts_atomic(target, parts) == target
    assert target.read_bytes() == b"".join(f"r{k},x\n".encode() for k in range(5))
    assert synced[:2] == [10, 20]                                # after the 2nd and 4th part, then at the end

    def failing():
        yield b"new,1\n"
        raise RuntimeError("the table could not be made")

    with pytest.raises(RuntimeError, match="could not be made"):
        atomic.write_parts_atomic(target, failing())
    assert target.read_bytes() == b"".join(f"r{k},x\n".encode() for k in range(5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_writing_a_directory_format_over_a_file_is_refused(tmp_path):
    (tmp_path / "x.parquet").write_text("not a directory")
    with pytest.raises(ContagionError, match="is a directory"):
        write_network(contagion.load_dataset("chain"), tmp_path / "x.parquet")
    assert (tmp_path / "x.parquet").read_text() == "not a directory"


def test_json_missing_and_nan_ids_are_reported_not_dropped(tmp_path):
    text = '{"nodes": [{"id": "A"}, {"id": null}, {"id": NaN}, {"name": "no id"}], "edges": []}'
    assert json_problems(tmp_path, text) == [
        "F, nodes[2], column 'id': NaN is a number, not an id (value: NaN)",
        "F, nodes[1], column 'id': value is missing (value: '')",
        "F, nodes[3], column 'id': value is missing (value: '')",
    ]


def test_csv_files_are_parsed_from_a_memory_map_and_read_when_they_cannot_be_mapped(tmp_path, monkeypatch):
    """The fast CSV reader parses a regular file where it lies (a read-only memory map, no copy); an empty
    file, or a system without mmap, is read instead; the network is the same either way."""
    import mmap

    from contagion.io import prefetch

    write_network(rich_network(), tmp_path / "net", format="csv")
    mapped = prefetch.file_bytes(tmp_path / "net" / "edges.csv")
    assert isinstance(mapped, mmap.mmap) and mapped[:] == (tmp_path / "net" / "edges.csv").read_bytes()
    (tmp_path / "empty.csv").write_bytes(b"")
    assert prefetch.file_bytes(tmp_path / "empty.csv") == b""
    seen = []
    original = prefetch.file_bytes
    monkeypatch.setattr(prefetch, "file_bytes", lambda p: seen.append(type(original(p))) or original(p))
    by_map = read_network(tmp_path / "net")
    assert seen == [mmap.mmap, mmap.mmap]                      # nodes.csv and edges.csv, both mapped

    def no_mmap(*args, **kwargs):
        raise OSError("mmap is not available here")

    monkeypatch.setattr(mmap, "mmap", no_mmap)
    assert original(tmp_path / "net" / "edges.csv") == (tmp_path / "net" / "edges.csv").read_bytes()
    by_read = read_network(tmp_path / "net")
    assert (by_read.liabilities != by_map.liabilities).nnz == 0
    pd.testing.assert_frame_equal(by_read.nodes, by_map.nodes)
    pd.testing.assert_frame_equal(by_read.edges, by_map.edges)


@pytest.mark.parametrize("header_quoted", [False, True])
@pytest.mark.parametrize("body_quoted", [False, True])
def test_quoted_headers_and_line_ends_inside_cells_read_by_arrow(tmp_path, monkeypatch, header_quoted, body_quoted):
    """Arrow's CSV reader parses line ends inside quoted cells only when told (a slower parse): it is told
    when the body holds a quote, not for a quoted header alone (the header pyarrow and others write)."""
    import pyarrow.csv as pacsv

    told = []
    real = pacsv.read_csv

    def spying(source, read_options=None, parse_options=None, convert_options=None, **kw):
        told.append(parse_options.newlines_in_values)
        return real(source, read_options=read_options, parse_options=parse_options,
                    convert_options=convert_options, **kw)

    monkeypatch.setattr(pacsv, "read_csv", spying)
    q = (lambda names: ",".join(f'"{n}"' for n in names)) if header_quoted else (lambda names: ",".join(names))
    note = '"first line\nsecond, line"' if body_quoted else "plain"
    d = tmp_path / "net"
    d.mkdir()
    (d / "nodes.csv").write_text(q(["id", "external_assets"]) + "\nA,5\nB,1\n", encoding="utf-8")
    (d / "edges.csv").write_text(q(["debtor", "creditor", "amount", "note"]) + f"\nA,B,2.5,{note}\nB,A,1,x\n",
                                 encoding="utf-8")
    net = read_network(d)
    assert told == [False, body_quoted]
    assert net.edges["note"].tolist() == (["first line\nsecond, line"] if body_quoted else ["plain"]) + ["x"]
    np.testing.assert_array_equal(net.liabilities.toarray(), [[0, 2.5], [1, 0]])


def test_a_spreadsheet_file_says_how_to_give_it(tmp_path):
    book = tmp_path / "banks.xlsx"
    book.write_bytes(b"PK\x03\x04")
    with pytest.raises(ContagionError, match=r"cannot tell the network format \(suffix '.xlsx'\).*; a spreadsheet: "
                                              r"save its two sheets as nodes.csv and edges.csv in a folder"):
        read_network(book)


# ---------------------------------------------------------------------- column names a little off
@pytest.mark.parametrize("table, header, row, meant, how", [
    ("edges", "debtor,creditor,amount,Seniority\nP,B,10,1\nP,C,10,2\n", "Seniority", "seniority", "only in case"),
    ("edges", "debtor,creditor,amount,seniorty\nP,B,10,1\nP,C,10,2\n", "seniorty", "seniority", "by one letter"),
    ("edges", "debtor,creditor,amount,max-ltv\nP,B,10,0.8\nP,C,10,0.8\n", "max-ltv", "max_ltv", "only in case"),
    ("edges", "debtor,creditor,amount,Covers\nP,B,10,\nP,C,10,\n", "Covers", "covers", "only in case"),
    ("nodes", "id,external_asets\nP,10\nB,0\nC,0\n", "external_asets", "external_assets", "by one letter"),
    ("nodes", "id,external_assets,External_Seniority\nP,10,1\nB,0,1\nC,0,1\n", "External_Seniority",
     "external_seniority", "only in case"),
])
def test_a_column_named_almost_like_a_known_one_is_an_error(write_net, table, header, row, meant, how):
    """Read as it is, the column would be an attribute and the known one would take its default: P's claims of
    10 and 10 at seniority 1 and 2 paid pro rata (B gets 5 of P's 10), outside assets 0."""
    from click.testing import CliRunner

    from contagion.cli import cli

    folder = write_net("id,external_assets\nP,10\nB,0\nC,0\n", "debtor,creditor,amount\nP,B,10\nP,C,10\n")
    (folder / f"{table}.csv").write_text(header)
    out = CliRunner().invoke(cli, ["run", str(folder)])
    assert out.exit_code == 1
    assert (f"{table}.csv, row 1, column '{row}': column name differs from the known column '{meant}' {how}"
            in out.output)


def test_columns_and_dataset_toml_name_only_what_contagion_reads(write_net):
    """--columns amout=kind and a dataset.toml key default_scenaro were accepted and did nothing."""
    from click.testing import CliRunner

    from contagion.cli import cli

    folder = write_net("id,external_assets\nP,10\nB,0\n", "debtor,creditor,amount,kind\nP,B,10,loan\n")
    out = CliRunner().invoke(cli, ["run", str(folder), "--columns", "amout=kind"])
    assert out.exit_code == 1 and "'amout' is not a column contagion reads (did you mean 'amount'?)" in out.output
    (folder / "dataset.toml").write_text('default_scenaro = "x"\n')
    out = CliRunner().invoke(cli, ["run", str(folder)])
    assert out.exit_code == 1
    assert "unknown key 'default_scenaro'; did you mean 'default_scenario'?" in out.output


def test_a_quote_left_open_is_located_not_swallowed(write_net):
    """A kind opened with a quote and never closed: Arrow's reader took the two rows after it into that cell (one
    obligation of three, validate OK). The file now goes to the strict reader, which locates the row."""
    folder = write_net("id,external_assets\nA,5\nB,0\nC,1\n",
                       'debtor,creditor,amount,kind\nA,B,10,"loan\nB,C,8,bond\nC,A,6,bond\n')
    with pytest.raises(InvalidNetworkError) as info:
        read_network(folder)
    problem = info.value.problems[0]
    assert str(problem.file).endswith("edges.csv") and problem.row == 2 and "cannot parse CSV" in str(problem)
    fine = write_net("id,external_assets\nA,5\nB,0\nC,1\n",
                     'debtor,creditor,amount,kind\nA,B,10,"loan, ""senior"""\nB,C,8,bond\nC,A,6,bond\n', name="ok")
    assert read_network(fine).edges["kind"].tolist() == ['loan, "senior"', "bond", "bond"]


def test_a_problem_in_a_mapped_column_names_the_files_column(write_net):
    """With --columns amount=weight a bad amount was reported in column 'amount', which the file does not have."""
    folder = write_net("bank_id,assets\nA,5\nB,0\nC,1\n", "source,target,weight\nA,B,10\nB,C,x\n")
    columns = {"debtor": "source", "creditor": "target", "amount": "weight", "id": "bank_id",
               "external_assets": "assets"}
    with pytest.raises(InvalidNetworkError) as info:
        read_network(folder, columns=columns)
    assert [(p.row, p.column, p.value) for p in info.value.problems] == [(3, "weight", "x")]


def test_long_whole_numbers_in_extra_columns_are_kept_exactly(write_net):
    """An account number of 16+ digits in an extra column became a float (9007199254740993 -> 9007199254740992.0,
    2^64 + 1 -> 1.8446744073709552e+19) and was written back changed. A column whose numbers its type cannot
    hold exactly stays text; one an int64 column holds stays whole numbers."""
    folder = write_net("id,external_assets,acct\nA,5,9007199254740993\nB,0,\nC,0,12345678901234567890123\n",
                       "debtor,creditor,amount,ref,big\nA,B,1,9007199254740993,18446744073709551617\n"
                       "A,C,1,9007199254740995,2\n")
    net = read_network(folder)
    assert net.nodes["acct"].tolist()[::2] == ["9007199254740993", "12345678901234567890123"]
    assert net.edges["ref"].tolist() == [9007199254740993, 9007199254740995] and net.edges["ref"].dtype == np.int64
    assert net.edges["big"].tolist() == ["18446744073709551617", "2"]
    contagion.write_network(net, folder.parent / "again")
    text = (folder.parent / "again" / "nodes.csv").read_text()
    assert "9007199254740993" in text and "12345678901234567890123" in text


def test_validate_lists_the_edge_problems_when_the_node_table_cannot_be_read(write_net):
    """An empty nodes.csv beside edges with a bad amount, a negative one and a self-loop: only the empty file was
    reported. Problems that need no node table are listed with it."""
    folder = write_net("", "debtor,creditor,amount\nA,B,abc\nB,B,-1\n")
    with pytest.raises(InvalidNetworkError) as info:
        read_network(folder)
    assert [(str(p.file).rsplit("/", 1)[-1], p.row, p.column) for p in info.value.problems] == [
        ("nodes.csv", None, None), ("edges.csv", 2, "amount"), ("edges.csv", 3, "amount"), ("edges.csv", 3, "creditor")]


def test_json_keeps_long_whole_numbers_in_extra_columns(tmp_path):
    """A JSON account number beside a missing one became a float (9007199254740993 -> 9007199254740992.0), one past
    int64 too; they stay the integers they are and are written back unchanged. Small whole numbers beside a
    missing one are still floats (3.0, NaN), as before."""
    doc = {"nodes": [{"id": "A", "external_assets": 5, "acct": 9007199254740993}, {"id": "B", "external_assets": 0}],
           "edges": [{"debtor": "A", "creditor": "B", "amount": 1, "ref": 18446744073709551617, "n": 3},
                     {"debtor": "B", "creditor": "A", "amount": 2, "ref": 7, "n": None}]}
    (tmp_path / "net.json").write_text(json.dumps(doc))
    net = read_network(tmp_path / "net.json")
    assert net.nodes["acct"].tolist() == [9007199254740993, None]
    assert net.edges["ref"].tolist() == [18446744073709551617, 7] and net.edges["n"].dtype == np.float64
    contagion.write_network(net, tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["nodes"][0]["acct"] == 9007199254740993 and again["edges"][0]["ref"] == 18446744073709551617
