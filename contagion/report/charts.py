"""The report's charts (matplotlib, rendered to inline SVG and to PNG/SVG files)."""

from __future__ import annotations

import html as _html
import io
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from .text import _fmt_ratio

if TYPE_CHECKING:  # pragma: no cover
    from .model import Report

#: colours of the scenarios in charts (print friendly, distinguishable in grey scale by lightness)
SCENARIO_COLOURS = ("#0f2a44", "#c8a951", "#2a7f8e", "#b03a2e", "#7d8b99", "#6a4c93", "#3e8e41", "#d98c5f",
                    "#8c564b", "#17becf", "#bcbd22", "#e377c2")


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


def _wrapped(text: str, width: int = 24, lines: int = 2) -> str:
    """A label on at most ``lines`` lines of about ``width`` characters, wrapped at spaces and hyphens (a long
    word is cut; what does not fit ends in an ellipsis): scenario and institution names beside a bar."""
    import textwrap

    parts = textwrap.wrap(str(text), width, break_on_hyphens=True, max_lines=lines, placeholder="\u2026")
    return "\n".join(parts) or " "


def _bar_height(rows: int, per_row: float = 0.34, extra: float = 1.25) -> float:
    """Figure height in inches for ``rows`` horizontal bars (or groups of bars) with room for the title, the
    axis and a legend below: every label keeps its own line whatever the number of rows."""
    return max(2.3, extra + per_row * rows)


def _end_labels(ax: Any, y: Any, x: Any, labels: list[str], right: float) -> None:
    """Write ``labels`` just right of the bar ends ``x`` at heights ``y``, and make room for them: the x axis
    runs to ``right`` x (largest bar end), so no label leaves the axes."""
    top = max([float(v) for v in x] + [0.0])
    ax.set_xlim(0, top * right if top > 0 else 1.0)
    for yy, xx, text in zip(y, x, labels):
        ax.annotate(text, (float(xx), float(yy)), xytext=(4, 0), textcoords="offset points", ha="left",
                    va="center", fontsize=8.5, color="#0f2a44")


