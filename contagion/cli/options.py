"""Options and helpers shared by the commands (one place, so every command behaves alike)."""

from __future__ import annotations

import functools
import io
import json
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import click

from ..errors import ContagionError, InvalidNetworkError, did_you_mean, shown
from .text import note
from ..io._malloc import M_ARENA_MAX, M_MMAP_MAX, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, arrow_on_heap, mallopt
from ..io.prefetch import MIN_BYTES

FORMATS = ("table", "csv", "json")


#: Longest error message printed (values inside are already cut to about 80 characters; this is a last guard).
MAX_MESSAGE = 1000


def fail(message: str) -> None:
    """Print ``Error: message`` on one line of standard error (line breaks shown as ``\\n``, at most
    :data:`MAX_MESSAGE` characters, text that is not UTF-8 escaped) and exit with code 1."""
    text = str(message).replace("\r", "\\r").replace("\n", "\\n")
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE - 3] + "..."
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    click.echo(f"Error: {text}", err=True)
    sys.exit(1)


class _warnings_as_notes:
    """Library warnings (the library never prints) shown on stderr as one ``warning: ...`` line each, once."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("default")
        seen: set[str] = set()

        def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
            text = " ".join(str(message).split())
            if text not in seen and category.__module__.startswith("contagion"):
                seen.add(text)
                note(f"warning: {text}")
            elif not category.__module__.startswith("contagion"):
                return  # third-party deprecations are not the user's business

        warnings.showwarning = show

    def __exit__(self, *exc: Any) -> None:
        self._catch.__exit__(*exc)


def handle_errors(func: Callable) -> Callable:
    """Turn a :class:`ContagionError` (or a file that cannot be read or written) into a one-line message and
    exit code 1; never a traceback for an input the user gave."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _warnings_as_notes():
                return func(*args, **kwargs)
        except ContagionError as exc:
            fail(str(exc))
        except OSError as exc:
            where = f": {shown(str(exc.filename), 200, quote=False)}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}")
        except RecursionError:
            fail("the input is nested too deeply to be processed (more than about 1,000 levels)")
        except MemoryError:
            fail("not enough memory for this input or job; make it smaller")

    return wrapper


