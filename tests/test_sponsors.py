"""Tests of contagion.sponsors.sponsor_exposure on a small hand-made network (values computed by hand below)."""

from __future__ import annotations

import pandas as pd
import pytest

import contagion
from contagion.errors import InvalidNetworkError
from contagion.sponsors import SPONSOR_COLUMNS, sponsor_exposure


def _net(nodes, edges):
    return contagion.FinancialNetwork.from_edges(
        pd.DataFrame([dict(debtor=a, creditor=b, amount=str(c), kind=k) for a, b, c, k in edges], dtype=str),
        pd.DataFrame(nodes, dtype=str))


NODES = [
    {"id": "META", "name": "Meta", "type": "hyperscaler", "sponsor": "", "sponsor_share": "",
     "external_liabilities": "0"},
    {"id": "ORCL", "name": "Oracle", "type": "hyperscaler", "sponsor": "", "sponsor_share": "",
     "external_liabilities": "0"},
    # 20 % Meta, 80 % Blue Owl (named by name, with spaces around the separator)
    {"id": "BEIG", "name": "Beignet", "type": "data_center_spv", "sponsor": "Meta ; Blue Owl",
     "sponsor_share": "0.2;0.8", "external_liabilities": "5"},
    {"id": "OWL", "name": "Blue Owl", "type": "private_credit", "sponsor": "", "sponsor_share": "",
     "external_liabilities": "0"},
    # sponsor named by id
    {"id": "VAN", "name": "Vantage", "type": "data_center_spv", "sponsor": "ORCL", "sponsor_share": "",
     "external_liabilities": "0"},
    # two sponsors, no shares: split equally
    {"id": "JV", "name": "JV", "type": "data_center_spv", "sponsor": "Meta;Oracle", "sponsor_share": "",
     "external_liabilities": "0"},
    {"id": "BANK", "name": "Bank", "type": "bank", "sponsor": "", "sponsor_share": "", "external_liabilities": "0"},
    # a sponsor that is not in the network
    {"id": "X", "name": "X", "type": "data_center_spv", "sponsor": "Nobody Inc", "sponsor_share": "",
     "external_liabilities": "0"},
]
EDGES = [
    ("BEIG", "OWL", 27, "bond"),
    ("META", "BEIG", 2, "lease"),
    ("META", "BANK", 5, "loan"),
    ("META", "BANK", 3, "bond"),
    ("VAN", "BANK", 10, "credit_facility"),
    ("ORCL", "VAN", 4, "lease"),
    ("JV", "BANK", 6, "loan"),
    ("JV", "ORCL", 1, "compute_contract"),  # not debt
    ("ORCL", "BANK", 7, "vendor_financing"),
    ("X", "BANK", 1, "loan"),
]


def test_hand_computed_exposure():
    frame = sponsor_exposure(_net(NODES, EDGES))
    assert list(frame.columns) == list(SPONSOR_COLUMNS)
    assert frame.index.name == "sponsor"
    # Oracle: own debt 7 (vendor financing), lease 4; vehicles Vantage 10 + half of JV's 6 = 13 -> total 24
    # Blue Owl: 0.8 x 27 = 21.6; Meta: debt 5 + 3, lease 2, 0.2 x 27 + 0.5 x 6 = 8.4 -> 18.4; Nobody Inc: 1
    assert list(frame.index) == ["Oracle", "Blue Owl", "Meta", "Nobody Inc"]
    expected = {
        "Oracle": (7, 4, 13, 0, 24, 2, "Vantage; JV", "hyperscaler"),
        "Blue Owl": (0, 0, 21.6, 4, 21.6, 1, "Beignet", "private_credit"),
        "Meta": (8, 2, 8.4, 1, 18.4, 2, "Beignet; JV", "hyperscaler"),
        "Nobody Inc": (0, 0, 1, 0, 1, 1, "X", ""),
    }
    for name, (debt, leases, off, off_ext, total, nveh, vehicles, typ) in expected.items():
        row = frame.loc[name]
        assert row["debt"] == pytest.approx(debt)
        assert row["leases"] == pytest.approx(leases)
        assert row["off_balance_sheet_debt"] == pytest.approx(off)
        assert row["off_balance_sheet_external"] == pytest.approx(off_ext)  # share of Beignet's 5 outside
        assert row["total"] == pytest.approx(total)
        assert row["vehicles"] == nveh
        assert row["vehicle_names"] == vehicles
        assert row["type"] == typ


def test_no_sponsor_column_or_no_sponsor_named():
    net = contagion.load_dataset("chain")
    empty = sponsor_exposure(net)
    assert empty.empty and list(empty.columns) == list(SPONSOR_COLUMNS)
    nodes = [{"id": "a", "sponsor": ""}, {"id": "b", "sponsor": ""}]
    assert sponsor_exposure(_net(nodes, [("a", "b", 1, "loan")])).empty


@pytest.mark.parametrize("share, message", [
    ("0.5", "1 shares for 2 sponsors"),
    ("0.5;x", "sponsor share must be a number in [0, 1]"),
    ("0.5;1.5", "sponsor share must be a number in [0, 1]"),
    ("0.7;0.7", "sponsor shares sum to 1.4 (> 1)"),
])
def test_bad_shares_are_located(share, message):
    nodes = [{"id": "s", "name": "SPV", "sponsor": "a;b", "sponsor_share": share}, {"id": "a"}, {"id": "b"}]
    with pytest.raises(InvalidNetworkError) as info:
        sponsor_exposure(_net(nodes, [("s", "a", 1, "loan")]))
    assert message in str(info.value) and "'SPV'" in str(info.value)


def test_partial_share_leaves_the_rest_unattributed():
    nodes = [{"id": "s", "sponsor": "a", "sponsor_share": "0.25"}, {"id": "a"}, {"id": "b"}]
    frame = sponsor_exposure(_net(nodes, [("s", "b", 8, "loan"), ("s", "b", 100, "compute_contract")]))
    assert frame.loc["a", "off_balance_sheet_debt"] == pytest.approx(2.0)
