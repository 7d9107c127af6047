//! ELF layer: headers, sections, symbols and raw relocations, read with the `object` crate and
//! checked before use (every size and index is validated against the file before anything is
//! sliced or allocated).
use object::elf::{self as e, FileHeader64, Rel64, SectionHeader64, Sym64};
use object::read::elf::{FileHeader, Rel as _, SectionHeader as _, Sym as _};
use object::read::StringTable;
use object::Endianness;

use super::insn::{self, INSN_SIZE};
use super::{Binding, Endian, ObjectError, Section, SectionKind, Symbol, SymbolKind, Visibility};

const EM_BPF: u16 = 247;
/// Offsets of the class and data-encoding bytes in `e_ident`.
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;
const SYM_SIZE: u64 = 24;
const REL_SIZE: u64 = 16;

/// One entry of a `.rel*` section, validated (symbol index and offset in range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawRel {
    pub index: u32,
    pub offset: u64,
    pub symbol: u32,
    pub r_type: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RelSection {
    pub index: u32,
    pub target: u32,
    pub entries: Vec<RawRel>,
}

pub(crate) struct RawElf {
    pub endian: Endian,
    pub sections: Vec<Section>,
    pub symbols: Vec<Symbol>,
    pub rel_sections: Vec<RelSection>,
}

pub(crate) fn parse(data: &[u8]) -> Result<RawElf, ObjectError> {
    check_ident(data)?;
    let header = FileHeader64::<Endianness>::parse(data)
        .map_err(|err| ObjectError::BadHeader { what: static_msg(err) })?;
    let endian = header.endian().map_err(|err| ObjectError::BadHeader { what: static_msg(err) })?;
    check_type_and_machine(header, endian)?;
    let table = header
        .sections(endian, data)
        .map_err(|err| ObjectError::BadSectionTable { what: static_msg(err) })?;
    let headers: &[SectionHeader64<Endianness>] = table.iter().as_slice();
    let our_endian = if endian == Endianness::Little { Endian::Little } else { Endian::Big };

    let mut sections = Vec::with_capacity(headers.len());
    for (index, sh) in headers.iter().enumerate() {
        let name_off = sh.sh_name(endian);
        let name = table
            .section_name(endian, sh)
            .map_err(|_| ObjectError::BadSectionName { index: index as u32, offset: name_off })?;
        sections.push(read_section(data, endian, our_endian, index as u32, name, sh)?);
    }
    check_no_overlap(header, endian, headers, &sections)?;
    let symtab = find_symtab(&sections)?;
    let symbols = read_symbols(data, endian, headers, &sections, symtab)?;
    let rel_sections = read_relocations(data, endian, headers, &sections, symtab, symbols.len())?;
    Ok(RawElf { endian: our_endian, sections, symbols, rel_sections })
}

/// `object::read::Error` only carries a static message; keep it.
fn static_msg(err: object::read::Error) -> String {
    err.to_string()
}

/// Checks the identification bytes ourselves so that wrong class/encoding get a precise error
/// (the `object` crate reports them all as "unsupported ELF header").
pub(crate) fn check_ident(data: &[u8]) -> Result<(), ObjectError> {
    if data.len() < 64 {
        if data.len() >= 4 && data[..4] != e::ELFMAG {
            return Err(ObjectError::BadMagic);
        }
        return Err(ObjectError::TooShort { size: data.len() });
    }
    if data[..4] != e::ELFMAG {
        return Err(ObjectError::BadMagic);
    }
    if data[EI_CLASS] != e::ELFCLASS64 {
        return Err(ObjectError::WrongClass { class: data[EI_CLASS] });
    }
    let encoding = data[EI_DATA];
    if encoding != e::ELFDATA2LSB && encoding != e::ELFDATA2MSB {
        return Err(ObjectError::BadEncoding { encoding });
    }
    Ok(())
}

