"""Gradient ascent on the mixture log-likelihood: the lecture's "last resort".

The lecture maximises the same function two ways. EM is one; the other is to
follow the gradient of the mean per-sample log-likelihood

    ell(theta, rho) = (1/n) sum_i ln sum_k rho_k N(x_i | mu_k, Sigma_k)

uphill with a fixed learning rate eta: psi <- psi + eta grad_psi ell.

Setting this gradient to zero gives the coupled equations of the slides
(every one of them contains the responsibilities E[z_i^(k)], which depend on
all the parameters at once); gradient ascent never solves them, it only
walks towards a point where they hold.

The constraints (rho on the simplex, Sigma_k symmetric positive definite)
would stop a plain step, so the walk takes place in an unconstrained
parametrisation psi:

- weights:  rho = softmax(a),  a in R^m (the logits);
- means:    mu_k itself;
- "full":   Sigma_k = L_k L_k^T with L_k lower triangular and diagonal
            exp(s_k): the free entries are the strict lower triangle and s_k;
- "diag":   Sigma_k = diag(exp(v_k)), v_k in R^d (log-variances);
- "spherical": Sigma_k = exp(v_k) I, v_k in R.

Any psi gives a valid mixture. The gradient is written once with respect to
(rho, mu, Sigma) (:func:`gradient_weights`, :func:`gradient_means`,
:func:`gradient_covariances`, gathered by :func:`loglik_gradient`), and the
chain rule carries it to psi (:func:`logits_gradient`,
:func:`cholesky_gradient`, :func:`log_variance_gradient`).

The gradient needs exactly the sums an EM iteration collects, N_k,
sum_i E[z_i^(k)] x_i and sum_i E[z_i^(k)] x_i x_i^T, so :func:`gradient_ascent`
gets them from the same chunked pass as :func:`emlib.em`
(:func:`gradient_from_stats`, held to :func:`loglik_gradient` by the tests):
an iteration of either method costs the same.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._validation import (
    check_covariance_kind,
    check_data,
    check_float,
    check_int,
    check_mixture,
    check_responsibilities,
)
from .em import EMResult, Halt, iterate
from .mixture import Mixture
from .steps import e_step
from .suffstats import SufficientStatistics, accumulate

GRADIENT_KINDS = ("full", "diag", "spherical")
"""The covariance kinds :func:`gradient_ascent` supports."""

# exp(LOG_LIMIT) is still far from float64 overflow; a log-variance beyond it means a run ran away.
LOG_LIMIT = 300.0


class MixtureGradient(NamedTuple):
    """The gradient of ell = l / n with respect to the constrained parameters.

    Attributes
    ----------
    weights : (m,) d ell / d rho_k (rho treated as m free positive numbers)
    means : (m, d) d ell / d mu_k
    covariances : (m, d, d) d ell / d Sigma_k, symmetric (entries treated as free)
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray


class UnconstrainedParams(NamedTuple):
    """A mixture in the unconstrained parametrisation psi (or a gradient with respect to psi).

    Attributes
    ----------
    logits : (m,) a, with rho = softmax(a)
    means : (m, d) mu
    covariances : for "full", (m, d, d) lower-triangular L_k with ln L_k[j, j] on the diagonal;
        for "diag", (m, d) log-variances; for "spherical", (m,) log-variances
    """

    logits: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def max_abs(self) -> float:
        """The largest absolute entry over all three arrays (the infinity norm)."""
        return float(max(np.max(np.abs(a)) if a.size else 0.0 for a in self))


def _check_gradient_kind(covariance) -> str:
    return check_covariance_kind(covariance, "covariance", GRADIENT_KINDS)


def _check_X_resp_mixture(X, resp, mixture):
    mixture = check_mixture(mixture)
    X = check_data(X)
    if X.shape[1] != mixture.n_features:
        raise ValueError(f"X must have {mixture.n_features} feature(s) to match the mixture, got shape {X.shape}")
    resp = check_responsibilities(resp, X.shape[0])
    if resp.shape[1] != mixture.n_components:
        raise ValueError(f"resp must have {mixture.n_components} columns (one per component), got {resp.shape}")
    return X, resp, mixture


