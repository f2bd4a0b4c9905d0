"""Segmenting with a mixture: scoring, matching labels, histograms, and spatial context.

A segmentation gives every sample (voxel, pixel) the MAP class of a fitted
mixture. This module holds what turns that into a working segmenter:

- **scoring** against known labels: the Dice score of each class
  (:func:`dice`), from the table of overlaps (:func:`overlap_counts`);
- **matching** EM's arbitrary component numbers to the true classes
  (:func:`match_labels`: Hungarian one-to-one, or many components to one
  class), or ordering 1-D components by their means (:func:`sort_by_mean`);
- **histograms**: quantised data (8-bit images) take few distinct values, so
  EM on the distinct values weighted by their counts (:func:`value_counts`,
  :func:`histogram_em`) gives the same fit as EM on every sample, at the cost
  of the number of distinct values;
- **spatial context**: neighbouring voxels tend to share a class. A Potts
  Markov random field prior says so, and its mean-field approximation adds
  beta times the neighbours' responsibilities to the log-posterior
  (:func:`neighbour_sum`, :func:`mean_field_e_step`, :func:`mrf_em`).

Samples on a grid are given, as everywhere in emlib, as an (n, d) array:
the values at the True entries of a boolean ``mask`` of the grid, in
numpy's order (``volume[mask]``); :func:`to_grid` puts them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._validation import (
    as_float_array,
    check_covariance_kind,
    check_data,
    check_float,
    check_int,
    check_responsibilities,
)
from ..em import EMResult, em
from ..mixture import Mixture
from ..suffstats import SufficientStatistics, mixture_from_stats, quadratic_features


# --- labels -------------------------------------------------------------------------------------
def _check_labels(labels, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative integers (select the samples to score first, "
                         f"e.g. labels[mask]), got minimum {arr.min()}")
    return arr.ravel().astype(np.int64, copy=False)


def _check_pair(labels, truth) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(labels), np.asarray(truth)
    if a.shape != b.shape:
        raise ValueError(f"labels and truth must have the same shape, got {a.shape} and {b.shape}")
    return _check_labels(a, "labels"), _check_labels(b, "truth")


def _n_classes(value, arr: np.ndarray, name: str) -> int:
    need = int(arr.max()) + 1 if arr.size else 0
    if value is None:
        return max(need, 1)
    value = check_int(value, name, minimum=1)
    if value < need:
        raise ValueError(f"{name} = {value} but a label {need - 1} occurs; {name} must be > every label")
    return value


def _check_weights(sample_weight, n: int):
    if sample_weight is None:
        return None
    w = as_float_array(sample_weight, "sample_weight", 1)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), one weight per sample, got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must hold finite non-negative numbers (counts, say)")
    return w


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
    w = _check_weights(sample_weight, a.size)
    m = _n_classes(n_labels, a, "n_labels")
    K = _n_classes(n_truth, b, "n_truth")
    return np.bincount(a * K + b, weights=w, minlength=m * K).reshape(m, K)


def dice(labels, truth, n_classes: int | None = None, *, sample_weight=None) -> np.ndarray:
    """The Dice score of every class: 2 |A_k and B_k| / (|A_k| + |B_k|).

    A_k is the set of samples labelled k, B_k the set whose true class is k.
    The score is 1 when the two sets coincide and 0 when they do not meet; it
    is the harmonic mean of precision and recall (the F1 score) of class k.

    Parameters
    ----------
    labels, truth : array-like of non-negative ints, the same shape (any), in
        the same numbering (match EM's components to the classes first, see
        :func:`match_labels`)
    n_classes : K, the number of classes (default: largest label + 1)
    sample_weight : array-like of shape (n,) or None, see :func:`overlap_counts`

    Returns
    -------
    array of shape (K,); NaN for a class that occurs in neither
    """
    a, b = _check_pair(labels, truth)
    K = max(_n_classes(n_classes, a, "n_classes"), _n_classes(n_classes, b, "n_classes"))
    C = overlap_counts(a, b, K, K, sample_weight=sample_weight)
    size = C.sum(axis=1) + C.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(size > 0, 2.0 * np.diag(C) / size, np.nan)


def match_labels(labels, truth, *, many_to_one: bool = False, n_labels: int | None = None,
                 n_truth: int | None = None) -> np.ndarray:
    """Which true class each of EM's components stands for: ``mapping[labels]`` is comparable to truth.

    Component numbers are arbitrary (component 0 of a fit may be the white
    matter), so before scoring, each component k is given a class mapping[k]:

    - one-to-one (default): the pairing that maximises the number of samples
      that agree, sum_k C[k, mapping[k]], an assignment problem solved exactly
      by the Hungarian algorithm; needs m <= K;
    - ``many_to_one=True``: every component goes to the class it overlaps most
      (several components may form one class, as when one tissue is modelled
      by two Gaussians). This uses the truth, so it measures how well the
      components *can* be grouped, not how an unsupervised rule would group them.

    Parameters
    ----------
    labels : array-like of non-negative ints, components in [0, m)
    truth : array-like of non-negative ints, the same shape, classes in [0, K)
    many_to_one : bool
    n_labels, n_truth : m and K (default: largest label + 1)

    Returns
    -------
    int array of shape (m,), mapping[k] in [0, K)
    """
    C = overlap_counts(labels, truth, n_labels, n_truth)
    m, K = C.shape
    if many_to_one:
        return np.argmax(C, axis=1)
    if m > K:
        raise ValueError(f"a one-to-one matching needs at most as many components as classes, got m = {m} "
                         f"components and K = {K} classes; pass many_to_one=True to merge components")
    rows, cols = linear_sum_assignment(C, maximize=True)
    mapping = np.empty(m, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def sort_by_mean(mixture: Mixture, feature: int = 0) -> Mixture:
    """The same mixture with its components ordered by increasing mean of one feature.

    Without ground truth this is how 1-D components get names: in a T1 MRI,
    cerebrospinal fluid is darkest, white matter brightest, so after sorting
    ``classify`` gives 0 = CSF, 1 = GM, 2 = WM.

    Parameters
    ----------
    mixture : Mixture with m components in d dimensions
    feature : int in [0, d), the feature whose means set the order
    """
    if not isinstance(mixture, Mixture):
        raise TypeError(f"mixture must be an emlib.Mixture, got {type(mixture).__name__}")
    feature = check_int(feature, "feature", minimum=0, maximum=mixture.n_features - 1)
    order = np.argsort(mixture.means[:, feature], kind="stable")
    return Mixture(mixture.weights[order], mixture.means[order], mixture.covariances[order])


# --- histograms -----------------------------------------------------------------------------------
def value_counts(X, bins: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values of X, how often each occurs, and which one each sample is.

    With ``bins=None`` the values are exactly the distinct rows of X, and
    ``values[index]`` reproduces X. With ``bins=b`` every feature is first cut
    into b equal-width bins over its range and each sample is replaced by the
    centre of its bin (moved by at most half a bin width); the values are then
    the occupied bin centres.

    Parameters
    ----------
    X : array-like of shape (n, d), or (n,) for one feature; finite values
    bins : int >= 1 or None

    Returns
    -------
    values : array of shape (u, d), sorted (lexicographically), u <= n
    counts : int array of shape (u,), summing to n
    index : int array of shape (n,), the row of ``values`` of each sample
    """
    X = check_data(X)
    if bins is not None:
        bins = check_int(bins, "bins", minimum=1)
        lo, hi = X.min(axis=0), X.max(axis=0)
        width = np.where(hi > lo, (hi - lo) / bins, 1.0)
        cell = np.minimum(np.floor((X - lo) / width), bins - 1)
        X = lo + (cell + 0.5) * width
    if X.shape[1] == 1:
        values, index, counts = np.unique(X[:, 0], return_inverse=True, return_counts=True)
        values = values[:, None]
    else:
        values, index, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    return values, counts, index.ravel()


