"""``--horizon FIRST:LAST``: clearing year by year, and how a path is shown (table, CSV, JSON)."""

from __future__ import annotations

import math
from typing import Any, Callable

import click

from .options import render, to_json
from .text import guarantee_summary, network_line, network_record, note, scenario_line

__all__ = ["horizon_option", "parse_horizon", "render_path", "announce_path", "PATH_COLUMNS"]

#: Columns of the long table (``-f csv``): one row per year and institution.
PATH_COLUMNS = ("year", "id", "name", "type", "obligations", "payment", "shortfall", "equity_pre_shock",
                "equity_if_all_pay", "equity", "capital_depletion", "defaulted", "new_default", "default_round", "cash")
#: Added to the records of a path with fire sales (as in a one-year fire-sale table): units held at the start of
#: the year, units sold in it, their value at the year's price (summed over assets), then ``price_<asset>``.
ASSET_COLUMNS = ("units_held", "units_sold", "asset_value")


def _asset_frame(path: Any, k: int, frame: Any) -> list[str]:
    """Put the year's asset columns in ``frame`` (a year's records); their names, none without assets."""
    if not path.asset_names:
        return []
    frame["units_held"] = path.units_held[k].sum(axis=1)
    frame["units_sold"] = path.units_sold[k].sum(axis=1)
    q = [path.prices[a][k] for a in path.asset_names]
    frame["asset_value"] = path.units_held[k] @ q
    for a, v in zip(path.asset_names, q):
        frame[f"price_{a}"] = v
    return [*ASSET_COLUMNS, *(f"price_{a}" for a in path.asset_names)]


def parse_horizon(text: str) -> tuple[int, int]:
    """``"2026:2030"`` -> ``(2026, 2030)``; ``"2027"`` -> ``(2027, 2027)``.

    >>> parse_horizon("2026:2030"), parse_horizon(" 2027 ")
    ((2026, 2030), (2027, 2027))
    """
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"expected FIRST:LAST (years, e.g. 2026:2030), got {text!r}")
    if any(len(p) > 4 for p in parts):
        raise ValueError(f"{text!r}: years have at most four digits (e.g. 2026:2030)")
    first, last = int(parts[0]), int(parts[1])
    if last < first:
        raise ValueError(f"{text!r}: the last year is before the first")
    return first, last


