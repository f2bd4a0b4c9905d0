"""MAP-EM: a conjugate prior on the parameters of a Gaussian mixture.

Maximum likelihood has no maximum for a mixture: a component that sits on
one sample x_i and lets Sigma_k -> 0 drives l(theta) to +infinity (Bishop,
Pattern Recognition and Machine Learning, section 9.2.1). A prior p(theta)
that vanishes as Sigma_k -> 0 removes those singularities; EM then climbs the
log-posterior

    ln p(theta | X) = l(theta) + ln p(theta) + const.

The prior used here (Fraley and Raftery, 2007, Journal of Classification 24,
"Bayesian regularization for normal mixture estimation and model-based
clustering", without their weak prior on the means):

    rho     ~ Dirichlet(alpha, ..., alpha)
    Sigma_k ~ inverse-Wishart(Psi, nu), each k, independently
    mu_k      flat (no prior)

    ln p(theta) = sum_k (alpha - 1) ln rho_k
                + sum_k [ -(nu + d + 1)/2 ln det Sigma_k - 1/2 tr(Psi Sigma_k^{-1}) ] + const.

Maximising Q(theta | theta^(t)) + ln p(theta) instead of Q gives the MAP
M-step. With N_k = sum_i E[z_i^(k)], n = sum_k N_k and the scatter
S_k = sum_i E[z_i^(k)] (x_i - mu_k)(x_i - mu_k)^T:

    rho_k   = (N_k + alpha - 1) / (n + m (alpha - 1))          (a Lagrange multiplier, as for ML)
    mu_k    = sum_i E[z_i^(k)] x_i / N_k                        (unchanged: the means have no prior)
    Sigma_k = (S_k + Psi) / (N_k + nu + d + 1)                  (set the derivative in Sigma_k^{-1} to 0)

The prior acts as pseudo-observations: alpha - 1 extra samples for each
weight, and a scatter Psi carried by nu + d + 1 extra samples for each
covariance. So the MAP covariance of every kind is the ML rule of that kind
(:data:`emlib.steps.COVARIANCE_UPDATES`) applied to S_k + Psi and
N_k + nu + d + 1: for "diag" and "spherical" this is the maximiser over
diagonal and sigma^2 I matrices of the same inverse-Wishart density, for
"tied" the shared Sigma carries the prior factor once per component,
Sigma = (sum_k S_k + m Psi) / (n + m (nu + d + 1)). Whatever the data,
Sigma_k >= Psi / (N_k + nu + d + 1) > 0: no component can collapse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, check_data, check_finite, check_float, check_int
from .mixture import Mixture


@dataclass(frozen=True, eq=False)
class Prior:
    """A Dirichlet prior on the weights and an inverse-Wishart prior on each covariance.

    Parameters
    ----------
    alpha : float >= 1, the Dirichlet concentration of every weight
        (1: no prior on the weights; larger values pull the weights towards 1/m)
    scale : array-like of shape (d, d), symmetric positive definite, or None
        Psi, the inverse-Wishart scale matrix (None: no prior on the covariances)
    dof : float > d - 1, or None: nu, the inverse-Wishart degrees of freedom
        (default d + 2, as Fraley and Raftery)

    The MAP M-step it implies (see the module docstring):
    rho_k = (N_k + alpha - 1) / (n + m (alpha - 1)) and
    Sigma_k = (S_k + Psi) / (N_k + nu + d + 1).
    """

    alpha: float = 1.0
    scale: np.ndarray | None = None
    dof: float | None = None

    def __post_init__(self):
        alpha = check_float(self.alpha, "alpha")
        if alpha < 1:
            raise ValueError(f"alpha must be >= 1 (below 1 the posterior has no maximum inside the simplex), "
                             f"got {alpha}")
        object.__setattr__(self, "alpha", alpha)
        if self.scale is None:
            if self.dof is not None:
                raise ValueError("dof was given without scale; an inverse-Wishart prior needs both (or just scale)")
            return
        psi = as_float_array(self.scale, "scale", 2)
        d = psi.shape[0]
        if psi.shape != (d, d) or d < 1:
            raise ValueError(f"scale must be a square (d, d) matrix, got shape {psi.shape}")
        check_finite(psi, "scale")
        if np.abs(psi - psi.T).max() > 1e-10 * max(np.abs(psi).max(), np.finfo(float).tiny):
            raise ValueError("scale must be symmetric (Psi, a scatter matrix)")
        psi = 0.5 * (psi + psi.T)
        if np.linalg.eigvalsh(psi).min() <= 0:
            raise ValueError(f"scale must be positive definite, got smallest eigenvalue {np.linalg.eigvalsh(psi).min():.3g}")
        dof = float(d + 2) if self.dof is None else check_float(self.dof, "dof")
        if not dof > d - 1:
            raise ValueError(f"dof must be > d - 1 = {d - 1} for a proper inverse-Wishart prior, got {dof}")
        psi.flags.writeable = False
        object.__setattr__(self, "scale", psi)
        object.__setattr__(self, "dof", dof)

    @classmethod
    def from_data(cls, X, m: int, *, alpha: float = 1.0, dof: float | None = None) -> "Prior":
        """Fraley and Raftery's default: Psi = Cov(X) / m^(2/d), nu = d + 2.

        The prior's covariance scale is that of the whole data set shrunk to the
        share of the volume one of m components would get.

        Parameters
        ----------
        X : array-like of shape (n, d), n >= 2
        m : int >= 1, the number of components
        alpha, dof : as in :class:`Prior`
        """
        X = check_data(X)
        m = check_int(m, "m", minimum=1)
        if X.shape[0] < 2:
            raise ValueError(f"X needs at least 2 samples to estimate a covariance, got {X.shape[0]}")
        d = X.shape[1]
        cov = np.atleast_2d(np.cov(X, rowvar=False))
        return cls(alpha=alpha, scale=cov / m ** (2.0 / d), dof=dof)

    @property
    def n_features(self) -> int | None:
        return None if self.scale is None else self.scale.shape[0]

    def check_features(self, d: int) -> "Prior":
        """This prior, after checking that its scale is (d, d) (the data's d features)."""
        if self.scale is not None and self.scale.shape != (d, d):
            raise ValueError(f"prior.scale must have shape (d, d) = ({d}, {d}) for data with {d} feature(s), "
                             f"got {self.scale.shape}")
        return self

    # --- the MAP M-step: the prior as pseudo-observations ---------------------------------------------

    def weights(self, nk: np.ndarray) -> np.ndarray:
        """rho_k = (N_k + alpha - 1) / (n + m (alpha - 1)), shape (m,)."""
        count = nk + (self.alpha - 1.0)
        return count / count.sum()

    def scatter(self, scatter: np.ndarray) -> np.ndarray:
        """S_k + Psi, shape (m, d, d): the scatter with the prior's pseudo-scatter added."""
        return scatter if self.scale is None else scatter + self.scale

    def counts(self, nk: np.ndarray) -> np.ndarray:
        """N_k + nu + d + 1, shape (m,): the counts with the prior's pseudo-count added."""
        return nk if self.scale is None else nk + (self.dof + self.scale.shape[0] + 1.0)

    # --- the objective --------------------------------------------------------------------------------

    def log_density(self, mixture: Mixture) -> float:
        """ln p(theta) up to a constant that does not depend on theta.

            sum_k (alpha - 1) ln rho_k + sum_k [ -(nu + d + 1)/2 ln det Sigma_k - 1/2 tr(Psi Sigma_k^{-1}) ]

        (the covariance term is left out for the kind "fixed", whose covariances
        are not estimated, and when there is no scale).
        """
        total = 0.0
        if self.alpha != 1.0:
            with np.errstate(divide="ignore"):
                total += (self.alpha - 1.0) * float(np.sum(np.log(mixture.weights)))
        if self.scale is not None and mixture.kind != "fixed":
            d = self.scale.shape[0]
            trace = np.einsum("ab,kba->k", self.scale, mixture.precisions)
            total += float(np.sum(-0.5 * (self.dof + d + 1.0) * mixture.log_det - 0.5 * trace))
        return total

    def __repr__(self) -> str:
        if self.scale is None:
            return f"Prior(alpha={self.alpha:g})"
        return f"Prior(alpha={self.alpha:g}, scale=<{self.scale.shape[0]}x{self.scale.shape[0]}>, dof={self.dof:g})"


def check_prior(prior, d: int) -> Prior | None:
    """None, or a :class:`Prior` whose scale fits d features."""
    if prior is None:
        return None
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be an emlib.Prior (e.g. emlib.Prior.from_data(X, m)) or None, "
                        f"got {type(prior).__name__}")
    return prior.check_features(d)
