"""The outcome of a Monte Carlo sweep: per-institution averages and the system-loss distribution."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .config import SweepConfig

__all__ = ["SweepResult"]


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Aggregated outcome of a Monte Carlo sweep (immutable; arrays aligned with ``names``).

    Attributes
    ----------
    names, types : tuple, ndarray
    default_probability : ndarray
        Share of draws in which the institution defaults.
    expected_shortfall : ndarray
        Mean payment shortfall ``E[pbar - p]`` (what it fails to pay, on
        average). Not to be confused with the system's tail measure :meth:`es`.
    expected_loss : ndarray
        Mean fall of equity from the base clearing (its own outside-asset loss
        plus what its debtors fail to pay).
    system_loss : ndarray
        Per draw, the Glasserman--Young system loss: outside assets lost plus
        the increase in total shortfall over the base clearing.
    defaults : ndarray of int
        Per draw, the number of institutions in default.
    n, seed, method, config, levels
        How it was produced.
    scenarios : tuple of str
        Names of the scenarios applied before the draws (those asked for,
        then the configuration's ``scenario``).
    """

    names: tuple[str, ...]
    types: np.ndarray
    default_probability: np.ndarray
    expected_shortfall: np.ndarray
    expected_loss: np.ndarray
    system_loss: np.ndarray = field(repr=False)
    defaults: np.ndarray = field(repr=False)
    n: int = 0
    seed: int = 0
    method: str = "eisenberg-noe"
    config: SweepConfig = field(default_factory=SweepConfig, repr=False)
    params: Mapping[str, Any] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ()

    @property
    def levels(self) -> tuple[float, ...]:
        return self.config.levels

    def _sorted(self) -> np.ndarray:
        return np.sort(self.system_loss, kind="stable")

    def var(self, level: float) -> float:
        """Value-at-Risk of the system loss: the smallest ``x`` with ``P(loss <= x) >= level``.

        On the sample, the order statistic ``L_(ceil(n * level))`` (1-based).
        """
        s = self._sorted()
        k = max(int(math.ceil(len(s) * level - 1e-9)), 1)
        return float(s[k - 1])

    def es(self, level: float) -> float:
        """Expected shortfall (conditional tail expectation) of the system loss at ``level``.

        The mean of the worst ``1 - level`` share of the sample, with the
        boundary draw weighted fractionally (Acerbi & Tasche 2002, eq. 3.3)::

            ES = ( sum_{k > m} L_(k) / n + (m / n - level) L_(m) ) / (1 - level),  m = ceil(n * level)
        """
        s = self._sorted()
        n = len(s)
        m = max(int(math.ceil(n * level - 1e-9)), 1)
        tail = float(np.sum(s[m:])) / n + (m / n - level) * float(s[m - 1])
        return tail / (1.0 - level)

    def histogram(self, bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of the system loss (``bins`` default: the configuration's)."""
        return np.histogram(self.system_loss, bins=bins or self.config.bins)

    def to_frame(self) -> pd.DataFrame:
        """Per-institution table indexed by name: ``type, default_probability, expected_shortfall, expected_loss``."""
        return pd.DataFrame(
            {
                "type": self.types,
                "default_probability": self.default_probability,
                "expected_shortfall": self.expected_shortfall,
                "expected_loss": self.expected_loss,
            },
            index=pd.Index(list(self.names), name="name"),
        )

    def summary(self) -> dict[str, Any]:
        """System-level numbers as plain Python values (``var`` and ``es`` keyed by level)."""
        loss = self.system_loss
        counts, edges = self.histogram()
        return {
            "draws": int(self.n),
            "seed": int(self.seed),
            "method": self.method,
            "system_loss": {
                "mean": float(np.mean(loss)),
                "std": float(np.std(loss)),
                "min": float(np.min(loss)),
                "max": float(np.max(loss)),
                "var": {_level_key(q): self.var(q) for q in self.levels},
                "es": {_level_key(q): self.es(q) for q in self.levels},
                "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
            },
            "defaults": {
                "mean": float(np.mean(self.defaults)),
                "probability_any": float(np.mean(self.defaults > 0)),
                "max": int(np.max(self.defaults)),
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """``{"institutions": [records], "system_loss": {...}, "defaults": {...}, "config": {...}, ...}``."""
        frame = self.to_frame().reset_index()
        out = {"institutions": frame.to_dict(orient="records")}
        out.update(self.summary())
        out["config"] = self.config.to_dict()
        return out

    def __repr__(self) -> str:
        return (f"SweepResult(n={self.n}, seed={self.seed}, mean_loss={float(np.mean(self.system_loss)):.6g}, "
                f"institutions={len(self.names)})")


def _level_key(q: float) -> str:
    return f"{q:g}"
