#!/usr/bin/env bash
# C test of the static linker API (capi-tests/linker/linker_test.c), built twice like
# capi-tests/diff/*.c: against the system libbpf and against bpflink at PREFIX. Each build
# prints its own ok/FAIL lines; then the "info" lines (programs and maps of the linked object,
# outcome of bad input) must be identical between the two. Output: ok/FAIL lines only.
#   capi-tests/linker/run.sh PREFIX [OBJ_DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=$(realpath "${1:?usage: run.sh PREFIX [OBJ_DIR]}")
objs=${2:-${BPFLINK_BPF_OBJ_DIR:-$root/build/bpf-objs}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cflags=(-std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter)
[ -f "$objs/link_funcs1.bpf.o" ] || "$root/scripts/build-bpf.sh" "$objs" >/dev/null
a=$objs/link_funcs1.bpf.o b=$objs/link_funcs2.bpf.o

if ! cc "${cflags[@]}" -o "$work/linker.libbpf" "$here/linker_test.c" -lbpf; then
  echo "FAIL linker: build linker_test.c against the system libbpf"; exit 1
fi
if ! cc "${cflags[@]}" -DUSE_BPFLINK -I"$prefix/include" -o "$work/linker.bpflink" "$here/linker_test.c" \
     -L"$prefix/lib" -lbpflink -Wl,-rpath,"$prefix/lib" -Wl,-z,now; then
  echo "FAIL linker: build linker_test.c against bpflink"; exit 1
fi
status=0
for impl in libbpf bpflink; do
  "$work/linker.$impl" "$work" "$a" "$b" >"$work/$impl.out" 2>"$work/$impl.err"
  rc=$?
  sed -n "s/^ok   \(.*\)/ok   linker ($impl): \1/p; s/^FAIL \(.*\)/FAIL linker ($impl): \1/p" "$work/$impl.out"
  if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$work/$impl.out"; then
    echo "FAIL linker ($impl): exited with status $rc"; tail -5 "$work/$impl.err" | sed 's/^/     /'
  fi
  [ $rc -eq 0 ] || status=1
done
if diff -u <(grep '^info' "$work/libbpf.out") <(grep '^info' "$work/bpflink.out") >"$work/diff"; then
  echo "ok   linker: linked object has the same programs and maps with libbpf and bpflink ($(grep -c '^info' "$work/libbpf.out") lines)"
else
  sed 's/^/     /' "$work/diff" | head -30
  echo "FAIL linker: linked object differs between libbpf and bpflink"; status=1
fi
exit $status
