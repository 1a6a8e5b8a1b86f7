"""Building a view: :func:`build_view` runs the steps of :mod:`.model`, :mod:`.vis` and :mod:`.scenarios` in
order and gathers the page's data block and template context; :func:`network_view` renders the page."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .labels import humanize
from .layout import LAYOUTS, PHYSICS_THRESHOLD
from .model import (DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, DisplayEdges, DisplayNodes, Placement, ViewRun,
                    aggregate_edges, as_runs, cap_edges, check_options, place_nodes, select_nodes)
from .page import NetworkView, ViewPage, dataset_title, dataset_units, dataset_year, vis_network_asset
from .scenarios import ScenarioValues, scenario_values
from .style import OUTCOME_COLOURS, WAVE_COLOURS, dashed_type
from .vis import Look, VisNetwork, look_of, vis_network_data

__all__ = ["build_view", "network_view"]


def build_view(
    net: Any,
    result: Any = None,
    *,
    title: str | None = None,
    descriptions: Mapping[str, str] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_edges: int = DEFAULT_MAX_EDGES,
    size_by: str = "obligations",
    layout: str = "fr",
    physics_threshold: int = PHYSICS_THRESHOLD,
) -> NetworkView:
    """Build the model of a view (see :func:`network_view` for the parameters)."""
    check_options(size_by, layout, max_nodes, max_edges)
    runs = as_runs(net, result, descriptions)
    nodes = select_nodes(net, max_nodes)
    edges = aggregate_edges(net, runs, nodes)
    placement = place_nodes(nodes, edges, layout, physics_threshold)
    shown = cap_edges(edges, max_edges)
    look = look_of(net, nodes, shown, size_by)
    vis = vis_network_data(nodes, shown, look, placement)
    scenarios = scenario_values(net, runs, nodes, shown, look.wmax)
    return NetworkView(data=view_data(net, nodes, shown, placement, vis, scenarios),
                       context=page_context(net, runs, nodes, shown, look, placement, scenarios, title))


def view_data(net: Any, nodes: DisplayNodes, edges: DisplayEdges, placement: Placement, vis: VisNetwork,
              scenarios: list[ScenarioValues]) -> dict:
    """The JSON data block read by the page's script."""
    E = edges.frame
    return {
        "nodes": vis.nodes,
        "edges": vis.edges,
        "edgeTitle": [f"{nodes.names[f]} \u2192 {nodes.names[t]}" for f, t in zip(E["from"].to_numpy(),
                                                                                E["to"].to_numpy())],
        "options": vis.options,
        "physics": placement.physics,
        "palette": {
            "solvent": list(OUTCOME_COLOURS["solvent"]),
            "lost": list(OUTCOME_COLOURS["lost"]),
            "group": list(OUTCOME_COLOURS["group"]),
            "earlier": list(OUTCOME_COLOURS["earlier"]),
            "waves": [list(w) for w in WAVE_COLOURS],
        },
        "types": nodes.type_names,
        "kinds": edges.kind_names,
        "scenarios": [sv.data for sv in scenarios],
        "timeline": _timeline_data(scenarios),
        "institutions": int(net.n),
        "shown": int(nodes.k),
    }


def _notices(nodes: DisplayNodes, edges: DisplayEdges) -> list[str]:
    """What the page says it left out: the aggregated institutions and the edges beyond the cap."""
    n, k, G = nodes.n, nodes.k, nodes.G
    notices = []
    if G:
        notices.append(
            f"Showing the {k:,} institutions with the largest gross exposures (total obligations plus claims on "
            f"the network) of {n:,}; the other {n - k:,} are aggregated into {G} group node"
            f"{'s' if G != 1 else ''}, one per type (dashed boxes). Obligations between members of the same "
            "group are not drawn; edges to and from a group are summed per kind.")
    if edges.total > len(edges.frame):
        notices.append(f"Showing the {len(edges.frame):,} largest of {edges.total:,} edges.")
    return notices


def _timeline_data(scenarios: list[ScenarioValues]) -> dict | None:
    """For the page's script: the years, the paths (scenario selector) and the most institutions in default in any
    year (the height of the tallest bar); None without a path."""
    if not scenarios or any(sv.data.get("year") is None for sv in scenarios):
        return None
    groups = list(dict.fromkeys(sv.data["group"] for sv in scenarios))
    years = [sv.data["year"] for sv in scenarios if sv.data["group"] == groups[0]]
    return {"years": years, "groups": [next(sv.data["groupName"] for sv in scenarios if sv.data["group"] == g)
                                       for g in groups],
            "top": max(max(sv.data["inDefault"] for sv in scenarios), 1)}


def _timeline(runs: list[ViewRun]) -> dict | None:
    """The year slider of a path view: the years, the paths (several: a scenario selector), and per year of the
    first path the institutions in default and the new ones (the page's script updates them for the others)."""
    if not runs or any(r.path is None for r in runs):
        return None
    groups = list(dict.fromkeys(r.path.group_name for r in runs))
    years = [r.path for r in runs if r.path.group == 0]
    top = max(max(int(r.path.defaulted.sum()) for r in runs), 1)
    return {"years": [py.year for py in years], "defaults": [int(py.defaulted.sum()) for py in years],
            "new": [int((py.wave >= 0).sum()) for py in years], "institutions": int(len(years[0].defaulted)),
            "heights": [round(100 * int(py.defaulted.sum()) / top) for py in years],
            "groups": groups if len(groups) > 1 else [],
            "scenario": years[0].scenario or "no scenario (the network as it is)"}


