#!/usr/bin/env python3
"""strass through its C and Python interfaces, beside OpenBLAS through the same interfaces.

One process, one thread, contenders interleaved in every round (row-major, no transpose,
alpha 1, beta 0, into a preallocated C):

* ``numpy @``: ``numpy.matmul(a, b, out=c)`` on numpy's own BLAS (the OpenBLAS its wheel
  bundles; its version and the core it picked are recorded);
* ``strass.matmul``: the Python package, ``strass.matmul(a, b, out=c)``;
* ``OpenBLAS cblas``: the system ``libopenblas.so.0`` through its C interface (ctypes);
* ``strass-blas cblas``: ``libstrass_blas.so`` (capi/) through the same C interface.

The wrappers' cost per call does not grow with the size when the operands are contiguous (no
copy is made), so it is bounded by the time of a whole 1x1x1 product through the wrapper; the
report gives that bound as a share of each interface's 2048^3 time (the issue's bar: < 2%).

Usage (after ``pip install ./python`` and ``cargo build --release -p strass-blas``)::

    python python/bench/interfaces.py --lib target/release/libstrass_blas.so \
        [--sizes 1000,2048,4096,8192] [--reps 3] [--out bench-results/interfaces.md]

``--quick`` runs 64 and 128 with one round (CI); its report goes to
target/bench-results-quick/ unless ``--out`` says otherwise.
"""

import argparse
import ctypes
import ctypes.util
import os
import platform
import statistics
import sys
import time

