"""Clearing year by year: maturities, rollover, collateral, cash carried forward, acceleration (DESIGN.md §7).

Each year ``t`` of the horizon, in this order:

1. **Rollover decisions**, on the state at the start of the year (the
   lenders' default status after year ``t - 1`` and the collateral's value in
   ``t``), as in the discrete-time dynamic clearing of Banerjee, Bernstein &
   Feinstein (arXiv 1801.02091), where what is due at a date is fixed before
   that date's clearing. A principal due in ``t`` at its maturity (a
   ``linear`` loan's earlier instalments are repaid) on a row with rule
   ``always`` is rolled; with ``ltv`` it is rolled when ``collateral value x
   max_ltv >= principal``; never when the lender is in default or frozen by
   a scenario (``freeze``); ``ltv`` weighs the whole principal still
   outstanding. A rolled principal is re-lent for ``term_years`` (one year
   when blank): it is not paid, and interest keeps running; on a ``linear``
   loan the rest of the principal is spread again up to the new maturity.
2. **What falls due**: recurring amounts active in ``t``; on debt rows,
   interest on the outstanding principal plus the principal due (``bullet``:
   all of it at maturity; ``linear``: equal parts until maturity); what a
   defaulter left unpaid in earlier years (it stays owed to the same
   creditors, pro rata); outside liabilities of ``t`` (``cashflows.csv`` or
   the node table). Outside assets: those of ``t`` plus the cash carried
   from ``t - 1``. Scenario shocks with a ``year``/``years`` apply now (and
   those without, every year); a row that cannot fall due in ``t`` owes
   nothing whatever a shock sets its amount to (a recurring row outside its
   ``start``/``end`` years, a loan before its ``start`` or once repaid, the
   debts of an institution in default since an earlier year).
3. **Clearing**, exactly, through :func:`contagion.clear` (greatest clearing
   vector). **Acceleration**: an institution that cannot pay what falls due
   defaults, and everything it owes in the later years of the horizon (its
   outstanding principal, its recurring amounts and outside liabilities of
   ``t + 1 ..``) falls due now and shares pro rata (Kusnetsov & Veraart 2019
   treat obligations of several maturities falling due together the same
   way). The year is cleared again with the defaulters' debts accelerated
   until the default set reproduces itself: acceleration raises their
   creditors' shares, so others may fall short, and one in default before
   may now pay what falls due -- it is judged on the year's own dues, not on
   its own accelerated debts, which a default causes (:func:`_clear_accelerating`).
   A loan whose ``start`` is later is not accelerated (it is not lent to a
   borrower in default); a shock on a row without a ``year`` (it changes the
   obligation) applies to its accelerated principal too (a cancelled loan
   stays cancelled), a dated one (one year's payment) does not. A default is
   absorbing.
4. **Carry forward**: what an institution holds after paying
   (``e + received - paid``, when positive) adds to its outside assets in
   ``t + 1``; one that could not pay in full has nothing left. Unpaid
   amounts stay owed to the same creditors, pro rata, and fall due the next
   year; an institution in default keeps collecting its outside assets and
   claims and paying them out (its estate), but stays in default.
   Guarantees and residual value guarantees (DESIGN §8) are not carried as
   debts: their caps are for the whole path, each year's call is worked out
   again from what is still unpaid, what a guarantor pays comes off the debt
   it covers, and they are never accelerated (:class:`_Contingent`).

**Fire sales on a path** (methods that sell assets, ``fire-sale`` and
``fire-sale-leverage``; :mod:`contagion.clearing.firesale`). The units of
each asset an institution holds (node columns ``asset_units`` /
``asset_units_<name>``) and the price of each asset are carried like cash:
units sold in year ``t`` are gone in ``t + 1``, and the price starts year
``t + 1`` where year ``t`` ended. Prices start at 1 and do **not recover**
within the horizon: with ``q = start x exp(-impact x units sold)`` each
year, the price in any year is ``exp(-impact x all units sold so far)`` --
the secondary market remembers every forced sale (a deliberate, conservative
choice: nothing in the references or the data gives a recovery speed). The
cash an institution carries is its liquid equity (after paying, sale proceeds
included, the units it keeps not counted: they are carried as units).
Collateral that names an ``asset`` in ``collateral.csv`` follows the price:
its straight-line value times the asset's price at the start of the year
(the price where the year before ended) over its starting price, 1; the
rollover decision of step 1 sees that value. With ``impact = 0`` nothing moves
a price and a fire-sale path is the Eisenberg--Noe path with each holding
counted as cash of the first year. Other methods leave holdings and prices
alone (collateral is then at its straight-line value).

A network without dated columns is the same network every year, so a
one-year horizon equals a plain :func:`contagion.clear`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..errors import ContagionError, InvalidNetworkError
from .result import PathResult
from .rules import PathRules, path_rules
from .schedule import DATED_COLUMNS, ROLLOVER_RULES, schedule_of
from .tables import Cashflows, CollateralTable, network_folders, read_cashflows, read_collateral

__all__ = ["clear_path", "MAX_YEARS", "HorizonWarning", "AccelerationWarning", "FAR_YEARS"]

#: Longest horizon accepted (years).
MAX_YEARS = 200


class AccelerationWarning(UserWarning):
    """A year of a path whose default set changes with the acceleration of its defaulters' debts without
    settling (see :func:`_clear_accelerating`)."""


class HorizonWarning(UserWarning):
    """The horizon lies far (more than :data:`FAR_YEARS` years) from every year the network's dated data
    mentions: a horizon of ``5:5`` on data dated 2026-2035 is almost always "five years" mistyped. The path is
    computed all the same (a loan already due is due in the first year, one due later pays interest).
    Also: the dataset's default path scenario has shocks in years outside the horizon, which are left out
    (a scenario a user names is held to its years: such a shock is an error)."""


#: How far (years) a horizon may lie from the years of the dated data before :class:`HorizonWarning`.
FAR_YEARS = 100


def _data_years(sched: Any, coll: CollateralTable, flows: Cashflows) -> tuple[int, int, list[str]] | None:
    """``(first, last, where)``: the span of the years the dated data mentions (debt maturities, ``start`` /
    ``end`` of recurring amounts, ``collateral.csv`` and ``cashflows.csv`` years), and where they come from;
    ``None`` when nothing is dated."""
    found: list[tuple[str, np.ndarray]] = [
        ("maturities", sched.maturity), ("start/end years", np.concatenate([sched.start, sched.end])),
        ("collateral.csv", np.array([r[0] for rows in coll.rows.values() for r in rows], dtype=float)),
        ("cashflows.csv", np.array(list(flows.by_year), dtype=float))]
    spans = [(name, v[np.isfinite(v)]) for name, v in found]
    spans = [(name, v) for name, v in spans if v.size]
    if not spans:
        return None
    return (int(min(v.min() for _, v in spans)), int(max(v.max() for _, v in spans)), [name for name, _ in spans])


def _check_horizon(years: Sequence[int], span: tuple[int, int, list[str]] | None) -> None:
    """Warn (:class:`HorizonWarning`) when ``years`` lie more than :data:`FAR_YEARS` years from the data's span.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     _check_horizon((2026, 2027), (2028, 2035, ["maturities"]))   # before the first maturity: fine
    ...     _check_horizon((5,), (2028, 2035, ["maturities"]))
    >>> [str(w.message)[:60] for w in seen]
    ["the horizon 5:5 is 2,023 years before the network's dated da"]
    """
    if span is None:
        return
    lo, hi, where = span
    gap = lo - years[-1] if years[-1] < lo else years[0] - hi if years[0] > hi else 0
    if 0 < gap <= FAR_YEARS and "cashflows.csv" in where:
        # near, but outside every year the data names: each year is the node table's, no cash flow of its own
        side = "before" if years[-1] < lo else "after"
        warnings.warn(f"the horizon {years[0]}:{years[-1]} lies {side} every year the network's dated data names "
                      f"({lo} to {hi}: {', '.join(where)}): no year of it has cash flows of its own; the data's "
                      f"years are e.g. {lo}:{min(hi, lo + 4)}", HorizonWarning, stacklevel=3)
    elif gap > FAR_YEARS:
        side = "before" if years[-1] < lo else "after"
        warnings.warn(f"the horizon {years[0]}:{years[-1]} is {gap:,} years {side} the network's dated data, which "
                      f"runs from {lo} to {hi} "
                      f"({', '.join(where)}); a horizon is calendar years, first and last (e.g. "
                      f"{lo}:{min(hi, lo + 4)})", HorizonWarning, stacklevel=3)


def _default_within(scen: Any, years: Sequence[int]) -> tuple[Any, list[int]]:
    """``(scenario, years left out)``: the shocks of the dataset's default path scenario that fall in ``years``
    (a shock dated in several years keeps those in the horizon; a lender freeze or a collateral rule dated
    before the first year applies from it, as :func:`~.rules.path_rules` reads it)."""
    from dataclasses import replace

    first, last = years[0], years[-1]
    kept, out = [], set()
    for s in scen.shocks:
        dated = [s.year] if s.year is not None else list(s.years or [])
        inside = [y for y in dated if first <= y <= last or (s.kind in ("freeze", "collateral") and y < first)]
        out.update(y for y in dated if y not in inside)
        if not dated or (s.year is not None and inside):
            kept.append(s)
        elif inside:
            kept.append(replace(s, years=tuple(inside)))
    return replace(scen, shocks=tuple(kept)), sorted(out)


def _horizon(horizon: Any) -> tuple[int, ...]:
    try:
        first, last = horizon
        first_i, last_i = int(first), int(last)
        ok = first_i == first and last_i == last and not isinstance(first, bool) and not isinstance(last, bool)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ContagionError(f"horizon must be two whole years (first, last), got {horizon!r}")
    if last_i < first_i:
        raise ContagionError(f"horizon {first_i}:{last_i}: the last year is before the first")
    if last_i - first_i + 1 > MAX_YEARS:
        raise ContagionError(f"horizon {first_i}:{last_i}: at most {MAX_YEARS} years")
    return tuple(range(first_i, last_i + 1))


def _tables(net: Any, collateral: Any, cashflows: Any) -> tuple[CollateralTable, Cashflows]:
    """The collateral and cash-flow tables: given, or read from the network's folder when there."""
    if collateral is None or cashflows is None:
        for folder in network_folders(net):     # (a directory of that name is read, and reported, too)
            if collateral is None and (folder / "collateral.csv").exists():
                collateral = folder / "collateral.csv"
            if cashflows is None and (folder / "cashflows.csv").exists():
                cashflows = folder / "cashflows.csv"
    problems: list = []     # both tables are read before a problem is raised: every one is listed
    tables: list[Any] = []
    for given, kind, read in ((collateral, CollateralTable, read_collateral),
                              (cashflows, Cashflows, lambda path: read_cashflows(path, net))):
        try:
            tables.append(kind() if given is None else given if isinstance(given, kind) else read(given))
        except InvalidNetworkError as exc:
            problems += exc.problems
    if problems:
        raise InvalidNetworkError(problems)
    coll, flows = tables
    return coll, flows


