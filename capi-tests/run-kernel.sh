#!/usr/bin/env bash
# Kernel-facing C tests of bpflink's C API, run inside a guest kernel by scripts/guest-tests.sh
# (or on a host that loads BPF programs). Uses the binaries run.sh built into build/capi-bin;
# if they are missing or stale it builds them into /tmp (the guest's source tree is read-only).
# Ends with `capi-kernel: N passed, M failed`.
#   capi-tests/run-kernel.sh STAGE_PREFIX
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
prefix=$(realpath "${1:?usage: run-kernel.sh STAGE_PREFIX}")
# shellcheck source=capi-tests/difflib.sh
. "$here/difflib.sh"

bin=$root/build/capi-bin
if ! ensure_built "$bin" 2>/dev/null; then
  bin=$(mktemp -d /tmp/capi-bin.XXXXXX)
  ensure_built "$bin" || record 1 "build the C test tools into $bin"
fi
objs=${BPFLINK_BPF_OBJ_DIR:-$root/build/bpf-objs}

diff_run "bpf.h layer: maps, batches, programs, test runs, ids, BTF load, errors" bpf_ops
if [ -x "$bin/object_dump.libbpf" ]; then
  for obj in "$objs"/*.bpf.o /usr/lib/x86_64-linux-gnu/bpf/*.o; do
    [ -f "$obj" ] || continue
    DIFF_SKIP_IF_LIBBPF="^open failed" diff_run "object API after load: $(basename "$obj")" object_dump --load "$obj"
  done
fi

echo "capi-kernel: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
