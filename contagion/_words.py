"""Codes in words, for what a reader sees (legends, tables): ``ai_lab`` -> "AI lab".

A module of its own, below :mod:`contagion.formatting` and :mod:`contagion.templates` (the templates' ``words``
filter), so that neither imports the other.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ACRONYMS", "humanize"]

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
