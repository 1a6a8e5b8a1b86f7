"""Results of clearing: :class:`ClearingResult` (one scenario) and :class:`BatchClearingResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..network import FinancialNetwork

__all__ = ["ClearingResult", "BatchClearingResult", "capital_depletion", "call_split", "unpaid_calls_by"]


def capital_depletion(equity_pre_shock: np.ndarray, equity: np.ndarray) -> np.ndarray:
    """Share of the pre-shock equity lost, in ``[0, 1]``; NaN where the pre-shock equity was not positive.

    >>> capital_depletion(np.array([10.0, 10.0, 0.0]), np.array([4.0, -5.0, -1.0])).tolist()
    [0.6, 1.0, nan]
    """
    before = np.asarray(equity_pre_shock, dtype=float)
    after = np.asarray(equity, dtype=float)
    out = np.full(before.shape, np.nan)
    pos = before > 0
    out[pos] = np.clip((before[pos] - after[pos]) / before[pos], 0.0, 1.0)
    return out


def call_split(res: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Per row of ``res.network.edges``, ``(paid, again)`` on the guarantee calls of ``res.call_rows`` (0 on other
    rows; ``None`` without such calls): ``paid``, what counts as the guarantor's payment in the covered debtor's
    stead -- what it paid, or under Rogers--Veraart what it would have paid but for its default
    (:attr:`ClearingResult.call_full_payments`; the difference is value its default destroyed) -- and ``again``,
    the rest of the call: money also unpaid on the obligation the call covers."""
    rows = getattr(res, "call_rows", None)
    if rows is None or res.row_payments is None:
        return None
    full = getattr(res, "call_full_payments", None)
    paid = np.where(rows, res.row_payments if full is None else full, 0.0)
    amount = res.network.edges["amount"].to_numpy(dtype=np.float64)
    return paid, np.where(rows, np.maximum(amount - paid, 0.0), 0.0)


def unpaid_calls_by(res: Any) -> np.ndarray | None:
    """What each institution leaves unpaid of the guarantee calls of ``res.call_rows`` that is also unpaid on the
    obligations those calls cover (:func:`call_split`), or ``None`` without such calls."""
    split = call_split(res)
    if split is None:
        return None
    net = res.network
    return np.bincount(net.edge_index[0], weights=split[1], minlength=net.n)


