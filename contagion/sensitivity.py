"""Sensitivities of the clearing: how payments, equity and the system loss move with one input.

:func:`sensitivity` differentiates the greatest Eisenberg--Noe clearing
vector with respect to one institution's outside assets
(``external_assets:NAME``) or outside liabilities (``external_liabilities:NAME``),
one obligation (``edge:DEBTOR>CREDITOR``, the total ``L[debtor, creditor]``),
or one labelled assumption of a dataset (``assumption:KEY``, through the
dataset's ``assumption_effects.csv``; see :func:`assumption_effects`).
:func:`rank_assumptions` moves every assumption to the low and high end of its
range, one at a time, and ranks them by how much they move one institution's
equity (the data of a tornado chart).

The mathematics
---------------
Write ``r_i = p_i / pbar_i`` and perturb the inputs along a direction
``(de, dext, dL)`` with a step ``t``. At fixed payments, what institution
``i`` receives, ``(Pi.T p)_i = sum_j L_ji r_j``, moves by
``dinflow = dL.T r - Pi.T (r * dpbar)`` with ``dpbar = dL 1 + dext``. On the
region where the default set is fixed the clearing equations are linear:
a solvent institution pays ``pbar_i`` (``dp_i = dpbar_i``), a defaulting one
pays what it has (``dp_i = de_i + dinflow_i + (Pi.T dp)_i``), so
``(I - Pi.T[D, D]) dp_D = de_D + dinflow_D + Pi.T[D, S] dpbar_S`` (Liu & Staum
2010, section 3; Feinstein, Pang, Rudloff, Schaanning, Sojmark & Wiesel 2018,
Proposition 3.2). An institution exactly at its threshold (equity 0: a tie,
solvent) is a kink: its one-sided derivative is ``min(dpbar_i, de_i +
dinflow_i + (Pi.T dp)_i)`` for the step's sign, and the directional
derivative is the greatest solution of that piecewise-linear system, found as
the fictitious-default algorithm finds the clearing vector (ties start at the
cap and join the linear set when short). Both one-sided derivatives are
computed (``*_right``: ``t -> 0+``; ``*_left``: ``t -> 0-``); they differ only at
a kink. Equity ``e + Pi.T p - pbar`` moves by ``de + dinflow + Pi.T dp - dpbar``;
the system loss (``shock + total shortfall``, as in
:func:`contagion.measures.loss_summary`, the shock counted from the network
before the scenarios) by the change of the shock plus ``sum(dpbar - dp)``.
An institution forced to default by a scenario pays at most
``recovery * pbar`` (its cap moves with ``recovery * dpbar``).

A one-sided derivative that does not exist is NaN: decreasing outside assets
that are already 0, or a closed group of obligations without outside money
(the linear system is singular: the clearing vector is not unique there).

References
----------
Liu, M. & Staum, J. (2010). Sensitivity analysis of the Eisenberg--Noe model of
contagion. *Operations Research Letters* 38(5), 489-491. Feinstein, Z., Pang,
W., Rudloff, B., Schaanning, E., Sojmark, S. & Wiesel, J. (2018). Sensitivity of
the Eisenberg--Noe clearing vector to individual interbank liabilities. *SIAM
Journal on Financial Mathematics* 9(4), 1286-1325.

>>> import contagion
>>> net = contagion.FinancialNetwork.from_matrix(
...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10], names=["A", "B", "C"])
>>> s = contagion.sensitivity(net, "external_assets:A", scenarios=())
>>> (s.payment * 77).round(9).tolist(), (s.equity * 77).round(9).tolist()
([87.0, 58.0, 0.0], [87.0, 58.0, 77.0])
"""

from __future__ import annotations

import sys
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import ContagionError, InvalidNetworkError, Problem, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from .clearing.result import ClearingResult
    from .network import FinancialNetwork

__all__ = ["sensitivity", "Sensitivity", "SensitivityWarning", "rank_assumptions", "assumption_effects",
           "assumptions_table", "unranked_assumptions", "ASSUMPTION_EFFECTS", "ASSUMPTIONS", "WRT_KINDS"]

#: The kinds ``wrt`` accepts, before the colon.
WRT_KINDS = ("external_assets", "external_liabilities", "edge", "assumption")
#: File of a dataset folder that says how each assumption moves the network's amounts.
ASSUMPTION_EFFECTS = "assumption_effects.csv"
#: The dataset's list of assumptions (id, quantity, value, low, high, ...), beside the network's files.
ASSUMPTIONS = "assumptions.csv"
#: An institution whose resources are within this fraction of its own amounts (outside assets + what it receives
#: + what it pays at most) of its threshold is at a kink: relative to its own, not to the largest institution's
#: (next to one owing 1e6, one 1e-5 above its threshold of 10 was called at a kink and given its neighbour's
#: derivatives).
KINK_RTOL = 1e-10


