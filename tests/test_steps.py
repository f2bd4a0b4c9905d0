import numpy as np
import pytest

from emlib import Mixture, e_step, expected_complete_loglik, m_step, update_covariances, update_means, update_weights
from conftest import random_mixture


def test_responsibilities_sum_to_one(rng):
    mix = random_mixture(rng, 5, 3)
    X = rng.normal(scale=5, size=(400, 3))
    resp, ll = e_step(X, mix)
    assert resp.shape == (400, 5)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(resp >= 0)
    np.testing.assert_allclose(ll, mix.logpdf(X).sum())


def test_e_step_matches_the_slide_formula_where_it_does_not_underflow():
    mix = Mixture.univariate([0.3, 0.7], [0.0, 2.0], [1.0, 1.0])
    x = np.linspace(-2, 4, 13)
    num = np.stack([0.3 * np.exp(-(x - 0.0) ** 2 / 2), 0.7 * np.exp(-(x - 2.0) ** 2 / 2)], axis=1)
    resp, _ = e_step(x, mix)
    np.testing.assert_allclose(resp, num / num.sum(axis=1, keepdims=True), rtol=1e-12)


def test_e_step_survives_points_where_the_naive_formula_underflows():
    mix = Mixture.univariate([0.5, 0.5], [0.0, 10.0], [0.1, 0.1])
    x = np.array([[-500.0], [5.0], [600.0]])
    naive = 0.5 * np.exp(-(x - mix.means[:, 0]) ** 2 / 0.2)
    assert np.all(naive[[0, 2]] == 0)       # 0/0 in the textbook formula
    resp, ll = e_step(x, mix)
    assert np.all(np.isfinite(resp)) and np.isfinite(ll)
    np.testing.assert_allclose(resp[[0, 2]], [[1, 0], [0, 1]], atol=1e-12)
    np.testing.assert_allclose(resp[1], [0.5, 0.5])


def test_mean_update_is_the_responsibility_weighted_average(rng):
    X = rng.normal(size=(100, 2))
    resp = rng.dirichlet(np.ones(3), size=100)
    mu = update_means(X, resp)
    for k in range(3):
        np.testing.assert_allclose(mu[k], np.average(X, axis=0, weights=resp[:, k]))


def test_covariance_update_matches_numpy_weighted_cov(rng):
    X = rng.normal(size=(150, 3))
    resp = rng.dirichlet(np.ones(2), size=150)
    mu = update_means(X, resp)
    cov = update_covariances(X, resp, mu, "full", reg=0.0)
    for k in range(2):
        ref = np.cov(X.T, aweights=resp[:, k], bias=True)
        np.testing.assert_allclose(cov[k], ref, rtol=1e-12, atol=1e-14)
    diag = update_covariances(X, resp, mu, "diag", reg=0.0)
    np.testing.assert_allclose(diag, cov * np.eye(3), atol=1e-14)
    sph = update_covariances(X, resp, mu, "spherical", reg=0.0)
    np.testing.assert_allclose(sph[:, 0, 0], np.trace(cov, axis1=1, axis2=2) / 3)
    tied = update_covariances(X, resp, mu, "tied", reg=0.5)
    nk = resp.sum(axis=0)
    np.testing.assert_allclose(tied[0], (nk[:, None, None] * cov).sum(axis=0) / 150 + 0.5 * np.eye(3))


def test_weight_update_beats_every_other_feasible_rho_on_q(rng):
    X = rng.normal(size=(80, 2))
    resp = rng.dirichlet(np.ones(4), size=80)
    best = update_weights(resp)
    np.testing.assert_allclose(best.sum(), 1.0)
    base = m_step(X, resp)
    q_best = expected_complete_loglik(X, resp, base)
    for rho in rng.dirichlet(np.ones(4), size=2000):
        assert expected_complete_loglik(X, resp, base.with_weights(rho)) <= q_best + 1e-9


