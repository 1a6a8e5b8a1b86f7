"""Analytics sections of the report: systemic importance, the loss distribution of a Monte Carlo sweep, reverse
stress tests and the sensitivity of one institution's equity to the dataset's labelled assumptions.

Each section reuses the library function the CLI command of the same name calls, on the network as given
(before the report's scenarios, as ``contagion rank``, ``sweep`` and ``reverse-stress`` do without
``--scenario``):

- ``rank=True``: :func:`contagion.measures.systemic_importance` (``contagion rank``);
- ``sweep=CONFIG``: :func:`contagion.sweep.run_sweep` with ``draws`` and ``seed`` (``contagion sweep``); every
  estimate with its Monte Carlo standard error and confidence interval, as the sweep computes them;
- ``reverse_stress=["TARGET:SHOCK", ...]``: :func:`contagion.measures.reverse_stress` (``contagion
  reverse-stress --target TARGET --shock SHOCK``; SHOCK in its vocabulary: ``external_assets:NAME``,
  ``external_assets:type=neocloud``, ``edges:kind=...``, ``scenario:NAME``);
- ``sensitivity=INSTITUTION``: :func:`contagion.sensitivity.rank_assumptions` (``contagion sensitivity
  --baseline --rank-assumptions INSTITUTION``), the tornado of every labelled assumption.

The numbers in the report are those of the results kept in :class:`Analytics`, so a test (or a reader) can
compare them with the command's output.

Examples
--------
>>> import contagion
>>> from contagion.report import build_report
>>> rep = build_report(contagion.load_dataset("core-periphery"), ["core-shock"], rank=True,
...                    reverse_stress=["Periphery 1:external_assets:Core"], generated="2025-01-01")
>>> rep.analytics.ranking.index[0], round(rep.analytics.reverse[0].threshold, 4)
('Core', 0.5333)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import ContagionError
from ..formatting import fmt_amount
from .story import fmt_sig

if TYPE_CHECKING:  # pragma: no cover
    from .model import Report

__all__ = ["Analytics", "run_analytics", "parse_reverse_spec", "analytics_tables", "DEFAULT_DRAWS", "TOP_RANKED",
           "TOP_CHART"]

#: draws of the report's sweep unless ``draws`` says otherwise (the default of ``contagion sweep``)
DEFAULT_DRAWS = 10_000
#: institutions listed in the systemic-importance and default-probability tables
TOP_RANKED = 20
#: bars in the analytics charts (the largest first)
TOP_CHART = 15


@dataclass(frozen=True, eq=False)
class Analytics:
    """The results behind the analytics sections (each ``None`` / empty when not asked for).

    Attributes
    ----------
    ranking : DataFrame or None
        :func:`contagion.measures.systemic_importance` of the network as given.
    sweep : SweepResult or None
        :func:`contagion.sweep.run_sweep` of the configuration asked for.
    reverse : tuple of ReverseStressResult
        One per ``TARGET:SHOCK`` asked for, in order.
    sensitivity : DataFrame or None
        :func:`contagion.sensitivity.rank_assumptions` for :attr:`sensitivity_for`.
    sensitivity_for : str or None
        The institution (its name) whose equity the sensitivity section watches.
    assumptions : DataFrame or None
        The dataset's ``assumptions.csv`` (indexed by ``id``) when it lies beside the network's files: the
        quantity each assumption stands for and its range, shown in the sensitivity section.
    """

    ranking: pd.DataFrame | None = None
    sweep: Any = None
    reverse: tuple[Any, ...] = ()
    sensitivity: pd.DataFrame | None = None
    sensitivity_for: str | None = None
    assumptions: pd.DataFrame | None = None

    @property
    def sections(self) -> list[str]:
        """The sections these results fill, in the report's order."""
        return [k for k, on in (("importance", self.ranking is not None), ("distribution", self.sweep is not None),
                                ("reverse", bool(self.reverse)), ("sensitivity", self.sensitivity is not None))
                if on]


