"""EM past one machine's memory: the same pass over sufficient statistics, mapped over Dask blocks.

The E-step is local to each sample; the M-step needs only sums over the
samples (N_k, the first and the second moments of :mod:`emlib.suffstats`).
So an iteration over data split into row blocks is a map-reduce: run the
chunked pass :func:`emlib.suffstats.accumulate` on every block where the
block lives, add the statistics up in a tree, and do the M-step once on the
client with the same :func:`emlib.steps.mixture_from_moments` as in memory
(Chu et al., 2006, "Map-Reduce for Machine Learning on Multicore").

:func:`emlib.em` calls this module when X is a Dask array chunked by rows
(``dask.array.from_zarr``, ``dask.array.from_array`` on a memory-mapped
``.npy``, ...): one Dask computation per iteration, on Dask's default
scheduler or on a ``distributed.Client`` if one is active. Dask is imported
only here, and only when such an array is passed.
"""

from __future__ import annotations

import numpy as np

from functools import cached_property

from ._validation import MISSING_HINT, is_dask_array
from .em import EMResult
from .mixture import Mixture
from .steps import e_step
from .suffstats import SufficientStatistics, accumulate


def check_dask_data(X, name: str = "X"):
    """A 2-D Dask array of real numbers chunked by rows only, with every value finite.

    The finiteness check is one pass over the data (it also returns the column
    sums, used for centring). Returns (X as float64, its n, its column sums).
    """
    import dask

    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{name} must be 1- or 2-dimensional, got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    if len(X.chunks[1]) != 1:
        raise ValueError(f"{name} must be chunked by rows only (one chunk across its {X.shape[1]} columns), got "
                         f"{len(X.chunks[1])} column chunks; rechunk with X.rechunk({{1: -1}})")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must have at least one sample and one feature, got shape {X.shape}")
    X = X.astype(np.float64)
    bad, sums = dask.compute((~dask.array.isfinite(X)).sum(), X.sum(axis=0), optimize_graph=False)
    if bad:
        raise ValueError(f"{name} contains {int(bad)} NaN or infinite value(s); expected finite numbers.{MISSING_HINT}")
    return X, sums


def row_blocks(sample_weight, X):
    """The sample weights cut into X's row blocks: Dask blocks, numpy slices, or None for each block."""
    if sample_weight is None:
        return [None] * len(X.chunks[0])
    if is_dask_array(sample_weight):
        return list(sample_weight.rechunk((X.chunks[0],)).to_delayed().ravel())
    bounds = np.cumsum((0,) + X.chunks[0])
    return [sample_weight[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _block_statistics(block, mixture, center, diagonal, weights, chunk_size) -> SufficientStatistics:
    block = np.asarray(block, dtype=np.float64)
    weights = None if weights is None else np.asarray(weights, dtype=np.float64)
    return accumulate(block, mixture, center=center, diagonal=diagonal, sample_weight=weights,
                      chunk_size=chunk_size)


def tree_sum(parts: list):
    """Add delayed values pairwise, level by level: a reduction tree of depth log2(len(parts))."""
    import dask
    from operator import add

    while len(parts) > 1:
        pairs = [dask.delayed(add)(a, b) for a, b in zip(parts[::2], parts[1::2])]
        parts = pairs + (parts[-1:] if len(parts) % 2 else [])
    return parts[0]


def accumulate_blocks(X, mixture: Mixture, *, center: np.ndarray, diagonal: bool, weight_blocks,
                      chunk_size: int | None = None) -> SufficientStatistics:
    """One pass over a row-chunked Dask array: the block statistics, summed in a tree, computed once."""
    import dask

    block_pass = dask.delayed(_block_statistics, pure=True)
    parts = [block_pass(block, mixture, center, diagonal, w, chunk_size)
             for block, w in zip(X.to_delayed(optimize_graph=False).ravel(), weight_blocks)]
    return tree_sum(parts).compute(optimize_graph=False)     # the same keys every iteration, never re-fused


class DaskEMResult(EMResult):
    """The :class:`emlib.EMResult` of EM on a Dask array: ``X`` stays a Dask array, nothing is loaded whole.

    ``responsibilities`` is a lazy Dask array of shape (n, m), computed block by block when asked for.
    """

    @cached_property
    def responsibilities(self):
        mixture = self.mixture
        return self.X.map_blocks(lambda block: e_step(block, mixture)[0], dtype=np.float64,
                                 chunks=(self.X.chunks[0], (mixture.n_components,)))

    def __repr__(self) -> str:
        return "Dask" + super().__repr__()


def _load_rows(path: str, start: int, stop: int) -> np.ndarray:
    return np.array(np.load(path, mmap_mode="r")[start:stop], dtype=np.float64)


def from_npy(path, rows_per_block: int):
    """A Dask array over a ``.npy`` file on disk, in blocks of ``rows_per_block`` rows, shape (n, d).

    Each block is read where it is computed (only the path travels to a
    worker, never the data), through a memory map, so no process holds more
    than its blocks. The file must be visible to every worker (a shared disk
    on a cluster).

    Parameters
    ----------
    path : str or Path of a 2-D float ``.npy`` file
    rows_per_block : int >= 1
    """
    import dask
    import dask.array as da

    from ._validation import check_int

    rows_per_block = check_int(rows_per_block, "rows_per_block", minimum=1)
    path = str(path)
    header = np.load(path, mmap_mode="r")
    if header.ndim != 2:
        raise ValueError(f"the array in {path} must be 2-D (n, d), got shape {header.shape}")
    n, d = header.shape
    blocks = [da.from_delayed(dask.delayed(_load_rows, pure=True)(path, a, min(a + rows_per_block, n)),
                              shape=(min(a + rows_per_block, n) - a, d), dtype=np.float64)
              for a in range(0, n, rows_per_block)]
    return da.concatenate(blocks, axis=0)
