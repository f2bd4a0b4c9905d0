
import numpy as np
import pytest

from emlib import Mixture, e_step, em
from emlib.scoring import overlap_counts
from emlib.apps.segmentation import (
    dice,
    histogram_em,
    mean_field_e_step,
    mrf_em,
    neighbour_sum,
    sort_by_mean,
    to_grid,
    value_counts,
)

MIX3 = Mixture.univariate([0.2, 0.5, 0.3], [0.2, 0.5, 0.8], [0.01, 0.006, 0.004])


def quantised_sample(n, rng, mixture=MIX3, levels=255):
    """n draws from a 1-D mixture, rounded to k / levels (like an 8-bit image) and clipped to [0, 1]."""
    x, z = mixture.sample(n, rng)
    return np.clip(np.round(x[:, 0] * levels) / levels, 0, 1), z


# --- Dice and overlaps -----------------------------------------------------------------------------
def test_dice_is_one_for_identical_labels_and_zero_for_disjoint_ones():
    truth = np.array([0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(dice(truth, truth), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(dice((truth + 1) % 3, truth), [0.0, 0.0, 0.0])


def test_dice_counts_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 1])
    truth = np.array([0, 0, 1, 1, 1, 1])
    # class 0: |A| = 3, |B| = 2, overlap 2 -> 4/5;  class 1: |A| = 3, |B| = 4, overlap 3 -> 6/7
    np.testing.assert_allclose(dice(labels, truth), [4 / 5, 6 / 7])


def test_dice_is_symmetric_and_works_on_volumes():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, size=(4, 5, 6))
    b = rng.integers(0, 3, size=(4, 5, 6))
    np.testing.assert_allclose(dice(a, b), dice(b, a))
    np.testing.assert_allclose(dice(a, b), dice(a.ravel(), b.ravel()))


def test_dice_is_nan_for_a_class_absent_from_both():
    out = dice([0, 2], [0, 2], n_classes=4)
    assert out.shape == (4,)
    assert np.isnan(out[1]) and np.isnan(out[3]) and out[0] == out[2] == 1.0