@dataclass(frozen=True, eq=False)
class ClearingResult:
    """The outcome of clearing one network (immutable).

    All arrays are aligned with ``network.names``.

    Attributes
    ----------
    network : FinancialNetwork
        The (shocked) network that was cleared.
    payments : ndarray
        Clearing vector ``p``: what each institution pays in total.
    defaulted : ndarray of bool
        ``p_i < pbar_i`` (ties at the threshold are solvent; institutions
        without obligations never default).
    equity : ndarray
        ``e + Pi.T @ p - pbar``, not clipped at zero (negative = net worth lost
        beyond zero).
    default_round : ndarray of int
        0 = fundamental default (short even if everyone pays in full), k =
        defaulted in wave k of the fictitious-default cascade, -1 = never.
        Solvers that find the clearing vector without the waves (policy
        iteration on large networks) pass a function instead, and the waves
        are computed by the fictitious-default algorithm on first access.
    shortfall : ndarray
        ``pbar - p``.
    iterations : int
        Rounds (fictitious-default) or sweeps (iterative) the solver used.
    converged : bool
        Whether the residual bound was met.
    residual : float
        ``max |T(p) - p|`` of the clearing map at the answer.
    method : str
        Registered method name (``"eisenberg-noe"``, ``"rogers-veraart"``).
    unique : bool or None
        Whether the clearing vector is unique (``None``: not determined for
        this method). When ``False``, the greatest clearing vector is returned.
    solver : str
        Which solver path ran.
    params : mapping
        Method parameters (e.g. ``alpha``, ``beta``).
    least_payments : ndarray or None
        The least clearing vector when it differs from the greatest
        (``unique`` is ``False``; :mod:`contagion.clearing.least`), else
        ``None``. ``payments`` is always the greatest.
    row_payments : ndarray or None
        What each row of ``network.edges`` received, when a debtor does not
        pay its creditors pro rata (seniority, collateral: the priority
        solver); ``None`` means pro rata, ``Pi.T @ p``. ``received``,
        ``interbank_loss`` and ``external_shortfall`` use it.
    call_rows : ndarray or None
        The rows of ``network.edges`` that are guarantee calls owed to the
        creditor of the obligation they cover (with ``row_payments``; ``None``:
        no such guarantee). The unpaid part of such a call is part of the
        unpaid part of the obligation it covers: :attr:`interbank_loss` counts
        what guarantors pay as recovered on the covered claim, and
        :attr:`unpaid_calls` says how much of :attr:`total_shortfall` is the
        same money counted a second time.
    call_full_payments : ndarray or None
        Under Rogers--Veraart (``alpha`` or ``beta`` below 1), what each row
        would be paid if its debtor's default destroyed nothing (the debtor
        sharing all it has by its waterfall), where that differs on
        :attr:`call_rows`; the difference is value lost, not counted twice.
    """

    network: "FinancialNetwork" = field(repr=False)
    payments: np.ndarray
    defaulted: np.ndarray
    equity: np.ndarray
    default_round: np.ndarray
    shortfall: np.ndarray
    iterations: int
    converged: bool
    residual: float
    method: str
    unique: bool | None = None
    solver: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    least_payments: np.ndarray | None = None
    row_payments: np.ndarray | None = field(default=None, repr=False)
    all_pay_equity: np.ndarray | None = field(default=None, repr=False)
    call_rows: np.ndarray | None = field(default=None, repr=False)
    call_full_payments: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if callable(self.default_round):
            # computed on first access (see __getattr__)
            object.__setattr__(self, "_waves_fn", self.default_round)
            object.__delattr__(self, "default_round")

    def __getattr__(self, name: str) -> Any:
        # only called for attributes not found normally: the lazily computed default waves
        if name == "default_round" and "_waves_fn" in self.__dict__:
            rounds = np.asarray(self.__dict__["_waves_fn"](), dtype=np.int64)
            object.__setattr__(self, "default_round", rounds)
            object.__delattr__(self, "_waves_fn")
            return rounds
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self) -> dict:
        self.default_round  # noqa: B018 - pickles carry the waves, not the function computing them
        return self.__dict__

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    @property
    def names(self) -> tuple[str, ...]:
        return self.network.names

    @property
    def n_defaults(self) -> int:
        """Number of defaulting institutions."""
        return int(self.defaulted.sum())

    @property
    def total_shortfall(self) -> float:
        """Sum of unpaid obligations, ``sum(pbar - p)``."""
        return float(self.shortfall.sum())

    @cached_property
    def received(self) -> np.ndarray:
        """What each institution receives from the network, ``Pi.T @ p`` (or, with :attr:`row_payments`,
        what its claims were actually paid)."""
        if self.row_payments is not None:
            return np.bincount(self.network.edge_index[1], weights=self.row_payments, minlength=self.network.n)
        return self.network.PiT @ self.payments

    @cached_property
    def interbank_loss(self) -> np.ndarray:
        """Loss each creditor takes on its network claims: ``interbank_assets - Pi.T @ p``.

        Computed as ``Pi.T @ shortfall``, which is the same quantity but exactly 0 for a
        creditor whose debtors all pay in full (no rounding noise from a difference); with
        :attr:`row_payments`, from each claim's own shortfall; a guarantee call in :attr:`call_rows` is
        not a claim of its own: what its guarantor pays comes off the loss on the claim it covers.
        """
        if self.row_payments is not None:
            net = self.network
            creditor = net.edge_index[1]
            short = np.maximum(net.edges["amount"].to_numpy(dtype=np.float64) - self.row_payments, 0.0)
            if self.call_rows is None:
                return np.bincount(creditor, weights=short, minlength=net.n)
            # a call is not a second claim: what the guarantor pays is recovered on the claim it covers
            call = self.call_rows
            loss = (np.bincount(creditor[~call], weights=short[~call], minlength=net.n)
                    - np.bincount(creditor[call], weights=self.row_payments[call], minlength=net.n))
            return np.maximum(loss, 0.0)          # (never below 0 but for rounding: calls <= what is unpaid)
        return self.network.PiT @ self.shortfall

    @cached_property
    def unpaid_calls(self) -> float:
        """What guarantors leave unpaid of the calls in :attr:`call_rows` (0 without them): money that is also
        in the unpaid part of the obligations those calls cover, so :func:`~contagion.measures.loss_summary`
        counts it once in the system loss."""
        unpaid = unpaid_calls_by(self)
        return 0.0 if unpaid is None else float(unpaid.sum())

    @cached_property
    def external_shortfall(self) -> float:
        """What creditors outside the network are not paid."""
        net = self.network
        if self.row_payments is not None:
            to_network = np.bincount(net.edge_index[0], weights=self.row_payments, minlength=net.n)
            return float(np.sum(np.maximum(net.external_liabilities - (self.payments - to_network), 0.0)))
        pbar = net.total_obligations
        frac = np.divide(net.external_liabilities, pbar, out=np.zeros_like(pbar), where=pbar > 0)
        return float(np.sum(frac * self.shortfall))

    @property
    def equity_if_all_pay(self) -> np.ndarray:
        """Each one's equity with everyone paying in full: ``network.equity_before``, except that no guarantee
        is called when everyone pays (:attr:`network` owes the guarantees as called)."""
        return self.network.equity_before if self.all_pay_equity is None else self.all_pay_equity

    @property
    def waves(self) -> int:
        """Number of the last default wave (-1 when nobody defaults)."""
        return int(self.default_round.max()) if self.default_round.size else -1

    def pre_shock_equity(self, base: "FinancialNetwork | None" = None) -> np.ndarray:
        """Each one's equity before the scenario, everyone paying in full: ``base.equity_before`` (default: of
        this result's network); a fire-sale result adds its holdings at their start prices. ``to_frame``'s
        ``equity_pre_shock``; reports and views read it here."""
        return (base if base is not None else self.network).equity_before

    def to_frame(self, base: "FinancialNetwork | None" = None) -> pd.DataFrame:
        """Per-institution table indexed by name.

        Columns: ``id, type, obligations, payment, shortfall, equity_pre_shock, equity_if_all_pay, equity,
        capital_depletion, defaulted, default_round``, and ``payment_least`` (the least clearing vector) when
        :attr:`least_payments` is set. The three equities, one vocabulary everywhere (CLI, reports, notebooks):

        - ``equity_pre_shock``: outside assets + claims − obligations of ``base``, the network before the
          scenario, everyone paying in full (without ``base``: of this result's own network; for a network with
          guarantees pass what it owes, :func:`contagion.clearing.handover.owed_network`);
        - ``equity_if_all_pay``: the same after the scenario, everyone paying in full (so no guarantee is
          called);
        - ``equity``: after the scenario and the clearing.

        ``capital_depletion`` is the share of the pre-shock equity lost, ``(equity_pre_shock - equity) /
        equity_pre_shock`` in ``[0, 1]`` (NaN where the pre-shock equity is not positive).

        >>> import contagion
        >>> st = contagion.stress(contagion.load_dataset("chain"), ["a-fails"])
        >>> st.clearing.to_frame(st.base).loc["B", ["equity_pre_shock", "equity_if_all_pay", "equity",
        ...                                          "capital_depletion"]].tolist()
        [1.0, 1.0, -9.0, 1.0]
        """
        net = self.network
        pre = self.pre_shock_equity(base)      # (a fire sale's holdings at their start prices included)
        nodes = net.nodes  # ids, names and types as the node table holds them (no Python string per row)
        frame = pd.DataFrame(
            {
                "id": nodes["id"].array,
                "type": nodes["type"].array,
                "obligations": net.total_obligations,
                "payment": self.payments,
                "shortfall": self.shortfall,
                "equity_pre_shock": pre,
                "equity_if_all_pay": self.equity_if_all_pay,
                "equity": self.equity,
                "capital_depletion": capital_depletion(pre, self.equity),
                "defaulted": self.defaulted,
                "default_round": self.default_round,
            },
            index=pd.Index(nodes["name"].array, name="name"),
        )
        if self.least_payments is not None:
            frame["payment_least"] = self.least_payments
        return frame

    def summary(self) -> dict[str, Any]:
        """Headline numbers as plain Python values."""
        return {
            "method": self.method,
            "institutions": int(self.network.n),
            "defaults": self.n_defaults,
            "fundamental_defaults": int((self.default_round == 0).sum()),
            "waves": self.waves,
            "total_shortfall": self.total_shortfall,
            "external_shortfall": self.external_shortfall,
            "iterations": int(self.iterations),
            "converged": bool(self.converged),
            "residual": float(self.residual),
            "unique": self.unique,
        }

    def _repr_html_(self) -> str:
        """Headline numbers and the institutions hit first, as escaped HTML (Jupyter display)."""
        from ..formatting import result_html

        return result_html(self)

    def __repr__(self) -> str:
        return (f"ClearingResult(method={self.method!r}, n={self.network.n}, defaults={self.n_defaults}, "
                f"total_shortfall={self.total_shortfall:.6g}, converged={self.converged})")


