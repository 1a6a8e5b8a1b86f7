"""Fast unit tests of the offline network view (contagion.viz); the real-browser tests are in test_browser.py.

Numbers of the core-periphery example are hand-derived from Glasserman & Young (2015), section 4 (see
graphs/core-periphery/README.md): after a loss of 94 the core holds 56 against obligations of 140, pays 56
(4 to each periphery bank) and defaults in wave 0; each periphery bank then holds 54 against 55 and defaults in
wave 1.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

import contagion
from contagion.formatting import fmt_amount
from contagion.errors import ContagionError
from contagion.shocks import Scenario, Shock
from contagion.viz import (OUTCOME_COLOURS, WAVE_COLOURS, build_view, network_view, script_json,
                           vis_network_asset)

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(2)</script>",
    "O'Brien & \"Sons\" <!-- x",
    "Plain Bank",
]


# ---------------------------------------------------------------------------- helpers
class _UrlScanner(HTMLParser):
    """Collects every URL-bearing attribute and CSS url(...) of a page, recursing into iframe srcdoc."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        for key in ("src", "href", "action", "formaction", "poster", "data", "xlink:href", "background"):
            if a.get(key) is not None:
                self.urls.append(a[key])
        if a.get("style"):
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", a["style"])
        if tag == "iframe" and a.get("srcdoc"):
            inner = _UrlScanner()
            inner.feed(a["srcdoc"])
            self.urls += inner.urls
            self.tags += inner.tags
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)


def scan(html: str) -> _UrlScanner:
    scanner = _UrlScanner()
    scanner.feed(html)
    return scanner


def external(urls: list[str]) -> list[str]:
    """URLs that would load or link something outside the page (anything but #fragments and data:)."""
    return [u for u in urls if not (u.startswith("#") or u.startswith("data:"))]


def data_block(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="contagion-data">(.*?)</script>', html, re.S)
    assert m, "data block missing"
    return json.loads(m.group(1))


def core_periphery_hit():
    net = contagion.load_dataset("core-periphery")
    hit = net.replace(external_assets=[50, 50, 56, 50, 50])
    return net, contagion.clear(hit)


def hostile_network() -> contagion.FinancialNetwork:
    nodes = pd.DataFrame({
        "id": ["a", "b", "c", "d", "e"],
        "name": HOSTILE,
        "type": ["<b>bank</b>", "fund\"'", "bank", "bank", "<i>x</i>"],
        "external_assets": [1, 5, 2, 3, 10],
        "external_liabilities": [5, 1, 1, 1, 1],
        "note": ["<svg onload=alert(3)>", "", "x", "y", "</script>"],
    })
    edges = pd.DataFrame({
        "debtor": ["a", "b", "c", "d", "a"], "creditor": ["b", "c", "d", "e", "e"], "amount": [4, 3, 2, 1, 2],
        "kind": ["<img src=x onerror=alert(4)>", "loan", "loan", "bond", "loan"],
    })
    return contagion.FinancialNetwork.from_edges(edges, nodes, metadata={"dataset": "<script>alert(5)</script>"})


# ---------------------------------------------------------------------------- offline and self-contained
def test_view_has_no_external_url_and_inlines_vis_network():
    net, res = core_periphery_hit()
    html = network_view(net, res)
    found = scan(html)
    assert external(found.urls) == []
    assert not [t for t, a in found.tags if t == "link"]
    assert not [a for t, a in found.tags if t == "script" and "src" in a]
    assert "cdn" not in html.lower() and "bootstrap" not in html.lower()
    js, version = vis_network_asset()
    assert js in html                                   # inlined verbatim, licence header included
    assert "@license" in js and "Apache" in js and "MIT" in js
    assert [t for t, a in found.tags].count("script") == 3 and html.count("</script") == 3
    assert '<meta charset="utf-8">' in html
    assert "default-src 'none'" in html.replace("&#39;", "'")


def test_vis_network_comes_from_the_pyvis_package():
    import pyvis

    js, version = vis_network_asset()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    shipped = Path(pyvis.__file__).parent / "templates" / "lib" / f"vis-{version}" / "vis-network.min.js"
    assert shipped.is_file()
    assert js.startswith("/**\n * vis-network")


# ---------------------------------------------------------------------------- the page object: a str, a notebook display, a file
class _Iframes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.iframes: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.iframes.append(dict(attrs))


def test_the_page_is_a_str_that_displays_in_a_notebook_and_saves_itself(tmp_path):
    import copy
    import pickle

    from contagion.viz import ViewPage

    net, res = core_periphery_hit()
    page = network_view(net, res, title="Core & <periphery>")
    assert isinstance(page, ViewPage) and isinstance(page, str)
    text = str(page)
    assert type(text) is str and text == page and text.startswith("<!DOCTYPE html>") and text.endswith("</html>\n")
    assert page.title == "Core & <periphery>"
    assert data_block(page)["nodes"][2]["fullName"] == "Core"                  # str callers: re, in, slicing
    # the notebook display: one iframe whose srcdoc is the whole page, escaped into the attribute
    shown = page._repr_html_()
    parser = _Iframes()
    parser.feed(shown)
    assert len(parser.iframes) == 1 and shown.startswith("<iframe ") and shown.endswith("></iframe>")
    frame = parser.iframes[0]
    assert frame["srcdoc"] == text and frame["title"] == "Core & <periphery>" and frame["sandbox"] == "allow-scripts"
    assert "<script" not in shown and "<" not in shown[len("<iframe "):-len("></iframe>")]
    assert external(scan(shown).urls) == []                                    # offline inside the iframe too
    # the text/plain a notebook stores and a terminal shows: one line, not the page
    assert repr(page) == (f"ViewPage('Core & <periphery>', {len(text):,} characters: display it in a notebook, "
                          "str() is the HTML, .save(path) writes it)")
    # the model displays the same way
    assert build_view(net, res, title="Core & <periphery>")._repr_html_() == shown
    # save: the exact bytes, atomically (nothing else left in the folder), and over an existing file
    out = tmp_path / "view.html"
    out.write_text("old", encoding="utf-8")
    assert page.save(out) == out
    assert out.read_bytes() == text.encode("utf-8") and sorted(p.name for p in tmp_path.iterdir()) == ["view.html"]
    with pytest.raises(OSError, match="nothing was written"):                  # OutputError: one line, no partial file
        page.save(tmp_path / "view.html" / "inside.html")
    assert out.read_bytes() == text.encode("utf-8")
    # pickling and copying keep the type and the title (a notebook's %store, multiprocessing)
    for again in (pickle.loads(pickle.dumps(page)), copy.copy(page), copy.deepcopy(page)):
        assert type(again) is ViewPage and again == text and again.title == page.title


def test_the_report_embeds_the_page_escaped(tmp_path):
    """The report puts the view page into ``srcdoc`` through Jinja2 autoescaping: a :class:`ViewPage` must be
    escaped like a plain str (it has no ``__html__``), and ``view.html`` of the Markdown folder is its text."""
    from contagion.report import build_report

    rep = build_report(contagion.load_dataset("core-periphery"), ["core-shock"], generated="2025-01-01")
    view = rep.view_html()
    parser = _Iframes()
    parser.feed(rep.to_html())
    assert [f["srcdoc"] for f in parser.iframes if "contagion-data" in f.get("srcdoc", "")] == [str(view)]
    assert rep.to_markdown()["view.html"] == str(view).encode("utf-8")


def test_legends_tooltips_and_report_tables_show_codes_in_words():
    """``ai_lab`` reads "AI lab" in the view's legend and tooltips and in the report's tables; the code as
    written in the data stays the legend's tooltip, the filter's value and what the data block holds."""
    from contagion.report import build_report

    nodes = pd.DataFrame({"id": ["L", "S", "B"], "type": ["ai_lab", "data_center_spv", "Bank-GPU"],
                          "external_assets": [1.0, 2.0, 50.0]})
    edges = pd.DataFrame({"debtor": ["L", "S"], "creditor": ["S", "B"], "amount": [10.0, 8.0],
                          "kind": ["compute_purchase_contract", "gpu_backed_loan"]})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)
    html = network_view(net)
    labels = re.findall(r'<span class="lbl" title="([^"]*)">([^<]*)</span>', html)
    assert ("ai_lab", "AI lab") in labels and ("data_center_spv", "Data center SPV") in labels
    assert ("Bank-GPU", "Bank-GPU") in labels                              # capitals of its own are kept
    assert ("compute_purchase_contract", "Compute purchase contract") in labels
    assert ("gpu_backed_loan", "GPU backed loan") in labels
    data = data_block(html)
    assert data["types"] == ["ai_lab", "data_center_spv", "Bank-GPU"]
    assert ["Type", "AI lab"] in data["scenarios"][0]["nodeTip"][0]
    md = build_report(net, generated="2025-01-01").to_markdown()["report.md"].decode()
    assert "| S | Data center SPV |" in md and "| L | AI lab |" in md
    # losses by creditor type: L pays its 1 (S loses 9 of 10); S pays its 2 + 1 (B loses 5 of 8)
    assert "| Data center SPV | 9.00 |" in md and "| Bank-GPU | 5.00 |" in md and "| External creditors | 0.00 |" in md


