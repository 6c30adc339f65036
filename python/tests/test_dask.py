"""A small Dask example: dask.array blocks multiplied by strass on a local cluster."""

import numpy as np
import pytest

import strass

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


def strass_dot(x, y):
    """x @ y for dask arrays, each output block one strass.matmul of a row panel of x by a
    column panel of y (blockwise with the contracted index concatenated)."""
    return da.blockwise(
        strass.matmul, "ij", x, "ik", y, "kj", dtype=np.result_type(x.dtype, y.dtype), concatenate=True
    )


def test_dask_blocks_on_a_local_cluster():
    n = 2048
    # Each block product is 2048^3: large enough that strass recurses.
    assert strass.levels(n, n, n, np.float32) >= 1
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        rs = da.random.RandomState(7)
        x = rs.standard_normal((2 * n, n), chunks=(n, n // 2)).astype(np.float32).persist()
        y = rs.standard_normal((n, n), chunks=(n // 2, n)).astype(np.float32).persist()
        z = strass_dot(x, y)
        assert z.numblocks == (2, 1)
        got = z.compute()
        a, b = x.compute(), y.compute()
    want = a.astype(np.float64) @ b.astype(np.float64)
    assert got.dtype == np.float32 and got.shape == (2 * n, n)
    err = np.abs(got - want).max() / np.abs(want).max()
    assert err < 1e-4, err
