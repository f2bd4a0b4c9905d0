"""Block matching along rows (emlib.apps.stereo): census bits, costs, disparities, and their scores."""

import numpy as np
import pytest

from emlib.apps.stereo import (
    block_matching_disparity,
    census_transform,
    disparity_errors,
    downscale_disparity,
    matching_costs,
    occlusions,
)


def shifted_pair(rng, disparity, shape=(40, 60)):
    """A random texture as the right image, and the left image that sees it `disparity` columns further right.

    left[r, c] = right[r, c - d] (the convention of emlib.apps.stereo); the first d columns of the
    left image show texture the right camera does not see.
    """
    right = rng.uniform(size=(shape[0], shape[1] + disparity))
    left = right[:, :shape[1]]
    return left, right[:, disparity:disparity + shape[1]]


def test_census_bits_say_which_neighbours_are_darker():
    img = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    bits = census_transform(img, radius=1)
    assert bits.shape == (3, 3, 8) and bits.dtype == bool
    # the centre (4) is brighter than the four neighbours before it in row-major order, darker than the four after
    np.testing.assert_array_equal(bits[1, 1], [True] * 4 + [False] * 4)
    assert not census_transform(np.ones((4, 5)), radius=2).any()


def test_census_does_not_see_a_change_of_brightness_or_contrast(rng):
    img = rng.uniform(size=(20, 30))
    np.testing.assert_array_equal(census_transform(img), census_transform(3.0 * img ** 0.5 + 7.0))


def test_cost_is_zero_at_the_true_shift_and_infinite_off_the_right_image(rng):
    left, right = shifted_pair(rng, 5)
    cost = matching_costs(left, right, 8, radius=2, census_radius=2)
    assert cost.shape == (9, 40, 60)
    inner = (slice(4, -4), slice(15, -4))            # away from the borders, where padding breaks the shift
    np.testing.assert_allclose(cost[5][inner], 0.0, atol=1e-12)
    assert np.all(np.delete(cost, 5, axis=0)[(slice(None),) + inner] > 0.1)
    assert np.all(np.isinf(cost[8][:, :8])) and np.all(np.isfinite(cost[8][:, 8:]))


def test_block_matching_finds_an_integer_shift(rng):
    left, right = shifted_pair(rng, 6)
    d = block_matching_disparity(left, right, 10, radius=3)
    inner = d[5:-5, 16:-5]
    # the winner is 6 everywhere; the parabola through an uneven V of costs moves it by a few hundredths
    np.testing.assert_array_equal(np.round(inner), 6.0)
    np.testing.assert_allclose(inner, 6.0, atol=0.05)


def test_block_matching_finds_a_shift_between_pixels(rng):
    """A smooth texture moved by 4.4 columns (linear interpolation): the parabola lands within 0.25 px."""
    from scipy import ndimage
    base = ndimage.gaussian_filter(rng.uniform(size=(40, 90)), 1.5)
    rows, cols = np.mgrid[0:40, 0:80].astype(float)
    left = ndimage.map_coordinates(base, [rows, cols + 10.0 - 4.4], order=1)
    right = ndimage.map_coordinates(base, [rows, cols + 10.0], order=1)
    d = block_matching_disparity(left, right, 8, radius=4)[6:-6, 14:-6]
    assert abs(np.median(d) - 4.4) < 0.25
    assert np.all(d >= 0) and np.all(d <= 8)


def test_downscaled_truth_is_the_block_mean_over_the_factor_and_unknown_if_any_pixel_is():
    disp = np.array([[4.0, 8.0, 2.0, 2.0], [4.0, 8.0, np.inf, 2.0]])
    np.testing.assert_array_equal(downscale_disparity(disp, 2), [[3.0, np.nan]])
    np.testing.assert_array_equal(downscale_disparity(disp, 1), np.where(np.isinf(disp), np.nan, disp))


def test_disparity_errors_count_only_the_known_pixels():
    truth = np.array([[1.0, 2.0, np.nan], [4.0, np.inf, 6.0]])
    est = np.array([[1.5, 4.5, np.nan], [4.0, 0.0, 3.0]])         # errors 0.5, 2.5, 0, 3 on the known pixels
    s = disparity_errors(est, truth)
    assert s.n_known == 4
    assert s.mean_abs == pytest.approx(1.5) and s.median_abs == pytest.approx(1.5)
    assert s.within_1 == 0.5 and s.within_2 == 0.5 and s.bad_2 == 0.5


def test_bad_inputs_name_themselves(rng):
    left, right = shifted_pair(rng, 2)
    with pytest.raises(ValueError, match="left and right must have the same shape"):
        block_matching_disparity(left, right[:, 1:], 4)
    with pytest.raises(ValueError, match="max_disparity must be <= 59"):
        matching_costs(left, right, 60)
    with pytest.raises(ValueError, match="max_disparity must be >= 1"):
        matching_costs(left, right, 0)
    with pytest.raises(TypeError, match="radius must be an integer"):
        matching_costs(left, right, 4, radius=2.5)
    with pytest.raises(ValueError, match="radius must be >= 1"):
        census_transform(left, radius=0)
    holed = right.copy()
    holed[3, 4] = np.nan
    with pytest.raises(ValueError, match="right contains 1 NaN"):
        block_matching_disparity(left, holed, 4)
    with pytest.raises(ValueError, match="estimate and truth must have the same shape"):
        disparity_errors(left, right[:, 1:])
    with pytest.raises(ValueError, match="truth has no finite pixel"):
        disparity_errors(left, np.full_like(left, np.nan))
    with pytest.raises(ValueError, match="estimate contains 1 NaN"):
        disparity_errors(np.where((np.arange(40) == 3)[:, None] & (np.arange(60) == 7), np.nan, left), right)


def test_occlusions_of_a_near_block_before_a_far_wall():
    """A wall at d = 2 and a block at d = 6 over columns 10..14: the right camera sees the block 6 columns to
    the left, over the wall's pixels that land on columns 4..8, i.e. left pixels 6..10; pixel 10 is the block."""
    disp = np.full((3, 20), 2.0)
    disp[:, 10:15] = 6.0
    occ = occlusions(disp)
    np.testing.assert_array_equal(np.flatnonzero(occ.outside[1]), [0, 1])
    np.testing.assert_array_equal(np.flatnonzero(occ.hidden[1]), [6, 7, 8, 9])
    assert not (occ.outside & occ.hidden).any()


def test_a_thin_near_object_hides_only_what_lands_under_it():
    """One column at d = 8 lands on right column 2; it hides the wall pixel that lands there too (c = 4), nothing else."""
    disp = np.full((1, 20), 2.0)
    disp[0, 10] = 8.0
    np.testing.assert_array_equal(np.flatnonzero(occlusions(disp).hidden[0]), [4])


def test_unknown_pixels_hide_nothing_and_are_never_marked():
    disp = np.full((1, 20), 2.0)
    disp[0, 10:15] = np.nan
    occ = occlusions(disp)
    assert not occ.hidden.any() and not occ.outside[0, 10:15].any()
    with pytest.raises(ValueError, match="tol must be >= 0"):
        occlusions(disp, tol=-1.0)
