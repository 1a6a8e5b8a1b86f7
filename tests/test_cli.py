"""CLI tests (click's CliRunner) for run, datasets, scenarios, info and validate, plus the console entry points.

Published values used:
- Glasserman, P. & Young, H. P. (2015), J. Banking & Finance 50, 383-399, section 4: core-periphery toy with a
  shock of 94 to the core -> all five default, p = [54, 54, 56, 54, 54] (core third), total shortfall 88, loss
  182 against 178 without the network.
- NetworkValuation (siebenbrunner/NetworkValuation), Rogers-Veraart example: L = [[0,30,0],[5,0,20],[10,0,0]],
  e = [10,5,5], alpha = 0.4, beta = 1 -> p = [18, 20, 10], equity [-6, -2, 11], banks 0 and 1 default.
"""

from __future__ import annotations

import io
import json
import re
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import contagion
from contagion.cli import cli
from contagion.clearing import CLEARING_METHODS
from contagion.datasets import dataset_path

GY_P = {"Periphery 1": 54, "Periphery 2": 54, "Core": 56, "Periphery 3": 54, "Periphery 4": 54}


def invoke(*args: str, ok: bool = True):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def _write_net(folder: Path, nodes: str, edges: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nodes.csv").write_text(nodes, encoding="utf-8")
    (folder / "edges.csv").write_text(edges, encoding="utf-8")
    return folder


@pytest.fixture
def rv_net(tmp_path):
    return _write_net(tmp_path / "rv", "id,external_assets\n0,10\n1,5\n2,5\n",
                      "debtor,creditor,amount\n0,1,30\n1,0,5\n1,2,20\n2,0,10\n")


# ---------------------------------------------------------------------- run: the GY example in three formats
def test_run_json_default_scenario_glasserman_young():
    result = invoke("run", "core-periphery", "--format", "json")
    data = json.loads(result.stdout)
    assert "applying the default scenario 'core-shock'" in result.stderr
    assert [s["name"] for s in data["scenarios"]] == ["core-shock"] and data["default_scenario_applied"] is True
    assert data["method"] == "eisenberg-noe"
    inst = {r["name"]: r for r in data["institutions"]}
    assert set(inst) == set(GY_P)
    for name, p in GY_P.items():
        assert inst[name]["payment"] == pytest.approx(p, abs=1e-9)
        assert inst[name]["defaulted"] is True
    assert inst["Core"]["default_round"] == 0 and inst["Periphery 1"]["default_round"] == 1
    assert inst["Core"]["obligations"] == 140 and inst["Core"]["shortfall"] == pytest.approx(84)
    # before the scenario the core had 150 - 140 = 10 (pre-shock), after it 56 - 140 = -84 with everyone paying
    assert inst["Periphery 1"]["equity_pre_shock"] == pytest.approx(5) and inst["Periphery 1"]["equity"] == \
        pytest.approx(-1)
    assert inst["Core"]["equity_pre_shock"] == pytest.approx(10) and inst["Core"]["equity_if_all_pay"] == \
        pytest.approx(-84)
    assert inst["Core"]["capital_depletion"] == 1.0 and inst["Periphery 1"]["capital_depletion"] == 1.0
    assert inst["Core"]["id"] == "C"
    assert list(data["institutions"][0]) == ["id", "name", "type", "obligations", "payment", "shortfall",
                                             "equity_pre_shock", "equity_if_all_pay", "equity", "capital_depletion",
                                             "defaulted", "default_round"]
    s = data["summary"]
    assert s["defaults"] == 5 and s["fundamental_defaults"] == 1 and s["waves"] == 1
    assert s["total_shortfall"] == pytest.approx(88)
    assert s["external_shortfall"] == pytest.approx(64)  # core 84 x 100/140 = 60, periphery 4 x 1
    assert s["losses_by_creditor_type"] == pytest.approx({"bank": 24.0, "external creditors": 64.0})
    assert s["shock"] == pytest.approx(94) and s["system_loss"] == pytest.approx(182)
    assert s["system_loss_without_network"] == pytest.approx(178)
    assert s["amplification"] == pytest.approx(182 / 178)
    assert s["unique"] is True


def test_run_csv_glasserman_young():
    result = invoke("run", "core-periphery", "-f", "csv")
    frame = pd.read_csv(io.StringIO(result.stdout)).set_index("name")
    assert list(frame.columns) == ["id", "type", "obligations", "payment", "shortfall", "equity_pre_shock",
                                   "equity_if_all_pay", "equity", "capital_depletion", "defaulted", "default_round"]
    assert frame["payment"].to_dict() == pytest.approx(GY_P)
    assert frame["shortfall"].sum() == pytest.approx(88)
    assert frame["defaulted"].all()
    assert frame["default_round"].to_dict() == {"Periphery 1": 1, "Periphery 2": 1, "Core": 0, "Periphery 3": 1,
                                                "Periphery 4": 1}


def test_run_table_glasserman_young():
    out = invoke("run", "core-periphery").stdout
    lines = out.splitlines()
    rows = [ln for ln in lines if "Core" in ln or "Periphery" in ln]
    # sorted by wave, then shortfall: the core (wave 0) first
    assert "Core" in rows[0] and all("Periphery" in r for r in rows[1:5])
    core = rows[0].split("│")
    # equity pre-shock: the core held 150 against 140 before losing 94; it loses all of it (100% depletion)
    assert [c.strip() for c in core[1:-1]] == ["Core", "bank", "140.00", "56.00", "84.00", "10.00", "-84.00",
                                               "100.0%", "yes", "0"]
    per = [c.strip() for c in rows[1].split("│")[1:-1]]
    assert per[2:] == ["55.00", "54.00", "1.00", "5.00", "-1.00", "100.0%", "yes", "1"]
    for label, value in [("defaults", "5"), ("total shortfall", "88.00"), ("loss of bank", "24.00"),
                         ("loss of external creditors", "64.00"), ("system loss (shock + shortfall)", "182.00"),
                         ("system loss without the network", "178.00"), ("amplification", "1.0225")]:
        line = next(ln for ln in lines if f"│ {label} " in ln)
        assert line.split("│")[2].strip() == value, line


def test_run_baseline_and_scenario_by_name_and_path(tmp_path):
    data = json.loads(invoke("run", "core-periphery", "--baseline", "-f", "json").stdout)
    assert data["summary"]["defaults"] == 0 and data["scenarios"] == []
    data = json.loads(invoke("run", "chain", "--scenario", "a-fails", "-f", "json").stdout)
    # A pays 0; B 6 of 15; C 4.5 of 8
    assert [r["payment"] for r in data["institutions"]] == pytest.approx([0, 6, 4.5])
    assert data["summary"]["total_shortfall"] == pytest.approx(22.5)
    path = tmp_path / "hit.yaml"
    path.write_text("description: core loses 94\nshocks:\n  - kind: external_assets\n    target: Core\n"
                    "    absolute: 94\n", encoding="utf-8")
    data = json.loads(invoke("run", "core-periphery", "-s", str(path), "-f", "json").stdout)
    assert data["scenarios"][0]["name"] == "hit" and data["summary"]["total_shortfall"] == pytest.approx(88)
    # two scenarios compose in order: core-shock (-94) then -6 more -> core holds 50, pays 50, periphery gets 2.857
    extra = tmp_path / "more.json"
    extra.write_text(json.dumps({"shocks": [{"kind": "external_assets", "target": "C", "absolute": 6}]}),
                     encoding="utf-8")
    data = json.loads(invoke("run", "core-periphery", "-s", "core-shock", "-s", str(extra), "-f", "json").stdout)
    inst = {r["name"]: r["payment"] for r in data["institutions"]}
    assert inst["Core"] == pytest.approx(50) and inst["Periphery 1"] == pytest.approx(50 + 50 * 10 / 140)


def test_run_network_from_path_with_default_dataset_fallback(tmp_path):
    folder = tmp_path / "cp"
    shutil.copytree(contagion.datasets.dataset_path("core-periphery"), folder)
    data = json.loads(invoke("run", str(folder), "-f", "json").stdout)
    assert data["summary"]["defaults"] == 5  # dataset.toml + scenarios/ travel with the folder
    result = invoke("run", "-f", "json")  # no NETWORK: the built-in default dataset
    assert json.loads(result.stdout)["network"]["name"] == contagion.datasets.default_dataset()


def test_run_says_the_units_of_the_amounts(tmp_path):
    """The CLI said the units nowhere (the view and the report did): the header note and the JSON's network
    carry the dataset's units; a network whose data does not say has ``units: null`` and no words about it."""
    result = invoke("run", "-f", "json")
    assert json.loads(result.stdout)["network"]["units"] == "USD bn"
    assert "obligations); amounts in USD bn; method: eisenberg-noe" in result.stderr
    path = invoke("run", "--horizon", "2026:2027", "-f", "json")
    assert json.loads(path.stdout)["network"]["units"] == "USD bn" and "; amounts in USD bn;" in path.stderr
    folder = tmp_path / "net"
    folder.mkdir()
    (folder / "nodes.csv").write_text("id,external_assets\nA,1\nB,0\n")
    (folder / "edges.csv").write_text("debtor,creditor,amount\nA,B,2\n")
    plain = invoke("run", str(folder), "-f", "json")
    assert json.loads(plain.stdout)["network"]["units"] is None and "amounts in" not in plain.stderr
    assert json.loads(invoke("info", "-f", "json").stdout)["units"] == "USD bn"
    assert invoke("info").stdout.splitlines()[0].startswith("ai-infrastructure (amounts in USD bn)")
    assert json.loads(invoke("info", str(folder), "-f", "json").stdout)["units"] is None


def test_run_rogers_veraart_network_valuation(rv_net):
    data = json.loads(invoke("run", str(rv_net), "--method", "rogers-veraart", "--alpha", "0.4", "--beta", "1",
                             "-f", "json").stdout)
    assert data["method"] == "rogers-veraart" and data["params"] == {"alpha": 0.4, "beta": 1.0}
    assert [r["payment"] for r in data["institutions"]] == pytest.approx([18, 20, 10])
    assert [r["equity"] for r in data["institutions"]] == pytest.approx([-6, -2, 11])
    assert [r["defaulted"] for r in data["institutions"]] == [True, True, False]


def test_run_output_file_is_written(tmp_path):
    target = tmp_path / "out" / "res.json"
    # a missing folder is an error unless --mkdir (a typo in a path should not create folders)
    refused = CliRunner().invoke(cli, ["run", "core-periphery", "-f", "json", "-o", str(target)])
    assert refused.exit_code == 1 and "does not exist (create it, or add --mkdir)" in refused.stderr
    assert not target.parent.exists()
    result = invoke("run", "core-periphery", "-f", "json", "-o", str(target), "--mkdir")
    assert result.stdout == "" and f"wrote {target}" in result.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["total_shortfall"] == pytest.approx(88)
    table = tmp_path / "res.txt"
    invoke("run", "chain", "--baseline", "-o", str(table))
    text = table.read_text(encoding="utf-8")
    assert "\x1b[" not in text and "7.83" in text  # C pays 47/6


def test_method_choices_come_from_the_registry():
    help_text = invoke("run", "--help").stdout
    for name in CLEARING_METHODS:
        assert name in help_text


# ---------------------------------------------------------------------- datasets / scenarios / info
def test_datasets():
    out = invoke("datasets").stdout
    for name in ("chain", "core-periphery", "ring"):
        assert name in out
    data = json.loads(invoke("datasets", "-f", "json").stdout)
    by_name = {d["name"]: d for d in data}
    assert by_name["core-periphery"]["default_scenario"] == "core-shock"
    assert by_name["chain"]["description"].startswith("Chain: A owes B owes C")


def test_scenarios():
    out = invoke("scenarios", "core-periphery").stdout
    assert "core-shock" in out and "Glasserman & Young (2015)" in out
    data = json.loads(invoke("scenarios", "chain", "-f", "json").stdout)
    assert data == [{"name": "a-fails", "description": contagion.shocks.list_scenarios("chain")["a-fails"],
                     "default": False}]
    result = invoke("scenarios", "ring")
    assert result.stdout == "" and "no scenarios ship with ring" in result.stderr
    # the built-in network names a default for one year and one for a path (--horizon)
    ai = {r["name"]: r for r in json.loads(invoke("scenarios", "-f", "json").stdout)}
    assert [n for n, r in ai.items() if r["default"]] == ["openai-revenue-shortfall"]
    assert [n for n, r in ai.items() if r["default_path"]] == ["openai-slowdown-2027"]


def test_info_json_and_table():
    data = json.loads(invoke("info", "core-periphery", "-f", "json").stdout)
    assert data["institutions"] == 5 and data["obligations"] == 4
    assert data["external_assets"] == 350 and data["total_obligations"] == 360
    assert data["strongly_connected_components"] == 5 and data["largest_component"] == 1
    assert data["clearing_unique"] is True and data["types"] == {"bank": 5}
    assert data["edge_kinds"] == {"loan": {"count": 4, "amount": 40.0}}
    assert "sponsors" not in data
    ring = json.loads(invoke("info", "ring", "-f", "json").stdout)
    # A -> B -> C -> A is one component of 3 without outside money: not unique (Eisenberg & Noe 2001, Thm 2)
    assert ring["strongly_connected_components"] == 3 and ring["largest_component"] == 3
    assert ring["cyclic_components"] == 1 and ring["clearing_unique"] is False
    table = invoke("info", "ring").stdout
    assert "no (the greatest is used)" in table and "strongly connected components" in table
    assert data["total_owed"] == 360 and "owed when everyone pays" not in table
    # the built-in network: Meta's residual value guarantee on Hyperion (cap 27.3) is out of the money
    ai = json.loads(invoke("info", "-f", "json").stdout)
    assert ai["total_obligations"] - ai["total_owed"] == pytest.approx(27.3, abs=1e-9)
    assert "(guarantee caps not owed)" in invoke("info").stdout


def test_an_output_file_suffix_names_the_format(tmp_path):
    """`run -o out.csv` wrote the terminal table (box drawing) into out.csv; without --format the suffix now
    decides (.csv, .json), and an explicit --format that contradicts it is a usage error, as for `report`."""
    out = tmp_path / "out.csv"
    invoke("run", "chain", "-s", "a-fails", "-o", str(out))
    assert out.read_text(encoding="utf-8").splitlines()[1] == "A,A,bank,10.0,0.0,10.0,-5.0,-5.0,-5.0,,True,0"
    js = tmp_path / "out.JSON"
    invoke("run", "chain", "-s", "a-fails", "-o", str(js))
    assert [r["payment"] for r in json.loads(js.read_text(encoding="utf-8"))["institutions"]] == [0.0, 6.0, 4.5]
    info = tmp_path / "info.json"
    invoke("info", "chain", "-o", str(info))
    assert json.loads(info.read_text(encoding="utf-8"))["institutions"] == 3
    ranked = tmp_path / "rank.csv"
    invoke("rank", "chain", "--no-progress", "-o", str(ranked))
    assert ranked.read_text(encoding="utf-8").startswith("id,name,rank,type,")
    bad = invoke("run", "chain", "-f", "table", "-o", str(tmp_path / "t.csv"), ok=False)
    assert bad.exit_code == 2 and "names a CSV file but --format is table" in bad.stderr
    assert not (tmp_path / "t.csv").exists()
    txt = tmp_path / "t.txt"                     # any other suffix: the format asked for (default table)
    invoke("run", "chain", "-o", str(txt))
    assert "┃ name" in txt.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.list_commands(None)))