def dated_problems(net: Any) -> list:
    """Every problem of ``net``'s multi-year data (DESIGN §7): its dated columns (:func:`schedule_of`), the
    ``collateral.csv`` and ``cashflows.csv`` beside it, and the collateral ids its rows name; ``[]`` when
    there is none. What every command that reads a network checks, with or without a horizon, so that a value
    a path would reject is never used silently by a one-year run. Costs nothing for a network without those
    columns and tables (a look at the column names and the folder)."""
    folders = network_folders(net)
    tables = [f / name for f in folders for name in ("collateral.csv", "cashflows.csv")]
    if not any(c in net.edges.columns for c in DATED_COLUMNS) and not any(p.exists() for p in tables):
        return []
    problems: list = []
    sched = None
    try:
        sched = schedule_of(net)
    except InvalidNetworkError as exc:
        problems += exc.problems
    try:
        coll, _ = _tables(net, None, None)
    except InvalidNetworkError as exc:
        problems += exc.problems
    else:
        if sched is not None:
            try:
                _check_collateral(net, sched, coll)
            except InvalidNetworkError as exc:
                problems += exc.problems
    return problems


def clear_path(net: Any, horizon: tuple[int, int], scenarios: Iterable[Any] | Any | None = (),
               method: str = "eisenberg-noe", *, collateral: Any = None, cashflows: Any = None,
               **params: Any) -> PathResult:
    """Clear a network year by year over ``horizon = (first, last)`` (inclusive).

    Parameters
    ----------
    net : FinancialNetwork
        With the optional dated columns of DESIGN §7 in its edge table
        (:mod:`contagion.paths.schedule`).
    horizon : (int, int)
        First and last year.
    scenarios : as for :func:`contagion.stress`
        ``()`` (default): none; ``None``: the dataset's default path scenario
        (``default_path_scenario`` of its ``dataset.toml``, else its
        ``default_scenario``). Shocks without a ``year`` apply every year; the others in their years;
        ``freeze`` and ``collateral`` shocks set the lender and collateral rules.
    method : str
        ``"eisenberg-noe"`` or ``"rogers-veraart"`` (``alpha``, ``beta`` in
        ``params``), or ``"fire-sale"`` / ``"fire-sale-leverage"``
        (``impact``, ``leverage``): holdings and prices carried from year to
        year (module docstring); ``params`` go to :func:`contagion.clear`
        (``solver`` too).
    collateral, cashflows : path, table or None
        ``collateral.csv`` and ``cashflows.csv``; default: the files in the
        network's folder, if any (:mod:`contagion.paths.tables`).

    Returns
    -------
    PathResult

    Raises
    ------
    InvalidNetworkError
        A bad value in a dated column or in the two tables (file, row, column, value).
    ContagionError
        A bad horizon, an unknown method, a collateral id that is not defined,
        a collateral ``asset`` the network does not hold (located in collateral.csv).

    Notes
    -----
    The order of the steps within a year and its references are in the
    module docstring (:mod:`contagion.paths.engine`).

    Examples
    --------
    A bullet loan of 100 at 10% from A to B, due in 2028; A earns 40 a year and
    carries its cash. It pays 10 of interest in 2026 and 2027 (keeping 30 each
    year) and owes 110 in 2028 with 100 in hand: it defaults in 2028.

    >>> import contagion, pandas as pd
    >>> net = contagion.FinancialNetwork.from_edges(
    ...     pd.DataFrame({"debtor": ["A"], "creditor": ["B"], "amount": [10.0], "principal": [100.0],
    ...                   "rate": [0.1], "maturity": [2028]}),
    ...     pd.DataFrame({"id": ["A", "B"], "external_assets": [40.0, 0.0]}))
    >>> path = clear_path(net, (2026, 2028))
    >>> path.default_year, path.payments[:, 0].tolist()
    ((2028, None), [10.0, 10.0, 100.0])

    With ``rollover = "always"`` the principal is re-lent, and A keeps paying interest:

    >>> rolled = net.replace(metadata={})
    >>> import contagion.paths as paths
    >>> net2 = contagion.FinancialNetwork.from_edges(
    ...     pd.DataFrame({"debtor": ["A"], "creditor": ["B"], "amount": [10.0], "principal": [100.0],
    ...                   "rate": [0.1], "maturity": [2028], "rollover": ["always"]}),
    ...     pd.DataFrame({"id": ["A", "B"], "external_assets": [40.0, 0.0]}))
    >>> p2 = clear_path(net2, (2026, 2028))
    >>> p2.default_year, p2.rolled_principal.tolist()
    ((None, None), [0.0, 0.0, 100.0])

    Fire sales carry units and prices: N must pay 11 in 2026 from 10 GPU units
    and sells them all (price exp(-0.1)); in 2027 it holds none, V still holds
    its 8, and the price starts (and, nobody selling, stays) where 2026 ended:

    >>> gpu = contagion.FinancialNetwork.from_edges(
    ...     pd.DataFrame({"debtor": ["N"], "creditor": ["F"], "amount": [11.0], "principal": [11.0],
    ...                   "rate": [0.0], "maturity": [2026]}),
    ...     pd.DataFrame({"id": ["N", "F", "V"], "asset_units": [10.0, 0, 8]}))
    >>> p3 = clear_path(gpu, (2026, 2027), method="fire-sale", impact=0.01)
    >>> p3.prices["asset"].round(4).tolist(), p3.units_held[1, :, 0].tolist(), p3.default_year
    ([0.9048, 0.9048], [0.0, 0.0, 8.0], (2026, None, None))
    """
    from ..pipeline import resolve

    years = _horizon(horizon)
    resolved, used_default = resolve(net, scenarios, path=True)
    if used_default:    # not chosen by the user: its shocks outside the horizon are left out, with a warning
        trimmed, left_out = _default_within(resolved[0], years)
        if left_out:
            warnings.warn(f"the default path scenario '{trimmed.name}' has shocks in "
                          f"{', '.join(map(str, left_out))}, outside the horizon {years[0]}:{years[-1]}: "
                          "they are left out", HorizonWarning, stacklevel=2)
            resolved = (trimmed,)
    rules = path_rules(net, resolved, years)
    sched = schedule_of(net)
    coll, flows = _tables(net, collateral, cashflows)
    _check_collateral(net, sched, coll)
    _check_horizon(years, _data_years(sched, coll, flows))
    state = _State.start(net, sched, years, flows, _sells(method))
    steps = [state.year(k, t, rules, coll, method, params) for k, t in enumerate(years)]
    stack = lambda key: np.array([getattr(step, key) for step in steps])  # noqa: E731
    names = state.asset_names
    return PathResult(
        network=net, years=years, scenarios=tuple(resolved), default_applied=used_default,
        payments=stack("payments"), obligations=stack("obligations"), shortfall=stack("shortfall"),
        equity=stack("equity"), external_assets=stack("external_assets"), cash=stack("cash"),
        defaulted=stack("defaulted"), default_round=stack("default_round"), rolled_principal=stack("rolled"),
        called_principal=stack("called"), rolled_by_row=stack("rolled_rows"), called_by_row=stack("called_rows"),
        clearings=tuple(s.clearing for s in steps),
        bases=tuple(s.base for s in steps), method=method,
        params=dict(steps[0].clearing.params) if steps else dict(params),
        asset_names=names, prices={a: stack("prices")[:, k] for k, a in enumerate(names)},
        units_held=stack("units_held") if names else None, units_sold=stack("units_sold") if names else None,
        guarantees_given=None if state.contingent is None else stack("guarantees_given"),
    )


