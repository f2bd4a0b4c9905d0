"""Random inputs for the hidden grading cases: mixtures, covariances, responsibilities, far points.

Every function takes the numpy Generator of one submission, so the grader draws a fresh set of
cases per submission from a seed the student's kernel never sees.
"""

from __future__ import annotations

import numpy as np

from ...mixture import Mixture


def spd(rng, d: int, scale: float = 1.0) -> np.ndarray:
    """A random symmetric positive definite (d, d) matrix, well conditioned, of size about ``scale``."""
    A = rng.normal(size=(d, d))
    return scale * (A @ A.T / d + 0.4 * np.eye(d))


def weights(rng, m: int, floor: float = 0.1) -> np.ndarray:
    """Random mixing weights of shape (m,), each at least ``floor`` / m... and summing to one."""
    w = rng.dirichlet(np.full(m, 3.0))
    return (floor + (1 - floor * m) * w) if floor * m < 1 else np.full(m, 1.0 / m)


def mixture(rng, m: int, d: int, spread: float = 3.0) -> Mixture:
    """A random Mixture of m components in d dimensions, means about ``spread`` apart."""
    return Mixture(weights(rng, m), rng.normal(scale=spread, size=(m, d)),
                   np.stack([spd(rng, d, rng.uniform(0.3, 1.5)) for _ in range(m)]))


def points(rng, mix: Mixture, n: int) -> np.ndarray:
    """n points drawn from ``mix`` (an (n, d) array)."""
    return mix.sample(n, rng)[0]


def far_point(rng, mix: Mixture, distance: float = 60.0) -> np.ndarray:
    """A point about ``distance`` standard deviations from every mean (every density underflows)."""
    d = mix.n_features
    direction = rng.normal(size=d)
    direction /= np.linalg.norm(direction)
    sd = float(np.sqrt(mix.covariances.diagonal(axis1=1, axis2=2).max()))
    return mix.means.mean(axis=0) + direction * (distance * sd + np.abs(mix.means).max())


def responsibilities(rng, n: int, m: int) -> np.ndarray:
    """Random soft responsibilities of shape (n, m), rows summing to one."""
    return rng.dirichlet(np.ones(m), size=n)


def hard_responsibilities(rng, n: int, m: int) -> np.ndarray:
    """0/1 responsibilities of shape (n, m), every component with at least two samples."""
    labels = np.concatenate([np.repeat(np.arange(m), 2), rng.integers(0, m, n - 2 * m)])
    rng.shuffle(labels)
    return np.eye(m)[labels]
