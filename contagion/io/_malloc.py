"""glibc's ``mallopt``, for the command line's process: where large blocks come from, how many arenas.

Nothing here is heavy to import (the read-ahead calls it before pandas is imported). Other C libraries
(macOS, musl) and other systems are left as they are.
"""

from __future__ import annotations

import os
import sys

__all__ = ["M_TRIM_THRESHOLD", "M_MMAP_THRESHOLD", "M_MMAP_MAX", "M_ARENA_MAX", "mallopt", "arrow_on_heap",
           "release_arrow_memory"]

#: glibc's option numbers (``malloc.h``) and the environment variable that sets each one at start-up.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
M_ARENA_MAX = -8
_ENV = {M_TRIM_THRESHOLD: "MALLOC_TRIM_THRESHOLD_", M_MMAP_THRESHOLD: "MALLOC_MMAP_THRESHOLD_",
        M_MMAP_MAX: "MALLOC_MMAP_MAX_", M_ARENA_MAX: "MALLOC_ARENA_MAX"}


def mallopt(option: int, value: int, *, unless: int | None = None) -> bool:
    """Set one of glibc's malloc options; returns whether glibc took it.

    Nothing is set off Linux, without glibc, or when the environment variable of ``option`` -- or of
    ``unless``, an option whose setting from the environment this one must not override -- is set:
    what the user asked for wins.
    """
    if not sys.platform.startswith("linux"):
        return False
    if any(os.environ.get(_ENV[o]) for o in (option, unless) if o is not None):
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL(None).mallopt(option, value))
    except (OSError, AttributeError):  # not glibc
        return False


#: The environment variable from which pyarrow takes its allocator when it starts.
ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


def arrow_on_heap() -> None:
    """Let Arrow allocate from the C library's heap (its ``system`` pool) instead of its own allocator
    (mimalloc), unless :data:`ARROW_POOL_ENV` says otherwise (``contagion.cli.main`` calls it for every run,
    before pyarrow loads; the malloc tuning for a large network calls it again, for the command run in a
    process that has loaded pyarrow already): with
    the heap tuned by :func:`mallopt` to keep what is freed, the pages a read used for the file's bytes and
    intermediate columns are used again by the clearing's arrays."""
    if os.environ.get(ARROW_POOL_ENV):
        return
    if "pyarrow" in sys.modules:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
    else:
        os.environ[ARROW_POOL_ENV] = "system"


def release_arrow_memory() -> None:
    """Give the memory Arrow's allocator keeps after a read back to the system (the file's bytes and the
    intermediate columns: ~100 MB per million obligations that would otherwise stay in the peak RSS) --
    unless Arrow allocates from the C library's heap (its ``system`` pool, the command line's), which keeps it
    for the arrays that follow: there ``release_unused`` is ``malloc_trim(0)``, which handed back pages that
    were faulted in again moments later (~0.5 s of kernel time in a 10M-obligation ``run``)."""
    import pyarrow as pa

    pool = pa.default_memory_pool()
    if pool.backend_name != "system":
        pool.release_unused()
