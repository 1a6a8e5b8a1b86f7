"""The plain data: :class:`Shock` and :class:`Scenario` (frozen dataclasses), their TOML/YAML/JSON
text and their description in words."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ScenarioError, shown
from ._common import PATH_KINDS, SCENARIO_SUFFIXES, SHOCK_KEYS, _plain
from .validate import _raise, _validate_scenario, _validate_shock


@dataclass(frozen=True)
class Shock:
    """One shock (plain data; validated on construction).

    Parameters
    ----------
    kind : str
        A key of :data:`SHOCK_KINDS`: ``"external_assets"``,
        ``"external_liabilities"``, ``"default"`` or ``"edges"``.
    target : str or sequence of str, optional
        Institutions by name or id (node kinds).
    select : mapping, optional
        Attribute filter ``{column: value or list of values}``; all keys must
        match. Over ``net.nodes`` for node kinds, over ``net.edges`` for ``edges``.
    debtor, creditor : str or sequence of str, optional
        Obligations by debtor / creditor name or id (``edges`` only).
    relative, absolute, value, factor, recovery : float, optional
        The amount; which ones a kind accepts is listed in the module docstring.
    year, years : int or sequence of int, optional
        On a multi-year path (:func:`contagion.clear_path`), the year or years
        the shock applies in (none: every year; for ``freeze``, the first
        year of the freeze). A one-year clearing skips dated shocks, with a
        warning.

    Lists are stored as tuples and ``select`` as a tuple of ``(column, value)``
    pairs, so a shock is hashable; :meth:`to_dict` gives the plain mapping back.

    Raises
    ------
    ScenarioError
        Listing every problem (unknown kind or key, out-of-range amount, ...).

    Examples
    --------
    >>> s = Shock("external_assets", select={"type": "neocloud"}, relative=0.3)
    >>> s.to_dict()
    {'kind': 'external_assets', 'select': {'type': 'neocloud'}, 'relative': 0.3}
    >>> Shock("external_assets", target="A", relative=1.5)
    Traceback (most recent call last):
    ...
    contagion.errors.ScenarioError: relative: must be <= 1
    """

    kind: str
    target: str | tuple[str, ...] | None = None
    select: Any = None
    debtor: str | tuple[str, ...] | None = None
    creditor: str | tuple[str, ...] | None = None
    relative: float | None = None
    absolute: float | None = None
    value: float | None = None
    factor: float | None = None
    recovery: float | None = None
    year: int | None = None
    years: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        raw = self._raw()
        model = _validate_shock(raw)
        for key in SHOCK_KEYS[1:]:
            object.__setattr__(self, key, getattr(model, key, None))

    def _raw(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in SHOCK_KEYS:
            v = getattr(self, key)
            if v is not None:
                out[key] = _plain(v)
        return out

    @property
    def dated(self) -> bool:
        """Whether the shock applies in some years only (``year`` or ``years``): one year's payment on a path,
        where an undated one changes the network (or an obligation) every year."""
        return self.year is not None or self.years is not None

    @property
    def path_only(self) -> bool:
        """Whether only a multi-year path applies it: dated, or a path rule (``freeze``, ``collateral``); a
        one-year clearing skips it."""
        return self.dated or self.kind in PATH_KINDS

    @property
    def selector(self) -> dict[str, Any]:
        """``select`` as a plain dict (empty when there is none)."""
        return dict(_plain(self.select)) if self.select else {}

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping with the keys that are set (lists as lists); inverse of ``Shock(**d)``."""
        return self._raw()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Shock":
        """Build from a mapping as found in a scenario file."""
        if not isinstance(data, Mapping):
            raise ScenarioError(f"a shock must be a table (mapping), got {type(data).__name__}")
        model = _validate_shock(dict(data))  # raises with every problem located
        return cls(**model.model_dump(exclude_none=True))

    def describe(self) -> str:
        """One line in words, e.g. ``external_assets of Core: -94``."""
        return _describe(self)


