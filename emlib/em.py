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

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Callable

import numpy as np

from ._validation import (
    check_covariance_kind,
    check_data,
    check_float,
    check_int,
    check_mixture,
    check_sample_weight,
    is_dask_array,
)
from .mixture import Mixture
from .prior import Prior, check_prior
from .steps import e_step, mixture_from_moments
from .suffstats import SufficientStatistics, accumulate


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
    prior : Prior or None, the prior of MAP-EM
    log_prior : array of shape (n_iter + 1,), ln p(theta^(t)) up to a constant, or
        None without a prior; ``log_posterior`` = loglik + log_prior is what
        MAP-EM climbs (= loglik without a prior)
    """

    mixture: Mixture
    loglik: np.ndarray
    history: tuple
    n_iter: int
    converged: bool
    covariance: str
    X: np.ndarray
    _weights: np.ndarray | None = None
    prior: Prior | None = None
    log_prior: np.ndarray | None = None

    @property
    def log_posterior(self) -> np.ndarray:
        """ln p(theta^(t) | X) up to a constant, shape (n_iter + 1,): loglik + log_prior."""
        return self.loglik if self.log_prior is None else self.loglik + self.log_prior

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
       chunk_size: int | None = None, prior: Prior | None = None) -> EMResult:
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
    callback : callable(t, mixture, loglik) or None, called at t = 0 and after every iteration
    keep_history : bool, keep theta^(t) for every t in ``history``
    chunk_size : rows per chunk of the fast pass (default: about 1 MB of work space)
    prior : emlib.Prior or None. MAP-EM: every M-step maximises
        Q(theta | theta^(t)) + ln p(theta) (Dirichlet weights, inverse-Wishart
        covariances, see :mod:`emlib.prior`); the loop then climbs the
        log-posterior l(theta) + ln p(theta) (``result.log_posterior``), and
        ``tol`` applies to its change. Use reg=0 for the exact MAP estimate.

    Returns
    -------
    EMResult; its mixture has kind ``covariance``

    Notes
    -----
    The log-likelihood never decreases from a start that belongs to the
    chosen covariance kind (a full-covariance start under "spherical" may
    drop on the first step), except where ``min_weight`` trims a component,
    and up to drops of the order of ``reg``: adding reg to the covariances
    makes the M-step a slightly regularised maximiser of Q. With a
    ``prior`` the same holds for the log-posterior (the log-likelihood
    alone may then fall).
    """
    if is_dask_array(X):
        return _em_dask(X, init, covariance, max_iter, tol, reg, min_weight, fix_weights, sample_weight, callback,
                        keep_history, chunk_size, prior)
    X = check_data(X)
    args = check_em_arguments(init, X, covariance, max_iter, tol, reg, min_weight, callback, sample_weight,
                              prior=prior)
    w = args.sample_weight
    center = X.mean(axis=0) if w is None else (w @ X) / args.n_total
    def e_step_pass(mixture):
        return accumulate(X, mixture, center=center, diagonal=args.variances_only, sample_weight=w,
                          chunk_size=chunk_size)

    return fit_gaussian(e_step_pass, init, args, fix_weights=fix_weights, keep_history=keep_history,
                        make_result=lambda **fit: EMResult(X=X, _weights=w, **fit))


def _em_dask(X, init, covariance, max_iter, tol, reg, min_weight, fix_weights, sample_weight, callback,
             keep_history, chunk_size, prior):
    """:func:`em` on a Dask array chunked by rows: each iteration maps the pass over the blocks (emlib.scale)."""
    from .scale import DaskEMResult, accumulate_blocks, check_dask_data, row_blocks

    X, sums = check_dask_data(X)
    w = sample_weight
    if is_dask_array(w):
        w = w.compute()                   # one number per sample: n floats, far less than X
    args = check_em_arguments(init, X, covariance, max_iter, tol, reg, min_weight, callback, w, prior=prior)
    w = args.sample_weight
    if w is None:
        center = np.asarray(sums, dtype=np.float64) / X.shape[0]
    else:
        center = np.asarray((X * w[:, None]).sum(axis=0).compute(), dtype=np.float64) / args.n_total
    weight_blocks = row_blocks(w, X)
    def e_step_pass(mixture):
        return accumulate_blocks(X, mixture, center=center, diagonal=args.variances_only, weight_blocks=weight_blocks,
                                 chunk_size=chunk_size)

    return fit_gaussian(e_step_pass, init, args, fix_weights=fix_weights, keep_history=keep_history,
                        make_result=lambda **fit: DaskEMResult(X=X, _weights=w, **fit))


