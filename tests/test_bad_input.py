"""Whatever arrives at a public function, only a clear ValueError or TypeError may escape."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import emlib

ALLOWED = (ValueError, TypeError)

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
tame = st.floats(-1e6, 1e6, allow_nan=False)
any_array = arrays(np.float64, array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5), elements=floats)
plain_array = arrays(np.float64, array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6), elements=tame)
junk = st.one_of(any_array, plain_array, st.none(), st.text(max_size=3), st.integers(-3, 3),
                 st.lists(st.integers(-2, 2), max_size=3), st.just([[1, 2], [3]]))
kinds = st.one_of(st.sampled_from(emlib.COVARIANCE_KINDS), st.text(max_size=5))


def call(fn, *args, **kwargs):
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except ALLOWED as exc:
        assert str(exc), f"{fn.__name__} raised {type(exc).__name__} without a message"
        return None


settings.register_profile("bad-input", parent=settings.get_profile("course"), max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@settings.get_profile("bad-input")
@given(w=junk, mu=junk, cov=junk)
def test_mixture_constructor_only_raises_clear_errors(w, mu, cov):
    call(emlib.Mixture, w, mu, cov)


@st.composite
def problem(draw):
    n = draw(st.integers(0, 12))
    d = draw(st.integers(1, 3))
    m = draw(st.integers(1, 4))
    X = draw(st.one_of(arrays(np.float64, (n, d), elements=tame), arrays(np.float64, (n, d), elements=floats), junk))
    mu = draw(arrays(np.float64, (m, d), elements=st.floats(-10, 10)))
    var = draw(arrays(np.float64, (m,), elements=st.floats(1e-6, 1e3)))
    mix = emlib.Mixture(np.full(m, 1 / m), mu, var[:, None, None] * np.eye(d))
    return X, mix


@settings.get_profile("bad-input")
@given(p=problem(), kind=kinds, max_iter=st.one_of(st.integers(-2, 5), st.floats(-1, 3), st.none()),
       tol=st.one_of(st.floats(-1, 1), st.none()), reg=st.one_of(st.floats(-1, 1), st.text(max_size=2)),
       min_weight=st.one_of(st.none(), st.floats(-0.5, 1.5)), fix=st.booleans())
def test_em_only_raises_clear_errors(p, kind, max_iter, tol, reg, min_weight, fix):
    X, mix = p
    result = call(emlib.em, X, mix, covariance=kind, max_iter=max_iter, tol=tol, reg=reg,
                  min_weight=min_weight, fix_weights=fix)
    event("em ran" if result is not None else "em refused")
    if result is not None:
        assert np.all(np.isfinite(result.loglik))
        assert np.all(np.isfinite(result.mixture.means))


@settings.get_profile("bad-input")
@given(p=problem(), resp=junk, kind=kinds)
def test_steps_only_raise_clear_errors(p, resp, kind):
    X, mix = p
    out = call(emlib.e_step, X, mix)
    if out is not None:
        assert np.all(np.isfinite(out[0])) and np.isfinite(out[1])
    call(emlib.m_step, X, resp, covariance=kind)
    call(emlib.update_means, X, resp)
    call(emlib.update_weights, resp)
    call(emlib.update_covariances, X, resp, mix.means, kind)


@settings.get_profile("bad-input")
@given(p=problem(), m=st.one_of(st.integers(-1, 14), st.floats(0, 3), st.text(max_size=2)),
       labels=junk, seed=st.one_of(st.integers(0, 10), st.text(max_size=2), st.floats(0, 1)))
def test_inits_kmeans_and_selection_only_raise_clear_errors(p, m, labels, seed):
    X, mix = p
    call(emlib.init_from_data, X, m, seed)
    call(emlib.init_kmeans_pp, X, m, seed)
    call(emlib.init_from_labels, X, labels)
    call(emlib.kmeans, X, mix.means)
    call(emlib.bic, X, mix)
    call(emlib.n_parameters, m, 2)
    call(emlib.trim, mix, m)
    call(mix.sample, m, seed)
    call(mix.logpdf, X)
    est = emlib.GaussianMixtureEM(m, random_state=seed, max_iter=5)
    call(est.fit, X)


def test_a_zero_total_weight_component_never_gives_nan():
    X = np.array([[0.0], [0.1], [5.0]])
    init = emlib.Mixture.univariate([0.5, 0.25, 0.25], [0.0, 5.0, 1e9], [1.0, 1.0, 1e-6])
    with pytest.raises(ValueError, match="reg.*min_weight|min_weight"):
        emlib.em(X, init)
    result = emlib.em(X, init, min_weight=1e-3)
    assert result.mixture.n_components == 2 and np.all(np.isfinite(result.loglik))
