"""Further contagion channels: DebtRank, differential DebtRank, a threshold default cascade.

Eisenberg--Noe clearing (:mod:`contagion.clearing`) asks what everyone can pay.
The channels here ask different questions of the same network:

- :func:`debtrank` (Battiston et al. 2012): how far *distress* (a fall in
  equity, not only default) spreads when creditors mark their claims down in
  proportion to their debtors' equity losses;
- :func:`differential_debtrank` (Bardoscia et al. 2015): the same, with every
  increment of distress passed on (the original lets a node pass distress on
  only once);
- :func:`threshold_cascade` (Furfine 2003; Gai & Kapadia 2010): an
  institution fails once its losses on failed debtors, at an exogenous recovery
  rate, exceed its capital; failures come in rounds (waves).

The threshold cascade returns an honest :class:`~contagion.ClearingResult`
(payments ``recovery * pbar`` for failed institutions, ``pbar`` otherwise) and
is registered as the clearing method ``"threshold"``. The DebtRank variants
return a :class:`DebtRankResult` (distress levels, not payments) and live in
:data:`CONTAGION_CHANNELS` only.

Direction convention as everywhere: ``L[i, j]`` is what ``i`` owes ``j``, so
``j`` is exposed to ``i`` for ``L[i, j]``. *Capital* is the equity before
clearing, ``net.equity_before = e + interbank_assets - pbar``.

>>> import contagion
>>> from contagion.channels import debtrank
>>> net = contagion.FinancialNetwork.from_matrix(
...     [[0, 4, 0], [0, 0, 6], [0, 0, 0]], external_assets=[10, 4, 4], names=["A", "B", "C"])
>>> round(debtrank(net, "A").value, 4)
0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .clearing.priority import refuse_priority
from .clearing.threshold import threshold_cascade
from .errors import ContagionError, ConvergenceError, ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from .network import FinancialNetwork

__all__ = [
    "CONTAGION_CHANNELS",
    "DebtRankResult",
    "debtrank",
    "differential_debtrank",
    "threshold_cascade",
    "economic_weights",
    "WEIGHTS",
]


# ---------------------------------------------------------------------- DebtRank
@dataclass(frozen=True, eq=False)
class DebtRankResult:
    """Outcome of a DebtRank run (immutable; arrays aligned with ``network.names``).

    Attributes
    ----------
    network : FinancialNetwork
    initial : ndarray
        Initial distress ``h(0)`` in ``[0, 1]`` (relative equity loss from the shock).
    distress : ndarray
        Final distress ``h(T)`` in ``[0, 1]``; 1 = equity wiped out.
    distress_round : ndarray of int
        Round in which ``h`` first became positive (0 = hit by the shock), -1 = never.
    default_round : ndarray of int
        Round in which ``h`` first reached 1, -1 = never.
    weights : ndarray
        Relative economic values ``v`` (sum 1).
    value : float
        DebtRank ``R = sum(v * h(T)) - sum(v * h(0))``: the distress the shock
        induces beyond itself, in units of the system's economic value.
    iterations : int
        Propagation rounds run.
    method : str
        ``"debtrank"`` or ``"differential-debtrank"``.
    """

    network: "FinancialNetwork" = field(repr=False)
    initial: np.ndarray
    distress: np.ndarray
    distress_round: np.ndarray
    default_round: np.ndarray
    weights: np.ndarray
    value: float
    iterations: int
    method: str

    @property
    def defaulted(self) -> np.ndarray:
        """Institutions whose equity is wiped out (``h == 1``)."""
        return self.distress >= 1.0

    @property
    def equity_loss(self) -> np.ndarray:
        """Loss of equity in money, ``h * max(capital, 0)``."""
        return self.distress * np.maximum(self.network.equity_before, 0.0)

    @property
    def total_distress(self) -> float:
        """``sum(v * h(T))``, the shock included."""
        return float(np.sum(self.weights * self.distress))

    def to_frame(self) -> pd.DataFrame:
        """Per-institution table indexed by name: ``type, capital, initial, distress, equity_loss,
        distress_round, defaulted, default_round``."""
        net = self.network
        return pd.DataFrame(
            {
                "type": net.types,
                "capital": net.equity_before,
                "initial": self.initial,
                "distress": self.distress,
                "equity_loss": self.equity_loss,
                "distress_round": self.distress_round,
                "defaulted": self.defaulted,
                "default_round": self.default_round,
            },
            index=pd.Index(list(net.names), name="name"),
        )

    def summary(self) -> dict[str, Any]:
        """Headline numbers as plain Python values."""
        return {
            "method": self.method,
            "debtrank": float(self.value),
            "total_distress": self.total_distress,
            "distressed": int((self.distress > 0).sum()),
            "defaults": int(self.defaulted.sum()),
            "iterations": int(self.iterations),
        }

    def __repr__(self) -> str:
        return (f"DebtRankResult(method={self.method!r}, n={self.network.n}, value={self.value:.6g}, "
                f"distressed={int((self.distress > 0).sum())})")


def _weights_assets(net) -> np.ndarray:
    return net.external_assets + net.interbank_assets


def _weights_equity(net) -> np.ndarray:
    return np.maximum(net.equity_before, 0.0)


def _weights_equal(net) -> np.ndarray:
    return np.ones(net.n)


#: name -> function(network) -> unnormalised economic values ``v``
WEIGHTS: dict[str, Callable[[Any], np.ndarray]] = {
    "assets": _weights_assets,
    "equity": _weights_equity,
    "equal": _weights_equal,
}


def economic_weights(net, weights: str | Sequence[float] | np.ndarray = "assets") -> np.ndarray:
    """Relative economic values ``v`` (non-negative, sum 1) used to add distress up.

    ``"assets"`` (default): share of total assets ``e + interbank_assets``;
    ``"equity"``: share of positive capital; ``"equal"``: ``1/n`` each; or an
    array of ``n`` non-negative numbers (normalised here).
    """
    if isinstance(weights, str):
        try:
            raw = WEIGHTS[weights](net)
        except KeyError:
            raise ContagionError(f"unknown weights {weights!r}; choose one of {sorted(WEIGHTS)} or give an array") \
                from None
    else:
        raw = np.asarray(weights, dtype=np.float64)
        if raw.shape != (net.n,):
            raise ContagionError(f"weights must have shape ({net.n},), got {raw.shape}")
        if not np.all(np.isfinite(raw)) or (raw < 0).any():
            raise ContagionError("weights must be finite and non-negative")
    total = float(raw.sum())
    if total <= 0:
        raise ContagionError("weights sum to zero")
    return raw / total


def _initial_distress(net, shock: Any) -> np.ndarray:
    """``h(0)`` from an array, a mapping name -> distress, or names (distress 1)."""
    n = net.n
    if isinstance(shock, str):
        shock = [shock]
    if isinstance(shock, Mapping):
        h0 = np.zeros(n)
        for key, val in shock.items():
            try:
                h0[net.index_of(str(key))] = float(val)
            except KeyError as exc:
                raise ScenarioError(str(exc.args[0])) from None
    elif isinstance(shock, (list, tuple)) and all(isinstance(s, str) for s in shock):
        h0 = np.zeros(n)
        for key in shock:
            try:
                h0[net.index_of(key)] = 1.0
            except KeyError as exc:
                raise ScenarioError(str(exc.args[0])) from None
    else:
        h0 = np.asarray(shock, dtype=np.float64).copy()
        if h0.shape != (n,):
            raise ScenarioError(f"initial distress must have shape ({n},), got {h0.shape}")
    if not np.all(np.isfinite(h0)) or (h0 < 0).any() or (h0 > 1).any():
        raise ScenarioError("initial distress must lie in [0, 1] (relative equity loss)")
    return h0


def _exposure_matrices(net, cap: bool) -> tuple[sp.csr_array, sp.csr_array | None]:
    """``(WT, LT_bad)``: impact matrix transposed (rows = creditors) and the exposures of creditors without capital.

    ``WT[c, d] = L[d, c] / capital_c`` (capped at 1 when ``cap``). Creditors
    with capital ``<= 0`` have no buffer: any distress of a debtor they are
    exposed to wipes them out; their rows of ``WT`` are empty and their
    exposures are returned in ``LT_bad`` (``None`` when there are none).
    """
    LT = sp.csr_array(net.liabilities.T.tocsr())
    capital = net.equity_before
    row_of = np.repeat(np.arange(net.n), np.diff(LT.indptr))
    c = capital[row_of]
    good = c > 0
    data = np.where(good, LT.data / np.where(good, c, 1.0), 0.0)
    if cap:
        data = np.minimum(data, 1.0)
    WT = sp.csr_array((data, LT.indices.copy(), LT.indptr.copy()), shape=LT.shape)
    LT_bad = None
    if not good.all():
        bad_data = np.where(good, 0.0, LT.data)
        LT_bad = sp.csr_array((bad_data, LT.indices.copy(), LT.indptr.copy()), shape=LT.shape)
        LT_bad.eliminate_zeros()
    return WT, LT_bad


def _propagate(WT, LT_bad, h: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``min(1, h + WT @ x)``, with creditors without capital wiped out by any positive exposure."""
    h_new = h + WT @ x
    if LT_bad is not None:
        hit = (LT_bad @ x) > 0
        h_new[hit] = 1.0
    return np.minimum(h_new, 1.0)


