"""What a view displays, step by step: the scenarios (:class:`ViewRun`), the displayed nodes (institutions
kept individually + one group node per type), the displayed edges (summed where they touch a group), where
the nodes go (physics, or igraph positions) and the edge cap.

Each step is a function returning a frozen record that the next steps read; :func:`contagion.viz.build_view`
runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..clearing.priority import owed_network
from ..errors import ContagionError
from ..formatting import scenario_label
from .labels import others
from .layout import LAYOUTS, igraph_positions
from .style import SIZE_BY

__all__ = ["ViewRun", "PathYear", "DisplayNodes", "DisplayEdges", "Placement", "DEFAULT_MAX_NODES", "DEFAULT_MAX_EDGES",
           "check_options", "as_runs", "select_nodes", "aggregate_edges", "place_nodes", "cap_edges"]

#: institutions shown individually before the rest is aggregated per type
DEFAULT_MAX_NODES = 500
#: edges drawn at most (the largest are kept)
DEFAULT_MAX_EDGES = 3000


@dataclass(frozen=True, eq=False)
class PathYear:
    """One year of a multi-year path (:class:`~contagion.paths.PathResult`) shown as a step of a view's timeline.

    Attributes
    ----------
    year : int
    defaulted : ndarray of bool
        In default that year or before (a default is absorbing).
    wave : ndarray of int
        Wave of the institutions that default that year (-1: not a new default that year).
    default_year : ndarray of int
        First year in default of every institution (-1: never on the path).
    cash : ndarray
        Cash each institution carries to the next year.
    summary : dict
        The year's entry of :meth:`PathResult.summary`.
    scenario : str
        The scenarios of the path (names joined by " + "; "" for none).
    group, group_name : int, str
        Which path this year belongs to when several are shown (their order and label in the mapping given to
        :func:`~contagion.viz.network_view`; 0 and "" for one path).
    base : FinancialNetwork or None
        The year before its shocks, carried as the year is (:attr:`PathResult.bases`): what "equity pre-shock"
        is measured on, as in ``run --horizon``.
    """

    year: int
    defaulted: np.ndarray
    wave: np.ndarray
    default_year: np.ndarray
    cash: np.ndarray
    summary: dict
    scenario: str = ""
    group: int = 0
    group_name: str = ""
    base: Any = None

    @property
    def earlier(self) -> np.ndarray:
        """In default since an earlier year of the path."""
        return self.defaulted & (self.default_year >= 0) & (self.default_year < self.year)


@dataclass(frozen=True)
class ViewRun:
    """One scenario shown in a view: a label, a description and the clearing result (and, for a year of a
    path, the :class:`PathYear`)."""

    name: str
    description: str
    result: Any
    path: PathYear | None = None


def path_runs(path: Any, descriptions: Mapping[str, str], group: int = 0, group_name: str = "") -> list[ViewRun]:
    """One run per year of a :class:`~contagion.paths.PathResult`, labelled by the year (``descriptions`` are
    looked up by the year for a single path)."""
    first = np.array([-1 if y is None else y for y in path.default_year], dtype=np.int64)
    scenario = " + ".join(str(sc.name) for sc in path.scenarios)
    runs = []
    for k, (year, row) in enumerate(zip(path.years, path.summary())):
        label = str(int(year))
        new = row["new_default_names"]
        text = (f"New in default: {', '.join(map(str, new))}." if new else "No new default this year.")
        py = PathYear(year=int(year), defaulted=np.asarray(path.defaulted[k], dtype=bool),
                      wave=np.asarray(path.default_round[k], dtype=int), default_year=first,
                      cash=np.asarray(path.cash[k], dtype=float), summary=row,
                      scenario=scenario, base=path.bases[k] if k < len(path.bases) else None)
        runs.append(ViewRun(label, text if group_name else descriptions.get(label, text), path.clearings[k],
                            replace(py, group=group, group_name=group_name)))
    return runs


def _paths_runs(paths: Mapping[str, Any], descriptions: Mapping[str, str]) -> list[ViewRun]:
    """The years of several paths over the same horizon, path after path (a scenario selector and a year slider)."""
    horizons = {tuple(p.years) for p in paths.values()}
    if len(horizons) > 1:
        raise ContagionError("network_view: the paths cover different horizons ("
                             + ", ".join(f"{h[0]}-{h[-1]}" for h in sorted(horizons)) + "); give paths over the same years")
    runs = []
    for g, (label, path) in enumerate(paths.items()):
        runs += path_runs(path, descriptions, g, str(label))
    return runs


def _check_same_network(net: Any, run: ViewRun) -> None:
    """The result of ``run`` must be for ``net``: the same institutions and the same obligation rows (the amounts
    may differ: a scenario or a year of a path changes them)."""
    other = run.result.network
    if other.n != net.n or other.n_edges != net.n_edges or tuple(other.names) != tuple(net.names):
        raise ContagionError(
            f"result {run.name!r} is for a different network ({other.n} institutions, {other.n_edges} "
            f"obligations) than the one drawn ({net.n}, {net.n_edges}); pass the network before the scenario")
    (d0, c0), (d1, c1) = net.edge_index, other.edge_index
    moved = np.flatnonzero((np.asarray(d0) != np.asarray(d1)) | (np.asarray(c0) != np.asarray(c1)))
    if len(moved):
        r = int(moved[0])
        names = net.names
        raise ContagionError(
            f"result {run.name!r} is for a different network: obligation row {r} is {names[d1[r]]} -> "
            f"{names[c1[r]]} there and {names[d0[r]]} -> {names[c0[r]]} in the network drawn "
            f"({len(moved)} row{'s' if len(moved) != 1 else ''} differ)")


def check_options(size_by: str, layout: str, max_nodes: int, max_edges: int) -> None:
    """Raise a :class:`ContagionError` for an unknown ``size_by``/``layout`` or a cap below 1."""
    if size_by not in SIZE_BY:
        raise ContagionError(f"unknown size_by {size_by!r}; choose one of {sorted(SIZE_BY)}")
    if layout not in LAYOUTS:
        raise ContagionError(f"unknown layout {layout!r}; choose one of {sorted(LAYOUTS)}")
    if max_nodes < 1 or max_edges < 1:
        raise ContagionError("max_nodes and max_edges must be at least 1")


def as_runs(net: Any, result: Any, descriptions: Mapping[str, str] | None) -> list[ViewRun]:
    """The scenarios to show, from any accepted ``result`` (checked to be for ``net``)."""
    from ..clearing import ClearingResult
    from ..paths import PathResult
    from ..pipeline import StressResult, stress

    descriptions = dict(descriptions or {})
    if result is None:  # the network as given, cleared through the one pipeline
        st = stress(net, ())
        label = scenario_label(net.metadata) if net.metadata.get("scenarios") else "As given (no scenario)"
        runs = [ViewRun(label, descriptions.get(label, ""), st.clearing)]
    elif isinstance(result, StressResult):
        runs = [ViewRun(result.label, descriptions.get(result.label, result.description), result.clearing)]
    elif isinstance(result, PathResult):
        runs = path_runs(result, descriptions)
    elif isinstance(result, ClearingResult):
        label = scenario_label(result.network.metadata)
        runs = [ViewRun(label, descriptions.get(label, ""), result)]
    elif isinstance(result, Mapping) and result and all(isinstance(v, PathResult) for v in result.values()):
        runs = _paths_runs(result, descriptions)
    elif isinstance(result, Mapping):
        runs = [ViewRun(str(k), descriptions.get(str(k), ""), v) for k, v in result.items()]
    else:
        runs = [r if isinstance(r, ViewRun) else ViewRun(str(r[0]), descriptions.get(str(r[0]), ""), r[1])
                for r in result]
    if not runs:
        raise ContagionError("network_view: no result to show")
    for run in runs:
        _check_same_network(net, run)
    return runs


# ---------------------------------------------------------------------------- nodes
@dataclass(frozen=True, eq=False)
class DisplayNodes:
    """The displayed nodes: positions ``0 .. k-1`` are the kept institutions (in network order), ``k .. N-1``
    one group node per type summing the other institutions of that type.

    Attributes
    ----------
    kept, rest : ndarray of int
        Institutions shown individually (sorted), and the aggregated ones.
    kept_mask : ndarray of bool
        Whether each of the ``n`` institutions is kept.
    display_of : ndarray of int
        Display node of every institution.
    rest_group : ndarray of int
        Group (``0 .. G-1``) of each institution of ``rest``.
    type_codes, type_names
        Type code of every institution, and the type names in order of first appearance.
    group_types, group_count : ndarray of int
        Type code and number of institutions of each group.
    names : list of str
        Full name of every displayed node.
    """

    kept: np.ndarray
    rest: np.ndarray
    kept_mask: np.ndarray
    display_of: np.ndarray
    rest_group: np.ndarray
    type_codes: np.ndarray
    type_names: list[str]
    group_types: np.ndarray
    group_count: np.ndarray
    names: list[str]

    @property
    def n(self) -> int:
        """Institutions in the network."""
        return len(self.kept_mask)

    @property
    def k(self) -> int:
        """Institutions shown individually."""
        return len(self.kept)

    @property
    def G(self) -> int:
        """Group nodes."""
        return len(self.group_types)

    @property
    def N(self) -> int:
        """Displayed nodes."""
        return self.k + self.G

    @property
    def node_type(self) -> np.ndarray:
        """Type code of every displayed node."""
        return np.concatenate([self.type_codes[self.kept], self.group_types]).astype(int)

    def per_display(self, values: np.ndarray) -> np.ndarray:
        """Values of kept institutions, then sums over each group."""
        values = np.asarray(values, dtype=float)
        return np.concatenate([values[self.kept],
                               np.bincount(self.rest_group, weights=values[self.rest], minlength=self.G)])


def select_nodes(net: Any, max_nodes: int) -> DisplayNodes:
    """Keep the ``max_nodes`` largest gross exposures and group the rest by type (vectorised over all n)."""
    n = net.n
    type_codes, type_names = pd.factorize(pd.Series(net.types, dtype=object).astype(str), sort=False)
    type_names = [str(t) for t in type_names]
    owed = owed_network(net)              # a guarantee's cap is not an exposure until it is called
    exposure = owed.total_obligations + owed.interbank_assets
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
    display_of = np.empty(n, dtype=np.int64)
    display_of[kept] = np.arange(k)
    display_of[rest] = k + group_rank[type_codes[rest]]
    rest_group = display_of[rest] - k
    group_count = np.bincount(rest_group, minlength=len(group_types))
    names = np.asarray(net.names, dtype=object)
    node_names = [str(x) for x in names[kept]] + [others(type_names[t], int(group_count[g]))
                                                   for g, t in enumerate(group_types)]
    return DisplayNodes(kept=kept, rest=rest, kept_mask=kept_mask, display_of=display_of, rest_group=rest_group,
                        type_codes=type_codes, type_names=type_names, group_types=group_types,
                        group_count=group_count, names=node_names)


# ---------------------------------------------------------------------------- edges
@dataclass(frozen=True, eq=False)
class DisplayEdges:
    """The displayed edges: one row per obligation between kept institutions, one per (debtor, creditor, kind)
    of display nodes where a group is involved.

    Attributes
    ----------
    frame : DataFrame
        ``from``, ``to`` (display nodes), ``kind`` (code), ``base`` (amount before the scenarios), ``count``
        (obligations summed), ``row`` (row of the network's edge table, -1 when summed), then ``a<s>``
        (amount owed) and ``p<s>`` (amount paid) for each scenario ``s``.
    weight : ndarray
        Largest amount of each row, before or in any scenario (the edge cap keeps the largest).
    total : int
        Displayed edges before the edge cap.
    kind_codes, kind_names
        Kind code of every obligation of the network, and the kind names in order of first appearance.
    group_internal : ndarray
        Obligations between members of each group (not drawn).
    table : DataFrame
        The network's edge table (attributes of the rows kept individually).
    """

    frame: pd.DataFrame
    weight: np.ndarray
    total: int
    kind_codes: np.ndarray
    kind_names: list[str]
    group_internal: np.ndarray
    table: pd.DataFrame


def aggregate_edges(net: Any, runs: list[ViewRun], nodes: DisplayNodes) -> DisplayEdges:
    """Amounts owed and paid per obligation and scenario, summed per (debtor, creditor, kind) at group nodes.

    What is owed before the scenario (column ``base``) is what each row owes when everyone pays
    (:func:`~contagion.clearing.handover.owed_network`: a residual value guarantee at ``min(cap, max(0, K - V))``,
    a guarantee uncalled), not the cap in the ``amount`` column. What is paid on a row is the clearing's own
    ``row_payments`` where the priority solver gives them (seniority, collateral, guarantees), else the debtor's
    payments shared pro rata.
    """
    di, ci = net.edge_index
    base_edges = net.edges
    kind_codes, kind_names = pd.factorize(base_edges["kind"].astype(str), sort=False)
    kind_names = [str(x) for x in kind_names]
    amounts = np.column_stack([np.asarray(r.result.network.edges["amount"], dtype=float) for r in runs])
    paid_cols = []
    for s, run in enumerate(runs):
        rows = getattr(run.result, "row_payments", None)
        if rows is not None:
            paid_cols.append(np.asarray(rows, dtype=float))
            continue
        pbar = run.result.network.total_obligations
        frac = np.divide(run.result.payments, pbar, out=np.ones_like(pbar), where=pbar > 0)
        paid_cols.append(amounts[:, s] * frac[di])
    paid = np.column_stack(paid_cols)
    base_amount = np.asarray(owed_network(net).edges["amount"], dtype=float)
    k, G = nodes.k, nodes.G
    gd, gc = nodes.display_of[di], nodes.display_of[ci]
    internal = gd == gc
    indiv = nodes.kept_mask[di] & nodes.kept_mask[ci]
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
    return DisplayEdges(frame=E, weight=weight, total=len(E), kind_codes=kind_codes, kind_names=kind_names,
                        group_internal=group_internal, table=base_edges)


# ---------------------------------------------------------------------------- placement and edge cap
@dataclass(frozen=True, eq=False)
class Placement:
    """How the nodes are placed: vis-network physics (``positions`` empty), or igraph positions ``(N, 2)``."""

    physics: bool
    positions: np.ndarray
    layout: str


def place_nodes(nodes: DisplayNodes, edges: DisplayEdges, layout: str, physics_threshold: int) -> Placement:
    """Physics up to ``physics_threshold`` displayed nodes, else igraph positions on every displayed pair."""
    # the positions use every displayed pair, before the edge cap, so no kept node is left floating
    physics = nodes.N <= physics_threshold
    if physics:
        return Placement(physics=True, positions=np.zeros((0, 2)), layout=layout)
    E = edges.frame
    return Placement(physics=False, positions=igraph_positions(nodes.N, E["from"].to_numpy(), E["to"].to_numpy(),
                                                               layout), layout=layout)


def cap_edges(edges: DisplayEdges, max_edges: int) -> DisplayEdges:
    """The ``max_edges`` edges of largest weight (in their order), or all of them."""
    if len(edges.frame) <= max_edges:
        return edges
    keep_e = np.sort(np.lexsort((np.arange(len(edges.frame)), -edges.weight))[:max_edges])
    return replace(edges, frame=edges.frame.iloc[keep_e].reset_index(drop=True), weight=edges.weight[keep_e])
