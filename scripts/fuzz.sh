#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets: object_open, btf, btf_ext, linker) one after the
# other, each for SECONDS (default 60), seeded from the clang-built test objects and the
# xdp-tools objects, and prints one summary line per target: executions, time, coverage
# (libFuzzer's cov: edges, ft: features) and crashes.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Needs the nightly toolchain and cargo-fuzz (installed by scripts/setup.sh --fuzz, which it runs). The growing
# corpus is kept in build/fuzz/corpus/TARGET between runs; crashing inputs land in
# fuzz/artifacts/TARGET: copy each into tests/fuzz-regressions/TARGET/ once fixed, where
# `make test` replays them (tests/fuzz_regressions.rs).
# Exit status: non-zero if a target crashed or could not run.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(object_open btf btf_ext linker)
export PATH=$HOME/.cargo/bin:$PATH

work=build/fuzz
scripts/setup.sh --fuzz || exit 1
scripts/build-bpf.sh build/bpf-objs >/dev/null || exit 1
rm -rf "$work/seeds"
python3 scripts/fuzz-seeds.py "$work/seeds" build/bpf-objs/*.bpf.o /usr/lib/x86_64-linux-gnu/bpf/*.o || exit 1
(cd fuzz && cargo +nightly fuzz build --release) || { echo "fuzz: building the targets failed"; exit 1; }

# Inputs are small objects (tens of KiB): any single allocation above 128 MiB is one driven
# by a size field in the input, which the parsers must cap instead (libFuzzer reports it).
flags=(-max_total_time="$seconds" -max_len=131072 -malloc_limit_mb=128 -rss_limit_mb=2048
       -timeout=20 -print_final_stats=1)
summary=()
status=0
for target in "${targets[@]}"; do
  mkdir -p "$work/corpus/$target" "$work/logs"
  log=$work/logs/$target.log
  echo "=== fuzz $target for ${seconds}s ==="
  (cd fuzz && cargo +nightly fuzz run --release "$target" "../$work/corpus/$target" "../$work/seeds/$target" -- "${flags[@]}") \
    >"$log" 2>&1
  rc=$?
  grep -E '^#[0-9]+.*(INITED|DONE|REDUCE|NEW)|Done [0-9]+ runs|stat::|SUMMARY|ERROR|panicked' "$log" | tail -12
  runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE '[0-9]+' | head -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  crashes=$(ls "fuzz/artifacts/$target" 2>/dev/null | grep -cE '^(crash|oom|timeout|leak)-')
  line=$(printf 'fuzz %-12s %s runs in %ss, %s, corpus %s files, %s crash artifact(s) (exit %d)' \
    "$target" "${runs:-?}" "$seconds" "${cov:-cov: ?}" "$(ls "$work/corpus/$target" | wc -l)" "$crashes" "$rc")
  summary+=("$line")
  [ "$rc" -eq 0 ] || status=1
done
echo
printf '%s\n' "${summary[@]}"
exit $status
