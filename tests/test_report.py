"""Unit tests of the stress-test report (contagion.report) and of `contagion view` / `contagion report`.

Hand-derived numbers:

- core-periphery, scenario core-shock (Glasserman & Young 2015, section 4; graphs/core-periphery/README.md):
  5 defaults (core in wave 0, four periphery banks in wave 1), total shortfall 88, system loss 94 + 88 = 182
  against 178 without the network. The periphery banks lose 6 each on their claims of 10 (24 in all); outside
  creditors lose 84 x 100/140 = 60 on the core and 1 on each periphery bank (64).
- chain (graphs/chain/README.md): with B's outside assets halved (6 -> 3) and nothing else, A pays 5 (wave 0),
  B holds 3 + 5 = 8 < 15 (13 < 15 even if A paid in full: wave 0) and pays 8, C receives 8 x 10/15 = 16/3 and pays 0.5 + 16/3 = 35/6; total shortfall
  5 + 7 + 13/6 = 85/6. Applied on top of 'a-fails' (A pays 0) it would be 10 + 12 + 5.5 = 27.5 instead.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.dom.minidom
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import contagion
from contagion.cli import cli
from contagion.report import _md, build_report, render, render_markdown, result_html
from contagion.shocks import Scenario, Shock

SECTIONS = ["summary", "scenarios", "waves", "losses", "institutions", "network", "methodology", "provenance"]


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self.urls += [a[k] for k in ("src", "href", "action", "poster", "data", "xlink:href") if a.get(k) is not None]
        self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", a.get("style") or "")
        if tag == "iframe" and a.get("srcdoc"):
            inner = _Scan()
            inner.feed(a["srcdoc"])
            self.urls += inner.urls
            self.tags += inner.tags
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False if tag == "style" else self._in_style

    def handle_data(self, data):
        if self._in_style:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    return s


@pytest.fixture(scope="module")
def core_report():
    return build_report(contagion.load_dataset("core-periphery"), ["core-shock"], generated="2025-01-01")


# ---------------------------------------------------------------------------- numbers
def test_headline_figures_core_periphery(core_report):
    table = core_report.summary_table()["core-shock"]
    assert table["Defaults"] == 5 and table["Fundamental defaults (wave 0)"] == 1 and table["Last wave"] == 1
    assert table["Shock to outside assets"] == pytest.approx(94)
    assert table["Total shortfall"] == pytest.approx(88)
    assert table["System loss"] == pytest.approx(182)
    assert table["System loss without network"] == pytest.approx(178)
    assert table["Loss amplification"] == pytest.approx(182 / 178)
    assert core_report.defaults_by_wave()["core-shock"].tolist() == [1, 4]
    losses = core_report.losses_by_creditor_type()["core-shock"]
    assert losses.to_dict() == pytest.approx({"bank": 24.0, "external creditors": 64.0})


def test_institution_table_core_periphery(core_report):
    t = core_report.institutions(0)
    assert t["name"].tolist()[0] == "Core" and t["wave"].tolist() == [0, 1, 1, 1, 1]
    core = t.iloc[0]
    assert (core.obligations, core.payment, core.shortfall) == pytest.approx((140, 56, 84))
    assert (core.equity_pre_shock, core.equity, core.capital_depletion) == pytest.approx((10, -84, 1.0))
    p = t.iloc[1]
    assert (p.payment, p.equity_pre_shock, p.equity, p.capital_depletion) == pytest.approx((54, 5, -1, 1.0))


def test_report_tables_use_the_numbers_of_run_with_guarantees():
    """On the built-in network Meta owes 10.71 in 2027 and a residual value guarantee on Hyperion capped at 27.3
    that is out of the money: before the scenario its equity is 21.41, as `run` says (the caps counted as owed
    made the report's pre-shock equity -5.89 and listed Meta as moved by every scenario)."""
    net = contagion.load_dataset("ai-infrastructure")
    rep = build_report(net, ["openai-revenue-shortfall"], generated="2026-01-01")
    run = contagion.stress(net, ["openai-revenue-shortfall"]).to_frame()
    t = rep.institutions(0).set_index("name")
    for col in ("obligations", "payment", "shortfall", "equity_pre_shock", "equity"):
        np.testing.assert_array_equal(t.loc[run.index, col].to_numpy(), run[col].to_numpy(), err_msg=col)
    assert t.loc["Meta", "equity_pre_shock"] == pytest.approx(21.411129) and t.loc["Meta", "obligations"] == 10.705565
    long = rep.institutions_by_scenario().set_index("name")
    np.testing.assert_array_equal(long.loc[run.index, "equity_pre_shock"].to_numpy(), run["equity_pre_shock"])


def test_report_counts_an_unpaid_guarantee_call_once():
    """S (4) owes B 10, guaranteed by G (2): G pays 2 of the call of 6. The headline table gives the shortfall
    of 10 (the table's column), the 4 of it that is G's unpaid call, and the system loss of 6 that `run` gives;
    B's loss by creditor type is 4 (its equity falls 10 -> 6)."""
    import pandas as pd

    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [10.0, 10.0],
                      "kind": ["loan", "guarantee"], "covers": [None, "e1"]}),
        pd.DataFrame({"id": ["S", "G", "B"], "type": ["firm", "firm", "bank"], "external_assets": [4.0, 2.0, 0.0]}))
    rep = build_report(net, [], generated="2026-01-01")
    col = rep.summary_table().iloc[:, 0]
    assert (col["Total shortfall"], col["Unpaid guarantee calls (counted once)"], col["System loss"]) == (10, 4, 6)
    assert col["Loss amplification"] == 1.0
    assert rep.losses_by_creditor_type().iloc[:, 0].to_dict() == {"bank": 4.0, "external creditors": 0.0}
    assert "counted once" in rep.to_html()
    assert "Unpaid guarantee calls" not in build_report(contagion.load_dataset("chain"), [], generated="2026-01-01"
                                                        ).summary_table().index


def test_scenarios_are_applied_separately():
    net = contagion.load_dataset("chain")
    halve_b = Scenario("b-halved", "B loses half its outside assets",
                       [Shock("external_assets", target="B", relative=0.5)])
    rep = build_report(net, ["a-fails", halve_b], generated="2025-01-01")
    assert rep.names == ["a-fails", "b-halved"]
    table = rep.summary_table()
    assert table.loc["Total shortfall", "a-fails"] == pytest.approx(22.5)
    assert table.loc["Total shortfall", "b-halved"] == pytest.approx(85 / 6)      # not 27.5 (composed)
    assert table.loc["Shock to outside assets", "b-halved"] == pytest.approx(3)
    assert len(rep.runs[1].shocks) == 1 and rep.runs[1].shocks[0] == "B: outside assets fall by 50%"
    waves = rep.defaults_by_wave()
    # b-halved: B holds 3 + 10 = 13 < 15 even if A paid in full, so A and B are fundamental; C falls in wave 1
    assert waves["a-fails"].tolist() == [1, 1, 1] and waves["b-halved"].tolist() == [2, 1, 0]


def test_no_scenario_and_prebuilt_networks():
    net = contagion.load_dataset("core-periphery")
    rep = build_report(net, generated="2025-01-01")
    assert rep.names == ["No scenario"] and rep.runs[0].result.n_defaults == 0
    hit = net.replace(external_assets=[50, 50, 56, 50, 50])
    rep = build_report(net, [("by hand", hit)], generated="2025-01-01")
    assert rep.names == ["by hand"] and rep.summary_table().loc["System loss", "by hand"] == pytest.approx(182)
    with pytest.raises(contagion.ContagionError):
        build_report(net, [contagion.load_dataset("chain")])


@pytest.mark.slow
def test_rogers_veraart_parameters_are_reported():
    rep = build_report(contagion.load_dataset("core-periphery"), ["core-shock"], method="rogers-veraart",
                       alpha=0.5, beta=0.9, generated="2025-01-01")
    assert rep.params == {"alpha": 0.5, "beta": 0.9}
    html = rep.to_html()
    assert "rogers-veraart (alpha = 0.5, beta = 0.9)" in html


