"""Object API in a kernel: load, test runs and map access, compared with the system libbpf
driven through the same wrappers on the same object."""
import struct

import bpflink
from reference import system_libbpf

# Ethernet + IPv4 + UDP header and payload: 100 bytes (bucket 1 of len_hist).
PACKET = bytes(range(100))


def run_scenario(bpf_object, lib):
    """Loads the object, runs the program three times, returns everything observable."""
    with bpflink.Object.open(bpf_object, lib=lib) as obj:
        obj.load()
        prog = obj.program("xdp_len_filter")
        results = [prog.test_run(PACKET) for _ in range(3)]
        counts = obj.map("verdict_counts")
        hist = obj.map("len_hist")
        observed = {
            "insn_cnt": prog.insn_cnt,
            "retvals": [r.retval for r in results],
            "data_equal": [r.data == PACKET for r in results],
            "verdicts": {struct.unpack("I", k)[0]: struct.unpack("Q", counts.lookup(k))[0]
                         for k in counts.keys()},
            "hist": sorted((struct.unpack("I", k)[0], struct.unpack("I", hist.lookup(k))[0])
                           for k in hist.keys()),
            # The kernel's copy of global data, read through the map (bpf_map__initial_value
            # after load is a private copy in libbpf 1.1 but live memory in newer libbpf).
            "data": obj.map(".data").lookup(bytes(4)),
            "bss": obj.map(".bss").lookup(bytes(4)),
            "rodata": obj.map(".rodata").lookup(bytes(4)),
        }
        hist.update(struct.pack("I", 99), struct.pack("I", 5))
        observed["after_update"] = struct.unpack("I", hist.lookup(struct.pack("I", 99)))[0]
        hist.delete(struct.pack("I", 99))
        observed["after_delete"] = hist.lookup(struct.pack("I", 99))
        return observed


def test_load_run_and_maps_match_system_libbpf(bpf_object):
    ours = run_scenario(bpf_object, None)
    reference = run_scenario(bpf_object, system_libbpf())
    assert ours == reference
    # And the program did what its source says: 3 passes, 100-byte packets in bucket 1.
    assert ours["retvals"] == [2, 2, 2]
    assert ours["verdicts"][2] == 3
    assert ours["hist"] == [(1, 3)]
    assert ours["data"][:4] == (7 + 3).to_bytes(4, "little")
    assert ours["bss"] == (3 * len(PACKET)).to_bytes(8, "little")


def test_global_data_set_before_load_changes_the_verdict(bpf_object):
    with bpflink.Object.open(bpf_object) as obj:
        # drop_len_over is the first .rodata variable; below 100 the program drops.
        rodata = obj.map(".rodata")
        rodata.initial_value = struct.pack("I", 50) + rodata.initial_value[4:]
        obj.load()
        assert obj.program("xdp_len_filter").test_run(PACKET).retval == 1  # XDP_DROP
