"""EM for a mixture of Bernoulli distributions (emlib.bernoulli), and the numbers of notebook 06b."""

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

import emlib
from emlib.bernoulli import (BernoulliMixture, bernoulli_e_step, bernoulli_m_step, beta_log_prior, em_bernoulli,
                             init_bernoulli)


def _truth():
    probs = np.array([[0.9, 0.9, 0.1, 0.1, 0.8, 0.2],
                      [0.1, 0.2, 0.9, 0.9, 0.1, 0.7],
                      [0.8, 0.1, 0.1, 0.9, 0.9, 0.9]])
    return BernoulliMixture([0.5, 0.3, 0.2], probs)


def test_component_logpmf_matches_the_product_formula():
    mix = _truth()
    X, _ = mix.sample(20, rng=0)
    brute = np.array([[np.sum(np.log(np.where(x == 1, p, 1 - p))) for p in mix.probabilities] for x in X])
    np.testing.assert_allclose(mix.component_logpmf(X), brute, rtol=1e-12)


def test_pmf_sums_to_one_over_every_binary_vector():
    mix = _truth()
    every = np.array(list(itertools.product([0, 1], repeat=6)), dtype=float)
    assert np.exp(mix.logpmf(every)).sum() == pytest.approx(1.0, abs=1e-12)


def test_responsibilities_sum_to_one_and_match_bayes_rule():
    mix = _truth()
    X, _ = mix.sample(50, rng=1)
    resp, loglik = bernoulli_e_step(X, mix)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)
    joint = mix.weights * np.prod(np.where(X[:, None, :] == 1, mix.probabilities, 1 - mix.probabilities), axis=2)
    np.testing.assert_allclose(resp, joint / joint.sum(axis=1, keepdims=True), rtol=1e-10)
    assert loglik == pytest.approx(np.sum(np.log(joint.sum(axis=1))), rel=1e-12)


def test_probabilities_of_zero_and_one_give_minus_infinity_not_nan():
    mix = BernoulliMixture([0.5, 0.5], [[0.0, 1.0], [0.5, 0.5]])
    logp = mix.component_logpmf([[0, 1], [1, 1], [0, 0]])
    assert logp[0, 0] == 0.0 and np.isneginf(logp[1, 0]) and np.isneginf(logp[2, 0])
    assert not np.isnan(logp).any()
    resp, _ = bernoulli_e_step([[1, 1]], mix)
    np.testing.assert_allclose(resp, [[0.0, 1.0]])
    with pytest.raises(ValueError, match="probability 0 under every component.*pseudo_count"):
        bernoulli_e_step([[1, 0]], BernoulliMixture([1.0], [[0.0, 0.5]]))


def test_m_step_matches_brute_force_maximisation_of_q_plus_the_beta_log_prior():
    rng = np.random.default_rng(2)
    X = (rng.random((15, 4)) < 0.4).astype(float)
    resp = rng.dirichlet(np.ones(2), size=15)
    c = 0.7

    def negative(v):
        logits = np.array([v[0], 0.0])
        w = np.exp(logits) / np.exp(logits).sum()
        p = 1 / (1 + np.exp(-v[1:].reshape(2, 4)))
        mix = BernoulliMixture(w, p)
        return -(np.sum(resp * mix.weighted_logpmf(X)) + beta_log_prior(mix, c))

    best = minimize(negative, np.zeros(9), method="BFGS", options={"gtol": 1e-10})
    got = bernoulli_m_step(X, resp, pseudo_count=c)
    np.testing.assert_allclose(got.probabilities, 1 / (1 + np.exp(-best.x[1:].reshape(2, 4))), atol=1e-5)
    np.testing.assert_allclose(got.weights[0], np.exp(best.x[0]) / (np.exp(best.x[0]) + 1), atol=1e-5)


def test_pseudo_count_keeps_probabilities_inside_zero_one():
    X = np.array([[1, 0], [1, 0], [1, 0]], dtype=float)
    resp = np.ones((3, 1))
    np.testing.assert_allclose(bernoulli_m_step(X, resp).probabilities, [[1.0, 0.0]])
    np.testing.assert_allclose(bernoulli_m_step(X, resp, pseudo_count=1.0).probabilities, [[0.8, 0.2]])


@pytest.mark.parametrize("c", [0.0, 1.0])
def test_objective_never_decreases(c):
    mix = _truth()
    X, _ = mix.sample(300, rng=3)
    fit = em_bernoulli(X, init_bernoulli(X, 3, rng=4), pseudo_count=c, max_iter=100, tol=0.0)
    assert np.diff(fit.log_posterior).min() >= -1e-9 * np.abs(fit.log_posterior).max()
    if c == 0:
        np.testing.assert_array_equal(fit.log_posterior, fit.loglik)


def test_recovers_known_prototypes_from_sampled_data():
    mix = _truth()
    X, z = mix.sample(3000, rng=5)
    fit = em_bernoulli(X, init_bernoulli(X, 3, rng=6), max_iter=500, tol=1e-9)
    perm = emlib.match_components(mix.probabilities, fit.mixture.probabilities)
    np.testing.assert_allclose(fit.mixture.probabilities[perm], mix.probabilities, atol=0.05)
    np.testing.assert_allclose(fit.mixture.weights[perm], mix.weights, atol=0.03)
    assert emlib.matched_accuracy(fit.mixture.classify(X), z) > 0.9