# --- the gradient with respect to rho, mu, Sigma ------------------------------------------------

def gradient_weights(resp, weights) -> np.ndarray:
    """d ell / d rho_k = (1/n) sum_i E[z_i^(k)] / rho_k.

    Differentiating ln sum_j rho_j N(x_i | k_j) with respect to rho_k gives
    N(x_i | k) / p(x_i) = E[z_i^(k)] / rho_k. This treats the rho_k as m free
    numbers; the constraint sum_k rho_k = 1 enters through the softmax
    (:func:`logits_gradient`). A component with rho_k = 0 has
    E[z_i^(k)] = 0 for every i and gets 0.

    Parameters
    ----------
    resp : array-like of shape (n, m), E[z_i^(k)]
    weights : array-like of shape (m,), rho_k

    Returns
    -------
    array of shape (m,)
    """
    resp = check_responsibilities(resp)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (resp.shape[1],):
        raise ValueError(f"weights must have shape ({resp.shape[1]},), one per column of resp, got {weights.shape}")
    nk = resp.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(nk > 0, nk / (resp.shape[0] * weights), 0.0)


def gradient_means(X, resp, mixture: Mixture) -> np.ndarray:
    """d ell / d mu_k = (1/n) sum_i E[z_i^(k)] Sigma_k^{-1} (x_i - mu_k).

    Setting it to zero gives the M-step's weighted average -- except that
    E[z_i^(k)] depends on mu_k too, which is why the equations are coupled.

    Parameters
    ----------
    X : array-like of shape (n, d)
    resp : array-like of shape (n, m), E[z_i^(k)] at ``mixture``
    mixture : Mixture with m components

    Returns
    -------
    array of shape (m, d)
    """
    X, resp, mixture = _check_X_resp_mixture(X, resp, mixture)
    diff = X[:, None, :] - mixture.means[None, :, :]                  # (n, m, d): x_i - mu_k
    weighted = np.einsum("nk,nkd->kd", resp, diff)                    # sum_i E[z_i^(k)] (x_i - mu_k)
    return np.einsum("kab,kb->ka", mixture.precisions, weighted) / X.shape[0]


def gradient_covariances(X, resp, mixture: Mixture) -> np.ndarray:
    """d ell / d Sigma_k = (1/2n) sum_i E[z_i^(k)] [Sigma_k^{-1} (x_i - mu_k)(x_i - mu_k)^T Sigma_k^{-1} - Sigma_k^{-1}].

    From d ln N(x | mu, Sigma) / d Sigma = (P (x - mu)(x - mu)^T P - P) / 2
    with P = Sigma^{-1}, the entries of Sigma treated as free (so the result
    is symmetric). It vanishes at the M-step's weighted scatter matrix.

    Parameters
    ----------
    X : array-like of shape (n, d)
    resp : array-like of shape (n, m), E[z_i^(k)] at ``mixture``
    mixture : Mixture with m components

    Returns
    -------
    array of shape (m, d, d), symmetric
    """
    X, resp, mixture = _check_X_resp_mixture(X, resp, mixture)
    diff = X[:, None, :] - mixture.means[None, :, :]                  # (n, m, d)
    scatter = np.einsum("nk,nka,nkb->kab", resp, diff, diff)          # S_k, (m, d, d)
    return _covariance_gradient_from_scatter(scatter, resp.sum(axis=0), mixture.precisions, X.shape[0])


def _covariance_gradient_from_scatter(scatter, nk, precisions, n):
    """(P_k S_k P_k - N_k P_k) / 2n with S_k = sum_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T."""
    G = (precisions @ scatter @ precisions - nk[:, None, None] * precisions) / (2.0 * n)
    return 0.5 * (G + np.swapaxes(G, 1, 2))


