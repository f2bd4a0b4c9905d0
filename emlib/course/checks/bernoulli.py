"""Checks for exercise 10, a mixture of Bernoulli distributions: its log-likelihoods, E-step and M-step."""

from __future__ import annotations

import numpy as np

from ... import bernoulli as _bernoulli
from ._feedback import (
    Case,
    as_array,
    as_number,
    call,
    check,
    expect_close,
    expect_finite,
    expect_probabilities,
    expect_rows_sum_to_one,
    expect_shape,
    expect_tuple,
)

__all__ = ["check_bernoulli_log_likelihoods", "check_bernoulli_e_step", "check_bernoulli_m_step"]

PRODUCT_HINT = (
    "This is underflow: with many pixels, prod_j p_kj^x_ij (1 - p_kj)^(1 - x_ij) is a product of hundreds of "
    "numbers below 1 and becomes exactly 0 in float64 (its log is -inf). Never form the product: sum the logs, "
    "sum_j x_ij ln p_kj + (1 - x_ij) ln(1 - p_kj), which is X @ ln(P).T + (1 - X) @ ln(1 - P).T."
)

_rng = np.random.default_rng(10)
_X_SMALL = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]], dtype=float)
_P_SMALL = np.array([[0.9, 0.2, 0.7, 0.6], [0.1, 0.3, 0.8, 0.2]])
_X_WIDE = (_rng.random((3, 800)) < 0.5).astype(float)                  # 800 pixels: the product underflows
_P_WIDE = np.clip(_rng.random((2, 800)), 0.05, 0.95)
_X_DIGITS = np.array([[0, 1, 1, 0, 1, 0, 0, 1, 1], [1, 1, 1, 1, 0, 1, 1, 1, 1], [0, 1, 0, 0, 1, 0, 0, 1, 0],
                      [1, 1, 1, 1, 0, 1, 1, 1, 1], [0, 1, 0, 0, 1, 0, 0, 1, 0]], dtype=float)


def _mixture(weights, probabilities):
    return _bernoulli.BernoulliMixture(weights, probabilities)


def _images(rng, n, d):
    return (rng.random((n, d)) < 0.5).astype(float)


def _probabilities(rng, m, d):
    return np.clip(rng.random((m, d)), 0.05, 0.95)


# --- bernoulli_log_likelihoods ------------------------------------------------------------------

LOGLIK_CASES = [
    Case("three images of 4 pixels, two prototypes", X=_X_SMALL, probabilities=_P_SMALL),
    Case("one prototype", X=_X_SMALL, probabilities=_P_SMALL[:1]),
    Case("800 pixels (the product of the pixel probabilities underflows)", X=_X_WIDE, probabilities=_P_WIDE),
]


def _loglik_reference(X, probabilities):
    P = np.asarray(probabilities, dtype=float)
    return _mixture(np.full(P.shape[0], 1.0 / P.shape[0]), P).component_logpmf(X)


def _hidden_loglik(rng):
    n, d, m = int(rng.integers(3, 7)), int(rng.integers(4, 10)), int(rng.integers(2, 4))
    return [Case(f"{n} images of {d} pixels, {m} prototypes", X=_images(rng, n, d), probabilities=_probabilities(rng, m, d)),
            Case("one prototype", X=_images(rng, 4, 6), probabilities=_probabilities(rng, 1, 6)),
            Case("900 pixels (the product of the pixel probabilities underflows)", X=_images(rng, 3, 900),
                 probabilities=_probabilities(rng, 2, 900))]


@check("bernoulli_log_likelihoods", reference=_loglik_reference,
       forbidden=(_bernoulli.BernoulliMixture.component_logpmf,), cases=LOGLIK_CASES, hidden=_hidden_loglik)
