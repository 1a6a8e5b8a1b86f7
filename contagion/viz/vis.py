"""The vis-network items and options of a view, built with pyvis: node and edge styling, physics or fixed
positions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import numpy as np

from .labels import others
from .model import DisplayEdges, DisplayNodes, Placement
from .style import (OUTCOME_COLOURS, SIZE_BY, dashed_type, edge_width, kind_colour, node_colour, node_sizes,
                    truncate, type_shapes)

__all__ = ["Look", "VisNetwork", "look_of", "vis_network_data"]


@dataclass(frozen=True, eq=False)
class Look:
    """Sizes, shapes and colours of the displayed items.

    Attributes
    ----------
    size_label : str
        What the node size measures (legend text).
    node_size : ndarray
        Size of every displayed node.
    shapes : ndarray of str
        vis-network shape of every institution type.
    kind_colours : list of str
        Colour of every edge kind.
    wmax : float
        Amount drawn at the widest edge width.
    """

    size_label: str
    node_size: np.ndarray
    shapes: np.ndarray
    kind_colours: list[str]
    wmax: float


@dataclass(frozen=True)
class VisNetwork:
    """The vis-network items of a view: node and edge options (as pyvis writes them) and the network options."""

    nodes: list[dict]
    edges: list[dict]
    options: dict


def look_of(net: Any, nodes: DisplayNodes, edges: DisplayEdges, size_by: str) -> Look:
    """Node sizes by the ``size_by`` measure, shapes by type, colours by kind, the widest edge's amount."""
    size_label, size_fn = SIZE_BY[size_by]
    weight = edges.weight
    wmax = float(weight.max()) if len(weight) and weight.max() > 0 else 1.0
    return Look(size_label=size_label, node_size=node_sizes(nodes.per_display(size_fn(net)), nodes.k),
                shapes=type_shapes(len(nodes.type_names)),
                kind_colours=[kind_colour(kn, i) for i, kn in enumerate(edges.kind_names)], wmax=wmax)


def _node_items(nodes: DisplayNodes, edges: DisplayEdges, look: Look, placement: Placement) -> Iterator[dict]:
    """The pyvis node options of every displayed node, in display order."""
    k, node_type, group_count = nodes.k, nodes.node_type, nodes.group_count
    solvent_bg, solvent_border = OUTCOME_COLOURS["solvent"]
    group_bg, group_border = OUTCOME_COLOURS["group"]
    for i in range(nodes.N):
        is_group = i >= k
        item: dict[str, Any] = {
            "label": (others(nodes.type_names[node_type[i]], int(group_count[i - k]), lines=True) if is_group
                      else truncate(nodes.names[i])),
            "shape": "box" if is_group else str(look.shapes[node_type[i]]),
            "color": node_colour(group_bg if is_group else solvent_bg, group_border if is_group else solvent_border),
            "ctype": int(node_type[i]),
            "agg": bool(is_group),
            "fullName": nodes.names[i],
            "count": int(group_count[i - k]) if is_group else 1,
        }
        if not is_group and dashed_type(node_type[i]):
            item.update(shapeProperties={"borderDashes": [3, 2]}, borderWidth=2)
        if is_group:
            item.update(shapeProperties={"borderDashes": [5, 4]}, borderWidth=1.5,
                        internal=float(edges.group_internal[i - k]),
                        font={"size": 13, "color": "#33475b", "multi": False}, margin=8)
        else:
            item["size"] = float(round(look.node_size[i], 2))
        if not placement.physics:
            item.update(x=float(placement.positions[i, 0]), y=float(placement.positions[i, 1]))
        yield item


def _edge_items(edges: DisplayEdges, look: Look, physics: bool) -> Iterator[tuple[int, int, dict]]:
    """``(from, to, pyvis edge options)`` of every displayed edge; width by the first scenario's amount."""
    E = edges.frame
    smooth_rank = E.groupby(["from", "to"]).cumcount().to_numpy() if len(E) else np.zeros(0, dtype=int)
    e_from, e_to, e_kind = E["from"].to_numpy(), E["to"].to_numpy(), E["kind"].to_numpy()
    e_base, e_count, e_amount0 = E["base"].to_numpy(), E["count"].to_numpy(), E["a0"].to_numpy()
    for j in range(len(E)):
        item = {
            "id": j,
            "color": {"color": look.kind_colours[e_kind[j]], "highlight": "#0f2a44", "hover": "#0f2a44",
                      "opacity": 0.75},
            "width": float(round(edge_width(e_amount0[j], look.wmax), 2)),
            "kind": int(e_kind[j]),
            "amount": float(e_base[j]),
            "count": int(e_count[j]),
        }
        if physics:
            item["smooth"] = {"enabled": True, "type": "curvedCW", "roundness": float(0.12 + 0.12 * smooth_rank[j])}
        yield int(e_from[j]), int(e_to[j]), item


def _merge(target: dict, extra: Mapping) -> dict:
    """Merge ``extra`` into ``target`` in place, recursing into dicts present in both."""
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


def _options(options: dict, N: int, physics: bool) -> dict:
    """pyvis's options with the view's fonts, arrows, interaction and physics settings."""
    _merge(options, {
        "autoResize": True,
        "nodes": {"borderWidth": 1.5, "borderWidthSelected": 3,
                  "font": {"size": 14, "face": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
                           "color": "#1b2733", "strokeWidth": 3, "strokeColor": "#ffffff"}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "color": {"inherit": False},
                  "selectionWidth": 1.5, "hoverWidth": 0.8, "arrowStrikethrough": False},
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": not physics,
                        "navigationButtons": False, "keyboard": {"enabled": False}, "multiselect": False},
        "layout": {"randomSeed": 7, "improvedLayout": N <= 120},
    })
    if physics:
        options["physics"]["stabilization"] = {"enabled": True, "iterations": 400, "updateInterval": 25, "fit": True}
        options["physics"]["minVelocity"] = 0.75
    else:
        options["edges"]["smooth"] = False
        options["physics"] = {"enabled": False}
        # many nodes: labels appear once zoomed in far enough to read them
        options["nodes"]["scaling"] = {"label": {"enabled": False, "drawThreshold": 9}}
    return options


def vis_network_data(nodes: DisplayNodes, edges: DisplayEdges, look: Look, placement: Placement) -> VisNetwork:
    """The vis-network ``(nodes, edges, options)`` of a view, built with pyvis."""
    from pyvis.network import Network

    pv = Network(directed=True, height="100%", width="100%")
    for i, item in enumerate(_node_items(nodes, edges, look, placement)):
        pv.add_node(i, **item)
    for src, dst, item in _edge_items(edges, look, placement.physics):
        pv.add_edge(src, dst, **item)
    if placement.physics:
        pv.force_atlas_2based(gravity=-70, central_gravity=0.012, spring_length=110, spring_strength=0.06,
                              damping=0.45, overlap=0.6)
    else:
        pv.toggle_physics(False)
    vis_nodes, vis_edges, _, _, _, options_json = pv.get_network_data()
    return VisNetwork(nodes=vis_nodes, edges=vis_edges,
                      options=_options(json.loads(options_json), nodes.N, placement.physics))
