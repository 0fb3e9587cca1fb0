"""MultipleExpectations, its baselines, the law adapters and sobol_indices."""

import pickle
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import factorial2
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from statlogit import (
    GaussianCopula,
    IndependentMarginals,
    MixtureISExpectations,
    MonteCarloExpectations,
    MultipleExpectations,
    PickFreezeProduct,
    sobol_indices,
)
from statlogit.datasets import (
    cantilever_beam,
    ishigami,
    ishigami_first_order,
    make_cantilever_beam_laws,
)
from statlogit.expectations._fit import minimize_alpha
from statlogit.solvers.simplex_newton import project_capped_simplex

MOMENT_ORDERS = 2 * np.arange(1, 6)
MOMENT_TRUTH = factorial2(MOMENT_ORDERS - 1).astype(float)


def moments(X):
    return X[:, [0]] ** MOMENT_ORDERS


MU = np.array([0.5, -0.3, 0.2])
SIGMA = np.array([[1.0, 0.3, 0.1], [0.3, 0.8, -0.2], [0.1, -0.2, 0.6]])
SLOPES = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [-1.0, 0.4, 0.0], [0.0, 0.0, 2.0]])


def exponentials(X):
    return np.exp(X @ SLOPES.T)


def exponential_truth():
    return np.exp(SLOPES @ MU + 0.5 * np.einsum("jk,kl,jl->j", SLOPES, SIGMA, SLOPES))


@pytest.fixture(scope="module")
def moments_fit():
    return MultipleExpectations(budget=6000, weights=1 / MOMENT_TRUTH**2,
                                random_state=0).fit(moments, stats.norm())


def test_gaussian_moments_within_four_se(moments_fit):
    z = (moments_fit.estimates_ - MOMENT_TRUTH) / moments_fit.std_errors_
    assert np.all(np.abs(z) < 4), z
    assert np.all(moments_fit.std_errors_ / MOMENT_TRUTH < 0.05)


def test_budget_is_spent_exactly(moments_fit):
    assert moments_fit.n_evaluations_ == 6000
    assert moments_fit.n_adaptive_ + moments_fit.n_final_ == 6000
    assert moments_fit.n_final_ >= 3000
    calls = []

    def counting(X):
        calls.append(X.shape[0])
        return moments(X)

    MultipleExpectations(budget=4321, random_state=1).fit(counting, stats.norm())
    assert sum(calls) == 4321


def test_results_attributes(moments_fit):
    J = MOMENT_TRUTH.size
    assert moments_fit.alpha_.shape == (J,)
    np.testing.assert_allclose(moments_fit.alpha_.sum(), 1.0)
    assert moments_fit.beta_.shape == (J,)
    assert moments_fit.covariance_.shape == (J, J)
    h = moments_fit.history_
    assert h["n_points"].is_monotonic_increasing
    assert h["n_points"].iloc[-1] == moments_fit.n_adaptive_
    ci = moments_fit.conf_int(0.1)
    assert np.all(ci["lower"].to_numpy() < moments_fit.estimates_)
    assert moments_fit.summary().tables[1].shape == (J, 6)


def test_stopping_rule_matches_history(moments_fit):
    """The rule fires exactly where criterion_prev <= criterion."""
    h = moments_fit.history_.iloc[1:]
    np.testing.assert_array_equal(h["stopped"], h["criterion_prev"] <= h["criterion"])
    assert not h["stopped"].iloc[:-1].any()


def test_closed_form_exponential_moments_d3():
    law = stats.multivariate_normal(MU, SIGMA)
    est = MultipleExpectations(budget=6000, random_state=3).fit(exponentials, law)
    z = (est.estimates_ - exponential_truth()) / est.std_errors_
    assert np.all(np.abs(z) < 4), z


