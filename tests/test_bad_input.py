"""Bad input gets a ValueError or TypeError that names the argument at fault and what was expected.

Two kinds of test:

- a table, one row per check at the door: one argument is bad, every other
  one is good, and the message must say which argument and what it expected.
  The match is specific to the check, so a check that is removed is noticed
  even when a later check raises (a NaN in sample_weight that slips past the
  finiteness check fails "positive sum" instead: a different message);
- property tests that corrupt one argument at a time with anything
  Hypothesis can draw: the call either works or raises a ValueError/TypeError
  whose message names that argument (never a bare IndexError, LinAlgError,
  or an error about an argument that was fine).
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import emlib
import emlib._validation
import emlib.missing as M
import emlib.prior
import emlib.scoring
from emlib import Mixture

ALLOWED = (ValueError, TypeError)

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
tame = st.floats(-1e6, 1e6, allow_nan=False)
any_array = arrays(np.float64, array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5), elements=floats)
plain_array = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6), elements=tame)
junk = st.one_of(any_array, plain_array, st.none(), st.text(max_size=3), st.integers(-3, 3),
                 st.lists(st.integers(-2, 2), max_size=3), st.just([[1, 2], [3]]))
kinds = st.one_of(st.sampled_from(emlib.COVARIANCE_KINDS), st.text(max_size=5))


def X4():
    """Four points in the plane, two near (0, 0) and two near (10, 10)."""
    return np.array([[0.0, 0.0], [1.0, 0.5], [10.0, 10.0], [11.0, 9.5]])


def mix2():
    return Mixture([0.5, 0.5], [[0.0, 0.0], [10.0, 10.0]], [np.eye(2), np.eye(2)])


RESP = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
XHAT = np.repeat(X4()[:, None, :], 2, axis=1)                 # (n, m, d): nothing missing
CCOV = np.zeros((4, 2, 2, 2))
XHOLES = np.array([[0.0, np.nan], [1.0, 2.0], [np.nan, 3.0]])
GOOD_MIXTURE = dict(weights=[0.5, 0.5], means=[[0.0, 0.0], [1.0, 1.0]], covariances=[np.eye(2), np.eye(2)])
GOOD_EM = dict(covariance="full", max_iter=5, tol=1e-6, reg=1e-6, min_weight=None, fix_weights=False,
               sample_weight=None, callback=None)


def mixture_with(**bad):
    return lambda: Mixture(**{**GOOD_MIXTURE, **bad})


def em_with(**bad):
    return lambda: emlib.em(X4(), mix2(), **{**GOOD_EM, **bad})


# (the call with one bad argument, the exception, its message: the argument, what it expects, what came)
DOOR = {
    # Mixture
    "weights 2-D": (mixture_with(weights=[[0.5, 0.5]]), ValueError, 'weights must be 1-dimensional, got shape (1, 2)'),
    "weights text": (mixture_with(weights="0.5"), TypeError, "weights must be an array of numbers, got str '0.5'"),
    "weights complex": (mixture_with(weights=[0.5 + 0j, 0.5]), TypeError,
                        'weights must hold real numbers, got complex dtype complex128'),
    "weights objects": (mixture_with(weights=[object(), 0.5]), TypeError,
                        'weights must hold real numbers, got dtype object'),
    "weights ragged": (mixture_with(weights=[[0.5], [0.2, 0.3]]), ValueError,
                       'weights must be a rectangular array of numbers: ...'),
    "weights empty": (mixture_with(weights=[], means=np.zeros((0, 2)), covariances=np.zeros((0, 2, 2))),
                      ValueError, 'weights must have at least one entry (one component), got shape (0,)'),
    "weights NaN": (mixture_with(weights=[np.nan, 0.5]), ValueError,
                    'weights contains 1 NaN or infinite value(s); expected finite numbers.'),
    "weights negative": (mixture_with(weights=[1.5, -0.5]), ValueError,
                         'weights must be non-negative, got [ 1.5 -0.5]'),
    "weights sum": (mixture_with(weights=[0.5, 0.4]), ValueError, 'weights must sum to 1 (within 1e-8), got sum 0.9'),
    "means 1-D": (mixture_with(means=[0.0, 1.0]), ValueError, 'means must be 2-dimensional, got shape (2,)'),
    "means rows": (mixture_with(means=[[0.0, 0.0]]), ValueError,
                   'means must have shape (m, d) with m = 2 (len(weights)), got (1, 2)'),
    "means no feature": (mixture_with(means=np.zeros((2, 0)), covariances=np.zeros((2, 0, 0))),
                         ValueError, 'means must have at least one feature, got shape (2, 0)'),
    "means inf": (mixture_with(means=[[0.0, np.inf], [1.0, 1.0]]), ValueError,
                  'means contains 1 NaN or infinite value(s); expected finite numbers.'),
    "covariances 2-D": (mixture_with(covariances=np.eye(2)), ValueError,
                        'covariances must be 3-dimensional, got shape (2, 2)'),
    "covariances shape": (mixture_with(covariances=np.ones((2, 3, 3))), ValueError,
                          'covariances must have shape (m, d, d) = (2, 2, 2), got (2, 3, 3)'),
    "covariances NaN": (mixture_with(covariances=[[[1.0, 0], [0, np.nan]], np.eye(2)]), ValueError,
                        'covariances contains 1 NaN or infinite value(s); expected finite numbers.'),
    "covariances asymmetric": (mixture_with(covariances=[[[1.0, 0.5], [0.0, 1.0]], np.eye(2)]), ValueError,
        'covariances[0] is not symmetric (relative asymmetry 0.5); expected symmetric '
        'positive definite matrices'),
    "covariances not PD": (mixture_with(covariances=[np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]), ValueError,
        'covariances must be positive definite; components [1] are not (smallest '
        'eigenvalues [-1.0]). If they came from a collapsed component, increase reg or '
        'set min_weight to trim it.'),
    "univariate shapes": (lambda: Mixture.univariate([1.0], [0.0, 1.0], [1.0]), ValueError,
                          'weights, means and variances must have the same shape (m,), got (1,), (2,), (1,)'),
    "univariate variances": (lambda: Mixture.univariate([0.5, 0.5], [0.0, 1.0], [1.0, 0.0]), ValueError,
                             'variances must be positive, got [1. 0.]'),
    "univariate variances inf": (lambda: Mixture.univariate([0.5, 0.5], [0.0, 1.0], [1.0, np.inf]), ValueError,
                                 'variances contains 1 NaN or infinite value(s); expected finite numbers.'),
    # a mixture's methods
    "logpdf X features": (lambda: mix2().logpdf(np.zeros((4, 3))), ValueError,
                          'X must have 2 feature(s) (columns) to match the mixture, got shape (4, 3)'),
    "logpdf X NaN": (lambda: mix2().logpdf([[0.0, np.nan]]), ValueError,
        'X contains 1 NaN or infinite value(s); expected finite numbers. If NaN marks '
        'missing features, use emlib.em_missing (EM with missing features) or drop the '
        'incomplete rows.'),
    "logpdf X 3-D": (lambda: mix2().logpdf(np.zeros((1, 2, 2))), ValueError,
                     'X must be 1 or 2-dimensional, got shape (1, 2, 2)'),
    "logpdf X empty": (lambda: mix2().logpdf(np.zeros((0, 2))), ValueError,
                       'X must have at least one sample and one feature, got shape (0, 2)'),
    "sample n negative": (lambda: mix2().sample(-1), ValueError, 'n must be >= 0, got -1'),
    "sample n float": (lambda: mix2().sample(2.0), TypeError, 'n must be an integer, got float 2.0'),
    "sample n bool": (lambda: mix2().sample(True), TypeError, 'n must be an integer, got bool True'),
    "sample rng": (lambda: mix2().sample(2, rng="seed"), TypeError,
        "rng must be a numpy.random.Generator or an int seed, got str 'seed'"),
    "sample rng bool": (lambda: mix2().sample(2, rng=True), TypeError,
                        'rng must be a numpy.random.Generator or an int seed, got bool True'),
    # the steps
    "e_step mixture": (lambda: emlib.e_step(X4(), "mixture"), TypeError, 'mixture must be an emlib.Mixture, got str'),
    "resp rows": (lambda: emlib.update_means(X4(), RESP[:3]), ValueError,
                  'resp must have one row per sample (4), got shape (3, 2)'),
    "resp columns": (lambda: emlib.update_weights(np.zeros((4, 0))), ValueError,
                     'resp must have at least one column (component), got shape (4, 0)'),
    "resp NaN": (lambda: emlib.update_weights([[np.nan, 1.0]]), ValueError,
                 'resp contains 1 NaN or infinite value(s); expected finite numbers.'),
    "resp negative": (lambda: emlib.update_weights([[-0.5, 1.5]]), ValueError,
                      'resp must hold probabilities in [0, 1]'),
    "resp above 1": (lambda: emlib.update_weights([[1.5, 0.0]]), ValueError, 'resp must hold probabilities in [0, 1]'),
    "resp row sum": (lambda: emlib.update_weights([[0.5, 0.4]]), ValueError,
                     'each row of resp must sum to 1 (a distribution over components); worst row is off by 0.1'),
    "resp 1-D": (lambda: emlib.update_weights([0.5, 0.5]), ValueError, 'resp must be 2-dimensional, got shape (2,)'),
    "resp collapsed": (lambda: emlib.update_means(X4(), np.c_[np.ones(4), np.zeros(4)]), ValueError,
        'component(s) [1] received zero total responsibility (they collapsed: no sample '
        'belongs to them). Use fewer components, a different initialisation, a larger '
        'reg, or set min_weight to trim such components during training.'),
    "covariance kind": (lambda: emlib.update_covariances(X4(), RESP, mix2().means, "round"), ValueError,
                        "covariance must be one of 'full', 'diag', 'spherical', 'tied', 'fixed'; got 'round'"),
    "covariance fixed": (lambda: emlib.update_covariances(X4(), RESP, mix2().means, "fixed"), ValueError,

        "covariance='fixed' keeps the covariances as they are; there is nothing to "
        'update (m_step takes them through fixed_covariances)'),
    "covariances reg": (lambda: emlib.update_covariances(X4(), RESP, mix2().means, reg=-1.0), ValueError,
                        'reg must be >= 0.0, got -1.0'),
    "covariances reg NaN": (lambda: emlib.update_covariances(X4(), RESP, mix2().means, reg=np.nan), ValueError,
                            'reg must be finite, got nan'),
    "covariances reg text": (lambda: emlib.update_covariances(X4(), RESP, mix2().means, reg="1"), TypeError,
                             "reg must be a real number, got str '1'"),
    "covariances means": (lambda: emlib.update_covariances(X4(), RESP, np.zeros((3, 2))), ValueError,
                          'means must have shape (m, d) = (2, 2), got (3, 2)'),
    "m_step fixed_weights": (lambda: emlib.m_step(X4(), RESP, fixed_weights=[1.0]), ValueError,
                             'fixed_weights must have shape (2,), got (1,)'),
    "m_step fixed needs covariances": (lambda: emlib.m_step(X4(), RESP, covariance="fixed"), ValueError,
                                       "covariance='fixed' needs fixed_covariances, the (m, d, d) covariances to keep"),
    "m_step fixed_covariances": (lambda: emlib.m_step(X4(), RESP, covariance="fixed", fixed_covariances=np.ones((2, 3, 3))),
                                 ValueError, 'fixed_covariances must have shape (2, 2, 2), got (2, 3, 3)'),
    "Q resp columns": (lambda: emlib.expected_complete_loglik(X4(), np.ones((4, 1)), mix2()), ValueError,
                       'resp has 1 columns but the mixture has 2 components'),
    # the EM loop
    "em init": (lambda: emlib.em(X4(), mix2().means), TypeError,
                'init must be an emlib.Mixture (e.g. from init_kmeans_pp(X, m, rng)), got ndarray'),
    "em init features": (lambda: emlib.em(X4()[:, :1], mix2()), ValueError,
                         'init has 2 feature(s) but X has 1 (shape (4, 1))'),
    "em X NaN": (lambda: emlib.em(np.where(X4() > 10.5, np.nan, X4()), mix2()), ValueError,
        'X contains 1 NaN or infinite value(s); expected finite numbers. If NaN marks '
        'missing features, use emlib.em_missing (EM with missing features) or drop the '
        'incomplete rows.'),
    "em covariance": (em_with(covariance="round"), ValueError,
        "covariance must be one of 'full', 'diag', 'spherical', 'tied', 'fixed'; got 'round'"),
    "em max_iter": (em_with(max_iter=-1), ValueError, 'max_iter must be >= 0, got -1'),
    "em max_iter float": (em_with(max_iter=2.5), TypeError, 'max_iter must be an integer, got float 2.5'),
    "em tol": (em_with(tol=-1.0), ValueError, 'tol must be >= 0.0, got -1.0'),
    "em tol inf": (em_with(tol=np.inf), ValueError, 'tol must be finite, got inf'),
    "em tol None": (em_with(tol=None), TypeError, 'tol must be a real number, got NoneType None'),
    "em reg": (em_with(reg=-1e-6), ValueError, 'reg must be >= 0.0, got -1e-06'),
    "em min_weight negative": (em_with(min_weight=-0.1), ValueError, 'min_weight must be >= 0.0, got -0.1'),
    "em min_weight 1": (em_with(min_weight=1.0), ValueError,
                        'min_weight must be < 1 (a weight below which components are trimmed), got 1.0'),
    "em min_weight trims all": (em_with(min_weight=0.9), ValueError,
                                'min_weight=0.9 trimmed every component; use a smaller min_weight'),
    "em callback": (em_with(callback=3), TypeError, 'callback must be callable(t, mixture, loglik), got int'),
    "em sample_weight shape": (em_with(sample_weight=np.ones(3)), ValueError,
                               'sample_weight must have shape (4,), one weight per sample, got (3,)'),
    "em sample_weight 2-D": (em_with(sample_weight=np.ones((4, 1))), ValueError,
                             'sample_weight must be 1-dimensional, got shape (4, 1)'),
    "em sample_weight NaN": (em_with(sample_weight=[1.0, np.nan, 1.0, 1.0]), ValueError,
                             'sample_weight contains 1 NaN or infinite value(s); expected finite numbers.'),
    "em sample_weight negative": (em_with(sample_weight=[-1.0, 3.0, 1.0, 1.0]), ValueError,
                                  'sample_weight must be non-negative'),
    "em sample_weight zero": (em_with(sample_weight=np.zeros(4)), ValueError,
                              'sample_weight must have a positive sum; got weights that are all zero'),
    "em m > n": (lambda: emlib.em(X4()[:1], mix2()), ValueError,
                 'init has 2 components but X has only 1 samples; use m <= n'),
    "em m > weighted n": (em_with(sample_weight=[1.0, 0.0, 0.0, 0.0]), ValueError,
                          'init has 2 components but X has only 1 samples; use m <= n'),
    # initialisations
    "init m zero": (lambda: emlib.init_from_data(X4(), 0), ValueError, 'm must be >= 1, got 0'),
    "init m > n": (lambda: emlib.init_from_data(X4(), 5), ValueError,
                   'm (the number of components) must be <= the number of samples n = 4, got 5'),
    "init m float": (lambda: emlib.init_kmeans_pp(X4(), 2.0), TypeError, 'm must be an integer, got float 2.0'),
    "init variance_scale": (lambda: emlib.init_from_data(X4(), 2, 0, variance_scale=0.0), ValueError,
                            'variance_scale must be > 0.0, got 0.0'),
    "init rng": (lambda: emlib.kmeans_pp_indices(X4(), 2, "seed"), TypeError,
        "rng must be a numpy.random.Generator or an int seed, got str 'seed'"),
    "labels ragged": (lambda: emlib.init_from_labels(X4(), [[0, 1], [1]]), ValueError,
                      'labels must be a 1-D array of integers 0..m-1, one per row of X; got a ragged sequence'),
    "labels shape": (lambda: emlib.init_from_labels(X4(), [0, 1]), ValueError,
                     'labels must have shape (4,), one label per row of X, got (2,)'),
    "labels fractions": (lambda: emlib.init_from_labels(X4(), [0, 0.5, 1, 1]), ValueError,
                         'labels must be integers 0..m-1'),
    "labels negative": (lambda: emlib.init_from_labels(X4(), [0, -1, 1, 1]), ValueError,
                        'labels must be integers 0..m-1, got a negative label'),
    "labels too large": (lambda: emlib.init_from_labels(X4(), [0, 0, 1, 2], n_components=2), ValueError,
                         'labels must be < n_components = 2'),
    "labels empty class": (lambda: emlib.init_from_labels(X4(), [0, 0, 2, 2]), ValueError,
                           'every class 0..2 needs at least one sample; classes [1] have none'),
    "labels n_components": (lambda: emlib.init_from_labels(X4(), [0, 0, 1, 1], n_components=0), ValueError,
                            'n_components must be >= 1, got 0'),
    "labels covariance": (lambda: emlib.init_from_labels(X4(), [0, 0, 1, 1], covariance="round"), ValueError,
                          "covariance must be one of 'full', 'diag', 'spherical', 'tied', 'fixed'; got 'round'"),
    # k-means
    "kmeans init_means shape": (lambda: emlib.kmeans(X4(), np.zeros((2, 3))), ValueError,
                                'init_means must have shape (m, 2), got (2, 3)'),
    "kmeans init_means 3-D": (lambda: emlib.kmeans(X4(), np.zeros((2, 2, 2))), ValueError,
                              'init_means must be 1 or 2-dimensional, got shape (2, 2, 2)'),
    "kmeans init_means NaN": (lambda: emlib.kmeans(X4(), [[0.0, np.nan], [1.0, 1.0]]), ValueError,
                              'init_means must be finite'),
    "kmeans init_means rows": (lambda: emlib.kmeans(X4(), np.zeros((5, 2))), ValueError,
                               'init_means must have between 1 and n = 4 rows, got 5'),
    "kmeans max_iter": (lambda: emlib.kmeans(X4(), X4()[:2], max_iter=-1), ValueError, 'max_iter must be >= 0, got -1'),
    "kmeans sigma": (lambda: emlib.kmeans_limit_mixture(np.zeros((2, 2)), 0.0), ValueError,
                     'sigma must be > 0.0, got 0.0'),
    "kmeans sigma negative": (lambda: emlib.kmeans_limit_mixture(np.zeros((2, 2)), -1.0), ValueError,
                              'sigma must be > 0.0, got -1.0'),
    "kmeans limit means": (lambda: emlib.kmeans_limit_mixture(np.zeros(2), 1.0), ValueError,
                           'means must be 2-dimensional, got shape (2,)'),
    # model selection
    "trim mixture": (lambda: emlib.trim("mixture", 0.1), TypeError, 'mixture must be an emlib.Mixture, got str'),
    "trim min_weight negative": (lambda: emlib.trim(mix2(), -0.1), ValueError, 'min_weight must be >= 0.0, got -0.1'),
    "trim min_weight 1": (lambda: emlib.trim(mix2(), 1.0), ValueError, 'min_weight must be < 1, got 1.0'),
    "trim everything": (lambda: emlib.trim(mix2(), 0.75), ValueError,
                        'min_weight=0.75 is above every weight (largest 0.5); nothing would be left'),
    "n_parameters m": (lambda: emlib.n_parameters(0, 2, "full"), ValueError, 'm must be >= 1, got 0'),
    "n_parameters d": (lambda: emlib.n_parameters(2, 0, "full"), ValueError, 'd must be >= 1, got 0'),
    "n_parameters d float": (lambda: emlib.n_parameters(2, 1.5, "full"), TypeError, 'd must be an integer, got float 1.5'),
    "n_parameters covariance": (lambda: emlib.n_parameters(2, 2, "round"), ValueError,
        "kind must be one of 'full', 'diag', 'spherical', 'tied', 'fixed'; got 'round'"),
    "n_parameters without a kind": (lambda: emlib.n_parameters(2, 2), TypeError,
        "n_parameters(m, d, kind) needs all three; or pass the fitted mixture: n_parameters(mixture)"),
    "bic mixture": (lambda: emlib.bic(X4(), "mixture"), TypeError,
                    'model must be an emlib.Mixture (e.g. from emlib.em(...), or its .mixture), got str'),
    "aic X": (lambda: emlib.aic(np.full((4, 2), np.nan), mix2()), ValueError,
        'X contains 8 NaN or infinite value(s); expected finite numbers. If NaN marks '
        'missing features, use emlib.em_missing (EM with missing features) or drop the '
        'incomplete rows.'),
    "univariate weights 2-D": (lambda: Mixture.univariate([[1.0]], [0.0], [1.0]), ValueError,
                               'weights must be 1-dimensional, got shape (1, 1)'),
    "univariate means 2-D": (lambda: Mixture.univariate([1.0], [[0.0]], [1.0]), ValueError,
                             'means must be 1-dimensional, got shape (1, 1)'),
    "univariate variances 2-D": (lambda: Mixture.univariate([1.0], [0.0], [[1.0]]), ValueError,
                                 'variances must be 1-dimensional, got shape (1, 1)'),
    "subset nothing": (lambda: mix2().subset([]), ValueError,
                       'subset must keep at least one component of positive weight, got none'),
    "subset zero weight": (lambda: Mixture([1.0, 0.0], [[0.0], [1.0]], np.ones((2, 1, 1))).subset([1]), ValueError,
                           'subset must keep at least one component of positive weight'),
    # missing data (emlib.missing)
    "missing X inf": (lambda: emlib.impute([[np.inf, 0.0]], mix2()), ValueError,
        'X contains 1 infinite value(s); expected finite numbers, with NaN marking a '
        'missing feature'),
    "missing X 3-D": (lambda: emlib.impute(np.zeros((1, 1, 2)), mix2()), ValueError,
                      'X must be 1 or 2-dimensional, got shape (1, 1, 2)'),
    "missing X empty": (lambda: emlib.impute(np.zeros((0, 2)), mix2()), ValueError,
                        'X must have at least one sample and one feature, got shape (0, 2)'),
    "missing X column": (lambda: M.mean_impute([[np.nan, 1.0], [np.nan, 2.0]]), ValueError,
        'X has feature column(s) [0] missing (NaN) in every sample; nothing can be '
        'learnt about them: drop those columns'),
    "missing mixture": (lambda: M.observed_logpdf(X4(), "mixture"), TypeError,
                        'mixture must be an emlib.Mixture, got str'),
    "missing mixture features": (lambda: M.posterior_missing(X4()[:, :1], mix2()), ValueError,
                                 'mixture has 2 feature(s) but X has 1'),
    "missing e_step mixture": (lambda: M.e_step_missing(X4(), "mixture"), TypeError,
                               'mixture must be an emlib.Mixture, got str'),
    "missing loglik mixture": (lambda: M.observed_loglik(X4(), mix2().means), TypeError,
                               'mixture must be an emlib.Mixture, got ndarray'),
    "conditional x 2-D": (lambda: M.conditional_gaussian(np.zeros((2, 2)), [0.0, 0.0], np.eye(2)), ValueError,
                          'x must be 1-dimensional, got shape (2, 2)'),
    "conditional mean 2-D": (lambda: M.conditional_gaussian([0.0, np.nan], [[0.0, 0.0]], np.eye(2)), ValueError,
                             'mean must be 1-dimensional, got shape (1, 2)'),
    "conditional cov 1-D": (lambda: M.conditional_gaussian([0.0, np.nan], [0.0, 0.0], [1.0, 1.0]), ValueError,
                            'cov must be 2-dimensional, got shape (2,)'),
    "conditional mean shape": (lambda: M.conditional_gaussian([0.0, np.nan], [0.0], np.eye(2)), ValueError,
                               'mean must have shape (2,) and cov (2, 2) to match x, got (1,) and (2, 2)'),
    "conditional cov shape": (lambda: M.conditional_gaussian([0.0, np.nan], [0.0, 0.0], np.eye(3)), ValueError,
                              'mean must have shape (2,) and cov (2, 2) to match x, got (2,) and (3, 3)'),
    "conditional x inf": (lambda: M.conditional_gaussian([np.inf, np.nan], [0.0, 0.0], np.eye(2)), ValueError,
        'x contains an infinite value; expected finite numbers, with NaN marking a '
        'missing feature'),
    "m_step_missing resp": (lambda: M.m_step_missing(RESP[:, 0], XHAT, CCOV), ValueError,
                            'resp must be 2-dimensional, got shape (4,)'),
    "m_step_missing x_hat": (lambda: M.m_step_missing(RESP, XHAT[:, 0], CCOV), ValueError,
                             'x_hat must be 3-dimensional, got shape (4, 2)'),
    "m_step_missing cond_cov": (lambda: M.m_step_missing(RESP, XHAT, CCOV[:, 0]), ValueError,
                                'cond_cov must be 4-dimensional, got shape (4, 2, 2)'),
    "m_step_missing x_hat shape": (lambda: M.m_step_missing(RESP, XHAT[:3], CCOV), ValueError,
        'x_hat must have shape (n, m, d) = (4, 2, d) and cond_cov (n, m, d, d); got (3, '
        '2, 2) and (4, 2, 2, 2)'),
    "m_step_missing cond_cov shape": (lambda: M.m_step_missing(RESP, XHAT, CCOV[:3]), ValueError,
        'x_hat must have shape (n, m, d) = (4, 2, d) and cond_cov (n, m, d, d); got (4, '
        '2, 2) and (3, 2, 2, 2)'),
    "m_step_missing covariance": (lambda: M.m_step_missing(RESP, XHAT, CCOV, covariance="round"), ValueError,
                                  "covariance must be one of 'full', 'diag', 'spherical', 'tied', 'fixed'; got 'round'"),
    "m_step_missing reg": (lambda: M.m_step_missing(RESP, XHAT, CCOV, reg=-1.0), ValueError,
                           'reg must be >= 0.0, got -1.0'),
    "m_step_missing sample_weight": (lambda: M.m_step_missing(RESP, XHAT, CCOV, sample_weight=[1.0, -1.0, 1.0, 1.0]),
                                     ValueError, 'sample_weight must be non-negative'),
    "m_step_missing collapsed": (lambda: M.m_step_missing(np.c_[np.ones(4), np.zeros(4)], XHAT, CCOV), ValueError,
        'component(s) [1] received zero total responsibility (they collapsed: no sample '
        'belongs to them). Use fewer components, a different initialisation, a larger '
        'reg, or set min_weight to trim such components during training.'),
    "m_step_missing fixed": (lambda: M.m_step_missing(RESP, XHAT, CCOV, covariance="fixed"), ValueError,
                             "covariance='fixed' needs fixed_covariances, the (m, d, d) covariances to keep"),
    "m_step_missing fixed_covariances": (lambda: M.m_step_missing(RESP, XHAT, CCOV, covariance="fixed",
                                                                  fixed_covariances=np.ones((2, 3, 3))),
                                         ValueError, 'fixed_covariances must have shape (2, 2, 2), got (2, 3, 3)'),
    "long values are cut at 200 characters": (lambda: mix2().sample(2, rng="s" * 300), TypeError,
                                              "rng must be a numpy.random.Generator or an int seed, got "
                                              + ("str '" + "s" * 300 + "'")[:200]),
    "e_step X too large": (lambda: emlib.e_step(np.array([[0.0], [1e200]]), Mixture.univariate([1.0], [0.0], [1.0])),
                           ValueError, "the density of sample X[1] is not representable even in log space (its "
                                       "values are too large for float64 arithmetic); rescale X"),
    "m_step fixed_covariances 2-D": (lambda: emlib.m_step(X4(), RESP, covariance="fixed", fixed_covariances=np.eye(2)),
                                     ValueError, "fixed_covariances must be 3-dimensional, got shape (2, 2)"),
    "m_step_missing fixed_covariances 2-D": (lambda: M.m_step_missing(RESP, XHAT, CCOV, covariance="fixed",
                                                                      fixed_covariances=np.eye(2)),
                                             ValueError, "fixed_covariances must be 3-dimensional, got shape (2, 2)"),
    "m_step fixed_weights 2-D": (lambda: emlib.m_step(X4(), RESP, fixed_weights=np.ones((2, 1)) / 2), ValueError,
                                 "fixed_weights must be 1-dimensional, got shape (2, 1)"),
    "missing X too large": (lambda: M.observed_logpdf(np.array([[0.0, np.nan], [1.0, 1.0], [1e200, np.nan]]), mix2()),
                            ValueError, "the density of the observed part of sample X[2] is not representable even "
                                        "in log space (its values are too large for float64 arithmetic); rescale X"),
    "em_missing init": (lambda: emlib.em_missing(np.array([[0.0, np.nan], [np.nan, 1.0]]), 3), TypeError,
                        "init must be an emlib.Mixture (e.g. from init_kmeans_pp(mean_impute(X), m, rng)), got int"),
    "em_missing X too large": (lambda: emlib.em_missing(np.array([[0.0, np.nan], [np.nan, 1.0], [1e200, np.nan]]),
                                                        mix2()),
                               ValueError, "the density of the observed part of sample X[2] is not representable "
                                           "even in log space (its values are too large for float64 arithmetic); "
                                           "rescale X"),
    "em_missing m > informative n unweighted": (lambda: emlib.em_missing(np.array([[0.0, np.nan], [np.nan, np.nan],
                                                                                   [np.nan, 1.0]]),
                                                                         Mixture([1 / 3] * 3, np.zeros((3, 2)),
                                                                                 np.broadcast_to(np.eye(2), (3, 2, 2)))),
                                                ValueError, "init has 3 components but X has only 2 samples with an "
                                                            "observed feature; use m <= 2"),
    "missing X 1-D refused": (lambda: M.check_data_missing(np.zeros(3), allow_1d=False), ValueError,
                              "X must be 2-dimensional, got shape (3,)"),
    "em_missing init features": (lambda: emlib.em_missing(np.array([[0.0], [np.nan], [1.0]]), mix2()), ValueError,
                                 "init has 2 feature(s) but X has 1 (shape (3, 1))"),
    "labels text": (lambda: emlib.init_from_labels(X4(), ["a", "b", "a", "b"]), TypeError,
                    "labels must hold real numbers, got dtype <U1"),
    "weights timedelta": (mixture_with(weights=np.array([1, 1], dtype="m8[s]")), TypeError,
                          "weights must hold real numbers, got dtype timedelta64[s]"),
    "resp negative only": (lambda: emlib.update_weights([[-0.5, 0.75, 0.75]]), ValueError,
                           "resp must hold probabilities in [0, 1]"),
    "em_missing m > informative n": (lambda: emlib.em_missing(np.array([[0.0, np.nan], [np.nan, np.nan], [1.0, 2.0]]),
                                                              mix2(), sample_weight=[1.0, 1.0, 0.0]),
                                     ValueError,
        'init has 2 components but X has only 1 samples with an observed feature and a '
        'positive weight; use m <= 1'),
    "scoring labels negative": (lambda: emlib.scoring.matched_accuracy([-1, 0], [0, 0]), ValueError,
                        "labels must be non-negative integers (select the samples to score first, e.g. labels[mask]), "
                        "got minimum -1"),
    "scoring labels float": (lambda: emlib.scoring.matched_accuracy([0.5, 0], [0, 0]), TypeError,
                     "labels must hold integer labels, got dtype float64"),
    "as_kind kind": (lambda: mix2().as_kind("round"), ValueError,
                     "kind must be one of 'full', 'diag', 'spherical', 'tied', 'fixed'; got 'round'"),
    "compare_quick_fixes X_full": (lambda: M.compare_quick_fixes(X4(), np.zeros(4), mix2()), ValueError,
                                   "X_full must be 2-dimensional, got shape (4,)"),
    "n_parameters mixture and kind": (lambda: emlib.n_parameters(mix2(), kind="diag"), TypeError,
                                      "n_parameters(mixture) reads d and kind from the mixture; pass d and kind only "
                                      "with the number of components m: n_parameters(m, d, kind)"),
    "n_parameters mixture and d": (lambda: emlib.n_parameters(mix2(), d=2), TypeError,
                                   "n_parameters(mixture) reads d and kind from the mixture; pass d and kind only "
                                   "with the number of components m: n_parameters(m, d, kind)"),
    "n_parameters m alone": (lambda: emlib.n_parameters(3), TypeError,
                             "n_parameters(m, d, kind) needs all three; or pass the fitted mixture: n_parameters(mixture)"),
    "e_step_missing mixture features": (lambda: M.e_step_missing(np.array([[0.0, np.nan, 1.0], [1.0, 2.0, 3.0]]),
                                                                 mix2()),
                                        ValueError, "mixture has 2 feature(s) but X has 3"),
    "observed_logpdf mixture features": (lambda: M.observed_logpdf(np.array([[0.0, np.nan, 1.0], [1.0, 2.0, 3.0]]),
                                                                   mix2()),
                                         ValueError, "mixture has 2 feature(s) but X has 3"),
    "update_covariances means": (lambda: emlib.update_covariances(X4(), RESP, [0.0, 0.0]), ValueError,
                                 "means must be 2-dimensional, got shape (2,)"),
    "init_from_labels empty class": (lambda: emlib.init_from_labels(X4(), [0, 0, 1, 1], n_components=3), ValueError,
                                     "every class 0..2 needs at least one sample; classes [2] have none"),
    "m_step fixed_weights NaN": (lambda: emlib.m_step(X4(), RESP, fixed_weights=[np.nan, 1.0]), ValueError,
                                 "fixed_weights contains 1 NaN or infinite value(s); expected finite numbers."),
    "m_step fixed_weights negative": (lambda: emlib.m_step(X4(), RESP, fixed_weights=[-0.5, 1.5]), ValueError,
                                      "fixed_weights must be non-negative with a positive sum"),
    "m_step fixed_weights zero sum": (lambda: emlib.m_step(X4(), RESP, fixed_weights=[0.0, 0.0]), ValueError,
                                      "fixed_weights must be non-negative with a positive sum"),
    "m_step reg": (lambda: emlib.m_step(X4(), RESP, reg=-1.0), ValueError, "reg must be >= 0.0, got -1.0"),
    "m_step prior dimension": (lambda: emlib.m_step(X4(), RESP, prior=emlib.prior.Prior(scale=np.eye(3), dof=4.0)), ValueError,
                               "prior.scale must have shape (d, d) = (2, 2) for data with 2 feature(s), got (3, 3)"),
    "em X far out, in a later chunk": (lambda: emlib.em(np.array([[0.0], [1.0], [2.0], [3e154]]),
                                                        Mixture.univariate([1.0], [0.0], [1.0]), chunk_size=2),
                                       ValueError, "the density of sample X[3] is not representable even in log "
                                                   "space (its values are too large for float64 arithmetic); rescale X"),
    "covariances zero": (lambda: Mixture([1.0], [[0.0, 0.0]], [np.zeros((2, 2))]), ValueError,
                         "covariances must be positive definite; components [0] are not (smallest eigenvalues [0.0]). "
                         "If they came from a collapsed component, increase reg or set min_weight to trim it."),
    "covariances too small to invert": (lambda: Mixture([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[1e-320]]]),
                                        ValueError,
                                        "covariances must be invertible in float64; components [1] have variances too "
                                        "small (smallest eigenvalues [1e-320]). If they came from a collapsed "
                                        "component, increase reg or set min_weight to trim it."),
    "resp empty": (lambda: emlib.update_weights(np.zeros((0, 2))), ValueError,
                   "resp must have at least one row (sample), got shape (0, 2)"),
    "X 1-D where 2-D is needed": (lambda: emlib._validation.check_data(np.zeros(3), allow_1d=False), ValueError,
                                  "X must be 2-dimensional, got shape (3,)"),
    "spherical off-diagonal": (lambda: Mixture([1.0], [[0, 0]], [[[1, 0.1], [0.1, 1]]], "spherical"), ValueError,
                               "covariances must be diagonal for kind='spherical', got off-diagonal entries up to 0.1; "
                               "use kind='full' for correlated features"),
    "spherical unequal variances": (lambda: Mixture([1.0], [[0, 0]], [[[1, 0], [0, 2]]], "spherical"), ValueError,
                                    "covariances must be sigma_k^2 I (equal diagonal entries) for kind='spherical'; "
                                    "use kind='diag' for one variance per feature"),
    "tied unequal": (lambda: Mixture([0.5, 0.5], [[0, 0], [1, 1]], [np.eye(2), 2 * np.eye(2)], "tied"), ValueError,
                     "covariances must be one matrix shared by every component for kind='tied'; "
                     "use kind='full' for one matrix per component"),
    "covariances asymmetric in a small component": (
        lambda: Mixture([0.5, 0.5], [[0, 0], [1, 1]], [np.eye(2), [[1e-6, 1e-13], [0, 1e-6]]]), ValueError,
        "covariances[1] is not symmetric (relative asymmetry 1e-07); expected symmetric positive definite matrices"),
    "fit_with_holes m": (lambda: M.fit_with_holes(XHOLES, 0, "drop rows"), ValueError, "m must be >= 1, got 0"),
    "fit_with_holes n_starts": (lambda: M.fit_with_holes(XHOLES, 1, "drop rows", n_starts=0), ValueError,
                                "n_starts must be >= 1, got 0"),
    "fit_with_holes method": (lambda: M.fit_with_holes(XHOLES, 1, "impute"), ValueError,
                              "method must be one of 'drop rows', 'mean imputation', 'EM with missing features'; "
                              "got 'impute'"),
    "compare_quick_fixes truth": (lambda: M.compare_quick_fixes(X4(), X4(), "truth"), TypeError,
                                  "truth must be an emlib.Mixture, got str"),
}


@pytest.mark.parametrize("case", DOOR)
def test_each_check_at_the_door_names_its_argument(case):
    """The whole message: the argument, what it must be, and what came (a message ending in '...' is a prefix)."""
    call_, exc, message = DOOR[case]
    with pytest.raises(exc) as info:
        call_()
    if message.endswith("..."):
        assert str(info.value).startswith(message[:-3]), str(info.value)
    else:
        assert str(info.value) == message


def test_every_door_case_is_accepted_once_the_argument_is_good():
    """The table's good values are good: the checks above fail for the bad argument alone."""
    np.testing.assert_array_equal(emlib.update_weights([[1 + 1e-12, -1e-12]]), [1 + 1e-12, -1e-12])  # within 1e-12
    Mixture(**GOOD_MIXTURE)
    em_with()()
    emlib.update_covariances(X4(), RESP, mix2().means)
    emlib.m_step(X4(), RESP, covariance="fixed", fixed_covariances=mix2().covariances, fixed_weights=[0.5, 0.5])
    emlib.init_from_labels(X4(), [0, 0, 1, 1], n_components=2)
    emlib.kmeans(X4(), X4()[:2])
    emlib.trim(mix2(), 0.5)
    M.m_step_missing(RESP, XHAT, CCOV, covariance="fixed", fixed_covariances=mix2().covariances,
                     sample_weight=np.ones(4))
    M.conditional_gaussian([0.0, np.nan], [0.0, 0.0], np.eye(2))
    near = Mixture([0.5, 0.5], [[0.0, 0.0], [1.0, 2.0]], [np.eye(2), np.eye(2)])
    emlib.em_missing(np.array([[0.0, np.nan], [np.nan, np.nan], [1.0, 2.0], [0.5, 1.0]]), near, max_iter=2,
                     sample_weight=[1.0, 1.0, 0.0, 1.0])
    mix2().subset([1])


