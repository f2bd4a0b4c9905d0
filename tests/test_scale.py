"""EM on Dask arrays (emlib.scale): the same numbers as in memory, block by block, on any scheduler."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import emlib  # noqa: E402
from emlib.datasets import three_gaussians  # noqa: E402

KINDS = ["full", "diag", "spherical", "tied", "fixed"]


@pytest.fixture(scope="module")
def problem():
    X, _ = three_gaussians(6000, np.random.default_rng(0))
    return X, emlib.init_kmeans_pp(X, 3, rng=0)


def assert_same_fit(a, b, rtol=1e-10):
    assert a.n_iter == b.n_iter and a.converged == b.converged
    np.testing.assert_allclose(b.loglik, a.loglik, rtol=rtol)
    np.testing.assert_allclose(b.mixture.weights, a.mixture.weights, rtol=rtol)
    np.testing.assert_allclose(b.mixture.means, a.mixture.means, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(b.mixture.covariances, a.mixture.covariances, rtol=rtol, atol=1e-12)
    assert b.mixture.kind == a.mixture.kind


@pytest.mark.parametrize("kind", KINDS)
def test_em_on_a_dask_array_equals_em_in_memory(problem, kind):
    X, init = problem
    in_memory = emlib.em(X, init, covariance=kind, tol=1e-8, max_iter=60)
    blocks = emlib.em(da.from_array(X, chunks=(1000, -1)), init, covariance=kind, tol=1e-8, max_iter=60)
    assert_same_fit(in_memory, blocks)
    assert type(blocks).__name__ == "DaskEMResult"


def test_sample_weights_in_blocks_equal_weights_in_memory(problem):
    X, init = problem
    w = np.random.default_rng(1).integers(0, 4, X.shape[0]).astype(float)
    in_memory = emlib.em(X, init, sample_weight=w, tol=0, max_iter=15)
    for weights in (w, da.from_array(w, chunks=700)):       # numpy, or Dask with other chunks than X
        assert_same_fit(in_memory, emlib.em(da.from_array(X, chunks=(1000, -1)), init, sample_weight=weights,
                                            tol=0, max_iter=15))


def test_responsibilities_stay_lazy_and_equal_the_e_step(problem):
    X, init = problem
    fit = emlib.em(da.from_array(X, chunks=(1000, -1)), init, max_iter=5)
    resp = fit.responsibilities
    assert type(resp).__module__.startswith("dask") and resp.shape == (X.shape[0], 3)
    np.testing.assert_allclose(resp.compute(), emlib.e_step(X, fit.mixture)[0], rtol=1e-12)


def test_memory_mapped_npy_and_zarr_give_the_in_memory_fit(problem, tmp_path):
    X, init = problem
    in_memory = emlib.em(X, init, tol=0, max_iter=10)
    np.save(tmp_path / "X.npy", X)
    mapped = da.from_array(np.load(tmp_path / "X.npy", mmap_mode="r"), chunks=(1500, -1))
    assert_same_fit(in_memory, emlib.em(mapped, init, tol=0, max_iter=10))
    pytest.importorskip("zarr")
    da.from_array(X, chunks=(1200, -1)).to_zarr(str(tmp_path / "X.zarr"))
    assert_same_fit(in_memory, emlib.em(da.from_zarr(str(tmp_path / "X.zarr")), init, tol=0, max_iter=10))


def test_a_local_cluster_of_processes_gives_the_same_fit(problem):
    distributed = pytest.importorskip("distributed")
    X, init = problem
    in_memory = emlib.em(X, init, tol=0, max_iter=8)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        assert_same_fit(in_memory, emlib.em(da.from_array(X, chunks=(1000, -1)), init, tol=0, max_iter=8))


def test_bad_dask_input_gets_the_same_clear_errors_as_in_memory(problem):
    X, init = problem
    with pytest.raises(ValueError, match=r"X must be chunked by rows only .* rechunk"):
        emlib.em(da.from_array(X, chunks=(1000, 1)), init)
    bad = X.copy()
    bad[4321, 1] = np.nan
    with pytest.raises(ValueError) as in_memory:
        emlib.em(bad, init)
    with pytest.raises(ValueError) as blocks:
        emlib.em(da.from_array(bad, chunks=(1000, -1)), init)
    assert str(blocks.value) == str(in_memory.value)
    assert "X contains 1 NaN" in str(blocks.value) and "em_missing" in str(blocks.value)
    wrong = emlib.Mixture([1.0], np.zeros((1, 3)), np.eye(3)[None])
    with pytest.raises(ValueError) as in_memory:
        emlib.em(X, wrong)
    with pytest.raises(ValueError) as blocks:
        emlib.em(da.from_array(X, chunks=(1000, -1)), wrong)
    assert str(blocks.value) == str(in_memory.value)
    with pytest.raises(TypeError, match="X must hold real numbers"):
        emlib.em(da.from_array(np.array([["a", "b"]] * 4), chunks=(2, -1)), init)


def test_import_emlib_never_imports_dask():
    import subprocess
    import sys
    code = "import sys, emlib; print(any(m.split('.')[0] in ('dask', 'distributed', 'zarr') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_map_em_on_blocks_equals_map_em_in_memory(problem):
    X, init = problem
    prior = emlib.Prior.from_data(X, 3)
    in_memory = emlib.em(X, init, prior=prior, tol=0, max_iter=10)
    blocks = emlib.em(da.from_array(X, chunks=(1000, -1)), init, prior=prior, tol=0, max_iter=10)
    assert_same_fit(in_memory, blocks)
    np.testing.assert_allclose(blocks.log_posterior, in_memory.log_posterior, rtol=1e-10)


def test_from_npy_reads_blocks_where_they_are_computed(problem, tmp_path):
    from emlib.scale import from_npy
    X, init = problem
    np.save(tmp_path / "X.npy", X)
    blocks = from_npy(tmp_path / "X.npy", 1000)
    assert blocks.chunks[0] == (1000,) * 6 and len(blocks.chunks[1]) == 1
    import pickle
    assert len(pickle.dumps(dict(blocks.__dask_graph__()))) < 20_000   # the graph holds the path, not 48 kB of data
    assert_same_fit(emlib.em(X, init, tol=0, max_iter=5), emlib.em(blocks, init, tol=0, max_iter=5))
    with pytest.raises(ValueError, match="rows_per_block must be >= 1"):
        from_npy(tmp_path / "X.npy", 0)


@pytest.mark.parametrize("options", [
    dict(min_weight=0.25, max_iter=30),                     # trimming: one component falls to 0.21
    dict(fix_weights=True, max_iter=10),
    dict(keep_history=False, max_iter=10),
    dict(covariance="diag", chunk_size=128, max_iter=10),
], ids=["min_weight", "fix_weights", "keep_history", "diag-chunks"])
def test_every_option_of_em_does_on_blocks_what_it_does_in_memory(problem, options):
    X, init = problem
    init = emlib.Mixture([0.45, 0.45, 0.1], init.means, init.covariances)
    w = np.random.default_rng(2).integers(1, 3, X.shape[0]).astype(float)
    calls = {"memory": [], "blocks": []}
    fits = {where: emlib.em(data, init, tol=0, sample_weight=w,
                            callback=lambda t, mix, ll, where=where: calls[where].append((t, mix.n_components, ll)),
                            **options)
            for where, data in (("memory", X), ("blocks", da.from_array(X, chunks=(1000, -1))))}
    assert_same_fit(fits["memory"], fits["blocks"])
    assert len(fits["memory"].history) == len(fits["blocks"].history) == (0 if options.get("keep_history") is False
                                                                          else fits["memory"].n_iter + 1)
    np.testing.assert_allclose(fits["blocks"].mean_loglik, fits["memory"].mean_loglik, rtol=1e-10)
    assert len(calls["blocks"]) == fits["blocks"].n_iter + 1
    np.testing.assert_allclose([c[2] for c in calls["blocks"]], [c[2] for c in calls["memory"]], rtol=1e-10)
    if "min_weight" in options:
        assert fits["blocks"].mixture.n_components < 3        # the option took effect
    if "fix_weights" in options:
        np.testing.assert_array_equal(fits["blocks"].mixture.weights, init.weights)
