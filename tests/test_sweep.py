"""Tests of contagion.sweep: configuration, distributions, copula, reproducibility, aggregation, CLI.

References:
- Acerbi, C. & Tasche, D. (2002). On the coherence of expected shortfall. J. Banking & Finance 26(7), 1487-1503,
  eq. (3.3): the expected shortfall of an empirical distribution, with the boundary observation weighted.
- Gaussian copula: for standard normals with correlation r, Spearman's rank correlation is (6/pi) asin(r/2)
  (Kruskal 1958); with one-factor loadings sqrt(rho) the latent correlation is rho.
- Glasserman & Young (2015) core-periphery toy (see tests/test_measures.py): the core defaults once it loses more
  than 10 of its 150 outside assets.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import contagion
from contagion.errors import ContagionError, ScenarioError
from contagion.sweep import BLOCK, DISTRIBUTIONS, LossSummary, SweepConfig, SweepResult, find_sweep_config, \
    load_sweep_config, run_sweep, sample_losses

CORE_UNIFORM = {"correlation": 0.3, "shocks": [{"target": "Core", "distribution": "uniform", "low": 0, "high": 1}]}


def _cp():
    return contagion.load_dataset("core-periphery")


# ---------------------------------------------------------------------- configuration
def test_config_from_toml_yaml_json(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text('description = "x"\ncorrelation = 0.25\nlevels = [0.99, 0.9]\nbins = 12\n'
                    '[[shocks]]\nselect = { type = "bank" }\ndistribution = "beta"\na = 2\nb = 5\n'
                    'correlation = 0.5\n', encoding="utf-8")
    cfg = load_sweep_config(toml)
    assert cfg.name == "s" and cfg.correlation == 0.25 and cfg.levels == (0.9, 0.99) and cfg.bins == 12
    assert cfg.shocks[0].distribution == "beta" and cfg.shocks[0].kwargs == {"a": 2.0, "b": 5.0}
    assert cfg.shocks[0].correlation == 0.5 and cfg.shocks[0].select == (("type", "bank"),)
    (tmp_path / "s.json").write_text(json.dumps(cfg.to_dict()), encoding="utf-8")
    assert load_sweep_config(tmp_path / "s.json") == cfg
    import yaml

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(cfg.to_dict()), encoding="utf-8")
    assert load_sweep_config(tmp_path / "s.yaml") == cfg


@pytest.mark.parametrize("data,match", [
    ({"shocks": []}, "at least one"),
    ({"shocks": [{"target": "Core", "distribution": "normal"}]}, r"shocks\[0\].distribution: must be one of"),
    ({"shocks": [{"target": "Core", "distribution": "uniform", "low": 0, "high": 1.5}]}, "low <= high <= 1"),
    ({"shocks": [{"target": "Core", "distribution": "uniform", "low": -0.1, "high": 0.5}]}, "0 <= low"),
    ({"shocks": [{"target": "Core", "distribution": "beta", "a": 0, "b": 1}]}, r"shocks\[0\].a: must be > 0"),
    ({"shocks": [{"target": "Core", "distribution": "beta", "a": 1}]}, r"shocks\[0\].b: missing"),
    ({"shocks": [{"target": "Core", "distribution": "lognormal", "mu": -1, "sigma": 0}]}, "sigma: must be > 0"),
    ({"shocks": [{"target": "Core", "distribution": "lognormal", "mu": 20, "sigma": 1}]}, "degenerate"),
    ({"shocks": [{"target": "Core", "distribution": "fixed", "value": 2}]}, r"value: must lie in \[0, 1\]"),
    ({"shocks": [{"distribution": "fixed", "value": 0.5}]}, "exactly one of target"),
    ({"shocks": [{"target": "Core", "select": {"type": "bank"}, "distribution": "fixed", "value": 0.5}]},
     "exactly one of target"),
    ({"shocks": [{"target": "Core", "distribution": "fixed", "value": 0.5, "mu": 1}]}, r"shocks\[0\].mu: unknown"),
    ({"correlation": 1.0, "shocks": [{"target": "Core", "distribution": "fixed", "value": 0.5}]}, r"\[0, 1\)"),
    ({"levels": [0.95, 1.0], "shocks": [{"target": "Core", "distribution": "fixed", "value": 0.5}]},
     r"levels\[1\]"),
    ({"bins": 0, "shocks": [{"target": "Core", "distribution": "fixed", "value": 0.5}]}, "bins"),
    ({"colour": 1, "shocks": [{"target": "Core", "distribution": "fixed", "value": 0.5}]}, "colour: unknown key"),
    ({"corelation": 0.3, "shocks": [{"target": "Core", "distribution": "fixed", "value": 0.5}]},
     r"corelation: unknown key \(did you mean 'correlation'\?\) \(expected one of"),
    ({"shocks": [{"target": "Core", "distribution": "betta", "a": 2, "b": 5}]},
     r"shocks\[0\].distribution: must be one of beta, uniform, lognormal, fixed, got 'betta' \(did you mean "
     r"'beta'\?\)"),
    ({"shocks": [{"target": "Core", "distribution": "uniform", "low": 0.1, "hihg": 0.5}]},
     r"shocks\[0\].hihg: unknown key \(did you mean 'high'\?\) for uniform"),
])
def test_config_errors_are_located(data, match):
    with pytest.raises(ScenarioError, match=match):
        SweepConfig.from_dict(data)


def test_a_scenario_given_as_a_sweep_configuration_says_what_it_is():
    """`sweep -c scenarios/x.toml` reported a missing distribution and an unknown "kind" per shock."""
    from contagion.datasets import dataset_path

    scen = dataset_path("ai-infrastructure") / "scenarios" / "openai-revenue-shortfall.toml"
    with pytest.raises(ScenarioError) as info:
        load_sweep_config(scen)
    assert str(info.value) == (f"{scen}: a scenario (shocks with a kind), not a sweep configuration; apply it with "
                               f"`contagion run -s {scen}`, or sweep on top of it with `contagion sweep -s {scen} "
                               f"-c CONFIG`")


def test_config_reports_every_problem():
    with pytest.raises(ScenarioError) as err:
        SweepConfig.from_dict({"correlation": 2, "shocks": [{"target": "Core", "distribution": "beta", "a": -1,
                                                             "b": -1}]})
    assert len(err.value.problems) == 3


def test_config_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match="no such sweep configuration"):
        load_sweep_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("correlation = = 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="bad.toml: invalid TOML"):
        load_sweep_config(bad)
    (tmp_path / "x.ini").write_text("", encoding="utf-8")
    with pytest.raises(ScenarioError, match="unknown suffix"):
        load_sweep_config(tmp_path / "x.ini")


def test_config_shipped_with_a_network_folder(tmp_path):
    net = _cp()
    folder = tmp_path / "net"
    contagion.write_network(net, folder)
    (folder / "sweeps").mkdir()
    (folder / "sweeps" / "core.toml").write_text(
        '[[shocks]]\ntarget = "Core"\ndistribution = "fixed"\nvalue = 0.5\n', encoding="utf-8")
    assert find_sweep_config("core", contagion.read_network(folder)).name == "core"


def test_selection_errors_surface_at_run_time():
    cfg = SweepConfig.from_dict({"shocks": [{"target": "Nobody", "distribution": "fixed", "value": 0.5}]})
    with pytest.raises(ScenarioError, match="unknown institution 'Nobody'"):
        run_sweep(_cp(), cfg, n=10)
    cfg = SweepConfig.from_dict({"shocks": [{"select": {"type": "bank"}, "distribution": "fixed", "value": 0.5},
                                            {"target": "Core", "distribution": "fixed", "value": 0.5}]})
    with pytest.raises(ScenarioError, match="already hit by shocks"):
        run_sweep(_cp(), cfg, n=10)


def test_run_arguments_checked():
    cfg = SweepConfig.from_dict(CORE_UNIFORM)
    for kw in ({"n": 0}, {"n": 10, "seed": -1}, {"n": 10, "chunk_size": 0}, {"n": 10, "executor": "gpu"}):
        with pytest.raises(ContagionError):
            run_sweep(_cp(), cfg, **kw)


# ---------------------------------------------------------------------- distributions and copula
@pytest.mark.slow
def test_beta_quantiles_match_scipy():
    from scipy.special import betaincinv

    u = np.random.default_rng(0).random(50_000)
    u[:4] = [0.0, 1.0, 1e-9, 1 - 1e-12]
    for a, b in ((2.0, 5.0), (0.5, 0.5), (0.3, 3.0), (5.0, 0.7), (40.0, 60.0)):
        got = DISTRIBUTIONS["beta"].ppf(u, a=a, b=b)
        np.testing.assert_allclose(got, betaincinv(a, b, u), rtol=0, atol=1e-11)
        assert np.all(np.diff(got[np.argsort(u)]) >= 0)


@pytest.mark.slow
def test_truncated_lognormal():
    from scipy.stats import lognorm

    u = np.random.default_rng(1).random(100_000)
    x = DISTRIBUTIONS["lognormal"].ppf(u, mu=-1.0, sigma=1.0)
    assert np.all((x > 0) & (x <= 1))
    # CDF of the truncated law at x: F(x) / F(1); here F(1) = Phi(1) = 0.8413
    dist = lognorm(s=1.0, scale=math.exp(-1.0))
    for q in (0.1, 0.3, 0.6, 0.9):
        assert np.mean(x <= q) == pytest.approx(dist.cdf(q) / dist.cdf(1.0), abs=0.005)


def test_uniform_and_fixed():
    u = np.linspace(0, 1, 11)
    assert DISTRIBUTIONS["uniform"].ppf(u, low=0.2, high=0.4).tolist() == pytest.approx(0.2 + 0.02 * np.arange(11))
    assert DISTRIBUTIONS["fixed"].ppf(u, value=0.3).tolist() == [0.3] * 11


def test_copula_rank_correlation():
    # two institutions with uniform(0, 1) losses and rho = 0.5: Spearman = (6 / pi) asin(0.25) = 0.4826
    from scipy.stats import spearmanr

    cfg = SweepConfig.from_dict({"correlation": 0.5, "shocks": [
        {"target": ["P1", "P2"], "distribution": "uniform", "low": 0, "high": 1}]})
    x = sample_losses(_cp(), cfg, 20_000, seed=3)
    assert list(x.columns) == ["Periphery 1", "Periphery 2"]
    assert spearmanr(x.iloc[:, 0], x.iloc[:, 1]).statistic == pytest.approx(6 / math.pi * math.asin(0.25), abs=0.02)
    assert x.mean().tolist() == pytest.approx([0.5, 0.5], abs=0.01)
    # per-entry loadings: rho 0.81 and 0 -> latent correlation 0 -> independent
    cfg = SweepConfig.from_dict({"correlation": 0.81, "shocks": [
        {"target": "P1", "distribution": "uniform", "low": 0, "high": 1},
        {"target": "P2", "distribution": "uniform", "low": 0, "high": 1, "correlation": 0.0}]})
    x = sample_losses(_cp(), cfg, 20_000, seed=3)
    assert abs(spearmanr(x.iloc[:, 0], x.iloc[:, 1]).statistic) < 0.03


def test_draws_depend_only_on_seed_and_index():
    cfg = SweepConfig.from_dict(CORE_UNIFORM)
    long = sample_losses(_cp(), cfg, 3 * BLOCK + 17, seed=5)
    short = sample_losses(_cp(), cfg, BLOCK + 3, seed=5)
    np.testing.assert_array_equal(long.iloc[:BLOCK + 3].to_numpy(), short.to_numpy())
    other = sample_losses(_cp(), cfg, BLOCK + 3, seed=6)
    assert not np.array_equal(other.to_numpy(), short.to_numpy())


# ---------------------------------------------------------------------- results
def test_core_default_probability():
    # the core defaults when its uniform(0, 1) loss exceeds 10/150: probability 14/15
    res = run_sweep(_cp(), SweepConfig.from_dict(CORE_UNIFORM), n=1000, seed=11)
    p = res.default_probability[_cp().index_of("Core")]
    assert p == pytest.approx(14 / 15, abs=3 * math.sqrt(14 / 15 / 15 / 1000))
    assert res.n == 1000 and res.loss.n == 1000 and res.defaults_count.sum() == 1000 and res.defaults_count.size == 6


@pytest.mark.slow
def test_aggregates_equal_a_loop_over_draws(tmp_path):
    """Default probabilities, shortfalls, equity and system losses equal clearing each draw on its own."""
    net = _cp()
    cfg = SweepConfig.from_dict({"correlation": 0.4, "shocks": [
        {"target": "Core", "distribution": "beta", "a": 2, "b": 3},
        {"target": ["P1", "P3"], "distribution": "lognormal", "mu": -2.5, "sigma": 1.0}]})
    n = 300
    res = run_sweep(net, cfg, n=n, seed=2, chunk_size=BLOCK, draws_out=tmp_path / "d.parquet", draws_flags=5)
    per_draw = pd.read_parquet(tmp_path / "d.parquet")
    frac = sample_losses(net, cfg, n, seed=2)
    idx = [net.index_of(c) for c in frac.columns]
    base = contagion.clear(net)
    flags = np.zeros((n, net.n), dtype=bool)
    unpaid = np.zeros((n, net.n))
    eq_loss = np.zeros((n, net.n))
    ell = np.zeros((n, net.n))        # per institution: outside assets lost + fall in its payments
    system = np.empty(n)
    for d in range(n):
        e = net.external_assets.copy()
        e[idx] = e[idx] * (1 - frac.iloc[d].to_numpy())
        r = contagion.clear(net.replace(external_assets=e))
        flags[d] = r.defaulted
        unpaid[d] = r.shortfall
        eq_loss[d] = base.equity - r.equity
        ell[d] = net.external_assets - e + base.payments - r.payments
        system[d] = (net.external_assets - e).sum() + r.total_shortfall - base.total_shortfall
    np.testing.assert_array_equal(res.default_probability, flags.mean(axis=0))
    np.testing.assert_allclose(res.expected_unpaid, unpaid.mean(axis=0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(res.expected_loss, eq_loss.mean(axis=0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(per_draw["system_loss"], system, rtol=1e-10, atol=1e-9)
    assert res.mean == pytest.approx(system.mean(), rel=1e-10) and res.loss.std == pytest.approx(system.std(), rel=1e-9)
    assert (res.loss.min, res.loss.max) == pytest.approx((system.min(), system.max()), rel=1e-10)
    np.testing.assert_array_equal(res.defaults_count, np.bincount(flags.sum(axis=1), minlength=net.n + 1))
    # standard errors: the sample standard deviation over sqrt(n)
    np.testing.assert_allclose(res.expected_unpaid_se, unpaid.std(axis=0, ddof=1) / np.sqrt(n), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.expected_loss_se, eq_loss.std(axis=0, ddof=1) / np.sqrt(n), rtol=1e-9, atol=1e-12)
    assert res.mean_se == pytest.approx(system.std(ddof=1) / np.sqrt(n), rel=1e-10)
    # contributions: l sums to the system loss in every draw; Euler contributions to ES by brute force
    np.testing.assert_allclose(ell.sum(axis=1), system, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(res.loss_contribution, ell.mean(axis=0), rtol=1e-10, atol=1e-10)
    for q in res.levels:
        v = res.var(q)
        above, ties = system > v, system == v
        w = above / (n * (1 - q)) + ties * (1 - q - above.mean()) / ((1 - q) * ties.sum())
        np.testing.assert_allclose(res.es_contributions(q), w @ ell, rtol=1e-9, atol=1e-9)
        assert res.es_contributions(q).sum() == pytest.approx(res.es(q), rel=1e-12)
    # co-defaults: joint default shares, the diagonal the default probabilities
    top = res.ranking()[:3]
    np.testing.assert_allclose(res.co_default(3).to_numpy(), (flags[:, top].T.astype(float) @ flags[:, top]) / n,
                               atol=1e-15)
    for i in range(net.n):
        np.testing.assert_array_equal(per_draw[f"defaulted:{net.names[i]}"], flags[:, i])


def test_fixed_loss_equals_one_scenario():
    # a fixed loss of 94/150 for the core is the Glasserman-Young shock: loss 182 in every draw, all five default
    cfg = SweepConfig.from_dict({"shocks": [{"target": "Core", "distribution": "fixed", "value": 94 / 150}]})
    res = run_sweep(_cp(), cfg, n=40, seed=0)
    assert (res.loss.min, res.loss.max, res.mean) == pytest.approx((182.0, 182.0, 182.0))
    assert res.loss.tail.size == 40            # every draw ties with the VaR: all kept
    assert res.histogram()[0].tolist() == [40]
    assert res.default_probability.tolist() == [1.0] * 5
    assert res.var(0.99) == pytest.approx(182.0) and res.es(0.99) == pytest.approx(182.0)
    d = res.summary()["defaults"]
    assert {k: d[k] for k in ("mean", "mean_se", "mean_ci", "probability_any", "probability_any_se", "max")} == {
        "mean": 5.0, "mean_se": 0.0, "mean_ci": [5.0, 5.0], "probability_any": 1.0, "probability_any_se": 0.0, "max": 5}
    # Wilson at p = 1 out of n: [1 / (1 + z^2 / n), 1]
    assert d["probability_any_ci"] == pytest.approx([1 / (1 + 1.959963984540054 ** 2 / 40), 1.0])
    assert res.mean_se == 0.0 and res.es_se(0.99) == 0.0 and res.var_ci(0.95) == (182.0, 182.0)


def test_var_and_es_by_hand():
    # losses 1..100: VaR_0.95 = L_(95) = 95; ES_0.95 = (96 + ... + 100) / 5 = 98;
    # ES_0.975: m = 98, (99 + 100) / 100 + (0.98 - 0.975) * 98 = 2.48, / 0.025 = 99.2
    loss = np.arange(100, 0, -1).astype(float)
    res = _synthetic(loss, levels=(0.95, 0.975), keep=(0.5, 0.95, 0.975), bins=10)
    assert res.var(0.95) == 95.0 and res.es(0.95) == pytest.approx(98.0)
    assert res.var(0.975) == 98.0 and res.es(0.975) == pytest.approx(99.2)
    assert res.var(0.5) == 50.0 and res.es(0.5) == pytest.approx(75.5)
    # ten bins of 1,639 whole cells of the fixed histogram (16,384 cells over [1, 100]): the last reaches 6 cells
    # past 100; ten losses in each
    counts, edges = res.histogram()
    assert counts.tolist() == [10] * 10 and edges[0] == 1.0 and edges[-1] == pytest.approx(1 + 16390 * 99 / 16384)
    # a level whose order statistics the sweep did not keep is refused, not guessed
    short = _synthetic(loss, levels=(0.95, 0.975), bins=10)
    assert short.loss.tail.size < 50
    with pytest.raises(ValueError, match="rank 50 of 100 draws was not kept"):
        short.var(0.5)
    s = res.summary()["system_loss"]
    assert s["var"] == {"0.95": 95.0, "0.975": 98.0} and s["es"]["0.975"] == pytest.approx(99.2)


def test_base_scenario_of_the_config():
    # after core-shock (core loses 94) everyone defaults already; a further fixed loss changes nothing in the count
    cfg = SweepConfig.from_dict({"scenario": "core-shock", "shocks": [
        {"target": "Periphery 1", "distribution": "fixed", "value": 0.1}]})
    res = run_sweep(_cp(), cfg, n=5, seed=0)
    assert res.default_probability.tolist() == [1.0] * 5
    # P1 loses 5 more and pays 5 less: system loss 5 + 5
    assert (res.loss.min, res.loss.max) == pytest.approx((10.0, 10.0))


# ---------------------------------------------------------------------- reproducibility
def small_batches(*args, **kwargs):
    """run_sweep clearing one block of draws per call, so that short sweeps span several clearing batches."""
    return run_sweep(*args, blocks_per_call=1, **kwargs)


def same_result(a: SweepResult, b: SweepResult, until: bool = True) -> None:
    """Every number of two results equal to the bit: the summaries, the kept tail, the counts."""
    for key in ("default_probability", "expected_unpaid", "expected_unpaid_se", "expected_loss", "expected_loss_se",
                "loss_contribution", "es_contribution", "defaults_count", "co_default_counts"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    for key in ("n", "mean", "std", "mean_se", "min", "max"):
        assert getattr(a.loss, key) == getattr(b.loss, key), key
    for key in ("tail", "tail_draws"):
        np.testing.assert_array_equal(getattr(a.loss, key), getattr(b.loss, key), err_msg=key)
    np.testing.assert_array_equal(a.loss.histogram.counts, b.loss.histogram.counts)
    sa, sb = a.summary(), b.summary()
    if not until:
        for s in (sa, sb):
            s.pop("until_se"), s.pop("target_reached")
    assert sa == sb


@pytest.mark.slow
def test_identical_whatever_chunking_and_executor(tmp_path):
    net = _cp()
    cfg = SweepConfig.from_dict({"correlation": 0.3, "shocks": [
        {"target": "Core", "distribution": "beta", "a": 1.5, "b": 6},
        {"select": {"name": ["Periphery 1", "Periphery 2"]}, "distribution": "uniform", "low": 0, "high": 0.3}]})
    n = 2 * BLOCK + 100
    ref = small_batches(net, cfg, n=n, seed=42, executor=None)
    runs = [small_batches(net, cfg, n=n, seed=42, chunk_size=1),
            small_batches(net, cfg, n=n, seed=42, chunk_size=300),
            small_batches(net, cfg, n=n, seed=42, chunk_size=10 * BLOCK)]
    with ThreadPoolExecutor(3) as ex:
        runs.append(small_batches(net, cfg, n=n, seed=42, chunk_size=BLOCK, executor=ex))
    runs.append(small_batches(net, cfg, n=n, seed=42, chunk_size=BLOCK, executor="processes"))
    for r in runs:
        same_result(r, ref)
        assert r.co_default(5).equals(ref.co_default(5))
    assert small_batches(net, cfg, n=n, seed=43).mean != ref.mean
    # the last batch is padded with the draws that follow: a longer sweep starts with the same draws, to the bit
    small_batches(net, cfg, n=n, seed=42, draws_out=tmp_path / "short.parquet")
    small_batches(net, cfg, n=3 * BLOCK, seed=42, draws_out=tmp_path / "long.parquet")
    short, long = pd.read_parquet(tmp_path / "short.parquet"), pd.read_parquet(tmp_path / "long.parquet")
    pd.testing.assert_frame_equal(long.iloc[:n], short, check_like=True)   # (their rankings differ)


@pytest.mark.slow
def test_identical_whatever_chunking_with_the_default_batches():
    # the AI-infrastructure network: several clearing batches of the default size (the compiled batched path)
    from contagion.sweep import clearing_batch

    net = contagion.load_dataset("ai-infrastructure")
    cfg = SweepConfig.from_dict({"correlation": 0.4, "shocks": [
        {"select": {"type": "ai_lab"}, "distribution": "beta", "a": 2, "b": 5},
        {"select": {"type": "neocloud"}, "distribution": "uniform", "low": 0, "high": 0.5}]})
    n = 2 * clearing_batch(net) * BLOCK + 777
    ref = run_sweep(net, cfg, n=n, seed=9)
    with ThreadPoolExecutor(2) as ex:
        other = run_sweep(net, cfg, n=n, seed=9, chunk_size=1, executor=ex)
    same_result(other, ref)
    assert ref.default_probability.max() > 0.5


def test_progress_callback():
    seen = []
    small_batches(_cp(), SweepConfig.from_dict(CORE_UNIFORM), n=2 * BLOCK + 5, seed=0, chunk_size=BLOCK,
              progress=lambda done, total: seen.append((done, total)))
    assert seen == [(BLOCK, 2 * BLOCK + 5), (2 * BLOCK, 2 * BLOCK + 5), (2 * BLOCK + 5, 2 * BLOCK + 5)]


def test_clearing_batch_size():
    from contagion.sweep import CLEAR_MEMORY, clearing_batch

    assert clearing_batch(_cp()) == 256                        # 4 obligations: the cap
    import scipy.sparse as sp

    big = contagion.FinancialNetwork.from_matrix(sp.eye(40_000, k=1, format="csr"), external_assets=np.ones(40_000))
    assert clearing_batch(big) == max(1, CLEAR_MEMORY // (40_000 * BLOCK))


# ---------------------------------------------------------------------- CLI
def _invoke(*args):
    from contagion.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('name = "core-risk"\ncorrelation = 0.3\nlevels = [0.95, 0.99]\nbins = 8\n'
                    '[[shocks]]\ntarget = "Core"\ndistribution = "uniform"\nlow = 0.0\nhigh = 1.0\n',
                    encoding="utf-8")
    return path


def test_sweep_cli_json(config_file):
    out = _invoke("sweep", "core-periphery", "--config", str(config_file), "-n", "600", "--seed", "42", "-f", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert [r["name"] for r in data["institutions"]][:3] == ["Periphery 1", "Periphery 2", "Core"]
    assert {"name", "default_probability", "expected_unpaid"} <= set(data["institutions"][0])
    loss = data["system_loss"]
    assert set(loss["var"]) == {"0.95", "0.99"} and set(loss["es"]) == {"0.95", "0.99"}
    assert loss["es"]["0.99"] >= loss["var"]["0.99"] >= loss["var"]["0.95"] and loss["mean"] > 0
    assert sum(loss["histogram"]["counts"]) == 600 and len(loss["histogram"]["edges"]) == 9
    assert data["draws"] == 600 and data["seed"] == 42 and data["config"]["name"] == "core-risk"
    # the library call gives the same numbers
    res = run_sweep(_cp(), load_sweep_config(config_file), n=600, seed=42)
    assert loss["var"]["0.99"] == res.var(0.99)


def test_sweep_cli_table_csv_and_file(config_file, tmp_path):
    table = _invoke("sweep", "core-periphery", "-c", str(config_file), "-n", "300")
    assert table.exit_code == 0 and "VaR 0.99" in table.stdout and "system-loss histogram" in table.stdout
    csv = _invoke("sweep", "core-periphery", "-c", str(config_file), "-n", "300", "-f", "csv").stdout.splitlines()
    assert csv[0] == ("name,id,type,default_probability,default_probability_se,default_probability_ci_low,"
                      "default_probability_ci_high,expected_unpaid,expected_unpaid_se,expected_unpaid_ci_low,"
                      "expected_unpaid_ci_high,expected_loss,expected_loss_se,expected_loss_ci_low,"
                      "expected_loss_ci_high,loss_contribution,es_contribution_0.95,es_contribution_0.99")
    assert len(csv) == 6
    target = tmp_path / "out" / "sweep.json"
    out = _invoke("sweep", "core-periphery", "-c", str(config_file), "-n", "300", "-f", "json", "-o", str(target),
                  "--workers", "1", "--mkdir")
    assert out.exit_code == 0 and json.loads(target.read_text(encoding="utf-8"))["draws"] == 300


def test_sweep_cli_errors(config_file, tmp_path):
    out = _invoke("sweep", "core-periphery", "-c", str(tmp_path / "nope.toml"))
    assert out.exit_code == 1 and "no such sweep configuration" in out.stderr
    out = _invoke("sweep", "core-periphery", "-c", str(config_file), "--scheduler", "tcp://x:1", "--dask-local", "1")
    assert out.exit_code == 2
    out = _invoke("sweep", "core-periphery", "-c", str(config_file), "-n", "0")
    assert out.exit_code == 2


# ---------------------------------------------------------------------- Monte Carlo errors
# A toy with closed forms: the core loses X = 150 U, U ~ Uniform(0, 2/15), so X ~ Uniform(0, 20). It defaults when
# X > 10 (its capital): probability 1/2 exactly. Its shortfall max(0, X - 10) < 10 costs each periphery bank
# 10/140 of it, less than its capital 5: nobody else defaults. Then
#   expected unpaid (core) = E[max(0, X - 10)] = 5/2, variance 100/6 - 25/4 = 125/12;
#   system loss L = X + max(0, X - 10): mean 25/2, variance 700/3 - 625/4 = 925/12;
#   above X = 10, L = 2X - 10 is increasing: VaR_q = 40 q - 10 (28 at 0.95), ES_q = E[2X - 10 | X > 20 q]
#   = 20 q + 10 (29 at 0.95), tail variance Var[2X | X ~ U(19, 20)] = 1/3;
#   asymptotic se(ES_0.95) = sqrt((1/3 + 0.95 (29 - 28)^2) / (0.05 n)); se(VaR_0.95) = sqrt(q (1 - q) / n) / f_L
#   with the density f_L = 1/40 at the VaR.
HALF = {"shocks": [{"target": "Core", "distribution": "uniform", "low": 0.0, "high": 20 / 150}]}


def test_standard_errors_match_closed_forms():
    net = _cp()
    n = 32 * BLOCK
    res = run_sweep(net, SweepConfig.from_dict(HALF), n=n, seed=5)
    core = net.index_of("Core")
    p = res.default_probability[core]
    se = res.default_probability_se[core]
    assert se == math.sqrt(p * (1 - p) / n)                            # binomial, to the bit
    assert se == pytest.approx(math.sqrt(0.25 / n), rel=0.01)
    assert abs(p - 0.5) < 4 * se
    assert res.default_probability.tolist() == [0.0, 0.0, p, 0.0, 0.0]
    assert res.expected_unpaid_se[core] == pytest.approx(math.sqrt(125 / 12 / n), rel=0.06)
    assert abs(res.expected_unpaid[core] - 2.5) < 4 * res.expected_unpaid_se[core]
    assert res.mean_se == pytest.approx(math.sqrt(925 / 12 / n), rel=0.05)
    assert abs(res.mean - 12.5) < 4 * res.mean_se
    assert res.es_se(0.95) == pytest.approx(math.sqrt((1 / 3 + 0.95) / (0.05 * n)), rel=0.15)
    assert abs(res.es(0.95) - 29.0) < 4 * res.es_se(0.95)
    assert res.var_se(0.95) == pytest.approx(40 * math.sqrt(0.95 * 0.05 / n), rel=0.25)
    assert abs(res.var(0.95) - 28.0) < 4 * res.var_se(0.95)
    lo, hi = res.var_ci(0.95)
    assert lo <= res.var(0.95) <= hi
    # the intervals: Wilson for the probability, mean -+ z se for the means
    z = 1.959963984540054
    w_lo, w_hi = res.default_probability_ci()
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    assert (w_lo[core] + w_hi[core]) / 2 == pytest.approx(centre) and w_lo[core] < p < w_hi[core]
    assert res.mean_ci() == pytest.approx((res.mean - z * res.mean_se, res.mean + z * res.mean_se))
    # the whole system loss arises at the core: all of the expected loss and of the ES is its contribution
    assert res.loss_contribution[core] == pytest.approx(res.mean)
    for q in res.levels:
        assert res.es_contributions(q)[core] == pytest.approx(res.es(q))
        assert np.delete(res.es_contributions(q), core).tolist() == [0.0] * 4


def _synthetic(loss: np.ndarray, levels=(0.95, 0.99), keep=None, bins: int = 40) -> SweepResult:
    """A result from per-draw losses, keeping what a sweep keeps (the tail for the levels ``keep``)."""
    n = loss.size
    return SweepResult(names=("a",), types=np.array(["x"]), default_probability=np.zeros(1),
                       expected_unpaid=np.zeros(1), expected_loss=np.zeros(1),
                       loss=LossSummary.from_losses(loss, levels=keep or levels),
                       defaults_count=np.array([n, 0]), n=n, config=SweepConfig(levels=levels, bins=bins))


def test_interval_coverage_on_exponential_losses():
    # Exp(1) losses: VaR_q = -log(1 - q), ES_q = VaR_q + 1, tail variance 1:
    # se(ES) = sqrt((1 + q) / (n (1 - q))), se(VaR) = sqrt(q / (n (1 - q))), se(mean) = 1 / sqrt(n)
    rng = np.random.default_rng(12)
    n, reps, q = 4000, 300, 0.95
    var_true, es_true = -math.log(1 - q), -math.log(1 - q) + 1
    hits = {"mean": 0, "var": 0, "es": 0}
    es_hat, es_se, var_se = [], [], []
    for _ in range(reps):
        r = _synthetic(rng.exponential(size=n))
        lo, hi = r.mean_ci()
        hits["mean"] += lo <= 1.0 <= hi
        lo, hi = r.var_ci(q)
        hits["var"] += lo <= var_true <= hi
        lo, hi = r.es_ci(q)
        hits["es"] += lo <= es_true <= hi
        es_hat.append(r.es(q))
        es_se.append(r.es_se(q))
        var_se.append(r.var_se(q))
    for k, h in hits.items():
        assert 0.91 <= h / reps <= 0.985, (k, h / reps)
    assert np.mean(es_se) == pytest.approx(math.sqrt((1 + q) / (n * (1 - q))), rel=0.05)
    assert np.std(es_hat, ddof=1) == pytest.approx(math.sqrt((1 + q) / (n * (1 - q))), rel=0.12)
    assert np.mean(var_se) == pytest.approx(math.sqrt(q / (n * (1 - q))), rel=0.08)


def test_wilson_coverage_and_edges():
    from contagion.sweep.result import wilson

    rng = np.random.default_rng(3)
    n, p = 500, 0.04
    phat = rng.binomial(n, p, size=4000) / n
    lo, hi = wilson(phat, n, 1.959963984540054)
    assert 0.93 <= np.mean((lo <= p) & (p <= hi)) <= 0.975
    lo, hi = wilson(np.array([0.0, 1.0]), 100, 2.0)
    assert lo.tolist() == [0.0, pytest.approx(1 / 1.04)] and hi.tolist() == [pytest.approx(0.04 / 1.04), 1.0]


def test_running_mean_se_depends_only_on_the_blocks_so_far():
    from contagion.sweep import running_mean_se

    x = np.random.default_rng(0).lognormal(size=10 * BLOCK + 77)
    full = running_mean_se(x)
    assert full.size == 11
    for k in (1, 4, 10):
        np.testing.assert_array_equal(running_mean_se(x[:k * BLOCK]), full[:k])
        assert full[k - 1] == pytest.approx(x[:k * BLOCK].std(ddof=1) / math.sqrt(k * BLOCK), rel=1e-12)
    assert full[-1] == pytest.approx(x.std(ddof=1) / math.sqrt(x.size), rel=1e-12)
    assert _synthetic(x).mean_se == full[-1]


def test_co_default_and_draw_flags(tmp_path):
    net = _cp()
    res = run_sweep(net, SweepConfig.from_dict(CORE_UNIFORM), n=3 * BLOCK, seed=4, draws_out=tmp_path / "d.csv",
                    draws_flags=2)
    cd = res.co_default(5)
    order = res.ranking()
    assert list(cd.index) == [net.names[i] for i in order] and list(cd.index)[0] == "Core"
    np.testing.assert_allclose(np.diag(cd.to_numpy()), res.default_probability[order], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(cd.to_numpy(), cd.to_numpy().T)
    # the periphery banks default only with the core: their joint probability with it is their own
    assert cd.loc["Core", "Periphery 1"] == res.default_probability[0] > 0
    # the per-draw file: the flags of the two most likely to default, counts that agree with the summaries
    draws = pd.read_csv(tmp_path / "d.csv")
    assert list(draws.columns) == ["draw", "system_loss", "defaults", "defaulted:Core", "defaulted:Periphery 1"]
    assert draws["draw"].tolist() == list(range(3 * BLOCK))
    assert draws["defaulted:Core"].mean() == res.default_probability[2]
    assert (draws["defaulted:Core"] & draws["defaulted:Periphery 1"]).mean() == cd.loc["Core", "Periphery 1"]
    np.testing.assert_array_equal(np.bincount(draws["defaults"], minlength=6), res.defaults_count)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]          # the spool file is gone
    with pytest.deprecated_call():
        np.testing.assert_array_equal(res.expected_shortfall, res.expected_unpaid)


# ---------------------------------------------------------------------- --until-se
def _same(a: SweepResult, b: SweepResult) -> None:
    same_result(a, b, until=False)


@pytest.mark.parametrize("blocks_per_call", [1, None])
def test_until_se_stops_at_the_first_block_and_equals_a_fixed_n(blocks_per_call, tmp_path):
    from contagion.sweep import MIN_BLOCKS_UNTIL_SE, running_mean_se

    net, cfg = _cp(), SweepConfig.from_dict(CORE_UNIFORM)
    cap = 40 * BLOCK
    ref = run_sweep(net, cfg, n=cap, seed=8, blocks_per_call=blocks_per_call, draws_out=tmp_path / "d.parquet")
    se = running_mean_se(pd.read_parquet(tmp_path / "d.parquet")["system_loss"].to_numpy())
    assert ref.mean_se == se[-1]
    target = float(se[11]) * 1.0001                          # reached after 12 blocks at the latest
    k = MIN_BLOCKS_UNTIL_SE + int(np.flatnonzero(se[MIN_BLOCKS_UNTIL_SE - 1:] <= target)[0])
    assert MIN_BLOCKS_UNTIL_SE < k <= 12
    res = run_sweep(net, cfg, n=cap, seed=8, until_se=target, blocks_per_call=blocks_per_call)
    assert res.n == k * BLOCK and res.target_reached is True and res.until_se == target
    assert res.mean_se <= target < se[k - 2]
    _same(res, run_sweep(net, cfg, n=k * BLOCK, seed=8, blocks_per_call=blocks_per_call))
    with ThreadPoolExecutor(2) as ex:                        # whatever the workers and the chunking
        _same(res, run_sweep(net, cfg, n=cap, seed=8, until_se=target, blocks_per_call=blocks_per_call,
                             executor=ex, chunk_size=BLOCK))


def test_until_se_not_reached_stops_at_n():
    net, cfg = _cp(), SweepConfig.from_dict(CORE_UNIFORM)
    res = run_sweep(net, cfg, n=5 * BLOCK + 3, seed=1, until_se=1e-6, blocks_per_call=2)
    assert res.n == 5 * BLOCK + 3 and res.target_reached is False
    _same(res, run_sweep(net, cfg, n=5 * BLOCK + 3, seed=1, blocks_per_call=2))
    with pytest.raises(ContagionError, match="until_se"):
        run_sweep(net, cfg, n=100, until_se=0)


# ---------------------------------------------------------------------- CLI: errors, draws, terminal
def test_sweep_cli_json_errors_and_contributions(config_file):
    out = _invoke("sweep", "core-periphery", "-c", str(config_file), "-n", "2000", "--seed", "3", "-f", "json",
                  "--co-default", "3", "--confidence", "0.9")
    data = json.loads(out.stdout)
    res = run_sweep(_cp(), load_sweep_config(config_file), n=2000, seed=3, confidence=0.9)
    core = next(r for r in data["institutions"] if r["name"] == "Core")
    i = _cp().index_of("Core")
    assert core["id"] == "C" and core["default_probability_se"] == res.default_probability_se[i]
    assert core["default_probability_ci"] == [res.default_probability_ci()[0][i], res.default_probability_ci()[1][i]]
    assert core["expected_unpaid_ci"][0] < core["expected_unpaid"] < core["expected_unpaid_ci"][1]
    assert set(core["es_contribution"]) == {"0.95", "0.99"}
    loss = data["system_loss"]
    assert loss["mean_se"] == res.mean_se and loss["mean_ci"] == list(res.mean_ci())
    assert set(loss["var_ci"]) == set(loss["es_se"]) == set(loss["es_ci"]) == {"0.95", "0.99"}
    assert loss["es_ci"]["0.99"][0] < loss["es"]["0.99"] < loss["es_ci"]["0.99"][1]
    assert data["confidence"] == 0.9 and data["until_se"] is None
    for q in ("0.95", "0.99"):   # Euler: the contributions add up to the ES
        assert sum(r["es_contribution"][q] for r in data["institutions"]) == pytest.approx(loss["es"][q])
    cd = data["co_default"]
    assert cd["names"][0] == "Core" and len(cd["probability"]) == 3
    assert [cd["probability"][k][k] for k in range(3)] == [
        next(r["default_probability"] for r in data["institutions"] if r["name"] == nm) for nm in cd["names"]]


def test_sweep_cli_until_se_and_draws_out(config_file, tmp_path):
    import pandas as pd

    path = tmp_path / "draws.parquet"
    out = _invoke("sweep", "core-periphery", "-c", str(config_file), "-n", "100000", "--until-se", "4",
                  "--seed", "2", "-f", "json", "--draws-out", str(path), "--co-default", "2")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    n = data["draws"]
    assert n % BLOCK == 0 and n < 100000 and data["target_reached"] is True and data["system_loss"]["mean_se"] <= 4
    assert f"stopped after {n} draws" in out.stderr
    draws = pd.read_parquet(path)
    assert list(draws.columns) == ["draw", "system_loss", "defaults", "defaulted:Core", "defaulted:Periphery 1"]
    res = run_sweep(_cp(), load_sweep_config(config_file), n=n, seed=2)
    assert len(draws) == n and draws["draw"].tolist() == list(range(n))   # the draws after n were not written
    x = draws["system_loss"].to_numpy()
    assert res.var(0.99) == np.sort(x)[math.ceil(0.99 * n) - 1] and res.mean == pytest.approx(x.mean(), rel=1e-14)
    np.testing.assert_array_equal(np.bincount(draws["defaults"], minlength=6), res.defaults_count)
    assert draws["defaulted:Core"].mean() == res.default_probability[2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draws.parquet", "sweep.toml"]   # no temporary file left
    csv_path = tmp_path / "draws.csv"
    out = _invoke("sweep", "core-periphery", "-c", str(config_file), "-n", "300", "--draws-out", str(csv_path))
    assert out.exit_code == 0 and len(csv_path.read_text(encoding="utf-8").splitlines()) == 301
    out = _invoke("sweep", "core-periphery", "-c", str(config_file), "-n", "300", "--draws-out", "x.txt")
    assert out.exit_code == 2 and ".parquet or .csv" in out.output


def _pty_helpers():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("_tables_pty", Path(__file__).with_name("test_tables.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_sweep_table_shows_errors_at_80_columns():
    t = _pty_helpers()
    out = t._pty(80, "sweep", "-c", "ai-demand-uncertainty", "-n", "2048", "--no-progress")
    drawn = [line for line in out.splitlines() if line[:1] in "┏┃┡│└┌├"]
    assert max(len(line.rstrip()) for line in drawn) <= 80
    rows = t._rows(out)
    head = {r[0]: r[1:] for r in rows if r[0].startswith(("mean system loss", "VaR 0.99", "ES 0.99"))}
    assert set(head) == {"mean system loss", "VaR 0.99", "ES 0.99 (expected shortfall)"}
    for est, pm, lo, hi in head.values():      # estimate, ±, interval: four whole numbers, low <= est <= high
        vals = [float(v.replace(",", "")) for v in (est, pm, lo, hi)]
        assert vals[2] <= vals[0] <= vals[3] and vals[1] > 0
    openai = next(r for r in rows if r[0] == "OpenAI")
    assert openai[1].endswith("%") and openai[2].endswith("%") and t.NUMBER.match(openai[3])  # p, ±, unpaid
    words = " ".join(out.split())            # the note wraps at 80 columns
    assert "joint default probability" in words
    assert "± is 1.96 standard errors: the half-width of the 95% confidence interval for means and ES" in words


# ---------------------------------------------------------------------- summaries instead of draws (issue 18.5)
def _per_draw_reference(x: np.ndarray, q: float, z: float) -> dict:
    """VaR, ES, their errors and intervals from every draw, by the formulas of the result's docstring
    (Acerbi & Tasche 2002, eq. 3.3; order statistics; Manistre & Hancock 2005), written out independently."""
    n = x.size
    s = np.sort(x, kind="stable")
    m = max(math.ceil(n * q - 1e-9), 1)
    # (sum_{k > m} L_(k) / n + (m / n - q) L_(m)) / (1 - q), written as VaR plus the mean excess over it
    es = float(s[m - 1]) + float(np.sum(s[m:] - s[m - 1])) / (n * (1 - q))
    w = np.zeros(n)
    w[m:] = 1.0 / (n * (1.0 - q))
    w[m - 1] = (m / n - q) / (1.0 - q)
    tail_var = float(np.dot(w[m - 1:], (s[m - 1:] - es) ** 2))

    def order(width):
        half = width * math.sqrt(n * q * (1 - q))
        lo = min(max(math.floor(n * q - half), 1), n)
        hi = min(max(math.ceil(n * q + half), 1), n)
        return float(s[lo - 1]), float(s[hi - 1])

    lo1, hi1 = order(1.0)
    return {"var": float(s[m - 1]), "es": es, "var_ci": order(z), "var_se": (hi1 - lo1) / 2,
            "es_se": math.sqrt(max(tail_var + q * (es - s[m - 1]) ** 2, 0.0) / (n * (1 - q)))}


@pytest.mark.parametrize("confidence", [0.95, 0.999])
def test_tail_summaries_equal_the_per_draw_formulas_to_the_bit(tmp_path, confidence):
    """Workers send the largest losses only; every tail number equals the formula on all draws, bit for bit."""
    net = _cp()
    cfg = SweepConfig.from_dict({"correlation": 0.3, "levels": [0.9, 0.99], "bins": 12, "shocks": [
        {"target": "Core", "distribution": "beta", "a": 1.5, "b": 6},
        {"target": ["P1", "P2"], "distribution": "uniform", "low": 0, "high": 0.3}]})
    n = 9 * BLOCK + 11
    res = small_batches(net, cfg, n=n, seed=5, chunk_size=2 * BLOCK, confidence=confidence,
                        draws_out=tmp_path / "d.parquet")
    x = pd.read_parquet(tmp_path / "d.parquet")["system_loss"].to_numpy()
    from contagion.sweep import running_mean_se, tail_size

    assert res.loss.tail.size == tail_size(n, cfg.levels, res.z) < n / 8      # only the tail is kept
    np.testing.assert_array_equal(res.loss.tail, np.sort(x)[n - res.loss.tail.size:])
    np.testing.assert_array_equal(x[res.loss.tail_draws], res.loss.tail)
    for q in cfg.levels:
        ref = _per_draw_reference(x, q, res.z)
        got = {"var": res.var(q), "es": res.es(q), "var_ci": res.var_ci(q), "var_se": res.var_se(q),
               "es_se": res.es_se(q)}
        assert got == ref, q
    assert res.mean_se == running_mean_se(x)[-1]
    assert res.mean == pytest.approx(x.mean(), rel=1e-15) and res.loss.std == pytest.approx(x.std(), rel=1e-14)
    assert (res.loss.min, res.loss.max) == (x.min(), x.max())
    counts, edges = res.histogram()
    assert len(counts) == 12 and edges[0] <= x.min() and x.max() < edges[-1]
    np.testing.assert_array_equal(counts, np.histogram(x, bins=edges)[0])


def test_tail_reservoir_is_the_same_set_in_any_order():
    from contagion.sweep.summary import TailReservoir, top_records

    rng = np.random.default_rng(1)
    loss = np.round(rng.exponential(size=20_000), 2)           # many ties
    draws = np.arange(loss.size)
    k = 700
    kth = np.sort(loss)[-k]
    expect = np.flatnonzero(loss >= kth)                        # the k largest and every tie of the k-th
    for order in (np.arange(loss.size), rng.permutation(loss.size), np.argsort(loss)):
        r = TailReservoir(k)
        for part in np.array_split(order, 37):
            floor = r.floor
            r.add(*top_records(loss[part], draws[part], k, floor))
        got_loss, got_draws = r.arrays()
        np.testing.assert_array_equal(np.sort(got_draws), expect)
        np.testing.assert_array_equal(got_loss, np.sort(loss[expect]))
        assert r.floor <= kth


def test_stream_tasks_keeps_order_and_a_bounded_window():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Lock
    import time

    from contagion.executors import stream_tasks

    live, peak, lock = [0], [0], Lock()

    def work(shared, k):
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.002 * ((7 * k) % 5))                      # finish out of order
        with lock:
            live[0] -= 1
        return shared + k

    made = []

    def tasks():
        for k in range(40):
            made.append(k)
            yield (k,)

    with ThreadPoolExecutor(8) as ex:
        got = []
        for r in stream_tasks(work, 100, tasks(), ex, window=3):
            got.append(r)
            assert len(made) <= len(got) + 3                   # tasks are made only as slots free up
        assert got == [100 + k for k in range(40)] and peak[0] <= 3
    assert list(stream_tasks(work, 1, [(2,), (3,)], None)) == [3, 4]


def test_sweep_driver_memory_does_not_hold_the_draws():
    """The result holds summaries only: its arrays are a few kilobytes whatever the number of draws."""
    net, cfg = _cp(), SweepConfig.from_dict(CORE_UNIFORM)
    small = run_sweep(net, cfg, n=4 * BLOCK, seed=1, contributions=False)
    large = run_sweep(net, cfg, n=64 * BLOCK, seed=1, contributions=False)

    def held(r):
        arrays = [v for v in vars(r).values() if isinstance(v, np.ndarray)] + \
                 [r.loss.tail, r.loss.tail_draws, r.loss.histogram.counts]
        return sum(a.nbytes for a in arrays)

    # 16 bytes per kept tail record (5% + the interval's order statistics) and a fixed histogram
    assert held(large) - held(small) == 16 * (large.loss.tail.size - small.loss.tail.size)
    assert large.loss.tail.size < 0.06 * large.n


# ---------------------------------------------------------------------- fire sales (issue 19)
def _nv() -> contagion.FinancialNetwork:
    """The neocloud N / GPU vehicle V example of issue 19 (tests/test_firesale.py), N's cash 4."""
    nodes = pd.DataFrame({"id": ["N", "F", "V", "B"], "external_assets": [4.0, 0, 3, 0],
                          "external_liabilities": [1.0, 0, 0, 0], "asset_units": [10.0, 0, 8, 0]})
    edges = pd.DataFrame({"debtor": ["N", "V"], "creditor": ["F", "B"], "amount": [10.0, 9.8]})
    return contagion.FinancialNetwork.from_edges(edges, nodes)


