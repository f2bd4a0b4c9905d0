"""Checks for exercise 08, EM with missing features.

Tasks: ``conditional_gaussian`` (the missing part of a Gaussian given the
observed part), ``e_step_row`` (the E-step for one sample with NaNs),
``impute`` (posterior-weighted conditional means) and ``m_step_missing``
(the M-step from expected sufficient statistics, with the conditional
covariance correction).
"""

from __future__ import annotations

import numpy as np

from ... import missing as _missing
from ...mixture import Mixture
from . import _random
from ._feedback import (
    Case,
    Failure,
    as_array,
    as_number,
    call,
    check,
    expect_close,
    expect_finite,
    expect_probabilities,
    expect_shape,
    expect_symmetric,
    expect_tuple,
)

__all__ = ["check_conditional_gaussian", "check_e_step_row", "check_impute", "check_m_step_missing"]

NAN = np.nan

# --- small fixed inputs ---------------------------------------------------------------------------

_MU2 = np.array([1.0, -2.0])
_S2 = np.array([[4.0, 0.6], [0.6, 0.25]])                  # sd 2 and 0.5, correlation 0.6
_MU3 = np.array([0.0, 1.0, -1.0])
_S3 = np.array([[2.0, 0.8, -0.4], [0.8, 1.5, 0.3], [-0.4, 0.3, 1.0]])

_MIX = Mixture([0.5, 0.3, 0.2], [[0.0, 0.0, 0.0], [3.0, 2.0, -1.0], [-2.0, 3.0, 2.0]],
               [[[1.5, 0.6, 0.2], [0.6, 1.0, 0.3], [0.2, 0.3, 0.8]],
                [[1.0, -0.4, 0.0], [-0.4, 1.2, 0.2], [0.0, 0.2, 0.6]],
                [[0.7, 0.2, -0.2], [0.2, 0.9, -0.3], [-0.2, -0.3, 1.1]]])
_MIX1 = Mixture.univariate([0.4, 0.6], [0.0, 2.0], [1.0, 0.5])


# --- conditional_gaussian --------------------------------------------------------------------------

COND_CASES = [
    Case("2-D, the second feature missing", x=np.array([3.0, NAN]), mean=_MU2, cov=_S2),
    Case("2-D, the first feature missing", x=np.array([NAN, -1.5]), mean=_MU2, cov=_S2),
    Case("3-D, two features missing", x=np.array([NAN, 2.0, NAN]), mean=_MU3, cov=_S3),
    Case("3-D, one feature missing", x=np.array([0.5, NAN, -2.0]), mean=_MU3, cov=_S3),
    Case("nothing missing", x=np.array([0.5, 1.0, -2.0]), mean=_MU3, cov=_S3),
    Case("nothing observed", tags=('nothing observed',), x=np.array([NAN, NAN]), mean=_MU2, cov=_S2),
]


def _cond_reference(x, mean, cov):
    return _missing.conditional_gaussian(x, mean, cov)


def _missing_block_only(got_hat, got_C, x, mean, cov) -> str:
    u, d = np.isnan(x), x.shape[0]
    if got_hat.shape == (d,) and got_C.shape == (d, d):
        return ""
    if got_hat.shape == (u.sum(),) or got_C.shape == (u.sum(), u.sum()):
        return ("x_hat must be the whole sample, shape (d,), with the observed entries copied from x and the "
                "missing ones filled in; C is (d, d) with zeros wherever an observed feature is involved.")
    return ""


def _with_nans(rng, x, n_missing):
    x = np.array(x, dtype=float)
    x[rng.choice(x.size, n_missing, replace=False)] = NAN
    return x


def _hidden_conditional_gaussian(rng):
    cases = []
    for d, n_missing, label in ((2, 1, "2-D, one feature missing"), (3, 2, "3-D, two features missing"),
                                (3, 1, "3-D, one feature missing"), (3, 0, "nothing missing"), (2, 2, "nothing observed")):
        mix = _random.mixture(rng, 1, d)
        x = _with_nans(rng, _random.points(rng, mix, 1)[0], n_missing)
        cases.append(Case(label, x=x, mean=mix.means[0], cov=mix.covariances[0]))
    return cases


