"""The lecture's formulas, one function each: the E-step and the M-step.

These are the readable versions, written as the slides write them. The EM
loop in :mod:`emlib.em` runs a fused, chunked fast path
(:mod:`emlib.suffstats`) that computes the same numbers; the tests hold the
two together.

Notation (as in the slides): n samples x_i, m components, weights rho_k,
means mu_k, covariances Sigma_k, hidden indicators z_i^(k), and the
responsibilities E[z_i^(k)] = P(z_i^(k) = 1 | x_i, theta^(t)).
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_float_array,
    check_covariance_kind,
    check_data,
    check_float,
    check_responsibilities,
)
from .mixture import Mixture, logsumexp_rows

COLLAPSE_MESSAGE = (
    "component(s) {ks} received zero total responsibility (they collapsed: no sample belongs to them). "
    "Use fewer components, a different initialisation, a larger reg, or set min_weight to trim such "
    "components during training."
)

# A component whose total responsibility sum_i E[z_i^(k)] is below this many
# samples' worth has collapsed: its mean would be 0/0.
COLLAPSE_THRESHOLD = 10 * np.finfo(np.float64).eps


def e_step(X, mixture: Mixture) -> tuple[np.ndarray, float]:
    """E-step: the responsibilities E[z_i^(k)] and the log-likelihood.

        E[z_i^(k)] = rho_k N(x_i | mu_k, Sigma_k) / sum_j rho_j N(x_i | mu_j, Sigma_j)

    computed in log space (log-sum-exp), so that a point far from every mean,
    whose densities all underflow to 0 in floating point, still gets the
    right responsibilities instead of 0/0 = NaN.

    Parameters
    ----------
    X : array-like of shape (n, d)
    mixture : Mixture with m components

    Returns
    -------
    resp : array of shape (n, m), rows summing to 1
    loglik : float, l(theta) = sum_i ln sum_k rho_k N(x_i | mu_k, Sigma_k)
    """
    if not isinstance(mixture, Mixture):
        raise TypeError(f"mixture must be an emlib.Mixture, got {type(mixture).__name__}")
    log_joint = mixture.weighted_logpdf(X)          # (n, m): ln rho_k + ln N(x_i | k)
    log_px = logsumexp_rows(log_joint)              # (n,):   ln p(x_i | theta)
    if not np.all(np.isfinite(log_px)):
        bad = int(np.flatnonzero(~np.isfinite(log_px))[0])
        raise ValueError(f"the density of sample X[{bad}] is not representable even in log space "
                         "(its values are too large for float64 arithmetic); rescale X")
    resp = np.exp(log_joint - log_px[:, None])
    return resp, float(np.sum(log_px))


def _check_X_resp(X, resp):
    X = check_data(X)
    resp = check_responsibilities(resp, X.shape[0])
    return X, resp


def _total_responsibility(resp: np.ndarray) -> np.ndarray:
    """N_k = sum_i E[z_i^(k)], shape (m,); raises if a component collapsed."""
    nk = resp.sum(axis=0)
    dead = np.flatnonzero(nk < COLLAPSE_THRESHOLD)
    if dead.size:
        raise ValueError(COLLAPSE_MESSAGE.format(ks=dead.tolist()))
    return nk


def update_weights(resp) -> np.ndarray:
    """M-step for the mixing weights: rho_k = (1/n) sum_i E[z_i^(k)].

    Maximising Q over rho subject to sum_k rho_k = 1 with a Lagrange
    multiplier lambda: d/d rho_k [sum_i E[z_i^(k)] ln rho_k - lambda (sum_j rho_j - 1)] = 0
    gives rho_k = sum_i E[z_i^(k)] / lambda, and the constraint gives lambda = n.

    Parameters
    ----------
    resp : array-like of shape (n, m)

    Returns
    -------
    array of shape (m,), summing to 1
    """
    resp = check_responsibilities(resp)
    return resp.sum(axis=0) / resp.shape[0]


def update_means(X, resp) -> np.ndarray:
    """M-step for the means: mu_k = sum_i E[z_i^(k)] x_i / sum_i E[z_i^(k)].

    A weighted average of all samples, each weighted by the current
    probability that it belongs to component k.

    Parameters
    ----------
    X : array-like of shape (n, d)
    resp : array-like of shape (n, m)

    Returns
    -------
    array of shape (m, d)
    """
    X, resp = _check_X_resp(X, resp)
    nk = _total_responsibility(resp)
    return (resp.T @ X) / nk[:, None]


def update_covariances(X, resp, means, covariance: str = "full", reg: float = 1e-6) -> np.ndarray:
    """M-step for the covariances, for each covariance kind.

        full:       Sigma_k = sum_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T / sum_i E[z_i^(k)]
        diag:       the diagonal of the full Sigma_k (features independent within a component)
        spherical:  sigma_k^2 I with sigma_k^2 the average of that diagonal
        tied:       one Sigma shared by all: sum_k sum_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T / n

    and then ``reg`` is added to every diagonal entry (as scikit-learn's
    ``reg_covar``), which keeps a component that sits on a single point from
    becoming singular.

    Parameters
    ----------
    X : array-like of shape (n, d)
    resp : array-like of shape (n, m)
    means : array-like of shape (m, d), the means mu_k (usually the new ones)
    covariance : {"full", "diag", "spherical", "tied"}
    reg : float >= 0

    Returns
    -------
    array of shape (m, d, d): full matrices for every kind (diagonal ones for
    "diag" and "spherical", m equal ones for "tied").
    """
    X, resp = _check_X_resp(X, resp)
    kind = check_covariance_kind(covariance)
    if kind == "fixed":
        raise ValueError("covariance='fixed' keeps the covariances as they are; there is nothing to update "
                         "(m_step takes them through fixed_covariances)")
    reg = check_float(reg, "reg", minimum=0.0)
    m, d = resp.shape[1], X.shape[1]
    means = as_float_array(means, "means", 2)
    if means.shape != (m, d):
        raise ValueError(f"means must have shape (m, d) = ({m}, {d}), got {means.shape}")
    nk = _total_responsibility(resp)
    diff = X[:, None, :] - means[None, :, :]                              # (n, m, d)
    scatter = np.einsum("nk,nka,nkb->kab", resp, diff, diff)              # (m, d, d)
    eye = np.eye(d)
    if kind == "full":
        cov = scatter / nk[:, None, None]
    elif kind == "diag":
        cov = np.diagonal(scatter, axis1=1, axis2=2)[:, :, None] * eye / nk[:, None, None]
    elif kind == "spherical":
        var = np.trace(scatter, axis1=1, axis2=2) / (d * nk)
        cov = var[:, None, None] * eye
    else:  # tied
        cov = np.broadcast_to(scatter.sum(axis=0) / nk.sum(), (m, d, d))
    return cov + reg * eye


def m_step(X, resp, *, covariance: str = "full", reg: float = 1e-6,
           fixed_covariances=None, fixed_weights=None) -> Mixture:
    """M-step: theta^(t+1) = argmax_theta Q(theta | theta^(t)).

    Given the responsibilities of the E-step, update the weights
    (:func:`update_weights`), then the means (:func:`update_means`), then the
    covariances around the new means (:func:`update_covariances`).

    Parameters
    ----------
    X : array-like of shape (n, d)
    resp : array-like of shape (n, m)
    covariance : {"full", "diag", "spherical", "tied", "fixed"}
        "fixed" keeps ``fixed_covariances`` (the slide's known-variance case).
    reg : float >= 0, added to the covariance diagonals
    fixed_covariances : array-like of shape (m, d, d), required for "fixed"
    fixed_weights : array-like of shape (m,), optional: hold the weights at
        these values instead of updating them (the k-means limit).

    Returns
    -------
    Mixture
    """
    X, resp = _check_X_resp(X, resp)
    kind = check_covariance_kind(covariance)
    m, d = resp.shape[1], X.shape[1]
    if fixed_weights is None:
        weights = update_weights(resp)
    else:
        weights = as_float_array(fixed_weights, "fixed_weights", 1)
        if weights.shape != (m,):
            raise ValueError(f"fixed_weights must have shape ({m},), got {weights.shape}")
    means = update_means(X, resp)
    if kind == "fixed":
        if fixed_covariances is None:
            raise ValueError("covariance='fixed' needs fixed_covariances, the (m, d, d) covariances to keep")
        cov = as_float_array(fixed_covariances, "fixed_covariances", 3)
        if cov.shape != (m, d, d):
            raise ValueError(f"fixed_covariances must have shape ({m}, {d}, {d}), got {cov.shape}")
    else:
        cov = update_covariances(X, resp, means, kind, reg)
    return Mixture(weights, means, cov)


def expected_complete_loglik(X, resp, mixture: Mixture) -> float:
    """Q(theta | theta^(t)) = sum_i sum_k E[z_i^(k)] [ln rho_k + ln N(x_i | mu_k, Sigma_k)].

    ``resp`` holds E[z_i^(k)] computed at theta^(t); ``mixture`` is the theta
    at which Q is evaluated. Terms with E[z_i^(k)] = 0 contribute 0 (even
    when rho_k = 0).

    Parameters
    ----------
    X : array-like of shape (n, d)
    resp : array-like of shape (n, m)
    mixture : Mixture with m components

    Returns
    -------
    float
    """
    X, resp = _check_X_resp(X, resp)
    if resp.shape[1] != mixture.n_components:
        raise ValueError(f"resp has {resp.shape[1]} columns but the mixture has {mixture.n_components} components")
    log_joint = mixture.weighted_logpdf(X)
    terms = np.where(resp > 0, resp * np.where(np.isfinite(log_joint), log_joint, 0.0), 0.0)
    if np.any((resp > 0) & ~np.isfinite(log_joint)):
        return float("-inf")
    return float(np.sum(terms))