NV_SHOCKS = {"correlation": 0.3, "levels": [0.9], "shocks": [
    {"target": "N", "distribution": "uniform", "low": 0.0, "high": 1.0},
    {"target": "V", "distribution": "beta", "a": 1.0, "b": 3.0}]}


@pytest.mark.parametrize("method,params", [("fire-sale", {"impact": 0.01}),
                                           ("fire-sale-leverage", {"impact": 0.005, "leverage": 6.0})])
def test_fire_sale_sweep_equals_clearing_each_draw(tmp_path, method, params):
    """Each draw cleared by the fire-sale solver: defaults, prices, losses equal contagion.clear per draw."""
    net, cfg = _nv(), SweepConfig.from_dict(NV_SHOCKS)
    n = 40
    res = run_sweep(net, cfg, n=n, seed=3, method=method, draws_out=tmp_path / "d.parquet", draws_flags=4,
                    **params)
    per_draw = pd.read_parquet(tmp_path / "d.parquet")
    frac = sample_losses(net, cfg, n, seed=3)
    base = contagion.clear(net, method=method, **params)
    flags, price, system, eq_loss = [], [], [], []
    for d in range(n):
        e = net.external_assets.copy()
        e[[0, 2]] *= 1 - frac.iloc[d].to_numpy()
        r = contagion.clear(net.replace(external_assets=e), method=method, **params)
        flags.append(r.defaulted)
        price.append(r.prices["asset"])
        system.append((net.external_assets - e).sum() + r.total_shortfall - base.total_shortfall)
        eq_loss.append(base.equity - r.equity)                  # marked to market: the price fall counts
    flags, price, system = np.array(flags), np.array(price), np.array(system)
    np.testing.assert_array_equal(res.default_probability, flags.mean(axis=0))
    np.testing.assert_allclose(per_draw["price:asset"], price, rtol=0, atol=1e-12)
    np.testing.assert_allclose(per_draw["system_loss"], system, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.expected_loss, np.mean(eq_loss, axis=0), rtol=1e-10, atol=1e-10)
    for i, name in enumerate(net.names):
        np.testing.assert_array_equal(per_draw[f"defaulted:{name}"], flags[:, i])
    ps = res.prices["asset"]
    assert (ps.mean, ps.min, ps.max) == pytest.approx((price.mean(), price.min(), price.max()), abs=1e-12)
    assert ps.mean_se == pytest.approx(price.std(ddof=1) / math.sqrt(n), rel=1e-8)
    assert res.var(0.9) == pytest.approx(np.sort(system)[math.ceil(0.9 * n) - 1], abs=1e-10)
    s = res.summary()["prices"]["asset"]
    assert sum(s["histogram"]["counts"]) == n and s["min"] <= s["mean"] <= s["max"] <= 1.0
    assert 0 < flags.mean() and price.min() < base.prices["asset"]    # the shocks do force sales