def test_many_laws_one_function_closed_form():
    """E_{N(mu_j, S)}|X|^2 = |mu_j|^2 + tr S for 6 laws."""
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(6, 2))
    laws = [stats.multivariate_normal(c, 0.5 * np.eye(2)) for c in centres]
    est = MultipleExpectations(budget=6000, weights="absolute", random_state=4).fit(
        lambda X: np.sum(X**2, axis=1), laws)
    truth = np.sum(centres**2, axis=1) + 1.0
    assert est.estimates_.shape == (6,)
    assert np.all(np.abs(est.estimates_ - truth) < 4 * est.std_errors_)


@pytest.mark.parametrize("options", [{"family": "gaussian_mixture"},
                                     {"covariance": "diag"},
                                     {"defensive": 0.1, "stopping": "none"}])
def test_options_stay_correct(options):
    law = stats.multivariate_normal(MU, SIGMA)
    est = MultipleExpectations(budget=5000, random_state=6, **options).fit(
        exponentials, law)
    z = (est.estimates_ - exponential_truth()) / est.std_errors_
    assert np.all(np.abs(z) < 4), z
    assert est.n_evaluations_ == 5000


def test_stopping_none_uses_whole_adaptive_budget():
    est = MultipleExpectations(budget=5000, stopping="none", random_state=0).fit(
        moments, stats.norm())
    assert est.n_adaptive_ == 2500
    assert len(est.history_) == 5


def test_signed_integrand_is_split():
    """E[X^3] = mu^3 + 3 mu s^2 and E[X] = mu under N(1, 1): signed integrands."""
    est = MultipleExpectations(budget=6000, random_state=7).fit(
        lambda X: np.column_stack([X[:, 0] ** 3, X[:, 0]]), stats.norm(1.0, 1.0))
    assert list(est.parts_["sign"]) == [1, -1, 1, -1]
    truth = np.array([4.0, 1.0])
    assert np.all(np.abs(est.estimates_ - truth) < 4 * est.std_errors_)


def test_same_random_state_same_results():
    a = MultipleExpectations(budget=3000, random_state=11).fit(moments, stats.norm())
    b = MultipleExpectations(budget=3000, random_state=11).fit(moments, stats.norm())
    np.testing.assert_array_equal(a.estimates_, b.estimates_)
    np.testing.assert_array_equal(a.std_errors_, b.std_errors_)
    c = MultipleExpectations(budget=3000, random_state=12).fit(moments, stats.norm())
    assert not np.array_equal(a.estimates_, c.estimates_)


def test_contract_clone_pickle_not_fitted():
    est = MultipleExpectations(budget=3000, weights="absolute", random_state=0)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        est.conf_int()
    with pytest.raises(NotFittedError):
        est.plot()
    assert est.fit(moments, stats.norm()) is est
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.estimates_, est.estimates_)


def test_plot_runs(moments_fit):
    import matplotlib

    matplotlib.use("Agg")
    ax = moments_fit.plot()
    assert ax.get_yscale() == "log"


@pytest.mark.parametrize(("func", "message"), [
    (lambda X: np.ones((X.shape[0] + 1, 2)), "func must map"),
    (lambda X: np.full((X.shape[0], 2), np.nan), "NaN or infinite"),
    (lambda X: np.column_stack([X[:, 0] ** 2, np.zeros(X.shape[0])]), "zero at every"),
])
def test_bad_functions(func, message):
    with pytest.raises(ValueError, match=message):
        MultipleExpectations(budget=2000, random_state=0).fit(func, stats.norm())


@pytest.mark.parametrize(("params", "message"), [
    ({"budget": 60}, "too few to fit a 3-dimensional covariance"),
    ({"weights": [1.0, -1.0, 1.0, 1.0]}, "non-negative"),
    ({"weights": [0.0, 0.0, 0.0, 0.0]}, "not all zero"),
    ({"weights": [1.0, 1.0]}, "4 expectations"),
    ({"weights": "other"}, "weights must be"),
    ({"family": "t"}, "family"),
    ({"n_batches": 1}, "n_batches"),
    ({"defensive": 1.0}, "defensive"),
    ({"adaptive_fraction": 1.5}, "adaptive_fraction"),
])
def test_bad_parameters(params, message):
    law = stats.multivariate_normal(MU, SIGMA)
    with pytest.raises(ValueError, match=message):
        MultipleExpectations(**{"budget": 3000, "random_state": 0, **params}).fit(
            exponentials, law)


