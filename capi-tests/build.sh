#!/usr/bin/env bash
# Builds the C test programs of capi-tests into OUTDIR, so that run-kernel.sh (inside a guest
# kernel, where the source tree is read-only) only has to run them.
#   capi-tests/build.sh PREFIX OUTDIR
# Each differential tool capi-tests/diff/NAME.c is built twice:
#   OUTDIR/NAME.libbpf   system headers (/usr/include/bpf) and the system libbpf (-lbpf)
#   OUTDIR/NAME.bpflink  bpflink's compat headers (PREFIX/include) and -lbpflink (rpath PREFIX/lib)
# and NAME.libbpf is also run against PREFIX/lib/bpflink-compat/libbpf.so.1 by the runners.
# Harness tests that need a kernel (test_dynlink) are built once, against bpflink.
# OUTDIR/stamp records the inputs (sources, headers, library) the binaries were built from.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(realpath "${1:?usage: build.sh PREFIX OUTDIR}")
out=${2:?usage: build.sh PREFIX OUTDIR}
mkdir -p "$out"
cflags=(-std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter)
for src in "$here"/diff/*.c; do
  name=$(basename "$src" .c)
  cc "${cflags[@]}" -o "$out/$name.libbpf" "$src" -lbpf -Wl,-z,now
  cc "${cflags[@]}" -I"$prefix/include" -o "$out/$name.bpflink" "$src" \
    -L"$prefix/lib" -lbpflink -Wl,-rpath,"$prefix/lib" -Wl,-z,now
done
# Harness tests the guest runs (capi-tests/run-kernel.sh), against bpflink only.
for name in test_dynlink; do
  cc "${cflags[@]}" -I"$prefix/include" -o "$out/$name" "$here/$name.c" \
    -L"$prefix/lib" -lbpflink -Wl,-rpath,"$prefix/lib" -Wl,-z,now
done
"$here/stamp.sh" "$prefix" >"$out/stamp"
