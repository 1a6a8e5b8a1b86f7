"""Per-draw output of a sweep (``--draws-out``): streamed batch by batch, the file written atomically.

The only path that keeps per-draw data. :class:`DrawsWriter` receives each
cleared batch in draw order (from the driver's in-order merge) and appends it
to a spool file of fixed-size binary records (system loss, number of defaults,
the default flags of every institution packed in bits, the clearing prices
with fire sales); :meth:`DrawsWriter.finish` then writes the requested file in
pieces of :data:`ROWS_PER_PIECE` rows -- Parquet row groups or CSV text -- to a
temporary file next to the target that is renamed over it at the end
(:func:`contagion.io.atomic.open_atomic`), and removes the spool. Memory stays
bounded by one piece whatever the number of draws; the disk holds the spool
(``16 + ceil(institutions / 8) + 8 x assets`` bytes a draw) and the output.

The default flags written are those of the ``--co-default`` institutions,
which are known only once every draw is in (the most likely to default): that
is why the spool keeps every institution's flags.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ContagionError

__all__ = ["DrawsWriter", "DRAWS_SUFFIXES", "ROWS_PER_PIECE"]

#: Formats of ``--draws-out``, by suffix.
DRAWS_SUFFIXES = (".parquet", ".csv")
#: Rows per Parquet row group / CSV piece when the file is written.
ROWS_PER_PIECE = 1 << 20


class DrawsWriter:
    """Streams a sweep's per-draw rows to ``path`` (``.parquet`` or ``.csv``).

    Parameters
    ----------
    path : str or Path
    n_institutions : int
        Default flags are spooled for every institution when ``flags`` is true.
    asset_names : sequence of str
        Assets whose clearing price each draw has (fire sales); empty otherwise.
    flags : bool
        Keep the default flags (False for networks too large to flag, see
        :data:`~contagion.sweep.engine.MAX_FLAGGED`).
    """

    def __init__(self, path: str | os.PathLike, n_institutions: int, asset_names: Sequence[str] = (),
                 flags: bool = True) -> None:
        from ..io.atomic import output_target

        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in DRAWS_SUFFIXES:
            raise ContagionError(f"{self.path}: the per-draw file must end in .parquet or .csv")
        self.csv = suffix == ".csv"
        if not self.csv:
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise ContagionError(f"{self.path}: writing Parquet needs pyarrow (pip install pyarrow), or use a "
                                     f".csv file") from None
        how, target = output_target(self.path)
        folder = target.parent if how == "replace" and target.parent.is_dir() else Path(tempfile.gettempdir())
        self.n_inst = int(n_institutions)
        self.assets = tuple(asset_names)
        fields = [("system_loss", "<f8"), ("defaults", "<i8")]
        if flags:
            fields.append(("bits", "u1", (-(-self.n_inst // 8),)))
        if self.assets:
            fields.append(("prices", "<f8", (len(self.assets),)))
        self.dtype = np.dtype(fields)
        self.flags = bool(flags)
        fd, self.spool = tempfile.mkstemp(prefix=f".{self.path.name[:40]}.", suffix=".draws", dir=folder)
        self._fh = os.fdopen(fd, "w+b")
        self.rows = 0

    def add(self, loss: np.ndarray, defaults: np.ndarray, bits: np.ndarray | None = None,
            prices: np.ndarray | None = None) -> None:
        """Append the next draws: losses, numbers of defaults, packed flags ``(draws, bytes)``, prices
        ``(assets, draws)``."""
        rec = np.empty(loss.size, dtype=self.dtype)
        rec["system_loss"] = loss
        rec["defaults"] = defaults
        if self.flags:
            rec["bits"] = bits
        if self.assets:
            rec["prices"] = np.asarray(prices).T
        rec.tofile(self._fh)
        self.rows += loss.size

    def reset(self) -> None:
        """Forget every row (a sweep that starts again with another batch size)."""
        self._fh.seek(0)
        self._fh.truncate()
        self.rows = 0

    def _pieces(self):
        self._fh.flush()
        self._fh.seek(0)
        for start in range(0, self.rows, ROWS_PER_PIECE):
            count = min(ROWS_PER_PIECE, self.rows - start)
            yield start, np.fromfile(self._fh, dtype=self.dtype, count=count)

    def _frame(self, start: int, rec: np.ndarray, flagged: Sequence[int], names: Sequence[str]):
        import pandas as pd

        cols = {"draw": np.arange(start, start + rec.size, dtype=np.int64),
                "system_loss": rec["system_loss"], "defaults": rec["defaults"]}
        if self.flags and len(flagged):
            pos = np.asarray(flagged, dtype=np.int64)
            bits = rec["bits"][:, pos // 8]
            for c, i in enumerate(pos):
                cols[f"defaulted:{names[i]}"] = (bits[:, c] >> (i % 8)) & 1 == 1
        for a, name in enumerate(self.assets):
            cols[f"price:{name}"] = rec["prices"][:, a]
        return pd.DataFrame(cols)

    def finish(self, flagged: Sequence[int], names: Sequence[str]) -> int:
        """Write the file: ``draw``, ``system_loss``, ``defaults``, ``defaulted:<name>`` for the institutions at
        ``flagged`` (positions), ``price:<asset>`` with fire sales. Returns the number of rows."""
        from ..io.atomic import open_atomic

        try:
            with open_atomic(self.path) as out:
                if self.csv:
                    self._write_csv(out, flagged, names)
                else:
                    self._write_parquet(out, flagged, names)
        finally:
            self.close()
        return self.rows

    def _write_csv(self, out, flagged, names) -> None:
        from ..io.csvtext import fast_csv_text

        first = True
        for start, rec in self._pieces():
            frame = self._frame(start, rec, flagged, names)
            text = fast_csv_text(frame)
            if text is None:
                text = frame.to_csv(index=False, lineterminator="\n")
            if not first:
                text = text[text.index("\n") + 1:]
            out.write(text.encode("utf-8"))
            first = False
        if first:     # no draw: the header alone
            out.write(self._frame(0, np.empty(0, dtype=self.dtype), flagged, names).to_csv(
                index=False, lineterminator="\n").encode("utf-8"))

    def _write_parquet(self, out, flagged, names) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        try:
            for start, rec in self._pieces():
                table = pa.Table.from_pandas(self._frame(start, rec, flagged, names), preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(out, table.schema)
                writer.write_table(table)
            if writer is None:
                table = pa.Table.from_pandas(self._frame(0, np.empty(0, dtype=self.dtype), flagged, names),
                                             preserve_index=False)
                writer = pq.ParquetWriter(out, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()

    def close(self) -> None:
        """Remove the spool file (also when the sweep failed)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            try:
                os.unlink(self.spool)
            except FileNotFoundError:
                pass
