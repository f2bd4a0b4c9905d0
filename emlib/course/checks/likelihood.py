"""Checks for exercise 02: ``mixture_loglik``, ``fit_clustering`` and ``clustering_loglik``."""

from __future__ import annotations

import numpy as np

from ...init import init_from_labels
from ...mixture import Mixture
from . import _random
from ._feedback import (
    Case,
    as_array,
    as_number,
    call,
    check,
    expect_close,
    expect_shape,
    expect_symmetric,
    expect_tuple,
    match_components,
)

__all__ = ["check_mixture_loglik", "check_fit_clustering", "check_clustering_loglik"]

_W = np.array([0.5, 0.3, 0.2])
_MU = np.array([[0.0, 0.0], [3.0, 1.0], [-1.0, 2.0]])
_COV = np.array([[[1.0, 0.3], [0.3, 0.8]], [[0.5, 0.0], [0.0, 0.5]], [[2.0, -0.5], [-0.5, 1.0]]])

UNDERFLOW_HINT = ("A point far from every mean has rho_k N(x | mu_k, Sigma_k) = 0 in float64 for every k, "
                  "so ln of their sum is -inf. Sum in log space: ln sum_k exp(a_k) with a_k = ln rho_k + "
                  "ln N(x | mu_k, Sigma_k), computed by scipy.special.logsumexp.")

# --- mixture_loglik -----------------------------------------------------------------------------

LL_CASES = [
    Case("three 1-D points, two components", X=np.array([[0.0], [1.0], [3.0]]), weights=np.array([0.4, 0.6]),
         means=np.array([[0.0], [2.0]]), covariances=np.array([[[1.0]], [[0.5]]])),
    Case("five 2-D points, three components",
         X=np.array([[0.0, 0.0], [3.0, 1.0], [-1.0, 2.0], [1.5, 0.5], [0.2, -1.0]]),
         weights=_W, means=_MU, covariances=_COV),
    Case("a point far from every mean", tags=('far',), X=np.array([[1.0], [60.0]]), weights=np.array([0.4, 0.6]),
         means=np.array([[0.0], [2.0]]), covariances=np.array([[[1.0]], [[0.5]]])),
]


def _ll_reference(X, weights, means, covariances):
    return Mixture(weights, means, covariances).loglik(X)


def _hidden_mixture_loglik(rng):
    cases = []
    for m, d in ((2, 1), (3, 2)):
        mix = _random.mixture(rng, m, d)
        X = _random.points(rng, mix, int(rng.integers(3, 8)))
        cases.append(Case(f"{X.shape[0]} {d}-D points, {m} components", X=X, weights=mix.weights, means=mix.means,
                          covariances=mix.covariances))
    mix = _random.mixture(rng, 2, int(rng.integers(1, 3)))
    X = np.vstack([_random.points(rng, mix, 1), _random.far_point(rng, mix)])
    cases.append(Case("a point far from every mean", tags=('far',), X=X, weights=mix.weights, means=mix.means,
                      covariances=mix.covariances))
    return cases


@check("mixture_loglik", reference=_ll_reference, forbidden=(Mixture.loglik,),
       cases=LL_CASES, hidden=_hidden_mixture_loglik,
       off_limits=('emlib.mixture.Mixture.logpdf',))
def check_mixture_loglik(mixture_loglik, cases):
    """Check ``mixture_loglik(X, weights, means, covariances) -> float``: sum_i ln sum_k rho_k N(x_i | k)."""
    for case in cases:
        X, w, mu, cov = case.args
        got = as_number(call(mixture_loglik, case), "the log-likelihood", case)
        mix = Mixture(w, mu, cov)
        expected = mix.loglik(X)
        hint = "l(theta) = sum_i ln sum_k rho_k N(x_i | mu_k, Sigma_k)."
        if np.isclose(got, expected / X.shape[0], rtol=1e-8):
            hint = "You returned the mean over the samples; the log-likelihood is their sum."
        elif np.isclose(got, float(np.sum(mix.component_logpdf(X).max(axis=1))), rtol=1e-8):
            hint = "You kept only the best component per point; sum over all components inside the log."
        elif np.isclose(got, float(np.sum(mix.weighted_logpdf(X))), rtol=1e-8):
            hint = "You summed the logs of the weighted components; the log must be of their sum."
        elif not np.isfinite(got) and case.probes("far"):
            hint = UNDERFLOW_HINT
        expect_close(got, expected, "the log-likelihood", case=case, rtol=1e-8, atol=1e-8, hint=hint)
    return f"correct on {len(cases)} cases, including a point far from every mean."


# --- fit_clustering -----------------------------------------------------------------------------

_X2 = np.array([[0.0, 0.0], [1.0, 0.5], [0.5, -1.0], [-0.5, 0.2],
                [5.0, 5.0], [6.0, 4.0], [5.5, 6.0],
                [-4.0, 3.0], [-5.0, 2.5], [-4.5, 4.0], [-3.0, 3.2]])
