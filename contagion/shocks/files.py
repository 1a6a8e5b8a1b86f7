"""Reading scenario (and sweep-configuration) files: TOML, YAML or JSON text to a :class:`Scenario`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from ..errors import ScenarioError
from ._common import SCENARIO_SUFFIXES
from .model import Scenario


def _read_toml(text: str) -> Any:
    import tomllib

    return tomllib.loads(text)


def _read_yaml(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def _read_json(text: str) -> Any:
    return json.loads(text)


#: suffix -> parser of the text
_PARSERS: dict[str, Callable[[str], Any]] = {".toml": _read_toml, ".yaml": _read_yaml, ".yml": _read_yaml,
                                             ".json": _read_json}


def _parse_error_line(exc: Exception) -> str:
    """A one-line description of a TOML/YAML/JSON syntax error, with line and column."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:  # PyYAML
        problem = getattr(exc, "problem", None) or str(exc)
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    return " ".join(str(exc).split())


def parse_scenario(text: str, format: str = "toml", *, name: str | None = None,
                   source: str | None = None) -> Scenario:
    """Parse scenario text (``format``: ``"toml"``, ``"yaml"`` or ``"json"``).

    >>> s = parse_scenario('description = "x"\\n[[shocks]]\\nkind = "default"\\ntarget = "A"\\n', name="a-fails")
    >>> s.name, s.shocks[0].kind
    ('a-fails', 'default')
    """
    suffix = "." + format.lower().lstrip(".")
    if suffix not in _PARSERS:
        raise ScenarioError(f"unknown scenario format {format!r}; use toml, yaml or json")
    return Scenario.from_dict(parse_config_text(text, suffix, source=source), name=name, source=source)


def parse_config_text(text: str, suffix: str, *, source: str | None = None) -> Any:
    """Parse TOML, YAML or JSON text (``suffix`` ``.toml``, ``.yaml``/``.yml``, ``.json``) into plain data.

    Shared by scenario files and sweep configurations. A syntax error becomes a
    :class:`ScenarioError` naming ``source`` and the line and column; an empty
    document gives ``{}``.
    """
    try:
        data = _PARSERS[suffix](text)
    except Exception as exc:  # tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError
        import yaml

        if isinstance(exc, (ValueError, yaml.YAMLError)):
            prefix = f"{source}: " if source else ""
            raise ScenarioError(f"{prefix}invalid {suffix[1:].upper()}: {_parse_error_line(exc)}") from None
        raise
    return {} if data is None else data


def read_config_text(path: Path, what: str) -> str:
    """Text of a configuration file, with a :class:`ScenarioError` naming ``what`` when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a {what}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


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
        raise ScenarioError(f"{path}: unknown scenario file suffix {path.suffix!r}; "
                            f"use one of {', '.join(SCENARIO_SUFFIXES)}")
    text = read_config_text(path, "scenario file")
    return parse_scenario(text, suffix, name=path.stem, source=str(path))
