#!/usr/bin/env python
"""Build ``graphs/ai-infrastructure/`` from the sourced fact sheet, deterministically.

Reads ``FACTS.md``, ``nodes.csv`` and ``edges.csv`` of the fact sheet (default:
``<repo>/../shared/data/ai-infra``; ``--source`` to change) and writes the
dataset in the project's network format:

- ``nodes.csv`` / ``edges.csv``: the network cleared over a one-year horizon
  (calendar 2027, USD bn), every amount with its rule, its source and the
  assumptions it uses;
- ``assumptions.csv``: every number the fact sheet does not give (value,
  low, high, basis, source);
- ``assumption_effects.csv``: how each assumption moves the amounts (each
  assumption alone at the low and high end of its range, and the derivative
  by a central difference; :func:`assumption_effects`), the table
  ``contagion sensitivity --wrt assumption:KEY`` and ``--rank-assumptions`` read;
- ``scenarios/*.toml``: the stress scenarios, plus ``assumptions-low`` and
  ``assumptions-high`` (``value =`` shocks that move every assumption to the
  low or high end of its range);
- ``dataset.toml`` and ``README.md``.

``--assumptions low|central|high`` builds the network itself at that end of
every range (the shipped files use ``central``; a variant needs ``--out``).
The README's results table clears every scenario with ``contagion`` (imported
from the checkout if it is not installed). ``--golden`` also (re)writes the
pinned headline results ``golden/<scenario>.json``; they carry hand-written
notes on why they are plausible (:data:`WHY`), so a normal build never touches
them and the tests compare fresh results against them.

Usage::

    python scripts/build_ai_infrastructure.py                  # writes graphs/ai-infrastructure/
    python scripts/build_ai_infrastructure.py --out /tmp/x     # elsewhere (the tests do this)
    python scripts/build_ai_infrastructure.py --golden         # also rewrite golden/*.json

Everything here is plain Python on purpose (csv, not pandas), so that the
output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "ai-infra"
DEFAULT_OUT = REPO / "graphs" / "ai-infrastructure"
DATASET = "ai-infrastructure"
HORIZON = "2027"
LEVELS = ("low", "central", "high")

# ====================================================================================== assumptions
# id, applies_to, quantity, central, low, high, basis, source.  Every number used below that the fact
# sheet does not give is one of these; nodes.csv/edges.csv name the ids they use in their `assumptions` column.
ASSUMPTIONS: list[tuple[str, str, str, float, float, float, str, str]] = [
    ("sofr", "every floating-rate loan and facility", "SOFR in 2027 (rate, per year)", 0.04, 0.03, 0.05,
     "Base rate not in the fact sheet. The spreads are sourced: SOFR+250bp for the Vantage and New Mexico SPV "
     "loans, SOFR+600-650bp for CoreWeave's DDTL draws backed by investment-grade contracts.", "S22; S23; S30"),
    ("compute_term_default", "Anthropic->Microsoft; Meta->Oracle", "term of a compute contract whose term is "
     "undisclosed (years)", 5, 4, 7,
     "Median of the terms the fact sheet gives for compute contracts (5, 5, 7, 6.2, 5, 7, 5, 5, 4, 3.5 years).",
     "FACTS 2.A, 2.C"),
    ("openai_azure_term", "OpenAI->Microsoft Azure $250bn", "term of OpenAI's incremental Azure commitment "
     "(years)", 8, 5, 10,
     "Term undisclosed; Altman described OpenAI's commitments as about $1.4tn 'over the next 8 years'.",
     "S06; S60"),
    ("nvidia_order_years", "Oracle->NVIDIA $40bn GB200 order", "years over which the order is paid", 2, 1, 3,
     "Payment timing unknown (FT). The order is read as the pace of Oracle's GPU purchases from NVIDIA while "
     "the Stargate sites (Abilene, Vantage, New Mexico, Michigan) are fitted out.",
     "S47; S45"),
    ("equity_funding_years", "NVIDIA->Anthropic $10bn; Microsoft->Anthropic $5bn", "years over which an "
     "unscheduled 'up to' equity commitment is funded", 2, 1, 4,
     "Announced Nov-2025 without a schedule; funded evenly over the period.", "S65"),
    ("stargate_funding_years", "Stargate LLC planned equity (19/19/7/7)", "years over which the planned "
     "initial equity is called", 4, 2, 6,
     "Stargate's $500bn programme was announced as a 4-year plan; the $52bn initial equity is a reported plan, "
     "not confirmed funded.", "S64"),
    ("nvidia_loi_gw", "NVIDIA->OpenAI letter of intent", "GW deployed in 2027 (each releases ~$10bn)", 1, 0, 2,
     "LOI: up to $100bn for at least 10 GW, staged per GW deployed, first GW in H2-2026; non-binding, no "
     "definitive agreement at 5-Dec-2025.", "S09; S10"),
    ("amd_warrant_vesting", "AMD->OpenAI warrant", "share of the warrant that vests in 2027", 1 / 6, 0, 1 / 3,
     "Warrant for up to 160M shares vests with deployment of 6 GW (first GW H2-2026) and share-price "
     "milestones; one GW-tranche assumed to vest in 2027, at the $34bn mark-to-market estimate.", "S11; S12"),
    ("dscr", "every lease whose rent is undisclosed (Abilene, Vantage, New Mexico, Michigan, Hyperion, xAI "
     "vehicle)", "rent / debt service of the vehicle (debt-service coverage ratio)", 1.3, 1.2, 1.5,
     "Rents are undisclosed (FACTS 5). Project-finance sizing: the tenant's rent covers the vehicle's debt "
     "service with a coverage ratio; the surplus belongs to the vehicle's equity, which is not a creditor.",
     "assumption"),
    ("gpu_amortisation", "CoreWeave DDTLs and OEM financing; xAI vehicle debt", "share of principal repaid "
     "straight-line by maturity", 1.0, 0.5, 1.0,
     "GPU-backed term loans amortise from the contract cash flows they are secured on; the schedules are not in "
     "the fact sheet.", "S29; S50"),
    ("spv_spread_other", "Abilene JV loans; Michigan facility", "spread over SOFR (per year)", 0.025, 0.02, 0.035,
     "Pricing not disclosed; as the Vantage and New Mexico SPV loans (SOFR+250bp).", "S22; S23"),
    ("abilene_takeout", "Abilene JV construction loans", "share of principal to be refinanced (taken out) in 2027",
     1.0, 0.5, 1.0,
     "Construction loans of Jan-2025 (phase 1) and May-2025 (phase 2), maturities undisclosed; construction loans "
     "are repaid by term debt once the campus is built, assumed in 2027. In the baseline the take-out happens; in "
     "private-credit-refinancing-freeze it does not.", "S46; S47"),
    ("softbank_loan_spread", "SoftBank bridge and Arm margin loans", "spread over SOFR (per year)", 0.0125,
     0.0075, 0.025, "Pricing not disclosed.", "assumption"),
    ("arm_margin_drawn", "SoftBank Arm-share margin loans", "share of the $18.5bn facility drawn", 1.0,
     13.5 / 18.5, 1.0,
     "$13.5bn facility ($5bn undrawn at Mar-2025) plus $5bn new, raised to fund OpenAI: assumed drawn in full; "
     "low end = the pre-existing $13.5bn.", "S55"),
    ("meta_bond_rate", "Meta $30bn bonds", "average coupon (per year)", 0.05, 0.045, 0.055,
     "Coupons not captured; six tranches of 5-40 years.", "S28"),
    ("oracle_other_debt_rate", "Oracle debt outside the network ($95bn - $18bn)", "average interest rate "
     "(per year)", 0.045, 0.04, 0.05,
     "The Sep-2025 notes average 5.35% (S14); Oracle's older debt is cheaper.", "S14; S16"),
    ("crusoe_facility_spread", "Crusoe->Brookfield facility", "spread over SOFR (per year)", 0.05, 0.04, 0.06,
     "Pricing not disclosed; infrastructure-debt pricing assumed.", "S48"),
    ("cw_ddtl_incr_drawn", "CoreWeave incremental $3bn DDTL tranche", "share drawn by 2027", 1.0, 0.5, 1.0,
     "Drawn amount unknown; the tranche was available to Mar-2026.", "S30"),
    ("cw_ddtl3_term", "CoreWeave $2.6bn OpenAI-contract debt", "term (years)", 5, 4, 6,
     "Term and pricing not disclosed; matched to the 5-year OpenAI contract it is raised against, priced like "
     "the IG-contract DDTL draws (SOFR+625bp).", "S80; S05; S30"),
    ("xai_gpu_loan_rate", "xAI vehicle GPU debt", "interest rate (per year)", 0.095, 0.08, 0.11,
     "Apollo's second GPU loan to the xAI vehicle was priced at 9.5% (reported Feb-2026).", "S52"),
    ("openai_revenue", "OpenAI", "revenue in 2027 (plan)", 40, 20, 52,
     "Central: geometric path from the FY2025 target of $13bn to HSBC's >$213bn for 2030, at 2027 "
     "(13 x (213/13)^(2/5) = 39.9). Low: the >$20bn run-rate of end-2025, flat. High: the same path started "
     "from the $20bn run-rate (20 x (213/20)^(2/5) = 51.5).", "S62; S59; S60"),
    ("openai_new_funding", "OpenAI", "new outside equity raised in 2027", 41, 0, 69,
     "HSBC: OpenAI must still raise ~$207bn by 2030; spread evenly over 2026-2030 (207/5 = 41.4). Low: no new "
     "money. High: front-loaded over three years (207/3).", "S59"),
    ("openai_other_costs", "OpenAI", "cash costs outside the modelled contracts in 2027", 12, 8, 20,
     "Staff, sales, other compute and overheads: 30% of the planned revenue (the revenue share to Microsoft "
     "and the compute contracts are edges). The fact sheet has only the burn: H1-2025 $2.5bn, FY2025 target "
     "$8.5bn.", "S62"),
    ("oracle_cash_cost_ratio", "Oracle", "cash operating costs / revenue outside the network", 0.65, 0.6, 0.7,
     "Not in the fact sheet; assumed: about a third of the revenue of Oracle's existing business becomes operating "
     "cash flow.", "assumption"),
    ("oracle_capex", "Oracle", "capital expenditure in 2027", 50, 40, 70,
     "FY26 guidance ~$50bn held for 2027; the NVIDIA payments (an edge) are deducted from it.", "S19"),
    ("oracle_new_borrowing", "Oracle", "new debt raised in 2027", 25, 10, 30,
     "KeyBanc: Oracle may need up to $100bn of new debt over 4 years (100/4).", "S58"),
    ("coreweave_cash", "CoreWeave", "cash at the start of 2027", 2, 1, 3,
     "Not in the fact sheet (CoreWeave raised a $2.25bn convertible in Dec-2025).", "S32"),
    ("coreweave_outside_revenue", "CoreWeave", "revenue in 2027 from customers outside the network", 1.5, 1, 3,
     "2025 revenue guidance $5.1bn less Microsoft's ~71% share; backlog of $55.6bn less the modelled "
     "contracts (22.4 + 14.2 + 10) is ~$9bn, ~$1.8bn a year.", "S36; S05"),
    ("coreweave_cash_cost_ratio", "CoreWeave", "cash operating costs / revenue", 0.4, 0.35, 0.5,
     "Not in the fact sheet (power, data-centre rent, staff; capex is financed by the GPU loans).",
     "assumption"),
    ("bigtech_cash_cost_ratio", "Microsoft; NVIDIA", "cash operating costs and taxes / revenue", 0.6, 0.5, 0.7,
     "Not in the fact sheet; irrelevant to who defaults (both are far from it), kept so that their equity is "
     "not just revenue.", "assumption"),
    ("nvidia_revenue", "NVIDIA", "revenue in 2027", 228, 200, 260,
     "Q3 FY26 quarterly revenue of $57.0bn x 4.", "S77"),
    ("coverage_ai_lab", "Anthropic; xAI", "outside resources / modelled obligations - 1", 0.25, 0.1, 0.5,
     "No figures captured (xAI burns ~$1bn a month). Rule for institutions without figures: outside resources "
     "cover the obligations modelled here with this margin.", "S50"),
    ("coverage_large", "Meta; AMD; MGX", "outside resources / modelled obligations - 1", 2, 1, 4,
     "No figures captured; large, profitable or sovereign-backed institutions: outside resources are a "
     "multiple of the obligations modelled here.", "assumption"),
    ("crusoe_cash", "Crusoe", "cash at the start of 2027", 1.4, 0.7, 1.4,
     "Crusoe raised $1.4bn in Oct-2025 (valuation >$10bn); held as liquidity; low end: half of it spent.", "S49"),
    ("softbank_resources", "SoftBank Group", "resources available in 2027 (cash, saleable stakes, undrawn "
     "lines)", 25, 10, 50,
     "Balance sheet not captured. It sold a $5.8bn NVIDIA stake and borrowed ~$20bn in 2025 to fund OpenAI.",
     "S55; S58"),
    ("bank_buffer", "named banks", "outside assets (loss-absorbing buffer)", 100, 50, 200,
     "Placeholder, NOT a balance-sheet figure: large enough that a bank absorbs its losses here. Banks owe "
     "nothing in this network, so they cannot default in it; the buffer only scales their equity column.",
     "assumption"),
    ("manager_buffer", "named asset managers and private-credit firms (not Blue Owl)", "outside assets "
     "(loss-absorbing buffer)", 20, 10, 50,
     "Placeholder, NOT a balance-sheet figure (Blue Owl uses its $29.5bn market value instead).", "assumption"),
]
# --- 2026-2030 path (cashflows.csv, collateral.csv, the dated columns of edges.csv); years are calendar years
ASSUMPTIONS += [
    ("gpu_economic_life", "GPU fleets of CoreWeave and the xAI vehicle (collateral.csv)", "economic life of a GPU "
     "(years, straight-line to zero)", 3, 2.5, 3.5,
     "Kedrosky: GPUs depreciate over ~2.5-3.5 years [S75], as little as 18 months-2 years run flat out [S74]. "
     "Used on the path for the lenders' loan-to-value test; the accounting life is gpu_book_life.", "S74; S75"),
    ("gpu_book_life", "GPU fleets (collateral.csv, column book_life)", "accounting (book) depreciation life of a GPU "
     "(years)", 6, 5, 6,
     "The books depreciate servers and GPUs over ~6 years (issue 14; not a figure of the fact sheet). Not used by "
     "the central path: switch with a collateral shock of factor gpu_book_life / gpu_economic_life (= 2).",
     "assumption"),
    ("gpu_max_ltv", "GPU-backed loans (CoreWeave DDTLs, xAI vehicle debt)", "loan / collateral value at which a "
     "lender refinances (max_ltv)", 0.65, 0.5, 0.8,
     "Apollo lent $3.5bn against a $5.4bn GB200 acquisition for the xAI vehicle: 3.5 / 5.4 = 0.65 [S51]. The same "
     "ratio sizes the fleets: fleet value = GPU-backed debt / gpu_max_ltv.", "S51"),
    ("gpu_balloon", "GPU-backed loans on the path", "principal refinanced at maturity rather than repaid from cash "
     "flows (1: bullet with ltv rollover; 0: linear amortisation, no rollover)", 1, 0, 1,
     "CoreWeave's debt rose from $11.2bn (Jun-2025) to ~$14bn (Sep-2025) while its DDTLs amortised: new GPU-backed "
     "draws repaid old ones [S29,S33] ('the next loan repays the previous loan', issue 14). Central: interest only, "
     "the principal due at the reported maturity and rolled when the fleet still covers it at gpu_max_ltv. Low "
     "end: straight-line repayment from cash flows, as the one-year amounts (gpu_amortisation).", "S29; S33"),
    ("undisclosed_debt_term", "Michigan facility; Crusoe's Brookfield facility; SoftBank's Arm margin loans",
     "term of a facility whose maturity is undisclosed (years from signing)", 4, 2, 6,
     "As the Vantage and New Mexico SPV loans (4 years + extensions [S22,S23]).", "S22; S23"),
    ("meta_bond_maturity", "Meta $30bn bonds", "average maturity (year)", 2045, 2035, 2055,
     "Six tranches of 5-40 years, sizes not captured [S28]: midpoint. The 5-year tranche falls due in 2030 and is "
     "assumed refinanced.", "S28"),
    ("oracle_lease_start", "Oracle's other data-centre leases (e044)", "first year rent is paid (year)", 2027, 2026,
     2028, "Leases not yet commenced at Nov-2025 commence between FQ3-FY26 and FY28 [S20]: midpoint.", "S20"),
    ("openai_revenue_2030", "OpenAI", "revenue in 2030 (plan; end of the planned path in cashflows.csv)", 213, 20,
     213, "HSBC: OpenAI's revenue >$213bn in 2030 [S59]. Low: the >$20bn run-rate of end-2025, flat [S60]. The "
     "path is geometric from the FY2025 target of $13bn (central) or the $20bn run-rate (high) [S62,S60]; its "
     "2027 value is openai_revenue.", "S59; S60; S62"),
    ("slowdown_cut", "openai-slowdown-2027", "growth points OpenAI's revenue loses each year from 2027 "
     "(persistent)", 0.3, 0.15, 0.5,
     "Planned growth is ~75% a year (13 -> 213 over 5 years); 0.3 leaves ~45%, i.e. OpenAI's 2030 revenue at "
     "~$100bn, half of HSBC's path [S59]. The one-year ai-demand-slowdown uses the same 30% (outside revenue 30% "
     "below plan).", "S59; S56"),
]
# --- guarantees and security (DESIGN.md section 8): Meta's residual value guarantee on the Hyperion campus
ASSUMPTIONS += [
    ("hyperion_rvg_cap", "Meta's residual value guarantee on the Hyperion campus (e045g / e045x)", "cap of the "
     "guarantee (USD bn; the row's amount)", 27.3, 13.65, 27.3,
     "Meta guarantees the campus's residual value for the first 16 years, 'capped' [S25]; the cap is not in the "
     "fact sheet. Central: the $27.3bn of bonds the vehicle issued [S26] (the A+ rating of the bonds [S24] and "
     "S&P's opinion that kept them off Meta's balance sheet [S26] rest on Meta standing behind the campus); "
     "low: half of it.", "S24; S25; S26"),
    ("hyperion_exit_value", "hyperion-tenant-exit (asset_value of e045x)", "value of the Hyperion campus sold "
     "without Meta as tenant, as a share of its $27bn cost", 0.6, 0.4, 0.8,
     "No sale of a comparable campus is in the fact sheet. A 2 GW-class single-tenant AI campus in rural "
     "Louisiana built to Meta's design, without its tenant. The vehicle owns the campus (buildings, power, "
     "cooling), not the servers, so the 2.5-3.5-year GPU life [S75] does not apply; the range is wide on purpose. "
     "Used only by the tenant-exit scenario (no shock can move asset_value: the assumption variants leave it at "
     "its central value; build with --assumptions low|high for the ends).", "S25; S75"),
]
A_ROWS = {row[0]: row for row in ASSUMPTIONS}


def assumption_values(level: str) -> dict[str, float]:
    """Assumption id -> value at ``level`` (``low``, ``central`` or ``high``)."""
    col = {"central": 3, "low": 4, "high": 5}[level]
    return {row[0]: float(row[col]) for row in ASSUMPTIONS}


# ====================================================================================== nodes
@dataclass
class NodeSpec:
    name: str                       # the usual name (unique)
    entity: str = "company"         # company | vehicle | syndicate | aggregate
    rule: str = "none"              # how external assets/liabilities are set (see node_balance)
    sponsor: str = ""               # ids, ";"-separated (the credit behind a vehicle's debt)
    sponsor_share: str = ""
    equity_sponsors: str = ""       # "id:share;..." (information only)
    members: str = ""               # syndicate members (ids)
    note: str = ""


NODES: dict[str, NodeSpec] = {
    "openai": NodeSpec("OpenAI", rule="openai"),
    "oracle": NodeSpec("Oracle", rule="oracle"),
    "microsoft": NodeSpec("Microsoft", rule="bigtech"),
    "aws": NodeSpec("Amazon (AWS)"),
    "google": NodeSpec("Google"),
    "meta": NodeSpec("Meta", rule="coverage_large"),
    "coreweave": NodeSpec("CoreWeave", rule="coreweave"),
    "nebius": NodeSpec("Nebius"),
    "crusoe": NodeSpec("Crusoe", rule="crusoe"),
    "iren": NodeSpec("IREN"),
    "nvidia": NodeSpec("NVIDIA", rule="bigtech"),
    "amd": NodeSpec("AMD", rule="coverage_large"),
    "broadcom": NodeSpec("Broadcom"),
    "anthropic": NodeSpec("Anthropic", rule="coverage_ai_lab"),
    "xai": NodeSpec("xAI", rule="coverage_ai_lab"),
    "softbank": NodeSpec("SoftBank Group", rule="softbank"),
    "mgx": NodeSpec("MGX", rule="coverage_large"),
    "stargate": NodeSpec("Stargate LLC", entity="vehicle", sponsor="openai;softbank;oracle;mgx",
                         sponsor_share="0.365385;0.365385;0.134615;0.134615",
                         note="Shares = planned initial equity 19/19/7/7 of 52 (S64)."),
    "abilene_jv": NodeSpec("Abilene JV (Stargate I)", entity="vehicle", sponsor="oracle", sponsor_share="1",
                           equity_sponsors="crusoe;blue_owl;primary_digital",
                           note="Sponsor = Oracle, the 15-year tenant whose rent services the debt; equity: "
                                "Crusoe, Blue Owl, Primary Digital (split undisclosed)."),
    "vantage_oracle_spvs": NodeSpec("Vantage Frontier & Port Washington", entity="vehicle", sponsor="oracle",
                                    sponsor_share="1", equity_sponsors="",
                                    note="Sponsor = Oracle, the tenant (for OpenAI); Vantage (not a node) "
                                         "develops and owns."),
    "nm_jupiter": NodeSpec("New Mexico Stargate campus", entity="vehicle", sponsor="oracle", sponsor_share="1",
                           equity_sponsors="blue_owl",
                           note="Sponsor = Oracle, the expected tenant; equity: Blue Owl (amount undisclosed)."),
    "michigan_barn": NodeSpec("Michigan campus (The Barn)", entity="vehicle", sponsor="oracle",
                              sponsor_share="1", equity_sponsors="blackstone",
                              note="Sponsor = Oracle, the long-term lessee; Related Digital develops; Blackstone "
                                   "equity in talks (Dec-2025)."),
    "oracle_dc_lessors": NodeSpec("Oracle's other data-centre lessors", entity="aggregate", sponsor="oracle",
                                  sponsor_share="1",
                                  note="Synthetic: receives the part of Oracle's $248bn lease commitments not "
                                       "modelled site by site."),
    "hyperion_spv": NodeSpec("Hyperion SPV (Beignet Investor)", entity="vehicle", sponsor="meta",
                             sponsor_share="1", equity_sponsors="blue_owl:0.8;meta:0.2",
                             note="Sponsor = Meta, the lessee with a 16-year residual value guarantee; equity "
                                  "Blue Owl 80% / Meta 20% (S24)."),
    "xai_spv": NodeSpec("xAI GPU vehicle (Valor Compute Infrastructure)", entity="vehicle", sponsor="xai",
                        sponsor_share="1", equity_sponsors="valor;nvidia",
                        note="Sponsor = xAI, the 5-year GPU lessee; equity: Valor (lead), NVIDIA (up to $2bn)."),
    "blue_owl": NodeSpec("Blue Owl Capital", rule="blue_owl"),
    "blackstone": NodeSpec("Blackstone", rule="manager_buffer"),
    "apollo": NodeSpec("Apollo", rule="manager_buffer"),
    "pimco": NodeSpec("PIMCO", rule="manager_buffer"),
    "blackrock": NodeSpec("BlackRock", rule="manager_buffer"),
    "magnetar": NodeSpec("Magnetar", rule="manager_buffer"),
    "carlyle": NodeSpec("Carlyle", rule="manager_buffer"),
    "brookfield": NodeSpec("Brookfield", rule="manager_buffer"),
    "primary_digital": NodeSpec("Primary Digital Infrastructure", rule="manager_buffer"),
    "valor": NodeSpec("Valor Equity Partners", rule="manager_buffer"),
    "jpmorgan": NodeSpec("JPMorgan", rule="bank_buffer"),
    "mufg": NodeSpec("MUFG", rule="bank_buffer"),
    "smbc": NodeSpec("SMBC", rule="bank_buffer"),
    "mizuho": NodeSpec("Mizuho", rule="bank_buffer"),
    "goldman": NodeSpec("Goldman Sachs", rule="bank_buffer"),
    "hsbc": NodeSpec("HSBC", rule="bank_buffer"),
    "barclays": NodeSpec("Barclays", rule="bank_buffer"),
    "bnp": NodeSpec("BNP Paribas", rule="bank_buffer"),
    "wells": NodeSpec("Wells Fargo", rule="bank_buffer"),
    "socgen": NodeSpec("Societe Generale", rule="bank_buffer"),
    "morgan_stanley": NodeSpec("Morgan Stanley", rule="bank_buffer"),
    "bofa": NodeSpec("Bank of America", rule="bank_buffer"),
    "credit_agricole": NodeSpec("Credit Agricole CIB", rule="bank_buffer"),
    "synd_vantage": NodeSpec("Vantage bank syndicate", entity="syndicate",
                             members="jpmorgan;mufg;wells;bnp;goldman;smbc;socgen"),
    "synd_nm": NodeSpec("New Mexico loan syndicate", entity="syndicate", members="smbc;bnp;goldman;mufg"),
    "synd_cw_ddtl1": NodeSpec("CoreWeave DDTL 1.0 lenders", entity="syndicate", members="blackstone;magnetar"),
    "synd_cw_ddtl2": NodeSpec("CoreWeave DDTL 2.0 lenders", entity="syndicate",
                              members="blackstone;magnetar;carlyle;blackrock"),
    "synd_cw_ddtl3": NodeSpec("CoreWeave OpenAI-contract lenders", entity="syndicate"),
    "synd_cw_revolver": NodeSpec("CoreWeave revolver banks", entity="syndicate",
                                 members="jpmorgan;goldman;morgan_stanley"),
    "synd_sb_bridge_other": NodeSpec("SoftBank bridge: other banks", entity="syndicate",
                                     members="hsbc;barclays;goldman;mufg;credit_agricole"),
    "arm_margin_lenders": NodeSpec("SoftBank Arm margin-loan banks", entity="syndicate",
                                   members="jpmorgan;barclays;bnp;credit_agricole;goldman"),
    "banks_unspecified": NodeSpec("Unnamed banks (SoftBank $8.5bn bridge)", entity="syndicate"),
    "bond_investors": NodeSpec("Bond investors", entity="aggregate"),
    "oem_vendors": NodeSpec("CoreWeave OEM financiers", entity="aggregate"),
    "xai_spv_lenders": NodeSpec("xAI vehicle lenders (Diameter et al.)", entity="syndicate", members="apollo",
                                note="Apollo's disclosed $3.5bn is carved out as a direct edge; the rest stays "
                                     "here."),
    "synd_openai_rcf": NodeSpec("OpenAI revolver banks", entity="syndicate"),
}


# ====================================================================================== edges
@dataclass
class Edge:
    """One row of the output edge table (built from one row of the fact sheet, or derived from one)."""

    edge_id: str
    debtor: str
    creditor: str
    kind: str
    commitment: str                 # binding | up_to | non_binding | plan | in_talks | estimate | funded | ...
    contingent: bool
    included: bool
    amount: float
    nominal: float | None           # the fact sheet's amount_usd_bn
    principal: float | None = None  # debt: principal the horizon amount is computed on
    rate: float | None = None       # debt: interest rate per year
    term_years: float | None = None
    annual_rule: str = ""
    amount_basis: str = "derived"   # reported | derived | assumption | excluded
    assumptions: tuple[str, ...] = ()
    collateral: str = ""
    refinancing_due: float = 0.0    # principal the baseline assumes rolled over in 2027
    reported: str = ""
    source: str = ""
    notes: str = ""
    fact_row: int | None = None     # spreadsheet row in the fact sheet's edges.csv (header = 1)
    unconfirmed: bool = False       # the figure is reported but not confirmed by the parties (FACTS 5)
    # 2026-2030 path (DESIGN.md section 7); set by date_edges
    start: int | None = None        # first / last year a recurring amount falls due
    end: int | None = None
    maturity: int | None = None     # debt: year the principal is due
    amortization: str = ""          # bullet | linear
    rollover: str = ""              # none | always | ltv
    max_ltv: float | None = None
    path_basis: str = ""            # why these years (source or assumption)
    # guarantees and security (DESIGN.md section 8); set by secure_edges
    seniority: int | None = None    # 1 = paid first (secured), 2 = unsecured, where the debtor has secured debt
    residual_value: float | None = None   # residual value guarantee: guaranteed value K
    asset_value: float | None = None      # residual value guarantee: value V of the asset
    security: str = ""              # why this seniority / guarantee (source or assumption)


def _f(x: float) -> str:
    """A number for text: up to 4 decimals, no trailing zeros."""
    s = f"{x:.4f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def _pct(x: float) -> str:
    return f"{_f(x * 100)}%"


class EdgeBuilder:
    """Turns the fact sheet's 107 obligations into horizon (2027) amounts, for one set of assumption values."""

    def __init__(self, src_edges: list[dict], a: dict[str, float]):
        self.src = src_edges
        self.a = a
        self.out: list[Edge] = []

    # ---------------------------------------------------------------- helpers
    def row(self, i: int, debtor: str, creditor: str, kind: str) -> dict:
        r = self.src[i]
        if (r["debtor"], r["creditor"], r["kind"]) != (debtor, creditor, kind):
            raise SystemExit(f"fact sheet edges.csv row {i + 2} is {r['debtor']}->{r['creditor']} {r['kind']}, "
                             f"expected {debtor}->{creditor} {kind}: the builder must be updated")
        return r

    def add(self, i: int, debtor: str, creditor: str, kind: str, *, commitment: str, contingent: bool,
            amount: float, rule: str, basis: str, included: bool = True, uses: tuple[str, ...] = (),
            principal: float | None = None, rate: float | None = None, term: float | None = None,
            collateral: str = "", refinancing_due: float = 0.0, note: str = "", suffix: str = "",
            new_debtor: str | None = None, new_creditor: str | None = None, new_kind: str | None = None,
            nominal: float | None = ...) -> Edge:
        r = self.row(i, debtor, creditor, kind)
        src_nominal = _num(r["amount_usd_bn"])
        src_term = _num(r["term_years"])
        e = Edge(
            edge_id=f"e{i + 2:03d}{suffix}", debtor=new_debtor or debtor, creditor=new_creditor or creditor,
            kind=new_kind or kind, commitment=commitment, contingent=contingent, included=included,
            amount=amount if included else 0.0, nominal=src_nominal if nominal is ... else nominal,
            principal=principal, rate=rate, term_years=term if term is not None else src_term, annual_rule=rule,
            amount_basis=basis if included else "excluded", assumptions=uses, collateral=collateral,
            refinancing_due=refinancing_due, reported=r["reported"], source=r["source"],
            notes=" | ".join(x for x in (note, "" if suffix else r["notes"]) if x),
            fact_row=i + 2)
        self.out.append(e)
        return e

    def excluded(self, i: int, debtor: str, creditor: str, kind: str, why: str, *, commitment: str = "binding",
                 contingent: bool = False) -> Edge:
        return self.add(i, debtor, creditor, kind, commitment=commitment, contingent=contingent, amount=0.0,
                        rule=f"excluded: {why}", basis="excluded", included=False, note="")

    def contract(self, i: int, debtor: str, creditor: str, *, term: float | None = None,
                 term_id: str | None = None, commitment: str = "binding", contingent: bool = False,
                 note: str = "") -> Edge:
        r = self.row(i, debtor, creditor, "compute_purchase_contract")
        nominal = _num(r["amount_usd_bn"])
        uses: tuple[str, ...] = ()
        if term is None:
            term = _num(r["term_years"])
        if term_id is not None:
            term = self.a[term_id]
            uses = (term_id,)
        amount = nominal / term
        rule = f"nominal / term = {_f(nominal)} / {_f(term)}" + (f" [{term_id}]" if term_id else "")
        return self.add(i, debtor, creditor, "compute_purchase_contract", commitment=commitment,
                        contingent=contingent, amount=amount, rule=rule, basis="assumption" if uses else "derived",
                        uses=uses, term=term, note=note)

    def debt(self, i: int, debtor: str, creditor: str, kind: str, *, principal: float, rate: float,
             rate_text: str, amortise_years: float | None = None, uses: tuple[str, ...] = (),
             collateral: str = "", refinancing_due: float = 0.0, commitment: str = "binding",
             contingent: bool = False, note: str = "", suffix: str = "", new_creditor: str | None = None,
             nominal: float | None = ..., term: float | None = None) -> Edge:
        interest = principal * rate
        amort = 0.0
        rule = f"interest {rate_text} x {_f(principal)}"
        if amortise_years:
            share = self.a["gpu_amortisation"]
            amort = share * principal / amortise_years
            uses = tuple(dict.fromkeys(uses + ("gpu_amortisation",)))
            rule += f" + amortisation {_f(share)} x {_f(principal)} / {_f(amortise_years)} years"
        if refinancing_due:
            rule += f"; {_f(refinancing_due)} of principal falls due in 2027 and is assumed rolled over"
        basis = "assumption" if uses else "derived"
        return self.add(i, debtor, creditor, kind, commitment=commitment, contingent=contingent,
                        amount=interest + amort, rule=rule, basis=basis, uses=uses, principal=principal, rate=rate,
                        collateral=collateral, refinancing_due=refinancing_due, note=note, suffix=suffix,
                        new_creditor=new_creditor, nominal=nominal, term=term)

    def lease(self, i: int, debtor: str, vehicle: str, *, note: str = "") -> Edge:
        """Undisclosed rent = dscr x the vehicle's debt service (computed after the debt edges)."""
        service = sum(e.amount for e in self.out if e.debtor == vehicle and e.kind in DEBT_KINDS and e.included)
        uses = ("dscr",) + tuple(sorted({u for e in self.out if e.debtor == vehicle and e.kind in DEBT_KINDS
                                         for u in e.assumptions}))
        dscr = self.a["dscr"]
        return self.add(i, debtor, vehicle, "lease", commitment="binding", contingent=False, amount=dscr * service,
                        rule=f"rent undisclosed: dscr {_f(dscr)} x debt service of the vehicle {_f(service)}",
                        basis="assumption", uses=tuple(dict.fromkeys(uses)), note=note)

    def rvg(self) -> None:
        """Meta's residual value guarantee on the Hyperion campus [S25], as two derived rows of the lease (e045).

        ``residual_value`` K = the campus's reported cost, $27bn [S25]. While Meta leases the campus it is valued at
        that cost (``asset_value`` = K: nothing is owed); e045g carries the cap. e045x is the same guarantee at the
        value of the campus sold without Meta (``hyperion_exit_value`` x cost), with cap 0: the guarantee can only
        be called once Meta leaves. No shock sets ``asset_value`` (the ``edges`` kind sets ``amount`` only), so
        ``hyperion-tenant-exit`` moves the cap from e045g to e045x.
        """
        cap, share, cost = self.a["hyperion_rvg_cap"], self.a["hyperion_exit_value"], HYPERION_COST
        common = dict(commitment="binding", contingent=False, basis="assumption", nominal=None,
                      new_kind="residual_value_guarantee")
        g = self.add(43, "meta", "hyperion_spv", "lease", amount=cap, suffix="g", uses=("hyperion_rvg_cap",),
                     rule=f"residual value guarantee: cap {_f(cap)} [hyperion_rvg_cap]; owes min(cap, max(0, K - V)) "
                          f"= min({_f(cap)}, {_f(cost)} - {_f(cost)}) = 0 while Meta leases the campus",
                     note="Derived row: Meta's residual value guarantee for the first 16 years of the Hyperion "
                          "campus, capped [S25]. K = the campus's cost $27bn [S25]; V = the campus valued at cost "
                          "while Meta is its tenant.", **common)
        g.residual_value, g.asset_value, g.term_years = cost, cost, None
        g.security = ("sponsor support: Meta's residual value guarantee [S25] (cap [hyperion_rvg_cap]); K = cost "
                      "$27bn [S25]; V = cost while Meta leases the campus: not called")
        v = share * cost
        x = self.add(43, "meta", "hyperion_spv", "lease", amount=0.0, suffix="x",
                     uses=("hyperion_rvg_cap", "hyperion_exit_value"),
                     rule=f"the same guarantee once Meta has left: cap 0 until then (hyperion-tenant-exit sets it to "
                          f"{_f(cap)} [hyperion_rvg_cap]); owes min(cap, max(0, {_f(cost)} - {_f(v)}))",
                     note="Derived row: e045g at the value of the campus sold without Meta as tenant "
                          f"({_f(share)} x $27bn cost [hyperion_exit_value]).", **common)
        x.residual_value, x.asset_value, x.term_years = cost, v, None
        x.security = (f"sponsor support: Meta's residual value guarantee [S25] once Meta has left; V = "
                      f"{_f(share)} x cost [hyperion_exit_value]")

    # ---------------------------------------------------------------- the 107 rows
    def build(self) -> list[Edge]:
        a = self.a
        sofr = a["sofr"]
        spv = sofr + 0.025                     # SOFR+250bp (S22, S23)
        sb = sofr + a["softbank_loan_spread"]
        ig_ddtl = sofr + 0.0625                # SOFR+600-650bp (S30)
        # --- A. OpenAI's compute contracts
        self.contract(0, "openai", "oracle",
                      note="First contract year is 2027 (Oracle 8-K: >$30bn/yr from FY2028); 300/5 as in the "
                           "fact sheet; the dollar value is WSJ-reported, not confirmed (FACTS 5).").unconfirmed = True
        self.contract(1, "openai", "coreweave", commitment="up_to", contingent=True)
        self.contract(2, "openai", "microsoft", term_id="openai_azure_term")
        share = 0.20
        rev = a["openai_revenue"]
        self.add(2, "openai", "microsoft", "compute_purchase_contract", commitment="binding", contingent=False,
                 amount=share * rev, rule=f"revenue share 20% x OpenAI revenue {_f(rev)} [openai_revenue]",
                 basis="assumption", uses=("openai_revenue",), suffix="r", new_kind="revenue_share", nominal=None,
                 note="Derived edge: OpenAI pays Microsoft ~20% of its revenue (S62, FACTS 2.A note).")
        self.out[-1].source = ("AInvest / TechEconomy (The Information) <https://www.ainvest.com/news/openai-prints-"
                               "4-3b-revenue-torches-billions-cash-era-defining-money-furnace-2509> 2025-09-30 [S62]")
        self.out[-1].reported = "2025-09-30"
        self.contract(3, "openai", "aws")
        self.excluded(4, "openai", "amd", "compute_purchase_contract",
                      "dollar value not disclosed ('tens of billions' of AMD revenue; FACTS 5)")
        self.excluded(5, "openai", "broadcom", "compute_purchase_contract",
                      "financial terms not disclosed (FACTS 5)")
        # --- C. other compute contracts
        self.contract(6, "anthropic", "microsoft", term_id="compute_term_default")
        self.excluded(7, "anthropic", "google", "compute_purchase_contract",
                      "'tens of billions', no figure (FACTS 5)", commitment="up_to", contingent=True)
        self.contract(8, "meta", "oracle", term_id="compute_term_default", commitment="in_talks", contingent=True)
        self.contract(9, "meta", "coreweave", commitment="up_to", contingent=True)
        self.contract(10, "meta", "nebius")
        self.contract(11, "microsoft", "coreweave")
        self.contract(12, "microsoft", "nebius")
        self.contract(13, "microsoft", "iren")
        self.excluded(14, "nvidia", "coreweave", "compute_purchase_contract",
                      "4-year lease-back from 2023 (Project Osprey) has run off by 2027")
        years = a["nvidia_order_years"]
        self.add(15, "oracle", "nvidia", "compute_purchase_contract", commitment="binding", contingent=False,
                 amount=40 / years, rule=f"hardware order paid over {_f(years)} years [nvidia_order_years]: "
                                        f"40 / {_f(years)}", basis="assumption", uses=("nvidia_order_years",),
                 term=years)
        # --- B. equity commitments: the part funded in 2027
        gw = a["nvidia_loi_gw"]
        self.add(16, "nvidia", "openai", "equity_commitment", commitment="non_binding", contingent=True,
                 amount=10 * gw, rule=f"~$10bn per GW deployed x {_f(gw)} GW in 2027 [nvidia_loi_gw]",
                 basis="assumption", uses=("nvidia_loi_gw",))
        vest = a["amd_warrant_vesting"]
        self.add(17, "amd", "openai", "equity_commitment", commitment="estimate", contingent=True,
                 amount=34 * vest, rule=f"warrant value 34 x share vesting in 2027 {_f(vest)} [amd_warrant_vesting]",
                 basis="assumption", uses=("amd_warrant_vesting",))
        self.add(18, "microsoft", "openai", "equity_commitment", commitment="binding", contingent=False,
                 amount=13 - 11.6, rule="unfunded remainder 13 - 11.6 (funded at 30-Sep-2025), called in 2027",
                 basis="derived", note="FACTS 7 overlap: only the unfunded $1.4bn is kept.")
        self.excluded(19, "softbank", "openai", "equity_commitment",
                      "fully funded by 26-Dec-2025; the $22.5bn December tranche is added to OpenAI's cash",
                      commitment="funded")
        self.excluded(20, "coreweave", "openai", "equity_commitment", "stock issued in Mar-2025",
                      commitment="funded")
        yrs = a["stargate_funding_years"]
        for i, inv, amt in ((21, "softbank", 19), (22, "openai", 19), (23, "oracle", 7), (24, "mgx", 7)):
            self.add(i, inv, "stargate", "equity_commitment", commitment="plan", contingent=True, amount=amt / yrs,
                     rule=f"planned equity {amt} / {_f(yrs)} years [stargate_funding_years]", basis="assumption",
                     uses=("stargate_funding_years",))
        fy = a["equity_funding_years"]
        self.add(25, "nvidia", "anthropic", "equity_commitment", commitment="up_to", contingent=True, amount=10 / fy,
                 rule=f"10 / {_f(fy)} years [equity_funding_years]", basis="assumption", uses=("equity_funding_years",))
        self.add(26, "microsoft", "anthropic", "equity_commitment", commitment="up_to", contingent=True,
                 amount=5 / fy, rule=f"5 / {_f(fy)} years [equity_funding_years]", basis="assumption",
                 uses=("equity_funding_years",))
        self.excluded(27, "aws", "anthropic", "equity_commitment", "cumulative $8bn invested by Nov-2024",
                      commitment="funded")
        self.excluded(28, "google", "anthropic", "equity_commitment", "stake already held (~14%)",
                      commitment="funded")
        self.excluded(29, "blue_owl", "abilene_jv", "equity_commitment",
                      "construction equity, paid in before the debt and before 2027 (split with Crusoe undisclosed)",
                      commitment="funded")
        self.excluded(30, "crusoe", "abilene_jv", "equity_commitment", "amount undisclosed; inside the ~$5bn")
        self.excluded(31, "primary_digital", "abilene_jv", "equity_commitment", "amount undisclosed")
        self.excluded(32, "blue_owl", "hyperion_spv", "equity_commitment", "funded at closing (Oct-2025)",
                      commitment="funded")
        self.excluded(33, "meta", "hyperion_spv", "equity_commitment", "amount undisclosed (land/CIP contributed)")
        self.excluded(34, "blue_owl", "nm_jupiter", "equity_commitment", "amount undisclosed")
        self.excluded(35, "blackstone", "michigan_barn", "equity_commitment", "amount undisclosed; in talks",
                      commitment="in_talks", contingent=True)
        self.excluded(36, "nvidia", "xai_spv", "equity_commitment",
                      "vehicle equity is paid in at closing, before 2027", commitment="up_to", contingent=True)
        self.excluded(37, "valor", "xai_spv", "equity_commitment", "amount undisclosed; paid in at closing")
        # --- E. debt (first, because the undisclosed rents are sized on it)
        other = sofr + a["spv_spread_other"]
        other_text = f"{_pct(other)} [sofr]+[spv_spread_other]"
        takeout = a["abilene_takeout"]
        for i, p in ((45, 2.3), (46, 7.1)):
            self.debt(i, "abilene_jv", "jpmorgan", "loan", principal=p, rate=other, rate_text=other_text,
                      uses=("sofr", "spv_spread_other", "abilene_takeout"), refinancing_due=takeout * p,
                      note="Construction loan, maturity undisclosed; interest-only; taken out by term debt in "
                           "2027 [abilene_takeout].")
        self.debt(47, "vantage_oracle_spvs", "synd_vantage", "credit_facility", principal=23.25, rate=spv,
                  rate_text=f"{_pct(spv)} [sofr]+2.5%", uses=("sofr",),
                  note="Interest-only; matures 2029 (4 years + 2-year extension).")
        self.debt(48, "vantage_oracle_spvs", "synd_vantage", "credit_facility", principal=14.75, rate=spv,
                  rate_text=f"{_pct(spv)} [sofr]+2.5%", uses=("sofr",),
                  note="Interest-only; matures 2029.")
        self.debt(56, "nm_jupiter", "synd_nm", "loan", principal=18, rate=spv, rate_text=f"{_pct(spv)} [sofr]+2.5%",
                  uses=("sofr",), note="Interest-only; matures 2029 (4 years + 2 x 1-year extensions).")
        self.debt(61, "michigan_barn", "bofa", "credit_facility", principal=14, rate=other, rate_text=other_text,
                  uses=("sofr", "spv_spread_other"), commitment="in_talks", contingent=True,
                  note="In negotiation at Dec-2025; priced like the other SPV loans.")
        coupons = [(3, 0.0445), (3, 0.048), (4, 0.052), (2.5, 0.05875), (3.5, 0.0595), (2, 0.061)]
        oracle_coupon = sum(p * c for p, c in coupons) / 18
        self.debt(62, "oracle", "bond_investors", "bond", principal=18, rate=oracle_coupon,
                  rate_text=f"{_pct(oracle_coupon)} (average of the six coupons)",
                  note="First maturity 2030.")
        self.debt(63, "meta", "bond_investors", "bond", principal=30, rate=a["meta_bond_rate"],
                  rate_text=f"{_pct(a['meta_bond_rate'])} [meta_bond_rate]", uses=("meta_bond_rate",),
                  note="First maturity 2030.")
        for i, creditor, p in ((64, "pimco", 18), (65, "blackrock", 3), (66, "bond_investors", 6.3)):
            self.debt(i, "hyperion_spv", creditor, "bond", principal=p, rate=0.0658, rate_text="6.58%",
                      commitment="estimate" if i == 66 else "binding", note="Due 2049; interest only.")
        self.debt(67, "coreweave", "synd_cw_ddtl1", "loan", principal=1.7825, rate=0.15, rate_text="~15%",
                  amortise_years=2.75, collateral="gpu", note="Matures Mar-2028: 2.75 years from 30-Jun-2025.")
        self.debt(70, "coreweave", "synd_cw_ddtl2", "loan", principal=4.954, rate=0.11, rate_text="~11%",
                  amortise_years=3.92, collateral="gpu", note="Matures May-2029: 3.92 years from 30-Jun-2025.")
        drawn = 3.0 * a["cw_ddtl_incr_drawn"]
        self.debt(71, "coreweave", "synd_cw_ddtl2", "credit_facility", principal=drawn, rate=ig_ddtl,
                  rate_text=f"{_pct(ig_ddtl)} [sofr]+6.25%", amortise_years=5, uses=("sofr", "cw_ddtl_incr_drawn"),
                  collateral="gpu", note="Draws mature in 5 years.")
        t3 = a["cw_ddtl3_term"]
        self.debt(76, "coreweave", "synd_cw_ddtl3", "loan", principal=2.6, rate=ig_ddtl,
                  rate_text=f"{_pct(ig_ddtl)} [sofr]+6.25%", amortise_years=t3, uses=("sofr", "cw_ddtl3_term"),
                  collateral="gpu", term=t3)
        self.debt(77, "coreweave", "bond_investors", "bond", principal=2.0, rate=0.0925, rate_text="9.25%",
                  note="Due Jun-2030.")
        self.debt(78, "coreweave", "bond_investors", "bond", principal=1.75, rate=0.09, rate_text="9.00%",
                  note="Due Feb-2031.")
        self.debt(79, "coreweave", "bond_investors", "bond", principal=2.25, rate=0.0175, rate_text="1.75%",
                  note="Convertible, due Dec-2031.")
        self.debt(80, "coreweave", "synd_cw_revolver", "credit_facility", principal=0.45, rate=0.07, rate_text="~7%",
                  refinancing_due=0.45, note="$0.45bn drawn of $2.5bn; matures Jun-2027 (inside the horizon).")
        self.debt(84, "coreweave", "magnetar", "loan", principal=0.2566, rate=0.12, rate_text="~12%",
                  note="Bullet, Jan-2029.")
        self.debt(85, "coreweave", "oem_vendors", "vendor_financing", principal=1.728, rate=0.095,
                  rate_text="9.5% (9-10%)", amortise_years=2.92, collateral="gpu",
                  note="Instalments Mar-2026 to May-2028: 2.92 years from 30-Jun-2025.")
        backstop_years = 7.25
        self.add(86, "nvidia", "coreweave", "vendor_financing", commitment="contingent", contingent=True,
                 amount=6.3 / backstop_years, rule="6.3 / 7.25 years (Sep-2025 to end-2032)", basis="derived",
                 term=backstop_years, note="Paid only for capacity CoreWeave cannot sell.")
        self.debt(87, "crusoe", "brookfield", "credit_facility", principal=0.75,
                  rate=sofr + a["crusoe_facility_spread"],
                  rate_text=f"{_pct(sofr + a['crusoe_facility_spread'])} [sofr]+[crusoe_facility_spread]",
                  uses=("sofr", "crusoe_facility_spread"), note="Assumed drawn; interest only.")
        r = a["xai_gpu_loan_rate"]
        self.debt(88, "xai_spv", "xai_spv_lenders", "loan", principal=12.5 - 3.5, rate=r,
                  rate_text=f"{_pct(r)} [xai_gpu_loan_rate]", amortise_years=5, uses=("xai_gpu_loan_rate",),
                  collateral="gpu", commitment="up_to", contingent=True, term=5,
                  note="$12.5bn plan less Apollo's disclosed $3.5bn (edge e090a; FACTS 7 overlap).")
        self.debt(88, "xai_spv", "xai_spv_lenders", "loan", principal=3.5, rate=r,
                  rate_text=f"{_pct(r)} [xai_gpu_loan_rate]", amortise_years=5, uses=("xai_gpu_loan_rate",),
                  collateral="gpu", commitment="up_to", contingent=True, suffix="a", new_creditor="apollo",
                  nominal=3.5, term=5,
                  note="Derived edge: Apollo's disclosed $3.5bn share of the xAI vehicle debt (S51, S52), carved "
                       "out of e090 by the declared rule 'a disclosed allocation becomes a direct edge'.")
        self.out[-1].source = (self.src[89]["source"])
        self.out[-1].reported = self.src[89]["reported"]
        for i, creditor, p in ((90, "mizuho", 1.35), (91, "smbc", 1.25), (92, "jpmorgan", 1.0),
                               (93, "synd_sb_bridge_other", 11.4)):
            self.debt(i, "softbank", creditor, "loan", principal=p, rate=sb,
                      rate_text=f"{_pct(sb)} [sofr]+[softbank_loan_spread]", uses=("sofr", "softbank_loan_spread"),
                      refinancing_due=p, note="1-year bridge (May-2025), assumed rolled annually: due in 2027.")
        drawn = 18.5 * a["arm_margin_drawn"]
        self.debt(99, "softbank", "arm_margin_lenders", "credit_facility", principal=drawn, rate=sb,
                  rate_text=f"{_pct(sb)} [sofr]+[softbank_loan_spread]",
                  uses=("sofr", "softbank_loan_spread", "arm_margin_drawn"),
                  note="Secured on Arm shares; term undisclosed; interest only.")
        self.excluded(105, "softbank", "banks_unspecified", "loan",
                      "probable overlap with the $15bn bridge (FACTS 7): the itemised $15bn is kept",
                      commitment="overlap")
        self.excluded(106, "openai", "synd_openai_rcf", "credit_facility", "undrawn revolver: nothing owed")
        # --- D. leases (rents sized on the debt above)
        self.lease(38, "oracle", "abilene_jv")
        self.lease(39, "oracle", "vantage_oracle_spvs")
        self.lease(40, "oracle", "nm_jupiter", note="Oracle is the expected tenant.")
        self.lease(41, "oracle", "michigan_barn")
        sites = sum(e.amount for e in self.out if e.debtor == "oracle" and e.kind == "lease")
        uses = tuple(sorted({u for e in self.out if e.debtor == "oracle" and e.kind == "lease" for u in e.assumptions}))
        self.add(42, "oracle", "oracle_dc_lessors", "lease", commitment="binding", contingent=False,
                 amount=248 / 17 - sites,
                 rule=f"aggregate 248 / 17 years = {_f(248 / 17)} less the four site leases {_f(sites)}",
                 basis="assumption", uses=uses,
                 note="FACTS 7 overlap: the aggregate includes the site leases, so only the remainder is kept.")
        self.lease(43, "meta", "hyperion_spv", note="Meta's residual value guarantee: rows e045g / e045x.")
        self.rvg()
        self.lease(44, "xai", "xai_spv")
        # --- F. syndicate membership: allocations undisclosed -> the syndicate node is the creditor
        for i in (49, 50, 51, 52, 53, 54, 55, 57, 58, 59, 60, 68, 69, 72, 73, 74, 75, 81, 82, 83, 94, 95, 96, 97,
                  98, 100, 101, 102, 103, 104):
            r = self.src[i]
            self.excluded(i, r["debtor"], r["creditor"], "syndicate_share",
                          "allocation undisclosed: the syndicate node is the creditor (FACTS 0)",
                          commitment="membership")
        self.excluded(89, "xai_spv_lenders", "apollo", "syndicate_share",
                      "replaced by the direct edge e090a (xAI vehicle -> Apollo)", commitment="membership")
        self.out.sort(key=lambda e: (e.fact_row, e.edge_id))
        ids = [e.edge_id for e in self.out]
        rows = sorted(e.fact_row for e in self.out if e.edge_id[-1].isdigit())
        if len(set(ids)) != len(ids) or rows != list(range(2, len(self.src) + 2)):
            raise SystemExit("builder error: every fact-sheet row must be used exactly once")
        return self.out


