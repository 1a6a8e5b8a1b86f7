"""Reading and writing networks.

:func:`read_network` and :func:`write_network` choose the format by the path:

- a directory holding ``nodes.csv`` and ``edges.csv`` (the project's own format);
- ``*.json``: one object ``{"nodes": [...], "edges": [...], "metadata": {...}}``;
- ``*.graphml``: GraphML with ``amount`` on edges;
- ``*.parquet`` directory pairs (``nodes.parquet`` + ``edges.parquet``), with the optional ``pyarrow``.

Readers validate at the boundary and name the file, row, column and value of
every problem (:class:`~contagion.errors.InvalidNetworkError`). Writers write
atomically (temporary file + rename).
"""

from __future__ import annotations

from .formats import FORMATS, read_network, write_network

__all__ = ["read_network", "write_network", "FORMATS"]
