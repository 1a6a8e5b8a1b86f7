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
import scipy.sparse as sp

from .core import RESIDUAL_RTOL, zero_money_closed

__all__ = ["closed_groups", "least_payments"]


def closed_groups(L: sp.csr_array, ext_liab: np.ndarray, e: np.ndarray, p: np.ndarray,
                  PiT: sp.csr_array) -> list[np.ndarray]:
    """The closed groups on which the clearing vector ``p`` (the greatest) is not the least.

    Each group is a strongly connected sink component (its members owe
    everything inside it) of at least two institutions without outside assets
    or liabilities, that receives nothing from outside under ``p`` and pays
    something inside. Returns their sorted member positions; ``[]`` when the
    clearing vector is unique (then :func:`~contagion.clearing.core.is_unique`
    is ``True``).

    >>> L = sp.csr_array(np.array([[0, 5.0, 0], [5.0, 0, 0], [0, 0, 0]]))
    >>> PiT = sp.csr_array(np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]))
    >>> [g.tolist() for g in closed_groups(L, np.zeros(3), np.zeros(3), np.array([5.0, 5.0, 0]), PiT)]
    [[0, 1]]
    """
    from scipy.sparse.csgraph import connected_components

    cand = zero_money_closed(L, ext_liab, e)
    if cand.size < 2:
        return []
    G = L[cand][:, cand]
    ncomp, labels = connected_components(G, directed=True, connection="strong")
    coo = G.tocoo()
    leaves = labels[coo.row] != labels[coo.col]
    out_comp = np.zeros(ncomp, dtype=bool)
    out_comp[labels[coo.row[leaves]]] = True
    size = np.bincount(labels, minlength=ncomp)
    scale = max(float(p.max()) if p.size else 0.0, 1e-300)
    groups = []
    for c in np.flatnonzero(~out_comp & (size > 1)):
        members = cand[labels == c]
        rows = PiT[members]
        from_outside = float(np.sum(rows @ p - rows[:, members] @ p[members]))
        if np.max(p[members]) > RESIDUAL_RTOL * scale and from_outside <= RESIDUAL_RTOL * scale * members.size:
            groups.append(np.sort(members))
    return groups


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
