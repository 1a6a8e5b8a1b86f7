"""``contagion rank``, ``contagion reverse-stress`` and ``contagion sweep``: analytics over many scenarios.

Each command parses its options, calls one library function
(:func:`contagion.measures.systemic_importance`,
:func:`contagion.measures.reverse_stress`, :func:`contagion.sweep.run_sweep`)
and renders the result as a table, CSV or JSON. Notes and the progress bar go
to standard error.

The analytics start from the network as it is (the dataset's default scenario
is *not* applied); ``--scenario`` gives a stressed baseline instead.
"""

from __future__ import annotations

import math
import sys
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Callable, Iterator

import click

from .text import network_line, note
from .methods import method_options
from .options import csv_text, emit, format_option, handle_errors, load_network, network_argument, output_option, \
    scenario_option, to_json
from .run import announce, network_label

__all__ = ["rank", "reverse_stress", "sweep"]

#: Methods that clear in batches (rank).
BATCH_METHODS = ("eisenberg-noe", "rogers-veraart")
#: Methods a sweep clears its draws with (the fire-sale methods through the batched fire-sale solver).
SWEEP_METHODS = BATCH_METHODS + ("fire-sale", "fire-sale-leverage")

#: Columns ``rank`` can sort by (largest first).
RANK_SORTS = ("system_loss", "induced_shortfall", "additional_defaults", "contagion_multiplier", "vulnerability",
              "defaulted_by")
#: the table's header of each sort key
RANK_HEADERS = {"system_loss": "system loss", "induced_shortfall": "induced shortfall",
                "additional_defaults": "further defaults", "contagion_multiplier": "multiplier",
                "vulnerability": "vulnerability", "defaulted_by": "brought down by"}


# ---------------------------------------------------------------------- shared options and helpers
def _executor_options(func: Callable) -> Callable:
    func = click.option("--dask-local", "dask_local", type=click.IntRange(1), default=None, metavar="N",
                        help="Run on a local Dask cluster of N worker processes (needs contagion[distributed]).")(func)
    func = click.option("--scheduler", default=None, metavar="ADDRESS",
                        help="Run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
                             "(needs contagion[distributed]).")(func)
    func = click.option("--workers", "-j", type=click.IntRange(1), default=None, metavar="N",
                        help="Local worker processes (1 = in this process). [default: in this process for small "
                             "jobs, one per core for large ones]")(func)
    return func


