"""Checks for exercise 07, choosing m and trimming: ``bic_score``, ``heldout_loglik``, ``trim_mixture``."""

from __future__ import annotations

import numpy as np

from ... import selection
from ...datasets import THREE_GAUSSIANS
from ...estimator import GaussianMixtureEM
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
    expect_shape,
    match_components,
    type_name,
)

__all__ = ["check_bic_score", "check_heldout_loglik", "check_trim_mixture"]

_X1 = np.array([[0.0], [1.0], [3.0], [2.5], [-1.0]])
_MIX1 = Mixture.univariate([0.4, 0.6], [0.0, 2.0], [1.0, 0.5])
_X2 = THREE_GAUSSIANS.sample(40, np.random.default_rng(7))[0]
_X3 = np.random.default_rng(8).normal(size=(30, 3))
_MIX3 = Mixture([0.5, 0.5], [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], [np.eye(3), 2 * np.eye(3)])

BIC_CASES = [
    Case("five 1-D points, m = 2", X=_X1, mixture=_MIX1),
    Case("40 2-D points, m = 3", X=_X2, mixture=THREE_GAUSSIANS),
    Case("30 3-D points, m = 2", X=_X3, mixture=_MIX3),
]


def _bic_reference(X, mixture):
    return selection.bic(X, mixture)


def _hidden_bic_score(rng):
    cases = []
    for m, d, n in ((2, 1, int(rng.integers(5, 10))), (3, 2, int(rng.integers(30, 50))), (2, 3, int(rng.integers(20, 40)))):
        mix = _random.mixture(rng, m, d)
        cases.append(Case(f"{n} {d}-D points, m = {m}", X=_random.points(rng, mix, n), mixture=mix))
    return cases


@check("bic_score", reference=_bic_reference, forbidden=(selection.bic,), cases=BIC_CASES, hidden=_hidden_bic_score,
       off_limits=('emlib.selection.aic', 'emlib.selection.n_parameters'))
def check_bic_score(bic_score, cases):
    """Check ``bic_score(X, mixture) -> float``: -2 l(theta) + p ln n for full covariances."""
    for case in cases:
        X, mix = case.args
        got = as_number(call(bic_score, case), "BIC", case)
        expected = _bic_reference(X, mix)
        n, ll = X.shape[0], mix.loglik(X)
        m, d = mix.n_components, mix.n_features
        p = selection.n_parameters(m, d, "full")
        hint = "BIC = -2 l(theta) + p ln n with p = (m - 1) + m d + m d (d + 1) / 2."
        p_got = (got + 2 * ll) / np.log(n)
        if np.isclose(got, -expected, rtol=1e-8):
            hint = "The sign is flipped: BIC = -2 l + p ln n, and lower is better."
        elif np.isclose(got, -2 * ll + 2 * p, rtol=1e-8):
            hint = "That is AIC (-2 l + 2 p); BIC's penalty is p ln n."
        elif np.isfinite(p_got) and abs(p_got - round(p_got)) < 1e-6 and round(p_got) != p:
            hint = (f"Your parameter count is p = {round(p_got)}; for m = {m} full-covariance components in "
                    f"d = {d} it is (m - 1) weights + m d means + m d (d + 1) / 2 covariance entries = {p}.")
        expect_close(got, expected, "BIC", case=case, rtol=1e-8, atol=1e-8, hint=hint)
    return f"correct on {len(cases)} cases (d = 1, 2, 3)."


_RNG = np.random.default_rng(9)
_TRAIN = THREE_GAUSSIANS.sample(150, _RNG)[0]
_TEST = THREE_GAUSSIANS.sample(60, _RNG)[0]
HELD_CASES = [Case("150 training and 60 test points, m = 1..4", X_train=_TRAIN, X_test=_TEST,
                   ms=[1, 2, 3, 4], seed=0)]


def _fit(X, m, seed):
    return GaussianMixtureEM(n_components=m, random_state=seed).fit(X).mixture_


def _heldout_reference(X_train, X_test, ms, seed):
    return np.array([float(np.mean(_fit(X_train, m, seed).logpdf(X_test))) for m in ms])


def _hidden_heldout_loglik(rng):
    train = THREE_GAUSSIANS.sample(int(rng.integers(120, 180)), rng)[0]
    test = THREE_GAUSSIANS.sample(int(rng.integers(40, 80)), rng)[0]
    return [Case(f"{train.shape[0]} training and {test.shape[0]} test points, m = 1..3", X_train=train, X_test=test,
                 ms=[1, 2, 3], seed=int(rng.integers(1000)))]


