"""``contagion run``: clear a network under shock scenarios and show who defaults.

Data (the table, CSV or JSON) goes to standard output or ``-o PATH``; notes
(which network, which scenarios, non-uniqueness) go to standard error.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import click

from ..clearing import CLEARING_METHODS
from .options import emit, format_option, handle_errors, load_network, network_argument, output_option, \
    render, scenario_option, to_json, use_color

__all__ = ["run", "run_network", "render", "fmt_amount", "network_label", "INSTITUTION_COLUMNS"]

#: Columns of the per-institution records (CSV header, JSON keys), in order.
INSTITUTION_COLUMNS = ("name", "type", "obligations", "payment", "shortfall", "equity_before", "equity", "defaulted",
                       "default_round")


# ---------------------------------------------------------------------- rendering helpers (shared with data.py)
def fmt_amount(x: Any) -> str:
    """Amounts for tables: two decimals with thousands separators; small non-zero values with 3 significant digits."""
    if x is None:
        return ""
    x = float(x)
    if not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0.00"
    if abs(x) < 0.005:
        return f"{x:.3g}"
    return f"{x:,.2f}"


def network_label(net) -> str:
    """Dataset name, else source path, else ``"network"``."""
    meta = net.metadata or {}
    return str(meta.get("dataset") or meta.get("source") or "network")


# ---------------------------------------------------------------------- library-level step
def run_network(net, scenario_specs: Iterable[str] = (), *, baseline: bool = False, method: str = "eisenberg-noe",
                **params: Any):
    """Resolve scenarios, apply them in order and clear.

    Returns ``(base, shocked, scenarios, result, used_default)``: the network
    before the scenarios, after them, the :class:`~contagion.shocks.Scenario`
    objects applied, the :class:`~contagion.ClearingResult`, and whether the
    dataset's default scenario was used (no spec given and not ``baseline``).
    """
    from .. import clear
    from ..shocks import apply, default_scenario_of, find_scenario

    scenarios = [find_scenario(spec, net) for spec in scenario_specs]
    used_default = False
    if not scenarios and not baseline:
        default = default_scenario_of(net)
        if default is not None:
            scenarios, used_default = [default], True
    shocked = apply(net, scenarios) if scenarios else net
    result = clear(shocked, method=method, **params)
    return net, shocked, scenarios, result, used_default


# ---------------------------------------------------------------------- the command
@click.command("run")
@network_argument
@scenario_option
@click.option("--baseline", is_flag=True,
              help="Clear the network as it is, without the dataset's default scenario.")
@click.option("--method", "-m", type=click.Choice(list(CLEARING_METHODS)), default="eisenberg-noe",
              show_default=True, help="Clearing method.")
@click.option("--alpha", type=click.FloatRange(0, 1), default=None, metavar="A",
              help="rogers-veraart only: fraction of external assets recovered from a defaulting institution "
                   "(1 = no default cost). [default: 1]")
@click.option("--beta", type=click.FloatRange(0, 1), default=None, metavar="B",
              help="rogers-veraart only: fraction of interbank assets recovered. [default: 1]")
@click.option("--recovery", type=click.FloatRange(0, 1), default=None, metavar="R",
              help="threshold only: fraction of a failed debtor's obligations its creditors recover. [default: 0]")
@format_option
@output_option
@handle_errors
def run(network: str | None, scenarios: tuple[str, ...], baseline: bool, method: str, alpha: float | None,
        beta: float | None, recovery: float | None, fmt: str, output: str | None) -> None:
    """Clear NETWORK under shock scenarios and print who pays what, who defaults and in which wave.

    NETWORK is a path or a built-in dataset name (default: the built-in
    default dataset). Without --scenario, the dataset's default scenario is
    applied when its dataset.toml names one (announced on stderr); --baseline
    clears the network as it is. Several --scenario compose in order.

    Per institution: obligations (pbar), payment, shortfall, equity before
    (after the scenario, if everyone paid in full), equity after clearing,
    defaulted, wave (0 = fundamental default). The table is sorted by wave,
    then shortfall; CSV and JSON keep the network's order.

    \b
    Examples:
      contagion run core-periphery
      contagion run core-periphery --baseline
      contagion run chain --scenario a-fails --format json
      contagion run graphs/chain -s my-shock.toml -m rogers-veraart --alpha 0.5 --beta 0.9
      contagion run core-periphery -m threshold --recovery 0.4
    """
    if (alpha is not None or beta is not None) and method != "rogers-veraart":
        raise click.UsageError("--alpha and --beta apply only to --method rogers-veraart")
    if recovery is not None and method != "threshold":
        raise click.UsageError("--recovery applies only to --method threshold")
    if baseline and scenarios:
        raise click.UsageError("--baseline cannot be combined with --scenario")
    params: dict[str, float] = {}
    if method == "rogers-veraart":
        params = {"alpha": 1.0 if alpha is None else alpha, "beta": 1.0 if beta is None else beta}
    elif method == "threshold" and recovery is not None:
        params = {"recovery": recovery}

    net = load_network(network)
    base, shocked, scens, res, used_default = run_network(net, scenarios, baseline=baseline, method=method, **params)

    label = network_label(net)
    click.echo(f"network: {label} ({net.n} institutions, {net.n_edges} obligations); method: {method}"
               + ("" if not params else " (" + ", ".join(f"{k}={v:g}" for k, v in params.items()) + ")"), err=True)
    if used_default:
        click.echo(f"applying the default scenario '{scens[0].name}' of {label} "
                   f"(choose another with --scenario, or none with --baseline)", err=True)
    for s in scens:
        click.echo(f"scenario '{s.name}': {s.description}" if s.description else f"scenario '{s.name}'", err=True)
    if not scens:
        click.echo("no scenario: the network as it is", err=True)
    if res.unique is False:
        click.echo("note: the clearing vector is not unique; the greatest one is shown", err=True)

    from ..measures import loss_summary, losses_by_creditor_type

    frame = res.to_frame().reset_index()[list(INSTITUTION_COLUMNS)]
    losses = losses_by_creditor_type(res)
    loss = loss_summary(res, base)
    summary = {
        **res.summary(),
        "losses_by_creditor_type": {str(k): float(v) for k, v in losses.items()},
        "shock": loss["shock"],
        "system_loss": loss["system_loss"],
        "system_loss_without_network": loss["system_loss_without_network"],
        "amplification": loss["amplification"],
    }

    if shocked.forced_default.any() or not _same_edges(base, shocked):
        click.echo("note: 'shock' and the system loss without the network count only losses of outside assets; "
                   "forced defaults and changed obligations are not in them", err=True)

    if fmt == "json":
        records = frame.to_dict(orient="records")
        text = to_json({
            "network": {"name": label, "institutions": net.n, "obligations": net.n_edges},
            "method": method,
            "params": dict(res.params),
            "scenarios": [s.to_dict() for s in scens],
            "default_scenario_applied": used_default,
            "institutions": records,
            "summary": summary,
        })
    elif fmt == "csv":
        text = frame.to_csv(index=False, lineterminator="\n")
    else:
        text = _render_table(frame, summary, scens, method, label, use_color(output))
    emit(text, output)


def _same_edges(a, b) -> bool:
    import numpy as np

    return a.n_edges == b.n_edges and np.array_equal(a.edges["amount"].to_numpy(), b.edges["amount"].to_numpy())


def _render_table(frame, summary: dict, scens, method: str, label: str, color: bool) -> str:
    from rich.table import Table

    wave = frame["default_round"].where(frame["default_round"] >= 0, 10**9)
    # defaulted first by wave, larger shortfall first; then the survivors with the thinnest equity first
    order = frame.assign(_w=wave, _s=-frame["shortfall"]).sort_values(["_w", "_s", "equity", "name"],
                                                                      kind="stable").index
    title = f"{label}: " + (" + ".join(s.name for s in scens) if scens else "no scenario") + f" ({method})"
    table = Table(title=title, title_justify="left", min_width=len(title) + 2)
    for col, just in (("name", "left"), ("type", "left"), ("obligations", "right"), ("payment", "right"),
                      ("shortfall", "right"), ("equity before", "right"), ("equity after", "right"),
                      ("defaulted", "center"), ("wave", "right")):
        table.add_column(col, justify=just, no_wrap=col in ("name", "type"))
    for i in order:
        row = frame.loc[i]
        d = bool(row["defaulted"])
        table.add_row(str(row["name"]), str(row["type"]), fmt_amount(row["obligations"]), fmt_amount(row["payment"]),
                      fmt_amount(row["shortfall"]), fmt_amount(row["equity_before"]), fmt_amount(row["equity"]),
                      "yes" if d else "", str(int(row["default_round"])) if d else "-",
                      style="bold red" if d and color else None)
    return render(table, _summary_table(summary), color=color)


def _summary_table(summary: dict):
    from rich.table import Table

    t = Table(title="summary", title_justify="left", show_header=False, min_width=30)
    t.add_column("measure")
    t.add_column("value", justify="right")
    amp = summary["amplification"]
    rows = [
        ("defaults", str(summary["defaults"])),
        ("fundamental defaults (wave 0)", str(summary["fundamental_defaults"])),
        ("last wave", str(summary["waves"]) if summary["waves"] >= 0 else "-"),
        ("total shortfall", fmt_amount(summary["total_shortfall"])),
        ("  of which to external creditors", fmt_amount(summary["external_shortfall"])),
    ]
    for k, v in summary["losses_by_creditor_type"].items():
        rows.append((f"loss of {k}", fmt_amount(v)))
    rows += [
        ("shock to outside assets", fmt_amount(summary["shock"])),
        ("system loss (shock + shortfall)", fmt_amount(summary["system_loss"])),
        ("system loss without the network", fmt_amount(summary["system_loss_without_network"])),
        ("amplification", "n/a" if amp is None or not math.isfinite(amp) else f"{amp:.4f}"),
        ("clearing vector unique", {True: "yes", False: "no (greatest shown)", None: "not determined"}[summary["unique"]]),
    ]
    for k, v in rows:
        t.add_row(k, v)
    return t
