"""``contagion sensitivity``: derivatives of payments, equity and the system loss with respect to one input.

Data (table, CSV or JSON) to standard output or ``-o``; notes (network,
scenarios, kinks, derivatives that do not exist) to standard error.
"""

from __future__ import annotations

import math
from typing import Sequence

import click

from .options import csv_text, emit, format_option, handle_errors, load_network, network_argument, output_option, \
    render, scenario_option, to_json, use_color
from .text import fmt_amount, network_label, note

__all__ = ["sensitivity", "render_sensitivity", "render_ranking"]

#: the columns of the table: (record key, header, justify, priority: 0 kept longest, shortened text)
SENS_TABLE = (("name", "name", "left", 0, True), ("type", "type", "left", 3, True),
              ("payment", "d payment", "right", 0, False), ("equity", "d equity", "right", 0, False),
              ("payment_left", "d payment (left)", "right", 2, False),
              ("equity_left", "d equity (left)", "right", 1, False))
#: the columns of the --rank-assumptions table
RANK_TABLE = (("assumption", "assumption", "left", 0, True), ("change_low", "change at low end", "right", 0, False),
              ("change_high", "change at high end", "right", 0, False),
              ("derivative", "per unit at central", "right", 1, False),
              ("default", "defaults at", "left", 2, False))


@click.command("sensitivity")
@network_argument
@scenario_option
@click.option("--baseline", is_flag=True, help="At the network as it is, without the dataset's default scenario.")
@click.option("--wrt", metavar="KIND:KEY",
              help="What to vary: external_assets:NAME, external_liabilities:NAME, edge:DEBTOR>CREDITOR or "
                   "assumption:KEY (a dataset with assumption_effects.csv).")
@click.option("--rank-assumptions", "rank_for", metavar="INSTITUTION",
              help="Instead: rank every assumption by how much it moves INSTITUTION's equity (low/high ends).")
@click.option("--effects", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="The assumption effects table (default: assumption_effects.csv beside the network's files).")
@format_option
@output_option
@handle_errors
def sensitivity(network: str | None, scenarios: tuple[str, ...], baseline: bool, wrt: str | None,
                rank_for: str | None, effects: str | None, fmt: str, output: str | None) -> None:
    """Derivatives of every payment, every equity and the system loss with respect to one input.

    Exact where the set of defaulters does not change (Liu & Staum 2010); at a
    kink (an institution exactly at its threshold) the left derivative is shown
    beside the right one. "d payment" and "d equity" are the right derivatives:
    the change per unit increase of the input. Taken after the scenarios
    (without --scenario, the dataset's default scenario; --baseline: none).

    \b
    Examples:
      contagion sensitivity --wrt external_assets:OpenAI
      contagion sensitivity --wrt "edge:OpenAI>Oracle" -f json
      contagion sensitivity chain -s a-fails --wrt external_assets:A
      contagion sensitivity --wrt assumption:openai_revenue
      contagion sensitivity --rank-assumptions CoreWeave
      contagion sensitivity my-network/ --rank-assumptions Bank \\
          --effects my-effects.csv
    """
    from ..sensitivity import assumptions_table, rank_assumptions, sensitivity as derivatives, unranked_assumptions
    from .run import scenario_request

    _one_question(wrt, rank_for)
    net, scen = load_network(network), scenario_request(scenarios, baseline)
    if rank_for is not None:
        ranking = rank_assumptions(net, rank_for, scen, effects=effects)
        unranked = unranked_assumptions(ranking, assumptions_table(net))
        return emit(render_ranking(ranking, rank_for, network_label(net), fmt, use_color(output), unranked=unranked),
                    output)
    result = derivatives(net, wrt, scen, effects=effects)
    _notes(result, network_label(net))
    emit(render_sensitivity(result, network_label(net), fmt, use_color(output)), output)


def _one_question(wrt: str | None, rank_for: str | None) -> None:
    """A usage error unless exactly one of --wrt (derivatives) and --rank-assumptions (the ranking) is given."""
    if wrt is not None and rank_for is not None:
        raise click.UsageError("give either --wrt KIND:KEY (derivatives) or --rank-assumptions INSTITUTION (the "
                               "ranking), not both")
    if wrt is None and rank_for is None:
        raise click.UsageError("give --wrt KIND:KEY (or --rank-assumptions INSTITUTION)")


def _notes(result, label: str) -> None:
    net = result.network
    scen = net.metadata.get("scenarios") or []
    note(f"network: {label} ({net.n} institutions); derivatives with respect to {result.wrt}, "
         + (f"after {' + '.join(map(str, scen))}" if scen else "on the network as it is"))
    if not result.exact:
        note("note: the network has seniority, collateral or guarantees: derivatives by one-sided difference "
             "quotients of the exact clearing")
    kinks = [n for n, k in zip(result.names, result.kink) if k]
    if kinks:
        shown = ", ".join(kinks[:5]) + (f" and {len(kinks) - 5} more" if len(kinks) > 5 else "")
        note(f"note: at a kink (left and right derivatives differ, or one does not exist) for {shown}")


