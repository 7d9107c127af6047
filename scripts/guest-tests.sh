#!/usr/bin/env bash
# Runs inside the guest kernel (started by scripts/vm-run): every kernel-facing test binary,
# then the kernel-facing C and Python tests. After each group it checks that the group left
# no kernel object behind: the programs, maps, links and BTF objects listed by bpftool, and
# the pins under /sys/fs/bpf, must be what they were before it (the guest kernel runs nothing
# else). Exit status is non-zero if anything failed.
#   scripts/guest-tests.sh STAGE_PREFIX TEST_BINARY...
# The full-length robustness runs happen once per `make test`, on 6.12: the concurrency test
# (BPFLINK_STRESS_SECONDS) runs 60 s there and 15 s on older kernels; the leak cycles
# (BPFLINK_LEAK_CYCLES, ~20 s for 1000 static and 1000 dynamic cycles under TCG) run 1000 on both.
set -uo pipefail
stage=${1:?usage: guest-tests.sh STAGE_PREFIX TEST_BINARY...}; shift
echo "[guest] kernel $(uname -r), BPFLINK_REQUIRE_KERNEL_FEATURES=${BPFLINK_REQUIRE_KERNEL_FEATURES:-0}"
case "$(uname -r)" in
  6.12.*) export BPFLINK_STRESS_SECONDS=${BPFLINK_STRESS_SECONDS:-60} ;;
  *) export BPFLINK_STRESS_SECONDS=${BPFLINK_STRESS_SECONDS:-15} ;;
esac
failures=0

# One line per kernel object ("prog 12 xdp_len_filter") and per pin, sorted.
kernel_objects() {
  local kind
  for kind in prog map link btf; do
    bpftool -j "$kind" list 2>/dev/null | "${BPFLINK_PYTHON:-python3}" -c '
import json, sys
kind = sys.argv[1]
for o in json.load(sys.stdin) or []:
    print(kind, o.get("id"), o.get("name", o.get("type", "")))' "$kind"
  done
  find /sys/fs/bpf -mindepth 1 2>/dev/null | sed 's/^/pin /'
}

# Runs GROUP's command, then compares the kernel objects with those before it. Objects are
# freed asynchronously after their last fd closes: wait up to 10 s for them to go.
run_group() { # GROUP COMMAND...
  local group=$1 before after tries=0; shift
  before=$(kernel_objects)
  "$@" || failures=$((failures + 1))
  while after=$(kernel_objects); [ "$after" != "$before" ] && [ $tries -lt 100 ]; do
    sleep 0.1; tries=$((tries + 1))
  done
  if [ "$after" = "$before" ]; then
    echo "kernel-objects: 1 passed, 0 failed (nothing left behind by $group)"
  else
    echo "kernel-objects: 0 passed, 1 failed ($group left kernel objects behind:)"
    comm -13 <(echo "$before") <(echo "$after") | sed 's/^/  left: /'
    comm -23 <(echo "$before") <(echo "$after") | sed 's/^/  gone: /'
    failures=$((failures + 1))
  fi
}

for bin in "$@"; do
  echo "[guest] running $(basename "$bin")"
  run_group "$(basename "$bin")" "$bin" --test-threads=2
done
if [ -x capi-tests/run-kernel.sh ]; then
  run_group capi-kernel capi-tests/run-kernel.sh "$stage"
fi
if [ -d python/tests/kernel ]; then
  run_group python-kernel "${BPFLINK_PYTHON:-python3}" -m pytest -q -p no:cacheprovider python/tests/kernel
fi
echo "[guest] done: $failures failing group(s)"
exit $((failures > 0))