class SensitivityWarning(RuntimeWarning):
    """A one-sided derivative does not exist (NaN in the result)."""


@dataclass(frozen=True, eq=False)
class Sensitivity:
    """Derivatives of the clearing with respect to one input (immutable; arrays aligned with ``network.names``).

    Attributes
    ----------
    wrt : str
        What was varied (``"external_assets:OpenAI"``, ``"edge:OpenAI>Oracle"``, ``"assumption:dscr"``).
    network : FinancialNetwork
        The network after the scenarios, where the derivatives are taken.
    clearing : ClearingResult
        Its (greatest, Eisenberg--Noe) clearing.
    payment_right, payment_left, equity_right, equity_left : ndarray
        One-sided derivatives of each institution's payment and equity (``right``: as the input increases).
    system_loss_right, system_loss_left : float
        One-sided derivatives of the system loss (shock + total shortfall).
    exact : bool
        ``True``: computed exactly on the fixed default set; ``False``: the network has seniority, collateral or
        guarantees, and the derivatives are one-sided difference quotients of the exact clearing (steps from
        :data:`DIFFERENCE_STEP` x max(pbar) down, until two steps agree: the clearing is piecewise linear).
    """

    wrt: str
    network: "FinancialNetwork" = field(repr=False)
    clearing: "ClearingResult" = field(repr=False)
    payment_right: np.ndarray
    payment_left: np.ndarray
    equity_right: np.ndarray
    equity_left: np.ndarray
    system_loss_right: float
    system_loss_left: float
    exact: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        return self.network.names

    @property
    def payment(self) -> np.ndarray:
        """The derivative of each payment: the right derivative (equal to the left one off a kink)."""
        return self.payment_right

    @property
    def equity(self) -> np.ndarray:
        """The derivative of each equity: the right derivative (equal to the left one off a kink)."""
        return self.equity_right

    @property
    def system_loss(self) -> float:
        """The derivative of the system loss: the right derivative."""
        return self.system_loss_right

    @property
    def kink(self) -> np.ndarray:
        """Where the left and right derivatives of payment or equity differ (or one of them does not exist).

        Relative tolerance 1e-9, or 1e-4 for difference quotients (``exact`` is ``False``).
        """
        tol = 1e-9 if self.exact else 1e-4     # difference quotients carry the solver's round-off / step

        def differ(a, b):
            return ~np.isclose(a, b, rtol=tol, atol=tol * 1e-3) | (np.isnan(a) != np.isnan(b))
        return differ(self.payment_left, self.payment_right) | differ(self.equity_left, self.equity_right)

    def to_frame(self) -> pd.DataFrame:
        """One row per institution, indexed by name: ``type, payment, equity, payment_left, payment_right,
        equity_left, equity_right, kink`` (``payment``, ``equity``: the right derivatives)."""
        net = self.network
        return pd.DataFrame({
            "type": net.types, "payment": self.payment, "equity": self.equity,
            "payment_left": self.payment_left, "payment_right": self.payment_right,
            "equity_left": self.equity_left, "equity_right": self.equity_right, "kink": self.kink,
        }, index=pd.Index(list(net.names), name="name"))

    def __repr__(self) -> str:
        return f"Sensitivity(wrt={self.wrt!r}, n={self.network.n}, system_loss={self.system_loss:.6g})"


# ---------------------------------------------------------------------- directions
@dataclass(frozen=True)
class _Direction:
    """A perturbation of the inputs: outside assets, outside liabilities and each row of the edge table."""

    de: np.ndarray
    dext: np.ndarray
    drows: np.ndarray
    dL: sp.csr_array

    @classmethod
    def of(cls, net, de=None, dext=None, drows=None) -> "_Direction":
        n = net.n
        de = np.zeros(n) if de is None else de
        dext = np.zeros(n) if dext is None else dext
        drows = np.zeros(net.n_edges) if drows is None else drows
        di, ci = net.edge_index
        keep = drows != 0
        dL = sp.csr_array((drows[keep], (di[keep], ci[keep])), shape=(n, n))
        dL.sum_duplicates()
        return cls(de, dext, drows, dL)

    def moved(self, net, t: float):
        """``net`` moved by ``t`` along this direction (amounts clipped at 0)."""
        kw: dict[str, Any] = {}
        if self.de.any():
            kw["external_assets"] = np.maximum(net.external_assets + t * self.de, 0.0)
        if self.dext.any():
            kw["external_liabilities"] = np.maximum(net.external_liabilities + t * self.dext, 0.0)
        if self.drows.any():
            kw["edge_amounts"] = np.maximum(net.edges["amount"].to_numpy(dtype=np.float64) + t * self.drows, 0.0)
        return net.replace(**kw) if kw else net


