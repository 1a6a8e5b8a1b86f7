"""The two tables beside a dated network (DESIGN.md §7): ``collateral.csv`` and ``cashflows.csv``.

- ``collateral.csv``: ``id``, ``value``, ``year``, ``economic_life``. The
  value falls straight-line to zero over the economic life from ``year``;
  several rows with one id give its value again at later years (the latest
  row at or before a year applies). Before its first row's year a collateral
  is worth that row's value.
- ``cashflows.csv``: ``id`` (an institution), ``year``, ``external_assets``,
  ``external_liabilities``: that year's outside money, replacing the node
  table's value (a blank cell keeps it).

They are read from the network's folder (``net.metadata["source"]``, or the
built-in dataset's folder) when not given; both are optional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import InvalidNetworkError, Problem, shown

__all__ = ["CollateralTable", "Cashflows", "read_collateral", "read_cashflows", "network_folders"]


@dataclass(frozen=True, eq=False)
class CollateralTable:
    """Collateral values by year: ``value_at(id, year)``."""

    rows: Mapping[str, tuple[tuple[int, float, float], ...]] = field(default_factory=dict)  # id -> (year, v, life)

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def value_at(self, key: str, year: int, life_factor: float = 1.0, value_factor: float = 1.0) -> float:
        """Straight-line value of collateral ``key`` in ``year`` (economic lives scaled by ``life_factor``).

        >>> t = CollateralTable({"gpu": ((2026, 100.0, 4.0),)})
        >>> [t.value_at("gpu", y) for y in (2025, 2026, 2027, 2030, 2031)]
        [100.0, 100.0, 75.0, 0.0, 0.0]
        >>> t.value_at("gpu", 2027, life_factor=0.5)   # obsolete twice as fast
        50.0
        """
        rows = self.rows[key]
        applicable = [r for r in rows if r[0] <= year]
        y0, v0, life = applicable[-1] if applicable else rows[0]
        life = life * life_factor
        age = max(0.0, year - y0)
        left = 0.0 if life <= 0 else max(0.0, 1.0 - age / life)
        return float(v0 * value_factor * left)


@dataclass(frozen=True, eq=False)
class Cashflows:
    """Per-year outside money: ``{year: (external_assets, external_liabilities)}`` arrays with nan = keep."""

    by_year: Mapping[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def for_year(self, year: int, e: np.ndarray, ext: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(external_assets, external_liabilities)`` of ``year``: the node values, replaced where given."""
        if year not in self.by_year:
            return e, ext
        a, b = self.by_year[year]
        return np.where(np.isnan(a), e, a), np.where(np.isnan(b), ext, b)


def network_folders(net: Any) -> list[Path]:
    """Folders that may hold a network's ``collateral.csv`` / ``cashflows.csv`` (its source, its dataset)."""
    meta = net.metadata or {}
    out: list[Path] = []
    if meta.get("source"):
        src = Path(str(meta["source"]))
        out.append(src if src.is_dir() else src.parent)
    if meta.get("dataset"):
        from ..datasets import dataset_path

        try:
            out.append(dataset_path(str(meta["dataset"])))
        except Exception:  # an unknown dataset name in metadata: only the source folder
            pass
    return out


def _read(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    import io as _io

    from ..io.text import read_text  # a located one-line error for a file that cannot be read or decoded

    text = read_text(path, "table", InvalidNetworkError)
    try:
        df = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidNetworkError([Problem(f"not a CSV table: {' '.join(str(exc).split())}", str(path))]) from None
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InvalidNetworkError([Problem(f"missing column {c}", str(path), 1, c) for c in missing])
    return df


def _number(v: str, file: str, row: int, column: str, problems: list[Problem], *, blank_ok: bool,
            integer: bool = False, low: float | None = 0.0) -> float:
    text = v.strip()
    if not text:
        if not blank_ok:
            problems.append(Problem("is blank; a number is needed", file, row, column))
        return math.nan
    try:
        x = float(text) if "_" not in text else math.nan
    except ValueError:
        x = math.nan
    if not math.isfinite(x) or (integer and x != int(x)) or (low is not None and x < low):
        want = "a whole year" if integer else f"a finite number >= {low:g}" if low is not None else "a finite number"
        problems.append(Problem(f"must be {want}, got {shown(v)}", file, row, column))
        return math.nan
    return x


def read_collateral(path: str | Path) -> CollateralTable:
    """Read ``collateral.csv`` (every bad value located by file, row, column and value).

    Raises
    ------
    InvalidNetworkError
    """
    path = Path(path)
    df = _read(path, ("id", "value", "year", "economic_life"))
    file = str(path)
    problems: list[Problem] = []
    rows: dict[str, list[tuple[int, float, float]]] = {}
    seen: dict[tuple[str, int], int] = {}
    for k, rec in enumerate(df.to_dict("records")):
        row = k + 2
        key = str(rec["id"]).strip()
        if not key:
            problems.append(Problem("is blank; every collateral needs an id", file, row, "id"))
        value = _number(rec["value"], file, row, "value", problems, blank_ok=False)
        year = _number(rec["year"], file, row, "year", problems, blank_ok=False, integer=True, low=None)
        life = _number(rec["economic_life"], file, row, "economic_life", problems, blank_ok=False)
        if not math.isnan(life) and life <= 0:
            problems.append(Problem(f"must be > 0 (years), got {shown(rec['economic_life'])}", file, row,
                                    "economic_life"))
        if key and not math.isnan(year):
            if (key, int(year)) in seen:
                problems.append(Problem(f"collateral {key!r} has a second row for {int(year)} (first: row "
                                        f"{seen[(key, int(year))]})", file, row, "year"))
            seen[(key, int(year))] = row
        if key and not any(math.isnan(x) for x in (value, year, life)):
            rows.setdefault(key, []).append((int(year), value, life))
    if problems:
        raise InvalidNetworkError(problems)
    return CollateralTable({k: tuple(sorted(v)) for k, v in rows.items()})


def read_cashflows(path: str | Path, net: Any) -> Cashflows:
    """Read ``cashflows.csv`` for ``net`` (ids must be institutions of the network).

    Raises
    ------
    InvalidNetworkError
    """
    path = Path(path)
    df = _read(path, ("id", "year"))
    file = str(path)
    problems: list[Problem] = []
    index = {str(i): k for k, i in enumerate(net.ids)}
    by_year: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    seen: dict[tuple[str, int], int] = {}
    for k, rec in enumerate(df.to_dict("records")):
        row = k + 2
        key = str(rec["id"]).strip()
        if key not in index:
            problems.append(Problem(f"{shown(key)} is not an institution of the network", file, row, "id"))
        year = _number(rec["year"], file, row, "year", problems, blank_ok=False, integer=True, low=None)
        vals = [_number(rec.get(c, ""), file, row, c, problems, blank_ok=True)
                for c in ("external_assets", "external_liabilities")]
        if key in index and not math.isnan(year):
            y = int(year)
            if (key, y) in seen:
                problems.append(Problem(f"{key!r} has a second row for {y} (first: row {seen[(key, y)]})",
                                        file, row, "year"))
                continue
            seen[(key, y)] = row
            a, b = by_year.setdefault(y, (np.full(net.n, np.nan), np.full(net.n, np.nan)))
            a[index[key]], b[index[key]] = vals
    if problems:
        raise InvalidNetworkError(problems)
    return Cashflows(by_year)