@dataclass(frozen=True)
class Scenario:
    """A named, described, ordered list of shocks (plain data).

    Parameters
    ----------
    name : str
    description : str
        Why this scenario, tied to the facts.
    shocks : sequence of Shock
        Applied in order by :func:`apply`.

    Examples
    --------
    >>> scen = Scenario("core-shock", "Core loses 94", [Shock("external_assets", target="C", absolute=94)])
    >>> print(scen.to_toml(), end="")
    name = "core-shock"
    description = "Core loses 94"
    <BLANKLINE>
    [[shocks]]
    kind = "external_assets"
    target = "C"
    absolute = 94.0
    >>> Scenario.from_dict(scen.to_dict()) == scen
    True
    """

    name: str
    description: str = ""
    shocks: tuple[Shock, ...] = field(default_factory=tuple)
    #: the file it was read from when a user gave its path (named in messages); not part of the data
    source: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ScenarioError(f"name: must be non-empty text, got {shown(self.name)}")
        if not isinstance(self.description, str):
            raise ScenarioError(f"description: must be text, got {shown(self.description)}")
        if isinstance(self.shocks, (Shock, Mapping, str)):
            raise ScenarioError("shocks: must be a list of Shock objects")
        shocks = tuple(self.shocks)
        bad = [f"shocks[{i}]: not a Shock ({type(s).__name__})" for i, s in enumerate(shocks)
               if not isinstance(s, Shock)]
        if bad:
            raise ScenarioError(bad[0], bad)
        object.__setattr__(self, "shocks", shocks)

    # ------------------------------------------------------------------ conversions
    @property
    def where(self) -> str:
        """How messages name it: ``scenario 'x'``, after its file when a user gave one (``my.toml: scenario
        'x'``)."""
        return (f"{self.source}: " if self.source else "") + f"scenario {shown(self.name)}"

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "description", "shocks": [shock dicts]}``."""
        return {"name": self.name, "description": self.description, "shocks": [s.to_dict() for s in self.shocks]}

    @classmethod
    def from_dict(cls, data: Any, *, name: str | None = None, source: str | None = None) -> "Scenario":
        """Validate a mapping (as read from a file) through the scenario model.

        ``name`` is used when the mapping has none (the file stem); ``source``
        prefixes error messages. Every problem is reported, with its path.
        """
        model = _validate_scenario(data, source)
        scen_name = model.name or name
        if not scen_name:
            _raise([("name", "required when the scenario does not come from a file")], source)
        shocks = tuple(Shock(**m.model_dump(exclude_none=True)) for m in model.shocks)
        return cls(scen_name, model.description, shocks)

    def to_toml(self) -> str:
        """TOML text that :func:`parse_scenario` reads back to an equal scenario."""
        lines = [f"name = {_toml_value(self.name)}", f"description = {_toml_value(self.description)}"]
        for s in self.shocks:
            lines.append("")
            lines.append("[[shocks]]")
            for key, v in s.to_dict().items():
                lines.append(f"{_toml_key(key)} = {_toml_value(v)}")
        if not self.shocks:
            lines.append("shocks = []")
        return "\n".join(lines) + "\n"

    def to_yaml(self) -> str:
        """YAML text (same keys as TOML)."""
        import yaml

        data = self.to_dict()
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        if yaml.safe_load(text) != data:  # e.g. U+0085 read back as a line break: escape non-ASCII instead
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=False)
        return text

    def to_json(self) -> str:
        """JSON text (same keys as TOML)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write to ``path`` atomically, in the format given by its suffix (.toml, .yaml/.yml, .json)."""
        from ..io.atomic import write_text_atomic

        path = Path(path)
        writers = {".toml": self.to_toml, ".yaml": self.to_yaml, ".yml": self.to_yaml, ".json": self.to_json}
        try:
            text = writers[path.suffix.lower()]()
        except KeyError:
            raise ScenarioError(f"{path}: unknown scenario file suffix {shown(path.suffix)}; "
                                f"use one of {', '.join(SCENARIO_SUFFIXES)}") from None
        write_text_atomic(path, text)
        return path

    def describe(self) -> list[str]:
        """One line per shock, in words."""
        return [s.describe() for s in self.shocks]


def _describe(s: Shock) -> str:
    text = _describe_kind(s)
    if s.kind == "freeze":
        return text
    if s.year is not None:
        return f"{text} (in {s.year})"
    if s.years is not None:
        return f"{text} (in {', '.join(str(y) for y in s.years)})"
    return text


def _describe_kind(s: Shock) -> str:
    if s.kind == "collateral":
        what = "every collateral" if s.target is None else f"collateral {_plain(s.target)}"
        how = [f"economic life x {s.factor:g}"] if s.factor is not None else []
        how += [f"value -{s.relative:.0%}"] if s.relative is not None else []
        return f"{what}: {', '.join(how)}"
    if s.kind == "freeze":
        who = _plain(s.target) if s.target is not None else ", ".join(f"{k}={_plain(v)}" for k, v in s.select)
        return f"{who} stop rolling over maturing debt" + (f" from {s.year}" if s.year is not None else "")
    if s.kind == "edges":
        parts = [f"{k} {_plain(getattr(s, k))}" for k in ("debtor", "creditor") if getattr(s, k) is not None]
        if s.select:
            parts.append(", ".join(f"{k}={_plain(v)}" for k, v in s.select))
        how = f"x {s.factor:g}" if s.factor is not None else f"set to {s.value:g}"
        return f"obligations ({'; '.join(parts)}): {how}"
    who = _plain(s.target) if s.target is not None else ", ".join(f"{k}={_plain(v)}" for k, v in s.select)
    if s.kind == "default":
        return f"forced default of {who} (recovery {s.recovery or 0:g})"
    if s.kind == "external_assets":
        how = (f"-{s.relative:.0%}" if s.relative is not None else
               f"-{s.absolute:g}" if s.absolute is not None else f"set to {s.value:g}")
    elif s.kind == "external_liabilities":
        how = (f"x {s.factor:g}" if s.factor is not None else
               f"+{s.absolute:g}" if s.absolute is not None else f"set to {s.value:g}")
    else:
        how = ""
    return f"{s.kind} of {who}: {how}"


# ====================================================================== TOML writer
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_string(text: str) -> str:
    """A TOML basic string: quote, backslash and control characters (U+0000-U+001F, U+007F) escaped."""
    out = []
    for ch in text:
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ScenarioError(f"cannot write the non-finite number {shown(v)} to TOML")
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise ScenarioError(f"cannot write {type(v).__name__} to TOML")
