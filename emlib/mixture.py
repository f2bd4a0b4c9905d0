"""A Gaussian mixture: the model of the lecture's "mixture density" slide.

    p(x | theta, rho) = sum_k rho_k N(x | mu_k, Sigma_k),   rho_k = P(c_k)

A :class:`Mixture` is a small immutable value. It is validated once when it is
made (weights form a distribution, covariances are symmetric positive
definite) and caches what every density evaluation needs: the Cholesky factor
of each covariance, its log-determinant and the precision matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    as_float_array,
    check_covariance_kind,
    check_data,
    check_finite,
    check_int,
    check_rng,
    check_weights,
    freeze,
)

LOG_2PI = np.log(2.0 * np.pi)


def logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """ln sum_k exp(a[i, k]) for every row i, without overflow or underflow.

    Parameters
    ----------
    a : array of shape (n, m)

    Returns
    -------
    array of shape (n,)

    The trick: ln sum_k e^{a_k} = a_max + ln sum_k e^{a_k - a_max}; every
    exponent is then <= 0 and the largest term is exactly 1. Rows that are
    -inf everywhere (no component can explain the point) give -inf.
    """
    amax = np.max(a, axis=1)
    safe = np.where(np.isfinite(amax), amax, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.sum(np.exp(a - safe[:, None]), axis=1))


def _symmetric(cov: np.ndarray) -> np.ndarray:
    """(cov + cov^T) / 2, after refusing matrices (m, d, d) that are not symmetric to 1e-8 (relative)."""
    asym = np.abs(cov - np.swapaxes(cov, 1, 2))
    scale = np.maximum(np.abs(cov).max(axis=(1, 2)), np.finfo(float).tiny)
    worst = asym.max(axis=(1, 2)) / scale
    if np.any(worst > 1e-8):
        k = int(np.argmax(worst))
        raise ValueError(f"covariances[{k}] is not symmetric (relative asymmetry {worst[k]:.3g}); "
                         "expected symmetric positive definite matrices")
    return 0.5 * (cov + np.swapaxes(cov, 1, 2))


def _factor(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cholesky factors L_k (m, d, d), ln det Sigma_k (m,) and precisions Sigma_k^{-1} = L^{-T} L^{-1} (m, d, d)."""
    m, d, _ = cov.shape
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        smallest = [float(np.linalg.eigvalsh(c).min()) for c in cov]
        bad = [k for k in range(m) if smallest[k] <= 0]
        raise ValueError(
            f"covariances must be positive definite; components {bad} are not "
            f"(smallest eigenvalues {[smallest[k] for k in bad]}). "
            "If they came from a collapsed component, increase reg or set min_weight to trim it."
        ) from None
    log_det = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    with np.errstate(over="ignore"):
        chol_inv = np.linalg.solve(chol, np.broadcast_to(np.eye(d), (m, d, d)))    # L^{-1}
        prec = np.swapaxes(chol_inv, 1, 2) @ chol_inv                              # Sigma^{-1} = L^{-T} L^{-1}
    # LAPACK refuses every non-positive pivot; what it accepts can still be too small to invert in float64
    # (a variance of 1e-320 has the precision 1e320 = inf): name those components instead of failing later.
    bad = [k for k in range(m) if not np.all(np.isfinite(prec[k]))]
    if bad:
        raise ValueError(f"covariances must be invertible in float64; components {bad} have variances too small "
                         f"(smallest eigenvalues {[float(np.linalg.eigvalsh(cov[k]).min()) for k in bad]}). "
                         "If they came from a collapsed component, increase reg or set min_weight to trim it.")
    return chol, log_det, 0.5 * (prec + np.swapaxes(prec, 1, 2))


def _check_structure(cov: np.ndarray, kind: str) -> None:
    """Refuse covariances (m, d, d) that the covariance kind does not allow (relative tolerance 1e-10)."""
    m, d, _ = cov.shape
    scale = np.maximum(np.abs(cov).max(), np.finfo(float).tiny)
    diag = np.diagonal(cov, axis1=1, axis2=2)                       # (m, d)
    off = cov[:, ~np.eye(d, dtype=bool)]
    if kind in ("diag", "spherical") and off.size and np.abs(off).max() > 1e-10 * scale:
        raise ValueError(f"covariances must be diagonal for kind={kind!r}, got off-diagonal entries up to "
                         f"{np.abs(off).max():.3g}; use kind='full' for correlated features")
    if kind == "spherical" and np.abs(diag - diag[:, :1]).max() > 1e-10 * scale:
        raise ValueError("covariances must be sigma_k^2 I (equal diagonal entries) for kind='spherical'; "
                         "use kind='diag' for one variance per feature")
    if kind == "tied" and np.abs(cov - cov[:1]).max() > 1e-10 * scale:
        raise ValueError("covariances must be one matrix shared by every component for kind='tied'; "
                         "use kind='full' for one matrix per component")


