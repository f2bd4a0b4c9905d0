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


def two_far_clusters():
    """Six points near 0 and two near 100: with unit variances every responsibility is exactly 0 or 1
    (e^-4900 underflows), so the M-step's weights are exactly 6/8 and 2/8."""
    return np.array([-1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 99.0, 101.0])


def test_trimming_during_em_keeps_a_weight_exactly_at_min_weight():
    X = two_far_clusters()
    init = Mixture.univariate([0.5, 0.5], [0.0, 100.0], [1.0, 1.0])
    kept = em(X, init, min_weight=0.25, max_iter=3, tol=0)
    assert [mix.n_components for mix in kept.history] == [2, 2, 2, 2]
    np.testing.assert_array_equal(kept.mixture.weights, [0.75, 0.25])
    trimmed = em(X, init, min_weight=0.25 + 1e-12, max_iter=3, tol=0)
    assert trimmed.mixture.n_components == 1


def test_fix_weights_with_trimming_renormalises_the_kept_weights():
    """fix_weights holds the weights of init; a trimmed component's weight goes to the survivors in proportion."""
    X = two_far_clusters()
    init = Mixture.univariate([0.5, 0.25, 0.25], [0.0, 100.0, 1e4], [1.0, 1.0, 1.0])
    result = em(X, init, covariance="fixed", fix_weights=True, min_weight=0.01, max_iter=3, tol=0)
    assert [mix.n_components for mix in result.history] == [3, 2, 2, 2]
    for mix in result.history[1:]:
        np.testing.assert_allclose(mix.weights, [2 / 3, 1 / 3], rtol=1e-15)
    np.testing.assert_allclose(result.mixture.means.ravel(), [0.0, 100.0], atol=1e-12)
    np.testing.assert_array_equal(result.mixture.covariances, np.ones((2, 1, 1)))


