"""The command line reads a large CSV network folder ahead, while the command's modules are imported
(contagion.io.prefetch): the reader takes those tables only when the files are unchanged, and the answer is
the one a plain read gives."""

from __future__ import annotations

import platform
import sys
import threading

import numpy as np
import pytest

import contagion
from contagion import read_network, write_network
from contagion.io import prefetch

pytest.importorskip("pyarrow")


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """A CSV and a Parquet copy of a small network, read ahead whatever their size; a spy on the reads."""
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    net = contagion.load_dataset("core-periphery")
    csv_dir = write_network(net, tmp_path / "net", format="csv")
    pq_dir = write_network(net, tmp_path / "net.parquet", format="parquet")
    reads = []
    real = prefetch.read_csv_table

    def spy(path):
        reads.append((path.name, threading.current_thread().name))
        return real(path)
    monkeypatch.setattr(prefetch, "read_csv_table", spy)
    yield net, csv_dir, pq_dir, reads
    prefetch.drop()


def _same(a, b) -> None:
    assert a.names == b.names
    assert (a.liabilities != b.liabilities).nnz == 0
    np.testing.assert_array_equal(a.external_assets, b.external_assets)


def test_a_network_folder_among_the_arguments_is_found(folders, tmp_path):
    net, csv_dir, pq_dir, _ = folders
    assert prefetch._folder(["run", str(csv_dir), "-f", "csv", "-o", str(tmp_path / "o.csv")]) == csv_dir
    assert prefetch._folder(["rank", "--top", "3", str(csv_dir)]) == csv_dir
    assert prefetch._folder(["run", str(pq_dir)]) is None                   # Parquet: not read ahead
    assert prefetch._folder(["datasets", str(csv_dir)]) is None              # not a network command
    assert prefetch._folder(["run", str(csv_dir), "--columns", "debtor=a"]) is None  # the strict reader's
    assert prefetch._folder(["run", "--columns=debtor=a", str(csv_dir)]) is None
    other = write_network(net, tmp_path / "other", format="csv")
    assert prefetch._folder(["run", str(csv_dir), str(other)]) is None       # two folders: which one?
    assert prefetch._folder(["run", str(tmp_path / "nothing")]) is None
    assert prefetch._folder(["run"]) is None and prefetch._folder([]) is None
    prefetch.MIN_BYTES = 10**12
    assert prefetch._folder(["run", str(csv_dir)]) is None                   # small files: not worth a thread


def test_tables_read_ahead_are_taken_and_give_the_same_network(folders, monkeypatch):
    net, csv_dir, _, reads = folders
    warmed = threading.Event()
    monkeypatch.setattr(prefetch, "_warm_up", warmed.set)        # numba's import starts with the read
    prefetch.start(["run", str(csv_dir)])
    assert warmed.wait(10)
    got = read_network(csv_dir)
    _same(got, net)
    assert reads == [("nodes.csv", "contagion-read-ahead"), ("edges.csv", "contagion-read-ahead")]  # once each
    assert prefetch._jobs == {}


def test_a_file_changed_after_it_was_read_ahead_is_read_again(folders):
    net, csv_dir, _, reads = folders
    prefetch.start(["run", str(csv_dir)])
    for job in list(prefetch._jobs.values()):
        job.done.wait()
    with open(csv_dir / "edges.csv", "a", encoding="utf-8") as fh:       # one more obligation
        fh.write(f"{net.ids[0]},{net.ids[1]},1000,loan\n")
    got = read_network(csv_dir)
    assert got.n_edges == net.n_edges + 1
    assert got.liabilities[0, 1] == net.liabilities[0, 1] + 1000
    assert [r for r in reads if r[0] == "edges.csv"] == [("edges.csv", "contagion-read-ahead"),
                                                         ("edges.csv", threading.main_thread().name)]


def test_tables_nobody_took_are_dropped_and_an_invalid_network_read_ahead_reports_as_before(folders, tmp_path):
    net, csv_dir, pq_dir, reads = folders
    prefetch.start(["run", str(csv_dir)])
    read_network(pq_dir)                                 # another network: the CSV tables are forgotten
    assert prefetch._jobs == {}
    with open(csv_dir / "edges.csv", "a", encoding="utf-8") as fh:
        fh.write(f"{net.ids[0]},{net.ids[1]},-5,loan\n")      # a negative amount: the strict reader says where
    prefetch.start(["run", str(csv_dir)])
    with pytest.raises(contagion.InvalidNetworkError, match=r"edges.csv, row \d+, column 'amount'"):
        read_network(csv_dir)
    assert prefetch._jobs == {}


def test_the_command_line_reads_ahead_and_writes_the_same_table(folders, tmp_path):
    from contagion.cli import main

    net, csv_dir, _, reads = folders
    outs = []
    for k in range(2):
        out = tmp_path / f"o{k}.csv"
        with pytest.raises(SystemExit) as done:
            main(["run", str(csv_dir), "-f", "csv", "-o", str(out)])
        assert done.value.code == 0
        outs.append(out.read_bytes())
        prefetch.MIN_BYTES = 10**12                      # the second time without reading ahead
    assert outs[0] == outs[1] and outs[0].startswith(b"id,name,type,")
    assert reads[:2] == [("nodes.csv", "contagion-read-ahead"), ("edges.csv", "contagion-read-ahead")]
    assert [t for _, t in reads[2:]] == [threading.main_thread().name] * 2


def test_reading_ahead_keeps_the_threads_in_one_malloc_arena(folders, monkeypatch):
    """The read-ahead's tables come from the arena the main thread reuses (``_one_arena``), set before the
    threads start; nothing read ahead, nothing set."""
    net, csv_dir, pq_dir, reads = folders
    calls = []
    monkeypatch.setattr(prefetch, "_one_arena", lambda: calls.append(len(reads)))
    prefetch.start(["run", str(pq_dir)])
    assert calls == []
    prefetch.start(["run", str(csv_dir)])
    assert calls == [0]                                    # before the first read began
    _same(read_network(csv_dir), net)
    monkeypatch.undo()
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert prefetch._one_arena() is glibc                 # glibc takes it (one arena: harmless here)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert prefetch._one_arena() is False                 # the user's setting wins
