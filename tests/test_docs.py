"""The README keeps its promises: the Quickstart is two commands, CI runs the README's test
command verbatim, and every `contagion` command the README shows exists."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from contagion.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.strip().splitlines() if line.strip()]


def test_quickstart_is_two_commands_and_ci_runs_the_test_command():
    commands = _quickstart_commands()
    assert commands == ['python -m pip install . && contagion run',
                        'python -m pip install -e ".[test]" && python -m pytest']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in [line.strip() for line in ci]


def test_every_command_in_the_readme_is_registered():
    shown = set(re.findall(r"^\s*(?:\$ )?contagion ([a-z][a-z-]+)", README, flags=re.M))
    assert {"run", "view", "report", "rank", "reverse-stress", "sweep", "info", "validate"} <= shown
    assert shown <= set(COMMANDS), shown - set(COMMANDS)


def test_every_registered_command_has_help():
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: " in result.output
