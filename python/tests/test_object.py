"""The object API wrappers (open only, no kernel needed), compared with the system libbpf
driven through the same wrappers."""
import ctypes
import errno

import pytest

import bpflink
from reference import system_libbpf


def describe(obj):
    programs = [(p.name, p.section_name, p.type, p.expected_attach_type, p.autoload, p.insn_cnt)
                for p in obj.programs()]
    maps = [(m.name, m.type, m.key_size, m.value_size, m.max_entries, m.map_flags, m.fd,
             m.initial_value) for m in obj.maps()]
    return obj.name, programs, maps


def test_open_matches_system_libbpf(bpf_object):
    with bpflink.Object.open(bpf_object) as ours, \
            bpflink.Object.open(bpf_object, lib=system_libbpf()) as reference:
        assert describe(ours) == describe(reference)
        assert [p.name for p in ours.programs()] == ["xdp_len_filter"]


def test_open_mem_matches_open_file(bpf_object):
    data = bpf_object.read_bytes()
    with bpflink.Object.open(bpf_object) as from_file, bpflink.Object.open_mem(data) as from_mem:
        # Internal map names derive from the object name, which differs (libbpf names a
        # memory object after the buffer's address): compare everything else.
        _, file_programs, file_maps = describe(from_file)
        _, mem_programs, mem_maps = describe(from_mem)
        assert file_programs == mem_programs
        assert [m[1:] for m in file_maps] == [m[1:] for m in mem_maps]


def test_global_data_is_visible_before_load(bpf_object):
    with bpflink.Object.open(bpf_object) as obj:
        data = obj.map(".data").initial_value
        # packets_seen = 7 is the first variable of .data
        assert data[:4] == (7).to_bytes(4, "little")
        assert obj.map(".bss").initial_value == bytes(obj.map(".bss").value_size)


def test_unknown_names_raise_enoent(bpf_object):
    with bpflink.Object.open(bpf_object) as obj:
        with pytest.raises(OSError) as err:
            obj.program("no_such_program")
        assert err.value.errno == errno.ENOENT
        with pytest.raises(OSError) as err:
            obj.map("no_such_map")
        assert err.value.errno == errno.ENOENT


def test_settings_before_load(bpf_object):
    with bpflink.Object.open(bpf_object) as obj:
        hist = obj.map("len_hist")
        hist.max_entries = 64
        assert hist.max_entries == 64
        prog = obj.program("xdp_len_filter")
        prog.autoload = False
        assert prog.autoload is False
        with pytest.raises(OSError) as err:
            prog.fd
        assert err.value.errno == errno.ENOENT
        assert hist.fd == -1


def test_open_errors_match_system_libbpf(tmp_path):
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"not an ELF file at all")
    for path in (tmp_path / "missing.o", junk):
        codes = []
        for lib in (None, system_libbpf()):
            with pytest.raises(OSError) as err:
                bpflink.Object.open(path, lib=lib)
            codes.append(err.value.errno)
        assert codes[0] == codes[1], path


def test_closed_object_is_refused(bpf_object):
    obj = bpflink.Object.open(bpf_object)
    obj.close()
    obj.close()  # double close is harmless
    with pytest.raises(ValueError):
        obj.programs()
    ctypes.set_errno(0)
    bpflink.library().bpf_object__close(None)