# ---------------------------------------------------------------------------- HTML
@pytest.mark.slow
def test_html_has_every_section_and_no_external_url(core_report):
    html = core_report.to_html()
    found = scan(html)
    sections = [a.get("data-section") for t, a in found.tags if t == "section" and a.get("data-section")]
    assert sections[:8] == SECTIONS
    bad = [u for u in found.urls if not (u.startswith("#") or u.startswith("data:"))]
    assert bad == []
    assert not [a for t, a in found.tags if t == "script" and "src" in a]
    assert not [t for t, a in found.tags if t == "link"]
    assert sum(1 for t, a in found.tags if t == "svg" and a.get("class") == "chart") == 3
    iframes = [a for t, a in found.tags if t == "iframe"]
    assert len(iframes) == 1 and iframes[0]["sandbox"] == "allow-scripts"
    assert "Glasserman" in html and "182.00" in html and "1.02\u00d7" in html
    # provenance: the dataset files with their SHA-256
    import hashlib

    nodes_csv = Path(contagion.datasets.dataset_path("core-periphery")) / "nodes.csv"
    assert hashlib.sha256(nodes_csv.read_bytes()).hexdigest() in html


@pytest.mark.slow
def test_readme_links_are_shown_as_text_not_linked(tmp_path):
    net = contagion.load_dataset("chain")
    folder = tmp_path / "net"
    contagion.write_network(net, folder)
    (folder / "README.md").write_text("# Title\n\nSee [the source](https://example.org/x) and "
                                      "![chart](https://example.org/a.png) <script>alert(1)</script>\n",
                                      encoding="utf-8")
    net2 = contagion.read_network(folder)
    html = render(net2, generated="2025-01-01")
    found = scan(html)
    assert [u for u in found.urls if "example.org" in u] == []
    assert "[https://example.org/x]" in html and "[image: chart]" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_states_the_one_year_figure_of_debt_rows_without_an_amount(tmp_path):
    """A debt row read without an amount (DESIGN §7) counts a year's interest in one-year figures: both reports say
    so in their data provenance, in words, not as the metadata key."""
    folder = tmp_path / "net"
    folder.mkdir()
    (folder / "nodes.csv").write_text("id,external_assets\nA,20\nB,0\n")
    (folder / "edges.csv").write_text("debtor,creditor,amount,principal,rate,maturity\nA,B,,100,0.05,2028\n")
    with pytest.warns(UserWarning, match="1 debt row without an amount"):
        net = contagion.read_network(folder)
    said = "debt rows without an amount"
    html = render(net, generated="2025-01-01")
    cell = re.search(rf"{said}</th>\s*<td>([^<]*)</td>", html)
    assert cell is not None and cell.group(1).startswith("1: their one-year figure is a year&#39;s interest")
    assert "amounts_from_interest" not in html
    md = render_markdown(net, generated="2025-01-01")["report.md"].decode("utf-8")
    assert f"- {said}: 1: their one-year figure is a year's interest on the principal (principal \u00d7 rate)" in md


def _hostile():
    nodes = pd.DataFrame({"id": ["a", "b", "c"], "name": ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
                                                          "=HYPERLINK(\"http://x\")"],
                          "type": ["</script><b>t</b>", "bank $x$ |pipe|", "bank"],
                          "external_assets": [1, 5, 2], "external_liabilities": [5, 1, 1]})
    edges = pd.DataFrame({"debtor": ["a", "b"], "creditor": ["b", "c"], "amount": [4, 3], "kind": ["loan", "<u>k</u>"]})
    net = contagion.FinancialNetwork.from_edges(edges, nodes, metadata={"dataset": "x<script>"})
    scen = Scenario('<img src=x onerror=alert(2)>', "desc <script>alert(3)</script> | *bold*",
                    [Shock("external_assets", target="b", relative=0.5)])
    return net, scen


@pytest.mark.slow
def test_hostile_names_in_the_html_report():
    net, scen = _hostile()
    html = render(net, [scen], generated="2025-01-01", title="<b>T</b>")
    outside_iframe = re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', html)
    for raw in ("<script>alert", "<img src=x", "<b>t</b>", "<u>k</u>", "<b>T</b>"):
        assert raw not in outside_iframe
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    # chart text goes through matplotlib's SVG escaping and mathtext is off ("$x$" stays literal)
    assert "&lt;/script&gt;&lt;b&gt;t&lt;/b&gt;" in html and "bank $x$ |pipe|" in html
    tags = scan(html).tags
    assert not [a for t, a in tags if t == "img"]
    assert not [a for t, a in tags if any(k.startswith("on") for k in a)]


# ---------------------------------------------------------------------------- Markdown
@pytest.mark.slow
def test_markdown_folder_contents():
    net = contagion.load_dataset("core-periphery")
    files = render_markdown(net, ["core-shock"], generated="2025-01-01")
    assert set(files) == {
        "report.md", "view.html",
        "figures/system-loss.svg", "figures/system-loss.png",
        "figures/defaults-by-wave.svg", "figures/defaults-by-wave.png",
        "figures/losses-by-creditor-type.svg", "figures/losses-by-creditor-type.png",
        "tables/summary.csv", "tables/defaults-by-wave.csv", "tables/losses-by-creditor-type.csv",
        "tables/institutions-core-shock.csv", "tables/across-scenarios.csv",
    }
    md = files["report.md"].decode("utf-8")
    for heading in ("## 1 Summary", "## 2 Scenarios", "## 3 Defaults by wave", "## 4 Losses by creditor type",
                    "## 5 Institutions", "## 6 Network view", "## 7 Methodology", "## 8 Data provenance"):
        assert heading in md
    assert "| System loss | 182.00 |" in md and "(figures/system-loss.png)" in md
    for stem in ("system-loss", "defaults-by-wave", "losses-by-creditor-type"):
        assert files[f"figures/{stem}.png"].startswith(b"\x89PNG\r\n\x1a\n")
        xml.dom.minidom.parseString(files[f"figures/{stem}.svg"])         # well-formed SVG
    rows = list(csv.DictReader(io.StringIO(files["tables/institutions-core-shock.csv"].decode())))
    assert len(rows) == 5 and rows[0]["name"] == "Core" and float(rows[0]["shortfall"]) == 84.0
    summary = list(csv.DictReader(io.StringIO(files["tables/summary.csv"].decode())))
    assert {r["measure"]: float(r["core-shock"]) for r in summary}["System loss"] == 182.0
    assert files["view.html"].startswith(b"<!DOCTYPE html>")


@pytest.mark.slow
def test_markdown_escapes_hostile_text_and_guards_csv_formulas():
    net, scen = _hostile()
    files = render_markdown(net, [scen], generated="2025-01-01")
    md = files["report.md"].decode("utf-8")
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "ank $x$ |pipe|" not in md and r"Bank \$x\$ \|pipe\|" in md      # the type in words, escaped
    slug = [p for p in files if p.startswith("tables/institutions-")]
    assert slug == ["tables/institutions-img-src-x-onerror-alert-2.csv"]
    rows = list(csv.DictReader(io.StringIO(files[slug[0]].decode())))
    assert "'=HYPERLINK(\"http://x\")" in [r["name"] for r in rows]


def test_md_escape_examples():
    assert _md("a|b") == r"a\|b"
    assert _md("1. not a list") == r"\1. not a list"
    assert _md("[x](javascript:alert(1))") == r"\[x\](javascript:alert(1))"
    assert _md("line\nbreak") == "line break"


# ---------------------------------------------------------------------------- Jupyter
def test_repr_html_of_result_and_report(core_report):
    net = contagion.load_dataset("core-periphery").replace(external_assets=[50, 50, 56, 50, 50])
    html = contagion.clear(net)._repr_html_()
    assert "Defaults</b> 5 of 5" in html and "88.00" in html and "<script" not in html
    net2, _ = _hostile()
    html2 = result_html(contagion.clear(net2))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html2 and "<script>" not in html2
    rep_html = core_report._repr_html_()
    assert rep_html.startswith("<iframe") and "<script" not in rep_html.split("srcdoc=")[1][:2000]


