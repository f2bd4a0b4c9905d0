"""Plain data between the grader and the student's kernel: JSON for structure, ``.npz`` for arrays.

Nothing here can execute code when it is read: arrays are loaded with
``allow_pickle=False`` (an object array is refused), JSON carries only numbers,
strings, lists and dicts, and every size is capped. Both sides use this module:
the grader to send the inputs and read the answers, the kernel to read the
inputs and write the answers.

Encoding of one value (a JSON object with a type tag ``t``)::

    {"t": "none"} {"t": "bool", "v": true} {"t": "int", "v": 3} {"t": "float", "v": "0.5"}
    {"t": "str", "v": "..."}  {"t": "array", "k": "a7"}  (the array is entry a7 of the .npz)
    {"t": "tuple" | "list", "items": [...]}
    {"t": "rng", "state": {...}}                 a numpy Generator (PCG64 state)
    {"t": "object", "cls": "module.Class", "attrs": {...}, "repr": "..."}
        a Mixture, a fitted GaussianMixture or anything else: its class name and a few
        numeric attributes (weights, means, covariances; means_, weights_, ...)
"""

from __future__ import annotations

import json
import os
import stat
import zipfile

import numpy as np

MAX_JSON_BYTES = 4_000_000
MAX_NPZ_BYTES = 200_000_000
MAX_ARRAY_ELEMENTS = 5_000_000
MAX_ITEMS = 64
MAX_DEPTH = 4
OBJECT_ATTRS = ("weights", "means", "covariances", "weights_", "means_", "covariances_", "precisions_",
                "covariance_type", "converged_", "n_iter_", "n_components")


class WireError(ValueError):
    """A file that is not what this module writes (too large, malformed, or an object array)."""


class Encoder:
    """Collects arrays while values are turned into JSON-able structures."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            return {"t": "object", "cls": "too deep", "attrs": {}, "repr": ""}
        if value is None:
            return {"t": "none"}
        if isinstance(value, (bool, np.bool_)):
            return {"t": "bool", "v": bool(value)}
        if isinstance(value, int) and not isinstance(value, bool):
            return {"t": "int", "v": int(value)} if abs(value) < 2**63 else {"t": "float", "v": repr(float(value))}
        if isinstance(value, float):           # np.float64 too (a subclass of float)
            return {"t": "float", "v": repr(float(value))}
        if isinstance(value, str):
            return {"t": "str", "v": value[:2000]}
        if isinstance(value, np.random.Generator):
            return {"t": "rng", "state": _plain(value.bit_generator.state)}
        if isinstance(value, (np.ndarray, np.generic)):
            arr = np.asarray(value)
            if arr.dtype.kind in "biufc" and arr.size <= MAX_ARRAY_ELEMENTS:
                return self._array(arr)
            return {"t": "object", "cls": f"numpy.ndarray of dtype {arr.dtype}", "attrs": {},
                    "repr": f"shape {arr.shape}"}
        if isinstance(value, (tuple, list)):
            items = list(value)
            if isinstance(value, list) and items and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                         for v in items[:MAX_ARRAY_ELEMENTS]):
                try:
                    arr = np.asarray(items)
                except (TypeError, ValueError, OverflowError):
                    arr = None
                if arr is not None and arr.ndim == 1 and arr.dtype.kind in "iuf" and arr.size <= MAX_ARRAY_ELEMENTS:
                    return {"t": "list-array", "k": self._array(arr)["k"]}
            if len(items) > MAX_ITEMS:
                try:
                    arr = np.asarray(items)
                except Exception:  # noqa: BLE001 - an object that cannot become an array
                    arr = None
                if arr is not None and arr.dtype.kind in "biuf" and arr.size <= MAX_ARRAY_ELEMENTS:
                    return {"t": "list-array", "k": self._array(arr)["k"]}
                return {"t": "object", "cls": type(value).__name__, "attrs": {}, "repr": f"{len(items)} items"}
            return {"t": "tuple" if isinstance(value, tuple) else "list",
                    "items": [self.encode(v, depth + 1) for v in items]}
        cls = f"{type(value).__module__}.{type(value).__qualname__}"
        attrs = {}
        for name in OBJECT_ATTRS:
            try:       # the kernel's own objects: whatever their attributes do, it happens in the kernel
                attr = getattr(value, name, None)
            except Exception:  # noqa: BLE001 - a property that raises is simply not recorded
                attr = None
            if attr is None or callable(attr):
                continue
            if isinstance(attr, (str, bool, int, float, np.ndarray, np.generic)):
                attrs[name] = self.encode(attr, depth + 1)
        try:
            text = object.__repr__(value)
        except Exception:  # noqa: BLE001
            text = ""
        return {"t": "object", "cls": cls[:200], "attrs": attrs, "repr": text[:200]}

    def _array(self, arr: np.ndarray) -> dict:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.array(arr)     # a copy, in the array's own dtype
        return {"t": "array", "k": key}


def _plain(value):
    """A bit generator's state as JSON-able numbers and strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (np.integer, int)):
        return int(value)
    return value if isinstance(value, (str, float)) else str(value)


