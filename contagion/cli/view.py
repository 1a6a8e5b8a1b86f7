"""``contagion view``: write an interactive, offline HTML view of a network and its clearing outcome."""

from __future__ import annotations

import click

from ..viz import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, LAYOUTS, PHYSICS_THRESHOLD, SIZE_BY
from .methods import method_options
from .options import emit, handle_errors, load_network, network_argument, scenario_option
from .run import announce, scenario_request

__all__ = ["view"]


@click.command("view")
@network_argument
@scenario_option
@click.option("--baseline", is_flag=True, help="Show the network as it is, without the dataset's default scenario.")
@method_options()
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), default="view.html", show_default=True,
              help="HTML file to write (atomically); '-' for standard output.")
@click.option("--max-nodes", type=click.IntRange(min=1), default=DEFAULT_MAX_NODES, show_default=True,
              help="Institutions shown individually (largest gross exposures); the rest is aggregated per type.")
@click.option("--max-edges", type=click.IntRange(min=1), default=DEFAULT_MAX_EDGES, show_default=True,
              help="Edges drawn at most (largest amounts).")
@click.option("--size-by", type=click.Choice(list(SIZE_BY)), default="obligations", show_default=True,
              help="Node size measure.")
@click.option("--layout", type=click.Choice(list(LAYOUTS)), default="fr", show_default=True,
              help=f"igraph layout used above {PHYSICS_THRESHOLD} displayed nodes: "
                   + "; ".join(f"{k}: {v[0]}" for k, v in LAYOUTS.items()) + ".")
@click.option("--title", default=None, help="Page title.")
@handle_errors
def view(network: str | None, scenarios: tuple[str, ...], baseline: bool, method: str, params: dict[str, float],
         output: str, max_nodes: int, max_edges: int, size_by: str, layout: str, title: str | None) -> None:
    """Write an interactive HTML view of NETWORK after the given scenarios.

    One self-contained UTF-8 file that opens offline: nodes coloured by
    outcome (solvent, equity lost, defaulted in wave 0, 1, ...), sized by
    obligations, shaped by type; edges coloured by kind, arrows from debtor
    to creditor; tooltips with the numbers; filters; a cascade replay.
    Several --scenario compose in order (as for `contagion run`); without
    one, the dataset's default scenario is applied (--baseline: none).

    \b
    Examples:
      contagion view core-periphery -o core.html
      contagion view graphs/chain --scenario a-fails --max-nodes 200
      contagion view big-network/ -o - > view.html
    """
    from ..pipeline import stress
    from ..viz import network_view

    st = stress(load_network(network), scenario_request(scenarios, baseline), method=method, **params)
    announce(st)
    html = network_view(st.base, st, title=title, max_nodes=max_nodes, max_edges=max_edges, size_by=size_by, layout=layout)
    if st.base.n > max_nodes:
        click.echo(f"{st.base.n:,} institutions: the {max_nodes:,} largest are shown, the rest aggregated per type",
                   err=True)
    emit(html, None if output == "-" else output)