def histogram_em(X, init: Mixture, *, bins: int | None = None, **em_kwargs) -> tuple[EMResult, np.ndarray]:
    """EM on the distinct values of X, each weighted by how often it occurs.

    Samples with equal values have equal responsibilities, so the sums of
    the M-step, sum_i E[z_i^(k)] x_i and so on, can be taken value by value
    and multiplied by the counts:

        sum_i E[z_i^(k)] f(x_i) = sum_v c_v E[z_v^(k)] f(v)

    With ``bins=None`` this is the same EM as on all n samples (every
    iterate equal up to the rounding of the sums), at the cost of the u
    distinct values per iteration instead of n. With ``bins`` it is EM on
    the binned data, an approximation.

    Parameters
    ----------
    X : array-like of shape (n, d) or (n,)
    init : Mixture, theta^(0)
    bins : int or None, see :func:`value_counts`
    **em_kwargs : passed to :func:`emlib.em` (tol, max_iter, covariance, ...);
        not ``sample_weight``

    Returns
    -------
    result : EMResult of the fit on the values (``result.X`` holds them,
        ``result.loglik`` is the log-likelihood of all n samples)
    index : int array of shape (n,): sample i has the value ``result.X[index[i]]``,
        so ``result.mixture.classify(result.X)[index]`` labels every sample
    """
    if "sample_weight" in em_kwargs:
        raise TypeError("histogram_em sets sample_weight itself (the counts); call emlib.em to give your own")
    values, counts, index = value_counts(X, bins)
    return em(values, init, sample_weight=counts, **em_kwargs), index


