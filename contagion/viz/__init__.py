"""Offline, self-contained interactive network views (vis-network, built with pyvis).

:func:`network_view` returns one UTF-8 HTML page that opens without a network
connection (a :class:`ViewPage`: a ``str`` that also displays inline in Jupyter
and saves itself atomically with ``.save(path)``): the vis-network library is
read at run time from the copy that ships inside the ``pyvis`` package (``pyvis/templates/lib/vis-<version>/``;
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
- For a multi-year path (a :class:`~contagion.paths.PathResult`), a year
  slider instead of the scenario selector: the same network drawn for every
  year, coloured by the path's outcome that year (defaulted that year, by
  wave; in default since an earlier year; solvent), edges by what falls due
  that year, with a bar per year of the institutions in default.

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

Modules
-------
The view is built in steps, each a small function returning a frozen record
(:func:`build_view` runs them in order):

- :mod:`.model`: the scenarios (:func:`~.model.as_runs`), the displayed
  nodes (:func:`~.model.select_nodes`), the displayed edges
  (:func:`~.model.aggregate_edges`), where the nodes go
  (:func:`~.model.place_nodes`) and the edge cap (:func:`~.model.cap_edges`);
- :mod:`.vis`: sizes, shapes and colours (:func:`~.vis.look_of`) and the
  vis-network items and options built with pyvis
  (:func:`~.vis.vis_network_data`);
- :mod:`.scenarios`: per-scenario outcomes, tooltips, legends and summaries
  (:mod:`.labels`: the edge table's columns in words for the edge tooltips);
- :mod:`.build`: the page's data block and template context;
- :mod:`.style` (colours, shapes, sizes), :mod:`.layout` (igraph positions)
  and :mod:`.page` (the HTML page, its assets and its CSP) below them.

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

from .build import build_view, network_view
from .layout import LAYOUTS, PHYSICS_THRESHOLD
from .model import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, ViewRun
from .page import (NetworkView, ViewPage, dataset_title, dataset_units, iframe_html, script_json, view_csp_hashes,
                   vis_network_asset)
from .scenarios import capital_depletion, equity_lost
from .style import EDGE_KIND_COLOURS, OUTCOME_COLOURS, SIZE_BY, TYPE_SHAPES, WAVE_COLOURS, kind_colour

__all__ = [
    "network_view",
    "build_view",
    "NetworkView",
    "ViewPage",
    "iframe_html",
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
    "view_csp_hashes",
    "dataset_title",
    "dataset_units",
    "capital_depletion",
    "equity_lost",
    "kind_colour",
]
