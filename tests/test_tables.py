"""Terminal tables never hide a number: run, rank, sweep and run --horizon in a real pty at 80-200 columns.

Each command runs in a pseudo-terminal of the given width (so it draws for a terminal, colours included); the
test strips the escape codes and checks every cell of every table row: only a name or a type may carry an
ellipsis, every other cell is a whole number as the CSV output would give it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import sys
import termios

import pytest

from contagion.cli.tables import Col, fit, middle_ellipsis

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
NUMBER = re.compile(r"^(-?[\d,]+(\.\d+)?(e[-+]\d+)?%?|n/a|-|yes|)$")


def _pty(cols: int, *args: str) -> str:
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.environ.update(COLUMNS=str(cols), LINES="60")
        os.execvp(sys.executable, [sys.executable, "-m", "contagion", *args])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 60, cols, 0, 0))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return ANSI.sub("", out.decode("utf-8", errors="replace"))


def _rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("│").split("│")] for line in text.splitlines()
            if line.strip().startswith("│") and line.strip().endswith("│")]


@pytest.mark.slow
@pytest.mark.parametrize("cols", [80, 100, 120, 200])
@pytest.mark.parametrize("args, text_cells", [
    (("run",), 2),
    (("run", "--horizon", "2026:2030"), 2),
    (("rank", "--top", "10", "--no-progress"), 3),
    (("sweep", "-c", "ai-demand-uncertainty", "-n", "256", "--no-progress"), 2),
    (("info",), 1),
    (("reverse-stress", "-t", "Oracle", "--shock", "external_assets:type=ai_lab"), 3),
])
def test_numbers_are_never_cut(cols, args, text_cells):
    out = _pty(cols, *args)
    rows = _rows(out)
    assert rows, out
    for row in rows:
        # names and types come first (rank: the rank number, then name and type); every other cell is whole
        for cell in row:
            if "…" in cell:
                assert not NUMBER.match(cell.replace("…", "")) or not any(ch.isdigit() for ch in cell) \
                    or row.index(cell) < text_cells, (cols, args, row)
        numbers = [c for c in row[text_cells:] if any(ch.isdigit() for ch in c)]
        assert all(NUMBER.match(c) for c in numbers), (cols, args, row)
    drawn = [line for line in out.splitlines() if line[:1] in "┏┃┡│└┌├"]
    assert max(len(line.rstrip()) for line in drawn) <= cols, (cols, args)


def test_reconstruct_clear_table_fits_without_cutting_a_number(tmp_path):
    """The ensemble table drew its columns whole or cut (`loss p5-p…`, `1.40 - 1.…` at 80 columns); it is fitted
    like the others: at 60 columns the type column goes (and the note says so), every number stays whole."""
    marg = tmp_path / "m.csv"
    marg.write_text("id,interbank_assets,interbank_liabilities,external_assets\nA,10,5,20\nB,5,10,3\nC,7,7,1\n",
                    encoding="utf-8")
    for cols, hidden in ((60, True), (80, False)):
        out = _pty(cols, "reconstruct", str(marg), "-m", "ensemble", "-n", "50", "--clear")
        rows = _rows(out)
        assert [r[0] for r in rows] == ["C", "B", "A"], out
        assert "…" not in out and rows[0][-1] == "1.40 - 1.40" and rows[0][2 - hidden] == "100.0%", out
        drawn = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
        assert max(len(line.rstrip()) for line in drawn) <= cols
        assert ("1 column hidden to fit 60 columns: type" in " ".join(out.split())) == hidden


def test_reverse_stress_cascade_keeps_its_numbers_at_80_columns():
    """The cascade table drew every number column at width 0 at 80 columns (the long vehicle name took it all)."""
    rows = _rows(_pty(80, "reverse-stress", "-t", "Oracle", "--shock", "external_assets:type=ai_lab"))
    assert [r[0] for r in rows] == ["0", "0", "1", "1"]
    assert rows[0][1:] == ["OpenAI", "125.91", "17.07", "108.84", "-108.84"]


def test_sweep_histogram_bars_give_way_to_the_numbers_in_a_narrow_terminal():
    """At 60 columns the 40-character bars cut the loss bounds ("3…", "14…"); the bars now take what the numbers
    leave, and the header goes on two lines; at 80 the bars are 40 wide again."""
    for cols, bar in ((60, 30), (80, 40)):
        out = _pty(cols, "sweep", "-c", "ai-demand-uncertainty", "-n", "500", "--no-progress")
        hist = out[out.index("system-loss histogram"):].split("└")[0]
        rows = _rows(hist)
        assert rows[0][:3] == ["3.52", "14.65", "24"], hist
        assert max(len(r[3]) for r in rows) == bar
        assert all(NUMBER.match(c) for r in rows for c in r[:3])


def test_run_at_80_columns_keeps_the_numbers_and_says_what_it_hid():
    out = _pty(80, "run")
    assert "OpenAI" in out and "9.84" in out and "121.91" in out
    assert "hidden to fit 80 columns" in out and "-f csv" in out


def test_info_sponsor_table_fits_80_columns():
    """The debt behind each sponsor was ten columns squeezed into 80 (headers cut mid-word, the vehicles' names a
    few letters a line): it is fitted like the other tables, and the vehicles are listed in a table of their own."""
    out = _pty(80, "info")
    drawn = [line for line in out.splitlines() if line[:1] in "┏┃┡│└┌├"]
    assert max(len(line.rstrip()) for line in drawn) <= 80
    meta = next(r for r in _rows(out) if r[0] == "Meta" and len(r) > 2)
    assert meta[:2] == ["Meta", "1.50"] and "27.30" in meta and "5.63" in meta
    assert "hidden to fit 80 columns: type" in out and "-f json" in out and "-f csv" not in out
    oracle = out[out.index("their vehicles"):]
    assert "Stargate LLC; Abilene JV (Stargate I);" in oracle and "Oracle's other data-centre lessors" in oracle
    assert "hidden" not in _pty(200, "info")


def test_scenarios_and_datasets_list_records_when_a_table_would_squeeze_the_descriptions():
    """At 80 columns a description column had ~30 characters (the longest scenario name takes 33): the records are
    listed one below the other there, each description across the terminal; wide terminals keep the table."""
    out = _pty(80, "scenarios")
    assert "┃ description" not in out and max(len(line.rstrip()) for line in out.splitlines()) <= 80
    lines = [line.rstrip() for line in out.splitlines()]
    at = lines.index("openai-revenue-shortfall (default)")
    assert lines[at + 1].startswith("  OpenAI's 2027 revenue is half of plan: the plan path from the $13bn")
    assert len(lines[at + 1]) > 70                          # the description uses the width
    datasets = [line.rstrip() for line in _pty(80, "datasets").splitlines()]
    assert "ai-infrastructure (default)  default scenario: openai-revenue-shortfall" in datasets
    assert "┃ description" in _pty(200, "scenarios")


def test_fit_shortens_text_before_dropping_and_never_a_number():
    cols = [Col("name", "left", 0, shrink=True, floor=8), Col("amount", "right", 0), Col("type", "left", 3, True)]
    rows = [["A very long institution name", "123,456,789.00", "hyperscaler"]]
    kept, widths, hidden = fit(cols, rows, 40)
    assert widths[kept.index(1)] == len("123,456,789.00")
    assert hidden == ["type"] or widths[kept.index(0)] < len(rows[0][0])
    assert middle_ellipsis(rows[0][0], 12) == "A very…name"[:6] + "…" + " name"[-5:]


def test_fit_wraps_every_header_to_the_fewest_lines_that_fit():
    """The --rank-assumptions table at 80 columns: natural widths 25 + 17 + 18 + 19 + 11 + frame 16 = 106. Two-line
    headers fit (25 + 9 + 9 + 10 + 11 + 16 = 80); the old widest-first wrapping cut three headers to one word a
    line (four lines) and left eight columns unused."""
    cols = [Col("assumption", "left", 0, shrink=True), Col("change at low end"), Col("change at high end"),
            Col("per unit at central", priority=1), Col("defaults at", "left", 2)]
    rows = [["coreweave_cash_cost_ratio", "0.53", "-1.06", "-10.5679", "-"]]
    kept, widths, hidden = fit(cols, rows, 80)
    assert (kept, widths, hidden) == ([0, 1, 2, 3, 4], [25, 9, 9, 10, 11], [])
    assert fit(cols, rows, 200)[1] == [25, 17, 18, 19, 11]                  # room: no header wraps
    # one-line headers come back where the width allows, cheapest first: at 83, "defaults at" stays whole and
    # "change at low end" (8 more) would not fit
    assert fit(cols, rows, 83)[1] == [25, 9, 9, 10, 11]
    assert fit(cols, rows, 88)[1] == [25, 17, 9, 10, 11]
    # a text column is counted at its floor: two-line headers with the name shortened (35 -> 28), not four-line
    # ones with the name whole
    long = [["a much longer name of an assumption", "0.53", "-1.06", "-10.5679", "-"]]
    kept, widths, hidden = fit(cols, long, 80)
    assert widths == [28, 9, 9, 10, 8] and hidden == []


def test_scenario_description_is_printed_once_and_shortened():
    """17.6: the scenario's description on stderr is its first sentence, at most 160 characters, cut at a word,
    with a pointer to the full text; short descriptions are printed whole."""
    from click.testing import CliRunner

    from contagion.cli import cli
    from contagion.cli.text import scenario_line

    assert scenario_line("scenario", "a", "Short one.") == "scenario 'a': Short one."
    assert scenario_line("scenario", "a", None) == "scenario 'a'"
    long = "First part here. " + "word " * 60
    assert scenario_line("scenario", "a", long) == "scenario 'a': First part here. (full text: contagion scenarios)"
    line = scenario_line("scenario", "b", "x" * 5 + " " + "word " * 80)
    body = line.split(": ", 1)[1].removesuffix(" (full text: contagion scenarios)")
    assert body.endswith("…") and len(body) <= 160 and not body[:-1].endswith(" ")
    out = CliRunner().invoke(cli, ["run", "-s", "severe-combined", "-f", "csv"])
    assert out.exit_code == 0
    lines = [s for s in out.stderr.splitlines() if s.startswith("scenario 'severe-combined'")]
    assert len(lines) == 1 and len(lines[0]) < 260 and lines[0].endswith("(full text: contagion scenarios)")


def test_run_top_and_defaulted_only_select_rows_and_say_so():
    """``--top N`` keeps the first N rows of the table's order (defaulted first by wave, larger shortfall first),
    ``--defaulted-only`` the defaulted ones, with the same numbers as the full run; the table says how many of
    how many it shows, and the summary still covers everyone."""
    import io

    import pandas as pd
    from click.testing import CliRunner

    from contagion.cli import cli

    def run(*extra):
        out = CliRunner().invoke(cli, ["run", "-s", "severe-combined", *extra])
        assert out.exit_code == 0, out.output
        return out

    full = pd.read_csv(io.StringIO(run("-f", "csv").stdout))
    defaulted = pd.read_csv(io.StringIO(run("-f", "csv", "--defaulted-only").stdout))
    assert sorted(defaulted["id"]) == sorted(full.loc[full["defaulted"], "id"]) and len(defaulted) == 6
    top = pd.read_csv(io.StringIO(run("-f", "csv", "--top", "2").stdout))
    assert set(top["name"]) == {"OpenAI", "Abilene JV (Stargate I)"}     # wave 0, the two largest shortfalls
    merged = top.merge(full, on="id", suffixes=("", "_full"))
    assert (merged["payment"] == merged["payment_full"]).all() and len(merged) == 2
    table = run("--top", "2")
    assert "note: 2 of 61 institutions shown (--top 2); the summary covers all of them" in table.stderr
    assert "OpenAI" in table.stdout and "NVIDIA" not in table.stdout
