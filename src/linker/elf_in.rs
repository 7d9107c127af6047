//! The linker's own reading of an input ELF file: section headers, symbols and the relocation
//! tables of linked sections, with section contents borrowed from the file.
//!
//! Why not `ObjectSpec`: the loader's model decodes and copies everything (programs, maps,
//! every relocation including DWARF's); linking many objects needs only this much, and
//! reading it costs a small fraction. Every size and index is checked against the file before
//! use; errors are the object model's (`ObjectError`), so messages match the rest of bpflink.
use object::elf::{self as e, FileHeader64, Rel64, SectionHeader64, Sym64};
use object::read::elf::{FileHeader, Rel as _, SectionHeader as _, Sym as _};
use object::Endianness;

use crate::object::{Endian, ObjectError, Section, SectionKind, Symbol};
use crate::object::elf::{bad_section as bad, check_ident, check_symbol_section, check_table, decode_symbol, section_header};

const SYM_SIZE: u64 = 24;
const REL_SIZE: u64 = 16;

/// One relocation entry, checked: the symbol exists and the offset lies in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InRel {
    pub offset: u64,
    pub symbol: u32,
    pub r_type: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelTable {
    /// Index of the section the relocations apply to.
    pub target: u32,
    pub entries: Vec<InRel>,
}

pub struct ElfIn<'a> {
    pub endian: Endian,
    /// Section headers; `Section::data` and `insns` stay empty (see `contents`).
    pub sections: Vec<Section>,
    /// Contents of each section (empty for NOBITS), borrowed from the file.
    pub contents: Vec<&'a [u8]>,
    pub symbols: Vec<Symbol>,
    /// Relocation tables of sections for which `wanted(section)` held.
    pub rels: Vec<RelTable>,
}

/// Reads the object in `data`. Only the contents of the sections the link reads (see
/// [`ranges_read`]) are exposed: the others come out empty.
pub fn read<'a>(data: &'a [u8], wanted: impl Fn(&Section) -> bool) -> Result<ElfIn<'a>, ObjectError> {
    let (endian, headers, sections, mut contents) = section_headers(data)?;
    for (bytes, needed) in contents.iter_mut().zip(sections_read(&sections, &wanted)) {
        if !needed {
            *bytes = &[];
        }
    }
    let symtab = symbol_table(&sections)?;
    let symbols = read_symbols(data, endian, headers, &sections, &contents, symtab)?;
    let mut rels = Vec::new();
    for rel in sections.iter().filter(|s| s.sh_type == e::SHT_REL) {
        let target = sections
            .get(rel.info as usize)
            .filter(|_| rel.info != 0)
            .ok_or_else(|| bad(rel, format!("target section {} does not exist", rel.info)))?;
        if wanted(target) {
            rels.push(read_rels(data, endian, &headers[rel.index as usize], rel, target, symtab, symbols.len())?);
        }
    }
    let endian = if endian == Endianness::Little { Endian::Little } else { Endian::Big };
    Ok(ElfIn { endian, sections, contents, symbols, rels })
}

/// The byte order, the raw section headers, the sections described by them and their
/// contents (each checked to lie in the file).
#[allow(clippy::type_complexity)]
fn section_headers(data: &[u8]) -> Result<(Endianness, &[SectionHeader64<Endianness>], Vec<Section>, Vec<&[u8]>), ObjectError> {
    check_ident(data)?;
    let header = FileHeader64::<Endianness>::parse(data).map_err(|err| ObjectError::BadHeader { what: err.to_string() })?;
    let endian = header.endian().map_err(|err| ObjectError::BadHeader { what: err.to_string() })?;
    if header.e_type(endian) != e::ET_REL {
        return Err(ObjectError::WrongType { e_type: header.e_type(endian) });
    }
    if header.e_machine(endian) != e::EM_BPF {
        return Err(ObjectError::WrongMachine { machine: header.e_machine(endian) });
    }
    let table = header.sections(endian, data).map_err(|err| ObjectError::BadSectionTable { what: err.to_string() })?;
    let headers: &[SectionHeader64<Endianness>] = table.iter().as_slice();
    let mut sections = Vec::with_capacity(headers.len());
    let mut contents = Vec::with_capacity(headers.len());
    for (index, sh) in headers.iter().enumerate() {
        let index = index as u32;
        let name = table
            .section_name(endian, sh)
            .map_err(|_| ObjectError::BadSectionName { index, offset: sh.sh_name(endian) })?;
        let section = section_header(endian, index, String::from_utf8_lossy(name).into_owned(), sh)?;
        contents.push(bytes_of(data, endian, &section, sh)?);
        sections.push(section);
    }
    Ok((endian, headers, sections, contents))
}

