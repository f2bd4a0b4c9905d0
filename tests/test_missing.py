import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from scipy.optimize import minimize

from emlib import Mixture, em, init_kmeans_pp
from emlib.datasets import three_gaussians
from emlib.em import EMResult
from emlib.missing import (
    conditional_gaussian,
    e_step_missing,
    em_missing,
    impute,
    m_step_missing,
    mean_impute,
    observed_logpdf,
    observed_loglik,
    posterior_missing,
)
from conftest import BAD_EM_ARGUMENTS, random_mixture

KINDS = ["full", "diag", "spherical", "tied"]


def delete_at_random(X, fraction, rng):
    """MCAR deletion that keeps every column observed at least once."""
    X = X.copy()
    X[rng.random(X.shape) < fraction] = np.nan
    for a in np.flatnonzero(np.all(np.isnan(X), axis=0)):
        X[0, a] = 0.0
    return X


def monotone_ml(X):
    """Closed-form ML estimate of one Gaussian when only the last feature is ever missing.

    The observed-data likelihood factors into p(x_a) over all n rows times
    p(x_b | x_a) over the complete rows (Anderson 1957; Little & Rubin,
    "Statistical Analysis with Missing Data", section 7.2): estimate the
    marginal of x_a from every row, the regression of x_b on x_a from the
    complete rows, and recombine.
    """
    A, b = X[:, :-1], X[:, -1]
    mu_a = A.mean(axis=0)
    S_aa = np.cov(A.T, bias=True).reshape(A.shape[1], A.shape[1])
    c = ~np.isnan(b)
    Ac, bc = A[c], b[c]
    Sc = np.cov(np.c_[Ac, bc].T, bias=True)
    beta = np.linalg.solve(Sc[:-1, :-1], Sc[:-1, -1])            # regression coefficients of x_b on x_a
    alpha = bc.mean() - beta @ Ac.mean(axis=0)
    resid_var = Sc[-1, -1] - Sc[-1, :-1] @ beta
    mu_b = alpha + beta @ mu_a
    S_ab = S_aa @ beta
    S_bb = resid_var + beta @ S_aa @ beta
    mu = np.r_[mu_a, mu_b]
    S = np.block([[S_aa, S_ab[:, None]], [S_ab[None, :], np.array([[S_bb]])]])
    return mu, S


# --- the formulas ---------------------------------------------------------------------------------

def test_conditional_gaussian_matches_the_bivariate_textbook_formula():
    # x2 | x1 ~ N(mu2 + r s2/s1 (x1 - mu1), s2^2 (1 - r^2))
    mu1, mu2, s1, s2, r = 1.0, -2.0, 2.0, 0.5, 0.6
    cov = np.array([[s1 ** 2, r * s1 * s2], [r * s1 * s2, s2 ** 2]])
    x_hat, C = conditional_gaussian([3.0, np.nan], [mu1, mu2], cov)
    assert x_hat[0] == 3.0
    np.testing.assert_allclose(x_hat[1], mu2 + r * s2 / s1 * (3.0 - mu1), rtol=1e-14)
    np.testing.assert_allclose(C, [[0.0, 0.0], [0.0, s2 ** 2 * (1 - r ** 2)]], atol=1e-15)


def test_conditional_gaussian_with_nothing_observed_is_the_prior_and_with_nothing_missing_is_x(rng):
    mix = random_mixture(rng, 1, 3)
    x_hat, C = conditional_gaussian([np.nan] * 3, mix.means[0], mix.covariances[0])
    np.testing.assert_allclose(x_hat, mix.means[0])
    np.testing.assert_allclose(C, mix.covariances[0])
    x = rng.normal(size=3)
    x_hat, C = conditional_gaussian(x, mix.means[0], mix.covariances[0])
    np.testing.assert_array_equal(x_hat, x)
    assert not C.any()


