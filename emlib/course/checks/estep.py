"""Checks for exercise 03, the E-step in log space: ``logsumexp_rows`` and ``e_step``."""

from __future__ import annotations

import numpy as np

from ... import mixture as _mixture
from ... import steps
from ...mixture import Mixture
from . import _random
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

__all__ = ["check_logsumexp_rows", "check_e_step"]

UNDERFLOW_HINT = (
    "This is underflow: for a point far from every mean, every rho_k N(x | mu_k, Sigma_k) is below the "
    "smallest float64 (about 1e-308) and becomes 0, so the normalisation is 0/0 = NaN. Work in log space: "
    "compute a_ik = ln rho_k + ln N(x_i | mu_k, Sigma_k), subtract each row's log-sum-exp, then exponentiate."
)

# --- logsumexp_rows -----------------------------------------------------------------------------

LSE_CASES = [
    Case("one row, two equal entries", a=np.array([[0.0, 0.0]])),
    Case("two rows, three columns", a=np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])),
    Case("one column", a=np.array([[2.5], [-4.0]])),
    Case("large entries (naive exp overflows)", tags=('overflow',), a=np.array([[1000.0, 1001.0], [800.0, 700.0]])),
    Case("very negative entries (naive exp underflows)", tags=('underflow',), a=np.array([[-1000.0, -1001.0], [-800.0, -700.0]])),
]


def _lse_reference(a):
    return _mixture.logsumexp_rows(np.asarray(a, dtype=float))


def _hidden_logsumexp_rows(rng):
    n, m = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    big = rng.uniform(700, 1200)
    return [
        Case("one row, two equal entries", a=np.full((1, 2), rng.normal())),
        Case(f"{n} rows, {m} columns", a=rng.normal(scale=3.0, size=(n, m))),
        Case("one column", a=rng.normal(scale=3.0, size=(n, 1))),
        Case("large entries (naive exp overflows)", tags=('overflow',), a=big + rng.normal(scale=5.0, size=(2, m))),
        Case("very negative entries (naive exp underflows)", tags=('underflow',), a=-big + rng.normal(scale=5.0, size=(2, m))),
    ]


@check("logsumexp_rows", reference=_lse_reference, forbidden=(_mixture.logsumexp_rows,),
       cases=LSE_CASES, hidden=_hidden_logsumexp_rows,
       off_limits=('scipy.special._logsumexp.logsumexp',))
def check_logsumexp_rows(logsumexp_rows, cases):
    """Check ``logsumexp_rows(a)``: ln sum_k exp(a[i, k]) per row, shape (n,), without overflow."""
    for case in cases:
        a = case.kwargs["a"]
        got = as_array(call(logsumexp_rows, case), "the result", case)
        expect_shape(got, (a.shape[0],), "the result", meaning="(n,), one number per row", case=case)
        hint = ""
        if case.probes("overflow"):
            hint = ("exp(1000) overflows to inf in float64. Subtract each row's maximum first: "
                    "ln sum_k e^{a_k} = a_max + ln sum_k e^{a_k - a_max}.")
        elif case.probes("underflow"):
            hint = ("exp(-1000) underflows to 0 in float64, and ln 0 = -inf. Subtract each row's maximum "
                    "first: ln sum_k e^{a_k} = a_max + ln sum_k e^{a_k - a_max}.")
        expect_finite(got, "the result", case=case, hint=hint)
        expect_close(got, _lse_reference(a), "the result", case=case, rtol=1e-10, atol=1e-10, hint=hint)
    return f"correct on {len(cases)} cases, including entries of +-1000 where a naive exp fails."


# --- e_step -------------------------------------------------------------------------------------

_ONE_D = Mixture.univariate([0.4, 0.6], [0.0, 2.0], [1.0, 0.5])
_TWO_D = Mixture([0.5, 0.3, 0.2], [[0.0, 0.0], [3.0, 1.0], [-1.0, 2.0]],
                 [[[1.0, 0.3], [0.3, 0.8]], [[0.5, 0.0], [0.0, 0.5]], [[2.0, -0.5], [-0.5, 1.0]]])

