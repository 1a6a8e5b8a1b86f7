"""The one pipeline: resolve scenarios, apply them, clear.

:func:`stress` is the only place in ``contagion`` that turns scenario names,
files or objects into :class:`~contagion.shocks.Scenario` objects, applies
them to a network and clears the result. ``contagion run``, ``view``,
``report``, ``rank``, ``reverse-stress`` and ``sweep`` all go through it, so
the same words on the command line and the same call in a notebook give the
same numbers.

>>> import contagion
>>> st = contagion.stress(contagion.load_dataset("core-periphery"))   # the dataset's default scenario
>>> st.label, st.default_applied, int(st.clearing.defaulted.sum())
('core-shock', True, 5)
>>> contagion.stress(contagion.load_dataset("core-periphery"), scenarios=()).label   # the network as it is
'No scenario'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .errors import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from .clearing.result import ClearingResult
    from .network import FinancialNetwork
    from .shocks import Scenario

__all__ = ["stress", "StressResult", "prepare", "resolve"]


@dataclass(frozen=True, eq=False)
class StressResult:
    """A network before and after its scenarios, the scenarios as applied, and the clearing (immutable).

    Attributes
    ----------
    base : FinancialNetwork
        The network before any scenario.
    network : FinancialNetwork
        The network after the scenarios (``base`` itself when there are none).
    scenarios : tuple of Scenario
        The scenarios applied, in order (resolved from names or files).
    clearing : ClearingResult
        The clearing of ``network``.
    default_applied : bool
        Whether ``scenarios`` is the dataset's default scenario, applied
        because none was asked for (``scenarios=None``).
    """

    base: "FinancialNetwork" = field(repr=False)
    network: "FinancialNetwork" = field(repr=False)
    scenarios: tuple["Scenario", ...]
    clearing: "ClearingResult" = field(repr=False)
    default_applied: bool = False

    @property
    def method(self) -> str:
        """The clearing method."""
        return self.clearing.method

    @property
    def params(self) -> Mapping[str, Any]:
        """The clearing method's parameters."""
        return self.clearing.params

    @property
    def label(self) -> str:
        """The scenario names joined by ``" + "``, or ``"No scenario"``."""
        return " + ".join(s.name for s in self.scenarios) if self.scenarios else "No scenario"

    @property
    def description(self) -> str:
        """The scenarios' descriptions, joined by a space."""
        return " ".join(s.description for s in self.scenarios if s.description)

    def to_frame(self):
        """Per-institution table of the clearing, with the equity before the scenario as the pre-shock
        reference (:meth:`ClearingResult.to_frame` with ``base``, counting guarantees at what they owe)."""
        from .clearing.handover import owed_network

        return self.clearing.to_frame(owed_network(self.base))

    def __repr__(self) -> str:
        return (f"StressResult(scenarios={self.label!r}, method={self.method!r}, n={self.network.n}, "
                f"defaults={int(self.clearing.defaulted.sum())})")


def resolve(net: "FinancialNetwork", scenarios: Iterable[Any] | Any | None = None, path: bool = False
            ) -> tuple[tuple["Scenario", ...], bool]:
    """Resolve scenario names, files, objects and bare shocks: ``(scenarios, default_applied)``.

    ``scenarios`` as for :func:`stress`; nothing is applied. Used by
    :func:`prepare` and by the multi-year engine, which applies each
    scenario's shocks in their years (:func:`contagion.clear_path`; ``path=True``:
    ``None`` means the dataset's default path scenario, see
    :func:`contagion.shocks.default_scenario_of`).

    >>> import contagion
    >>> scens, used_default = resolve(contagion.load_dataset("core-periphery"))
    >>> [s.name for s in scens], used_default
    (['core-shock'], True)
    """
    if (scenarios is None and not _may_name_default(net)) or (isinstance(scenarios, (tuple, list))
                                                              and not scenarios):
        return (), False  # nothing to resolve: shocks (0.2 s of pydantic models to import) is not needed
    from .shocks import Scenario, Shock, default_scenario_of, find_scenario

    if scenarios is None:
        default = default_scenario_of(net, path=path)
        return ((default,), True) if default is not None else ((), False)
    items = [scenarios] if isinstance(scenarios, (str, Path, Scenario, Shock)) else list(scenarios)
    out = []
    for k, item in enumerate(items):
        if isinstance(item, Shock):
            out.append(Scenario(f"shock {k + 1}", "", (item,)))
        elif isinstance(item, (str, Path, Scenario)):
            out.append(find_scenario(item, net))
        else:
            raise ScenarioError(f"scenario {k + 1}: expected a name, a file path, a Scenario or a Shock, "
                                f"got {type(item).__name__}")
    return tuple(out), False


