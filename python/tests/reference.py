"""The system libbpf (libbpf-dev 1.1) loaded through the same wrappers: the reference the
object API tests compare bpflink against."""
import ctypes
import ctypes.util

import pytest

from bpflink import _lib


def system_libbpf():
    """A ctypes.CDLL of the system's libbpf.so.1, declared like bpflink; skips if absent."""
    for candidate in ("/usr/lib/x86_64-linux-gnu/libbpf.so.1", ctypes.util.find_library("bpf")):
        if not candidate:
            continue
        try:
            lib = ctypes.CDLL(candidate, use_errno=True)
        except OSError:
            continue
        # bpflink's own compat library would not be a reference.
        if hasattr(lib, "bpflink_version"):
            continue
        return _lib.declare_object_api(lib)
    pytest.skip("the system libbpf.so.1 (libbpf-dev) is not installed")
