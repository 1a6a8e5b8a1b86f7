"""Loss measures on clearing results.

Conventions: losses are in the network's units; a creditor's loss on its
network claims is ``interbank_assets - Pi.T @ p``; creditors outside the network
lose ``sum_i external_liabilities_i / pbar_i * shortfall_i``.

System loss (Glasserman & Young 2015, section 3): the shock to outside assets
plus the total shortfall. Without network effects, each institution's network
claims are treated as safe outside assets and its network obligations as
outside obligations, so the loss is the shock plus ``sum max(0, pbar - e -
interbank_assets)``. Their ratio is the contagion multiplier / loss amplification.

Analytics over many scenarios, all cleared in batches through
:func:`contagion.clear_many`:

- :func:`systemic_importance`: for every institution, the damage when it alone
  fails (system loss, further defaults, contagion multiplier) and how much it
  suffers when others fail (vulnerability);
- :func:`reverse_stress`: the smallest size of a one-parameter shock family
  (:func:`shock_family`) at which a target defaults, by multi-point bisection.

Monte Carlo sweeps live in :mod:`contagion.sweep`; DebtRank and the threshold
cascade in :mod:`contagion.channels`.
"""

from __future__ import annotations

from .importance import BATCH_METHODS, systemic_importance
from .losses import EXTERNAL_CREDITORS, creditor_losses, loss_summary, losses_by_creditor_type
from .reverse import SHOCK_FAMILIES, ReverseStressResult, ShockFamily, reverse_stress, shock_family

__all__ = ["creditor_losses", "losses_by_creditor_type", "loss_summary", "EXTERNAL_CREDITORS",
           "systemic_importance", "BATCH_METHODS", "ShockFamily", "SHOCK_FAMILIES", "shock_family",
           "ReverseStressResult", "reverse_stress"]