def _institution(net, key: str, wrt: str) -> int:
    try:
        return net.index_of(key)
    except KeyError as exc:      # its text names the key, and the closest name or the ambiguity
        raise ContagionError(f"{wrt!r}: {exc.args[0]}") from None


def _edge(net, spec: str, wrt: str) -> tuple[int, int]:
    """``DEBTOR>CREDITOR`` as positions; a name may itself contain '>' (every split is tried)."""
    parts = spec.split(">")
    for k in range(1, len(parts)):
        a, b = ">".join(parts[:k]).strip(), ">".join(parts[k:]).strip()
        try:
            i, j = net.index_of(a), net.index_of(b)
        except KeyError:
            continue
        if net.liabilities[i, j] <= 0:
            raise ContagionError(f"{wrt!r}: {net.names[i]!r} owes nothing to {net.names[j]!r}; "
                                 f"choose an existing obligation")
        return i, j
    if len(parts) == 2:      # one way to read it: say which name is unknown (and the closest one)
        for name in parts:
            _institution(net, name.strip(), wrt)
    raise ContagionError(f"{wrt!r}: expected edge:DEBTOR>CREDITOR with two institution names")


def _direction(net, wrt: str, effects: pd.DataFrame | None) -> tuple[_Direction, str]:
    """The perturbation that ``wrt`` names, and ``wrt`` in canonical form."""
    kind, sep, key = str(wrt).partition(":")
    kind, key = kind.strip(), key.strip()
    if not sep or kind not in WRT_KINDS or not key:
        raise ContagionError(f"wrt must be one of {', '.join(k + ':...' for k in WRT_KINDS)}; got {wrt!r}")
    if kind in ("external_assets", "external_liabilities"):
        i = _institution(net, key, wrt)
        v = np.zeros(net.n)
        v[i] = 1.0
        d = _Direction.of(net, de=v) if kind == "external_assets" else _Direction.of(net, dext=v)
        return d, f"{kind}:{net.names[i]}"
    if kind == "edge":
        i, j = _edge(net, key, wrt)
        di, ci = net.edge_index
        amounts = net.edges["amount"].to_numpy(dtype=np.float64)
        rows = np.where((di == i) & (ci == j), amounts, 0.0)     # several rows for the pair: pro rata
        return _Direction.of(net, drows=rows / rows.sum()), f"edge:{net.names[i]}>{net.names[j]}"
    return _assumption_direction(net, key, effects, wrt), f"assumption:{key}"


def _assumption_direction(net, key: str, effects: pd.DataFrame | None, wrt: str) -> _Direction:
    if effects is None:
        effects = assumption_effects(net)
    rows = effects[effects["assumption"] == key]
    if rows.empty:
        known = sorted(effects["assumption"].unique())
        raise ContagionError(f"{wrt!r}: unknown assumption {key!r}{did_you_mean(key, known)}; {ASSUMPTION_EFFECTS} "
                             f"lists {', '.join(known)}")
    return _effect_direction(net, rows, "derivative")


def _effect_direction(net, rows: pd.DataFrame, column: str) -> _Direction:
    """The direction (or the change, for ``column`` = a value column minus ``central``) the rows describe."""
    n = net.n
    de, dext, drows = np.zeros(n), np.zeros(n), np.zeros(net.n_edges)
    pos = _edge_positions(net)
    for k, r in rows.iterrows():
        v = float(r[column]) - (float(r["central"]) if column != "derivative" else 0.0)
        if r["kind"] == "edge":
            drows[_edge_row(pos, r["target"], rows, k)] += v
        else:
            (de if r["kind"] == "external_assets" else dext)[_target_node(net, rows, k)] += v
    return _Direction.of(net, de, dext, drows)


def _effect_row(effects: pd.DataFrame, k: Any) -> tuple[str, int | None]:
    """``(file, row)`` of row ``k`` of an effects table: its CSV file and row (the header is row 1), or, for a table
    given in memory, its position."""
    source = effects.attrs.get("source")
    return (source, int(k) + 2) if source else ("the assumption effects table", int(k))


def _target_node(net, effects: pd.DataFrame, k: Any) -> int:
    try:
        return net.index_of(str(effects.at[k, "target"]))
    except KeyError as exc:
        file, row = _effect_row(effects, k)
        raise InvalidNetworkError([Problem(f"{exc.args[0]} in this network", file=file, row=row, column="target",
                                           value=effects.at[k, "target"])]) from None


