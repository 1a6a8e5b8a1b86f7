"""Reverse stress tests: one-parameter shock families and the smallest size at which a target defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from .importance import BATCH_METHODS

__all__ = ["ShockFamily", "SHOCK_FAMILIES", "shock_family", "ReverseStressResult", "reverse_stress"]


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
        owing less, so no such guarantee holds; nor on a network with
        guarantees (``kind = guarantee``, DESIGN §8): a guarantee's call
        grows as the covered debtor pays less, so its creditor may be short
        only in a middle range of sizes. :func:`reverse_stress` then checks
        monotonicity on every size it evaluates.
        """
        return self.not_monotone_because is None

    @property
    def not_monotone_because(self) -> str | None:
        """Why defaults are not guaranteed monotone in ``s``, in words (``None`` when they are)."""
        if not self.assets_only:
            return "it changes obligations or outside liabilities"
        if not bool(np.all(self.full.external_assets <= self.base.external_assets)):
            return "it raises some outside assets"
        if _has_guarantees(self.base):
            return "the network has guarantees, whose calls grow as the debtors they cover pay less"
        return None

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
            from ..errors import ContagionError

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


def _has_guarantees(net: Any) -> bool:
    """Whether some obligation is a guarantee (``kind = guarantee``): the clearing is then not monotone in the
    outside assets (a residual value guarantee owes a fixed amount and keeps it monotone)."""
    from ..clearing.priority import _has_kind

    edges = net.edges
    return "kind" in edges.columns and len(edges) > 0 and _has_kind(edges["kind"], ("guarantee",), stripped=True)


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
            from ..errors import ScenarioError

            raise ScenarioError(f"selection {text!r}: expected key=value pairs separated by commas, got {part!r}")
        key, _, val = part.partition("=")
        vals = [v.strip() for v in val.split("|")]
        sel[key.strip()] = vals[0] if len(vals) == 1 else vals
    return None, sel


def _family_external_assets(net, rest: str, spec: str) -> ShockFamily:
    from ..errors import ScenarioError
    from ..pipeline import prepare
    from ..shocks import Shock

    target, sel = _parse_selection(rest)
    if target is None and not sel:
        raise ScenarioError(f"{spec!r}: name the institutions, e.g. external_assets:OpenAI or "
                            f"external_assets:type=neocloud")
    shock = Shock("external_assets", target=target, select=sel or None, relative=1.0)
    full = prepare(net, [shock])[0]
    who = target if target is not None else ", ".join(f"{k}={v}" for k, v in sel.items())
    return ShockFamily(spec, f"fraction of outside assets lost by {who}", net, full)


def _family_edges(net, rest: str, spec: str) -> ShockFamily:
    from ..pipeline import prepare
    from ..shocks import Shock

    target, sel = _parse_selection(rest)
    if target is not None:
        from ..errors import ScenarioError

        raise ScenarioError(f"{spec!r}: select obligations with key=value pairs, e.g. "
                            f"edges:kind=compute_purchase_contract or edges:debtor=OpenAI")
    kw: dict[str, Any] = {k: sel.pop(k) for k in ("debtor", "creditor") if k in sel}
    shock = Shock("edges", select=sel or None, factor=0.0, **kw)
    full = prepare(net, [shock])[0]
    what = ", ".join(f"{k}={v}" for k, v in {**kw, **sel}.items()) or "all obligations"
    return ShockFamily(spec, f"fraction of obligations ({what}) cancelled", net, full)


def _family_scenario(net, rest: str, spec: str) -> ShockFamily:
    from ..errors import ScenarioError
    from ..pipeline import prepare

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

    from ..errors import ScenarioError, did_you_mean

    kind, sep, rest = spec.partition(":")
    if not sep:
        if Path(spec).is_file():
            return _family_scenario(net, spec, spec)
        raise ScenarioError(f"shock {spec!r}: expected KIND:SELECTION with KIND one of "
                            f"{', '.join(SHOCK_FAMILIES)} (e.g. external_assets:OpenAI)")
    try:
        builder = SHOCK_FAMILIES[kind.strip()]
    except KeyError:
        raise ScenarioError(f"shock {spec!r}: unknown kind {kind!r}{did_you_mean(kind, SHOCK_FAMILIES)}; choose one of "
                            f"{', '.join(SHOCK_FAMILIES)}") from None
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

    def _repr_html_(self) -> str:
        """The answer in one table, escaped (Jupyter display)."""
        from ..formatting import summary_html

        s = self.summary()
        at = "-" if self.threshold is None else f"{self.threshold:.6g}"
        return summary_html(f"Reverse stress test: {self.target}",
                            [("shock", str(self.family.description)), ("status", str(self.status)),
                             ("smallest size that makes it default", at),
                             ("sizes evaluated", str(s.get("evaluations", self.evaluations)))])

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
        Precision on the size: ``threshold - lower <= tol``, or the two are neighbouring floats when ``tol`` is
        below their spacing.
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
    from ..clearing import CLEARING_METHODS, clear, clear_many
    from ..errors import ContagionError, ScenarioError, did_you_mean

    fam = shock if isinstance(shock, ShockFamily) else shock_family(net, str(shock))
    try:
        t = net.index_of(str(target))
    except KeyError as exc:
        raise ScenarioError(str(exc.args[0])) from None
    if method not in CLEARING_METHODS:
        raise ContagionError(f"unknown clearing method {method!r}{did_you_mean(method, CLEARING_METHODS)}; choose one "
                             f"of {sorted(CLEARING_METHODS)}")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ContagionError(f"tol must lie in (0, 1), got {tol!r}")
    if isinstance(grid, bool) or not isinstance(grid, (int, float, np.integer)) or not float(grid).is_integer() \
            or grid < 2:
        raise ContagionError(f"grid must be a whole number of at least 2, got {grid!r}")
    grid = int(grid)
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
            pts = np.unique(pts[(pts > lo) & (pts < hi)])
            if not pts.size:        # lo and hi are neighbouring floats: no size lies between them (tol < their gap)
                break
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
