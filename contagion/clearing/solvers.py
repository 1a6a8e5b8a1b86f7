"""The one place that decides how a clearing is computed: the ``solver=`` of ``clear`` and ``clear_many``.

Every path gives the same answer -- the greatest clearing vector, the default
set and the fictitious-default waves, with the tie rule and the residual bound
``|T(p)_i - p_i| <= 1e-12 * pbar_i`` (each institution on its own scale) of
:mod:`.core` -- so the choice is about cost only. Round 0 is decided exactly
(:func:`.core.short_in_full`) on every path; a network floats cannot decide
(a nearly closed group in default or at its threshold, the ties of a closed
group without outside money, or amounts outside the float range of ``Pi``:
:func:`.core.undecided_groups`) is cleared in exact rational arithmetic when small
(label ``"fda-exact"``) and refused with a :class:`~contagion.ContagionError`
otherwise, whatever the path (:func:`.core.float_check`). ``res.solver`` records the path actually taken (its labels
are listed below).

Choices (:data:`SOLVERS`)
-------------------------
``n`` institutions, ``nnz`` obligations, ``d`` defaulters and ``nnz_D`` the
obligations owed by defaulters, ``W`` waves (FDA rounds), ``K`` scenarios.

``"auto"`` (default)
    ``clear``: ``"compiled"`` when the network has at least
    :data:`FAST_MIN_EDGES` (50,000) obligations, else ``"reference"``.
    ``clear_many``: ``"compiled"`` when ``nnz * K`` is at least
    :data:`BATCH_MIN_WORK` (2,000,000) or ``K`` is at least
    :data:`MANY_SCENARIOS` (256), else ``"reference"``. When it would pick
    ``"compiled"`` and numba cannot be imported, it runs ``"reference"`` and
    warns once (:class:`SlowPathWarning`).
``"reference"``
    Pure numpy/scipy: the fictitious-default algorithm of
    :func:`.core.fda_solve`. Cost per wave: one product with ``Pi.T``
    (``O(nnz)``), slicing ``Pi.T[D]`` (``O(nnz_D)``) and one sparse solve on
    the default set -- LU up to 300 rows (4,000 when the block may be
    singular), BiCGSTAB beyond (tens of products with ``Pi.T[D, D]``); in all
    ``O(W * (nnz + solve))`` plus about a millisecond of Python per call.
    Labels: ``"fda"`` (no defaults), ``"fda-lu"``, ``"fda-krylov"``,
    ``"fda-picard"``, ``"fda-mixed"``. ``clear_many``: the same column by
    column, ``K`` times the cost (label ``"fda-per-column"``).
``"compiled"``
    numba kernels on the cores free when the job starts (from 50,000
    obligations; :func:`contagion._matrix.use_threads`: affinity, cgroup
    quota, minus cores other processes keep busy; one thread inside a pool
    or Dask worker; ``CONTAGION_THREADS`` overrides). ``clear``: one
    parallel pass over all obligations, then only the obligations of
    defaulters, each read once when it defaults: ``O(nnz + nnz_D)`` plus about
    12 products with ``Pi.T[D, D]`` per wave; extra memory about 12 bytes per
    obligation of a defaulter. Eisenberg--Noe is solved by policy iteration
    (label ``"howard-fast"``; the waves are computed on first access to
    ``default_round``), Rogers--Veraart by the FDA (``"fda-fast"``), and
    Eisenberg--Noe too inside :func:`waves_up_front` (one FDA run gives the
    clearing vector and the waves; what :func:`contagion.stress` does); a
    network with a closed group without outside money goes to the reference
    (its label then). ``clear_many``: scenarios spread over the threads, each a
    Gauss--Seidel iteration over the obligations of its defaulters (a few
    sweeps: ``O(nnz_D)`` each) with the hubs solved together
    (``"gs-parallel"``; scenarios it cannot settle are solved by the reference:
    ``"gs-parallel+fda"``). The first call in a process loads the compiled code
    from numba's cache (about half a second; compiling on an empty cache takes
    longer). Raises :class:`~contagion.ContagionError` when numba is not installed.

Environment
-----------
``CONTAGION_SOLVER`` (read here only) is an alias: when set to a choice, it is
what ``solver="auto"`` means (``"fast"`` is accepted as the old name of
``"compiled"``); an explicit ``solver=`` other than ``"auto"`` wins. The former
``CONTAGION_NO_NUMBA`` is gone: pass ``solver="reference"``.

Tuning
------
:class:`Tuning` holds the limits inside the paths (block sizes solved by LU,
sweep budgets, hub selection); the defaults are the module constants of
:mod:`.core`, :mod:`.fast` and :mod:`.batch`. Tests and benchmarks pass it to
:func:`clear_exact` / :func:`clear_batch` to reach every branch on small networks.

>>> import contagion
>>> net = contagion.load_dataset("chain")
>>> contagion.clear(net, solver="reference").solver
'fda-lu'
>>> choose("auto", 10, FAST_MIN_EDGES)
'reference'
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial

import numpy as np

from .._matrix import numba_available, use_threads
from ..errors import ContagionError, ConvergenceError, InvalidNetworkError
from .batch import MAX_CASCADE_SWEEPS, MAX_SWEEPS, HUB_DEGREE_FACTOR, HUB_MIN_COUPLING, BatchLimits
from .core import (DIRECT_LIMIT, LU_FALLBACK_LIMIT, MAX_ITER, RESIDUAL_RTOL, BlockLimits, Solution,
                   exact_or_refuse, exact_when_stuck, fda_solve, float_check, float_range_problem,
                   is_unique, is_wide, short_in_full)
from .fast import LU_LIMIT
from .result import BatchClearingResult, ClearingResult

__all__ = ["SOLVERS", "choose", "clear_exact", "clear_batch", "Tuning", "SlowPathWarning", "FAST_MIN_EDGES",
           "BATCH_MIN_WORK", "MANY_SCENARIOS", "waves_up_front"]

#: solver name -> what it is (the full costs are in the module docstring)
SOLVERS: dict[str, str] = {
    "auto": "compiled for large problems when numba is installed, reference otherwise",
    "reference": "fictitious-default algorithm in numpy/scipy (per scenario for clear_many)",
    "compiled": "numba kernels: FDA / policy iteration on the default set; scenario-parallel Gauss-Seidel",
}
#: ``"auto"`` clears networks with at least this many obligations on the compiled path. Below it,
#: compilation-cache loading and thread start-up cost more than they save.
FAST_MIN_EDGES = 50_000
#: ``"auto"`` runs batches with at least this many obligations x scenarios on the compiled path ...
BATCH_MIN_WORK = 2_000_000
#: ... or with at least this many scenarios: the reference costs about a millisecond of Python
#: overhead per scenario whatever the network's size, so many scenarios pay for compiled code even
#: on a tiny network (100,000 sweep draws on a 61-node network: minutes -> seconds).
MANY_SCENARIOS = 256
#: The environment variable that sets what ``"auto"`` means.
ENV_SOLVER = "CONTAGION_SOLVER"
_OLD_NAMES = {"fast": "compiled"}


_SLOW_PATH = ("numba is not installed: large problems run on the slow pure numpy/scipy path (same results); "
              "pip install 'numba>=0.59' for the compiled path")

_slow_path_said: list[bool] = []      # non-empty once the warning was given

#: Set inside :func:`waves_up_front`: the caller will read the default waves.
_WAVES_UP_FRONT: ContextVar[bool] = ContextVar("contagion_waves_up_front", default=False)


@contextmanager
def waves_up_front():
    """Inside this context, Eisenberg--Noe on the compiled path computes the default waves with the clearing.

    Policy iteration (``"howard-fast"``) finds the clearing vector without the
    waves; reading ``res.default_round`` then runs the fictitious-default
    algorithm again up to the same default set, which costs about as much as
    the clearing. A caller that will read the waves anyway (:func:`contagion.stress`,
    hence ``contagion run`` and the reports) clears inside this context: one
    compiled FDA run (``"fda-fast"``) gives the clearing vector, the default set
    and the waves, about half the work of both. The answer meets the same bounds
    (same default set and waves; payments may differ from policy iteration's in
    the last digits, within the residual bound ``1e-12 * pbar_i``). Other paths
    are unchanged. Nests; restored on exit, per thread and task (a context variable).

    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> with waves_up_front():
    ...     res = contagion.clear(net)
    >>> res.default_round.tolist() == contagion.clear(net).default_round.tolist()
    True
    """
    token = _WAVES_UP_FRONT.set(True)
    try:
        yield
    finally:
        _WAVES_UP_FRONT.reset(token)


class SlowPathWarning(RuntimeWarning):
    """A large problem runs on the pure numpy/scipy path because numba is not installed."""


@dataclass(frozen=True)
class Tuning:
    """Limits inside the solver paths (defaults: what the library uses).

    ``direct_limit``, ``lu_fallback_limit``, ``krylov``, ``max_iter``: how the
    reference solves a wave's block (:class:`.core.BlockLimits`); ``lu_limit``:
    default sets the compiled FDA solves by LU (:data:`.fast.LU_LIMIT`);
    ``max_sweeps``, ``max_cascade_sweeps``, ``hub_degree_factor``,
    ``hub_min_coupling``: the compiled batch path (:class:`.batch.BatchLimits`).
    """

    direct_limit: int = DIRECT_LIMIT
    lu_fallback_limit: int = LU_FALLBACK_LIMIT
    krylov: bool = True
    max_iter: int = MAX_ITER
    lu_limit: int = LU_LIMIT
    max_sweeps: int = MAX_SWEEPS
    max_cascade_sweeps: int = MAX_CASCADE_SWEEPS
    hub_degree_factor: float = HUB_DEGREE_FACTOR
    hub_min_coupling: float = HUB_MIN_COUPLING

    @property
    def block(self) -> BlockLimits:
        return BlockLimits(self.direct_limit, self.lu_fallback_limit, self.krylov, self.max_iter)

    @property
    def batch(self) -> BatchLimits:
        return BatchLimits(self.max_sweeps, self.max_cascade_sweeps, self.hub_degree_factor, self.hub_min_coupling)


DEFAULT_TUNING = Tuning()


def _requested(solver: str) -> str:
    if solver not in SOLVERS:
        raise ContagionError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    if solver == "auto":
        env = os.environ.get(ENV_SOLVER)
        if env:
            env = _OLD_NAMES.get(env, env)
            if env not in SOLVERS:
                raise ContagionError(f"{ENV_SOLVER}={env!r} is not a solver; choose one of {', '.join(SOLVERS)}")
            return env
    return solver


def choose(solver: str, work: int, threshold: int) -> str:
    """The path taken, ``"reference"`` or ``"compiled"``, for ``work`` (obligations, or obligations x scenarios).

    ``"auto"`` picks ``"compiled"`` when ``work >= threshold`` and numba is
    installed; when numba is missing there, it warns (:class:`SlowPathWarning`,
    once per process) and picks ``"reference"``.

    Raises
    ------
    ContagionError
        Unknown solver, or ``"compiled"`` without numba.

    >>> choose("reference", 10**9, FAST_MIN_EDGES), choose("auto", 10, FAST_MIN_EDGES)
    ('reference', 'reference')
    """
    path = _requested(solver)
    if path == "reference":
        return "reference"
    if path == "compiled":
        if not numba_available():
            raise ContagionError("solver='compiled' needs numba, which is not installed: pip install 'numba>=0.59' "
                                 "(or pass solver='reference')")
        use_threads()   # threads follow the cores free now (contagion._matrix.use_threads)
        return "compiled"
    if work < threshold:
        return "reference"
    if numba_available():
        use_threads()
        return "compiled"
    if not _slow_path_said:
        # once per process (Python's own once-per-location registry is reset by every catch_warnings,
        # which scipy uses inside each solve)
        _slow_path_said.append(True)
        warnings.warn(_SLOW_PATH, SlowPathWarning, stacklevel=4)
    return "reference"


def _checked(sol: Solution, what: str) -> Solution:
    """``sol`` if it meets the residual bound; else ConvergenceError with its iterations and residual."""
    if not sol.converged:
        raise ConvergenceError(f"{what} did not reach the residual bound", sol.iterations, sol.residual)
    return sol


# ----------------------------------------------------------------------------- one network


def _short0(net, e: np.ndarray | None = None) -> np.ndarray:
    """Round 0 decided exactly: who is short when everyone pays in full (:func:`.core.short_in_full`)."""
    return short_in_full(net.liabilities, net.external_liabilities, net.external_assets if e is None else e,
                         net.total_obligations, net.interbank_assets)


def _refuse_overflow(net, E: np.ndarray | None = None) -> None:
    """An :class:`~contagion.InvalidNetworkError` naming each institution whose obligations, or whose outside
    assets (``E``: one column per scenario, default the network's) and claims, add up past the largest float
    (:func:`.core.overflow_problems`, for the first such scenario); nothing when there is none (one pass)."""
    from .core import overflow_problems

    e = net.external_assets if E is None else E
    with np.errstate(over="ignore"):       # outside assets and claims are each finite, their sum may not be
        fits = np.isfinite(e + (net.interbank_assets if e.ndim == 1 else net.interbank_assets[:, None]))
    if np.isfinite(net.total_obligations).all() and fits.all():
        return
    if E is not None and E.ndim == 2 and not fits.all():
        net = net.replace(external_assets=E[:, int(np.argmin(fits.all(axis=0)))])
    raise InvalidNetworkError(overflow_problems(net))


def _solve(net, alpha: float, beta: float, path: str, tuning: Tuning) -> Solution:
    """The raw solution on ``path``: compiled policy iteration (Eisenberg--Noe) or FDA, or the reference FDA;
    a network floats cannot represent (:func:`.core.float_range_problem`) or decide (:func:`.core.float_check`)
    is cleared exactly or refused, and so is a small one with a closed group without outside money whose
    block floats could not settle (:func:`.core.exact_when_stuck`)."""
    _refuse_overflow(net)
    why = float_range_problem(net.liabilities, net.total_obligations, net.relative_liabilities)
    if why:
        return exact_or_refuse(net, why, alpha, beta)
    try:
        sol = _raw(net, alpha, beta, path, tuning)
    except ConvergenceError as exc:     # small networks with a closed group without outside money: exactly
        return exact_when_stuck(net, exc, alpha, beta)
    return float_check(net, sol, alpha, beta, equity=getattr(sol, "equity", None))


def _raw(net, alpha: float, beta: float, path: str, tuning: Tuning) -> Solution:
    """The float solution on ``path`` (policy iteration or FDA, compiled answers verified in payment form)."""
    short0 = _short0(net)
    if path == "compiled" and is_wide(net.total_obligations, net.interbank_assets):
        path = "reference"      # componentwise accuracy needed (core.WIDE_RATIO)
    if path == "compiled":
        from .fast import fda_fast, policy_iteration

        kw = dict(cap=net.payment_cap, forced=net.forced_default, ext_liab=net.external_liabilities,
                  received_in_full=net.interbank_assets, lu_limit=tuning.lu_limit, short0=short0)
        args = (net.PiT, net.relative_liabilities, net.total_obligations, net.external_assets)
        if alpha == 1.0 and beta == 1.0 and not _WAVES_UP_FRONT.get():
            sol = policy_iteration(*args, **kw)
        else:
            sol = fda_fast(*args, alpha=alpha, beta=beta, **kw)
        sol = _verified(net, sol, alpha, beta, tuning, short0)
    else:
        sol = fda_solve(net.PiT, net.total_obligations, net.external_assets, cap=net.payment_cap,
                        forced=net.forced_default, alpha=alpha, beta=beta, limits=tuning.block, short0=short0)
    return sol


def _verified(net, sol: Solution, alpha: float, beta: float, tuning: Tuning, short0: np.ndarray) -> Solution:
    """The compiled answer checked in payment form, each institution on its own scale.

    The compiled paths compute what an institution receives as ``assets - (what
    defaulters fail to pay it)``, which cancels for an institution owed far more
    than it owes when most of it is lost (owed 1e251, receiving 1.5): there the
    float difference has no correct digit. The clearing map is evaluated once
    more as ``e + PiT @ p`` (no cancellation, one product; one compiled parallel pass with the check,
    :func:`._kernels.payment_form`); an answer that is
    not a fixed point to ``1e-12 * pbar_i`` for every institution is recomputed
    by the reference (which works in payment form). The equity reported is the
    payment-form one.
    """
    from dataclasses import replace

    from ._kernels import payment_form
    from .core import TIE_RTOL

    pbar, e, PiT = net.total_obligations, net.external_assets, net.PiT
    inflow = np.empty(pbar.size)
    p = np.ascontiguousarray(sol.payments, dtype=np.float64)
    bad = payment_form(PiT.indptr, PiT.indices, PiT.data, p, pbar, np.ascontiguousarray(e, dtype=np.float64),
                       net.payment_cap, net.forced_default, float(alpha), float(beta), TIE_RTOL, RESIDUAL_RTOL,
                       inflow)
    if sol.converged and bad == 0:
        return replace(sol, equity=e + inflow - pbar) if hasattr(sol, "equity") else sol
    return fda_solve(net.PiT, pbar, e, cap=net.payment_cap, forced=net.forced_default, alpha=alpha, beta=beta,
                     limits=tuning.block, short0=short0)


def _waves_of(net, final: np.ndarray, lu_limit: int) -> np.ndarray:
    """The FDA waves of a network whose (Eisenberg--Noe) default set ``final`` policy iteration found."""
    from .fast import fda_waves

    return fda_waves(net.PiT, net.relative_liabilities, net.total_obligations, net.external_assets, final,
                     cap=net.payment_cap, forced=net.forced_default, ext_liab=net.external_liabilities,
                     received_in_full=net.interbank_assets, lu_limit=lu_limit, short0=_short0(net))


def clear_exact(net, method: str, alpha: float = 1.0, beta: float = 1.0, solver: str = "auto",
                tuning: Tuning = DEFAULT_TUNING) -> ClearingResult:
    """Greatest clearing vector of ``net`` (Rogers--Veraart ``alpha``, ``beta``; 1, 1 is Eisenberg--Noe).

    ``method`` is the label the result carries; ``solver`` one of :data:`SOLVERS`.
    The uniqueness flag (``alpha == beta == 1`` only) comes from :func:`.core.is_unique`.

    >>> import contagion
    >>> net = contagion.load_dataset("ring")
    >>> res = clear_exact(net, "eisenberg-noe", solver="reference")
    >>> res.unique, res.solver
    (False, 'fda-lu')
    """
    path = choose(solver, int(net.liabilities.nnz), FAST_MIN_EDGES)
    sol = _checked(_solve(net, alpha, beta, path, tuning), f"{method} clearing")
    p = sol.payments
    pbar = net.total_obligations
    unique = None
    if alpha == 1.0 and beta == 1.0:
        unique = is_unique(net.liabilities, net.external_liabilities, net.external_assets, p, net.PiT)
    equity = getattr(sol, "equity", None)
    if equity is None:
        equity = net.external_assets + net.PiT @ p - pbar
    rounds = sol.default_round
    if rounds is None:     # policy iteration: the waves on first access
        rounds = partial(_waves_of, net, sol.defaulted, tuning.lu_limit)
    params = {} if method == "eisenberg-noe" else {"alpha": alpha, "beta": beta}
    return ClearingResult(
        network=net, payments=p, defaulted=sol.defaulted, equity=equity, default_round=rounds,
        shortfall=pbar - p, iterations=sol.iterations, converged=sol.converged, residual=sol.residual,
        method=method, unique=unique, solver=sol.solver, params=params,
    )


# ----------------------------------------------------------------------------- many scenarios


def _reference_columns(net, E, alpha, beta, cols, limits, P, D, its, res) -> None:
    """Columns ``cols`` of the results solved by the reference FDA (in place); a column floats cannot decide
    is solved exactly or refused (:func:`.core.float_check`), as are all when the network is outside the
    float range."""
    from .batch import reference_batch

    _refuse_overflow(net, E)
    why = float_range_problem(net.liabilities, net.total_obligations, net.relative_liabilities)
    for k, sol in reference_batch(net, E, alpha, beta, cols, limits, exact_why=why):
        sol = sol if why or sol.solver == "fda-exact" else float_check(net, sol, alpha, beta, e=E[:, k])
        _checked(sol, f"scenario {k}")
        P[:, k] = sol.payments
        D[:, k] = sol.defaulted
        its[k] = sol.iterations
        res[k] = sol.residual


def clear_batch(net, E: np.ndarray, method: str, alpha: float = 1.0, beta: float = 1.0, solver: str = "auto",
                tuning: Tuning = DEFAULT_TUNING) -> BatchClearingResult:
    """Clear every column of ``E`` (validated, shape (n, K)) on the path ``solver`` selects.

    >>> import numpy as np, contagion
    >>> net = contagion.load_dataset("chain")
    >>> batch = clear_batch(net, np.repeat(net.external_assets[:, None], 3, axis=1), "eisenberg-noe",
    ...                     solver="reference")
    >>> batch.solver, batch.payments.shape == (net.n, 3)
    ('fda-per-column', True)
    """
    n, K = E.shape
    work = int(net.liabilities.nnz) * K
    if K >= MANY_SCENARIOS:
        work = max(work, BATCH_MIN_WORK)
    path = choose(solver, work, BATCH_MIN_WORK)
    if path == "compiled" and (float_range_problem(net.liabilities, net.total_obligations, net.relative_liabilities)
                               or is_wide(net.total_obligations, net.interbank_assets)):
        path = "reference"      # cleared exactly per column or refused; or componentwise accuracy needed
    if path == "compiled":
        from .batch import compiled_batch

        P, D, its, res, unsettled = compiled_batch(net, E, alpha, beta, tuning.batch)
        label = "gs-parallel"
        if unsettled.size:     # possibly singular or too slow: the reference settles those exactly
            _reference_columns(net, E, alpha, beta, unsettled, tuning.block, P, D, its, res)
            label = "gs-parallel+fda"
    else:
        P = np.empty((n, K))
        D = np.empty((n, K), dtype=bool)
        its = np.empty(K, dtype=np.int64)
        res = np.empty(K)
        _reference_columns(net, E, alpha, beta, None, tuning.block, P, D, its, res)
        label = "fda-per-column"
    return BatchClearingResult(network=net, payments=P, defaulted=D, iterations=its, residual=res,
                               method=method, solver=label, params={"alpha": alpha, "beta": beta})
