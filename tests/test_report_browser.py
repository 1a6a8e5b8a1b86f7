"""The board-pack report in a real headless Chromium (issue 17.3, issue 19.2): every shipped scenario of the
built-in network side by side with the analytics sections, measured in the page as the reader sees it, and the
PDF printed by the browser.

What is measured, in the page (1280 x 900, the width the report is designed for):

- nothing runs off the page: ``document.documentElement.scrollWidth`` is the window's width, and every table
  fits the box it sits in (no table scrolls sideways);
- no label of a chart overprints another: the bounding boxes of the ``<text>`` elements of each SVG chart do
  not intersect, and none leaves its chart;
- the first screen names who defaults: the first summary card starts within the first 900 pixels and its
  sentences name every institution that defaults in that scenario;
- the analytics show the library's numbers: the top of the systemic-importance table is the top of
  :func:`contagion.measures.systemic_importance`, the VaR and ES are those of the sweep, the reverse-stress
  threshold is :func:`contagion.measures.reverse_stress`'s, the first row of the tornado table is the first
  assumption of :func:`contagion.sensitivity.rank_assumptions`.

Uses the fixtures of ``conftest.py`` (one Chromium per session, every request but the page aborted).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import contagion
from contagion.cli import cli
from contagion.formatting import fmt_amount, humanize
from contagion.report import build_report
from contagion.shocks import Scenario, Shock, list_scenarios

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1280, 900
SWEEP_DRAWS = 1024

TABLES_OVERFLOWING = """() => [...document.querySelectorAll('main table')]
    .filter(t => t.getClientRects().length && t.scrollWidth > t.parentElement.clientWidth + 1)
    .map(t => (t.caption ? t.caption.innerText : t.className).slice(0, 60))"""
OFF_THE_RIGHT = """() => { const w = document.documentElement.clientWidth;
    return [...document.querySelectorAll('main table, main figure, main p, main h2')]
        .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > w + 0.5)
        .map(e => e.tagName + ' ' + e.innerText.slice(0, 40)); }"""
LABEL_CLASHES = """() => { const out = [];
    document.querySelectorAll('svg.chart').forEach(svg => {
        const name = svg.getAttribute('aria-label').slice(0, 40);
        const frame = svg.getBoundingClientRect();
        const boxes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
            .map(t => [t.textContent, t.getBoundingClientRect()]).filter(b => b[1].width > 0);
        for (let i = 0; i < boxes.length; i++) {
            const a = boxes[i][1];
            if (a.left < frame.left - 1 || a.right > frame.right + 1 || a.top < frame.top - 1
                || a.bottom > frame.bottom + 1) out.push([name, boxes[i][0], 'outside the chart']);
            for (let j = i + 1; j < boxes.length; j++) {
                const b = boxes[j][1];
                const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (dx > 0.5 && dy > 0.5) out.push([name, boxes[i][0], boxes[j][0]]);
            }
        }
    });
    return out; }"""
TEXT_COUNT = "() => [...document.querySelectorAll('svg.chart')].map(s => s.querySelectorAll('text').length)"


def _section_rows(page, section: str) -> list[list[str]]:
    return page.evaluate(f"""() => [...document.querySelectorAll('section#{section} table tbody tr')]
        .map(tr => [...tr.querySelectorAll('th, td')].map(c => c.innerText.replace(/\\s+/g, ' ').trim()))""")


@pytest.fixture(scope="module")
def board():
    """The built-in network under every scenario it ships (the path-only ones clear as the network as given in a
    one-year report, with a warning), with every analytics section."""
    net = contagion.load_dataset("ai-infrastructure")
    names = list(list_scenarios(net))
    assert len(names) >= 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # path-only scenarios: the one-year clearing skips them
        rep = build_report(net, names, generated="2025-01-01", rank=True, sweep="ai-demand-uncertainty",
                           draws=SWEEP_DRAWS, reverse_stress=["CoreWeave:external_assets:OpenAI"],
                           sensitivity="CoreWeave")
    return net, rep, rep.to_html()


def test_every_shipped_scenario_fits_the_page_and_no_label_overprints(open_html, board):
    net, rep, html = board
    loaded = open_html(html, width=WIDTH, height=HEIGHT)
    page = loaded.page
    assert page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]") == [WIDTH, WIDTH]
    assert page.evaluate(TABLES_OVERFLOWING) == []
    assert page.evaluate(OFF_THE_RIGHT) == []
    charts = page.locator("svg.chart")
    assert charts.count() == 7            # 3 summary charts, systemic importance, loss distribution, PDs, tornado
    assert min(page.evaluate(TEXT_COUNT)) > 5
    assert page.evaluate(LABEL_CLASHES) == []
    # every scenario is a column of Table 1, its name set upright and whole
    heads = page.locator("#summary table thead th.scen")
    assert heads.count() == len(rep.names) and heads.all_inner_texts() == rep.names
    longest = max(rep.names, key=len)
    box = page.locator(f"#summary table thead th.scen[title='{longest}'] span").evaluate(
        "e => [e.scrollHeight, e.clientHeight]")
    assert box[0] <= box[1]                                        # not cut
    # the across-scenarios table: one column per scenario, defaults shaded with their wave
    across = page.locator("table.across").first
    assert across.locator("thead th.scen").count() == len(rep.names)
    wave = rep.compare_institutions("wave")
    assert across.locator("td.dflt").count() == int((wave.loc[[r for r in wave.index
                                                               if (wave.loc[r] >= 0).any()]] >= 0).sum().sum())
    _clean(loaded)


def test_first_screen_names_who_defaults(open_html, board):
    net, rep, html = board
    loaded = open_html(html, width=WIDTH, height=HEIGHT)
    page = loaded.page
    first = rep.runs[0]
    defaulters = [net.names[i] for i in range(net.n) if first.result.defaulted[i]]
    assert defaulters, "the first shipped scenario should make someone default"
    card = page.locator(".card").first
    assert card.locator("h3").inner_text() == rep.names[0]
    assert card.bounding_box()["y"] < HEIGHT
    story = card.locator("ul.story").inner_text()
    for name in defaulters:
        assert f"{name} defaults (wave" in story
    _clean(loaded)


def test_analytics_sections_show_the_library_numbers(open_html, board):
    from contagion.measures import reverse_stress, systemic_importance
    from contagion.sensitivity import rank_assumptions

    net, rep, html = board
    loaded = open_html(html, width=WIDTH, height=HEIGHT)
    page = loaded.page
    ranking = systemic_importance(net)
    rows = _section_rows(page, "importance")
    assert rows[0][:2] == ["1", f"{ranking.index[0]} {humanize(ranking['type'].iloc[0])}"]
    assert rows[0][3] == fmt_amount(ranking["system_loss"].iloc[0])
    res = rep.analytics.sweep
    assert res.n == SWEEP_DRAWS
    dist = {r[0]: r[1:] for r in _section_rows(page, "distribution")}
    for q in res.levels:
        assert dist[f"VaR {100 * q:g}%"][0] == fmt_amount(res.var(q))
        assert dist[f"Expected shortfall (ES) {100 * q:g}%"][:2] == [fmt_amount(res.es(q)), fmt_amount(res.es_se(q))]
    top = res.ranking()[0]
    assert dist[f"{net.names[top]} {humanize(net.types[top])}"][0] == f"{res.default_probability[top]:.2%}"
    rs = reverse_stress(net, "CoreWeave", "external_assets:OpenAI")
    rev = _section_rows(page, "reverse")
    assert rev[0][0] == "CoreWeave" and rev[0][2] == f"{rs.threshold:.4%}"
    tornado = rank_assumptions(net, "CoreWeave", ())
    sens = _section_rows(page, "sensitivity")
    assert sens[0][0].split()[0] == tornado.index[0]
    _clean(loaded)


def test_printed_layout_fits_a4_landscape(open_html, board):
    """The page as the browser prints it (print media, A4 landscape less the margins: 273 mm = 1032 px):
    nothing wider than the paper."""
    net, rep, _ = board
    loaded = open_html(rep.to_html(for_print=True), width=1032, height=690)
    page = loaded.page
    page.emulate_media(media="print")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1032
    assert page.evaluate(TABLES_OVERFLOWING) == []
    assert page.locator("iframe").count() == 0 and page.locator("details:not([open])").count() == 0
    _clean(loaded)


def test_hostile_names_in_the_analytics_run_nothing(open_html):
    nodes = __import__("pandas").DataFrame({
        "id": ["a", "b", "c"], "name": ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "c"],
        "type": ["<svg onload=window.__pwned=1>", "bank", "bank"], "external_assets": [1, 5, 2],
        "external_liabilities": [5, 1, 1]})
    edges = __import__("pandas").DataFrame({"debtor": ["a", "b"], "creditor": ["b", "c"], "amount": [4, 3]})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)
    scen = Scenario("<b onmouseover=alert(3)>x</b>", "", [Shock("external_assets", target="b", relative=0.5)])
    html = build_report(net, [scen], generated="2025-01-01", rank=True,
                        reverse_stress=[(net.names[1], "external_assets:a")]).to_html()
    loaded = open_html(html, width=WIDTH, height=HEIGHT)
    page = loaded.page
    assert loaded.dialogs == [] and page.evaluate("() => window.__pwned === undefined")
    assert page.evaluate("() => document.querySelectorAll('main img, main script, main b').length") == 0
    assert page.locator("section#importance").inner_text().count("<script>alert(1)</script>") >= 1
    assert page.locator("section#reverse h3").first.inner_text().startswith("<img src=x onerror=alert(2)>")
    _clean(loaded)


# ---------------------------------------------------------------------------- PDF through the browser
def _chromium() -> str:
    """The Chromium of the browser fixtures (conftest.py: the Debian package, or $CONTAGION_CHROMIUM)."""
    chromium = os.environ.get("CONTAGION_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        message = f"headless Chromium not found at {chromium}"
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(message + " -- browser tests must run in CI", pytrace=False)
        pytest.skip(message)
    return chromium


def _pages(pdf: bytes) -> tuple[int, list[tuple[float, float]]]:
    """The number of ``/Type /Page`` objects of a PDF and the (width, height) in points of every ``/MediaBox``."""
    count = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    boxes = [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in
             re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)]
    return count, boxes


@pytest.mark.parametrize("wide", [False, True], ids=["one-scenario-portrait", "seven-scenarios-landscape"])
def test_pdf_is_printed_by_the_browser(tmp_path, monkeypatch, wide):
    monkeypatch.setenv("CONTAGION_CHROMIUM", _chromium())
    out = tmp_path / "report.pdf"
    args = ["report", "core-periphery", "-s", "core-shock", "--rank", "-f", "pdf", "-o", str(out)]
    if wide:
        for k in range(1, 7):
            scen = tmp_path / f"loss-{k}.toml"
            scen.write_text(f'name = "core-loses-{10 * k}"\n[[shocks]]\nkind = "external_assets"\ntarget = "C"\n'
                            f"absolute = {10 * k}\n", encoding="utf-8")
            args[4:4] = ["-s", str(scen)]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    count, boxes = _pages(pdf)
    assert count >= 2 and len(boxes) >= count
    a4 = (595.3, 841.9) if not wide else (841.9, 595.3)             # A4 in points (Chromium rounds to ~1 pt)
    assert all(w == pytest.approx(a4[0], abs=2) and h == pytest.approx(a4[1], abs=2) for w, h in boxes), boxes
    assert f"wrote {out} (" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".pdf") == ["report.pdf"]   # no temp left
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    # offline: the PDF links nowhere
    assert b"/URI" not in pdf


def _clean(loaded):
    assert loaded.console_errors == []
    assert loaded.page_errors == []
    assert loaded.blocked == []
    assert set(loaded.requests) == {loaded.url}
