"""The report in words: who defaults and who bears the loss, and the shocks described with names, not ids."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..formatting import fmt_amount

#: the label of what creditors outside the network lose
OUTSIDE = "outside creditors"
#: the label of what a guarantor leaves unpaid of calls owed to the covered obligation's creditor (a loss already
#: counted on the obligation the call covers)
CALLS = "its guarantee calls"


# ====================================================================== who bears the loss
def loss_bearers(result: Any) -> pd.DataFrame:
    """What each defaulting institution leaves unpaid and who bears it (long format).

    Columns ``debtor, wave, unpaid, creditor, loss``: one row per (defaulter, creditor) pair with a
    positive loss, plus one row ``creditor = "outside creditors"`` for what the defaulter's creditors
    outside the network lose. The losses of one defaulter add up to its ``unpaid`` (its shortfall).
    A claim's loss is what it was not paid: pro rata (``amount / obligations x shortfall``) or, with
    :attr:`ClearingResult.row_payments`, the claim's own shortfall. A guarantee call owed to the covered
    obligation's creditor (:attr:`ClearingResult.call_rows`) is not a second claim: what its guarantor pays
    is borne by the guarantor (``creditor`` "<guarantor> as guarantor") instead of that creditor, and what it
    leaves unpaid is in the covered obligation's loss already (``creditor`` :data:`CALLS`). Rows are ordered by
    wave, then unpaid (descending), then loss (descending).
    """
    net = result.network
    names = list(net.names)
    short = np.asarray(result.shortfall, dtype=float)
    waves = np.asarray(result.default_round, dtype=int)
    d_idx, c_idx = (np.asarray(a) for a in net.edge_index)
    amount = net.edges["amount"].to_numpy(dtype=np.float64)
    if result.row_payments is not None:
        edge_loss = np.maximum(amount - result.row_payments, 0.0)
        to_network = np.bincount(d_idx, weights=result.row_payments, minlength=net.n)
        outside = np.maximum(net.external_liabilities - (result.payments - to_network), 0.0)
    else:
        pbar = np.asarray(net.total_obligations, dtype=float)
        frac = np.divide(short, pbar, out=np.zeros_like(pbar), where=pbar > 0)
        edge_loss = amount * frac[d_idx]
        ext = np.asarray(net.external_liabilities, dtype=float)
        outside = np.divide(ext, pbar, out=np.zeros_like(pbar), where=pbar > 0) * short
    from ..clearing.result import call_split

    split = call_split(result)
    unpaid_calls = np.zeros(net.n)
    by_guarantor: dict[tuple[int, int], float] = {}
    if split is not None:
        from ..clearing.priority import contingent_spec

        calls, (paid_as, again) = result.call_rows, split
        covers = contingent_spec(net).covers
        unpaid_calls = np.bincount(d_idx, weights=again, minlength=net.n)
        for r in np.flatnonzero(calls & (paid_as > 0)):
            c = int(covers[r])
            while calls[c]:                          # a guarantee of a guarantee: down to the debt
                c = int(covers[c])
            edge_loss[c] = max(edge_loss[c] - paid_as[r], 0.0)
            key = (int(d_idx[c]), int(d_idx[r]))
            by_guarantor[key] = by_guarantor.get(key, 0.0) + float(paid_as[r])
        # what is left of a call beyond the covered debt's money (value a default destroyed) is its creditor's
        edge_loss[calls] = np.maximum(edge_loss[calls] - again[calls], 0.0)
    rows = []
    for i in np.flatnonzero(np.asarray(result.defaulted)):
        mine = d_idx == i
        by_creditor = np.bincount(c_idx[mine], weights=edge_loss[mine], minlength=net.n)
        for j in np.flatnonzero(by_creditor > 0):
            rows.append((names[i], int(waves[i]), float(short[i]), names[j], float(by_creditor[j])))
        for (debtor, g), paid in by_guarantor.items():
            if debtor == i:
                rows.append((names[i], int(waves[i]), float(short[i]), f"{names[g]} as guarantor", paid))
        if unpaid_calls[i] > 0:
            rows.append((names[i], int(waves[i]), float(short[i]), CALLS, float(unpaid_calls[i])))
        if outside[i] > 0:
            rows.append((names[i], int(waves[i]), float(short[i]), OUTSIDE, float(outside[i])))
        if not (by_creditor > 0).any() and not outside[i] > 0 and not unpaid_calls[i] > 0:
            rows.append((names[i], int(waves[i]), float(short[i]), OUTSIDE, 0.0))
    frame = pd.DataFrame(rows, columns=["debtor", "wave", "unpaid", "creditor", "loss"])
    if frame.empty:
        return frame.astype({"wave": int, "unpaid": float, "loss": float})
    frame = frame.sort_values(["wave", "unpaid", "debtor", "loss"], ascending=[True, False, True, False],
                              kind="stable")
    return frame.reset_index(drop=True)


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def default_sentences(result: Any, *, limit: int = 5, bearers: int = 3) -> list[str]:
    """One sentence per defaulting institution (the first ``limit``, by wave then amount unpaid), e.g.
    ``"OpenAI defaults (wave 0, fundamental) and leaves 9.84 unpaid; Oracle (4.84), Microsoft (3.28) and
    outside creditors (0.97) bear it"``, then one sentence for the rest; no defaults: one sentence saying so.

    >>> import contagion
    >>> net = contagion.load_dataset("chain")
    >>> st = contagion.stress(net, ["a-fails"])
    >>> default_sentences(st.clearing)[0]
    'A defaults (wave 0, fundamental) and leaves 10.00 unpaid; B (10.00) bears it.'
    """
    frame = loss_bearers(result)
    if frame.empty:
        return ["No institution defaults."]
    out = []
    debtors = list(dict.fromkeys(frame["debtor"]))
    for name in debtors[:limit]:
        rows = frame[frame["debtor"] == name]
        wave, unpaid = int(rows["wave"].iloc[0]), float(rows["unpaid"].iloc[0])
        when = "wave 0, fundamental" if wave == 0 else f"wave {wave}"
        rows = rows[rows["loss"] > 0]
        on_calls = float(rows.loc[rows["creditor"] == CALLS, "loss"].sum())
        rows = rows[rows["creditor"] != CALLS]
        parts = [f"{c} ({fmt_amount(v)})" for c, v in zip(rows["creditor"][:bearers], rows["loss"][:bearers])]
        if len(rows) > bearers:
            rest = rows.iloc[bearers:]
            parts.append(f"{len(rest)} other creditor{'s' if len(rest) != 1 else ''} "
                         f"({fmt_amount(rest['loss'].sum())})")
        text = f"{name} defaults ({when}) and leaves {fmt_amount(unpaid)} unpaid"
        if on_calls > 0:      # the same money as part of what the debtors it guarantees leave unpaid
            text += (f", {fmt_amount(on_calls)} of it on {CALLS}, a loss counted with the debts they cover"
                     if on_calls < unpaid else f", on {CALLS}: a loss counted with the debts they cover")
        if parts:
            alone = len(rows) == 1 and rows["creditor"].iloc[0] != OUTSIDE
            text += f"; {_join(parts)} bear{'s' if alone else ''} {'the rest' if on_calls > 0 else 'it'}"
        out.append(text + ".")
    if len(debtors) > limit:
        rest = frame.drop_duplicates("debtor").iloc[limit:]
        lo, hi = int(rest["wave"].min()), int(rest["wave"].max())
        waves = f"wave {lo}" if lo == hi else f"waves {lo}\u2013{hi}"
        one = len(rest) == 1
        out.append(f"{len(rest)} more institution{'' if one else 's'} default{'s' if one else ''} ({waves}) and "
                   f"leave{'s' if one else ''} {fmt_amount(rest['unpaid'].sum())} unpaid.")
    return out


# ====================================================================== shocks in words
def fmt_sig(x: float) -> str:
    """A number rounded to 3 significant digits, without exponent or trailing zeros (whole numbers from 1,000).

    >>> [fmt_sig(v) for v in (1.45031, 155.0, 107.416667, 0.0825, 12345.6, -1.797656)]
    ['1.45', '155', '107', '0.0825', '12,346', '-1.8']
    """
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{round(x):,}"
    return np.format_float_positional(float(f"{x:.3g}"), trim="-")


def _pct(x: float) -> str:
    return fmt_sig(100 * x) + "%"


def _words(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        return _join([_words(x) for x in v]) if len(v) <= 1 else " or ".join(_words(x) for x in v)
    return str(v).replace("_", " ")


def _name_of(net: Any, key: Any) -> str:
    ids = [str(i) for i in net.ids]
    names = list(net.names)
    key = str(key)
    if key in names:
        return key
    return names[ids.index(key)] if key in ids else key


def _who(net: Any, s: Any) -> str:
    if s.target is not None:
        targets = s.target if isinstance(s.target, (tuple, list)) else (s.target,)
        return _join([_name_of(net, t) for t in targets])
    sel = dict(s.select or ())
    if set(sel) == {"type"}:
        return f"every {_words(sel['type'])}"
    return "every institution with " + _join([f"{_words(k)} {_words(v)}" for k, v in sel.items()])


def _matching_edges(net: Any, s: Any) -> pd.DataFrame:
    edges = net.edges
    mask = np.ones(len(edges), dtype=bool)
    for col, want in (s.select or ()):
        if col not in edges.columns:
            return edges.iloc[:0]
        values = want if isinstance(want, (tuple, list)) else (want,)
        mask &= edges[col].astype(str).isin([str(v) for v in values]).to_numpy()
    for col in ("debtor", "creditor"):
        want = getattr(s, col)
        if want is not None:
            values = want if isinstance(want, (tuple, list)) else (want,)
            keys = {str(v) for v in values} | {_name_of(net, v) for v in values}
            named = edges[col].map(lambda k: _name_of(net, k)).astype(str)
            mask &= (edges[col].astype(str).isin(keys) | named.isin(keys)).to_numpy()
    return edges[mask]


def _edge_words(net: Any, s: Any) -> str:
    how = f"\u00d7 {fmt_sig(s.factor)}" if s.factor is not None else f"set to {fmt_sig(s.value)}"
    rows = _matching_edges(net, s)
    if 1 <= len(rows) <= 3:
        parts = []
        for row in rows.itertuples(index=False):
            kind = f" ({_words(row.kind)})" if "kind" in rows.columns and pd.notna(row.kind) else ""
            parts.append(f"{_name_of(net, row.debtor)} \u2192 {_name_of(net, row.creditor)}{kind}")
        if len(rows) == 1:
            was = f" (was {fmt_sig(rows['amount'].iloc[0])})" if s.value is not None else ""
            return f"obligation {parts[0]}: {how}{was}"
        return f"obligations {_join(parts)}: {how}"
    what = []
    sel = dict(s.select or ())
    kind = sel.pop("kind", None)
    if s.debtor is not None:
        what.append("owed by " + _join([_name_of(net, d) for d in (s.debtor if isinstance(s.debtor, (tuple, list))
                                                                      else (s.debtor,))]))
    if s.creditor is not None:
        what.append("owed to " + _join([_name_of(net, c) for c in (s.creditor if isinstance(s.creditor,
                                                                                          (tuple, list))
                                                                      else (s.creditor,))]))
    what += [f"with {_words(k)} {_words(v)}" for k, v in sel.items()]
    head = f"{_words(kind)} obligations" if kind is not None else "obligations"
    count = f" ({len(rows)} of them)" if len(rows) else ""
    return " ".join([head, *what]) + f"{count}: {how}"


def describe_shock(shock: Any, network: Any) -> str:
    """One shock in words, with institutions' names (never ids or ``edge_id=...``) and amounts rounded to
    3 significant digits; an ``edges`` shock names each obligation as debtor \u2192 creditor (kind).

    Parameters
    ----------
    shock : Shock
    network : FinancialNetwork
        The network the shock applies to (for names and the obligations it selects).

    Examples
    --------
    >>> import contagion
    >>> from contagion.shocks import Shock
    >>> net = contagion.load_dataset("chain")
    >>> describe_shock(Shock("edges", debtor="A", creditor="B", value=1.45031), net)
    'obligation A \u2192 B (loan): set to 1.45 (was 10)'
    >>> describe_shock(Shock("external_assets", target="A", relative=0.3), net)
    'A: outside assets fall by 30%'
    """
    s = shock
    if s.kind == "edges":
        text = _edge_words(network, s)
    elif s.kind == "external_assets":
        who = _who(network, s)
        text = (f"{who}: outside assets fall by {_pct(s.relative)}" if s.relative is not None else
                f"{who}: outside assets fall by {fmt_sig(s.absolute)}" if s.absolute is not None else
                f"{who}: outside assets set to {fmt_sig(s.value)}")
    elif s.kind == "external_liabilities":
        who = _who(network, s)
        text = (f"{who}: owed to outside creditors \u00d7 {fmt_sig(s.factor)}" if s.factor is not None else
                f"{who}: owed to outside creditors rises by {fmt_sig(s.absolute)}" if s.absolute is not None else
                f"{who}: owed to outside creditors set to {fmt_sig(s.value)}")
    elif s.kind == "default":
        rec = float(s.recovery or 0.0)
        text = f"{_who(network, s)} forced into default, " + (
            f"paying at most {_pct(rec)} of what it owes" if rec > 0 else "paying nothing")
    else:  # collateral, freeze: the generic wording names no id
        return s.describe()
    if s.year is not None:
        return f"{text} (in {s.year})"
    if s.years is not None:
        return f"{text} (in {', '.join(str(y) for y in s.years)})"
    return text
