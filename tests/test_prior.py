"""MAP-EM (emlib.prior): the M-step under a Dirichlet / inverse-Wishart prior, and the loop that climbs the posterior."""

import numpy as np
import pytest
from scipy.optimize import minimize

import emlib
from emlib.prior import Prior
from emlib.steps import expected_complete_loglik, m_step

KINDS = ("full", "diag", "spherical", "tied")


def _tiny(seed=0, n=12, d=2, m=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 0.5] + rng.integers(0, 3, size=(n, 1))
    resp = rng.dirichlet(np.ones(m), size=n)
    return X, resp


def _mixture_from_vector(v, m, d, kind):
    """theta from an unconstrained vector: softmax weights, free means, Cholesky factors with log diagonals."""
    logits, v = np.append(v[:m - 1], 0.0), v[m - 1:]
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    means, v = v[:m * d].reshape(m, d), v[m * d:]
    if kind == "full" or kind == "tied":
        q = d * (d + 1) // 2
        blocks = m if kind == "full" else 1
        L = np.zeros((blocks, d, d))
        ia, ib = np.tril_indices(d)
        L[:, ia, ib] = v[:blocks * q].reshape(blocks, q)
        idx = np.arange(d)
        L[:, idx, idx] = np.exp(L[:, idx, idx])
        cov = L @ np.swapaxes(L, 1, 2)
        cov = np.broadcast_to(cov, (m, d, d)).copy()
    elif kind == "diag":
        cov = np.exp(v[:m * d]).reshape(m, d)[:, :, None] * np.eye(d)
    else:
        cov = np.exp(v[:m])[:, None, None] * np.eye(d)
    return emlib.Mixture(weights, means, cov, kind)


