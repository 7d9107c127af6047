#!/usr/bin/env bash
# Prints a fingerprint of what the capi-tests binaries are built from (see build.sh).
#   capi-tests/stamp.sh PREFIX
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(realpath "${1:?usage: stamp.sh PREFIX}")
cat "$here"/diff/*.c "$here"/test_dynlink.c "$here"/build.sh "$here"/*.h "$prefix"/include/bpflink.h "$prefix"/include/bpf/*.h \
  "$prefix"/lib/libbpflink.so.1 | sha256sum | cut -d' ' -f1
