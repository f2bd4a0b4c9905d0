"""Choosing the model: trimming small components, and BIC / AIC.

The lecture's summary: EM does well when the assumed model is right, badly
when it is wrong, in particular with the wrong number of components m.
Information criteria trade the log-likelihood against the parameter count:

    BIC = -2 l(theta) + p ln n,     AIC = -2 l(theta) + 2 p   (lower is better)
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validation import check_covariance_kind, check_data, check_float, check_int, check_mixture
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
    check_mixture(mixture)
    min_weight = check_float(min_weight, "min_weight", minimum=0.0)
    if min_weight >= 1:
        raise ValueError(f"min_weight must be < 1, got {min_weight}")
    keep = np.flatnonzero(mixture.weights >= min_weight)
    if keep.size == 0:
        raise ValueError(f"min_weight={min_weight} is above every weight (largest "
                         f"{mixture.weights.max():.3g}); nothing would be left")
    return mixture.subset(keep)


COVARIANCE_PARAMETERS = {
    "full": lambda m, d: m * d * (d + 1) // 2,
    "diag": lambda m, d: m * d,
    "spherical": lambda m, d: m,
    "tied": lambda m, d: d * (d + 1) // 2,
    "fixed": lambda m, d: 0,
}
"""The number of free covariance parameters of each kind, for m components in d dimensions."""


def n_parameters(model, d: int | None = None, kind: str | None = None) -> int:
    """The number of free parameters p of a mixture: ``n_parameters(mixture)`` or ``n_parameters(m, d, kind)``.

    (m - 1) weights + m d means + the covariance parameters:
    full m d (d + 1) / 2, diag m d, spherical m, tied d (d + 1) / 2, fixed 0
    (the same counts as scikit-learn's GaussianMixture).

    Parameters
    ----------
    model : Mixture, or a fit result with a ``mixture`` (its kind is read from
        the mixture), or the number of components m
    d : int, the dimension, only with m
    kind : {"full", "diag", "spherical", "tied", "fixed"}, only with m (required:
        a default could silently count the wrong kind)
    """
    counting = d is not None or kind is not None or (isinstance(model, numbers.Integral) and not isinstance(model, bool))
    if counting:                                    # n_parameters(m, d, kind)
        if isinstance(getattr(model, "mixture", model), Mixture):
            raise TypeError("n_parameters(mixture) reads d and kind from the mixture; pass d and kind only with the "
                            "number of components m: n_parameters(m, d, kind)")
        m = check_int(model, "m", minimum=1)
        if d is None or kind is None:
            raise TypeError("n_parameters(m, d, kind) needs all three; or pass the fitted mixture: n_parameters(mixture)")
        d = check_int(d, "d", minimum=1)
        kind = check_covariance_kind(kind, "kind")
    else:                                           # n_parameters(mixture)
        mixture = _mixture_of(model)
        m, d, kind = mixture.n_components, mixture.n_features, mixture.kind
    return (m - 1) + m * d + COVARIANCE_PARAMETERS[kind](m, d)


def _mixture_of(model) -> Mixture:
    """A Mixture, or the ``mixture`` of a fit result (EMResult, ...)."""
    return check_mixture(getattr(model, "mixture", model), name="model",
                         hint="emlib.em(...), or its .mixture")


def _loglik_and_p(X, model):
    X = check_data(X)
    mixture = _mixture_of(model)
    return X.shape[0], mixture.loglik(X), n_parameters(mixture)


def bic(X, model) -> float:
    """Bayesian information criterion -2 l(theta) + p ln n (lower is better).

    Parameters
    ----------
    X : array-like of shape (n, d)
    model : Mixture or a fit result (EMResult); the parameter count p comes
        from its covariance kind (``mixture.kind``)
    """
    n, ll, p = _loglik_and_p(X, model)
    return -2.0 * ll + p * np.log(n)


def aic(X, model) -> float:
    """Akaike information criterion -2 l(theta) + 2 p (lower is better); ``model`` as in :func:`bic`."""
    n, ll, p = _loglik_and_p(X, model)
    return -2.0 * ll + 2.0 * p
