"""Sweep configurations by name: ``load_sweep_config`` and ``contagion sweep --config`` resolve a name through one
resolver (``contagion.sweep.config.resolve_sweep_config``), and an unknown name says what is shipped.

The shipped sweep is ``graphs/ai-infrastructure/sweeps/ai-demand-uncertainty.toml`` (the only one today); the
numbers compared below are the same sweep run from its file and by its name, in Python and on the command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import contagion
from contagion.cli import cli
from contagion.errors import ScenarioError
from contagion.sweep import find_sweep_config, load_sweep_config, run_sweep
from contagion.sweep.config import resolve_sweep_config, shipped_sweep_configs

SHIPPED = Path(__file__).resolve().parents[1] / "graphs" / "ai-infrastructure" / "sweeps" / "ai-demand-uncertainty.toml"


def test_the_shipped_sweeps_are_listed_with_their_dataset():
    found = shipped_sweep_configs()
    assert list(found) == ["ai-demand-uncertainty"]
    assert [(p.resolve(), where) for p, where in found["ai-demand-uncertainty"]] == [(SHIPPED, "ai-infrastructure")]
    assert list(shipped_sweep_configs("ai-infrastructure")) == ["ai-demand-uncertainty"]
    assert shipped_sweep_configs("core-periphery") == {}


def test_a_name_loads_the_same_config_as_its_file_and_as_the_cli_resolves_it():
    by_file = load_sweep_config(SHIPPED)
    by_name = load_sweep_config("ai-demand-uncertainty")
    net = contagion.load_dataset("ai-infrastructure")
    assert by_name == by_file == find_sweep_config("ai-demand-uncertainty", net)
    assert load_sweep_config("ai-demand-uncertainty.toml") == by_file                  # the file name as a name
    assert by_name.name == "ai-demand-uncertainty" and by_name.correlation == 0.4 and by_name.levels == (0.95, 0.99)
    assert resolve_sweep_config("ai-demand-uncertainty").resolve() == SHIPPED
    assert resolve_sweep_config("ai-demand-uncertainty", net).resolve() == SHIPPED


def test_the_cli_and_the_library_give_the_same_numbers_for_a_name():
    net = contagion.load_dataset("ai-infrastructure")
    lib = run_sweep(net, load_sweep_config("ai-demand-uncertainty"), n=512, seed=7)
    out = CliRunner().invoke(cli, ["sweep", "-c", "ai-demand-uncertainty", "-n", "512", "--seed", "7", "-f", "json",
                                   "--no-progress"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    got = json.loads(out.stdout)
    assert got["system_loss"]["mean"] == pytest.approx(lib.summary()["system_loss"]["mean"], rel=1e-12)
    assert got["system_loss"]["mean"] > 0
    probs = {r["name"]: r["default_probability"] for r in got["institutions"]}
    assert probs["OpenAI"] == pytest.approx(float(lib.default_probability[net.names.index("OpenAI")]), abs=0)


@pytest.mark.parametrize("spec, network, message", [
    ("ai-demand", None, "unknown sweep configuration 'ai-demand' (did you mean 'ai-demand-uncertainty'?): not a "
                        "file, nor a sweep shipped with a built-in dataset; shipped: ai-demand-uncertainty "
                        "(ai-infrastructure)"),
    ("ai-demand", "core-periphery", "unknown sweep configuration 'ai-demand' (did you mean 'ai-demand-uncertainty'?):"
                                    " not a file, nor a sweep shipped with core-periphery; shipped: "
                                    "ai-demand-uncertainty (ai-infrastructure)"),
    ("ai-demand-uncertainty", "core-periphery", "sweep configuration 'ai-demand-uncertainty' ships with "
                                                "ai-infrastructure, not with core-periphery"),
    ("nothing-like-it", None, "unknown sweep configuration 'nothing-like-it': not a file, nor a sweep shipped with "
                              "a built-in dataset; shipped: ai-demand-uncertainty (ai-infrastructure)"),
    ("missing.toml", None, "missing.toml: no such sweep configuration file; shipped: ai-demand-uncertainty"),
    ("no/such/sweep", None, "no/such/sweep: no such sweep configuration file"),
])
def test_unknown_names_say_what_is_shipped(spec, network, message):
    with pytest.raises(ScenarioError) as err:
        load_sweep_config(spec, network)
    assert str(err.value).startswith(message)


def test_a_folder_is_not_a_config(tmp_path):
    with pytest.raises(ScenarioError, match="is a directory, not a sweep configuration file"):
        load_sweep_config(tmp_path)


def test_the_cli_reports_an_unknown_name_in_one_line():
    out = CliRunner().invoke(cli, ["sweep", "-c", "ai-demand-uncertainy", "-n", "10", "--no-progress"])
    assert out.exit_code == 1
    assert out.stderr.strip().splitlines() == [
        "Error: unknown sweep configuration 'ai-demand-uncertainy' (did you mean 'ai-demand-uncertainty'?): not a "
        "file, nor a sweep shipped with ai-infrastructure; shipped: ai-demand-uncertainty (ai-infrastructure)"]
    assert "Traceback" not in out.output


def test_a_network_folder_ships_its_own_sweeps(tmp_path):
    net = contagion.load_dataset("core-periphery")
    folder = tmp_path / "net"
    contagion.write_network(net, folder)
    (folder / "sweeps").mkdir()
    (folder / "sweeps" / "core.yaml").write_text(
        "shocks:\n  - target: Core\n    distribution: fixed\n    value: 0.5\n", encoding="utf-8")
    mine = contagion.read_network(folder)
    assert load_sweep_config("core", mine).shocks[0].target == "Core"
    assert list(shipped_sweep_configs(mine)) == ["core"]
    with pytest.raises(ScenarioError) as err:
        load_sweep_config("cor", mine)
    assert str(err.value) == ("unknown sweep configuration 'cor' (did you mean 'core'?): not a file, nor a sweep "
                              "shipped with net; shipped: ai-demand-uncertainty (ai-infrastructure), core (net)")


def test_a_name_shipped_by_two_datasets_needs_the_network(tmp_path, monkeypatch):
    import contagion.sweep.config as config

    text = '[[shocks]]\ntarget = "Core"\ndistribution = "fixed"\nvalue = 0.5\n'
    for name in ("one", "two"):
        (tmp_path / name / "sweeps").mkdir(parents=True)
        (tmp_path / name / "sweeps" / "same.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(config, "_sweep_dirs", lambda network=None: [(tmp_path / n / "sweeps", n)
                                                                      for n in ("one", "two")])
    with pytest.raises(ScenarioError, match=r"'same' is shipped with several datasets \(one, two\)"):
        load_sweep_config("same")
