"""Tests of contagion.measures: systemic importance (batched) and reverse stress tests.

References:
- Glasserman, P. & Young, H. P. (2015). How likely is contagion in financial networks? J. Banking & Finance 50,
  383-399: core-periphery toy (core: 150 outside assets, owes 10 to each of 4 periphery banks and 100 outside;
  periphery: 50 outside assets, 55 outside obligations); system loss = shock + shortfall, compared with the loss
  when network claims are safe.
- Eisenberg, L. & Noe, T. H. (2001), Management Science 47(2): the greatest clearing vector is non-decreasing in
  the outside assets e (monotone clearing map), which makes the reverse-stress bisection valid.
Every expected value is derived by hand in the test (or compared with a per-scenario loop of contagion.clear).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import contagion
from contagion.cli import cli
from contagion.errors import ContagionError, ScenarioError
from contagion.measures import ShockFamily, reverse_stress, shock_family, systemic_importance
from contagion.shocks import Scenario, Shock, apply


def _random_net(seed: int, n: int = 25, density: float = 0.15, ext_share: float = 0.3):
    rng = np.random.default_rng(seed)
    L = rng.uniform(1, 10, (n, n)) * (rng.random((n, n)) < density)
    np.fill_diagonal(L, 0)
    out, inn = L.sum(1), L.sum(0)
    ext = ext_share * out + rng.uniform(0, 3, n)
    e = np.maximum(out + ext - inn, 0) + rng.uniform(0.02, 0.4, n) * (out + ext)
    e[rng.random(n) < 0.1] = 0.0  # some institutions hold nothing outside
    return contagion.FinancialNetwork.from_matrix(L, external_assets=e, external_liabilities=ext)


def _brute_force(net, method="eisenberg-noe", **params):
    """Reference: one contagion.clear per institution (what systemic_importance must not do, but must equal)."""
    n = net.n
    base = contagion.clear(net, method=method, **params)
    rows = {}
    losses = np.zeros((n, n))  # losses[j, i]: j's fall in receipts when i fails
    new_def = np.zeros((n, n), dtype=bool)
    for i in range(n):
        e = net.external_assets.copy()
        e[i] = 0.0
        r = contagion.clear(net.replace(external_assets=e), method=method, **params)
        others = np.arange(n) != i
        losses[:, i] = net.PiT @ (base.payments - r.payments)
        new_def[:, i] = r.defaulted & ~base.defaulted & others
        rows[net.names[i]] = {
            "fails": bool(r.defaulted[i]),
            "system_loss": net.external_assets[i] + r.total_shortfall - base.total_shortfall,
            "additional_defaults": int(new_def[:, i].sum()),
        }
    np.fill_diagonal(losses, 0.0)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame["vulnerability"] = losses.sum(axis=1) / (n - 1)
    frame["defaulted_by"] = new_def.sum(axis=1)
    return frame


# ---------------------------------------------------------------------- systemic importance
def test_importance_core_periphery_by_hand():
    rank = systemic_importance(contagion.load_dataset("core-periphery"))
    assert list(rank.columns) == ["rank", "type", "external_assets", "fails", "system_loss", "induced_shortfall",
                                  "system_loss_without_network", "contagion_multiplier", "additional_defaults",
                                  "vulnerability", "defaulted_by"]
    core = rank.loc["Core"]
    # core pays 0 of 140; each periphery bank pays 50 of 55: shortfall 140 + 20; loss 150 + 160
    assert core["rank"] == 1 and core["fails"]
    assert core["system_loss"] == pytest.approx(310.0)
    assert core["induced_shortfall"] == pytest.approx(160.0)
    # without the network: only the core's own shortfall 150 - 10 = 140
    assert core["system_loss_without_network"] == pytest.approx(290.0)
    assert core["contagion_multiplier"] == pytest.approx(310 / 290)
    assert core["additional_defaults"] == 4 and core["defaulted_by"] == 0
    p1 = rank.loc["Periphery 1"]
    # P1 keeps its claim of 10 on the core: pays 10 of 55 -> loss 50 + 45, the same without the network
    assert p1["system_loss"] == pytest.approx(95.0) and p1["contagion_multiplier"] == pytest.approx(1.0)
    assert p1["vulnerability"] == pytest.approx(10 / 4) and p1["defaulted_by"] == 1
    assert rank["rank"].tolist() == [1, 2, 3, 4, 5]


def test_importance_chain_by_hand():
    # chain: A owes B 10; B owes C 10 and 5 outside; C owes 8 outside; e = (5, 6, 0.5).
    # Baseline: A pays 5; B has 11 of 15, pays 11 (C gets 22/3); C has 0.5 + 22/3 < 8.
    # A loses its 5: A pays 0, B pays 6, C gets 4 and pays 4.5: shortfall 10 + 9 + 3.5 = 22.5 against
    # 5 + 4 + 1/6 in the baseline: loss 5 + 22.5 - 55/6 = 18.333...; nobody new defaults (all already do).
    rank = systemic_importance(contagion.load_dataset("chain"))
    assert rank.loc["A", "system_loss"] == pytest.approx(5 + 22.5 - 55 / 6)
    assert rank["additional_defaults"].tolist() == [0, 0, 0]
    assert rank.index.tolist() == ["A", "B", "C"]


def test_importance_trivial_columns():
    # ring toy: A, B, C owe each other in a cycle with nothing outside (e = 0): nothing changes when they "fail"
    rank = systemic_importance(contagion.load_dataset("ring"))
    for name in "ABC":
        assert rank.loc[name, "system_loss"] == 0.0
        assert not rank.loc[name, "fails"]
        assert np.isnan(rank.loc[name, "contagion_multiplier"])
    # D (e = 1) owes E 4: D pays 0, E (5 outside, owes 6) falls short: a further default
    assert rank.loc["D", "additional_defaults"] == 1
    assert rank.loc["E", "defaulted_by"] == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("method,params", [("eisenberg-noe", {}), ("rogers-veraart", {"alpha": 0.6, "beta": 0.9})])
def test_importance_equals_one_clearing_per_institution(seed, method, params):
    net = _random_net(seed)
    rank = systemic_importance(net, method=method, chunk_size=7, **params)
    ref = _brute_force(net, method, **params)
    rank = rank.loc[ref.index]
    assert rank["fails"].tolist() == ref["fails"].tolist()
    assert rank["additional_defaults"].tolist() == ref["additional_defaults"].tolist()
    assert rank["defaulted_by"].tolist() == ref["defaulted_by"].tolist()
    np.testing.assert_allclose(rank["system_loss"], ref["system_loss"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rank["vulnerability"], ref["vulnerability"], rtol=1e-9, atol=1e-9)
    assert (ref["additional_defaults"] > 0).any()  # the test networks do have contagion


def test_importance_with_a_stressed_baseline():
    # after the Glasserman-Young shock (core loses 94), all five are in default already: no further defaults
    net = apply(contagion.load_dataset("core-periphery"), Shock("external_assets", target="Core", absolute=94))
    rank = systemic_importance(net)
    assert rank["additional_defaults"].sum() == 0
    # the core now loses its remaining 56: it pays 0 instead of 56; periphery banks pay 50 instead of 54
    assert rank.loc["Core", "system_loss"] == pytest.approx(56 + 56 + 4 * 4)


def test_importance_same_whatever_chunking_and_executor():
    net = _random_net(7, n=40)
    a = systemic_importance(net)
    b = systemic_importance(net, chunk_size=3)
    with ThreadPoolExecutor(2) as ex:
        c = systemic_importance(net, chunk_size=5, executor=ex)
    done = []
    d = systemic_importance(net, chunk_size=4, executor="inline", progress=lambda k, t: done.append((k, t)))
    for other in (b, c, d):
        pd.testing.assert_frame_equal(a, other, check_exact=False, rtol=1e-12, atol=1e-12)
    assert done[-1][0] == done[-1][1] and len(done) > 1


def test_importance_multiplier_at_least_one():
    for seed in range(4):
        rank = systemic_importance(_random_net(seed))
        m = rank["contagion_multiplier"].dropna()
        assert (m >= 1 - 1e-12).all()


def test_importance_rejects_unbatched_methods():
    with pytest.raises(ContagionError, match="batched"):
        systemic_importance(contagion.load_dataset("chain"), method="threshold")


# ---------------------------------------------------------------------- shock families
def test_shock_family_specs():
    net = contagion.load_dataset("core-periphery")
    fam = shock_family(net, "external_assets:Core")
    assert fam.monotone and fam.assets_only
    assert fam.external_assets([0.0, 0.5, 1.0])[2].tolist() == [150.0, 75.0, 0.0]
    assert fam.network(0.25).external_assets.tolist() == [50, 50, 112.5, 50, 50]
    fam = shock_family(net, "external_assets:type=bank")
    assert fam.full.external_assets.tolist() == [0.0] * 5
    fam = shock_family(net, "external_assets:P1|P2")
    assert fam.full.external_assets.tolist() == [0, 0, 150, 50, 50]
    fam = shock_family(net, "edges:kind=loan,debtor=Core")
    assert not fam.assets_only and not fam.monotone
    assert fam.network(0.5).liabilities.sum() == pytest.approx(20.0)
    fam = shock_family(net, "scenario:core-shock")
    assert fam.monotone and fam.network(0.5).external_assets[2] == pytest.approx(150 - 47)


@pytest.mark.parametrize("spec,match", [
    ("external_assets:Nobody", "unknown institution"),
    ("external_assets:type=hedge_fund", "matches no"),
    ("external_assets:", "name the institutions"),
    ("edges:Core", "key=value"),
    ("liabilities:Core", "unknown kind 'liabilities'; choose one of"),
    ("external_asset:Core", r"unknown kind 'external_asset' \(did you mean 'external_assets'\?\); choose one of"),
    ("Core", "KIND:SELECTION"),
    ("scenario:nope", "unknown scenario"),
])
def test_shock_family_errors(spec, match):
    with pytest.raises(ScenarioError, match=match):
        shock_family(contagion.load_dataset("core-periphery"), spec)


def test_scenario_with_forced_default_cannot_be_scaled(tmp_path):
    path = tmp_path / "kill.toml"
    Scenario("kill", "", [Shock("default", target="Core")]).save(path)
    with pytest.raises(ScenarioError, match="forces defaults"):
        shock_family(contagion.load_dataset("core-periphery"), f"scenario:{path}")


# ---------------------------------------------------------------------- reverse stress
def test_reverse_stress_core_own_threshold():
    # the core's capital is 10 on 150 outside: it defaults once it loses more than 10/150 (ties are solvent)
    net = contagion.load_dataset("core-periphery")
    rs = reverse_stress(net, "Core", "external_assets:Core", tol=1e-10)
    assert rs.status == "defaults"
    assert rs.lower <= 1 / 15 < rs.threshold and rs.threshold - rs.lower <= 1e-10
    assert rs.monotone and not rs.monotone_violation
    assert rs.to_frame().index.tolist() == ["Core"]
    assert rs.external_asset_loss == pytest.approx(10.0, abs=1e-7)
    assert rs.summary()["status"] == "defaults"


def test_reverse_stress_contagion_threshold():
    # Periphery 1 (capital 5) defaults when the core pays less than half of its 140: e_core + 0 < 70, i.e. the
    # core loses more than 80 of its 150 (s > 8/15). At that point all five default: core wave 0, periphery wave 1.
    net = contagion.load_dataset("core-periphery")
    rs = reverse_stress(net, "Periphery 1", "external_assets:Core", tol=1e-9)
    assert rs.lower <= 8 / 15 < rs.threshold <= 8 / 15 + 1e-9
    cascade = rs.to_frame()
    assert cascade.loc["Core", "default_round"] == 0
    assert (cascade.drop(index="Core")["default_round"] == 1).all() and len(cascade) == 5
    # precision as asked, with the default grid: 5 rounds of 15 sizes after the first 17
    rs6 = reverse_stress(net, "Periphery 1", "external_assets:Core")
    assert rs6.threshold - rs6.lower <= 1e-6 and rs6.evaluations == 17 + 4 * 15


def test_reverse_stress_never_and_already():
    net = contagion.load_dataset("core-periphery")
    rs = reverse_stress(net, "Core", "external_assets:Periphery 1")
    assert rs.status == "never" and rs.threshold is None and rs.size == 1.0
    assert rs.evaluations == 17
    chain = contagion.load_dataset("chain")
    rs = reverse_stress(chain, "A", "external_assets:B")  # A is insolvent to begin with
    assert rs.status == "already" and rs.threshold == 0.0


def test_reverse_stress_selector_and_scenario_families():
    net = contagion.load_dataset("core-periphery")
    # every bank loses the same fraction s: a periphery bank (capital 5 of 50) fails first at s = 0.1... unless
    # the core fails earlier: core capital 10 of 150 -> s > 1/15 < 0.1. Core first; P1 still solvent at 1/15+.
    rs = reverse_stress(net, "Periphery 1", "external_assets:type=bank", tol=1e-9)
    # P1 at size s: receives 10 while the core pays in full... the core defaults for s > 1/15 and pays
    # 150(1-s) of 140 pro rata, P1 gets 150(1-s)/14; P1 defaults when 50(1-s) + 150(1-s)/14 < 55.
    s_star = 1 - 55 / (50 + 150 / 14)
    assert s_star > 1 / 15
    assert rs.lower <= s_star < rs.threshold <= s_star + 1e-9
    # the shipped scenario (core loses 94) scaled by s: the core defaults once 94 s > 10
    rs = reverse_stress(net, "Core", "scenario:core-shock", tol=1e-9)
    assert rs.lower <= 10 / 94 < rs.threshold


@pytest.mark.slow
def test_reverse_stress_edges_family_and_threshold_method():
    # A owes B 10 (kind 'loan'); B has 1 outside and owes 10.5 outside: B lives on A's payment.
    # Cancelling the loan by s leaves B with 1 + 10(1 - s) against 10.5: default for s > 0.05.
    nodes = pd.DataFrame({"id": ["A", "B"], "external_assets": [20, 1], "external_liabilities": [0, 10.5]})
    edges = pd.DataFrame({"debtor": ["A"], "creditor": ["B"], "amount": [10.0], "kind": ["loan"]})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)
    rs = reverse_stress(net, "B", "edges:kind=loan", tol=1e-9)
    assert not rs.monotone and not rs.monotone_violation
    assert rs.lower <= 0.05 < rs.threshold <= 0.05 + 1e-9
    # the threshold cascade (unbatched path) agrees: B's own default does not depend on recovery
    rs_t = reverse_stress(net, "B", "edges:kind=loan", method="threshold", recovery=0.3, tol=1e-9)
    assert rs_t.lower <= 0.05 < rs_t.threshold <= 0.05 + 1e-9
    assert rs_t.result.method == "threshold"


@pytest.mark.slow
def test_reverse_stress_reports_a_non_monotone_family():
    # T is owed 5 by W (kind k) and a pro-rata share of insolvent D's 9 (D owes T 10 'loan' and X 10 'k').
    # Cancelling 'k' by s: T gets 5(1-s) from W and 90/(20 - 10s) from D. T's equity 1 + those - 9.7 is
    # 0.8 at s = 0, 0.3 at s = 1 and negative around s = 0.66: the default region is in the middle.
    nodes = pd.DataFrame({"id": ["T", "D", "X", "W"], "external_assets": [1, 9, 0, 10],
                          "external_liabilities": [9.7, 0, 0, 0]})
    edges = pd.DataFrame({"debtor": ["D", "D", "W"], "creditor": ["T", "X", "T"], "amount": [10.0, 10.0, 5.0],
                          "kind": ["loan", "k", "k"]})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)

    def equity(s):
        return 1 + 5 * (1 - s) + 90 / (20 - 10 * s) - 9.7

    assert equity(0) > 0 and equity(1) > 0 and equity(0.66) < 0
    rs = reverse_stress(net, "T", "edges:kind=k", tol=1e-9)
    assert rs.status == "defaults" and rs.monotone_violation and not rs.monotone
    assert equity(rs.lower) >= 0 > equity(rs.threshold)
    # the first crossing: the root of equity(s) = 0 below the minimum at s = 2 - sqrt(180) / 10
    from scipy.optimize import brentq

    root = brentq(equity, 0, 2 - np.sqrt(180) / 10)
    assert rs.lower <= root < rs.threshold


def test_reverse_stress_on_a_network_with_guarantees_is_not_called_monotone():
    """D (21 of outside assets) owes B 10 (senior, e1) and X 10 (junior); G guarantees e1 to X (protection X
    bought). X owes 0.3 outside. Losing a share s of D's assets, X gets max(0, 21(1-s) - 10) from D and the call
    max(0, 10 - 21(1-s)) from G: it is short only while 21(1-s) lies within 0.3 of 10, s in (0.5095, 0.5381).
    A grid of 1/16 steps past that window: "never" must not be presented as certain."""
    nodes = pd.DataFrame({"id": list("DBXG"), "external_assets": [21.0, 0, 0, 100],
                          "external_liabilities": [0, 0, 0.3, 0]})
    edges = pd.DataFrame({"edge_id": ["e1", "e2", "g1"], "debtor": ["D", "D", "G"], "creditor": ["B", "X", "X"],
                          "amount": [10.0, 10.0, 10.0], "kind": ["loan", "loan", "guarantee"],
                          "covers": [None, None, "e1"], "seniority": [1, 2, 1]})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)
    fam = shock_family(net, "external_assets:D")
    assert [bool(contagion.clear(fam.network(s)).defaulted[2]) for s in (0.5, 0.52, 0.53, 0.5625)] == \
        [False, True, True, False]
    assert not fam.monotone and "guarantees" in fam.not_monotone_because
    coarse = reverse_stress(net, "X", fam)
    assert coarse.status == "never" and not coarse.monotone
    fine = reverse_stress(net, "X", fam, grid=64, tol=1e-9)
    assert fine.status == "defaults" and fine.lower <= 1 - 10.3 / 21 < fine.threshold <= fine.lower + 1e-9
    # without the guarantee the family is monotone again (a residual value guarantee owes a fixed amount)
    plain = contagion.FinancialNetwork.from_edges(edges.iloc[:2].drop(columns="covers"), nodes)
    assert shock_family(plain, "external_assets:D").monotone


def test_loss_without_the_network_counts_default_costs_and_forced_recovery():
    """Without the network each institution bears its own shortfall, everyone else paying in full -- under
    Rogers--Veraart with its default costs, and at its recovery when forced into default. With no obligations
    between institutions there is nothing to transmit: the amplification and the multipliers are exactly 1."""
    from contagion.measures import loss_summary

    L = np.zeros((1, 1))
    base = contagion.FinancialNetwork.from_matrix(L, external_assets=[30.0], external_liabilities=[20.0])
    hit = base.replace(external_assets=np.array([15.0]))
    # A keeps 15 against 20 owed; in default it realises half: pays 7.5, leaves 12.5 unpaid
    s = loss_summary(contagion.clear(hit, method="rogers-veraart", alpha=0.5, beta=0.5), base)
    assert (s["shock"], s["total_shortfall"], s["system_loss"]) == (15.0, 12.5, 27.5)
    assert s["system_loss_without_network"] == 27.5 and s["amplification"] == 1.0
    two = contagion.FinancialNetwork.from_matrix(np.zeros((2, 2)), external_assets=[15.0, 5.0],
                                                 external_liabilities=[20.0, 1.0], names=["A", "B"])
    rank = systemic_importance(two, method="rogers-veraart", alpha=0.5, beta=0.5)
    # A: shortfall 12.5 -> 20 after losing its 15: 15 + 7.5; B: 0 -> 1: 5 + 1
    assert rank.loc["A", "system_loss"] == 22.5 and rank.loc["A", "system_loss_without_network"] == 22.5
    assert rank.loc["B", "system_loss"] == 6.0 and rank.loc["B", "system_loss_without_network"] == 6.0
    assert rank["contagion_multiplier"].tolist() == [1.0, 1.0]
    # the chain with A forced into default, recovering nothing: its own shortfall (10) cannot change, so losing
    # its 5 loses 5 with or without the network
    st = contagion.stress(contagion.load_dataset("chain"), ["a-fails"])
    forced = systemic_importance(st.network)
    assert forced.loc["A", "system_loss"] == 5.0 and forced.loc["A", "system_loss_without_network"] == 5.0
    assert forced.loc["A", "contagion_multiplier"] == 1.0


def test_reverse_stress_inputs_checked():
    net = contagion.load_dataset("core-periphery")
    with pytest.raises(ScenarioError, match="no institution named"):
        reverse_stress(net, "Nobody", "external_assets:Core")
    with pytest.raises(ContagionError, match="tol"):
        reverse_stress(net, "Core", "external_assets:Core", tol=0)
    with pytest.raises(ContagionError, match="unknown clearing method"):
        reverse_stress(net, "Core", "external_assets:Core", method="magic")
    fam = shock_family(net, "external_assets:Core")
    assert isinstance(fam, ShockFamily)
    with pytest.raises(ContagionError, match=r"\[0, 1\]"):
        fam.network(1.5)


# ---------------------------------------------------------------------- CLI
def _invoke(*args):
    from click.testing import CliRunner

    from contagion.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_rank_cli_formats():
    import json

    out = _invoke("rank", "core-periphery", "-f", "json")
    assert out.exit_code == 0, out.output
    records = json.loads(out.stdout)
    assert records[0]["name"] == "Core" and records[0]["system_loss"] == 310.0
    assert records[0]["additional_defaults"] == 4
    assert {"name", "system_loss", "additional_defaults", "vulnerability", "contagion_multiplier"} <= set(records[0])
    csv = _invoke("rank", "core-periphery", "-f", "csv", "--top", "2").stdout.splitlines()
    assert csv[0].startswith("id,name,rank,type") and len(csv) == 3 and csv[1].startswith("C,Core,1,")
    assert records[0]["id"] == "C"            # the id first, as run's records (rank had the name only)
    table = _invoke("rank", "core-periphery", "--sort", "vulnerability").stdout
    assert "systemic importance" in table and "Periphery 1" in table
    assert "baseline: the network as it is" in _invoke("rank", "chain").stderr


@pytest.mark.parametrize("sort_by, header", [("vulnerability", "vulnerability"), ("defaulted_by", "brought down by"),
                                             ("contagion_multiplier", "multiplier")])
def test_rank_table_never_hides_the_column_it_is_sorted_by(monkeypatch, sort_by, header):
    """At 80 columns the ranking hid four columns, the one it was sorted by among them (--sort vulnerability)."""
    import contagion.cli.tables as tables

    monkeypatch.setattr(tables, "table_width", lambda color: 80)
    out = _invoke("rank", "ai-infrastructure", "--sort", sort_by, "--top", "5")
    assert out.exit_code == 0, out.output
    hidden = next(line for line in (out.stdout + out.stderr).replace("\n", " ").split("hidden to fit")[1:2])
    assert header not in hidden.split("(widen")[0]
    head = out.stdout.split("┡")[0]
    assert all(word in head for word in header.split())


def test_rank_cli_scenario_and_errors():
    import json

    out = _invoke("rank", "core-periphery", "-s", "core-shock", "-f", "json")
    assert out.exit_code == 0 and "core-shock" in out.stderr
    assert sum(r["additional_defaults"] for r in json.loads(out.stdout)) == 0
    bad = _invoke("rank", "core-periphery", "--alpha", "0.5")
    assert bad.exit_code == 2
    bad = _invoke("rank", "core-periphery", "-s", "nope")
    assert bad.exit_code == 1 and "unknown scenario" in bad.stderr


@pytest.mark.slow
def test_reverse_stress_cli_formats():
    import json

    out = _invoke("reverse-stress", "core-periphery", "--target", "Periphery 1", "--shock", "external_assets:Core",
                  "-f", "json", "--tol", "1e-9")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["status"] == "defaults" and abs(data["threshold"] - 8 / 15) < 2e-9
    assert [r["name"] for r in data["cascade"]][0] == "Core" and len(data["cascade"]) == 5
    csv = _invoke("reverse-stress", "core-periphery", "-t", "Core", "--shock", "external_assets:Core",
                  "-f", "csv").stdout.splitlines()
    assert csv[0] == "target,status,threshold,name,type,default_round,obligations,payment,shortfall,equity"
    table = _invoke("reverse-stress", "core-periphery", "-t", "Core", "--shock", "external_assets:Periphery 1").stdout
    assert "never" in table
    bad = _invoke("reverse-stress", "core-periphery", "-t", "Core", "--shock", "external_assets:Nobody")
    assert bad.exit_code == 1 and "unknown institution" in bad.stderr


@pytest.mark.parametrize("storage", ["string[pyarrow]", "str", "object"])
def test_losses_by_type_grouping_is_pandas_groupby_for_every_text_storage(storage):
    """Losses by creditor type: Arrow-backed types are grouped by dictionary codes, other text by pandas; both
    give pandas' groupby sums (the same compensated sums, to the bit), keys sorted, the keys' own dtype."""
    from contagion.measures.losses import _sum_by

    rng = np.random.default_rng(11)
    keys = pd.Series(rng.choice(["bank", "fund", "ai_lab", "Zeta", "été", "b"], 50_000)).astype(storage)
    values = rng.lognormal(0, 3, keys.size) * (rng.random(keys.size) < 0.6)
    got = _sum_by(values, keys)
    expected = pd.Series(values, index=pd.Index(keys.to_numpy(dtype=object))).groupby(level=0).sum()
    assert got.index.tolist() == ["Zeta", "ai_lab", "b", "bank", "fund", "été"] == expected.index.tolist()
    assert got.to_numpy().tobytes() == expected.to_numpy().tobytes()
    assert got.index.dtype == pd.Index(keys.array).dtype


def test_rank_pays_ranked_claims_by_seniority():
    """E (5) owes D 5; D (20) owes A 10 (level 1) and B 10 (level 2). When D fails it has E's 5: A gets 5, B
    nothing; when E fails D still pays both. Vulnerability averages over the 3 other scenarios: A 5/3, B 10/3
    (pro rata would say 2.5 each); D loses E's 5 when E fails."""
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["E", "D", "D"], "creditor": ["D", "A", "B"], "amount": [5.0, 10.0, 10.0],
                      "seniority": [1, 1, 2]}),
        pd.DataFrame({"id": ["E", "D", "A", "B"], "external_assets": [5.0, 20.0, 0.0, 0.0]}))
    rank = systemic_importance(net)
    np.testing.assert_allclose(rank.loc[["A", "B", "D", "E"], "vulnerability"], [5 / 3, 10 / 3, 5 / 3, 0.0],
                               rtol=1e-12)
    assert rank.loc["D", "system_loss"] == pytest.approx(20.0 + 15.0, rel=1e-12)


