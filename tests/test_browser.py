"""Real-browser tests of the network view and the report: headless Chromium (Debian package) via Playwright.

Every request other than the page itself is aborted and recorded (see ``open_html`` in conftest.py), so these
tests also prove the pages are self-contained. Numbers: core-periphery after a loss of 94 at the core
(Glasserman & Young 2015, section 4): the core defaults in wave 0, the four periphery banks in wave 1.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import contagion
from contagion.report import build_report
from contagion.shocks import Scenario, Shock
from contagion.viz import OUTCOME_COLOURS, WAVE_COLOURS, network_view

pytestmark = pytest.mark.browser

READY = "body[data-ready=true]"
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</script><script>alert(2)</script>",
    "O'Brien & \"Sons\" <!-- x",
    "<svg onload=window.__pwned=1>",
]


def _srcdoc_frame(page, timeout_s: float = 30.0):
    """The page's ``<iframe srcdoc>`` frame once the browser has attached and navigated it (on a loaded
    machine that can come after the page's ``load`` event: looking once made the tests flaky)."""
    deadline = time.monotonic() + timeout_s
    while True:
        for f in page.frames:
            if f.url == "about:srcdoc":
                return f
        if time.monotonic() > deadline:
            raise AssertionError(f"no srcdoc frame after {timeout_s} s: {[f.url for f in page.frames]}")
        page.wait_for_timeout(50)


def _core_periphery():
    net = contagion.load_dataset("core-periphery")
    return net, contagion.clear(net.replace(external_assets=[50, 50, 56, 50, 50]))


def _clean(loaded):
    assert loaded.console_errors == []
    assert loaded.page_errors == []
    assert loaded.blocked == []
    assert set(loaded.requests) == {loaded.url}


def _hover_node(page, node_id):
    box = page.locator("#network").bounding_box()
    pos = page.evaluate(f"() => {{ const v = window.contagionView; "
                        f"return v.network.canvasToDOM(v.network.getPositions([{node_id}])[{node_id}]); }}")
    page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
    tooltip = page.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible", timeout=5000)
    return tooltip


def test_view_draws_cancelled_dashed_and_nothing_due_dotted(open_html):
    """In the browser's edge data: A's loan from B cancelled by the scenario is dashed, B's obligation to C with
    nothing due before or after is dotted, A's to C solid."""
    edges = pd.DataFrame({"debtor": ["A", "A", "B"], "creditor": ["B", "C", "C"], "amount": [10.0, 5.0, 0.0]})
    net = contagion.FinancialNetwork.from_edges(edges, pd.DataFrame({"id": ["A", "B", "C"],
                                                                     "external_assets": [20.0, 0, 0]}))
    cut = net.replace(edge_amounts=[0.0, 5.0, 0.0])
    loaded = open_html(network_view(net, {"cut": contagion.clear(cut)}), wait_for=READY)
    _clean(loaded)
    dashes = loaded.page.evaluate("() => { const v = window.contagionView; return v.data.edgeTitle.map("
                                  "(t, j) => [t, v.edges.get(v.data.edges[j].id).dashes]); }")
    assert dict((t, d) for t, d in dashes) == {"A \u2192 B": [9, 6], "A \u2192 C": False, "B \u2192 C": [2, 5]}


def test_view_renders_offline_with_tooltips(open_html):
    net, res = _core_periphery()
    loaded = open_html(network_view(net, res), wait_for=READY)
    page = loaded.page
    assert page.locator("#network canvas").count() == 1
    assert page.evaluate("() => [window.contagionView.nodes.length, window.contagionView.edges.length]") == [5, 4]
    painted = page.evaluate("""() => {
        const c = document.querySelector('#network canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }""")
    assert painted > 1000
    names = page.evaluate("() => window.contagionView.nodes.get().map(n => n.fullName)")
    core = names.index("Core")
    tip = _hover_node(page, core).inner_text()
    assert "Core" in tip and "84.00" in tip and "Defaulted in wave 0 (fundamental)" in tip
    assert page.locator("#wave-label").inner_text() == "Wave 1: 4 new defaults, 5 in all \u2014 final outcome"
    _clean(loaded)


