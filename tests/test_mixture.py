import numpy as np
import pytest
from scipy.stats import multivariate_normal

from emlib import Mixture
from conftest import random_mixture


def test_logpdf_matches_scipy(rng):
    mix = random_mixture(rng, 4, 3)
    X = rng.normal(scale=4, size=(200, 3))
    comp = mix.component_logpdf(X)
    for k in range(4):
        ref = multivariate_normal(mix.means[k], mix.covariances[k]).logpdf(X)
        np.testing.assert_allclose(comp[:, k], ref, rtol=1e-10, atol=1e-10)
    dens = sum(mix.weights[k] * multivariate_normal(mix.means[k], mix.covariances[k]).pdf(X) for k in range(4))
    np.testing.assert_allclose(mix.pdf(X), dens, rtol=1e-10)
    np.testing.assert_allclose(mix.logpdf(X), np.log(dens), rtol=1e-10)


def test_posterior_rows_sum_to_one_and_classify_is_map(rng):
    mix = random_mixture(rng, 3, 2)
    X = rng.normal(scale=5, size=(300, 2))
    post = mix.posterior(X)
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-12)
    joint = np.stack([mix.weights[k] * multivariate_normal(mix.means[k], mix.covariances[k]).pdf(X)
                      for k in range(3)], axis=1)
    np.testing.assert_array_equal(mix.classify(X), np.argmax(joint, axis=1))
    np.testing.assert_allclose(post, joint / joint.sum(axis=1, keepdims=True), rtol=1e-9, atol=1e-12)


def test_posterior_far_from_every_mean_does_not_underflow():
    mix = Mixture.univariate([0.5, 0.5], [0.0, 1.0], [0.01, 0.01])
    post = mix.posterior(np.array([[1000.0]]))
    assert np.all(np.isfinite(post))
    np.testing.assert_allclose(post, [[0.0, 1.0]], atol=1e-12)


def test_sample_follows_the_two_stage_process_moments(rng):
    mix = random_mixture(rng, 3, 2)
    X, z = mix.sample(200_000, np.random.default_rng(0))
    assert X.shape == (200_000, 2) and z.shape == (200_000,)
    np.testing.assert_allclose(np.bincount(z) / z.size, mix.weights, atol=4e-3)
    for k in range(3):
        Xk = X[z == k]
        np.testing.assert_allclose(Xk.mean(axis=0), mix.means[k], atol=0.03)
        np.testing.assert_allclose(np.cov(Xk.T), mix.covariances[k], atol=0.05)
    mean = mix.weights @ mix.means
    np.testing.assert_allclose(X.mean(axis=0), mean, atol=0.03)