def test_every_help_fits_80_columns(command):
    """Examples and option texts fit an 80-column terminal (long examples are broken with a backslash); click's
    own list of the clearing methods is the one line allowed past it."""
    res = CliRunner().invoke(cli, [command, "--help"], terminal_width=80)
    assert res.exit_code == 0
    long = [line for line in res.output.splitlines() if len(line) > 80 and not line.startswith("  -m, --method [")]
    assert long == []


def test_counts_read_with_thousands_separators_like_the_amounts(tmp_path):
    """info and run print 1,200 institutions and 1,199 obligations as such (they printed 1200 beside 1,234.50)."""
    n = 1200
    nodes = "id,external_assets\n" + "".join(f"n{i},0\n" for i in range(n))
    edges = "debtor,creditor,amount\n" + "".join(f"n{i},n{i + 1},2\n" for i in range(n - 1))
    folder = _write_net(tmp_path / "chain", nodes, edges)
    info_text = invoke("info", str(folder)).stdout
    assert re.search(r"│ institutions\s+│\s+1,200 │", info_text) and re.search(r"│ obligations \(count\)\s+│\s+1,199 │", info_text)
    # nobody has anything and each owes the next 2: everyone pays 0, and all but the last (who owes nothing)
    # default
    run_text = invoke("run", str(folder), "--top", "1").stdout
    assert re.search(r"│ defaults\s+│\s+1,199 │", run_text), run_text


