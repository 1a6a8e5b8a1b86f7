"""Systemic importance: the damage when each institution alone fails, cleared in batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["systemic_importance", "BATCH_METHODS"]


#: Clearing methods that :func:`contagion.clear_many` batches (rankings and sweeps use these).
BATCH_METHODS = ("eisenberg-noe", "rogers-veraart")


def _importance_task(shared: tuple, cols: np.ndarray) -> dict[str, np.ndarray]:
    """Clear the scenarios "institution ``i`` loses all its outside assets" for ``i`` in ``cols``."""
    from ..clearing import clear_many

    net, method, params, p0, d0, PiT, r0, c0, owed0 = shared
    k = cols.size
    E = np.repeat(net.external_assets[:, None], k, axis=1)
    E[cols, np.arange(k)] = 0.0
    batch = clear_many(net, E, method, **params)
    P, D = batch.payments, batch.defaulted
    dP = np.ascontiguousarray(p0[:, None] - P)
    own = (cols, np.arange(k))
    # fall in what each institution receives (by the waterfall where a debtor ranks its claims)
    loss = np.asarray(PiT @ dP) if batch.inflow is None else r0[:, None] - batch.inflow
    if batch.obligations is not None:     # guarantees called: what each owes rises (a loss to the guarantor)
        loss += batch.obligations - owed0[:, None]
    loss[own] = 0.0                         # its own failure is not "others failing"
    new = D & ~d0[:, None]
    fails = D[own].copy()
    new[own] = False
    return {
        "cols": cols,
        "fails": fails,
        "dshort": batch.unpaid_rise(p0, owed0, c0).sum(axis=0),     # (an unpaid call counted once)
        "additional": new.sum(axis=0),
        "vulnerability": loss.sum(axis=1),
        "defaulted_by": new.sum(axis=1),
    }


def systemic_importance(net, *, method: str = "eisenberg-noe", chunk_size: int | None = None, executor=None,
                        progress=None, **params: Any) -> pd.DataFrame:
    """Rank institutions by the damage their failure does, and by how exposed they are to others'.

    Scenario ``i`` ("``i`` fails"): institution ``i`` **loses all its outside
    assets** (``e_i -> 0``), everything else as in ``net`` (apply a scenario
    first for a stressed baseline). Whether ``i`` then defaults is reported in
    ``fails``: an institution whose network claims cover its obligations
    survives the loss. All ``n`` scenarios are cleared in batches of columns
    through :func:`contagion.clear_many` (``E`` = ``e`` repeated, one entry
    zeroed per column), never as ``n`` separate runs. Columns whose outcome is
    known without clearing are skipped: ``e_i = 0`` (nothing changes), no
    obligations, or ``i`` still able to pay in full from what it receives in
    the baseline (then the baseline payments remain the greatest clearing
    vector, because the clearing map only fell at ``i`` and the baseline is
    still a fixed point).

    Parameters
    ----------
    net : FinancialNetwork
    method : {"eisenberg-noe", "rogers-veraart"}
        Clearing method (``alpha``, ``beta`` for Rogers--Veraart in ``params``).
    chunk_size : int, optional
        Scenarios cleared per batch (bounds memory at a few ``n x chunk``
        arrays); default ``min(512, max(16, 2_000_000 // n))``.
    executor : concurrent.futures.Executor, "auto", "processes", "inline" or None
        Where the batches run (see :func:`contagion.sweep.run_sweep`); default
        in this process. ``"auto"`` (what ``contagion rank`` uses) switches to a
        local process pool for large networks.
    progress : callable(done, total), optional
        Called with the number of scenarios done.

    Returns
    -------
    DataFrame
        Indexed by name, sorted by ``system_loss`` (largest first), columns:

        - ``rank``: 1 = largest system loss;
        - ``type``;
        - ``external_assets``: the size of the shock, ``e_i``;
        - ``fails``: whether ``i`` defaults in its own scenario;
        - ``system_loss``: Glasserman--Young loss of scenario ``i`` relative to
          the baseline: the shock ``e_i`` plus the increase in total shortfall
          (an unpaid guarantee call counted once, as in
          :func:`~contagion.measures.loss_summary`);
        - ``induced_shortfall``: that increase in total shortfall alone
          (``system_loss - external_assets``), what the failure costs creditors;
        - ``system_loss_without_network``: the same shock when each
          institution's network claims are safe (only ``i``'s own shortfall);
        - ``contagion_multiplier``: their ratio (``nan`` when ``e_i = 0``);
        - ``additional_defaults``: institutions other than ``i`` that default
          in scenario ``i`` but not in the baseline;
        - ``vulnerability``: the loss ``i`` suffers when others fail, the
          average over the other ``n - 1`` scenarios of the fall in what it
          receives, ``(Pi.T (p_base - p_j))_i`` (by seniority and collateral
          where its debtors rank their claims), plus the rise in the
          guarantee calls it owes;
        - ``defaulted_by``: in how many of the other scenarios ``i`` is brought down.

    Notes
    -----
    Glasserman, P. & Young, H. P. (2015). How likely is contagion in financial
    networks? *Journal of Banking & Finance* 50, 383-399 (section 3: system
    loss with and without the network, and their ratio).

    Examples
    --------
    The core of the core-periphery toy (150 outside, owes 10 to each of four
    periphery banks and 100 outside) brings the four down: it pays nothing,
    each periphery bank pays 50 of its 55, so the shortfall is 140 + 4 x 5 and
    the loss 150 + 160 = 310, against 150 + 140 = 290 without the network. A
    periphery bank hurts nobody else (it owes nothing inside the network); it
    loses 10 in one of the four other scenarios (vulnerability 10 / 4).

    >>> import contagion
    >>> rank = systemic_importance(contagion.load_dataset("core-periphery"))
    >>> rank.loc[["Core"], ["rank", "fails", "system_loss", "additional_defaults"]].to_dict("records")
    [{'rank': 1, 'fails': True, 'system_loss': 310.0, 'additional_defaults': 4}]
    >>> round(float(rank.loc["Core", "contagion_multiplier"]), 4)
    1.069
    >>> rank.loc[["Periphery 1"], ["system_loss", "vulnerability", "defaulted_by"]].to_dict("records")
    [{'system_loss': 95.0, 'vulnerability': 2.5, 'defaulted_by': 1}]
    """
    from ..clearing import clear_many
    from ..clearing.handover import owed_network
    from ..executors import resolve_executor, run_tasks

    if method not in BATCH_METHODS:
        from ..errors import ContagionError

        raise ContagionError(f"systemic_importance supports {', '.join(BATCH_METHODS)} (batched clearing), "
                             f"not {method!r}")
    n = net.n
    e = net.external_assets
    # what each row owes when everyone pays (residual value guarantees at min(cap, max(0, K - V)), guarantees
    # uncalled), as the clearing pays it: caps are not obligations
    owed = owed_network(net)
    base = clear_many(net, e[:, None], method, **params)
    p0 = base.payments[:, 0].copy()
    d0 = base.defaulted[:, 0].copy()
    r0 = base.received[:, 0].copy()
    c0 = np.zeros(n) if base.unpaid_calls is None else base.unpaid_calls[:, 0].copy()
    owed0 = base.owed[:, 0].copy()          # (what a guarantor owes includes its calls in the baseline)
    from ..clearing.core import tie_tolerance

    still_pays = ~net.forced_default & (r0 >= owed0 - tie_tolerance(owed0)) & ~d0
    trivial = (e <= 0) | (owed0 <= 0) | still_pays
    cols = np.flatnonzero(~trivial)
    if chunk_size is None:
        chunk_size = min(512, max(16, 2_000_000 // max(n, 1)))
    chunk_size = max(1, int(chunk_size))
    tasks = [(cols[k:k + chunk_size],) for k in range(0, cols.size, chunk_size)]
    work = float(cols.size) * (n + net.liabilities.nnz)
    with resolve_executor(executor, work) as (ex, _workers):
        shared = (net, method, dict(params), p0, d0, owed.PiT, r0, c0, owed0)
        parts = run_tasks(_importance_task, shared, tasks, ex, progress=progress, sizes=[t[0].size for t in tasks])
    fails = d0.copy()
    fails[owed0 <= 0] = False
    dshort = np.zeros(n)
    additional = np.zeros(n, dtype=np.int64)
    vul = np.zeros(n)
    hit = np.zeros(n, dtype=np.int64)
    for part in parts:  # in task order
        c = part["cols"]
        fails[c] = part["fails"]
        dshort[c] = part["dshort"]
        additional[c] = part["additional"]
        vul += part["vulnerability"]
        hit += part["defaulted_by"]
    eqb = owed.equity_before
    system = e + dshort
    # without the network: only i's own shortfall changes, from what it is with e_i to what it is without
    # (everyone else paying in full; under Rogers--Veraart or a forced default, as the clearing map has it)
    from .losses import _rv_params, own_shortfall

    alpha, beta = _rv_params(params) if method == "rogers-veraart" else (1.0, 1.0)
    pbar_all = owed.total_obligations
    without = e + (own_shortfall(owed, eqb - e, np.zeros(n), pbar_all, alpha, beta)
                   - own_shortfall(owed, eqb, e, pbar_all, alpha, beta))
    with np.errstate(divide="ignore", invalid="ignore"):
        mult = np.where(without > 0, system / np.where(without > 0, without, 1.0), np.nan)
    frame = pd.DataFrame(
        {
            "type": net.types,
            "external_assets": e,
            "fails": fails,
            "system_loss": system,
            "induced_shortfall": dshort,
            "system_loss_without_network": without,
            "contagion_multiplier": mult,
            "additional_defaults": additional,
            "vulnerability": vul / max(n - 1, 1),
            "defaulted_by": hit,
        },
        index=pd.Index(list(net.names), name="name"),
    )
    # ties up to rounding (12 digits of the largest loss: the ranking does not depend on the amounts' unit)
    scale = float(np.max(np.abs(system), initial=0.0)) or 1.0
    order = np.lexsort((np.arange(n), -additional, -np.round(system / scale, 12)))
    frame = frame.iloc[order]
    frame.insert(0, "rank", np.arange(1, n + 1))
    return frame