DEBT_KINDS = ("loan", "bond", "credit_facility", "vendor_financing")
#: kinds whose amount is a cap, not what falls due (DESIGN.md section 8): left out of every sum of obligations
GUARANTEE_KINDS = ("guarantee", "residual_value_guarantee")
#: the Hyperion campus's reported cost [S25]: the value Meta's residual value guarantee refers to
HYPERION_COST = 27.0
#: commitments whose amount is not a firm figure: their horizon amounts are flagged ``estimate``
ESTIMATE_COMMITMENTS = ("estimate", "up_to", "non_binding", "plan", "in_talks", "contingent")


def _num(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


# ====================================================================================== guarantees and security
#: debtor -> its obligations secured on an asset (seniority 1, paid first), with the source; every other
#: obligation of that debtor is unsecured (seniority 2) and so are its outside creditors (``external_seniority``).
SECURED: dict[str, dict[str, str]] = {
    "coreweave": {
        "e069": "DDTL 1.0: H100-collateralised facility [S35], GPU-backed delayed-draw term loan [S29]",
        "e072": "DDTL 2.0: GPU-backed delayed-draw term loan [S29,S34]",
        "e073": "DDTL 2.0 incremental tranche: GPU-backed draws, priced on the contracts they finance [S30]",
        "e078": "private debt raised against the OpenAI contract [S80] (GPU- and contract-backed, as the DDTLs)",
        "e087": "OEM equipment financing [S29]: secured on the equipment it finances (declared rule: equipment "
                "financing is secured on the equipment)",
    },
    "xai_spv": {
        "e090": "'up to' $12.5bn of GPU-collateralised debt [S50]",
        "e090a": "Apollo's $3.5bn against $5.4bn of GB200s [S51]",
    },
    "softbank": {"e101": "margin loans secured on Arm shares [S55]"},
    "vantage_oracle_spvs": {"e049": "senior secured facility (Texas) [S21,S22]",
                            "e050": "senior secured facility (Wisconsin) [S21,S22]"},
}
#: why an obligation of a debtor with secured debt ranks as unsecured (2); default: security not reported
UNSECURED = {
    "e079": "9.25% senior notes due 2030 [S32]: no security reported",
    "e080": "9.000% senior unsecured notes due 2031 [S31]",
    "e081": "1.75% convertible notes due 2031 [S32]: no security reported",
}


def secure_edges(edges: list[Edge]) -> None:
    """Set ``seniority`` (with the reason in ``security``) from :data:`SECURED`.

    Secured debt is ranked ahead (1) rather than given a ``collateral_value``: the collateral (a GPU fleet worth
    ~$13-19bn, Arm shares, a campus) is worth more than anything that falls due in a year, so the secured claim is
    the whole amount, and ``collateral_value`` may not exceed the obligation (DESIGN.md section 8) while the
    amounts change with scenarios (binding-only sets the xAI vehicle's loans to 0, assumptions-low lowers
    interest).
    """
    by_id = {e.edge_id: e for e in edges}
    for debtor, rows in SECURED.items():
        for eid, why in rows.items():
            e = by_id[eid]
            if e.debtor != debtor or e.kind not in DEBT_KINDS:
                raise SystemExit(f"builder error: {eid} is not a debt of {debtor}")
            e.seniority, e.security = 1, f"secured: {why} -> seniority 1 (paid first)"
        for e in edges:
            if e.debtor == debtor and e.included and e.edge_id not in rows and e.kind not in GUARANTEE_KINDS:
                why = UNSECURED.get(e.edge_id, "security not reported: ranked with the unsecured (declared rule)"
                                    if e.kind in DEBT_KINDS else f"not debt ({e.kind.replace('_', ' ')}): ranked "
                                    f"with the unsecured (declared rule)")
                e.seniority, e.security = 2, f"unsecured: {why} -> seniority 2 (after the secured debt)"


#: institutions whose outside creditors (costs: suppliers, power, staff) rank with their unsecured debt
EXTERNAL_SENIORITY = {d: 2 for d, rows in SECURED.items() if d not in ("xai_spv", "vantage_oracle_spvs")}


# ====================================================================================== the 2026-2030 path
FIRST_YEAR, LAST_YEAR = 2026, 2030
PATH_YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))
GPU_FLEETS = {"coreweave": "coreweave_gpu", "xai_spv": "xai_gpu"}