def check_bernoulli_log_likelihoods(bernoulli_log_likelihoods, cases):
    """Check ``bernoulli_log_likelihoods(X, probabilities)``: ln P(x_i | p_k), shape (n, m)."""
    for case in cases:
        X, P = case.kwargs["X"], case.kwargs["probabilities"]
        got = as_array(call(bernoulli_log_likelihoods, case), "the result", case)
        expect_shape(got, (X.shape[0], P.shape[0]), "the result", meaning="(n, m)", case=case)
        wide = X.shape[1] >= 500
        expect_finite(got, "the result", case=case, hint=PRODUCT_HINT if wide else "")
        expected = _loglik_reference(X, P)
        hint = "ln P(x_i | p_k) = sum_j x_ij ln p_kj + (1 - x_ij) ln(1 - p_kj)."
        if np.allclose(got, (X @ np.log(P).T), rtol=1e-8):
            hint = "You counted only the pixels that are on; a pixel that is off contributes ln(1 - p_kj)."
        elif np.allclose(got, expected.T.reshape(got.shape), rtol=1e-8) and got.shape[0] == got.shape[1]:
            hint = "Your matrix is transposed: rows are images i, columns are components k."
        expect_close(got, expected, "the result", case=case, rtol=1e-8, atol=1e-8, hint=hint)
    return f"correct on {len(cases)} cases, including hundreds of pixels where the product of probabilities underflows."


# --- bernoulli_e_step ---------------------------------------------------------------------------

E_CASES = [
    Case("three images of 4 pixels, two components", X=_X_SMALL, weights=np.array([0.3, 0.7]),
         probabilities=_P_SMALL),
    Case("five images of 9 pixels, three components", X=_X_DIGITS, weights=np.array([0.5, 0.3, 0.2]),
         probabilities=np.array([[0.1, 0.9, 0.2, 0.1, 0.9, 0.1, 0.1, 0.9, 0.2],
                                 [0.9, 0.9, 0.9, 0.8, 0.2, 0.9, 0.9, 0.9, 0.9],
                                 [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]])),
    Case("800 pixels (every likelihood underflows)", X=_X_WIDE, weights=np.array([0.5, 0.5]), probabilities=_P_WIDE),
]


def _e_reference(X, weights, probabilities):
    return _bernoulli.bernoulli_e_step(X, _mixture(weights, probabilities))


def _hidden_e(rng):
    n, d, m = int(rng.integers(3, 7)), int(rng.integers(4, 10)), int(rng.integers(2, 4))
    return [Case(f"{n} images of {d} pixels, {m} components", X=_images(rng, n, d), weights=rng.dirichlet(np.ones(m) * 3),
                 probabilities=_probabilities(rng, m, d)),
            Case("900 pixels (every likelihood underflows)", X=_images(rng, 3, 900), weights=np.array([0.4, 0.6]),
                 probabilities=_probabilities(rng, 2, 900))]


@check("bernoulli_e_step", reference=_e_reference, forbidden=(_bernoulli.bernoulli_e_step,), cases=E_CASES,
       hidden=_hidden_e, off_limits=("emlib.bernoulli.BernoulliMixture.posterior",))
def check_bernoulli_e_step(bernoulli_e_step, cases):
    """Check ``bernoulli_e_step(X, weights, probabilities) -> (resp, loglik)``."""
    for case in cases:
        X, w, P = case.kwargs["X"], case.kwargs["weights"], case.kwargs["probabilities"]
        n, m = X.shape[0], w.shape[0]
        got = expect_tuple(call(bernoulli_e_step, case), ("resp", "loglik"), "bernoulli_e_step", case)
        resp = as_array(got[0], "resp (the first value returned)", case)
        expect_shape(resp, (n, m), "resp", meaning="(n, m)", case=case)
        wide = X.shape[1] >= 500
        underflow = ("Work in log space: a_ik = ln rho_k + ln P(x_i | p_k), subtract each row's log-sum-exp, "
                     "then exponentiate.")
        expect_finite(resp, "resp", case=case, hint=(PRODUCT_HINT + " " + underflow) if wide else "")
        expect_probabilities(resp, "resp", case=case)
        expect_rows_sum_to_one(resp, "resp", case=case)
        ref_resp, ref_ll = _e_reference(X, w, P)
        expect_close(resp, ref_resp, "resp", case=case, rtol=1e-6, atol=1e-9,
                     hint="E[z_i^(k)] = rho_k P(x_i | p_k) / sum_l rho_l P(x_i | p_l): did you include the weights rho_k?")
        ll = as_number(got[1], "loglik (the second value returned)", case)
        hint = "loglik = sum_i ln sum_k rho_k P(x_i | p_k), the sum of the rows' log-sum-exps."
        if np.isclose(ll, ref_ll / n, rtol=1e-6):
            hint = "You returned the mean over the images; the log-likelihood is the sum over i."
        expect_close(ll, ref_ll, "loglik", case=case, rtol=1e-8, atol=1e-8, hint=hint)
    return f"correct on {len(cases)} cases (shapes, rows sum to one, values, log-likelihood, hundreds of pixels)."