fn check_type_and_machine(
    header: &FileHeader64<Endianness>,
    endian: Endianness,
) -> Result<(), ObjectError> {
    let e_type = header.e_type(endian);
    if e_type != e::ET_REL {
        return Err(ObjectError::WrongType { e_type });
    }
    let machine = header.e_machine(endian);
    if machine != EM_BPF {
        return Err(ObjectError::WrongMachine { machine });
    }
    Ok(())
}

fn classify(index: u32, name: &str, sh_type: u32, flags: u64) -> SectionKind {
    let is = |base: &str| name == base || name.strip_prefix(base).is_some_and(|r| r.starts_with('.'));
    match (index, name, sh_type) {
        (0, ..) => SectionKind::Null,
        (_, "license", _) => SectionKind::License,
        (_, "version", _) => SectionKind::Version,
        (_, ".maps", _) => SectionKind::Maps,
        (_, ".BTF", _) => SectionKind::Btf,
        (_, ".BTF.ext", _) => SectionKind::BtfExt,
        (_, _, e::SHT_SYMTAB) => SectionKind::Symtab,
        (_, _, e::SHT_STRTAB) => SectionKind::Strtab,
        (_, _, e::SHT_REL) => SectionKind::Rel,
        (_, ".text", e::SHT_PROGBITS) if flags & u64::from(e::SHF_EXECINSTR) != 0 => SectionKind::Text,
        (_, _, e::SHT_PROGBITS) if flags & u64::from(e::SHF_EXECINSTR) != 0 => SectionKind::Program,
        (_, _, e::SHT_PROGBITS) if is(".data") => SectionKind::Data,
        (_, _, e::SHT_PROGBITS) if is(".rodata") => SectionKind::Rodata,
        (_, _, e::SHT_NOBITS) if is(".bss") => SectionKind::Bss,
        _ => SectionKind::Other,
    }
}

/// Contents worth keeping for the loader and linker (DWARF and relocation tables are not: the
/// relocations are decoded into [`Section::relocations`]).
fn keeps_data(kind: SectionKind, name: &str) -> bool {
    match kind {
        SectionKind::Null | SectionKind::Rel | SectionKind::Symtab | SectionKind::Strtab => false,
        SectionKind::Other => !name.starts_with(".debug"),
        _ => true,
    }
}

fn read_section(
    data: &[u8],
    endian: Endianness,
    our_endian: Endian,
    index: u32,
    name: &[u8],
    sh: &SectionHeader64<Endianness>,
) -> Result<Section, ObjectError> {
    let name = String::from_utf8_lossy(name).into_owned();
    let bytes = section_bytes(data, endian, index, &name, sh)?;
    let mut section = section_header(endian, index, name, sh)?;
    if matches!(section.kind, SectionKind::Btf | SectionKind::BtfExt) && section.sh_type != e::SHT_PROGBITS {
        let what = format!("section type {} is not SHT_PROGBITS", section.sh_type);
        return Err(ObjectError::BadSection { index, name: section.name, what });
    }
    if matches!(section.kind, SectionKind::Program | SectionKind::Text) {
        section.insns = insn::decode_all(bytes, our_endian);
    }
    if keeps_data(section.kind, &section.name) {
        section.data = bytes.to_vec();
    }
    Ok(section)
}

/// A section as the object model describes it from its header alone (`data`, `insns` and
/// `relocations` empty), after checking that an instruction section holds whole instructions.
/// The linker's lean reader builds its sections with it too, so both classify alike.
pub(crate) fn section_header(
    endian: Endianness,
    index: u32,
    name: String,
    sh: &SectionHeader64<Endianness>,
) -> Result<Section, ObjectError> {
    let (sh_type, flags, size) = (sh.sh_type(endian), sh.sh_flags(endian), sh.sh_size(endian));
    let kind = classify(index, &name, sh_type, flags);
    if matches!(kind, SectionKind::Program | SectionKind::Text) && size % INSN_SIZE as u64 != 0 {
        return Err(ObjectError::InsnSectionSize { index, name, size });
    }
    Ok(Section {
        index,
        kind,
        sh_type,
        size,
        align: sh.sh_addralign(endian),
        flags,
        link: sh.sh_link(endian),
        info: sh.sh_info(endian),
        entsize: sh.sh_entsize(endian),
        relocations: Vec::new(),
        data: Vec::new(),
        insns: Vec::new(),
        name,
    })
}