@pytest.mark.parametrize("kind", KINDS + ["fixed"])
def test_fast_path_agrees_with_the_readable_e_and_m_steps(kind, rng):
    mix = random_mixture(rng, 3, 4)
    X = delete_at_random(mix.sample(300, rng)[0], 0.3, rng)
    X = X[~np.all(np.isnan(X), axis=1)]
    start = init_kmeans_pp(mean_impute(X), 3, rng, covariance="full" if kind == "fixed" else kind)
    w = rng.uniform(0.5, 2.0, X.shape[0])
    resp, x_hat, C, ll = e_step_missing(X, start)
    slow = m_step_missing(resp, x_hat, C, covariance=kind, sample_weight=w,
                          fixed_covariances=start.covariances if kind == "fixed" else None)
    if kind == "fixed":
        np.testing.assert_array_equal(slow.covariances, start.covariances)
    fast = em_missing(X, start, covariance=kind, tol=0, max_iter=1, sample_weight=w)
    np.testing.assert_allclose(fast.loglik[0], w @ observed_logpdf(X, start), rtol=1e-12)
    np.testing.assert_allclose(observed_logpdf(X, start).sum(), ll, rtol=1e-12)
    np.testing.assert_allclose(fast.mixture.weights, slow.weights, atol=1e-12)
    np.testing.assert_allclose(fast.mixture.means, slow.means, atol=1e-10)
    np.testing.assert_allclose(fast.mixture.covariances, slow.covariances, atol=1e-10)
    np.testing.assert_allclose(posterior_missing(X, start), resp, atol=1e-12)


# --- against known answers -------------------------------------------------------------------------

def test_single_gaussian_with_monotone_pattern_reaches_the_closed_form_ml(rng):
    truth = random_mixture(rng, 1, 3)
    X, _ = truth.sample(400, rng)
    X[rng.random(400) < 0.4, 2] = np.nan
    mu, S = monotone_ml(X)
    start = Mixture([1.0], np.zeros((1, 3)), np.eye(3)[None])
    result = em_missing(X, start, reg=0.0, tol=1e-13, max_iter=2000)
    assert result.converged
    np.testing.assert_allclose(result.mixture.means[0], mu, atol=1e-7)
    np.testing.assert_allclose(result.mixture.covariances[0], S, atol=1e-7)
    # and the closed form is a maximum of the observed-data likelihood, not merely a fixed point
    assert observed_loglik(X, Mixture([1.0], mu[None], S[None])) == pytest.approx(result.loglik[-1], abs=1e-8)


def _unpack(theta, d):
    mu = theta[:d]
    L = np.zeros((d, d))
    L[np.tril_indices(d)] = theta[d:]
    L[np.diag_indices(d)] = np.exp(L[np.diag_indices(d)])       # positive diagonal: Sigma = L L^T is SPD
    return mu, L @ L.T


def test_single_gaussian_with_a_general_pattern_maximises_the_observed_likelihood(rng):
    d = 3
    truth = random_mixture(rng, 1, d)
    X = delete_at_random(truth.sample(40, rng)[0], 0.35, rng)
    X = X[~np.all(np.isnan(X), axis=1)]
    result = em_missing(X, Mixture([1.0], np.zeros((1, d)), np.eye(d)[None]), reg=0.0, tol=1e-14, max_iter=5000)

    def neg_loglik(theta):
        mu, S = _unpack(theta, d)
        return -observed_loglik(X, Mixture([1.0], mu[None], S[None]))

    theta0 = np.zeros(d + d * (d + 1) // 2)                      # mu = 0, Sigma = I
    opt = minimize(neg_loglik, theta0, method="BFGS", options={"gtol": 1e-9, "maxiter": 2000})
    mu, S = _unpack(opt.x, d)
    assert -opt.fun <= result.loglik[-1] + 1e-8                 # the optimiser finds nothing better
    np.testing.assert_allclose(result.mixture.means[0], mu, atol=1e-4)
    np.testing.assert_allclose(result.mixture.covariances[0], S, atol=1e-4)


def _gradient_norm(X, mix, h=1e-6):
    """|grad l| by central differences over logits of rho, mu and the Cholesky factors of Sigma."""
    m, d = mix.means.shape
    tril = np.tril_indices(d)
    theta = np.concatenate([np.log(mix.weights), mix.means.ravel(),
                            np.concatenate([L[tril] for L in mix.cholesky])])

    def loglik(t):
        logits, mu = t[:m], t[m:m + m * d].reshape(m, d)
        Ls = np.zeros((m, d, d))
        for k, chunk in enumerate(t[m + m * d:].reshape(m, -1)):
            Ls[k][tril] = chunk
        w = np.exp(logits - logits.max())
        return observed_loglik(X, Mixture(w / w.sum(), mu, Ls @ np.swapaxes(Ls, 1, 2)))

    grad = [(loglik(theta + h * e) - loglik(theta - h * e)) / (2 * h) for e in np.eye(theta.size)]
    return float(np.linalg.norm(grad))


def test_mixture_fit_is_a_stationary_point_of_the_observed_likelihood():
    rng = np.random.default_rng(3)
    X = delete_at_random(three_gaussians(150, rng)[0], 0.25, rng)
    X = X[~np.all(np.isnan(X), axis=1)]
    result = em_missing(X, init_kmeans_pp(mean_impute(X), 3, rng), reg=0.0, tol=1e-14, max_iter=5000)
    assert result.converged
    assert _gradient_norm(X, result.mixture) < 1e-3
    assert _gradient_norm(X, result.history[2]) > 1.0              # an early iterate is not


def test_equals_em_when_nothing_is_missing(rng):
    X, _ = three_gaussians(500, rng)
    w = rng.uniform(0.5, 2.0, 500)
    for kind in KINDS + ["fixed"]:
        init = init_kmeans_pp(X, 3, rng, covariance="full" if kind == "fixed" else kind)
        a = em(X, init, covariance=kind, tol=0, max_iter=25, sample_weight=w)
        b = em_missing(X, init, covariance=kind, tol=0, max_iter=25, sample_weight=w)
        np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-12)
        for ma, mb in zip(a.history, b.history):
            np.testing.assert_allclose(mb.weights, ma.weights, atol=1e-10)
            np.testing.assert_allclose(mb.means, ma.means, atol=1e-10)
            np.testing.assert_allclose(mb.covariances, ma.covariances, atol=1e-10)
        np.testing.assert_allclose(b.responsibilities, a.responsibilities, atol=1e-10)
        # the same centring and the same pass: the same numbers to the last bit (see _Prepared)
        np.testing.assert_array_equal(b.loglik, a.loglik)
        np.testing.assert_array_equal(b.mixture.covariances, a.mixture.covariances)