def date_edges(edges: list[Edge], a: dict[str, float]) -> None:
    """Set the dated columns (DESIGN.md section 7) of every included obligation, with the reason in ``path_basis``.

    Recurring rows get ``start``/``end`` over their term; debt rows a maturity, an amortisation and a rollover
    rule. The one-year ``amount`` is not touched (a path does not use it on debt rows).
    """
    by_id = {e.edge_id: e for e in edges}

    def recur(eid: str, start: int | None, end: int | None, why: str, uses: tuple[str, ...] = ()) -> None:
        e = by_id[eid]
        e.start, e.end, e.path_basis = start, end, why
        e.assumptions = tuple(dict.fromkeys(e.assumptions + uses))

    azure = int(a["openai_azure_term"])
    recur("e002", 2027, 2031, "5 years from 2027 (WSJ: from 2027; Oracle 8-K: >$30bn a year from FY2028) [S01,S03]")
    recur("e003", 2026, 2030, "5 years from 2026, the first full year after the three 2025 tranches [S04,S05] "
                              "(estimate: the tranches start at different dates)")
    recur("e004", 2026, 2025 + azure, f"{azure} years from 2026 [openai_azure_term] (Oct-2025 commitment) [S06]",
          ("openai_azure_term",))
    recur("e004r", 2027, 2027, "on a path the edge carries 2027 only; the 20% revenue share of the other years is "
                               "in OpenAI's outside liabilities (cashflows.csv), so that it follows the revenue path")
    recur("e005", 2026, 2032, "7 years from 2026 (capacity online by end-2026) [S08]")
    t = int(a["compute_term_default"])
    recur("e008", 2026, 2025 + t, f"{t} years from 2026 [compute_term_default] (Nov-2025 deal) [S65]",
          ("compute_term_default",))
    recur("e010", 2026, 2025 + t, f"{t} years from 2026 [compute_term_default] (in talks Sep-2025) [S68]",
          ("compute_term_default",))
    recur("e011", 2026, 2031, "to Dec-2031 [S37]")
    recur("e012", 2026, 2030, "5 years from the first deliveries (Dec-2025) [S43]")
    recur("e013", 2026, 2030, "spend 2023-2030 [S39]")
    recur("e014", 2027, 2031, "5 years ending 2031 [S42]")
    recur("e015", 2026, 2030, "5 years from Nov-2025 [S44]")
    y = int(a["nvidia_order_years"])
    recur("e017", 2026, 2025 + y, f"paid over {y} years from 2026 [nvidia_order_years] (ordered May-2025) [S47]",
          ("nvidia_order_years",))
    recur("e018", 2026, 2030, "~1 GW a year from the first GW in H2-2026 [nvidia_loi_gw] [S09]", ("nvidia_loi_gw",))
    recur("e019", 2026, 2030, "one of six GW tranches a year from H2-2026 [amd_warrant_vesting] [S11]",
          ("amd_warrant_vesting",))
    recur("e020", 2027, 2027, "called once, in 2027, as in the one-year network [S63]")
    sy = int(a["stargate_funding_years"])
    for eid in ("e023", "e024", "e025", "e026"):
        recur(eid, 2025, 2024 + sy, f"{sy} years from the Jan-2025 announcement [stargate_funding_years] [S64]",
              ("stargate_funding_years",))
    ey = int(a["equity_funding_years"])
    for eid in ("e027", "e028"):
        recur(eid, 2026, 2025 + ey, f"{ey} years from 2026 [equity_funding_years] (Nov-2025) [S65]",
              ("equity_funding_years",))
    for eid in ("e040", "e041", "e042", "e043"):
        recur(eid, 2026, None, "15-year lease [S47]; rent from 2026: the vehicle's interest runs from its first "
                               "draw (rent = dscr x interest)")
    ls = int(a["oracle_lease_start"])
    recur("e044", ls, None, f"leases commence FQ3-FY26 to FY28 [S20]: from {ls} [oracle_lease_start]",
          ("oracle_lease_start",))
    recur("e045", 2026, None, "4-year initial term with extensions, residual value guarantee 16 years [S25]")
    recur("e046", 2026, 2030, "5-year GPU lease [S50]")
    for eid in ("e045g", "e045x"):
        recur(eid, 2030, None, "callable once Meta leaves, at the earliest when its 4-year initial term (rent from "
                               "2026, as e045) ends: from 2030; the guarantee runs for the first 16 years [S25]")
    recur("e088", 2026, 2032, "through 2032 [S37]")

    balloon = a["gpu_balloon"] >= 0.5
    ltv = a["gpu_max_ltv"]
    term = a["undisclosed_debt_term"]

    def debt(eid: str, maturity: int, amort: str, roll: str, why: str, uses: tuple[str, ...] = ()) -> None:
        e = by_id[eid]
        if e.principal is None:
            raise SystemExit(f"builder error: {eid} has no principal")
        e.maturity, e.amortization, e.rollover, e.path_basis = maturity, amort, roll, why
        e.assumptions = tuple(dict.fromkeys(e.assumptions + uses))

    for eid in ("e047", "e048"):
        debt(eid, 2027, "bullet", "always", "construction loan taken out by term debt in 2027 [abilene_takeout]: "
                                            "refinancing expected (rolled)", ("abilene_takeout",))
    for eid in ("e049", "e050"):
        debt(eid, 2029, "bullet", "always", "4 years from Oct-2025 + 2-year extension option, interest only in "
                                            "construction [S22]: extended (rolled)")
    debt("e058", 2029, "bullet", "always", "4 years from Nov-2025 + 2 x 1-year extensions [S23]: extended (rolled)")
    debt("e063", 2025 + int(term), "bullet", "always",
         f"term undisclosed: {_f(term)} years [undisclosed_debt_term], extended like the other Stargate sites "
         f"(rolled)", ("undisclosed_debt_term",))
    debt("e064", 2042, "bullet", "none", "six tranches 2030-2065 [S14]: weighted-average maturity 2042 (the $3bn "
                                        "2030 tranche is inside the horizon and assumed refinanced)")
    mb = int(a["meta_bond_maturity"])
    debt("e065", mb, "bullet", "none", f"average maturity {mb} [meta_bond_maturity] [S28]", ("meta_bond_maturity",))
    for eid in ("e066", "e067", "e068"):
        debt(eid, 2049, "bullet", "none", "due 2049 [S24]")
    gpu_amort, gpu_roll = ("bullet", "ltv") if balloon else ("linear", "none")
    gpu_uses = ("gpu_balloon", "gpu_max_ltv", "gpu_economic_life")
    gpu_why = ("GPU-backed: interest only, rolled at maturity if the fleet's value x max_ltv covers the principal "
               "[gpu_balloon]" if balloon else "GPU-backed: repaid straight-line from cash flows [gpu_balloon]")
    for eid, mat, what in (("e069", 2028, "matures Mar-2028 [S29]"), ("e072", 2029, "matures May-2029 [S29]"),
                           ("e073", 2030, "draws (to Mar-2026) mature in 5 years [S30]: 2030"),
                           ("e078", FIRST_YEAR - 1 + int(a["cw_ddtl3_term"]),
                            f"{_f(a['cw_ddtl3_term'])} years from 2025 [cw_ddtl3_term] [S80]"),
                           ("e090", 2030, "5 years from Oct-2025 [S50]"), ("e090a", 2030, "5 years from Oct-2025 [S50]")):
        debt(eid, mat, gpu_amort, gpu_roll, f"{what}; {gpu_why}", gpu_uses)
        by_id[eid].collateral = GPU_FLEETS[by_id[eid].debtor]
        by_id[eid].max_ltv = ltv if balloon else None
    debt("e079", 2030, "bullet", "none", "due Jun-2030 [S32]; a new issue would be new money, not a rollover")
    debt("e080", 2031, "bullet", "none", "due Feb-2031 [S31]")
    debt("e081", 2031, "bullet", "none", "convertible, due Dec-2031 [S32]")
    debt("e082", 2027, "bullet", "always", "revolver matures Jun-2027 [S29]; upsized to $2.5bn in Nov-2025 [S36]: "
                                           "renewed (rolled)")
    debt("e086", 2029, "bullet", "none", "bullet, Jan-2029 [S29]")
    debt("e087", 2028, "linear", "none", "instalments Mar-2026 to May-2028 [S29]")
    by_id["e087"].collateral = GPU_FLEETS["coreweave"]
    debt("e089", 2025 + int(term), "bullet", "none",
         f"term undisclosed: {_f(term)} years from Jun-2025 [undisclosed_debt_term] [S48]", ("undisclosed_debt_term",))
    for eid in ("e092", "e093", "e094", "e095"):
        debt(eid, 2026, "bullet", "always", "1-year bridge of May-2025 [S53], rolled every year as in the one-year "
                                            "network (SoftBank refinanced it with a larger bridge in 2026, FACTS 6)")
    debt("e101", 2025 + int(term), "bullet", "always",
         f"margin loans secured on Arm shares, term undisclosed: {_f(term)} years [undisclosed_debt_term] [S55]; "
         f"rolled", ("undisclosed_debt_term",))
    missing = [e.edge_id for e in edges if e.included and e.amount > 0 and not e.path_basis]
    if missing:
        raise SystemExit(f"builder error: obligations without dates on the path: {', '.join(missing)}")


