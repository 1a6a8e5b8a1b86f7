"""Hypothesis properties of clearing (Eisenberg--Noe and Rogers--Veraart).

Deterministic (``derandomize=True``, no example database) and small, so the
module runs in seconds. Networks have 2..7 institutions; amounts are drawn
either as small integers (exact ties are frequent) or as floats.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import contagion
from contagion import FinancialNetwork

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference as ref  # noqa: E402

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=40,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def networks(draw, max_n=7, forced=True):
    """``(L, e, ext, forced, recovery)`` for a small network."""
    n = draw(st.integers(2, max_n))
    integer = draw(st.booleans())
    if integer:
        amount = st.integers(0, 12).map(float)
        asset = st.integers(0, 30).map(float)
    else:
        amount = st.one_of(st.just(0.0), st.floats(0.01, 100.0))
        asset = st.one_of(st.just(0.0), st.floats(0.0, 200.0))
    density = draw(st.sampled_from([0.3, 0.6, 1.0]))
    L = np.array(draw(st.lists(amount, min_size=n * n, max_size=n * n)), dtype=float).reshape(n, n)
    mask = np.array(draw(st.lists(st.floats(0, 1), min_size=n * n, max_size=n * n))).reshape(n, n) < density
    L = L * mask
    np.fill_diagonal(L, 0.0)
    ext = np.array(draw(st.lists(amount, min_size=n, max_size=n)), dtype=float)
    e = np.array(draw(st.lists(asset, min_size=n, max_size=n)), dtype=float)
    f = np.zeros(n, bool)
    rec = np.zeros(n)
    if forced and draw(st.booleans()):
        f = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        rec = np.array(draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n)))
    return L, e, ext, f, rec


recoveries = st.tuples(st.sampled_from([1.0, 0.0, 0.5, 0.25]) | st.floats(0, 1),
                       st.sampled_from([1.0, 0.0, 0.5, 0.75]) | st.floats(0, 1))


def build(L, e, ext, forced, rec):
    net = FinancialNetwork.from_matrix(L, external_assets=e, external_liabilities=ext)
    if forced.any():
        net = net.replace(forced_default=forced, forced_recovery=rec)
    return net


def clear(net, ab):
    alpha, beta = ab
    if alpha == 1.0 and beta == 1.0:
        return contagion.clear(net)
    return contagion.clear(net, method="rogers-veraart", alpha=alpha, beta=beta)


def scale_of(net):
    return max(float(net.total_obligations.max()), 1e-300)


@pytest.mark.slow
@SETTINGS
@given(networks(), recoveries)
def test_payments_within_bounds(case, ab):
    """0 <= p <= cap <= pbar; institutions without obligations pay 0 and do not default."""
    net = build(*case)
    res = clear(net, ab)
    pbar = net.total_obligations
    assert np.all(res.payments >= 0)
    assert np.all(res.payments <= net.payment_cap)
    assert np.all(net.payment_cap <= pbar)
    assert np.all(res.payments[pbar == 0] == 0) and not res.defaulted[pbar == 0].any()


@pytest.mark.slow
@SETTINGS
@given(networks(), recoveries)
def test_fixed_point(case, ab):
    """The answer is a fixed point of the clearing map: solvent institutions pay in full
    and can (resources >= pbar); defaulters pay min(cap, alpha e + beta inflow) and are
    short (or forced). Checked with the reference's own map, not the solver's."""
    L, e, ext, forced, rec = case
    net = build(*case)
    res = clear(net, ab)
    alpha, beta = ab
    pbar = L.sum(1) + ext
    Pi = np.divide(L, pbar[:, None], out=np.zeros_like(L), where=pbar[:, None] > 0)
    p = res.payments
    scale = scale_of(net)
    inflow = Pi.T @ p
    cap = net.payment_cap
    solvent = ~res.defaulted & (pbar > 0)
    assert np.all(e[solvent] + inflow[solvent] >= pbar[solvent] - 1e-12 * scale)
    assert np.all(p[solvent] == net.total_obligations[solvent])
    d = res.defaulted
    np.testing.assert_allclose(p[d], np.minimum(cap, alpha * e + beta * inflow)[d], rtol=0, atol=1e-12 * scale)
    short = e + inflow < pbar
    assert np.all((short | forced)[d] | (np.abs(e + inflow - pbar) <= 1e-12 * scale)[d])
    T = ref.clearing_map(Pi, pbar, e, cap, forced & (pbar > 0), p, alpha, beta, tie=1e-12 * pbar)
    np.testing.assert_allclose(T, p, rtol=0, atol=1e-12 * scale)


@pytest.mark.slow
@SETTINGS
@given(networks(max_n=6), recoveries)
def test_greatest_clearing_vector(case, ab):
    """The answer is the greatest clearing vector: the componentwise maximum of every
    clearing vector found by enumeration (tests/reference.py)."""
    L, e, ext, forced, rec = case
    res = clear(build(*case), ab)
    found = ref.all_clearing_vectors(L, e, ext, forced, rec, *ab)
    scale = scale_of(res.network)
    for q in found:
        assert np.all(res.payments >= q - 1e-9 * scale)
    assert any(np.max(np.abs(res.payments - q)) <= 1e-9 * scale for q in found)


@pytest.mark.slow
@SETTINGS
@given(networks(), recoveries, st.lists(st.floats(0.0, 1.0), min_size=2, max_size=4))
def test_payments_non_increasing_as_shock_grows(case, ab, factors):
    """Scaling the external assets down (a growing shock) never raises any payment and
    never cures a default (the greatest clearing vector is monotone in e)."""
    L, e, ext, forced, rec = case
    prev = None
    for s in sorted(factors, reverse=True):
        res = clear(build(L, e * s, ext, forced, rec), ab)
        if prev is not None:
            scale = scale_of(res.network)
            assert np.all(res.payments <= prev.payments + 1e-12 * scale)
            assert np.all(res.defaulted | ~prev.defaulted | (np.abs(prev.equity) <= 1e-12 * scale))
        prev = res


@pytest.mark.slow
@SETTINGS
@given(networks(forced=False), recoveries, st.integers(0, 6), st.floats(0.0, 50.0))
def test_equity_nondecreasing_in_external_assets(case, ab, who, extra):
    """Giving one institution more outside assets never lowers anyone's equity."""
    L, e, ext, forced, rec = case
    who = who % len(e)
    more = e.copy()
    more[who] += extra
    before = clear(build(L, e, ext, forced, rec), ab)
    after = clear(build(L, more, ext, forced, rec), ab)
    assert np.all(after.equity >= before.equity - 1e-12 * scale_of(before.network))
    assert np.all(after.payments >= before.payments - 1e-12 * scale_of(before.network))


