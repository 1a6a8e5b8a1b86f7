"""``contagion run``: clear a network under shock scenarios and show who defaults.

Data (the table, CSV or JSON) goes to standard output or ``-o PATH``; notes
(which network, which scenarios, non-uniqueness) go to standard error.
"""

from __future__ import annotations

import math

import click

from ..pipeline import stress
from .methods import method_options, params_text
from .text import INSTITUTION_COLUMNS, fmt_amount, guarantee_summary, network_label, network_line, network_record, \
    note, scenario_line
from .path import announce_path, horizon_option, render_path
from .options import EncodedText, csv_output, emit, format_option, handle_errors, load_network, network_argument, output_option, \
    render, scenario_option, to_json, use_color

__all__ = ["run", "render", "render_run", "announce", "scenario_request", "fmt_amount", "network_label",
           "INSTITUTION_COLUMNS"]

# ---------------------------------------------------------------------- the command
@click.command("run")
@network_argument
@scenario_option
@click.option("--baseline", is_flag=True,
              help="Clear the network as it is, without the dataset's default scenario.")
@method_options()
@horizon_option
@click.option("--top", type=click.IntRange(1), default=None, metavar="N",
              help="Only the first N institutions of the table (defaulted first, by wave and shortfall).")
@click.option("--defaulted-only", is_flag=True, help="Only the institutions that default.")
@format_option
@output_option
@handle_errors
def run(network: str | None, scenarios: tuple[str, ...], baseline: bool, method: str, params: dict[str, float],
        horizon: tuple[int, int] | None, top: int | None, defaulted_only: bool, fmt: str, output: str | None) -> None:
    """Clear NETWORK under shock scenarios and print who pays what, who defaults and in which wave.

    NETWORK is a path or a built-in dataset name (default: the built-in
    default dataset). Without --scenario, the dataset's default scenario is
    applied when its dataset.toml names one (announced on stderr; with
    --horizon its default path scenario, default_path_scenario, when it
    names one); --baseline clears the network as it is. Several --scenario
    compose in order.

    Per institution: obligations (pbar), payment, shortfall, equity pre-shock
    (before the scenario, everyone paying in full), equity after the scenario
    and clearing, capital depletion (share of the pre-shock equity lost),
    defaulted, wave (0 = fundamental default); CSV and JSON also give the id
    and the equity if all pay (after the scenario, everyone paying in full). Equity counts outside assets
    and claims at full value: under rogers-veraart a defaulter pays only from what it realises (alpha,
    beta), so its shortfall can exceed minus its equity. The table lists who defaults
    first, by wave, larger shortfall first, then the others, thinnest equity first (those that owe nothing
    last); CSV and JSON keep the network's order.

    \b
    Examples:
      contagion run core-periphery
      contagion run core-periphery --baseline
      contagion run chain --scenario a-fails --format json
      contagion run chain -s my-shock.toml -m rogers-veraart \\
          --alpha 0.5 --beta 0.9
      contagion run core-periphery -m threshold --recovery 0.4
    """
    if horizon is not None:
        if top is not None or defaulted_only:     # (the path's outputs are by year; nothing would be selected)
            raise click.UsageError("--top and --defaulted-only select rows of a one-year table; with --horizon "
                                   "the output is by year (-f csv and a filter select institutions)")
        # (clear_path checks the multi-year data itself)
        return run_path(load_network(network, dated=False), horizon, scenario_request(scenarios, baseline), method,
                        params, fmt, output)
    st = stress(load_network(network), scenario_request(scenarios, baseline), method=method, **params)
    announce(st, with_method=True)
    _note_uniqueness(st.clearing)
    emit(render_run(st, fmt, use_color(output), top=top, defaulted_only=defaulted_only), output)


def run_path(net, horizon: tuple[int, int], scenarios, method: str, params: dict[str, float], fmt: str,
             output: str | None) -> None:
    """``run --horizon``: clear year by year (:func:`contagion.clear_path`) and show the path."""
    from ..paths import clear_path

    path = clear_path(net, horizon, scenarios, method=method, **params)
    announce_path(path, network_label(net))
    emit(render_path(path, network_label(net), fmt, use_color(output)), output)


# ---------------------------------------------------------------------- shared by the commands that stress
def scenario_request(scenarios: tuple[str, ...], baseline: bool) -> tuple[str, ...] | None:
    """``--scenario`` / ``--baseline`` as the ``scenarios`` argument of :func:`contagion.stress`.

    ``None`` (the dataset's default scenario) when neither is given; a usage error when both are.
    """
    if baseline and scenarios:
        raise click.UsageError("--baseline cannot be combined with --scenario")
    return scenarios if scenarios or baseline else None