@check("conditional_gaussian", reference=_cond_reference, forbidden=(_missing.conditional_gaussian,),
       cases=COND_CASES, hidden=_hidden_conditional_gaussian)
def check_conditional_gaussian(conditional_gaussian, cases):
    """Check ``conditional_gaussian(x, mean, cov) -> (x_hat, C)``: E[x | x_o] (d,) and Cov[x | x_o] (d, d)."""
    for case in cases:
        x, mean, cov = case.args
        d = x.shape[0]
        got = expect_tuple(call(conditional_gaussian, case), ("x_hat", "C"), "conditional_gaussian", case)
        x_hat = as_array(got[0], "x_hat (the first value returned)", case)
        C = as_array(got[1], "C (the second value returned)", case)
        hint = _missing_block_only(x_hat, C, x, mean, cov)
        if hint:
            raise Failure(f"wrong shapes: x_hat {x_hat.shape} and C {C.shape}, expected ({d},) and ({d}, {d}). "
                          f"{hint}\n{case.describe()}")
        expect_shape(x_hat, (d,), "x_hat", meaning="(d,)", case=case)
        expect_shape(C, (d, d), "C", meaning="(d, d)", case=case)
        expect_finite(x_hat, "x_hat", case=case, hint="Every missing entry must be filled in.")
        ref_hat, ref_C = _cond_reference(x, mean, cov)
        u, o = np.isnan(x), ~np.isnan(x)
        expect_close(x_hat[o], x[o], "the observed entries of x_hat", case=case, rtol=0, atol=0,
                     hint="Observed entries stay as they are: x_hat_o = x_o.")
        hint = "x_hat_u = mu_u + Sigma_uo Sigma_oo^{-1} (x_o - mu_o)."
        if not o.any():
            hint = "With nothing observed, the best guess is the mean itself: x_hat = mu, and C = Sigma."
        if np.allclose(x_hat[u], mean[u]) and not np.allclose(ref_hat[u], mean[u]):
            hint = ("You filled in the mean mu_u; the observed features move it: add "
                    "Sigma_uo Sigma_oo^{-1} (x_o - mu_o) (a regression on the observed features).")
        expect_close(x_hat, ref_hat, "x_hat", case=case, rtol=1e-8, atol=1e-10, hint=hint)
        expect_symmetric(C[None], "C", case=case)
        hint = "C_uu = Sigma_uu - Sigma_uo Sigma_oo^{-1} Sigma_ou, and 0 in every row and column of an observed feature."
        if u.any() and np.allclose(C[np.ix_(u, u)], cov[np.ix_(u, u)]) and not np.allclose(ref_C, cov * np.outer(u, u)):
            hint = ("You returned Sigma_uu: knowing x_o removes part of the uncertainty. Subtract "
                    "Sigma_uo Sigma_oo^{-1} Sigma_ou.")
        elif np.any(C[o]) or np.any(C[:, o]):
            hint = "An observed feature is known exactly: C must be 0 in its row and its column."
        expect_close(C, ref_C, "C", case=case, rtol=1e-8, atol=1e-10, hint=hint)
    return f"correct on {len(cases)} cases (one or two features missing, none, or all)."


# --- e_step_row ------------------------------------------------------------------------------------

ROW_CASES = [
    Case("one feature missing", x=np.array([0.5, NAN, 0.2]), mixture=_MIX),
    Case("two features missing", x=np.array([NAN, 2.5, NAN]), mixture=_MIX),
    Case("nothing missing", x=np.array([1.0, 1.0, 0.0]), mixture=_MIX),
    Case("1-D, observed, far from every mean", tags=('far',), x=np.array([60.0]), mixture=_MIX1),
    Case("a point far from every mean", tags=('far',), x=np.array([NAN, 40.0, -35.0]), mixture=_MIX),
    Case("nothing observed", tags=('nothing observed',), x=np.array([NAN, NAN, NAN]), mixture=_MIX),
]

_FAR_HINT = ("Far from every mean, every rho_k N(x_o | ...) underflows to 0 and 0/0 = NaN. Work in log space: "
             "a_k = ln rho_k + ln N(x_o | mu_k,o, Sigma_k,oo), then resp = exp(a - logsumexp(a)).")