# ====================================================================================== node balances
@dataclass
class Balance:
    cash: float = 0.0
    revenue: float = 0.0
    funding: float = 0.0
    buffer: float = 0.0
    costs: float = 0.0
    debt_service: float = 0.0
    capex: float = 0.0
    basis: str = ""
    uses: tuple[str, ...] = ()

    @property
    def assets(self) -> float:
        return self.cash + self.revenue + self.funding + self.buffer

    @property
    def liabilities(self) -> float:
        return self.costs + self.debt_service + self.capex


def node_balance(nid: str, spec: NodeSpec, src: dict, a: dict[str, float], edges: list[Edge]) -> Balance:
    """External assets (cash + outside revenue + new money + buffer) and liabilities of one node in 2027."""
    owed = sum(e.amount for e in edges if e.debtor == nid and e.kind not in GUARANTEE_KINDS)
    inflow = sum(e.amount for e in edges if e.creditor == nid and e.kind not in GUARANTEE_KINDS)
    rule = spec.rule
    if rule == "openai":
        burn_h2 = 8.5 - 2.5
        cash = 17.5 + 22.5 - burn_h2
        return Balance(cash=cash, revenue=a["openai_revenue"], funding=a["openai_new_funding"],
                       costs=a["openai_other_costs"],
                       basis=(f"assets = cash 17.5 (Jun-2025, S62) + SoftBank tranche 22.5 (Dec-2025, S54) - H2-2025 "
                              f"burn {_f(burn_h2)} (FY target 8.5 - H1 2.5, S62) + revenue {_f(a['openai_revenue'])} "
                              f"[openai_revenue] + new equity {_f(a['openai_new_funding'])} [openai_new_funding]; "
                              f"liabilities = other cash costs {_f(a['openai_other_costs'])} [openai_other_costs]"),
                       uses=("openai_revenue", "openai_new_funding", "openai_other_costs"))
    if rule == "oracle":
        rev = 67.0
        nv = sum(e.amount for e in edges if e.debtor == "oracle" and e.creditor == "nvidia")
        costs = a["oracle_cash_cost_ratio"] * rev
        other_debt = 95 - 18
        ds = other_debt * a["oracle_other_debt_rate"]
        capex = max(0.0, a["oracle_capex"] - nv)
        return Balance(cash=11.0, revenue=rev, funding=a["oracle_new_borrowing"], costs=costs, debt_service=ds,
                       capex=capex,
                       basis=(f"assets = cash 11 (S15) + revenue 67 (FY26 guidance, S19) + new debt "
                              f"{_f(a['oracle_new_borrowing'])} [oracle_new_borrowing]; liabilities = cash costs "
                              f"{_f(a['oracle_cash_cost_ratio'])} x 67 [oracle_cash_cost_ratio] + interest "
                              f"{_pct(a['oracle_other_debt_rate'])} x (95 - 18 in the network) [oracle_other_debt_rate] "
                              f"+ capex {_f(a['oracle_capex'])} [oracle_capex] less the NVIDIA payments {_f(nv)} "
                              f"(an edge)"),
                       uses=("oracle_new_borrowing", "oracle_cash_cost_ratio", "oracle_other_debt_rate",
                             "oracle_capex", "nvidia_order_years"))
    if rule == "bigtech":
        ratio = a["bigtech_cash_cost_ratio"]
        if nid == "microsoft":
            rev = 281.7
            return Balance(revenue=rev, costs=ratio * rev,
                           basis=(f"assets = revenue 281.7 (FY25, S76) (cash not captured); liabilities = cash costs "
                                  f"{_f(ratio)} x revenue [bigtech_cash_cost_ratio]"),
                           uses=("bigtech_cash_cost_ratio",))
        rev = a["nvidia_revenue"]
        return Balance(cash=60.6, revenue=rev, costs=ratio * rev,
                       basis=(f"assets = cash 60.6 (S77) + revenue {_f(rev)} [nvidia_revenue]; liabilities = cash "
                              f"costs {_f(ratio)} x revenue [bigtech_cash_cost_ratio]"),
                       uses=("nvidia_revenue", "bigtech_cash_cost_ratio"))
    if rule == "coreweave":
        out_rev = a["coreweave_outside_revenue"]
        ratio = a["coreweave_cash_cost_ratio"]
        costs = ratio * (out_rev + inflow)
        return Balance(cash=a["coreweave_cash"], revenue=out_rev, costs=costs,
                       basis=(f"assets = cash {_f(a['coreweave_cash'])} [coreweave_cash] + revenue from outside "
                              f"customers {_f(out_rev)} [coreweave_outside_revenue]; liabilities = cash costs "
                              f"{_f(ratio)} x (outside revenue + contract revenue {_f(inflow)}) "
                              f"[coreweave_cash_cost_ratio]; its debt is in the network"),
                       uses=("coreweave_cash", "coreweave_outside_revenue", "coreweave_cash_cost_ratio"))
    if rule.startswith("coverage_"):
        m = a[rule]
        return Balance(revenue=(1 + m) * owed,
                       basis=(f"no figures: assets = (1 + {_f(m)}) x its modelled obligations {_f(owed)} [{rule}]"),
                       uses=(rule,) + tuple(sorted({u for e in edges if e.debtor == nid and e.kind not in
                                                    GUARANTEE_KINDS for u in e.assumptions})))
    if rule == "crusoe":
        return Balance(cash=a["crusoe_cash"], basis=f"assets = cash {_f(a['crusoe_cash'])} [crusoe_cash]",
                       uses=("crusoe_cash",))
    if rule == "softbank":
        return Balance(funding=a["softbank_resources"],
                       basis=f"no figures: resources {_f(a['softbank_resources'])} [softbank_resources]",
                       uses=("softbank_resources",))
    if rule == "bank_buffer":
        return Balance(buffer=a["bank_buffer"], basis=f"placeholder buffer {_f(a['bank_buffer'])} [bank_buffer]",
                       uses=("bank_buffer",))
    if rule == "manager_buffer":
        return Balance(buffer=a["manager_buffer"],
                       basis=f"placeholder buffer {_f(a['manager_buffer'])} [manager_buffer]", uses=("manager_buffer",))
    if rule == "blue_owl":
        return Balance(buffer=29.5, basis="buffer = market value 29.5 (S78) as loss-absorbing capacity")
    if owed > 0 and spec.entity != "vehicle":
        raise SystemExit(f"node {nid} owes {owed} but has no balance rule")
    what = {"vehicle": "vehicle without reserves: it pays from the rent it receives",
            "syndicate": "syndicate of lenders (allocation undisclosed): owes nothing here",
            "aggregate": "synthetic aggregate: owes nothing here"}.get(spec.entity, "no figures and owes nothing here")
    return Balance(basis=f"0 ({what})")


# ====================================================================================== path tables
def collateral_rows(edges: list[Edge], a: dict[str, float]) -> list[dict]:
    """collateral.csv: one GPU fleet per GPU borrower, valued at its GPU-backed debt / gpu_max_ltv on 1 Jan 2026."""
    ltv = a["gpu_max_ltv"]
    out = []
    for borrower, cid in GPU_FLEETS.items():
        loans = [e for e in edges if e.debtor == borrower and e.collateral == cid and e.included
                 and e.kind != "vendor_financing"]
        debt = sum(e.principal or 0 for e in loans)
        if borrower == "xai_spv":
            value = 20.0   # ~$7.5bn equity + up to $12.5bn debt buys the GPUs [S50]
            basis = ("GPUs of the xAI vehicle: ~$7.5bn equity + up to $12.5bn debt [S50] (Apollo: $3.5bn against "
                     f"$5.4bn of GB200s, {_f(3.5 / 5.4)} [S51]); bought late 2025-2026, valued at cost on 1 Jan 2026")
            uses = "gpu_economic_life;gpu_book_life"
        else:
            value = debt / ltv
            basis = (f"CoreWeave's fleet behind its GPU-backed loans: their principal {_f(debt)} "
                     f"({', '.join(e.edge_id for e in loans)}) / gpu_max_ltv {_f(ltv)}; mostly delivered in 2025, "
                     f"valued at cost on 1 Jan 2026 [S29,S30,S80]")
            uses = "gpu_max_ltv;gpu_economic_life;gpu_book_life"
        out.append({"id": cid, "value": value, "year": FIRST_YEAR, "economic_life": a["gpu_economic_life"],
                    "book_life": a["gpu_book_life"], "secures": ";".join(e.edge_id for e in loans),
                    "basis": basis, "assumptions": uses})
    return out


def openai_plan(level: str, a: dict[str, float]) -> dict[int, float]:
    """OpenAI's planned revenue 2025-2030: geometric to openai_revenue_2030; 2027 = openai_revenue (one-year)."""
    end = a["openai_revenue_2030"]
    start = {"central": 13.0, "low": 20.0, "high": 20.0}[level]   # FY2025 target [S62] / run-rate [S60]
    plan = {y: round(start * (end / start) ** ((y - 2025) / 5), 4) for y in range(2025, LAST_YEAR + 1)}
    plan[2027] = a["openai_revenue"]
    return plan


def _due_in(e: Edge, year: int) -> float:
    """What a recurring row owes in ``year`` (0 for debt rows: they are not outside money)."""
    if e.principal is not None or not e.included or e.kind in GUARANTEE_KINDS:
        return 0.0
    lo = -10**9 if e.start is None else e.start
    hi = 10**9 if e.end is None else e.end
    return e.amount if lo <= year <= hi else 0.0