# ---------------------------------------------------------------------------- escaping
def test_hostile_names_are_escaped_everywhere():
    net = hostile_network()
    html = network_view(net, title="</title><script>alert(6)</script>")
    for raw in ("<script>alert", "<img src=x", "<svg onload", "</title><script>", "<b>bank</b>", "<!-- x"):
        assert raw not in html
    # only our three scripts open and close (vis-network's own code holds the text "<script>" in a JS string)
    assert [t for t, a in scan(html).tags].count("script") == 3 and html.count("</script") == 3
    assert "&lt;/title&gt;&lt;script&gt;alert(6)&lt;/script&gt;" in html     # title, autoescaped
    assert "&lt;b&gt;bank&lt;/b&gt;" in html                                   # legend, autoescaped
    data = data_block(html)
    assert [n["fullName"] for n in data["nodes"]] == HOSTILE                   # round trip through JSON, intact
    assert data["types"][0] == "<b>bank</b>" and "<img src=x onerror=alert(4)>" in data["kinds"]
    notes = [row for tip in data["scenarios"][0]["nodeTip"] for row in tip if row[0] == "note"]
    assert ["note", "<svg onload=alert(3)>"] in notes and ["note", "</script>"] in notes
    assert [t for t, a in scan(html).tags if t in ("img", "svg") and ("onload" in a or "onerror" in a)] == []


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_script_json_never_closes_the_script_and_round_trips(text):
    out = script_json({"name": text})
    assert "<" not in out and ">" not in out and "&" not in out
    assert "\u2028" not in out and "\u2029" not in out
    assert json.loads(out) == {"name": text}


# ---------------------------------------------------------------------------- what the view shows
def test_view_tooltips_count_guarantees_at_what_they_owe():
    """Meta owes 10.71 in 2027 besides a residual value guarantee capped at 27.3 that is out of the money: its
    tooltip shows what `run` shows (equity 21.41 before and after, nothing lost), not the caps (-5.89 before)."""
    net = contagion.load_dataset("ai-infrastructure")
    st = contagion.stress(net, ["openai-revenue-shortfall"])
    view = build_view(net, st.clearing)
    names = [n["fullName"] for n in view.data["nodes"]]
    meta = dict(map(tuple, view.data["scenarios"][0]["nodeTip"][names.index("Meta")]))
    row = st.to_frame().loc["Meta"]
    assert meta["Equity pre-shock"] == fmt_amount(row["equity_pre_shock"]) == "21.41"
    assert meta["Total obligations"] == fmt_amount(row["obligations"]) == "10.71"
    assert meta["Capital depletion"] == "0.0%" and meta["Outcome"] == "Solvent"


