import numpy as np
import pytest

from emlib.apps.features import pixel_positions
from emlib.scoring import matched_accuracy
from emlib.apps.motion import (
    AffineMotionMixture,
    affine_design,
    affine_flow,
    em_motion,
    layer_motion,
    motion_e_step,
    motion_m_step,
    two_layer_frames,
    update_affine_params,
    update_motion_covariances,
)

# Two layers on a 30 x 40 grid: a slow zoom-and-turn, and a shift to the left with a little shear.
THETA = np.array([[[0.5, -0.3], [0.02, 0.01], [-0.01, 0.02]],
                  [[-1.0, 2.0], [0.0, 0.05], [0.0, 0.0]]])


def two_layer_flow(rng, noise=0.05, shape=(30, 40)):
    """Flow vectors of pixels whose layer is the right half (1) or the left half (0), with noise."""
    P = pixel_positions(shape).reshape(-1, 2)
    labels = (P[:, 1] >= shape[1] / 2).astype(int)
    D = affine_design(P)
    flow = affine_flow(THETA, D)[np.arange(P.shape[0]), labels] + rng.normal(scale=noise, size=(P.shape[0], 2))
    return flow, D, labels


def one_hot(labels, m):
    return np.eye(m)[labels]


def test_affine_design_rows_are_one_row_column():
    D = affine_design(pixel_positions((2, 3)))
    assert D.shape == (6, 3)
    np.testing.assert_array_equal(D[5], [1, 1, 2])
    np.testing.assert_array_equal(affine_design([[4.0, 7.0]]), [[1, 4, 7]])


def test_affine_flow_is_translation_plus_linear_part():
    D = affine_design([[3.0, 5.0]])
    f = affine_flow(THETA, D)
    assert f.shape == (1, 2, 2)
    for k in range(2):
        b, A = THETA[k, 0], THETA[k, 1:].T
        np.testing.assert_allclose(f[0, k], b + A @ [3.0, 5.0])


def test_least_squares_recovers_noiseless_affine_motions(rng):
    flow, D, labels = two_layer_flow(rng, noise=0.0)
    np.testing.assert_allclose(update_affine_params(flow, D, one_hot(labels, 2)), THETA, atol=1e-10)


def test_affine_update_is_weighted_least_squares(rng):
    flow, D, _ = two_layer_flow(rng, noise=0.3)
    resp = rng.dirichlet(np.ones(2), size=flow.shape[0])
    theta = update_affine_params(flow, D, resp)
    for k in range(2):
        s = np.sqrt(resp[:, k])[:, None]
        ref, *_ = np.linalg.lstsq(D * s, flow * s, rcond=None)
        np.testing.assert_allclose(theta[k], ref, rtol=1e-8, atol=1e-10)


def test_covariance_update_is_the_weighted_covariance_of_the_residuals(rng):
    flow, D, _ = two_layer_flow(rng, noise=0.3)
    resp = rng.dirichlet(np.ones(2), size=flow.shape[0])
    theta = update_affine_params(flow, D, resp)
    cov = update_motion_covariances(flow, D, resp, theta, reg=0.0)
    for k in range(2):
        e = flow - D @ theta[k]
        np.testing.assert_allclose(cov[k], np.cov(e.T, aweights=resp[:, k], bias=True), rtol=1e-9)
    assert np.allclose(update_motion_covariances(flow, D, resp, theta, reg=0.5) - cov, 0.5 * np.eye(2))


def test_e_step_is_the_posterior_of_the_layers(rng):
    from scipy.stats import multivariate_normal
    flow, D, labels = two_layer_flow(rng, noise=0.3)
    model = motion_m_step(flow, D, one_hot(labels, 2))
    resp, ll = motion_e_step(flow, D, model)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0)
    joint = np.column_stack([
        model.weights[k] * multivariate_normal(np.zeros(2), model.covariances[k]).pdf(flow - D @ model.params[k])
        for k in range(2)])
    np.testing.assert_allclose(resp, joint / joint.sum(axis=1, keepdims=True), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ll, np.log(joint.sum(axis=1)).sum(), rtol=1e-10)


def test_m_step_maximises_q_against_perturbed_motions(rng):
    flow, D, _ = two_layer_flow(rng, noise=0.3)
    resp = rng.dirichlet(np.ones(2), size=flow.shape[0])
    best = motion_m_step(flow, D, resp, reg=0.0)

    def q(model):
        from emlib.apps.motion import motion_weighted_logpdf
        return float(np.sum(resp * motion_weighted_logpdf(flow, D, model)))

    q_best = q(best)
    for _ in range(50):
        other = AffineMotionMixture(best.weights, best.params + rng.normal(scale=0.01, size=(2, 3, 2)),
                                    best.covariances)
        assert q(other) <= q_best + 1e-9