# One thread everywhere, set before any library starts its threads.
os.environ["STRASS_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("STRASS_TUNE_FILE", "/nonexistent/strass-interfaces-bench.json")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

import strass  # noqa: E402

ROW_MAJOR, NO_TRANS = 101, 111


def load_cblas(path):
    """The cblas_sgemm / cblas_dgemm of the shared library at ``path``, with argument types."""
    lib = ctypes.CDLL(path, mode=os.RTLD_LOCAL)
    funcs = {}
    for name, real in (("cblas_sgemm", ctypes.c_float), ("cblas_dgemm", ctypes.c_double)):
        f = getattr(lib, name)
        ip, cp = ctypes.c_int, ctypes.c_void_p
        f.argtypes = [ip, ip, ip, ip, ip, ip, real, cp, ip, cp, ip, real, cp, ip]
        f.restype = None
        funcs[np.dtype(np.float32 if real is ctypes.c_float else np.float64)] = f
    return lib, funcs


def cblas_call(funcs):
    def call(a, b, c):
        m, k = a.shape
        n = b.shape[1]
        f = funcs[a.dtype]
        f(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1.0, a.ctypes.data, k, b.ctypes.data, n,
          0.0, c.ctypes.data, n)
    return call


def machine():
    model, caches = platform.processor() or "unknown", []
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for idx in sorted(os.listdir(base)):
            d = os.path.join(base, idx)
            if not idx.startswith("index"):
                continue
            rd = lambda f: open(os.path.join(d, f)).read().strip()  # noqa: E731
            if rd("type") == "Instruction":
                continue
            caches.append(f"L{rd('level')} {rd('size')} {rd('ways_of_associativity')}-way")
    except OSError:
        pass
    return model, ", ".join(caches) or "unknown"


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def median_time(f, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", required=True, help="path of libstrass_blas.so")
    ap.add_argument("--openblas", default="libopenblas.so.0", help="the system OpenBLAS")
    ap.add_argument("--sizes", default="1000,2048,4096,8192")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.reps = "64,128", 1
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(s <= 0 for s in sizes) or args.reps < 1:
        ap.error("sizes and reps must be positive")
    full = not args.quick and args.sizes == "1000,2048,4096,8192" and args.reps == 3
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = args.out or os.path.join(
        root, "bench-results" if full else "target/bench-results-quick", "interfaces.md")

    _, strass_c = load_cblas(os.path.abspath(args.lib))
    ob_lib, ob_c = load_cblas(args.openblas)
    ob_lib.openblas_get_corename.restype = ctypes.c_char_p
    ob_lib.openblas_get_config.restype = ctypes.c_char_p
    ob_lib.openblas_set_num_threads(1)
    ob_core = ob_lib.openblas_get_corename().decode()
    ob_config = ob_lib.openblas_get_config().decode()
    strass.set_num_threads(1)

    contenders = {
        "numpy @": lambda a, b, c: np.matmul(a, b, out=c),
        "strass.matmul": lambda a, b, c: strass.matmul(a, b, out=c),
        "OpenBLAS cblas": cblas_call(ob_c),
        "strass-blas cblas": cblas_call(strass_c),
    }
    names = list(contenders)
    load_start = loadavg()
    rng = np.random.default_rng(7)
    rows = []
    with threadpool_limits(limits=1):
        np_blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        # Fixed cost per call: a 1x1x1 product through each interface.
        tiny = {}
        for dt in (np.float32, np.float64):
            a = np.ones((1, 1), dt)
            c = np.zeros((1, 1), dt)
            for name in names:
                f = contenders[name]
                median_time(lambda: f(a, a, c), 200)
                tiny[(np.dtype(dt).name, name)] = median_time(lambda: f(a, a, c), 2000)
        for dt in (np.float32, np.float64):
            for n in sizes:
                a = rng.uniform(-0.5, 0.5, (n, n)).astype(dt)
                b = rng.uniform(-0.5, 0.5, (n, n)).astype(dt)
                ref = a.astype(np.float64) @ b.astype(np.float64) if n <= 2048 else None
                cs = {name: np.empty((n, n), dt) for name in names}
                times = {name: [] for name in names}
                for rnd in range(args.reps + 1):
                    for name in names:
                        c = cs[name]
                        t = time.perf_counter()
                        contenders[name](a, b, c)
                        dt_s = time.perf_counter() - t
                        if rnd == 0:
                            # The untimed first round also checks every result.
                            if ref is not None:
                                err = np.abs(c - ref).max() / max(np.abs(ref).max(), 1e-300)
                            else:
                                err = np.abs(c - cs[names[0]]).max() / np.abs(cs[names[0]]).max()
                            tol = 1e-3 if dt == np.float32 else 1e-10
                            if not err < tol:
                                sys.exit(f"{name} {n} {np.dtype(dt).name}: relative error {err}")
                        else:
                            times[name].append(dt_s)
                med = {name: statistics.median(times[name]) for name in names}
                rows.append((np.dtype(dt).name, n, med))
                print(np.dtype(dt).name, n, {k: f"{v:.4f}" for k, v in med.items()}, flush=True)
    load_end = loadavg()

    model, caches = machine()
    lines = [
        "# strass through its C and Python interfaces, beside OpenBLAS through the same ones\n",
        f"CPU: {model}; caches (cpu0): {caches}; {os.cpu_count()} logical cores  ",
        f"System OpenBLAS (C interface): {ob_config}, core {ob_core}  ",
        "numpy's BLAS: " + "; ".join(
            f"{i.get('internal_api')} {i.get('version')} core {i.get('architecture')} "
            f"({os.path.basename(i.get('filepath', ''))})" for i in np_blas) + "  ",
        f"numpy {np.__version__}, Python {platform.python_version()}, strass {strass.__version__}  ",
        f"Date: {time.strftime('%Y-%m-%d', time.gmtime())}; load average before: {load_start}; "
        f"after: {load_end}  ",
        f"Command: `python python/bench/interfaces.py --lib {args.lib} --sizes {args.sizes} "
        f"--reps {args.reps}`\n",
        "One process, one thread (threadpoolctl for numpy, `openblas_set_num_threads(1)`, "
        "`strass.set_num_threads(1)`, `STRASS_NUM_THREADS=1`), square row-major products into a "
        f"preallocated C, the four contenders alternating; one untimed round (which also checks "
        f"every result), then the median of {args.reps} rounds. Ratio = OpenBLAS time / strass "
        "time through the same interface (numpy @ against strass.matmul, C against C).\n",
        "| dtype | n | numpy @ s | strass.matmul s | Python ratio | OpenBLAS cblas s | "
        "strass-blas cblas s | C ratio | strass.matmul / strass-blas |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for dtype, n, med in rows:
        lines.append(
            f"| {dtype} | {n} | {med['numpy @']:.4f} | {med['strass.matmul']:.4f} | "
            f"{med['numpy @'] / med['strass.matmul']:.3f} | {med['OpenBLAS cblas']:.4f} | "
            f"{med['strass-blas cblas']:.4f} | "
            f"{med['OpenBLAS cblas'] / med['strass-blas cblas']:.3f} | "
            f"{med['strass.matmul'] / med['strass-blas cblas']:.3f} |")
    lines += [
        "\nCost of one call (a whole 1x1x1 product through the interface: an upper bound on the "
        "wrapper's fixed cost, which is all it adds for contiguous operands), and that bound as a "
        "share of the interface's 2048^3 time:\n",
        "| dtype | interface | 1x1x1 call | share of 2048^3 |",
        "| --- | --- | ---: | ---: |",
    ]
    for dtype in ("float32", "float64"):
        big = next((med for d, n, med in rows if d == dtype and n == 2048), None)
        for name in names:
            t = tiny[(dtype, name)]
            share = f"{100 * t / big[name]:.5f}%" if big else "-"
            lines.append(f"| {dtype} | {name} | {t * 1e6:.2f} us | {share} |")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    print("wrote", out, file=sys.stderr)


if __name__ == "__main__":
    main()
