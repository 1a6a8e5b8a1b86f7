"""Positions of the displayed nodes computed in advance with igraph (used above the physics threshold)."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

__all__ = ["LAYOUTS", "PHYSICS_THRESHOLD", "igraph_positions"]

#: above this many displayed nodes, igraph computes positions and physics is off
PHYSICS_THRESHOLD = 300


def _layout_fr(graph: Any, seed: list[list[float]]) -> Any:
    return graph.layout_fruchterman_reingold(seed=seed, niter=300)


def _layout_drl(graph: Any, seed: list[list[float]]) -> Any:
    return graph.layout_drl(seed=seed)


#: igraph layouts used above :data:`PHYSICS_THRESHOLD` nodes: name -> (description, function(graph, seed))
LAYOUTS: dict[str, tuple[str, Callable[[Any, list[list[float]]], Any]]] = {
    "fr": ("igraph Fruchterman-Reingold", _layout_fr),
    "drl": ("igraph DrL", _layout_drl),
}


def igraph_positions(N: int, src: np.ndarray, dst: np.ndarray, layout: str) -> np.ndarray:
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
