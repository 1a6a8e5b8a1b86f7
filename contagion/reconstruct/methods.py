"""The reconstruction methods: maximum entropy (RAS), few links (greedy), the conditioned ensemble sampler."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import ContagionError, ConvergenceError, InvalidNetworkError

from .marginals import ENSEMBLE_BLOCK, Marginals, _Problem, _check_method, _problem_of


def _ras(prob: _Problem, tol: float = 1e-13, max_iter: int = 20_000) -> np.ndarray:
    """Maximum entropy by RAS on the links that can hold an amount.

    The links allowed are first the free ones. When RAS does not reach the totals on them, either no matrix has
    these totals (:func:`_min_density` then says which liabilities have no allowed creditor with room), or the
    totals leave some allowed links no room in any matrix (B owed 5 and owing 5, with A the only other one it
    may pay, must pay A; then what C owes can only go to B): such links are found from one matrix with the
    totals (:func:`_support_of`) and RAS runs on the others, where it converges -- the maximum-entropy matrix
    is then the limit RAS was creeping towards. Raises ConvergenceError if even that fails.
    """
    X, it, err = _ras_on(prob, prob.support(), tol, max_iter)
    if X is not None:
        return X
    feasible = _min_density(prob)              # raises when the totals cannot be matched at all
    X, it2, err = _ras_on(prob, _support_of(prob, feasible), tol, max_iter)
    if X is not None:
        return X
    raise ConvergenceError("maximum entropy (RAS) did not reach the totals on the links that can hold an amount; "
                           "use min-density", it + it2, err)


def _ras_on(prob: _Problem, links: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray | None, int, float]:
    """RAS from 1 on ``links``: ``(matrix or None when the totals were not reached, iterations, error)``."""
    X = links.astype(np.float64)
    if not X.any():
        return X, 0, 0.0
    scale = max(prob.total, 1e-300)
    err = math.inf
    for it in range(1, max_iter + 1):
        _scale_to(prob, X)
        err = float(np.abs(X.sum(axis=1) - prob.row).sum()) / scale
        if err <= tol:
            return X, it, err
    return None, max_iter, err


def _support_of(prob: _Problem, X0: np.ndarray) -> np.ndarray:
    """The free links that hold an amount in some matrix with the totals, from one such matrix ``X0``.

    An empty link (i, j) can take an amount exactly when an alternating cycle goes through it: add on (i, j),
    take from a link (i', j) that holds something, add on a free (i', j'), ... back to row i. In the graph with
    an arc row i -> column j for every free link and column j -> row i for every link holding an amount in
    ``X0``, that is: i and j in the same strongly connected component.

    >>> free = np.array([[False, False, False], [True, False, True], [False, True, False]])
    >>> prob = type("P", (), {"n": 3, "support": lambda self: free})()
    >>> X0 = np.array([[0, 0, 0], [5.0, 0, 0], [0, 5.0, 0]])      # B pays A 5, C pays B 5; B -> C holds nothing
    >>> _support_of(prob, X0).astype(int).tolist()
    [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    """
    from scipy.sparse.csgraph import connected_components

    n = prob.n
    free = prob.support()
    held = X0 > 0
    fi, fj = np.nonzero(free)
    hi, hj = np.nonzero(held)
    src = np.concatenate([fi, n + hj])
    dst = np.concatenate([n + fj, hi])
    graph = sp.csr_array((np.ones(src.size), (src, dst)), shape=(2 * n, 2 * n))
    _, label = connected_components(graph, directed=True, connection="strong")
    return held | (free & (label[:n, None] == label[None, n:]))


def _augment(prob: _Problem, X: np.ndarray, r: np.ndarray, c: np.ndarray) -> bool:
    """One augmenting path from a row with amount left to a column with room: +d on new links, -d on existing
    ones. Returns False when there is none (the remaining amounts cannot be placed)."""
    tol = prob.tol
    n = prob.n
    start = np.flatnonzero(r > tol)
    seen_r = np.zeros(n, dtype=bool)
    seen_c = np.zeros(n, dtype=bool)
    via_row = np.full(n, -1)     # column j reached from row via_row[j] (on a free link)
    via_col = np.full(n, -1)     # row i reached from column via_col[i] (by taking from X[i, j])
    seen_r[start] = True
    frontier = start
    while frontier.size:
        reach = prob.free[frontier] & ~seen_c[None, :]
        cols = np.flatnonzero(reach.any(axis=0))
        if not cols.size:
            return False
        via_row[cols] = frontier[np.argmax(reach[:, cols], axis=0)]
        seen_c[cols] = True
        done = cols[c[cols] > tol]
        if done.size:
            j = int(done[0])
            path = []                         # (i, j, sign)
            while True:
                i = int(via_row[j])
                path.append((i, j, 1))
                if via_col[i] < 0:
                    break
                j2 = int(via_col[i])
                path.append((i, j2, -1))
                j = j2
            i0 = path[-1][0]
            d = min(r[i0], c[path[0][1]], min((X[i, j] for i, j, s in path if s < 0), default=math.inf))
            for i, j, s in path:
                X[i, j] = max(X[i, j] + s * d, 0.0)
            r[i0] -= d
            c[path[0][1]] -= d
            return True
        back = X[:, cols] > tol                          # rows holding an amount in a reached column
        back[seen_r] = False
        rows = np.flatnonzero(back.any(axis=1))
        via_col[rows] = cols[np.argmax(back[rows], axis=1)]
        seen_r[rows] = True
        frontier = rows
    return False


def _min_density(prob: _Problem) -> np.ndarray:
    """Few links, greedily (see the module docstring): not always the fewest the totals allow."""
    n, tol = prob.n, prob.tol
    X = np.zeros((n, n))
    r, c = prob.row.copy(), prob.col.copy()
    while r.sum() > n * tol:
        open_ = prob.free & (r[:, None] > tol) & (c[None, :] > tol)
        if not open_.any():
            if not _augment(prob, X, r, c):
                left = [prob.names[k] for k in np.flatnonzero(r > tol)][:5]
                raise ContagionError(f"the totals cannot be matched with the links allowed: the liabilities "
                                     f"left at {', '.join(map(repr, left))} have no allowed creditor with room")
            continue
        amount = np.where(open_, np.minimum(r[:, None], c[None, :]), 0.0)
        existing = open_ & (X > 0)
        if existing.any():
            score = np.where(existing, amount, -1.0)
        else:
            both = open_ & (np.abs(r[:, None] - c[None, :]) <= tol)     # one link closes both totals
            score = np.where(both if both.any() else open_, amount, -1.0)
        i, j = np.unravel_index(int(np.argmax(score)), score.shape)
        x = amount[i, j]
        X[i, j] += x
        r[i] -= x
        c[j] -= x
        r[i] = 0.0 if r[i] <= tol else r[i]
        c[j] = 0.0 if c[j] <= tol else c[j]
    return X


def _scale_to(prob: _Problem, X: np.ndarray) -> None:
    """One RAS pass in place: rows scaled to their totals, then columns to theirs."""
    rs = X.sum(axis=1)
    X *= np.divide(prob.row, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
    cs = X.sum(axis=0)
    X *= np.divide(prob.col, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]


def _polish(prob: _Problem, X: np.ndarray, rounds: int = 3) -> np.ndarray:
    """A few RAS passes on ``X``'s own links: removes the rounding drift of many small moves."""
    for _ in range(rounds):
        _scale_to(prob, X)
    return X


@dataclass(frozen=True)
class _Sampler:
    """Everything a worker needs to draw ensemble blocks (picklable)."""

    prob: _Problem
    start: np.ndarray
    p: np.ndarray
    lam: np.ndarray
    burn_in: int
    thin: int
    #: the links a cycle may use (free and possible), and their adjacency: by row (CSR ``indptr``, ``indices``),
    #: the row of each link in that order, and by column (CSC ``indptr``, ``indices``) -- built once per sampler
    allowed: np.ndarray
    adjacency: tuple[np.ndarray, ...]


def _adjacency(allowed: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(row indptr, column of each link, row of each link, column indptr, row of each link by column)`` of the
    boolean matrix ``allowed`` (int64, sorted within each row and column), as :func:`gibbs_chain` walks it."""
    by_row = sp.csr_array(allowed)
    by_row.sort_indices()
    by_col = sp.csc_array(allowed)
    by_col.sort_indices()
    link_rows = np.repeat(np.arange(allowed.shape[0], dtype=np.int64), np.diff(by_row.indptr))
    return (by_row.indptr.astype(np.int64), by_row.indices.astype(np.int64), link_rows,
            by_col.indptr.astype(np.int64), by_col.indices.astype(np.int64))


def _check_count(value: Any, what: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        kind = "a positive" if least == 1 else "a non-negative"
        raise ContagionError(f"{what} must be {kind} whole number, got {value!r}")
    return int(value)


def _sampler(prob: _Problem, p: float, lam: float | None, burn_in: int | None, thin: int | None) -> _Sampler:
    """The ensemble's parameters. ``lam`` defaults to ``p * links / (total still to place)``: the expected total
    of the free links is then the amount they must carry (known amounts are not theirs to carry)."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 < p <= 1.0:
        raise ContagionError(f"p (link probability) must lie in (0, 1], got {p!r}")
    if lam is not None and not (isinstance(lam, (int, float, np.integer, np.floating)) and not isinstance(lam, bool)
                                and math.isfinite(lam) and lam > 0):
        raise ContagionError(f"lam (rate of the amounts) must be a positive number, got {lam!r}")
    burn_in = None if burn_in is None else _check_count(burn_in, "burn_in", 0)
    thin = None if thin is None else _check_count(thin, "thin", 1)
    start = _ras(prob)
    s = prob.support()
    links = int(s.sum())
    rest = float(prob.row.sum())
    lam_v = float(lam) if lam is not None else (p * links / rest if links and rest > 0 else 1.0)
    p_v = np.where(s, float(p), 0.0)
    allowed = prob.free & (p_v > 0)
    return _Sampler(prob=prob, start=start, p=p_v, lam=np.where(s, lam_v, 1.0),
                    burn_in=burn_in if burn_in is not None else 100 * max(links, 10),
                    thin=thin if thin is not None else 10 * max(links, 10), allowed=allowed,
                    adjacency=_adjacency(allowed))


def _chain_seed(seed: int, block: int) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=(block,)).generate_state(1)[0])


def _draw_block(sm: _Sampler, seed: int, block: int, count: int) -> list[sp.csr_array]:
    """The first ``count`` draws of chain ``block`` (the same whatever ``count`` is beyond them)."""
    prob = sm.prob
    if (prob.row > 0).sum() < 2 or (prob.col > 0).sum() < 2 or not sm.allowed.any():
        return [prob.finish(sm.start.copy()) for _ in range(count)]   # at most one way to fill the matrix
    from .._reconstruct_kernels import gibbs_chain

    X = sm.start.copy()
    out = np.empty((count, prob.n, prob.n))
    gibbs_chain(X, sm.allowed, sm.p, sm.lam, *sm.adjacency, sm.burn_in + count * sm.thin, _chain_seed(seed, block),
                prob.tol, out, sm.thin)
    return [prob.finish(_polish(prob, out[k])) for k in range(count)]


def _check_seed(seed: Any, what: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ContagionError(f"{what} must be a non-negative whole number, got {seed!r}")
    return int(seed)


def _as_totals(values: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ContagionError(f"{what} must be a sequence of amounts, got {_short(values)}") from None


def _short(value: Any) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


def _as_known(known: Any, n: int) -> sp.csr_array:
    """``known`` as an (n, n) CSR matrix of amounts, or a ContagionError naming what is wrong."""
    if known is None:
        return sp.csr_array((n, n))
    try:
        kn = known if sp.issparse(known) else np.asarray(known, dtype=np.float64)
    except (TypeError, ValueError):
        raise ContagionError(f"known must be a ({n}, {n}) matrix of amounts (what i owes j), got "
                             f"{_short(known)}") from None
    if kn.shape != (n, n):
        raise ContagionError(f"known must be a ({n}, {n}) matrix of amounts (what i owes j), got one of shape "
                             f"{kn.shape}")
    return sp.csr_array(kn, dtype=np.float64)


def _as_forbidden(forbidden: Any, n: int) -> sp.csr_array:
    """``forbidden`` as an (n, n) bool CSR matrix. What it is is read from its type, not its shape: a sparse
    matrix or a boolean array is a matrix, anything else (debtor, creditor) index pairs -- with two institutions a
    list of two pairs is also a 2 x 2 array, and was read as a matrix."""
    if forbidden is None:
        return sp.csr_array((n, n), dtype=bool)
    if sp.issparse(forbidden):
        if forbidden.shape != (n, n):
            raise ContagionError(f"forbidden must be a ({n}, {n}) matrix or (debtor, creditor) pairs, got a sparse "
                                 f"matrix of shape {forbidden.shape}")
        return sp.csr_array(forbidden, dtype=bool)
    try:
        arr = np.asarray(forbidden if isinstance(forbidden, np.ndarray) else list(forbidden))
    except (TypeError, ValueError):
        raise ContagionError(f"forbidden must be a boolean ({n}, {n}) matrix or (debtor, creditor) pairs, got "
                             f"{_short(forbidden)}") from None
    if arr.dtype == bool:
        if arr.shape != (n, n):
            raise ContagionError(f"forbidden: a boolean matrix must have shape ({n}, {n}), got {arr.shape}")
        return sp.csr_array(arr)
    if arr.size == 0:
        return sp.csr_array((n, n), dtype=bool)
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise ContagionError(f"forbidden must be a boolean ({n}, {n}) matrix or (debtor, creditor) pairs of "
                             f"positions, got {_short(forbidden)} (shape {arr.shape}, dtype {arr.dtype}; a 0/1 "
                             f"matrix is read as a matrix only with dtype bool)")
    bad = np.flatnonzero(((arr < 0) | (arr >= n)).any(axis=1))
    if bad.size:
        raise ContagionError(f"forbidden: the pair {tuple(int(v) for v in arr[bad[0]])} is out of range "
                             f"(positions run from 0 to {n - 1})")
    return sp.csr_array((np.ones(len(arr), dtype=bool), (arr[:, 0], arr[:, 1])), shape=(n, n))


def _as_marginals(interbank_assets: Any, interbank_liabilities: Any, known: Any, forbidden: Any,
                  names: Sequence[str] | None) -> Marginals:
    a = _as_totals(interbank_assets, "interbank_assets")
    lia = _as_totals(interbank_liabilities, "interbank_liabilities")
    if a.shape != lia.shape:
        raise InvalidNetworkError(f"interbank_assets has {a.size} values but interbank_liabilities {lia.size}")
    n = a.size
    names = tuple(names) if names is not None else tuple(str(k) for k in range(n))
    if len(names) != n:
        raise ContagionError(f"names has {len(names)} entries but there are {n} institutions")
    return Marginals(names=names, interbank_assets=a, interbank_liabilities=lia, known=_as_known(known, n),
                     forbidden=_as_forbidden(forbidden, n), external_assets=np.zeros(n),
                     external_liabilities=np.zeros(n))


def reconstruct(interbank_assets: Any, interbank_liabilities: Any, method: str = "max-entropy", known: Any = None,
                seed: int | None = None, *, forbidden: Any = None, names: Sequence[str] | None = None,
                p: float = 0.5, lam: float | None = None, burn_in: int | None = None,
                thin: int | None = None) -> sp.csr_array:
    """A liabilities matrix with the given totals: ``L[i, j]`` is what ``i`` owes ``j``.

    Parameters
    ----------
    interbank_assets : array_like, shape (n,)
        What each institution is owed by the others: the column sums.
    interbank_liabilities : array_like, shape (n,)
        What each owes the others: the row sums.
    method : {"max-entropy", "min-density", "ensemble"}
        See the module docstring (``"min-density"`` is a greedy heuristic
        for few links, not always the fewest). ``"ensemble"`` returns one draw: the first of
        :func:`sample_ensemble` with the same seed.
    known : array_like or sparse, shape (n, n), optional
        Known bilateral amounts, kept as they are; the rest is reconstructed
        around them.
    seed : int, optional
        For ``"ensemble"`` (default 0); the other methods are deterministic.
    forbidden : bool matrix (n, n) or iterable of (debtor, creditor) positions, optional
        Links that must stay empty. Self-loops are always forbidden. A sparse
        matrix or an array of dtype bool is a matrix; anything else is read as
        pairs of whole-number positions (``[(1, 0)]``: 1 never owes 0).
    names : sequence of str, optional
        Used in error messages.
    p, lam : float
        Ensemble model: link probability and rate of the exponential amounts
        (default: ``p * links / rest``, ``links`` the links that can take an
        amount and ``rest`` the total still to place -- the totals less the
        known amounts -- so the expected total of those links is ``rest``).
        When the known amounts already make every total, the known matrix is
        the one draw.
    burn_in, thin : int, optional
        Ensemble: cycle steps before the first draw (a whole number >= 0;
        default ``100 x`` the number of allowed links) and between draws (a
        whole number >= 1; default ``10 x``).

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)
        Row sums equal ``interbank_liabilities`` and column sums
        ``interbank_assets`` (to about 1e-12 of the total), zero diagonal,
        known amounts in place, nothing on forbidden links.

    Raises
    ------
    ContagionError
        Totals that cannot be matched: the two sums differ (by more than
        :data:`TOTALS_RTOL` of the total; within it the assets are rescaled),
        known amounts exceed a total, or an amount left to place has no
        allowed link.
    ConvergenceError
        ``"max-entropy"`` when the totals leave some allowed link no room.

    Notes
    -----
    Max entropy solves ``min sum L log(L / Q)`` over matrices with these
    margins and the allowed support, ``Q`` uniform on it; RAS (alternate row
    and column scaling) converges to it (Upper 2011, §3). Dense ``n x n``
    working arrays: sized for up to a few thousand institutions.

    Examples
    --------
    The seven banks of Anand, Craig & von Peter (2015, p. 628):

    >>> import numpy as np
    >>> A = [7, 5, 3, 1, 3, 0, 1]; Lb = [4, 5, 5, 0, 0, 2, 4]
    >>> L = reconstruct(A, Lb, "max-entropy")
    >>> np.round(L.toarray()[:, 0], 2).tolist()      # what each bank owes bank a
    [0.0, 2.53, 2.18, 0.0, 0.0, 0.74, 1.55]
    >>> M = reconstruct(A, Lb, "min-density")      # greedy: 8 links, where 7 would do
    >>> M.nnz, np.allclose(M.sum(axis=1), Lb), np.allclose(M.sum(axis=0), A)
    (8, True, True)
    """
    _check_method(method)
    m = _as_marginals(interbank_assets, interbank_liabilities, known, forbidden, names)
    return _reconstruct(m, method, seed, p=p, lam=lam, burn_in=burn_in, thin=thin)


def _reconstruct(m: Marginals | _Problem, method: str, seed: int | None, **kw: Any) -> sp.csr_array:
    prob = _problem_of(m, method)
    if method == "max-entropy":
        return prob.finish(_ras(prob))
    if method == "min-density":
        return prob.finish(_min_density(prob))
    sm = _sampler(prob, kw.get("p", 0.5), kw.get("lam"), kw.get("burn_in"), kw.get("thin"))
    return _draw_block(sm, _check_seed(0 if seed is None else seed), 0, 1)[0]


def sample_ensemble(interbank_assets: Any, interbank_liabilities: Any, n: int, seed: int = 0, known: Any = None,
                    *, forbidden: Any = None, names: Sequence[str] | None = None, p: float = 0.5,
                    lam: float | None = None, burn_in: int | None = None,
                    thin: int | None = None) -> tuple[sp.csr_array, ...]:
    """``n`` draws of the ensemble (see :func:`reconstruct`), each keeping every total exactly.

    Draws come in chains of :data:`ENSEMBLE_BLOCK`; chain ``b`` has its own
    seed (``SeedSequence(seed, spawn_key=(b,))``), so draw ``k`` is the same
    whatever ``n`` (beyond ``k``) and whoever computes it.

    >>> Ls = sample_ensemble([7, 5, 3, 1, 3, 0, 1], [4, 5, 5, 0, 0, 2, 4], n=3, seed=1)
    >>> len(Ls), all(abs(L.sum() - 20) < 1e-9 for L in Ls)
    (3, True)
    """
    m = _as_marginals(interbank_assets, interbank_liabilities, known, forbidden, names)
    seed = _check_seed(seed)
    n = _check_seed(n, "n")
    sm = _sampler(_problem_of(m), p, lam, burn_in, thin)
    out: list[sp.csr_array] = []
    for b in range(-(-n // ENSEMBLE_BLOCK)):
        out += _draw_block(sm, seed, b, min(ENSEMBLE_BLOCK, n - b * ENSEMBLE_BLOCK))
    return tuple(out)