def cashflow_rows(nodes: list[dict], edges: list[Edge], balances: dict[str, Balance], a: dict[str, float],
                  level: str) -> list[dict]:
    """cashflows.csv: outside money per year where it is not the same every year.

    Stocks (cash, buffers, SoftBank's resources) come once, in 2026, and are then carried forward by the path;
    flows follow the plans the fact sheet gives (OpenAI's revenue path, Oracle's borrowing over 4 years).
    """
    rows: list[dict] = []

    def row(nid: str, year: int, assets: float, liabilities: float, basis: str, uses: str) -> None:
        rows.append({"id": nid, "year": year, "external_assets": assets, "external_liabilities": liabilities,
                     "basis": basis, "assumptions": uses})

    plan = openai_plan(level, a)
    fund = a["openai_new_funding"]
    cost_ratio = a["openai_other_costs"] / a["openai_revenue"]
    cash0 = balances["openai"].cash
    for y in PATH_YEARS:
        rev = plan[y]
        share = 0.0 if y == 2027 else 0.2 * rev
        cash = cash0 if y == FIRST_YEAR else 0.0
        row("openai", y, cash + rev + fund, cost_ratio * rev + share,
            (f"assets = {'cash ' + _f(cash) + ' + ' if cash else ''}planned revenue {_f(rev)} + new equity "
             f"{_f(fund)} [openai_new_funding]; liabilities = other cash costs {_f(cost_ratio)} x revenue "
             f"[openai_other_costs / openai_revenue]"
             + (f" + revenue share 20% x {_f(rev)} (S62; the edge e004r carries it in 2027 only)" if share else "")),
            "openai_revenue;openai_revenue_2030;openai_new_funding;openai_other_costs")
    o = balances["oracle"]
    for y in PATH_YEARS:
        nv = sum(_due_in(e, y) for e in edges if e.debtor == "oracle" and e.creditor == "nvidia")
        borrow = a["oracle_new_borrowing"] if y <= 2029 else 0.0
        cash = o.cash if y == FIRST_YEAR else 0.0
        capex = max(0.0, a["oracle_capex"] - nv)
        row("oracle", y, cash + o.revenue + borrow, o.costs + o.debt_service + capex,
            (f"assets = {'cash ' + _f(cash) + ' + ' if cash else ''}revenue {_f(o.revenue)} (FY26 guidance held; "
             f"its growth from OpenAI and Meta is in the edges) + new debt {_f(borrow)} [oracle_new_borrowing: "
             f"KeyBanc's $100bn over 2026-2029, S58]; liabilities = cash costs {_f(o.costs)} + interest "
             f"{_f(o.debt_service)} on its other debt (assumed refinanced) + capex {_f(capex)} [oracle_capex] less "
             f"the NVIDIA payments {_f(nv)} (an edge)"),
            "oracle_new_borrowing;oracle_cash_cost_ratio;oracle_other_debt_rate;oracle_capex;nvidia_order_years")
    cw = balances["coreweave"]
    ratio = a["coreweave_cash_cost_ratio"]
    for y in PATH_YEARS:
        inflow = sum(_due_in(e, y) for e in edges if e.creditor == "coreweave")
        cash = cw.cash if y == FIRST_YEAR else 0.0
        row("coreweave", y, cash + cw.revenue, ratio * (cw.revenue + inflow),
            (f"assets = {'cash ' + _f(cash) + ' [coreweave_cash] + ' if cash else ''}outside revenue "
             f"{_f(cw.revenue)} [coreweave_outside_revenue]; liabilities = cash costs {_f(ratio)} x (outside "
             f"revenue + contract revenue {_f(inflow)} of the year) [coreweave_cash_cost_ratio]"),
            "coreweave_cash;coreweave_outside_revenue;coreweave_cash_cost_ratio")
    nv = balances["nvidia"]
    for y in PATH_YEARS:
        cash = nv.cash if y == FIRST_YEAR else 0.0
        row("nvidia", y, cash + nv.revenue, nv.costs,
            f"assets = {'cash 60.6 (S77) + ' if cash else ''}revenue {_f(nv.revenue)} [nvidia_revenue]; "
            f"liabilities = cash costs [bigtech_cash_cost_ratio]", "nvidia_revenue;bigtech_cash_cost_ratio")
    # stocks: in 2026 only (then carried forward by the path)
    for n in nodes:
        nid = n["id"]
        rule = NODES[nid].rule
        if rule not in ("crusoe", "softbank", "blue_owl", "bank_buffer", "manager_buffer"):
            continue
        b = balances[nid]
        for y in PATH_YEARS[1:]:
            row(nid, y, 0.0, b.liabilities, f"a stock, given in {FIRST_YEAR} only ({b.basis}); carried forward",
                ";".join(b.uses))
    rows.sort(key=lambda r: (list(NODES).index(r["id"]), r["year"]))
    return rows


# ====================================================================================== reading the fact sheet
def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_sources(facts: Path) -> dict[str, str]:
    """``S01`` -> the source line of FACTS.md section 8."""
    out: dict[str, str] = {}
    for line in facts.read_text(encoding="utf-8").splitlines():
        m = re.match(r"- \[(S\d+)\] (.*)$", line.strip())
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


# ====================================================================================== building
@dataclass
class Built:
    nodes: list[dict]
    edges: list[Edge]
    balances: dict[str, Balance]
    collateral: list[dict] = field(default_factory=list)
    cashflows: list[dict] = field(default_factory=list)
    assumptions: dict[str, float] = field(default_factory=dict)


def build_network(source: Path, level: str = "central", values: dict[str, float] | None = None) -> Built:
    """The network at ``level`` of every assumption, or with the assumption ``values`` given (a full mapping, as
    :func:`assumption_values` returns; the plan's 2025 start still follows ``level``)."""
    a = assumption_values(level) if values is None else dict(values)
    src_nodes = read_csv(source / "nodes.csv")
    src_edges = read_csv(source / "edges.csv")
    if [r["id"] for r in src_nodes] != list(NODES):
        raise SystemExit("the fact sheet's node ids changed: update NODES in the builder")
    edges = EdgeBuilder(src_edges, a).build()
    date_edges(edges, a)
    secure_edges(edges)
    balances: dict[str, Balance] = {}
    nodes: list[dict] = []
    for r in src_nodes:
        nid = r["id"]
        spec = NODES[nid]
        bal = node_balance(nid, spec, r, a, edges)
        balances[nid] = bal
        nodes.append({
            "id": nid, "name": spec.name, "type": r["type"], "external_assets": bal.assets,
            "external_liabilities": bal.liabilities, "entity": spec.entity, "sponsor": spec.sponsor,
            "sponsor_share": spec.sponsor_share, "equity_sponsors": spec.equity_sponsors, "members": spec.members,
            "assets_cash": bal.cash, "assets_revenue": bal.revenue, "assets_new_money": bal.funding,
            "assets_buffer": bal.buffer, "liabilities_costs": bal.costs, "liabilities_debt_service": bal.debt_service,
            "liabilities_capex": bal.capex, "revenue_reported": r["revenue_usd_bn"], "cash_reported": r["cash_usd_bn"],
            "debt_reported": r["debt_usd_bn"], "equity_reported": r["equity_usd_bn"], "basis": bal.basis,
            "assumptions": ";".join(dict.fromkeys(bal.uses)),
            "external_seniority": str(EXTERNAL_SENIORITY[nid]) if nid in EXTERNAL_SENIORITY else "",
            "full_name": r["name"], "source": r["source"],
            "notes": " | ".join(x for x in (spec.note, r["notes"]) if x),
        })
    return Built(nodes, edges, balances, collateral_rows(edges, a), cashflow_rows(nodes, edges, balances, a, level),
                 a)



# ====================================================================================== assumption effects
EFFECTS_COLUMNS = ["assumption", "kind", "target", "central", "low", "high", "derivative"]
#: Amounts that differ by less than this are the same (the build is deterministic; this is round-off).
EFFECTS_SAME = 1e-9


def build_amounts(built: Built) -> dict[tuple[str, str], float]:
    """(kind, target) -> amount of one build: node outside assets/liabilities and obligation amounts by edge_id."""
    out = {}
    for n in built.nodes:
        out[("external_assets", n["id"])] = float(n["external_assets"])
        out[("external_liabilities", n["id"])] = float(n["external_liabilities"])
    for e in built.edges:
        if e.included:
            out[("edge", e.edge_id)] = float(e.amount)
    return out


def assumption_effects(source: Path) -> list[dict]:
    """The rows of ``assumption_effects.csv``: for every assumption, the amounts it moves.

    The network is rebuilt with that assumption alone at the low end of its
    range, alone at the high end, and at ``central +- h`` (``h = 1e-4 x`` the
    range); every node's ``external_assets`` / ``external_liabilities`` and every
    obligation's ``amount`` (by ``edge_id``) that differs from the central build
    becomes one row: ``assumption, kind, target, central, low, high,
    derivative`` (the central difference). Rows follow ``ASSUMPTIONS``, then
    the order of the central build's amounts.
    """
    central, low, high = (assumption_values(lv) for lv in ("central", "low", "high"))
    base = build_amounts(build_network(source, "central", central))
    rows = []
    for key in central:
        span = abs(high[key] - low[key]) or max(abs(central[key]), 1.0)
        h = 1e-4 * span
        at = {name: build_amounts(build_network(source, "central", {**central, key: v})) for name, v in
              (("low", low[key]), ("high", high[key]), ("up", central[key] + h), ("down", central[key] - h))}
        for target, c in base.items():
            values = {name: at[name].get(target, 0.0) for name in at}
            deriv = (values["up"] - values["down"]) / (2 * h)
            if max(abs(values["low"] - c), abs(values["high"] - c), abs(deriv) * span) <= EFFECTS_SAME:
                continue
            rows.append({"assumption": key, "kind": target[0], "target": target[1], "central": c,
                         "low": values["low"], "high": values["high"], "derivative": deriv})
    return rows


def assumption_effects_csv(rows: list[dict]) -> str:
    """The table as text (12 significant digits, as the library reads it back)."""
    return to_csv([{k: (f"{r[k]:.12g}" if isinstance(r[k], float) else r[k]) for k in EFFECTS_COLUMNS}
                   for r in rows], EFFECTS_COLUMNS)


# ====================================================================================== scenarios
@dataclass
class ScenarioSpec:
    name: str
    description: str
    shocks: list[dict] = field(default_factory=list)   # each may carry a "#" comment key
    path: bool = False                                  # about the 2026-2030 path (dated shocks, path rules)


def _edge_by_id(built: Built) -> dict[str, Edge]:
    return {e.edge_id: e for e in built.edges}


DEMAND_CUT = 0.30          # ai-demand-slowdown: outside revenue of AI labs and neoclouds below plan
UP_TO_USE = 0.70           # ai-demand-slowdown: share of 'up to' compute contracts used
GPU_WRITEDOWN = 0.30       # gpu-collateral-writedown: prepayment, share of principal (1/2 - 1/5)


def _demand_shocks(built: Built, skip: tuple[str, ...] = ()) -> list[dict]:
    shocks = []
    for n in built.nodes:
        if n["type"] not in ("ai_lab", "neocloud") or n["id"] in skip:
            continue
        rev = built.balances[n["id"]].revenue
        if rev <= 0:
            continue
        shocks.append({"#": f"{int(DEMAND_CUT * 100)}% of its outside revenue {_f(rev)}", "kind": "external_assets",
                       "target": n["name"], "absolute": round(DEMAND_CUT * rev, 6)})
    shocks.append({"#": "'up to' compute contracts used at 70%", "kind": "edges",
                   "select": {"kind": "compute_purchase_contract", "commitment": "up_to"}, "factor": UP_TO_USE})
    return shocks


def _gpu_shocks(built: Built) -> list[dict]:
    shocks = []
    for e in built.edges:
        if e.collateral and e.included and e.amount > 0:
            extra = GPU_WRITEDOWN * e.principal
            shocks.append({"#": f"{_names(built)[e.debtor]} -> {_names(built)[e.creditor]}: 2027 debt service "
                                f"{_f(e.amount)} + prepayment {_f(GPU_WRITEDOWN)} x principal {_f(e.principal)}",
                           "kind": "edges", "select": {"edge_id": e.edge_id}, "value": round(e.amount + extra, 6)})
    return shocks


def _freeze_shocks(built: Built) -> list[dict]:
    shocks = []
    for e in built.edges:
        if e.refinancing_due and e.included and e.amount > 0:
            shocks.append({"#": f"{_names(built)[e.debtor]} -> {_names(built)[e.creditor]}: 2027 debt service "
                                f"{_f(e.amount)} + principal {_f(e.refinancing_due)} now due",
                           "kind": "edges", "select": {"edge_id": e.edge_id},
                           "value": round(e.amount + e.refinancing_due, 6)})
    return shocks


def _names(built: Built) -> dict[str, str]:
    return {n["id"]: n["name"] for n in built.nodes}


def scenario_specs(built: Built, variants: dict[str, Built]) -> list[ScenarioSpec]:
    """The scenarios shipped with the dataset, with amounts computed from the central build."""
    bal = built.balances
    rev = bal["openai"].revenue
    out = [
        ScenarioSpec(
            "baseline",
            "The plan as announced in late 2025, cleared over 2027 (USD bn): every disclosed obligation at its 2027 "
            "amount, contingent and non-binding deals included (binding-only removes them), OpenAI raising the new "
            "equity HSBC says it still needs [S59] and Oracle the debt KeyBanc expects it to raise [S58]. Numbers "
            "the fact sheet lacks are the central values of assumptions.csv.", []),
        ScenarioSpec(
            "openai-revenue-shortfall",
            f"OpenAI's 2027 revenue is half of plan: the plan path from the $13bn FY2025 target [S62] to HSBC's "
            f">$213bn for 2030 [S59] gives ~${_f(rev)}bn for 2027, against ~$1.4tn of commitments over 8 years "
            f"[S60] (FT: ~$20bn annualised revenue [S56]). OpenAI loses ${_f(rev / 2)}bn of revenue and pays "
            f"Microsoft its 20% revenue share [S62] on half as much; everything else as in the baseline.",
            [{"#": f"half of the planned revenue {_f(rev)} [openai_revenue]", "kind": "external_assets",
              "target": "OpenAI", "absolute": round(rev / 2, 6)},
             {"#": "the 20% revenue share falls with the revenue", "kind": "edges", "debtor": "OpenAI",
              "creditor": "Microsoft", "select": {"kind": "revenue_share"}, "factor": 0.5}]),
        ScenarioSpec(
            "ai-demand-slowdown",
            "AI demand falls short across the board: AI labs' and neoclouds' revenue from outside the network is "
            "30% below plan and 'up to' compute contracts are used at 70% (OpenAI->CoreWeave [S04], "
            "Meta->CoreWeave [S37]). Markets had started to price it: CoreWeave's 5-year CDS 368->643bp in "
            "Oct-Dec 2025 [S33], Oracle -46% from its September peak [S70]. Cash and binding contracts are "
            "unchanged.",
            _demand_shocks(built) + [{"#": "OpenAI's revenue share to Microsoft falls with its revenue",
                                      "kind": "edges", "select": {"kind": "revenue_share"},
                                      "factor": round(1 - DEMAND_CUT, 6)}]),
        ScenarioSpec(
            "gpu-collateral-writedown",
            "GPU collateral loses value faster than the debt amortises: run flat out, GPUs last 18 months to 2 "
            "years and depreciate over ~2.5-3.5 years (Kedrosky [S74,S75]), while the GPU-backed loans amortise "
            "over 3-5 years [S29,S50]. Lenders enforce loan-to-value: every GPU-backed borrower (CoreWeave's DDTLs "
            "and OEM financing, the xAI GPU vehicle) prepays 30% of principal in 2027 (1/2 - 1/5: one year of a "
            "2-year economic life less one year of a 5-year amortisation).",
            _gpu_shocks(built)),
        ScenarioSpec(
            "private-credit-refinancing-freeze",
            "Private credit and the loan market stop refinancing the AI build-out (Morgan Stanley expects ~$800bn "
            "of private credit to fill the data-centre financing gap to 2028 [S71,S72]; Kedrosky on the duration "
            "mismatch [S74]): debt that matures or needs take-out financing in 2027 must be repaid instead of "
            "rolled: the Abilene construction loans, which must be taken out by term debt (maturity undisclosed "
            "[S46,S47]; assumption abilene_takeout), SoftBank's 1-year "
            "$15bn bridge [S53] and CoreWeave's revolver (matures Jun-2027 [S29]). Longer debt (Vantage, New "
            "Mexico 2029; bonds 2030+) is not due in 2027.",
            _freeze_shocks(built)),
        ScenarioSpec(
            "nvidia-loi-withdrawn",
            "NVIDIA's letter of intent to invest up to $100bn in OpenAI, staged at ~$10bn per GW [S09], never "
            "becomes a definitive agreement (still an LOI on 5-Dec-2025; Nvidia's 10-Q: 'no assurance' [S10]): "
            "the tranche the baseline expects in 2027 does not come.",
            [{"kind": "edges", "debtor": "NVIDIA", "creditor": "OpenAI", "select": {"kind": "equity_commitment"},
              "factor": 0.0}]),
        ScenarioSpec(
            "binding-only",
            "Only binding obligations: every obligation marked contingent = true is switched off: NVIDIA's LOI "
            "[S09,S10], AMD's warrant [S11,S12], the Stargate equity plan [S64], the 'up to' contracts and "
            "commitments [S04,S37,S50,S65], NVIDIA's CoreWeave capacity backstop [S37,S38], the Meta-Oracle talks "
            "[S68] and the Michigan debt still in negotiation [S69].",
            [{"kind": "edges", "select": {"contingent": "true"}, "factor": 0.0}]),
        ScenarioSpec(
            "severe-combined",
            "The bust case, everything at once: OpenAI's revenue at half of plan and no new outside equity (HSBC's "
            "~$207bn gap stays unfunded [S59]); NVIDIA's LOI withdrawn [S10]; the other AI labs and neoclouds 30% "
            "below plan with 'up to' contracts at 70% [S33]; GPU collateral written down (30% prepayment) "
            "[S74,S75]; private credit stops refinancing [S72]; and Oracle cannot raise new debt (KeyBanc: up to "
            "$100bn needed over 4 years [S58]; shares -46% [S70]).",
            [{"#": f"OpenAI keeps its cash {_f(bal['openai'].cash)} and half of the planned revenue {_f(rev)}; "
                   f"no new equity (a value, so that it composes with the assumption variants)",
              "kind": "external_assets", "target": "OpenAI", "value": round(bal["openai"].cash + rev / 2, 6)},
             {"kind": "edges", "debtor": "OpenAI", "creditor": "Microsoft", "select": {"kind": "revenue_share"},
              "factor": 0.5},
             {"kind": "edges", "debtor": "NVIDIA", "creditor": "OpenAI", "select": {"kind": "equity_commitment"},
              "factor": 0.0},
             {"#": f"Oracle: no new debt ({_f(bal['oracle'].funding)} [oracle_new_borrowing])",
              "kind": "external_assets", "target": "Oracle", "absolute": round(bal["oracle"].funding, 6)}]
            + _demand_shocks(built, skip=("openai",)) + _gpu_shocks(built) + _freeze_shocks(built)),
        hyperion_exit_spec(built),
    ]
    for level, other in variants.items():
        out.append(variant_spec(level, built, other))
    return out + path_specs(built)


def hyperion_exit_spec(built: Built) -> ScenarioSpec:
    """Meta leaves the Hyperion campus, the vehicle sells it below cost and Meta's residual value guarantee is
    called (the one shipped scenario in which a guarantee is called)."""
    a, by_id, names = built.assumptions, _edge_by_id(built), _names(built)
    share, cap = a["hyperion_exit_value"], a["hyperion_rvg_cap"]
    value = share * HYPERION_COST
    vehicle = names["hyperion_spv"]
    shocks: list[dict] = [
        {"#": "Meta does not renew its lease: no rent (e045)", "kind": "edges", "select": {"edge_id": "e045"},
         "factor": 0.0},
        {"#": f"the vehicle sells the campus for {_f(share)} x its $27bn cost = {_f(value)} [hyperion_exit_value]",
         "kind": "external_assets", "target": vehicle, "value": round(value, 6)},
    ]
    for eid in ("e066", "e067", "e068"):
        e = by_id[eid]
        shocks.append({"#": f"{vehicle} -> {names[e.creditor]}: the bonds are redeemed from the sale: principal "
                            f"{_f(e.principal)} + the year's coupon {_f(e.amount)}", "kind": "edges",
                       "select": {"edge_id": eid}, "value": round(e.principal + e.amount, 6)})
    shocks += [
        {"#": "Meta's residual value guarantee moves from the campus valued as leased (e045g, owes 0) ...",
         "kind": "edges", "select": {"edge_id": "e045g"}, "factor": 0.0},
        {"#": f"... to the campus as sold (e045x): owes min({_f(cap)}, {_f(HYPERION_COST)} - {_f(value)}) "
              f"[hyperion_rvg_cap]", "kind": "edges", "select": {"edge_id": "e045x"}, "value": round(cap, 6)},
    ]
    return ScenarioSpec(
        "hyperion-tenant-exit",
        f"Meta leaves the Hyperion campus when its 4-year initial lease term ends instead of extending it [S25], "
        f"placed in the 2027 network (the one-year scenarios read every stress on 2027): no rent, the vehicle "
        f"(Beignet Investor, $27.3bn of A+ bonds due 2049 [S24,S26]) sells the campus for {_pct(share)} of its "
        f"$27bn cost [S25] and redeems its bonds from the sale, and Meta's residual value guarantee (16 years, "
        f"capped [S25]) pays the vehicle the fall in value below the cost, up to the cap. The guarantee covers "
        f"the value of the campus, not the bonds: the bondholders (PIMCO, BlackRock, others [S24]) carry the rest.",
        shocks)


