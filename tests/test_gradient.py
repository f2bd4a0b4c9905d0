import warnings

import numpy as np
import pytest

from emlib import Mixture, e_step, em, init_from_data, init_kmeans_pp, m_step
from emlib.datasets import three_gaussians
from emlib.gradient import (
    GradientResult,
    UnconstrainedParams,
    from_unconstrained,
    gradient_ascent,
    gradient_from_stats,
    gradient_means,
    logits_gradient,
    loglik_gradient,
    to_unconstrained,
    unconstrained_gradient,
)
from emlib.suffstats import accumulate
from conftest import random_mixture

KINDS = ["full", "diag", "spherical"]


def flatten(params):
    return np.concatenate([np.ravel(a) for a in params])


def unflatten(v, like):
    parts, i = [], 0
    for a in like:
        parts.append(v[i:i + a.size].reshape(a.shape))
        i += a.size
    return UnconstrainedParams(*parts)


def central_differences(f, v, h=1e-6):
    return np.array([(f(v + h * e) - f(v - h * e)) / (2 * h) for e in np.eye(v.size)])


def easy_problem(seed=0, n=400):
    X, _ = three_gaussians(n, np.random.default_rng(seed))
    return (X - X.mean(axis=0)) / X.std(axis=0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_central_finite_differences(kind, seed):
    rng = np.random.default_rng(seed)
    d = 3 if kind == "full" else 2
    mix = random_mixture(rng, 3, d)
    X, _ = random_mixture(rng, 2, d).sample(150, rng)
    psi = to_unconstrained(mix, kind)
    mix = from_unconstrained(psi, kind)           # the mixture psi describes (diag / spherical project)

    def ell(v):
        return from_unconstrained(unflatten(v, psi), kind).loglik(X) / X.shape[0]

    analytic = flatten(unconstrained_gradient(loglik_gradient(X, mix), mix, kind))
    numeric = central_differences(ell, flatten(psi))
    np.testing.assert_allclose(analytic, numeric, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("seed", [3, 4])
def test_gradient_wrt_rho_mu_sigma_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    mix = random_mixture(rng, 3, 2)
    X, _ = mix.sample(120, rng)
    n = X.shape[0]
    grad = loglik_gradient(X, mix)
    h = 1e-6

    # rho as m free positive numbers: ell = (1/n) sum_i ln sum_k rho_k N(x_i | k)
    comp = np.exp(mix.component_logpdf(X))
    num_w = [(np.log(comp @ (mix.weights + h * e)).sum() - np.log(comp @ (mix.weights - h * e)).sum()) / (2 * h * n)
             for e in np.eye(3)]
    np.testing.assert_allclose(grad.weights, num_w, rtol=1e-6)

    def ell_means(v):
        return Mixture(mix.weights, v.reshape(3, 2), mix.covariances).loglik(X) / n
    np.testing.assert_allclose(grad.means.ravel(), central_differences(ell_means, mix.means.ravel()), atol=1e-8)

    # a symmetric perturbation of Sigma_k[a, b] and Sigma_k[b, a] changes ell by (G_ab + G_ba) h
    for k, a, b in [(0, 0, 0), (1, 0, 1), (2, 1, 1)]:
        E = np.zeros((3, 2, 2))
        E[k, a, b] = E[k, b, a] = 1.0
        up = Mixture(mix.weights, mix.means, mix.covariances + h * E).loglik(X) / n
        down = Mixture(mix.weights, mix.means, mix.covariances - h * E).loglik(X) / n
        G = grad.covariances[k]
        expected = G[a, b] if a == b else G[a, b] + G[b, a]
        np.testing.assert_allclose((up - down) / (2 * h), expected, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_fast_path_gradient_agrees_with_the_formulas(offset, rng):
    mix0 = random_mixture(rng, 4, 3)
    X, _ = mix0.sample(700, rng)
    X = X + offset
    mix = Mixture(mix0.weights, mix0.means + offset, mix0.covariances)
    stats = accumulate(X, mix, center=X.mean(axis=0), diagonal=False, chunk_size=128)
    fast = gradient_from_stats(stats, mix, X.shape[0])
    slow = loglik_gradient(X, mix)
    for f, s in zip(fast, slow):
        np.testing.assert_allclose(f, s, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_parametrisation_round_trips(kind, rng):
    mix = random_mixture(rng, 4, 3)
    if kind != "full":
        var = np.diagonal(mix.covariances, axis1=1, axis2=2)
        if kind == "spherical":
            var = np.repeat(var.mean(axis=1, keepdims=True), 3, axis=1)
        mix = Mixture(mix.weights, mix.means, var[:, :, None] * np.eye(3))
    back = from_unconstrained(to_unconstrained(mix, kind), kind)
    np.testing.assert_allclose(back.weights, mix.weights, rtol=1e-12)
    np.testing.assert_allclose(back.means, mix.means)
    np.testing.assert_allclose(back.covariances, mix.covariances, rtol=1e-10, atol=1e-12)


def test_logits_gradient_vanishes_at_the_em_weight_update(rng):
    mix = random_mixture(rng, 3, 2)
    X, _ = mix.sample(300, rng)
    resp, _ = e_step(X, mix)
    g = logits_gradient(loglik_gradient(X, mix).weights, mix.weights)
    np.testing.assert_allclose(g, resp.mean(axis=0) - mix.weights, atol=1e-12)   # N_k / n - rho_k
    at_update = mix.with_weights(resp.mean(axis=0))
    resp2, _ = e_step(X, at_update)
    # with the responsibilities held fixed, rho_k = N_k / n zeroes it
    np.testing.assert_allclose(logits_gradient(resp.sum(axis=0) / (300 * at_update.weights), at_update.weights),
                               0.0, atol=1e-12)
    assert not np.allclose(resp2, resp)        # ...but the responsibilities move: the equations are coupled


def test_em_mean_update_is_a_gradient_step_with_matrix_learning_rate(rng):
    """mu_k^(t+1) = mu_k + (n / N_k) Sigma_k d ell / d mu_k: EM chooses the step itself."""
    mix = random_mixture(rng, 3, 2)
    X, _ = mix.sample(250, rng)
    resp, _ = e_step(X, mix)
    g = gradient_means(X, resp, mix)
    nk = resp.sum(axis=0)
    stepped = mix.means + np.einsum("kab,kb->ka", mix.covariances, g) * (X.shape[0] / nk)[:, None]
    np.testing.assert_allclose(stepped, m_step(X, resp).means, atol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_small_learning_rate_increases_the_loglik_every_step(kind):
    X = easy_problem(1, 300)
    init = init_from_data(X, 3, np.random.default_rng(5))
    result = gradient_ascent(X, init, lr=0.05, max_iter=60, tol=0, covariance=kind)
    assert not result.diverged and result.n_iter == 60
    assert np.all(np.diff(result.loglik) > 0)


@pytest.mark.parametrize("kind", ["full", "diag"])
def test_converges_to_the_same_maximum_as_em_from_the_same_start(kind):
    X = easy_problem(0)
    init = init_kmeans_pp(X, 3, np.random.default_rng(1), covariance=kind)
    ref = em(X, init, covariance=kind, tol=1e-12, max_iter=1000, reg=0.0)
    result = gradient_ascent(X, init, lr=0.3, max_iter=3000, tol=1e-7, covariance=kind)
    assert result.converged and not result.diverged
    np.testing.assert_allclose(result.mean_loglik[-1], ref.mean_loglik[-1], atol=1e-6)
    order_g = np.lexsort(result.mixture.means.T)
    order_e = np.lexsort(ref.mixture.means.T)
    np.testing.assert_allclose(result.mixture.means[order_g], ref.mixture.means[order_e], atol=1e-3)
    np.testing.assert_allclose(result.mixture.weights[order_g], ref.mixture.weights[order_e], atol=1e-3)


def test_huge_learning_rate_is_reported_as_diverged_not_a_crash():
    X = easy_problem(2, 200)
    init = init_from_data(X, 3, np.random.default_rng(0))
    with pytest.warns(RuntimeWarning, match="diverged"):
        result = gradient_ascent(X, init, lr=1e6, max_iter=50)
    assert result.diverged and not result.converged
    assert "smaller learning rate" in result.message
    assert len(result.loglik) == len(result.history) == len(result.elapsed) == result.n_iter + 1
    assert np.all(np.isfinite(result.loglik))
    assert result.history[-1] is result.mixture
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = gradient_ascent(X, init, lr=1e6, max_iter=50, warn=False)
    assert quiet.diverged


def test_result_plots_like_an_em_result():
    X = easy_problem(3, 200)
    init = init_from_data(X, 2, np.random.default_rng(0))
    result = gradient_ascent(X, init, lr=0.1, max_iter=12, tol=0)
    assert isinstance(result, GradientResult)
    assert result.n_iter == 12 and not result.converged
    assert result.loglik.shape == result.elapsed.shape == result.grad_norm.shape == (13,)
    assert len(result.history) == 13 and result.history[-1] is result.mixture
    assert np.all(np.diff(result.elapsed) >= 0)
    np.testing.assert_allclose(result.loglik[-1], result.mixture.loglik(X))
    assert result.responsibilities.shape == (200, 2)
    zero = gradient_ascent(X, init, lr=0.1, max_iter=0)
    assert zero.n_iter == 0 and len(zero.loglik) == 1
    np.testing.assert_allclose(zero.mixture.means, init.means)


def test_stops_when_the_gradient_is_below_tol():
    X = easy_problem(4, 200)
    init = init_kmeans_pp(X, 2, np.random.default_rng(0))
    result = gradient_ascent(X, init, lr=0.3, max_iter=5000, tol=1e-5)
    assert result.converged and result.n_iter < 5000
    assert result.grad_norm[-1] < 1e-5 and np.all(result.grad_norm[:-1] >= 1e-5)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(lr=0.0), ValueError, "lr must be > 0"),
    (dict(lr=-0.1), ValueError, "lr"),
    (dict(lr="fast"), TypeError, "lr"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(lr=0.1, max_iter=-1), ValueError, "max_iter"),
    (dict(lr=0.1, max_iter=2.5), TypeError, "max_iter"),
    (dict(lr=0.1, tol=-1.0), ValueError, "tol"),
    (dict(lr=0.1, covariance="tied"), ValueError, "covariance must be one of 'full', 'diag', 'spherical'"),
])
def test_bad_arguments_name_themselves(kwargs, exc, match):
    X = easy_problem(0, 50)
    with pytest.raises(exc, match=match):
        gradient_ascent(X, init_from_data(X, 2, 0), **kwargs)


def test_lr_is_required():
    X = easy_problem(0, 50)
    with pytest.raises(TypeError, match="lr"):
        gradient_ascent(X, init_from_data(X, 2, 0))


def test_bad_init_and_data_are_refused_at_the_door():
    X = easy_problem(0, 50)
    with pytest.raises(TypeError, match="init must be an emlib.Mixture"):
        gradient_ascent(X, 3, lr=0.1)
    with pytest.raises(ValueError, match="feature"):
        gradient_ascent(X, Mixture.univariate([1.0], [0.0], [1.0]), lr=0.1)
    zero_weight = Mixture([1.0, 0.0], [[0.0, 0.0], [1.0, 1.0]], np.broadcast_to(np.eye(2), (2, 2, 2)))
    with pytest.raises(ValueError, match="weight must be > 0"):
        gradient_ascent(X, zero_weight, lr=0.1)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gradient_ascent(X_nan, init_from_data(X, 2, 0), lr=0.1)
