"""Checks for exercise 01: ``sample_mixture``, ``gaussian_logpdf`` and ``map_classify``."""

from __future__ import annotations

import numpy as np

from ...mixture import Mixture
from . import _random
from ._feedback import (
    Case,
    Failure,
    as_array,
    call,
    check,
    expect_close,
    expect_equal,
    expect_finite,
    expect_shape,
    expect_tuple,
    fmt,
)

__all__ = ["check_sample_mixture", "check_gaussian_logpdf", "check_map_classify"]

# --- sample_mixture -----------------------------------------------------------------------------

W2 = np.array([0.2, 0.5, 0.3])
MU2 = np.array([[0.0, 0.0], [4.0, 1.0], [-2.0, 3.0]])
COV2 = np.array([[[1.0, 0.6], [0.6, 0.8]], [[0.3, 0.0], [0.0, 2.0]], [[0.5, -0.3], [-0.3, 0.4]]])


def _sample_reference(weights, means, covariances, n, rng):
    return Mixture(weights, means, covariances).sample(n, rng)


def _sample_case(label, weights, means, covariances, n, seed):
    return Case(label, weights=np.asarray(weights, float), means=np.asarray(means, float),
                covariances=np.asarray(covariances, float), n=n, rng=np.random.default_rng(seed))


SAMPLE_CASES = {
    "shape": [_sample_case("five 1-D samples, two components", [0.3, 0.7], [[0.0], [5.0]], [[[1.0]], [[0.5]]], 5, 1),
              _sample_case("four 2-D samples, three components", W2, MU2, COV2, 4, 2)],
    "same": [_sample_case("seed 7", W2, MU2, COV2, 50, 7) for _ in range(2)],
    "other": [_sample_case("seed 8", W2, MU2, COV2, 50, 8)],
    "many": [_sample_case("20000 samples, three 2-D components", W2, MU2, COV2, 20_000, 2024)],
    "zero": [_sample_case("a component of weight 0", [0.5, 0.0, 0.5], MU2, COV2, 2000, 3)],
}


def _hidden_sample(rng):
    mix = _random.mixture(rng, 3, 2, spread=4.0)
    w, mu, cov = mix.weights, mix.means, mix.covariances
    seed = int(rng.integers(2**31))
    zero = w.copy()
    k0 = int(rng.integers(3))
    zero[k0] = 0.0
    zero /= zero.sum()
    one = _random.mixture(rng, 2, 1)
    return {
        "shape": [_sample_case("a few 1-D samples, two components", one.weights, one.means, one.covariances,
                               int(rng.integers(3, 9)), int(rng.integers(2**31))),
                  _sample_case("a few 2-D samples, three components", w, mu, cov, int(rng.integers(3, 9)),
                               int(rng.integers(2**31)))],
        "same": [_sample_case("the same seed twice", w, mu, cov, 50, seed) for _ in range(2)],
        "other": [_sample_case("another seed", w, mu, cov, 50, seed + 1)],
        "many": [_sample_case("20000 samples, three 2-D components", w, mu, cov, 20_000, int(rng.integers(2**31)))],
        "zero": [_sample_case(f"component {k0} of weight 0", zero, mu, cov, 2000, int(rng.integers(2**31)))],
    }


def _sample(fn, case):
    """Call the student's sampler and validate the shapes; returns X (n, d), z (n,)."""
    n, (m, d) = case.kwargs["n"], case.kwargs["means"].shape
    X, z = expect_tuple(call(fn, case), ("X", "z"), "sample_mixture", case)
    X = as_array(X, "X (the first value returned)", case)
    expect_shape(X, (n, d), "X", meaning="(n, d)", case=case)
    expect_finite(X, "X", case=case)
    z = as_array(z, "z (the second value returned)", case, integer=True)
    expect_shape(z, (n,), "z", meaning="(n,), one component index per sample", case=case)
    if n and (z.min() < 0 or z.max() >= m):
        raise Failure(f"z must hold component indices 0..{m - 1}, got values from {z.min()} to {z.max()}."
                      f"\n{case.describe()}")
    return X, z


@check("sample_mixture", reference=_sample_reference, forbidden=(Mixture.sample,), cases=SAMPLE_CASES,
       hidden=_hidden_sample)