def test_view_tooltips_count_holdings_before_a_fire_sale():
    """N (cash 4, 10 units, owes 11) and V (cash 3, 8 units, owes 9.8) both pay in full at q = 0.8502: before the
    sales their equity is 3.00 and 1.20 (cash + units at 1 - debt), as `run` says; the tooltips read -7.00 and
    -6.80 (no units), every fall of equity a gain."""
    import pandas as pd

    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [10.0, 9.8]}),
        pd.DataFrame({"id": ["N", "F", "V", "B"], "external_assets": [4.0, 0, 3, 0],
                      "external_liabilities": [1.0, 0, 0, 0], "asset_units": [10.0, 0, 8, 0]}))
    res = contagion.clear(net, method="fire-sale", impact=0.01)
    view = build_view(net, res)
    names = [n["fullName"] for n in view.data["nodes"]]
    tips = {k: dict(map(tuple, view.data["scenarios"][0]["nodeTip"][names.index(k)])) for k in ("N", "V")}
    frame = res.to_frame()
    for k in ("N", "V"):
        assert tips[k]["Equity pre-shock"] == fmt_amount(frame.loc[k, "equity_pre_shock"])
    assert (tips["N"]["Equity pre-shock"], tips["V"]["Equity pre-shock"]) == ("3.00", "1.20")


def test_core_periphery_outcome_waves_and_tooltip_numbers():
    net, res = core_periphery_hit()
    view = build_view(net, res)
    data = view.data
    names = [n["fullName"] for n in data["nodes"]]
    sc = data["scenarios"][0]
    waves = dict(zip(names, sc["nodeWave"]))
    assert waves == {"Core": 0, "Periphery 1": 1, "Periphery 2": 1, "Periphery 3": 1, "Periphery 4": 1}
    assert sc["waveCounts"] == [1, 4] and sc["waves"] == 1
    core = dict(map(tuple, sc["nodeTip"][names.index("Core")]))
    assert core["Total obligations"] == "140.00"
    assert core["Payment"] == "56.00"
    assert core["Shortfall"] == "84.00"
    assert core["Equity pre-shock"] == "10.00"          # 150 + 0 - 140
    assert core["Equity after"] == "-84.00"          # 56 + 0 - 140
    assert core["Capital depletion"] == "100.0%"
    assert core["Outside assets"] == "150.00 \u2192 56.00"
    assert core["Outcome"] == "Defaulted in wave 0 (fundamental)"
    p1 = dict(map(tuple, sc["nodeTip"][names.index("Periphery 1")]))
    assert (p1["Payment"], p1["Equity pre-shock"], p1["Equity after"]) == ("54.00", "5.00", "-1.00")
    # each edge: the core owes 10 and pays 4 of it (pro rata 56/140)
    assert len(data["edges"]) == 4
    for tip in sc["edgeTip"]:
        rows = dict(map(tuple, tip))
        assert (rows["Amount owed"], rows["Paid"], rows["Unpaid"]) == ("10.00", "4.00 (40.0%)", "6.00")
    assert all(data["edgeTitle"][j].startswith("Core \u2192 Periphery") for j in range(4))
    # arrows debtor -> creditor
    core_id = data["nodes"][names.index("Core")]["id"]
    assert all(e["from"] == core_id and e["arrows"] == "to" for e in data["edges"])
    legend = {e["key"]: e["count"] for e in view.context["scenarios"][0]["legend"]}
    assert legend == {"solvent": 0, "lost": 0, "wave0": 1, "wave1": 4}
    assert data["palette"]["waves"][0] == list(WAVE_COLOURS[0])
    assert data["palette"]["solvent"] == list(OUTCOME_COLOURS["solvent"])


def test_sizes_follow_obligations_and_types_get_shapes():
    net = hostile_network()
    data = build_view(net).data
    sizes = np.array([n["size"] for n in data["nodes"]])
    pbar = net.total_obligations
    assert np.argmax(sizes) == np.argmax(pbar) and np.argmin(sizes) == np.argmin(pbar)
    shapes = {data["types"][n["ctype"]]: n["shape"] for n in data["nodes"]}
    assert len(set(shapes.values())) == len(shapes) == 4       # one shape per type


def test_several_results_give_a_scenario_selector():
    net, res = core_periphery_hit()
    base = contagion.clear(net)
    html = network_view(net, {"baseline": base, "core loses 94": res}, descriptions={"core loses 94": "GY 2015"})
    data = data_block(html)
    assert [s["name"] for s in data["scenarios"]] == ["baseline", "core loses 94"]
    assert data["scenarios"][0]["waves"] == -1 and data["scenarios"][1]["waves"] == 1
    assert '<select id="scenario">' in html and "GY 2015" in html


def test_result_for_another_network_is_refused():
    net, _ = core_periphery_hit()
    with pytest.raises(ContagionError, match="different network"):
        build_view(net, contagion.clear(contagion.load_dataset("chain")))
    with pytest.raises(ContagionError, match="size_by"):
        build_view(net, size_by="colour")


# ---------------------------------------------------------------------------- scale: caps, aggregation, layout
def test_aggregation_by_hand():
    """A and B are the largest exposures and stay; c1, c2 (type x) become one group node.

    Edges: A->c1 5 loan, A->c2 3 loan, c1->B 2 bond, c1->c2 1 loan, A->B 20 loan.
    Expected: A->B 20 loan (individual), A->group 8 loan (2 obligations), group->B 2 bond; 1 stays inside the group.
    """
    net = _by_hand_network()
    view = build_view(net, max_nodes=2)
    data = view.data
    labels = [n["fullName"] for n in data["nodes"]]
    assert labels == ["A", "B", "Other x (2)"]
    group = data["nodes"][2]
    assert group["agg"] and group["count"] == 2 and group["internal"] == 1.0 and group["shape"] == "box"
    got = sorted((labels[e["from"]], labels[e["to"]], data["kinds"][e["kind"]], e["amount"], e["count"])
                 for e in data["edges"])
    assert got == [("A", "B", "loan", 20.0, 1), ("A", "Other x (2)", "loan", 8.0, 2),
                   ("Other x (2)", "B", "bond", 2.0, 1)]
    assert any("aggregated into 1 group node" in n for n in view.context["notices"])


