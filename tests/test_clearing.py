"""Tests of :mod:`contagion.clearing`: published examples, hand-checked cases, the
contract of every registered method, and cross-checks of the fast solver against
slow obviously-correct references (``tests/reference.py``: an LP, a dense
fictitious-default algorithm, exact rational arithmetic, brute-force enumeration).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import contagion
from contagion import ConvergenceError, ContagionError, FinancialNetwork
from contagion._matrix import numba_available
from contagion.clearing import core
from contagion.clearing.solvers import SOLVERS, Tuning, _checked, clear_batch, clear_exact

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference as ref  # noqa: E402



def _import_all_modules():
    """Import every module of the package, so that methods registered anywhere
    (``register_method``) are in ``CLEARING_METHODS`` when the contract tests are
    parametrised. The CLI and ``__main__`` are skipped; a module that fails to
    import is left to its own tests."""
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(contagion.__path__, "contagion."):
        if info.name.endswith("__main__") or info.name.startswith("contagion.cli"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - reported by that module's own tests
            pass


_import_all_modules()

FRAME_COLUMNS = ["id", "type", "obligations", "payment", "shortfall", "equity_pre_shock", "equity_if_all_pay",
                 "equity", "capital_depletion", "defaulted", "default_round"]
EXACT_METHODS = ("eisenberg-noe", "rogers-veraart")


#: Every path a clearing can take, as ``solver=`` (one of ``SOLVERS``) plus the tuning that reaches a
#: branch small networks would not: "reference-iterative" sends every block above 6 rows to the Krylov
#: solvers and the monotone iteration (as blocks beyond 4,000 rows are), "compiled-krylov" solves every
#: default set by BiCGSTAB instead of LU (as sets beyond 100 members are).
PATHS = {
    "reference": ("reference", Tuning()),
    "reference-iterative": ("reference", Tuning(direct_limit=6, lu_fallback_limit=0)),
    "compiled": ("compiled", Tuning()),
    "compiled-krylov": ("compiled", Tuning(lu_limit=0)),
}
assert {solver for solver, _ in PATHS.values()} == set(SOLVERS) - {"auto"}
#: Labels (``res.solver``) of the compiled single-clearing paths: FDA with waves (Rogers--Veraart) and
#: policy iteration (Eisenberg--Noe, waves computed on first access).
FAST_SOLVERS = ("fda-fast", "howard-fast")


def path_param(name):
    """A pytest parameter for path ``name`` (compiled paths skipped without numba)."""
    needs = name.startswith("compiled") and not numba_available()
    return pytest.param(name, marks=pytest.mark.skipif(needs, reason="numba is not installed"), id=name)


ALL_PATHS = [path_param(name) for name in PATHS]


def clear_path(net, path, method="eisenberg-noe", alpha=1.0, beta=1.0):
    """``clear`` on the solver path ``path`` (a key of :data:`PATHS`), with its tuning."""
    solver, tuning = PATHS[path]
    if tuning == Tuning():
        params = {} if method == "eisenberg-noe" else {"alpha": alpha, "beta": beta}
        return contagion.clear(net, method=method, solver=solver, **params)
    return clear_exact(net, method, alpha, beta, solver=solver, tuning=tuning)


def assert_path_taken(res, path, net):
    """The result came from the path asked for (the compiled path hands a network with a closed group
    without outside money to the reference, which gives the greatest vector there; on
    "compiled-krylov" a BiCGSTAB breakdown on a tiny system hands it over too)."""
    if path == "compiled-krylov":
        assert res.solver in FAST_SOLVERS or _reference_label(res.solver), res.solver
    elif path == "compiled":
        zero_money = core.zero_money_closed(net.liabilities, net.external_liabilities, net.external_assets).size
        assert res.solver in FAST_SOLVERS or (zero_money and _reference_label(res.solver)), res.solver
    else:
        assert _reference_label(res.solver), res.solver


def _reference_label(solver):
    return solver == "fda" or (solver.startswith("fda-") and solver not in FAST_SOLVERS)


def net_of(L, e, ext=None, **kw):
    return FinancialNetwork.from_matrix(np.asarray(L, dtype=float), external_assets=e, external_liabilities=ext,
                                        **kw)


# ============================================================================ published examples
def test_networkvaluation_eisenberg_noe_example():
    """Three-bank example of siebenbrunner/NetworkValuation,
    ``Algorithms/Eisenberg and Noe 2001/Example.mlx`` (exported as Example.html):
    ``matL = [0 20 10; 5 0 24; 10 0 0]``, ``vecE = [10; 10; 10]``.

    Published: equity before clearing [-5, 1, 34] (only bank 0 short); after
    clearing [-5.4545, -2.6364, 30], banks 0 and 1 default. By hand the payments
    are p = [270/11, 290/11, 10] (bank 1 pays 10 + 20/30 p0, bank 0 pays
    10 + 5/29 p1 + 10).
    """
    net = net_of([[0, 20, 10], [5, 0, 24], [10, 0, 0]], [10, 10, 10])
    np.testing.assert_allclose(net.equity_before, [-5, 1, 34], rtol=0, atol=1e-12)
    res = contagion.clear(net)
    np.testing.assert_allclose(res.payments, [270 / 11, 290 / 11, 10], rtol=1e-14)
    np.testing.assert_allclose(res.equity, [-60 / 11, -29 / 11, 30], rtol=1e-13)
    np.testing.assert_allclose(res.equity, [-5.4545, -2.6364, 30], atol=5e-5)
    assert res.defaulted.tolist() == [True, True, False]
    assert res.default_round.tolist() == [0, 1, -1]
    assert res.unique is True
    assert res.residual <= 1e-12 * 30


def test_networkvaluation_rogers_veraart_example():
    """Rogers--Veraart example of siebenbrunner/NetworkValuation,
    ``Algorithms/Rogers and Veraart 2013/Example.mlx``:
    L = [[0,30,0],[5,0,20],[10,0,0]], e = [10,5,5], alpha = 0.4, beta = 1.

    Published: equity [-6, -2, 11], banks 0 and 1 default, p = [18, 20, 10]
    (by hand: bank 0 pays 0.4*10 + p1/5 + 10 = 18 with p1 = 0.4*5 + p0 = 20).
    Without default costs (Eisenberg--Noe) bank 1 still pays in full.
    """
    net = net_of([[0, 30, 0], [5, 0, 20], [10, 0, 0]], [10, 5, 5])
    res = contagion.clear(net, method="rogers-veraart", alpha=0.4, beta=1.0)
    np.testing.assert_allclose(res.payments, [18, 20, 10], rtol=1e-14)
    np.testing.assert_allclose(res.equity, [-6, -2, 11], rtol=1e-14)
    assert res.defaulted.tolist() == [True, True, False]
    assert res.default_round.tolist() == [0, 1, -1]
    assert res.method == "rogers-veraart" and dict(res.params) == {"alpha": 0.4, "beta": 1.0}
    en = contagion.clear(net)
    # EN: p0 = 10 + p1/5 + 10, bank 1 solvent (5 + 30 >= 25) pays 25 -> p0 = 25 < 30
    np.testing.assert_allclose(en.payments, [25, 25, 10], rtol=1e-14)
    assert en.defaulted.tolist() == [True, False, False]


def test_glasserman_young_core_periphery():
    """Glasserman, P. & Young, H. P. (2015). How likely is contagion in financial
    networks? J. Banking & Finance 50, 383-399, section 4 (core-periphery example).

    The core owes 10 to each of four periphery banks and 100 outside and holds
    150 outside; each periphery bank owes 55 outside and holds 50. A shock of 94
    to the core: it pays 56 of 140 (0.4 on the pound), each periphery bank gets
    4, holds 54 < 55 and defaults. Total shortfall 84 + 4 = 88; loss 94 + 88 = 182
    against 94 + 84 = 178 without the network. Built-in dataset ``core-periphery``
    lists the core third.
    """
    base = contagion.load_dataset("core-periphery")
    assert base.names[2] == "Core"
    unshocked = contagion.clear(base)
    assert not unshocked.defaulted.any() and unshocked.waves == -1
    e = base.external_assets.copy()
    e[2] -= 94
    hit = base.replace(external_assets=e)
    res = contagion.clear(hit)
    np.testing.assert_allclose(res.payments, [54, 54, 56, 54, 54], rtol=1e-14)
    assert res.defaulted.all()
    assert res.default_round.tolist() == [1, 1, 0, 1, 1]
    assert res.total_shortfall == pytest.approx(88, rel=1e-14)
    from contagion.measures import loss_summary

    s = loss_summary(res, base)
    assert s["shock"] == 94
    assert s["system_loss"] == pytest.approx(182, rel=1e-14)
    assert s["system_loss_without_network"] == pytest.approx(178, rel=1e-14)
    assert s["amplification"] == pytest.approx(182 / 178, rel=1e-14)
    assert s["defaults"] == 5
    # external creditors of the core lose 100 * (1 - 0.4) = 60, each periphery's 1
    assert res.external_shortfall == pytest.approx(64, rel=1e-14)


# ============================================================================ toy datasets
def test_chain_dataset_three_waves():
    """graphs/chain/README.md: A pays 5 (wave 0), B pays 11 (wave 1), C pays 47/6 (wave 2)."""
    res = contagion.clear(contagion.load_dataset("chain"))
    np.testing.assert_allclose(res.payments, [5, 11, 47 / 6], rtol=1e-14)
    assert res.default_round.tolist() == [0, 1, 2]
    assert res.defaulted.all() and res.waves == 2
    np.testing.assert_allclose(res.equity, [5 - 10, 6 + 5 - 15, 0.5 + 22 / 3 - 8], rtol=1e-13)
    assert res.unique is True


def test_ring_dataset_not_unique_greatest_returned():
    """graphs/ring/README.md: the closed ring A->B->C->A (10 each, no outside money)
    has the clearing vectors 'all pay 10' and 'all pay 0'; the greatest is returned
    and flagged. D pays 1 (wave 0); E holds exactly 6 against 6 owed: a tie, solvent.
    """
    res = contagion.clear(contagion.load_dataset("ring"))
    np.testing.assert_array_equal(res.payments, [10, 10, 10, 1, 6])
    assert res.defaulted.tolist() == [False, False, False, True, False]
    assert res.default_round.tolist() == [-1, -1, -1, 0, -1]
    assert res.unique is False
    assert res.summary()["unique"] is False
    np.testing.assert_array_equal(res.equity, [0, 0, 0, -3, 0])


# ============================================================================ hand examples
def test_default_waves_four_deep():
    """Hand example: A (owes B 10, holds 4) defaults in wave 0 and pays 4; B (owes C 12,
    holds 5) then has 9 (wave 1); C (owes D 8 and 2 outside, holds 0) then has 9 < 10
    (wave 2) and pays D 7.2; D (owes 7.5 outside) has 7.2 (wave 3). E (owes 3
    outside, holds 1) is a second fundamental default."""
    L = np.zeros((5, 5))
    L[0, 1], L[1, 2], L[2, 3] = 10, 12, 8
    net = net_of(L, [4, 5, 0, 0, 1], [0, 0, 2, 7.5, 3], names=list("ABCDE"))
    res = contagion.clear(net)
    np.testing.assert_allclose(res.payments, [4, 9, 9, 7.2, 1], rtol=1e-14)
    assert res.default_round.tolist() == [0, 1, 2, 3, 0]
    np.testing.assert_allclose(res.equity, [-6, -3, -1, -0.3, -2], rtol=1e-12)
    assert res.summary()["fundamental_defaults"] == 2 and res.waves == 3
    frame = res.to_frame()
    assert frame.loc["D", "default_round"] == 3 and frame.loc["C", "payment"] == pytest.approx(9)


def test_forced_default_pays_at_most_its_recovery():
    """A owes B 10 and holds 20 (solvent), B owes C 10 and holds nothing. A is forced
    into default with recovery 0.4: it pays 4 although it could pay 10; B gets 4 and
    defaults in wave 1; C has no obligations and never defaults."""
    L = np.zeros((3, 3))
    L[0, 1], L[1, 2] = 10, 10
    net = net_of(L, [20, 0, 0]).replace(forced_default=[True, False, False], forced_recovery=[0.4, 0, 0])
    res = contagion.clear(net)
    np.testing.assert_allclose(res.payments, [4, 4, 0], rtol=1e-15)
    assert res.defaulted.tolist() == [True, True, False]
    assert res.default_round.tolist() == [0, 1, -1]
    np.testing.assert_allclose(res.equity, [10, -6, 4], rtol=1e-15)
    # a forced institution short of its cap pays what it has
    poor = net.replace(external_assets=[2, 0, 0])
    np.testing.assert_allclose(contagion.clear(poor).payments, [2, 2, 0], rtol=1e-15)
    # Rogers-Veraart: a forced institution pays min(cap, alpha e + beta inflow)
    full_cap = net.replace(forced_recovery=[1.0, 0, 0])
    rv = contagion.clear(full_cap, method="rogers-veraart", alpha=0.25, beta=1.0)
    np.testing.assert_allclose(rv.payments, [5, 5, 0], rtol=1e-15)


def test_forced_default_in_a_cycle_with_exact_tie():
    """A owes B 10; B owes A 10 and 10 outside and holds 15; A holds nothing and is
    forced to default. Recovery 0.5: A pays 5, B has 15 + 5 = 20 = what it owes,
    a tie, so B is solvent and pays 20 (A then receives 10 but still pays only 5).
    Recovery 0.4: A pays 4, B has 19 < 20, defaults in wave 1 and pays 19, of which
    A gets 9.5 >= 4, so A stays at its cap."""
    L = np.array([[0, 10], [10, 0]], dtype=float)
    net = net_of(L, [0, 15], [0, 10]).replace(forced_default=[True, False], forced_recovery=[0.5, 0])
    res = contagion.clear(net)
    np.testing.assert_array_equal(res.payments, [5, 20])
    assert res.defaulted.tolist() == [True, False] and res.default_round.tolist() == [0, -1]
    res = contagion.clear(net.replace(forced_recovery=[0.4, 0]))
    np.testing.assert_allclose(res.payments, [4, 19], rtol=1e-15)
    assert res.default_round.tolist() == [0, 1]
    np.testing.assert_allclose(res.equity, [9.5 - 10, -1], rtol=1e-14)


def test_forced_default_without_obligations_is_inert():
    """Forcing an institution with nothing to pay changes nothing: it pays 0 and is not in default."""
    L = np.zeros((2, 2))
    L[0, 1] = 5
    net = net_of(L, [5, 0]).replace(forced_default=[False, True], forced_recovery=[0, 0])
    res = contagion.clear(net)
    assert res.defaulted.tolist() == [False, False] and res.payments.tolist() == [5, 0]


def test_ties_at_the_threshold_are_solvent():
    """An institution holding exactly what it owes pays in full and is not in default,
    also when the tie arises after a cascade in inexact float arithmetic: A owes B 15
    and C 7 and holds 11, so pays 11 and B gets 11 * 15/22 = 7.5 exactly, which
    floats compute as 7.499999999999999; B owes exactly 7.5 outside."""
    L = np.zeros((2, 2))
    L[0, 1] = 10
    res = contagion.clear(net_of(L, [10, 0]))
    assert res.defaulted.tolist() == [False, False] and res.payments.tolist() == [10, 0]
    assert res.default_round.tolist() == [-1, -1]

    L = np.zeros((3, 3))
    L[0, 1], L[0, 2] = 15, 7
    net = net_of(L, [11, 0, 0], [0, 7.5, 0])
    assert (15 / 22) * 11 < 7.5  # the float path really is short by one ulp
    res = contagion.clear(net)
    assert res.payments.tolist() == [11, 7.5, 0]
    assert res.defaulted.tolist() == [True, False, False]
    assert res.default_round.tolist() == [0, -1, -1]
    assert abs(res.equity[1]) < 1e-12
    rv = contagion.clear(net, method="rogers-veraart", alpha=0.5, beta=0.5)
    # RV: A pays 5.5, B gets 3.75 < 7.5 -> defaults and pays 0.5 * 3.75
    np.testing.assert_allclose(rv.payments, [5.5, 1.875, 0], rtol=1e-15)


def test_nodes_without_obligations_pay_nothing_and_never_default():
    """A node that owes nothing pays 0 and is never in default, whatever it holds or
    receives (here: one that receives nothing and holds nothing)."""
    L = np.zeros((4, 4))
    L[0, 1] = 10  # 0 owes 1; 2 and 3 are isolated, 3 holds nothing at all
    net = net_of(L, [3, 0, 7, 0])
    for method in EXACT_METHODS:
        res = contagion.clear(net, method=method)
        assert res.payments.tolist() == [3, 0, 0, 0]
        assert res.defaulted.tolist() == [True, False, False, False]
        assert res.default_round.tolist() == [0, -1, -1, -1]
        np.testing.assert_array_equal(res.shortfall, [7, 0, 0, 0])
        np.testing.assert_array_equal(res.equity, [-7, 3, 7, 0])


def test_all_default_and_no_default():
    """Without outside money everyone with external creditors pays 0 (leaking cycle);
    with ample outside money nobody defaults."""
    L = np.array([[0, 4, 0], [0, 0, 4], [4, 0, 0]], dtype=float)
    res = contagion.clear(net_of(L, [0, 0, 0], [1, 1, 1]))
    np.testing.assert_array_equal(res.payments, [0, 0, 0])
    assert res.defaulted.all() and res.default_round.tolist() == [0, 0, 0]
    assert res.unique is True
    res = contagion.clear(net_of(L, [1, 1, 1], [1, 1, 1]))
    np.testing.assert_array_equal(res.payments, [5, 5, 5])
    assert not res.defaulted.any() and res.waves == -1


@pytest.mark.parametrize(
    "L, e, ext, unique",
    [
        # closed ring, no outside money: all-pay-10 and all-pay-0 both clear
        ([[0, 10, 0], [0, 0, 10], [10, 0, 0]], [0, 0, 0], [0, 0, 0], False),
        # the same ring with outside money at one member: unique
        ([[0, 10, 0], [0, 0, 10], [10, 0, 0]], [1, 0, 0], [0, 0, 0], True),
        # ... or with an outside creditor: unique (money leaks out)
        ([[0, 10, 0], [0, 0, 10], [10, 0, 0]], [0, 0, 0], [0, 1, 0], True),
        # a ring fed by a solvent outsider X (node 3): unique
        ([[0, 10, 0, 0], [0, 0, 10, 0], [10, 0, 0, 0], [5, 0, 0, 0]], [0, 0, 0, 5], [0, 0, 0, 0], True),
        # ... fed by an outsider that pays nothing: not unique
        ([[0, 10, 0, 0], [0, 0, 10, 0], [10, 0, 0, 0], [5, 0, 0, 0]], [0, 0, 0, 0], [0, 0, 0, 0], False),
        # unequal closed ring: p = (5, 5, 5) and p = 0 both clear
        ([[0, 10, 0], [0, 0, 5], [10, 0, 0]], [0, 0, 0], [0, 0, 0], False),
        # a pair owing each other, no money, plus a chain elsewhere: not unique
        ([[0, 3, 0, 0], [3, 0, 0, 0], [0, 0, 0, 2], [0, 0, 0, 0]], [0, 0, 1, 0], [0, 0, 0, 0], False),
        # no cycle at all: unique
        ([[0, 3, 0], [0, 0, 3], [0, 0, 0]], [0, 0, 0], [0, 0, 0], True),
    ],
)
def test_uniqueness_flag_hand_cases(L, e, ext, unique):
    """Eisenberg & Noe (2001), Theorem 2: a second clearing vector needs a closed set
    without outside money that pays something; the flag must match the brute-force
    check (least clearing vector == greatest)."""
    assert ref.is_unique_bruteforce(L, e, ext) is unique
    res = contagion.clear(net_of(L, e, ext))
    assert res.unique is unique
    rv = contagion.clear(net_of(L, e, ext), method="rogers-veraart", alpha=1, beta=1)
    assert rv.unique is unique
    assert contagion.clear(net_of(L, e, ext), method="rogers-veraart", alpha=0.5, beta=1).unique is None


def test_ring_closed_under_forced_default_not_unique():
    """Forcing a member of a money-less closed ring to pay at most 5 gives the greatest
    vector (5, 5, 5); paying nothing is still a clearing vector."""
    L = [[0, 10, 0], [0, 0, 10], [10, 0, 0]]
    net = net_of(L, [0, 0, 0]).replace(forced_default=[True, False, False], forced_recovery=[0.5, 0, 0])
    res = contagion.clear(net)
    np.testing.assert_array_equal(res.payments, [5, 5, 5])
    assert res.default_round.tolist() == [0, 1, 2]
    assert res.unique is False
    assert ref.is_unique_bruteforce(L, [0, 0, 0], None, [True, False, False], [0.5, 0, 0]) is False


def test_recovery_rates_validated():
    net = contagion.load_dataset("chain")
    for bad in (-0.1, 1.5, float("nan"), "x", None):
        with pytest.raises(ContagionError):
            contagion.clear(net, method="rogers-veraart", alpha=bad)
    with pytest.raises(ContagionError, match="unknown clearing method") as info:
        contagion.clear(net, method="no-such-method")
    assert "did you mean" not in str(info.value)


def test_unknown_names_suggest_the_close_one():
    """A method written with an underscore, a dataset cut short: the message names the one meant."""
    from contagion.measures import reverse_stress

    net = contagion.load_dataset("chain")
    with pytest.raises(ContagionError, match=r"unknown clearing method 'eisenberg_noe' \(did you mean "
                                             r"'eisenberg-noe'\?\); choose one of"):
        contagion.clear(net, method="eisenberg_noe")
    with pytest.raises(ContagionError, match=r"unknown clearing method 'rogers_veraart' \(did you mean "
                                             r"'rogers-veraart'\?\)"):
        reverse_stress(net, "C", "external_assets:A", method="rogers_veraart")
    with pytest.raises(ContagionError, match=r"unknown dataset 'ai-infra' \(did you mean 'ai-infrastructure'\?\)"):
        contagion.load_dataset("ai-infra")
    from click.testing import CliRunner

    from contagion.cli import cli

    res = CliRunner().invoke(cli, ["run", "core-peri"])
    assert res.exit_code == 1 and res.stderr.strip().endswith("(did you mean 'core-periphery'?)")


# ============================================================================ convergence errors
def test_convergence_error_carries_iterations_and_residual():
    """The iterative block solver gives up after ``max_iter`` sweeps with ConvergenceError,
    which carries how far it got. Forced here: no LU and no Krylov solver, so blocks of any
    size go to the monotone iteration, with a budget of 7 sweeps, on a ring that loses 1%
    per round (so 7 sweeps are far from enough); ``clear_many`` raises it too."""
    n = 12
    L = np.zeros((n, n))
    L[np.arange(n), (np.arange(n) + 1) % n] = 99.0
    net = net_of(L, np.full(n, 0.5), np.full(n, 1.0))
    tuning = Tuning(direct_limit=0, lu_fallback_limit=0, krylov=False, max_iter=7)
    for call in (lambda: clear_exact(net, "eisenberg-noe", solver="reference", tuning=tuning),
                 lambda: clear_batch(net, net.external_assets[:, None], "eisenberg-noe", solver="reference",
                                     tuning=tuning)):
        with pytest.raises(ConvergenceError) as info:
            call()
        err = info.value
        assert isinstance(err, ContagionError) and isinstance(err, RuntimeError)
        assert err.iterations == 7
        # the last Picard step moved every payment by 0.99**7 * (100 - 50) (geometric decay from pbar)
        assert err.residual == pytest.approx(0.99 ** 6 * 0.01 * 50, rel=1e-6)
        assert "7 iterations" in str(err)


def test_unconverged_solution_raises_with_its_diagnostics():
    """A solver result that misses the residual bound is never returned: the one check every
    path's solution goes through (``clear`` and each column of ``clear_many``) raises
    ConvergenceError with the solver's iterations and residual, and passes a converged one."""
    net = contagion.load_dataset("chain")
    sol = core.fda_solve(net.PiT, net.total_obligations, net.external_assets)
    assert _checked(sol, "clearing") is sol
    lazy = core.Solution(sol.payments, sol.defaulted, sol.default_round, iterations=42, residual=0.125,
                         converged=False, solver=sol.solver)
    with pytest.raises(ConvergenceError) as info:
        _checked(lazy, "scenario 3")
    assert info.value.iterations == 42 and info.value.residual == 0.125
    assert "scenario 3 did not reach the residual bound" in str(info.value)


