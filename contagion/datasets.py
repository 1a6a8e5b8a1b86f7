"""Built-in networks shipped with the package (the ``graphs/`` folder).

Each dataset is a directory in the project's network format (``nodes.csv`` +
``edges.csv``), with a ``README.md`` (provenance) and optionally
``scenarios/*.toml``. From a checkout they are read from ``graphs/``; from an
installed wheel from ``contagion/graphs/``.

>>> import contagion
>>> "chain" in contagion.list_datasets()
True
>>> contagion.load_dataset("chain").names
('A', 'B', 'C')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import ContagionError, did_you_mean, shown

if TYPE_CHECKING:  # listing datasets must not load the network's numpy/pandas/scipy
    from .network import FinancialNetwork

__all__ = ["described", "dataset_units", "list_datasets", "load_dataset", "dataset_path", "dataset_description",
           "DEFAULT_DATASET", "default_dataset", "graphs_root", "dataset_config", "default_scenario", "scenarios_path",
           "read_dataset_toml", "read_readme"]

#: The dataset used when no network is named (falls back to a toy until it is shipped).
DEFAULT_DATASET = "ai-infrastructure"
_FALLBACK_DATASET = "core-periphery"


def graphs_root() -> Path:
    """The folder holding the built-in datasets (installed copy first, then the checkout's)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "graphs", here.parent / "graphs"):
        if candidate.is_dir() and any(candidate.glob("*/nodes.csv")):
            return candidate
    raise ContagionError(f"built-in datasets not found (looked in {here / 'graphs'} and {here.parent / 'graphs'})")


def list_datasets() -> dict[str, str]:
    """Names of the built-in datasets with a one-line description, sorted by name."""
    root = graphs_root()
    return {p.name: dataset_description(p.name) for p in sorted(root.iterdir())
            if (p / "nodes.csv").is_file() and (p / "edges.csv").is_file()}


def dataset_path(name: str) -> Path:
    """Directory of a built-in dataset; :class:`ContagionError` naming the choices if unknown."""
    path = graphs_root() / name
    if not (path / "nodes.csv").is_file():
        raise ContagionError(f"unknown dataset {name!r}{did_you_mean(name, list_datasets())}; built-in datasets: "
                             f"{', '.join(list_datasets())}")
    return path


def dataset_description(name: str) -> str:
    """First sentence-like line of the dataset's README (its title), or ''."""
    readme = graphs_root() / name / "README.md"
    if not readme.is_file():
        return ""
    for line in read_readme(readme).splitlines():
        text = line.strip().lstrip("#").strip()
        if text:
            return text
    return ""


def default_dataset() -> str:
    """Name of the dataset used when none is given."""
    root = graphs_root()
    return DEFAULT_DATASET if (root / DEFAULT_DATASET / "nodes.csv").is_file() else _FALLBACK_DATASET


def load_dataset(name: str | None = None) -> FinancialNetwork:
    """Load a built-in dataset by name (default: :func:`default_dataset`)."""
    from .io import read_network

    name = name or default_dataset()
    net = read_network(dataset_path(name))
    return net.replace(metadata={**net.metadata, "dataset": name})


# ---------------------------------------------------------------------- dataset.toml and scenarios
#: Keys of ``graphs/<dataset>/dataset.toml`` with a meaning, and their type; other keys are kept as they are.
DATASET_KEYS: dict[str, type] = {"title": str, "default_scenario": str, "default_path_scenario": str}


def dataset_config(name: str) -> dict:
    """Settings of a built-in dataset from ``graphs/<name>/dataset.toml`` (``{}`` when there is none).

    Known keys: ``title`` (str), ``default_scenario`` (name of a scenario in
    ``graphs/<name>/scenarios/``, applied by ``contagion run`` when no
    ``--scenario`` is given) and ``default_path_scenario`` (the same for a
    multi-year path, ``--horizon``: a scenario whose shocks fall in their
    years; without it a path applies ``default_scenario``). Other keys are
    returned unchanged.

    >>> dataset_config("core-periphery")["default_scenario"]
    'core-shock'
    >>> dataset_config("chain")
    {}
    """
    path = dataset_path(name) / "dataset.toml"
    if not path.is_file():
        return {}
    return read_dataset_toml(path)


def described(meta, keys: tuple[str, ...], key: str):
    """What a network's metadata says under the first of ``keys`` that holds a value, else what its built-in
    dataset's ``dataset.toml`` says under ``key`` (``None`` when neither does, or the dataset is unknown)."""
    meta = meta or {}
    value = next((meta[k] for k in keys if meta.get(k)), None)
    if not value and meta.get("dataset"):
        try:
            value = dataset_config(str(meta["dataset"])).get(key)
        except ContagionError:
            value = None
    return value


def dataset_units(meta) -> str:
    """Units of a network's amounts: its metadata ``units``/``unit``, else its built-in dataset's
    ``dataset.toml`` ``units`` ("" when nothing says)."""
    units = described(meta, ("units", "unit"), "units")
    return str(units) if units else ""


def read_dataset_toml(path: str | Path, error: Callable[[str], Exception] = ContagionError) -> dict:
    """The settings in a ``dataset.toml`` file (of a built-in dataset or of any network folder).

    Every problem is ``error(message)``, one line naming the file and the line
    and column or the key: not UTF-8, invalid TOML, a key given twice, nesting
    deeper than 100 levels, a known key of the wrong type.
    """
    from .io.text import parse_data, read_text

    path = Path(path)
    config = parse_data(read_text(path, "dataset.toml file", error=error), ".toml", source=str(path), error=error)
    for key, typ in DATASET_KEYS.items():
        if key in config and not isinstance(config[key], typ):
            raise error(f"{path}: {key} must be {typ.__name__}, got {shown(config[key])}")
    from ._words import folded, one_letter_off

    for key in config:      # a known key misspelt would be kept as another key and silently not apply
        meant = next((k for k in DATASET_KEYS if key != k and (folded(key) == folded(k)
                                                               or one_letter_off(folded(key), folded(k)))), None)
        if meant is not None and key not in DATASET_KEYS:
            raise error(f"{path}: unknown key {key!r}; did you mean {meant!r}? (as it is, {meant} would not apply)")
    return config


def read_readme(path: str | Path) -> str:
    """The text of a dataset's ``README.md``; :class:`ContagionError` naming the file, byte and line when it is
    not UTF-8 (it is shown as it is, so it is never decoded by guesswork)."""
    from .io.text import read_text

    return read_text(path, "README", encoding="utf-8")


def default_scenario(name: str) -> str | None:
    """Name of the scenario ``contagion run`` applies to dataset ``name`` by default, or ``None``."""
    return dataset_config(name).get("default_scenario")


def scenarios_path(name: str) -> Path:
    """Folder of the scenarios shipped with a built-in dataset (it may not exist)."""
    return dataset_path(name) / "scenarios"