FREEZE_YEAR = 2028
SLOWDOWN_START = 2027
#: GPU obsolescence: economic life x 2/3 (3 -> 2 years: "18 months-2 years run flat out", S74)
OBSOLESCENCE_FACTOR = 2 / 3


def _slowdown_shocks(built: Built) -> list[dict]:
    """OpenAI's revenue from 2027 through contagion.paths.demand_slowdown, plus its revenue share to Microsoft."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from contagion.paths import demand_slowdown, slowdown_path

    a = built.assumptions
    plan = {y: v for y, v in openai_plan("central", a).items() if y >= FIRST_YEAR}
    cut = a["slowdown_cut"]
    scen = demand_slowdown("OpenAI", plan, start=SLOWDOWN_START, cut=cut)
    actual = slowdown_path(plan, SLOWDOWN_START, cut)
    out = []
    for sh in scen.shocks:
        d = sh.to_dict()
        y = d["year"]
        if d["kind"] == "external_assets":
            d = {"#": f"{y}: planned revenue {_f(plan[y])}, actual {_f(actual[y])} (growth {_f(cut * 100)} points "
                      f"below plan [slowdown_cut])", **d}
        else:
            d = {"#": f"{y}: OpenAI's cancellable ('up to', plan) obligations x actual / planned revenue", **d}
        out.append(d)
    flows = {r["year"]: r for r in built.cashflows if r["id"] == "openai"}
    cost_ratio = a["openai_other_costs"] / a["openai_revenue"]
    fund = a["openai_new_funding"]
    for y in range(SLOWDOWN_START, LAST_YEAR + 1):
        r = actual[y] / plan[y]
        out.append({"#": f"{y}: new equity {_f(fund)} [openai_new_funding] falls with the revenue (investors fund "
                         f"the plan they see): x {_f(r)}", "kind": "external_assets", "target": "OpenAI",
                    "absolute": round(fund * (1 - r), 6), "year": y})
        if y == 2027:
            out.append({"#": "2027: the 20% revenue share (edge e004r) falls with the revenue", "kind": "edges",
                        "debtor": "OpenAI", "select": {"kind": "revenue_share"}, "factor": round(r, 6), "year": y})
        else:
            before = flows[y]["external_liabilities"]
            after = cost_ratio * plan[y] + 0.2 * actual[y]
            out.append({"#": f"{y}: the 20% revenue share (in its outside liabilities) falls with the revenue; "
                             f"other costs stay as planned: {_f(before)} -> {_f(after)}",
                        "kind": "external_liabilities", "target": "OpenAI", "factor": round(after / before, 6),
                        "year": y})
    return out


def _freeze_path_shocks() -> list[dict]:
    return [{"#": f"private-credit lenders stop rolling maturing principal from {FREEZE_YEAR}", "kind": "freeze",
             "select": {"type": "private_credit"}, "year": FREEZE_YEAR}]


def _obsolescence_shocks() -> list[dict]:
    return [{"#": f"economic life x {_f(OBSOLESCENCE_FACTOR)}: 3 -> 2 years", "kind": "collateral",
             "target": sorted(GPU_FLEETS.values()), "factor": round(OBSOLESCENCE_FACTOR, 6)}]


def path_specs(built: Built) -> list[ScenarioSpec]:
    """Scenarios about the 2026-2030 path: run them with --horizon 2026:2030."""
    cut = built.assumptions["slowdown_cut"]
    slow = (f"OpenAI's revenue grows {_f(cut * 100)} points a year less than planned from 2027 (planned: from the "
            f"$13bn FY2025 target [S62] to HSBC's >$213bn in 2030 [S59], ~75% a year; with the cut ~45%, so "
            f"~$100bn in 2030 [slowdown_cut]); its 'up to' and planned obligations shrink with its revenue, its "
            f"take-or-pay contracts (Oracle $300bn [S01], Azure $250bn [S06], AWS [S08]) do not")
    freeze = (f"private-credit lenders (type private_credit: CoreWeave's DDTL lenders, the xAI vehicle's lenders, "
              f"Magnetar, Blue Owl) stop refinancing maturing principal from {FREEZE_YEAR} (Morgan Stanley counts "
              f"on ~$800bn of private credit to 2028 [S71,S72]; Kedrosky on the duration mismatch [S74])")
    obs = ("GPUs become obsolete in 2 years instead of 3 (run flat out, 18 months-2 years [S74]; 2.5-3.5 years "
           "otherwise [S75]): lenders see the GPU fleets of CoreWeave and the xAI vehicle worth less when the "
           "loans they secure mature")
    return [
        ScenarioSpec("openai-slowdown-2027", f"Path scenario (--horizon 2026:2030): {slow}.", _slowdown_shocks(built),
                     path=True),
        ScenarioSpec("private-credit-freeze-2028", f"Path scenario (--horizon 2026:2030): {freeze}.",
                     _freeze_path_shocks(), path=True),
        ScenarioSpec("gpu-obsolescence", f"Path scenario (--horizon 2026:2030): {obs}.", _obsolescence_shocks(),
                     path=True),
        ScenarioSpec("slowdown-freeze-obsolescence",
                     f"Path scenario (--horizon 2026:2030), the three path stresses together: {slow}; {freeze}; "
                     f"{obs}.", _slowdown_shocks(built) + _freeze_path_shocks() + _obsolescence_shocks(), path=True),
    ]


def variant_spec(level: str, built: Built, other: Built) -> ScenarioSpec:
    """``value =`` shocks that turn the central network into the one built at ``level``."""
    shocks: list[dict] = []
    names = _names(built)
    for n, m in zip(built.nodes, other.nodes):
        for col, kind in (("external_assets", "external_assets"), ("external_liabilities", "external_liabilities")):
            if abs(n[col] - m[col]) > 1e-9:
                shocks.append({"#": f"{_f(n[col])} -> {_f(m[col])} (uses {m['assumptions'].replace(';', ', ')})",
                               "kind": kind,
                               "target": n["name"], "value": round(m[col], 6)})
    central = _edge_by_id(built)
    for e in other.edges:
        c = central[e.edge_id]
        if abs(c.amount - e.amount) > 1e-9:
            shocks.append({"#": f"{names[e.debtor]} -> {names[e.creditor]} ({e.kind}): {_f(c.amount)} -> "
                                f"{_f(e.amount)}: {e.annual_rule}",
                           "kind": "edges", "select": {"edge_id": e.edge_id}, "value": round(e.amount, 6)})
    return ScenarioSpec(
        f"assumptions-{level}",
        f"Every assumption of assumptions.csv at the {level} end of its range instead of its central value "
        f"(same network as `build_ai_infrastructure.py --assumptions {level}`). Ends are ranges of each "
        f"quantity, not a stress direction: the {level} end "
        + ("shortens the undisclosed contract terms (larger annual payments), lowers OpenAI's revenue and new "
           "money and Oracle's borrowing, and thins every buffer." if level == "low" else
           "lengthens the undisclosed contract terms (smaller annual payments), raises OpenAI's revenue and new "
           "money and Oracle's borrowing, and thickens every buffer.")
        + " Compose it with another scenario: --scenario assumptions-" + level + " --scenario NAME.",
        shocks)


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _toml_val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return num(float(v)) if float(v) != int(v) or isinstance(v, float) else str(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_val(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_val(x) for x in v) + "]"
    return _toml_str(str(v))


def scenario_toml(spec: ScenarioSpec) -> str:
    lines = ["# Generated by scripts/build_ai_infrastructure.py from the fact sheet: edit the script, not this file.",
             f"name = {_toml_str(spec.name)}", f"description = {_toml_str(spec.description)}"]
    if not spec.shocks:
        lines.append("shocks = []")
    for shock in spec.shocks:
        lines.append("")
        lines.append("[[shocks]]")
        if "#" in shock:
            lines.append(f"# {shock['#']}")
        for k, v in shock.items():
            if k != "#":
                lines.append(f"{k} = {_toml_val(v)}")
    return "\n".join(lines) + "\n"


DEFAULT_SCENARIO = "openai-revenue-shortfall"
#: ... and for a multi-year path (--horizon): the same story with its shock in its years (the one-year
#: scenario's shocks carry no year and would hit every year of the path)
DEFAULT_PATH_SCENARIO = "openai-slowdown-2027"


def dataset_toml() -> str:
    return "\n".join([
        "# Generated by scripts/build_ai_infrastructure.py.",
        'title = "AI-infrastructure financing network, late 2025, cleared over 2027 (USD bn)"',
        f'default_scenario = "{DEFAULT_SCENARIO}"',
        f'default_path_scenario = "{DEFAULT_PATH_SCENARIO}"',
        'units = "USD bn"',
        f'horizon = "{HORIZON}"',
        "",
    ])



# ====================================================================================== results (README, golden)
#: Why each pinned headline is plausible (written after reading the results; see golden/*.json).
WHY: dict[str, str] = {
    "baseline": (
        "Nobody defaults: once OpenAI raises the ~$41bn a year HSBC says it needs and Oracle the ~$25bn a year "
        "KeyBanc expects, the 2027 plan is internally consistent. OpenAI's margin is thin (~$6bn on ~$126bn of "
        "obligations) and CoreWeave's is small (~$2.7bn on ~$10bn); everyone else's is wide, in line with "
        "late-2025 pricing, where CoreWeave was the stressed name (5-year CDS 643bp, S33)."),
    "openai-revenue-shortfall": (
        "OpenAI alone defaults, fundamentally (wave 0): losing $20bn of revenue (less $4bn of revenue share) wipes "
        "out its ~$6bn margin and it pays ~92% of its ~$122bn. Nobody follows in 2027: Oracle, the largest "
        "creditor, loses ~$4.8bn against a ~$53bn margin, Microsoft ~$2.9bn, CoreWeave ~$0.4bn against ~$2.7bn. "
        "Plausible: each partner is large relative to one year of OpenAI's shortfall; the danger is the multi-year "
        "path, and the cascade needs a second shock (see severe-combined)."),
    "ai-demand-slowdown": (
        "OpenAI (-$12bn of revenue) and xAI (no figures; its assumed 25% margin is smaller than the 30% cut) "
        "default in wave 0. xAI still pays ~88% of its GPU lease, above the 1/1.3 its vehicle needs for its debt "
        "service, so the vehicle survives; CoreWeave survives with ~$0.2bn to spare after its 'up to' contracts "
        "drop to 70%: the slowdown brings it to the edge, as its CDS suggested."),
    "gpu-collateral-writedown": (
        "CoreWeave and the xAI GPU vehicle default in wave 0 on the 30%-of-principal prepayment; the losses fall "
        "on the xAI vehicle's lenders (Apollo, Diameter et al.) and on CoreWeave's unsecured creditors. CoreWeave's "
        "GPU-secured lenders (DDTLs, OEM financing: seniority 1) are paid in full first; its unsecured notes, "
        "revolver, Magnetar loan and outside creditors (seniority 2) share the rest, so the loss moved from the "
        "DDTL lenders (pro rata before seniority was encoded: $0.54bn DDTL 2.0, $0.17bn OpenAI-contract lenders, "
        "$0.15bn DDTL 1.0) to bond investors ($0.12bn) and outside creditors (external shortfall $0.45bn -> "
        "$1.35bn); CoreWeave's own shortfall is unchanged. No second wave: those lenders are large and owe nothing "
        "in the network."),
    "private-credit-refinancing-freeze": (
        "Only the Abilene JV defaults (wave 0): its $9.4bn construction loans need take-out financing in 2027 and "
        "the vehicle has nothing but Oracle's rent, so JPMorgan takes ~$9.2bn. SoftBank repays its $15bn bridge "
        "from its (assumed) resources with ~$3.5bn left, CoreWeave its $0.45bn revolver; the Vantage and New "
        "Mexico loans do not mature before 2029. Plausible: in 2027 the refinancing wall is narrow; the duration "
        "mismatch bites later."),
    "nvidia-loi-withdrawn": (
        "OpenAI defaults (wave 0) by ~$3.8bn: its 2027 plan counts on NVIDIA's first ~$10bn tranche and its margin "
        "is ~$6bn. Its creditors absorb the shortfall pro rata; nobody follows."),
    "binding-only": (
        "Without the contingent deals OpenAI is marginally short (-$0.3bn: it loses NVIDIA's and AMD's money but "
        "also stops paying into Stargate and the 'up to' CoreWeave contract) and CoreWeave defaults: its OpenAI "
        "and Meta contracts are 'up to' and NVIDIA's backstop is contingent, so most of its 2027 revenue in the "
        "network is an option held by its customers. CoreWeave pays ~$4.9bn, ~95% of its GPU-secured debt "
        "service ($5.2bn at seniority 1), so its unsecured notes and outside creditors get nothing (external "
        "shortfall $2.1bn pro rata -> $4.3bn with seniority) and its DDTL lenders lose ~5%."),
    "severe-combined": (
        "Wave 0: OpenAI (pays ~51% with half its revenue and no new money), CoreWeave, xAI, the xAI GPU vehicle "
        "and the Abilene JV. Wave 1: Oracle: with no new debt and OpenAI paying half, its ~$53bn margin is gone. "
        "It still pays ~98%, more than the 1/1.3 of rent its data-centre vehicles need, so there is no wave 2. "
        "Plausible: Oracle needs both a collapse of OpenAI's payments and a closed credit market to fail within "
        "a year. Seniority moves CoreWeave's loss from its GPU-secured lenders to its unsecured creditors "
        "(external shortfall $9.0bn pro rata -> $11.4bn); who defaults does not change."),
    "assumptions-low": (
        "At the low end of every range OpenAI cannot meet 2027 (the 5-year term makes the Azure commitment $50bn a "
        "year, revenue is $20bn, no new money): a fundamental default paying ~39%. SoftBank is marginally short on "
        "$10bn of resources; its Arm margin loans, secured on Arm shares [S55], are paid first, so the loss falls on "
        "its unsecured bridge banks and its Stargate equity call. Oracle survives with a thinner margin: much rests "
        "on the OpenAI assumptions."),
    "hyperion-tenant-exit": (
        "The one scenario in which a guarantee is called. Without Meta the campus sells for 0.6 x $27bn = $16.2bn "
        "and Meta's residual value guarantee pays min(cap 27.3, 27 - 16.2) = $10.8bn (guarantees called: 10.8 of "
        "27.3). The vehicle then holds 16.2 + 10.8 = 27.0 against 27.3 of bonds plus the year's coupon 1.7963 = "
        "29.0963: it defaults (wave 0) with a shortfall of 2.0963, shared pro rata by PIMCO (18/27.3: 1.38), the "
        "other bond investors (0.48) and BlackRock (0.23). Plausible: the guarantee refers to the campus's value "
        "(its $27bn cost), not to the debt, so the bondholders keep the gap between the two and lose the coupon "
        "when the rent stops; Meta pays $10.8bn without strain (its resources are 3x its obligations here, "
        "coverage_large). Nobody else is touched: the bondholders owe nothing in the network."),
    "assumptions-high": "No defaults: at the high end of every range even OpenAI has a wide margin.",
}


def clear_scenarios(files: dict[str, str]) -> dict[str, dict]:
    """Clear every shipped scenario (needs ``contagion``); scenario name -> headline record."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import contagion
    from contagion.shocks import apply, load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            write_text(root / rel, text)
        base = contagion.read_network(root)
        out = {}
        for path in sorted((root / "scenarios").glob("*.toml")):
            scen = load_scenario(path)
            if is_path_scenario(scen):
                continue
            net = apply(base, scen)
            res = contagion.clear(net)
            names = net.names
            order = sorted(range(net.n), key=lambda i: (int(res.default_round[i]), names[i]))
            defaults = [{"name": names[i], "wave": int(res.default_round[i]),
                         "shortfall": _r4(res.shortfall[i]),
                         "obligations": _r4(res.network.total_obligations[i])}
                        for i in order if res.defaulted[i]]
            loss, external = network_losses(res)
            top = sorted((i for i in range(net.n) if loss[i] > 5e-4), key=lambda i: (-loss[i], names[i]))[:6]
            out[scen.name] = {
                "scenario": scen.name,
                "why": WHY.get(scen.name, ""),
                "defaults": defaults,
                "n_defaults": len(defaults),
                "total_shortfall": _r4(res.total_shortfall),
                "external_shortfall": _r4(external),
                "largest_losses": [{"name": names[i], "loss": _r4(loss[i])} for i in top],
            }
            g = net.edges["kind"].isin(GUARANTEE_KINDS).to_numpy()
            called = float(res.network.edges["amount"].to_numpy()[g].sum())
            if called > 0:    # only where a guarantee is called (the other records keep their shape)
                out[scen.name]["guarantees"] = {"given": _r4(net.edges["amount"].to_numpy()[g].sum()),
                                                "called": _r4(called)}
        return out


def _r4(x) -> float:
    """Rounded to 4 decimals for the golden files, without a negative zero (-0.0 + 0.0 = 0.0)."""
    return round(float(x), 4) + 0.0


def network_losses(res):
    """``(loss of each creditor on its network claims, shortfall to outside creditors)`` as the clearing paid them.

    With seniority the creditors of a defaulter are not paid pro rata, while ``res.interbank_loss`` and
    ``res.external_shortfall`` share each debtor's payment pro rata (``Pi.T @ shortfall``). What a creditor really
    received is in its equity (``equity = outside assets + received - obligations``), so the loss is its claims
    less that; the outside creditors lose the rest of the shortfall. Without seniority the two agree (up to
    rounding), and the pro-rata ones are used.
    """
    import numpy as np

    net = res.network
    if getattr(res, "solver", "") != "priority-regimes":
        return res.interbank_loss, float(res.external_shortfall)
    received = res.equity - net.external_assets + net.total_obligations
    loss = net.interbank_assets - received
    loss[np.abs(loss) <= 1e-9 * max(1.0, float(net.total_obligations.max()))] = 0.0
    return loss, float(res.total_shortfall - loss.sum())


def is_path_scenario(scen) -> bool:
    """Whether a scenario is about the path (a dated shock or a path rule): a one-year run skips it."""
    return any(sh.year is not None or sh.years or sh.kind in ("freeze", "collateral") for sh in scen.shocks)


#: Why each pinned path result is plausible (written after reading the results; see golden/path-*.json).
PATH_WHY: dict[str, str] = {
    "baseline": (
        "Nobody defaults over 2026-2030 when the plan holds: OpenAI's revenue follows the path to HSBC's $213bn "
        "[S59] and it raises ~$41bn a year; its cash falls to ~$14bn in 2028, the thinnest year, as the Oracle "
        "contract starts (2027) before the revenue catches up. The banks extend the SPV loans and the SoftBank "
        "bridge (rolled: $113bn in 2029, when Vantage and New Mexico mature); the GPU loans are not rolled once "
        "the fleets' 3-year economic life has run out, so CoreWeave repays DDTL 1.0 and 2.0 in 2029 and $7.6bn in "
        "2030 from its contract cash flows (ending 2030 with ~$9bn) and the xAI vehicle repays $12.5bn in 2030 "
        "from the rent it has accumulated."),
    "openai-slowdown-2027": (
        "OpenAI defaults in 2028, the first year its revenue (~$48bn against a $70bn plan) and the new equity that "
        "follows it no longer cover the take-or-pay contracts (Oracle $60bn a year from 2027, Azure ~$31bn, AWS): "
        "it enters 2028 with ~$17bn of cash, and its default accelerates everything it owes to 2030 (~$466bn due "
        "in 2028, ~23% paid). A one-year view of 2027 sees no default: the cash built up in 2026 carries OpenAI "
        "through 2027. Nobody follows by 2030: its estate keeps paying its creditors pro rata from its revenue "
        "(~$110-135bn a year); Oracle, the largest creditor, still ends 2030 with ~$100bn of cash (it borrows $25bn "
        "a year to 2029); CoreWeave ends 2030 with ~$0.4bn after its 2029-2030 maturities: at the edge."),
    "private-credit-freeze-2028": (
        "No default: the freeze only changes who refinances what. CoreWeave's DDTL 1.0 ($1.8bn, Mar-2028) is "
        "called in 2028 instead of being rolled for a year; the other private-credit loans in the horizon are not "
        "rolled anyway, because the GPU fleets behind them are worth nothing at maturity under a 3-year economic "
        "life. The banks (SPV loans, SoftBank's bridge) keep rolling. The private-credit loans in the network are "
        "small next to CoreWeave's contracted cash flows as long as its customers pay."),
    "gpu-obsolescence": (
        "No default, and the same path as the freeze: with a 2-year life CoreWeave's fleet is worthless by 2028, "
        "so DDTL 1.0 is called in 2028 instead of being rolled; the other GPU loans mature after the fleet's "
        "3-year life anyway. The difference is against book life: with the 6-year accounting life "
        "(gpu_book_life) the fleet would still cover DDTL 1.0 and 2.0 in 2029."),
    "slowdown-freeze-obsolescence": (
        "OpenAI defaults in 2028 as in openai-slowdown-2027; the freeze and the obsolescence move DDTL 1.0 to 2028 "
        "and CoreWeave ends 2030 with ~$0.7bn: its 2029-2030 maturities ($5.0bn + $0.3bn, then $7.6bn) come due "
        "when OpenAI's 'up to' contract has shrunk with OpenAI's revenue and OpenAI pays a fraction of it, and "
        "nothing is refinanced against its GPUs. It survives by a small margin in the central case; the network "
        "leaves out the debt CoreWeave raised after 2025 (FACTS 6), which would make it fail."),
}


