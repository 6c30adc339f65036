"""strass: learned fast matrix multiplication (a verified Strassen-type recursion) for numpy.

``strass.matmul(a, b)`` computes ``a @ b`` for 2-D float32 or float64 arrays on strass's
engine (the Rust crate's ``strass::api::default_engine``), with the GIL released while it
computes. Threads: ``set_num_threads`` / ``get_num_threads``, the ``threads`` argument, the
``STRASS_NUM_THREADS`` environment variable (read once, at the first product), or threadpoolctl
(``threadpool_limits(limits=2, user_api="strass")``; the controller is registered on import when
threadpoolctl is installed).
"""

import numpy as np

from . import _strass

__version__ = "0.1.0"
__all__ = ["matmul", "set_num_threads", "get_num_threads", "levels", "MAX_THREADS"]

#: Most threads ``set_num_threads`` and ``matmul(threads=...)`` accept.
MAX_THREADS = _strass.MAX_THREADS

_GEMM = {np.dtype(np.float32): _strass.gemm_f32, np.dtype(np.float64): _strass.gemm_f64}


def _operand(x, name):
    """``x`` as a 2-D float32 / float64 array whose strides the engine takes as they are."""
    x = np.asarray(x)
    dt = x.dtype
    if dt.kind == "f" and dt.itemsize in (4, 8) and not dt.isnative:
        x = x.astype(dt.newbyteorder("="))
    if x.dtype not in _GEMM:
        raise TypeError(
            f"strass.matmul: {name} has dtype {x.dtype}; only float32 and float64 are supported"
        )
    if x.ndim != 2:
        raise ValueError(f"strass.matmul: {name} must be 2-D, got shape {x.shape}")
    return x if _direct(x) else np.ascontiguousarray(x)


def _direct(x):
    """Whether the engine can use ``x`` in place: aligned, strides non-negative multiples of the
    element size (a copy is made otherwise)."""
    it = x.itemsize
    return x.flags.aligned and all(s >= 0 and s % it == 0 for s in x.strides)


def _distinct(x):
    """Whether no two elements of the 2-D array ``x`` share memory (strides already checked)."""
    dims = [(s, n) for s, n in zip(x.strides, x.shape) if n > 1]
    if len(dims) < 2:
        return all(s > 0 for s, _ in dims)
    (s0, n0), (s1, _) = sorted(dims)
    return s0 > 0 and s1 >= s0 * n0


def _threads(threads):
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be between 1 and {MAX_THREADS}, got {threads}")
    return int(threads)


def matmul(a, b, out=None, threads=None):
    """``a @ b`` for 2-D float32 or float64 arrays, on strass's engine.

    ``a`` is ``m x k`` and ``b`` ``k x n``, any strides (transposed, sliced, negative): arrays
    the engine cannot read in place (negative or misaligned strides) are copied first. Both
    must have the same dtype, float32 or float64 (``TypeError`` otherwise; no silent casting);
    mismatched shapes or other than 2-D raise ``ValueError``.

    ``out``: an ``m x n`` array of that dtype to write the result into (returned); if it
    overlaps ``a`` or ``b`` or cannot be written in place, the result is computed into a
    temporary and copied in. ``threads``: threads for this call (default: the
    ``set_num_threads`` setting, else ``STRASS_NUM_THREADS``, else all cores).

    The GIL is released during the computation: other Python threads run meanwhile, and must
    not modify ``a``, ``b`` or ``out`` until it returns.
    """
    a = _operand(a, "a")
    b = _operand(b, "b")
    if a.dtype != b.dtype:
        raise TypeError(
            f"strass.matmul: a is {a.dtype} and b is {b.dtype}; both must be float32 or both float64"
        )
    (m, k), (k2, n) = a.shape, b.shape
    if k != k2:
        raise ValueError(
            f"strass.matmul: shapes {a.shape} and {b.shape} not aligned: {k} (dim 1) != {k2} (dim 0)"
        )
    threads = _threads(threads)
    if out is None:
        out = np.empty((m, n), dtype=a.dtype)
        target = out
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"strass.matmul: out must be a numpy.ndarray, got {type(out).__name__}")
        if out.dtype != a.dtype:
            raise TypeError(f"strass.matmul: out has dtype {out.dtype}, the operands {a.dtype}")
        if out.shape != (m, n):
            raise ValueError(f"strass.matmul: out has shape {out.shape}, the product is {(m, n)}")
        if not out.flags.writeable:
            raise ValueError("strass.matmul: out is read-only")
        in_place = (
            _direct(out)
            and _distinct(out)
            and not np.may_share_memory(out, a)
            and not np.may_share_memory(out, b)
        )
        target = out if in_place else np.empty((m, n), dtype=a.dtype)
    _GEMM[a.dtype](a, b, target, threads)
    if target is not out:
        out[...] = target
    return out


def set_num_threads(n):
    """Sets the threads ``matmul`` uses by default (1 to ``MAX_THREADS``); ``None`` goes back to
    ``STRASS_NUM_THREADS`` or all cores."""
    _strass.set_num_threads(_threads(n))


def get_num_threads():
    """The threads ``matmul`` uses by default."""
    return _strass.get_num_threads()


def levels(m, k, n, dtype=np.float64):
    """Recursion levels strass's default engine uses for an ``m x k`` by ``k x n`` product of
    ``dtype`` (0: a single packed GEMM, no Strassen step)."""
    dt = np.dtype(dtype)
    if dt not in _GEMM:
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return _strass.levels(m, k, n, dt == np.float64)


def _register_threadpoolctl():
    """Registers a threadpoolctl controller (user_api and internal_api "strass") for the
    extension module, when threadpoolctl (3.5 or later: ``threadpoolctl.register``) is
    installed."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    if not hasattr(threadpoolctl, "register"):
        return None

    class StrassController(threadpoolctl.LibController):
        """threadpoolctl controller for strass's thread count (``set_num_threads``)."""

        user_api = "strass"
        internal_api = "strass"
        filename_prefixes = ("_strass",)

        def get_num_threads(self):
            return get_num_threads()

        def set_num_threads(self, num_threads):
            set_num_threads(num_threads)

        def get_version(self):
            return __version__

    threadpoolctl.register(StrassController)
    return StrassController


_ThreadpoolctlController = _register_threadpoolctl()
