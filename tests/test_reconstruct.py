"""contagion.reconstruct: the published 7-bank example, invariants of every method, files, CLI, ensembles."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import contagion
from contagion.cli import cli
from contagion.errors import ContagionError, InvalidNetworkError
from contagion.reconstruct import (RECONSTRUCTION_METHODS, Marginals, clear_ensemble, read_marginals,
                                   sample_ensemble, spread_syndicates, syndicates_of)

# Anand, Craig & von Peter (2015, p. 628), as in the NetworkRiskMeasures README
ASSETS = np.array([7, 5, 3, 1, 3, 0, 1], dtype=float)
LIABS = np.array([4, 5, 5, 0, 0, 2, 4], dtype=float)

# NetworkRiskMeasures README (matrix_estimation(A, L, method = "me"), rounded to 2 decimals): row = the bank
# that lends (its assets), so it is the transpose of L[i, j] = what i owes j.
# https://github.com/carloscinelli/NetworkRiskMeasures (README.md, "Maximum Entropy Estimation")
PUBLISHED_ME = np.array([
    [0.00, 2.53, 2.18, 0, 0, 0.74, 1.55],
    [1.72, 0.00, 1.60, 0, 0, 0.54, 1.14],
    [0.98, 1.06, 0.00, 0, 0, 0.31, 0.65],
    [0.25, 0.27, 0.23, 0, 0, 0.08, 0.17],
    [0.75, 0.81, 0.70, 0, 0, 0.24, 0.50],
    [0.00, 0.00, 0.00, 0, 0, 0.00, 0.00],
    [0.30, 0.32, 0.28, 0, 0, 0.09, 0.00],
])
# the README's minimum-density matrix (set.seed(192)) has 9 links
PUBLISHED_MD_LINKS = 9


def test_published_max_entropy_example():
    L = contagion.reconstruct(ASSETS, LIABS, method="max-entropy")
    assert np.array_equal(np.round(L.toarray().T, 2), PUBLISHED_ME)
    # beyond the 2 printed decimals: RAS gives L[i, j] = x_i y_j on the allowed links, so the lenders d and e
    # (assets 1 and 3, owing nothing, hence on no diagonal pair that matters) are owed in proportion 1 : 3
    D = L.toarray()
    sub = D[np.ix_([0, 1, 2, 6], [3, 4])]  # debtors a, b, c, g owe the lenders d and e in proportion 1 : 3
    assert np.allclose(sub[:, 1], 3 * sub[:, 0], rtol=1e-10)


@pytest.mark.parametrize("method", RECONSTRUCTION_METHODS)
def test_totals_diagonal_and_sign(method):
    L = contagion.reconstruct(ASSETS, LIABS, method=method, seed=4)
    assert isinstance(L, sp.csr_array)
    assert np.abs(L.sum(axis=1) - LIABS).max() < 1e-10
    assert np.abs(L.sum(axis=0) - ASSETS).max() < 1e-10
    assert (L.diagonal() == 0).all()
    assert (L.data > 0).all()


def test_min_density_is_sparser_than_max_entropy_and_the_published_one():
    me = contagion.reconstruct(ASSETS, LIABS, "max-entropy")
    md = contagion.reconstruct(ASSETS, LIABS, "min-density")
    assert md.nnz <= me.nnz
    assert me.nnz == 26          # every allowed link: 5 borrowers x 6 lenders minus the 4 who are both
    assert md.nnz <= PUBLISHED_MD_LINKS
    assert md.nnz == 8


def test_min_density_is_a_heuristic_and_says_so():
    """The seven banks can be matched with 7 links (a -> e 3, a -> g 1, b -> a 5, c -> b 5, f -> a 2, g -> c 3,
    g -> d 1); min-density's greedy gives 8. README, docstrings and --help said 'as few links as the totals
    allow'; they now say it is a greedy heuristic, not always the fewest."""
    from pathlib import Path

    import contagion.reconstruct as rec

    seven = np.zeros((7, 7))
    for (i, j), x in {(0, 4): 3, (0, 6): 1, (1, 0): 5, (2, 1): 5, (5, 0): 2, (6, 2): 3, (6, 3): 1}.items():
        seven[i, j] = x
    assert np.array_equal(seven.sum(axis=1), LIABS) and np.array_equal(seven.sum(axis=0), ASSETS)
    assert contagion.reconstruct(ASSETS, LIABS, "min-density").nnz == 8
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    helptext = CliRunner().invoke(cli, ["reconstruct", "--help"]).output
    for text in (readme, rec.__doc__, helptext):
        flat = " ".join(text.split())
        assert "as few links as the totals allow" not in flat.lower()
    assert "8 links where 7 suffice" in " ".join(readme.split()) and "not always the fewest" in " ".join(
        helptext.split())


