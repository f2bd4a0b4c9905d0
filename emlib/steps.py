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

from dataclasses import dataclass

from ._validation import (
    as_float_array,
    check_covariance_kind,
    check_data,
    check_finite,
    check_float,
    check_mixture,
    check_responsibilities,
    check_sample_weight,
)
from .mixture import Mixture, logsumexp_rows
from .prior import Prior, check_prior

# A component whose total responsibility sum_i E[z_i^(k)] is below this many
# samples' worth has collapsed: its mean would be 0/0.
COLLAPSE_THRESHOLD = 10 * np.finfo(np.float64).eps


COLLAPSE_REMEDY = ("Use fewer components, a different initialisation, a larger reg, or set min_weight "
                   "to trim such components during training.")


def check_collapse(nk: np.ndarray, remedy: str = COLLAPSE_REMEDY) -> np.ndarray:
    """N_k = sum_i E[z_i^(k)], shape (m,), returned as it is unless a component collapsed.

    The one collapse check of emlib: every M-step (readable, fast, missing
    data, histogram, motion layers) divides by N_k through here; ``remedy``
    says what the caller's user can do about it.
    """
    dead = np.flatnonzero(nk < COLLAPSE_THRESHOLD)
    if dead.size:
        raise ValueError(f"component(s) {dead.tolist()} received zero total responsibility (they collapsed: "
                         f"no sample belongs to them). {remedy}")
    return nk


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
    check_mixture(mixture)
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
    nk = check_collapse(resp.sum(axis=0))
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
    if kind not in ESTIMATED_KINDS:
        raise ValueError(f"covariance={kind!r} keeps the covariances as they are; there is nothing to update "
                         "(m_step takes them through fixed_covariances)")
    reg = check_float(reg, "reg", minimum=0.0)
    m, d = resp.shape[1], X.shape[1]
    means = as_float_array(means, "means", 2)
    if means.shape != (m, d):
        raise ValueError(f"means must have shape (m, d) = ({m}, {d}), got {means.shape}")
    nk = check_collapse(resp.sum(axis=0))
    return covariances_from_scatter(scatter_around(X, resp, means), nk, kind, reg)


# --- the covariance of each kind, from N_k and the scatter matrices -----------------------------
# S_k = sum_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T, shape (m, d, d); N_k, shape (m,).

def covariances_full(scatter: np.ndarray, nk: np.ndarray) -> np.ndarray:
    """full: Sigma_k = S_k / N_k, shape (m, d, d)."""
    return scatter / nk[:, None, None]


def covariances_diag(scatter: np.ndarray, nk: np.ndarray) -> np.ndarray:
    """diag: the diagonal of S_k / N_k (features independent within a component), shape (m, d, d)."""
    d = scatter.shape[1]
    return np.diagonal(scatter, axis1=1, axis2=2)[:, :, None] * np.eye(d) / nk[:, None, None]


def covariances_spherical(scatter: np.ndarray, nk: np.ndarray) -> np.ndarray:
    """spherical: sigma_k^2 I with sigma_k^2 = trace(S_k) / (d N_k), shape (m, d, d)."""
    d = scatter.shape[1]
    return (np.trace(scatter, axis1=1, axis2=2) / (d * nk))[:, None, None] * np.eye(d)


def covariances_tied(scatter: np.ndarray, nk: np.ndarray) -> np.ndarray:
    """tied: one Sigma = sum_k S_k / sum_k N_k shared by all m components, shape (m, d, d)."""
    return np.broadcast_to(scatter.sum(axis=0) / nk.sum(), scatter.shape)


COVARIANCE_UPDATES = {"full": covariances_full, "diag": covariances_diag,
                      "spherical": covariances_spherical, "tied": covariances_tied}
"""The M-step rule of each estimated covariance kind: (scatter (m, d, d), N_k (m,)) -> Sigma (m, d, d).

Every M-step of emlib (the readable :func:`m_step`, the fast pass of
:mod:`emlib.suffstats`, EM with missing features) looks the kind up here. A
new kind is one function and one entry here (and its parameter count in
:func:`emlib.n_parameters`)."""

ESTIMATED_KINDS = tuple(COVARIANCE_UPDATES)


def covariances_from_scatter(scatter: np.ndarray, nk: np.ndarray, covariance: str, reg: float) -> np.ndarray:
    """Sigma_k of the given kind from S_k and N_k, plus ``reg`` on every diagonal entry, shape (m, d, d).

    ``reg`` (scikit-learn's ``reg_covar``) keeps a component that sits on a
    single point from becoming singular.
    """
    return COVARIANCE_UPDATES[covariance](scatter, nk) + reg * np.eye(scatter.shape[1])