# --- grids ----------------------------------------------------------------------------------------
def _check_mask(mask, name: str = "mask") -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"{name} must be a boolean array (True where the samples are), got dtype {mask.dtype}")
    if mask.ndim < 1:
        raise ValueError(f"{name} must be a grid of at least one dimension, got a scalar")
    return mask


def to_grid(values, mask, fill=0):
    """Put per-sample values back on the grid: out[mask] = values, out[~mask] = fill.

    Parameters
    ----------
    values : array-like of shape (n,) or (n, c), n = mask.sum()
    mask : bool array of shape G (the grid: (h, w) or (X, Y, Z))
    fill : the value outside the mask (NaN for a float image that shows
        nothing there)

    Returns
    -------
    array of shape G or G + (c,), of the dtype of values (float when fill is NaN)
    """
    mask = _check_mask(mask)
    values = np.asarray(values)
    n = int(mask.sum())
    if values.ndim not in (1, 2) or values.shape[0] != n:
        raise ValueError(f"values must have shape ({n},) or ({n}, c), one row per True entry of mask, "
                         f"got {values.shape}")
    dtype = np.result_type(values.dtype, np.min_scalar_type(fill)) if np.isfinite(fill) else np.float64
    out = np.full(mask.shape + values.shape[1:], fill, dtype=dtype)
    out[mask] = values
    return out


class _Neighbours:
    """The face neighbours of the True entries of a mask, found once, summed many times.

    The mask's bounding box is padded by one layer of zeros, so that every
    neighbour of a sample, inside the mask or not, lies in the padded box;
    the sums are then 2 D shifted additions of whole arrays.
    """

    def __init__(self, mask: np.ndarray):
        self.n = int(mask.sum())
        if self.n == 0:
            self.inside = np.zeros((1,) * mask.ndim, dtype=bool)
            self.flat = np.zeros(0, dtype=np.intp)
            return
        box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in np.nonzero(mask))
        self.inside = np.pad(mask[box], 1)
        self.flat = np.flatnonzero(self.inside)            # positions in the box, numpy order

    def sum(self, resp: np.ndarray, dtype=np.float64) -> np.ndarray:
        """(n, m) sums of the neighbours' rows, computed in ``dtype``."""
        m = resp.shape[1]
        grid = np.zeros(self.inside.shape + (m,), dtype=dtype)
        grid.reshape(-1, m)[self.flat] = resp             # integer indices: faster than the boolean mask
        total = np.zeros_like(grid)
        for axis in range(self.inside.ndim):
            before = [slice(None)] * grid.ndim
            after = [slice(None)] * grid.ndim
            before[axis], after[axis] = slice(None, -1), slice(1, None)
            total[tuple(after)] += grid[tuple(before)]      # the neighbour before, along this axis
            total[tuple(before)] += grid[tuple(after)]      # the neighbour after
        return total.reshape(-1, m)[self.flat]


def neighbour_sum(resp, mask) -> np.ndarray:
    """For every sample on a grid, the sum of its neighbours' rows: sum_{j in N(i)} E[z_j^(k)].

    The neighbours N(i) are the 2 D grid points that share a face with i
    (4 in a 2-D image, 6 in a 3-D volume) and lie inside the mask.

    Parameters
    ----------
    resp : array-like of shape (n, m), one row per True entry of mask (numpy order)
    mask : bool array of shape G with n True entries

    Returns
    -------
    array of shape (n, m)
    """
    mask = _check_mask(mask)
    resp = as_float_array(resp, "resp", 2)
    n = int(mask.sum())
    if resp.shape[0] != n:
        raise ValueError(f"resp must have one row per True entry of mask ({n}), got shape {resp.shape}")
    return _Neighbours(mask).sum(resp)


