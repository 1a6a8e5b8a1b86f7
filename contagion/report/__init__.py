"""Self-contained stress-test reports (HTML, or Markdown with figures and CSV tables).

:func:`build_report` applies each scenario *separately* to the base network,
clears each shocked network, and gathers what a stress-test document needs:

- scenario descriptions and their shocks;
- headline figures per scenario: defaults, total shortfall, system loss and
  loss amplification against losses without network effects
  (:func:`contagion.measures.loss_summary`, with the base network as the
  network before the shock);
- a per-institution table (obligations, payment, shortfall, equity
  pre-shock and after, capital depletion, wave);
- defaults by wave, losses by creditor type
  (:func:`contagion.measures.losses_by_creditor_type`);
- charts (matplotlib, Agg backend, SVG inlined in the page; SVG and PNG
  files in the Markdown folder);
- the interactive network view of :mod:`contagion.viz` (one view with a
  scenario selector, embedded in an ``<iframe srcdoc>``);
- methodology (model, conventions, references) and data provenance (the
  dataset README, files and their SHA-256);
- with ``horizon=(first, last)``, a timeline section: each scenario also
  cleared year by year (:func:`contagion.clear_path`), with defaults by
  year, who defaults when, the cash of the institutions that fail and the
  maturity wall by borrower type, rolled over or called
  (:mod:`contagion.report.timeline`).

:func:`render` returns the HTML page (one UTF-8 string with no external URL;
Jinja2 with autoescaping, so names, types and descriptions are text).
:func:`render_markdown` returns the files of a Markdown report as
``{relative path: bytes}``: ``report.md``, ``figures/*.svg|png``,
``tables/*.csv`` and ``view.html``, ready for Word, LaTeX or Quarto
pipelines (pandoc). Writing files is the caller's job (the CLI writes them
atomically).

Examples
--------
>>> import contagion
>>> from contagion.report import build_report
>>> net = contagion.load_dataset("core-periphery")
>>> rep = build_report(net, ["core-shock"], generated="2025-01-01")
>>> [(r.name, r.result.n_defaults, r.loss["system_loss"]) for r in rep.runs]
[('core-shock', 5, 182.0)]
>>> float(rep.summary_table().loc["Loss amplification", "core-shock"].round(4))
1.0225
>>> html = rep.to_html()
>>> html.startswith("<!DOCTYPE html>") and "Methodology" in html
True
"""

from __future__ import annotations

from ..formatting import result_html
from .build import build_report, render, render_markdown
from .charts import SCENARIO_COLOURS
from .model import DEFAULT_MAX_ROWS, REFERENCES, Report, ScenarioRun
from .text import _md  # noqa: F401  (Markdown escaping, tested directly)

__all__ = ["Report", "ScenarioRun", "build_report", "render", "render_markdown", "result_html", "REFERENCES",
           "SCENARIO_COLOURS", "DEFAULT_MAX_ROWS"]
