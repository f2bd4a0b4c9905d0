"""Checks at the door: every public function validates its input here.

Each helper raises ``ValueError`` (or ``TypeError``) whose message names the
argument, says what was expected and what came, so that nothing deeper in the
library has to guess.
"""

from __future__ import annotations

import numbers

import numpy as np

COVARIANCE_KINDS = ("full", "diag", "spherical", "tied", "fixed")
"""The covariance kinds understood by :func:`emlib.m_step` and :func:`emlib.em`."""


def describe_value(value) -> str:
    """A short description of a value for an error message: an array's shape and dtype, else type and repr."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def as_float_array(value, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a float64 array of the given number of dimensions.

    Refuses strings, objects, complex numbers and ragged input with a message
    that names ``name``.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got {describe_value(value)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers: {exc}") from None
    if arr.dtype == object or arr.dtype.kind in "USVMm":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must hold real numbers, got complex dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in dims:
        want = " or ".join(str(d) for d in dims)
        raise ValueError(f"{name} must be {want}-dimensional, got shape {arr.shape}")
    return arr


def check_finite(arr: np.ndarray, name: str, hint: str = "") -> None:
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); expected finite numbers.{hint}")


MISSING_HINT = (
    " If NaN marks missing features, use emlib.em_missing (EM with missing"
    " features) or drop the incomplete rows."
)


def check_data(X, name: str = "X", *, allow_1d: bool = True) -> np.ndarray:
    """Validate a data matrix and return it as float64 of shape (n, d).

    A 1-D input of shape (n,) is read as n samples of one feature.
    """
    X = as_float_array(X, name, (1, 2) if allow_1d else 2)
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must have at least one sample and one feature, got shape {X.shape}")
    check_finite(X, name, MISSING_HINT)
    return X


def check_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    """Validate optional per-sample weights (counts of a histogram, say)."""
    if sample_weight is None:
        return None
    w = as_float_array(sample_weight, "sample_weight", 1)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), one weight per sample, got {w.shape}")
    check_finite(w, "sample_weight")
    if np.any(w < 0):
        raise ValueError("sample_weight must be non-negative")
    if not w.sum() > 0:
        raise ValueError("sample_weight must have a positive sum; got weights that are all zero")
    return w


def check_responsibilities(resp, n: int | None = None, name: str = "resp") -> np.ndarray:
    """Validate an (n, m) matrix of responsibilities: entries in [0, 1], rows summing to 1."""
    resp = as_float_array(resp, name, 2)
    if n is not None and resp.shape[0] != n:
        raise ValueError(f"{name} must have one row per sample ({n}), got shape {resp.shape}")
    if resp.shape[1] < 1:
        raise ValueError(f"{name} must have at least one column (component), got shape {resp.shape}")
    if resp.shape[0] < 1:
        raise ValueError(f"{name} must have at least one row (sample), got shape {resp.shape}")
    check_finite(resp, name)
    if np.any(resp < -1e-12) or np.any(resp > 1 + 1e-12):
        raise ValueError(f"{name} must hold probabilities in [0, 1]")
    worst = float(np.max(np.abs(resp.sum(axis=1) - 1.0)))
    if worst > 1e-6:
        raise ValueError(f"each row of {name} must sum to 1 (a distribution over components); worst row is off by {worst:.3g}")
    return resp


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {describe_value(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(value, name: str, *, minimum: float | None = None, allow_none: bool = False,
                strict: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe_value(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        op = ">" if strict else ">="
        raise ValueError(f"{name} must be {op} {minimum}, got {value}")
    return value


def check_covariance_kind(kind, name: str = "covariance", allowed: tuple[str, ...] = COVARIANCE_KINDS) -> str:
    """The covariance kind, one of ``allowed`` (default: every kind emlib fits)."""
    if not isinstance(kind, str) or kind not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {kind!r}")
    return kind


def check_rng(rng) -> np.random.Generator:
    """Accept a Generator, or an int seed / None (passed to default_rng)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got {describe_value(rng)}")


def check_mixture(mixture, d: int | None = None, name: str = "mixture", hint: str = ""):
    """An :class:`emlib.Mixture` (with ``d`` features, when given); ``hint`` says where to get one."""
    from .mixture import Mixture                      # mixture.py validates with this module

    if not isinstance(mixture, Mixture):
        where = f" (e.g. from {hint})" if hint else ""
        raise TypeError(f"{name} must be an emlib.Mixture{where}, got {type(mixture).__name__}")
    if d is not None and mixture.n_features != d:
        raise ValueError(f"{name} has {mixture.n_features} feature(s) but X has {d}")
    return mixture


def check_labels(labels, name: str) -> np.ndarray:
    """Non-negative integer labels of any shape, returned flat as int64."""
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be non-negative integers (select the samples to score first, "
                         f"e.g. labels[mask]), got minimum {arr.min()}")
    return arr.ravel().astype(np.int64, copy=False)


def check_weights(weights, name: str = "weights", what: str = "component") -> np.ndarray:
    """Mixing weights rho_k, shape (m,): at least one, finite, non-negative, summing to 1 (within 1e-8)."""
    w = as_float_array(weights, name, 1)
    if w.shape[0] < 1:
        raise ValueError(f"{name} must have at least one entry (one {what}), got shape (0,)")
    check_finite(w, name)
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative, got {w}")
    if abs(w.sum() - 1.0) > 1e-8:
        raise ValueError(f"{name} must sum to 1 (within 1e-8), got sum {w.sum():.12g}")
    return w


def is_dask_array(X) -> bool:
    """True for a dask.array.Array, checked without importing Dask (``import emlib`` never imports it)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "to_delayed") and hasattr(X, "chunks")


def freeze(obj, **arrays) -> None:
    """Store read-only float64 copies of ``arrays`` on a frozen dataclass ``obj`` (its validated fields)."""
    for name, value in arrays.items():
        value = np.array(value, dtype=np.float64, copy=True)
        value.flags.writeable = False
        object.__setattr__(obj, name, value)
