#!/usr/bin/env bash
# Links bpflink's shared libraries from the Rust staticlib (built beforehand by
# `cargo build [--release]`):
#   OUTDIR/libbpflink.so.1 (SONAME libbpflink.so.1), OUTDIR/libbpflink.so -> libbpflink.so.1,
#   OUTDIR/libbpflink.a, OUTDIR/bpflink-compat/libbpf.so.1 (SONAME libbpf.so.1),
#   OUTDIR/bpflink.map (the generated version script).
# A Rust cdylib cannot carry libbpf's symbol versions (rustc's own version script wins), hence
# the staticlib + `cc -shared --whole-archive` + our version script.
#   scripts/build-libs.sh [--release] OUTDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
profile=debug
if [ "${1:-}" = "--release" ]; then profile=release; shift; fi
out=${1:?usage: build-libs.sh [--release] OUTDIR}
target_dir=${CARGO_TARGET_DIR:-$root/target}
staticlib=$target_dir/$profile/libbpflink.a
[ -f "$staticlib" ] || { echo "build-libs: $staticlib not found; run cargo build${profile/debug/}${profile/release/ --release} first" >&2; exit 1; }
# Native libraries the Rust standard library needs (rustc --print native-static-libs).
native_libs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)

mkdir -p "$out/bpflink-compat"
python3 "$root/scripts/gen-version-script.py" --staticlib "$staticlib" --header "$root/include/bpflink.h" \
  --table "$root/scripts/libbpf-symbol-versions.txt" --output "$out/bpflink.map"

link_shared() { # OUTPUT SONAME
  cc -shared -o "$1" -Wl,-soname,"$2" \
    -Wl,--whole-archive "$staticlib" -Wl,--no-whole-archive \
    -Wl,--version-script="$out/bpflink.map" -Wl,--gc-sections -Wl,--no-undefined \
    -Wl,-z,relro,-z,now "${native_libs[@]}"
}
link_shared "$out/libbpflink.so.1.tmp" libbpflink.so.1
link_shared "$out/bpflink-compat/libbpf.so.1.tmp" libbpf.so.1
mv -f "$out/libbpflink.so.1.tmp" "$out/libbpflink.so.1"
mv -f "$out/bpflink-compat/libbpf.so.1.tmp" "$out/bpflink-compat/libbpf.so.1"
ln -sfn libbpflink.so.1 "$out/libbpflink.so"
cp -f "$staticlib" "$out/libbpflink.a"
echo "build-libs: $out/libbpflink.so.1, $out/bpflink-compat/libbpf.so.1 ($profile)"
