#!/usr/bin/env bash
# Static-linking benchmark: `bpflink link` vs `bpftool gen object` on (a) the test corpus's
# link groups and (b) a generated large input (64 objects, ~3000 BTF types each, many shared
# structs). Prints best wall time, peak RSS and the ratios.
#   bench/link.sh STAGE_PREFIX
set -euo pipefail
cd "$(dirname "$0")/.."
stage=$(realpath "${1:?usage: bench/link.sh STAGE_PREFIX}")
out=build/bench/link
mkdir -p "$out"
objs=build/bpf-objs
scripts/build-bpf.sh "$objs" >/dev/null
repeat=${BENCH_REPEAT:-5}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }

compare() {
  local name=$1; shift
  local ref ours
  ref=$(bench/measure.py "$repeat" bpftool gen object "$out/$name.bpftool.o" "$@")
  ours=$(bench/measure.py "$repeat" "$stage/bin/bpflink" link -o "$out/$name.bpflink.o" "$@")
  printf '%-28s bpftool: %s\n%-28s bpflink: %s\n' "$name" "$ref" "" "$ours"
  printf '%-28s ratio bpflink/bpftool: wall %s, peak RSS %s\n' "" \
    "$(ratio "$(field wall_s "$ours")" "$(field wall_s "$ref")")" \
    "$(ratio "$(field maxrss_kib "$ours")" "$(field maxrss_kib "$ref")")"
}

echo "== (a) test corpus link groups (best of $repeat)"
compare funcs "$objs"/link_funcs1.bpf.o "$objs"/link_funcs2.bpf.o
compare vars "$objs"/link_vars1.bpf.o "$objs"/link_vars2.bpf.o
compare static "$objs"/link_static1.bpf.o "$objs"/link_static2.bpf.o
compare core "$objs"/link_core1.bpf.o "$objs"/link_core2.bpf.o
compare project-programs "$objs"/xdp_global_data.bpf.o "$objs"/map_in_map.bpf.o "$objs"/core_tp.bpf.o

# The directory name carries the generator's parameters, so changing them regenerates.
large=$out/large-64x1500
[ -f "$large/obj63.bpf.o" ] || bench/dedup_gen_large.py "$large" --objects 64 --shared 1500 >/dev/null
types=$(bpftool btf dump file "$large/obj00.bpf.o" | grep -c '^\[')
echo "== (b) generated: 64 objects, $types BTF types in the first (best of $repeat)"
compare large-64-objects "$large"/obj*.bpf.o
