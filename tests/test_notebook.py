"""What a notebook user sees: HTML reprs, labelled frames, figures from contagion.plots, and the example notebook
(examples/quickstart.ipynb) executed headless by a real kernel (nbclient + ipykernel, from the ``test`` extra)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import numpy as np
import pytest

import contagion
from contagion import plots
from contagion.sweep import load_sweep_config, run_sweep
from contagion.viz import network_view


def test_batch_to_frame_is_labelled_and_matches_the_columns():
    net = contagion.load_dataset("chain")
    E = np.c_[net.external_assets, net.external_assets * 2]
    batch = contagion.clear_many(net, E)
    frame = batch.to_frame()
    assert frame.index.names == ["scenario", "name"] and len(frame) == 2 * net.n
    for k in range(2):
        single = contagion.clear(net.replace(external_assets=E[:, k]))
        np.testing.assert_allclose(frame.xs(k)["payment"].to_numpy(), single.payments, atol=1e-12)
        assert frame.xs(k)["defaulted"].tolist() == single.defaulted.tolist()
    assert repr(batch).startswith("BatchClearingResult(method='eisenberg-noe', n=3, scenarios=2")


@pytest.mark.parametrize("make", [
    lambda: contagion.load_dataset("core-periphery"),
    lambda: contagion.clear(contagion.load_dataset("core-periphery")),
    lambda: contagion.clear_many(contagion.load_dataset("chain"), np.ones((3, 4))),
    lambda: __import__("contagion.measures", fromlist=["x"]).reverse_stress(
        contagion.load_dataset("core-periphery"), "Core", "external_assets:Core"),
])
def test_html_reprs_escape_and_show_numbers(make):
    html = make()._repr_html_()
    assert html.startswith("<") and "<script" not in html and any(ch.isdigit() for ch in html)


def test_sweep_html_repr_shows_estimates_with_their_errors():
    from contagion.formatting import fmt_amount, fmt_share
    from contagion.sweep import SweepConfig

    base = contagion.load_dataset("core-periphery")
    net = contagion.FinancialNetwork.from_matrix(base.liabilities, base.external_assets, base.external_liabilities,
                                                 names=["<b>Core</b>", *base.names[1:]])
    sweep = run_sweep(net, SweepConfig.from_dict(
        {"shocks": [{"target": "<b>Core</b>", "distribution": "uniform", "low": 0, "high": 1}]}), n=400, seed=5)
    shown = sweep._repr_html_(max_rows=3)
    assert "<b>" not in shown and "&lt;b&gt;Core&lt;/b&gt;" in shown
    lo, hi = sweep.mean_ci()
    assert f"{fmt_amount(sweep.mean)} \u00b1 {fmt_amount(sweep.mean_se)} [{fmt_amount(lo)}, {fmt_amount(hi)}]" in shown
    es_lo, es_hi = sweep.es_ci(0.95)
    assert f"{fmt_amount(sweep.es(0.95))} \u00b1 {fmt_amount(sweep.es_se(0.95))} [{fmt_amount(es_lo)}" in shown
    top = sweep.ranking()[0]
    p_lo, _ = sweep.default_probability_ci()
    assert (f"{fmt_share(sweep.default_probability[top])} \u00b1 {fmt_share(sweep.default_probability_se[top])} "
            f"[{fmt_share(p_lo[top])}") in shown
    assert shown.split("<caption")[1].count("<tr>") == 1 + 3 and f"{net.n - 3:,} more in to_frame()" in shown


def test_path_html_repr_shows_the_years_and_who_defaults_escaped():
    """A path displays itself like the other results: year by year (defaults, new, shortfall, principal rolled
    and called, cash), then the institutions that default, first year first; a hostile name is escaped."""
    from contagion.formatting import fmt_amount

    net = contagion.FinancialNetwork.from_edges(
        [{"debtor": "A", "creditor": "B", "amount": 5.0, "principal": 100.0, "rate": 0.05, "maturity": 2028}],
        [{"id": "A", "name": "<b>A</b>", "external_assets": 20.0}, {"id": "B", "external_assets": 0.0}])
    path = contagion.clear_path(net, (2026, 2029))          # A: 5, 5, then 50 of 105 in 2028 (test_paths)
    shown = path._repr_html_()
    assert "<b>" not in shown and "&lt;b&gt;A&lt;/b&gt;" in shown and "<script" not in shown
    rows = re.findall(r"<tr>(<td.*?)</tr>", shown)
    cells = [re.findall(r">([^<]*)</td>", r) for r in rows]
    assert [c[:4] for c in cells[:4]] == [["2026", "0", "0", "0.00"], ["2027", "0", "0", "0.00"],
                                          ["2028", "1", "1", fmt_amount(55.0)], ["2029", "1", "0", fmt_amount(35.0)]]
    assert cells[2][5] == fmt_amount(100.0) and cells[2][7] == "<b>A</b>".replace("<", "&lt;").replace(">", "&gt;")
    assert cells[4] == ["&lt;b&gt;A&lt;/b&gt;", "institution", "2028", fmt_amount(55.0)]
    assert "1 of 2" in shown


def test_html_repr_escapes_a_hostile_title():
    net = contagion.load_dataset("chain")
    hostile = net.replace(metadata={"title": "<img src=x onerror=alert(1)>"})
    assert "<img" not in hostile._repr_html_() and "&lt;img" in hostile._repr_html_()


def test_plots_draw_the_numbers_of_the_result():
    st = contagion.stress(contagion.load_dataset("core-periphery"))   # core wave 0, four periphery banks wave 1
    ax = plots.cascade(st).axes[0]
    assert [round(p.get_height()) for p in ax.patches] == [1, 4]
    losses = plots.losses_by_creditor_type(st).axes[0]
    assert sorted(round(p.get_width(), 6) for p in losses.patches) == [24.0, 64.0]
    path = contagion.clear_path(contagion.load_dataset("chain"), (2026, 2027), ["a-fails"])
    tl = plots.path_timeline(path).axes[0]
    assert [t.get_text() for t in tl.get_xticklabels()] == ["2026", "2027"]
    from contagion.sweep import SweepConfig, run_sweep

    sweep = run_sweep(contagion.load_dataset("core-periphery"), SweepConfig.from_dict(
        {"shocks": [{"target": "Core", "distribution": "uniform", "low": 0, "high": 1}]}), n=512, seed=3)
    dist = plots.loss_distribution(sweep, bins=20).axes[0]
    assert {ln.get_label() for ln in dist.get_lines()} >= {"VaR 0.95", "ES 0.95"}


# ---------------------------------------------------------------------------- the example notebook, executed
NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def _table(html: str) -> tuple[list[str], dict[str, list[str]]]:
    """Columns and ``{index: cells}`` of a pandas HTML table."""
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    columns = re.findall(r"<th>(.*?)</th>", re.search(r"<tr[^>]*>(.*?)</tr>", head, re.S).group(1))[1:]
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    rows = {m.group(1): re.findall(r"<td>(.*?)</td>", m.group(2))
            for m in re.finditer(r"<tr>\s*<th>(.*?)</th>(.*?)</tr>", body, re.S)}
    return columns, rows


@pytest.mark.slow
def test_the_example_notebook_runs_headless_and_shows_the_librarys_numbers(tmp_path):
    """examples/quickstart.ipynb executed by a real kernel (nbclient + ipykernel): no cell fails, and every
    display carries the numbers the library computes here, independently of the notebook."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")      # shipped without outputs
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert not [o for c in code for o in c.outputs if o.output_type == "stream" and "Traceback" in o.text]
    results = {c.source.splitlines()[-1]: c.outputs[-1]["data"] for c in code if c.outputs
               and c.outputs[-1].output_type == "execute_result"}

    net = contagion.load_dataset("ai-infrastructure")
    st = contagion.stress(net, ["openai-revenue-shortfall"])
    # the network and the clearing: HTML summaries
    assert results["net"]["text/plain"] == f"FinancialNetwork(n=61, obligations=111, total_obligations=" \
        f"{float(net.total_obligations.sum()):.6g})"
    assert "<table" in results["st.clearing"]["text/html"] and "OpenAI" in results["st.clearing"]["text/html"]
    # the frame: the institutions that lose equity, with the library's numbers (rounded to 2 as displayed)
    frame = st.to_frame()
    hit = frame[frame["equity"] < frame["equity_pre_shock"] - 1e-9]
    columns, rows = _table(results['hit.sort_values("capital_depletion", ascending=False).round(2)']["text/html"])
    assert set(rows) == set(hit.index) and {"OpenAI", "Oracle", "Microsoft", "CoreWeave"} <= set(rows)
    # not the three that "lose" 1.1e-16 (the last digit of a sum): the report's six institutions that move
    assert len(rows) == 6 and not any("lenders" in r or "financiers" in r or "margin-loan" in r for r in rows)
    assert list(rows)[0] == "OpenAI"                                                 # 100% depleted
    for name in ("OpenAI", "Oracle"):
        shown = dict(zip(columns, rows[name]))
        for col in ("obligations", "payment", "shortfall", "equity_pre_shock", "equity"):
            assert float(shown[col]) == round(float(hit.loc[name, col]), 2), (name, col)
    assert float(dict(zip(columns, rows["OpenAI"]))["shortfall"]) == 9.84             # README: "$9.8bn short"
    # the view: an iframe whose srcdoc is the whole page network_view gives here
    view = results["view"]
    assert view["text/html"].startswith('<iframe title="Network view') and "<script" not in view["text/html"]
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', view["text/html"]).group(1))
    assert srcdoc == str(network_view(st.base, st))
    assert view["text/plain"].startswith("ViewPage('Network view") and "\n" not in view["text/plain"]
    # figures: PNG images
    for line in ("plots.losses_by_creditor_type(st)", "plots.loss_distribution(sweep)"):
        assert base64.b64decode(results[line]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    # the path over five years: its display carries each year's numbers as the library gives them here
    from contagion.formatting import fmt_amount

    path = contagion.clear_path(net, (2026, 2030), ["openai-revenue-shortfall"])
    shown = results["path"]
    assert shown["text/plain"] == repr(path)
    for k, year in enumerate(path.years):
        cells = [fmt_amount(path.shortfall[k].sum()), fmt_amount(path.rolled_principal[k]),
                 fmt_amount(path.called_principal[k])]
        row = re.search(rf"<tr><td[^>]*>{year}</td>(.*?)</tr>", shown["text/html"]).group(1)
        assert re.findall(r">([^<]*)</td>", row)[2:5] == cells, year
    assert base64.b64decode(results["plots.path_timeline(path)"]["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    # the sweep by the shipped config's name: the same draws as here (same seed), so the same numbers
    sweep = run_sweep(net, load_sweep_config("ai-demand-uncertainty"), n=2048, seed=7)
    assert results["sweep"]["text/plain"] == repr(sweep)
    columns, rows = _table(results[next(k for k in results if k.startswith("sweep.to_frame()"))]["text/html"])
    expected = sweep.to_frame().sort_values("default_probability", ascending=False).head(5)
    assert list(rows) == list(expected.index)
    for name in rows:
        shown = dict(zip(columns, rows[name]))
        for col in ("default_probability", "default_probability_se", "expected_unpaid"):
            assert float(shown[col]) == round(float(expected.loc[name, col]), 4), (name, col)
