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
    fit = em_bernoulli(X, init_bernoulli(X, 3, rng=8), max_iter=5, tol=0.0, callback=lambda t, m, l: seen.append(l))
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