@dataclass(frozen=True)
class EMArguments:
    """The validated arguments shared by :func:`em` and :func:`emlib.em_missing`."""

    covariance: str
    max_iter: int
    tol: float
    reg: float
    min_weight: float | None
    callback: Callable | None
    sample_weight: np.ndarray | None
    n_total: float
    prior: Prior | None = None

    @property
    def variances_only(self) -> bool:
        """Whether the M-step needs only the variances (diag, spherical, fixed): the pass may keep squares only."""
        return self.covariance in ("diag", "spherical", "fixed")


def check_em_arguments(init, X, covariance, max_iter, tol, reg, min_weight, callback, sample_weight,
                       *, informative=None, init_hint="init_kmeans_pp(X, m, rng)", prior=None) -> EMArguments:
    """The checks that every Gaussian EM loop makes at the door.

    ``informative`` (bool array (n,)) marks the samples that can carry a
    component (default: all); ``init`` may not have more components than
    there are informative samples of positive weight.
    """
    n, d = X.shape
    check_mixture(init, name="init", hint=init_hint)
    if init.n_features != d:
        raise ValueError(f"init has {init.n_features} feature(s) but X has {d} (shape {X.shape})")
    kind = check_covariance_kind(covariance)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    tol = check_float(tol, "tol", minimum=0.0)
    reg = check_float(reg, "reg", minimum=0.0)
    min_weight = check_float(min_weight, "min_weight", minimum=0.0, allow_none=True)
    if min_weight is not None and min_weight >= 1:
        raise ValueError(f"min_weight must be < 1 (a weight below which components are trimmed), got {min_weight}")
    check_callback(callback, "callable(t, mixture, loglik)")
    w = check_sample_weight(sample_weight, n)
    usable = np.ones(n, dtype=bool) if informative is None else informative.copy()
    if w is not None:
        usable &= w > 0
    n_usable = int(np.count_nonzero(usable))
    if init.n_components > n_usable and informative is None:
        raise ValueError(f"init has {init.n_components} components but X has only {n_usable} samples; use m <= n")
    if init.n_components > n_usable:
        raise ValueError(f"init has {init.n_components} components but X has only {n_usable} samples with an "
                         f"observed feature{'' if w is None else ' and a positive weight'}; use m <= {n_usable}")
    n_total = float(n) if w is None else float(w.sum())
    return EMArguments(kind, max_iter, tol, reg, min_weight, callback, w, n_total, check_prior(prior, d))


