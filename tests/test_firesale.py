"""Fire sales (issue 19, item 1): methods ``fire-sale`` and ``fire-sale-leverage``.

Hand derivations in the docstrings; an independent dense reference (the joint
map iterated on (p, q) directly, from the top and from the bottom, no library
clearing) on random networks; the CLI.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.optimize import brentq

import contagion
from contagion.cli import cli
from contagion.clearing.firesale import asset_holdings


def _nv(cash_n: float) -> contagion.FinancialNetwork:
    nodes = pd.DataFrame({"id": ["N", "F", "V", "B"], "external_assets": [cash_n, 0, 3, 0],
                          "external_liabilities": [1.0, 0, 0, 0], "asset_units": [10.0, 0, 8, 0]})
    edges = pd.DataFrame({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [10.0, 9.8]})
    return contagion.FinancialNetwork.from_edges(edges, nodes)


def test_issue_example_both_pay_in_full():
    """N: cash 4, 10 units, owes 10 to F and 1 outside (pbar 11); V: cash 3, 8 units, owes 9.8 to B.

    N needs 11 - 4 = 7 from sales, V needs 9.8 - 3 = 6.8. If both can pay, the units sold are (7 + 6.8) / q and
    q = exp(-0.01 * 13.8 / q). G(q) = exp(-0.138 / q) is increasing with G(1) = 0.871 < 1 and G(0.85) = 0.85014 >
    0.85, so the greatest fixed point lies in (0.85, 1): q* ~ 0.850171 (brentq below). There V sells 6.8 / q* =
    7.9984 <= 8 units and N 7 / q* = 8.23 <= 10: both pay in full, and the price is q*.
    """
    q_star = brentq(lambda q: math.exp(-0.138 / q) - q, 0.85, 1.0, xtol=1e-15)
    res = contagion.clear(_nv(4.0), method="fire-sale", impact=0.01)
    assert res.defaulted.tolist() == [False, False, False, False]
    np.testing.assert_allclose(res.payments, [11, 0, 9.8, 0], rtol=0, atol=1e-12)
    assert res.prices["asset"] == pytest.approx(q_star, abs=1e-12)
    np.testing.assert_allclose(res.units_sold[:, 0], [7 / q_star, 0, 6.8 / q_star, 0], rtol=1e-11)
    assert res.unique is True and res.least_payments is None
    # equity marked to market: N 4 + 10 q - 11, V 3 + 8 q - 9.8, F and B receive in full
    np.testing.assert_allclose(res.equity, [4 + 10 * q_star - 11, 10, 3 + 8 * q_star - 9.8, 9.8], atol=1e-11)


def test_a_network_without_assets_says_fire_sales_move_nothing():
    """No asset_units column (the built-in network): the answer is Eisenberg-Noe's
    (test_without_holdings_it_is_eisenberg_noe) and the CLI says why once, also on a path; a network with units
    does not warn."""
    import warnings

    from contagion.clearing.firesale import NoAssetsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", NoAssetsWarning)
        contagion.clear(_nv(4.0), method="fire-sale", impact=0.01)
    for args in (["run", "core-periphery", "-m", "fire-sale", "-f", "json"],
                 ["run", "ai-infrastructure", "--horizon", "2026:2028", "-m", "fire-sale", "-f", "json"]):
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 0, out.output
        assert out.stderr.count("warning: the network holds no units of any asset") == 1, out.stderr


def test_issue_example_price_impact_fails_an_unexposed_vehicle():
    """N's cash cut to 1. Impact 0: N sells its 10 units at 1 and has exactly 11 (a tie: solvent); V sells 6.8
    units: nobody defaults.

    Impact 0.01: from q = 1 N sells all 10 units (needs 10), V 6.8: q = exp(-0.168) = 0.8454. Now N cannot pay
    (1 + 10 q < 11) and sells everything; V needs 6.8 / 0.8454 = 8.04 > 8 units and sells all 8: q = exp(-0.18).
    At q = exp(-0.18) = 0.835270 N has 1 + 8.35270 < 11 and V 3 + 6.68216 = 9.68216 < 9.8: both default, the
    price stays exp(-0.18). Payments: N 1 + 10 e^-0.18 = 9.352702 (F gets 10/11 of it), V 3 + 8 e^-0.18. V has no
    exposure to N: it fails through the price alone.
    """
    calm = contagion.clear(_nv(1.0), method="fire-sale", impact=0.0)
    assert calm.defaulted.tolist() == [False] * 4 and calm.prices == {"asset": 1.0}
    res = contagion.clear(_nv(1.0), method="fire-sale", impact=0.01)
    q = math.exp(-0.18)
    assert res.prices["asset"] == pytest.approx(q, abs=1e-15)
    assert res.defaulted.tolist() == [True, False, True, False]
    np.testing.assert_allclose(res.payments, [1 + 10 * q, 0, 3 + 8 * q, 0], rtol=1e-14)
    np.testing.assert_allclose(res.equity, [1 + 10 * q - 11, 10 / 11 * (1 + 10 * q), 3 + 8 * q - 9.8, 3 + 8 * q],
                               rtol=1e-13)
    assert res.units_sold[:, 0].tolist() == [10.0, 0.0, 8.0, 0.0]
    # all 18 units lose 1 - q; the holdings count at 1 before the sales, so nobody is short without the network
    assert res.fire_sale_loss == pytest.approx(18 * (1 - q), rel=1e-14)
    assert res.summary()["fire_sale_loss"] == pytest.approx(18 * (1 - q), rel=1e-14)
    from contagion.measures import loss_summary

    loss = loss_summary(res)
    assert loss["system_loss_without_network"] == 0.0 and math.isnan(loss["amplification"])
    # plain Eisenberg-Noe does not see the assets at all
    assert contagion.clear(_nv(1.0)).defaulted.tolist() == [True, False, True, False]


def test_two_equilibria_of_price_are_reported():
    """A bank with no cash, 10 units, owes 1 to Z; impact 0.3. If it pays, it sells 1/q units and q = exp(-0.3/q),
    i.e. q ln q = -0.3, whose larger root is q+ ~ 0.6133 (brentq on [1/e, 1]). If it defaults it sells all 10:
    q- = exp(-3) = 0.0498, where 10 q- = 0.498 < 1 confirms the default. Both are joint fixed points; the result
    is the greatest (pays 1) with the least payments (0.498) beside it and unique = False.
    """
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["A"], "creditor": ["Z"], "amount": [1.0]}),
        pd.DataFrame({"id": ["A", "Z"], "external_assets": [0.0, 0], "asset_units": [10.0, 0]}))
    res = contagion.clear(net, method="fire-sale", impact=0.3)
    q_plus = brentq(lambda q: q * math.log(q) + 0.3, 1 / math.e, 1.0, xtol=1e-15)
    assert res.prices["asset"] == pytest.approx(q_plus, abs=1e-12)
    assert res.payments.tolist() == [1.0, 0.0] and not res.defaulted.any()
    assert res.unique is False
    np.testing.assert_allclose(res.least_payments, [10 * math.exp(-3), 0], rtol=1e-14)


def test_several_assets_sold_pro_rata():
    """One seller, 4 units of gpu (impact 0.05) and 6 of dc (impact 0.01), cash 0, owes 5 to Z. It sells the same
    fraction f of each: f (4 q_g + 6 q_d) = 5 with q_g = exp(-0.05 * 4 f), q_d = exp(-0.01 * 6 f). Solved by
    brentq on f, then checked."""
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["A"], "creditor": ["Z"], "amount": [5.0]}),
        pd.DataFrame({"id": ["A", "Z"], "external_assets": [0.0, 0], "asset_units_gpu": [4.0, 0],
                      "asset_units_dc": [6.0, None]}))
    f = brentq(lambda f: f * (4 * math.exp(-0.2 * f) + 6 * math.exp(-0.06 * f)) - 5, 0, 1, xtol=1e-15)
    res = contagion.clear(net, method="fire-sale", impact={"gpu": 0.05, "dc": 0.01})
    assert asset_holdings(net)[0] == ("gpu", "dc")
    assert res.prices["gpu"] == pytest.approx(math.exp(-0.2 * f), abs=1e-12)
    assert res.prices["dc"] == pytest.approx(math.exp(-0.06 * f), abs=1e-12)
    np.testing.assert_allclose(res.units_sold[0], [4 * f, 6 * f], rtol=1e-10)
    assert res.payments.tolist() == [5.0, 0.0]


def _reference(L, e, ext, units, impact, leverage=None, top=True, rounds=200_000):
    """Joint map Phi(p, q) iterated directly (dense, no library clearing) from (pbar, 1) or (0, q_min)."""
    pbar = L.sum(axis=1) + ext
    Pi = np.divide(L, pbar[:, None], out=np.zeros_like(L), where=pbar[:, None] > 0)
    p = pbar.copy() if top else np.zeros_like(pbar)
    q = 1.0 if top else math.exp(-impact * units.sum())
    for _ in range(rounds):
        inflow = Pi.T @ p
        value = units * q
        p_new = np.where(pbar > 0, np.minimum(pbar, e + inflow + value), 0.0)
        need = np.maximum(pbar - e - inflow, 0.0)
        if leverage is not None:
            assets = e + inflow + value
            eq = assets - pbar
            need = np.maximum(need, np.where(eq >= 0, assets - leverage * eq, 0.0))
        frac = np.clip(np.divide(need, value, out=np.zeros_like(value), where=value > 0), 0, 1)
        q_new = math.exp(-impact * float(frac @ units))
        if np.max(np.abs(p_new - p)) < 1e-15 * pbar.max() and abs(q_new - q) < 1e-16:
            return p_new, q_new
        p, q = p_new, q_new
    return p, q


def _random_case(seed):
    rng = np.random.default_rng(seed)
    n = 7
    L = np.where(rng.random((n, n)) < 0.35, rng.uniform(1, 10, (n, n)), 0.0)
    np.fill_diagonal(L, 0.0)
    e = rng.uniform(0, 6, n)
    ext = rng.uniform(0, 4, n)
    units = np.where(rng.random(n) < 0.7, rng.uniform(0, 10, n), 0.0)
    return L, e, ext, units, float(rng.choice([0.005, 0.02, 0.05]))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("method", ["fire-sale", "fire-sale-leverage"])
def test_against_the_joint_map_iterated_directly(seed, method):
    L, e, ext, units, impact = _random_case(seed)
    names = [f"n{i}" for i in range(len(e))]
    i, j = np.nonzero(L)
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": [names[a] for a in i], "creditor": [names[b] for b in j], "amount": L[i, j]}),
        pd.DataFrame({"id": names, "external_assets": e, "external_liabilities": ext, "asset_units": units}))
    kw = {"leverage": 6.0} if method == "fire-sale-leverage" else {}
    res = contagion.clear(net, method=method, impact=impact, **kw)
    p_ref, q_ref = _reference(L, e, ext, units, impact, kw.get("leverage"))
    scale = (L.sum(axis=1) + ext).max()
    np.testing.assert_allclose(res.payments, p_ref, rtol=0, atol=1e-9 * scale)
    assert res.prices["asset"] == pytest.approx(q_ref, abs=1e-10)
    p_low, q_low = _reference(L, e, ext, units, impact, kw.get("leverage"), top=False)
    same = np.max(np.abs(p_low - p_ref)) <= 1e-9 * scale and abs(q_low - q_ref) <= 1e-9
    assert res.unique == same
    if not same:
        np.testing.assert_allclose(res.least_payments, p_low, rtol=0, atol=1e-8 * scale)
    assert res.converged and res.residual <= 1e-12
    # equity marked to market and the defaults it implies (ties solvent)
    pbar = net.total_obligations
    np.testing.assert_allclose(res.equity, e + net.PiT @ res.payments + units * res.prices["asset"] - pbar,
                               atol=1e-12 * scale)
    assert np.array_equal(res.defaulted, res.payments < pbar * (1 - 1e-12))


@pytest.mark.parametrize("seed", range(6))
def test_more_impact_never_helps(seed):
    """Monotone in the impact: a larger price impact gives lower prices and payments (Tarski, greatest fixed
    points of a map that is lower everywhere)."""
    L, e, ext, units, _ = _random_case(seed)
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": [f"n{a}" for a in np.nonzero(L)[0]], "creditor": [f"n{b}" for b in np.nonzero(L)[1]],
                      "amount": L[np.nonzero(L)]}),
        pd.DataFrame({"id": [f"n{i}" for i in range(7)], "external_assets": e, "external_liabilities": ext,
                      "asset_units": units}))
    prev = None
    for impact in (0.0, 0.01, 0.03, 0.1):
        res = contagion.clear(net, method="fire-sale", impact=impact)
        if prev is not None:
            assert res.prices["asset"] <= prev.prices["asset"] + 1e-15
            assert np.all(res.payments <= prev.payments + 1e-9)
        prev = res


def test_without_holdings_it_is_eisenberg_noe():
    from contagion.clearing.firesale import NoAssetsWarning

    net = contagion.load_dataset("core-periphery")
    with pytest.warns(NoAssetsWarning, match="holds no units of any asset"):
        res = contagion.clear(net, method="fire-sale", impact=0.5)
    np.testing.assert_array_equal(res.payments, contagion.clear(net).payments)
    assert res.prices == {} and res.units_sold.shape == (net.n, 0)


def test_bad_holdings_and_impacts_are_located_errors():
    nodes = pd.DataFrame({"id": ["A", "Z"], "asset_units": [-1.0, 0]})
    net = contagion.FinancialNetwork.from_edges(pd.DataFrame({"debtor": ["A"], "creditor": ["Z"], "amount": [1.0]}),
                                                nodes)
    with pytest.raises(contagion.InvalidNetworkError, match="asset_units.*|asset holdings of 'A'"):
        contagion.clear(net, method="fire-sale")
    ok = contagion.FinancialNetwork.from_edges(pd.DataFrame({"debtor": ["A"], "creditor": ["Z"], "amount": [1.0]}),
                                               pd.DataFrame({"id": ["A", "Z"], "asset_units": [1.0, 0]}))
    with pytest.raises(contagion.ContagionError, match="unknown assets"):
        contagion.clear(ok, method="fire-sale", impact={"gpu": 0.1})
    with pytest.raises(contagion.ContagionError, match="impact"):
        contagion.clear(ok, method="fire-sale", impact=-1)


def _write_nv(tmp_path, cash_n):
    net = _nv(cash_n)
    d = tmp_path / "nv"
    contagion.write_network(net, d)
    return str(d)


def test_cli_run_fire_sale(tmp_path):
    path = _write_nv(tmp_path, 1.0)
    runner = CliRunner()
    out = runner.invoke(cli, ["run", path, "-m", "fire-sale", "--impact", "0.01", "-f", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["method"] == "fire-sale" and doc["params"] == {"impact": 0.01}
    assert doc["summary"]["prices"]["asset"] == pytest.approx(math.exp(-0.18), abs=1e-15)
    assert [r["defaulted"] for r in doc["institutions"]] == [True, False, True, False]
    # the records carry the holdings as a path's do (they had only the plain columns): both sell all they hold
    q = math.exp(-0.18)
    assert [(r["units_held"], r["units_sold"]) for r in doc["institutions"]] == [(10.0, 10.0), (0.0, 0.0),
                                                                              (8.0, 8.0), (0.0, 0.0)]
    assert [r["asset_value"] for r in doc["institutions"]] == pytest.approx([10 * q, 0.0, 8 * q, 0.0], rel=1e-15)
    out0 = runner.invoke(cli, ["run", path, "-m", "fire-sale", "--impact", "0", "-f", "json"])
    assert [r["defaulted"] for r in json.loads(out0.stdout)["institutions"]] == [False] * 4
    bad = runner.invoke(cli, ["run", path, "-m", "eisenberg-noe", "--impact", "0.01"])
    assert bad.exit_code == 2 and "--impact applies only to --method fire-sale" in bad.output


def test_cli_rank_refuses_fire_sale_and_sweep_takes_it(tmp_path):
    # sweeps clear their draws through the batched fire-sale solver (tests/test_sweep.py checks them per draw);
    # rank clears with eisenberg-noe or rogers-veraart only
    path = _write_nv(tmp_path, 4.0)
    out = CliRunner().invoke(cli, ["rank", path, "-m", "fire-sale"])
    assert out.exit_code == 2 and "'fire-sale' is not one of 'eisenberg-noe', 'rogers-veraart'" in out.output
    cfg = tmp_path / "gpu.toml"
    cfg.write_text('[[shocks]]\ntarget = "N"\ndistribution = "uniform"\nlow = 0.5\nhigh = 1.0\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["sweep", path, "-c", str(cfg), "-m", "fire-sale", "-n", "10", "-f", "json"])
    assert out.exit_code == 0, out.output
    assert set(json.loads(out.stdout)["prices"]) == {"asset"}


def test_holdings_and_start_prices_for_a_second_year():
    """What a multi-year run needs. Year 1 of the N/V example with N's cash at 4: N sells 7/q1, V 6.8/q1 at
    q1 = 0.850171. In year 2 they hold what is left, start from q1, and (say) owe the same again with the same cash:
    N needs 7 and holds 10 - 7/q1 = 1.766 units worth 1.50 at q1 -- it cannot pay and sells them all; V needs 6.8
    and holds 8 - 6.8/q1 = 0.0016 units: it defaults too. Price: q1 exp(-0.01 (1.766 + 0.0016)).
    liquid_equity is the equity without the units kept: year 1's N has 4 + 7 - 11 = 0 in cash."""
    net = _nv(4.0)
    y1 = contagion.clear(net, method="fire-sale", impact=0.01)
    q1 = y1.prices["asset"]
    np.testing.assert_allclose(y1.liquid_equity, [0.0, 10.0, 0.0, 9.8], atol=1e-12)
    left = y1.holdings[:, 0] - y1.units_sold[:, 0]
    y2 = contagion.clear(net, method="fire-sale", impact=0.01, holdings=left, start_prices={"asset": q1})
    assert y2.defaulted.tolist() == [True, False, True, False]
    assert y2.prices["asset"] == pytest.approx(q1 * math.exp(-0.01 * left.sum()), abs=1e-15)
    assert y2.fire_sale_loss == pytest.approx(left.sum() * (q1 - y2.prices["asset"]), rel=1e-12)
    with pytest.raises(contagion.ContagionError, match="unknown asset"):
        contagion.clear(net, method="fire-sale", start_prices={"gpu": 0.5})


