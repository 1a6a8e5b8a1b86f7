"""What a notebook user sees: HTML reprs, labelled frames, figures from contagion.plots."""

from __future__ import annotations

import numpy as np
import pytest

import contagion
from contagion import plots


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
