"""Seniority, secured claims, guarantees and residual value guarantees in the clearing (DESIGN.md §8).

Hand-derived cases carry their derivation; random networks are checked against an obviously-correct
reference (the clearing map iterated from full payment, in exact rationals on acyclic networks, where it
stops after at most n rounds) and for conservation, bounds and priority.
"""

from __future__ import annotations

from fractions import Fraction as Q

import numpy as np
import pandas as pd
import pytest

import contagion
from contagion.clearing.priority import ContingentWarning, uses_priority
from contagion.errors import InvalidNetworkError


def _net(edges: dict, nodes: dict) -> contagion.FinancialNetwork:
    return contagion.FinancialNetwork.from_edges(pd.DataFrame(edges), pd.DataFrame(nodes))


def _paid(net, method="eisenberg-noe", **kw):
    from contagion.clearing.priority import clear_priority

    return clear_priority(net, kw.get("alpha", 1.0), kw.get("beta", 1.0))


# ---------------------------------------------------------------------- seniority and collateral
def test_senior_level_is_paid_first():
    """A holds 10 and owes B 8 (level 1) and C 8 (level 2): B gets 8, C the remaining 2."""
    net = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [8.0, 8.0], "seniority": [1, 2]},
               {"id": ["A", "B", "C"], "external_assets": [10.0, 0, 0]})
    res = contagion.clear(net)
    assert res.solver == "priority-regimes"
    assert _paid(net)["row_payments"].tolist() == [8.0, 2.0]
    assert res.payments.tolist() == [10.0, 0.0, 0.0] and res.defaulted.tolist() == [True, False, False]
    # pari passu (no seniority): 5 each
    flat = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [8.0, 8.0]},
                {"id": ["A", "B", "C"], "external_assets": [10.0, 0, 0]})
    assert not uses_priority(flat)


def test_outside_creditors_rank_by_external_seniority():
    """A holds 10, owes B 8 and 8 outside. Outside creditors junior (level 2): B 8, outside 2."""
    net = _net({"debtor": ["A"], "creditor": ["B"], "amount": [8.0]},
               {"id": ["A", "B"], "external_assets": [10.0, 0], "external_liabilities": [8.0, 0],
                "external_seniority": [2, None]})
    res = contagion.clear(net)
    assert _paid(net)["row_payments"].tolist() == [8.0]
    assert res.payments[0] == 10.0 and res.equity[1] == 8.0


def test_secured_claim_with_a_deficiency():
    """A holds 10, owes B 10 secured by collateral worth 6, and C 10 unsecured. B takes 6 from the collateral;
    its deficiency of 4 shares the remaining 4 with C's 10 pro rata: B 6 + 4 x 4/14, C 4 x 10/14."""
    net = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [10.0, 10.0], "collateral_value": [6, None]},
               {"id": ["A", "B", "C"], "external_assets": [10.0, 0, 0]})
    rows = _paid(net)["row_payments"]
    assert rows == pytest.approx([6 + 16 / 14, 40 / 14], abs=1e-12)
    assert contagion.clear(net).payments[0] == pytest.approx(10.0, abs=1e-12)


def test_rogers_veraart_with_seniority():
    """A holds 6 outside and is owed 6 by D (who has 6 and owes 6); A owes B 8 (level 1), C 8 (level 2).
    A defaults (12 < 16); with alpha = 0.5, beta = 1 it has 3 + 6 = 9: B 8, C 1."""
    net = _net({"debtor": ["D", "A", "A"], "creditor": ["A", "B", "C"], "amount": [6.0, 8.0, 8.0],
                "seniority": [1, 1, 2]}, {"id": ["D", "A", "B", "C"], "external_assets": [6.0, 6.0, 0, 0]})
    out = _paid(net, alpha=0.5, beta=1.0)
    assert out["row_payments"].tolist() == [6.0, 8.0, 1.0]
    res = contagion.clear(net, method="rogers-veraart", alpha=0.5, beta=1.0)
    assert res.payments.tolist() == [6.0, 9.0, 0.0, 0.0] and res.params == {"alpha": 0.5, "beta": 1.0}


def test_forced_default_caps_the_waterfall():
    net = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [8.0, 8.0], "seniority": [1, 2]},
               {"id": ["A", "B", "C"], "external_assets": [100.0, 0, 0]})
    hit = contagion.apply(net, contagion.Shock("default", target="A", recovery=0.75))   # pays at most 12
    assert _paid(hit)["row_payments"].tolist() == [8.0, 4.0]


# ---------------------------------------------------------------------- guarantees
def _guarantee(sponsor_cash, cap=10.0, seniority=None, other=None):
    edges = {"edge_id": ["e1", "g1"], "debtor": ["SPV", "Sponsor"], "creditor": ["Bank", "Bank"],
             "amount": [10.0, cap], "kind": ["loan", "guarantee"], "covers": [None, "e1"], "seniority": [1, 1]}
    if seniority is not None:
        edges["seniority"] = [1, seniority]
    if other is not None:
        for k in edges:
            edges[k] = edges[k] + [{"edge_id": "o1", "debtor": "Sponsor", "creditor": "Bank2", "amount": other,
                                    "kind": "loan", "covers": None, "seniority": 1}[k]]
    return _net(edges, {"id": ["SPV", "Sponsor", "Bank", "Bank2"], "external_assets": [4.0, sponsor_cash, 0, 0]})


def test_guarantor_pays_the_whole_shortfall():
    """The SPV holds 4 against its loan of 10: 6 unpaid, which the sponsor (20 in hand) pays under its guarantee."""
    res = contagion.clear(_guarantee(20.0))
    assert res.payments.tolist() == [4.0, 6.0, 0.0, 0.0]
    assert res.network.edges["amount"].tolist() == [10.0, 6.0]        # the guarantee as called
    assert res.defaulted.tolist() == [True, False, False, False]


def test_guarantee_capped():
    res = contagion.clear(_guarantee(20.0, cap=3.0))
    assert res.payments.tolist() == [4.0, 3.0, 0.0, 0.0]


def test_guarantor_that_fails_itself():
    """The sponsor holds 3 against the 6 called: it pays 3 and defaults."""
    res = contagion.clear(_guarantee(3.0))
    assert res.payments.tolist() == [4.0, 3.0, 0.0, 0.0] and res.defaulted.tolist()[:2] == [True, True]


def test_guarantee_junior_to_the_guarantors_other_debt():
    """The sponsor holds 10, owes Bank2 8 (level 1) and the called 6 (level 2): Bank2 8, the guarantee 2."""
    net = _guarantee(10.0, seniority=2, other=8.0)
    out = _paid(net)
    assert out["row_payments"].tolist() == [4.0, 2.0, 8.0]
    assert out["amounts"].tolist() == [10.0, 6.0, 8.0]


@pytest.mark.parametrize("value, owed", [(70.0, 20.0), (90.0, 10.0), (120.0, 0.0)])
def test_residual_value_guarantee_capped_and_not(value, owed):
    """The sponsor guarantees a residual value K = 100 up to 20: it owes min(20, max(0, 100 - V))."""
    net = _net({"debtor": ["Sponsor"], "creditor": ["Lessor"], "amount": [20.0],
                "kind": ["residual_value_guarantee"], "residual_value": [100.0], "asset_value": [value]},
               {"id": ["Sponsor", "Lessor"], "external_assets": [50.0, 0]})
    res = contagion.clear(net)
    assert res.payments[0] == owed and res.network.total_obligations[0] == owed


def test_guarantee_loop_with_two_clearing_states_is_reported():
    """A holds 6 and is owed 4 by B; A owes X 10 (e1). B holds 4, owes A 4 (level 2) and guarantees e1 at
    level 1. If B is not called, A has 6 + 4 = 10 and pays X in full: a clearing state. If the guarantee is
    called for g, B pays X min(4, g) first, A receives 4 - min(4, g) and leaves min(4, g) unpaid, so any
    g in [0, 4] is a clearing state: the result says unique = False and names A (whose payment differs) and B
    (whose call does)."""
    net = _net({"edge_id": ["e1", "e2", "g"], "debtor": ["A", "B", "B"], "creditor": ["X", "A", "X"],
                "amount": [10.0, 4.0, 10.0], "kind": ["loan", "loan", "guarantee"], "covers": [None, None, "e1"],
                "seniority": [1, 2, 1]}, {"id": ["A", "B", "X"], "external_assets": [6.0, 4.0, 0]})
    with pytest.warns(ContingentWarning, match="payments, calls or defaults of A, B differ"):
        res = contagion.clear(net)
    assert res.unique is False
    # what is returned is a clearing state (the guarantee called for 4)
    assert res.payments.tolist() == [6.0, 4.0, 0.0]
    assert res.network.edges["amount"].tolist() == [10.0, 4.0, 4.0]


