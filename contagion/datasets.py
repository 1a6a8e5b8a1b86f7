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

from .errors import ContagionError
from .network import FinancialNetwork

__all__ = ["list_datasets", "load_dataset", "dataset_path", "dataset_description", "DEFAULT_DATASET",
           "default_dataset", "graphs_root"]

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
        raise ContagionError(f"unknown dataset {name!r}; built-in datasets: {', '.join(list_datasets())}")
    return path


def dataset_description(name: str) -> str:
    """First sentence-like line of the dataset's README (its title), or ''."""
    readme = graphs_root() / name / "README.md"
    if not readme.is_file():
        return ""
    for line in readme.read_text(encoding="utf-8").splitlines():
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
