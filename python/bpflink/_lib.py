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
        "bpflink_set_library_path": ([c.c_char_p], c.c_int),
        "bpflink_unexport": ([c.c_char_p], c.c_int),
        "bpflink_graph_json": ([c.POINTER(c.c_void_p)], c.c_int),
        "bpflink_system_graph_json": ([c.c_char_p, c.POINTER(c.c_void_p)], c.c_int),
        "bpflink_object__export": ([c.c_void_p, c.c_char_p], c.c_int),
    }
    signatures.update(object_api_signatures())
    _set_signatures(lib, signatures)


def _set_signatures(lib, signatures):
    """Sets argtypes/restype of each function named in `signatures` ({name: (argtypes, restype)})."""
    for name, (argtypes, restype) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = restype


def object_api_signatures():
    """ctypes signatures of the libbpf object API the `bpflink.object` wrappers use. Handles
    are c_void_p; they are the same for any libbpf-compatible library (bpflink.object can wrap
    the system libbpf.so.1 too, which the tests use as the reference)."""
    c = ctypes
    p = c.c_void_p
    return {
        "bpf_object__open_file": ([c.c_char_p, p], p),
        "bpf_object__open_mem": ([p, c.c_size_t, p], p),
        "bpf_object__load": ([p], c.c_int),
        "bpf_object__close": ([p], None),
        "bpf_object__name": ([p], c.c_char_p),
        "bpf_object__next_program": ([p, p], p),
        "bpf_object__next_map": ([p, p], p),
        "bpf_object__find_program_by_name": ([p, c.c_char_p], p),
        "bpf_object__find_map_by_name": ([p, c.c_char_p], p),
        "bpf_program__name": ([p], c.c_char_p),
        "bpf_program__section_name": ([p], c.c_char_p),
        "bpf_program__fd": ([p], c.c_int),
        "bpf_program__type": ([p], c.c_uint),
        "bpf_program__expected_attach_type": ([p], c.c_uint),
        "bpf_program__autoload": ([p], c.c_bool),
        "bpf_program__set_autoload": ([p, c.c_bool], c.c_int),
        "bpf_program__insn_cnt": ([p], c.c_size_t),
        "bpf_map__name": ([p], c.c_char_p),
        "bpf_map__fd": ([p], c.c_int),
        "bpf_map__type": ([p], c.c_uint),
        "bpf_map__key_size": ([p], c.c_uint32),
        "bpf_map__value_size": ([p], c.c_uint32),
        "bpf_map__max_entries": ([p], c.c_uint32),
        "bpf_map__set_max_entries": ([p, c.c_uint32], c.c_int),
        "bpf_map__map_flags": ([p], c.c_uint32),
        "bpf_map__initial_value": ([p, c.POINTER(c.c_size_t)], p),
        "bpf_map__set_initial_value": ([p, p, c.c_size_t], c.c_int),
        "bpf_map__lookup_elem": ([p, p, c.c_size_t, p, c.c_size_t, c.c_uint64], c.c_int),
        "bpf_map__update_elem": ([p, p, c.c_size_t, p, c.c_size_t, c.c_uint64], c.c_int),
        "bpf_map__delete_elem": ([p, p, c.c_size_t, c.c_uint64], c.c_int),
        "bpf_map__get_next_key": ([p, p, p, c.c_size_t], c.c_int),
        "bpf_prog_test_run_opts": ([c.c_int, p], c.c_int),
        "libbpf_num_possible_cpus": ([], c.c_int),
    }


def declare_object_api(lib):
    """Declares the object API on another libbpf-compatible library (e.g. the system one)."""
    _set_signatures(lib, object_api_signatures())
    return lib
