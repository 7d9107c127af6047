"""Dynamic linking from Python: a library loaded first, then an object calling its function;
the graph shows the edges. The host kernel refuses BPF_PROG_TYPE_EXT: there the test skips
loudly, unless BPFLINK_REQUIRE_KERNEL_FEATURES=1 (the guest), where it must run."""
import errno
import os
import struct

import pytest

import bpflink

XDP_DROP, XDP_PASS, XDP_TX = 1, 2, 3


def frame(first):
    return bytes([first]) + bytes(11) + b"\x08\x00" + bytes(50)


def load_or_skip(obj):
    try:
        obj.load()
    except OSError as e:
        if e.errno == errno.EPERM and os.environ.get("BPFLINK_REQUIRE_KERNEL_FEATURES") != "1":
            pytest.skip(f"SKIPPED: this kernel refuses BPF_PROG_TYPE_EXT ({e})")
        raise


def test_a_caller_runs_the_library_function_and_the_graph_shows_it(bpf_objects):
    with bpflink.Object.open(bpf_objects("dyn_classifier")) as library:
        library.load()
        with bpflink.Object.open(bpf_objects("dyn_caller")) as caller:
            load_or_skip(caller)
            assert caller.program("dyn_caller").test_run(frame(0xFF)).retval == XDP_DROP
            assert caller.program("dyn_caller2").test_run(frame(0)).retval == XDP_TX
            calls = library.map("classify_calls")
            assert struct.unpack("Q", calls.lookup(struct.pack("I", XDP_DROP)))[0] == 1
            assert struct.unpack("Q", calls.lookup(struct.pack("I", XDP_PASS)))[0] == 1
            graph = bpflink.graph()
            names = [o["name"] for o in graph["objects"]]
            assert names == ["dyn_classifier", "dyn_caller"], graph
            edges = [(e["from"], e["kind"], e["function"], e["to"], e["mechanism"]) for e in graph["edges"]]
            assert edges == [("dyn_caller", "call", "classify", "dyn_classifier", "stub+freplace")] * 2, graph
            assert all(e["link_id"] > 0 and e["ext_prog_id"] > 0 for e in graph["edges"])
    assert bpflink.graph() == {"objects": [], "edges": []}


def test_an_unresolved_call_raises_esrch_naming_the_symbol(bpf_objects):
    with bpflink.Object.open(bpf_objects("dyn_caller")) as caller:
        with pytest.raises(OSError) as info:
            caller.load()
        assert info.value.errno == errno.ESRCH