def test_rank_counts_an_unpaid_guarantee_call_once():
    """S (10) owes B 10, guaranteed by G (2). S failing: it pays nothing, G pays 2 of the call of 10. The loss is
    S's 10 of outside assets and its unpaid 10 (G's unpaid 8 of the call is the same money); B bears 8."""
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [10.0, 10.0],
                      "kind": ["loan", "guarantee"], "covers": [None, "e1"]}),
        pd.DataFrame({"id": ["S", "G", "B"], "external_assets": [10.0, 2.0, 0.0]}))
    rank = systemic_importance(net)
    assert rank.loc["S", "system_loss"] == pytest.approx(20.0, rel=1e-12)
    assert rank.loc["S", "induced_shortfall"] == pytest.approx(10.0, rel=1e-12)
    assert rank.loc["B", "vulnerability"] == pytest.approx(8.0 / 2, rel=1e-12)


def test_importance_ranks_small_amounts_as_large_ones():
    """Two unconnected institutions with outside assets 1e-10 and 3e-10 and owing 0.5e-10 outside: losing its
    assets costs 1e-10 + 0.5e-10 and 3e-10 + 0.5e-10, so B (3.5e-10) ranks first, as it does in any unit. The
    sort key rounded to 9 decimals and tied them at 0 (A first)."""
    net = contagion.FinancialNetwork.from_matrix(np.zeros((2, 2)), external_assets=[1e-10, 3e-10],
                                                 external_liabilities=[0.5e-10, 0.5e-10], names=["A", "B"])
    frame = systemic_importance(net)
    assert frame.index.tolist() == ["B", "A"] and frame["rank"].tolist() == [1, 2]
    assert frame["system_loss"].tolist() == pytest.approx([3.5e-10, 1.5e-10], rel=1e-12)


