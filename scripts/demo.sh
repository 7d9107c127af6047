#!/usr/bin/env bash
# The bpflink demo: every capability that exists so far, end to end, as a user sees it.
#   scripts/demo.sh STAGE_PREFIX      (make demo builds and installs into build/prefix first)
set -euo pipefail
cd "$(dirname "$0")/.."
stage=$(realpath "${1:?usage: demo.sh STAGE_PREFIX}")
# Under build/ rather than /tmp: the guest kernel sees the host's tree (read-only), not its /tmp.
work=$PWD/build/demo
rm -rf "$work" && mkdir -p "$work"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
bpflink=$stage/bin/bpflink
pc_flags() { PKG_CONFIG_PATH=$stage/lib/pkgconfig pkg-config --cflags --libs bpflink; }

step "1. Three plain C BPF objects, as in the 2019 thread"
for f in rootlet parser firewall; do
  clang-19 -target bpf -O2 -g -I/usr/include/x86_64-linux-gnu -c "examples/demo/$f.bpf.c" -o "$work/$f.bpf.o"
done
echo "rootlet.bpf.o : XDP entry 'rootlet', calls extern bpf_packet_parser(), asks __weak xdp_firewall_placeholder() for a verdict"
echo "parser.bpf.o  : exports bpf_packet_parser() and its map proto_counts"
echo "firewall.bpf.o: a strong xdp_firewall_placeholder(): drop UDP and packets over 512 bytes"
run "$bpflink" inspect "$work/rootlet.bpf.o" | sed -n '/^programs:/,$p'

step "2. Static linking in user space (bpflink link; same job as bpftool gen object)"
run "$bpflink" link -o "$work/passthrough.o" "$work/rootlet.bpf.o" "$work/parser.bpf.o"
run "$bpflink" link -o "$work/firewall.o" "$work/rootlet.bpf.o" "$work/parser.bpf.o" "$work/firewall.bpf.o"
echo "extern bpf_packet_parser resolved; in firewall.o the strong definition replaced the weak placeholder:"
"$bpflink" inspect "$work/firewall.o" | grep -E '^(weak placeholders|exports)|^  (xdp_firewall_placeholder|bpf_packet_parser) '

step "3. Load -> packets: an unmodified libbpf C tool, built against bpflink with pkg-config"
# shellcheck disable=SC2046
cc -o "$work/xdp_run" examples/xdp_run.c $(pc_flags) -Wl,-rpath,"$stage/lib"
echo "placeholder kept (rootlet + parser):"
run "$work/xdp_run" "$work/passthrough.o" rootlet
echo "placeholder replaced (rootlet + parser + firewall):"
run "$work/xdp_run" "$work/firewall.o" rootlet

step "4. Binary drop-in: the same tool built with -lbpf, run on bpflink's libbpf.so.1"
cc -o "$work/xdp_run.libbpf" examples/xdp_run.c -lbpf
echo "with the system libbpf:"
"$work/xdp_run.libbpf" "$work/firewall.o" rootlet
echo "with LD_LIBRARY_PATH=$stage/lib/bpflink-compat:"
LD_LIBRARY_PATH=$stage/lib/bpflink-compat ldd "$work/xdp_run.libbpf" | grep libbpf
LD_LIBRARY_PATH=$stage/lib/bpflink-compat "$work/xdp_run.libbpf" "$work/firewall.o" rootlet

step "5. The same from Python (ctypes over libbpflink.so.1), with a .rodata knob set before load"
PYTHONPATH=python BPFLINK_LIB=$stage/lib/libbpflink.so.1 python3 - "$work/firewall.o" <<'PY'
import struct, sys
import bpflink

with bpflink.Object.open(sys.argv[1]) as obj:
    rodata = next(m for m in obj.maps() if m.name.endswith(".rodata"))
    rodata.initial_value = struct.pack("<I", 2000)       # max_len = 2000 instead of 512
    obj.load()
    tcp_1000 = bytes(12) + b"\x08\x00" + bytes([0x45, 0, 0x03, 0xda]) + bytes(5) + b"\x06" + bytes(1000 - 24)
    verdict = obj.program("rootlet").test_run(tcp_1000).retval
    print("TCP 1000 bytes with max_len=2000 ->", {1: "DROP", 2: "PASS"}.get(verdict, verdict))
PY

# Packets for the guest part (bpftool prog run reads them from files).
python3 - "$work" <<'PY'
import struct, sys
def packet(proto, length):
    ip = bytes([0x45, 0]) + struct.pack(">H", length - 14) + bytes(5) + bytes([proto]) + bytes(10)
    return (bytes(12) + b"\x08\x00" + ip).ljust(length, b"\0")
open(f"{sys.argv[1]}/udp.pkt", "wb").write(packet(17, 100))
open(f"{sys.argv[1]}/tcp.pkt", "wb").write(packet(6, 100))
PY
echo
echo "Steps 6 and 7 load extension programs (BPF_PROG_TYPE_EXT), which this host's kernel refuses"
echo "(sandbox policy): they run in a guest 6.12 kernel under QEMU (scripts/vm-run)."
scripts/vm-run -- examples/demo/guest.sh "$stage" "$work" </dev/null