# ---------------------------------------------------------------------------- CLI and atomic writes
def test_cli_report_html_md_and_view(tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.html"
    res = runner.invoke(cli, ["report", "core-periphery", "-s", "core-shock", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    md_dir = tmp_path / "md"
    res = runner.invoke(cli, ["report", "chain", "-s", "a-fails", "--format", "md", "-o", str(md_dir)])
    assert res.exit_code == 0, res.output
    assert (md_dir / "report.md").is_file() and (md_dir / "tables" / "institutions-a-fails.csv").is_file()
    view = tmp_path / "v.html"
    res = runner.invoke(cli, ["view", "core-periphery", "-o", str(view), "--max-nodes", "3"])
    assert res.exit_code == 0, res.output
    page = view.read_text(encoding="utf-8")
    assert "core-shock" in page and "aggregated into" in page
    res = runner.invoke(cli, ["view", "core-periphery", "--baseline", "-o", "-"])
    assert res.exit_code == 0 and res.stdout.startswith("<!DOCTYPE html>")
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert leftovers == []


def test_cli_errors(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["report", "core-periphery", "-s", "no-such-scenario", "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 1 and "unknown scenario 'no-such-scenario'" in res.output
    (tmp_path / "file").write_text("x")
    res = runner.invoke(cli, ["report", "chain", "-s", "a-fails", "--format", "md", "-o", str(tmp_path / "file")])
    assert res.exit_code == 1 and "not a folder" in res.output
    res = runner.invoke(cli, ["view", "chain", "--alpha", "0.5"])
    assert res.exit_code == 2


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    import contagion.io.atomic as atomic

    out = tmp_path / "r.html"
    out.write_text("old report", encoding="utf-8")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    res = CliRunner().invoke(cli, ["report", "chain", "-s", "a-fails", "-o", str(out)])
    assert res.exit_code != 0
    assert out.read_text(encoding="utf-8") == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


# ---------------------------------------------------------------------------- multi-year paths (issue 14, item 5)
def dated_network(bullet: float = 120.0, cloud_name: str = "Cloud"):
    """A small dated network for the path tests (every number below is derived by hand from it).

    Rows: A ``Cloud -> Fund`` 60 at 5%, bullet 2027, ``rollover always`` for 2 more years; B ``Cloud -> Bank``
    ``bullet`` (120) at 0%, bullet 2028, not rolled; C ``Lab -> Bank`` 30 at 0%, linear to 2028 (10 a year from
    2026); D ``Lab -> Cloud`` a compute contract of 20 a year. Outside assets each year: Cloud 10, Lab 100.

    Cloud: 2026 pays 3 of interest, keeps 10 + 20 - 3 = 27; 2027 A's 60 is rolled (to 2029), keeps 37 + 20 - 3
    = 54; 2028 owes 3 + 120 = 123 with 64 + 20 = 84: defaults, A's 60 is accelerated (owes 183, pays 84, cash 0);
    2029 in default, nothing rolls. Maturity wall: neocloud rolled 60 in 2027, called 120 in 2028; ai_lab called
    10 in 2026, 2027 and 2028.
    """
    edges = pd.DataFrame({
        "debtor": [cloud_name, cloud_name, "Lab", "Lab"], "creditor": ["Fund", "Bank", "Bank", cloud_name],
        "amount": [3.0, 0.0, 10.0, 20.0], "kind": ["loan", "loan", "loan", "compute"],
        "principal": [60.0, bullet, 30.0, None], "rate": [0.05, 0.0, 0.0, None],
        "maturity": [2027, 2028, 2028, None], "amortization": ["bullet", "bullet", "linear", None],
        "rollover": ["always", "none", "none", None], "term_years": [2, None, None, None],
    })
    nodes = pd.DataFrame({"id": [cloud_name, "Lab", "Bank", "Fund"],
                          "type": ["neocloud", "ai_lab", "bank", "private_credit"],
                          "external_assets": [10.0, 100.0, 0.0, 0.0]})
    return contagion.FinancialNetwork.from_edges(edges, nodes)


def test_path_result_has_the_maturity_wall_per_row():
    path = contagion.clear_path(dated_network(), (2026, 2029))
    assert path.default_year == (2028, None, None, None)
    assert path.rolled_by_row.tolist() == [[0, 0, 0, 0], [60, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert path.called_by_row.tolist() == [[0, 0, 10, 0], [0, 0, 10, 0], [0, 120, 10, 0], [0, 0, 0, 0]]
    assert path.rolled_by_row.sum(axis=1).tolist() == path.rolled_principal.tolist()
    assert path.called_by_row.sum(axis=1).tolist() == path.called_principal.tolist()
    assert path.cash[:, 0].tolist() == [27.0, 54.0, 0.0, 0.0]
    assert path.payments[:, 0].tolist() == [3.0, 3.0, 84.0, 30.0]


@pytest.fixture(scope="module")
def path_report():
    freeze = Scenario("cloud-shortfall", "Cloud earns nothing in 2027.",
                      [Shock("external_assets", target="Cloud", absolute=10, year=2027)])
    from contagion.shocks.applying import PathOnlyWarning

    with pytest.warns(PathOnlyWarning, match="a one-year clearing skips them"):  # the one-year sections skip it
        return build_report(dated_network(), [("as given", dated_network()), freeze], horizon=(2026, 2029),
                            generated="2026-01-01")


def test_timeline_of_a_report_over_a_horizon(path_report):
    rep = path_report
    assert rep.horizon == (2026, 2029) and rep.names == ["as given", "cloud-shortfall"]
    # as given: Cloud defaults in 2028 (see dated_network); with 10 less in 2027 it keeps 27 + 20 - 3 = 44 after
    # 2027 and holds 10 + 44 + 20 = 74 < 123 in 2028: the same year
    assert rep.defaults_by_year().to_dict(orient="list") == {"as given": [0, 0, 1, 1], "cloud-shortfall": [0, 0, 1, 1]}
    assert rep.new_defaults_by_year()["as given"].tolist() == [0, 0, 1, 0]
    assert list(rep.defaults_by_year().index) == [2026, 2027, 2028, 2029]
    wall = rep.maturity_wall()
    mine = wall[wall["scenario"] == "as given"].set_index(["year", "borrower_type"])
    assert mine["rolled"].to_dict() == {(2026, "neocloud"): 0.0, (2026, "ai_lab"): 0.0, (2027, "neocloud"): 60.0,
                                        (2027, "ai_lab"): 0.0, (2028, "neocloud"): 0.0, (2028, "ai_lab"): 0.0,
                                        (2029, "neocloud"): 0.0, (2029, "ai_lab"): 0.0}
    assert mine["called"].to_dict() == {(2026, "neocloud"): 0.0, (2026, "ai_lab"): 10.0, (2027, "neocloud"): 0.0,
                                        (2027, "ai_lab"): 10.0, (2028, "neocloud"): 120.0, (2028, "ai_lab"): 10.0,
                                        (2029, "neocloud"): 0.0, (2029, "ai_lab"): 0.0}
    who = rep.path_defaults()
    assert who[["scenario", "name", "type", "default_year", "wave"]].values.tolist() == [
        ["as given", "Cloud", "neocloud", 2028, 0], ["cloud-shortfall", "Cloud", "neocloud", 2028, 0]]
    assert who["shortfall"].tolist() == [99.0, 123.0 + 60.0 - 74.0] and who["cash_before"].tolist() == [54.0, 44.0]
    cash = rep.failing_cash()
    assert cash[cash["scenario"] == "as given"]["cash"].tolist() == [27.0, 54.0, 0.0, 0.0]
    assert cash[cash["scenario"] == "cloud-shortfall"]["cash"].tolist() == [27.0, 44.0, 0.0, 0.0]
    assert rep.summary_table().loc["In default by 2029 (path)"].tolist() == [1, 1]


def test_html_report_over_a_horizon(path_report):
    html = path_report.to_html()
    scanner = _Scan()
    scanner.feed(html)
    assert [u for u in scanner.urls if not u.startswith(("#", "data:"))] == []
    sections = [a["data-section"] for tag, a in scanner.tags if tag == "section" and "data-section" in a]
    assert sections == ["summary", "timeline"] + SECTIONS[1:]
    assert 'href="#timeline">2 Timeline 2026&ndash;2029</a>' in html and "9 Data provenance" in html
    assert "<span>Clearing: eisenberg-noe, one year and year by year 2026&ndash;2029</span>" in html  # masthead
    assert html.count('class="chart"') == 6
    assert "Table 2. Institutions in default at the end of each year" in html
    assert "Figure 3. Cash each institution" in html and "Figure 4. Principal falling due" in html
    assert "Figure 5. Institutions defaulting in each scenario, by wave" in html
    assert "<td class=\"num\">1 (+1)</td>" in html
    assert "Rolled over, all types" in html and ">60.00<" in html and ">120.00<" in html
    assert ">AI lab<" in html and ">ai_lab<" not in html          # the wall's rows in words, as every table
    # the page says what the one-year sections leave out (the CLI said it only on stderr)
    assert "The one-year clearing leaves out 1 shock dated to a year or ruling the path" in html
    assert "the timeline applies it." in html
    assert "In default by 2029" in html and "First default" in html
    view = path_report.view_html()
    block = re.search(r'<script type="application/json" id="contagion-data">(.*?)</script>', view, re.S).group(1)
    assert json.loads(block)["timeline"] == {"years": [2026, 2027, 2028, 2029], "groups": ["as given", "cloud-shortfall"],
                                             "top": 1}


def test_markdown_report_over_a_horizon(path_report):
    files = path_report.to_markdown()
    for stem in ("defaults-by-year", "maturity-wall", "cash-of-failing"):
        assert f"figures/{stem}.svg" in files and f"figures/{stem}.png" in files
    rows = list(csv.DictReader(io.StringIO(files["tables/maturity-wall.csv"].decode())))
    assert {(r["scenario"], r["year"], r["borrower_type"]): (r["rolled"], r["called"]) for r in rows}[
        ("as given", "2028", "neocloud")] == ("0.0", "120.0")
    by_year = list(csv.DictReader(io.StringIO(files["tables/defaults-by-year.csv"].decode())))
    assert [(r["year"], r["as given"], r["as given (new)"]) for r in by_year] == [
        ("2026", "0", "0"), ("2027", "0", "0"), ("2028", "1", "1"), ("2029", "1", "0")]
    assert "tables/path-defaults.csv" in files
    md = files["report.md"].decode()
    assert "clearing: eisenberg-noe, one year and year by year 2026–2029;" in md.splitlines()[2]
    assert "## 2 Timeline 2026–2029" in md and "## 3 Scenarios" in md and "## 9 Data provenance" in md
    assert "| as given | Cloud | Neocloud | 2028 | 0 | 99.00 | 54.00 |" in md
    assert "](figures/maturity-wall.png)" in md


def test_report_timeline_escapes_names():
    name = "<script>x</script>"
    rep = build_report(dated_network(cloud_name=name), [], horizon=(2026, 2029), generated="2026-01-01")
    html = rep.to_html()
    assert name not in html.replace('srcdoc="', "")  # the embedded view is in an escaped attribute
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    md = rep.to_markdown()["report.md"].decode()
    assert "<script>" not in md and "&lt;script&gt;x&lt;/script&gt;" in md


def test_cli_report_with_a_horizon(tmp_path):
    folder = tmp_path / "dated"
    contagion.write_network(dated_network(), folder)
    runner = CliRunner()
    out = tmp_path / "r.html"
    res = runner.invoke(cli, ["report", str(folder), "--horizon", "2026:2029", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "timeline: each scenario cleared year by year, 2026-2029" in res.stderr
    assert 'id="timeline"' in out.read_text(encoding="utf-8")
    md_dir = tmp_path / "md"
    res = runner.invoke(cli, ["report", str(folder), "--horizon", "2026:2029", "-f", "md", "-o", str(md_dir)])
    assert res.exit_code == 0, res.output
    for rel in ("report.md", "figures/maturity-wall.svg", "figures/cash-of-failing.png", "tables/maturity-wall.csv",
                "tables/defaults-by-year.csv", "tables/path-defaults.csv", "tables/cash-of-failing.csv", "view.html"):
        assert (md_dir / rel).is_file(), rel
    res = runner.invoke(cli, ["report", str(folder), "--horizon", "20x6", "-o", str(out)])
    assert res.exit_code == 2 and "FIRST:LAST" in res.output


def test_cli_report_with_a_horizon_notes_that_the_timeline_applies_the_dated_shocks(tmp_path):
    """The one-year sections skip a scenario's dated shocks and the timeline applies them: with --horizon the
    report says so in one note instead of the one-year warning that they are skipped (kept without it)."""
    folder = tmp_path / "dated"
    contagion.write_network(dated_network(), folder)
    (folder / "late.toml").write_text('name = "late"\n[[shocks]]\nkind = "external_assets"\ntarget = "Cloud"\n'
                                      'absolute = 5\nyear = 2027\n[[shocks]]\nkind = "external_assets"\n'
                                      'target = "Cloud"\nabsolute = 1\n', encoding="utf-8")
    out = tmp_path / "r.html"
    res = CliRunner().invoke(cli, ["report", str(folder), "-s", str(folder / "late.toml"), "--horizon", "2026:2029",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert ("note: the one-year sections skip 1 shock with a year or a freeze/collateral rule "
            f"({folder / 'late.toml'}: scenario 'late': shocks[0]); the timeline (2026-2029) applies it") in res.stderr
    assert "a one-year clearing skips them" not in res.stderr
    res = CliRunner().invoke(cli, ["report", str(folder), "-s", str(folder / "late.toml"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert f"warning: 1 shock ({folder / 'late.toml'}: scenario 'late': shocks[0]) with a year" in res.stderr
    assert "the timeline" not in res.stderr


# ---------------------------------------------------------------------------- the first screen, in words
def test_first_screen_names_who_defaults_and_who_bears_it_chain():
    # chain: A owes B 10; B owes C 10 and 5 outside, holds 6; C owes 8 outside, holds 0.5.
    # a-fails forces A into default paying nothing: B loses 10, holds 6 against 15 owed -> pays 6, leaves 9
    # unpaid, borne pro rata by C (10/15 x 9 = 6) and outside creditors (5/15 x 9 = 3); C then holds
    # 0.5 + 4 = 4.5 against 8 owed outside and leaves 3.5 unpaid to them.
    rep = build_report(contagion.load_dataset("chain"), ["a-fails"], generated="2025-01-01")
    expected = ["A defaults (wave 0, fundamental) and leaves 10.00 unpaid; B (10.00) bears it.",
                "B defaults (wave 1) and leaves 9.00 unpaid; C (6.00) and outside creditors (3.00) bear it.",
                "C defaults (wave 2) and leaves 3.50 unpaid; outside creditors (3.50) bear it."]
    html = rep.to_html()
    first_table = html.index("<table")
    for sentence in expected:
        assert 0 <= html.index(sentence) < first_table  # in the summary cards, above Table 1
    md = rep.to_markdown()["report.md"].decode()
    assert re.search(re.escape("- **a-fails:** " + " ".join(expected)) + r"\n\n+\| Measure \|", md)
    assert md.index(expected[0]) < md.index("| Measure |")
    # the loss bearers add up to what each defaulter leaves unpaid
    from contagion.report.story import loss_bearers

    frame = loss_bearers(rep.runs[0].result)
    assert frame.groupby("debtor")["loss"].sum().to_dict() == pytest.approx({"A": 10.0, "B": 9.0, "C": 3.5})


def test_first_screen_core_periphery_lists_the_largest_bearers_and_the_rest(core_report):
    # the core holds 150 - 94 = 56 against 140 owed (100 outside, 10 to each periphery bank): it leaves 84 unpaid,
    # 100/140 x 84 = 60 to outside creditors and 10/140 x 84 = 6 to each periphery bank; each periphery bank then
    # holds 50 + 4 = 54 against 55 owed outside and leaves 1 unpaid to outside creditors (wave 1).
    html = core_report.to_html()
    assert ("Core defaults (wave 0, fundamental) and leaves 84.00 unpaid; outside creditors (60.00), "
            "Periphery 1 (6.00), Periphery 2 (6.00) and 2 other creditors (12.00) bear it.") in html
    assert "Periphery 1 defaults (wave 1) and leaves 1.00 unpaid; outside creditors (1.00) bear it." in html
    from contagion.report.story import default_sentences

    lines = default_sentences(core_report.runs[0].result, limit=2)
    assert lines[-1] == "3 more institutions default (wave 1) and leave 3.00 unpaid."
    assert default_sentences(core_report.runs[0].result, limit=4)[-1] == \
        "1 more institution defaults (wave 1) and leaves 1.00 unpaid."        # (it read "default ... and leave")
    assert default_sentences(build_report(contagion.load_dataset("core-periphery"), [], generated="x").runs[0].result) == [
        "No institution defaults."]


# ---------------------------------------------------------------------------- shocks in words
def test_shocks_are_described_with_names_kinds_and_rounded_amounts():
    from contagion.report.story import describe_shock

    net = contagion.load_dataset("ai-infrastructure")
    row = net.edges.set_index("edge_id").loc["e069"]
    debtor, creditor = (net.names[list(net.ids).index(row[k])] for k in ("debtor", "creditor"))
    text = describe_shock(Shock("edges", select={"edge_id": "e069"}, value=1.45031), net)
    assert text == f"obligation {debtor} \u2192 {creditor} (loan): set to 1.45 (was {float(row['amount']):.3g})"
    assert "e069" not in text and "edge_id" not in text
    assert describe_shock(Shock("external_assets", select={"type": "neocloud"}, relative=0.3), net) == (
        "every neocloud: outside assets fall by 30%")
    assert describe_shock(Shock("external_assets", target="openai", absolute=1.797656), net) == (
        "OpenAI: outside assets fall by 1.8")
    chain = contagion.load_dataset("chain")
    assert describe_shock(Shock("default", target="B", recovery=0.25), chain) == (
        "B forced into default, paying at most 25% of what it owes")


def test_report_shock_lines_name_no_edge_ids():
    net = contagion.load_dataset("ai-infrastructure")
    scen = Scenario("one-edge", "Two edge shocks.", [Shock("edges", select={"edge_id": "e069"}, value=1.45031),
                                                     Shock("edges", select={"kind": "revenue_share"}, factor=0.7)])
    rep = build_report(net, [scen], generated="2025-01-01")
    assert rep.runs[0].shocks[0].endswith(": set to 1.45 (was 0.916)")
    assert rep.runs[0].shocks[1] == "obligation OpenAI \u2192 Microsoft (revenue share): \u00d7 0.7"
    html = rep.to_html()
    scen_section = html[html.index('id="scenarios"'):html.index('id="waves"')]
    assert "edge_id" not in scen_section and "e069" not in scen_section and "1.45031" not in scen_section
    assert "set to 1.45 (was 0.916)" in scen_section
    md = rep.to_markdown()["report.md"].decode()
    assert "edge\\_id" not in md and "edge_id" not in md and "set to 1.45 (was 0.916)" in md


# ---------------------------------------------------------------------------- no path of the machine; provenance
def _checkout() -> str:
    return str(Path(contagion.__file__).resolve().parent.parent)


def test_no_absolute_path_in_the_report_and_provenance_by_file_name(tmp_path):
    import hashlib

    net = contagion.load_dataset("chain")
    folder = tmp_path / "my-net"
    contagion.write_network(net, folder)
    readme = ("# My network\n\nThree banks in a row, from /home/ana/private/notes.txt.\nSecond line of the paragraph.\n\n"
              "## Build notes\n\n" + "A long build note that must not be pasted. " * 200 + "\n")
    (folder / "README.md").write_text(readme, encoding="utf-8")
    own = contagion.read_network(folder)
    assert str(tmp_path) in str(own.metadata["source"])  # the metadata does hold the path ...
    rep = build_report(own, [Scenario("a-fails", "A fails.", [Shock("default", target="A")])], generated="2025-01-01")
    html = rep.to_html()
    files = rep.to_markdown()
    texts = {"report.html": html, **{p: b.decode("utf-8") for p, b in files.items() if not p.endswith(".png")}}
    for name, text in texts.items():  # ... the report does not
        for path in (str(tmp_path), _checkout(), "/tmp/", "/home/ana"):
            assert path not in text, (name, path)
    md = files["report.md"].decode()
    prov_html = html[html.index('id="provenance"'):]
    prov_md = md[md.index("Data provenance"):]
    for f in ("nodes.csv", "edges.csv", "README.md"):
        digest = hashlib.sha256((folder / f).read_bytes()).hexdigest()
        assert f"<code>{f}</code>" in prov_html and digest in prov_html
        assert f"- {f}: " in prov_md and f"SHA-256 `{digest}`" in prov_md
    size = f"{len(readme.encode()):,}"
    # the README summarised: title, first paragraph (its path reduced to the file name), size; not the build notes
    assert f"README.md: {size} bytes" in prov_html and f"README.md: {size} bytes" in prov_md
    assert "<strong>My network</strong>" in prov_html
    assert "Three banks in a row, from notes.txt. Second line of the paragraph." in prov_html
    assert "> **My network.** Three banks in a row, from notes.txt. Second line of the paragraph." in prov_md
    assert "Build notes" not in html and "must not be pasted" not in md
    assert '<th scope="row">Source</th><td>my-net/</td>' in prov_html and "- Source: my-net/\n" in prov_md


def test_builtin_report_names_no_path_of_the_checkout():
    rep = build_report(contagion.load_dataset("ai-infrastructure"), None, generated="2025-01-01")
    html = rep.to_html()
    md = rep.to_markdown()["report.md"].decode()
    readme = (Path(contagion.datasets.dataset_path("ai-infrastructure")) / "README.md").read_text(encoding="utf-8")
    for text in (html, md):
        assert _checkout() not in text and "/tmp/" not in text
        assert "shipped dataset ai-infrastructure" in text
        assert f"README.md: {len(readme.encode()):,} bytes" in text
    # the 80 KB README is summarised: the provenance section is a small part of it
    prov = html[html.index('id="provenance"'):]
    assert len(prov) < 10_000 < len(readme)
    assert "AI-infrastructure financing network, late 2025" in prov


# ---------------------------------------------------------------------------- issue 17.3: many scenarios, analytics
def _section(html: str, name: str) -> str:
    """The HTML of ``<section id=name>`` (up to the next section)."""
    start = html.index(f'<section id="{name}"')
    end = html.find("<section ", start + 10)
    return html[start:end if end > 0 else len(html)]


def _cells(block: str) -> list[list[str]]:
    """The rows of the tables in ``block`` as lists of cell texts (tags stripped, entities decoded)."""
    import html as _h

    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", block, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([_h.unescape(re.sub(r"<[^>]+>", " ", c)).split() and " ".join(
            _h.unescape(re.sub(r"<[^>]+>", " ", c)).split()) or "" for c in cells])
    return rows


def test_institutions_across_scenarios_chain():
    # chain: A holds 5 and owes B 10 (short before any scenario: equity pre-shock -5, a fundamental default); B holds
    # 6 and owes C 10 and 5 outside (pre-shock 6 + 10 - 15 = 1); C holds 0.5 and owes 8 outside (0.5 + 10 - 8 = 2.5).
    # a-fails: A pays 0 (wave 0); B holds 6 against 15: pays 6, leaves 9 (wave 1); C gets 4, holds 4.5 against 8:
    # leaves 3.5 (wave 2). b-fails: B pays 0 (wave 0, equity 6 + 5 - 15 = -4); C holds 0.5 against 8: leaves 7.5
    # (wave 1); A pays its 5 and leaves 5 (wave 0).
    b_fails = Scenario("b-fails", "B fails.", [Shock("default", target="B")])
    net = contagion.load_dataset("chain")
    rep = build_report(net, ["a-fails", b_fails], generated="2025-01-01")
    long = rep.institutions_by_scenario()
    assert list(long.columns) == ["name", "id", "type", "scenario", "equity_pre_shock", "obligations", "equity",
                                  "shortfall", "defaulted", "wave"]
    assert long["obligations"].tolist() == [10.0, 10.0, 15.0, 15.0, 8.0, 8.0]
    assert long[["name", "scenario"]].values.tolist() == [["A", "a-fails"], ["A", "b-fails"], ["B", "a-fails"],
                                                          ["B", "b-fails"], ["C", "a-fails"], ["C", "b-fails"]]
    waves = rep.compare_institutions("wave")
    assert waves.to_dict(orient="index") == {"A": {"a-fails": 0, "b-fails": 0}, "B": {"a-fails": 1, "b-fails": 0},
                                             "C": {"a-fails": 2, "b-fails": 1}}
    short = rep.compare_institutions("shortfall")
    assert short.loc["B"].tolist() == pytest.approx([9.0, 15.0]) and short.loc["C"].tolist() == pytest.approx([3.5,
                                                                                                              7.5])
    eq = rep.compare_institutions("equity")
    assert eq.loc["C"].tolist() == pytest.approx([-3.5, -7.5])          # 0.5 + 4 - 8 and 0.5 + 0 - 8
    html = rep.to_html()
    block = html[html.index("Table 4. Equity after each scenario"):html.index("</table>",
                                                                              html.index("Table 4. Equity after"))]
    rows = {r[0].split()[0]: r[1:] for r in _cells(block)[1:]}
    assert rows["C"] == ["2.50", "-3.50 w2", "-7.50 w1"]               # pre-shock, a-fails, b-fails
    assert rows["B"] == ["1.00", "-9.00 w1", "-4.00 w0"]
    assert 'class="num dflt" title="b-fails: defaults in wave 0 (fundamental), leaves 15.00 unpaid' in html
    short_block = html[html.index("Table 5. What each defaulting"):]
    # defaulting in both scenarios, the largest fall of equity first (B and C: 10; A: 0), then obligations (B: 15)
    assert [r for r in _cells(short_block[:short_block.index("</table>")])[1:]] == [
        ["B Bank", "15.00", "9.00 w1", "15.00 w0"], ["C Bank", "8.00", "3.50 w2", "7.50 w1"],
        ["A Bank", "10.00", "10.00 w0", "5.00 w0"]]
    md = rep.to_markdown()
    assert "| C | 2.50 | **-3.50** *(w2)* | **-7.50** *(w1)* |" in md["report.md"].decode()
    rows = list(csv.DictReader(io.StringIO(md["tables/across-scenarios.csv"].decode())))
    assert [(r["name"], r["scenario"], r["wave"]) for r in rows][-2:] == [("C", "a-fails", "2"), ("C", "b-fails", "1")]


def test_many_scenarios_set_the_names_upright_and_chart_one_row_each():
    net = contagion.load_dataset("core-periphery")
    scens = [Scenario(f"core-loses-{k * 10}-of-its-outside-assets", "", [Shock("external_assets", target="C",
                                                                               absolute=10 * k)])
             for k in range(1, 8)]
    rep = build_report(net, scens, generated="2025-01-01")
    html = rep.to_html()
    assert html.count('class="data compare wide"') == 3 and 'class="data compare wide across"' in html
    assert html.count('<th scope="col" class="num scen" title="core-loses-70-of-its-outside-assets">') == 5
    figs = rep.figures()
    for stem in ("system-loss", "defaults-by-wave", "losses-by-creditor-type"):
        ax = figs[stem][1].axes[0]
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == 7 and labels[0] == "core-loses-10-of-its-\noutside-assets", stem
    # the core (capital 10) defaults from a loss of 20 on; the periphery (capital 5, 10 owed by the core) once the
    # core pays less than half of its 140, i.e. holds less than 70: never here (at most 150 - 70 = 80 lost)
    assert rep.defaults_by_wave().sum(axis=0).tolist() == [0, 1, 1, 1, 1, 1, 1]
    assert rep.to_html(for_print=True).count("<details open>") == 0   # many scenarios: no per-scenario tables


@pytest.fixture(scope="module")
def analytics_report():
    from contagion.sweep import SweepConfig

    cfg = SweepConfig.from_dict({"name": "core-uniform", "correlation": 0.0, "levels": [0.9], "bins": 20,
                                 "shocks": [{"target": "Core", "distribution": "uniform", "low": 0.0, "high": 1.0}]})
    return build_report(contagion.load_dataset("core-periphery"), ["core-shock"], generated="2025-01-01", rank=True,
                        sweep=cfg, draws=1024, seed=7, reverse_stress=["Periphery 1:external_assets:Core",
                                                                       ("Core", "external_assets:Periphery 1")])


def test_analytics_sections_show_the_library_numbers(analytics_report):
    from contagion.formatting import fmt_amount
    from contagion.measures import reverse_stress, systemic_importance
    from contagion.sweep import run_sweep

    rep = analytics_report
    net = rep.base
    html = rep.to_html()
    sections = [a["data-section"] for t, a in scan(html).tags if t == "section" and a.get("data-section")]
    assert sections == SECTIONS[:5] + ["importance", "distribution", "reverse"] + SECTIONS[5:]
    # systemic importance: the ranking of contagion.measures; the core first (hand-derived in its docstring: its
    # failure costs 150 + 140 + 4 x 5 = 310 and brings the four periphery banks down)
    ranking = systemic_importance(net)
    assert rep.analytics.ranking.equals(ranking)
    rows = _cells(_section(html, "importance"))
    assert rows[1][:4] == ["1", "Core Bank", "150.00", "310.00"] and rows[1][5] == "4"
    assert [r[1].rsplit(" ", 1)[0] for r in rows[2:6]] == list(ranking.index[1:5])     # name, then its type
    # the loss distribution: the sweep's own numbers, with their errors
    res = run_sweep(net, rep.analytics.sweep.config, n=1024, seed=7)
    assert res.var(0.9) == rep.analytics.sweep.var(0.9) and res.es(0.9) == rep.analytics.sweep.es(0.9)
    dist = {r[0]: r[1:] for r in _cells(_section(html, "distribution")) if r}
    assert dist["VaR 90%"] == [fmt_amount(res.var(0.9)), fmt_amount(res.var_se(0.9)),
                               *(fmt_amount(v) for v in res.var_ci(0.9))]
    assert dist["Expected shortfall (ES) 90%"] == [fmt_amount(res.es(0.9)), fmt_amount(res.es_se(0.9)),
                                                   *(fmt_amount(v) for v in res.es_ci(0.9))]
    # the core defaults once it loses more than its capital 10 of 150: probability 14/15 (within 4 standard errors)
    core = net.index_of("Core")
    p, se = res.default_probability[core], res.default_probability_se[core]
    assert abs(p - 14 / 15) < 4 * se and dist["Core Bank"][0] == f"{p:.2%}" and dist["Core Bank"][1] == f"{se:.2%}"
    # reverse stress: the periphery bank defaults once the core pays less than half of the 140 it owes, i.e. holds
    # less than 70 of its 150 (a loss of 8/15); the core survives any loss of a periphery bank (it owes it nothing)
    rs = reverse_stress(net, "Periphery 1", "external_assets:Core")
    assert rep.analytics.reverse[0].threshold == rs.threshold and abs(rs.threshold - 8 / 15) <= 1e-6
    rev = _cells(_section(html, "reverse"))
    assert rev[1][0] == "Periphery 1" and rev[1][2] == f"{rs.threshold:.4%}" and rev[1][3] == fmt_amount(
        150 * rs.threshold)
    assert rev[2][0] == "Core" and rev[2][2] == "never"
    assert "Core survives even the full shock." in html
    figs = rep.figures()
    assert {"systemic-importance", "loss-distribution", "default-probabilities"} <= set(figs)
    assert html.count('class="chart"') == 6


def test_analytics_in_markdown_and_csv(analytics_report):
    files = analytics_report.to_markdown()
    md = files["report.md"].decode()
    for heading in ("## 6 Systemic importance", "## 7 Loss distribution", "## 8 Reverse stress", "## 9 Network view"):
        assert heading in md
    assert "| 1 | Core | Bank | 150.00 | 310.00 |" in md
    rank = list(csv.DictReader(io.StringIO(files["tables/systemic-importance.csv"].decode())))
    assert rank[0]["name"] == "Core" and float(rank[0]["system_loss"]) == 310.0 and len(rank) == 5
    dist = {r["measure"]: r for r in csv.DictReader(io.StringIO(files["tables/loss-distribution.csv"].decode()))}
    assert float(dist["VaR 0.9"]["estimate"]) == analytics_report.analytics.sweep.var(0.9)
    rev = list(csv.DictReader(io.StringIO(files["tables/reverse-stress.csv"].decode())))
    assert [r["status"] for r in rev] == ["defaults", "never"]
    for stem in ("systemic-importance", "loss-distribution", "default-probabilities"):
        assert files[f"figures/{stem}.png"].startswith(b"\x89PNG")


def _assumption_network(folder: Path, key: str = "p1_cash") -> Path:
    """core-periphery with two labelled assumptions (assumptions.csv) and what they move
    (assumption_effects.csv): ``core_cash``, the core's outside assets 150 in [100, 160], and ``key``, Periphery
    1's 50 in [45, 60]; ``far``, Periphery 2's 50 in [40, 60], moves nothing Periphery 1 sees."""
    contagion.write_network(contagion.load_dataset("core-periphery"), folder)
    pd.DataFrame({"id": ["core_cash", key, "far"], "quantity": ["core cash", "P1 cash <i>", "P2 cash"],
                  "value": [150, 50, 50], "low": [100, 45, 40], "high": [160, 60, 60]}).to_csv(
        folder / "assumptions.csv", index=False)
    pd.DataFrame({"assumption": ["core_cash", key, "far"], "kind": ["external_assets"] * 3,
                  "target": ["C", "P1", "P2"], "central": [150.0, 50.0, 50.0], "low": [100.0, 45.0, 40.0],
                  "high": [160.0, 60.0, 60.0], "derivative": [1.0, 1.0, 1.0]}).to_csv(
        folder / "assumption_effects.csv", index=False)
    return folder


def test_sensitivity_section_tornado_of_the_assumptions(tmp_path):
    # Periphery 1 (50 outside, owed 10 by the core, owes 55 outside): equity 5. p1_cash at 45: equity 0 (a tie:
    # solvent), at 60: 15, so -5 / +10, 1 per unit. core_cash at 100: the core holds 100 < 140 and pays pro rata,
    # 10 x 100/140 to Periphery 1, whose equity falls by 10 - 50/7 = 20/7; at 160 the core stays solvent (0). far
    # moves only Periphery 2.
    from contagion.sensitivity import rank_assumptions

    net = contagion.read_network(_assumption_network(tmp_path / "net"))
    rep = build_report(net, [], generated="2025-01-01", sensitivity="Periphery 1")
    frame = rep.analytics.sensitivity
    assert frame.equals(rank_assumptions(net, "Periphery 1", ()))
    assert list(frame.index) == ["p1_cash", "core_cash", "far"]
    assert frame.loc["p1_cash", ["change_low", "change_high", "derivative"]].tolist() == pytest.approx([-5, 10, 1])
    assert frame.loc["core_cash", ["change_low", "change_high"]].tolist() == pytest.approx([-20 / 7, 0], abs=1e-12)
    html = rep.to_html()
    block = _section(html, "sensitivity")
    rows = _cells(block)
    assert rows[1] == ["p1_cash P1 cash <i>", "45", "50", "60", "0.00", "15.00", "-5.00", "+10.00", "1.0000", "–"]
    assert rows[2][:8] == ["core_cash core cash", "100", "150", "160", "2.14", "5.00", "-2.86", "0.00"]
    assert len(rows) == 3 and "1 of the 3 assumptions do not move it" in block
    assert "not ranked" not in block          # every assumption of assumptions.csv has effects
    assert "P1 cash &lt;i&gt;" in block and "<i>" not in block.replace("<i>k</i>", "")
    ax = rep.figures()["sensitivity"][1].axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["p1_cash\n45 \u2013 60", "core_cash\n100 \u2013 160"]
    md = rep.to_markdown()
    assert "| p1\\_cash: P1 cash &lt;i&gt; | 45 | 50 | 60 | 0.00 | 15.00 | -5.00 | +10.00 | 1.0000 | – |" in md[
        "report.md"].decode()


def test_analytics_escape_hostile_names(tmp_path):
    net, scen = _hostile()
    hostile = net.names[0]                                   # "<script>alert(1)</script>"
    folder = _assumption_network(tmp_path / "cp", key="<img src=x onerror=alert(9)>")
    cp = contagion.read_network(folder)
    rep = build_report(net, [scen], generated="2025-01-01", rank=True,
                       reverse_stress=[(hostile, "external_assets:b")])
    html = rep.to_html()
    outside_iframe = re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', html)
    for raw in ("<script>alert", "<img src=x"):
        assert raw not in outside_iframe
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _section(html, "importance")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _section(html, "reverse")
    assert not [a for t, a in scan(html).tags if any(k.startswith("on") for k in a)]
    md = rep.to_markdown()["report.md"].decode()
    assert "<script" not in md and "<img" not in md
    rep2 = build_report(cp, [], generated="2025-01-01", sensitivity="Periphery 1")
    html2 = rep2.to_html()
    assert "<img src=x" not in re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', html2)
    assert "&lt;img src=x onerror=alert(9)&gt;" in _section(html2, "sensitivity")
    assert "<img" not in rep2.to_markdown()["report.md"].decode()


def test_reverse_stress_spec_parsing():
    from contagion.report.analytics import parse_reverse_spec

    assert parse_reverse_spec("CoreWeave:external_assets:OpenAI") == ("CoreWeave", "external_assets:OpenAI")
    assert parse_reverse_spec("Oracle:external_assets:type=ai_lab") == ("Oracle", "external_assets:type=ai_lab")
    assert parse_reverse_spec("A: B:edges:kind=loan") == ("A: B", "edges:kind=loan")
    assert parse_reverse_spec("Oracle:scenario:severe-combined") == ("Oracle", "scenario:severe-combined")
    assert parse_reverse_spec("Oracle:shock.toml") == ("Oracle", "shock.toml")
    with pytest.raises(contagion.ContagionError, match="expected TARGET:SHOCK"):
        parse_reverse_spec("CoreWeave")


def test_cli_report_with_analytics_and_usage_errors(tmp_path):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('correlation = 0.0\nlevels = [0.9]\n[[shocks]]\ntarget = "Core"\ndistribution = "uniform"\n'
                   'low = 0.0\nhigh = 1.0\n', encoding="utf-8")
    out = tmp_path / "r.html"
    runner = CliRunner()
    res = runner.invoke(cli, ["report", "core-periphery", "-s", "core-shock", "--rank", "--sweep", str(cfg),
                              "--draws", "512", "--seed", "3", "--reverse-stress", "Periphery 1:external_assets:Core",
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert ("analytics on the network as it is (before the scenarios): systemic importance; loss distribution "
            "(sweep 'cfg', 512 draws, seed 3); reverse stress (Periphery 1)") in res.stderr
    html = out.read_text(encoding="utf-8")
    assert 'id="importance"' in html and 'id="distribution"' in html and 'id="reverse"' in html
    assert "512 random draws" in html and "53.3333%" in html
    for args, message in ((["--draws", "10"], "--draws and --seed go with --sweep"),
                          (["--effects", str(cfg)], "--effects goes with --sensitivity")):
        res = runner.invoke(cli, ["report", "core-periphery", *args, "-o", str(out)])
        assert res.exit_code == 2 and message in res.output
    res = runner.invoke(cli, ["report", "core-periphery", "--reverse-stress", "Core", "-o", str(out)])
    assert res.exit_code == 1 and "expected TARGET:SHOCK" in res.output
    res = runner.invoke(cli, ["report", "core-periphery", "--reverse-stress", "Nobody:external_assets:Core", "-o",
                              str(out)])
    assert res.exit_code == 1 and "Nobody" in res.output
    res = runner.invoke(cli, ["report", "core-periphery", "--sweep", "no-such-sweep", "-o", str(out)])
    assert res.exit_code == 1 and "no-such-sweep" in res.output


def test_cli_pdf_without_a_browser_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))              # no chromium, chromium-browser, google-chrome, chrome
    monkeypatch.delenv("CONTAGION_CHROMIUM", raising=False)
    out = tmp_path / "r.pdf"
    res = CliRunner().invoke(cli, ["report", "chain", "-s", "a-fails", "-f", "pdf", "-o", str(out)])
    assert res.exit_code == 1 and not out.exists()
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: --format pdf needs a headless Chromium or Chrome, and none was found")
    assert "CONTAGION_CHROMIUM" in lines[-1] and len(lines[-1]) < 300
    monkeypatch.setenv("CONTAGION_CHROMIUM", str(tmp_path / "no-such-browser"))
    res = CliRunner().invoke(cli, ["report", "chain", "-s", "a-fails", "-f", "pdf", "-o", str(out)])
    assert res.exit_code == 1 and "no-such-browser: no such executable" in res.stderr and not out.exists()


def test_cli_report_help_fits_80_columns():
    res = CliRunner().invoke(cli, ["report", "--help"], terminal_width=80)
    assert res.exit_code == 0
    mine = ("--rank", "--sweep", "--draws", "--seed", "--reverse-stress", "--sensitivity", "--effects", "--format",
            "contagion report")
    long = [line for line in res.output.splitlines() if len(line) > 80 and any(m in line for m in mine)]
    assert long == []


def test_cli_report_format_follows_the_output_suffix(tmp_path, monkeypatch):
    """-o board.pdf without --format writes a PDF (here: asks for the browser, which is missing); a suffix that
    contradicts --format is refused; HTML to a name without .html is written with a note."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CONTAGION_CHROMIUM", raising=False)
    res = CliRunner().invoke(cli, ["report", "chain", "-s", "a-fails", "-o", str(tmp_path / "board.pdf")])
    assert res.exit_code == 1 and "--format pdf needs a headless Chromium" in res.stderr
    assert not (tmp_path / "board.pdf").exists()
    res = CliRunner().invoke(cli, ["report", "chain", "-s", "a-fails", "-f", "html", "-o", str(tmp_path / "b.pdf")])
    assert res.exit_code == 2 and "names a PDF file but --format is html" in res.stderr
    assert "b.html" in res.stderr and not (tmp_path / "b.pdf").exists()
    res = CliRunner().invoke(cli, ["report", "chain", "-s", "a-fails", "-f", "md", "-o", str(tmp_path / "c.html")])
    assert res.exit_code == 2 and "names an HTML file but --format is md" in res.stderr
    res = CliRunner().invoke(cli, ["report", "chain", "-s", "a-fails", "-o", str(tmp_path / "plain")])
    assert res.exit_code == 0, res.output
    assert "note: writing HTML to" in res.stderr and "does not end in .html" in res.stderr
    assert (tmp_path / "plain").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    res = CliRunner().invoke(cli, ["report", "chain", "-s", "a-fails", "-o", str(tmp_path / "r.HTM")])
    assert res.exit_code == 0 and "note:" not in res.stderr and (tmp_path / "r.HTM").exists()


def test_sensitivity_section_names_the_assumptions_it_cannot_rank(tmp_path):
    """Assumptions of assumptions.csv without effects (they act on the multi-year path or inside a scenario) are
    named under the tornado's table, escaped, in HTML and Markdown; the ranked rows do not change."""
    folder = _assumption_network(tmp_path / "net")
    listed = pd.read_csv(folder / "assumptions.csv")
    extra = pd.DataFrame({"id": ["gpu_life", "<b>exit</b>"], "quantity": ["x", "y"], "value": [5, 1], "low": [4, 0],
                          "high": [6, 2]})
    pd.concat([listed, extra]).to_csv(folder / "assumptions.csv", index=False)
    rep = build_report(contagion.read_network(folder), [], generated="2025-01-01", sensitivity="Periphery 1")
    assert list(rep.analytics.sensitivity.index) == ["p1_cash", "core_cash", "far"]
    block = _section(rep.to_html(), "sensitivity")
    assert ("1 of the 3 assumptions do not move it and are not listed. 2 more move no amount of the one-year "
            "network and are not ranked (they act on the multi-year path or inside a scenario): <code>gpu_life</code>, "
            "<code>&lt;b&gt;exit&lt;/b&gt;</code>.") in block
    md = rep.to_markdown()["report.md"].decode()
    line = next(x for x in md.splitlines() if x.startswith("Table: Assumptions by how much they move"))
    assert "<b>" not in md
    assert ("; 1 of the 3 do not move it and are not listed; 2 more move no amount of the one-year network and are "
            "not ranked (they act on the multi-year path or inside a scenario): gpu\\_life, &lt;b&gt;exit&lt;/b&gt; "
            "([CSV](tables/sensitivity.csv)).") in line


def test_the_shortfall_comparison_says_its_obligations_are_pre_shock_and_each_cell_what_was_owed():
    """hyperion-tenant-exit raises the vehicle's obligations from 1.80 (the year's coupon) to 29.10 (the bonds
    redeemed): the table showed 'Obligations 1.80' beside a shortfall of 2.10."""
    rep = build_report(contagion.load_dataset("ai-infrastructure"), ["hyperion-tenant-exit"], generated="x")
    row = next(r for r in rep._compare_context()["shortfall"] if r["name"].startswith("Hyperion"))
    assert row["pre"] == "1.80"
    assert "leaves 2.10 unpaid of 29.10 owed in this scenario" in row["cells"][0]["title"]
    html = rep.to_html()
    assert ">Obligations pre-shock</th>" in html


def test_a_depletion_of_rounding_ranks_with_no_depletion():
    """C's equity does not move when D loses half its outside assets, but recomputed it differs by 1.6e-16 of
    itself: the institutions table put C (owing 0.8) above E (owing 5, untouched) as if C had lost something,
    showing both at 0.0%. Rounding noise now ranks as 0: E, which owes more, comes first."""
    L = np.zeros((5, 5))
    L[0, 2], L[0, 3], L[1, 0], L[1, 2], L[2, 0], L[2, 1], L[3, 1] = 1.1, 0.1, 0.7, 0.3, 0.1, 0.7, 2.3
    net = contagion.FinancialNetwork.from_matrix(L, external_assets=[0.4, 2.2, 2.2, 2.2, 10.0],
                                                 external_liabilities=[0, 0, 0, 0, 5.0], names=list("ABCDE"))
    rep = build_report(net, [Scenario("d", "", [Shock("external_assets", target="D", relative=0.5)])],
                       generated="x")
    table = rep.runs[0].institutions(net)
    assert table["name"].tolist() == ["D", "A", "B", "E", "C"]
    assert 0 < table.set_index("name").loc["C", "capital_depletion"] < 1e-15