@pytest.mark.parametrize("code, count, name, label", [
    ("data_center_spv", 2, "Other data center SPV (2)", "Other data center SPV\n2 institutions"),
    ("ai_lab", 1, "Other AI lab (1)", "Other AI lab\n1 institution"),
])
def test_a_group_node_is_named_in_words(code, count, name, label):
    """A group node reads like the legend (words, not the type code; "1 institution"): it read "Other
    data_center_spv / 5 institutions" and "Other ai_lab / 1 institutions"."""
    ids = ["A", "B", "c1", "c2"][:2 + count]
    nodes = pd.DataFrame({"id": ids, "type": ["bank", "bank"] + [code] * count, "external_assets": 100.0})
    edges = pd.DataFrame({"debtor": ["A"] + ["A"] * count, "creditor": ["B"] + ids[2:], "amount": [20.0] + [5.0] * count})
    view = build_view(contagion.FinancialNetwork.from_edges(edges, nodes), max_nodes=2)
    group = view.data["nodes"][2]
    assert group["agg"] and group["fullName"] == name and group["label"] == label


def _by_hand_network() -> contagion.FinancialNetwork:
    """The network of test_aggregation_by_hand (gross exposures: A 28, B 22, c1 8, c2 4)."""
    nodes = pd.DataFrame({"id": ["A", "B", "c1", "c2"], "type": ["bank", "bank", "x", "x"],
                          "external_assets": [100, 100, 1, 1]})
    edges = pd.DataFrame({"debtor": ["A", "A", "c1", "c1", "A"], "creditor": ["c1", "c2", "B", "c2", "B"],
                          "amount": [5, 3, 2, 1, 20], "kind": ["loan", "loan", "bond", "loan", "loan"]})
    return contagion.FinancialNetwork.from_edges(edges, nodes)


def test_build_steps_by_hand():
    """The steps of build_view on the by-hand network, with a second scenario in which A has nothing.

    A fails: it pays 0 of its 28; c1 then holds 1 against 3 owed and pays a third of each obligation
    (bond to B: 2/3) and defaults in wave 1; B (owed 22, paid 2/3) and c2 (owed 4, paid 1/3) stay solvent
    with equity lost.
    """
    from contagion.viz.model import aggregate_edges, as_runs, cap_edges, place_nodes, select_nodes
    from contagion.viz.scenarios import scenario_values

    net = _by_hand_network()
    runs = as_runs(net, {"base": contagion.clear(net),
                         "A fails": contagion.clear(net.replace(external_assets=[0, 100, 1, 1]))}, None)
    nodes = select_nodes(net, 2)
    assert nodes.kept.tolist() == [0, 1] and nodes.rest.tolist() == [2, 3]
    assert nodes.display_of.tolist() == [0, 1, 2, 2] and nodes.group_count.tolist() == [2]
    assert (nodes.k, nodes.G, nodes.N) == (2, 1, 3) and nodes.names == ["A", "B", "Other x (2)"]
    assert nodes.per_display(net.external_assets).tolist() == [100.0, 100.0, 2.0]

    edges = aggregate_edges(net, runs, nodes)
    E = edges.frame
    assert E[["from", "to", "kind", "base", "count", "row"]].values.tolist() == [
        [0, 1, 0, 20, 1, 4], [0, 2, 0, 8, 2, -1], [2, 1, 1, 2, 1, -1]]
    assert E["p0"].tolist() == [20.0, 8.0, 2.0]                       # base: everyone pays in full
    assert E["p1"].tolist() == pytest.approx([0.0, 0.0, 2 / 3], rel=1e-12)
    assert edges.kind_names == ["loan", "bond"] and edges.group_internal.tolist() == [1.0]
    assert edges.weight.tolist() == [20.0, 8.0, 2.0] and edges.total == 3

    capped = cap_edges(edges, 2)
    assert capped.frame["base"].tolist() == [20.0, 8.0] and capped.total == 3
    assert cap_edges(edges, 3) is edges

    assert place_nodes(nodes, edges, "fr", physics_threshold=3).physics is True
    fixed = place_nodes(nodes, edges, "fr", physics_threshold=2)
    assert fixed.physics is False and fixed.positions.shape == (3, 2)

    base, fails = scenario_values(net, runs, nodes, capped, wmax=20.0)
    assert base.data["nodeWave"] == [-1, -1, -1] and fails.data["nodeWave"] == [0, -1, -1]
    group_tip = dict(map(tuple, fails.data["nodeTip"][2]))
    assert (group_tip["Institutions (aggregated)"], group_tip["Defaulted"], group_tip["Solvent, equity lost"]) \
        == ("2", "1", "1")
    assert group_tip["Obligations inside the group"] == "1.00"
    edge_tip = dict(map(tuple, fails.data["edgeTip"][1]))
    assert (edge_tip["Paid"], edge_tip["Unpaid"], edge_tip["Obligations aggregated"]) == \
        ("0.00 (0.0%)", "8.00", "2")
    assert fails.data["edgeWidth"][0] == 9.0                          # the widest edge, at wmax
    assert {e["key"]: e["count"] for e in fails.legend} == {"solvent": 0, "lost": 2, "wave0": 1, "wave1": 1}


def _random_network(n: int, m: int, seed: int = 0, n_types: int = 4) -> contagion.FinancialNetwork:
    rng = np.random.default_rng(seed)
    d, c = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = d != c
    L = sp.csr_array((rng.pareto(1.5, keep.sum()) + 0.1, (d[keep], c[keep])), shape=(n, n))
    types = np.array([f"type-{k}" for k in range(n_types)])[rng.integers(0, n_types, n)]
    return contagion.FinancialNetwork.from_matrix(L, external_assets=rng.uniform(0, 4, n),
                                                  external_liabilities=rng.uniform(0, 2, n),
                                                  names=[f"n{i}" for i in range(n)], types=list(types))


