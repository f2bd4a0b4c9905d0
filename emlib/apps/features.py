"""Per-pixel features for segmenting images with EM (the lecture's Blobworld and motion-layer slides).

EM clusters vectors, so to segment an image each pixel becomes a vector
x_i in R^d, and the mixture's MAP classes become the segments. Belongie et
al. ("Blobworld", ICCV 1998) describe a pixel by

- its colour in CIE L*a*b* (:func:`rgb_to_lab`), where Euclidean distances
  roughly follow perceived colour differences;
- its position (:func:`pixel_positions`), so that segments tend to be
  spatially coherent;
- its texture, read off the smoothed structure tensor
  (:func:`structure_tensor`, :func:`structure_eigenvalues`): the contrast
  c = 2 sqrt(lambda_1 + lambda_2) (:func:`texture_contrast`) and the
  anisotropy a = 1 - lambda_2 / lambda_1 (:func:`texture_anisotropy`);
  a simpler texture measure is the local variance (:func:`local_variance`).

For motion layers (the layered representation of Wang and Adelson, 1994,
fitted as a mixture by EM as in Ayer and Sawhney, 1995, and Weiss and
Adelson, 1996; see :mod:`emlib.apps.motion`) the vector of a pixel is its
optical flow (:func:`flow_vectors`). :func:`feature_matrix` turns per-pixel
maps into the (n, d) data matrix EM expects and :func:`standardize` puts the
features on one scale. :func:`emlib.scoring.matched_accuracy` scores a
segmentation against known regions once its arbitrary labels are matched
to the true ones.

Every map here has the shape (h, w) of the image, or (h, w, c) for c values
per pixel; every function works on float64 arrays.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .._validation import as_float_array, check_finite, check_float, check_int

# sRGB (IEC 61966-2-1) primaries to CIE XYZ, D65 white; the matrix scikit-image also uses.
XYZ_FROM_RGB = np.array([[0.412453, 0.357580, 0.180423],
                         [0.212671, 0.715160, 0.072169],
                         [0.019334, 0.119193, 0.950227]])
# The D65 reference white (2 degree observer) in XYZ.
WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


# --- checks -------------------------------------------------------------------------------------
ANY_NDIM = tuple(range(0, 8))     # for element-wise functions that accept arrays of any shape


def _check_gray(image, name: str = "image") -> np.ndarray:
    img = as_float_array(image, name, 2)
    if min(img.shape) < 1:
        raise ValueError(f"{name} must have at least one pixel, got shape {img.shape}")
    check_finite(img, name)
    return img


def _check_sigma(sigma, name: str = "sigma") -> float:
    return check_float(sigma, name, minimum=0.0, strict=True)


# --- colour -------------------------------------------------------------------------------------
def rgb_to_lab(image) -> np.ndarray:
    """CIE L*a*b* colour of every pixel of an sRGB image.

    Three steps, each a formula of the colour standards:

    1. undo the sRGB gamma: c_lin = c / 12.92 if c <= 0.04045, else ((c + 0.055) / 1.055)^2.4;
    2. linear RGB to XYZ with the sRGB matrix, divided by the D65 white (X_n, Y_n, Z_n);
    3. L* = 116 f(Y/Y_n) - 16, a* = 500 (f(X/X_n) - f(Y/Y_n)), b* = 200 (f(Y/Y_n) - f(Z/Z_n)),
       with f(t) = t^(1/3) above (6/29)^3 and the linear piece t / (3 (6/29)^2) + 4/29 below.

    L* runs from 0 (black) to 100 (white); a* is green (-) to red (+), b* blue (-)
    to yellow (+). Equal steps in L*a*b* look roughly equally different, which
    is why Blobworld clusters colour there rather than in RGB.

    Parameters
    ----------
    image : array-like of shape (h, w, 3)
        RGB values: integers 0..255 (dtype uint8) or floats in [0, 1].

    Returns
    -------
    array of shape (h, w, 3): L*, a*, b* per pixel
    """
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"image must be an RGB array of shape (h, w, 3), got shape {arr.shape}")
    rgb = arr.astype(np.float64) / 255.0 if arr.dtype == np.uint8 else as_float_array(arr, "image", 3)
    check_finite(rgb, "image")
    if rgb.min() < 0 or rgb.max() > 1:
        raise ValueError(f"image must hold uint8 values or floats in [0, 1]; got floats in "
                         f"[{rgb.min():.4g}, {rgb.max():.4g}] (divide 0..255 floats by 255)")
    linear = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = linear @ XYZ_FROM_RGB.T / WHITE_D65
    delta = 6.0 / 29.0
    f = np.where(xyz > delta ** 3, np.cbrt(xyz), xyz / (3 * delta ** 2) + 4.0 / 29.0)
    L = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


# --- position -----------------------------------------------------------------------------------
def pixel_positions(shape) -> np.ndarray:
    """The (row, column) coordinates of every pixel, shape (h, w, 2).

    ``out[r, c] == (r, c)``. As features they pull each segment together in
    space: two pixels of the same colour far apart cost more to put in one
    Gaussian than two neighbours.

    Parameters
    ----------
    shape : tuple (h, w, ...); only the first two entries are used, so an
        image's ``.shape`` can be passed directly
    """
    try:
        h, w = (int(s) for s in tuple(shape)[:2])
    except (TypeError, ValueError):
        raise TypeError(f"shape must be a tuple (h, w), got {shape!r}") from None
    if h < 1 or w < 1 or len(tuple(shape)) < 2:
        raise ValueError(f"shape must be (h, w) with h, w >= 1, got {shape!r}")
    rows, cols = np.mgrid[0:h, 0:w]
    return np.stack([rows, cols], axis=-1).astype(np.float64)


# --- texture ------------------------------------------------------------------------------------
def local_mean(image, sigma: float) -> np.ndarray:
    """Gaussian-weighted local mean E_sigma[I] = G_sigma * I, shape (h, w).

    Parameters
    ----------
    image : array-like of shape (h, w), grey levels
    sigma : float > 0, the width (in pixels) of the Gaussian window
    """
    img = _check_gray(image)
    return ndimage.gaussian_filter(img, _check_sigma(sigma), mode="reflect")


def local_variance(image, sigma: float) -> np.ndarray:
    """Gaussian-weighted local variance G_sigma * I^2 - (G_sigma * I)^2, shape (h, w).

    The simplest texture measure: zero on a flat patch, large where grey levels
    swing within a window of width ~ sigma. Clipped at 0 against rounding.

    Parameters
    ----------
    image : array-like of shape (h, w), grey levels
    sigma : float > 0, the width (in pixels) of the Gaussian window
    """
    img = _check_gray(image)
    sigma = _check_sigma(sigma)
    mean = ndimage.gaussian_filter(img, sigma, mode="reflect")
    mean_sq = ndimage.gaussian_filter(img * img, sigma, mode="reflect")
    return np.maximum(mean_sq - mean * mean, 0.0)


def image_gradient(image, sigma: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The derivatives (dI/drow, dI/dcol) of the image smoothed at scale sigma, each (h, w).

    Computed as derivative-of-Gaussian filters, so noise finer than sigma does
    not dominate the gradient. On a ramp I(r, c) = alpha c the result is
    (0, alpha) away from the border.

    Parameters
    ----------
    image : array-like of shape (h, w)
    sigma : float > 0, the derivative scale in pixels
    """
    img = _check_gray(image)
    sigma = _check_sigma(sigma)
    d_row = ndimage.gaussian_filter(img, sigma, order=(1, 0), mode="nearest")
    d_col = ndimage.gaussian_filter(img, sigma, order=(0, 1), mode="nearest")
    return d_row, d_col


