"""Data sets of the course: generated ones, and small real ones shipped with emlib.

Nothing is downloaded: every set is either generated from a seed or read
from a file inside this package (see ``README.md`` in this folder for the
provenance of each file).
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from .._validation import check_float, check_int, check_rng
from ..mixture import Mixture
from .mri import MNI152, TISSUES, load_mni152  # nilearn is imported only when load_mni152 is called

__all__ = ["FAITHFUL_COLUMNS", "MNI152", "THREE_GAUSSIANS", "TISSUES", "annulus", "crescents", "load_mni152",
           "old_faithful", "three_gaussians"]

FAITHFUL_COLUMNS = ("eruptions", "waiting")


def old_faithful() -> np.ndarray:
    """Old Faithful geyser eruptions, shape (272, 2).

    Columns: eruption duration (minutes), waiting time to the next eruption
    (minutes); see ``FAITHFUL_COLUMNS``. Source: Hardle (1991), as R's
    ``datasets::faithful``.
    """
    with resources.files(__package__).joinpath("old_faithful.csv").open("r") as fh:
        return np.loadtxt(fh, delimiter=",", comments="#", skiprows=6)


def annulus(n: int = 900, rng=None, *, radius: float = 1.0, width: float = 0.2) -> np.ndarray:
    """n points on a ring (Gutierrez-Osuna's EM example), shape (n, 2).

    The angle is uniform on [0, 2 pi); the radius uniform on
    [radius - width / 2, radius + width / 2], so the density in the plane
    falls as 1 / r across the ring (not uniform in area: the inner edge is
    denser). No Gaussian mixture with few
    components fits it well: the classic test of EM with many components and
    trimming.
    """
    n = check_int(n, "n", minimum=1)
    rng = check_rng(rng)
    radius = check_float(radius, "radius", minimum=0.0, strict=True)
    width = check_float(width, "width", minimum=0.0)
    if width >= 2 * radius:
        raise ValueError(f"width must be < 2 * radius = {2 * radius}, got {width}")
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    r = rng.uniform(radius - width / 2, radius + width / 2, n)
    return np.column_stack([r * np.cos(angle), r * np.sin(angle)])


THREE_GAUSSIANS = Mixture(
    weights=[0.5, 0.3, 0.2],
    means=[[0.0, 0.0], [4.0, 3.0], [-3.0, 4.0]],
    covariances=[[[2.0, 0.8], [0.8, 1.0]], [[1.0, -0.6], [-0.6, 1.5]], [[0.6, 0.0], [0.0, 0.6]]],
)
"""The true mixture behind :func:`three_gaussians`: three overlapping 2-D Gaussians."""


def three_gaussians(n: int = 500, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D demo set drawn from :data:`THREE_GAUSSIANS`.

    Returns
    -------
    X : array of shape (n, 2)
    z : array of shape (n,), the true component of each sample
    """
    return THREE_GAUSSIANS.sample(n, rng)


def crescents(n: int = 400, rng=None, *, noise: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles of radius 1 ("half moons") with Gaussian noise: clusters that are not Gaussian.

    Each sample picks its crescent with probability 1/2 and an angle t uniform on [0, pi); the upper crescent
    is (cos t, sin t), the lower one (1 - cos t, 0.5 - sin t); then noise * N(0, I) is added.

    Parameters
    ----------
    n : int >= 1, the number of samples
    rng : Generator, int seed or None
    noise : float >= 0, the standard deviation of the noise in each coordinate

    Returns
    -------
    X : array of shape (n, 2)
    z : int array of shape (n,), the crescent of each sample (0 upper, 1 lower)
    """
    n = check_int(n, "n", minimum=1)
    rng = check_rng(rng)
    noise = check_float(noise, "noise", minimum=0.0)
    label = rng.integers(0, 2, n)
    t = rng.uniform(0.0, np.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    points = np.where(label[:, None] == 0, upper, lower)
    return points + noise * rng.standard_normal((n, 2)), label
