import numpy as np
import pytest

import emlib
from emlib import init_from_data, init_from_labels, init_kmeans_pp, kmeans_pp_indices
from emlib.datasets import three_gaussians


def test_init_from_data_puts_means_on_distinct_samples_with_broad_covariances(rng):
    X, _ = three_gaussians(300, rng)
    mix = init_from_data(X, 5, rng, variance_scale=2.0)
    rows = {tuple(r) for r in X}
    assert all(tuple(mu) in rows for mu in mix.means)
    assert len({tuple(mu) for mu in mix.means}) == 5
    np.testing.assert_allclose(mix.weights, 0.2)
    np.testing.assert_allclose(mix.covariances[0], np.diag(2.0 * X.var(axis=0)))


def test_init_from_labels_is_the_supervised_ml_estimate(rng):
    X, z = three_gaussians(300, rng)
    mix = init_from_labels(X, z, reg=0.0)
    for k in range(3):
        np.testing.assert_allclose(mix.means[k], X[z == k].mean(axis=0))
        np.testing.assert_allclose(mix.covariances[k], np.cov(X[z == k].T, bias=True), atol=1e-12)
        np.testing.assert_allclose(mix.weights[k], np.mean(z == k))


def test_kmeans_pp_spreads_seeds(rng):
    X = np.r_[np.zeros((50, 2)), np.full((50, 2), 100.0)]
    X += rng.normal(scale=0.01, size=X.shape)
    idx = kmeans_pp_indices(X, 2, rng)
    assert (idx[0] < 50) != (idx[1] < 50)


def test_init_kmeans_pp_is_reproducible_and_of_the_requested_kind(rng):
    X, _ = three_gaussians(200, rng)
    a = init_kmeans_pp(X, 3, 42, covariance="diag")
    b = init_kmeans_pp(X, 3, np.random.default_rng(42), covariance="diag")
    np.testing.assert_array_equal(a.means, b.means)
    assert np.all(a.covariances[:, 0, 1] == 0)


def test_init_kmeans_pp_on_duplicated_points():
    X = np.zeros((5, 2))
    with pytest.raises(ValueError):
        init_kmeans_pp(X, 2, 0, reg=0.0)           # a zero covariance: refused, with a message
    mix = init_kmeans_pp(X, 2, 0)                  # reg > 0 keeps it a proper Gaussian
    assert mix.n_components == 2


@pytest.mark.parametrize("fn", [init_from_data, init_kmeans_pp])
def test_m_out_of_range_is_refused(fn, rng):
    X, _ = three_gaussians(10, rng)
    with pytest.raises(ValueError, match="m must be >= 1"):
        fn(X, 0, rng)
    with pytest.raises(ValueError, match="must be <= the number of samples"):
        fn(X, 11, rng)
    with pytest.raises(TypeError, match="m must be an integer"):
        fn(X, 2.5, rng)


def test_labels_are_checked(rng):
    X, _ = three_gaussians(10, rng)
    with pytest.raises(ValueError, match="one label per row"):
        init_from_labels(X, [0, 1])
    with pytest.raises(ValueError, match="classes \\[1\\] have none"):
        init_from_labels(X, np.r_[np.zeros(9, int), 2])


@pytest.mark.parametrize("fn", [init_from_data, init_kmeans_pp, kmeans_pp_indices])
def test_a_seed_fixes_the_start_and_another_seed_changes_it(fn, rng):
    X, _ = three_gaussians(300, rng)
    def key(out):
        return np.asarray(out.means if hasattr(out, "means") else out)
    np.testing.assert_array_equal(key(fn(X, 4, 7)), key(fn(X, 4, 7)))
    np.testing.assert_array_equal(key(fn(X, 4, np.random.default_rng(7))), key(fn(X, 4, 7)))
    assert not np.array_equal(key(fn(X, 4, 7)), key(fn(X, 4, 8)))


