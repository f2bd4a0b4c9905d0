"""Checks for exercise 04, the M-step: the three updates and the weights' objective."""

from __future__ import annotations

import numpy as np

from ... import steps
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
    match_components,
)

__all__ = ["check_update_weights", "check_update_means", "check_update_covariances", "check_weight_objective"]

_R1 = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
_X1 = np.array([[0.0], [1.0], [3.0]])
_R2 = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.05, 0.05, 0.9], [0.6, 0.3, 0.1]])
_X2 = np.array([[0.0, 0.0], [3.0, 1.0], [-1.0, 2.0], [-2.0, 3.0], [0.5, -0.5]])
_R_HARD = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
_X_HARD = np.array([[0.0, 1.0], [2.0, 1.0], [5.0, 5.0], [6.0, 4.0], [7.0, 6.0]])

RESP_CASES = [
    Case("three samples, two components", resp=_R1),
    Case("five samples, three components", resp=_R2),
    Case("hard (0/1) responsibilities", resp=_R_HARD),
]
XR_CASES = [
    Case("three 1-D samples, two components", X=_X1, resp=_R1),
    Case("five 2-D samples, three components", X=_X2, resp=_R2),
    Case("hard (0/1) responsibilities", X=_X_HARD, resp=_R_HARD),
]


def _weights_reference(resp):
    return steps.update_weights(resp)


def _hidden_resp(rng):
    n, m = int(rng.integers(3, 8)), int(rng.integers(2, 5))
    return [Case(f"{n} samples, {m} components", resp=_random.responsibilities(rng, n, m)),
            Case("hard (0/1) responsibilities", resp=_random.hard_responsibilities(rng, 7, 3)),
            Case("a collapsed component (responsibility about 0 everywhere)",
                 resp=np.column_stack([_random.responsibilities(rng, 5, 2) * (1 - 1e-12), np.full(5, 1e-12)]))]


_hidden_update_weights = _hidden_resp


@check("update_weights", reference=_weights_reference, forbidden=(steps.update_weights,),
       cases=RESP_CASES, hidden=_hidden_update_weights,
       off_limits=('emlib.suffstats.update_weights',))
def check_update_weights(update_weights, cases):
    """Check ``update_weights(resp) -> (m,)``: rho_k = (1/n) sum_i E[z_i^(k)]."""
    for case in cases:
        (resp,) = case.args
        n, m = resp.shape
        got = as_array(call(update_weights, case), "the weights", case)
        expect_shape(got, (m,), "the weights", meaning="(m,), one per component", case=case)
        nk = resp.sum(axis=0)
        hint = "rho_k = (1/n) sum_i E[z_i^(k)]: the average responsibility of component k."
        if got.shape == (m,) and np.allclose(got, nk):
            hint = "You returned N_k = sum_i E[z_i^(k)]; divide by n, the number of samples."
        elif np.allclose(got, nk / m):
            hint = "You divided by m (the number of components); divide by n (the number of samples)."
        expect_close(got, nk / n, "the weights", case=case, rtol=1e-10, hint=hint)
    return f"correct on {len(cases)} cases."


def _means_reference(X, resp):
    return steps.update_means(X, resp)


def _hidden_xr(rng):
    cases = []
    for n, m, d in ((3, 2, 1), (int(rng.integers(5, 9)), 3, 2)):
        cases.append(Case(f"{n} {d}-D samples, {m} components", X=rng.normal(scale=3.0, size=(n, d)),
                          resp=_random.responsibilities(rng, n, m)))
    cases.append(Case("hard (0/1) responsibilities", X=rng.normal(scale=3.0, size=(7, 2)),
                      resp=_random.hard_responsibilities(rng, 7, 3)))
    return cases


_hidden_update_means = _hidden_xr


@check("update_means", reference=_means_reference, forbidden=(steps.update_means,),
       cases=XR_CASES, hidden=_hidden_update_means)
def check_update_means(update_means, cases):
    """Check ``update_means(X, resp) -> (m, d)``: mu_k = sum_i E[z_i^(k)] x_i / sum_i E[z_i^(k)]."""
    for case in cases:
        X, resp = case.args
        (n, d), m = X.shape, resp.shape[1]
        got = as_array(call(update_means, case), "the means", case)
        expect_shape(got, (m, d), "the means", meaning="(m, d)", case=case)
        expected = steps.update_means(X, resp)
        got = got[match_components(expected, got)]
        hint = "mu_k = sum_i E[z_i^(k)] x_i / N_k, a weighted average with N_k = sum_i E[z_i^(k)]."
        if np.allclose(got[match_components(resp.T @ X, got)], resp.T @ X):
            hint = "You forgot to divide by N_k = sum_i E[z_i^(k)] (the weighted sum is not yet an average)."
        elif np.allclose(got[match_components(resp.T @ X / n, got)], resp.T @ X / n):
            hint = "You divided by n; divide component k's weighted sum by its own N_k = sum_i E[z_i^(k)]."
        expect_close(got, expected, "the means (components matched in any order)", case=case, rtol=1e-10,
                     atol=1e-12, hint=hint)
    return f"correct on {len(cases)} cases."