def _figures(report: "Report") -> dict[str, tuple[str, Any]]:
    """The summary charts, as horizontal bars with one row per scenario (the scenario's name beside its bar,
    wrapped on two lines), so that they stay readable with any number of scenarios."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from ..formatting import fmt_amount, humanize
    from ..viz import WAVE_COLOURS

    labels = [_wrapped(n) for n in report.names]
    S = len(labels)
    y = np.arange(S)
    units = report._units()
    amount = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2g}")
    out: dict[str, tuple[str, Any]] = {}
    with matplotlib.rc_context(_CHART_RC):
        # 1. system loss with and without network effects: two bars per scenario, the amplification at the end
        fig = Figure(figsize=(7.2, _bar_height(S, 0.5)), layout="constrained")
        ax = fig.add_subplot()
        without = np.array([r.loss["system_loss_without_network"] for r in report.runs], dtype=float)
        with_net = np.array([r.loss["system_loss"] for r in report.runs], dtype=float)
        h = 0.38
        ax.barh(y - h / 2, without, h, color="#c9d3dd", edgecolor="#8a97a4", linewidth=0.6,
                label="Without network effects")
        ax.barh(y + h / 2, with_net, h, color="#0f2a44", label="With the network (clearing)")
        _end_labels(ax, y + h / 2, np.maximum(with_net, without),
                    [f"{fmt_amount(v)} ({_fmt_ratio(r.loss['amplification'])})" for v, r in zip(with_net, report.runs)],
                    1.3)
        ax.set_yticks(y, labels)
        ax.set_ylim(S - 0.5, -0.5)
        ax.xaxis.set_major_formatter(amount)
        ax.set_xlabel("System loss" + (f" ({units})" if units else ""))
        ax.set_title("System loss with and without network effects")
        ax.grid(axis="x", color="#e6eaee", linewidth=0.8)
        ax.set_axisbelow(True)
        fig.legend(loc="outside lower center", ncols=2)
        calls = any("guarantees_unpaid" in r.loss for r in report.runs)
        out["system-loss"] = ("System loss (shock to outside assets plus total shortfall"
                              + (", an unpaid guarantee call counted once" if calls else "")
                              + ") with the network (dark), "
                              "against the loss without network effects (light); the label gives the system loss "
                              "and, in brackets, the amplification.", fig)

        # 2. defaults by wave: one stacked bar per scenario, darkest = fundamental
        waves = report.defaults_by_wave()
        W = len(waves.index)
        fig = Figure(figsize=(7.2, _bar_height(S)), layout="constrained")
        ax = fig.add_subplot()
        if W:
            left = np.zeros(S)
            for w in range(W):
                v = waves.iloc[w, :].to_numpy(dtype=float)
                colour = WAVE_COLOURS[min(w, len(WAVE_COLOURS) - 1)][0]
                ax.barh(y, v, 0.62, left=left, color=colour, edgecolor="white", linewidth=0.6,
                        label=f"Wave {w}" + (" (fundamental)" if w == 0 else ""))
                left += v
            n = report.base.n
            _end_labels(ax, y, left, [f"{int(v):,} of {n:,}" for v in left], 1.25)
            fig.legend(loc="outside lower center", ncols=min(W, 4))
        else:
            ax.text(0.5, 0.5, "No defaults in any scenario", ha="center", va="center", transform=ax.transAxes,
                    color="#52606d")
            ax.set_xlim(0, 1)
        ax.set_yticks(y, labels)
        ax.set_ylim(S - 0.5, -0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Institutions defaulting")
        ax.set_title("Defaults by wave")
        ax.grid(axis="x", color="#e6eaee", linewidth=0.8)
        ax.set_axisbelow(True)
        out["defaults-by-wave"] = ("Institutions defaulting in each scenario, by wave of the cascade (darkest: "
                                   "wave 0, fundamental defaults); the label gives the number in default.", fig)

        # 3. losses by creditor type: one stacked bar per scenario, one colour per creditor type
        losses = report.losses_by_creditor_type()
        T = len(losses.index)
        fig = Figure(figsize=(7.2, _bar_height(S) + 0.22 * (-(-T // 3))), layout="constrained")
        ax = fig.add_subplot()
        left = np.zeros(S)
        for k, t in enumerate(losses.index):
            v = losses.loc[t].to_numpy(dtype=float)
            ax.barh(y, v, 0.62, left=left, color=SERIES_COLOURS[k % len(SERIES_COLOURS)], edgecolor="white",
                    linewidth=0.5, label=_short(humanize(t), 28))
            left += v
        _end_labels(ax, y, left, [fmt_amount(v) for v in left], 1.18)
        ax.set_yticks(y, labels)
        ax.set_ylim(S - 0.5, -0.5)
        ax.xaxis.set_major_formatter(amount)
        ax.set_xlabel("Loss" + (f" ({units})" if units else ""))
        ax.set_title("Losses by creditor type")
        ax.grid(axis="x", color="#e6eaee", linewidth=0.8)
        ax.set_axisbelow(True)
        if T:
            fig.legend(loc="outside lower center", ncols=min(T, 3))
        out["losses-by-creditor-type"] = ("Losses of creditors on their claims in each scenario, by creditor type "
                                          "(creditors outside the network in one colour); the label gives the "
                                          "total.", fig)
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


#: colours of borrower types and of institutions in the timeline charts (qualitative, print friendly)
SERIES_COLOURS = ("#1f5a85", "#c8a951", "#2a7f8e", "#b03a2e", "#6a4c93", "#3e8e41", "#d98c5f", "#7d8b99",
                  "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def _panel_title(name: str) -> str:
    """A scenario name as the title of one of three panels side by side: wrapped at hyphens and spaces, two lines
    at most."""
    import textwrap

    return "\n".join(textwrap.wrap(str(name), 22, break_on_hyphens=True, max_lines=2, placeholder="\u2026"))


def _panels(S: int, height: float) -> tuple[Any, list]:
    """A figure with one panel per scenario (at most 3 a row), sharing the y axis."""
    from matplotlib.figure import Figure

    cols = min(S, 3)
    rows = -(-S // cols)
    fig = Figure(figsize=(7.2, height * rows + (0.5 if S > 1 else 0.0)), layout="constrained")
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel().tolist()
    for ax in axes[S:]:
        ax.set_visible(False)
    return fig, axes[:S]


def _timeline_figures(report: "Report") -> dict[str, tuple[str, Any]]:
    """The charts of the timeline section (a report over a horizon): defaults by year, the maturity wall, the
    cash of the institutions that fail."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from ..formatting import humanize
    from .timeline import MAX_FAILING_LINES

    names = [_short(n) for n in report.names]
    colours = [SCENARIO_COLOURS[s % len(SCENARIO_COLOURS)] for s in range(len(names))]
    S = len(names)
    units = report._units()
    amount = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.2g}")
    out: dict[str, tuple[str, Any]] = {}
    with matplotlib.rc_context(_CHART_RC):
        # 1. institutions in default by year (the new ones darker)
        total, new = report.defaults_by_year(), report.new_defaults_by_year()
        years = list(total.index)
        fig = Figure(figsize=(7.2, 3.0), layout="constrained")
        ax = fig.add_subplot()
        x = np.arange(len(years))
        width = 0.8 / S
        for s in range(S):
            pos = x - 0.4 + width * (s + 0.5)
            earlier = total.iloc[:, s].to_numpy() - new.iloc[:, s].to_numpy()
            ax.bar(pos, earlier, width, color=colours[s], alpha=0.4, linewidth=0)
            ax.bar(pos, new.iloc[:, s].to_numpy(), width, bottom=earlier, color=colours[s], label=names[s])
        ax.set_xticks(x, [str(y) for y in years])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, max(1, int(total.to_numpy().max())) * 1.1)
        ax.set_ylabel("Institutions in default")
        ax.set_title("Defaults by year")
        ax.grid(axis="y", color="#e6eaee", linewidth=0.8)
        ax.set_axisbelow(True)
        handles = [_proxy_patch(colours[s]) for s in range(S)] + [Patch(color="#7d8b99", alpha=0.4)]
        labels = (names if S > 1 else ["Defaulted that year"]) + [
            "Lighter: in default since an earlier year" if S > 1 else "In default since an earlier year"]
        fig.legend(handles, labels, loc="outside lower center", ncols=min(S + 1, 3))
        out["defaults-by-year"] = ("Institutions in default at the end of each year of the path (a default is "
                                   "absorbing); the solid part of each bar defaulted that year.", fig)

        # 2. the maturity wall: principal due per year by borrower type, called (solid) and rolled (hatched)
        wall = report.maturity_wall()
        types = list(dict.fromkeys(wall["borrower_type"]))
        tcol = {t: SERIES_COLOURS[k % len(SERIES_COLOURS)] for k, t in enumerate(types)}
        fig, axes = _panels(S, 2.9)
        for s, ax in enumerate(axes):
            w = wall[wall["scenario"] == report.names[s]]
            bottom = np.zeros(len(years))
            for what, style in (("called", {}), ("rolled", {"hatch": "////", "alpha": 0.6})):
                for t in types:
                    v = w[w["borrower_type"] == t].set_index("year")[what].reindex(years, fill_value=0.0).to_numpy()
                    if v.any():
                        ax.bar(x, v, 0.7, bottom=bottom, color=tcol[t], edgecolor="white", linewidth=0.4, **style)
                        bottom = bottom + v
            ax.set_xticks(x, [str(y) for y in years], fontsize=8 if S > 1 else None)
            ax.yaxis.set_major_formatter(amount)
            ax.grid(axis="y", color="#e6eaee", linewidth=0.8)
            ax.set_axisbelow(True)
            if S > 1:
                ax.set_title(_panel_title(report.names[s]), fontsize=9)
            if not types:
                ax.text(0.5, 0.5, "No principal falls due", ha="center", va="center", transform=ax.transAxes,
                        color="#52606d")
        axes[0].set_ylabel("Principal due" + (f" ({units})" if units else ""))
        fig.suptitle("Maturity wall: principal due by borrower type", x=0.01, ha="left", fontsize=11,
                     fontweight="bold", color="#0f2a44")
        handles = [Patch(color=tcol[t]) for t in types] + [Patch(facecolor="white", edgecolor="#52606d",
                                                                 hatch="////")]
        fig.legend(handles, [_short(humanize(t), 24) for t in types] + ["hatched: rolled over"],
                   loc="outside lower center", ncols=min(len(types) + 1, 4))
        out["maturity-wall"] = ("Principal falling due in each year of the path by type of borrower: called "
                                "(repaid, or owed by a borrower that cannot pay; solid) and rolled over by the "
                                "lender (hatched). Principal accelerated by a default is not included.", fig)

        # 3. cash carried out of each year by the institutions that fail
        cash = report.failing_cash(MAX_FAILING_LINES)
        fig, axes = _panels(S, 2.9)
        for s, ax in enumerate(axes):
            c = cash[cash["scenario"] == report.names[s]]
            who = list(dict.fromkeys(c["name"]))
            for k, nm in enumerate(who):
                line = c[c["name"] == nm]
                col = SERIES_COLOURS[k % len(SERIES_COLOURS)]
                ax.plot(x, line["cash"].to_numpy(), marker="o", markersize=3.5, color=col, linewidth=1.6,
                        label=_short(nm, 28))
                dy = int(line["default_year"].iloc[0])
                ax.plot([years.index(dy)], [float(line.loc[line["year"] == dy, "cash"].iloc[0])], marker="X",
                        markersize=9, color="#a50f15", linestyle="none")
            if not who:
                ax.text(0.5, 0.5, "No institution defaults", ha="center", va="center", transform=ax.transAxes,
                        color="#52606d")
            ax.set_xticks(x, [str(y) for y in years], fontsize=8 if S > 1 else None)
            ax.yaxis.set_major_formatter(amount)
            ax.grid(axis="y", color="#e6eaee", linewidth=0.8)
            ax.set_axisbelow(True)
            if S > 1:
                ax.set_title(_panel_title(report.names[s]), fontsize=9)
            if who:
                ax.legend(loc="best", fontsize=8)
        axes[0].set_ylabel("Cash carried forward" + (f" ({units})" if units else ""))
        fig.suptitle("Cash of the institutions that fail", x=0.01, ha="left", fontsize=11, fontweight="bold",
                     color="#0f2a44")
        out["cash-of-failing"] = ("Cash each institution that defaults on the path carries out of each year (what "
                                  f"it holds after paying, when positive; 0 once it cannot pay); the red cross marks "
                                  f"its default year. At most {MAX_FAILING_LINES} per scenario, the largest "
                                  "obligations first.", fig)
    return out
