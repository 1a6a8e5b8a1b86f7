"""The ``contagion`` command line (click).

Commands are registered in :data:`COMMANDS` as ``name -> "module:attribute"``
and imported only when run, so ``contagion --help`` stays fast. Each command
body is thin: parse, call one library function, render.

Exit codes: 0 ok; 1 bad input or domain error (one-line message, no
traceback); 2 usage error.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from .. import __version__

#: command name -> "module:attribute" of the click command
COMMANDS: dict[str, str] = {
    "run": "contagion.cli.run:run",
    "datasets": "contagion.cli.data:datasets",
    "scenarios": "contagion.cli.data:scenarios",
    "info": "contagion.cli.data:info",
    "validate": "contagion.cli.data:validate",
    "view": "contagion.cli.view:view",
    "report": "contagion.cli.report:report",
    "rank": "contagion.cli.analytics:rank",
    "reverse-stress": "contagion.cli.analytics:reverse_stress",
    "sweep": "contagion.cli.analytics:sweep",
    "sensitivity": "contagion.cli.sensitivity:sensitivity",
    "reconstruct": "contagion.cli.reconstruct:reconstruct",
}

#: one-line help shown by ``contagion --help`` without importing the command modules
SHORT_HELP: dict[str, str] = {
    "run": "Clear a network under shock scenarios and print who defaults.",
    "datasets": "List the built-in datasets.",
    "scenarios": "List the scenarios that ship with a dataset.",
    "info": "Sizes, totals, components and uniqueness of a network.",
    "validate": "Check network files and list every problem.",
    "view": "Write an interactive offline HTML view of the network.",
    "report": "Write a self-contained stress-test report (HTML or Markdown).",
    "rank": "Rank institutions by systemic importance.",
    "reverse-stress": "Find the smallest shock that makes a target default.",
    "sweep": "Monte Carlo sweep of random shocks.",
    "sensitivity": "Derivatives of payments and equity with respect to one input.",
    "reconstruct": "Reconstruct who owes whom from totals; clear over reconstructions.",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                return None
            raise
        return getattr(mod, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(name: str) -> bool:
    module = COMMANDS[name].split(":")[0]
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="contagion")
def cli() -> None:
    """contagion: financial contagion on networks of obligations.

    L[i, j] is what institution i owes institution j. Shocks hit the network;
    Eisenberg-Noe or Rogers-Veraart clearing finds who pays what, who
    defaults, in which wave, and who bears the losses.

    NETWORK arguments take a path (a directory with nodes.csv and edges.csv
    or nodes.parquet and edges.parquet, a .json or .graphml file) or the name
    of a built-in dataset (see `contagion datasets`); without one, the
    built-in default is used.
    """


#: Thresholds of the cyclic garbage collector in the command line's process (Python's are 700, 10, 10): a
#: youngest generation of 10,000 objects, and each older one collected after 20 of the one below. A 100k /
#: 1M CSV ``run``: no full collection instead of three, 1.86 s against 1.96 s (median of 5, interleaved), the
#: same peak memory.
GC_THRESHOLDS = (10_000, 20, 20)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    A large network folder among a network command's arguments is read by Arrow in the background while the
    command's modules are imported (:mod:`contagion.io.prefetch`).

    Arrow (the CSV and Parquet readers, pandas' text columns) allocates from the C library's ``malloc``
    rather than its bundled mimalloc, unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise: one allocator
    for Arrow and numpy lets what the reader frees serve the clearing and the output, and gives it back to
    the system (70 MB less peak memory for a 1M-obligation ``run``; no measurable change in time).

    The cyclic garbage collector runs less often (:data:`GC_THRESHOLDS`): with Python's own thresholds a
    1M-obligation ``run`` spent 0.2 s in it (three full collections of 0.15 s together, while pandas, scipy
    and numba's cached kernels load), which it now skips.
    """
    import gc

    from ..io._malloc import arrow_on_heap

    arrow_on_heap()      # Arrow's columns on the C library's heap (unless ARROW_DEFAULT_MEMORY_POOL says otherwise)
    gc.set_threshold(*GC_THRESHOLDS)
    from ..io import prefetch

    prefetch.start(sys.argv[1:] if argv is None else list(argv))  # a large network read while the rest imports
    try:
        cli.main(args=argv, prog_name="contagion")
    finally:
        # The process ends here. Its last garbage collections would walk every object numba, pandas and the
        # job made (0.2-0.4 s after a 1M-obligation run, all of it after the output was written); frozen,
        # they are left to the operating system. Files are closed by then, stdout/stderr still flushed.
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