def test_mismatched_laws_and_outputs():
    laws = [stats.norm(0, 1), stats.norm(1, 1), stats.norm(2, 1)]
    with pytest.raises(ValueError, match="3 laws"):
        MultipleExpectations(budget=2000).fit(lambda X: np.exp(X[:, [0, 0]]), laws)
    with pytest.raises(ValueError, match="same dimension"):
        MultipleExpectations(budget=2000).fit(
            lambda X: X, [stats.norm(), stats.multivariate_normal(np.zeros(2))])
    with pytest.raises(ValueError, match="logpdf"):
        MultipleExpectations(budget=2000).fit(lambda X: X, object())


def test_alpha_subproblem_matches_cvxpy():
    pytest.importorskip("cvxpy")
    from statlogit.expectations._reference import mixture_weights

    rng = np.random.default_rng(0)
    G = rng.uniform(size=(300, 6)) ** 3
    G[:, 5] *= 1e-3  # a component the optimum pushes to the floor
    c = rng.exponential(size=300)
    b = 0.01 * rng.uniform(size=300)
    alpha, value = minimize_alpha(c, G.T.copy(), b, np.full(6, 1 / 6))
    ref_alpha, ref_value = mixture_weights(c, G, b)
    assert abs(value - ref_value) <= 1e-6 * abs(ref_value)
    # The objective is flat along the optimum (1e-11 relative over alpha steps of 1e-5):
    # Clarabel 0.11 pins alpha to ~1e-5 only; the KKT tests below check it exactly.
    np.testing.assert_allclose(alpha, ref_alpha, atol=2e-5)
    np.testing.assert_allclose(alpha.sum(), 1.0)


def _alpha_instance(kind, rng):
    """Sub-problems whose optimum is interior, on a vertex, or mostly on the floor."""
    if kind == "vertex":  # one component dominates every point: alpha = e_0
        G = rng.uniform(0.0, 0.05, size=(200, 5))
        G[:, 0] = 1.0
        return rng.exponential(size=200), G, np.zeros(200)
    n_comp = 40 if kind == "many-floor" else 4
    G = np.exp(-rng.exponential(3.0, size=(400, n_comp)))
    G /= G.max(axis=1, keepdims=True)
    c = rng.exponential(size=400) * (rng.uniform(size=400) < 0.3)
    return c, G, np.zeros(400) if kind == "many-floor" else 0.01 * rng.uniform(size=400)


