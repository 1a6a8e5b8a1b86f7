"""Tests of contagion.channels: DebtRank, differential DebtRank, threshold default cascade.

References:
- Battiston, S., Puliga, M., Kaushik, R., Tasca, P. & Caldarelli, G. (2012). DebtRank: too central to fail?
  Scientific Reports 2, 541 (Methods: impact W_ij = min(1, A_ij / E_i), states S/D/I, distress passed on once,
  R = sum_j h_j(T) v_j - sum_j h_j(1) v_j).
- Bardoscia, M., Battiston, S., Caccioli, F. & Caldarelli, G. (2015). DebtRank: a microscopic foundation for
  shock propagation. PLoS ONE 10(6), e0130406 (h_i(t+1) = min(1, h_i(t) + sum_j Lambda_ij (h_j(t) - h_j(t-1)))).
- Furfine, C. H. (2003), J. Money Credit Banking 35(1), 111-128; Gai, P. & Kapadia, S. (2010), Proc. R. Soc. A 466,
  2401-2423: a creditor fails once (1 - recovery) x its exposure to failed debtors exceeds its capital.
All numeric examples are derived by hand below (and in the docstrings of contagion/channels.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import contagion
from contagion.channels import CONTAGION_CHANNELS, debtrank, differential_debtrank, economic_weights, \
    threshold_cascade
from contagion.errors import ContagionError, ScenarioError


def _net(L, e, ext=None, names=None):
    return contagion.FinancialNetwork.from_matrix(np.asarray(L, dtype=float), external_assets=e,
                                                  external_liabilities=ext, names=names)


def _random_net(seed: int, n: int = 12, density: float = 0.3):
    rng = np.random.default_rng(seed)
    L = rng.uniform(0.5, 10, (n, n)) * (rng.random((n, n)) < density)
    np.fill_diagonal(L, 0)
    e = rng.uniform(0, 15, n)
    ext = rng.uniform(0, 8, n) * (rng.random(n) < 0.6)
    return _net(L, e, ext)


# ---------------------------------------------------------------------- DebtRank (Battiston et al. 2012)
def test_debtrank_chain_by_hand():
    # A owes B 4, B owes C 6; e = (10, 4, 4) -> capital (6, 2, 10); W[A,B] = min(1, 4/2) = 1, W[B,C] = 0.6.
    net = _net([[0, 4, 0], [0, 0, 6], [0, 0, 0]], [10, 4, 4], names=["A", "B", "C"])
    res = debtrank(net, {"A": 1.0}, weights="equal")
    assert res.distress.tolist() == [1.0, 1.0, 0.6]
    assert res.distress_round.tolist() == [0, 1, 2]
    assert res.default_round.tolist() == [0, 1, -1]
    assert res.defaulted.tolist() == [True, True, False]
    assert res.value == pytest.approx(1.6 / 3, abs=1e-15)
    assert res.iterations == 3
    # asset weights v = (10, 8, 10) / 28: R = (8 * 1 + 10 * 0.6) / 28 = 0.5
    assert debtrank(net, "A").value == pytest.approx(0.5, abs=1e-15)
    # equity loss in money: h * capital
    assert res.equity_loss.tolist() == pytest.approx([6.0, 2.0, 6.0])


def test_debtrank_partial_shock_by_hand():
    # same chain, h_A = 0.25: h_B = min(1, 1 * 0.25) = 0.25, h_C = 0.6 * 0.25 = 0.15
    net = _net([[0, 4, 0], [0, 0, 6], [0, 0, 0]], [10, 4, 4], names=["A", "B", "C"])
    res = debtrank(net, [0.25, 0, 0], weights="equal")
    assert res.distress.tolist() == pytest.approx([0.25, 0.25, 0.15], abs=1e-15)
    assert res.value == pytest.approx(0.4 / 3, abs=1e-15)
    assert not res.defaulted.any()


def test_debtrank_cycle_passes_distress_once():
    # A and B owe each other 5, capital 10 each (e = 10). h_A = 1:
    # t=1: h_B = 0.5 (W = 5/10); A inactive. t=2: h_A = min(1, 1 + 0.5 * 0.5) = 1; B inactive. stop.
    net = _net([[0, 5], [5, 0]], [10, 10], names=["A", "B"])
    res = debtrank(net, "A", weights="equal")
    assert res.distress.tolist() == [1.0, 0.5]
    assert res.iterations == 2
    # differential: increments keep flowing: h_B(1) = 0.5; A is saturated at 1, so nothing flows back to B
    diff = differential_debtrank(net, "A", weights="equal")
    assert diff.distress.tolist() == [1.0, 0.5]


def test_differential_debtrank_by_hand():
    # A owes B 2 and C 2, C owes B 2, B owes D 4; e = (10, 4, 3, 4) -> capital (6, 4, 3, 8).
    # Lambda[B,A] = 1/2, Lambda[C,A] = 2/3, Lambda[B,C] = 1/2, Lambda[D,B] = 1/2; h_A = 0.6.
    # t=1: h_B = 0.3, h_C = 0.4; t=2: h_B = 0.3 + 0.5*0.4 = 0.5, h_D = 0.5*0.3 = 0.15;
    # t=3: h_D = 0.15 + 0.5*(0.5 - 0.3) = 0.25. Original DebtRank: B is inactive when C's distress arrives -> 0.15.
    L = [[0, 2, 2, 0], [0, 0, 0, 4], [0, 2, 0, 0], [0, 0, 0, 0]]
    net = _net(L, [10, 4, 3, 4], names=["A", "B", "C", "D"])
    d = differential_debtrank(net, {"A": 0.6}, weights="equal")
    o = debtrank(net, {"A": 0.6}, weights="equal")
    assert d.distress.tolist() == pytest.approx([0.6, 0.5, 0.4, 0.25], abs=1e-15)
    assert o.distress.tolist() == pytest.approx([0.6, 0.5, 0.4, 0.15], abs=1e-15)
    assert d.distress_round.tolist() == [0, 1, 1, 2]
    assert d.value == pytest.approx((0.5 + 0.4 + 0.25) / 4, abs=1e-15)
    assert o.value == pytest.approx((0.5 + 0.4 + 0.15) / 4, abs=1e-15)
    assert d.method == "differential-debtrank" and o.method == "debtrank"


def test_differential_debtrank_geometric_cycle():
    # A and B owe each other 1, capital 4 each: Lambda = 1/4 both ways. h_A(0) = 0.4.
    # Increments alternate: B gets 0.1, A gets 0.025, B 0.00625, ... total h_B = 0.1 / (1 - 1/16) = 0.10667,
    # h_A = 0.4 + 0.025 / (1 - 1/16) = 0.42667 (limits of the geometric series).
    net = _net([[0, 1], [1, 0]], [4, 4], names=["A", "B"])
    res = differential_debtrank(net, {"A": 0.4}, tol=1e-15)
    assert res.distress.tolist() == pytest.approx([0.4 + 0.025 / (15 / 16), 0.1 / (15 / 16)], abs=1e-13)
    with pytest.raises(contagion.ConvergenceError):
        differential_debtrank(net, {"A": 0.4}, tol=1e-15, max_iter=3)


def test_creditor_without_capital_is_wiped_out_by_any_distress():
    # B owes more than it has: capital 1 + 1 - 5 = -3 <= 0; any distress of A reaches B fully.
    net = _net([[0, 1], [0, 0]], [5, 1], ext=[0, 5], names=["A", "B"])
    assert net.equity_before[1] < 0
    for f in (debtrank, differential_debtrank):
        res = f(net, {"A": 0.01})
        assert res.distress.tolist() == [0.01, 1.0]


def test_debtrank_inputs_checked():
    net = contagion.load_dataset("chain")
    with pytest.raises(ScenarioError, match="no institution named 'Z'"):
        debtrank(net, "Z")
    with pytest.raises(ScenarioError, match=r"\[0, 1\]"):
        debtrank(net, [1.5, 0, 0])
    with pytest.raises(ScenarioError, match="shape"):
        debtrank(net, [1.0, 0])
    with pytest.raises(ContagionError, match="unknown weights"):
        debtrank(net, "A", weights="size")
    with pytest.raises(ContagionError, match="sum to zero"):
        debtrank(net, "A", weights=[0, 0, 0])
    assert economic_weights(net, [1, 1, 2]).tolist() == [0.25, 0.25, 0.5]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), shocked=st.integers(0, 11), level=st.floats(0.05, 1.0))
def test_differential_dominates_original(seed, shocked, level):
    """Passing every increment, with uncapped leverage, never gives less distress than passing it once."""
    net = _random_net(seed)
    h0 = np.zeros(net.n)
    h0[shocked] = level
    o = debtrank(net, h0)
    d = differential_debtrank(net, h0, max_iter=1_000_000, tol=1e-13)
    assert np.all((o.distress >= 0) & (o.distress <= 1))
    assert np.all((d.distress >= 0) & (d.distress <= 1))
    assert np.all(o.distress >= h0) and np.all(d.distress >= h0)
    assert np.all(d.distress >= o.distress - 1e-9)
    assert 0 <= o.value <= d.value + 1e-9 <= 1 + 1e-9


# ---------------------------------------------------------------------- threshold cascade (Furfine / Gai-Kapadia)
def test_threshold_chain_by_hand():
    # chain: A owes B 10; B owes C 10 and 5 outside; C owes 8 outside; e = (5, 6, 0.5).
    # capital A -5 (round 0), B 1, C 2.5. recovery 0.5: B loses 5 > 1 (round 1), C loses 5 > 2.5 (round 2).
    net = contagion.load_dataset("chain")
    res = contagion.clear(net, method="threshold", recovery=0.5)
    assert res.payments.tolist() == [5.0, 7.5, 4.0]
    assert res.default_round.tolist() == [0, 1, 2]
    assert res.equity.tolist() == pytest.approx([-5.0, -4.0, -2.5])
    assert res.method == "threshold" and res.params == {"recovery": 0.5}
    assert res.iterations == 3 and res.waves == 2
    # recovery 0.9: B loses exactly its capital (1): a tie, it survives
    assert contagion.clear(net, method="threshold", recovery=0.9).default_round.tolist() == [0, -1, -1]
    # recovery 0 (default): B loses 10
    assert threshold_cascade(net).payments.tolist() == [0.0, 0.0, 0.0]


def test_threshold_core_periphery_gai_kapadia():
    # Glasserman-Young toy: the core (capital 10) loses 94 of outside assets and fails; each periphery bank
    # (capital 5) loses (1 - R) * 10 on it: fails for R < 0.5, survives for R >= 0.5 (tie at 0.5).
    from contagion.shocks import Shock, apply

    hit = apply(contagion.load_dataset("core-periphery"), Shock("external_assets", target="Core", absolute=94))
    assert contagion.clear(hit, method="threshold", recovery=0.4).n_defaults == 5
    assert contagion.clear(hit, method="threshold", recovery=0.5).n_defaults == 1


def test_threshold_forced_default_pays_at_most_its_recovery():
    from contagion.shocks import Shock, apply

    net = apply(contagion.load_dataset("core-periphery"), Shock("default", target="Core", recovery=0.25))
    res = threshold_cascade(net, recovery=0.5)  # min(0.5, 0.25) of 140
    assert res.payments[net.index_of("Core")] == pytest.approx(35.0)
    assert res.default_round[net.index_of("Core")] == 0
    # periphery receives 2.5 of 10: capital 5 - 7.5 < 0
    assert res.n_defaults == 5


def test_threshold_recovery_checked():
    net = contagion.load_dataset("chain")
    for bad in (1.0, -0.1, "x"):
        with pytest.raises(ContagionError, match="recovery"):
            threshold_cascade(net, recovery=bad)


def test_threshold_is_registered():
    assert contagion.CLEARING_METHODS["threshold"] is threshold_cascade
    assert CONTAGION_CHANNELS["threshold"] is threshold_cascade
    assert set(CONTAGION_CHANNELS) == {"debtrank", "differential-debtrank", "threshold"}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), recovery=st.floats(0.0, 0.99))
def test_threshold_contract_and_comparison_with_eisenberg_noe(seed, recovery):
    net = _random_net(seed)
    res = threshold_cascade(net, recovery=recovery)
    pbar = net.total_obligations
    p = res.payments
    assert np.all(p >= 0) and np.all(p <= pbar)
    assert np.array_equal(res.defaulted, p < pbar)
    assert np.allclose(res.shortfall, pbar - p)
    assert np.allclose(res.equity, net.external_assets + net.PiT @ p - pbar)
    # a fixed point of its own map: failed <=> equity < 0 (ties survive)
    has = pbar > 0
    assert np.all(res.equity[res.defaulted] < 0)
    assert np.all(res.equity[has & ~res.defaulted] >= -1e-9)
    # recovery 0: the map is below Eisenberg-Noe's, so its greatest fixed point is too
    if recovery == 0.0:
        en = contagion.clear(net)
        assert np.all(res.payments <= en.payments + 1e-9)
        assert np.all(res.defaulted >= en.defaulted)


def test_run_command_accepts_threshold():
    from contagion.cli import cli

    out = CliRunner().invoke(cli, ["run", "chain", "--method", "threshold", "-f", "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    import json

    data = json.loads(out.stdout)
    assert [r["default_round"] for r in data["institutions"]] == [0, 1, 2]
