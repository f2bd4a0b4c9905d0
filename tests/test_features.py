import numpy as np
import pytest

from emlib.apps.features import (
    block_mean,
    blobworld_features,
    feature_matrix,
    flow_vectors,
    image_gradient,
    local_mean,
    local_variance,
    pixel_positions,
    rgb_to_lab,
    standardize,
    structure_eigenvalues,
    structure_tensor,
    texture_anisotropy,
    texture_contrast,
    texture_features,
    texture_mosaic,
)


# --- colour -------------------------------------------------------------------------------------
def test_lab_of_black_white_and_grey_has_no_colour():
    img = np.array([[[0, 0, 0], [255, 255, 255], [128, 128, 128]]], dtype=np.uint8)
    lab = rgb_to_lab(img)
    assert lab.shape == (1, 3, 3)
    np.testing.assert_allclose(lab[0, 0], [0, 0, 0], atol=1e-9)
    # D65 white: L* = 100, a* = b* = 0 (up to the 6-digit rounding of the sRGB matrix)
    np.testing.assert_allclose(lab[0, 1], [100, 0, 0], atol=1e-2)
    np.testing.assert_allclose(lab[0, 2, 1:], [0, 0], atol=1e-2)
    assert 50 < lab[0, 2, 0] < 56                                      # sRGB 128 is L* ~ 53.6


def test_lab_signs_follow_the_opponent_axes():
    img = np.array([[[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0]]])
    lab = rgb_to_lab(img)[0]
    assert lab[0, 1] > 50          # red: a* strongly positive
    assert lab[1, 1] < -50         # green: a* strongly negative
    assert lab[2, 2] < -50         # blue: b* strongly negative
    assert lab[3, 2] > 50          # yellow: b* strongly positive


def test_lab_matches_scikit_image(rng):
    rgb2lab = pytest.importorskip("skimage.color").rgb2lab
    # scikit-image rounds the CIE constants (0.008856 and 7.787 for (6/29)^3 and 1/(3 (6/29)^2)),
    # hence differences of order 1e-4 near dark colours.
    img = rng.integers(0, 256, size=(7, 5, 3)).astype(np.uint8)
    np.testing.assert_allclose(rgb_to_lab(img), rgb2lab(img), atol=1e-3)
    flt = rng.uniform(size=(4, 6, 3))
    np.testing.assert_allclose(rgb_to_lab(flt), rgb2lab(flt), atol=1e-3)


@pytest.mark.parametrize("bad, exc, match", [
    (np.zeros((4, 4)), ValueError, "shape \\(h, w, 3\\)"),
    (np.zeros((4, 4, 4)), ValueError, "shape \\(h, w, 3\\)"),
    (np.full((2, 2, 3), 200.0), ValueError, "divide 0..255 floats by 255"),
    (np.full((2, 2, 3), np.nan), ValueError, "NaN"),
])
def test_lab_rejects_what_is_not_an_rgb_image(bad, exc, match):
    with pytest.raises(exc, match=match):
        rgb_to_lab(bad)


# --- position -----------------------------------------------------------------------------------
def test_pixel_positions_hold_row_and_column():
    P = pixel_positions((3, 4, 3))
    assert P.shape == (3, 4, 2)
    assert tuple(P[2, 1]) == (2.0, 1.0)
    assert tuple(P[0, 3]) == (0.0, 3.0)


def test_pixel_positions_reject_a_bad_shape():
    with pytest.raises(ValueError, match="shape must be"):
        pixel_positions((0, 4))
    with pytest.raises(TypeError, match="shape must be a tuple"):
        pixel_positions(5)


# --- local mean and variance --------------------------------------------------------------------
def test_local_statistics_of_a_constant_image():
    img = np.full((9, 11), 0.3)
    np.testing.assert_allclose(local_mean(img, 2.0), 0.3)
    np.testing.assert_allclose(local_variance(img, 2.0), 0.0, atol=1e-15)


def test_local_variance_of_a_checkerboard_is_one():
    r, c = np.mgrid[0:40, 0:40]
    img = np.where((r + c) % 2 == 0, 1.0, -1.0)          # mean 0, every value squared is 1
    var = local_variance(img, 4.0)
    np.testing.assert_allclose(var[10:30, 10:30], 1.0, atol=1e-3)
    assert np.all(var >= 0)