def test_info_shows_sponsor_table(tmp_path):
    folder = _write_net(
        tmp_path / "sp",
        "id,name,type,sponsor,external_assets\nM,Meta,hyperscaler,,10\nH,Hyperion,data_center_spv,Meta,1\n"
        "P,PIMCO,asset_manager,,0\n",
        "debtor,creditor,amount,kind\nH,P,27,bond\nM,H,3,lease\nM,P,2,loan\n")
    data = json.loads(invoke("info", str(folder), "-f", "json").stdout)
    assert data["sponsors"] == [{"sponsor": "Meta", "type": "hyperscaler", "debt": 2.0, "leases": 3.0,
                                 "off_balance_sheet_debt": 27.0, "off_balance_sheet_external": 0.0, "total": 32.0,
                                 "vehicles": 1, "vehicle_names": "Hyperion"}]
    table = invoke("info", str(folder)).stdout
    line = next(ln for ln in table.splitlines() if ln.startswith("│ Meta"))
    assert [c.strip() for c in line.split("│")[1:-1]][:7] == ["Meta", "hyperscaler", "2.00", "3.00", "27.00", "0.00",
                                                              "32.00"]


# ---------------------------------------------------------------------- validate
def test_validate_ok():
    result = invoke("validate", str(contagion.datasets.dataset_path("core-periphery")))
    assert result.stdout.strip() == "OK: 5 institutions, 4 obligations; 1 scenario"
    assert invoke("validate", "chain").stdout.strip() == "OK: 3 institutions, 2 obligations; 1 scenario"
    scen = contagion.datasets.dataset_path("chain") / "scenarios" / "a-fails.toml"
    assert invoke("validate", str(scen)).stdout.strip() == "OK: scenario a-fails, applies to chain"