@pytest.mark.slow
@SETTINGS
@given(networks(), recoveries)
def test_conservation_of_payments(case, ab):
    """What is paid is received: sum(p) = sum(Pi^T p) (network creditors) + what
    external creditors receive; and the shortfall splits into the network creditors'
    losses plus the external creditors' loss."""
    L, e, ext, forced, rec = case
    res = clear(build(*case), ab)
    p = res.payments
    pbar = L.sum(1) + ext
    scale = scale_of(res.network)
    ext_share = np.divide(ext, pbar, out=np.zeros_like(ext), where=pbar > 0)
    to_outside = float(ext_share @ p)
    assert float(p.sum()) == pytest.approx(float(res.received.sum()) + to_outside, abs=1e-12 * scale * len(p))
    assert res.external_shortfall == pytest.approx(float(ext.sum()) - to_outside, abs=1e-12 * scale * len(p))
    assert res.total_shortfall == pytest.approx(float(res.interbank_loss.sum()) + res.external_shortfall,
                                                abs=1e-12 * scale * len(p))
    np.testing.assert_allclose(res.received, L.T @ np.divide(p, pbar, out=np.zeros_like(p), where=pbar > 0),
                               rtol=0, atol=1e-12 * scale)


@pytest.mark.slow
@SETTINGS
@given(networks(), recoveries, st.integers(1, 4), st.data())
def test_clear_many_equals_clear_per_column(case, ab, K, data):
    """clear_many on K vectors of external assets equals clear column by column."""
    L, e, ext, forced, rec = case
    net = build(*case)
    cols = [e] + [np.array(data.draw(st.lists(st.floats(0, 100), min_size=len(e), max_size=len(e))))
                  for _ in range(K - 1)]
    E = np.column_stack(cols)
    alpha, beta = ab
    if ab == (1.0, 1.0):
        batch = contagion.clear_many(net, E)
    else:
        batch = contagion.clear_many(net, E, method="rogers-veraart", alpha=alpha, beta=beta)
    assert batch.payments.shape == (len(e), K) and batch.defaulted.shape == (len(e), K)
    scale = scale_of(net)
    for k in range(K):
        one = clear(net.replace(external_assets=E[:, k]), ab)
        np.testing.assert_allclose(batch.payments[:, k], one.payments, rtol=0, atol=1e-12 * scale)
        np.testing.assert_array_equal(batch.defaulted[:, k], one.defaulted)
    np.testing.assert_allclose(batch.shortfall, net.total_obligations[:, None] - batch.payments, rtol=0, atol=0)


@pytest.mark.slow
@SETTINGS
@given(networks(), recoveries, st.randoms(use_true_random=False))
def test_relabelling_permutes_the_answer(case, ab, rnd):
    """Renumbering the institutions renumbers the answer (payments, defaults, waves)."""
    L, e, ext, forced, rec = case
    n = len(e)
    perm = list(range(n))
    rnd.shuffle(perm)
    perm = np.array(perm)
    a = clear(build(*case), ab)
    b = clear(build(L[np.ix_(perm, perm)], e[perm], ext[perm], forced[perm], rec[perm]), ab)
    scale = scale_of(a.network)
    np.testing.assert_allclose(b.payments, a.payments[perm], rtol=0, atol=1e-12 * scale)
    np.testing.assert_array_equal(b.defaulted, a.defaulted[perm])
    np.testing.assert_array_equal(b.default_round, a.default_round[perm])


@pytest.mark.slow
@SETTINGS
@given(networks(forced=False))
def test_eisenberg_noe_equals_lp(case):
    """Eisenberg--Noe payments equal the LP reference (tests/reference.py) to 1e-9 of max pbar."""
    L, e, ext, _, _ = case
    res = contagion.clear(build(*case))
    lp = ref.en_lp(L, e, ext)
    np.testing.assert_allclose(res.payments, lp.payments, rtol=0, atol=1e-9 * scale_of(res.network))
