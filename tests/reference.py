"""Slow, obviously-correct reference implementations of clearing, for the tests.

Everything here is dense numpy/scipy code written independently of
:mod:`contagion.clearing` (it recomputes ``pbar`` and ``Pi`` from ``L`` itself and
never calls the library's solver), so that agreement between the two is
evidence, not tautology. Use it only on small networks.

Conventions (DESIGN.md section 2): ``L[i, j]`` is what ``i`` owes ``j``;
``pbar = L.sum(1) + ext``; ``Pi = L / pbar`` row-wise; a defaulting institution
pays ``min(cap, alpha * e + beta * Pi.T @ p)``; ties at the threshold are solvent;
institutions forced to default pay at most ``cap = recovery * pbar``.

Four references:

- :func:`en_lp` -- the greatest Eisenberg--Noe clearing vector as the linear
  programme ``max sum(p)`` s.t. ``0 <= p <= cap``, ``p - Pi.T p <= e``
  (Eisenberg & Noe 2001, Lemma 4: any strictly increasing objective over the
  feasible set is maximised by the greatest clearing vector), solved by HiGHS'
  dual simplex, whose vertex solution is accurate to round-off;
- :func:`fda_dense` -- the fictitious-default algorithm (Eisenberg & Noe 2001,
  section 3; Rogers & Veraart 2013, section 3.2) with ``numpy.linalg.solve``;
- :func:`rv_bruteforce` -- every clearing vector of a small network, by
  enumerating which institutions pay in full (for each choice the payments
  solve a linear system; the choice is kept when it is self-consistent); the
  greatest one is their componentwise maximum;
- :func:`least_clearing_vector` -- the least Eisenberg--Noe clearing vector by
  Picard iteration from ``p = 0`` (Kleene: the map is monotone and continuous,
  so the increasing iterates converge to its least fixed point), finished by an
  exact linear solve on the set it identifies; :func:`is_unique_bruteforce`
  compares it with the greatest one.

>>> import numpy as np
>>> L = np.array([[0, 20, 10], [5, 0, 24], [10, 0, 0]], dtype=float)
>>> e = np.array([10, 10, 10.0])
>>> (en_lp(L, e).payments * 11).round(9).tolist()
[270.0, 290.0, 110.0]
>>> ref = fda_dense(L, e)
>>> ref.defaulted.tolist(), ref.default_round.tolist()
([True, True, False], [0, 1, -1])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

#: Slack, relative to an institution's own obligations, under which a shortfall counts as
#: a tie (solvent): round-off only (the solvers here are accurate to ~1e-15 on the
#: well-conditioned networks they are used on).
REF_TIE = 1e-12


@dataclass(frozen=True)
class Reference:
    """Output of a reference solver (arrays aligned with the network)."""

    payments: np.ndarray
    defaulted: np.ndarray
    default_round: np.ndarray | None = None
    #: ``e + Pi.T @ p - pbar`` at the answer (``nan`` for institutions without obligations)
    gaps: np.ndarray | None = None
    #: smallest ``|gap| / max(pbar)`` over institutions with obligations that are not forced
    margin: float = np.inf
    #: :func:`fda_exact` only: smallest nonzero ``|resources - threshold| / threshold`` met after round 0,
    #: each institution on its own scale (round 0 is decided exactly by the solvers, later rounds compare
    #: with solved payments, so a relative gap below ~1e-12 there is a legitimate tie in floats)
    own_margin: float = np.inf
    #: :func:`fda_exact` only: whether an exact tie (resources == threshold) was met after round 0
    later_ties: bool = False


def arrays(net):
    """``(L dense, e, ext, forced, recovery)`` of a :class:`~contagion.FinancialNetwork`."""
    return (net.liabilities.toarray(), np.asarray(net.external_assets, float),
            np.asarray(net.external_liabilities, float), np.asarray(net.forced_default, bool),
            np.asarray(net.forced_recovery, float))


def _setup(L, e, ext, forced, recovery):
    L = np.asarray(L, dtype=float)
    n = L.shape[0]
    e = np.asarray(e, dtype=float)
    ext = np.zeros(n) if ext is None else np.asarray(ext, dtype=float)
    pbar = L.sum(axis=1) + ext
    Pi = np.zeros_like(L)
    pos = pbar > 0
    Pi[pos] = L[pos] / pbar[pos, None]
    forced = np.zeros(n, bool) if forced is None else np.asarray(forced, bool) & pos
    recovery = np.zeros(n) if recovery is None else np.asarray(recovery, float)
    cap = np.where(forced, recovery * pbar, pbar)
    return L, e, ext, pbar, Pi, forced, cap


def clearing_map(Pi, pbar, e, cap, forced, p, alpha=1.0, beta=1.0, tie=0.0):
    """``T(p)``: solvent institutions pay ``pbar``, the others ``min(cap, alpha e + beta Pi.T p)``."""
    inflow = Pi.T @ p
    short = forced | (e + inflow < pbar - tie)
    out = np.where(short, np.minimum(cap, alpha * e + beta * inflow), pbar)
    return np.where(pbar > 0, np.maximum(out, 0.0), 0.0)


def _defaults_of(Pi, pbar, e, forced, p):
    """``(defaulted, gaps, margin)`` read from payments ``p`` (ties solvent, slack ``REF_TIE * pbar``)."""
    inflow = Pi.T @ p
    has = pbar > 0
    gap = np.where(has, e + inflow - pbar, np.nan)
    margin = np.min(np.abs(gap[has & ~forced]), initial=np.inf) / max(pbar.max(), 1e-300)
    return has & (forced | (gap < -REF_TIE * pbar)), gap, float(margin)


# ----------------------------------------------------------------------------- (a) LP
def en_lp(L, e, ext=None, forced=None, recovery=None) -> Reference:
    """Greatest Eisenberg--Noe clearing vector as a linear programme (HiGHS dual simplex).

    ``max sum(p)`` s.t. ``p - Pi.T @ p <= e``, ``0 <= p <= cap``. Forced
    defaults only lower the cap. ``defaulted`` is read from the answer with
    the tie slack :data:`REF_TIE`; ``margin`` says how close the closest
    institution is to its threshold.
    """
    from scipy.optimize import linprog

    L, e, ext, pbar, Pi, forced, cap = _setup(L, e, ext, forced, recovery)
    n = L.shape[0]
    A = np.eye(n) - Pi.T
    res = linprog(-np.ones(n), A_ub=A, b_ub=e, bounds=list(zip(np.zeros(n), cap)), method="highs-ds",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status != 0:
        raise RuntimeError(f"LP reference failed: {res.message}")
    p = np.clip(res.x, 0.0, cap)
    p = np.where(pbar > 0, p, 0.0)
    defaulted, gaps, margin = _defaults_of(Pi, pbar, e, forced, p)
    return Reference(payments=p, defaulted=defaulted, gaps=gaps, margin=margin)


# ----------------------------------------------------------------------------- (b) dense FDA
def fda_dense(L, e, ext=None, forced=None, recovery=None, alpha=1.0, beta=1.0) -> Reference:
    """Fictitious-default algorithm, dense, with ``numpy.linalg.solve``.

    Round 0: everyone pays in full (forced institutions too); the forced
    institutions and those still short default. Each round, solve for the
    payments given the default set (defaulters pay ``alpha e + beta * inflow``
    unless a forced institution's cap binds), then add the institutions now
    short; stop when nobody new defaults. ``default_round`` is the round in
    which an institution joined.
    """
    L, e, ext, pbar, Pi, forced, cap = _setup(L, e, ext, forced, recovery)
    tie = REF_TIE * pbar
    has = pbar > 0
    PT = Pi.T
    D = has & (forced | (e + PT @ pbar < pbar - tie))
    rounds = np.where(D, 0, -1)
    capped = forced.copy()          # forced institutions whose cap binds (a forced one stays uncapped once freed)
    p = pbar.copy()
    k = 0
    while True:
        while True:
            lin = D & ~capped
            fixed = np.where(capped, cap, pbar)
            fixed[lin] = 0.0
            idx = np.flatnonzero(lin)
            p = fixed.copy()
            if idx.size:
                A = np.eye(idx.size) - beta * PT[np.ix_(idx, idx)]
                b = alpha * e[idx] + beta * PT[idx] @ fixed
                p[idx] = np.linalg.solve(A, b)
            freed = capped & (alpha * e + beta * PT @ p < cap - tie)
            if not freed.any():
                break
            capped &= ~freed
        new = has & ~D & (e + PT @ p < pbar - tie)
        if not new.any():
            break
        k += 1
        rounds[new] = k
        D |= new
    p = np.where(has, np.clip(p, 0.0, pbar), 0.0)
    _, gaps, margin = _defaults_of(Pi, pbar, e, forced, p)
    return Reference(payments=p, defaulted=D, default_round=rounds, gaps=gaps, margin=margin)


# ----------------------------------------------------------------------------- (c) brute force
def all_clearing_vectors(L, e, ext=None, forced=None, recovery=None, alpha=1.0, beta=1.0, max_n=12):
    """Every clearing vector reachable by enumeration, for ``n <= max_n``.

    Each institution with obligations is either *full* (pays ``pbar``; needs
    ``e + inflow >= pbar``, ties solvent) or *linear* (pays ``alpha e + beta
    inflow``; needs ``e + inflow < pbar``); a forced one is either *capped*
    (pays ``cap``; needs ``alpha e + beta inflow >= cap``) or linear (needs
    ``alpha e + beta inflow <= cap``). For each of the ``2**m`` choices the
    payments solve a linear system; consistent choices are clearing vectors.
    Choices whose system is singular (a closed cycle with no outside money,
    ``beta = 1``) are skipped: they only add vectors below one that is found.
    """
    L, e, ext, pbar, Pi, forced, cap = _setup(L, e, ext, forced, recovery)
    n = L.shape[0]
    if n > max_n:
        raise ValueError(f"brute force is for n <= {max_n}")
    tol = REF_TIE * pbar
    has = np.flatnonzero(pbar > 0)
    PT = Pi.T
    found = []
    for choice in itertools.product((False, True), repeat=has.size):
        lin = np.zeros(n, bool)
        lin[has[np.array(choice, dtype=bool)]] = True
        fixed = np.where(forced, cap, pbar)
        fixed[lin] = 0.0
        fixed[pbar == 0] = 0.0
        idx = np.flatnonzero(lin)
        p = fixed.copy()
        if idx.size:
            A = np.eye(idx.size) - beta * PT[np.ix_(idx, idx)]
            if np.linalg.cond(A) > 1e12:
                continue
            p[idx] = np.linalg.solve(A, alpha * e[idx] + beta * PT[idx] @ fixed)
        if (p < -tol).any():
            continue
        inflow = PT @ p
        full = ~lin & ~forced & (pbar > 0)
        capped = ~lin & forced
        lf, ln = lin & forced, lin & ~forced
        ok = (np.all(e[full] + inflow[full] >= pbar[full] - tol[full])
              and np.all(e[ln] + inflow[ln] < pbar[ln] - tol[ln])
              and np.all(alpha * e[capped] + beta * inflow[capped] >= cap[capped] - tol[capped])
              and np.all(alpha * e[lf] + beta * inflow[lf] <= cap[lf] + tol[lf]))
        if ok:
            found.append(np.clip(p, 0.0, pbar))
    return found


def rv_bruteforce(L, e, ext=None, forced=None, recovery=None, alpha=1.0, beta=1.0) -> Reference:
    """Greatest Rogers--Veraart clearing vector of a small network by enumeration.

    The clearing vectors form a complete lattice (Tarski; Rogers & Veraart
    2013, Theorem 3.1), so the componentwise maximum of all of them is itself
    one of them; that is checked, not assumed.
    """
    L2, e2, ext2, pbar, Pi, forced2, cap = _setup(L, e, ext, forced, recovery)
    vecs = all_clearing_vectors(L, e, ext, forced, recovery, alpha, beta)
    if not vecs:
        raise RuntimeError("no clearing vector found (singular system?)")
    top = np.max(vecs, axis=0)
    tol = 1e-9 * max(pbar.max(), 1e-300)
    if not any(np.max(np.abs(v - top)) <= tol for v in vecs):
        raise RuntimeError("componentwise maximum is not a clearing vector")
    defaulted, gaps, margin = _defaults_of(Pi, pbar, e2, forced2, top)
    return Reference(payments=top, defaulted=defaulted, gaps=gaps, margin=margin)


# ----------------------------------------------------------------------------- (d) uniqueness
def least_clearing_vector(L, e, ext=None, forced=None, recovery=None, max_iter=500_000) -> np.ndarray:
    """Least Eisenberg--Noe clearing vector (small networks).

    Picard iteration ``p <- T(p)`` from ``p = 0`` increases to the least fixed
    point (``T`` is monotone and continuous). Once it has settled, the
    institutions paying their cap are fixed and the rest solved exactly: their
    payments are the least non-negative solution of ``p = e + Pi.T p``, which is
    zero off the support the iteration reached (additions of non-negative
    numbers keep exact zeros) and the unique solution of the linear system on
    it. The answer is checked to be a fixed point next to the iterate.
    """
    L, e, ext, pbar, Pi, forced, cap = _setup(L, e, ext, forced, recovery)
    n = L.shape[0]
    scale = max(pbar.max(), 1e-300)
    p = np.zeros(n)
    for _ in range(max_iter):
        q = np.minimum(cap, e + Pi.T @ p)
        q = np.where(pbar > 0, q, 0.0)
        if np.max(np.abs(q - p)) <= 1e-15 * scale:
            p = q
            break
        p = q
    else:
        raise RuntimeError("Picard iteration from 0 did not settle")
    at_cap = (pbar > 0) & (p >= cap - 1e-9 * scale)
    support = (pbar > 0) & ~at_cap & (p > 0)
    exact = np.where(at_cap, cap, 0.0)
    idx = np.flatnonzero(support)
    if idx.size:
        A = np.eye(idx.size) - Pi.T[np.ix_(idx, idx)]
        exact[idx] = np.linalg.solve(A, e[idx] + Pi.T[idx] @ exact)
    T = np.where(pbar > 0, np.minimum(cap, e + Pi.T @ exact), 0.0)
    if np.max(np.abs(T - exact)) > 1e-9 * scale or np.max(np.abs(exact - p)) > 1e-6 * scale:
        raise RuntimeError("least clearing vector could not be pinned down")
    return exact


def is_unique_bruteforce(L, e, ext=None, forced=None, recovery=None) -> bool:
    """Whether the Eisenberg--Noe clearing vector is unique: least == greatest (within 1e-9 of max pbar)."""
    pbar = np.asarray(L, dtype=float).sum(axis=1) + (0.0 if ext is None else np.asarray(ext, dtype=float))
    top = en_lp(L, e, ext, forced, recovery).payments
    low = least_clearing_vector(L, e, ext, forced, recovery)
    return bool(np.max(np.abs(top - low)) <= 1e-9 * max(pbar.max(), 1e-300))


# ----------------------------------------------------------------------------- exact rational FDA
def _solve_exact(A, b):
    """Solve ``A x = b`` over the rationals (Gauss-Jordan on lists of Fractions)."""
    m = len(b)
    M = [list(A[i]) + [b[i]] for i in range(m)]
    for c in range(m):
        piv = next((r for r in range(c, m) if M[r][c] != 0), None)
        if piv is None:
            raise ZeroDivisionError("singular system")
        M[c], M[piv] = M[piv], M[c]
        inv = 1 / M[c][c]
        M[c] = [v * inv for v in M[c]]
        for r in range(m):
            if r != c and M[r][c] != 0:
                f = M[r][c]
                M[r] = [a - f * bb for a, bb in zip(M[r], M[c])]
    return [M[i][m] for i in range(m)]


def fda_exact(L, e, ext=None, forced=None, recovery=None, alpha=1.0, beta=1.0) -> Reference:
    """The fictitious-default algorithm in exact rational arithmetic (``fractions``), for tiny networks.

    The float inputs are taken at their exact binary values, so ties are exact
    (``resources == pbar`` is solvent) and nothing is rounded until the answer
    is converted back to floats. Same rounds as :func:`fda_dense`. ``margin``
    is the smallest *nonzero* distance to a threshold met on the way (relative
    to ``max(pbar)``): below ~1e-12 the float solver legitimately calls it a tie.
    """
    from fractions import Fraction as Q

    L = np.asarray(L, dtype=float)
    n = L.shape[0]
    ext = np.zeros(n) if ext is None else np.asarray(ext, dtype=float)
    forced = np.zeros(n, bool) if forced is None else np.asarray(forced, bool)
    recovery = np.zeros(n) if recovery is None else np.asarray(recovery, dtype=float)
    a, b_ = Q(float(alpha)), Q(float(beta))
    Lq = [[Q(float(v)) for v in row] for row in L]
    eq = [Q(float(v)) for v in np.asarray(e, dtype=float)]
    pbar = [sum(Lq[i]) + Q(float(ext[i])) for i in range(n)]
    Pi = [[Lq[i][j] / pbar[i] if pbar[i] > 0 else Q(0) for j in range(n)] for i in range(n)]
    forced = [bool(forced[i]) and pbar[i] > 0 for i in range(n)]
    cap = [Q(float(recovery[i])) * pbar[i] if forced[i] else pbar[i] for i in range(n)]

    def inflow(p, i):
        return sum(Pi[j][i] * p[j] for j in range(n) if Pi[j][i])

    scale = max(pbar) if n else Q(0)
    gaps = []  # every nonzero |resources - threshold| / scale the algorithm compared
    own = []   # ... / threshold, after round 0
    after0 = [False]

    ties = [False]

    def short(lhs, rhs):
        if lhs == rhs and after0[0] and rhs > 0:
            ties[0] = True
        if lhs != rhs and scale > 0:
            gaps.append(abs(lhs - rhs) / scale)
            if after0[0] and rhs > 0:
                own.append(abs(lhs - rhs) / rhs)
        return lhs < rhs

    has = [pbar[i] > 0 for i in range(n)]
    D = [has[i] and (forced[i] or short(eq[i] + inflow(pbar, i), pbar[i])) for i in range(n)]
    rounds = [0 if D[i] else -1 for i in range(n)]
    capped = list(forced)
    k = 0
    after0[0] = True
    while True:
        while True:
            lin = [D[i] and not capped[i] for i in range(n)]
            fixed = [Q(0) if lin[i] else (cap[i] if capped[i] else pbar[i]) for i in range(n)]
            idx = [i for i in range(n) if lin[i]]
            p = list(fixed)
            if idx:
                A = [[(1 if r == c else 0) - b_ * Pi[c][r] for c in idx] for r in idx]
                rhs = [a * eq[r] + b_ * inflow(fixed, r) for r in idx]
                for r, v in zip(idx, _solve_exact(A, rhs)):
                    p[r] = v
            freed = [capped[i] and short(a * eq[i] + b_ * inflow(p, i), cap[i]) for i in range(n)]
            if not any(freed):
                break
            capped = [capped[i] and not freed[i] for i in range(n)]
        new = [has[i] and not D[i] and short(eq[i] + inflow(p, i), pbar[i]) for i in range(n)]
        if not any(new):
            break
        k += 1
        for i in range(n):
            if new[i]:
                rounds[i] = k
                D[i] = True
    pay = np.array([float(max(Q(0), min(p[i], pbar[i]))) if has[i] else 0.0 for i in range(n)])
    for i in range(n):
        if has[i] and not forced[i]:
            short(eq[i] + inflow(p, i), pbar[i])
    big = Q(10) ** 300       # margins are capped there (a ratio of amounts can exceed the float range)
    margin = float(min(min(gaps), big)) if gaps else np.inf
    return Reference(payments=pay, defaulted=np.array(D, bool), default_round=np.array(rounds), margin=margin,
                     own_margin=float(min(min(own), big)) if own else np.inf, later_ties=ties[0])