def test_known_amounts_and_forbidden_links_are_kept():
    known = sp.csr_array(([2.0], ([1], [0])), shape=(7, 7))         # b owes a 2
    forbidden = [(0, 1), (2, 6)]                                    # a never owes b, c never owes g
    for method in RECONSTRUCTION_METHODS:
        L = contagion.reconstruct(ASSETS, LIABS, method, known=known, forbidden=forbidden, seed=2).toarray()
        assert L[1, 0] == 2.0
        assert L[0, 1] == 0 and L[2, 6] == 0
        assert np.allclose(L.sum(axis=1), LIABS, atol=1e-10) and np.allclose(L.sum(axis=0), ASSETS, atol=1e-10)


def test_ensemble_is_reproducible_and_varies():
    a = sample_ensemble(ASSETS, LIABS, n=20, seed=7)
    b = sample_ensemble(ASSETS, LIABS, n=20, seed=7)
    c = sample_ensemble(ASSETS, LIABS, n=3, seed=7)          # a prefix: draw k does not depend on n
    assert all((x != y).nnz == 0 for x, y in zip(a, b))
    assert all((x != y).nnz == 0 for x, y in zip(a[:3], c))
    assert (contagion.reconstruct(ASSETS, LIABS, "ensemble", seed=7) != a[0]).nnz == 0
    assert len({tuple(np.round(x.toarray().ravel(), 9)) for x in a}) > 5
    other = sample_ensemble(ASSETS, LIABS, n=3, seed=8)
    assert any((x != y).nnz for x, y in zip(a, other))
    for x in a:
        assert np.abs(x.sum(axis=1) - LIABS).max() < 1e-10 and np.abs(x.sum(axis=0) - ASSETS).max() < 1e-10
        assert (x.diagonal() == 0).all()


def _ring(n: int, seed: int = 3) -> np.ndarray:
    """A matrix where i owes only i + 1 and i + 2 (mod n), amounts in [1, 3]."""
    rng = np.random.default_rng(seed)
    M = np.zeros((n, n))
    for i in range(n):
        M[i, (i + 1) % n] = rng.uniform(1, 3)
        M[i, (i + 2) % n] = rng.uniform(1, 3)
    return M


@pytest.mark.parametrize("n", [3, 6, 8])
def test_ensemble_moves_when_most_links_are_forbidden(n):
    """Every other link forbidden, i owing only i + 1 and i + 2: the matrices with the totals form one line
    M + d C, C = +1 on (i, i + 1) and -1 on (i, i + 2), a cycle through all n rows. Under the model (p, lam) the
    density is constant inside the line (every link present: (p lam)^2n exp(-lam total)) and each end empties one
    link ((1 - p) (p lam)^(2n - 1) exp(...)), so P(an end) = 2 (1 - p) / (2 (1 - p) + p lam length). The sampler
    drew k rows and k columns at random (k <= 8) and moved only when all 2k links were allowed: for n >= 6 it never
    moved (every draw the start), for n = 5 it moved in 1 step of 80."""
    M = _ring(n)
    forbidden = (M == 0) & ~np.eye(n, dtype=bool) if n > 3 else None    # n = 3: nothing else to forbid
    p = 0.5
    lam = p * 2 * n / M.sum()
    C = np.zeros((n, n))
    for i in range(n):
        C[i, (i + 1) % n] += 1
        C[i, (i + 2) % n] -= 1
    lo, hi = -M[C > 0].min(), M[C < 0].min()
    exact = 2 * (1 - p) / (2 * (1 - p) + p * lam * (hi - lo))
    draws = sample_ensemble(M.sum(axis=0), M.sum(axis=1), 1600, seed=1, forbidden=forbidden, p=p)
    d = np.array([L.toarray()[0, 1] - M[0, 1] for L in draws])
    at_lo, at_hi = np.abs(d - lo) < 1e-9, np.abs(d - hi) < 1e-9
    assert abs((at_lo | at_hi).mean() - exact) < 0.04, ((at_lo | at_hi).mean(), exact)
    assert abs(at_lo.mean() - exact / 2) < 0.04 and abs(at_hi.mean() - exact / 2) < 0.04
    inside = d[~(at_lo | at_hi)]
    assert abs(inside.mean() - (lo + hi) / 2) < 0.1 * (hi - lo)       # uniform inside the line
    assert np.mean(d[1:] == d[:-1]) < 0.5
    for L in draws[:50]:
        D = L.toarray()
        assert np.allclose(D, M + (D[0, 1] - M[0, 1]) * C, atol=1e-9)   # on the line: totals kept, nothing forbidden