def loglik_gradient(X, mixture: Mixture) -> MixtureGradient:
    """The gradient of ell(theta, rho) = (1/n) sum_i ln p(x_i | theta, rho) at ``mixture``.

    One E-step for E[z_i^(k)], then :func:`gradient_weights`,
    :func:`gradient_means` and :func:`gradient_covariances`.

    Parameters
    ----------
    X : array-like of shape (n, d)
    mixture : Mixture with m components

    Returns
    -------
    MixtureGradient with weights (m,), means (m, d), covariances (m, d, d)
    """
    mixture = check_mixture(mixture)
    X = check_data(X)
    resp, _ = e_step(X, mixture)
    return MixtureGradient(gradient_weights(resp, mixture.weights), gradient_means(X, resp, mixture),
                           gradient_covariances(X, resp, mixture))


def gradient_from_stats(stats: SufficientStatistics, mixture: Mixture, n: float) -> MixtureGradient:
    """The same gradient as :func:`loglik_gradient`, from the sums of one EM pass.

    With c the centring point, N_k = sum_i E[z_i^(k)], F_k = sum_i E[z_i^(k)] (x_i - c),
    T_k = sum_i E[z_i^(k)] (x_i - c)(x_i - c)^T and delta_k = mu_k - c:

        sum_i E[z_i^(k)] (x_i - mu_k) = F_k - N_k delta_k
        S_k = T_k - F_k delta_k^T - delta_k F_k^T + N_k delta_k delta_k^T

    Parameters
    ----------
    stats : SufficientStatistics of :func:`emlib.suffstats.accumulate` at ``mixture``,
        with full second moments (``diagonal=False``)
    mixture : Mixture with m components
    n : the number of samples

    Returns
    -------
    MixtureGradient
    """
    if stats.diagonal and mixture.n_features > 1:
        raise ValueError("gradient_from_stats needs the full second moments (accumulate with diagonal=False)")
    nk = stats.nk
    first = stats.first - nk[:, None] * (mixture.means - stats.center)    # sum_i r_ik (x_i - mu_k)
    scatter = stats.scatter(mixture.means)                               # S_k around mu_k
    with np.errstate(divide="ignore", invalid="ignore"):
        g_w = np.where(nk > 0, nk / (n * mixture.weights), 0.0)
    g_mu = np.einsum("kab,kb->ka", mixture.precisions, first) / n
    g_cov = _covariance_gradient_from_scatter(scatter, nk, mixture.precisions, n)
    return MixtureGradient(g_w, g_mu, g_cov)


# --- the unconstrained parametrisation and the chain rule ---------------------------------------

def softmax(logits) -> np.ndarray:
    """rho_k = exp(a_k) / sum_j exp(a_j), shape (m,); computed after subtracting max(a) (no overflow)."""
    a = np.asarray(logits, dtype=float)
    e = np.exp(a - a.max())
    return e / e.sum()


def to_unconstrained(mixture: Mixture, covariance: str = "full") -> UnconstrainedParams:
    """psi for a mixture: a_k = ln rho_k - mean_j ln rho_j, mu_k, and the covariance parameters.

    The start is projected onto the chosen family: "diag" keeps the diagonal
    of each Sigma_k, "spherical" the mean of that diagonal.

    Parameters
    ----------
    mixture : Mixture with every weight > 0
    covariance : {"full", "diag", "spherical"}

    Returns
    -------
    UnconstrainedParams
    """
    mixture = check_mixture(mixture)
    kind = _check_gradient_kind(covariance)
    if np.any(mixture.weights <= 0):
        raise ValueError("every weight must be > 0 for the softmax parametrisation (ln 0 = -inf); "
                         f"got weights {np.round(mixture.weights, 4)}; drop zero-weight components with emlib.trim")
    log_w = np.log(mixture.weights)
    logits = log_w - log_w.mean()
    mixture = mixture.as_kind(kind)
    if kind == "full":
        L = np.array(mixture.cholesky)
        idx = np.arange(mixture.n_features)
        L[:, idx, idx] = np.log(L[:, idx, idx])
        cov = L
    else:
        var = np.diagonal(mixture.covariances, axis1=1, axis2=2)       # (m, d)
        cov = np.log(var) if kind == "diag" else np.log(var[:, 0])
    return UnconstrainedParams(logits, np.array(mixture.means), cov)


