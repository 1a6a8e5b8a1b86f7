"""``contagion report``: a self-contained stress-test report (HTML or PDF) or a Markdown folder."""

from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from ..report import DEFAULT_MAX_ROWS
from ..viz import DEFAULT_MAX_NODES
from .text import note
from .options import emit, format_for_output, handle_errors, load_network, network_argument, scenario_option
from .methods import method_options
from .path import horizon_option
from .run import network_label, scenario_request

__all__ = ["report", "REPORT_FORMATS", "write_files", "analytics_options"]

#: --format -> default output (a file for html and pdf, a folder for md)
REPORT_FORMATS = {"html": "report.html", "pdf": "report.pdf", "md": "report"}
#: the options of the analytics sections, passed on to build_report as they are
ANALYTICS_KEYS = ("rank", "sweep", "draws", "seed", "reverse_stress", "sensitivity", "effects")


def analytics_options(func: Callable) -> Callable:
    """The options that add analytics sections, gathered into one ``analytics`` mapping for
    :func:`contagion.report.build_report` (``--draws``/``--seed`` need ``--sweep``, ``--effects`` needs
    ``--sensitivity``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        got = {k: kwargs.pop(k) for k in ANALYTICS_KEYS}
        if got["sweep"] is None and (got["draws"] is not None or got["seed"] is not None):
            raise click.UsageError("--draws and --seed go with --sweep CONFIG")
        if got["sensitivity"] is None and got["effects"] is not None:
            raise click.UsageError("--effects goes with --sensitivity INSTITUTION")
        got["seed"] = got["seed"] or 0
        return func(*args, analytics=got, **kwargs)

    options = [
        click.option("--rank", is_flag=True,
                     help="Add a systemic-importance section: the damage when each institution fails (as "
                          "`contagion rank`)."),
        click.option("--sweep", metavar="CONFIG",
                     help="Add a loss-distribution section: a Monte Carlo sweep of CONFIG, a file or the name of "
                          "one shipped with the dataset (e.g. ai-demand-uncertainty), as `contagion sweep`."),
        click.option("--draws", type=click.IntRange(1), default=None, metavar="N",
                     help="Draws of the --sweep. [default: 10000]"),
        click.option("--seed", type=click.IntRange(0), default=None, metavar="N",
                     help="Random seed of the --sweep. [default: 0]"),
        click.option("--reverse-stress", "reverse_stress", multiple=True, metavar="TARGET:SHOCK",
                     help="Add a reverse-stress section: the smallest SHOCK that makes TARGET default, SHOCK as "
                          "for `contagion reverse-stress --shock` (e.g. CoreWeave:external_assets:OpenAI). "
                          "Repeatable."),
        click.option("--sensitivity", metavar="INSTITUTION",
                     help="Add a sensitivity section: a tornado chart of the dataset's assumptions by how much "
                          "each moves INSTITUTION's equity (as `contagion sensitivity --rank-assumptions`)."),
        click.option("--effects", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     help="Assumption effects table for --sensitivity. [default: assumption_effects.csv beside "
                          "the network's files]"),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


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
@analytics_options
@click.option("--format", "-f", "fmt", type=click.Choice(list(REPORT_FORMATS)), default="html",
              help="html: one self-contained file; pdf: that page printed by a headless Chromium or Chrome (on "
                   "PATH, or $CONTAGION_CHROMIUM); md: a folder with report.md, figures (SVG, PNG), CSV tables "
                   "and view.html. [default: from -o's suffix (.html, .pdf), else html]")
@click.option("--output", "-o", "output", type=click.Path(), default=None,
              help="File (html, pdf; '-' for standard output) or folder (md) to write. "
                   "[default: report.html | report.pdf | report/]")
@click.option("--title", default=None, help="Report title. [default: Stress test: <dataset title>]")
@click.option("--max-rows", type=click.IntRange(min=1), default=DEFAULT_MAX_ROWS, show_default=True,
              help="Institutions listed per scenario in the tables of the report (the md CSVs hold all).")
@click.option("--max-nodes", type=click.IntRange(min=1), default=DEFAULT_MAX_NODES, show_default=True,
              help="Institutions shown individually in the embedded network view.")
@handle_errors
def report(network: str | None, scenarios: tuple[str, ...], baseline: bool, method: str, params: dict[str, float],
           horizon: tuple[int, int] | None, analytics: dict[str, Any], fmt: str, output: str | None,
           title: str | None, max_rows: int, max_nodes: int) -> None:
    """Write a stress-test report on NETWORK, one column per --scenario.

    Each --scenario is applied separately to NETWORK (they do not compose,
    unlike `contagion run`). Without --scenario, the dataset's default
    scenario is used (with --horizon, its default path scenario when it
    names one); --baseline reports on the network as it is. With
    --horizon FIRST:LAST each scenario is also cleared year by year, and
    the report gets a timeline section: defaults by year, the maturity wall
    (principal due by borrower type, rolled over or called), who defaults
    when, and the cash of the institutions that fail.

    --rank, --sweep, --reverse-stress and --sensitivity add analytics
    sections, computed on NETWORK as it is (before the scenarios): as rank,
    sweep and reverse-stress do without --scenario, and as sensitivity does
    with --baseline (without it, that command applies the default scenario).

    \b
    Examples:
      contagion report core-periphery --scenario core-shock -o report.html
      contagion report chain -s a-fails -s my.toml -f md -o chain-rep
      contagion report ai-infrastructure --horizon 2026:2030 -o path.html
      contagion report -s openai-revenue-shortfall -s severe-combined \\
          --rank --sweep ai-demand-uncertainty --draws 20000 \\
          --reverse-stress CoreWeave:external_assets:OpenAI \\
          --sensitivity CoreWeave -f pdf -o board.pdf
    """
    from ..report import build_report

    fmt = _format_for(fmt, output)
    net, target = load_network(network, dated=horizon is None), output or REPORT_FORMATS[fmt]
    browser = _check_target(fmt, target)
    with _path_shocks_noted(horizon):
        rep = build_report(net, scenario_request(scenarios, baseline), method=method, title=title,
                           max_rows=max_rows, max_nodes=max_nodes, horizon=horizon, **analytics, **params)
    _write_report(rep, network_label(net), fmt, target, browser)


@contextmanager
def _path_shocks_noted(horizon: tuple[int, int] | None) -> Iterator[None]:
    """With a horizon, the one-year sections skip the dated shocks and the timeline applies them: say that
    (once) instead of the one-year warning that they are skipped; every other warning passes unchanged."""
    import warnings

    from ..shocks import PathOnlyWarning

    if horizon is None:
        yield
        return
    seen: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("default")
            yield
    finally:
        skipped: list[str] = []
        for w in seen:
            if isinstance(w.message, PathOnlyWarning):
                skipped += [s for s in w.message.shocks if s not in skipped]
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if skipped:
        many = len(skipped) > 1
        note(f"note: the one-year sections skip {len(skipped)} shock{'s' if many else ''} with a year or a "
             f"freeze/collateral rule ({skipped[0]}{', ...' if many else ''}); the timeline "
             f"({horizon[0]}-{horizon[1]}) applies {'them' if many else 'it'}")


_SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def _format_for(fmt: str, output: str | None) -> str:
    """The format to write: ``-o board.pdf`` without ``--format`` means PDF (and ``.html`` HTML); a suffix that
    contradicts an explicit ``--format`` is a usage error (:func:`.options.format_for_output`); an HTML or PDF
    file without its suffix gets a note (a browser opening it may show its text)."""
    chosen = format_for_output(fmt, output, REPORT_FORMATS, _SUFFIX_FORMATS)
    if output and output != "-" and chosen in ("html", "pdf") and \
            _SUFFIX_FORMATS.get(Path(output).suffix.lower()) is None:
        note(f"note: writing {chosen.upper()} to {output}, which does not end in .{chosen} (a browser opening "
             f"it may show its text)")
    return chosen


def _check_target(fmt: str, target: str) -> str | None:
    """Refuse a Markdown folder on standard output; for PDF, find the browser before any work (its path)."""
    if fmt == "md" and target == "-":
        raise click.UsageError("--format md writes a folder; give a folder name with -o")
    if fmt == "pdf":
        from ..report.pdf import find_browser

        return find_browser()
    return None


def _announce(rep) -> None:
    """Say on stderr which analytics sections were computed, and on what."""
    a = rep.analytics
    if a is None:
        return
    parts = []
    if a.ranking is not None:
        parts.append("systemic importance")
    if a.sweep is not None:
        parts.append(f"loss distribution (sweep '{a.sweep.config.name}', {a.sweep.n:,} draws, seed {a.sweep.seed})")
    if a.reverse:
        parts.append(f"reverse stress ({', '.join(rs.target for rs in a.reverse)})")
    if a.sensitivity is not None:
        parts.append(f"sensitivity of {a.sensitivity_for}'s equity to {len(a.sensitivity)} assumptions")
    note("analytics on the network as it is (before the scenarios): " + "; ".join(parts))


def _write_report(rep, label: str, fmt: str, target: str, browser: str | None = None) -> None:
    """Announce the default scenario (if applied) and write the HTML or PDF file or the Markdown folder."""
    if rep.default_applied:
        what = "path scenario" if rep.horizon is not None else "scenario"
        note(f"applying the default {what} '{rep.runs[0].name}' of {label} "
             "(choose others with --scenario, or none with --baseline)")
    if rep.horizon is not None:
        note(f"timeline: each scenario cleared year by year, {rep.horizon[0]}-{rep.horizon[1]}")
    _announce(rep)
    if fmt == "html":
        emit(rep.to_html(), None if target == "-" else target)
        return
    if fmt == "pdf":
        _write_pdf(rep, target, browser)
        return
    written = write_files(target, rep.to_markdown())
    note(f"wrote {target}/ ({len(written)} files: report.md, figures/, tables/, view.html)")


def _write_pdf(rep, target: str, browser: str | None) -> None:
    """Print the report with the headless browser and write the PDF atomically (or to standard output)."""
    import sys

    from ..io.atomic import write_bytes_atomic
    from ..report.pdf import html_to_pdf

    data = html_to_pdf(rep.to_html(for_print=True), browser)
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_bytes_atomic(target, data)
    note(f"wrote {target} ({len(data):,} bytes)")
