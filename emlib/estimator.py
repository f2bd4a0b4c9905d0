"""A scikit-learn-style estimator around :func:`emlib.em`.

``GaussianMixtureEM`` follows scikit-learn's conventions (constructor
arguments stored as given, ``fit`` returns ``self``, fitted attributes end in
``_``), so it can stand beside ``sklearn.mixture.GaussianMixture`` in a
comparison or a pipeline. scikit-learn itself is not required.
"""

from __future__ import annotations

import inspect

import numpy as np

from ._validation import check_covariance_kind, check_data, check_int, check_rng
from .em import em
from .init import init_from_data, init_kmeans_pp
from .mixture import Mixture
from .selection import aic, bic

INIT_METHODS = ("kmeans++", "random")


class GaussianMixtureEM:
    """Gaussian mixture fitted by EM.

    Parameters
    ----------
    n_components : int, m
    covariance : {"full", "diag", "spherical", "tied"}
    init : {"kmeans++", "random"}: :func:`init_kmeans_pp` or :func:`init_from_data`
    n_init : int, restarts; the fit with the highest log-likelihood is kept
    max_iter, tol, reg, min_weight : as in :func:`emlib.em`
    random_state : int, Generator or None

    Fitted attributes
    -----------------
    mixture_ : Mixture
    weights_ : (m,), means_ : (m, d), covariances_ : (m, d, d)
    converged_ : bool, n_iter_ : int
    lower_bound_ : float, the final per-sample log-likelihood
    loglik_history_ : (n_iter_ + 1,) total log-likelihood per iteration
    n_features_in_ : int
    """

    def __init__(self, n_components: int = 1, *, covariance: str = "full", init: str = "kmeans++",
                 n_init: int = 1, max_iter: int = 100, tol: float = 1e-6, reg: float = 1e-6,
                 min_weight: float | None = None, random_state=None):
        self.n_components = n_components
        self.covariance = covariance
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.reg = reg
        self.min_weight = min_weight
        self.random_state = random_state

    # --- scikit-learn protocol ----------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params) -> "GaussianMixtureEM":
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for GaussianMixtureEM; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"GaussianMixtureEM({args})"

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None) -> "GaussianMixtureEM":
        """Fit by EM (``n_init`` restarts); ``y`` is ignored. Returns self."""
        X = check_data(X)
        m = check_int(self.n_components, "n_components", minimum=1)
        if m > X.shape[0]:
            raise ValueError(f"n_components={m} must be <= the number of samples {X.shape[0]}")
        kind = check_covariance_kind(self.covariance)
        if kind == "fixed":
            raise ValueError("covariance='fixed' needs given covariances; call emlib.em directly")
        if self.init not in INIT_METHODS:
            raise ValueError(f"init must be one of {INIT_METHODS}, got {self.init!r}")
        n_init = check_int(self.n_init, "n_init", minimum=1)
        rng = check_rng(self.random_state)
        best = None
        for _ in range(n_init):
            if self.init == "kmeans++":
                start = init_kmeans_pp(X, m, rng, covariance=kind, reg=self.reg)
            else:
                start = init_from_data(X, m, rng)
            result = em(X, start, covariance=kind, max_iter=self.max_iter, tol=self.tol, reg=self.reg,
                        min_weight=self.min_weight, sample_weight=sample_weight, keep_history=False)
            if best is None or result.loglik[-1] > best.loglik[-1]:
                best = result
        mix = best.mixture
        self.mixture_ = mix
        self.weights_ = mix.weights
        self.means_ = mix.means
        self.covariances_ = mix.covariances
        self.converged_ = best.converged
        self.n_iter_ = best.n_iter
        self.loglik_history_ = best.loglik
        self.lower_bound_ = float(best.mean_loglik[-1])
        self.n_features_in_ = X.shape[1]
        return self

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X).predict(X)

    def _fitted(self) -> Mixture:
        if not hasattr(self, "mixture_"):
            raise AttributeError("this GaussianMixtureEM is not fitted yet; call fit(X) first")
        return self.mixture_

    # --- using the fit --------------------------------------------------------------------------
    def predict(self, X) -> np.ndarray:
        """MAP component of each sample, shape (n,)."""
        return self._fitted().classify(X)

    def predict_proba(self, X) -> np.ndarray:
        """Posterior P(c_k | x_i), shape (n, m)."""
        return self._fitted().posterior(X)

    def score_samples(self, X) -> np.ndarray:
        """ln p(x_i | theta), shape (n,)."""
        return self._fitted().logpdf(X)

    def score(self, X, y=None) -> float:
        """The mean log-likelihood per sample."""
        return float(np.mean(self.score_samples(X)))

    def bic(self, X) -> float:
        return bic(X, self._fitted())

    def aic(self, X) -> float:
        return aic(X, self._fitted())

    def sample(self, n_samples: int = 1, rng=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw (X, z) from the fitted mixture."""
        return self._fitted().sample(n_samples, self.random_state if rng is None else rng)
