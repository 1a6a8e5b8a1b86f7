"""Per-scenario values of a view: outcome of every displayed node (wave, equity lost), edge widths, the
tooltips (rows of label and value), the outcome legend and the summary table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..clearing.result import capital_depletion  # one definition (re-exported by viz)
from ..formatting import fmt_amount, fmt_share, outcome_text
from .labels import amount_text, edge_attribute_rows, humanize
from .model import DisplayEdges, DisplayNodes, PathYear, ViewRun
from .page import dataset_units, dataset_year
from .style import OUTCOME_COLOURS, edge_width, truncate, wave_colour

__all__ = ["ScenarioValues", "scenario_values", "capital_depletion", "equity_lost", "path_outcome_text", "edge_states",
           "EDGE_OWED", "EDGE_CANCELLED", "EDGE_NOTHING_DUE"]

Rows = list[list[str]]

_SKIP_NODE_COLUMNS = {"id", "name", "type", "external_assets", "external_liabilities", "forced_default",
                      "forced_recovery"}
_MAX_ATTRIBUTES = 8


def equity_lost(equity_before: np.ndarray, equity_after: np.ndarray) -> np.ndarray:
    """Whether equity fell (beyond a relative tolerance of 1e-9)."""
    tol = 1e-9 * np.maximum(1.0, np.abs(equity_before))
    return np.asarray(equity_after) < np.asarray(equity_before) - tol


@dataclass(frozen=True)
class ScenarioValues:
    """What one scenario shows: ``data`` for the page's script, the outcome ``legend`` and the ``summary`` rows."""

    data: dict
    legend: list[dict]
    summary: Rows


# ---------------------------------------------------------------------------- attributes (the same in every scenario)
def _text(value: Any) -> str:
    """A cell as text; a whole float (a year or count read into a float column beside blanks) without ``.0``."""
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _text_rows(frame: pd.DataFrame, columns: list[str]) -> list[Rows]:
    """``[column, text]`` rows of the non-blank values of each row of ``frame`` (texts cut at 120 characters)."""
    out: list[Rows] = []
    if not columns:
        return [[] for _ in range(len(frame))]
    values = frame[columns].astype(object)
    isna = values.isna().to_numpy()
    arr = values.to_numpy()
    for r in range(len(frame)):
        out.append([[str(c), truncate(_text(arr[r, j]), 120)] for j, c in enumerate(columns)
                    if not isna[r, j] and str(arr[r, j]) != ""])
    return out


def _node_attributes(net: Any, kept: np.ndarray) -> list[Rows]:
    """Tooltip rows of the node table's extra columns (and the id when it differs from the name) of kept nodes."""
    table = net.nodes
    cols = [c for c in table.columns if c not in _SKIP_NODE_COLUMNS][:_MAX_ATTRIBUTES]
    rows = _text_rows(table.iloc[kept], cols)
    ids, names = np.asarray(net.ids, dtype=object)[kept], np.asarray(net.names, dtype=object)[kept]
    for r, (i, nm) in enumerate(zip(ids, names)):
        if i != nm:
            rows[r].insert(0, ["Id", str(i)])
    return rows


# ---------------------------------------------------------------------------- one scenario
def _outcome_legend(wave: np.ndarray, lost: np.ndarray, defaulted: np.ndarray, py: PathYear | None = None) -> list[dict]:
    """Legend entries with counts: solvent, solvent with equity lost, (in default since an earlier year,) defaulted
    in each wave."""
    entries = [{"key": "solvent", "label": "Solvent", "colour": OUTCOME_COLOURS["solvent"][0],
                "count": int((~defaulted & ~lost).sum())},
               {"key": "lost", "label": "Solvent, equity lost", "colour": OUTCOME_COLOURS["lost"][0],
                "count": int(lost.sum())}]
    if py is not None:
        entries.append({"key": "earlier", "label": "In default since an earlier year",
                        "colour": OUTCOME_COLOURS["earlier"][0], "count": int(py.earlier.sum())})
    waves = np.bincount(wave[wave >= 0]) if (wave >= 0).any() else np.zeros(0, dtype=int)
    for w, count in enumerate(waves):
        label = outcome_text(w, False).replace("Defaulted in w", "Defaulted, w")
        if py is not None:
            label = label.replace("Defaulted,", f"Defaulted in {py.year},")
        entries.append({"key": f"wave{w}", "label": label, "colour": wave_colour(w)[0], "count": int(count)})
    return entries