# --- invariants -----------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 4), d=st.integers(1, 4),
       kind=st.sampled_from(KINDS), n=st.integers(40, 200), fraction=st.floats(0.0, 0.5))
def test_observed_loglik_never_decreases(seed, m, d, kind, n, fraction):
    rng = np.random.default_rng(seed)
    X = delete_at_random(random_mixture(rng, m, d).sample(n, rng)[0], fraction, rng)
    informative = ~np.all(np.isnan(X), axis=1)
    m = min(m, int(informative.sum()) // 10)
    assume(m >= 1)
    init = init_kmeans_pp(mean_impute(X)[informative], m, rng, covariance=kind, reg=1e-9)
    result = em_missing(X, init, covariance=kind, tol=0, max_iter=30, reg=1e-9)
    # A component that collapses onto a point or a line (a covariance eigenvalue at reg) turns l into
    # a sum of huge cancelling terms whose round-off exceeds the tolerance; emlib.em does the same.
    assume(min(np.linalg.eigvalsh(mix.covariances).min() for mix in result.history) > 1e-7)
    steps = np.diff(result.loglik)
    assert np.all(steps >= -1e-8 * np.abs(result.loglik[1:])), steps.min()


def test_loglik_is_the_observed_data_loglik_of_each_iterate(rng):
    X = delete_at_random(three_gaussians(300, rng)[0], 0.3, rng)
    result = em_missing(X, init_kmeans_pp(mean_impute(X), 3, rng), tol=0, max_iter=6)
    assert len(result.history) == result.loglik.size == result.n_iter + 1 == 7
    for mix, ll in zip(result.history, result.loglik):
        np.testing.assert_allclose(observed_loglik(X, mix), ll, rtol=1e-12)
    assert np.all(np.diff(result.loglik) > 0)


def test_rows_missing_everything_contribute_nothing(rng):
    X = delete_at_random(three_gaussians(200, rng)[0], 0.2, rng)
    X = X[~np.all(np.isnan(X), axis=1)]
    init = init_kmeans_pp(mean_impute(X), 3, rng)
    padded = np.r_[X[:50], np.full((7, 2), np.nan), X[50:]]
    a = em_missing(X, init, tol=0, max_iter=10)
    b = em_missing(padded, init, tol=0, max_iter=10)
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-12)
    np.testing.assert_allclose(b.mixture.covariances, a.mixture.covariances, atol=1e-12)
    np.testing.assert_allclose(b.responsibilities[50:57], np.tile(b.mixture.weights, (7, 1)))
    np.testing.assert_allclose(b.responsibilities.sum(axis=1), 1.0)


def test_row_order_does_not_matter(rng):
    X = delete_at_random(random_mixture(rng, 2, 4).sample(300, rng)[0], 0.3, rng)
    init = init_kmeans_pp(mean_impute(X), 2, rng)
    perm = rng.permutation(X.shape[0])
    a = em_missing(X, init, tol=0, max_iter=10)
    b = em_missing(X[perm], init, tol=0, max_iter=10)
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=1e-11)
    np.testing.assert_allclose(b.mixture.covariances, a.mixture.covariances, atol=1e-10)


