"""A demand slowdown over time: from an AI lab's planned revenue path to the shocks of each year.

:func:`demand_slowdown` turns "growth is cut by ``cut`` from ``start``, for good
or recovering over ``recovery`` years" into a :class:`~contagion.shocks.Scenario`
of dated shocks for :func:`contagion.clear_path`:

- **Revenue.** Planned growth ``g_t = planned_t / planned_{t-1} - 1``;
  actual growth ``g_t - c_t`` where ``c_t = cut`` from ``start`` on
  (persistent) or falling linearly back to 0 over ``recovery`` years
  (``c_t = cut * (1 - (t - start) / recovery)``, at least 0). Actual revenue
  ``a_t = a_{t-1} (1 + g_t - c_t)`` from ``a_{start-1} = planned_{start-1}``
  (at least 0). The shortfall ``planned_t - a_t`` is taken from the lab's
  outside assets in year ``t`` (an ``external_assets`` shock with
  ``absolute``): revenue it planned on and did not get.
- **Contracts.** Obligations of the lab that it can cancel or scale down
  (selected by ``cancellable``, by default ``contingent = true``: "up to"
  commitments and options) shrink with its revenue: an ``edges`` shock with
  ``factor = a_t / planned_t`` in year ``t``. Take-or-pay contracts
  (``contingent = false``) do not: the lab owes them whatever it earns, which
  is how a slowdown turns into defaults.

>>> sc = demand_slowdown("openai", {2026: 10, 2027: 20, 2028: 40}, start=2027, cut=0.5)

Planned growth is 100% a year; actual 50%: revenue 15 in 2027 (5 short) and 22.5 in
2028 (17.5 short); cancellable contracts x 15/20 and x 22.5/40.

>>> [s.describe() for s in sc.shocks]  # doctest: +NORMALIZE_WHITESPACE
['external_assets of openai: -5 (in 2027)', 'obligations (debtor openai; contingent=True): x 0.75 (in 2027)',
 'external_assets of openai: -17.5 (in 2028)', 'obligations (debtor openai; contingent=True): x 0.5625 (in 2028)']
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ScenarioError

__all__ = ["demand_slowdown", "slowdown_path"]


def slowdown_path(planned: Mapping[int, float], start: int, cut: float,
                  recovery: int | None = None) -> dict[int, float]:
    """Actual revenue by year under the slowdown (see the module docstring).

    >>> slowdown_path({2026: 10, 2027: 20, 2028: 40}, 2027, 0.5)
    {2026: 10.0, 2027: 15.0, 2028: 22.5}
    >>> slowdown_path({2026: 10, 2027: 20, 2028: 40, 2029: 80}, 2027, 0.5, recovery=2)
    {2026: 10.0, 2027: 15.0, 2028: 26.25, 2029: 52.5}
    """
    years = sorted(int(y) for y in planned)
    if not years or any(b != a + 1 for a, b in zip(years, years[1:])):
        raise ScenarioError("planned revenue: give consecutive years")
    values = {y: float(planned[y]) for y in years}
    if any(not v >= 0 for v in values.values()):
        raise ScenarioError("planned revenue: every year's revenue must be a number >= 0")
    if not (isinstance(cut, (int, float)) and 0 <= cut <= 10):
        raise ScenarioError(f"cut must be a growth cut >= 0 (0.3 = 30 points less growth), got {cut!r}")
    if start not in values or start - 1 not in values:
        raise ScenarioError(f"start {start}: the planned path must include {start - 1} and {start}")
    if recovery is not None and (isinstance(recovery, bool) or not isinstance(recovery, int) or recovery < 1):
        raise ScenarioError(f"recovery must be a whole number of years >= 1, got {recovery!r}")
    actual = {y: v for y, v in values.items() if y < start}
    for y in years:
        if y < start:
            continue
        prev_plan = values[y - 1]
        growth = values[y] / prev_plan - 1.0 if prev_plan > 0 else 0.0
        c = cut if recovery is None else max(0.0, cut * (1.0 - (y - start) / recovery))
        base = actual[y - 1] if prev_plan > 0 else values[y]
        actual[y] = max(0.0, base * (1.0 + growth - c))
    return actual


def demand_slowdown(lab: str, planned: Mapping[int, float], *, start: int, cut: float, recovery: int | None = None,
                    cancellable: Mapping[str, Any] | None = None, name: str | None = None,
                    description: str | None = None):
    """A :class:`~contagion.shocks.Scenario` of dated shocks for a revenue slowdown of ``lab``.

    Parameters
    ----------
    lab : str
        Name or id of the institution whose revenue falls short.
    planned : mapping year -> revenue
        The planned path (consecutive years, in the network's units).
    start : int
        First year of the slowdown.
    cut : float
        Growth points lost each year (0.3: 30 points less growth than planned).
    recovery : int, optional
        Years over which growth returns to plan; none: the cut is persistent.
    cancellable : mapping, optional
        Edge-table selector of the lab's obligations that scale with its
        revenue; default ``{"contingent": True}``.
    name, description : str, optional

    Returns
    -------
    Scenario
        Per year from ``start``: ``external_assets`` of ``lab`` minus the
        shortfall, and its cancellable obligations times actual / planned.
    """
    from ..shocks import Scenario, Shock

    actual = slowdown_path(planned, start, cut, recovery)
    select = dict(cancellable) if cancellable is not None else {"contingent": True}
    shocks = []
    for y in sorted(actual):
        if y < start:
            continue
        plan = float(planned[y])
        short = plan - actual[y]
        if short > 0:
            shocks.append(Shock("external_assets", target=lab, absolute=round(short, 12), year=y))
        if plan > 0:
            shocks.append(Shock("edges", debtor=lab, select=select, factor=round(actual[y] / plan, 12), year=y))
    how = "for good" if recovery is None else f"recovering over {recovery} years"
    return Scenario(
        name or f"{lab}-slowdown-{start}",
        description or (f"{lab}: revenue growth {cut:.0%} points below plan from {start}, {how}; the shortfall comes "
                        f"out of its outside assets, and its cancellable contracts shrink with its revenue while "
                        f"take-or-pay contracts do not."),
        tuple(shocks),
    )