def scatter_around(X: np.ndarray, resp: np.ndarray, means: np.ndarray) -> np.ndarray:
    """S_k = sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T for X (n, d), r (n, m), means (m, d); shape (m, d, d)."""
    diff = X[:, None, :] - means[None, :, :]                              # (n, m, d)
    return np.einsum("nka,nkb->kab", resp[:, :, None] * diff, diff)      # two operands: one fast contraction


@dataclass(frozen=True)
class Moments:
    """What every M-step needs: N_k (m,), the means mu_k (m, d) and the scatter S_k (m, d, d).

    The readable path (:func:`moments`), the fast pass
    (:meth:`emlib.suffstats.SufficientStatistics.moments`) and EM with
    missing features all reduce the data to these; :func:`mixture_from_moments`
    turns them into parameters. With ``diagonal_only`` the scatter holds only
    its diagonal (enough for the "diag", "spherical" and "fixed" kinds).
    """

    nk: np.ndarray
    means: np.ndarray
    scatter: np.ndarray
    diagonal_only: bool = False


def moments(X: np.ndarray, resp: np.ndarray, sample_weight: np.ndarray | None = None) -> Moments:
    """N_k = sum_i w_i E[z_i^(k)], mu_k = sum_i w_i E[z_i^(k)] x_i / N_k and S_k around mu_k (w_i = 1 by default).

    Parameters
    ----------
    X : array of shape (n, d), validated
    resp : array of shape (n, m), validated
    sample_weight : array of shape (n,) or None, validated
    """
    r = resp if sample_weight is None else resp * sample_weight[:, None]
    nk = check_collapse(r.sum(axis=0))
    means = (r.T @ X) / nk[:, None]
    return Moments(nk, means, scatter_around(X, r, means))


def mixture_from_moments(mom: Moments, covariance: str, reg: float, *, fixed_covariances=None,
                         fixed_weights=None, prior: Prior | None = None) -> Mixture:
    """The M-step from N_k, mu_k and S_k: rho_k = N_k / sum_j N_j, mu_k, and the kind's Sigma_k.

    With a ``prior`` (MAP-EM, :class:`emlib.Prior`) the prior enters as
    pseudo-observations and the same rules give the MAP M-step:

        rho_k   = (N_k + alpha - 1) / (n + m (alpha - 1))
        Sigma_k = the kind's rule (COVARIANCE_UPDATES) applied to S_k + Psi and N_k + nu + d + 1
                  (full: (S_k + Psi) / (N_k + nu + d + 1)).

    Parameters
    ----------
    mom : Moments of m components
    covariance : {"full", "diag", "spherical", "tied", "fixed"}
    reg : float >= 0, added to the covariance diagonals (not to fixed ones)
    fixed_covariances : array of shape (m, d, d), kept as they are for "fixed"
    fixed_weights : array of shape (m,) or None: hold the weights at these
        values (renormalised to sum 1) instead of N_k / n
    prior : Prior or None (validated)

    Returns
    -------
    Mixture of kind ``covariance``
    """
    nk = check_collapse(mom.nk)
    if covariance in ("full", "tied") and mom.diagonal_only:
        raise ValueError(f"internal: covariance={covariance!r} needs the full scatter matrices")
    # ML: rho_k = N_k / n and the kind's rule on (S_k, N_k); MAP: the same with the prior's pseudo-observations
    weights = nk / nk.sum() if prior is None else prior.weights(nk)
    scatter, counts = (mom.scatter, nk) if prior is None else (prior.scatter(mom.scatter), prior.counts(nk))
    cov = fixed_covariances if covariance == "fixed" else covariances_from_scatter(scatter, counts, covariance, reg)
    if fixed_weights is not None:
        weights = fixed_weights / fixed_weights.sum()
    return Mixture(weights, mom.means, cov, covariance)