def test_sample_weight_equals_repeating_rows(rng):
    X = delete_at_random(three_gaussians(80, rng)[0], 0.3, rng)
    counts = rng.integers(1, 4, X.shape[0])
    init = init_kmeans_pp(mean_impute(X), 2, rng)
    a = em_missing(X, init, tol=0, max_iter=8, sample_weight=counts)
    b = em_missing(np.repeat(X, counts, axis=0), init, tol=0, max_iter=8)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-11)
    np.testing.assert_allclose(a.mixture.covariances, b.mixture.covariances, atol=1e-10)


def test_result_is_an_emresult_that_keeps_the_nans(rng):
    X = delete_at_random(three_gaussians(100, rng)[0], 0.2, rng)
    result = em_missing(X, init_kmeans_pp(mean_impute(X), 2, rng), tol=1e-8)
    assert isinstance(result, EMResult)
    assert np.array_equal(np.isnan(result.X), np.isnan(X))
    assert not np.isnan(result.imputed).any()
    assert "converged" in repr(result)


# --- imputation ------------------------------------------------------------------------------------

def test_impute_with_one_gaussian_is_the_conditional_mean_formula(rng):
    mix = random_mixture(rng, 1, 4)
    X_true, _ = mix.sample(50, rng)
    X = delete_at_random(X_true, 0.4, rng)
    filled, std = impute(X, mix, return_std=True)
    mu, S = mix.means[0], mix.covariances[0]
    for i in range(X.shape[0]):
        u = np.isnan(X[i])
        o = ~u
        if not o.any():
            expected = mu[u]
        else:
            expected = mu[u] + S[np.ix_(u, o)] @ np.linalg.solve(S[np.ix_(o, o)], X[i, o] - mu[o])
        np.testing.assert_allclose(filled[i, u], expected, atol=1e-12)
        np.testing.assert_array_equal(filled[i, o], X[i, o])
        C = S[np.ix_(u, u)] - (S[np.ix_(u, o)] @ np.linalg.solve(S[np.ix_(o, o)], S[np.ix_(o, u)]) if o.any() else 0)
        np.testing.assert_allclose(std[i, u], np.sqrt(np.diag(C)), atol=1e-12)
        assert not std[i, o].any()


def test_impute_with_a_mixture_weights_component_means_by_the_posterior(rng):
    mix = random_mixture(rng, 3, 3)
    X = delete_at_random(mix.sample(60, rng)[0], 0.3, rng)
    resp, x_hat, C, _ = e_step_missing(X, mix)
    filled, std = impute(X, mix, return_std=True)
    expected = np.einsum("nk,nkd->nd", resp, x_hat)
    np.testing.assert_allclose(filled, expected, atol=1e-12)
    second = np.einsum("nk,nkd->nd", resp, np.diagonal(C, axis1=2, axis2=3) + x_hat ** 2)
    np.testing.assert_allclose(std ** 2, np.maximum(second - expected ** 2, 0), atol=1e-10)


def test_em_imputation_beats_mean_imputation_on_correlated_data():
    rng = np.random.default_rng(7)
    X_true, _ = three_gaussians(600, rng)
    X = delete_at_random(X_true, 0.3, rng)
    gone = np.isnan(X)
    result = em_missing(X, init_kmeans_pp(mean_impute(X), 3, rng), tol=1e-8)

    def rmse(Y):
        return np.sqrt(np.mean((Y[gone] - X_true[gone]) ** 2))
    assert rmse(result.imputed) < 0.9 * rmse(mean_impute(X))


# --- errors at the door ------------------------------------------------------------------------------

def test_nan_in_em_points_to_em_missing(rng):
    X, _ = three_gaussians(50, rng)
    init = init_kmeans_pp(X, 2, rng)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="emlib.em_missing"):
        em(X, init)
    em_missing(X, init, max_iter=2)                             # and em_missing takes it


@pytest.mark.parametrize("make_X, exc, match", [
    (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 5, np.inf, X), ValueError, "infinite"),
    (lambda X: np.c_[X[:, :1], np.full(X.shape[0], np.nan)], ValueError, r"column\(s\) \[1\] missing"),
    (lambda X: X[None], ValueError, "X must be 1 or 2-dimensional"),
    (lambda X: X.astype(str), TypeError, "real numbers"),
    (lambda X: X[:, :1], ValueError, "init has 2 feature"),
    (lambda X: np.full_like(X, np.nan), ValueError, "missing"),
])
def test_bad_data_is_refused_with_a_clear_message(make_X, exc, match, rng):
    X, _ = three_gaussians(50, rng)
    init = init_kmeans_pp(X, 2, rng)
    X[::4, 0] = np.nan
    with pytest.raises(exc, match=match):
        em_missing(make_X(X), init)