def _remember_columns(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if not value:
        return
    mapping: dict[str, str] = {}
    for part in value.split(","):
        ours, eq, theirs = part.partition("=")
        if not eq or not ours.strip() or not theirs.strip():
            raise click.BadParameter(f"expected OURS=THEIRS pairs separated by commas, e.g. "
                                     f"debtor=source,creditor=target,amount=weight; got {shown(part)}")
        if ours.strip() in mapping:
            raise click.BadParameter(f"{shown(ours.strip())} is given twice ({shown(mapping[ours.strip()])} and "
                                     f"{shown(theirs.strip())}): each of our columns is read from one column")
        mapping[ours.strip()] = theirs.strip()
    from ..io._tables import columns_named_twice

    twice = columns_named_twice(mapping)       # two of our columns from one of the file's
    if twice:
        raise click.BadParameter(twice)
    ctx.meta["contagion.columns"] = mapping


def columns_option(func: Callable) -> Callable:
    """``--columns OURS=THEIRS,...``: read a folder's columns under other names (:func:`load_network` takes it)."""
    return click.option("--columns", default=None, expose_value=False, callback=_remember_columns,
                        metavar="OURS=THEIRS,...",
                        help="Read columns under other names, e.g. debtor=source,creditor=target,amount=weight "
                             "(edges), id=bank_id (nodes), amount=weight (a networkx GraphML file); OURS is a "
                             "column contagion reads.")(func)


def network_argument(func: Callable) -> Callable:
    """Optional NETWORK argument (a path or a built-in dataset name) and ``--columns`` for other tools' edge lists."""
    return click.argument("network", required=False, metavar="[NETWORK]")(columns_option(func))


def scenario_option(func: Callable) -> Callable:
    """Repeatable ``--scenario`` (a file path or the name of a scenario shipped with the dataset)."""
    return click.option(
        "--scenario", "-s", "scenarios", multiple=True, metavar="FILE|NAME",
        help="Scenario file (TOML/YAML/JSON) or name of a scenario shipped with the dataset. "
             "Repeatable: `run`, `view`, `rank` and the like apply the shocks of all given scenarios in order; "
             "`report` shows each scenario separately, side by side.",
    )(func)


#: What an output file's suffix says about its format.
_SUFFIX_FORMATS = {".csv": "csv", ".json": "json"}


def format_for_output(fmt: str, output: str | None, choices: Iterable[str] = FORMATS,
                      suffixes: Mapping[str, str] = _SUFFIX_FORMATS, other: Mapping[str, str] | None = None) -> str:
    """The format to write: ``-o out.csv`` (or ``.json``) without ``--format`` means that format; a suffix that
    contradicts an explicit ``--format`` is a usage error (a table in ``out.csv`` is never what was meant).
    ``suffixes`` maps suffixes to formats; ``other`` names the suffix to suggest for a format (default: itself)."""
    if not output or output == "-":
        return fmt
    named = suffixes.get(Path(output).suffix.lower())
    if named is None or named == fmt or named not in choices:
        return fmt
    ctx = click.get_current_context(silent=True)
    explicit = ctx is not None and ctx.get_parameter_source("fmt") not in (None, click.core.ParameterSource.DEFAULT)
    if explicit:
        article = "an" if named.upper()[0] in "AEFHILMNORSX" else "a"
        ext = (other or {}).get(fmt, fmt)
        raise click.UsageError(f"-o {output} names {article} {named.upper()} file but --format is {fmt}; drop "
                               f"--format (the suffix decides) or name the file {Path(output).stem}.{ext}")
    return named


def format_option(func: Callable) -> Callable:
    """``-f/--format table|csv|json`` (default: table, or what the suffix of ``-o`` names: .csv, .json)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "fmt" in kwargs:
            kwargs["fmt"] = format_for_output(kwargs["fmt"], kwargs.get("output"), other={"table": "txt"})
        return func(*args, **kwargs)

    return click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="Output format (default: table, or csv / json when -o names a .csv / .json "
                             "file).")(wrapper)


def _remember_mkdir(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta["contagion.mkdir"] = bool(value)


def output_option(func: Callable) -> Callable:
    """``-o/--output PATH`` and ``--mkdir`` (without it, a missing folder of ``PATH`` is an error, exit 1)."""
    func = click.option("--mkdir", is_flag=True, expose_value=False, callback=_remember_mkdir,
                        help="Create the folder of --output if it does not exist.")(func)
    return click.option("--output", "-o", "output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
                        help="Write to this file (atomically) instead of standard output ('-': standard output; "
                             "a device or FIFO is written through, a symbolic link's file is replaced, "
                             "the link kept).")(func)


#: Inputs (the network's files together) at least this large are "large" for :func:`_tune_malloc` (about two
#: million obligations in CSV, three million in Parquet): the size from which a CSV folder's edge file is read ahead.
LARGE_INPUT_BYTES = MIN_BYTES
#: glibc's M_MMAP_THRESHOLD / M_TRIM_THRESHOLD for a large network, and otherwise (see :func:`_tune_malloc`).
LARGE_MMAP_THRESHOLD = 4 << 20
LARGE_TRIM_THRESHOLD = 256 << 20
SMALL_THRESHOLD = 128 << 10
#: glibc's own M_MMAP_MAX (``DEFAULT_MMAP_MAX``): how many blocks may be mapped at once.
GLIBC_MMAP_MAX = 65536


def _input_bytes(path: Path) -> int:
    """Bytes of a network file, or of the files directly inside a network folder (0 when there is none)."""
    try:
        if path.is_dir():
            return sum(entry.stat().st_size for entry in os.scandir(path) if entry.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def _tune_malloc(large: bool) -> bool:
    """glibc only: where blocks of 128 KiB and more come from, chosen by the size of the network; returns
    whether glibc took the settings.

    By default glibc raises its mmap threshold each time such a block is freed, after which large arrays come
    from its heap and their pages stay with the process after use: a 1M-obligation ``run`` peaked ~20 MB
    higher (at 10M, hundreds of MB). So blocks of 128 KiB and more are mapped from the system and given back
    when freed -- except for a large network (``large``: input files of :data:`LARGE_INPUT_BYTES` or more).
    There every block comes from one heap (no mapping of its own, ``M_MMAP_MAX`` 0; one arena for every
    thread), which keeps up to 256 MiB free at its top: the reading's, the clearing's and the table's many
    short-lived vectors -- up to 80 MB each at 10^7 obligations -- were otherwise each mapped, zero-filled
    page by page and unmapped again. A 1M-institution / 10M-obligation ``run`` took 1.16 million page faults
    from Parquet with glibc's own settings, ~820,000 with a 4 MiB threshold, ~400,000 with this one (about
    one per page of the peak), 1-1.5 s less CPU time in the kernel, and was 10-20% faster for a peak
    ~20% higher (1.7 GB against 1.43 GB; measured with ``scripts/bench_e2e.py``, the README's Performance).
    At 10^6 obligations a 4 MiB threshold raised the peak by 8% for no gain in time, so smaller networks keep
    128 KiB. ``MALLOC_MMAP_THRESHOLD_`` in the environment wins (then nothing is set but the arenas),
    and so do ``MALLOC_MMAP_MAX_`` and ``MALLOC_ARENA_MAX``, each for its own setting. A large network's Arrow
    columns come from the same heap (:func:`~contagion.io._malloc.arrow_on_heap`, unless
    ``ARROW_DEFAULT_MEMORY_POOL`` is set).
    """
    took = [mallopt(M_MMAP_THRESHOLD, LARGE_MMAP_THRESHOLD if large else SMALL_THRESHOLD),
            mallopt(M_TRIM_THRESHOLD, LARGE_TRIM_THRESHOLD if large else SMALL_THRESHOLD, unless=M_MMAP_THRESHOLD),
            mallopt(M_MMAP_MAX, 0 if large else GLIBC_MMAP_MAX, unless=M_MMAP_THRESHOLD)]
    if large:   # glibc cannot go back to its own number of arenas: only a large network sets it
        took.append(mallopt(M_ARENA_MAX, 1))
        if all(took):
            arrow_on_heap()   # Arrow's columns on the same heap: its pages are reused, not given back
    return all(took)


def load_network(spec: str | None, hint: bool = True, dated: bool = True):
    """Resolve NETWORK: an existing path is read; otherwise a built-in dataset name; None = default dataset.

    With ``dated`` the network's multi-year data (dated columns, ``collateral.csv``, ``cashflows.csv``:
    :func:`contagion.paths.engine.dated_problems`) is checked too, so that every command rejects what a path
    would (a one-year run does not use it, and must not use it silently); a command that clears a path
    (``--horizon``) passes ``dated=False``: :func:`contagion.clear_path` checks it.

    A file with several problems raises the first, how many more, and (``hint``) that ``contagion validate``
    lists every one; without ``hint``, the :class:`InvalidNetworkError` with every problem."""
    from ..datasets import dataset_path, default_dataset, list_datasets
    from ..io import read_network

    _tune_malloc(spec is not None and _input_bytes(Path(spec)) >= LARGE_INPUT_BYTES)
    if spec is None:
        name = default_dataset()
        net = read_network(dataset_path(name))
        return _checked(net.replace(metadata={**net.metadata, "dataset": name}), dated)
    path = Path(spec)
    if path.exists():
        ctx = click.get_current_context(silent=True)
        columns = ctx.meta.get("contagion.columns") if ctx is not None else None
        try:
            return _checked(read_network(path, columns=columns) if columns else read_network(path), dated)
        except InvalidNetworkError as exc:
            if not hint or len(exc.problems) < 2:
                raise
            given = "" if not columns else " --columns " + shlex.quote(",".join(f"{k}={v}" for k, v in columns.items()))
            raise ContagionError(f"{exc}; `contagion validate {shlex.quote(spec)}{given}` lists every one") from None
    if spec in list_datasets():
        net = read_network(dataset_path(spec))
        return _checked(net.replace(metadata={**net.metadata, "dataset": spec}), dated)
    raise ContagionError(f"{shown(spec)} is neither an existing file or directory nor a built-in dataset "
                         f"({', '.join(list_datasets())}){did_you_mean(spec, list_datasets())}")


def _checked(net: Any, dated: bool) -> Any:
    """``net``, once its multi-year data reads well (``dated``); else the :class:`InvalidNetworkError` of every
    problem found."""
    if dated:
        from ..paths.engine import dated_problems

        problems = dated_problems(net)
        if problems:
            raise InvalidNetworkError(problems)
    return net


class EncodedText:
    """Text already encoded as UTF-8, in parts (``bytes`` or numpy ``uint8`` arrays; a list, or an iterator
    that makes them as they are read): what :func:`csv_output` gives for a long table, so that :func:`emit`
    writes it without making it one ``str`` first, the first parts on their way to disk while the last are
    made. :meth:`__str__` (and :meth:`materialize`) keep the parts as a list; an iterator is read once
    (:meth:`stream`), and a second read raises rather than write an empty table."""

    __slots__ = ("parts", "_read")

    def __init__(self, parts: "list[Any] | Iterator[Any]") -> None:
        self.parts = parts
        self._read = False

    def stream(self) -> Iterator[Any]:
        """The parts in order: from a list as often as asked, from an iterator once."""
        if isinstance(self.parts, list):
            return iter(self.parts)
        if self._read:
            raise RuntimeError("this text was made as it was written and is gone; keep str() of it to use it twice")
        self._read = True
        return iter(self.parts)

    def materialize(self) -> list[Any]:
        """The parts as a list (an iterator is read to its end, once)."""
        if not isinstance(self.parts, list):
            self.parts = list(self.stream())
        return self.parts

    def __str__(self) -> str:
        return "".join(bytes(part).decode("utf-8") for part in self.materialize())


def _line_ended(parts: Iterable[Any]) -> Iterator[Any]:
    """The non-empty ``parts``, and a line end after them when the last does not end with one."""
    last = b""
    for part in parts:
        if len(part):
            last = part
            yield part
    if bytes(last[-1:]) != b"\n":
        yield b"\n"


def emit(text: "str | EncodedText", output: str | None) -> None:
    """Write ``text`` to ``output`` (see :mod:`contagion.io.atomic`: atomically for a file, through a device
    or FIFO, never replacing one), or to standard output when ``output`` is ``None`` or ``"-"``; a line end
    is added when the text does not end with one."""
    if isinstance(text, EncodedText):
        parts = _line_ended(text.stream())  # read as written: a lazy table is made while it goes out
    if output and output != "-":
        from ..io.atomic import write_parts_atomic, write_text_atomic

        ctx = click.get_current_context(silent=True)
        parent = Path(output).expanduser().parent
        blocked = any(p.exists() and not p.is_dir() for p in (parent, *parent.parents))  # io.atomic says so
        if ctx is not None and ctx.meta.get("contagion.mkdir") is False and not parent.exists() and not blocked:
            from ..errors import OutputError

            raise OutputError(f"{output}: the folder {parent} does not exist (create it, or add --mkdir); "
                              f"nothing was written")

        if isinstance(text, EncodedText):
            write_parts_atomic(output, parts)
        else:
            write_text_atomic(output, text if text.endswith("\n") else text + "\n")
        note(f"wrote {output}")
    elif isinstance(text, EncodedText):
        for part in parts:
            click.echo(bytes(part), nl=False)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def render(*renderables: Any, color: bool = False) -> str:
    """Render rich objects to a string (so the text goes through click and ``-o`` like any other output).

    Markup and emoji codes are off: every user string (a name, a type, a
    scenario, a path) is printed as it is -- ``[red]bank[/red]`` as written,
    and ``[/]`` does not crash the table.

    >>> from rich.table import Table
    >>> t = Table("name")
    >>> t.add_row("[/]"); t.add_row("[red]bank[/red]")
    >>> "[red]bank[/red]" in render(t) and "[/]" in render(t)
    True
    """
    from rich.console import Console

    width = shutil.get_terminal_size((120, 24)).columns if color else 200
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="auto" if color else None,
                      highlight=False, soft_wrap=False, emoji=False, markup=False)
    for r in renderables:
        console.print(r)
    return buf.getvalue()


def use_color(output: str | None) -> bool:
    """Colour only when writing a table to an interactive terminal."""
    try:
        return output in (None, "-") and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


#: First characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a leading apostrophe if it is text a spreadsheet would run as a formula.

    >>> neutralise("=cmd|' /C calc'!A0"), neutralise("-1"), neutralise(-1.0), neutralise("Bank A")
    ("'=cmd|' /C calc'!A0", "'-1", -1.0, 'Bank A')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_output(frame: Any) -> EncodedText:
    """:func:`csv_text` already encoded as UTF-8 (the same bytes), for :func:`emit`: a long table is written
    part by part, never held as one ``str`` (``run -f csv`` at a million rows: the table rendered and written
    in 2.2 s against 3.1 s through one ``str``, measured in one process).

    >>> import pandas as pd
    >>> str(csv_output(pd.DataFrame({"name": ["=1+1", "ok"], "x": [-1.5, 2]}))) == csv_text(
    ...     pd.DataFrame({"name": ["=1+1", "ok"], "x": [-1.5, 2]}))
    True
    """
    from ..io.csvtext import fast_csv_parts

    parts = fast_csv_parts(frame, guard=FORMULA_START, lazy=True)
    return EncodedText(parts if parts is not None else [csv_text(frame).encode("utf-8")])


def csv_text(frame: Any) -> str:
    """CSV of a table the CLI prints (no index, ``\\n`` line ends), text cells a spreadsheet would run as a
    formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) given a leading apostrophe,
    as the Markdown report's CSV tables do. Numbers are never changed.

    Network files written by :func:`contagion.write_network` are data, not
    reports, and keep every value exactly (reading them back gives the same
    network); this is only for the tables of ``run``, ``rank``,
    ``reverse-stress``, ``sweep``, ``datasets`` and ``scenarios``.

    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"name": ["=1+1", "@SUM(A1)", "ok"], "x": [-1.5, 2, 3]})), end="")
    name,x
    '=1+1,-1.5
    '@SUM(A1),2.0
    ok,3.0
    """
    import pandas as pd

    from ..io.csvtext import fast_csv_text

    text = fast_csv_text(frame, guard=FORMULA_START)  # the same bytes as below, ~5x faster (None: use pandas)
    if text is not None:
        return text
    frame = frame.copy()
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            frame[col] = s.map(neutralise, na_action="ignore")
    frame.columns = [neutralise(c) for c in frame.columns]
    from ..io.formats import csv_quoting

    return frame.to_csv(index=False, lineterminator="\n", quoting=csv_quoting(frame))


def to_json(obj: Any) -> str:
    """JSON with numpy scalars/arrays converted and non-finite numbers as null."""
    import math

    import numpy as np

    def default(o: Any) -> Any:
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            f = float(o)
            return f if math.isfinite(f) else None
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")

    def clean(o: Any) -> Any:
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        return o

    return json.dumps(clean(obj), default=default, indent=2, ensure_ascii=False)
