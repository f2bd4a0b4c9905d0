"""emlib: the EM lecture's formulas for Gaussian mixtures, exact, fast and safe."""

from .em import EMResult, em
from .estimator import GaussianMixtureEM
from .gradient import GradientResult, gradient_ascent
from .init import init_from_data, init_from_labels, init_kmeans_pp, kmeans_pp_indices
from .kmeans import KMeansResult, kmeans, kmeans_limit_mixture
from .missing import em_missing, impute
from .mixture import Mixture, logsumexp_rows
from .selection import aic, bic, n_parameters, trim
from .steps import e_step, expected_complete_loglik, m_step, update_covariances, update_means, update_weights
from ._validation import COVARIANCE_KINDS

# The course term this copy belongs to: YEAR.TERM (1 = spring, 2 = autumn); pyproject.toml reads it from here.
__version__ = "2027.1"

_SUBMODULES = ("apps", "course", "datasets")


def __getattr__(name):
    """Import the heavier submodules (Matplotlib, ipywidgets) only when first used: ``emlib.course.plotting``."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'emlib' has no attribute {name!r}")

__all__ = [
    "COVARIANCE_KINDS", "EMResult", "GaussianMixtureEM", "GradientResult", "KMeansResult", "Mixture",
    "aic", "bic", "e_step", "em", "em_missing", "expected_complete_loglik", "gradient_ascent", "impute", "init_from_data", "init_from_labels",
    "init_kmeans_pp", "kmeans", "kmeans_limit_mixture", "kmeans_pp_indices", "logsumexp_rows",
    "m_step", "n_parameters", "trim", "update_covariances", "update_means", "update_weights",
]