/// The section's bytes in the file (empty for SHT_NOBITS), after checking that they lie inside
/// the file.
fn section_bytes<'a>(
    data: &'a [u8],
    endian: Endianness,
    index: u32,
    name: &str,
    sh: &SectionHeader64<Endianness>,
) -> Result<&'a [u8], ObjectError> {
    if sh.sh_type(endian) == e::SHT_NOBITS || sh.sh_type(endian) == e::SHT_NULL {
        return Ok(&[]);
    }
    let offset = sh.sh_offset(endian);
    let size = sh.sh_size(endian);
    let out_of_file = || ObjectError::SectionOutOfFile {
        index,
        name: name.to_string(),
        offset,
        size,
        file_size: data.len(),
    };
    let end = offset.checked_add(size).ok_or_else(out_of_file)?;
    let (start, end) = (usize::try_from(offset).map_err(|_| out_of_file())?, usize::try_from(end).map_err(|_| out_of_file())?);
    data.get(start..end).ok_or_else(out_of_file)
}

/// A part of the file: the ELF header, the section header table or a section's contents.
struct Region {
    start: u64,
    end: u64,
    /// The section's index, `None` for the headers.
    section: Option<u32>,
}

impl Region {
    fn describe(&self, sections: &[Section]) -> String {
        match self.section.and_then(|i| sections.get(i as usize)) {
            Some(s) => format!("section {} ({})", s.index, s.name),
            None if self.start == 0 => "the ELF header".to_string(),
            None => "the section header table".to_string(),
        }
    }
}

/// Section contents must not overlap each other or the headers: otherwise one table would be
/// read as another (libbpf does not check; clang and bpflink's linker never do it). Sections
/// without file bytes (`SHT_NOBITS`, empty) take no room. Contents lie inside the file (checked
/// when each section was read), so the ends don't overflow.
fn check_no_overlap(
    header: &FileHeader64<Endianness>,
    endian: Endianness,
    headers: &[SectionHeader64<Endianness>],
    sections: &[Section],
) -> Result<(), ObjectError> {
    let table_start = header.e_shoff(endian);
    let table_len = headers.len() as u64 * u64::from(header.e_shentsize(endian));
    let mut regions = vec![
        Region { start: 0, end: std::mem::size_of::<FileHeader64<Endianness>>() as u64, section: None },
        Region { start: table_start, end: table_start.saturating_add(table_len), section: None },
    ];
    for (sh, section) in headers.iter().zip(sections) {
        let takes_room = !matches!(sh.sh_type(endian), e::SHT_NOBITS | e::SHT_NULL) && section.size > 0;
        if takes_room {
            let start = sh.sh_offset(endian);
            regions.push(Region { start, end: start.saturating_add(section.size), section: Some(section.index) });
        }
    }
    regions.sort_by_key(|r| (r.start, r.end));
    let mut furthest: Option<&Region> = None;
    for region in &regions {
        if let Some(previous) = furthest.filter(|p| region.start < p.end) {
            if region.section.is_none() && previous.section.is_none() {
                return Err(ObjectError::BadSectionTable { what: "the section header table overlaps the ELF header".into() });
            }
            let (at, other) = if region.section.is_some() { (region, previous) } else { (previous, region) };
            let section = at.section.and_then(|i| sections.get(i as usize));
            return Err(ObjectError::SectionOverlap {
                index: section.map_or(0, |s| s.index),
                name: section.map_or_else(String::new, |s| s.name.clone()),
                offset: at.start,
                size: at.end - at.start,
                other: other.describe(sections),
            });
        }
        if furthest.map_or(true, |p| region.end > p.end) {
            furthest = Some(region);
        }
    }
    Ok(())
}

fn find_symtab(sections: &[Section]) -> Result<u32, ObjectError> {
    let mut tables = sections.iter().filter(|s| s.sh_type == e::SHT_SYMTAB);
    let first = tables.next().ok_or(ObjectError::NoSymbolTable)?;
    if let Some(second) = tables.next() {
        return Err(ObjectError::MultipleSymbolTables { first: first.index, second: second.index });
    }
    Ok(first.index)
}

