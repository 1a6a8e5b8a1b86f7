"""Multi-year clearing (contagion.clear_path, DESIGN.md §7): the static limit, hand-derived paths, the
Banerjee--Bernstein--Feinstein static example in exact rationals, properties, files and the CLI."""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from fractions import Fraction as Q
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import contagion
from contagion.errors import ContagionError, InvalidNetworkError, ScenarioError
from contagion.io.bridges import from_networkx
from contagion.network import InterestAmountWarning
from contagion.paths import clear_path
from contagion.shocks import Scenario, Shock

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_clearing import _make, random_case  # noqa: E402  (the LP cross-check suite's networks)


def _net(edges: dict, nodes: dict) -> contagion.FinancialNetwork:
    return contagion.FinancialNetwork.from_edges(pd.DataFrame(edges), pd.DataFrame(nodes))


# ---------------------------------------------------------------------- the static limit
@pytest.mark.parametrize("seed", range(0, 240, 3))
def test_one_year_horizon_equals_a_plain_clearing(seed):
    """A network without dated columns is the same network every year: --horizon Y:Y is a plain run."""
    net = _make(*random_case(seed))
    plain = contagion.clear(net)
    path = clear_path(net, (2027, 2027))
    np.testing.assert_array_equal(path.payments[0], plain.payments)
    np.testing.assert_array_equal(path.defaulted[0], plain.defaulted)
    np.testing.assert_array_equal(path.default_round[0], plain.default_round)
    np.testing.assert_array_equal(path.equity[0], plain.equity)
    assert path.default_year == tuple(2027 if d else None for d in plain.defaulted)


@pytest.mark.parametrize("name", ["chain", "core-periphery", "ring"])
def test_one_year_horizon_equals_run_with_the_default_scenario(name):
    net = contagion.load_dataset(name)
    st = contagion.stress(net)
    path = clear_path(net, (2027, 2027), None)
    assert [s.name for s in path.scenarios] == [s.name for s in st.scenarios]
    np.testing.assert_array_equal(path.payments[0], st.clearing.payments)
    np.testing.assert_array_equal(path.default_round[0], st.clearing.default_round)


# ---------------------------------------------------------------------- hand-derived paths
def _bullet(rollover="none", life=None):
    edges = {"debtor": ["A"], "creditor": ["B"], "amount": [5.0], "principal": [100.0], "rate": [0.05],
             "maturity": [2028], "rollover": [rollover]}
    if rollover == "ltv":
        edges.update(max_ltv=[0.8], collateral=["gpu"])
    return _net(edges, {"id": ["A", "B"], "external_assets": [20.0, 0.0]})


def test_bullet_loan_defaults_at_maturity_and_not_when_rolled():
    """A owes 5% on 100, due 2028, and earns 20 a year. 2026: pays 5, keeps 15; 2027: 35 in hand, pays 5,
    keeps 30; 2028: 50 in hand against 105 -> defaults, pays all 50. Rolled: pays 5 each year, never defaults,
    and the 100 is re-lent (a year at a time: no term_years)."""
    path = clear_path(_bullet(), (2026, 2029))
    assert path.default_year == (2028, None)
    assert path.payments[:, 0].tolist() == [5.0, 5.0, 50.0, 20.0]          # 2029: the estate pays the rest
    assert path.cash[:, 0].tolist() == [15.0, 30.0, 0.0, 0.0]
    assert path.called_principal.tolist() == [0.0, 0.0, 100.0, 0.0]
    assert path.shortfall[2, 0] == 55.0 and path.obligations[3, 0] == 55.0   # unpaid and owed again
    rolled = clear_path(_bullet("always"), (2026, 2029))
    assert rolled.default_year == (None, None)
    assert rolled.payments[:, 0].tolist() == [5.0, 5.0, 5.0, 5.0]
    assert rolled.rolled_principal.tolist() == [0.0, 0.0, 100.0, 100.0]


def test_ltv_rollover_on_book_vs_economic_life(tmp_path):
    """GPU collateral worth 200 in 2026, the loan 100, max LTV 0.8. In 2028 (age 2): over a 6-year book life
    the GPUs are worth 200 x (1 - 2/6) = 133.33, and 0.8 x 133.33 = 106.67 >= 100: the lender rolls. Over a
    3-year economic life they are worth 200 x (1 - 2/3) = 66.67, and 0.8 x 66.67 = 53.33 < 100: the loan is
    called and A (50 in hand, 105 due) defaults."""
    net = _bullet("ltv")
    book = contagion.paths.CollateralTable({"gpu": ((2026, 200.0, 6.0),)})
    economic = contagion.paths.CollateralTable({"gpu": ((2026, 200.0, 3.0),)})
    assert clear_path(net, (2026, 2028), collateral=book).default_year == (None, None)
    path = clear_path(net, (2026, 2028), collateral=economic)
    assert path.default_year == (2028, None)
    assert path.called_principal.tolist() == [0.0, 0.0, 100.0]
    # the same from a scenario that halves the economic life of the book figures (GPU obsolescence)
    faster = Scenario("obsolete", "", [Shock("collateral", target="gpu", factor=0.5)])
    assert clear_path(net, (2026, 2028), [faster], collateral=book).default_year == (2028, None)
    # and from a file beside the network
    (tmp_path / "collateral.csv").write_text("id,value,year,economic_life\ngpu,200,2026,3\n")
    assert clear_path(net, (2026, 2028), collateral=tmp_path / "collateral.csv").default_year == (2028, None)


def test_freeze_stops_rollover_from_its_year():
    net = _bullet("always")
    freeze = Scenario("freeze", "", [Shock("freeze", target="B", year=2029)])
    path = clear_path(net, (2026, 2029), [freeze])
    assert path.rolled_principal.tolist() == [0.0, 0.0, 100.0, 0.0]
    assert path.default_year == (2029, None)        # 2029: 15+15+15 + 20 = 65 in hand against 105


def test_acceleration_makes_an_earlier_creditor_default():
    """D holds 10 in 2026 (nothing later) and owes C 10 in 2026, Y 10 in 2027 and 5 outside in 2026. It
    defaults in 2026 and its 2027 debt is accelerated: 25 falls due and D pays 10 pro rata, 4 to C, 4 to Y,
    2 outside. Without acceleration C would get 10 x 10/15 = 6.67 and pay its 5 outside; with 4 it defaults
    in 2026. Y is paid 4 a year early (acceleration is not monotone for every creditor)."""
    net = _net({"debtor": ["D", "D"], "creditor": ["C", "Y"], "amount": [10.0, 10.0], "start": [2026, 2027],
                "end": [2026, 2027]},
               {"id": ["D", "C", "Y"], "external_assets": [10.0, 0.0, 0.0], "external_liabilities": [5.0, 5.0, 0.0]})
    flows = contagion.paths.Cashflows({2027: (np.array([0.0, np.nan, np.nan]), np.array([0.0, 0.0, np.nan]))})
    path = clear_path(net, (2026, 2027), cashflows=flows)
    assert path.obligations[0].tolist() == [25.0, 5.0, 0.0]
    assert path.payments[0].tolist() == [10.0, 4.0, 0.0]
    assert path.default_year == (2026, 2026, None)
    received = path.clearings[0].network.PiT @ path.payments[0]
    assert received.tolist() == [0.0, 4.0, 4.0]
    # the default waves: D fundamental (0); C only once D's 2027 debt is accelerated (a further wave)
    assert path.default_round[0].tolist() == [0, 1, -1]


def test_cash_is_carried_forward():
    """A earns 10 in 2026 and nothing in 2027 and owes B 6 each year: 2026 it pays 6 and carries 4; 2027 it
    has 4 against 6 and defaults, paying 4 (without the carried cash it could pay nothing)."""
    net = _net({"debtor": ["A"], "creditor": ["B"], "amount": [6.0]}, {"id": ["A", "B"], "external_assets": [10.0, 0.0]})
    flows = contagion.paths.Cashflows({2027: (np.array([0.0, np.nan]), np.array([np.nan, np.nan]))})
    path = clear_path(net, (2026, 2027), cashflows=flows)
    assert path.cash[:, 0].tolist() == [4.0, 0.0]
    assert path.external_assets[:, 0].tolist() == [10.0, 4.0]
    assert path.payments[:, 0].tolist() == [6.0, 4.0]
    assert path.default_year == (2027, None)
    assert path.cash[:, 1].tolist() == [6.0, 10.0]                   # B keeps what it receives


def test_linear_amortization_and_interest_on_the_outstanding_principal():
    net = _net({"debtor": ["A"], "creditor": ["B"], "amount": [0.0], "principal": [90.0], "rate": [0.1],
                "maturity": [2028], "amortization": ["linear"]}, {"id": ["A", "B"], "external_assets": [100.0, 0]})
    path = clear_path(net, (2026, 2029))
    # 2026: 9 + 30; 2027: 6 + 30; 2028: 3 + 30; 2029: nothing left
    assert path.payments[:, 0].tolist() == pytest.approx([39.0, 36.0, 33.0, 0.0], abs=1e-12)
    assert path.called_principal.tolist() == pytest.approx([30.0, 30.0, 30.0, 0.0], abs=1e-12)


def test_dated_shocks_apply_in_their_years():
    net = _net({"debtor": ["A"], "creditor": ["B"], "amount": [6.0]}, {"id": ["A", "B"], "external_assets": [10.0, 0]})
    hit = Scenario("slowdown", "", [Shock("external_assets", target="A", relative=0.5, years=[2027, 2028]),
                                    Shock("external_assets", target="A", absolute=1)])
    path = clear_path(net, (2026, 2028), [hit])
    # in the scenario's order: 2026: 10 - 1 = 9, pays 6, keeps 3; 2027: 10 x 0.5 - 1 = 4, + 3 = 7, pays 6,
    # keeps 1; 2028: 4 + 1 = 5 against 6: defaults
    assert path.external_assets[:, 0].tolist() == [9.0, 7.0, 5.0]
    assert path.default_year == (2028, None)
    with pytest.raises(ScenarioError, match="outside the horizon"):
        clear_path(net, (2026, 2028), [Scenario("late", "", [Shock("default", target="A", year=2031)])])