def _row_reference(x, mixture):
    resp, x_hat, C, loglik = _missing.e_step_missing(np.asarray(x, float)[None], mixture)
    return resp[0], x_hat[0], C[0], loglik


def _hidden_e_step_row(rng):
    mix, one = _random.mixture(rng, 3, 3), _random.mixture(rng, 2, 1)
    return [Case("one feature missing", x=_with_nans(rng, _random.points(rng, mix, 1)[0], 1), mixture=mix),
            Case("two features missing", x=_with_nans(rng, _random.points(rng, mix, 1)[0], 2), mixture=mix),
            Case("nothing missing", x=_random.points(rng, mix, 1)[0], mixture=mix),
            Case("1-D, observed, far from every mean", tags=('far',), x=_random.far_point(rng, one), mixture=one),
            Case("a point far from every mean", tags=('far',), x=_with_nans(rng, _random.far_point(rng, mix), 1), mixture=mix),
            Case("nothing observed", tags=('nothing observed',), x=np.full(3, NAN), mixture=mix)]


@check("e_step_row", reference=_row_reference,
       forbidden=(_missing.e_step_missing, _missing.posterior_missing), cases=ROW_CASES, hidden=_hidden_e_step_row,
       off_limits=('emlib.missing.impute', 'emlib.missing.conditional_gaussian'))
def check_e_step_row(e_step_row, cases):
    """Check ``e_step_row(x, mixture) -> (resp, x_hat, C, loglik)`` for one sample with NaNs."""
    for case in cases:
        x, mix = case.args
        m, d = mix.n_components, mix.n_features
        got = expect_tuple(call(e_step_row, case), ("resp", "x_hat", "C", "loglik"), "e_step_row", case)
        resp = as_array(got[0], "resp (the first value returned)", case)
        x_hat = as_array(got[1], "x_hat (the second value returned)", case)
        C = as_array(got[2], "C (the third value returned)", case)
        expect_shape(resp, (m,), "resp", meaning="(m,), one responsibility per component", case=case)
        expect_shape(x_hat, (m, d), "x_hat", meaning="(m, d), one filled-in sample per component", case=case)
        expect_shape(C, (m, d, d), "C", meaning="(m, d, d), one conditional covariance per component", case=case)
        far = case.probes("far")
        nothing = case.probes("nothing observed")
        expect_finite(resp, "resp", case=case, hint=_FAR_HINT if far else (
            "With nothing observed, the marginal of the observed part is the empty product, 1 (its log is 0), "
            "so resp = rho." if nothing else ""))
        expect_probabilities(resp, "resp", case=case)
        if abs(resp.sum() - 1) > 1e-6:
            raise Failure(f"resp must sum to one over the components, but sums to {resp.sum():.6g}.\n"
                          f"{case.describe()}")
        ref_resp, ref_hat, ref_C, ref_ll = _row_reference(x, mix)
        hint = ("resp_k is proportional to rho_k N(x_o | mu_k,o, Sigma_k,oo): the density of the OBSERVED "
                "features only, with the observed rows and columns of mu_k and Sigma_k.")
        if nothing:
            hint = "With nothing observed, the data say nothing about the component: resp = rho."
        expect_close(resp, ref_resp, "resp", case=case, rtol=1e-6, atol=1e-9, hint=hint)
        expect_close(x_hat, ref_hat, "x_hat", case=case, rtol=1e-8, atol=1e-10,
                     hint="x_hat[k] is conditional_gaussian(x, mu_k, Sigma_k)[0], the fill-in under component k.")
        expect_close(C, ref_C, "C", case=case, rtol=1e-8, atol=1e-10,
                     hint="C[k] is conditional_gaussian(x, mu_k, Sigma_k)[1].")
        ll = as_number(got[3], "loglik (the fourth value returned)", case)
        hint = "loglik = ln sum_k rho_k N(x_o | mu_k,o, Sigma_k,oo), the log-sum-exp of the a_k."
        if nothing:
            hint = "With nothing observed, p(x_o) = 1, so loglik = 0."
        elif not np.isfinite(ll) and far:
            hint = _FAR_HINT
        expect_close(ll, ref_ll, "loglik", case=case, rtol=1e-8, atol=1e-8, hint=hint)
    return (f"correct on {len(cases)} cases (missing entries, none, all, and points far from every mean).")


