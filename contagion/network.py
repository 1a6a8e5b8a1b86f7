"""The :class:`FinancialNetwork` value: who owes whom, and what each holds outside.

Direction convention (used everywhere in :mod:`contagion`): ``L[i, j]`` is the
nominal amount that institution ``i`` **owes** institution ``j``. Rows are
debtors, columns creditors. Edge tables use the columns ``debtor, creditor,
amount`` (never ``source, target``).

Derived quantities:

- ``pbar = L.sum(axis=1) + external_liabilities`` -- total obligations;
- ``Pi[i, j] = L[i, j] / pbar[i]`` (0 where ``pbar[i] == 0``) -- relative liabilities;
- ``interbank_assets = L.sum(axis=0)`` -- nominal claims on other institutions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._columns import (_all_distinct, _bool_column, _check_columns, _check_unique, _empty_text, _id_text, _IdLookup,
                       _long, _number_column, _plain, _raw_value, _text_compact, blank_cells, located_numbers)
from ._matrix import csr_from_edges
from .errors import InvalidNetworkError, Problem

__all__ = ["FinancialNetwork", "NODE_COLUMNS", "EDGE_COLUMNS", "DEFAULT_EDGE_KIND", "InterestAmountWarning"]

#: Columns of the node table that have a meaning; others are kept as attributes.
NODE_COLUMNS = ("id", "name", "type", "external_assets", "external_liabilities")
#: Columns of the edge table that have a meaning; others are kept as attributes.
EDGE_COLUMNS = ("debtor", "creditor", "amount", "kind")
#: Node-table columns held as arrays rather than attributes (``forced_*`` are written by
#: :attr:`FinancialNetwork.nodes` for a shocked network and read back by :meth:`~FinancialNetwork.from_edges`).
_NODE_STATE_COLUMNS = ("external_assets", "external_liabilities", "forced_default", "forced_recovery")
#: pandas >= 3 always copies on write: a shallow copy of a table is then as safe as a deep one.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3
#: Kind given to edges that come without one (e.g. from a bare matrix).
DEFAULT_EDGE_KIND = "obligation"
#: Type given to nodes that come without one.
DEFAULT_NODE_TYPE = "institution"


def _to_csr(matrix: Any) -> sp.csr_array:
    if sp.issparse(matrix):
        m = sp.csr_array(matrix, dtype=np.float64)
    else:
        arr = np.asarray(matrix)
        if arr.dtype == object:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidNetworkError(f"liabilities matrix: non-numeric entry ({exc})") from None
        if arr.ndim != 2:
            raise InvalidNetworkError(f"liabilities matrix must be 2-dimensional, got shape {arr.shape}")
        m = sp.csr_array(arr.astype(np.float64, copy=False))
    return m


def _as_vector(values: Any, n: int, what: str) -> np.ndarray:
    if values is None:
        return np.zeros(n)
    if np.isscalar(values):
        return np.full(n, float(values))
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidNetworkError(Problem(f"{what} must be numbers", column=what)) from None
    if arr.shape != (n,):
        raise InvalidNetworkError(
            Problem(f"{what} has shape {arr.shape}, expected ({n},) to match the {n}x{n} liabilities matrix", column=what)
        )
    return arr.copy()


#: File labels starting with this are placeholders of a reader (:func:`contagion.io._tables.build_network`), which
#: re-locates ``from_edges``' problems and gives its warnings itself, naming the real file.
PLACEHOLDER = "\x00"
#: ``net.metadata`` key: how many debt rows were read without an ``amount`` (see :func:`_debt_amounts`).
AMOUNTS_FROM_INTEREST = "amounts_from_interest"


class InterestAmountWarning(UserWarning):
    """Debt rows without an ``amount`` were read: their one-year amount is a year's interest on the principal."""


def warn_interest_amounts(file: str, rows: int, stacklevel: int = 2) -> None:
    """Say that ``rows`` debt rows of ``file`` had no amount (:class:`InterestAmountWarning`)."""
    import warnings

    warnings.warn(f"{file}: {rows} debt row{'s' if rows > 1 else ''} without an amount: one-year results count a "
                  f"year's interest on {'their' if rows > 1 else 'its'} principal (principal x rate); a multi-year "
                  f"path (--horizon) clears interest and principal year by year", InterestAmountWarning,
                  stacklevel=stacklevel + 1)


