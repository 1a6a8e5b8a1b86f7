"""Small text helpers shared by the commands: amounts in tables, a network's label, the run record columns.

No heavy imports here, so that any command may use them without loading the solvers.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["INSTITUTION_COLUMNS", "fmt_amount", "network_label"]

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


def network_label(net) -> str:
    """Dataset name, else source path, else ``"network"``."""
    meta = net.metadata or {}
    return str(meta.get("dataset") or meta.get("source") or "network")
