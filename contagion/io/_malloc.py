"""glibc's ``mallopt``, for the command line's process: where large blocks come from, how many arenas.

Nothing here is heavy to import (the read-ahead calls it before pandas is imported). Other C libraries
(macOS, musl) and other systems are left as they are.
"""

from __future__ import annotations

import os
import sys

__all__ = ["M_TRIM_THRESHOLD", "M_MMAP_THRESHOLD", "M_MMAP_MAX", "M_ARENA_MAX", "mallopt"]

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