@contextmanager
def _executor(workers: int | None, scheduler: str | None, dask_local: int | None) -> Iterator[Any]:
    """The executor for the library call (``"auto"``, ``"inline"``, a process pool or a Dask executor)."""
    from ..sweep import dask_executor, local_executor

    if scheduler and dask_local:
        raise click.UsageError("--scheduler and --dask-local are alternatives; give one")
    if (scheduler or dask_local) and workers:
        raise click.UsageError("--workers is for local processes; with Dask the cluster decides")
    if scheduler or dask_local:
        where = f"Dask scheduler {scheduler}" if scheduler else f"a local Dask cluster of {dask_local} workers"
        note(f"running on {where}")
        with dask_executor(scheduler, dask_local) as ex:
            yield ex
    elif workers is None:
        yield "auto"
    elif workers == 1:
        yield "inline"
    else:
        pool = local_executor(workers)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on standard error (only when it is a terminal and ``enabled``)."""
    if not enabled or not _stderr_tty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _stderr_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _baseline(network: str | None, scenarios: tuple[str, ...], method: str, params: dict[str, float]):
    """The network under the ``--scenario`` options (none: as it is), through :func:`contagion.stress`;
    announced on stderr."""
    from ..pipeline import stress

    st = stress(load_network(network), scenarios, method=method, **params)
    announce(st, role="baseline scenario")
    return st


def _num(x: Any, digits: int = 4) -> str:
    from .run import fmt_amount

    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "n/a"
    return fmt_amount(x)


def _ratio(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{float(x):.4f}"


# ---------------------------------------------------------------------- rank
@click.command("rank")
@network_argument
@scenario_option
@method_options(BATCH_METHODS)
@click.option("--sort", "sort_by", type=click.Choice(RANK_SORTS), default="system_loss", show_default=True,
              metavar="COLUMN", help=f"Column to rank by (largest first): {', '.join(RANK_SORTS)}.")
@click.option("--top", type=click.IntRange(1), default=None, metavar="N",
              help="Show only the first N institutions. [default: 25 in the table, all in CSV/JSON]")
@_executor_options
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr (terminals only).")
@format_option
@output_option
@handle_errors
def rank(network: str | None, scenarios: tuple[str, ...], method: str, params: dict[str, float], sort_by: str,
         top: int | None, workers: int | None, scheduler: str | None, dask_local: int | None, progress: bool,
         fmt: str, output: str | None) -> None:
    """Rank institutions by systemic importance: the damage when each one alone fails.

    For every institution i, scenario i takes away all of i's outside assets
    (everything else as in the baseline) and clears the network; all scenarios
    are cleared in batches. Columns: system loss (Glasserman-Young: the shock
    plus the increase in total shortfall), the shortfall it induces, whether i
    itself defaults, how many others default, the contagion multiplier (system
    loss with the network / without it), and i's vulnerability (average loss it
    suffers when each other institution fails) and how often others' failure
    brings it down.

    \b
    Examples:
      contagion rank
      contagion rank ai-infrastructure -s openai-revenue-shortfall --top 10
      contagion rank chain --format json
      contagion rank big-network/ --dask-local 2
    """
    from ..measures import systemic_importance

    st = _baseline(network, scenarios, method, params)
    with _executor(workers, scheduler, dask_local) as ex, _progress("ranking", progress) as cb:
        frame = systemic_importance(st.network, method=method, executor=ex, progress=cb, **params)
    emit(_rank_output(frame, st, sort_by, top, fmt, output), output)


def _rank_output(frame, st, sort_by: str, top: int | None, fmt: str, output: str | None) -> str:
    if sort_by != "system_loss":
        frame = frame.sort_values(sort_by, ascending=False, kind="stable")
        frame["rank"] = range(1, len(frame) + 1)
    shown = frame.head(top) if top else frame
    if fmt in ("json", "csv"):      # each record with its id first, as run's (the name beside it)
        ids = dict(zip(st.base.names, st.base.ids))
        records = shown.reset_index()
        records.insert(0, "id", [ids[n] for n in records["name"]])
        return to_json(records.to_dict(orient="records")) if fmt == "json" else csv_text(records)
    return _rank_table(frame.head(top or 25), len(frame), network_label(st.base), [s.name for s in st.scenarios],
                       st.method, sort_by, output)


def _rank_table(frame, total: int, label: str, scen_names: list[str], method: str, sort_by: str,
                output: str | None) -> str:
    from .run import render, use_color
    from .tables import Col, fitted_table, table_width

    color = use_color(output)
    base = " + ".join(scen_names) if scen_names else "no scenario"
    title = f"{label} ({base}, {method}): systemic importance, by {sort_by.replace('_', ' ')}"
    cols = [Col("rank", "right", 0), Col("name", "left", 0, shrink=True, floor=22), Col("type", "left", 8, True),
            Col("outside assets", "right", 6), Col("fails", "center", 5), Col("system loss", "right", 1),
            Col("induced shortfall", "right", 3), Col("further defaults", "right", 2), Col("multiplier", "right", 4),
            Col("vulnerability", "right", 7), Col("brought down by", "right", 9)]
    # the column the table is sorted by is never the one hidden to fit the terminal
    cols = [replace(c, priority=0) if c.header == RANK_HEADERS[sort_by] else c for c in cols]
    rows, styles = [], []
    for name, row in frame.iterrows():
        rows.append([str(int(row["rank"])), str(name), str(row["type"]), _num(row["external_assets"]),
                     "yes" if row["fails"] else "", _num(row["system_loss"]), _num(row["induced_shortfall"]),
                     f"{int(row['additional_defaults']):,}", _ratio(row["contagion_multiplier"]),
                     _num(row["vulnerability"]), str(int(row["defaulted_by"]))])
        styles.append("bold" if color and row["additional_defaults"] > 0 else None)
    table, note = fitted_table(cols, rows, table_width(color), title=title, styles=styles)
    notes = [f"{len(frame)} of {total} institutions shown. Scenario i: i loses all its outside assets."]
    return render(table, "\n".join(notes + ([note] if note else [])), color=color)


# ---------------------------------------------------------------------- reverse-stress
@click.command("reverse-stress")
@network_argument
@click.option("--target", "-t", required=True, metavar="NAME", help="Institution whose default is sought (name or id).")
@click.option("--shock", "shock_spec", required=True, metavar="SPEC",
              help="One-parameter shock family: external_assets:NAME, external_assets:type=neocloud, "
                   "edges:kind=compute_purchase_contract, scenario:NAME_OR_FILE.")
@scenario_option
@method_options()
@click.option("--tol", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=1e-6, show_default=True,
              help="Precision on the shock size.")
@click.option("--grid", type=click.IntRange(2, 1024), default=16, show_default=True,
              help="Sizes cleared per refinement round (the bracket shrinks GRID-fold each round).")
@format_option
@output_option
@handle_errors
def reverse_stress(network: str | None, target: str, shock_spec: str, scenarios: tuple[str, ...], method: str,
                   params: dict[str, float], tol: float, grid: int, fmt: str, output: str | None) -> None:
    """Find the smallest shock of a one-parameter family that makes TARGET default.

    The size s runs from 0 (no shock) to 1 (the full shock): the fraction of
    outside assets lost (external_assets:...), the fraction of the selected
    obligations cancelled (edges:...), or the share of a scenario applied
    (scenario:...). The threshold is found by multi-point bisection to --tol;
    the cascade at the threshold (who defaults, in which wave) is shown.
    "never" when even the full shock leaves TARGET solvent.

    \b
    Examples:
      contagion reverse-stress --target CoreWeave --shock external_assets:OpenAI
      contagion reverse-stress -t Oracle --shock external_assets:type=ai_lab
      contagion reverse-stress -t CoreWeave \\
          --shock edges:kind=compute_purchase_contract
      contagion reverse-stress core-periphery -t "Periphery 1" \\
          --shock external_assets:Core --tol 1e-9
    """
    from ..measures import reverse_stress as _reverse_stress

    st = _baseline(network, scenarios, method, params)
    rs = _reverse_stress(st.network, target, shock_spec, method=method, tol=tol, grid=grid, **params)
    if rs.monotone_violation:
        note("warning: the evaluated sizes are not monotone (the target defaults at some size and not at a "
             "larger one); the threshold is the first transition found")
    elif not rs.monotone:
        note(f"note: this shock family is not guaranteed monotone ({rs.family.not_monotone_because}); no violation "
             "was seen on the sizes evaluated")
    emit(_reverse_output(rs, st, fmt, output), output)


def _reverse_output(rs, st, fmt: str, output: str | None) -> str:
    label = network_label(st.base)
    cascade = rs.to_frame().reset_index()
    if fmt == "json":
        return to_json({**rs.summary(), "network": label, "baseline_scenarios": [s.name for s in st.scenarios],
                        "params": dict(st.params), "cascade": cascade.to_dict(orient="records")})
    if fmt == "csv":
        if cascade.empty:       # nobody defaults (never): one row with blank cascade columns still gives the answer
            cascade = cascade.reindex([0])
        cascade.insert(0, "threshold", rs.threshold)
        cascade.insert(0, "status", rs.status)
        cascade.insert(0, "target", rs.target)
        return csv_text(cascade)
    return _reverse_table(rs, cascade, label, output)


def _apart(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` with six significant digits, or as many more as it takes to tell them apart.

    >>> _apart(0.12500000023, 0.1249999998)
    ('0.1250000002', '0.1249999998')
    >>> _apart(0.27386364, 0.25)
    ('0.273864', '0.25')
    """
    for digits in range(6, 18):
        left, right = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if left != right or a == b:
            return left, right
    return repr(a), repr(b)


