"""Shocks and scenarios: plain data that turn one network into another.

A :class:`Shock` says *what* is hit (a node's external assets or external
liabilities, a forced default, or obligations) and *which* institutions or
obligations (by name/id or by attribute). A :class:`Scenario` is a named,
described, ordered list of shocks; :func:`apply` returns a new
:class:`~contagion.FinancialNetwork` and never mutates its input. Shocks
compose in order, each one seeing the result of the previous ones.

Scenario files (TOML, YAML or JSON, same keys)::

    name = "core-shock"                 # optional; default: the file stem
    description = "Why this scenario."
    [[shocks]]
    kind = "external_assets"            # cash + revenue from outside the network
    target = "C"                        # a name or id, or a list of them ...
    # select = { type = "neocloud" }    # ... or a node-attribute filter
    absolute = 94                       # relative = 0.5 | absolute = 94 | value = 10
    [[shocks]]
    kind = "external_liabilities"       # factor = 1.5 | absolute = 2 | value = 3
    [[shocks]]
    kind = "default"                    # recovery = 0.0: pays at most this fraction of pbar
    [[shocks]]
    kind = "edges"                      # debtor = ..., creditor = ..., select = {kind = "lease"}
    factor = 0.0                        # factor = 0 cancels | value = 1.0 sets each amount

Shock kinds (:data:`SHOCK_KINDS`, the registry the CLI and tests read):

``external_assets``
    ``relative`` = fraction lost in [0, 1]; ``absolute`` = amount lost by each
    selected institution (an error if more than it holds); ``value`` = set to.
``external_liabilities``
    ``factor`` = multiply (>= 0); ``absolute`` = amount added; ``value`` = set to.
``default``
    Forced default; the institution pays at most ``recovery`` (default 0)
    times its obligations, whatever it receives. A later default shock on the
    same institution replaces the recovery.
``edges``
    Obligations selected by ``debtor``, ``creditor`` (names/ids or lists) and
    ``select`` (any edge-table column: ``kind``, ``contingent``, ``source``,
    ``debtor``, ``creditor``, ...), all of which must match; ``factor``
    multiplies the amounts (0 cancels), ``value`` sets each amount.

Node kinds take exactly one of ``target`` (names or ids) and ``select`` (a
table ``{column = value or [values]}`` over any column of ``net.nodes``, e.g.
``type``; several keys must all match). Every amount kind takes exactly one of
its amount keys.

Matching values. When a column holds numbers and the wanted value is a
number, they are compared as numbers. Otherwise both sides are compared as
text, ignoring case and surrounding spaces, with ``true``/``false`` for
booleans and whole numbers written without a decimal point: so ``contingent =
"true"``, ``contingent = true`` and ``contingent = "True"`` all select the rows
whose ``contingent`` cell reads ``true`` (CSV) or is ``True`` (JSON).

Errors (all :class:`~contagion.errors.ScenarioError`, located by path, e.g.
``shocks[2].relative: must be <= 1``; ``shocks[0]`` is the first shock): an
unknown kind or key, a value of the wrong type or out of range, more than one
of the amount keys, an unknown target, a selector that matches nothing, an
absolute loss larger than the assets held. Parsing reports every problem of a
file at once; :func:`apply` reports every shock that cannot be applied.

Examples
--------
Glasserman & Young (2015), section 4: a loss of 94 on the core's outside
assets brings down all five banks of the core-periphery toy.

>>> import contagion
>>> from contagion.shocks import Scenario, Shock, apply
>>> net = contagion.load_dataset("core-periphery")
>>> hit = apply(net, Shock("external_assets", target="Core", absolute=94))
>>> hit.external_assets.tolist()
[50.0, 50.0, 56.0, 50.0, 50.0]
>>> res = contagion.clear(hit)
>>> res.payments.tolist(), res.total_shortfall
([54.0, 54.0, 56.0, 54.0, 54.0], 88.0)
>>> scen = Scenario("half", "every bank loses half its outside assets",
...                 [Shock("external_assets", select={"type": "bank"}, relative=0.5)])
>>> apply(net, scen).external_assets.tolist()
[25.0, 25.0, 75.0, 25.0, 25.0]
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InvalidNetworkError, ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from .network import FinancialNetwork

__all__ = [
    "Shock",
    "Scenario",
    "ShockKind",
    "SHOCK_KINDS",
    "SCENARIO_SUFFIXES",
    "apply",
    "load_scenario",
    "parse_scenario",
    "find_scenario",
    "list_scenarios",
    "scenario_dirs",
    "default_scenario_of",
    "ScenarioError",
]

#: File suffixes read as scenarios, and the parser of each.
SCENARIO_SUFFIXES = (".toml", ".yaml", ".yml", ".json")

#: Keys a shock may carry (the union over kinds; each kind allows a subset).
SHOCK_KEYS = ("kind", "target", "select", "debtor", "creditor", "relative", "absolute", "value", "factor", "recovery")

Scalar = str | int | float | bool


# ====================================================================== plain data
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

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ScenarioError(f"name: must be non-empty text, got {self.name!r}")
        if not isinstance(self.description, str):
            raise ScenarioError(f"description: must be text, got {self.description!r}")
        if isinstance(self.shocks, (Shock, Mapping, str)):
            raise ScenarioError("shocks: must be a list of Shock objects")
        shocks = tuple(self.shocks)
        bad = [f"shocks[{i}]: not a Shock ({type(s).__name__})" for i, s in enumerate(shocks)
               if not isinstance(s, Shock)]
        if bad:
            raise ScenarioError(bad[0], bad)
        object.__setattr__(self, "shocks", shocks)

    # ------------------------------------------------------------------ conversions
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
        from .io.atomic import write_text_atomic

        path = Path(path)
        writers = {".toml": self.to_toml, ".yaml": self.to_yaml, ".yml": self.to_yaml, ".json": self.to_json}
        try:
            text = writers[path.suffix.lower()]()
        except KeyError:
            raise ScenarioError(f"{path}: unknown scenario file suffix {path.suffix!r}; "
                                f"use one of {', '.join(SCENARIO_SUFFIXES)}") from None
        write_text_atomic(path, text)
        return path

    def describe(self) -> list[str]:
        """One line per shock, in words."""
        return [s.describe() for s in self.shocks]


# ====================================================================== validation model (pydantic)
def _names_field(v: Any) -> Any:
    """Before-validator of ``target``/``debtor``/``creditor``: a name or a non-empty list of names."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)  # numeric ids written without quotes (YAML `target: 3`)
    if isinstance(v, str):
        if not v.strip():
            raise ValueError("must be a non-empty name or id")
        return v
    if isinstance(v, (list, tuple)):
        if not v:
            raise ValueError("must name at least one institution")
        v = [str(x) if isinstance(x, int) and not isinstance(x, bool) else x for x in v]
        bad = [x for x in v if not isinstance(x, str) or not x.strip()]
        if bad:
            raise ValueError(f"must be a name or a list of names (text), got {bad[0]!r}")
        return tuple(v)
    raise ValueError(f"must be a name or a list of names, got {v!r}")


