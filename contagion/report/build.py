"""Building a report: each scenario applied separately and cleared through :func:`contagion.stress`."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable, Mapping


from ..errors import ContagionError
from .model import DEFAULT_MAX_ROWS, Report, ScenarioRun
from .story import describe_shock
from ..viz import DEFAULT_MAX_NODES


def _stress_item(base: Any, item: Any, k: int, method: str,
                 params: Mapping[str, Any]) -> tuple[str, str, Any, tuple[Any, Any]]:
    """``(name, description, StressResult, (network, scenarios) of its path)`` of one scenario item, cleared
    through :func:`contagion.stress`."""
    from ..network import FinancialNetwork
    from ..pipeline import stress

    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], FinancialNetwork):
        return str(item[0]), "", stress(item[1], (), method=method, **params), (item[1], ())
    if isinstance(item, FinancialNetwork):  # already shocked: its metadata names the scenarios
        meta = item.metadata or {}
        names = meta.get("scenarios") or []
        name = " + ".join(map(str, names)) if names else f"Scenario {k + 1}"
        return name, str(meta.get("description", "")), stress(item, (), method=method, **params), (item, ())
    st = stress(base, [item], method=method, **params)
    return st.label, st.description, st, (base, [item])


def build_report(
    network: Any,
    scenarios: Iterable[Any] | None = (),
    *,
    method: str = "eisenberg-noe",
    title: str | None = None,
    generated: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_nodes: int = DEFAULT_MAX_NODES,
    horizon: tuple[int, int] | None = None,
    rank: bool = False,
    sweep: Any = None,
    draws: int | None = None,
    seed: int = 0,
    reverse_stress: Iterable[Any] = (),
    sensitivity: str | None = None,
    effects: Any = None,
    **params: Any,
) -> Report:
    """Apply each scenario separately to ``network``, clear, and gather the report.

    Parameters
    ----------
    network : FinancialNetwork
        The base network (before any scenario).
    scenarios : iterable or None
        Each item is applied separately (through :func:`contagion.stress`) and
        is a :class:`~contagion.shocks.Scenario`, a scenario name or file path
        (resolved with :func:`contagion.shocks.find_scenario`), an already
        shocked :class:`~contagion.FinancialNetwork` (same institutions), or a
        ``(label, shocked network)`` pair. Empty: one column for the network
        as given. ``None``: the dataset's default scenario (as for
        :func:`contagion.stress`; ``Report.default_applied`` says whether one
        was applied), else the network as given.
    method : str
        Clearing method; ``**params`` are passed to it (``alpha``, ``beta``).
    title : str, optional
        Default "Stress test: <dataset title>".
    generated : str, optional
        Date printed on the report (default: today, ISO format).
    max_rows : int
        Institutions listed per scenario in the HTML report (CSV has all).
    max_nodes : int
        Cap of the embedded network view (see :func:`contagion.viz.network_view`).
    horizon : (int, int), optional
        First and last year: each scenario is also cleared year by year
        (:func:`contagion.clear_path`, the same scenario on the same network)
        and the report gets a timeline section: defaults by year, the
        maturity wall (principal due by borrower type, rolled over or
        called), who defaults when, and the cash of the institutions that
        fail. The other sections stay the one-year clearing.
    rank : bool
        Add a systemic-importance section
        (:func:`contagion.measures.systemic_importance`).
    sweep : SweepConfig, str or path, optional
        Add a loss-distribution section: a Monte Carlo sweep
        (:func:`contagion.sweep.run_sweep`) of this configuration (a file, or
        the name of one shipped with the dataset), ``draws`` draws (default
        10,000, as ``contagion sweep``) from ``seed``.
    reverse_stress : iterable of str or (target, shock) pairs
        Add a reverse-stress section: for each ``"TARGET:SHOCK"`` the smallest
        shock of the family that makes TARGET default
        (:func:`contagion.measures.reverse_stress`; SHOCK as ``contagion
        reverse-stress --shock``, e.g. ``external_assets:OpenAI``).
    sensitivity : str, optional
        Add a sensitivity section: every labelled assumption ranked by how much
        it moves this institution's equity, a tornado chart
        (:func:`contagion.sensitivity.rank_assumptions`; ``effects`` as there).

        The analytics sections are computed on ``network`` as given, before the
        scenarios (see :mod:`contagion.report.analytics`).

    Raises
    ------
    ScenarioError
        An unknown scenario or one that cannot be applied.
    ContagionError
        An unknown method, a shocked network with other institutions, or a bad horizon.

    Examples
    --------
    >>> import contagion
    >>> rep = build_report(contagion.load_dataset("chain"), ["a-fails"], horizon=(2026, 2027), generated="2025-01-01")
    >>> rep.defaults_by_year()["a-fails"].tolist()
    [3, 3]
    """
    from ..measures import loss_summary, losses_by_creditor_type
    from ..pipeline import stress

    as_given = ("No scenario", "The network as given, without shocks.")
    default_applied = False
    if scenarios is None:  # the dataset's default scenario (over a horizon its path scenario), if it names one
        from ..pipeline import resolve

        default, default_applied = resolve(network, None, path=horizon is not None)
        st = stress(network, default, method=method, **params)
        named = [(st.label, st.description, st, (network, None)) if st.scenarios
                 else (*as_given, st, (network, ()))]
    else:
        named = [_stress_item(network, item, k, method, params) for k, item in enumerate(scenarios)]
        if not named:
            named = [(*as_given, stress(network, (), method=method, **params), (network, ()))]
    runs = []
    for name, description, st, (path_net, path_scenarios) in named:
        shocked, res = st.network, st.clearing
        if shocked.n != network.n or tuple(shocked.names) != tuple(network.names):
            raise ContagionError(f"scenario {name!r}: the shocked network has other institutions than the base")
        shocks = tuple(describe_shock(shock, network) for scen in st.scenarios for shock in scen.shocks)
        skipped = sum(shock.path_only for scen in st.scenarios for shock in scen.shocks)
        path = None
        if horizon is not None:
            from ..paths import clear_path

            path = clear_path(path_net, horizon, path_scenarios, method=method, **params)
        runs.append(ScenarioRun(name, description, shocks, shocked, res, loss_summary(res, network),
                                losses_by_creditor_type(res), path, skipped))
    from ..viz import dataset_title
    from .analytics import run_analytics

    analytics = run_analytics(network, method=method, params=params, rank=rank, sweep=sweep, draws=draws, seed=seed,
                              reverse_stress=reverse_stress, sensitivity=sensitivity, effects=effects)
    return Report(base=network, runs=tuple(runs),
                  title=title or f"Stress test: {dataset_title(network.metadata) or 'network'}", method=method,
                  params=dict(runs[0].result.params), generated=generated or _dt.date.today().isoformat(),
                  max_rows=max_rows, max_nodes=max_nodes, default_applied=default_applied,
                  horizon=None if horizon is None else (int(runs[0].path.years[0]), int(runs[0].path.years[-1])),
                  analytics=analytics)


def render(network: Any, scenarios: Iterable[Any] = (), **kwargs: Any) -> str:
    """The HTML report (one self-contained page); parameters as :func:`build_report`.

    >>> import contagion
    >>> page = render(contagion.load_dataset("chain"), ["a-fails"], generated="2025-01-01")
    >>> "a-fails" in page and "<script src" not in page and 'href="http' not in page
    True
    """
    return build_report(network, scenarios, **kwargs).to_html()


def render_markdown(network: Any, scenarios: Iterable[Any] = (), **kwargs: Any) -> dict[str, bytes]:
    """Files of the Markdown report, ``{relative path: bytes}``; parameters as :func:`build_report`.

    >>> import contagion
    >>> files = render_markdown(contagion.load_dataset("chain"), ["a-fails"], generated="2025-01-01")
    >>> sorted(p for p in files if not p.startswith("figures/"))  # doctest: +NORMALIZE_WHITESPACE
    ['report.md', 'tables/across-scenarios.csv', 'tables/defaults-by-wave.csv', 'tables/institutions-a-fails.csv',
     'tables/losses-by-creditor-type.csv', 'tables/summary.csv', 'view.html']
    """
    return build_report(network, scenarios, **kwargs).to_markdown()