def test_ensemble_rate_spreads_only_what_is_left_to_place():
    """The free part is the dense 3-node matrix [[0,1,2],[3,0,4],[5,6,0]] (total 21, 6 links); D owes A a known 21.
    The default rate is p * links / (total left) = 0.5 * 6 / 21 = 1/7 (it was divided by the total 42 with the
    known amount: 1/14). On the 3-node line X[0, 1] in [0, 3]: P(X[0, 1] = 0) = (1 - p) / (2 (1 - p) + 3 p lam)
    = 0.4118 at lam = 1/7 (0.4516 at 1/14)."""
    M = np.zeros((4, 4))
    M[:3, :3] = [[0, 1, 2], [3, 0, 4], [5, 6, 0]]
    known = np.zeros((4, 4))
    known[3, 0] = M[3, 0] = 21.0
    draws = sample_ensemble(M.sum(axis=0), M.sum(axis=1), 3200, seed=2, known=known)
    x = np.array([L.toarray()[0, 1] for L in draws])
    assert all(L.toarray()[3, 0] == 21.0 for L in draws)
    exact = 0.5 / (2 * 0.5 + 3 * 0.5 / 7)
    assert exact == pytest.approx(0.4118, abs=1e-4)
    assert abs(np.mean(x < 1e-9) - exact) < 0.02 and abs(np.mean(np.abs(x - 3) < 1e-9) - exact) < 0.02


def test_ensemble_when_the_known_amounts_make_every_total(tmp_path):
    """Nothing left to place: the known matrix is the answer, as for the other methods (the ensemble raised
    'lam ... must be a positive number, got None')."""
    for method in RECONSTRUCTION_METHODS:
        L = contagion.reconstruct([2, 0], [0, 2], method, known=[[0, 0], [2, 0]])
        assert L.toarray().tolist() == [[0, 0], [2, 0]], method
    assert [L.toarray().tolist() for L in sample_ensemble([2, 0], [0, 2], 2, known=[[0, 0], [2, 0]])] \
        == [[[0, 0], [2, 0]]] * 2
    (tmp_path / "m.csv").write_text("id,interbank_assets,interbank_liabilities\na,2,0\nb,0,2\n")
    (tmp_path / "k.csv").write_text("debtor,creditor,amount\nb,a,2\n")
    out = CliRunner().invoke(cli, ["reconstruct", str(tmp_path / "m.csv"), "--known", str(tmp_path / "k.csv"),
                                   "-m", "ensemble", "-n", "2", "-o", str(tmp_path / "ens")])
    assert out.exit_code == 0, out.output
    for k in (1, 2):
        net = contagion.read_network(tmp_path / "ens" / f"draw-000{k}")
        assert net.liabilities.toarray().tolist() == [[0, 0], [2, 0]]
    out = CliRunner().invoke(cli, ["reconstruct", str(tmp_path / "m.csv"), "--known", str(tmp_path / "k.csv"),
                                   "-m", "ensemble", "-n", "2", "--clear", "-f", "csv"])
    assert out.exit_code == 0, out.output


@pytest.mark.parametrize("what, value, says", [
    ("thin", 0, "thin must be a positive whole number, got 0"),
    ("thin", -3, "thin must be a positive whole number, got -3"),
    ("thin", 2.5, "thin must be a positive whole number, got 2.5"),
    ("burn_in", -1, "burn_in must be a non-negative whole number, got -1"),
    ("burn_in", True, "burn_in must be a non-negative whole number, got True"),
    ("p", "0.5", "p (link probability) must lie in (0, 1], got '0.5'"),
    ("lam", -2.0, "lam (rate of the amounts) must be a positive number, got -2.0"),
])
def test_ensemble_chain_lengths_are_checked(what, value, says):
    """thin = 0 returned empty matrices, a negative thin or burn-in NaN ones."""
    with pytest.raises(ContagionError) as err:
        sample_ensemble(ASSETS, LIABS, 2, **{what: value})
    assert says in str(err.value)
    draws = sample_ensemble(ASSETS, LIABS, 2, burn_in=0, thin=1)           # the smallest chain is fine
    assert all(np.abs(L.sum(axis=1) - LIABS).max() < 1e-10 for L in draws)