# --- impute ----------------------------------------------------------------------------------------

IMPUTE_CASES = [
    Case("three samples, one Gaussian",
         X=np.array([[0.5, NAN, -2.0], [NAN, 2.0, NAN], [1.0, 1.0, 1.0]]),
         mixture=Mixture([1.0], _MU3[None], _S3[None])),
    Case("five samples, three components",
         X=np.array([[0.5, NAN, 0.2], [NAN, 2.5, NAN], [3.0, NAN, NAN], [NAN, NAN, 1.5], [1.0, 1.0, 0.0]]),
         mixture=_MIX),
    Case("a sample with nothing observed", tags=('nothing observed',), X=np.array([[NAN, NAN, NAN], [2.0, NAN, -1.0]]), mixture=_MIX),
]


def _impute_reference(X, mixture):
    return _missing.impute(X, mixture)


def _hidden_impute(rng):
    mix, single = _random.mixture(rng, 3, 3), _random.mixture(rng, 1, 3)

    def holes(mixture, n, keep_empty=False):
        X = _random.points(rng, mixture, n)
        X[rng.random(X.shape) < 0.4] = NAN
        X[0, 1] = NAN
        if keep_empty:
            X[1] = NAN
        else:
            X[X.shape[0] - 1] = _random.points(rng, mixture, 1)[0]
        return X

    return [Case("a few samples, one Gaussian", X=holes(single, 3), mixture=single),
            Case("a few samples, three components", X=holes(mix, 5), mixture=mix),
            Case("a sample with nothing observed", tags=('nothing observed',), X=holes(mix, 3, keep_empty=True), mixture=mix)]


@check("impute", reference=_impute_reference, forbidden=(_missing.impute,), cases=IMPUTE_CASES, hidden=_hidden_impute,
       off_limits=('emlib.missing.e_step_missing', 'emlib.missing.posterior_missing'))
def check_impute(impute, cases):
    """Check ``impute(X, mixture) -> (n, d)``: E[x_u | x_o] = sum_k P(k | x_o) x_hat_k,u; observed entries kept."""
    for case in cases:
        X, mix = case.args
        got = as_array(call(impute, case), "the filled-in X", case)
        expect_shape(got, X.shape, "the filled-in X", meaning="(n, d), like X", case=case)
        expect_finite(got, "the filled-in X", case=case, hint="Every NaN must be replaced.")
        o = ~np.isnan(X)
        expect_close(got[o], X[o], "the observed entries", case=case, rtol=0, atol=0,
                     hint="Observed entries must come back unchanged.")
        expected = _impute_reference(X, mix)
        hint = "Each missing entry is sum_k resp_k x_hat_k,u, with resp_k = P(c_k | x_o) from the observed features."
        hard = _missing.e_step_missing(X, mix)
        map_fill = np.einsum("nkd,nk->nd", hard[1], np.eye(mix.n_components)[hard[0].argmax(axis=1)])
        if np.allclose(got, map_fill) and not np.allclose(map_fill, expected):
            hint = ("You used only the most probable component. Weight every component's conditional mean by "
                    "its responsibility: E[x_u | x_o] = sum_k P(c_k | x_o) E[x_u | x_o, k].")
        elif np.allclose(got, np.where(o, X, mix.weights @ mix.means)) and not np.allclose(got, expected):
            hint = ("You filled in the mixture's mean; use the observed features: the responsibilities and the "
                    "conditional means both depend on x_o.")
        expect_close(got, expected, "the filled-in X", case=case, rtol=1e-8, atol=1e-10, hint=hint)
    return f"correct on {len(cases)} cases (one Gaussian, a mixture, a sample with nothing observed)."


# --- m_step_missing ----------------------------------------------------------------------------------

def _m_case(label, X, mixture):
    resp, x_hat, C, _ = _missing.e_step_missing(X, mixture)
    return Case(label, resp=resp, x_hat=x_hat, C=C)


