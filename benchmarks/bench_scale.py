"""EM past memory: seconds per iteration and peak memory against n, in memory and on Dask blocks.

For each n the same data (a memory-mapped .npy file in a temporary folder) and the same start are fitted
for the same number of iterations by

- emlib.em on the array in memory (the data loaded whole: n x d x 8 bytes),
- emlib.em on a Dask array of row blocks read from the file (emlib.scale.from_npy), on Dask's threaded scheduler
  with 1 and with 2 threads, and on a distributed LocalCluster of 2 worker processes,

and the table prints seconds per iteration, the ratio to the in-memory path measured in the same run,
and the peak memory each allocated in this process (tracemalloc: NumPy's buffers, not the pages of the
memory-mapped file, and not the LocalCluster's worker processes). The fits must agree to 1e-10.

    python benchmarks/bench_scale.py            # n up to 2e7 (a few minutes, 2 GB of temporary disk)
    python benchmarks/bench_scale.py --quick    # small sizes, a smoke test
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

import emlib

SIZES = [1_000_000, 5_000_000, 20_000_000]
QUICK = [200_000, 1_000_000]
D, M, ITERATIONS, BLOCK_ROWS = 2, 3, 5, 500_000


def write_data(path: Path, n: int, seed: int = 0) -> None:
    """n rows of a 3-component mixture in d = 2, written block by block to a memory-mapped .npy."""
    truth = emlib.Mixture([0.5, 0.3, 0.2], [[0.0, 0.0], [4.0, 1.0], [1.0, 4.0]],
                          [np.eye(2), 0.6 * np.eye(2), [[0.7, -0.3], [-0.3, 1.2]]])
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, D))
    rng = np.random.default_rng(seed)
    for start in range(0, n, BLOCK_ROWS):
        rows = min(BLOCK_ROWS, n - start)
        out[start:start + rows] = truth.sample(rows, rng)[0]
    out.flush()


def timed(fn):
    """(result, seconds, peak bytes allocated): one untraced run for the time, one traced for the memory."""
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak


def measure_size(n: int, path: Path, cluster) -> list[tuple[str, float, int, float]]:
    """(path, seconds, peak bytes, largest difference of the means from in memory) for one n."""
    import dask
    import distributed

    from emlib.scale import from_npy

    X_mem = np.load(path)
    start = emlib.init_kmeans_pp(X_mem[:20_000], M, rng=0)

    def fit(X):
        return emlib.em(X, start, tol=0, max_iter=ITERATIONS, keep_history=False)

    ref, t_ref, peak_ref = timed(lambda: fit(X_mem))
    blocks = from_npy(path, BLOCK_ROWS)             # each block read where it is computed
    rows = [("in memory", t_ref, peak_ref, 0.0)]
    for threads in (1, 2):
        with dask.config.set(scheduler="threads", num_workers=threads):
            out, t, peak = timed(lambda: fit(blocks))
        rows.append((f"Dask blocks, {threads} thread{'s' if threads > 1 else ''}", t, peak,
                     np.abs(out.mixture.means - ref.mixture.means).max()))
    with distributed.Client(cluster):
        out, t, peak = timed(lambda: fit(blocks))
    rows.append(("LocalCluster, 2 processes", t, peak, np.abs(out.mixture.means - ref.mixture.means).max()))
    return rows, X_mem.nbytes, np.abs(ref.mixture.means).max()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args(argv)
    import dask
    import distributed

    folder = Path(tempfile.mkdtemp(prefix="emlib-bench-scale-"))
    header = (f"{'n':>10} | {'path':<28} | {'s/iter':>8} {'vs memory':>9} | {'peak MB':>8} {'X MB':>7} | "
              f"{'max |diff|':>10}")
    print(f"emlib {emlib.__version__}, dask {dask.__version__}; d = {D}, m = {M}, {ITERATIONS} iterations, "
          f"blocks of {BLOCK_ROWS:,} rows")
    print(header)
    print("-" * len(header))
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as cluster:
            for n in (QUICK if args.quick else SIZES):
                path = folder / f"X_{n}.npy"
                write_data(path, n)
                rows, xbytes, scale = measure_size(n, path, cluster)
                t_ref = rows[0][1]
                for label, t, peak, diff in rows:
                    flag = "" if diff <= 1e-10 * max(1.0, scale) else "  <-- DISAGREE"
                    print(f"{n:>10} | {label:<28} | {t / ITERATIONS:>8.3f} {t_ref / t:>8.2f}x | "
                          f"{peak / 1e6:>8.1f} {xbytes / 1e6:>7.0f} | {diff:>10.1e}{flag}", flush=True)
                path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
