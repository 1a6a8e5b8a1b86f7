"""Running a sweep: draws in fixed blocks, batched exact clearing, partial sums in batch order.

See :mod:`contagion.sweep` for the model and the reproducibility contract.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ContagionError, ScenarioError, check_memory
from ..executors import resolve_executor, run_tasks
from .config import DISTRIBUTIONS, SweepConfig
from .result import SweepResult

#: Memory a sweep keeps per draw: system loss and number of defaults (float64 + int64), twice while the blocks
#: are joined, and the sorted copy of the losses for VaR -- checked before a run starts (10**12 draws: 40 TB).
BYTES_PER_DRAW = 40

__all__ = ["BLOCK", "CLEAR_WORK", "CLEAR_MEMORY", "MAX_BLOCKS_PER_BATCH", "clearing_batch", "sample_losses",
           "run_sweep"]

#: Draws per block: the unit of randomness (one SeedSequence child each) and of batched clearing.
#: Part of the reproducibility contract: changing it changes the numbers for a given seed.
BLOCK = 256

#: Target obligations x draws of one batched clearing call (big enough for the compiled batched path)...
CLEAR_WORK = 1_000_000
#: ... within this many institutions x draws (about 64 MB per (n, draws) array).
CLEAR_MEMORY = 8_000_000
#: Most blocks in one clearing call.
MAX_BLOCKS_PER_BATCH = 256


@dataclass(frozen=True)
class _Plan:
    """What a worker needs to sample and clear blocks (picklable, shipped once per task)."""

    network: Any
    idx: np.ndarray              # shocked institutions (positions)
    loading: np.ndarray          # sqrt(rho_i), aligned with idx
    groups: tuple                # ((distribution name, params dict, columns of idx), ...)
    base_payments: np.ndarray
    method: str
    params: Mapping[str, Any]
    blocks_per_batch: int = 1


def clearing_batch(net) -> int:
    """Blocks of draws cleared per :func:`~contagion.clear_many` call; depends only on the network's size.

    ``ceil(CLEAR_WORK / (obligations * BLOCK))``, capped so that an ``(n,
    draws)`` array stays within :data:`CLEAR_MEMORY` entries, between 1 and
    :data:`MAX_BLOCKS_PER_BATCH`.

    >>> import contagion
    >>> clearing_batch(contagion.load_dataset("core-periphery"))  # 4 obligations: 65,536 draws a call
    256
    """
    g = -(-CLEAR_WORK // (max(int(net.liabilities.nnz), 1) * BLOCK))
    g = min(g, max(1, CLEAR_MEMORY // (max(net.n, 1) * BLOCK)))
    return int(max(1, min(g, MAX_BLOCKS_PER_BATCH)))


def _plan(net, config: SweepConfig, method: str, params: Mapping[str, Any], base_payments: np.ndarray) -> _Plan:
    owner = np.full(net.n, -1, dtype=np.int64)
    idx_parts, load_parts, groups = [], [], []
    start = 0
    for k, entry in enumerate(config.shocks):
        try:
            mask = entry.node_mask(net)
        except ScenarioError as exc:
            raise ScenarioError(f"sweep {config.name!r}: shocks[{k}].{exc}") from None
        clash = mask & (owner >= 0)
        if clash.any():
            i = int(np.flatnonzero(clash)[0])
            raise ScenarioError(f"shocks[{k}]: {net.names[i]!r} is already hit by shocks[{owner[i]}]; "
                                f"each institution may follow one distribution")
        owner[mask] = k
        pos = np.flatnonzero(mask)
        rho = config.correlation if entry.correlation is None else entry.correlation
        idx_parts.append(pos)
        load_parts.append(np.full(pos.size, math.sqrt(rho)))
        groups.append((entry.distribution, entry.kwargs, np.arange(start, start + pos.size)))
        start += pos.size
    return _Plan(network=net, idx=np.concatenate(idx_parts), loading=np.concatenate(load_parts),
                 groups=tuple(groups), base_payments=base_payments, method=method, params=dict(params),
                 blocks_per_batch=clearing_batch(net))


def _block_rng(seed: int, block: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


def _block_losses(plan: _Plan, seed: int, block: int) -> np.ndarray:
    """Loss fractions ``(BLOCK, m)`` of block ``block`` (always a full block; callers slice)."""
    from scipy.special import ndtr

    rng = _block_rng(seed, block)
    m = plan.idx.size
    common = rng.standard_normal(BLOCK)
    own = rng.standard_normal((BLOCK, m))
    a = plan.loading
    z = common[:, None] * a[None, :] + own * np.sqrt(1.0 - a * a)[None, :]
    u = ndtr(z)
    loss = np.empty_like(u)
    for dist, kw, cols in plan.groups:
        loss[:, cols] = DISTRIBUTIONS[dist].ppf(u[:, cols], **kw)
    return loss


def sample_losses(net, config: SweepConfig, n: int, seed: int) -> pd.DataFrame:
    """The loss fractions of the first ``n`` draws, one column per shocked institution (for inspection).

    Exactly the fractions :func:`run_sweep` uses with the same seed. The
    configuration's base ``scenario`` is not applied here (it only moves the
    outside assets the fractions apply to).

    >>> import contagion
    >>> cfg = SweepConfig.from_dict({"shocks": [{"target": "Core", "distribution": "fixed", "value": 0.25}]})
    >>> sample_losses(contagion.load_dataset("core-periphery"), cfg, 3, seed=0)["Core"].tolist()
    [0.25, 0.25, 0.25]
    """
    plan = _plan(net, config, "eisenberg-noe", {}, np.zeros(net.n))
    blocks = [_block_losses(plan, seed, b) for b in range(-(-n // BLOCK))]
    loss = np.concatenate(blocks, axis=0)[:n] if blocks else np.empty((0, plan.idx.size))
    return pd.DataFrame(loss, columns=[net.names[i] for i in plan.idx])


def _sweep_task(plan: _Plan, seed: int, n: int, first_batch: int, last_batch: int) -> list[dict[str, np.ndarray]]:
    """Sample and clear batches ``first_batch .. last_batch - 1``; one dict of partial sums per batch."""
    from ..clearing import clear_many

    net = plan.network
    e0 = net.external_assets
    pbar = net.total_obligations
    PiT = net.PiT
    p0 = plan.base_payments
    idx = plan.idx
    g = plan.blocks_per_batch
    out = []
    for u in range(first_batch, last_batch):
        # every call clears g whole blocks (the last one padded with the draws that follow, then dropped),
        # so that every call has the same shape whatever the chunking
        loss = np.concatenate([_block_losses(plan, seed, b) for b in range(u * g, (u + 1) * g)], axis=0)
        size = min(n, (u + 1) * g * BLOCK) - u * g * BLOCK
        lost_all = e0[idx, None] * loss.T                            # (m, g * BLOCK) outside assets lost
        E = np.repeat(e0[:, None], lost_all.shape[1], axis=1)
        E[idx, :] -= lost_all
        np.maximum(E, 0.0, out=E)
        batch = clear_many(net, E, plan.method, **plan.params)
        del E
        D = batch.defaulted[:, :size]
        dP = np.subtract(p0[:, None], batch.payments[:, :size])      # fall in payments from the baseline
        del batch
        lost = np.ascontiguousarray(lost_all[:, :size])
        dp_sum = dP.sum(axis=1)
        eq_loss = PiT @ dp_sum                                        # fall in what each one receives, summed
        eq_loss[idx] += lost.sum(axis=1)
        out.append({
            "defaults": D.sum(axis=1, dtype=np.int64),
            "shortfall": dp_sum + size * (pbar - p0),                 # sum over draws of pbar - p
            "equity_loss": eq_loss,
            "system_loss": lost.sum(axis=0) + dP.sum(axis=0),
            "n_defaults": D.sum(axis=0, dtype=np.int64),
        })
    return out


def run_sweep(net, config: SweepConfig, n: int = 10_000, seed: int = 0, chunk_size: int | None = None,
              executor: Executor | str | None = None, *, method: str = "eisenberg-noe",
              progress: Callable[[int, int], None] | None = None, scenarios: Sequence[Any] = (),
              blocks_per_call: int | None = None, **params: Any) -> SweepResult:
    """Run a Monte Carlo sweep: ``n`` random shocks, each cleared exactly.

    Parameters
    ----------
    net : FinancialNetwork
        The network before any scenario.
    config : SweepConfig
    n : int
        Number of draws.
    seed : int
        Seed (non-negative integer). Same seed, same numbers, whatever
        ``chunk_size`` and ``executor``.
    chunk_size : int, optional
        Draws per task sent to the executor (rounded up to whole clearing
        batches, :func:`clearing_batch` blocks of :data:`BLOCK` draws); default:
        about four tasks per worker.
    executor : concurrent.futures.Executor, "auto", "processes", "inline" or None
        Where tasks run. ``None``/``"inline"`` (default): in this process;
        ``"processes"``: a local process pool (one worker per core, created and
        shut down here); ``"auto"`` (what the CLI uses): inline for small jobs,
        processes when draws x (institutions + obligations) exceeds
        :data:`AUTO_PROCESS_WORK`; an Executor (e.g.
        ``dask.distributed.Client(...).get_executor()``) is used as given and not
        shut down. Local processes start with the ``forkserver`` method, so a
        script using them needs the usual ``if __name__ == "__main__":`` guard.
    method : str
        ``"eisenberg-noe"`` or ``"rogers-veraart"`` (with ``alpha``, ``beta``).
    progress : callable(done, total), optional
        Called with the number of draws done (the library itself never prints).
    scenarios : sequence of scenario names, paths or Scenario objects
        Applied to ``net`` in order, then the configuration's ``scenario`` (if
        any), through :func:`contagion.pipeline.prepare`, before any draw;
        their names are in ``SweepResult.scenarios``.
    blocks_per_call : int, optional
        Blocks of :data:`BLOCK` draws cleared per :func:`contagion.clear_many`
        call; default :func:`clearing_batch` (fewer when the sweep is shorter).
        The numbers do not depend on it.

    Returns
    -------
    SweepResult
    """
    from ..clearing import clear_many

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ContagionError(f"n (number of draws) must be a positive whole number, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ContagionError(f"seed must be a non-negative whole number, got {seed!r}")
    n, seed = int(n), int(seed)
    check_memory(n * BYTES_PER_DRAW, f"a sweep of {n:,} draws")
    from ..pipeline import prepare

    net, applied, _ = prepare(net, [*scenarios, *([config.scenario] if config.scenario else [])])
    base = clear_many(net, net.external_assets[:, None], method, **params)
    plan = _plan(net, config, method, params, base.payments[:, 0].copy())
    if blocks_per_call is not None and (isinstance(blocks_per_call, bool) or int(blocks_per_call) < 1):
        raise ContagionError(f"blocks_per_call must be a positive whole number, got {blocks_per_call!r}")
    per_call = plan.blocks_per_batch if blocks_per_call is None else int(blocks_per_call)
    plan = replace(plan, blocks_per_batch=min(per_call, -(-n // BLOCK)))
    unit = plan.blocks_per_batch * BLOCK          # draws per clearing call
    n_units = -(-n // unit)
    work = float(n) * (net.n + net.liabilities.nnz)
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise ContagionError(f"chunk_size must be a positive whole number, got {chunk_size!r}")
    with resolve_executor(executor, work) as (ex, workers):
        if chunk_size is None:
            per_task = max(1, min(max(1, 4096 // unit), -(-n_units // (4 * workers))))
        else:
            per_task = -(-int(chunk_size) // unit)
        tasks = [(seed, n, u, min(u + per_task, n_units)) for u in range(0, n_units, per_task)]
        sizes = [min(t[3] * unit, n) - t[2] * unit for t in tasks]
        parts = run_tasks(_sweep_task, plan, tasks, ex, progress=progress, sizes=sizes)
    blocks = [blk for part in parts for blk in part]
    defaults = np.zeros(net.n, dtype=np.int64)
    shortfall = np.zeros(net.n)
    eq_loss = np.zeros(net.n)
    for blk in blocks:  # in batch order: the same sums whatever the chunking
        defaults += blk["defaults"]
        shortfall += blk["shortfall"]
        eq_loss += blk["equity_loss"]
    return SweepResult(
        names=net.names, types=net.types, default_probability=defaults / n, expected_shortfall=shortfall / n,
        expected_loss=eq_loss / n, system_loss=np.concatenate([b["system_loss"] for b in blocks]),
        defaults=np.concatenate([b["n_defaults"] for b in blocks]), n=n, seed=seed, method=method, config=config,
        params=dict(params), scenarios=tuple(sc.name for sc in applied),
    )