def covariances_from_unconstrained(cov_params, covariance: str, d: int) -> np.ndarray:
    """Sigma_k from psi's covariance part, shape (m, d, d): L_k L_k^T, diag(exp v_k) or exp(v_k) I."""
    kind = _check_gradient_kind(covariance)
    p = np.asarray(cov_params, dtype=float)
    if kind == "full":
        idx = np.arange(d)
        L = np.tril(p)
        L[:, idx, idx] = np.exp(p[:, idx, idx])
        return L @ np.swapaxes(L, 1, 2)
    var = np.exp(p) if kind == "diag" else np.repeat(np.exp(p)[:, None], d, axis=1)
    return var[:, :, None] * np.eye(d)


def from_unconstrained(params: UnconstrainedParams, covariance: str = "full") -> Mixture:
    """The Mixture of psi: rho = softmax(a), mu, and Sigma_k from :func:`covariances_from_unconstrained`."""
    means = np.asarray(params.means, dtype=float)
    if means.ndim != 2:
        raise ValueError(f"params.means must have shape (m, d), got {means.shape}")
    return Mixture(softmax(params.logits), means,
                   covariances_from_unconstrained(params.covariances, covariance, means.shape[1]), covariance)


def logits_gradient(grad_weights, weights) -> np.ndarray:
    """d ell / d a_k = rho_k (g_k - sum_j rho_j g_j), with g = d ell / d rho (chain rule through softmax).

    Since d rho_j / d a_k = rho_j (delta_jk - rho_k). With g_k = N_k / (n rho_k)
    (:func:`gradient_weights`) this is N_k / n - rho_k: zero exactly when
    rho_k equals the M-step's update (1/n) sum_i E[z_i^(k)].

    Parameters
    ----------
    grad_weights : array of shape (m,)
    weights : array of shape (m,), rho

    Returns
    -------
    array of shape (m,)
    """
    g = np.asarray(grad_weights, dtype=float)
    rho = np.asarray(weights, dtype=float)
    rg = rho * g
    return rg - rho * rg.sum()


def cholesky_gradient(grad_cov, cholesky) -> np.ndarray:
    """d ell / d psi for Sigma_k = L_k L_k^T with L_k[j, j] = exp(s_kj), shape (m, d, d).

    For symmetric G_k = d ell / d Sigma_k, d ell / d L_k = 2 G_k L_k (from
    d Sigma = dL L^T + L dL^T). Keep its lower triangle (the free entries),
    and on the diagonal multiply by dL_jj / ds_j = L_jj.

    Parameters
    ----------
    grad_cov : array of shape (m, d, d), symmetric
    cholesky : array of shape (m, d, d), lower-triangular L_k

    Returns
    -------
    array of shape (m, d, d), lower-triangular: the strict lower part is the
    gradient with respect to L_k's entries, the diagonal with respect to s_k
    """
    G = np.asarray(grad_cov, dtype=float)
    L = np.asarray(cholesky, dtype=float)
    dL = np.tril(2.0 * G @ L)
    idx = np.arange(L.shape[1])
    dL[:, idx, idx] *= L[:, idx, idx]
    return dL


def log_variance_gradient(grad_cov, covariances, covariance: str = "diag") -> np.ndarray:
    """d ell / d v for log-variances: "diag" (m, d), "spherical" (m,).

    diag:      Sigma_k = diag(exp v_k), so d ell / d v_kj = G_k[j, j] sigma_kj^2
    spherical: Sigma_k = exp(v_k) I,   so d ell / d v_k = trace(G_k) sigma_k^2

    Parameters
    ----------
    grad_cov : array of shape (m, d, d), G_k = d ell / d Sigma_k
    covariances : array of shape (m, d, d), the (diagonal) Sigma_k
    covariance : {"diag", "spherical"}
    """
    if covariance not in ("diag", "spherical"):
        raise ValueError(f"covariance must be 'diag' or 'spherical' for log-variances, got {covariance!r}")
    G = np.diagonal(np.asarray(grad_cov, dtype=float), axis1=1, axis2=2)        # (m, d)
    var = np.diagonal(np.asarray(covariances, dtype=float), axis1=1, axis2=2)  # (m, d)
    if covariance == "diag":
        return G * var
    return G.sum(axis=1) * var[:, 0]


