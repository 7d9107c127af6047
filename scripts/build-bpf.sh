#!/usr/bin/env bash
# Compiles every BPF test program (tests/bpf/*.bpf.c) into OUTDIR, the way the tests do
# (tests/common/mod.rs): clang-19 -target bpf -O2 -g. Used before guest-kernel runs, where the
# source tree is read-only.
set -euo pipefail
out=${1:?usage: build-bpf.sh OUTDIR}
mkdir -p "$out" && out=$(realpath "$out")
clang=${BPF_CLANG:-clang-19}
mkdir -p "$out"
cd "$(dirname "$0")/../tests/bpf"
for src in *.bpf.c; do
  obj="$out/${src%.c}.o"
  [ "$obj" -nt "$src" ] && continue
  "$clang" -target bpf -O2 -g -I/usr/include/x86_64-linux-gnu -c "$src" -o "$obj.tmp"
  mv "$obj.tmp" "$obj"
done
