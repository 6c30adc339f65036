#!/usr/bin/env bash
# The measurements of issue 25 on one machine, over loopback (mpirun --oversubscribe):
# strass-mpi CAPS and SUMMA against ScaLAPACK PDGEMM (Debian libscalapack-openmpi-dev over
# OpenBLAS, one thread per rank) on the same ranks and shapes, bytes sent against the formulas,
# and the cost model for 49-2401 ranks fed with the measured per-rank compute rate.
#
#   mpi/bench/run.sh                      # full run: P = 1 4 7 49, writes bench-results/mpi/
#   STRASS_MPI_BENCH_QUICK=1 mpi/bench/run.sh   # tiny sizes (CI), to target/bench-results-quick/mpi
#
# Environment: STRASS_MPI_BENCH_RANKS ("1 4 7 49"), STRASS_MPI_BENCH_SHAPES ("1960 1960x980x2940",
# each n or MxKxN), STRASS_MPI_BENCH_REPS (3: repetitions in one run, median), STRASS_MPI_BENCH_OUT (output folder),
# STRASS_MPI_MODEL_GBPS / STRASS_MPI_MODEL_LATENCY_US (network of the scaling model: 5 GB/s,
# 2 us), CARGO_TARGET_DIR. Needs libopenmpi-dev, openmpi-bin, libscalapack-openmpi-dev,
# libopenblas-dev and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
if [[ -n "${STRASS_MPI_BENCH_QUICK:-}" ]]; then
  RANKS="${STRASS_MPI_BENCH_RANKS:-1 4 7}"
  SHAPES="${STRASS_MPI_BENCH_SHAPES:-196 98x140x70}"
  REPS="${STRASS_MPI_BENCH_REPS:-1}"
  OUT="${STRASS_MPI_BENCH_OUT:-$TARGET/bench-results-quick/mpi}"
else
  RANKS="${STRASS_MPI_BENCH_RANKS:-1 4 7 49}"
  SHAPES="${STRASS_MPI_BENCH_SHAPES:-1960 1960x980x2940}"
  REPS="${STRASS_MPI_BENCH_REPS:-3}"
  OUT="${STRASS_MPI_BENCH_OUT:-$ROOT/bench-results/mpi}"
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1 STRASS_NUM_THREADS=1

cargo build --release -p strass-mpi
BIN="$TARGET/release/strass-mpi"
MODEL="$TARGET/release/strass-mpi-model"
mkdir -p "$OUT" "$TARGET/mpi-bench"
PDGEMM="$TARGET/mpi-bench/pdgemm"
mpicc -O2 -o "$PDGEMM" mpi/bench/pdgemm.c -lscalapack-openmpi -lopenblas -lm

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
raw="$work/raw.jsonl"
: >"$raw"
for p in $RANKS; do
  for shape in $SHAPES; do
    if [[ "$shape" == *x*x* ]]; then IFS=x read -r m k n <<<"$shape"; else m=$shape k=$shape n=$shape; fi
    algs="summa"
    case "$p" in 1 | 2 | 4 | 7 | 8 | 14 | 16 | 28 | 49 | 56 | 98 | 196 | 343 | 2401) algs="caps summa" ;; esac
    for alg in $algs; do
      mpirun --oversubscribe -np "$p" "$BIN" --m "$m" --k "$k" --n "$n" --algorithm "$alg" --check \
        --reps "$REPS" | sed 's/^{/{"tool":"strass-mpi",/' >>"$raw"
    done
    mpirun --oversubscribe -np "$p" "$PDGEMM" "$m" "$k" "$n" 128 "$REPS" \
      | sed 's/^{/{"tool":"pdgemm","algorithm":"pdgemm",/' >>"$raw"
    echo "P=$p $shape done" >&2
  done
done

