"""Words for the edge tooltips of a view: the columns of ``edges.csv`` as an analyst reads them.

An edge table carries the columns of DESIGN §4, §7 and §8 (``kind``, ``term_years``, ``principal``, ``rate``,
``maturity``, ``rollover``, ``seniority``, ``covers`` ...) and whatever a dataset adds (the built-in
``ai-infrastructure`` adds ``commitment``, ``nominal_usd_bn``, ``annual_rule``, ``reported``, ``source`` ...).
:data:`EDGE_COLUMNS` says, for each column it knows, the label shown and how a value is written: amounts with
the network's units, rates and loan-to-values as percentages, years as years, codes such as
``commitment = up_to`` in words ("up to: a ceiling, not a firm amount"), flags only when they say something
(``contingent`` when true, ``included`` when false). Known columns come first, in the order of the table below
(what binds, the amounts and terms, the debt rules, how the yearly amount is set, where it comes from); other
columns follow in the edge table's order, their names written in words (``my_column`` -> "My column"). At
most :data:`MAX_ROWS` rows are shown (always with the edge id), then one row says how many more the edge table
has.

The labels and values are plain text: the page sets them with ``textContent`` (never as HTML), so nothing here
needs escaping and nothing in a value can run.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..formatting import fmt_amount, humanize
from .style import truncate

__all__ = ["EDGE_COLUMNS", "MAX_ROWS", "SKIP_EDGE_COLUMNS", "humanize", "edge_attribute_rows", "amount_text", "others"]

Rows = list[list[str]]

#: columns the tooltip shows in its own rows (names, kind, amounts, payments) or that say where the row sits
SKIP_EDGE_COLUMNS = {"debtor", "creditor", "amount", "kind", "start", "end"}
#: attribute rows shown at most per edge (then "... more columns in the edge table")
MAX_ROWS = 12
#: longest text of a value (sources and notes are cut with an ellipsis; the edge table has them whole)
MAX_CHARS = 120

#: ``commitment`` codes in words
COMMITMENT_WORDS = {
    "binding": "binding",
    "up_to": "up to: a ceiling, not a firm amount",
    "in_talks": "in talks: not signed",
    "non_binding": "non-binding (e.g. a letter of intent)",
    "plan": "a plan, not a contract",
    "estimate": "an estimate, not a disclosed figure",
    "funded": "funded already",
    "membership": "share of a syndicate",
    "contingent": "contingent on an event",
    "overlap": "may overlap another obligation",
}
AMORTIZATION_WORDS = {"bullet": "bullet: all principal at maturity",
                      "linear": "linear: equal principal each year to maturity"}
ROLLOVER_WORDS = {"none": "none: repaid at maturity",
                  "always": "always: re-lent at maturity",
                  "ltv": "if the collateral covers it (loan-to-value at most the maximum)"}
BASIS_WORDS = {"derived": "derived from reported figures", "assumption": "uses labelled assumptions",
               "excluded": "excluded"}


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, (float, np.floating)):
        return not math.isfinite(float(value))
    return isinstance(value, str) and not value.strip()


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _flag(value: Any) -> bool | None:
    """``True``/``False`` of a flag column (bools, 1/0, "true"/"yes"/...), ``None`` when it is neither."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "1.0", "y", "t"):
        return True
    if text in ("false", "no", "0", "0.0", "n", "f"):
        return False
    return None


def _plain(value: Any) -> str:
    """A cell as text; a whole float (a year or count read into a float column beside blanks) without ``.0``."""
    x = value if isinstance(value, (float, np.floating, int, np.integer)) else None
    if x is not None and float(x).is_integer():
        return str(int(x))
    return str(value)


def amount_text(x: float, units: str) -> str:
    """An amount with the network's units: ``60.00 USD bn`` (``60.00`` without units).

    >>> amount_text(60, "USD bn"), amount_text(1234.5, "")
    ('60.00 USD bn', '1,234.50')
    """
    return f"{fmt_amount(x)} {units}" if units else fmt_amount(x)


