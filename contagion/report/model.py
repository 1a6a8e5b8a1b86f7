"""The report's data model: one :class:`ScenarioRun` per scenario, gathered in a :class:`Report` that renders itself."""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..clearing.handover import owed_network
from ..formatting import fmt_amount, fmt_share, humanize, outcome_text
from ..viz import DEFAULT_MAX_NODES, capital_depletion
from .charts import SCENARIO_COLOURS, _figures, _inline_svg, _png_bytes, _svg_text, _timeline_figures
from .timeline import defaults_by_year, failing_cash, maturity_wall, new_defaults_by_year, path_defaults
from .analytics import analytics_context
from .story import default_sentences
from .text import _csv_bytes, _fmt_measure, _fmt_ratio, _md, _provenance, _slugs, _unique_labels


#: institutions listed per scenario in the HTML report (the CSV tables hold every row)
DEFAULT_MAX_ROWS = 200
#: with more scenarios than this, the tables that compare scenarios side by side set their names upright
#: (rotated headers) and the printed report is in landscape
WIDE_SCENARIOS = 5


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
    path: Any = None
    #: shocks the one-year clearing leaves out: dated (``year``/``years``) or path rules (freeze, collateral)
    skipped: int = 0

    def institutions(self, base: Any) -> pd.DataFrame:
        """Per-institution table: ``name, type, obligations, payment, shortfall, equity_pre_shock, equity,
        capital_depletion, defaulted, wave`` (``wave`` = -1 when solvent), ordered by wave, then shortfall,
        then capital depletion, then obligations (all descending except the wave)."""
        res = self.result
        before = res.pre_shock_equity(owed_network(base))   # guarantees at what they owe; fire sales: holdings
        frame = pd.DataFrame({
            "name": list(base.names),
            "type": base.types.astype(str),
            "obligations": res.network.total_obligations,
            "payment": res.payments,
            "shortfall": res.shortfall,
            "equity_pre_shock": before,
            "equity": res.equity,
            "capital_depletion": capital_depletion(before, res.equity),
            "defaulted": res.defaulted,
            "wave": np.asarray(res.default_round, dtype=int),
        })
        wave_key = np.where(frame["wave"] >= 0, frame["wave"], np.iinfo(np.int64).max)
        # (a depletion of 1e-16 is the rounding of an equity that did not move: it ranks with 0, not above it)
        order = np.lexsort((np.arange(len(frame)), -frame["obligations"].to_numpy(),
                            -np.round(np.nan_to_num(frame["capital_depletion"].to_numpy(), nan=-1.0), 12),
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
    horizon : (int, int) or None
        First and last year of the timeline section (each run then has its
        :class:`~contagion.paths.PathResult` in ``path``); None: no timeline.
    analytics : Analytics or None
        The results behind the analytics sections (systemic importance, loss
        distribution, reverse stress, sensitivity; see
        :mod:`contagion.report.analytics`); None: no analytics section.
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
    horizon: tuple[int, int] | None = None
    analytics: Any = None

    # ------------------------------------------------------------------ tables
    @property
    def names(self) -> list[str]:
        """Column labels: the scenario names (made unique)."""
        return _unique_labels([r.name for r in self.runs])

    def summary_table(self) -> pd.DataFrame:
        """Headline figures, one column per scenario (numbers, not text); over a horizon, also the institutions
        in default at the end of the path ("In default by <last year> (path)")."""
        # an unpaid guarantee call is in the total shortfall twice (the call and the obligation it covers) and
        # in the system loss once: the row says how much, where some guarantee is owed to the covered creditor
        calls = "Unpaid guarantee calls (counted once)"
        with_calls = any("guarantees_unpaid" in r.loss for r in self.runs)
        rows: dict[str, list[float]] = {k: [] for k in (
            "Institutions", "Defaults", "Fundamental defaults (wave 0)", "Last wave", "Shock to outside assets",
            "Total shortfall", "Unpaid to outside creditors", *([calls] if with_calls else []), "System loss",
            "System loss without network", "Loss amplification")}
        for r in self.runs:
            s = r.result.summary()
            rows["Institutions"].append(s["institutions"])
            rows["Defaults"].append(s["defaults"])
            rows["Fundamental defaults (wave 0)"].append(s["fundamental_defaults"])
            rows["Last wave"].append(s["waves"] if s["waves"] >= 0 else np.nan)
            rows["Shock to outside assets"].append(r.loss["shock"])
            rows["Total shortfall"].append(r.loss["total_shortfall"])
            rows["Unpaid to outside creditors"].append(s["external_shortfall"])
            if with_calls:
                rows[calls].append(r.loss.get("guarantees_unpaid", 0.0))
            rows["System loss"].append(r.loss["system_loss"])
            rows["System loss without network"].append(r.loss["system_loss_without_network"])
            rows["Loss amplification"].append(r.loss["amplification"])
        if self.paths:
            rows[f"In default by {self.horizon[1]} (path)"] = [int(r.path.defaulted[-1].sum()) for r in self.runs]
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

    # ------------------------------------------------------------------ the timeline (a report over a horizon)
    @property
    def paths(self) -> dict[str, Any]:
        """``{scenario label: PathResult}`` (empty without a horizon)."""
        return {label: r.path for label, r in zip(self.names, self.runs) if r.path is not None}

    def defaults_by_year(self) -> pd.DataFrame:
        """Institutions in default at the end of each year (rows: years), one column per scenario."""
        return defaults_by_year(self.paths)

    def new_defaults_by_year(self) -> pd.DataFrame:
        """Institutions defaulting in each year (rows: years), one column per scenario."""
        return new_defaults_by_year(self.paths)

    def maturity_wall(self) -> pd.DataFrame:
        """Principal due per scenario, year and borrower type, rolled over or called
        (:func:`contagion.report.timeline.maturity_wall`)."""
        return maturity_wall(self.paths)

    def path_defaults(self) -> pd.DataFrame:
        """Who defaults on each path, in which year and wave (:func:`contagion.report.timeline.path_defaults`)."""
        return path_defaults(self.paths)

    def failing_cash(self, limit: int | None = None) -> pd.DataFrame:
        """Cash carried out of each year by the institutions that default (long format)."""
        return failing_cash(self.paths, limit)

    def institutions(self, index: int = 0) -> pd.DataFrame:
        """Per-institution table of scenario ``index`` (every institution; see :meth:`ScenarioRun.institutions`)."""
        return self.runs[index].institutions(self.base)

    def institutions_by_scenario(self) -> pd.DataFrame:
        """Every institution in every scenario (long format, network order, then scenario order): ``name, id,
        type, scenario, equity_pre_shock, obligations, equity, shortfall, defaulted, wave`` (``wave`` = -1 when
        solvent; ``obligations``: what each owed in that scenario, guarantees as called)."""
        base = self.base
        owed = owed_network(base)
        frames = []
        for label, r in zip(self.names, self.runs):
            res = r.result
            pre = res.pre_shock_equity(owed)
            frames.append(pd.DataFrame({
                "name": list(base.names), "id": [str(i) for i in base.ids], "type": base.types.astype(str),
                "scenario": label, "equity_pre_shock": pre, "obligations": res.network.total_obligations,
                "equity": res.equity,
                "shortfall": res.shortfall, "defaulted": res.defaulted,
                "wave": np.asarray(res.default_round, dtype=int)}))
        frame = pd.concat(frames, ignore_index=True)
        order = np.lexsort((pd.Categorical(frame["scenario"], categories=self.names).codes,
                            np.tile(np.arange(base.n), len(self.runs))))
        return frame.iloc[order].reset_index(drop=True)

    def compare_institutions(self, measure: str = "equity") -> pd.DataFrame:
        """``measure`` (``equity``, ``shortfall``, ``obligations`` or ``wave``) of every institution (rows, by
        name) in every scenario (columns), in network order.

        >>> import contagion
        >>> from contagion.report import build_report
        >>> from contagion.shocks import Scenario, Shock
        >>> b_fails = Scenario("b-fails", "B fails.", [Shock("default", target="B")])
        >>> rep = build_report(contagion.load_dataset("chain"), ["a-fails", b_fails], generated="x")
        >>> rep.compare_institutions("wave").to_dict(orient="index")
        {'A': {'a-fails': 0, 'b-fails': 0}, 'B': {'a-fails': 1, 'b-fails': 0}, 'C': {'a-fails': 2, 'b-fails': 1}}
        """
        if measure not in ("equity", "shortfall", "obligations", "wave"):
            raise ValueError(f"measure must be equity, shortfall, obligations or wave, not {measure!r}")
        frame = self.institutions_by_scenario().pivot(index="name", columns="scenario", values=measure)
        return frame.reindex(index=list(self.base.names), columns=self.names)

    # ------------------------------------------------------------------ figures
    def figures(self) -> dict[str, tuple[str, Any]]:
        """``{file stem: (caption, matplotlib Figure)}`` of the charts.

        Figures are built with the object-oriented API (``matplotlib.figure.Figure``,
        rendered by the Agg/SVG canvases), so pyplot's global state and backend are
        left alone.
        """
        from .analytics import analytics_figures

        return {**_figures(self), **(_timeline_figures(self) if self.paths else {}), **analytics_figures(self)}

    def figure_files(self) -> dict[str, tuple[str, str, bytes]]:
        """``{file stem: (caption, svg text, png bytes)}`` of the charts."""
        out = {}
        for stem, (caption, fig) in self.figures().items():
            out[stem] = (caption, _svg_text(fig, stem), _png_bytes(fig))
        return out

    # ------------------------------------------------------------------ renderers
    def view_html(self) -> str:
        """The interactive network view with one entry per scenario (a standalone page); over a horizon, the
        paths: a scenario selector and a year slider."""
        from ..viz import network_view

        if self.paths:
            return network_view(self.base, self.paths, max_nodes=self.max_nodes,
                                title=f"Network view \u2014 {self._dataset_title()}, {self.horizon[0]}\u2013"
                                      f"{self.horizon[1]}")
        results = {label: r.result for label, r in zip(self.names, self.runs)}
        descriptions = {label: r.description for label, r in zip(self.names, self.runs)}
        return network_view(self.base, results, descriptions=descriptions, max_nodes=self.max_nodes,
                            title=f"Network view \u2014 {self._dataset_title()}")

    def to_html(self, *, for_print: bool = False) -> str:
        """The report as one self-contained UTF-8 HTML page.

        ``for_print=True``: the page printed to PDF (:func:`contagion.report.pdf.html_to_pdf`): every
        collapsible table open, no interactive network view (a line says where it is), and pages in landscape
        when the report compares more than :data:`WIDE_SCENARIOS` scenarios side by side.
        """
        from ..templates import asset, render as render_template
        from ..viz import view_csp_hashes

        svgs = {stem: {"caption": caption, "svg": _inline_svg(_svg_text(fig, stem), caption)}
                for stem, (caption, fig) in self.figures().items()}
        context = self._context()
        csp = ("default-src 'none'; script-src " + " ".join(view_csp_hashes())
               + "; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
                 "base-uri 'none'; form-action 'none'")
        return render_template("report.html.j2", css=asset("report.css"), csp=csp, charts=svgs,
                               view_html="" if for_print else self.view_html(), for_print=for_print, **context)

    def to_markdown(self) -> dict[str, bytes]:
        """Files of the Markdown report: ``{relative path: bytes}`` (report.md, figures/, tables/, view.html).

        ``tables/`` holds every table as CSV: the summary, defaults by wave, losses by creditor type, every
        institution in every scenario (``across-scenarios.csv``), one table per scenario
        (``institutions-<scenario>.csv``), the timeline's tables over a horizon, and the analytics' tables
        (``systemic-importance``, ``loss-distribution``, ``sweep-institutions``, ``reverse-stress``,
        ``sensitivity``) when asked for."""
        from ..templates import render as render_template

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
        if self.paths:
            by_year = pd.concat([self.defaults_by_year(), self.new_defaults_by_year().add_suffix(" (new)")], axis=1)
            files["tables/defaults-by-year.csv"] = _csv_bytes(by_year.reset_index())
            files["tables/maturity-wall.csv"] = _csv_bytes(self.maturity_wall())
            files["tables/path-defaults.csv"] = _csv_bytes(self.path_defaults())
            files["tables/cash-of-failing.csv"] = _csv_bytes(self.failing_cash())
        files["tables/across-scenarios.csv"] = _csv_bytes(self.institutions_by_scenario())
        if self.analytics is not None:
            from .analytics import analytics_tables

            for stem, frame in analytics_tables(self.analytics).items():
                files[f"tables/{stem}.csv"] = _csv_bytes(frame)
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
        from ..viz import dataset_units

        return dataset_units(self.base.metadata)

    def _dataset_title(self) -> str:
        from ..viz import dataset_title

        return dataset_title(self.base.metadata) or "network"

    def _context(self) -> dict[str, Any]:
        from .. import __version__

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
                "story": default_sentences(r.result),
                "path": None,
            })
        summary_rows = [[measure] + [_fmt_measure(measure, v) for v in summary.loc[measure]] for measure in summary.index]
        wave_rows = [[f"Wave {w}" + (" (fundamental)" if w == 0 else "")] + [f"{int(v):,}" for v in waves.loc[w]]
                     for w in waves.index]
        if len(waves.index):
            wave_rows.append(["All waves"] + [f"{int(v):,}" for v in waves.sum(axis=0)])
        loss_rows = [[humanize(t)] + [fmt_amount(v) for v in losses.loc[t]] for t in losses.index]
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
                              fmt_amount(row.equity_pre_shock), fmt_amount(row.equity),
                              fmt_share(row.capital_depletion)],
                    "wave": str(row.wave) if row.wave >= 0 else "\u2013",
                    "outcome": outcome_text(int(row.wave), bool(row.equity < row.equity_pre_shock - 1e-9
                                                                 * max(1.0, abs(row.equity_pre_shock)))),
                    "defaulted": bool(row.defaulted),
                })
            inst.append({"name": label, "rows": rows, "total": len(frame), "shown": len(shown),
                         "defaults": int(r.result.n_defaults)})
        timeline = self._timeline_context()
        compare = self._compare_context()
        analytics = analytics_context(self)
        if timeline:
            for card, r in zip(cards, self.runs):
                first = [y for y in r.path.default_year if y is not None]
                card["path"] = {"defaults": f"{int(r.path.defaulted[-1].sum()):,}", "last": str(self.horizon[1]),
                                "first_default": str(min(first)) if first else "\u2013"}
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
            "skipped": sum(r.skipped for r in self.runs),
            "cards": cards,
            "summary_rows": summary_rows,
            "wave_rows": wave_rows,
            "loss_rows": loss_rows,
            "institutions": inst,
            "max_rows": self.max_rows,
            "references": list(REFERENCES),
            "provenance": _provenance(base),
            "timeline": timeline,
            "compare": compare,
            "analytics": analytics,
            "wide": len(names) > WIDE_SCENARIOS,
            **_numbering(timeline is not None, bool(compare["shortfall"]), analytics["sections"] if analytics else []),
        }

    def _compare_context(self) -> dict[str, Any]:
        """The institutions-across-scenarios tables: equity after in every scenario (institutions whose equity
        moves in some scenario, those that default most often first) and what each defaulter leaves unpaid."""
        base = self.base
        names = self.names
        eq, short, wave, owes = (self.compare_institutions(m).to_numpy()
                                 for m in ("equity", "shortfall", "wave", "obligations"))
        owed = owed_network(base)
        # (every run has the same holdings and start prices: the network's)
        pre = self.runs[0].result.pre_shock_equity(owed) if self.runs else owed.equity_before
        tol = 1e-9 * np.maximum(1.0, np.abs(pre))
        moved = (np.abs(eq - pre[:, None]) > tol[:, None]).any(axis=1) | (wave >= 0).any(axis=1)
        n_def = (wave >= 0).sum(axis=1)
        fall = np.max(pre[:, None] - eq, axis=1) if len(names) else np.zeros(base.n)
        order = np.lexsort((np.arange(base.n), -owed.total_obligations, -fall, -n_def))
        order = [i for i in order if moved[i]]
        types = base.types.astype(str)

        def cells(i: int, values: np.ndarray, fmt) -> list[dict[str, Any]]:
            out = []
            for s, label in enumerate(names):
                w = int(wave[i, s])
                what = (f"defaults in wave {w}" + (" (fundamental)" if w == 0 else "") + f", leaves "
                        f"{fmt_amount(short[i, s])} unpaid of {fmt_amount(owes[i, s])} owed in this scenario"
                        ) if w >= 0 else "solvent"
                out.append({"text": fmt(values[i, s]), "wave": str(w) if w >= 0 else "", "defaulted": w >= 0,
                            "title": f"{label}: {what}; equity after {fmt_amount(eq[i, s])}"})
            return out

        rows = [{"name": base.names[i], "type": types[i], "pre": fmt_amount(pre[i]),
                 "defaults": int(n_def[i]), "cells": cells(i, eq, fmt_amount)} for i in order[: self.max_rows]]
        owing = [i for i in order if (short[i] > 0).any()]
        short_rows = [{"name": base.names[i], "type": types[i], "pre": fmt_amount(owed.total_obligations[i]),
                       "defaults": int(n_def[i]),
                       "cells": cells(i, short, lambda v: fmt_amount(v) if v > 0 else "\u2013")}
                      for i in owing[: self.max_rows]]
        return {"equity": rows, "moved": len(order), "still": base.n - len(order), "shown": len(rows),
                "shortfall": short_rows}

    def _timeline_context(self) -> dict[str, Any] | None:
        """The timeline section: defaults by year, who defaults when, the maturity wall per scenario."""
        if not self.paths:
            return None
        total, new = self.defaults_by_year(), self.new_defaults_by_year()
        years = [int(y) for y in total.index]
        year_rows = [[str(y)] + [f"{int(total.loc[y, c]):,}" + (f" (+{int(new.loc[y, c]):,})" if new.loc[y, c] else "")
                                 for c in total.columns] for y in years]
        who = [{"scenario": row.scenario, "colour": SCENARIO_COLOURS[self.names.index(row.scenario)
                                                                     % len(SCENARIO_COLOURS)],
                "name": row.name, "type": row.type, "year": str(row.default_year), "wave": str(row.wave),
                "shortfall": fmt_amount(row.shortfall),
                "cash_before": "\u2013" if np.isnan(row.cash_before) else fmt_amount(row.cash_before)}
               for row in self.path_defaults().itertuples(index=False)]
        wall = self.maturity_wall()
        walls = []
        for s, label in enumerate(self.names):
            w = wall[wall["scenario"] == label]
            rows = []
            for what, title in (("called", "Called"), ("rolled", "Rolled over")):
                table = w.pivot_table(index="borrower_type", columns="year", values=what, aggfunc="sum",
                                      sort=False).reindex(columns=years, fill_value=0.0)
                for k, t in enumerate(table.index):
                    rows.append({"group": title if k == 0 else "", "label": humanize(t), "total": False,
                                 "cells": [fmt_amount(v) for v in table.loc[t]]})
                rows.append({"group": "", "label": f"{title}, all types", "total": True,
                             "cells": [fmt_amount(v) for v in table.sum(axis=0)]})
            walls.append({"name": label, "colour": SCENARIO_COLOURS[s % len(SCENARIO_COLOURS)], "rows": rows})
        return {"first": years[0], "last": years[-1], "years": [str(y) for y in years], "year_rows": year_rows,
                "who": who, "walls": walls}