def test_run_says_why_uniqueness_is_not_determined():
    """The built-in network has seniority and guarantees: the summary said "not determined" without a reason."""
    out = invoke("run", "-f", "json")
    assert json.loads(out.stdout)["summary"]["unique"] is None
    assert "not determined: with seniority, collateral or guarantees only the greatest" in out.stderr
    assert "not determined" not in invoke("run", "chain").stderr


def test_unread_columns_named_like_the_outside_amounts_are_pointed_out(tmp_path):
    """A node table with `assets` and `liabilities` (not the columns contagion reads): validate said OK and run
    showed A in default for want of outside assets it held in an unread column. Both now warn and say how to
    map the column; mapped, the warning is gone and A pays."""
    folder = _write_net(tmp_path / "net", "id,assets,liabilities\nA,10,0\nB,0,5\n", "debtor,creditor,amount\nA,B,10\n")
    out = invoke("validate", str(folder))
    assert "every institution's external_assets is 0, and the node column 'assets' is not read" in out.stderr
    assert "--columns external_liabilities=liabilities" in out.stderr
    mapped = invoke("run", str(folder), "--columns", "external_assets=assets,external_liabilities=liabilities",
                    "-f", "json")
    assert "not read" not in mapped.stderr
    assert [r["defaulted"] for r in json.loads(mapped.stdout)["institutions"]] == [False, False]


def test_validate_reports_a_json_configuration_that_does_not_parse(tmp_path):
    """A JSON sweep configuration with a trailing comma, or a scenario with a key twice: validate took them for
    networks (six unrelated problems, or a usage error with --network) instead of reporting the JSON."""
    trail = tmp_path / "trail.json"
    trail.write_text('{"levels": [0.95], "shocks": [{"target": "A", "distribution": "uniform", "low": 0, "high": 1}],}')
    out = invoke("validate", str(trail), "-n", "chain", ok=False)
    assert out.exit_code == 1 and "invalid JSON: line 1" in out.stdout
    dup = tmp_path / "dup.json"
    dup.write_text('{"name": "x", "description": "d", "shocks": [], "shocks": []}')
    out = invoke("validate", str(dup), ok=False)
    assert out.exit_code == 1 and out.stdout.strip().endswith("shocks: key appears more than once (JSON would keep "
                                                              "the last one)")


def test_validate_says_what_a_scenario_alone_does_not_check(tmp_path):
    """A scenario file away from any network naming an institution that does not exist: without --network only
    its form can be checked, and the OK line said no more than "OK" (run -s then failed on the name)."""
    scen = tmp_path / "typo.toml"
    scen.write_text('name = "typo"\ndescription = "d"\n[[shocks]]\nkind = "external_assets"\ntarget = "Oracel"\n'
                    'relative = 0.5\n')
    assert invoke("validate", str(scen)).stdout.strip() == (
        "OK: scenario typo (its form only: the institutions and edges it names are checked with --network NETWORK)")
    bad = invoke("validate", str(scen), "-n", "ai-infrastructure", ok=False)
    assert bad.exit_code == 1 and "unknown institution 'Oracel' (did you mean 'Oracle'?)" in bad.stdout


def test_validate_lists_every_problem(tmp_path):
    folder = _write_net(tmp_path / "bad",
                        "id,name,external_assets\nA,A,5\nA,B,x\nC,C,-1\n",
                        "debtor,creditor,amount\nA,Z,10\nC,C,5\nA,C,-3\n")
    result = invoke("validate", str(folder), ok=False)
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    nodes, edges = str(folder / "nodes.csv"), str(folder / "edges.csv")
    expected = [
        (nodes, "row 3", "column 'id'", "duplicate id"),
        (nodes, "row 3", "column 'external_assets'", "not a number", "'x'"),
        (nodes, "row 4", "column 'external_assets'", "negative amount"),
        (edges, "row 2", "column 'creditor'", "unknown institution id", "'Z'"),
        (edges, "row 4", "column 'amount'", "negative amount"),
        (edges, "row 3", "self-loop"),
    ]
    for parts in expected:
        assert any(all(p in ln for p in parts) for ln in lines), (parts, lines)
    assert len(lines) >= len(expected)
    assert result.stderr.strip() == f"{len(lines)} problems in {folder}"


def test_validate_scenario_file_problems(tmp_path):
    folder = tmp_path / "cp"
    shutil.copytree(contagion.datasets.dataset_path("core-periphery"), folder)
    bad = folder / "scenarios" / "bad.toml"
    bad.write_text('[[shocks]]\nkind = "external_assets"\ntarget = "C"\nrelative = 2\n\n'
                   '[[shocks]]\nkind = "edges"\nfactor = 0\n', encoding="utf-8")
    result = invoke("validate", str(bad), ok=False)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{bad}: shocks[0].relative: must be <= 1",
        f"{bad}: shocks[1]: give at least one of debtor, creditor, select"]
    # applied to its network (the folder it sits in): an unknown target is found too
    bad.write_text('[[shocks]]\nkind = "default"\ntarget = "Q"\n', encoding="utf-8")
    result = invoke("validate", str(bad), ok=False)
    assert result.stdout.strip() == f"{bad}: scenario 'bad': shocks[0].target: unknown institution 'Q'"
    # a file with schema problems: the targets of the shocks that do read are checked too (every problem at
    # once), in order, each under its index in the file
    bad.write_text('[[shocks]]\nkind = "default"\ntarget = "Q"\n\n[[shocks]]\nkind = "defualt"\ntarget = "C"\n\n'
                   '[[shocks]]\nkind = "external_assets"\ntarget = "Pheriphery 1"\nrelative = 0.5\n', encoding="utf-8")
    result = invoke("validate", str(bad), ok=False)
    assert result.stdout.splitlines()[:3] == [
        f"{bad}: shocks[1].kind: unknown shock kind 'defualt' (did you mean 'default'?); known kinds: external_assets, external_liabilities, "
        f"default, edges, freeze, collateral",
        f"{bad}: scenario 'bad': shocks[0].target: unknown institution 'Q'",
        f"{bad}: scenario 'bad': shocks[2].target: unknown institution 'Pheriphery 1' (did you mean 'Periphery 1'?)"]
    bad.write_text('[[shocks]]\nkind = "default"\ntarget = "Q"\n', encoding="utf-8")
    # and validating the network checks the scenarios that ship with it
    result = invoke("validate", str(folder), ok=False)
    assert result.exit_code == 1 and "unknown institution 'Q'" in result.stdout
    # --network applies a free-standing scenario file to a given network
    free = tmp_path / "free.yaml"
    free.write_text("shocks:\n  - {kind: default, target: A}\n", encoding="utf-8")
    assert invoke("validate", str(free), "--network", "chain").stdout.strip() == \
        "OK: scenario free, applies to chain"
    result = invoke("validate", str(free), "--network", "core-periphery", ok=False)
    assert "unknown institution 'A'" in result.stdout


