# Shared by run.sh and run-kernel.sh (sourced): counts test results (record) and runs a
# differential tool three ways, recording one result. Needs: $bin (built tools), $prefix;
# the caller reports the passed/failed counts.
#   libbpf   NAME.libbpf: system headers + system libbpf
#   bpflink  NAME.bpflink: bpflink's compat headers + libbpflink.so
#   compat   NAME.libbpf run on bpflink's drop-in libbpf.so.1 (same binary, other library)
# The test passes when all three outputs are identical and non-empty.

passed=0 failed=0
record() { # STATUS NAME [DETAIL]
  if [ "$1" -eq 0 ]; then
    passed=$((passed + 1)); echo "ok   $2"
  else
    failed=$((failed + 1)); echo "FAIL $2${3:+: $3}"
  fi
}

diff_run() { # LABEL TOOL [ARGS...]
  local label=$1 tool=$2 dir rc=0; shift 2
  dir=$(mktemp -d)
  "$bin/$tool.libbpf" "$@" >"$dir/libbpf" 2>"$dir/libbpf.err" || rc=1
  "$bin/$tool.bpflink" "$@" >"$dir/bpflink" 2>"$dir/bpflink.err" || rc=1
  LD_LIBRARY_PATH=$prefix/lib/bpflink-compat "$bin/$tool.libbpf" "$@" >"$dir/compat" 2>"$dir/compat.err" || rc=1
  if [ -n "${DIFF_SKIP_IF_LIBBPF:-}" ] && grep -q "$DIFF_SKIP_IF_LIBBPF" "$dir/libbpf"; then
    echo "skip $label: libbpf says '$(grep -m1 "$DIFF_SKIP_IF_LIBBPF" "$dir/libbpf")' (a bpflink extension)"
  elif [ $rc -ne 0 ]; then
    tail -n 5 "$dir"/*.err | sed 's/^/     /'
    record 1 "$label" "a run exited with an error"
  elif [ ! -s "$dir/libbpf" ]; then
    record 1 "$label" "no output"
  elif ! diff -u "$dir/libbpf" "$dir/bpflink" >"$dir/d1" || ! diff -u "$dir/libbpf" "$dir/compat" >"$dir/d2"; then
    cat "$dir/d1" "$dir/d2" 2>/dev/null | head -40 | sed 's/^/     /'
    record 1 "$label" "outputs differ (libbpf vs bpflink / compat)"
  else
    record 0 "$label ($(wc -l <"$dir/libbpf") identical lines x3)"
  fi
  rm -rf "$dir"
}

# Builds the tools into $1 unless its stamp matches the current inputs.
ensure_built() { # OUTDIR
  local want
  want=$("$here/stamp.sh" "$prefix")
  if [ "$(cat "$1/stamp" 2>/dev/null)" != "$want" ]; then
    "$here/build.sh" "$prefix" "$1" || return 1
  fi
}
