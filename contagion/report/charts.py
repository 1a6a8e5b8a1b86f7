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