def test_clear_many_and_the_path_engine_honour_priority():
    net = _guarantee(20.0)
    E = np.c_[net.external_assets, net.external_assets + np.array([6.0, 0, 0, 0])]
    batch = contagion.clear_many(net, E)
    assert batch.solver == "priority-regimes"
    assert batch.payments[:, 0].tolist() == [4.0, 6.0, 0.0, 0.0]
    assert batch.payments[:, 1].tolist() == [10.0, 0.0, 0.0, 0.0]
    path = contagion.clear_path(net, (2026, 2026))
    assert path.payments[0].tolist() == [4.0, 6.0, 0.0, 0.0]


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("change, column, text", [
    ({"covers": [None, "nope"]}, "covers", "no obligation has this edge_id"),
    ({"covers": [None, "g1"]}, "covers", "cannot cover itself"),
    ({"covers": [None, None]}, "covers", "needs covers"),
    ({"seniority": [0, 1]}, "seniority", "whole number >= 1"),
    ({"seniority": [1.5, 1]}, "seniority", "whole number >= 1"),
    ({"seniority": ["senior", 1]}, "seniority", "whole number >= 1"),
    ({"collateral_value": [12.0, None]}, "collateral_value", "above the obligation"),
    ({"collateral_value": [-1.0, None]}, "collateral_value", ">= 0"),
    ({"edge_id": ["e1", "e1"], "covers": [None, "e1"]}, "edge_id", "used twice"),
    # a misspelt kind: without an exact guarantee kind anywhere, the cap was owed in full and covers ignored
    ({"kind": ["loan", "Guarantee"]}, "covers",
     "covers 'e1' on a row whose kind is not 'guarantee' (its kind is 'Guarantee'; did you mean 'guarantee'?)"),
    ({"kind": ["loan", "guarantees"]}, "covers", "did you mean 'guarantee'?"),
    ({"kind": ["loan", "loan"]}, "covers", "covers 'e1' on a row whose kind is not 'guarantee' (its kind is 'loan')"),
    ({"kind": ["loan", "residual_value_guarante"], "covers": [None, None], "residual_value": [None, 50.0],
      "asset_value": [None, 47.0]}, "residual_value",
     "residual_value on a row whose kind is not 'residual_value_guarantee' (its kind is 'residual_value_guarante'; "
     "did you mean 'residual_value_guarantee'?)"),
])
def test_bad_priority_values_are_located(tmp_path, change, column, text):
    edges = {"edge_id": ["e1", "g1"], "debtor": ["SPV", "Sponsor"], "creditor": ["Bank", "Bank"],
             "amount": [10.0, 10.0], "kind": ["loan", "guarantee"], "covers": [None, "e1"]}
    edges.update(change)
    folder = tmp_path / "net"
    folder.mkdir()
    pd.DataFrame(edges).to_csv(folder / "edges.csv", index=False)
    pd.DataFrame({"id": ["SPV", "Sponsor", "Bank"], "external_assets": [4.0, 20, 0]}).to_csv(folder / "nodes.csv",
                                                                                            index=False)
    net = contagion.read_network(folder)
    with pytest.raises(InvalidNetworkError) as info:
        contagion.clear(net)
    problem = info.value.problems[0]
    assert problem.column == column and problem.row in (2, 3) and str(problem.file).endswith("edges.csv")
    assert text in str(problem)
    from click.testing import CliRunner

    from contagion.cli import cli

    out = CliRunner().invoke(cli, ["run", str(folder)])
    assert out.exit_code == 1 and "edges.csv, row" in out.stderr and "Traceback" not in out.output


def test_guarantee_cycle_without_outside_money_is_an_error():
    net = _net({"edge_id": ["g1", "g2"], "debtor": ["A", "B"], "creditor": ["B", "A"], "amount": [5.0, 5.0],
                "kind": ["guarantee", "guarantee"], "covers": ["g2", "g1"]}, {"id": ["A", "B"]})
    with pytest.raises(InvalidNetworkError, match="cover each other in a cycle"):
        contagion.clear(net)


# ---------------------------------------------------------------------- against a reference, and properties
def _reference(net):
    """The clearing map iterated from full payment in exact rationals: the payment of each claim is its share
    of what its debtor has left at its level. On an acyclic network this reaches the greatest fixed point
    in at most n + 1 rounds. Returns the payment of every edge row."""
    edges = net.edges
    di, ci = net.edge_index
    n, m = net.n, len(edges)
    amt = [Q(float(a)) for a in edges["amount"]]
    sen = [int(s) if s == s else 1 for s in edges.get("seniority", pd.Series([1] * m))]
    cv = [Q(float(c)) if c == c else Q(0) for c in edges.get("collateral_value", pd.Series([np.nan] * m))]
    e = [Q(float(x)) for x in net.external_assets]
    ext = [Q(float(x)) for x in net.external_liabilities]
    claims = {i: [] for i in range(n)}        # (level, amount, row or None)
    for k in range(m):
        sec = min(amt[k], cv[k])
        claims[di[k]] += [(0, sec, k), (sen[k], amt[k] - sec, k)]
    for i in range(n):
        claims[i].append((1, ext[i], None))
    x = list(amt)
    for _ in range(n + 2):
        assets = [e[i] + sum(x[k] for k in range(m) if ci[k] == i) for i in range(n)]
        new = [Q(0)] * m
        for i in range(n):
            left = assets[i]
            for level in sorted({c[0] for c in claims[i]}):
                group = [c for c in claims[i] if c[0] == level]
                total = sum(c[1] for c in group)
                pay = min(max(left, Q(0)), total)
                for lev, a, k in group:
                    if k is not None and total > 0:
                        new[k] += a * pay / total
                left -= pay
        x = new
    return [float(v) for v in x]


@pytest.mark.parametrize("seed", range(40))
def test_random_acyclic_priority_networks_match_the_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.5]   # debtor i < creditor j
    if not pairs:
        pairs = [(0, n - 1)]
    m = len(pairs)
    amount = rng.integers(1, 20, m).astype(float)
    edges = {"debtor": [f"n{i}" for i, _ in pairs], "creditor": [f"n{j}" for _, j in pairs], "amount": amount,
             "seniority": rng.integers(1, 4, m),
             "collateral_value": np.where(rng.random(m) < 0.3, np.floor(amount * rng.random(m)), np.nan)}
    nodes = {"id": [f"n{i}" for i in range(n)], "external_assets": rng.integers(0, 15, n).astype(float),
             "external_liabilities": rng.integers(0, 5, n).astype(float)}
    net = _net(edges, nodes)
    out = _paid(net)
    np.testing.assert_allclose(out["row_payments"], _reference(net), rtol=0, atol=1e-9)
    # conservation, bounds and priority
    res = contagion.clear(net)
    di, ci = net.edge_index
    rows = out["row_payments"]
    assert np.all(rows >= -1e-12) and np.all(rows <= amount + 1e-12)
    to_network = np.bincount(di, weights=rows, minlength=n)
    outside = res.payments - to_network                        # what went to outside creditors
    assert np.all(outside >= -1e-9) and np.all(outside <= net.external_liabilities + 1e-9)
    np.testing.assert_allclose(res.equity, net.external_assets + np.bincount(ci, weights=rows, minlength=n)
                               - res.network.total_obligations, atol=1e-9)
    # nobody pays more than it has
    assert np.all(res.payments <= net.external_assets + np.bincount(ci, weights=rows, minlength=n) + 1e-9)
    for i in range(n):
        mine = np.flatnonzero(di == i)
        short = [k for k in mine if rows[k] < amount[k] - 1e-9]
        if short:
            lowest_short = min(edges["seniority"][k] for k in short)
            junior = [k for k in mine if edges["seniority"][k] > lowest_short]
            assert all(rows[k] <= min(amount[k], edges["collateral_value"][k] if edges["collateral_value"][k] ==
                                      edges["collateral_value"][k] else 0.0) + 1e-9 for k in junior)


# ---------------------------------------------------------------------- formats, bridges, look-through, CLI
def _sponsor_net():
    return _net({"edge_id": ["e1", "g1", "o1", "r1"], "debtor": ["SPV", "Sponsor", "Sponsor", "Sponsor"],
                 "creditor": ["Bank", "Bank", "Bank2", "Lessor"], "amount": [10.0, 10.0, 8.0, 5.0],
                 "kind": ["loan", "guarantee", "loan", "residual_value_guarantee"], "covers": [None, "e1", None, None],
                 "seniority": [1, 2, 1, 1], "collateral_value": [3.0, None, None, None],
                 "residual_value": [None, None, None, 50.0], "asset_value": [None, None, None, 47.0]},
                {"id": ["SPV", "Sponsor", "Bank", "Bank2", "Lessor"], "type": ["data_center_spv", "hyperscaler",
                 "bank", "bank", "lessor"], "external_assets": [4.0, 12.0, 0, 0, 0],
                 "sponsor": ["Sponsor", None, None, None, None], "external_seniority": [None, 2, None, None, None]})


