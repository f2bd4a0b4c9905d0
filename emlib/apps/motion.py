"""EM for motion layers: a mixture of affine motions.

The layered description of a moving scene is Wang and Adelson's (1994, IEEE
TIP 3(5)): they fitted affine motions to blocks of the optical flow and
clustered the motion parameters with k-means, then assigned pixels to the
resulting layers. Fitting the layers as a mixture model by EM, as done here,
came after them (Ayer and Sawhney, ICCV 1995; Weiss and Adelson, CVPR 1996).

A scene made of a few rigid, roughly planar layers moves so that within
each layer the optical flow is an affine function of the pixel position p = (r, c):

    f(p) = theta_k^T phi(p),   phi(p) = (1, r, c),   theta_k of shape (3, 2)

(six numbers per layer: a translation and a 2 x 2 matrix, covering shifts,
rotations, zooms and shears). Which layer a pixel belongs to is the hidden
variable. The model of the observed flow f_i at pixel p_i is a mixture

    p(f_i | p_i) = sum_k rho_k N(f_i | theta_k^T phi(p_i), Sigma_k)

with the same structure as the lecture's Gaussian mixture, except that each
component's mean depends on the position through theta_k. EM runs as
before:

- E-step (:func:`motion_e_step`): E[z_i^(k)] proportional to
  rho_k N(f_i - theta_k^T phi_i | 0, Sigma_k), in log space;
- M-step (:func:`motion_m_step`): rho_k = (1/n) sum_i E[z_i^(k)]
  (:func:`emlib.update_weights`); theta_k by weighted least squares
  (:func:`update_affine_params`); Sigma_k the weighted covariance of the
  residuals (:func:`update_motion_covariances`).

A plain Gaussian mixture on the flow vectors (one constant flow per layer)
is the special case where theta_k keeps only its first row.

The motion may also have a single component (q = 1): a rectified stereo
pair moves every point along its image row by its disparity d, and on a
flat surface of the scene d is an affine function of (r, c), so each layer
is a plane (see :mod:`emlib.apps.stereo`). The mixture's functions take q = 1 or 2.

Shapes: n pixels, m layers, q motion components (2 for optical flow: row,
column; 1 for a disparity); ``flow`` is (n, q), ``design`` phi is (n, 3),
theta is (m, 3, q), Sigma is (m, q, q).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from .._validation import (
    as_float_array,
    check_finite,
    check_float,
    check_int,
    check_responsibilities,
    check_weights,
    freeze,
)
from ..mixture import LOG_2PI, logsumexp_rows
from ..em import iterate, loglik_change_below
from ..steps import check_collapse, covariances_from_scatter, update_weights


@dataclass(frozen=True, eq=False)
class AffineMotionMixture:
    """m motion layers: weights rho_k, affine parameters theta_k, residual covariances Sigma_k.

    Parameters
    ----------
    weights : array-like of shape (m,), non-negative, summing to 1 (within 1e-8)
    params : array-like of shape (m, 3, q), q = 2 (optical flow) or 1 (disparity):
        theta_k, so that the motion layer k predicts at design row phi = (1, r, c) is
        phi @ params[k], a (row, column) displacement or a disparity
    covariances : array-like of shape (m, q, q), symmetric positive definite:
        the spread Sigma_k of the measured motion around the layer's affine motion
    """

    weights: np.ndarray
    params: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        w = check_weights(self.weights, what="layer")
        th = as_float_array(self.params, "params", 3)
        cov = as_float_array(self.covariances, "covariances", 3)
        m = w.shape[0]
        if th.shape[:2] != (m, 3) or th.shape[2] not in MOTION_COMPONENTS:
            raise ValueError(f"params must have shape (m, 3, q) = ({m}, 3, q) with q = 2 (flow) or 1 "
                             f"(disparity), got {th.shape}")
        q = th.shape[2]
        if cov.shape != (m, q, q):
            raise ValueError(f"covariances must have shape (m, q, q) = ({m}, {q}, {q}), got {cov.shape}")
        for name, a in (("params", th), ("covariances", cov)):
            check_finite(a, name)
        if np.any(np.abs(cov - np.swapaxes(cov, 1, 2)) > 1e-8 * np.abs(cov).max(axis=(1, 2), keepdims=True)):
            raise ValueError(f"covariances must be symmetric {q} x {q} matrices")
        det = np.linalg.det(cov)
        if np.any(cov[:, 0, 0] <= 0) or np.any(det <= 0):
            bad = np.flatnonzero((cov[:, 0, 0] <= 0) | (det <= 0)).tolist()
            raise ValueError(f"covariances must be positive definite; layers {bad} are not. "
                             "Increase reg if a layer collapsed onto perfectly fitting pixels.")
        freeze(self, weights=w, params=th, covariances=cov)

    @property
    def n_components(self) -> int:
        """m, the number of layers."""
        return self.weights.shape[0]

    @property
    def n_motion_components(self) -> int:
        """q, the number of motion components: 2 for optical flow, 1 for a disparity."""
        return self.params.shape[2]

    def __repr__(self) -> str:
        with np.printoptions(precision=4, suppress=True):
            return f"AffineMotionMixture(m={self.n_components}, weights={self.weights})"


# q, the number of motion components: 2 for a (row, column) optical flow, 1 for a disparity.
MOTION_COMPONENTS = (1, 2)


def _check_flow_design(flow, design):
    F = as_float_array(flow, "flow", 2)
    if F.shape[1] not in MOTION_COMPONENTS:
        raise ValueError(f"flow must have shape (n, 2), one (row, column) displacement per pixel, or (n, 1), "
                         f"one disparity per pixel; got {F.shape}")
    Phi = as_float_array(design, "design", 2)
    if Phi.shape != (F.shape[0], 3):
        raise ValueError(f"design must have shape (n, 3) = ({F.shape[0]}, 3), rows (1, r, c) "
                         f"(see affine_design), got {Phi.shape}")
    check_finite(F, "flow")
    check_finite(Phi, "design")
    return F, Phi


def _check_model(model, q: int):
    if not isinstance(model, AffineMotionMixture):
        raise TypeError(f"model must be an emlib.apps.motion.AffineMotionMixture, got {type(model).__name__}")
    if model.n_motion_components != q:
        raise ValueError(f"model describes motions of {model.n_motion_components} component(s) but flow has "
                         f"{q} column(s); fit the model to flow of the same shape")
    return model


def affine_design(positions) -> np.ndarray:
    """The design matrix phi_i = (1, r_i, c_i) of the affine motion model, shape (n, 3).

    Parameters
    ----------
    positions : array-like of shape (n, 2), (row, column) of each pixel; or
        (h, w, 2) as returned by :func:`emlib.apps.features.pixel_positions`
        (then n = h * w, in row-major order, matching :func:`emlib.apps.features.flow_vectors`)
    """
    P = as_float_array(positions, "positions", (2, 3))
    if P.shape[-1] != 2:
        raise ValueError(f"positions must have shape (n, 2) or (h, w, 2), got {P.shape}")
    P = P.reshape(-1, 2)
    check_finite(P, "positions")
    return np.column_stack([np.ones(P.shape[0]), P])


def affine_flow(params, design) -> np.ndarray:
    """The motion each layer predicts at each pixel, theta_k^T phi_i, shape (n, m, q).

    Parameters
    ----------
    params : array-like of shape (m, 3, q), q = 2 (flow) or 1 (disparity)
    design : array-like of shape (n, 3)
    """
    th = as_float_array(params, "params", 3)
    if th.shape[1] != 3 or th.shape[2] not in MOTION_COMPONENTS:
        raise ValueError(f"params must have shape (m, 3, q) with q = 2 (flow) or 1 (disparity), got {th.shape}")
    Phi = as_float_array(design, "design", 2)
    if Phi.shape[1] != 3:
        raise ValueError(f"design must have shape (n, 3), got {Phi.shape}")
    return np.einsum("na,kab->nkb", Phi, th)


def layer_motion(params, design, labels) -> np.ndarray:
    """The motion of each pixel's own layer, theta_{k_i}^T phi_i, shape (n, q).

    With ``labels`` the MAP layers (:attr:`MotionEMResult.labels`) this is
    the motion the fitted model predicts at each pixel. A Gaussian mixture
    on the motion values is the special case theta_k = (mu_k, 0, 0): stack
    its means as ``params[:, 0]`` with zeros below.

    Parameters
    ----------
    params : array-like of shape (m, 3, q)
    design : array-like of shape (n, 3)
    labels : array-like of shape (n,), integers in 0..m-1
    """
    predicted = affine_flow(params, design)                            # (n, m, q), validated there
    lab = np.asarray(labels)
    if lab.shape != predicted.shape[:1] or lab.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers of shape (n,) = ({predicted.shape[0]},), got "
                         f"{lab.dtype} of shape {lab.shape}")
    if lab.size and (lab.min() < 0 or lab.max() >= predicted.shape[1]):
        raise ValueError(f"labels must lie in 0..{predicted.shape[1] - 1} (one per layer), "
                         f"got {lab.min()}..{lab.max()}")
    return predicted[np.arange(lab.shape[0]), lab]


def motion_weighted_logpdf(flow, design, model: AffineMotionMixture) -> np.ndarray:
    """ln rho_k + ln N(f_i | theta_k^T phi_i, Sigma_k) for every pixel and layer, shape (n, m).

    With the residual e_ik = f_i - theta_k^T phi_i and Sigma_k q x q:
    ln N = -(q ln 2 pi + ln det Sigma_k + e_ik^T Sigma_k^{-1} e_ik) / 2.
    """
    F, Phi = _check_flow_design(flow, design)
    model = _check_model(model, F.shape[1])
    resid = F[:, None, :] - affine_flow(model.params, Phi)             # (n, m, q)
    cov = model.covariances
    _, logdet = np.linalg.slogdet(cov)                                 # (m,); positive definite, checked
    inv = np.linalg.inv(cov)                                           # (m, q, q), q <= 2
    maha = np.einsum("nka,kab,nkb->nk", resid, inv, resid)
    with np.errstate(divide="ignore"):
        log_w = np.log(model.weights)
    return log_w - 0.5 * (F.shape[1] * LOG_2PI + logdet + maha)


def motion_e_step(flow, design, model: AffineMotionMixture) -> tuple[np.ndarray, float]:
    """E-step: E[z_i^(k)] = rho_k N(f_i | theta_k^T phi_i, Sigma_k) / sum_j (same for j), and the log-likelihood.

    Parameters
    ----------
    flow : array-like of shape (n, q), q = 2 (flow) or 1 (disparity)
    design : array-like of shape (n, 3)
    model : AffineMotionMixture with m layers and the same q

    Returns
    -------
    resp : array of shape (n, m), rows summing to 1
    loglik : float, sum_i ln sum_k rho_k N(f_i | theta_k^T phi_i, Sigma_k)
    """
    log_joint = motion_weighted_logpdf(flow, design, model)
    log_p = logsumexp_rows(log_joint)
    return np.exp(log_joint - log_p[:, None]), float(np.sum(log_p))


LAYER_REMEDY = "Use fewer layers, or start from other labels or responsibilities."


def update_affine_params(flow, design, resp) -> np.ndarray:
    """M-step for the affine motions: weighted least squares, shape (m, 3, q).

        theta_k = (sum_i E[z_i^(k)] phi_i phi_i^T)^{-1} sum_i E[z_i^(k)] phi_i f_i^T

    Each layer's motion is fitted to all pixels, each weighted by the
    probability that it belongs to the layer. Because both flow components
    share the same regressors phi_i, this is the maximiser of Q for any
    Sigma_k (it does not need the covariances).

    Parameters
    ----------
    flow : array-like of shape (n, q), q = 2 (flow) or 1 (disparity)
    design : array-like of shape (n, 3)
    resp : array-like of shape (n, m)
    """
    F, Phi = _check_flow_design(flow, design)
    resp = check_responsibilities(resp, F.shape[0])
    check_collapse(resp.sum(axis=0), LAYER_REMEDY)
    gram = np.einsum("nk,na,nb->kab", resp, Phi, Phi)                  # (m, 3, 3)
    rhs = np.einsum("nk,na,nc->kac", resp, Phi, F)                     # (m, 3, q)
    try:
        return np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        raise ValueError("a layer's weighted pixels do not determine an affine motion (they lie on a "
                         "line or a point); use fewer layers or more spread-out pixels") from None


def update_motion_covariances(flow, design, resp, params, reg: float = 1e-6) -> np.ndarray:
    """M-step for the residual covariances, shape (m, q, q).

        Sigma_k = sum_i E[z_i^(k)] e_ik e_ik^T / sum_i E[z_i^(k)] + reg I,   e_ik = f_i - theta_k^T phi_i

    Parameters
    ----------
    flow : array-like of shape (n, q), q = 2 (flow) or 1 (disparity)
    design : array-like of shape (n, 3)
    resp : array-like of shape (n, m)
    params : array-like of shape (m, 3, q), usually the new theta_k
    reg : float >= 0, added to the diagonal (a layer that fits its pixels
        exactly would otherwise get a singular covariance)
    """
    F, Phi = _check_flow_design(flow, design)
    resp = check_responsibilities(resp, F.shape[0])
    reg = check_float(reg, "reg", minimum=0.0)
    th = as_float_array(params, "params", 3)
    want = (resp.shape[1], 3, F.shape[1])
    if th.shape != want:
        raise ValueError(f"params must have shape (m, 3, q) = {want} for {want[0]} layers and flow of shape "
                         f"(n, {want[2]}), got {th.shape}")
    nk = check_collapse(resp.sum(axis=0), LAYER_REMEDY)
    resid = F[:, None, :] - affine_flow(th, Phi)
    scatter = np.einsum("nk,nka,nkb->kab", resp, resid, resid)          # S_k of the residuals
    return covariances_from_scatter(scatter, nk, "full", reg)


def motion_m_step(flow, design, resp, *, reg: float = 1e-6) -> AffineMotionMixture:
    """M-step: weights, then affine motions, then residual covariances around them.

    Parameters
    ----------
    flow : array-like of shape (n, q), q = 2 (flow) or 1 (disparity)
    design : array-like of shape (n, 3)
    resp : array-like of shape (n, m); a one-hot matrix gives the per-layer
        least-squares fit of a known segmentation

    Returns
    -------
    AffineMotionMixture
    """
    weights = update_weights(resp)
    params = update_affine_params(flow, design, resp)
    cov = update_motion_covariances(flow, design, resp, params, reg)
    return AffineMotionMixture(weights, params, cov)


@dataclass(frozen=True, eq=False)
class MotionEMResult:
    """What :func:`em_motion` returns.

    Attributes
    ----------
    model : AffineMotionMixture, the final layers
    loglik : array of shape (n_iter + 1,), the log-likelihood at each iterate (entry 0: the start)
    n_iter : int, the number of M-steps done
    converged : bool, whether the per-pixel log-likelihood change fell below tol
    responsibilities : array of shape (n, m), E[z_i^(k)] at the final layers
    """

    model: AffineMotionMixture
    loglik: np.ndarray
    n_iter: int
    converged: bool
    responsibilities: np.ndarray

    @property
    def labels(self) -> np.ndarray:
        """The MAP layer of each pixel, argmax_k E[z_i^(k)], shape (n,)."""
        return np.argmax(self.responsibilities, axis=1)

    def __repr__(self) -> str:
        return (f"MotionEMResult(n_iter={self.n_iter}, converged={self.converged}, "
                f"loglik={self.loglik[-1]:.6g}, m={self.model.n_components})")


def em_motion(flow, design, init, *, max_iter: int = 100, tol: float = 1e-6,
              reg: float = 1e-6) -> MotionEMResult:
    """Fit a mixture of affine motions to optical flow by EM.

    Parameters
    ----------
    flow : array-like of shape (n, 2), the flow vector of each pixel
        (e.g. :func:`emlib.apps.features.flow_vectors`), or of shape (n, 1),
        the disparity of each pixel of a rectified stereo pair
    design : array-like of shape (n, 3), rows (1, r_i, c_i) (:func:`affine_design`)
    init : AffineMotionMixture (theta^(0)), or responsibilities of shape (n, m)
        from which one M-step builds it (e.g. the posterior of a Gaussian mixture
        fitted to the flow vectors, or a one-hot matrix of initial labels)
    max_iter : int >= 0
    tol : float >= 0; stop when |l(t) - l(t-1)| / n < tol
    reg : float >= 0, added to the covariance diagonals in every M-step

    Returns
    -------
    MotionEMResult

    The log-likelihood never decreases (up to the effect of ``reg``), as for
    any EM: each M-step maximises Q exactly.
    """
    F, Phi = _check_flow_design(flow, design)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    tol = check_float(tol, "tol", minimum=0.0)
    reg = check_float(reg, "reg", minimum=0.0)
    if isinstance(init, AffineMotionMixture):
        model = _check_model(init, F.shape[1])
    else:
        model = motion_m_step(F, Phi, init, reg=reg)
    run = iterate(lambda layers: _MotionEvidence(*motion_e_step(F, Phi, layers)),
                  lambda ev: motion_m_step(F, Phi, ev.resp, reg=reg), model, max_iter=max_iter,
                  converged=loglik_change_below(tol, F.shape[0]), record=lambda ev: ev.loglik,
                  keep_history=False)
    return MotionEMResult(model=run.theta, loglik=np.array(run.records), n_iter=run.n_iter,
                          converged=run.converged, responsibilities=run.evidence.resp)


class _MotionEvidence(NamedTuple):
    resp: np.ndarray
    loglik: float


def _pre_image(params_k: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a frame-1 pixel x came from under p -> p + theta^T phi(p): solve (I + A) y = x - b."""
    b = params_k[0]                  # (2,) translation
    A = params_k[1:].T               # (2, 2): flow = b + A p
    M = np.eye(2) + A
    X = np.stack([rows.ravel() - b[0], cols.ravel() - b[1]])
    Y = np.linalg.solve(M, X)
    return Y[0].reshape(rows.shape), Y[1].reshape(rows.shape)