def _edge_positions(net) -> dict[str, int]:
    """Row of each ``edge_id`` in the edge table; -1 for an id on several rows (ambiguous)."""
    edges = net.edges
    ids = edges["edge_id"].astype(str).str.strip().tolist() if "edge_id" in edges.columns else []
    pos: dict[str, int] = {}
    for k, e in enumerate(ids):
        pos[e] = -1 if e in pos else k
    return pos


def _edge_row(pos: dict[str, int], target: Any, effects: pd.DataFrame, k: Any) -> int:
    found = pos.get(str(target).strip())
    if found is None or found < 0:
        file, row = _effect_row(effects, k)
        why = (f"no obligation with edge_id {str(target)!r} in this network" if found is None else
               f"edge_id {str(target)!r} is on several rows of this network's edge table: which one it moves is "
               "not known")
        raise InvalidNetworkError([Problem(why, file=file, row=row, column="target", value=target)])
    return found


def _check_current(net, effects: pd.DataFrame) -> None:
    """The table's ``central`` amounts must be this network's (else it was built for another version of it)."""
    pos = _edge_positions(net)
    amounts = net.edges["amount"].to_numpy(dtype=np.float64)
    for k, r in effects.iterrows():
        if r["kind"] == "edge":
            have = float(amounts[_edge_row(pos, r["target"], effects, k)])
        else:
            have = float(getattr(net, r["kind"])[_target_node(net, effects, k)])
        if abs(have - float(r["central"])) > 1e-6 * max(1.0, abs(have)):
            file, row = _effect_row(effects, k)
            raise InvalidNetworkError([Problem(
                f"the table was made for another version of this network: {r['kind']} {r['target']} is {have:g} "
                f"in the network; rebuild the table (its dataset builder writes it; for ai-infrastructure "
                f"scripts/build_ai_infrastructure.py)", file=file, row=row, column="central", value=r["central"])])


# ---------------------------------------------------------------------- the derivative
def _one_sided(net, p: np.ndarray, d: _Direction, s: float) -> tuple[np.ndarray, np.ndarray] | None:
    """``(dp, dequity)`` for the step ``s * t``, ``t -> 0+``, divided by ``t`` (signed); None when it does not exist."""
    from scipy.sparse.linalg import splu

    pbar, e, PiT = net.total_obligations, net.external_assets, net.PiT
    forced, rec = net.forced_default, net.forced_recovery
    r = np.divide(p, pbar, out=np.zeros_like(p), where=pbar > 0)
    dpbar = np.asarray(d.dL.sum(axis=1)).ravel() + d.dext
    dinflow = d.dL.T @ r - PiT @ (r * dpbar)
    a = s * (d.de + dinflow)                       # the linear branch's own term
    c = s * np.where(forced, rec * dpbar, dpbar)    # the capped branch
    cap = net.payment_cap
    active = (pbar > 0) | (dpbar != 0)
    received = PiT @ p
    slack = e + received - cap
    tol = KINK_RTOL * (np.abs(e) + received + cap)
    lin = active & (slack < -tol)
    tie = active & ~lin & (slack <= tol)
    tol_d = 1e-12 * max(1.0, float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(c), initial=0.0)))
    capped = tie.copy()
    while True:
        L_set = lin | (tie & ~capped)
        dp = np.where(active & ~L_set, c, 0.0)
        idx = np.flatnonzero(L_set)
        if idx.size:
            sub = PiT[idx]
            A = (sp.identity(idx.size, format="csc") - sub[:, idx].tocsc()).tocsc()
            rhs = a[idx] + sub @ dp
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    x = splu(A).solve(rhs)
            except RuntimeError:
                return None
            if not np.all(np.isfinite(x)):
                return None
            dp[idx] = x
        short = tie & capped & (a + PiT @ dp < c - tol_d)
        if not short.any():
            break
        capped &= ~short
    deq = s * (d.de + dinflow - dpbar) + PiT @ dp
    return dp, deq


def _shock_change(base, net, d: _Direction, s: float, base_de: np.ndarray | None = None) -> float:
    """Change of ``sum(max(base.e - e, 0))`` per unit step ``s`` (``base_de``: how the outside assets before the
    scenarios move, for an assumption; ``d.de`` how they move after them)."""
    b, e = base.external_assets, net.external_assets
    move = s * ((0.0 if base_de is None else base_de) - d.de)       # of base.e - e
    return float(np.sum(np.where(e < b, move, np.where(e > b, 0.0, np.maximum(move, 0.0)))))