E_CASES = [
    Case("three 1-D points, two components", X=np.array([[0.0], [1.0], [3.0]]), mixture=_ONE_D),
    Case("five 2-D points, three components",
         X=np.array([[0.0, 0.0], [3.0, 1.0], [-1.0, 2.0], [1.5, 0.5], [0.2, -1.0]]), mixture=_TWO_D),
    Case("a point far from every mean", tags=('far',), X=np.array([[1.0], [60.0]]), mixture=_ONE_D),
    Case("2-D points far from every mean", tags=('far',), X=np.array([[40.0, -30.0], [0.5, 0.5]]), mixture=_TWO_D),
]


def _e_reference(X, mixture):
    return steps.e_step(X, mixture)


def _hidden_e_step(rng):
    one, two = _random.mixture(rng, 2, 1), _random.mixture(rng, 3, 2)
    return [
        Case("a few 1-D points, two components", X=_random.points(rng, one, int(rng.integers(3, 7))), mixture=one),
        Case("a few 2-D points, three components", X=_random.points(rng, two, int(rng.integers(4, 8))), mixture=two),
        Case("a point far from every mean", tags=('far',), X=np.vstack([_random.points(rng, one, 1), _random.far_point(rng, one)]),
             mixture=one),
        Case("2-D points far from every mean", tags=('far',), X=np.vstack([_random.far_point(rng, two), _random.points(rng, two, 1)]),
             mixture=two),
    ]


@check("e_step", reference=_e_reference, forbidden=(steps.e_step,), cases=E_CASES, hidden=_hidden_e_step,
       off_limits=('emlib.mixture.Mixture.posterior',
                   'emlib.mixture.Mixture.logpdf',
                   'emlib.mixture.Mixture.loglik',
                   'emlib.mixture.logsumexp_rows',
                   'emlib.suffstats.e_step',
                   'scipy.special._logsumexp.logsumexp'),)
def check_e_step(e_step, cases):
    """Check ``e_step(X, mixture) -> (resp, loglik)``: responsibilities (n, m) and the log-likelihood."""
    for case in cases:
        X, mix = case.kwargs["X"], case.kwargs["mixture"]
        n, m = X.shape[0], mix.n_components
        got = expect_tuple(call(e_step, case), ("resp", "loglik"), "e_step", case)
        resp = as_array(got[0], "resp (the first value returned)", case)
        expect_shape(resp, (n, m), "resp", meaning="(n, m)", case=case)
        far = case.probes("far")
        expect_finite(resp, "resp", case=case, hint=UNDERFLOW_HINT if far else "")
        expect_probabilities(resp, "resp", case=case)
        expect_rows_sum_to_one(resp, "resp", case=case)
        ref_resp, ref_ll = steps.e_step(X, mix)
        hint = "Each entry is rho_k N(x_i | mu_k, Sigma_k) divided by the sum over the components j."
        log_n = mix.component_logpdf(X)
        unweighted = np.exp(log_n - _mixture.logsumexp_rows(log_n)[:, None])
        if not np.allclose(ref_resp, unweighted, rtol=1e-6, atol=1e-9) and np.allclose(resp, unweighted, rtol=1e-6,
                                                                                       atol=1e-9):
            hint = ("The weights rho_k are missing: you normalised N(x_i | mu_k, Sigma_k) alone. The posterior of "
                    "component k is proportional to rho_k N(x_i | mu_k, Sigma_k), i.e. add ln rho_k in log space.")
        expect_close(resp, ref_resp, "resp", case=case, rtol=1e-6, atol=1e-9, hint=hint)
        ll = as_number(got[1], "loglik (the second value returned)", case)
        hint = ""
        if np.isclose(ll, ref_ll / n, rtol=1e-6):
            hint = "You returned the mean over the samples; the log-likelihood is the sum over i."
        elif not np.isfinite(ll) and far:
            hint = UNDERFLOW_HINT
        expect_close(ll, ref_ll, "loglik", case=case, rtol=1e-8, atol=1e-8,
                     hint=hint or "loglik = sum_i ln sum_k rho_k N(x_i | mu_k, Sigma_k), i.e. the sum of the "
                                  "row log-sum-exps.")
    return (f"correct on {len(cases)} cases (shapes, rows sum to one, values, log-likelihood, "
            "points far from every mean).")