python3 - "$raw" "$OUT" "$MODEL" "$PDGEMM" "${STRASS_MPI_MODEL_GBPS:-5}" "${STRASS_MPI_MODEL_LATENCY_US:-2}" <<'PY'
import json, os, statistics, subprocess, sys, platform, tempfile
raw, out, model, pdgemm, gbps, lat = sys.argv[1:7]
rows = [json.loads(l) for l in open(raw) if l.strip()]
groups = {}
for r in rows:
    key = (r["tool"], r["algorithm"], r["ranks"], r["m"], r["k"], r["n"])
    groups.setdefault(key, []).append(r)
def cpu():
    try:
        for l in open("/proc/cpuinfo"):
            if l.startswith("model name"):
                return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
mpiv = subprocess.run(["mpirun", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
blas = [l.split("=>")[0].strip() for l in subprocess.run(["ldd", pdgemm], capture_output=True, text=True).stdout.splitlines() if "blas" in l]
machine = f"{cpu()}, {os.cpu_count()} logical CPUs, {mpiv}, PDGEMM BLAS: {' '.join(blas)}, one thread per rank, loopback (--oversubscribe)"
def tmp_write(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
csv = ["tool,algorithm,ranks,m,k,n,reps,seconds_median,gflops,bytes_sent_max,bytes_theory,bytes_lower_bound,memory_peak_max,max_rel_err,schedule"]
table = {}
for key, rs in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][3:], kv[0][1])):
    tool, alg, p, m, k, n = key
    secs = statistics.median(r["seconds"] for r in rs)
    reps = rs[0].get("reps", len(rs))
    r0 = rs[0]
    sched = r0.get("schedule") or r0.get("grid") or ""
    if isinstance(sched, dict):
        sched = f"dfs={sched['dfs']} bfs={sched['bfs']}"
    elif isinstance(sched, list):
        sched = f"grid {sched[0]}x{sched[1]}"
    err = max(r["max_rel_err"] for r in rs)
    csv.append(",".join(str(x) for x in [tool, alg, p, m, k, n, reps, f"{secs:.6f}", f"{2*m*k*n/secs/1e9:.3f}",
               r0.get("bytes_sent_max", ""), r0.get("bytes_theory", ""), f"{r0['bytes_lower_bound']:.0f}" if "bytes_lower_bound" in r0 else "",
               r0.get("memory_peak_max", ""), f"{err:.3g}", sched]))
    table.setdefault((p, m, k, n), {})[alg] = (secs, r0, sched, err)