def test_fire_sales_on_the_built_in_network_as_the_readme_tells():
    """README, Fire sales, 'On the built-in network': the GPU fleets of collateral.csv at their 1 Jan 2027 book
    values as one asset. Under gpu-collateral-writedown Eisenberg-Noe has CoreWeave and the xAI vehicle default;
    selling GPUs at impact 0.05 both pay in full at a price of 0.7621; at impact 0.1 both sell everything at 0.0744
    and default. Each round is the priority clearing (CoreWeave's secured loans rank first)."""
    net = contagion.load_dataset("ai-infrastructure")
    st = contagion.stress(net, ["gpu-collateral-writedown"])
    cw, xv = net.names.index("CoreWeave"), net.names.index("xAI GPU vehicle (Valor Compute Infrastructure)")
    gpu = np.zeros(net.n)
    gpu[cw], gpu[xv] = 18.979231 * 2 / 3, 20 * 2 / 3
    assert sorted(np.flatnonzero(contagion.clear(st.network).defaulted)) == sorted([cw, xv])
    mid = contagion.clear(st.network, method="fire-sale", impact=0.05, holdings={"gpu": gpu})
    assert round(mid.prices["gpu"], 4) == 0.7621 and mid.n_defaults == 0
    assert mid.units_sold[[cw, xv], 0].round(2).tolist() == [1.96, 3.47] and round(mid.fire_sale_loss, 2) == 6.18
    deep = contagion.clear(st.network, method="fire-sale", impact=0.1, holdings={"gpu": gpu})
    assert round(deep.prices["gpu"], 4) == 0.0744 and sorted(np.flatnonzero(deep.defaulted)) == sorted([cw, xv])
    np.testing.assert_allclose(deep.units_sold[:, 0], gpu, rtol=0, atol=1e-12)
    assert deep.payments[[cw, xv]].round(2).tolist() == [13.51, 5.79]
    # paid as the waterfall says: CoreWeave's secured (seniority 1) lenders before the rest
    senior = (net.edges["debtor"].to_numpy() == net.ids[cw]) & (net.edges["seniority"].to_numpy() == 1)
    owed = deep.network.edges["amount"].to_numpy()
    np.testing.assert_allclose(deep.row_payments[senior], owed[senior], rtol=0, atol=1e-12)


