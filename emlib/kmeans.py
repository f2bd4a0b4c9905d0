"""k-means (Lloyd's algorithm), and k-means as the sigma -> 0 limit of EM.

Take a mixture whose weights are equal and held fixed and whose components
share one fixed covariance sigma^2 I. The E-step gives

    E[z_i^(k)] = exp(-|x_i - mu_k|^2 / 2 sigma^2) / sum_j exp(-|x_i - mu_j|^2 / 2 sigma^2),

which, as sigma -> 0, puts all the weight on the closest mean: a hard
assignment. The M-step then averages each cluster. That is k-means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, check_data, check_float, check_int
from .mixture import Mixture


@dataclass(frozen=True, eq=False)
class KMeansResult:
    """What :func:`kmeans` returns.

    Attributes
    ----------
    means : (m, d) the cluster centres
    labels : (n,) the index of each sample's closest centre
    inertia : (n_iter + 1,) sum_i |x_i - mu_{label_i}|^2 after each assignment step
    n_iter : int, mean updates done
    converged : bool, whether an assignment step changed no label
    """

    means: np.ndarray
    labels: np.ndarray
    inertia: np.ndarray
    n_iter: int
    converged: bool


def assign(X: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The index of the closest mean for every sample, shape (n,).

    argmin_k |x - mu_k|^2 = argmin_k (|mu_k|^2 - 2 x . mu_k): one matrix product.
    """
    return np.argmin(np.sum(means ** 2, axis=1) - 2.0 * X @ means.T, axis=1)


def _inertia(X, means, labels) -> float:
    return float(np.sum((X - means[labels]) ** 2))


def kmeans(X, init_means, *, max_iter: int = 300) -> KMeansResult:
    """Lloyd's k-means from given initial means.

    Repeat: assign each sample to its closest mean; move each mean to the
    average of its samples; until no assignment changes. A cluster that
    loses all its samples keeps its previous mean.

    Parameters
    ----------
    X : array-like of shape (n, d)
    init_means : array-like of shape (m, d)
    max_iter : int >= 0

    Returns
    -------
    KMeansResult
    """
    X = check_data(X)
    means = as_float_array(init_means, "init_means", (1, 2))
    if means.ndim == 1:
        means = means[:, None] if X.shape[1] == 1 else means[None, :]
    if means.shape[1] != X.shape[1]:
        raise ValueError(f"init_means must have shape (m, {X.shape[1]}), got {means.shape}")
    if not np.all(np.isfinite(means)):
        raise ValueError("init_means must be finite")
    m = means.shape[0]
    if not 1 <= m <= X.shape[0]:
        raise ValueError(f"init_means must have between 1 and n = {X.shape[0]} rows, got {m}")
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    means = means.copy()
    labels = assign(X, means)
    inertia = [_inertia(X, means, labels)]
    converged = False
    n_iter = 0
    for t in range(1, max_iter + 1):
        counts = np.bincount(labels, minlength=m)
        sums = np.zeros_like(means)
        np.add.at(sums, labels, X)
        full = counts > 0
        means[full] = sums[full] / counts[full, None]
        new_labels = assign(X, means)
        n_iter = t
        inertia.append(_inertia(X, means, new_labels))
        if np.array_equal(new_labels, labels):
            converged = True
            break
        labels = new_labels
    return KMeansResult(means=means, labels=labels, inertia=np.array(inertia), n_iter=n_iter,
                        converged=converged)


def kmeans_limit_mixture(means, sigma) -> Mixture:
    """The mixture of the k-means limit: equal weights, every covariance sigma^2 I.

    Fit it with ``em(X, kmeans_limit_mixture(means, sigma), covariance="fixed",
    fix_weights=True)``; as sigma -> 0 that run becomes :func:`kmeans`.

    Parameters
    ----------
    means : array-like of shape (m, d)
    sigma : float > 0, the shared standard deviation

    Returns
    -------
    Mixture
    """
    means = as_float_array(means, "means", 2)
    sigma = check_float(sigma, "sigma", minimum=0.0, strict=True)
    m, d = means.shape
    return Mixture(np.full(m, 1.0 / m), means, np.broadcast_to(sigma ** 2 * np.eye(d), (m, d, d)))