def _debt_amounts(edges_df: pd.DataFrame, file: str, problems: list[Problem], row_offset: int
                  ) -> tuple[pd.DataFrame, int]:
    """DESIGN.md §7: a debt row (one with a ``principal``) may leave ``amount`` blank, or the table may have no
    ``amount`` column when it has a ``principal`` one. On a multi-year path such a row owes what its schedule
    says (:mod:`contagion.paths.schedule`); its one-year amount (a plain clearing, the views, the rankings) is a
    year's interest on its principal, ``principal * rate`` (blank rate: 0) -- what a bullet loan owes in any
    year before its maturity. Returns the table with those amounts filled in and how many rows were filled;
    a bad principal or rate of such a row is reported with file, row, column and value."""
    if "principal" not in edges_df.columns:
        return edges_df, 0
    n = len(edges_df)
    amount = edges_df["amount"] if "amount" in edges_df.columns else pd.Series(np.full(n, np.nan))
    rows = np.flatnonzero(blank_cells(amount) & ~blank_cells(edges_df["principal"]))
    if rows.size == 0:
        return edges_df, 0     # blank amounts without a principal are reported as missing
    found: list[Problem] = []
    principal = located_numbers(edges_df["principal"], "principal", file, row_offset, found, low=0.0)
    rate = (located_numbers(edges_df["rate"], "rate", file, row_offset, found, low=0.0)
            if "rate" in edges_df.columns else np.zeros(n))
    mine = set((rows + row_offset).tolist())      # the other rows' columns are checked on a path
    problems.extend(p for p in found if p.row in mine)
    interest = principal[rows] * np.where(np.isnan(rate[rows]), 0.0, rate[rows])
    filled = amount.to_numpy(dtype=object if amount.dtype.kind not in "fiu" else np.float64, copy=True)
    filled[rows] = np.where(np.isnan(interest), 0.0, interest)     # a bad principal is reported above
    return edges_df.assign(amount=filled), int(rows.size)


#: Edge tables at least this long look up debtors and creditors side by side when two cores are free.
PARALLEL_LOOKUP_MIN = 1_000_000


class _Beside:
    """``fn(*args)`` in a second thread while the ``with`` block runs, when ``wanted`` and two cores are free
    (it is used for compiled kernels that release the GIL); ``started`` says whether it ran there, and
    :meth:`result` gives its value after the block (computed here, then, when it did not start)."""

    def __init__(self, wanted: bool, fn: Any, *args: Any):
        self.fn, self.args = fn, args
        self._pool = self._future = None
        if wanted:
            from ._matrix import available_cores

            self.started = available_cores(2) >= 2
        else:
            self.started = False

    def __enter__(self) -> "_Beside":
        if self.started:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1)
            self._future = self._pool.submit(self.fn, *self.args)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def result(self) -> Any:
        return self._future.result() if self._future is not None else self.fn(*self.args)


def _edge_positions(debtors: pd.Series, creditors: pd.Series, lookup: _IdLookup) -> tuple[np.ndarray, np.ndarray]:
    """Positions among the ids of ``lookup`` of the debtors and the creditors (see
    :class:`~contagion._columns._IdLookup`: compiled and partitioned for long tables, ~0.1 us a value at
    10^6 ids against Arrow's ~0.25), the two lookups in two threads for a long table when two cores are free
    (both release the GIL)."""
    with _Beside(len(debtors) >= PARALLEL_LOOKUP_MIN, lookup.positions, creditors) as later:
        di = lookup.positions(debtors)
    return di, later.result()


def _check_amounts(values: np.ndarray, what: str, problems: list[Problem], rows: np.ndarray | None = None,
                   file: str | None = None, row_offset: int = 0) -> None:
    bad_nf = ~np.isfinite(values)
    bad_neg = np.isfinite(values) & (values < 0)
    for mask, msg in ((bad_nf, "is not a finite number"), (bad_neg, "is negative")):
        for k in np.flatnonzero(mask):
            row = int(rows[k]) if rows is not None else int(k)
            problems.append(Problem(f"{what} {msg}", file=file, row=row + row_offset, column=what, value=_plain(values[k])))