def test_cap_keeps_the_largest_exposures_and_conserves_amounts():
    net = _random_network(1200, 4000, seed=1, n_types=3)
    view = build_view(net, max_nodes=100, max_edges=100_000, physics_threshold=10_000)
    data = view.data
    exposure = net.total_obligations + net.interbank_assets
    expected = set(np.asarray(net.names)[np.argsort(-exposure, kind="stable")[:100]])
    shown = [n for n in data["nodes"] if not n["agg"]]
    groups = [n for n in data["nodes"] if n["agg"]]
    assert {n["fullName"] for n in shown} == expected
    assert len(groups) == 3 and sum(g["count"] for g in groups) == 1100
    # every obligation is either drawn (alone or summed into a group edge) or inside a group
    drawn = sum(e["amount"] for e in data["edges"]) + sum(g["internal"] for g in groups)
    assert drawn == pytest.approx(net.liabilities.sum(), rel=1e-12)
    assert sum(e["count"] for e in data["edges"]) + 0 <= net.n_edges


def test_layout_switches_from_physics_to_igraph_positions():
    net = _random_network(60, 200, seed=2)
    small = build_view(net, physics_threshold=100).data
    assert small["physics"] is True and small["options"]["physics"]["enabled"] is True
    assert all("x" not in n for n in small["nodes"])
    large = build_view(net, physics_threshold=50).data
    assert large["physics"] is False and large["options"]["physics"] == {"enabled": False}
    xy = np.array([[n["x"], n["y"]] for n in large["nodes"]])
    assert np.isfinite(xy).all() and len(np.unique(xy, axis=0)) == len(xy)
    again = build_view(net, physics_threshold=50).data                      # deterministic
    assert [n["x"] for n in again["nodes"]] == [n["x"] for n in large["nodes"]]


def test_edge_cap_keeps_the_largest():
    net = _random_network(80, 600, seed=3)
    data = build_view(net, max_edges=50).data
    assert len(data["edges"]) == 50
    kept = sorted(e["amount"] for e in data["edges"])
    assert kept[0] >= np.sort(net.edges["amount"].to_numpy())[-50] - 1e-12


@pytest.mark.slow
def test_hundred_thousand_nodes_make_a_page_of_bounded_size():
    net = _random_network(100_000, 300_000, seed=4, n_types=5)
    res = contagion.clear(net.replace(external_assets=net.external_assets * 0.8))
    view = build_view(net, res)
    assert view.n_nodes == 500 + 5 and 0 < view.n_edges <= 3000
    assert view.data["physics"] is False
    assert view.data["institutions"] == 100_000
    html = view.to_html()
    assert len(html.encode("utf-8")) < 3_000_000
    assert "Showing the 500 institutions with the largest gross exposures" in html
    assert sum(view.data["scenarios"][0]["waveCounts"]) == res.n_defaults


def test_nothing_due_is_dotted_and_only_what_a_scenario_cancels_is_dashed():
    """Issue 17: under a scenario that cancels nothing, 52 of the built-in network's 111 edges were dashed as
    'cancelled' (nothing falls due on them in 2027); binding-only cancels the 15 non-binding commitments."""
    from contagion.viz.scenarios import EDGE_CANCELLED, EDGE_NOTHING_DUE

    net = contagion.load_dataset("ai-infrastructure")
    states = {}
    for sc in ("openai-revenue-shortfall", "binding-only"):
        st = contagion.stress(net, [sc])
        data = build_view(net, st.clearing).data
        states[sc] = data["scenarios"][0]["edgeCancelled"]
        for j, state in enumerate(states[sc]):
            status = _tip(data["scenarios"][0]["edgeTip"][j]).get("Status")
            assert (state == EDGE_CANCELLED) == (status == "cancelled by the scenario")
            assert (state == EDGE_NOTHING_DUE) == (status == "nothing due in 2027")
    assert states["openai-revenue-shortfall"].count(EDGE_CANCELLED) == 0
    assert states["openai-revenue-shortfall"].count(EDGE_NOTHING_DUE) == 52
    assert states["binding-only"].count(EDGE_CANCELLED) == 15 and states["binding-only"].count(EDGE_NOTHING_DUE) == 52
    html = network_view(net, contagion.stress(net, ["binding-only"]).clearing)
    assert "dashed: cancelled by the scenario; dotted: nothing due in 2027" in html


def test_cancelled_obligations_are_marked_per_scenario():
    net = contagion.load_dataset("core-periphery")
    cut = net.replace(edge_amounts=[0.0, 10.0, 10.0, 10.0])      # the core's loan from Periphery 1 cancelled
    data = build_view(net, {"as is": contagion.clear(net), "cut": contagion.clear(cut)}).data
    assert data["scenarios"][0]["edgeCancelled"] == [0, 0, 0, 0]
    assert data["scenarios"][1]["edgeCancelled"] == [1, 0, 0, 0]
    first = dict(map(tuple, data["scenarios"][1]["edgeTip"][0]))
    assert first["Amount owed"] == "0.00" and first["Before the scenario"] == "10.00"
    assert first["Status"] == "cancelled by the scenario" and "Paid" not in first


def _edge_tips_of(data: dict, s: int = 0) -> dict[str, list[dict[str, str]]]:
    """``{"Debtor \u2192 Creditor": [tooltip rows as a dict, one per edge between them]}`` of scenario ``s``."""
    out: dict[str, list[dict[str, str]]] = {}
    for title, tip in zip(data["edgeTitle"], data["scenarios"][s]["edgeTip"]):
        out.setdefault(title, []).append(dict(map(tuple, tip)))
    return out