def check_sample_mixture(sample_mixture, cases):
    """Check ``sample_mixture(weights, means, covariances, n, rng) -> (X, z)``: shapes, rng use, statistics."""
    for case in cases["shape"]:
        _sample(sample_mixture, case)

    (Xa, za), (Xb, zb) = (_sample(sample_mixture, c) for c in cases["same"])
    if not (np.array_equal(Xa, Xb) and np.array_equal(za, zb)):
        raise Failure("two calls with generators of the same seed gave different samples: draw every random "
                      "number from the rng argument (rng.choice, rng.standard_normal, ...), never from "
                      "np.random.* directly.")
    Xc, _ = _sample(sample_mixture, cases["other"][0])
    if np.array_equal(Xa, Xc):
        raise Failure("generators with different seeds gave the same samples: use the rng argument for "
                      "every random number.")

    case = cases["many"][0]
    W, MU, COV, n = (case.kwargs[k] for k in ("weights", "means", "covariances", "n"))
    m = len(W)
    X, z = _sample(sample_mixture, case)
    freq = np.bincount(z, minlength=m) / n
    se = np.sqrt(W * (1 - W) / n)
    if np.any(np.abs(freq - W) > 5 * se):
        raise Failure(f"the components are not picked with probabilities rho_k: over {n} samples the "
                      f"fractions of z == k are {fmt(freq)}, expected about {fmt(W)}. Draw z_i = k with "
                      f"probability weights[k] (rng.choice(m, size=n, p=weights)).")
    for k in range(m):
        Xk = X[z == k]
        nk = Xk.shape[0]
        mean_k = Xk.mean(axis=0)
        tol_mean = 5 * np.sqrt(np.diag(COV[k]) / nk)
        if np.any(np.abs(mean_k - MU[k]) > tol_mean):
            raise Failure(f"the samples with z == {k} do not come from component {k}: their mean is "
                          f"{fmt(mean_k)}, expected about mu_{k} = {fmt(MU[k])}. Sample i must be drawn "
                          "from the component z_i that was picked for it.")
        cov_k = np.cov(Xk.T, bias=True)
        S = COV[k]
        tol_cov = 5 * np.sqrt((np.outer(np.diag(S), np.diag(S)) + S ** 2) / nk)
        if np.any(np.abs(cov_k - S) > tol_cov):
            hint = ""
            if np.allclose(cov_k, S @ S.T, atol=float(tol_cov.max()) * 2):
                hint = (" They look like Sigma Sigma^T: you multiplied the standard normal draws by Sigma; "
                        "multiply by a square root L of Sigma (Sigma = L L^T, np.linalg.cholesky).")
            elif np.allclose(cov_k, np.diag(np.diag(S)), atol=float(tol_cov.max()) * 2):
                hint = " The correlations are missing: use the whole matrix, not just its diagonal."
            raise Failure(f"the samples with z == {k} have the wrong spread: their covariance is "
                          f"{fmt(cov_k)}, expected about Sigma_{k} = {fmt(S)}.{hint}")
    zero = cases["zero"][0]
    _, z0 = _sample(sample_mixture, zero)
    if np.any(zero.kwargs["weights"][z0] == 0):
        raise Failure("a component of weight 0 was picked: z_i = k must have probability weights[k].")
    return (f"correct: shapes, reproducible with the same rng, and {n} samples have the right "
            "component frequencies, means and covariances.")


# --- gaussian_logpdf ----------------------------------------------------------------------------

LOGPDF_CASES = [
    Case("three 1-D points", X=np.array([[0.0], [1.0], [-2.0]]), mean=np.array([0.5]), cov=np.array([[2.0]])),
    Case("four 2-D points, correlated covariance", X=np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5], [3.0, -1.0]]),
         mean=np.array([0.5, 0.5]), cov=np.array([[1.0, 0.6], [0.6, 2.0]])),
    Case("two 3-D points", X=np.array([[0.0, 1.0, 2.0], [1.0, -1.0, 0.0]]), mean=np.array([0.2, 0.0, 1.0]),
         cov=np.array([[1.0, 0.2, 0.0], [0.2, 0.5, 0.1], [0.0, 0.1, 3.0]])),
]


def _logpdf_reference(X, mean, cov):
    return Mixture([1.0], np.asarray(mean, float)[None, :], np.asarray(cov, float)[None]).component_logpdf(X)[:, 0]


def _hidden_logpdf(rng):
    cases = []
    for d in (1, 2, 3):
        mix = _random.mixture(rng, 1, d)
        X = np.vstack([_random.points(rng, mix, int(rng.integers(2, 6))), _random.far_point(rng, mix, 30.0)])
        cases.append(Case(f"{X.shape[0]} {d}-D points, one far from the mean", X=X, mean=mix.means[0],
                          cov=mix.covariances[0]))
    return cases


@check("gaussian_logpdf", reference=_logpdf_reference, cases=LOGPDF_CASES, hidden=_hidden_logpdf,
       off_limits=("emlib.mixture.Mixture.component_logpdf", "emlib.mixture.Mixture.logpdf",
                   "emlib.mixture.Mixture.weighted_logpdf", "scipy.stats._multivariate.multivariate_normal_gen.logpdf",
                   "scipy.stats._multivariate.multivariate_normal_frozen.logpdf"))
