"""``contagion view``: write an interactive, offline HTML view of a network and its clearing outcome."""

from __future__ import annotations

import click

from ..clearing import CLEARING_METHODS
from ..viz import DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, LAYOUTS, PHYSICS_THRESHOLD, SIZE_BY
from .options import emit, handle_errors, load_network, network_argument, scenario_option

__all__ = ["view", "method_params"]


def method_params(method: str, alpha: float | None, beta: float | None) -> dict[str, float]:
    """Parameters of the clearing method from ``--alpha`` / ``--beta`` (usage error if they do not apply)."""
    if (alpha is not None or beta is not None) and method != "rogers-veraart":
        raise click.UsageError("--alpha and --beta apply only to --method rogers-veraart")
    if method == "rogers-veraart":
        return {"alpha": 1.0 if alpha is None else alpha, "beta": 1.0 if beta is None else beta}
    return {}


def method_options(func):
    """``--method``, ``--alpha``, ``--beta`` (as for ``contagion run``)."""
    func = click.option("--beta", type=click.FloatRange(0, 1), default=None, metavar="B",
                        help="rogers-veraart only: fraction of interbank assets recovered. [default: 1]")(func)
    func = click.option("--alpha", type=click.FloatRange(0, 1), default=None, metavar="A",
                        help="rogers-veraart only: fraction of external assets recovered from a defaulting "
                             "institution (1 = no default cost). [default: 1]")(func)
    return click.option("--method", "-m", type=click.Choice(list(CLEARING_METHODS)), default="eisenberg-noe",
                        show_default=True, help="Clearing method.")(func)


@click.command("view")
@network_argument
@scenario_option
@click.option("--baseline", is_flag=True, help="Show the network as it is, without the dataset's default scenario.")
@method_options
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
def view(network: str | None, scenarios: tuple[str, ...], baseline: bool, method: str, alpha: float | None,
         beta: float | None, output: str, max_nodes: int, max_edges: int, size_by: str, layout: str,
         title: str | None) -> None:
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
    if baseline and scenarios:
        raise click.UsageError("--baseline cannot be combined with --scenario")
    params = method_params(method, alpha, beta)
    from ..viz import network_view
    from .run import network_label, run_network

    net = load_network(network)
    base, shocked, scens, res, used_default = run_network(net, scenarios, baseline=baseline, method=method, **params)
    label = " + ".join(s.name for s in scens) if scens else "No scenario"
    if used_default:
        click.echo(f"applying the default scenario '{scens[0].name}' of {network_label(net)} "
                   "(choose another with --scenario, or none with --baseline)", err=True)
    description = " ".join(s.description for s in scens if s.description)
    html = network_view(base, {label: res}, descriptions={label: description}, title=title, max_nodes=max_nodes,
                        max_edges=max_edges, size_by=size_by, layout=layout)
    if net.n > max_nodes:
        click.echo(f"{net.n:,} institutions: the {max_nodes:,} largest are shown, the rest aggregated per type",
                   err=True)
    emit(html, None if output == "-" else output)
