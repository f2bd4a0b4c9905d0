"""A real brain MRI for the lecture's segmentation slide: the MNI152 template.

The MNI ICBM152 2009 template is the average of T1-weighted MRI scans of 152
adult brains, registered to one another (Fonov et al., NeuroImage 2011).
nilearn ships it inside its package, skull-stripped, with tissue probability
maps for grey matter (GM) and white matter (WM) and nothing else (see
:func:`template_files`); its brain mask is the T1 image above 0.2. Nothing is
downloaded.

:func:`load_mni152` returns the T1 intensities, the brain mask, and a
ground-truth tissue label per voxel made from the probability maps:

    P(CSF) = clip(1 - P(GM) - P(WM), 0, 1),   label = argmax(P(CSF), P(GM), P(WM))

inside the mask (cerebrospinal fluid, grey matter, white matter: 0, 1, 2),
and -1 outside it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .._validation import check_int

TISSUES = ("CSF", "GM", "WM")
"""Names of the ground-truth labels 0, 1, 2: cerebrospinal fluid, grey matter, white matter."""

OUTSIDE = -1
"""The label of voxels outside the brain mask."""

SHAPES = {1: (197, 233, 189), 2: (99, 117, 95)}
"""The grid of the template at each resolution (voxel size in mm)."""

NILEARN_MISSING = (
    "load_mni152 needs nilearn, which ships the MNI152 template inside its package (nothing is "
    "downloaded). Install it with `pip install nilearn`, or the course's extras with "
    "`pip install -e '.[apps]'`."
)


class MNI152(NamedTuple):
    """The MNI152 template as numpy arrays, all on one grid of shape (X, Y, Z).

    Attributes
    ----------
    t1 : float64 array of shape (X, Y, Z), T1-weighted intensity in [0, 1]
    mask : bool array of shape (X, Y, Z), True inside the brain
    labels : int8 array of shape (X, Y, Z): 0 CSF, 1 GM, 2 WM inside the mask,
        -1 (``OUTSIDE``) elsewhere
    probabilities : float32 array of shape (3, X, Y, Z), P(CSF), P(GM), P(WM)
        per voxel (each in [0, 1]; inside the mask they sum to at least 1)

    The arrays are read-only and shared between calls with the same
    resolution (copy one before writing into it).
    """

    t1: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray


def tissue_labels(gm, wm, mask) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth tissue labels from the GM and WM probability maps.

        P(CSF) = clip(1 - P(GM) - P(WM), 0, 1),  label = argmax_k P(tissue k)

    Parameters
    ----------
    gm, wm : array-like of the same shape (X, Y, Z), probabilities in [0, 1]
    mask : bool array-like of shape (X, Y, Z)

    Returns
    -------
    labels : int8 array of shape (X, Y, Z): 0 CSF, 1 GM, 2 WM inside the mask, -1 outside
        (ties go to the lower label)
    probabilities : float32 array of shape (3, X, Y, Z)
    """
    gm = np.asarray(gm, dtype=np.float64)
    wm = np.asarray(wm, dtype=np.float64)
    mask = np.asarray(mask)
    if not (gm.shape == wm.shape == mask.shape):
        raise ValueError(f"gm, wm and mask must have the same shape, got {gm.shape}, {wm.shape} and {mask.shape}")
    if mask.dtype != bool:
        raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
    csf = np.clip(1.0 - gm - wm, 0.0, 1.0)
    probabilities = np.stack([csf, gm, wm]).astype(np.float32)
    labels = np.full(mask.shape, OUTSIDE, dtype=np.int8)
    labels[mask] = np.argmax(probabilities[:, mask], axis=0)
    return labels, probabilities


def _nilearn_datasets():
    try:
        from nilearn import datasets
    except ImportError as exc:
        raise ImportError(NILEARN_MISSING) from exc
    return datasets


@lru_cache(maxsize=2)
def _load(resolution: int) -> MNI152:
    datasets = _nilearn_datasets()
    t1 = datasets.load_mni152_template(resolution=resolution).get_fdata()
    gm = datasets.load_mni152_gm_template(resolution=resolution).get_fdata()
    wm = datasets.load_mni152_wm_template(resolution=resolution).get_fdata()
    mask = datasets.load_mni152_brain_mask(resolution=resolution).get_fdata() > 0
    # resampling to 2 mm can leave values a hair outside [0, 1] (-0.0, 1 + 1e-16)
    t1, gm, wm = (np.clip(a, 0.0, 1.0) for a in (t1, gm, wm))
    labels, probabilities = tissue_labels(gm, wm, mask)
    data = MNI152(t1=t1, mask=mask, labels=labels, probabilities=probabilities)
    for array in data:
        array.flags.writeable = False
    return data


def load_mni152(resolution: int = 2) -> MNI152:
    """The MNI152 2009 T1 template, its brain mask and ground-truth tissue labels.

    Parameters
    ----------
    resolution : 1 or 2, the voxel size in mm. 1 mm is the grid nilearn
        ships, shape (197, 233, 189), about 1.9 million voxels in the mask;
        2 mm is nilearn's resampling of it, shape (99, 117, 95), about 235 000
        voxels in the mask.

    Returns
    -------
    MNI152
        ``(t1, mask, labels, probabilities)``, see :class:`MNI152`; the T1
        intensities to segment are ``t1[mask]`` and their true tissues
        ``labels[mask]`` (names in ``TISSUES``).

    Raises
    ------
    ImportError
        when nilearn is not installed.

    Notes
    -----
    The labels are those of the template's own probability maps, which are
    averages over 152 subjects: near a boundary a voxel is partly one tissue
    and partly another, and its label is only the most probable one.
    """
    resolution = check_int(resolution, "resolution", minimum=1)
    if resolution not in SHAPES:
        raise ValueError(f"resolution must be 1 or 2 (mm), got {resolution}")
    return _load(resolution)


def template_files() -> list[str]:
    """The names of the MNI152 files that nilearn ships inside its package (``mni_icbm152_*``).

    These are all the template data that exist offline: a T1 image and the grey- and white-matter
    probability maps. nilearn's brain mask is not a file: ``load_mni152_brain_mask`` thresholds the
    T1 image (at 0.2); the CSF map, the head around the brain and any other tissue are not shipped.

    Returns
    -------
    list of str, sorted

    Raises
    ------
    ImportError
        when nilearn is not installed.
    """
    from pathlib import Path

    folder = Path(_nilearn_datasets().__file__).parent / "data"
    return sorted(p.name for p in folder.glob("mni_icbm152_*"))
