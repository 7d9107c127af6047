#!/usr/bin/env bash
# Runs one C test program under valgrind's memcheck and prints one harness line:
#   ok   memcheck.LABEL: 0 errors, 0 bytes definitely lost (N s)
# or a FAIL line with valgrind's summary. Any memory error (invalid read or write, use of
# uninitialised memory, bad free) or a definitely lost block fails, and so does a non-zero
# exit of the program itself. ("Possibly lost"/"still reachable" blocks are the Rust runtime's
# process-lifetime allocations and are not counted.)
#   capi-tests/memcheck.sh LABEL COMMAND...
set -uo pipefail
label=${1:?usage: memcheck.sh LABEL COMMAND...}; shift
log=$(mktemp)
out=$(mktemp)
trap 'rm -f "$log" "$out"' EXIT
start=$SECONDS
valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  --suppressions="$(dirname "$0")/valgrind.supp" \
  --error-exitcode=99 --log-file="$log" "$@" >"$out" 2>&1
rc=$?
errors=$(grep -oE 'ERROR SUMMARY: [0-9]+ errors' "$log" | grep -oE '[0-9]+' | tail -1)
lost=$(grep -oE 'definitely lost: [0-9,]+ bytes' "$log" | grep -oE '[0-9,]+' | tr -d , | tail -1)
# No leak summary means no block was allocated-and-unfreed at all.
lost=${lost:-0}
if [ -z "$errors" ]; then
  echo "FAIL memcheck.$label: valgrind produced no summary (exit $rc)"; tail -5 "$log" | sed 's/^/     /'; exit 1
fi
if [ "$rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$lost" -ne 0 ]; then
  echo "FAIL memcheck.$label: exit $rc, $errors errors, $lost bytes definitely lost"
  # The program's own failures (its output is otherwise not shown: the plain run shows it).
  grep -E '^FAIL|check failed|is .*, expected' "$out" | head -10 | sed 's/^/     program: /'
  # Each error or leak record with the top of its stack.
  grep -A14 -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|[0-9,]+ bytes in)' "$log" |
    head -60 | sed 's/^/     /'
  exit 1
fi
echo "ok   memcheck.$label: $errors errors, $lost bytes definitely lost ($((SECONDS - start)) s)"