def check_callback(callback, signature: str) -> None:
    """A callback is None or callable; ``signature`` says how it is called: "callable(t, mixture, loglik)"."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be {signature}, got {type(callback).__name__}")


class GaussianMStep:
    """The M-step of Gaussian EM from a pass's sufficient statistics, with trimming.

    Holds what the M-step keeps from one iteration to the next: the fixed
    covariances ("fixed") and the fixed weights (``fix_weights``), which
    follow the surviving components when ``min_weight`` trims some.
    """

    def __init__(self, init: Mixture, args: EMArguments, fix_weights: bool):
        self.covariance, self.reg, self.min_weight, self.prior = args.covariance, args.reg, args.min_weight, args.prior
        self.fixed_covariances = init.covariances if args.covariance == "fixed" else None
        self.fixed_weights = init.weights if fix_weights else None

    def __call__(self, stats: SufficientStatistics) -> Mixture:
        keep = self.survivors(stats.nk)
        if keep.size < stats.nk.size:              # trimmed: the fixed parts follow the survivors
            self.fixed_covariances = None if self.fixed_covariances is None else self.fixed_covariances[keep]
            self.fixed_weights = None if self.fixed_weights is None else self.fixed_weights[keep]
        return mixture_from_moments(stats.moments(keep), self.covariance, self.reg,
                                    fixed_covariances=self.fixed_covariances, fixed_weights=self.fixed_weights,
                                    prior=self.prior)

    def survivors(self, nk: np.ndarray) -> np.ndarray:
        """The components whose new weight N_k / n is at least min_weight (all without trimming)."""
        if self.min_weight is None:
            return np.arange(nk.size)
        keep = np.flatnonzero(nk / nk.sum() >= self.min_weight)
        if keep.size == 0:
            raise ValueError(f"min_weight={self.min_weight} trimmed every component; use a smaller min_weight")
        return keep


def fit_gaussian(e_step_pass, init: Mixture, args: EMArguments, *, fix_weights: bool, keep_history: bool,
                 make_result):
    """Run :func:`iterate` with a pass that returns sufficient statistics and the Gaussian M-step.

    Under a prior the pass's statistics also carry ln p(theta) of the E-step's
    parameters, and the stop test watches the log-posterior.
    """
    user_callback, prior = args.callback, args.prior
    if prior is None:
        e_step_fn = e_step_pass
    else:
        def e_step_fn(mixture):
            return replace(e_step_pass(mixture), log_prior=prior.log_density(mixture))
    run = iterate(e_step_fn, GaussianMStep(init, args, fix_weights), init, max_iter=args.max_iter,
                  converged=loglik_change_below(args.tol, args.n_total, lambda st: st.objective),
                  record=lambda st: (st.loglik, st.log_prior),
                  callback=None if user_callback is None else (lambda t, mix, st: user_callback(t, mix, st.loglik)),
                  keep_history=keep_history)
    records = np.array(run.records).reshape(-1, 2)
    return make_result(mixture=run.theta, loglik=records[:, 0].copy(), history=run.history,
                       n_iter=run.n_iter, converged=run.converged, covariance=args.covariance,
                       prior=prior, log_prior=None if prior is None else records[:, 1].copy())


def loglik_change_below(tol: float, n_total: float, objective=lambda evidence: evidence.loglik):
    """The lecture's stop test: |l(theta^(t)) - l(theta^(t-1))| / n < tol (the per-sample change).

    ``objective(evidence)`` reads l from an E-step's result (default: its
    ``loglik``; MAP-EM passes the log-posterior).
    """
    def converged(previous, current) -> bool:
        return previous is not None and abs(objective(current) - objective(previous)) / n_total < tol
    return converged


class Halt(ValueError):
    """Raised by a step to end :func:`iterate` early (e.g. a diverging gradient step); the last valid iterate is kept.

    Raised by the first E-step (before any iterate is valid) it reaches the caller as a ValueError.
    """


@dataclass(frozen=True)
class Run:
    """What :func:`iterate` returns.

    theta : the last parameters whose E-step was done
    evidence : what that E-step returned
    records : list of n_iter + 1 records, record(E-step result) for t = 0..n_iter
    history : tuple of theta^(0..n_iter) (empty without keep_history)
    n_iter : int, M-steps done
    converged : bool
    halted : str or None, the message of a :class:`Halt` that ended the run
    """

    theta: object
    evidence: object
    records: list
    history: tuple
    n_iter: int
    converged: bool
    halted: str | None = None


def iterate(e_step, m_step, theta, *, max_iter: int, converged, record=lambda evidence: evidence,
            callback=None, keep_history: bool = True) -> Run:
    """The loop of the lecture, for any pair of steps.

        evidence = e_step(theta^(0))
        for t = 1, 2, ..., max_iter:
            theta^(t) = m_step(evidence)          the M-step
            evidence  = e_step(theta^(t))         the E-step (and l(theta^(t)))
            stop when converged(previous evidence, evidence)

    ``converged(None, evidence)`` is asked once at t = 0 too. Every EM-style
    algorithm of emlib (Gaussian EM, EM with missing features, EM on a
    histogram, mean-field MRF EM, mixtures of affine motions) and gradient
    ascent run through here with their own pair of steps. A step may raise
    :class:`Halt` to stop; the run then ends at the last valid iterate.

    Parameters
    ----------
    e_step : callable(theta) -> evidence (what the M-step needs)
    m_step : callable(evidence) -> theta
    theta : theta^(0)
    max_iter : int >= 0
    converged : callable(previous evidence or None, evidence) -> bool
    record : callable(evidence) -> what to keep of every iteration (default: all of it)
    callback : callable(t, theta, evidence) or None, called at t = 0 and after every iteration
    keep_history : bool, keep every theta^(t)
    """
    evidence = e_step(theta)
    records, history = [record(evidence)], [theta] if keep_history else []
    if callback is not None:
        callback(0, theta, evidence)
    done, n_iter = converged(None, evidence), 0
    for t in range(1, max_iter + 1):
        if done:
            break
        try:
            new_theta = m_step(evidence)
            new_evidence = e_step(new_theta)
        except Halt as stop:
            return Run(theta, evidence, records, tuple(history), n_iter, False, str(stop))
        done = converged(evidence, new_evidence)
        theta, evidence, n_iter = new_theta, new_evidence, t
        records.append(record(evidence))
        if keep_history:
            history.append(theta)
        if callback is not None:
            callback(t, theta, evidence)
    return Run(theta, evidence, records, tuple(history), n_iter, done)
