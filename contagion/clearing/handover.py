"""Networks with seniority, collateral or residual value guarantees: the fast paths first, the priority solver
where it matters.

Priority only changes who is paid when a debtor that ranks its claims (two or
more levels, outside creditors included, or a secured claim) is in default.
So a network without endogenous guarantees is cleared on the ordinary solver
paths (:mod:`.solvers`) with what each row really owes (residual value
guarantees at ``min(cap, max(0, K - V))``); only when such a debtor is in
default is the clearing (or, for :func:`contagion.clear_many`, the scenario)
handed to the priority solver (:mod:`.priority`). This is exact: every
defaulter of the first answer pays one level pro rata, which is what the
waterfall pays, and the decreasing iteration from full payment is the same
for both maps until a ranking debtor falls short (so the greatest clearing
vectors agree). Networks with guarantees (``kind = guarantee``, whose amount
depends on the clearing) always go to the priority solver. ``res.solver``
says which path answered (``"<path>+priority-screen"`` or
``"priority-regimes"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .priority import ContingentSpec, contingent_spec, owed_network, priority_result

__all__ = ["ranking_debtors", "clear_with_priority", "clear_many_with_priority", "owed_network"]


def ranking_debtors(net: Any, spec: ContingentSpec) -> np.ndarray:
    """Institutions whose default the priority rules affect: claims at two or more levels (outside creditors
    at ``external_seniority``), a secured claim, or an obligation a guarantee covers."""
    di, _ = net.edge_index
    n = net.n
    owes = spec.fixed_amount > 0
    ext = net.external_liabilities > 0
    who = np.concatenate([di[owes], np.flatnonzero(ext)])
    level = np.concatenate([spec.seniority[owes], spec.external_seniority[ext]])
    pairs = np.unique(np.stack([who, level]), axis=1)           # distinct (debtor, level) pairs
    ranking = np.bincount(pairs[0], minlength=n) > 1
    ranking[di[spec.collateral > 0]] = True
    covered = spec.covers[spec.covers >= 0]
    ranking[di[covered]] = True
    return ranking


def clear_with_priority(net: Any, method: str, alpha: float = 1.0, beta: float = 1.0, solver: str = "auto"):
    """:class:`~contagion.ClearingResult` of a network using the DESIGN §8 columns (see the module docstring)."""
    from .solvers import clear_exact

    spec = contingent_spec(net)
    if spec.guarantee.any():
        return priority_result(net, method, alpha, beta)
    plain = clear_exact(owed_network(net, spec), method, alpha, beta, solver=solver)
    if plain.defaulted[ranking_debtors(net, spec)].any():
        return priority_result(net, method, alpha, beta)
    from dataclasses import replace

    return replace(plain, solver=f"{plain.solver}+priority-screen", unique=None)


def clear_many_with_priority(net: Any, E: np.ndarray, method: str, alpha: float = 1.0, beta: float = 1.0,
                             solver: str = "auto"):
    """:class:`~contagion.BatchClearingResult`: the batch on the ordinary paths, and the scenarios in which a
    ranking debtor defaults cleared again by the priority solver."""
    from dataclasses import replace

    from .solvers import clear_batch

    spec = contingent_spec(net)
    if spec.guarantee.any():
        from .priority import priority_batch

        return priority_batch(net, E, method, alpha, beta)
    owed = owed_network(net, spec)
    batch = clear_batch(owed, E, method, alpha, beta, solver=solver)
    redo = np.flatnonzero(batch.defaulted[ranking_debtors(net, spec)].any(axis=0))
    if not redo.size:
        return replace(batch, solver=f"{batch.solver}+priority-screen")
    from .priority import priority_columns

    P, D = batch.payments.copy(), batch.defaulted.copy()
    its, res_ = np.asarray(batch.iterations).copy(), np.asarray(batch.residual, dtype=float).copy()
    inflow = np.asarray(owed.PiT @ P)   # pro rata where no ranking debtor defaults, by the waterfall where one does
    P[:, redo], D[:, redo], its[redo], res_[redo], inflow[:, redo] = priority_columns(net, E, redo, alpha, beta,
                                                                                      spec=spec)
    return replace(batch, payments=P, defaulted=D, iterations=its, residual=res_, inflow=inflow,
                   solver=f"{batch.solver}+priority ({redo.size} of {E.shape[1]} scenarios)")