def test_convergence_error_class():
    err = ConvergenceError("block did not converge", iterations=3, residual=2.5e-7)
    assert (err.iterations, err.residual) == (3, 2.5e-7)
    assert str(err) == "block did not converge (after 3 iterations, residual 2.500e-07)"
    assert isinstance(err, ContagionError)


# ============================================================================ contract of every method
def _contract_networks():
    nets = {
        "networkvaluation": net_of([[0, 20, 10], [5, 0, 24], [10, 0, 0]], [10, 10, 10]),
        "chain": contagion.load_dataset("chain"),
        "ring": contagion.load_dataset("ring"),
    }
    cp = contagion.load_dataset("core-periphery")
    e = cp.external_assets.copy()
    e[2] -= 94
    nets["core-periphery-shocked"] = cp.replace(external_assets=e)
    L, e, ext, _, _ = random_case(7, n=30, kind="near-threshold")
    nets["random-30"] = net_of(L, e, ext, names=[f"bank {i}" for i in range(30)])
    forced = np.zeros(30, bool)
    forced[[3, 11]] = True
    nets["random-30-forced"] = nets["random-30"].replace(forced_default=forced, forced_recovery=np.full(30, 0.3))
    return nets


@pytest.fixture(scope="module")
def contract_networks():
    return _contract_networks()


