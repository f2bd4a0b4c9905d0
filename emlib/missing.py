"""EM with missing features: the lecture's first use of EM.

A sample x_i may miss any subset of its features (NaN marks a missing
entry). Write o for the observed features of x_i and u for the missing ones.
EM treats the missing values as hidden variables, just like the component
indicators z_i^(k):

E-step, for every sample i and component k:

- the responsibility comes from the *marginal* of the observed part, which
  for a Gaussian is again a Gaussian (keep the rows and columns of o):

      E[z_i^(k)] = rho_k N(x_o | mu_o, Sigma_oo) / sum_j rho_j N(x_o | mu_j,o, Sigma_j,oo)

- the missing part, given the observed part and component k, is Gaussian
  with the conditional mean and covariance

      x_hat_u = mu_u + Sigma_uo Sigma_oo^{-1} (x_o - mu_o)
      C_uu    = Sigma_uu - Sigma_uo Sigma_oo^{-1} Sigma_ou

  (x_hat_o = x_o and C is zero in the observed rows and columns), so that

      E[x_i | x_o, k]         = x_hat_ik
      E[x_i x_i^T | x_o, k]   = x_hat_ik x_hat_ik^T + C_ik.

M-step: the complete-data formulas with x_i replaced by x_hat_ik and
x_i x_i^T by x_hat_ik x_hat_ik^T + C_ik (the conditional-covariance
correction, which keeps the filled-in values from shrinking Sigma_k):

      rho_k   = (1/n) sum_i E[z_i^(k)]
      mu_k    = sum_i E[z_i^(k)] x_hat_ik / sum_i E[z_i^(k)]
      Sigma_k = sum_i E[z_i^(k)] [(x_hat_ik - mu_k)(x_hat_ik - mu_k)^T + C_ik] / sum_i E[z_i^(k)]

Because the Gaussian log-density is linear in x and x x^T, these expected
sufficient statistics are all the M-step needs, for every covariance kind
("full", "diag", "spherical", "tied", "fixed"), and each iteration never
decreases the observed-data log-likelihood

      l(theta) = sum_i ln sum_k rho_k N(x_i,o | mu_k,o, Sigma_k,oo).

This module holds the readable formulas (:func:`conditional_gaussian`,
:func:`e_step_missing`, :func:`m_step_missing`) and the fast path used by
:func:`em_missing` and :func:`impute`: rows are grouped by their pattern of
missing features, so each pattern's conditional Gaussians are formed once per
component and applied to all its rows in a few matrix products; the fully
observed rows go through the chunked pass of :mod:`emlib.suffstats`, exactly
as in :func:`emlib.em`. Tests hold the readable and the fast versions together.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from ._validation import (
    as_float_array,
    check_covariance_kind,
    check_float,
    check_int,
    check_mixture,
    check_rng,
    check_sample_weight,
)
from .em import EMResult, check_em_arguments, fit_gaussian
from .mixture import LOG_2PI, Mixture, logsumexp_rows
from .steps import Moments, check_collapse, check_fixed_parts, mixture_from_moments
from .suffstats import SufficientStatistics, accumulate, is_diagonal

__all__ = [
    "check_data_missing", "conditional_gaussian", "e_step_missing", "em_missing", "impute",
    "m_step_missing", "mean_impute", "observed_logpdf", "observed_loglik", "posterior_missing",
    "MissingEMResult",
]


# --- the door ---------------------------------------------------------------------------------

def check_data_missing(X, name: str = "X", *, allow_1d: bool = True,
                       allow_empty_columns: bool = False) -> np.ndarray:
    """Validate a data matrix in which NaN marks a missing feature; return float64 of shape (n, d).

    Accepted: finite numbers and NaN. Refused, with a message naming ``name``:
    infinite values (they are not "missing", they are broken), non-numeric
    input, wrong dimensions, and, unless ``allow_empty_columns``, a feature
    (column) that is missing in every sample (nothing can be learnt about it
    when fitting; imputing with a given mixture is fine). Rows missing every
    feature are accepted; they carry no information.

    Parameters
    ----------
    X : array-like of shape (n, d), or (n,) read as n samples of one feature
    allow_empty_columns : bool, accept a column that is NaN everywhere

    Returns
    -------
    array of shape (n, d)
    """
    X = as_float_array(X, name, (1, 2) if allow_1d else 2)
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must have at least one sample and one feature, got shape {X.shape}")
    n_inf = int(np.count_nonzero(np.isinf(X)))
    if n_inf:
        raise ValueError(f"{name} contains {n_inf} infinite value(s); expected finite numbers, with NaN "
                         "marking a missing feature")
    empty = np.flatnonzero(np.all(np.isnan(X), axis=0))
    if empty.size and not allow_empty_columns:
        raise ValueError(f"{name} has feature column(s) {empty.tolist()} missing (NaN) in every sample; "
                         "nothing can be learnt about them: drop those columns")
    return X


# --- the readable formulas ----------------------------------------------------------------------

def conditional_gaussian(x, mean, cov) -> tuple[np.ndarray, np.ndarray]:
    """The missing part of one sample given its observed part, under one Gaussian N(mean, cov).

    With o the observed and u the missing (NaN) entries of x:

        x_hat_u = mu_u + Sigma_uo Sigma_oo^{-1} (x_o - mu_o)
        C_uu    = Sigma_uu - Sigma_uo Sigma_oo^{-1} Sigma_ou

    Parameters
    ----------
    x : array-like of shape (d,), NaN where a feature is missing
    mean : array-like of shape (d,), mu
    cov : array-like of shape (d, d), Sigma, symmetric positive definite

    Returns
    -------
    x_hat : array of shape (d,), x with its missing entries replaced by E[x_u | x_o]
    C : array of shape (d, d), Cov[x | x_o]: C_uu in the missing rows and
        columns, zero wherever an observed feature is involved
    """
    x = as_float_array(x, "x", 1)
    d = x.shape[0]
    mean = as_float_array(mean, "mean", 1)
    cov = as_float_array(cov, "cov", 2)
    if mean.shape != (d,) or cov.shape != (d, d):
        raise ValueError(f"mean must have shape ({d},) and cov ({d}, {d}) to match x, "
                         f"got {mean.shape} and {cov.shape}")
    if np.any(np.isinf(x)):
        raise ValueError("x contains an infinite value; expected finite numbers, with NaN marking a missing feature")
    u = np.isnan(x)
    o = ~u
    x_hat = x.copy()
    C = np.zeros((d, d))
    if not u.any():
        return x_hat, C
    S_uo, S_uu = cov[np.ix_(u, o)], cov[np.ix_(u, u)]
    if o.any():
        S_oo = cov[np.ix_(o, o)]
        B = np.linalg.solve(S_oo, S_uo.T).T                 # Sigma_uo Sigma_oo^{-1}, shape (|u|, |o|)
        x_hat[u] = mean[u] + B @ (x[o] - mean[o])
        C[np.ix_(u, u)] = S_uu - B @ S_uo.T
    else:                                                   # nothing observed: the prior itself
        x_hat[u] = mean[u]
        C[np.ix_(u, u)] = S_uu
    return x_hat, C


def _observed_gaussian_logpdf(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    """ln N(x_o | mu_o, Sigma_oo) for one sample; 0 when nothing is observed."""
    o = ~np.isnan(x)
    if not o.any():
        return 0.0
    S = cov[np.ix_(o, o)]
    L = np.linalg.cholesky(S)
    y = np.linalg.solve(L, x[o] - mean[o])
    return float(-0.5 * (o.sum() * LOG_2PI + 2 * np.sum(np.log(np.diag(L))) + y @ y))


def e_step_missing(X, mixture: Mixture) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """E-step with missing features, written sample by sample and component by component.

    For every sample i and component k:

        E[z_i^(k)] = rho_k N(x_i,o | mu_k,o, Sigma_k,oo) / sum_j rho_j N(x_i,o | mu_j,o, Sigma_j,oo)
        x_hat_ik, C_ik = conditional_gaussian(x_i, mu_k, Sigma_k)

    This is the readable version (a Python loop, memory n m d^2);
    :func:`em_missing` computes the same numbers pattern by pattern.

    Parameters
    ----------
    X : array-like of shape (n, d), NaN marks a missing feature
    mixture : Mixture with m components

    Returns
    -------
    resp : array of shape (n, m), E[z_i^(k)]; a sample with no observed
        feature gets the weights rho_k
    x_hat : array of shape (n, m, d), E[x_i | x_i,o, component k]
    cond_cov : array of shape (n, m, d, d), Cov[x_i | x_i,o, component k]
    loglik : float, the observed-data log-likelihood
        sum_i ln sum_k rho_k N(x_i,o | mu_k,o, Sigma_k,oo)
    """
    X = check_data_missing(X, allow_empty_columns=True)
    n, d = X.shape
    mixture = check_mixture(mixture, d)
    m = mixture.n_components
    log_joint = np.empty((n, m))
    x_hat = np.empty((n, m, d))
    cond_cov = np.empty((n, m, d, d))
    with np.errstate(divide="ignore"):
        log_w = np.log(mixture.weights)
    for i in range(n):
        for k in range(m):
            mu, S = mixture.means[k], mixture.covariances[k]
            log_joint[i, k] = log_w[k] + _observed_gaussian_logpdf(X[i], mu, S)
            x_hat[i, k], cond_cov[i, k] = conditional_gaussian(X[i], mu, S)
    log_px = logsumexp_rows(log_joint)
    resp = np.exp(log_joint - log_px[:, None])
    return resp, x_hat, cond_cov, float(log_px.sum())


def m_step_missing(resp, x_hat, cond_cov, *, covariance: str = "full", reg: float = 1e-6,
                   sample_weight=None, fixed_covariances=None) -> Mixture:
    """M-step with the expected sufficient statistics of the E-step.

        N_k     = sum_i w_i E[z_i^(k)]
        rho_k   = N_k / sum_j N_j
        mu_k    = sum_i w_i E[z_i^(k)] x_hat_ik / N_k
        Sigma_k = sum_i w_i E[z_i^(k)] [(x_hat_ik - mu_k)(x_hat_ik - mu_k)^T + C_ik] / N_k

    then the same constraints as :func:`emlib.update_covariances` for the
    other kinds (diag keeps the diagonal, spherical its average, tied pools
    all components) and ``reg`` on the diagonal. w_i = 1 without
    ``sample_weight``. Every sample given counts; leave out samples with no
    observed feature (they carry no information and would only pull the
    estimates back towards the previous parameters; :func:`em_missing`
    leaves them out).

    Parameters
    ----------
    resp : array-like of shape (n, m)
    x_hat : array-like of shape (n, m, d)
    cond_cov : array-like of shape (n, m, d, d)
    covariance : {"full", "diag", "spherical", "tied", "fixed"}
    reg : float >= 0
    sample_weight : array-like of shape (n,) or None
    fixed_covariances : array-like of shape (m, d, d), required for "fixed"

    Returns
    -------
    Mixture
    """
    resp = as_float_array(resp, "resp", 2)
    x_hat = as_float_array(x_hat, "x_hat", 3)
    cond_cov = as_float_array(cond_cov, "cond_cov", 4)
    n, m = resp.shape
    d = x_hat.shape[2]
    if x_hat.shape != (n, m, d) or cond_cov.shape != (n, m, d, d):
        raise ValueError(f"x_hat must have shape (n, m, d) = ({n}, {m}, d) and cond_cov (n, m, d, d); "
                         f"got {x_hat.shape} and {cond_cov.shape}")
    kind = check_covariance_kind(covariance)
    reg = check_float(reg, "reg", minimum=0.0)
    w = check_sample_weight(sample_weight, n)
    fixed_covariances, _ = check_fixed_parts(kind, m, d, fixed_covariances, None)
    r = resp if w is None else resp * w[:, None]                             # (n, m)
    nk = check_collapse(r.sum(axis=0))
    means = np.einsum("nk,nkd->kd", r, x_hat) / nk[:, None]
    diff = x_hat - means[None]                                              # (n, m, d)
    scatter = np.einsum("nk,nka,nkb->kab", r, diff, diff) + np.einsum("nk,nkab->kab", r, cond_cov)
    return mixture_from_moments(Moments(nk, means, scatter), kind, reg, fixed_covariances=fixed_covariances)


# --- the fast path: one pattern of missing features at a time -------------------------------------

@dataclass(frozen=True)
class _Pattern:
    """The rows that share one pattern of observed features."""

    rows: np.ndarray        # (n_p,) row indices
    obs: np.ndarray         # (q,)  observed feature indices
    mis: np.ndarray         # (r,)  missing feature indices


def _patterns(X: np.ndarray) -> list[_Pattern]:
    """Group the rows of X by their boolean pattern of observed entries (np.unique over mask rows)."""
    observed = ~np.isnan(X)
    uniq, inverse = np.unique(observed, axis=0, return_inverse=True)
    inverse = np.ravel(inverse)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(uniq.shape[0] + 1))
    return [_Pattern(rows=order[bounds[p]:bounds[p + 1]], obs=np.flatnonzero(uniq[p]),
                     mis=np.flatnonzero(~uniq[p]))
            for p in range(uniq.shape[0])]


def _pattern_e_step(Xo: np.ndarray, mixture: Mixture, obs: np.ndarray, mis: np.ndarray,
                    center: np.ndarray):
    """E-step for n_p rows sharing one pattern, all components at once, in centred coordinates.

    Parameters
    ----------
    Xo : (n_p, q) the observed values minus center[obs]
    obs, mis : observed and missing feature indices (q + r = d, q >= 1)
    center : (d,) the centring point c

    Returns
    -------
    log_joint : (n_p, m) ln rho_k + ln N(x_o | mu_k,o, Sigma_k,oo)
    xu : (m, n_p, r) x_hat_u - c_u for every component and row
    Cuu : (m, r, r) the conditional covariances (the same for every row of the pattern)
    """
    S = mixture.covariances
    mc = mixture.means - center                                           # (m, d)
    q = obs.size
    L = np.linalg.cholesky(S[:, obs][:, :, obs])                           # (m, q, q)
    Linv = np.linalg.solve(L, np.broadcast_to(np.eye(q), L.shape))       # L_k^{-1}
    diff = Xo[None, :, :] - mc[:, None, obs]                              # (m, n_p, q)
    y = diff @ np.swapaxes(Linv, 1, 2)                                    # rows L_k^{-1} (x_o - mu_o)
    log_det = 2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1)
    with np.errstate(divide="ignore"):
        log_w = np.log(mixture.weights)
    log_joint = log_w - 0.5 * (q * LOG_2PI + log_det + np.sum(y * y, axis=2).T)
    if mis.size == 0:
        return log_joint, None, None
    S_uo = S[:, mis][:, :, obs]                                           # (m, r, q)
    # B_k = Sigma_uo Sigma_oo^{-1} = (Sigma_uo L^{-T}) L^{-1}
    A = S_uo @ np.swapaxes(Linv, 1, 2)                                    # (m, r, q)
    xu = mc[:, None, mis] + y @ np.swapaxes(A, 1, 2)                      # mu_u + B (x_o - mu_o)
    Cuu = S[:, mis][:, :, mis] - A @ np.swapaxes(A, 1, 2)                 # Sigma_uu - B Sigma_ou
    return log_joint, xu, Cuu


def _normalise(log_joint: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    log_px = logsumexp_rows(log_joint)
    if not np.all(np.isfinite(log_px)):
        bad = int(rows[np.flatnonzero(~np.isfinite(log_px))[0]])
        raise ValueError(f"the density of the observed part of sample X[{bad}] is not representable even in "
                         "log space (its values are too large for float64 arithmetic); rescale X")
    return np.exp(log_joint - log_px[:, None]), log_px


class _Prepared:
    """Everything about X that does not change from one EM iteration to the next.

    Attributes: d; center (d,); X_full (rows with nothing missing) and their
    weights w_full; blocks, one (rows, obs, mis, centred observed values,
    weights) per pattern of missing features.
    """

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray | None):
        n, self.d = X.shape
        observed = ~np.isnan(X)
        full = np.all(observed, axis=1)
        if full.all():
            # exactly the centring of emlib.em, so that the iterates agree to the last bit
            self.center = X.mean(axis=0) if sample_weight is None else (sample_weight @ X) / sample_weight.sum()
        else:
            wt = np.ones(n) if sample_weight is None else sample_weight
            filled = np.where(observed, X, 0.0)
            self.center = (wt @ filled) / np.maximum(wt @ observed, np.finfo(float).tiny)
        self.X_full = X if full.all() else X[full]
        self.w_full = None if sample_weight is None else sample_weight[full]
        part = X[~full] - self.center
        rows_partial = np.flatnonzero(~full)
        self.blocks = []
        for p in _patterns(X[~full]):
            if p.obs.size == 0:
                continue
            wp = None if sample_weight is None else sample_weight[rows_partial[p.rows]]
            self.blocks.append((rows_partial[p.rows], p.obs, p.mis, part[np.ix_(p.rows, p.obs)], wp))


def _accumulate_missing(prep: _Prepared, mixture: Mixture, diagonal: bool,
                        chunk_size: int | None = None) -> SufficientStatistics:
    """One pass: the E-step for every pattern and the expected sufficient statistics.

    Returns the same :class:`emlib.suffstats.SufficientStatistics` as
    :func:`emlib.suffstats.accumulate`, with x_i replaced by x_hat_ik and
    x_i x_i^T by x_hat_ik x_hat_ik^T + C_ik, so the M-step is
    :func:`emlib.suffstats.mixture_from_stats`, unchanged.
    """
    d, m, c = prep.d, mixture.n_components, prep.center
    diagonal = diagonal and is_diagonal(mixture)
    if prep.X_full.shape[0]:
        st = accumulate(prep.X_full, mixture, center=c, diagonal=diagonal, sample_weight=prep.w_full,
                        chunk_size=chunk_size)
        nk, first, second, loglik = st.nk.copy(), st.first.copy(), st.second.copy(), st.loglik
    else:
        q2 = d if diagonal else d * (d + 1) // 2
        nk, first, second, loglik = np.zeros(m), np.zeros((m, d)), np.zeros((m, q2)), 0.0
    if prep.blocks:
        S2 = np.zeros((m, d) if diagonal else (m, d, d))
        for rows, obs, mis, Xo, wp in prep.blocks:
            log_joint, xu, Cuu = _pattern_e_step(Xo, mixture, obs, mis, c)
            r, log_px = _normalise(log_joint, rows)
            if wp is None:
                loglik += float(log_px.sum())
            else:
                loglik += float(wp @ log_px)
                r *= wp[:, None]
            npk = r.sum(axis=0)                                                # (m,)
            nk += npk
            first[:, obs] += r.T @ Xo
            first[:, mis] += np.einsum("nk,knu->ku", r, xu)
            if diagonal:
                S2[:, obs] += r.T @ (Xo * Xo)
                S2[:, mis] += np.einsum("nk,knu->ku", r, xu * xu) + npk[:, None] * np.diagonal(Cuu, axis1=1, axis2=2)
            else:
                rXo = np.swapaxes(r.T[:, :, None] * Xo[None], 1, 2)            # (m, q, n_p)
                oo = rXo @ Xo                                                    # sum_i r_ik x_o x_o^T
                ou = rXo @ xu                                                    # sum_i r_ik x_o x_hat_u^T
                uu = np.swapaxes(r.T[:, :, None] * xu, 1, 2) @ xu + npk[:, None, None] * Cuu
                S2[np.ix_(np.arange(m), obs, obs)] += oo
                S2[np.ix_(np.arange(m), obs, mis)] += ou
                S2[np.ix_(np.arange(m), mis, obs)] += np.swapaxes(ou, 1, 2)
                S2[np.ix_(np.arange(m), mis, mis)] += uu
        if diagonal:
            second += S2
        else:
            ia, ib = np.triu_indices(d)
            second += S2[:, ia, ib]
    return SufficientStatistics(nk=nk, first=first, second=second, loglik=loglik, center=c, diagonal=diagonal)


def _posterior_and_fill(X: np.ndarray, mixture: Mixture, want_var: bool):
    """Per row: P(c_k | x_o), ln p(x_o), E[x | x_o] and (optionally) Var[x_a | x_o], by pattern."""
    n, d = X.shape
    m = mixture.n_components
    resp = np.broadcast_to(mixture.weights, (n, m)).copy()     # rows with nothing observed: the prior
    log_px = np.zeros(n)
    filled = X.copy()
    var = np.zeros((n, d)) if want_var else None
    center = np.zeros(d)
    for p in _patterns(X):
        if p.obs.size == 0:
            filled[np.ix_(p.rows, p.mis)] = mixture.weights @ mixture.means
            if want_var:                                # the mixture's own marginal variance
                second = mixture.covariances[:, p.mis, p.mis] + mixture.means[:, p.mis] ** 2
                var[np.ix_(p.rows, p.mis)] = mixture.weights @ second - (mixture.weights @ mixture.means[:, p.mis]) ** 2
            continue
        log_joint, xu, Cuu = _pattern_e_step(X[np.ix_(p.rows, p.obs)], mixture, p.obs, p.mis, center)
        r, lp = _normalise(log_joint, p.rows)
        resp[p.rows], log_px[p.rows] = r, lp
        if p.mis.size:
            mean_u = np.einsum("nk,knu->nu", r, xu)                  # sum_k P(k | x_o) x_hat_ku
            filled[np.ix_(p.rows, p.mis)] = mean_u
            if want_var:
                # law of total variance: E_k[C_k + x_hat_k^2] - (E_k[x_hat_k])^2
                cdiag = np.diagonal(Cuu, axis1=1, axis2=2)           # (m, r)
                var[np.ix_(p.rows, p.mis)] = np.maximum(r @ cdiag + np.einsum("nk,knu->nu", r, xu ** 2)
                                                        - mean_u ** 2, 0.0)
    return resp, log_px, filled, var


# --- public helpers built on the fast path --------------------------------------------------------

def observed_logpdf(X, mixture: Mixture) -> np.ndarray:
    """ln p(x_i,o | theta) = ln sum_k rho_k N(x_i,o | mu_k,o, Sigma_k,oo) for every sample, shape (n,).

    A sample with no observed feature gets 0 (= ln 1: it says nothing).

    Parameters
    ----------
    X : array-like of shape (n, d), NaN marks a missing feature
    mixture : Mixture
    """
    X = check_data_missing(X, allow_empty_columns=True)
    return _posterior_and_fill(X, check_mixture(mixture, X.shape[1]), False)[1]


def observed_loglik(X, mixture: Mixture) -> float:
    """The observed-data log-likelihood l(theta) = sum_i ln p(x_i,o | theta), the quantity EM climbs."""
    return float(np.sum(observed_logpdf(X, mixture)))


def posterior_missing(X, mixture: Mixture) -> np.ndarray:
    """E[z_i^(k)] = P(c_k | x_i,o): the posterior given the observed features only, shape (n, m).

    A sample with no observed feature gets the weights rho_k.
    """
    X = check_data_missing(X, allow_empty_columns=True)
    return _posterior_and_fill(X, check_mixture(mixture, X.shape[1]), False)[0]


def impute(X, mixture: Mixture, *, return_std: bool = False):
    """Fill every missing entry with its conditional expectation under the mixture.

        E[x_u | x_o] = sum_k P(c_k | x_o) (mu_k,u + Sigma_k,uo Sigma_k,oo^{-1} (x_o - mu_k,o))

    the component-wise conditional means of :func:`conditional_gaussian`,
    weighted by the posterior of each component given the observed features.
    Observed entries are returned unchanged; a sample with nothing observed
    gets the mixture's mean sum_k rho_k mu_k.

    Parameters
    ----------
    X : array-like of shape (n, d), NaN marks a missing feature
    mixture : Mixture with m components, d features
    return_std : bool, also return the conditional standard deviation of
        every entry, sqrt(Var[x_a | x_o]) (0 for observed entries), which
        mixes the components' conditional variances and the spread of their
        conditional means (law of total variance)

    Returns
    -------
    X_filled : array of shape (n, d)
    std : array of shape (n, d), only when ``return_std``
    """
    X = check_data_missing(X, allow_empty_columns=True)
    mixture = check_mixture(mixture, X.shape[1])
    _, _, filled, var = _posterior_and_fill(X, mixture, bool(return_std))
    return (filled, np.sqrt(var)) if return_std else filled


def mean_impute(X) -> np.ndarray:
    """The naive baseline: fill each missing entry with the mean of its column's observed values.

    Parameters
    ----------
    X : array-like of shape (n, d), NaN marks a missing feature

    Returns
    -------
    array of shape (n, d)
    """
    X = check_data_missing(X)
    return np.where(np.isnan(X), np.nanmean(X, axis=0), X)


# --- the EM loop -----------------------------------------------------------------------------------

class MissingEMResult(EMResult):
    """The :class:`emlib.EMResult` of :func:`em_missing`.

    ``X`` keeps its NaNs; ``responsibilities`` are P(c_k | x_i,o) (the
    weights rho_k for a sample with nothing observed), and ``imputed`` is
    :func:`impute` at the final parameters.
    """

    @cached_property
    def responsibilities(self) -> np.ndarray:
        return posterior_missing(self.X, self.mixture)

    @cached_property
    def imputed(self) -> np.ndarray:
        return impute(self.X, self.mixture)

    def __repr__(self) -> str:
        return "Missing" + super().__repr__()


def em_missing(X, init: Mixture, *, covariance: str = "full", max_iter: int = 100, tol: float = 1e-6,
               reg: float = 1e-6, min_weight: float | None = None, fix_weights: bool = False,
               sample_weight=None, callback: Callable | None = None, keep_history: bool = True,
               chunk_size: int | None = None, prior=None) -> MissingEMResult:
    """Fit a Gaussian mixture by EM to data with missing features (NaN), starting from ``init``.

    Each iteration is the E-step of :func:`e_step_missing` (responsibilities
    from the observed marginals, conditional means x_hat_ik and covariances
    C_ik of the missing entries) followed by the M-step of
    :func:`m_step_missing` (expected sufficient statistics, including the
    conditional-covariance correction), computed one missingness pattern at
    a time. Fully observed rows are handled exactly as in :func:`emlib.em`;
    with nothing missing the two give the same iterates.

    Parameters
    ----------
    X : array-like of shape (n, d), or (n,) for d = 1. NaN marks a missing
        feature; a row may miss any subset. Infinite values and a column
        missing in every row are refused. A row missing every feature
        contributes nothing (it is left out of the fit).
    init : Mixture, theta^(0). The usual initialisers need complete data; use
        them on the complete rows or on :func:`mean_impute` (X).
    covariance : {"full", "diag", "spherical", "tied", "fixed"}; all are supported
        ("fixed" keeps the covariances of ``init``).
    max_iter, tol, reg, min_weight, fix_weights, sample_weight, callback, keep_history, chunk_size, prior
        as in :func:`emlib.em` (a :class:`emlib.Prior` gives MAP-EM: the M-step
        adds the prior's pseudo-observations to the expected statistics). The stopping rule is the same:
        |l(theta^(t)) - l(theta^(t-1))| / n < tol, with n the number of rows
        of X (the total weight with ``sample_weight``).

    Returns
    -------
    MissingEMResult, an :class:`emlib.EMResult`: ``loglik`` of shape
    (n_iter + 1,) holds the observed-data log-likelihood
    sum_i ln sum_k rho_k N(x_i,o | mu_k,o, Sigma_k,oo) at t = 0..n_iter;
    ``X`` is the input with its NaNs; ``imputed`` fills them in.

    Notes
    -----
    The observed-data log-likelihood never decreases, with the same
    exceptions as :func:`emlib.em`: a start outside the chosen covariance
    kind, trimming by ``min_weight``, and drops of the order of ``reg``.
    The missing entries are assumed missing at random (whether a value is
    missing may depend on observed values, not on the missing value itself);
    otherwise the estimates are biased.
    """
    X = check_data_missing(X)
    informative = ~np.all(np.isnan(X), axis=1)
    args = check_em_arguments(init, X, covariance, max_iter, tol, reg, min_weight, callback, sample_weight,
                              informative=informative, init_hint="init_kmeans_pp(mean_impute(X), m, rng)",
                              prior=prior)
    w = args.sample_weight
    usable = informative if w is None else informative & (w > 0)
    rows = slice(None) if usable.all() else np.flatnonzero(usable)
    prep = _Prepared(X[rows], None if w is None else w[rows])
    def e_step_pass(mixture):
        return _accumulate_missing(prep, mixture, args.variances_only, chunk_size)

    return fit_gaussian(e_step_pass, init, args, fix_weights=fix_weights, keep_history=keep_history,
                        make_result=lambda **fit: MissingEMResult(X=X, _weights=w, **fit))


QUICK_FIXES = ("drop rows", "mean imputation", "EM with missing features")
"""The ways :func:`fit_with_holes` can fit a mixture to data with holes."""


def fit_with_holes(X, m: int, method: str, rng=None, *, n_starts: int = 1, max_iter: int = 500,
                   tol: float = 1e-6) -> EMResult:
    """Fit m full-covariance components to X with NaN holes, one of three ways; the best of n_starts starts.

    "drop rows"
        complete-case analysis: :func:`emlib.em` on the rows with no NaN;
    "mean imputation"
        :func:`emlib.em` on X with every NaN replaced by its column's mean (:func:`mean_impute`);
    "EM with missing features"
        :func:`em_missing` on X itself.

    Every start is a k-means++ start (:func:`emlib.init_kmeans_pp`) drawn from
    ``rng`` on the data the method fits (on the mean-imputed table for
    "EM with missing features", whose initialisers need complete data); the fit
    with the highest log-likelihood is returned.

    Parameters
    ----------
    X : array-like of shape (n, d), NaN where a feature is missing
    m : int >= 1, the number of components
    method : one of :data:`QUICK_FIXES`
    rng : numpy Generator, int seed or None
    n_starts : int >= 1
    max_iter : int >= 1, tol : float >= 0, passed to the EM loop

    Returns
    -------
    EMResult (a MissingEMResult for "EM with missing features")
    """
    from .init import init_kmeans_pp
    from .em import em

    X = check_data_missing(X)
    m = check_int(m, "m", minimum=1)
    n_starts = check_int(n_starts, "n_starts", minimum=1)
    if method not in QUICK_FIXES:
        raise ValueError(f"method must be one of {', '.join(map(repr, QUICK_FIXES))}; got {method!r}")
    rng = check_rng(rng)
    filled = mean_impute(X)
    if method == "drop rows":
        data = X[~np.isnan(X).any(axis=1)]
        if data.shape[0] < m:
            raise ValueError(f"X has {data.shape[0]} complete rows, fewer than m = {m}; 'drop rows' cannot fit")
        start_data, fit_data, fitter = data, data, em
    elif method == "mean imputation":
        start_data, fit_data, fitter = filled, filled, em
    else:
        start_data, fit_data, fitter = filled, X, em_missing
    fits = [fitter(fit_data, init_kmeans_pp(start_data, m, rng), max_iter=max_iter, tol=tol, keep_history=False)
            for _ in range(n_starts)]
    return max(fits, key=lambda f: f.loglik[-1])


def compare_quick_fixes(X, X_full, truth, rng=None, *, n_starts: int = 2, tol: float = 1e-5):
    """Fit ``truth.n_components`` components to X with holes by each of :data:`QUICK_FIXES`, and score them.

    Parameters
    ----------
    X : array-like of shape (n, d), NaN where an entry was deleted
    X_full : array-like of shape (n, d), the data before deletion (to score the imputations)
    truth : Mixture, the mixture that generated X_full
    rng : int seed, Generator or None; every method gets the same seed for its starts
    n_starts : int >= 1, tol : float >= 0, passed to :func:`fit_with_holes`

    Returns
    -------
    scores : dict {method: (mean error, covariance error, imputation RMSE)}, the errors from
        :func:`emlib.scoring.parameter_errors`, the RMSE over the deleted entries (NaN if none)
        of the filled table: column means for "mean imputation", :func:`impute` with the fit otherwise
    fits : dict {method: EMResult}
    """
    from .scoring import parameter_errors

    X = check_data_missing(X)
    X_full = as_float_array(X_full, "X_full", 2)
    if X_full.shape != X.shape or np.isnan(X_full).any():
        raise ValueError(f"X_full must be the complete data, of the shape of X {X.shape}, without NaN")
    if not isinstance(truth, Mixture):
        raise TypeError(f"truth must be an emlib.Mixture, got {type(truth).__name__}")
    seed = int(check_rng(rng).integers(2**32))
    gone = np.isnan(X)
    scores, fits = {}, {}
    for method in QUICK_FIXES:
        fit = fit_with_holes(X, truth.n_components, method, seed, n_starts=n_starts, tol=tol)
        filled = mean_impute(X) if method == "mean imputation" else impute(X, fit.mixture)
        rmse = float(np.sqrt(np.mean((filled[gone] - X_full[gone]) ** 2))) if gone.any() else float("nan")
        scores[method] = (*parameter_errors(fit.mixture, truth), rmse)
        fits[method] = fit
    return scores, fits