def test_edge_tooltips_speak_the_analysts_language():
    """The default run of the built-in network (OpenAI short, 2027, USD bn): each edge's tooltip in words.

    Independent numbers: OpenAI pays ``payments / pbar`` of each obligation (no priority rows here), e.g.
    60 x that share to Oracle; the words come from edges.csv (e002: binding, 300 over 5 years from 2027;
    e003: 'up to' 22.4 over 5 years from 2026)."""
    net = contagion.load_dataset("ai-infrastructure")
    st = contagion.stress(net)                                   # openai-revenue-shortfall
    res = st.clearing
    assert res.row_payments is None
    i = net.names.index("OpenAI")
    share = res.payments[i] / res.network.total_obligations[i]
    tips = _edge_tips_of(build_view(st.base, st).data)
    oracle = tips["OpenAI \u2192 Oracle"][0]
    assert list(oracle)[:12] == ["Kind", "Due in 2027", "Paid", "Unpaid", "Commitment", "Headline value", "Term",
                                 "Falls due", "Yearly amount", "Basis", "Estimate",
                                 "Reported"]
    assert oracle["Kind"] == "Compute purchase contract"
    assert oracle["Due in 2027"] == "60.00 USD bn"
    assert oracle["Paid"] == f"{60 * share:,.2f} USD bn ({share:.1%})" == "55.16 USD bn (91.9%)"
    assert oracle["Unpaid"] == f"{60 * (1 - share):,.2f} USD bn" == "4.84 USD bn"
    assert (oracle["Commitment"], oracle["Headline value"], oracle["Term"], oracle["Falls due"]) == \
        ("binding", "300.00 USD bn", "5 years", "2027–2031")
    assert oracle["Edge id"] == "e002" and len(oracle) == 4 + 12                 # capped at 12 attribute rows
    assert oracle["More"] == "2 more columns in the edge table"
    coreweave = tips["OpenAI \u2192 CoreWeave"][0]
    assert coreweave["Commitment"] == "up to: a ceiling, not a firm amount"
    assert coreweave["Contingent"] == "yes: not a binding figure"
    assert coreweave["Due in 2027"] == "4.48 USD bn" and coreweave["Headline value"] == "22.40 USD bn"
    # no raw column names or codes anywhere in any tooltip
    raw = {"edge_id", "commitment", "up_to", "nominal_usd_bn", "term_years", "amount_basis", "annual_rule",
           "contingent", "included", "True", "False", "nan"}
    for rows in tips.values():
        for tip in rows:
            assert not raw & set(tip) and not raw & set(tip.values()), tip
    # a syndicate's member shares: nothing due this year (not "cancelled")
    member = tips["CoreWeave DDTL 1.0 lenders \u2192 Blackstone"][0]
    assert (member["Due in 2027"], member["Status"], member["Counted in the clearing"]) == \
        ("0.00 USD bn", "nothing due in 2027", "no")
    # Meta's residual value guarantee owes min(cap, max(0, K - V)) = 0 while Meta leases the campus: it is not
    # "cancelled by the scenario" and its cap (27.3) is not what was owed before
    rvgs = [t for t in tips["Meta \u2192 Hyperion SPV (Beignet Investor)"] if t["Kind"] == "Residual value guarantee"]
    assert [(t["Residual value guaranteed"], t["Value of the asset"]) for t in rvgs] == \
        [("27.00 USD bn", "27.00 USD bn"), ("27.00 USD bn", "16.20 USD bn")]
    for rvg in rvgs:
        assert rvg["Status"] == "nothing due in 2027" and "Before the scenario" not in rvg


def test_edge_tooltips_show_what_the_priority_solver_paid_each_claim():
    """GPU collateral written down: CoreWeave defaults and its secured (seniority 1) lenders are paid in full
    before its unsecured bonds, which share the rest; the tooltips show each claim's own payment
    (``row_payments``), not one pro-rata share for all."""
    net = contagion.load_dataset("ai-infrastructure")
    st = contagion.stress(net, ["gpu-collateral-writedown"])
    res = st.clearing
    assert res.row_payments is not None
    data = build_view(st.base, st).data
    rows = data["edges"]
    d, c = net.edge_index
    i = net.names.index("CoreWeave")
    seen = {"1 (paid first)": 0, "2": 0}
    for j, e in enumerate(rows):
        tip = dict(map(tuple, data["scenarios"][0]["edgeTip"][j]))
        if not data["edgeTitle"][j].startswith("CoreWeave \u2192") or "Paid" not in tip:
            continue
        k = int(np.flatnonzero((d == i) & (np.asarray(net.edges["edge_id"]) == tip["Edge id"]))[0])
        owed, paid = float(res.network.edges["amount"].iloc[k]), float(res.row_payments[k])
        assert tip["Paid"] == f"{paid:,.2f} USD bn ({paid / owed:.1%})"
        seen[tip["Seniority"]] += 1
        if tip["Seniority"] == "1 (paid first)":
            assert tip["Paid"].endswith("(100.0%)")
        else:
            assert paid < owed
    assert seen["1 (paid first)"] >= 4 and seen["2"] >= 3


def test_edge_attribute_words_by_hand():
    from contagion.viz.labels import edge_attribute_rows

    edges = pd.DataFrame({"debtor": ["a", "a"], "creditor": ["b", "c"], "amount": [1.0, 2.0],
                          "kind": ["loan", "guarantee"], "rate": [0.0525, None], "max_ltv": [0.65, None],
                          "seniority": [1, 2], "start": [2026, None], "end": [2030, 2028],
                          "commitment": ["up_to", "some_new_code"], "covers": [None, "e1"],
                          "my_column": ["<b>x</b>", None], "contingent": [False, "yes"]})
    rows = edge_attribute_rows(edges, np.array([0, 1, -1]), units="EUR m")
    assert rows[0] == [["Commitment", "up to: a ceiling, not a firm amount"], ["Falls due", "2026–2030"],
                       ["Interest rate", "5.25% a year"], ["Maximum loan-to-value", "65%"],
                       ["Seniority", "1 (paid first)"], ["My column", "<b>x</b>"]]
    assert rows[1] == [["Commitment", "some new code"], ["Contingent", "yes: not a binding figure"],
                       ["Falls due", "until 2028"], ["Seniority", "2"], ["Guarantees obligation", "e1"]]
    assert rows[2] == []                                              # a summed edge: no attributes


