#!/usr/bin/env bash
# Checks an installed prefix: the exact file layout, both SONAMEs, versioned symbols, and that
# pkg-config gives flags that compile and link a program.
#   scripts/check-install.sh PREFIX
set -uo pipefail
prefix=${1:?usage: check-install.sh PREFIX}
passed=0 failed=0
check() {
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then
    passed=$((passed + 1)); echo "ok   $what"
  else
    failed=$((failed + 1)); echo "FAIL $what"
  fi
}

expected_files() {
  cat <<LIST
bin/bpflink
include/bpf/bpf.h
include/bpf/btf.h
include/bpf/libbpf.h
include/bpf/libbpf_common.h
include/bpf/libbpf_version.h
include/bpflink.h
lib/bpflink-compat/libbpf.so.1
lib/libbpflink.a
lib/libbpflink.so
lib/libbpflink.so.1
lib/pkgconfig/bpflink.pc
LIST
}

layout_is_exact() {
  diff <(expected_files) <(cd "$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
}
# grep -c reads all its input: `grep -q` would exit at the first match, and under pipefail the
# writer's SIGPIPE would then fail the check depending on where the line happens to be.
soname_is() { readelf -d "$1" | grep -c "Library soname: \[$2\]" >/dev/null; }
symbol_has_version() { objdump -T "$1" | grep -Ec "[[:space:]]$3[[:space:]]+$2\$" >/dev/null; }
# Every defined dynamic symbol carries a version node: nothing leaks unversioned or from Rust's std.
all_exports_versioned() {
  ! objdump -T "$1" | awk '/ D[FO] / && !/\*UND\*/' | grep -v -E '(LIBBPF_[0-9.]+|BPFLINK_[0-9.]+)[[:space:]]'
}
pkg_config_builds() {
  local dir
  dir=$(mktemp -d)
  printf '#include <bpflink.h>\n#include <stdio.h>\nint main(void){printf("%%s\\n", libbpf_version_string());return 0;}\n' >"$dir/t.c"
  # shellcheck disable=SC2046
  PKG_CONFIG_PATH=$prefix/lib/pkgconfig cc -o "$dir/t" "$dir/t.c" $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs bpflink) &&
    LD_LIBRARY_PATH=$prefix/lib "$dir/t"
  local rc=$?
  rm -rf "$dir"
  return $rc
}
cli_runs() { "$prefix/bin/bpflink" --version; }

check "installed layout is exactly the documented one" layout_is_exact
check "libbpflink.so.1 has SONAME libbpflink.so.1" soname_is "$prefix/lib/libbpflink.so.1" libbpflink.so.1
check "compat libbpf.so.1 has SONAME libbpf.so.1" soname_is "$prefix/lib/bpflink-compat/libbpf.so.1" libbpf.so.1
check "libbpf_major_version is exported in node LIBBPF_0.6.0" symbol_has_version "$prefix/lib/libbpflink.so.1" libbpf_major_version LIBBPF_0.6.0
check "libbpf_set_print is exported in node LIBBPF_0.0.1" symbol_has_version "$prefix/lib/bpflink-compat/libbpf.so.1" libbpf_set_print LIBBPF_0.0.1
check "bpflink_version is exported in node BPFLINK_0.1" symbol_has_version "$prefix/lib/libbpflink.so.1" bpflink_version BPFLINK_0.1
check "every export of libbpflink.so.1 is versioned" all_exports_versioned "$prefix/lib/libbpflink.so.1"
check "pkg-config flags compile, link and run a program" pkg_config_builds
check "bin/bpflink runs" cli_runs
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