def _through_scenarios(net, shocked, d: _Direction, scenarios: Any, s: float) -> _Direction | None:
    """An assumption's direction on the amounts before the scenarios (``d``, on ``net``), as it moves the amounts
    after them (on ``shocked``), on the side ``s``: a scenario that halves an amount halves its move, one that
    sets it stops it. Scenarios are piecewise linear in the amounts: one-sided difference quotients, accepted
    when a step and a quarter of it agree (as :func:`_difference`); ``None`` when the scenarios change the
    obligations' rows."""
    from .pipeline import prepare

    def amounts(x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = x.edges["amount"].to_numpy(dtype=np.float64) if x.n_edges else np.zeros(0)
        return x.external_assets, x.external_liabilities, rows

    at = amounts(shocked)

    def quotient(h: float) -> tuple[np.ndarray, ...] | None:
        moved = amounts(prepare(d.moved(net, s * h), scenarios)[0])
        if moved[2].shape != at[2].shape:
            return None
        return tuple((m - a) / (s * h) for m, a in zip(moved, at))

    scale = max(float(np.abs(np.concatenate(amounts(net))).max(initial=0.0)), 1.0)
    h = DIFFERENCE_STEP * scale / max(float(np.abs(np.concatenate([d.de, d.dext, d.drows])).max(initial=0.0)), 1e-300)
    big = _settled(quotient, h, atol=1e-9)
    if big is None:
        return None
    # the quotients carry ~1e-10 of rounding; the usual cases are exact: an amount the scenarios leave alone or
    # shift moves as before, one they scale moves by the same factor (its amount after / before), one they set
    # or wipe out does not move
    out = []
    for q, v, pre, post in zip(big, (d.de, d.dext, d.drows), amounts(net), at):
        factor = np.divide(post, pre, out=np.ones_like(post), where=pre != 0)
        near = lambda c: np.abs(q - c) <= 1e-7 * np.abs(v)  # noqa: E731
        out.append(np.where(near(v), v, np.where(near(v * factor), v * factor, np.where(near(0.0), 0.0, q))))
    return _Direction.of(shocked, *out)


def sensitivity(net: "FinancialNetwork", wrt: str, scenarios: Iterable[Any] | Any | None = None, *,
                effects: pd.DataFrame | None = None) -> Sensitivity:
    """Derivatives of every payment, every equity and the system loss with respect to one input.

    Parameters
    ----------
    net : FinancialNetwork
        The network before the scenarios.
    wrt : str
        ``external_assets:NAME``, ``external_liabilities:NAME``,
        ``edge:DEBTOR>CREDITOR`` (the total owed by DEBTOR to CREDITOR) or
        ``assumption:KEY`` (a row of the dataset's ``assumption_effects.csv``).
    scenarios : as for :func:`contagion.stress`
        ``None`` (default): the dataset's default scenario, if any; ``()``: none.
        The derivatives are taken at the network after the scenarios.
    effects : DataFrame or path, optional
        The assumption effects table or its file (default: ``assumption_effects.csv``
        in the network's folder; see :func:`assumption_effects`).

    Returns
    -------
    Sensitivity

    Raises
    ------
    ContagionError
        An unknown institution, obligation or assumption; an assumption table
        built for another version of the network.

    Notes
    -----
    Exact on the region where the default set is fixed, with left and right
    derivatives at a kink (see the module docstring for the equations and the
    references). On a network with seniority, collateral or guarantees
    (DESIGN section 8), whose clearing is piecewise linear in more ways, the
    derivatives are one-sided difference quotients of the exact clearing
    instead (``exact`` is ``False``). Warns :class:`SensitivityWarning` when a one-sided derivative
    does not exist (NaN).

    Examples
    --------
    The chain A -> B -> C (see ``contagion datasets``) under ``a-fails``,
    which forces A into default recovering nothing: a unit more outside
    assets for A is passed on to no one; only A's own equity rises.

    >>> import contagion
    >>> s = contagion.sensitivity(contagion.load_dataset("chain"), "external_assets:A", scenarios=["a-fails"])
    >>> s.to_frame()[["payment", "equity"]].round(6).to_dict("list")
    {'payment': [0.0, 0.0, 0.0], 'equity': [1.0, 0.0, 0.0]}
    """
    from .clearing import clear
    from .clearing.priority import uses_priority
    from .pipeline import prepare

    assumption = str(wrt).strip().startswith("assumption:")
    if assumption:
        effects = _effects_of(net, effects)
        _check_current(net, effects)
    shocked, resolved, _ = prepare(net, scenarios)
    res = clear(shocked)
    exact = not uses_priority(shocked)
    out = {}
    if assumption:
        # the table moves the amounts before the scenarios: carried through them, side by side
        d0, label = _direction(net, wrt, effects)
        sides = {s: (d0 if not resolved else _through_scenarios(net, shocked, d0, resolved, s)) for s in (1.0, -1.0)}
    else:
        d, label = _direction(shocked, wrt, effects)
        sides = {1.0: d, -1.0: d}
    for s, side in ((1.0, "right"), (-1.0, "left")):
        d = sides[s]
        got = None
        if d is None:
            why = "cannot be carried through the scenarios (they change the obligations' rows)"
        else:
            why = "does not exist (an amount at 0, or a closed group without outside money)"
            below_zero = s < 0 and (np.any((shocked.external_assets == 0) & (d.de > 0))
                                    or np.any((shocked.external_liabilities == 0) & (d.dext > 0))
                                    or np.any((shocked.edges["amount"].to_numpy() == 0) & (d.drows > 0)))
            if not below_zero and exact:
                one = _one_sided(shocked, res.payments, d, s)
                got = None if one is None else (*one, None)       # (no guarantees without the priority solver)
            elif not below_zero:
                got = _difference(shocked, res, d, s)
        if got is None:
            warnings.warn(f"sensitivity to {label}: the {side} derivative {why}; NaN", SensitivityWarning,
                          stacklevel=2)
            nan = np.full(shocked.n, np.nan)
            out[side] = (nan, nan, float("nan"))
            continue
        dp, deq, dshort = got
        if dshort is None:       # what falls due moves with the direction only
            dshort = s * (np.asarray(d.dL.sum(axis=1)).ravel() + d.dext) - dp
        # (with guarantees, the change in what each leaves unpaid, an unpaid call counted once: loss_summary)
        loss = _shock_change(net, shocked, d, s, d0.de if assumption else None) + float(np.sum(dshort))
        out[side] = (s * dp, s * deq, s * loss)
    return Sensitivity(wrt=label, network=shocked, clearing=res,
                       payment_right=out["right"][0] + 0.0, payment_left=out["left"][0] + 0.0,
                       equity_right=out["right"][1] + 0.0, equity_left=out["left"][1] + 0.0,
                       system_loss_right=out["right"][2] + 0.0, system_loss_left=out["left"][2] + 0.0, exact=exact)


#: First step of the one-sided difference quotients on networks with seniority, collateral or guarantees, relative
#: to max(pbar). The clearing is piecewise linear in the input, so a quotient is exact (up to the solver's residual,
#: 1e-12 of max(pbar), i.e. 1e-6 of the quotient at this step) while the step stays on the piece next to the point:
#: a quotient is accepted when the step and a quarter of it give the same (within 1e-6); else the step shrinks.
DIFFERENCE_STEP = 1e-6
#: Times the step is divided by 16 before the smallest step's quotient is taken as it is.
DIFFERENCE_SHRINKS = 4


def _difference(net, res, d: _Direction, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dp, dequity, dshortfall)`` per unit step ``s`` by one-sided difference quotients of the exact (priority)
    clearing; ``dshortfall``: of what each one leaves unpaid, an unpaid guarantee call counted once
    (:func:`~.clearing.result.unpaid_calls_by`), guarantees as called."""
    from .clearing import clear
    from .clearing.result import unpaid_calls_by

    def unpaid(r) -> np.ndarray:
        calls = unpaid_calls_by(r)
        return r.shortfall if calls is None else r.shortfall - calls

    before = unpaid(res)
    # without guarantees what falls due moves with the direction only: the caller's exact s * dpbar - dp
    called = getattr(res, "all_pay_equity", None) is not None

    def quotient(h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        moved = clear(d.moved(net, s * h))
        dshort = (unpaid(moved) - before) / h if called else None
        return (moved.payments - res.payments) / h, (moved.equity - res.equity) / h, dshort

    return _settled(quotient, DIFFERENCE_STEP * max(float(net.total_obligations.max()), 1.0), atol=1e-6)


def _settled(quotient: Any, h: float, atol: float) -> Any:
    """The one-sided difference quotients ``quotient(h)`` (a tuple of arrays, ``None`` entries skipped) of a
    piecewise-linear map, at a step on the piece next to the point: accepted when the step and a quarter of it
    agree (within 1e-6 relative and ``atol``), else the step shrinks 16-fold, at most
    :data:`DIFFERENCE_SHRINKS` times (the smallest step's quotients are then taken as they are); ``None`` when
    ``quotient`` gives ``None``."""
    big = quotient(h)
    for _ in range(DIFFERENCE_SHRINKS):
        small = quotient(h / 4)
        if big is None or small is None:
            return None
        if all(a is None or np.allclose(a, b, rtol=1e-6, atol=atol) for a, b in zip(big, small)):
            return small
        h, big = h / 16, quotient(h / 16)
    return big


# ---------------------------------------------------------------------- assumptions
EFFECT_COLUMNS = ("assumption", "kind", "target", "central", "low", "high", "derivative")
_EFFECT_KINDS = ("external_assets", "external_liabilities", "edge")


def _dataset_folder(net: Any) -> Path | None:
    """The folder a network was read from (its ``metadata["source"]``; for a .json or .graphml network, the
    folder the file is in), where its dataset's assumption files lie; None for a network built in memory."""
    source = (getattr(net, "metadata", None) or {}).get("source")
    if not source:
        return None
    folder = Path(str(source))
    return folder.parent if folder.is_file() else folder


def assumption_effects(net_or_path: Any) -> pd.DataFrame:
    """The table that says how each labelled assumption moves a dataset's amounts.

    ``assumption_effects.csv`` in the network's folder (or the path given), one
    row per amount an assumption moves: ``assumption`` (an id of
    ``assumptions.csv``), ``kind`` (``external_assets``, ``external_liabilities``
    or ``edge``), ``target`` (a node id, or an ``edge_id``), ``central`` (the
    amount in the shipped network), ``low`` and ``high`` (the amount with only
    this assumption at the low / high end of its range), ``derivative`` (d
    amount / d assumption at its central value). A dataset builder writes it
    (``ai-infrastructure`` ships one, written by ``scripts/build_ai_infrastructure.py``).

    Raises
    ------
    ContagionError
        The network has no such table.
    InvalidNetworkError
        A missing column, an unknown kind, a value that is not a number (file, row, column, value).
    """
    if isinstance(net_or_path, (str, Path)):
        path = Path(net_or_path)
    else:
        folder = _dataset_folder(net_or_path)
        path = folder / ASSUMPTION_EFFECTS if folder is not None else None
        if path is None or not path.is_file():
            raise ContagionError(f"this network has no {ASSUMPTION_EFFECTS} beside its files, so its assumptions "
                                 f"are not known; sensitivities to assumptions need one (see "
                                 f"contagion.sensitivity.assumption_effects)")
    from .io.formats import _read_csv_table

    if not path.is_file():
        raise ContagionError(f"{path}: no such file (an assumption effects table, {', '.join(EFFECT_COLUMNS)})")
    problems: list[Problem] = []
    table = _read_csv_table(path, problems, set())       # as a network's CSV: rows as in the file, ragged rows,
    if table is None or problems:                       # empty rows and duplicate columns are located errors
        raise InvalidNetworkError(problems)
    return _checked_effects(table, str(path), 2)


def _checked_effects(table: pd.DataFrame, file: str, offset: int) -> pd.DataFrame:
    """An effects table checked and typed (rows ``position + offset``: 2 for a CSV file, 0 in memory): the
    columns of :data:`EFFECT_COLUMNS`, no blank assumption or target, a known kind, amounts that are finite
    numbers >= 0, a finite derivative, and no amount moved twice by one assumption (the moves would add up)."""
    from ._columns import _check_columns, located_numbers

    problems: list[Problem] = []
    _check_columns(table, EFFECT_COLUMNS, file, problems)
    if problems:
        raise InvalidNetworkError(problems)
    table = table.reset_index(drop=True)
    frame = pd.DataFrame({c: table[c].astype(object).where(table[c].notna(), "").astype(str).str.strip()
                          for c in ("assumption", "kind", "target")})
    for k, row in frame.iterrows():
        for col in ("assumption", "target"):
            if not row[col]:
                problems.append(Problem("is blank", file=file, row=k + offset, column=col, value=row[col]))
        if row["kind"] not in _EFFECT_KINDS:
            problems.append(Problem(f"kind must be one of {', '.join(_EFFECT_KINDS)}", file=file, row=k + offset,
                                    column="kind", value=row["kind"]))
    for col in ("central", "low", "high"):            # amounts: outside assets, liabilities, an obligation
        frame[col] = located_numbers(table[col], col, file, offset, problems, low=0.0, required=True,
                                     want="an amount, a finite number >= 0")
    frame["derivative"] = located_numbers(table["derivative"], "derivative", file, offset, problems, required=True)
    seen: dict[tuple[str, str, str], int] = {}
    for k, key in enumerate(zip(frame["assumption"], frame["kind"], frame["target"])):
        if key in seen:      # two rows for one amount would add their moves: the table says it once
            problems.append(Problem(f"assumption {key[0]!r} moves {key[1]} {key[2]!r} a second time (first on row "
                                    f"{seen[key] + offset})", file=file, row=k + offset, column="target",
                                    value=key[2]))
        seen.setdefault(key, k)
    if problems:
        raise InvalidNetworkError(problems)
    if offset:
        frame.attrs["source"] = file
    return frame


def _effects_of(net, effects: Any) -> pd.DataFrame:
    """``effects`` as a table: given (a DataFrame, or the path of an effects file), else the network's own."""
    if effects is None:
        return assumption_effects(net)
    if isinstance(effects, pd.DataFrame):    # read from a file already, or checked here (rows by position)
        return effects if effects.attrs.get("source") else _checked_effects(effects, "the assumption effects table", 0)
    return assumption_effects(effects)


def assumptions_table(net: Any) -> pd.DataFrame | None:
    """The dataset's :data:`ASSUMPTIONS` beside the network's files (indexed by ``id``: ``quantity``, ``value``,
    ``low``, ``high``, ...), or None when there is none (or it has no ``id`` column).

    Raises
    ------
    InvalidNetworkError
        The file is there but is not a readable CSV (file and what the parser said)."""
    folder = _dataset_folder(net)
    path = folder / ASSUMPTIONS if folder is not None else None
    if path is None or not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype={"id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidNetworkError([Problem(f"not a readable CSV table of assumptions: {exc}", file=str(path))]
                                  ) from None
    if "id" not in frame.columns:
        return None
    return frame.set_index("id")


def unranked_assumptions(ranking: pd.DataFrame, assumptions: pd.DataFrame | None) -> list[str]:
    """Assumptions of the dataset's list that :func:`rank_assumptions` could not rank: they have no row in the
    effects table because they move no amount of the one-year network (they act on the multi-year path, or
    inside a scenario's own amounts). In the list's order; empty without a list."""
    if assumptions is None:
        return []
    ranked = set(map(str, ranking.index))
    return [str(k) for k in assumptions.index if str(k) not in ranked]


def _with_change(net, rows: pd.DataFrame, column: str):
    """``net`` with the amounts of ``rows`` set to their ``column`` value (the rest unchanged)."""
    return _effect_direction(net, rows, column).moved(net, 1.0)


def rank_assumptions(net: "FinancialNetwork", institution: str, scenarios: Iterable[Any] | Any | None = None, *,
                     effects: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every assumption ranked by how much it moves one institution's equity (tornado data).

    Each assumption is moved alone to the low and to the high end of its range
    (the amounts of ``assumption_effects.csv``), the scenarios applied, and the
    network cleared; the derivative at the central value is given too.

    Parameters
    ----------
    net : FinancialNetwork
    institution : str
        Name or id of the institution whose equity is watched.
    scenarios : as for :func:`sensitivity`
    effects : DataFrame or path, optional
        As for :func:`sensitivity`.

    Returns
    -------
    DataFrame
        Indexed by ``assumption``, sorted by ``swing`` (largest first):
        ``equity_low``, ``equity_central``, ``equity_high`` (the institution's
        equity after clearing), ``change_low``, ``change_high`` (against the
        central), ``swing`` (``max(|change_low|, |change_high|)``),
        ``defaulted_low``, ``defaulted_high`` and ``derivative`` (d equity / d
        assumption, right derivative).
    """
    from .clearing import clear
    from .pipeline import prepare

    effects = _effects_of(net, effects)
    _check_current(net, effects)
    i = _institution(net, institution, "rank_assumptions")
    shocked, _, _ = prepare(net, scenarios)
    central = clear(shocked)
    records = []
    for key, rows in effects.groupby("assumption", sort=True):
        out = {"assumption": key, "equity_central": float(central.equity[i])}
        for end in ("low", "high"):
            moved, _, _ = prepare(_with_change(net, rows, end), scenarios)
            res = clear(moved)
            out[f"equity_{end}"] = float(res.equity[i])
            out[f"change_{end}"] = float(res.equity[i] - central.equity[i])
            out[f"defaulted_{end}"] = bool(res.defaulted[i])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SensitivityWarning)
            out["derivative"] = float(sensitivity(net, f"assumption:{key}", scenarios, effects=effects).equity[i])
        out["swing"] = max(abs(out["change_low"]), abs(out["change_high"]))
        records.append(out)
    cols = ["equity_low", "equity_central", "equity_high", "change_low", "change_high", "swing", "defaulted_low",
            "defaulted_high", "derivative"]
    frame = pd.DataFrame.from_records(records, columns=["assumption", *cols]).set_index("assumption")
    return frame.sort_values("swing", ascending=False, kind="stable")


# ``contagion.sensitivity`` is both this module and its function (the lazy name in ``contagion/__init__.py``
# resolves to the module, and importing the submodule sets the same attribute): the module is callable.
class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Sensitivity:
        return sensitivity(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
_module = sys.modules[__name__]