def parse_reverse_spec(spec: Any) -> tuple[str, str]:
    """``"TARGET:SHOCK"`` (or a ``(target, shock)`` pair) as ``(target, shock)``.

    The shock is a specification of :func:`contagion.measures.shock_family` and itself holds a colon, so the
    split is made before the first ``:KIND:`` of a known shock kind (a target name may hold colons too); a
    target followed by a scenario file path (``Oracle:my-shock.toml``) is split at the last colon.

    >>> parse_reverse_spec("CoreWeave:external_assets:OpenAI")
    ('CoreWeave', 'external_assets:OpenAI')
    >>> parse_reverse_spec("Fund: A:edges:kind=loan")
    ('Fund: A', 'edges:kind=loan')
    >>> parse_reverse_spec("C:extrenal_assets:A")
    Traceback (most recent call last):
    contagion.errors.ContagionError: reverse stress 'C:extrenal_assets:A': unknown shock kind 'extrenal_assets' (did you mean 'external_assets'?); choose one of external_assets, edges, scenario
    """
    from ..measures import SHOCK_FAMILIES

    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return str(spec[0]), str(spec[1])
    text = str(spec)
    cuts = [text.find(f":{kind}:") for kind in SHOCK_FAMILIES]
    cuts = [c for c in cuts if c > 0]
    if cuts:
        cut = min(cuts)
    else:
        from ..errors import did_you_mean

        for word in text.split(":")[1:-1]:     # a misspelt kind between two colons: say so
            hint = did_you_mean(word.strip(), SHOCK_FAMILIES)
            if hint:
                raise ContagionError(f"reverse stress {text!r}: unknown shock kind {word.strip()!r}{hint}; choose "
                                     f"one of {', '.join(SHOCK_FAMILIES)}")
        cut = text.rfind(":")
        if cut <= 0 or cut == len(text) - 1:
            raise ContagionError(f"reverse stress {text!r}: expected TARGET:SHOCK, e.g. "
                                 f"CoreWeave:external_assets:OpenAI (SHOCK as for contagion reverse-stress --shock: "
                                 f"{', '.join(k + ':...' for k in SHOCK_FAMILIES)})")
    return text[:cut].strip(), text[cut + 1:].strip()


def run_analytics(net: Any, *, method: str = "eisenberg-noe", params: Mapping[str, Any] | None = None,
                  rank: bool = False, sweep: Any = None, draws: int | None = None, seed: int = 0,
                  reverse_stress: Iterable[Any] = (), sensitivity: str | None = None,
                  effects: Any = None) -> Analytics | None:
    """Compute the analytics asked for on ``net`` (the network as given); None when none is asked for.

    ``sweep``: a :class:`~contagion.sweep.SweepConfig`, a file path or the name of a configuration shipped
    with the dataset (:func:`contagion.sweep.find_sweep_config`); ``draws`` default :data:`DEFAULT_DRAWS`.
    ``reverse_stress``: ``"TARGET:SHOCK"`` strings or ``(target, shock)`` pairs (:func:`parse_reverse_spec`).
    ``sensitivity``: an institution's name or id; ``effects`` as for
    :func:`contagion.sensitivity.rank_assumptions` (default: ``assumption_effects.csv`` beside the network).
    """
    params = dict(params or {})
    reverse_specs = [parse_reverse_spec(s) for s in (reverse_stress or ())]
    if not (rank or sweep is not None or reverse_specs or sensitivity is not None):
        return None
    ranking = res = sens = None
    if rank:
        from ..measures import systemic_importance

        ranking = systemic_importance(net, method=method, **params)
    if sweep is not None:
        from ..sweep import SweepConfig, find_sweep_config, run_sweep

        config = sweep if isinstance(sweep, SweepConfig) else find_sweep_config(sweep, net)
        res = run_sweep(net, config, n=int(draws or DEFAULT_DRAWS), seed=seed, method=method, **params)
    reverse = []
    if reverse_specs:
        from ..measures import reverse_stress as _reverse

        reverse = [_reverse(net, target, shock, method=method, **params) for target, shock in reverse_specs]
    who = assumptions = None
    if sensitivity is not None:
        from ..sensitivity import assumptions_table, rank_assumptions

        sens = rank_assumptions(net, sensitivity, (), effects=effects)
        who = net.names[net.index_of(str(sensitivity))]
        assumptions = assumptions_table(net)
    return Analytics(ranking=ranking, sweep=res, reverse=tuple(reverse), sensitivity=sens, sensitivity_for=who,
                     assumptions=assumptions)