def check_gaussian_logpdf(gaussian_logpdf, cases):
    """Check ``gaussian_logpdf(X, mean, cov) -> (n,)``: ln N(x_i | mu, Sigma) for every row of X."""
    for case in cases:
        X, mean, cov = case.args
        got = as_array(call(gaussian_logpdf, case), "the result", case)
        expect_shape(got, (X.shape[0],), "the result", meaning="(n,), one log-density per sample", case=case)
        expected = _logpdf_reference(X, mean, cov)
        d = X.shape[1]
        log_det = np.linalg.slogdet(cov)[1]
        times_sigma = -0.5 * (d * np.log(2 * np.pi) + log_det + np.einsum("ij,jk,ik->i", X - mean, cov, X - mean))
        hint = "ln N(x | mu, Sigma) = -(d ln 2pi + ln det Sigma + (x - mu)^T Sigma^{-1} (x - mu)) / 2."
        if np.allclose(got, np.exp(expected), rtol=1e-6):
            hint = "You returned the density itself; return its logarithm."
        elif np.allclose(got, expected + 0.5 * d * np.log(2 * np.pi), rtol=1e-6):
            hint = "The -(d/2) ln 2pi term is missing."
        elif np.allclose(got, expected + 0.5 * log_det, rtol=1e-6):
            hint = "The -(1/2) ln det Sigma term is missing."
        elif np.allclose(got, times_sigma, rtol=1e-6):
            hint = "You multiplied by Sigma where the formula has its inverse Sigma^{-1}."
        expect_close(got, expected, "ln N(x_i | mu, Sigma)", case=case, rtol=1e-8, atol=1e-10, hint=hint)
    return f"correct on {len(cases)} cases (d = 1, 2, 3)."


# --- map_classify -------------------------------------------------------------------------------

MAP_CASES = [
    Case("1-D, equal variances, unequal weights",
         X=np.array([[-1.0], [0.9], [1.2], [3.0]]), weights=np.array([0.9, 0.1]),
         means=np.array([[0.0], [2.0]]), covariances=np.array([[[1.0]], [[1.0]]])),
    Case("1-D, unequal variances",
         X=np.array([[0.0], [1.5], [3.0], [6.0]]), weights=np.array([0.5, 0.5]),
         means=np.array([[0.0], [2.0]]), covariances=np.array([[[4.0]], [[0.25]]])),
    Case("2-D, three components", X=np.array([[0.0, 0.0], [3.0, 1.0], [-1.5, 2.5], [1.0, 1.0], [2.0, 3.0]]),
         weights=W2, means=MU2, covariances=COV2),
]


def _map_reference(X, weights, means, covariances):
    return Mixture(weights, means, covariances).classify(X)


def _hidden_map(rng):
    cases = []
    for m, d in ((2, 1), (2, 1), (3, 2), (4, 2)):
        mix = _random.mixture(rng, m, d, spread=1.5)
        X = _random.points(rng, mix, int(rng.integers(5, 12)))
        cases.append(Case(f"{X.shape[0]} {d}-D points, {m} components", X=X, weights=mix.weights, means=mix.means,
                          covariances=mix.covariances))
    return cases


@check("map_classify", reference=_map_reference, forbidden=(Mixture.classify,), cases=MAP_CASES, hidden=_hidden_map,
       off_limits=("emlib.mixture.Mixture.posterior",))
def check_map_classify(map_classify, cases):
    """Check ``map_classify(X, weights, means, covariances) -> (n,)``: argmax_k rho_k N(x_i | mu_k, Sigma_k)."""
    for case in cases:
        X, w, mu, cov = case.args
        got = as_array(call(map_classify, case), "the labels", case, integer=True)
        expect_shape(got, (X.shape[0],), "the labels", meaning="(n,), one component index per sample", case=case)
        mix = Mixture(w, mu, cov)
        expected = mix.classify(X)
        hint = "The MAP class of x maximises rho_k N(x | mu_k, Sigma_k), i.e. ln rho_k + ln N(x | mu_k, Sigma_k)."
        if np.array_equal(got, np.argmax(mix.component_logpdf(X), axis=1)):
            hint = "You left out the weights: MAP maximises rho_k N(x | mu_k, Sigma_k), not N alone."
        elif np.array_equal(got, np.argmin(((X[:, None, :] - mu[None]) ** 2).sum(-1), axis=1)):
            hint = "You assigned each point to its nearest mean; MAP also weighs the covariances and the weights."
        elif np.array_equal(got, np.argmin(mix.weighted_logpdf(X), axis=1)):
            hint = "You took the argmin; MAP takes the argmax."
        expect_equal(got, expected, "the labels", case=case, hint=hint)
    return f"correct on {len(cases)} cases (weights and covariances both matter)."
