"""strass.matmul against numpy.matmul: shapes (0 and 1 included), strides, dtypes, errors."""

import threading
import time

import numpy as np
import pytest

import strass

DTYPES = [np.float32, np.float64]


def tol(dtype, k):
    eps = np.finfo(dtype).eps
    return 64 * eps * (k + 1)


def check(a, b, got, k=None):
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert got.shape == want.shape
    k = a.shape[1] if k is None else k
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_array_less(np.abs(got - want), tol(got.dtype, k) * scale + 1e-300)


def rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_shapes_including_empty_and_unit_dimensions(dtype):
    rng = np.random.default_rng(1)
    dims = [0, 1, 2, 7, 65, 300]
    for m in dims:
        for k in dims:
            for n in dims:
                a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
                c = strass.matmul(a, b)
                assert c.dtype == dtype and c.shape == (m, n)
                check(a, b, c)
    for _ in range(20):
        m, k, n = rng.integers(0, 400, size=3)
        a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
        check(a, b, strass.matmul(a, b))


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_product_recursing(dtype):
    n = 2048
    assert strass.levels(n, n, n, dtype) >= 1
    rng = np.random.default_rng(2)
    a, b = rand(rng, (n, n), dtype), rand(rng, (n, n), dtype)
    check(a, b, strass.matmul(a, b))


def strided_variants(x):
    """Views of (a copy of) x with the same values: transposed storage, sliced, negative."""
    yield "contiguous", x
    yield "fortran", np.asfortranarray(x)
    t = np.ascontiguousarray(x.T)
    yield "transposed", t.T
    big = np.zeros((3 * x.shape[0] + 1, 2 * x.shape[1] + 3), dtype=x.dtype)
    big[1::3, 3::2] = x
    yield "sliced", big[1::3, 3::2]
    rev = np.ascontiguousarray(x[::-1, ::-1])
    yield "negative", rev[::-1, ::-1]
    rev_rows = np.ascontiguousarray(x[::-1])
    yield "negative rows", rev_rows[::-1]
    raw = np.zeros(x.size * x.itemsize + 1, dtype=np.uint8)[1:]
    unaligned = raw.view(x.dtype).reshape(x.shape) if x.size else x
    unaligned[...] = x
    yield "unaligned", unaligned


@pytest.mark.parametrize("dtype", DTYPES)
def test_any_strides(dtype):
    rng = np.random.default_rng(3)
    a0, b0 = rand(rng, (37, 53), dtype), rand(rng, (53, 29), dtype)
    want = np.matmul(a0, b0)
    for na, a in strided_variants(a0):
        for nb, b in strided_variants(b0):
            np.testing.assert_array_equal(a, a0)
            got = strass.matmul(a, b)
            np.testing.assert_allclose(got, want, rtol=0, atol=tol(dtype, 53) * 10, err_msg=f"{na} @ {nb}")


def test_broadcast_zero_strides():
    a = np.broadcast_to(np.arange(5.0), (4, 5))
    b = np.broadcast_to(np.arange(3.0)[None, :], (5, 3))
    np.testing.assert_allclose(strass.matmul(a, b), np.matmul(a, b))


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_in_place_strided_and_aliased(dtype):
    rng = np.random.default_rng(4)
    a, b = rand(rng, (70, 40), dtype), rand(rng, (40, 90), dtype)
    want = np.matmul(a, b)
    atol = tol(dtype, 40) * 10
    out = np.full((70, 90), np.nan, dtype=dtype)
    assert strass.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, want, rtol=0, atol=atol)
    # Strided and negative-strided out: only the view's elements change.
    big = np.full((140, 180), 5, dtype=dtype)
    view = big[::2, ::-2]
    strass.matmul(a, b, out=view)
    np.testing.assert_allclose(view, want, rtol=0, atol=atol)
    untouched = np.ones(big.shape, dtype=bool)
    untouched[::2, ::-2] = False
    assert (big[untouched] == 5).all()
    # out aliasing an operand: computed through a temporary, as numpy does.
    sq = rand(rng, (50, 50), dtype)
    want_sq = np.matmul(sq, sq)
    strass.matmul(sq, sq, out=sq)
    np.testing.assert_allclose(sq, want_sq, rtol=0, atol=tol(dtype, 50) * 10)


