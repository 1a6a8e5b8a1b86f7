"""Marginals and known-edges files, and writing reconstructions as network folders."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import InvalidNetworkError, Problem

from .marginals import ENSEMBLE_BLOCK, Marginals, _Problem, _check_method, _problem_of
from .methods import _check_seed, _draw_block, _reconstruct, _sampler


MARGINAL_COLUMNS = ("id", "interbank_assets", "interbank_liabilities")
KNOWN_COLUMNS = ("debtor", "creditor", "amount")


def read_marginals(path: Any, known: Any = None) -> Marginals:
    """Read a marginals CSV (``id, interbank_assets, interbank_liabilities``; optional ``name``, ``type``,
    ``external_assets``, ``external_liabilities``) and an optional known-edges CSV (``debtor, creditor,
    amount``: a positive amount is kept fixed, an amount of 0 forbids the link).

    Every bad value is reported with file, row (header = row 1), column and
    value (:class:`~contagion.errors.InvalidNetworkError`).
    """
    from pathlib import Path

    from .._columns import _check_unique, _number_column, _text_column

    path = Path(path)
    table, file = _table_with(path, MARGINAL_COLUMNS)
    if not len(table):
        raise InvalidNetworkError([Problem("no institutions: the file has a header and no rows", file=file, row=2)])
    problems: list[Problem] = []
    ids = _text_column(table, "id", file, problems, 2, required=True)
    _check_unique(ids, "id", problems, file, 2)
    nums = {col: _number_column(table, col, file, problems, 2, required=col in MARGINAL_COLUMNS)
            for col in ("interbank_assets", "interbank_liabilities", "external_assets", "external_liabilities")}
    names = _text_column(table, "name", file, problems, 2, False) if "name" in table.columns else ids
    names = pd.Series([nm or i for nm, i in zip(names, ids)])
    types_ = (_text_column(table, "type", file, problems, 2, False) if "type" in table.columns
              else pd.Series([""] * len(ids)))
    if problems:
        raise InvalidNetworkError(problems)
    _check_unique(names, "name", problems, file, 2)
    if problems:
        raise InvalidNetworkError(problems)
    n = len(ids)
    kn = sp.csr_array((n, n))
    fb = sp.csr_array((n, n), dtype=bool)
    if known is not None:
        kn, fb = _read_known(Path(known), {v: k for k, v in enumerate(ids)})
    return Marginals(names=tuple(names), interbank_assets=nums["interbank_assets"],
                     interbank_liabilities=nums["interbank_liabilities"], known=kn, forbidden=fb,
                     external_assets=nums["external_assets"], external_liabilities=nums["external_liabilities"],
                     types=tuple(t or "institution" for t in types_), source=file, ids=tuple(ids))


def _table_with(path: Any, columns: tuple[str, ...]) -> tuple[pd.DataFrame, str]:
    """The CSV table at ``path`` and its file name, checked once for both input files: parsed, with the
    required ``columns`` present and no column named twice; else :class:`~contagion.errors.InvalidNetworkError`
    naming the file (and column)."""
    from .._columns import _check_columns
    from ..io.formats import _read_csv_table

    problems: list[Problem] = []
    table = _read_csv_table(path, problems, set())
    if table is None:
        raise InvalidNetworkError(problems)
    file = str(path)
    _check_columns(table, columns, file, problems)
    if problems:
        raise InvalidNetworkError(problems)
    return table, file


def _read_known(path: Any, index: Mapping[str, int]) -> tuple[sp.csr_array, sp.csr_array]:
    from .._columns import _number_column, _text_column

    table, file = _table_with(path, KNOWN_COLUMNS)
    problems: list[Problem] = []
    deb = _text_column(table, "debtor", file, problems, 2, required=True)
    cred = _text_column(table, "creditor", file, problems, 2, required=True)
    amount = _number_column(table, "amount", file, problems, 2, required=True)
    seen: dict[tuple[int, int], int] = {}
    di, ci = [], []
    for k, (d, c) in enumerate(zip(deb, cred)):
        bad = False
        for col, v in (("debtor", d), ("creditor", c)):
            if v and v not in index:
                problems.append(Problem("unknown id (not in the marginals file)", file=file, row=k + 2,
                                        column=col, value=v))
                bad = True
        if bad or not d or not c:
            di.append(-1), ci.append(-1)
            continue
        if d == c:
            problems.append(Problem("self-loop (an institution cannot owe itself)", file=file, row=k + 2,
                                    column="creditor", value=c))
        pair = (index[d], index[c])
        if pair in seen:
            problems.append(Problem(f"duplicate debtor-creditor pair (first seen at row {seen[pair]})", file=file,
                                    row=k + 2, column="creditor", value=c))
        seen.setdefault(pair, k + 2)
        di.append(pair[0]), ci.append(pair[1])
    if problems:
        raise InvalidNetworkError(problems)
    n = len(index)
    di_a, ci_a = np.asarray(di, dtype=np.int64), np.asarray(ci, dtype=np.int64)
    pos = amount > 0
    kn = sp.csr_array((amount[pos], (di_a[pos], ci_a[pos])), shape=(n, n))
    fb = sp.csr_array((np.ones(int((~pos).sum()), dtype=bool), (di_a[~pos], ci_a[~pos])), shape=(n, n))
    return kn, fb


def write_reconstruction(marginals: Marginals, out: Any, method: str = "max-entropy", n: int = 1,
                         seed: int = 0, **kw: Any) -> tuple[Any, ...]:
    """Write reconstructed networks as network folders (``nodes.csv`` + ``edges.csv``); returns their paths.

    ``"max-entropy"`` and ``"min-density"``: one folder ``out``. ``"ensemble"``:
    ``out`` holds ``draw-0001`` .. ``draw-N`` (zero-padded to the width of
    ``n``), draw ``k`` being the ``k``-th of :func:`sample_ensemble` with
    ``seed``. Edges carry ``kind = "reconstructed"`` (``"known"`` for a known
    amount) and the node table the totals used. An unknown ``method`` raises
    :class:`~contagion.errors.ContagionError` (nothing is written).
    """
    from pathlib import Path

    from ..io import write_network

    _check_method(method)
    prob = _problem_of(marginals)
    if method == "ensemble":
        seed = _check_seed(seed)
        sm = _sampler(prob, kw.get("p", 0.5), kw.get("lam"), kw.get("burn_in"), kw.get("thin"))
        mats: list[sp.csr_array] = []
        for b in range(-(-_check_seed(n, "n") // ENSEMBLE_BLOCK)):
            mats += _draw_block(sm, seed, b, min(ENSEMBLE_BLOCK, n - b * ENSEMBLE_BLOCK))
        width = max(4, len(str(n)))
        targets = [Path(out) / f"draw-{k + 1:0{width}d}" for k in range(n)]
    else:
        mats, targets = [_reconstruct(prob, method, None)], [Path(out)]
    if method == "ensemble":
        Path(out).mkdir(parents=True, exist_ok=True)
    return tuple(write_network(_labelled(marginals, prob, L, method), t, format="csv")
                 for L, t in zip(mats, targets))


def _labelled(m: Marginals, prob: _Problem, L: sp.csr_array, method: str) -> Any:
    from ..network import FinancialNetwork

    coo = sp.coo_array(L)
    known = np.asarray(prob.known[coo.row, coo.col]).ravel() > 0 if prob.known.nnz else np.zeros(coo.nnz, bool)
    keys = m.keys
    edges = pd.DataFrame({"debtor": [keys[i] for i in coo.row], "creditor": [keys[j] for j in coo.col],
                          "amount": coo.data, "kind": np.where(known, "known", "reconstructed"),
                          "source": np.where(known, "known", f"reconstruct {method}")})
    nodes = pd.DataFrame({"id": keys, "name": m.names, "type": m.types or ["institution"] * m.n,
                          "external_assets": m.external_assets, "external_liabilities": m.external_liabilities,
                          "interbank_assets_given": m.interbank_assets,
                          "interbank_liabilities_given": m.interbank_liabilities})
    return FinancialNetwork.from_edges(edges, nodes, metadata={"source": m.source, "reconstructed": method})