@pytest.mark.parametrize("kind", ["interior", "vertex", "many-floor"])
@pytest.mark.parametrize("seed", range(3))
def test_alpha_subproblem_robust_against_cvxpy(kind, seed):
    """Vertex and many-floor optima (where projected Newton methods can stall or zigzag)
    reach the cvxpy optimum from a uniform start, without a ConvergenceWarning."""
    pytest.importorskip("cvxpy")
    from statlogit.expectations._reference import mixture_weights

    c, G, b = _alpha_instance(kind, np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        alpha, value = minimize_alpha(c, G.T.copy(), b,
                                      np.full(G.shape[1], 1 / G.shape[1]))
    ref_alpha, ref_value = mixture_weights(c, G, b)
    assert value <= ref_value * (1 + 1e-7)
    np.testing.assert_allclose(alpha, ref_alpha, atol=1e-5)


def test_capped_simplex_projection_is_a_projection():
    rng = np.random.default_rng(1)
    v = rng.normal(size=7)
    p = project_capped_simplex(v, 1e-3)
    np.testing.assert_allclose(p.sum(), 1.0)
    assert p.min() >= 1e-3 - 1e-15
    for _ in range(200):  # no feasible point is closer to v
        q = project_capped_simplex(rng.normal(size=7), 1e-3)
        assert np.sum((v - p) ** 2) <= np.sum((v - q) ** 2) + 1e-12


def test_capped_simplex_projection_of_huge_gradient_steps():
    """Entries of 1e20 (a gradient step where a floor weight carries points alone)
    once absorbed the cumulative sums and crashed the projection."""
    v = np.array([-3e19, 1.2e20, -3e19, 9e-12])
    np.testing.assert_array_equal(project_capped_simplex(v, 1e-3), [1e-3, 0.997, 1e-3, 1e-3])
    shifted = project_capped_simplex(np.array([0.3, 0.1, 0.9, 0.2]) + 1e12, 1e-3)
    np.testing.assert_allclose(shifted, project_capped_simplex(np.array([0.3, 0.1, 0.9, 0.2]),
                                                               1e-3), atol=1e-4)


def _copula_twin(law, X):
    """log N(z; 0, R) + sum_r [log f_r(x_r) - log phi(z_r)], z_r = Phi^-1(F_r(x_r))."""
    z = np.column_stack([stats.norm.ppf(m.cdf(X[:, r]))
                         for r, m in enumerate(law.marginals)])
    return (stats.multivariate_normal(np.zeros(z.shape[1]), law.corr).logpdf(z)
            + sum(m.logpdf(X[:, r]) - stats.norm.logpdf(z[:, r])
                  for r, m in enumerate(law.marginals)))


def test_gaussian_copula_against_independent_formula():
    law = make_cantilever_beam_laws(2, random_state=0)[0][1]
    X = law.rvs(500, random_state=0)
    np.testing.assert_allclose(law.logpdf(X), _copula_twin(law, X), rtol=1e-10)
    generic = GaussianCopula([stats.gamma(3.0), stats.t(5)], [[1, 0.4], [0.4, 1]])
    Y = generic.rvs(300, random_state=1)
    np.testing.assert_allclose(generic.logpdf(Y), _copula_twin(generic, Y), rtol=1e-9)


def test_stacked_law_sampling_is_law_by_law_sampling():
    """Gaussian copulas on the log scale are drawn from one normal draw: the same
    random stream, and the same points as each law's own rvs (to rounding)."""
    from statlogit.expectations._problem import ExpectationProblem

    laws = make_cantilever_beam_laws(5, random_state=0)[0]
    problem = ExpectationProblem(cantilever_beam, laws)
    counts = np.array([3, 0, 40, 1, 7])
    stacked = problem.sample_laws(counts, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    one_by_one = np.vstack([law.rvs(c, rng) for law, c in zip(laws, counts, strict=True)
                            if c])
    np.testing.assert_allclose(stacked, one_by_one, rtol=1e-14)
    # and the plain copula adapter's closed-form draw matches the generic marginal maps
    Z = np.random.default_rng(4).standard_normal((200, laws[0].dim))
    np.testing.assert_allclose(laws[0].from_normal(Z),
                               IndependentMarginals.from_normal(laws[0], Z), rtol=1e-14)


def test_gaussian_copula_rejects_non_positive_definite():
    marginals = [stats.norm()] * 3
    bad = np.array([[1.0, -0.6, 0.5], [-0.6, 1.0, 0.5], [0.5, 0.5, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        GaussianCopula(marginals, bad)
    with pytest.raises(ValueError, match="symmetric"):
        GaussianCopula(marginals, np.eye(3) * 2)


def test_independent_and_pick_freeze_laws():
    marg = [stats.norm(1, 2), stats.lognorm(0.3)]
    law = IndependentMarginals(marg)
    X = law.rvs(100, random_state=0)
    np.testing.assert_allclose(law.logpdf(X),
                               marg[0].logpdf(X[:, 0]) + marg[1].logpdf(X[:, 1]))
    prod = PickFreezeProduct(law)
    Y = prod.rvs(50, random_state=0)
    assert Y.shape == (50, 4)
    np.testing.assert_allclose(prod.logpdf(Y), law.logpdf(Y[:, :2]) + law.logpdf(Y[:, 2:]))


def test_baselines_interface_and_truth():
    laws = [stats.norm(m, 1.0) for m in (0.0, 0.5, 1.0)]
    truth = np.array([1.0, 1.25, 2.0])
    square = lambda X: X[:, 0] ** 2  # noqa: E731
    for cls in (MonteCarloExpectations, MixtureISExpectations):
        est = cls(budget=3001, random_state=0).fit(square, laws)
        assert est.n_evaluations_ == 3001
        assert np.all(np.abs(est.estimates_ - truth) < 4 * est.std_errors_)
    mc = MonteCarloExpectations(budget=4000, random_state=0).fit(moments, stats.norm())
    assert np.all(np.abs(mc.estimates_ - MOMENT_TRUTH) < 4 * mc.std_errors_)


def test_beam_laws_are_reproducible_and_positive_definite():
    laws, params = make_cantilever_beam_laws(30, random_state=3)
    again = make_cantilever_beam_laws(30, random_state=3)[1]
    np.testing.assert_array_equal(params, again)
    assert all(np.linalg.eigvalsh(law.corr).min() > 0 for law in laws)
    y = cantilever_beam(laws[0].rvs(1000, random_state=0))
    assert 0.01 < y.mean() < 0.1


def test_sobol_ishigami_agrees_with_scipy():
    marginals = [stats.uniform(-np.pi, 2 * np.pi)] * 3
    ours = sobol_indices(ishigami, marginals, budget=8000, orders=("first",),
                         random_state=0)
    peer = stats.sobol_indices(func=lambda x: ishigami(x.T), n=2**13,
                               dists=marginals, rng=np.random.default_rng(0))
    exact = ishigami_first_order()
    assert ours.n_model_runs == 8000 * 4
    assert np.all(np.abs(ours.first_order - exact) < 4 * ours.std_errors + 1e-3)
    # scipy's Saltelli estimator at 2^13 points has a spread of about 0.015
    assert np.all(np.abs(ours.first_order - peer.first_order) < 0.06)
    mc = sobol_indices(ishigami, marginals, budget=8000, method="pick-freeze",
                       random_state=0)
    assert np.all(np.abs(mc.first_order - exact) < 4 * mc.std_errors + 1e-3)
    assert ours.conf_int().shape == (3, 2)


def test_sobol_bad_method():
    with pytest.raises(ValueError, match="method"):
        sobol_indices(ishigami, [stats.uniform()] * 3, method="bogus")


def _assert_kkt(problem, alpha, rtol=1e-6):
    """First-order optimality on the capped simplex: equal gradients above the floor,
    no larger ones on it (an independent check of the solver's answer)."""
    from statlogit.solvers.simplex_newton import inverse_affine_objective as alpha_objective

    _, grad, _ = alpha_objective(alpha, problem.c, problem.G_t, problem.b)
    free = alpha > 2 * 9e-12
    level = grad[free].mean()
    tol = rtol * abs(level)
    assert np.all(np.abs(grad[free] - level) <= tol)
    assert np.all(grad[~free] >= level - tol)


def test_every_alpha_subproblem_of_a_hard_run_is_solved(monkeypatch):
    """Run 4 of the iscv-moments study once ended in a ConvergenceWarning: the solver
    stalled on a face after releasing a floor weight that the enlarged Newton step
    pushed down. Every sub-problem of that run now meets the KKT conditions."""
    from statlogit.expectations._fit import AlphaProblem

    solved = []
    original = AlphaProblem.minimize

    def minimize_and_keep(self, alpha0):
        alpha = original(self, alpha0)
        solved.append((self, alpha))
        return alpha

    monkeypatch.setattr(AlphaProblem, "minimize", minimize_and_keep)
    orders = 2 * np.arange(1, 11)
    truth = factorial2(orders - 1).astype(float)
    rng = np.random.default_rng(np.random.SeedSequence(20231).spawn(5)[4])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MultipleExpectations(budget=20_000, weights=1 / truth**2, random_state=rng).fit(
            lambda X: X[:, [0]] ** orders, stats.norm())
    assert len(solved) >= 2
    for problem, alpha in solved:
        _assert_kkt(problem, alpha)
