"""``contagion report``: a self-contained stress-test report (HTML) or a Markdown folder."""

from __future__ import annotations

from pathlib import Path

import click

from ..report import DEFAULT_MAX_ROWS
from ..viz import DEFAULT_MAX_NODES
from .options import emit, handle_errors, load_network, network_argument, scenario_option
from .methods import method_options
from .path import horizon_option
from .run import network_label, scenario_request

__all__ = ["report", "REPORT_FORMATS", "write_files"]

#: --format -> default output (a file for html, a folder for md)
REPORT_FORMATS = {"html": "report.html", "md": "report"}


def write_files(folder: str | Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``{relative path: bytes}`` under ``folder``, each file atomically; returns the paths written."""
    from ..errors import ContagionError
    from ..io.atomic import write_bytes_atomic

    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise ContagionError(f"{root}: exists and is not a folder (the Markdown report is a folder)")
    written = []
    resolved = root.resolve()
    for rel, data in files.items():
        target = (root / rel)
        if resolved not in target.resolve().parents:  # the library only makes safe names; check anyway
            raise ContagionError(f"refusing to write outside {root}: {rel}")
        written.append(write_bytes_atomic(target, data))
    return written


@click.command("report")
@network_argument
@scenario_option
@click.option("--baseline", is_flag=True,
              help="Report on the network as it is (no scenario), instead of the dataset's default scenario.")
@method_options()
@horizon_option
@click.option("--format", "-f", "fmt", type=click.Choice(list(REPORT_FORMATS)), default="html", show_default=True,
              help="html: one self-contained file; md: a folder with report.md, figures (SVG, PNG), CSV tables "
                   "and view.html.")
@click.option("--output", "-o", "output", type=click.Path(), default=None,
              help="File (html; '-' for standard output) or folder (md) to write. "
                   "[default: report.html | report/]")
@click.option("--title", default=None, help="Report title. [default: Stress test: <dataset title>]")
@click.option("--max-rows", type=click.IntRange(min=1), default=DEFAULT_MAX_ROWS, show_default=True,
              help="Institutions listed per scenario in the tables of the report (the md CSVs hold all).")
@click.option("--max-nodes", type=click.IntRange(min=1), default=DEFAULT_MAX_NODES, show_default=True,
              help="Institutions shown individually in the embedded network view.")
@handle_errors
def report(network: str | None, scenarios: tuple[str, ...], baseline: bool, method: str, params: dict[str, float],
           horizon: tuple[int, int] | None, fmt: str, output: str | None, title: str | None, max_rows: int,
           max_nodes: int) -> None:
    """Write a stress-test report on NETWORK, one column per --scenario.

    Each --scenario is applied separately to NETWORK (they do not compose,
    unlike `contagion run`). Without --scenario, the dataset's default
    scenario is used; --baseline reports on the network as it is. With
    --horizon FIRST:LAST each scenario is also cleared year by year, and
    the report gets a timeline section: defaults by year, the maturity wall
    (principal due by borrower type, rolled over or called), who defaults
    when, and the cash of the institutions that fail.

    \b
    Examples:
      contagion report core-periphery --scenario core-shock -o report.html
      contagion report graphs/chain -s a-fails -s my-shock.toml --format md -o chain-report
      contagion report ai-infrastructure --horizon 2026:2030 -o path-report.html
    """
    from ..report import build_report

    net, target = load_network(network), output or REPORT_FORMATS[fmt]
    if fmt == "md" and target == "-":
        raise click.UsageError("--format md writes a folder; give a folder name with -o")
    rep = build_report(net, scenario_request(scenarios, baseline), method=method, title=title, max_rows=max_rows,
                       max_nodes=max_nodes, horizon=horizon, **params)
    _write_report(rep, network_label(net), fmt, target)


def _write_report(rep, label: str, fmt: str, target: str) -> None:
    """Announce the default scenario (if applied) and write the HTML file or the Markdown folder."""
    if rep.default_applied:
        click.echo(f"applying the default scenario '{rep.runs[0].name}' of {label} "
                   "(choose others with --scenario, or none with --baseline)", err=True)
    if rep.horizon is not None:
        click.echo(f"timeline: each scenario cleared year by year, {rep.horizon[0]}-{rep.horizon[1]}", err=True)
    if fmt == "html":
        emit(rep.to_html(), None if target == "-" else target)
        return
    written = write_files(target, rep.to_markdown())
    click.echo(f"wrote {target}/ ({len(written)} files: report.md, figures/, tables/, view.html)", err=True)
