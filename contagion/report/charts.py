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
SCENARIO_COLOURS = ("#0f2a44", "#c8a951", "#2a7f8e", "#b03a2e", "#7d8b99", "#6a4c93", "#3e8e41", "#d98c5f")


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


def _figures(report: "Report") -> dict[str, tuple[str, Any]]:
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
        fig.legend(handles, [_short(t, 24) for t in types] + ["hatched: rolled over"], loc="outside lower center",
                   ncols=min(len(types) + 1, 4))
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