# ---------------------------------------------------------------------- Banerjee, Bernstein & Feinstein
def _greatest_exact(L, x, ext):
    """The greatest Eisenberg--Noe clearing vector in exact rationals, by enumerating the default sets: for
    each set D solve p_D = x_D + (Pi^T p)_D with p_N = pbar_N, keep the solutions that are clearing vectors,
    and take the greatest (they are ordered; Eisenberg & Noe 2001, Theorem 1)."""
    n = len(x)
    Lq = [[Q(v) for v in row] for row in L]
    pbar = [sum(Lq[i]) + Q(ext[i]) for i in range(n)]
    Pi = [[Lq[i][j] / pbar[i] for j in range(n)] for i in range(n)]
    found = []
    for mask in product([False, True], repeat=n):
        D = [i for i in range(n) if mask[i]]
        # unknowns p_D: p_i - sum_{j in D} Pi[j][i] p_j = x_i + sum_{j not in D} Pi[j][i] pbar_j
        A = [[(Q(1) if a == b else Q(0)) - Pi[b][a] for b in D] for a in D]
        rhs = [Q(x[a]) + sum(Pi[j][a] * pbar[j] for j in range(n) if j not in D) for a in D]
        sol = _gauss(A, rhs)
        if sol is None:
            continue
        p = list(pbar)
        for a, v in zip(D, sol):
            p[a] = v
        assets = [Q(x[i]) + sum(Pi[j][i] * p[j] for j in range(n)) for i in range(n)]
        if all(p[i] == min(pbar[i], max(Q(0), assets[i])) for i in range(n)):
            found.append(p)
    return max(found, key=lambda p: sum(p))


def _gauss(A, b):
    n = len(b)
    M = [row[:] + [b[i]] for i, row in enumerate(A)]
    for c in range(n):
        piv = next((r for r in range(c, n) if M[r][c] != 0), None)
        if piv is None:
            return None
        M[c], M[piv] = M[piv], M[c]
        for r in range(n):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * bb for a, bb in zip(M[r], M[c])]
    return [M[i][n] / M[i][i] for i in range(n)]


def test_banerjee_bernstein_feinstein_static_example_in_exact_rationals():
    """The static example of Banerjee, Bernstein & Feinstein's dynamic clearing code (arXiv 1801.02091):
    4 banks, x = (1, 3, 2, 5), L = [[0,7,1,1],[3,0,3,3],[1,1,0,1],[1,2,1,0]], each bank also owes 3 to society;
    cleared as one period. The expected vector is derived here in exact rationals."""
    L = [[0, 7, 1, 1], [3, 0, 3, 3], [1, 1, 0, 1], [1, 2, 1, 0]]
    x = [1, 3, 2, 5]
    ext = [3, 3, 3, 3]
    exact = _greatest_exact(L, x, ext)
    assert exact == [Q(192, 37), Q(332, 37), Q(210, 37), Q(7)]    # banks 1-3 short of 12, 12 and 6; bank 4 pays 7
    net = contagion.FinancialNetwork.from_matrix(np.array(L, float), external_assets=x, external_liabilities=ext)
    path = clear_path(net, (2026, 2026))
    np.testing.assert_allclose(path.payments[0], [float(v) for v in exact], rtol=0, atol=1e-12)
    pbar = [sum(row) + 3 for row in L]
    assert path.defaulted[0].tolist() == [v < b for v, b in zip(exact, pbar)]


# ---------------------------------------------------------------------- properties
@pytest.mark.parametrize("seed", range(12))
def test_conservation_and_absorbing_defaults_on_random_dated_paths(seed):
    """Each year: outside money in = outside payments + cash carried (Eisenberg--Noe has no default costs);
    network payments made = received. Defaults never end."""
    rng = np.random.default_rng(seed)
    n, m = 8, 20
    d, c = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = d != c
    d, c = d[keep], c[keep]
    m = d.size
    debt = rng.random(m) < 0.5
    edges = pd.DataFrame({
        "debtor": [f"n{i}" for i in d], "creditor": [f"n{i}" for i in c], "amount": rng.uniform(0, 5, m),
        "principal": np.where(debt, rng.uniform(5, 30, m), np.nan), "rate": np.where(debt, 0.08, np.nan),
        "maturity": np.where(debt, rng.integers(2026, 2031, m), np.nan),
        "rollover": np.where(debt & (rng.random(m) < 0.5), "always", None),
        "start": np.where(~debt & (rng.random(m) < 0.3), 2027, np.nan)})
    nodes = pd.DataFrame({"id": [f"n{i}" for i in range(n)], "external_assets": rng.uniform(0, 15, n),
                          "external_liabilities": rng.uniform(0, 3, n)})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)
    path = clear_path(net, (2026, 2030))
    for k in range(len(path.years)):
        res = path.clearings[k]
        p, pbar = res.payments, res.network.total_obligations
        frac = np.divide(p, pbar, out=np.ones_like(p), where=pbar > 0)
        outside_paid = res.network.external_liabilities * frac
        received = res.network.PiT @ p
        assert received.sum() == pytest.approx((p - outside_paid).sum(), rel=1e-12, abs=1e-9)
        assert path.external_assets[k].sum() == pytest.approx(outside_paid.sum() + path.cash[k].sum(), rel=1e-12,
                                                              abs=1e-9)
        if k:
            assert not (path.defaulted[k - 1] & ~path.defaulted[k]).any()
    dy = path.default_year
    for i in range(n):
        assert dy[i] is None or path.defaulted[path.years.index(dy[i]):, i].all()


def test_a_one_year_path_is_monotone_in_outside_assets():
    for seed in range(20):
        L, e, ext, forced, rec = random_case(seed)
        net = _make(L, e, ext, forced, rec)
        more = net.replace(external_assets=net.external_assets * 1.5 + 1.0)
        a, b = clear_path(net, (2026, 2026)), clear_path(more, (2026, 2026))
        assert not (b.defaulted[0] & ~a.defaulted[0]).any()
        assert (b.payments[0] >= a.payments[0] - 1e-9).all()


# ---------------------------------------------------------------------- files and errors
def _write(folder: Path, edges: str, nodes: str = "id,external_assets\nA,20\nB,0\n", **extra: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "edges.csv").write_text(edges)
    (folder / "nodes.csv").write_text(nodes)
    for name, text in extra.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


@pytest.mark.parametrize("edges, column, value", [
    ("debtor,creditor,amount,principal,maturity\nA,B,1,100,2028.5\n", "maturity", "2028.5"),
    ("debtor,creditor,amount,principal,maturity\nA,B,1,-5,2028\n", "principal", "-5"),
    ("debtor,creditor,amount,principal,maturity,rollover\nA,B,1,100,2028,sometimes\n", "rollover", "sometimes"),
    ("debtor,creditor,amount,principal,maturity,amortization\nA,B,1,100,2028,balloon\n", "amortization", "balloon"),
    ("debtor,creditor,amount,principal\nA,B,1,100\n", "maturity", None),
    ("debtor,creditor,amount,principal,maturity,rollover\nA,B,1,100,2028,ltv\n", "max_ltv", None),
    ("debtor,creditor,amount,start,end\nA,B,1,2029,2027\n", "end", None),
    ("debtor,creditor,amount,principal,maturity,rate\nA,B,1,100,2028,abc\n", "rate", "abc"),
    ("debtor,creditor,amount,principal,maturity,end\nA,B,1,100,2028,2026\n", "end", "end 2026 on a debt row"),
])
def test_bad_dated_values_are_located(tmp_path, edges, column, value):
    net = contagion.read_network(_write(tmp_path / "net", edges))
    with pytest.raises(InvalidNetworkError) as info:
        clear_path(net, (2026, 2028))
    problem = info.value.problems[0]
    assert problem.row == 2 and problem.column == column and str(problem.file).endswith("edges.csv")
    if value is not None:
        assert value in str(problem)


@pytest.mark.parametrize("table, text, column", [
    ("collateral", "id,value,year,economic_life\ngpu,abc,2026,3\n", "value"),
    ("collateral", "id,value,year,economic_life\ngpu,100,2026,0\n", "economic_life"),
    ("collateral", "id,value,year,economic_life\ngpu,100,2026.5,3\n", "year"),
    ("cashflows", "id,year,external_assets\nZ,2026,5\n", "id"),
    ("cashflows", "id,year,external_assets\nA,2026,-5\n", "external_assets"),
    ("cashflows", "id,year,external_assets\nA,2026,5\nA,2026,6\n", "year"),
])
def test_bad_table_values_are_located(tmp_path, table, text, column):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,maturity,rollover,max_ltv,collateral\n"
                                      "A,B,1,100,2028,ltv,0.8,gpu\n", **{table: text})
    if table == "cashflows":
        (folder / "collateral.csv").write_text("id,value,year,economic_life\ngpu,100,2026,3\n")
    net = contagion.read_network(folder)
    with pytest.raises(InvalidNetworkError) as info:
        clear_path(net, (2026, 2028))
    problem = info.value.problems[-1]
    assert problem.column == column and str(problem.file).endswith(f"{table}.csv") and problem.row >= 2


@pytest.mark.parametrize("table, text, column, meant", [
    ("cashflows", "id,year,external_asset,external_liabilities\nA,2027,0,5\n", "external_asset", "external_assets"),
    ("cashflows", "id,year,External_Liabilities\nA,2027,5\n", "External_Liabilities", "external_liabilities"),
    ("collateral", "id,value,year,economic_life,Asset\ngpu,100,2026,3,gpu\n", "Asset", "asset"),
    ("collateral", "id,value,year,economic_lif\ngpu,100,2026,3\n", "economic_lif", "economic_life"),
])
def test_a_table_column_named_nearly_right_is_an_error(tmp_path, table, text, column, meant):
    """Read as it was, a misspelt money column of cashflows.csv left that year's amounts at the node table's (A
    paid 10 of 10 in 2027 instead of defaulting on 15), and a misspelt ``asset`` left the collateral's value
    unmoved by fire sales; now the header is located and names the column meant (a missing required column
    is not reported as well)."""
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,maturity,rollover,max_ltv,collateral\n"
                                      "A,B,1,100,2028,ltv,0.8,gpu\n", **{table: text})
    if table == "cashflows":
        (folder / "collateral.csv").write_text("id,value,year,economic_life\ngpu,100,2026,3\n")
    with pytest.raises(InvalidNetworkError) as info:
        clear_path(contagion.read_network(folder), (2026, 2028))
    assert [(Path(str(p.file)).name, p.row, p.column) for p in info.value.problems] == [(f"{table}.csv", 1, column)]
    assert f"known column '{meant}'" in str(info.value)


def test_a_cashflows_file_without_money_columns_is_an_error(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,start,end\nA,B,10,2026,2027\n",
                    cashflows="id,year,revenue\nA,2027,5\n")
    with pytest.raises(InvalidNetworkError, match="neither an external_assets nor an external_liabilities") as info:
        clear_path(contagion.read_network(folder), (2026, 2027))
    assert info.value.problems[0].row == 1


def test_problems_of_both_tables_are_listed_together(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,maturity,rollover,max_ltv,collateral\n"
                                      "A,B,1,100,2028,ltv,0.8,gpu\n",
                    collateral="id,value,year,economic_life\ngpu,abc,2026,3\n",
                    cashflows="id,year,external_assets\nZ,2026,5\n")
    with pytest.raises(InvalidNetworkError) as info:
        clear_path(contagion.read_network(folder), (2026, 2028))
    assert [(Path(str(p.file)).name, p.row, p.column) for p in info.value.problems] == [
        ("collateral.csv", 2, "value"), ("cashflows.csv", 2, "id")]
    out = _cli("validate", str(folder))
    assert out.exit_code == 1 and "collateral.csv, row 2" in out.stdout and "cashflows.csv, row 2" in out.stdout