# ====================================================================== template context
def _pct(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}%}"


def _amt(x: float) -> str:
    """An amount with 2 decimals; no "-0.00" (a default at the threshold leaves a tiny negative equity)."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return fmt_amount(0.0 if abs(x) < 0.005 else x)


def _ratio(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.2f}\u00d7"


def _level(q: float) -> str:
    return f"{100 * q:g}%"


def analytics_context(report: "Report") -> dict[str, Any] | None:
    """The template context of the analytics sections (None without analytics)."""
    a = report.analytics
    if a is None:
        return None
    out: dict[str, Any] = {"sections": a.sections, "importance": None, "distribution": None, "reverse": [],
                           "sensitivity": None}
    if a.ranking is not None:
        out["importance"] = _importance_context(a.ranking)
    if a.sweep is not None:
        out["distribution"] = _distribution_context(a.sweep)
    if a.reverse:
        out["reverse"] = [_reverse_context(rs) for rs in a.reverse]
    if a.sensitivity is not None:
        out["sensitivity"] = _sensitivity_context(a)
    return out


def _importance_context(frame: pd.DataFrame) -> dict[str, Any]:
    rows = []
    for name, r in frame.head(TOP_RANKED).iterrows():
        rows.append({"rank": str(int(r["rank"])), "name": str(name), "type": str(r["type"]),
                     "fails": bool(r["fails"]),
                     "cells": [_amt(r["external_assets"]), _amt(r["system_loss"]), _amt(r["induced_shortfall"]),
                               f"{int(r['additional_defaults']):,}", _ratio(r["contagion_multiplier"]),
                               _amt(r["vulnerability"]), f"{int(r['defaulted_by']):,}"]})
    top = frame.iloc[0] if len(frame) else None
    lead = None
    if top is not None:
        others = int(top["additional_defaults"])
        lead = {"name": str(frame.index[0]), "loss": _amt(top["system_loss"]),
                "induced": _amt(top["induced_shortfall"]),
                "others": f"{others:,} other institution{'s' if others != 1 else ''}"}
    return {"rows": rows, "shown": len(rows), "total": len(frame), "lead": lead}


def _distribution_context(res: Any) -> dict[str, Any]:
    s = res.summary()
    loss, dflt = s["system_loss"], s["defaults"]
    z = res.z

    def row(name: str, est: float, se: float, ci: list, pct: bool = False) -> list[str]:
        f = _pct if pct else _amt
        return [name, f(est), f(se), f(ci[0]), f(ci[1])]

    from ..sweep.result import level_key

    rows = [row("Mean system loss", loss["mean"], loss["mean_se"], loss["mean_ci"])]
    for q in res.levels:
        key = level_key(q)
        rows.append(row(f"VaR {_level(q)}", loss["var"][key], loss["var_se"][key], loss["var_ci"][key]))
        rows.append(row(f"Expected shortfall (ES) {_level(q)}", loss["es"][key], loss["es_se"][key],
                        loss["es_ci"][key]))
    rows.append(row("Mean number of defaults", dflt["mean"], dflt["mean_se"], dflt["mean_ci"]))
    rows.append(row("P(at least one default)", dflt["probability_any"], dflt["probability_any_se"],
                    dflt["probability_any_ci"], pct=True))
    frame = res.to_frame()
    by_risk = frame.iloc[res.ranking()]
    risky = by_risk[by_risk["default_probability"] > 0]
    q = max(res.levels)
    es = res.es(q)
    inst = []
    for name, r in risky.head(TOP_RANKED).iterrows():
        es_c = r[f"es_contribution_{level_key(q)}"]
        inst.append({"name": str(name), "type": str(r["type"]),
                     "cells": [_pct(r["default_probability"]), _pct(r["default_probability_se"]),
                               f"{_pct(r['default_probability_ci_low'])} \u2013 "
                               f"{_pct(r['default_probability_ci_high'])}",
                               _amt(r["expected_unpaid"]), _amt(r["expected_unpaid_se"]),
                               _pct(es_c / es, 1) if es > 0 and np.isfinite(es_c) else "n/a"]})
    cfg = res.config
    return {
        "name": cfg.name, "description": cfg.description, "draws": f"{res.n:,}", "seed": str(res.seed),
        "correlation": f"{cfg.correlation:g}", "confidence": _level(res.confidence), "z": f"{z:.3g}",
        "levels": ", ".join(_level(q) for q in res.levels), "es_level": _level(q),
        "baseline": " + ".join(res.scenarios) if res.scenarios else "",
        "rows": rows, "institutions": inst, "risky": len(risky), "total": len(frame),
        "std": _amt(loss["std"]), "max": _amt(loss["max"]),
    }


def _reverse_context(rs: Any) -> dict[str, Any]:
    s = rs.summary()
    if rs.status == "defaults":
        head = (f"{rs.target} defaults once the shock reaches {_pct(rs.threshold, 4)} "
                f"(it survives at {_pct(rs.lower, 4)}).")
    elif rs.status == "already":
        head = f"{rs.target} is in default already, without the shock."
    else:
        head = f"{rs.target} survives even the full shock" + ("" if rs.monotone else " at every size evaluated") + "."
    cascade = []
    for name, r in rs.to_frame().iterrows():
        cascade.append({"name": str(name), "type": str(r["type"]), "wave": str(int(r["default_round"])),
                        "target": str(name) == rs.target,
                        "cells": [_amt(r["obligations"]), _amt(r["payment"]), _amt(r["shortfall"]),
                                  _amt(r["equity"])]})
    return {
        "target": rs.target, "shock": rs.family.description, "spec": rs.family.spec, "status": rs.status,
        "head": head,
        "threshold": "never" if rs.threshold is None else _pct(rs.threshold, 4),
        "loss": _amt(s["external_asset_loss"]), "defaults": f"{s['defaults']:,}",
        "shortfall": _amt(s["total_shortfall"]), "size": "the full shock" if rs.threshold is None else
        f"s = {_pct(rs.threshold, 4)}",
        "evaluations": f"{rs.evaluations:,}", "tol": f"{rs.tol:g}", "monotone": bool(rs.monotone),
        "not_monotone_because": rs.family.not_monotone_because or "",
        "violation": bool(rs.monotone_violation), "cascade": cascade,
    }


def _range_of(a: "Analytics", key: str) -> tuple[str, str, str, str]:
    """``(quantity, low, central, high)`` of an assumption, as text ('' when assumptions.csv does not say)."""
    t = a.assumptions
    if t is None or key not in t.index:
        return "", "", "", ""
    row = t.loc[key]

    def val(col: str) -> str:
        v = pd.to_numeric(pd.Series([row.get(col)]), errors="coerce").iloc[0]
        return fmt_sig(float(v)) if np.isfinite(v) else str(row.get(col, ""))

    return str(row.get("quantity", "")), val("low"), val("value"), val("high")


def _sensitivity_context(a: "Analytics") -> dict[str, Any]:
    frame = a.sensitivity
    moving = frame[(frame["swing"] != 0) | (frame["derivative"] != 0)]
    rows = []
    for key, r in moving.iterrows():
        quantity, low, central, high = _range_of(a, str(key))
        rows.append({"key": str(key), "quantity": quantity, "low": low, "central": central, "high": high,
                     "cells": [_amt(r["equity_low"]), _amt(r["equity_high"]), _signed(r["change_low"]),
                               _signed(r["change_high"]), f"{round(float(r['derivative']), 4) + 0.0:,.4f}"],
                     "defaults": " and ".join(e for e in ("low", "high") if r[f"defaulted_{e}"]) or "\u2013"})
    central = float(frame["equity_central"].iloc[0]) if len(frame) else float("nan")
    lead = None
    if len(moving):
        top = moving.iloc[0]
        end = "low" if abs(top["change_low"]) >= abs(top["change_high"]) else "high"
        lead = {"key": str(moving.index[0]), "end": end, "change": _signed(top[f"change_{end}"])}
    from ..sensitivity import unranked_assumptions

    return {"institution": a.sensitivity_for, "central": _amt(central), "rows": rows, "total": len(frame),
            "still": len(frame) - len(moving), "lead": lead, "unranked": unranked_assumptions(frame, a.assumptions)}


def _signed(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return ("+" if x > 0 else "") + fmt_amount(x) if x != 0 else fmt_amount(0.0)


# ====================================================================== CSV tables
def analytics_tables(a: Analytics) -> dict[str, pd.DataFrame]:
    """The analytics as plain tables (numbers, not text) for the Markdown export's ``tables/`` folder."""
    from ..sweep.result import level_key
    out: dict[str, pd.DataFrame] = {}
    if a.ranking is not None:
        out["systemic-importance"] = a.ranking.reset_index()
    if a.sweep is not None:
        res = a.sweep
        rows = [("mean system loss", float(res.summary()["system_loss"]["mean"]), res.mean_se, *res.mean_ci())]
        for q in res.levels:
            rows.append((f"VaR {level_key(q)}", res.var(q), res.var_se(q), *res.var_ci(q)))
            rows.append((f"ES {level_key(q)}", res.es(q), res.es_se(q), *res.es_ci(q)))
        d = res.summary()["defaults"]
        rows.append(("mean number of defaults", d["mean"], d["mean_se"], *d["mean_ci"]))
        rows.append(("P(at least one default)", d["probability_any"], d["probability_any_se"],
                     *d["probability_any_ci"]))
        out["loss-distribution"] = pd.DataFrame(rows, columns=["measure", "estimate", "se", "ci_low", "ci_high"])
        out["sweep-institutions"] = res.to_frame().reset_index()
    if a.reverse:
        out["reverse-stress"] = pd.DataFrame([rs.summary() for rs in a.reverse])
    if a.sensitivity is not None:
        frame = a.sensitivity.reset_index()
        frame.insert(0, "institution", a.sensitivity_for)
        out["sensitivity"] = frame
    return out


