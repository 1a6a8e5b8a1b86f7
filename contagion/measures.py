"""Loss measures on clearing results.

Conventions: losses are in the network's units; a creditor's loss on its
network claims is ``interbank_assets - Pi.T @ p``; creditors outside the network
lose ``sum_i external_liabilities_i / pbar_i * shortfall_i``.

System loss (Glasserman & Young 2015, section 3): the shock to outside assets
plus the total shortfall. Without network effects, each institution's network
claims are treated as safe outside assets and its network obligations as
outside obligations, so the loss is the shock plus ``sum max(0, pbar - e -
interbank_assets)``. Their ratio is the contagion multiplier / loss amplification.

Analytics over many scenarios, all cleared in batches through
:func:`contagion.clear_many`:

- :func:`systemic_importance`: for every institution, the damage when it alone
  fails (system loss, further defaults, contagion multiplier) and how much it
  suffers when others fail (vulnerability);
- :func:`reverse_stress`: the smallest size of a one-parameter shock family
  (:func:`shock_family`) at which a target defaults, by multi-point bisection.

Monte Carlo sweeps live in :mod:`contagion.sweep`; DebtRank and the threshold
cascade in :mod:`contagion.channels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["creditor_losses", "losses_by_creditor_type", "loss_summary", "EXTERNAL_CREDITORS",
           "systemic_importance", "BATCH_METHODS", "ShockFamily", "SHOCK_FAMILIES", "shock_family",
           "ReverseStressResult", "reverse_stress"]

#: label of the row for creditors outside the network
EXTERNAL_CREDITORS = "external creditors"


def creditor_losses(result) -> np.ndarray:
    """Loss of each institution on its claims on the network (``interbank_assets - Pi.T @ p``)."""
    return result.interbank_loss


def losses_by_creditor_type(result) -> pd.Series:
    """Losses grouped by the creditor's type, plus a row for creditors outside the network.

    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> losses_by_creditor_type(contagion.clear(net)).round(4).to_dict()
    {'bank': 7.6667, 'external creditors': 1.5}
    """
    net = result.network
    loss = pd.Series(creditor_losses(result), index=net.types).groupby(level=0).sum()
    loss = loss[loss.abs() > 0] if (loss.abs() > 0).any() else loss.iloc[0:0]
    loss.loc[EXTERNAL_CREDITORS] = result.external_shortfall
    loss.index.name = "creditor_type"
    loss.name = "loss"
    return loss.astype(float)


def loss_summary(result, base=None) -> dict[str, Any]:
    """Headline losses of a clearing result.

    Parameters
    ----------
    result : ClearingResult
        Clearing of the shocked network.
    base : FinancialNetwork, optional
        The network before the shock; the shock is the fall in outside assets
        from ``base`` to ``result.network`` (0 without a base).

    Returns
    -------
    dict
        ``shock``, ``total_shortfall``, ``system_loss`` (shock + shortfall),
        ``system_loss_without_network``, ``amplification`` (ratio, ``nan`` when
        the loss without network is 0), ``defaults``.

    Examples
    --------
    Glasserman & Young's core-periphery example: a shock of 94 to the core.

    >>> import numpy as np, contagion
    >>> L = np.zeros((5, 5)); L[2, [0, 1, 3, 4]] = 10
    >>> kw = dict(external_liabilities=[55, 55, 100, 55, 55])
    >>> base = contagion.FinancialNetwork.from_matrix(L, external_assets=[50, 50, 150, 50, 50], **kw)
    >>> hit = contagion.FinancialNetwork.from_matrix(L, external_assets=[50, 50, 56, 50, 50], **kw)
    >>> s = loss_summary(contagion.clear(hit), base)
    >>> s["system_loss"], s["system_loss_without_network"], round(s["amplification"], 4)
    (182.0, 178.0, 1.0225)
    """
    net = result.network
    shock = 0.0
    if base is not None:
        shock = float(np.sum(np.maximum(base.external_assets - net.external_assets, 0.0)))
    shortfall = result.total_shortfall
    without = shock + float(np.sum(np.maximum(-net.equity_before, 0.0)))
    system = shock + shortfall
    return {
        "shock": shock,
        "total_shortfall": shortfall,
        "system_loss": system,
        "system_loss_without_network": without,
        "amplification": system / without if without > 0 else float("nan"),
        "defaults": result.n_defaults,
    }


# ====================================================================== systemic importance
#: Clearing methods that :func:`contagion.clear_many` batches (rankings and sweeps use these).
BATCH_METHODS = ("eisenberg-noe", "rogers-veraart")


def _importance_task(shared: tuple, cols: np.ndarray) -> dict[str, np.ndarray]:
    """Clear the scenarios "institution ``i`` loses all its outside assets" for ``i`` in ``cols``."""
    from .clearing import clear_many

    net, method, params, p0, d0 = shared
    k = cols.size
    E = np.repeat(net.external_assets[:, None], k, axis=1)
    E[cols, np.arange(k)] = 0.0
    batch = clear_many(net, E, method, **params)
    P, D = batch.payments, batch.defaulted
    dP = np.ascontiguousarray(p0[:, None] - P)
    own = (cols, np.arange(k))
    loss = np.asarray(net.PiT @ dP)       # fall in what each institution receives
    loss[own] = 0.0                         # its own failure is not "others failing"
    new = D & ~d0[:, None]
    fails = D[own].copy()
    new[own] = False
    return {
        "cols": cols,
        "fails": fails,
        "dshort": dP.sum(axis=0),
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
          the baseline: the shock ``e_i`` plus the increase in total shortfall;
        - ``induced_shortfall``: that increase in total shortfall alone
          (``system_loss - external_assets``), what the failure costs creditors;
        - ``system_loss_without_network``: the same shock when each
          institution's network claims are safe (only ``i``'s own shortfall);
        - ``contagion_multiplier``: their ratio (``nan`` when ``e_i = 0``);
        - ``additional_defaults``: institutions other than ``i`` that default
          in scenario ``i`` but not in the baseline;
        - ``vulnerability``: the loss ``i`` suffers when others fail, the
          average over the other ``n - 1`` scenarios of the fall in what it
          receives, ``(Pi.T (p_base - p_j))_i``;
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
    from .clearing import clear_many
    from .executors import resolve_executor, run_tasks

    if method not in BATCH_METHODS:
        from .errors import ContagionError

        raise ContagionError(f"systemic_importance supports {', '.join(BATCH_METHODS)} (batched clearing), "
                             f"not {method!r}")
    n = net.n
    e = net.external_assets
    pbar = net.total_obligations
    base = clear_many(net, e[:, None], method, **params)
    p0 = base.payments[:, 0].copy()
    d0 = base.defaulted[:, 0].copy()
    inflow0 = net.PiT @ p0
    from .clearing.core import tie_tolerance

    still_pays = ~net.forced_default & (inflow0 >= pbar - tie_tolerance(pbar)) & ~d0
    trivial = (e <= 0) | (pbar <= 0) | still_pays
    cols = np.flatnonzero(~trivial)
    if chunk_size is None:
        chunk_size = min(512, max(16, 2_000_000 // max(n, 1)))
    chunk_size = max(1, int(chunk_size))
    tasks = [(cols[k:k + chunk_size],) for k in range(0, cols.size, chunk_size)]
    work = float(cols.size) * (n + net.liabilities.nnz)
    with resolve_executor(executor, work) as (ex, _workers):
        parts = run_tasks(_importance_task, (net, method, dict(params), p0, d0), tasks, ex, progress=progress,
                          sizes=[t[0].size for t in tasks])
    fails = d0.copy()
    fails[pbar <= 0] = False
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
    eqb = net.equity_before
    system = e + dshort
    # without the network: only i's own shortfall changes, from max(0, -eqb) to max(0, e_i - eqb)
    without = e + np.maximum(e - eqb, 0.0) - np.maximum(-eqb, 0.0)
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
    order = np.lexsort((np.arange(n), -additional, -np.round(system, 9)))
    frame = frame.iloc[order]
    frame.insert(0, "rank", np.arange(1, n + 1))
    return frame


# ====================================================================== reverse stress test
@dataclass(frozen=True, eq=False)
class ShockFamily:
    """A one-parameter family of shocks: size ``s`` in ``[0, 1]`` -> network.

    ``s = 0`` is ``base``, ``s = 1`` is ``full`` (``base`` with the whole shock
    applied), and in between every amount the shock touches (outside assets,
    outside liabilities, obligations) moves linearly: ``x(s) = x_0 + s (x_1 -
    x_0)``. For ``external_assets:...`` (relative loss 1 at ``s = 1``), ``s``
    is the fraction of outside assets lost; for ``edges:...`` (factor 0 at
    ``s = 1``), the fraction of the selected obligations cancelled; for a
    scenario, the share of the scenario applied. Build one with
    :func:`shock_family`.

    Attributes
    ----------
    spec : str
        The specification it was built from.
    description : str
        In words.
    base, full : FinancialNetwork
    """

    spec: str
    description: str
    base: Any = field(repr=False)
    full: Any = field(repr=False)

    def _changed(self, attr: str) -> bool:
        return not np.array_equal(getattr(self.base, attr), getattr(self.full, attr))

    @property
    def changes_edges(self) -> bool:
        """Whether the family changes obligations (so ``Pi`` changes with ``s``)."""
        a0 = self.base.edges["amount"].to_numpy(dtype=np.float64) if self.base.n_edges else np.zeros(0)
        a1 = self.full.edges["amount"].to_numpy(dtype=np.float64) if self.full.n_edges else np.zeros(0)
        return a0.shape != a1.shape or not np.array_equal(a0, a1)

    @property
    def assets_only(self) -> bool:
        """Whether only outside assets change (then sizes are cleared in one batch)."""
        return not (self._changed("external_liabilities") or self.changes_edges)

    @property
    def monotone(self) -> bool:
        """Whether defaults are guaranteed monotone in ``s``.

        True when only outside assets change and none rises: Eisenberg--Noe
        (and Rogers--Veraart, and the threshold cascade) payments are
        non-decreasing in ``e`` (the clearing map is monotone in ``e``, and so
        is its greatest fixed point), so once the target defaults it stays in
        default as ``s`` grows. Cancelling obligations or raising outside
        liabilities changes ``Pi`` as well, and a debtor may be *helped* by
        owing less, so no such guarantee holds; :func:`reverse_stress` then
        checks monotonicity on every size it evaluates.
        """
        return self.assets_only and bool(np.all(self.full.external_assets <= self.base.external_assets))

    def external_assets(self, sizes: Sequence[float] | np.ndarray) -> np.ndarray:
        """``(n, K)`` outside assets at each size (the batched input of :func:`contagion.clear_many`)."""
        s = np.asarray(sizes, dtype=np.float64)
        e0 = self.base.external_assets
        e1 = self.full.external_assets
        return np.maximum(e0[:, None] + (e1 - e0)[:, None] * s[None, :], 0.0)

    def network(self, size: float):
        """The network at size ``s`` in ``[0, 1]``."""
        s = float(size)
        if not (0.0 <= s <= 1.0):
            from .errors import ContagionError

            raise ContagionError(f"shock size must lie in [0, 1], got {s}")
        if s == 0.0:
            return self.base
        if s == 1.0:
            return self.full
        kw: dict[str, Any] = {}
        for attr in ("external_assets", "external_liabilities"):
            if self._changed(attr):
                x0, x1 = getattr(self.base, attr), getattr(self.full, attr)
                kw[attr] = np.maximum(x0 + s * (x1 - x0), 0.0)
        if self.changes_edges:
            a0 = self.base.edges["amount"].to_numpy(dtype=np.float64)
            a1 = self.full.edges["amount"].to_numpy(dtype=np.float64)
            kw["edge_amounts"] = np.maximum(a0 + s * (a1 - a0), 0.0)
        return self.base.replace(**kw) if kw else self.base


def _parse_selection(text: str) -> tuple[Any, dict[str, Any]]:
    """``"name"`` / ``"a|b"`` -> (targets, {}); ``"k=v,k2=v1|v2"`` -> (None, {k: v, k2: [v1, v2]})."""
    text = text.strip()
    if not text:
        return None, {}
    if "=" not in text:
        names = [t.strip() for t in text.split("|") if t.strip()]
        return (names[0] if len(names) == 1 else names), {}
    sel: dict[str, Any] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            from .errors import ScenarioError

            raise ScenarioError(f"selection {text!r}: expected key=value pairs separated by commas, got {part!r}")
        key, _, val = part.partition("=")
        vals = [v.strip() for v in val.split("|")]
        sel[key.strip()] = vals[0] if len(vals) == 1 else vals
    return None, sel


def _family_external_assets(net, rest: str, spec: str) -> ShockFamily:
    from .errors import ScenarioError
    from .pipeline import prepare
    from .shocks import Shock

    target, sel = _parse_selection(rest)
    if target is None and not sel:
        raise ScenarioError(f"{spec!r}: name the institutions, e.g. external_assets:OpenAI or "
                            f"external_assets:type=neocloud")
    shock = Shock("external_assets", target=target, select=sel or None, relative=1.0)
    full = prepare(net, [shock])[0]
    who = target if target is not None else ", ".join(f"{k}={v}" for k, v in sel.items())
    return ShockFamily(spec, f"fraction of outside assets lost by {who}", net, full)


def _family_edges(net, rest: str, spec: str) -> ShockFamily:
    from .pipeline import prepare
    from .shocks import Shock

    target, sel = _parse_selection(rest)
    if target is not None:
        from .errors import ScenarioError

        raise ScenarioError(f"{spec!r}: select obligations with key=value pairs, e.g. "
                            f"edges:kind=compute_purchase_contract or edges:debtor=OpenAI")
    kw: dict[str, Any] = {k: sel.pop(k) for k in ("debtor", "creditor") if k in sel}
    shock = Shock("edges", select=sel or None, factor=0.0, **kw)
    full = prepare(net, [shock])[0]
    what = ", ".join(f"{k}={v}" for k, v in {**kw, **sel}.items()) or "all obligations"
    return ShockFamily(spec, f"fraction of obligations ({what}) cancelled", net, full)


def _family_scenario(net, rest: str, spec: str) -> ShockFamily:
    from .errors import ScenarioError
    from .pipeline import prepare

    full, (scen,), _ = prepare(net, [rest.strip()])
    if not (np.array_equal(full.forced_default, net.forced_default)
            and np.array_equal(full.forced_recovery, net.forced_recovery)):
        raise ScenarioError(f"scenario {scen.name!r} forces defaults, which cannot be scaled by a size; "
                            f"apply it as a base scenario (--scenario) instead")
    return ShockFamily(spec, f"share of scenario {scen.name!r} applied", net, full)


#: kind -> builder(network, selection text, spec) -> ShockFamily, for ``--shock KIND:SELECTION``.
SHOCK_FAMILIES: dict[str, Callable[[Any, str, str], ShockFamily]] = {
    "external_assets": _family_external_assets,
    "edges": _family_edges,
    "scenario": _family_scenario,
}


def shock_family(net, spec: str) -> ShockFamily:
    """Build a :class:`ShockFamily` from a specification ``KIND:SELECTION``.

    - ``external_assets:OpenAI`` (a name or id; ``A|B`` for several) or
      ``external_assets:type=neocloud`` (node attributes, ``key=value`` pairs
      separated by commas, ``v1|v2`` for alternatives): size = fraction of
      their outside assets lost;
    - ``edges:kind=compute_purchase_contract`` (any edge-table columns, plus
      ``debtor=`` / ``creditor=`` by name or id): size = fraction of the
      selected obligations cancelled (amounts scaled by ``1 - s``);
    - ``scenario:NAME_OR_PATH`` (or just a scenario file path): size = share
      of the scenario applied (every amount interpolated linearly).

    Selections follow the matching rules of scenario files
    (:mod:`contagion.shocks`); a selection that matches nothing is an error.

    >>> import contagion
    >>> fam = shock_family(contagion.load_dataset("core-periphery"), "external_assets:Core")
    >>> fam.description, fam.monotone
    ('fraction of outside assets lost by Core', True)
    >>> fam.external_assets([0.5])[:, 0].tolist()
    [50.0, 50.0, 75.0, 50.0, 50.0]
    """
    from pathlib import Path

    from .errors import ScenarioError

    kind, sep, rest = spec.partition(":")
    if not sep:
        if Path(spec).is_file():
            return _family_scenario(net, spec, spec)
        raise ScenarioError(f"shock {spec!r}: expected KIND:SELECTION with KIND one of "
                            f"{', '.join(SHOCK_FAMILIES)} (e.g. external_assets:OpenAI)")
    try:
        builder = SHOCK_FAMILIES[kind.strip()]
    except KeyError:
        raise ScenarioError(f"shock {spec!r}: unknown kind {kind!r}; choose one of {', '.join(SHOCK_FAMILIES)}") \
            from None
    return builder(net, rest, spec)


@dataclass(frozen=True, eq=False)
class ReverseStressResult:
    """Outcome of :func:`reverse_stress` (immutable).

    Attributes
    ----------
    target : str
        Name of the institution whose default is sought.
    family : ShockFamily
    status : str
        ``"defaults"`` (threshold found), ``"never"`` (the target survives the
        full shock) or ``"already"`` (it defaults without any shock).
    threshold : float or None
        Smallest evaluated size at which the target defaults (``0`` when
        ``"already"``, ``None`` when ``"never"``). The true threshold lies in
        ``(lower, threshold]``.
    lower : float or None
        Largest evaluated size below ``threshold`` at which it survives;
        ``threshold - lower <= tol``.
    tol : float
    evaluations : int
        Sizes cleared.
    monotone : bool
        Whether the family is guaranteed monotone (see :attr:`ShockFamily.monotone`).
    monotone_violation : bool
        Whether the evaluated sizes showed a default at one size and none at a larger one.
    result : ClearingResult
        The clearing at ``threshold`` (at ``s = 1`` when ``"never"``): who
        defaults and in which wave.
    """

    target: str
    family: ShockFamily = field(repr=False)
    status: str
    threshold: float | None
    lower: float | None
    tol: float
    evaluations: int
    monotone: bool
    monotone_violation: bool
    result: Any = field(repr=False)

    @property
    def size(self) -> float:
        """Size at which :attr:`result` was cleared."""
        return 1.0 if self.threshold is None else float(self.threshold)

    @property
    def external_asset_loss(self) -> float:
        """Outside assets lost at :attr:`size` (in money)."""
        return float(np.sum(np.maximum(self.family.base.external_assets - self.result.network.external_assets, 0.0)))

    def to_frame(self) -> pd.DataFrame:
        """The cascade at :attr:`size`: the institutions in default, by wave, indexed by name."""
        frame = self.result.to_frame()
        frame = frame[frame["defaulted"]]
        cols = ["type", "default_round", "obligations", "payment", "shortfall", "equity"]
        return frame[cols].sort_values("default_round", kind="stable")

    def summary(self) -> dict[str, Any]:
        """Headline numbers as plain Python values."""
        res = self.result
        return {
            "target": self.target,
            "shock": self.family.spec,
            "description": self.family.description,
            "status": self.status,
            "threshold": self.threshold,
            "lower": self.lower,
            "tol": self.tol,
            "external_asset_loss": self.external_asset_loss,
            "defaults": res.n_defaults,
            "waves": res.waves,
            "total_shortfall": res.total_shortfall,
            "evaluations": self.evaluations,
            "monotone": self.monotone,
            "monotone_violation": self.monotone_violation,
            "method": res.method,
        }

    def __repr__(self) -> str:
        return (f"ReverseStressResult(target={self.target!r}, shock={self.family.spec!r}, status={self.status!r}, "
                f"threshold={self.threshold})")


def reverse_stress(net, target: str, shock, *, method: str = "eisenberg-noe", tol: float = 1e-6, grid: int = 16,
                   **params: Any) -> ReverseStressResult:
    """Smallest size of a one-parameter shock at which ``target`` defaults.

    Parameters
    ----------
    net : FinancialNetwork
    target : str
        Name or id of the institution.
    shock : str or ShockFamily
        A specification for :func:`shock_family` (``"external_assets:OpenAI"``,
        ``"external_assets:type=neocloud"``, ``"edges:kind=lease"``,
        ``"scenario:NAME"``) or a family.
    method : str
        A clearing method (``"eisenberg-noe"``, ``"rogers-veraart"`` with
        ``alpha``/``beta``, ``"threshold"`` with ``recovery``).
    tol : float
        Precision on the size: ``threshold - lower <= tol``.
    grid : int
        Intervals per round: each round clears ``grid - 1`` (first round
        ``grid + 1``) sizes at once and shrinks the bracket ``grid``-fold, so
        ``tol = 1e-6`` takes 5 rounds with the default 16.

    Returns
    -------
    ReverseStressResult

    Notes
    -----
    A multi-point bisection. The first round clears ``s = 0, 1/grid, ...,
    1``: a default at ``s = 0`` gives ``"already"``; no default anywhere
    gives ``"never"`` (certain when the family is monotone, else "none of the
    evaluated sizes"). Otherwise the bracket between the first defaulting
    size and the one before it is refined until narrower than ``tol``. When
    only outside assets change and the method is batched, each round is one
    :func:`contagion.clear_many` call; otherwise each size is cleared on its
    own. For a family that is not guaranteed monotone, the answer is the
    first transition found on the grid, and ``monotone_violation`` reports
    whether the evaluations contradicted monotonicity.

    Examples
    --------
    Core of the core-periphery toy: capital 10 on outside assets of 150, so
    it defaults once it loses more than 10/150 = 6.67% of them.

    >>> import contagion
    >>> net = contagion.load_dataset("core-periphery")
    >>> rs = reverse_stress(net, "Core", "external_assets:Core", tol=1e-9)
    >>> rs.status, round(rs.threshold, 7), rs.threshold - rs.lower <= 1e-9
    ('defaults', 0.0666667, True)

    A periphery bank (capital 5, owed 10 by the core) defaults once the core
    pays less than 5 of the 10 it owes it: the core then pays at most 50% of
    140, i.e. its outside assets fall to 70 (a loss of 80/150 = 53.3%).

    >>> rs = reverse_stress(net, "Periphery 1", "external_assets:Core", tol=1e-9)
    >>> round(rs.threshold, 6), rs.to_frame().index.tolist()
    (0.533333, ['Core', 'Periphery 1', 'Periphery 2', 'Periphery 3', 'Periphery 4'])
    >>> reverse_stress(net, "Core", "external_assets:Periphery 1").status
    'never'
    """
    from .clearing import CLEARING_METHODS, clear, clear_many
    from .errors import ContagionError, ScenarioError

    fam = shock if isinstance(shock, ShockFamily) else shock_family(net, str(shock))
    try:
        t = net.index_of(str(target))
    except KeyError as exc:
        raise ScenarioError(str(exc.args[0])) from None
    if method not in CLEARING_METHODS:
        raise ContagionError(f"unknown clearing method {method!r}; choose one of {sorted(CLEARING_METHODS)}")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ContagionError(f"tol must lie in (0, 1), got {tol!r}")
    grid = int(grid)
    if grid < 2:
        raise ContagionError(f"grid must be at least 2, got {grid}")
    batched = fam.assets_only and method in BATCH_METHODS
    seen: list[tuple[float, bool]] = []

    def defaults_at(sizes: np.ndarray) -> np.ndarray:
        if batched:
            d = clear_many(fam.base, fam.external_assets(sizes), method, **params).defaulted[t]
        else:
            d = np.array([bool(clear(fam.network(s), method=method, **params).defaulted[t]) for s in sizes])
        seen.extend(zip(sizes.tolist(), d.tolist()))
        return np.asarray(d, dtype=bool)

    sizes = np.linspace(0.0, 1.0, grid + 1)
    d = defaults_at(sizes)
    if d[0]:
        status, lo, hi = "already", None, 0.0
    elif not d.any():
        status, lo, hi = "never", None, None
    else:
        status = "defaults"
        k = int(np.argmax(d))
        lo, hi = float(sizes[k - 1]), float(sizes[k])
        while hi - lo > tol:
            pts = np.linspace(lo, hi, grid + 1)[1:-1]
            d = defaults_at(pts)
            if d.any():
                k = int(np.argmax(d))
                hi = float(pts[k])
                lo = float(pts[k - 1]) if k > 0 else lo
            else:
                lo = float(pts[-1])
    seen.sort()
    flags = np.array([f for _, f in seen], dtype=bool)
    violation = bool(np.any(flags[:-1] & ~flags[1:])) if flags.size > 1 else False
    at = 1.0 if hi is None else hi
    res = clear(fam.network(at), method=method, **params)
    return ReverseStressResult(target=net.names[t], family=fam, status=status, threshold=hi, lower=lo, tol=float(tol),
                               evaluations=len(seen), monotone=fam.monotone, monotone_violation=violation, result=res)