def path_outcome_text(py: PathYear, i: int, lost: bool) -> str:
    """Words for institution ``i`` in a year of a path: ``Defaulted in 2027 (wave 0, fundamental)``,
    ``In default since 2027``, ``Solvent``, ``Solvent, equity lost``."""
    w = int(py.wave[i])
    if w >= 0:
        return f"Defaulted in {py.year} (wave {w}{', fundamental' if w == 0 else ''})"
    if py.defaulted[i]:
        return f"In default since {int(py.default_year[i])}"
    return outcome_text(-1, lost)


def _summary_rows(res: Any) -> Rows:
    """Summary table of a clearing: defaults, waves, shortfalls and the clearing method."""
    s = res.summary()
    rows = [["Defaults", f"{s['defaults']:,} of {s['institutions']:,}"],
            ["Fundamental (wave 0)", f"{s['fundamental_defaults']:,}"],
            ["Contagion waves", str(max(s["waves"], 0))],
            ["Total shortfall", fmt_amount(s["total_shortfall"])],
            ["Unpaid to outside creditors", fmt_amount(s["external_shortfall"])]]
    rows.append(["Clearing", _method_text(res)])
    return rows


def _method_text(res: Any) -> str:
    method = res.summary()["method"]
    if res.params:
        method += " (" + ", ".join(f"{k}={v}" for k, v in res.params.items()) + ")"
    return method


def _path_summary_rows(res: Any, py: PathYear) -> Rows:
    """Summary table of a year of a path: in default, new defaults, shortfall, principal rolled and called, cash."""
    s = py.summary
    n = len(py.defaulted)
    new = s["new_default_names"]
    return [["In default", f"{s['defaults']:,} of {n:,}"],
            ["New this year", f"{s['new_defaults']:,}" + (f": {truncate(', '.join(map(str, new)), 80)}" if new else "")],
            ["Total shortfall", fmt_amount(s["total_shortfall"])],
            ["Unpaid to outside creditors", fmt_amount(s["external_shortfall"])],
            ["Principal rolled over", fmt_amount(s["rolled_principal"])],
            ["Principal called", fmt_amount(s["called_principal"])],
            ["Cash carried forward", fmt_amount(s["cash"])],
            ["Clearing", _method_text(res)]]


def _node_tips(nodes: DisplayNodes, edges: DisplayEdges, res: Any, defaulted: np.ndarray, lost_all: np.ndarray,
               outcomes: list[str], eb_disp: np.ndarray, ext0_d: np.ndarray, attrs: list[Rows],
               py: PathYear | None) -> list[Rows]:
    """Tooltip rows of every displayed node in one scenario or year (groups: counts and sums over their members)."""
    k, G, rnet = nodes.k, nodes.G, res.network
    pbar_d = nodes.per_display(rnet.total_obligations)
    pay_d = nodes.per_display(res.payments)
    least = getattr(res, "least_payments", None)          # the least clearing vector, where it is not unique
    least_d = nodes.per_display(least) if least is not None else None
    short_d = nodes.per_display(res.shortfall)
    eq_d = nodes.per_display(res.equity)
    ext_d = nodes.per_display(rnet.external_assets)
    defaults_in_group = np.bincount(nodes.rest_group, weights=defaulted[nodes.rest].astype(float), minlength=G)
    lost_in_group = np.bincount(nodes.rest_group, weights=lost_all[nodes.rest].astype(float), minlength=G)
    depletion = capital_depletion(eb_disp, eq_d)
    node_type = nodes.node_type
    due = "Total obligations" if py is None else f"Due in {py.year}"
    cash_d = nodes.per_display(py.cash) if py is not None else None
    tips = []
    for i in range(nodes.N):
        rows = [["Type", humanize(nodes.type_names[node_type[i]])]]
        if i >= k:
            g = i - k
            rows += [["Institutions (aggregated)", f"{nodes.group_count[g]:,}"],
                     ["Defaulted" if py is None else "In default", f"{int(defaults_in_group[g]):,}"],
                     ["Solvent, equity lost", f"{int(lost_in_group[g]):,}"]]
        rows += [[due, fmt_amount(pbar_d[i])],
                 ["Payment", fmt_amount(pay_d[i])],
                 *([["Payment in the least clearing vector", fmt_amount(least_d[i])]] if least_d is not None else []),
                 ["Shortfall", fmt_amount(short_d[i])],
                 ["Equity pre-shock", fmt_amount(eb_disp[i])],
                 ["Equity after", fmt_amount(eq_d[i])],
                 ["Capital depletion", fmt_share(depletion[i])]]
        if py is not None:
            rows += [["Outside assets (cash carried in included)", fmt_amount(ext_d[i])],
                     ["Cash carried to the next year", fmt_amount(cash_d[i])]]
        elif abs(ext_d[i] - ext0_d[i]) > 1e-12 * max(1.0, abs(ext0_d[i])):
            rows.append(["Outside assets", f"{fmt_amount(ext0_d[i])} \u2192 {fmt_amount(ext_d[i])}"])
        if i < k:
            orig = nodes.kept[i]
            if rnet.forced_default[orig]:
                rows.append(["Forced default", f"yes, pays at most {fmt_share(rnet.forced_recovery[orig])}"])
            rows.append(["Outcome", outcomes[i]])
            rows += attrs[i]
        else:
            rows.append(["Obligations inside the group", fmt_amount(edges.group_internal[i - k])])
        tips.append(rows)
    return tips