def structure_tensor(image, sigma: float, derivative_sigma: float = 1.0) -> np.ndarray:
    """The smoothed structure tensor (second-moment matrix) of every pixel, shape (h, w, 2, 2).

        M_sigma = G_sigma * (grad I)(grad I)^T
                = [[G_sigma * I_r^2,    G_sigma * I_r I_c],
                   [G_sigma * I_r I_c,  G_sigma * I_c^2  ]]

    The average, over a window of width sigma, of the outer product of the
    gradient with itself. Its eigenvectors point along and across the
    dominant orientation; its eigenvalues say how strongly the grey level
    varies in each of those directions. Blobworld reads texture off it.

    Parameters
    ----------
    image : array-like of shape (h, w)
    sigma : float > 0, the integration scale (the window of the average)
    derivative_sigma : float > 0, the scale of the gradient (:func:`image_gradient`)

    Returns
    -------
    array of shape (h, w, 2, 2), symmetric positive semi-definite per pixel
    """
    sigma = _check_sigma(sigma)
    d_row, d_col = image_gradient(image, _check_sigma(derivative_sigma, "derivative_sigma"))

    def smooth(a):
        return ndimage.gaussian_filter(a, sigma, mode="reflect")

    rr, rc, cc = smooth(d_row * d_row), smooth(d_row * d_col), smooth(d_col * d_col)
    return np.stack([np.stack([rr, rc], axis=-1), np.stack([rc, cc], axis=-1)], axis=-2)