def _note_uniqueness(res) -> None:
    """A note on stderr when the clearing vector is not unique, or when whether it is was not determined."""
    if res.unique is False:
        note("note: the clearing vector is not unique; the greatest one is shown"
             + (" (the least: payment_least)" if res.least_payments is not None else ""))
    elif res.unique is None and "priority" in str(res.solver):
        note("note: whether the clearing vector is unique is not determined: with seniority, collateral or "
             "guarantees only the greatest clearing state is computed")


def announce(st, *, with_method: bool = False, role: str = "scenario") -> None:
    """Notes on stderr: the network, the method, the default scenario if it was applied, each scenario."""
    net, label = st.base, network_label(st.base)
    line = network_line(net, label)
    note(line + (f"; method: {st.method}{params_text(dict(st.params))}" if with_method else ""))
    if st.default_applied:
        note(f"applying the default scenario '{st.scenarios[0].name}' of {label} "
             f"(choose another with --scenario, or none with --baseline)")
    for s in st.scenarios:
        note(scenario_line(role, s.name, s.description))
    if not st.scenarios:
        note(("no scenario" if role == "scenario" else "baseline") + ": the network as it is")


def _table_order(frame):
    """Rows in the order of the table: defaulted first by wave, larger shortfall first; then the survivors with
    the thinnest equity first, those that owe nothing last (they cannot default: an empty placeholder with
    equity 0 is not the most fragile survivor)."""
    wave = frame["default_round"].where(frame["default_round"] >= 0, 10**9)
    return frame.assign(_w=wave, _s=-frame["shortfall"], _free=frame["obligations"] <= 0).sort_values(
        ["_w", "_s", "_free", "equity", "name"], kind="stable").index


def _selected(frame, top: int | None, defaulted_only: bool):
    """The rows ``--top`` / ``--defaulted-only`` keep, in the network's order."""
    if top is None and not defaulted_only:
        return frame  # every row: nothing to sort (0.1 s at 100,000 institutions)
    order = _table_order(frame)
    if defaulted_only:
        order = order[frame.loc[order, "defaulted"].to_numpy(dtype=bool)]
    if top is not None:
        order = order[:top]
    return frame.loc[sorted(order)]


def render_run(st, fmt: str, color: bool, *, top: int | None = None, defaulted_only: bool = False
               ) -> "str | EncodedText":
    """The output of ``contagion run``: per-institution rows and the summary, as a table, CSV or JSON
    (``top`` / ``defaulted_only`` select rows in every format; the summary covers everyone). CSV comes
    already encoded (:class:`~contagion.cli.options.EncodedText`; ``str()`` gives the text)."""
    from ..measures import loss_summary, losses_by_creditor_type

    res, label = st.clearing, network_label(st.base)
    full = st.to_frame().reset_index()
    frame = _selected(full[list(INSTITUTION_COLUMNS) + [c for c in EXTRA_COLUMNS if c in full]], top, defaulted_only)
    loss = loss_summary(res, st.base)
    summary = {
        **res.summary(),
        "losses_by_creditor_type": {str(k): float(v) for k, v in losses_by_creditor_type(res).items()},
        **{k: loss[k] for k in ("shock", "system_loss", "system_loss_without_network", "amplification")},
        **guarantee_summary(st.network, st.clearing),
        **{k: loss[k] for k in ("guarantees_unpaid",) if k in loss},     # (where a call is counted once)
    }
    if st.network.forced_default.any() or not _same_edges(st.base, st.network):
        note("note: 'shock' counts only losses of outside assets (forced defaults and changed obligations are "
             "not in it); the system loss without the network adds what each institution leaves unpaid when "
             "everyone else pays it in full, a forced default's recovery cap included")
    if fmt == "json":
        return to_json({
            "network": network_record(st.base, label),
            "method": st.method,
            "params": dict(res.params),
            "scenarios": [s.to_dict() for s in st.scenarios],
            "default_scenario_applied": st.default_applied,
            "institutions": frame.to_dict(orient="records"),
            "summary": summary,
        })
    if fmt == "csv":
        return csv_output(frame)
    if len(frame) < len(full):
        why = " and ".join(w for w, on in ((f"--top {top}", top is not None), ("--defaulted-only", defaulted_only))
                           if on)
        note(f"note: {len(frame)} of {len(full)} institutions shown ({why}); the summary covers all of them")
    return _render_table(frame, summary, st.scenarios, st.method, label, color)