@dataclass(frozen=True, eq=False)
class BatchClearingResult:
    """Clearing of ``K`` scenarios of external assets on one network.

    ``payments`` and ``defaulted`` have shape ``(n, K)``: column ``k`` equals
    ``clear(net with external_assets=E[:, k]).payments``.

    ``network`` holds what each row owes when everyone pays (residual value
    guarantees at ``min(cap, max(0, K - V))``, as ``clear(...).network``).
    Guarantees (``kind = guarantee``) are called by how much the debtors they
    cover fail to pay, so what a guarantor owes differs by scenario: then
    ``obligations`` holds it, shape ``(n, K)``; :attr:`owed` is the one to use.

    Where a debtor in default pays its claims by seniority or collateral rather
    than pro rata, ``inflow`` holds what each institution received from the
    network in each scenario (:attr:`received` is the one to use); with
    guarantees owed to the creditor of the obligation they cover,
    ``unpaid_calls`` holds what each guarantor leaves unpaid of such calls
    (see :attr:`ClearingResult.call_rows`), shape ``(n, K)``.
    """

    network: "FinancialNetwork" = field(repr=False)
    payments: np.ndarray
    defaulted: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    method: str
    solver: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    obligations: np.ndarray | None = field(default=None, repr=False)
    inflow: np.ndarray | None = field(default=None, repr=False)
    unpaid_calls: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_scenarios(self) -> int:
        return int(self.payments.shape[1])

    @property
    def owed(self) -> np.ndarray:
        """What each institution owes in each scenario, shape ``(n, K)`` (a broadcast view of
        ``network.total_obligations`` unless guarantees make it differ by scenario)."""
        if self.obligations is not None:
            return self.obligations
        return np.broadcast_to(self.network.total_obligations[:, None], self.payments.shape)

    @property
    def shortfall(self) -> np.ndarray:
        """``owed - payments``, shape ``(n, K)``: what each institution leaves unpaid in each scenario."""
        return self.owed - self.payments

    def unpaid_rise(self, payments0: np.ndarray, owed0: np.ndarray | None = None, calls0: np.ndarray | None = None,
                    size: int | None = None) -> np.ndarray:
        """Rise in what each institution leaves unpaid from a baseline (its ``payments0``, ``owed0`` and unpaid
        calls ``calls0``), shape ``(n, K)`` (the first ``size`` scenarios): the fall in its payments, plus the rise
        in what it owes (guarantees called), less the rise in what it leaves unpaid of calls counted on the
        obligations they cover -- the shortfall of :func:`~contagion.measures.loss_summary`'s system loss."""
        cut = slice(None) if size is None else slice(0, size)
        rise = np.subtract(payments0[:, None], self.payments[:, cut])
        if self.obligations is not None:
            rise += np.subtract(self.obligations[:, cut], owed0[:, None])
        if self.unpaid_calls is not None:
            rise -= self.unpaid_calls[:, cut]
            if calls0 is not None:
                rise += calls0[:, None]
        return rise

    @property
    def received(self) -> np.ndarray:
        """What each institution receives from the network in each scenario, shape ``(n, K)``: ``inflow``, or
        ``network.PiT @ payments`` where every debtor pays its creditors pro rata."""
        if self.inflow is not None:
            return self.inflow
        return np.asarray(self.network.PiT @ self.payments)

    @property
    def converged(self) -> bool:
        scale = float(self.owed.max()) if self.payments.size else 0.0
        return bool(np.all(self.residual <= 1e-12 * max(scale, 1e-300)))

    def to_frame(self) -> pd.DataFrame:
        """Long table, one row per scenario and institution, indexed by ``(scenario, name)``.

        Columns: ``id, type, obligations, payment, shortfall, defaulted``.

        >>> import numpy as np, contagion
        >>> net = contagion.load_dataset("chain")
        >>> batch = contagion.clear_many(net, np.c_[net.external_assets, net.external_assets * 2])
        >>> row = batch.to_frame().loc[(1, "A")]      # scenario 1: outside assets doubled, A holds 10
        >>> float(row["payment"]), bool(row["defaulted"])
        (10.0, False)
        """
        net = self.network
        n, K = self.payments.shape
        index = pd.MultiIndex.from_product([range(K), list(net.names)], names=["scenario", "name"])
        owed = self.owed
        return pd.DataFrame({
            "id": np.tile(np.asarray(list(net.ids), dtype=object), K),
            "type": np.tile(np.asarray(net.types, dtype=object), K),
            "obligations": owed.T.ravel(),
            "payment": self.payments.T.ravel(),
            "shortfall": (owed - self.payments).T.ravel(),
            "defaulted": self.defaulted.T.ravel(),
        }, index=index)

    def summary(self) -> dict[str, Any]:
        """Per batch: scenarios, institutions, mean and largest number of defaults, mean total shortfall."""
        d = self.defaulted.sum(axis=0)
        return {"method": self.method, "solver": self.solver, "scenarios": self.n_scenarios,
                "institutions": int(self.network.n), "mean_defaults": float(d.mean()) if d.size else 0.0,
                "max_defaults": int(d.max()) if d.size else 0,
                "mean_total_shortfall": float(self.shortfall.sum(axis=0).mean()) if d.size else 0.0,
                "converged": self.converged}

    def _repr_html_(self) -> str:
        """Headline numbers of the batch, as escaped HTML (Jupyter display)."""
        from ..formatting import summary_html

        s = self.summary()
        return summary_html("Batch clearing", [("scenarios", f"{s['scenarios']:,}"),
                                               ("institutions", f"{s['institutions']:,}"),
                                               ("defaults per scenario (mean / max)",
                                                f"{s['mean_defaults']:.4g} / {s['max_defaults']}"),
                                               ("mean total shortfall", f"{s['mean_total_shortfall']:,.2f}"),
                                               ("method / solver", f"{s['method']} / {s['solver']}")])

    def __repr__(self) -> str:
        return (f"BatchClearingResult(method={self.method!r}, n={self.network.n}, scenarios={self.n_scenarios}, "
                f"solver={self.solver!r})")