def _sells(method: str) -> bool:
    """Whether the method sells assets (takes ``holdings=``): its holdings and prices are carried on a path."""
    import inspect

    from ..clearing import CLEARING_METHODS

    func = CLEARING_METHODS.get(method)
    return func is not None and "holdings" in inspect.signature(func).parameters


@dataclass
class _Year:
    """What one year of a path produced."""

    clearing: Any
    base: Any
    payments: np.ndarray
    obligations: np.ndarray
    shortfall: np.ndarray
    equity: np.ndarray
    external_assets: np.ndarray
    cash: np.ndarray
    defaulted: np.ndarray
    default_round: np.ndarray
    rolled: float
    called: float
    rolled_rows: np.ndarray
    called_rows: np.ndarray
    units_held: np.ndarray           # (n, K) at the start of the year
    units_sold: np.ndarray           # (n, K) in the year
    prices: np.ndarray               # (K,) where the year ended
    guarantees_given: float = np.nan  # caps of guarantees still in force this year (NaN: none in the network)


@dataclass
class _State:
    """The state carried from one year to the next (the only mutable object of a path)."""

    net: Any
    sched: Any
    years: tuple[int, ...]
    money: list                      # (outside assets, outside liabilities) of each year
    outstanding: np.ndarray          # principal outstanding per row
    maturity: np.ndarray             # current maturity per row (moves when rolled)
    remainder: np.ndarray            # unpaid amounts owed again next year, per row
    remainder_ext: np.ndarray        # unpaid outside liabilities owed again next year
    cash: np.ndarray                 # cash carried into the next year
    defaulted: np.ndarray
    asset_names: tuple[str, ...]     # assets carried (only for a method that sells them)
    units: np.ndarray                # (n, K) units held at the start of the next year
    prices: np.ndarray               # (K,) prices at the start of the next year (1 at the start of the horizon)
    contingent: "_Contingent | None" = None   # guarantees and residual value guarantees, if any
    contingent_paid: np.ndarray | None = None  # paid so far on each of their rows (their caps are for the path)
    secured: "_Secured | None" = None          # obligations with a collateral_value, if any

    @classmethod
    def start(cls, net: Any, sched: Any, years: tuple[int, ...], flows: Cashflows, sells: bool) -> "_State":
        from ..clearing.firesale import asset_holdings

        from ..clearing.priority import contingent_spec, uses_priority

        names, units = asset_holdings(net) if sells else ((), np.zeros((net.n, 0)))
        # the DESIGN §8 columns, read once (collateral is held to each year's amount, not to the static one)
        spec = contingent_spec(net, collateral_within_amount=False) if uses_priority(net) else None
        return cls(net=net, sched=sched, years=years,
                   money=[flows.for_year(y, net.external_assets, net.external_liabilities) for y in years],
                   outstanding=sched.principal.copy(), maturity=sched.maturity.copy(), remainder=np.zeros(net.n_edges),
                   remainder_ext=np.zeros(net.n), cash=np.zeros(net.n), defaulted=np.zeros(net.n, dtype=bool),
                   asset_names=names, units=units, prices=np.ones(len(names)), contingent=_Contingent.of(spec, net),
                   contingent_paid=np.zeros(net.n_edges), secured=_Secured.of(net, spec))

    def _market(self) -> dict[str, Any]:
        """What a selling method is told of the market this year: the units held and the starting prices."""
        if not self.asset_names:
            return {}
        return {"holdings": {a: self.units[:, k].copy() for k, a in enumerate(self.asset_names)},
                "start_prices": dict(zip(self.asset_names, self.prices.tolist()))}

    def year(self, k: int, t: int, rules: PathRules, coll: CollateralTable, method: str, params: dict) -> _Year:
        """Steps 1-4 of the module docstring for year ``t`` (the ``k``-th of the horizon)."""
        sched, (di, ci) = self.sched, self.net.edge_index
        open_row = ~self.defaulted[di] & (sched.start <= t)         # rows of debtors not yet in default
        # 1. rollover decisions on the state at the start of the year
        principal_due = _principal_due(sched, self.outstanding, self.maturity, t) * open_row
        prices = dict(zip(self.asset_names, self.prices.tolist()))
        roll = _rolls(sched, rules, coll, principal_due, self.outstanding, self.maturity, self.defaulted, ci, t, prices)
        self.maturity = np.where(roll, t + sched.term, self.maturity)
        called = np.where(roll, 0.0, principal_due)
        # 2. what falls due
        interest = np.where(sched.is_debt & open_row, sched.rate * self.outstanding, 0.0)
        recurring = sched.recurring_due(t)
        due = np.where(~self.defaulted[di], recurring, 0.0) + interest + called
        cont = self.contingent
        if cont is not None:      # a guarantee stays in force against a defaulter's estate (never accelerated)
            due = np.where(cont.rows, recurring, due)
        base, year_net = rules.year_network(self.net, t, due, *self.money[k])
        # rows that cannot fall due this year owe nothing, whatever a shock sets their amount to: a recurring row
        # outside its start/end years, a loan not yet lent or already repaid, any debt of an institution in
        # default since an earlier year (all it owed fell due then; guarantees stay in force against the estate)
        closed = sched.outside_years(t) | (sched.is_debt & ((sched.start > t) | (self.outstanding <= 0))) \
            | (self.defaulted[di] & (False if cont is None else ~cont.rows))
        amounts, given, e_year, ext_year = self._carried(year_net, closed)
        # the year's network before its shocks, carried as the year is (cash in, unpaid amounts owed again):
        # the scenario's shock, the pre-shock equity and the losses are measured against it
        b_amounts, _, b_e, b_ext = self._carried(base, closed)
        base = _with(base, b_amounts, b_e, b_ext, self.secured)

        # 3. clearing with acceleration, to a fixed default set
        def later() -> tuple[np.ndarray, np.ndarray]:
            rows, ext_later = _future(self.net, sched, rules, self.years[k + 1:], self.money[k + 1:],
                                      None if cont is None else cont.rows)
            return rows + self._accelerated_principal(rules, t, due, self.outstanding - called), ext_later
        held = self.units
        cur, res, accelerated, wave = _clear_accelerating(year_net, amounts, e_year, ext_year, self.defaulted,
                                                          later, method, {**params, **self._market()}, self.secured,
                                                          year=t)
        # 4. carry forward
        self._carry(cur, res, accelerated, called)
        sold = res.units_sold if self.asset_names else np.zeros_like(held)
        return _Year(clearing=res, base=base, payments=res.payments, obligations=res.network.total_obligations,
                     shortfall=res.shortfall, equity=res.equity, external_assets=e_year, cash=self.cash,
                     defaulted=self.defaulted, default_round=np.where(accelerated, wave, -1),
                     rolled=float(principal_due[roll].sum()), called=float(called.sum()),
                     rolled_rows=np.where(roll, principal_due, 0.0), called_rows=called,
                     units_held=held, units_sold=sold, prices=self.prices, guarantees_given=given)

    def _accelerated_principal(self, rules: PathRules, t: int, due: np.ndarray,
                               outstanding_after: np.ndarray) -> np.ndarray:
        """The principal still outstanding after this year on each debt that has started (a loan whose ``start``
        is later is not lent to a borrower in default), as it falls due on default in ``t``: under the shocks
        that apply in every year, which change the obligation itself -- what they make of the year's dues plus
        the principal, less what they make of the dues (a loan cancelled by ``factor = 0`` stays cancelled,
        one halved owes half its principal, one set to ``value = 10`` owes 10 in all). A dated shock changes
        one year's payment (a payment holiday), not the principal: that is accelerated in full."""
        sched = self.sched
        principal = np.where(sched.is_debt & (sched.start <= t), np.maximum(outstanding_after, 0.0), 0.0)
        if not rules.shocks or not principal.any():
            return principal
        shocked = rules.every_year_amounts(self.net, t, due + principal) - rules.every_year_amounts(self.net, t, due)
        return np.where(principal > 0, np.maximum(shocked, 0.0), 0.0)

    def _carried(self, net_t: Any, closed: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        """``(amounts, caps in force, outside assets, outside liabilities)`` of a year's network ``net_t`` with
        what earlier years carry into it: unpaid amounts owed again, cash in hand, guarantees' caps less what was
        paid on them; a ``closed`` row (one that cannot fall due this year) owes nothing, whatever a shock sets."""
        amounts = np.where(closed, 0.0, net_t.edges["amount"].to_numpy(dtype=np.float64)) + self.remainder
        given = np.nan
        if self.contingent is not None:     # caps are for the whole path: what was paid on them earlier is gone
            amounts, given = self.contingent.in_force(amounts, self.contingent_paid)
        # a defaulter's later outside liabilities were accelerated into its default year: only the unpaid rest
        ext = np.where(self.defaulted, 0.0, net_t.external_liabilities) + self.remainder_ext
        return amounts, given, net_t.external_assets + self.cash, ext

    def _carry(self, cur: Any, res: Any, accelerated: np.ndarray, called: np.ndarray) -> None:
        """Unpaid amounts owed again, principal repaid or accelerated, cash kept, defaults absorbed."""
        di, _ = self.net.edge_index
        # what each row owed (guarantees as called, not their caps) and, where the debtor ranked its claims,
        # what each row was paid; otherwise pro rata
        owed = res.network
        pbar = owed.total_obligations
        frac = np.divide(res.payments, pbar, out=np.ones(self.net.n), where=pbar > 0)
        rows = owed.edges["amount"].to_numpy(dtype=np.float64)
        paid = res.row_payments if res.row_payments is not None else rows * frac[di]
        self.remainder = np.maximum(rows - paid, 0.0)
        if self.secured is not None:
            self.secured.carry(cur, res.defaulted[di], paid)
        if self.contingent is not None:
            self.remainder = self.contingent.carry(self.remainder, paid, self.contingent_paid)
        ext_paid = res.payments - np.bincount(di, weights=paid, minlength=self.net.n)
        self.remainder_ext = np.maximum(owed.external_liabilities - ext_paid, 0.0)
        self.remainder[self.remainder <= 1e-12 * rows] = 0.0          # rounding of a payment in full
        self.remainder_ext[self.remainder_ext <= 1e-12 * cur.external_liabilities] = 0.0
        self.outstanding = np.where(accelerated[di], 0.0, self.outstanding - called)
        # what is left after paying (an estate that pays its debts in full keeps the rest)
        # (a fire-sale clearing's equity marks unsold holdings at the price: only its liquid part is cash)
        liquid = getattr(res, "liquid_equity", None)
        self.cash = np.where(res.defaulted, 0.0, np.maximum(res.equity if liquid is None else liquid, 0.0))
        self.defaulted = self.defaulted | accelerated
        if self.asset_names:     # units sold are gone; the next year starts at this year's prices (no recovery)
            self.units = np.maximum(self.units - res.units_sold, 0.0)
            self.prices = np.array([res.prices[a] for a in self.asset_names])


@dataclass(frozen=True)
class _Contingent:
    """Guarantees and residual value guarantees on a path (DESIGN §8 carried over the years of §7).

    - A cap (``amount``) is for the whole path, not for each year: what the guarantor has paid on a row in
      earlier years comes off it. A residual value guarantee owes ``min(cap, max(0, K - V))`` once over the
      path (less what it has paid); a guarantee owes, each year, ``min(cap left, the unpaid part of the
      covered obligation)`` -- the covered obligation's unpaid rest of earlier years included.
    - What a guarantor pays on a covered obligation is paid to its creditor in the debtor's stead: that much
      less stays owed by the debtor the next year (the creditor never recovers more than its claim; the
      guarantor is not given a claim on the debtor). A guarantee owed to someone else (protection bought by
      a third party) pays that party and relieves nobody's debt.
    - A guarantee is not carried as a debt of its own: its call is worked out again each year from what is
      still unpaid. It stays in force when the guarantor defaults (its estate pays pro rata) and is not
      accelerated; the active years of a row (``start``/``end``) apply as for any recurring amount.
    """

    guarantee: np.ndarray       # bool per row
    residual: np.ndarray        # bool per row
    gap: np.ndarray             # max(0, K - V) of each residual value guarantee row
    covers: np.ndarray          # covered row of each guarantee row (-1 elsewhere)
    to_creditor: np.ndarray     # guarantee rows owed to the creditor of the row they cover (they pay in its stead)

    @property
    def rows(self) -> np.ndarray:
        return self.guarantee | self.residual

    @classmethod
    def of(cls, spec: Any, net: Any) -> "_Contingent | None":
        """From the network's :class:`~contagion.clearing.priority.ContingentSpec` (``None``: no DESIGN §8
        columns)."""
        from ..clearing.priority import call_rows

        if spec is None or not (spec.guarantee.any() or spec.residual.any()):
            return None
        same = call_rows(net, spec)
        return cls(guarantee=spec.guarantee, residual=spec.residual, gap=spec.shortfall_value, covers=spec.covers,
                   to_creditor=np.zeros(len(spec.guarantee), dtype=bool) if same is None else same)

    def in_force(self, amounts: np.ndarray, paid: np.ndarray) -> tuple[np.ndarray, float]:
        """The year's amounts with each contingent row at what is left of it after ``paid`` (the row's cap this
        year, after the year's shocks and ``start``/``end``), and the caps left in force (summed)."""
        left = np.maximum(amounts - paid, 0.0)
        out = amounts.copy()
        out[self.guarantee] = left[self.guarantee]
        out[self.residual] = np.maximum(np.minimum(amounts, self.gap) - paid, 0.0)[self.residual]
        return out, float(left[self.rows].sum())

    def carry(self, remainder: np.ndarray, paid: np.ndarray, paid_so_far: np.ndarray) -> np.ndarray:
        """What stays owed on each row after a year in which ``paid`` was paid on each row (``paid_so_far`` is
        updated in place): nothing on contingent rows, and a covered row's unpaid rest less what its guarantors
        paid on it."""
        g = np.flatnonzero(self.guarantee)
        # a guarantee of a guarantee pays on the covered guarantor's behalf: what it pays counts as paid on that
        # guarantee too (its cap, and the relief of the debt it covers), down the chain (guarantees form no
        # cycle) -- as long as each link is owed to the creditor of the row it covers
        effective = paid.astype(np.float64, copy=True)
        for r in g[self.guarantee[self.covers[g]] & self.to_creditor[g]]:     # the (few) guarantees of guarantees
            c = int(self.covers[r])
            while self.guarantee[c]:
                effective[c] += paid[r]
                if not self.to_creditor[c]:
                    break
                c = int(self.covers[c])
        paid_so_far += np.where(self.rows, effective, 0.0)
        on_debt = g[~self.guarantee[self.covers[g]] & self.to_creditor[g]]
        relief = np.bincount(self.covers[on_debt], weights=effective[on_debt], minlength=remainder.size)
        return np.where(self.rows, 0.0, np.maximum(remainder - relief, 0.0))


@dataclass
class _Secured:
    """Obligations with a ``collateral_value`` on a path.

    The collateral secures the whole debt, not one year's instalment: each year its creditor is paid first
    from what the collateral is still worth to it, up to what falls due that year -- ``min(collateral left,
    amount due)``, so a loan of 100 at 5% secured by 80 is secured for its 5 of interest before maturity and
    for 80 of what falls due at maturity or on default. The collateral is used up only by what the secured
    creditor is paid while the debtor is in default (its estate realises it); payments in full do not touch it.
    """

    value: np.ndarray       # collateral_value per row (NaN: unsecured)
    used: np.ndarray        # realised so far

    @classmethod
    def of(cls, net: Any, spec: Any) -> "_Secured | None":
        """From the network's :class:`~contagion.clearing.priority.ContingentSpec` (``None``: no DESIGN §8
        columns); ``None`` when no obligation is secured."""
        if spec is None or not (spec.collateral > 0).any():
            return None
        return cls(value=np.where(spec.collateral > 0, spec.collateral, np.nan), used=np.zeros(net.n_edges))

    def column(self, amounts: np.ndarray) -> np.ndarray:
        """The year's ``collateral_value`` column for these amounts."""
        left = np.maximum(self.value - self.used, 0.0)
        return np.where(np.isnan(self.value), np.nan, np.minimum(left, amounts))

    def carry(self, cur: Any, in_default: np.ndarray, paid: np.ndarray) -> None:
        """What the secured creditors were paid this year from their collateral, rows whose debtor is in default
        (``in_default``, per row)."""
        secured = cur.edges["collateral_value"].to_numpy(dtype=np.float64)
        self.used += np.where(in_default & np.isfinite(secured), np.minimum(paid, np.nan_to_num(secured)), 0.0)


def _clear_accelerating(year_net: Any, amounts: np.ndarray, e: np.ndarray, ext: np.ndarray, defaulted: np.ndarray,
                        later: Callable[[], tuple[np.ndarray, np.ndarray]], method: str, params: dict,
                        secured: "_Secured | None" = None, year: int | None = None):
    """Clear the year (``year``, for messages) with the later debts of this year's defaulters accelerated, to a
    consistent default set: the institutions whose debts are accelerated are exactly those the clearing finds in
    default. Returns ``(network cleared, result, accelerated, wave)``.

    A default is decided on the year's own dues (DESIGN §2: short of what falls due), not on the accelerated
    amounts, which it causes: an institution whose own acceleration alone would leave it short is not in
    default. Accelerating a defaulter's debts raises its creditors' pro-rata shares of what it pays, so an
    institution in default before the acceleration can pay in full after it (and another one fall short): the
    set found is cleared again with its own acceleration until it reproduces itself. Should the sets go round
    in a cycle, every institution met on it is accelerated and the set grows from there until it is closed (a
    :class:`AccelerationWarning` names them).
    """
    from ..clearing import clear
    from ..clearing.core import tie_tolerance

    di, _ = year_net.edge_index
    n = year_net.n
    extra = np.zeros(n)                                          # what acceleration adds to each one's dues
    accelerated = np.zeros(n, dtype=bool)
    wave = np.full(n, -1, dtype=np.int64)                        # wave of the clearing that first found it
    future = None
    seen: set[bytes] = set()
    grow = False                                                  # after a cycle: only ever add
    while True:
        if accelerated.any():
            future = later() if future is None else future
            rows, ext_later = np.where(accelerated[di], future[0], 0.0), np.where(accelerated, future[1], 0.0)
            cur = _with(year_net, amounts + rows, e, ext + ext_later, secured)
            extra = np.bincount(di, weights=rows, minlength=n) + ext_later
        else:
            cur = _with(year_net, amounts, e, ext, secured)
        res = clear(cur, method=method, **params)
        now = res.defaulted & ~defaulted
        if accelerated.any():     # what it has (its equity on the accelerated debts plus them) covers its dues:
            owed = res.network.total_obligations            # (guarantees as called, not their caps)
            has, due = res.equity + owed, owed - extra
            now &= ~(accelerated & ~cur.forced_default & (has >= due - tie_tolerance(due)))
        if grow:
            now |= accelerated
        if np.array_equal(now, accelerated):
            return cur, res, accelerated, wave
        key = np.packbits(now).tobytes()
        if key in seen and not grow:
            cycle = now | accelerated
            warnings.warn(f"{year if year is not None else 'a year'}: accelerating the debts of "
                          f"{_names(year_net, cycle ^ (now & accelerated))} changes who else defaults, round and "
                          f"round; all of them are taken to default", AccelerationWarning, stacklevel=4)
            now, grow = cycle, True
        seen.add(key)
        new = now & ~accelerated
        found = np.maximum(np.asarray(res.default_round)[new], 0)
        wave[new] = np.maximum(found, wave.max() + 1) if accelerated.any() else found
        wave[~now] = -1                                           # solvent once others' debts are accelerated
        accelerated = now


def _names(net: Any, mask: np.ndarray, limit: int = 6) -> str:
    who = [str(net.names[i]) for i in np.flatnonzero(mask)]
    return ", ".join(who[:limit]) + (f" and {len(who) - limit} more" if len(who) > limit else "")


def _principal_due(sched: Any, outstanding: np.ndarray, maturity: np.ndarray, t: int) -> np.ndarray:
    """Principal due in ``t`` on each row (bullet: all at maturity or after; linear: equal parts until then)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        left = maturity - t + 1                                      # installments left, this one included
        linear = np.where(left >= 1, outstanding / np.maximum(left, 1.0), outstanding)
        bullet = np.where(maturity <= t, outstanding, 0.0)
    due = np.where(sched.amortization == 1, linear, bullet)
    return np.where(sched.is_debt & (outstanding > 0), due, 0.0)


def _rolls(sched: Any, rules: PathRules, coll: CollateralTable, principal_due: np.ndarray, outstanding: np.ndarray,
           maturity: np.ndarray, defaulted: np.ndarray, ci: np.ndarray, t: int, prices: dict[str, float]) -> np.ndarray:
    """Rows whose principal due in ``t`` is rolled (decided on the state at the start of ``t``): only at maturity
    (DESIGN §7: a rolled principal is re-lent at maturity), so a linear loan's instalments before it are paid.

    ``ltv`` judges the whole principal still outstanding against the collateral (not only the instalment due),
    valued at the prices the year starts with when it follows an asset.
    """
    lender_ok = ~defaulted[ci] & ~(rules.frozen_from[ci] <= t) & (maturity <= t)
    roll = (principal_due > 0) & lender_ok & (sched.rollover == ROLLOVER_RULES["always"])
    ltv = np.flatnonzero((principal_due > 0) & lender_ok & (sched.rollover == ROLLOVER_RULES["ltv"]))
    for r in ltv:
        key = sched.collateral[r]
        value = coll.value_at(key, t, *rules.factors(key, t)) * coll.price_factor(key, prices)
        roll[r] = value * sched.max_ltv[r] >= outstanding[r]
    return roll


def _future(base: Any, sched: Any, rules: PathRules, later: Sequence[int],
            later_money: Sequence[tuple[np.ndarray, np.ndarray]],
            contingent: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What each row and each institution would owe in the later years of the horizon besides debt principal
    (accelerated on default; the principal: :meth:`_State._accelerated_principal`): the recurring amounts and
    outside liabilities of each later year (with that year's shocks). Guarantees and residual value guarantees
    (``contingent`` rows) are not accelerated: what they will owe is not known yet, and they stay in force
    against the estate."""
    rows = np.zeros(len(sched.is_debt))
    ext = np.zeros(base.n)
    skip = sched.is_debt if contingent is None else sched.is_debt | contingent
    for y, (e_y, ext_y) in zip(later, later_money):
        net_y = rules.year_network(base, y, sched.recurring_due(y), e_y, ext_y)[1]
        rows = rows + np.where(skip | sched.outside_years(y), 0.0, net_y.edges["amount"].to_numpy(dtype=np.float64))
        ext = ext + net_y.external_liabilities
    return rows, ext


def _with(net: Any, amounts: np.ndarray, e: np.ndarray, ext: np.ndarray, secured: "_Secured | None" = None) -> Any:
    """``net`` with these amounts and outside money (``net`` itself when nothing changes); a
    :class:`~contagion.ContagionError` naming the first obligation or institution whose amount (carried and
    accelerated amounts included) adds up past the largest float."""
    with np.errstate(over="ignore", invalid="ignore"):
        big = [(k, "obligation") for k in np.flatnonzero(~np.isfinite(amounts))[:1]] or \
              [(k, "outside money") for k in np.flatnonzero(~np.isfinite(e) | ~np.isfinite(ext))[:1]]
    if big:
        k, what = big[0]
        di, ci = net.edge_index
        who = f"{net.names[di[k]]} -> {net.names[ci[k]]}" if what == "obligation" else net.names[k]
        raise ContagionError(f"on the path, the {what} of {who} (its amounts of later years accelerated, or unpaid "
                             f"amounts carried, included) adds up past the largest float (1.8e308): give the "
                             f"amounts in a larger unit, e.g. billions")
    kw: dict[str, Any] = {}
    if not np.array_equal(amounts, net.edges["amount"].to_numpy(dtype=np.float64)):
        kw["edge_amounts"] = amounts
    if secured is not None:
        kw["edge_columns"] = {"collateral_value": secured.column(amounts)}
    if not np.array_equal(e, net.external_assets):
        kw["external_assets"] = e
    if not np.array_equal(ext, net.external_liabilities):
        kw["external_liabilities"] = ext
    return net.replace(**kw) if kw else net


def _check_collateral(net: Any, sched: Any, coll: CollateralTable) -> None:
    """Every collateral id used by a rule or named while a collateral table exists must be defined."""
    import pandas as pd

    from ..errors import Problem
    from ..io.rows import located_problems, table_rows

    rows = table_rows(net, "edges")
    problems = []
    given = coll.file is not None or len(coll.rows) > 0     # a table exists (a header-only file is one)
    named = sched.collateral != None  # noqa: E711 -- elementwise: the rows that name a collateral id
    needed = named & ((sched.rollover == ROLLOVER_RULES["ltv"]) | given)
    if needed.any():
        keys = pd.Series(sched.collateral[needed])
        unknown = np.flatnonzero(needed)[~keys.isin(list(coll.rows)).to_numpy()]
        why = (f" (ids: {', '.join(sorted(coll.rows))})" if coll.rows else
               f" ({coll.file} has no rows)" if coll.file is not None else " (no collateral.csv beside the network)")
        problems += [Problem(f"collateral {sched.collateral[r]!r} is not in collateral.csv{why}", rows.file,
                             int(r) + rows.offset, "collateral") for r in unknown]
    if coll.assets:
        from ..clearing.firesale import asset_holdings

        names, units = asset_holdings(net)          # (a column of blanks or zeros: nobody holds that asset)
        held = tuple(a for a, total in zip(names, units.sum(axis=0)) if total > 0)
        for key, asset in coll.assets.items():
            if asset not in held:
                where, row = coll.asset_rows.get(key, (None, None))
                problems.append(Problem(f"collateral {key!r} follows asset {asset!r}, which no institution holds "
                                        f"(assets: {', '.join(held) if held else 'none'}; node columns asset_units "
                                        f"= 'asset', asset_units_<name> = '<name>')", where, row, "asset"))
    if problems:
        raise InvalidNetworkError(located_problems(net, problems))