@pytest.mark.parametrize("scale", [1e-15, 1e15])
@pytest.mark.parametrize("method", RECONSTRUCTION_METHODS)
def test_results_do_not_depend_on_the_unit(method, scale):
    """Tolerances are relative to the totals: the same banks in another unit give the same matrix in that unit
    (an absolute floor of 1e-12 made every amount at scale 1e-13 zero: max-entropy returned the zero matrix)."""
    known = sp.csr_array(([2.0], ([1], [0])), shape=(7, 7))
    ref = contagion.reconstruct(ASSETS, LIABS, method, known=known, forbidden=[(2, 6)], seed=3).toarray()
    L = contagion.reconstruct(ASSETS * scale, LIABS * scale, method, known=known * scale, forbidden=[(2, 6)],
                              seed=3).toarray() / scale
    assert np.array_equal(L > 0, ref > 0)
    assert np.abs(L - ref).max() < 1e-12 * ASSETS.sum()
    assert np.abs(L.sum(axis=1) - LIABS).max() < 1e-10 and np.abs(L.sum(axis=0) - ASSETS).max() < 1e-10


def test_forbidden_pairs_are_read_as_pairs_whatever_their_number():
    """Two pairs for two institutions form a 2 x 2 array: it was read as a boolean matrix ([[1, 0], [0, 1]]: only
    the diagonal), so both forbidden links got an amount. A boolean matrix is still a matrix."""
    with pytest.raises(ContagionError, match="cannot be matched"):
        contagion.reconstruct([1, 1], [1, 1], forbidden=[(1, 0), (0, 1)])
    A, Lb = [1, 2, 1], [2, 1, 1]             # 0 owes 2, 1 owes 1, 2 owes 1; 0 is owed 1, 1 owed 2, 2 owed 1
    as_pairs = contagion.reconstruct(A, Lb, forbidden=[(0, 2), (2, 1)]).toarray()
    as_matrix = contagion.reconstruct(A, Lb, forbidden=np.array([[0, 0, 1], [0, 0, 0], [0, 1, 0]], bool)).toarray()
    # with 0 -> 2 and 2 -> 1 closed: 0 pays its 2 to 1, 2 pays its 1 to 0, 1 pays its 1 to 2
    assert as_pairs.tolist() == as_matrix.tolist() == [[0, 2, 0], [0, 0, 1], [1, 0, 0]]


@pytest.mark.parametrize("kw, says", [
    ({"forbidden": [(0, 5)]}, "forbidden: the pair (0, 5) is out of range (positions run from 0 to 2)"),
    ({"forbidden": [(-1, 0)]}, "forbidden: the pair (-1, 0) is out of range"),
    ({"forbidden": [[0, 1, 2]]}, "forbidden must be a boolean (3, 3) matrix or (debtor, creditor) pairs of "
                                 "positions, got [[0, 1, 2]] (shape (1, 3)"),
    ({"forbidden": np.zeros((3, 3))}, "a 0/1 matrix is read as a matrix only with dtype bool"),
    ({"forbidden": [(0.5, 1)]}, "got [(0.5, 1)] (shape (1, 2), dtype float64"),
    ({"forbidden": np.ones((2, 2), bool)}, "forbidden: a boolean matrix must have shape (3, 3), got (2, 2)"),
    ({"forbidden": sp.csr_array((4, 4), dtype=bool)}, "got a sparse matrix of shape (4, 4)"),
    ({"known": [[0, 1], [1, 0]]}, "known must be a (3, 3) matrix of amounts (what i owes j), got one of shape (2, 2)"),
    ({"known": [[0, "x", 0]] * 3}, "known must be a (3, 3) matrix of amounts (what i owes j), got [[0, 'x', 0]"),
    ({"known": [[0, -1, 0], [0, 0, 0], [0, 0, 0]]}, "what '0' owes '1' is -1.0"),
])
def test_bad_known_and_forbidden_say_which_and_what(kw, says):
    """Badly shaped or out-of-range known/forbidden raised bare numpy/scipy errors (or were misread)."""
    with pytest.raises(ContagionError) as err:
        contagion.reconstruct([1, 2, 1], [2, 1, 1], **kw)
    assert says in str(err.value)


