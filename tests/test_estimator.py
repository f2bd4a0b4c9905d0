"""GaussianMixtureEM: a scikit-learn estimator, a drop-in beside sklearn.mixture.GaussianMixture."""

import inspect
import io
import pickle
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator
from threadpoolctl import threadpool_limits

import emlib
from emlib import GaussianMixtureEM, em, init_kmeans_pp
from emlib.datasets import old_faithful, three_gaussians
from emlib.estimator import expected_failed_checks
from conftest import random_mixture, sklearn_precisions

KINDS = ["full", "diag", "spherical", "tied"]


def quiet(fit, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


def same_start(X, m, kind, seed, **settings):
    """GaussianMixtureEM and GaussianMixture, both started from emlib's k-means++ start."""
    init = init_kmeans_pp(X, m, np.random.default_rng(seed), covariance=kind)
    start = dict(weights_init=init.weights, means_init=init.means, precisions_init=sklearn_precisions(init, kind))
    return (GaussianMixtureEM(m, covariance_type=kind, **start, **settings),
            GaussianMixture(m, covariance_type=kind, **start, **settings), init)


# --- scikit-learn's estimator checks -------------------------------------------------------------
@pytest.mark.parametrize("est", [
    GaussianMixtureEM(),
    GaussianMixtureEM(3),
    GaussianMixtureEM(2, covariance_type="diag", init_params="kmeans"),
    GaussianMixtureEM(2, covariance_type="tied", init_params="random"),
    GaussianMixtureEM(2, covariance_type="spherical", init_params="random_from_data"),
], ids=repr)
def test_check_estimator_passes(est):
    expected = expected_failed_checks(est)
    assert all(len(reason) > 40 for reason in expected.values())
    results = check_estimator(est, on_fail=None, expected_failed_checks=expected)
    status = {}
    for r in results:
        status.setdefault(r["check_name"], set()).add(r["status"])
        if r["status"] == "skipped":                   # only the array-API check, which needs SCIPY_ARRAY_API
            assert r["check_name"] == "check_array_api_input", r
    failed = sorted(name for name, s in status.items() if "failed" in s)
    assert failed == []
    assert len(status) > 40
    # a check is marked only where it really fails
    assert {name for name, s in status.items() if "xfail" in s} == set(expected)
    for name in expected:
        assert status[name] == {"xfail"}


def test_the_marked_checks_fail_without_the_mark():
    results = check_estimator(GaussianMixtureEM(), on_fail=None)
    assert {r["check_name"] for r in results if r["status"] == "failed"} == {"check_clustering"}


# --- the same fit as GaussianMixture ------------------------------------------------------------
PARITY = {}          # the largest differences seen, for the report


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d, m", [(1, 2), (2, 3), (4, 3)])
@pytest.mark.parametrize("tol, max_iter", [(0.0, 30), (1e-3, 200), (1e-7, 1000)])
def test_every_fitted_attribute_equals_gaussian_mixture(kind, d, m, tol, max_iter, rng):
    X, _ = random_mixture(rng, m, d).sample(800, rng)
    X_new, _ = random_mixture(rng, m, d).sample(50, rng)
    ours, ref, _ = same_start(X, m, kind, seed=1, tol=tol, max_iter=max_iter, random_state=5)
    quiet(ours.fit, X)
    quiet(ref.fit, X)
    assert ours.n_iter_ == ref.n_iter_ and ours.converged_ == ref.converged_
    assert ours.converged_ == (tol > 0)
    assert ours.n_features_in_ == ref.n_features_in_ == d
    for name in ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]:
        a, b = getattr(ours, name), getattr(ref, name)
        assert a.shape == b.shape, name
        scale = max(1.0, np.abs(b).max())
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8 * scale, err_msg=name)
        PARITY[name] = max(PARITY.get(name, 0.0), float(np.abs(a - b).max() / scale))
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-10)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-10)
    for data in (X, X_new):
        np.testing.assert_allclose(ours.score_samples(data), ref.score_samples(data), rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(ours.score(data), ref.score(data), rtol=1e-10)
        np.testing.assert_allclose(ours.predict_proba(data), ref.predict_proba(data), rtol=0, atol=1e-8)
        np.testing.assert_array_equal(ours.predict(data), ref.predict(data))
        np.testing.assert_allclose(ours.bic(data), ref.bic(data), rtol=1e-10)
        np.testing.assert_allclose(ours.aic(data), ref.aic(data), rtol=1e-10)
        PARITY["score"] = max(PARITY.get("score", 0.0), abs(ours.score(data) - ref.score(data)))
    Xs, ys = ours.sample(300)
    Xr, yr = ref.sample(300)
    np.testing.assert_array_equal(ys, yr)
    np.testing.assert_allclose(Xs, Xr, rtol=0, atol=1e-8 * max(1.0, np.abs(Xr).max()))


@pytest.mark.parametrize("kind", KINDS)
def test_warm_start_continues_as_gaussian_mixture_does(kind, rng):
    X, _ = random_mixture(rng, 3, 2).sample(600, rng)
    ours, ref, _ = same_start(X, 3, kind, seed=2, tol=1e-4, max_iter=3, warm_start=True)
    for _ in range(6):
        quiet(ours.fit, X)
        quiet(ref.fit, X)
        assert (ours.n_iter_, ours.converged_) == (ref.n_iter_, ref.converged_)
        np.testing.assert_allclose(ours.means_, ref.means_, atol=1e-8)
        np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-10)
    assert ours.converged_


