"""The threshold default cascade (Furfine 2003; Gai & Kapadia 2010), registered as the clearing method ``"threshold"``.

It lives with the clearing methods because it returns an honest
:class:`~contagion.ClearingResult`; :mod:`contagion.channels` lists it among
the other contagion channels (DebtRank and its differential variant).
"""

from __future__ import annotations

import numpy as np

from ..errors import ContagionError
from .core import tie_tolerance
from .result import ClearingResult

__all__ = ["threshold_cascade"]


def threshold_cascade(net, recovery: float = 0.0) -> ClearingResult:
    """Threshold default cascade (Furfine 2003; Gai & Kapadia 2010) as a clearing result.

    An institution fails once its losses on failed debtors exceed its
    capital. A failed institution pays the exogenous fraction ``recovery`` of
    its obligations (its creditors lose ``1 - recovery`` of their claims);
    every other institution pays in full. Failures come in rounds, reported as
    ``default_round`` (0 = insolvent before any contagion, or forced to
    default by a shock; k = failed in round k).

    Parameters
    ----------
    net : FinancialNetwork
    recovery : float
        Fraction of obligations a failed institution pays, in ``[0, 1)``
        (1 would mean failing costs nobody anything, and a failed institution
        would pay in full; use Eisenberg--Noe for endogenous recovery).

    Returns
    -------
    ClearingResult
        ``payments = pbar`` for survivors and ``recovery * pbar`` for failed
        institutions (``min(recovery, forced_recovery) * pbar`` for those
        forced to default); ``equity = e + Pi.T @ p - pbar``; ``defaulted`` =
        failed; ``method = "threshold"``. Institutions without obligations
        never fail (nobody is owed anything by them), as in Eisenberg--Noe.

    Notes
    -----
    Furfine, C. H. (2003). Interbank exposures: quantifying the risk of
    contagion. *Journal of Money, Credit and Banking* 35(1), 111-128
    (sequential default algorithm, section 3). Gai, P. & Kapadia, S. (2010).
    Contagion in financial networks. *Proc. R. Soc. A* 466, 2401-2423
    (solvency condition, section 2).

    The round-k failure condition, for creditor ``c`` with capital
    ``K_c = e_c + interbank_assets_c - pbar_c``::

        (1 - recovery) * sum_{d failed} L[d, c]  >  K_c        (ties survive)

    is the same as ``e_c + (Pi.T p)_c - pbar_c < 0`` with ``p`` as above,
    because ``(Pi.T p)_c = interbank_assets_c - (1 - recovery) * sum_{d
    failed} L[d, c]``. So the result is a clearing vector of the map
    ``p_i = pbar_i if equity_i >= 0 else recovery * pbar_i``, reached from
    ``p = pbar`` (the greatest such vector, because the map is monotone).

    Hand-derived example (a chain): A owes B 10, B owes C 10 and 5 outside, C
    owes 8 outside; external assets 5, 6, 0.5. Capital: A ``5 - 10 = -5``
    (fails in round 0), B ``6 + 10 - 15 = 1``, C ``0.5 + 10 - 8 = 2.5``. With
    recovery 0.5, B loses ``0.5 * 10 = 5 > 1`` and fails in round 1; C loses
    ``0.5 * 10 = 5 > 2.5`` and fails in round 2. Payments
    ``(5, 7.5, 4)``. With recovery 0.9, B loses 1, not more than its capital,
    so only A fails.

    Examples
    --------
    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> res = contagion.clear(net, method="threshold", recovery=0.5)
    >>> res.payments.tolist(), res.default_round.tolist()
    ([5.0, 7.5, 4.0], [0, 1, 2])
    >>> contagion.clear(net, method="threshold", recovery=0.9).default_round.tolist()
    [0, -1, -1]
    """
    try:
        R = float(recovery)
    except (TypeError, ValueError):
        raise ContagionError(f"recovery must be a number in [0, 1), got {recovery!r}") from None
    if not (0.0 <= R < 1.0):
        raise ContagionError(f"recovery must lie in [0, 1) (fraction of obligations a failed institution pays), "
                             f"got {R}")
    from .priority import refuse_priority

    refuse_priority(net, "threshold")
    pbar = net.total_obligations
    PiT = net.PiT
    e = net.external_assets
    tie = tie_tolerance(pbar)
    has_obl = pbar > 0
    rate = np.where(net.forced_default, np.minimum(R, net.forced_recovery), R)
    failed = has_obl & (net.forced_default | (net.equity_before < -tie))
    rounds = np.where(failed, 0, -1).astype(np.int64)
    k = 0
    while True:
        p = np.where(failed, rate * pbar, pbar)
        equity = e + PiT @ p - pbar
        new = has_obl & ~failed & (equity < -tie)
        if not new.any():
            break
        k += 1
        rounds[new] = k
        failed = failed | new
    return ClearingResult(
        network=net, payments=p, defaulted=failed, equity=equity, default_round=rounds, shortfall=pbar - p,
        iterations=k + 1, converged=True, residual=0.0, method="threshold", unique=None,
        solver="threshold-rounds", params={"recovery": R},
    )
