"""Validation of scenario data through the pydantic models, with every problem located by its path."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import ScenarioError, did_you_mean, shown
from .kinds import SHOCK_KINDS

_SCENARIO_MODEL: dict[tuple, Any] = {}


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
            fields = [f for f in SHOCK_KINDS[kind].model.model_fields if f not in ("year", "years")]
            fields += ["year"] + (["years"] if kind != "freeze" else [])
            allowed = f" for kind {shown(kind)}{did_you_mean(loc[-1], fields)} (allowed: {', '.join(fields)})"
        if kind is None and len(loc) == 1:
            allowed = f"{did_you_mean(loc[-1], ('name', 'description', 'shocks'))} (allowed: name, description, shocks)"
        msg = f"unknown key{allowed}"
    elif typ == "missing":
        msg = "required key is missing"
    elif typ == "union_tag_invalid":
        loc.append("kind")
        msg = f"unknown shock kind {shown(ctx.get('tag'))}{did_you_mean(ctx.get('tag'), SHOCK_KINDS)}; known kinds: {kinds}"
    elif typ == "union_tag_not_found":
        loc.append("kind")
        msg = f"required key is missing (one of {kinds})"
    elif typ == "less_than_equal":
        msg = f"must be <= {ctx['le']:g}"
    elif typ == "greater_than_equal":
        msg = f"must be >= {ctx['ge']:g}"
    elif typ in ("int_type", "int_from_float", "int_parsing") and isinstance(err.get("input"), float) \
            and not isinstance(err.get("input"), bool):
        what = "a whole year" if loc and loc[-1] == "year" else "a whole number"
        msg = f"must be {what}, got {shown(err.get('input'))}"
    elif typ in ("float_type", "float_parsing", "int_type", "int_from_float", "int_parsing"):
        msg = f"must be a number, got {shown(err.get('input'))}"
    elif typ == "finite_number":
        msg = "must be a finite number"
    elif typ in ("string_type",):
        msg = f"must be text, got {shown(err.get('input'))}"
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
    raise ScenarioError.listing([prefix + line for line in lines])


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
        hint = did_you_mean(kind, SHOCK_KINDS) if isinstance(kind, str) else ""
        _raise([(["kind"], f"unknown shock kind {shown(kind)}{hint}; known kinds: {', '.join(SHOCK_KINDS)}")], None)
    try:
        return SHOCK_KINDS[kind].model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    _raise([_error_message({**e, "loc": (kind, *e["loc"])}) for e in errors], None)
