#!/usr/bin/env bash
# The dynamic-linking part of the demo, run by scripts/demo.sh inside a guest kernel (the host
# refuses BPF_PROG_TYPE_EXT). Objects and packets come from build/demo (read-only here).
#   examples/demo/guest.sh STAGE_PREFIX WORKDIR
set -euo pipefail
stage=$1 work=$2
bpflink=$stage/bin/bpflink
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
verdict() { # PINNED_PROG PACKET_FILE -> the XDP verdict bpftool's test run reports
  local rv
  rv=$(bpftool prog run pinned "$1" data_in "$2" data_out /dev/null | sed -n 's/.*[Rr]eturn value: \([0-9]*\).*/\1/p')
  case "$rv" in 1) echo DROP ;; 2) echo PASS ;; *) echo "retval $rv" ;; esac
}

step "6. Dynamic linking in one process (Python): call a loaded library, replace a placeholder at run time"
PYTHONPATH=python BPFLINK_LIB=$stage/lib/libbpflink.so.1 python3 -u examples/demo/dynamic.py "$work" 2>&1

step "7. Across processes: exports under bpffs, found through BPFLINK_LIBRARY_PATH"
echo "process 1 loads the library and the rootlet, exports them, and exits:"
run "$bpflink" export "$work/parser.bpf.o" "$work/rootlet.bpf.o" 2>&1
rootlet=/sys/fs/bpf/bpflink/rootlet/prog_rootlet
echo "the exported rootlet still runs (bpftool prog run on its pin): UDP 100B -> $(verdict $rootlet "$work/udp.pkt")"
echo "process 2 loads firewall.bpf.o with the export directory in its library path and exports it:"
BPFLINK_LIBRARY_PATH=/sys/fs/bpf/bpflink run "$bpflink" export "$work/firewall.bpf.o" 2>&1
echo "UDP 100B -> $(verdict $rootlet "$work/udp.pkt"), TCP 100B -> $(verdict $rootlet "$work/tcp.pkt")  (the firewall's links are pinned: they outlived process 2)"
echo "any process sees the graph (exports + the kernel's extension links):"
run "$bpflink" graph
echo "unexporting the firewall removes its links: the placeholder is back"
run "$bpflink" unexport firewall
echo "UDP 100B -> $(verdict $rootlet "$work/udp.pkt")"
run "$bpflink" unexport rootlet parser
run "$bpflink" graph