def _scalar_ok(x: Any) -> bool:
    if isinstance(x, bool) or isinstance(x, str) or isinstance(x, int):
        return True
    return isinstance(x, float) and math.isfinite(x)


def _select_field(v: Any) -> Any:
    """Before-validator of ``select``: ``{column: value or list of values}``, returned as a tuple of pairs."""
    if isinstance(v, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in v):
        v = dict(v)
    if not isinstance(v, Mapping):
        raise ValueError(f"must be a table {{column = value}}, got {v!r}")
    if not v:
        raise ValueError("must name at least one column")
    pairs = []
    for key, want in v.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"column names must be text, got {key!r}")
        if isinstance(want, (list, tuple)):
            if not want:
                raise ValueError(f"{key}: empty list of values")
            bad = [x for x in want if not _scalar_ok(x)]
            if bad:
                raise ValueError(f"{key}: values must be text, numbers or true/false, got {bad[0]!r}")
            pairs.append((key, tuple(want)))
        elif _scalar_ok(want):
            pairs.append((key, want))
        else:
            raise ValueError(f"{key}: value must be text, a number, true/false or a list of them, got {want!r}")
    return tuple(pairs)


def _build_models():
    """The pydantic models: one model per shock kind, a tagged union of them, and the scenario model."""
    from typing import Annotated, Literal, Optional

    from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

    Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
    Names = Annotated[Any, BeforeValidator(_names_field)]
    Select = Annotated[Any, BeforeValidator(_select_field)]

    class _Base(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
        #: (rule, keys): "one" = exactly one of keys, "any" = at least one of keys
        selection: ClassVar[tuple[str, tuple[str, ...]]] = ("one", ("target", "select"))
        amounts: ClassVar[tuple[str, ...]] = ()

        @model_validator(mode="after")
        def _exclusive(self):
            issues = []
            rule, keys = self.selection
            given = [k for k in keys if getattr(self, k, None) is not None]
            if rule == "one" and len(given) != 1:
                issues.append(f"give exactly one of {' or '.join(keys)}"
                              + (f" (got {', '.join(given)})" if given else ""))
            if rule == "any" and not given:
                issues.append(f"give at least one of {', '.join(keys)}")
            if self.amounts:
                given = [k for k in self.amounts if getattr(self, k, None) is not None]
                if len(given) != 1:
                    issues.append(f"give exactly one of {', '.join(self.amounts)}"
                                  + (f" (got {', '.join(given)})" if given else ""))
            if issues:
                raise ValueError("; ".join(issues))
            return self

    class ExternalAssets(_Base):
        """``external_assets``: haircut (relative), loss (absolute) or new level (value)."""

        kind: Literal["external_assets"]
        target: Optional[Names] = None
        select: Optional[Select] = None
        relative: Optional[Fraction] = None
        absolute: Optional[Amount] = None
        value: Optional[Amount] = None
        amounts: ClassVar[tuple[str, ...]] = ("relative", "absolute", "value")

    class ExternalLiabilities(_Base):
        """``external_liabilities``: multiply (factor), add (absolute) or set (value)."""

        kind: Literal["external_liabilities"]
        target: Optional[Names] = None
        select: Optional[Select] = None
        factor: Optional[Amount] = None
        absolute: Optional[Amount] = None
        value: Optional[Amount] = None
        amounts: ClassVar[tuple[str, ...]] = ("factor", "absolute", "value")

    class Default(_Base):
        """``default``: forced default paying at most ``recovery * pbar``."""

        kind: Literal["default"]
        target: Optional[Names] = None
        select: Optional[Select] = None
        recovery: Optional[Fraction] = None

    class Edges(_Base):
        """``edges``: multiply (factor) or set (value) the amounts of selected obligations."""

        kind: Literal["edges"]
        debtor: Optional[Names] = None
        creditor: Optional[Names] = None
        select: Optional[Select] = None
        factor: Optional[Amount] = None
        value: Optional[Amount] = None
        selection: ClassVar[tuple[str, tuple[str, ...]]] = ("any", ("debtor", "creditor", "select"))
        amounts: ClassVar[tuple[str, ...]] = ("factor", "value")

    return {"external_assets": ExternalAssets, "external_liabilities": ExternalLiabilities,
            "default": Default, "edges": Edges}


_MODELS: dict[str, Any] = {}
_SCENARIO_MODEL: dict[tuple, Any] = {}


def _kind_models() -> dict[str, Any]:
    if not _MODELS:
        _MODELS.update(_build_models())
    return _MODELS


def _scenario_model():
    """The ONE pydantic model of a scenario file (rebuilt if :data:`SHOCK_KINDS` changes)."""
    key = tuple((k, id(v.model)) for k, v in SHOCK_KINDS.items())
    if key not in _SCENARIO_MODEL:
        from typing import Annotated, Optional, Union

        from pydantic import BaseModel, ConfigDict, Discriminator, Field

        models = tuple(v.model for v in SHOCK_KINDS.values())
        ShockUnion = Annotated[Union[models], Discriminator("kind")]  # type: ignore[valid-type]

        class ScenarioModel(BaseModel):
            model_config = ConfigDict(extra="forbid", strict=True)
            name: Optional[Annotated[str, Field(min_length=1)]] = None
            description: str = ""
            shocks: list[ShockUnion] = []  # type: ignore[valid-type]

        _SCENARIO_MODEL.clear()
        _SCENARIO_MODEL[key] = ScenarioModel
    return _SCENARIO_MODEL[key]


def _format_loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _error_message(err: Mapping[str, Any]) -> tuple[list[Any], str]:
    """(location, short message) of one pydantic error."""
    loc = list(err["loc"])
    # the tagged union inserts the tag ("external_assets") after the shock index; drop it
    if len(loc) >= 3 and loc[0] == "shocks" and isinstance(loc[1], int) and loc[2] in SHOCK_KINDS:
        kind = loc.pop(2)
    elif loc and loc[0] in SHOCK_KINDS:
        kind = loc.pop(0)
    else:
        kind = None
    typ, ctx = err["type"], err.get("ctx") or {}
    kinds = ", ".join(SHOCK_KINDS)
    if typ == "extra_forbidden":
        allowed = ""
        if kind is not None:
            fields = [f for f in SHOCK_KINDS[kind].model.model_fields]
            allowed = f" for kind {kind!r} (allowed: {', '.join(fields)})"
        if kind is None and len(loc) == 1:
            allowed = " (allowed: name, description, shocks)"
        msg = f"unknown key{allowed}"
    elif typ == "missing":
        msg = "required key is missing"
    elif typ == "union_tag_invalid":
        loc.append("kind")
        msg = f"unknown shock kind {ctx.get('tag')!r}; known kinds: {kinds}"
    elif typ == "union_tag_not_found":
        loc.append("kind")
        msg = f"required key is missing (one of {kinds})"
    elif typ == "less_than_equal":
        msg = f"must be <= {ctx['le']:g}"
    elif typ == "greater_than_equal":
        msg = f"must be >= {ctx['ge']:g}"
    elif typ in ("float_type", "float_parsing", "int_type"):
        msg = f"must be a number, got {err.get('input')!r}"
    elif typ == "finite_number":
        msg = "must be a finite number"
    elif typ in ("string_type",):
        msg = f"must be text, got {err.get('input')!r}"
    elif typ == "string_too_short":
        msg = "must not be empty"
    elif typ in ("model_type", "model_attributes_type", "dict_type"):
        msg = f"must be a table (mapping), got {type(err.get('input')).__name__}"
    elif typ == "list_type":
        msg = f"must be a list, got {type(err.get('input')).__name__}"
    elif typ == "value_error":
        msg = str(err["msg"]).removeprefix("Value error, ")
    else:
        msg = str(err["msg"])
    return loc, msg


def _raise(problems: list[tuple[Any, str]], source: str | None) -> None:
    lines = []
    for loc, msg in problems:
        where = _format_loc(loc) if not isinstance(loc, str) else loc
        lines.append(f"{where}: {msg}" if where else msg)
    prefix = f"{source}: " if source else ""
    more = len(lines) - 1
    head = prefix + lines[0] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else "")
    raise ScenarioError(head, [prefix + line for line in lines])


