""":func:`contagion.clear_many` on a ``dask.array`` of scenarios: each chunk of columns cleared where it lives.

``E`` of shape ``(n, K)`` chunked by column (chunks along the rows are joined
first, ``E.rechunk({0: -1})``: a scenario needs all its institutions). Every
chunk of columns becomes one task that depends on that chunk alone, so the
scheduler runs it on the worker that holds the chunk (a ``dask.distributed``
cluster when a client is active, else dask's local scheduler); the network
goes into the graph once, under one key, and reaches each worker once. The
task clears its chunk with :func:`contagion.clear_many` on a NumPy array and
returns its payments, default flags, sweeps and residuals (and prices, with
fire sales) -- ``n x columns`` numbers, what the chunk itself weighs.

Decision: the results are **gathered** into an ordinary
:class:`~contagion.BatchClearingResult` (NumPy arrays, the type
``clear_many`` always returns: no return type that changes with the input),
computed when ``clear_many`` is called. The scenarios themselves never pass
through the caller's process. To keep the results lazy and distributed
instead, map the clearing over the chunks yourself::

    P = E.map_blocks(lambda b: contagion.clear_many(net, b).payments, dtype=float)

The solver path is chosen once for the whole batch (as for the NumPy array of
the same shape) and passed to every chunk, so column ``k`` is the same number
as ``clear_many(net, E.compute())`` gives it: every path clears each scenario
on its own, whatever the others in its batch.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from ..errors import ContagionError

__all__ = ["is_dask_array", "clear_dask_columns"]


def is_dask_array(x: Any) -> bool:
    """Whether ``x`` is a ``dask.array.Array`` (without importing dask when it is not)."""
    return type(x).__module__.startswith("dask.array") and hasattr(x, "chunks") and hasattr(x, "to_delayed")


def _clear_chunk(clear_many: Callable, net, block: np.ndarray, offset: int, method: str, solver: str,
                 params: dict):
    """Clear one chunk of columns; the result without its network (the caller has it)."""
    block = np.asarray(block, dtype=np.float64)
    bad = ~(np.isfinite(block) & (block >= 0))
    if bad.any():
        i, k = np.argwhere(bad)[0]
        raise ContagionError(f"external_assets must be finite and non-negative: external_assets[{i}, {offset + k}] = "
                             f"{float(block[i, k])} (institution {net.names[i]!r}, scenario {offset + k})")
    return replace(clear_many(net, block, method, solver=solver, **params), network=None)


def clear_dask_columns(clear_many: Callable, net, E: Any, method: str, solver: str, params: dict):
    """The batch result of every column of the dask array ``E`` (see the module docstring); ``clear_many`` is
    :func:`contagion.clear_many` itself, passed in (this module does not import it back)."""
    import dask

    from .solvers import BATCH_MIN_WORK, MANY_SCENARIOS, choose

    if E.ndim == 1:
        E = E[:, None]
    if E.ndim != 2 or E.shape[0] != net.n:
        raise ContagionError(f"external_assets must have shape (n, K) = ({net.n}, K), got {E.shape}")
    if len(E.chunks[0]) > 1:
        E = E.rechunk({0: -1})
    K = int(E.shape[1])
    if method in ("eisenberg-noe", "rogers-veraart"):
        work = int(net.liabilities.nnz) * K
        solver = choose(solver, max(work, BATCH_MIN_WORK) if K >= MANY_SCENARIOS else work, BATCH_MIN_WORK)
    blocks = E.to_delayed()[0]
    offsets = np.concatenate([[0], np.cumsum(E.chunks[1])[:-1]]).astype(int)
    shared = dask.delayed(net, pure=True)
    task = dask.delayed(_clear_chunk, pure=True)
    parts = dask.compute(*[task(clear_many, shared, b, int(o), method, solver, dict(params))
                           for b, o in zip(blocks, offsets)])
    if not parts:
        return clear_many(net, np.zeros((net.n, 0)), method, solver=solver, **params)
    from .handover import owed_network

    labels = list(dict.fromkeys(p.solver for p in parts))
    owed = owed_network(net)
    fields = {"network": owed,                    # as clear_many's: what each row owes when everyone pays
              "payments": np.concatenate([p.payments for p in parts], axis=1),
              "defaulted": np.concatenate([p.defaulted for p in parts], axis=1),
              "iterations": np.concatenate([np.atleast_1d(p.iterations) for p in parts]),
              "residual": np.concatenate([np.atleast_1d(p.residual) for p in parts]),
              "solver": " | ".join(labels[:3]) + (f" | ... ({len(parts)} chunks)" if len(labels) > 3 else "")}
    if parts[0].obligations is not None:          # guarantees: what each one owes, per scenario
        fields["obligations"] = np.concatenate([p.owed for p in parts], axis=1)
    if any(p.inflow is not None for p in parts):  # claims paid by the waterfall in some chunk
        fields["inflow"] = np.concatenate([owed.PiT @ p.payments if p.inflow is None else p.inflow for p in parts],
                                          axis=1)
    if any(p.unpaid_calls is not None for p in parts):
        fields["unpaid_calls"] = np.concatenate([np.zeros(p.payments.shape) if p.unpaid_calls is None
                                                 else p.unpaid_calls for p in parts], axis=1)
    if getattr(parts[0], "prices", None) is not None:
        fields["prices"] = np.concatenate([p.prices for p in parts], axis=1)
    return replace(parts[0], **fields)
