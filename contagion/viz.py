"""Offline, self-contained interactive network views (vis-network, built with pyvis).

:func:`network_view` returns one UTF-8 HTML page that opens without a network
connection: the vis-network library is read at run time from the copy that
ships inside the ``pyvis`` package (``pyvis/templates/lib/vis-<version>/``;
vis-network is dual-licensed Apache-2.0 / MIT, its licence header is kept in
the page) and inlined; the page links no stylesheet, script, font or image.

What the page shows
-------------------
- Nodes coloured by outcome: solvent, solvent with equity lost, defaulted in
  wave 0 (fundamental), 1, 2, ... (legend with counts); sized by the square
  root of total obligations (or of total assets, ``size_by="assets"``);
  shaped by institution type.
- Edges coloured by kind, width by the square root of the amount, arrows
  from debtor to creditor (``L[i, j]``: i owes j, drawn i -> j).
- Hover tooltips with the numbers: obligations, payment, shortfall, equity
  before and after, capital depletion, wave, attributes.
- Filters by type and kind, a search box, a scenario selector when several
  results are given, and a control that replays the cascade wave by wave.

Safety
------
Names, types, kinds and attributes are untrusted input. They reach the page
(1) through Jinja2 with autoescaping, (2) inside a JSON data block in which
``<``, ``>``, ``&``, U+2028 and U+2029 are written as ``\\uXXXX`` escapes (so
``</script>`` or ``<!--`` in a name cannot close the block), and (3) in the
browser only through ``textContent`` / canvas text; tooltips are DOM elements
built with ``textContent``, never HTML strings. The page also carries a
Content-Security-Policy that allows only its own inline scripts (by SHA-256
hash) and no network access at all.

Scale
-----
Up to ``physics_threshold`` (300) displayed nodes, vis-network's physics
lays the graph out and is switched off once stable. Above it, positions come
from igraph (Fruchterman-Reingold, or DrL with ``layout="drl"``) and physics
is off. Above ``max_nodes`` (500) institutions, the ``max_nodes`` with the
largest gross exposures (total obligations + claims on the network) are
shown individually and the others are aggregated into one labelled group
node per institution type; edges touching a group are summed per (debtor,
creditor, kind). The aggregation is vectorised (``numpy.bincount``, a pandas
``groupby``), and the layout runs on the kept nodes only, so a 100,000-node
network gives a page of the same size as a 500-node one. Above ``max_edges``
displayed edges, the largest are kept. The page says what was done.

Examples
--------
>>> import contagion
>>> from contagion.viz import network_view
>>> net = contagion.load_dataset("core-periphery")
>>> hit = net.replace(external_assets=[50, 50, 56, 50, 50])
>>> html = network_view(net, contagion.clear(hit))
>>> html.startswith("<!DOCTYPE html>"), "cdn" in html.lower()
(True, False)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ContagionError
from .formatting import fmt_amount, fmt_share, outcome_text, scenario_label

__all__ = [
    "network_view",
    "build_view",
    "NetworkView",
    "ViewRun",
    "vis_network_asset",
    "script_json",
    "OUTCOME_COLOURS",
    "WAVE_COLOURS",
    "EDGE_KIND_COLOURS",
    "TYPE_SHAPES",
    "SIZE_BY",
    "LAYOUTS",
    "DEFAULT_MAX_NODES",
    "DEFAULT_MAX_EDGES",
    "PHYSICS_THRESHOLD",
]

#: institutions shown individually before the rest is aggregated per type
DEFAULT_MAX_NODES = 500
#: edges drawn at most (the largest are kept)
DEFAULT_MAX_EDGES = 3000
#: above this many displayed nodes, igraph computes positions and physics is off
PHYSICS_THRESHOLD = 300

#: fill and border of the outcome colours (ColorBrewer-like, print friendly)
OUTCOME_COLOURS: dict[str, tuple[str, str]] = {
    "solvent": ("#a9bfd0", "#5d7a92"),
    "lost": ("#f2b84b", "#a8741a"),
    "group": ("#eef1f4", "#6b7a8f"),
}
#: defaulted in wave 0 (fundamental), 1, 2, ...; later waves reuse the last colour
WAVE_COLOURS: tuple[tuple[str, str], ...] = (
    ("#67000d", "#3d0008"),
    ("#a50f15", "#67000d"),
    ("#d7301f", "#8c1d12"),
    ("#ef6548", "#a8402b"),
    ("#fc8d59", "#b5552b"),
    ("#fdbb84", "#b87a45"),
)
#: edge colour by kind (normalised: lower case, spaces and dashes as underscores)
EDGE_KIND_COLOURS: dict[str, str] = {
    "loan": "#1f77b4",
    "credit_facility": "#17becf",
    "bond": "#9467bd",
    "lease": "#8c564b",
    "compute_contract": "#2ca02c",
    "equity_commitment": "#e377c2",
    "guarantee": "#bcbd22",
    "vendor_financing": "#ff9f1c",
    "repo": "#393b79",
    "deposit": "#637939",
    "derivative": "#7b4173",
    "obligation": "#6f8293",
}
_FALLBACK_EDGE_COLOURS = ("#4e79a7", "#59a14f", "#b07aa1", "#76b7b2", "#9c755f", "#edc948", "#ff9da7", "#bab0ac")
#: vis-network shapes (label below the node) given to institution types in order of first appearance
TYPE_SHAPES: tuple[str, ...] = ("dot", "diamond", "square", "triangle", "star", "triangleDown", "hexagon")

#: node size measure: name -> (legend text, function(network) -> array)
SIZE_BY: dict[str, tuple[str, Callable[[Any], np.ndarray]]] = {
    "obligations": ("total obligations", lambda net: net.total_obligations),
    "assets": ("total assets (outside + claims on the network)",
               lambda net: net.external_assets + net.interbank_assets),
}


def _layout_fr(graph: Any, seed: list[list[float]]) -> Any:
    return graph.layout_fruchterman_reingold(seed=seed, niter=300)


def _layout_drl(graph: Any, seed: list[list[float]]) -> Any:
    return graph.layout_drl(seed=seed)


#: igraph layouts used above :data:`PHYSICS_THRESHOLD` nodes: name -> (description, function(graph, seed))
LAYOUTS: dict[str, tuple[str, Callable[[Any, list[list[float]]], Any]]] = {
    "fr": ("igraph Fruchterman-Reingold", _layout_fr),
    "drl": ("igraph DrL", _layout_drl),
}

_NODE_SIZE = (9.0, 42.0)
_EDGE_WIDTH = (0.6, 9.0)
_LABEL_CHARS = 28


# ---------------------------------------------------------------------------- assets and escaping
@lru_cache(maxsize=1)
def vis_network_asset() -> tuple[str, str]:
    """The vis-network JavaScript shipped inside the installed ``pyvis`` package, and its version.

    Looks for ``pyvis/templates/lib/vis-<version>/vis-network.min.js`` (then
    ``pyvis/lib/...``) and takes the highest version. vis-network is
    dual-licensed Apache-2.0 / MIT (header kept in the file).

    Raises
    ------
    ContagionError
        When pyvis or the file is missing.
    """
    try:
        import pyvis
    except ImportError:  # pragma: no cover - pyvis is a required dependency
        raise ContagionError("the network view needs pyvis (pip install pyvis)") from None
    root = Path(pyvis.__file__).resolve().parent
    found: list[tuple[tuple[int, ...], Path]] = []
    for base in (root / "templates" / "lib", root / "lib"):
        for path in base.glob("vis-*/vis-network.min.js"):
            version = tuple(int(x) for x in re.findall(r"\d+", path.parent.name))
            found.append((version, path))
    if not found:
        raise ContagionError(f"vis-network.min.js not found inside the pyvis package ({root})")
    version, path = max(found)
    js = path.read_text(encoding="utf-8")
    # an inline <script> ends at the first "</script"; the shipped file has none, keep it that way
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE).replace("<!--", "<\\!--")
    return js, ".".join(map(str, version))


def script_json(obj: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e``, ``\\u0026``
    (so neither ``</script>`` nor ``<!--`` can appear), as are U+2028/U+2029.
    Non-finite floats are not allowed (pass ``None``).

    >>> script_json({"name": "</script><!--"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# ---------------------------------------------------------------------------- formatting helpers









def _truncate(text: str, limit: int = _LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def kind_colour(kind: str, fallback_index: int) -> str:
    """Colour of an edge kind (:data:`EDGE_KIND_COLOURS`, else a fallback palette)."""
    key = re.sub(r"[\s\-]+", "_", str(kind).strip().lower())
    if key in EDGE_KIND_COLOURS:
        return EDGE_KIND_COLOURS[key]
    return _FALLBACK_EDGE_COLOURS[fallback_index % len(_FALLBACK_EDGE_COLOURS)]


def capital_depletion(equity_before: np.ndarray, equity_after: np.ndarray) -> np.ndarray:
    """Share of the pre-scenario equity lost, in ``[0, 1]``; NaN where the equity before was not positive.

    >>> capital_depletion(np.array([10.0, 10.0, 0.0]), np.array([4.0, -5.0, -1.0])).tolist()
    [0.6, 1.0, nan]
    """
    before = np.asarray(equity_before, dtype=float)
    after = np.asarray(equity_after, dtype=float)
    out = np.full(before.shape, np.nan)
    pos = before > 0
    out[pos] = np.clip((before[pos] - after[pos]) / before[pos], 0.0, 1.0)
    return out


def equity_lost(equity_before: np.ndarray, equity_after: np.ndarray) -> np.ndarray:
    """Whether equity fell (beyond a relative tolerance of 1e-9)."""
    tol = 1e-9 * np.maximum(1.0, np.abs(equity_before))
    return np.asarray(equity_after) < np.asarray(equity_before) - tol


# ---------------------------------------------------------------------------- the model of a view
@dataclass(frozen=True)
class ViewRun:
    """One scenario shown in a view: a label, a description and the clearing result."""

    name: str
    description: str
    result: Any


@dataclass(frozen=True)
class NetworkView:
    """Everything a view page shows; :meth:`to_html` renders it.

    Attributes
    ----------
    data : dict
        The JSON data block read by the page's script (``nodes``, ``edges``,
        ``scenarios``, ``options`` ...). ``nodes`` / ``edges`` are the
        vis-network items built with pyvis.
    context : dict
        Values for the Jinja2 template (legends, notices, summaries).
    """

    data: dict
    context: dict = field(repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of displayed nodes (institutions shown individually + group nodes)."""
        return len(self.data["nodes"])

    @property
    def n_edges(self) -> int:
        """Number of displayed edges."""
        return len(self.data["edges"])

    def to_html(self) -> str:
        """The self-contained page (UTF-8 text)."""
        from .templates import asset, csp_hash, render

        vis_js, _ = vis_network_asset()
        app_js = asset("view.js")
        css = asset("view.css")
        csp = _csp([csp_hash(vis_js), csp_hash(app_js)])
        return render("view.html.j2", vis_js=vis_js, app_js=app_js, css=css, csp=csp,
                      data_json=script_json(self.data), **self.context)

    def _repr_html_(self) -> str:  # pragma: no cover - Jupyter display
        import html as _html

        return (f'<iframe srcdoc="{_html.escape(self.to_html(), quote=True)}" '
                'style="width:100%;height:640px;border:1px solid #d5dbe1" sandbox="allow-scripts"></iframe>')