@pytest.mark.parametrize("kwargs, exc, match", BAD_EM_ARGUMENTS)
def test_bad_arguments_name_themselves(kwargs, exc, match, rng):
    X = delete_at_random(three_gaussians(50, rng)[0], 0.2, rng)
    with pytest.raises(exc, match=match):
        em_missing(X, init_kmeans_pp(mean_impute(X), 2, rng), **kwargs)


def test_init_must_be_a_mixture_and_m_at_most_the_informative_rows(rng):
    X = delete_at_random(three_gaussians(50, rng)[0], 0.2, rng)
    with pytest.raises(TypeError, match="init must be an emlib.Mixture"):
        em_missing(X, 3)
    few = np.array([[0.0, 1.0], [np.nan, np.nan], [1.0, np.nan], [np.nan, np.nan]])
    with pytest.raises(ValueError, match="only 2 samples with an observed feature"):
        em_missing(few, random_mixture(rng, 3, 2))


def test_impute_checks_its_arguments(rng):
    mix = random_mixture(rng, 2, 3)
    with pytest.raises(TypeError, match="mixture must be an emlib.Mixture"):
        impute(np.zeros((4, 3)), "mix")
    with pytest.raises(ValueError, match="mixture has 3 feature"):
        impute(np.zeros((4, 2)), mix)
    with pytest.raises(ValueError, match="infinite"):
        impute(np.array([[np.inf, 0.0, 0.0]]), mix)


def test_impute_with_a_given_mixture_accepts_a_column_missing_everywhere(rng):
    # fitting needs every feature observed somewhere; imputing with known parameters does not
    mix = random_mixture(rng, 2, 3)
    X = np.array([[0.5, np.nan, np.nan], [np.nan, 1.0, np.nan]])
    filled = impute(X, mix)
    assert not np.isnan(filled).any()
    resp, x_hat, _, _ = e_step_missing(X, mix)
    np.testing.assert_allclose(filled, np.einsum("nk,nkd->nd", resp, x_hat), atol=1e-12)
    with pytest.raises(ValueError, match=r"column\(s\) \[2\]"):
        em_missing(X, mix)


# --- the exercise checks (emlib/course/checks/missing.py) ------------------------------------------------------

MISSING_CHECKS = ["conditional_gaussian", "e_step_row", "impute", "m_step_missing"]


@pytest.mark.parametrize("task", MISSING_CHECKS)
def test_exercise_check_passes_its_reference(task):
    from emlib.course.checks import _feedback, get_check
    result = get_check(task).evaluate(_feedback.spec(task).reference)
    assert result.passed, result.message


@pytest.mark.parametrize("task", MISSING_CHECKS)
def test_exercise_check_refuses_the_stub_and_emlibs_own_answer(task):
    from emlib import missing
    from emlib.course.checks import get_check

    def stub(*args):
        raise NotImplementedError(f"{task} is not implemented yet: write its body here")
    result = get_check(task).evaluate(stub)
    assert not result.passed and result.kind == "not implemented"
    if hasattr(missing, task):
        assert "the answer" in get_check(task).evaluate(getattr(missing, task)).message


def test_exercise_checks_name_the_usual_mistakes():
    from emlib.course.checks import get_check

    def cond_without_correction(x, mean, cov):
        x_hat, C = conditional_gaussian(x, mean, cov)
        u = np.isnan(x)
        C[np.ix_(u, u)] = cov[np.ix_(u, u)]                        # forgot - Sigma_uo Sigma_oo^-1 Sigma_ou
        return x_hat, C

    def m_step_without_C(resp, x_hat, C):
        mix = m_step_missing(resp, x_hat, np.zeros_like(C), reg=0.0)
        return mix.weights, mix.means, mix.covariances

    def impute_with_the_map_component(X, mixture):
        resp, x_hat, _, _ = e_step_missing(X, mixture)
        return x_hat[np.arange(len(X)), resp.argmax(axis=1)]

    def e_step_row_without_log_space(x, mixture):
        resp, x_hat, C, ll = e_step_missing(x[None], mixture)
        o = ~np.isnan(x)
        if o.any() and np.abs(x[o]).max() > 30:                    # what a naive density ratio gives far away
            return np.full(mixture.n_components, np.nan), x_hat[0], C[0], -np.inf
        return resp[0], x_hat[0], C[0], ll

    for task, wrong, words in [("conditional_gaussian", cond_without_correction, "Subtract"),
                               ("m_step_missing", m_step_without_C, "left out the conditional covariance"),
                               ("impute", impute_with_the_map_component, "only the most probable component"),
                               ("e_step_row", e_step_row_without_log_space, "log space")]:
        result = get_check(task).evaluate(wrong)
        assert not result.passed and words in result.message, result.message


