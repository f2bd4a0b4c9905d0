"""Choosing the model: trimming small components, and BIC / AIC.

The lecture's summary: EM does well when the assumed model is right, badly
when it is wrong, in particular with the wrong number of components m.
Information criteria trade the log-likelihood against the parameter count:

    BIC = -2 l(theta) + p ln n,     AIC = -2 l(theta) + 2 p   (lower is better)
"""

from __future__ import annotations

import numpy as np

from ._validation import check_covariance_kind, check_data, check_float, check_int
from .mixture import Mixture


def trim(mixture: Mixture, min_weight: float) -> Mixture:
    """Drop the components whose weight rho_k is below ``min_weight``; renormalise the rest.

    Parameters
    ----------
    mixture : Mixture with m components
    min_weight : float in [0, 1)

    Returns
    -------
    Mixture with the m' <= m components of weight >= min_weight
    """
    if not isinstance(mixture, Mixture):
        raise TypeError(f"mixture must be an emlib.Mixture, got {type(mixture).__name__}")
    min_weight = check_float(min_weight, "min_weight", minimum=0.0)
    if min_weight >= 1:
        raise ValueError(f"min_weight must be < 1, got {min_weight}")
    keep = np.flatnonzero(mixture.weights >= min_weight)
    if keep.size == 0:
        raise ValueError(f"min_weight={min_weight} is above every weight (largest "
                         f"{mixture.weights.max():.3g}); nothing would be left")
    return mixture.subset(keep)


def n_parameters(m, d, covariance: str = "full") -> int:
    """The number of free parameters of a mixture of m Gaussians in d dimensions.

    (m - 1) weights + m d means + the covariance parameters:
    full m d (d + 1) / 2, diag m d, spherical m, tied d (d + 1) / 2, fixed 0.
    The same counts as scikit-learn's GaussianMixture.
    """
    m = check_int(m, "m", minimum=1)
    d = check_int(d, "d", minimum=1)
    kind = check_covariance_kind(covariance)
    cov = {"full": m * d * (d + 1) // 2, "diag": m * d, "spherical": m,
           "tied": d * (d + 1) // 2, "fixed": 0}[kind]
    return (m - 1) + m * d + cov


def _loglik_and_p(X, mixture, covariance):
    X = check_data(X)
    if not isinstance(mixture, Mixture):
        raise TypeError(f"mixture must be an emlib.Mixture, got {type(mixture).__name__}")
    return X.shape[0], mixture.loglik(X), n_parameters(mixture.n_components, mixture.n_features, covariance)


def bic(X, mixture: Mixture, covariance: str = "full") -> float:
    """Bayesian information criterion -2 l(theta) + p ln n (lower is better).

    Parameters
    ----------
    X : array-like of shape (n, d)
    mixture : Mixture
    covariance : the kind that was fitted (it sets the parameter count p)
    """
    n, ll, p = _loglik_and_p(X, mixture, covariance)
    return -2.0 * ll + p * np.log(n)


def aic(X, mixture: Mixture, covariance: str = "full") -> float:
    """Akaike information criterion -2 l(theta) + 2 p (lower is better)."""
    n, ll, p = _loglik_and_p(X, mixture, covariance)
    return -2.0 * ll + 2.0 * p