def _hover_edge(page, title):
    """Hover the edge titled ``title`` ("Debtor \u2192 Creditor") where it is not crossed by another edge (points
    along its curve, from the middle out) and return the tooltip of that edge."""
    titles = page.evaluate("() => window.contagionView.data.edgeTitle")
    j = titles.index(title)
    box = page.locator("#network").bounding_box()
    tooltip = page.locator("div.vis-tooltip")
    for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
        pos = page.evaluate(f"() => {{ const v = window.contagionView.network; "
                            f"return v.canvasToDOM(v.body.edges[{j}].edgeType.getPoint({t})); }}")
        page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
        try:
            tooltip.wait_for(state="visible", timeout=3000)
        except Exception:  # nothing under the pointer at this point: the next one
            continue
        if tooltip.locator(".tip-title").inner_text() == title:
            return tooltip
        page.mouse.move(box["x"] + 2, box["y"] + 2)
        tooltip.wait_for(state="hidden", timeout=3000)
    raise AssertionError(f"no point of the edge {title!r} shows its own tooltip")


def test_edge_tooltips_read_in_words(open_html):
    """The default run of the built-in network, hovered in Chromium: the OpenAI -> Oracle contract reads as
    words and amounts with units (numbers: OpenAI pays 91.9% of each obligation, tests/test_viz.py), sentences
    are left-aligned, no raw column name shows."""
    net = contagion.load_dataset("ai-infrastructure")
    st = contagion.stress(net)
    loaded = open_html(network_view(st.base, st), wait_for=READY)
    tip = _hover_edge(loaded.page, "OpenAI \u2192 Oracle")
    rows = [[c.inner_text() for c in r.locator("th, td").all()] for r in tip.locator("tr").all()]
    assert rows[:8] == [["Kind", "Compute purchase contract"], ["Due in 2027", "60.00 USD bn"],
                        ["Paid", "55.16 USD bn (91.9%)"], ["Unpaid", "4.84 USD bn"], ["Commitment", "binding"],
                        ["Headline value", "300.00 USD bn"], ["Term", "5 years"], ["Falls due", "2027\u20132031"]]
    source = dict(rows)["Source"]
    assert source.startswith("The News (Pakistan), citing WSJ 2025-09-11 [S01]") and "https" not in source
    assert tip.locator("td.long").count() >= 2                       # the source and the notes
    text = tip.inner_text()
    for raw in ("edge_id", "nominal_usd_bn", "up_to", "True", "False", "nan", "None"):
        assert not re.search(rf"\b{raw}\b", text), raw
    _clean(loaded)


def test_notebook_display_runs_the_view_in_its_iframe(open_html):
    """What Jupyter shows for ``network_view(...)``: its ``_repr_html_`` (an ``<iframe srcdoc>``) placed in a host
    page as a notebook output area would; the view inside loads offline, draws the network and shows tooltips."""
    net, res = _core_periphery()
    page_html = network_view(net, res)
    host = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>notebook</title></head><body>'
            '<div class="output_html">' + page_html._repr_html_() + "</div></body></html>")
    loaded = open_html(host)
    frame = _srcdoc_frame(loaded.page)
    frame.wait_for_selector(READY, state="attached", timeout=30_000)
    assert frame.evaluate("() => [window.contagionView.nodes.length, window.contagionView.edges.length]") == [5, 4]
    assert loaded.page.locator("iframe").bounding_box()["height"] == 640 + 2          # and its 1px border
    painted = frame.evaluate("""() => {
        const c = document.querySelector('#network canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }""")
    assert painted > 1000
    assert frame.locator("h1").inner_text() == ("Network view \u2014 Core-periphery: the Glasserman-Young (2015) "
                                                "five-bank example")
    core = frame.evaluate("() => window.contagionView.nodes.get().map(n => n.fullName)").index("Core")
    box = frame.locator("#network").bounding_box()                 # in the notebook page's coordinates
    pos = frame.evaluate(f"() => {{ const v = window.contagionView; "
                         f"return v.network.canvasToDOM(v.network.getPositions([{core}])[{core}]); }}")
    loaded.page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
    tooltip = frame.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible", timeout=5000)
    assert "84.00" in tooltip.inner_text() and "Defaulted in wave 0 (fundamental)" in tooltip.inner_text()
    _clean(loaded)