def clear_paths(files: dict[str, str]) -> dict[str, dict]:
    """Clear the baseline and every path scenario over 2026-2030; scenario name -> path record."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import contagion
    from contagion.shocks import load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            write_text(root / rel, text)
        base = contagion.read_network(root)
        out = {}
        for path in sorted((root / "scenarios").glob("*.toml")):
            scen = load_scenario(path)
            if scen.name != "baseline" and not is_path_scenario(scen):
                continue
            res = contagion.clear_path(base, (FIRST_YEAR, LAST_YEAR), [scen])
            names = res.names
            order = sorted((y, names[i], i) for i, y in enumerate(res.default_year) if y is not None)
            defaults = []
            for y, name, i in order:
                k = res.years.index(y)
                defaults.append({"name": name, "year": int(y), "wave": int(res.default_round[k, i]),
                                 "shortfall": _r4(res.shortfall[k, i]),
                                 "cash_year_before": _r4(res.cash[k - 1, i]) if k else None})
            years = [{"year": int(r["year"]), "defaults": int(r["defaults"]), "new_defaults": int(r["new_defaults"]),
                      "total_shortfall": _r4(r["total_shortfall"]), "rolled_principal": _r4(r["rolled_principal"]),
                      "called_principal": _r4(r["called_principal"])} for r in res.summary()]
            out[scen.name] = {"scenario": scen.name, "horizon": [FIRST_YEAR, LAST_YEAR],
                              "why": PATH_WHY.get(scen.name, ""), "defaults": defaults, "years": years}
        return out


def golden_files(results: dict[str, dict], paths: dict[str, dict] | None = None) -> dict[str, str]:
    out = {f"golden/{name}.json": json.dumps(rec, indent=2, ensure_ascii=False) + "\n"
           for name, rec in sorted(results.items())}
    for name, rec in sorted((paths or {}).items()):
        out[f"golden/path-{name}.json"] = json.dumps(rec, indent=2, ensure_ascii=False) + "\n"
    return out



# ====================================================================================== README
KIND_RULES = [
    ("compute_purchase_contract", "buyer -> seller", "nominal / term (term from the fact sheet, else "
     "`compute_term_default`, or `openai_azure_term` for the $250bn Azure commitment); a one-off hardware order "
     "(Oracle -> NVIDIA) is spread over `nvidia_order_years`"),
    ("revenue_share", "OpenAI -> Microsoft", "20% of OpenAI's 2027 revenue (S62); derived edge"),
    ("equity_commitment", "investor -> investee", "the part funded in 2027: unfunded remainder (Microsoft), "
     "~$10bn per GW deployed (NVIDIA LOI), the tranche that vests (AMD warrant), amount / funding years (Stargate "
     "plan, 'up to' Anthropic commitments); commitments already funded are excluded"),
    ("lease", "lessee -> lessor", "annual rent; every rent is undisclosed, so rent = `dscr` x the vehicle's 2027 "
     "debt service; Oracle's aggregate $248bn / 17 years keeps only the part not modelled site by site"),
    ("loan, bond, credit_facility", "borrower -> lender", "interest for the year (stated rate, else SOFR + stated "
     "spread, else an assumed rate) + scheduled amortisation (GPU-backed loans: straight-line to maturity). "
     "Principal that matures in 2027 or needs take-out financing is assumed refinanced (column "
     "`refinancing_due_usd_bn`); `private-credit-refinancing-freeze` makes it due"),
    ("vendor_financing", "obligor -> beneficiary", "CoreWeave's OEM financing: interest + instalments; NVIDIA's "
     "capacity backstop: $6.3bn / 7.25 years (contingent)"),
    ("syndicate_share", "syndicate -> member", "allocations undisclosed: kept at 0 (included = false); the "
     "syndicate node is the creditor"),
    ("residual_value_guarantee", "guarantor -> vehicle", "`amount` = the cap (`hyperion_rvg_cap`); owes "
     "min(cap, max(0, `residual_value` - `asset_value`)), 0 unless the tenant leaves (DESIGN.md section 8)"),
]


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    esc = lambda x: str(x).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _amt(x: float) -> str:
    return f"{x:,.2f}"


def _sponsor_label(item: str, names: dict[str, str]) -> str:
    nid, _, share = item.partition(":")
    return names.get(nid, nid) + (f" {_pct(float(share))}" if share else "")


def guarantees_section(w, built: Built, results: dict[str, dict], names: dict[str, str]) -> None:
    """README: Meta's residual value guarantee, secured vs unsecured debt, the tenant-exit scenario."""
    a = built.assumptions
    by_id = _edge_by_id(built)
    g, x = by_id["e045g"], by_id["e045x"]
    rec = results.get("hyperion-tenant-exit", {})
    called = rec.get("guarantees", {})
    w("## Guarantees and security")
    w("")
    w("The DESIGN.md section 8 columns, where the fact sheet supports them (column `security` on each row says "
      "why, with its source or assumption). They make `contagion` clear this network with the priority solver "
      "(`res.solver == \"priority-regimes\"`).")
    w("")
    w(f"- **Meta's residual value guarantee on the Hyperion campus** [S25] (16 years, 'capped'; FACTS 7: Meta's "
      f"exposure to its off-balance-sheet vehicle is the lease and this guarantee). Rows `e045g` / `e045x`, kind "
      f"`residual_value_guarantee`, Meta -> the vehicle: `residual_value` K = the campus's reported cost "
      f"{_f(HYPERION_COST)} [S25]; cap {_f(a['hyperion_rvg_cap'])} (`hyperion_rvg_cap`: the $27.3bn of bonds; "
      f"range {_f(A_ROWS['hyperion_rvg_cap'][4])}-{_f(A_ROWS['hyperion_rvg_cap'][5])}). `e045g` values the "
      f"campus at cost while Meta leases it (`asset_value` {_f(g.asset_value)}: owes 0, so no existing scenario "
      f"calls it); `e045x` is the same guarantee at the value of the campus sold without Meta (`asset_value` "
      f"{_f(x.asset_value)} = `hyperion_exit_value` {_f(a['hyperion_exit_value'])} x cost), with cap 0 until Meta "
      "leaves. Two rows because no shock can set `asset_value` (the `edges` kind sets `amount` only): "
      "`hyperion-tenant-exit` moves the cap from `e045g` to `e045x`. On the path both rows start in 2030, the "
      "first year Meta can leave (4-year initial term [S25], rent from 2026).")
    w("- **Sponsor support of the other vehicles**: none reported beyond the leases (Oracle for Abilene, Vantage, "
      "New Mexico and Michigan; xAI for its GPU vehicle, a triple-net lease [S51]); the Vantage vehicles are "
      "ring-fenced (FT: SPV/VIE [S21]). No `guarantee` row (`covers`) is encoded: the fact sheet reports no "
      "guarantee of a vehicle's debt.")
    w("- **Secured vs unsecured debt** (`seniority`; 1 = paid first). Where a debtor has debt reported as secured, "
      "that debt ranks 1 and every other obligation of the debtor 2, and its outside creditors (suppliers, power, "
      "staff: `external_seniority` 2 in nodes.csv) rank with the unsecured. Seniority only matters for a debtor in "
      "default: CoreWeave (gpu-collateral-writedown, binding-only, severe-combined) and SoftBank (assumptions-low).")
    w("")
    rows = [[e.edge_id, names[e.debtor], names[e.creditor], e.kind, str(e.seniority), e.security]
            for e in built.edges if e.seniority is not None]
    w(_md_table(["edge", "debtor", "creditor", "kind", "seniority", "why"], rows))
    w("")
    w("Why `seniority` and not `collateral_value` on the GPU-backed loans: the collateral (CoreWeave's fleet, "
      "$12.3bn / 0.65 = $19.0bn on 1 Jan 2026 in collateral.csv; the xAI vehicle's ~$20bn; Arm shares; a campus) is "
      "worth far more than what falls due in a year, so the secured claim is the whole amount and ranking it first "
      "is the same clearing. `collateral_value` cannot exceed the obligation (DESIGN.md section 8), and the amounts "
      "change under the scenarios (binding-only sets the xAI vehicle's loans to 0; assumptions-low lowers the "
      "interest), so any fixed `collateral_value` that is right for the 2027 amounts makes those runs fail with a "
      "located error (on a path each year's secured claim is capped at what falls due that year).")
    w("")
    if called:
        w(f"**Called guarantee**: `contagion run ai-infrastructure -s hyperion-tenant-exit` - Meta leaves, the "
          f"campus sells for {_f(x.asset_value)}, the guarantee pays min({_f(a['hyperion_rvg_cap'])}, "
          f"{_f(HYPERION_COST)} - {_f(x.asset_value)}) = {_f(called['called'])} (the summary's 'guarantees called "
          f"(of those given)': {_amt(called['called'])} of {_amt(called['given'])}); `contagion info "
          f"ai-infrastructure` lists Meta's guarantees given. Pinned in `golden/hyperion-tenant-exit.json` (key "
          f"`guarantees`). The assumption variants cannot move `asset_value` or the exit cap (no shock sets "
          f"them): for the ends of `hyperion_exit_value`, build with `--assumptions low|high --out DIR`.")
        w("")