def _validate_scenario(data: Any, source: str | None):
    from pydantic import ValidationError

    if not isinstance(data, Mapping):
        _raise([("", f"a scenario must be a table (mapping) with 'shocks', got {type(data).__name__}")], source)
    try:
        return _scenario_model().model_validate(dict(data))
    except ValidationError as exc:
        errors = exc.errors()
    _raise([_error_message(e) for e in errors], source)


def _validate_shock(data: dict[str, Any]):
    from pydantic import ValidationError

    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in SHOCK_KINDS:
        _raise([(["kind"], f"unknown shock kind {kind!r}; known kinds: {', '.join(SHOCK_KINDS)}")], None)
    try:
        return SHOCK_KINDS[kind].model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    _raise([_error_message({**e, "loc": (kind, *e["loc"])}) for e in errors], None)


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
            raise ScenarioError(f"cannot write the non-finite number {v!r} to TOML")
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise ScenarioError(f"cannot write {type(v).__name__} to TOML")


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


# ====================================================================== reading files
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


# ====================================================================== finding scenarios
def scenario_dirs(network: "FinancialNetwork | str") -> list[Path]:
    """Folders searched for named scenarios of a network (or of a dataset given by name).

    ``graphs/<dataset>/scenarios/`` for a built-in dataset
    (``net.metadata["dataset"]``), then ``<source>/scenarios/`` for a network
    read from a directory (``net.metadata["source"]``), or the ``scenarios/``
    folder next to a network file.
    """
    from .datasets import dataset_path

    dirs: list[Path] = []
    if isinstance(network, str):
        dirs.append(dataset_path(network) / "scenarios")
    else:
        meta = network.metadata or {}
        if meta.get("dataset"):
            try:
                dirs.append(dataset_path(str(meta["dataset"])) / "scenarios")
            except Exception:  # an unknown dataset name in metadata: only the source folder
                pass
        if meta.get("source"):
            src = Path(str(meta["source"]))
            dirs.append((src if src.is_dir() else src.parent) / "scenarios")
    seen: list[Path] = []
    for d in dirs:
        if d.resolve() not in [s.resolve() for s in seen]:
            seen.append(d)
    return seen