def _edge_tips(edges: DisplayEdges, s: int, attrs: list[Rows], py: PathYear | None = None, units: str = "",
               year: str = "") -> list[Rows]:
    """Tooltip rows of every displayed edge in scenario ``s`` (the title is "debtor → creditor"): its kind in
    words, what falls due (with the network's units; "Due in <year>" when the network is cleared over one known
    year or for a year of a path), what it was before the scenario, what was paid (and which share) and left
    unpaid, "nothing due" or "cancelled by the scenario" when nothing is owed, how many obligations a summed edge
    holds, then the edge table's columns in words (:func:`~.labels.edge_attribute_rows`)."""
    E, kind_names = edges.frame, edges.kind_names
    e_kind, e_base = E["kind"].to_numpy(), E["base"].to_numpy()
    e_count, e_row = E["count"].to_numpy(), E["row"].to_numpy()
    a_s, p_s = E[f"a{s}"].to_numpy(), E[f"p{s}"].to_numpy()
    when = str(py.year) if py is not None else year
    owed = f"Due in {when}" if when else "Amount owed"
    etips = []
    for j in range(len(E)):
        rows = [["Kind", humanize(kind_names[e_kind[j]])], [owed, amount_text(a_s[j], units)]]
        changed = abs(a_s[j] - e_base[j]) > 1e-12 * max(1.0, abs(e_base[j]))
        if py is None and changed:
            rows.append(["Before the scenario", amount_text(e_base[j], units)])
        if a_s[j] > 0:
            paid = amount_text(p_s[j], units) + f" ({fmt_share(min(max(p_s[j] / a_s[j], 0.0), 1.0))})"
            rows += [["Paid", paid], ["Unpaid", amount_text(a_s[j] - p_s[j], units)]]
        elif py is None and changed:
            rows.append(["Status", "cancelled by the scenario"])
        else:
            rows.append(["Status", f"nothing due in {when}" if when else "nothing owed"])
        if e_count[j] > 1 or e_row[j] < 0:
            rows.append(["Obligations aggregated", f"{int(e_count[j]):,}"])
        rows += attrs[j]
        etips.append(rows)
    return etips


#: how an edge is drawn in a scenario or year: owed (solid), cancelled by the scenario (dashed), nothing due (dotted)
EDGE_OWED, EDGE_CANCELLED, EDGE_NOTHING_DUE = 0, 1, 2