def decode(node, arrays, make_object=None):
    """The value a node stands for. ``make_object(cls, attrs)`` rebuilds objects (default: a RecordedObject)."""
    if not isinstance(node, dict):
        raise WireError(f"expected an encoded value, got {type(node).__name__}")
    t = node.get("t")
    if t == "none":
        return None
    if t == "bool":
        return bool(node["v"])
    if t == "int":
        return int(node["v"])
    if t == "float":
        return float(node["v"])
    if t == "str":
        return str(node["v"])
    if t == "array":
        return arrays[str(node["k"])]
    if t == "list-array":
        return arrays[str(node["k"])].tolist()
    if t in ("tuple", "list"):
        items = [decode(v, arrays, make_object) for v in node["items"][:MAX_ITEMS]]
        return tuple(items) if t == "tuple" else items
    if t == "rng":
        bits = np.random.PCG64()
        bits.state = node["state"]
        return np.random.Generator(bits)
    if t == "object":
        attrs = {str(k): decode(v, arrays, make_object) for k, v in dict(node.get("attrs", {})).items()
                 if k in OBJECT_ATTRS}
        cls = str(node.get("cls", "?"))
        if make_object is not None:
            return make_object(cls, attrs)
        return RecordedObject(cls, attrs)
    raise WireError(f"unknown type tag {t!r}")


class RecordedObject:
    """An object the kernel returned, as data: its class name and its numeric attributes."""

    def __init__(self, cls: str, attrs: dict):
        self.recorded_type = cls.rsplit(".", 1)[-1]
        self.recorded_class = cls
        for name, value in attrs.items():
            setattr(self, name, value)

    def __repr__(self):
        return f"<{self.recorded_class} recorded by the grader>"


# ------------------------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------------------------
def write(stem: str, payload: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``stem.json`` and ``stem.npz`` (arrays only, no pickles)."""
    with open(stem + ".npz.part", "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(stem + ".npz.part", stem + ".npz")
    with open(stem + ".json.part", "w", encoding="utf-8") as fh:
        json.dump(payload, fh, allow_nan=False, default=str)
    os.replace(stem + ".json.part", stem + ".json")


def read_json(path, limit: int = MAX_JSON_BYTES):
    """A JSON file of at most ``limit`` bytes, not following a symbolic link."""
    return json.loads(_read_capped(path, limit).decode("utf-8"))


def read_arrays(path, limit: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, loaded without pickles; numeric dtypes only."""
    import io

    data = _read_capped(path, limit)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            total = 0
            out = {}
            for name in npz.files:
                arr = npz[name]
                total += arr.size
                if arr.dtype.kind not in "biufc" or total > 4 * MAX_ARRAY_ELEMENTS:
                    raise WireError(f"array {name!r} is not numeric or too large")
                out[name] = arr
            return out
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise WireError(f"not a valid array file: {type(exc).__name__}: {str(exc)[:100]}") from None


def _read_capped(path, limit: int) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise WireError(f"cannot open {os.path.basename(str(path))}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise WireError(f"{os.path.basename(str(path))} is not a regular file")
        if info.st_size > limit:
            raise WireError(f"{os.path.basename(str(path))} is larger than {limit} bytes")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise WireError(f"{os.path.basename(str(path))} is larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)

