#!/usr/bin/env bash
# Dynamic vs static linking benchmark (issue 5), side by side in one guest boot:
#   16 XDP programs each calling one shared function that costs the verifier > 50k processed
#   instructions (bench/bpf/dyn_heavy.bpf.c, dyn_callers.bpf.c), loaded
#   (a) with bpflink dynamic linking: the library, then the callers (one EXT, 16 links);
#   (b) statically linked: `bpflink link` + bpflink load, and `bpftool gen object` + libbpf load.
# Reports load time and verifier-processed instructions (prog info verified_insns of every
# program the loads created), and the per-packet cost (BPF_PROG_TEST_RUN with repeat) of a
# dynamically vs statically linked call. Not a test: numbers vary with the machine. The host
# kernel refuses BPF_PROG_TYPE_EXT, so the measurements run in a guest kernel.
#   bench/dynlink.sh STAGE_PREFIX [--kernel 6.12|6.1]
#   (inside the guest: bench/dynlink.sh --guest DIR REPEAT PKT_REPEAT)
# BENCH_REPEAT (default 5) loads/measurements per variant, best kept; BENCH_PKT_REPEAT (default
# 200000) test runs per per-packet measurement.
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${BENCH_REPEAT:-5}
pkt_repeat=${BENCH_PKT_REPEAT:-200000}

best() { # CMD... -> the run with the smallest first field value (load_ms= or ns_per_run=)
  local line best_line="" best_value=""
  for _ in $(seq "$reps"); do
    line=$("$@")
    value=$(sed -E 's/^[a-z_]+=([0-9.]+).*/\1/' <<<"$line")
    if [ -z "$best_value" ] || python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$value" "$best_value"; then
      best_value=$value best_line=$line
    fi
  done
  echo "$best_line"
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }

guest() {
  local dir=$1 a b1 b2
  echo "kernel $(uname -r); best of $reps loads each; each load in a fresh process"
  a=$(best "$dir/dynlink.bpflink" load "$dir/dyn_heavy.bpf.o" "$dir/dyn_callers.bpf.o")
  b1=$(best "$dir/dynlink.bpflink" load "$dir/static.bpflink.o")
  b2=$(best "$dir/dynlink.libbpf" load "$dir/static.bpftool.o")
  printf '%-52s %s\n' "(a)  bpflink dynamic (library, then 17 callers)" "$a"
  printf '%-52s %s\n' "(b1) bpflink static (bpflink link, bpflink load)" "$b1"
  printf '%-52s %s\n' "(b2) libbpf static (bpftool gen object, libbpf load)" "$b2"
  echo "load time: (b1)/(a) = $(ratio "$(field load_ms "$b1")" "$(field load_ms "$a")")x, (b2)/(a) = $(ratio "$(field load_ms "$b2")" "$(field load_ms "$a")")x  (goal: >= 5x)"
  echo "verifier-processed insns: (b1)/(a) = $(ratio "$(field verified_insns "$b1")" "$(field verified_insns "$a")")x, (b2)/(a) = $(ratio "$(field verified_insns "$b2")" "$(field verified_insns "$a")")x"
  echo "per-packet cost, $pkt_repeat runs per measurement, best of $reps:"
  local prog sd ss sl
  for prog in tiny_caller heavy_caller_0; do
    sd=$(best "$dir/dynlink.bpflink" pkt "$prog" "$pkt_repeat" "$dir/dyn_heavy.bpf.o" "$dir/dyn_callers.bpf.o")
    ss=$(best "$dir/dynlink.bpflink" pkt "$prog" "$pkt_repeat" "$dir/static.bpflink.o")
    sl=$(best "$dir/dynlink.libbpf" pkt "$prog" "$pkt_repeat" "$dir/static.bpftool.o")
    printf '  %-15s dynamic %s | static (bpflink) %s | static (libbpf) %s\n' "$prog" "$sd" "$ss" "$sl"
    echo "  $prog: dynamic/static = $(ratio "$(field ns_per_run "$sd")" "$(field ns_per_run "$ss")")x (bpflink static), $(ratio "$(field ns_per_run "$sd")" "$(field ns_per_run "$sl")")x (libbpf static)  (goal: <= 1.1x)"
  done
}

if [ "${1:-}" = "--guest" ]; then
  reps=$3 pkt_repeat=$4
  guest "$2"
  exit
fi

stage=$(realpath "${1:?usage: bench/dynlink.sh STAGE_PREFIX [--kernel 6.12|6.1]}")
shift
out=$PWD/build/bench/dynlink
mkdir -p "$out"
for f in dyn_heavy dyn_callers; do
  clang-19 -target bpf -O2 -g -I/usr/include/x86_64-linux-gnu -c "bench/bpf/$f.bpf.c" -o "$out/$f.bpf.o"
done
"$stage/bin/bpflink" link -o "$out/static.bpflink.o" "$out/dyn_callers.bpf.o" "$out/dyn_heavy.bpf.o"
bpftool gen object "$out/static.bpftool.o" "$out/dyn_callers.bpf.o" "$out/dyn_heavy.bpf.o"
cc -O2 -o "$out/dynlink.libbpf" bench/dynlink.c -lbpf
# shellcheck disable=SC2046
cc -O2 -o "$out/dynlink.bpflink" bench/dynlink.c $(PKG_CONFIG_PATH=$stage/lib/pkgconfig pkg-config --cflags --libs bpflink) -Wl,-rpath,"$stage/lib"
scripts/vm-run "$@" -- bench/dynlink.sh --guest "$out" "$reps" "$pkt_repeat" </dev/null
