#!/usr/bin/env bash
# C tests of bpflink's C API against an INSTALLED prefix, built with pkg-config like a user's
# program. Prints one line per test and ends with `capi: N passed, M failed`.
#   capi-tests/run.sh PREFIX
# Needs: cc, c++, pkg-config, clang-19 (to build a BPF test object), llvm-readelf-19, and the
# system libbpf (libbpf-dev) as the reference for the differential test.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
prefix=$(realpath "${1:?usage: run.sh PREFIX}")
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=capi-tests/difflib.sh
. "$here/difflib.sh"

check() { # NAME COMMAND... (output shown only on failure)
  local name=$1 out rc; shift
  out=$("$@" 2>&1); rc=$?
  [ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/     /' | head -30
  record $rc "$name"
}
# Runs a harness binary and counts its ok/FAIL lines; a crash or a silent binary is a failure.
run_harness() { # LABEL COMMAND...
  local label=$1 out rc ok bad; shift
  out=$("$@" 2>&1); rc=$?
  printf '%s\n' "$out"
  ok=$(grep -c '^ok ' <<<"$out"); bad=$(grep -c '^FAIL ' <<<"$out")
  passed=$((passed + ok)); failed=$((failed + bad))
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    record 1 "$label" "exited with status $rc without reporting a failed test"
  elif [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then
    record 1 "$label" "ran no test"
  fi
}

cflags=$(pkg-config --cflags bpflink) || { record 1 "pkg-config knows bpflink"; echo "capi: $passed passed, $failed failed"; exit 1; }
libs=$(pkg-config --libs bpflink)
static_libs=$(pkg-config --static --libs-only-l bpflink | sed 's/-lbpflink//')
version=$(pkg-config --modversion bpflink)
warn=(-Wall -Wextra -Werror)

# --- headers -------------------------------------------------------------------------------
check "header bpflink.h compiles alone as C11 (-Wall -Wextra -Werror)" \
  gcc -std=c11 "${warn[@]}" -fsyntax-only -x c "$prefix/include/bpflink.h"
for h in libbpf.h bpf.h btf.h libbpf_common.h libbpf_version.h; do
  check "header bpf/$h compiles alone as C11" gcc -std=c11 "${warn[@]}" -fsyntax-only -x c "$prefix/include/bpf/$h"
done
check "header bpflink.h compiles alone as C++" g++ -std=c++17 "${warn[@]}" -fsyntax-only -x c++ "$prefix/include/bpflink.h"
# shellcheck disable=SC2086
check "a C++ program includes, links and runs against the library" sh -c \
  "c++ -std=c++17 ${warn[*]} $cflags -o '$work/cxx_check' '$here/cxx_check.cpp' $libs && LD_LIBRARY_PATH='$prefix/lib' '$work/cxx_check'"

# --- a BPF object for the inspect test, and an independent list of its program names ------
obj_src=$root/tests/bpf/xdp_global_data.bpf.c
obj=${BPFLINK_BPF_OBJ_DIR:-$work}/xdp_global_data.bpf.o
if [ ! -f "$obj" ]; then
  obj=$work/xdp_global_data.bpf.o
  clang-19 -target bpf -O2 -g -I/usr/include/x86_64-linux-gnu -c "$obj_src" -o "$obj" ||
    record 1 "compile $obj_src"
fi
# Program entry points: global functions in executable sections other than .text.
mapfile -t programs < <(llvm-readelf-19 -sS --wide "$obj" | python3 -c '
import re, sys
text = sys.stdin.read()
secs = {}
for m in re.finditer(r"^\s*\[\s*(\d+)\]\s+(\S+)\s+PROGBITS\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S*)", text, re.M):
    secs[m[1]] = (m[2], "X" in m[3])
for m in re.finditer(r"^\s*\d+:\s+\S+\s+\d+\s+FUNC\s+GLOBAL\s+\S+\s+(\d+)\s+(\S+)", text, re.M):
    name, executable = secs.get(m[1], ("", False))
    if executable and name != ".text":
        print(m[2])')
[ ${#programs[@]} -gt 0 ] || record 1 "llvm-readelf lists the programs of $obj"
test_obj=$obj  # $obj is reused as a loop variable below

# --- C tests against the installed shared library, the static library, and compat headers --
# shellcheck disable=SC2086
if cc -std=c11 "${warn[@]}" $cflags -DBPFLINK_EXPECTED_VERSION="\"$version\"" -o "$work/test_foundation" \
     "$here/test_foundation.c" $libs; then
  run_harness foundation env LD_LIBRARY_PATH="$prefix/lib" "$work/test_foundation" "$obj" xdp_global_data "${programs[@]}"
else
  record 1 "build test_foundation.c with pkg-config --cflags --libs bpflink"
fi
# shellcheck disable=SC2086
if cc -std=c11 "${warn[@]}" $cflags -DBPFLINK_EXPECTED_VERSION="\"$version\"" -o "$work/test_foundation_static" \
     "$here/test_foundation.c" "$prefix/lib/libbpflink.a" $static_libs; then
  record 0 "static link against libbpflink.a with pkg-config --static flags"
  run_harness foundation-static "$work/test_foundation_static" "$obj" xdp_global_data "${programs[@]}"
else
  record 1 "static link against libbpflink.a with pkg-config --static flags"
fi
# shellcheck disable=SC2086
if cc -std=c11 "${warn[@]}" $cflags -o "$work/test_compat" "$here/test_compat.c" $libs; then
  run_harness compat env LD_LIBRARY_PATH="$prefix/lib" "$work/test_compat"
else
  record 1 "build test_compat.c (compat <bpf/*.h> headers) with pkg-config flags"
fi

# Bad input where libbpf itself would crash (NULL handles): EINVAL, a message, no fd leak.
# shellcheck disable=SC2086
if cc -std=gnu11 "${warn[@]}" $cflags -o "$work/test_bad_input" "$here/test_bad_input.c" $libs; then
  run_harness bad-input env LD_LIBRARY_PATH="$prefix/lib" "$work/test_bad_input" "$obj"
else
  record 1 "build test_bad_input.c with pkg-config flags"
fi

# Dynamic linking's C API: argument conventions run anywhere; the kernel part prints SKIPPED
# where the kernel refuses BPF_PROG_TYPE_EXT (it runs in the guest suites).
dyn_objs=${BPFLINK_BPF_OBJ_DIR:-$root/build/bpf-objs}
[ -f "$dyn_objs/dyn_caller.bpf.o" ] || "$root/scripts/build-bpf.sh" "$dyn_objs" >/dev/null
if cc -std=gnu11 "${warn[@]}" $cflags -o "$work/test_dynlink" "$here/test_dynlink.c" $libs; then
  run_harness dynlink env LD_LIBRARY_PATH="$prefix/lib" "$work/test_dynlink" "$dyn_objs"
else
  record 1 "build test_dynlink.c with pkg-config flags"
fi

# The malformed-object corpus: NULL, the listed errno, a message saying what and where, no fd leak.
# shellcheck disable=SC2086
if cc -std=gnu11 "${warn[@]}" $cflags -o "$work/test_malformed" "$here/test_malformed.c" $libs; then
  run_harness malformed env LD_LIBRARY_PATH="$prefix/lib" "$work/test_malformed" "$root/tests/malformed"
else
  record 1 "build test_malformed.c with pkg-config flags"
fi

# Failures injected at kernel calls through BPFLINK_FAULT_INJECT (the host kernel loads XDP).
# shellcheck disable=SC2086
if [ "$(id -u)" -eq 0 ]; then
  if cc -std=gnu11 "${warn[@]}" $cflags -o "$work/test_fault_env" "$here/test_fault_env.c" $libs; then
    # SPEC -> bpf_object__load's result: BTF is optional; a map the kernel refuses with BTF
    # types is retried without them; everything else fails the load with the injected errno.
    for case in "BPF_BTF_LOAD:0:ENOMEM:always 0" "BPF_MAP_CREATE:0:ENOMEM 0" "BPF_MAP_CREATE:1:ENOMEM:always -12" \
                "BPF_MAP_FREEZE:0:EPERM -1" "BPF_MAP_UPDATE_ELEM:2:EFAULT -14" "BPF_PROG_LOAD:0:E2BIG:always -7"; do
      read -r spec want <<<"$case"
      run_harness "fault-env $spec" env LD_LIBRARY_PATH="$prefix/lib" BPFLINK_FAULT_INJECT="$spec" \
        "$work/test_fault_env" "$obj" "$want"
    done
  else
    record 1 "build test_fault_env.c with pkg-config flags"
  fi
fi

# --- the drop-in libbpf.so.1: same binary, system libbpf vs bpflink --------------------------
if cc -std=c11 -Wall -o "$work/diff_libbpf" "$here/diff_libbpf.c" -lbpf -ldl -Wl,-z,now; then
  "$work/diff_libbpf" >"$work/libbpf.out" 2>&1
  LD_LIBRARY_PATH=$prefix/lib/bpflink-compat "$work/diff_libbpf" >"$work/bpflink.out" 2>&1
  check "a -lbpf binary runs on the system libbpf" grep -qx "implementation libbpf" "$work/libbpf.out"
  check "the same binary loads bpflink's libbpf.so.1 (versioned symbols resolve with -z now)" \
    grep -qx "implementation bpflink" "$work/bpflink.out"
  check "libbpf.so.1 from bpflink answers exactly like the system libbpf" \
    diff <(tail -n +2 "$work/libbpf.out") <(tail -n +2 "$work/bpflink.out")
else
  record 1 "build diff_libbpf.c against the system libbpf"
fi

# --- differential tests: the same C tools built against libbpf and against bpflink ---------
# Built into build/capi-bin, where capi-tests/run-kernel.sh (in the guest) finds them too.
bin=$root/build/capi-bin
if ensure_built "$bin"; then
  objs_dir=${BPFLINK_BPF_OBJ_DIR:-$root/build/bpf-objs}
  [ -n "$(ls "$objs_dir"/*.bpf.o 2>/dev/null)" ] || "$root/scripts/build-bpf.sh" "$objs_dir" >/dev/null
  corpus=("$objs_dir"/*.bpf.o /usr/lib/x86_64-linux-gnu/bpf/*.o)
  diff_run "opts struct layouts match libbpf 1.1's headers" layout
  diff_run "btf.h: every type of ${#corpus[@]} corpus objects via btf__parse and the inline helpers" btf_dump "${corpus[@]}"
  if [ -r /sys/kernel/btf/vmlinux ]; then
    diff_run "btf.h: the kernel's BTF via btf__load_vmlinux_btf" btf_dump --vmlinux
  fi
  if [ -x "$bin/object_dump.libbpf" ]; then
    for obj in "${corpus[@]}"; do
      DIFF_SKIP_IF_LIBBPF="^open failed" diff_run "object API after open: $(basename "$obj")" object_dump "$obj"
    done
  fi
  # The host kernel loads maps and XDP/socket programs; the guest runs these again.
  if [ "$(id -u)" -eq 0 ]; then
    diff_run "bpf.h layer on the host kernel" bpf_ops
  fi
else
  record 1 "build the differential C tools (capi-tests/build.sh)"
fi

# --- static linker C API (owned by the linker's engineer; see capi-tests/linker/run.sh) ------
run_harness linker "$here/linker/run.sh" "$prefix"

# --- memcheck: the C tests above and the bpflink builds of the object and BTF tools again,
# under valgrind (0 errors, 0 bytes definitely lost; see memcheck.sh). bpf_ops is left out:
# valgrind 3.19 does not model what the kernel writes for the batch and test-run commands,
# so every read of those outputs would be reported as uninitialised. ----------------------
if command -v valgrind >/dev/null; then
  memcheck() { run_harness "memcheck $1" "$here/memcheck.sh" "$@"; }
  in_prefix() { LD_LIBRARY_PATH="$prefix/lib" memcheck "$@"; }
  [ -x "$work/test_foundation" ] && in_prefix foundation "$work/test_foundation" "$test_obj" xdp_global_data "${programs[@]}"
  [ -x "$work/test_compat" ] && in_prefix compat "$work/test_compat"
  [ -x "$work/test_bad_input" ] && in_prefix bad-input "$work/test_bad_input" "$test_obj"
  [ -x "$work/test_malformed" ] && in_prefix malformed "$work/test_malformed" "$root/tests/malformed"
  if [ -x "$bin/object_dump.bpflink" ]; then
    objs_dir=${BPFLINK_BPF_OBJ_DIR:-$root/build/bpf-objs}
    memcheck object-api "$bin/object_dump.bpflink" "$objs_dir/map_in_map.bpf.o"
    memcheck btf-api "$bin/btf_dump.bpflink" "$objs_dir/btf_kinds.bpf.o" "$objs_dir/core_relos.bpf.o"
    if [ "$(id -u)" -eq 0 ]; then
      memcheck load-global-data "$bin/object_dump.bpflink" --load "$objs_dir/xdp_global_data.bpf.o"
      memcheck load-map-in-map "$bin/object_dump.bpflink" --load "$objs_dir/map_in_map.bpf.o"
    fi
  fi
else
  record 1 "valgrind is installed (scripts/setup.sh installs it)"
fi

echo "capi: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