def test_m_step_maximises_q_against_perturbed_parameters(rng):
    X = rng.normal(size=(120, 2)) * [1, 3]
    resp = rng.dirichlet(np.ones(2), size=120)
    new = m_step(X, resp, reg=0.0)
    q = expected_complete_loglik(X, resp, new)
    for _ in range(200):
        means = new.means + rng.normal(scale=0.1, size=new.means.shape)
        A = rng.normal(scale=0.05, size=(2, 2, 2))
        cov = new.covariances + A @ np.swapaxes(A, 1, 2)
        assert expected_complete_loglik(X, resp, Mixture(new.weights, means, cov)) <= q + 1e-9


def test_fixed_kinds_keep_what_they_are_told(rng):
    X = rng.normal(size=(50, 2))
    resp = rng.dirichlet(np.ones(2), size=50)
    cov = np.stack([np.eye(2) * 0.5, np.eye(2) * 2.0])
    mix = m_step(X, resp, covariance="fixed", fixed_covariances=cov, fixed_weights=[0.5, 0.5])
    np.testing.assert_array_equal(mix.covariances, cov)
    np.testing.assert_array_equal(mix.weights, [0.5, 0.5])
    with pytest.raises(ValueError, match="fixed_covariances"):
        m_step(X, resp, covariance="fixed")


def test_collapsed_component_raises_an_error_naming_the_remedies(rng):
    X = rng.normal(size=(10, 1))
    resp = np.zeros((10, 2))
    resp[:, 0] = 1.0
    with pytest.raises(ValueError, match="min_weight") as info:
        m_step(X, resp)
    assert "reg" in str(info.value)


@pytest.mark.parametrize("bad, match", [
    (np.ones((5, 2)), "sum to 1"),
    (np.full((5, 2), np.nan), "NaN"),
    (np.ones((4, 2)) / 2, "one row per sample"),
])
def test_bad_responsibilities_are_refused(bad, match, rng):
    with pytest.raises(ValueError, match=match):
        update_means(rng.normal(size=(5, 2)), bad)


def test_unknown_covariance_kind_lists_the_allowed_ones(rng):
    X = rng.normal(size=(5, 2))
    resp = np.full((5, 2), 0.5)
    with pytest.raises(ValueError, match="'full', 'diag', 'spherical', 'tied', 'fixed'"):
        m_step(X, resp, covariance="ful")


# --- one M-step for every path -------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied"])
def test_m_step_with_integer_sample_weights_equals_repeating_the_samples(kind):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 2)) * [1.0, 3.0]
    resp = rng.dirichlet(np.ones(3), size=40)
    w = rng.integers(0, 4, size=40).astype(float)
    weighted = m_step(X, resp, covariance=kind, sample_weight=w)
    repeated = m_step(np.repeat(X, w.astype(int), axis=0), np.repeat(resp, w.astype(int), axis=0), covariance=kind)
    assert weighted.kind == repeated.kind == kind
    np.testing.assert_allclose(weighted.weights, repeated.weights, rtol=1e-12)
    np.testing.assert_allclose(weighted.means, repeated.means, rtol=1e-12)
    np.testing.assert_allclose(weighted.covariances, repeated.covariances, rtol=1e-10)


def test_m_step_refuses_a_negative_sample_weight_by_name():
    X = np.arange(6.0).reshape(3, 2)
    resp = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        m_step(X, resp, sample_weight=[1.0, -1.0, 5.0])


