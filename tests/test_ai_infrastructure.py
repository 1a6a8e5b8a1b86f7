"""The built-in AI-infrastructure network (graphs/ai-infrastructure) and its scenarios.

Figures in the assertions come from the fact sheet (``../shared/data/ai-infra``,
FACTS.md with its source keys [Sxx]) or are derived by hand from it and from
``assumptions.csv``; each test says which. The pinned headline results of every
scenario live in ``graphs/ai-infrastructure/golden/<scenario>.json`` together with
a note on why they are plausible (field ``why``).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import contagion
from contagion.datasets import dataset_path, default_dataset
from contagion.shocks import apply, default_scenario_of, find_scenario, list_scenarios, load_scenario
from contagion.sponsors import sponsor_exposure

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "graphs" / "ai-infrastructure"
SCRIPT = REPO / "scripts" / "build_ai_infrastructure.py"
FACT_SHEET = REPO.parent / "shared" / "data" / "ai-infra"
needs_fact_sheet = pytest.mark.skipif(not (FACT_SHEET / "edges.csv").is_file(),
                                      reason=f"fact sheet not found at {FACT_SHEET}")

ALL_SCENARIOS = sorted(p.stem for p in (DATA / "scenarios").glob("*.toml"))
VARIANTS = ("assumptions-low", "assumptions-high")
#: scenarios about the 2026-2030 path (dated shocks or path rules): pinned in golden/path-NAME.json
PATH_SCENARIOS = ("openai-slowdown-2027", "private-credit-freeze-2028", "gpu-obsolescence",
                  "slowdown-freeze-obsolescence")
#: one-year scenarios: pinned in golden/NAME.json
SCENARIOS = sorted(set(ALL_SCENARIOS) - set(PATH_SCENARIOS))
HORIZON = (2026, 2030)


@pytest.fixture(scope="module")
def net():
    return contagion.load_dataset("ai-infrastructure")


def _rows(name: str) -> list[dict]:
    with open(DATA / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _text(v) -> str:
    """A text cell as str ('' for a missing one: the CSV reader gives NaN)."""
    return v if isinstance(v, str) else ""


def _edge(net, edge_id: str) -> dict:
    edges = net.edges
    row = edges[edges["edge_id"] == edge_id]
    assert len(row) == 1, edge_id
    return row.iloc[0].to_dict()


# ---------------------------------------------------------------------------------------------- loading
def test_loads_validates_and_is_the_default(net):
    assert default_dataset() == "ai-infrastructure"
    # 61 institutions, 107 fact-sheet obligations + 4 derived rows (e004r, e090a, Meta's guarantee e045g/e045x)
    assert (net.n, net.n_edges) == (61, 111)
    assert len(set(net.names)) == net.n
    for usual in ("OpenAI", "Oracle", "CoreWeave", "SoftBank Group", "Blue Owl Capital", "Crusoe", "NVIDIA",
                  "Microsoft", "Meta", "JPMorgan", "Anthropic", "xAI", "Stargate LLC"):
        assert usual in net.names
    assert dataset_path("ai-infrastructure") == DATA
    scen = default_scenario_of(net)
    assert scen is not None and scen.name == "openai-revenue-shortfall"


def test_scenarios_are_listed_with_descriptions(net):
    listed = list_scenarios(net)
    assert sorted(listed) == ALL_SCENARIOS
    assert set(PATH_SCENARIOS) <= set(listed)
    for name in ("baseline", "openai-revenue-shortfall", "ai-demand-slowdown", "gpu-collateral-writedown",
                 "private-credit-refinancing-freeze", "nvidia-loi-withdrawn", "severe-combined", "binding-only",
                 "hyperion-tenant-exit", *VARIANTS):
        assert name in listed
        assert len(listed[name]) > 80 and not listed[name].startswith("(invalid")
    for name in set(ALL_SCENARIOS) - set(VARIANTS) - {"baseline"}:
        assert "[S" in listed[name], f"{name}: description cites no source of the fact sheet"


# ---------------------------------------------------------------------------------------------- traceability
def test_every_edge_with_an_amount_carries_a_source(net):
    edges = net.edges
    with_amount = edges[edges["amount"] > 0]
    assert len(with_amount) == 60      # 59 obligations + the cap of Meta's residual value guarantee (e045g)
    assert with_amount["source"].str.contains(r"\[S\d\d\]", regex=True).all()
    assert with_amount["included"].astype(bool).all()
    assert (with_amount["annual_rule"].str.len() > 0).all()
    # an excluded obligation owes nothing and says why
    excluded = edges[~edges["included"].astype(bool)]
    assert (excluded["amount"] == 0).all()
    assert excluded["annual_rule"].str.startswith("excluded: ").all()


def test_every_number_is_a_fact_or_a_labelled_assumption(net):
    table = _rows("assumptions.csv")
    assert list(table[0]) == ["id", "applies_to", "quantity", "value", "low", "high", "basis", "source"]
    ids = {r["id"] for r in table}
    for r in table:
        assert float(r["low"]) <= float(r["value"]) <= float(r["high"]), r["id"]
        assert r["basis"] and r["source"], r["id"]
    used = set()
    for frame in (net.nodes, net.edges):
        for cell in frame["assumptions"].map(_text):
            used |= {x for x in cell.split(";") if x}
    for table in ("collateral.csv", "cashflows.csv"):  # the 2026-2030 path
        for r in _rows(table):
            used |= {x for x in r["assumptions"].split(";") if x}
    for name in PATH_SCENARIOS:  # the path scenarios name theirs in brackets
        text = (DATA / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
        used |= {x for x in ids if f"[{x}]" in text}
    assert used <= ids, f"unknown assumptions used: {used - ids}"
    assert ids <= used, f"assumptions never used: {ids - used}"
    nodes = net.nodes
    funded = nodes[(nodes["external_assets"] > 0) | (nodes["external_liabilities"] > 0)]
    for _, row in funded.iterrows():
        traced = _text(row["assumptions"]) or "(S" in row["basis"]
        assert isinstance(row["basis"], str) and row["basis"] and traced, row["name"]
    # the components add up to the totals
    parts_a = nodes[["assets_cash", "assets_revenue", "assets_new_money", "assets_buffer"]].astype(float).sum(axis=1)
    parts_l = nodes[["liabilities_costs", "liabilities_debt_service", "liabilities_capex"]].astype(float).sum(axis=1)
    np.testing.assert_allclose(parts_a, net.external_assets, atol=1e-5)
    np.testing.assert_allclose(parts_l, net.external_liabilities, atol=1e-5)


# ---------------------------------------------------------------------------------------------- totals
def test_nominal_totals_match_the_fact_sheet(net):
    """The fact sheet's edges.csv has 62 amounts summing to 1515.32 (USD bn, column amount_usd_bn).

    Every one is kept in ``nominal_usd_bn`` on its row (``fact_row``); the two derived rows (e004r revenue
    share, e090a Apollo's $3.5bn) are not fact-sheet rows.
    """
    edges = net.edges
    src = edges[~edges["edge_id"].isin(["e004r", "e090a", "e045g", "e045x"])]
    nominal = src["nominal_usd_bn"].astype(float)
    assert nominal.notna().sum() == 62
    assert nominal.sum() == pytest.approx(1515.32, abs=1e-9)
    assert sorted(src["fact_row"].astype(int)) == list(range(2, 109))


def test_itemised_debt_matches_the_reported_totals(net):
    edges = net.edges
    principal = edges["principal_usd_bn"].astype(float)

    def debt(debtor):
        sel = (edges["debtor"] == debtor) & edges["included"].astype(bool) & principal.notna()
        return principal[sel].sum()

    assert debt("vantage_oracle_spvs") == pytest.approx(38.0)   # $23.25bn TX + $14.75bn WI [S21]
    assert debt("nm_jupiter") == pytest.approx(18.0)            # [S23]
    assert debt("abilene_jv") == pytest.approx(9.4)             # $2.3bn + $7.1bn [S46]
    assert debt("hyperion_spv") == pytest.approx(27.3)          # Beignet 144A bonds [S26]
    assert debt("xai_spv") == pytest.approx(12.5)               # 'up to' $12.5bn, Apollo's 3.5 carved out [S50]
    bridge = edges[(edges["debtor"] == "softbank") & edges["fact_row"].astype(int).between(92, 95)]
    assert principal[bridge.index].sum() == pytest.approx(15.0)  # $15bn bridge, 21 banks [S53]
    # FT (S57): ~$96bn of partner borrowing = ~28 (Blue Owl/Crusoe SPVs: Abilene + New Mexico) + 38 (Vantage)
    # + >=30 (SoftBank, Oracle, CoreWeave)
    assert debt("abilene_jv") + debt("nm_jupiter") == pytest.approx(28, abs=1.0)


def test_overlaps_are_not_double_counted(net):
    """FACTS 7: Oracle's aggregate $248bn of leases contains the site leases; only the remainder is kept.

    248 / 17 years = 14.588 a year in all (the fact sheet's mid-term annualisation).
    """
    edges = net.edges
    oracle_leases = edges[(edges["debtor"] == "oracle") & (edges["kind"] == "lease")]
    assert oracle_leases["amount"].sum() == pytest.approx(248 / 17, abs=1e-5)
    assert not _edge(net, "e107")["included"]      # SoftBank $8.5bn bridge (FT), probable overlap
    assert not _edge(net, "e091")["included"]      # Apollo's syndicate row, replaced by e090a
    assert _edge(net, "e020")["amount"] == pytest.approx(1.4)  # Microsoft: 13 - 11.6 funded [S63]
    assert not _edge(net, "e021")["included"]      # SoftBank's $30bn, funded by Dec-2025 [S54]
    xai = edges[edges["debtor"] == "xai_spv"]
    assert xai["principal_usd_bn"].astype(float).sum() == pytest.approx(12.5)


def test_contingent_obligations_are_flagged(net):
    expected = {"e018": "NVIDIA LOI", "e019": "AMD warrant", "e023": "Stargate", "e024": "Stargate",
                "e025": "Stargate", "e026": "Stargate", "e003": "up to", "e011": "up to", "e027": "up to",
                "e028": "up to", "e090": "up to", "e090a": "up to", "e088": "NVIDIA backstop",
                "e010": "Meta-Oracle talks", "e063": "Michigan debt in negotiation"}
    edges = net.edges
    contingent = edges["contingent"].astype(bool)
    flagged = set(edges.loc[contingent & (edges["amount"] > 0), "edge_id"])
    assert flagged == set(expected)
    off = apply(net, find_scenario("binding-only", net))
    amounts = off.edges.set_index("edge_id")["amount"]
    assert (amounts[sorted(expected)] == 0).all()
    assert (amounts[edges.loc[~contingent, "edge_id"]].to_numpy() == edges.loc[~contingent, "amount"].to_numpy()).all()
    assert (amounts[edges.loc[contingent, "edge_id"]] == 0).all()


def test_vehicles_carry_their_sponsor(net):
    """Oracle's four Stargate sites owe interest at SOFR 4% + 2.5% = 6.5% on 9.4 + 38 + 18 + 14 = 79.4 in 2027.

    0.065 x 79.4 = 5.161 of debt service sits in vehicles sponsored by Oracle; Meta's Hyperion owes 6.58% on
    27.3 = 1.79634 [S24].
    """
    nodes = net.nodes.set_index("id")
    for vid in ("hyperion_spv", "abilene_jv", "vantage_oracle_spvs", "nm_jupiter", "michigan_barn", "xai_spv"):
        assert nodes.loc[vid, "type"] == "data_center_spv"
        assert _text(nodes.loc[vid, "sponsor"]) and all(s in nodes.index for s in nodes.loc[vid, "sponsor"].split(";"))
    exposure = sponsor_exposure(net)
    assert exposure.loc["Oracle", "off_balance_sheet_debt"] == pytest.approx(5.161, abs=1e-6)
    assert exposure.loc["Meta", "off_balance_sheet_debt"] == pytest.approx(1.79634, abs=1e-6)
    assert exposure.loc["Meta", "debt"] == pytest.approx(1.5)  # 5% x $30bn bonds [S28, meta_bond_rate]


# ---------------------------------------------------------------------------------------------- behaviour
def test_baseline_has_no_default_and_openai_margin_is_hand_checkable(net):
    """OpenAI in 2027 (central assumptions), by hand:

    outside assets 34 (17.5 + 22.5 - 6, S62/S54) + 40 revenue + 41 new equity = 115; inflows 10 (NVIDIA LOI)
    + 34/6 (AMD warrant) + 1.4 (Microsoft) = 17.0667; obligations 60 (Oracle, 300/5) + 31.25 (Azure 250/8)
    + 8 (20% revenue share) + 4.48 (CoreWeave 22.4/5) + 38/7 (AWS) + 4.75 (Stargate 19/4) + 12 other costs
    = 125.9086; margin 6.158.
    """
    res = contagion.clear(net)
    assert res.n_defaults == 0
    i = net.index_of("OpenAI")
    assert net.total_obligations[i] == pytest.approx(60 + 31.25 + 8 + 4.48 + 38 / 7 + 4.75 + 12, abs=1e-5)
    assert net.equity_before[i] == pytest.approx(115 + 10 + 34 / 6 + 1.4 - 125.908571, abs=1e-5)


def test_openai_revenue_shortfall_by_hand(net):
    """Half of the $40bn plan revenue goes, and the revenue share falls from 8 to 4: OpenAI holds 95 outside,
    receives 17.0667 in full (its investors are solvent), owes 121.9086, so it pays 112.0667 and defaults in
    wave 0 with a shortfall of 9.842; Oracle receives 60/121.9086 of the payment."""
    shocked = apply(net, find_scenario("openai-revenue-shortfall", net))
    res = contagion.clear(shocked)
    i, o = net.index_of("OpenAI"), net.index_of("Oracle")
    assert res.payments[i] == pytest.approx(95 + 10 + 34 / 6 + 1.4, abs=1e-5)
    assert res.default_round[i] == 0 and res.n_defaults == 1
    paid_to_oracle = res.payments[i] * 60 / shocked.total_obligations[i]
    assert res.received[o] == pytest.approx(paid_to_oracle + 4.0, abs=1e-5)  # + Meta's 20/5 (talks) in full


def _golden(name: str) -> dict:
    return json.loads((DATA / "golden" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_runs_and_matches_its_golden_headline(net, name):
    """Who defaults, in which wave, and how much is not paid: see the ``why`` field of the golden file."""
    golden = _golden(name)
    assert golden["why"], f"golden/{name}.json says nothing about why the result is plausible"
    shocked = apply(net, load_scenario(DATA / "scenarios" / f"{name}.toml"))
    res = contagion.clear(shocked)
    assert res.converged
    got = {shocked.names[i]: int(res.default_round[i]) for i in np.flatnonzero(res.defaulted)}
    assert got == {d["name"]: d["wave"] for d in golden["defaults"]}
    for d in golden["defaults"]:
        assert res.shortfall[shocked.index_of(d["name"])] == pytest.approx(d["shortfall"], abs=1e-3)
    assert res.total_shortfall == pytest.approx(golden["total_shortfall"], abs=1e-3)


def test_the_cascade_of_the_severe_case(net):
    """severe-combined is the readable cascade: OpenAI fails fundamentally, Oracle follows in wave 1, and
    Oracle still pays more than 1/dscr = 1/1.3 of each rent, so its data-centre vehicles do not follow."""
    res = contagion.clear(apply(net, find_scenario("severe-combined", net)))
    r = dict(zip(net.names, res.default_round))
    assert r["OpenAI"] == 0 and r["Oracle"] == 1
    o = net.index_of("Oracle")
    assert res.payments[o] / net.total_obligations[o] > 1 / 1.3
    for site in ("Vantage Frontier & Port Washington", "New Mexico Stargate campus", "Michigan campus (The Barn)"):
        assert r[site] == -1


@pytest.mark.parametrize("variant", VARIANTS)
def test_scenarios_compose_with_the_assumption_variants(net, variant):
    base = apply(net, find_scenario(variant, net))
    for name in set(SCENARIOS) - set(VARIANTS):
        res = contagion.clear(apply(base, find_scenario(name, net)))
        assert res.converged


# ---------------------------------------------------------------------------------------------- the build
def _load_builder():
    spec = importlib.util.spec_from_file_location("build_ai_infrastructure", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@needs_fact_sheet
def test_build_script_reproduces_the_shipped_files(tmp_path):
    builder = _load_builder()
    assert builder.main(["--source", str(FACT_SHEET), "--out", str(tmp_path)]) == 0
    built = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*")
                     if p.is_file() and not p.relative_to(DATA).as_posix().startswith(("golden/", "sweeps/")))
    assert built == shipped
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (DATA / rel).read_bytes(), rel


@pytest.mark.slow
@needs_fact_sheet
@pytest.mark.parametrize("level", ["low", "high"])
def test_assumption_variant_equals_a_build_at_that_end(net, tmp_path, level):
    builder = _load_builder()
    assert builder.main(["--source", str(FACT_SHEET), "--out", str(tmp_path), "--assumptions", level]) == 0
    direct = contagion.read_network(tmp_path)
    via = apply(net, find_scenario(f"assumptions-{level}", net))
    np.testing.assert_allclose(via.external_assets, direct.external_assets, atol=1e-5)
    np.testing.assert_allclose(via.external_liabilities, direct.external_liabilities, atol=1e-5)
    np.testing.assert_allclose(via.edges["amount"], direct.edges["amount"], atol=1e-5)


@needs_fact_sheet
def test_shipped_assumption_effects_are_what_the_builder_writes(net):
    """assumption_effects.csv is written by the builder (deterministically: two runs give the same bytes, and they
    are the shipped file's), so ``contagion sensitivity --rank-assumptions`` works on the built-in network."""
    builder = _load_builder()
    text = builder.assumption_effects_csv(builder.assumption_effects(FACT_SHEET))
    assert text == builder.assumption_effects_csv(builder.assumption_effects(FACT_SHEET))
    assert (DATA / "assumption_effects.csv").read_text(encoding="utf-8") == text


def test_assumption_effects_agree_with_the_network_and_the_ranges(net):
    """Every ``central`` amount is the shipped network's; every assumption named is in assumptions.csv; and an
    assumption that enters one amount 1 for 1 (coreweave_cash: CoreWeave's cash in its outside assets) moves it
    by exactly its own range: low - central = 2.5 - 3.5 and high - central = 4.5 - 3.5."""
    effects = list(csv.DictReader(open(DATA / "assumption_effects.csv", encoding="utf-8")))
    ranges = {r["id"]: r for r in csv.DictReader(open(DATA / "assumptions.csv", encoding="utf-8"))}
    edge_amount = dict(zip(net.edges["edge_id"], net.edges["amount"]))
    for r in effects:
        assert r["assumption"] in ranges
        have = edge_amount[r["target"]] if r["kind"] == "edge" else \
            getattr(net, r["kind"])[net.ids.index(r["target"])]
        assert float(r["central"]) == pytest.approx(have, rel=1e-6, abs=1e-6), r
    (cw,) = [r for r in effects if r["assumption"] == "coreweave_cash"]
    a = ranges["coreweave_cash"]
    assert (cw["kind"], cw["target"], float(cw["derivative"])) == ("external_assets", "coreweave", 1.0)
    assert float(cw["low"]) - float(cw["central"]) == pytest.approx(float(a["low"]) - float(a["value"]), abs=1e-12)
    assert float(cw["high"]) - float(cw["central"]) == pytest.approx(float(a["high"]) - float(a["value"]), abs=1e-12)


@needs_fact_sheet
def test_build_refuses_to_overwrite_the_dataset_with_a_variant(capsys):
    builder = _load_builder()
    assert builder.main(["--source", str(FACT_SHEET), "--assumptions", "low"]) == 2
    assert "--out" in capsys.readouterr().err


def test_build_fails_cleanly_without_the_fact_sheet(tmp_path, capsys):
    builder = _load_builder()
    assert builder.main(["--source", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: no ai-infra fact sheet (FACTS.md, nodes.csv, edges.csv) in {tmp_path}",
        "  give the folder that holds FACTS.md, nodes.csv, edges.csv: python scripts/build_ai_infrastructure.py "
        "--source DIR"]
    (tmp_path / "FACTS.md").write_text("# facts\n", encoding="utf-8")
    assert builder.main(["--source", str(tmp_path), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"error: the ai-infra fact sheet in {tmp_path} is incomplete: nodes.csv, edges.csv missing")
    assert not (tmp_path / "out").exists()


def test_build_outside_a_checkout_with_its_fact_sheet_says_where_it_looked(tmp_path):
    """The script run as a user would, from a checkout with no ``../shared/data/ai-infra`` beside it: two lines on
    stderr (where it looked, how to point it elsewhere), exit 1, no traceback, nothing written."""
    import shutil
    import subprocess

    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, checkout / "scripts" / SCRIPT.name)
    run = subprocess.run([sys.executable, str(checkout / "scripts" / SCRIPT.name)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and run.stdout == ""
    looked = tmp_path / "shared" / "data" / "ai-infra"
    assert run.stderr.splitlines() == [
        f"error: no ai-infra fact sheet (FACTS.md, nodes.csv, edges.csv) in {looked}, the default "
        f"(../shared/data/ai-infra beside the checkout {checkout})",
        "  put the fact sheet there, or give its folder: python scripts/build_ai_infrastructure.py --source DIR"]
    assert sorted(p.name for p in checkout.rglob("*")) == ["build_ai_infrastructure.py", "scripts"]


def test_cli_default_run_shows_openai_failing():
    from click.testing import CliRunner

    from contagion.cli import cli

    result = CliRunner().invoke(cli, ["run", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    failed = {r["name"]: r["default_round"] for r in data["institutions"] if r["defaulted"]}
    assert failed == {"OpenAI": 0}
    assert math.isclose(data["summary"]["total_shortfall"], _golden("openai-revenue-shortfall")["total_shortfall"],
                        abs_tol=1e-3)


# ---------------------------------------------------------------------------------------------- the 2026-2030 path
def _path(net, name: str | None):
    scen = [] if name is None else [load_scenario(DATA / "scenarios" / f"{name}.toml")]
    return contagion.clear_path(net, HORIZON, scen)


def test_dated_columns_cover_every_obligation(net):
    """Every obligation with an amount is dated for the path and says why; debt rows keep their principal."""
    edges = net.edges.set_index("edge_id")
    live = edges[edges["amount"] > 0]
    assert live["path_basis"].map(_text).str.len().gt(0).all()
    debt = edges[edges["principal"].notna()]
    np.testing.assert_allclose(debt["principal"].astype(float), debt["principal_usd_bn"].astype(float))
    assert debt["maturity"].notna().all()
    # Oracle's $300bn: 5 years from 2027 [S01]; Microsoft -> CoreWeave: 2023-2030 spend [S39]
    assert (edges.loc["e002", "start"], edges.loc["e002", "end"]) == (2027, 2031)
    assert edges.loc["e013", "end"] == 2030
    # CoreWeave DDTL 1.0 matures Mar-2028, DDTL 2.0 May-2029 [S29]; its 9.25% notes Jun-2030 [S32]
    assert edges.loc["e069", "maturity"] == 2028 and edges.loc["e072", "maturity"] == 2029
    assert edges.loc["e079", "maturity"] == 2030 and edges.loc["e079", "rollover"] == "none"
    # GPU-backed loans are judged on their borrower's fleet at max_ltv 3.5 / 5.4 ~ 0.65 [S51]
    gpu = edges[edges["rollover"] == "ltv"]
    assert sorted(gpu.index) == ["e069", "e072", "e073", "e078", "e090", "e090a"]
    assert set(gpu["collateral"]) == {"coreweave_gpu", "xai_gpu"} and (gpu["max_ltv"] == 0.65).all()
    # the banks extend the SPV loans and SoftBank's bridge (reported extension options / take-out)
    for eid in ("e047", "e048", "e049", "e050", "e058", "e063", "e082", "e092", "e093", "e094", "e095", "e101"):
        assert edges.loc[eid, "rollover"] == "always", eid


def test_collateral_fleets_by_hand():
    """CoreWeave's fleet = its GPU-backed principal (1.7825 + 4.954 + 3 + 2.6 = 12.3365) / 0.65 = 18.979 on
    1 Jan 2026; the xAI vehicle's ~$20bn = 7.5 equity + 12.5 debt [S50]. Economic life 3 years [S75], book life 6."""
    rows = {r["id"]: r for r in _rows("collateral.csv")}
    assert float(rows["coreweave_gpu"]["value"]) == pytest.approx(12.3365 / 0.65, abs=1e-5)
    assert float(rows["xai_gpu"]["value"]) == 20
    for r in rows.values():
        assert (int(r["year"]), float(r["economic_life"]), float(r["book_life"])) == (2026, 3, 6)


def test_stocks_come_once_and_flows_follow_the_plans():
    """cashflows.csv: a bank's placeholder buffer and SoftBank's resources are given in 2026 only; OpenAI's
    revenue path runs from 13 x (213/13)^(1/5) = 22.74 in 2026 to 213 in 2030 [S59,S62], plus 41 of new equity a
    year, with its $34bn of cash in 2026 only."""
    flows = {(r["id"], int(r["year"])): r for r in _rows("cashflows.csv")}
    for nid in ("jpmorgan", "softbank", "blue_owl", "crusoe"):
        assert all(float(flows[(nid, y)]["external_assets"]) == 0 for y in range(2027, 2031)), nid
    assert float(flows[("openai", 2026)]["external_assets"]) == pytest.approx(34 + 13 * (213 / 13) ** 0.2 + 41,
                                                                              abs=1e-3)
    assert float(flows[("openai", 2030)]["external_assets"]) == pytest.approx(213 + 41)
    # 2027 equals the one-year network less the opening cash (the path carries it forward instead)
    assert float(flows[("openai", 2027)]["external_assets"]) == pytest.approx(115 - 34)


def test_gpu_obsolescence_calls_ddtl1_a_year_early(net):
    """CoreWeave's DDTL 1.0 ($1.7825bn) matures in 2028. With a 3-year life its fleet is worth 18.979 x 1/3 =
    6.33 in 2028, and 6.33 x 0.65 = 4.11 >= 1.7825: the lenders roll it (for one year). With a 2-year life the
    fleet is worth nothing in 2028 and the loan is called: called principal in 2028 rises by exactly 1.7825."""
    base, obs = _path(net, "baseline"), _path(net, "gpu-obsolescence")
    k = base.years.index(2028)
    assert obs.called_principal[k] - base.called_principal[k] == pytest.approx(1.7825)
    assert base.rolled_principal[k] - obs.rolled_principal[k] == pytest.approx(1.7825)


def test_book_life_keeps_ddtl2_rolling_where_economic_life_does_not(net):
    """DDTL 2.0 ($4.954bn) matures in 2029. Economic life 3: the fleet is worth 0 in 2029, the loan is called.
    Book life 6 (a collateral shock of factor 2): 18.979 x (1 - 3/6) x 0.65 = 6.17 >= 4.954, rolled."""
    from contagion.shocks import Scenario, Shock

    book = Scenario("book-life", "GPUs valued over their 6-year accounting life", (Shock("collateral", factor=2.0),))
    econ, books = _path(net, "baseline"), contagion.clear_path(net, HORIZON, [book])
    k = econ.years.index(2029)
    assert econ.called_principal[k] >= 4.954 + 1.7825 - 1e-9     # DDTL 2.0 and the rolled DDTL 1.0 both called
    assert books.called_principal[k] == pytest.approx(econ.called_principal[k] - 4.954 - 1.7825)


def test_the_slowdown_fails_openai_in_2028_which_a_one_year_view_of_2027_misses(net):
    """The 2027 one-year network (the plan) has no default, and neither has 2027 on the slowdown path: OpenAI
    carries ~$56bn from 2026. It defaults in 2028 and its default accelerates what it owes to 2030."""
    assert contagion.clear(net).n_defaults == 0
    path = _path(net, "openai-slowdown-2027")
    i = net.index_of("OpenAI")
    assert path.default_year[i] == 2028
    assert not path.defaulted[path.years.index(2027)].any()
    k = path.years.index(2028)
    assert path.obligations[k, i] > 3 * path.obligations[k - 1, i]   # 2028-2030 fall due at once


@pytest.mark.parametrize("name", ("baseline",) + PATH_SCENARIOS)
def test_path_scenarios_match_their_golden(net, name):
    """Who defaults in which year and the year-by-year summary: see the ``why`` of golden/path-NAME.json."""
    golden = _golden(f"path-{name}")
    assert golden["why"] and golden["horizon"] == list(HORIZON)
    path = _path(net, name)
    got = {path.names[i]: y for i, y in enumerate(path.default_year) if y is not None}
    assert got == {d["name"]: d["year"] for d in golden["defaults"]}
    for d in golden["defaults"]:
        k, i = path.years.index(d["year"]), net.index_of(d["name"])
        assert path.shortfall[k, i] == pytest.approx(d["shortfall"], abs=1e-3)
    for row, want in zip(path.summary(), golden["years"]):
        assert row["year"] == want["year"]
        assert (row["defaults"], row["new_defaults"]) == (want["defaults"], want["new_defaults"])
        for key in ("total_shortfall", "rolled_principal", "called_principal"):
            assert row[key] == pytest.approx(want[key], abs=1e-3), (row["year"], key)


def test_path_scenarios_are_skipped_by_a_one_year_run(net):
    from contagion.shocks import PathOnlyWarning

    with pytest.warns(PathOnlyWarning):
        shocked = apply(net, find_scenario("openai-slowdown-2027", net))
    assert contagion.clear(shocked).n_defaults == 0


def test_cli_path_run_of_the_slowdown():
    from click.testing import CliRunner

    from contagion.cli import cli

    result = CliRunner().invoke(cli, ["run", "--horizon", "2026:2030", "-s", "openai-slowdown-2027", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["horizon"] == [2026, 2030]
    failed = {r["name"]: r["default_year"] for r in data["institutions"] if r["default_year"] is not None}
    assert failed == {"OpenAI": 2028}


# ---------------------------------------------------------------------------------------------- guarantees, security
#: Hyperion's bonds in the tenant-exit scenario: principal + the year's 6.58% coupon [S24,S26]
HYPERION_BONDS = {"PIMCO": 18 * 1.0658, "BlackRock": 3 * 1.0658, "Bond investors": 6.3 * 1.0658}


def test_meta_gives_a_residual_value_guarantee_that_is_not_called_as_is(net):
    """Meta's RVG on the Hyperion campus [S25]: K = cost 27 [S25], cap 27.3 [hyperion_rvg_cap]. While Meta
    leases the campus it is valued at cost (V = 27): min(27.3, max(0, 27 - 27)) = 0. The exit row carries cap 0."""
    g, x = _edge(net, "e045g"), _edge(net, "e045x")
    assert (g["kind"], g["debtor"], g["creditor"]) == ("residual_value_guarantee", "meta", "hyperion_spv")
    assert (g["amount"], g["residual_value"], g["asset_value"]) == (27.3, 27, 27)
    assert (x["amount"], x["residual_value"], x["asset_value"]) == (0, 27, pytest.approx(0.6 * 27))
    assert (g["start"], x["start"]) == (2030, 2030)     # first year Meta can leave (4-year initial term [S25])
    res = contagion.clear(net)
    assert "priority" in res.solver and res.n_defaults == 0   # screened: no ranking debtor defaults
    owed = res.network.edges.set_index("edge_id")["amount"]
    assert owed["e045g"] == 0 and owed["e045x"] == 0
    from contagion.sponsors import look_through

    meta = look_through(net, res).loc["Meta"]
    assert (meta["guarantees"], meta["guarantees_called"]) == (27.3, 0.0)


def test_hyperion_tenant_exit_calls_the_guarantee_by_hand(net):
    """Meta leaves: no rent; the campus sells for 0.6 x 27 = 16.2; the RVG pays min(27.3, 27 - 16.2) = 10.8.
    The vehicle holds 16.2 + 10.8 = 27.0 and owes the bonds 27.3 x 1.0658 = 29.09634: it pays 27.0 and defaults
    (wave 0) with a shortfall of 2.09634, shared pro rata; PIMCO loses 19.1844 x 2.09634 / 29.09634 = 1.38219."""
    shocked = apply(net, find_scenario("hyperion-tenant-exit", net))
    res = contagion.clear(shocked)
    h, m, p = (net.index_of(n) for n in ("Hyperion SPV (Beignet Investor)", "Meta", "PIMCO"))
    owed = res.network.edges.set_index("edge_id")["amount"]
    assert owed["e045x"] == pytest.approx(27 - 16.2) and owed["e045g"] == 0 and owed["e045"] == 0
    assert res.payments[m] == pytest.approx(res.network.total_obligations[m])          # Meta pays its 10.8
    assert res.network.total_obligations[h] == pytest.approx(sum(HYPERION_BONDS.values()))
    assert res.payments[h] == pytest.approx(16.2 + 10.8)
    assert res.defaulted[h] and res.default_round[h] == 0 and res.n_defaults == 1
    assert res.shortfall[h] == pytest.approx(29.09634 - 27.0)
    assert res.interbank_loss[p] == pytest.approx(19.1844 * (29.09634 - 27.0) / 29.09634, abs=1e-9)
    golden = _golden("hyperion-tenant-exit")
    assert golden["guarantees"] == {"given": 27.3, "called": 10.8}
    from contagion.sponsors import look_through

    meta = look_through(shocked, res).loc["Meta"]
    assert (meta["guarantees"], meta["guarantees_called"]) == (27.3, pytest.approx(10.8))


def test_the_cap_binds_when_the_campus_falls_further(net):
    """With the cap at 5 (below 27 - 16.2 = 10.8) the guarantee pays 5 and the vehicle's shortfall is
    29.09634 - 16.2 - 5 = 7.89634."""
    from contagion.shocks import Shock

    shocked = apply(apply(net, find_scenario("hyperion-tenant-exit", net)),
                    Shock("edges", select={"edge_id": "e045x"}, value=5.0))
    res = contagion.clear(shocked)
    assert res.network.edges.set_index("edge_id")["amount"]["e045x"] == pytest.approx(5.0)
    assert res.shortfall[net.index_of("Hyperion SPV (Beignet Investor)")] == pytest.approx(29.09634 - 21.2)


def test_secured_debt_is_paid_first_in_the_gpu_writedown(net):
    """gpu-collateral-writedown: CoreWeave defaults. Its GPU-secured rows (DDTLs e069/e072/e073, OpenAI-contract
    debt e078, OEM financing e087: seniority 1 [S29,S35,S80]) are paid in full first; the rest of what it pays
    goes pro rata to its unsecured notes, revolver, Magnetar loan and outside creditors (seniority 2,
    external_seniority 2), each receiving (P - S) / (obligations - S) of its claim."""
    shocked = apply(net, find_scenario("gpu-collateral-writedown", net))
    res = contagion.clear(shocked)
    cw = net.index_of("CoreWeave")
    assert res.defaulted[cw]
    amounts = shocked.edges.set_index("edge_id")["amount"]
    secured = amounts[["e069", "e072", "e073", "e078", "e087"]].sum()
    paid, owed = res.payments[cw], res.network.total_obligations[cw]
    assert secured < paid < owed
    ratio = (paid - secured) / (owed - secured)
    # syndicate nodes hold nothing else: their equity is what they received
    assert res.equity[net.index_of("CoreWeave DDTL 1.0 lenders")] == pytest.approx(amounts["e069"])
    assert res.equity[net.index_of("CoreWeave OEM financiers")] == pytest.approx(amounts["e087"])
    assert res.equity[net.index_of("CoreWeave revolver banks")] == pytest.approx(amounts["e082"] * ratio)
    golden = _golden("gpu-collateral-writedown")
    assert "CoreWeave DDTL 2.0 lenders" not in {x["name"] for x in golden["largest_losses"]}


def test_cli_shows_the_called_guarantee_and_the_guarantor():
    from click.testing import CliRunner

    from contagion.cli import cli

    run = CliRunner().invoke(cli, ["run", "-s", "hyperion-tenant-exit", "-f", "json"])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)["summary"]
    assert summary["guarantees"] == pytest.approx(27.3) and summary["guarantees_called"] == pytest.approx(10.8)
    table = CliRunner().invoke(cli, ["run", "-s", "hyperion-tenant-exit"], env={"COLUMNS": "200"})
    assert "guarantees called (of those given)" in table.stdout and "10.80 of 27.30" in table.stdout
    info = CliRunner().invoke(cli, ["info", "ai-infrastructure", "-f", "json"])
    assert info.exit_code == 0, info.output
    meta = next(s for s in json.loads(info.stdout)["sponsors"] if s["sponsor"] == "Meta")
    assert (meta["guarantees"], meta["guarantees_called"]) == (27.3, 0.0)