def _records(result) -> list[dict]:
    frame = result.to_frame().reset_index()
    records = frame.to_dict(orient="records")
    records.append({"name": "(system loss)", "type": "system", "payment": None, "equity": None,
                    "payment_left": None, "payment_right": None, "equity_left": None, "equity_right": None,
                    "kink": bool(not math.isclose(result.system_loss_left, result.system_loss_right,
                                      rel_tol=1e-9 if result.exact else 1e-4, abs_tol=1e-12 if result.exact else 1e-7)),
                    "system_loss": result.system_loss_right, "system_loss_left": result.system_loss_left,
                    "system_loss_right": result.system_loss_right})
    return records


def _num(x) -> str:
    """A derivative for the table: 4 decimals (derivatives are rates, mostly between -1 and 1)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{round(float(x), 4) + 0.0:,.4f}"      # + 0.0: no "-0.0000"


def render_sensitivity(result, label: str, fmt: str, color: bool) -> str:
    """The output of ``contagion sensitivity --wrt``: JSON (a list of records, the last one the system loss),
    CSV (the same rows) or a table sorted by the size of the equity derivative."""
    import pandas as pd

    records = _records(result)
    if fmt == "json":
        return to_json(records)
    if fmt == "csv":
        return csv_text(pd.DataFrame.from_records(records))
    return _table(result, records[:-1], label, color)


def _table(result, records: list[dict], label: str, color: bool) -> str:
    from rich.table import Table

    from .tables import Col, fitted_table, table_width

    kinked = bool(result.kink.any())
    spec = [c for c in SENS_TABLE if kinked or not c[0].endswith("_left")]
    cols = [Col(head, just, prio, shrink=shrink, floor=18 if key == "name" else 10)
            for key, head, just, prio, shrink in spec]
    moved = [r for r in records if any(r[k] != 0 for k in ("payment_left", "payment_right", "equity_left",
                                                              "equity_right"))]
    order = sorted(moved, key=lambda r: (-abs(r["equity"]) if r["equity"] == r["equity"] else 1.0, r["name"]))
    rows = [[str(r["name"]), str(r["type"]), *(_num(r[c[0]]) for c in spec[2:])] for r in order]
    table, note = fitted_table(cols, rows, table_width(color), title=f"{label}: d / d {result.wrt}")
    still = len(records) - len(moved)
    if still:
        note = (note + "\n" if note else "") + (f"{still} institution{'s' if still > 1 else ''} whose payment and "
                                                 f"equity do not move (derivatives 0) not listed; -f csv lists all")
    t = Table(show_header=False, title="summary", title_justify="left")
    t.add_column("")
    t.add_column("", justify="right")
    t.add_row("d system loss (shock + shortfall)", _num(result.system_loss_right))
    if kinked or result.system_loss_left != result.system_loss_right:
        t.add_row("d system loss (left)", _num(result.system_loss_left))
    return render(table, *([note] if note else []), t, color=color)


def render_ranking(ranking, institution: str, label: str, fmt: str, color: bool, *,
                   unranked: Sequence[str] = ()) -> str:
    """The output of ``--rank-assumptions``: every assumption with the equity at its low and high end; the
    table's note names the ``unranked`` assumptions (in the dataset's list, without effects: see
    :func:`contagion.sensitivity.unranked_assumptions`)."""
    frame = ranking.reset_index()
    if fmt == "json":
        return to_json(frame.to_dict(orient="records"))
    if fmt == "csv":
        return csv_text(frame)
    from .tables import Col, fitted_table, table_width

    cols = [Col(head, just, prio, shrink=shrink, floor=18 if key == "assumption" else 10)
            for key, head, just, prio, shrink in RANK_TABLE]
    moving = frame[(frame["swing"] != 0) | (frame["derivative"] != 0)]
    rows = [[str(r["assumption"]), fmt_amount(r["change_low"]), fmt_amount(r["change_high"]), _num(r["derivative"]),
             " and ".join(e for e in ("low", "high") if r[f"defaulted_{e}"]) or "-"] for _, r in moving.iterrows()]
    central = fmt_amount(frame["equity_central"].iloc[0]) if len(frame) else "n/a"
    title = (f"{label}: assumptions by how much they move {institution}'s equity ({central} at central values), "
             f"each alone at the low and high end of its range")
    table, note = fitted_table(cols, rows, table_width(color), title=title)
    still = len(frame) - len(moving)
    if still:
        note = (note + "\n" if note else "") + (f"{still} assumption{'s' if still > 1 else ''} that do not move it "
                                                 f"not listed; -f csv lists all")
    if unranked:
        note = (note + "\n" if note else "") + (
            f"{len(unranked)} more move no amount of the one-year network and are not ranked (they act on the "
            f"multi-year path or inside a scenario): {', '.join(unranked)}")
    return render(table, *([note] if note else []), color=color)