def unconstrained_gradient(grad: MixtureGradient, mixture: Mixture, covariance: str = "full") -> UnconstrainedParams:
    """The chain rule from d ell / d (rho, mu, Sigma) to d ell / d psi.

    Parameters
    ----------
    grad : MixtureGradient at ``mixture``
    mixture : Mixture (in the family ``covariance``)
    covariance : {"full", "diag", "spherical"}

    Returns
    -------
    UnconstrainedParams holding gradients, shaped as :func:`to_unconstrained`'s output
    """
    kind = _check_gradient_kind(covariance)
    g_a = logits_gradient(grad.weights, mixture.weights)
    if kind == "full":
        g_c = cholesky_gradient(grad.covariances, mixture.cholesky)
    else:
        g_c = log_variance_gradient(grad.covariances, mixture.covariances, kind)
    return UnconstrainedParams(g_a, np.array(grad.means), g_c)


def ascent_step(params: UnconstrainedParams, grad: UnconstrainedParams, lr: float) -> UnconstrainedParams:
    """psi^(t+1) = psi^(t) + eta grad_psi ell(psi^(t)), term by term."""
    return UnconstrainedParams(*(p + lr * g for p, g in zip(params, grad)))


# --- the loop ------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class GradientResult(EMResult):
    """What :func:`gradient_ascent` returns: an :class:`emlib.EMResult` plus the ascent's own records.

    Attributes (beyond EMResult's mixture, loglik, history, n_iter, converged, covariance)
    ----------------------------------------------------------------------------------------
    elapsed : array of shape (n_iter + 1,), wall-clock seconds from the start of the call
        until l(theta^(t)) was known (for plotting against time)
    grad_norm : array of shape (n_iter + 1,), max |d ell / d psi| at theta^(t)
    lr : float, the learning rate eta
    diverged : bool, whether a step produced NaN / inf / a non-positive-definite covariance
        (the run stopped there; ``mixture`` is the last valid iterate)
    message : str, why the run stopped
    """

    elapsed: np.ndarray | None = None
    grad_norm: np.ndarray | None = None
    lr: float = float("nan")
    diverged: bool = False
    message: str = ""

    def __repr__(self) -> str:
        return (f"GradientResult(lr={self.lr:g}, n_iter={self.n_iter}, converged={self.converged}, "
                f"diverged={self.diverged}, loglik={self.loglik[-1]:.6g}, m={self.mixture.n_components}, "
                f"covariance={self.covariance!r})")


def _evaluate(X, mixture, center, kind, chunk_size):
    """One pass: l(theta) and the gradient with respect to psi; :class:`Halt` if they are not representable."""
    try:
        stats = accumulate(X, mixture, center=center, diagonal=False, chunk_size=chunk_size)
    except ValueError:
        raise Halt("the density of a sample is not representable in float64") from None
    if not np.isfinite(stats.loglik):
        raise Halt("the log-likelihood is not finite")
    grad = unconstrained_gradient(gradient_from_stats(stats, mixture, X.shape[0]), mixture, kind)
    if not all(np.all(np.isfinite(g)) for g in grad):
        raise Halt("the gradient is not finite")
    return stats.loglik, grad