def test_em_motion_loglik_never_decreases_and_finds_the_layers(rng):
    flow, D, labels = two_layer_flow(rng, noise=0.2)
    start = rng.dirichlet(np.ones(2), size=flow.shape[0])        # a poor start: random responsibilities
    start[:, 0] = 0.6 * start[:, 0] + 0.4 * (labels == 0)
    start[:, 1] = 1 - start[:, 0]
    res = em_motion(flow, D, start, tol=1e-10, max_iter=200)
    assert np.all(np.diff(res.loglik) >= -1e-8)
    assert res.converged
    assert matched_accuracy(labels, res.labels) > 0.99
    k = int(np.argmax(res.responsibilities[labels == 1].mean(axis=0)))
    # compare the motions where the layer is (the intercept alone is an extrapolation to pixel (0, 0))
    on_layer = D[labels == 1]
    np.testing.assert_allclose(on_layer @ res.model.params[k], on_layer @ THETA[1], atol=0.06)   # noise 0.2 on 600 pixels


def test_em_motion_accepts_a_model_or_responsibilities(rng):
    flow, D, labels = two_layer_flow(rng, noise=0.2)
    model = motion_m_step(flow, D, one_hot(labels, 2))
    a = em_motion(flow, D, model, max_iter=3, tol=0)
    b = em_motion(flow, D, one_hot(labels, 2), max_iter=3, tol=0)
    assert a.n_iter == b.n_iter == 3
    np.testing.assert_allclose(a.loglik, b.loglik)
    assert em_motion(flow, D, model, max_iter=0).loglik.shape == (1,)


def test_bad_inputs_name_themselves(rng):
    flow, D, labels = two_layer_flow(rng)
    with pytest.raises(ValueError, match="flow must have shape \\(n, 2\\).*or \\(n, 1\\)"):
        em_motion(np.column_stack([flow, flow[:, :1]]), D, one_hot(labels, 2))
    with pytest.raises(ValueError, match="design must have shape"):
        em_motion(flow, D[:, :2], one_hot(labels, 2))
    with pytest.raises(ValueError, match="resp must have one row per sample"):
        em_motion(flow, D, one_hot(labels, 2)[:5])
    with pytest.raises(ValueError, match="collapsed"):
        update_affine_params(flow, D, np.column_stack([np.ones(len(flow)), np.zeros(len(flow))]))
    with pytest.raises(ValueError, match="positive definite"):
        AffineMotionMixture([1.0], np.zeros((1, 3, 2)), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="params must have shape"):
        AffineMotionMixture([1.0], np.zeros((1, 2, 2)), np.eye(2)[None])
    with pytest.raises(ValueError, match="covariances must have shape \\(m, q, q\\) = \\(1, 1, 1\\)"):
        AffineMotionMixture([1.0], np.zeros((1, 3, 1)), np.eye(2)[None])
    with pytest.raises(ValueError, match="model describes motions of 2 component"):
        em_motion(flow[:, 1:], D, motion_m_step(flow, D, one_hot(labels, 2)))


# --- one motion component: the disparity of a rectified stereo pair ----------------------------------
def test_one_component_motion_is_the_column_of_the_two_component_model(rng):
    """With q = 1 every formula is the q = 2 formula restricted to one column (the column flow alone)."""
    flow, D, labels = two_layer_flow(rng, noise=0.3)
    resp = rng.dirichlet(np.ones(2), size=flow.shape[0])
    both = motion_m_step(flow, D, resp, reg=0.0)
    one = motion_m_step(flow[:, 1:], D, resp, reg=0.0)
    assert one.n_motion_components == 1 and both.n_motion_components == 2
    np.testing.assert_allclose(one.params[..., 0], both.params[..., 1], rtol=1e-10)
    np.testing.assert_allclose(one.covariances[:, 0, 0], both.covariances[:, 1, 1], rtol=1e-10)
    from scipy.stats import norm
    resp1, ll = motion_e_step(flow[:, 1:], D, one)
    joint = np.column_stack([one.weights[k] * norm(D @ one.params[k, :, 0], np.sqrt(one.covariances[k, 0, 0]))
                             .pdf(flow[:, 1]) for k in range(2)])
    np.testing.assert_allclose(resp1, joint / joint.sum(axis=1, keepdims=True), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ll, np.log(joint.sum(axis=1)).sum(), rtol=1e-10)


