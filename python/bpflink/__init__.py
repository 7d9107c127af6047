"""Python bindings for bpflink (a libbpf-compatible BPF loader), via ctypes.

The shared library is found through $BPFLINK_LIB (a path to libbpflink.so.1), else
$BPFLINK_PREFIX/lib, else the prefix this package is installed in, else ldconfig.

Errors are raised as OSError with the errno the C API reported and libbpf's description.
"""
import ctypes
import json
import os
import threading

from . import _lib
from ._lib import LibraryNotFound

__all__ = ["LibraryNotFound", "library", "version", "libbpf_version", "libbpf_version_string",
           "strerror", "num_possible_cpus", "inspect", "graph", "system_graph", "set_library_path",
           "unexport", "Object", "Program", "Map"]

_loaded = None
_lock = threading.Lock()


def library():
    """The loaded ctypes.CDLL (loaded on first use)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _lib.load()
        return _loaded


def version():
    """bpflink's own version, e.g. '0.1.0'."""
    return library().bpflink_version().decode()


def libbpf_version():
    """The libbpf API version bpflink implements, as (major, minor)."""
    lib = library()
    return lib.libbpf_major_version(), lib.libbpf_minor_version()


def libbpf_version_string():
    """libbpf_version_string(), e.g. 'v1.1'."""
    return library().libbpf_version_string().decode()


def strerror(err):
    """libbpf_strerror(): describes an errno value or a LIBBPF_ERRNO__* code."""
    buf = ctypes.create_string_buffer(256)
    library().libbpf_strerror(err, buf, len(buf))
    return buf.value.decode(errors="replace")


def num_possible_cpus():
    """libbpf_num_possible_cpus()."""
    n = library().libbpf_num_possible_cpus()
    if n < 0:
        _raise(-n, "libbpf_num_possible_cpus")
    return n


def _json_call(fn, args, what, filename=None):
    """Calls a bpflink_*_json function (last argument: char **out) and decodes the JSON."""
    lib = library()
    out = ctypes.c_void_p()
    rc = fn(*args, ctypes.byref(out))
    if rc != 0:
        _raise(-rc if rc < 0 else ctypes.get_errno(), what, filename)
    try:
        text = ctypes.string_at(out.value).decode()
    finally:
        lib.bpflink_free_string(out)
    return json.loads(text)


def inspect(path):
    """Parses the BPF object at `path` and returns its report (as `bpflink inspect --json`)."""
    return _json_call(library().bpflink_inspect_json, [os.fsencode(path)], f"inspect {path}", path)


def graph():
    """The dynamic-linking graph of this process: {"objects": [...], "edges": [...]}, each edge
    with kind ("replace"/"call"), mechanism ("freplace"/"stub+freplace"/"import"), function,
    from/to objects and kernel ids (ext_prog_id, target_prog_id, link_id)."""
    return _json_call(library().bpflink_graph_json, [], "graph")


def system_graph(dirs=None):
    """The graph any process sees: exports under `dirs` (a list; None: the library path) and
    every extension link in the kernel."""
    arg = None if dirs is None else os.pathsep.join(os.fspath(d) for d in dirs).encode()
    return _json_call(library().bpflink_system_graph_json, [arg], "system graph")


def set_library_path(dirs):
    """The bpffs directories searched for objects other processes exported (a list; None:
    back to $BPFLINK_LIBRARY_PATH)."""
    arg = None if dirs is None else os.pathsep.join(os.fspath(d) for d in dirs).encode()
    rc = library().bpflink_set_library_path(arg)
    if rc != 0:
        _raise(-rc, "set_library_path")


def unexport(path):
    """Removes the export at `path` (see Object.export)."""
    rc = library().bpflink_unexport(os.fsencode(path))
    if rc != 0:
        _raise(-rc, f"unexport {path}", path)


def _raise(err, what, filename=None):
    message = f"{what}: {strerror(err)}"
    if filename is not None:
        raise OSError(err, message, os.fspath(filename))
    raise OSError(err, message)


from .object import Map, Object, Program  # noqa: E402  (needs library() and _raise above)