def test_unknown_collateral_id_is_located(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,maturity,rollover,max_ltv,collateral\n"
                                      "A,B,1,100,2028,ltv,0.8,tpu\n",
                    collateral="id,value,year,economic_life\ngpu,100,2026,3\n")
    with pytest.raises(InvalidNetworkError, match="collateral 'tpu' is not in collateral.csv") as info:
        clear_path(contagion.read_network(folder), (2026, 2028))
    assert info.value.problems[0].row == 2


# ---------------------------------------------------------------------- term_years, values without a principal
_ROLLS = "debtor,creditor,amount,principal,rate,maturity,rollover,term_years\nA,B,5,100,0.05,2026,always,{term}\n"


@pytest.mark.parametrize("term", ["0", "0.5", "1.2", "2.5", "-2"])
def test_a_rolled_term_that_is_not_a_whole_number_of_years_is_located(tmp_path, term):
    """term_years on a row that rolls is the term a rolled principal is re-lent for: a whole number of years >= 1
    (blank = 1). 0, 0.5, 1.2 used to become 1 and 2.5 became 2, silently."""
    net = contagion.read_network(_write(tmp_path / "net", _ROLLS.format(term=term)))
    with pytest.raises(InvalidNetworkError) as info:
        clear_path(net, (2026, 2028))
    [problem] = info.value.problems
    assert (Path(str(problem.file)).name, problem.row, problem.column) == ("edges.csv", 2, "term_years")
    assert f"must be a whole number of years >= 1 (the term a rolled principal is re-lent for), got {term}" \
        in str(problem)


def test_a_whole_term_rolls_for_that_many_years_and_a_blank_one_for_one(tmp_path):
    two = clear_path(contagion.read_network(_write(tmp_path / "two", _ROLLS.format(term="2"))), (2026, 2029))
    one = clear_path(contagion.read_network(_write(tmp_path / "one", _ROLLS.format(term=""))), (2026, 2029))
    assert two.rolled_principal.tolist() == [100.0, 0.0, 100.0, 0.0]
    assert one.rolled_principal.tolist() == [100.0, 100.0, 100.0, 100.0]


def test_term_years_of_a_row_that_does_not_roll_is_kept_as_it_is(tmp_path):
    """On a row that does not roll (a lease, a bond held to maturity) term_years describes the contract (the
    built-in data's 3.5-year compute contracts): kept, not checked as a rollover term."""
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,rate,maturity,term_years\n"
                                      "A,B,5,,,,3.5\nB,A,1,10,0.1,2027,5.5\n")
    net = contagion.read_network(folder)
    assert net.edges["term_years"].tolist() == [3.5, 5.5]
    clear_path(net, (2026, 2027))


@pytest.mark.parametrize("columns, cells, column, message", [
    ("rate", "0.05", "rate", "rate 0.05 without a principal (only a debt row has one)"),
    ("amortization", "linear", "amortization", "amortization 'linear' without a principal (only a debt row is "
                                               "repaid)"),
    ("max_ltv,rollover", "0.8,always", "max_ltv", "max_ltv 0.8 without a principal (only a debt row has one)"),
    ("maturity", "2027", "maturity", "maturity 2027 without a principal (only a debt row has one)"),
])
def test_a_dated_value_without_a_principal_is_located(tmp_path, columns, cells, column, message):
    """A rate, a linear amortization or a max_ltv on a row without a principal describes nothing that falls
    due: an error where it is, as a maturity without a principal already was (they were ignored)."""
    folder = _write(tmp_path / "net", f"debtor,creditor,amount,principal,{columns}\nA,B,1,,"
                                      f"{','.join('' for _ in cells.split(','))}\nB,A,5,,{cells}\n")
    net = contagion.read_network(folder)
    with pytest.raises(InvalidNetworkError) as info:
        contagion.paths.schedule_of(net)
    problem = next(p for p in info.value.problems if p.column == column)
    assert (str(problem.file), problem.row) == (str(folder / "edges.csv"), 3)
    assert problem.message == message


def test_max_ltv_on_a_debt_row_that_does_not_roll_by_ltv_is_located(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,rate,maturity,rollover,max_ltv\n"
                                      "A,B,5,100,0.05,2027,none,0.8\n")
    with pytest.raises(InvalidNetworkError) as info:
        contagion.paths.schedule_of(contagion.read_network(folder))
    assert [str(p) for p in info.value.problems] == [
        f"{folder / 'edges.csv'}, row 2, column 'max_ltv': max_ltv 0.8 applies only to rollover 'ltv' (this row's "
        "rollover is none)"]


# ---------------------------------------------------------------------- collateral.csv / cashflows.csv as CSV
_LTV = "debtor,creditor,amount,principal,rate,maturity,rollover,max_ltv,collateral\nA,B,5,100,0.05,2027,ltv,0.8,gpu\n"


@pytest.mark.parametrize("table, text, expected", [
    # a blank line is a row of the file: the rows after it keep their numbers
    ("collateral", "id,value,year,economic_life\ngpu,200,2026,3\n\nold,-1,2026,3\n",
     ["{file}, row 3: empty row (delete it)", "{file}, row 4, column 'value': must be a finite number >= 0, got '-1'"]),
    ("collateral", "id,value,year,economic_life,value\ngpu,200,2026,3,50\n",
     ["{file}, row 1, column 'value': duplicate column (columns 2 and 5) (value: 'value')"]),
    ("collateral", "id,value,year,economic_life\ngpu,200,2026,3,9\n",
     ["{file}, row 2: row has 5 cells but the header has 4 (value: 'gpu,200,2026,3,9')"]),
    ("collateral", "id,value,year,economic_life\ngpu,200,2026\n",
     ["{file}, row 2: row has 3 cells but the header has 4 (value: 'gpu,200,2026')"]),
    ("cashflows", "id,year,external_assets\nA,2026,5\n\nB,2027,-3\n",
     ["{file}, row 3: empty row (delete it)",
      "{file}, row 4, column 'external_assets': must be a finite number >= 0, got '-3'"]),
    ("cashflows", "id,year,external_assets,year\nA,2026,5,2027\n",
     ["{file}, row 1, column 'year': duplicate column (columns 2 and 4) (value: 'year')"]),
    ("cashflows", "id,year,external_assets\nA,2026,5,7\n",
     ["{file}, row 2: row has 4 cells but the header has 3 (value: 'A,2026,5,7')"]),
])
def test_the_tables_beside_a_network_are_read_by_the_network_csv_rules(tmp_path, table, text, expected):
    """collateral.csv and cashflows.csv are read as nodes.csv and edges.csv are: rows as in the file, a
    duplicate column or a row of more or fewer cells than the header is an error (pandas skipped blank lines,
    kept the first of two columns and shifted extra cells)."""
    folder = _write(tmp_path / "net", _LTV, **{table: text})
    if table == "cashflows":
        (folder / "collateral.csv").write_text("id,value,year,economic_life\ngpu,200,2026,3\n")
    file = folder / f"{table}.csv"
    with pytest.raises(InvalidNetworkError) as info:
        clear_path(contagion.read_network(folder), (2026, 2028))
    assert [str(p) for p in info.value.problems] == [e.format(file=file) for e in expected]
    out = _cli("validate", str(folder))
    assert out.exit_code == 1 and out.stdout.splitlines() == [e.format(file=file) for e in expected]


def test_a_header_only_collateral_file_is_not_called_missing(tmp_path):
    folder = _write(tmp_path / "net", _LTV, collateral="id,value,year,economic_life\n")
    with pytest.raises(InvalidNetworkError) as info:
        clear_path(contagion.read_network(folder), (2026, 2028))
    assert [str(p) for p in info.value.problems] == [
        f"{folder / 'edges.csv'}, row 2, column 'collateral': collateral 'gpu' is not in collateral.csv "
        f"({folder / 'collateral.csv'} has no rows)"]


@pytest.mark.parametrize("name", ["collateral.csv", "cashflows.csv"])
def test_a_directory_where_a_table_file_is_expected_is_an_error(tmp_path, name):
    folder = _write(tmp_path / "net", "debtor,creditor,amount\nA,B,5\n")
    (folder / name).mkdir()
    with pytest.raises(InvalidNetworkError) as info:
        clear_path(contagion.read_network(folder), (2026, 2028))
    assert [str(p) for p in info.value.problems] == [f"{folder / name}: is a directory, not a CSV file"]
    out = _cli("run", str(folder), "--baseline")
    assert out.exit_code == 1 and f"{folder / name}: is a directory, not a CSV file" in out.stderr


# ---------------------------------------------------------------------- debt rows without an amount (DESIGN §7)
_DEBT = "debtor,creditor,amount,principal,rate,maturity\nA,B,{amount},100,0.05,2028\nB,A,3,,,\n"


def test_a_debt_row_may_leave_amount_blank(tmp_path):
    """DESIGN §7: "amount may be blank" on a debt row. The path is the one the schedule gives (the same as with
    any amount written in); one-year results count a year's interest, 5, and the reader says so, naming the file."""
    blank = _write(tmp_path / "blank", _DEBT.format(amount=""))
    given = _write(tmp_path / "given", _DEBT.format(amount="999"))
    with pytest.warns(InterestAmountWarning, match=r"edges\.csv: 1 debt row without an amount"):
        net = contagion.read_network(blank)
    assert net.edges["amount"].tolist() == [5.0, 3.0]
    assert net.metadata["amounts_from_interest"] == 1
    assert net.liabilities.toarray().tolist() == [[0.0, 5.0], [3.0, 0.0]]
    a, b = clear_path(net, (2026, 2029)), clear_path(contagion.read_network(given), (2026, 2029))
    np.testing.assert_array_equal(a.payments, b.payments)
    np.testing.assert_array_equal(a.obligations, b.obligations)
    assert a.default_year == b.default_year == (2028, None)
    assert a.obligations[:3, 0].tolist() == [5.0, 5.0, 105.0]       # interest, interest, interest + principal
    # written out, the amount is a number and the count is not stored as if it were data
    again = contagion.read_network(contagion.write_network(net, tmp_path / "again.json"))
    assert again.edges["amount"].tolist() == [5.0, 3.0] and "amounts_from_interest" not in again.metadata


def test_a_debt_table_without_an_amount_column(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,principal,rate,maturity,amortization\n"
                                      "A,B,100,0.05,2028,\nB,A,40,,2027,linear\n", "id,external_assets\nA,20\nB,30\n")
    with pytest.warns(InterestAmountWarning, match="2 debt rows"):
        net = contagion.read_network(folder)
    assert net.edges["amount"].tolist() == [5.0, 0.0]                 # no rate: no interest
    path = clear_path(net, (2026, 2027))
    assert path.obligations[:, 1].tolist() == [20.0, 20.0]           # linear: 40 over 2026-2027