def test_max_iter_zero_keeps_the_start_as_gaussian_mixture_does(rng):
    X, _ = random_mixture(rng, 2, 2).sample(300, rng)
    ours, _, init = same_start(X, 2, "full", seed=3, max_iter=0)
    ref = GaussianMixture(2, means_init=init.means, max_iter=0)   # it cannot take precisions_init with max_iter=0
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no ConvergenceWarning for a start on purpose
        ours.fit(X)
        ref.fit(X)
    assert ours.n_iter_ == ref.n_iter_ == 0 and ours.lower_bound_ == ref.lower_bound_ == -np.inf
    assert not ours.converged_ and len(ours.lower_bounds_) == len(ref.lower_bounds_) == 0
    np.testing.assert_array_equal(ours.means_, ref.means_)
    np.testing.assert_allclose(ours.covariances_, init.covariances, rtol=1e-12)
    np.testing.assert_allclose(ours.loglik_, [init.loglik(X)])


def test_the_fit_is_emlib_em_plus_one_step(rng):
    """Stopping by scikit-learn's rule: the parameters of emlib.em one M-step on."""
    X, _ = three_gaussians(500, rng)
    start = init_kmeans_pp(X, 3, np.random.default_rng(0))
    lecture = em(X, start, tol=1e-5)
    est = GaussianMixtureEM(3, tol=1e-5, random_state=0).fit(X)
    assert est.converged_ and est.n_iter_ == lecture.n_iter + 1
    np.testing.assert_array_equal(est.loglik_[:-1], lecture.loglik)
    one_more = em(X, lecture.mixture, max_iter=1, tol=0)
    np.testing.assert_array_equal(est.means_, one_more.mixture.means)
    np.testing.assert_allclose(est.loglik_[-1] / X.shape[0], est.score(X), rtol=1e-12)
    np.testing.assert_allclose(est.lower_bounds_, est.loglik_[:-1] / X.shape[0], rtol=1e-14)
    np.testing.assert_allclose(est.lower_bound_, lecture.mean_loglik[-1], rtol=1e-14)


def test_the_default_start_is_emlib_k_means_plus_plus(rng):
    X, _ = three_gaussians(300, rng)
    for kind in KINDS:
        est = GaussianMixtureEM(3, covariance_type=kind, max_iter=0, random_state=7).fit(X)
        start = init_kmeans_pp(X, 3, np.random.default_rng(7), covariance=kind)
        np.testing.assert_array_equal(est.mixture_.means, start.means)
        np.testing.assert_array_equal(est.mixture_.covariances, start.covariances)


@pytest.mark.parametrize("init_params", ["k-means++", "kmeans", "random", "random_from_data"])
def test_every_start_finds_the_three_gaussians(init_params, rng):
    X, z = three_gaussians(900, rng)
    # tol 1e-6: from random responsibilities EM leaves its first plateau slowly, and tol=1e-3 stops on it
    settings = dict(init_params=init_params, n_init=3, tol=1e-6, max_iter=1000, random_state=0)
    est = GaussianMixtureEM(3, **settings).fit(X)
    assert est.converged_
    assert emlib.matched_accuracy(est.labels_, z) > 0.9
    np.testing.assert_array_equal(est.labels_, est.predict(X))
    np.testing.assert_array_equal(GaussianMixtureEM(3, **settings).fit_predict(X), est.labels_)