def test_every_m_step_looks_its_kind_up_in_one_table():
    from emlib.steps import COVARIANCE_UPDATES, covariances_from_scatter
    scatter = np.array([[[4.0, 1.0], [1.0, 2.0]], [[2.0, 0.0], [0.0, 6.0]]])
    nk = np.array([2.0, 2.0])
    np.testing.assert_allclose(COVARIANCE_UPDATES["full"](scatter, nk), scatter / 2)
    np.testing.assert_allclose(COVARIANCE_UPDATES["diag"](scatter, nk)[0], np.diag([2.0, 1.0]))
    np.testing.assert_allclose(COVARIANCE_UPDATES["spherical"](scatter, nk)[1], 2.0 * np.eye(2))
    np.testing.assert_allclose(COVARIANCE_UPDATES["tied"](scatter, nk)[0], scatter.sum(0) / 4)
    np.testing.assert_allclose(covariances_from_scatter(scatter, nk, "full", 0.5), scatter / 2 + 0.5 * np.eye(2))


# --- EM as coordinate ascent on the free energy --------------------------------------------------
def test_free_energy_is_the_loglik_minus_a_kl_divergence():
    from emlib.steps import free_energy, responsibility_entropy
    rng = np.random.default_rng(7)
    mix = random_mixture(rng, 3, 2)
    X, _ = mix.sample(200, rng)
    post, ll = e_step(X, mix)
    assert free_energy(X, post, mix) == pytest.approx(ll, rel=1e-12)          # tight after the E-step
    q = rng.dirichlet(np.ones(3), size=200)
    kl = float(np.sum(q * (np.log(q) - np.log(post))))
    assert free_energy(X, q, mix) == pytest.approx(ll - kl, rel=1e-10)
    assert free_energy(X, q, mix) < ll
    assert responsibility_entropy(np.eye(3)) == 0.0
    assert responsibility_entropy(np.full((1, 4), 0.25)) == pytest.approx(np.log(4))


def test_the_m_step_maximises_the_free_energy_over_theta():
    from emlib.steps import free_energy
    rng = np.random.default_rng(8)
    mix = random_mixture(rng, 2, 2)
    X, _ = mix.sample(300, rng)
    q, _ = e_step(X, mix)
    best = m_step(X, q, reg=0.0)
    top = free_energy(X, q, best)
    for _ in range(20):                            # nearby parameters never do better
        other = Mixture(best.weights, best.means + rng.normal(scale=0.05, size=best.means.shape), best.covariances)
        assert free_energy(X, q, other) <= top + 1e-9


def test_q_leaves_out_zero_responsibilities_and_is_minus_inf_on_an_impossible_assignment():
    """Q = sum_ik E[z_i^(k)] ln(rho_k N(x_i | k)), a zero E[z] contributing 0 even where rho_k = 0."""
    from scipy.stats import norm
    X = np.array([[0.0], [1.0], [3.0]])
    mix = Mixture.univariate([1.0, 0.0], [0.5, 9.0], [2.0, 1.0])
    resp = np.array([[1.0, 0.0], [0.75, 0.25], [1.0, 0.0]])
    assert expected_complete_loglik(X, resp, mix) == -np.inf          # 0.25 on a component of weight 0
    resp = np.array([[1.0, 0.0], [0.75, 0.25], [0.5, 0.5]])
    mix = Mixture.univariate([0.75, 0.25], [0.5, 9.0], [2.0, 1.0])
    expected = sum(r * (np.log(w) + norm.logpdf(x, mu, np.sqrt(v)))
                   for x, row in zip(X[:, 0], resp) for r, w, mu, v in zip(row, [0.75, 0.25], [0.5, 9.0], [2.0, 1.0])
                   if r > 0)
    np.testing.assert_allclose(expected_complete_loglik(X, resp, mix), expected, rtol=1e-13)
    only_first = Mixture.univariate([1.0, 0.0], [0.5, 9.0], [2.0, 1.0])
    hard = np.array([[1.0, 0.0]] * 3)
    np.testing.assert_allclose(expected_complete_loglik(X, hard, only_first),
                               norm.logpdf(X[:, 0], 0.5, np.sqrt(2.0)).sum(), rtol=1e-13)