def debtrank(net, shock: Any, *, weights: str | Sequence[float] | np.ndarray = "assets") -> DebtRankResult:
    """DebtRank of a shock (Battiston et al. 2012): distress passed on once per institution.

    Parameters
    ----------
    net : FinancialNetwork
    shock : array_like (n,), mapping name -> distress, str or list of str
        Initial distress ``h(0)`` in ``[0, 1]`` (relative equity loss); a name
        or a list of names means distress 1 for those institutions.
    weights : {"assets", "equity", "equal"} or array_like
        Relative economic values ``v`` (see :func:`economic_weights`).

    Returns
    -------
    DebtRankResult

    Notes
    -----
    Battiston, S., Puliga, M., Kaushik, R., Tasca, P. & Caldarelli, G. (2012).
    DebtRank: too central to fail? Financial networks, the FED and systemic
    risk. *Scientific Reports* 2, 541 (section Methods).

    In this package's convention the creditor ``c`` is exposed to the debtor
    ``d`` for ``L[d, c]``; the impact of ``d`` on ``c`` is
    ``W[d, c] = min(1, L[d, c] / E_c)`` with ``E_c`` the capital of ``c``.
    Every institution is Undistressed, Distressed or Inactive. At round 0 the
    shocked ones (``h > 0``) are Distressed. At each round::

        h_c(t) = min(1, h_c(t-1) + sum_{d Distressed at t-1} W[d, c] * h_d(t-1))
        Distressed at t-1  ->  Inactive at t   (distress is passed on once)
        Undistressed with h_c(t) > 0  ->  Distressed at t

    until nobody is Distressed. ``R = sum_j v_j h_j(T) - sum_j v_j h_j(0)``.
    Creditors with capital ``<= 0`` have no buffer: any distress reaching them
    sets ``h = 1``.

    Hand-derived example (the module's doctest): A owes B 4, B owes C 6;
    external assets 10, 4, 4, so capital ``E = (10-4, 4+4-6, 4+6) = (6, 2, 10)``
    and ``W[A, B] = min(1, 4/2) = 1``, ``W[B, C] = min(1, 6/10) = 0.6``. Shock
    A fully (``h_A = 1``):

    - round 1: ``h_B = min(1, 0 + 1 * 1) = 1``; A becomes Inactive, B Distressed;
    - round 2: ``h_C = 0 + 0.6 * 1 = 0.6``; B Inactive, C Distressed;
    - round 3: C owes nobody; C Inactive; stop.

    With ``weights="equal"``: ``R = (1 + 1 + 0.6)/3 - 1/3 = 1.6/3 = 0.5333``;
    with asset weights ``v = (10, 8, 10)/28``: ``R = (8 + 6)/28 = 0.5``.

    Examples
    --------
    >>> import contagion
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 4, 0], [0, 0, 6], [0, 0, 0]], external_assets=[10, 4, 4], names=["A", "B", "C"])
    >>> res = debtrank(net, "A", weights="equal")
    >>> res.distress.tolist(), round(res.value, 4), res.distress_round.tolist()
    ([1.0, 1.0, 0.6], 0.5333, [0, 1, 2])
    >>> round(debtrank(net, "A").value, 4)
    0.5
    """
    refuse_priority(net, "DebtRank")
    h0 = _initial_distress(net, shock)
    v = economic_weights(net, weights)
    WT, LT_bad = _exposure_matrices(net, cap=True)
    n = net.n
    h = h0.copy()
    distressed = h > 0          # state D
    inactive = np.zeros(n, dtype=bool)
    d_round = np.where(distressed, 0, -1).astype(np.int64)
    f_round = np.where(h >= 1.0, 0, -1).astype(np.int64)
    t = 0
    while distressed.any():
        t += 1
        h_new = _propagate(WT, LT_bad, h, np.where(distressed, h, 0.0))
        inactive = inactive | distressed
        new_d = ~inactive & (h_new > 0)
        d_round[(d_round < 0) & (h_new > 0)] = t
        f_round[(f_round < 0) & (h_new >= 1.0)] = t
        distressed = new_d
        h = h_new
    value = float(np.sum(v * h) - np.sum(v * h0))
    return DebtRankResult(network=net, initial=h0, distress=h, distress_round=d_round, default_round=f_round,
                          weights=v, value=value, iterations=t, method="debtrank")


