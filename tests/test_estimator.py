import numpy as np
import pytest

from emlib import GaussianMixtureEM
from emlib.datasets import old_faithful, three_gaussians


def test_estimator_round_trip(rng):
    X, z = three_gaussians(600, rng)
    est = GaussianMixtureEM(3, random_state=0, n_init=3).fit(X)
    assert est.weights_.shape == (3,) and est.means_.shape == (3, 2) and est.covariances_.shape == (3, 2, 2)
    assert est.converged_ and est.n_iter_ >= 1 and est.n_features_in_ == 2
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.predict(X), proba.argmax(axis=1))
    np.testing.assert_allclose(est.score(X), est.lower_bound_, rtol=1e-8)
    np.testing.assert_allclose(est.score_samples(X).mean(), est.score(X))
    p = (3 - 1) + 3 * 2 + 3 * 3          # weights, means, full 2x2 covariances: 17 free parameters
    np.testing.assert_allclose(est.bic(X) - est.aic(X), p * (np.log(600) - 2), rtol=1e-9)
    np.testing.assert_allclose(est.aic(X), -2 * est.score(X) * 600 + 2 * p, rtol=1e-10)
    Xs, zs = est.sample(50, rng=1)
    assert Xs.shape == (50, 2) and zs.shape == (50,)


def test_estimator_agrees_with_sklearn_on_old_faithful():
    from sklearn.mixture import GaussianMixture
    X = old_faithful()
    ours = GaussianMixtureEM(2, random_state=0, tol=1e-10, max_iter=500).fit(X)
    ref = GaussianMixture(2, random_state=0, tol=1e-10, max_iter=500).fit(X)
    np.testing.assert_allclose(ours.score(X), ref.score(X), rtol=1e-8)
    order_a, order_b = np.argsort(ours.means_[:, 0]), np.argsort(ref.means_[:, 0])
    np.testing.assert_allclose(ours.means_[order_a], ref.means_[order_b], rtol=1e-5)


def test_estimator_works_with_sklearn_clone_and_params():
    from sklearn.base import clone
    est = GaussianMixtureEM(4, covariance="diag", reg=1e-3)
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    est.set_params(n_components=2)
    assert est.n_components == 2
    with pytest.raises(ValueError, match="invalid parameter"):
        est.set_params(bogus=1)


def test_unfitted_and_bad_settings_are_explained(rng):
    X, _ = three_gaussians(30, rng)
    with pytest.raises(AttributeError, match="not fitted"):
        GaussianMixtureEM(2).predict(X)
    with pytest.raises(ValueError, match="init must be one of"):
        GaussianMixtureEM(2, init="magic").fit(X)
    with pytest.raises(ValueError, match="n_components=40"):
        GaussianMixtureEM(40).fit(X)
    with pytest.raises(ValueError, match="fixed"):
        GaussianMixtureEM(2, covariance="fixed").fit(X)
