#!/usr/bin/env bash
# Runs every bpflink test suite and prints one summary line per suite, then a total.
#   scripts/test-all.sh STAGE_PREFIX
# Suites: host (Rust unit + integration tests that need no special kernel), guest-6.12 and
# guest-6.1 (all kernel-facing tests in one guest boot each), install (layout, SONAMEs, symbol
# versions, pkg-config), capi (C tests against the installed library), python, header.
# A suite that fails or runs no test fails the whole run.
set -uo pipefail
cd "$(dirname "$0")/.."
stage=${1:?usage: test-all.sh STAGE_PREFIX}
stage=$(realpath "$stage")
logs=build/logs
mkdir -p "$logs"
export BPFLINK_BPF_OBJ_DIR=$PWD/build/bpf-objs
export BPFLINK_LIB=$stage/lib/libbpflink.so.1
export BPFLINK_PREFIX=$stage
# The guest's PATH may find another python3 than the one setup installed pytest into.
BPFLINK_PYTHON=$(python3 -c 'import sys; print(sys.executable)')
export BPFLINK_PYTHON

declare -a summary=()
total_passed=0
total_failed=0
status=0

# count_results LOG → "passed failed" summed over cargo, pytest and plain "N passed, M failed" lines.
count_results() {
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
passed = failed = 0
for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed", text):
    passed += int(m[1]); failed += int(m[2])
for line in text.splitlines():
    if re.match(r"^=* ?\d+ (passed|failed).* in [\d.]+s", line):       # pytest
        p = re.search(r"(\d+) passed", line); f = re.search(r"(\d+) (failed|error)", line)
        passed += int(p[1]) if p else 0; failed += int(f[1]) if f else 0
    m = re.match(r"^(?:\w[\w.-]*: )?(\d+) passed, (\d+) failed", line)   # plain harness lines
    if m:
        passed += int(m[1]); failed += int(m[2])
print(passed, failed)
PY
}

run_suite() {
  local name=$1; shift
  local log=$logs/$name.log rc
  echo "=== suite $name ==="
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  read -r passed failed < <(count_results "$log")
  local verdict=ok
  if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then verdict=FAILED; status=1; fi
  if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then verdict="FAILED (ran no test)"; status=1; fi
  summary+=("$(printf 'suite %-11s %s: %d passed, %d failed (exit %d)' "$name" "$verdict" "$passed" "$failed" "$rc")")
  echo "suite $name: $passed passed, $failed failed"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
}

host_test_targets() {
  local f
  for f in tests/*.rs; do
    f=$(basename "$f" .rs)
    case "$f" in kernel_*) ;; *) printf -- '--test %s ' "$f" ;; esac
  done
}

kernel_test_targets() {
  local f
  for f in tests/kernel_*.rs; do [ -e "$f" ] && printf -- '--test %s ' "$(basename "$f" .rs)"; done
}

suite_host() {
  # shellcheck disable=SC2046
  cargo test --release --locked --lib --bins $(host_test_targets)
}

# Builds the kernel-facing test binaries on the host; prints their paths.
kernel_test_binaries() {
  local targets
  targets=$(kernel_test_targets)
  [ -n "$targets" ] || return 0
  # shellcheck disable=SC2086
  cargo test --release --locked --no-run --message-format=json $targets 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    try: m = json.loads(line)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["executable"])'
}

suite_guest() {
  local kernel=$1
  scripts/build-bpf.sh "$BPFLINK_BPF_OBJ_DIR" || return 1
  mapfile -t bins < <(kernel_test_binaries)
  [ ${#bins[@]} -gt 0 ] || { echo "no kernel test binaries were built"; return 1; }
  scripts/vm-run --kernel "$kernel" -- scripts/guest-tests.sh "$stage" "${bins[@]}" </dev/null
}

suite_header() {
  local tmp rc=0
  tmp=$(mktemp)
  # cbindgen warns about every non-FFI type it meets in the crate; show that only on failure.
  cbindgen --config cbindgen.toml --crate bpflink --output "$tmp" 2>"$tmp.err" || { cat "$tmp.err"; return 1; }
  rm -f "$tmp.err"
  if cmp -s "$tmp" include/bpflink.h; then
    echo "header: 1 passed, 0 failed (include/bpflink.h matches cbindgen output)"
  else
    diff -u include/bpflink.h "$tmp" | head -40
    echo "header: 0 passed, 1 failed (include/bpflink.h is stale: run make header)"
    rc=1
  fi
  rm -f "$tmp"
  return $rc
}

suite_python() {
  python3 -m pytest -q python/tests
}

cargo build --release --locked --tests 2>&1 | tail -n 3
# The guest sees the tree read-only: build what it runs (BPF objects, C test binaries) here.
scripts/build-bpf.sh "$BPFLINK_BPF_OBJ_DIR"
capi-tests/build.sh "$stage" build/capi-bin
run_suite host suite_host
run_suite guest-6.12 suite_guest 6.12
run_suite guest-6.1 suite_guest 6.1
run_suite install scripts/check-install.sh "$stage"
run_suite capi capi-tests/run.sh "$stage"
run_suite python suite_python
run_suite header suite_header

echo
echo "=== summary ==="
printf '%s\n' "${summary[@]}"
echo "total: $total_passed passed, $total_failed failed"
exit $status