def test_hostile_names_show_as_text_and_run_nothing(open_html):
    nodes = pd.DataFrame({"id": list("abcde"), "name": HOSTILE,
                          "type": ["<b>bank</b>", "bank", "bank", "<i>x</i>", "bank"],
                          "external_assets": [1, 5, 2, 3, 10], "external_liabilities": [5, 1, 1, 1, 1]})
    edges = pd.DataFrame({"debtor": list("abcda"), "creditor": list("bcdee"), "amount": [4, 3, 2, 1, 2],
                          "kind": ["<img src=x onerror=alert(4)>", "loan", "loan", "bond", "loan"]})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)
    title = "</title><script>alert(6)</script>"
    loaded = open_html(network_view(net, title=title), wait_for=READY)
    page = loaded.page
    assert loaded.dialogs == []
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
    assert page.evaluate("""() => [...document.querySelectorAll('*')]
        .filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length""") == 0
    assert page.locator("h1").inner_text() == title
    assert page.title() == title
    legend = page.locator("aside").inner_text()
    assert "<b>bank</b>" in legend and "<img src=x onerror=alert(4)>" in legend
    assert page.evaluate("() => window.contagionView.nodes.get().map(n => n.fullName)") == HOSTILE
    tip = _hover_node(page, 1)
    assert HOSTILE[1] in tip.inner_text() and tip.locator("img").count() == 0
    page.locator("#search").fill(HOSTILE[2])
    page.locator("#search").press("Enter")
    assert page.evaluate("() => window.contagionView.network.getSelectedNodes()") == [2]
    assert loaded.dialogs == [] and page.evaluate("() => window.__pwned === undefined")
    _clean(loaded)


def test_wave_control_replays_the_cascade_and_filters_hide(open_html):
    net, res = _core_periphery()
    loaded = open_html(network_view(net, res), wait_for=READY)
    page = loaded.page
    colours = "() => window.contagionView.nodes.get().map(n => n.color.background)"
    names = page.evaluate("() => window.contagionView.nodes.get().map(n => n.fullName)")
    core = names.index("Core")
    final = page.evaluate(colours)
    assert final[core] == WAVE_COLOURS[0][0]
    assert {c for i, c in enumerate(final) if i != core} == {WAVE_COLOURS[1][0]}
    slider = page.locator("#wave")
    slider.fill("-1")
    assert set(page.evaluate(colours)) == {OUTCOME_COLOURS["solvent"][0]}
    assert page.locator("#wave-label").inner_text().startswith("Before the cascade")
    slider.fill("0")
    step0 = page.evaluate(colours)
    assert step0[core] == WAVE_COLOURS[0][0]
    assert {c for i, c in enumerate(step0) if i != core} == {OUTCOME_COLOURS["solvent"][0]}
    assert page.locator("#wave-label").inner_text() == "Wave 0: 1 fundamental default"
    page.locator("#play").click()
    deadline = time.monotonic() + 10
    while page.evaluate("() => window.contagionView.state.step") < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert page.evaluate(colours) == final
    # filters: hiding the only type hides every node, hiding the only kind every edge
    page.locator("input[data-filter=type]").uncheck()
    assert all(page.evaluate("() => window.contagionView.nodes.get().map(n => n.hidden)"))
    page.locator("input[data-filter=type]").check()
    page.locator("input[data-filter=kind]").uncheck()
    assert page.evaluate("() => window.contagionView.nodes.get().map(n => n.hidden)") == [False] * 5
    assert all(page.evaluate("() => window.contagionView.edges.get().map(e => e.hidden)"))
    assert loaded.console_errors == [] and loaded.page_errors == []


def test_aggregated_large_view_renders(open_html):
    rng = np.random.default_rng(5)
    n, m = 20_000, 60_000
    d, c = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = d != c
    L = sp.csr_array((rng.pareto(1.5, keep.sum()) + 0.1, (d[keep], c[keep])), shape=(n, n))
    types = list(np.array(["bank", "fund", "neocloud"])[rng.integers(0, 3, n)])
    net = contagion.FinancialNetwork.from_matrix(L, external_assets=rng.uniform(0, 4, n),
                                                 names=[f"n{i}" for i in range(n)], types=types)
    loaded = open_html(network_view(net, max_nodes=400), wait_for=READY)
    page = loaded.page
    assert page.evaluate("() => window.contagionView.nodes.length") == 403
    assert page.evaluate("() => window.contagionView.data.physics") is False
    assert "aggregated into 3 group nodes" in page.locator(".notice").first.inner_text()
    assert loaded.console_errors == [] and loaded.page_errors == [] and loaded.blocked == []