def test_validate_sweep_configurations(tmp_path):
    """A sweep configuration is checked as one (validate read the shipped sweep as a scenario and reported six
    made-up problems): its schema, and on its network (the folder its sweeps/ sits in, or --network) its
    targets and selectors; a network's shipped sweeps are checked with it."""
    shipped = contagion.datasets.dataset_path("ai-infrastructure") / "sweeps" / "ai-demand-uncertainty.toml"
    assert invoke("validate", str(shipped)).stdout.strip() == \
        "OK: sweep ai-demand-uncertainty, applies to ai-infrastructure"
    assert invoke("validate", "ai-infrastructure").stdout.strip() == \
        "OK: 61 institutions, 111 obligations; 15 scenarios, 1 sweep (ai-demand-uncertainty)"
    mine = tmp_path / "mine.toml"          # anywhere: a sweep by its keys
    mine.write_text('correlation = 1.4\n[[shocks]]\nselect = { type = "ai_labs" }\ndistribution = "beta"\n'
                    'a = 2.0\nb = 5.0\n[[shocks]]\ntarget = "Oracel"\ndistribution = "uniform"\nlow = 0.6\n'
                    'high = 0.5\n[[shocks]]\ntarget = "Oracel"\ndistribution = "fixed"\nvalue = 0.1\n',
                    encoding="utf-8")
    alone = invoke("validate", str(mine), ok=False)
    assert alone.stdout.splitlines() == [
        f"{mine}: correlation: must lie in [0, 1) (got 1.4)",
        f"{mine}: shocks[1].low, high: need 0 <= low <= high <= 1 (a fraction of outside assets lost), got low=0.6, "
        f"high=0.5"]
    on = invoke("validate", str(mine), "-n", "ai-infrastructure", ok=False)
    assert on.stdout.splitlines()[2:] == [
        f"{mine}: sweep 'mine': shocks[0].select: type = 'ai_labs' matches no institution (did you mean 'ai_lab'?) "
        f"(values present: 'ai_lab', 'cloud_provider', 'hyperscaler', 'neocloud', 'chipmaker', 'sovereign/investor', "
        f"'data_center_spv', 'private_credit', 'asset_manager', 'bank', ...)",
        f"{mine}: sweep 'mine': shocks[2].target: unknown institution 'Oracel' (did you mean 'Oracle'?)"]
    assert on.stderr.strip() == f"4 problems in {mine}"
    # a network folder's own sweeps/: checked when the network is, and against it when the file is
    folder = tmp_path / "cp"
    shutil.copytree(contagion.datasets.dataset_path("core-periphery"), folder)
    (folder / "sweeps").mkdir()
    clash = folder / "sweeps" / "clash.toml"
    clash.write_text('[[shocks]]\ntarget = "Core"\ndistribution = "fixed"\nvalue = 0.2\n[[shocks]]\n'
                     'select = { type = "bank" }\ndistribution = "fixed"\nvalue = 0.1\n', encoding="utf-8")
    expected = (f"{clash}: sweep 'clash': shocks[1]: 'Core' is already hit by shocks[0]; each institution may "
                f"follow one distribution")
    assert invoke("validate", str(clash), ok=False).stdout.strip() == expected
    assert invoke("validate", str(folder), ok=False).stdout.strip() == expected
    res = invoke("sweep", str(folder), "-c", str(clash), "-n", "10", ok=False)
    assert res.exit_code == 1 and "is already hit by shocks[0]" in res.stderr


