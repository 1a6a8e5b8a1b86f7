"""Per-scenario values of a view: outcome of every displayed node (wave, equity lost), edge widths, the
tooltips (rows of label and value), the outcome legend and the summary table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..formatting import fmt_amount, fmt_share, outcome_text
from .model import DisplayEdges, DisplayNodes, ViewRun
from .style import OUTCOME_COLOURS, edge_width, truncate, wave_colour

__all__ = ["ScenarioValues", "scenario_values", "capital_depletion", "equity_lost"]

Rows = list[list[str]]

_SKIP_NODE_COLUMNS = {"id", "name", "type", "external_assets", "external_liabilities", "forced_default",
                      "forced_recovery"}
_SKIP_EDGE_COLUMNS = {"debtor", "creditor", "amount", "kind"}
_MAX_ATTRIBUTES = 8


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


@dataclass(frozen=True)
class ScenarioValues:
    """What one scenario shows: ``data`` for the page's script, the outcome ``legend`` and the ``summary`` rows."""

    data: dict
    legend: list[dict]
    summary: Rows


# ---------------------------------------------------------------------------- attributes (the same in every scenario)
def _text_rows(frame: pd.DataFrame, columns: list[str]) -> list[Rows]:
    """``[column, text]`` rows of the non-blank values of each row of ``frame`` (texts cut at 120 characters)."""
    out: list[Rows] = []
    if not columns:
        return [[] for _ in range(len(frame))]
    values = frame[columns].astype(object)
    isna = values.isna().to_numpy()
    arr = values.to_numpy()
    for r in range(len(frame)):
        out.append([[str(c), truncate(str(arr[r, j]), 120)] for j, c in enumerate(columns)
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


def _edge_attributes(edges: pd.DataFrame, rows: np.ndarray) -> list[Rows]:
    """Tooltip rows of the edge table's extra columns for each displayed edge (none for summed edges)."""
    cols = [c for c in edges.columns if c not in _SKIP_EDGE_COLUMNS][:_MAX_ATTRIBUTES]
    out: list[Rows] = [[] for _ in range(len(rows))]
    have = np.flatnonzero(rows >= 0)
    if len(have) and cols:
        for pos, attrs in zip(have, _text_rows(edges.iloc[rows[have]], cols)):
            out[pos] = attrs
    return out


# ---------------------------------------------------------------------------- one scenario
def _outcome_legend(wave: np.ndarray, lost: np.ndarray, defaulted: np.ndarray) -> list[dict]:
    """Legend entries with counts: solvent, solvent with equity lost, defaulted in each wave."""
    entries = [{"key": "solvent", "label": "Solvent", "colour": OUTCOME_COLOURS["solvent"][0],
                "count": int((~defaulted & ~lost).sum())},
               {"key": "lost", "label": "Solvent, equity lost", "colour": OUTCOME_COLOURS["lost"][0],
                "count": int(lost.sum())}]
    waves = np.bincount(wave[wave >= 0]) if (wave >= 0).any() else np.zeros(0, dtype=int)
    for w, count in enumerate(waves):
        entries.append({"key": f"wave{w}", "label": outcome_text(w, False).replace("Defaulted in w", "Defaulted, w"),
                        "colour": wave_colour(w)[0], "count": int(count)})
    return entries


def _summary_rows(res: Any) -> Rows:
    """Summary table of a clearing: defaults, waves, shortfalls and the clearing method."""
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


def _node_tips(nodes: DisplayNodes, edges: DisplayEdges, res: Any, lost_all: np.ndarray, node_wave: np.ndarray,
               node_lost: np.ndarray, eb_disp: np.ndarray, ext0_d: np.ndarray, attrs: list[Rows]) -> list[Rows]:
    """Tooltip rows of every displayed node in one scenario (groups: counts and sums over their members)."""
    k, G, rnet = nodes.k, nodes.G, res.network
    pbar_d = nodes.per_display(rnet.total_obligations)
    pay_d = nodes.per_display(res.payments)
    short_d = nodes.per_display(res.shortfall)
    eq_d = nodes.per_display(res.equity)
    ext_d = nodes.per_display(rnet.external_assets)
    defaults_in_group = np.bincount(nodes.rest_group, weights=res.defaulted[nodes.rest].astype(float), minlength=G)
    lost_in_group = np.bincount(nodes.rest_group, weights=lost_all[nodes.rest].astype(float), minlength=G)
    depletion = capital_depletion(eb_disp, eq_d)
    node_type = nodes.node_type
    tips = []
    for i in range(nodes.N):
        rows = [["Type", nodes.type_names[node_type[i]]]]
        if i >= k:
            g = i - k
            rows += [["Institutions (aggregated)", f"{nodes.group_count[g]:,}"],
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
            orig = nodes.kept[i]
            if rnet.forced_default[orig]:
                rows.append(["Forced default", f"yes, pays at most {fmt_share(rnet.forced_recovery[orig])}"])
            rows.append(["Outcome", outcome_text(int(node_wave[i]), bool(node_lost[i]))])
            rows += attrs[i]
        else:
            rows.append(["Obligations inside the group", fmt_amount(edges.group_internal[i - k])])
        tips.append(rows)
    return tips


def _edge_tips(edges: DisplayEdges, s: int, attrs: list[Rows]) -> list[Rows]:
    """Tooltip rows of every displayed edge in scenario ``s``: owed, paid, unpaid, what was summed."""
    E, kind_names = edges.frame, edges.kind_names
    e_kind, e_base = E["kind"].to_numpy(), E["base"].to_numpy()
    e_count, e_row = E["count"].to_numpy(), E["row"].to_numpy()
    a_s, p_s = E[f"a{s}"].to_numpy(), E[f"p{s}"].to_numpy()
    etips = []
    for j in range(len(E)):
        rows = [["Kind", kind_names[e_kind[j]]], ["Amount owed", fmt_amount(a_s[j])]]
        if abs(a_s[j] - e_base[j]) > 1e-12 * max(1.0, abs(e_base[j])):
            rows.append(["Before the scenario", fmt_amount(e_base[j])])
        rows += [["Paid (pro rata)", fmt_amount(p_s[j])], ["Unpaid", fmt_amount(a_s[j] - p_s[j])]]
        if e_count[j] > 1 or e_row[j] < 0:
            rows.append(["Obligations aggregated", f"{int(e_count[j]):,}"])
        rows += attrs[j]
        etips.append(rows)
    return etips


def scenario_values(net: Any, runs: list[ViewRun], nodes: DisplayNodes, edges: DisplayEdges,
                    wmax: float) -> list[ScenarioValues]:
    """The values of every scenario, for the displayed nodes and edges only (edges widest at ``wmax``)."""
    equity_before = net.equity_before
    eb_disp = nodes.per_display(equity_before)
    ext0_d = nodes.per_display(net.external_assets)
    node_attrs = _node_attributes(net, nodes.kept)
    edge_attrs = _edge_attributes(edges.table, edges.frame["row"].to_numpy())
    out = []
    for s, run in enumerate(runs):
        res = run.result
        wave = np.asarray(res.default_round, dtype=int)
        lost_all = equity_lost(equity_before, res.equity) & ~res.defaulted
        node_wave = np.concatenate([wave[nodes.kept], np.full(nodes.G, -1)]).astype(int)
        node_lost = np.concatenate([lost_all[nodes.kept], np.zeros(nodes.G, dtype=bool)])
        a_s = edges.frame[f"a{s}"].to_numpy()
        data = {
            "name": run.name,
            "waves": int(res.summary()["waves"]),
            "waveCounts": np.bincount(wave[wave >= 0]).tolist() if (wave >= 0).any() else [],
            "nodeWave": node_wave.tolist(),
            "nodeLost": node_lost.astype(int).tolist(),
            "nodeTip": _node_tips(nodes, edges, res, lost_all, node_wave, node_lost, eb_disp, ext0_d, node_attrs),
            "edgeWidth": [float(round(edge_width(a, wmax), 2)) for a in a_s],
            "edgeCancelled": (a_s <= 0).astype(int).tolist(),
            "edgeTip": _edge_tips(edges, s, edge_attrs),
        }
        out.append(ScenarioValues(data=data, legend=_outcome_legend(wave, lost_all, res.defaulted),
                                  summary=_summary_rows(res)))
    return out