def m_step(X, resp, *, covariance: str = "full", reg: float = 1e-6, sample_weight=None,
           fixed_covariances=None, fixed_weights=None, prior: Prior | None = None) -> Mixture:
    """M-step: theta^(t+1) = argmax_theta Q(theta | theta^(t)).

    Given the responsibilities of the E-step, the weights, the means and the
    covariances around the new means: the formulas of :func:`update_weights`,
    :func:`update_means` and :func:`update_covariances`, with every sample
    counted w_i times when ``sample_weight`` is given (EM on a histogram):

        N_k = sum_i w_i E[z_i^(k)],   rho_k = N_k / sum_j N_j,
        mu_k = sum_i w_i E[z_i^(k)] x_i / N_k,
        Sigma_k from S_k = sum_i w_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T (see COVARIANCE_UPDATES).

    Parameters
    ----------
    X : array-like of shape (n, d)
    resp : array-like of shape (n, m)
    covariance : {"full", "diag", "spherical", "tied", "fixed"}
        "fixed" keeps ``fixed_covariances`` (the slide's known-variance case).
    reg : float >= 0, added to the covariance diagonals
    sample_weight : array-like of shape (n,) or None, non-negative weights w_i
    fixed_covariances : array-like of shape (m, d, d), required for "fixed"
    fixed_weights : array-like of shape (m,), optional: hold the weights at
        these values instead of updating them (the k-means limit).
    prior : emlib.Prior or None. With a prior, the MAP M-step:
        argmax_theta Q(theta | theta^(t)) + ln p(theta) (see :mod:`emlib.prior`).

    Returns
    -------
    Mixture of kind ``covariance``
    """
    X, resp = _check_X_resp(X, resp)
    prior = check_prior(prior, X.shape[1])
    kind = check_covariance_kind(covariance)
    reg = check_float(reg, "reg", minimum=0.0)
    w = check_sample_weight(sample_weight, X.shape[0])
    m, d = resp.shape[1], X.shape[1]
    fixed_covariances, fixed_weights = check_fixed_parts(kind, m, d, fixed_covariances, fixed_weights)
    return mixture_from_moments(moments(X, resp, w), kind, reg, fixed_covariances=fixed_covariances,
                                fixed_weights=fixed_weights, prior=prior)


def check_fixed_parts(kind: str, m: int, d: int, fixed_covariances, fixed_weights):
    """Validate the parts an M-step keeps: covariances (m, d, d) for "fixed", weights (m,) or None."""
    if kind == "fixed":
        if fixed_covariances is None:
            raise ValueError("covariance='fixed' needs fixed_covariances, the (m, d, d) covariances to keep")
        fixed_covariances = as_float_array(fixed_covariances, "fixed_covariances", 3)
        if fixed_covariances.shape != (m, d, d):
            raise ValueError(f"fixed_covariances must have shape ({m}, {d}, {d}), got {fixed_covariances.shape}")
    if fixed_weights is not None:
        fixed_weights = as_float_array(fixed_weights, "fixed_weights", 1)
        if fixed_weights.shape != (m,):
            raise ValueError(f"fixed_weights must have shape ({m},), got {fixed_weights.shape}")
        check_finite(fixed_weights, "fixed_weights")
        if np.any(fixed_weights < 0) or not fixed_weights.sum() > 0:
            raise ValueError("fixed_weights must be non-negative with a positive sum")
    return fixed_covariances, fixed_weights


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



def responsibility_entropy(resp) -> float:
    """H(q) = -sum_i sum_k q_ik ln q_ik, the entropy of a distribution q over the hidden indicators.

    Parameters
    ----------
    resp : array-like of shape (n, m), rows summing to 1 (0 ln 0 counts as 0)

    Returns
    -------
    float >= 0
    """
    q = check_responsibilities(resp)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.sum(np.where(q > 0, q * np.log(q), 0.0)))


def free_energy(X, resp, mixture: Mixture) -> float:
    """F(q, theta) = E_q[ln p(X, Z | theta)] + H(q) for any distribution q over the indicators.

        F(q, theta) = sum_i sum_k q_ik [ln rho_k + ln N(x_i | mu_k, Sigma_k)] - sum_i sum_k q_ik ln q_ik
                    = l(theta) - KL(q || p(Z | X, theta)) <= l(theta)

    EM is coordinate ascent on F: the E-step maximises it over q (q = the
    posterior, the bound becomes tight: F = l(theta^(t))), the M-step over
    theta with q fixed (only the first term depends on theta: that is Q).

    Parameters
    ----------
    X : array-like of shape (n, d)
    resp : array-like of shape (n, m), q_ik, rows summing to 1
    mixture : Mixture with m components, theta

    Returns
    -------
    float
    """
    return expected_complete_loglik(X, resp, mixture) + responsibility_entropy(resp)
