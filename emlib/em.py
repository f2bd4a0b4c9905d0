"""The EM loop of the lecture, and its result.

    start at theta^(0)
    repeat:  E-step  E[z_i^(k)] at theta^(t)
             M-step  theta^(t+1) = argmax_theta Q(theta | theta^(t))
    until the log-likelihood stops changing

Each iteration is one chunked pass over the data (:mod:`emlib.suffstats`)
that does the E-step of theta^(t), records l(theta^(t)) and collects the
sums from which the M-step builds theta^(t+1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from ._validation import (
    check_covariance_kind,
    check_data,
    check_float,
    check_int,
    check_sample_weight,
)
from .mixture import Mixture
from .steps import e_step
from .suffstats import accumulate, mixture_from_stats


@dataclass(frozen=True, eq=False)
class EMResult:
    """What :func:`em` returns.

    Attributes
    ----------
    mixture : Mixture, the final parameters theta^(n_iter)
    loglik : array of shape (n_iter + 1,), l(theta^(t)) for t = 0..n_iter
        (entry 0 belongs to the initial parameters)
    history : tuple of n_iter + 1 Mixtures, theta^(t) for t = 0..n_iter
        (empty when ``keep_history=False``)
    n_iter : int, the number of M-steps done
    converged : bool, whether the change of the per-sample log-likelihood fell below tol
    covariance : str, the covariance kind fitted
    responsibilities : array of shape (n, m), E[z_i^(k)] at the final parameters
        (computed on first access)
    """

    mixture: Mixture
    loglik: np.ndarray
    history: tuple
    n_iter: int
    converged: bool
    covariance: str
    X: np.ndarray
    _weights: np.ndarray | None = None

    @cached_property
    def responsibilities(self) -> np.ndarray:
        return e_step(self.X, self.mixture)[0]

    @property
    def mean_loglik(self) -> np.ndarray:
        """loglik divided by the number (total weight) of samples."""
        return self.loglik / self._n_total

    @cached_property
    def _n_total(self) -> float:
        return float(self.X.shape[0]) if self._weights is None else float(self._weights.sum())

    def __repr__(self) -> str:
        return (f"EMResult(n_iter={self.n_iter}, converged={self.converged}, "
                f"loglik={self.loglik[-1]:.6g}, m={self.mixture.n_components}, covariance={self.covariance!r})")


def em(X, init: Mixture, *, covariance: str = "full", max_iter: int = 100, tol: float = 1e-6,
       reg: float = 1e-6, min_weight: float | None = None, fix_weights: bool = False,
       sample_weight=None, callback: Callable | None = None, keep_history: bool = True,
       chunk_size: int | None = None) -> EMResult:
    """Fit a Gaussian mixture to X by EM, starting from ``init``.

    Parameters
    ----------
    X : array-like of shape (n, d), or (n,) for d = 1; finite values
    init : Mixture, theta^(0) (see :func:`init_from_data`, :func:`init_kmeans_pp`,
        :func:`init_from_labels`)
    covariance : {"full", "diag", "spherical", "tied", "fixed"}
        "fixed" keeps the covariances of ``init`` (the slide's known-variance case).
    max_iter : int >= 0, the most M-steps to do
    tol : float >= 0. Stop when |l(theta^(t)) - l(theta^(t-1))| / n < tol
        (the per-sample log-likelihood, as in scikit-learn). tol=0 runs
        exactly max_iter iterations.
    reg : float >= 0, added to the covariance diagonals in every M-step
        (scikit-learn's ``reg_covar``)
    min_weight : float in [0, 1) or None. After each M-step, trim the components
        whose weight fell below it and renormalise (the annulus slide).
    fix_weights : bool, hold the weights at those of ``init`` (the k-means limit)
    sample_weight : array-like of shape (n,) or None. Non-negative weights w_i:
        sample i counts w_i times (EM on a histogram: x = bin centres, w = counts).
    callback : callable(t, mixture, loglik) or None, called after every iteration
    keep_history : bool, keep theta^(t) for every t in ``history``
    chunk_size : rows per chunk of the fast pass (default: about 1 MB of work space)

    Returns
    -------
    EMResult

    Notes
    -----
    The log-likelihood never decreases from a start that belongs to the
    chosen covariance kind (a full-covariance start under "spherical" may
    drop on the first step), except where ``min_weight`` trims a component,
    and up to drops of the order of ``reg``: adding reg to the covariances
    makes the M-step a slightly regularised maximiser of Q.
    """
    X = check_data(X)
    n, d = X.shape
    kind, max_iter, tol, reg, min_weight = check_em_arguments(init, d, covariance, max_iter, tol, reg,
                                                              min_weight, callback, X.shape)
    w = check_sample_weight(sample_weight, n)
    if init.n_components > (n if w is None else np.count_nonzero(w)):
        raise ValueError(f"init has {init.n_components} components but X has only "
                         f"{n if w is None else np.count_nonzero(w)} samples; use m <= n")

    n_total = float(n) if w is None else float(w.sum())
    center = X.mean(axis=0) if w is None else (w @ X) / n_total
    variances_only = kind in ("diag", "spherical", "fixed")

    def one_pass(mix):
        return accumulate(X, mix, center=center, diagonal=variances_only, sample_weight=w,
                          chunk_size=chunk_size)

    mixture, logliks, history, n_iter, converged = iterate(
        one_pass, init, covariance=kind, max_iter=max_iter, tol=tol, reg=reg, min_weight=min_weight,
        fix_weights=fix_weights, n_total=n_total, callback=callback, keep_history=keep_history)
    return EMResult(mixture=mixture, loglik=logliks, history=history, n_iter=n_iter,
                    converged=converged, covariance=kind, X=X, _weights=w)


def check_em_arguments(init, d, covariance, max_iter, tol, reg, min_weight, callback, x_shape,
                       init_hint="init_kmeans_pp(X, m, rng)"):
    """The checks that every EM loop makes at the door; returns the validated
    (covariance, max_iter, tol, reg, min_weight)."""
    if not isinstance(init, Mixture):
        raise TypeError(f"init must be an emlib.Mixture (e.g. from {init_hint}), got {type(init).__name__}")
    if init.n_features != d:
        raise ValueError(f"init has {init.n_features} feature(s) but X has {d} (shape {x_shape})")
    kind = check_covariance_kind(covariance)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    tol = check_float(tol, "tol", minimum=0.0)
    reg = check_float(reg, "reg", minimum=0.0)
    min_weight = check_float(min_weight, "min_weight", minimum=0.0, allow_none=True)
    if min_weight is not None and min_weight >= 1:
        raise ValueError(f"min_weight must be < 1 (a weight below which components are trimmed), got {min_weight}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(t, mixture, loglik), got {type(callback).__name__}")
    return kind, max_iter, tol, reg, min_weight


def iterate(one_pass, init: Mixture, *, covariance, max_iter, tol, reg, min_weight, fix_weights, n_total,
            callback, keep_history):
    """The EM loop itself, for any E-step pass that returns sufficient statistics.

    ``one_pass(mixture)`` does the E-step at theta^(t) and returns the
    statistics (with l(theta^(t))); the M-step builds theta^(t+1) from them.
    Stops after max_iter M-steps or when |l(theta^(t)) - l(theta^(t-1))| / n_total < tol.

    Returns (mixture, loglik array (n_iter + 1,), history tuple, n_iter, converged).
    """
    fixed_cov = init.covariances if covariance == "fixed" else None
    fixed_w = init.weights if fix_weights else None
    mixture = init
    stats = one_pass(mixture)
    logliks = [stats.loglik]
    history = [mixture] if keep_history else []
    converged = False
    n_iter = 0
    if callback is not None:
        callback(0, mixture, stats.loglik)
    for t in range(1, max_iter + 1):
        mixture, keep = mixture_from_stats(stats, covariance, reg, fixed_covariances=fixed_cov,
                                           fixed_weights=fixed_w, min_weight=min_weight)
        if keep.size < stats.nk.size:                 # trimmed: the fixed parts follow the survivors
            fixed_cov = None if fixed_cov is None else fixed_cov[keep]
            fixed_w = None if fixed_w is None else fixed_w[keep]
        stats = one_pass(mixture)
        n_iter = t
        logliks.append(stats.loglik)
        if keep_history:
            history.append(mixture)
        if callback is not None:
            callback(t, mixture, stats.loglik)
        if abs(logliks[-1] - logliks[-2]) / n_total < tol:
            converged = True
            break
    return mixture, np.array(logliks), tuple(history), n_iter, converged
