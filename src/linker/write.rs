//! Pass 5: writes the relocatable ELF. A small writer of our own (rather than
//! `object::write`) because the output must be byte-for-byte deterministic and its section
//! and symbol order fully under our control (the relink fixpoint depends on it).
//!
//! Layout: ELF header; section contents in section-index order, each at its alignment;
//! section headers. Section order: null, the merged sections (first-appearance order), one
//! `.rel<name>` per section with relocations, `.BTF`, `.BTF.ext`, `.symtab`, `.strtab`
//! (which also holds the section names, as clang's output does).
use std::collections::HashMap;
use std::io::Write;

use object::elf;

use crate::btf::Btf;
use crate::object::Endian;

use super::layout::OutSection;
use super::symtab::Symtab;
use super::LinkError;

const EHDR_SIZE: u64 = 64;
const SHDR_SIZE: u64 = 64;
const SYM_SIZE: u64 = 24;
const REL_SIZE: u64 = 16;

struct W {
    buf: Vec<u8>,
    big: bool,
}

impl W {
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&if self.big { v.to_be_bytes() } else { v.to_le_bytes() });
    }
}

/// String table with deduplicated entries.
#[derive(Default)]
struct StrTab {
    bytes: Vec<u8>,
    index: HashMap<String, u32>,
}

impl StrTab {
    fn new() -> StrTab {
        StrTab { bytes: vec![0], index: HashMap::new() }
    }
    fn add(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&off) = self.index.get(s) {
            return off;
        }
        let off = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        self.index.insert(s.to_string(), off);
        off
    }
}

struct Shdr<'a> {
    name: u32,
    sh_type: u32,
    flags: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
    /// File contents (empty for NOBITS).
    data: Contents<'a>,
}

/// A section's file contents.
enum Contents<'a> {
    Bytes(Vec<u8>),
    /// Encoded straight into the file being written (the BTF can be megabytes).
    Btf(&'a Btf),
}

impl Contents<'_> {
    fn len(&self) -> usize {
        match self {
            Contents::Bytes(b) => b.len(),
            Contents::Btf(btf) => btf.encoded_size(),
        }
    }

    fn write_into(&self, sink: &mut impl Write) -> std::io::Result<()> {
        match self {
            Contents::Bytes(b) => sink.write_all(b),
            Contents::Btf(btf) => btf.write_into(sink),
        }
    }
}

/// The output file, ready to be written: section headers and contents.
pub struct Output<'a> {
    shdrs: Vec<Shdr<'a>>,
    big: bool,
    shstrndx: u16,
}

/// Everything the output file holds (`btf` is encoded as the file is written).
pub fn prepare<'a>(
    endian: Endian,
    sections: &[OutSection],
    symtab: &Symtab,
    btf: Option<&'a Btf>,
    btf_ext: Option<Vec<u8>>,
) -> Result<Output<'a>, LinkError> {
    let big = endian == Endian::Big;
    let mut strtab = StrTab::new();
    let mut shdrs: Vec<Shdr> =
        vec![Shdr { name: 0, sh_type: 0, flags: 0, size: 0, link: 0, info: 0, align: 0, entsize: 0, data: Contents::Bytes(Vec::new()) }];
    for s in sections {
        shdrs.push(Shdr {
            name: strtab.add(&s.name),
            sh_type: s.sh_type,
            flags: s.flags,
            size: s.size,
            link: 0,
            info: 0,
            align: s.align,
            entsize: s.entsize,
            data: Contents::Bytes(s.data.clone()),
        });
    }
    // Indices of the sections that follow: relocation sections, BTF, then symtab and strtab.
    let rel_count = symtab.relocs.iter().filter(|r| !r.is_empty()).count();
    let btf_count = usize::from(btf.is_some()) + usize::from(btf_ext.is_some());
    let symtab_index = shdrs.len() + rel_count + btf_count;
    let strtab_index = symtab_index + 1;
    if strtab_index >= usize::from(elf::SHN_LORESERVE) {
        return Err(LinkError::TooLarge { what: format!("{} sections (the limit is {})", strtab_index + 1, elf::SHN_LORESERVE) });
    }
    for (n, relocs) in symtab.relocs.iter().enumerate().filter(|(_, r)| !r.is_empty()) {
        let mut w = W { buf: Vec::with_capacity(relocs.len() * REL_SIZE as usize), big };
        for r in relocs {
            w.u64(r.offset);
            w.u64((u64::from(r.symbol) << 32) | u64::from(r.r_type));
        }
        shdrs.push(Shdr {
            name: strtab.add(&format!(".rel{}", sections[n].name)),
            sh_type: elf::SHT_REL,
            flags: u64::from(elf::SHF_INFO_LINK),
            size: w.buf.len() as u64,
            link: symtab_index as u32,
            info: (n + 1) as u32,
            align: 8,
            entsize: REL_SIZE,
            data: Contents::Bytes(w.buf),
        });
    }
    let btf_sections = [(".BTF", btf.map(Contents::Btf)), (".BTF.ext", btf_ext.map(Contents::Bytes))];
    for (name, data) in btf_sections {
        if let Some(data) = data {
            shdrs.push(Shdr { name: strtab.add(name), sh_type: elf::SHT_PROGBITS, flags: 0, size: data.len() as u64, link: 0, info: 0, align: 4, entsize: 0, data });
        }
    }
    let mut w = W { buf: Vec::with_capacity(symtab.symbols.len() * SYM_SIZE as usize), big };
    for sym in &symtab.symbols {
        w.u32(strtab.add(&sym.name));
        w.u8((sym.bind << 4) | (sym.kind & 0xf));
        w.u8(sym.vis & 0x3);
        w.u16(sym.section.map_or(0, |s| (s + 1) as u16));
        w.u64(sym.value);
        w.u64(sym.size);
    }
    let symtab_name = strtab.add(".symtab");
    let strtab_name = strtab.add(".strtab");
    shdrs.push(Shdr {
        name: symtab_name,
        sh_type: elf::SHT_SYMTAB,
        flags: 0,
        size: w.buf.len() as u64,
        link: strtab_index as u32,
        info: symtab.first_global,
        align: 8,
        entsize: SYM_SIZE,
        data: Contents::Bytes(w.buf),
    });
    let strtab_bytes = strtab.bytes;
    shdrs.push(Shdr {
        name: strtab_name,
        sh_type: elf::SHT_STRTAB,
        flags: 0,
        size: strtab_bytes.len() as u64,
        link: 0,
        info: 0,
        align: 1,
        entsize: 0,
        data: Contents::Bytes(strtab_bytes),
    });
    Ok(Output { shdrs, big, shstrndx: strtab_index as u16 })
}