# ====================================================================== figures
def analytics_figures(report: "Report") -> dict[str, tuple[str, Any]]:
    """``{file stem: (caption, Figure)}`` of the analytics sections."""
    import matplotlib

    from .charts import _CHART_RC

    a = report.analytics
    out: dict[str, tuple[str, Any]] = {}
    if a is None:
        return out
    units = report._units()
    with matplotlib.rc_context(_CHART_RC):
        if a.ranking is not None:
            out["systemic-importance"] = _importance_figure(a.ranking, units)
        if a.sweep is not None:
            out["loss-distribution"] = _histogram_figure(a.sweep, units)
            out["default-probabilities"] = _probability_figure(a.sweep)
        if a.sensitivity is not None:
            out["sensitivity"] = _tornado_figure(a, units)
    return out


def _amount_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2g}")


def _importance_figure(frame: pd.DataFrame, units: str) -> tuple[str, Any]:
    from matplotlib.figure import Figure

    from .charts import _bar_height, _end_labels, _wrapped

    top = frame.head(TOP_CHART)
    k = len(top)
    y = np.arange(k)
    fig = Figure(figsize=(7.2, _bar_height(k)), layout="constrained")
    ax = fig.add_subplot()
    own = top["external_assets"].to_numpy(dtype=float)
    induced = top["induced_shortfall"].to_numpy(dtype=float)
    ax.barh(y, own, 0.62, color="#7d8b99", label="Its own outside assets lost")
    ax.barh(y, induced, 0.62, left=own, color="#b03a2e", label="Shortfall its failure causes")
    more = top["additional_defaults"].to_numpy(dtype=int)
    _end_labels(ax, y, own + induced, [fmt_amount(v) + (f"; {m} more default{'s' if m != 1 else ''}" if m else "")
                                       for v, m in zip(own + induced, more)], 1.45)
    ax.set_yticks(y, [_wrapped(n, 26) for n in top.index])
    ax.set_ylim(k - 0.5, -0.5)
    ax.xaxis.set_major_formatter(_amount_formatter())
    ax.set_xlabel("System loss when it fails" + (f" ({units})" if units else ""))
    ax.set_title("Systemic importance: the damage when each institution fails")
    ax.grid(axis="x", color="#e6eaee", linewidth=0.8)
    ax.set_axisbelow(True)
    fig.legend(loc="outside lower center", ncols=2)
    return (f"The {k} institutions whose failure (the loss of all their outside assets) costs the system most: "
            "the loss itself (grey) and the shortfall it causes in the network (red); the label gives the system "
            "loss and the other institutions that default with it.", fig)