def test_old_faithful_agrees_with_gaussian_mixture_from_its_own_start():
    X = old_faithful()
    ours = GaussianMixtureEM(2, random_state=0, tol=1e-10, max_iter=500).fit(X)
    ref = GaussianMixture(2, random_state=0, tol=1e-10, max_iter=500).fit(X)
    np.testing.assert_allclose(ours.score(X), ref.score(X), rtol=1e-8)
    a, b = np.argsort(ours.means_[:, 0]), np.argsort(ref.means_[:, 0])
    np.testing.assert_allclose(ours.means_[a], ref.means_[b], rtol=1e-5)


# --- scikit-learn's tools ---------------------------------------------------------------------------
def test_the_constructor_is_gaussian_mixtures_plus_emlibs_additions():
    ours = inspect.signature(GaussianMixtureEM).parameters
    theirs = inspect.signature(GaussianMixture).parameters
    assert list(ours)[:len(theirs)] == list(theirs)
    assert list(ours)[len(theirs):] == ["min_weight", "keep_history"]
    for name in theirs:
        if name not in ("tol", "init_params"):        # the two documented different defaults
            assert ours[name].default == theirs[name].default, name
        assert ours[name].kind == theirs[name].kind, name


def test_clone_pickle_and_params(rng):
    X, _ = three_gaussians(300, rng)
    est = GaussianMixtureEM(3, covariance_type="diag", reg_covar=1e-3, random_state=0)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    est.set_params(n_components=2)
    assert est.n_components == 2
    with pytest.raises(ValueError, match="Invalid parameter 'covariance'"):
        est.set_params(covariance="diag")
    est.fit(X)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(again.loglik_, est.loglik_)
    assert "covariance_type='diag'" in repr(est)


def test_pipeline_cross_val_score_and_grid_search(rng):
    X, _ = three_gaussians(400, rng)
    X = X * [100.0, 0.01]
    pipe = make_pipeline(StandardScaler(), GaussianMixtureEM(3, random_state=0)).fit(X)
    assert pipe.predict(X).shape == (400,)
    np.testing.assert_allclose(pipe.score(X), pipe[-1].score(StandardScaler().fit_transform(X)))
    scores = cross_val_score(GaussianMixtureEM(3, random_state=0), X / [100.0, 0.01], cv=4)
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    search = GridSearchCV(GaussianMixtureEM(random_state=0), {"n_components": [1, 2, 3, 4]}, cv=3)
    search.fit(X / [100.0, 0.01])
    assert search.best_params_["n_components"] >= 3    # held-out log-likelihood never prefers too few
    piped = GridSearchCV(make_pipeline(StandardScaler(), GaussianMixtureEM(random_state=0)),
                         {"gaussianmixtureem__n_components": [1, 2, 3]}, cv=3).fit(X)
    assert piped.best_params_ == {"gaussianmixtureem__n_components": 3}


def bic_score(estimator, X):
    """scikit-learn's recipe: GridSearchCV maximises, and lower BIC is better."""
    return -estimator.bic(X)


def test_scikit_learns_model_selection_recipe_chooses_the_same_model():
    # the data of scikit-learn's "Gaussian Mixture Model Selection" example
    r = np.random.RandomState(0)
    n = 500
    C = np.array([[0.0, -0.1], [1.7, 0.4]])
    X = np.concatenate([r.randn(n, 2) @ C, 0.7 * r.randn(n, 2) + np.array([-4, 1])])
    grid = {"n_components": range(1, 7), "covariance_type": ["spherical", "tied", "diag", "full"]}
    with threadpool_limits(1):                          # scikit-learn's KMeans start crawls on a busy machine otherwise
        ours = GridSearchCV(GaussianMixtureEM(), grid, scoring=bic_score).fit(X)
        theirs = GridSearchCV(GaussianMixture(), grid, scoring=bic_score).fit(X)
    assert ours.best_params_ == theirs.best_params_ == {"covariance_type": "full", "n_components": 2}
    a = ours.cv_results_["mean_test_score"]
    b = theirs.cv_results_["mean_test_score"]
    best = np.argmax(b)
    assert np.argmax(a) == best
    np.testing.assert_allclose(a[best], b[best], rtol=1e-3)   # the same model, from other starts


