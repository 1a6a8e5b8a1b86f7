"""Parameter specifications of the clearing methods: one source for the CLI options and the checks.

Each registered method lists the numeric parameters it takes
(:data:`METHOD_PARAMS`); ``contagion``'s command line builds ``--alpha``,
``--beta``, ``--recovery`` (and any parameter a registered method adds) from
these records, with their ranges, defaults and help.

>>> [p.name for p in METHOD_PARAMS["rogers-veraart"]]
['alpha', 'beta']
>>> METHOD_PARAMS["threshold"][0].interval
'[0, 1)'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ParamSpec", "METHOD_PARAMS"]


@dataclass(frozen=True)
class ParamSpec:
    """A numeric parameter of a clearing method: its name, default, range and meaning.

    ``low <= value <= high`` (``value < high`` when ``high_open``).
    """

    name: str
    default: float
    low: float
    high: float
    help: str
    high_open: bool = False

    @property
    def interval(self) -> str:
        """The range as text, e.g. ``"[0, 1]"``."""
        return f"[{self.low:g}, {self.high:g}" + (")" if self.high_open else "]")


#: method name -> its numeric parameters (methods without parameters map to ``()``)
METHOD_PARAMS: dict[str, tuple[ParamSpec, ...]] = {
    "eisenberg-noe": (),
    "rogers-veraart": (
        ParamSpec("alpha", 1.0, 0.0, 1.0,
                  "fraction of external assets recovered from a defaulting institution (1 = no default cost)"),
        ParamSpec("beta", 1.0, 0.0, 1.0, "fraction of interbank assets recovered"),
    ),
    "threshold": (
        ParamSpec("recovery", 0.0, 0.0, 1.0, "fraction of obligations a failed institution pays", high_open=True),
    ),
}
