"""emlib: the EM lecture's formulas for Gaussian mixtures, exact, fast and safe."""

from .em import EMResult, em
from .gradient import GradientResult, gradient_ascent
from .init import init_from_data, init_from_labels, init_kmeans_pp, kmeans_pp_indices
from .kmeans import KMeansResult, kmeans, kmeans_limit_mixture
from .missing import em_missing, impute
from .mixture import Mixture, logsumexp_rows
from .prior import Prior
from .scoring import match_components, match_labels, matched_accuracy, overlap_counts
from .selection import aic, bic, n_parameters, trim
from .steps import (
    e_step,
    expected_complete_loglik,
    free_energy,
    m_step,
    responsibility_entropy,
    update_covariances,
    update_means,
    update_weights,
)
from ._validation import COVARIANCE_KINDS

# The course term this copy belongs to: YEAR.TERM (1 = spring, 2 = autumn); pyproject.toml reads it from here.
__version__ = "2027.1"

_SUBMODULES = ("apps", "course", "datasets")


def __getattr__(name):
    """Load the layers above the core (``emlib.course``, ``emlib.apps``) and the scikit-learn estimator
    (scikit-learn is slow to import) only when first used."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name == "GaussianMixtureEM":
        return importlib.import_module(f"{__name__}.estimator").GaussianMixtureEM
    raise AttributeError(f"module 'emlib' has no attribute {name!r}")


__all__ = [
    "COVARIANCE_KINDS", "EMResult", "GaussianMixtureEM", "GradientResult", "KMeansResult", "Mixture", "Prior",
    "aic", "bic", "e_step", "em", "em_missing", "expected_complete_loglik", "free_energy", "gradient_ascent",
    "impute", "init_from_data", "init_from_labels", "init_kmeans_pp", "kmeans", "kmeans_limit_mixture",
    "kmeans_pp_indices", "logsumexp_rows", "m_step", "match_components", "match_labels", "matched_accuracy",
    "n_parameters", "overlap_counts", "responsibility_entropy", "trim", "update_covariances", "update_means",
    "update_weights",
]
