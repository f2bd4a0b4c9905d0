"""Checks for exercise 06, k-means as the sigma -> 0 limit of EM."""

from __future__ import annotations

import numpy as np

from ...kmeans import assign as _assign
from ...kmeans import kmeans as _lloyd
from ...kmeans import kmeans_limit_mixture
from ...steps import e_step
from ._feedback import (
    Case,
    as_array,
    call,
    check,
    expect_close,
    expect_equal,
    expect_finite,
    expect_rows_sum_to_one,
    expect_shape,
    expect_tuple,
    match_components,
)

__all__ = ["check_assign_to_nearest", "check_kmeans", "check_soft_assign"]

_X = np.array([[0.0, 0.0], [0.5, 0.2], [4.0, 4.0], [4.5, 3.5], [-3.0, 4.0], [-2.5, 4.5], [1.0, 1.5], [3.0, 2.0]])
_MEANS = np.array([[0.0, 0.0], [4.0, 4.0], [-3.0, 4.0]])

ASSIGN_CASES = [
    Case("four 1-D points, two means", X=np.array([[0.0], [0.9], [1.1], [3.0]]), means=np.array([[0.0], [2.0]])),
    Case("eight 2-D points, three means", X=_X, means=_MEANS),
    Case("means far from the origin", X=_X + 1e4, means=_MEANS + 1e4),
]


def _assign_reference(X, means):
    return _assign(np.asarray(X, float), np.asarray(means, float))


def _blobs(rng, m, d, per):
    means = rng.normal(scale=4.0, size=(m, d))
    labels = rng.integers(0, m, per * m)
    return means[labels] + rng.normal(size=(labels.size, d)), means


def _hidden_assign_to_nearest(rng):
    X1, mu1 = _blobs(rng, 2, 1, 3)
    X2, mu2 = _blobs(rng, 3, 2, 3)
    shift = rng.uniform(5e3, 2e4)
    return [Case(f"{X1.shape[0]} 1-D points, two means", X=X1, means=mu1),
            Case(f"{X2.shape[0]} 2-D points, three means", X=X2, means=mu2),
            Case("means far from the origin", X=X2 + shift, means=mu2 + shift)]


@check("assign_to_nearest", reference=_assign_reference, forbidden=(_assign,),
       cases=ASSIGN_CASES, hidden=_hidden_assign_to_nearest,
       off_limits=('emlib.kmeans.kmeans',))
def check_assign_to_nearest(assign_to_nearest, cases):
    """Check ``assign_to_nearest(X, means) -> (n,)``: the index of the closest mean for every sample."""
    for case in cases:
        X, means = case.args
        got = as_array(call(assign_to_nearest, case), "the labels", case, integer=True)
        expect_shape(got, (X.shape[0],), "the labels", meaning="(n,), one index per sample", case=case)
        d2 = ((X[:, None, :] - means[None]) ** 2).sum(-1)
        hint = "Label i is argmin_k |x_i - mu_k|^2."
        if np.array_equal(got, np.argmax(d2, axis=1)):
            hint = "You took the farthest mean (argmax); take the closest (argmin)."
        expect_equal(got, np.argmin(d2, axis=1), "the labels", case=case, hint=hint)
    return f"correct on {len(cases)} cases."


KM_CASES = [
    Case("eight 2-D points, three clusters", X=_X, init_means=_MEANS + np.array([0.5, -0.5]), max_iter=100),
    Case("a start that needs several iterations", X=_X, init_means=_X[[0, 1, 6]].copy(), max_iter=100),
    Case("max_iter = 1: one update only", X=_X, init_means=_X[[0, 1, 6]].copy(), max_iter=1),
]


def _kmeans_reference(X, init_means, max_iter):
    result = _lloyd(X, init_means, max_iter=max_iter)
    return result.means, result.labels


def _hidden_kmeans(rng):
    X, mu = _blobs(rng, 3, 2, 4)
    start = X[rng.choice(X.shape[0], 3, replace=False)].copy()
    return [Case(f"{X.shape[0]} 2-D points, three clusters", X=X, init_means=mu + rng.normal(scale=0.5, size=mu.shape),
                 max_iter=100),
            Case("a start at three of the points", X=X, init_means=start, max_iter=100),
            Case("max_iter = 1: one update only", X=X, init_means=start.copy(), max_iter=1)]


@check("kmeans", reference=_kmeans_reference, forbidden=(_lloyd,), cases=KM_CASES, hidden=_hidden_kmeans,
       off_limits=('emlib.kmeans.assign',))
