"""``contagion view``: write an interactive, offline HTML view of a network and its clearing outcome."""

from __future__ import annotations

import click

from ..viz import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, LAYOUTS, PHYSICS_THRESHOLD, SIZE_BY
from .methods import method_options
from .options import emit, handle_errors, load_network, network_argument, scenario_option
from .path import announce_path, horizon_option
from .run import announce, network_label, scenario_request

__all__ = ["view"]


@click.command("view")
@network_argument
@scenario_option
@click.option("--baseline", is_flag=True, help="Show the network as it is, without the dataset's default scenario.")
@method_options()
@horizon_option
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
         horizon: tuple[int, int] | None, output: str, max_nodes: int, max_edges: int, size_by: str, layout: str,
         title: str | None) -> None:
    """Write an interactive HTML view of NETWORK after the given scenarios.

    One self-contained UTF-8 file that opens offline: nodes coloured by
    outcome (solvent, equity lost, defaulted in wave 0, 1, ...), sized by
    obligations, shaped by type; edges coloured by kind, arrows from debtor
    to creditor; tooltips with the numbers; filters; a cascade replay.
    Several --scenario compose in order (as for `contagion run`); without
    one, the dataset's default scenario is applied (--baseline: none; with
    --horizon, its default path scenario when it names one).
    With --horizon FIRST:LAST the network is cleared year by year and a
    year slider shows who is in default, what falls due and what is paid
    in each year of the path.

    \b
    Examples:
      contagion view core-periphery -o core.html
      contagion view ai-infrastructure --horizon 2026:2030 -o path.html
      contagion view chain --scenario a-fails --max-nodes 200
      contagion view big-network/ -o - > view.html
    """
    from ..viz import network_view

    net, options = load_network(network, dated=horizon is None), dict(title=title, max_nodes=max_nodes, max_edges=max_edges,
                                               size_by=size_by, layout=layout)
    base, result = _cleared(net, scenario_request(scenarios, baseline), horizon, method, params)
    html = network_view(base, result, **options)
    if base.n > max_nodes:
        click.echo(f"{base.n:,} institutions: the {max_nodes:,} largest are shown, the rest aggregated per type",
                   err=True)
    emit(html, None if output == "-" else output)


def _cleared(net, scenarios, horizon: tuple[int, int] | None, method: str, params: dict[str, float]):
    """``(network drawn, result)``: one clearing through :func:`contagion.stress`, or with ``horizon`` a path
    through :func:`contagion.clear_path` (announced on stderr either way)."""
    if horizon is not None:
        from ..paths import clear_path

        path = clear_path(net, horizon, scenarios, method=method, **params)
        announce_path(path, network_label(net))
        return path.network, path
    from ..pipeline import stress

    st = stress(net, scenarios, method=method, **params)
    announce(st)
    return st.base, st