FIT_CASES = [
    Case("six 1-D points, two clusters", X=np.array([[0.0], [1.0], [0.5], [4.0], [6.0], [5.5]]),
         labels=np.array([0, 0, 0, 1, 1, 1])),
    Case("eleven 2-D points, three clusters of different sizes", X=_X2,
         labels=np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2])),
    Case("labels in a mixed order", X=_X2[[4, 0, 7, 1, 5, 8, 2, 9, 3, 6, 10]],
         labels=np.array([1, 0, 2, 0, 1, 2, 0, 2, 0, 1, 2])),
]


def _fit_reference(X, labels):
    mix = init_from_labels(X, labels, reg=0.0)
    return mix.weights, mix.means, mix.covariances


def _clusterings(rng):
    cases = []
    for m, d in ((2, 1), (3, 2), (3, 3)):
        mix = _random.mixture(rng, m, d, spread=5.0)
        labels = np.concatenate([np.repeat(np.arange(m), d + 2), rng.integers(0, m, int(rng.integers(2, 8)))])
        rng.shuffle(labels)
        X = mix.means[labels] + rng.normal(size=(labels.size, d)) @ np.linalg.cholesky(mix.covariances[0]).T
        cases.append(Case(f"{labels.size} {d}-D points, {m} clusters, labels in a mixed order", X=X, labels=labels))
    return cases


_hidden_fit_clustering = _clusterings


@check("fit_clustering", reference=_fit_reference, forbidden=(init_from_labels,),
       cases=FIT_CASES, hidden=_hidden_fit_clustering)
def check_fit_clustering(fit_clustering, cases):
    """Check ``fit_clustering(X, labels) -> (weights, means, covariances)``: the ML estimate per cluster."""
    for case in cases:
        X, labels = case.args
        n, d = X.shape
        m = int(labels.max()) + 1
        got = expect_tuple(call(fit_clustering, case), ("weights", "means", "covariances"), "fit_clustering", case)
        w = as_array(got[0], "weights", case)
        mu = as_array(got[1], "means", case)
        cov = as_array(got[2], "covariances", case)
        expect_shape(w, (m,), "weights", meaning="(m,)", case=case)
        expect_shape(mu, (m, d), "means", meaning="(m, d)", case=case)
        expect_shape(cov, (m, d, d), "covariances", meaning="(m, d, d)", case=case)
        expect_symmetric(cov, "covariances", case=case)
        ew, emu, ecov = _fit_reference(X, labels)
        perm = match_components(emu, mu)
        w, mu, cov = w[perm], mu[perm], cov[perm]
        counts = np.bincount(labels, minlength=m)
        w_hint = "rho_k = n_k / n, the fraction of the samples in cluster k."
        if np.allclose(w, counts):
            w_hint = "You returned the counts n_k; the weights are n_k / n."
        expect_close(w, ew, "weights (components matched in any order)", case=case, rtol=1e-8, hint=w_hint)
        expect_close(mu, emu, "means (components matched in any order)", case=case, rtol=1e-8, atol=1e-10,
                     hint="mu_k is the average of the samples with label k.")
        c_hint = "Sigma_k = (1/n_k) sum_{i in cluster k} (x_i - mu_k)(x_i - mu_k)^T."
        if np.allclose(cov, ecov * (counts / np.maximum(counts - 1, 1))[:, None, None], rtol=1e-6):
            c_hint = ("You divided by n_k - 1 (np.cov's default); the ML estimate divides by n_k: "
                      "np.cov(..., bias=True).")
        expect_close(cov, ecov, "covariances (components matched in any order)", case=case, rtol=1e-8,
                     atol=1e-10, hint=c_hint)
    return f"correct on {len(cases)} cases (weights n_k / n, cluster means, ML covariances)."


# --- clustering_loglik --------------------------------------------------------------------------

def _cl_reference(X, labels):
    return init_from_labels(X, labels, reg=0.0).loglik(X)


_hidden_clustering_loglik = _clusterings


@check("clustering_loglik", reference=_cl_reference, cases=FIT_CASES, hidden=_hidden_clustering_loglik,
       off_limits=('emlib.init.init_from_labels',))
def check_clustering_loglik(clustering_loglik, cases):
    """Check ``clustering_loglik(X, labels) -> float``: the log-likelihood of the mixture fitted to a clustering."""
    for case in cases:
        X, labels = case.args
        got = as_number(call(clustering_loglik, case), "the log-likelihood", case)
        mix = init_from_labels(X, labels, reg=0.0)
        expected = mix.loglik(X)
        hint = "Fit the mixture to the clustering (fit_clustering), then take its log-likelihood (mixture_loglik)."
        hard = float(np.sum(mix.weighted_logpdf(X)[np.arange(X.shape[0]), labels]))
        if np.isclose(got, hard, rtol=1e-8):
            hint = ("You computed the complete-data log-likelihood sum_i ln rho_{z_i} N(x_i | z_i), as if the "
                    "labels were observed; the task asks for the mixture's l(theta) = sum_i ln sum_k ... .")
        expect_close(got, expected, "the log-likelihood", case=case, rtol=1e-8, atol=1e-8, hint=hint)
    return f"correct on {len(cases)} cases."
