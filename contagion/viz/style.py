"""Colours, shapes and sizes of a network view (no network, no result: plain values and small helpers)."""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np

from ..clearing.priority import owed_network

__all__ = ["OUTCOME_COLOURS", "WAVE_COLOURS", "EDGE_KIND_COLOURS", "TYPE_SHAPES", "SIZE_BY", "kind_colour"]

#: fill and border of the outcome colours (ColorBrewer-like, print friendly)
OUTCOME_COLOURS: dict[str, tuple[str, str]] = {
    "solvent": ("#a9bfd0", "#5d7a92"),
    "lost": ("#f2b84b", "#a8741a"),
    "group": ("#eef1f4", "#6b7a8f"),
    "earlier": ("#5b4a5e", "#35283a"),     # a year of a path: in default since an earlier year
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
FALLBACK_EDGE_COLOURS = ("#4e79a7", "#59a14f", "#b07aa1", "#76b7b2", "#9c755f", "#edc948", "#ff9da7", "#bab0ac")
#: vis-network shapes (label below the node) given to institution types in order of first appearance
TYPE_SHAPES: tuple[str, ...] = ("dot", "diamond", "square", "triangle", "star", "triangleDown", "hexagon")

#: node size measure: name -> (legend text, function(network) -> array); amounts as owed when everyone pays
SIZE_BY: dict[str, tuple[str, Callable[[Any], np.ndarray]]] = {
    "obligations": ("total obligations", lambda net: owed_network(net).total_obligations),
    "assets": ("total assets (outside + claims on the network)",
               lambda net: net.external_assets + owed_network(net).interbank_assets),
}

#: node size (smallest, largest) in vis-network units; area grows with the size measure
NODE_SIZE = (9.0, 42.0)
#: edge width (thinnest, widest); width grows with the square root of the amount
EDGE_WIDTH = (0.6, 9.0)
#: node labels longer than this are cut with an ellipsis (the tooltip has the full name)
LABEL_CHARS = 28


def truncate(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when cut.

    >>> truncate("Bank of Somewhere Far Away and Beyond", 12)
    'Bank of Som\u2026'
    """
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def kind_colour(kind: str, fallback_index: int) -> str:
    """Colour of an edge kind (:data:`EDGE_KIND_COLOURS`, else a fallback palette)."""
    key = re.sub(r"[\s\-]+", "_", str(kind).strip().lower())
    if key in EDGE_KIND_COLOURS:
        return EDGE_KIND_COLOURS[key]
    return FALLBACK_EDGE_COLOURS[fallback_index % len(FALLBACK_EDGE_COLOURS)]


def type_shapes(n_types: int) -> np.ndarray:
    """vis-network shape of each of ``n_types`` institution types (the shapes repeat, see :func:`dashed_type`)."""
    return np.array([TYPE_SHAPES[i % len(TYPE_SHAPES)] for i in range(n_types)], dtype=object)


def dashed_type(type_code: int) -> bool:
    """Whether a type's outline is dashed: more types than shapes, the second round of shapes is dashed."""
    return type_code // len(TYPE_SHAPES) % 2 == 1


def node_sizes(size_values: np.ndarray, k: int) -> np.ndarray:
    """Node sizes for the size measure of each displayed node, scaled to the largest of the first ``k``."""
    smax = float(size_values[:k].max()) if k and size_values[:k].max() > 0 else 1.0
    return NODE_SIZE[0] + (NODE_SIZE[1] - NODE_SIZE[0]) * np.sqrt(np.clip(size_values / smax, 0, 1))


def node_colour(bg: str, border: str) -> dict:
    """vis-network colour of a node: fill and border, with a dark border when highlighted or hovered."""
    return {"background": bg, "border": border,
            "highlight": {"background": bg, "border": "#0f2a44"},
            "hover": {"background": bg, "border": "#0f2a44"}}


def edge_width(amount: float, wmax: float) -> float:
    """Width of an edge for ``amount``, the widest at ``wmax``."""
    return EDGE_WIDTH[0] + (EDGE_WIDTH[1] - EDGE_WIDTH[0]) * math.sqrt(max(float(amount), 0.0) / wmax)


def wave_colour(wave: int) -> tuple[str, str]:
    """Fill and border of institutions that defaulted in ``wave`` (later waves share the last colour)."""
    return WAVE_COLOURS[min(wave, len(WAVE_COLOURS) - 1)]
