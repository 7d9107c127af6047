#!/usr/bin/env python3
"""Generates tests/malformed: corrupted copies of real clang-built BPF objects, and the error
each must give (tests/malformed/EXPECTED).

    scripts/gen-malformed-corpus.py OBJDIR OUTDIR

OBJDIR holds the compiled test objects (scripts/build-bpf.sh OBJDIR); the bases are copied
without DWARF (llvm-objcopy-19 --strip-debug) to keep the corpus small. Every corruption is
computed here from the ELF, BTF and .BTF.ext layouts, independently of bpflink, and so is
its expected error: the place (section/symbol/relocation index and name, type id, byte
offset, record) and the problem, as substrings of bpflink's message. EXPECTED has one line
per file: NAME <TAB> ERRNO <TAB> SUBSTRING... (the errno the C API reports:
LIBBPF_ERRNO__FORMAT for every malformed object). The Rust (tests/malformed_corpus.rs), C
(capi-tests/test_malformed.c) and Python (python/tests/test_malformed.py) tests read it.

Classes: truncation at every section boundary; ELF header fields; section names, offsets,
sizes (huge, overlapping, not whole instructions), links and types; symbol section indices,
names, values and sizes; relocation symbol indices, offsets (out of range, misaligned) and
targets of the wrong kind; BTF header, truncated records, unknown and wrong kinds, bad string
offsets, out-of-range ids and reference cycles; .BTF.ext records outside their sections, for
sections that don't exist, with bad type ids, counts and strings.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

LIBBPF_ERRNO_FORMAT = 4001
BASES = ["xdp_global_data", "map_in_map", "btf_kinds", "core_relos"]

SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS, SHT_REL = 0, 1, 2, 3, 8, 9
SHF_EXECINSTR = 4
EHDR, SHDR, SYM, REL = 64, 64, 24, 16
BTF_KIND_NAMES = ["VOID", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF", "VOLATILE",
                  "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT", "DECL_TAG",
                  "TYPE_TAG", "ENUM64"]


def u16(d, o): return struct.unpack_from("<H", d, o)[0]
def u32(d, o): return struct.unpack_from("<I", d, o)[0]
def u64(d, o): return struct.unpack_from("<Q", d, o)[0]
def put16(d, o, v): struct.pack_into("<H", d, o, v)
def put32(d, o, v): struct.pack_into("<I", d, o, v)
def put64(d, o, v): struct.pack_into("<Q", d, o, v)


class Elf:
    """The little-endian ELF64 layout of a clang BPF object: sections, symbols, relocations."""

    def __init__(self, data):
        self.data = bytes(data)
        self.shoff, self.shnum = u64(data, 0x28), u16(data, 0x3C)
        self.sections = []
        for i in range(self.shnum):
            h = self.shoff + i * SHDR
            self.sections.append(dict(index=i, hdr=h, name_off=u32(data, h), type=u32(data, h + 4),
                                      flags=u64(data, h + 8), offset=u64(data, h + 24), size=u64(data, h + 32),
                                      link=u32(data, h + 40), info=u32(data, h + 44), entsize=u64(data, h + 56)))
        strtab = self.sections[u16(data, 0x3E)]
        for s in self.sections:
            s["name"] = self.cstr(strtab["offset"] + s["name_off"])
        self.symtab = next(s for s in self.sections if s["type"] == SHT_SYMTAB)
        names = self.sections[self.symtab["link"]]
        self.symbols = []
        for i in range(self.symtab["size"] // SYM):
            at = self.symtab["offset"] + i * SYM
            self.symbols.append(dict(index=i, at=at, name=self.cstr(names["offset"] + u32(data, at)),
                                     info=data[at + 4], shndx=u16(data, at + 6), value=u64(data, at + 8),
                                     size=u64(data, at + 16)))

    def cstr(self, off):
        return self.data[off:self.data.index(b"\0", off)].decode()

    def section(self, name):
        return next(s for s in self.sections if s["name"] == name)

    def symbol(self, name):
        return next(s for s in self.symbols if s["name"] == name)

    def rels(self, target):
        """(file offset of the entry, r_offset, symbol index) of the relocations for `target`."""
        rel = next(s for s in self.sections if s["type"] == SHT_REL and s["info"] == target["index"])
        return rel, [(rel["offset"] + i * REL, u64(self.data, rel["offset"] + i * REL),
                      u64(self.data, rel["offset"] + i * REL + 8) >> 32) for i in range(rel["size"] // REL)]

    def insn(self, section, byte_off):
        return self.data[section["offset"] + byte_off]

    def is_code(self, s):
        return s["type"] == SHT_PROGBITS and s["flags"] & SHF_EXECINSTR


class Btf:
    """Type records and strings of a raw .BTF (file offsets relative to the section start)."""

    def __init__(self, data, base):
        self.base = base
        self.hdr_len = u32(data, base + 4)
        self.type_start = base + self.hdr_len + u32(data, base + 8)
        self.type_len = u32(data, base + 12)
        self.str_start = base + self.hdr_len + u32(data, base + 16)
        self.str_len = u32(data, base + 20)
        self.types = [None]  # (file offset, kind, vlen)
        off = 0
        while off < self.type_len:
            info = u32(data, self.type_start + off + 4)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            self.types.append((self.type_start + off, kind, vlen))
            off += 12 + {1: 4, 3: 12, 4: 12 * vlen, 5: 12 * vlen, 6: 8 * vlen, 13: 8 * vlen, 14: 4,
                         15: 12 * vlen, 17: 4, 19: 12 * vlen}.get(kind, 0)
        self.strings = data[self.str_start:self.str_start + self.str_len]

    def first(self, kind):
        return next(i for i, t in enumerate(self.types) if t and t[1] == kind)

    def string(self, off):
        return self.strings[off:self.strings.index(b"\0", off)].decode()

    def string_off(self, text):
        return self.strings.index(text.encode() + b"\0")


class Corpus:
    def __init__(self, out):
        self.out = out
        self.rows = []

    def add(self, name, data, *expect):
        assert all("\t" not in e and e for e in expect), expect
        with open(os.path.join(self.out, name + ".o"), "wb") as f:
            f.write(data)
        self.rows.append("\t".join([name + ".o", str(LIBBPF_ERRNO_FORMAT), *expect]))

    def patched(self, elf, name, patches, *expect):
        d = bytearray(elf.data)
        for put, off, value in patches:
            put(d, off, value)
        self.add(name, bytes(d), *expect)


def section_at(s):
    return f"section {s['index']} ({s['name']})"


def outside_file(s, offset, size, file_size):
    return f"{section_at(s)}: contents at offset {offset} size {size} lie outside the {file_size}-byte file"


# ------------------------------------------------------------------------------- ELF level

def headers_first(elf):
    """The object rewritten with the section header table and the section name table right
    after the ELF header, so that truncating it cuts section contents, not the headers."""
    strtab = elf.sections[u16(elf.data, 0x3E)]
    names = elf.data[strtab["offset"]:strtab["offset"] + strtab["size"]]
    table_len = elf.shnum * SHDR
    shift = table_len + len(names)
    out = bytearray(elf.data[:EHDR]) + bytearray(table_len) + names + elf.data[EHDR:]
    put64(out, 0x28, EHDR)
    for s in elf.sections:
        h = EHDR + s["index"] * SHDR
        out[h:h + SHDR] = elf.data[s["hdr"]:s["hdr"] + SHDR]
        if s is strtab:
            put64(out, h + 24, EHDR + table_len)
        elif s["type"] != SHT_NULL and s["offset"] >= EHDR:
            put64(out, h + 24, s["offset"] + shift)
    return Elf(out)


def truncations(c, base, elf):
    moved = headers_first(elf)
    with_bytes = [s for s in moved.sections if s["type"] not in (SHT_NULL, SHT_NOBITS) and s["size"] > 0]
    fixed = EHDR + moved.shnum * SHDR + moved.sections[u16(moved.data, 0x3E)]["size"]
    cuts = sorted({s["offset"] for s in with_bytes} | {s["offset"] + s["size"] // 2 for s in with_bytes})
    for cut in (c for c in cuts if fixed <= c < len(moved.data)):
        first = next(s for s in with_bytes if s["offset"] + s["size"] > cut)
        c.add(f"{base}.truncated-at-{cut}", moved.data[:cut], outside_file(first, first["offset"], first["size"], cut))
    for cut in (10, 63):
        c.add(f"{base}.truncated-at-{cut}", elf.data[:cut], f"file is {cut} bytes, too short for an ELF header")
    c.add(f"{base}.truncated-in-section-headers", elf.data[:elf.shoff + SHDR * 2], "section header table:")


def header_fields(c, base, elf):
    c.patched(elf, f"{base}.bad-magic", [(put32, 0, 0x464C457F ^ 0xFF)], "not an ELF file (bad magic)")
    c.patched(elf, f"{base}.elf-class-32", [(lambda d, o, v: d.__setitem__(o, v), 4, 1)], "ELF class 1 is not ELFCLASS64")
    c.patched(elf, f"{base}.bad-encoding", [(lambda d, o, v: d.__setitem__(o, v), 5, 7)], "ELF data encoding 7")
    c.patched(elf, f"{base}.executable", [(put16, 16, 2)], "ELF type 2 is not ET_REL")
    c.patched(elf, f"{base}.machine-x86", [(put16, 18, 62)], "ELF machine 62 is not EM_BPF (247)")
    c.patched(elf, f"{base}.section-table-offset-huge", [(put64, 0x28, 1 << 62)], "section header table:")
    c.patched(elf, f"{base}.section-count-huge", [(put16, 0x3C, 0xFF00)], "section header table:")


def section_headers(c, base, elf):
    size = len(elf.data)
    code = next(s for s in elf.sections if elf.is_code(s) and s["name"] != ".text")
    btf, ext, symtab = elf.section(".BTF"), elf.section(".BTF.ext"), elf.symtab
    c.patched(elf, f"{base}.section-name-offset-bad", [(put32, code["hdr"], 0xFFFFFF00)],
              f"section {code['index']}: name offset 4294967040 is outside the section name table")
    for s in (code, btf, symtab):
        tag = s["name"].strip(".").replace(".", "-")
        c.patched(elf, f"{base}.{tag}-offset-huge", [(put64, s["hdr"] + 24, 1 << 40)],
                  outside_file(s, 1 << 40, s["size"], size))
        c.patched(elf, f"{base}.{tag}-size-huge", [(put64, s["hdr"] + 32, (1 << 64) - 1)],
                  outside_file(s, s["offset"], (1 << 64) - 1, size))
    c.patched(elf, f"{base}.code-size-not-whole-insns", [(put64, code["hdr"] + 32, code["size"] - 4)],
              f"{section_at(code)}: size {code['size'] - 4} is not a multiple of 8")
    # .BTF.ext moved onto the code: the later-starting of the two is reported.
    c.patched(elf, f"{base}.btf-ext-overlaps-code", [(put64, ext["hdr"] + 24, code["offset"] + 8)],
              f"{section_at(ext)}: contents at offset {code['offset'] + 8} size {ext['size']} overlap {section_at(code)}")
    c.patched(elf, f"{base}.code-overlaps-elf-header", [(put64, code["hdr"] + 24, 8)],
              f"{section_at(code)}: contents at offset 8 size {code['size']} overlap the ELF header")
    c.patched(elf, f"{base}.symtab-entry-size", [(put64, symtab["hdr"] + 56, 20)],
              f"{section_at(symtab)}: entry size 20 is not 24")
    c.patched(elf, f"{base}.symtab-size-partial-entry", [(put64, symtab["hdr"] + 32, symtab["size"] - 4)],
              f"{section_at(symtab)}: size {symtab['size'] - 4} is not a multiple of the entry size 24")
    c.patched(elf, f"{base}.symtab-link-not-strtab", [(put32, symtab["hdr"] + 40, code["index"])],
              f"{section_at(symtab)}: linked string table {code['index']} is not an SHT_STRTAB section")
    c.patched(elf, f"{base}.no-symtab", [(put32, symtab["hdr"] + 4, SHT_PROGBITS)], "no symbol table (SHT_SYMTAB)")
    c.patched(elf, f"{base}.btf-nobits", [(put32, btf["hdr"] + 4, SHT_NOBITS)],
              f"{section_at(btf)}: section type 8 is not SHT_PROGBITS")
    bss = elf.section(".bss")
    c.patched(elf, f"{base}.bss-size-huge", [(put64, bss["hdr"] + 32, 1 << 40)],
              f"map '.bss': section size {1 << 40} exceeds 536870912 bytes")
    c.patched(elf, f"{base}.bss-size-just-too-big", [(put64, bss["hdr"] + 32, (1 << 29) + 1)],
              f"map '.bss': section size {(1 << 29) + 1} exceeds 536870912 bytes")
    rel, _ = elf.rels(code)
    c.patched(elf, f"{base}.rel-target-missing", [(put32, rel["hdr"] + 44, 999)],
              f"{section_at(rel)}: target section 999 does not exist")
    c.patched(elf, f"{base}.rel-link-not-symtab", [(put32, rel["hdr"] + 40, code["index"])],
              f"{section_at(rel)}: linked symbol table {code['index']} is not the symbol table {symtab['index']}")


def symbol_entries(c, base, elf):
    code = next(s for s in elf.sections if elf.is_code(s) and s["name"] != ".text")
    prog = next(s for s in elf.symbols if s["shndx"] == code["index"] and s["info"] & 0xF == 2)
    data = next(s for s in elf.symbols if s["info"] & 0xF == 1 and s["size"] > 0)
    where = f"symbol {prog['index']} ({prog['name']})"
    c.patched(elf, f"{base}.symbol-section-out-of-range", [(put16, prog["at"] + 6, 900)],
              f"{where}: section index 900 does not exist ({elf.shnum} sections)")
    c.patched(elf, f"{base}.symbol-name-offset-bad", [(put32, prog["at"], 0xFFFFFF)],
              f"symbol {prog['index']}: name offset 16777215 is outside the string table (section {elf.symtab['link']})")
    c.patched(elf, f"{base}.symbol-value-huge", [(put64, prog["at"] + 8, (1 << 64) - 8)],
              f"{where}: function at offset {(1 << 64) - 8} size {prog['size']} crosses the end of section {code['index']}")
    c.patched(elf, f"{base}.symbol-size-huge", [(put64, data["at"] + 16, 1 << 50)],
              f"symbol {data['index']} ({data['name']}): function at offset {data['value']} size {1 << 50} crosses the end")
    c.patched(elf, f"{base}.function-not-whole-insns", [(put64, prog["at"] + 16, prog["size"] - 4)],
              f"{where}: function offset {prog['value']} / size {prog['size'] - 4} is not a whole number of instructions")


def relocation_entries(c, base, elf):
    code = next(s for s in elf.sections if elf.is_code(s) and s["name"] != ".text")
    rel, entries = elf.rels(code)
    loads = [e for e in entries if elf.insn(code, e[1]) == 0x18]
    calls = [e for e in entries if elf.insn(code, e[1]) == 0x85]
    at, r_offset, sym = loads[0]
    index = entries.index(loads[0])
    where = f"relocation section {rel['index']} entry {index}"
    info_low = u64(elf.data, at + 8) & 0xFFFFFFFF
    c.patched(elf, f"{base}.rel-symbol-out-of-range", [(put64, at + 8, (5000 << 32) | info_low)],
              f"{where}: symbol index 5000 does not exist ({len(elf.symbols)} symbols)")
    c.patched(elf, f"{base}.rel-offset-out-of-range", [(put64, at, 1 << 20)],
              f"{where}: offset 1048576 is outside target section {code['index']} ({code['size']} bytes)")
    c.patched(elf, f"{base}.rel-offset-misaligned", [(put64, at, r_offset + 3)],
              f"{where}: offset {r_offset + 3} in code section {code['index']} is not instruction-aligned")
    license = elf.symbol("LICENSE")
    c.patched(elf, f"{base}.rel-ld-imm64-of-license", [(put64, at + 8, (license["index"] << 32) | info_low)],
              f"{where} at offset {r_offset}: ld_imm64 of 'LICENSE' in section license which is neither a map, data nor code section")
    plain = next(o for o in range(0, code["size"], 8)
                 if elf.insn(code, o) not in (0x18, 0x85) and (o < 8 or elf.insn(code, o - 8) != 0x18))
    c.patched(elf, f"{base}.rel-on-plain-insn", [(put64, at, plain)],
              f"{where} at offset {plain}: instruction opcode {elf.insn(code, plain):#04x} is neither ld_imm64 nor call")
    if calls:
        at, r_offset, _ = calls[0]
        data = next(s for s in elf.symbols if s["info"] & 0xF == 1 and elf.sections[s["shndx"]]["name"].startswith(".data"))
        c.patched(elf, f"{base}.rel-call-of-data", [(put64, at + 8, (data["index"] << 32) | (u64(elf.data, at + 8) & 0xFFFFFFFF))],
                  f"relocation section {rel['index']} entry {entries.index(calls[0])} at offset {r_offset}: "
                  f"call target '{data['name']}' is in non-code section {elf.sections[data['shndx']]['name']}")


def map_slots(c, base, elf):
    maps = elf.section(".maps")
    rel, entries = elf.rels(maps)
    prog = next(s for s in elf.symbols if s["info"] & 0xF == 2 and s["info"] >> 4 == 1)
    for i, (at, r_offset, sym) in enumerate(entries):
        if elf.symbols[sym]["shndx"] == maps["index"]:
            r_type = u64(elf.data, at + 8) & 0xFFFFFFFF
            c.patched(elf, f"{base}.map-slot-of-a-program", [(put64, at + 8, (prog["index"] << 32) | r_type)],
                      f"relocation section {rel['index']} entry {i} at offset {r_offset}: "
                      f"map-in-map slot refers to '{prog['name']}', which is not a map in .maps")
            break


# ------------------------------------------------------------------------------- BTF level

def btf_records(c, base, elf):
    sec = elf.section(".BTF")
    b = Btf(elf.data, sec["offset"])

    def btf_case(name, patches, *expect):
        c.patched(elf, f"{base}.btf-{name}", patches, *expect)

    btf_case("bad-magic", [(put16, b.base, 0x1234)], "BTF: bad BTF magic 0x1234")
    btf_case("header-len-short", [(put32, b.base + 4, 8)], "BTF: BTF hdr_len 8 is invalid")
    btf_case("type-len-huge", [(put32, b.base + 12, 0x7FFFFFF0)],
             f"BTF: BTF type section at {u32(elf.data, b.base + 8)} (+{0x7FFFFFF0} bytes) lies outside")
    btf_case("strings-not-nul-terminated", [(lambda d, o, v: d.__setitem__(o, v), b.str_start + b.str_len - 1, ord("x"))],
             f"BTF string section ({b.str_len} bytes) does not end with a NUL byte")
    st = next(i for i, t in enumerate(b.types) if t and t[1] == 4 and t[2] > 0)
    at, _, _ = b.types[st]
    btf_case("unknown-kind", [(put32, at + 4, (31 << 24) | (u32(elf.data, at + 4) & 0xFFFF))],
             f"BTF type {st} at byte {at - b.type_start} of the type section has unknown kind 31")
    btf_case("vlen-huge", [(put32, at + 4, (4 << 24) | 0xFFFF)],
             f"BTF type {st} at byte {at - b.type_start} of the type section is truncated")
    btf_case("name-offset-bad", [(put32, at, 0xFFFFFF00)],
             f"BTF type {st} (STRUCT) name", f"string offset 4294967040 is beyond the string section ({b.str_len} bytes)")
    ptr = b.first(2)
    at, _, _ = b.types[ptr]
    btf_case("id-out-of-range", [(put32, at + 8, 9999)],
             f"BTF type {ptr} (PTR) refers to type 9999, but only ids below {len(b.types)} exist")
    btf_case("pointer-to-itself", [(put32, at + 8, ptr)],
             f"BTF reference cycle through type {ptr} (PTR)", "loops back to it")
    at, _, vlen = b.types[st]
    btf_case("struct-contains-itself", [(put32, at + 12 + 4, st)],
             f"BTF reference cycle through type {st} (STRUCT)", "contains itself by value")
    func = b.first(12)
    at, _, _ = b.types[func]
    integer = b.first(1)
    btf_case("func-of-an-int", [(put32, at + 8, integer)],
             f"BTF type {func} (FUNC) refers to type {integer} (INT), expected FUNC_PROTO")


def ext_records(c, base, elf):
    sec = elf.section(".BTF.ext")
    b = Btf(elf.data, elf.section(".BTF")["offset"])
    e = sec["offset"]
    hdr_len = u32(elf.data, e + 4)
    subsections = {"func_info": (8, 12), "line_info": (16, 20), "core_relo": (24, 28)}

    def first_block(name):
        off_field, len_field = subsections[name]
        if off_field >= hdr_len or u32(elf.data, e + len_field) == 0:
            return None
        start = e + hdr_len + u32(elf.data, e + off_field)
        rec_size = u32(elf.data, start)
        block = start + 4
        sec_name = b.string(u32(elf.data, block))
        return dict(rec_size=rec_size, block=block, sec_name=sec_name, count=u32(elf.data, block + 4),
                    record=block + 8, section=elf.section(sec_name))

    def ext_case(name, patches, *expect):
        c.patched(elf, f"{base}.ext-{name}", patches, *expect)

    ext_case("bad-magic", [(put16, e, 0x1234)], "BTF.ext: bad .BTF.ext magic 0x1234")
    fi = first_block("func_info")
    where = f".BTF.ext func_info for section '{fi['sec_name']}'"
    ext_case("func-info-outside-section", [(put32, fi["record"], 0x10000)],
             f"{where} record 0: instruction offset 65536 is outside the section ({fi['section']['size']} bytes)")
    ext_case("func-info-for-missing-section", [(put32, fi["block"], b.string_off("license"))],
             ".BTF.ext func_info for section 'license': the object has no code section of that name")
    ext_case("func-info-type-id-out-of-range", [(put32, fi["record"] + 4, 9999)],
             f"{where} record 0: type id 9999 does not exist (ids below {len(b.types)})")
    ext_case("func-info-count-huge", [(put32, fi["block"] + 4, 0x10000000)],
             f"{where} at byte", "records of 8 bytes exceed the")
    li = first_block("line_info")
    off = u32(elf.data, li["record"])
    ext_case("line-info-misaligned", [(put32, li["record"], off + 4)],
             f".BTF.ext line_info for section '{li['sec_name']}' record 0: instruction offset {off + 4} is not a multiple of 8")
    cr = first_block("core_relo")
    if cr:
        ext_case("core-relo-outside-section", [(put32, cr["record"], cr["section"]["size"] + 8)],
                 f".BTF.ext core_relo for section '{cr['sec_name']}' record 0: instruction offset "
                 f"{cr['section']['size'] + 8} is outside the section ({cr['section']['size']} bytes)")
        ext_case("core-relo-access-string-bad", [(put32, cr["record"] + 8, 0xFFFFFF00)],
                 f"core_relo for section '{cr['sec_name']}'", "string offset 4294967040 is beyond the string section")


def main():
    objdir, out = sys.argv[1], sys.argv[2]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    corpus = Corpus(out)
    with tempfile.TemporaryDirectory() as tmp:
        for base in BASES:
            stripped = os.path.join(tmp, base + ".o")
            subprocess.run(["llvm-objcopy-19", "--strip-debug", os.path.join(objdir, base + ".bpf.o"), stripped], check=True)
            with open(stripped, "rb") as f:
                elf = Elf(f.read())
            if base == "xdp_global_data":
                truncations(corpus, base, elf)
                header_fields(corpus, base, elf)
                section_headers(corpus, base, elf)
                symbol_entries(corpus, base, elf)
                relocation_entries(corpus, base, elf)
            if base == "map_in_map":
                map_slots(corpus, base, elf)
            if base in ("btf_kinds", "xdp_global_data"):
                btf_records(corpus, base, elf)
            if base in ("xdp_global_data", "core_relos"):
                ext_records(corpus, base, elf)
    with open(os.path.join(out, "EXPECTED"), "w") as f:
        f.write("# NAME\tERRNO\tSUBSTRING... (generated by scripts/gen-malformed-corpus.py)\n")
        f.write("\n".join(corpus.rows) + "\n")
    print(f"{len(corpus.rows)} malformed objects in {out}")


if __name__ == "__main__":
    main()