def test_a_price_that_underflows_to_zero_still_sells_everything():
    """impact x units past ~745 makes exp(-impact x units) 0.0: the holder's assets are worth 0.0 and it is still
    short, so it sells all it holds. It was taken for a holder with nothing to sell: the price jumped back to 1,
    `clear` raised a false 'tipping point', `clear_many` returned a state with residual 1, units_sold was 0."""
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["A"], "creditor": ["B"], "amount": [6.0]}),
        pd.DataFrame({"id": ["A", "B"], "external_assets": [2.0, 0.0], "asset_units": [10.0, 0.0]}))
    res = contagion.clear(net, method="fire-sale", impact=100)
    assert res.payments.tolist() == [2.0, 0.0] and res.prices == {"asset": 0.0}
    assert res.units_sold.ravel().tolist() == [10.0, 0.0] and res.defaulted.tolist() == [True, False]
    batch = contagion.clear_many(net, np.c_[net.external_assets], method="fire-sale", impact=100)
    assert batch.payments.ravel().tolist() == [2.0, 0.0] and float(batch.residual[0]) == 0.0
    # at impact 50 the price is still a float (exp(-500)): the same answer
    assert contagion.clear(net, method="fire-sale", impact=50).payments.tolist() == [2.0, 0.0]


def test_validate_checks_the_fire_sale_columns_and_leverage_must_be_finite(write_net):
    """validate said OK for asset units of -1 / nan / inf and a target leverage of 0.5 / 'abc' (run -m fire-sale
    refused them); --leverage inf made assets - inf x 0 = NaN and blamed external_assets."""
    folder = write_net("id,external_assets,asset_units,target_leverage\nA,1,-1,0.5\nB,1,nan,abc\nC,1,inf,2\n",
                       "debtor,creditor,amount\nA,B,1\n", "u")
    out = CliRunner().invoke(cli, ["validate", str(folder)])
    assert out.exit_code == 1
    for row, col, value in ((2, "asset_units", "-1"), (3, "asset_units", "nan"), (4, "asset_units", "inf"),
                            (2, "target_leverage", "0.5"), (3, "target_leverage", "abc")):
        assert f"row {row}, column '{col}'" in out.output and f"got '{value}'" in out.output
    good = write_net("id,external_assets,asset_units\nA,0,5\nZ,0,0\n", "debtor,creditor,amount\nA,Z,5\n", "g")
    out = CliRunner().invoke(cli, ["run", str(good), "-m", "fire-sale-leverage", "--impact", "0", "--leverage", "inf"])
    assert out.exit_code == 2 and "inf is not in the range 1<=x<inf" in out.output    # a usage error
    with pytest.raises(contagion.ContagionError, match=r"leverage \(assets / equity\) must be a finite number >= 1"):
        contagion.clear(contagion.read_network(good), method="fire-sale-leverage", impact=0.0, leverage=float("inf"))


