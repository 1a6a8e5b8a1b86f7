"""Codes in words, for what a reader sees (legends, tables): ``ai_lab`` -> "AI lab"; and names that are nearly
another (a column or key misspelt).

A module of its own, below :mod:`contagion.formatting` and :mod:`contagion.templates` (the templates' ``words``
filter), so that neither imports the other.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ACRONYMS", "humanize", "folded", "one_letter_off"]

#: Words of a lower-case code written as acronyms by :func:`humanize` (``ai_lab`` -> ``AI lab``).
ACRONYMS = frozenset({"ai", "spv", "spvs", "gpu", "gpus", "llc", "lp", "abs", "clo", "clos", "cdo", "mbs", "ltv",
                      "pbc", "hpc", "bdc", "bdcs", "reit", "reits", "etf", "etfs", "ipo", "cmbs"})


def humanize(code: Any) -> str:
    """A column name or code in words: ``compute_purchase_contract`` -> ``Compute purchase contract``.

    A code written in lower case has its known acronyms (:data:`ACRONYMS`) in capitals; text with capitals
    of its own keeps them.

    >>> humanize("compute_purchase_contract"), humanize("GPU-backed loan"), humanize("")
    ('Compute purchase contract', 'GPU-backed loan', '')
    >>> humanize("ai_lab"), humanize("data_center_spv"), humanize("sovereign/investor")
    ('AI lab', 'Data center SPV', 'Sovereign/investor')
    """
    text = re.sub(r"_+", " ", str(code)).strip()
    if text == text.lower():
        text = re.sub(r"[a-z]+", lambda m: m.group(0).upper() if m.group(0) in ACRONYMS else m.group(0), text)
    return text[:1].upper() + text[1:]


def folded(name: Any) -> str:
    """A name without case, spaces, ``_``, ``-`` or ``.``: ``External_Assets`` -> ``externalassets``."""
    return re.sub(r"[\s_\-.]+", "", str(name)).casefold()


def one_letter_off(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one letter inserted, deleted or replaced, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    k = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[k:] == long_[k + 1:]