@pytest.mark.parametrize("weights", [[-1.0, 2, 1, 1, 1, 1, 1, 1], [1.0, 1, 1, 1, 1, 1, 1, -1e-300]])
def test_negative_sample_weight_is_refused_even_with_a_positive_total(weights):
    init = Mixture.univariate([0.5, 0.5], [0.0, 100.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        em(two_far_clusters(), init, sample_weight=np.array(weights))


@pytest.mark.parametrize("kind", KINDS + ["fixed"])
def test_em_is_shift_invariant_far_from_the_origin(kind, rng):
    """Moving data and start by 1e6 moves the means by 1e6 and changes nothing else.

    X + 1e6 is rounded to the float spacing there (1.2e-10), which moves each
    per-point log-density by about |d ln N / dx| * 1.2e-10 ~ 1e-9 relative, and
    the means and covariances by less. Without centring, the second moments
    (x^2 ~ 1e12) lose about 4 digits: covariances and log-likelihoods are then
    off by ~1e-4 relative.
    """
    X, _ = three_gaussians(600, rng)
    init = init_kmeans_pp(X, 3, rng)
    offset = 1e6
    near = em(X, init, covariance=kind, tol=0, max_iter=20)
    far = em(X + offset, Mixture(init.weights, init.means + offset, init.covariances), covariance=kind,
             tol=0, max_iter=20)
    np.testing.assert_allclose(far.mixture.means - offset, near.mixture.means, rtol=0, atol=1e-8)
    np.testing.assert_allclose(far.mixture.covariances, near.mixture.covariances, rtol=1e-8, atol=0)
    np.testing.assert_allclose(far.mixture.weights, near.mixture.weights, rtol=1e-9)
    np.testing.assert_allclose(far.loglik, near.loglik, rtol=1e-9)


def test_result_repr_names_the_run(rng):
    X, _ = three_gaussians(300, rng)
    run = em(X, init_from_data(X, 3, rng), max_iter=4, tol=0)
    shown = [f"loglik={ll:.6g}" for ll in run.loglik]
    assert len(set(shown)) == 5                                   # every iterate prints differently
    assert repr(run) == f"EMResult(n_iter=4, converged=False, {shown[-1]}, m=3, covariance='full')"
    X = np.array([0.0, 0.5, 1.0, 10.0, 10.5, 11.0])
    init = Mixture.univariate([0.5, 0.5], [0.0, 10.0], [1.0, 1.0])
    from emlib import em_missing
    rm = em_missing(np.r_[X, np.nan][:, None], init, max_iter=3, tol=0)
    assert repr(rm).startswith("MissingEMResult(n_iter=3, converged=False, loglik=-7.29724, m=2")


@pytest.mark.parametrize("diagonal", [False, True])
def test_quadratic_features_are_one_x_and_the_products_of_the_upper_triangle(diagonal, rng):
    """phi(x) = [1, x_1..x_d, x_a x_b for a <= b] (numpy's triu order), or [1, x, x_a^2] when diagonal."""
    from emlib.suffstats import quadratic_features
    Xc = rng.normal(size=(7, 3))
    pairs = [(a, a) for a in range(3)] if diagonal else [(a, b) for a in range(3) for b in range(a, 3)]
    expected = np.c_[np.ones(7), Xc, np.stack([Xc[:, a] * Xc[:, b] for a, b in pairs], axis=1)]
    np.testing.assert_array_equal(quadratic_features(Xc, diagonal), expected)
    out = np.full((9, expected.shape[1]), np.nan)
    np.testing.assert_array_equal(quadratic_features(Xc, diagonal, out=out), expected)
    np.testing.assert_array_equal(out[:7], expected)
    assert expected.shape[1] == (7 if diagonal else 10)


def test_defaults_are_the_documented_ones():
    """em as scikit-learn's GaussianMixture (max_iter 100, reg_covar 1e-6), Lloyd's cap as KMeans (300)."""
    import inspect
    from emlib import kmeans, update_covariances
    def defaults(fn):
        return {k: p.default for k, p in inspect.signature(fn).parameters.items() if p.default is not p.empty}
    assert {k: defaults(em)[k] for k in ("covariance", "max_iter", "tol", "reg", "min_weight", "fix_weights")} == \
        dict(covariance="full", max_iter=100, tol=1e-6, reg=1e-6, min_weight=None, fix_weights=False)
    assert defaults(kmeans)["max_iter"] == 300
    assert defaults(update_covariances) == dict(covariance="full", reg=1e-6)
    assert defaults(init_from_data)["variance_scale"] == 1.0


@pytest.mark.parametrize("kind", ["fixed", "diag", "spherical"])
@pytest.mark.parametrize("d", [2, 3])
def test_variance_only_kinds_from_a_correlated_start_equal_the_readable_loop(kind, d, rng):
    """The fast pass may drop the cross products only while every covariance is diagonal: a correlated
    start (kept for ever under "fixed", for the first E-step under "diag" and "spherical") needs them."""
    start = random_mixture(rng, 2, d)
    assert np.abs(start.covariances[:, 0, 1]).min() > 1e-3
    X, _ = start.sample(300, rng)
    result = em(X, start, covariance=kind, tol=0, max_iter=3)
    mix = start
    for t in range(3):
        resp, ll = e_step(X, mix)
        np.testing.assert_allclose(result.loglik[t], ll, rtol=1e-10)
        mix = m_step(X, resp, covariance=kind, fixed_covariances=start.covariances)
    np.testing.assert_allclose(result.mixture.means, mix.means, atol=1e-9)
    np.testing.assert_allclose(result.mixture.covariances, mix.covariances, atol=1e-9)


def test_the_default_stopping_rule_is_100_iterations_or_a_change_below_1e_6_per_sample():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, 200), rng.normal(1.0, 1, 200)]      # two overlapping clusters: slow EM
    init = Mixture.univariate([0.5, 0.5], [-1.0, 2.0], [1.0, 1.0])
    capped = em(X, init)
    assert capped.n_iter == 100 and not capped.converged
    free = em(X, init, max_iter=1000)
    changes = np.abs(np.diff(free.loglik)) / X.size
    assert free.converged and free.n_iter > 100
    assert changes[-1] < 1e-6 and np.all(changes[:-1] >= 1e-6)


