"""A large CSV network's files read by Arrow while the command line starts up.

``contagion run DIR`` spends its first second importing pandas, scipy and the command's modules, holding
the GIL all along, and only then reads ``DIR``; Arrow's CSV reader runs in threads of its own without the
GIL, so the two can overlap. :func:`start` (called by ``contagion.cli.main`` before any command module is
imported) finds the CSV network folder among a network command's arguments and, when its edge file is large
(:data:`MIN_BYTES`), has Arrow read both files in a background thread and starts numba's import beside it
(as the reader would when it starts reading). A reader asks :func:`take` for a file's table: it gets the one
read ahead when the file is unchanged since (same device, inode, size and modification time), and otherwise
reads it itself. Nothing else changes: a file that could not be read ahead is read again by the reader, which
reports what is wrong, and tables nobody asked for are dropped (:func:`drop`, after every network read).

Measured at 1M institutions / 10M obligations, files in the page cache, five rounds each in one run on two
cores: ``run -f csv`` 10.5-11.0 s (median 10.7) against 11.4-12.3 s (median 11.5); peak memory up to 15%
higher (both tables are read before the first becomes a frame). Parquet folders are not read ahead: the same
test gave no gain (11.0-12.3 s against 10.7-12.0 s). Since then the threads share one malloc arena
(:func:`_one_arena`), and the 10M CSV run peaks at 1.45 GB instead of 1.60 GB.

The Arrow side of the fast CSV reader lives here (:func:`read_csv_table`), so that both readers read a file
the same way; this module imports nothing heavy before it is used (it runs before pandas is imported).
"""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

#: Edge files at least this large are read ahead (about two million obligations). Reading ahead raises the peak
#: memory (both tables exist before the first becomes a frame): at 10^6 obligations (a 30 MB edge file) by 11%,
#: 1.58x a plain pandas script's against issue 18's 1.5x, for ~0.1-0.2 s; at 10^7 by 7-15% for ~1 s.
MIN_BYTES = 64 << 20
#: Commands whose NETWORK argument is read by :func:`contagion.cli.options.load_network`.
COMMANDS = frozenset({"run", "info", "validate", "view", "report", "rank", "reverse-stress", "sweep", "sensitivity"})
#: The two files of a CSV network folder, nodes first.
FILES = ("nodes.csv", "edges.csv")
#: Columns of numbers in the CSV files (float64 in Arrow; every other column is text).
NUMBER_COLUMNS = {"nodes.csv": frozenset({"external_assets", "external_liabilities", "forced_recovery"}),
                  "edges.csv": frozenset({"amount"})}

_lock = threading.Lock()
_jobs: dict[str, "_Job"] = {}


class _Job:
    """One file read ahead: its signature when the read began, and the table (``None``: read it again)."""

    __slots__ = ("signature", "done", "table")

    def __init__(self, signature: tuple) -> None:
        self.signature = signature
        self.done = threading.Event()
        self.table: Any = None