def test_beta_zero_ignores_out_contents():
    a, b = np.ones((3, 4)), np.ones((4, 2))
    out = np.full((3, 2), np.nan)
    strass.matmul(a, b, out=out)
    assert (out == 4).all()


def test_threads_argument_and_setting():
    rng = np.random.default_rng(5)
    a, b = rand(rng, (300, 200), np.float64), rand(rng, (200, 100), np.float64)
    want = np.matmul(a, b)
    default = strass.get_num_threads()
    assert default >= 1
    for t in [1, 2, 3]:
        np.testing.assert_allclose(strass.matmul(a, b, threads=t), want, rtol=1e-12, atol=1e-10)
    try:
        strass.set_num_threads(1)
        assert strass.get_num_threads() == 1
        np.testing.assert_allclose(strass.matmul(a, b), want, rtol=1e-12, atol=1e-10)
    finally:
        strass.set_num_threads(None)
    assert strass.get_num_threads() == default
    with pytest.raises(ValueError):
        strass.set_num_threads(0)
    with pytest.raises(ValueError):
        strass.matmul(a, b, threads=-1)
    with pytest.raises(ValueError):
        strass.matmul(a, b, threads=strass.MAX_THREADS + 1)
    with pytest.raises(TypeError):
        strass.matmul(a, b, threads=1.5)


@pytest.mark.parametrize(
    "sa, sb",
    [((3, 4), (5, 2)), ((3, 0), (1, 2)), ((0, 2), (3, 0))],
)
def test_shape_mismatch_is_value_error(sa, sb):
    with pytest.raises(ValueError, match="not aligned"):
        strass.matmul(np.ones(sa), np.ones(sb))


def test_not_2d_is_value_error():
    with pytest.raises(ValueError, match="2-D"):
        strass.matmul(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        strass.matmul(np.ones((2, 3)), np.ones((2, 3, 2)))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float16, np.complex128, bool, object])
def test_other_dtypes_are_type_errors(dtype):
    a = np.ones((2, 2), dtype=dtype)
    with pytest.raises(TypeError, match="dtype"):
        strass.matmul(a, np.ones((2, 2)))
    with pytest.raises(TypeError, match="dtype"):
        strass.matmul(np.ones((2, 2)), a)


def test_mixed_float_dtypes_and_bad_out_are_errors():
    with pytest.raises(TypeError):
        strass.matmul(np.ones((2, 2), np.float32), np.ones((2, 2)))
    with pytest.raises(TypeError):
        strass.matmul(np.ones((2, 2)), np.ones((2, 2)), out=np.ones((2, 2), np.float32))
    with pytest.raises(TypeError):
        strass.matmul(np.ones((2, 2)), np.ones((2, 2)), out=[[0.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError):
        strass.matmul(np.ones((2, 3)), np.ones((3, 4)), out=np.ones((2, 3)))
    ro = np.ones((2, 2))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        strass.matmul(np.ones((2, 2)), np.ones((2, 2)), out=ro)


def test_lists_and_byte_swapped_arrays_are_accepted():
    a = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(strass.matmul(a, a), np.matmul(a, a))
    sw = np.array(a, dtype=">f8")
    np.testing.assert_array_equal(strass.matmul(sw, sw), np.matmul(a, a))


def test_gil_is_released():
    """Another Python thread makes progress while a large product runs."""
    n = 2048
    a = np.ones((n, n), np.float32)
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.001)

    t = threading.Thread(target=tick)
    t.start()
    try:
        before = len(ticks)
        start = time.perf_counter()
        for _ in range(3):
            strass.matmul(a, a, threads=1)
        elapsed = time.perf_counter() - start
        during = len(ticks) - before
    finally:
        done.set()
        t.join()
    # Ticking freely is about 1000 ticks a second; with the GIL held it would be a handful.
    assert during >= 100 * elapsed, f"{during} ticks in {elapsed:.2f} s of products"


def test_threadpoolctl_controller():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not hasattr(threadpoolctl, "register"):
        pytest.skip("threadpoolctl without register()")
    infos = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "strass"]
    assert len(infos) == 1 and infos[0]["version"] == strass.__version__
    default = strass.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="strass"):
        assert strass.get_num_threads() == 1
    assert strass.get_num_threads() == default
    controller = threadpoolctl.ThreadpoolController()
    with controller.limit(limits=1, user_api="strass"):
        assert strass.get_num_threads() == 1
