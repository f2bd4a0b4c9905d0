"""EM beyond Gaussians: a mixture of multivariate Bernoulli distributions, for binary data.

A sample x_i in {0, 1}^d (a binarised image, say) is drawn by first choosing
a component k with probability rho_k, then switching each pixel j on with
probability p_kj, independently given k:

    P(x | theta) = sum_k rho_k prod_j p_kj^{x_j} (1 - p_kj)^{1 - x_j}.

EM has the same two steps as for Gaussians (Bishop, Pattern Recognition and
Machine Learning, section 9.3.3):

    E-step  E[z_i^(k)] = rho_k P(x_i | p_k) / sum_j rho_j P(x_i | p_j)     (in log space)
    M-step  N_k = sum_i E[z_i^(k)],   rho_k = N_k / n,
            p_kj = (sum_i E[z_i^(k)] x_ij + c) / (N_k + 2 c)

where c >= 0 is an optional pseudo-count: the MAP estimate under a
Beta(1 + c, 1 + c) prior on every p_kj (c imaginary "on" and c imaginary
"off" pixels per component), which keeps every probability strictly between
0 and 1. The loop is :func:`emlib.em.iterate`, the one that every EM of
emlib runs; with c > 0 it climbs the log-posterior l(theta) + ln p(theta).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._validation import (
    as_float_array,
    check_finite,
    check_float,
    check_int,
    check_responsibilities,
    check_rng,
    freeze,
)
from .em import check_callback, iterate, loglik_change_below
from .mixture import logsumexp_rows
from .steps import check_collapse
from .suffstats import one_blas_thread

BERNOULLI_REMEDY = "Use fewer components or another start (init_bernoulli with another rng)."


def check_binary(X, name: str = "X") -> np.ndarray:
    """Binary data of shape (n, d) (bool, or numbers that are all 0 or 1), returned as float64."""
    X = as_float_array(X, name, 2)
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must have at least one sample and one feature, got shape {X.shape}")
    check_finite(X, name)
    bad = (X != 0) & (X != 1)
    if bad.any():
        value = X[bad].flat[0]
        raise ValueError(f"{name} must be binary (every entry 0 or 1; binarise first, e.g. X > threshold), "
                         f"got {int(bad.sum())} other value(s) such as {value:g}")
    return X


@dataclass(frozen=True, eq=False)
class BernoulliMixture:
    """A mixture of m products of d Bernoulli distributions.

    Parameters
    ----------
    weights : array-like of shape (m,), rho_k >= 0 summing to 1 (within 1e-8)
    probabilities : array-like of shape (m, d), p_kj = P(x_j = 1 | component k), in [0, 1]
    """

    weights: np.ndarray
    probabilities: np.ndarray
    _log_on: np.ndarray = field(init=False, repr=False)
    _log_off: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        w = as_float_array(self.weights, "weights", 1)
        p = as_float_array(self.probabilities, "probabilities", 2)
        if w.shape[0] < 1:
            raise ValueError("weights must have at least one entry (one component), got shape (0,)")
        if p.shape[0] != w.shape[0] or p.shape[1] < 1:
            raise ValueError(f"probabilities must have shape (m, d) with m = {w.shape[0]} (len(weights)), got {p.shape}")
        check_finite(w, "weights")
        check_finite(p, "probabilities")
        if np.any(w < 0) or abs(w.sum() - 1.0) > 1e-8:
            raise ValueError(f"weights must be non-negative and sum to 1 (within 1e-8), got sum {w.sum():.12g}")
        if np.any(p < 0) or np.any(p > 1):
            raise ValueError("probabilities must lie in [0, 1]")
        with np.errstate(divide="ignore"):
            log_on, log_off = np.log(p), np.log1p(-p)
        freeze(self, weights=w, probabilities=p, _log_on=log_on, _log_off=log_off)

    @property
    def n_components(self) -> int:
        return self.weights.shape[0]

    @property
    def n_features(self) -> int:
        return self.probabilities.shape[1]

    def __repr__(self) -> str:
        return f"BernoulliMixture(m={self.n_components}, d={self.n_features})"

    def _check_X(self, X) -> np.ndarray:
        X = check_binary(X)
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} feature(s) but the mixture has {self.n_features}")
        return X

    def component_logpmf(self, X) -> np.ndarray:
        """ln P(x_i | p_k) = sum_j x_ij ln p_kj + (1 - x_ij) ln(1 - p_kj), shape (n, m).

        One matrix product, sum_j x_ij ln(p_kj / (1 - p_kj)) + sum_j ln(1 - p_kj),
        when every p_kj is inside (0, 1). Otherwise a pixel that is on where
        p_kj = 0 (or off where p_kj = 1) makes the sample impossible under k:
        -inf, never NaN.
        """
        X = self._check_X(X)
        on, off = np.isfinite(self._log_on), np.isfinite(self._log_off)
        if on.all() and off.all():
            return X @ (self._log_on - self._log_off).T + self._log_off.sum(axis=1)
        out = X @ np.where(on, self._log_on, 0.0).T + (1.0 - X) @ np.where(off, self._log_off, 0.0).T
        impossible = X @ (~on).T + (1.0 - X) @ (~off).T
        out[impossible > 0] = -np.inf
        return out

    def weighted_logpmf(self, X) -> np.ndarray:
        """ln rho_k + ln P(x_i | p_k), shape (n, m)."""
        with np.errstate(divide="ignore"):
            return self.component_logpmf(X) + np.log(self.weights)

    def logpmf(self, X) -> np.ndarray:
        """ln P(x_i | theta), shape (n,)."""
        return logsumexp_rows(self.weighted_logpmf(X))

    def loglik(self, X) -> float:
        """l(theta) = sum_i ln P(x_i | theta)."""
        return float(np.sum(self.logpmf(X)))

    def posterior(self, X) -> np.ndarray:
        """E[z_i^(k)], shape (n, m) (see :func:`bernoulli_e_step`)."""
        return bernoulli_e_step(X, self)[0]

    def classify(self, X) -> np.ndarray:
        """The MAP component of each sample, shape (n,)."""
        return np.argmax(self.weighted_logpmf(X), axis=1)

    def sample(self, n, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """n samples (n, d) of 0/1 floats and their components (n,), by two-stage sampling."""
        n = check_int(n, "n", minimum=0)
        rng = check_rng(rng)
        z = rng.choice(self.n_components, size=n, p=self.weights)
        X = (rng.random((n, self.n_features)) < self.probabilities[z]).astype(np.float64)
        return X, z


def check_bernoulli_mixture(mixture, d: int | None = None, name: str = "mixture") -> BernoulliMixture:
    if not isinstance(mixture, BernoulliMixture):
        raise TypeError(f"{name} must be an emlib.bernoulli.BernoulliMixture (e.g. from init_bernoulli(X, m, rng)), "
                        f"got {type(mixture).__name__}")
    if d is not None and mixture.n_features != d:
        raise ValueError(f"{name} has {mixture.n_features} feature(s) but X has {d}")
    return mixture


def init_bernoulli(X, m, rng=None, *, start: str = "uniform") -> BernoulliMixture:
    """theta^(0): rho_k = 1/m and prototypes p_k chosen by ``start``.

    - "uniform": p_kj uniform in (0.25, 0.75), as in Bishop's digits example;
    - "samples": p_k = 0.25 + 0.5 x_(i_k) at m distinct random samples (a softened
      copy of one image each, like :func:`emlib.init_from_data` for Gaussians).

    Parameters
    ----------
    X : array-like of shape (n, d), binary
    m : int, 1 <= m <= n
    rng : numpy Generator or int seed
    start : {"uniform", "samples"}
    """
    X = check_binary(X)
    m = check_int(m, "m", minimum=1, maximum=X.shape[0])
    rng = check_rng(rng)
    if start == "uniform":
        probabilities = rng.uniform(0.25, 0.75, size=(m, X.shape[1]))
    elif start == "samples":
        probabilities = 0.25 + 0.5 * X[rng.choice(X.shape[0], size=m, replace=False)]
    else:
        raise ValueError(f"start must be 'uniform' or 'samples', got {start!r}")
    return BernoulliMixture(np.full(m, 1.0 / m), probabilities)


def bernoulli_e_step(X, mixture: BernoulliMixture) -> tuple[np.ndarray, float]:
    """E-step: E[z_i^(k)] = rho_k P(x_i | p_k) / sum_j rho_j P(x_i | p_j), in log space.

    Parameters
    ----------
    X : array-like of shape (n, d), binary
    mixture : BernoulliMixture with m components

    Returns
    -------
    resp : array of shape (n, m), rows summing to 1
    loglik : float, l(theta) = sum_i ln P(x_i | theta)
    """
    check_bernoulli_mixture(mixture)
    log_joint = mixture.weighted_logpmf(X)
    log_px = logsumexp_rows(log_joint)
    if not np.all(np.isfinite(log_px)):
        bad = int(np.flatnonzero(~np.isfinite(log_px))[0])
        raise ValueError(f"sample X[{bad}] has probability 0 under every component (a probability p_kj is "
                         "exactly 0 or 1); fit with pseudo_count > 0")
    return np.exp(log_joint - log_px[:, None]), float(np.sum(log_px))


def bernoulli_m_step(X, resp, *, pseudo_count: float = 0.0) -> BernoulliMixture:
    """M-step: rho_k = N_k / n and p_kj = (sum_i E[z_i^(k)] x_ij + c) / (N_k + 2 c).

    Parameters
    ----------
    X : array-like of shape (n, d), binary
    resp : array-like of shape (n, m), E[z_i^(k)]
    pseudo_count : float c >= 0: the MAP estimate under a Beta(1 + c, 1 + c)
        prior on every p_kj (c = 0: maximum likelihood)

    Returns
    -------
    BernoulliMixture
    """
    X = check_binary(X)
    resp = check_responsibilities(resp, X.shape[0])
    c = check_float(pseudo_count, "pseudo_count", minimum=0.0)
    nk = check_collapse(resp.sum(axis=0), BERNOULLI_REMEDY)
    on = resp.T @ X                                                       # (m, d): sum_i E[z_i^(k)] x_ij
    return BernoulliMixture(nk / nk.sum(), (on + c) / (nk[:, None] + 2.0 * c))


def beta_log_prior(mixture: BernoulliMixture, pseudo_count: float) -> float:
    """ln p(theta) = sum_kj c ln p_kj + c ln(1 - p_kj), up to a constant (0 when c = 0)."""
    if pseudo_count == 0:
        return 0.0
    return float(pseudo_count * (np.sum(mixture._log_on) + np.sum(mixture._log_off)))


@dataclass(frozen=True)
class BernoulliEvidence:
    """What the E-step leaves for the M-step: responsibilities (n, m), l(theta) and ln p(theta)."""

    resp: np.ndarray
    loglik: float
    log_prior: float

    @property
    def objective(self) -> float:
        return self.loglik + self.log_prior


@dataclass(frozen=True, eq=False)
class BernoulliEMResult:
    """What :func:`em_bernoulli` returns.

    mixture : BernoulliMixture, theta^(n_iter)
    loglik : array (n_iter + 1,), l(theta^(t)) for t = 0..n_iter
    log_prior : array (n_iter + 1,), ln p(theta^(t)) under the Beta prior of the pseudo-count (zeros for c = 0)
    history : tuple of theta^(0..n_iter) (empty without keep_history)
    n_iter : int; converged : bool
    responsibilities : array (n, m) at the final parameters
    """

    mixture: BernoulliMixture
    loglik: np.ndarray
    log_prior: np.ndarray
    history: tuple
    n_iter: int
    converged: bool
    responsibilities: np.ndarray

    @property
    def log_posterior(self) -> np.ndarray:
        """loglik + log_prior: what EM climbs."""
        return self.loglik + self.log_prior

    def __repr__(self) -> str:
        return (f"BernoulliEMResult(n_iter={self.n_iter}, converged={self.converged}, "
                f"loglik={self.loglik[-1]:.6g}, m={self.mixture.n_components})")


def em_bernoulli(X, init: BernoulliMixture, *, max_iter: int = 100, tol: float = 1e-6,
                 pseudo_count: float = 0.0, callback: Callable | None = None,
                 keep_history: bool = True) -> BernoulliEMResult:
    """Fit a mixture of Bernoulli distributions to binary X by EM, starting from ``init``.

    Parameters
    ----------
    X : array-like of shape (n, d), binary (bool or 0/1)
    init : BernoulliMixture, theta^(0) (see :func:`init_bernoulli`)
    max_iter : int >= 0, the most M-steps
    tol : float >= 0; stop when the objective (l(theta), plus ln p(theta) when
        pseudo_count > 0) changes by less than tol per sample
    pseudo_count : float c >= 0, see :func:`bernoulli_m_step`
    callback : callable(t, mixture, loglik) or None, called at t = 0 and after every iteration
    keep_history : bool, keep every theta^(t)

    Returns
    -------
    BernoulliEMResult
    """
    X = check_binary(X)
    n, d = X.shape
    check_bernoulli_mixture(init, d, "init")
    if init.n_components > n:
        raise ValueError(f"init has {init.n_components} components but X has only {n} samples; use m <= n")
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    tol = check_float(tol, "tol", minimum=0.0)
    c = check_float(pseudo_count, "pseudo_count", minimum=0.0)
    check_callback(callback, "callable(t, mixture, loglik)")

    def e_step(mixture):
        resp, loglik = bernoulli_e_step(X, mixture)
        return BernoulliEvidence(resp, loglik, beta_log_prior(mixture, c))

    def m_step(evidence):
        return bernoulli_m_step(X, evidence.resp, pseudo_count=c)

    with one_blas_thread():                 # small products: a second BLAS thread only slows them down
        run = iterate(e_step, m_step, init, max_iter=max_iter,
                      converged=loglik_change_below(tol, n, lambda ev: ev.objective),
                      record=lambda ev: (ev.loglik, ev.log_prior),
                      callback=None if callback is None else (lambda t, mix, ev: callback(t, mix, ev.loglik)),
                      keep_history=keep_history)
    records = np.array(run.records).reshape(-1, 2)
    return BernoulliEMResult(run.theta, records[:, 0].copy(), records[:, 1].copy(), run.history, run.n_iter,
                             run.converged, run.evidence.resp)
