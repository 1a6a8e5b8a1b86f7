"""Sparse-matrix helpers of a network, compiled for large matrices: ``Pi``, ``Pi.T`` and the one-pass scan.

This module sits below :mod:`contagion.network` (and :mod:`contagion.clearing`
imports from it). It imports numpy and scipy only; the compiled kernels
(:mod:`contagion._matrix_kernels`, numba) are imported the first time a matrix
with at least :data:`BUILD_MIN_NNZ` entries is built, so ``import contagion``
never imports numba. Without numba every helper takes the scipy path, with the
same results.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["numba_available", "threads", "use_threads", "usable_cores", "busy_cores", "available_cores",
           "CompilingWarning", "csr_from_edges", "relative_matrix", "scan_matrix", "transpose", "row_parts", "uidx",
           "BUILD_MIN_NNZ", "ENV_THREADS"]

#: Matrices with at least this many entries are built by the compiled kernels (when numba is available).
BUILD_MIN_NNZ = 200_000
#: Environment variable: the number of threads of the compiled kernels (wins over everything below).
ENV_THREADS = "CONTAGION_THREADS"

log = logging.getLogger("contagion")


class CompilingWarning(RuntimeWarning):
    """Given once per process when numba compiles a kernel (its cache is empty or stale): the job waits for it."""


# ---------------------------------------------------------------------- numba: import, cache, compile notice
def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def _cache_location() -> Path | None:
    """Where numba's cache goes when its own choices fail: ``None`` when the package's ``__pycache__`` (numba's
    first choice) or numba's per-user cache folder is writable, else a folder under the temporary directory."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    here = Path(__file__).resolve().parent
    if _writable(here / "__pycache__") and _writable(here / "clearing" / "__pycache__"):
        return None
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"
    if _writable(user):
        return None
    fallback = Path(tempfile.gettempdir()) / f"contagion-numba-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"
    return fallback if _writable(fallback) else None


@functools.cache
def numba_available() -> bool:
    """Whether numba can be imported (the compiled kernels can run).

    The first call also makes sure numba's cache (``cache=True`` on every
    kernel) has somewhere to go -- the package's ``__pycache__``, else numba's
    per-user folder, else ``$TMPDIR/contagion-numba-cache-<uid>`` (set as
    ``NUMBA_CACHE_DIR`` before numba is imported; a read-only install then
    compiles once per machine, not once per process) -- and installs the
    compile notice (:class:`CompilingWarning`).
    """
    if "numba" not in sys.modules:
        folder = _cache_location()
        if folder is not None:
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    _install_compile_notice()
    return True


_compile_said: list[bool] = []
_warming: list[Any] = []


def warm_up() -> None:
    """Import numba and load the compiled code's runtime (~0.5-1 s) in a background thread, once per process.

    Called by the readers before they read a large network: Arrow's readers release the GIL, so the import
    runs while the files are read, and the kernels the read then calls start at once. Nothing happens
    without numba; a later :func:`numba_available` waits for the import (Python's import lock).
    """
    if _warming or "numba" in sys.modules:
        return
    import threading

    def run() -> None:
        if numba_available():
            from ._text_kernels import may_need_strip

            table = np.zeros(256, dtype=bool)
            may_need_strip(np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.uint8), table, table)

    thread = threading.Thread(target=run, name="contagion-warm-up", daemon=True)
    _warming.append(thread)
    thread.start()
    import atexit

    atexit.register(thread.join)  # a job that ends early (a bad file) lets the import finish before shutdown


def _install_compile_notice() -> None:
    """Warn (and log) once per process when numba starts compiling one of contagion's kernels: a cache
    miss, so the first job after an install waits tens of seconds; later jobs load the cache."""
    try:
        from numba.core import event
    except ImportError:  # pragma: no cover - very old numba
        return

    class _Notice(event.Listener):
        def on_start(self, ev):
            if _compile_said:
                return
            dispatcher = (ev.data or {}).get("dispatcher")
            module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
            if not module.startswith("contagion"):
                return
            _compile_said.append(True)
            import numba

            where = numba.config.CACHE_DIR or "the package's __pycache__"
            msg = (f"compiling contagion's numeric kernels for this machine (first use after an install or an "
                   f"upgrade: 10-60 s, once; cached in {where})")
            log.info(msg)
            warnings.warn(msg, CompilingWarning, stacklevel=2)

        def on_end(self, ev):
            pass

    event.register("numba:compile", _Notice())