def two_layer_frames(background, foreground, mask, background_params, foreground_params):
    """Two frames of a scene with two layers moving differently, and the true flow and layers.

    Frame 0 shows ``foreground`` where ``mask`` is True and ``background``
    elsewhere. Between frame 0 and frame 1 every point p of layer k moves to
    p + theta_k^T phi(p) with phi(p) = (1, r, c) (the affine model of this
    module); the foreground stays in front. Frame 1 is sampled by cubic
    interpolation at the pre-image of each pixel (mirrored at the border).

    Parameters
    ----------
    background, foreground : array-like of shape (h, w), grey images
    mask : array-like of shape (h, w), bool: the foreground in frame 0
    background_params, foreground_params : array-like of shape (3, 2), theta
        of each layer (row 0 the translation, rows 1-2 the linear part)

    Returns
    -------
    frame0, frame1 : arrays of shape (h, w)
    true_flow : array of shape (2, h, w), the displacement of every frame-0
        pixel (row, column), laid out like ``skimage.registration``'s flow
    layers : array of shape (h, w), 1 on the foreground of frame 0, 0 elsewhere
    """
    bg = as_float_array(background, "background", 2)
    fg = as_float_array(foreground, "foreground", 2)
    msk = np.asarray(mask)
    if msk.dtype != bool:
        raise TypeError(f"mask must be a boolean array, got dtype {msk.dtype}")
    if not (bg.shape == fg.shape == msk.shape):
        raise ValueError(f"background, foreground and mask must have the same shape (h, w), "
                         f"got {bg.shape}, {fg.shape}, {msk.shape}")
    thetas = []
    for name, p in (("background_params", background_params), ("foreground_params", foreground_params)):
        th = as_float_array(p, name, 2)
        if th.shape != (3, 2):
            raise ValueError(f"{name} must have shape (3, 2) (translation, then the linear part), got {th.shape}")
        check_finite(th, name)
        if abs(np.linalg.det(np.eye(2) + th[1:].T)) < 1e-9:
            raise ValueError(f"{name} maps the plane onto a line (I + A is singular); use a smaller linear part")
        thetas.append(th)
    h, w = bg.shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    frame0 = np.where(msk, fg, bg)
    by, bx = _pre_image(thetas[0], rows, cols)
    fy, fx = _pre_image(thetas[1], rows, cols)
    bg1 = ndimage.map_coordinates(bg, [by, bx], order=3, mode="mirror")
    fg1 = ndimage.map_coordinates(fg, [fy, fx], order=3, mode="mirror")
    in_front = ndimage.map_coordinates(msk.astype(np.float64), [fy, fx], order=1, mode="constant") >= 0.5
    frame1 = np.where(in_front, fg1, bg1)
    design = affine_design(np.stack([rows, cols], axis=-1))
    flows = [affine_flow(th[None], design)[:, 0, :] for th in thetas]          # (n, 2) each
    true = np.where(msk.reshape(-1, 1), flows[1], flows[0])
    true_flow = np.moveaxis(true.reshape(h, w, 2), -1, 0)
    return frame0, frame1, true_flow, msk.astype(np.int64)