def test_writing_a_reconstruction_checks_the_method(tmp_path):
    """An unknown method fell through to the ensemble branch of write_reconstruction and wrote a draw."""
    from contagion.reconstruct import write_reconstruction

    m = Marginals(names=tuple("abcdefg"), interbank_assets=ASSETS, interbank_liabilities=LIABS,
                  known=sp.csr_array((7, 7)), forbidden=sp.csr_array((7, 7), dtype=bool),
                  external_assets=np.zeros(7), external_liabilities=np.zeros(7))
    with pytest.raises(ContagionError, match="unknown reconstruction method 'gravity'; choose one of max-entropy, "
                                             "min-density, ensemble"):
        write_reconstruction(m, tmp_path / "out", "gravity")
    assert not (tmp_path / "out").exists()


def test_impossible_totals_are_clear_errors():
    with pytest.raises(ContagionError, match="interbank assets sum to 20 but interbank liabilities to 21"):
        contagion.reconstruct(ASSETS, LIABS + np.eye(7)[0])
    with pytest.raises(ContagionError, match="every link to a creditor .* is forbidden"):
        contagion.reconstruct([1, 1], [1, 1], forbidden=[(0, 1)])
    with pytest.raises(ContagionError, match="add up to more than"):
        contagion.reconstruct([1, 1], [1, 1], known=np.array([[0, 3], [0, 0]]))
    with pytest.raises(ContagionError, match="unknown reconstruction method"):
        contagion.reconstruct([1, 1], [1, 1], "gravity")
    # one institution holds all the assets and owes the rest: only possible with a self-loop
    with pytest.raises(ContagionError, match="cannot be matched"):
        contagion.reconstruct([2, 0], [1, 1], "min-density")


def test_clear_ensemble_same_numbers_whatever_the_workers():
    m = Marginals(names=tuple("abcdefg"), interbank_assets=ASSETS, interbank_liabilities=LIABS,
                  known=sp.csr_array((7, 7)), forbidden=sp.csr_array((7, 7), dtype=bool),
                  external_assets=np.array([1, 1, 0.5, 1, 1, 1, 0.2]), external_liabilities=np.array([1, 1, 1, 0, 0, 0, 0.]))
    inline = clear_ensemble(m, n=40, seed=3, executor=None)
    with ThreadPoolExecutor(2) as ex:
        threads = clear_ensemble(m, n=40, seed=3, executor=ex)
    assert np.array_equal(inline.losses, threads.losses)
    assert np.array_equal(inline.defaulted, threads.defaulted)
    q = inline.default_probability
    assert np.allclose(inline.default_probability_se, np.sqrt(q * (1 - q) / 40))
    assert np.allclose(inline.loss_se, inline.losses.std(axis=0, ddof=1) / np.sqrt(40))
    assert (inline.loss_low <= inline.loss_mean + 1e-12).all() and (inline.loss_mean <= inline.loss_high + 1e-12).all()
    # bank f is owed nothing: it can lose nothing; bank a (owed 7, outside assets 1) defaults in some draws only
    f = inline.to_frame()
    assert f.loc["f", "loss_high"] == 0
    assert 0 < f.loc["a", "default_probability"] < 1 and f.loc["a", "default_probability_se"] > 0
    # a deterministic method: every draw the same, no spread
    me = clear_ensemble(m, n=5, seed=0, method="max-entropy")
    assert np.allclose(me.loss_se, 0) and np.allclose(me.loss_low, me.loss_high)


