#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets (fuzz/fuzz_targets) from real clang-built objects.

    scripts/fuzz-seeds.py OUTDIR OBJECT...

OUTDIR/object_open: every object as is.
OUTDIR/btf:         the raw .BTF section of every object that has one.
OUTDIR/btf_ext:     .BTF and .BTF.ext of every object, as two length-prefixed chunks.
OUTDIR/linker:      every object alone, and the link groups of tests/bpf (NAME1/NAME2,
                    NAME_a/NAME_b..., as tests/link_static.rs links them), length-prefixed.
The chunk format (little-endian u32 length, then the bytes) is the one `chunks` in
fuzz/src/lib.rs reads.
"""
import os
import re
import struct
import sys
from collections import defaultdict


def elf_sections(data):
    """{name: bytes} of a little- or big-endian ELF64 file (enough for clang's BPF objects)."""
    endian = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(endian + "Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", data, 0x3A)
    headers = []
    for i in range(shnum):
        name, sh_type, _flags, _addr, offset, size = struct.unpack_from(endian + "IIQQQQ", data, shoff + i * shentsize)
        headers.append((name, sh_type, offset, size))
    _, _, str_off, _ = headers[shstrndx]
    sections = {}
    for name_off, sh_type, offset, size in headers:
        end = data.index(b"\0", str_off + name_off)
        name = data[str_off + name_off:end].decode()
        sections[name] = b"" if sh_type == 8 else data[offset:offset + size]  # SHT_NOBITS
    return sections


def chunked(*parts):
    return b"".join(struct.pack("<I", len(p)) + p for p in parts)


def link_groups(paths):
    """Objects whose names differ only in a trailing digit or _a/_b/... suffix, in name order."""
    groups = defaultdict(list)
    for path in sorted(paths):
        base = os.path.basename(path)
        m = re.match(r"(.+?)(_?[0-9]|_[a-z]+)\.bpf\.o$", base)
        if m:
            groups[m[1]].append(path)
    return [g for g in groups.values() if len(g) > 1]


def main():
    out, objects = sys.argv[1], sys.argv[2:]
    for target in ("object_open", "btf", "btf_ext", "linker"):
        os.makedirs(os.path.join(out, target), exist_ok=True)
    contents = {}
    for path in objects:
        with open(path, "rb") as f:
            contents[path] = f.read()

    def write(target, name, data):
        with open(os.path.join(out, target, name), "wb") as f:
            f.write(data)

    for path, data in contents.items():
        name = os.path.basename(path)
        write("object_open", name, data)
        write("linker", name, chunked(data))
        sections = elf_sections(data)
        if ".BTF" in sections:
            write("btf", name + ".BTF", sections[".BTF"])
            write("btf_ext", name + ".BTF.ext", chunked(sections[".BTF"], sections.get(".BTF.ext", b"")))
    for group in link_groups(contents):
        name = "+".join(os.path.basename(p).replace(".bpf.o", "") for p in group)
        write("linker", name, chunked(*(contents[p] for p in group)))


if __name__ == "__main__":
    main()
