"""Sweep configurations: loss distributions per institution, correlation, and their files.

A :class:`SweepConfig` says which institutions lose a random fraction of
their outside assets, drawn from which :data:`DISTRIBUTIONS` entry, with which
copula correlation; :func:`load_sweep_config` reads one from TOML/YAML/JSON, given
as a file or by the name of a sweep shipped with a dataset (``graphs/<dataset>/sweeps/``),
through the same resolver as ``contagion sweep --config`` (:func:`resolve_sweep_config`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import ScenarioError, did_you_mean
from ..shocks._common import SCENARIO_SUFFIXES

__all__ = ["Distribution", "DISTRIBUTIONS", "ShockDistribution", "SweepConfig", "load_sweep_config",
           "find_sweep_config", "resolve_sweep_config", "shipped_sweep_configs", "SWEEP_SUFFIXES"]


@dataclass(frozen=True)
class Distribution:
    """An entry of :data:`DISTRIBUTIONS`: parameter names, a validity check and the quantile function."""

    name: str
    params: tuple[str, ...]
    check: Callable[[Mapping[str, float]], list[str]]
    ppf: Callable[..., np.ndarray]
    help: str


def _check_beta(p: Mapping[str, float]) -> list[str]:
    return [f"{k}: must be > 0 (got {p[k]})" for k in ("a", "b") if not p[k] > 0]


#: Cells of the table of exact beta quantiles (uniform in u); the 256 cells at each end are not interpolated.
_BETA_CELLS = 1 << 16
_BETA_EXACT_CELLS = 256


@lru_cache(maxsize=64)
def _beta_table(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact quantiles ``x_k = I^{-1}(k / CELLS)`` and slopes ``dx/du = 1 / pdf(x_k)`` (once per process)."""
    from scipy.special import betaincinv, betaln

    q = np.linspace(0.0, 1.0, _BETA_CELLS + 1)
    x = betaincinv(a, b, q)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = np.exp(betaln(a, b) - (a - 1.0) * np.log(x) - (b - 1.0) * np.log1p(-x))
    return x, slope