#: figures and tables of each analytics section, in order
_ANALYTICS_FIGURES = {"importance": ["systemic-importance"], "distribution": ["loss-distribution",
                                                                             "default-probabilities"],
                      "reverse": [], "sensitivity": ["sensitivity"]}
_ANALYTICS_TABLES = {"importance": ["importance"], "distribution": ["distribution", "sweep-institutions"],
                     "reverse": ["reverse"], "sensitivity": ["sensitivity"]}


def _numbering(timeline: bool, shortfall: bool = True, analytics: list[str] = ()) -> dict[str, dict[str, int]]:
    """Section, figure and table numbers (the timeline section, when there, is section 2; the analytics
    sections come after the institutions, in the order of :attr:`Analytics.sections`)."""
    sections = ["summary"] + (["timeline"] if timeline else []) + ["scenarios", "waves", "losses", "institutions",
                                                                  *analytics, "network", "methodology",
                                                                  "provenance"]
    figures = ["system-loss"] + (["defaults-by-year", "cash-of-failing", "maturity-wall"] if timeline else []) + [
        "defaults-by-wave", "losses-by-creditor-type"]
    figures += [f for a in analytics for f in _ANALYTICS_FIGURES[a]]
    tables = ["summary"] + (["defaults-by-year", "path-defaults", "maturity-wall"] if timeline else []) + [
        "waves", "losses", "compare-equity"] + (["compare-shortfall"] if shortfall else [])
    tables += [t for a in analytics for t in _ANALYTICS_TABLES[a]]
    return {"num": {k: i + 1 for i, k in enumerate(sections)}, "fig": {k: i + 1 for i, k in enumerate(figures)},
            "tab": {k: i + 1 for i, k in enumerate(tables)}}
