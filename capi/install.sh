#!/usr/bin/env bash
# Installs libstrass_blas (shared and static), strass_blas.h and strass-blas.pc under PREFIX
# (default /usr/local): capi/install.sh [PREFIX]. Builds the library first.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-/usr/local}"
libdir="$prefix/lib"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' capi/Cargo.toml | head -1)"
cargo build --release -p strass-blas
install -d "$libdir/pkgconfig" "$prefix/include"
install -m 755 target/release/libstrass_blas.so "$libdir/"
install -m 644 target/release/libstrass_blas.a "$libdir/"
install -m 644 capi/include/strass_blas.h "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@LIBDIR@|$libdir|g" -e "s|@VERSION@|$version|g" \
  capi/strass-blas.pc.in >"$libdir/pkgconfig/strass-blas.pc"
echo "installed under $prefix (pkg-config --cflags --libs strass-blas with PKG_CONFIG_PATH=$libdir/pkgconfig)"
