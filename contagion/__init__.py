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

from importlib import import_module as _import_module
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING, Any as _Any

__version__ = "0.1.0"

from .errors import ContagionError, ConvergenceError, InvalidNetworkError, ScenarioError

# Public names resolved on first use (PEP 562), so that ``import contagion``
# loads neither numpy-heavy nor optional packages (pandas, scipy, numba, pyvis,
# jinja2, matplotlib, ...) until a name that needs them is touched; the command
# line's ``--help`` and ``datasets`` depend on it (tests/test_startup.py).
_LAZY = {
    "FinancialNetwork": ("contagion.network", "FinancialNetwork"),
    "clear": ("contagion.clearing", "clear"),
    "clear_many": ("contagion.clearing", "clear_many"),
    "CLEARING_METHODS": ("contagion.clearing", "CLEARING_METHODS"),
    "ClearingResult": ("contagion.clearing", "ClearingResult"),
    "BatchClearingResult": ("contagion.clearing", "BatchClearingResult"),
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
    "stress": ("contagion.pipeline", "stress"),
    "StressResult": ("contagion.pipeline", "StressResult"),
    "clear_path": ("contagion.paths", "clear_path"),
    "PathResult": ("contagion.paths", "PathResult"),
    "reconstruct": ("contagion.reconstruct", "_module"),  # the module, callable as reconstruct()
    "sensitivity": ("contagion.sensitivity", "_module"),  # the module, callable as sensitivity()
}

__all__ = [
    "__version__",
    "ContagionError",
    "InvalidNetworkError",
    "ScenarioError",
    "ConvergenceError",
    *_LAZY,
]


if TYPE_CHECKING:  # for type checkers and editors; never run
    from .clearing import CLEARING_METHODS, BatchClearingResult, ClearingResult, clear, clear_many
    from .datasets import list_datasets, load_dataset
    from .io import read_network, write_network
    from .network import FinancialNetwork
    from .paths import PathResult, clear_path
    from .pipeline import StressResult, stress
    from .shocks import Scenario, Shock, apply, find_scenario, list_scenarios, load_scenario


def __getattr__(name: str) -> _Any:
    """Import the module behind a public name on first use and cache the name here."""
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'contagion' has no attribute {name!r}") from None
    try:
        target = _import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # a dependency of that module is missing: say so as it is
            raise
        raise AttributeError(f"module 'contagion' has no attribute {name!r} ({module} is not available)") from exc
    value = getattr(target, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """What ``dir(contagion)`` and tab completion show: the public API (``__all__``), the submodules imported so
    far, and the module's dunders; not the helpers this file imports for itself (``TYPE_CHECKING`` ...)."""
    here = globals()
    modules = {name for name, value in here.items() if isinstance(value, _ModuleType) and not name.startswith("_")}
    dunders = {name for name in here if name.startswith("__") and name.endswith("__")}
    return sorted(set(__all__) | modules | dunders)
