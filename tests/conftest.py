import os

import numpy as np
import pytest
from hypothesis import settings

from emlib import Mixture

# Property tests draw the same examples on every run: CI must not be a lottery.
settings.register_profile("course", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("course")

if "MUTANT_UNDER_TEST" in os.environ:
    # mutmut (make mutate) forks one child per mutant from a process that has already run the tests: a
    # thread pool that Dask started there does not survive the fork, and the child's compute() waits on
    # it for ever. Under mutmut, Dask computes in the calling thread; make test keeps the real scheduler.
    import dask

    dask.config.set(scheduler="synchronous")


def random_mixture(rng, m, d, *, spread=3.0):
    """A random mixture with well-conditioned covariances (shapes (m,), (m, d), (m, d, d))."""
    w = rng.dirichlet(np.ones(m) * 2)
    mu = rng.normal(scale=spread, size=(m, d))
    A = rng.normal(size=(m, d, d))
    cov = A @ np.swapaxes(A, 1, 2) / d + 0.3 * np.eye(d)
    return Mixture(w, mu, cov)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def sklearn_precisions(mix, kind):
    P = mix.precisions
    return {"full": P, "diag": np.diagonal(P, axis1=1, axis2=2), "spherical": P[:, 0, 0], "tied": P[0]}[kind]


def sklearn_covariances(gm, kind, m, d):
    c = gm.covariances_
    if kind == "diag":
        return c[:, :, None] * np.eye(d)
    if kind == "spherical":
        return c[:, None, None] * np.eye(d)
    if kind == "tied":
        return np.broadcast_to(c, (m, d, d))
    return c


# Arguments every EM loop (em, em_missing) refuses, with the error and the words it must say.
BAD_EM_ARGUMENTS = [
    (dict(covariance="round"), ValueError, "covariance must be one of"),
    (dict(max_iter=-1), ValueError, "max_iter"),
    (dict(max_iter=2.5), TypeError, "max_iter"),
    (dict(tol=-1.0), ValueError, "tol"),
    (dict(reg=-1e-6), ValueError, "reg"),
    (dict(min_weight=1.5), ValueError, "min_weight"),
    (dict(sample_weight=np.ones(3)), ValueError, "sample_weight"),
    (dict(callback=3), TypeError, "callback"),
]