def test_init_from_data_gives_a_constant_feature_unit_variance():
    X = np.c_[np.arange(6.0), np.full(6, 3.0)]
    mix = init_from_data(X, 2, 0, variance_scale=0.1)          # 0.1 Var = 0.29: kept, though below 1
    np.testing.assert_array_equal(mix.covariances, np.broadcast_to(np.diag([0.1 * X[:, 0].var(), 1.0]), (2, 2, 2)))
    np.testing.assert_array_equal(mix.weights, [0.5, 0.5])


def test_init_from_data_default_is_the_data_variance_and_m_equal_n_uses_every_sample():
    X = np.c_[np.arange(6.0), np.arange(6.0) ** 2]
    mix = init_from_data(X, 6, 3)                                # variance_scale defaults to 1
    np.testing.assert_array_equal(mix.covariances[0], np.diag(X.var(axis=0)))
    assert sorted(map(tuple, mix.means)) == sorted(map(tuple, X))   # drawn without replacement


def test_kmeans_pp_with_m_equal_n_picks_every_sample_once():
    """A chosen seed is at distance 0 from itself, so it is never drawn again."""
    X = np.array([[0.0, 1.0], [3.0, 1.0], [5.0, 7.0], [9.0, 2.0], [4.0, 4.0], [8.0, 8.0]])
    for seed in range(10):
        assert sorted(kmeans_pp_indices(X, 6, seed)) == list(range(6))


def test_init_kmeans_pp_averages_the_samples_nearest_each_seed(rng):
    X = rng.normal(size=(60, 2)) + [5.0, -3.0]                      # away from the origin
    seeds = kmeans_pp_indices(X, 4, 11)
    nearest = np.argmin(((X[:, None, :] - X[seeds][None, :, :]) ** 2).sum(axis=2), axis=1)
    expected = np.array([X[nearest == k].mean(axis=0) for k in range(4)])
    np.testing.assert_allclose(init_kmeans_pp(X, 4, 11).means, expected, rtol=1e-12)


def test_init_kmeans_pp_gives_a_lone_sample_the_default_reg():
    X = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    mix = init_kmeans_pp(X, 3, 0)
    np.testing.assert_array_equal(mix.covariances, np.broadcast_to(1e-6 * np.eye(2), (3, 2, 2)))


def test_init_from_labels_takes_integral_floats_and_gives_a_lone_sample_the_default_reg():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [9.0, 9.0]])
    mix = init_from_labels(X, [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(mix.means, [[1.0, 0.0], [9.0, 9.0]])
    np.testing.assert_array_equal(mix.covariances[1], 1e-6 * np.eye(2))


def test_kmeans_pp_never_seeds_a_copy_of_a_seed_while_another_value_is_left():
    X = np.array([[0.0], [0.0], [0.0], [0.1]])          # a total squared distance below 1
    for seed in range(20):
        assert sorted(X[kmeans_pp_indices(X, 2, seed), 0]) == [0.0, 0.1]


def test_init_from_labels_takes_integral_floats_and_treats_fixed_as_full():
    X = np.array([[0.0, 0.0], [1.0, 0.5], [10.0, 10.0], [11.0, 9.5]])
    by_int = emlib.init_from_labels(X, [0, 0, 1, 1])
    by_float = emlib.init_from_labels(X, np.array([0.0, 0.0, 1.0, 1.0]))
    np.testing.assert_array_equal(by_float.means, by_int.means)
    fixed = emlib.init_from_labels(X, [0, 0, 1, 1], covariance="fixed")      # nothing to keep yet: estimated in full
    np.testing.assert_array_equal(fixed.covariances, by_int.covariances)


def test_init_from_data_gives_a_feature_with_subnormal_variance_a_unit_variance():
    X = np.array([[0.0, 1e-162], [1.0, 0.0], [2.0, 1e-162]])          # variance ~ 2e-325: 1 / var overflows
    init = init_from_data(X, 2, 0)
    np.testing.assert_array_equal(init.covariances[:, 1, 1], [1.0, 1.0])