def test_pandas_dataframes_keep_feature_names(rng):
    pd = pytest.importorskip("pandas")
    X, _ = three_gaussians(300, rng)
    frame = pd.DataFrame(X, columns=["eruption", "waiting"])
    est = GaussianMixtureEM(3, random_state=0).fit(frame)
    np.testing.assert_array_equal(est.feature_names_in_, ["eruption", "waiting"])
    np.testing.assert_array_equal(est.predict(frame), GaussianMixtureEM(3, random_state=0).fit(X).predict(X))
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(frame.rename(columns={"waiting": "interval"}))


# --- emlib's additions -------------------------------------------------------------------------------
def test_sample_weight_counts_a_sample_as_repeats(rng):
    X, _ = three_gaussians(200, rng)
    w = rng.integers(0, 4, size=200)
    ours, _, _ = same_start(X, 3, "full", seed=4, tol=0.0, max_iter=25)
    weighted = quiet(clone(ours).fit, X, sample_weight=w)
    repeated = quiet(clone(ours).fit, np.repeat(X, w, axis=0))
    np.testing.assert_allclose(weighted.means_, repeated.means_, atol=1e-10)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, atol=1e-10)
    np.testing.assert_allclose(weighted.lower_bounds_, repeated.lower_bounds_, rtol=1e-12)
    # a zero-weight sample never becomes a seed of the start
    kept = {tuple(row) for row in X[w > 0]}
    for seed in range(10):
        start = GaussianMixtureEM(3, init_params="random_from_data", max_iter=0, random_state=seed)
        assert all(tuple(mu) in kept for mu in start.fit(X, sample_weight=w).means_)
    labels = GaussianMixtureEM(3, random_state=0).fit_predict(X, sample_weight=w + 1.0)
    assert labels.shape == (200,)


def test_fixed_covariances_stay_as_given(rng):
    X, _ = three_gaussians(400, rng)
    cov = np.stack([np.eye(2) * s for s in (0.5, 1.0, 2.0)])
    est = GaussianMixtureEM(3, covariance_type="fixed", precisions_init=np.linalg.inv(cov), random_state=0).fit(X)
    np.testing.assert_allclose(est.covariances_, cov, atol=1e-12)
    assert est.covariances_.shape == (3, 2, 2) and est.mixture_.kind == "fixed"
    assert emlib.n_parameters(est.mixture_) == 2 + 3 * 2
    np.testing.assert_allclose(est.bic(X), emlib.bic(X, est.mixture_))
    with pytest.raises(ValueError, match="precisions_init"):
        GaussianMixtureEM(3, covariance_type="fixed").fit(X)


def test_min_weight_trims_and_history_is_kept():
    X = emlib.datasets.annulus(500, np.random.default_rng(0))
    est = GaussianMixtureEM(20, covariance_type="full", min_weight=0.03, init_params="random_from_data",
                            tol=1e-5, max_iter=300, keep_history=True, random_state=0).fit(X)
    m = est.weights_.shape[0]
    assert 1 < m < 20 and est.means_.shape == (m, 2) and est.covariances_.shape == (m, 2, 2)
    assert len(est.history_) == est.n_iter_ + 1 == est.loglik_.shape[0]
    assert est.history_[0].n_components == 20 and est.history_[-1] is est.mixture_
    np.testing.assert_allclose([h.loglik(X) for h in est.history_], est.loglik_, rtol=1e-10)
    assert GaussianMixtureEM(2).fit(X).history_ == ()


def test_verbose_prints_progress(rng):
    X, _ = three_gaussians(200, rng)
    out = io.StringIO()
    with redirect_stdout(out):
        GaussianMixtureEM(3, n_init=2, verbose=2, verbose_interval=2, random_state=0).fit(X)
    text = out.getvalue()
    assert "Initialization 0" in text and "Initialization 1" in text
    assert "Iteration 2" in text and "ll change" in text and "converged" in text
    out = io.StringIO()
    with redirect_stdout(out):
        GaussianMixtureEM(3, random_state=0).fit(X)
    assert out.getvalue() == ""