def _n_cov_params(m, d, kind):
    return {"full": m * d * (d + 1) // 2, "tied": d * (d + 1) // 2, "diag": m * d, "spherical": m}[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_map_m_step_matches_brute_force_maximisation_of_the_log_posterior(kind):
    X, resp = _tiny()
    n, d = X.shape
    m = resp.shape[1]
    prior = Prior(alpha=2.5, scale=np.array([[0.6, 0.1], [0.1, 0.3]]), dof=3.0)

    def negative(v):
        try:
            mix = _mixture_from_vector(v, m, d, kind)
        except ValueError:
            return 1e10
        return -(expected_complete_loglik(X, resp, mix) + prior.log_density(mix))

    start = np.concatenate([np.zeros(m - 1), X[:m].ravel(), np.zeros(_n_cov_params(m, d, kind))])
    best = minimize(negative, start, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
    brute = _mixture_from_vector(best.x, m, d, kind)
    mapped = m_step(X, resp, covariance=kind, reg=0.0, prior=prior)
    np.testing.assert_allclose(mapped.weights, brute.weights, atol=1e-5)
    np.testing.assert_allclose(mapped.means, brute.means, atol=1e-5)
    np.testing.assert_allclose(mapped.covariances, brute.covariances, atol=1e-5)
    assert -negative_at(mapped, X, resp, prior) >= -best.fun - 1e-9


def negative_at(mix, X, resp, prior):
    return -(expected_complete_loglik(X, resp, mix) + prior.log_density(mix))


def test_map_formulas_in_closed_form():
    X, resp = _tiny(1)
    prior = Prior(alpha=3.0, scale=0.5 * np.eye(2), dof=4.0)
    mix = m_step(X, resp, reg=0.0, prior=prior)
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, None]
    m, d = resp.shape[1], X.shape[1]
    np.testing.assert_allclose(mix.weights, (nk + 2.0) / (X.shape[0] + m * 2.0))
    for k in range(m):
        diff = X - means[k]
        S = (resp[:, k, None] * diff).T @ diff
        np.testing.assert_allclose(mix.covariances[k], (S + 0.5 * np.eye(d)) / (nk[k] + 4.0 + d + 1))


def test_an_empty_prior_changes_nothing():
    X, resp = _tiny(2)
    for kind in KINDS:
        a = m_step(X, resp, covariance=kind)
        b = m_step(X, resp, covariance=kind, prior=Prior())
        np.testing.assert_allclose(a.covariances, b.covariances)
        np.testing.assert_allclose(a.weights, b.weights)


def test_the_prior_puts_a_floor_under_every_covariance():
    X, resp = _tiny(3)
    resp = np.zeros_like(resp)
    resp[:, 0] = 1.0
    resp[0] = [0.0, 1.0, 0.0]                  # component 1 owns one point only
    resp[1] = [0.0, 0.0, 1.0]                  # component 2 too: ML would give Sigma = 0
    prior = Prior(scale=0.2 * np.eye(2), dof=4.0)
    mix = m_step(X, resp, reg=0.0, prior=prior)
    nk = resp.sum(axis=0)
    for k in range(3):
        floor = prior.scale / (nk[k] + prior.dof + 3)
        assert np.linalg.eigvalsh(mix.covariances[k] - floor).min() >= -1e-12
    with pytest.raises(ValueError, match="positive definite"):
        m_step(X, resp, reg=0.0)


# --- the collapse of notebook 10b ---------------------------------------------------------------------

def collapse_example():
    """Notebook 10b's data and start: two clusters, one outlier, a component started on the outlier."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal([0.0, 0.0], 1.0, (150, 2)), rng.normal([5.0, 3.0], [1.0, 0.7], (150, 2)),
                   [[2.5, -5.0]]])
    init = emlib.Mixture([0.45, 0.45, 0.1], [[0.5, 0.5], [4.5, 2.5], [2.5, -5.0]],
                         [np.eye(2), np.eye(2), 2.0 * np.eye(2)])
    return X, init


def test_ml_em_collapses_on_the_outlier_and_map_em_does_not():
    X, init = collapse_example()
    seen = []
    with pytest.raises(ValueError, match="positive definite"):
        emlib.em(X, init, reg=0.0, max_iter=100, tol=0.0,
                 callback=lambda t, mix, ll: seen.append((ll, np.linalg.eigvalsh(mix.covariances[2]).min())))
    loglik, smallest = np.array(seen).T
    assert len(seen) == 6                                   # the notebook's six iterates before the crash
    assert np.all(np.diff(loglik) > 0) and np.all(np.diff(smallest) < 0)
    assert smallest[-1] < 1e-10
    prior = Prior.from_data(X, 3)
    fit = emlib.em(X, init, reg=0.0, max_iter=500, tol=1e-10, prior=prior)
    assert fit.converged
    assert np.linalg.eigvalsh(fit.mixture.covariances[2]).min() > 0.01
    assert np.all(np.diff(fit.log_posterior) >= -1e-9 * np.abs(fit.log_posterior[1:]))


def test_reg_covar_is_the_map_form_with_a_scale_proportional_to_n_k_and_no_pseudo_count():
    X, resp = _tiny(4)
    lam = 0.05
    with_reg = m_step(X, resp, reg=lam)
    nk = resp.sum(axis=0)
    plain = m_step(X, resp, reg=0.0)
    S = plain.covariances * nk[:, None, None]
    np.testing.assert_allclose(with_reg.covariances, (S + lam * nk[:, None, None] * np.eye(2)) / nk[:, None, None])


@pytest.mark.parametrize("kind", KINDS)
def test_log_posterior_never_decreases(kind):
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(3, 0.5, (40, 2))])
    prior = Prior.from_data(X, 4, alpha=2.0)
    init = emlib.init_from_data(X, 4, rng=1).as_kind(kind)
    fit = emlib.em(X, init, covariance=kind, reg=0.0, prior=prior, max_iter=200, tol=0.0)
    steps = np.diff(fit.log_posterior)
    assert steps.min() >= -1e-9 * np.abs(fit.log_posterior).max()
    assert fit.log_prior.shape == fit.loglik.shape == (fit.n_iter + 1,)
    np.testing.assert_allclose(fit.log_prior[-1], prior.log_density(fit.mixture))


def test_em_missing_with_a_prior_equals_em_when_nothing_is_missing():
    X, init = collapse_example()
    prior = Prior.from_data(X, 3, alpha=1.5)
    a = emlib.em(X, init, reg=0.0, prior=prior, max_iter=30, tol=0.0)
    b = emlib.em_missing(X, init, reg=0.0, prior=prior, max_iter=30, tol=0.0)
    np.testing.assert_allclose(a.mixture.covariances, b.mixture.covariances, atol=1e-10)
    np.testing.assert_allclose(a.log_posterior, b.log_posterior, rtol=1e-10)


def test_map_em_stops_on_the_change_of_the_log_posterior_and_keeps_its_prior():
    X, init = collapse_example()
    prior = Prior.from_data(X, 3, alpha=1.5)
    full = emlib.em(X, init, reg=0.0, prior=prior, max_iter=300, tol=0.0)
    tol, n = 1e-2, X.shape[0]
    first_below = {name: int(np.argmax(np.abs(np.diff(curve)) / n < tol)) + 1
                   for name, curve in (("log_posterior", full.log_posterior), ("loglik", full.loglik))}
    assert first_below["log_posterior"] != first_below["loglik"]            # the two rules stop at different t
    fit = emlib.em(X, init, reg=0.0, prior=prior, max_iter=300, tol=tol)
    assert fit.converged and fit.n_iter == first_below["log_posterior"]
    assert fit.prior is prior
    plain = emlib.em(X, init, max_iter=5)
    assert plain.prior is None and plain.log_prior is None                 # no prior: nothing to add
    np.testing.assert_array_equal(plain.log_posterior, plain.loglik)


def test_from_data_is_fraley_raftery_default():
    X, _ = collapse_example()
    prior = Prior.from_data(X, 3)
    np.testing.assert_allclose(prior.scale, np.cov(X, rowvar=False) / 3.0)
    assert prior.dof == 4.0 and prior.alpha == 1.0


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": 0.5}, "alpha must be >= 1"),
    ({"alpha": "2"}, "alpha must be a real number"),
    ({"scale": np.ones((2, 3))}, "square"),
    ({"scale": [[1.0, 0.5], [0.2, 1.0]]}, "symmetric"),
    ({"scale": [[1.0, 2.0], [2.0, 1.0]]}, "positive definite"),
    ({"scale": np.eye(2), "dof": 0.5}, "dof must be > d - 1"),
    ({"dof": 4.0}, "dof was given without scale"),
    ({"scale": [[np.nan, 0], [0, 1]]}, "NaN"),
])
def test_bad_priors_are_refused(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Prior(**kwargs)


def test_em_refuses_a_prior_of_the_wrong_size_or_type():
    X, init = collapse_example()
    with pytest.raises(ValueError, match=r"prior.scale must have shape \(d, d\) = \(2, 2\)"):
        emlib.em(X, init, prior=Prior(scale=np.eye(3)))
    with pytest.raises(TypeError, match="prior must be an emlib.Prior"):
        emlib.em(X, init, prior={"alpha": 2})
    with pytest.raises(TypeError, match="prior must be an emlib.Prior"):
        emlib.m_step(X, np.full((X.shape[0], 3), 1 / 3), prior=0.1)


# --- the numbers notebook 10b prints and its prose reads --------------------------------------------

def test_notebook_10b_the_likelihood_has_no_maximum_but_the_posterior_has():
    X, _ = collapse_example()
    n = X.shape[0]
    prior = Prior.from_data(X, 3)
    two = emlib.em(X[:-1], emlib.init_kmeans_pp(X[:-1], 2, rng=1), reg=0.0).mixture

    def third(sigma):
        return emlib.Mixture(np.append(two.weights * (n - 1) / n, 1 / n), np.vstack([two.means, X[-1]]),
                             np.concatenate([two.covariances, [sigma**2 * np.eye(2)]]))

    ll = {s: third(s).loglik(X) for s in (1e-2, 1e-4, 1e-8)}
    assert ll[1e-4] - ll[1e-2] == pytest.approx(2 * np.log(100), abs=0.05)       # d ln 100 per factor 100
    assert ll[1e-8] > ll[1e-4] > ll[1e-2]
    sigmas = np.logspace(-8, 1, 181)
    post = [third(s).loglik(X) + prior.log_density(third(s)) for s in sigmas]
    assert 0.3 < sigmas[int(np.argmax(post))] < 0.6                            # printed 0.447


def test_notebook_10b_map_em_keeps_the_outlier_component_at_its_floor():
    X, init = collapse_example()
    prior = Prior.from_data(X, 3)
    fit = emlib.em(X, init, reg=0.0, prior=prior, max_iter=500, tol=1e-10)
    assert fit.converged and fit.n_iter < 20
    assert fit.mixture.weights[2] * X.shape[0] == pytest.approx(1.0, abs=0.01)
    floor = prior.scale / (1 + prior.dof + 2 + 1)
    sd = np.sqrt(np.linalg.eigvalsh(fit.mixture.covariances[2])[0])
    assert sd == pytest.approx(np.sqrt(np.linalg.eigvalsh(floor)[0]), rel=0.02)    # printed 0.192 twice
    assert np.diff(fit.log_posterior).min() >= -1e-9


def test_notebook_10b_reg_covar_is_a_floor_of_sqrt_lambda_and_l_grows_as_it_shrinks():
    X, init = collapse_example()
    ls = []
    for lam in (1e-2, 1e-4, 1e-6, 1e-8):
        fit = emlib.em(X, init, reg=lam, max_iter=500, tol=1e-10).mixture
        assert fit.weights[2] * X.shape[0] == pytest.approx(1.0, abs=0.01)
        assert np.sqrt(np.linalg.eigvalsh(fit.covariances[2])[0]) == pytest.approx(np.sqrt(lam), rel=0.02)
        ls.append(fit.loglik(X))
    np.testing.assert_allclose(np.diff(ls), np.log(100), atol=0.1)             # (d/2) ln 100 = 4.6


def test_notebook_10b_the_prior_grows_no_needles_on_the_annulus():
    from emlib.datasets import annulus

    ring = annulus(900, np.random.default_rng(10))
    ring_new = annulus(5000, np.random.default_rng(11))
    start = emlib.init_from_data(ring, 30, np.random.default_rng(3), variance_scale=4.0)
    ml = emlib.em(ring, start, max_iter=500, tol=1e-7).mixture
    mp = emlib.em(ring, start, reg=0.0, prior=Prior.from_data(ring, 30), max_iter=500, tol=1e-7).mixture
    sd_ml = np.sqrt(np.linalg.eigvalsh(ml.covariances)[:, 0])
    sd_mp = np.sqrt(np.linalg.eigvalsh(mp.covariances)[:, 0])
    assert np.sum(sd_ml < 0.01) == 11 and np.sum(sd_mp < 0.01) == 0
    assert ml.loglik(ring) > mp.loglik(ring)                                   # ML wins on training data
    assert mp.loglik(ring_new) / 5000 == pytest.approx(-0.500, abs=0.01)
    assert ml.loglik(ring_new) / 5000 == pytest.approx(-0.573, abs=0.01)


# --- whatever arrives, only a clear ValueError or TypeError -------------------------------------------

from hypothesis import given, settings, strategies as st                      # noqa: E402
from hypothesis.extra.numpy import array_shapes, arrays                         # noqa: E402

_junk = st.one_of(arrays(np.float64, array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
                         elements=st.floats(allow_nan=True, allow_infinity=True)),
                  st.none(), st.text(max_size=3), st.integers(-3, 3), st.just([[1, 2], [3]]))


@settings(max_examples=80, deadline=None)
@given(alpha=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=2), st.none()),
       scale=_junk, dof=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=2)))
def test_prior_constructor_only_raises_clear_errors(alpha, scale, dof):
    try:
        prior = Prior(alpha=alpha, scale=scale, dof=dof)
    except (ValueError, TypeError) as exc:
        assert str(exc)
        return
    assert prior.alpha >= 1
    if prior.scale is not None:
        assert np.linalg.eigvalsh(prior.scale).min() > 0 and prior.dof > prior.scale.shape[0] - 1