def gradient_ascent(X, init: Mixture, *, lr: float, max_iter: int = 1000, covariance: str = "full",
                    tol: float = 1e-6, keep_history: bool = True, chunk_size: int | None = None,
                    warn: bool = True) -> GradientResult:
    """Maximise the mixture log-likelihood by fixed-step gradient ascent in the parametrisation psi.

        psi^(t+1) = psi^(t) + eta grad_psi ell(psi^(t)),   ell = (1/n) sum_i ln p(x_i | theta, rho)

    Parameters
    ----------
    X : array-like of shape (n, d), or (n,) for d = 1; finite values
    init : Mixture, theta^(0), every weight > 0 (projected onto the family ``covariance``)
    lr : float > 0, the learning rate eta. Too small and the run crawls; too
        large and it oscillates or diverges. There is no safe default: that is the point.
    max_iter : int >= 0, the most steps to take
    covariance : {"full", "diag", "spherical"}
    tol : float >= 0. Stop when every entry of grad_psi ell is below tol in
        absolute value (a stationary point). Unlike EM's rule, a small change
        of l is no sign of convergence here: a tiny eta makes every change small.
        tol=0 runs exactly max_iter steps unless the run diverges.
    keep_history : bool, keep theta^(t) for every t in ``history``
    chunk_size : rows per chunk of the pass over the data (as in :func:`emlib.em`)
    warn : bool, issue a RuntimeWarning when the run diverges

    Returns
    -------
    GradientResult, an EMResult with ``elapsed``, ``grad_norm``, ``lr``,
    ``diverged`` and ``message``. ``loglik`` holds the total l(theta^(t)) like EM's,
    so the two plot the same way.

    Notes
    -----
    A step that produces a non-finite parameter, a covariance that is not
    numerically positive definite, or a non-finite log-likelihood or gradient
    ends the run with ``diverged=True``; the result keeps the last valid
    iterate. Nothing stops the log-likelihood from going down: a fixed step
    has no such guarantee, which is one of the lecture's points.
    """
    X = check_data(X)
    n, d = X.shape
    check_mixture(init, d, "init", "init_kmeans_pp(X, m, rng)")
    lr = check_float(lr, "lr", minimum=0.0, strict=True)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    kind = _check_gradient_kind(covariance)
    tol = check_float(tol, "tol", minimum=0.0)
    center = X.mean(axis=0)
    start = time.perf_counter()

    def evaluate(params):                   # the "E-step": l(theta), the gradient, the time
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            try:
                mixture = from_unconstrained(params, kind)
            except (ValueError, np.linalg.LinAlgError):
                raise Halt("a covariance is not numerically positive definite") from None
            loglik, grad = _evaluate(X, mixture, center, kind, chunk_size)
        return _Evaluation(params, mixture, loglik, grad, time.perf_counter() - start)

    def step(ev):                           # the "M-step": one fixed step along the gradient
        return _ascent_step(ev.params, ev.grad, lr, kind)

    run = iterate(evaluate, step, to_unconstrained(init, kind), max_iter=max_iter,
                  converged=lambda previous, ev: ev.grad.max_abs() < tol,
                  record=lambda ev: (ev.loglik, ev.grad.max_abs(), ev.elapsed, ev.mixture if keep_history else None),
                  keep_history=False)
    logliks, norms, elapsed, mixtures = zip(*run.records)
    if run.halted is not None:
        message = (f"diverged at step {run.n_iter + 1} with lr={lr:g}: {run.halted}. The result holds the last "
                   f"valid iterate (t = {run.n_iter}); use a smaller learning rate")
        if warn:
            warnings.warn(message, RuntimeWarning, stacklevel=2)
    elif run.converged:
        message = (f"converged: max |gradient| = {norms[-1]:.3g} < tol = {tol:g} "
                   + (f"after {run.n_iter} steps" if run.n_iter else "at t = 0"))
    else:
        message = f"reached max_iter={max_iter}"
    history = tuple(mixtures) if keep_history else ()
    return GradientResult(mixture=run.evidence.mixture, loglik=np.array(logliks), history=history,
                          n_iter=run.n_iter, converged=run.converged, covariance=kind, X=X,
                          elapsed=np.array(elapsed), grad_norm=np.array(norms), lr=lr,
                          diverged=run.halted is not None, message=message)


class _Evaluation(NamedTuple):
    params: UnconstrainedParams
    mixture: Mixture
    loglik: float
    grad: UnconstrainedParams
    elapsed: float


def _ascent_step(params: UnconstrainedParams, grad: UnconstrainedParams, lr: float, kind: str):
    """psi + eta grad, or :class:`emlib.em.Halt` with the reason when the step leaves the safe range."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        new = ascent_step(params, grad, lr)
    if not all(np.all(np.isfinite(p)) for p in new):
        raise Halt("a parameter became NaN or infinite")
    logs = new.covariances if kind != "full" else np.diagonal(new.covariances, axis1=1, axis2=2)
    if np.any(np.abs(logs) > LOG_LIMIT):
        raise Halt("a (log-)variance ran away beyond float64's safe range")
    return new
