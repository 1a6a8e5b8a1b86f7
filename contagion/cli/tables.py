"""Tables that fit the terminal without hiding a number.

Numbers are never cut. When a table is wider than the terminal, text columns
(names, types) are shortened first, with an ellipsis in the middle so that both
ends of a name stay readable, down to a floor; then whole columns are dropped,
lowest priority first, and a note under the table says which and how to see
them (a wider terminal or ``-f csv``). Headers wrap at spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

__all__ = ["Col", "fit", "fitted_table", "middle_ellipsis", "table_width"]

#: width of the frame rich draws: a border and padding per column, one border at the end
_PER_COLUMN = 3
_EDGE = 1


@dataclass(frozen=True)
class Col:
    """A column: header, justification, priority (0 = kept longest), and whether its text may be shortened."""

    header: str
    justify: str = "right"
    priority: int = 0
    shrink: bool = False
    floor: int = 12


def table_width(color: bool) -> int:
    """The width tables are fitted to: the terminal's when writing to one (as :func:`.options.render` draws),
    else 200 (files and pipes: nothing is hidden in practice)."""
    import shutil

    return shutil.get_terminal_size((120, 24)).columns if color else 200


def middle_ellipsis(text: str, width: int) -> str:
    """Shorten ``text`` to ``width`` characters with an ellipsis in the middle.

    >>> middle_ellipsis("Vantage Frontier & Port Washington", 20)
    'Vantage Fr…ashington'
    >>> middle_ellipsis("OpenAI", 20)
    'OpenAI'
    """
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    keep = width - 1
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head] + "…" + (text[len(text) - tail:] if tail else "")


def _header_width(header: str) -> int:
    return max((len(w) for w in header.split()), default=0)


def fit(cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int) -> tuple[list[int], list[int], list[str]]:
    """Choose the columns to show and their widths: ``(kept column positions, widths, hidden headers)``.

    >>> cols = [Col("name", "left", 0, shrink=True, floor=6), Col("amount", "right", 1), Col("note", "left", 2)]
    >>> fit(cols, [["Alphabet Inc.", "1,234.50", "x"]], 40)
    ([0, 1, 2], [13, 8, 4], [])
    >>> fit(cols, [["Alphabet Inc.", "1,234.50", "x"]], 30)   # the name shortened to 8
    ([0, 1, 2], [8, 8, 4], [])
    >>> fit(cols, [["Alphabet Inc.", "1,234.50", "x"]], 22)   # the note dropped, the number kept whole
    ([0, 1], [7, 8], ['note'])
    """
    cells = [max([len(str(r[k])) for r in rows] + [0]) for k in range(len(cols))]
    natural = [max(len(c.header), cells[k]) for k, c in enumerate(cols)]
    minimal = [max(_header_width(c.header), min(natural[k], c.floor) if c.shrink else natural[k])
               for k, c in enumerate(cols)]
    kept = list(range(len(cols)))
    hidden: list[str] = []
    while True:
        # 1. headers wrap at spaces, all to the fewest lines that fit (text columns counted at their floor:
        # step 2 shortens them), then back to one line where the width allows, cheapest first
        for lines in range(1, max([len(cols[k].header.split()) for k in kept] + [1]) + 1):
            widths = {k: max(cells[k], _wrap_width(cols[k].header, lines)) for k in kept}
            floor = {k: max(minimal[k], _wrap_width(cols[k].header, lines)) for k in kept}
            total = sum(widths.values()) + _PER_COLUMN * len(kept) + _EDGE
            if total - sum(max(0, widths[k] - floor[k]) for k in kept if cols[k].shrink) <= width:
                break
        if total <= width:
            for k in sorted(kept, key=lambda j: (natural[j] - widths[j], j)):
                if total + natural[k] - widths[k] <= width:
                    total += natural[k] - widths[k]
                    widths[k] = natural[k]
        # 2. text columns shortened, widest first, down to their floor
        shrinkable = [k for k in kept if cols[k].shrink]
        while total > width and shrinkable:
            k = max(shrinkable, key=lambda j: widths[j] - floor[j])
            if widths[k] <= floor[k]:
                break
            step = min(widths[k] - floor[k], total - width)
            widths[k] -= step
            total -= step
        if total <= width or len(kept) == 1:
            return kept, [widths[k] for k in kept], hidden
        # 3. drop the lowest-priority column (the last of equals)
        drop = max(kept, key=lambda k: (cols[k].priority, k))
        if cols[drop].priority == 0:
            return kept, [widths[k] for k in kept], hidden
        kept.remove(drop)
        hidden.append(cols[drop].header)


def _wrap_width(header: str, lines: int) -> int:
    """The narrowest width at which ``header`` wraps at spaces into at most ``lines`` lines.

    >>> _wrap_width("change at low end", 1), _wrap_width("change at low end", 2), _wrap_width("change at low end", 9)
    (17, 9, 6)
    """
    for w in range(_header_width(header), len(header) + 1):
        if _wrap(header, w).count("\n") < lines:
            return w
    return len(header)


def _wrap(header: str, width: int) -> str:
    """A header broken at spaces into lines of at most ``width`` characters (a word is never cut)."""
    lines: list[str] = []
    for word in header.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def fitted_table(cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int, *, title: str | None = None,
                 styles: Sequence[str | None] | None = None, formats: str = "-f csv / -f json", **table_kw: Any):
    """A ``rich.table.Table`` of ``rows`` fitted to ``width`` (see :func:`fit`) and the note on hidden columns
    (``formats``: the command's other formats, which show every column)."""
    from rich.table import Table

    kept, widths, hidden = fit(cols, rows, width)
    table = Table(title=title, title_justify="left", **table_kw)
    for k, w in zip(kept, widths):
        c = cols[k]
        table.add_column(_wrap(c.header, w), justify=c.justify, width=w, no_wrap=True,
                         overflow="ellipsis" if c.shrink else "fold")
    for i, row in enumerate(rows):
        cells = [middle_ellipsis(str(row[k]), w) if cols[k].shrink else str(row[k]) for k, w in zip(kept, widths)]
        table.add_row(*cells, style=styles[i] if styles else None)
    note = (f"{len(hidden)} column{'s' if len(hidden) > 1 else ''} hidden to fit {width} columns: "
            f"{', '.join(hidden)} (widen the terminal, or use {formats})") if hidden else ""
    return table, note
