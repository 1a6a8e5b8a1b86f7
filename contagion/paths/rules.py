"""What the scenarios of a path change: shocks by year, frozen lenders, faster-ageing collateral."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..errors import ScenarioError

__all__ = ["PathRules", "path_rules"]


@dataclass(frozen=True, eq=False)
class PathRules:
    """The scenarios of a path, ready to use year by year.

    ``shocks``: every shock that changes a network (applied in its years,
    or every year); ``frozen_from``: per institution, the first year it no
    longer rolls over maturing debt (``inf``: never); ``collateral``: the
    ``collateral`` rules as ``(ids or None for all, life factor, value factor,
    year, years)``.
    """

    static_network: Any = field(repr=False)
    shocks: tuple = ()
    frozen_from: np.ndarray = field(default=None, repr=False)
    collateral: tuple = ()
    #: how messages name each of ``shocks`` (``scenario 'x': shocks[2]``)
    labels: tuple = ()

    def factors(self, key: str, year: int) -> tuple[float, float]:
        """``(economic-life factor, value factor)`` of collateral ``key`` in ``year``.

        A rule with ``year`` applies from that year on, one with ``years`` in
        those years, one without either in every year; several multiply.
        """
        life, value = 1.0, 1.0
        for ids, f_life, f_value, first, years in self.collateral:
            if ids is not None and key not in ids:
                continue
            if (first is not None and year < first) or (years is not None and year not in years):
                continue
            life *= f_life
            value *= f_value
        return life, value

    def year_network(self, base: Any, year: int, due: np.ndarray, e: np.ndarray, ext: np.ndarray) -> tuple[Any, Any]:
        """``base`` with the amounts due in ``year`` and that year's outside money: before and after the shocks
        active in ``year``."""
        from ..shocks import apply_in_year

        kw: dict[str, Any] = {}
        if not np.array_equal(due, base.edges["amount"].to_numpy(dtype=np.float64)):
            kw["edge_amounts"] = due
        if not np.array_equal(e, base.external_assets):
            kw["external_assets"] = e
        if not np.array_equal(ext, base.external_liabilities):
            kw["external_liabilities"] = ext
        net = base.replace(**kw) if kw else base
        return net, (apply_in_year(net, self.shocks, year, self.labels or None) if self.shocks else net)

    def every_year_amounts(self, base: Any, year: int, amounts: np.ndarray) -> np.ndarray:
        """``amounts`` on the rows of ``base`` after the shocks that apply in every year (no ``year`` or
        ``years``): those change an obligation itself, where a dated shock changes one year's payment."""
        from ..shocks import apply_in_year

        labels = self.labels or tuple(f"shocks[{k}]" for k in range(len(self.shocks)))
        picked = [(s, label) for s, label in zip(self.shocks, labels) if not s.dated]
        if not picked:
            return amounts
        net = apply_in_year(base.replace(edge_amounts=amounts), [s for s, _ in picked], year,
                            [label for _, label in picked])
        return net.edges["amount"].to_numpy(dtype=np.float64)


def path_rules(net: Any, scenarios: Sequence[Any], years: Sequence[int]) -> PathRules:
    """Sort the shocks of ``scenarios`` into network shocks and path rules, checking their targets on ``net``.

    Raises
    ------
    ScenarioError
        A freeze whose lenders match nothing, or a shock year outside the horizon
        (it would never apply: say so rather than ignore it).
    """
    from ..shocks.targets import _node_mask, _ShockProblem

    shocks, rules, labels = [], [], []
    frozen = np.full(net.n, np.inf)
    first, last = years[0], years[-1]
    problems = []
    for scen in scenarios:
        for i, s in enumerate(scen.shocks):
            where = f"{scen.where}: shocks[{i}]"
            dated = [s.year] if s.year is not None else list(s.years or [])
            outside = [y for y in dated if not first <= y <= last and not (s.kind in ("freeze", "collateral")
                                                                           and y < first)]
            if outside:
                problems.append(f"{where}: year {outside[0]} is outside the horizon {first}:{last}")
                continue
            if s.kind == "freeze":
                try:
                    mask = _node_mask(net, s)
                except _ShockProblem as exc:
                    problems.append(f"{where}.{exc}" if exc.key else f"{where}: {exc}")
                    continue
                frozen[mask] = np.minimum(frozen[mask], -np.inf if s.year is None else s.year)
            elif s.kind == "collateral":
                ids = None if s.target is None else ((s.target,) if isinstance(s.target, str) else tuple(s.target))
                rules.append((ids, 1.0 if s.factor is None else float(s.factor),
                              1.0 - (0.0 if s.relative is None else float(s.relative)), s.year, s.years))
            else:
                shocks.append(s)
                labels.append(where)
    if problems:
        raise ScenarioError.listing(problems)
    return PathRules(static_network=net, shocks=tuple(shocks), frozen_from=frozen, collateral=tuple(rules),
                     labels=tuple(labels))