@pytest.mark.parametrize("edges, row, column, text", [
    ("debtor,creditor,amount,principal,rate,maturity\nA,B,,,,\n", 2, "amount", "value is missing"),
    ("debtor,creditor,amount,principal,rate,maturity\nA,B,,abc,0.05,2028\n", 2, "principal", "'abc'"),
    ("debtor,creditor,amount,principal,rate,maturity\nA,B,1,100,0.05,2028\nB,A,,100,-1,2028\n", 3, "rate", "-1"),
    ("debtor,creditor,principal,rate,maturity\nA,B,100,0.05,2028\nB,A,,,\n", 3, "amount", "value is missing"),
])
def test_blank_amounts_that_cannot_be_filled_are_located(tmp_path, edges, row, column, text):
    with pytest.raises(InvalidNetworkError) as info:
        contagion.read_network(_write(tmp_path / "net", edges))
    problem = info.value.problems[0]
    assert (problem.row, problem.column) == (row, column) and text in str(problem)
    assert str(problem.file).endswith("edges.csv") and len(info.value.problems) == 1


def test_blank_debt_amounts_in_parquet_json_and_networkx(tmp_path):
    import networkx as nx

    pytest.importorskip("pyarrow")
    folder = tmp_path / "net.parquet"
    folder.mkdir()
    pd.DataFrame({"id": ["A", "B"], "external_assets": [20.0, 0.0]}).to_parquet(folder / "nodes.parquet")
    pd.DataFrame({"debtor": ["A", "B"], "creditor": ["B", "A"], "amount": [None, 3.0], "principal": [100.0, None],
                  "rate": [0.05, None], "maturity": [2028, None]}).to_parquet(folder / "edges.parquet")
    (tmp_path / "net.json").write_text(json.dumps({
        "nodes": [{"id": "A", "external_assets": 20}, {"id": "B"}],
        "edges": [{"debtor": "A", "creditor": "B", "principal": 100, "rate": 0.05, "maturity": 2028},
                  {"debtor": "B", "creditor": "A", "amount": 3}]}))
    for path, file in ((folder, "edges.parquet"), (tmp_path / "net.json", "net.json")):
        with pytest.warns(InterestAmountWarning, match=rf"{file}: 1 debt row without an amount"):
            net = contagion.read_network(path)
        assert net.edges["amount"].tolist() == [5.0, 3.0], path
        assert clear_path(net, (2026, 2028)).obligations[:, 0].tolist() == [5.0, 5.0, 105.0]
    G = nx.MultiDiGraph()
    G.add_edge("A", "B", principal=100.0, rate=0.05, maturity=2028)
    with pytest.warns(InterestAmountWarning):
        assert from_networkx(G).edges["amount"].tolist() == [5.0]


def test_cli_runs_a_debt_row_without_an_amount(tmp_path):
    folder = _write(tmp_path / "net", _DEBT.format(amount=""))
    out = _cli("run", str(folder), "-f", "csv")
    assert out.exit_code == 0, out.output
    assert "warning: " in out.stderr and "1 debt row without an amount" in out.stderr
    assert out.stdout.splitlines()[1].startswith("A,A,institution,5.0,5.0,0.0,")
    path = _cli("run", str(folder), "--horizon", "2026:2028", "-f", "json")
    assert path.exit_code == 0
    assert {r["name"]: r["default_year"] for r in json.loads(path.stdout)["institutions"]} == {"A": 2028, "B": None}


@pytest.mark.parametrize("horizon", [(2030, 2026), (2026.5, 2027), ("a", "b"), (2026,), (1, 500)])
def test_bad_horizons(horizon):
    with pytest.raises(ContagionError):
        clear_path(contagion.load_dataset("chain"), horizon)


# ---------------------------------------------------------------------- CLI
def _cli(*args):
    from contagion.cli import cli

    return CliRunner().invoke(cli, list(args))


def test_cli_horizon_json_follows_design(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,rate,maturity\nA,B,5,100,0.05,2028\n")
    out = _cli("run", str(folder), "--horizon", "2026:2029", "-f", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["horizon"] == [2026, 2029]
    assert [y["year"] for y in data["years"]] == [2026, 2027, 2028, 2029]
    one_year = json.loads(_cli("run", str(folder), "-f", "json").stdout)
    assert set(data["years"][0]["summary"]) >= set(one_year["summary"])
    assert list(data["years"][0]["institutions"][0]) == list(one_year["institutions"][0])
    assert {r["name"]: r["default_year"] for r in data["institutions"]} == {"A": 2028, "B": None}


def test_cli_horizon_of_one_year_keeps_the_least_clearing_vector_and_its_note():
    """`ring` has more than one clearing vector: a one-year run adds payment_least and says so on stderr; so does
    --horizon Y:Y (it dropped both)."""
    one = _cli("run", "ring", "-f", "json")
    path = _cli("run", "ring", "--horizon", "2027:2027", "-f", "json")
    records = json.loads(one.stdout)["institutions"]
    assert [r["payment_least"] for r in json.loads(path.stdout)["years"][0]["institutions"]] == \
        [r["payment_least"] for r in records]
    assert {r["payment_least"] for r in records} != {r["payment"] for r in records}
    assert "note: the clearing vector is not unique; the greatest one is shown (the least: payment_least)" \
        in one.stderr
    assert "note: the clearing vector is not unique in 2027; the greatest one is shown (the least: payment_least)" \
        in path.stderr


def test_cli_path_shock_is_what_the_scenario_took_whatever_cash_was_carried_in():
    """The one-year default scenario takes 20 of OpenAI's outside assets every year of a path: the summary read 0
    in 2027, the carried cash hiding it (it compared the year's assets after the scenario, cash included, with
    those before it, cash not included)."""
    data = json.loads(_cli("run", "--horizon", "2026:2030", "-s", "openai-revenue-shortfall", "-f", "json").stdout)
    assert [y["summary"]["shock"] for y in data["years"]] == [20.0] * 5
    for y in data["years"]:
        s = y["summary"]
        assert s["system_loss"] == pytest.approx(s["shock"] + s["total_shortfall"], rel=1e-12)


def test_cli_horizon_year_summary_has_the_one_year_keys_with_guarantees():
    """DESIGN §7: each year's summary has the keys of a one-year run's, in its order -- on the built-in network
    these include the guarantee totals (the residual-value guarantee starts in 2030)."""
    one_year = json.loads(_cli("run", "ai-infrastructure", "-f", "json").stdout)["summary"]
    data = json.loads(_cli("run", "ai-infrastructure", "--horizon", "2029:2030", "-f", "json").stdout)
    assert "guarantees_called" in one_year
    for year in data["years"]:
        keys = list(year["summary"])
        assert [k for k in keys if k in one_year] == list(one_year)
    assert [y["summary"]["guarantees"] for y in data["years"]] == [0.0, 27.3]


# ---------------------------------------------------------------------- guarantees over the years
def _received(path, name):
    """What ``name`` received each year (its equity after clearing less its outside assets, for one that owes
    nothing)."""
    k = path.names.index(name)
    return (path.equity[:, k] - path.external_assets[:, k]).round(9).tolist()


def test_a_guarantee_pays_in_the_debtors_stead_and_its_cap_is_for_the_whole_path():
    """S owes B 8 a year and has nothing; G guarantees it up to 10. S defaults in 2026 and the rest of its debt
    (8 x 3 more years) falls due then: 32, of which G pays min(10, 32) = 10. From 2027 S owes B 32 - 10 = 22
    (what the guarantor paid is paid in S's stead) and the guarantee is used up: B never recovers more than it
    is owed, and G pays 10 in all, not 10 a year."""
    net = _net({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [8.0, 10.0],
                "kind": ["loan", "guarantee"], "covers": [None, "e1"]},
               {"id": ["S", "G", "B"], "external_assets": [0.0, 100.0, 0.0]})
    path = clear_path(net, (2026, 2029))
    assert path.obligations[:, 0].tolist() == [32.0, 22.0, 22.0, 22.0]
    assert path.payments[:, 1].tolist() == [10.0, 0.0, 0.0, 0.0]
    assert _received(path, "B") == [10.0, 0.0, 0.0, 0.0]
    assert path.guarantees_given.tolist() == [10.0, 0.0, 0.0, 0.0]
    assert path.default_year == (2026, None, None)


def test_a_guarantee_covers_what_a_debtor_leaves_unpaid_at_maturity_once():
    """S (4 a year) owes B a bullet of 10 due 2027, G guarantees it up to 10: S pays 8 in 2027, G the missing 2,
    and nothing is owed afterwards (before, S's estate paid B 2 more in 2028: 12 on a claim of 10)."""
    net = _net({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [None, 10.0],
                "kind": ["loan", "guarantee"], "covers": [None, "e1"], "principal": [10.0, None],
                "rate": [0.0, None], "maturity": [2027, None]},
               {"id": ["S", "G", "B"], "external_assets": [4.0, 12.0, 0.0]})
    path = clear_path(net, (2026, 2029))
    assert path.payments.tolist() == [[0.0, 0.0, 0.0], [8.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert sum(_received(path, "B")) == 10.0
    assert path.guarantees_given.tolist() == [10.0, 10.0, 8.0, 8.0]


def test_a_defaulted_guarantors_estate_still_answers_for_its_guarantee():
    """G (5 a year) defaults in 2026 on 20 owed to C; its guarantee of S's bullet (10, due 2028; S has 2 a year)
    stays in force, is not accelerated, and is called in 2028 for what S cannot pay: S pays 6 of 10, G owes
    min(10, 4) = 4 beside the 10 still owed to C, and pays its 5 pro rata: 5 x 4/14 to B, 5 x 10/14 to C. In
    2029 S owes B 4 - 10/7 = 18/7 and pays 2; the guarantee is called for the rest, 4/7 (cap left 10 - 10/7).
    Before, G's guarantee was accelerated into 2026, when nothing was unpaid, and never called."""
    net = _net({"edge_id": ["e1", "g1", "e2"], "debtor": ["S", "G", "G"], "creditor": ["B", "B", "C"],
                "amount": [None, 10.0, 20.0], "kind": ["loan", "guarantee", "loan"], "covers": [None, "e1", None],
                "principal": [10.0, None, None], "rate": [0.0, None, None], "maturity": [2028, None, None],
                "start": [None, None, 2026], "end": [None, None, 2026]},
               {"id": ["S", "G", "B", "C"], "external_assets": [2.0, 5.0, 0.0, 0.0]})
    path = clear_path(net, (2026, 2029))
    assert path.default_year == (2028, 2026, None, None)
    np.testing.assert_allclose(path.obligations[:, 1], [20.0, 15.0, 14.0, 7.0], rtol=1e-12)
    # 2029: S's 18/7 less the 2 it pays leaves 4/7 for the guarantee; G owes C 10 - 25/7 beside it (7 in all)
    np.testing.assert_allclose(_received(path, "B"), [0.0, 0.0, 6.0 + 5 * 4 / 14, 2.0 + 5 * (4 / 7) / 7], rtol=1e-9)
    np.testing.assert_allclose(path.obligations[3, 0], 4 - 10 / 7, rtol=1e-12)
    np.testing.assert_allclose(path.guarantees_given, [10.0, 10.0, 10.0, 10 - 10 / 7], rtol=1e-12)


def test_a_shock_setting_an_amount_does_not_make_a_row_due_before_its_start():
    """A residual value guarantee callable from 2028 (start), set to its cap by an undated scenario (as the
    built-in hyperion-tenant-exit does): due in 2028, not from the first year of the path."""
    net = _net({"edge_id": ["r1"], "debtor": ["G"], "creditor": ["B"], "amount": [0.0],
                "kind": ["residual_value_guarantee"], "residual_value": [50.0], "asset_value": [47.0],
                "start": [2028]},
               {"id": ["G", "B"], "external_assets": [100.0, 0.0]})
    exit_ = Scenario("exit", "", [Shock("edges", select={"edge_id": "r1"}, value=5.0)])
    path = clear_path(net, (2026, 2029), [exit_])
    assert path.payments[:, 0].tolist() == [0.0, 0.0, 3.0, 0.0]
    ai = clear_path(contagion.load_dataset("ai-infrastructure"), (2029, 2030), ["hyperion-tenant-exit"])
    assert [round(float(y), 2) for y in ai.guarantees_given] == [0.0, 27.3]


def test_secured_debt_on_a_path_is_secured_up_to_what_falls_due_and_its_collateral_is_used_once():
    """A (20 a year) owes B a bullet of 100 at 5% due 2027 secured by 80, and C 10 a year. 2026: 5 + 10 paid
    (the path failed here: 'collateral_value 80 is above the obligation (5)'). 2027: 105 + 10 due with 25 in
    hand: A defaults (C's 2028 amount accelerated) and B, secured for 80, takes all 25. 2028: the estate's 20
    goes to B too (80 - 25 = 55 of collateral left); C gets nothing."""
    net = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [100.0, 10.0], "principal": [100.0, None],
                "rate": [0.05, None], "maturity": [2027, None], "collateral_value": [80.0, None]},
               {"id": ["A", "B", "C"], "external_assets": [20.0, 0.0, 0.0]})
    path = clear_path(net, (2026, 2028))
    assert path.payments[:, 0].tolist() == [15.0, 25.0, 20.0]
    assert path.obligations[:, 0].tolist() == [15.0, 125.0, 100.0]
    assert (path.equity - path.external_assets)[:, 1:].tolist() == [[5.0, 10.0], [25.0, 0.0], [20.0, 0.0]]
    # collateral used up: A (20 a year) owes B 100 due 2026 secured by 30, and C 100 in 2026. 2026: B takes
    # all 20 (secured). 2027: 10 of collateral left: B takes 10 first, the other 10 is shared by B's unsecured
    # 70 and C's 100. 2028: nothing secured is left, the 20 is shared by what each is still owed
    net = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [100.0, 100.0], "principal": [100.0, None],
                "rate": [0.0, None], "maturity": [2026, None], "collateral_value": [30.0, None],
                "start": [None, 2026], "end": [None, 2026]},
               {"id": ["A", "B", "C"], "external_assets": [20.0, 0.0, 0.0]})
    path = clear_path(net, (2026, 2028))
    got = (path.equity - path.external_assets)[:, 1:]                  # what B and C received each year
    b27 = 10 + 10 * 70 / 170
    np.testing.assert_allclose(got, [[20.0, 0.0], [b27, 10 * 100 / 170],
                                     [20 * (80 - b27) / 160, 20 * (100 - 10 * 100 / 170) / 160]], rtol=1e-12)