def test_sample_is_reproducible_with_a_seed(rng):
    mix = random_mixture(rng, 2, 2)
    a, za = mix.sample(50, 7)
    b, zb = mix.sample(50, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(za, zb)


def test_univariate_constructor():
    mix = Mixture.univariate([0.2, 0.8], [-1.0, 2.0], [0.5, 2.0])
    assert mix.n_components == 2 and mix.n_features == 1
    np.testing.assert_allclose(mix.covariances[:, 0, 0], [0.5, 2.0])
    x = np.linspace(-3, 5, 7)
    ref = 0.2 * multivariate_normal(-1, 0.5).pdf(x) + 0.8 * multivariate_normal(2, 2.0).pdf(x)
    np.testing.assert_allclose(mix.pdf(x), ref, rtol=1e-12)


def test_mixture_is_immutable(rng):
    mix = random_mixture(rng, 2, 2)
    with pytest.raises(ValueError):
        mix.means[0, 0] = 5.0
    with pytest.raises(AttributeError):
        mix.weights = np.array([1.0, 0.0])


def test_input_arrays_are_copied(rng):
    w = np.array([0.5, 0.5])
    mix = Mixture(w, np.zeros((2, 1)), np.ones((2, 1, 1)))
    w[0] = 0.9
    assert mix.weights[0] == 0.5


@pytest.mark.parametrize("kwargs, match", [
    (dict(weights=[0.5, 0.6], means=[[0.0], [1.0]], covariances=[[[1.0]], [[1.0]]]), "sum to 1"),
    (dict(weights=[1.5, -0.5], means=[[0.0], [1.0]], covariances=[[[1.0]], [[1.0]]]), "non-negative"),
    (dict(weights=[0.5, 0.5], means=[[0.0], [1.0], [2.0]], covariances=[[[1.0]], [[1.0]]]), "means must have shape"),
    (dict(weights=[0.5, 0.5], means=[[0.0], [1.0]], covariances=[[[1.0]]]), "covariances must have shape"),
    (dict(weights=[1.0], means=[[0.0, 0.0]], covariances=[[[1.0, 0.5], [0.0, 1.0]]]), "not symmetric"),
    (dict(weights=[1.0], means=[[0.0, 0.0]], covariances=[[[1.0, 2.0], [2.0, 1.0]]]), "positive definite"),
    (dict(weights=[1.0], means=[[np.nan]], covariances=[[[1.0]]]), "means contains"),
    (dict(weights=[], means=np.zeros((0, 1)), covariances=np.zeros((0, 1, 1))), "at least one"),
])
def test_bad_parameters_are_refused_with_a_named_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Mixture(**kwargs)


def test_wrong_feature_count_is_refused(rng):
    mix = random_mixture(rng, 2, 3)
    with pytest.raises(ValueError, match="3 feature"):
        mix.logpdf(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="em_missing"):
        mix.logpdf(np.full((2, 3), np.nan))


# --- the covariance kind is part of the model ----------------------------------------------------
def test_a_mixture_knows_its_kind_and_refuses_covariances_outside_it():
    eye = np.eye(2)
    full = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, 0.0], [0.0, 3.0]]])
    assert Mixture([0.5, 0.5], np.zeros((2, 2)), full).kind == "full"
    with pytest.raises(ValueError, match="diagonal for kind='diag'"):
        Mixture([0.5, 0.5], np.zeros((2, 2)), full, "diag")
    with pytest.raises(ValueError, match="kind='spherical'"):
        Mixture([0.5, 0.5], np.zeros((2, 2)), np.stack([eye, np.diag([1.0, 2.0])]), "spherical")
    with pytest.raises(ValueError, match="kind='tied'"):
        Mixture([0.5, 0.5], np.zeros((2, 2)), np.stack([eye, 2 * eye]), "tied")
    with pytest.raises(ValueError, match="kind must be one of"):
        Mixture([1.0], np.zeros((1, 2)), eye[None], "banana")
    assert Mixture([0.5, 0.5], np.zeros((2, 2)), np.stack([eye, 2 * eye]), "spherical").kind == "spherical"


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied", "fixed"])
def test_as_kind_projects_onto_the_family_and_keeps_members_unchanged(kind):
    cov = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, -0.2], [-0.2, 3.0]]])
    mix = Mixture([0.25, 0.75], [[0.0, 0.0], [1.0, 1.0]], cov)
    proj = mix.as_kind(kind)
    assert proj.kind == kind
    np.testing.assert_array_equal(proj.means, mix.means)
    expected = {"full": cov, "fixed": cov,
                "diag": np.array([np.diag([2.0, 1.0]), np.diag([1.0, 3.0])]),
                "spherical": np.array([1.5 * np.eye(2), 2.0 * np.eye(2)]),
                "tied": np.broadcast_to(0.25 * cov[0] + 0.75 * cov[1], cov.shape)}[kind]
    np.testing.assert_allclose(proj.covariances, expected, rtol=1e-14)
    np.testing.assert_array_equal(proj.as_kind(kind).covariances, proj.covariances)


def test_as_kind_tied_keeps_equal_covariances_bit_for_bit():
    # "already equal are kept as they are": their weighted average would differ in the last bits
    w = np.array([0.27257657373623323, 0.3344589825863548, 0.39296444367741207])
    C = np.array([[3.8449541231732756, 1.2738644243161497], [1.2738644243161497, 4.8772112098528035]])
    assert not np.array_equal(np.einsum("k,kab->ab", w, np.stack([C] * 3)), C)     # the case is a real one
    tied = Mixture(w, np.zeros((3, 2)), np.stack([C] * 3)).as_kind("tied")
    np.testing.assert_array_equal(tied.covariances, np.stack([C] * 3))


def test_repr_shows_the_sizes_weights_and_means():
    mix = Mixture([0.25, 0.75], [[0.0, 1.0], [2.5, -1.0]], [np.eye(2), np.eye(2)])
    text = repr(mix)
    assert text.startswith("Mixture(m=2, d=2, kind='full',\n")
    assert "weights=[0.25 0.75]" in text and "means=[[0.0, 1.0], [2.5, -1.0]]" in text
    one_d = repr(Mixture.univariate([0.25, 0.75], [0.123456, 2.0], [1.0, 2.0]))
    assert one_d.startswith("Mixture(m=2, d=1, kind='full',\n") and "means=[0.1235 2.    ]" in one_d   # 4 decimals
    tiny = repr(Mixture([1e-5, 1 - 1e-5], [[0.0], [1.0]], np.ones((2, 1, 1))))
    assert "weights=[0. 1.]" in tiny                                  # no scientific notation


def test_subset_keeps_the_chosen_components_and_renormalises():
    mix = Mixture([0.5, 0.25, 0.25], [[0.0], [1.0], [2.0]], [[[1.0]], [[2.0]], [[3.0]]])
    sub = mix.subset([2, 0])
    np.testing.assert_array_equal(sub.weights, [1 / 3, 2 / 3])
    np.testing.assert_array_equal(sub.means, [[2.0], [0.0]])
    np.testing.assert_array_equal(sub.covariances, [[[3.0]], [[1.0]]])
    np.testing.assert_array_equal(mix.subset(np.array([False, True, True])).weights, [0.5, 0.5])