def _horizon_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        return parse_horizon(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def horizon_option(func: Callable) -> Callable:
    """``--horizon FIRST:LAST``."""
    return click.option("--horizon", default=None, metavar="FIRST:LAST", callback=_horizon_callback,
                        help="Clear year by year from FIRST to LAST (inclusive): dated debt, rollover, collateral, "
                             "cash carried forward, acceleration on default (see README, multi-year paths).")(func)


def announce_path(path: Any, label: str) -> None:
    """Notes on stderr: network, method, horizon, scenarios."""
    net = path.network
    first, last = path.years[0], path.years[-1]
    params = "" if not path.params else " (" + ", ".join(f"{k}={v:g}" for k, v in path.params.items()) + ")"
    note(f"{network_line(net, label)}; method: {path.method}{params}; "
         f"years {first}-{last}")
    if path.default_applied:
        note(f"applying the default scenario '{path.scenarios[0].name}' of {label} over the path "
             f"(choose another with --scenario, or none with --baseline)")
    for s in path.scenarios:
        note(scenario_line("scenario", s.name, s.description))
    if not path.scenarios:
        note("no scenario: the network as it is")
    odd = [y for y, res in zip(path.years, path.clearings) if res.unique is False]
    if odd:      # as a one-year run says it
        least = any(res.least_payments is not None for res in path.clearings)
        note(f"note: the clearing vector is not unique in {', '.join(map(str, odd))}; the greatest one is "
             "shown" + (" (the least: payment_least)" if least else ""))


def _year_records(path: Any, k: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records and summary of year ``k``, with the keys of a one-year run."""
    import numpy as np

    from ..measures import loss_summary, losses_by_creditor_type
    from .text import INSTITUTION_COLUMNS

    from ..clearing.handover import owed_network

    res = path.clearings[k]
    frame = res.to_frame(owed_network(path.bases[k])).reset_index()
    frame["defaulted"] = path.defaulted[k]
    frame["default_round"] = path.default_round[k]
    base = path.bases[k]      # (the year before its shocks, with the cash carried in: the shock is the scenario's)
    loss = loss_summary(res, base)
    summary = {
        **res.summary(),
        # the year's own default waves (a defaulter of an earlier year is in default, in no wave of this one)
        "defaults": int(path.defaulted[k].sum()),
        "fundamental_defaults": int(np.count_nonzero(path.default_round[k] == 0)),
        "waves": int(path.default_round[k].max(initial=-1)),
        "losses_by_creditor_type": {str(t): float(v) for t, v in losses_by_creditor_type(res).items()},
        **{key: loss[key] for key in ("shock", "system_loss", "system_loss_without_network", "amplification")},
        # the keys of a one-year run's summary, in its order; the caps still in force that year
        **guarantee_summary(path.bases[k], res, None if path.guarantees_given is None else path.guarantees_given[k]),
        **{key: loss[key] for key in ("guarantees_unpaid",) if key in loss},
        "new_defaults": int(path.new_defaults[k].sum()),
        "rolled_principal": float(path.rolled_principal[k]),
        "called_principal": float(path.called_principal[k]),
        "cash": float(path.cash[k].sum()),
    }
    extra = [c for c in _asset_frame(path, k, frame) if c in ASSET_COLUMNS]   # prices are in the summary
    extra += [c for c in ("payment_least",) if c in frame]        # a year whose clearing vector is not unique
    return frame[[*INSTITUTION_COLUMNS, *extra]].to_dict(orient="records"), summary


def path_json(path: Any, label: str) -> str:
    """The DESIGN §7 object: ``horizon``, ``years`` [{year, institutions, summary}], ``institutions`` (per
    institution over the path: ``default_year``, ``payment`` in all, ``shortfall`` still unpaid at its end,
    ``obligations`` their sum, ``cash`` at its end); with fire
    sales also ``prices`` (asset -> the price where each year ended), ``units_held``, ``units_sold`` and
    ``asset_value`` in the records and ``prices`` / ``fire_sale_loss`` in each year's summary."""
    years = []
    for k, y in enumerate(path.years):
        records, summary = _year_records(path, k)
        years.append({"year": int(y), "institutions": records, "summary": summary})
    # over the path: what each paid, what it still owes at its end (a year's shortfall is owed again the next
    # year, so the years' shortfalls do not add up), their sum (what it had to pay: what fell due, less what
    # guarantors paid in its stead), and the cash it ends with
    paid, left = path.payments.sum(axis=0), path.shortfall[-1]
    totals = [{"name": name, "default_year": dy, "obligations": float(paid[i] + left[i]), "payment": float(paid[i]),
               "shortfall": float(left[i]), "cash": float(path.cash[-1, i])}
              for i, (name, dy) in enumerate(zip(path.names, path.default_year))]
    return to_json({
        "network": network_record(path.network, label),
        "method": path.method,
        "params": dict(path.params),
        "scenarios": [s.to_dict() for s in path.scenarios],
        "default_scenario_applied": path.default_applied,
        "horizon": [int(path.years[0]), int(path.years[-1])],
        **({"prices": {a: [float(x) for x in path.prices[a]] for a in path.asset_names}} if path.asset_names
           else {}),
        "years": years,
        "institutions": totals,
    })


def _csv(path: Any) -> str:
    import pandas as pd

    from .options import csv_text

    from ..clearing.handover import owed_network

    frames = []
    for k, y in enumerate(path.years):
        f = path.clearings[k].to_frame(owed_network(path.bases[k])).reset_index()
        f.insert(0, "year", int(y))
        f["defaulted"] = path.defaulted[k]
        f["new_default"] = path.new_defaults[k]
        f["default_round"] = path.default_round[k]
        f["cash"] = path.cash[k]
        extra = _asset_frame(path, k, f)
        frames.append(f)
    return csv_text(pd.concat(frames, ignore_index=True)[[*PATH_COLUMNS, *extra]])


def render_path(path: Any, label: str, fmt: str, color: bool) -> str:
    """The output of ``contagion run --horizon``: a table, the long CSV, or the DESIGN §7 JSON."""
    if fmt == "json":
        return path_json(path, label)
    if fmt == "csv":
        return _csv(path)
    return _path_tables(path, label, color)


def _amount(x: float) -> str:
    from .text import fmt_amount

    return fmt_amount(x)


def _who(names: Any) -> str:
    """The year's new defaulters in one cell: the first and how many more (all of them are in the table of
    institutions that default below; a list cut in its middle read as one name, "Peripher…phery 4").

    >>> _who([]), _who(["OpenAI"]), _who(["Periphery 1", "Periphery 2", "Periphery 3"])
    ('', 'OpenAI', 'Periphery 1, +2')
    """
    names = list(names)
    return "" if not names else names[0] if len(names) == 1 else f"{names[0]}, +{len(names) - 1}"


def _path_tables(path: Any, label: str, color: bool) -> str:
    from .tables import Col, fitted_table, table_width

    scen = " + ".join(s.name for s in path.scenarios) if path.scenarios else "no scenario"
    title = f"{label}: {scen}, {path.years[0]}-{path.years[-1]} ({path.method})"
    width = table_width(color)
    cols = [Col("year", "right", 0), Col("defaults", "right", 0), Col("new", "right", 0),
            Col("shortfall", "right", 1), Col("rolled principal", "right", 2), Col("called principal", "right", 2),
            Col("who defaults", "left", 3, shrink=True, floor=16)]
    for a in path.asset_names:                                   # fire sales: the price where each year ended
        cols.insert(-1, Col(f"price of {a}", "right", 1))
    rows, styles = [], []
    for row in path.summary():
        rows.append([str(row["year"]), f"{row['defaults']:,}", f"{row['new_defaults']:,}", _amount(row["total_shortfall"]),
                     _amount(row["rolled_principal"]), _amount(row["called_principal"]),
                     *(f"{row['prices'][a]:.4f}" for a in path.asset_names), _who(row["new_default_names"])])
        styles.append("bold red" if color and row["new_defaults"] else None)
    years, note1 = fitted_table(cols, rows, width, title=title, styles=styles)
    carried = ("shortfall: what is left unpaid in the year, debts carried from earlier years included (a "
               "year's shortfall is owed again the next year: do not add them up)")
    note1 = f"{note1}; {carried}" if note1 else carried
    dy = path.default_year
    order = sorted((y, i) for i, y in enumerate(dy) if y is not None)
    if not order:
        return render(years, *([note1] if note1 else []), "nobody defaults on this path", color=color)
    wcols = [Col("name", "left", 0, shrink=True, floor=20), Col("type", "left", 3, True), Col("year", "right", 0),
             Col("wave", "right", 2), Col("shortfall that year", "right", 1), Col("cash the year before", "right", 2)]
    wrows = []
    for y, i in order:
        k = path.years.index(y)
        before = path.cash[k - 1, i] if k > 0 else math.nan
        wrows.append([str(path.names[i]), str(path.network.types[i]), str(y), str(int(path.default_round[k, i])),
                      _amount(path.shortfall[k, i]), "-" if math.isnan(before) else _amount(before)])
    who, note2 = fitted_table(wcols, wrows, width, title="institutions that default")
    return render(years, *([note1] if note1 else []), who, *([note2] if note2 else []), color=color)