def _reverse_table(rs, cascade, label: str, output: str | None) -> str:
    from .run import fmt_amount, render, use_color
    from .tables import Col, fitted_table, table_width

    s = rs.summary()
    if rs.status == "defaults":
        up, low = _apart(rs.threshold, rs.lower)
        head = (f"{rs.target} defaults once the shock reaches s = {up} ({rs.threshold:.4%}); "
                f"it survives at s = {low} (precision {rs.tol:g}).")
    elif rs.status == "already":
        head = f"{rs.target} is in default already without the shock (s = 0)."
    else:
        head = (f"never: {rs.target} survives even the full shock (s = 1)"
                + ("" if rs.monotone else " at every size evaluated") + ".")
    lines = [f"{label}: {rs.family.description} [{rs.family.spec}]", head]
    if rs.status != "already":
        lines.append(f"outside assets lost at s = {rs.size:.6g}: {fmt_amount(s['external_asset_loss'])}; "
                     f"{s['defaults']} defaults, last wave {s['waves']}, total shortfall "
                     f"{fmt_amount(s['total_shortfall'])}; {s['evaluations']} sizes cleared.")
    color = use_color(output)
    if cascade.empty:
        return render("\n".join(lines), "nobody defaults at this size", color=color)
    cols = [Col("wave", "right", 0), Col("name", "left", 0, shrink=True), Col("type", "left", 3, shrink=True),
            Col("obligations", "right", 2), Col("payment", "right", 1), Col("shortfall", "right", 0),
            Col("equity", "right", 1)]
    rows, styles = [], []
    for _, row in cascade.iterrows():
        rows.append([str(int(row["default_round"])), str(row["name"]), str(row["type"]), fmt_amount(row["obligations"]),
                     fmt_amount(row["payment"]), fmt_amount(row["shortfall"]), fmt_amount(row["equity"])])
        styles.append("bold red" if color and row["name"] == rs.target else None)
    title = f"cascade at s = {rs.size:.6g}" + (" (the full shock)" if rs.status == "never" else "")
    table, note = fitted_table(cols, rows, table_width(color), title=title, styles=styles)
    return render("\n".join(lines), table, *([note] if note else []), color=color)


