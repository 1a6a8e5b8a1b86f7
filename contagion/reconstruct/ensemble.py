"""Clearing every draw of an ensemble: default probabilities and losses with their uncertainty."""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ContagionError

from .marginals import ENSEMBLE_BLOCK, Marginals, _check_method, _problem_of
from .methods import _check_seed, _draw_block, _min_density, _ras, _sampler
from .syndicates import _spread_amounts, _spread_plan


@dataclass(frozen=True)
class EnsembleResult:
    """Per institution, clearing results across reconstructions.

    ``default_probability`` (share of draws in which it defaults) with its
    Monte Carlo standard error ``sqrt(q (1 - q) / n)``; ``loss_mean`` (loss on
    its network claims, :attr:`ClearingResult.interbank_loss`) with standard
    error ``std / sqrt(n)``; ``loss_low`` / ``loss_high``: the ``band``
    quantile range of the loss across draws (what the reconstruction leaves
    open, not a Monte Carlo error).
    """

    names: tuple[str, ...]
    types: tuple[str, ...]
    default_probability: np.ndarray
    default_probability_se: np.ndarray
    loss_mean: np.ndarray
    loss_se: np.ndarray
    loss_low: np.ndarray
    loss_high: np.ndarray
    losses: np.ndarray          # (draws, n)
    defaulted: np.ndarray       # (draws, n) bool
    n: int
    seed: int
    method: str
    band: float
    scenarios: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per institution, indexed by name."""
        return pd.DataFrame({"type": self.types, "default_probability": self.default_probability,
                             "default_probability_se": self.default_probability_se, "loss_mean": self.loss_mean,
                             "loss_se": self.loss_se, "loss_low": self.loss_low, "loss_high": self.loss_high},
                            index=pd.Index(self.names, name="name"))


@dataclass(frozen=True)
class _ClearPlan:
    kind: str                   # "marginals" or "syndicates"
    sampler: Any                # _Sampler / _Problem or _Spread
    base: Any                   # network the draws replace the liabilities of (marginals: None)
    marginals: Any
    scenarios: tuple
    method: str
    clearing: str
    params: Mapping[str, Any]


def _clear_block(plan: _ClearPlan, seed: int, block: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    from ..clearing import clear
    from ..pipeline import prepare

    nets = []
    if plan.kind == "syndicates":
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        for _ in range(count):
            nets.append(plan.base.replace(edge_amounts=_spread_amounts(plan.sampler, rng)))
    else:
        if plan.method == "ensemble":
            mats = _draw_block(plan.sampler, seed, block, count)
        else:
            mats = [plan.sampler.finish(_ras(plan.sampler) if plan.method == "max-entropy"
                                        else _min_density(plan.sampler))] * count
        nets = [plan.marginals.to_network(L) for L in mats]
    losses = np.empty((count, len(nets[0].names)))
    defaulted = np.empty((count, len(nets[0].names)), dtype=bool)
    for k, net in enumerate(nets):
        if plan.scenarios:
            net, _, _ = prepare(net, list(plan.scenarios))
        res = clear(net, plan.clearing, **plan.params)
        losses[k] = res.interbank_loss
        defaulted[k] = res.defaulted
    return losses, defaulted


def clear_ensemble(net_or_marginals: Any, n: int, seed: int = 0, method: str = "ensemble",
                   executor: Executor | str | None = None, *, scenarios: Sequence[Any] = (),
                   syndicates: Iterable[str] | None = None, band: float = 0.9, clearing: str = "eisenberg-noe",
                   weights: Any = None, shares: Mapping[str, Mapping[str, float]] | None = None,
                   concentration: float | None = None, p: float = 0.5, lam: float | None = None,
                   burn_in: int | None = None, thin: int | None = None, **params: Any) -> EnsembleResult:
    """Clear ``n`` reconstructions and report default probabilities and losses with their uncertainty.

    Parameters
    ----------
    net_or_marginals : Marginals or FinancialNetwork
        :class:`Marginals` (e.g. from :func:`read_marginals`): the whole
        liabilities matrix is reconstructed by ``method`` for every draw. A
        network: with ``syndicates`` (ids, or ``"all"``) the claims on those
        syndicates are spread over their members (:func:`spread_syndicates`,
        one Dirichlet draw each time); without, its matrix is reconstructed
        from its own totals (:meth:`Marginals.from_network`).
    n : int
        Number of reconstructions.
    seed : int
        Same seed, same numbers, whatever ``executor`` and the number of workers
        (draws come in blocks of :data:`ENSEMBLE_BLOCK`, one seed per block).
    method : str
        ``"ensemble"`` (default), or a deterministic method (every draw is the
        same: the standard errors are 0).
    executor : concurrent.futures.Executor, "auto", "processes", "inline" or None
        Where the blocks run (see :func:`contagion.executors.resolve_executor`).
    scenarios : sequence
        Scenario names, files or objects applied to every reconstruction
        (through :func:`contagion.pipeline.prepare`) before clearing.
    band : float
        Width of the loss band across draws (0.9: the 5th to 95th percentile).
    clearing : str
        Clearing method (``"eisenberg-noe"``, ``"rogers-veraart"`` with
        ``alpha``/``beta`` in ``params``).

    Returns
    -------
    EnsembleResult

    >>> import contagion
    >>> from contagion.reconstruct import Marginals
    >>> m = Marginals.from_network(contagion.load_dataset("core-periphery"))
    >>> res = clear_ensemble(m, n=4, seed=0)
    >>> res.n, res.default_probability.shape, res.to_frame().columns[:3].tolist()
    (4, (5,), ['type', 'default_probability', 'default_probability_se'])
    """
    from ..executors import resolve_executor, run_tasks

    n = _check_seed(n, "n")
    seed = _check_seed(seed)
    if n < 1:
        raise ContagionError("n (number of reconstructions) must be at least 1")
    if not 0 < band < 1:
        raise ContagionError(f"band must lie strictly between 0 and 1, got {band!r}")
    _check_method(method)
    from ..pipeline import resolve

    if isinstance(net_or_marginals, Marginals):
        marg, base, kind = net_or_marginals, None, "marginals"
    elif syndicates is not None:
        marg, base, kind = None, net_or_marginals, "syndicates"
    else:
        marg, base, kind = Marginals.from_network(net_or_marginals), None, "marginals"
    if kind == "syndicates":
        # shocks first (they may name the claims on a syndicate by edge_id), then the spread of the shocked claims
        from ..pipeline import prepare

        base, resolved_s, _ = prepare(base, list(scenarios)) if scenarios else (base, (), False)
        plan_s = _spread_plan(base, None if syndicates == "all" else syndicates, weights, shares, concentration)
        probe = plan_s.network
        sampler: Any = plan_s
        names, types_ = tuple(probe.names), tuple(map(str, probe.types))
        base = probe
    else:
        prob = _problem_of(marg)
        sampler = _sampler(prob, p, lam, burn_in, thin) if method == "ensemble" else prob
        probe = marg.to_network(prob.finish(_ras(prob)) if method != "min-density" else prob.finish(
            _min_density(prob)))
        names, types_ = marg.names, tuple(map(str, probe.types))
    if kind == "syndicates":
        resolved, per_draw = tuple(resolved_s), ()
    else:
        resolved = resolve(probe, list(scenarios))[0] if scenarios else ()
        per_draw = tuple(resolved)
    plan = _ClearPlan(kind=kind, sampler=sampler, base=base, marginals=marg, scenarios=per_draw,
                      method=method, clearing=clearing, params=dict(params))
    blocks = -(-n // ENSEMBLE_BLOCK)
    tasks = [(seed, b, min(ENSEMBLE_BLOCK, n - b * ENSEMBLE_BLOCK)) for b in range(blocks)]
    with resolve_executor(executor, float(n) * (len(names) ** 2)) as (ex, _):
        parts = run_tasks(_clear_block, plan, tasks, ex, sizes=[t[2] for t in tasks])
    losses = np.concatenate([pt[0] for pt in parts], axis=0)
    defaulted = np.concatenate([pt[1] for pt in parts], axis=0)
    q = defaulted.mean(axis=0)
    lo, hi = np.quantile(losses, [(1 - band) / 2, (1 + band) / 2], axis=0)
    sd = losses.std(axis=0, ddof=1) if n > 1 else np.zeros(len(names))
    return EnsembleResult(names=names, types=types_, default_probability=q,
                          default_probability_se=np.sqrt(q * (1 - q) / n), loss_mean=losses.mean(axis=0),
                          loss_se=sd / math.sqrt(n), loss_low=lo, loss_high=hi, losses=losses, defaulted=defaulted,
                          n=n, seed=seed, method=method if kind == "marginals" else "syndicate-dirichlet",
                          band=float(band), scenarios=tuple(s.name for s in resolved))