@pytest.mark.parametrize("fmt", ["csv", "json", "graphml", "parquet", "networkx", "igraph"])
def test_design_8_columns_survive_every_format_and_bridge(tmp_path, fmt):
    """Sponsor (12 in hand) owes Bank2 8 (level 1), the residual value guarantee min(5, 50 - 47) = 3 (level 1)
    and the guarantee of the SPV's loan at level 2: the SPV pays its 4, so 6 is called; the sponsor pays
    8 + 3 at level 1 and the remaining 1 on the guarantee."""
    net = _sponsor_net()
    if fmt in ("networkx", "igraph"):
        from contagion import io

        again = getattr(io, f"from_{fmt}")(getattr(io, f"to_{fmt}")(net))
    else:
        path = tmp_path / {"csv": "net", "json": "net.json", "graphml": "net.graphml", "parquet": "net.parquet"}[fmt]
        again = contagion.read_network(contagion.write_network(net, path))
    a, b = contagion.clear(net), contagion.clear(again)
    assert a.payments.tolist() == [4.0, 12.0, 0.0, 0.0, 0.0]
    assert a.network.edges["amount"].tolist() == [10.0, 6.0, 8.0, 3.0]
    np.testing.assert_array_equal(b.payments, a.payments)
    np.testing.assert_array_equal(b.network.edges["amount"].to_numpy(), a.network.edges["amount"].to_numpy())
    assert b.solver == "priority-regimes"


def test_look_through_reports_guarantees_given_and_called():
    from contagion.sponsors import look_through

    net = _sponsor_net()
    frame = look_through(net, contagion.clear(net))
    row = frame.loc["Sponsor"]
    assert (row["debt"], row["off_balance_sheet_debt"], row["guarantees"], row["guarantees_called"],
            row["guaranteed_debt"]) == (8.0, 10.0, 15.0, 9.0, 10.0)
    assert np.isnan(look_through(net).loc["Sponsor", "guarantees_called"])


def test_cli_run_and_info_show_guarantee_calls(tmp_path):
    import json

    from click.testing import CliRunner

    from contagion.cli import cli

    folder = contagion.write_network(_sponsor_net(), tmp_path / "net")
    out = CliRunner().invoke(cli, ["run", str(folder), "-f", "json"])
    summary = json.loads(out.stdout)["summary"]
    assert (summary["guarantees"], summary["guarantees_called"]) == (15.0, 9.0)
    table = CliRunner().invoke(cli, ["run", str(folder)]).stdout
    assert "guarantees called (of those given)" in table and "9.00 of 15.00" in table
    info = json.loads(CliRunner().invoke(cli, ["info", str(folder), "-f", "json"]).stdout)
    sponsor = {r["sponsor"]: r for r in info["sponsors"]}["Sponsor"]
    assert sponsor["guarantees"] == 15.0 and sponsor["guarantees_called"] == 9.0


def test_cli_run_says_how_much_of_a_call_is_unpaid(tmp_path):
    """S (4) owes B 10, guaranteed by G (2): G pays 2 of the call of 6. The summary counts the unpaid 4 once."""
    import json

    from click.testing import CliRunner

    from contagion.cli import cli

    net = _net({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [10.0, 10.0],
                "kind": ["loan", "guarantee"], "covers": [None, "e1"]},
               {"id": ["S", "G", "B"], "type": ["firm", "firm", "bank"], "external_assets": [4.0, 2.0, 0.0]})
    folder = contagion.write_network(net, tmp_path / "net")
    summary = json.loads(CliRunner().invoke(cli, ["run", str(folder), "-f", "json"]).stdout)["summary"]
    assert (summary["total_shortfall"], summary["guarantees_unpaid"], summary["system_loss"]) == (10.0, 4.0, 6.0)
    assert summary["losses_by_creditor_type"] == {"bank": 4.0, "external creditors": 0.0}
    assert summary["amplification"] == 1.0
    table = CliRunner().invoke(cli, ["run", str(folder)], terminal_width=80).stdout
    lines = {line.strip("│ ").split("│")[0].strip(): line.split("│")[2].strip() for line in table.splitlines()
             if line.count("│") == 3}
    assert lines["of which unpaid guarantee calls"] == "4.00"
    assert lines["system loss (shock + shortfall - calls)"] == "6.00"
    assert lines["loss of bank"] == "4.00"


# ---------------------------------------------------------------------- the screen before the priority solver
@pytest.mark.parametrize("seed", range(25))
def test_screened_paths_equal_the_priority_solver(seed):
    """clear and clear_many try the ordinary paths first and hand over to the priority solver only when a
    debtor that ranks its claims defaults: the answers must equal the priority solver's in every case."""
    from contagion.clearing.priority import priority_result

    rng = np.random.default_rng(100 + seed)
    n = 8
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j and rng.random() < 0.3] or [(0, 1)]
    m = len(pairs)
    amount = rng.integers(1, 20, m).astype(float)
    edges = {"debtor": [f"n{i}" for i, _ in pairs], "creditor": [f"n{j}" for _, j in pairs], "amount": amount,
             "seniority": np.where(rng.random(m) < 0.3, 2, 1),
             "collateral_value": np.where(rng.random(m) < 0.15, np.floor(amount / 2), np.nan)}
    nodes = {"id": [f"n{i}" for i in range(n)], "external_assets": rng.integers(0, 25, n).astype(float),
             "external_liabilities": rng.integers(0, 5, n).astype(float)}
    net = _net(edges, nodes)
    E = np.column_stack([net.external_assets * f for f in (1.0, 0.5, 0.2, 2.0)])
    batch = contagion.clear_many(net, E)
    for k in range(E.shape[1]):
        one = net.replace(external_assets=E[:, k])
        ref = priority_result(one, "eisenberg-noe")
        res = contagion.clear(one)
        np.testing.assert_allclose(res.payments, ref.payments, rtol=0, atol=1e-9)
        assert res.defaulted.tolist() == ref.defaulted.tolist()
        np.testing.assert_allclose(batch.payments[:, k], ref.payments, rtol=0, atol=1e-9)
        assert batch.defaulted[:, k].tolist() == ref.defaulted.tolist()
    assert "priority" in batch.solver


def _picard(net, iterations=20_000):
    """The clearing map iterated from full payment in floats (monotone, so it decreases to the greatest
    clearing state); on cyclic networks it converges geometrically: a slow, obviously-correct reference."""
    from contagion.clearing.priority import _pay, _waterfall, contingent_spec

    spec = contingent_spec(net)
    di, ci = net.edge_index
    w = _waterfall(net.n, di, ci, spec.fixed_amount, spec, net.external_liabilities)
    x = w.claim_amount.copy()
    edge = w.claim_creditor >= 0
    for _ in range(iterations):
        received = np.bincount(w.claim_creditor[edge], weights=x[edge], minlength=net.n)
        new = _pay(w, net.external_assets + received)
        if np.array_equal(new, x):
            break
        x = new
    return np.bincount(w.claim_row[edge], weights=x[edge], minlength=di.size)


@pytest.mark.parametrize("seed", range(30))
def test_cyclic_priority_networks_match_the_iterated_map(seed):
    rng = np.random.default_rng(500 + seed)
    n = int(rng.integers(3, 9))
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j and rng.random() < 0.35] or [(0, 1), (1, 0)]
    m = len(pairs)
    amount = rng.integers(1, 20, m).astype(float)
    edges = {"debtor": [f"n{i}" for i, _ in pairs], "creditor": [f"n{j}" for _, j in pairs], "amount": amount,
             "seniority": rng.integers(1, 4, m),
             "collateral_value": np.where(rng.random(m) < 0.2, np.floor(amount * rng.random(m)), np.nan)}
    nodes = {"id": [f"n{i}" for i in range(n)], "external_assets": rng.integers(0, 15, n).astype(float),
             "external_liabilities": rng.integers(0, 5, n).astype(float), "external_seniority": rng.integers(1, 3, n)}
    net = _net(edges, nodes)
    np.testing.assert_allclose(_paid(net)["row_payments"], _picard(net), rtol=0, atol=1e-7)


def test_losses_follow_what_each_claim_was_paid():
    """A holds 10, owes B 8 (level 1) and C 8 (level 2): B loses nothing and C 6 (pro rata would say 3 and 3);
    and before the scenario the pre-shock equity counts guarantees at what they owe, not their caps."""
    from contagion.measures import losses_by_creditor_type

    net = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [8.0, 8.0], "seniority": [1, 2]},
               {"id": ["A", "B", "C"], "type": ["bank", "fund", "insurer"], "external_assets": [10.0, 0, 0]})
    res = contagion.clear(net)
    assert res.interbank_loss.tolist() == [0.0, 0.0, 6.0] and res.received.tolist() == [0.0, 8.0, 2.0]
    assert losses_by_creditor_type(res).to_dict() == {"insurer": 6.0, "external creditors": 0.0}
    g = _guarantee(20.0)
    frame = contagion.stress(g, ()).to_frame()
    assert frame.loc["Sponsor", "equity_pre_shock"] == 20.0 and frame.loc["Sponsor", "equity"] == 14.0


def test_debtors_paying_in_full_pay_exactly_what_they_owe_under_every_shipped_scenario():
    """The waterfall sums a row's secured and unsecured parts in another order than ``total_obligations``: a
    solvent debtor once showed a payment one ulp above what it owed (SoftBank under severe-combined, shortfall
    -3.6e-15). Not in default means paying what is owed, to the last bit, on every clearing path."""
    from contagion.shocks.catalog import list_scenarios

    net = contagion.load_dataset("ai-infrastructure")
    assert uses_priority(net)
    names = list(list_scenarios("ai-infrastructure"))
    assert "severe-combined" in names
    for name in names:
        res = contagion.stress(net, name).clearing
        solvent = ~res.defaulted
        pbar = res.network.total_obligations
        assert (res.payments[solvent] == pbar[solvent]).all(), name
        assert (res.shortfall >= 0).all() and (res.payments <= pbar).all(), name
    sb = contagion.stress(net, "severe-combined").clearing
    i = net.index_of("SoftBank Group")
    assert not sb.defaulted[i] and sb.shortfall[i] == 0.0