def test_uses_the_one_loop_and_keeps_history():
    mix = _truth()
    X, _ = mix.sample(100, rng=7)
    seen = []
    fit = em_bernoulli(X, init_bernoulli(X, 3, rng=8), max_iter=5, tol=0.0, callback=lambda t, m, ll: seen.append(ll))
    assert fit.n_iter == 5 and len(fit.history) == 6 and len(seen) == 6
    np.testing.assert_allclose(seen, fit.loglik)
    np.testing.assert_allclose(fit.responsibilities, bernoulli_e_step(X, fit.mixture)[0])


@pytest.mark.parametrize("call, error, match", [
    (lambda X, mix: em_bernoulli(X * 2, mix), ValueError, "X must be binary"),
    (lambda X, mix: em_bernoulli(X[:, :3], mix), ValueError, "init has 6 feature"),
    (lambda X, mix: em_bernoulli(X, "mix"), TypeError, "init must be an emlib.bernoulli.BernoulliMixture"),
    (lambda X, mix: em_bernoulli(X, mix, pseudo_count=-1), ValueError, "pseudo_count must be >= 0"),
    (lambda X, mix: em_bernoulli(X, mix, max_iter=1.5), TypeError, "max_iter must be an integer"),
    (lambda X, mix: em_bernoulli(X, mix, callback=3), TypeError, "callback must be callable"),
    (lambda X, mix: em_bernoulli(np.where(X > 0, np.nan, 0), mix), ValueError, "NaN"),
    (lambda X, mix: em_bernoulli(X[0], mix), ValueError, "X must be 2-dimensional"),
    (lambda X, mix: BernoulliMixture([0.5, 0.5], [[0.2, 1.2]]), ValueError, "probabilities must have shape"),
    (lambda X, mix: BernoulliMixture([0.5, 0.5], [[0.2], [1.2]]), ValueError, r"probabilities must lie in \[0, 1\]"),
    (lambda X, mix: BernoulliMixture([0.6, 0.5], [[0.2], [0.2]]), ValueError, "weights must be non-negative and sum to 1"),
    (lambda X, mix: bernoulli_m_step(X, np.full((X.shape[0], 2), 0.7)), ValueError, "must sum to 1"),
    (lambda X, mix: init_bernoulli(X, 0), ValueError, "m must be >= 1"),
])
def test_bad_input_is_refused_at_the_door(call, error, match):
    mix = _truth()
    X, _ = mix.sample(10, rng=9)
    with pytest.raises(error, match=match):
        call(X, mix)


def test_a_component_that_loses_every_sample_is_reported():
    X = np.array([[1, 1]] * 5, dtype=float)
    with pytest.raises(ValueError, match=r"component\(s\) \[1\] received zero total responsibility"):
        bernoulli_m_step(X, np.tile([1.0, 0.0], (5, 1)))


# --- notebook 06b's numbers -------------------------------------------------------------------------

def digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data >= 8).astype(float), data.target


def test_init_from_samples_softens_m_distinct_images():
    X = np.eye(6)
    init = init_bernoulli(X, 4, rng=0, start="samples")
    assert set(np.unique(init.probabilities)) == {0.25, 0.75}
    assert len({tuple(p) for p in init.probabilities}) == 4
    with pytest.raises(ValueError, match="start must be 'uniform' or 'samples'"):
        init_bernoulli(X, 2, start="kmeans")


@pytest.fixture(scope="module")
def digit_fit():
    X, y = digits()
    return X, y, em_bernoulli(X, init_bernoulli(X, 10, rng=0), pseudo_count=1.0, max_iter=300, tol=1e-6)


def test_notebook_06b_prototypes_grow_out_of_noise(digit_fit):
    X, y, fit = digit_fit
    n = X.shape[0]
    assert fit.converged and fit.n_iter == 60
    np.testing.assert_allclose(fit.log_posterior[[0, 1, 20, 60]] / n, [-45.624, -23.934, -20.868, -20.726], atol=2e-3)
    assert fit.history[0].posterior(X).max(axis=1).mean() == pytest.approx(0.66, abs=0.01)
    assert np.diff(fit.log_posterior).min() >= 0


def test_notebook_06b_clusters_against_the_digits(digit_fit):
    X, y, fit = digit_fit
    labels = fit.mixture.classify(X)
    assert emlib.matched_accuracy(labels, y) == pytest.approx(0.682, abs=1e-3)
    majority = emlib.match_labels(labels, y, many_to_one=True)
    assert np.mean(majority[labels] == y) == pytest.approx(0.722, abs=1e-3)
    assert set(range(10)) - set(majority.tolist()) == {8}
    C = emlib.overlap_counts(labels, y)
    assert np.sum(C[:, 7] >= 80) == 2                                   # the 7s split between two components