def _histogram_figure(res: Any, units: str) -> tuple[str, Any]:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    counts, edges = res.histogram()
    fig = Figure(figsize=(7.2, 3.9), layout="constrained")
    ax = fig.add_subplot()
    share = counts / max(res.n, 1)
    ax.bar(edges[:-1], share, np.diff(edges), align="edge", color="#a9bfd0", edgecolor="#5d7a92", linewidth=0.5,
           label="Share of draws")
    top = float(share.max()) if len(share) else 1.0
    marks = [("Mean", float(res.summary()["system_loss"]["mean"]), res.mean_ci(), "#0f2a44", "--")]
    var_colours = ("#c8a951", "#8a6d1f", "#5e4a12")
    es_colours = ("#d7301f", "#8c1d12", "#4a0f09")
    for k, q in enumerate(res.levels):
        marks.append((f"VaR {_level(q)}", res.var(q), res.var_ci(q), var_colours[min(k, 2)], "-"))
        marks.append((f"ES {_level(q)}", res.es(q), res.es_ci(q), es_colours[min(k, 2)], "-."))
    for k, (label, v, (lo, hi), colour, style) in enumerate(marks):
        ax.axvline(v, color=colour, linestyle=style, linewidth=1.5,
                   label=f"{label} {fmt_amount(v)} [{fmt_amount(lo)}, {fmt_amount(hi)}]")
        # the interval as a bar above the histogram, one height per measure so that none hides another
        ax.errorbar([v], [top * (1.12 + 0.09 * k)], xerr=[[v - lo], [hi - v]], fmt="o", markersize=3.5,
                    color=colour, elinewidth=1.6, capsize=3)
    ax.set_ylim(0, top * (1.2 + 0.09 * len(marks)))
    ax.yaxis.set_major_locator(MaxNLocator(6, steps=[1, 2, 5, 10]))
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= top * 1.05])   # no share ticks beside the intervals
    ax.xaxis.set_major_formatter(_amount_formatter())
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("System loss" + (f" ({units})" if units else ""))
    ax.set_ylabel("Share of draws")
    ax.set_title(f"Loss distribution: {res.n:,} draws of '{_short_name(res.config.name)}'")
    ax.grid(axis="y", color="#e6eaee", linewidth=0.8)
    ax.set_axisbelow(True)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    return (f"Distribution of the system loss over {res.n:,} Monte Carlo draws; lines: the mean, the "
            f"Value-at-Risk (VaR) and expected shortfall (ES) at each level; above the bars and in brackets, their "
            f"{_level(res.confidence)} confidence intervals.", fig)


