"""Finding and loading libbpflink.so.1, and declaring the C functions' signatures."""
import ctypes
import ctypes.util
import os
from pathlib import Path

SONAME = "libbpflink.so.1"


class LibraryNotFound(OSError):
    """libbpflink.so.1 could not be located."""


def _candidates():
    """Where to look, most explicit first."""
    explicit = os.environ.get("BPFLINK_LIB")
    if explicit:
        yield explicit
        return
    prefix = os.environ.get("BPFLINK_PREFIX")
    if prefix:
        yield str(Path(prefix) / "lib" / SONAME)
    # Installed into a prefix by pip (PREFIX/lib/pythonX.Y/site-packages/bpflink): PREFIX/lib.
    here = Path(__file__).resolve().parent
    for parent in here.parents:
        lib = parent / SONAME if parent.name == "lib" else parent / "lib" / SONAME
        if lib.exists():
            yield str(lib)
            break
    found = ctypes.util.find_library("bpflink")  # ldconfig's cache
    if found:
        yield found
    yield SONAME  # the dynamic loader's default search path


def load():
    """Loads the library with errno capture, as ctypes users of libbpf do."""
    tried = []
    for candidate in _candidates():
        try:
            lib = ctypes.CDLL(candidate, use_errno=True)
        except OSError as err:
            tried.append(f"{candidate}: {err}")
            continue
        _declare(lib)
        return lib
    raise LibraryNotFound(
        "cannot load libbpflink.so.1 (set BPFLINK_LIB to its path or BPFLINK_PREFIX to the "
        "install prefix); tried:\n  " + "\n  ".join(tried))


def _declare(lib):
    c = ctypes
    signatures = {
        "bpflink_version": ([], c.c_char_p),
        "libbpf_major_version": ([], c.c_uint32),
        "libbpf_minor_version": ([], c.c_uint32),
        "libbpf_version_string": ([], c.c_char_p),
        "libbpf_strerror": ([c.c_int, c.c_char_p, c.c_size_t], c.c_int),
        "libbpf_num_possible_cpus": ([], c.c_int),
        # char ** out-parameter: a c_void_p keeps the pointer so it can be freed.
        "bpflink_inspect_json": ([c.c_char_p, c.POINTER(c.c_void_p)], c.c_int),
        "bpflink_free_string": ([c.c_void_p], None),
    }
    for name, (argtypes, restype) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = restype
