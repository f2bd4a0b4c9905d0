"""Segmenting with a mixture: scoring, matching labels, histograms, and spatial context.

A segmentation gives every sample (voxel, pixel) the MAP class of a fitted
mixture. This module holds what turns that into a working segmenter:

- **scoring** against known labels: the Dice score of each class
  (:func:`dice`), from the table of overlaps (:func:`emlib.scoring.overlap_counts`;
  EM's arbitrary component numbers are matched to the classes by
  :func:`emlib.scoring.match_labels`), or ordering 1-D components by their
  means (:func:`sort_by_mean`);
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
from typing import Callable, NamedTuple

import numpy as np

from .._validation import (
    as_float_array,
    check_covariance_kind,
    check_data,
    check_labels,
    check_mixture,
    check_float,
    check_int,
    check_responsibilities,
)
from ..em import EMResult, check_callback, em, iterate
from ..mixture import Mixture
from ..scoring import number_of_classes, overlap_counts
from ..steps import mixture_from_moments, moments


def dice(labels, truth, n_classes: int | None = None, *, sample_weight=None) -> np.ndarray:
    """The Dice score of every class: 2 |A_k and B_k| / (|A_k| + |B_k|).

    A_k is the set of samples labelled k, B_k the set whose true class is k.
    The score is 1 when the two sets coincide and 0 when they do not meet; it
    is the harmonic mean of precision and recall (the F1 score) of class k.

    Parameters
    ----------
    labels, truth : array-like of non-negative ints, the same shape (any), in
        the same numbering (match EM's components to the classes first, see
        :func:`emlib.scoring.match_labels`)
    n_classes : K, the number of classes (default: largest label + 1)
    sample_weight : array-like of shape (n,) or None, see :func:`overlap_counts`

    Returns
    -------
    array of shape (K,); NaN for a class that occurs in neither
    """
    a, b = check_labels(labels, "labels"), check_labels(truth, "truth")
    K = max(number_of_classes(n_classes, a, "n_classes"), number_of_classes(n_classes, b, "n_classes"))
    C = overlap_counts(labels, truth, K, K, sample_weight=sample_weight)
    size = C.sum(axis=1) + C.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(size > 0, 2.0 * np.diag(C) / size, np.nan)


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
    check_mixture(mixture)
    feature = check_int(feature, "feature", minimum=0, maximum=mixture.n_features - 1)
    order = np.argsort(mixture.means[:, feature], kind="stable")
    return Mixture(mixture.weights[order], mixture.means[order], mixture.covariances[order], mixture.kind)


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

    The prior on the classes is the Potts prior times the mixing weights,
    P(z) proportional to prod_i rho_{z_i} exp(beta sum_{i ~ j} [z_i = z_j]):
    the rho_k of log_joint stay in the formula (an external field ln rho_k),
    and the Potts term favours neighbours in the same class. Mean field
    replaces each neighbour's unknown class by its current responsibilities.
    beta = 0 gives the ordinary E-step.

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
    mixture : Mixture, theta^(n_iter), the parameters after the last M-step
    responsibilities : array of shape (n, m), the mean-field E[z_i^(k)] of the E-step at ``mixture``
    history : tuple of Mixtures theta^(0), ..., theta^(n_iter) (empty when keep_history=False)
    changes : array of shape (n_iter + 1,), the mean absolute change of the responsibilities
        in the E-step at each theta^(t) (entry 0: from the plain posterior of theta^(0))
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


def _check_index(index, n: int, u: int):
    """None (X has one row per voxel: u == n), or int array (n,) of rows of X, each in [0, u)."""
    if index is None:
        if u != n:
            raise ValueError(f"X must have one row per True entry of mask ({n}), got {u} rows; "
                             "or pass the distinct rows with index=")
        return None
    index = np.asarray(index)
    if index.dtype.kind not in "iu" or index.shape != (n,):
        raise ValueError(f"index must be an integer array of shape ({n},), one entry per True entry of "
                         f"mask, got {index.dtype} array of shape {index.shape}")
    if n and (index.min() < 0 or index.max() >= u):
        raise ValueError(f"index must hold rows of X, in [0, {u}), got values in [{index.min()}, {index.max()}]")
    return index


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
    callback : callable(t, mixture, resp) or None, called at t = 0 and after each
        iteration t with theta^(t) and the responsibilities of its E-step

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
    check_mixture(init, X.shape[1], "init")
    index = _check_index(index, int(mask.sum()), X.shape[0])
    beta = check_float(beta, "beta", minimum=0.0)
    kind = check_covariance_kind(covariance)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    tol = check_float(tol, "tol", minimum=0.0)
    reg = check_float(reg, "reg", minimum=0.0)
    check_callback(callback, "callable(t, mixture, resp)")

    def per_sample(table):                     # (u, m) per distinct value -> (n, m) per sample
        return table if index is None else table[index]

    def per_value(resp):                       # (n, m) per sample -> (u, m) sums per distinct value
        if index is None:
            return resp
        return np.stack([np.bincount(index, weights=resp[:, k], minlength=X.shape[0])
                         for k in range(resp.shape[1])], axis=1)

    neighbours = _Neighbours(mask)
    previous = [per_sample(init.posterior(X))]          # the E-step starts from its own last answer

    def e_step(mixture):                                # mean field: the neighbours' previous values
        resp = _mean_field(per_sample(mixture.weighted_logpdf(X)), previous[0], neighbours, beta, np.float32)
        change = float(np.mean(np.abs(resp - previous[0])))
        previous[0] = resp
        return _MeanFieldEvidence(resp, change)

    def m_step(evidence):                               # the usual formulas, from these E[z_i^(k)]
        return mixture_from_moments(moments(X, per_value(evidence.resp)), kind, reg,
                                    fixed_covariances=init.covariances if kind == "fixed" else None)

    run = iterate(e_step, m_step, init, max_iter=max_iter,
                  converged=lambda before, now: before is not None and now.change < tol,
                  record=lambda evidence: evidence.change, keep_history=keep_history,
                  callback=None if callback is None else (lambda t, mix, ev: callback(t, mix, ev.resp)))
    return MRFEMResult(mixture=run.theta, responsibilities=run.evidence.resp, history=run.history,
                       changes=np.array(run.records), n_iter=run.n_iter, converged=run.converged, beta=beta)


class _MeanFieldEvidence(NamedTuple):
    resp: np.ndarray
    change: float


def histogram_dice(mixture: Mixture, values, table) -> np.ndarray:
    """The Dice score of every class of a 1-D mixture's MAP segmentation, from a histogram split by true class.

    Component k of ``sort_by_mean(mixture)`` (darkest first) is class k. Every sample of one value gets
    the same label, so the score over n samples equals the score over the (value, class) pairs of the
    table, each weighted by its count: the same numbers as :func:`dice` on all samples, from u rows.

    Parameters
    ----------
    mixture : Mixture with d = 1 and K components, K the number of classes
    values : array-like of shape (u, 1), the distinct values (from :func:`value_counts`)
    table : array-like of shape (u, K): table[v, k] = the number of samples of value v whose true class
        is k (from :func:`emlib.scoring.overlap_counts`)

    Returns
    -------
    array of shape (K,)
    """
    table = np.asarray(table)
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] != 1:
        raise ValueError(f"values must have shape (u, 1), got {values.shape}")
    if table.ndim != 2 or table.shape != (values.shape[0], mixture.n_components):
        raise ValueError(f"table must have shape (u, K) = ({values.shape[0]}, {mixture.n_components}): a row per "
                         f"value and a column per class (one class per component), got {table.shape}")
    value, tissue = np.nonzero(table)
    labels = sort_by_mean(mixture).classify(values)[value]
    return dice(labels, tissue, mixture.n_components, sample_weight=table[value, tissue])
