"""Reading scenario (and sweep-configuration) files: TOML, YAML or JSON text to a :class:`Scenario`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ScenarioError, shown
from ._common import SCENARIO_SUFFIXES
from .model import Scenario


#: suffix -> format name (the parsers live in :mod:`contagion.io.text`, shared with dataset.toml and JSON files)
_PARSERS: dict[str, str] = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}


def parse_scenario(text: str, format: str = "toml", *, name: str | None = None,
                   source: str | None = None) -> Scenario:
    """Parse scenario text (``format``: ``"toml"``, ``"yaml"`` or ``"json"``).

    >>> s = parse_scenario('description = "x"\\n[[shocks]]\\nkind = "default"\\ntarget = "A"\\n', name="a-fails")
    >>> s.name, s.shocks[0].kind
    ('a-fails', 'default')
    """
    suffix = "." + format.lower().lstrip(".")
    if suffix not in _PARSERS:
        raise ScenarioError(f"unknown scenario format {shown(format)}; use toml, yaml or json")
    data = parse_config_text(text, suffix, source=source)
    if looks_like_sweep(data):
        where = source or "this file"
        raise ScenarioError(f"{where}: a sweep configuration (random losses: correlation, levels, distributions), "
                            f"not a scenario; run it with `contagion sweep -c {where}`")
    return Scenario.from_dict(data, name=name, source=source)


def looks_like_sweep(data: Any) -> bool:
    """Whether parsed data has what only a sweep configuration has (``correlation``, ``levels``, ``bins``, a shock
    with a ``distribution``): never a valid scenario.

    >>> looks_like_sweep({"shocks": [{"target": "A", "distribution": "beta", "a": 2, "b": 5}]})
    True
    >>> looks_like_sweep({"shocks": [{"kind": "default", "target": "A"}]})
    False
    """
    if not isinstance(data, dict):
        return False
    shocks = data.get("shocks")
    return bool({"correlation", "levels", "bins"} & set(data)) or (
        isinstance(shocks, list) and any(isinstance(x, dict) and "distribution" in x for x in shocks))


def parse_config_text(text: str, suffix: str, *, source: str | None = None) -> Any:
    """Parse TOML, YAML or JSON text (``suffix`` ``.toml``, ``.yaml``/``.yml``, ``.json``) into plain data.

    Shared by scenario files and sweep configurations. Every problem becomes a
    one-line :class:`ScenarioError` naming ``source`` and the line and column
    (syntax, a key given twice, nesting deeper than 100 levels, runaway YAML
    aliases) or the path of the value (a number too large for a float, a lone
    surrogate); see :mod:`contagion.io.text`. An empty document gives ``{}``.

    >>> parse_config_text("a: 1\\na: 2\\n", ".yaml", source="s.yaml")
    Traceback (most recent call last):
    ...
    contagion.errors.ScenarioError: s.yaml: invalid YAML: line 2, column 1: key 'a' appears more than once (first on line 1; YAML would keep the last one)
    """
    from ..io.text import parse_data

    data = parse_data(text, suffix, source=source, error=ScenarioError)
    return {} if data is None else data


def read_config_text(path: Path, what: str) -> str:
    """Text of a configuration file, with a :class:`ScenarioError` naming ``what`` when it cannot be read."""
    from ..io.text import read_text

    return read_text(path, what, error=ScenarioError)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (.toml, .yaml, .yml or .json); the name defaults to the file stem.

    Raises
    ------
    ScenarioError
        Missing file, unknown suffix, syntax error (with line and column), or
        every schema problem with its path (``problems``).

    Examples
    --------
    >>> from contagion.datasets import dataset_path
    >>> scen = load_scenario(dataset_path("core-periphery") / "scenarios" / "core-shock.toml")
    >>> scen.name, scen.shocks[0].absolute
    ('core-shock', 94.0)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _PARSERS:
        raise ScenarioError(f"{path}: unknown scenario file suffix {shown(path.suffix)}; "
                            f"use one of {', '.join(SCENARIO_SUFFIXES)}")
    text = read_config_text(path, "scenario file")
    if not text.strip():     # an empty file is a mistake, not a scenario without shocks (write shocks = [])
        raise ScenarioError(f"{path}: the scenario file is empty (a scenario without shocks says shocks = [], or "
                            f"\"shocks\": [] in JSON)")
    return parse_scenario(text, suffix, name=path.stem, source=str(path))