def test_report_renders_every_section(open_html):
    net = contagion.load_dataset("core-periphery")
    milder = Scenario("core-loses-40", "The core loses 40 of its outside assets.",
                      [Shock("external_assets", target="C", absolute=40)])
    html = build_report(net, ["core-shock", milder], generated="2025-01-01").to_html()
    loaded = open_html(html, width=1280, height=900)
    page = loaded.page
    for section, heading in [("summary", "Summary"), ("scenarios", "Scenarios"), ("waves", "Defaults by wave"),
                             ("losses", "Losses by creditor type"), ("institutions", "Institutions"),
                             ("network", "Network view"), ("methodology", "Methodology"),
                             ("provenance", "Data provenance")]:
        block = page.locator(f"section#{section}")
        assert block.is_visible()
        assert heading in block.locator("h2").inner_text()
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for k in range(3):
        assert charts.nth(k).bounding_box()["width"] > 300
    assert page.locator(".card").count() == 2
    assert "182.00" in page.locator("#summary table").inner_text()
    frame = _srcdoc_frame(page)
    frame.wait_for_selector(READY, state="attached", timeout=30_000)
    assert frame.evaluate("() => window.contagionView.data.scenarios.map(s => s.name)") == ["core-shock",
                                                                                           "core-loses-40"]
    frame.select_option("#scenario", "1")
    assert frame.locator(".scenario-panel[data-scenario='1']").is_visible()
    assert frame.evaluate("() => window.contagionView.state.scenario") == 1
    _clean(loaded)


def _dated(cloud_name: str):
    """The dated network of tests/test_report.py: the neocloud defaults in 2028 and stays in default in 2029."""
    edges = pd.DataFrame({
        "debtor": [cloud_name, cloud_name, "Lab", "Lab"], "creditor": ["Fund", "Bank", "Bank", cloud_name],
        "amount": [3.0, 0.0, 10.0, 20.0], "kind": ["loan", "loan", "loan", "compute"],
        "principal": [60.0, 120.0, 30.0, None], "rate": [0.05, 0.0, 0.0, None],
        "maturity": [2027, 2028, 2028, None], "rollover": ["always", "none", "none", None],
        "term_years": [2, None, None, None]})
    nodes = pd.DataFrame({"id": [cloud_name, "Lab", "Bank", "Fund"],
                          "type": ["neocloud", "ai_lab", "bank", "private_credit"],
                          "external_assets": [10.0, 100.0, 0.0, 0.0]})
    return contagion.FinancialNetwork.from_edges(edges, nodes)


def test_year_slider_switches_the_years_of_a_path(open_html):
    name = HOSTILE[0]
    path = contagion.clear_path(_dated(name), (2026, 2029))
    loaded = open_html(network_view(path.network, path), wait_for=READY)
    page = loaded.page
    colours = "() => window.contagionView.nodes.get().map(n => n.color.background)"
    label = page.locator("#year-label")
    # the page opens on the last year: the neocloud has been in default since 2028
    assert label.inner_text() == "2029: 1 of 4 in default"
    assert page.evaluate(colours)[0] == OUTCOME_COLOURS["earlier"][0]
    assert page.locator(".scenario-panel[data-scenario='3'] h2").inner_text() == "2029"
    assert page.locator("#wave-label").inner_text() == "No new default in 2029 (1 in default since an earlier year)."
    page.locator("#year").fill("1")
    assert label.inner_text() == "2027: no institution in default"
    assert set(page.evaluate(colours)) <= {OUTCOME_COLOURS["solvent"][0], OUTCOME_COLOURS["lost"][0]}
    assert page.locator(".scenario-panel[data-scenario='1']").is_visible()
    assert not page.locator(".scenario-panel[data-scenario='3']").is_visible()
    page.locator(".year-tick[data-year-index='2']").click()
    assert label.inner_text() == "2028: 1 of 4 in default, 1 new"
    assert page.evaluate("() => document.getElementById('year').value") == "2"
    assert page.locator(".year-tick[data-year-index='2']").get_attribute("aria-pressed") == "true"
    assert page.evaluate(colours)[0] == WAVE_COLOURS[0][0]
    assert page.locator("#wave-label").inner_text() == "2028, wave 0: 1 fundamental default \u2014 final outcome"
    panel = page.locator(".scenario-panel[data-scenario='2']").inner_text()
    assert f"New in default: {name}." in panel and "183.00" not in panel and "1 of 4" in panel
    tip = _hover_node(page, 0).inner_text()
    assert name in tip and "Due in 2028" in tip and "183.00" in tip and "Defaulted in 2028 (wave 0, fundamental)" in tip
    assert loaded.dialogs == [] and page.evaluate("() => window.__pwned === undefined")
    # the years play one after the other
    page.locator("#play-years").click()
    deadline = time.monotonic() + 15
    while page.evaluate("() => window.contagionView.state.scenario") < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert label.inner_text() == "2029: 1 of 4 in default"
    _clean(loaded)