def test_a_row_of_values_is_read_as_samples_of_a_one_dimensional_mixture():
    mix = Mixture.univariate([0.3, 0.7], [0.0, 2.0], [1.0, 0.5])
    np.testing.assert_array_equal(mix.logpdf(np.array([[0.0, 1.0, 2.0]])), mix.logpdf([0.0, 1.0, 2.0]))
    np.testing.assert_array_equal(mix.logpdf(np.array([[1.5]])), mix.logpdf([1.5]))
    with pytest.raises(ValueError, match=r"X must have 1 feature\(s\) \(columns\) to match the mixture, got shape \(2, 3\)"):
        mix.logpdf(np.zeros((2, 3)))
    two = Mixture([1.0], [[0.0, 0.0]], [np.eye(2)])
    with pytest.raises(ValueError, match=r"X must have 2 feature\(s\) \(columns\) to match the mixture, got shape \(1, 3\)"):
        two.logpdf(np.zeros((1, 3)))


def test_a_zero_weight_gives_minus_inf_without_a_warning():
    import warnings
    mix = Mixture.univariate([1.0, 0.0], [0.0, 2.0], [1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        joint = mix.weighted_logpdf([0.0, 1.0])
        np.testing.assert_allclose(mix.logpdf([0.0, 1.0]), joint[:, 0])
    assert np.all(joint[:, 1] == -np.inf)


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied", "fixed"])
def test_univariate_keeps_the_kind_it_is_told(kind):
    assert Mixture.univariate([0.5, 0.5], [0.0, 1.0], [1.0, 1.0], kind).kind == kind


def test_logsumexp_of_a_row_of_minus_infinity_is_minus_infinity_without_a_warning():
    import warnings
    from emlib.mixture import logsumexp_rows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = logsumexp_rows(np.array([[-np.inf, -np.inf], [0.0, 0.0]]))
    np.testing.assert_array_equal(out, [-np.inf, np.log(2.0)])


def test_only_dask_arrays_take_the_dask_path():
    from emlib._validation import is_dask_array

    class Chunked(np.ndarray):                    # zarr and h5py arrays also have .chunks
        chunks = (2,)

    class Lookalike:                               # the two attributes, but not Dask's
        chunks, to_delayed = (2,), None

    assert not is_dask_array(np.zeros(2).view(Chunked))
    assert not is_dask_array(Lookalike())


def test_a_covariance_too_small_to_invert_is_refused_without_a_floating_point_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"components \[1\] have variances too small"):
            Mixture([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[1e-320]]])


def test_structure_and_symmetry_are_judged_relative_to_each_components_scale():
    big = 1e6 * np.eye(2)
    # differences of 1e-5 on entries of 1e6 (relative 1e-11) are rounding: accepted for every kind
    Mixture([1.0], [[0, 0]], [big + [[0, 1e-5], [1e-5, 0]]], "diag")
    Mixture([1.0], [[0, 0]], [big + [[1e-5, 0], [0, 0]]], "spherical")
    Mixture([0.5, 0.5], [[0, 0], [1, 1]], [big, big + 1e-5 * np.eye(2)], "tied")
    Mixture([1.0], [[0, 0]], [[[1.0, 1e-10], [1e-10, 1.0]]], "diag")       # exactly at the tolerance: accepted
    # an asymmetry of 1e-9 on entries of 1 is accepted, though a component of scale 1e-3 sits beside it
    Mixture([0.5, 0.5], [[0, 0], [1, 1]], [[[1.0, 1e-9], [0.0, 1.0]], 1e-3 * np.eye(2)])


def test_covariances_and_precisions_are_stored_exactly_symmetric():
    mix = Mixture([1.0], [[0.0, 0.0, 0.0]], [[[2.0, 0.3, 1e-12], [0.3, 1.5, 0.2], [0.0, 0.2, 1.1]]])
    np.testing.assert_array_equal(mix.covariances, np.swapaxes(mix.covariances, 1, 2))
    np.testing.assert_array_equal(mix.precisions, np.swapaxes(mix.precisions, 1, 2))


def test_each_tolerance_is_inclusive():
    # 2e-10 - 1e-10 is exactly 1e-10 (Sterbenz), and 1e-8 - 0 is exactly 1e-8: each sits on its tolerance
    Mixture([0.5, 0.5], [[0, 0], [1, 1]], [np.eye(2), np.diag([2e-10, 1e-10])], "spherical")
    Mixture([0.5, 0.5], [[0, 0], [1, 1]], [np.diag([1.0, 2e-10]), np.diag([1.0, 1e-10])], "tied")
    Mixture([1.0], [[0, 0]], [[[1.0, 0.0], [1e-8, 1.0]]])                   # relative asymmetry exactly 1e-8