# ---------------------------------------------------------------------- threads
def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota (containers).

    >>> usable_cores() >= 1
    True
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, int(quota)))  # 1.5 cores of quota: one thread runs without being throttled
    return max(1, n)


def _cgroup_quota() -> float | None:
    """Cores the cgroup may use (``cpu.max`` of cgroup v2, ``cpu.cfs_quota_us`` of v1); ``None`` = no limit."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else float(quota) / float(period)
    except (OSError, ValueError):
        pass
    try:
        quota = float(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = float(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def busy_cores(samples: int = 5) -> int:
    """Cores kept busy by other processes right now: runnable tasks on the machine (``procs_running`` of
    ``/proc/stat``) minus this process's own running threads, the least of a few readings (a process that
    holds a core shows in all of them, a blip in one); scaled to this process's share of the machine's
    CPUs. 0 where ``/proc`` is missing.
    """
    best = None
    for _ in range(max(1, samples)):
        try:
            with open("/proc/stat", "rb") as fh:
                stat = fh.read()
            k = stat.index(b"procs_running ")
            running = int(stat[k + 14: stat.index(b"\n", k)])
            ours = 0
            for task in os.listdir("/proc/self/task"):
                try:
                    with open(f"/proc/self/task/{task}/stat", "rb") as fh:
                        ours += fh.read().rsplit(b")", 1)[1][1:2] == b"R"
                except OSError:
                    continue
        except (OSError, ValueError):
            return 0
        others = max(0, running - max(ours, 1))
        best = others if best is None else min(best, others)
    online = os.cpu_count() or 1
    return int(round((best or 0) * usable_cores() / online))


def _in_worker() -> bool:
    """Inside a worker of a process pool (``multiprocessing``, ``concurrent.futures``) or of Dask."""
    try:
        import multiprocessing

        if multiprocessing.parent_process() is not None:
            return True
    except Exception:  # pragma: no cover
        pass
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            get_worker()
            return True
        except (ValueError, ImportError, AttributeError):
            pass
    return False


def thread_count() -> int:
    """Threads a compiled job should use now (see :func:`use_threads`)."""
    import numba

    return available_cores(int(numba.config.NUMBA_NUM_THREADS))


def available_cores(most: int | None = None) -> int:
    """Cores a job may use now (at most ``most``): ``CONTAGION_THREADS`` when set, one inside a worker,
    else the usable cores less the busy ones (see :func:`use_threads`). Needs no numba: the readers use it
    to decide whether two Arrow lookups run side by side.

    >>> available_cores(1)
    1
    """
    most = most if most is not None else usable_cores()
    told = os.environ.get(ENV_THREADS, "").strip()
    if told:
        try:
            return max(1, min(most, int(told)))
        except ValueError:
            pass
    if _in_worker():
        return 1
    cores = min(most, usable_cores())
    if cores <= 1:
        return 1
    return max(1, cores - busy_cores())


def use_threads() -> int:
    """Set the threads of numba's parallel loops for the job about to run, and return the number.

    The number follows the cores actually available: ``CONTAGION_THREADS`` when
    set; one inside a process-pool or Dask worker (the pool already uses the
    cores); otherwise the cores of this process's affinity and cgroup quota
    (:func:`usable_cores`, at most numba's ``NUMBA_NUM_THREADS``) minus those
    other processes keep busy now (:func:`busy_cores`). The parallel kernels
    split their work evenly and wait for the slowest thread at every step: a
    thread sharing a core with a busy process makes every step as slow as that
    thread, so two threads on one free core ran 2.4-8x slower than one
    (measured on the 2-core benchmark machine; see the README, Performance).
    Called by the solver before every compiled job and by the compiled matrix
    builders here; numba must be available.
    """
    import numba

    n = thread_count()
    if n != numba.get_num_threads():
        numba.set_num_threads(n)
    return n


def threads() -> int:
    """Threads numba runs its parallel loops on (numba must be available)."""
    import numba

    return max(1, int(numba.get_num_threads()))


def uidx(a: np.ndarray) -> np.ndarray:
    """Index array reinterpreted as unsigned (no copy): the compiled gathers skip the negative-index check."""
    if a.dtype == np.int32:
        return a.view(np.uint32)
    if a.dtype == np.int64:
        return a.view(np.uint64)
    return a.astype(np.uint64)


def row_parts(ptr: np.ndarray, nparts: int) -> np.ndarray:
    """Row bounds splitting a CSR (row pointers ``ptr``) into ``nparts`` parts with about equal entries.

    >>> row_parts(np.array([0, 5, 5, 6, 10]), 2).tolist()
    [0, 1, 4]
    """
    nrows = ptr.size - 1
    bounds = np.searchsorted(ptr, np.linspace(0, ptr[-1], nparts + 1)).astype(np.int64)
    bounds[0], bounds[-1] = 0, nrows
    return np.maximum.accumulate(np.minimum(bounds, nrows))


def _compiled(A: sp.csr_array, min_nnz: int) -> bool:
    return A.nnz >= min_nnz and A.shape[0] < 2**31 and A.shape[1] < 2**31 and numba_available()


def _thread_parts(A: sp.csr_array) -> np.ndarray:
    """Row bounds splitting ``A`` into one part per thread (at most 8) with about equal entries (the
    threads are chosen here: :func:`use_threads`)."""
    return row_parts(A.indptr, max(1, min(use_threads(), 8)))


def relative_matrix(L: sp.csr_array, pbar: np.ndarray, *, min_nnz: int = BUILD_MIN_NNZ) -> sp.csr_array:
    """``Pi = diag(1 / pbar) @ L`` as CSR, sharing ``L``'s index arrays (``L`` is never mutated).

    Rows with ``pbar == 0`` are empty (``pbar`` is at least the row sum). Matrices
    with at least ``min_nnz`` entries are scaled by a compiled two-threaded pass
    (same divisions, same result).

    >>> L = sp.csr_array(np.array([[0, 2.0], [0, 0]]))
    >>> relative_matrix(L, np.array([4.0, 0.0])).toarray().tolist()
    [[0.0, 0.5], [0.0, 0.0]]
    """
    if _compiled(L, min_nnz):
        from ._matrix_kernels import scale_rows

        data = np.empty_like(L.data)
        use_threads()
        scale_rows(L.indptr, L.data, np.ascontiguousarray(pbar, dtype=np.float64), data)
    else:
        data = L.data / np.repeat(pbar, np.diff(L.indptr))
    out = sp.csr_array((data, L.indices, L.indptr), shape=L.shape, copy=False)
    out.has_sorted_indices = True
    return out


def scan_matrix(M: sp.csr_array, *, min_nnz: int = BUILD_MIN_NNZ):
    """A copy of a large CSR matrix, its row sums and its defects, from one compiled pass.

    Returns ``None`` when ``M`` has fewer than ``min_nnz`` entries or numba is
    unavailable (the caller then uses scipy). Otherwise ``(copy, rowsum,
    defects)``: ``copy`` shares nothing with ``M``; ``rowsum[i]`` adds row
    ``i``'s entries in order; ``defects`` counts, by name, entries out of column
    order or duplicated (``"unsorted"``), negative or non-finite values
    (``"bad"``), nonzero diagonal entries (``"diagonal"``), explicit zeros
    (``"zeros"``) and column indices outside the matrix (``"outside"``).
    """
    if not _compiled(M, min_nnz):
        return None
    from ._matrix_kernels import scan_copy

    idx = np.empty_like(M.indices)
    val = np.empty(M.nnz)
    rowsum = np.empty(M.shape[0])
    counts = scan_copy(M.indptr, M.indices, np.ascontiguousarray(M.data, dtype=np.float64), M.shape[1],
                       _thread_parts(M), idx, val, rowsum)
    copy = sp.csr_array((val, idx, M.indptr.copy()), shape=M.shape, copy=False)
    names = ("unsorted", "bad", "diagonal", "zeros", "outside")
    return copy, rowsum, dict(zip(names, (int(c) for c in counts)))


def csr_from_edges(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n: int, *,
                   min_nnz: int = BUILD_MIN_NNZ) -> sp.csr_array:
    """The ``n x n`` CSR matrix with ``values[k]`` at ``(rows[k], cols[k])`` (0 <= rows, cols < n), with
    sorted indices, repeated pairs added (in the order of the list) and zero entries left out.

    Long lists (at least ``min_nnz``, numba available): the two-threaded bucketed counting sort of
    :func:`contagion._matrix_kernels.csr_of_edges`, which keeps every scatter in cache. Otherwise scipy's
    ``coo -> csr`` with ``sum_duplicates``, ``eliminate_zeros`` and ``sort_indices``.

    >>> csr_from_edges(np.array([1, 0, 1]), np.array([0, 1, 0]), np.array([2.0, 5.0, 3.0]), 2).toarray().tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    values = np.ascontiguousarray(values, dtype=np.float64)
    if not (rows.size >= min_nnz and n < 2**31 and numba_available()):
        L = sp.csr_array((values, (rows, cols)), shape=(n, n), dtype=np.float64)
        L.sum_duplicates()
        L.eliminate_zeros()
        L.sort_indices()
        return L
    from ._matrix_kernels import csr_of_edges

    parts = max(1, min(use_threads(), 8))
    bounds = np.linspace(0, rows.size, parts + 1).astype(np.int64)
    ptr, idx, val = csr_of_edges(uidx(np.ascontiguousarray(rows)), np.ascontiguousarray(cols).astype(np.int32),
                                 values, n, bounds)
    if ptr[-1] < np.iinfo(np.int32).max:
        ptr = ptr.astype(np.int32)
    out = sp.csr_array((val, idx, ptr), shape=(n, n), copy=False)
    out.has_sorted_indices = True
    out.has_canonical_format = True
    return out


def transpose(A: sp.csr_array, weights: np.ndarray | None = None, *, min_nnz: int = BUILD_MIN_NNZ):
    """``A.T`` as CSR with sorted indices; with ``weights``, also ``A.T @ weights``.

    Matrices with at least ``min_nnz`` entries (when numba is available): the
    two-threaded bucketed transpose of :mod:`contagion._matrix_kernels`, which
    keeps every scatter in cache (measured 0.14 s against 0.26 s for scipy's
    ``A.T.tocsr()`` at 10^7 entries and 10^6 columns on 2 cores) and computes
    the product on the way, adding the same products in the same order as
    scipy does. Otherwise scipy's.

    Returns
    -------
    csr_array, or (csr_array, ndarray) when ``weights`` is given.

    >>> T, w = transpose(sp.csr_array(np.array([[0, 2.0], [3.0, 0]])), np.array([1.0, 10.0]))
    >>> T.toarray().tolist(), w.tolist()
    ([[0.0, 3.0], [2.0, 0.0]], [30.0, 2.0])
    """
    if not _compiled(A, min_nnz):
        out = sp.csr_array(A.T.tocsr())
        out.has_sorted_indices = True
        return out if weights is None else (out, out @ weights)
    from ._matrix_kernels import transpose_weighted

    w = np.zeros(A.shape[0]) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    optr, oidx, oval, rowsum = transpose_weighted(A.indptr, uidx(A.indices), A.data, A.shape[1], _thread_parts(A), w)
    if optr[-1] < np.iinfo(np.int32).max:
        optr = optr.astype(np.int32)
    out = sp.csr_array((oval, oidx, optr), shape=(A.shape[1], A.shape[0]), copy=False)
    out.has_sorted_indices = True
    return out if weights is None else (out, rowsum)