# ---------------------------------------------------------------------------- a multi-year path: the year slider
def dated_network(cloud_name: str = "Cloud") -> contagion.FinancialNetwork:
    """The dated network of tests/test_report.py (derivation there): Cloud keeps 27 in 2026 and 54 in 2027 (its 60
    at 5% is rolled in 2027), owes 3 + 120 in 2028 with 64 + 20 = 84, defaults, and its rolled 60 is accelerated:
    it owes 183 and pays 84 pro rata (120 x 84/183 to Bank, 63 x 84/183 to Fund); it stays in default in 2029."""
    edges = pd.DataFrame({
        "debtor": [cloud_name, cloud_name, "Lab", "Lab"], "creditor": ["Fund", "Bank", "Bank", cloud_name],
        "amount": [3.0, 0.0, 10.0, 20.0], "kind": ["loan", "loan", "loan", "compute"],
        "principal": [60.0, 120.0, 30.0, None], "rate": [0.05, 0.0, 0.0, None],
        "maturity": [2027, 2028, 2028, None], "amortization": ["bullet", "bullet", "linear", None],
        "rollover": ["always", "none", "none", None], "term_years": [2, None, None, None],
    })
    nodes = pd.DataFrame({"id": [cloud_name, "Lab", "Bank", "Fund"],
                          "type": ["neocloud", "ai_lab", "bank", "private_credit"],
                          "external_assets": [10.0, 100.0, 0.0, 0.0]})
    return contagion.FinancialNetwork.from_edges(edges, nodes)


def _tip(rows: list[list[str]]) -> dict[str, str]:
    return {k: v for k, v in rows}


def test_a_path_gives_one_step_per_year_with_the_path_outcome():
    path = contagion.clear_path(dated_network(), (2026, 2029))
    html = network_view(path.network, path)
    data = data_block(html)
    years = data["scenarios"]
    assert data["timeline"] == {"years": [2026, 2027, 2028, 2029], "groups": [""], "top": 1}
    assert [s["name"] for s in years] == ["2026", "2027", "2028", "2029"]
    assert [s["year"] for s in years] == [2026, 2027, 2028, 2029]
    assert [s["inDefault"] for s in years] == [0, 0, 1, 1]
    assert [s["newDefaults"] for s in years] == [0, 0, 1, 0]
    assert [s["earlier"] for s in years] == [0, 0, 0, 1]
    cloud = [n["fullName"] for n in data["nodes"]].index("Cloud")
    assert [s["nodeWave"][cloud] for s in years] == [-1, -1, 0, -1]
    assert [s["nodeSince"][cloud] for s in years] == [0, 0, 0, 2028]
    assert [_tip(s["nodeTip"][cloud])["Outcome"] for s in years] == [
        "Solvent", "Solvent", "Defaulted in 2028 (wave 0, fundamental)", "In default since 2028"]
    t2027, t2028 = _tip(years[1]["nodeTip"][cloud]), _tip(years[2]["nodeTip"][cloud])
    assert t2027["Due in 2027"] == "3.00" and t2027["Cash carried to the next year"] == "54.00"
    assert t2027["Outside assets (cash carried in included)"] == "37.00"           # 10 + 27 carried from 2026
    assert t2028["Due in 2028"] == "183.00" and t2028["Payment"] == "84.00" and t2028["Shortfall"] == "99.00"
    # edges: row B (Cloud -> Bank) falls due in 2028, paid 120 x 84/183; row A carries 3 + the accelerated 60
    b = next(j for j, e in enumerate(data["edges"]) if data["edgeTitle"][j] == "Cloud \u2192 Bank")
    a = next(j for j, e in enumerate(data["edges"]) if data["edgeTitle"][j] == "Cloud \u2192 Fund")
    assert [s["edgeCancelled"][b] for s in years] == [2, 2, 0, 0]          # 2029: the unpaid rest is owed again
    assert _tip(years[3]["edgeTip"][b])["Due in 2029"] == f"{120 - 120 * 84 / 183:.2f}"
    assert _tip(years[2]["edgeTip"][b]) == {"Kind": "Loan", "Due in 2028": "120.00", "Paid": "55.08 (45.9%)",
                                            "Unpaid": "64.92", "Principal outstanding": "120.00",
                                            "Interest rate": "0% a year", "Principal due (maturity)": "2028",
                                            "Amortisation": "bullet: all principal at maturity",
                                            "Rollover at maturity": "none: repaid at maturity"}
    assert _tip(years[0]["edgeTip"][b])["Status"] == "nothing due in 2026"      # due in 2028 only
    assert _tip(years[2]["edgeTip"][a])["Due in 2028"] == "63.00"
    assert _tip(years[2]["edgeTip"][a])["Paid"] == f"{63 * 84 / 183:.2f} ({84 / 183:.1%})"
    # page: a year slider instead of the scenario selector, starting at the last year
    assert 'id="year"' in html and '<select id="scenario">' not in html
    assert 'max="3"' in html and 'value="3"' in html
    assert "path 2026\u20132029" in html and "In default since an earlier year" in html
    assert external(scan(html).urls) == []


def test_path_view_summary_and_legend_per_year():
    path = contagion.clear_path(dated_network(), (2026, 2029))
    view = build_view(path.network, path)
    panels = {s["name"]: s for s in view.context["scenarios"]}
    s2028 = dict(panels["2028"]["summary"])
    assert s2028["In default"] == "1 of 4" and s2028["New this year"] == "1: Cloud"
    assert s2028["Principal called"] == "130.00" and s2028["Principal rolled over"] == "0.00"
    assert dict(panels["2027"]["summary"])["Principal rolled over"] == "60.00"
    assert panels["2028"]["description"] == "New in default: Cloud."
    legend = {e["key"]: (e["label"], e["count"]) for e in panels["2029"]["legend"]}
    assert legend["earlier"] == ("In default since an earlier year", 1)
    assert {e["key"]: e["label"] for e in panels["2028"]["legend"]}["wave0"] == "Defaulted in 2028, wave 0 (fundamental)"
    assert view.context["timeline"]["defaults"] == [0, 0, 1, 1] and view.context["timeline"]["new"] == [0, 0, 1, 0]