# ---------------------------------------------------------------------- sweep
@click.command("sweep")
@network_argument
@click.option("--config", "-c", "config_spec", required=True, metavar="FILE|NAME",
              help="Sweep configuration (TOML/YAML/JSON), or the name of one shipped with the dataset "
                   "(graphs/<dataset>/sweeps/).")
@click.option("-n", "--draws", "n", type=click.IntRange(1), default=10_000, show_default=True,
              help="Number of random draws (with --until-se: the most draws).")
@click.option("--until-se", type=click.FloatRange(0, min_open=True), default=None, metavar="AMOUNT",
              help="Draw until the standard error of the mean system loss is at most AMOUNT (judged every 256 "
                   "draws, from 1,024 on), or -n draws; same numbers as -n of the draws it stopped at.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Random seed: the same seed gives the same numbers whatever the chunking and the workers.")
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
              show_default=True, help="Level of the confidence intervals.")
@click.option("--chunk-size", type=click.IntRange(1), default=None, metavar="DRAWS",
              help="Draws per task (rounded up to whole clearing batches). [default: about 4 tasks per worker]")
@scenario_option
@method_options(SWEEP_METHODS)
@click.option("--top", type=click.IntRange(1), default=None, metavar="N",
              help="Show only the N institutions most likely to default. [default: 25 in the table; CSV/JSON: "
                   "all, in network order]")
@click.option("--co-default", "co_default", type=click.IntRange(1), default=5, show_default=True, metavar="K",
              help="Joint default probabilities of the K institutions most likely to default (and their flags "
                   "in --draws-out).")
@click.option("--draws-out", type=click.Path(dir_okay=False), default=None, metavar="FILE.parquet",
              help="Also write one row per draw: system loss, number of defaults, whether each of the "
                   "--co-default institutions defaulted, and with fire sales the price of each asset (.parquet, "
                   "or .csv; streamed while the sweep runs, the file written atomically at the end).")