def test_reports_views_and_losses_count_the_holdings_before_the_sale():
    """The N/V example (N cash 1, V cash 3 with 8 units, owing 9.8): before any sale V's equity is 3 + 8 - 9.8 =
    1.2 (what `run` says). The report and the view read it without the holdings (-6.8), so V seemed to gain."""
    from contagion.report import build_report

    net = _nv(1.0)
    run = contagion.stress(net, [], method="fire-sale", impact=0.01).to_frame()
    assert run.loc["V", "equity_pre_shock"] == pytest.approx(1.2)
    rep = build_report(net, [], method="fire-sale", impact=0.01, generated="2026-01-01")
    table = rep.institutions(0).set_index("name")
    np.testing.assert_allclose(table.loc[run.index, "equity_pre_shock"], run["equity_pre_shock"], rtol=1e-12)
    np.testing.assert_allclose(rep.institutions_by_scenario().set_index("name").loc[run.index, "equity_pre_shock"],
                               run["equity_pre_shock"], rtol=1e-12)


def test_the_loss_without_network_values_holdings_at_their_start_price():
    """A holds 10 units at a start price of 0.5, no cash, and owes 10: with impact 0 it pays 5; everyone paying
    in full its equity is -5, so the loss without network is 5 (the units were counted at price 1: 0, n/a)."""
    from contagion.measures import loss_summary

    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["A"], "creditor": ["B"], "amount": [10.0]}),
        pd.DataFrame({"id": ["A", "B"], "external_assets": [0.0, 0.0], "asset_units": [10.0, 0.0]}))
    res = contagion.clear(net, method="fire-sale", impact=0.0, start_prices={"asset": 0.5})
    s = loss_summary(res, net)
    assert (s["system_loss"], s["system_loss_without_network"], s["amplification"]) == (5.0, 5.0, 1.0)


