import warnings

import numpy as np
import pytest

from emlib import Mixture, aic, bic, em, init_kmeans_pp, n_parameters, trim
from emlib.datasets import old_faithful, three_gaussians
from conftest import sklearn_covariances

KINDS = ["full", "diag", "spherical", "tied"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("m, d", [(1, 1), (3, 2), (5, 4)])
def test_parameter_counts_match_sklearn(kind, m, d):
    from sklearn.mixture import GaussianMixture
    gm = GaussianMixture(m, covariance_type=kind)
    gm.means_ = np.zeros((m, d))
    assert n_parameters(m, d, kind) == gm._n_parameters()


@pytest.mark.parametrize("kind", KINDS)
def test_bic_and_aic_match_sklearn_on_the_same_fit(kind, rng):
    from sklearn.mixture import GaussianMixture
    X, _ = three_gaussians(300, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(3, covariance_type=kind, random_state=0).fit(X)
    mix = Mixture(gm.weights_, gm.means_, sklearn_covariances(gm, kind, 3, 2), kind)
    np.testing.assert_allclose(bic(X, mix), gm.bic(X), rtol=1e-10)
    np.testing.assert_allclose(aic(X, mix), gm.aic(X), rtol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_bic_counts_the_parameters_of_the_kind_that_was_fitted(kind):
    """The bug this guards against: a tied fit scored as if it were full (Old Faithful, m = 3)."""
    X = old_faithful()
    result = em(X, init_kmeans_pp(X, 3, rng=0), covariance=kind)
    assert result.mixture.kind == kind
    p = n_parameters(3, 2, kind)
    ll = result.mixture.loglik(X)
    assert n_parameters(result) == n_parameters(result.mixture) == p
    np.testing.assert_allclose(bic(X, result), -2 * ll + p * np.log(X.shape[0]), rtol=1e-12)
    np.testing.assert_allclose(bic(X, result.mixture) - aic(X, result.mixture), p * (np.log(X.shape[0]) - 2),
                               rtol=1e-12)


def test_trimming_and_reweighting_keep_the_kind():
    X = old_faithful()
    tied = em(X, init_kmeans_pp(X, 3, rng=0), covariance="tied").mixture
    assert trim(tied, 0.0).kind == "tied"
    assert tied.subset([0, 1]).kind == "tied"
    assert tied.with_weights([0.2, 0.3, 0.5]).kind == "tied"


def test_bic_prefers_the_true_number_of_components(rng):
    X, _ = three_gaussians(600, rng)
    scores = [bic(X, em(X, init_kmeans_pp(X, m, np.random.default_rng(m))).mixture) for m in range(1, 6)]
    assert int(np.argmin(scores)) + 1 == 3


def test_trim_drops_small_components_and_renormalises():
    mix = Mixture([0.5, 0.45, 0.05], np.zeros((3, 1)), np.ones((3, 1, 1)))
    small = trim(mix, 0.1)
    assert small.n_components == 2
    np.testing.assert_allclose(small.weights, [0.5 / 0.95, 0.45 / 0.95])
    assert trim(mix, 0.0).n_components == 3
    with pytest.raises(ValueError, match="nothing would be left"):
        trim(mix, 0.6)
    with pytest.raises(ValueError, match="min_weight must be < 1"):
        trim(mix, 1.0)


def test_n_parameters_refuses_bad_arguments():
    with pytest.raises(ValueError, match="m must be >= 1"):
        n_parameters(0, 2, "full")
    with pytest.raises(ValueError, match="kind must be one of"):
        n_parameters(2, 2, "banana")
    with pytest.raises(TypeError, match="needs all three"):
        n_parameters(2, 2)
    with pytest.raises(TypeError, match="model must be an emlib.Mixture"):
        bic(np.zeros((3, 2)), "full")




def test_trim_keeps_a_weight_exactly_at_the_threshold():
    """'below min_weight' is strict: rho_k == min_weight stays (exact binary fractions, no rounding)."""
    mix = Mixture([0.5, 0.25, 0.125, 0.125], np.arange(4.0)[:, None], np.ones((4, 1, 1)))
    np.testing.assert_array_equal(trim(mix, 0.25).weights, [2 / 3, 1 / 3])
    np.testing.assert_array_equal(trim(mix, 0.125).weights, mix.weights)
    np.testing.assert_array_equal(trim(mix, 0.5).weights, [1.0])
    np.testing.assert_array_equal(trim(mix, 0.25).means, [[0.0], [1.0]])


def test_bic_minus_aic_is_p_times_ln_n_minus_2(rng):
    """BIC - AIC = p ln n - 2 p exactly (to rounding), with p counted by hand."""
    X, _ = three_gaussians(300, rng)
    mix = em(X, init_kmeans_pp(X, 3, rng), max_iter=20).mixture
    p = (3 - 1) + 3 * 2 + 3 * 3          # weights, means, full 2x2 covariances: 17
    np.testing.assert_allclose(bic(X, mix) - aic(X, mix), p * (np.log(300) - 2), rtol=1e-9)
    np.testing.assert_allclose(aic(X, mix), -2 * mix.loglik(X) + 2 * p, rtol=1e-12)


@pytest.mark.parametrize("kind, p", [("full", 2 + 6 + 9), ("diag", 2 + 6 + 6), ("spherical", 2 + 6 + 3),
                                     ("tied", 2 + 6 + 3), ("fixed", 2 + 6)])
def test_parameter_counts_by_hand_are_integers(kind, p):
    """m = 3, d = 2: 2 free weights, 6 mean entries, then full 3 x 3, diag 3 x 2, spherical 3, tied 3, fixed 0."""
    count = n_parameters(3, 2, kind)
    assert count == p and isinstance(count, int)