def test_dice_refuses_mismatched_shapes_negative_and_float_labels():
    with pytest.raises(ValueError, match="same shape"):
        dice([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        dice([-1, 1], [0, 1])
    with pytest.raises(TypeError, match="integer labels"):
        dice([0.0, 1.0], [0, 1])
    with pytest.raises(ValueError, match="n_classes"):
        dice([0, 3], [0, 1], n_classes=2)


def test_sort_by_mean_orders_components_and_keeps_the_mixture():
    mix = Mixture.univariate([0.3, 0.5, 0.2], [0.9, 0.1, 0.5], [0.01, 0.02, 0.03])
    s = sort_by_mean(mix)
    np.testing.assert_array_equal(s.means[:, 0], [0.1, 0.5, 0.9])
    np.testing.assert_array_equal(s.weights, [0.5, 0.2, 0.3])
    x = np.linspace(0, 1, 11)[:, None]
    np.testing.assert_allclose(s.pdf(x), mix.pdf(x))
    with pytest.raises(TypeError, match="Mixture"):
        sort_by_mean(np.zeros(3))


# --- histograms -----------------------------------------------------------------------------------
def test_value_counts_reproduces_the_data_exactly():
    rng = np.random.default_rng(3)
    x, _ = quantised_sample(5000, rng)
    values, counts, index = value_counts(x)
    assert values.shape == (np.unique(x).size, 1)
    assert counts.sum() == x.size
    np.testing.assert_array_equal(values[index, 0], x)
    assert np.all(np.diff(values[:, 0]) > 0)


def test_value_counts_with_bins_moves_each_sample_by_at_most_half_a_bin():
    rng = np.random.default_rng(4)
    x = rng.normal(size=3000)
    values, counts, index = value_counts(x, bins=50)
    assert values.shape[0] <= 50 and counts.sum() == 3000
    width = (x.max() - x.min()) / 50
    assert np.max(np.abs(values[index, 0] - x)) <= width / 2 + 1e-12


def test_value_counts_finds_distinct_rows_of_two_dimensional_data():
    X = np.array([[1, 2], [0, 5], [1, 2], [1, 2], [0, 5], [3, 3]])
    values, counts, index = value_counts(X)
    np.testing.assert_array_equal(values, [[0, 5], [1, 2], [3, 3]])
    np.testing.assert_array_equal(counts, [2, 3, 1])
    np.testing.assert_array_equal(values[index], X)


@pytest.mark.parametrize("covariance", ["full", "tied", "spherical"])
def test_histogram_em_follows_the_same_path_as_em_on_every_sample(covariance):
    rng = np.random.default_rng(5)
    x, _ = quantised_sample(20000, rng)
    init = Mixture.univariate([1 / 3] * 3, [0.3, 0.45, 0.7], [0.02] * 3)
    hist, index = histogram_em(x, init, covariance=covariance, tol=0, max_iter=15)
    full = em(x, init, covariance=covariance, tol=0, max_iter=15)
    assert hist.X.shape[0] < x.size / 50                # ~200 distinct values instead of 20000 samples
    for a, b in zip(hist.history, full.history):
        np.testing.assert_allclose(a.weights, b.weights, rtol=1e-10)
        np.testing.assert_allclose(a.means, b.means, rtol=1e-10)
        np.testing.assert_allclose(a.covariances, b.covariances, rtol=1e-9)
    np.testing.assert_allclose(hist.loglik, full.loglik, rtol=1e-11)
    np.testing.assert_array_equal(hist.mixture.classify(hist.X)[index], full.mixture.classify(x))


def test_histogram_em_sets_the_weights_itself():
    with pytest.raises(TypeError, match="sample_weight"):
        histogram_em(np.arange(10.0), MIX3, sample_weight=np.ones(10))


# --- grids ----------------------------------------------------------------------------------------
def test_to_grid_puts_values_back_where_the_mask_is_true():
    rng = np.random.default_rng(6)
    mask = rng.random((4, 5, 3)) < 0.5
    vol = rng.random((4, 5, 3))
    out = to_grid(vol[mask], mask, fill=np.nan)
    np.testing.assert_array_equal(out[mask], vol[mask])
    assert np.all(np.isnan(out[~mask]))
    labels = to_grid(np.arange(mask.sum()), mask, fill=-1)
    assert labels.dtype.kind == "i" and np.all(labels[~mask] == -1)
    with pytest.raises(ValueError, match="one row per True entry"):
        to_grid(np.zeros(3), mask)
    with pytest.raises(TypeError, match="boolean"):
        to_grid(np.zeros(3), np.ones(3, dtype=int))


def brute_neighbour_sum(resp, mask):
    coords = np.argwhere(mask)
    where = {tuple(c): i for i, c in enumerate(coords)}
    out = np.zeros_like(resp)
    for i, c in enumerate(coords):
        for axis in range(mask.ndim):
            for step in (-1, 1):
                nb = list(c)
                nb[axis] += step
                j = where.get(tuple(nb))
                if j is not None:
                    out[i] += resp[j]
    return out


@pytest.mark.parametrize("shape", [(7, 9), (5, 6, 4), (1, 8)])
def test_neighbour_sum_adds_the_face_neighbours_inside_the_mask(shape):
    rng = np.random.default_rng(7)
    mask = rng.random(shape) < 0.6
    resp = rng.random((mask.sum(), 3))
    np.testing.assert_allclose(neighbour_sum(resp, mask), brute_neighbour_sum(resp, mask), rtol=1e-12)


def test_neighbour_sum_of_a_full_grid_counts_the_neighbours():
    ones = np.ones((4 * 5 * 6, 1))
    counts = neighbour_sum(ones, np.ones((4, 5, 6), dtype=bool)).reshape(4, 5, 6)
    assert counts[1:-1, 1:-1, 1:-1].min() == 6 and counts[0, 0, 0] == 3


def test_mean_field_e_step_with_beta_zero_is_the_e_step():
    rng = np.random.default_rng(8)
    mask = rng.random((6, 7)) < 0.7
    x, _ = MIX3.sample(mask.sum(), rng)
    resp0 = rng.dirichlet(np.ones(3), size=mask.sum())
    got = mean_field_e_step(MIX3.weighted_logpdf(x), resp0, mask, beta=0.0)
    np.testing.assert_allclose(got, e_step(x, MIX3)[0], rtol=1e-12)


def test_mean_field_e_step_lets_neighbours_decide_an_ambiguous_voxel():
    mix = Mixture.univariate([0.5, 0.5], [0.0, 1.0], [0.1, 0.1])
    mask = np.ones((3, 3), dtype=bool)
    x = np.full(9, 0.0)
    x[4] = 0.5                                        # the centre is halfway between the means
    resp = np.tile([1.0, 0.0], (9, 1))                # and every neighbour is in class 0
    out = mean_field_e_step(mix.weighted_logpdf(x), resp, mask, beta=1.0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert out[4, 0] > 0.95
    np.testing.assert_allclose(mean_field_e_step(mix.weighted_logpdf(x), resp, mask, beta=0.0)[4], [0.5, 0.5])


@pytest.mark.parametrize("covariance", ["full", "tied", "diag"])
def test_mrf_em_with_beta_zero_is_em(covariance):
    rng = np.random.default_rng(9)
    mask = rng.random((20, 30)) < 0.8
    x, _ = quantised_sample(mask.sum(), rng)
    init = Mixture.univariate([1 / 3] * 3, [0.3, 0.45, 0.7], [0.02] * 3)
    plain = em(x, init, covariance=covariance, tol=0, max_iter=8)
    mrf = mrf_em(x, mask, init, beta=0.0, covariance=covariance, tol=0, max_iter=8)
    assert mrf.n_iter == 8 and len(mrf.history) == 9
    for a, b in zip(mrf.history, plain.history):
        np.testing.assert_allclose(a.means, b.means, rtol=1e-10)
        np.testing.assert_allclose(a.covariances, b.covariances, rtol=1e-9)
        np.testing.assert_allclose(a.weights, b.weights, rtol=1e-10)


def test_mrf_em_on_distinct_values_equals_mrf_em_on_every_sample():
    rng = np.random.default_rng(10)
    mask = rng.random((15, 12, 6)) < 0.8
    x, _ = quantised_sample(mask.sum(), rng)
    values, counts, index = value_counts(x)
    init = Mixture.univariate([1 / 3] * 3, [0.3, 0.45, 0.7], [0.02] * 3)
    a = mrf_em(x, mask, init, beta=0.7, tol=0, max_iter=6)
    b = mrf_em(values, mask, init, beta=0.7, index=index, tol=0, max_iter=6)
    np.testing.assert_allclose(a.responsibilities, b.responsibilities, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.mixture.means, b.mixture.means, rtol=1e-10)
    np.testing.assert_allclose(a.mixture.covariances, b.mixture.covariances, rtol=1e-9)
    np.testing.assert_allclose(a.changes, b.changes, rtol=1e-8)


def noisy_two_region_image(rng, noise=0.55):
    truth = np.zeros((40, 40), dtype=int)
    truth[:, 20:] = 1
    truth[10:25, 5:15] = 1
    image = truth + rng.normal(scale=noise, size=truth.shape)
    return image, truth


def test_spatial_prior_cleans_up_a_noisy_image():
    rng = np.random.default_rng(11)
    image, truth = noisy_two_region_image(rng)
    mask = np.ones(image.shape, dtype=bool)
    init = Mixture.univariate([0.5, 0.5], [-0.5, 1.5], [1.0, 1.0])
    plain = em(image[mask], init, covariance="tied", tol=1e-8, max_iter=500).mixture.classify(image[mask])
    mrf = mrf_em(image[mask], mask, init, beta=1.0, covariance="tied", max_iter=50, tol=1e-5)
    acc_plain = np.mean(plain == truth[mask])
    acc_mrf = np.mean(mrf.labels == truth[mask])
    assert acc_plain < 0.85 and acc_mrf > 0.95
    assert mrf.converged and mrf.changes[-1] < 1e-5


def test_mrf_em_calls_back_and_can_skip_history():
    rng = np.random.default_rng(12)
    image, _ = noisy_two_region_image(rng)
    mask = np.ones(image.shape, dtype=bool)
    init = Mixture.univariate([0.5, 0.5], [-0.5, 1.5], [1.0, 1.0])
    seen = []
    result = mrf_em(image[mask], mask, init, max_iter=3, tol=0, keep_history=False,
                    callback=lambda t, mix, resp: seen.append((t, resp.shape)))
    assert seen == [(0, (1600, 2)), (1, (1600, 2)), (2, (1600, 2)), (3, (1600, 2))]   # t = 0 too, as in em
    assert result.history == () and result.changes.shape == (4,)      # one change per E-step, t = 0..3


def test_mrf_em_refuses_bad_input_with_a_named_argument():
    mask = np.ones((4, 4), dtype=bool)
    x = np.linspace(0, 1, 16)
    init = Mixture.univariate([0.5, 0.5], [0.2, 0.8], [0.05, 0.05])
    with pytest.raises(ValueError, match="one row per True entry"):
        mrf_em(x[:10], mask, init)
    with pytest.raises(TypeError, match="boolean"):
        mrf_em(x, mask.astype(int), init)
    with pytest.raises(ValueError, match="beta"):
        mrf_em(x, mask, init, beta=-1.0)
    with pytest.raises(ValueError, match="index"):
        mrf_em(x[:4], mask, init, index=np.full(16, 7))
    with pytest.raises(TypeError, match="init"):
        mrf_em(x, mask, "two components")
    with pytest.raises(ValueError, match="covariance"):
        mrf_em(x, mask, init, covariance="round")


def test_weighted_dice_of_a_histogram_equals_dice_of_the_samples():
    rng = np.random.default_rng(13)
    x, z = quantised_sample(3000, rng)
    values, counts, index = value_counts(x)
    table = overlap_counts(index, z)                  # table[v, k]: samples of value v in class k
    assert table.shape == (values.shape[0], 3)
    v, k = np.nonzero(table)
    labels_of_values = sort_by_mean(MIX3).classify(values)
    got = dice(labels_of_values[v], k, 3, sample_weight=table[v, k])
    np.testing.assert_allclose(got, dice(labels_of_values[index], z, 3), rtol=1e-12)
    with pytest.raises(ValueError, match="sample_weight"):
        dice([0, 1], [0, 1], sample_weight=[1.0, -1.0])


def test_mean_field_e_step_is_rho_times_gaussian_times_the_potts_factor():
    # notebook 13b's formula, exactly: E[z_i^(k)] proportional to rho_k N(x_i | mu_k, s_k^2) exp(beta sum_j E[z_j^(k)])
    mask = np.ones((1, 3), dtype=bool)
    mix = Mixture.univariate([0.2, 0.8], [0.0, 1.0], [0.5, 0.5])
    x = np.array([0.1, 0.5, 0.9])
    resp = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    beta = 0.7
    neighbour_sums = np.array([resp[1], resp[0] + resp[2], resp[1]])
    score = np.log(mix.weights) + np.column_stack([
        -0.5 * (x - mu) ** 2 / var - 0.5 * np.log(2 * np.pi * var)
        for mu, var in zip(mix.means[:, 0], mix.covariances[:, 0, 0])]) + beta * neighbour_sums
    expected = np.exp(score - score.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    got = mean_field_e_step(mix.weighted_logpdf(x), resp, mask, beta=beta)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_histogram_dice_equals_dice_on_every_sample():
    from emlib.apps.segmentation import histogram_dice

    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 600)
    x = np.round(MIX3.means[truth, 0] + 0.1 * rng.standard_normal(600), 2)   # few distinct values, as in 8-bit MRI
    values, _, index = value_counts(x)
    table = overlap_counts(index, truth, values.shape[0], 3)
    expected = dice(sort_by_mean(MIX3).classify(x[:, None]), truth, 3)
    np.testing.assert_allclose(histogram_dice(MIX3, values, table), expected)
    assert 0.5 < expected.mean() < 1.0                                       # a test with something to get wrong
    with pytest.raises(ValueError, match=r"table must have shape \(u, K\)"):
        histogram_dice(MIX3, values, table[:, :2])