def test_fire_sales_keep_the_guarantees_not_unique():
    """A guarantee loop with two clearing states (test_priority's): `run` says not unique; with fire sales it
    said 'yes' (only the price fixed points were compared)."""
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"edge_id": ["e1", "e2", "g"], "debtor": ["A", "B", "B"], "creditor": ["X", "A", "X"],
                      "amount": [10.0, 4.0, 10.0], "kind": ["loan", "loan", "guarantee"], "covers": [None, None, "e1"],
                      "seniority": [1, 2, 1]}),
        pd.DataFrame({"id": ["A", "B", "X", "C"], "external_assets": [6.0, 4.0, 0.0, 1.0],
                      "asset_units": [0.0, 0.0, 0.0, 5.0]}))
    with pytest.warns(contagion.clearing.priority.ContingentWarning):
        assert contagion.clear(net).unique is False
    with pytest.warns(contagion.clearing.priority.ContingentWarning):
        assert contagion.clear(net, method="fire-sale", impact=0.01).unique is False


def test_an_infinite_impact_is_a_usage_error():
    out = CliRunner().invoke(cli, ["run", "-m", "fire-sale", "--impact", "inf"])
    assert out.exit_code == 2 and "inf is not in the range 0<=x<inf" in out.output


def test_a_holdings_column_without_an_asset_name_is_located(write_net):
    folder = write_net("id,external_assets,asset_units_\nA,1,5\nB,0,0\n", "debtor,creditor,amount\nA,B,3\n", "e")
    out = CliRunner().invoke(cli, ["run", str(folder), "-m", "fire-sale"])
    assert out.exit_code == 1
    assert "nodes.csv, column 'asset_units_': this holdings column names no asset" in out.output


