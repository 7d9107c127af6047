//! The BPF ELF object model: a relocatable BPF object parsed into plain, deterministic data.
//!
//! API contract (other modules rely on it; keep signatures stable):
//! - `ObjectSpec::from_bytes(&[u8], name: &str) -> Result<ObjectSpec, ObjectError>`
//! - `ObjectSpec::from_file(&Path) -> Result<ObjectSpec, ObjectError>`
//!
//! Parsing never applies relocations and never talks to the kernel: it records everything a
//! loader or linker needs (instructions, classified relocations, map definitions, externs).
//! Every collection is ordered (ELF order unless said otherwise), so equal bytes give an equal
//! spec.
use std::path::Path;

pub(crate) mod elf;
mod error;
pub mod input;
pub mod insn;
mod maps;
pub mod sec_def;
mod symbols;
mod tables;

pub use error::ObjectError;
pub use insn::Insn;
pub use sec_def::{AttachType, MapType, ProgType, SecDef};

use serde::Serialize;

/// A parsed BPF object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectSpec {
    /// Object name (file name without `.o` / `.bpf.o`), used for internal map names.
    pub name: String,
    pub endian: Endian,
    /// Every ELF section in index order (index 0, the null section, included).
    pub sections: Vec<Section>,
    /// Every ELF symbol in symbol-table order (index 0, the null symbol, included).
    pub symbols: Vec<Symbol>,
    /// Entry-point programs, ordered like libbpf (section index, then offset).
    pub programs: Vec<Program>,
    /// Functions that are not entry points: `.text` functions and static functions in program
    /// sections, ordered by section index then offset.
    pub subprograms: Vec<Subprogram>,
    /// Maps in libbpf's order: BTF-defined `.maps`, then global data sections, then `.kconfig`.
    pub maps: Vec<MapSpec>,
    /// Global data sections with the variables BTF places in them.
    pub data_sections: Vec<DataSection>,
    pub license: Option<String>,
    pub kernel_version: Option<u32>,
    /// Undefined symbols the object expects someone else to provide.
    pub externs: Vec<Extern>,
    /// Weak global functions with a body: defaults a linker may override.
    pub weak_placeholders: Vec<String>,
    /// Strong global functions with a body (BTF linkage global): what this object exports.
    pub exports: Vec<String>,
    pub btf: Option<BtfSummary>,
    pub btf_ext: Option<BtfExtSummary>,
    /// The raw `.BTF` / `.BTF.ext` bytes (for the loader and the linker).
    #[serde(skip)]
    pub btf_data: Option<Vec<u8>>,
    #[serde(skip)]
    pub btf_ext_data: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endian {
    Little,
    Big,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Null,
    /// Executable section other than `.text`: holds entry-point programs.
    Program,
    /// `.text`: subprograms only.
    Text,
    /// `.maps`: BTF-defined maps.
    Maps,
    Data,
    Rodata,
    Bss,
    License,
    Version,
    Btf,
    BtfExt,
    Symtab,
    Strtab,
    Rel,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub index: u32,
    pub name: String,
    pub kind: SectionKind,
    /// `sh_type` (SHT_PROGBITS = 1, SHT_NOBITS = 8, ...).
    pub sh_type: u32,
    pub size: u64,
    pub align: u64,
    pub flags: u64,
    pub link: u32,
    pub info: u32,
    pub entsize: u64,
    /// Relocations applying to this section (from its `.rel*` section), in ELF order.
    pub relocations: Vec<Relocation>,
    /// Section contents (empty for SHT_NOBITS and sections not needed downstream).
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Instructions of an executable section, decoded into native byte order.
    #[serde(skip)]
    pub insns: Vec<Insn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    Notype,
    Object,
    Func,
    Section,
    File,
    Other(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    Local,
    Global,
    Weak,
    Other(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Default,
    Internal,
    Hidden,
    Protected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symbol {
    pub index: u32,
    pub name: String,
    /// Raw `st_shndx` (0 = undefined, 0xfff1 = absolute, 0xfff2 = common).
    pub shndx: u32,
    pub value: u64,
    pub size: u64,
    pub kind: SymbolKind,
    pub binding: Binding,
    pub visibility: Visibility,
}

impl Symbol {
    pub fn is_undefined(&self) -> bool {
        self.shndx == 0 && self.index != 0
    }
}

/// ELF relocation types of the BPF backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RelocType {
    #[serde(rename = "R_BPF_NONE")]
    None,
    #[serde(rename = "R_BPF_64_64")]
    R64_64,
    #[serde(rename = "R_BPF_64_ABS64")]
    Abs64,
    #[serde(rename = "R_BPF_64_ABS32")]
    Abs32,
    #[serde(rename = "R_BPF_64_NODYLD32")]
    NoDyld32,
    #[serde(rename = "R_BPF_64_32")]
    R64_32,
    #[serde(rename = "unknown")]
    Unknown(u32),
}

impl RelocType {
    pub fn from_raw(raw: u32) -> RelocType {
        match raw {
            0 => RelocType::None,
            1 => RelocType::R64_64,
            2 => RelocType::Abs64,
            3 => RelocType::Abs32,
            4 => RelocType::NoDyld32,
            10 => RelocType::R64_32,
            other => RelocType::Unknown(other),
        }
    }
    /// The name llvm-readelf prints.
    pub fn as_str(self) -> &'static str {
        match self {
            RelocType::None => "R_BPF_NONE",
            RelocType::R64_64 => "R_BPF_64_64",
            RelocType::Abs64 => "R_BPF_64_ABS64",
            RelocType::Abs32 => "R_BPF_64_ABS32",
            RelocType::NoDyld32 => "R_BPF_64_NODYLD32",
            RelocType::R64_32 => "R_BPF_64_32",
            RelocType::Unknown(_) => "unknown",
        }
    }
}

/// What a relocation means to the loader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RelocClass {
    /// `ld_imm64` of a BTF-defined map (becomes BPF_PSEUDO_MAP_FD).
    MapRef { map: String },
    /// `ld_imm64` of a global variable or data section (becomes BPF_PSEUDO_MAP_VALUE).
    GlobalData { section: String },
    /// `call` of a function in an executable section (BPF_PSEUDO_CALL).
    SubprogCall { section: String },
    /// `ld_imm64` with src_reg BPF_PSEUDO_FUNC: address of a callback.
    FuncPointer { section: String },
    /// Reference to an undefined symbol (call or ld_imm64).
    ExternRef { name: String, call: bool },
    /// A relocation in a non-code section (map slots, debug info, BTF.ext, ...).
    Data,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relocation {
    /// Byte offset within the target section.
    pub offset: u64,
    pub symbol: u32,
    pub symbol_name: String,
    pub r_type: RelocType,
    pub class: RelocClass,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    pub name: String,
    /// Section name with a leading `?` removed (as libbpf reports it).
    pub section_name: String,
    pub section_index: u32,
    /// Byte offset of the first instruction within the section.
    pub offset: u64,
    pub insn_cnt: u64,
    pub prog_type: ProgType,
    pub expected_attach_type: AttachType,
    /// The part of the section name after the matched prefix, e.g. "foo" for "freplace/foo".
    pub attach_target: Option<String>,
    /// The section-definition pattern that matched ("freplace+"), None for unknown sections.
    pub sec_def: Option<String>,
    pub sleepable: bool,
    /// false for `SEC("?...")`.
    pub autoload: bool,
    pub binding: Binding,
    pub visibility: Visibility,
}

impl Program {
    /// A function seen as a program of no type yet (libbpf's view of a lone `.text`
    /// function; the dynamic linker's extension programs).
    pub fn from_function(sub: &Subprogram) -> Program {
        Program {
            name: sub.name.clone(),
            section_name: sub.section_name.clone(),
            section_index: sub.section_index,
            offset: sub.offset,
            insn_cnt: sub.insn_cnt,
            prog_type: Default::default(),
            expected_attach_type: Default::default(),
            attach_target: None,
            sec_def: None,
            sleepable: false,
            autoload: true,
            binding: sub.binding,
            visibility: sub.visibility,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subprogram {
    pub name: String,
    pub section_name: String,
    pub section_index: u32,
    pub offset: u64,
    pub insn_cnt: u64,
    pub binding: Binding,
    pub visibility: Visibility,
    /// BTF FUNC linkage ("static"/"global"), None without BTF.
    pub linkage: Option<String>,
    pub btf_id: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MapOrigin {
    /// A BTF-defined map in `.maps`.
    Btf,
    /// A global data section (`.data*`, `.rodata*`, `.bss*`).
    Data,
    /// The `.kconfig` map libbpf synthesises for `__kconfig` externs.
    Kconfig,
    /// The inner map definition of a map-in-map.
    Inner,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapSlot {
    pub index: u32,
    /// The map (map-in-map) or program (prog array) placed in this slot.
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapSpec {
    /// The name libbpf gives the map (internal names are prefixed and truncated to 15 chars).
    pub name: String,
    /// The ELF-level name: variable name for `.maps`, section name for data maps.
    pub real_name: String,
    pub origin: MapOrigin,
    /// Section holding the definition (the symbol table for `.kconfig`, like libbpf).
    pub section_index: u32,
    pub section_offset: u64,
    pub map_type: MapType,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub numa_node: u32,
    pub map_extra: u64,
    pub pinning: u32,
    pub key_type_id: Option<u32>,
    pub value_type_id: Option<u32>,
    pub inner: Option<Box<MapSpec>>,
    pub initial_slots: Vec<MapSlot>,
    /// `.rodata*` and `.kconfig`: frozen after load, read-only for programs.
    pub readonly: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variable {
    pub name: String,
    pub offset: u32,
    pub size: u32,
    pub linkage: String,
    pub btf_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataSection {
    pub section_index: u32,
    pub name: String,
    pub kind: SectionKind,
    pub size: u64,
    /// Name of the map backing this section.
    pub map_name: String,
    pub variables: Vec<Variable>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternKind {
    /// A function defined in another object (BTF FUNC, extern linkage).
    Function,
    /// A kernel function (`__ksym` FUNC in `.ksyms`).
    Kfunc,
    /// A variable defined in another object.
    Variable,
    /// A kernel symbol (`__ksym` VAR in `.ksyms`).
    Ksym,
    /// A Kconfig value (`__kconfig` VAR in `.kconfig`).
    Kconfig,
    /// A map declared `extern` in `.maps`.
    Map,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extern {
    pub name: String,
    pub kind: ExternKind,
    pub weak: bool,
    pub symbol: u32,
    /// The BTF FUNC/VAR describing it (None without BTF).
    pub btf_id: Option<u32>,
    /// The type the FUNC/VAR refers to (FUNC_PROTO or the variable's type).
    pub btf_type_id: Option<u32>,
    /// Name of the DATASEC listing it (".ksyms", ".kconfig", ".maps", ...), if any.
    pub btf_section: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BtfSummary {
    pub size: u64,
    /// Number of types excluding `void`.
    pub type_count: u32,
    pub func_count: u32,
    pub var_count: u32,
    pub datasec_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BtfExtSummary {
    pub size: u64,
    pub func_info_count: u64,
    pub line_info_count: u64,
    pub core_relo_count: u64,
}

impl ObjectSpec {
    pub fn from_bytes(data: &[u8], name: &str) -> Result<ObjectSpec, ObjectError> {
        symbols::build_spec(data, name)
    }

    pub fn from_file(path: &Path) -> Result<ObjectSpec, ObjectError> {
        let data = input::read_input_file(path)
            .map_err(|source| ObjectError::Io { path: path.display().to_string(), source })?;
        ObjectSpec::from_bytes(&data, &object_name_for_path(path))
    }

    pub fn section(&self, index: u32) -> Option<&Section> {
        self.sections.get(index as usize)
    }

    pub fn section_by_name(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }

    pub fn map(&self, name: &str) -> Option<&MapSpec> {
        self.maps.iter().find(|m| m.name == name)
    }
}

/// libbpf's object name for a path: the base name cut to 15 bytes (its `char name[16]`), then
/// cut at the first `.`; so "xdp_global_data.bpf.o" is "xdp_global_data".
pub fn object_name_for_path(path: &Path) -> String {
    let base = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let bytes = base.as_bytes();
    let bytes = &bytes[..bytes.len().min(15)];
    let bytes = match bytes.iter().position(|&b| b == b'.') {
        Some(dot) => &bytes[..dot],
        None => bytes,
    };
    String::from_utf8_lossy(bytes).into_owned()
}