@dataclass(frozen=True, eq=False)
class FinancialNetwork:
    """A directed network of obligations between institutions (an immutable value).

    Build one with :meth:`from_matrix`, :meth:`from_edges`, :func:`contagion.read_network`
    or :func:`contagion.load_dataset`; do not call the constructor directly.
    Inputs are validated once, at construction; algorithms trust the result.

    Attributes
    ----------
    liabilities : scipy.sparse.csr_array
        ``L[i, j]`` = nominal amount that ``i`` owes ``j`` (float64, CSR, no
        explicit zeros, no self-loops).
    external_assets : numpy.ndarray
        Assets held outside the network (cash, revenue from outside), ``e``.
    external_liabilities : numpy.ndarray
        Obligations to creditors outside the network.
    forced_default : numpy.ndarray of bool
        Institutions made to default by a shock (see :mod:`contagion.shocks`);
        they pay at most ``forced_recovery * pbar``.
    forced_recovery : numpy.ndarray
        Fraction of its obligations a forced-default institution pays at most.

    Examples
    --------
    >>> import contagion
    >>> net = contagion.FinancialNetwork.from_matrix(
    ...     [[0, 20, 10], [5, 0, 24], [10, 0, 0]], external_assets=[10, 10, 10],
    ...     names=["A", "B", "C"])
    >>> net.n, net.names
    (3, ('A', 'B', 'C'))
    >>> net.total_obligations.tolist()
    [30.0, 29.0, 10.0]
    """

    liabilities: sp.csr_array
    external_assets: np.ndarray
    external_liabilities: np.ndarray
    forced_default: np.ndarray
    forced_recovery: np.ndarray
    _node_table: pd.DataFrame | None = field(default=None, repr=False)
    _edge_table: pd.DataFrame | None = field(default=None, repr=False)
    _names: tuple | None = field(default=None, repr=False)
    metadata: Mapping[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_matrix(
        cls,
        L: Any,
        external_assets: Any = None,
        external_liabilities: Any = None,
        names: Sequence[str] | None = None,
        *,
        types: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
    ) -> "FinancialNetwork":
        """Build a network from a liabilities matrix.

        Parameters
        ----------
        L : array_like or scipy sparse matrix/array, shape (n, n)
            ``L[i, j]`` = what ``i`` owes ``j``. Stored as float64 CSR.
        external_assets, external_liabilities : array_like, shape (n,), optional
            Default 0.
        names : sequence of str, optional
            Unique institution names (also used as ids unless ``ids`` is given). Default ``"0" .. "n-1"``.
        types : sequence of str, optional
            Institution types; default ``"institution"``.
        ids : sequence of str, optional
            Unique ids when they are not the names (e.g. ``A`` for ``Alpha``); default the names.

        Raises
        ------
        InvalidNetworkError
            Non-square matrix, negative or non-finite amounts, self-loops,
            column indices outside the matrix (a hand-built CSR), misaligned
            vectors, duplicate names, empty network.

        Notes
        -----
        ``L`` itself is never modified: duplicates are summed, explicit zeros
        dropped and indices sorted on a copy.
        """
        M = _to_csr(L)
        problems: list[Problem] = []
        if M.shape[0] != M.shape[1]:
            raise InvalidNetworkError(f"liabilities matrix must be square, got shape {M.shape}")
        n = M.shape[0]
        if n == 0:
            raise InvalidNetworkError("the network is empty (no institutions)")
        e = _as_vector(external_assets, n, "external_assets")
        ext = _as_vector(external_liabilities, n, "external_liabilities")
        _check_amounts(e, "external_assets", problems)
        _check_amounts(ext, "external_liabilities", problems)
        # never modify the caller's matrix (sum_duplicates and eliminate_zeros work in place); large
        # matrices are copied, summed by row and checked in one compiled pass
        from ._matrix import scan_matrix

        scanned = scan_matrix(M)
        rowsum = None
        if scanned is None:
            given = M = M.copy() if sp.issparse(L) else M
            defects = None
            outside = int(np.count_nonzero((M.indices < 0) | (M.indices >= n)))
        else:
            given = M
            M, rowsum, defects = scanned
            outside = defects["outside"]
        if outside:  # a hand-built CSR can hold them; scipy does not check
            k = int(np.flatnonzero((given.indices < 0) | (given.indices >= n))[0])
            i = int(np.searchsorted(given.indptr, k, side="right")) - 1
            raise InvalidNetworkError([Problem(
                f"liabilities matrix: {outside} column indices outside 0..{n - 1}; the first in row {i}, "
                f"column index {int(given.indices[k])}", value=_plain(given.data[k]))])
        clean = defects is not None and not (defects["unsorted"] or defects["bad"] or defects["diagonal"])
        if not clean:
            rowsum = None     # summing duplicates changes the order of the additions
            M.sum_duplicates()
            data = M.data
            if not np.isfinite(data).all() or (data < 0).any():
                coo = M.tocoo()
                bad = ~np.isfinite(coo.data) | (coo.data < 0)
                for k in np.flatnonzero(bad):
                    kind = "is not a finite number" if not np.isfinite(coo.data[k]) else "is negative"
                    problems.append(Problem(f"liability L[{coo.row[k]}, {coo.col[k]}] {kind}",
                                            value=_plain(coo.data[k])))
            diag = M.diagonal()
            for i in np.flatnonzero(diag != 0):
                problems.append(Problem(f"self-loop: institution {i} owes itself", value=_plain(diag[i])))
        name_tuple = None
        if names is not None:
            name_tuple = tuple(str(x) for x in names)
            if len(name_tuple) != n:
                problems.append(Problem(f"{len(name_tuple)} names given for {n} institutions", column="names"))
            else:
                _check_unique(pd.Series(name_tuple), "names", problems, None, 0)
        if types is not None and len(types) != n:
            problems.append(Problem(f"{len(types)} types given for {n} institutions", column="types"))
        if problems:
            raise InvalidNetworkError(problems)
        if clean:
            M.has_canonical_format = True   # verified by the scan: sorted, no duplicates
            if defects["zeros"]:
                M.eliminate_zeros()
        else:
            M.eliminate_zeros()
            M.sort_indices()
        node_table = None
        if ids is not None:
            id_problems: list[Problem] = []
            if len(ids) != n:
                id_problems.append(Problem(f"{len(ids)} ids given for {n} institutions", column="ids"))
            else:
                _check_unique(pd.Series([str(x) for x in ids]), "ids", id_problems, None, 0)
            if id_problems:
                raise InvalidNetworkError(id_problems)
        if name_tuple is not None or types is not None or ids is not None:
            shown_as = list(name_tuple) if name_tuple is not None else [str(i) for i in range(n)]
            node_table = pd.DataFrame({
                "id": shown_as if ids is None else [str(x) for x in ids],
                "name": shown_as,
                "type": list(types) if types is not None else [DEFAULT_NODE_TYPE] * n,
            })
        net = cls(
            liabilities=M,
            external_assets=e,
            external_liabilities=ext,
            forced_default=np.zeros(n, dtype=bool),
            forced_recovery=np.zeros(n),
            _node_table=node_table,
            _edge_table=None,
            _names=name_tuple,
            metadata=dict(metadata or {}),
        )
        if rowsum is not None:
            net.__dict__["interbank_liabilities"] = rowsum
        return net

    @classmethod
    def from_edges(
        cls,
        edges: pd.DataFrame | Iterable[Mapping[str, Any]],
        nodes: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        edges_file: str | None = None,
        nodes_file: str | None = None,
        row_offset: int = 0,
    ) -> "FinancialNetwork":
        """Build a network from an edge table and a node table.

        Parameters
        ----------
        edges : DataFrame or iterable of mappings
            Columns ``debtor``, ``creditor``, ``amount`` (required), ``kind``
            (default ``"obligation"``) and any further attribute columns.
            Several rows for the same pair (a loan and a lease) stay separate
            rows and are summed in ``L`` (in the order of the rows). A debt
            row (with a ``principal``, DESIGN.md §7) may leave ``amount``
            blank: its one-year amount is then a year's interest,
            ``principal * rate``, and ``metadata["amounts_from_interest"]``
            counts such rows (a multi-year path computes what they owe each
            year from their schedule).
        nodes : DataFrame or iterable of mappings, optional
            Columns ``id`` (required, unique), ``name`` (default: the id),
            ``type``, ``external_assets``, ``external_liabilities`` (default 0)
            and any further attribute columns. Without a node table the nodes
            are the ids seen in the edges, in order of first appearance.
        edges_file, nodes_file : str, optional
            File names used in error messages (set by the readers).
        row_offset : int
            Added to 0-based row positions in error messages (2 for CSV files,
            so that the header is row 1).

        Raises
        ------
        InvalidNetworkError
            Listing every problem: missing columns, duplicate ids or names,
            unknown ids in edges, self-loops, text where a number belongs,
            negative or non-finite amounts, empty network.
        """
        # shallow copies: nothing below writes into them (copy-on-write), and a deep copy of ten million rows
        # costs a second and their size again
        edges_df = edges.copy(deep=False) if isinstance(edges, pd.DataFrame) else pd.DataFrame(list(edges))
        problems: list[Problem] = []
        ef, nf = edges_file or "edges", nodes_file or "nodes"
        # DESIGN §7: debt rows may leave amount blank, so a table with a principal column may have no amount
        _check_columns(edges_df, ("debtor", "creditor") + (() if "principal" in edges_df.columns else ("amount",)),
                       ef, problems)
        if nodes is None:
            if problems:
                raise InvalidNetworkError(problems)
            pairs = np.column_stack([edges_df["debtor"].to_numpy(dtype=object),
                                     edges_df["creditor"].to_numpy(dtype=object)])
            seen = pd.Series(pairs.ravel(), dtype=object)  # row by row: the order of first appearance
            ids = pd.unique(seen[seen.notna()].map(lambda v: v.strip() if isinstance(v, str) else _id_text(v)))
            nodes_df = pd.DataFrame({"id": ids[ids != ""]})
        else:
            nodes_df = nodes.copy(deep=False) if isinstance(nodes, pd.DataFrame) else pd.DataFrame(list(nodes))
            _check_columns(nodes_df, ("id",), nf, problems)
        if problems:
            raise InvalidNetworkError(problems)
        nodes_df = nodes_df.reset_index(drop=True)
        edges_df = edges_df.reset_index(drop=True)
        if len(nodes_df) == 0:
            raise InvalidNetworkError(Problem("the network is empty (no institutions)", file=nf))

        # --- nodes
        ids = _text_compact(nodes_df, "id", nf, problems, row_offset, required=True)
        name_problems: list[Problem] = []  # reported after the ids' (the order of the checks)
        has_names = "name" in nodes_df.columns
        if has_names:
            names = _text_compact(nodes_df, "name", nf, name_problems, row_offset, required=False)
            names = names.where(names != "", ids)
        else:
            names = ids.copy()
        # a long column of names is checked for repeats beside the ids' table (two compiled builds of ~0.2 s
        # at 10^6 institutions); otherwise _check_unique below asks
        with _Beside(has_names and _long(len(names)), _all_distinct, names) as names_check:
            lookup = _IdLookup(ids, compiled=_long(len(edges_df)))  # finds the debtors and creditors
            ids_distinct = _all_distinct(ids, lookup)  # hashed once: the name check below asks again
        if not ids_distinct:
            _check_unique(ids, "id", problems, nf, row_offset)
        problems.extend(name_problems)
        names_distinct = not has_names or (names_check.started and names_check.result())
        if not (ids_distinct and names_distinct):
            _check_unique(names if ids_distinct else names.where(~ids.duplicated(keep="first"), ""), "name",
                          problems, nf, row_offset)
        if "type" in nodes_df.columns:
            types = _text_compact(nodes_df, "type", nf, problems, row_offset, required=False)
            types = types.where(types != "", DEFAULT_NODE_TYPE)
        else:
            types = pd.Series([DEFAULT_NODE_TYPE] * len(nodes_df))
        e = _number_column(nodes_df, "external_assets", nf, problems, row_offset)
        ext = _number_column(nodes_df, "external_liabilities", nf, problems, row_offset)
        forced = _bool_column(nodes_df, "forced_default", nf, problems, row_offset)
        recovery = _number_column(nodes_df, "forced_recovery", nf, problems, row_offset)
        for k in np.flatnonzero(recovery > 1):
            problems.append(Problem("forced_recovery must lie in [0, 1]", file=nf, row=int(k) + row_offset,
                                    column="forced_recovery", value=_raw_value(nodes_df["forced_recovery"], k)))

        # --- edges
        debtors = _text_compact(edges_df, "debtor", ef, problems, row_offset, required=True)
        creditors = _text_compact(edges_df, "creditor", ef, problems, row_offset, required=True)
        edges_df, from_interest = _debt_amounts(edges_df, ef, problems, row_offset)
        # may be a view of the caller's table: L and the edge table below copy what they keep (tested)
        amounts = _number_column(edges_df, "amount", ef, problems, row_offset, required=True, copy=False)
        if "kind" in edges_df.columns:
            kinds = _text_compact(edges_df, "kind", ef, problems, row_offset, required=False)
            blank = _empty_text(kinds)
            if blank.any():
                kinds = kinds.where(~blank, DEFAULT_EDGE_KIND)
        else:
            kinds = pd.Series(np.full(len(edges_df), DEFAULT_EDGE_KIND, dtype=object), dtype=object)
        # first occurrence of each id (duplicate ids are already reported; keep checking the edges)
        di, ci = _edge_positions(debtors, creditors, lookup)
        for col, codes, vals in (("debtor", di, debtors), ("creditor", ci, creditors)):
            unknown = np.flatnonzero(codes < 0)
            if unknown.size == 0:
                continue  # (an Arrow take, even of nothing, puts a chunked column's ten million values together)
            for k in unknown[(vals.iloc[unknown] != "").to_numpy(dtype=bool)]:  # missing ids are reported above
                problems.append(Problem("unknown institution id (not in the node table)", file=ef,
                                        row=int(k) + row_offset, column=col, value=vals.iloc[k]))
        loops = np.flatnonzero((di == ci) & (di >= 0))
        for k in loops:
            problems.append(Problem("self-loop: an institution cannot owe itself", file=ef, row=int(k) + row_offset,
                                    column="creditor", value=creditors.iloc[k]))
        if problems:
            raise InvalidNetworkError(problems)
        if from_interest and not ef.startswith(PLACEHOLDER):
            warn_interest_amounts(ef, from_interest, stacklevel=3)

        n = len(ids)
        L = csr_from_edges(di, ci, amounts, n)  # several rows for one pair are added in the order of the rows
        node_table = nodes_df.drop(columns=[c for c in _NODE_STATE_COLUMNS if c in nodes_df.columns])
        node_table = node_table.assign(id=ids.values, name=names.values, type=types.values)
        node_table = node_table[["id", "name", "type"] + [c for c in node_table.columns if c not in ("id", "name", "type")]]
        edge_table = edges_df.assign(debtor=debtors.values, creditor=creditors.values, amount=amounts, kind=kinds.values)
        edge_table = edge_table[list(EDGE_COLUMNS) + [c for c in edge_table.columns if c not in EDGE_COLUMNS]]
        return cls(
            liabilities=L,
            external_assets=e,
            external_liabilities=ext,
            forced_default=forced,
            forced_recovery=recovery,
            _node_table=node_table.reset_index(drop=True),
            _edge_table=edge_table.reset_index(drop=True),
            _names=None,  # the node table's name column; a tuple is made on first use of .names
            metadata={**(metadata or {}), **({AMOUNTS_FROM_INTEREST: from_interest} if from_interest else {})},
        )

    # ------------------------------------------------------------------ basic views
    @property
    def n(self) -> int:
        """Number of institutions."""
        return self.liabilities.shape[0]

    @property
    def n_edges(self) -> int:
        """Number of obligations (rows of the edge table)."""
        if self._edge_table is not None:
            return len(self._edge_table)
        return int(self.liabilities.nnz)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Institution names (unique), aligned with every array of results."""
        if self._names is not None:
            return self._names
        if self._node_table is not None:
            return tuple(self._node_table["name"].to_numpy(dtype=object).tolist())  # not element by element
        return tuple(str(i) for i in range(self.n))

    @cached_property
    def ids(self) -> tuple[str, ...]:
        """Institution ids (unique), aligned with :attr:`names`."""
        if self._node_table is not None:
            return tuple(self._node_table["id"].to_numpy(dtype=object).tolist())  # 0.2 s less per 100,000 ids
        return self.names

    @cached_property
    def types(self) -> np.ndarray:
        """Institution types as an array of str."""
        if self._node_table is not None:
            return self._node_table["type"].to_numpy(dtype=object)
        return np.full(self.n, DEFAULT_NODE_TYPE, dtype=object)

    @property
    def nodes(self) -> pd.DataFrame:
        """The node table: ``id, name, type, external_assets, external_liabilities`` + attributes.

        A fresh copy on every access: changing it never changes the network.
        """
        return self._nodes_frame.copy(deep=not _COPY_ON_WRITE)

    @cached_property
    def _nodes_frame(self) -> pd.DataFrame:
        if self._node_table is not None:
            base = self._node_table.copy(deep=not _COPY_ON_WRITE)
        else:
            ids = list(self.ids)
            base = pd.DataFrame({"id": ids, "name": list(self.names), "type": [DEFAULT_NODE_TYPE] * self.n})
        base.insert(3, "external_assets", self.external_assets)
        base.insert(4, "external_liabilities", self.external_liabilities)
        if self.forced_default.any():
            base["forced_default"] = self.forced_default
            base["forced_recovery"] = self.forced_recovery
        return base

    @property
    def edges(self) -> pd.DataFrame:
        """The edge table: ``debtor, creditor, amount, kind`` + attributes (ids, not positions).

        A fresh copy on every access: changing it never changes the network (with pandas >= 3, whose
        copy-on-write copies a column when it is written, the copy costs nothing until then).
        """
        return self._edges_frame.copy(deep=not _COPY_ON_WRITE)

    @cached_property
    def _edges_frame(self) -> pd.DataFrame:
        if self._edge_table is not None:
            return self._edge_table
        coo = self.liabilities.tocoo()
        ids = np.asarray(self.ids, dtype=object)
        return pd.DataFrame({
            "debtor": ids[coo.row], "creditor": ids[coo.col], "amount": coo.data,
            "kind": np.full(coo.nnz, DEFAULT_EDGE_KIND, dtype=object),
        })

    @cached_property
    def edge_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions ``(debtor_index, creditor_index)`` of every row of :attr:`edges`."""
        if self._edge_table is None:
            coo = self.liabilities.tocoo()
            return coo.row.astype(np.int64), coo.col.astype(np.int64)
        index = pd.Index(self.ids)
        return (index.get_indexer(self._edge_table["debtor"]).astype(np.int64),
                index.get_indexer(self._edge_table["creditor"]).astype(np.int64))

    def index_of(self, key: str) -> int:
        """Position of an institution given its name or id.

        Raises ``KeyError`` naming the key when it is neither (with the closest names), or when it is one
        institution's name and another's id (naming both).

        >>> import contagion
        >>> net = contagion.load_dataset("core-periphery")
        >>> net.index_of("Core"), net.index_of("C")
        (2, 2)
        >>> net.index_of("Periphery 9")
        Traceback (most recent call last):
        ...
        KeyError: "no institution named 'Periphery 9' (did you mean 'Periphery 4'?)"
        """
        by_name, by_id = self._name_index.get(key), self._id_index.get(key)
        if by_name is not None and by_id is not None and by_name != by_id:
            raise KeyError(f"{key!r} is ambiguous: the name of {self.names[by_name]!r} (id {self.ids[by_name]!r}) "
                           f"and the id of {self.names[by_id]!r}; use the other institution's id or name")
        pos = by_name if by_name is not None else by_id
        if pos is None:
            raise KeyError(f"no institution named {key!r}{self._did_you_mean(key)}")
        return pos

    def _did_you_mean(self, key: str) -> str:
        from .errors import did_you_mean

        return did_you_mean(key, self.names) if self.n <= 50_000 else ""

    @cached_property
    def _name_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    @cached_property
    def _id_index(self) -> dict[str, int]:
        return {i: k for k, i in enumerate(self.ids)}

    # ------------------------------------------------------------------ derived quantities
    @cached_property
    def interbank_liabilities(self) -> np.ndarray:
        """What each institution owes inside the network (row sums of ``L``)."""
        return np.asarray(self.liabilities.sum(axis=1)).ravel()

    @cached_property
    def interbank_assets(self) -> np.ndarray:
        """What each institution is owed inside the network (column sums of ``L``)."""
        return np.asarray(self.liabilities.sum(axis=0)).ravel()

    @cached_property
    def total_obligations(self) -> np.ndarray:
        """``pbar = L.sum(axis=1) + external_liabilities``."""
        return self.interbank_liabilities + self.external_liabilities

    @property
    def pbar(self) -> np.ndarray:
        """Alias of :attr:`total_obligations`."""
        return self.total_obligations

    @cached_property
    def relative_liabilities(self) -> sp.csr_array:
        """``Pi[i, j] = L[i, j] / pbar[i]`` (CSR; rows with ``pbar == 0`` are empty)."""
        from ._matrix import relative_matrix  # compiled for large networks

        return relative_matrix(self.liabilities, self.total_obligations)

    @property
    def Pi(self) -> sp.csr_array:
        """Alias of :attr:`relative_liabilities`."""
        return self.relative_liabilities

    @cached_property
    def PiT(self) -> sp.csr_array:
        """``Pi.T`` stored as CSR (computed once): ``(PiT @ p)[j]`` is what ``j`` receives."""
        from ._matrix import transpose  # compiled for large networks

        PiT, full = transpose(self.relative_liabilities, self.total_obligations)
        self.__dict__.setdefault("received_in_full", full)
        return PiT

    @cached_property
    def received_in_full(self) -> np.ndarray:
        """``Pi.T @ pbar``: what each institution receives when everyone pays in full.

        Equal to :attr:`interbank_assets` up to rounding; this is the form the
        clearing algorithms use (computed together with :attr:`PiT`).
        """
        return self.PiT @ self.total_obligations

    @cached_property
    def payment_cap(self) -> np.ndarray:
        """Most an institution can pay: ``pbar``, or ``forced_recovery * pbar`` if forced to default."""
        pbar = self.total_obligations
        return np.where(self.forced_default, self.forced_recovery * pbar, pbar)

    @cached_property
    def equity_before(self) -> np.ndarray:
        """Equity if everyone paid in full: ``e + Pi.T @ pbar - pbar`` = ``e + interbank assets - pbar``."""
        return self.external_assets + self.interbank_assets - self.total_obligations

    # ------------------------------------------------------------------ transformations
    def replace(self, **changes: Any) -> "FinancialNetwork":
        """A new network with some arrays replaced (used by :mod:`contagion.shocks`).

        Accepted keys: ``external_assets``, ``external_liabilities``,
        ``forced_default``, ``forced_recovery``, ``liabilities`` together with
        ``edge_amounts`` (new amounts for every row of the edge table),
        ``edge_columns`` (``{name: values}`` for other columns of the edge table,
        e.g. ``collateral_value``; not ``debtor``, ``creditor`` or ``amount``),
        and ``metadata``. Values are checked for shape, finiteness and sign.
        """
        n = self.n
        kw: dict[str, Any] = dict(
            liabilities=self.liabilities, external_assets=self.external_assets,
            external_liabilities=self.external_liabilities, forced_default=self.forced_default,
            forced_recovery=self.forced_recovery, _node_table=self._node_table, _edge_table=self._edge_table,
            _names=self._names, metadata=self.metadata,
        )
        problems: list[Problem] = []
        for key in ("external_assets", "external_liabilities", "forced_recovery"):
            if key in changes:
                v = _as_vector(changes.pop(key), n, key)
                _check_amounts(v, key, problems)
                kw[key] = v
        if "forced_default" in changes:
            v = np.asarray(changes.pop("forced_default"), dtype=bool)
            if v.shape != (n,):
                raise InvalidNetworkError(f"forced_default has shape {v.shape}, expected ({n},)")
            kw["forced_default"] = v.copy()
        if "edge_amounts" in changes:
            amounts = np.asarray(changes.pop("edge_amounts"), dtype=np.float64)
            if amounts.shape != (self.n_edges,):
                raise InvalidNetworkError(f"edge_amounts has shape {amounts.shape}, expected ({self.n_edges},)")
            _check_amounts(amounts, "amount", problems)
            if not problems:
                di, ci = self.edge_index
                L = sp.csr_array((amounts, (di, ci)), shape=(n, n))
                L.sum_duplicates()
                L.eliminate_zeros()
                L.sort_indices()
                kw["liabilities"] = L
                edges = self.edges.copy()  # self.edges is cached: never mutate it
                edges["amount"] = amounts
                kw["_edge_table"] = edges
        if "edge_columns" in changes:
            columns = dict(changes.pop("edge_columns"))
            fixed = sorted(set(columns) & {"debtor", "creditor", "amount"})
            if fixed:
                raise TypeError(f"replace(edge_columns=...) cannot set {fixed}: use edge_amounts= for amounts")
            # the table edge_amounts made is new already; else a copy of this network's (never mutate it)
            edges = kw["_edge_table"] if kw["_edge_table"] is not self._edge_table else self.edges.copy()
            for name, values in columns.items():
                v = np.asarray(values)
                if v.shape != (self.n_edges,):
                    raise InvalidNetworkError(f"edge column {name!r} has shape {v.shape}, expected ({self.n_edges},)")
                edges[name] = v
            kw["_edge_table"] = edges
        if "metadata" in changes:
            kw["metadata"] = dict(changes.pop("metadata"))
        if changes:
            raise TypeError(f"replace() got unexpected keys: {sorted(changes)}")
        if problems:
            raise InvalidNetworkError(problems)
        if (kw["forced_recovery"] > 1).any():
            raise InvalidNetworkError("forced_recovery must lie in [0, 1]")
        new = FinancialNetwork(**kw)
        if kw["liabilities"] is self.liabilities and kw["external_liabilities"] is self.external_liabilities:
            # same obligations: carry over the derived matrices instead of rebuilding them (scenario runs)
            for key in ("interbank_liabilities", "interbank_assets", "total_obligations", "relative_liabilities",
                        "PiT", "received_in_full"):
                if key in self.__dict__:
                    new.__dict__[key] = self.__dict__[key]
        return new

    # ------------------------------------------------------------------ misc
    def __repr__(self) -> str:
        return (f"FinancialNetwork(n={self.n}, obligations={self.n_edges}, "
                f"total_obligations={float(self.total_obligations.sum()):.6g})")

    def summary(self) -> dict[str, Any]:
        """Sizes and totals, as plain Python values."""
        return {
            "institutions": self.n,
            "obligations": self.n_edges,
            "interbank_liabilities": float(self.interbank_liabilities.sum()),
            "external_liabilities": float(self.external_liabilities.sum()),
            "external_assets": float(self.external_assets.sum()),
            "total_obligations": float(self.total_obligations.sum()),
        }

    def _repr_html_(self) -> str:
        """Sizes and totals as escaped HTML (Jupyter display)."""
        from .formatting import summary_html

        s = self.summary()
        meta = self.metadata or {}
        title = str(meta.get("title") or meta.get("dataset") or "FinancialNetwork")
        return summary_html(title, [("institutions", f"{s['institutions']:,}"), ("obligations", f"{s['obligations']:,}"),
                                    ("interbank liabilities", f"{s['interbank_liabilities']:,.2f}"),
                                    ("external liabilities", f"{s['external_liabilities']:,.2f}"),
                                    ("external assets", f"{s['external_assets']:,.2f}")])


# ---------------------------------------------------------------------- validation helpers