def test_a_path_that_has_sold_every_unit_does_not_say_the_network_holds_none():
    """N (no cash, 10 units) owes 20 a year: it sells all 10 in 2026; 2027 and 2028 clear with no units left,
    which is the path's state, not a network without an asset_units column."""
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["N"], "creditor": ["F"], "amount": [20.0]}),
        pd.DataFrame({"id": ["N", "F"], "external_assets": [0.0, 0.0], "asset_units": [10.0, 0.0]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", contagion.clearing.firesale.NoAssetsWarning)
        path = contagion.clear_path(net, (2026, 2028), method="fire-sale", impact=0.01)
    assert path.units_sold[0, 0, 0] == 10.0 and path.units_held[2, 0, 0] == 0.0


def test_price_contagion_is_not_a_fundamental_default():
    """The README's N/V example at impact 0.01: nobody is short with everyone paying and nothing sold (N has
    exactly its 11 at price 1, V 11 against 9.8), so neither default is fundamental (wave 0): both are wave 1.
    A forced default, or a bank short at the start prices, stays in wave 0."""
    res = contagion.clear(_nv(1.0), method="fire-sale", impact=0.01)
    assert res.defaulted.tolist() == [True, False, True, False]
    assert res.default_round.tolist() == [1, -1, 1, -1]
    assert res.summary()["fundamental_defaults"] == 0
    short = contagion.clear(_nv(0.5), method="fire-sale", impact=0.01)    # N: 0.5 + 10 < 11 at price 1
    assert short.default_round.tolist() == [0, -1, 1, -1]


def test_uniqueness_is_not_claimed_where_the_clearing_has_no_least_vector():
    """A and B owe each other 10 and hold nothing: any x in [0, 10] paid both ways clears. C (1 in cash, 5 units)
    owes Z 3 and sells 2/q units at q = exp(-0.1 x 2/q) in every state. Without seniority the least state pays
    A and B nothing (unique False, least payments (0, 0, 3, 0)); with a seniority column (all 1: the same
    obligations) the priority clearing has no least vector, and comparing its greatest with itself said
    unique True. It is now not determined (None)."""
    nodes = pd.DataFrame({"id": ["A", "B", "C", "Z"], "external_assets": [0.0, 0.0, 1.0, 0.0],
                          "asset_units": [0.0, 0.0, 5.0, 0.0]})
    edges = pd.DataFrame({"debtor": ["A", "B", "C"], "creditor": ["B", "A", "Z"], "amount": [10.0, 10.0, 3.0]})
    q = brentq(lambda x: x - math.exp(-0.2 / x), 0.5, 1.0)
    plain = contagion.clear(contagion.FinancialNetwork.from_edges(edges, nodes), method="fire-sale", impact=0.1)
    assert plain.unique is False and plain.least_payments.tolist() == [0.0, 0.0, 3.0, 0.0]
    assert plain.prices["asset"] == pytest.approx(q, rel=1e-12)
    ranked = contagion.FinancialNetwork.from_edges(edges.assign(seniority=[1, 1, 1]), nodes)
    res = contagion.clear(ranked, method="fire-sale", impact=0.1)
    assert res.unique is None and res.least_payments is None
    assert res.payments.tolist() == [10.0, 10.0, 3.0, 0.0] and res.prices["asset"] == pytest.approx(q, rel=1e-12)


def test_a_start_price_that_is_not_a_number_is_a_contagion_error():
    net = contagion.FinancialNetwork.from_edges(
        pd.DataFrame({"debtor": ["A"], "creditor": ["B"], "amount": [3.0]}),
        pd.DataFrame({"id": ["A", "B"], "external_assets": [1.0, 0.0], "asset_units": [5.0, 0.0]}))
    for bad in ("x", None, True, [1.0]):
        with pytest.raises(contagion.errors.ContagionError, match="start price of 'asset' must be a positive number"):
            contagion.clear(net, method="fire-sale", impact=0.1, start_prices={"asset": bad})