def _words(table: dict[str, str]) -> Callable[[Any, str], str | None]:
    def show(value: Any, units: str) -> str | None:
        key = str(value).strip()
        return table.get(key.lower(), humanize(key).lower() if key.islower() else key)
    return show


def _amount(value: Any, units: str) -> str | None:
    x = _number(value)
    return _plain(value) if x is None else amount_text(x, units)


def _usd_bn(value: Any, units: str) -> str | None:
    x = _number(value)
    return _plain(value) if x is None else amount_text(x, "USD bn")


def _share(per: str = "") -> Callable[[Any, str], str | None]:
    def show(value: Any, units: str) -> str | None:
        x = _number(value)
        if x is None:
            return _plain(value)
        text = f"{100 * x:.4g}%"
        return text + per
    return show


def _years(value: Any, units: str) -> str | None:
    x = _number(value)
    if x is None:
        return _plain(value)
    return f"{x:g} year" + ("" if x == 1 else "s")


def _when_true(label_true: str) -> Callable[[Any, str], str | None]:
    def show(value: Any, units: str) -> str | None:
        flag = _flag(value)
        return label_true if flag else (None if flag is False else _plain(value))
    return show


def _when_false(label_false: str) -> Callable[[Any, str], str | None]:
    def show(value: Any, units: str) -> str | None:
        flag = _flag(value)
        return label_false if flag is False else (None if flag else _plain(value))
    return show


def _seniority(value: Any, units: str) -> str | None:
    x = _number(value)
    if x is None:
        return _plain(value)
    return f"{x:g}" + (" (paid first)" if x == 1 else "")


def _list(value: Any, units: str) -> str | None:
    return ", ".join(p.strip() for p in re.split(r"[;,]", str(value)) if p.strip())


def _text(value: Any, units: str) -> str | None:
    return _plain(value)


def _source(value: Any, units: str) -> str | None:
    """A source without its ``<https://...>`` links (the edge table and the report keep them): the publication,
    date and key, e.g. ``The News (Pakistan), citing WSJ 2025-09-11 [S01] | TechRepublic 2025-09-11 [S02]``."""
    return re.sub(r"\s*<[a-z][a-z0-9+.-]*://[^>\s]*>", "", _plain(value), flags=re.IGNORECASE).strip() or None


#: column -> (label, how a value is written; ``None`` leaves the row out), in the order the tooltip shows them
EDGE_COLUMNS: dict[str, tuple[str, Callable[[Any, str], str | None]]] = {
    "commitment": ("Commitment", _words(COMMITMENT_WORDS)),
    "contingent": ("Contingent", _when_true("yes: not a binding figure")),
    "included": ("Counted in the clearing", _when_false("no")),
    "principal": ("Principal outstanding", _amount),
    "principal_usd_bn": ("Principal (reported)", _usd_bn),
    "nominal_usd_bn": ("Headline value", _usd_bn),
    "term_years": ("Term", _years),
    "rate": ("Interest rate", _share(" a year")),
    "maturity": ("Principal due (maturity)", _text),
    "amortization": ("Amortisation", _words(AMORTIZATION_WORDS)),
    "rollover": ("Rollover at maturity", _words(ROLLOVER_WORDS)),
    "max_ltv": ("Maximum loan-to-value", _share()),
    "collateral": ("Collateral", _text),
    "collateral_value": ("Collateral value", _amount),
    "seniority": ("Seniority", _seniority),
    "covers": ("Guarantees obligation", _text),
    "residual_value": ("Residual value guaranteed", _amount),
    "asset_value": ("Value of the asset", _amount),
    "refinancing_due_usd_bn": ("Refinancing due", _usd_bn),
    "security": ("Security", _text),
    "annual_rule": ("Yearly amount", _text),
    "amount_basis": ("Basis", _words(BASIS_WORDS)),
    "estimate": ("Estimate", _when_true("yes")),
    "assumptions": ("Assumptions used", _list),
    "reported": ("Reported", _text),
    "source": ("Source", _source),
    "edge_id": ("Edge id", _text),
    "notes": ("Notes", _text),
    "path_basis": ("Over the years", _text),
    "fact_row": ("Fact-sheet row", _text),
}
#: columns that often repeat one amount (a loan's headline value is its principal): the repeats are left out
SAME_AMOUNT = ("principal", "principal_usd_bn", "nominal_usd_bn")