def _csp(script_hashes: Sequence[str]) -> str:
    return ("default-src 'none'; script-src " + " ".join(script_hashes)
            + "; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
              "base-uri 'none'; form-action 'none'")


def view_csp_hashes() -> list[str]:
    """CSP hashes of the scripts of a view page (a page embedding a view in ``srcdoc`` must allow them)."""
    from .templates import asset, csp_hash

    return [csp_hash(vis_network_asset()[0]), csp_hash(asset("view.js"))]


# ---------------------------------------------------------------------------- building
def _as_runs(net: Any, result: Any, descriptions: Mapping[str, str] | None) -> list[ViewRun]:
    from .clearing import ClearingResult
    from .pipeline import StressResult, stress

    descriptions = dict(descriptions or {})
    if result is None:  # the network as given, cleared through the one pipeline
        st = stress(net, ())
        label = scenario_label(net.metadata) if net.metadata.get("scenarios") else "As given (no scenario)"
        runs = [ViewRun(label, descriptions.get(label, ""), st.clearing)]
    elif isinstance(result, StressResult):
        runs = [ViewRun(result.label, descriptions.get(result.label, result.description), result.clearing)]
    elif isinstance(result, ClearingResult):
        label = scenario_label(result.network.metadata)
        runs = [ViewRun(label, descriptions.get(label, ""), result)]
    elif isinstance(result, Mapping):
        runs = [ViewRun(str(k), descriptions.get(str(k), ""), v) for k, v in result.items()]
    else:
        runs = [r if isinstance(r, ViewRun) else ViewRun(str(r[0]), descriptions.get(str(r[0]), ""), r[1])
                for r in result]
    if not runs:
        raise ContagionError("network_view: no result to show")
    for run in runs:
        other = run.result.network
        if other.n != net.n or other.n_edges != net.n_edges or tuple(other.names) != tuple(net.names):
            raise ContagionError(
                f"result {run.name!r} is for a different network ({other.n} institutions, {other.n_edges} "
                f"obligations) than the one drawn ({net.n}, {net.n_edges}); pass the network before the scenario")
    return runs


