"""contagion -- financial contagion on networks of obligations.

Build a :class:`FinancialNetwork` (``L[i, j]`` = what ``i`` owes ``j``), apply
shock scenarios, clear it (Eisenberg--Noe, Rogers--Veraart), and see who
defaults, in which wave, and who bears the losses.

>>> import contagion
>>> net = contagion.load_dataset("core-periphery")
>>> res = contagion.clear(net)
>>> net.n, int(res.defaulted.sum())
(5, 0)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

from .errors import ContagionError, ConvergenceError, InvalidNetworkError, ScenarioError
from .network import FinancialNetwork
from .clearing import CLEARING_METHODS, BatchClearingResult, ClearingResult, clear, clear_many

# names resolved on first use, so that ``import contagion`` stays light
_LAZY = {
    "read_network": ("contagion.io", "read_network"),
    "write_network": ("contagion.io", "write_network"),
    "load_dataset": ("contagion.datasets", "load_dataset"),
    "list_datasets": ("contagion.datasets", "list_datasets"),
    "Shock": ("contagion.shocks", "Shock"),
    "Scenario": ("contagion.shocks", "Scenario"),
    "apply": ("contagion.shocks", "apply"),
    "load_scenario": ("contagion.shocks", "load_scenario"),
    "find_scenario": ("contagion.shocks", "find_scenario"),
    "list_scenarios": ("contagion.shocks", "list_scenarios"),
}

__all__ = [
    "__version__",
    "FinancialNetwork",
    "clear",
    "clear_many",
    "CLEARING_METHODS",
    "ClearingResult",
    "BatchClearingResult",
    "ContagionError",
    "InvalidNetworkError",
    "ScenarioError",
    "ConvergenceError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'contagion' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
