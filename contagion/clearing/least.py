"""The least Eisenberg--Noe clearing vector, exactly, from the greatest one.

Where clearing vectors are not unique (a closed ring of obligations without
outside money), the greatest vector says "the ring pays in full" and the least
"nobody in the ring pays". Both are clearing states; :func:`least_payments`
computes the least one from the greatest.

Why this is exact
-----------------
Let ``p+`` be the greatest and ``p-`` the least clearing vector and
``d = p+ - p- >= 0``. All clearing vectors give every institution the same
equity ``e + Pi.T p - p`` (Eisenberg & Noe 2001, Theorem 1 (ii)), so
``Pi.T d = d``. Summing, ``sum_i d_i (1 - r_i) = 0`` with ``r_i`` the share of
``i``'s obligations owed inside the network: ``d`` lives on institutions
without outside liabilities, and, as a non-negative fixed point of ``Pi.T``,
on closed strongly connected components (recurrent classes: nothing owed
outside the component). On such a component ``C`` every member defaults under
``p-`` (``d_i > 0``) and pays ``e_i + (Pi.T p-)_i``; summing over ``C`` gives
``sum_C e_i + (what C receives from outside) = 0``, and the same holds under
``p+`` (same equity). So ``C`` is one of the groups :func:`closed_groups`
finds (no outside assets or liabilities, receives nothing from outside under
``p+``, pays something inside), and under ``p-`` it pays ``p+_C - d_C``; since
``p+_C`` is itself a fixed point of ``Pi.T`` on the irreducible ``C`` (a
multiple of its stationary vector, like ``d_C``), the least choice is ``0``.
Setting ``p+`` to zero on those groups is a clearing vector (the groups owe
nothing outside themselves and receive nothing from outside), and by the
argument above no clearing vector is lower: it is ``p-``.

The groups are found as in :func:`~contagion.clearing.core.is_unique`: among
the candidates of :func:`~contagion.clearing.core.zero_money_closed` (one pass
over ``n``; nothing more in the usual case of no candidates), the strongly
connected sink components of at least two members.

>>> import contagion
>>> res = contagion.clear(contagion.load_dataset("ring"))
>>> res.payments.tolist(), res.least_payments.tolist()
([10.0, 10.0, 10.0, 1.0, 6.0], [0.0, 0.0, 0.0, 1.0, 6.0])
"""

from __future__ import annotations

import numpy as np

from .core import closed_groups

__all__ = ["closed_groups", "least_payments"]


def least_payments(net, p: np.ndarray) -> np.ndarray:
    """The least Eisenberg--Noe clearing vector of ``net``, given its greatest ``p``.

    ``p`` with zeros on every :func:`closed_groups` group (see the module
    docstring for the proof that this is the least clearing vector); equal to
    ``p`` when the clearing vector is unique.

    Parameters
    ----------
    net : FinancialNetwork
    p : ndarray
        The greatest clearing vector (``contagion.clear(net).payments``).

    Returns
    -------
    ndarray
        A new array aligned with ``net.names``.

    Notes
    -----
    Eisenberg, L. & Noe, T. H. (2001), *Management Science* 47(2), Theorem 1
    (a complete lattice of clearing vectors with the same equity) and Theorem 2
    (uniqueness without closed groups lacking outside money).
    """
    out = np.array(p, dtype=np.float64, copy=True)
    for members in closed_groups(net.liabilities, net.external_liabilities, net.external_assets, out, net.PiT):
        out[members] = 0.0
    return out