def test_fit_with_holes_fits_the_three_ways_and_only_em_uses_the_incomplete_rows():
    from emlib.missing import QUICK_FIXES, fit_with_holes

    truth = Mixture([0.5, 0.5], [[0.0, 0.0], [6.0, 6.0]], np.stack([np.eye(2)] * 2))
    X, _ = truth.sample(400, np.random.default_rng(0))
    X[:100, 1] = np.nan                                    # the first 100 rows lose feature 2
    fits = {method: fit_with_holes(X, 2, method, 1, n_starts=2) for method in QUICK_FIXES}
    assert fits["drop rows"].X.shape == (300, 2)           # complete-case analysis: 300 rows left
    assert not np.isnan(fits["mean imputation"].X).any()
    assert np.isnan(fits["EM with missing features"].X).sum() == 100
    for fit in fits.values():
        assert np.allclose(np.sort(fit.mixture.means[:, 0]), [0.0, 6.0], atol=0.4)


def test_fit_with_holes_refuses_an_unknown_method_and_too_few_complete_rows():
    from emlib.missing import fit_with_holes

    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="method must be one of"):
        fit_with_holes(X, 2, "median imputation")
    X[1:, 0] = np.nan
    with pytest.raises(ValueError, match="1 complete rows, fewer than m = 2"):
        fit_with_holes(X, 2, "drop rows")


def test_compare_quick_fixes_scores_each_method_against_the_truth():
    from emlib.missing import QUICK_FIXES, compare_quick_fixes

    truth = Mixture([0.5, 0.5], [[0.0, 0.0], [6.0, 6.0]], np.stack([np.eye(2)] * 2))
    full, _ = truth.sample(300, np.random.default_rng(2))
    X = full.copy()
    X[:60, 1] = np.nan
    scores, fits = compare_quick_fixes(X, full, truth, 0)
    assert list(scores) == list(QUICK_FIXES) == list(fits)
    rmse_mean = np.sqrt(np.mean((np.nanmean(X[:, 1]) - full[:60, 1]) ** 2))
    assert scores["mean imputation"][2] == pytest.approx(rmse_mean)          # column means fill the holes
    assert scores["EM with missing features"][2] < scores["mean imputation"][2]
    assert scores["drop rows"][0] < 0.5 and scores["EM with missing features"][0] < 0.5
    assert scores["mean imputation"][0] > scores["EM with missing features"][0]
    no_holes, _ = compare_quick_fixes(full, full, truth, 0)
    assert np.isnan(no_holes["drop rows"][2])
    with pytest.raises(ValueError, match="X_full must be the complete data"):
        compare_quick_fixes(X, full[:10], truth)
    # the documented defaults (n_starts=2, tol=1e-5) are the ones notebook 09 relies on
    explicit, _ = compare_quick_fixes(X, full, truth, 0, n_starts=2, tol=1e-5)
    assert explicit == scores


