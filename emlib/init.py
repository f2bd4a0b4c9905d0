"""Initialisations: where EM starts, theta^(0).

EM climbs to a local maximum near its start, so the start matters:

- :func:`init_from_data`: means at m random samples, broad diagonal
  covariances, equal weights (the annulus slide's recipe);
- :func:`init_kmeans_pp`: k-means++ seeding, then one hard assignment;
- :func:`init_from_labels`: the supervised ML estimate per class, i.e. the
  lecture's supervised recap (sample mean and covariance of each class).
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_covariance_kind, check_data, check_float, check_int, check_rng
from .mixture import Mixture
from .steps import m_step


def _check_m(m, n: int) -> int:
    m = check_int(m, "m", minimum=1)
    if m > n:
        raise ValueError(f"m (the number of components) must be <= the number of samples n = {n}, got {m}")
    return m


def init_from_data(X, m, rng=None, *, variance_scale: float = 1.0) -> Mixture:
    """Means at m distinct random samples, equal weights, broad diagonal covariances.

    Each covariance is diag(variance_scale * Var(X_a)): as wide as the whole
    data set, hence large compared to any one cluster, so every component
    first sees every point.

    Parameters
    ----------
    X : array-like of shape (n, d)
    m : int, 1 <= m <= n
    rng : numpy.random.Generator or int seed
    variance_scale : float > 0

    Returns
    -------
    Mixture with m components
    """
    X = check_data(X)
    n, d = X.shape
    m = _check_m(m, n)
    rng = check_rng(rng)
    variance_scale = check_float(variance_scale, "variance_scale", minimum=0.0, strict=True)
    idx = rng.choice(n, size=m, replace=False)
    var = X.var(axis=0) * variance_scale
    # a constant feature (or one whose variance is subnormal: 1 / var overflows) still gets a proper Gaussian
    var = np.where(var >= np.finfo(float).tiny, var, 1.0)
    cov = np.broadcast_to(np.diag(var), (m, d, d))
    return Mixture(np.full(m, 1.0 / m), X[idx], cov)


def kmeans_pp_indices(X, m, rng=None) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii, 2007): the indices of m samples, shape (m,).

    The first seed is a uniformly random sample; each next one is a sample
    drawn with probability proportional to its squared distance to the
    nearest seed chosen so far, so seeds spread over the data.
    """
    X = check_data(X)
    n = X.shape[0]
    m = _check_m(m, n)
    rng = check_rng(rng)
    idx = np.empty(m, dtype=int)
    idx[0] = rng.integers(n)
    d2 = np.sum((X - X[idx[0]]) ** 2, axis=1)
    for j in range(1, m):
        total = d2.sum()
        idx[j] = rng.choice(n, p=d2 / total) if total > 0 else rng.choice(np.setdiff1d(np.arange(n), idx[:j]))
        d2 = np.minimum(d2, np.sum((X - X[idx[j]]) ** 2, axis=1))
    return idx


def init_kmeans_pp(X, m, rng=None, *, covariance: str = "full", reg: float = 1e-6) -> Mixture:
    """k-means++ seeds, each sample assigned to its nearest seed, then one M-step.

    Parameters
    ----------
    X : array-like of shape (n, d)
    m : int, 1 <= m <= n
    rng : numpy.random.Generator or int seed
    covariance : the covariance kind of the start ("fixed" is treated as "full")
    reg : float >= 0, added to the covariance diagonals

    Returns
    -------
    Mixture with m components
    """
    X = check_data(X)
    seeds = kmeans_pp_indices(X, m, rng)
    centers = X[seeds]
    d2 = np.sum(X ** 2, axis=1)[:, None] - 2 * X @ centers.T + np.sum(centers ** 2, axis=1)
    labels = np.argmin(d2, axis=1)
    labels[seeds] = np.arange(m)            # each seed keeps its own point, even among duplicates
    return init_from_labels(X, labels, covariance=covariance, reg=reg, n_components=m)


def init_from_labels(X, labels, *, covariance: str = "full", reg: float = 1e-6,
                     n_components: int | None = None) -> Mixture:
    """The supervised ML estimate: one Gaussian per class, from labelled data.

    rho_k = n_k / n, mu_k = the sample mean of class k, Sigma_k = its sample
    covariance (ML, i.e. divided by n_k) plus ``reg`` on the diagonal. This
    is the lecture's "parametric supervised learning" recap, and a start for
    EM when a labelling is at hand.

    Parameters
    ----------
    X : array-like of shape (n, d)
    labels : array-like of shape (n,), integers in [0, m)
    covariance : {"full", "diag", "spherical", "tied"} ("fixed" is treated as "full")
    reg : float >= 0
    n_components : m, default max(labels) + 1; every class needs a sample

    Returns
    -------
    Mixture with m components
    """
    X = check_data(X)
    kind = check_covariance_kind(covariance)
    try:
        labels_arr = np.asarray(labels)
    except (ValueError, TypeError):  # ragged nested lists
        raise ValueError("labels must be a 1-D array of integers 0..m-1, one per row of X; "
                         "got a ragged sequence") from None
    if labels_arr.ndim != 1 or labels_arr.shape[0] != X.shape[0]:
        raise ValueError(f"labels must have shape ({X.shape[0]},), one label per row of X, got {labels_arr.shape}")
    if labels_arr.size and labels_arr.dtype.kind not in "iub":
        as_f = as_float_array(labels_arr, "labels", 1)
        if not np.all(as_f == np.round(as_f)):
            raise ValueError("labels must be integers 0..m-1")
    labels_arr = labels_arr.astype(int)
    if np.any(labels_arr < 0):
        raise ValueError("labels must be integers 0..m-1, got a negative label")
    m = int(labels_arr.max()) + 1 if n_components is None else check_int(n_components, "n_components", minimum=1)
    if np.any(labels_arr >= m):
        raise ValueError(f"labels must be < n_components = {m}")
    counts = np.bincount(labels_arr, minlength=m)
    if np.any(counts == 0):
        raise ValueError(f"every class 0..{m - 1} needs at least one sample; classes "
                         f"{np.flatnonzero(counts == 0).tolist()} have none")
    resp = np.zeros((X.shape[0], m))
    resp[np.arange(X.shape[0]), labels_arr] = 1.0
    return m_step(X, resp, covariance="full" if kind == "fixed" else kind, reg=reg)