def edge_states(amount: np.ndarray, base: np.ndarray, path_year: bool) -> np.ndarray:
    """Per displayed edge: :data:`EDGE_CANCELLED` when the scenario took an amount that was owed before it down to
    nothing, :data:`EDGE_NOTHING_DUE` when nothing falls due (nothing owed before the scenario either, or a year
    of a path in which the obligation does not fall due), :data:`EDGE_OWED` otherwise.

    >>> edge_states(np.array([5.0, 0.0, 0.0]), np.array([5.0, 5.0, 0.0]), False).tolist()
    [0, 1, 2]
    """
    none = amount <= 0
    if path_year:           # a year of a path: what is due changes from year to year, nothing is "cancelled"
        return np.where(none, EDGE_NOTHING_DUE, EDGE_OWED)
    return np.where(none & (base > 0), EDGE_CANCELLED, np.where(none, EDGE_NOTHING_DUE, EDGE_OWED))


def scenario_values(net: Any, runs: list[ViewRun], nodes: DisplayNodes, edges: DisplayEdges,
                    wmax: float) -> list[ScenarioValues]:
    """The values of every scenario (or year of a path), for the displayed nodes and edges only (edges widest at
    ``wmax``).

    For a year of a path, the outcome is the path's: in default since an earlier year (absorbing), a new default
    that year with its wave, or solvent; "equity pre-shock" is that year's, everyone paying in full.
    """
    ext0_d = nodes.per_display(net.external_assets)
    node_attrs = _node_attributes(net, nodes.kept)
    units, year = dataset_units(net.metadata), dataset_year(net.metadata)
    edge_attrs = edge_attribute_rows(edges.table, edges.frame["row"].to_numpy(), units)
    from ..clearing.handover import owed_network

    owed = owed_network(net)                              # guarantees at what they owe, not their caps
    out = []
    for s, run in enumerate(runs):
        res, py = run.result, run.path
        # the year's pre-shock equity is that of the year before its shocks (run --horizon's); one year: the network's
        pre_base = owed if py is None else (None if py.base is None else owed_network(py.base))
        equity_before = res.equity_if_all_pay if pre_base is None else res.pre_shock_equity(pre_base)
        eb_disp = nodes.per_display(equity_before)
        wave = np.asarray(res.default_round if py is None else py.wave, dtype=int)
        defaulted = np.asarray(res.defaulted if py is None else py.defaulted, dtype=bool)
        lost_all = equity_lost(equity_before, res.equity) & ~defaulted
        node_wave = np.concatenate([wave[nodes.kept], np.full(nodes.G, -1)]).astype(int)
        node_lost = np.concatenate([lost_all[nodes.kept], np.zeros(nodes.G, dtype=bool)])
        if py is None:
            outcomes = [outcome_text(int(node_wave[i]), bool(node_lost[i])) for i in range(nodes.k)]
            since = np.zeros(nodes.N, dtype=int)
        else:
            outcomes = [path_outcome_text(py, int(o), bool(lost_all[o])) for o in nodes.kept]
            since = np.concatenate([np.where(py.earlier, py.default_year, 0)[nodes.kept], np.zeros(nodes.G, int)])
        a_s = edges.frame[f"a{s}"].to_numpy()
        data = {
            "name": run.name,
            "waves": int(res.summary()["waves"]) if py is None else (int(wave.max()) if (wave >= 0).any() else -1),
            "waveCounts": np.bincount(wave[wave >= 0]).tolist() if (wave >= 0).any() else [],
            "nodeWave": node_wave.tolist(),
            "nodeLost": node_lost.astype(int).tolist(),
            "nodeSince": since.astype(int).tolist(),
            "nodeTip": _node_tips(nodes, edges, res, defaulted, lost_all, outcomes, eb_disp, ext0_d, node_attrs, py),
            "edgeWidth": [float(round(edge_width(a, wmax), 2)) for a in a_s],
            "edgeCancelled": edge_states(a_s, edges.frame["base"].to_numpy(), py is not None).tolist(),
            "edgeTip": _edge_tips(edges, s, edge_attrs, py, units, year),
        }
        if py is not None:
            data.update(year=py.year, inDefault=int(py.defaulted.sum()), newDefaults=int((py.wave >= 0).sum()),
                        earlier=int(py.earlier.sum()), group=py.group, groupName=py.group_name)
        out.append(ScenarioValues(data=data, legend=_outcome_legend(wave, lost_all, defaulted, py),
                                  summary=_summary_rows(res) if py is None else _path_summary_rows(res, py)))
    return out