def test_a_row_with_nothing_observed_adds_nothing_to_the_loglik_and_warns_of_nothing(rng):
    import warnings
    mix = Mixture([0.6, 0.4, 0.0], random_mixture(rng, 3, 2).means, np.broadcast_to(np.eye(2), (3, 2, 2)))
    X = np.array([[0.5, np.nan], [np.nan, -1.0], [0.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # ln 0 for the weight-0 component: no RuntimeWarning
        resp, _, _, ll = e_step_missing(X, mix)
        resp_blank, _, _, ll_blank = e_step_missing(np.r_[X, [[np.nan, np.nan]]], mix)
    np.testing.assert_allclose(ll_blank, ll, rtol=1e-14)
    np.testing.assert_allclose(resp_blank[-1], mix.weights, rtol=1e-14)   # nothing seen: the prior
    np.testing.assert_allclose(observed_loglik(np.r_[X, [[np.nan, np.nan]]], mix), ll, rtol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the fast path too
        np.testing.assert_allclose(observed_logpdf(X, mix).sum(), ll, rtol=1e-14)


def test_em_missing_reads_a_1d_array_as_one_feature_and_keeps_its_kind_and_weights(rng):
    x = np.r_[rng.normal(0, 1, 50), rng.normal(5, 1, 50), [np.nan, np.nan]]
    w = np.full(x.size, 1000.0)                     # the stopping rule divides by the total weight, not by n
    init = Mixture.univariate([0.5, 0.5], [0.0, 5.0], [1.0, 1.0])
    flat = em_missing(x, init, covariance="diag", tol=1e-9, max_iter=500, sample_weight=w)
    column = em_missing(x[:, None], init, covariance="diag", tol=1e-9, max_iter=500)
    assert flat.covariance == "diag" and flat.converged and flat.n_iter == column.n_iter
    np.testing.assert_allclose(flat.loglik, 1000 * column.loglik, rtol=1e-12)
    np.testing.assert_allclose(flat.mean_loglik, column.mean_loglik, rtol=1e-12)
    np.testing.assert_allclose(flat.mixture.means, column.mixture.means, rtol=1e-12)


def test_posterior_and_density_accept_a_column_missing_everywhere(rng):
    mix = random_mixture(rng, 2, 2)
    X = np.array([[0.5, np.nan], [-1.0, np.nan]])
    marginal = Mixture(mix.weights, mix.means[:, :1], mix.covariances[:, :1, :1])
    np.testing.assert_allclose(posterior_missing(X, mix), marginal.posterior(X[:, :1]), rtol=1e-12)
    np.testing.assert_allclose(observed_logpdf(X, mix), marginal.logpdf(X[:, :1]), rtol=1e-12)


def test_mean_impute_fills_each_column_with_its_own_mean():
    X = np.array([[1.0, np.nan], [3.0, 10.0], [np.nan, 20.0]])
    np.testing.assert_array_equal(mean_impute(X), [[1.0, 15.0], [3.0, 10.0], [2.0, 20.0]])


@pytest.mark.parametrize("kind", ["full", "diag"])
def test_no_complete_row_at_all_still_equals_the_readable_steps(kind, rng):
    """Every row misses something: the pass has no complete block, only patterns."""
    X = random_mixture(rng, 2, 3).sample(200, rng)[0]
    X[np.arange(200), rng.integers(0, 3, 200)] = np.nan
    start = init_kmeans_pp(mean_impute(X), 2, rng, covariance=kind)
    fast = em_missing(X, start, covariance=kind, tol=0, max_iter=2)
    mix = start
    for t in range(2):
        resp, x_hat, C, ll = e_step_missing(X, mix)
        np.testing.assert_allclose(fast.loglik[t], ll, rtol=1e-12)
        mix = m_step_missing(resp, x_hat, C, covariance=kind)
    np.testing.assert_allclose(fast.mixture.means, mix.means, atol=1e-10)
    np.testing.assert_allclose(fast.mixture.covariances, mix.covariances, atol=1e-10)


def test_em_missing_is_shift_invariant_far_from_the_origin(rng):
    """The centre of the features is the mean of each column's observed values (see em's test)."""
    X = delete_at_random(three_gaussians(400, rng)[0], 0.3, rng)
    start = init_kmeans_pp(mean_impute(X), 3, rng)
    near = em_missing(X, start, tol=0, max_iter=10)
    far = em_missing(X + 1e6, Mixture(start.weights, start.means + 1e6, start.covariances), tol=0, max_iter=10)
    np.testing.assert_allclose(far.mixture.means - 1e6, near.mixture.means, rtol=0, atol=1e-8)
    np.testing.assert_allclose(far.mixture.covariances, near.mixture.covariances, rtol=1e-8, atol=0)
    np.testing.assert_allclose(far.loglik, near.loglik, rtol=1e-9)


def test_em_missing_stops_by_the_same_default_rule_as_em():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, 200), rng.normal(1.0, 1, 200)][:, None]   # see test_em's stopping-rule test
    init = Mixture.univariate([0.5, 0.5], [-1.0, 2.0], [1.0, 1.0])
    capped = em_missing(X, init)
    assert capped.n_iter == 100 and not capped.converged
    free = em_missing(X, init, max_iter=1000)
    assert free.converged and free.n_iter == em(X, init, max_iter=1000).n_iter > 100


def test_em_missing_honours_fix_weights_min_weight_and_callback_as_em_does(rng):
    X, _ = three_gaussians(300, rng)
    init = Mixture([0.5, 0.3, 0.2], [[0.0, 0.0], [3.0, 3.0], [1e3, 1e3]], np.broadcast_to(4 * np.eye(2), (3, 2, 2)))
    seen = []
    kwargs = dict(tol=0, max_iter=4, fix_weights=True, min_weight=0.01)
    a = em(X, init, **kwargs)
    b = em_missing(X, init, callback=lambda t, mix, ll: seen.append(t), **kwargs)
    assert b.mixture.n_components == a.mixture.n_components == 2 and seen == list(range(5))
    np.testing.assert_allclose(b.mixture.weights, [0.625, 0.375], rtol=1e-15)   # 0.5 and 0.3, renormalised
    np.testing.assert_array_equal(b.loglik, a.loglik)


def _holes_problem():
    truth = Mixture([0.3, 0.3, 0.4], [[0.0, 0.0], [3.0, 3.0], [0.0, 4.0]], np.stack([np.eye(2)] * 3))
    full, _ = truth.sample(150, np.random.default_rng(5))
    X = full.copy()
    X[:40, 1] = np.nan
    X[40:60, 0] = np.nan
    return truth, full, X


def _each_start(X, method, seed, n_starts, tol=1e-6):
    """The fits of fit_with_holes' starts, one by one, as its docstring describes them."""
    from emlib.init import init_kmeans_pp
    from emlib.missing import em_missing, mean_impute
    rng, filled = np.random.default_rng(seed), mean_impute(X)
    complete = X[~np.isnan(X).any(axis=1)]
    start_data, fit_data, fit = {"drop rows": (complete, complete, em), "mean imputation": (filled, filled, em),
                                 "EM with missing features": (filled, X, em_missing)}[method]
    return [fit(fit_data, init_kmeans_pp(start_data, 3, rng), max_iter=500, tol=tol) for _ in range(n_starts)]


@pytest.mark.parametrize("method", ["drop rows", "mean imputation", "EM with missing features"])
def test_fit_with_holes_returns_its_best_start_by_the_final_loglik(method):
    from emlib.missing import fit_with_holes
    _, _, X = _holes_problem()
    starts = _each_start(X, method, 4, 4)
    final = [s.loglik[-1] for s in starts]
    # with this seed the start that ends best is not the one that was best after one iteration
    assert np.argmax(final) != np.argmax([s.loglik[1] for s in starts])
    best = fit_with_holes(X, 3, method, 4, n_starts=4)
    assert best.loglik[-1] == max(final)
    np.testing.assert_array_equal(best.mixture.means, starts[int(np.argmax(final))].mixture.means)
    assert not best.history                                  # keeps no iterates: only the fit is needed
    one = fit_with_holes(X, 3, method, 4)                    # the documented defaults: one start, 500, 1e-6
    np.testing.assert_array_equal(one.mixture.means, starts[0].mixture.means)
    assert one.n_iter == starts[0].n_iter


def test_fit_with_holes_passes_its_tolerance_and_ranks_by_the_last_loglik():
    from emlib.missing import fit_with_holes
    _, _, X = _holes_problem()
    starts = _each_start(X, "drop rows", 3, 4, tol=1e-2)         # stopped early: the last steps are large
    final, before = [s.loglik[-1] for s in starts], [s.loglik[-2] for s in starts]
    assert np.argmax(final) != np.argmax(before)                # this seed ranks them differently one step earlier
    best = fit_with_holes(X, 3, "drop rows", 3, n_starts=4, tol=1e-2)
    assert best.loglik[-1] == max(final) and best.n_iter == starts[int(np.argmax(final))].n_iter


def test_drop_rows_needs_only_m_complete_rows():
    from emlib.missing import fit_with_holes
    X = np.array([[0.0, np.nan], [1.0, 2.0], [np.nan, 3.0]])
    fit = fit_with_holes(X, 1, "drop rows", 0)
    np.testing.assert_array_equal(fit.mixture.means, [[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"X has 1 complete rows, fewer than m = 2; 'drop rows' cannot fit"):
        fit_with_holes(X, 2, "drop rows", 0)


def test_compare_quick_fixes_gives_every_method_one_seed_drawn_from_rng_and_warns_of_nothing():
    import warnings
    from emlib.missing import compare_quick_fixes, fit_with_holes
    truth, full, X = _holes_problem()
    seed = int(np.random.default_rng(7).integers(2**32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # no holes: the RMSE is NaN without a RuntimeWarning
        no_holes, _ = compare_quick_fixes(full, full, truth, 7)
    assert all(np.isnan(score[2]) for score in no_holes.values())
    _, fits = compare_quick_fixes(X, full, truth, 7)
    for method, fit in fits.items():
        np.testing.assert_array_equal(fit.mixture.means, fit_with_holes(X, 3, method, seed, n_starts=2,
                                                                       tol=1e-5).mixture.means)
