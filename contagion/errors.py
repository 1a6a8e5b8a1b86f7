"""The exception tree of :mod:`contagion`.

``ContagionError`` is the root; the CLI turns any of them into a one-line
message and exit code 1.

- :class:`InvalidNetworkError` -- bad network data (file, row, column, value);
- :class:`ScenarioError` -- a bad scenario or shock specification;
- :class:`ConvergenceError` -- a solver did not converge.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ContagionError",
    "InvalidNetworkError",
    "ScenarioError",
    "ConvergenceError",
    "Problem",
]


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
        val = "" if self.value is None else f" (value: {self.value!r})"
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
        first = str(self.problems[0]) if self.problems else "invalid network"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""))


class ScenarioError(ContagionError, ValueError):
    """A scenario or shock that cannot be applied (unknown node, bad value, ...)."""

    def __init__(self, message: str, problems: "list[str] | None" = None) -> None:
        self.problems = list(problems) if problems else [message]
        super().__init__(message)


class ConvergenceError(ContagionError, RuntimeError):
    """A clearing solver stopped before reaching its tolerance.

    Attributes ``iterations`` and ``residual`` say how far it got.
    """

    def __init__(self, message: str, iterations: int, residual: float) -> None:
        self.iterations = int(iterations)
        self.residual = float(residual)
        super().__init__(f"{message} (after {self.iterations} iterations, residual {self.residual:.3e})")
