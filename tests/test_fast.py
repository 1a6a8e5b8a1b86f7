"""Tests of the fast clearing paths (:mod:`contagion.clearing.fast`, :mod:`contagion.clearing.batch`).

Every compiled path must give what the reference gives: the fictitious-default
algorithm of :func:`contagion.clearing.core.fda_solve` (payments to 1e-9
relative, the same default set, the same default waves), the independent
references of ``tests/reference.py`` (dense FDA, LP, exact rational FDA), and
``clear_many`` must equal ``clear`` column by column. Networks: the random
cases of the foundation tests (``tests/test_clearing.py``: sparse, dense,
closed groups, near-threshold, forced defaults, all/no default), the three
benchmark families of :mod:`contagion.generators`, integer networks full of
exact ties, and the published examples.

The compiled path is normally taken only for large networks; the tests select
it with ``solver="compiled"`` (and reach the Krylov solver instead of the
small-block LU, the sweep budgets and the hub block through
:class:`~contagion.clearing.solvers.Tuning`). The oracle tests over every path
(LP, dense FDA, exact rational FDA, brute force) are parametrised over the
solver paths in ``tests/test_clearing.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import contagion
from contagion import ContagionError, FinancialNetwork
from contagion._matrix import numba_available
from contagion.clearing import batch, core, fast, solvers
from contagion.clearing.solvers import Tuning, clear_batch
from contagion.generators import FAMILIES, make_network, shock, shock_matrix

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_clearing import FAST_SOLVERS, _make, clear_path, random_case  # noqa: E402

pytestmark = pytest.mark.skipif(not numba_available(), reason="numba is not installed")

COMPILED_PATHS = ("compiled", "compiled-krylov")


def clear_many_on(net, E, method="eisenberg-noe", tuning=None, **params):
    """``clear_many`` on the compiled path, with ``tuning`` when given."""
    if tuning is None:
        return contagion.clear_many(net, E, method=method, solver="compiled", **params)
    return clear_batch(net, E, method, params.get("alpha", 1.0), params.get("beta", 1.0), solver="compiled",
                       tuning=tuning)


def _reference(net, alpha=1.0, beta=1.0):
    return core.fda_solve(net.PiT, net.total_obligations, net.external_assets, cap=net.payment_cap,
                          forced=net.forced_default, alpha=alpha, beta=beta)


def _assert_same(res, sol, net, rtol=1e-9):
    """Fast result == reference solution: payments (1e-9 relative), default set, waves, residual bound."""
    scale = float(net.total_obligations.max())
    np.testing.assert_allclose(res.payments, sol.payments, rtol=rtol, atol=1e-12 * scale)
    np.testing.assert_array_equal(res.defaulted, sol.defaulted)
    np.testing.assert_array_equal(res.default_round, sol.default_round)
    assert res.residual <= 1e-12 * scale
    assert res.converged


# ============================================================================ single clearing
def test_fast_published_examples():
    """NetworkValuation's three-bank EN and RV examples (siebenbrunner/NetworkValuation,
    Example.mlx) and Glasserman & Young (2015)'s core-periphery example, on the compiled path."""
    net = FinancialNetwork.from_matrix([[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10])
    res = contagion.clear(net, solver="compiled")
    assert res.solver == "howard-fast"
    np.testing.assert_allclose(res.payments, [270 / 11, 290 / 11, 10], rtol=1e-14)
    np.testing.assert_allclose(res.equity, [-60 / 11, -29 / 11, 30], rtol=1e-13)
    assert res.default_round.tolist() == [0, 1, -1] and res.unique is True
    net = FinancialNetwork.from_matrix([[0, 30, 0], [5, 0, 20], [10, 0, 0]], external_assets=[10, 5, 5])
    res = contagion.clear(net, method="rogers-veraart", alpha=0.4, beta=1.0, solver="compiled")
    assert res.solver == "fda-fast"
    np.testing.assert_allclose(res.payments, [18, 20, 10], rtol=1e-13)
    np.testing.assert_allclose(res.equity, [-6, -2, 11], rtol=1e-13, atol=1e-12)
    L = np.zeros((5, 5))
    L[2, [0, 1, 3, 4]] = 10
    net = FinancialNetwork.from_matrix(L, external_assets=[50, 50, 150 - 94, 50, 50],
                                       external_liabilities=[55, 55, 100, 55, 55])
    res = contagion.clear(net, solver="compiled")
    np.testing.assert_allclose(res.payments, [54, 54, 56, 54, 54], rtol=1e-13)
    assert res.total_shortfall == pytest.approx(88.0, rel=1e-12)


def test_fast_non_unique_ring_returns_greatest():
    """A closed ring without outside money has many clearing vectors (everyone pays
    everything, or any common fraction); the greatest (all pay in full) is returned and the
    result says it is not unique. A shocked member outside the ring keeps the fast path
    honest: the ring still clears in full."""
    net = contagion.load_dataset("ring")
    res = contagion.clear(net, solver="compiled")
    sol = _reference(net)
    _assert_same(res, sol, net)
    assert res.unique is False and contagion.clear(net, solver="reference").unique is False


def test_fast_forced_default_in_closed_ring():
    """A forced default inside a closed ring (Eisenberg--Noe, beta = 1): the round systems
    can be singular there, so the solver must hand over to the reference and still give
    the reference's greatest clearing vector and waves."""
    n = 6
    L = np.zeros((n, n))
    L[np.arange(n), (np.arange(n) + 1) % n] = 10.0
    net = FinancialNetwork.from_matrix(L, external_assets=np.zeros(n))
    forced = np.zeros(n, bool)
    forced[0] = True
    net = net.replace(forced_default=forced, forced_recovery=np.full(n, 0.5))
    res = contagion.clear(net, solver="compiled")
    _assert_same(res, _reference(net), net)
    assert res.default_round.tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(res.payments, 5.0)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("n,regime", [(400, "hard"), (3000, "hard"), (3000, "easy")])
@pytest.mark.parametrize("path", COMPILED_PATHS)
def test_fast_on_benchmark_families(family, n, regime, path):
    """The benchmark generators (Erdos-Renyi, scale-free Chung-Lu, core-periphery; a random
    3% of institutions lose their external assets): same payments, defaults and waves as
    the reference, and equity equal to e + Pi^T p - pbar."""
    net = shock(make_network(family, n, regime=regime, kappa=0.004 if regime == "hard" else 0.05), seed=n)
    res = clear_path(net, path)
    sol = _reference(net)
    _assert_same(res, sol, net)
    assert res.defaulted.any() and res.solver == "howard-fast"
    eq = net.external_assets + net.PiT @ sol.payments - net.total_obligations
    np.testing.assert_allclose(res.equity, eq, rtol=0, atol=1e-11 * net.total_obligations.max())


def test_fast_without_defaults_and_all_default():
    """No default at all (nothing to solve) and every institution defaulting."""
    rng = np.random.default_rng(0)
    n = 50
    L = rng.exponential(1.0, (n, n)) * (rng.random((n, n)) < 0.2)
    np.fill_diagonal(L, 0.0)
    rich = FinancialNetwork.from_matrix(L, external_assets=np.full(n, 1e3), external_liabilities=np.ones(n))
    res = contagion.clear(rich, solver="compiled")
    assert res.solver == "howard-fast" and not res.defaulted.any() and res.default_round.max() == -1 and res.iterations == 1
    np.testing.assert_array_equal(res.payments, rich.total_obligations)
    poor = FinancialNetwork.from_matrix(L, external_assets=np.zeros(n), external_liabilities=np.ones(n))
    res = contagion.clear(poor, solver="compiled")
    _assert_same(res, _reference(poor), poor)
    assert res.defaulted.all()


def test_fast_stats_and_memory_layout():
    """``fda_fast`` reports its work, and only touches obligations of defaulters: the
    compact blocks hold what members owe each other, the boundary what they owe the rest."""
    net = shock(make_network("core-periphery", 2000, kappa=0.004), seed=1)
    stats = fast.FastStats()
    sol = fast.fda_fast(net.PiT, net.relative_liabilities, net.total_obligations, net.external_assets,
                        stats=stats)
    D = sol.defaulted
    L = net.liabilities
    assert stats.default_set == int(D.sum())
    assert stats.block_nnz == L[D][:, D].nnz
    # the boundary also keeps what was owed to institutions that defaulted later (skipped when read)
    assert L[D][:, ~D].nnz <= stats.boundary_nnz <= L[D].nnz
    assert stats.rounds == sol.default_round.max() + 1 and stats.matvecs > 0 and stats.fallback == ""


# ============================================================================ many scenarios
def _columns_equal(batch_res, net, E, method="eisenberg-noe", **params):
    scale = float(net.total_obligations.max())
    for k in range(E.shape[1]):
        one = contagion.clear(net.replace(external_assets=E[:, k]), method=method, **params)
        np.testing.assert_allclose(batch_res.payments[:, k], one.payments, rtol=1e-9, atol=1e-12 * scale)
        np.testing.assert_array_equal(batch_res.defaulted[:, k], one.defaulted)
        assert batch_res.residual[k] <= 1e-12 * scale


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_clear_many_equals_clear_column_by_column(family):
    """``clear_many`` on the compiled scenario-parallel path equals ``clear`` (itself checked
    against the reference above) column by column, on each benchmark family."""
    net = make_network(family, 600, kappa=0.004)
    E = shock_matrix(net, 24, seed=5)
    res = clear_many_on(net, E)
    assert res.solver == "gs-parallel" and res.payments.shape == (600, 24)
    assert res.defaulted.any(axis=0).all()
    _columns_equal(res, net, E)


def test_clear_many_rogers_veraart_and_forced_defaults():
    """Rogers--Veraart costs and forced defaults on the batched path equal ``clear``."""
    net = make_network("core-periphery", 500, kappa=0.004)
    forced = np.zeros(net.n, bool)
    forced[np.random.default_rng(1).choice(net.n, 5, replace=False)] = True
    net = net.replace(forced_default=forced, forced_recovery=np.full(net.n, 0.4))
    E = shock_matrix(net, 12, seed=6)
    res = clear_many_on(net, E, method="rogers-veraart", alpha=0.6, beta=0.9)
    _columns_equal(res, net, E, method="rogers-veraart", alpha=0.6, beta=0.9)
    res = clear_many_on(net, E)
    _columns_equal(res, net, E)


@pytest.mark.parametrize("seed", range(0, 240, 5))
def test_clear_many_foundation_cases(seed):
    """Batched path on the foundation's random networks (closed groups, ties near the
    threshold, forced defaults...), with the given external assets and three scaled
    versions of them: equal to the reference FDA per column."""
    L, e, ext, forced, recovery = random_case(seed)
    net = _make(L, e, ext, forced, recovery)
    E = np.stack([e, 0.5 * e, 0.0 * e, 2.0 * e + 1.0], axis=1)
    res = clear_many_on(net, E)
    assert res.solver.startswith("gs-parallel")
    scale = float(net.total_obligations.max())
    for k in range(E.shape[1]):
        sol = _reference(net.replace(external_assets=E[:, k]))
        np.testing.assert_allclose(res.payments[:, k], sol.payments, rtol=1e-9, atol=1e-12 * scale)
        np.testing.assert_array_equal(res.defaulted[:, k], sol.defaulted)


def test_clear_many_memory_orders_and_one_column():
    """C- and Fortran-ordered inputs and a single 1-d column give the same answers."""
    net = make_network("erdos-renyi", 300, kappa=0.004)
    E = shock_matrix(net, 6, seed=2)
    a = clear_many_on(net, np.ascontiguousarray(E))
    b = clear_many_on(net, np.asfortranarray(E))
    np.testing.assert_array_equal(a.payments, b.payments)
    c = clear_many_on(net, E[:, 3])
    np.testing.assert_array_equal(c.payments[:, 0], a.payments[:, 3])


def test_batch_gives_up_to_reference_not_silently():
    """Scenarios the compiled iteration cannot settle within its sweep budget (here 2 sweeps)
    are re-solved by the reference, never returned unconverged."""
    net = make_network("core-periphery", 300, kappa=0.004)
    E = shock_matrix(net, 5, seed=3)
    res = clear_many_on(net, E, tuning=Tuning(max_sweeps=2))
    assert res.solver == "gs-parallel+fda"
    _columns_equal(res, net, E)


# ============================================================================ pure path == compiled path
def test_policy_iteration_waves_on_first_access():
    """Eisenberg--Noe on the compiled path runs policy iteration with loose rounds
    (``howard-fast``, on BiCGSTAB with ``lu_limit=0``); its result computes the
    FDA waves only when ``default_round`` is first read, and they equal the reference's;
    a pickled result carries the waves."""
    import pickle

    net = shock(make_network("core-periphery", 3000, kappa=0.004), seed=9)
    res = clear_path(net, "compiled-krylov")
    sol = _reference(net)
    assert res.solver == "howard-fast"
    assert "default_round" not in res.__dict__
    _assert_same(res, sol, net)
    assert "default_round" in res.__dict__ and res.waves == int(sol.default_round.max()) >= 2
    back = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(back.default_round, sol.default_round)
    # Rogers--Veraart with default costs keeps the exact FDA (its clearing vectors are not unique)
    rv = clear_path(net, "compiled-krylov", "rogers-veraart", 0.9, 0.95)
    assert rv.solver == "fda-fast" and "default_round" in rv.__dict__
    _assert_same(rv, _reference(net, 0.9, 0.95), net)


def test_waves_up_front_clears_by_the_fda_once():
    """Inside ``waves_up_front`` (what ``stress`` does) Eisenberg--Noe on the compiled path runs the FDA
    once: the waves come with the clearing, equal to the reference's and to those policy iteration's
    result computes later; same default set, payments within the residual bound. Outside the context,
    and after an exception inside it, ``clear`` is policy iteration again."""
    from contagion.pipeline import stress

    net = shock(make_network("core-periphery", 3000, kappa=0.004), seed=9)
    sol = _reference(net)
    with solvers.waves_up_front():
        with solvers.waves_up_front():
            inner = contagion.clear(net, solver="compiled")
        res = contagion.clear(net, solver="compiled")
    assert inner.solver == res.solver == "fda-fast"
    assert "default_round" in res.__dict__          # computed with the clearing, not on access
    _assert_same(res, sol, net)
    np.testing.assert_array_equal(res.default_round, sol.default_round)
    assert res.waves == int(sol.default_round.max()) >= 2
    policy = contagion.clear(net, solver="compiled")
    assert policy.solver == "howard-fast" and "default_round" not in policy.__dict__
    np.testing.assert_array_equal(policy.default_round, res.default_round)
    np.testing.assert_array_equal(policy.defaulted, res.defaulted)
    assert np.all(np.abs(policy.payments - res.payments) <= 1e-12 * net.total_obligations)
    with pytest.raises(RuntimeError), solvers.waves_up_front():
        raise RuntimeError("inside")
    assert contagion.clear(net, solver="compiled").solver == "howard-fast"
    st = stress(net, [], solver="compiled")
    assert st.clearing.solver == "fda-fast"
    np.testing.assert_array_equal(st.clearing.default_round, sol.default_round)
    # Rogers--Veraart is the FDA either way
    assert stress(net, [], method="rogers-veraart", alpha=0.9, beta=0.95, solver="compiled").clearing.solver == "fda-fast"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_waves_from_a_known_final_set_equal_the_full_fda(family):
    """``fda_waves`` (what the waves of a policy-iteration result use) stops once the FDA
    reaches the known final default set; its waves equal the full FDA's and the reference's,
    with forced defaults too. Given a set the FDA never reaches (one more institution), it
    runs to the end and gives the same waves. ``clear`` reads them through that path."""
    net = shock(make_network(family, 3000, kappa=0.004), seed=13)
    forced = np.zeros(net.n, bool)
    forced[np.argsort(-net.total_obligations)[:3]] = True
    for case in (net, net.replace(forced_default=forced, forced_recovery=np.full(net.n, 0.4))):
        sol = _reference(case)
        args = (case.PiT, case.relative_liabilities, case.total_obligations, case.external_assets)
        kw = dict(cap=case.payment_cap, forced=case.forced_default, ext_liab=case.external_liabilities)
        full_stats, stats = fast.FastStats(), fast.FastStats()
        full = fast.fda_fast(*args, stats=full_stats, **kw)
        early = fast.fda_waves(*args, sol.defaulted, stats=stats, **kw)
        np.testing.assert_array_equal(full.default_round, sol.default_round)
        np.testing.assert_array_equal(early, sol.default_round)
        # the last round (the final set) is not solved again
        assert stats.solves < full_stats.solves and stats.default_set == int(sol.defaulted.sum())
        more = sol.defaulted.copy()
        more[np.flatnonzero(~more & (case.total_obligations > 0))[0]] = True
        np.testing.assert_array_equal(fast.fda_waves(*args, more, **kw), sol.default_round)
        res = contagion.clear(case, solver="compiled")
        assert res.solver == "howard-fast"
        np.testing.assert_array_equal(res.default_round, sol.default_round)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_pure_path_equals_compiled_path(family):
    """The pure numpy/scipy path (``solver="reference"``, what runs without numba)
    and the compiled path give the same results, for ``clear`` and ``clear_many``."""
    net = shock(make_network(family, 1500, kappa=0.004), seed=4)
    E = shock_matrix(net, 8, seed=4)
    pure, pure_many = contagion.clear(net, solver="reference"), contagion.clear_many(net, E, solver="reference")
    comp, comp_many = contagion.clear(net, solver="compiled"), contagion.clear_many(net, E, solver="compiled")
    assert pure.solver.startswith("fda-") and pure.solver not in FAST_SOLVERS and comp.solver == "howard-fast"
    assert pure_many.solver == "fda-per-column" and comp_many.solver == "gs-parallel"
    scale = float(net.total_obligations.max())
    np.testing.assert_allclose(comp.payments, pure.payments, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_array_equal(comp.defaulted, pure.defaulted)
    np.testing.assert_array_equal(comp.default_round, pure.default_round)
    np.testing.assert_allclose(comp.equity, pure.equity, rtol=1e-9, atol=1e-11 * scale)
    assert comp.unique == pure.unique
    np.testing.assert_allclose(comp_many.payments, pure_many.payments, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_array_equal(comp_many.defaulted, pure_many.defaulted)


def test_auto_dispatch():
    """``"auto"`` takes the reference path for small problems and the compiled path for large
    ones (networks of FAST_MIN_EDGES obligations; batches of BATCH_MIN_WORK obligations x
    scenarios or MANY_SCENARIOS scenarios); explicit choices are kept; an unknown one is a
    ContagionError that lists the choices."""
    assert solvers.choose("auto", 10, solvers.FAST_MIN_EDGES) == "reference"
    assert solvers.choose("auto", solvers.FAST_MIN_EDGES, solvers.FAST_MIN_EDGES) == "compiled"
    assert solvers.choose("compiled", 10, solvers.FAST_MIN_EDGES) == "compiled"
    assert solvers.choose("reference", 10**9, solvers.FAST_MIN_EDGES) == "reference"
    net = contagion.load_dataset("chain")
    assert contagion.clear(net).solver.startswith("fda-")
    assert contagion.clear_many(net, np.ones((net.n, 3))).solver == "fda-per-column"
    assert contagion.clear_many(net, np.ones((net.n, solvers.MANY_SCENARIOS))).solver == "gs-parallel"
    with pytest.raises(ContagionError, match="unknown solver 'magic'; choose one of auto, reference, compiled"):
        contagion.clear(net, solver="magic")
    with pytest.raises(ContagionError, match="unknown solver"):
        contagion.clear_many(net, np.ones((net.n, 2)), solver="fast")
    with pytest.raises(ContagionError, match="single algorithm"):
        contagion.clear(net, method="threshold", solver="compiled")
    assert contagion.clear(net, method="threshold", solver="auto").method == "threshold"


def test_environment_alias_sets_what_auto_means(monkeypatch):
    """``CONTAGION_SOLVER`` (a thin alias read by :mod:`.solvers` only) says what ``"auto"``
    means; the old name ``fast`` still means ``compiled``; an explicit ``solver=`` wins."""
    net = contagion.load_dataset("chain")
    monkeypatch.setenv("CONTAGION_SOLVER", "fast")
    assert contagion.clear(net).solver == "howard-fast"
    assert contagion.clear(net, solver="reference").solver.startswith("fda-")
    monkeypatch.setenv("CONTAGION_SOLVER", "compiled")
    assert contagion.clear_many(net, np.ones((net.n, 2))).solver == "gs-parallel"
    monkeypatch.setenv("CONTAGION_SOLVER", "bogus")
    with pytest.raises(ContagionError, match="CONTAGION_SOLVER='bogus' is not a solver"):
        contagion.clear(net)


_WITHOUT_NUMBA = r"""
import sys, warnings
sys.modules["numba"] = None          # numba cannot be imported in this process
import numpy as np, contagion
from contagion.clearing.solvers import FAST_MIN_EDGES, SlowPathWarning
from contagion.generators import make_network, shock
net = contagion.load_dataset("chain")
try:
    contagion.clear(net, solver="compiled")
except contagion.ContagionError as exc:
    print("error:", exc)
big = shock(make_network("erdos-renyi", 6000, kappa=0.004), seed=1)
assert big.liabilities.nnz >= FAST_MIN_EDGES
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("default")
    res = contagion.clear(big)
    again = contagion.clear(big)
print("solver:", res.solver, again.solver)
print("warnings:", [(w.category.__name__, str(w.message)) for w in seen])
ref = contagion.clear(big, solver="reference")
print("same:", np.array_equal(res.payments, ref.payments))
print("numba imported:", sys.modules.get("numba") is not None)
"""


def test_without_numba_compiled_is_an_error_and_auto_warns_once():
    """Without numba (a process where it cannot be imported): ``solver="compiled"`` is a clear
    ContagionError; a large problem under ``"auto"`` runs the reference path with the same result
    and warns once (SlowPathWarning) that it is slow and how to install numba."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _WITHOUT_NUMBA], capture_output=True, text=True, check=True).stdout
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert "solver='compiled' needs numba, which is not installed: pip install 'numba>=0.59'" in lines["error"]
    assert lines["solver"].split() == [lines["solver"].split()[0]] * 2
    assert lines["solver"].startswith("fda-")    # the reference FDA ran, and found defaults
    warned = eval(lines["warnings"])   # noqa: S307 - our own subprocess's repr of a list
    assert len(warned) == 1 and warned[0][0] == "SlowPathWarning"
    assert "slow pure numpy/scipy path" in warned[0][1] and "pip install 'numba>=0.59'" in warned[0][1]
    assert lines["same"] == "True" and lines["numba imported"] == "False"


# ============================================================================ helpers
def _unique_by_all_components(net, p):
    """Uniqueness by the definition (Eisenberg & Noe 2001, Thm 2), with a strongly-connected-components
    pass over the whole network: unique unless a sink component of two or more institutions
    without outside money receives nothing from outside and still pays something inside."""
    from scipy.sparse.csgraph import connected_components

    L, ext, e = net.liabilities, net.external_liabilities, net.external_assets
    ncomp, labels = connected_components(L, directed=True, connection="strong")
    coo = L.tocoo()
    leaves = labels[coo.row] != labels[coo.col]
    out_comp = np.zeros(ncomp, dtype=bool)
    out_comp[labels[coo.row[leaves]]] = True
    out_comp[labels[ext > 0]] = True
    out_comp[labels[e > 0]] = True
    size = np.bincount(labels, minlength=ncomp)
    scale = max(float(p.max()) if p.size else 0.0, 1e-300)
    inflow = net.PiT @ p
    for c in np.flatnonzero(~out_comp & (size > 1)):
        members = np.flatnonzero(labels == c)
        inside = net.PiT[members][:, members] @ p[members]
        if np.max(p[members]) > 1e-12 * scale and float(np.sum(inflow[members] - inside)) <= 1e-12 * scale * members.size:
            return False
    return True


@pytest.mark.parametrize("seed", range(40))
def test_is_unique_matches_full_component_pass(seed):
    """The one uniqueness test (:func:`core.is_unique`, components of the pruned candidates only)
    equals the definition evaluated on all strongly connected components."""
    L, e, ext, forced, recovery = random_case(seed, kind=["closed-group", "sparse", "dense", "no-obligations"][seed % 4])
    net = _make(L, e, ext, forced, recovery)
    p = _reference(net).payments
    assert core.is_unique(net.liabilities, net.external_liabilities, net.external_assets, p, net.PiT) == \
        _unique_by_all_components(net, p)


def test_replace_keeps_matrices_when_obligations_unchanged():
    """A scenario that changes external assets only (or forced defaults) reuses Pi and Pi^T
    instead of rebuilding them; one that changes obligations rebuilds them."""
    net = make_network("erdos-renyi", 500, kappa=0.004)
    PiT, Pi = net.PiT, net.relative_liabilities
    shocked = net.replace(external_assets=net.external_assets * 0.5)
    assert shocked.PiT is PiT and shocked.relative_liabilities is Pi
    forced = shocked.replace(forced_default=np.arange(net.n) < 3, forced_recovery=np.full(net.n, 0.2))
    assert forced.PiT is PiT
    more_ext = net.replace(external_liabilities=net.external_liabilities * 2)
    assert more_ext.PiT is not PiT
    np.testing.assert_allclose(more_ext.total_obligations,
                               net.interbank_liabilities + 2 * net.external_liabilities)
    np.testing.assert_allclose(more_ext.relative_liabilities.toarray(),
                               net.liabilities.toarray() / more_ext.total_obligations[:, None])


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_clear_many_residuals_are_true_residuals(family):
    """The benchmark batch itself (10,000 scenarios, 1,000 institutions, hard regime): every
    column is a fixed point of the clearing map to 1e-12 of max pbar, recomputed here
    independently of the solver's bookkeeping, and the default set is the one read off the
    payments. (Regression: a defaulter joining in the middle of a pass once missed the
    changes of the ones after it; the solver's own residual did not see it, this check did.)"""
    net = make_network(family, 1000)
    E = shock_matrix(net, 10_000, seed=11)
    res = clear_many_on(net, E)
    pbar, scale = net.total_obligations, float(net.total_obligations.max())
    P = np.asarray(res.payments)
    inflow = net.PiT @ P
    short = (pbar[:, None] > 0) & (E + inflow < (pbar - core.tie_tolerance(pbar))[:, None])
    T = np.where(short, np.minimum(net.payment_cap[:, None], np.maximum(E + inflow, 0.0)), pbar[:, None])
    T = np.where(pbar[:, None] > 0, T, 0.0)
    assert np.max(np.abs(T - P)) <= 1e-12 * scale
    np.testing.assert_array_equal(res.defaulted, short)
    assert np.all(res.residual <= 1e-12 * scale)


@pytest.mark.slow
def test_benchmark_smoke_test_catches_a_wrong_answer(monkeypatch):
    """``scripts/bench.py --quick`` (run by CI) checks the fast paths against the reference
    and reports a mismatch (exit code 1): here the compiled single-clearing path is
    sabotaged (one payment off by 1e-6 of max pbar) and the check must say so."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench", Path(__file__).resolve().parents[1] / "scripts" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.check_exactness(400, 4, lambda msg: None) == []
    real = fast.policy_iteration

    def wrong(*args, **kw):
        sol = real(*args, **kw)
        p = sol.payments.copy()
        p[np.argmax(sol.defaulted)] -= 1e-6 * float(p.max())
        return fast.FastSolution(p, sol.defaulted, sol.default_round, sol.iterations, sol.residual, sol.converged,
                                 sol.solver, sol.equity, sol.stats)

    monkeypatch.setattr(fast, "policy_iteration", wrong)
    # solvers verifies compiled answers in payment form (and would recompute this one): switch that off
    monkeypatch.setattr(solvers, "_verified", lambda net, sol, *args: sol)
    problems = bench.check_exactness(400, 4, lambda msg: None)
    assert problems and all(p.startswith("clear ") for p in problems)


@pytest.mark.slow
def test_batch_zero_money_screen_is_per_pattern():
    """The batched path screens scenarios for closed groups without outside money once per
    pattern of institutions with no outside assets. On the ring dataset (A -> B -> C -> A, no outside
    money; D owes E), the ring is closed and without money in the columns where A holds nothing
    outside (those go to the exact reference) and not where it does; every answer must equal the
    reference column by column, and the greatest vector (the ring pays in full) is kept."""
    net = contagion.load_dataset("ring")
    rng = np.random.default_rng(3)
    E = np.repeat(net.external_assets[:, None], 600, axis=1) * rng.uniform(0, 2, (net.n, 600))
    E[:, ::7] = 0.0                      # some columns with no outside money at all
    E[0, 1::2] = 1.0                     # A (in the ring) holds outside money in the odd columns
    cols = batch._zero_money_columns(net, E, 1.0)
    assert cols.tolist() == list(range(0, 600, 2))  # only the even columns have a closed ring without money
    comp = contagion.clear_many(net, E, solver="compiled")
    pure = contagion.clear_many(net, E, solver="reference")
    assert comp.solver == "gs-parallel+fda"
    np.testing.assert_allclose(comp.payments, pure.payments, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(comp.defaulted, pure.defaulted)
    np.testing.assert_array_equal(comp.payments[:3, ::2], 10.0)   # greatest clearing vector on the moneyless ring


# ============================================================================ batched path: hub block and scheduling
# (Tests of the block Gauss--Seidel of :mod:`contagion.clearing.batch`: hubs solved together by a dense
# LU, the cap on monotone sweeps, the memory layouts read in place. Every answer is compared with
# ``clear`` / the reference FDA, never with the batched path itself.)
def test_hub_block_is_the_core_of_a_core_periphery_network():
    """The hubs of a core-periphery network are exactly its core (the institutions the generator
    gives the thinner capital buffer, 2% of them), and ``Hm`` is their block of ``Pi``
    transposed; an Erdos-Renyi network (no institution with 4x the mean degree) has none."""
    from contagion.generators import _sample

    net = make_network("core-periphery", 1000)
    hubs, Hm = batch.hub_block(net)
    _, buffer = _sample("core-periphery", 1000, 10.0, 0)
    np.testing.assert_array_equal(hubs, np.flatnonzero(buffer < 1.0))
    assert hubs.size == 20
    np.testing.assert_array_equal(Hm, net.relative_liabilities.toarray()[np.ix_(hubs, hubs)].T)
    assert batch.hub_block(make_network("erdos-renyi", 1000))[0].size == 0


#: Every institution with a counterparty in the hub block (up to 64 by degree), however weakly they
#: are coupled: forces the dense block solve onto closed groups, forced defaults, ties and
#: institutions that pay nothing.
EVERY_NODE_A_HUB = Tuning(hub_degree_factor=0.0, hub_min_coupling=0.0)


@pytest.mark.parametrize("seed", range(0, 240, 3))
def test_clear_many_with_hub_block_on_foundation_cases(seed):
    """With every institution that owes something in the hub block, the batched path on the
    foundation's random networks (closed groups, near-threshold ties, forced defaults, all or no
    default; four scalings of the external assets) equals the reference FDA column by column,
    for Eisenberg--Noe and for Rogers--Veraart."""
    L, e, ext, forced, recovery = random_case(seed)
    net = _make(L, e, ext, forced, recovery)
    hubs, _ = batch.hub_block(net, EVERY_NODE_A_HUB.hub_degree_factor, EVERY_NODE_A_HUB.hub_min_coupling)
    if net.relative_liabilities.nnz:
        assert hubs.size == min(64, net.n)
    E = np.stack([e, 0.5 * e, 0.0 * e, 2.0 * e + 1.0], axis=1)
    scale = float(net.total_obligations.max())
    for alpha, beta in ((1.0, 1.0), (0.7, 0.8)):
        res = clear_many_on(net, E, "rogers-veraart", EVERY_NODE_A_HUB, alpha=alpha, beta=beta)
        assert res.solver.startswith("gs-parallel")
        for k in range(E.shape[1]):
            sol = _reference(net.replace(external_assets=E[:, k]), alpha=alpha, beta=beta)
            np.testing.assert_allclose(res.payments[:, k], sol.payments, rtol=1e-9, atol=1e-12 * scale)
            np.testing.assert_array_equal(res.defaulted[:, k], sol.defaulted)


def test_clear_many_forced_hubs_and_costs():
    """Core-periphery network with three of its hubs forced into default (recovery 0.3, so they
    leave the block) and Rogers--Veraart costs: equal to ``clear`` column by column."""
    net = make_network("core-periphery", 500, kappa=0.004)
    hubs, _ = batch.hub_block(net)
    assert hubs.size >= 5
    forced = np.zeros(net.n, bool)
    forced[hubs[:3]] = True
    net = net.replace(forced_default=forced, forced_recovery=np.full(net.n, 0.3))
    E = shock_matrix(net, 16, seed=8)
    res = clear_many_on(net, E, method="rogers-veraart", alpha=0.5, beta=0.9)
    assert res.solver == "gs-parallel"
    _columns_equal(res, net, E, method="rogers-veraart", alpha=0.5, beta=0.9)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_clear_many_late_defaulters_join_at_the_check(family):
    """With a single monotone sweep allowed, most of each cascade is found by the check from
    scratch (late defaulters join and the sweeps resume on the larger set); the answers still
    equal ``clear``, with and without the hub block."""
    net = make_network(family, 600, kappa=0.004)
    E = shock_matrix(net, 12, seed=9)
    _columns_equal(clear_many_on(net, E, tuning=Tuning(max_cascade_sweeps=1)), net, E)
    _columns_equal(clear_many_on(net, E, tuning=Tuning(max_cascade_sweeps=1, hub_min_coupling=np.inf)), net, E)


def test_clear_many_reads_any_layout():
    """Fortran-ordered (each scenario contiguous), C-ordered (read by column in place) and strided
    external assets give identical answers, equal to ``clear``."""
    net = make_network("core-periphery", 400, kappa=0.004)
    E = shock_matrix(net, 20, seed=10)
    F = clear_many_on(net, np.asfortranarray(E))
    C = clear_many_on(net, np.ascontiguousarray(E))
    S = clear_many_on(net, np.asfortranarray(np.repeat(E, 2, axis=1))[:, ::2])
    for other in (C, S):
        np.testing.assert_array_equal(other.payments, F.payments)
        np.testing.assert_array_equal(other.defaulted, F.defaulted)
    _columns_equal(F, net, E)


@pytest.mark.parametrize("n, k, most", [(100_000, 40, 5), (20_000, 3000, 9), (50, 30, 12), (1000, 0, 0)])
def test_boundary_grouping_by_sort_equals_transpose(n, k, most):
    """A B block (what new members owe the solvent, by debtor) regrouped by creditor: the sort used
    for small blocks gives exactly the arrays of the transpose used for large ones (creditors
    ascending, each creditor's debtors ascending), so the solvency checks add in the same order."""
    from contagion.clearing import _layers

    rng = np.random.default_rng(n + k)
    cnt = rng.integers(0, most + 1, k)
    b_ptr = np.concatenate([[0], np.cumsum(cnt)]).astype(np.int64)
    b_node = np.concatenate([np.sort(rng.choice(n, c, replace=False)) for c in cnt] or [np.zeros(0)]).astype(np.uint32)
    b_val = rng.random(b_node.size)
    by_sort = _layers.boundary_by_creditor(b_ptr, b_node, b_val, n, 2, sort_below=10**9)
    by_transpose = _layers.boundary_by_creditor(b_ptr, b_node, b_val, n, 2, sort_below=0)
    for a, b in zip(by_sort, by_transpose):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    rows, ptr, col, val = by_sort
    # spot check against a dense regrouping: creditor rows[r] is owed val by debtor col
    dense = {}
    for q in range(k):
        for t in range(b_ptr[q], b_ptr[q + 1]):
            dense.setdefault(int(b_node[t]), []).append((q, b_val[t]))
    assert rows.tolist() == sorted(dense)
    for r, c in enumerate(rows):
        assert list(zip(col[ptr[r]:ptr[r + 1]].tolist(), val[ptr[r]:ptr[r + 1]].tolist())) == dense[int(c)]


def test_zero_money_columns_equal_a_check_per_column():
    """The scenarios handed to the reference for a closed group without outside money: the packed-pattern
    screen (distinct zero patterns found on bytes) flags exactly the columns a per-column check flags. Two
    closed rings (3 and 9 members: patterns wider than a byte) and a leaking debtor; outside assets zero at
    random."""
    from contagion.clearing.batch import _zero_money_columns
    from contagion.clearing.core import zero_money_closed

    L = np.zeros((13, 13))
    for a, b in ((0, 1), (1, 2), (2, 0)):
        L[a, b] = 5
    ring = list(range(3, 12))
    for a, b in zip(ring, ring[1:] + ring[:1]):
        L[a, b] = 2
    L[12, 0] = 1
    net = FinancialNetwork.from_matrix(L, external_assets=np.ones(13), external_liabilities=np.r_[np.zeros(12), 1.0])
    rng = np.random.default_rng(3)
    E = (rng.random((13, 4000)) < 0.6) * rng.uniform(0.5, 2, (13, 4000))
    expect = [k for k in range(E.shape[1])
              if zero_money_closed(net.liabilities, net.external_liabilities, E[:, k]).size > 0]
    got = _zero_money_columns(net, E, 1.0)
    assert got.tolist() == expect and 100 < len(expect) < 4000


def _round0_columns_by_numpy(net, E, tiev):
    """The screen of ``batch._round0_columns`` written out in numpy (what the compiled pass replaced)."""
    pbar, assets = net.total_obligations, net.interbank_assets
    thr = np.where(pbar > 0, tiev + core.ROUND0_BAND * (E.max(axis=1) + assets + pbar), -1.0)
    near = (np.abs(E + (assets - pbar)[:, None]) <= thr[:, None]).any(axis=0)
    return np.flatnonzero(near)


@pytest.mark.parametrize("order", ["C", "F"])
def test_round0_screen_finds_every_column_with_a_gap_at_zero(order, monkeypatch):
    """Columns where some institution's round-0 gap ``e + assets - pbar`` lies within the band of zero are the
    ones the compiled screen passes on (C- and Fortran-ordered scenarios alike); planted ties are among them."""
    net = make_network("scale-free", 300, seed=4)
    E = shock_matrix(net, 400, seed=5)
    gap_free = net.total_obligations - net.interbank_assets        # outside assets that leave a gap of 0
    owes = np.flatnonzero((net.total_obligations > 0) & (gap_free > 0))
    planted = np.array([3, 77, 250, 399])
    for k, i in zip(planted, owes[:4]):
        E[i, k] = gap_free[i]
    E[owes[5], 120] = gap_free[owes[5]] * (1 + 1e-13)                # inside the band, not exactly at zero
    E = np.asarray(E, order=order)
    tiev = core.TIE_RTOL * net.total_obligations
    seen = []
    monkeypatch.setattr(batch, "short_in_full", lambda *a, **k: seen.append(1) or core.short_in_full(*a, **k))
    batch._round0_columns(net, E, tiev)
    expected = _round0_columns_by_numpy(net, E, tiev)
    assert set(planted) | {120} <= set(expected.tolist())
    assert len(seen) == expected.size          # each screened column, and only those, decided exactly


def test_cancelling_check_dense_and_sparse_products_agree(monkeypatch):
    """The payment-form check of ``clear_many`` multiplies a dense copy of the few rows it needs; above
    ``DENSE_CHECK_MAX`` the sparse product: both find the same wrong column."""
    L = np.zeros((4, 4))
    L[1, 0], L[2, 0], L[3, 0], L[0, 1] = 500.0, 400.0, 300.0, 2.0   # 0 is owed 600 times what it owes
    net = FinancialNetwork.from_matrix(L, external_assets=[1, 100, 100, 100])
    E = np.tile(net.external_assets[:, None], (1, 5))
    E[1, 2] = 10.0                                                    # 1 defaults in scenario 2
    P, D, its, res, unsettled = batch.compiled_batch(net, E)
    assert unsettled.tolist() == []
    assert batch._cancelling_columns(net, E, P, 1.0, 1.0).tolist() == []
    bad = P.copy()
    bad[0, 4] *= 0.9                                                  # not a fixed point in column 4
    dense = batch._cancelling_columns(net, E, bad, 1.0, 1.0)
    monkeypatch.setattr(batch, "DENSE_CHECK_MAX", 0)
    assert batch._cancelling_columns(net, E, bad, 1.0, 1.0).tolist() == dense.tolist() == [4]


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (0.6, 0.8)])
def test_payment_form_check_equals_scipy_and_the_clearing_map(alpha, beta):
    """The compiled payment-form check of compiled answers: ``PiT @ p`` with the same bits as scipy's CSR
    product, and exactly the institutions the numpy clearing map puts farther than ``1e-12 * pbar_i`` from
    ``T(p)`` counted (forced, capped and zero-pbar institutions and a NaN included)."""
    from contagion.clearing._kernels import payment_form

    net = shock(make_network("scale-free", 4000, kappa=0.004), seed=21)
    L, ext = net.liabilities.toarray(), net.external_liabilities.copy()
    L[50:60], ext[50:60] = 0.0, 0.0                                     # ten institutions owe nothing
    forced = np.zeros(net.n, bool)
    forced[:40] = True
    net = FinancialNetwork.from_matrix(L, net.external_assets, ext).replace(
        forced_default=forced, forced_recovery=np.full(net.n, 0.5))
    res = contagion.clear(net, method="rogers-veraart", alpha=alpha, beta=beta, solver="compiled")
    PiT, pbar, e, cap = net.PiT, net.total_obligations, net.external_assets, net.payment_cap
    rng = np.random.default_rng(4)
    for p in (res.payments, res.payments * (1 + 1e-9 * rng.standard_normal(net.n)), rng.random(net.n) * pbar):
        p = p.copy()
        for damaged in (False, True):
            if damaged:
                p[7] = np.nan
            inflow = np.empty(net.n)
            bad = payment_form(PiT.indptr, PiT.indices, PiT.data, p, pbar, e, cap, net.forced_default, alpha, beta,
                               core.TIE_RTOL, core.RESIDUAL_RTOL, inflow)
            want = PiT @ p
            np.testing.assert_array_equal(inflow, want)           # bit for bit (NaN where scipy has NaN)
            T = core.clearing_map_from(want, pbar, e, cap, alpha, beta, net.forced_default)
            assert bad == int(np.count_nonzero(~(np.abs(T - p) <= core.RESIDUAL_RTOL * pbar)))
    assert int((pbar == 0).sum()) > 0 and 0 < bad < net.n
    exact = np.empty(net.n)
    assert payment_form(PiT.indptr, PiT.indices, PiT.data, res.payments, pbar, e, cap, net.forced_default, alpha,
                        beta, core.TIE_RTOL, core.RESIDUAL_RTOL, exact) == 0
    np.testing.assert_array_equal(res.equity, e + exact - pbar)


@pytest.mark.skipif(not numba_available() or __import__("numba").config.NUMBA_NUM_THREADS < 2,
                    reason="needs numba with two threads")
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_compiled_answer_does_not_depend_on_the_thread_count(family, monkeypatch):
    """The thread count follows the machine's load (``contagion._matrix.use_threads``), so the compiled
    clearing must give the same bits on one thread and on two: BiCGSTAB's dot products are added in
    fixed blocks, not per thread. Policy iteration, the FDA (``waves_up_front``, what ``run`` uses) and
    Rogers--Veraart; the network is above ``PARALLEL_MIN_NNZ`` so that two threads really run."""
    net = shock(make_network(family, 12_000), seed=4)
    assert net.PiT.nnz >= fast.PARALLEL_MIN_NNZ
    runs = {}
    for threads in ("1", "2"):
        monkeypatch.setenv("CONTAGION_THREADS", threads)
        policy = contagion.clear(net, solver="compiled")
        with solvers.waves_up_front():
            fda = contagion.clear(net, solver="compiled")
        rv = contagion.clear(net, method="rogers-veraart", alpha=0.9, beta=0.95, solver="compiled")
        runs[threads] = (policy, fda, rv)
    for one, two in zip(runs["1"], runs["2"]):
        assert one.solver == two.solver and one.solver in ("howard-fast", "fda-fast")
        assert one.payments.tobytes() == two.payments.tobytes()
        assert one.equity.tobytes() == two.equity.tobytes()
        np.testing.assert_array_equal(one.default_round, two.default_round)
    assert runs["1"][0].n_defaults > 0
    _assert_same(runs["2"][0], _reference(net), net)


def test_dot_products_add_in_fixed_blocks():
    """The round's dot products equal the sum, in order, of each ``SUM_BLOCK`` block's sum in order (what
    makes them independent of the threads), beside the max-norm they return with it."""
    from contagion.clearing import _kernels as K

    rng = np.random.default_rng(3)
    n = 3 * K.SUM_BLOCK + 17
    a, b, w = rng.normal(size=(3, n)) * 10.0 ** rng.integers(-8, 8, size=(3, n))

    def blocked(terms):
        total = 0.0
        for s in range(0, n, K.SUM_BLOCK):
            part = 0.0
            for t in terms[s:s + K.SUM_BLOCK]:
                part += float(t)
            total += part
        return total

    assert K.dot(a, b) == blocked(a * b)
    lin = rng.random(n) < 0.7
    y = b.copy()
    v = np.where(lin, a - 0.5 * b, a)
    assert K.finish_dot(a, y, lin, 0.5, w) == blocked(w * v)
    np.testing.assert_array_equal(y, v)
    y = b.copy()
    assert K.finish_dot2(a, y, lin, 0.5) == (blocked(v * a), blocked(v * v))
    x, r = a.copy(), b.copy()
    iw = np.abs(w)
    m, d = K.update_xr(x, w, r, a, 0.25, 0.75, w, iw)
    r_expected = b - 0.75 * a
    np.testing.assert_array_equal(x, a + (0.25 * w + 0.75 * b))
    np.testing.assert_array_equal(r, r_expected)
    assert m == float(np.max(np.abs(r_expected) * iw)) and d == blocked(w * r_expected)