@pytest.mark.parametrize("method", sorted(contagion.CLEARING_METHODS))
@pytest.mark.parametrize("which", ["networkvaluation", "chain", "ring", "core-periphery-shocked", "random-30",
                                   "random-30-forced"])
def test_contract_of_every_method(method, which, contract_networks):
    """Every registered method returns a ClearingResult whose arrays are aligned with
    the names and consistent: 0 <= p <= pbar, defaulted == (p < pbar) (or forced),
    shortfall = pbar - p, equity = e + Pi^T p - pbar, and a table indexed by name."""
    net = contract_networks[which]
    e_before = net.external_assets.copy()
    res = contagion.clear(net, method=method)
    n = net.n
    L, e, ext, forced, _ = ref.arrays(net)
    pbar = net.total_obligations
    np.testing.assert_allclose(pbar, L.sum(axis=1) + ext, rtol=1e-15)
    Pi = np.divide(L, pbar[:, None], out=np.zeros_like(L), where=pbar[:, None] > 0)
    scale = pbar.max()
    assert isinstance(res, contagion.ClearingResult)
    assert res.method == method and res.network is net
    for arr in (res.payments, res.defaulted, res.equity, res.default_round, res.shortfall):
        assert isinstance(arr, np.ndarray) and arr.shape == (n,)
    assert res.defaulted.dtype == bool and np.issubdtype(res.default_round.dtype, np.integer)
    p = res.payments
    assert np.all(p >= 0) and np.all(p <= pbar * (1 + 1e-15))
    np.testing.assert_allclose(res.shortfall, pbar - p, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(res.equity, e + Pi.T @ p - pbar, rtol=0, atol=1e-12 * scale)
    has = pbar > 0
    assert np.all(p[~has] == 0) and not res.defaulted[~has].any()
    solvent = ~res.defaulted
    np.testing.assert_array_equal(p[solvent], pbar[solvent])
    assert np.all((p < pbar)[res.defaulted & ~forced])
    assert np.array_equal(res.default_round >= 0, res.defaulted)
    assert res.n_defaults == int(res.defaulted.sum())
    assert res.total_shortfall == pytest.approx(float((pbar - p).sum()), abs=1e-12 * scale * n)
    assert isinstance(res.converged, bool) and res.converged
    assert isinstance(res.iterations, int) and res.iterations >= 1
    frame = res.to_frame()
    # plus payment_least (the least clearing vector) exactly when the clearing vector is not unique
    assert list(frame.columns) == FRAME_COLUMNS + (["payment_least"] if res.least_payments is not None else [])
    assert res.least_payments is None or res.unique is False
    assert frame.index.name == "name" and list(frame.index) == list(net.names)
    np.testing.assert_array_equal(frame["payment"].to_numpy(), p)
    np.testing.assert_array_equal(frame["defaulted"].to_numpy(), res.defaulted)
    np.testing.assert_array_equal(frame["default_round"].to_numpy(), res.default_round)
    np.testing.assert_array_equal(frame["obligations"].to_numpy(), pbar)
    np.testing.assert_allclose(frame["equity_if_all_pay"].to_numpy(), e + L.sum(axis=0) - pbar, atol=1e-12 * scale)
    # without a base network, the result's own network is the pre-shock one
    np.testing.assert_array_equal(frame["equity_pre_shock"].to_numpy(), frame["equity_if_all_pay"].to_numpy())
    summary = res.summary()
    assert summary["defaults"] == res.n_defaults and summary["institutions"] == n
    assert summary["total_shortfall"] == res.total_shortfall
    np.testing.assert_array_equal(net.external_assets, e_before)  # inputs not mutated
    if method in EXACT_METHODS:
        assert res.residual <= 1e-12 * scale
        # the answer is a fixed point of the clearing map (computed independently)
        alpha, beta = res.params.get("alpha", 1.0), res.params.get("beta", 1.0)
        T = ref.clearing_map(Pi, pbar, e, net.payment_cap, forced, p, alpha, beta, tie=1e-12 * pbar)
        np.testing.assert_allclose(T, p, rtol=0, atol=1e-12 * scale)
        waves = np.unique(res.default_round[res.defaulted])
        np.testing.assert_array_equal(waves, np.arange(waves.size))  # waves 0..k, none skipped


# ============================================================================ random cross-checks
SIZES = [2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 80, 120, 200, 300]
KINDS = ["sparse", "dense", "no-obligations", "all-default", "no-default", "closed-group", "near-threshold",
         "forced"]


def random_case(seed, n=None, kind=None):
    """A seeded random network ``(L, e, ext, forced, recovery)`` of a given kind.

    Kinds cover sparse and dense graphs with cycles, institutions without
    obligations, external liabilities, all-default and no-default cases, closed
    groups without outside money (non-unique), balance sheets near the threshold
    and forced defaults. Amounts are well scaled (within ~3 orders of magnitude).
    """
    rng = np.random.default_rng(10_000 + seed)
    kind = kind or KINDS[seed % len(KINDS)]
    n = n or SIZES[(seed // len(KINDS)) % len(SIZES)]
    density = {"sparse": min(1.0, 2.0 / n), "dense": 0.7}.get(kind, rng.choice([min(1.0, 3.0 / n), 0.3]))
    L = rng.exponential(10.0, (n, n)) * (rng.random((n, n)) < density)
    np.fill_diagonal(L, 0.0)
    if n >= 3 and rng.random() < 0.5:  # a ring through a random subset: a cycle
        k = int(rng.integers(2, n + 1))
        ring = rng.permutation(n)[:k]
        L[ring, np.roll(ring, -1)] += rng.uniform(1, 20, k)
    ext = rng.exponential(5.0, n) * (rng.random(n) < 0.6)
    forced = np.zeros(n, bool)
    recovery = np.zeros(n)
    if kind == "no-obligations":
        L[rng.random(n) < 0.3] = 0.0
        ext[np.flatnonzero(L.sum(1) == 0)[::2]] = 0.0
    pbar = L.sum(1) + ext
    assets = L.sum(0)
    if kind == "all-default":
        ext = ext + rng.uniform(0.5, 2.0, n)
        e = np.zeros(n)
    elif kind == "no-default":
        e = pbar * rng.uniform(1.0, 2.0, n)
    elif kind == "near-threshold":
        e = np.maximum(pbar - assets + rng.normal(0, 0.05, n) * (pbar + 1), 0.0)
    else:
        e = rng.uniform(0, 1.2, n) * pbar * rng.choice([0.3, 1.0]) + (rng.random(n) < 0.2) * rng.exponential(3, n)
    if kind == "closed-group" and n >= 3:
        k = max(2, n // 3)
        grp = rng.permutation(n)[:k]
        rest = np.setdiff1d(np.arange(n), grp)
        L[np.ix_(grp, rest)] = 0.0
        L[grp, np.roll(grp, -1)] += 5.0
        ext[grp] = 0.0
        e[grp] = 0.0
    if kind == "forced":
        forced = rng.random(n) < 0.2
        recovery = rng.choice([0.0, 0.3, 0.5, 1.0], n)
    return L, e, ext, forced, recovery


def _make(L, e, ext, forced, recovery):
    net = net_of(L, e, ext)
    if forced.any():
        net = net.replace(forced_default=forced, forced_recovery=recovery)
    return net


def _check_against_references(res, L, e, ext, forced, recovery, lp_ref=True):
    pbar = L.sum(1) + ext
    scale = max(pbar.max(), 1e-300)
    fd = ref.fda_dense(L, e, ext, forced, recovery)
    # the dense fictitious-default reference: same payments, default set and waves
    np.testing.assert_allclose(res.payments, fd.payments, rtol=0, atol=1e-11 * scale)
    np.testing.assert_array_equal(res.defaulted, fd.defaulted)
    np.testing.assert_array_equal(res.default_round, fd.default_round)
    assert res.residual <= 1e-12 * scale
    if lp_ref:
        lp = ref.en_lp(L, e, ext, forced, recovery)
        np.testing.assert_allclose(res.payments, lp.payments, rtol=0, atol=1e-9 * scale)
        clear_cut = ~(np.abs(lp.gaps) <= 1e-9 * scale)  # LP accuracy cannot place near-ties
        np.testing.assert_array_equal(res.defaulted[clear_cut], lp.defaulted[clear_cut])


#: seeds whose case takes seconds (a larger, stiffer network), not milliseconds
SLOW_SEEDS = {113}


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("seed", [pytest.param(s, marks=pytest.mark.slow) if s in SLOW_SEEDS else s
                                  for s in range(240)])
def test_eisenberg_noe_matches_lp_and_dense_fda(seed, path):
    """On every solver path, the greatest clearing vector equals the LP reference (max sum p
    over p <= cap, p - Pi^T p <= e; Eisenberg & Noe 2001, Lemma 4) to 1e-9 of max pbar
    with the same default set, the dense fictitious-default reference (numpy
    solve) to 1e-11 with the same waves, and the residual is <= 1e-12 max pbar.
    (The foundation's random networks: sparse, dense, institutions without obligations,
    all/no default, closed groups, near-threshold, forced defaults; n = 2..300.)"""
    L, e, ext, forced, recovery = random_case(seed)
    net = _make(L, e, ext, forced, recovery)
    res = clear_path(net, path)
    assert_path_taken(res, path, net)
    _check_against_references(res, L, e, ext, forced, recovery)


def test_random_cases_cover_what_they_claim():
    """The generator really produces the cases the cross-check is meant to cover."""
    seen = {"all": 0, "none": 0, "some": 0, "no-obligation": 0, "not-unique": 0, "forced": 0, "big": 0}
    for seed in range(0, 240, 3):
        L, e, ext, forced, recovery = random_case(seed)
        res = contagion.clear(_make(L, e, ext, forced, recovery))
        has = res.network.total_obligations > 0
        seen["all" if res.defaulted[has].all() else "none" if not res.defaulted.any() else "some"] += 1
        seen["no-obligation"] += bool((~has).any())
        seen["not-unique"] += res.unique is False
        seen["forced"] += bool(forced.any())
        seen["big"] += res.network.n >= 200
    assert all(v > 0 for v in seen.values()), seen


@pytest.mark.parametrize("seed", range(48))
def test_large_blocks_iterative_path_matches_references(seed):
    """With every default block above 6 rows sent to the Krylov / monotone-iteration path that
    large networks use (``reference-iterative``), networks of 20-300 institutions give the same
    answers as the references (same bounds as the direct path), Rogers--Veraart too."""
    n = [20, 40, 80, 150, 300][seed % 5]
    L, e, ext, forced, recovery = random_case(seed, n=n, kind=["sparse", "dense", "near-threshold", "all-default",
                                                               "closed-group", "forced"][seed % 6])
    net = _make(L, e, ext, forced, recovery)
    if seed % 4 == 3:  # Rogers-Veraart through the same path
        rng = np.random.default_rng(seed)
        alpha, beta = float(rng.uniform()), float(rng.choice([1.0, rng.uniform()]))
        res = clear_path(net, "reference-iterative", "rogers-veraart", alpha, beta)
        fd = ref.fda_dense(L, e, ext, forced, recovery, alpha, beta)
        scale = (L.sum(1) + ext).max()
        np.testing.assert_allclose(res.payments, fd.payments, rtol=0, atol=1e-11 * scale)
        np.testing.assert_array_equal(res.default_round, fd.default_round)
        assert res.residual <= 1e-12 * scale
    else:
        res = clear_path(net, "reference-iterative")
        _check_against_references(res, L, e, ext, forced, recovery, lp_ref=n <= 150)


def test_iterative_path_is_really_taken():
    """A ring of 200 that defaults as a whole is one block of 200 rows: on the
    ``reference-iterative`` path it is solved by the Krylov solver, and agrees with LU."""
    n = 200
    rng = np.random.default_rng(3)
    L = np.zeros((n, n))
    L[np.arange(n), (np.arange(n) + 1) % n] = rng.uniform(50, 150, n)
    net = net_of(L, rng.uniform(0, 1, n), rng.uniform(1, 5, n))
    direct = contagion.clear(net, solver="reference")
    iterative = clear_path(net, "reference-iterative")
    assert direct.defaulted.all() and "lu" in direct.solver
    assert any(word in iterative.solver for word in ("krylov", "picard", "mixed")), iterative.solver
    np.testing.assert_allclose(iterative.payments, direct.payments, rtol=0, atol=1e-10 * 150)
    np.testing.assert_array_equal(iterative.default_round, direct.default_round)


def _leaky_ring(n, seed):
    """``(L, e, ext)`` of a ring of ``n`` owing 50-150 each to the next, losing about 1e-7 of
    each payment outside and holding about 1e-5 outside: a nearly closed cycle."""
    rng = np.random.default_rng(seed)
    L = np.zeros((n, n))
    L[np.arange(n), (np.arange(n) + 1) % n] = rng.uniform(50, 150, n)
    ext = rng.uniform(0.5, 1.5, n) * 1e-5
    e = rng.uniform(0, 1, n) * 1e-5
    return L, e, ext


@pytest.mark.slow
def test_nearly_closed_cycle_between_the_limits_goes_to_lu():
    """A ring of 1,000 (above DIRECT_LIMIT, below LU_FALLBACK_LIMIT) that loses 1e-7 of each
    payment outside: BiCGSTAB cannot settle it, the sparse LU fallback does, and the answer
    is the reference's (dense FDA: everyone defaults, pays what it receives plus e)."""
    n = 1000
    assert core.DIRECT_LIMIT < n <= core.LU_FALLBACK_LIMIT
    L, e, ext = _leaky_ring(n, seed=5)
    net = net_of(L, e, ext)
    # every member owes something outside, so the block cannot be singular: BiCGSTAB goes first
    assert (ext > 1e-9 * (L.sum(1) + ext)).all()
    res = contagion.clear(net, solver="reference")
    assert res.defaulted.all()
    assert res.solver in ("fda-lu", "fda-mixed")   # small first waves by LU, the last by the fallback
    sol = core.fda_solve(net.PiT, net.total_obligations, net.external_assets)
    np.testing.assert_array_equal(sol.payments, res.payments)
    # the fallback factorised a block above the direct limit
    assert any(rows > core.DIRECT_LIMIT and how == "lu" for rows, how in sol.blocks), sol.blocks
    fd = ref.fda_dense(L, e, ext, np.zeros(n, bool), np.zeros(n), 1.0, 1.0)
    np.testing.assert_allclose(res.payments, fd.payments, rtol=0, atol=1e-9 * 150)
    assert res.residual <= 1e-12 * (L.sum(1) + ext).max()


@pytest.mark.slow
def test_iterative_path_nearly_closed_cycle():
    """A ring of 300 that loses 1e-7 of each payment outside: everyone defaults; the LU
    path solves it; the large-network path (no LU at all, as beyond 4,000 rows) must too
    (to the same bounds)."""
    n = 300
    L, e, ext = _leaky_ring(n, seed=0)
    net = net_of(L, e, ext)
    direct = contagion.clear(net, solver="reference")
    # the default budget (100 000 sweeps) fails the same way; a smaller one keeps the failing run short
    iterative = clear_exact(net, "eisenberg-noe", solver="reference",
                            tuning=Tuning(direct_limit=5, lu_fallback_limit=0, max_iter=20_000))
    np.testing.assert_allclose(iterative.payments, direct.payments, rtol=0, atol=1e-9 * 150)


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("seed", range(120))
def test_rogers_veraart_matches_bruteforce(seed, path):
    """Greatest Rogers--Veraart vector on small random networks with random alpha, beta
    (Rogers & Veraart 2013) equals the componentwise maximum of all clearing vectors
    found by enumerating who pays in full; also the dense FDA with the same waves."""
    rng = np.random.default_rng(20_000 + seed)
    n = int(rng.integers(2, 8))
    L, e, ext, forced, recovery = random_case(seed, n=n, kind=KINDS[seed % len(KINDS)])
    alpha = float(rng.choice([0.0, 1.0, rng.uniform()])) if seed % 4 == 0 else float(rng.uniform())
    beta = float(rng.choice([0.0, 1.0, rng.uniform()])) if seed % 4 == 1 else float(rng.uniform())
    net = _make(L, e, ext, forced, recovery)
    res = clear_path(net, path, "rogers-veraart", alpha, beta)
    assert_path_taken(res, path, net)
    pbar = L.sum(1) + ext
    scale = max(pbar.max(), 1e-300)
    bf = ref.rv_bruteforce(L, e, ext, forced, recovery, alpha, beta)
    np.testing.assert_allclose(res.payments, bf.payments, rtol=0, atol=1e-10 * scale)
    np.testing.assert_array_equal(res.defaulted, bf.defaulted)
    fd = ref.fda_dense(L, e, ext, forced, recovery, alpha, beta)
    np.testing.assert_allclose(res.payments, fd.payments, rtol=0, atol=1e-11 * scale)
    np.testing.assert_array_equal(res.default_round, fd.default_round)
    assert res.residual <= 1e-12 * scale


def _integer_case(seed):
    """Small network with integer amounts (many exact ties) and dyadic recovery rates."""
    for attempt in range(100):
        rng = np.random.default_rng(30_000 + 100 * seed + attempt)
        n = int(rng.integers(2, 8))
        L = rng.integers(0, 6, (n, n)).astype(float) * (rng.random((n, n)) < rng.choice([0.3, 0.6, 1.0]))
        np.fill_diagonal(L, 0.0)
        ext = rng.integers(0, 4, n) * (rng.random(n) < 0.5).astype(float)
        e = rng.integers(0, 16, n) / rng.choice([1.0, 2.0, 3.0])
        forced = rng.random(n) < 0.15
        recovery = rng.choice([0.0, 0.25, 0.5, 1.0], n)
        alpha, beta = (1.0, 1.0) if seed % 3 == 0 else (float(rng.choice([0, .25, .5, .75, 1])),
                                                          float(rng.choice([0, .25, .5, .75, 1])))
        exact = ref.fda_exact(L, e, ext, forced, recovery, alpha, beta)
        if exact.margin > 1e-10:  # no near-tie that float arithmetic cannot resolve
            return L, e, ext, forced, recovery, alpha, beta, exact
    raise AssertionError("no clean case found")


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("seed", range(90))
def test_exact_rational_reference(seed, path):
    """On small integer networks (exact ties are common) the solver agrees with the
    fictitious-default algorithm run in exact rational arithmetic: payments to
    1e-12 of max pbar, and exactly the same default set and waves (ties solvent)."""
    L, e, ext, forced, recovery, alpha, beta, exact = _integer_case(seed)
    res = clear_path(_make(L, e, ext, forced, recovery), path, "rogers-veraart", alpha, beta)
    scale = max((L.sum(1) + ext).max(), 1e-300)
    np.testing.assert_allclose(res.payments, exact.payments, rtol=0, atol=1e-12 * scale)
    np.testing.assert_array_equal(res.defaulted, exact.defaulted)
    np.testing.assert_array_equal(res.default_round, exact.default_round)


@pytest.mark.parametrize("seed", range(60))
def test_uniqueness_flag_matches_bruteforce(seed):
    """``unique`` equals the brute-force answer (least clearing vector, by Picard
    iteration from 0 finished exactly, equals the greatest) on small networks, half
    of which contain a closed group without outside money."""
    rng = np.random.default_rng(40_000 + seed)
    n = int(rng.integers(2, 8))
    L = rng.integers(0, 6, (n, n)).astype(float) * (rng.random((n, n)) < rng.choice([0.3, 0.6]))
    np.fill_diagonal(L, 0.0)
    ext = rng.integers(0, 4, n) * (rng.random(n) < 0.5).astype(float)
    e = rng.integers(0, 10, n).astype(float)
    if seed % 2 and n >= 2:
        grp = rng.permutation(n)[:int(rng.integers(2, n + 1))]
        L[np.ix_(grp, np.setdiff1d(np.arange(n), grp))] = 0.0
        ext[grp] = 0.0
        if rng.random() < 0.7:
            e[grp] = 0.0
        L[grp, np.roll(grp, -1)] += rng.integers(0, 2, grp.size)
        np.fill_diagonal(L, 0.0)
    forced = rng.random(n) < 0.1
    recovery = rng.choice([0.0, 0.5, 1.0], n)
    net = _make(L, e, ext, forced, recovery)
    expect = ref.is_unique_bruteforce(L, e, ext, forced, recovery)
    for path in ("reference", "compiled") if numba_available() else ("reference",):
        assert clear_path(net, path).unique is expect


@pytest.mark.parametrize("seed", range(30))
def test_rogers_veraart_without_costs_is_eisenberg_noe(seed):
    """alpha = beta = 1 is Eisenberg--Noe: identical payments, defaults, waves and uniqueness flag."""
    L, e, ext, forced, recovery = random_case(seed, n=[3, 10, 40][seed % 3])
    net = _make(L, e, ext, forced, recovery)
    en, rv = contagion.clear(net), contagion.clear(net, method="rogers-veraart", alpha=1.0, beta=1.0)
    np.testing.assert_array_equal(rv.payments, en.payments)
    np.testing.assert_array_equal(rv.defaulted, en.defaulted)
    np.testing.assert_array_equal(rv.default_round, en.default_round)
    assert rv.unique == en.unique


def test_small_institution_shortfall_is_not_a_tie():
    """Node 2 owes 1e-3 and holds 1e-3 - 1e-7: it is short by 0.01% of its own obligations,
    far above round-off, and must default however large node 0 is (DESIGN.md section 2:
    default iff e + Pi^T p < pbar)."""
    L = np.zeros((3, 3))
    L[0, 1], L[2, 1] = 1e9, 1e-3
    res = contagion.clear(net_of(L, [2e9, 0, 1e-3 - 1e-7]))
    assert res.equity[2] == pytest.approx(-1e-7, rel=1e-6)
    assert res.defaulted.tolist() == [False, False, True]
    assert res.payments[2] == pytest.approx(1e-3 - 1e-7, rel=1e-12)


def test_scale_invariance_exact():
    """Multiplying every amount by a power of two multiplies the payments by it exactly
    and changes nothing else (no absolute tolerance leaks into the answer)."""
    for seed in range(0, 40, 5):
        L, e, ext, forced, recovery = random_case(seed, n=12)
        base = contagion.clear(_make(L, e, ext, forced, recovery))
        for k in (-30, 30):
            c = 2.0 ** k
            scaled = contagion.clear(_make(L * c, e * c, ext * c, forced, recovery))
            np.testing.assert_array_equal(scaled.payments, base.payments * c)
            np.testing.assert_array_equal(scaled.default_round, base.default_round)


def test_parameters_a_method_does_not_take_are_a_contagion_error():
    net = contagion.load_dataset("chain")
    with pytest.raises(ContagionError):
        contagion.clear_many(net, net.external_assets[:, None], alpha=0.5)
    with pytest.raises(ContagionError):
        contagion.clear(net, method="eisenberg-noe", alpha=0.5)


@pytest.mark.parametrize("bad", [np.nan, -1.0, np.inf, -np.inf])
def test_clear_many_names_the_bad_external_asset(bad):
    """A NaN, infinite or negative entry of ``E`` is rejected with its place: row (institution, by
    name) and column (scenario); an empty batch is fine."""
    net = FinancialNetwork.from_matrix([[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10],
                                       names=["A", "B", "C"])
    E = np.full((3, 4), 5.0)
    E[2, 1] = bad
    with pytest.raises(ContagionError) as info:
        contagion.clear_many(net, E)
    assert f"external_assets[2, 1] = {float(bad)} (institution 'C', scenario 1)" in str(info.value)
    assert contagion.clear_many(net, np.zeros((3, 0))).payments.shape == (3, 0)


def test_block_solver_last_resort_starts_from_the_upper_bound():
    """A block that may be singular (here: it is, a closed cycle without outside money, whose
    solutions are all the constant vectors) goes to LU first even above DIRECT_LIMIT, never to a
    Krylov solver (which could return any solution); when LU fails (singular), the monotone
    iteration starts from the upper bound it was given, so it ends at the greatest solution (the
    bound itself here). Without the Krylov solvers and LU, a block that cannot be singular goes
    to the monotone iteration from its bound too."""
    m = core.DIRECT_LIMIT + 100
    M = sp.csr_array((np.ones(m), (np.arange(m), (np.arange(m) + 1) % m)), shape=(m, m))
    A = sp.csr_array(sp.identity(m, format="csr") - M)
    assert core._lu_solve(A, np.zeros(m), lambda v: M @ v, 1e-12) is None      # singular: LU fails
    x, how, _ = core._solve_block(A, np.zeros(m), np.full(m, 5.0), lambda v: M @ v, 1e-12)
    assert how == "picard"
    np.testing.assert_array_equal(x, 5.0)
    half = sp.csr_array(M * 0.5)
    A2 = sp.csr_array(sp.identity(m, format="csr") - half)
    x, how, its = core._solve_block(A2, np.ones(m), np.full(m, 5.0), lambda v: half @ v, 1e-12, False,
                                    core.BlockLimits(direct=0, lu_fallback=0, krylov=False))
    assert how == "picard" and its > 1
    np.testing.assert_allclose(x, 2.0, rtol=0, atol=1e-11)


@pytest.mark.parametrize("solver", ["reference", "compiled"])
def test_rogers_veraart_at_a_rounding_tie_pays_as_a_defaulter(solver):
    """B holds 0.6 and owes 0.4 + 0.2 = 0.6000000000000001 in floats: short in round 0 (decided exactly), so under
    Rogers--Veraart it pays alpha x 0.6 = 0.18 -- the check of the answer read B within the tie band as paying
    in full and refused it (ConvergenceError, residual 0.42) on every path."""
    net = contagion.FinancialNetwork.from_matrix(np.array([[0.0, 0.0], [0.4, 0.0]]), external_assets=[0.0, 0.6],
                                                 external_liabilities=[0.0, 0.2])
    assert net.total_obligations[1] > 0.6
    res = contagion.clear(net, method="rogers-veraart", alpha=0.3, beta=0.5, solver=solver)
    assert res.payments.tolist() == [0.0, 0.3 * 0.6] and res.default_round.tolist() == [-1, 0]
    batch = contagion.clear_many(net, np.repeat(net.external_assets[:, None], 300, axis=1), method="rogers-veraart",
                                 alpha=0.3, beta=0.5, solver=solver)
    assert np.array_equal(batch.payments, np.repeat(res.payments[:, None], 300, axis=1))