# --- bernoulli_m_step ---------------------------------------------------------------------------

_RESP_SMALL = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
_RESP_DIGITS = _rng.dirichlet(np.ones(3), size=5)

M_CASES = [
    Case("three images, two components, no pseudo-count", X=_X_SMALL, resp=_RESP_SMALL, pseudo_count=0.0),
    Case("five images, three components, pseudo-count 1", X=_X_DIGITS, resp=_RESP_DIGITS, pseudo_count=1.0),
    Case("a pixel never on, pseudo-count 0.5", X=_X_SMALL * [1, 0, 1, 1], resp=_RESP_SMALL, pseudo_count=0.5),
]


def _m_reference(X, resp, pseudo_count):
    fit = _bernoulli.bernoulli_m_step(X, resp, pseudo_count=pseudo_count)
    return fit.weights, fit.probabilities


def _hidden_m(rng):
    n, d, m = int(rng.integers(4, 9)), int(rng.integers(3, 8)), int(rng.integers(2, 4))
    X = _images(rng, n, d)
    return [Case(f"{n} images, {m} components, no pseudo-count", X=X, resp=rng.dirichlet(np.ones(m), size=n),
                 pseudo_count=0.0),
            Case(f"{n} images, {m} components, pseudo-count {1.5}", X=X, resp=rng.dirichlet(np.ones(m), size=n),
                 pseudo_count=1.5),
            Case("a pixel never on, pseudo-count 0.5", X=X * (np.arange(d) != 0), resp=rng.dirichlet(np.ones(2), size=n),
                 pseudo_count=0.5)]


@check("bernoulli_m_step", reference=_m_reference, forbidden=(_bernoulli.bernoulli_m_step,), cases=M_CASES,
       hidden=_hidden_m)
def check_bernoulli_m_step(bernoulli_m_step, cases):
    """Check ``bernoulli_m_step(X, resp, pseudo_count) -> (weights, probabilities)``."""
    for case in cases:
        X, resp, c = case.kwargs["X"], case.kwargs["resp"], case.kwargs["pseudo_count"]
        n, m = resp.shape
        got = expect_tuple(call(bernoulli_m_step, case), ("weights", "probabilities"), "bernoulli_m_step", case)
        w = as_array(got[0], "weights (the first value returned)", case)
        P = as_array(got[1], "probabilities (the second value returned)", case)
        expect_shape(w, (m,), "weights", meaning="(m,)", case=case)
        expect_shape(P, (m, X.shape[1]), "probabilities", meaning="(m, d)", case=case)
        ref_w, ref_P = _m_reference(X, resp, c)
        expect_close(w, ref_w, "weights", case=case, rtol=1e-8, atol=1e-10,
                     hint="rho_k = N_k / n with N_k = sum_i E[z_i^(k)].")
        nk = resp.sum(axis=0)
        hint = "p_kj = (sum_i E[z_i^(k)] x_ij + c) / (N_k + 2c)."
        if np.allclose(P, (resp.T @ X) / n, rtol=1e-8):
            hint = "You divided by n; each prototype is an average over its own component: divide by N_k."
        elif c > 0 and np.allclose(P, (resp.T @ X + c) / (nk[:, None] + c), rtol=1e-8):
            hint = "The pseudo-count adds c 'on' AND c 'off' pixels: the denominator is N_k + 2c."
        elif c > 0 and np.allclose(P, (resp.T @ X) / nk[:, None], rtol=1e-8):
            hint = "You left out the pseudo-count: p_kj = (sum_i E[z_i^(k)] x_ij + c) / (N_k + 2c)."
        expect_finite(P, "probabilities", case=case)
        expect_probabilities(P, "probabilities", case=case)
        expect_close(P, ref_P, "probabilities", case=case, rtol=1e-8, atol=1e-10, hint=hint)
    return f"correct on {len(cases)} cases (weights, prototypes, the pseudo-count)."
