"""The exception tree of :mod:`contagion`.

``ContagionError`` is the root; the CLI turns any of them into a one-line
message and exit code 1.

- :class:`InvalidNetworkError` -- bad network data (file, row, column, value);
- :class:`ScenarioError` -- a bad scenario or shock specification;
- :class:`ConvergenceError` -- a solver did not converge.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ContagionError",
    "InvalidNetworkError",
    "ScenarioError",
    "ConvergenceError",
    "OutputError",
    "Problem",
    "shown",
    "did_you_mean",
    "and_more",
    "check_memory",
    "SHOWN_CHARS",
]

#: Longest text of a value echoed in an error message (inputs are never echoed whole).
SHOWN_CHARS = 80

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 4, 6, 6, 6
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 2 * SHOWN_CHARS


def did_you_mean(key: Any, choices: Any) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` to ``key`` (underscores read as hyphens), else
    ``""``.

    >>> did_you_mean("eisenberg_noe", ["eisenberg-noe", "rogers-veraart"]), did_you_mean("zzz", ["a"])
    (" (did you mean 'eisenberg-noe'?)", '')
    """
    import difflib

    choices = [str(c) for c in choices]
    text = str(key)[:200]
    same = [c for c in choices if c.replace("_", "-").lower() == text.replace("_", "-").lower()]
    close = same or difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
    return f" (did you mean {shown(close[0])}?)" if close else ""


def shown(value: Any, limit: int = SHOWN_CHARS, *, quote: bool = True) -> str:
    """The text of ``value`` as an error message shows it: what it really is, at most ``limit`` characters.

    numpy/pandas scalars read as plain Python values (``True``, not
    ``np.True_``), a float NaN as ``nan`` (never "missing"), and containers
    are abbreviated without being expanded in full (a YAML "billion laughs"
    value costs nothing here). ``quote=False`` shows text without quotes.

    >>> shown("x" * 200)[-10:], len(shown("x" * 200))
    ("xxxxxx...'", 80)
    >>> import numpy as np
    >>> shown(np.True_), shown(np.float64("nan")), shown(float("inf")), shown(None)
    ('True', 'nan', 'inf', 'None')
    """
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        try:
            value = item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        text = str(value)
    elif isinstance(value, str) and not quote:
        text = value if value.isprintable() else value.encode("unicode_escape").decode("ascii")
    else:
        try:
            text = _REPR.repr(value)
        except Exception:  # a broken __repr__: say what it is
            text = f"<{type(value).__name__}>"
    if len(text) > limit:
        keep = limit - 4 if text[:1] in "'\"" and quote and isinstance(value, str) else limit - 3
        text = text[:keep] + "..." + (text[0] if keep == limit - 4 else "")
    return text


def check_memory(nbytes: float, what: str) -> None:
    """Raise :class:`ContagionError` when ``what`` needs more memory than the machine has available.

    ``nbytes`` is the memory ``what`` would allocate; the message gives both
    numbers, so that the caller can choose a smaller job. Nothing is done when
    the available memory cannot be read (not Linux).
    """
    available = _available_memory()
    if available is not None and nbytes > available:
        raise ContagionError(f"{what} needs about {_size(nbytes)} of memory, more than the {_size(available)} "
                             f"available; make it smaller")


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _size(nbytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if nbytes >= scale:
            return f"{nbytes / scale:,.1f} {unit}"
    return f"{nbytes / 1e3:,.1f} kB"


class ContagionError(Exception):
    """Base class of every error raised on purpose by :mod:`contagion`."""


@dataclass(frozen=True)
class Problem:
    """One located problem in input data.

    ``row`` follows the spreadsheet convention for files: the header is row 1,
    so the first data row is row 2.  For in-memory tables it is the 0-based
    position of the row.  ``None`` means "not about a particular row".
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        loc = ", ".join(where)
        val = "" if self.value is None else f" (value: {shown(self.value)})"
        return f"{loc}: {self.message}{val}" if loc else f"{self.message}{val}"


class InvalidNetworkError(ContagionError, ValueError):
    """Network data that cannot be used, with every problem found.

    ``problems`` lists :class:`Problem` objects; ``str(error)`` names the first
    one (file, row, column, value) and how many more there are.
    """

    def __init__(self, problems: "list[Problem] | Problem | str") -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(and_more(str(self.problems[0]) if self.problems else "invalid network",
                                  len(self.problems) - 1))


def and_more(first: str, more: int) -> str:
    """The one line an error with several problems shows: the first, and how many more.

    >>> and_more("a.toml: x", 0), and_more("a.toml: x", 1), and_more("a.toml: x", 3)
    ('a.toml: x', 'a.toml: x (and 1 more problem)', 'a.toml: x (and 3 more problems)')
    """
    return first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else "")


class ScenarioError(ContagionError, ValueError):
    """A scenario or shock that cannot be applied (unknown node, bad value, ...)."""

    def __init__(self, message: str, problems: "list[str] | None" = None) -> None:
        self.problems = list(problems) if problems else [message]
        super().__init__(message)

    @classmethod
    def listing(cls, problems: "list[str]") -> "ScenarioError":
        """The error of several problems: its text the first and how many more (:func:`and_more`)."""
        return cls(and_more(problems[0], len(problems) - 1), problems)


class OutputError(ContagionError, OSError):
    """A file that cannot be written: the message says which and why; nothing was replaced.

    Also an :class:`OSError` (``errno`` and ``filename`` are set when the
    system gave them), so code that catches ``OSError`` keeps working.
    """

    def __init__(self, message: str, errno: int | None = None, filename: object = None) -> None:
        if errno is not None:
            OSError.__init__(self, errno, message, filename)
        else:
            OSError.__init__(self, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConvergenceError(ContagionError, RuntimeError):
    """A clearing solver stopped before reaching its tolerance.

    Attributes ``iterations`` and ``residual`` say how far it got.
    """

    def __init__(self, message: str, iterations: int, residual: float) -> None:
        self.iterations = int(iterations)
        self.residual = float(residual)
        super().__init__(f"{message} (after {self.iterations} iterations, residual {self.residual:.3e})")