def test_a_guarantee_of_a_guarantee_pays_on_the_guarantors_behalf_once():
    """D owes C 10 in 2026 only; G1 (5 a year) guarantees it, G2 (100) guarantees G1's guarantee. 2026: G1 pays
    5, G2 the other 5. Then nothing is owed: G2 paid on G1's behalf, so that counts against G1's cap and D's
    debt (C was called for 5 more in 2027 and collected 15 on a claim of 10)."""
    net = _net({"edge_id": ["L", "G1", "G2"], "debtor": ["D", "G1", "G2"], "creditor": ["C", "C", "C"],
                "amount": [10.0, 10.0, 10.0], "kind": ["loan", "guarantee", "guarantee"], "covers": [None, "L", "G1"],
                "start": [2026, None, None], "end": [2026, None, None]},
               {"id": ["D", "G1", "G2", "C"], "external_assets": [0.0, 5.0, 100.0, 0.0]})
    path = clear_path(net, (2026, 2027))
    assert path.payments.tolist() == [[0.0, 5.0, 5.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    assert path.guarantees_given.tolist() == [20.0, 5.0]          # G1's cap used up (10), G2's 5 of 10 left


def test_secured_debt_with_a_blank_amount_on_a_path():
    """DESIGN §7 lets a debt row leave amount blank: its one-year amount is then the year's interest (5), below
    the collateral of 80, and the path stopped with 'collateral_value 80 is above the obligation (5)'."""
    rows = {"debtor": ["A", "A"], "creditor": ["B", "C"], "principal": [100.0, None], "rate": [0.05, None],
            "maturity": [2027, None], "collateral_value": [80.0, None]}
    nodes = {"id": ["A", "B", "C"], "external_assets": [20.0, 0.0, 0.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterestAmountWarning)
        blank = _net({**rows, "amount": [None, 10.0]}, nodes)
    given = _net({**rows, "amount": [100.0, 10.0]}, nodes)
    for net in (blank, given):
        assert clear_path(net, (2026, 2028)).payments[:, 0].tolist() == [15.0, 25.0, 20.0]


def test_a_residual_value_guarantee_pays_once_over_the_path():
    """min(cap 5, K - V = 50 - 47) = 3, paid in the first year and not again."""
    net = _net({"edge_id": ["r1"], "debtor": ["G"], "creditor": ["B"], "amount": [5.0],
                "kind": ["residual_value_guarantee"], "residual_value": [50.0], "asset_value": [47.0]},
               {"id": ["G", "B"], "external_assets": [100.0, 0.0]})
    path = clear_path(net, (2026, 2028))
    assert path.payments[:, 0].tolist() == [3.0, 0.0, 0.0]
    assert path.guarantees_given.tolist() == [5.0, 2.0, 2.0]


def test_cli_path_summary_counts_the_guarantees_after_the_scenario(tmp_path):
    """A scenario that halves a guarantee's cap: the path's summary says 5 given, 5 called, as a one-year run
    does (it read the caps before the scenario: 10)."""
    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "nodes.csv").write_text("id,external_assets\nS,4\nG,12\nB,0\n")
    (folder / "edges.csv").write_text("edge_id,debtor,creditor,amount,kind,covers\ne1,S,B,20,loan,\n"
                                      "g1,G,B,10,guarantee,e1\n")
    (tmp_path / "half.toml").write_text('name = "half"\n[[shocks]]\nkind = "edges"\nselect = { edge_id = "g1" }\n'
                                        "factor = 0.5\n")
    args = ["run", str(folder), "-s", str(tmp_path / "half.toml"), "-f", "json"]
    one = json.loads(_cli(*args).stdout)["summary"]
    path = json.loads(_cli(*args, "--horizon", "2026:2027").stdout)["years"]
    assert (one["guarantees"], one["guarantees_called"]) == (5.0, 5.0)
    assert [(y["summary"]["guarantees"], y["summary"]["guarantees_called"]) for y in path] == [(5.0, 5.0), (0.0, 0.0)]


def test_a_horizon_far_from_the_dated_data_is_warned_about_and_still_cleared():
    """`--horizon 5` (five years, mistyped) on data dated 2028: a HorizonWarning naming the data's years; a
    horizon near the data (before the maturity, or after it) and an undated network are not warned about."""
    from contagion.paths import HorizonWarning

    net = _bullet()
    with pytest.warns(HorizonWarning, match=r"the horizon 5:5 is 2,023 years before the network's dated data, "
                                            r"which runs from 2028 to 2028 \(maturities\).*e\.g\. 2028:2028"):
        far = clear_path(net, (5, 5))
    assert far.payments[0, 0] == 5.0                      # computed all the same: interest, the loan not yet due
    with pytest.warns(HorizonWarning, match="2,101 years after"):
        clear_path(net, (4129, 4129))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clear_path(net, (2026, 2027))                      # before the maturity: a normal question
        clear_path(net, (2031, 2032))                      # after it: the principal is overdue
        clear_path(_make(*random_case(3)), (5, 5))         # nothing dated: every year is the same


def test_a_path_applies_the_datasets_default_path_scenario_within_the_horizon(tmp_path):
    """Without --scenario a path applies the dataset's ``default_path_scenario`` (the one-year default's shocks
    carry no year and would hit every year); its shocks outside the horizon are left out with a warning (a
    scenario the user names is held to its years: an error)."""
    out = _cli("run", "ai-infrastructure", "--horizon", "2026:2030", "-f", "json")
    assert "applying the default scenario 'openai-slowdown-2027' of ai-infrastructure over the path" in out.stderr
    data = json.loads(out.stdout)
    assert [s["name"] for s in data["scenarios"]] == ["openai-slowdown-2027"] and data["default_scenario_applied"] is True
    named = json.loads(_cli("run", "ai-infrastructure", "--horizon", "2026:2030", "-s", "openai-slowdown-2027",
                            "-f", "json").stdout)
    assert data["years"] == named["years"] and data["institutions"] == named["institutions"]
    # nothing in 2026 (the shocks start in 2027, where OpenAI's revenue falls 6.82 short of plan, its cancellable
    # obligations shrinking too); OpenAI defaults in 2028 (as `run -s` says)
    shock = [y["summary"]["shock"] for y in data["years"]]
    assert shock[0] == 0.0 and shock[1] > 6.82263
    assert {r["name"]: r["default_year"] for r in data["institutions"]}["OpenAI"] == 2028
    # 2029:2030: the 2027 and 2028 shocks are left out, the rest is the scenario cut to those years
    short = _cli("run", "ai-infrastructure", "--horizon", "2029:2030", "-f", "json")
    assert ("warning: the default path scenario 'openai-slowdown-2027' has shocks in 2027, 2028, outside the "
            "horizon 2029:2030: they are left out") in short.stderr
    text = (contagion.datasets.scenarios_path("ai-infrastructure") / "openai-slowdown-2027.toml").read_text()
    blocks = text.split("[[shocks]]")
    cut = tmp_path / "cut.toml"
    cut.write_text(blocks[0] + "".join("[[shocks]]" + b for b in blocks[1:] if "year = 2027" not in b
                                       and "year = 2028" not in b))
    mine = json.loads(_cli("run", "ai-infrastructure", "--horizon", "2029:2030", "-s", str(cut), "-f", "json").stdout)
    assert json.loads(short.stdout)["years"] == mine["years"]
    with pytest.raises(contagion.errors.ScenarioError, match="year 2027 is outside the horizon 2029:2030"):
        contagion.clear_path(contagion.load_dataset("ai-infrastructure"), (2029, 2030), ["openai-slowdown-2027"])
    # a dataset without a default path scenario applies its one-year default every year
    cp = contagion.clear_path(contagion.load_dataset("core-periphery"), (2026, 2027), None)
    assert [s.name for s in cp.scenarios] == ["core-shock"] and cp.default_applied


def test_cli_warns_about_a_horizon_of_five():
    out = _cli("run", "ai-infrastructure", "--horizon", "5", "-f", "json")
    assert out.exit_code == 0, out.output
    assert ("warning: the horizon 5:5 is 2,020 years before the network's dated data, which runs from 2025 to "
            "2049") in out.stderr
    assert json.loads(out.stdout)["horizon"] == [5, 5]
    assert "warning: the horizon" not in _cli("run", "ai-infrastructure", "--horizon", "2026:2030", "-f",
                                              "json").stderr


def test_cli_horizon_table_and_csv(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,rate,maturity\nA,B,5,100,0.05,2028\n")
    out = _cli("run", str(folder), "--horizon", "2026:2028")
    assert out.exit_code == 0, out.output
    assert "institutions that default" in out.stdout and "2028" in out.stdout
    csv = _cli("run", str(folder), "--horizon", "2026:2028", "-f", "csv").stdout.splitlines()
    assert csv[0].startswith("year,id,name,type,obligations,payment") and len(csv) == 1 + 3 * 2


@pytest.mark.parametrize("value", ["2030:2026", "20x6:2030", "2026-2030", ":"])
def test_cli_bad_horizon_is_a_usage_error(value):
    out = _cli("run", "chain", "--horizon", value)
    assert out.exit_code == 2 and "--horizon" in out.output


def test_cli_bad_dated_file_exits_1_with_the_location(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,maturity\nA,B,1,100,soon\n")
    out = _cli("run", str(folder), "--horizon", "2026:2028")
    assert out.exit_code == 1
    assert "edges.csv, row 2, column 'maturity'" in out.stderr and "Traceback" not in out.output


# ---------------------------------------------------------------------- demand slowdown
def test_demand_slowdown_path_and_contract_mapping():
    """Plan 10 -> 20 -> 40 (100% growth); cut 0.5 from 2027, persistent: 15, 22.5. Recovering over 2 years:
    2027 growth 50%, 2028 growth 100% - 25% = 75%: 15, 26.25."""
    from contagion.paths import demand_slowdown, slowdown_path

    assert slowdown_path({2026: 10, 2027: 20, 2028: 40}, 2027, 0.5) == {2026: 10.0, 2027: 15.0, 2028: 22.5}
    assert slowdown_path({2026: 10, 2027: 20, 2028: 40}, 2027, 0.5, recovery=2)[2028] == 26.25
    # the lab earns its plan (outside assets = revenue) and owes a take-or-pay 14 and a cancellable 6 a year
    net = _net({"debtor": ["lab", "lab"], "creditor": ["cloud", "neo"], "amount": [14.0, 6.0],
                "contingent": [False, True]},
               {"id": ["lab", "cloud", "neo"], "external_assets": [20.0, 0.0, 0.0]})
    flows = contagion.paths.Cashflows({2028: (np.array([40.0, np.nan, np.nan]), np.array([np.nan] * 3))})
    sc = demand_slowdown("lab", {2026: 10, 2027: 20, 2028: 40}, start=2027, cut=0.5)
    path = clear_path(net, (2027, 2028), [sc], cashflows=flows)
    # 2027: 20 - 5 = 15 in hand; owes 14 + 6 x 0.75 = 18.5 -> defaults, pays 15 pro rata
    assert path.external_assets[0, 0] == 15.0
    assert path.obligations[0, 0] == pytest.approx(14.0 + 4.5 + 14.0 + 6.0 * 0.5625)   # 2028 accelerated
    assert path.default_year[0] == 2027
    # without the slowdown it pays 20 a year from 20
    assert clear_path(net, (2027, 2028), cashflows=flows).default_year == (None, None, None)
    with pytest.raises(ScenarioError, match="consecutive years"):
        demand_slowdown("lab", {2026: 10, 2028: 40}, start=2028, cut=0.5)


def test_a_linear_loans_instalments_are_paid_and_ltv_judges_what_is_left_at_maturity():
    """A linear loan of 90 (30 a year to 2028): its instalments are repaid whatever the collateral (DESIGN §7: a
    principal is re-lent at maturity); in 2028 the lender weighs the 30 still outstanding against the collateral
    that year: worth 50 (100 over 100 years from 2026, halved) it rolls, worth 20 it is called. A pays 9, 6, 3 of
    interest with its instalments."""
    net = _net({"debtor": ["A"], "creditor": ["B"], "amount": [0.0], "principal": [90.0], "rate": [0.1],
                "maturity": [2028], "amortization": ["linear"], "rollover": ["ltv"], "max_ltv": [1.0],
                "collateral": ["c"]}, {"id": ["A", "B"], "external_assets": [100.0, 0]})
    for value, rolled in ((50.0, 30.0), (20.0, 0.0)):
        coll = contagion.paths.CollateralTable({"c": ((2026, value, 1000.0),)})
        path = clear_path(net, (2026, 2028), collateral=coll)
        assert path.rolled_principal.tolist() == [0.0, 0.0, rolled]
        assert path.called_principal.tolist() == [30.0, 30.0, 30.0 - rolled]
        np.testing.assert_allclose(path.payments[:, 0], [39.0, 36.0, 3.0 + 30.0 - rolled], rtol=1e-12)


# ---------------------------------------------------------------------- fire sales on a path (issue 19, item 1)
def _nv_recurring(cash_n: float = 4.0) -> contagion.FinancialNetwork:
    """The issue's N/V network, owed again every year: N (cash c, 10 units) owes 10 to F and 1 outside, V (cash 3,
    8 units) owes 9.8 to B; each year brings the same cash."""
    return _net({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [10.0, 9.8]},
                {"id": ["N", "F", "V", "B"], "external_assets": [cash_n, 0, 3, 0],
                 "external_liabilities": [1.0, 0, 0, 0], "asset_units": [10.0, 0, 8, 0]})


def test_fire_sale_path_carries_units_and_the_price_by_hand():
    """Impact 0.01, 2026-2027.

    2026 is the one-year example: both must sell, N 7 / q1 units and V 6.8 / q1, at q1 = exp(-0.138 / q1) =
    0.850168 (the greatest root, brentq below); both pay in full and keep no cash (N: 4 + 7 - 11 = 0, V: 3 + 6.8 -
    9.8 = 0). Units sold are gone: N starts 2027 with 10 - 7 / q1 = 1.766 units, V with 8 - 6.8 / q1 = 0.0016,
    and the price starts at q1. In 2027 N needs 7 again but holds 1.766 units worth at most 1.50, and V needs 6.8
    with 0.0016 units: both default and sell everything. All 18 units have now been sold, so the price is
    q1 x exp(-0.01 (18 - 13.8 / q1)) = exp(-0.18) exactly (q1 = exp(-0.138 / q1)): the price remembers every sale
    (no recovery). N pays 4 + 1.766 exp(-0.18) = 5.4754, V 3 + 0.0016 exp(-0.18) = 3.0013.

    A one-year view of 2027 (fresh holdings at price 1) sees both pay in full: what 2026 sold is what fails them.
    """
    from scipy.optimize import brentq

    q1 = brentq(lambda q: np.exp(-0.138 / q) - q, 0.85, 1.0, xtol=1e-15)
    q2 = np.exp(-0.18)
    net = _nv_recurring()
    path = clear_path(net, (2026, 2027), method="fire-sale", impact=0.01)
    assert path.asset_names == ("asset",)
    np.testing.assert_allclose(path.prices["asset"], [q1, q2], rtol=1e-13)
    left = [10 - 7 / q1, 0, 8 - 6.8 / q1, 0]
    # (units to 1e-12: the price settles to 1e-13, and 8 - 6.8 / q1 cancels 3 digits)
    np.testing.assert_allclose(path.units_held[:, :, 0], [[10, 0, 8, 0], left], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(path.units_sold[:, :, 0], [[7 / q1, 0, 6.8 / q1, 0], left], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(path.payments, [[11, 0, 9.8, 0], [4 + left[0] * q2, 0, 3 + left[2] * q2, 0]],
                               rtol=1e-12)
    np.testing.assert_allclose(path.cash[0], [0, 10, 0, 9.8], atol=1e-12)
    assert path.default_year == (2027, None, 2027, None)
    assert contagion.clear(net, method="fire-sale", impact=0.01).defaulted.tolist() == [False] * 4
    # the long table and the summary carry them
    frame = path.to_frame()
    assert frame.loc[(2027, "N"), "units_held"] == pytest.approx(left[0], rel=1e-12)
    assert frame.loc[(2027, "V"), "price_asset"] == pytest.approx(q2, rel=1e-13)
    assert path.summary()[1]["prices"] == {"asset": pytest.approx(q2, rel=1e-13)}
    # one year of the path is the one-year fire-sale clearing
    one = clear_path(net, (2026, 2026), method="fire-sale", impact=0.01)
    np.testing.assert_array_equal(one.payments[0], contagion.clear(net, method="fire-sale", impact=0.01).payments)


def _gpu_vehicle(linked: bool = True) -> tuple[contagion.FinancialNetwork, contagion.paths.CollateralTable]:
    """N (no cash, 10 GPU units) owes 11 to F in 2026 (a bullet loan at 0%); V (cash 3 a year, 8 units) has a
    bullet loan of 42 at 5% from B due 2027, rolled when its fleet (worth 100 in 2026, 10-year life) x 0.5
    covers it. V has no exposure to N."""
    net = _net({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [11.0, 2.1], "principal": [11.0, 42.0],
                "rate": [0.0, 0.05], "maturity": [2026, 2027], "rollover": ["none", "ltv"], "max_ltv": [None, 0.5],
                "collateral": [None, "fleet"]},
               {"id": ["N", "F", "V", "B"], "external_assets": [0.0, 0, 3, 0], "asset_units": [10.0, 0, 8, 0]})
    coll = contagion.paths.CollateralTable({"fleet": ((2026, 100.0, 10.0),)},
                                           assets={"fleet": "asset"} if linked else {})
    return net, coll


def test_collateral_follows_the_price_by_hand():
    """Impact 0.01. 2026: N needs 11 from 10 units and sells them all at any price: q1 = exp(-0.1) = 0.904837,
    it pays 10 q1 = 9.048 and defaults. V pays its interest 2.1 from its cash 3, sells nothing, carries 0.9.

    2027: B decides on V's 42 on the state at the start of the year: the fleet's straight-line value 90 follows
    the GPU price, 90 x q1 = 81.44, and 0.5 x 81.44 = 40.72 < 42: the loan is called. V owes 42 + 2.1 = 44.1 with
    3 + 0.9 in cash and 8 units: it defaults, sells all 8, the price falls to exp(-0.18) and V pays 3.9 + 8
    exp(-0.18) = 10.5822. Without the link (or with impact 0) the fleet is worth 90 x 0.5 = 45 >= 42, the loan
    rolls and V pays 2.1 again: it fails only through the price of the GPUs N sold.
    """
    q1, q2 = np.exp(-0.1), np.exp(-0.18)
    net, coll = _gpu_vehicle()
    path = clear_path(net, (2026, 2027), method="fire-sale", impact=0.01, collateral=coll)
    np.testing.assert_allclose(path.prices["asset"], [q1, q2], rtol=1e-14)
    assert path.default_year == (2026, None, 2027, None)
    assert path.rolled_principal.tolist() == [0.0, 0.0] and path.called_principal.tolist() == [11.0, 42.0]
    np.testing.assert_allclose(path.payments, [[10 * q1, 0, 2.1, 0], [0, 0, 3.9 + 8 * q2, 0]], rtol=1e-14)
    np.testing.assert_allclose(path.units_held[:, :, 0], [[10, 0, 8, 0], [0, 0, 8, 0]])
    assert path.cash[0, 2] == pytest.approx(0.9, abs=1e-12)
    for other in (clear_path(net, (2026, 2027), method="fire-sale", impact=0.01, collateral=_gpu_vehicle(False)[1]),
                  clear_path(net, (2026, 2027), method="fire-sale", impact=0.0, collateral=coll)):
        assert other.default_year[2] is None and other.rolled_principal.tolist() == [0.0, 42.0]
        np.testing.assert_allclose(other.payments[1, 2], 2.1)
    # on a method that sells nothing the price never moves: linked or not, the loan rolls
    assert clear_path(net, (2026, 2027), collateral=coll).rolled_principal.tolist() == [0.0, 42.0]


@pytest.mark.parametrize("seed", range(0, 90, 6))
def test_impact_zero_is_the_plain_path_with_holdings_as_first_year_cash(seed):
    """With impact 0 no sale moves a price: a unit is cash at 1. The fire-sale path equals the Eisenberg--Noe path
    of the same network whose 2026 outside assets include the units, year by year (payments, equity, defaults;
    cash + units kept = the plain path's cash), acceleration and carried remainders included."""
    base = _make(*random_case(seed))
    rng = np.random.default_rng(seed)
    units = np.where(rng.random(base.n) < 0.6, rng.uniform(0, 5, base.n), 0.0)
    nodes = base.nodes.copy()
    nodes["asset_units"] = units
    net = contagion.FinancialNetwork.from_edges(base.edges, nodes)
    fire = clear_path(net, (2026, 2028), method="fire-sale", impact=0.0)
    flows = contagion.paths.Cashflows({2026: (net.external_assets + units, np.full(net.n, np.nan))})
    plain = clear_path(net, (2026, 2028), cashflows=flows)
    assert fire.default_year == plain.default_year
    scale = max(1.0, float(net.total_obligations.max()))
    for key in ("payments", "equity", "shortfall", "obligations"):
        np.testing.assert_allclose(getattr(fire, key), getattr(plain, key), rtol=0, atol=1e-12 * scale)
    kept = fire.units_held[:, :, 0] - fire.units_sold[:, :, 0]
    np.testing.assert_allclose(fire.cash + kept, plain.cash, rtol=0, atol=1e-12 * scale)
    assert np.all(fire.prices["asset"] == 1.0)


def test_collateral_asset_errors_are_located(tmp_path):
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,maturity,rollover,max_ltv,collateral\n"
                                      "A,B,1,100,2028,ltv,0.8,gpu\n",
                    collateral="id,value,year,economic_life,asset\ngpu,100,2026,3,tpu\n")
    nodes = folder / "nodes.csv"
    nodes.write_text("id,external_assets,asset_units_gpu\nA,20,5\nB,0,\n")
    with pytest.raises(InvalidNetworkError, match="follows asset 'tpu', which no institution holds") as info:
        clear_path(contagion.read_network(folder), (2026, 2028), method="fire-sale")
    p = info.value.problems[0]
    assert (str(p.file).endswith("collateral.csv"), p.row, p.column) == (True, 2, "asset")
    assert "assets: gpu" in str(p)
    # a column for the asset with nothing in it: nobody holds it either (its price would stay 1 whatever is sold)
    nodes.write_text("id,external_assets,asset_units_gpu,asset_units_tpu\nA,20,5,\nB,0,,0\n")
    with pytest.raises(InvalidNetworkError, match="follows asset 'tpu', which no institution holds"):
        clear_path(contagion.read_network(folder), (2026, 2028), method="fire-sale")
    nodes.write_text("id,external_assets,asset_units_gpu\nA,20,5\nB,0,\n")
    from contagion.cli import cli

    out = CliRunner().invoke(cli, ["run", str(folder), "--horizon", "2026:2028", "-m", "fire-sale"])
    assert out.exit_code == 1 and "collateral.csv, row 2, column 'asset'" in out.stderr
    (folder / "collateral.csv").write_text("id,value,year,economic_life,asset\ngpu,100,2026,3,gpu\n"
                                          "gpu,50,2027,3,asset\n")
    with pytest.raises(InvalidNetworkError, match="one collateral follows one asset") as info:
        clear_path(contagion.read_network(folder), (2026, 2028))
    assert (info.value.problems[0].row, info.value.problems[0].column) == (3, "asset")
    (folder / "collateral.csv").write_text("id,value,year,economic_life,asset\ngpu,100,2026,3,gpu\n")
    assert clear_path(contagion.read_network(folder), (2026, 2028), method="fire-sale").asset_names == ("gpu",)
    out = CliRunner().invoke(cli, ["run", str(folder), "--horizon", "2026:2028"])
    assert out.exit_code == 0, out.output


def test_cli_fire_sale_path_outputs(tmp_path):
    """run --horizon -m fire-sale: the price per year in the table, the CSV and the JSON; units in the records."""
    import io

    from contagion.cli import cli

    net, _ = _gpu_vehicle()
    d = tmp_path / "gpu"
    contagion.write_network(net, d)
    (d / "collateral.csv").write_text("id,value,year,economic_life,asset\nfleet,100,2026,10,asset\n")
    args = ["run", str(d), "--horizon", "2026:2027", "-m", "fire-sale", "--impact", "0.01"]
    doc = json.loads(CliRunner().invoke(cli, [*args, "-f", "json"]).stdout)
    assert doc["prices"]["asset"] == pytest.approx([np.exp(-0.1), np.exp(-0.18)], rel=1e-14)
    assert doc["years"][1]["summary"]["prices"]["asset"] == pytest.approx(np.exp(-0.18), rel=1e-14)
    v = doc["years"][1]["institutions"][2]
    assert (v["name"], v["units_held"], v["units_sold"], v["defaulted"]) == ("V", 8.0, 8.0, True)
    csv = pd.read_csv(io.StringIO(CliRunner().invoke(cli, [*args, "-f", "csv"]).stdout))
    assert list(csv.columns[-4:]) == ["units_held", "units_sold", "asset_value", "price_asset"]
    assert csv["price_asset"].tolist() == pytest.approx([np.exp(-0.1)] * 4 + [np.exp(-0.18)] * 4, rel=1e-14)
    table = CliRunner().invoke(cli, [*args, "--format", "table"]).stdout
    assert "price of asset" in table and "0.9048" in table and "0.8353" in table


# ---------------------------------------------------------------- acceleration, amortisation, the year's records
def _path_json(folder: Path, horizon: str, *extra: str) -> dict:
    out = _cli("run", str(folder), "--horizon", horizon, "-f", "json", *extra)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_an_institution_short_only_of_its_own_accelerated_debts_is_not_in_default(tmp_path):
    """B (10 in 2026) owes X 10 in 2026 and A 2 a year; A (1 a year) owes C 3 a year. Without acceleration B pays
    10 of 12 and A, getting 5/3, is short. With B's later debts accelerated (A is owed 2 + 6 over 2026-2029), B's
    10 goes 10/18 to X and 8/18 to A: A has 1 + 40/9 >= 3 and pays; it is short only if its own later debts are
    accelerated too, which its default would cause, not be caused by. A pays 3 from 2026 on and falls short in
    2028, with the cash it carried used up (1 + 40/9 - 3, then 1 more a year)."""
    folder = _write(tmp_path / "acc", "debtor,creditor,amount,start,end\nB,X,10,2026,2026\nB,A,2,2026,2030\n"
                    "A,C,3,2026,2030\n", "id,external_assets\nA,1\nB,0\nC,0\nX,0\n",
                    cashflows="id,year,external_assets\nB,2026,10\n")
    data = _path_json(folder, "2026:2029")
    assert {r["name"]: r["default_year"] for r in data["institutions"]} == {"A": 2028, "B": 2026, "C": None,
                                                                            "X": None}
    first = {r["id"]: r for r in data["years"][0]["institutions"]}
    assert (first["A"]["payment"], first["A"]["defaulted"]) == (3.0, False)
    assert first["X"]["equity"] == pytest.approx(100 / 18, rel=1e-12)
    path = contagion.clear_path(contagion.read_network(folder), (2026, 2029))
    assert path.cash[:, 0] == pytest.approx([1 + 40 / 9 - 3, 1 + 40 / 9 - 5, 0.0, 0.0], rel=1e-12, abs=1e-12)
    assert path.default_year == (2028, 2026, None, None)


def test_a_linear_loan_rolls_only_its_last_instalment_at_maturity(tmp_path):
    """300 at 10%, linear to 2028, rollover always: 100 is repaid in 2026 and 2027 with interest 30 and 20, and
    only the 100 left at maturity is re-lent (DESIGN §7: at maturity); before, every instalment rolled."""
    folder = _write(tmp_path / "lin", "debtor,creditor,amount,principal,rate,maturity,amortization,rollover\n"
                    "A,B,,300,0.1,2028,linear,always\n", "id,external_assets\nA,1000\nB,0\n")
    path = contagion.clear_path(contagion.read_network(folder), (2026, 2028))
    assert path.called_principal.tolist() == [100.0, 100.0, 0.0]
    assert path.rolled_principal.tolist() == [0.0, 0.0, 100.0]
    np.testing.assert_allclose(path.payments[:, 0], [130.0, 120.0, 10.0], rtol=1e-12)


def test_a_loan_that_has_not_started_is_not_accelerated(tmp_path):
    """A (10 a year) owes C 50 now and will borrow 100 from B in 2028: defaulting in 2026, it owes B nothing (a
    loan not yet made is not lent to a borrower in default); C gets A's 10 every year, B nothing."""
    folder = _write(tmp_path / "start", "debtor,creditor,amount,principal,rate,maturity,start\nA,C,,50,0,2026,\n"
                    "A,B,,100,0.1,2029,2028\n", "id,external_assets\nA,10\nB,0\nC,0\n")
    path = contagion.clear_path(contagion.read_network(folder), (2026, 2029))
    names = list(path.names)
    assert path.cash[:, names.index("C")].tolist() == [10.0, 20.0, 30.0, 40.0]
    assert path.cash[:, names.index("B")].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert path.obligations[0, names.index("A")] == 50.0


def test_a_years_pre_shock_equity_counts_the_cash_carried_in(tmp_path):
    """A (15 a year) owes B 10 a year; a shock takes 11 of A's 2027 money. B enters 2027 with 10 of cash and a claim
    of 10: 20 before the shock, 19 after (A pays 9): capital depletion 0.05 (the pre-shock equity read 10, the
    depletion 0). Without a scenario, the pre-shock equity equals the equity if all pay, every year."""
    folder = _write(tmp_path / "y2", "debtor,creditor,amount\nA,B,10\n", "id,external_assets\nA,15\nB,0\n")
    (folder / "s27.toml").write_text('name = "s27"\n[[shocks]]\nkind = "external_assets"\ntarget = "A"\n'
                                     'absolute = 11\nyear = 2027\n')
    data = _path_json(folder, "2026:2028", "-s", str(folder / "s27.toml"))
    b = {r["id"]: r for r in data["years"][1]["institutions"]}["B"]
    assert (b["equity_pre_shock"], b["equity"], b["capital_depletion"]) == (20.0, 19.0, 0.05)
    assert data["years"][1]["summary"]["shock"] == 11.0
    plain = _write(tmp_path / "cf", "debtor,creditor,amount\nA,B,10\n",
                   "id,external_assets,external_liabilities\nA,15,1\nB,2,0\n",
                   cashflows="id,year,external_assets,external_liabilities\nA,2027,50,\nB,2027,,3\nA,2028,,20\n")
    for year in _path_json(plain, "2026:2028", "--baseline")["years"]:
        for r in year["institutions"]:
            assert r["equity_pre_shock"] == r["equity_if_all_pay"], (year["year"], r)


def test_path_totals_do_not_add_carried_amounts_twice(tmp_path):
    """The README's loan (100 at 5% due 2028, 20 a year): 5 + 5 + 105 fell due, 80 was paid, 35 is unpaid at the
    end (the years' shortfalls, owed again each next year, summed to 90 of 170)."""
    folder = _write(tmp_path / "net", "debtor,creditor,amount,principal,rate,maturity\nA,B,,100,0.05,2028\n")
    a = _path_json(folder, "2026:2029")["institutions"][0]
    assert (a["name"], a["obligations"], a["payment"], a["shortfall"]) == ("A", 115.0, 80.0, 35.0)


def test_a_years_summary_counts_that_years_waves():
    """A (0) owes B 10 in 2026; B (5) owes C 10 a year: A is wave 0, B wave 1 in 2026; later years add nobody."""
    net = _net({"debtor": ["A", "B"], "creditor": ["B", "C"], "amount": [10.0, 10.0], "start": [2026, 2026],
                "end": [2026, 2028]}, {"id": ["A", "B", "C"], "external_assets": [0.0, 5.0, 0.0]})
    folder = contagion.write_network(net, Path(tempfile.mkdtemp()) / "wv")
    years = _path_json(folder, "2026:2028")["years"]
    assert [(y["summary"]["fundamental_defaults"], y["summary"]["waves"]) for y in years] == [(1, 1), (0, -1), (0, -1)]


def test_a_shock_too_large_for_one_year_says_which(tmp_path):
    folder = _write(tmp_path / "abs", "debtor,creditor,amount\nA,B,1\n", "id,external_assets\nA,20\nB,0\n",
                    cashflows="id,year,external_assets\nA,2027,5\n")
    (folder / "s.toml").write_text('name = "s"\n[[shocks]]\nkind = "external_assets"\ntarget = "A"\nabsolute = 11\n')
    out = _cli("run", str(folder), "--horizon", "2026:2028", "-s", str(folder / "s.toml"))
    assert out.exit_code == 1
    assert "in 2027, " in out.output and "loss 11 is larger than the external assets of A (5)" in out.output


def test_a_guarantors_uncalled_cap_is_not_a_due_that_keeps_it_in_default():
    """X (5) owes C 10 now and A a loan of 10 due 2027; A owes D 2 now and 10 in 2028, and guarantees Y's 1 to
    Z (cap 5; Y, with 10, pays: nothing is called). X defaults; with its loan accelerated A gets 5 x 10 / 20 and pays
    its 2: solvent, as without the guarantee (its cap of 5 was read as a due: A stayed in default, shortfall 24.5)."""
    edges = ("edge_id,debtor,creditor,amount,kind,covers,start,end,principal,rate,maturity\n"
             "x1,X,C,10,contract,,2026,2026,,,\nx2,X,A,,loan,,,,10,0,2027\na1,A,D,2,contract,,2026,2026,,,\n"
             "a2,A,D,,loan,,,,10,0,2028\ny1,Y,Z,1,contract,,2026,2026,,,\n")
    nodes = "id,external_assets\nX,5\nA,0\nC,0\nD,0\nY,10\nZ,0\n"
    with_g = _write(Path(tempfile.mkdtemp()) / "g", edges + "g1,A,Z,5,guarantee,y1,,,,,\n", nodes)
    without = _write(Path(tempfile.mkdtemp()) / "n", edges, nodes)
    for folder in (with_g, without):
        year = _path_json(folder, "2026:2026")["years"][0]
        assert {r["id"]: r["defaulted"] for r in year["institutions"]}["A"] is False
        assert year["summary"]["total_shortfall"] == 15.0


@pytest.mark.parametrize("factor, owed_2026, to_b", [(0.0, 20.0, 0.0), (0.5, 72.5, 5 * 52.5 / 72.5)])
def test_a_shock_on_a_loan_applies_to_its_accelerated_principal(factor, owed_2026, to_b):
    """A holds 5 a year, owes C 10 a year and B a loan of 100 at 5% (maturity 2030); the scenario scales A -> B
    by ``factor``. Cancelled (0): in 2026 A owes C 10, defaults, and C's 2027 amount is accelerated: 20 due, A
    pays its 5 to C, and 5 again in 2027 of the 15 left; B is owed nothing, ever. The principal used to be
    accelerated whole, so the cancelled loan came back with the default (A owing 120, B paid 4.17). Halved: the
    interest 2.5 and the principal 50 fall due with C's 20: 72.5, of which B gets 52.5/72.5 of A's 5."""
    net = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [5.0, 10.0], "principal": [100.0, None],
                "rate": [0.05, None], "maturity": [2030, None]},
               {"id": ["A", "B", "C"], "external_assets": [5.0, 0.0, 0.0]})
    scen = Scenario("cut", "", [Shock("edges", debtor="A", creditor="B", factor=factor)])
    path = clear_path(net, (2026, 2027), [scen])
    assert path.obligations[0, 0] == pytest.approx(owed_2026, rel=1e-15)
    assert path.payments[:, 0].tolist() == [5.0, 5.0]
    received_b = [res.received[1] for res in path.clearings]
    assert received_b[0] == pytest.approx(to_b, rel=1e-14)
    if factor == 0.0:
        assert path.obligations[:, 0].tolist() == [20.0, 15.0] and received_b == [0.0, 0.0]


def test_a_shock_that_sets_a_loans_amount_owes_nothing_before_it_is_lent_or_after_it_is_repaid():
    """A (200 a year) owes B a loan of 100 at 5% due in 2026 and one of 50 lent in 2028, due then; the scenario
    sets every row of A to 10. A owes 10 in 2026 (the first loan's year) and 2028 (the second's), and nothing in
    2027 and 2029: before its start a loan is not owed and once repaid it is gone (it owed 10 every year)."""
    net = _net({"debtor": ["A", "A"], "creditor": ["B", "B"], "amount": [5.0, 0.0], "principal": [100.0, 50.0],
                "rate": [0.05, 0.0], "maturity": [2026, 2028], "start": [None, 2028]},
               {"id": ["A", "B"], "external_assets": [200.0, 0.0]})
    scen = Scenario("set", "", [Shock("edges", debtor="A", value=10.0)])
    path = clear_path(net, (2026, 2029), [scen])
    assert path.obligations[:, 0].tolist() == [10.0, 0.0, 10.0, 0.0]


def test_a_payment_holiday_does_not_cancel_the_principal_accelerated_that_year():
    """The same network, A's payment to B waived in 2026 only (``factor = 0``, ``year = 2026``): A still owes C 10,
    defaults, and the loan's principal 100 is accelerated in full beside C's 20 (a dated shock changes one year's
    payment, not the debt): 120 due, A's 5 shared 100/120 to B and 20/120 to C."""
    net = _net({"debtor": ["A", "A"], "creditor": ["B", "C"], "amount": [5.0, 10.0], "principal": [100.0, None],
                "rate": [0.05, None], "maturity": [2030, None]},
               {"id": ["A", "B", "C"], "external_assets": [5.0, 0.0, 0.0]})
    scen = Scenario("holiday", "", [Shock("edges", debtor="A", creditor="B", factor=0.0, year=2026)])
    path = clear_path(net, (2026, 2027), [scen])
    assert path.obligations[0, 0] == 120.0
    assert path.clearings[0].received[1:].tolist() == pytest.approx([5 * 100 / 120, 5 * 20 / 120], rel=1e-14)


def test_top_and_defaulted_only_are_refused_on_a_path():
    """They select rows of a one-year table; on a path they were silently ignored (every year, every row)."""
    for extra in (["--top", "1"], ["--defaulted-only"]):
        out = _cli("run", "chain", "--horizon", "2026:2027", *extra)
        assert out.exit_code == 2 and "with --horizon the output is by year" in out.output


def test_a_horizon_before_every_year_with_cash_flows_is_warned_about():
    """The built-in network's dated data names 2025-2049 and its cash flows start in 2026: 2020:2021 cleared the
    node table's amounts every year without a word (the warning was for horizons 100+ years off). A horizon
    inside the data's years is not warned about."""
    from contagion.paths import HorizonWarning

    net = contagion.load_dataset("ai-infrastructure")
    with pytest.warns(HorizonWarning, match=r"the horizon 2020:2021 lies before every year the network's dated "
                                            r"data names \(2025 to 2049: .*cashflows.csv\)"):
        clear_path(net, (2020, 2021), [])
    with warnings.catch_warnings():
        warnings.simplefilter("error", HorizonWarning)
        clear_path(net, (2026, 2027), [])