@_executor_options
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr (terminals only).")
@format_option
@output_option
@handle_errors
def sweep(network: str | None, config_spec: str, n: int, until_se: float | None, seed: int, confidence: float,
          chunk_size: int | None, scenarios: tuple[str, ...], method: str, params: dict[str, float],
          top: int | None, co_default: int, draws_out: str | None, workers: int | None, scheduler: str | None,
          dask_local: int | None, progress: bool, fmt: str, output: str | None) -> None:
    """Monte Carlo sweep: random losses on outside assets, each draw cleared exactly.

    The configuration gives, per institution or selector, the distribution of
    the fraction of outside assets lost (beta, uniform, truncated lognormal,
    fixed), correlated through a one-factor Gaussian copula. Output: per
    institution the default probability, expected amount unpaid, expected
    equity loss and share of the expected shortfall (ES); for the system, the
    loss distribution (mean, VaR and ES at the configured levels, histogram)
    and the joint default probabilities of the institutions most likely to
    default; with -m fire-sale, the distribution of each asset's clearing
    price. Every estimate comes with its Monte Carlo error: "±" is 1.96
    standard errors (at 95%), and the table gives the confidence interval
    beside it.

    ai-demand-uncertainty is the built-in network's shipped configuration
    (graphs/ai-infrastructure/sweeps/; `contagion validate ai-infrastructure`
    lists a dataset's); -c also takes a file of your own (my-sweep.toml).

    \b
    Examples:
      contagion sweep --config ai-demand-uncertainty -n 100000 --seed 42
      contagion sweep -c ai-demand-uncertainty --until-se 0.5 -n 1000000
      contagion sweep ai-infrastructure -c ai-demand-uncertainty -f json -o s.json
      contagion sweep -c ai-demand-uncertainty -n 100000 --draws-out draws.parquet
      contagion sweep -c ai-demand-uncertainty -n 1000000 --dask-local 2
      contagion sweep -c my-sweep.toml -n 1000000 --scheduler tcp://10.0.0.5:8786
      contagion sweep nv/ -c gpu.toml -m fire-sale --impact 0.01
    """
    from ..sweep import find_sweep_config, run_sweep

    net = load_network(network)
    config = find_sweep_config(config_spec, net)
    _sweep_start(config, n, seed, until_se, draws_out)
    with _executor(workers, scheduler, dask_local) as ex, _progress("sweep", progress) as cb:
        res = run_sweep(net, config, n=n, seed=seed, chunk_size=chunk_size, executor=ex, method=method,
                        progress=cb, scenarios=scenarios, until_se=until_se, confidence=confidence,
                        draws_out=draws_out, draws_flags=co_default, **params)
    _sweep_notes(res, net, draws_out, co_default)
    emit(_sweep_output(res, network_label(net), top, co_default, fmt, output), output)


def _sweep_start(config, n: int, seed: int, until_se: float | None, draws_out: str | None) -> None:
    """Check ``--draws-out`` before any work, and say what is about to run (stderr)."""
    from pathlib import Path

    from ..sweep.draws import DRAWS_SUFFIXES

    if draws_out and Path(draws_out).suffix.lower() not in DRAWS_SUFFIXES:
        raise click.UsageError(f"--draws-out {draws_out}: the file name must end in .parquet or .csv")
    what = f"until the mean system loss has a standard error of at most {until_se:g} (at most {n} draws)" \
        if until_se else f"{n} draws"
    note(f"sweep '{config.name}': {what}, seed {seed}, correlation {config.correlation:g}")


def _sweep_notes(res, net, draws_out: str | None, k: int) -> None:
    """Where the sweep stopped (``--until-se``), the baseline, and the per-draw file written (stderr)."""
    if res.until_se is not None:
        how = "reached" if res.target_reached else "NOT reached; raise -n to go further"
        note(f"stopped after {res.n} draws: standard error of the mean system loss {res.mean_se:.4g} "
             f"(target {res.until_se:g}, {how})")
    note(f"{network_line(net)}; baseline: "
         + (" + ".join(res.scenarios) if res.scenarios else "the network as it is (no scenario)"))
    if draws_out:
        note(f"wrote {draws_out} ({res.n} draws)")