def test_sigma_must_be_positive():
    with pytest.raises(ValueError, match="sigma must be > 0"):
        local_variance(np.zeros((4, 4)), 0.0)
    with pytest.raises(ValueError, match="image must be 2-dimensional"):
        local_mean(np.zeros((4, 4, 3)), 1.0)


# --- gradient and structure tensor --------------------------------------------------------------
def test_gradient_of_a_ramp_is_its_slope():
    r, c = np.mgrid[0:30, 0:40].astype(float)
    d_row, d_col = image_gradient(0.5 * c + 0.25 * r, sigma=1.0)
    # rtol: the derivative-of-Gaussian kernel is truncated at 4 sigma
    np.testing.assert_allclose(d_col[5:-5, 5:-5], 0.5, rtol=1e-3)
    np.testing.assert_allclose(d_row[5:-5, 5:-5], 0.25, rtol=1e-3)


def test_structure_tensor_of_a_ramp():
    """I = alpha c: gradient (0, alpha) everywhere, so M = [[0, 0], [0, alpha^2]], lambda = (alpha^2, 0)."""
    alpha = 0.7
    _, c = np.mgrid[0:40, 0:40].astype(float)
    M = structure_tensor(alpha * c, sigma=2.0)
    assert M.shape == (40, 40, 2, 2)
    inner = M[12:-12, 12:-12]
    np.testing.assert_allclose(inner[..., 1, 1], alpha ** 2, rtol=1e-3)   # truncated kernels
    np.testing.assert_allclose(inner[..., 0, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(inner[..., 0, 1], inner[..., 1, 0])
    l1, l2 = structure_eigenvalues(inner)
    np.testing.assert_allclose(l1, alpha ** 2, rtol=1e-3)
    np.testing.assert_allclose(l2, 0.0, atol=1e-12)
    np.testing.assert_allclose(texture_contrast(l1, l2), 2 * alpha, rtol=1e-3)
    np.testing.assert_allclose(texture_anisotropy(l1, l2), 1.0, atol=1e-9)


def test_structure_eigenvalues_match_numpy(rng):
    A = rng.normal(size=(50, 2, 2))
    S = A @ np.swapaxes(A, 1, 2)
    l1, l2 = structure_eigenvalues(S)
    ref = np.linalg.eigvalsh(S)
    np.testing.assert_allclose(l1, ref[:, 1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(l2, ref[:, 0], rtol=1e-8, atol=1e-10)
    assert np.all(l1 >= l2)


def test_stripes_are_anisotropic_and_noise_is_not(rng):
    _, c = np.mgrid[0:64, 0:64].astype(float)
    stripes = np.sin(2 * np.pi * c / 8)
    noise = rng.normal(size=(64, 64))
    a_stripes = texture_anisotropy(*structure_eigenvalues(structure_tensor(stripes, 4.0)))
    a_noise = texture_anisotropy(*structure_eigenvalues(structure_tensor(noise, 4.0)))
    assert a_stripes[16:-16, 16:-16].min() > 0.99
    assert np.median(a_noise) < 0.4


def test_texture_measures_do_not_depend_on_a_quarter_turn(rng):
    img = rng.normal(size=(32, 32))
    l1, l2 = structure_eigenvalues(structure_tensor(img, 3.0))
    t1, t2 = structure_eigenvalues(structure_tensor(img.T, 3.0))
    np.testing.assert_allclose(texture_contrast(l1, l2), texture_contrast(t1, t2).T, rtol=1e-9)
    np.testing.assert_allclose(texture_anisotropy(l1, l2), texture_anisotropy(t1, t2).T, atol=1e-9)


def test_a_flat_patch_has_no_contrast_and_no_anisotropy():
    M = structure_tensor(np.full((12, 12), 0.5), 2.0)
    l1, l2 = structure_eigenvalues(M)
    np.testing.assert_allclose(texture_contrast(l1, l2), 0.0)
    np.testing.assert_allclose(texture_anisotropy(l1, l2), 0.0)


def test_texture_measures_reject_mismatched_eigenvalues():
    with pytest.raises(ValueError, match="same shape"):
        texture_contrast(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="tensor must have shape"):
        structure_eigenvalues(np.ones((4, 3, 3)))


# --- feature sets -------------------------------------------------------------------------------
def test_texture_features_stack_mean_spread_and_two_numbers_per_scale(rng):
    img = rng.uniform(size=(20, 24))
    F = texture_features(img, 3.0, derivative_sigmas=(1.0, 2.0, 3.0))
    assert F.shape == (20, 24, 8)
    np.testing.assert_allclose(F[..., 0], local_mean(img, 3.0))
    np.testing.assert_allclose(F[..., 1], np.log(np.sqrt(local_variance(img, 3.0)) + 1e-3))
    assert np.all((F[..., 3::2] >= 0) & (F[..., 3::2] <= 1))        # anisotropies
    assert np.all(np.isfinite(texture_features(np.zeros((8, 8)), 2.0)))


def test_blobworld_features_of_a_flat_colour_image():
    img = np.zeros((6, 9, 3))
    img[..., 0] = 1.0                                   # pure red everywhere
    F = blobworld_features(img)
    assert F.shape == (6, 9, 7)
    np.testing.assert_allclose(F[..., :3], rgb_to_lab(img), atol=1e-9)   # smoothing a constant changes nothing
    np.testing.assert_allclose(F[..., 3:5], 0.0, atol=1e-12)              # no texture
    np.testing.assert_allclose(F[..., 5:], pixel_positions((6, 9)))


# --- data matrix --------------------------------------------------------------------------------
def test_feature_matrix_puts_pixel_r_c_in_row_r_w_plus_c():
    h, w = 3, 5
    a = np.arange(h * w, dtype=float).reshape(h, w)
    b = np.stack([a, -a], axis=-1)
    X = feature_matrix(a, b)
    assert X.shape == (h * w, 3)
    r, c = 2, 3
    np.testing.assert_array_equal(X[r * w + c], [a[r, c], a[r, c], -a[r, c]])
    np.testing.assert_array_equal(X[:, 0].reshape(h, w), a)


def test_feature_matrix_refuses_maps_of_different_sizes():
    with pytest.raises(ValueError, match="maps\\[1\\] has shape"):
        feature_matrix(np.zeros((3, 4)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="at least one map"):
        feature_matrix()


def test_flow_vectors_read_skimage_layout():
    flow = np.zeros((2, 2, 3))
    flow[0] = [[1, 2, 3], [4, 5, 6]]       # row displacement
    flow[1] = -flow[0]                     # column displacement
    V = flow_vectors(flow)
    assert V.shape == (6, 2)
    np.testing.assert_array_equal(V[4], [5, -5])
    with pytest.raises(ValueError, match="flow must have shape \\(2, h, w\\)"):
        flow_vectors(np.zeros((3, 2, 2)))


def test_standardize_gives_zero_mean_unit_spread_and_keeps_constants_finite(rng):
    X = np.column_stack([rng.normal(5, 3, size=100), np.full(100, 7.0)])
    Z = standardize(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[:, 0].std(), 1.0)
    np.testing.assert_allclose(Z[:, 1], 0.0)


# --- images with known regions ------------------------------------------------------------------
def test_block_mean_averages_blocks_and_drops_the_rest():
    img = np.arange(30, dtype=float).reshape(5, 6)
    out = block_mean(img, 2)
    assert out.shape == (2, 3)
    assert out[0, 0] == np.mean([0, 1, 6, 7])
    rgb = np.stack([img, 2 * img, 3 * img], axis=-1)
    np.testing.assert_allclose(block_mean(rgb, 2)[..., 2], 3 * out)
    with pytest.raises(ValueError, match="factor=9 is larger"):
        block_mean(img, 9)


def test_texture_mosaic_shows_texture_k_in_region_k():
    regions = np.array([[0, 1], [2, 1]])
    textures = [np.full((3, 3), 10.0), np.full((2, 2), 20.0), np.full((4, 4), 30.0)]
    np.testing.assert_array_equal(texture_mosaic(textures, regions), [[10, 20], [30, 20]])
    with pytest.raises(ValueError, match="only 2 textures"):
        texture_mosaic(textures[:2], regions)
    with pytest.raises(ValueError, match="smaller than regions"):
        texture_mosaic([np.zeros((1, 1))] * 3, regions)