def mean_field_e_step(log_joint, resp, mask, beta: float) -> np.ndarray:
    """The E-step under a Potts prior, in the mean-field approximation.

        E[z_i^(k)]  proportional to  rho_k N(x_i | mu_k, Sigma_k) exp(beta sum_{j in N(i)} E[z_j^(k)])

    The Potts prior P(z) proportional to exp(beta sum_{i ~ j} [z_i = z_j])
    favours neighbours in the same class; mean field replaces each
    neighbour's unknown class by its current responsibilities. beta = 0 gives
    the ordinary E-step.

    Parameters
    ----------
    log_joint : array-like of shape (n, m), ln rho_k + ln N(x_i | mu_k, Sigma_k)
        (``mixture.weighted_logpdf(X)``)
    resp : array-like of shape (n, m), the neighbours' current responsibilities
    mask : bool array of shape G with n True entries
    beta : float >= 0, the strength of the prior

    Returns
    -------
    array of shape (n, m), rows summing to 1
    """
    log_joint = as_float_array(log_joint, "log_joint", 2)
    resp = check_responsibilities(resp, log_joint.shape[0])
    if resp.shape != log_joint.shape:
        raise ValueError(f"resp must have the shape of log_joint {log_joint.shape}, got {resp.shape}")
    beta = check_float(beta, "beta", minimum=0.0)
    mask = _check_mask(mask)
    if int(mask.sum()) != resp.shape[0]:
        raise ValueError(f"resp must have one row per True entry of mask ({int(mask.sum())}), got shape {resp.shape}")
    return _mean_field(log_joint, resp, _Neighbours(mask), beta)


def _mean_field(log_joint: np.ndarray, resp: np.ndarray, neighbours: _Neighbours, beta: float,
                dtype=np.float64) -> np.ndarray:
    score = log_joint + beta * neighbours.sum(resp, dtype) if beta > 0 else log_joint.copy()
    # softmax over k without overflow; column by column, which for small m is several times
    # faster than numpy's reductions along the short axis
    top = score[:, 0].copy()
    for k in range(1, score.shape[1]):
        np.maximum(top, score[:, k], out=top)
    score -= top[:, None]
    np.exp(score, out=score)
    score /= (score @ np.ones(score.shape[1]))[:, None]
    return score


@dataclass(frozen=True, eq=False)
class MRFEMResult:
    """What :func:`mrf_em` returns.

    Attributes
    ----------
    mixture : Mixture, the parameters after the last M-step
    responsibilities : array of shape (n, m), the mean-field E[z_i^(k)] of the last E-step
    history : tuple of Mixtures theta^(0), ..., theta^(n_iter) (empty when keep_history=False)
    changes : array of shape (n_iter,), the mean absolute change of the responsibilities
        at each iteration
    n_iter : int
    converged : bool, whether the change fell below tol
    beta : float
    """

    mixture: Mixture
    responsibilities: np.ndarray
    history: tuple
    changes: np.ndarray
    n_iter: int
    converged: bool
    beta: float

    @property
    def labels(self) -> np.ndarray:
        """The MAP class of every sample, shape (n,)."""
        return np.argmax(self.responsibilities, axis=1)


def _weighted_m_step(values: np.ndarray, weighted_resp: np.ndarray, covariance: str, reg: float,
                     fixed: Mixture) -> Mixture:
    """The M-step from sum-per-value responsibilities R[v, k] = sum_{i: x_i = v} E[z_i^(k)].

    The sums the M-step needs are R^T phi(v - c) with phi(x) = [1, x, x x^T]
    (:mod:`emlib.suffstats`).
    """
    diagonal = covariance in ("diag", "spherical", "fixed")       # squares suffice for the variances
    center = (weighted_resp.sum(axis=1) @ values) / weighted_resp.sum()
    phi = quadratic_features(values - center, diagonal)
    total = weighted_resp.T @ phi
    d = values.shape[1]
    stats = SufficientStatistics(nk=total[:, 0], first=total[:, 1:1 + d], second=total[:, 1 + d:],
                                 loglik=np.nan, center=center, diagonal=diagonal)
    fixed_cov = fixed.covariances if covariance == "fixed" else None
    return mixture_from_stats(stats, covariance, reg, fixed_covariances=fixed_cov)[0]