def test_report_over_a_horizon_renders_the_timeline(open_html):
    path_scenario = Scenario("cloud-shortfall", "Cloud earns nothing in 2027.",
                             [Shock("external_assets", target="Cloud", absolute=10, year=2027)])
    net = _dated("Cloud")
    with pytest.warns(UserWarning, match="one-year clearing skips them"):
        html = build_report(net, [("as given", net), path_scenario], horizon=(2026, 2029),
                            generated="2026-01-01").to_html()
    loaded = open_html(html, width=1280, height=900)
    page = loaded.page
    block = page.locator("section#timeline")
    assert block.is_visible() and block.locator("h2").inner_text() == "2 Timeline 2026\u20132029"
    charts = block.locator("svg.chart")
    assert charts.count() == 3
    for k in range(3):
        assert charts.nth(k).bounding_box()["width"] > 300
    assert page.locator("svg.chart").count() == 6
    assert "1 (+1)" in block.locator("table").first.inner_text()
    who = block.locator("table.when").inner_text()
    assert "Cloud" in who and "2028" in who and "99.00" in who
    assert page.locator("nav.toc a").nth(1).inner_text() == "2 Timeline 2026\u20132029"
    _clean(loaded)


def test_report_view_over_a_horizon_switches_scenario_and_year(open_html):
    # with 60 more owed outside the network in 2027, Cloud holds 27 + 10 + 20 = 57 against 63 and defaults in 2027
    bill = Scenario("cloud-bill", "Cloud owes 60 more outside the network in 2027.",
                    [Shock("external_liabilities", target="Cloud", absolute=60, year=2027)])
    net = _dated("Cloud")
    with pytest.warns(UserWarning, match="one-year clearing skips them"):
        html = build_report(net, [("as given", net), bill], horizon=(2026, 2029), generated="2026-01-01").to_html()
    loaded = open_html(html, width=1280, height=900)
    frame = _srcdoc_frame(loaded.page)
    frame.wait_for_selector(READY, state="attached", timeout=30_000)
    label = frame.locator("#year-label")
    ticks = frame.locator(".year-tick .n")
    assert label.inner_text() == "2029: 1 of 4 in default"
    assert frame.evaluate("() => window.contagionView.state.scenario") == 3
    assert ticks.all_inner_texts() == ["0", "0", "1 +1", "1"]
    frame.select_option("#scenario", "1")
    assert frame.evaluate("() => window.contagionView.state.scenario") == 7
    assert ticks.all_inner_texts() == ["0", "1 +1", "1", "1"]
    frame.locator("#year").fill("1")
    assert label.inner_text() == "2027: 1 of 4 in default, 1 new"
    assert frame.evaluate("() => window.contagionView.state.scenario") == 5
    assert frame.locator(".scenario-panel[data-scenario='5']").is_visible()
    frame.select_option("#scenario", "0")                       # the same year of the other path
    assert label.inner_text() == "2027: no institution in default"
    assert frame.evaluate("() => window.contagionView.state.scenario") == 1
    _clean(loaded)
