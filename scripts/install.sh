#!/usr/bin/env bash
# Installs bpflink into PREFIX:
#   PREFIX/include/bpflink.h, PREFIX/include/bpf/{libbpf,bpf,btf,libbpf_common,libbpf_version}.h,
#   PREFIX/lib/libbpflink.so.1, PREFIX/lib/libbpflink.so -> libbpflink.so.1, PREFIX/lib/libbpflink.a,
#   PREFIX/lib/pkgconfig/bpflink.pc, PREFIX/lib/bpflink-compat/libbpf.so.1, PREFIX/bin/bpflink.
#   scripts/install.sh PREFIX [--libs DIR] [--debug]
# --libs: where scripts/build-libs.sh put the libraries (default: build/lib);
# --debug: take the CLI from target/debug instead of target/release.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=
libs=$root/build/lib
profile=release
while [ $# -gt 0 ]; do
  case "$1" in
    --libs) libs=${2:?--libs needs a directory}; shift 2 ;;
    --debug) profile=debug; shift ;;
    -*) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    *) prefix=$1; shift ;;
  esac
done
[ -n "$prefix" ] || { echo "usage: install.sh PREFIX [--libs DIR] [--debug]" >&2; exit 2; }
mkdir -p "$prefix"
prefix=$(realpath "$prefix")
cli=${CARGO_TARGET_DIR:-$root/target}/$profile/bpflink
for f in "$libs/libbpflink.so.1" "$libs/libbpflink.a" "$libs/bpflink-compat/libbpf.so.1" "$cli"; do
  [ -f "$f" ] || { echo "install.sh: $f is missing (run cargo build and scripts/build-libs.sh)" >&2; exit 1; }
done
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)

install -D -m 0644 "$root/include/bpflink.h" "$prefix/include/bpflink.h"
for h in libbpf.h bpf.h btf.h libbpf_common.h libbpf_version.h; do
  install -D -m 0644 "$root/include/bpf/$h" "$prefix/include/bpf/$h"
done
install -D -m 0755 "$libs/libbpflink.so.1" "$prefix/lib/libbpflink.so.1"
ln -sfn libbpflink.so.1 "$prefix/lib/libbpflink.so"
install -D -m 0644 "$libs/libbpflink.a" "$prefix/lib/libbpflink.a"
install -D -m 0755 "$libs/bpflink-compat/libbpf.so.1" "$prefix/lib/bpflink-compat/libbpf.so.1"
mkdir -p "$prefix/lib/pkgconfig"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" "$root/pkgconfig/bpflink.pc.in" \
  >"$prefix/lib/pkgconfig/bpflink.pc"
install -D -m 0755 "$cli" "$prefix/bin/bpflink"
echo "install.sh: installed bpflink $version into $prefix"