def mrf_em(X, mask, init: Mixture, *, beta: float = 1.0, index=None, covariance: str = "full",
           max_iter: int = 50, tol: float = 1e-4, reg: float = 1e-6, keep_history: bool = True,
           callback: Callable | None = None) -> MRFEMResult:
    """EM with a Potts Markov random field prior on the classes (mean-field EM).

        start: E[z_i^(k)] = the ordinary responsibilities at theta^(0)
        repeat:  E-step  E[z_i^(k)] from :func:`mean_field_e_step` (neighbours' previous values)
                 M-step  rho_k, mu_k, Sigma_k by the usual formulas from these E[z_i^(k)]
        until the responsibilities change by less than tol on average

    All voxels are updated at once from their neighbours' previous values.
    beta = 0 is the ordinary EM of :func:`emlib.em`. The M-step re-estimates
    the mixture only; beta stays fixed.

    Parameters
    ----------
    X : array-like of shape (n, d) (or (n,)): the features of the n True entries of
        mask in numpy order (``volume[mask]``); with ``index``, the u distinct
        feature vectors instead (``value_counts``), sample i having X[index[i]]
    mask : bool array of shape G (the grid), n True entries
    init : Mixture, theta^(0)
    beta : float >= 0, the prior's strength per neighbour
    index : None or int array-like of shape (n,) with values in [0, u)
    covariance : {"full", "diag", "spherical", "tied", "fixed"}
    max_iter : int >= 0
    tol : float >= 0, stop when mean_{i,k} |change of E[z_i^(k)]| < tol
    reg : float >= 0, added to the covariance diagonals
    keep_history : bool
    callback : callable(t, mixture, resp) or None, called after each iteration t
        with theta^(t) and the responsibilities of its E-step

    Returns
    -------
    MRFEMResult

    Notes
    -----
    For speed the neighbours' sums are taken in single precision; their
    rounding (below 1e-6 of a sum of at most 2 D) is far too small to move a
    label. Each iteration costs a few passes over the n x m responsibilities.
    """
    mask = _check_mask(mask)
    X = check_data(X)
    if not isinstance(init, Mixture):
        raise TypeError(f"init must be an emlib.Mixture, got {type(init).__name__}")
    if init.n_features != X.shape[1]:
        raise ValueError(f"init has {init.n_features} feature(s) but X has {X.shape[1]} (shape {X.shape})")
    n = int(mask.sum())
    if index is None:
        if X.shape[0] != n:
            raise ValueError(f"X must have one row per True entry of mask ({n}), got shape {X.shape}; "
                             "or pass the distinct rows with index=")
    else:
        index = np.asarray(index)
        if index.dtype.kind not in "iu" or index.shape != (n,):
            raise ValueError(f"index must be an integer array of shape ({n},), one entry per True entry of "
                             f"mask, got {index.dtype} array of shape {index.shape}")
        if n and (index.min() < 0 or index.max() >= X.shape[0]):
            raise ValueError(f"index must hold rows of X, in [0, {X.shape[0]}), got values in "
                             f"[{index.min()}, {index.max()}]")
    beta = check_float(beta, "beta", minimum=0.0)
    kind = check_covariance_kind(covariance)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    tol = check_float(tol, "tol", minimum=0.0)
    reg = check_float(reg, "reg", minimum=0.0)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(t, mixture, resp), got {type(callback).__name__}")

    def per_sample(table):                     # (u, m) per distinct value -> (n, m) per sample
        return table if index is None else table[index]

    def per_value(resp):                       # (n, m) per sample -> (u, m) sums per distinct value
        if index is None:
            return resp
        return np.stack([np.bincount(index, weights=resp[:, k], minlength=X.shape[0])
                         for k in range(resp.shape[1])], axis=1)

    neighbours = _Neighbours(mask)
    mixture = init
    resp = per_sample(mixture.posterior(X))
    history = [mixture] if keep_history else []
    changes = []
    converged = False
    for t in range(1, max_iter + 1):
        new = _mean_field(per_sample(mixture.weighted_logpdf(X)), resp, neighbours, beta, np.float32)
        changes.append(float(np.mean(np.abs(new - resp))))
        resp = new
        mixture = _weighted_m_step(X, per_value(resp), kind, reg, mixture)
        if keep_history:
            history.append(mixture)
        if callback is not None:
            callback(t, mixture, resp)
        if changes[-1] < tol:
            converged = True
            break
    return MRFEMResult(mixture=mixture, responsibilities=resp, history=tuple(history),
                       changes=np.array(changes), n_iter=len(changes), converged=converged, beta=beta)
