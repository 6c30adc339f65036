#!/usr/bin/env python3
"""End-to-end tests of strass-mpi under mpirun at small sizes (CI runs this; a few minutes).

Usage: mpi/tests/run.py [path/to/strass-mpi]   (default: $CARGO_TARGET_DIR or target/, release)

Checks: correct products (random projection) on 1, 4 and 7 ranks for CAPS, SUMMA and auto,
f64 and f32; bytes sent equal to the formula; tracked memory equal to the model; the same
matrices whatever the rank count (checksum); a DFS schedule under a memory limit; that the
check catches a wrong C; block files written and read back, refused with other ranks, and
no partial set left when one rank cannot write; bad options, mismatched arguments and a dying
rank ending every rank with a non-zero status.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(
    os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "strass-mpi"
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
TOL = {"f64": 1e-12, "f32": 1e-5}
passed, failed = 0, 0


def mpirun(np, *args, timeout=120):
    cmd = ["mpirun", "--oversubscribe", "-np", str(np), str(BIN), *map(str, args)]
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)


def case(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        failed += 1
        print(f"FAIL {name}: {e}")


def report(r):
    if r.returncode != 0:
        raise AssertionError(f"exit {r.returncode}: {r.stderr[-2000:]}")
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert len(lines) == 1, f"expected one JSON line, got {r.stdout!r}"
    return json.loads(lines[0])


checksums = {}


def product(np, m, k, n, alg, dtype="f64", *extra):
    def run():
        j = report(mpirun(np, "--m", m, "--k", k, "--n", n, "--algorithm", alg,
                          "--dtype", dtype, "--check", *extra))
        assert j["ranks"] == np and (j["m"], j["k"], j["n"]) == (m, k, n), j
        if alg != "auto":
            assert j["algorithm"] == alg, j
        assert j["max_rel_err"] is not None and j["max_rel_err"] < TOL[dtype], j["max_rel_err"]
        assert j["bytes_sent_max"] == j["bytes_theory"], (j["bytes_sent_max"], j["bytes_theory"])
        assert j["memory_peak_max"] == j["memory_model"], (j["memory_peak_max"], j["memory_model"])
        assert (np == 1) == (j["bytes_sent_max"] == 0), j["bytes_sent_max"]
        key = (m, k, n, dtype)
        checksums.setdefault(key, j["input_checksum"])
        assert abs(checksums[key] - j["input_checksum"]) <= 1e-9 * max(1.0, abs(checksums[key])), \
            "the matrices depend on the rank count"
        return j
    return run


def fails(np, *args, want=None, code=None):
    def run():
        r = mpirun(np, *args, timeout=60)
        assert r.returncode != 0, f"exit 0 for {args}: {r.stdout}"
        if code is not None:
            assert r.returncode == code, f"exit {r.returncode}, want {code}"
        if want:
            assert want in r.stderr, f"{want!r} not in {r.stderr[-1500:]!r}"
        assert "panicked" not in r.stderr and "RUST_BACKTRACE" not in r.stderr, r.stderr
        assert not [l for l in r.stdout.splitlines() if l.startswith("{")], r.stdout
    return run


for np, alg in [(1, "caps"), (1, "summa"), (4, "summa"), (4, "auto"), (7, "caps"), (7, "summa")]:
    for (m, k, n) in [(700, 700, 700), (1000, 700, 1300)]:
        case(f"np={np} {alg} {m}x{k}x{n} f64", product(np, m, k, n, alg))
case("np=7 caps 333x517x129 f32", product(7, 333, 517, 129, "caps", "f32"))
case("np=7 caps --reps 3 (counters and memory per repetition)", product(7, 140, 70, 98, "caps", "f64", "--reps", "3"))
case("--reps 0", lambda: fails(1, "--m", 5, "--k", 5, "--n", 5, "--reps", 0, want="--reps", code=2)())
case("np=4 summa 333x517x129 f32", product(4, 333, 517, 129, "summa", "f32"))
case("np=7 auto 5x3x2 (tiny, heavy padding)", product(7, 5, 3, 2, "auto"))


def forty_nine():
    j = product(49, 300, 200, 250, "caps")()
    assert j["schedule"] == {"dfs": 0, "bfs": 2} and j["padded"] == [392, 392, 252], j
case("np=49 caps 300x200x250 (two BFS steps)", forty_nine)
case("np=49 summa 300x200x250", product(49, 300, 200, 250, "summa"))


def forty_nine_dfs():
    j = product(49, 300, 200, 250, "caps", "f64", "--memory-limit", "250K")()
    assert j["schedule"] == {"dfs": 1, "bfs": 2} and j["memory_peak_max"] <= 250 * 1024, j
case("np=49 caps with a DFS step under --memory-limit", forty_nine_dfs)
# CAPS on 7^b 2^c ranks: leaves shared by 2 or 4 ranks (ring all-gather of B).
case("np=2 caps 1000x700x1300", product(2, 1000, 700, 1300, "caps"))
case("np=4 caps 700x700x700", product(4, 700, 700, 700, "caps"))
case("np=14 caps 1000x700x1300", product(14, 1000, 700, 1300, "caps"))
case("np=28 caps 333x517x129 f32", product(28, 333, 517, 129, "caps", "f32"))
# Grids whose sides differ (panels owned by different grid rows and columns).
case("np=6 summa (2x3) 301x205x250", product(6, 301, 205, 250, "summa"))
case("np=12 summa (3x4) 301x205x250", product(12, 301, 205, 250, "summa"))


def dfs_under_memory_limit():
    # Unlimited: no DFS step. With 70% of that memory CAPS must take a DFS step and still be
    # right (one DFS step needs 2/3 here: the shares of A, B and C themselves stay).
    j0 = product(7, 700, 700, 700, "caps")()
    assert j0["schedule"] == {"dfs": 0, "bfs": 1}, j0["schedule"]
    lim = int(j0["memory_model"] * 0.7)
    j1 = product(7, 700, 700, 700, "caps", "f64", "--memory-limit", lim)()
    assert j1["schedule"]["dfs"] >= 1 and j1["memory_peak_max"] <= lim, j1
    # DFS steps repeat the BFS exchanges on smaller blocks: 7/4 the bytes per DFS step.
    assert j1["bytes_sent_max"] > j0["bytes_sent_max"], (j0, j1)
case("np=7 caps takes DFS steps under --memory-limit", dfs_under_memory_limit)


def check_catches_wrong_c():
    j = report(mpirun(7, "--m", 100, "--k", 70, "--n", 130, "--algorithm", "caps", "--check", "--perturb"))
    assert j["max_rel_err"] > 1e-8, j["max_rel_err"]
case("the check catches a wrong C", check_catches_wrong_c)


def save_and_load():
    with tempfile.TemporaryDirectory() as d:
        pre = Path(d) / "x"
        j1 = report(mpirun(7, "--m", 90, "--k", 60, "--n", 50, "--algorithm", "caps", "--seed", 9,
                           "--save", pre))
        files = sorted(p.name for p in Path(d).iterdir())
        assert files == sorted(f"x.{w}.rank{r}.smb" for w in "abc" for r in range(7)), files
        # Loaded instead of generated (seed 1 would give other matrices): same checksum, correct.
        j2 = report(mpirun(7, "--m", 90, "--k", 60, "--n", 50, "--algorithm", "caps", "--load", pre, "--check"))
        assert j2["input_checksum"] == j1["input_checksum"], (j1, j2)
        assert j2["max_rel_err"] < 1e-12, j2
        # Different ranks or shape: refused with a clear message.
        fails(4, "--m", 90, "--k", 60, "--n", 50, "--algorithm", "summa", "--load", pre, want="this run needs")()
        fails(7, "--m", 91, "--k", 60, "--n", 50, "--algorithm", "caps", "--load", pre, want="this run needs")()
        fails(7, "--m", 90, "--k", 60, "--n", 50, "--algorithm", "caps", "--dtype", "f32", "--load", pre,
              want="8-byte")()
case("block files: save, load, refuse a mismatch", save_and_load)


def save_and_load_grid_f32():
    with tempfile.TemporaryDirectory() as d:
        pre = Path(d) / "g"
        args = ["--m", 31, "--k", 20, "--n", 25, "--algorithm", "summa", "--dtype", "f32"]
        j1 = report(mpirun(6, *args, "--seed", 4, "--save", pre))
        assert len(list(Path(d).iterdir())) == 18
        j2 = report(mpirun(6, *args, "--load", pre, "--check"))
        assert j2["input_checksum"] == j1["input_checksum"] and j2["max_rel_err"] < 1e-5, (j1, j2)
case("block files in the grid layout, f32", save_and_load_grid_f32)


def no_partial_output():
    with tempfile.TemporaryDirectory() as d:
        pre = Path(d) / "y"
        # Rank 3 cannot rename its C file into place (a directory is in the way).
        (Path(d) / "y.c.rank3.smb").mkdir()
        (Path(d) / "y.c.rank3.smb" / "keep").write_text("x")
        fails(7, "--m", 90, "--k", 60, "--n", 50, "--algorithm", "caps", "--save", pre, want="rank 3")()
        left = sorted(p.name for p in Path(d).iterdir())
        assert left == ["y.c.rank3.smb"], left
        # A directory that does not exist: nothing written anywhere.
        fails(7, "--m", 9, "--k", 6, "--n", 5, "--save", Path(d) / "nope" / "z", code=1)()
case("no partial set of block files is left", no_partial_output)

case("bad option", fails(4, "--m", 10, "--k", 10, "--n", 10, "--bogus", want="--bogus", code=2))
case("zero dimension", fails(4, "--m", 0, "--k", 10, "--n", 10, want="zero dimension", code=2))
case("bad dtype", fails(2, "--m", 5, "--k", 5, "--n", 5, "--dtype", "f16", want="f16", code=2))
case("CAPS on 6 ranks", fails(6, "--m", 10, "--k", 10, "--n", 10, "--algorithm", "caps",
                              want="7^b 2^c", code=2))
case("memory limit too small", fails(7, "--m", 100, "--k", 100, "--n", 100, "--algorithm", "caps",
                                      "--memory-limit", "10K", want="memory limit", code=2))


def mismatched_arguments():
    cmd = ["mpirun", "--oversubscribe", "-np", "2", str(BIN), "--m", "10", "--k", "10", "--n", "10",
           ":", "-np", "1", str(BIN), "--m", "11", "--k", "10", "--n", "10"]
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "rank 2 was started with different arguments" in r.stderr, r.stderr
case("mismatched arguments across ranks", mismatched_arguments)
case("a rank dying inside a CAPS exchange", fails(7, "--m", 300, "--k", 300, "--n", 300, "--algorithm", "caps",
                                                 "--fail-rank", 3, want="in the middle of the multiplication"))
case("a rank dying inside a SUMMA broadcast", fails(4, "--m", 300, "--k", 300, "--n", 300, "--algorithm", "summa",
                                                   "--fail-rank", 2, want="in the middle of the multiplication"))

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