/// The index of the one symbol table.
fn symbol_table(sections: &[Section]) -> Result<u32, ObjectError> {
    let mut symtabs = sections.iter().filter(|s| s.sh_type == e::SHT_SYMTAB);
    let symtab = symtabs.next().ok_or(ObjectError::NoSymbolTable)?.index;
    if let Some(second) = symtabs.next() {
        return Err(ObjectError::MultipleSymbolTables { first: symtab, second: second.index });
    }
    Ok(symtab)
}

/// Which sections `read` reads the contents of: the `wanted` ones, the symbol table and its
/// strings, the BTF sections and the relocation tables of wanted sections.
fn sections_read(sections: &[Section], wanted: &impl Fn(&Section) -> bool) -> Vec<bool> {
    let symtab = sections.iter().find(|s| s.sh_type == e::SHT_SYMTAB);
    let symbol_strings = symtab.map(|s| s.link);
    sections
        .iter()
        .map(|s| {
            let relocates_wanted = s.sh_type == e::SHT_REL && sections.get(s.info as usize).is_some_and(wanted);
            wanted(s)
                || relocates_wanted
                || s.sh_type == e::SHT_SYMTAB
                || Some(s.index) == symbol_strings
                || matches!(s.kind, SectionKind::Btf | SectionKind::BtfExt)
        })
        .collect()
}

/// Where, in a file, `read` finds what it reads next: the ELF header first, then (once `data`
/// holds it) the section header table, then the section names, then the sections it reads
/// (see [`sections_read`]). `data` is the file as far as read so far, at the file's length;
/// None once nothing more is needed or the headers are broken (`read` then reports why).
// `vec![start..end]` means one byte range to read, not the numbers in it.
#[allow(clippy::single_range_in_vec_init)]
pub(crate) fn ranges_read(data: &[u8], stage: ReadStage, wanted: impl Fn(&Section) -> bool) -> Option<Vec<std::ops::Range<u64>>> {
    const HEADER: u64 = std::mem::size_of::<FileHeader64<Endianness>>() as u64;
    if stage == ReadStage::Header {
        return Some(vec![0..HEADER]);
    }
    let header = FileHeader64::<Endianness>::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let shoff = header.e_shoff(endian);
    let shnum = u64::from(header.e_shnum(endian));
    match stage {
        ReadStage::Header => None,
        ReadStage::SectionTable => Some(vec![shoff..shoff.checked_add(shnum.checked_mul(u64::from(header.e_shentsize(endian)))?)?]),
        ReadStage::SectionNames => {
            let headers = header.section_headers(endian, data).ok()?;
            let names = headers.get(usize::from(header.e_shstrndx(endian)))?;
            let (off, size) = (names.sh_offset(endian), names.sh_size(endian));
            Some(vec![off..off.checked_add(size)?])
        }
        ReadStage::Contents => {
            let (_, headers, sections, _) = section_headers(data).ok()?;
            let needed = sections_read(&sections, &wanted);
            let ranges = headers.iter().zip(&sections).zip(needed).filter(|(_, needed)| *needed);
            ranges
                .filter(|((_, s), _)| s.sh_type != e::SHT_NOBITS)
                .map(|((sh, _), _)| {
                    let off = sh.sh_offset(endian);
                    Some(off..off.checked_add(sh.sh_size(endian))?)
                })
                .collect()
        }
    }
}