M_CASES = [
    _m_case("four samples, one Gaussian",
            np.array([[0.5, NAN, -2.0], [NAN, 2.0, NAN], [1.0, 1.0, 1.0], [-1.0, 0.0, NAN]]),
            Mixture([1.0], _MU3[None], _S3[None])),
    _m_case("six samples, three components",
            np.array([[0.5, NAN, 0.2], [NAN, 2.5, NAN], [3.0, NAN, NAN], [NAN, NAN, 1.5], [1.0, 1.0, 0.0],
                      [-2.0, 3.0, NAN]]), _MIX),
    _m_case("nothing missing (the usual M-step)",
            np.array([[0.5, 0.1, 0.2], [2.0, 2.5, -1.0], [3.0, 1.0, -1.5], [-1.5, 2.0, 1.5], [1.0, 1.0, 0.0]]),
            _MIX),
]


def _m_reference(resp, x_hat, C):
    mix = _missing.m_step_missing(resp, x_hat, C, covariance="full", reg=0.0)
    return mix.weights, mix.means, mix.covariances


def _hidden_m_step_missing(rng):
    mix, single = _random.mixture(rng, 3, 3, spread=0.7), _random.mixture(rng, 1, 3)
    cases = []
    for label, mixture, n, frac in (("a few samples, one Gaussian", single, 6, 0.3),
                                    ("samples from three components", mix, 12, 0.3),
                                    ("nothing missing (the usual M-step)", mix, 12, 0.0)):
        X = _random.points(rng, mixture, n)
        X[rng.random(X.shape) < frac] = NAN
        X[np.isnan(X).all(axis=1), 0] = 0.0
        cases.append(_m_case(label, X, mixture))
    return cases


@check("m_step_missing", reference=_m_reference, forbidden=(_missing.m_step_missing,),
       cases=M_CASES, hidden=_hidden_m_step_missing,
       off_limits=('emlib.steps.m_step',))
def check_m_step_missing(m_step_missing, cases):
    """Check ``m_step_missing(resp, x_hat, C) -> (weights, means, covariances)``, full covariances, no reg."""
    for case in cases:
        resp, x_hat, C = case.args
        n, m, d = x_hat.shape
        got = expect_tuple(call(m_step_missing, case), ("weights", "means", "covariances"), "m_step_missing", case)
        w = as_array(got[0], "weights (the first value returned)", case)
        mu = as_array(got[1], "means (the second value returned)", case)
        cov = as_array(got[2], "covariances (the third value returned)", case)
        expect_shape(w, (m,), "weights", meaning="(m,)", case=case)
        expect_shape(mu, (m, d), "means", meaning="(m, d)", case=case)
        expect_shape(cov, (m, d, d), "covariances", meaning="(m, d, d)", case=case)
        ref_w, ref_mu, ref_cov = _m_reference(resp, x_hat, C)
        expect_close(w, ref_w, "weights", case=case, rtol=1e-10, atol=1e-12,
                     hint="rho_k = (1/n) sum_i E[z_i^(k)], as without missing features.")
        expect_close(mu, ref_mu, "means", case=case, rtol=1e-8, atol=1e-10,
                     hint="mu_k = sum_i E[z_i^(k)] x_hat_ik / N_k: component k's own fill-in x_hat[i, k] of each sample.")
        expect_symmetric(cov, "covariances", case=case)
        nk = resp.sum(axis=0)
        without_C = ref_cov - np.einsum("nk,nkab->kab", resp, C) / nk[:, None, None]
        hint = ("Sigma_k = sum_i E[z_i^(k)] [(x_hat_ik - mu_k)(x_hat_ik - mu_k)^T + C_ik] / N_k: the filled-in "
                "values plus their conditional covariance.")
        if np.allclose(cov, without_C) and not np.allclose(without_C, ref_cov):
            hint = ("You left out the conditional covariance C: filled-in values lie exactly on the regression "
                    "and carry none of the scatter of the real values. Add sum_i E[z_i^(k)] C_ik before dividing by N_k.")
        expect_close(cov, ref_cov, "covariances", case=case, rtol=1e-8, atol=1e-10, hint=hint)
    return f"correct on {len(cases)} cases (the C correction included, and the usual M-step when nothing is missing)."
