"""The libbpf object API in Python: open a BPF object, adjust it, load it, run programs on
test input and read or write maps. Thin wrappers over the C functions of the same names.

    with bpflink.Object.open("prog.bpf.o") as obj:
        obj.load()
        result = obj.program("xdp_prog").test_run(packet)
        value = obj.map("counters").lookup(struct.pack("I", 0))

Errors raise OSError with the errno the C API reported. Program and Map objects are valid
while their Object is open.
"""
import ctypes
import os

from . import _raise, library

__all__ = ["Object", "Program", "Map", "TestRunResult"]


def _check(rc, what, filename=None):
    if rc < 0:
        _raise(-rc, what, filename)
    return rc


def _handle(ptr, what, filename=None):
    if not ptr:
        _raise(ctypes.get_errno() or 22, what, filename)
    return ptr


def _c_getter(c_name, decode=False, doc=None):
    """A read-only property: the C function `c_name` called on the handle (its char * result
    decoded to str when `decode`)."""
    def get(self):
        value = getattr(self._lib, c_name)(self._h)
        return value.decode() if decode else value
    return property(get, doc=doc)


class _TestRunOpts(ctypes.Structure):
    """libbpf 1.1's struct bpf_test_run_opts."""
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("data_in", ctypes.c_void_p),
        ("data_out", ctypes.c_void_p),
        ("data_size_in", ctypes.c_uint32),
        ("data_size_out", ctypes.c_uint32),
        ("ctx_in", ctypes.c_void_p),
        ("ctx_out", ctypes.c_void_p),
        ("ctx_size_in", ctypes.c_uint32),
        ("ctx_size_out", ctypes.c_uint32),
        ("retval", ctypes.c_uint32),
        ("repeat", ctypes.c_int),
        ("duration", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("cpu", ctypes.c_uint32),
        ("batch_size", ctypes.c_uint32),
    ]


class TestRunResult:
    """What BPF_PROG_TEST_RUN reported: the program's return value and output packet."""
    __test__ = False  # not a pytest test class

    def __init__(self, retval, data, duration):
        self.retval = retval
        self.data = data
        self.duration = duration

    def __repr__(self):
        return f"TestRunResult(retval={self.retval}, data={len(self.data)} bytes)"


class _ObjectPart:
    """A program or map handle of an Object; calls go through the Object's library."""

    def __init__(self, obj, handle):
        self._obj = obj
        self._h = handle

    @property
    def _lib(self):
        return self._obj._lib


class Program(_ObjectPart):
    """A program of an Object (bpf_program__*)."""

    name = _c_getter("bpf_program__name", decode=True)
    section_name = _c_getter("bpf_program__section_name", decode=True)
    type = _c_getter("bpf_program__type")
    expected_attach_type = _c_getter("bpf_program__expected_attach_type")
    insn_cnt = _c_getter("bpf_program__insn_cnt")
    autoload = _c_getter("bpf_program__autoload")

    @autoload.setter
    def autoload(self, value):
        _check(self._lib.bpf_program__set_autoload(self._h, bool(value)), f"set_autoload {self.name}")

    @property
    def fd(self):
        return _check(self._lib.bpf_program__fd(self._h), f"program {self.name} fd")

    def test_run(self, data, repeat=1, out_size=None):
        """Runs the loaded program on `data` (BPF_PROG_TEST_RUN)."""
        data = bytes(data)
        in_buf = ctypes.create_string_buffer(data, len(data))
        out_len = out_size if out_size is not None else len(data) + 256
        out_buf = ctypes.create_string_buffer(out_len)
        opts = _TestRunOpts(sz=ctypes.sizeof(_TestRunOpts), data_in=ctypes.addressof(in_buf),
                            data_size_in=len(data), data_out=ctypes.addressof(out_buf),
                            data_size_out=out_len, repeat=repeat)
        _check(self._lib.bpf_prog_test_run_opts(self.fd, ctypes.byref(opts)), f"test run {self.name}")
        return TestRunResult(opts.retval, out_buf.raw[:min(opts.data_size_out, out_len)], opts.duration)

    def __repr__(self):
        return f"Program({self.name!r}, section={self.section_name!r})"


