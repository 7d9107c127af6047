#!/usr/bin/env bash
# Benchmarks bpflink against the reference (system libbpf / bpftool) side by side in one run and
# prints ratios. Not a test: numbers vary with the machine.
#   bench/run.sh STAGE_PREFIX [open-load|link|all]
set -euo pipefail
cd "$(dirname "$0")/.."
stage=$(realpath "${1:?usage: bench/run.sh STAGE_PREFIX [open-load|link|all]}")
what=${2:-all}
out=build/bench
mkdir -p "$out"
scripts/build-bpf.sh build/bpf-objs >/dev/null

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }

# Objects both implementations load on this kernel (decided by the reference, libbpf).
loadable_corpus() {
  local obj
  for obj in build/bpf-objs/*.bpf.o /usr/lib/x86_64-linux-gnu/bpf/*.o; do
    "$out/open_load.libbpf" 1 "$obj" >/dev/null 2>&1 && echo "$obj"
  done
}

bench_open_load() {
  cc -O2 -o "$out/open_load.libbpf" bench/open_load.c -lbpf
  # shellcheck disable=SC2046
  cc -O2 -o "$out/open_load.bpflink" bench/open_load.c $(PKG_CONFIG_PATH=$stage/lib/pkgconfig pkg-config --cflags --libs bpflink) -Wl,-rpath,"$stage/lib"
  mapfile -t objs < <(loadable_corpus)
  local iterations=${BENCH_ITERATIONS:-20}
  echo "open+load+close: ${#objs[@]} objects x $iterations iterations"
  local ref ours
  ref=$("$out/open_load.libbpf" "$iterations" "${objs[@]}") || true
  ours=$("$out/open_load.bpflink" "$iterations" "${objs[@]}") || true
  printf '  libbpf : %s\n  bpflink: %s\n' "$ref" "$ours"
  echo "  ratio bpflink/libbpf: user CPU $(ratio "$(field user_s "$ours")" "$(field user_s "$ref")"), wall $(ratio "$(field wall_s "$ours")" "$(field wall_s "$ref")"), peak RSS $(ratio "$(field maxrss_kib "$ours")" "$(field maxrss_kib "$ref")")"
}

case "$what" in
  open-load) bench_open_load ;;
  link) [ -x bench/link.sh ] && bench/link.sh "$stage" ;;
  all) bench_open_load; [ -x bench/link.sh ] && bench/link.sh "$stage" ;;
esac
