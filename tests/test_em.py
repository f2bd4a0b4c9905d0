import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from emlib import Mixture, e_step, em, init_from_data, init_kmeans_pp, m_step
from emlib.datasets import annulus, old_faithful, three_gaussians
from emlib.steps import mixture_from_moments, moments
from emlib.suffstats import accumulate
from conftest import BAD_EM_ARGUMENTS, random_mixture, sklearn_covariances, sklearn_precisions

KINDS = ["full", "diag", "spherical", "tied"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d, m", [(1, 3), (2, 3), (4, 5)])
def test_matches_sklearn_given_same_init(kind, d, m, rng):
    from sklearn.mixture import GaussianMixture
    X, _ = random_mixture(rng, m, d).sample(1500, rng)
    init = init_kmeans_pp(X, m, rng, covariance=kind)
    ours = em(X, init, covariance=kind, tol=0, max_iter=40, reg=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(m, covariance_type=kind, weights_init=init.weights, means_init=init.means,
                             precisions_init=sklearn_precisions(init, kind), tol=0, max_iter=40,
                             reg_covar=1e-6).fit(X)
    assert ours.n_iter == gm.n_iter_ == 40
    np.testing.assert_allclose(ours.mixture.weights, gm.weights_, atol=1e-8)
    np.testing.assert_allclose(ours.mixture.means, gm.means_, atol=1e-8)
    np.testing.assert_allclose(ours.mixture.covariances, sklearn_covariances(gm, kind, m, d), atol=1e-8)
    np.testing.assert_allclose(ours.responsibilities, gm.predict_proba(X), atol=1e-8)
    # sklearn's lower_bound_ is the per-sample log-likelihood before its last M-step
    np.testing.assert_allclose(ours.mean_loglik[-2], gm.lower_bound_, rtol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_fast_path_agrees_with_the_formulas(kind, offset, rng):
    """One chunked pass over sufficient statistics == e_step then m_step, even far from the origin."""
    mix0 = random_mixture(rng, 3, 3)
    X, _ = mix0.sample(2000, rng)
    X = X + offset
    mix = Mixture(mix0.weights, mix0.means + offset, mix0.covariances)
    resp, ll = e_step(X, mix)
    ref = m_step(X, resp, covariance=kind, reg=1e-6)
    st_ = accumulate(X, mix, center=X.mean(axis=0), diagonal=kind in ("diag", "spherical"), chunk_size=333)
    fast = mixture_from_moments(st_.moments(), kind, 1e-6)
    assert fast.kind == ref.kind == kind
    np.testing.assert_allclose(st_.loglik, ll, rtol=1e-11)
    np.testing.assert_allclose(fast.weights, ref.weights, rtol=1e-11)
    np.testing.assert_allclose(fast.means, ref.means, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast.covariances, ref.covariances, rtol=1e-8, atol=1e-9)
    slow = moments(X, resp)
    np.testing.assert_allclose(st_.moments().nk, slow.nk, rtol=1e-11)
    if kind in ("full", "tied"):                 # the fast pass keeps the whole scatter S_k for these
        np.testing.assert_allclose(st_.moments().scatter, slow.scatter, rtol=1e-8, atol=1e-6)


def test_em_equals_the_readable_loop(rng):
    X, _ = three_gaussians(600, rng)
    init = init_from_data(X, 3, rng)
    result = em(X, init, tol=0, max_iter=15)
    mix = init
    for t in range(15):
        resp, ll = e_step(X, mix)
        np.testing.assert_allclose(result.loglik[t], ll, rtol=1e-10)
        mix = m_step(X, resp)
    np.testing.assert_allclose(result.mixture.means, mix.means, atol=1e-9)
    np.testing.assert_allclose(result.mixture.covariances, mix.covariances, atol=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 5), d=st.integers(1, 4),
       kind=st.sampled_from(KINDS), n=st.integers(30, 300))
def test_loglik_never_decreases(seed, m, d, kind, n):
    rng = np.random.default_rng(seed)
    X, _ = random_mixture(rng, m, d).sample(n, rng)
    # reg > 0 makes the M-step a slightly regularised maximiser, which may cost
    # a drop of the order of reg; a tiny reg keeps the property exact enough.
    init = init_kmeans_pp(X, min(m, n // 10), rng, covariance=kind, reg=1e-9)
    result = em(X, init, covariance=kind, tol=0, max_iter=30, reg=1e-9)
    # A component collapsing onto a few points has a variance approaching reg
    # itself: there the regularisation is no longer small, so leave those out.
    assume(all(np.linalg.eigvalsh(mix.covariances).min() > 1e-5 for mix in result.history))
    steps = np.diff(result.loglik)
    assert np.all(steps >= -1e-8 * np.abs(result.loglik[1:])), steps.min()


def test_loglik_history_covers_t_0_to_n_iter(rng):
    X = old_faithful()
    init = init_kmeans_pp(X, 2, 0)
    result = em(X, init, tol=1e-8)
    assert result.converged
    assert len(result.loglik) == len(result.history) == result.n_iter + 1
    assert result.history[0] is init
    assert result.history[-1] is result.mixture
    np.testing.assert_allclose(result.loglik[0], init.loglik(X))
    np.testing.assert_allclose(result.loglik[-1], result.mixture.loglik(X))
    # the stopping rule: last change below tol, the one before not
    changes = np.abs(np.diff(result.loglik)) / X.shape[0]
    assert changes[-1] < 1e-8 and np.all(changes[:-1] >= 1e-8)


def test_tol_zero_runs_exactly_max_iter_and_max_iter_zero_returns_init(rng):
    X, _ = three_gaussians(200, rng)
    init = init_kmeans_pp(X, 3, rng)
    r = em(X, init, tol=0, max_iter=7)
    assert r.n_iter == 7 and not r.converged and len(r.loglik) == 8
    r0 = em(X, init, max_iter=0)
    assert r0.n_iter == 0 and r0.mixture is init and len(r0.loglik) == 1


def test_old_faithful_two_clusters():
    X = old_faithful()
    result = em(X, init_kmeans_pp(X, 2, 1), tol=1e-10, max_iter=500)
    order = np.argsort(result.mixture.means[:, 0])
    # short eruptions with short waits, long with long waits (about 35% / 65%)
    np.testing.assert_allclose(result.mixture.weights[order], [0.356, 0.644], atol=0.01)
    np.testing.assert_allclose(result.mixture.means[order], [[2.04, 54.5], [4.29, 80.0]], atol=0.05)


def test_trimming_removes_small_components_during_training():
    X = annulus(900, np.random.default_rng(0))
    init = init_from_data(X, 30, np.random.default_rng(1))
    trimmed = em(X, init, min_weight=0.02, max_iter=300, tol=1e-7)
    counts = [mix.n_components for mix in trimmed.history]
    assert counts[0] == 30 and counts[-1] < 30
    assert all(a >= b for a, b in zip(counts, counts[1:]))
    assert np.all(trimmed.mixture.weights >= 0.02 * 0.99)
    assert trimmed.responsibilities.shape == (900, counts[-1])


def test_collapse_without_min_weight_is_an_error_not_nan():
    X = np.r_[np.zeros(5), np.ones(5)][:, None]
    far = Mixture.univariate([0.4, 0.4, 0.2], [0.0, 1.0, 1e4], [0.01, 0.01, 1e-4])
    with pytest.raises(ValueError, match="min_weight"):
        em(X, far, max_iter=5)
    result = em(X, far, max_iter=5, min_weight=1e-6)
    assert result.mixture.n_components == 2
    assert np.all(np.isfinite(result.loglik))


def test_sample_weight_equals_repeating_samples(rng):
    values = np.round(rng.normal(size=300), 1)
    bins, counts = np.unique(values, return_counts=True)
    init = Mixture.univariate([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])
    full = em(values, init, tol=0, max_iter=25, covariance="diag")
    hist = em(bins, init, tol=0, max_iter=25, covariance="diag", sample_weight=counts)
    np.testing.assert_allclose(hist.loglik, full.loglik, rtol=1e-11)
    np.testing.assert_allclose(hist.mixture.means, full.mixture.means, atol=1e-10)
    np.testing.assert_allclose(hist.mixture.covariances, full.mixture.covariances, atol=1e-10)


def test_callback_sees_every_iteration(rng):
    X, _ = three_gaussians(200, rng)
    seen = []
    r = em(X, init_kmeans_pp(X, 3, rng), tol=0, max_iter=5, callback=lambda t, mix, ll: seen.append((t, ll)))
    assert [t for t, _ in seen] == list(range(6))
    np.testing.assert_allclose([ll for _, ll in seen], r.loglik)


@pytest.mark.parametrize("kwargs, exc, match", BAD_EM_ARGUMENTS)
def test_bad_arguments_name_themselves(kwargs, exc, match, rng):
    X, _ = three_gaussians(50, rng)
    with pytest.raises(exc, match=match):
        em(X, init_kmeans_pp(X, 2, rng), **kwargs)


def test_nan_in_x_points_to_em_missing(rng):
    X, _ = three_gaussians(50, rng)
    init = init_kmeans_pp(X, 2, rng)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="em_missing"):
        em(X, init)


def test_init_must_be_a_mixture_with_matching_features(rng):
    X, _ = three_gaussians(50, rng)
    with pytest.raises(TypeError, match="init must be an emlib.Mixture"):
        em(X, 3)
    with pytest.raises(ValueError, match="feature"):
        em(X, Mixture.univariate([1.0], [0.0], [1.0]))
    with pytest.raises(ValueError, match="m <= n"):
        em(X[:2], init_from_data(X, 3, rng))


# --- one loop for every EM-style algorithm -------------------------------------------------------
def test_iterate_runs_the_slide_loop_for_any_pair_of_steps():
    """A toy 'EM' on numbers: the E-step reports theta, the M-step halves the distance to 10."""
    from emlib.em import Halt, iterate

    seen = []
    run = iterate(lambda th: {"loglik": -abs(10 - th), "theta": th}, lambda ev: (ev["theta"] + 10) / 2, 0.0,
                  max_iter=50, converged=lambda before, now: before is not None and abs(now["loglik"] - before["loglik"]) < 1e-3,
                  record=lambda ev: ev["loglik"], callback=lambda t, th, ev: seen.append(t))
    assert run.converged and run.n_iter == len(run.records) - 1 == len(run.history) - 1
    assert seen == list(range(run.n_iter + 1))
    assert np.all(np.diff(run.records) > 0) and run.theta == run.history[-1]

    def m_step(ev):
        if ev["theta"] > 5:
            raise Halt("diverged")
        return ev["theta"] + 2
    halted = iterate(lambda th: {"theta": th}, m_step, 0.0, max_iter=10, converged=lambda a, b: False)
    assert halted.halted == "diverged" and halted.theta == 6.0 and halted.n_iter == 3 and not halted.converged


def test_em_result_mixture_has_the_kind_that_was_fitted(rng):
    X, _ = three_gaussians(300, rng)
    for kind in ("full", "diag", "spherical", "tied"):
        assert em(X, init_kmeans_pp(X, 3, rng), covariance=kind, max_iter=5).mixture.kind == kind
    fixed = em(X, init_kmeans_pp(X, 3, rng), covariance="fixed", max_iter=5)
    assert fixed.mixture.kind == "fixed"
