"""Monte Carlo sweeps of random shocks, run over a :class:`concurrent.futures.Executor`.

A sweep draws ``n`` random scenarios of losses on outside assets, clears each
one exactly (batched through :func:`contagion.clear_many`) and aggregates:
per institution the default probability, the expected amount left unpaid
(``expected_unpaid``), the expected loss of equity and its contributions to
the expected loss and to the expected shortfall (Euler); for the system the
distribution of the Glasserman--Young loss (shock + additional shortfall) with
Value-at-Risk and expected shortfall (ES) at chosen levels and a histogram;
the co-default matrix of the institutions most likely to default. Every
estimate carries its Monte Carlo standard error and a confidence interval
(methods: :mod:`contagion.sweep.result`); ``run_sweep(until_se=...)`` draws
until the mean system loss is known to a given precision.

Sweep configuration (TOML, YAML or JSON; same keys)::

    name = "neocloud-stress"              # optional; default: the file stem
    description = "Why these distributions."
    correlation = 0.3                     # one-factor Gaussian copula, in [0, 1)
    levels = [0.95, 0.99]                 # VaR / ES levels, each in (0, 1)
    bins = 40                             # histogram bins
    # scenario = "base-case"              # optional scenario applied before sampling
    [[shocks]]
    target = "OpenAI"                     # names/ids ... or select = { type = "neocloud" }
    distribution = "beta"                 # fraction of outside assets lost, in [0, 1]
    a = 2.0
    b = 5.0
    [[shocks]]
    select = { type = "neocloud" }
    distribution = "uniform"
    low = 0.0
    high = 0.6
    correlation = 0.5                     # optional per-entry loading on the common factor

Distributions of the *fraction of outside assets lost* (:data:`DISTRIBUTIONS`),
all with support inside ``[0, 1]`` by construction (nothing is clipped;
parameters that would allow values outside are an error):

- ``beta`` (``a > 0``, ``b > 0``);
- ``uniform`` (``0 <= low <= high <= 1``);
- ``lognormal`` (``mu``, ``sigma > 0``): ``exp(N(mu, sigma^2))`` *conditioned on
  being at most 1* (a truncated log-normal; sampled by inverse transform of
  ``u * F(1)``), so small losses with a heavy right tail up to total loss;
- ``fixed`` (``value`` in ``[0, 1]``): the same loss in every draw.

Dependence: a one-factor Gaussian copula. For draw ``d`` and shocked
institution ``i`` with loading ``rho_i`` (the entry's ``correlation``, else
the top-level one), ``Z_i = sqrt(rho_i) M + sqrt(1 - rho_i) eps_i`` with
``M, eps_i`` independent standard normals, ``U_i = Phi(Z_i)`` and loss
``F_i^{-1}(U_i)``. Two institutions' latent variables have correlation
``sqrt(rho_i rho_j)`` (``rho`` when both use the top-level value). Every
shocked institution's loss is driven by its own ``eps_i`` (an entry with
``select`` gives each selected institution its own draw). An institution
matched by two entries is an error.

Reproducibility: draws are generated in fixed blocks of :data:`BLOCK` draws;
block ``b`` uses ``numpy.random.SeedSequence(seed, spawn_key=(b,))``, so draw
``d`` depends only on ``(seed, d)``. Draws are cleared in fixed batches of
whole blocks (:func:`clearing_batch`: the number of blocks depends only on the
network's size, large enough for the compiled batched solver, and fewer only
when the sweep is shorter than one batch), each batch by its own
:func:`~contagion.clear_many` call of the same shape (the last one padded with
the draws that follow, which are then dropped); partial sums are kept per
batch and added in batch order. So for a given seed and number of draws the numbers
are identical whatever the chunk size, the executor and the number of workers
(given the same software on every worker). The standard errors and intervals
use no random numbers, so they are reproducible in the same way.

Examples
--------
>>> import contagion
>>> from contagion.sweep import SweepConfig, run_sweep
>>> net = contagion.load_dataset("core-periphery")
>>> cfg = SweepConfig.from_dict({"correlation": 0.5, "shocks": [
...     {"target": "Core", "distribution": "uniform", "low": 0.0, "high": 1.0}]})
>>> res = run_sweep(net, cfg, n=1000, seed=1)

The core defaults when it loses more than its capital, 10 of its 150 (a
probability of 14/15):

>>> round(float(res.default_probability[net.index_of("Core")]), 2)
0.93
>>> res.var(0.99) >= res.var(0.95) > 0
True

Its binomial standard error, ``sqrt(p (1 - p) / n)``, and 95% interval:

>>> i = net.index_of("Core")
>>> round(float(res.default_probability_se[i]), 4)
0.0082
>>> [round(float(x), 3) for x in (res.default_probability_ci()[0][i], res.default_probability_ci()[1][i])]
[0.91, 0.942]
"""

from __future__ import annotations

from ..executors import AUTO_PROCESS_WORK, dask_executor, local_executor, run_tasks
from .config import DISTRIBUTIONS, Distribution, ShockDistribution, SweepConfig, find_sweep_config, load_sweep_config
from .engine import BLOCK, CLEAR_MEMORY, CLEAR_WORK, MAX_BLOCKS_PER_BATCH, MAX_CO_DEFAULT, MAX_FLAGGED, \
    MIN_BLOCKS_UNTIL_SE, clearing_batch, run_sweep, sample_losses
from .result import LossSummary, PriceSummary, SweepResult, running_mean_se
from .summary import tail_size

__all__ = [
    "BLOCK",
    "DISTRIBUTIONS",
    "Distribution",
    "ShockDistribution",
    "SweepConfig",
    "SweepResult",
    "LossSummary",
    "PriceSummary",
    "tail_size",
    "load_sweep_config",
    "find_sweep_config",
    "run_sweep",
    "sample_losses",
    "run_tasks",
    "local_executor",
    "dask_executor",
    "AUTO_PROCESS_WORK",
    "clearing_batch",
    "CLEAR_WORK",
    "CLEAR_MEMORY",
    "MAX_BLOCKS_PER_BATCH",
    "MAX_FLAGGED",
    "MAX_CO_DEFAULT",
    "MIN_BLOCKS_UNTIL_SE",
    "running_mean_se",
]
