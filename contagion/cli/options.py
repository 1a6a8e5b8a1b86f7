"""Options and helpers shared by the commands (one place, so every command behaves alike)."""

from __future__ import annotations

import functools
import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import click

from ..errors import ContagionError

FORMATS = ("table", "csv", "json")


def handle_errors(func: Callable) -> Callable:
    """Turn a :class:`ContagionError` (or a missing file) into a one-line message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ContagionError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            click.echo(f"Error: {exc.strerror or exc}: {exc.filename}", err=True)
            sys.exit(1)

    return wrapper


def network_argument(func: Callable) -> Callable:
    """Optional NETWORK argument: a path or a built-in dataset name."""
    return click.argument("network", required=False, metavar="[NETWORK]")(func)


def scenario_option(func: Callable) -> Callable:
    """Repeatable ``--scenario`` (a file path or the name of a scenario shipped with the dataset)."""
    return click.option(
        "--scenario", "-s", "scenarios", multiple=True, metavar="FILE|NAME",
        help="Scenario file (TOML/YAML/JSON) or name of a scenario shipped with the dataset. "
             "Repeatable: `run`, `view`, `rank` and the like apply the shocks of all given scenarios in order; "
             "`report` shows each scenario separately, side by side.",
    )(func)


def format_option(func: Callable) -> Callable:
    return click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                        help="Output format.")(func)


def output_option(func: Callable) -> Callable:
    return click.option("--output", "-o", "output", type=click.Path(dir_okay=False, writable=True), default=None,
                        help="Write to this file (atomically) instead of standard output.")(func)


def load_network(spec: str | None):
    """Resolve NETWORK: an existing path is read; otherwise a built-in dataset name; None = default dataset."""
    from ..datasets import dataset_path, default_dataset, list_datasets
    from ..io import read_network

    if spec is None:
        name = default_dataset()
        net = read_network(dataset_path(name))
        return net.replace(metadata={**net.metadata, "dataset": name})
    path = Path(spec)
    if path.exists():
        return read_network(path)
    if spec in list_datasets():
        net = read_network(dataset_path(spec))
        return net.replace(metadata={**net.metadata, "dataset": spec})
    raise ContagionError(f"{spec!r} is neither an existing file or directory nor a built-in dataset "
                         f"({', '.join(list_datasets())})")


def emit(text: str, output: str | None) -> None:
    """Write ``text`` to ``output`` atomically, or to standard output."""
    if output:
        from ..io.atomic import write_text_atomic

        write_text_atomic(output, text if text.endswith("\n") else text + "\n")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def render(*renderables: Any, color: bool = False) -> str:
    """Render rich objects to a string (so the text goes through click and ``-o`` like any other output)."""
    from rich.console import Console

    width = shutil.get_terminal_size((120, 24)).columns if color else 200
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="auto" if color else None,
                      highlight=False, soft_wrap=False, emoji=False)
    for r in renderables:
        console.print(r)
    return buf.getvalue()


def use_color(output: str | None) -> bool:
    """Colour only when writing a table to an interactive terminal."""
    try:
        return output is None and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


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