def _sweep_output(res, label: str, top: int | None, k: int, fmt: str, output: str | None) -> str:
    frame = res.to_frame()
    by_risk = frame.iloc[res.ranking()]
    if fmt == "json":
        out = res.to_dict(co_default=k)
        if top:  # the riskiest first, as in the table
            out["institutions"] = res.records(by_risk.head(top))
        return to_json({"network": label, "baseline_scenarios": list(res.scenarios), "params": dict(res.params),
                        **out})
    if fmt == "csv":
        return csv_text((by_risk.head(top) if top else frame).reset_index())
    return _sweep_table(res, by_risk, label, top or 25, k, output)


def _pm(x: float, pct: bool = False) -> str:
    """A number of the sweep table: an amount, or a percentage with two decimals."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.2%}" if pct else _num(x)


def _sweep_table(res, by_risk, label: str, top: int, k: int, output: str | None) -> str:
    from .run import render, use_color
    from .tables import Col, fitted_table, table_width

    color = use_color(output)
    width = table_width(color)
    s = res.summary()
    loss, dflt = s["system_loss"], s["defaults"]
    z = res.z
    conf = f"{100 * res.confidence:g}%"
    title = f"{label}: sweep '{res.config.name}' ({s['draws']} draws, seed {s['seed']}, {res.method})"

    def row(name: str, est: float, se: float, ci: list, pct: bool = False) -> list[str]:
        half = z * se
        if half <= 1e-12 * abs(est):     # rounding of equal draws (ES 12 +- 9.22e-15), not a sampling error
            half = 0.0
        return [name, _pm(est, pct), _pm(half, pct), _pm(ci[0], pct), _pm(ci[1], pct)]

    from ..sweep.result import level_key

    rows = [row("mean system loss", loss["mean"], loss["mean_se"], loss["mean_ci"])]
    for q in res.levels:
        key = level_key(q)
        rows.append(row(f"VaR {level_key(q)}", loss["var"][key], loss["var_se"][key], loss["var_ci"][key]))
        rows.append(row(f"ES {level_key(q)} (expected shortfall)", loss["es"][key], loss["es_se"][key],
                        loss["es_ci"][key]))
    rows.append(["standard deviation", _pm(loss["std"]), "", "", ""])
    rows.append(["largest loss", _pm(loss["max"]), "", "", ""])
    rows.append(row("mean number of defaults", dflt["mean"], dflt["mean_se"], dflt["mean_ci"]))
    rows.append(row("P(at least one default)", dflt["probability_any"], dflt["probability_any_se"],
                    dflt["probability_any_ci"], pct=True))
    head, head_note = fitted_table([Col("measure", "left", 0, shrink=True, floor=16), Col("estimate", "right", 0),
                                    Col("±", "right", 0), Col(f"{conf} interval from", "right", 1),
                                    Col("to", "right", 1)], rows, width, title=title)

    from rich.table import Table

    counts = loss["histogram"]["counts"]
    edges = loss["histogram"]["edges"]
    peak = max(counts) if counts else 1
    cells = [[_num(edges[j]), _num(edges[j + 1]), str(c)] for j, c in enumerate(counts)]
    # the bars take what the numbers leave (at most 40 characters): a narrow terminal never cuts a number; the
    # first header goes on two lines when that gives the bars room
    widest = [max([len(r[k]) for r in cells], default=0) for k in range(3)]
    room = width - max(widest[1], 2) - max(widest[2], 5) - 4 * 3 - 1    # frame: 4 columns and the edge
    from_header = "loss from" if room - max(widest[0], len("loss from")) >= 40 else "loss\nfrom"
    bar = max(5, min(40, room - max(widest[0], *map(len, from_header.split("\n")))))
    hist = Table(title="system-loss histogram", title_justify="left")
    hist.add_column(from_header, justify="right", no_wrap=True)
    hist.add_column("to", justify="right", no_wrap=True)
    hist.add_column("draws", justify="right", no_wrap=True)
    hist.add_column("", justify="left", no_wrap=True, width=bar)
    for row, c in zip(cells, counts):
        hist.add_row(*row, "#" * int(round(bar * c / peak)))

    inst, inst_note = _institutions_table(res, by_risk, top, width)
    cod, cod_note = _co_default_table(res, k, width)
    prices, prices_note = _prices_table(res, width)
    notes = [f"± is {z:.3g} standard errors: the half-width of the {conf} confidence interval for means and ES "
             f"(asymptotic normal); the intervals of VaR (order statistics) and of probabilities (Wilson; binomial "
             f"errors) are not centred on the estimate. The shares of ES add up to "
             f"100% (Euler contributions: each institution's outside assets lost plus the fall in its "
             f"payments, in the tail draws)."]
    parts = [head, head_note, hist, prices, prices_note, inst, inst_note, cod, cod_note, "\n".join(notes)]
    return render(*[p for p in parts if p], color=color)


def _institutions_table(res, by_risk, top: int, width: int):
    from ..sweep.result import level_key
    from .tables import Col, fitted_table

    z = res.z
    q = max(res.levels)
    es = res.es(q)
    mean = res.mean
    cols = [Col("name", "left", 0, shrink=True, floor=16), Col("type", "left", 6, True),
            Col("default probability", "right", 0), Col("±", "right", 1),
            Col("expected unpaid", "right", 2), Col("±", "right", 2),
            Col(f"share of ES {level_key(q)}", "right", 3),
            Col("expected loss", "right", 4), Col("±", "right", 4),
            Col("share of mean loss", "right", 5)]
    rows = []
    for name, r in by_risk.head(top).iterrows():
        es_c = r[f"es_contribution_{level_key(q)}"]
        rows.append([str(name), str(r["type"]), _pm(r["default_probability"], True),
                     _pm(z * r["default_probability_se"], True), _pm(r["expected_unpaid"]),
                     _pm(z * r["expected_unpaid_se"]), _pm(es_c / es, True) if es > 0 else "n/a",
                     _pm(r["expected_loss"]), _pm(z * r["expected_loss_se"]),
                     _pm(r["loss_contribution"] / mean, True) if mean > 0 else "n/a"])
    title = f"institutions by default probability (top {min(top, len(by_risk))} of {len(by_risk)})"
    return fitted_table(cols, rows, width, title=title)


def _prices_table(res, width: int):
    """Fire-sale sweeps: the distribution of each asset's clearing price (mean with its interval, extremes)."""
    from .tables import Col, fitted_table

    if not res.prices:
        return None, ""
    conf = f"{100 * res.confidence:g}%"
    cols = [Col("asset", "left", 0, shrink=True, floor=8), Col("mean price", "right", 0), Col("±", "right", 1),
            Col(f"{conf} interval from", "right", 2), Col("to", "right", 2), Col("lowest", "right", 3),
            Col("highest", "right", 3)]
    rows = []
    for name, ps in res.prices.items():
        half = res.z * ps.mean_se
        rows.append([str(name), f"{ps.mean:.4f}", f"{half:.2g}" if math.isfinite(half) else "n/a",
                     f"{ps.mean - half:.4f}", f"{ps.mean + half:.4f}", f"{ps.min:.4f}", f"{ps.max:.4f}"])
    return fitted_table(cols, rows, width, title="clearing price of each asset over the draws (1 = no sale)")


def _co_default_table(res, k: int, width: int):
    from .tables import Col, fitted_table

    cd = res.co_default(k)
    if cd.empty:
        return None, ""
    cols = [Col("#", "right", 0), Col("name", "left", 0, shrink=True, floor=12)]
    cols += [Col(str(j + 1), "right", j + 1) for j in range(len(cd))]
    rows = [[str(i + 1), str(name)] + [_pm(float(v), True) for v in cd.iloc[i]] for i, name in enumerate(cd.index)]
    return fitted_table(cols, rows, width, title="joint default probability (column j: with institution #j; "
                                                 "diagonal: default probability)")
