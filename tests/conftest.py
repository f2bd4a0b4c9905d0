import numpy as np
import pytest

from emlib import Mixture


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
