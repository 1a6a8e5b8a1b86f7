"""Sweeps and rankings on a real dask.distributed LocalCluster give exactly the in-process numbers.

The cluster runs in this process (``processes=False``, one worker with two threads): a real scheduler and a
real worker, with tasks shipped through the scheduler, scattered data and ``Client.get_executor()``, without
the start-up cost of worker processes. The CLI path (``--dask-local``) starts real worker processes once.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import contagion
from contagion.measures import systemic_importance
from contagion.sweep import BLOCK, SweepConfig, run_sweep

distributed = pytest.importorskip("distributed")

CONFIG = {"correlation": 0.35, "levels": [0.9, 0.99], "shocks": [
    {"target": "Core", "distribution": "beta", "a": 1.2, "b": 8.0},
    {"select": {"name": ["Periphery 1", "Periphery 3"]}, "distribution": "lognormal", "mu": -2.0, "sigma": 0.7},
    {"target": "Periphery 2", "distribution": "uniform", "low": 0.0, "high": 0.2, "correlation": 0.8}]}


def same_result(a, b) -> None:
    """Every number of two sweep results equal to the bit: summaries, kept tail, counts, contributions."""
    for key in ("default_probability", "expected_unpaid", "expected_unpaid_se", "expected_loss", "expected_loss_se",
                "loss_contribution", "es_contribution", "defaults_count", "co_default_counts"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    for key in ("n", "mean", "std", "mean_se", "min", "max"):
        assert getattr(a.loss, key) == getattr(b.loss, key), key
    np.testing.assert_array_equal(a.loss.tail, b.loss.tail)
    np.testing.assert_array_equal(a.loss.tail_draws, b.loss.tail_draws)
    np.testing.assert_array_equal(a.loss.histogram.counts, b.loss.histogram.counts)
    assert a.summary() == b.summary()


@pytest.fixture(scope="module")
def dask_executor():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        cluster.close()


def test_sweep_on_dask_equals_in_process(dask_executor):
    net = contagion.load_dataset("core-periphery")
    cfg = SweepConfig.from_dict(CONFIG)
    n = 4 * BLOCK + 37
    # one block per clearing call: several clearing batches for a short sweep
    local = run_sweep(net, cfg, n=n, seed=42, executor=None, blocks_per_call=1)
    remote = run_sweep(net, cfg, n=n, seed=42, chunk_size=BLOCK, executor=dask_executor, blocks_per_call=1)
    same_result(remote, local)
    assert local.default_probability.max() > 0  # the shocks do bite


def test_until_se_on_dask_equals_in_process(dask_executor):
    # rounds of batches on the cluster, then the batch that holds the stopping block cleared again
    net = contagion.load_dataset("core-periphery")
    cfg = SweepConfig.from_dict(CONFIG)
    local = run_sweep(net, cfg, n=30 * BLOCK, seed=4, until_se=1.0, blocks_per_call=3)
    remote = run_sweep(net, cfg, n=30 * BLOCK, seed=4, until_se=1.0, blocks_per_call=3, chunk_size=BLOCK,
                       executor=dask_executor)
    assert local.target_reached and local.n < 30 * BLOCK and remote.n == local.n
    same_result(remote, local)


@pytest.mark.slow
def test_ai_sweep_on_dask_equals_in_process(dask_executor):
    # default clearing batches (compiled batched solver) on the built-in network, three tasks on the cluster
    from contagion.sweep import clearing_batch

    net = contagion.load_dataset("ai-infrastructure")
    cfg = SweepConfig.from_dict({"correlation": 0.4, "shocks": [
        {"select": {"type": "ai_lab"}, "distribution": "beta", "a": 2, "b": 5},
        {"target": "Oracle", "distribution": "lognormal", "mu": -2.5, "sigma": 0.8}]})
    unit = clearing_batch(net) * BLOCK
    n = 2 * unit + 1234
    local = run_sweep(net, cfg, n=n, seed=42)
    remote = run_sweep(net, cfg, n=n, seed=42, chunk_size=unit, executor=dask_executor)
    same_result(remote, local)


def test_rank_on_dask_equals_in_process(dask_executor):
    net = contagion.load_dataset("ai-infrastructure")
    local = systemic_importance(net)
    remote = systemic_importance(net, chunk_size=8, executor=dask_executor)
    pd.testing.assert_frame_equal(remote, local)


@pytest.mark.slow
def test_cli_dask_local_equals_in_process(tmp_path):
    from click.testing import CliRunner

    from contagion.cli import cli

    cfg = tmp_path / "sweep.toml"
    cfg.write_text('[[shocks]]\ntarget = "Core"\ndistribution = "uniform"\nlow = 0.0\nhigh = 0.5\n'
                   'correlation = 0.2\n', encoding="utf-8")
    args = ["sweep", "core-periphery", "-c", str(cfg), "-n", str(2 * BLOCK), "--seed", "7", "-f", "json",
            "--chunk-size", str(BLOCK)]
    local = CliRunner().invoke(cli, args + ["--workers", "1"], catch_exceptions=False)
    remote = CliRunner().invoke(cli, args + ["--dask-local", "1"], catch_exceptions=False)
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    assert "local Dask cluster" in remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)


# ---------------------------------------------------------------------- clear_many on a dask.array (issue 18.5)
def _scenarios(net, K: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return net.external_assets[:, None] * rng.uniform(0.2, 1.0, size=(net.n, K))


def test_clear_many_on_a_dask_array_equals_in_memory(dask_executor):
    """Each chunk of columns is cleared on the cluster (tasks seen in its task stream); the gathered result is
    the in-memory result to the bit, on the compiled path (600 scenarios) and the reference (100)."""
    import dask.array as da

    client = dask_executor._client
    net = contagion.load_dataset("ai-infrastructure")          # seniority: the priority hand-over per column too
    for K, chunk in ((600, 128), (100, 30)):
        E = _scenarios(net, K)
        ref = contagion.clear_many(net, E)
        with distributed.get_task_stream(client) as ts:
            got = contagion.clear_many(net, da.from_array(E, chunks=(net.n, chunk)))
        assert sum("_clear_chunk" in t["key"][0] if isinstance(t["key"], tuple) else "_clear_chunk" in t["key"]
                   for t in ts.data) == -(-K // chunk)
        assert type(got) is type(ref)
        # what is owed when everyone pays (residual value guarantees below their caps), as in memory
        assert got.network.total_obligations.tolist() == ref.network.total_obligations.tolist()
        assert ref.network.total_obligations.sum() < net.total_obligations.sum()
        # (received: by the waterfall in the scenarios where a ranking debtor defaults, pro rata in the others)
        assert ref.inflow is not None and 0 < ref.solver.count("priority")
        for key in ("payments", "defaulted", "iterations", "residual", "shortfall", "received"):
            np.testing.assert_array_equal(getattr(got, key), getattr(ref, key), err_msg=key)
    # chunks along the rows are joined first (a scenario needs all its institutions)
    E = _scenarios(net, 50, seed=1)
    got = contagion.clear_many(net, da.from_array(E, chunks=(20, 25)))
    np.testing.assert_array_equal(got.payments, contagion.clear_many(net, E).payments)


def test_clear_many_dask_errors_and_fire_sales(dask_executor):
    import dask.array as da

    net = contagion.load_dataset("core-periphery")
    E = _scenarios(net, 40)
    E[3, 27] = -1.0
    with pytest.raises(contagion.ContagionError, match=r"external_assets\[3, 27\] = -1.0 .*scenario 27"):
        contagion.clear_many(net, da.from_array(E, chunks=(net.n, 10)))
    with pytest.raises(contagion.ContagionError, match=r"shape \(n, K\) = \(5, K\)"):
        contagion.clear_many(net, da.zeros((4, 3), chunks=(4, 1)))
    # fire sales: prices per scenario gathered too
    nodes = pd.DataFrame({"id": ["N", "F", "V", "B"], "external_assets": [4.0, 0, 3, 0],
                          "external_liabilities": [1.0, 0, 0, 0], "asset_units": [10.0, 0, 8, 0]})
    edges = pd.DataFrame({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [10.0, 9.8]})
    nv = contagion.FinancialNetwork.from_edges(edges, nodes)
    E = _scenarios(nv, 12, seed=2)
    ref = contagion.clear_many(nv, E, method="fire-sale", impact=0.01)
    got = contagion.clear_many(nv, da.from_array(E, chunks=(4, 5)), method="fire-sale", impact=0.01)
    np.testing.assert_array_equal(got.prices, ref.prices)
    np.testing.assert_array_equal(got.payments, ref.payments)
    assert got.asset_names == ("asset",)


@pytest.mark.slow
def test_worker_processes_give_the_in_process_numbers():
    """A LocalCluster of two worker processes (the deployment the benchmark measures): a sweep and a clear_many
    on a dask array equal the in-process results to the bit."""
    import dask.array as da

    net = contagion.load_dataset("core-periphery")
    cfg = SweepConfig.from_dict(CONFIG)
    n = 3 * BLOCK + 5
    local = run_sweep(net, cfg, n=n, seed=11, blocks_per_call=1)
    E = _scenarios(contagion.load_dataset("ai-infrastructure"), 300)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        remote = run_sweep(net, cfg, n=n, seed=11, blocks_per_call=1, chunk_size=BLOCK,
                           executor=client.get_executor(pure=False))
        ai = contagion.load_dataset("ai-infrastructure")
        got = contagion.clear_many(ai, da.from_array(E, chunks=(ai.n, 64)))
    same_result(remote, local)
    np.testing.assert_array_equal(got.payments, contagion.clear_many(ai, E).payments)
