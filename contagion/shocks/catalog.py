"""Finding scenarios: the ones that ship with a network or dataset, ``--scenario NAME``, the default one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ScenarioError, did_you_mean, shown
from ._common import SCENARIO_SUFFIXES
from .files import load_scenario
from .model import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from ..network import FinancialNetwork


def scenario_dirs(network: "FinancialNetwork | str") -> list[Path]:
    """Folders searched for named scenarios of a network (or of a dataset given by name).

    ``graphs/<dataset>/scenarios/`` for a built-in dataset
    (``net.metadata["dataset"]``), then ``<source>/scenarios/`` for a network
    read from a directory (``net.metadata["source"]``), or the ``scenarios/``
    folder next to a network file.
    """
    from ..datasets import dataset_path

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
        from dataclasses import replace

        return replace(load_scenario(path), source=spec)      # a user's file: messages name it
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
        raise ScenarioError(f"unknown scenario {shown(spec)}{did_you_mean(spec, files)}; available for {where}: "
                            f"{', '.join(sorted(files))}")
    raise ScenarioError(f"unknown scenario {shown(spec)}: not a file, and no scenarios ship with {where}")


def _network_config(network: "FinancialNetwork | str") -> tuple[dict, str]:
    """``dataset.toml`` settings of a dataset, or of the folder a network was read from, and their location."""
    from ..datasets import dataset_config, dataset_path, read_dataset_toml

    if isinstance(network, str):
        return dataset_config(network), str(dataset_path(network) / "dataset.toml")
    meta = network.metadata or {}
    if meta.get("dataset"):
        return dataset_config(str(meta["dataset"])), str(dataset_path(str(meta["dataset"])) / "dataset.toml")
    if meta.get("source"):
        src = Path(str(meta["source"]))
        path = (src if src.is_dir() else src.parent) / "dataset.toml"
        if path.is_file():
            return read_dataset_toml(path, error=ScenarioError), str(path)
    return {}, ""


def default_scenario_of(network: "FinancialNetwork | str", path: bool = False) -> Scenario | None:
    """The scenario ``contagion run`` applies when none is given, or ``None``.

    It is named by ``default_scenario`` in the ``dataset.toml`` of the
    network's built-in dataset (``graphs/<dataset>/dataset.toml``) or of the
    folder the network was read from. With ``path=True`` (a multi-year path,
    ``--horizon``), by ``default_path_scenario`` when the file names one (a
    scenario whose shocks fall in their years: a one-year scenario's shocks
    would hit every year of the path), else by ``default_scenario``.

    >>> import contagion
    >>> default_scenario_of(contagion.load_dataset("core-periphery")).name
    'core-shock'
    >>> default_scenario_of(contagion.load_dataset("chain")) is None
    True
    >>> default_scenario_of(contagion.load_dataset("ai-infrastructure"), path=True).name
    'openai-slowdown-2027'
    """
    config, where = _network_config(network)
    key = "default_path_scenario" if path and config.get("default_path_scenario") is not None else "default_scenario"
    name = config.get(key)
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{where}: {key} must be a scenario name, got {shown(name)}")
    try:
        return find_scenario(name, network)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {key}: {exc}") from None


def _network_label(network: Any) -> str:
    if network is None:
        return "this network"
    if isinstance(network, str):
        return network
    meta = network.metadata or {}
    return str(meta.get("dataset") or meta.get("source") or "this network")
