"""Checks for exercise 05, the EM loop: ``has_converged``, ``run_em`` and ``fit_sklearn``."""

from __future__ import annotations

import warnings

import numpy as np

from ...em import em
from ...mixture import Mixture
from ._feedback import (
    Case,
    Failure,
    as_array,
    call,
    check,
    expect_close,
    expect_finite,
    expect_shape,
    expect_tuple,
    fmt,
    match_components,
    type_name,
)

__all__ = ["check_has_converged", "check_run_em", "check_fit_sklearn"]

# --- has_converged ------------------------------------------------------------------------------

CONV_CASES = [
    Case("a small increase", loglik_old=-100.0, loglik_new=-99.5, n=10, tol=0.1),
    Case("a large increase", loglik_old=-100.0, loglik_new=-90.0, n=10, tol=0.1),
    Case("the same change over fewer samples", loglik_old=-100.0, loglik_new=-99.5, n=1, tol=0.1),
    Case("a small decrease", loglik_old=-99.5, loglik_new=-100.0, n=10, tol=0.1),
    Case("a large decrease", loglik_old=-90.0, loglik_new=-100.0, n=10, tol=0.1),
    Case("many samples, a tight tolerance", loglik_old=-1000.0, loglik_new=-999.95, n=100, tol=0.001),
]


def _conv_reference(loglik_old, loglik_new, n, tol):
    return bool(abs(loglik_new - loglik_old) / n < tol)