def test_a_fit_that_stops_at_max_iter_warns_as_gaussian_mixture_does(rng):
    X, _ = three_gaussians(200, rng)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est = GaussianMixtureEM(3, max_iter=2, random_state=0).fit(X)
    assert not est.converged_ and est.n_iter_ == 2


def test_random_state_may_be_a_random_state_or_a_generator(rng):
    X, _ = three_gaussians(200, rng)
    shared = np.random.RandomState(0)
    est = GaussianMixtureEM(3, n_init=1, init_params="random_from_data", max_iter=0, random_state=shared)
    first, second = est.fit(X).means_, est.fit(X).means_
    assert not np.array_equal(first, second)           # a RandomState moves on, as in scikit-learn
    gen = GaussianMixtureEM(3, random_state=np.random.default_rng(1)).fit(X)
    Xs, ys = gen.sample(40)
    assert Xs.shape == (40, 2) and ys.shape == (40,) and np.all(np.diff(ys) >= 0)


def test_emlib_imports_without_scikit_learn():
    import subprocess
    import sys
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import numpy as np, emlib\n"
            "X = np.random.default_rng(0).normal(size=(50, 2))\n"
            "emlib.em(X, emlib.init_kmeans_pp(X, 2, 0))\n"
            "try:\n    emlib.GaussianMixtureEM(2)\n"
            "except ImportError as e:\n    print('refused:', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "refused: GaussianMixtureEM needs scikit-learn" in out


# --- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings, error, words", [
    (dict(covariance_type="round"), ValueError, "covariance_type must be one of"),
    (dict(init_params="magic"), ValueError, "init_params must be one of"),
    (dict(n_components=40), ValueError, "n_samples = 30"),
    (dict(n_components=2.0), TypeError, "n_components"),
    (dict(tol=-1.0), ValueError, "tol"),
    (dict(reg_covar=-1e-6), ValueError, "reg_covar"),
    (dict(max_iter=2.5), TypeError, "max_iter"),
    (dict(n_init=0), ValueError, "n_init"),
    (dict(min_weight=1.5), ValueError, "min_weight"),
    (dict(warm_start="yes"), TypeError, "warm_start"),
    (dict(verbose_interval=0), ValueError, "verbose_interval"),
    (dict(random_state="seed"), TypeError, "random_state"),
    (dict(weights_init=[0.5, 0.6]), ValueError, "weights_init"),
    (dict(weights_init=[1.0]), ValueError, "weights_init"),
    (dict(means_init=np.zeros((2, 3))), ValueError, "means_init"),
    (dict(precisions_init=-np.ones((2, 2, 2))), ValueError, "precisions_init"),
    (dict(precisions_init=np.ones((2, 2))), ValueError, "precisions_init"),
    (dict(covariance_type="diag", precisions_init=[[1.0, 0.0], [1.0, 1.0]]), ValueError, "precisions_init"),
])
def test_bad_settings_are_named(settings, error, words, rng):
    X, _ = three_gaussians(30, rng)
    with pytest.raises(error, match=words):
        GaussianMixtureEM(**{"n_components": 2, **settings}).fit(X)


def test_old_parameter_names_are_refused_and_unfitted_use_is_explained(rng):
    X, _ = three_gaussians(30, rng)
    for old in (dict(covariance="diag"), dict(reg=1e-3), dict(init="random"), dict(rng=0)):
        with pytest.raises(TypeError, match="unexpected keyword"):
            GaussianMixtureEM(2, **old)
    with pytest.raises(NotFittedError, match="not fitted"):
        GaussianMixtureEM(2).predict(X)
    with pytest.raises(ValueError, match="sample_weight"):
        GaussianMixtureEM(2).fit(X, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="zero"):
        GaussianMixtureEM(2).fit(X, sample_weight=np.zeros(30))
    with pytest.raises(ValueError, match="NaN"):
        GaussianMixtureEM(2).fit(np.where(X > 1, np.nan, X))
    est = GaussianMixtureEM(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="3 features"):
        est.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)
    est.set_params(warm_start=True)
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(np.zeros((10, 3)) + np.arange(10)[:, None])


# --- the notebook section "Swapping GaussianMixtureEM for GaussianMixture" ----------------------------
