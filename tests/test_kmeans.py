import numpy as np
import pytest

from emlib import em, kmeans, kmeans_limit_mixture
from emlib.datasets import three_gaussians


def test_kmeans_matches_sklearn_lloyd_from_same_start(rng):
    from sklearn.cluster import KMeans
    X, _ = three_gaussians(500, rng)
    start = X[[0, 1, 2]]
    ours = kmeans(X, start)
    ref = KMeans(3, init=start, n_init=1, algorithm="lloyd", tol=0).fit(X)
    assert ours.converged
    np.testing.assert_allclose(ours.means, ref.cluster_centers_, atol=1e-10)
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    np.testing.assert_allclose(ours.inertia[-1], ref.inertia_, rtol=1e-10)


def test_inertia_never_increases(rng):
    X, _ = three_gaussians(400, rng)
    result = kmeans(X, X[rng.choice(400, 5, replace=False)])
    assert np.all(np.diff(result.inertia) <= 1e-9)


def test_em_with_vanishing_shared_variance_becomes_kmeans(rng):
    """Equal fixed weights, fixed covariance sigma^2 I, sigma -> 0: the same partition and means."""
    X, _ = three_gaussians(400, rng)
    start = X[[5, 50, 300]]
    reference = kmeans(X, start)
    result = em(X, kmeans_limit_mixture(start, 1e-3), covariance="fixed", fix_weights=True, max_iter=200, tol=0)
    labels = np.argmax(result.responsibilities, axis=1)
    np.testing.assert_array_equal(labels, reference.labels)
    np.testing.assert_allclose(result.mixture.means, reference.means, atol=1e-9)
    assert np.all(result.responsibilities.max(axis=1) > 1 - 1e-9)      # hard assignments
    np.testing.assert_array_equal(result.mixture.weights, [1 / 3] * 3)


def test_large_variance_em_is_soft_and_differs_from_kmeans(rng):
    X, _ = three_gaussians(400, rng)
    start = X[[5, 50, 300]]
    soft = em(X, kmeans_limit_mixture(start, 3.0), covariance="fixed", fix_weights=True, max_iter=50)
    assert soft.responsibilities.max(axis=1).mean() < 0.95


def test_empty_cluster_keeps_its_mean():
    X = np.array([[0.0], [0.1], [0.2]])
    result = kmeans(X, [[0.1], [100.0]])
    np.testing.assert_allclose(result.means[1], [100.0])


@pytest.mark.parametrize("start, match", [
    (np.zeros((4, 3)), "init_means must have shape"),
    (np.zeros((0, 2)), "between 1 and n"),
    (np.full((2, 2), np.inf), "finite"),
])
def test_bad_starts_are_refused(start, match, rng):
    X, _ = three_gaussians(3, rng)
    with pytest.raises(ValueError, match=match):
        kmeans(X, start)


def test_kmeans_limit_mixture_needs_positive_sigma():
    with pytest.raises(ValueError, match="sigma"):
        kmeans_limit_mixture(np.zeros((2, 2)), 0.0)


def test_kmeans_limit_mixture_is_equal_weights_and_sigma_squared_identity():
    """The docstring's model: rho_k = 1/m and Sigma_k = sigma^2 I (a variance, not the standard deviation)."""
    means = np.array([[0.0, 0.0], [4.0, 1.0], [-2.0, 3.0]])
    mix = kmeans_limit_mixture(means, 0.5)
    np.testing.assert_array_equal(mix.weights, [1 / 3] * 3)
    np.testing.assert_array_equal(mix.means, means)
    np.testing.assert_array_equal(mix.covariances, np.broadcast_to(0.25 * np.eye(2), (3, 2, 2)))


def test_kmeans_limit_responsibilities_are_a_softmax_of_squared_distances(rng):
    """E[z_i^(k)] = exp(-|x_i - mu_k|^2 / 2 sigma^2) / sum_j exp(-|x_i - mu_j|^2 / 2 sigma^2) (module docstring)."""
    X, _ = three_gaussians(50, rng)
    means, sigma = X[[0, 10, 20]], 1.7
    d2 = np.sum((X[:, None, :] - means[None, :, :]) ** 2, axis=2)
    logits = -d2 / (2 * sigma ** 2)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    got = kmeans_limit_mixture(means, sigma).posterior(X)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_a_1d_start_is_one_mean_per_entry_in_1d_and_one_mean_in_more_dimensions():
    x = np.array([0.0, 0.2, 5.0, 5.4])
    one_d = kmeans(x[:, None], [1.0, 4.0])
    np.testing.assert_allclose(one_d.means, [[0.1], [5.2]])
    two_d = kmeans(np.c_[x, -x], [1.0, -1.0])
    np.testing.assert_allclose(two_d.means, [[2.65, -2.65]])


def test_one_cluster_and_one_cluster_per_sample_are_allowed(rng):
    X, _ = three_gaussians(20, rng)
    np.testing.assert_allclose(kmeans(X, X[:1]).means, X.mean(axis=0, keepdims=True))
    every = kmeans(X, X)
    np.testing.assert_array_equal(every.means, X)
    assert every.inertia[-1] == 0.0


def test_n_iter_counts_the_mean_updates_and_max_iter_caps_them():
    X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    start = [[0.0], [1.0]]
    # by hand: {0} {1,2,10,11,12} -> means 0, 7.2 -> {0,1,2} {10,11,12} -> means 1, 11 -> no change
    full = kmeans(X, start)
    assert full.converged and full.n_iter == 2 and len(full.inertia) == 3
    np.testing.assert_allclose(full.means, [[1.0], [11.0]])
    one = kmeans(X, start, max_iter=1)
    assert one.n_iter == 1 and not one.converged and len(one.inertia) == 2
    none = kmeans(X, start, max_iter=0)
    assert none.n_iter == 0 and none.converged is False and len(none.inertia) == 1
    np.testing.assert_array_equal(none.means, start)


def test_a_cluster_of_one_sample_moves_onto_it():
    X = np.array([[0.0], [0.1], [10.0]])
    result = kmeans(X, [[0.05], [9.0]], max_iter=1)
    np.testing.assert_allclose(result.means, [[0.05], [10.0]])