def structure_eigenvalues(tensor) -> tuple[np.ndarray, np.ndarray]:
    """The eigenvalues lambda_1 >= lambda_2 >= 0 of 2 x 2 symmetric matrices, each of shape (...).

    In closed form: with trace T and determinant D, lambda_{1,2} = T/2 +- sqrt(T^2/4 - D).

    Parameters
    ----------
    tensor : array-like of shape (..., 2, 2), symmetric (e.g. from :func:`structure_tensor`)
    """
    M = as_float_array(tensor, "tensor", ANY_NDIM[2:])
    if M.shape[-2:] != (2, 2):
        raise ValueError(f"tensor must have shape (..., 2, 2), got {M.shape}")
    check_finite(M, "tensor")
    half_trace = 0.5 * (M[..., 0, 0] + M[..., 1, 1])
    half_diff = 0.5 * (M[..., 0, 0] - M[..., 1, 1])
    root = np.sqrt(half_diff ** 2 + M[..., 0, 1] * M[..., 1, 0])   # = sqrt(T^2/4 - D), written without cancellation
    return np.maximum(half_trace + root, 0.0), np.maximum(half_trace - root, 0.0)


def texture_contrast(lambda_1, lambda_2) -> np.ndarray:
    """Blobworld's texture contrast c = 2 sqrt(lambda_1 + lambda_2), same shape as the inputs.

    The root-mean-square gradient magnitude in the window, times 2: zero on a
    flat patch, large on a busy one, in grey levels per pixel.
    """
    l1 = as_float_array(lambda_1, "lambda_1", ANY_NDIM)
    l2 = as_float_array(lambda_2, "lambda_2", ANY_NDIM)
    if l1.shape != l2.shape:
        raise ValueError(f"lambda_1 and lambda_2 must have the same shape, got {l1.shape} and {l2.shape}")
    return 2.0 * np.sqrt(np.maximum(l1 + l2, 0.0))


def texture_anisotropy(lambda_1, lambda_2, eps: float = 1e-12) -> np.ndarray:
    """Blobworld's anisotropy a = 1 - lambda_2 / lambda_1, in [0, 1], same shape as the inputs.

    1 where every gradient in the window points the same way (stripes,
    bricks' edges), near 0 where gradients point every way equally (gravel, noise).
    Where lambda_1 <= eps (a flat patch, no orientation at all) a = 0.
    """
    l1 = as_float_array(lambda_1, "lambda_1", ANY_NDIM)
    l2 = as_float_array(lambda_2, "lambda_2", ANY_NDIM)
    if l1.shape != l2.shape:
        raise ValueError(f"lambda_1 and lambda_2 must have the same shape, got {l1.shape} and {l2.shape}")
    eps = check_float(eps, "eps", minimum=0.0)
    flat = l1 <= eps
    return np.where(flat, 0.0, 1.0 - l2 / np.where(flat, 1.0, l1))