def _ppf_beta(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Beta quantiles: cubic Hermite interpolation of a 65,537-point table of exact quantiles
    (``scipy.special.betaincinv``) with the exact slopes ``1/pdf``; exact ``betaincinv`` in the
    256 cells at each end (where the density is steep). Measured error below 1e-12; about 20x
    faster than ``betaincinv`` on every draw (which takes ~3 microseconds a value)."""
    from scipy.special import betaincinv, betaln

    x, slope = _beta_table(float(a), float(b))
    m = _BETA_CELLS
    s = u * m
    k = np.minimum(s.astype(np.int64), m - 1)
    t = s - k
    exact = (k < _BETA_EXACT_CELLS) | (k >= m - _BETA_EXACT_CELLS)
    x0, x1 = x[k], x[k + 1]
    with np.errstate(invalid="ignore", over="ignore"):
        d0, d1 = slope[k] / m, slope[k + 1] / m
        t2 = t * t
        t3 = t2 * t
        out = (2 * t3 - 3 * t2 + 1) * x0 + (t3 - 2 * t2 + t) * d0 + (3 * t2 - 2 * t3) * x1 + (t3 - t2) * d1
    exact |= ~np.isfinite(out)
    out = np.clip(out, x0, x1)  # stay in the cell: the quantile function stays monotone
    if exact.any():
        ue = u[exact]
        xe = betaincinv(a, b, ue)
        # scipy returns nan for u below ~1e-100; there I_x(a, b) ~ x^a / (a B(a, b))
        tiny = ~np.isfinite(xe)
        if tiny.any():
            xe[tiny] = np.exp((np.log(np.maximum(ue[tiny], 1e-323)) + np.log(a) + betaln(a, b)) / a)
        out[exact] = xe
    return out


def _check_uniform(p: Mapping[str, float]) -> list[str]:
    lo, hi = p["low"], p["high"]
    if not (0.0 <= lo <= hi <= 1.0):
        return [f"low, high: need 0 <= low <= high <= 1 (a fraction of outside assets lost), got low={lo}, high={hi}"]
    return []


def _ppf_uniform(u: np.ndarray, low: float, high: float) -> np.ndarray:
    return low + (high - low) * u


def _check_lognormal(p: Mapping[str, float]) -> list[str]:
    from scipy.special import ndtr

    out = []
    if not p["sigma"] > 0:
        out.append(f"sigma: must be > 0 (got {p['sigma']})")
    elif ndtr(-p["mu"] / p["sigma"]) < 1e-12:
        out.append(f"mu, sigma: P(exp(N(mu, sigma^2)) <= 1) = {ndtr(-p['mu'] / p['sigma']):.3g}; the distribution "
                   f"truncated to [0, 1] is degenerate (choose mu well below 0)")
    return out


def _ppf_lognormal(u: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    from scipy.special import ndtr, ndtri

    # inverse transform of the log-normal conditioned on X <= 1: F^{-1}(u * F(1))
    return np.minimum(np.exp(mu + sigma * ndtri(u * ndtr(-mu / sigma))), 1.0)


def _check_fixed(p: Mapping[str, float]) -> list[str]:
    return [] if 0.0 <= p["value"] <= 1.0 else [f"value: must lie in [0, 1] (got {p['value']})"]


def _ppf_fixed(u: np.ndarray, value: float) -> np.ndarray:
    return np.full_like(u, value)


#: name -> :class:`Distribution` of a fraction of outside assets lost (support inside [0, 1]).
DISTRIBUTIONS: dict[str, Distribution] = {
    "beta": Distribution("beta", ("a", "b"), _check_beta, _ppf_beta, "Beta(a, b)"),
    "uniform": Distribution("uniform", ("low", "high"), _check_uniform, _ppf_uniform, "Uniform(low, high)"),
    "lognormal": Distribution("lognormal", ("mu", "sigma"), _check_lognormal, _ppf_lognormal,
                              "exp(N(mu, sigma^2)) conditioned on <= 1"),
    "fixed": Distribution("fixed", ("value",), _check_fixed, _ppf_fixed, "always value"),
}


@dataclass(frozen=True)
class ShockDistribution:
    """One ``[[shocks]]`` entry of a sweep configuration (plain data).

    ``target`` (names/ids) or ``select`` (node-attribute filter, as in scenario
    files) picks the institutions; ``distribution`` and ``params`` give the
    fraction of outside assets each loses; ``correlation`` overrides the
    configuration's loading on the common factor.
    """

    distribution: str
    params: tuple[tuple[str, float], ...]
    target: str | tuple[str, ...] | None = None
    select: tuple[tuple[str, Any], ...] | None = None
    correlation: float | None = None

    @property
    def kwargs(self) -> dict[str, float]:
        return dict(self.params)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.target is not None:
            out["target"] = list(self.target) if isinstance(self.target, tuple) else self.target
        if self.select is not None:
            out["select"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.select}
        out["distribution"] = self.distribution
        out.update(self.params)
        if self.correlation is not None:
            out["correlation"] = self.correlation
        return out

    def node_mask(self, net) -> np.ndarray:
        """Boolean mask of the institutions this entry hits (same matching rules as scenario files)."""
        from ..shocks import Shock, _node_mask, _ShockProblem

        shock = Shock("external_assets", target=self.target, select=self.select, relative=0.0)
        try:
            return _node_mask(net, shock)
        except _ShockProblem as exc:
            raise ScenarioError(str(exc)) from None


@dataclass(frozen=True)
class SweepConfig:
    """A sweep configuration (see the module docstring for the file format).

    Build one with :meth:`from_dict` or :func:`load_sweep_config`, which check
    every value and report every problem with its path (``shocks[1].a: must be > 0``).
    """

    name: str = "sweep"
    description: str = ""
    correlation: float = 0.0
    levels: tuple[float, ...] = (0.95, 0.99)
    bins: int = 40
    scenario: str | None = None
    shocks: tuple[ShockDistribution, ...] = field(default_factory=tuple)
    #: the file it was read from (named in messages); not part of the configuration
    source: str | None = field(default=None, compare=False, repr=False)

    @property
    def where(self) -> str:
        """How messages name it: ``sweep 'x'``, after its file when it was read from one."""
        return f"{self.source}: sweep {self.name!r}" if self.source else f"sweep {self.name!r}"

    @classmethod
    def from_dict(cls, data: Any, *, name: str | None = None, source: str | None = None) -> "SweepConfig":
        """Validate a mapping (as read from a file); every problem is reported, with its path."""
        prefix = f"{source}: " if source else ""
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{prefix}a sweep configuration must be a table (mapping), got {type(data).__name__}")
        known = {"name", "description", "correlation", "levels", "bins", "scenario", "shocks"}
        for key in data:
            if key not in known:
                problems.append(f"{key}: unknown key{did_you_mean(key, sorted(known))} (expected one of "
                                f"{', '.join(sorted(known))})")
        cfg_name = data.get("name", name or "sweep")
        if not isinstance(cfg_name, str) or not cfg_name:
            problems.append("name: must be non-empty text")
        desc = data.get("description", "")
        if not isinstance(desc, str):
            problems.append("description: must be text")
        rho = _number(data.get("correlation", 0.0), "correlation", problems)
        if rho is not None and not (0.0 <= rho < 1.0):
            problems.append(f"correlation: must lie in [0, 1) (got {rho})")
        levels_raw = data.get("levels", [0.95, 0.99])
        levels: list[float] = []
        if not isinstance(levels_raw, (list, tuple)) or not levels_raw:
            problems.append("levels: must be a non-empty list of numbers in (0, 1)")
        else:
            for k, lv in enumerate(levels_raw):
                f = _number(lv, f"levels[{k}]", problems)
                if f is not None and not (0.0 < f < 1.0):
                    problems.append(f"levels[{k}]: must lie in (0, 1) (got {f})")
                elif f is not None:
                    levels.append(f)
        bins = data.get("bins", 40)
        if isinstance(bins, bool) or not isinstance(bins, int) or not (1 <= bins <= 10_000):
            problems.append(f"bins: must be a whole number in [1, 10000] (got {bins!r})")
        scen = data.get("scenario")
        if scen is not None and (not isinstance(scen, str) or not scen):
            problems.append("scenario: must be the name or path of a scenario")
        raw_shocks = data.get("shocks")
        entries: list[ShockDistribution] = []
        if not isinstance(raw_shocks, (list, tuple)) or not raw_shocks:
            problems.append("shocks: need at least one [[shocks]] entry")
        else:
            for k, raw in enumerate(raw_shocks):
                entry = _parse_entry(raw, f"shocks[{k}]", problems)
                if entry is not None:
                    entries.append(entry)
        if problems:
            raise ScenarioError.listing([prefix + p for p in problems])
        return cls(name=cfg_name, description=desc, correlation=float(rho), levels=tuple(sorted(set(levels))),
                   bins=int(bins), scenario=scen, shocks=tuple(entries), source=source)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "description": self.description, "correlation": self.correlation,
                               "levels": list(self.levels), "bins": self.bins}
        if self.scenario is not None:
            out["scenario"] = self.scenario
        out["shocks"] = [s.to_dict() for s in self.shocks]
        return out


def _number(v: Any, path: str, problems: list[str]) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
        problems.append(f"{path}: must be a finite number (got {v!r})")
        return None
    return float(v)


def _parse_entry(raw: Any, path: str, problems: list[str]) -> ShockDistribution | None:
    from ..shocks import Shock

    if not isinstance(raw, Mapping):
        problems.append(f"{path}: must be a table, got {type(raw).__name__}")
        return None
    n_before = len(problems)
    dist_name = raw.get("distribution")
    dist = DISTRIBUTIONS.get(dist_name) if isinstance(dist_name, str) else None
    if dist is None:
        hint = did_you_mean(dist_name, DISTRIBUTIONS) if isinstance(dist_name, str) else ""
        problems.append(f"{path}.distribution: must be one of {', '.join(DISTRIBUTIONS)}, got {dist_name!r}{hint}")
    allowed = {"target", "select", "distribution", "correlation"} | (set(dist.params) if dist else set())
    for key in raw:
        if key not in allowed:
            problems.append(f"{path}.{key}: unknown key{did_you_mean(key, sorted(allowed))}"
                            + (f" for {dist.name} (parameters: {', '.join(dist.params)})" if dist else ""))
    has_t, has_s = raw.get("target") is not None, raw.get("select") is not None
    if has_t == has_s:
        problems.append(f"{path}: give exactly one of target (names or ids) and select (attribute filter)")
    target = select = None
    if has_t ^ has_s:
        try:  # validate target / select with the scenario model
            tmp = Shock("external_assets", target=raw.get("target"), select=raw.get("select"), relative=0.0)
            target, select = tmp.target, tmp.select
        except ScenarioError as exc:
            problems.append(f"{path}.{exc}")
    rho = None
    if "correlation" in raw:
        rho = _number(raw["correlation"], f"{path}.correlation", problems)
        if rho is not None and not (0.0 <= rho < 1.0):
            problems.append(f"{path}.correlation: must lie in [0, 1) (got {rho})")
    params: dict[str, float] = {}
    if dist is not None:
        for p in dist.params:
            if p not in raw:
                problems.append(f"{path}.{p}: missing (the {dist.name} distribution needs {', '.join(dist.params)})")
            else:
                f = _number(raw[p], f"{path}.{p}", problems)
                if f is not None:
                    params[p] = f
        if len(params) == len(dist.params):
            problems.extend(f"{path}.{msg}" for msg in dist.check(params))
    if len(problems) > n_before:
        return None
    return ShockDistribution(distribution=dist.name, params=tuple(params.items()), target=target, select=select,
                             correlation=rho)


#: suffixes of sweep configuration files, in the order a name is looked up: those of scenario files (one parser)
SWEEP_SUFFIXES = SCENARIO_SUFFIXES


def _sweep_dirs(network: Any = None) -> list[tuple[Path, str]]:
    """``(folder, label)`` of the folders searched for named sweeps: with a network (or a dataset name), the
    ``sweeps/`` folder beside each of its scenario folders (its built-in dataset's, then the folder it was read
    from); without one, ``graphs/<dataset>/sweeps/`` of every built-in dataset."""
    from ..shocks import scenario_dirs

    if network is None:
        from ..datasets import dataset_path, list_datasets

        return [(dataset_path(name) / "sweeps", name) for name in list_datasets()]
    if isinstance(network, str):
        label = network
    else:
        meta = network.metadata or {}
        label = str(meta.get("dataset") or (Path(str(meta["source"])).name if meta.get("source") else "this network"))
    return [(d.parent / "sweeps", label) for d in scenario_dirs(network)]


def shipped_sweep_configs(network: Any = None) -> dict[str, list[tuple[Path, str]]]:
    """The sweep configurations shipped with a network (or a built-in dataset given by name), or with every
    built-in dataset when ``network`` is None: ``{name: [(file, dataset or folder), ...]}``, sorted by name.

    The name is the file stem (what ``contagion sweep --config NAME`` and :func:`load_sweep_config` take).

    >>> {name: [where for _, where in found] for name, found in shipped_sweep_configs().items()}
    {'ai-demand-uncertainty': ['ai-infrastructure']}
    """
    found: dict[str, list[tuple[Path, str]]] = {}
    seen: set[Path] = set()
    for folder, label in _sweep_dirs(network):
        if not folder.is_dir() or folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix.lower() in SWEEP_SUFFIXES and not path.name.startswith("."):
                entries = found.setdefault(path.stem, [])
                if not any(where == label for _, where in entries):   # x.toml beside x.yaml: the first suffix
                    entries.append((path, label))
    return dict(sorted(found.items()))


def resolve_sweep_config(spec: str | Path, network: Any = None) -> Path:
    """The file a sweep configuration ``spec`` names: the one resolver behind ``contagion sweep --config`` and
    :func:`load_sweep_config`.

    ``spec`` is an existing file, else the name (file stem, or file name) of a sweep shipped with ``network``
    (:func:`shipped_sweep_configs`), or, without a network, with any built-in dataset.

    Raises
    ------
    ScenarioError
        A folder; a path that does not exist (it has a suffix or a folder part); a name shipped by several
        datasets (without a network); an unknown name, with "did you mean" and the names that are shipped.

    Examples
    --------
    >>> resolve_sweep_config("ai-demand-uncertainty").relative_to(resolve_sweep_config("ai-demand-uncertainty")
    ...                                                           .parents[2]).as_posix()
    'ai-infrastructure/sweeps/ai-demand-uncertainty.toml'
    >>> resolve_sweep_config("ai-demand")
    Traceback (most recent call last):
    ...
    contagion.errors.ScenarioError: unknown sweep configuration 'ai-demand' (did you mean 'ai-demand-uncertainty'?): not a file, nor a sweep shipped with a built-in dataset; shipped: ai-demand-uncertainty (ai-infrastructure)
    """
    from ..errors import shown

    text = str(spec)
    path = Path(spec)
    if path.is_file():
        return path
    if path.is_dir():
        raise ScenarioError(f"{text}: is a directory, not a sweep configuration file")
    shipped = shipped_sweep_configs(network)
    every = {name: list(found) for name, found in shipped.items()}     # the network's, then the built-in ones
    for name, found in (shipped_sweep_configs().items() if network is not None else ()):
        known = every.setdefault(name, [])
        known += [(p, w) for p, w in found if all(p.resolve() != q.resolve() for q, _ in known)]
    every = dict(sorted(every.items()))
    listing = ("; shipped: " + ", ".join(f"{name} ({', '.join(w for _, w in found)})" for name, found in every.items())
               if every else "; no sweep configurations are shipped")
    by_file = {p.name: (name, found) for name, found in shipped.items() for p, _ in found}
    name = text if text in shipped else (by_file[text][0] if text in by_file else None)
    if name is not None:
        found = shipped[name]
        if len(found) > 1:
            raise ScenarioError(f"sweep configuration {shown(text)} is shipped with several datasets ("
                                + ", ".join(w for _, w in found) + "); give the file's path, or the network")
        return found[0][0]
    if path.suffix or "/" in text or "\\" in text:
        raise ScenarioError(f"{text}: no such sweep configuration file" + listing)
    dirs = _sweep_dirs(network) if network is not None else []
    where = dirs[0][1] if dirs else ("a built-in dataset" if network is None else "this network")
    if text in every:                             # shipped, but with another dataset than the network's
        elsewhere = ", ".join(w for _, w in every[text])
        raise ScenarioError(f"sweep configuration {shown(text)} ships with {elsewhere}, not with {where}: its "
                            f"targets are that network's institutions; give its path to use it anyway")
    raise ScenarioError(f"unknown sweep configuration {shown(text)}{did_you_mean(text, every)}: not a file, nor a "
                        f"sweep shipped with "
                        f"{where}{listing}")


def load_sweep_config(spec: str | Path, network: Any = None) -> SweepConfig:
    """Read a sweep configuration (.toml, .yaml/.yml or .json), given as a file or by the name of one shipped
    with a dataset, as ``contagion sweep --config`` takes it (:func:`resolve_sweep_config`); the name defaults
    to the file stem.

    Parameters
    ----------
    spec : str or Path
        A file, or the name of a shipped sweep (``"ai-demand-uncertainty"``: ``graphs/ai-infrastructure/sweeps/``).
    network : FinancialNetwork or str, optional
        Look the name up among this network's (or built-in dataset's) sweeps only; without it, among every
        built-in dataset's.

    Raises
    ------
    ScenarioError
        Missing file or unknown name (with "did you mean" and the shipped names), syntax error, or every
        problem with its path.

    Examples
    --------
    >>> cfg = load_sweep_config("ai-demand-uncertainty")
    >>> cfg.name, cfg.shocks[0].distribution
    ('ai-demand-uncertainty', 'beta')
    """
    from ..shocks import _PARSERS, parse_config_text, read_config_text

    path = resolve_sweep_config(spec, network)
    suffix = path.suffix.lower()
    if suffix not in _PARSERS:
        raise ScenarioError(f"{path}: unknown suffix {path.suffix!r}; use .toml, .yaml, .yml or .json")
    data = parse_config_text(read_config_text(path, "sweep configuration file"), suffix, source=str(path))
    shocks = data.get("shocks") if isinstance(data, dict) else None
    if isinstance(shocks, list) and shocks and all(isinstance(x, dict) and "kind" in x and "distribution" not in x
                                                   for x in shocks):
        raise ScenarioError(f"{path}: a scenario (shocks with a kind), not a sweep configuration; apply it with "
                            f"`contagion run -s {path}`, or sweep on top of it with `contagion sweep -s {path} -c "
                            f"CONFIG`")
    return SweepConfig.from_dict(data, name=path.stem, source=str(path))


def find_sweep_config(spec: str | Path, network: Any = None) -> SweepConfig:
    """Resolve ``--config``: an existing file, else a sweep shipped with the network (``sweeps/`` beside its
    scenarios; a built-in dataset ships them in ``graphs/<dataset>/sweeps/``). The same as
    :func:`load_sweep_config` (one resolver, :func:`resolve_sweep_config`)."""
    return load_sweep_config(spec, network)