def call(fn, names, *args, **kwargs):
    """Call fn; a refusal must be a ValueError/TypeError whose message names one of ``names``."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except ALLOWED as exc:
        message = str(exc)
        assert any(re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", message) for name in names), (
            f"{getattr(fn, '__name__', fn)} refused a bad {names[0]} with a message that names none of {names}: "
            f"{type(exc).__name__}: {message}")
        return None


settings.register_profile("bad-input", parent=settings.get_profile("course"), max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# The arguments a message may name when one argument is bad: itself, or the one
# whose shape it must agree with (means of the wrong width make the
# covariances the wrong shape "(m, d, d) = ...").
MIXTURE_BLAME = {"weights": ("weights",), "means": ("means", "covariances"),
                 "covariances": ("covariances",)}


@settings.get_profile("bad-input")
@given(which=st.sampled_from(sorted(MIXTURE_BLAME)), value=junk)
def test_mixture_constructor_names_the_bad_argument(which, value):
    out = call(Mixture, MIXTURE_BLAME[which], **{**GOOD_MIXTURE, which: value})
    event("accepted" if out is not None else "refused")


@st.composite
def problem(draw):
    n = draw(st.integers(4, 12))
    d = draw(st.integers(1, 3))
    m = draw(st.integers(1, 3))
    X = draw(arrays(np.float64, (n, d), elements=st.floats(-10, 10)))
    mu = draw(arrays(np.float64, (m, d), elements=st.floats(-10, 10)))
    var = draw(arrays(np.float64, (m,), elements=st.floats(1e-2, 1e3)))
    mix = Mixture(np.full(m, 1 / m), mu, var[:, None, None] * np.eye(d))
    return X, mix


# em with one bad argument: what its message may name. A bad X can also leave a
# component with no sample (the collapse message names the remedy min_weight).
EM_BAD = {
    "X": (st.one_of(junk, arrays(np.float64, (5, 2), elements=floats)), ("X", "init", "min_weight")),
    "covariance": (st.text(max_size=5).filter(lambda s: s not in emlib.COVARIANCE_KINDS), ("covariance",)),
    "max_iter": (st.one_of(st.integers(-3, -1), st.floats(-1, 3), st.none(), st.text(max_size=2)), ("max_iter",)),
    "tol": (st.one_of(st.floats(allow_nan=True), st.none(), st.text(max_size=2)), ("tol",)),
    "reg": (st.one_of(st.floats(-1, 0, exclude_max=True), st.just(np.nan), st.text(max_size=2)), ("reg",)),
    "min_weight": (st.one_of(st.floats(-1, 0, exclude_max=True), st.floats(1, 2), st.just(np.inf)), ("min_weight",)),
    "sample_weight": (junk, ("sample_weight",)),
    "callback": (st.one_of(st.integers(), st.text(max_size=2)), ("callback",)),
}


@settings.get_profile("bad-input")
@given(p=problem(), which=st.sampled_from(sorted(EM_BAD)), data=st.data())
def test_em_names_the_bad_argument(p, which, data):
    X, mix = p
    strategy, names = EM_BAD[which]
    value = data.draw(strategy, label=which)
    kwargs = {**GOOD_EM, "min_weight": 1e-3, "max_iter": 3}
    if which == "X":
        X = value
    else:
        kwargs[which] = value
    result = call(emlib.em, names, X, mix, **kwargs)
    event("em ran" if result is not None else "em refused")
    if result is not None:
        assert which in ("X", "tol", "sample_weight"), f"em accepted {which}={value!r}"
        assert np.all(np.isfinite(result.loglik))
        assert np.all(np.isfinite(result.mixture.means))


@settings.get_profile("bad-input")
@given(p=problem(), resp=junk, kind=kinds)
def test_steps_name_the_bad_argument(p, resp, kind):
    X, mix = p
    resp_names = ("resp", "component")             # a column of zeros is a collapsed component
    out = call(emlib.e_step, ("X",), X, mix)
    if out is not None:
        assert np.all(np.isfinite(out[0])) and np.isfinite(out[1])
    call(emlib.update_weights, resp_names, resp)
    call(emlib.update_means, resp_names, X, resp)
    good = np.full((X.shape[0], mix.n_components), 1 / mix.n_components)
    call(emlib.m_step, ("covariance",), X, good, covariance=kind)
    call(emlib.update_covariances, ("covariance",), X, good, mix.means, kind)


@settings.get_profile("bad-input")
@given(p=problem(), m=st.one_of(st.integers(-1, 14), st.floats(0, 3), st.text(max_size=2)),
       labels=junk, seed=st.one_of(st.integers(0, 10), st.text(max_size=2), st.floats(0, 1)))
def test_inits_kmeans_and_selection_name_the_bad_argument(p, m, labels, seed):
    X, mix = p
    call(emlib.init_from_data, ("m",), X, m, 0)
    call(emlib.init_kmeans_pp, ("m",), X, m, 0)
    call(emlib.init_from_data, ("rng",), X, 1, seed)
    call(emlib.init_from_labels, ("labels", "every class"), X, labels)
    call(emlib.kmeans, ("init_means",), X, labels)
    call(emlib.n_parameters, ("m",), m, 2, "full")
    call(emlib.trim, ("min_weight",), mix, m)
    call(mix.sample, ("n",), m, 0)
    call(mix.sample, ("rng",), 2, seed)
    call(mix.logpdf, ("X",), labels)
    est = emlib.GaussianMixtureEM(m, random_state=0, max_iter=5)
    call(est.fit, ("n_components",), X)


def test_a_zero_total_weight_component_never_gives_nan():
    X = np.array([[0.0], [0.1], [5.0]])
    init = emlib.Mixture.univariate([0.5, 0.25, 0.25], [0.0, 5.0, 1e9], [1.0, 1.0, 1e-6])
    with pytest.raises(ValueError, match="reg.*min_weight|min_weight"):
        emlib.em(X, init)
    result = emlib.em(X, init, min_weight=1e-3)
    assert result.mixture.n_components == 2 and np.all(np.isfinite(result.loglik))


def test_the_bounds_of_check_int_and_check_data_are_inclusive():
    from emlib._validation import check_data, check_int
    assert check_int(4, "m", minimum=1, maximum=4) == 4
    with pytest.raises(ValueError, match=r"^m must be <= 4, got 5$"):
        check_int(5, "m", minimum=1, maximum=4)
    assert check_data(np.zeros((1, 3)), allow_1d=False).shape == (1, 3)
