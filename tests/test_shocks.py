"""Tests of contagion.shocks: every shock kind with hand-computed values, composition, errors, round trips.

Published reference: Glasserman, P. & Young, H. P. (2015). How likely is contagion in financial networks?
Journal of Banking & Finance 50, 383-399, section 4 -- a loss of 94 on the core's outside assets of the
core-periphery example brings down all five banks, p = [54, 54, 56, 54, 54] (core third), shortfall 88.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import contagion
from contagion.errors import ScenarioError
from contagion.shocks import (SHOCK_KINDS, Scenario, Shock, apply, default_scenario_of, find_scenario,
                              list_scenarios, load_scenario, parse_scenario, scenario_dirs)


# ---------------------------------------------------------------------- fixtures
@pytest.fixture
def cp():
    return contagion.load_dataset("core-periphery")


@pytest.fixture
def chain():
    return contagion.load_dataset("chain")


@pytest.fixture
def attrs_net():
    """Five institutions with attributes, edges of several kinds, ``contingent`` as CSV text."""
    nodes = pd.DataFrame({
        "id": ["lab", "cloud", "neo1", "neo2", "bank"],
        "name": ["Lab", "Cloud", "Neo One", "Neo Two", "Bank"],
        "type": ["ai_lab", "hyperscaler", "neocloud", "neocloud", "bank"],
        "region": ["US", "US", "US", "EU", "EU"],
        "rating": ["", "AA", "B", "B", "A"],
        "external_assets": ["20", "100", "8", "6", "50"],
        "external_liabilities": ["0", "10", "1", "2", "40"],
    }, dtype=str)
    edges = pd.DataFrame({
        "debtor": ["lab", "lab", "cloud", "neo1", "neo2", "neo1"],
        "creditor": ["cloud", "neo1", "neo2", "bank", "bank", "cloud"],
        "amount": ["30", "12", "5", "9", "7", "4"],
        "kind": ["compute_contract", "compute_contract", "compute_contract", "loan", "loan", "lease"],
        "contingent": ["false", "true", "false", "false", "false", "True"],
    }, dtype=str)
    return contagion.FinancialNetwork.from_edges(edges, nodes)


def _L(net):
    return net.liabilities.toarray()


# ---------------------------------------------------------------------- registry
def test_registry_has_the_documented_kinds():
    assert list(SHOCK_KINDS) == ["external_assets", "external_liabilities", "default", "edges", "freeze",
                                 "collateral"]


#: one valid shock per registered kind, on the core-periphery toy, with the expected change
KIND_SAMPLES = {
    "external_assets": (Shock("external_assets", target="C", relative=0.5),
                        lambda n: n.external_assets.tolist() == [50, 50, 75, 50, 50]),
    "external_liabilities": (Shock("external_liabilities", target="P1", factor=2.0),
                             lambda n: n.external_liabilities.tolist() == [110, 55, 100, 55, 55]),
    "default": (Shock("default", target="C"), lambda n: n.forced_default.tolist() == [0, 0, 1, 0, 0]),
    "edges": (Shock("edges", debtor="C", creditor="P1", factor=0.0),
              lambda n: n.liabilities.toarray()[2].tolist() == [0, 10, 0, 10, 10]),
    # path rules (contagion.clear_path): a one-year clearing leaves the network as it is
    "freeze": (Shock("freeze", select={"type": "bank"}, year=2028),
               lambda n: n.liabilities.toarray()[2].tolist() == [10, 10, 0, 10, 10]),
    "collateral": (Shock("collateral", target="gpu", factor=0.5),
                   lambda n: n.external_assets.tolist() == [50, 50, 150, 50, 50]),
}


@pytest.mark.parametrize("kind", list(SHOCK_KINDS))
def test_every_registered_kind_applies(kind, cp):
    from contagion.shocks import PATH_KINDS, PathOnlyWarning

    shock, check = KIND_SAMPLES[kind]
    assert shock.kind == kind
    if kind in PATH_KINDS:
        with pytest.warns(PathOnlyWarning, match="multi-year path"):
            assert check(apply(cp, shock))
    else:
        assert check(apply(cp, shock))


def test_dated_shocks_are_skipped_by_a_one_year_clearing_with_a_warning(cp):
    from contagion.shocks import PathOnlyWarning

    shocks = [Shock("external_assets", target="C", absolute=94, year=2027), Shock("default", target="P1")]
    with pytest.warns(PathOnlyWarning, match="1 shock"):
        out = apply(cp, shocks)
    assert out.external_assets.tolist() == [50, 50, 150, 50, 50] and out.forced_default.tolist() == [1, 0, 0, 0, 0]


@pytest.mark.parametrize("bad, message", [
    ({"year": 2027, "years": [2028]}, "year or years, not both"),
    ({"years": []}, "at least 1"),
    ({"years": [2027, 2027]}, "lists a year twice"),
    ({"years": [2027.5]}, "whole years"),
    ({"year": "2027"}, "year"),
])
def test_year_keys_are_checked(bad, message):
    with pytest.raises(ScenarioError, match=message):
        Shock.from_dict({"kind": "external_assets", "target": "C", "relative": 0.5, **bad})


def test_years_round_trip_and_describe():
    s = Shock("external_assets", target="C", relative=0.5, years=[2029, 2027])
    assert s.years == (2027, 2029) and s.to_dict()["years"] == [2027, 2029]
    assert Shock.from_dict(s.to_dict()) == s
    assert s.describe().endswith("(in 2027, 2029)")
    assert Shock("freeze", target="P1", year=2028).describe() == "P1 stop rolling over maturing debt from 2028"
    assert Shock("collateral", factor=0.5, relative=0.2).describe() == \
        "every collateral: economic life x 0.5, value -20%"


# ---------------------------------------------------------------------- external assets
def test_glasserman_young_absolute_94(cp):
    hit = apply(cp, Shock("external_assets", target="C", absolute=94))
    assert hit.external_assets.tolist() == [50, 50, 56, 50, 50]
    res = contagion.clear(hit)
    np.testing.assert_allclose(res.payments, [54, 54, 56, 54, 54], rtol=0, atol=1e-12)
    assert res.defaulted.all()
    assert res.total_shortfall == pytest.approx(88.0, abs=1e-12)
    assert res.default_round.tolist() == [1, 1, 0, 1, 1]


def test_external_assets_relative_value_and_by_id_or_name(cp):
    assert apply(cp, Shock("external_assets", target="Core", relative=0.25)).external_assets[2] == 112.5
    assert apply(cp, Shock("external_assets", target="C", relative=1.0)).external_assets[2] == 0.0
    assert apply(cp, Shock("external_assets", target=["P1", "Periphery 4"], value=7)).external_assets.tolist() == \
        [7, 50, 150, 50, 7]


def test_external_assets_by_node_attribute(attrs_net):
    # every neocloud -30 %: 8 -> 5.6, 6 -> 4.2
    out = apply(attrs_net, Shock("external_assets", select={"type": "neocloud"}, relative=0.3))
    np.testing.assert_allclose(out.external_assets, [20, 100, 5.6, 4.2, 50])
    # two keys must both match: neoclouds in the EU -> only neo2
    out = apply(attrs_net, Shock("external_assets", select={"type": "neocloud", "region": "EU"}, value=1))
    assert out.external_assets.tolist() == [20, 100, 8, 1, 50]
    # a list of values is "any of"; absolute applies to each selected institution
    out = apply(attrs_net, Shock("external_assets", select={"type": ["ai_lab", "bank"]}, absolute=5))
    assert out.external_assets.tolist() == [15, 100, 8, 6, 45]
    # any column, compared as text ignoring case; name and id columns work too
    out = apply(attrs_net, Shock("external_assets", select={"rating": "b"}, relative=0.5))
    assert out.external_assets.tolist() == [20, 100, 4, 3, 50]
    out = apply(attrs_net, Shock("external_assets", select={"id": "bank"}, relative=0.1))
    assert out.external_assets[4] == pytest.approx(45)


def test_numeric_column_selected_by_number(attrs_net):
    # external_assets is a numeric column of net.nodes: numbers compare as numbers
    out = apply(attrs_net, Shock("external_assets", select={"external_assets": [8, 6.0]}, value=0))
    assert out.external_assets.tolist() == [20, 100, 0, 0, 50]


# ---------------------------------------------------------------------- external liabilities
def test_external_liabilities_factor_absolute_value(cp):
    assert apply(cp, Shock("external_liabilities", target="C", factor=1.5)).external_liabilities[2] == 150
    assert apply(cp, Shock("external_liabilities", target="C", absolute=2)).external_liabilities[2] == 102
    out = apply(cp, Shock("external_liabilities", select={"type": "bank"}, value=3))
    assert out.external_liabilities.tolist() == [3] * 5
    # pbar follows: core owes 40 + 150
    assert apply(cp, Shock("external_liabilities", target="C", factor=1.5)).total_obligations[2] == 190


# ---------------------------------------------------------------------- forced default
def test_forced_default_chain_hand_computed(chain):
    # A pays 0; B holds 6 < 15 and pays 6, of which C gets 6 * 10/15 = 4; C holds 4.5 < 8 and pays 4.5
    res = contagion.clear(apply(chain, Shock("default", target="A")))
    np.testing.assert_allclose(res.payments, [0, 6, 4.5], atol=1e-12)
    assert res.defaulted.tolist() == [True, True, True]
    assert res.total_shortfall == pytest.approx(22.5)


def test_forced_default_with_recovery(chain):
    # A pays at most 0.2 * 10 = 2; B: 6 + 2 = 8 < 15 pays 8, C gets 16/3; C pays 0.5 + 16/3
    net = apply(chain, Shock("default", target="A", recovery=0.2))
    assert net.forced_default.tolist() == [True, False, False]
    assert net.forced_recovery.tolist() == [0.2, 0, 0]
    res = contagion.clear(net)
    np.testing.assert_allclose(res.payments, [2, 8, 0.5 + 16 / 3], atol=1e-12)
    # a later default shock on the same institution replaces the recovery
    again = apply(net, Shock("default", target="A", recovery=0.5))
    assert again.forced_recovery[0] == 0.5


# ---------------------------------------------------------------------- edges
def test_edges_by_pair_factor_and_value(cp):
    out = apply(cp, Shock("edges", debtor="C", creditor=["P1", "Periphery 2"], factor=0.5))
    assert _L(out)[2].tolist() == [5, 5, 0, 10, 10]
    out = apply(cp, Shock("edges", creditor="P3", value=1.0))
    assert _L(out)[2].tolist() == [10, 10, 0, 1, 10]
    assert out.total_obligations[2] == 131


def test_edges_by_kind_cancel_and_contingent_text_or_bool(attrs_net):
    out = apply(attrs_net, Shock("edges", select={"kind": "compute_contract"}, factor=0.0))
    assert out.edges["amount"].tolist() == [0, 0, 0, 9, 7, 4]
    assert out.liabilities.nnz == 3
    # contingent holds CSV text "true" / "True": the string and the boolean select the same rows
    a = apply(attrs_net, Shock("edges", select={"contingent": "true"}, factor=0))
    b = apply(attrs_net, Shock("edges", select={"contingent": True}, factor=0))
    assert a.edges["amount"].tolist() == b.edges["amount"].tolist() == [30, 0, 5, 9, 7, 0]
    # edge selectors combine with debtor; debtor/creditor inside select accept names
    c = apply(attrs_net, Shock("edges", debtor="Neo One", select={"kind": ["loan", "lease"]}, value=2))
    assert c.edges["amount"].tolist() == [30, 12, 5, 2, 7, 2]
    d = apply(attrs_net, Shock("edges", select={"creditor": "Bank"}, factor=2))
    assert d.edges["amount"].tolist() == [30, 12, 5, 18, 14, 4]


def test_edges_with_boolean_column():
    edges = pd.DataFrame({"debtor": ["a", "b"], "creditor": ["b", "a"], "amount": [1.0, 2.0],
                          "contingent": [True, False]})
    net = contagion.FinancialNetwork.from_edges(edges)
    for want in (True, "true", "TRUE"):
        assert apply(net, Shock("edges", select={"contingent": want}, factor=0)).edges["amount"].tolist() == [0, 2]


def test_edges_on_a_matrix_network():
    net = contagion.FinancialNetwork.from_matrix([[0, 3], [4, 0]], names=["x", "y"])
    out = apply(net, Shock("edges", select={"kind": "obligation"}, factor=0.5))
    assert _L(out).tolist() == [[0, 1.5], [2, 0]]


# ---------------------------------------------------------------------- composition and purity
def test_shocks_compose_in_order(cp):
    first = Scenario("a", "", [Shock("external_assets", target="C", relative=0.5),
                               Shock("external_assets", target="C", absolute=50)])
    second = Scenario("b", "", [Shock("external_assets", target="C", absolute=50),
                                Shock("external_assets", target="C", relative=0.5)])
    assert apply(cp, first).external_assets[2] == 25  # 150 * 0.5 - 50
    assert apply(cp, second).external_assets[2] == 50  # (150 - 50) * 0.5


def test_scenario_list_composition_value(cp):
    # 150 -> 25 (first) -> 25 - 50 < 0: second scenario's absolute loss is larger than the assets
    with pytest.raises(ScenarioError, match=r"scenario 'b': shocks\[0\]\.absolute: loss 50 is larger"):
        apply(cp, [Scenario("a", "", [Shock("external_assets", target="C", relative=0.5),
                                      Shock("external_assets", target="C", absolute=50)]),
                   Scenario("b", "", [Shock("external_assets", target="C", absolute=50)])])
    out = apply(cp, [Scenario("a", "", [Shock("external_assets", target="C", relative=0.5)]),
                     Scenario("b", "", [Shock("external_assets", target="C", relative=0.5)])])
    assert out.external_assets[2] == 37.5  # 150 * 0.5 * 0.5
    assert out.metadata["scenarios"] == ["a", "b"]


def test_apply_does_not_mutate(cp):
    before = (cp.external_assets.copy(), cp.external_liabilities.copy(), _L(cp).copy(), cp.edges.copy())
    apply(cp, [Shock("external_assets", target="C", value=0), Shock("external_liabilities", target="C", factor=3),
               Shock("edges", debtor="C", factor=0), Shock("default", target="P1")])
    np.testing.assert_array_equal(cp.external_assets, before[0])
    np.testing.assert_array_equal(cp.external_liabilities, before[1])
    np.testing.assert_array_equal(_L(cp), before[2])
    pd.testing.assert_frame_equal(cp.edges, before[3])
    assert not cp.forced_default.any()


# ---------------------------------------------------------------------- validation errors (parsing)
def _problems(data, **kw):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, name="t", **kw)
    return info.value.problems


@pytest.mark.parametrize("shock, expected", [
    ({"kind": "external_assets", "target": "C", "relative": 1.5}, "shocks[0].relative: must be <= 1"),
    ({"kind": "external_assets", "target": "C", "relative": -0.1}, "shocks[0].relative: must be >= 0"),
    ({"kind": "external_assets", "target": "C", "absolute": -1}, "shocks[0].absolute: must be >= 0"),
    ({"kind": "external_liabilities", "target": "C", "factor": -2}, "shocks[0].factor: must be >= 0"),
    ({"kind": "edges", "debtor": "C", "factor": -0.5}, "shocks[0].factor: must be >= 0"),
    ({"kind": "default", "target": "C", "recovery": 2}, "shocks[0].recovery: must be <= 1"),
    ({"kind": "external_assets", "target": "C", "relative": 0.1, "absolute": 3},
     "shocks[0]: give exactly one of relative, absolute, value (got relative, absolute)"),
    ({"kind": "external_assets", "target": "C"}, "shocks[0]: give exactly one of relative, absolute, value"),
    ({"kind": "edges", "debtor": "C", "factor": 0, "value": 1}, "shocks[0]: give exactly one of factor, value"),
    ({"kind": "external_assets", "relative": 0.1}, "shocks[0]: give exactly one of target or select"),
    ({"kind": "external_assets", "target": "C", "select": {"type": "bank"}, "relative": 0.1},
     "shocks[0]: give exactly one of target or select (got target, select)"),
    ({"kind": "edges", "factor": 0}, "shocks[0]: give at least one of debtor, creditor, select"),
    ({"kind": "external_assets", "target": "C", "relative": 0.1, "haircut": 3},
     "shocks[0].haircut: unknown key for kind 'external_assets'"),
    ({"kind": "default", "target": "C", "factor": 3}, "shocks[0].factor: unknown key for kind 'default'"),
    ({"kind": "meteor", "target": "C"}, "shocks[0].kind: unknown shock kind 'meteor'; known kinds: external_assets"),
    ({"kind": "defualt", "target": "C"},
     "shocks[0].kind: unknown shock kind 'defualt' (did you mean 'default'?); known kinds: external_assets"),
    ({"kind": "external_assets", "target": "C", "relatve": 0.5},
     "shocks[0].relatve: unknown key for kind 'external_assets' (did you mean 'relative'?) (allowed: kind, target,"),
    ({"target": "C", "relative": 0.5}, "shocks[0].kind: required key is missing"),
    ({"kind": "external_assets", "target": "C", "relative": "0.5"}, "shocks[0].relative: must be a number"),
    ({"kind": "external_assets", "target": "C", "relative": True}, "shocks[0].relative: must be a number"),
    ({"kind": "external_assets", "target": "C", "relative": float("nan")}, "shocks[0].relative: must be a finite"),
    ({"kind": "external_assets", "target": 3.5, "relative": 0.5}, "shocks[0].target: must be a name or a list"),
    ({"kind": "external_assets", "target": [], "relative": 0.5}, "shocks[0].target: must name at least one"),
    ({"kind": "external_assets", "select": {"type": None}, "relative": 0.5}, "shocks[0].select: type: value must"),
    ({"kind": "external_assets", "select": "bank", "relative": 0.5}, "shocks[0].select: must be a table"),
    ({"kind": "external_assets", "select": {}, "relative": 0.5}, "shocks[0].select: must name at least one column"),
])
def test_each_schema_error_is_located(shock, expected):
    problems = _problems({"shocks": [shock]})
    assert any(p.startswith(expected) for p in problems), problems


def test_every_error_reported_at_once_with_paths():
    data = {
        "name": "x",
        "descripton": "typo",
        "shocks": [
            {"kind": "external_assets", "target": "C", "relative": 0.5},
            {"kind": "external_assets", "target": "C", "relative": 2},
            {"kind": "edges", "debtor": "C", "factor": -1, "colour": "red"},
            {"kind": "bogus"},
            "not a table",
        ],
    }
    problems = _problems(data, source="s.toml")
    assert problems == [
        "s.toml: shocks[1].relative: must be <= 1",
        "s.toml: shocks[2].factor: must be >= 0",
        "s.toml: shocks[2].colour: unknown key for kind 'edges' (allowed: kind, debtor, creditor, select, factor, value, year, years)",
        "s.toml: shocks[3].kind: unknown shock kind 'bogus'; known kinds: external_assets, external_liabilities, "
        "default, edges, freeze, collateral",
        "s.toml: shocks[4]: must be a table (mapping), got str",
        "s.toml: descripton: unknown key (did you mean 'description'?) (allowed: name, description, shocks)",
    ]
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, source="s.toml")
    assert str(info.value) == "s.toml: shocks[1].relative: must be <= 1 (and 5 more problems)"


def test_scenario_top_level_errors():
    assert _problems([1, 2]) == ["a scenario must be a table (mapping) with 'shocks', got list"]
    assert _problems({"shocks": {"kind": "default"}})[0].startswith("shocks: must be a list")
    assert _problems({"name": "", "shocks": []}) == ["name: must not be empty"]
    assert _problems({"description": 5, "shocks": []}) == ["description: must be text, got 5"]
    with pytest.raises(ScenarioError, match="name: required"):
        Scenario.from_dict({"shocks": []})


def test_shock_constructor_validates():
    with pytest.raises(ScenarioError, match=r"^relative: must be <= 1$"):
        Shock("external_assets", target="A", relative=1.5)
    with pytest.raises(ScenarioError, match=r"kind: unknown shock kind 'nope'"):
        Shock("nope", target="A")
    with pytest.raises(ScenarioError, match="give exactly one of factor, absolute, value"):
        Shock("external_liabilities", target="A")
    with pytest.raises(ScenarioError, match=r"shocks\[0\]: not a Shock"):
        Scenario("x", "", [{"kind": "default"}])


def test_integer_ids_are_accepted_as_names():
    # YAML reads `target: 3` as an integer; ids are text, so it is taken as "3" (booleans are not)
    scen = parse_scenario("shocks:\n  - {kind: default, target: 3}\n  - {kind: edges, debtor: [1, '2'], factor: 0}\n",
                          "yaml", name="ints")
    assert scen.shocks[0].target == "3" and scen.shocks[1].debtor == ("1", "2")
    with pytest.raises(ScenarioError, match=r"shocks\[0\]\.target: must be a name or a list of names, got True"):
        parse_scenario("shocks:\n  - {kind: default, target: true}\n", "yaml", name="b")


def test_shock_is_frozen_hashable_plain_data():
    s = Shock("edges", select={"kind": ["loan", "bond"]}, debtor=["A", "B"], factor=0)
    assert s.select == (("kind", ("loan", "bond")),) and s.debtor == ("A", "B") and s.factor == 0.0
    assert s.selector == {"kind": ["loan", "bond"]}
    assert s.to_dict() == {"kind": "edges", "select": {"kind": ["loan", "bond"]}, "debtor": ["A", "B"], "factor": 0.0}
    assert Shock(**s.to_dict()) == s and hash(Shock(**s.to_dict())) == hash(s)
    with pytest.raises(AttributeError):
        s.factor = 1.0  # type: ignore[misc]


# ---------------------------------------------------------------------- validation errors (applying)
@pytest.mark.parametrize("shock, expected", [
    (Shock("external_assets", target="Q", relative=0.5), "shock.target: unknown institution 'Q'"),
    (Shock("external_assets", target="Cor", relative=0.5),
     "shock.target: unknown institution 'Cor' (did you mean 'Core'?)"),
    (Shock("external_assets", select={"type": "neocloud"}, relative=0.5),
     "shock.select: type = 'neocloud' matches no institution (values present: 'bank')"),
    (Shock("external_assets", select={"sector": "x"}, relative=0.5),
     "shock.select: unknown institution attribute 'sector'; available: id, name, type"),
    (Shock("external_assets", select={"type": "banks"}, relative=0.5),
     "shock.select: type = 'banks' matches no institution (did you mean 'bank'?) (values present: 'bank')"),
    (Shock("external_assets", select={"typ": "bank"}, relative=0.5),
     "shock.select: unknown institution attribute 'typ' (did you mean 'type'?); available: id, name, type"),
    (Shock("external_assets", target="P1", absolute=50.5),
     "shock.absolute: loss 50.5 is larger than the external assets of Periphery 1 (50)"),
    (Shock("edges", debtor="P1", factor=0), "shock.debtor: 'P1' has no obligation as debtor"),
    (Shock("edges", select={"kind": "lease"}, factor=0), "shock.select: kind = 'lease' matches no obligation"),
    (Shock("edges", select={"seniority": "senior"}, factor=0), "shock.select: unknown obligation attribute"),
    (Shock("edges", debtor="C", creditor="P9", factor=0), "shock.creditor: unknown institution 'P9'"),
    (Shock("default", select={"type": "bank", "name": "Nobody"}, recovery=0.5), "shock.select: name = 'Nobody'"),
])
def test_each_apply_error_is_located(cp, shock, expected):
    with pytest.raises(ScenarioError) as info:
        apply(cp, shock)
    assert str(info.value).startswith(expected), str(info.value)


def test_select_keys_matching_separately_but_not_together(attrs_net):
    with pytest.raises(ScenarioError, match="matches no institution .each key matches some, but not together"):
        apply(attrs_net, Shock("external_assets", select={"type": "bank", "region": "US"}, relative=0.1))


def test_absolute_equal_to_assets_is_allowed(cp):
    assert apply(cp, Shock("external_assets", target="P1", absolute=50)).external_assets[0] == 0


def test_apply_reports_every_failing_shock(cp):
    scen = Scenario("bad", "", [Shock("external_assets", target="Q", relative=0.5),
                                Shock("external_assets", target="C", relative=0.5),
                                Shock("edges", select={"kind": "lease"}, factor=0)])
    with pytest.raises(ScenarioError) as info:
        apply(cp, scen)
    assert info.value.problems == [
        "scenario 'bad': shocks[0].target: unknown institution 'Q'",
        "scenario 'bad': shocks[2].select: kind = 'lease' matches no obligation (values present: 'loan')",
    ]
    with pytest.raises(ScenarioError, match="takes a Scenario, a Shock or a list"):
        apply(cp, {"kind": "default"})


# ---------------------------------------------------------------------- files: TOML / YAML / JSON
SAMPLE = Scenario(
    "mixed",
    'Every kind once; "quotes", a backslash \\ and ünïcödé.',
    (Shock("external_assets", select={"type": ["bank"], "region": "EU"}, relative=0.25),
     Shock("external_liabilities", target=["C", "P1"], absolute=2.5),
     Shock("default", target="P2", recovery=0.1),
     Shock("edges", debtor="C", select={"kind": "loan", "contingent": True, "term years": 3}, value=1.0)),
)


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".yml", ".json"])
def test_round_trip_through_files(tmp_path, suffix):
    path = SAMPLE.save(tmp_path / f"mixed{suffix}")
    assert load_scenario(path) == SAMPLE
    assert load_scenario(path).to_dict() == SAMPLE.to_dict()


def test_text_formats_are_what_the_parsers_read():
    assert tomllib.loads(SAMPLE.to_toml()) == SAMPLE.to_dict()
    assert yaml.safe_load(SAMPLE.to_yaml()) == SAMPLE.to_dict()
    assert json.loads(SAMPLE.to_json()) == SAMPLE.to_dict()
    assert 'select = { kind = "loan", contingent = true, "term years" = 3 }' in SAMPLE.to_toml()


_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(lambda s: s.strip())
_scalars = st.one_of(_names, st.integers(-10**6, 10**6), st.booleans(),
                     st.floats(allow_nan=False, allow_infinity=False, width=64))
_select = st.dictionaries(_names, st.one_of(_scalars, st.lists(_scalars, min_size=1, max_size=3)), min_size=1,
                          max_size=3)
_frac = st.floats(0, 1)
_amount = st.floats(0, 1e12)
_shocks = st.one_of(
    st.builds(lambda t, r: Shock("external_assets", target=t, relative=r), _names, _frac),
    st.builds(lambda s, a: Shock("external_assets", select=s, absolute=a), _select, _amount),
    st.builds(lambda t, f: Shock("external_liabilities", target=t, factor=f), st.lists(_names, min_size=1), _amount),
    st.builds(lambda s, r: Shock("default", select=s, recovery=r), _select, _frac),
    st.builds(lambda d, s, v: Shock("edges", debtor=d, select=s, value=v), _names, _select, _amount),
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(name=_names, description=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
       shocks=st.lists(_shocks, max_size=4))
def test_round_trip_property(name, description, shocks):
    scen = Scenario(name, description, shocks)
    assert parse_scenario(scen.to_toml(), "toml") == scen
    assert parse_scenario(scen.to_yaml(), "yaml") == scen
    assert parse_scenario(scen.to_json(), "json") == scen


def test_name_defaults_to_file_stem(tmp_path):
    path = tmp_path / "stem-name.toml"
    path.write_text('description = "d"\n[[shocks]]\nkind = "default"\ntarget = "C"\n', encoding="utf-8")
    scen = load_scenario(path)
    assert scen.name == "stem-name" and scen.description == "d" and scen.shocks == (Shock("default", target="C"),)


@pytest.mark.parametrize("name, text, expected", [
    ("bad.toml", '[[shocks]]\nkind = "default\n', r"bad\.toml: invalid TOML: .*line 2"),
    ("bad.yaml", "shocks:\n  - kind: default\n   target: [A\n", r"bad\.yaml: invalid YAML: line \d+, column \d+"),
    ("bad.json", '{"shocks": [}', r"bad\.json: invalid JSON: line 1, column 13"),
    ("list.yaml", "- a\n- b\n", r"list\.yaml: a scenario must be a table"),
    ("deep.toml", '[[shocks]]\nkind = "external_assets"\ntarget = "C"\nrelative = 3\n',
     r"deep\.toml: shocks\[0\]\.relative: must be <= 1$"),
])
def test_file_errors_are_one_located_line(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert re.search(expected, msg), msg


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")
    (tmp_path / "x.ini").write_text("", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"unknown scenario file suffix '\.ini'"):
        load_scenario(tmp_path / "x.ini")
    with pytest.raises(ScenarioError, match="unknown scenario file suffix"):
        SAMPLE.save(tmp_path / "x.ini")


def test_empty_file_is_an_error_and_shocks_none_an_empty_scenario(tmp_path):
    """A file with nothing in it is a mistake (a failed save), as for a sweep configuration; a scenario without
    shocks says so."""
    (tmp_path / "empty.yaml").write_text(" \n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="empty.yaml: the scenario file is empty"):
        load_scenario(tmp_path / "empty.yaml")
    (tmp_path / "none.yaml").write_text("shocks: []\n", encoding="utf-8")
    assert load_scenario(tmp_path / "none.yaml") == Scenario("none", "", ())


# ---------------------------------------------------------------------- finding scenarios
def test_find_and_list_for_a_dataset(cp):
    assert list(list_scenarios(cp)) == ["core-shock"]
    assert list_scenarios("core-periphery") == list_scenarios(cp)
    scen = find_scenario("core-shock", cp)
    assert scen.shocks == (Shock("external_assets", target="C", absolute=94.0),)
    assert default_scenario_of(cp) == scen
    assert default_scenario_of(contagion.load_dataset("ring")) is None


def test_unknown_scenario_lists_available(cp, chain):
    with pytest.raises(ScenarioError, match=r"^unknown scenario 'core-shok' \(did you mean 'core-shock'\?\); "
                                            r"available for core-periphery: core-shock$"):
        find_scenario("core-shok", cp)
    with pytest.raises(ScenarioError, match="no scenarios ship with ring"):
        find_scenario("x", contagion.load_dataset("ring"))
    with pytest.raises(ScenarioError, match="no such scenario file"):
        find_scenario("some/dir/x.toml", cp)
    with pytest.raises(ScenarioError, match=r"^other\.toml: no such scenario file \(scenarios of core-periphery: core-shock\)"):
        find_scenario("other.toml", cp)
    # the file name of a shipped scenario works as its name
    assert find_scenario("core-shock.toml", cp).name == "core-shock"


def test_find_by_path_and_in_a_network_folder(tmp_path, chain):
    folder = tmp_path / "mynet"
    shutil.copytree(contagion.datasets.dataset_path("chain"), folder)
    (folder / "scenarios").mkdir(exist_ok=True)
    Scenario("b-hit", "B loses 3", [Shock("external_assets", target="B", absolute=3)]).save(
        folder / "scenarios" / "b-hit.yaml")
    (folder / "scenarios" / "broken.toml").write_text("kind = ", encoding="utf-8")
    (folder / "dataset.toml").write_text('default_scenario = "b-hit"\n', encoding="utf-8")
    net = contagion.read_network(folder)
    assert folder / "scenarios" in scenario_dirs(net)
    listed = list_scenarios(net)
    assert listed["b-hit"] == "B loses 3" and listed["a-fails"].startswith("A is forced")
    assert listed["broken"].startswith("(invalid: ")
    assert find_scenario("b-hit", net).shocks[0].absolute == 3
    assert default_scenario_of(net).name == "b-hit"
    # a path works from anywhere, with or without a network
    assert find_scenario(str(folder / "scenarios" / "b-hit.yaml")).name == "b-hit"
    assert apply(net, find_scenario("b-hit", net)).external_assets.tolist() == [5, 3, 0.5]


def test_bad_default_scenario_is_located(tmp_path):
    folder = tmp_path / "n"
    shutil.copytree(contagion.datasets.dataset_path("chain"), folder)
    (folder / "dataset.toml").write_text('default_scenario = "missing"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"dataset\.toml: default_scenario: unknown scenario 'missing'"):
        default_scenario_of(contagion.read_network(folder))


@pytest.mark.slow
def test_shipped_scenarios_are_valid_and_apply():
    for name in contagion.list_datasets():
        net = contagion.load_dataset(name)
        for scen_name in list_scenarios(net):
            scen = find_scenario(scen_name, net)
            assert scen.description, f"{name}/{scen_name} needs a description"
            apply(net, scen)


def test_a_sweep_configuration_given_as_a_scenario_says_what_it_is(tmp_path):
    """`run -s sweeps/x.toml` listed three "kind: required key is missing" and three unknown keys; the file is a
    sweep configuration, and the error says so and how to run it."""
    from click.testing import CliRunner

    from contagion.cli import cli
    from contagion.datasets import dataset_path

    shipped = dataset_path("ai-infrastructure") / "sweeps" / "ai-demand-uncertainty.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(shipped)
    assert str(info.value) == (f"{shipped}: a sweep configuration (random losses: correlation, levels, "
                               f"distributions), not a scenario; run it with `contagion sweep -c {shipped}`")
    res = CliRunner().invoke(cli, ["run", "-s", str(shipped)])
    assert res.exit_code == 1 and "not a scenario; run it with `contagion sweep -c" in res.stderr


def test_messages_name_a_users_scenario_file_and_say_why_exactly(tmp_path):
    """`run -s my.toml` with an unknown target named only the scenario (`validate` named the file); a path
    named neither ('shocks[0]' of a flattened list); a loss of 5.000001 against assets of 5 read 'loss 5 is
    larger than ... (5)'; a fractional year 'must be a number'; a five-digit year 'expected FIRST:LAST'."""
    from click.testing import CliRunner

    from contagion.cli import cli

    def err(*args):
        out = CliRunner().invoke(cli, list(args))
        assert out.exit_code in (1, 2), out.output
        return " ".join(out.output.split())

    scen = tmp_path / "named.toml"
    scen.write_text('name = "core-shock"\n[[shocks]]\nkind = "external_assets"\ntarget = "Z"\nrelative = 0.5\n')
    named = f"{scen}: scenario 'core-shock': shocks[0].target: unknown institution 'Z'"
    assert named in err("run", "chain", "-s", str(scen))
    assert named in err("run", "chain", "-s", str(scen), "--horizon", "2026:2027")
    scen.write_text('name = "a"\n[[shocks]]\nkind = "external_assets"\ntarget = "A"\nabsolute = 5.000001\n')
    assert "loss 5.000001 is larger than the external assets of A (5)" in err("run", "chain", "-s", str(scen))
    scen.write_text('name = "y"\n[[shocks]]\nkind = "external_assets"\ntarget = "A"\nrelative = 0.5\n'
                    'year = 2027.5\n')
    assert "shocks[0].year: must be a whole year, got 2027.5" in err("run", "chain", "-s", str(scen))
    assert "'2026:99999': years have at most four digits" in err("run", "chain", "--horizon", "2026:99999")
    # a dataset's own scenario is named as before (no file path)
    from contagion.shocks import find_scenario

    assert find_scenario("core-shock", contagion.load_dataset("core-periphery")).where == "scenario 'core-shock'"
