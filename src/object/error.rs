//! Errors of the object parser. Every variant says where (section / symbol / relocation index,
//! byte offset) and what is wrong, so a user can find the bad byte with `llvm-readelf`.

use crate::btf::BtfError;

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },

    #[error("file is {size} bytes, too short for an ELF header (64 bytes)")]
    TooShort { size: usize },
    #[error("not an ELF file (bad magic)")]
    BadMagic,
    #[error("ELF class {class} is not ELFCLASS64 (BPF objects are 64-bit)")]
    WrongClass { class: u8 },
    #[error("ELF data encoding {encoding} is neither little- nor big-endian")]
    BadEncoding { encoding: u8 },
    #[error("ELF type {e_type} is not ET_REL (a relocatable .o file is expected)")]
    WrongType { e_type: u16 },
    #[error("ELF machine {machine} is not EM_BPF (247)")]
    WrongMachine { machine: u16 },
    #[error("ELF header: {what}")]
    BadHeader { what: String },

    #[error("section header table: {what}")]
    BadSectionTable { what: String },
    #[error("section {index}: name offset {offset} is outside the section name table")]
    BadSectionName { index: u32, offset: u32 },
    #[error("section {index} ({name}): contents at offset {offset} size {size} lie outside the {file_size}-byte file")]
    SectionOutOfFile { index: u32, name: String, offset: u64, size: u64, file_size: usize },
    #[error("section {index} ({name}): contents at offset {offset} size {size} overlap {other}")]
    SectionOverlap { index: u32, name: String, offset: u64, size: u64, other: String },
    #[error("section {index} ({name}): {what}")]
    BadSection { index: u32, name: String, what: String },
    #[error("section {index} ({name}): size {size} is not a multiple of 8 (BPF instructions are 8 bytes)")]
    InsnSectionSize { index: u32, name: String, size: u64 },
    #[error("no symbol table (SHT_SYMTAB) in the object")]
    NoSymbolTable,
    #[error("more than one symbol table (sections {first} and {second})")]
    MultipleSymbolTables { first: u32, second: u32 },

    #[error("symbol {index}: name offset {offset} is outside the string table (section {strtab})")]
    BadSymbolName { index: u32, offset: u32, strtab: u32 },
    #[error("symbol {index} ({name}): section index {section} does not exist ({count} sections)")]
    SymbolSectionOutOfRange { index: u32, name: String, section: u32, count: u32 },
    #[error("symbol {index} ({name}): function at offset {value} size {size} crosses the end of section {section} ({section_size} bytes)")]
    SymbolOutOfSection { index: u32, name: String, value: u64, size: u64, section: u32, section_size: u64 },
    #[error("symbol {index} ({name}): {what}")]
    BadSymbol { index: u32, name: String, what: String },

    #[error("relocation section {rel_section} entry {index}: symbol index {symbol} does not exist ({count} symbols)")]
    RelocSymbolOutOfRange { rel_section: u32, index: u32, symbol: u32, count: u32 },
    #[error("relocation section {rel_section} entry {index}: offset {offset} is outside target section {target} ({size} bytes)")]
    RelocOffsetOutOfRange { rel_section: u32, index: u32, offset: u64, target: u32, size: u64 },
    #[error("relocation section {rel_section} entry {index}: offset {offset} in code section {target} is not instruction-aligned")]
    RelocMisaligned { rel_section: u32, index: u32, offset: u64, target: u32 },
    #[error("relocation section {rel_section} entry {index} at offset {offset}: {what}")]
    BadReloc { rel_section: u32, index: u32, offset: u64, what: String },

    #[error("section {section} ({name}) instruction {insn}: ld_imm64 is missing its second half")]
    TruncatedLdImm64 { section: u32, name: String, insn: usize },

    #[error("BTF: {0}")]
    Btf(#[from] BtfError),
    #[error("BTF.ext: {0}")]
    BtfExt(BtfError),
    #[error(".BTF.ext {subsection} for section '{sec_name}'{record}: {what}")]
    BtfExtRecord { subsection: &'static str, sec_name: String, record: String, what: String },
    #[error("the object has a .BTF.ext section but no .BTF section")]
    BtfExtWithoutBtf,
    #[error("map '{map}': {what}")]
    BadMap { map: String, what: String },
    #[error("extern '{name}': {what}")]
    BadExtern { name: String, what: String },
    #[error("section {index} (license): {what}")]
    BadLicense { index: u32, what: &'static str },
    #[error("section {index} (version): size {size} is not 4")]
    BadVersion { index: u32, size: u64 },
}

impl ObjectError {
    /// The errno the C ABI reports for this error (libbpf reports -EINVAL for malformed objects,
    /// which is also what the kernel would say; I/O errors keep their own errno).
    pub fn errno(&self) -> i32 {
        match self {
            ObjectError::Io { source, .. } => super::input::io_errno(source),
            ObjectError::NoSymbolTable => libc::ENOENT,
            _ => libc::EINVAL,
        }
    }
}
