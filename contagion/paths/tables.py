"""The two tables beside a dated network (DESIGN.md §7): ``collateral.csv`` and ``cashflows.csv``.

- ``collateral.csv``: ``id``, ``value``, ``year``, ``economic_life``, and
  optionally ``asset``. The value falls straight-line to zero over the
  economic life from ``year``; several rows with one id give its value again
  at later years (the latest row at or before a year applies). Before its
  first row's year a collateral is worth that row's value. ``asset`` names an
  asset the institutions hold (node column ``asset_units`` is the asset
  ``asset``, ``asset_units_<name>`` the asset ``<name>``): the collateral's
  value then follows that asset's price on a fire-sale path,
  ``value x price / starting price`` (the straight-line value is in money at
  the price before any sale, 1; see :mod:`contagion.paths.engine`). Blank:
  not price-linked. The rows of one id may not name two different assets.
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

from .._columns import is_blank, located_numbers
from ..errors import InvalidNetworkError, Problem, shown

__all__ = ["CollateralTable", "Cashflows", "read_collateral", "read_cashflows", "network_folders"]


@dataclass(frozen=True, eq=False)
class CollateralTable:
    """Collateral values by year: ``value_at(id, year)``."""

    rows: Mapping[str, tuple[tuple[int, float, float], ...]] = field(default_factory=dict)  # id -> (year, v, life)
    #: id -> the asset whose price marks it (ids not here are not price-linked)
    assets: Mapping[str, str] = field(default_factory=dict)
    #: id -> (file, row) where its asset is named (for located errors)
    asset_rows: Mapping[str, tuple[str | None, int | None]] = field(default_factory=dict)
    #: the file the table was read from (``None``: not read from a file)
    file: str | None = None

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def price_factor(self, key: str, prices: Mapping[str, float] | None) -> float:
        """``price / starting price`` of the asset collateral ``key`` follows (1 when it follows none, or
        without prices); ``prices`` are relative to the starting price, 1, as on a path.

        >>> t = CollateralTable({"gpu": ((2026, 100.0, 4.0),)}, assets={"gpu": "asset"})
        >>> t.price_factor("gpu", {"asset": 0.9}), t.price_factor("gpu", None)
        (0.9, 1.0)
        >>> t.value_at("gpu", 2027) * t.price_factor("gpu", {"asset": 0.9})
        67.5
        """
        asset = self.assets.get(key)
        if asset is None or not prices:
            return 1.0
        return float(prices.get(asset, 1.0))

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


#: the columns each table reads (others are kept for the reader's notes: sources, assumptions)
COLLATERAL_COLUMNS = ("id", "value", "year", "economic_life", "asset")
CASHFLOW_COLUMNS = ("id", "year", "external_assets", "external_liabilities")


def _read(path: Path, required: tuple[str, ...],
          known: tuple[str, ...]) -> tuple[pd.DataFrame, list[Problem], set[int]]:
    """``(table, problems, rows)`` of ``path``, read by the network's CSV reader
    (:func:`contagion.io.formats._read_csv_table`): rows as in the file (header = row 1); an empty row, a
    duplicate column or a row with more or fewer cells than the header is a problem naming the file and row
    (``rows``: the rows it names, whose values are not checked again), and nothing is skipped or shifted.
    A file that cannot be read as a table at all, lacks a required column or has a column named nearly like
    one of ``known`` (``External_Liabilities``, ``external_asset``: read as it is, the column it means would
    be left blank) raises."""
    from ..io._tables import near_miss_message, near_misses
    from ..io.formats import _read_csv_table, refuse_directories

    refuse_directories((path,))
    if not path.is_file():
        raise InvalidNetworkError([Problem("no such file", str(path))])
    problems: list[Problem] = []
    bad: set[int] = set()
    try:
        df = _read_csv_table(path, problems, bad, infer=False)
    except OSError as exc:
        raise InvalidNetworkError([Problem(f"cannot read the file ({exc.strerror or exc})", str(path))]) from None
    if df is not None:
        misses = near_misses(df.columns, known)
        problems += [Problem(near_miss_message(meant, col), str(path), 1, str(col), col) for col, meant in misses]
        meant = {m for _, m in misses}          # (a required column misspelt is reported once, as a near miss)
        problems += [Problem(f"missing column {c}", str(path), 1, c) for c in required
                     if c not in df.columns and c not in meant]
    if df is None or any(p.row in (1, None) for p in problems):
        raise InvalidNetworkError(problems)
    return df, problems, bad


def _raise(found: list[Problem], problems: list[Problem], bad: set[int]) -> None:
    """Raise the file's problems: those of its structure (``found``), then those of its values on other rows."""
    problems = found + [p for p in problems if p.row not in bad]
    if problems:
        raise InvalidNetworkError(sorted(problems, key=lambda p: -1 if p.row is None else p.row))