def _may_name_default(net: "FinancialNetwork") -> bool:
    """Whether ``net`` may have a default scenario: read from a built-in dataset, or from a folder (or a file
    in a folder) holding a ``dataset.toml`` -- the places :func:`contagion.shocks.default_scenario_of` looks."""
    meta = net.metadata or {}
    if meta.get("dataset"):
        return True
    if not meta.get("source"):
        return False
    src = Path(str(meta["source"]))
    return ((src if src.is_dir() else src.parent) / "dataset.toml").is_file()


def prepare(net: "FinancialNetwork", scenarios: Iterable[Any] | Any | None = None
            ) -> tuple["FinancialNetwork", tuple["Scenario", ...], bool]:
    """Resolve and apply scenarios without clearing: ``(shocked network, scenarios, default_applied)``.

    ``scenarios`` as for :func:`stress`. Used by :func:`stress` and by the
    shock families of :mod:`contagion.measures`, which scale a scenario
    rather than clear it once.

    >>> import contagion
    >>> shocked, scens, used_default = prepare(contagion.load_dataset("chain"), ["a-fails"])
    >>> [s.name for s in scens], used_default, shocked.metadata["scenarios"]
    (['a-fails'], False, ['a-fails'])
    """
    resolved, used_default = resolve(net, scenarios)
    if not resolved:
        return net, resolved, used_default
    from .shocks import apply

    shocked = apply(net, list(resolved))
    return shocked, resolved, used_default


def stress(net: "FinancialNetwork", scenarios: Iterable[Any] | Any | None = None, method: str = "eisenberg-noe",
           **params: Any) -> StressResult:
    """Apply scenarios to a network, in order, and clear it.

    The clearing computes the default waves with the clearing vector (what every
    use of a stress result shows): on the compiled path Eisenberg--Noe runs the
    fictitious-default algorithm once rather than policy iteration and then the
    waves (:func:`contagion.clearing.solvers.waves_up_front`).

    Parameters
    ----------
    net : FinancialNetwork
        The network before the scenarios.
    scenarios : None, or a name, path, Scenario or Shock, or a sequence of them
        ``None`` (default): the dataset's default scenario when its
        ``dataset.toml`` names one (:func:`contagion.shocks.default_scenario_of`),
        else none; ``()``: none, the network as it is. A name is looked up
        among the network's scenarios, a path is read
        (:func:`contagion.shocks.find_scenario`); several compose in order.
    method : str
        A key of :data:`contagion.CLEARING_METHODS`.
    **params
        Passed to :func:`contagion.clear` (``alpha``, ``beta``, ``recovery``,
        ``solver``).

    Returns
    -------
    StressResult

    Raises
    ------
    ScenarioError
        An unknown scenario or one that cannot be applied.
    ContagionError
        An unknown method or parameter.

    Examples
    --------
    >>> import contagion
    >>> st = stress(contagion.load_dataset("chain"), ["a-fails"], method="rogers-veraart", alpha=0.5, beta=0.5)
    >>> st.label, st.base.forced_default.tolist(), st.network.forced_default.tolist()
    ('a-fails', [False, False, False], [True, False, False])
    >>> st.clearing.defaulted.tolist()
    [True, True, True]
    """
    from .clearing import clear
    from .clearing.solvers import waves_up_front

    shocked, resolved, used_default = prepare(net, scenarios)
    with waves_up_front():      # every use of a stress result reports the waves: compute them with the clearing
        result = clear(shocked, method=method, **params)
    return StressResult(base=net, network=shocked, scenarios=resolved, clearing=result, default_applied=used_default)