def _scenario_files(network: "FinancialNetwork | str") -> dict[str, Path]:
    files: dict[str, Path] = {}
    for d in scenario_dirs(network):
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if p.is_file() and p.suffix.lower() in SCENARIO_SUFFIXES and not p.name.startswith("."):
                files.setdefault(p.stem, p)
    return files


def list_scenarios(network: "FinancialNetwork | str") -> dict[str, str]:
    """Scenarios that ship with a network or dataset: ``{name: description}``, sorted by name.

    The name is the file stem (what ``--scenario NAME`` takes). A file that
    does not parse is listed with ``"(invalid: reason)"`` as its description.

    >>> list_scenarios("core-periphery")["core-shock"][:40]
    'Glasserman & Young (2015), section 4: th'
    """
    out: dict[str, str] = {}
    for stem, path in sorted(_scenario_files(network).items()):
        try:
            out[stem] = load_scenario(path).description
        except ScenarioError as exc:
            out[stem] = f"(invalid: {exc})"
    return out


def find_scenario(name_or_path: "str | Path | Scenario", network: "FinancialNetwork | str | None" = None) -> Scenario:
    """Resolve ``--scenario``: an existing file, else a scenario shipped with the network.

    Parameters
    ----------
    name_or_path : str or Path
        A path to a scenario file, or the name (file stem) of a scenario in
        :func:`scenario_dirs` of ``network``.
    network : FinancialNetwork or str, optional
        The network (or dataset name) whose scenarios are searched.

    Raises
    ------
    ScenarioError
        Unknown name (listing the available scenarios), missing file, or an
        invalid scenario.

    Examples
    --------
    >>> import contagion
    >>> find_scenario("core-shock", contagion.load_dataset("core-periphery")).name
    'core-shock'
    >>> find_scenario("nope", contagion.load_dataset("core-periphery"))
    Traceback (most recent call last):
    ...
    contagion.errors.ScenarioError: unknown scenario 'nope'; available for core-periphery: core-shock
    """
    if isinstance(name_or_path, Scenario):
        return name_or_path
    spec = str(name_or_path)
    path = Path(spec)
    if path.is_file():
        return load_scenario(path)
    if path.is_dir():
        raise ScenarioError(f"{spec}: is a directory, not a scenario file")
    if "/" in spec or "\\" in spec:
        raise ScenarioError(f"{spec}: no such scenario file")
    files = _scenario_files(network) if network is not None else {}
    if spec in files:
        return load_scenario(files[spec])
    by_file_name = {p.name: p for p in files.values()}
    if spec in by_file_name:  # "core-shock.toml" given as a name
        return load_scenario(by_file_name[spec])
    where = _network_label(network)
    if path.suffix.lower() in SCENARIO_SUFFIXES and spec not in by_file_name:
        raise ScenarioError(f"{spec}: no such scenario file" + (
            f" (scenarios of {where}: {', '.join(sorted(files))})" if files else ""))
    if files:
        close = difflib.get_close_matches(spec, list(files), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ScenarioError(f"unknown scenario {spec!r}{hint}; available for {where}: {', '.join(sorted(files))}")
    raise ScenarioError(f"unknown scenario {spec!r}: not a file, and no scenarios ship with {where}")


def _network_config(network: "FinancialNetwork | str") -> tuple[dict, str]:
    """``dataset.toml`` settings of a dataset, or of the folder a network was read from, and their location."""
    import tomllib

    from .datasets import dataset_config, dataset_path

    if isinstance(network, str):
        return dataset_config(network), str(dataset_path(network) / "dataset.toml")
    meta = network.metadata or {}
    if meta.get("dataset"):
        return dataset_config(str(meta["dataset"])), str(dataset_path(str(meta["dataset"])) / "dataset.toml")
    if meta.get("source"):
        src = Path(str(meta["source"]))
        path = (src if src.is_dir() else src.parent) / "dataset.toml"
        if path.is_file():
            try:
                return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ScenarioError(f"{path}: invalid TOML: {exc}") from None
    return {}, ""


def default_scenario_of(network: "FinancialNetwork | str") -> Scenario | None:
    """The scenario ``contagion run`` applies when none is given, or ``None``.

    It is named by ``default_scenario`` in the ``dataset.toml`` of the
    network's built-in dataset (``graphs/<dataset>/dataset.toml``) or of the
    folder the network was read from.

    >>> import contagion
    >>> default_scenario_of(contagion.load_dataset("core-periphery")).name
    'core-shock'
    >>> default_scenario_of(contagion.load_dataset("chain")) is None
    True
    """
    config, where = _network_config(network)
    name = config.get("default_scenario")
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{where}: default_scenario must be a scenario name, got {name!r}")
    try:
        return find_scenario(name, network)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: default_scenario: {exc}") from None


def _network_label(network: Any) -> str:
    if network is None:
        return "this network"
    if isinstance(network, str):
        return network
    meta = network.metadata or {}
    return str(meta.get("dataset") or meta.get("source") or "this network")


# ====================================================================== applying shocks
class _ShockProblem(Exception):
    """Raised by a kind's apply function as ``(key, message)``; located by :func:`apply`."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


def _resolve(net: "FinancialNetwork", keys: str | tuple[str, ...], what: str) -> np.ndarray:
    """Positions of institutions given by names or ids (a short loop over the keys, not the nodes)."""
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    names = pd.Index(list(net.names))
    ids = pd.Index(list(net.ids))
    pos = names.get_indexer(list(keys))
    by_id = ids.get_indexer(list(keys))
    pos = np.where(pos >= 0, pos, by_id)
    unknown = [k for k, p in zip(keys, pos) if p < 0]
    if unknown:
        msgs = []
        for k in unknown:
            close = difflib.get_close_matches(k, list(net.names) + list(net.ids), n=1)
            msgs.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise _ShockProblem(what, f"unknown institution {', '.join(msgs)}")
    return pos.astype(np.int64)


def _text(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x).strip().lower()


def _column_text(col: pd.Series) -> pd.Series:
    """A column as lower-case stripped text, vectorised (booleans -> true/false, 3.0 -> 3)."""
    txt = col.astype("string").fillna("").str.strip().str.lower()
    if col.dtype.kind == "f":
        txt = txt.str.replace(r"\.0$", "", regex=True)
    return txt


def _column_matches(col: pd.Series, wanted: tuple[Any, ...]) -> np.ndarray:
    """Vectorised membership test of one column (see "Matching values" in the module docstring)."""
    numbers = [float(w) for w in wanted if isinstance(w, (int, float)) and not isinstance(w, bool)]
    mask = np.zeros(len(col), dtype=bool)
    if numbers and col.dtype.kind in "iuf":
        mask |= np.isin(col.to_numpy(dtype=np.float64), numbers)
    elif numbers and col.dtype.kind not in "b":
        num = pd.to_numeric(col.astype(object), errors="coerce").to_numpy(dtype=np.float64)
        mask |= np.isin(num, numbers)
    mask |= _column_text(col).isin([_text(w) for w in wanted]).to_numpy()
    return mask


def _attribute_mask(table: pd.DataFrame, selector: tuple, what: str, net: "FinancialNetwork",
                    id_columns: tuple[str, ...] = ()) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    for key, want in selector:
        if key not in table.columns:
            raise _ShockProblem("select", f"unknown {what} attribute {key!r}; available: {', '.join(map(str, table.columns))}")
        wanted = want if isinstance(want, tuple) else (want,)
        if key in id_columns:  # accept names as well as ids for debtor/creditor
            wanted = tuple(net.ids[net._name_index[w]] if isinstance(w, str) and w in net._name_index else w
                           for w in wanted)
        col_mask = _column_matches(table[key], wanted)
        if not col_mask.any():
            present = pd.unique(_column_text(table[key]))
            shown = ", ".join(repr(x) for x in present[:10]) + (", ..." if len(present) > 10 else "")
            raise _ShockProblem("select", f"{key} = {_plain(want)!r} matches no {what} (values present: {shown})")
        mask &= col_mask
    if not mask.any():
        raise _ShockProblem("select", f"{_plain(selector)} matches no {what} (each key matches some, but not together)")
    return mask


def _node_mask(net: "FinancialNetwork", shock: Shock) -> np.ndarray:
    if shock.target is not None:
        mask = np.zeros(net.n, dtype=bool)
        mask[_resolve(net, shock.target, "target")] = True
        return mask
    return _attribute_mask(net.nodes, shock.select, "institution", net)


def _apply_external_assets(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    m = _node_mask(net, shock)
    e = net.external_assets.copy()
    if shock.relative is not None:
        e[m] *= 1.0 - shock.relative
    elif shock.absolute is not None:
        a = shock.absolute
        short = m & (a > e * (1 + 1e-12) + 1e-12)
        if short.any():
            who = ", ".join(f"{net.names[i]} ({e[i]:g})" for i in np.flatnonzero(short)[:5])
            raise _ShockProblem("absolute", f"loss {a:g} is larger than the external assets of {who}")
        e[m] = np.maximum(e[m] - a, 0.0)
    else:
        e[m] = shock.value
    return net.replace(external_assets=e)


def _apply_external_liabilities(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    m = _node_mask(net, shock)
    x = net.external_liabilities.copy()
    if shock.factor is not None:
        x[m] *= shock.factor
    elif shock.absolute is not None:
        x[m] += shock.absolute
    else:
        x[m] = shock.value
    return net.replace(external_liabilities=x)


def _apply_default(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    m = _node_mask(net, shock)
    forced = net.forced_default | m
    recovery = net.forced_recovery.copy()
    recovery[m] = shock.recovery if shock.recovery is not None else 0.0
    return net.replace(forced_default=forced, forced_recovery=recovery)


def _apply_edges(net: "FinancialNetwork", shock: Shock) -> "FinancialNetwork":
    edges = net.edges
    if len(edges) == 0:
        raise _ShockProblem("", "the network has no obligations to select")
    mask = np.ones(len(edges), dtype=bool)
    ids = np.asarray(net.ids, dtype=object)
    for key in ("debtor", "creditor"):
        keys = getattr(shock, key)
        if keys is not None:
            wanted = ids[_resolve(net, keys, key)]
            col_mask = edges[key].isin(list(wanted)).to_numpy()
            if not col_mask.any():
                raise _ShockProblem(key, f"{_plain(keys)!r} has no obligation as {key}")
            mask &= col_mask
    if shock.select is not None:
        mask &= _attribute_mask(edges, shock.select, "obligation", net, id_columns=("debtor", "creditor"))
    if not mask.any():
        raise _ShockProblem("", "debtor, creditor and select together match no obligation")
    amounts = edges["amount"].to_numpy(dtype=np.float64).copy()
    if shock.factor is not None:
        amounts[mask] *= shock.factor
    else:
        amounts[mask] = shock.value
    return net.replace(edge_amounts=amounts)


@dataclass(frozen=True)
class ShockKind:
    """An entry of :data:`SHOCK_KINDS`: the pydantic model of its keys, its apply function, a one-line help."""

    name: str
    model: Any
    apply: Callable[["FinancialNetwork", Shock], "FinancialNetwork"]
    help: str


def _registry() -> dict[str, ShockKind]:
    models = _kind_models()
    return {
        "external_assets": ShockKind("external_assets", models["external_assets"], _apply_external_assets,
                                     "outside assets (cash + outside revenue): relative | absolute | value"),
        "external_liabilities": ShockKind("external_liabilities", models["external_liabilities"],
                                          _apply_external_liabilities,
                                          "obligations to outside creditors: factor | absolute | value"),
        "default": ShockKind("default", models["default"], _apply_default,
                             "forced default, paying at most recovery (default 0) x obligations"),
        "edges": ShockKind("edges", models["edges"], _apply_edges,
                           "obligations by debtor / creditor / edge attributes: factor | value"),
    }


#: kind name -> :class:`ShockKind` (model, apply function, help). Feeds validation, docs and tests.
SHOCK_KINDS: dict[str, ShockKind] = _registry()


def _describe(s: Shock) -> str:
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


def _shocks_of(item: Any) -> Iterable[tuple[str, Shock]]:
    if isinstance(item, Scenario):
        return [(f"scenario {item.name!r}: shocks[{i}]", s) for i, s in enumerate(item.shocks)]
    if isinstance(item, Shock):
        return [("shock", item)]
    if isinstance(item, (list, tuple)):
        out: list[tuple[str, Shock]] = []
        for k, sub in enumerate(item):
            if not isinstance(sub, (Scenario, Shock)):
                raise ScenarioError(f"apply() takes Scenario or Shock objects, got {type(sub).__name__} at [{k}]")
            out.extend((label if isinstance(sub, Scenario) else f"shocks[{k}]", s) for label, s in _shocks_of(sub))
        return out
    raise ScenarioError(f"apply() takes a Scenario, a Shock or a list of them, got {type(item).__name__}")


def apply(network: "FinancialNetwork", scenario: "Scenario | Shock | Sequence[Scenario | Shock]") -> "FinancialNetwork":
    """Apply a scenario, a shock, or a list of them (in order) and return a new network.

    The input network is not changed. Names of applied scenarios are appended
    to ``metadata["scenarios"]``.

    Raises
    ------
    ScenarioError
        Listing every shock that cannot be applied (unknown target, selector
        matching nothing, loss larger than the assets held), located as
        ``scenario 'name': shocks[i].key: reason``. A failing shock is skipped
        while the others are checked, then the error is raised.

    Examples
    --------
    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> out = apply(net, [Shock("edges", debtor="A", creditor="B", factor=0.5),
    ...                   Shock("external_liabilities", target="C", absolute=2)])
    >>> out.liabilities.toarray().tolist()[0], out.external_liabilities.tolist()
    ([0.0, 5.0, 0.0], [0.0, 5.0, 10.0])
    >>> net.liabilities.toarray().tolist()[0]  # unchanged
    [0.0, 10.0, 0.0]
    """
    problems: list[str] = []
    out = network
    for label, shock in _shocks_of(scenario):
        try:
            out = SHOCK_KINDS[shock.kind].apply(out, shock)
        except _ShockProblem as exc:
            problems.append(f"{label}.{exc}" if exc.key else f"{label}: {exc}")
        except InvalidNetworkError as exc:
            problems.append(f"{label}: {exc}")
    if problems:
        more = len(problems) - 1
        raise ScenarioError(problems[0] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""),
                            problems)
    names = [s.name for s in (scenario if isinstance(scenario, (list, tuple)) else [scenario])
             if isinstance(s, Scenario)]
    if names:
        out = out.replace(metadata={**out.metadata, "scenarios": [*out.metadata.get("scenarios", []), *names]})
    return out
