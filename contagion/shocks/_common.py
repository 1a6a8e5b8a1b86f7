"""Constants and small helpers shared by the modules of :mod:`contagion.shocks` (the lowest of them)."""

from __future__ import annotations

from typing import Any, Mapping

#: File suffixes read as scenarios, and the parser of each.
SCENARIO_SUFFIXES = (".toml", ".yaml", ".yml", ".json")

#: Keys a shock may carry (the union over kinds; each kind allows a subset).
SHOCK_KEYS = ("kind", "target", "select", "debtor", "creditor", "relative", "absolute", "value", "factor", "recovery",
              "year", "years")

Scalar = str | int | float | bool


def _plain(v: Any) -> Any:
    """Tuples -> lists, tuple-of-pairs selectors -> dicts (for to_dict and serialisers)."""
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, tuple) and v and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                                          for p in v):
        return {k: _plain(x) for k, x in v}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


#: shock kinds that are rules of a multi-year path, not changes to one network
PATH_KINDS = ("freeze", "collateral")