def differential_debtrank(net, shock: Any, *, weights: str | Sequence[float] | np.ndarray = "assets",
                          tol: float = 1e-12, max_iter: int = 100_000) -> DebtRankResult:
    """Differential DebtRank (Bardoscia et al. 2015): every increment of distress is passed on.

    Parameters
    ----------
    net : FinancialNetwork
    shock : array_like (n,), mapping name -> distress, str or list of str
        Initial distress ``h(0)`` in ``[0, 1]``.
    weights : {"assets", "equity", "equal"} or array_like
        Relative economic values ``v``.
    tol : float
        Stop when no distress changes by more than ``tol``.
    max_iter : int
        Round budget; :class:`~contagion.ConvergenceError` beyond it.

    Returns
    -------
    DebtRankResult

    Notes
    -----
    Bardoscia, M., Battiston, S., Caccioli, F. & Caldarelli, G. (2015).
    DebtRank: a microscopic foundation for shock propagation. *PLoS ONE*
    10(6), e0130406 (equation for the dynamics of ``h``).

    With the leverage matrix ``Lambda[c, d] = L[d, c] / E_c`` (not capped)
    and ``h(-1) = 0``::

        h_c(t+1) = min(1, h_c(t) + sum_d Lambda[c, d] * (h_d(t) - h_d(t-1)))

    A creditor marks its claim on ``d`` down by the *increment* of ``d``'s
    distress, whenever it happens, so a node keeps passing distress on. On a
    network without cycles where no node is hit twice, both versions agree;
    they differ when distress reaches a node after it has passed it on.

    Hand-derived example: A owes B 2 and C 2, C owes B 2; B owes D 4;
    external assets A 10, B 4, C 3, D 4, so capital ``E = (10 - 4, 4 + 4 - 4,
    3 + 2 - 2, 4 + 4) = (6, 4, 3, 8)``.
    Leverages: ``Lambda[B, A] = 2/4``, ``Lambda[C, A] = 2/3``,
    ``Lambda[B, C] = 2/4``, ``Lambda[D, B] = 4/8``. Shock ``h_A = 0.6``:

    - t=1: ``h_B = 0.5 * 0.6 = 0.3``, ``h_C = 2/3 * 0.6 = 0.4``;
    - t=2: ``h_B = 0.3 + 0.5 * 0.4 = 0.5``; ``h_D = 0.5 * 0.3 = 0.15``;
    - t=3: ``h_D = 0.15 + 0.5 * (0.5 - 0.3) = 0.25``; then nothing changes.

    Original DebtRank stops D at 0.15: B passed its distress on at t=2 and
    was Inactive when C's distress arrived.

    Examples
    --------
    >>> import contagion
    >>> L = [[0, 2, 2, 0], [0, 0, 0, 4], [0, 2, 0, 0], [0, 0, 0, 0]]
    >>> net = contagion.FinancialNetwork.from_matrix(L, external_assets=[10, 4, 3, 4],
    ...                                              names=["A", "B", "C", "D"])
    >>> differential_debtrank(net, {"A": 0.6}).distress.round(12).tolist()
    [0.6, 0.5, 0.4, 0.25]
    >>> debtrank(net, {"A": 0.6}).distress.round(12).tolist()
    [0.6, 0.5, 0.4, 0.15]
    """
    refuse_priority(net, "differential DebtRank")
    h0 = _initial_distress(net, shock)
    v = economic_weights(net, weights)
    WT, LT_bad = _exposure_matrices(net, cap=False)
    h_prev = np.zeros(net.n)
    h = h0.copy()
    d_round = np.where(h > 0, 0, -1).astype(np.int64)
    f_round = np.where(h >= 1.0, 0, -1).astype(np.int64)
    t = 0
    while True:
        dh = h - h_prev
        if float(np.max(dh, initial=0.0)) <= tol:
            break
        if t >= max_iter:
            raise ConvergenceError("differential DebtRank did not settle", iterations=t,
                                   residual=float(np.max(dh)))
        t += 1
        h_new = _propagate(WT, LT_bad, h, dh)
        d_round[(d_round < 0) & (h_new > 0)] = t
        f_round[(f_round < 0) & (h_new >= 1.0)] = t
        h_prev, h = h, h_new
    value = float(np.sum(v * h) - np.sum(v * h0))
    return DebtRankResult(network=net, initial=h0, distress=h, distress_round=d_round, default_round=f_round,
                          weights=v, value=value, iterations=t, method="differential-debtrank")


#: name -> function(network, ...) for every contagion channel of this module
#: (``threshold`` is also a clearing method in :data:`contagion.CLEARING_METHODS`).
CONTAGION_CHANNELS: dict[str, Callable[..., Any]] = {
    "debtrank": debtrank,
    "differential-debtrank": differential_debtrank,
    "threshold": threshold_cascade,
}