def readme(built: Built, results: dict[str, dict], sources: dict[str, str], paths: dict[str, dict],
           unranked: list[str] | None = None) -> str:
    names = _names(built)
    edges = built.edges
    inc = [e for e in edges if e.included]
    n_src = len(edges) - 2
    out: list[str] = []
    w = out.append
    w("# AI-infrastructure financing network, late 2025, cleared over 2027 (USD bn)")
    w("")
    w("The OpenAI-centred web of compute contracts, equity commitments, leases and loans of Sep-Dec 2025, as a "
      "network of obligations for one year of clearing. It is the default dataset of `contagion`: "
      "`contagion run` with no argument clears it under its default scenario, "
      f"`{DEFAULT_SCENARIO}`. Every amount is either a figure from the fact sheet (with its source) or computed "
      "from labelled assumptions (`assumptions.csv`) by the rules below; nothing else is invented.")
    w("")
    w("**Generated file** - written by `python scripts/build_ai_infrastructure.py` (with the fact sheet at "
      "`../shared/data/ai-infra/` next to the repository, or `--source DIR`); edit the script, not the files. The "
      "build is deterministic and `tests/test_ai_infrastructure.py` checks that the shipped files equal its "
      "output.")
    w("")
    w("## Provenance")
    w("")
    w(f"- Fact sheet `FACTS.md` + `nodes.csv` + `edges.csv`: {len(built.nodes)} institutions and {n_src} "
      "obligations (62 with a dollar amount) reported between 2023 and Dec-2025, mostly from secondary reposts "
      "of Bloomberg, Reuters, FT, WSJ and The Information, plus SEC filings and company releases. Items first "
      "reported in 2026 are not used (FACTS 6).")
    w("- Each row of `edges.csv` keeps its `source` (full citation with the [Sxx] key of the list below), "
      "`reported` date, the fact sheet's `notes`, the headline `nominal_usd_bn` and `fact_row` (its row in the "
      "fact sheet's edges.csv, header = row 1). Two rows are derived (`e004r` OpenAI's revenue share to "
      "Microsoft; `e090a` Apollo's disclosed share of the xAI vehicle debt) and name their source.")
    w("- `nodes.csv` keeps the fact sheet's reported figures (`revenue_reported`, `cash_reported`, "
      "`debt_reported`, `equity_reported`), its `full_name`, `source` and `notes`, and says in `basis` how "
      "`external_assets` and `external_liabilities` were computed, split into `assets_cash`, `assets_revenue`, "
      "`assets_new_money`, `assets_buffer`, `liabilities_costs`, `liabilities_debt_service`, `liabilities_capex`.")
    w("- Columns `assumptions` (nodes and edges) name every assumption a number uses.")
    w("")
    w("Files: `nodes.csv`, `edges.csv`, `assumptions.csv`, `assumption_effects.csv` (what each assumption moves, "
      "for `contagion sensitivity`), `collateral.csv` and `cashflows.csv` (the 2026-2030 "
      "path), `dataset.toml` (title, default scenario for one year and for a path), `scenarios/*.toml`, `golden/*.json` (pinned headline "
      "results, checked by the tests; `golden/path-*.json` for the path).")
    w("")
    w("## Horizon and units")
    w("")
    w("- **One year, calendar 2027**, the first year in which OpenAI's $300bn Oracle contract runs (Oracle 8-K: "
      ">$30bn a year from FY2028; WSJ: from 2027) and the first full year of the AWS, AMD and Broadcom "
      "deliveries (capacity from H2-2026). Amounts are **USD bn falling due in 2027**, not headline values.")
    w("- Resources at the start of 2027 are the latest reported figures (2025); flows of 2026 are not modelled "
      "except where the fact sheet has them (OpenAI's H2-2025 burn and SoftBank's Dec-2025 tranche).")
    w("- Capital expenditure and the new money that pays for it are left out on both sides, except for Oracle, "
      "whose capex (FY26 guidance ~$50bn) and borrowing need (KeyBanc: up to $100bn over 4 years) the fact sheet "
      "documents, and for OpenAI's new equity (HSBC's funding gap). Contracted purchases that are edges (Oracle's "
      "NVIDIA order) are obligations.")
    w("- Clearing is Eisenberg-Noe by default: creditors inside and outside the network share pro rata. Equity "
      "stakes are not obligations: a sponsor's loss on its equity in a failing vehicle is not in the clearing "
      "(see `contagion info` for the debt behind each sponsor).")
    w("")
    w("## Obligations: what falls due in 2027, by kind")
    w("")
    rows = []
    for kind, direction, rule in KIND_RULES:
        kinds = [k.strip() for k in kind.split(",")]
        sel = [e for e in inc if e.kind in kinds]
        rows.append([f"`{kind}`", direction, rule, str(len(sel)), _amt(sum(e.amount for e in sel))])
    w(_md_table(["kind", "direction", "2027 amount", "included", "USD bn"], rows))
    w("")
    owed = [e for e in inc if e.kind not in GUARANTEE_KINDS]
    w(f"{len(owed)} obligations carry an amount ({_amt(sum(e.amount for e in owed))} in all), plus Meta's residual "
      "value guarantee (two rows whose `amount` is a cap, not what falls due: see Guarantees and security); "
      f"{sum(1 for e in edges if e.contingent and e.included)} of them are contingent. Columns: `amount` = 2027 "
      "amount; `annual_rule` = how it was computed; `amount_basis` = derived (arithmetic on reported figures) or "
      "assumption; `estimate` = true when the amount rests on an assumption, an 'up to', a plan, talks, a "
      "mark-to-market or an unconfirmed value; `principal_usd_bn`, `rate`, `term_years`, `collateral` (a GPU fleet of "
      "`collateral.csv`), `refinancing_due_usd_bn` for debt; the dated columns of the path are described under "
      "Multi-year.")
    w("")
    w("## External assets and liabilities")
    w("")
    w("External assets are cash plus revenue from outside the network, plus new money where the fact sheet "
      "documents a need (OpenAI's equity, Oracle's debt); external liabilities are outside cash costs, interest on "
      "debt outside the network and (Oracle) capex. Rules for institutions without figures:")
    w("")
    w("- AI labs and large firms without figures that owe something here (Anthropic, xAI, Meta, AMD, MGX): "
      "outside resources = (1 + margin) x their modelled obligations (`coverage_ai_lab`, `coverage_large`); "
      "SoftBank: `softbank_resources`; Crusoe: its Oct-2025 raise (`crusoe_cash`).")
    w("- Named banks and asset managers: a **placeholder buffer** (`bank_buffer` 100, `manager_buffer` 20; Blue "
      "Owl its $29.5bn market value), so that they absorb losses. They owe nothing in the network, so they "
      "cannot default here; the buffer only sets the level of their equity column, and their losses are "
      "visible as shortfalls.")
    w("- Vehicles (SPVs) hold no reserves: they pay from the rent they receive. Syndicates, bond investors, OEM "
      "financiers and institutions that owe nothing here have 0.")
    w("")
    rows = [[n["name"], _amt(n["external_assets"]), _amt(n["external_liabilities"]), n["basis"]]
            for n in built.nodes if n["external_assets"] or n["external_liabilities"]]
    w(_md_table(["institution", "external assets", "external liabilities", "basis"], rows))
    w("")
    w("## Contingent and non-binding obligations")
    w("")
    w("`contingent = true` marks every obligation that is not a binding figure (column `commitment`: "
      "`non_binding`, `up_to`, `plan`, `in_talks`, `estimate`, `contingent`):")
    w("")
    rows = [[e.edge_id, names[e.debtor], names[e.creditor], e.kind, e.commitment, _amt(e.amount)]
            for e in edges if e.contingent]
    w(_md_table(["edge", "debtor", "creditor", "kind", "commitment", "2027 amount"], rows))
    w("")
    w("**The baseline includes them**, at their 2027 amounts: the late-2025 plans of the partners were built on "
      "these deals (OpenAI's funding counts on NVIDIA's money, CoreWeave's backlog on the 'up to' contracts, "
      "Oracle's RPO on Meta's commitments), and a scenario can only switch obligations off (`factor = 0`), not "
      "on. `binding-only` switches all of them off (`select = { contingent = \"true\" }`); "
      "`nvidia-loi-withdrawn` only the LOI.")
    w("")
    w("## Overlaps (FACTS 7): what is kept and what is dropped")
    w("")
    w(_md_table(["overlap", "kept", "dropped / how"], [
        ["Oracle's aggregate $248bn of leases vs the site leases", "the four site leases (Abilene, Vantage, New "
         "Mexico, Michigan) and the aggregate's remainder (e044: 248/17 less the site rents)",
         "the part of the aggregate equal to the site rents"],
        ["Apollo's $3.5bn inside the $12.5bn xAI vehicle plan", "e090 ($9bn, other lenders) + e090a ($3.5bn, "
         "Apollo direct)", "e091 syndicate row Apollo (included = false)"],
        ["SoftBank's $8.5bn bridge (FT) vs the $15bn bridge (Bloomberg)", "the itemised $15bn (Mizuho, SMBC, "
         "JPMorgan, other banks)", "e107 $8.5bn (included = false)"],
        ["Microsoft's $13bn OpenAI commitment, $11.6bn funded", "the unfunded $1.4bn (e020)", "the funded $11.6bn"],
        ["Hyperion remainder $6.3bn (upper bound)", "kept: 27.3 - 18 - 3 is the only source for the rest of the "
         "bonds; flagged estimate", "-"],
        ["Abilene: FT $9.6bn vs $2.3bn + $7.1bn", "the two itemised loans ($9.4bn)", "the FT round figure"],
    ]))
    w("")
    w("## Obligations kept at 0 (included = false)")
    w("")
    rows = [[e.edge_id, names[e.debtor], names[e.creditor], e.kind, num(e.nominal) or "-",
             e.annual_rule.replace("excluded: ", "")] for e in edges if not e.included and e.kind != "syndicate_share"]
    w(_md_table(["edge", "debtor", "creditor", "kind", "nominal", "why"], rows))
    w("")
    n_synd = sum(1 for e in edges if e.kind == "syndicate_share")
    w(f"Plus {n_synd} `syndicate_share` rows (syndicate -> member bank): allocations are undisclosed (FACTS 0), "
      "so the syndicate node (`entity = syndicate`, members in `members`) is the creditor and its loss is the "
      "syndicate's; the membership rows stay visible with amount 0.")
    w("")
    w("## Off-balance-sheet vehicles and their sponsors")
    w("")
    w("Vehicles are typed `data_center_spv` (`entity = vehicle`). `sponsor` names the institution whose payments "
      "service the vehicle's debt (the tenant, or xAI as GPU lessee), with `sponsor_share` 1; equity sponsors "
      "are listed in `equity_sponsors` for information. `contagion info ai-infrastructure` adds up, per sponsor, "
      "its own debt, its leases and its vehicles' debt (2027 amounts).")
    w("")
    rows = []
    for n in built.nodes:
        if n["entity"] != "vehicle":
            continue
        vid = n["id"]
        debt = [e for e in inc if e.debtor == vid and e.kind in DEBT_KINDS]
        rent = sum(e.amount for e in inc if e.creditor == vid and e.kind == "lease")
        rows.append([n["name"], ", ".join(names.get(x, x) for x in n["sponsor"].split(";") if x),
                     ", ".join(_sponsor_label(x, names) for x in n["equity_sponsors"].split(";") if x),
                     _amt(sum(e.principal or 0 for e in debt)),
                     _amt(sum(e.amount for e in debt)), _amt(rent)])
    w(_md_table(["vehicle", "sponsor", "equity sponsors", "debt principal", "2027 debt service", "2027 rent in"],
                rows))
    w("")
    w("FT's ~$96bn of partner borrowing tied to OpenAI (S56-S58) = ~$28bn Blue Owl/Crusoe SPV loans + $38bn "
      "Vantage + >=$30bn SoftBank/Oracle/CoreWeave; the network's SPV loans give "
      f"{_amt(sum(e.nominal or 0 for e in edges if e.debtor in ('abilene_jv', 'nm_jupiter') and e.kind in DEBT_KINDS))}"
      f" + {_amt(sum(e.nominal or 0 for e in edges if e.debtor == 'vantage_oracle_spvs' and e.kind in DEBT_KINDS))}.")
    w("")
    guarantees_section(w, built, results, names)
    w("## Assumptions")
    w("")
    w("Every number the fact sheet does not give, in `assumptions.csv` (id, applies_to, quantity, value, low, "
      "high, basis, source). Change a value and rebuild, or run at an end of every range: "
      "`--scenario assumptions-low` / `--scenario assumptions-high` (composable with any other scenario, e.g. "
      "`contagion run --scenario assumptions-low --scenario openai-revenue-shortfall`), or "
      "`python scripts/build_ai_infrastructure.py --assumptions low --out DIR`. "
      "`assumption_effects.csv` lists, for each assumption alone at each end of its range, every amount it "
      "moves and the derivative"
      + (f" (the {len(unranked)} assumptions that move no amount of the one-year network -- "
         f"{', '.join(f'`{a}`' for a in unranked)}: they act on the multi-year path or inside a scenario -- have no "
         f"rows, and `--rank-assumptions` names them under its table)" if unranked else "")
      + "; `contagion sensitivity --rank-assumptions NAME` ranks the assumptions by how much they move NAME's "
      "equity (the tornado), `--wrt assumption:KEY` gives the derivative of every institution.")
    w("")
    w(_md_table(["id", "applies to", "quantity", "value", "low", "high", "basis", "source"],
                [[f"`{i}`", ap, q, num(v), num(lo), num(hi), b, src] for i, ap, q, v, lo, hi, b, src in ASSUMPTIONS]))
    w("")
    w("Declared rules that are not numbers: debt interest is charged on the last reported principal; rent covers "
      "debt service with the `dscr` margin; a disclosed syndicate allocation becomes a direct edge; undisclosed "
      "allocations stay with the syndicate node.")
    w("")
    w("## Scenarios and their headline results")
    w("")
    w("`contagion scenarios ai-infrastructure` lists them with their descriptions (each tied to the fact sheet's "
      "sources); `contagion run --scenario NAME`. Results below are Eisenberg-Noe, central assumptions, and are "
      "pinned in `golden/NAME.json` with a note on why they are plausible.")
    w("")
    rows = []
    for name, rec in sorted(results.items(), key=lambda kv: (kv[0] != "baseline", kv[0])):
        d = "; ".join(f"{x['name']} (wave {x['wave']})" for x in rec["defaults"]) or "none"
        top = ", ".join(f"{x['name']} {_amt(x['loss'])}" for x in rec["largest_losses"][:4]) or "-"
        rows.append([f"`{name}`" + (" (default)" if name == DEFAULT_SCENARIO else ""), d,
                     _amt(rec["total_shortfall"]), top])
    w(_md_table(["scenario", "defaults", "total shortfall", "largest losses on network claims"], rows))
    w("")
    for name, rec in sorted(results.items(), key=lambda kv: (kv[0] != "baseline", kv[0])):
        w(f"- **{name}**: {rec['why']}")
    w("")
    w("## Multi-year: 2026-2030")
    w("")
    w("`contagion run ai-infrastructure --horizon 2026:2030` clears the network year by year (DESIGN.md section 7): "
      "rollover decisions on the state at the start of each year, interest and principal due, exact clearing, "
      "acceleration of a defaulter's later debts, cash carried forward. The one-year `amount` column is untouched "
      "(a plain `contagion run` and the one-year scenarios give the same results as before); the path reads:")
    w("")
    w("- **Dated columns of `edges.csv`**: recurring rows (contracts, leases, equity calls) carry `start`/`end` "
      "over their term; debt rows `principal` (= `principal_usd_bn`), `rate`, `maturity`, `amortization`, "
      "`rollover` (`always` where an extension or take-out is reported or assumed, `ltv` for the GPU-backed loans "
      "with `max_ltv` and `collateral`, `none` otherwise) and `term_years` (years a rolled principal is re-lent: "
      "the original term; blank = 1). Column `path_basis` says why, with the source or the assumption.")
    w("- **`collateral.csv`**: one GPU fleet per GPU borrower, valued on 1 Jan 2026, straight-line to zero over "
      "its **economic life** (`gpu_economic_life`, 3 years; sources: 2.5-3.5 years [S75], 18 months-2 years run "
      "flat out [S74]). Column `book_life` keeps the **accounting life** (`gpu_book_life`, 6 years): to judge "
      "rollovers on book values instead, add a scenario with `kind = \"collateral\"`, `factor = 2` "
      "(6 / 3), or edit `economic_life`.")
    w("- **`cashflows.csv`**: outside money per year where it is not the same every year: OpenAI's planned "
      "revenue path (geometric from $13bn in 2025 to $213bn in 2030 [S59,S62]; 2027 = `openai_revenue`), its new "
      "equity and costs; Oracle's borrowing (KeyBanc's $100bn over 2026-2029 [S58]) and NVIDIA order; "
      "CoreWeave's costs on each year's contract revenue; and the stocks (cash, buffers, SoftBank's resources), "
      "given in 2026 only and then carried forward.")
    w("")
    rows = [[c["id"], _amt(c["value"]), str(c["year"]), num(c["economic_life"]), num(c["book_life"]),
             c["secures"].replace(";", ", "), c["basis"]] for c in built.collateral]
    w(_md_table(["collateral", "value", "year", "economic life", "book life", "secures", "basis"], rows))
    w("")
    rows = [[e.edge_id, names[e.debtor], names[e.creditor], _amt(e.principal or 0), str(e.maturity),
             e.amortization, e.rollover + (f" ({num(e.max_ltv)})" if e.max_ltv else ""), e.path_basis]
            for e in edges if e.maturity is not None and e.included]
    w(_md_table(["edge", "borrower", "lender", "principal", "maturity", "amortization", "rollover", "why"], rows))
    w("")
    w("New assumptions of the path (in the table above, with their ranges): `gpu_economic_life`, `gpu_book_life`, "
      "`gpu_max_ltv`, `gpu_balloon`, `undisclosed_debt_term`, `meta_bond_maturity`, `oracle_lease_start`, "
      "`openai_revenue_2030`, `slowdown_cut`. Declared rules: a stock (cash, buffer, SoftBank's resources) is "
      "given once, in 2026; Oracle's outside revenue stays at its FY26 guidance; OpenAI's other costs stay at 30% "
      "of the planned revenue in a slowdown (hired ahead of it), while its new equity falls with its revenue. "
      "The `assumptions-low`/`-high` scenarios are one-year (they set 2027 values every year): for a path at an "
      "end of the ranges, build with `--assumptions low --out DIR` and run that folder.")
    w("")
    w("Sensitivity: Oracle's thinnest year on the path is 2026 (~$0.6bn to spare in the central case: the NVIDIA "
      "order, the site rents and its capex start before OpenAI's payments do, and it borrows $25bn). Built at "
      "either end of the ranges (`--assumptions low|high`) Oracle fails in 2026 (low: $10bn of new debt; high: "
      "$70bn of capex); at the low end OpenAI, CoreWeave, SoftBank and the xAI vehicle fail in 2026 as well. The "
      "central path rests on Oracle's 2026 financing.")
    w("")
    w("Path scenarios (they carry dated shocks or path rules, so a one-year run skips them): "
      "`contagion run ai-infrastructure --horizon 2026:2030 -s NAME`. Results, pinned in `golden/path-NAME.json`:")
    w("")
    rows = []
    for name, rec in sorted(paths.items(), key=lambda kv: (kv[0] != "baseline", kv[0])):
        d = "; ".join(f"{x['name']} ({x['year']})" for x in rec["defaults"]) or "none"
        rolled = ", ".join(f"{y['year']}: {_amt(y['rolled_principal'])}/{_amt(y['called_principal'])}"
                           for y in rec["years"])
        rows.append([f"`{name}`", d, _amt(sum(y["total_shortfall"] for y in rec["years"])), rolled])
    w(_md_table(["scenario", "defaults (year)", "shortfall 2026-2030", "principal rolled / called, by year"], rows))
    w("")
    for name, rec in sorted(paths.items(), key=lambda kv: (kv[0] != "baseline", kv[0])):
        w(f"- **{name}**: {rec['why']}")
    w("")
    w("## Limitations")
    w("")
    w("- Undisclosed amounts are left out, not guessed: OpenAI's AMD and Broadcom purchases and Anthropic's "
      "Google TPUs. OpenAI's modelled 2027 obligations (~$114bn in the network) are therefore below the "
      "~$175bn a year implied by $1.4tn over 8 years.")
    w("- Debt raised after Dec-2025 (FACTS 6) is not in the network, so 2027 debt service of CoreWeave and "
      "others is understated; equity stakes are not obligations and are not cleared. Security is encoded as "
      "`seniority` (secured debt paid first), not as `collateral_value` (see Guarantees and security); the only "
      "guarantee the fact sheet reports is Meta's residual value guarantee.")
    w("- Balance sheets of banks, asset managers, hyperscalers other than Microsoft, AMD, Broadcom, Anthropic, "
      "xAI and SoftBank are not in the fact sheet: their figures are rules or placeholders (above); the "
      "low/high scenarios show how much results depend on them.")
    w("- One year, one clearing: no fire sales, no rating triggers, no renegotiation; default costs only with "
      "`--method rogers-veraart`.")
    w("- On the path: no new debt or capex beyond the plans above (CoreWeave's contracts need GPUs that new, "
      "unmodelled loans would finance, so its debt service is understated); a defaulter's estate keeps its "
      "outside income and pays its creditors pro rata; each GPU loan is judged against its borrower's whole "
      "fleet (the engine does not share a fleet between loans).")
    w("")
    w("## Sources")
    w("")
    for key, line in sorted(sources.items()):
        w(f"- [{key}] {line}")
    w("")
    return "\n".join(out)


# ====================================================================================== writing
NODE_COLUMNS = ["id", "name", "type", "external_assets", "external_liabilities", "entity", "sponsor", "sponsor_share",
                "equity_sponsors", "members", "assets_cash", "assets_revenue", "assets_new_money", "assets_buffer",
                "liabilities_costs", "liabilities_debt_service", "liabilities_capex", "revenue_reported",
                "cash_reported", "debt_reported", "equity_reported", "basis", "assumptions", "external_seniority",
                "full_name", "source", "notes"]
EDGE_COLUMNS = ["edge_id", "debtor", "creditor", "amount", "kind", "contingent", "commitment", "included",
                "nominal_usd_bn", "principal_usd_bn", "rate", "term_years", "annual_rule", "amount_basis", "estimate",
                "assumptions", "collateral", "refinancing_due_usd_bn", "start", "end", "principal", "maturity",
                "amortization", "rollover", "max_ltv", "path_basis", "seniority", "residual_value", "asset_value",
                "security", "reported", "source", "notes", "fact_row"]
COLLATERAL_COLUMNS = ["id", "value", "year", "economic_life", "book_life", "secures", "basis", "assumptions"]
CASHFLOW_COLUMNS = ["id", "year", "external_assets", "external_liabilities", "basis", "assumptions"]


def num(x: float | None, digits: int = 6) -> str:
    """Deterministic text for a number: rounded, no exponent, no trailing zeros."""
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    v = round(float(x), digits)
    if v == 0:
        return "0"
    s = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return s


def edge_record(e: Edge) -> dict:
    return {
        "edge_id": e.edge_id, "debtor": e.debtor, "creditor": e.creditor, "amount": num(e.amount), "kind": e.kind,
        "contingent": "true" if e.contingent else "false", "commitment": e.commitment,
        "included": "true" if e.included else "false", "nominal_usd_bn": num(e.nominal),
        "principal_usd_bn": num(e.principal), "rate": num(e.rate), "term_years": num(e.term_years),
        "annual_rule": e.annual_rule, "amount_basis": e.amount_basis,
        "estimate": "true" if e.included and (e.assumptions or e.unconfirmed or e.commitment in ESTIMATE_COMMITMENTS
                                              or "ESTIMATE" in e.notes or "DERIVED" in e.notes) else "false",
        "assumptions": ";".join(e.assumptions), "collateral": e.collateral,
        "refinancing_due_usd_bn": num(e.refinancing_due) if e.refinancing_due else "",
        "start": "" if e.start is None else str(e.start), "end": "" if e.end is None else str(e.end),
        "principal": num(e.principal) if e.maturity is not None else "",
        "maturity": "" if e.maturity is None else str(e.maturity), "amortization": e.amortization,
        "rollover": e.rollover, "max_ltv": num(e.max_ltv), "path_basis": e.path_basis,
        "seniority": "" if e.seniority is None else str(e.seniority), "residual_value": num(e.residual_value),
        "asset_value": num(e.asset_value), "security": e.security,
        "reported": e.reported, "source": e.source, "notes": e.notes, "fact_row": str(e.fact_row),
    }


def node_record(n: dict) -> dict:
    out = {}
    for c in NODE_COLUMNS:
        v = n[c]
        out[c] = num(v) if isinstance(v, float) else v
    return out


def to_csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writeheader()
    for r in rows:
        w.writerow({c: r[c] for c in columns})
    return buf.getvalue()


def assumptions_csv() -> str:
    rows = [{"id": i, "applies_to": ap, "quantity": q, "value": num(v), "low": num(lo), "high": num(hi),
             "basis": b, "source": s} for i, ap, q, v, lo, hi, b, s in ASSUMPTIONS]
    return to_csv(rows, ["id", "applies_to", "quantity", "value", "low", "high", "basis", "source"])


def write_text(path: Path, text: str) -> None:
    """Atomic write (temp file + rename), as every file of the project."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def render_files(source: Path, level: str = "central", golden: bool = False) -> dict[str, str]:
    """Every generated file of the dataset: relative path -> text."""
    built = build_network(source, level)
    variants = {lv: build_network(source, lv) for lv in ("low", "high")} if level == "central" else {}
    effects = assumption_effects(source) if level == "central" else None
    files = {
        "nodes.csv": to_csv([node_record(n) for n in built.nodes], NODE_COLUMNS),
        "edges.csv": to_csv([edge_record(e) for e in built.edges], EDGE_COLUMNS),
        "assumptions.csv": assumptions_csv(),
        **({"assumption_effects.csv": assumption_effects_csv(effects)} if level == "central" else {}),
        "collateral.csv": to_csv([{k: (num(v) if isinstance(v, float) else v) for k, v in r.items()}
                                  for r in built.collateral], COLLATERAL_COLUMNS),
        "cashflows.csv": to_csv([{k: (num(v) if isinstance(v, float) else v) for k, v in r.items()}
                                 for r in built.cashflows], CASHFLOW_COLUMNS),
        "dataset.toml": dataset_toml(),
    }
    for spec in scenario_specs(built, variants):
        files[f"scenarios/{spec.name}.toml"] = scenario_toml(spec)
    results = clear_scenarios(files)
    paths = clear_paths(files)
    moving = None if effects is None else {r["assumption"] for r in effects}
    unranked = None if moving is None else [a[0] for a in ASSUMPTIONS if a[0] not in moving]
    files["README.md"] = readme(built, results, read_sources(source / "FACTS.md"), paths, unranked)
    if golden:
        files.update(golden_files(results, paths))
    return files


#: the files of the fact sheet the build reads
FACT_FILES = ("FACTS.md", "nodes.csv", "edges.csv")


def fact_sheet_missing(source: Path, missing: list[str], default: bool) -> str:
    """Two lines for a fact sheet that is not there: where the build looked and how to point it elsewhere."""
    where = f"{source}, the default (../shared/data/ai-infra beside the checkout {REPO})" if default else str(source)
    if len(missing) == len(FACT_FILES) or not source.is_dir():
        first = f"error: no ai-infra fact sheet ({', '.join(FACT_FILES)}) in {where}"
    else:
        first = f"error: the ai-infra fact sheet in {where} is incomplete: {', '.join(missing)} missing"
    how = ("put the fact sheet there, or give its folder: " if default else "give the folder that holds "
           f"{', '.join(FACT_FILES)}: ")
    return f"{first}\n  {how}python scripts/build_ai_infrastructure.py --source DIR"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="fact-sheet folder (FACTS.md, nodes.csv, "
                   "edges.csv); default: <repo>/../shared/data/ai-infra")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder; default: graphs/ai-infrastructure")
    p.add_argument("--assumptions", choices=LEVELS, default="central",
                   help="build the network at this end of every assumption range (default: central)")
    p.add_argument("--golden", action="store_true", help="also rewrite golden/<scenario>.json (needs contagion)")
    args = p.parse_args(argv)
    missing = [f for f in FACT_FILES if not (args.source / f).is_file()]
    if missing:
        print(fact_sheet_missing(args.source, missing, args.source == DEFAULT_SOURCE), file=sys.stderr)
        return 1
    if args.assumptions != "central" and args.out == DEFAULT_OUT:
        print("error: --assumptions low|high needs --out DIR (the shipped dataset is the central one)",
              file=sys.stderr)
        return 2
    files = render_files(args.source, args.assumptions, golden=args.golden)
    for rel, text in sorted(files.items()):
        write_text(args.out / rel, text)
    print(f"wrote {len(files)} files to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
