"""Disparity of a rectified stereo pair: the motion that motion layers segment, on a real scene.

In a rectified pair the two cameras look the same way and differ by a
sideways shift (the baseline), so a scene point seen at (r, c) in the left
image appears at (r, c - d) in the right one: its optical flow from the
left image to the right one is (0, -d), purely horizontal. The disparity
d = B f / Z is the baseline B times the focal length f over the depth Z.
On a flat surface a X + b Y + c Z = 1 (camera coordinates) the inverse
depth 1 / Z = (a x + b y) / f + c is affine in the image position (x, y)
measured from the principal point, so the disparity of a plane is an affine
function of (r, c): exactly the motion model of :mod:`emlib.apps.motion`
with one component (q = 1). A layer of that mixture is a plane of the scene;
a Gaussian mixture on the disparity values gives fronto-parallel layers
(constant d, planes facing the camera).

The disparity is measured here by block matching along the rows, in three
steps, each a function:

1. :func:`census_transform`: each pixel becomes the bit string "is
   neighbour j darker than me?" over a small window (Zabih and Woodfill,
   ECCV 1994). It depends only on the order of the grey values, so it does
   not care if one camera's image is brighter or has more contrast.
2. :func:`matching_costs`: for every candidate d, the Hamming distance
   between the left pixel's bits and those of the right pixel d columns to
   its left, averaged over a (2 radius + 1)^2 window.
3. :func:`block_matching_disparity`: the d of least cost at each pixel
   (winner takes all), refined below a pixel by the vertex of the parabola
   through the costs at d - 1, d, d + 1.

:func:`downscale_disparity` brings a ground-truth disparity map to a
reduced working scale, :func:`disparity_errors` scores an estimate against
it on the pixels whose truth is known, and :func:`occlusions` finds, from
the true disparity, the left pixels that the right camera does not see
(no window of the right image can match them).

Shapes: images are (h, w) grey arrays; disparities are (h, w) in pixels of
that image; a cost volume is (max_disparity + 1, h, w).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

from .._validation import as_float_array, check_finite, check_float, check_int
from .features import block_mean


def _check_pair(left, right) -> tuple[np.ndarray, np.ndarray]:
    L = as_float_array(left, "left", 2)
    R = as_float_array(right, "right", 2)
    if L.shape != R.shape:
        raise ValueError(f"left and right must have the same shape (h, w), got {L.shape} and {R.shape}")
    check_finite(L, "left")
    check_finite(R, "right")
    return L, R


def census_transform(image, radius: int = 2) -> np.ndarray:
    """The census bits of every pixel: is neighbour j darker than the centre? Shape (h, w, (2 radius + 1)^2 - 1).

    ``out[r, c, j]`` is True when the j-th pixel of the (2 radius + 1)^2
    window around (r, c) (row-major order, the centre left out) is darker
    than ``image[r, c]``. Outside the image the border pixels are repeated.
    Any increasing change of the grey values (gain, offset, gamma) leaves the
    bits unchanged.

    Parameters
    ----------
    image : array-like of shape (h, w), finite grey values
    radius : int >= 1, the window's half-width
    """
    img = as_float_array(image, "image", 2)
    check_finite(img, "image")
    rad = check_int(radius, "radius", minimum=1)
    h, w = img.shape
    padded = np.pad(img, rad, mode="edge")
    offsets = [(dr, dc) for dr in range(-rad, rad + 1) for dc in range(-rad, rad + 1) if (dr, dc) != (0, 0)]
    return np.stack([padded[rad + dr:rad + dr + h, rad + dc:rad + dc + w] < img for dr, dc in offsets], axis=-1)


def matching_costs(left, right, max_disparity: int, *, radius: int = 3, census_radius: int = 2) -> np.ndarray:
    """The cost of every candidate disparity at every left pixel, shape (max_disparity + 1, h, w).

        cost[d, r, c] = mean over the window W(r, c) of  Hamming(census_L(r', c'), census_R(r', c' - d))

    where W is the (2 radius + 1)^2 window around (r, c). A low cost says the
    left pixel (r, c) looks like the right pixel (r, c - d). Where c - d < 0
    the right image has no such pixel and the cost is +inf.

    Parameters
    ----------
    left, right : array-like of shape (h, w), a rectified grey pair (scene points on the same rows)
    max_disparity : int, 1 <= max_disparity < w, the largest disparity tried
    radius : int >= 0, half-width of the window the costs are averaged over
    census_radius : int >= 1, half-width of the census window (:func:`census_transform`)
    """
    L, R = _check_pair(left, right)
    h, w = L.shape
    dmax = check_int(max_disparity, "max_disparity", minimum=1, maximum=w - 1)
    rad = check_int(radius, "radius", minimum=0)
    bits_left, bits_right = census_transform(L, census_radius), census_transform(R, census_radius)
    cost = np.full((dmax + 1, h, w), np.inf)
    for d in range(dmax + 1):
        hamming = np.count_nonzero(bits_left[:, d:] != bits_right[:, :w - d], axis=-1).astype(np.float64)
        cost[d, :, d:] = ndimage.uniform_filter(hamming, size=2 * rad + 1, mode="nearest")
    return cost


def block_matching_disparity(left, right, max_disparity: int, *, radius: int = 3,
                             census_radius: int = 2) -> np.ndarray:
    """The disparity of every left pixel by census block matching along its row, shape (h, w).

    d_hat(r, c) = argmin_d cost[d, r, c] (:func:`matching_costs`; the smallest
    d on ties), then moved to the vertex of the parabola through the costs at
    d_hat - 1, d_hat, d_hat + 1:

        d_hat + (cost[d_hat - 1] - cost[d_hat + 1]) / (2 (cost[d_hat - 1] - 2 cost[d_hat] + cost[d_hat + 1]))

    when all three are finite and the parabola opens upwards (the shift is
    clipped to half a pixel); otherwise d_hat stays an integer.

    Parameters
    ----------
    left, right : array-like of shape (h, w), a rectified grey pair
    max_disparity : int, 1 <= max_disparity < w
    radius, census_radius : int, as in :func:`matching_costs`

    Returns
    -------
    disparity : array of shape (h, w), in pixels, 0 <= d <= max_disparity; the left
        pixel (r, c) matches the right pixel (r, c - d)
    """
    cost = matching_costs(left, right, max_disparity, radius=radius, census_radius=census_radius)
    best = np.argmin(cost, axis=0)                                        # (h, w), integer disparities
    inner = np.clip(best, 1, cost.shape[0] - 2)
    c0, c1, c2 = (np.take_along_axis(cost, (inner + s)[None], axis=0)[0] for s in (-1, 0, 1))
    # c0 and c1 are finite wherever c2 is (a smaller d is never further off the image)
    usable = (best == inner) & np.isfinite(c2)
    c0, c1, c2 = (np.where(usable, c, 0.0) for c in (c0, c1, c2))
    curvature = c0 - 2 * c1 + c2
    usable &= curvature > 0
    shift = np.where(usable, (c0 - c2) / (2 * np.where(usable, curvature, 1.0)), 0.0)
    return best + np.clip(shift, -0.5, 0.5)


def downscale_disparity(disparity, factor: int) -> np.ndarray:
    """A disparity map at 1/factor of its scale: block means divided by factor, shape (h // factor, w // factor).

    Disparities are lengths in pixels, so they shrink with the image. A block
    with any unknown (non-finite) pixel becomes unknown (NaN): only blocks
    whose every pixel has a true disparity keep one.

    Parameters
    ----------
    disparity : array-like of shape (h, w), with inf or NaN where unknown
    factor : int >= 1
    """
    disp = as_float_array(disparity, "disparity", 2)
    f = check_int(factor, "factor", minimum=1)
    with np.errstate(invalid="ignore"):
        small = block_mean(disp, f)
    return np.where(np.isfinite(small), small / f, np.nan)


class DisparityErrors(NamedTuple):
    """The errors |estimate - truth| over the pixels whose true disparity is known.

    Attributes
    ----------
    mean_abs, median_abs : float, pixels
    within_1, within_2 : float, the share of pixels with an error of at most 1 (2) pixels
    n_known : int, the number of pixels scored
    """

    mean_abs: float
    median_abs: float
    within_1: float
    within_2: float
    n_known: int

    @property
    def bad_2(self) -> float:
        """The share of pixels off by more than 2 pixels (the benchmarks' "bad 2.0"), 1 - within_2."""
        return 1.0 - self.within_2


def disparity_errors(estimate, truth) -> DisparityErrors:
    """Score a disparity map against the truth on the pixels where the truth is finite.

    Parameters
    ----------
    estimate : array-like of shape (h, w), finite wherever the truth is
    truth : array-like of shape (h, w), NaN or inf where unknown

    Returns
    -------
    DisparityErrors
    """
    est = as_float_array(estimate, "estimate", 2)
    true = as_float_array(truth, "truth", 2)
    if est.shape != true.shape:
        raise ValueError(f"estimate and truth must have the same shape, got {est.shape} and {true.shape}")
    known = np.isfinite(true)
    if not known.any():
        raise ValueError("truth has no finite pixel: nothing to score")
    check_finite(est[known], "estimate", " It must be finite wherever the truth is known.")
    err = np.abs(est[known] - true[known])
    return DisparityErrors(float(err.mean()), float(np.median(err)), float(np.mean(err <= 1.0)),
                           float(np.mean(err <= 2.0)), int(known.sum()))


class Occlusions(NamedTuple):
    """Left pixels without a match in the right image, two boolean maps of shape (h, w).

    Attributes
    ----------
    outside : the match column c - d falls off the right image (c - d < 0)
    hidden : a nearer scene point lands on the same right pixel, so the right camera sees that point instead
    """

    outside: np.ndarray
    hidden: np.ndarray


def occlusions(disparity, tol: float = 1.0) -> Occlusions:
    """Which left pixels the right camera does not see, from a (true) disparity map.

    The left pixel (r, c) with disparity d lands at column x = c - d of the
    right image. It is *outside* if x < 0. The right camera sees, at each
    of its pixels, the nearest point that lands there, the one of largest
    disparity (a z-buffer, filled at both integer neighbours of x). A left
    pixel is *hidden* if a point more than ``tol`` pixels of disparity
    nearer lands on floor(x) or ceil(x). Pixels of unknown disparity are
    neither, and hide nothing.

    Parameters
    ----------
    disparity : array-like of shape (h, w), NaN or inf where unknown
    tol : float >= 0, in pixels: how much nearer a point must be to hide another
        (neighbours on one slanted surface differ a little in disparity)

    Returns
    -------
    Occlusions(outside, hidden), boolean arrays of shape (h, w), never both True
    """
    disp = as_float_array(disparity, "disparity", 2)
    tol = check_float(tol, "tol", minimum=0.0)
    h, w = disp.shape
    known = np.isfinite(disp)
    x = np.arange(w)[None, :] - np.where(known, disp, 0.0)              # (h, w), the match column
    outside = known & (x < 0)
    lands = known & ~outside
    rows = np.broadcast_to(np.arange(h)[:, None], (h, w))[lands]
    targets = [np.minimum(np.floor(x[lands]), w - 1).astype(np.int64),
               np.minimum(np.ceil(x[lands]), w - 1).astype(np.int64)]
    nearest = np.full((h, w), -np.inf)                                   # the right camera's z-buffer
    for t in targets:
        np.maximum.at(nearest, (rows, t), disp[lands])
    hidden = np.zeros((h, w), dtype=bool)
    hidden[lands] = np.any([disp[lands] < nearest[rows, t] - tol for t in targets], axis=0)
    return Occlusions(outside, hidden)
