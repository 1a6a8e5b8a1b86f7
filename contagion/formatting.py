"""Plain-text and HTML formatting of amounts, outcomes and clearing results.

It sits below :mod:`contagion.clearing` so that a
:class:`~contagion.ClearingResult` renders itself (``_repr_html_``) without
reaching up into the report or the view; :mod:`contagion.viz` and
:mod:`contagion.report` use the same helpers.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ._words import humanize

__all__ = ["fmt_amount", "fmt_share", "humanize", "outcome_text", "scenario_label", "result_html", "summary_html"]


def fmt_amount(x: float) -> str:
    """Amount with thousands separators and two decimals (``"-"`` for NaN)."""
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:,.2f}"


def fmt_share(x: float) -> str:
    """Fraction as a percentage with one decimal (``"n/a"`` for NaN)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.1%}"


def outcome_text(wave: int, lost: bool) -> str:
    """Words for an outcome: ``Defaulted in wave 0 (fundamental)``, ``Solvent, equity lost`` ..."""
    if wave == 0:
        return "Defaulted in wave 0 (fundamental)"
    if wave > 0:
        return f"Defaulted in wave {wave}"
    return "Solvent, equity lost" if lost else "Solvent"


def scenario_label(meta: Mapping[str, Any]) -> str:
    """Label of a (shocked) network: the names of the scenarios applied to it (``metadata["scenarios"]``)."""
    names = meta.get("scenarios") or ([meta["scenario"]] if meta.get("scenario") else [])
    if isinstance(names, str):
        names = [names]
    return " + ".join(str(x) for x in names) if names else "Result"


def result_html(result: Any, max_rows: int = 12) -> str:
    """Compact HTML summary of a :class:`~contagion.ClearingResult` (its ``_repr_html_`` in Jupyter).

    >>> import contagion
    >>> html = result_html(contagion.clear(contagion.load_dataset("chain")))
    >>> "Defaults" in html and "<script" not in html
    True
    """
    from .templates import render as render_template

    net = result.network
    s = result.summary()
    frame = result.to_frame()
    wave_key = np.where(frame["default_round"] >= 0, frame["default_round"], np.iinfo(np.int64).max)
    order = np.lexsort((np.arange(len(frame)), -frame["shortfall"].to_numpy(), wave_key))
    top = frame.iloc[order[:max_rows]]
    rows = [{"name": str(name), "type": str(r.type), "obligations": fmt_amount(r.obligations),
             "payment": fmt_amount(r.payment), "shortfall": fmt_amount(r.shortfall),
             "equity": fmt_amount(r.equity), "wave": str(int(r.default_round)) if r.default_round >= 0 else "\u2013",
             "defaulted": bool(r.defaulted)} for name, r in top.iterrows()]
    label = scenario_label(net.metadata) if (net.metadata or {}).get("scenarios") else ""
    return render_template("result.html.j2", s=s, label=label, rows=rows, more=max(0, len(frame) - len(rows)),
                           shortfall=fmt_amount(s["total_shortfall"]), ext=fmt_amount(s["external_shortfall"]))


def summary_html(title: str, rows: list[tuple[str, str]]) -> str:
    """A small two-column HTML table (a notebook display), every text escaped.

    >>> summary_html("Net <1>", [("institutions", "5")])
    '<div class="contagion-summary"><strong>Net &lt;1&gt;</strong><table><tr><th style="text-align:left">institutions</th><td style="text-align:right">5</td></tr></table></div>'
    """
    from html import escape

    body = "".join(f'<tr><th style="text-align:left">{escape(k)}</th><td style="text-align:right">{escape(v)}</td></tr>'
                   for k, v in rows)
    return f'<div class="contagion-summary"><strong>{escape(title)}</strong><table>{body}</table></div>'