def page_context(net: Any, runs: list[ViewRun], nodes: DisplayNodes, edges: DisplayEdges, look: Look,
                 placement: Placement, scenarios: list[ScenarioValues], title: str | None) -> dict:
    """Values for the page's Jinja2 template: titles, counts, notices, legends and scenario summaries."""
    type_names, kind_names, kind_codes = nodes.type_names, edges.kind_names, edges.kind_codes
    type_counts = np.bincount(nodes.type_codes, minlength=len(type_names))
    kind_counts = np.bincount(kind_codes, minlength=len(kind_names)) if len(kind_codes) else np.zeros(len(kind_names))
    layout_note = ("Layout: vis-network physics (ForceAtlas2), stopped once stable; drag nodes to rearrange."
                   if placement.physics
                   else f"Layout: {LAYOUTS[placement.layout][0]} computed in advance; physics off.")
    dataset = dataset_title(net.metadata)
    units = dataset_units(net.metadata)
    timeline = _timeline(runs)
    span = f" \u2014 path {timeline['years'][0]}\u2013{timeline['years'][-1]}" if timeline else ""
    return {
        "title": title or (f"Network view \u2014 {dataset}{span}" if dataset else f"Network view{span}"),
        "timeline": timeline,
        "dataset": dataset,
        "n_institutions": net.n,
        "n_obligations": int(net.n_edges),
        "n_shown_nodes": nodes.N,
        "n_shown_edges": len(edges.frame),
        "notices": _notices(nodes, edges),
        "layout_note": layout_note,
        "size_label": look.size_label,
        "units": str(units) if units else "",
        "year": dataset_year(net.metadata),
        # legends in words (``ai_lab`` -> "AI lab"); the code as written in the data is the label's tooltip
        "types": [{"index": i, "name": humanize(t), "code": t, "shape": str(look.shapes[i]),
                   "count": int(type_counts[i]), "dashed": dashed_type(i)} for i, t in enumerate(type_names)],
        "kinds": [{"index": i, "name": humanize(kn), "code": kn, "colour": look.kind_colours[i],
                   "count": int(kind_counts[i])} for i, kn in enumerate(kind_names)],
        "scenarios": [{"index": s, "name": r.name, "description": r.description, "legend": scenarios[s].legend,
                       "summary": scenarios[s].summary, "waves": scenarios[s].data["waves"]}
                      for s, r in enumerate(runs)],
        "version": _version(),
        "vis_version": vis_network_asset()[1],
    }


def network_view(
    net: Any,
    result: Any = None,
    *,
    title: str | None = None,
    descriptions: Mapping[str, str] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_edges: int = DEFAULT_MAX_EDGES,
    size_by: str = "obligations",
    layout: str = "fr",
    physics_threshold: int = PHYSICS_THRESHOLD,
) -> ViewPage:
    """An interactive, offline HTML view of a network and its clearing outcome.

    Parameters
    ----------
    net : FinancialNetwork
        The network drawn: institutions, obligations and the equity *before*
        the scenario (usually the unshocked network).
    result : StressResult, ClearingResult, mapping of label -> ClearingResult, PathResult, mapping of label -> PathResult, or None
        The outcome(s) to colour by. A result's network must be ``net`` or a
        shocked version of it (same institutions and edge rows; the amounts
        may differ); a :class:`~contagion.pipeline.StressResult` of
        :func:`contagion.stress` on ``net`` brings its label and description.
        Several results (a mapping) give a scenario selector. A
        :class:`~contagion.paths.PathResult` of :func:`contagion.clear_path`
        (pass ``path.network`` as ``net``) gives a year slider: one step per
        year, coloured by the path's outcome (defaulted that year, by wave;
        in default since an earlier year; solvent), with what fell due and
        was paid that year in the tooltips; several paths over the same
        horizon (a mapping) add a scenario selector. ``None`` clears ``net`` as given
        with Eisenberg-Noe (through :func:`contagion.stress`).
    title : str, optional
        Page title; default "Network view -- <dataset>".
    descriptions : mapping of label -> str, optional
        Scenario descriptions shown in the side panel.
    max_nodes : int
        Institutions shown individually (the largest gross exposures); the
        rest is aggregated into one group node per type. Default 500.
    max_edges : int
        Edges drawn at most (largest amounts kept). Default 3000.
    size_by : {"obligations", "assets"}
        Node size measure (:data:`SIZE_BY`); area grows with the amount.
    layout : {"fr", "drl"}
        igraph layout used above ``physics_threshold`` displayed nodes.
    physics_threshold : int
        Up to this many displayed nodes, vis-network physics lays out the graph.

    Returns
    -------
    ViewPage
        One self-contained UTF-8 HTML page with no external URL. It is a
        ``str`` (``str(page)`` is the page's text, and code that writes or
        searches the string keeps working) that also displays inline in
        Jupyter (an ``<iframe srcdoc>`` in which the view's scripts run,
        offline) and writes itself atomically with ``page.save(path)``.

    Raises
    ------
    ContagionError
        Unknown ``size_by``/``layout``, or a result for another network.

    Examples
    --------
    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> page = network_view(net, title="Chain <test>")
    >>> "Chain &lt;test&gt;" in page and "<script src" not in page
    True
    >>> page._repr_html_().startswith('<iframe title="Chain &lt;test&gt;" srcdoc="&lt;!DOCTYPE html&gt;')
    True

    A path, one step of the year slider per year:

    >>> path = contagion.clear_path(net, (2026, 2027), ["a-fails"])
    >>> view = build_view(path.network, path)
    >>> [s["name"] for s in view.data["scenarios"]], view.context["timeline"]["defaults"]
    (['2026', '2027'], [3, 3])
    """
    return build_view(net, result, title=title, descriptions=descriptions, max_nodes=max_nodes,
                      max_edges=max_edges, size_by=size_by, layout=layout,
                      physics_threshold=physics_threshold).to_html()


def _version() -> str:
    from .. import __version__

    return __version__