def test_fire_sale_sweep_cli(tmp_path):
    folder = tmp_path / "nv"
    contagion.write_network(_nv(), folder)
    cfg = tmp_path / "gpu.json"
    cfg.write_text(json.dumps(NV_SHOCKS), encoding="utf-8")
    out = _invoke("sweep", str(folder), "-c", str(cfg), "-m", "fire-sale", "--impact", "0.01", "-n", "300",
                  "-f", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["method"] == "fire-sale" and data["params"] == {"impact": 0.01}
    res = run_sweep(_nv(), SweepConfig.from_dict(NV_SHOCKS), n=300, seed=0, method="fire-sale", impact=0.01)
    assert data["prices"]["asset"]["mean"] == res.prices["asset"].mean
    assert set(data["prices"]["asset"]) == {"mean", "mean_se", "mean_ci", "std", "min", "max", "histogram"}
    table = _invoke("sweep", str(folder), "-c", str(cfg), "-m", "fire-sale", "-n", "300")
    assert table.exit_code == 0 and "clearing price of each asset" in table.stdout
    bad = _invoke("sweep", str(folder), "-c", str(cfg), "-m", "eisenberg-noe", "--impact", "0.01", "-n", "10")
    assert bad.exit_code == 2 and "--impact applies only to --method fire-sale" in bad.output


# ------------------------------------------------------------------ claims that are not paid pro rata
def _ranked_net(edges: dict, nodes: dict) -> contagion.FinancialNetwork:
    return contagion.FinancialNetwork.from_edges(pd.DataFrame(edges), pd.DataFrame(nodes))


def test_a_sweep_pays_ranked_claims_by_seniority():
    """D (20) owes A 10 (level 1) and B 10 (level 2) and loses 75%: with 5 left it pays A 5 and B nothing. The
    losses A and B bear are 5 and 10 (pro rata would say 7.5 each); the system loss is 15 + 15."""
    net = _ranked_net({"debtor": ["D", "D"], "creditor": ["A", "B"], "amount": [10.0, 10.0], "seniority": [1, 2]},
                      {"id": ["D", "A", "B"], "external_assets": [20.0, 0.0, 0.0]})
    cfg = SweepConfig.from_dict({"shocks": [{"target": "D", "distribution": "fixed", "value": 0.75}]})
    res = run_sweep(net, cfg, n=64, seed=1)
    np.testing.assert_allclose(res.expected_loss, [15.0, 5.0, 10.0], rtol=1e-12)
    np.testing.assert_allclose(res.expected_unpaid, [15.0, 0.0, 0.0], rtol=1e-12)
    assert res.loss.mean == pytest.approx(30.0, rel=1e-12)
    np.testing.assert_allclose(res.loss_contribution, [30.0, 0.0, 0.0], rtol=1e-12)


def test_a_sweep_counts_an_unpaid_guarantee_call_once():
    """S (10) owes B 10, guaranteed by G (2) up to 10. S loses 60%: it pays 4, 6 is called on G, which pays its 2.
    B bears 10 - 4 - 2 = 4; G's equity falls by the call of 6; the system loses the shock of 6 and S's unpaid 6
    (G's unpaid 4 of the call is part of it) -- what `run` says for the same scenario."""
    from contagion.measures import loss_summary

    net = _ranked_net({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [10.0, 10.0],
                       "kind": ["loan", "guarantee"], "covers": [None, "e1"]},
                      {"id": ["S", "G", "B"], "external_assets": [10.0, 2.0, 0.0]})
    cfg = SweepConfig.from_dict({"shocks": [{"target": "S", "distribution": "fixed", "value": 0.6}]})
    res = run_sweep(net, cfg, n=64, seed=1)
    np.testing.assert_allclose(res.expected_loss, [6.0 + 0.0, 6.0, 4.0], rtol=1e-12)
    assert res.loss.mean == pytest.approx(12.0, rel=1e-12)
    np.testing.assert_allclose(res.loss_contribution, [12.0, 0.0, 0.0], rtol=1e-12, atol=1e-12)
    hit = net.replace(external_assets=np.array([4.0, 2.0, 0.0]))
    assert loss_summary(contagion.clear(hit), net)["system_loss"] == 12.0


def test_the_sweep_table_shows_no_sampling_error_where_every_draw_is_equal(tmp_path):
    """A fixed loss makes every draw the same: ES's standard error is rounding (4.7e-15) and read '+- 9.22e-15'."""
    net = _ranked_net({"edge_id": ["e1", "g1"], "debtor": ["S", "G"], "creditor": ["B", "B"], "amount": [10.0, 6.0],
                       "kind": ["loan", "guarantee"], "covers": [None, "e1"]},
                      {"id": ["S", "G", "B"], "external_assets": [10.0, 2.0, 0.0]})
    folder = contagion.write_network(net, tmp_path / "net")
    (tmp_path / "fix.toml").write_text('name = "fix"\n[[shocks]]\ntarget = "S"\ndistribution = "fixed"\nvalue = 0.6\n')
    from contagion.cli import cli

    out = CliRunner().invoke(cli, ["sweep", str(folder), "-c", str(tmp_path / "fix.toml"), "-n", "200"],
                             terminal_width=120)
    assert out.exit_code == 0, out.output
    es = next(line for line in out.stdout.splitlines() if "ES 0.95" in line).split("│")
    assert [c.strip() for c in es[2:4]] == ["12.00", "0.00"]


def test_a_flat_tail_has_es_equal_to_var_and_the_bins_reach_the_maximum():
    """A fixed shock: every draw loses the same (the core loses 25% of its 150, as one clearing says); ES was
    6 ulps below VaR with a non-zero standard error. A narrow spread of losses: the coarse bins stop at
    the maximum (18 of 40 bins lay past it). A level kept to the digit in keys and labels (0.99995 read "1")."""
    net = _cp()
    flat = run_sweep(net, SweepConfig.from_dict({"levels": [0.95, 0.99995], "shocks": [
        {"target": "Core", "distribution": "fixed", "value": 0.25}]}), n=1000, seed=0)
    e = net.external_assets.copy()
    e[net.index_of("Core")] *= 0.75
    from contagion.measures import loss_summary

    loss = loss_summary(contagion.clear(net.replace(external_assets=e)), net)["system_loss"]
    for q in flat.levels:
        assert flat.var(q) == flat.es(q) == loss and flat.es_se(q) == 0.0
    assert list(flat.summary()["system_loss"]["es"]) == ["0.95", "0.99995"]
    narrow = run_sweep(net, SweepConfig.from_dict({"bins": 40, "shocks": [
        {"target": "Core", "distribution": "beta", "a": 5e5, "b": 5e5}]}), n=1000, seed=1)
    counts, edges = narrow.histogram(40)
    assert counts.sum() == 1000 and counts[-1] > 0 and edges[0] <= narrow.loss.min
    assert edges[-2] <= narrow.loss.max <= edges[-1]
