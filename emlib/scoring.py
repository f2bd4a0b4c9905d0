"""Scoring a clustering against known classes, once its arbitrary numbers are matched.

EM's component numbers mean nothing: component 0 of one run may be class 2
of the truth. Before a clustering is scored, each component is given a
class by solving an assignment problem on the table of overlaps,

    C[k, j] = the number of samples labelled k whose true class is j,

so that the number of samples that agree, sum_k C[k, mapping[k]], is as
large as possible (the Hungarian algorithm, exact). Every notebook,
application and check of the course matches labels with
:func:`match_labels` and matches fitted components with
:func:`match_components`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._validation import as_float_array, check_int, check_labels, check_sample_weight


def _check_pair(labels, truth) -> tuple[np.ndarray, np.ndarray]:
    if np.shape(labels) != np.shape(truth):
        raise ValueError(f"labels and truth must have the same shape, got {np.shape(labels)} and {np.shape(truth)}")
    return check_labels(labels, "labels"), check_labels(truth, "truth")


def number_of_classes(value, arr: np.ndarray, name: str) -> int:
    """``value`` checked to exceed every label in ``arr`` (an int >= 1), or largest label + 1 when None."""
    need = int(arr.max()) + 1 if arr.size else 0
    if value is None:
        return max(need, 1)
    value = check_int(value, name, minimum=1)
    if value < need:
        raise ValueError(f"{name} = {value} but a label {need - 1} occurs; {name} must be > every label")
    return value


def overlap_counts(labels, truth, n_labels: int | None = None, n_truth: int | None = None, *,
                   sample_weight=None) -> np.ndarray:
    """C[k, j] = the number of samples labelled k whose true class is j.

    Parameters
    ----------
    labels : array-like of non-negative ints, any shape, e.g. the MAP components
    truth : array-like of non-negative ints, the same shape, the true classes
    n_labels, n_truth : the number of rows and columns (default: largest label + 1)
    sample_weight : array-like of shape (n,) (n = labels.size) or None: sample i
        counts w_i times (to score a histogram: one sample per (value, class)
        pair, weighted by how many voxels it stands for)

    Returns
    -------
    array of shape (n_labels, n_truth): int64, or float64 with sample_weight
    """
    a, b = _check_pair(labels, truth)
    w = check_sample_weight(sample_weight, a.size)
    m = number_of_classes(n_labels, a, "n_labels")
    K = number_of_classes(n_truth, b, "n_truth")
    return np.bincount(a * K + b, weights=w, minlength=m * K).reshape(m, K)


def match_labels(labels, truth, *, many_to_one: bool = False, allow_unmatched: bool = False,
                 n_labels: int | None = None, n_truth: int | None = None) -> np.ndarray:
    """Which true class each component stands for: ``mapping[labels]`` is comparable to truth.

    - one-to-one (default): the pairing that maximises the number of samples
      that agree, sum_k C[k, mapping[k]] (Hungarian algorithm). With more
      components than classes (m > K) this needs ``allow_unmatched=True``:
      the m - K components left over get -1 (they count as errors);
    - ``many_to_one=True``: every component goes to the class it overlaps most
      (several components may form one class, as when one tissue is modelled
      by two Gaussians). This uses the truth, so it measures how well the
      components *can* be grouped, not how an unsupervised rule would group them.

    Parameters
    ----------
    labels : array-like of non-negative ints, components in [0, m)
    truth : array-like of non-negative ints, the same shape, classes in [0, K)
    many_to_one, allow_unmatched : bool
    n_labels, n_truth : m and K (default: largest label + 1)

    Returns
    -------
    int array of shape (m,), mapping[k] in [0, K) (or -1 for an unmatched component)
    """
    C = overlap_counts(labels, truth, n_labels, n_truth)
    m, K = C.shape
    if many_to_one:
        return np.argmax(C, axis=1)
    if m > K and not allow_unmatched:
        raise ValueError(f"a one-to-one matching needs at most as many components as classes, got m = {m} "
                         f"components and K = {K} classes; pass many_to_one=True to merge components, "
                         "or allow_unmatched=True to leave the extra ones unmatched")
    rows, cols = linear_sum_assignment(C, maximize=True)
    mapping = np.full(m, -1, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def matched_accuracy(labels, truth) -> float:
    """The fraction of samples labelled right once each component is matched one-to-one to a class.

    Components left unmatched (more components than classes) count as errors.

    Parameters
    ----------
    labels, truth : array-like of non-negative ints, the same shape (any)

    Returns
    -------
    float in [0, 1]
    """
    a, b = _check_pair(labels, truth)
    if a.size == 0:
        raise ValueError("labels and truth are empty; there is nothing to score")
    mapping = match_labels(a, b, allow_unmatched=True)
    return float(np.mean(mapping[a] == b))


def match_components(reference_means, means) -> np.ndarray:
    """perm with means[perm[k]] the fitted component nearest to reference component k, shape (m,).

    The one-to-one pairing that minimises sum_k |mu_ref_k - mu_perm[k]|^2
    (Hungarian algorithm): compare two fits, or a fit and the truth, up to
    the order of their components, e.g. ``fit.means[perm]``.

    Parameters
    ----------
    reference_means : array-like of shape (m, d)
    means : array-like of shape (m, d)
    """
    ref = as_float_array(reference_means, "reference_means", 2)
    got = as_float_array(means, "means", 2)
    if ref.shape != got.shape:
        raise ValueError(f"reference_means and means must have the same shape (m, d), got {ref.shape} and {got.shape}")
    cost = np.sum((ref[:, None, :] - got[None, :, :]) ** 2, axis=-1)
    rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e300))
    perm = np.empty(len(rows), dtype=np.int64)
    perm[rows] = cols
    return perm


def parameter_errors(mixture, truth) -> tuple[float, float]:
    """How far a fitted mixture is from the true one, once components are matched by their means.

        mean error       = (1/m) sum_k |mu_perm(k) - mu_k|
        covariance error = (1/m) sum_k ||Sigma_perm(k) - Sigma_k||_F

    with perm from :func:`match_components` (mu_k, Sigma_k those of ``truth``).

    Parameters
    ----------
    mixture : Mixture with m components in d dimensions (the fit)
    truth : Mixture with m components in d dimensions

    Returns
    -------
    (float, float), both >= 0 and 0 only for the same means and covariances
    """
    from .mixture import Mixture

    for value, name in ((mixture, "mixture"), (truth, "truth")):
        if not isinstance(value, Mixture):
            raise TypeError(f"{name} must be an emlib.Mixture, got {type(value).__name__}")
    if mixture.means.shape != truth.means.shape:
        raise ValueError(f"mixture and truth must have the same number of components and dimensions, "
                         f"got means of shape {mixture.means.shape} and {truth.means.shape}")
    perm = match_components(truth.means, mixture.means)
    mean_error = np.linalg.norm(mixture.means[perm] - truth.means, axis=1).mean()
    cov_error = np.linalg.norm(mixture.covariances[perm] - truth.covariances, axis=(1, 2)).mean()
    return float(mean_error), float(cov_error)
