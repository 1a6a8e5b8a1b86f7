"""Where batches of work run: in this process, a local process pool, or a Dask cluster.

:func:`run_tasks` runs ``fn(shared, *task)`` for every task on a
``concurrent.futures.Executor`` (``None``: in this process) and returns the
results in task order; :func:`stream_tasks` yields them in task order with a
bounded number of tasks in flight (memory that does not grow with the number
of tasks); :func:`resolve_executor` turns ``"auto"``, ``"processes"``,
``"inline"``, ``None`` or an executor into one. Used by
Monte Carlo sweeps (:mod:`contagion.sweep`) and systemic-importance rankings
(:mod:`contagion.measures`).
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import BrokenExecutor, Executor, as_completed
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Sequence

from .errors import ContagionError

__all__ = ["run_tasks", "stream_tasks", "local_executor", "dask_executor", "resolve_executor", "AUTO_PROCESS_WORK"]

#: Work (draws x (institutions + obligations)) above which ``executor="auto"`` uses a local process pool.
AUTO_PROCESS_WORK = 2e10


class _Shared:
    """Wrapper so that a task's shared argument is scattered once to a Dask cluster (not split)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _call(fn: Callable, shared: Any, *args: Any) -> Any:
    if isinstance(shared, _Shared):
        shared = shared.value
    return fn(shared, *args)


def run_tasks(fn: Callable, shared: Any, tasks: Sequence[tuple], executor: Executor | None,
              progress: Callable[[int, int], None] | None = None, sizes: Sequence[int] | None = None) -> list:
    """Run ``fn(shared, *task)`` for every task; results in task order.

    ``executor=None`` runs in this process. A Dask ``ClientExecutor`` gets
    ``shared`` scattered once to every worker; other executors pickle it with
    each task. ``progress(done, total)`` is called as tasks finish (``sizes``
    weigh them; default 1 each).
    """
    sizes = list(sizes) if sizes is not None else [1] * len(tasks)
    total = int(sum(sizes))
    done = 0
    if executor is None:
        out = []
        for task, size in zip(tasks, sizes):
            out.append(fn(shared, *task))
            done += size
            if progress is not None:
                progress(done, total)
        return out
    client = getattr(executor, "_client", None)
    payload: Any = shared
    if client is not None and hasattr(client, "scatter"):
        payload = client.scatter(_Shared(shared), broadcast=True, hash=False)  # a new key per call: a repeated
        # call with the same data must not reuse a key that the previous call's future is releasing
    futures = {executor.submit(_call, fn, payload, *task): k for k, task in enumerate(tasks)}
    results: list[Any] = [None] * len(tasks)
    try:
        for fut in as_completed(futures):
            k = futures[fut]
            results[k] = fut.result()
            done += sizes[k]
            if progress is not None:
                progress(done, total)
    except BrokenExecutor as exc:
        for fut in futures:
            fut.cancel()
        raise ContagionError(f"a worker process died ({exc.__class__.__name__}): out of memory, or a script "
                             f"that starts local processes without the `if __name__ == \"__main__\":` guard") \
            from exc
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    return results


def stream_tasks(fn: Callable, shared: Any, tasks: Iterable[tuple], executor: Executor | None,
                 window: int = 2) -> Iterator[Any]:
    """Yield ``fn(shared, *task)`` for every task, **in task order**, with at most ``window`` tasks in flight.

    ``tasks`` is consumed lazily, one task as a slot frees up, so a task may be built from what the caller
    learnt from the results before it (a sweep passes the tail threshold it has reached). Results wait in
    memory only until those before them have been yielded: at most ``window`` of them. ``executor=None`` runs
    each task in this process when it is asked for. A Dask ``ClientExecutor`` gets ``shared`` scattered once.
    Closing the generator early (``break``) cancels the tasks in flight.
    """
    it = iter(tasks)
    if executor is None:
        for task in it:
            yield fn(shared, *task)
        return
    window = max(1, int(window))
    client = getattr(executor, "_client", None)
    payload: Any = shared
    if client is not None and hasattr(client, "scatter"):
        payload = client.scatter(_Shared(shared), broadcast=True, hash=False)
    pending: deque = deque()
    try:
        for task in it:
            pending.append(executor.submit(_call, fn, payload, *task))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenExecutor as exc:
        raise ContagionError(f"a worker process died ({exc.__class__.__name__}): out of memory, or a script "
                             f"that starts local processes without the `if __name__ == \"__main__\":` guard") \
            from exc
    finally:
        for fut in pending:
            fut.cancel()


def local_executor(workers: int | None = None) -> Executor:
    """A local process pool (``workers`` default: the number of cores).

    Processes start with the ``forkserver`` method (safe with threads, e.g. a
    progress bar or a compiled solver's thread pool, unlike ``fork``); the
    server preloads :mod:`contagion`, so each worker starts in milliseconds.
    As with any ``multiprocessing`` code, a script must guard its entry point
    with ``if __name__ == "__main__":``.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["contagion.sweep", "contagion.clearing"])
    workers = int(workers or os.cpu_count() or 1)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_share_threads, initargs=(workers,))


def _share_threads(workers: int) -> None:
    """Worker initializer: split the cores between the workers' compiled thread pools (numba), if any."""
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is optional for the solver
        return
    numba.set_num_threads(max(1, numba.config.NUMBA_NUM_THREADS // max(workers, 1)))


@contextmanager
def dask_executor(scheduler: str | None = None, local_workers: int | None = None) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor on Dask: an existing cluster (``scheduler="tcp://host:port"``)
    or a local cluster of ``local_workers`` processes. Needs ``pip install contagion[distributed]``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the extra is installed in CI
        raise ContagionError("Dask is not installed; pip install 'contagion[distributed]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ContagionError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        cluster = None
    else:
        cluster = LocalCluster(n_workers=int(local_workers or 1), threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def resolve_executor(executor: Executor | str | None, work: float) -> Iterator[tuple[Executor | None, int]]:
    """``(executor or None for inline, number of workers)``, shutting down a pool it created on exit.

    ``"auto"``: inline for small jobs, a local process pool when ``work`` exceeds
    :data:`AUTO_PROCESS_WORK` (and there is more than one core).
    """
    if executor == "auto":
        executor = "processes" if work > AUTO_PROCESS_WORK and (os.cpu_count() or 1) > 1 else "inline"
    if executor is None or executor == "inline":
        yield None, 1
    elif executor == "processes":
        pool = local_executor()
        try:
            yield pool, pool._max_workers  # type: ignore[attr-defined]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    elif isinstance(executor, Executor):
        yield executor, _executor_workers(executor)
    else:
        raise ContagionError(f"executor must be an Executor, 'auto', 'processes', 'inline' or None, got {executor!r}")


def _executor_workers(executor: Executor) -> int:
    n = getattr(executor, "_max_workers", None)
    if n:
        return int(n)
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # pragma: no cover
            return 2
    return 2