def test_scaling_every_sample_weight_scales_the_loglik_and_nothing_else(rng):
    """w_i -> c w_i multiplies l by c; the per-sample l (mean_loglik, the stopping rule) is unchanged."""
    X, _ = three_gaussians(300, rng)
    init = init_kmeans_pp(X, 3, rng)
    plain = em(X, init, tol=1e-8)
    tripled = em(X, init, tol=1e-8, sample_weight=np.full(300, 3.0))
    assert plain.converged and tripled.n_iter == plain.n_iter
    np.testing.assert_allclose(tripled.loglik, 3 * plain.loglik, rtol=1e-12)
    np.testing.assert_allclose(tripled.mean_loglik, plain.mean_loglik, rtol=1e-12)
    np.testing.assert_allclose(tripled.mixture.covariances, plain.mixture.covariances, rtol=1e-10, atol=1e-12)


def test_callback_gets_each_iterate_and_keep_history_false_keeps_none(rng):
    X, _ = three_gaussians(200, rng)
    init = init_kmeans_pp(X, 3, rng)
    seen = []
    kept = em(X, init, tol=0, max_iter=3, callback=lambda t, mix, ll: seen.append(mix))
    assert len(seen) == 4 and all(a is b for a, b in zip(seen, kept.history))
    lean = em(X, init, tol=0, max_iter=3, keep_history=False)
    assert lean.history == ()
    np.testing.assert_array_equal(lean.mixture.means, kept.mixture.means)


def test_a_halt_ends_the_loop_at_the_last_valid_iterate_with_everything_it_recorded():
    from emlib.em import Halt, iterate

    def m_step(evidence):                     # theta^(t+1) = theta^(t) + 1, until a step would pass 3
        if evidence >= 3:
            raise Halt("step 4 would diverge")
        return evidence + 1

    run = iterate(lambda theta: theta, m_step, 0, max_iter=10, converged=lambda old, new: False,
                  record=lambda evidence: 10 * evidence)
    assert (run.theta, run.evidence, run.n_iter, run.converged) == (3, 3, 3, False)
    assert run.records == [0, 10, 20, 30] and run.history == (0, 1, 2, 3)
    assert run.halted == "step 4 would diverge"


@pytest.mark.parametrize("weighted", [False, True])
def test_the_chunked_pass_adds_the_loglik_of_every_chunk(weighted, rng):
    from emlib.suffstats import accumulate
    X = rng.normal(size=(50, 2))
    mix = Mixture([0.3, 0.7], [[0.0, 0.0], [1.0, 1.0]], np.stack([np.eye(2)] * 2))
    w = rng.uniform(0.5, 2.0, 50) if weighted else None
    stats = accumulate(X, mix, center=X.mean(axis=0), diagonal=False, sample_weight=w, chunk_size=7)
    log_px = np.log(np.exp(mix.weighted_logpdf(X)).sum(axis=1))
    assert stats.loglik == pytest.approx(np.sum(log_px if w is None else w * log_px), rel=1e-12)


def test_a_component_of_weight_zero_costs_no_warning_in_the_fast_pass(rng):
    import warnings
    from emlib.suffstats import accumulate
    X = rng.normal(size=(20, 2))
    mix = Mixture([1.0, 0.0], [[0.0, 0.0], [1.0, 1.0]], np.stack([np.eye(2)] * 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # ln 0 = -inf is expected, not worth a RuntimeWarning
        stats = accumulate(X, mix, center=X.mean(axis=0), diagonal=False)
    assert stats.nk[1] < 1e-250


def test_a_sample_too_far_out_gets_the_clear_error_and_no_floating_point_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"sample X\[3\] is not representable"):
            em(np.array([[0.0], [1.0], [2.0], [3e154]]), Mixture.univariate([1.0], [0.0], [1.0]), chunk_size=2)


def test_the_loop_asks_converged_at_t_0_with_the_first_evidence_and_returns_the_last():
    from emlib.em import iterate
    at_start = iterate(lambda theta: theta, lambda ev: ev + 1, 5, max_iter=10,
                       converged=lambda old, new: new >= 5)                  # already there at t = 0
    assert (at_start.n_iter, at_start.converged, at_start.theta, at_start.evidence) == (0, True, 5, 5)
    run = iterate(lambda theta: 2 * theta, lambda ev: ev // 2 + 1, 0, max_iter=10,
                  converged=lambda old, new: old is not None and new >= 8)
    assert (run.n_iter, run.theta, run.evidence) == (4, 4, 8)               # the evidence of the last theta