def _hidden_has_converged(rng):
    cases = []
    n = int(rng.integers(5, 200))
    tol = float(10.0 ** rng.uniform(-4, -1))
    base = -float(rng.uniform(50, 5000))
    for label, step in (("a small increase", 0.3), ("a large increase", 5.0), ("a small decrease", -0.3),
                        ("a large decrease", -5.0)):
        cases.append(Case(label, loglik_old=base, loglik_new=base + step * tol * n, n=n, tol=tol))
    cases.append(Case("the same change over fewer samples", loglik_old=base, loglik_new=base + 0.3 * tol * n,
                      n=max(1, n // 10), tol=tol))
    return cases


@check("has_converged", reference=_conv_reference, cases=CONV_CASES, hidden=_hidden_has_converged)
def check_has_converged(has_converged, cases):
    """Check ``has_converged(loglik_old, loglik_new, n, tol) -> bool``: |l_new - l_old| / n < tol."""
    for case in cases:
        old, new, n, tol = case.args
        got = call(has_converged, case)
        if not isinstance(got, (bool, np.bool_)):
            raise Failure(f"has_converged must return True or False, got {type(got).__name__} {fmt(got)}."
                          f"\n{case.describe()}")
        expected = _conv_reference(old, new, n, tol)
        if bool(got) != expected:
            hint = "Stop when the change of the per-sample log-likelihood is small: |l_new - l_old| / n < tol."
            if bool(got) == (abs(new - old) < tol):
                hint = "Divide the change by n: the tolerance is per sample, so it does not depend on n."
            elif bool(got) == ((new - old) / n < tol):
                hint = "Take the absolute value of the change: a decrease is a change too."
            raise Failure(f"wrong answer: expected {expected}, got {bool(got)}.\n  {hint}\n{case.describe()}")
    return f"correct on {len(cases)} cases."


# --- run_em -------------------------------------------------------------------------------------

def _two_blobs(n, d, seed):
    rng = np.random.default_rng(seed)
    mix = Mixture([0.4, 0.6], np.array([[0.0] * d, [3.0] + [1.0] * (d - 1)]),
                  np.stack([np.eye(d), 0.5 * np.eye(d)]))
    return mix.sample(n, rng)[0]


_X1 = _two_blobs(40, 1, 11)
_X2 = _two_blobs(60, 2, 12)
_INIT1 = Mixture.univariate([0.5, 0.5], [-1.0, 1.0], [4.0, 4.0])
_INIT2 = Mixture([0.5, 0.5], [[0.0, 2.0], [2.0, 0.0]], [np.eye(2) * 3, np.eye(2) * 3])

RUN_CASES = [
    Case("40 1-D samples, exactly 3 iterations (tol = 0)", X=_X1, init=_INIT1, max_iter=3, tol=0.0),
    Case("60 2-D samples, run to convergence", X=_X2, init=_INIT2, max_iter=500, tol=1e-6),
]


def _run_reference(X, init, max_iter, tol):
    result = em(X, init, max_iter=max_iter, tol=tol)
    return result.mixture, result.loglik


def _hidden_run_em(rng):
    X1 = _two_blobs(int(rng.integers(30, 50)), 1, int(rng.integers(2**31)))
    X2 = _two_blobs(int(rng.integers(50, 80)), 2, int(rng.integers(2**31)))
    init1 = Mixture.univariate([0.5, 0.5], [-1.0 + rng.normal(scale=0.2), 1.0 + rng.normal(scale=0.2)], [4.0, 4.0])
    init2 = Mixture([0.5, 0.5], [[0.0, 2.0] + rng.normal(scale=0.2, size=2), [2.0, 0.0] + rng.normal(scale=0.2, size=2)],
                    [np.eye(2) * 3, np.eye(2) * 3])
    return [Case(f"{X1.shape[0]} 1-D samples, exactly {(k := int(rng.integers(2, 5)))} iterations (tol = 0)", X=X1,
                 init=init1, max_iter=k, tol=0.0),
            Case(f"{X2.shape[0]} 2-D samples, run to convergence", X=X2, init=init2, max_iter=500, tol=1e-6)]


@check("run_em", reference=_run_reference, forbidden=(em,), cases=RUN_CASES, hidden=_hidden_run_em,
       off_limits=('emlib.estimator.GaussianMixtureEM.fit', 'sklearn.mixture._base.BaseMixture.fit'))
def check_run_em(run_em, cases):
    """Check ``run_em(X, init, max_iter, tol) -> (mixture, logliks)``: the EM loop with its convergence test."""
    for case in cases:
        X, init, max_iter, tol = case.args
        mixture, logliks = expect_tuple(call(run_em, case), ("mixture", "logliks"), "run_em", case)
        for attr in ("weights", "means", "covariances"):
            if not hasattr(mixture, attr):
                raise Failure(f"the first value returned must be the final emlib.Mixture (as emlib.m_step "
                              f"returns), got {type_name(mixture)}.\n{case.describe()}")
        ll = as_array(logliks, "logliks (the second value returned)", case)
        if ll.ndim != 1 or ll.size == 0:
            raise Failure(f"logliks must be a 1-D list or array of log-likelihoods, one per iteration, "
                          f"got shape {ll.shape}.\n{case.describe()}")
        expect_finite(ll, "logliks", case=case)
        ref = em(X, init, max_iter=max_iter, tol=tol)
        l0 = init.loglik(X)
        if not np.isclose(ll[0], l0, rtol=1e-8):
            raise Failure(f"logliks[0] must be l(theta^(0)), the log-likelihood of init before any M-step: "
                          f"expected {l0:.6g}, got {ll[0]:.6g}.\n{case.describe()}")
        drops = np.flatnonzero(np.diff(ll) < -1e-7 * np.abs(ll[1:]))
        if drops.size:
            t = int(drops[0])
            raise Failure(f"the log-likelihood went down from iteration {t} to {t + 1} ({ll[t]:.6g} -> "
                          f"{ll[t + 1]:.6g}); EM never decreases it. Run the E-step on the newest parameters "
                          f"and the M-step on the newest responsibilities.\n  logliks: {fmt(ll, 12)}"
                          f"\n{case.describe()}")
        if tol == 0.0:
            if ll.size != max_iter + 1:
                raise Failure(f"with tol = 0 and max_iter = {max_iter}, EM does exactly {max_iter} iterations, "
                              f"so logliks has {max_iter + 1} entries: l(theta^(0)) .. l(theta^({max_iter})); "
                              f"got {ll.size}.\n{case.describe()}")
            expect_close(ll, ref.loglik, "logliks", case=case, rtol=1e-7,
                         hint="Each iteration: theta = m_step(X, resp), then resp, l = e_step(X, theta).")
        else:
            if ll.size > max_iter + 1:
                raise Failure(f"logliks has {ll.size} entries but max_iter = {max_iter} allows at most "
                              f"{max_iter + 1}.\n{case.describe()}")
            if abs(ll.size - ref.loglik.size) > 1:
                raise Failure(f"EM should stop after about {ref.n_iter} iterations here (when "
                              f"|l_new - l_old| / n < tol), but logliks has {ll.size} entries. Test convergence "
                              f"with has_converged after every iteration.\n{case.describe()}")
            expect_close(ll[-1], ref.loglik[-1], "the final log-likelihood", case=case, rtol=1e-6)
        got = (np.asarray(mixture.weights), np.asarray(mixture.means), np.asarray(mixture.covariances))
        want = (ref.mixture.weights, ref.mixture.means, ref.mixture.covariances)
        expect_shape(got[1], want[1].shape, "mixture.means", case=case)
        perm = match_components(want[1], got[1])
        for g, w, name in zip(got, want, ("weights", "means", "covariances")):
            expect_close(g[perm], w, f"the final {name} (components matched in any order)", case=case,
                         rtol=1e-4, atol=1e-5)
    return "correct: l(theta^(0)) first, never decreasing, stops on the convergence test, right final mixture."


# --- fit_sklearn --------------------------------------------------------------------------------

SK_CASES = [Case("60 2-D samples, tol = 1e-8", X=_X2, init=_INIT2, tol=1e-8)]


def _sklearn_reference(X, init, tol):
    from sklearn.mixture import GaussianMixture

    return GaussianMixture(n_components=init.n_components, covariance_type="full", tol=tol, reg_covar=1e-6,
                           max_iter=1000, weights_init=init.weights, means_init=init.means,
                           precisions_init=init.precisions).fit(X)


def _hidden_fit_sklearn(rng):
    return [Case("2-D samples, tol = 1e-8", X=_two_blobs(int(rng.integers(50, 80)), 2, int(rng.integers(2**31))),
                 init=_INIT2, tol=1e-8)]


@check("fit_sklearn", reference=_sklearn_reference, cases=SK_CASES, hidden=_hidden_fit_sklearn,
       off_limits=('emlib.em.em',))
def check_fit_sklearn(fit_sklearn, cases):
    """Check ``fit_sklearn(X, init, tol) -> GaussianMixture``: scikit-learn's EM started from ``init``."""
    try:
        from sklearn.mixture import GaussianMixture
    except ImportError:  # pragma: no cover - scikit-learn is a test dependency of the course
        raise Failure("scikit-learn is not installed; `pip install scikit-learn` (make lab installs it).") from None
    for case in cases:
        X, init, tol = case.args
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = call(fit_sklearn, case)
        if not isinstance(model, GaussianMixture):
            raise Failure(f"fit_sklearn must return the fitted sklearn.mixture.GaussianMixture, got "
                          f"{type_name(model)}.\n{case.describe()}")
        if not hasattr(model, "means_"):
            raise Failure(f"the GaussianMixture is not fitted: call .fit(X) and return the model.\n{case.describe()}")
        if model.covariance_type != "full":
            raise Failure(f"use covariance_type='full' (full covariance matrices, as in the lecture), got "
                          f"{model.covariance_type!r}.\n{case.describe()}")
        ref = em(X, init, max_iter=1000, tol=tol)
        expect_shape(np.asarray(model.means_), ref.mixture.means.shape, "model.means_", case=case)
        perm = match_components(ref.mixture.means, model.means_)
        hint = ("Start scikit-learn from the same theta^(0): weights_init=init.weights, means_init=init.means, "
                "precisions_init=init.precisions (the inverse covariances), with reg_covar=1e-6.")
        expect_close(model.means_[perm], ref.mixture.means, "model.means_ (components matched in any order)",
                     case=case, rtol=1e-4, atol=1e-4, hint=hint)
        expect_close(model.weights_[perm], ref.mixture.weights, "model.weights_ (components matched)",
                     case=case, rtol=1e-4, atol=1e-4, hint=hint)
    return "correct: scikit-learn, started from the same theta^(0), lands where your EM does."