def dataset_title(meta: Mapping[str, Any]) -> str:
    """Human title of a network from its metadata: ``title``, else the built-in dataset's ``dataset.toml`` title,
    else the dataset name, else the source folder name, else ``""``."""
    meta = meta or {}
    if meta.get("title"):
        return str(meta["title"])
    name = meta.get("dataset")
    if name:
        try:
            from .datasets import dataset_config

            return str(dataset_config(str(name)).get("title") or name)
        except ContagionError:
            return str(name)
    if meta.get("source"):
        return Path(str(meta["source"])).name
    return ""


def dataset_units(meta: Mapping[str, Any]) -> str:
    """Units of the amounts: metadata ``units``/``unit``, else the built-in dataset's ``dataset.toml`` ``units``."""
    meta = meta or {}
    units = meta.get("units") or meta.get("unit")
    if not units and meta.get("dataset"):
        try:
            from .datasets import dataset_config

            units = dataset_config(str(meta["dataset"])).get("units")
        except ContagionError:
            units = None
    return str(units) if units else ""





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
    if size_by not in SIZE_BY:
        raise ContagionError(f"unknown size_by {size_by!r}; choose one of {sorted(SIZE_BY)}")
    if layout not in LAYOUTS:
        raise ContagionError(f"unknown layout {layout!r}; choose one of {sorted(LAYOUTS)}")
    if max_nodes < 1 or max_edges < 1:
        raise ContagionError("max_nodes and max_edges must be at least 1")
    runs = _as_runs(net, result, descriptions)
    n = net.n

    # ---- node selection and groups (vectorised over all n institutions)
    type_codes, type_names = pd.factorize(pd.Series(net.types, dtype=object).astype(str), sort=False)
    type_names = [str(t) for t in type_names]
    exposure = net.total_obligations + net.interbank_assets
    if n > max_nodes:
        order = np.lexsort((np.arange(n), -exposure))
        kept = np.sort(order[:max_nodes])
    else:
        kept = np.arange(n)
    k = len(kept)
    kept_mask = np.zeros(n, dtype=bool)
    kept_mask[kept] = True
    rest = np.flatnonzero(~kept_mask)
    present = np.zeros(len(type_names), dtype=bool)
    present[type_codes[rest]] = True
    group_types = np.flatnonzero(present)                 # type code of each group node
    group_rank = np.full(len(type_names), -1)
    group_rank[group_types] = np.arange(len(group_types))
    G = len(group_types)
    display_of = np.empty(n, dtype=np.int64)
    display_of[kept] = np.arange(k)
    display_of[rest] = k + group_rank[type_codes[rest]]
    rest_group = display_of[rest] - k
    group_count = np.bincount(rest_group, minlength=G)
    N = k + G

    def per_display(values: np.ndarray) -> np.ndarray:
        """Values of kept institutions, then sums over each group."""
        values = np.asarray(values, dtype=float)
        return np.concatenate([values[kept], np.bincount(rest_group, weights=values[rest], minlength=G)])

    size_label, size_fn = SIZE_BY[size_by]
    size_values = per_display(size_fn(net))
    equity_before = net.equity_before
    ext_before = net.external_assets

    # ---- edges
    di, ci = net.edge_index
    base_edges = net.edges
    kind_codes, kind_names = pd.factorize(base_edges["kind"].astype(str), sort=False)
    kind_names = [str(x) for x in kind_names]
    amounts = np.column_stack([np.asarray(r.result.network.edges["amount"], dtype=float) for r in runs])
    paid_frac = []
    for run in runs:
        pbar = run.result.network.total_obligations
        paid_frac.append(np.divide(run.result.payments, pbar, out=np.ones_like(pbar), where=pbar > 0))
    paid = np.column_stack([amounts[:, s] * paid_frac[s][di] for s in range(len(runs))])
    base_amount = np.asarray(base_edges["amount"], dtype=float)
    gd, gc = display_of[di], display_of[ci]
    internal = gd == gc
    indiv = kept_mask[di] & kept_mask[ci]
    agg = ~internal & ~indiv
    group_internal = np.bincount(gd[internal] - k, weights=base_amount[internal], minlength=G) if G else np.zeros(0)

    S = len(runs)
    rows_i = np.flatnonzero(indiv)
    frames = [pd.DataFrame({"from": gd[rows_i], "to": gc[rows_i], "kind": kind_codes[rows_i],
                            "base": base_amount[rows_i], "count": 1, "row": rows_i,
                            **{f"a{s}": amounts[rows_i, s] for s in range(S)},
                            **{f"p{s}": paid[rows_i, s] for s in range(S)}})]
    if agg.any():
        rows_a = np.flatnonzero(agg)
        fa = pd.DataFrame({"from": gd[rows_a], "to": gc[rows_a], "kind": kind_codes[rows_a],
                           "base": base_amount[rows_a], "count": 1,
                           **{f"a{s}": amounts[rows_a, s] for s in range(S)},
                           **{f"p{s}": paid[rows_a, s] for s in range(S)}})
        fa = fa.groupby(["from", "to", "kind"], as_index=False, sort=True).sum()
        fa["row"] = -1
        frames.append(fa)
    E = pd.concat(frames, ignore_index=True)
    weight = np.max(np.column_stack([E["base"].to_numpy()] + [E[f"a{s}"].to_numpy() for s in range(S)]), axis=1)
    total_display_edges = len(E)

    # ---- positions (igraph on every displayed pair, before the edge cap, so no kept node is left floating)
    physics = N <= physics_threshold
    positions = None
    if not physics:
        positions = _igraph_positions(N, E["from"].to_numpy(), E["to"].to_numpy(), layout)

    if len(E) > max_edges:
        keep_e = np.sort(np.lexsort((np.arange(len(E)), -weight))[:max_edges])
        E = E.iloc[keep_e].reset_index(drop=True)
        weight = weight[keep_e]

    # ---- styling arrays
    shapes = np.array([TYPE_SHAPES[i % len(TYPE_SHAPES)] for i in range(len(type_names))], dtype=object)
    node_type = np.concatenate([type_codes[kept], group_types]).astype(int)
    smax = float(size_values[:k].max()) if k and size_values[:k].max() > 0 else 1.0
    node_size = _NODE_SIZE[0] + (_NODE_SIZE[1] - _NODE_SIZE[0]) * np.sqrt(np.clip(size_values / smax, 0, 1))
    wmax = float(weight.max()) if len(weight) and weight.max() > 0 else 1.0
    kind_colours = [kind_colour(kn, i) for i, kn in enumerate(kind_names)]
    names = np.asarray(net.names, dtype=object)
    node_names = [str(x) for x in names[kept]] + [f"Other {type_names[t]} ({group_count[g]:,})"
                                                   for g, t in enumerate(group_types)]
    solvent_bg, solvent_border = OUTCOME_COLOURS["solvent"]
    group_bg, group_border = OUTCOME_COLOURS["group"]

    # ---- pyvis builds the vis-network items and options
    from pyvis.network import Network

    pv = Network(directed=True, height="100%", width="100%")
    for i in range(N):
        is_group = i >= k
        item: dict[str, Any] = {
            "label": (f"Other {type_names[node_type[i]]}\n{group_count[i - k]:,} institutions" if is_group
                      else _truncate(node_names[i])),
            "shape": "box" if is_group else str(shapes[node_type[i]]),
            "color": _node_colour(group_bg if is_group else solvent_bg, group_border if is_group else solvent_border),
            "ctype": int(node_type[i]),
            "agg": bool(is_group),
            "fullName": node_names[i],
            "count": int(group_count[i - k]) if is_group else 1,
        }
        if not is_group and node_type[i] // len(TYPE_SHAPES) % 2 == 1:
            # more types than shapes: the second round of shapes has a dashed outline
            item.update(shapeProperties={"borderDashes": [3, 2]}, borderWidth=2)
        if is_group:
            item.update(shapeProperties={"borderDashes": [5, 4]}, borderWidth=1.5, internal=float(group_internal[i - k]),
                        font={"size": 13, "color": "#33475b", "multi": False}, margin=8)
        else:
            item["size"] = float(round(node_size[i], 2))
        if positions is not None:
            item.update(x=float(positions[i, 0]), y=float(positions[i, 1]))
        pv.add_node(i, **item)
    smooth_rank = E.groupby(["from", "to"]).cumcount().to_numpy() if len(E) else np.zeros(0, dtype=int)
    e_from, e_to, e_kind = E["from"].to_numpy(), E["to"].to_numpy(), E["kind"].to_numpy()
    e_base, e_count, e_row = E["base"].to_numpy(), E["count"].to_numpy(), E["row"].to_numpy()
    e_amount0 = E["a0"].to_numpy()
    for j in range(len(E)):
        item = {
            "id": j,
            "color": {"color": kind_colours[e_kind[j]], "highlight": "#0f2a44", "hover": "#0f2a44", "opacity": 0.75},
            "width": float(round(_edge_width(e_amount0[j], wmax), 2)),
            "kind": int(e_kind[j]),
            "amount": float(e_base[j]),
            "count": int(e_count[j]),
        }
        if physics:
            item["smooth"] = {"enabled": True, "type": "curvedCW", "roundness": float(0.12 + 0.12 * smooth_rank[j])}
        pv.add_edge(int(e_from[j]), int(e_to[j]), **item)
    if physics:
        pv.force_atlas_2based(gravity=-70, central_gravity=0.012, spring_length=110, spring_strength=0.06,
                              damping=0.45, overlap=0.6)
    else:
        pv.toggle_physics(False)
    vis_nodes, vis_edges, _, _, _, options_json = pv.get_network_data()
    options = json.loads(options_json)
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

    # ---- per-scenario values (only for displayed nodes / edges)
    scenarios = []
    legends = []
    summaries = []
    eb_disp = per_display(equity_before)
    kept_forced_attrs = _node_attributes(net, kept)
    edge_attrs = _edge_attributes(base_edges, e_row)
    for s, run in enumerate(runs):
        res = run.result
        rnet = res.network
        wave = np.asarray(res.default_round, dtype=int)
        lost_all = equity_lost(equity_before, res.equity) & ~res.defaulted
        pbar_d = per_display(rnet.total_obligations)
        pay_d = per_display(res.payments)
        short_d = per_display(res.shortfall)
        eq_d = per_display(res.equity)
        ext_d = per_display(rnet.external_assets)
        ext0_d = per_display(ext_before)
        defaults_in_group = np.bincount(rest_group, weights=res.defaulted[rest].astype(float), minlength=G)
        lost_in_group = np.bincount(rest_group, weights=lost_all[rest].astype(float), minlength=G)
        depletion = capital_depletion(eb_disp, eq_d)
        node_wave = np.concatenate([wave[kept], np.full(G, -1)]).astype(int)
        node_lost = np.concatenate([lost_all[kept], np.zeros(G, dtype=bool)])
        tips = []
        for i in range(N):
            rows = [["Type", type_names[node_type[i]]]]
            if i >= k:
                g = i - k
                rows += [["Institutions (aggregated)", f"{group_count[g]:,}"],
                         ["Defaulted", f"{int(defaults_in_group[g]):,}"],
                         ["Solvent, equity lost", f"{int(lost_in_group[g]):,}"]]
            rows += [["Total obligations", fmt_amount(pbar_d[i])],
                     ["Payment", fmt_amount(pay_d[i])],
                     ["Shortfall", fmt_amount(short_d[i])],
                     ["Equity before", fmt_amount(eb_disp[i])],
                     ["Equity after", fmt_amount(eq_d[i])],
                     ["Capital depletion", fmt_share(depletion[i])]]
            if abs(ext_d[i] - ext0_d[i]) > 1e-12 * max(1.0, abs(ext0_d[i])):
                rows.append(["Outside assets", f"{fmt_amount(ext0_d[i])} \u2192 {fmt_amount(ext_d[i])}"])
            if i < k:
                orig = kept[i]
                if rnet.forced_default[orig]:
                    rows.append(["Forced default", f"yes, pays at most {fmt_share(rnet.forced_recovery[orig])}"])
                rows.append(["Outcome", outcome_text(int(node_wave[i]), bool(node_lost[i]))])
                rows += kept_forced_attrs[i]
            else:
                rows.append(["Obligations inside the group", fmt_amount(group_internal[i - k])])
            tips.append(rows)
        etips = []
        a_s, p_s = E[f"a{s}"].to_numpy(), E[f"p{s}"].to_numpy()
        for j in range(len(E)):
            rows = [["Kind", kind_names[e_kind[j]]], ["Amount owed", fmt_amount(a_s[j])]]
            if abs(a_s[j] - e_base[j]) > 1e-12 * max(1.0, abs(e_base[j])):
                rows.append(["Before the scenario", fmt_amount(e_base[j])])
            rows += [["Paid (pro rata)", fmt_amount(p_s[j])], ["Unpaid", fmt_amount(a_s[j] - p_s[j])]]
            if e_count[j] > 1 or e_row[j] < 0:
                rows.append(["Obligations aggregated", f"{int(e_count[j]):,}"])
            rows += edge_attrs[j]
            etips.append(rows)
        widths = [float(round(_edge_width(a, wmax), 2)) for a in a_s]
        summary = res.summary()
        outcome_counts = _outcome_legend(wave, lost_all, res.defaulted)
        scenarios.append({
            "name": run.name,
            "waves": int(summary["waves"]),
            "waveCounts": np.bincount(wave[wave >= 0]).tolist() if (wave >= 0).any() else [],
            "nodeWave": node_wave.tolist(),
            "nodeLost": node_lost.astype(int).tolist(),
            "nodeTip": tips,
            "edgeWidth": widths,
            "edgeCancelled": (a_s <= 0).astype(int).tolist(),
            "edgeTip": etips,
        })
        legends.append(outcome_counts)
        summaries.append(_summary_rows(res, net))

    edge_titles = [f"{node_names[f]} \u2192 {node_names[t]}" for f, t in zip(e_from, e_to)]
    type_counts = np.bincount(type_codes, minlength=len(type_names))
    kind_counts = np.bincount(kind_codes, minlength=len(kind_names)) if len(kind_codes) else np.zeros(len(kind_names))
    data = {
        "nodes": vis_nodes,
        "edges": vis_edges,
        "edgeTitle": edge_titles,
        "options": options,
        "physics": physics,
        "palette": {
            "solvent": list(OUTCOME_COLOURS["solvent"]),
            "lost": list(OUTCOME_COLOURS["lost"]),
            "group": list(OUTCOME_COLOURS["group"]),
            "waves": [list(w) for w in WAVE_COLOURS],
        },
        "types": type_names,
        "kinds": kind_names,
        "scenarios": scenarios,
        "institutions": int(n),
        "shown": int(k),
    }

    notices = []
    if G:
        notices.append(
            f"Showing the {k:,} institutions with the largest gross exposures (total obligations plus claims on "
            f"the network) of {n:,}; the other {n - k:,} are aggregated into {G} group node"
            f"{'s' if G != 1 else ''}, one per type (dashed boxes). Obligations between members of the same "
            "group are not drawn; edges to and from a group are summed per kind.")
    if total_display_edges > len(E):
        notices.append(f"Showing the {len(E):,} largest of {total_display_edges:,} edges.")
    layout_note = ("Layout: vis-network physics (ForceAtlas2), stopped once stable; drag nodes to rearrange."
                   if physics else f"Layout: {LAYOUTS[layout][0]} computed in advance; physics off.")
    meta = net.metadata
    dataset = dataset_title(meta)
    units = dataset_units(meta)
    context = {
        "title": title or (f"Network view \u2014 {dataset}" if dataset else "Network view"),
        "dataset": dataset,
        "n_institutions": n,
        "n_obligations": int(net.n_edges),
        "n_shown_nodes": N,
        "n_shown_edges": len(E),
        "notices": notices,
        "layout_note": layout_note,
        "size_label": size_label,
        "units": str(units) if units else "",
        "types": [{"index": i, "name": t, "shape": str(shapes[i]), "count": int(type_counts[i]),
                   "dashed": i // len(TYPE_SHAPES) % 2 == 1} for i, t in enumerate(type_names)],
        "kinds": [{"index": i, "name": kn, "colour": kind_colours[i], "count": int(kind_counts[i])}
                  for i, kn in enumerate(kind_names)],
        "scenarios": [{"index": s, "name": r.name, "description": r.description, "legend": legends[s],
                       "summary": summaries[s], "waves": scenarios[s]["waves"]} for s, r in enumerate(runs)],
        "version": _version(),
        "vis_version": vis_network_asset()[1],
    }
    return NetworkView(data=data, context=context)


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
) -> str:
    """An interactive, offline HTML view of a network and its clearing outcome.

    Parameters
    ----------
    net : FinancialNetwork
        The network drawn: institutions, obligations and the equity *before*
        the scenario (usually the unshocked network).
    result : StressResult, ClearingResult, mapping of label -> ClearingResult, or None
        The outcome(s) to colour by. A result's network must be ``net`` or a
        shocked version of it (same institutions and edge rows); a
        :class:`~contagion.pipeline.StressResult` of :func:`contagion.stress`
        on ``net`` brings its label and description. Several results (a
        mapping) give a scenario selector. ``None`` clears ``net`` as given
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
    str
        One self-contained UTF-8 HTML page with no external URL.

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
    """
    return build_view(net, result, title=title, descriptions=descriptions, max_nodes=max_nodes,
                      max_edges=max_edges, size_by=size_by, layout=layout,
                      physics_threshold=physics_threshold).to_html()


# ---------------------------------------------------------------------------- helpers
def _node_colour(bg: str, border: str) -> dict:
    return {"background": bg, "border": border,
            "highlight": {"background": bg, "border": "#0f2a44"},
            "hover": {"background": bg, "border": "#0f2a44"}}


def _edge_width(amount: float, wmax: float) -> float:
    return _EDGE_WIDTH[0] + (_EDGE_WIDTH[1] - _EDGE_WIDTH[0]) * math.sqrt(max(float(amount), 0.0) / wmax)


def _merge(target: dict, extra: Mapping) -> dict:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


def _igraph_positions(N: int, src: np.ndarray, dst: np.ndarray, layout: str) -> np.ndarray:
    """Positions of N nodes: igraph layout of the connected ones, isolated nodes in a grid below it."""
    import random

    import igraph

    pairs = np.unique(np.column_stack([src, dst]), axis=0) if len(src) else np.zeros((0, 2), dtype=int)
    linked = np.zeros(N, dtype=bool)
    linked[pairs.ravel()] = True
    idx = np.flatnonzero(linked)
    out = np.zeros((N, 2))
    spread = 40.0 * math.sqrt(N)
    if len(idx):
        local = np.full(N, -1)
        local[idx] = np.arange(len(idx))
        graph = igraph.Graph(n=len(idx), edges=local[pairs].tolist(), directed=False)
        angle = 2 * np.pi * np.arange(len(idx)) / len(idx)
        seed = np.column_stack([np.cos(angle), np.sin(angle)]).tolist()
        # igraph draws from Python's random module by default; a seeded generator makes the layout
        # reproducible, and the default is put back afterwards
        igraph.set_random_number_generator(random.Random(20240601))
        try:
            coords = np.asarray(LAYOUTS[layout][1](graph, seed).coords, dtype=float)
        finally:
            igraph.set_random_number_generator(random)
        coords -= np.median(coords, axis=0)
        scale = float(np.percentile(np.abs(coords), 95)) or 1.0
        out[idx] = coords / scale * spread
    lonely = np.flatnonzero(~linked)
    if len(lonely):
        cols = max(1, int(math.ceil(math.sqrt(len(lonely) * 4))))
        step = 45.0
        top = (out[idx, 1].max() if len(idx) else 0.0) + 3 * step
        left = -(min(cols, len(lonely)) - 1) * step / 2
        k = np.arange(len(lonely))
        out[lonely, 0] = left + (k % cols) * step
        out[lonely, 1] = top + (k // cols) * step
    return np.round(out, 1)


_SKIP_NODE_COLUMNS = {"id", "name", "type", "external_assets", "external_liabilities", "forced_default",
                      "forced_recovery"}
_SKIP_EDGE_COLUMNS = {"debtor", "creditor", "amount", "kind"}
_MAX_ATTRIBUTES = 8


def _text_rows(frame: pd.DataFrame, columns: list[str]) -> list[list[list[str]]]:
    out: list[list[list[str]]] = []
    if not columns:
        return [[] for _ in range(len(frame))]
    values = frame[columns].astype(object)
    isna = values.isna().to_numpy()
    arr = values.to_numpy()
    for r in range(len(frame)):
        out.append([[str(c), _truncate(str(arr[r, j]), 120)] for j, c in enumerate(columns)
                    if not isna[r, j] and str(arr[r, j]) != ""])
    return out


def _node_attributes(net: Any, kept: np.ndarray) -> list[list[list[str]]]:
    table = net.nodes
    cols = [c for c in table.columns if c not in _SKIP_NODE_COLUMNS][:_MAX_ATTRIBUTES]
    rows = _text_rows(table.iloc[kept], cols)
    ids, names = np.asarray(net.ids, dtype=object)[kept], np.asarray(net.names, dtype=object)[kept]
    for r, (i, nm) in enumerate(zip(ids, names)):
        if i != nm:
            rows[r].insert(0, ["Id", str(i)])
    return rows


def _edge_attributes(edges: pd.DataFrame, rows: np.ndarray) -> list[list[list[str]]]:
    cols = [c for c in edges.columns if c not in _SKIP_EDGE_COLUMNS][:_MAX_ATTRIBUTES]
    out: list[list[list[str]]] = [[] for _ in range(len(rows))]
    have = np.flatnonzero(rows >= 0)
    if len(have) and cols:
        for pos, attrs in zip(have, _text_rows(edges.iloc[rows[have]], cols)):
            out[pos] = attrs
    return out


def _outcome_legend(wave: np.ndarray, lost: np.ndarray, defaulted: np.ndarray) -> list[dict]:
    entries = [{"key": "solvent", "label": "Solvent", "colour": OUTCOME_COLOURS["solvent"][0],
                "count": int((~defaulted & ~lost).sum())},
               {"key": "lost", "label": "Solvent, equity lost", "colour": OUTCOME_COLOURS["lost"][0],
                "count": int(lost.sum())}]
    waves = np.bincount(wave[wave >= 0]) if (wave >= 0).any() else np.zeros(0, dtype=int)
    for w, count in enumerate(waves):
        entries.append({"key": f"wave{w}", "label": outcome_text(w, False).replace("Defaulted in w", "Defaulted, w"),
                        "colour": WAVE_COLOURS[min(w, len(WAVE_COLOURS) - 1)][0], "count": int(count)})
    return entries


def _summary_rows(res: Any, base: Any) -> list[list[str]]:
    s = res.summary()
    rows = [["Defaults", f"{s['defaults']:,} of {s['institutions']:,}"],
            ["Fundamental (wave 0)", f"{s['fundamental_defaults']:,}"],
            ["Contagion waves", str(max(s["waves"], 0))],
            ["Total shortfall", fmt_amount(s["total_shortfall"])],
            ["Unpaid to outside creditors", fmt_amount(s["external_shortfall"])]]
    method = s["method"]
    if res.params:
        method += " (" + ", ".join(f"{k}={v}" for k, v in res.params.items()) + ")"
    rows.append(["Clearing", method])
    return rows


def _version() -> str:
    from . import __version__

    return __version__