@check("heldout_loglik", reference=_heldout_reference, cases=HELD_CASES, hidden=_hidden_heldout_loglik)
def check_heldout_loglik(heldout_loglik, cases):
    """Check ``heldout_loglik(X_train, X_test, ms, seed) -> (len(ms),)``: mean test log-likelihood per m."""
    for case in cases:
        X_train, X_test, ms, seed = case.args
        got = as_array(call(heldout_loglik, case), "the held-out log-likelihoods", case)
        expect_shape(got, (len(ms),), "the held-out log-likelihoods", meaning="(len(ms),), one per m", case=case)
        fits = [_fit(X_train, m, seed) for m in ms]
        expected = np.array([np.mean(f.logpdf(X_test)) for f in fits])
        hint = ("For each m: fit GaussianMixtureEM(n_components=m, random_state=seed) on X_train only, "
                "then average ln p(x | theta) over X_test.")
        if np.allclose(got, expected * X_test.shape[0], rtol=1e-6):
            hint = "You summed over the test points; take the mean, so the number is per sample."
        elif np.allclose(got, [np.mean(f.logpdf(X_train)) for f in fits], rtol=1e-6):
            hint = "You scored the training points; a held-out score uses X_test, which the fit never saw."
        elif np.allclose(got, [np.mean(_fit(X_test, m, seed).logpdf(X_test)) for m in ms], rtol=1e-6):
            hint = "You fitted on X_test; fit on X_train and score on X_test."
        expect_close(got, expected, "the held-out log-likelihoods", case=case, rtol=1e-6, atol=1e-8, hint=hint)
    return "correct: fitted on the training set, scored per sample on the test set."


_MIX_TRIM = Mixture([0.5, 0.02, 0.3, 0.01, 0.17], [[0.0, 0.0], [5.0, 5.0], [3.0, 0.0], [-4.0, 2.0], [0.0, 3.0]],
                    np.stack([np.eye(2) * s for s in (1.0, 0.2, 0.5, 0.3, 2.0)]))
TRIM_CASES = [
    Case("five components, two below 0.05", mixture=_MIX_TRIM, min_weight=0.05),
    Case("nothing to trim", mixture=_MIX1, min_weight=0.1),
    Case("a threshold equal to a weight (kept)", mixture=_MIX_TRIM, min_weight=0.02),
]


def _trim_reference(mixture, min_weight):
    return selection.trim(mixture, min_weight)


def _hidden_trim_mixture(rng):
    w = np.array([0.45, 0.03, 0.3, 0.01, 0.21])
    w = w[rng.permutation(5)]
    mix = _random.mixture(rng, 5, 2)
    mix = Mixture(w, mix.means, mix.covariances)
    one = _random.mixture(rng, 2, 1)
    return [Case("five components, two below 0.05", mixture=mix, min_weight=0.05),
            Case("nothing to trim", mixture=one, min_weight=float(one.weights.min()) / 2),
            Case("a threshold equal to a weight (kept)", mixture=mix, min_weight=0.03)]


@check("trim_mixture", reference=_trim_reference, forbidden=(selection.trim,),
       cases=TRIM_CASES, hidden=_hidden_trim_mixture)
def check_trim_mixture(trim_mixture, cases):
    """Check ``trim_mixture(mixture, min_weight) -> Mixture``: drop rho_k < min_weight, renormalise the rest."""
    for case in cases:
        mix, min_weight = case.args
        got = call(trim_mixture, case)
        if not isinstance(got, Mixture):
            raise Failure(f"trim_mixture must return an emlib.Mixture (Mixture(weights, means, covariances)), "
                          f"got {type_name(got)}.\n{case.describe()}")
        expected = _trim_reference(mix, min_weight)
        if got.n_components != expected.n_components:
            raise Failure(f"expected {expected.n_components} components to remain (those with rho_k >= "
                          f"{min_weight}), got {got.n_components}.\n{case.describe()}")
        perm = match_components(expected.means, got.means)
        hint = ""
        kept = mix.weights[mix.weights >= min_weight]
        if np.allclose(np.sort(got.weights), np.sort(kept)):
            hint = "Renormalise the weights that remain so that they sum to 1 again."
        expect_close(got.weights[perm], expected.weights, "the weights (components matched in any order)",
                     case=case, rtol=1e-10, hint=hint)
        expect_close(got.means[perm], expected.means, "the means", case=case, rtol=1e-12)
        expect_close(got.covariances[perm], expected.covariances, "the covariances", case=case, rtol=1e-12,
                     hint="Keep each remaining component's covariance as it is.")
    return f"correct on {len(cases)} cases."