class Map(_ObjectPart):
    """A map of an Object (bpf_map__*)."""

    name = _c_getter("bpf_map__name", decode=True)
    type = _c_getter("bpf_map__type")
    key_size = _c_getter("bpf_map__key_size")
    value_size = _c_getter("bpf_map__value_size")
    max_entries = _c_getter("bpf_map__max_entries")

    @max_entries.setter
    def max_entries(self, value):
        _check(self._lib.bpf_map__set_max_entries(self._h, value), f"set_max_entries {self.name}")

    map_flags = _c_getter("bpf_map__map_flags")
    fd = _c_getter("bpf_map__fd", doc="The map's fd after load, -1 before.")

    @property
    def initial_value(self):
        """The global data bytes (before load: the initial value; after: the live memory),
        or None for maps without value memory."""
        size = ctypes.c_size_t()
        ptr = self._lib.bpf_map__initial_value(self._h, ctypes.byref(size))
        return ctypes.string_at(ptr, size.value) if ptr else None

    # Per-CPU maps hold one 8-byte-aligned value per possible CPU.
    _PER_CPU_TYPES = {5, 6, 10, 21}

    @initial_value.setter
    def initial_value(self, data):
        """Replaces a global data map's initial value before load (same size)."""
        data = bytes(data)
        _check(self._lib.bpf_map__set_initial_value(self._h, data, len(data)),
               f"set_initial_value {self.name}")

    def _value_buffer_size(self):
        if self.type in self._PER_CPU_TYPES:
            cpus = self._lib.libbpf_num_possible_cpus()
            return cpus * ((self.value_size + 7) // 8 * 8)
        return self.value_size

    def lookup(self, key, value_size=None):
        """The value stored under `key` (bytes), or None if absent."""
        key = bytes(key)
        size = value_size or self._value_buffer_size()
        out = ctypes.create_string_buffer(size)
        rc = self._lib.bpf_map__lookup_elem(self._h, key, len(key), out, size, 0)
        if rc == -2:  # ENOENT
            return None
        _check(rc, f"lookup in map {self.name}")
        return out.raw

    def update(self, key, value, flags=0):
        key, value = bytes(key), bytes(value)
        _check(self._lib.bpf_map__update_elem(self._h, key, len(key), value, len(value), flags),
               f"update of map {self.name}")

    def delete(self, key):
        key = bytes(key)
        _check(self._lib.bpf_map__delete_elem(self._h, key, len(key), 0), f"delete in map {self.name}")

    def keys(self):
        """Every key, by bpf_map__get_next_key."""
        size = self.key_size
        cur = None
        nxt = ctypes.create_string_buffer(size)
        while True:
            rc = self._lib.bpf_map__get_next_key(self._h, cur, nxt, size)
            if rc == -2:
                return
            _check(rc, f"iterating map {self.name}")
            key = nxt.raw
            yield key
            cur = ctypes.create_string_buffer(key, size)

    def __repr__(self):
        return f"Map({self.name!r}, type={self.type})"


class Object:
    """An opened BPF object (bpf_object__*). Use as a context manager, or call close()."""

    def __init__(self, handle, lib):
        self._h = handle
        self._lib = lib

    @classmethod
    def open(cls, path, lib=None):
        """bpf_object__open_file(path, NULL). `lib` selects another libbpf-compatible library
        (a ctypes.CDLL declared with _lib.declare_object_api); default: bpflink."""
        lib = lib or library()
        ctypes.set_errno(0)
        handle = _handle(lib.bpf_object__open_file(os.fsencode(path), None), f"open {path}", path)
        return cls(handle, lib)

    @classmethod
    def open_mem(cls, data, lib=None):
        lib = lib or library()
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        ctypes.set_errno(0)
        handle = _handle(lib.bpf_object__open_mem(buf, len(data), None), "open_mem")
        return cls(handle, lib)

    def _live(self):
        if not self._h:
            raise ValueError("the object is closed")
        return self._h

    @property
    def name(self):
        return self._lib.bpf_object__name(self._live()).decode()

    def load(self):
        _check(self._lib.bpf_object__load(self._live()), f"load {self.name}")

    def _all(self, next_fn, part):
        """Every program or map, in object order, by the bpf_object__next_* iterator `next_fn`."""
        out, cur = [], None
        while True:
            cur = next_fn(self._live(), cur)
            if not cur:
                return out
            out.append(part(self, cur))

    def _find(self, find_fn, part, what, name):
        ctypes.set_errno(0)
        return part(self, _handle(find_fn(self._live(), name.encode()), f"{what} {name}"))

    def programs(self):
        return self._all(self._lib.bpf_object__next_program, Program)

    def maps(self):
        return self._all(self._lib.bpf_object__next_map, Map)

    def program(self, name):
        return self._find(self._lib.bpf_object__find_program_by_name, Program, "program", name)

    def map(self, name):
        return self._find(self._lib.bpf_object__find_map_by_name, Map, "map", name)

    def export(self, directory=None):
        """bpflink_object__export(): exports the loaded object under `directory`/<name> on a
        bpffs (default /sys/fs/bpf/bpflink) for other processes' dynamic linking."""
        arg = None if directory is None else os.fsencode(directory)
        _check(library().bpflink_object__export(self._live(), arg), f"export {self.name}")

    def close(self):
        if self._h:
            self._lib.bpf_object__close(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone
            pass