def _same_edges(a, b) -> bool:
    import numpy as np

    return a is b or (a.n_edges == b.n_edges and np.array_equal(a.edges["amount"].to_numpy(),
                                                                 b.edges["amount"].to_numpy()))


#: the columns of the ``run`` table: (record key, header, justify, priority: 0 kept longest, shortened text)
RUN_TABLE = (("name", "name", "left", 0, True), ("type", "type", "left", 6, True),
             ("obligations", "obligations", "right", 4, False), ("payment", "payment", "right", 3, False),
             ("shortfall", "shortfall", "right", 1, False), ("equity_pre_shock", "equity pre-shock", "right", 7, False),
             ("equity", "equity after", "right", 2, False), ("capital_depletion", "capital depletion", "right", 8,
                                                             False),
             ("defaulted", "defaulted", "center", 5, False), ("default_round", "wave", "right", 0, False))
#: records shown only when the result has them: the least clearing vector where it is not unique (after payment)
#: columns of a result's frame the records keep when it has them: the least payments (not unique), and a fire
#: sale's units held and sold and their value at the clearing prices (as a path's records)
EXTRA_COLUMNS = ("payment_least", "units_held", "units_sold", "asset_value")


def _share(x: float) -> str:
    return "n/a" if x != x else f"{x:.1%}"


def _render_table(frame, summary: dict, scens, method: str, label: str, color: bool) -> str:
    from .tables import Col, fitted_table, table_width

    order = _table_order(frame)
    title = f"{label}: " + (" + ".join(s.name for s in scens) if scens else "no scenario") + f" ({method})"
    cols = [Col(head, just, prio, shrink=shrink, floor=22 if key == "name" else 12)
            for key, head, just, prio, shrink in RUN_TABLE]
    least = "payment_least" in frame.columns
    if least:
        cols.insert(4, Col("least payment", "right", 0))
    rows, styles = [], []
    for i in order:
        row = frame.loc[i]
        d = bool(row["defaulted"])
        rows.append([str(row["name"]), str(row["type"]), *(fmt_amount(row[k]) for k in
                     ("obligations", "payment", *(("payment_least",) if least else ()), "shortfall",
                      "equity_pre_shock", "equity")),
                     _share(row["capital_depletion"]), "yes" if d else "", str(int(row["default_round"])) if d else "-"])
        styles.append("bold red" if d and color else None)
    table, note = fitted_table(cols, rows, table_width(color), title=title, styles=styles)
    return render(table, *([note] if note else []), _summary_table(summary), color=color)


def _summary_table(summary: dict):
    from rich.table import Table

    t = Table(title="summary", title_justify="left", show_header=False, min_width=30)
    t.add_column("measure")
    t.add_column("value", justify="right")
    amp = summary["amplification"]
    rows = [
        ("defaults", f"{summary['defaults']:,}"),
        ("fundamental defaults (wave 0)", f"{summary['fundamental_defaults']:,}"),
        ("last wave", str(summary["waves"]) if summary["waves"] >= 0 else "-"),
        ("total shortfall", fmt_amount(summary["total_shortfall"])),
        ("  of which to external creditors", fmt_amount(summary["external_shortfall"])),
        *([("  of which unpaid guarantee calls", fmt_amount(summary["guarantees_unpaid"]))]
          if summary.get("guarantees_unpaid") else []),
    ]
    for k, v in summary["losses_by_creditor_type"].items():
        rows.append((f"loss of {k}", fmt_amount(v)))
    rows += [
        ("shock to outside assets", fmt_amount(summary["shock"])),
        # an unpaid call is also unpaid on the obligation it covers: the system loss counts it once
        ("system loss (shock + shortfall - calls)" if summary.get("guarantees_unpaid") else
         "system loss (shock + shortfall)", fmt_amount(summary["system_loss"])),
        ("system loss without the network", fmt_amount(summary["system_loss_without_network"])),
        ("amplification", "n/a" if amp is None or not math.isfinite(amp) else f"{amp:.4f}"),
        *([("guarantees called (of those given)",
            f"{fmt_amount(summary['guarantees_called'])} of {fmt_amount(summary['guarantees'])}")]
          if "guarantees" in summary else []),
        *((f"price of {k} (fire sales)", f"{v:.4f}") for k, v in summary.get("prices", {}).items()),
        *([("loss from fire-sale prices", fmt_amount(summary["fire_sale_loss"]))] if "fire_sale_loss" in summary
          else []),
        ("clearing vector unique", {True: "yes", False: "no (greatest shown)", None: "not determined"}[summary["unique"]]),
    ]
    for k, v in rows:
        t.add_row(k, v)
    return t
