"""The pydantic models of each shock kind's keys, and the field validators they share.

Which keys a kind accepts, their types and ranges, and the rule "exactly one
of the amount keys" live here; the scenario-file model and the translation of
pydantic errors into located messages are in :mod:`contagion.shocks.validate`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping

from ..errors import shown

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
            raise ValueError(f"must be a name or a list of names (text), got {shown(bad[0])}")
        return tuple(v)
    raise ValueError(f"must be a name or a list of names, got {shown(v)}")


def _years_field(v: Any) -> Any:
    """Before-validator of ``years``: a list of whole years (stored as a tuple)."""
    if isinstance(v, (list, tuple)):
        bad = [x for x in v if isinstance(x, bool) or not isinstance(x, int)]
        if bad:
            raise ValueError(f"must be a list of whole years, got {shown(bad[0])}")
        if len(set(v)) != len(v):
            raise ValueError("lists a year twice")
        return tuple(sorted(v))
    raise ValueError(f"must be a list of whole years, got {shown(v)}")


def _scalar_ok(x: Any) -> bool:
    if isinstance(x, bool) or isinstance(x, str) or isinstance(x, int):
        return True
    return isinstance(x, float) and math.isfinite(x)


def _select_field(v: Any) -> Any:
    """Before-validator of ``select``: ``{column: value or list of values}``, returned as a tuple of pairs."""
    if isinstance(v, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in v):
        v = dict(v)
    if not isinstance(v, Mapping):
        raise ValueError(f"must be a table {{column = value}}, got {shown(v)}")
    if not v:
        raise ValueError("must name at least one column")
    pairs = []
    for key, want in v.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"column names must be text, got {shown(key)}")
        if isinstance(want, (list, tuple)):
            if not want:
                raise ValueError(f"{key}: empty list of values")
            bad = [x for x in want if not _scalar_ok(x)]
            if bad:
                raise ValueError(f"{key}: values must be text, numbers or true/false, got {shown(bad[0])}")
            pairs.append((key, tuple(want)))
        elif _scalar_ok(want):
            pairs.append((key, want))
        else:
            raise ValueError(f"{key}: value must be text, a number, true/false or a list of them, got {shown(want)}")
    return tuple(pairs)


def _build_models():
    """The pydantic models: one model per shock kind, a tagged union of them, and the scenario model."""
    from typing import Annotated, Literal, Optional

    from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

    Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    Year = Annotated[int, Field(ge=1900, le=2300)]
    Years = Annotated[tuple[Year, ...], BeforeValidator(_years_field), Field(min_length=1)]
    Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
    Names = Annotated[Any, BeforeValidator(_names_field)]
    Select = Annotated[Any, BeforeValidator(_select_field)]

    class _Base(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
        #: (rule, keys): "one" = exactly one of keys, "any" = at least one of keys
        selection: ClassVar[tuple[str, tuple[str, ...]]] = ("one", ("target", "select"))
        amounts: ClassVar[tuple[str, ...]] = ()
        #: how many amount keys: "one" (exactly one) or "any" (at least one)
        amount_rule: ClassVar[str] = "one"
        #: on a multi-year path: the year(s) the shock applies in (none: every year)
        year: Optional[Year] = None
        years: Optional[Years] = None

        @model_validator(mode="after")
        def _exclusive(self):
            issues = []
            if self.year is not None and self.years is not None:
                issues.append("give year or years, not both")
            rule, keys = self.selection
            given = [k for k in keys if getattr(self, k, None) is not None]
            if rule == "one" and len(given) != 1:
                issues.append(f"give exactly one of {' or '.join(keys)}"
                              + (f" (got {', '.join(given)})" if given else ""))
            if rule == "any" and not given:
                issues.append(f"give at least one of {', '.join(keys)}")
            if self.amounts:
                given = [k for k in self.amounts if getattr(self, k, None) is not None]
                if self.amount_rule == "any" and not given:
                    issues.append(f"give at least one of {', '.join(self.amounts)}")
                elif self.amount_rule == "one" and len(given) != 1:
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

    class Freeze(_Base):
        """``freeze``: the selected lenders stop rolling over maturing principal from ``year`` (a path rule)."""

        kind: Literal["freeze"]
        target: Optional[Names] = None
        select: Optional[Select] = None
        years: None = None

    class Collateral(_Base):
        """``collateral``: economic lives multiplied by ``factor`` and/or values cut by ``relative`` (a path rule).

        ``target``: ids of ``collateral.csv`` (none: every collateral).
        """

        kind: Literal["collateral"]
        target: Optional[Names] = None
        factor: Optional[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = None
        relative: Optional[Fraction] = None
        selection: ClassVar[tuple[str, tuple[str, ...]]] = ("none", ())
        amounts: ClassVar[tuple[str, ...]] = ("factor", "relative")
        amount_rule: ClassVar[str] = "any"

    return {"external_assets": ExternalAssets, "external_liabilities": ExternalLiabilities,
            "default": Default, "edges": Edges, "freeze": Freeze, "collateral": Collateral}


_MODELS: dict[str, Any] = {}
_SCENARIO_MODEL: dict[tuple, Any] = {}


def _kind_models() -> dict[str, Any]:
    if not _MODELS:
        _MODELS.update(_build_models())
    return _MODELS