def test_marginals_file_and_known_edges(tmp_path):
    (tmp_path / "m.csv").write_text("id,interbank_assets,interbank_liabilities,external_assets\n"
                                    "a,7,4,1\nb,5,5,1\nc,3,5,1\nd,1,0,1\ne,3,0,1\nf,0,2,1\ng,1,4,1\n")
    (tmp_path / "k.csv").write_text("debtor,creditor,amount\nb,a,2\nc,g,0\n")
    m = read_marginals(tmp_path / "m.csv", tmp_path / "k.csv")
    assert m.names == tuple("abcdefg") and m.known[1, 0] == 2 and m.forbidden[2, 6]
    (tmp_path / "bad.csv").write_text("id,interbank_assets,interbank_liabilities\na,1,x\nb,-1,1\na,1,1\n")
    with pytest.raises(InvalidNetworkError) as err:
        read_marginals(tmp_path / "bad.csv")
    shown = [str(p) for p in err.value.problems]
    assert any("row 2, column 'interbank_liabilities': not a number (value: 'x')" in s for s in shown)
    assert any("row 3, column 'interbank_assets': negative amount" in s for s in shown)
    assert any("row 4, column 'id': duplicate id" in s for s in shown)
    (tmp_path / "kb.csv").write_text("debtor,creditor,amount\na,zz,1\nb,b,1\n")
    with pytest.raises(InvalidNetworkError) as err:
        read_marginals(tmp_path / "m.csv", tmp_path / "kb.csv")
    shown = [str(p) for p in err.value.problems]
    assert "kb.csv, row 2, column 'creditor': unknown id (not in the marginals file) (value: 'zz')" in shown[0]
    assert "row 3, column 'creditor': self-loop" in shown[1]


@pytest.mark.parametrize("which", ["marginals", "known"])
def test_both_files_get_the_same_column_check(tmp_path, which):
    """The marginals and known-edges files go through one column check: a missing required column and a
    column named twice are reported with the file and the column, before any row is read."""
    good_m = "id,interbank_assets,interbank_liabilities\na,1,1\nb,1,1\n"
    (tmp_path / "m.csv").write_text(good_m if which == "known" else "id,interbank_assets,id\na,1,a\n")
    (tmp_path / "k.csv").write_text("debtor,creditor,debtor\na,b,a\n")
    with pytest.raises(InvalidNetworkError) as err:
        read_marginals(tmp_path / "m.csv", tmp_path / "k.csv")
    shown = [str(p) for p in err.value.problems]
    file, missing, twice = (("k.csv", "amount", "debtor") if which == "known"
                            else ("m.csv", "interbank_liabilities", "id"))
    assert any(f"{file}" in s and f"column '{twice}': duplicate column" in s for s in shown), shown
    assert any(f"{file}" in s and f"column '{missing}': required column is missing" in s for s in shown), shown