def _short_name(name: str, limit: int = 40) -> str:
    name = str(name)
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


def _probability_figure(res: Any) -> tuple[str, Any]:
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    from .charts import _bar_height, _end_labels, _wrapped

    order = [i for i in res.ranking() if res.default_probability[i] > 0][:TOP_CHART]
    k = len(order)
    fig = Figure(figsize=(7.2, _bar_height(max(k, 1))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(k)
    if k:
        p = res.default_probability[order]
        lo, hi = (c[order] for c in res.default_probability_ci())
        ax.barh(y, p, 0.6, color="#b03a2e", label="Default probability")
        ax.errorbar(p, y, xerr=[p - lo, hi - p], fmt="none", ecolor="#0f2a44", elinewidth=1.1, capsize=3,
                    label=f"{_level(res.confidence)} interval")
        _end_labels(ax, y, hi, [f"{v:.1%}" for v in p], 1.2)
        ax.set_yticks(y, [_wrapped(res.names[i], 26) for i in order])
        ax.set_ylim(k - 0.5, -0.5)
        fig.legend(loc="outside lower center", ncols=2)
    else:
        ax.text(0.5, 0.5, "No institution defaults in any draw", ha="center", va="center", transform=ax.transAxes,
                color="#52606d")
        ax.set_yticks([])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Default probability")
    ax.set_title("Default probabilities")
    ax.grid(axis="x", color="#e6eaee", linewidth=0.8)
    ax.set_axisbelow(True)
    return (f"The institutions most likely to default over the draws (at most {TOP_CHART}), with the "
            f"{_level(res.confidence)} Wilson interval of each probability.", fig)


def _tornado_figure(a: "Analytics", units: str) -> tuple[str, Any]:
    from matplotlib.figure import Figure

    from .charts import _bar_height, _wrapped

    frame = a.sensitivity
    moving = frame[(frame["swing"] != 0) | (frame["derivative"] != 0)].head(TOP_CHART)
    k = len(moving)
    fig = Figure(figsize=(7.2, _bar_height(max(k, 1), 0.55)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(k)
    if k:
        low = moving["change_low"].to_numpy(dtype=float)
        high = moving["change_high"].to_numpy(dtype=float)
        h = 0.36
        ax.barh(y - h / 2, low, h, color="#2a7f8e", label="Assumption at the low end of its range")
        ax.barh(y + h / 2, high, h, color="#c8a951", label="at the high end")
        m = float(np.max(np.abs(np.concatenate([low, high])))) or 1.0
        neg = bool((np.concatenate([low, high]) < 0).any())
        pos = bool((np.concatenate([low, high]) > 0).any())
        ax.set_xlim(-1.45 * m if neg else -0.05 * m, 1.45 * m if pos else 0.05 * m)
        for yy, v in [*zip(y - h / 2, low), *zip(y + h / 2, high)]:
            if v != 0:
                ax.annotate(_signed(v), (v, yy), xytext=(3 if v > 0 else -3, 0), textcoords="offset points",
                            ha="left" if v > 0 else "right", va="center", fontsize=7.5, color="#0f2a44")
        labels = []
        for key in moving.index:
            _, lo_v, _, hi_v = _range_of(a, str(key))
            labels.append(_wrapped(str(key), 28, 1) + (f"\n{lo_v} \u2013 {hi_v}" if lo_v or hi_v else ""))
        ax.set_yticks(y, labels, fontsize=8.5)
        ax.set_ylim(k - 0.5, -0.5)
        fig.legend(loc="outside lower center", ncols=2)
    else:
        ax.text(0.5, 0.5, "No assumption moves it", ha="center", va="center", transform=ax.transAxes,
                color="#52606d")
        ax.set_yticks([])
    ax.axvline(0, color="#33475b", linewidth=1.0)
    ax.xaxis.set_major_formatter(_amount_formatter())
    who = _short_name(a.sensitivity_for or "", 30)
    ax.set_xlabel(f"Change in {who}'s equity" + (f" ({units})" if units else ""))
    ax.set_title(f"Sensitivity of {who}'s equity to the assumptions")
    ax.grid(axis="x", color="#e6eaee", linewidth=0.8)
    ax.set_axisbelow(True)
    return (f"Tornado chart: the change in {a.sensitivity_for}'s equity (from its value with every assumption at "
            f"its central value) when one assumption alone moves to the low or the high end of its range (below "
            f"each name), the largest swing first; at most {TOP_CHART}.", fig)
