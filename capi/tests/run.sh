#!/usr/bin/env bash
# The C tests of libstrass_blas (needs gcc and OpenBLAS's libopenblas.so.0 and libblas.so.3,
# Debian: libopenblas-dev). Run from anywhere: capi/tests/run.sh [BIG], BIG (default 300) being
# the large dimension of the comparison. Steps (0: the header alone):
#  1. gemm_test linked to libstrass_blas.so, compared with OpenBLAS (exit 0 expected);
#  2. the same program linked to the static libstrass_blas.a through the pkg-config file;
#  3. the same program linked to the system BLAS (-lblas) without LD_PRELOAD: its calls must
#     *not* reach strass (exit 3: this shows the check of step 4 can fail);
#  4. that program under LD_PRELOAD=libstrass_blas.so: every call reaches strass and passes.
set -euo pipefail
cd "$(dirname "$0")/../.."
big="${1:-300}"
cargo build --release -p strass-blas
lib="$PWD/target/release"
out="$PWD/target/capi-tests"
mkdir -p "$out"
cflags=(-O2 -Wall -Wextra -Werror -std=c11 -Icapi/include)

echo "== 0. the header compiles as C++ and after the system cblas.h"
if command -v g++ >/dev/null; then
  g++ -fsyntax-only -Wall -Werror -x c++ capi/include/strass_blas.h
fi
printf '#include <cblas.h>\n#include "strass_blas.h"\nint main(void) { return 0; }\n' |
  gcc "${cflags[@]}" -fsyntax-only -x c -

echo "== 1. linked to libstrass_blas.so"
gcc "${cflags[@]}" capi/tests/gemm_test.c -o "$out/gemm_test_shared" \
  -L"$lib" -lstrass_blas -Wl,-rpath,"$lib" -ldl -lm
"$out/gemm_test_shared" "$big"

echo "== 2. linked to libstrass_blas.a (flags from strass-blas.pc)"
pcdir="$out/pkgconfig"
mkdir -p "$pcdir"
sed -e "s|@PREFIX@|$PWD/capi|g" -e "s|@LIBDIR@|$lib|g" -e "s|@VERSION@|0.1.0|g" \
  capi/strass-blas.pc.in >"$pcdir/strass-blas.pc"
if command -v pkg-config >/dev/null; then
  pc_cflags="$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags strass-blas)"
  pc_libs="$(PKG_CONFIG_PATH="$pcdir" pkg-config --static --libs-only-other --libs-only-l strass-blas | sed 's/-lstrass_blas//')"
else
  pc_cflags="-I$PWD/capi/include"
  pc_libs="$(sed -n 's/^Libs.private: //p' capi/strass-blas.pc.in)"
fi
# -rdynamic: the program finds strass_blas_calls with dlsym, which sees only exported symbols.
# shellcheck disable=SC2086
gcc "${cflags[@]}" $pc_cflags -rdynamic capi/tests/gemm_test.c -o "$out/gemm_test_static" \
  "$lib/libstrass_blas.a" $pc_libs
"$out/gemm_test_static" 40

echo "== 3. linked to the system BLAS, no LD_PRELOAD: calls must not reach strass"
gcc "${cflags[@]}" capi/tests/gemm_test.c -o "$out/gemm_test_sysblas" -lblas -ldl -lm
set +e
"$out/gemm_test_sysblas" "$big"
rc=$?
set -e
if [ "$rc" -ne 3 ]; then
  echo "expected exit status 3 (calls do not reach strass), got $rc" >&2
  exit 1
fi

echo "== 4. linked to the system BLAS, LD_PRELOAD=libstrass_blas.so"
LD_PRELOAD="$lib/libstrass_blas.so" "$out/gemm_test_sysblas" "$big"
echo "capi tests passed"
