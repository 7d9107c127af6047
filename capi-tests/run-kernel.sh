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

# A self-contained library object (no SEC() program, exported functions, no extern function
# needing another loaded object) is where bpflink departs from
# libbpf on purpose: libbpf fails to load it, bpflink loads it for dynamic linking (its
# functions are loaded when an object calls them). No differential for those; the bpflink
# build must load them.
is_library() {
  "$prefix/bin/bpflink" inspect --json "$1" |
    python3 -c 'import json, sys; d = json.load(sys.stdin)
needs = any(e["kind"] == "function" for e in d["externs"])
sys.exit(0 if not d["programs"] and d["exports"] and not needs else 1)'
}

diff_run "bpf.h layer: maps, batches, programs, test runs, ids, BTF load, errors" bpf_ops
if [ -x "$bin/object_dump.libbpf" ]; then
  for obj in "$objs"/*.bpf.o /usr/lib/x86_64-linux-gnu/bpf/*.o; do
    [ -f "$obj" ] || continue
    if is_library "$obj"; then
      "$bin/object_dump.bpflink" --load "$obj" | grep -qx "load 0 errno 0"
      record $? "library loads (a bpflink extension; libbpf refuses): $(basename "$obj")"
      continue
    fi
    DIFF_SKIP_IF_LIBBPF="^open failed" diff_run "object API after load: $(basename "$obj")" object_dump --load "$obj"
  done
fi

# Dynamic linking through the C API (counts its own ok/FAIL lines; SKIPPED is not a pass).
out=$("$bin/test_dynlink" "$objs" 2>&1); rc=$?
printf '%s\n' "$out"
passed=$((passed + $(grep -c '^ok ' <<<"$out"))); failed=$((failed + $(grep -c '^FAIL ' <<<"$out")))
[ "$rc" -eq 0 ] || grep -q '^FAIL ' <<<"$out" || record 1 "test_dynlink" "exited with status $rc"

echo "capi-kernel: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
