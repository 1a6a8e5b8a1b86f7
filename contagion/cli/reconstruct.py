"""``contagion reconstruct``: fill in who owes whom from each institution's totals.

Without ``--clear`` it writes network folders (``nodes.csv`` + ``edges.csv``,
readable by every other command): one folder for ``max-entropy`` and
``min-density``, a folder of ``draw-0001`` .. ``draw-N`` networks for
``ensemble``. With ``--clear`` it clears every reconstruction (under the
``--scenario`` shocks) and prints per institution the probability of default
and the loss on its network claims, with Monte Carlo standard errors and the
band across reconstructions (:func:`contagion.reconstruct.clear_ensemble`).
"""

from __future__ import annotations

import click

from .text import note
from .options import csv_text, emit, format_option, handle_errors, scenario_option, to_json

__all__ = ["reconstruct"]

METHODS = ("max-entropy", "min-density", "ensemble")   # = contagion.reconstruct.RECONSTRUCTION_METHODS


@click.command("reconstruct")
@click.argument("marginals", type=click.Path(dir_okay=False))
@click.option("--known", "known", type=click.Path(dir_okay=False), default=None, metavar="EDGES.csv",
              help="Known bilateral amounts: debtor, creditor, amount (kept fixed; an amount of 0 forbids the link).")
@click.option("--method", "-m", type=click.Choice(METHODS), default="max-entropy", show_default=True,
              help="Maximum entropy (RAS); min-density: few links by a greedy heuristic (not always the fewest); or "
                   "an ensemble of draws keeping the totals.")
@click.option("-n", "--draws", "n", type=click.IntRange(1), default=100, show_default=True,
              help="Ensemble: number of reconstructions.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Ensemble: random seed (same seed, same draws, whatever the workers).")
@click.option("--clear", "do_clear", is_flag=True,
              help="Clear every reconstruction and print default probabilities and losses (instead of writing "
                   "networks).")
@scenario_option
@click.option("--band", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.9, show_default=True,
              help="With --clear: width of the loss band across reconstructions.")
@format_option
@click.option("--output", "-o", "output", type=click.Path(allow_dash=True), default=None,
              help="Folder to write the network(s) to (required without --clear); with --clear, a file for the "
                   "table (default: standard output).")
@handle_errors
def reconstruct(marginals: str, known: str | None, method: str, n: int, seed: int, do_clear: bool,
                scenarios: tuple[str, ...], band: float, fmt: str, output: str | None) -> None:
    """Reconstruct a liabilities matrix from totals in MARGINALS.csv (id, interbank_assets, interbank_liabilities).

    \b
    Examples:
      contagion reconstruct banks.csv -m max-entropy -o banks-me
      contagion reconstruct banks.csv --known edges.csv -m ensemble -n 50 \\
          --seed 1 -o draws
      contagion reconstruct banks.csv -m ensemble -n 500 --clear -s shock.toml
    """
    from ..reconstruct import clear_ensemble, read_marginals, write_reconstruction

    marg = read_marginals(marginals, known)
    if do_clear:
        res = clear_ensemble(marg, n if method == "ensemble" else 1, seed, method, "auto", scenarios=scenarios,
                             band=band)
        return emit(_table(res, fmt, output), output)
    if not output or output == "-":
        raise click.UsageError("give the folder to write with -o/--output (or use --clear to print a table)")
    paths = write_reconstruction(marg, output, method, n, seed)
    note(f"wrote {len(paths)} network{'s' if len(paths) > 1 else ''} to {output} ({method})")


def _table(res, fmt: str, output: str | None) -> str:
    """Render an :class:`~contagion.reconstruct.EnsembleResult` as a table, CSV or JSON."""
    frame = res.to_frame().reset_index().sort_values(["default_probability", "loss_mean"], ascending=False,
                                                     kind="stable")
    if fmt == "csv":
        return csv_text(frame)
    if fmt == "json":
        return to_json({"draws": res.n, "seed": res.seed, "method": res.method, "band": res.band,
                        "scenarios": list(res.scenarios), "institutions": frame.to_dict(orient="records")})
    from .options import render, use_color
    from .tables import Col, fitted_table, table_width
    from .text import fmt_amount

    lo, hi = 50 * (1 - res.band), 50 * (1 + res.band)
    title = (f"{res.n} reconstructions ({res.method}, seed {res.seed})"
             + (f", scenario {' + '.join(res.scenarios)}" if res.scenarios else ""))
    cols = [Col("name", "left", 0, shrink=True), Col("type", "left", 3, shrink=True), Col("P(default)", "right", 0),
            Col("± s.e.", "right", 1), Col("mean loss", "right", 0), Col("± s.e.", "right", 1),
            Col(f"loss p{lo:g}-p{hi:g}", "right", 2)]
    rows = [[str(r["name"]), str(r["type"]), f"{r['default_probability']:.1%}", f"{r['default_probability_se']:.1%}",
             fmt_amount(r["loss_mean"]), fmt_amount(r["loss_se"]),
             f"{fmt_amount(r['loss_low'])} - {fmt_amount(r['loss_high'])}"] for _, r in frame.iterrows()]
    color = use_color(output)
    t, note = fitted_table(cols, rows, table_width(color), title=title)
    return render(t, *([note] if note else []), color=color)
