#!/usr/bin/env bash
# Runs inside the guest kernel (started by scripts/vm-run): every kernel-facing test binary,
# then the kernel-facing C and Python tests. Exit status is non-zero if anything failed.
#   scripts/guest-tests.sh STAGE_PREFIX TEST_BINARY...
set -uo pipefail
stage=${1:?usage: guest-tests.sh STAGE_PREFIX TEST_BINARY...}; shift
echo "[guest] kernel $(uname -r), BPFLINK_REQUIRE_KERNEL_FEATURES=${BPFLINK_REQUIRE_KERNEL_FEATURES:-0}"
failures=0
for bin in "$@"; do
  echo "[guest] running $(basename "$bin")"
  "$bin" --test-threads=2 || failures=$((failures + 1))
done
if [ -x capi-tests/run-kernel.sh ]; then
  capi-tests/run-kernel.sh "$stage" || failures=$((failures + 1))
fi
if [ -d python/tests/kernel ]; then
  "${BPFLINK_PYTHON:-python3}" -m pytest -q -p no:cacheprovider python/tests/kernel || failures=$((failures + 1))
fi
echo "[guest] done: $failures failing group(s)"
exit $((failures > 0))