impl Output<'_> {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (offsets, size) = self.layout();
        let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let written = self.emit(&mut buf, &offsets);
        debug_assert!(written.is_ok(), "writing to memory cannot fail");
        buf
    }

    /// Writes the file to `sink` as it is produced (the output is never held whole).
    pub fn write_into(&self, sink: &mut impl Write) -> std::io::Result<()> {
        let (offsets, _) = self.layout();
        self.emit(sink, &offsets)
    }

    /// Each section's offset in the file, and the file's size. Contents follow the ELF
    /// header in section order, each at its alignment; the section headers come last.
    fn layout(&self) -> (Vec<u64>, u64) {
        let mut offsets = Vec::with_capacity(self.shdrs.len());
        let mut at = EHDR_SIZE;
        for sh in &self.shdrs {
            at = at.next_multiple_of(sh.align.max(1));
            offsets.push(at);
            if sh.sh_type != elf::SHT_NOBITS {
                at += sh.data.len() as u64;
            }
        }
        let shoff = at.next_multiple_of(8);
        offsets.push(shoff);
        (offsets, shoff + SHDR_SIZE * self.shdrs.len() as u64)
    }

    /// `offsets` as `layout` gives them (the last one is where the section headers go).
    fn emit(&self, sink: &mut impl Write, offsets: &[u64]) -> std::io::Result<()> {
        let shoff = offsets.last().copied().unwrap_or(EHDR_SIZE);
        sink.write_all(&self.elf_header(shoff))?;
        let mut at = EHDR_SIZE;
        for (sh, &off) in self.shdrs.iter().zip(offsets) {
            pad(sink, off - at)?;
            at = off;
            if sh.sh_type != elf::SHT_NOBITS {
                sh.data.write_into(sink)?;
                at += sh.data.len() as u64;
            }
        }
        pad(sink, shoff - at)?;
        let mut w = W { buf: Vec::with_capacity(self.shdrs.len() * SHDR_SIZE as usize), big: self.big };
        for (sh, &off) in self.shdrs.iter().zip(offsets) {
            w.u32(sh.name);
            w.u32(sh.sh_type);
            w.u64(sh.flags);
            w.u64(0);
            w.u64(if sh.sh_type == elf::SHT_NULL { 0 } else { off });
            w.u64(sh.size);
            w.u32(sh.link);
            w.u32(sh.info);
            w.u64(sh.align);
            w.u64(sh.entsize);
        }
        sink.write_all(&w.buf)
    }

    fn elf_header(&self, shoff: u64) -> Vec<u8> {
        let big = self.big;
        let mut h = W { buf: Vec::with_capacity(EHDR_SIZE as usize), big };
        h.buf.extend_from_slice(&elf::ELFMAG);
        h.u8(elf::ELFCLASS64);
        h.u8(if big { elf::ELFDATA2MSB } else { elf::ELFDATA2LSB });
        h.u8(elf::EV_CURRENT);
        h.buf.resize(16, 0);
        h.u16(elf::ET_REL);
        h.u16(elf::EM_BPF);
        h.u32(u32::from(elf::EV_CURRENT));
        h.u64(0); // e_entry
        h.u64(0); // e_phoff
        h.u64(shoff);
        h.u32(0); // e_flags
        h.u16(EHDR_SIZE as u16);
        h.u16(0); // e_phentsize
        h.u16(0); // e_phnum
        h.u16(SHDR_SIZE as u16);
        h.u16(self.shdrs.len() as u16);
        h.u16(self.shstrndx);
        h.buf
    }
}

/// Writes `n` zero bytes (alignment padding).
fn pad(sink: &mut impl Write, n: u64) -> std::io::Result<()> {
    const ZEROS: [u8; 64] = [0; 64];
    let mut left = n;
    while left > 0 {
        let step = left.min(ZEROS.len() as u64);
        sink.write_all(&ZEROS[..step as usize])?;
        left -= step;
    }
    Ok(())
}