# ---------------------------------------------------------------------- batches: what is owed, not the caps
def _rvg_sponsor(cash=3.0, seniority=(1, 2)):
    """Sponsor S holds ``cash`` and owes Bank 2 (a loan) and SPV a residual value guarantee capped at 10 that is
    out of the money (residual value 5, asset worth 5: it owes 0); Bank2 is a second, junior lender."""
    return _net({"edge_id": ["l1", "r1", "l2"], "debtor": ["S", "S", "S"], "creditor": ["Bank", "SPV", "Bank2"],
                 "amount": [2.0, 10.0, 1.0], "kind": ["loan", "residual_value_guarantee", "loan"],
                 "residual_value": [None, 5.0, None], "asset_value": [None, 5.0, None],
                 "seniority": [seniority[0], 1, seniority[1]]},
                {"id": ["S", "Bank", "SPV", "Bank2"], "external_assets": [cash, 0, 0, 0]})


def test_a_batch_pays_what_is_owed_not_the_caps_of_residual_value_guarantees():
    """S owes 3 (2 senior, 1 junior; the guarantee's cap of 10 is not owed). With 3.5 it pays 3; with 2.5 it
    defaults, the senior loan gets 2 and the junior 0.5 (the priority solver); with 1 the senior loan gets 1.
    Every column equals clear() on its own, and nobody solvent shows a shortfall."""
    net = _rvg_sponsor()
    E = np.array([[3.5, 2.5, 1.0], [0, 0, 0], [0, 0, 0], [0, 0, 0]])
    batch = contagion.clear_many(net, E)
    assert "priority (2 of 3 scenarios)" in batch.solver
    assert batch.payments[0].tolist() == [3.0, 2.5, 1.0]
    assert batch.owed[0].tolist() == [3.0, 3.0, 3.0] and batch.network.total_obligations[0] == 3.0
    assert batch.shortfall[0].tolist() == [0.0, 0.5, 2.0]
    assert batch.to_frame().loc[(0, "S"), ["obligations", "shortfall"]].tolist() == [3.0, 0.0]
    for k in range(3):
        one = contagion.clear(net.replace(external_assets=E[:, k]))
        assert batch.payments[:, k].tolist() == one.payments.tolist()
        assert batch.shortfall[:, k].tolist() == one.shortfall.tolist()