def _signature(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _folder(argv: list[str]) -> Path | None:
    """The one argument after a network command that is a folder holding both CSV files, with a large edge
    file; ``None`` otherwise (no such argument, or more than one, or ``--columns``, which sends the files to
    the strict reader)."""
    if any(a == "--columns" or a.startswith("--columns=") for a in argv):
        return None
    words = [a for a in argv if not a.startswith("-")]
    if not words or words[0] not in COMMANDS:
        return None
    found = [path for path in (Path(w).expanduser() for w in dict.fromkeys(words[1:]))
             if all((path / name).is_file() for name in FILES)]
    if len(found) != 1:
        return None
    try:
        large = os.path.getsize(found[0] / FILES[1]) >= MIN_BYTES
    except OSError:
        return None
    return found[0] if large else None


def start(argv: list[str]) -> None:
    """Read the CSV network folder named in ``argv`` (the command's arguments) ahead, in a background thread,
    and start numba's import, when it is large; nothing otherwise. Never raises: anything unexpected leaves
    the reading to the reader. A process that ends before the reader took the tables (a usage error) waits
    for the read to finish first, so that Arrow's threads never outlive the interpreter."""
    try:
        found = _folder(argv)
    except Exception:  # pragma: no cover - an odd argument must not stop the command line
        return
    if found is None:
        return
    jobs = []
    for name in FILES:
        path = (found / name).resolve()
        signature = _signature(path)
        if signature is None:
            return
        jobs.append((path, _Job(signature)))
    with _lock:
        for path, job in jobs:
            _jobs[str(path)] = job
    _one_arena()

    def run() -> None:
        for path, job in jobs:
            try:
                job.table = read_csv_table(path)
            except Exception:      # the reader reads it again and says what is wrong
                job.table = None
            finally:
                job.done.set()

    thread = threading.Thread(target=run, name="contagion-read-ahead", daemon=True)
    thread.start()
    import atexit

    atexit.register(thread.join)
    # numba's import (GIL-bound, ~0.5 s) starts with the read, as the reader starts it: otherwise it waits
    # until the reader runs, after the read it would have overlapped
    threading.Thread(target=_warm_up, name="contagion-warm-up-start", daemon=True).start()


def _one_arena() -> bool:
    """glibc only: one malloc arena for every thread of this process (``MALLOC_ARENA_MAX`` in the environment
    wins); returns whether glibc took it.

    The read-ahead thread and Arrow's reader threads would otherwise allocate the tables from arenas of their
    own, which the main thread never reuses once the tables are freed: a 1M-institution / 10M-obligation
    ``run`` from CSV peaked at 1.60-1.65 GB, 1.45-1.47 GB with one arena, in the same time (four rounds each;
    at 10^6 obligations, where nothing is read ahead, the setting changed nothing).
    """
    from ._malloc import M_ARENA_MAX, mallopt

    return mallopt(M_ARENA_MAX, 1)


def _warm_up() -> None:
    try:
        from .._matrix import warm_up
    except Exception:  # pragma: no cover - the reader warms up anyway
        return
    warm_up()


def take(path: Path, read: Callable[[Path], Any]) -> Any:
    """The table of ``path``: the one read ahead when there is one and the file is unchanged since (waiting
    for it if need be), else ``read(path)``."""
    with _lock:
        job = _jobs.pop(str(Path(path).resolve()), None)
    if job is not None:
        job.done.wait()
        if job.table is not None and _signature(Path(path)) == job.signature:
            return job.table
    return read(path)


def drop() -> None:
    """Forget tables read ahead that no reader took (a command that read the network another way)."""
    with _lock:
        _jobs.clear()


# ---------------------------------------------------------------------- the Arrow side of the readers
def csv_header(path: Path) -> list[str] | None:
    """The names in the first record of ``path`` when the fast reader can take them as they are (unique,
    non-empty, without surrounding spaces, in a header that fits in the first 1 MB); else ``None``."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    line = text.split("\n", 1)[0].rstrip("\r")
    if line.count('"') % 2 or len(line) == len(text):  # a newline inside a quoted name, or no line end
        return None
    names = next(csv.reader([line], strict=True)) if '"' in line else line.split(",")
    if len(set(names)) != len(names) or any(not n or n != n.strip() for n in names):
        return None
    if len(names) == 1 and ";" in names[0]:
        return None
    return names


def file_bytes(path: Path) -> Any:
    """The bytes of a file, mapped into memory (read-only) when it is a regular, non-empty file -- Arrow parses
    them where they are, without the copy ``read_bytes`` makes (0.35 s of a 300 MB edge file) -- else read.
    The map is released when the last reference goes (Arrow's table does not keep one: it parses into buffers
    of its own)."""
    import mmap

    try:
        with open(path, "rb") as fh:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # empty, not a regular file, or no mmap here
        return path.read_bytes()


def _odd_quotes(data: Any, step: int = 1 << 24) -> bool:
    """Whether ``data`` holds an odd number of ``"`` bytes: a quoted cell is closed by a second quote and a quote
    inside one is doubled, so a well-formed file has an even number. Counted ``step`` bytes at a time (no array
    of the file's size beside it)."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    return sum(int(np.count_nonzero(raw[k:k + step] == ord('"'))) for k in range(0, raw.size, step)) % 2 == 1


def read_csv_table(path: Path, rename: Mapping[str, str] | None = None) -> Any:
    """One CSV file as an Arrow table, read by pyarrow's multi-threaded reader with explicit column types, or
    ``None`` when pyarrow is missing or the file is anything but plain (the strict reader then reads it and
    locates every problem).

    Known amount columns are parsed as float64 (pyarrow's parser is correctly rounded and rejects
    ``1_000``, ``0x10`` and the like); every other column as text, empty cells as empty strings. An empty
    line or a ragged row is a parse error here (``None``); ``nan``/``inf`` and empty amounts come through
    and are found by the validation, which then sends the file to the strict reader. ``rename`` (the file's
    name -> ours, from ``--columns``) renames columns, typed by our names; ``None`` when a renamed column is
    not there or a name would then be there twice.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    path = Path(path)
    names = csv_header(path)
    if names is None:
        return None
    rename = dict(rename or {})
    ours = [rename.get(n, n) for n in names]
    if not set(rename) <= set(names) or len(set(ours)) != len(ours):
        return None
    data = file_bytes(path)
    numbers = NUMBER_COLUMNS.get(path.name, frozenset())
    types = {n: (pa.float64() if o in numbers else pa.string()) for n, o in zip(names, ours)}
    # a quote in the body may hold a line end (slower parsing); a quoted header alone does not count
    quoted = data.find(b'"', data.find(b"\n") + 1) >= 0
    if quoted and _odd_quotes(data):
        return None     # a quote left open: pyarrow reads the rest of the file into that cell, the strict reader says so
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(newlines_in_values=quoted, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False, check_utf8=True))
    except (pa.ArrowException, OSError, ValueError):
        return None
    if table.column_names != names:
        return None
    return table.rename_columns(ours) if rename else table