def _digit_run(X, y, m, seed, start):
    try:
        run = em_bernoulli(X, init_bernoulli(X, m, rng=seed, start=start), pseudo_count=1.0, max_iter=300, tol=1e-6)
    except ValueError:
        return None
    lab = run.mixture.classify(X)
    return run.log_posterior[-1] / len(X), emlib.matched_accuracy(lab, y)


def test_notebook_06b_restarts_collapses_and_ranking():
    X, y = digits()
    uniform = [_digit_run(X, y, 10, s, "uniform") for s in range(5)]
    samples = [_digit_run(X, y, 10, s, "samples") for s in range(5)]
    assert [r is None for r in uniform] == [False, False, False, False, True]
    assert all(r is not None for r in samples)
    assert all(_digit_run(X, y, 20, s, "uniform") is None for s in range(3))
    done = [r for r in uniform + samples if r is not None]
    best_fit = max(done, key=lambda r: r[0])
    assert best_fit[1] < max(r[1] for r in done) - 0.05                  # the likelihood does not rank clusterings


def test_notebook_06b_a_pseudo_count_makes_no_new_image_impossible():
    X, _ = digits()
    train, test = X[:1000], X[1000:]
    out = {}
    for c in (0.0, 1.0):
        model = em_bernoulli(train, init_bernoulli(train, 10, rng=0, start="samples"), pseudo_count=c,
                             max_iter=300, tol=1e-6).mixture
        p = model.probabilities
        logp = model.logpmf(test)
        out[c] = (np.mean((p == 0) | (p == 1)), np.sum(~np.isfinite(logp)), logp[np.isfinite(logp)].mean())
    assert out[0.0][0] > 1 / 3 and out[0.0][1] == 4
    assert out[1.0][0] == 0 and out[1.0][1] == 0
    assert out[1.0][2] > out[0.0][2]


from hypothesis import given, settings, strategies as st                      # noqa: E402
from hypothesis.extra.numpy import array_shapes, arrays                         # noqa: E402

_junk = st.one_of(arrays(np.float64, array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
                         elements=st.floats(allow_nan=True, allow_infinity=True)),
                  arrays(np.float64, array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=5),
                         elements=st.sampled_from([0.0, 1.0])),
                  st.none(), st.text(max_size=3), st.integers(-3, 3), st.just([[1, 0], [1]]))


@settings(max_examples=80, deadline=None)
@given(X=_junk, w=_junk, p=_junk, c=st.one_of(st.floats(-1, 3), st.text(max_size=1)))
def test_bernoulli_functions_only_raise_clear_errors(X, w, p, c):
    for fn in (lambda: BernoulliMixture(w, p), lambda: em_bernoulli(X, BernoulliMixture(w, p), pseudo_count=c),
               lambda: em_bernoulli(X, init_bernoulli(X, 2, rng=0), pseudo_count=c, max_iter=5)):
        try:
            fit = fn()
        except (ValueError, TypeError) as exc:
            assert str(exc)
            continue
        if hasattr(fit, "loglik"):
            assert np.all(np.isfinite(fit.loglik))


# --- the exercise checks (emlib/course/checks/bernoulli.py) ---------------------------------------

def test_bernoulli_checks_pass_their_references_and_name_common_mistakes():
    from emlib.course.checks import _feedback
    from emlib.course.checks import bernoulli as chk

    for task, check in (("bernoulli_log_likelihoods", chk.check_bernoulli_log_likelihoods),
                        ("bernoulli_e_step", chk.check_bernoulli_e_step),
                        ("bernoulli_m_step", chk.check_bernoulli_m_step)):
        result = check.evaluate(_feedback.spec(task).reference)
        assert result.passed, result.message

    def naive_product(X, P):
        with np.errstate(divide="ignore"):
            return np.log(np.prod(np.where(X[:, None, :] == 1, P[None], 1 - P[None]), axis=2))

    result = chk.check_bernoulli_log_likelihoods.evaluate(naive_product)
    assert not result.passed and "underflow" in result.message and "800 pixels" in result.message

    def only_on_pixels(X, P):
        return X @ np.log(P).T

    result = chk.check_bernoulli_log_likelihoods.evaluate(only_on_pixels)
    assert "a pixel that is off contributes ln(1 - p_kj)" in result.message

    def m_step_over_n(X, resp, c):
        return resp.mean(axis=0), (resp.T @ X) / len(X)

    assert "divide by N_k" in chk.check_bernoulli_m_step.evaluate(m_step_over_n).message

    def m_step_half_prior(X, resp, c):
        nk = resp.sum(axis=0)
        return nk / nk.sum(), (resp.T @ X + c) / (nk[:, None] + c)

    assert "N_k + 2c" in chk.check_bernoulli_m_step.evaluate(m_step_half_prior).message

    def e_step_without_weights(X, w, P):
        resp, loglik = bernoulli_e_step(X, BernoulliMixture(np.full(len(w), 1 / len(w)), P))
        return resp, loglik

    result = chk.check_bernoulli_e_step.evaluate(e_step_without_weights)
    assert not result.passed and "weights" in result.message
    assert not chk.check_bernoulli_e_step.evaluate(bernoulli_e_step).passed      # emlib's own is refused
