"""Small text helpers shared by the commands: amounts in tables, a network's label, the run record columns.

No heavy imports here, so that any command may use them without loading the solvers.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["INSTITUTION_COLUMNS", "fmt_amount", "network_label", "guarantee_summary", "note"]

#: Columns of the per-institution records (CSV header, JSON keys), in order.
INSTITUTION_COLUMNS = ("id", "name", "type", "obligations", "payment", "shortfall", "equity_pre_shock",
                       "equity_if_all_pay", "equity", "capital_depletion", "defaulted", "default_round")


def fmt_amount(x: Any) -> str:
    """Amounts for tables: two decimals with thousands separators; small non-zero values with 3 significant digits."""
    if x is None:
        return ""
    x = float(x)
    if not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0.00"
    if abs(x) < 0.005:
        return f"{x:.3g}"
    return f"{x:,.2f}"


def network_record(net, label: str) -> dict:
    """The ``network`` object of a command's JSON: name, size and the amounts' units (null when unknown)."""
    from ..datasets import dataset_units

    return {"name": label, "institutions": net.n, "obligations": net.n_edges,
            "units": dataset_units(net.metadata) or None}


def network_line(net, label: str | None = None) -> str:
    """``network: <label> (<n> institutions, <m> obligations)``, with the amounts' units when the data says them."""
    from ..datasets import dataset_units

    units = dataset_units(net.metadata)
    return (f"network: {network_label(net) if label is None else label} ({net.n} institutions, {net.n_edges} "
            f"obligations)" + (f"; amounts in {units}" if units else ""))


def network_label(net) -> str:
    """Dataset name, else source path, else ``"network"``."""
    meta = net.metadata or {}
    return str(meta.get("dataset") or meta.get("source") or "network")


SCENARIO_NOTE_LIMIT = 160


def note(text: str) -> None:
    """Write a note to stderr; in a terminal, wrapped at its width on word boundaries (later lines indented two
    spaces), so that a long note does not break in the middle of a word; anywhere else as one line."""
    import io
    import os
    import shutil
    import textwrap

    import click

    stream = click.get_text_stream("stderr")
    if stream.isatty() and "\n" not in text:
        width = 0
        if not os.environ.get("COLUMNS"):      # the terminal stderr writes to (stdout may be a file)
            try:
                width = os.get_terminal_size(stream.fileno()).columns
            except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
                pass
        width = width or shutil.get_terminal_size((80, 24)).columns
        if len(text) > width:
            text = "\n".join(textwrap.wrap(text, width=width, subsequent_indent="  ", break_on_hyphens=False,
                                            break_long_words=False))
    click.echo(text, err=True)


def scenario_line(role: str, name: str, description: str | None, limit: int = SCENARIO_NOTE_LIMIT) -> str:
    """``scenario 'NAME': description`` for stderr, the description cut to its first sentence and at most
    ``limit`` characters (at a word, with "…"); when cut, a pointer to the full text (``contagion scenarios``)."""
    line = f"{role} '{name}'"
    text = " ".join((description or "").split())
    if not text:
        return line
    first = text
    for end in (". ", "; "):
        at = first.find(end)
        if 0 < at < len(first) - 1:
            first = first[:at + 1].rstrip(";") + ("" if end == ". " else "…")
            break
    if len(first) > limit:
        cut = first[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:(")
        first = cut + "…"
    if first != text:
        first += " (full text: contagion scenarios)"
    return f"{line}: {first}"


def guarantee_summary(net: Any, res: Any, given: float | None = None) -> dict[str, float]:
    """``guarantees`` (caps given) and ``guarantees_called`` (owed in this clearing state) of the summary of a
    run or of a year of a path, when the cleared network ``net`` has guarantees (``res``: its clearing);
    ``given``: the caps in force when they are not ``net``'s (a year of a path: what is left of them)."""
    from ..clearing.priority import _has_kind, uses_priority
    from ..sponsors import GUARANTEE_KINDS

    if not uses_priority(net):  # decided (and remembered) when the network was cleared: no guarantees
        return {}
    edges = net.edges
    if "kind" not in edges.columns or not _has_kind(edges["kind"], GUARANTEE_KINDS, stripped=True):
        return {}  # (Arrow's byte equality: 0.02 s at 10^7 rows, where isin hashes every kind in 0.1 s)
    is_g = edges["kind"].isin(GUARANTEE_KINDS).to_numpy()  # kinds are stripped text (FinancialNetwork.from_edges)
    if not is_g.any():
        return {}
    called = res.network.edges["amount"].to_numpy()[is_g]
    caps = float(edges["amount"].to_numpy()[is_g].sum()) if given is None else float(given)
    return {"guarantees": caps, "guarantees_called": float(called.sum())}