def test_em_finds_two_planes_from_a_disparity_alone(rng):
    """Two planes d = theta_k^T (1, r, c) (a ramp and a tilted plane): EM on the 1-D disparity separates them."""
    P = pixel_positions((30, 40)).reshape(-1, 2)
    D = affine_design(P)
    labels = (P[:, 1] >= 20).astype(int)
    theta = np.array([[[2.0], [0.2], [0.0]], [[12.0], [0.0], [-0.1]]])   # 2..7.8 and 10..8.1: apart
    disparity = affine_flow(theta, D)[np.arange(len(P)), labels] + rng.normal(scale=0.1, size=(len(P), 1))
    start = 0.7 * one_hot(labels, 2) + 0.3 * rng.dirichlet(np.ones(2), size=len(P))
    res = em_motion(disparity, D, start, tol=1e-10, max_iter=200)
    assert np.all(np.diff(res.loglik) >= -1e-8)
    assert matched_accuracy(labels, res.labels) > 0.99
    k = int(np.argmax(res.responsibilities[labels == 1].mean(axis=0)))
    np.testing.assert_allclose(D[labels == 1] @ res.model.params[k], D[labels == 1] @ theta[1], atol=0.05)


# --- the synthetic two-frame sequence ---------------------------------------------------------------
def test_frames_without_motion_are_equal(rng):
    bg, fg = rng.uniform(size=(2, 16, 20))
    mask = np.zeros((16, 20), bool)
    mask[4:9, 5:12] = True
    f0, f1, flow, layers = two_layer_frames(bg, fg, mask, np.zeros((3, 2)), np.zeros((3, 2)))
    np.testing.assert_allclose(f1, f0, atol=1e-12)
    np.testing.assert_array_equal(f0[mask], fg[mask])
    np.testing.assert_array_equal(f0[~mask], bg[~mask])
    np.testing.assert_array_equal(flow, 0.0)
    np.testing.assert_array_equal(layers, mask.astype(int))


def test_integer_shifts_move_each_layer_and_the_true_flow_says_so(rng):
    bg, fg = rng.uniform(size=(2, 24, 24))
    mask = np.zeros((24, 24), bool)
    mask[8:14, 8:14] = True
    th_bg = np.array([[0.0, 2.0], [0, 0], [0, 0]])       # background: 2 columns to the right
    th_fg = np.array([[1.0, -1.0], [0, 0], [0, 0]])      # foreground: 1 row down, 1 column left
    f0, f1, flow, layers = two_layer_frames(bg, fg, mask, th_bg, th_fg)
    np.testing.assert_allclose(f1[9:15, 7:13], fg[8:14, 8:14], atol=1e-12)     # the square, moved
    np.testing.assert_allclose(f1[2:6, 4:20], bg[2:6, 2:18], atol=1e-12)      # background rows above it
    assert flow.shape == (2, 24, 24)
    np.testing.assert_array_equal(flow[:, 10, 10], [1.0, -1.0])
    np.testing.assert_array_equal(flow[:, 0, 0], [0.0, 2.0])


def test_frames_reject_inconsistent_inputs(rng):
    img = rng.uniform(size=(8, 8))
    with pytest.raises(TypeError, match="mask must be a boolean"):
        two_layer_frames(img, img, np.zeros((8, 8)), np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="same shape"):
        two_layer_frames(img, img[:4], np.zeros((8, 8), bool), np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="foreground_params must have shape \\(3, 2\\)"):
        two_layer_frames(img, img, np.zeros((8, 8), bool), np.zeros((3, 2)), np.zeros((2, 2)))


def test_layer_motion_is_each_pixels_own_layer_and_a_gaussian_mixture_is_its_translation_case(rng):
    flow, D, labels = two_layer_flow(rng, noise=0.0)
    np.testing.assert_allclose(layer_motion(THETA, D, labels), flow, atol=1e-12)
    means = np.array([[1.0, -2.0], [3.0, 0.5]])
    constant = np.concatenate([means[:, None, :], np.zeros((2, 2, 2))], axis=1)
    np.testing.assert_allclose(layer_motion(constant, D, labels), means[labels])
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        layer_motion(THETA, D, labels + 1)
    with pytest.raises(ValueError, match="labels must be integers of shape"):
        layer_motion(THETA, D, labels[:5])
