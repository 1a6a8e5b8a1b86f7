"""Reconstruct who owes whom from each institution's totals, and clear under that uncertainty.

Supervisors often know every bank's total interbank assets and liabilities
but not the bilateral amounts. This module fills in ``L[i, j]`` (what ``i``
owes ``j``) so that the row sums are the liabilities and the column sums the
assets, with a zero diagonal, known bilateral amounts kept fixed and
forbidden links left empty:

``"max-entropy"``
    The matrix closest (Kullback--Leibler) to the uniform prior on the allowed
    links: RAS / iterative proportional fitting (Upper 2011; Upper & Worm 2004).
    Spreads every exposure as evenly as the totals allow: dense.
``"min-density"``
    Few links: a greedy heuristic after Anand, Craig & von Peter (2015), not
    always the fewest the totals allow -- links already in place are filled
    first, then the new link carrying the largest amount, preferring a pair
    whose two remaining totals are equal (one link closes both); when only
    forbidden pairs remain it reroutes along an augmenting path. Finding the
    minimum is NP-hard; on the seven banks of :func:`reconstruct`'s example
    this gives 8 links where 7 suffice. Deterministic (``seed`` is not used).
``"ensemble"``
    One draw from the Erdős--Rényi--exponential model conditioned on the totals
    (Gandy & Veraart 2017): a link exists with probability ``p``, its amount
    is exponential with rate ``lam``; a Gibbs sampler on cycles of allowed
    links (which keep every total exactly; found by a walk on those links, so
    it moves even when most links are forbidden) starts from the
    maximum-entropy matrix. See
    :mod:`contagion._reconstruct_kernels`. :func:`sample_ensemble` draws many.

:func:`clear_ensemble` clears every draw of an ensemble and reports per
institution the probability of default and its loss on network claims, with
Monte Carlo standard errors and a band across reconstructions;
:func:`spread_syndicates` spreads what a syndicate is owed over its members.

The module is callable: ``contagion.reconstruct(...)`` is :func:`reconstruct`.

References
----------
Upper, C. (2011). Simulation methods to assess the danger of contagion in
interbank markets. Journal of Financial Stability 7(3), 111-125.
Anand, K., Craig, B. and von Peter, G. (2015). Filling in the blanks: network
structure and interbank contagion. Quantitative Finance 15(4), 625-636.
Gandy, A. and Veraart, L. A. M. (2017). A Bayesian methodology for systemic
risk assessment in financial networks. Management Science 63(12), 4428-4446.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import scipy.sparse as sp

from .ensemble import EnsembleResult, clear_ensemble
from .files import read_marginals, write_reconstruction
from .marginals import ENSEMBLE_BLOCK, RECONSTRUCTION_METHODS, Marginals
from .methods import reconstruct, sample_ensemble
from .syndicates import spread_syndicates, syndicates_of

__all__ = ["RECONSTRUCTION_METHODS", "ENSEMBLE_BLOCK", "Marginals", "EnsembleResult", "reconstruct",
           "sample_ensemble", "read_marginals", "write_reconstruction", "clear_ensemble", "spread_syndicates",
           "syndicates_of"]


# ``contagion.reconstruct(...)`` calls :func:`reconstruct`, and ``contagion.reconstruct.clear_ensemble`` is this
# module's function: the module is callable (module ``__class__`` assignment, Python >= 3.5).
class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> sp.csr_array:
        return reconstruct(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
#: this module (what ``contagion.reconstruct`` resolves to, through ``contagion._LAZY``)
_module = sys.modules[__name__]
