"""Sensitivities (issue 19, item 2): :func:`contagion.sensitivity`, ``rank_assumptions`` and ``contagion sensitivity``.

Hand derivations in the docstrings; finite differences of the exact clearing as
the reference (one-sided, at and away from kinks); the CLI.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import contagion
from contagion.cli import cli
from contagion.sensitivity import SensitivityWarning, assumption_effects, rank_assumptions, sensitivity
from contagion.shocks import Scenario, Shock


def _three():
    return contagion.FinancialNetwork.from_matrix([[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10],
                                                  names=["A", "B", "C"])


def test_three_banks_outside_assets_by_hand():
    """L = [[0, 20, 10], [5, 0, 24], [10, 0, 0]], e = 10 each; A and B default, C pays 10 (the clearing doctest).

    On D = {A, B}: p_A = 10 + 10 + (5/29) p_B (C's 10 in full), p_B = 10 + (20/30) p_A. With respect to e_A:
    dp_A = 1 + (5/29) dp_B, dp_B = (2/3) dp_A, so dp_A (1 - 10/87) = 1: dp_A = 87/77, dp_B = 58/77, dp_C = 0.
    Equity e + Pi.T p - pbar: dE_A = 1 + (5/29)(58/77) = 87/77, dE_B = (2/3)(87/77) = 58/77,
    dE_C = (10/30)(87/77) + (24/29)(58/77) = 29/77 + 48/77 = 1.
    System loss = shock + shortfall, the shock counted from the same network (no scenario): raising e_A lowers the
    shortfall by 145/77 and the shock stays 0 (right: -145/77); lowering it adds 1 of shock (left: -1 - 145/77).
    """
    s = sensitivity(_three(), "external_assets:A", scenarios=())
    np.testing.assert_allclose(s.payment_right, [87 / 77, 58 / 77, 0], rtol=1e-12)
    np.testing.assert_allclose(s.payment_left, [87 / 77, 58 / 77, 0], rtol=1e-12)
    np.testing.assert_allclose(s.equity, [87 / 77, 58 / 77, 1], rtol=1e-12)
    assert s.system_loss_right == pytest.approx(-145 / 77, rel=1e-12)
    assert s.system_loss_left == pytest.approx(-1 - 145 / 77, rel=1e-12)
    assert not s.kink.any()


def test_three_banks_one_obligation_by_hand():
    """Same network, with respect to L[A, B] = 20. pbar_A = 30, A pays p_A = 1890/77, r_A = p_A / 30 = 9/11.
    At fixed payments what B receives from A moves by r_A (1 - 20/30) = 3/11 and what C receives by
    -r_A (10/30) = -3/11 (A's payment is shared over a larger total). On D = {A, B}:
    dp_A = (5/29) dp_B, dp_B = 3/11 + (2/3) dp_A, so dp_A (1 - 10/87) = 15/319: dp_A = 45/847, dp_B = 261/847.
    """
    s = sensitivity(_three(), "edge:A>B", scenarios=())
    np.testing.assert_allclose(s.payment, [45 / 847, 261 / 847, 0], rtol=1e-12)
    assert s.wrt == "edge:A>B"


def _chain_at_tie(e_a: float = 10.0):
    """A owes B 10 and has exactly 10 (a tie: solvent); B owes 8 outside and has nothing else."""
    L = np.array([[0, 10.0], [0, 0]])
    return contagion.FinancialNetwork.from_matrix(L, external_assets=[e_a, 0], external_liabilities=[0, 8],
                                                  names=["A", "B"])


def test_kink_left_and_right_derivatives_by_hand():
    """At e_A = 10 A pays its 10 exactly. Right: more cash does not change what A pays (dp_A = 0) and B's equity
    does not move; A's equity rises 1 for 1. Left: A defaults and pays e_A, so dp_A = 1 and B's equity falls 1 for
    1 (B still pays its 8). A's unclipped equity e_A - 10 moves 1 for 1 on both sides."""
    s = sensitivity(_chain_at_tie(), "external_assets:A", scenarios=())
    assert s.payment_right.tolist() == [0.0, 0.0] and s.payment_left.tolist() == [1.0, 0.0]
    assert s.equity_right.tolist() == [1.0, 0.0] and s.equity_left.tolist() == [1.0, 1.0]
    assert s.kink.tolist() == [True, True]
    # and the finite differences agree on each side
    h = 1e-7
    up = contagion.clear(_chain_at_tie(10 + h))
    down = contagion.clear(_chain_at_tie(10 - h))
    mid = contagion.clear(_chain_at_tie())
    np.testing.assert_allclose((up.payments - mid.payments) / h, s.payment_right, atol=1e-6)
    np.testing.assert_allclose((mid.payments - down.payments) / h, s.payment_left, atol=1e-6)


def _random(seed: int):
    rng = np.random.default_rng(seed)
    n = 10
    L = np.where(rng.random((n, n)) < 0.3, rng.uniform(1, 20, (n, n)), 0.0)
    np.fill_diagonal(L, 0.0)
    e = rng.uniform(0, 15, n)
    ext = rng.uniform(0, 10, n)
    return L, e, ext


def _net(L, e, ext):
    return contagion.FinancialNetwork.from_matrix(L, external_assets=e, external_liabilities=ext,
                                                  names=[f"n{i}" for i in range(len(e))])


def _finite(L, e, ext, what, h):
    """(payments, equity, system loss) at the step h along ``what`` = ("e", i) | ("ext", i) | ("L", i, j)."""
    L2, e2, ext2 = L.copy(), e.copy(), ext.copy()
    if what[0] == "e":
        e2[what[1]] += h
    elif what[0] == "ext":
        ext2[what[1]] += h
    else:
        L2[what[1], what[2]] += h
    res = contagion.clear(_net(L2, e2, ext2), solver="reference")
    shock = float(np.sum(np.maximum(e - e2, 0.0)))
    return res.payments, res.equity, shock + res.total_shortfall


@pytest.mark.parametrize("seed", range(15))
def test_against_finite_differences(seed):
    """Every kind of input on random networks: the one-sided derivatives equal one-sided difference quotients of
    the exact clearing (h = 1e-6; generic networks have no institution at its threshold, so left = right)."""
    L, e, ext = _random(seed)
    net = _net(L, e, ext)
    i, j = map(int, np.argwhere(L > 0)[seed % int((L > 0).sum())])
    k = seed % len(e)
    h = 1e-6
    for wrt, what in ((f"external_assets:n{k}", ("e", k)), (f"external_liabilities:n{k}", ("ext", k)),
                      (f"edge:n{i}>n{j}", ("L", i, j))):
        s = sensitivity(net, wrt, scenarios=())
        p0, q0, l0 = _finite(L, e, ext, what, 0.0)
        p1, q1, l1 = _finite(L, e, ext, what, h)
        pm, qm, lm = _finite(L, e, ext, what, -h)
        np.testing.assert_allclose(s.payment_right, (p1 - p0) / h, atol=2e-6 * 20, err_msg=wrt)
        np.testing.assert_allclose(s.payment_left, (p0 - pm) / h, atol=2e-6 * 20, err_msg=wrt)
        np.testing.assert_allclose(s.equity_right, (q1 - q0) / h, atol=2e-6 * 20, err_msg=wrt)
        np.testing.assert_allclose(s.equity_left, (q0 - qm) / h, atol=2e-6 * 20, err_msg=wrt)
        assert s.system_loss_right == pytest.approx((l1 - l0) / h, abs=1e-4)
        assert s.system_loss_left == pytest.approx((l0 - lm) / h, abs=1e-4)


def test_a_kink_is_judged_on_the_institutions_own_amounts():
    """A holds 10 + 1e-5 and owes B 10; B owes 10 outside; beside them an institution owes 1e6. For steps below 1e-5
    nobody's default changes: d payment / d e_A = 0 everywhere, d equity_A = 1, and the system loss (shock +
    shortfall) falls by 1 a unit on the left (the shock grows) and is flat on the right. The kink test compared A's
    slack with 1e-10 of the largest obligation (1e-4) and gave A's and B's payments a left derivative of 1."""
    L = np.zeros((3, 3))
    L[2, 1] = 10.0
    net = contagion.FinancialNetwork.from_matrix(L, external_assets=[2e6, 0.0, 10.0 + 1e-5],
                                                 external_liabilities=[1e6, 10.0, 0.0], names=["Big", "B", "A"])
    s = sensitivity(net, "external_assets:A", scenarios=())
    frame = s.to_frame()
    assert frame["payment_left"].tolist() == [0.0, 0.0, 0.0] and frame["payment_right"].tolist() == [0.0, 0.0, 0.0]
    assert frame["equity_left"].tolist() == [0.0, 0.0, 1.0] and not frame["kink"].any()
    assert (s.system_loss_left, s.system_loss_right) == (-1.0, 0.0)


def test_forced_default_cap_moves_with_recovery():
    """The chain dataset's a-fails scenario forces A to default; A then pays at most recovery * pbar. Outside
    assets of A do not reach B while A is capped (the doctest: equity of A moves 1 for 1, nothing else), and the
    finite differences agree."""
    net = contagion.load_dataset("chain")
    s = sensitivity(net, "external_assets:A", scenarios=["a-fails"])
    st = contagion.stress(net, ["a-fails"])
    h = 1e-6
    bumped = st.network.replace(external_assets=st.network.external_assets + np.array([h, 0, 0]))
    np.testing.assert_allclose((contagion.clear(bumped).payments - st.clearing.payments) / h, s.payment, atol=1e-6)


def test_ring_left_derivative_does_not_exist():
    """ring: A has no outside assets, so they cannot fall: the left derivative is NaN, with a warning. Right: A's
    extra cash stays with A (A is solvent), nothing else moves."""
    with pytest.warns(SensitivityWarning, match="left derivative does not exist"):
        s = sensitivity(contagion.load_dataset("ring"), "external_assets:A", scenarios=())
    assert np.isnan(s.payment_left).all()
    assert s.payment_right.tolist() == [0.0] * 5 and s.equity_right.tolist() == [1.0, 0, 0, 0, 0]


def test_errors_name_what_is_wrong():
    net = _three()
    with pytest.raises(contagion.ContagionError, match="no institution named 'Z'"):
        sensitivity(net, "external_assets:Z", scenarios=())
    ai = contagion.load_dataset("ai-infrastructure")      # a typo: the closest name, for both kinds of input
    with pytest.raises(contagion.ContagionError, match=r"'external_assets:Oracel': no institution named 'Oracel' "
                                                       r"\(did you mean 'Oracle'\?\)"):
        sensitivity(ai, "external_assets:Oracel", scenarios=())
    with pytest.raises(contagion.ContagionError, match=r"no institution named 'Oracel' \(did you mean 'Oracle'"):
        sensitivity(ai, "edge:OpenAI>Oracel", scenarios=())
    with pytest.raises(contagion.ContagionError, match=r"unknown assumption 'openai_revenu' \(did you mean "
                                                       r"'openai_revenue'\?\); assumption_effects.csv lists"):
        sensitivity(ai, "assumption:openai_revenu", scenarios=())
    with pytest.raises(contagion.ContagionError, match="owes nothing to"):
        sensitivity(net, "edge:C>B", scenarios=())
    with pytest.raises(contagion.ContagionError, match="wrt must be one of"):
        sensitivity(net, "cash:A", scenarios=())
    with pytest.raises(contagion.ContagionError, match="assumption_effects.csv"):
        sensitivity(net, "assumption:dscr", scenarios=())


# ---------------------------------------------------------------------- assumptions
def _assumption_dataset(tmp_path):
    """A owes B a lease of 12 / term (term = 4: 3 a year; low 3 -> 4, high 6 -> 2); A's outside assets are
    revenue r = 2 (low 1, high 3). B owes 5 outside and has 1.

    d lease / d term = -12 / 16 = -0.75 at the central term; d e_A / d r = 1.
    """
    d = tmp_path / "toy"
    d.mkdir()
    pd.DataFrame({"id": ["A", "B"], "external_assets": [2.0, 1.0], "external_liabilities": [0.0, 5.0]}).to_csv(
        d / "nodes.csv", index=False)
    pd.DataFrame({"debtor": ["A"], "creditor": ["B"], "amount": [3.0], "edge_id": ["lease1"]}).to_csv(
        d / "edges.csv", index=False)
    pd.DataFrame({"assumption": ["term", "revenue"], "kind": ["edge", "external_assets"], "target": ["lease1", "A"],
                  "central": [3.0, 2.0], "low": [4.0, 1.0], "high": [2.0, 3.0], "derivative": [-0.75, 1.0]}).to_csv(
        d / "assumption_effects.csv", index=False)
    return d


def test_assumption_derivative_and_ranking_by_hand(tmp_path):
    """A has 2 and owes 3: it defaults and pays 2; B gets 2 + 1 = 3 < 5 and defaults too.
    term: the lease grows by -0.75 per year of term, but A still pays its 2: payments do not move; A's equity
    (2 - 12/term) rises by 0.75, B's equity (1 + p_A - 5) does not move.
    revenue: A pays 1 more, so B (in default) receives and pays 1 more; both equities +1.
    Ranking by B's equity: revenue low (r = 1): p_A = 1, E_B = 1 + 1 - 5 = -3 (change -1); high (r = 3): p_A = 3
    (A pays in full), E_B = -1 (+1). term low (lease 4): p_A = 2, E_B = -2 (0); high (lease 2): A pays 2 in full,
    E_B = -2 (0). So revenue ranks first with a swing of 1, term second with 0.
    """
    d = _assumption_dataset(tmp_path)
    net = contagion.read_network(d)
    s = sensitivity(net, "assumption:term", scenarios=())
    np.testing.assert_allclose(s.payment, [0, 0], atol=1e-15)
    np.testing.assert_allclose(s.equity, [0.75, 0], atol=1e-15)
    s2 = sensitivity(net, "assumption:revenue", scenarios=())
    np.testing.assert_allclose(s2.payment, [1, 1], atol=1e-15)
    np.testing.assert_allclose(s2.equity, [1, 1], atol=1e-15)
    rank = rank_assumptions(net, "B", scenarios=())
    assert rank.index.tolist() == ["revenue", "term"]
    assert rank.loc["revenue", ["change_low", "change_high", "swing"]].tolist() == [-1.0, 1.0, 1.0]
    assert rank.loc["term", ["change_low", "change_high"]].tolist() == [0.0, 0.0]
    assert rank.loc["revenue", "derivative"] == 1.0
    assert len(assumption_effects(net)) == 2
    with pytest.raises(contagion.ContagionError, match="unknown assumption 'x'"):
        sensitivity(net, "assumption:x", scenarios=())


def test_assumption_derivative_goes_through_a_scenario_that_scales_the_amounts(tmp_path):
    """The table's derivatives move the amounts before the scenarios. Scenario 'half' halves the lease and A's
    outside assets: after it A has 1 and owes 1.5 (pays 1); B gets 1 + 1 = 2 < 5.
    term (lease 3 - 0.75 per year before the scenario, 1.5 - 0.375 after): A's equity 1 - lease/2 rises 0.375,
    and what it leaves unpaid (the system loss) falls 0.375.
    revenue (A's 2 + 1 per unit before, 1 + 0.5 after): A pays 0.5 more, B receives and pays 0.5 more; the shock
    (2 - 1 of A's assets lost) rises 0.5 and the shortfall falls 0.5 + 0.5 (A's and B's): system loss -0.5.
    rank_assumptions moves the amounts before the scenario too: its changes are the slope times the step."""
    d = _assumption_dataset(tmp_path)
    net = contagion.read_network(d)
    half = Scenario("half", "", (Shock("edges", debtor="A", creditor="B", factor=0.5),
                                 Shock("external_assets", target="A", relative=0.5)))
    s = sensitivity(net, "assumption:term", scenarios=[half])
    assert s.payment.tolist() == [0.0, 0.0] and s.equity.tolist() == [0.375, 0.0]
    assert (s.system_loss_left, s.system_loss_right) == (-0.375, -0.375)
    r = sensitivity(net, "assumption:revenue", scenarios=[half])
    assert r.payment.tolist() == [0.5, 0.5] and r.equity.tolist() == [0.5, 0.5]
    assert (r.system_loss_left, r.system_loss_right) == (-0.5, -0.5)
    rank = rank_assumptions(net, "A", scenarios=[half])
    # revenue 1 and 3 before the scenario: A has 0.5 and 1.5 after (equity -1 -> -1.0 +- 0.5), the slope 0.5
    assert rank.loc["revenue", ["change_low", "change_high", "derivative"]].tolist() == [-0.5, 0.5, 0.5]
    # term 4 and 2: the lease is 2 and 1 after (A's equity 1 - 2 = -1 or 1 - 1 = 0 against -0.5): slope 0.375
    assert rank.loc["term", ["change_low", "change_high", "derivative"]].tolist() == [-0.5, 0.5, 0.375]


def test_effects_file_errors_are_located(tmp_path):
    d = _assumption_dataset(tmp_path)
    frame = pd.read_csv(d / "assumption_effects.csv", dtype=str)
    frame.loc[1, "kind"] = "cash"
    frame.loc[0, "low"] = "soon"
    frame.to_csv(d / "assumption_effects.csv", index=False)
    with pytest.raises(contagion.InvalidNetworkError) as info:
        assumption_effects(d / "assumption_effects.csv")
    text = "\n".join(map(str, info.value.problems))
    assert "row 3, column 'kind'" in text and "row 2, column 'low'" in text


def test_effects_file_is_read_like_a_network_file(tmp_path):
    """``--effects FILE``: the file and row (as in the file) of every problem, exit 1 -- an empty file, a ragged
    row, a file that is not UTF-8, an empty row, a row given twice (its moves would add up), a negative amount,
    an unknown target, a table made for another version of the network; --wrt and --rank-assumptions together
    are a usage error."""
    d = _assumption_dataset(tmp_path)
    head = "assumption,kind,target,central,low,high,derivative\n"
    good = "term,edge,lease1,3,4,2,-0.75\nrevenue,external_assets,A,2,1,3,1\n"
    cases = {
        "empty": ("", "file is empty"),
        "ragged": (head + "term,edge,lease1,3,4,2,-0.75,9\n", "row 2"),
        "twice": (head + good + "revenue,external_assets,A,2,1,3,1\n",
                  "row 4, column 'target': assumption 'revenue' moves external_assets 'A' a second time (first on "
                  "row 3)"),
        "negative": (head + "revenue,external_assets,A,2,-4,3,1\n",
                     "row 2, column 'low': must be an amount, a finite number >= 0, got -4"),
        "blank_row": (head + "term,edge,lease1,3,4,2,-0.75\n\nrevenue,external_assets,Q,2,1,3,1\n",
                      "row 3: empty row"),
        "unknown": (head + good + "cash,external_assets,Q,2,1,3,1\n",
                    "row 4, column 'target': no institution named 'Q'"),
        "other_version": (head + "term,edge,lease1,30,4,2,-0.75\n",
                          "row 2, column 'central': the table was made for another version of this network"),
    }
    runner = CliRunner()
    for name, (text, expected) in cases.items():
        f = tmp_path / f"{name}.csv"
        f.write_text(text)
        out = runner.invoke(cli, ["sensitivity", str(d), "--baseline", "--rank-assumptions", "B", "--effects", str(f)])
        assert out.exit_code == 1, (name, out.output)
        assert f"{f}" in out.output and expected in out.output, (name, out.output)
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes((head + good).encode("utf-16"))
    out = runner.invoke(cli, ["sensitivity", str(d), "--baseline", "--rank-assumptions", "B", "--effects", str(utf16)])
    assert out.exit_code == 1 and f"{utf16}" in out.output and "UTF-8" in out.output
    both = runner.invoke(cli, ["sensitivity", str(d), "--wrt", "assumption:term", "--rank-assumptions", "B"])
    assert both.exit_code == 2 and "not both" in both.output


def test_an_effect_on_an_edge_id_given_twice_is_an_error(tmp_path):
    """Two rows of the edge table share the edge_id the effects table names: which one moves is not known (it
    moved the last one)."""
    d = _assumption_dataset(tmp_path)
    pd.DataFrame({"debtor": ["A", "B"], "creditor": ["B", "A"], "amount": [3.0, 1.0],
                  "edge_id": ["lease1", "lease1"]}).to_csv(d / "edges.csv", index=False)
    with pytest.raises(contagion.InvalidNetworkError) as info:
        sensitivity(contagion.read_network(d), "assumption:term", scenarios=())
    assert str(info.value.problems[0]) == (
        f"{d / 'assumption_effects.csv'}, row 2, column 'target': edge_id 'lease1' is on several rows of this "
        "network's edge table: which one it moves is not known (value: 'lease1')")


# ---------------------------------------------------------------------- CLI
def test_cli_json_csv_and_table(tmp_path):
    runner = CliRunner()
    net = _three()
    d = tmp_path / "three"
    contagion.write_network(net, d)
    out = runner.invoke(cli, ["sensitivity", str(d), "--wrt", "external_assets:A", "-f", "json"])
    assert out.exit_code == 0, out.output
    records = json.loads(out.stdout)
    assert [r["name"] for r in records] == ["A", "B", "C", "(system loss)"]
    assert records[0]["payment"] == pytest.approx(87 / 77, rel=1e-12)
    assert records[2]["equity"] == pytest.approx(1.0, rel=1e-12)
    assert records[-1]["system_loss"] == pytest.approx(-145 / 77, rel=1e-12)
    csv = runner.invoke(cli, ["sensitivity", str(d), "--wrt", "external_assets:A", "-f", "csv"]).stdout.splitlines()
    assert csv[0].startswith("name,type,payment,equity,payment_left,payment_right,equity_left,equity_right,kink")
    assert len(csv) == 5
    table = runner.invoke(cli, ["sensitivity", str(d), "--wrt", "edge:A>B"]).stdout
    assert "d / d edge:A>B" in table and "0.0531" in table     # 45/847
    bad = runner.invoke(cli, ["sensitivity", str(d), "--wrt", "external_assets:Q"])
    assert bad.exit_code == 1 and "no institution named 'Q'" in bad.output
    usage = runner.invoke(cli, ["sensitivity", str(d)])
    assert usage.exit_code == 2 and "--wrt" in usage.output


def test_cli_kink_shows_left_columns(tmp_path):
    d = tmp_path / "tie"
    contagion.write_network(_chain_at_tie(), d)
    out = CliRunner().invoke(cli, ["sensitivity", str(d), "--wrt", "external_assets:A"])
    assert out.exit_code == 0
    assert "(left)" in out.stdout and "at a kink" in out.stderr


def test_cli_rank_assumptions(tmp_path):
    d = _assumption_dataset(tmp_path)
    out = CliRunner().invoke(cli, ["sensitivity", str(d), "--rank-assumptions", "B", "-f", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["assumption"] for r in rows] == ["revenue", "term"]
    assert rows[0]["change_high"] == 1.0 and rows[0]["defaulted_high"] is True


def test_cli_rank_assumptions_names_the_assumptions_it_cannot_rank(tmp_path):
    """An assumption of the dataset's assumptions.csv without rows in assumption_effects.csv moves no one-year
    amount: the table's note says so and names it (not a silent omission); JSON and CSV keep the ranked rows
    only. Without assumptions.csv there is nothing to name."""
    from contagion.sensitivity import assumptions_table, unranked_assumptions

    d = _assumption_dataset(tmp_path)
    net = contagion.read_network(d)
    assert assumptions_table(net) is None
    assert unranked_assumptions(rank_assumptions(net, "B", scenarios=()), None) == []
    table = CliRunner().invoke(cli, ["sensitivity", str(d), "--rank-assumptions", "B"]).stdout
    assert "not ranked" not in table
    pd.DataFrame({"id": ["path_only", "term", "revenue", "scenario_value"], "quantity": ["a", "b", "c", "d"],
                  "value": [1, 4, 2, 5], "low": [0, 3, 1, 4], "high": [2, 6, 3, 6]}).to_csv(
        d / "assumptions.csv", index=False)
    net = contagion.read_network(d)
    listed = assumptions_table(net)
    assert list(listed.index) == ["path_only", "term", "revenue", "scenario_value"]
    assert listed.loc["term", "value"] == 4
    assert unranked_assumptions(rank_assumptions(net, "B", scenarios=()), listed) == ["path_only", "scenario_value"]
    out = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["sensitivity", str(d), "--rank-assumptions", "B"])
    assert out.exit_code == 0, out.output
    assert ("2 more move no amount of the one-year network and are not ranked (they act on the multi-year path or "
            "inside a scenario): path_only, scenario_value") in " ".join(out.stdout.split())
    rows = json.loads(CliRunner().invoke(cli, ["sensitivity", str(d), "--rank-assumptions", "B", "-f", "json"]).stdout)
    assert [r["assumption"] for r in rows] == ["revenue", "term"]
    (d / "assumptions.csv").write_bytes(b"id,value\n\xff\xfe,1\n")
    bad = CliRunner().invoke(cli, ["sensitivity", str(d), "--rank-assumptions", "B"])
    assert bad.exit_code == 1 and str(d / "assumptions.csv") in bad.output
    assert "not a readable CSV table of assumptions" in bad.output


def test_library_name_is_callable_and_a_module():
    import contagion.sensitivity as mod

    assert callable(contagion.sensitivity) and contagion.sensitivity.rank_assumptions is mod.rank_assumptions
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = contagion.sensitivity(_three(), wrt="external_assets:B", scenarios=())
    assert s.wrt == "external_assets:B"


def test_priority_network_by_difference_quotients():
    """A has 15 and owes B 10 (senior, seniority 1) and C 10 (junior, 2): it pays B 10 and C 5. One more unit of
    A's cash goes to C: dp_A = 1, dE_B = 0, dE_C = 1, dE_A = 1 (unclipped equity 15 - 20). The priority clearing is
    differentiated by one-sided difference quotients (exact = False), which are exact here up to round-off."""
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [10.0, 10.0], "seniority": [1, 2]}),
        pd.DataFrame({"id": ["A", "B", "C"], "external_assets": [15.0, 0, 0]}))
    s = sensitivity(net, "external_assets:A", scenarios=())
    assert s.exact is False
    np.testing.assert_allclose(s.payment, [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(s.equity, [1, 0, 1], atol=1e-6)
    np.testing.assert_allclose(s.equity_left, [1, 0, 1], atol=1e-6)
    # the senior claim: one more unit owed to B is paid out of C's share
    s2 = sensitivity(net, "edge:A>B", scenarios=())
    np.testing.assert_allclose(s2.equity, [-1, 1, -1], atol=1e-6)


def test_a_guarantee_moves_the_system_loss_as_the_covered_debt_does():
    """S (4) owes B 10, guaranteed up to 10 by G. The system loss is S's unpaid 10 - e_S whoever pays the call
    (loss_summary counts an unpaid call once): one more unit of S's cash takes 1 off it, with G poor (2: it pays
    its 2 either way) and with G rich (20: its call falls by 1 too, which the payments alone do not show)."""
    from contagion.measures import loss_summary

    for g_assets in (2.0, 20.0):
        net = contagion.FinancialNetwork.from_edges(
            pd.DataFrame({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"],
                          "amount": [10.0, 10.0], "kind": ["loan", "guarantee"], "covers": [None, "e1"]}),
            pd.DataFrame({"id": ["S", "G", "B"], "external_assets": [4.0, g_assets, 0.0]}))
        s = sensitivity(net, "external_assets:S", scenarios=())
        assert s.system_loss_right == pytest.approx(-1.0, abs=1e-6)
        assert s.system_loss_left == pytest.approx(-2.0, abs=1e-6)    # and the shock: 1 more lost, 1 more unpaid
        up = net.replace(external_assets=np.array([5.0, g_assets, 0.0]))
        assert loss_summary(contagion.clear(up), net)["system_loss"] - loss_summary(contagion.clear(net))[
            "system_loss"] == -1.0


FACT_SHEET = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data" / "ai-infra"


def test_built_in_dataset_ships_its_assumption_effects():
    """``ai-infrastructure`` carries assumption_effects.csv (written by its builder), so ``assumption:KEY`` needs no
    ``effects=``: coreweave_cash -- CoreWeave's own cash, 1 for 1 in its outside assets (3.5, range 2.5 to 4.5) --
    moves CoreWeave's equity by exactly 1 per unit (it is solvent under the default scenario)."""
    net = contagion.load_dataset("ai-infrastructure")
    table = assumption_effects(net)
    row = table[table["assumption"] == "coreweave_cash"]
    assert row[["kind", "target", "central", "low", "high", "derivative"]].values.tolist() == \
        [["external_assets", "coreweave", 3.5, 2.5, 4.5, 1.0]]
    assigned = set(pd.read_csv(contagion.datasets.dataset_path("ai-infrastructure") / "assumptions.csv")["id"])
    assert set(table["assumption"]) <= assigned
    s = sensitivity(net, "assumption:coreweave_cash")
    assert s.equity[net.index_of("CoreWeave")] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.slow
def test_rank_assumptions_on_the_built_in_network():
    """``--rank-assumptions CoreWeave`` out of the box ranks, with real values, the 37 assumptions of
    assumptions.csv that move a one-year amount (the other 11 move only the multi-year path, a scenario's shocks
    or an asset_value, which the table does not carry). Reference: each end is the network with that assumption's
    amounts moved to that end (the table's low/high - central, added by hand to the shipped amounts), the default
    scenario applied, cleared; coreweave_cash moves the equity by -1 / +1 (one unit of cash either way, CoreWeave
    solvent at both ends)."""
    net = contagion.load_dataset("ai-infrastructure")
    rank = rank_assumptions(net, "CoreWeave")
    ids = set(pd.read_csv(contagion.datasets.dataset_path("ai-infrastructure") / "assumptions.csv")["id"])
    assert set(rank.index) == set(assumption_effects(net)["assumption"]) and len(rank) == 37 and set(rank.index) <= ids
    assert rank["swing"].is_monotonic_decreasing and rank["swing"].iloc[0] > 1.0
    assert rank.loc["coreweave_cash", ["change_low", "change_high"]].tolist() == pytest.approx([-1.0, 1.0], abs=1e-9)
    table = assumption_effects(net)
    i = net.index_of("CoreWeave")
    central = contagion.stress(net).clearing.equity[i]
    for key in rank.index[:3]:
        for end in ("low", "high"):
            rows = table[table["assumption"] == key]
            e, ext = net.external_assets.copy(), net.external_liabilities.copy()
            amounts = net.edges["amount"].to_numpy(dtype=float).copy()
            for r in rows.itertuples():     # moved by the table's change (the shipped amounts are rounded)
                step = getattr(r, end) - r.central
                if r.kind == "edge":
                    amounts[np.flatnonzero(net.edges["edge_id"].to_numpy() == r.target)[0]] += step
                else:
                    (e if r.kind == "external_assets" else ext)[net.ids.index(r.target)] += step
            moved = net.replace(edge_amounts=amounts, external_assets=e, external_liabilities=ext)
            equity = contagion.stress(moved).clearing.equity[i]
            assert rank.loc[key, f"change_{end}"] == pytest.approx(equity - central, abs=1e-9), (key, end)
    out = CliRunner().invoke(cli, ["sensitivity", "--rank-assumptions", "CoreWeave", "-f", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["assumption"] for r in rows][:3] == list(rank.index[:3])
    from contagion.sensitivity import assumptions_table, unranked_assumptions

    unranked = unranked_assumptions(rank, assumptions_table(net))
    assert unranked == ["abilene_takeout", "gpu_economic_life", "gpu_book_life", "gpu_max_ltv", "gpu_balloon",
                        "undisclosed_debt_term", "meta_bond_maturity", "oracle_lease_start", "openai_revenue_2030",
                        "slowdown_cut", "hyperion_exit_value"]
    assert not set(unranked) & set(table["assumption"]) and len(unranked) + len(rank) == len(ids)
    text = " ".join(CliRunner().invoke(cli, ["sensitivity", "--rank-assumptions", "CoreWeave"]).stdout.split())
    assert "11 more move no amount of the one-year network and are not ranked" in text
    assert "abilene_takeout, gpu_economic_life," in text and text.endswith("hyperion_exit_value")


def test_an_effects_table_given_in_memory_is_checked_like_a_file(tmp_path):
    """A DataFrame passed as ``effects=`` was used as it came: a row given twice doubled the move of 'revenue'
    (d payment 2 where 1) and a negative amount was applied. Rows are named by position (0-based)."""
    d = _assumption_dataset(tmp_path)
    net = contagion.read_network(d)
    frame = pd.read_csv(d / "assumption_effects.csv")
    twice = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    with pytest.raises(contagion.InvalidNetworkError) as info:
        sensitivity(net, "assumption:revenue", scenarios=(), effects=twice)
    assert str(info.value.problems[0]) == ("the assumption effects table, row 2, column 'target': assumption "
                                           "'revenue' moves external_assets 'A' a second time (first on row 1) "
                                           "(value: 'A')")
    negative = frame.assign(low=[4.0, -1.0])
    with pytest.raises(contagion.InvalidNetworkError, match="row 1, column 'low': must be an amount"):
        rank_assumptions(net, "B", scenarios=(), effects=negative)
    ok = sensitivity(net, "assumption:revenue", scenarios=(), effects=frame)
    assert ok.payment.tolist() == [1.0, 1.0]
