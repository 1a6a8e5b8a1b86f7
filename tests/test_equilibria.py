"""Both equilibria: the least Eisenberg--Noe clearing vector next to the greatest (issue 19, item 3).

References: the shipped ``ring`` dataset derived by hand; the least vector by
Picard iteration from ``p = 0`` and by brute-force enumeration of every
clearing vector (``tests/reference.py``), on random networks with closed rings
planted in them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import contagion
from contagion.clearing.least import closed_groups, least_payments

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference as ref  # noqa: E402


def test_ring_dataset_greatest_and_least():
    """graphs/ring: A -> B -> C -> A owe 10 each, no outside money; D (cash 1) owes 4 to E (cash 5, owes 6 outside).

    Greatest: the ring pays in full (each receives 10 and owes 10: equity 0, a tie, solvent);
    D pays its 1 and defaults; E has 5 + 1 = 6 and pays its 6. So (10, 10, 10, 1, 6).
    Least: p = (0, 0, 0) on the ring is also a fixed point (each receives 0 and pays min(10, 0 + 0) = 0);
    D and E do not depend on the ring: (0, 0, 0, 1, 6).
    """
    res = contagion.clear(contagion.load_dataset("ring"))
    assert res.unique is False
    assert res.payments.tolist() == [10.0, 10.0, 10.0, 1.0, 6.0]
    assert res.least_payments.tolist() == [0.0, 0.0, 0.0, 1.0, 6.0]
    frame = res.to_frame()
    assert frame["payment_least"].tolist() == [0.0, 0.0, 0.0, 1.0, 6.0]


def test_unique_result_has_no_least_vector():
    res = contagion.clear(contagion.load_dataset("chain"))
    assert res.unique is True and res.least_payments is None
    assert "payment_least" not in res.to_frame().columns


def test_ring_fed_from_outside_is_unique():
    """A ring that receives 1 from an outside-funded F: any lower vector would leave a member short of what it
    receives, so the ring pays in full in every clearing vector (greatest = least)."""
    L = np.zeros((4, 4))
    L[0, 1] = L[1, 2] = L[2, 0] = 10.0
    L[3, 0] = 1.0
    net = contagion.FinancialNetwork.from_matrix(L, external_assets=[0, 0, 0, 1])
    res = contagion.clear(net)
    assert res.unique is True and res.least_payments is None
    np.testing.assert_array_equal(ref.least_clearing_vector(L, net.external_assets), res.payments)


def test_two_rings_and_a_defaulting_ring():
    """Ring 1 (0 -> 1 -> 0, 5 each) and ring 2 (2 -> 3 -> 4 -> 2, 8 each) without outside money; ring 3
    (5 -> 6 -> 5, 3 each) with node 5 owing 1 outside and cash 0.5.

    Rings 1 and 2 pay in full in the greatest vector and nothing in the least. Ring 3 leaks: 5 owes 4 and
    has 0.5 + p6; 6 owes 3 and has 3/4 * p5; p5 = 0.5 + p6, p6 = min(3, 0.75 p5) -> p5 = 0.5 + 0.75 p5,
    p5 = 2, p6 = 1.5 in every clearing vector (the linear system is non-singular: unique there).
    """
    L = np.zeros((7, 7))
    L[0, 1] = L[1, 0] = 5.0
    L[2, 3] = L[3, 4] = L[4, 2] = 8.0
    L[5, 6] = L[6, 5] = 3.0
    net = contagion.FinancialNetwork.from_matrix(L, external_assets=[0, 0, 0, 0, 0, 0.5, 0],
                                                 external_liabilities=[0, 0, 0, 0, 0, 1, 0])
    res = contagion.clear(net)
    np.testing.assert_allclose(res.payments, [5, 5, 8, 8, 8, 2, 1.5], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.least_payments, [0, 0, 0, 0, 0, 2, 1.5], rtol=0, atol=1e-12)
    groups = closed_groups(net.liabilities, net.external_liabilities, net.external_assets, res.payments, net.PiT)
    assert [g.tolist() for g in groups] == [[0, 1], [2, 3, 4]]


def _planted(seed: int):
    """A random network of 9 with a closed ring planted in it: 3 members without outside money owing only
    each other, receiving nothing (rng decides whether an outsider also pays into the ring)."""
    rng = np.random.default_rng(seed)
    n = 9
    L = np.where(rng.random((n, n)) < 0.3, rng.integers(1, 20, (n, n)).astype(float), 0.0)
    np.fill_diagonal(L, 0.0)
    ring = [0, 1, 2]
    L[ring, :] = 0.0
    L[0, 1], L[1, 2], L[2, 0] = rng.integers(1, 10, 3).astype(float)
    L[:, ring] = np.where(np.isin(np.arange(n), ring)[:, None], L[:, ring], 0.0)
    feeds = bool(rng.random() < 0.3)
    if feeds:
        L[5, 1] = 2.0
    e = rng.integers(0, 15, n).astype(float)
    e[ring] = 0.0
    ext = rng.integers(0, 5, n).astype(float)
    ext[ring] = 0.0
    return L, e, ext, feeds


@pytest.mark.parametrize("seed", range(25))
def test_least_vector_against_picard_from_zero_and_brute_force(seed):
    L, e, ext, feeds = _planted(seed)
    net = contagion.FinancialNetwork.from_matrix(L, external_assets=e, external_liabilities=ext)
    res = contagion.clear(net, solver="reference")
    low = ref.least_clearing_vector(L, e, ext)
    scale = net.total_obligations.max()
    got = res.payments if res.least_payments is None else res.least_payments
    np.testing.assert_allclose(got, low, rtol=0, atol=1e-9 * scale)
    # brute force: the componentwise minimum of every clearing vector found by enumeration is the least
    found = ref.all_clearing_vectors(L, e, ext)
    if found:   # singular choices (the ring paying 0) are skipped by the enumeration; then low is not listed
        assert np.all(np.min(found, axis=0) >= low - 1e-9 * scale)
    # uniqueness as the library says it <=> least == greatest
    assert res.unique == bool(np.max(np.abs(res.payments - low)) <= 1e-9 * scale)
    # both are fixed points of the clearing map and give every institution the same equity (EN Theorem 1)
    pbar, PiT = net.total_obligations, net.PiT
    for p in (res.payments, got):
        np.testing.assert_allclose(np.minimum(pbar, e + PiT @ p), p, rtol=0, atol=1e-9 * scale)
    v = lambda p: np.maximum(e + PiT @ p - pbar, 0.0)  # noqa: E731
    np.testing.assert_allclose(v(res.payments), v(got), rtol=0, atol=1e-9 * scale)


def test_least_payments_function_equals_greatest_when_unique():
    net = contagion.load_dataset("core-periphery")
    p = contagion.clear(net).payments
    np.testing.assert_array_equal(least_payments(net, p), p)


def test_compiled_path_carries_the_least_vector_too():
    pytest.importorskip("numba")
    res = contagion.clear(contagion.load_dataset("ring"), solver="compiled")
    assert res.least_payments.tolist() == [0.0, 0.0, 0.0, 1.0, 6.0]


def test_cli_run_shows_the_least_vector():
    import json

    from click.testing import CliRunner

    from contagion.cli import cli

    runner = CliRunner()
    out = runner.invoke(cli, ["run", "ring", "--baseline", "-f", "json"])
    assert out.exit_code == 0
    rows = json.loads(out.stdout)["institutions"]
    assert [r["payment"] for r in rows] == [10.0, 10.0, 10.0, 1.0, 6.0]
    assert [r["payment_least"] for r in rows] == [0.0, 0.0, 0.0, 1.0, 6.0]
    assert "the least: payment_least" in out.stderr
    csv = runner.invoke(cli, ["run", "ring", "--baseline", "-f", "csv"]).stdout.splitlines()
    assert csv[0].endswith(",payment_least") and csv[1].endswith(",0.0")
    assert "least payment" in runner.invoke(cli, ["run", "ring", "--baseline"]).stdout
    unique = json.loads(runner.invoke(cli, ["run", "chain", "--baseline", "-f", "json"]).stdout)
    assert "payment_least" not in unique["institutions"][0]


def test_view_tooltips_carry_the_least_payment():
    """The view's node tooltips show the least clearing vector's payment where it is not unique (ring: A pays 10
    in the greatest and 0.00 in the least), and not at all when it is unique."""
    from contagion.viz import network_view

    ring = contagion.load_dataset("ring")
    html = network_view(ring, contagion.clear(ring))
    assert "Payment in the least clearing vector" in html
    chain = contagion.load_dataset("chain")
    assert "Payment in the least clearing vector" not in network_view(chain, contagion.clear(chain))