tmp_write(os.path.join(out, "results.csv"), "\n".join(csv) + "\n")
md = ["# strass-mpi on one machine: CAPS and SUMMA against ScaLAPACK PDGEMM", "",
      f"Machine: {machine}. Median of the runs; f64; time of the multiplication only (inputs already distributed in each code's own layout). `sent/theory`: bytes sent by the busiest rank over the formula of mpi/src/cost.rs. Produced by `mpi/bench/run.sh`.", "",
      "| P | shape | CAPS s | SUMMA s | PDGEMM s | PDGEMM / CAPS | PDGEMM / SUMMA | CAPS schedule | CAPS sent / theory | SUMMA sent / theory | max err |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
for (p, m, k, n), d in sorted(table.items()):
    def s(a): return f"{d[a][0]:.4f}" if a in d else "-"
    def ratio(a): return f"{d['pdgemm'][0]/d[a][0]:.2f}x" if a in d and "pdgemm" in d else "-"
    def sent(a):
        if a not in d: return "-"
        r = d[a][1]
        return f"{r['bytes_sent_max']} / {r['bytes_theory']}"
    err = max(v[3] for v in d.values())
    md.append(f"| {p} | {m}x{k}x{n} | {s('caps')} | {s('summa')} | {s('pdgemm')} | {ratio('caps')} | {ratio('summa')} | {d['caps'][2] if 'caps' in d else '-'} | {sent('caps')} | {sent('summa')} | {err:.2g} |")
# Scaling model: per-rank rate from the one-rank CAPS run of the largest shape.
ones = [(m*k*n, r0["gflops"]) for (p, m, k, n), d in table.items() if p == 1 and "caps" in d for r0 in [d["caps"][1]]]
if ones:
    rate = max(ones)[1]
    csvm = subprocess.run([model, "--gflops", f"{rate:.3f}", "--gbps", gbps, "--latency-us", lat],
                          capture_output=True, text=True, check=True).stdout
    tmp_write(os.path.join(out, "scaling-model.csv"), csvm)
    lines = [l.split(",") for l in csvm.strip().splitlines()[1:]]
    md += ["", "## Scaling model, 49-2401 ranks", "",
           f"Modelled with `strass-mpi-model` (mpi/src/cost.rs): per-rank local rate {rate:.1f} GFLOP/s measured above (one rank, CAPS = strass's engine alone), network {gbps} GB/s per rank and {lat} us per message, 4 GiB of matrix buffers per rank, no overlap of communication and computation. A model, not a measurement. Plot: scaling-model.svg.", "",
           "| algorithm | P | n | DFS | BFS | seconds | comm s | GB sent per rank | total GFLOP/s |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for l in lines:
        md.append(f"| {l[0]} | {l[1]} | {l[2]} | {l[3] or '-'} | {l[4] or '-'} | {float(l[5]):.3f} | {float(l[7]):.3f} | {int(l[8])/1e9:.2f} | {l[10]} |")
    # Plot: total GFLOP/s against P (log-log), one line per algorithm and n.
    series = {}
    for l in lines:
        series.setdefault(f"{l[0]} n={l[2]}", []).append((int(l[1]), float(l[10])))
    import math
    W, H, L, B = 640, 400, 70, 50
    xs = [p for s in series.values() for p, _ in s]; ys = [g for s in series.values() for _, g in s]
    x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    y0, y1 = math.log10(min(ys)) - 0.1, math.log10(max(ys)) + 0.1
    X = lambda v: L + (math.log10(v) - x0) / (x1 - x0) * (W - L - 20)
    Y = lambda v: H - B - (math.log10(v) - y0) / (y1 - y0) * (H - B - 30)
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W/2}" y="18" text-anchor="middle">Modelled total GFLOP/s (f64) vs ranks, {gbps} GB/s, {lat} us, {rate:.1f} GFLOP/s per rank</text>',
           f'<line x1="{L}" y1="{H-B}" x2="{W-20}" y2="{H-B}" stroke="black"/><line x1="{L}" y1="{H-B}" x2="{L}" y2="30" stroke="black"/>',
           f'<text x="{W/2}" y="{H-10}" text-anchor="middle">ranks P (log)</text>',
           f'<text x="15" y="{H/2}" transform="rotate(-90 15 {H/2})" text-anchor="middle">GFLOP/s (log)</text>']
    for p in sorted(set(xs)):
        svg.append(f'<text x="{X(p):.1f}" y="{H-B+15}" text-anchor="middle">{p}</text>')
    for e in range(int(math.floor(y0)), int(math.ceil(y1)) + 1):
        if y0 <= e <= y1:
            svg.append(f'<text x="{L-5}" y="{Y(10**e)+4:.1f}" text-anchor="end">1e{e}</text>')
    for i, (name, pts) in enumerate(sorted(series.items())):
        c = colors[i % len(colors)]
        pts.sort()
        svg.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="' + " ".join(f"{X(p):.1f},{Y(g):.1f}" for p, g in pts) + '"/>')
        svg.append(f'<text x="{L+10}" y="{40+15*i}" fill="{c}">{name}</text>')
    svg.append("</svg>")
    tmp_write(os.path.join(out, "scaling-model.svg"), "\n".join(svg) + "\n")
tmp_write(os.path.join(out, "results.md"), "\n".join(md) + "\n")
print("\n".join(md))
PY