# ---------------------------------------------------------------------- bad input: exit 1, one located line
def _bad_inputs(tmp_path: Path) -> list[tuple[list[str], str]]:
    bad_net = _write_net(tmp_path / "badnet", "id,external_assets\nA,1\nB,oops\n", "debtor,creditor,amount\nA,B,1\n")
    syntax = tmp_path / "syntax.toml"
    syntax.write_text('[[shocks]]\nkind = "default\n', encoding="utf-8")
    schema = tmp_path / "schema.toml"
    schema.write_text('[[shocks]]\nkind = "external_assets"\ntarget = "C"\nrelative = 1.5\nfoo = 1\n',
                      encoding="utf-8")
    too_big = tmp_path / "too-big.toml"
    too_big.write_text('[[shocks]]\nkind = "external_assets"\ntarget = "P1"\nabsolute = 60\n', encoding="utf-8")
    no_match = tmp_path / "no-match.toml"
    no_match.write_text('[[shocks]]\nkind = "external_assets"\nselect = { type = "neocloud" }\nrelative = 0.5\n',
                        encoding="utf-8")
    bad_default = tmp_path / "bad-default"
    shutil.copytree(dataset_path("chain"), bad_default)
    (bad_default / "dataset.toml").write_text('default_scenario = "nope"\n', encoding="utf-8")
    bad_type = tmp_path / "bad-type"
    shutil.copytree(dataset_path("chain"), bad_type)
    (bad_type / "dataset.toml").write_text('default_scenario = 3\n', encoding="utf-8")
    return [
        (["run", "no-such-dataset"], "'no-such-dataset' is neither an existing file or directory nor a built-in"),
        (["run", str(bad_net)], f"{bad_net / 'nodes.csv'}, row 3, column 'external_assets': not a number"),
        (["run", "core-periphery", "-s", "nope"], "unknown scenario 'nope'; available for core-periphery: core-shock"),
        (["run", "core-periphery", "-s", str(tmp_path / "missing.toml")], "missing.toml: no such scenario file"),
        (["run", "core-periphery", "-s", str(syntax)], f"{syntax}: invalid TOML:"),
        (["run", "core-periphery", "-s", str(schema)],
         f"{schema}: shocks[0].relative: must be <= 1 (and 1 more problem)"),
        (["run", "core-periphery", "-s", str(too_big)],
         "scenario 'too-big': shocks[0].absolute: loss 60 is larger than the external assets of Periphery 1 (50)"),
        (["run", "core-periphery", "-s", str(no_match)],
         "scenario 'no-match': shocks[0].select: type = 'neocloud' matches no institution"),
        (["run", str(bad_default)], "dataset.toml: default_scenario: unknown scenario 'nope'"),
        (["run", str(bad_type)], f"{bad_type / 'dataset.toml'}: default_scenario must be str, got 3"),
        (["info", "no-such-dataset"], "is neither an existing file or directory nor a built-in dataset"),
        (["scenarios", "no-such-dataset"], "is neither an existing file or directory nor a built-in dataset"),
        (["info", str(bad_net)], "row 3, column 'external_assets': not a number"),
    ]


def test_bad_input_exits_1_with_one_located_line(tmp_path):
    for args, expected in _bad_inputs(tmp_path):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        assert "Traceback" not in result.output
        err = result.stderr.strip()
        assert "\n" not in err, (args, err)
        assert err.startswith("Error: ") and expected in err, (args, err)
        assert result.stdout == ""