# --- from maps to a data matrix -------------------------------------------------------------------
def feature_matrix(*maps) -> np.ndarray:
    """Stack per-pixel maps into EM's data matrix: one row per pixel, one column per feature.

    Parameters
    ----------
    *maps : arrays of shape (h, w) (one feature) or (h, w, c) (c features), all with the same (h, w)

    Returns
    -------
    X : array of shape (h * w, d), d the total number of features; row i is
        pixel (i // w, i % w), so ``labels.reshape(h, w)`` turns per-row labels
        back into an image
    """
    if not maps:
        raise ValueError("feature_matrix needs at least one map of shape (h, w) or (h, w, c)")
    columns = []
    hw = None
    for j, m in enumerate(maps):
        arr = as_float_array(m, f"maps[{j}]", (2, 3))
        if hw is None:
            hw = arr.shape[:2]
        elif arr.shape[:2] != hw:
            raise ValueError(f"maps[{j}] has shape {arr.shape} but maps[0] has (h, w) = {hw}; "
                             "all maps must cover the same pixels")
        columns.append(arr.reshape(hw[0] * hw[1], -1))
    X = np.concatenate(columns, axis=1)
    check_finite(X, "maps")
    return X


def flow_vectors(flow) -> np.ndarray:
    """The optical-flow vector of every pixel as EM's data matrix, shape (h * w, 2).

    Parameters
    ----------
    flow : array-like of shape (2, h, w), the (row, column) displacement per
        pixel, as returned by ``skimage.registration.optical_flow_tvl1`` and
        ``optical_flow_ilk``

    Returns
    -------
    array of shape (h * w, 2): row i is (v_row, v_col) of pixel (i // w, i % w)
    """
    f = as_float_array(flow, "flow", 3)
    if f.shape[0] != 2:
        raise ValueError(f"flow must have shape (2, h, w) (row and column displacements), got {f.shape}")
    return feature_matrix(np.moveaxis(f, 0, -1))


def standardize(X) -> np.ndarray:
    """z-scores: every column shifted to mean 0 and scaled to standard deviation 1, shape (n, d).

    Features measured in different units (L* in 0..100, positions in pixels,
    contrast in grey levels per pixel) then weigh alike in the k-means++ seeding
    and in the broad starting covariances. A constant column is only centred.
    (The Gaussian fit itself does not care: a full covariance absorbs any scaling.)
    """
    X = as_float_array(X, "X", 2)
    check_finite(X, "X")
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


# --- feature sets ---------------------------------------------------------------------------------
def _log_floor(x: np.ndarray, eps: float) -> np.ndarray:
    return np.log(x + eps)


def texture_features(image, sigma: float, derivative_sigmas=(1.0, 3.0), eps: float = 1e-3) -> np.ndarray:
    """A texture description of every pixel of a grey image, shape (h, w, 2 + 2 * len(derivative_sigmas)).

    The maps, in this order, all averaged over a Gaussian window of width sigma:

    - the local mean grey level (:func:`local_mean`);
    - ln of the local standard deviation (:func:`local_variance`);
    - for each derivative scale s: ln of the texture contrast c and the
      anisotropy a of the structure tensor with gradients at scale s
      (:func:`structure_tensor`, :func:`texture_contrast`, :func:`texture_anisotropy`).
      Fine scales see grass blades, coarse ones see pebbles and bricks.

    The logarithms (with ``eps`` added, so a flat patch stays finite) make the
    strongly skewed magnitudes closer to Gaussian, which is what the mixture assumes.

    Parameters
    ----------
    image : array-like of shape (h, w), grey levels in about [0, 1]
    sigma : float > 0, the window (integration scale) in pixels
    derivative_sigmas : sequence of floats > 0, the gradient scales
    eps : float > 0, floor inside the logarithms (grey levels per pixel)

    Returns
    -------
    array of shape (h, w, 2 + 2 * len(derivative_sigmas))
    """
    img = _check_gray(image)
    sigma = _check_sigma(sigma)
    eps = check_float(eps, "eps", minimum=0.0, strict=True)
    scales = [_check_sigma(s, "derivative_sigmas") for s in np.atleast_1d(derivative_sigmas).tolist()]
    if not scales:
        raise ValueError("derivative_sigmas must hold at least one scale, got an empty sequence")
    maps = [local_mean(img, sigma), _log_floor(np.sqrt(local_variance(img, sigma)), eps)]
    for s in scales:
        l1, l2 = structure_eigenvalues(structure_tensor(img, sigma, derivative_sigma=s))
        maps += [_log_floor(texture_contrast(l1, l2), eps), texture_anisotropy(l1, l2)]
    return np.stack(maps, axis=-1)