def test_reverse_stress_stops_at_float_resolution():
    """A tolerance below the spacing of floats near the threshold (10/150) never ended: the bracket's interior
    points rounded onto its ends. It stops where no float lies between them."""
    net = contagion.load_dataset("core-periphery")
    rs = reverse_stress(net, "Core", "external_assets:Core", tol=1e-20)
    assert rs.status == "defaults" and rs.threshold == pytest.approx(10 / 150, rel=1e-14)
    assert 0 < rs.threshold - rs.lower < 1e-16
    with pytest.raises(ContagionError, match="grid must be a whole number of at least 2, got 2.7"):
        reverse_stress(net, "Core", "external_assets:Core", grid=2.7)


def test_reverse_stress_csv_says_never_when_nobody_defaults(tmp_path):
    """A holds 12 and owes B 10: whatever C holds, A stays solvent ("never"), and nobody defaults. The CSV had
    only its header (the answer rode on cascade rows); one row now carries target, status and threshold."""
    folder = tmp_path / "n1"
    folder.mkdir()
    (folder / "nodes.csv").write_text("id,external_assets,external_liabilities\nA,12,0\nB,3,0\nC,1,5\n")
    (folder / "edges.csv").write_text("debtor,creditor,amount\nA,B,10\nB,C,10\n")
    out = CliRunner().invoke(cli, ["reverse-stress", str(folder), "-t", "A", "--shock", "external_assets:C", "-f", "csv"])
    assert out.exit_code == 0, out.output
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("A,never,")