@dataclass(frozen=True, eq=False)
class Mixture:
    """A mixture of m Gaussians in d dimensions.

    Parameters
    ----------
    weights : array-like of shape (m,)
        Mixing weights rho_k = P(c_k): non-negative, summing to 1 (within 1e-8).
    means : array-like of shape (m, d)
        Component means mu_k.
    covariances : array-like of shape (m, d, d)
        Component covariance matrices Sigma_k, symmetric positive definite.
    kind : {"full", "diag", "spherical", "tied", "fixed"}, default "full"
        The covariance kind: which covariances the model allows, and so how
        many free parameters it has (:func:`emlib.n_parameters`, BIC, AIC
        read it from here). "diag" needs diagonal matrices, "spherical"
        sigma_k^2 I, "tied" one matrix shared by all components, "full" any;
        "fixed" means the covariances are known, not estimated (no free
        covariance parameter). :func:`emlib.em` and :func:`emlib.m_step`
        return mixtures of the kind they fitted.

    Attributes (derived, read-only)
    -------------------------------
    cholesky : (m, d, d) lower-triangular L_k with Sigma_k = L_k L_k^T
    log_det : (m,) ln det Sigma_k
    precisions : (m, d, d) Sigma_k^{-1}
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    kind: str = "full"
    cholesky: np.ndarray = field(init=False, repr=False)
    log_det: np.ndarray = field(init=False, repr=False)
    precisions: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        w = check_weights(self.weights)
        mu = as_float_array(self.means, "means", 2)
        cov = as_float_array(self.covariances, "covariances", 3)
        m = w.shape[0]
        if mu.shape[0] != m:
            raise ValueError(f"means must have shape (m, d) with m = {m} (len(weights)), got {mu.shape}")
        d = mu.shape[1]
        if d < 1:
            raise ValueError(f"means must have at least one feature, got shape {mu.shape}")
        if cov.shape != (m, d, d):
            raise ValueError(f"covariances must have shape (m, d, d) = ({m}, {d}, {d}), got {cov.shape}")
        check_finite(mu, "means")
        check_finite(cov, "covariances")
        cov = _symmetric(cov)
        _check_structure(cov, check_covariance_kind(self.kind, "kind"))
        chol, log_det, prec = _factor(cov)
        freeze(self, weights=w, means=mu, covariances=cov, cholesky=chol, log_det=log_det, precisions=prec)

    # --- alternative constructors -------------------------------------------------
    @classmethod
    def univariate(cls, weights, means, variances, kind: str = "full") -> "Mixture":
        """A 1-D mixture from m weights, m means and m variances sigma_k^2 (shapes (m,)).

        In one dimension "full", "diag" and "spherical" coincide; ``kind`` says
        which one was fitted ("tied": all variances equal; "fixed": known).
        """
        w = as_float_array(weights, "weights", 1)
        mu = as_float_array(means, "means", 1)
        var = as_float_array(variances, "variances", 1)
        if not (w.shape == mu.shape == var.shape):
            raise ValueError(f"weights, means and variances must have the same shape (m,), "
                             f"got {w.shape}, {mu.shape}, {var.shape}")
        check_finite(var, "variances")
        if np.any(var <= 0):
            raise ValueError(f"variances must be positive, got {var}")
        return cls(w, mu[:, None], var[:, None, None], kind)

    # --- sizes ----------------------------------------------------------------------
    @property
    def n_components(self) -> int:
        """m, the number of components."""
        return self.weights.shape[0]

    @property
    def n_features(self) -> int:
        """d, the dimension of a sample."""
        return self.means.shape[1]

    def __repr__(self) -> str:
        with np.printoptions(precision=4, suppress=True):
            return (f"Mixture(m={self.n_components}, d={self.n_features}, kind={self.kind!r},\n"
                    f"  weights={self.weights},\n  means={self.means.tolist() if self.n_features > 1 else self.means.ravel()})")

    def _check_X(self, X) -> np.ndarray:
        X = check_data(X)
        if X.shape[1] != self.n_features:
            if self.n_features == 1 and X.shape[0] == 1:
                X = X.T
            else:
                raise ValueError(f"X must have {self.n_features} feature(s) (columns) to match the mixture, "
                                 f"got shape {X.shape}")
        return X

    # --- densities --------------------------------------------------------------------
    def component_logpdf(self, X) -> np.ndarray:
        """ln p(x_i | c_k, theta_k) = ln N(x_i | mu_k, Sigma_k) for every sample and component.

        Parameters
        ----------
        X : array-like of shape (n, d), or (n,) when d = 1

        Returns
        -------
        array of shape (n, m)

        With Sigma_k = L_k L_k^T and y = L_k^{-1} (x - mu_k), the Mahalanobis
        term (x - mu_k)^T Sigma_k^{-1} (x - mu_k) equals |y|^2, and
        ln det Sigma_k = 2 sum ln diag L_k: no inverse and no determinant of
        Sigma_k is ever formed.
        """
        X = self._check_X(X)
        chol_inv_T = np.swapaxes(np.linalg.inv(self.cholesky), 1, 2)   # (m, d, d): L_k^{-T}
        diff = X[:, None, :] - self.means[None, :, :]                   # (n, m, d): x_i - mu_k
        y = np.einsum("nkd,kde->nke", diff, chol_inv_T)                 # (n, m, d): L_k^{-1}(x_i - mu_k)
        mahalanobis = np.einsum("nke,nke->nk", y, y)
        return -0.5 * (self.n_features * LOG_2PI + self.log_det[None, :] + mahalanobis)

    def weighted_logpdf(self, X) -> np.ndarray:
        """ln [rho_k p(x_i | c_k, theta_k)], shape (n, m); the joint ln p(x_i, c_k)."""
        with np.errstate(divide="ignore"):
            return self.component_logpdf(X) + np.log(self.weights)

    def logpdf(self, X) -> np.ndarray:
        """ln p(x_i | theta, rho) = ln sum_k rho_k N(x_i | mu_k, Sigma_k), shape (n,)."""
        return logsumexp_rows(self.weighted_logpdf(X))

    def pdf(self, X) -> np.ndarray:
        """The mixture density p(x_i | theta, rho), shape (n,)."""
        return np.exp(self.logpdf(X))

    def loglik(self, X) -> float:
        """l(theta, rho) = sum_i ln p(x_i | theta, rho), the log-likelihood of the data set."""
        return float(np.sum(self.logpdf(X)))

    def posterior(self, X) -> np.ndarray:
        """P(c_k | x_i) = rho_k p(x_i | c_k) / sum_j rho_j p(x_i | c_j), shape (n, m); rows sum to 1."""
        joint = self.weighted_logpdf(X)
        return np.exp(joint - logsumexp_rows(joint)[:, None])

    def classify(self, X) -> np.ndarray:
        """MAP classification: argmax_k rho_k p(x_i | c_k, theta_k), shape (n,) of ints in [0, m)."""
        return np.argmax(self.weighted_logpdf(X), axis=1)

    # --- sampling ---------------------------------------------------------------------
    def sample(self, n, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw n samples by the two-stage generative process.

        First pick component z_i = k with probability rho_k, then draw
        x_i ~ N(mu_k, Sigma_k) as mu_k + L_k e with e ~ N(0, I).

        Parameters
        ----------
        n : int >= 0
        rng : numpy.random.Generator or int seed

        Returns
        -------
        X : array of shape (n, d)
        z : array of shape (n,), the component each sample came from
        """
        n = check_int(n, "n", minimum=0)
        rng = check_rng(rng)
        z = rng.choice(self.n_components, size=n, p=self.weights)
        e = rng.standard_normal((n, self.n_features))
        X = self.means[z] + np.einsum("nij,nj->ni", self.cholesky[z], e)
        return X, z

    # --- conveniences -------------------------------------------------------------------
    def as_kind(self, kind: str) -> "Mixture":
        """The nearest mixture of the covariance kind ``kind``: a start that belongs to the family.

        full and fixed keep the covariances; diag keeps the diagonal of each
        Sigma_k; spherical replaces it by its average, sigma_k^2 = trace(Sigma_k) / d;
        tied shares the weighted average sum_k rho_k Sigma_k (covariances that
        are already equal are kept as they are). Weights and means are unchanged.
        """
        kind = check_covariance_kind(kind, "kind")
        cov, d = self.covariances, self.n_features
        if kind in ("diag", "spherical"):
            var = np.diagonal(cov, axis1=1, axis2=2)                          # (m, d)
            if kind == "spherical":
                var = np.repeat(var.mean(axis=1, keepdims=True), d, axis=1)
            cov = var[:, :, None] * np.eye(d)
        elif kind == "tied" and np.any(cov != cov[:1]):
            cov = np.broadcast_to(np.einsum("k,kab->ab", self.weights, cov), cov.shape)
        return Mixture(self.weights, self.means, cov, kind)

    def with_weights(self, weights) -> "Mixture":
        """The same components with other weights, shape (m,)."""
        return Mixture(weights, self.means, self.covariances, self.kind)

    def subset(self, keep) -> "Mixture":
        """The mixture restricted to the components in ``keep``, weights renormalised."""
        keep = np.asarray(keep)
        if keep.size == 0:                  # np.asarray([]) is a float array: no index at all
            raise ValueError("subset must keep at least one component of positive weight, got none")
        w = self.weights[keep]
        if w.size == 0 or not w.sum() > 0:
            raise ValueError("subset must keep at least one component of positive weight")
        return Mixture(w / w.sum(), self.means[keep], self.covariances[keep], self.kind)