def _cov_reference(X, resp, means):
    return steps.update_covariances(X, resp, means, "full", reg=0.0)


def _with_means(cases):
    return [Case(c.label, X=c.kwargs["X"], resp=c.kwargs["resp"],
                 means=steps.update_means(c.kwargs["X"], c.kwargs["resp"])) for c in cases]


COV_CASES = _with_means(XR_CASES)


def _hidden_update_covariances(rng):
    return _with_means(_hidden_xr(rng))


@check("update_covariances", reference=_cov_reference, forbidden=(steps.update_covariances,),
       cases=COV_CASES, hidden=_hidden_update_covariances)
def check_update_covariances(update_covariances, cases):
    """Check ``update_covariances(X, resp, means) -> (m, d, d)``: the responsibility-weighted scatter / N_k."""
    for case in cases:
        X, resp, means = case.args
        (n, d), m = X.shape, resp.shape[1]
        got = as_array(call(update_covariances, case), "the covariances", case)
        expect_shape(got, (m, d, d), "the covariances", meaning="(m, d, d)", case=case)
        expect_symmetric(got, "the covariances", case=case)
        expected = _cov_reference(X, resp, means)
        nk = resp.sum(axis=0)
        hint = "Sigma_k = sum_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T / N_k."
        if np.allclose(got, expected * (nk / n)[:, None, None]):
            hint = "You divided by n; divide by N_k = sum_i E[z_i^(k)]."
        elif np.allclose(got, expected * nk[:, None, None]):
            hint = "You forgot to divide by N_k = sum_i E[z_i^(k)]."
        elif np.all(np.abs(nk - 1) > 1e-9) and np.allclose(got, expected * (nk / (nk - 1))[:, None, None]):
            hint = ("You divided by N_k - 1 (the unbiased sample covariance); the M-step's maximum-likelihood "
                    "estimate divides by N_k = sum_i E[z_i^(k)].")
        elif np.allclose(got, expected * (nk / (nk - (resp ** 2).sum(axis=0) / nk))[:, None, None]):
            hint = ("That is np.cov(..., aweights=...) with its default ddof=1, which divides by "
                    "N_k - sum_i E[z_i^(k)]^2 / N_k, not by N_k: pass bias=True (or ddof=0), or write the "
                    "weighted sum of outer products yourself.")
        else:
            unweighted = np.stack([(X - means[k]).T @ (X - means[k]) / n for k in range(m)])
            if np.allclose(got, unweighted):
                hint = "Weight each outer product by E[z_i^(k)]: every sample counts for component k in proportion."
        expect_close(got, expected, "the covariances", case=case, rtol=1e-10, atol=1e-12, hint=hint)
    return f"correct on {len(cases)} cases (symmetric, weighted by the responsibilities, divided by N_k)."


OBJ_CASES = [
    Case("three samples, two components", resp=_R1, weights=np.array([0.5, 0.5])),
    Case("five samples, three components", resp=_R2, weights=np.array([0.2, 0.5, 0.3])),
    Case("the weights of the M-step", resp=_R2, weights=_R2.mean(axis=0)),
]


def _objective_reference(resp, weights):
    return float(np.sum(resp * np.log(weights)))


def _hidden_weight_objective(rng):
    n, m = int(rng.integers(3, 8)), int(rng.integers(2, 5))
    resp = _random.responsibilities(rng, n, m)
    return [Case(f"{n} samples, {m} components", resp=resp, weights=_random.weights(rng, m)),
            Case("the weights of the M-step", resp=resp, weights=resp.mean(axis=0))]


@check("weight_objective", reference=_objective_reference, cases=OBJ_CASES, hidden=_hidden_weight_objective)
def check_weight_objective(weight_objective, cases):
    """Check ``weight_objective(resp, weights) -> float``: sum_i sum_k E[z_i^(k)] ln rho_k."""
    for case in cases:
        resp, weights = case.args
        got = as_number(call(weight_objective, case), "the objective", case)
        expected = _objective_reference(resp, weights)
        hint = "The weights enter Q only through sum_i sum_k E[z_i^(k)] ln rho_k."
        if np.isclose(got, float(np.sum(resp * weights))):
            hint = "Take the logarithm of the weights."
        elif np.isclose(got, float(np.sum(np.log(weights)))):
            hint = "Weight each ln rho_k by the responsibilities E[z_i^(k)], summed over the samples."
        expect_close(got, expected, "the objective", case=case, rtol=1e-10, atol=1e-12, hint=hint)
    return f"correct on {len(cases)} cases."