def check_kmeans(kmeans, cases):
    """Check ``kmeans(X, init_means, max_iter) -> (means, labels)``: Lloyd's algorithm."""
    for case in cases:
        X, init_means, max_iter = case.args
        m, d = init_means.shape
        means, labels = expect_tuple(call(kmeans, case), ("means", "labels"), "kmeans", case)
        means = as_array(means, "means (the first value returned)", case)
        labels = as_array(labels, "labels (the second value returned)", case, integer=True)
        expect_shape(means, (m, d), "means", meaning="(m, d)", case=case)
        expect_shape(labels, (X.shape[0],), "labels", meaning="(n,)", case=case)
        ref_means, ref_labels = _kmeans_reference(X, init_means, max_iter)
        perm = match_components(ref_means, means)
        inverse = np.argsort(perm)
        hint = ("Repeat: assign every sample to its closest mean, move every mean to the average of its "
                "samples; stop when no label changes, or after max_iter mean updates.")
        if np.allclose(means[perm], init_means):
            hint = "The means never moved: after each assignment, set mu_k to the average of the samples labelled k."
        expect_close(means[perm], ref_means, "means (matched in any order)", case=case, rtol=1e-10, atol=1e-10,
                     hint=hint)
        expect_equal(inverse[labels] if labels.size else labels, ref_labels,
                     "labels (after matching the clusters)", case=case,
                     hint="Return the labels of the last assignment step, for the returned means.")
    return f"correct on {len(cases)} cases (including stopping at max_iter)."


SOFT_CASES = [
    Case("four 1-D points, sigma = 1", X=np.array([[0.0], [0.9], [1.1], [3.0]]), means=np.array([[0.0], [2.0]]),
         sigma=1.0),
    Case("eight 2-D points, sigma = 2", X=_X, means=_MEANS, sigma=2.0),
    Case("a small sigma = 0.01", X=_X, means=_MEANS, sigma=0.01),
]


def _soft_reference(X, means, sigma):
    return e_step(X, kmeans_limit_mixture(means, sigma))[0]


def _flipped_sign(X, means, sigma):
    """A likely mistake: the softmax of +|x_i - mu_k|^2 / (2 sigma^2) (for m = 2, exactly 1 - the answer)."""
    a = ((X[:, None, :] - means[None]) ** 2).sum(-1) / (2 * sigma ** 2)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _hidden_soft_assign(rng):
    X1, mu1 = _blobs(rng, 2, 1, 2)
    X2, mu2 = _blobs(rng, 3, 2, 3)
    return [Case(f"{X1.shape[0]} 1-D points, sigma = 1", X=X1, means=mu1, sigma=1.0),
            Case(f"{X2.shape[0]} 2-D points, sigma = 2", X=X2, means=mu2, sigma=2.0),
            Case("a small sigma = 0.01", X=X2, means=mu2, sigma=0.01)]


@check("soft_assign", reference=_soft_reference, cases=SOFT_CASES, hidden=_hidden_soft_assign,
       off_limits=('emlib.steps.e_step',
                   'emlib.kmeans.kmeans_limit_mixture',
                   'emlib.mixture.Mixture.posterior',
                   'emlib.mixture.logsumexp_rows',
                   'scipy.special._logsumexp.logsumexp'),)
def check_soft_assign(soft_assign, cases):
    """Check ``soft_assign(X, means, sigma) -> (n, m)``: E-step of equal weights and shared covariance sigma^2 I."""
    for case in cases:
        X, means, sigma = case.args
        got = as_array(call(soft_assign, case), "the responsibilities", case)
        expect_shape(got, (X.shape[0], means.shape[0]), "the responsibilities", meaning="(n, m)", case=case)
        hint = ""
        if sigma < 0.1:
            hint = ("With a small sigma, exp(-|x - mu_k|^2 / (2 sigma^2)) underflows to 0 for every k and "
                    "0/0 = NaN. Work with the exponents: subtract each row's largest one before exp.")
        expect_finite(got, "the responsibilities", case=case, hint=hint)
        expect_rows_sum_to_one(got, "the responsibilities", case=case)
        expected = _soft_reference(X, means, sigma)
        flipped = _flipped_sign(X, means, sigma)
        if np.allclose(got, flipped, rtol=1e-6, atol=1e-9) and not np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            hint = ("The sign of the exponent is flipped: exp(+|x_i - mu_k|^2 / 2 sigma^2) gives the FARTHEST mean "
                    "the most weight. The Gaussian has exp(-|x_i - mu_k|^2 / (2 sigma^2)).")
        expect_close(got, expected, "the responsibilities", case=case, rtol=1e-6,
                     atol=1e-9, hint=hint or "E[z_i^(k)] = exp(-|x_i - mu_k|^2 / 2 sigma^2) / "
                                             "sum_j exp(-|x_i - mu_j|^2 / 2 sigma^2).")
    return f"correct on {len(cases)} cases, including a tiny sigma."
