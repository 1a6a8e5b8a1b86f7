"""Shocks and scenarios: plain data that turn one network into another.

A :class:`Shock` says *what* is hit (a node's external assets or external
liabilities, a forced default, or obligations) and *which* institutions or
obligations (by name/id or by attribute). A :class:`Scenario` is a named,
described, ordered list of shocks; :func:`apply` returns a new
:class:`~contagion.FinancialNetwork` and never mutates its input. Shocks
compose in order, each one seeing the result of the previous ones.

Scenario files (TOML, YAML or JSON, same keys)::

    name = "core-shock"                 # optional; default: the file stem
    description = "Why this scenario."
    [[shocks]]
    kind = "external_assets"            # cash + revenue from outside the network
    target = "C"                        # a name or id, or a list of them ...
    # select = { type = "neocloud" }    # ... or a node-attribute filter
    absolute = 94                       # relative = 0.5 | absolute = 94 | value = 10
    [[shocks]]
    kind = "external_liabilities"       # factor = 1.5 | absolute = 2 | value = 3
    [[shocks]]
    kind = "default"                    # recovery = 0.0: pays at most this fraction of pbar
    [[shocks]]
    kind = "edges"                      # debtor = ..., creditor = ..., select = {kind = "lease"}
    factor = 0.0                        # factor = 0 cancels | value = 1.0 sets each amount

Shock kinds (:data:`SHOCK_KINDS`, the registry the CLI and tests read):

``external_assets``
    ``relative`` = fraction lost in [0, 1]; ``absolute`` = amount lost by each
    selected institution (an error if more than it holds); ``value`` = set to.
``external_liabilities``
    ``factor`` = multiply (>= 0); ``absolute`` = amount added; ``value`` = set to.
``default``
    Forced default; the institution pays at most ``recovery`` (default 0)
    times its obligations, whatever it receives. A later default shock on the
    same institution replaces the recovery.
``edges``
    Obligations selected by ``debtor``, ``creditor`` (names/ids or lists) and
    ``select`` (any edge-table column: ``kind``, ``contingent``, ``source``,
    ``debtor``, ``creditor``, ...), all of which must match; ``factor``
    multiplies the amounts (0 cancels), ``value`` sets each amount.
``freeze`` (multi-year paths only)
    The lenders selected by ``target`` or ``select`` stop rolling over
    maturing principal from ``year`` (every year when none): the principal
    is called.
``collateral`` (multi-year paths only)
    The collateral of ``collateral.csv`` named by ``target`` (ids; none: all)
    loses value faster: ``factor`` multiplies its economic life (0.5 =
    obsolete twice as fast) and ``relative`` cuts its value.

Time. On a multi-year path (:func:`contagion.clear_path`), any shock may carry
``year = 2027`` or ``years = [2027, 2028]``: it applies in those years only
(without either, in every year). A one-year clearing skips dated shocks and
path rules, with a :class:`PathOnlyWarning`.

Node kinds take exactly one of ``target`` (names or ids) and ``select`` (a
table ``{column = value or [values]}`` over any column of ``net.nodes``, e.g.
``type``; several keys must all match). Every amount kind takes exactly one of
its amount keys.

Matching values. When a column holds numbers and the wanted value is a
number, they are compared as numbers. Otherwise both sides are compared as
text, ignoring case and surrounding spaces, with ``true``/``false`` for
booleans and whole numbers written without a decimal point: so ``contingent =
"true"``, ``contingent = true`` and ``contingent = "True"`` all select the rows
whose ``contingent`` cell reads ``true`` (CSV) or is ``True`` (JSON).

Errors (all :class:`~contagion.errors.ScenarioError`, located by path, e.g.
``shocks[2].relative: must be <= 1``; ``shocks[0]`` is the first shock): an
unknown kind or key, a value of the wrong type or out of range, more than one
of the amount keys, an unknown target, a selector that matches nothing, an
absolute loss larger than the assets held. Parsing reports every problem of a
file at once; :func:`apply` reports every shock that cannot be applied.

Layout (each module imports only the ones above it in this list):
``_common`` (constants, ``_plain``), ``schema`` (pydantic models of each
kind's keys), ``targets`` (names/ids and selectors to positions and masks),
``kinds`` (one apply function per kind, :data:`SHOCK_KINDS`), ``validate``
(scenario model, located errors), ``model`` (:class:`Shock`,
:class:`Scenario`, TOML writer), ``files`` (parsing TOML/YAML/JSON),
``catalog`` (scenarios shipped with a network, ``--scenario NAME``),
``applying`` (:func:`apply`). Everything public is importable from here.

Examples
--------
Glasserman & Young (2015), section 4: a loss of 94 on the core's outside
assets brings down all five banks of the core-periphery toy.

>>> import contagion
>>> from contagion.shocks import Scenario, Shock, apply
>>> net = contagion.load_dataset("core-periphery")
>>> hit = apply(net, Shock("external_assets", target="Core", absolute=94))
>>> hit.external_assets.tolist()
[50.0, 50.0, 56.0, 50.0, 50.0]
>>> res = contagion.clear(hit)
>>> res.payments.tolist(), res.total_shortfall
([54.0, 54.0, 56.0, 54.0, 54.0], 88.0)
>>> scen = Scenario("half", "every bank loses half its outside assets",
...                 [Shock("external_assets", select={"type": "bank"}, relative=0.5)])
>>> apply(net, scen).external_assets.tolist()
[25.0, 25.0, 75.0, 25.0, 25.0]
"""

from ..errors import ScenarioError
from ._common import SCENARIO_SUFFIXES, SHOCK_KEYS, Scalar, _plain
from .applying import PATH_KINDS, PathOnlyWarning, apply, apply_in_year
from .catalog import (_network_config, _network_label, _scenario_files, default_scenario_of, find_scenario,
                      list_scenarios, scenario_dirs)
from .files import _PARSERS, load_scenario, parse_config_text, parse_scenario, read_config_text
from .kinds import SHOCK_KINDS, ShockKind
from .model import Scenario, Shock
from .targets import _attribute_mask, _node_mask, _resolve, _ShockProblem

__all__ = [
    "Shock",
    "Scenario",
    "ShockKind",
    "SHOCK_KINDS",
    "SCENARIO_SUFFIXES",
    "apply",
    "apply_in_year",
    "PATH_KINDS",
    "PathOnlyWarning",
    "load_scenario",
    "parse_scenario",
    "find_scenario",
    "list_scenarios",
    "scenario_dirs",
    "default_scenario_of",
    "ScenarioError",
]
