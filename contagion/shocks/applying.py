"""Applying a scenario, a shock, or a list of them to a network: :func:`apply`."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..errors import InvalidNetworkError, ScenarioError
from ._common import PATH_KINDS
from .kinds import SHOCK_KINDS
from .model import Scenario, Shock
from .targets import _ShockProblem

if TYPE_CHECKING:  # pragma: no cover
    from ..network import FinancialNetwork




class PathOnlyWarning(UserWarning):
    """A scenario has shocks that apply only on a multi-year path, and a one-year clearing skipped them.

    ``shocks``: where they are (``"scenario 'x': shocks[0]"``, ...).
    """

    def __init__(self, message: str, shocks: Sequence[str] = ()):
        super().__init__(message)
        self.shocks = tuple(shocks)


def apply_in_year(network: "FinancialNetwork", shocks: Sequence[Shock], year: int,
                  labels: Sequence[str] | None = None) -> "FinancialNetwork":
    """Apply the shocks active in ``year`` (no year, or ``year`` among theirs), path rules excepted.

    Used by :func:`contagion.clear_path` for each year of a path. ``labels`` name the shocks in messages
    (default ``shocks[k]``, ``k`` the position in ``shocks``).

    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> shocks = [Shock("external_assets", target="A", absolute=1, year=2027),
    ...           Shock("external_assets", target="B", absolute=2)]
    >>> [apply_in_year(net, shocks, y).external_assets.tolist() for y in (2026, 2027)]
    [[5.0, 4.0, 0.5], [4.0, 4.0, 0.5]]
    """
    from dataclasses import replace

    labels = list(labels) if labels is not None else [f"shocks[{k}]" for k in range(len(shocks))]
    active = [(label, replace(s, year=None, years=None)) for label, s in zip(labels, shocks)
              if s.kind not in PATH_KINDS and (not s.dated or s.year == year
                                               or (s.years is not None and year in s.years))]
    try:
        return _apply_labelled(network, active) if active else network
    except ScenarioError as exc:         # (an undated shock may fit one year's amounts and not another's)
        raise ScenarioError.listing([f"in {year}, {p}" for p in exc.problems]) from None


def _apply_labelled(network: "FinancialNetwork", shocks: Sequence[tuple[str, Shock]]) -> "FinancialNetwork":
    """Apply ``(label, shock)`` pairs in order; a :class:`ScenarioError` listing every problem by its label."""
    problems: list[str] = []
    out = network
    for label, shock in shocks:
        try:
            out = SHOCK_KINDS[shock.kind].apply(out, shock)
        except _ShockProblem as exc:
            problems.append(f"{label}.{exc}" if exc.key else f"{label}: {exc}")
        except InvalidNetworkError as exc:
            problems.append(f"{label}: {exc}")
    if problems:
        raise ScenarioError.listing(problems)
    return out


def _shocks_of(item: Any) -> Iterable[tuple[str, Shock]]:
    if isinstance(item, Scenario):
        return [(f"{item.where}: shocks[{i}]", s) for i, s in enumerate(item.shocks)]
    if isinstance(item, Shock):
        return [("shock", item)]
    if isinstance(item, (list, tuple)):
        out: list[tuple[str, Shock]] = []
        for k, sub in enumerate(item):
            if not isinstance(sub, (Scenario, Shock)):
                raise ScenarioError(f"apply() takes Scenario or Shock objects, got {type(sub).__name__} at [{k}]")
            out.extend((label if isinstance(sub, Scenario) else f"shocks[{k}]", s) for label, s in _shocks_of(sub))
        return out
    raise ScenarioError(f"apply() takes a Scenario, a Shock or a list of them, got {type(item).__name__}")


def apply(network: "FinancialNetwork", scenario: "Scenario | Shock | Sequence[Scenario | Shock]") -> "FinancialNetwork":
    """Apply a scenario, a shock, or a list of them (in order) and return a new network.

    The input network is not changed. Names of applied scenarios are appended
    to ``metadata["scenarios"]``.

    Raises
    ------
    ScenarioError
        Listing every shock that cannot be applied (unknown target, selector
        matching nothing, loss larger than the assets held), located as
        ``scenario 'name': shocks[i].key: reason``. A failing shock is skipped
        while the others are checked, then the error is raised.

    Examples
    --------
    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> out = apply(net, [Shock("edges", debtor="A", creditor="B", factor=0.5),
    ...                   Shock("external_liabilities", target="C", absolute=2)])
    >>> out.liabilities.toarray().tolist()[0], out.external_liabilities.tolist()
    ([0.0, 5.0, 0.0], [0.0, 5.0, 10.0])
    >>> net.liabilities.toarray().tolist()[0]  # unchanged
    [0.0, 10.0, 0.0]
    """
    shocks = list(_shocks_of(scenario))
    dated = [label for label, s in shocks if s.path_only]
    if dated:
        warnings.warn(PathOnlyWarning(f"{len(dated)} shock{'s' if len(dated) > 1 else ''} ({dated[0]}"
                      f"{', ...' if len(dated) > 1 else ''}) with a year, or a freeze/collateral rule, apply only "
                      f"on a multi-year path (contagion.clear_path, run --horizon); a one-year clearing skips them",
                      dated), stacklevel=2)
    out = _apply_labelled(network, [(label, shock) for label, shock in shocks if not shock.path_only])
    names = [s.name for s in (scenario if isinstance(scenario, (list, tuple)) else [scenario])
             if isinstance(s, Scenario)]
    if names:
        out = out.replace(metadata={**out.metadata, "scenarios": [*out.metadata.get("scenarios", []), *names]})
    return out
