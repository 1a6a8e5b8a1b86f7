"""Self-contained stress-test reports (HTML, or Markdown with figures and CSV tables).

:func:`build_report` applies each scenario *separately* to the base network,
clears each shocked network, and gathers what a stress-test document needs:

- scenario descriptions and their shocks;
- headline figures per scenario: defaults, total shortfall, system loss and
  loss amplification against losses without network effects
  (:func:`contagion.measures.loss_summary`, with the base network as the
  network before the shock);
- a per-institution table (obligations, payment, shortfall, equity before
  and after, capital depletion, wave);
- defaults by wave, losses by creditor type
  (:func:`contagion.measures.losses_by_creditor_type`);
- charts (matplotlib, Agg backend, SVG inlined in the page; SVG and PNG
  files in the Markdown folder);
- the interactive network view of :mod:`contagion.viz` (one view with a
  scenario selector, embedded in an ``<iframe srcdoc>``);
- methodology (model, conventions, references) and data provenance (the
  dataset README, files and their SHA-256).

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

import csv
import datetime as _dt
import hashlib
import html as _html
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ContagionError
from .formatting import fmt_amount, fmt_share, outcome_text, result_html
from .viz import DEFAULT_MAX_NODES, capital_depletion

__all__ = ["Report", "ScenarioRun", "build_report", "render", "render_markdown", "result_html", "REFERENCES",
           "SCENARIO_COLOURS", "DEFAULT_MAX_ROWS"]

#: institutions listed per scenario in the HTML report (the CSV tables hold every row)
DEFAULT_MAX_ROWS = 200

#: colours of the scenarios in charts (print friendly, distinguishable in grey scale by lightness)
SCENARIO_COLOURS = ("#0f2a44", "#c8a951", "#2a7f8e", "#b03a2e", "#7d8b99", "#6a4c93", "#3e8e41", "#d98c5f")

#: the literature the methodology section cites
REFERENCES = (
    "Eisenberg, L. & Noe, T. H. (2001). Systemic risk in financial systems. Management Science 47(2), 236-249.",
    "Rogers, L. C. G. & Veraart, L. A. M. (2013). Failure and rescue in an interbank network. Management Science "
    "59(4), 882-898.",
    "Glasserman, P. & Young, H. P. (2015). How likely is contagion in financial networks? Journal of Banking & "
    "Finance 50, 383-399.",
    "Glasserman, P. & Young, H. P. (2016). Contagion in financial networks. Journal of Economic Literature 54(3), "
    "779-831.",
)


# ---------------------------------------------------------------------------- data model
@dataclass(frozen=True)
class ScenarioRun:
    """One scenario applied to the base network and cleared."""

    name: str
    description: str
    shocks: tuple[str, ...]
    network: Any
    result: Any
    loss: dict
    losses_by_type: pd.Series

    def institutions(self, base: Any) -> pd.DataFrame:
        """Per-institution table: ``name, type, obligations, payment, shortfall, equity_before, equity_after,
        capital_depletion, defaulted, wave`` (``wave`` = -1 when solvent), ordered by wave, then shortfall,
        then capital depletion, then obligations (all descending except the wave)."""
        res = self.result
        before = base.equity_before
        frame = pd.DataFrame({
            "name": list(base.names),
            "type": base.types.astype(str),
            "obligations": self.network.total_obligations,
            "payment": res.payments,
            "shortfall": res.shortfall,
            "equity_before": before,
            "equity_after": res.equity,
            "capital_depletion": capital_depletion(before, res.equity),
            "defaulted": res.defaulted,
            "wave": np.asarray(res.default_round, dtype=int),
        })
        wave_key = np.where(frame["wave"] >= 0, frame["wave"], np.iinfo(np.int64).max)
        order = np.lexsort((np.arange(len(frame)), -frame["obligations"].to_numpy(),
                            -np.nan_to_num(frame["capital_depletion"].to_numpy(), nan=-1.0),
                            -frame["shortfall"].to_numpy(), wave_key))
        return frame.iloc[order].reset_index(drop=True)


@dataclass(frozen=True)
class Report:
    """A stress-test report over several scenarios (immutable); render with :meth:`to_html` or
    :meth:`to_markdown`.

    Attributes
    ----------
    base : FinancialNetwork
        The network before any scenario.
    runs : tuple of ScenarioRun
        One per scenario, in the order given; each applied to ``base`` separately.
    title : str
    method : str
        Clearing method (a key of :data:`contagion.CLEARING_METHODS`).
    params : dict
        Method parameters (``alpha``, ``beta``).
    generated : str
        Date shown on the report (ISO format).
    """

    base: Any
    runs: tuple[ScenarioRun, ...]
    title: str
    method: str
    params: Mapping[str, Any] = field(default_factory=dict)
    generated: str = ""
    max_rows: int = DEFAULT_MAX_ROWS
    max_nodes: int = DEFAULT_MAX_NODES
    default_applied: bool = False

    # ------------------------------------------------------------------ tables
    @property
    def names(self) -> list[str]:
        """Column labels: the scenario names (made unique)."""
        return _unique_labels([r.name for r in self.runs])

    def summary_table(self) -> pd.DataFrame:
        """Headline figures, one column per scenario (numbers, not text)."""
        rows: dict[str, list[float]] = {k: [] for k in (
            "Institutions", "Defaults", "Fundamental defaults (wave 0)", "Last wave", "Shock to outside assets",
            "Total shortfall", "Unpaid to outside creditors", "System loss", "System loss without network",
            "Loss amplification")}
        for r in self.runs:
            s = r.result.summary()
            rows["Institutions"].append(s["institutions"])
            rows["Defaults"].append(s["defaults"])
            rows["Fundamental defaults (wave 0)"].append(s["fundamental_defaults"])
            rows["Last wave"].append(s["waves"] if s["waves"] >= 0 else np.nan)
            rows["Shock to outside assets"].append(r.loss["shock"])
            rows["Total shortfall"].append(r.loss["total_shortfall"])
            rows["Unpaid to outside creditors"].append(s["external_shortfall"])
            rows["System loss"].append(r.loss["system_loss"])
            rows["System loss without network"].append(r.loss["system_loss_without_network"])
            rows["Loss amplification"].append(r.loss["amplification"])
        frame = pd.DataFrame(rows, index=self.names).T
        frame.index.name = "measure"
        return frame

    def defaults_by_wave(self) -> pd.DataFrame:
        """Number of institutions defaulting in each wave (rows 0, 1, ...), one column per scenario."""
        top = max((r.result.waves for r in self.runs), default=-1)
        data = {}
        for label, r in zip(self.names, self.runs):
            w = np.asarray(r.result.default_round)
            data[label] = np.bincount(w[w >= 0], minlength=top + 1)[: top + 1] if top >= 0 else np.zeros(0, int)
        frame = pd.DataFrame(data, index=pd.RangeIndex(top + 1, name="wave"))
        return frame.astype(int)

    def losses_by_creditor_type(self) -> pd.DataFrame:
        """Losses grouped by creditor type (plus outside creditors), one column per scenario."""
        frame = pd.concat([r.losses_by_type.rename(label) for label, r in zip(self.names, self.runs)], axis=1)
        frame = frame.fillna(0.0)
        frame.index.name = "creditor_type"
        return frame

    def institutions(self, index: int = 0) -> pd.DataFrame:
        """Per-institution table of scenario ``index`` (every institution; see :meth:`ScenarioRun.institutions`)."""
        return self.runs[index].institutions(self.base)

    # ------------------------------------------------------------------ figures
    def figures(self) -> dict[str, tuple[str, Any]]:
        """``{file stem: (caption, matplotlib Figure)}`` of the charts.

        Figures are built with the object-oriented API (``matplotlib.figure.Figure``,
        rendered by the Agg/SVG canvases), so pyplot's global state and backend are
        left alone.
        """
        return _figures(self)

    def figure_files(self) -> dict[str, tuple[str, str, bytes]]:
        """``{file stem: (caption, svg text, png bytes)}`` of the charts."""
        out = {}
        for stem, (caption, fig) in self.figures().items():
            out[stem] = (caption, _svg_text(fig, stem), _png_bytes(fig))
        return out

    # ------------------------------------------------------------------ renderers
    def view_html(self) -> str:
        """The interactive network view with one entry per scenario (a standalone page)."""
        from .viz import network_view

        results = {label: r.result for label, r in zip(self.names, self.runs)}
        descriptions = {label: r.description for label, r in zip(self.names, self.runs)}
        return network_view(self.base, results, descriptions=descriptions, max_nodes=self.max_nodes,
                            title=f"Network view \u2014 {self._dataset_title()}")

    def to_html(self) -> str:
        """The report as one self-contained UTF-8 HTML page."""
        from .templates import asset, render as render_template
        from .viz import view_csp_hashes

        svgs = {stem: {"caption": caption, "svg": _inline_svg(_svg_text(fig, stem), caption)}
                for stem, (caption, fig) in self.figures().items()}
        context = self._context()
        csp = ("default-src 'none'; script-src " + " ".join(view_csp_hashes())
               + "; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
                 "base-uri 'none'; form-action 'none'")
        return render_template("report.html.j2", css=asset("report.css"), csp=csp, charts=svgs,
                               view_html=self.view_html(), **context)

    def to_markdown(self) -> dict[str, bytes]:
        """Files of the Markdown report: ``{relative path: bytes}`` (report.md, figures/, tables/, view.html)."""
        from .templates import render as render_template

        files: dict[str, bytes] = {}
        figures = []
        for stem, (caption, svg, png) in self.figure_files().items():
            files[f"figures/{stem}.svg"] = svg.encode("utf-8")
            files[f"figures/{stem}.png"] = png
            figures.append({"stem": stem, "caption": caption})
        tables = {
            "summary": self.summary_table(),
            "defaults-by-wave": self.defaults_by_wave(),
            "losses-by-creditor-type": self.losses_by_creditor_type(),
        }
        for stem, frame in tables.items():
            files[f"tables/{stem}.csv"] = _csv_bytes(frame.reset_index())
        slugs = _slugs(self.names)
        for s, slug in enumerate(slugs):
            files[f"tables/institutions-{slug}.csv"] = _csv_bytes(self.institutions(s))
        files["view.html"] = self.view_html().encode("utf-8")
        context = self._context()
        text = render_template("report.md.j2", md=_md, figures={f["stem"]: f for f in figures}, slugs=slugs,
                               **context)
        files["report.md"] = text.encode("utf-8")
        return files

    def _repr_html_(self) -> str:  # Jupyter
        return ('<iframe title="Stress-test report" srcdoc="' + _html.escape(self.to_html(), quote=True)
                + '" style="width:100%;height:820px;border:1px solid #d5dbe1" sandbox="allow-scripts"></iframe>')

    # ------------------------------------------------------------------ template context
    def _units(self) -> str:
        from .viz import dataset_units

        return dataset_units(self.base.metadata)

    def _dataset_title(self) -> str:
        from .viz import dataset_title

        return dataset_title(self.base.metadata) or "network"

    def _context(self) -> dict[str, Any]:
        from . import __version__

        base = self.base
        names = self.names
        summary = self.summary_table()
        waves = self.defaults_by_wave()
        losses = self.losses_by_creditor_type()
        cards = []
        for s, (label, r) in enumerate(zip(names, self.runs)):
            amp = r.loss["amplification"]
            cards.append({
                "name": label, "colour": SCENARIO_COLOURS[s % len(SCENARIO_COLOURS)],
                "defaults": f"{r.result.n_defaults:,}", "of": f"{base.n:,}",
                "shortfall": fmt_amount(r.loss["total_shortfall"]),
                "system_loss": fmt_amount(r.loss["system_loss"]),
                "amplification": _fmt_ratio(amp),
            })
        summary_rows = [[measure] + [_fmt_measure(measure, v) for v in summary.loc[measure]] for measure in summary.index]
        wave_rows = [[f"Wave {w}" + (" (fundamental)" if w == 0 else "")] + [f"{int(v):,}" for v in waves.loc[w]]
                     for w in waves.index]
        if len(waves.index):
            wave_rows.append(["All waves"] + [f"{int(v):,}" for v in waves.sum(axis=0)])
        loss_rows = [[str(t)] + [fmt_amount(v) for v in losses.loc[t]] for t in losses.index]
        if len(losses.index):
            loss_rows.append(["Total"] + [fmt_amount(v) for v in losses.sum(axis=0)])
        inst = []
        for s, (label, r) in enumerate(zip(names, self.runs)):
            frame = r.institutions(base)
            shown = frame.head(self.max_rows)
            rows = []
            for row in shown.itertuples(index=False):
                rows.append({
                    "name": row.name, "type": row.type,
                    "cells": [fmt_amount(row.obligations), fmt_amount(row.payment), fmt_amount(row.shortfall),
                              fmt_amount(row.equity_before), fmt_amount(row.equity_after),
                              fmt_share(row.capital_depletion)],
                    "wave": str(row.wave) if row.wave >= 0 else "\u2013",
                    "outcome": outcome_text(int(row.wave), bool(row.equity_after < row.equity_before - 1e-9
                                                                 * max(1.0, abs(row.equity_before)))),
                    "defaulted": bool(row.defaulted),
                })
            inst.append({"name": label, "rows": rows, "total": len(frame), "shown": len(shown),
                         "defaults": int(r.result.n_defaults)})
        meta = base.metadata or {}
        units = self._units()
        method_params = ", ".join(f"{k} = {v:g}" if isinstance(v, (int, float)) else f"{k} = {v}"
                                  for k, v in dict(self.params).items())
        return {
            "title": self.title,
            "dataset_title": self._dataset_title(),
            "dataset": str(meta.get("dataset") or ""),
            "generated": self.generated,
            "version": __version__,
            "method": self.method,
            "method_params": method_params,
            "units": str(units),
            "n_institutions": base.n,
            "n_obligations": base.n_edges,
            "scenario_names": names,
            "scenario_colours": [SCENARIO_COLOURS[s % len(SCENARIO_COLOURS)] for s in range(len(names))],
            "runs": [{"name": label, "description": r.description, "shocks": list(r.shocks)}
                     for label, r in zip(names, self.runs)],
            "cards": cards,
            "summary_rows": summary_rows,
            "wave_rows": wave_rows,
            "loss_rows": loss_rows,
            "institutions": inst,
            "max_rows": self.max_rows,
            "references": list(REFERENCES),
            "provenance": _provenance(base),
        }


# ---------------------------------------------------------------------------- building
def _stress_item(base: Any, item: Any, k: int, method: str, params: Mapping[str, Any]) -> tuple[str, str, Any]:
    """``(name, description, StressResult)`` of one scenario item, cleared through :func:`contagion.stress`."""
    from .network import FinancialNetwork
    from .pipeline import stress

    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], FinancialNetwork):
        return str(item[0]), "", stress(item[1], (), method=method, **params)
    if isinstance(item, FinancialNetwork):  # already shocked: its metadata names the scenarios
        meta = item.metadata or {}
        names = meta.get("scenarios") or []
        name = " + ".join(map(str, names)) if names else f"Scenario {k + 1}"
        return name, str(meta.get("description", "")), stress(item, (), method=method, **params)
    st = stress(base, [item], method=method, **params)
    return st.label, st.description, st


def build_report(
    network: Any,
    scenarios: Iterable[Any] | None = (),
    *,
    method: str = "eisenberg-noe",
    title: str | None = None,
    generated: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_nodes: int = DEFAULT_MAX_NODES,
    **params: Any,
) -> Report:
    """Apply each scenario separately to ``network``, clear, and gather the report.

    Parameters
    ----------
    network : FinancialNetwork
        The base network (before any scenario).
    scenarios : iterable or None
        Each item is applied separately (through :func:`contagion.stress`) and
        is a :class:`~contagion.shocks.Scenario`, a scenario name or file path
        (resolved with :func:`contagion.shocks.find_scenario`), an already
        shocked :class:`~contagion.FinancialNetwork` (same institutions), or a
        ``(label, shocked network)`` pair. Empty: one column for the network
        as given. ``None``: the dataset's default scenario (as for
        :func:`contagion.stress`; ``Report.default_applied`` says whether one
        was applied), else the network as given.
    method : str
        Clearing method; ``**params`` are passed to it (``alpha``, ``beta``).
    title : str, optional
        Default "Stress test: <dataset title>".
    generated : str, optional
        Date printed on the report (default: today, ISO format).
    max_rows : int
        Institutions listed per scenario in the HTML report (CSV has all).
    max_nodes : int
        Cap of the embedded network view (see :func:`contagion.viz.network_view`).

    Raises
    ------
    ScenarioError
        An unknown scenario or one that cannot be applied.
    ContagionError
        An unknown method, or a shocked network with other institutions.
    """
    from .measures import loss_summary, losses_by_creditor_type
    from .pipeline import stress

    as_given = ("No scenario", "The network as given, without shocks.")
    default_applied = False
    if scenarios is None:  # the dataset's default scenario, if it names one
        st = stress(network, None, method=method, **params)
        default_applied = st.default_applied
        named = [(st.label, st.description, st) if st.scenarios else (*as_given, st)]
    else:
        named = [_stress_item(network, item, k, method, params) for k, item in enumerate(scenarios)]
        if not named:
            named = [(*as_given, stress(network, (), method=method, **params))]
    runs = []
    for name, description, st in named:
        shocked, res = st.network, st.clearing
        if shocked.n != network.n or tuple(shocked.names) != tuple(network.names):
            raise ContagionError(f"scenario {name!r}: the shocked network has other institutions than the base")
        shocks = tuple(line for scen in st.scenarios for line in scen.describe())
        runs.append(ScenarioRun(name, description, shocks, shocked, res, loss_summary(res, network),
                                losses_by_creditor_type(res)))
    from .viz import dataset_title

    return Report(base=network, runs=tuple(runs),
                  title=title or f"Stress test: {dataset_title(network.metadata) or 'network'}", method=method,
                  params=dict(runs[0].result.params), generated=generated or _dt.date.today().isoformat(),
                  max_rows=max_rows, max_nodes=max_nodes, default_applied=default_applied)


def render(network: Any, scenarios: Iterable[Any] = (), **kwargs: Any) -> str:
    """The HTML report (one self-contained page); parameters as :func:`build_report`.

    >>> import contagion
    >>> page = render(contagion.load_dataset("chain"), ["a-fails"], generated="2025-01-01")
    >>> "a-fails" in page and "<script src" not in page and 'href="http' not in page
    True
    """
    return build_report(network, scenarios, **kwargs).to_html()


def render_markdown(network: Any, scenarios: Iterable[Any] = (), **kwargs: Any) -> dict[str, bytes]:
    """Files of the Markdown report, ``{relative path: bytes}``; parameters as :func:`build_report`.

    >>> import contagion
    >>> files = render_markdown(contagion.load_dataset("chain"), ["a-fails"], generated="2025-01-01")
    >>> sorted(p for p in files if not p.startswith("figures/"))  # doctest: +NORMALIZE_WHITESPACE
    ['report.md', 'tables/defaults-by-wave.csv', 'tables/institutions-a-fails.csv',
     'tables/losses-by-creditor-type.csv', 'tables/summary.csv', 'view.html']
    """
    return build_report(network, scenarios, **kwargs).to_markdown()





# ---------------------------------------------------------------------------- charts
_CHART_RC = {
    "svg.fonttype": "none",          # text stays text (escaped by matplotlib), the page's font renders it
    "text.parse_math": False,        # a "$" in a name is a dollar sign, not mathtext
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8a97a4",
    "axes.labelcolor": "#33475b",
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlecolor": "#0f2a44",
    "xtick.color": "#52606d",
    "ytick.color": "#52606d",
    "legend.frameon": False,
    "legend.fontsize": 8.5,
}


def _short(text: str, limit: int = 32) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _figures(report: Report) -> dict[str, tuple[str, Any]]:
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    names = [_short(n) for n in report.names]
    colours = [SCENARIO_COLOURS[s % len(SCENARIO_COLOURS)] for s in range(len(names))]
    S = len(names)
    amount = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2g}")
    out: dict[str, tuple[str, Any]] = {}
    with matplotlib.rc_context(_CHART_RC):
        # 1. system loss with and without network effects
        fig = Figure(figsize=(7.2, 3.3), layout="constrained")
        ax = fig.add_subplot()
        x = np.arange(S)
        without = [r.loss["system_loss_without_network"] for r in report.runs]
        with_net = [r.loss["system_loss"] for r in report.runs]
        w = 0.3
        ax.set_xlim(-0.8, S - 0.2)
        ax.bar(x - w / 2, without, w, color="#c9d3dd", edgecolor="#8a97a4", linewidth=0.6,
               label="Without network effects")
        bars = ax.bar(x + w / 2, with_net, w, color=colours, label="With the network (clearing)")
        for b, r in zip(bars, report.runs):
            ax.annotate(_fmt_ratio(r.loss["amplification"]), (b.get_x() + b.get_width() / 2, b.get_height()),
                        xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", fontsize=8.5,
                        color="#0f2a44")
        ax.set_xticks(x, names)
        ax.yaxis.set_major_formatter(amount)
        ax.set_ylabel("System loss" + (f" ({report._units()})" if report._units() else ""))
        ax.set_title("System loss with and without network effects")
        ax.grid(axis="y", color="#e6eaee", linewidth=0.8)
        ax.set_axisbelow(True)
        ax.margins(y=0.15)
        ax.legend(loc="upper left", ncols=2, handles=[ax.containers[0], _proxy_patch(colours[0])],
                  labels=["Without network effects", "With the network (clearing)"])
        out["system-loss"] = ("System loss (shock to outside assets plus total shortfall) with the network, against "
                              "the loss without network effects; labels give the amplification.", fig)

        # 2. defaults by wave
        waves = report.defaults_by_wave()
        fig = Figure(figsize=(7.2, 3.0), layout="constrained")
        ax = fig.add_subplot()
        W = len(waves.index)
        if W:
            width = 0.8 / S
            for s in range(S):
                ax.bar(np.arange(W) - 0.4 + width * (s + 0.5), waves.iloc[:, s].to_numpy(), width, color=colours[s],
                       label=names[s])
            ax.set_xticks(np.arange(W), [f"{w}" + (" (fund.)" if w == 0 else "") for w in waves.index])
            if S > 1:
                fig.legend(loc="outside lower center", ncols=min(S, 3))
        else:
            ax.text(0.5, 0.5, "No defaults in any scenario", ha="center", va="center", transform=ax.transAxes,
                    color="#52606d")
            ax.set_xticks([])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Default wave")
        ax.set_ylabel("Institutions defaulting")
        ax.set_title("Defaults by wave")
        ax.grid(axis="y", color="#e6eaee", linewidth=0.8)
        ax.set_axisbelow(True)
        out["defaults-by-wave"] = ("Number of institutions defaulting in each wave of the cascade (wave 0: "
                                   "fundamental defaults).", fig)

        # 3. losses by creditor type
        losses = report.losses_by_creditor_type()
        T = len(losses.index)
        fig = Figure(figsize=(7.2, max(2.4, 0.9 + 0.28 * T * max(S, 1) ** 0.5 + 0.25 * T)), layout="constrained")
        ax = fig.add_subplot()
        height = 0.8 / S
        y = np.arange(T)
        for s in range(S):
            ax.barh(y - 0.4 + height * (s + 0.5), losses.iloc[:, s].to_numpy(), height, color=colours[s],
                    label=names[s])
        ax.set_yticks(y, [_short(t, 28) for t in losses.index])
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(amount)
        ax.set_xlabel("Loss" + (f" ({report._units()})" if report._units() else ""))
        ax.set_title("Losses by creditor type")
        ax.grid(axis="x", color="#e6eaee", linewidth=0.8)
        ax.set_axisbelow(True)
        if S > 1:
            fig.legend(loc="outside lower center", ncols=min(S, 3))
        out["losses-by-creditor-type"] = ("Losses of creditors on their claims, grouped by creditor type; "
                                          "creditors outside the network in one row.", fig)
    return out


def _proxy_patch(colour: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(color=colour)


def _svg_text(fig: Any, salt: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({**_CHART_RC, "svg.hashsalt": f"contagion-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def _png_bytes(fig: Any) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(_CHART_RC):
        fig.savefig(buf, format="png", dpi=200, metadata={"Software": None})
    return buf.getvalue()


def _inline_svg(svg: str, caption: str) -> Any:
    """SVG text ready to sit inside HTML: no XML prolog, DOCTYPE or metadata; scales with its container."""
    from markupsafe import Markup

    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"',
                 lambda m: f'<svg{m.group(1)} class="chart" role="img" aria-label="{_html.escape(caption)}"',
                 svg, count=1)
    return Markup(svg.strip())


# ---------------------------------------------------------------------------- helpers
def _unique_labels(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        label = name
        if label in seen:
            seen[name] += 1
            label = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(label)
    return out


def _slugs(names: Sequence[str]) -> list[str]:
    """File-name-safe, unique slugs (``[a-z0-9-]``; never a path)."""
    out: list[str] = []
    for k, name in enumerate(names):
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or f"scenario-{k + 1}"
        base, n = slug, 2
        while slug in out:
            slug, n = f"{base}-{n}", n + 1
        out.append(slug)
    return out


def _fmt_ratio(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.2f}\u00d7"


def _fmt_measure(measure: str, v: float) -> str:
    if measure == "Loss amplification":
        return _fmt_ratio(v)
    if measure in ("Institutions", "Defaults", "Fundamental defaults (wave 0)"):
        return f"{int(v):,}"
    if measure == "Last wave":
        return "\u2013" if v is None or not math.isfinite(v) else str(int(v))
    return fmt_amount(v)


_MD_INLINE = re.compile(r"([\\`*_\[\]|~^$@])")
_MD_LINE_START = re.compile(r"^(\s*)([-+#>=]|\d+(?=[.)]))")


def _md(text: Any) -> str:
    r"""Escape untrusted text for Markdown (CommonMark and pandoc).

    ``<`` and ``>`` become entities (no raw HTML), ``&`` too when it would
    start an entity; the characters that make emphasis, code, links, images,
    table cells, sub/superscripts, math or citations get a backslash; a
    leading list, heading or quote marker is escaped; newlines become spaces.

    >>> _md('<img src=x onerror=alert(1)> | [a](b) *c* - 1. @d')
    '&lt;img src=x onerror=alert(1)&gt; \\| \\[a\\](b) \\*c\\* - 1. \\@d'
    >>> print(_md("- item"))
    \- item
    """
    s = re.sub(r"&(?=#?\w+;)", "&amp;", str(text)).replace("<", "&lt;").replace(">", "&gt;")
    s = re.sub(r"[\r\n\t]+", " ", s)
    s = _MD_INLINE.sub(r"\\\1", s)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), s, count=1)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV (UTF-8, ``\\n``); text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START)
                                        else v)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _provenance(net: Any) -> dict[str, Any]:
    """Where the data came from: dataset, source folder, files (size, SHA-256) and the README as safe HTML."""
    meta = dict(net.metadata or {})
    folder: Path | None = None
    if meta.get("dataset"):
        try:
            from .datasets import dataset_path

            folder = dataset_path(str(meta["dataset"]))
        except ContagionError:
            folder = None
    if folder is None and meta.get("source"):
        src = Path(str(meta["source"]))
        folder = src if src.is_dir() else src.parent
    files = []
    readme_md = ""
    if folder is not None and folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.is_file() and p.suffix.lower() in (".csv", ".json", ".graphml", ".parquet", ".toml", ".md"):
                files.append({"name": p.name, "bytes": f"{p.stat().st_size:,}", "sha256": _sha256(p)})
        readme = folder / "README.md"
        if readme.is_file():
            readme_md = readme.read_text(encoding="utf-8")
    elif meta.get("source") and Path(str(meta["source"])).is_file():
        p = Path(str(meta["source"]))
        files.append({"name": p.name, "bytes": f"{p.stat().st_size:,}", "sha256": _sha256(p)})
    shown_meta = [[str(k), str(v)] for k, v in meta.items() if k not in ("scenarios",)]
    return {
        "dataset": str(meta.get("dataset") or ""),
        "source": str(folder) if folder is not None else str(meta.get("source") or "built in memory"),
        "files": files,
        "metadata": shown_meta,
        "readme_md": readme_md,
        "readme_html": _markdown_html(readme_md) if readme_md else "",
    }


def _markdown_html(text: str) -> Any:
    """README Markdown as HTML with raw HTML escaped and links / images reduced to text (no URL is loaded or
    linked: the URL is shown in brackets after the link text)."""
    from markupsafe import Markup

    try:
        from markdown_it import MarkdownIt
    except ImportError:  # pragma: no cover - markdown-it-py comes with rich
        return Markup("<pre>") + text + Markup("</pre>")
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    pending: list[str] = []

    def link_open(self, tokens, idx, options, env):
        pending.append(tokens[idx].attrGet("href") or "")
        return '<span class="link">'

    def link_close(self, tokens, idx, options, env):
        href = pending.pop() if pending else ""
        return "</span>" + (f' <span class="url">[{_html.escape(href)}]</span>' if href else "")

    def image(self, tokens, idx, options, env):
        tok = tokens[idx]
        alt = "".join(child.content for child in (tok.children or []))
        return f'<span class="image">[image: {_html.escape(alt)}]</span>'

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("link_close", link_close)
    md.add_render_rule("image", image)
    return Markup(md.render(text))