pub(crate) fn bad_section(section: &Section, what: String) -> ObjectError {
    ObjectError::BadSection { index: section.index, name: section.name.clone(), what }
}

/// Checks a table section's entry size and that its size is a whole number of entries.
pub(crate) fn check_table(section: &Section, entsize: u64) -> Result<(), ObjectError> {
    if section.entsize != entsize {
        return Err(bad_section(section, format!("entry size {} is not {entsize}", section.entsize)));
    }
    if section.size % entsize != 0 {
        return Err(bad_section(
            section,
            format!("size {} is not a multiple of the entry size {entsize}", section.size),
        ));
    }
    Ok(())
}

fn read_symbols(
    data: &[u8],
    endian: Endianness,
    headers: &[SectionHeader64<Endianness>],
    sections: &[Section],
    symtab: u32,
) -> Result<Vec<Symbol>, ObjectError> {
    let section = &sections[symtab as usize];
    check_table(section, SYM_SIZE)?;
    let sh = &headers[symtab as usize];
    let syms: &[Sym64<Endianness>] = sh
        .data_as_array(endian, data)
        .map_err(|err| bad_section(section, static_msg(err)))?;
    let strtab = section.link;
    let strings = string_table(data, endian, headers, sections, section, strtab)?;
    let mut symbols = Vec::with_capacity(syms.len());
    for (index, sym) in syms.iter().enumerate() {
        symbols.push(read_symbol(endian, &strings, strtab, sections, index as u32, sym)?);
    }
    Ok(symbols)
}

fn string_table<'a>(
    data: &'a [u8],
    endian: Endianness,
    headers: &[SectionHeader64<Endianness>],
    sections: &[Section],
    symtab: &Section,
    strtab: u32,
) -> Result<StringTable<'a>, ObjectError> {
    let section = sections.get(strtab as usize).filter(|s| s.sh_type == e::SHT_STRTAB).ok_or_else(|| {
        bad_section(symtab, format!("linked string table {strtab} is not an SHT_STRTAB section"))
    })?;
    // The bounds were checked when the section was read.
    let bytes = section_bytes(data, endian, section.index, &section.name, &headers[strtab as usize])?;
    Ok(StringTable::new(bytes, 0, bytes.len() as u64))
}

fn read_symbol(
    endian: Endianness,
    strings: &StringTable<'_>,
    strtab: u32,
    sections: &[Section],
    index: u32,
    sym: &Sym64<Endianness>,
) -> Result<Symbol, ObjectError> {
    let name_off = sym.st_name(endian);
    let name = strings
        .get(name_off)
        .map_err(|_| ObjectError::BadSymbolName { index, offset: name_off, strtab })?;
    let symbol = decode_symbol(endian, index, name, sym);
    check_symbol_section(&symbol, sections)?;
    Ok(symbol)
}

/// The symbol table entry as the object model describes it (not checked against the sections).
pub(crate) fn decode_symbol(endian: Endianness, index: u32, name: &[u8], sym: &Sym64<Endianness>) -> Symbol {
    let name = String::from_utf8_lossy(name).into_owned();
    let shndx = u32::from(sym.st_shndx(endian));
    let value = sym.st_value(endian);
    let size = sym.st_size(endian);
    let kind = match sym.st_type() {
        e::STT_NOTYPE => SymbolKind::Notype,
        e::STT_OBJECT => SymbolKind::Object,
        e::STT_FUNC => SymbolKind::Func,
        e::STT_SECTION => SymbolKind::Section,
        e::STT_FILE => SymbolKind::File,
        other => SymbolKind::Other(other),
    };
    let binding = match sym.st_bind() {
        e::STB_LOCAL => Binding::Local,
        e::STB_GLOBAL => Binding::Global,
        e::STB_WEAK => Binding::Weak,
        other => Binding::Other(other),
    };
    let visibility = match sym.st_visibility() {
        e::STV_INTERNAL => Visibility::Internal,
        e::STV_HIDDEN => Visibility::Hidden,
        e::STV_PROTECTED => Visibility::Protected,
        _ => Visibility::Default,
    };
    Symbol { index, name, shndx, value, size, kind, binding, visibility }
}

