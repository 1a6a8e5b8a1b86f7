#!/usr/bin/env python
"""Write ``assumption_effects.csv`` for ``graphs/ai-infrastructure``: how each assumption moves the amounts.

For every assumption of ``assumptions.csv`` the dataset is rebuilt by
``scripts/build_ai_infrastructure.py`` three more ways -- that assumption alone
at the low end of its range, alone at the high end, and at ``central +- h`` (a
central difference, ``h = 1e-4 x`` the range) -- and every node's
``external_assets`` / ``external_liabilities`` and every obligation's
``amount`` (by ``edge_id``) that differs from the central build becomes one
row: ``assumption, kind, target, central, low, high, derivative``. This is the
table :func:`contagion.sensitivity.sensitivity` (``assumption:KEY``) and
:func:`contagion.sensitivity.rank_assumptions` read.

The builder is used as it is: its ``assumption_values`` is replaced, for the
duration of each rebuild, by a function returning the moved values (the
builder reads every assumption through it). A builder that wants to write the
table itself needs only a ``build_network(source, values=...)`` taking the
values directly; then this script's :func:`effects_rows` can be called with it.

Usage::

    python scripts/build_assumption_effects.py --out effects.csv
    contagion sensitivity --wrt assumption:dscr --effects effects.csv

Until the dataset builder writes the table into ``graphs/ai-infrastructure/``
itself (the shipped folder must equal the builder's output), it lives beside,
and ``--effects`` points at it. The library refuses a table whose ``central``
amounts are not the network's (built for another version of the dataset).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import sys
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
BUILDER = REPO / "scripts" / "build_ai_infrastructure.py"
DEFAULT_OUT = Path("assumption_effects.csv")
COLUMNS = ("assumption", "kind", "target", "central", "low", "high", "derivative")
#: Amounts that differ by less than this are the same (the builder is deterministic; this is round-off).
SAME = 1e-9


def load_builder(path: Path = BUILDER):
    spec = importlib.util.spec_from_file_location("build_ai_infrastructure", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def amounts(built) -> dict[tuple[str, str], float]:
    """(kind, target) -> amount of one build: node outside assets/liabilities and obligation amounts."""
    out = {}
    for n in built.nodes:
        out[("external_assets", n["id"])] = float(n["external_assets"])
        out[("external_liabilities", n["id"])] = float(n["external_liabilities"])
    for e in built.edges:
        if e.included:
            out[("edge", e.edge_id)] = float(e.amount)
    return out


def effects_rows(build: Callable[[dict[str, float]], object], central: dict[str, float], low: dict[str, float],
                 high: dict[str, float]) -> list[dict]:
    """The rows of the table, given ``build(values) -> Built`` and the assumption values at each level."""
    base = amounts(build(central))
    rows = []
    for key in central:
        span = abs(high[key] - low[key]) or max(abs(central[key]), 1.0)
        h = 1e-4 * span
        at = {name: amounts(build({**central, key: v})) for name, v in
              (("low", low[key]), ("high", high[key]), ("up", central[key] + h), ("down", central[key] - h))}
        for target, c in base.items():
            values = {name: at[name].get(target, 0.0) for name in at}
            deriv = (values["up"] - values["down"]) / (2 * h)
            if max(abs(values["low"] - c), abs(values["high"] - c), abs(deriv) * span) <= SAME:
                continue
            rows.append({"assumption": key, "kind": target[0], "target": target[1], "central": c,
                         "low": values["low"], "high": values["high"], "derivative": deriv})
    return rows


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{r[k]:.12g}" if isinstance(r[k], float) else r[k]) for k in COLUMNS})
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--builder", type=Path, default=BUILDER, help="the dataset builder to use (default: the "
                   "checkout's; e.g. a committed version from `git show HEAD:scripts/build_ai_infrastructure.py`)")
    p.add_argument("--source", type=Path, default=REPO.parent / "shared" / "data" / "ai-infra",
                   help="the fact sheet (as for build_ai_infrastructure.py)")
    args = p.parse_args(argv)
    b = load_builder(args.builder)
    source = args.source
    original = b.assumption_values
    levels = {lv: original(lv) for lv in ("central", "low", "high")}

    def build(values: dict[str, float]):
        b.assumption_values = lambda level: dict(values)
        try:
            return b.build_network(source, "central")
        finally:
            b.assumption_values = original

    rows = effects_rows(build, levels["central"], levels["low"], levels["high"])
    args.out.write_text(to_csv(rows), encoding="utf-8")
    print(f"wrote {args.out} ({len(rows)} rows, {len({r['assumption'] for r in rows})} assumptions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
