"""Dynamic linking as a user of bpflink's Python package sees it (the demo runs this in a
guest kernel: the host refuses BPF_PROG_TYPE_EXT). Only open + load, standard C style:
  parser.bpf.o   a library: exports bpf_packet_parser() and its map proto_counts
  rootlet.bpf.o  XDP program calling `extern bpf_packet_parser()`, with a __weak placeholder
  firewall.bpf.o a strong xdp_firewall_placeholder(): drop UDP and packets over 512 bytes
Usage: dynamic.py DIR   (DIR holds the three objects)"""
import struct
import sys

import bpflink

VERDICTS = {0: "ABORTED", 1: "DROP", 2: "PASS", 3: "TX"}
IPPROTO = {"TCP": 6, "UDP": 17}


def packet(proto, length):
    eth = bytes(12) + b"\x08\x00"
    ip = bytes([0x45, 0]) + struct.pack(">H", length - 14) + bytes(5) + bytes([IPPROTO[proto]]) + bytes(10)
    return (eth + ip).ljust(length, b"\0")


PACKETS = [("TCP", 100), ("UDP", 100), ("TCP", 1000)]


def show_verdicts(rootlet, when):
    prog = rootlet.program("rootlet")
    runs = [f"{proto} {length}B -> {VERDICTS[prog.test_run(packet(proto, length)).retval]}" for proto, length in PACKETS]
    print(f"  {when:<34} " + ", ".join(runs))


def show_graph():
    for e in bpflink.graph()["edges"]:
        ids = f"EXT prog {e['ext_prog_id']} -> prog {e['target_prog_id']}, link {e['link_id']}"
        print(f"  {e['from']} --{e['kind']} {e['function']}()--> {e['to']}   [{e['mechanism']}: {ids}]")


def main(directory):
    path = lambda name: f"{directory}/{name}.bpf.o"
    with bpflink.Object.open(path("parser")) as parser:
        parser.load()
        print("loaded parser.bpf.o: a library (no SEC() program), exporting bpf_packet_parser()")
        with bpflink.Object.open(path("rootlet")) as rootlet:
            rootlet.load()
            print("loaded rootlet.bpf.o: its call to extern bpf_packet_parser() is linked to the loaded")
            print("  library's function (a stub in the rootlet, the parser loaded once as an extension)")
            show_verdicts(rootlet, "placeholder (pass everything):")
            with bpflink.Object.open(path("firewall")) as firewall:
                firewall.load()
                print("loaded firewall.bpf.o: its strong xdp_firewall_placeholder() replaced the rootlet's")
                print("  __weak one in the running program (freplace)")
                show_verdicts(rootlet, "firewall linked in:")
                print("the link graph (bpflink.graph()):")
                show_graph()
            print("closed firewall.bpf.o:")
            show_verdicts(rootlet, "placeholder restored:")
            counts = parser.map("proto_counts")
            seen = {p: struct.unpack("Q", counts.lookup(struct.pack("I", n)))[0] for p, n in IPPROTO.items()}
            print(f"  the parser's own map counted the rootlet's calls (shared, not copied): {seen}")
    print(f"everything closed: graph {bpflink.graph()}")


if __name__ == "__main__":
    main(sys.argv[1])
