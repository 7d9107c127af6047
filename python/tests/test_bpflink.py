"""Tests of the Python package against the installed libbpflink.so.1."""
import ctypes
import errno
import re
import subprocess
from pathlib import Path

import pytest

import bpflink


def test_library_reports_errno_through_ctypes():
    lib = bpflink.library()
    ctypes.set_errno(0)
    out = ctypes.c_void_p()
    rc = lib.bpflink_inspect_json(b"/nonexistent/x.o", ctypes.byref(out))
    assert rc == -errno.ENOENT
    assert ctypes.get_errno() == errno.ENOENT
    assert out.value is None


def test_version_matches_cargo_manifest():
    manifest = (Path(__file__).resolve().parents[2] / "Cargo.toml").read_text()
    expected = re.search(r'^version\s*=\s*"([^"]+)"', manifest, re.M).group(1)
    assert bpflink.version() == expected


def test_libbpf_version_is_consistent():
    major, minor = bpflink.libbpf_version()
    assert major == 1
    assert bpflink.libbpf_version_string() == f"v{major}.{minor}"


def test_strerror_matches_os_for_errno_values():
    import os
    assert bpflink.strerror(-errno.ENOENT) == os.strerror(errno.ENOENT)
    assert bpflink.strerror(4001) == "BPF object format invalid"


def test_num_possible_cpus_matches_sysfs():
    text = Path("/sys/devices/system/cpu/possible").read_text().strip()
    count = 0
    for item in text.split(","):
        first, _, last = item.partition("-")
        count += int(last or first) - int(first) + 1
    assert bpflink.num_possible_cpus() == count


def test_inspect_missing_file_raises_enoent():
    with pytest.raises(OSError) as info:
        bpflink.inspect("/nonexistent/dir/x.bpf.o")
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == "/nonexistent/dir/x.bpf.o"
    assert "No such file" in info.value.strerror


def test_inspect_non_elf_raises_oserror(tmp_path):
    junk = tmp_path / "junk.o"
    junk.write_bytes(b"this is not an ELF file at all")
    with pytest.raises(OSError) as info:
        bpflink.inspect(junk)
    assert info.value.errno > 0


def test_inspect_real_object(bpf_object):
    report = bpflink.inspect(bpf_object)
    assert isinstance(report, dict)
    text = str(report)
    # Independent reference for the program names: llvm-readelf's symbol table (global
    # functions in executable sections other than .text).
    readelf = subprocess.run(["llvm-readelf-19", "-sS", "--wide", str(bpf_object)],
                             check=True, capture_output=True, text=True).stdout
    sections = {m[1]: (m[2], "X" in m[3]) for m in re.finditer(
        r"^\s*\[\s*(\d+)\]\s+(\S+)\s+PROGBITS\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S*)", readelf, re.M)}
    programs = [m[2] for m in re.finditer(
        r"^\s*\d+:\s+\S+\s+\d+\s+FUNC\s+GLOBAL\s+\S+\s+(\d+)\s+(\S+)", readelf, re.M)
        if sections.get(m[1], ("", False))[1] and sections[m[1]][0] != ".text"]
    assert programs
    for name in programs + ["xdp_global_data"]:
        assert f"'{name}'" in text, f"report lacks {name}"
