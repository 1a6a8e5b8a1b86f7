"""Reading and writing networks, and bridges to networkx and igraph.

:func:`read_network` and :func:`write_network` choose the format from the path
(and, for a file without a known suffix, from its first bytes); pass
``format=`` to skip the guess. The formats (registry :data:`FORMATS`):

- ``csv``: a directory with ``nodes.csv`` + ``edges.csv`` (the project's own format);
- ``json``: one file ``{"nodes": [...], "edges": [...], "metadata": {...}}``;
- ``graphml``: one GraphML file, through networkx's reader and writer;
- ``parquet``: a directory with ``nodes.parquet`` + ``edges.parquet`` (optional ``pyarrow``).

All carry the same two tables: every column, the order of the rows, and one
row per obligation (a loan and a lease between the same pair stay two rows).

Readers validate at the boundary and report every problem with its file, row,
column and value (:class:`~contagion.errors.InvalidNetworkError`, ``.problems``).
Writers write atomically (temporary file + rename).

:func:`to_networkx`, :func:`from_networkx`, :func:`to_igraph` and
:func:`from_igraph` (in :mod:`contagion.io.bridges`) convert a network to and
from ``networkx.MultiDiGraph`` and ``igraph.Graph`` without loss.

>>> import contagion, tempfile, pathlib
>>> net = contagion.load_dataset("chain")
>>> out = contagion.write_network(net, pathlib.Path(tempfile.mkdtemp()) / "chain.graphml")
>>> contagion.read_network(out).edges.equals(net.edges)
True
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names resolved on first use (PEP 562): the light submodules (``text``, ``atomic``)
# are imported by ``contagion datasets`` and must not load pandas through these.
_LAZY = {
    "read_network": "formats", "write_network": "formats", "detect_format": "formats", "FORMATS": "formats",
    "to_networkx": "bridges", "from_networkx": "bridges", "to_igraph": "bridges", "from_igraph": "bridges",
}

__all__ = ["read_network", "write_network", "detect_format", "FORMATS", "to_networkx", "from_networkx", "to_igraph",
           "from_igraph"]

if TYPE_CHECKING:
    from .bridges import from_igraph, from_networkx, to_igraph, to_networkx
    from .formats import FORMATS, detect_format, read_network, write_network


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'contagion.io' has no attribute {name!r}") from None
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