def blobworld_features(image, sigma: float = 2.0, colour_sigma: float = 1.0) -> np.ndarray:
    """Blobworld's description of every pixel of a colour image, shape (h, w, 7).

    The maps, in this order (after Belongie et al., 1998, without their
    automatic scale selection and polarity):

    - L*, a*, b* colour (:func:`rgb_to_lab`), smoothed over ``colour_sigma``
      so that a textured patch gets its average colour;
    - a c, anisotropy times contrast, and c, the contrast (:func:`texture_contrast`,
      :func:`texture_anisotropy`) of the structure tensor of L* at window ``sigma``:
      (0, 0) on a flat patch, (c, c) on stripes, (0, c) on isotropic texture;
    - the row and column of the pixel (:func:`pixel_positions`).

    Parameters
    ----------
    image : array-like of shape (h, w, 3), sRGB (uint8, or floats in [0, 1])
    sigma : float > 0, the texture window in pixels
    colour_sigma : float > 0, the colour smoothing in pixels

    Returns
    -------
    array of shape (h, w, 7)
    """
    lab = rgb_to_lab(image)
    sigma = _check_sigma(sigma)
    colour_sigma = _check_sigma(colour_sigma, "colour_sigma")
    lab_smooth = np.stack([ndimage.gaussian_filter(lab[..., j], colour_sigma, mode="reflect")
                           for j in range(3)], axis=-1)
    l1, l2 = structure_eigenvalues(structure_tensor(lab[..., 0], sigma))
    c = texture_contrast(l1, l2)
    a = texture_anisotropy(l1, l2)
    return np.concatenate([lab_smooth, (a * c)[..., None], c[..., None], pixel_positions(lab.shape)], axis=-1)


# --- images with known regions ------------------------------------------------------------------
def block_mean(image, factor: int) -> np.ndarray:
    """Downsample by averaging factor x factor blocks, shape (h // factor, w // factor[, c]).

    Rows and columns that do not fill a whole block are dropped. Averaging
    (rather than taking every factor-th pixel) avoids aliasing fine texture.

    Parameters
    ----------
    image : array-like of shape (h, w) or (h, w, c)
    factor : int >= 1
    """
    img = as_float_array(image, "image", (2, 3))
    f = check_int(factor, "factor", minimum=1)
    h, w = img.shape[0] // f, img.shape[1] // f
    if h < 1 or w < 1:
        raise ValueError(f"factor={f} is larger than the image (shape {img.shape})")
    img = img[:h * f, :w * f]
    return img.reshape(h, f, w, f, *img.shape[2:]).mean(axis=(1, 3))


def texture_mosaic(textures, regions) -> np.ndarray:
    """An image whose region k shows texture k: out[p] = textures[regions[p]][p], shape (h, w).

    Parameters
    ----------
    textures : sequence of K arrays, each at least (h, w); the top-left (h, w) of each is used
    regions : array-like of shape (h, w), integers 0..K-1, the known segmentation

    Returns
    -------
    array of shape (h, w)
    """
    reg = np.asarray(regions)
    if reg.ndim != 2 or reg.dtype.kind not in "iub":
        raise ValueError(f"regions must be a 2-D array of integer labels, got shape {reg.shape} and dtype {reg.dtype}")
    if reg.size and reg.min() < 0:
        raise ValueError("regions must hold labels 0..K-1, got a negative label")
    h, w = reg.shape
    texs = list(textures)
    if reg.size and reg.max() >= len(texs):
        raise ValueError(f"regions uses label {reg.max()} but only {len(texs)} textures were given")
    out = np.zeros((h, w))
    for k, t in enumerate(texs):
        t = as_float_array(t, f"textures[{k}]", 2)
        if t.shape[0] < h or t.shape[1] < w:
            raise ValueError(f"textures[{k}] has shape {t.shape}, smaller than regions {reg.shape}")
        sel = reg == k
        out[sel] = t[:h, :w][sel]
    return out
