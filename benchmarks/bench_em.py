"""Seconds per EM iteration: emlib.em against sklearn.mixture.GaussianMixture.

Both start from the same parameters, run the same number of iterations with
tol=0 in float64 with the same reg, and must agree to 1e-8; the table prints
both timings and their ratio, measured in the same run, and the peak memory
each allocated (tracemalloc sees numpy's buffers).

    python benchmarks/bench_em.py            # the full table (a few minutes)
    python benchmarks/bench_em.py --quick    # smaller sizes, for a smoke test
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np

import emlib

CASES = [  # (n, d, m, iterations)
    (100_000, 2, 3, 20),
    (1_000_000, 2, 5, 5),
    (100_000, 10, 10, 10),
    (20_000, 2, 30, 20),
    (10_000_000, 1, 6, 3),
]
QUICK = [(20_000, 2, 3, 10), (20_000, 10, 10, 5), (5_000, 2, 30, 10), (200_000, 1, 6, 3)]


def make_problem(n, d, m, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=4.0, size=(m, d))
    A = rng.normal(size=(m, d, d)) / np.sqrt(d)
    cov = A @ np.swapaxes(A, 1, 2) + 0.2 * np.eye(d)
    truth = emlib.Mixture(rng.dirichlet(np.full(m, 5.0)), means, cov)
    X, _ = truth.sample(n, rng)
    init = emlib.Mixture(np.full(m, 1.0 / m), X[rng.choice(n, m, replace=False)],
                         np.broadcast_to(np.cov(X.T).reshape(d, d), (m, d, d)))
    return X, init


def measure(fn, repeat=1):
    """(result, best seconds over ``repeat`` runs, peak bytes allocated in one more traced run)."""
    seconds = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        seconds = min(seconds, time.perf_counter() - t0)
    tracemalloc.start()          # traced separately: tracing slows allocation down
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak


def run_case(n, d, m, iters, reg=1e-6):
    from sklearn.mixture import GaussianMixture
    X, init = make_problem(n, d, m)
    ours, t_ours, mem_ours = measure(lambda: emlib.em(X, init, tol=0, max_iter=iters, reg=reg, keep_history=False))
    gm = GaussianMixture(m, covariance_type="full", weights_init=init.weights, means_init=init.means,
                         precisions_init=init.precisions, tol=0, max_iter=iters, reg_covar=reg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, t_sk, mem_sk = measure(lambda: gm.fit(X))
    diff = max(np.abs(ours.mixture.means - gm.means_).max(), np.abs(ours.mixture.covariances - gm.covariances_).max(),
               np.abs(ours.mixture.weights - gm.weights_).max())
    return t_ours / iters, t_sk / iters, diff, mem_ours, mem_sk, X.nbytes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args(argv)
    cases = QUICK if args.quick else CASES
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(f"{i['internal_api']} {i.get('num_threads')} threads" for i in threadpool_info())
    except ImportError:  # pragma: no cover
        blas = "unknown"
    print(f"emlib {emlib.__version__}, numpy {np.__version__}, BLAS: {blas}")
    header = (f"{'n':>10} {'d':>3} {'m':>3} | {'emlib s/it':>10} {'sklearn s/it':>12} {'speed-up':>8} | "
              f"{'max |diff|':>10} | {'emlib peak MB':>13} {'sklearn peak MB':>15} {'X MB':>6}")
    print(header)
    print("-" * len(header))
    worst = np.inf
    for n, d, m, iters in cases:
        t_ours, t_sk, diff, mem_ours, mem_sk, xbytes = run_case(n, d, m, iters)
        worst = min(worst, t_sk / t_ours)
        flag = "" if diff <= 1e-8 else "  <-- DISAGREE"
        print(f"{n:>10} {d:>3} {m:>3} | {t_ours:>10.4g} {t_sk:>12.4g} {t_sk / t_ours:>7.1f}x | {diff:>10.1e} | "
              f"{mem_ours / 1e6:>13.1f} {mem_sk / 1e6:>15.1f} {xbytes / 1e6:>6.1f}{flag}", flush=True)
    print(f"smallest speed-up: {worst:.1f}x")


if __name__ == "__main__":
    main()