def _dates(start: Any, end: Any) -> str | None:
    """The years a recurring amount falls due (DESIGN §7 ``start``/``end``; blank = every year)."""
    s, e = (None if _blank(v) else _plain(v) for v in (start, end))
    if s and e:
        return f"{s}\u2013{e}" if s != e else s
    if s:
        return f"from {s}"
    if e:
        return f"until {e}"
    return None


def edge_attribute_rows(edges: pd.DataFrame, rows: np.ndarray, units: str = "") -> list[Rows]:
    """``[label, text]`` rows of the edge table's other columns for each displayed edge (``rows[j]``: its row in
    ``edges``; -1 for an edge summed from several rows, which gets none).

    Known columns (:data:`EDGE_COLUMNS`) first and in words, with ``start``/``end`` as one "Falls due" row after
    the term; then other columns in table order; blank values are left out, and so is an amount of
    :data:`SAME_AMOUNT` that reads the same as one shown already; at most :data:`MAX_ROWS` rows, the last saying
    how many more the edge table has (the edge id, the key to the row in ``edges.csv``, is kept when rows are
    cut).
    """
    known = [c for c in EDGE_COLUMNS if c in edges.columns]
    other = [c for c in edges.columns if c not in EDGE_COLUMNS and c not in SKIP_EDGE_COLUMNS]
    dated = [c for c in ("start", "end") if c in edges.columns]
    out: list[Rows] = [[] for _ in range(len(rows))]
    have = np.flatnonzero(rows >= 0)
    if not len(have) or not (known or other or dated):
        return out
    table = edges.iloc[rows[have]]
    cols = {c: table[c].astype(object).to_numpy() for c in known + other + dated}
    order = list(EDGE_COLUMNS)
    after_term = order.index("term_years")
    for r, pos in enumerate(have):
        items: Rows = []
        amounts: set[str] = set()
        for k, c in enumerate(order):
            if c in cols and not _blank(cols[c][r]):
                label, show = EDGE_COLUMNS[c]
                text = show(cols[c][r], units)
                if c in SAME_AMOUNT:                 # the same amount as shown (to the cent) already: left out
                    if text in amounts:
                        continue
                    amounts.add(text)
                if text:
                    items.append([label, truncate(text, MAX_CHARS)])
            if k == after_term and dated:
                when = _dates(cols["start"][r] if "start" in cols else None, cols["end"][r] if "end" in cols else None)
                if when:
                    items.append(["Falls due", when])
        items += [[humanize(c), truncate(_plain(cols[c][r]), MAX_CHARS)] for c in other if not _blank(cols[c][r])]
        if len(items) > MAX_ROWS:                # cut, but keep the edge id: the key to the row in edges.csv
            key = [row for row in items[MAX_ROWS - 1:] if row[0] == EDGE_COLUMNS["edge_id"][0]]
            kept = items[: MAX_ROWS - 1 - len(key)] + key
            items = kept + [["More", f"{len(items) - len(kept)} more columns in the edge table"]]
        out[pos] = items
    return out


def others(code: Any, count: int, *, lines: bool = False) -> str:
    """The name of a group of institutions of one type shown as one node: ``Other AI lab (3)``, ``Other data
    center SPV (1)``; with ``lines``, the canvas label ``Other bank`` / ``2 institutions``."""
    text = humanize(code)
    first = text.split(" ", 1)[0]
    if not (len(first) > 1 and first.isupper()):      # an acronym keeps its capitals, a word is in the sentence
        text = text[:1].lower() + text[1:]
    if lines:
        return f"Other {text}\n{count:,} institution{'' if count == 1 else 's'}"
    return f"Other {text} ({count:,})"