/// What [`ranges_read`] is asked for, in the order a reader needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadStage {
    Header,
    SectionTable,
    SectionNames,
    Contents,
}

impl ReadStage {
    pub(crate) const ALL: [ReadStage; 4] = [ReadStage::Header, ReadStage::SectionTable, ReadStage::SectionNames, ReadStage::Contents];
}

fn bytes_of<'a>(data: &'a [u8], endian: Endianness, s: &Section, sh: &SectionHeader64<Endianness>) -> Result<&'a [u8], ObjectError> {
    if s.sh_type == e::SHT_NOBITS || s.sh_type == e::SHT_NULL {
        return Ok(&[]);
    }
    let offset = sh.sh_offset(endian);
    let out_of_file =
        || ObjectError::SectionOutOfFile { index: s.index, name: s.name.clone(), offset, size: s.size, file_size: data.len() };
    let start = usize::try_from(offset).map_err(|_| out_of_file())?;
    let end = start.checked_add(usize::try_from(s.size).map_err(|_| out_of_file())?).ok_or_else(out_of_file)?;
    data.get(start..end).ok_or_else(out_of_file)
}

fn read_symbols(
    data: &[u8],
    endian: Endianness,
    headers: &[SectionHeader64<Endianness>],
    sections: &[Section],
    contents: &[&[u8]],
    symtab: u32,
) -> Result<Vec<Symbol>, ObjectError> {
    let table = &sections[symtab as usize];
    check_table(table, SYM_SIZE)?;
    let syms: &[Sym64<Endianness>] = headers[symtab as usize].data_as_array(endian, data).map_err(|err| bad(table, err.to_string()))?;
    let strtab = table.link;
    let strings = sections
        .get(strtab as usize)
        .filter(|s| s.sh_type == e::SHT_STRTAB)
        .and_then(|s| contents.get(s.index as usize))
        .ok_or_else(|| bad(table, format!("linked string table {strtab} is not an SHT_STRTAB section")))?;
    let mut out = Vec::with_capacity(syms.len());
    for (index, sym) in syms.iter().enumerate() {
        let index = index as u32;
        let name_off = sym.st_name(endian);
        let name = strings
            .get(name_off as usize..)
            .and_then(|rest| rest.iter().position(|&b| b == 0).map(|end| &rest[..end]))
            .ok_or(ObjectError::BadSymbolName { index, offset: name_off, strtab })?;
        let symbol = decode_symbol(endian, index, name, sym);
        check_symbol_section(&symbol, sections)?;
        out.push(symbol);
    }
    Ok(out)
}

fn read_rels(
    data: &[u8],
    endian: Endianness,
    sh: &SectionHeader64<Endianness>,
    rel: &Section,
    target: &Section,
    symtab: u32,
    symbol_count: usize,
) -> Result<RelTable, ObjectError> {
    check_table(rel, REL_SIZE)?;
    if rel.link != symtab {
        return Err(bad(rel, format!("linked symbol table {} is not the symbol table {symtab}", rel.link)));
    }
    let raw: &[Rel64<Endianness>] = sh.data_as_array(endian, data).map_err(|err| bad(rel, err.to_string()))?;
    let mut entries = Vec::with_capacity(raw.len());
    for (index, r) in raw.iter().enumerate() {
        let index = index as u32;
        let (symbol, offset) = (r.r_sym(endian), r.r_offset(endian));
        if symbol as usize >= symbol_count {
            return Err(ObjectError::RelocSymbolOutOfRange { rel_section: rel.index, index, symbol, count: symbol_count as u32 });
        }
        if offset >= target.size {
            return Err(ObjectError::RelocOffsetOutOfRange { rel_section: rel.index, index, offset, target: target.index, size: target.size });
        }
        entries.push(InRel { offset, symbol, r_type: r.r_type(endian) });
    }
    Ok(RelTable { target: target.index, entries })
}
