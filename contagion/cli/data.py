"""``contagion datasets | scenarios | info | validate``: what is there, and is it usable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .text import note
from .options import columns_option, csv_text, emit, format_for_output, format_option, handle_errors, load_network, \
    network_argument, output_option, render, to_json, use_color

__all__ = ["datasets", "scenarios", "info", "validate", "network_info"]


def _frame_out(rows: list[dict[str, Any]], columns: list[str], fmt: str, title: str, output: str | None) -> str:
    """Render a list of records as a table, CSV or JSON."""
    if fmt == "json":
        return to_json(rows)
    if fmt == "csv":
        import pandas as pd

        return csv_text(pd.DataFrame(rows, columns=columns))
    from rich.table import Table

    from .tables import table_width

    color = use_color(output)
    if "description" in columns and _description_room(rows, columns, table_width(color)) < MIN_DESCRIPTION:
        return render(*_records(rows, columns, title), color=color)
    table = Table(title=title, title_justify="left", min_width=len(title) + 2)
    for c in columns:
        table.add_column(c, overflow="fold", no_wrap=(c == "name"), max_width=90 if c == "description" else None)
    for row in rows:
        table.add_row(*[("" if row.get(c) is None else str(row.get(c))) for c in columns])
    return render(table, color=color)


#: Narrower than this, a description column would read a few words a line: the records are listed one below
#: the other instead (name, then the description across the terminal).
MIN_DESCRIPTION = 40


def _description_room(rows: list[dict[str, Any]], columns: list[str], width: int) -> int:
    """The width a table would leave its description column (the other columns at their natural width)."""
    natural = [max([len(c)] + [len("" if r.get(c) is None else str(r.get(c))) for r in rows])
               for c in columns if c != "description"]
    return width - sum(natural) - 3 * len(columns) - 1


def _records(rows: list[dict[str, Any]], columns: list[str], title: str) -> list[Any]:
    """The rows one below the other: the name in bold with the other short fields, the description indented."""
    from rich.padding import Padding
    from rich.text import Text

    parts: list[Any] = [Text(title, style="italic")]
    for row in rows:
        head = Text(str(row.get("name", "")), style="bold")
        for c in columns:
            v = row.get(c)
            if c in ("name", "description") or v in (None, "", False):
                continue
            if c == "default":    # "yes" (run's default), "path" (run --horizon's) or both
                head.append(" (" + ", ".join({"yes": "default", "path": "default for --horizon"}.get(w, w)
                                              for w in str(v).split(", ")) + ")")
            else:
                head.append(f"  {c.replace('_', ' ')}: {v}")
        parts += [head, Padding(Text(str(row.get("description") or "")), (0, 0, 0, 2), expand=False)]
    return parts


# ---------------------------------------------------------------------- datasets
@click.command("datasets")
@format_option
@output_option
@handle_errors
def datasets(fmt: str, output: str | None) -> None:
    """List the built-in datasets (name, description, default scenario)."""
    from ..datasets import dataset_config, default_dataset, list_datasets

    default = default_dataset()
    rows = []
    for name, desc in list_datasets().items():
        rows.append({"name": name + (" (default)" if name == default and fmt == "table" else ""),
                     "description": desc, "default_scenario": dataset_config(name).get("default_scenario")})
    emit(_frame_out(rows, ["name", "description", "default_scenario"], fmt, "built-in datasets", output), output)


# ---------------------------------------------------------------------- scenarios
@click.command("scenarios")
@network_argument
@format_option
@output_option
@handle_errors
def scenarios(network: str | None, fmt: str, output: str | None) -> None:
    """List the scenarios that ship with NETWORK (a dataset name or a network folder), with their descriptions.

    Use a name with `contagion run NETWORK --scenario NAME`. The default
    column marks what `run` applies when no --scenario is given: "yes" for
    one year, "path" with --horizon (the dataset's default_path_scenario).
    """
    from ..shocks import list_scenarios, scenario_dirs
    from .run import network_label

    net = load_network(network)
    found = list_scenarios(net)
    label = network_label(net)
    if not found:
        click.echo(f"no scenarios ship with {label} (looked in: "
                   f"{', '.join(str(d) for d in scenario_dirs(net)) or 'nowhere'})", err=True)
    rows, columns = _scenario_rows(net, found, fmt)
    if rows or fmt != "table":
        emit(_frame_out(rows, columns, fmt, f"scenarios of {label}", output), output)


def _scenario_rows(net: Any, found: dict[str, str], fmt: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows and columns of ``contagion scenarios``: name, description, whether it is the default for one year
    (``default``) and, where the dataset names one, for a path (``default_path``); a table shows both in one
    column ("yes" for `run`, "path" for `run --horizon`)."""
    from ..shocks import _network_config

    config = _network_config(net)[0]
    default, path_default = config.get("default_scenario"), config.get("default_path_scenario")
    rows = [{"name": name, "description": desc, "default": name == default}
            | ({"default_path": name == path_default} if path_default is not None else {})
            for name, desc in found.items()]
    columns = ["name", "description", "default"] + (["default_path"] if path_default is not None else [])
    if fmt != "table":
        return rows, columns
    rows = [{**r, "default": ", ".join(w for w, on in (("yes", r["default"]), ("path", r.get("default_path")))
                                       if on)} for r in rows]
    return rows, columns[:3]


# ---------------------------------------------------------------------- info
def network_info(net) -> dict[str, Any]:
    """Sizes, totals, components, uniqueness, types, edge kinds and sponsor debt of a network, as plain data."""
    import numpy as np
    from scipy.sparse.csgraph import connected_components

    from .. import clear
    from ..clearing.priority import owed_network
    from ..datasets import dataset_units
    from ..sponsors import GUARANTEE_KINDS, look_through
    from .text import network_label

    ncomp, labels = connected_components(net.liabilities, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=ncomp)
    res = clear(net)
    edges = net.edges
    kinds = edges.groupby("kind", sort=True)["amount"].agg(["count", "sum"]).sort_values("sum", ascending=False)
    types = net.nodes["type"].value_counts()
    info: dict[str, Any] = {
        "network": network_label(net),
        "units": dataset_units(net.metadata) or None,
        **net.summary(),
        "strongly_connected_components": int(ncomp),
        "largest_component": int(sizes.max()) if sizes.size else 0,
        "cyclic_components": int((sizes > 1).sum()),
        # guarantees uncalled and residual value guarantees at min(cap, max(0, K - V)): what clearing starts from
        "total_owed": float(owed_network(net).total_obligations.sum()),
        "clearing_unique": res.unique,
        "defaults_as_is": res.n_defaults,
        "types": {str(k): int(v) for k, v in types.items()},
        "edge_kinds": {str(k): {"count": int(r["count"]), "amount": float(r["sum"])} for k, r in kinds.iterrows()},
    }
    guarantees = bool(edges["kind"].astype(str).str.strip().isin(GUARANTEE_KINDS).any())
    sponsors = look_through(net, res) if "sponsor" in net.nodes.columns or guarantees else None
    if sponsors is not None:
        if not guarantees:
            sponsors = sponsors.drop(columns=["guarantees", "guarantees_called", "guaranteed_debt"])
        info["sponsors"] = [{"sponsor": str(k), **{c: (v.item() if hasattr(v, "item") else v) for c, v in row.items()}}
                            for k, row in sponsors.iterrows()]
    return info


@click.command("info")
@network_argument
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format (default: table, or json when -o names a .json file).")
@output_option
@handle_errors
def info(network: str | None, fmt: str, output: str | None) -> None:
    """Sizes, totals, strongly connected components, whether the clearing vector is unique, types, edge kinds,
    and the debt behind each sponsor (when the nodes have a `sponsor` column)."""
    fmt = format_for_output(fmt, output, ("table", "json"))
    data = network_info(load_network(network))
    emit(to_json(data) if fmt == "json" else _info_tables(data, use_color(output)), output)


def _info_tables(data: dict[str, Any], color: bool) -> str:
    """The ``info`` tables: overview, types, edge kinds, sponsors."""
    from rich.table import Table

    from .run import fmt_amount  # not at the top: cli.run loads the solvers (numpy, scipy)

    title = f"{data['network']}" + (f" (amounts in {data['units']})" if data.get("units") else "")
    overview = Table(title=title, title_justify="left", show_header=False, min_width=len(title) + 2)
    overview.add_column("what")
    overview.add_column("value", justify="right")
    unique = {True: "yes", False: "no (the greatest is used)", None: "not determined"}[data["clearing_unique"]]
    for k, v in (("institutions", f"{data['institutions']:,}"), ("obligations (count)", f"{data['obligations']:,}"),
                 ("interbank liabilities", fmt_amount(data["interbank_liabilities"])),
                 ("external liabilities", fmt_amount(data["external_liabilities"])),
                 ("total obligations", fmt_amount(data["total_obligations"])),
                 *((("  owed when everyone pays", fmt_amount(data["total_owed"])),
                    ("  (guarantee caps not owed)", fmt_amount(data["total_obligations"] - data["total_owed"])))
                   if data["total_owed"] != data["total_obligations"] else ()),
                 ("external assets", fmt_amount(data["external_assets"])),
                 ("strongly connected components", f"{data['strongly_connected_components']:,}"),
                 ("largest component", f"{data['largest_component']:,}"),
                 ("components with a cycle", f"{data['cyclic_components']:,}"),
                 ("clearing vector unique (as is)", unique),
                 ("defaults (as is)", f"{data['defaults_as_is']:,}")):
        overview.add_row(k, v)
    types = Table(title="institution types", title_justify="left", min_width=40)
    types.add_column("type")
    types.add_column("count", justify="right")
    for k, v in data["types"].items():
        types.add_row(k, f"{v:,}")
    kinds = Table(title="obligations by kind", title_justify="left", min_width=40)
    kinds.add_column("kind")
    kinds.add_column("count", justify="right")
    kinds.add_column("amount", justify="right")
    for k, v in data["edge_kinds"].items():
        kinds.add_row(k, f"{v['count']:,}", fmt_amount(v["amount"]))
    parts: list[Any] = [overview, types, kinds]
    if "sponsors" in data:
        parts += _sponsor_tables(data["sponsors"], color)
    return render(*parts, color=color)


def _sponsor_tables(sponsors: list[dict[str, Any]], color: bool) -> list[Any]:
    """The debt behind each sponsor, fitted to the terminal (:func:`.tables.fitted_table`: numbers whole, the
    least telling columns hidden first, with a note), then the vehicles of each sponsor, wrapped."""
    from rich.table import Table

    from .tables import Col, fitted_table, table_width
    from .text import fmt_amount

    title = "debt behind each sponsor (on and off its balance sheet)"
    if not sponsors:
        empty = Table(title=title, title_justify="left", min_width=40)
        empty.add_column("sponsor")
        empty.add_row("(no institution names a sponsor)")
        return [empty]
    cols = [("sponsor", Col("sponsor", "left", 0, shrink=True, floor=12)), ("type", Col("type", "left", 3, True, 10)),
            ("debt", Col("own debt", "right", 1)), ("leases", Col("own leases", "right", 2)),
            ("off_balance_sheet_debt", Col("vehicles' debt (share)", "right", 0)),
            ("off_balance_sheet_external", Col("vehicles' external liab. (share)", "right", 2)),
            ("total", Col("total", "right", 0))]
    if "guarantees" in sponsors[0]:
        cols += [("guarantees", Col("guarantees given", "right", 1)),
                 ("guarantees_called", Col("called (as is)", "right", 1))]
    rows = [[str(row[c]) if c in ("sponsor", "type") else fmt_amount(row[c]) for c, _ in cols] for row in sponsors]
    table, note = fitted_table([c for _, c in cols], rows, table_width(color), title=title, formats="-f json")
    vehicles = Table(title="their vehicles", title_justify="left", show_header=False, min_width=40)
    vehicles.add_column("sponsor", no_wrap=True)
    vehicles.add_column("vehicles", overflow="fold")
    for row in sponsors:
        vehicles.add_row(str(row["sponsor"]), str(row["vehicle_names"]))
    return [table, *([note] if note else []), vehicles]


# ---------------------------------------------------------------------- validate
#: A configuration file read for ``validate``: its parsed data, or the problem reading it (one of the two is None).
Parsed = tuple[Any, "str | None"]


def _parsed(path: Path, what: str) -> Parsed:
    """``(data, None)`` of a TOML/YAML/JSON configuration file, or ``(None, problem)`` when it cannot be read."""
    from ..errors import ContagionError
    from ..shocks.files import parse_config_text, read_config_text

    try:
        return parse_config_text(read_config_text(path, what), path.suffix.lower(), source=str(path)), None
    except ContagionError as exc:
        return None, str(exc)


def _config_kind(path: Path) -> tuple[str | None, Parsed]:
    """What ``validate PATH`` has: ``"sweep"`` (a file in a ``sweeps/`` folder, or with what only a sweep has:
    ``correlation``, ``levels``, ``bins``, a shock's ``distribution``), ``"scenario"`` (any other configuration
    suffix; a .json only with ``"shocks"``, else it is a network) or ``None`` (a network); and the file read and
    parsed, once."""
    from ..shocks import SCENARIO_SUFFIXES
    from ..shocks.files import looks_like_sweep

    suffix = path.suffix.lower()
    if suffix not in SCENARIO_SUFFIXES or path.is_dir():
        return None, (None, None)
    in_sweeps = path.resolve().parent.name == "sweeps"
    data, problem = _parsed(path, "sweep configuration file" if in_sweeps else "scenario file")
    if suffix == ".json" and not in_sweeps and not (isinstance(data, dict) and "shocks" in data):
        text = path.read_text(encoding="utf-8", errors="replace") if data is None and problem else ""
        if '"shocks"' not in text:
            return None, (None, None)     # a JSON network (or one the network reader will report)
        # a configuration that does not parse (a trailing comma, a key twice): its parse error, not a network's
        sweep = any(f'"{key}"' in text for key in ("distribution", "levels", "correlation", "bins"))
        return ("sweep" if sweep else "scenario"), (data, problem)
    return ("sweep" if in_sweeps or looks_like_sweep(data) else "scenario"), (data, problem)


def _declared_name(data: Any, stem: str) -> str:
    """The ``name`` a scenario or sweep file gives itself, else its file stem (as their readers name them)."""
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else stem


def _located(path: Path, found: list[str]) -> list[str]:
    return [p if str(path) in p else f"{path}: {p}" for p in found]


def _check_sweep(path: Path, net, parsed: Parsed | None = None) -> tuple[list[str], str]:
    """Every problem of the sweep configuration ``path`` (its schema; on ``net``, its targets and selectors and
    its base scenario), and its name; ``parsed``: the file already read (:func:`_parsed`)."""
    from ..errors import ContagionError, ScenarioError
    from ..sweep.config import SweepConfig, _parse_entry
    from ..sweep.engine import sweep_problems

    data, problem = parsed or _parsed(path, "sweep configuration file")
    if problem is not None:
        return [problem], path.stem
    name = _declared_name(data, path.stem)
    found: list[str] = []
    cfg = None
    try:
        cfg = SweepConfig.from_dict(data, name=path.stem, source=str(path))
    except ScenarioError as exc:
        found = list(exc.problems)
    if net is None:
        return found, name
    if cfg is not None:
        found += sweep_problems(net, cfg)
        if cfg.scenario:
            from ..pipeline import prepare

            try:
                prepare(net, [cfg.scenario])
            except ContagionError as exc:
                found.append(f"scenario: {exc}")
    elif isinstance(data, dict) and isinstance(data.get("shocks"), list):
        for k, raw in enumerate(data["shocks"]):      # the entries that read: their targets are checked too
            entry = _parse_entry(raw, f"shocks[{k}]", [])
            if entry is not None:
                try:
                    entry.node_mask(net)
                except ScenarioError as exc:
                    found.append(f"sweep {name!r}: shocks[{k}].{exc}")
    return _located(path, found), name


def _scenario_network(path: Path, folder: str = "scenarios"):
    """The network a scenario file belongs to: ``<net>/scenarios/<file>`` -> ``<net>``, if it is one (a sweep
    configuration: ``<net>/sweeps/<file>``)."""
    from ..io import read_network

    parent = path.resolve().parent
    if parent.name == folder and (parent.parent / "nodes.csv").is_file():
        from ..datasets import graphs_root

        net = read_network(parent.parent)
        try:
            if parent.parent.parent.resolve() == graphs_root().resolve():
                net = net.replace(metadata={**net.metadata, "dataset": parent.parent.name})
        except Exception:  # no built-in datasets: a plain folder
            pass
        return net
    return None


def _check_scenario(path: Path, net, parsed: Parsed | None = None) -> list[str]:
    """Every problem of the scenario file ``path`` (its schema; on ``net``, the targets of the shocks that read,
    in order); ``parsed``: the file already read (:func:`_parsed`)."""
    import re
    import warnings

    from ..errors import ScenarioError, shown
    from ..shocks import PathOnlyWarning, Scenario, Shock, apply

    data, problem = parsed or _parsed(path, "scenario file")
    if problem is not None:
        return _located(path, [problem])
    found: list[str] = []
    where: list[int] = []
    try:
        scen: Any = Scenario.from_dict(data, name=path.stem, source=str(path))
    except ScenarioError as exc:
        found = list(exc.problems)
        scen = []
        if isinstance(data, dict) and isinstance(data.get("shocks"), list):
            for k, item in enumerate(data["shocks"]):    # the shocks that read: their targets are checked too
                try:
                    scen.append(Shock.from_dict(item))
                    where.append(k)
                except (ScenarioError, TypeError, ValueError):
                    continue
    if net is not None and scen:
        name = _declared_name(data, path.stem)
        try:
            with warnings.catch_warnings():   # a path scenario's dated shocks are checked, not applied
                warnings.simplefilter("ignore", PathOnlyWarning)
                apply(net, scen)              # in order: a shock may fail only after the ones before it
        except ScenarioError as exc:
            # the shocks that read were applied as a list: "shocks[j]" is the j-th of them, shocks[where[j]] in the file
            found += [re.sub(r"^shocks\[(\d+)\]", lambda m: f"scenario {shown(name)}: shocks[{where[int(m.group(1))]}]",
                             p) if where else p for p in exc.problems]
    return _located(path, found)


#: the end of the OK line of a scenario or sweep file checked without a network (the names it uses are not)
_UNCHECKED = " (its form only: the institutions and edges it names are checked with --network NETWORK)"


def validation(path: str, against: str | None) -> tuple[list, str]:
    """``(problems, the OK line)`` of ``contagion validate PATH [--network AGAINST]``; a problem is a located
    :class:`~contagion.errors.Problem` or a one-line text."""
    from ..errors import ContagionError, InvalidNetworkError
    from ..shocks import _scenario_files, default_scenario_of
    from ..sweep.config import shipped_sweep_configs
    from .text import network_label

    p = Path(path)
    problems: list = []
    ok = ""
    kind, parsed = _config_kind(p)
    if kind == "sweep":
        net = load_network(against) if against else _scenario_network(p, "sweeps")
        problems, name = _check_sweep(p, net, parsed)
        ok = f"OK: sweep {name}" + (f", applies to {network_label(net)}" if net is not None else _UNCHECKED)
    elif kind == "scenario":
        net = load_network(against) if against else _scenario_network(p)
        problems = _check_scenario(p, net, parsed)
        ok = f"OK: scenario {p.stem}" + (f", applies to {network_label(net)}" if net is not None else _UNCHECKED)
    else:
        if against:
            raise click.UsageError("--network applies only when PATH is a scenario or sweep file")
        try:
            net = load_network(path, hint=False, dated=False)     # the dated data: checked below
        except InvalidNetworkError as exc:
            problems = list(exc.problems)
            net = None
        if net is not None:
            problems += _dated_and_priority_problems(net)
            files = _scenario_files(net)
            for f in files.values():
                problems += _check_scenario(f, net)
            for path in (False, True):      # default_scenario, then default_path_scenario
                try:
                    default_scenario_of(net, path=path)
                except ContagionError as exc:
                    if str(exc) not in problems:    # without a path default, the same one-year default
                        problems.append(str(exc))
            sweeps = [found[0][0] for found in shipped_sweep_configs(net).values()]
            for f in sweeps:
                problems += _check_sweep(f, net)[0]
            shipped = [f"{k} {what}{'s' if k != 1 else ''}" for k, what in ((len(files), "scenario"),
                                                                             (len(sweeps), "sweep")) if k]
            if sweeps:      # named: `sweep -c NAME` takes them (scenarios are listed by `contagion scenarios`)
                shipped[-1] += f" ({', '.join(sorted(Path(f).stem for f in sweeps))})"

            ok = f"OK: {net.n} institutions, {net.n_edges} obligations" + (
                f"; {', '.join(shipped)}" if shipped else "")
    return problems, ok


def _dated_and_priority_problems(net) -> list:
    """Problems of the multi-year columns (DESIGN §7: dated debt, collateral.csv, cashflows.csv) and of the
    guarantee / seniority columns (§8), found the way clear_path and clear would find them."""
    from ..clearing.priority import contingent_spec, uses_priority
    from ..errors import InvalidNetworkError
    from ..paths.engine import dated_problems

    problems: list = dated_problems(net)
    checks = [[contingent_spec]] if uses_priority(net) else []
    if any(str(c).startswith("asset_units") or c == "target_leverage" for c in net.nodes.columns):
        checks.append([_fire_sale_columns])
    for chain in checks:
        for check in chain:
            try:
                check(net)
            except InvalidNetworkError as exc:
                problems += list(exc.problems)
                break
    from ..clearing.core import overflow_problems

    return problems + overflow_problems(net)


def _fire_sale_columns(net) -> None:
    """The node columns the fire-sale methods read (``asset_units*``, ``target_leverage``), checked as they read
    them."""
    from ..clearing.firesale import _targets, asset_holdings
    from ..errors import InvalidNetworkError

    problems: list = []
    for check in (asset_holdings, lambda n: _targets(n, 1.0)):     # any valid leverage: the column is checked
        try:
            check(net)
        except InvalidNetworkError as exc:
            problems += list(exc.problems)
    if problems:
        raise InvalidNetworkError(problems)


def _problem_record(p) -> dict:
    from ..errors import Problem

    if isinstance(p, Problem):
        return {"message": p.message, "file": p.file, "row": p.row, "column": p.column,
                "value": None if p.value is None else str(p.value)}
    return {"message": " ".join(str(p).split()), "file": None, "row": None, "column": None, "value": None}


@click.command("validate")
@click.argument("path", metavar="PATH")
@columns_option
@click.option("--network", "-n", "against", default=None, metavar="NETWORK",
              help="For a scenario or sweep file: also apply it to this network (path or dataset name). "
                   "Default: the network folder the file sits in (its scenarios/ or sweeps/), if any.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one problem per line; json: {path, ok, problems: [{message, file, row, column, value}]} "
                   "for CI.")
@handle_errors
def validate(path: str, against: str | None, fmt: str) -> None:
    """Check a network (or a scenario or sweep file) and list EVERY problem, one per line.

    PATH is a network (a folder with nodes.csv and edges.csv or their
    .parquet twins, a .json or .graphml file, or a built-in dataset name), a
    scenario file (.toml, .yaml, .yml, or .json with "shocks"), or a sweep
    configuration (such a file in a sweeps/ folder, or with correlation,
    levels, bins or a shock's distribution). For a network, the scenarios and
    sweeps that ship with it, its dataset.toml default scenario, the
    multi-year columns (dated debt, collateral.csv, cashflows.csv) and the
    guarantee and seniority columns are checked too. Exit 1 when there is any
    problem.
    """
    problems, ok = validation(path, against)
    if fmt == "json":
        click.echo(to_json({"path": path, "ok": not problems, "problems": [_problem_record(p) for p in problems]}))
    else:
        for line in problems:
            click.echo(" ".join(str(line).split()))
    if problems:
        note(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {path}")
        raise SystemExit(1)
    if fmt == "text":
        click.echo(ok)