def test_a_component_exactly_at_the_collapse_threshold_is_kept():
    """Collapsed means N_k < 10 eps (the mean would be 0/0); N_k == 10 eps still gives a mean."""
    from emlib.steps import COLLAPSE_THRESHOLD
    from emlib.missing import m_step_missing
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    resp = np.array([[1.0 - COLLAPSE_THRESHOLD, COLLAPSE_THRESHOLD], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    assert resp[:, 1].sum() == COLLAPSE_THRESHOLD
    np.testing.assert_allclose(update_means(X, resp)[1], [0.0])
    x_hat = np.repeat(X[:, None, :], 2, axis=1)
    np.testing.assert_allclose(m_step_missing(resp, x_hat, np.zeros((4, 2, 1, 1))).means[1], [0.0])


@pytest.mark.parametrize("diagonal", [False, True])
def test_statistics_of_two_blocks_add_up_to_the_statistics_of_all_samples(diagonal, rng):
    # What the Dask path relies on: each block's sums, added, are the sums over every sample.
    from emlib.suffstats import accumulate
    X = rng.normal(size=(301, 3)) + 5.0
    mix = random_mixture(rng, 3, 3, spread=1.0)
    mix = Mixture(mix.weights, mix.means + 5.0, mix.covariances).as_kind("diag" if diagonal else "full")
    c = X.mean(axis=0)
    whole = accumulate(X, mix, center=c, diagonal=diagonal)
    parts = accumulate(X[:120], mix, center=c, diagonal=diagonal) + accumulate(X[120:], mix, center=c, diagonal=diagonal)
    for field in ("nk", "first", "second"):
        np.testing.assert_allclose(getattr(parts, field), getattr(whole, field), rtol=1e-12, atol=1e-9)
    assert parts.loglik == pytest.approx(whole.loglik, rel=1e-13)
    assert parts.diagonal == whole.diagonal and np.array_equal(parts.center, c)
    with pytest.raises(ValueError, match=r"^only statistics taken around the same centre with the same layout can be added$"):
        whole + accumulate(X, mix, center=c + 1.0, diagonal=diagonal)


def test_scatter_around_any_means_equals_the_direct_sum(rng):
    # S_k = sum_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T, for means that are not the fitted ones.
    from emlib.suffstats import accumulate
    X = rng.normal(size=(250, 2)) * [1.0, 3.0] + [1e3, -2e3]
    mix = random_mixture(rng, 3, 2)
    mix = Mixture(mix.weights, mix.means + [1e3, -2e3], mix.covariances * 4.0)
    stats = accumulate(X, mix, center=X.mean(axis=0), diagonal=False)
    resp, _ = e_step(X, mix)
    means = X.mean(axis=0) + rng.normal(size=(3, 2))
    direct = np.einsum("ik,ika,ikb->kab", resp, X[:, None, :] - means, X[:, None, :] - means)
    np.testing.assert_allclose(stats.scatter(means), direct, rtol=1e-9, atol=1e-6)


def test_responsibility_entropy_counts_0_ln_0_as_0_without_a_warning():
    import warnings
    from emlib.steps import responsibility_entropy
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # a student's notebook shows no RuntimeWarning
        h = responsibility_entropy([[1.0, 0.0], [0.5, 0.5]])
    assert h == pytest.approx(np.log(2.0), rel=1e-15)


def test_update_covariances_adds_the_documented_reg_by_default(rng):
    X = rng.normal(size=(40, 2))
    resp, _ = e_step(X, random_mixture(rng, 2, 2))
    means = update_means(X, resp)
    np.testing.assert_array_equal(update_covariances(X, resp, means), update_covariances(X, resp, means, reg=1e-6))
    assert not np.array_equal(update_covariances(X, resp, means), update_covariances(X, resp, means, reg=0.0))


def test_a_fixed_weight_of_zero_is_allowed_and_kept():
    X = np.array([[0.0, 0.0], [1.0, 0.5], [10.0, 10.0], [11.0, 9.5]])
    resp = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_array_equal(m_step(X, resp, fixed_weights=[0.0, 1.0]).weights, [0.0, 1.0])


def test_m_step_with_a_prior_is_the_map_update_not_the_ml_one():
    from emlib.prior import Prior
    X = np.array([[0.0, 0.0], [1.0, 0.5], [0.5, 2.0], [10.0, 10.0], [11.0, 9.5], [9.0, 11.0]])
    resp = np.repeat(np.eye(2), 3, axis=0)
    prior = Prior(scale=np.eye(2), dof=4.0)
    map_fit, ml_fit = m_step(X, resp, reg=0.0, prior=prior), m_step(X, resp, reg=0.0)
    # Sigma_k = (S_k + scale) / (N_k + dof + d + 1) instead of S_k / N_k (emlib.prior)
    S0 = np.cov(X[:3].T, bias=True) * 3
    np.testing.assert_allclose(map_fit.covariances[0], (S0 + np.eye(2)) / (3 + 4.0 + 2 + 1), rtol=1e-12)
    np.testing.assert_allclose(ml_fit.covariances[0], S0 / 3, rtol=1e-12)


def test_a_variance_that_cancellation_drives_below_zero_is_set_to_zero():
    from emlib.suffstats import SufficientStatistics
    # two samples at x = 1 (centre 0): T = 2, N mu^2 = 2; a rounding error of -1e-9 leaves a negative scatter
    stats = SufficientStatistics(nk=np.array([2.0]), first=np.array([[2.0]]), second=np.array([[2.0 - 1e-9]]),
                                 loglik=0.0, center=np.zeros(1), diagonal=False)
    assert stats.moments().scatter[0, 0, 0] == 0.0


def test_diagonal_second_moments_are_diagonal_matrices():
    from emlib.suffstats import SufficientStatistics
    stats = SufficientStatistics(nk=np.array([2.0]), first=np.zeros((1, 2)), second=np.array([[3.0, 5.0]]),
                                 loglik=0.0, center=np.zeros(2), diagonal=True)
    np.testing.assert_array_equal(stats.second_moments(), [np.diag([3.0, 5.0])])


@pytest.mark.parametrize("kind", ["full", "tied"])
def test_full_and_tied_updates_refuse_moments_that_kept_only_variances(kind):
    from emlib.steps import Moments, mixture_from_moments
    mom = Moments(np.array([2.0, 2.0]), np.zeros((2, 2)), np.stack([np.eye(2)] * 2), diagonal_only=True)
    with pytest.raises(ValueError, match=rf"^internal: covariance='{kind}' needs the full scatter matrices$"):
        mixture_from_moments(mom, kind, 0.0)
    assert mixture_from_moments(mom, "diag", 0.0).kind == "diag"


def test_moments_of_diagonal_statistics_are_diagonal_and_say_so():
    from emlib.suffstats import SufficientStatistics
    stats = SufficientStatistics(nk=np.array([2.0]), first=np.array([[2.0, 0.0]]), second=np.array([[3.0, 5.0]]),
                                 loglik=0.0, center=np.zeros(2), diagonal=True)
    mom = stats.moments()
    assert mom.diagonal_only is True
    np.testing.assert_array_equal(mom.scatter, [np.diag([3.0 - 2.0, 5.0])])


def test_a_chunk_holds_about_a_mebibyte_of_rows_and_an_explicit_size_is_kept():
    from emlib.suffstats import CHUNK_BYTES, chunk_rows
    rows = chunk_rows(6, 3)                                     # p = 6 features, m = 3 components
    assert isinstance(rows, int) and rows * 8 * 9 <= CHUNK_BYTES < (rows + 1) * 8 * 9
    assert chunk_rows(10**6, 1) == 256                          # never fewer than 256 rows
    assert chunk_rows(6, 3, 1) == 1 and chunk_rows(6, 3, 7) == 7