def test_a_batch_with_guarantees_says_what_each_guarantor_owes_in_each_scenario():
    """The sponsor's guarantee of the SPV's loan of 10 is called for what the SPV fails to pay: 6 when the SPV
    holds 4, nothing when it holds 10; the sponsor owes that (plus nothing else) and pays it from its 20."""
    net = _guarantee(20.0)
    E = np.c_[net.external_assets, net.external_assets + np.array([6.0, 0, 0, 0])]
    batch = contagion.clear_many(net, E)
    assert batch.owed[:, 0].tolist() == [10.0, 6.0, 0.0, 0.0]
    assert batch.owed[:, 1].tolist() == [10.0, 0.0, 0.0, 0.0]
    assert batch.shortfall.tolist() == [[6.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    assert batch.network.total_obligations.tolist() == [10.0, 0.0, 0.0, 0.0]   # the guarantee uncalled
    assert batch.to_frame().loc[(0, "Sponsor"), "obligations"] == 6.0


def test_systemic_importance_measures_against_what_is_owed():
    """S holds 4 and owes 3. Its failure (it loses its 4) leaves its lenders 3 short: system loss 4 + 3 = 7.
    Without the network only S's own shortfall counts, from max(0, -(4 - 3)) = 0 to max(0, 4 - 1) = 3: loss 7
    too, a multiplier of exactly 1 (with the guarantee's cap of 10 counted as owed, S's equity would be -9, the
    loss without the network 4 + 13 - 9 = 8 and the multiplier 7/8). The lenders lose 2 and 1 in one of the
    three other scenarios."""
    from contagion.measures import systemic_importance

    rank = systemic_importance(_rvg_sponsor(cash=4.0))
    assert rank.loc["S", "system_loss"] == 7.0
    assert rank.loc["S", "contagion_multiplier"] == 1.0
    assert rank.loc["Bank", "vulnerability"] == 2.0 / 3 and rank.loc["Bank2", "vulnerability"] == 1.0 / 3


def test_a_sweep_of_the_built_in_network_finds_nothing_unpaid_by_those_who_never_default():
    """Meta owes 10.71 in 2027 and a residual value guarantee on Hyperion capped at 27.3 that is out of the money:
    it never defaults in the sweep, so it leaves nothing unpaid (the caps counted as owed made it 21.4)."""
    from contagion.sweep import load_sweep_config, run_sweep

    net = contagion.load_dataset("ai-infrastructure")
    sweep = run_sweep(net, load_sweep_config("ai-demand-uncertainty"), n=300, seed=2)
    never = sweep.default_probability == 0
    assert never.sum() > 40 and "Meta" in [sweep.names[i] for i in np.flatnonzero(never)]
    assert np.all(sweep.expected_unpaid[never] == 0.0)
    assert np.all(sweep.expected_unpaid[~never] > 0.0)


def test_threshold_refuses_networks_with_guarantees():
    """The threshold cascade read the guarantee's cap of 10 as owed: S (4 in hand, owing 3) failed in wave 0."""
    with pytest.raises(contagion.ContagionError, match="^threshold does not combine with seniority"):
        contagion.clear(_rvg_sponsor(cash=4.0), method="threshold")


def _gpu_borrowers(cash_n=1.0):
    """The issue's neocloud N (10 GPU units, owes 11) and GPU vehicle V (cash 3, 8 units, owes 9.8 to B, no
    exposure to N), with N's debt in two ranks (6 to a senior lender S, 5 to a junior lender J) and a residual
    value guarantee from N to a vehicle X capped at 50 that is out of the money (residual value 5, asset 5)."""
    return _net({"edge_id": ["s", "j", "r", "v"], "debtor": ["N", "N", "N", "V"], "creditor": ["S", "J", "X", "B"],
                 "amount": [6.0, 5.0, 50.0, 9.8], "seniority": [1, 2, 1, 1],
                 "kind": ["loan", "loan", "residual_value_guarantee", "loan"],
                 "residual_value": [None, None, 5.0, None], "asset_value": [None, None, 5.0, None]},
                {"id": ["N", "S", "J", "X", "V", "B"], "external_assets": [cash_n, 0, 0, 0, 3.0, 0],
                 "asset_units": [10.0, 0, 0, 0, 8.0, 0]})


def test_fire_sale_pays_by_seniority_and_counts_guarantees_at_what_they_owe():
    """Derivation (impact 0.01). N owes 11 (the guarantee's cap of 50 is not owed: 5 - 5 = 0) and holds 1 in
    cash: at any price below 1 it cannot pay, so it sells all 10 units. V needs 9.8 - 3 = 6.8, i.e. 6.8 / q of
    its 8 units: at q = 1 it sells 6.8 (q = exp(-0.168)), then it needs more than it has and sells all 8, so
    q = exp(-0.01 x 18) = 0.835270: V pays 3 + 8q = 9.682 < 9.8 and defaults although it owes N nothing. N pays
    1 + 10q = 9.353: the senior lender S its 6 in full, the junior J the remaining 3.353 (pro rata, J would get
    5/11 of it, 4.25). With N's cash at 4 both pay in full at q = 0.8502 (the issue's first case)."""
    q = np.exp(-0.18)
    res = contagion.clear(_gpu_borrowers(), method="fire-sale", impact=0.01)
    assert res.prices["asset"] == pytest.approx(q, abs=1e-12)
    np.testing.assert_allclose(res.payments, [1 + 10 * q, 0, 0, 0, 3 + 8 * q, 0], rtol=0, atol=1e-12)
    assert res.defaulted.tolist() == [True, False, False, False, True, False]
    np.testing.assert_allclose(res.row_payments, [6.0, 1 + 10 * q - 6.0, 0.0, 3 + 8 * q], rtol=0, atol=1e-12)
    assert res.network.total_obligations.tolist() == [11.0, 0, 0, 0, 9.8, 0]
    assert res.equity[0] == pytest.approx(1 + 10 * q - 11, abs=1e-12)           # holdings sold, paid out
    assert res.units_sold[:, 0].tolist() == [10.0, 0, 0, 0, 8.0, 0] and res.converged
    full = contagion.clear(_gpu_borrowers(4.0), method="fire-sale", impact=0.01)
    assert not full.defaulted.any() and round(full.prices["asset"], 4) == 0.8502
    # side by side: the same numbers per scenario, and what each owed
    net = _gpu_borrowers()
    E = np.c_[net.external_assets, _gpu_borrowers(4.0).external_assets]
    batch = contagion.clear_many(net, E, method="fire-sale", impact=0.01)
    np.testing.assert_allclose(batch.payments[:, 0], res.payments, rtol=0, atol=1e-12)
    np.testing.assert_allclose(batch.payments[:, 1], full.payments, rtol=0, atol=1e-12)
    assert batch.prices[0].round(6).tolist() == [round(q, 6), round(full.prices["asset"], 6)]
    assert batch.shortfall[0].tolist() == pytest.approx([11 - (1 + 10 * q), 0.0], abs=1e-12)
    # what each creditor received, by seniority: S its 6, J the rest (pro rata would give S 6/11 of N's payment)
    np.testing.assert_allclose(batch.received[:, 0], [0, 6.0, 1 + 10 * q - 6.0, 0, 0, 3 + 8 * q], rtol=0, atol=1e-12)
    np.testing.assert_allclose(batch.received[:, 1], full.received, rtol=0, atol=1e-12)
    # and on a path (one year): the same clearing, the units carried
    path = contagion.clear_path(net, (2026, 2026), method="fire-sale", impact=0.01)
    np.testing.assert_allclose(path.payments[0], res.payments, rtol=0, atol=1e-12)


def test_debtrank_refuses_networks_with_guarantees():
    from contagion.channels import debtrank, differential_debtrank

    for f, name in ((debtrank, "DebtRank"), (differential_debtrank, "differential DebtRank")):
        with pytest.raises(contagion.ContagionError, match=f"^{name} does not combine"):
            f(_rvg_sponsor(cash=4.0), "S")


def test_cli_threshold_on_the_built_in_network_is_a_clear_error():
    from click.testing import CliRunner

    from contagion.cli import cli

    result = CliRunner().invoke(cli, ["run", "-m", "threshold"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "threshold does not combine with seniority, collateral_value or guarantees" in result.stderr


def test_the_owed_network_is_derived_once_and_is_what_clearing_starts_from():
    from contagion.clearing.priority import owed_network

    net = _rvg_sponsor(cash=4.0)
    owed = owed_network(net)
    assert owed is owed_network(net) and owed.edges["amount"].tolist() == [2.0, 0.0, 1.0]
    assert contagion.clear(net).network is owed          # screened: the ordinary path on the owed network
    assert contagion.clear_many(net, net.external_assets[:, None]).network is owed
    plain = contagion.load_dataset("chain")
    assert owed_network(plain) is plain


def test_info_counts_guarantees_uncalled_in_what_is_owed_when_everyone_pays():
    """The sponsor's guarantee (cap 10) is called for 6 in the clearing as is (the SPV holds 4 of its 10), but
    'owed when everyone pays' is the SPV's loan alone: 10 of the 20 in the edge table."""
    from contagion.cli.data import network_info

    info = network_info(_guarantee(20.0))
    assert info["total_obligations"] == 20.0 and info["total_owed"] == 10.0


@pytest.mark.parametrize("storage", ["pyarrow", "python", "object"])
def test_uses_priority_finds_a_guarantee_kind_in_any_column_type(storage):
    from contagion.clearing.priority import _has_kind

    wanted = ("guarantee", "residual_value_guarantee")
    for cells, found in ((["loan", "bond"], False), (["loan", "guarantee"], True), (["loan", " guarantee "], True),
                         (["loan", "guarantees"], False), (["loan", None], False),
                         (["residual_value_guarantee"], True)):
        kinds = pd.Series(cells, dtype=object if storage == "object" else pd.StringDtype(storage))
        assert _has_kind(kinds, wanted) is found, (cells, storage)


def test_a_networks_kinds_are_stripped_so_its_guarantees_are_found_without_the_strip_scan(monkeypatch):
    """``from_edges`` strips the kinds, so ``uses_priority`` (and the run's guarantee summary) test a
    network's kinds by byte equality without first scanning them for white space; a kind written
    ``" guarantee "`` in the file is still a guarantee."""
    from contagion import _columns
    from contagion.clearing import priority

    edges = pd.DataFrame({"debtor": ["A", "B", "S"], "creditor": ["B", "C", "C"], "amount": [5.0, 3.0, 4.0],
                          "kind": pd.array(["loan", " guarantee ", "loan"], dtype="string[pyarrow]")})
    net = contagion.FinancialNetwork.from_edges(edges, pd.DataFrame({"id": ["A", "B", "C", "S"]}))
    assert net.edges["kind"].tolist() == ["loan", "guarantee", "loan"]
    scans = []
    real = _columns._may_need_strip
    monkeypatch.setattr(_columns, "_may_need_strip", lambda arrow: scans.append(len(arrow)) or real(arrow))
    assert priority.uses_priority(net) is True
    assert scans == []
    kinds = pd.Series(["loan", " guarantee"], dtype="string[pyarrow]")
    assert priority._has_kind(kinds, ("guarantee",)) is True and scans == [2]   # unknown text: scanned


# ---------------------------------------------------------------------- waves and "if all pay" with guarantees
def _guarantor_brought_down(extra_edges: dict | None = None, extra_nodes: dict | None = None):
    """S (4) owes B 10; G (12) owes C 8 and guarantees S's debt up to 10."""
    edges = {"edge_id": ["e1", "g1", "e2"], "debtor": ["S", "G", "G"], "creditor": ["B", "B", "C"],
             "amount": [10.0, 10.0, 8.0], "kind": ["loan", "guarantee", "loan"], "covers": [None, "e1", None]}
    nodes = {"id": ["S", "G", "B", "C"], "external_assets": [4.0, 12.0, 0.0, 0.0]}
    for table, extra in ((edges, extra_edges), (nodes, extra_nodes)):
        for key, values in (extra or {}).items():
            table[key] = table[key] + values
    return _net(edges, nodes)


def test_a_guarantor_brought_down_by_a_call_is_not_a_fundamental_default():
    """DESIGN §2: wave 0 is who is short with everyone paying in full -- and then no guarantee is called. S is
    short (4 < 10), 6 is called on G, which then owes 14 with 12 and defaults: in wave 1, not 0. With everyone
    paying, B would have its 10 (not 10 + the call) and G 12 - 8 = 4."""
    res = contagion.clear(_guarantor_brought_down())
    assert res.default_round.tolist() == [0, 1, -1, -1]
    assert res.summary()["fundamental_defaults"] == 1 and res.waves == 1
    np.testing.assert_allclose(res.payments, [4.0, 12.0, 0.0, 0.0])
    frame = res.to_frame()
    assert frame["equity_if_all_pay"].tolist() == [-6.0, 4.0, 10.0, 8.0]
    from contagion.measures import loss_summary

    summary = loss_summary(res, res.network)
    assert summary["system_loss_without_network"] == 6.0       # only S's own gap: the call is contagion
    # G pays its 14 of claims 12/14 pro rata: 36/7 on the call of 6, 48/7 to C. Unpaid: S's 6 to B, and of G's
    # 2, 6/7 on the call (already in S's 6: counted once) and 8/7 to C (contagion). B loses 10 - 4 - 36/7 = 6/7,
    # C 8/7, G's owners their 4: 6 in all, S's own gap, of which the network spread C's 8/7 a second time
    assert summary["guarantees_unpaid"] == pytest.approx(6 / 7, rel=1e-12)
    assert summary["system_loss"] == pytest.approx(6 + 8 / 7, rel=1e-12)
    np.testing.assert_allclose(res.interbank_loss, [0.0, 0.0, 6 / 7, 8 / 7], rtol=1e-12, atol=1e-15)
    assert res.total_shortfall == pytest.approx(8.0, rel=1e-12)   # the table's column: S's 6 and G's 2


def test_a_guarantee_moves_a_loss_and_counts_it_once():
    """S (4) owes B 10; G guarantees it up to 10. With G rich (20) it pays the call of 6: B loses nothing, G's
    owners 6. With G poor (2) it pays 2 of the call: B loses 4 (its equity falls 10 -> 6), G's owners 2; the
    unpaid 4 of the call is the same money as 4 of S's unpaid 6. Either way the system loses S's gap of 6, and
    the guarantee does not amplify it."""
    from contagion.measures import loss_summary, losses_by_creditor_type

    for g_assets, b_loss, unpaid in ((20.0, 0.0, 0.0), (2.0, 4.0, 4.0)):
        net = _net({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [10.0, 10.0],
                    "kind": ["loan", "guarantee"], "covers": [None, "e1"]},
                   {"id": ["S", "G", "B"], "external_assets": [4.0, g_assets, 0.0]})
        res = contagion.clear(net)
        frame = res.to_frame()
        assert frame["equity_if_all_pay"]["B"] - frame["equity"]["B"] == b_loss     # B's loss, from its equity
        np.testing.assert_allclose(res.interbank_loss, [0.0, 0.0, b_loss], atol=1e-15)
        assert float(losses_by_creditor_type(res).sum()) == b_loss
        summary = loss_summary(res, net)
        assert summary["guarantees_unpaid"] == unpaid
        assert summary["total_shortfall"] == 6.0 + unpaid
        assert summary["system_loss"] == 6.0 == summary["system_loss_without_network"]
        assert summary["amplification"] == 1.0
    plain = contagion.clear(_net({"debtor": ["S"], "creditor": ["B"], "amount": [10.0]},
                                 {"id": ["S", "B"], "external_assets": [4.0, 0.0]}))
    assert "guarantees_unpaid" not in loss_summary(plain)      # the key comes with such guarantees only


def test_guarantee_waves_follow_the_cascade_through_the_guarantor():
    """A chain: D (1) owes S 10, so S (4 + what D pays) falls short in wave 1; the guarantee of S's debt is then
    called on G, which fails in wave 2, and C, owed 8 by G and owing X 9 with 1 of its own, in wave 3."""
    net = _guarantor_brought_down({"edge_id": ["d1", "c1"], "debtor": ["D", "C"], "creditor": ["S", "X"],
                                   "amount": [10.0, 9.0], "kind": ["loan", "loan"], "covers": [None, None]},
                                  {"id": ["D", "X"], "external_assets": [1.0, 0.0]})
    net = net.replace(external_assets=np.array([4.0, 12.0, 0.0, 1.0, 1.0, 0.0]))    # S, G, B, C, D, X
    res = contagion.clear(net)
    assert dict(zip(net.names, res.default_round.tolist())) == {"S": 1, "G": 2, "B": -1, "C": 3, "D": 0, "X": -1}
    # S gets 1 from D and has 4: pays 5 of 10, so 5 is called; G owes 8 + 5 with 12; C has 1 + 12 x 8/13 < 9
    np.testing.assert_allclose(res.payments, [5.0, 12.0, 0.0, 1 + 12 * 8 / 13, 1.0, 0.0], rtol=1e-12)
    assert res.summary()["fundamental_defaults"] == 1


def test_two_guarantees_of_one_obligation_share_what_is_unpaid():
    """SPV (4) owes B1 10; SP (cap 10) and B3 (cap 10) both guarantee it. 6 is unpaid: each is called for
    half (3), so B1 gets its 10 -- before, each was called for 6 and B1 got 16 on a claim of 10. With caps of
    10 and 2, the calls are 5 and 1 (in proportion to the caps); on a loan of 40 (36 unpaid) both caps are
    reached: 10 and 2."""
    def net(cap_b3, loan=10.0):
        return _net({"edge_id": ["e1", "g1", "g2"], "debtor": ["SPV", "SP", "B3"], "creditor": ["B1"] * 3,
                     "amount": [loan, 10.0, cap_b3], "kind": ["loan", "guarantee", "guarantee"],
                     "covers": [None, "e1", "e1"]},
                    {"id": ["SPV", "SP", "B1", "B3"], "external_assets": [4.0, 100.0, 0.0, 100.0]})
    for cap_b3, loan, calls in ((10.0, 10.0, [3.0, 3.0]), (2.0, 10.0, [5.0, 1.0]), (2.0, 40.0, [10.0, 2.0])):
        res = contagion.clear(net(cap_b3, loan))
        assert res.network.edges["amount"].tolist()[1:] == calls
        assert res.to_frame().loc["B1", "equity"] == 4.0 + sum(calls) <= loan


def test_a_guarantee_of_ones_own_obligation_is_a_located_error():
    net = _net({"edge_id": ["e1", "g1"], "debtor": ["SPV", "SPV"], "creditor": ["B1", "B1"], "amount": [10.0, 10.0],
                "kind": ["loan", "guarantee"], "covers": [None, "e1"]},
               {"id": ["SPV", "B1"], "external_assets": [4.0, 0.0]})
    with pytest.raises(InvalidNetworkError, match=r"row 1, column 'covers': covers 'e1': 'SPV' would guarantee its "
                                                  r"own obligation"):
        contagion.clear(net)


def test_waves_with_guarantees_under_rogers_veraart_fall_back_when_a_partial_set_does_not_settle():
    """Rogers--Veraart (0.5, 0.5) with two guarantees and two residual value guarantees: the clearing settles
    (residual ~1e-15), but the guarantee calls of a partial default set in the waves' computation do not --
    reading default_round raised ConvergenceError (run and clear_path failed); the clearing's own waves are kept."""
    edges = pd.DataFrame([r.split(",") for r in """n0,n1,7.0,residual_value_guarantee,e0,,1,,50.0,46.0
n0,n3,16.0,loan,e1,,1,8.0,,
n0,n5,19.0,guarantee,e2,e4,1,,,
n1,n0,7.0,loan,e3,,2,,,
n1,n5,17.0,residual_value_guarantee,e4,,1,,50.0,30.0
n2,n1,1.0,loan,e5,,2,,,
n2,n3,11.0,guarantee,e6,e1,1,,,
n2,n5,13.0,loan,e7,,2,,,
n3,n0,16.0,loan,e8,,2,,,
n3,n1,19.0,loan,e9,,2,,,
n4,n0,13.0,loan,e10,,1,6.0,,
n4,n5,16.0,loan,e11,,1,,,
n5,n4,17.0,loan,e12,,1,,,""".splitlines()],
                         columns=["debtor", "creditor", "amount", "kind", "edge_id", "covers", "seniority",
                                  "collateral_value", "residual_value", "asset_value"]).replace("", None)
    for col in ("amount", "collateral_value", "residual_value", "asset_value"):
        edges[col] = edges[col].astype(float)
    edges["seniority"] = edges["seniority"].astype(int)
    nodes = pd.DataFrame({"id": [f"n{k}" for k in range(6)], "external_assets": [4.0, 17, 17, 4, 5, 7],
                          "external_liabilities": [4.0, 2, 2, 1, 1, 3]})
    res = contagion.clear(_net(edges.to_dict("list"), nodes.to_dict("list")), method="rogers-veraart",
                          alpha=0.5, beta=0.5)
    assert res.defaulted.all() and res.default_round.tolist() == [1, 2, 0, 0, 0, 3]


# ---------------------------------------------------------------------- losses with guarantees, every command
def _guaranteed(g_assets: float, to: str = "B", s_assets: float = 10.0) -> contagion.FinancialNetwork:
    """S owes B 10 (e1); G guarantees e1 up to 6, owed to ``to`` (B: the covered creditor; C: a third party
    that bought the protection)."""
    return _net({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", to], "amount": [10.0, 6.0],
                 "kind": ["loan", "guarantee"], "covers": [None, "e1"]},
                {"id": ["S", "G", "B", "C"], "type": ["spv", "sponsor", "bank", "fund"],
                 "external_assets": [s_assets, g_assets, 0.0, 0.0]})


@pytest.mark.parametrize("g_assets, to, loss, d_right", [
    (100.0, "B", 12.0, -1.0), (2.0, "B", 12.0, -1.0),   # the call moves B's loss to G: the shock 6, S's unpaid 6
    (100.0, "C", 12.0, -1.0), (2.0, "C", 16.0, -2.0),   # C's protection is a claim of its own: G's unpaid 4 too
])
def test_run_sweep_rank_and_sensitivity_count_guarantee_calls_alike(g_assets, to, loss, d_right):
    """S loses 6 of its 10 and pays 4 of 10; 6 is called on G. The system loss of `run` is what a sweep with the
    same fixed loss gives for every draw, what `rank` gives for S's failure relative to the baseline, and what
    the sensitivity to S's cash differentiates (a third-party guarantee before: sweep 6 and 10, rank 14 and 18)."""
    from contagion.measures import loss_summary, systemic_importance
    from contagion.sweep import SweepConfig, run_sweep

    net = _guaranteed(g_assets, to)
    hit = net.replace(external_assets=np.array([4.0, g_assets, 0.0, 0.0]))
    assert loss_summary(contagion.clear(hit), net)["system_loss"] == loss
    cfg = SweepConfig.from_dict({"shocks": [{"target": "S", "distribution": "fixed", "value": 0.6}]})
    sw = run_sweep(net, cfg, n=16, seed=3)
    assert sw.loss.mean == pytest.approx(loss, rel=1e-12)
    assert sw.loss_contribution.sum() == pytest.approx(loss, rel=1e-12)
    failed = net.replace(external_assets=np.array([0.0, g_assets, 0.0, 0.0]))
    by_run = loss_summary(contagion.clear(failed), net)["system_loss"]
    assert systemic_importance(net).loc["S", "system_loss"] == pytest.approx(by_run, rel=1e-12)
    from contagion.sensitivity import sensitivity

    # one more unit of S's cash: 1 less unpaid by S; with a poor guarantor to C, 1 less called and unpaid by G
    s = sensitivity(hit, "external_assets:S", scenarios=())
    assert s.system_loss_right == pytest.approx(d_right, abs=1e-6)
    assert _fd(hit, "S") == pytest.approx(d_right, abs=1e-6)


def _fd(net, who: str, h: float = 1e-3) -> float:
    """d system loss / d (who's outside assets), by a finite difference of run's system loss (a kink-free point)."""
    from contagion.measures import loss_summary

    k = list(net.names).index(who)
    up = net.external_assets.copy()
    up[k] += h
    a = loss_summary(contagion.clear(net), net)["system_loss"]
    b = loss_summary(contagion.clear(net.replace(external_assets=up)), net)["system_loss"]
    return (b - a) / h


def test_rank_on_a_stressed_baseline_sees_a_guarantor_that_owes_only_its_call():
    """After S's loss G owes the call of 6 and nothing else: its failure (losing its 100) is not trivial -- it
    defaults and B loses the 6 it would have paid. B's vulnerability: 4 when S fails, 6 when G does: 5."""
    from contagion.measures import systemic_importance

    net = _guaranteed(100.0).replace(external_assets=np.array([4.0, 100.0, 0.0, 0.0]))
    rank = systemic_importance(net)
    assert bool(rank.loc["G", "fails"]) is True
    assert rank.loc["B", "vulnerability"] == pytest.approx((4.0 + 6.0) / 3, rel=1e-12)


def test_a_third_party_guarantee_on_a_path_does_not_relieve_the_covered_debt():
    """S (4 a year after the shock) owes B 10 a year to 2028; G (2 a year) guarantees it to C up to 6 over the
    path. S defaults in 2026 (all 30 due); what G pays C (2 a year) is not paid to B, so S still owes 30 - 4,
    then 26 - 4 (before, 6 less: G's payments came off B's claim)."""
    net = _guaranteed(2.0, "C", s_assets=4.0)
    net = net.replace(edge_columns={"start": [2026, None], "end": [2028, None]})
    path = contagion.clear_path(net, (2026, 2028))
    assert path.obligations[:, 0].tolist() == [30.0, 26.0, 22.0]
    assert path.payments[:, 1].tolist() == [2.0, 2.0, 2.0]


def test_fire_sales_count_no_call_when_everyone_pays():
    """With impact 0 the fire-sale clearing is Eisenberg--Noe: the loss without network is S's gap of 6 and the
    shock (not 16: G's call and B's claim on it were counted as if everyone paid)."""
    from contagion.measures import loss_summary

    net = _guaranteed(2.0)
    hit = net.replace(external_assets=np.array([4.0, 2.0, 0.0, 0.0]))
    for method, kw in (("eisenberg-noe", {}), ("fire-sale", {"impact": 0.0})):
        res = contagion.clear(hit, method=method, **kw)
        s = loss_summary(res, net)
        assert (s["system_loss"], s["system_loss_without_network"], s["amplification"]) == (12.0, 12.0, 1.0), method
        assert res.to_frame()["equity_if_all_pay"].tolist() == [-6.0, 2.0, 10.0, 0.0], method


def test_the_reports_story_does_not_blame_a_loss_twice():
    from contagion.report.story import default_sentences

    res = contagion.clear(_guaranteed(2.0).replace(external_assets=np.array([4.0, 2.0, 0.0, 0.0])))
    assert default_sentences(res) == [
        "S defaults (wave 0, fundamental) and leaves 6.00 unpaid; B (4.00) and G as guarantor (2.00) bear it.",
        "G defaults (wave 1) and leaves 4.00 unpaid, on its guarantee calls: a loss counted with the debts they "
        "cover."]


def test_under_rogers_veraart_a_guarantors_default_cost_stays_in_the_system_loss():
    """alpha = beta = 1/2. S (4 after the shock) pays 2 of 10: 8 unpaid, 6 called on G. G poor (2) pays 1 where,
    without the cost of its default, it would pay 2: of its unpaid 5 on the call, 4 is S's debt again and 1 is
    value lost. System loss 6 + 8 + 1 = 15 (B loses 7, G's owners 2, S's the shock 6); with G rich, 14. `run`,
    a sweep with the same fixed loss and rank agree."""
    from contagion.measures import loss_summary
    from contagion.sweep import SweepConfig, run_sweep

    rv = {"alpha": 0.5, "beta": 0.5}
    for g_assets, unpaid, loss in ((2.0, 4.0, 15.0), (100.0, 0.0, 14.0)):
        net = _guaranteed(g_assets)
        hit = net.replace(external_assets=np.array([4.0, g_assets, 0.0, 0.0]))
        s = loss_summary(contagion.clear(hit, method="rogers-veraart", **rv), net)
        assert (s["guarantees_unpaid"], s["system_loss"]) == (unpaid, loss)
        cfg = SweepConfig.from_dict({"shocks": [{"target": "S", "distribution": "fixed", "value": 0.6}]})
        assert run_sweep(net, cfg, n=16, seed=1, method="rogers-veraart", **rv).loss.mean == pytest.approx(loss)


def test_the_story_under_rogers_veraart_matches_the_headline():
    """alpha 1/2: S (8 after the shock) pays 4 of 10; G (2) would pay 2 of the call of 6 but pays 1. The story gives
    B 4 and G 2 of S's 6, and of G's unpaid 5, the 4 counted with S's debt and the 1 its default destroyed (B's): B
    loses 5 in all, as the losses by type say, and the headline's unpaid calls are 4."""
    from contagion.measures import loss_summary, losses_by_creditor_type
    from contagion.report.story import default_sentences

    net = _net({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [10.0, 6.0],
                "kind": ["loan", "guarantee"], "covers": [None, "e1"]},
               {"id": ["S", "G", "B"], "type": ["spv", "sponsor", "bank"], "external_assets": [8.0, 2.0, 0.0]})
    res = contagion.clear(net, method="rogers-veraart", alpha=0.5, beta=1.0)
    assert default_sentences(res) == [
        "S defaults (wave 0, fundamental) and leaves 6.00 unpaid; B (4.00) and G as guarantor (2.00) bear it.",
        "G defaults (wave 1) and leaves 5.00 unpaid, 4.00 of it on its guarantee calls, a loss counted with the "
        "debts they cover; B (1.00) bears the rest."]
    assert losses_by_creditor_type(res)["bank"] == 5.0
    assert loss_summary(res, net)["guarantees_unpaid"] == 4.0


def test_protection_a_third_party_bought_does_not_dilute_the_creditors_own_guarantee():
    """S (4) owes B 10; G1 guarantees it to B (cap 6), G2 sells the same protection to T (cap 6), both rich. S's
    unpaid 6 is called in full on each: B recovers 10, T receives 6 (shared by caps, B recovered 7 and T 3)."""
    net = _net({"edge_id": ["e1", "g1", "g2"], "debtor": ["S", "G1", "G2"], "creditor": ["B", "B", "T"],
                "amount": [10.0, 6.0, 6.0], "kind": ["loan", "guarantee", "guarantee"], "covers": [None, "e1", "e1"]},
               {"id": ["S", "G1", "G2", "B", "T"], "external_assets": [4.0, 100.0, 100.0, 0.0, 0.0]})
    res = contagion.clear(net)
    np.testing.assert_allclose(res.row_payments, [4.0, 6.0, 6.0])
    assert res.interbank_loss.tolist() == [0.0, 0.0, 0.0, 0.0, 0.0]
    two = _net(
        {"edge_id": ["e1", "g1", "g2"], "debtor": ["S", "G1", "G2"], "creditor": ["B", "B", "B"],
         "amount": [10.0, 6.0, 6.0], "kind": ["loan", "guarantee", "guarantee"], "covers": [None, "e1", "e1"]},
        {"id": ["S", "G1", "G2", "B"], "external_assets": [4.0, 100.0, 100.0, 0.0]})
    np.testing.assert_allclose(contagion.clear(two).row_payments, [4.0, 3.0, 3.0])   # both B's: they share


def test_a_bad_residual_value_is_reported_once():
    """-50 is not a value (>= 0); it was also reported as missing ("needs residual_value")."""
    net = _net({"edge_id": ["e1", "g1"], "debtor": ["S", "P"], "creditor": ["B", "B"], "amount": [10.0, 5.0],
                "kind": ["loan", "residual_value_guarantee"], "residual_value": [None, -50.0],
                "asset_value": [None, 47.0]}, {"id": ["S", "P", "B"], "external_assets": [4.0, 12.0, 0.0]})
    with pytest.raises(InvalidNetworkError) as info:
        contagion.clear(net)
    assert [(p.column, p.message) for p in info.value.problems] == [
        ("residual_value", "must be a finite number >= 0, got -50.0")]


def test_an_institution_forced_into_default_that_owes_nothing_does_not_default():
    """B is forced into default but owes nothing: as on the plain path it cannot default (the priority solver
    counted it, wave 0). A (8) pays B its senior 10 in part (8) and its outside creditors nothing."""
    nodes = {"id": ["A", "B"], "external_assets": [8.0, 0.0], "external_liabilities": [5.0, 0.0],
             "external_seniority": [2, 1], "forced_default": [False, True], "forced_recovery": [1.0, 0.5]}
    net = _net({"debtor": ["A"], "creditor": ["B"], "amount": [10.0], "seniority": [1]}, nodes)
    res = contagion.clear(net)
    assert res.solver == "priority-regimes" and res.payments.tolist() == [8.0, 0.0]
    assert res.defaulted.tolist() == [True, False] and res.default_round.tolist() == [0, -1] and res.n_defaults == 1
    batch = contagion.clear_many(net, np.repeat(net.external_assets[:, None], 300, axis=1))
    assert batch.defaulted.sum(axis=0).tolist() == [1] * 300 and not batch.defaulted[1].any()


@pytest.mark.parametrize("big, small", [(10000.0, 3.0), (1e9, 3e5)])
def test_a_loop_that_loses_a_little_a_round_settles(big, small):
    """A owes C `small` (senior) and B `big`; B owes its outside creditors `big` (senior) and A `big`; B holds
    `big`. Everyone paying: A receives big and owes big + small (short: wave 0). The greatest clearing state:
    B pays its outside creditors its `big` and A nothing (what A could pass on is the little B would pay it),
    so A pays nothing and B is in default (wave 1). Stepping the map took 3 of 10000 off every two steps and
    gave up after 1699 (ConvergenceError); the loop's steps are now followed to their next regime at once."""
    net = _net({"debtor": ["A", "A", "B"], "creditor": ["C", "B", "A"], "amount": [small, big, big],
                "seniority": [1, 2, 2]},
               {"id": ["A", "B", "C"], "external_assets": [0.0, big, 0.0], "external_liabilities": [0.0, big, 0.0],
                "external_seniority": [1, 1, 1]})
    for solver in ("reference", "compiled"):
        res = contagion.clear(net, solver=solver)
        assert res.payments.tolist() == [0.0, big, 0.0] and res.default_round.tolist() == [0, 1, -1]


def test_waves_with_collateral_are_fictitious_default_rounds():
    """A (nothing) owes B 15 and C 18 secured by 18; C owes D 19; D holds 6 and owes 20 outside, B owes 4 outside.
    Everyone paying: A (0 < 33), C (18 < 19) and D (6 + 19 < 20? no: 25 >= 20) -- A and C are short: wave 0.
    With A and C paying what they can (nothing), B receives 0 of 15 (short of 4) and D 0 of 19 (6 < 20): both
    wave 1. The solver counted steps of the map and put D in wave 2 (without the collateral column: wave 1)."""
    net = _net({"debtor": ["A", "A", "C"], "creditor": ["B", "C", "D"], "amount": [15.0, 18.0, 19.0],
                "collateral_value": [None, 18.0, None]},
               {"id": list("ABCD"), "external_assets": [0.0, 0.0, 0.0, 6.0],
                "external_liabilities": [0.0, 4.0, 0.0, 20.0]})
    res = contagion.clear(net)
    assert res.solver == "priority-regimes" and res.payments.tolist() == [0.0, 0.0, 0.0, 6.0]
    assert res.default_round.tolist() == [0, 1, 0, 1]


def test_two_states_that_pay_the_same_totals_are_not_unique():
    """A and B (10 each) owe X and Y 10 each (junior) and guarantee each other's debt (cap 5, senior). Both
    guarantees called (A and B owe 15, pay 10: both in default, X and Y lose 5 each) and neither called (all paid)
    are clearing states; every institution pays 10 in both, so comparing the payments saw one state."""
    net = _net({"edge_id": ["a", "b", "ga", "gb"], "debtor": ["A", "B", "A", "B"], "creditor": ["X", "Y", "Y", "X"],
                "amount": [10.0, 10.0, 5.0, 5.0], "kind": ["loan", "loan", "guarantee", "guarantee"],
                "covers": [None, None, "b", "a"], "seniority": [2, 2, 1, 1]},
               {"id": ["A", "B", "X", "Y"], "external_assets": [10.0, 10.0, 0.0, 0.0]})
    with pytest.warns(ContingentWarning, match="payments, calls or defaults of A, B differ"):
        res = contagion.clear(net)
    assert res.unique is False and res.payments.tolist() == [10.0, 10.0, 0.0, 0.0]
    assert res.defaulted.tolist() == [True, True, False, False]      # the state with the guarantees called is shown


def test_a_call_that_lowers_itself_settles_in_between():
    """D (13) owes C 16 (e0); X owes D 7; G (20) guarantees e0 to X, a third party, cap 7. Called for c, G pays X
    c, X pays D min(7, c), D pays C 13 + c and leaves 3 - c unpaid: the call is min(7, 3 - c), so c = 1.5 (F(c) =
    3 - c). From the cap the calls swung 7, 0, 3, 0, 3, ... and the clearing gave up (ConvergenceError)."""
    net = _net({"edge_id": ["e0", "e1", "g"], "debtor": ["D", "X", "G"], "creditor": ["C", "D", "X"],
                "amount": [16.0, 7.0, 7.0], "kind": ["loan", "loan", "guarantee"], "covers": [None, None, "e0"]},
               {"id": ["D", "C", "G", "X"], "external_assets": [13.0, 0.0, 20.0, 0.0]})
    res = contagion.clear(net)
    assert res.network.edges["amount"].tolist() == [16.0, 7.0, 1.5]
    assert res.payments.tolist() == [14.5, 0.0, 1.5, 1.5] and res.defaulted.tolist() == [True, False, False, True]


def test_a_loop_without_outside_money_settles_on_its_secured_claims():
    """No one holds anything. A owes C 9 (4.5 secured, the rest at level 1 beside 7 outside) and B 12 (level 2);
    B owes A 9 (all secured) and C 11; C owes A 16 (all secured) and B 2. Whatever A has, C receives its
    first 4.5 and passes all it receives to A (C's secured claim): A's assets t satisfy t = min(t, 4.5) +
    (4.5/11.5) max(0, t - 4.5), so every t in [0, 4.5] is a clearing state and 4.5 the greatest: A and C pay 4.5
    round the loop, B nothing, and all three are short (A and B in wave 0: everyone paying, A receives 25 of
    28 and B 14 of 20; C, 20 of 18, in wave 1). The regimes solved at A's t = 4.5 came out an ulp below
    4.5, read as "A pays its secured claim partially", and never settled (ConvergenceError after 1999
    iterations)."""
    net = _net({"debtor": ["A", "A", "B", "B", "C", "C"], "creditor": ["B", "C", "A", "C", "A", "B"],
                "amount": [12.0, 9.0, 9.0, 11.0, 16.0, 2.0], "seniority": [2, 1, 3, 1, 2, 2],
                "collateral_value": [None, 4.5, 9.0, None, 16.0, None]},
               {"id": ["A", "B", "C"], "external_assets": [0.0, 0.0, 0.0], "external_liabilities": [7.0, 0.0, 0.0],
                "external_seniority": [1, 2, 2]})
    for solver in ("reference", "compiled"):
        res = contagion.clear(net, solver=solver)
        assert res.payments == pytest.approx([4.5, 0.0, 4.5], rel=1e-14, abs=1e-14)
        assert res.row_payments == pytest.approx([0.0, 4.5, 0.0, 0.0, 4.5, 0.0], rel=1e-14, abs=1e-14)
        assert res.default_round.tolist() == [0, 0, 1]


def test_round_zero_adds_a_secured_row_at_its_own_amount():
    """B holds 1.1 and owes D 3.0 (senior) and A 1.1; D owes B 3.0, of it 0.1 secured and the rest behind D's
    0.1 outside. Everyone paying, B holds exactly what it owes (1.1 + 3.0 against 3.0 + 1.1: a tie, solvent)
    and D is short (3.0 against 3.1: wave 0). D then pays B 0.1 + 2.8, so B has 4.0 for 4.1 (wave 1): B pays D
    3.0 and A 1.0. Round 0 summed D's row as its parts, 0.1 + 2.9 (3.0 - 0.1 in floats), which fall 8e-17 short
    of 3.0, and put B in wave 0."""
    net = _net({"debtor": ["B", "B", "D"], "creditor": ["D", "A", "B"], "amount": [3.0, 1.1, 3.0],
                "seniority": [1, 2, 2], "collateral_value": [None, None, 0.1]},
               {"id": ["A", "B", "D"], "external_assets": [0.0, 1.1, 0.0], "external_liabilities": [0.0, 0.0, 0.1],
                "external_seniority": [1, 1, 1]})
    for solver in ("reference", "compiled"):
        res = contagion.clear(net, solver=solver)
        assert res.payments == pytest.approx([0.0, 4.0, 3.0], rel=1e-15)
        assert res.default_round.tolist() == [-1, 1, 0]


def test_a_secured_ring_without_outside_money_carries_its_secured_part():
    """Nobody holds anything. A owes C 2.55 (0.85 secured, the rest beside A's 10 outside); C owes B 5, B owes D 2
    and D owes A 7, each secured in full; B and D owe 3 and 5 outside. Whatever goes round the ring, t, comes back
    to A whole (each next debtor pays its secured claim first), and A sends on min(t, 0.85) + (1.7/11.7) (t - 0.85)
    for t > 0.85: every t in [0, 0.85] is a clearing state and 0.85 the greatest. Everyone paying, A (7 for
    12.55), C (2.55 for 5) and D (2 for 12) are short, B (5 for 5) a tie: wave 0 and B wave 1. The solver
    returned the least state (nothing paid anywhere); with 0.7 secured of 1.4 it raised ConvergenceError."""
    for secured, amount in ((0.85, 2.55), (0.7, 1.4)):
        net = _net({"debtor": ["A", "C", "B", "D"], "creditor": ["C", "B", "D", "A"],
                    "amount": [amount, 5.0, 2.0, 7.0], "seniority": [2, 1, 1, 1],
                    "collateral_value": [secured, 5.0, 2.0, 7.0]},
                   {"id": ["A", "B", "C", "D"], "external_assets": [0.0, 0.0, 0.0, 0.0],
                    "external_liabilities": [10.0, 3.0, 0.0, 5.0], "external_seniority": [2, 2, 3, 3]})
        for solver in ("reference", "compiled"):
            res = contagion.clear(net, solver=solver)
            assert res.payments == pytest.approx([secured] * 4, rel=1e-14)
            assert res.default_round.tolist() == [0, 1, 0, 0]