def test_cli_writes_networks_and_clears(tmp_path):
    marg = tmp_path / "m.csv"
    marg.write_text("id,interbank_assets,interbank_liabilities,external_assets\n"
                    "a,7,4,1\nb,5,5,1\nc,3,5,0.5\nd,1,0,1\ne,3,0,1\nf,0,2,1\ng,1,4,0.2\n")
    r = CliRunner().invoke(cli, ["reconstruct", str(marg), "-m", "max-entropy", "-o", str(tmp_path / "me")])
    assert r.exit_code == 0, r.output
    net = contagion.read_network(tmp_path / "me")
    assert np.array_equal(np.round(net.liabilities.toarray().T, 2), PUBLISHED_ME)
    r = CliRunner().invoke(cli, ["reconstruct", str(marg), "-m", "ensemble", "-n", "3", "--seed", "1", "-o",
                                 str(tmp_path / "ens")])
    assert r.exit_code == 0, r.output
    draws = sorted(p.name for p in (tmp_path / "ens").iterdir())
    assert draws == ["draw-0001", "draw-0002", "draw-0003"]
    first = contagion.read_network(tmp_path / "ens" / "draw-0001").liabilities
    assert np.abs(first.toarray() - contagion.reconstruct(ASSETS, LIABS, "ensemble", seed=1,
                                                          names=tuple("abcdefg")).toarray()).max() < 1e-12
    r = CliRunner().invoke(cli, ["reconstruct", str(marg), "-m", "ensemble", "-n", "32", "--clear", "-f", "csv"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == ("name,type,default_probability,default_probability_se,loss_mean,loss_se,"
                                        "loss_low,loss_high")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,interbank_assets,interbank_liabilities\na,1,1\nb,1,2\n")
    r = CliRunner().invoke(cli, ["reconstruct", str(bad), "-o", str(tmp_path / "x")])
    assert r.exit_code == 1
    assert "bad.csv: the totals cannot be matched: interbank assets sum to 2 but interbank liabilities to 3" \
        in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_spread_syndicates_on_the_built_in_network():
    net = contagion.load_dataset("ai-infrastructure")
    synd = syndicates_of(net)
    assert "synd_cw_revolver" in synd
    owed = net.edges.loc[net.edges["creditor"] == "synd_cw_revolver", "amount"].sum()
    point = spread_syndicates(net, ["synd_cw_revolver"])
    e = point.edges[point.edges["reconstructed"]]
    # equal size weights (the three banks' external_assets): a third each
    assert np.allclose(e.groupby("creditor")["amount"].sum().to_numpy(), owed / 3)
    known = spread_syndicates(net, ["synd_cw_revolver"], shares={"synd_cw_revolver": {"jpmorgan": 0.5}}, seed=3)
    k = known.edges[known.edges["reconstructed"]].groupby("creditor")["amount"].sum()
    assert np.isclose(k["jpmorgan"], owed / 2) and np.isclose(k.sum(), owed)
    assert known.interbank_assets[known.ids.index("synd_cw_revolver")] == 0
    # the totals each debtor owes are unchanged by a spread
    assert np.allclose(known.interbank_liabilities, net.interbank_liabilities)


def test_a_known_share_of_zero_is_known():
    """D owes syndicate S 100; members M1, M2, M3 with size weights (external assets) 10, 30, 60. M1's share is
    known to be 0: the 100 goes to M2 and M3 by weight, 100 * 30/90 and 100 * 60/90 (a share of 0 was taken for
    'unknown' and M1 got 10)."""
    import pandas as pd

    nodes = pd.DataFrame({"id": ["D", "S", "M1", "M2", "M3"], "type": ["borrower", "syndicate", "bank", "bank", "bank"],
                          "external_assets": [1.0, 0, 10, 30, 60]})
    edges = pd.DataFrame({"debtor": ["D", "S", "S", "S"], "creditor": ["S", "M1", "M2", "M3"],
                          "amount": [100.0, 0, 0, 0], "kind": ["loan"] + ["syndicate_share"] * 3})
    net = contagion.FinancialNetwork.from_edges(edges, nodes)

    def owed(spread):
        L, ids = spread.liabilities.toarray(), list(spread.ids)
        return [L[ids.index("D"), ids.index(m)] for m in ("S", "M1", "M2", "M3")]

    assert np.allclose(owed(spread_syndicates(net)), [0, 10, 30, 60])
    assert np.allclose(owed(spread_syndicates(net, shares={"S": {"M1": 0.0}})), [0, 0, 100 / 3, 200 / 3])
    for seed in (1, 2):
        drawn = owed(spread_syndicates(net, shares={"S": {"M1": 0.0}}, seed=seed))
        assert drawn[1] == 0 and drawn[2] > 0 and drawn[3] > 0 and np.isclose(sum(drawn), 100)


def test_clear_ensemble_over_syndicates_reproducible():
    net = contagion.load_dataset("ai-infrastructure")
    a = clear_ensemble(net, n=48, seed=5, syndicates="all", scenarios=["severe-combined"])
    with ThreadPoolExecutor(2) as ex:
        b = clear_ensemble(net, n=48, seed=5, syndicates="all", scenarios=["severe-combined"], executor=ex)
    assert np.array_equal(a.losses, b.losses)
    f = a.to_frame()
    # losses booked to syndicate nodes move to their members; the syndicates themselves lose nothing now
    assert f.loc["CoreWeave DDTL 2.0 lenders", "loss_high"] == 0
    assert f.loc["Blackstone", "loss_high"] > f.loc["Blackstone", "loss_low"] > 0


def test_a_marginals_files_ids_stay_the_ids(tmp_path):
    """A marginals file with ids and names: the written network keeps the ids (the names as names), so a scenario
    aimed at an id works on it and with --clear (the names had become the ids: 'unknown institution A')."""
    (tmp_path / "m.csv").write_text("id,name,interbank_assets,interbank_liabilities,external_assets\n"
                                    "A,Alpha,7,4,10\nB,Beta,5,5,3\nC,Gamma,3,5,4\nD,Delta,5,6,2\n")
    (tmp_path / "s.toml").write_text('name = "a"\n[[shocks]]\nkind = "external_assets"\ntarget = "A"\n'
                                     'relative = 0.9\n')
    out = CliRunner().invoke(cli, ["reconstruct", str(tmp_path / "m.csv"), "-o", str(tmp_path / "net")])
    assert out.exit_code == 0, out.output
    net = contagion.read_network(tmp_path / "net")
    assert net.ids == ("A", "B", "C", "D") and net.names == ("Alpha", "Beta", "Gamma", "Delta")
    np.testing.assert_allclose(net.interbank_liabilities, [4, 5, 5, 6], rtol=1e-9)
    shocked = contagion.stress(net, [str(tmp_path / "s.toml")])
    assert shocked.network.external_assets[0] == pytest.approx(1.0)
    out = CliRunner().invoke(cli, ["reconstruct", str(tmp_path / "m.csv"), "--clear", "-s", str(tmp_path / "s.toml"),
                                   "-f", "json"])
    assert out.exit_code == 0, out.output
    marg = read_marginals(tmp_path / "m.csv")
    assert marg.to_network(sp.csr_array((4, 4))).ids == ("A", "B", "C", "D")


def _totals(tmp_path, rows: str):
    path = tmp_path / "m.csv"
    path.write_text("id,interbank_assets,interbank_liabilities\n" + rows)
    return path


def test_max_entropy_and_ensemble_when_the_totals_leave_some_links_no_room(tmp_path):
    """B is owed 5 and owes 5; C owes 5 and is owed nothing; A is owed 5. B can only pay A (C is owed nothing),
    so C must pay B: the one matrix with these totals. The links B -> C and C -> A are allowed but can hold
    nothing, RAS crept towards the answer without reaching it, and max-entropy and ensemble failed."""
    path = _totals(tmp_path, "A,5,0\nB,5,5\nC,0,5\n")
    for method in ("max-entropy", "ensemble"):
        out = CliRunner().invoke(cli, ["reconstruct", str(path), "-m", method, "-o", str(tmp_path / method),
                                       "-n", "2"] if method == "ensemble" else
                                 ["reconstruct", str(path), "-m", method, "-o", str(tmp_path / method)])
        assert out.exit_code == 0, out.output
        folder = tmp_path / method / ("draw-0001" if method == "ensemble" else "")
        net = contagion.read_network(folder)
        assert net.liabilities.toarray().tolist() == [[0, 0, 0], [5, 0, 0], [0, 5, 0]]
    from contagion.reconstruct import reconstruct

    assert reconstruct([5, 5, 0], [0, 5, 5], "max-entropy").toarray().tolist() == [[0, 0, 0], [5, 0, 0], [0, 5, 0]]


def test_totals_that_cannot_be_matched_say_so_in_every_method(tmp_path):
    """A owes 5 and may pay only B (C is owed nothing), who is owed 1: max-entropy said 'did not reach the
    totals ... use min-density', which fails too."""
    path = _totals(tmp_path, "A,5,5\nB,1,0\nC,0,1\n")
    for method in ("max-entropy", "min-density", "ensemble"):
        out = CliRunner().invoke(cli, ["reconstruct", str(path), "-m", method, "-o", str(tmp_path / method)])
        assert out.exit_code == 1
        assert ("the totals cannot be matched with the links allowed: the liabilities left at 'A' have no allowed "
                "creditor with room") in out.output, (method, out.output)


def test_cli_missing_or_empty_marginals_are_errors_naming_the_file(tmp_path):
    """A missing marginals or known-edges file is bad input (exit 1, as for a network), not a usage error (2);
    a header without rows names the file (it said "nodes: the network is empty")."""
    runner = CliRunner()
    out = runner.invoke(cli, ["reconstruct", str(tmp_path / "missing.csv"), "--clear"])
    assert out.exit_code == 1 and "missing.csv" in out.output
    empty = tmp_path / "m.csv"
    empty.write_text("id,interbank_assets,interbank_liabilities\n")
    out = runner.invoke(cli, ["reconstruct", str(empty), "--clear"])
    assert out.exit_code == 1 and f"{empty}, row 2: no institutions: the file has a header and no rows" in out.output
    ok = tmp_path / "ok.csv"
    ok.write_text("id,interbank_assets,interbank_liabilities\nA,1,0\nB,0,1\n")
    out = runner.invoke(cli, ["reconstruct", str(ok), "--known", str(tmp_path / "nope.csv"), "--clear"])
    assert out.exit_code == 1 and "nope.csv" in out.output