def test_a_file_with_several_problems_points_to_validate(tmp_path):
    """run shows the first problem on its one line, how many more, and the command that lists every one (which
    does), with the same --columns; with a single problem there is no pointer."""
    folder = tmp_path / "my net"
    folder.mkdir()
    (folder / "nodes.csv").write_text("id,external_assets\nA,abc\nB,-5\n", encoding="utf-8")
    (folder / "edges.csv").write_text("debtor,creditor,amount\nA,B,5\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["run", str(folder)])
    assert res.exit_code == 1
    assert res.stderr.strip() == (f"Error: {folder / 'nodes.csv'}, row 2, column 'external_assets': not a number "
                                  f"(value: 'abc') (and 1 more problem); `contagion validate '{folder}'` lists "
                                  f"every one")
    listed = CliRunner().invoke(cli, ["validate", str(folder)])
    assert listed.exit_code == 1 and len(listed.stdout.strip().splitlines()) == 2
    assert "negative amount" in listed.stdout
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    (renamed / "nodes.csv").write_text("id,external_assets\nA,abc\nB,-5\n", encoding="utf-8")
    (renamed / "edges.csv").write_text("source,target,amount\nA,B,5\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["run", str(renamed), "--columns", "debtor=source,creditor=target"])
    assert res.exit_code == 1 and res.stderr.strip().endswith(
        f"(and 1 more problem); `contagion validate {renamed} --columns debtor=source,creditor=target` lists every "
        f"one")
    listed = CliRunner().invoke(cli, ["validate", str(renamed), "--columns", "debtor=source,creditor=target"])
    assert listed.exit_code == 1 and len(listed.stdout.strip().splitlines()) == 2
    (folder / "nodes.csv").write_text("id,external_assets\nA,abc\nB,5\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["run", str(folder)])
    assert res.exit_code == 1 and res.stderr.strip().endswith("(value: 'abc')")


@pytest.mark.parametrize("args, expected", [
    (["run", "core-periphery", "--alpha", "0.5"], "--alpha applies only to --method rogers-veraart"),
    (["run", "core-periphery", "--beta", "0.5", "-m", "eisenberg-noe"], "--beta applies only to --method rogers-veraart"),
    (["run", "core-periphery", "-m", "rogers-veraart", "--alpha", "2"], "2.0 is not in the range 0<=x<=1"),
    (["run", "core-periphery", "--method", "bogus"], "'bogus' is not one of"),
    (["run", "core-periphery", "--format", "xml"], "'xml' is not one of"),
    (["run", "core-periphery", "--baseline", "-s", "core-shock"], "--baseline cannot be combined with --scenario"),
    (["run", "--bogus"], "No such option '--bogus'"),
    (["info", "chain", "-f", "csv"], "'csv' is not one of"),
    (["validate"], "Missing argument 'PATH'"),
    (["validate", "chain", "--network", "ring"], "--network applies only when PATH is a scenario or sweep file"),
    (["no-such-command"], "No such command"),
])
def test_usage_errors_exit_2(args, expected):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (args, result.output)
    assert expected in result.stderr and "Traceback" not in result.output


# ---------------------------------------------------------------------- real processes
def _console_script() -> str:
    found = shutil.which("contagion") or str(Path(sys.executable).parent / "contagion")
    assert Path(found).exists(), "the `contagion` console script is not installed (pip install -e .)"
    return found


def test_python_dash_m_help():
    proc = subprocess.run([sys.executable, "-m", "contagion", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout and "run" in proc.stdout and "validate" in proc.stdout


@pytest.mark.slow
def test_console_script_runs_and_fails_cleanly(tmp_path):
    exe = _console_script()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([exe, "run", "chain", "--baseline", "-f", "json"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    # chain: A pays 5, B pays 11, C pays 47/6 (graphs/chain/README.md)
    assert [r["payment"] for r in json.loads(proc.stdout)["institutions"]] == pytest.approx([5, 11, 47 / 6])
    proc = subprocess.run([exe, "run", "chain", "-s", "nope"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == "Error: unknown scenario 'nope'; available for chain: a-fails"


def test_run_threshold_with_recovery_on_glasserman_young():
    """Threshold cascade (Furfine 2003) on the shocked core-periphery network: the core fails
    (wave 0) and pays recovery x obligations = 0.4 x 140 = 56; each periphery bank then receives
    56 x 10/140 = 4 instead of 10, has 50 + 4 - 55 = -1 < 0 of capital left, fails in wave 1 and
    pays 0.4 x 55 = 22."""
    out = invoke("run", "core-periphery", "-m", "threshold", "--recovery", "0.4", "-f", "json")
    data = json.loads(out.stdout)
    rows = {r["name"]: r for r in data["institutions"]}
    assert rows["Core"]["payment"] == pytest.approx(56.0) and rows["Core"]["default_round"] == 0
    for k in range(1, 5):
        assert rows[f"Periphery {k}"]["payment"] == pytest.approx(22.0)
        assert rows[f"Periphery {k}"]["default_round"] == 1
    assert data["params"] == {"recovery": 0.4}


def test_recovery_is_a_usage_error_without_threshold():
    result = CliRunner().invoke(cli, ["run", "core-periphery", "--recovery", "0.4"])
    assert result.exit_code == 2
    assert "--recovery applies only to --method threshold" in result.output


def test_malloc_settings_follow_the_size_of_the_network_files(tmp_path, monkeypatch):
    """A large network's files switch glibc to its large-network settings (4 MiB mmap threshold); a small one,
    a file network and a built-in dataset keep 128 KiB (see ``contagion.cli.options._tune_malloc``)."""
    from contagion.cli import options

    folder = _write_net(tmp_path / "net", "id,external_assets\nA,1\nB,2\n", "debtor,creditor,amount\nA,B,3\n")
    sizes = (folder / "nodes.csv").stat().st_size + (folder / "edges.csv").stat().st_size
    assert options._input_bytes(folder) == sizes
    assert options._input_bytes(folder / "edges.csv") == (folder / "edges.csv").stat().st_size
    assert options._input_bytes(tmp_path / "missing") == 0

    calls: list[bool] = []
    monkeypatch.setattr(options, "_tune_malloc", calls.append)
    invoke("run", str(folder), "--baseline", "-f", "json")
    monkeypatch.setattr(options, "LARGE_INPUT_BYTES", sizes)
    invoke("run", str(folder), "--baseline", "-f", "json")
    invoke("run", "chain", "--baseline", "-f", "json")
    monkeypatch.setattr(options, "LARGE_INPUT_BYTES", sizes + 1)
    invoke("run", str(folder), "--baseline", "-f", "json")
    assert calls == [False, True, False, False]
    monkeypatch.undo()


_MALLOC_PROBE = """
import os, sys
import numpy as np
from contagion.cli import options
took = options._tune_malloc(sys.argv[1] == "large")
a = np.ones(10 << 20)    # 80 MB, as a vector of 10^7 obligations
heap = [tuple(int(x, 16) for x in line.split()[0].split("-")) for line in open("/proc/self/maps") if "[heap]" in line]
print(took, any(lo <= a.ctypes.data < hi for lo, hi in heap))
"""


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"), reason="glibc only")
@pytest.mark.parametrize("size, env, expected", [
    ("large", {}, "True True"),       # one heap: an 80 MB vector comes from it, not from a mapping of its own
    ("small", {}, "True False"),      # 128 KiB threshold: mapped, given back when freed
    ("large", {"MALLOC_MMAP_THRESHOLD_": str(1 << 20)}, "False False"),  # the user's setting wins
])
def test_malloc_settings_put_a_large_networks_vectors_in_the_heap(size, env, expected):
    """In a fresh process (glibc cannot go back to its own number of arenas): the large-network settings
    take every block from the heap; a small network's map large blocks; the environment wins."""
    # (a process that ran a Dask cluster has MALLOC_TRIM_THRESHOLD_ in its environment: not this test's)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", _MALLOC_PROBE, size], capture_output=True, text=True,
                         env={**clean, **env}, check=True).stdout.split()
    assert " ".join(out) == expected


_ARROW_PROBE = """
import sys
if sys.argv[1].endswith("imported"):
    import pyarrow    # (pandas imports it: the pool is then set on the running pyarrow, not by the environment)
from contagion.cli import options
options._tune_malloc(sys.argv[1].startswith("large"))
import numpy as np, pyarrow as pa, pyarrow.compute as pc
x = pc.add(pa.array(np.arange(10 << 20, dtype=np.float64)), 1.0)    # an 80 MB column made by Arrow
addr = x.buffers()[1].address
heap = [tuple(int(v, 16) for v in line.split()[0].split("-")) for line in open("/proc/self/maps") if "[heap]" in line]
print(pa.default_memory_pool().backend_name == "system", any(lo <= addr < hi for lo, hi in heap))
"""


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"), reason="glibc only")
@pytest.mark.parametrize("size, env, expected", [
    ("large", {}, "True True"),       # Arrow's columns on the tuned heap, where the clearing's arrays reuse them
    ("large, pyarrow imported", {}, "True True"),
    ("small", {}, "False False"),     # Arrow's own allocator
    ("large", {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}, "False False"),   # the user's choice wins
])
def test_a_large_networks_arrow_columns_come_from_the_same_heap(size, env, expected):
    """A 10M-obligation Parquet run faulted ~400,000 pages: Arrow's allocator gave back what a read used and
    numpy faulted fresh pages for the clearing; from the same heap they are reused (~0.5 s of kernel time)."""
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL" and not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", _ARROW_PROBE, size], capture_output=True, text=True,
                         env={**clean, **env}, check=True).stdout.split()
    assert " ".join(out) == expected


def test_the_command_line_collects_garbage_less_often():
    """``contagion.cli.main`` raises the collector's thresholds for its process (a 1M-obligation ``run`` spent
    0.2 s in full collections while its libraries loaded); a run through it still answers."""
    probe = ("import gc, sys\nfrom contagion.cli import main, GC_THRESHOLDS\n"
             "try:\n    main(['run', 'chain', '--baseline', '-f', 'csv'])\nexcept SystemExit as exc:\n"
             "    print('exit', exc.code, gc.get_threshold(), GC_THRESHOLDS, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "exit 0 (10000, 20, 20) (10000, 20, 20)" in done.stderr
    assert done.stdout.splitlines()[0].startswith("id,")


def test_reverse_stress_shows_the_two_sides_of_its_bracket_apart():
    """With --tol 1e-9 the table read 'defaults once the shock reaches s = 0.125 ... survives at s = 0.125'."""
    out = invoke("reverse-stress", "--target", "CoreWeave", "--shock", "external_assets:OpenAI", "--tol", "1e-9")
    found = re.search(r"reaches s = ([0-9.]+) .*survives at s = ([0-9.]+) \(precision 1e-09\)", out.stdout)
    assert found is not None, out.stdout
    upper, lower = map(float, found.groups())
    assert found.group(1) != found.group(2) and 0 < upper - lower <= 1e-9


def test_notes_wrap_at_a_terminals_width_and_stay_one_line_in_a_pipe(monkeypatch, capsys):
    """Notes on stderr ran 100-220 characters past an 80-column terminal's edge, breaking words."""
    import shutil

    import click

    from contagion.cli.text import note

    text = ("applying the default scenario 'openai-revenue-shortfall' of ai-infrastructure (choose another with "
            "--scenario, or none with --baseline)")
    note(text)
    assert capsys.readouterr().err == text + "\n"              # not a terminal: one line, as written

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(click, "get_text_stream", lambda name: Tty())
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: os.terminal_size((80, 24)))
    note(text)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["applying the default scenario 'openai-revenue-shortfall' of ai-infrastructure",
                     "  (choose another with --scenario, or none with --baseline)"]


def test_input_files_are_named_in_their_errors(tmp_path):
    """A sweep configuration's problem names its file (validate did, sweep did not); an empty scenario file is an
    error, not a scenario without shocks; two holdings columns of one asset name the file and the column."""
    net = _write_net(tmp_path / "net", "id,external_assets,asset_units,asset_units_asset\nA,5,1,2\nB,6,0,0\n",
                     "debtor,creditor,amount\nA,B,10\n")
    cfg = tmp_path / "s.toml"
    cfg.write_text('[[shocks]]\ntarget = "Q"\ndistribution = "uniform"\nlow = 0\nhigh = 0.5\n')
    out = invoke("sweep", str(net), "--config", str(cfg), "-n", "10", ok=False)
    assert out.exit_code == 1 and f"{cfg}: sweep 's': shocks[0].target: unknown institution 'Q'" in out.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    out = invoke("run", str(net), "-s", str(empty), ok=False)
    assert out.exit_code == 1 and f"{empty}: the scenario file is empty" in out.stderr
    out = invoke("run", str(net), "-m", "fire-sale", "--impact", "0.1", ok=False)
    assert out.exit_code == 1 and (f"{net / 'nodes.csv'}, column 'asset_units_asset': asset 'asset' has two "
                                   "holdings columns, 'asset_units' and 'asset_units_asset'") in out.stderr


# ---------------------------------------------------------------------- the multi-year data, whatever the command
_DATED_NODES = "id,external_assets\nA,20\nB,0\n"


@pytest.mark.parametrize("edges, tables, where, message", [
    ("debtor,creditor,amount,principal,rate,maturity,amortization\nA,B,5,100,0.05,2028,balloon\n", {},
     "edges.csv, row 2, column 'amortization'", "must be one of bullet, linear, got 'balloon'"),
    ("debtor,creditor,amount,principal,rate,maturity,rollover\nA,B,5,100,0.05,2028,sometimes\n", {},
     "edges.csv, row 2, column 'rollover'", "must be one of none, always, ltv, got 'sometimes'"),
    ("debtor,creditor,amount,start\nA,B,5,soon\n", {}, "edges.csv, row 2, column 'start'",
     "must be a whole year, got 'soon'"),
    ("debtor,creditor,amount,start,end\nA,B,5,2028,2026\n", {}, "edges.csv, row 2, column 'end'",
     "end 2026 is before start 2028"),
    ("debtor,creditor,amount,principal,rate,maturity,rollover,term_years\nA,B,5,100,0.05,2028,always,-2\n", {},
     "edges.csv, row 2, column 'term_years'",
     "must be a whole number of years >= 1 (the term a rolled principal is re-lent for), got -2"),
    ("debtor,creditor,amount,principal,rate,maturity,rollover,max_ltv,collateral\nA,B,5,100,0.05,2028,ltv,0.8,gpu\n",
     {"collateral.csv": "id,value,year,economic_life\ngpu,-200,2026,3\n"}, "collateral.csv, row 2, column 'value'",
     "must be a finite number >= 0, got '-200'"),
])
@pytest.mark.parametrize("command", [["run", "--baseline"], ["run"], ["info"], ["view", "--baseline", "-o", "{tmp}/v.html"],
                                     ["validate"]])
def test_every_command_rejects_bad_multi_year_data(tmp_path, edges, tables, where, message, command):
    """A one-year command (run, view, info without --horizon) reads the same network as validate and a path:
    a value they reject is an error (exit 1, located), not data used silently."""
    folder = _write_net(tmp_path / "net", _DATED_NODES, edges)
    for name, text in tables.items():
        (folder / name).write_text(text, encoding="utf-8")
    args = [a.format(tmp=tmp_path) for a in command[1:]]
    out = CliRunner().invoke(cli, [command[0], str(folder), *args], catch_exceptions=False)
    assert out.exit_code == 1, out.output
    assert f"{folder / where}: {message}" in out.output
    assert not (tmp_path / "v.html").exists()


def test_a_network_without_multi_year_data_reads_no_table_and_checks_no_column(tmp_path, monkeypatch):
    """The check costs nothing on a network without dated columns or tables beside it (no schedule is read)."""
    import contagion.paths.engine as engine

    def fail(net):
        raise AssertionError("schedule_of called on a network without dated columns")

    monkeypatch.setattr(engine, "schedule_of", fail)
    folder = _write_net(tmp_path / "net", "id,external_assets\nA,20\nB,0\n", "debtor,creditor,amount\nA,B,5\n")
    assert invoke("run", str(folder), "--baseline", "-f", "csv").exit_code == 0