/// A defined symbol must point into an existing section, and functions and objects must lie
/// inside it (libbpf slices programs out of sections by these values).
pub(crate) fn check_symbol_section(symbol: &Symbol, sections: &[Section]) -> Result<(), ObjectError> {
    if symbol.shndx == u32::from(e::SHN_UNDEF) || symbol.shndx >= u32::from(e::SHN_LORESERVE) {
        return Ok(());
    }
    let section = sections.get(symbol.shndx as usize).ok_or_else(|| {
        ObjectError::SymbolSectionOutOfRange {
            index: symbol.index,
            name: symbol.name.clone(),
            section: symbol.shndx,
            count: sections.len() as u32,
        }
    })?;
    if !matches!(symbol.kind, SymbolKind::Func | SymbolKind::Object) {
        return Ok(());
    }
    let fits = symbol.value.checked_add(symbol.size).is_some_and(|end| end <= section.size);
    if !fits {
        return Err(ObjectError::SymbolOutOfSection {
            index: symbol.index,
            name: symbol.name.clone(),
            value: symbol.value,
            size: symbol.size,
            section: section.index,
            section_size: section.size,
        });
    }
    if symbol.kind == SymbolKind::Func
        && matches!(section.kind, SectionKind::Program | SectionKind::Text)
        && (symbol.value % INSN_SIZE as u64 != 0 || symbol.size % INSN_SIZE as u64 != 0)
    {
        return Err(ObjectError::BadSymbol {
            index: symbol.index,
            name: symbol.name.clone(),
            what: format!(
                "function offset {} / size {} is not a whole number of instructions",
                symbol.value, symbol.size
            ),
        });
    }
    Ok(())
}

fn read_relocations(
    data: &[u8],
    endian: Endianness,
    headers: &[SectionHeader64<Endianness>],
    sections: &[Section],
    symtab: u32,
    symbol_count: usize,
) -> Result<Vec<RelSection>, ObjectError> {
    let mut out = Vec::new();
    for section in sections.iter().filter(|s| s.sh_type == e::SHT_REL) {
        check_table(section, REL_SIZE)?;
        if section.link != symtab {
            return Err(bad_section(
                section,
                format!("linked symbol table {} is not the symbol table {symtab}", section.link),
            ));
        }
        let target = sections.get(section.info as usize).filter(|_| section.info != 0).ok_or_else(|| {
            bad_section(section, format!("target section {} does not exist", section.info))
        })?;
        let rels: &[Rel64<Endianness>] = headers[section.index as usize]
            .data_as_array(endian, data)
            .map_err(|err| bad_section(section, static_msg(err)))?;
        let mut entries = Vec::with_capacity(rels.len());
        for (index, rel) in rels.iter().enumerate() {
            entries.push(check_rel(endian, section.index, index as u32, rel, target, symbol_count)?);
        }
        out.push(RelSection { index: section.index, target: target.index, entries });
    }
    Ok(out)
}

fn check_rel(
    endian: Endianness,
    rel_section: u32,
    index: u32,
    rel: &Rel64<Endianness>,
    target: &Section,
    symbol_count: usize,
) -> Result<RawRel, ObjectError> {
    let symbol = rel.r_sym(endian);
    let offset = rel.r_offset(endian);
    if symbol as usize >= symbol_count {
        return Err(ObjectError::RelocSymbolOutOfRange {
            rel_section,
            index,
            symbol,
            count: symbol_count as u32,
        });
    }
    if offset >= target.size {
        return Err(ObjectError::RelocOffsetOutOfRange {
            rel_section,
            index,
            offset,
            target: target.index,
            size: target.size,
        });
    }
    Ok(RawRel { index, offset, symbol, r_type: rel.r_type(endian) })
}