def read_collateral(path: str | Path) -> CollateralTable:
    """Read ``collateral.csv`` (every bad value located by file, row, column and value).

    Raises
    ------
    InvalidNetworkError
    """
    path = Path(path)
    df, found, bad = _read(path, ("id", "value", "year", "economic_life"), COLLATERAL_COLUMNS)
    file = str(path)
    problems: list[Problem] = []
    value = located_numbers(df["value"], "value", file, 2, problems, low=0, required=True)
    year = located_numbers(df["year"], "year", file, 2, problems, integer=True, required=True, want="a whole year")
    life = located_numbers(df["economic_life"], "economic_life", file, 2, problems, low=0, low_open=True,
                           required=True, want="a finite number > 0 (years)")
    asset_col = [("" if is_blank(v) else v) for v in df["asset"].tolist()] if "asset" in df.columns else \
        [""] * len(df)
    rows: dict[str, list[tuple[int, float, float]]] = {}
    assets: dict[str, str] = {}
    asset_rows: dict[str, tuple[str, int]] = {}
    seen: dict[tuple[str, int], int] = {}
    for k, key in enumerate(df["id"].tolist()):
        row = k + 2
        key = str(key).strip()
        if not key:
            problems.append(Problem("is blank; every collateral needs an id", file, row, "id"))
            continue
        asset = str(asset_col[k]).strip()
        if asset and key in assets and assets[key] != asset:
            problems.append(Problem(f"collateral {key!r} follows asset {assets[key]!r} on row {asset_rows[key][1]}; "
                                    f"one collateral follows one asset, got {shown(asset)}", file, row, "asset"))
        elif asset and key not in assets:
            assets[key], asset_rows[key] = asset, (file, row)
        if not math.isnan(year[k]):
            y = int(year[k])
            if (key, y) in seen:
                problems.append(Problem(f"collateral {key!r} has a second row for {y} (first: row {seen[(key, y)]})",
                                        file, row, "year"))
            seen[(key, y)] = row
        if not any(math.isnan(x) for x in (value[k], year[k], life[k])):
            rows.setdefault(key, []).append((int(year[k]), float(value[k]), float(life[k])))
    _raise(found, problems, bad)
    return CollateralTable({k: tuple(sorted(v)) for k, v in rows.items()}, assets, asset_rows, file)


def read_cashflows(path: str | Path, net: Any) -> Cashflows:
    """Read ``cashflows.csv`` for ``net`` (ids must be institutions of the network).

    Raises
    ------
    InvalidNetworkError
    """
    path = Path(path)
    df, found, bad = _read(path, ("id", "year"), CASHFLOW_COLUMNS)
    file = str(path)
    problems: list[Problem] = []
    if not {"external_assets", "external_liabilities"} & set(df.columns):
        raise InvalidNetworkError([Problem("has neither an external_assets nor an external_liabilities column: it "
                                           "would change nothing", file, 1)])
    index = {str(i): k for k, i in enumerate(net.ids)}
    year = located_numbers(df["year"], "year", file, 2, problems, integer=True, required=True, want="a whole year")
    money = [located_numbers(df[c] if c in df.columns else [""] * len(df), c, file, 2, problems, low=0)
             for c in ("external_assets", "external_liabilities")]
    by_year: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    seen: dict[tuple[str, int], int] = {}
    for k, key in enumerate(df["id"].tolist()):
        row = k + 2
        key = str(key).strip()
        if key not in index:
            problems.append(Problem(f"{shown(key)} is not an institution of the network", file, row, "id"))
        if key in index and not math.isnan(year[k]):
            y = int(year[k])
            if (key, y) in seen:
                problems.append(Problem(f"{key!r} has a second row for {y} (first: row {seen[(key, y)]})",
                                        file, row, "year"))
                continue
            seen[(key, y)] = row
            a, b = by_year.setdefault(y, (np.full(net.n, np.nan), np.full(net.n, np.nan)))
            a[index[key]], b[index[key]] = money[0][k], money[1][k]
    _raise(found, problems, bad)
    return Cashflows(by_year)