def test_path_view_escapes_names():
    name = "<script>x</script>"
    path = contagion.clear_path(dated_network(name), (2026, 2029))
    html = network_view(path.network, path)
    assert name not in html
    assert "New in default: &lt;script&gt;x&lt;/script&gt;." in html
    assert "1: &lt;script&gt;x&lt;/script&gt;" in html
    assert [n["fullName"] for n in data_block(html)["nodes"]][0] == name


def test_a_path_of_another_network_is_refused():
    path = contagion.clear_path(dated_network(), (2026, 2027))
    with pytest.raises(ContagionError, match="different network"):
        build_view(contagion.load_dataset("chain"), path)
    # same institutions and number of obligations, but a row between other institutions
    other = dated_network()
    edges = other.edges.copy()
    edges.loc[3, "creditor"] = "Fund"
    moved = contagion.FinancialNetwork.from_edges(edges, other.nodes)
    with pytest.raises(ContagionError, match=r"obligation row 3 is Lab -> Cloud there and Lab -> Fund"):
        build_view(moved, path)


def test_cli_view_with_a_horizon(tmp_path):
    from click.testing import CliRunner

    from contagion.cli import cli

    folder = tmp_path / "dated"
    contagion.write_network(dated_network(), folder)
    out = tmp_path / "path.html"
    res = CliRunner().invoke(cli, ["view", str(folder), "--horizon", "2026:2029", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "years 2026-2029" in res.stderr
    data = data_block(out.read_text(encoding="utf-8"))
    assert [s["name"] for s in data["scenarios"]] == ["2026", "2027", "2028", "2029"]
    assert [s["inDefault"] for s in data["scenarios"]] == [0, 0, 1, 1]
    res = CliRunner().invoke(cli, ["view", str(folder), "--horizon", "2029:2026", "-o", str(out)])
    assert res.exit_code == 2 and "the last year is before the first" in res.output


def test_several_paths_give_a_scenario_selector_and_a_year_slider():
    early = Scenario("cloud-shortfall", "Cloud earns nothing in 2027.",
                     [Shock("external_assets", target="Cloud", absolute=10, year=2027)])
    net = dated_network()
    paths = {"as given": contagion.clear_path(net, (2026, 2029)),
             "shortfall": contagion.clear_path(net, (2026, 2029), [early])}
    view = build_view(net, paths)
    data = view.data
    assert data["timeline"] == {"years": [2026, 2027, 2028, 2029], "groups": ["as given", "shortfall"], "top": 1}
    assert [(s["groupName"], s["year"]) for s in data["scenarios"]] == [
        (g, y) for g in ("as given", "shortfall") for y in (2026, 2027, 2028, 2029)]
    assert view.context["timeline"]["groups"] == ["as given", "shortfall"]
    html = view.to_html()
    assert '<select id="scenario">' in html and 'id="year"' in html and '<option value="1">shortfall</option>' in html
    with pytest.raises(ContagionError, match="different horizons"):
        build_view(net, {"a": paths["as given"], "b": contagion.clear_path(net, (2026, 2027))})


def test_sizes_and_selection_count_a_guarantee_as_owed_not_at_its_cap():
    """A sponsor guaranteeing 100 of an SPV's loan owes nothing until the guarantee is called: its node is sized
    (and selected) by what it owes when everyone pays, 1, not by 101 with the cap."""
    edges = pd.DataFrame({"edge_id": ["e1", "g1", "s1", "b1"], "debtor": ["SPV", "Sponsor", "Sponsor", "Bank"],
                          "creditor": ["Bank", "Bank", "Bank", "Other"], "amount": [100.0, 100.0, 1.0, 5.0],
                          "kind": ["loan", "guarantee", "loan", "loan"], "covers": [None, "e1", None, None]})
    nodes = pd.DataFrame({"id": ["SPV", "Sponsor", "Bank", "Other"], "external_assets": [150.0, 20, 1, 0]})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)
    data = build_view(net).data
    size = {n["label"]: n["size"] for n in data["nodes"]}
    assert size["SPV"] > size["Bank"] > size["Sponsor"]    # owed: 100, 5, 1 (with the cap the sponsor had 101)
    shown = {n["label"] for n in build_view(net, max_nodes=2).data["nodes"] if not n.get("group")}
    assert "Sponsor" not in shown and {"SPV", "Bank"} <= shown


def test_a_paths_view_shows_each_years_pre_shock_equity_as_run_does():
    """Year by year the tooltip's 'Equity pre-shock' and capital depletion are those of `run --horizon` (the year
    before its shocks, cash carried in): the view read the equity if all paid (Oracle 2027: 222.25 and 88.5%
    where run says 42.25 and 39.4%)."""
    import json as _json

    from click.testing import CliRunner

    from contagion.cli import cli
    from contagion.formatting import fmt_amount as _amt

    net = contagion.load_dataset("ai-infrastructure")
    path = contagion.clear_path(net, (2026, 2028), ["openai-revenue-shortfall"])
    data = data_block(network_view(net, path))
    names = [n["fullName"] for n in data["nodes"]]
    out = CliRunner().invoke(cli, ["run", "--horizon", "2026:2028", "-s", "openai-revenue-shortfall", "-f", "json"])
    years = _json.loads(out.stdout)["years"]
    for k in range(3):
        rows = {r["name"]: r for r in years[k]["institutions"]}
        for who in ("Oracle", "CoreWeave"):
            tip = _tip(data["scenarios"][k]["nodeTip"][names.index(who)])
            assert tip["Equity pre-shock"] == _amt(rows[who]["equity_pre_shock"]), (k, who)
