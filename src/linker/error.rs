//! Errors of the static linker. Every variant names the input file(s), the section or symbol
//! and what is wrong, so the user can see which two objects disagree and why.
use crate::btf::BtfError;
use crate::object::ObjectError;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{file}: {source}")]
    Object { file: String, source: ObjectError },
    #[error("{file}: {what}: {source}")]
    Btf { file: String, what: String, source: BtfError },
    #[error("no input objects to link")]
    NoInputs,
    #[error("{file}: byte order differs from {first_file} (all inputs must share one byte order)")]
    ByteOrderMismatch { file: String, first_file: String },
    #[error("{file}: global symbol '{symbol}' needs BTF, but the object has no .BTF section (compile with -g)")]
    MissingBtf { file: String, symbol: String },
    #[error("{file}: global symbol '{symbol}' has no BTF FUNC or VAR describing it")]
    MissingSymbolBtf { file: String, symbol: String },
    #[error("{file}: symbol '{symbol}' has visibility {visibility}; only default and hidden are supported")]
    UnsupportedVisibility { file: String, symbol: String, visibility: String },
    #[error("{file}: symbol '{symbol}' has binding {binding}; only local, global and weak are supported")]
    UnsupportedBinding { file: String, symbol: String, binding: u8 },
    #[error("{file}: symbol '{symbol}': {what}")]
    UnsupportedSymbol { file: String, symbol: String, what: String },
    #[error("symbol '{symbol}' is defined (strong) in both {first_file} and {second_file}")]
    DuplicateDefinition { symbol: String, first_file: String, second_file: String },
    #[error("symbol '{symbol}' is a {first_kind} in {first_file} but a {second_kind} in {second_file}")]
    KindMismatch {
        symbol: String,
        first_file: String,
        first_kind: &'static str,
        second_file: String,
        second_kind: &'static str,
    },
    #[error("symbol '{symbol}': type in {first_file} does not match type in {second_file}: {reason}")]
    TypeMismatch { symbol: String, first_file: String, second_file: String, reason: String },
    #[error("map '{symbol}': definition in {first_file} does not match {second_file}: {reason}")]
    MapMismatch { symbol: String, first_file: String, second_file: String, reason: String },
    #[error("{file}: map '{symbol}': cannot read its BTF definition: {reason}")]
    BadMapDefinition { file: String, symbol: String, reason: String },
    #[error("section '{section}' of {file} differs from {first_file}: {first:?} vs {second:?} (must be identical)")]
    SpecialSectionMismatch { section: String, first_file: String, file: String, first: String, second: String },
    #[error("section '{section}' of {file} is incompatible with the same-named section of {first_file}: {reason}")]
    SectionMismatch { section: String, first_file: String, file: String, reason: String },
    #[error("{file}: section '{section}': alignment {align} is not a power of two of at most {}", crate::linker::layout::MAX_SECTION_ALIGN)]
    BadAlignment { file: String, section: String, align: u64 },
    #[error("{file}: relocation #{index} in section '{section}' at offset {offset} has unknown type {r_type}")]
    UnknownRelocation { file: String, section: String, index: usize, offset: u64, r_type: u32 },
    #[error("{file}: relocation #{index} in section '{section}' at offset {offset}: {what}")]
    BadRelocation { file: String, section: String, index: usize, offset: u64, what: String },
    #[error("{file}: .BTF.ext {subsection} names section '{section}' which the object does not have")]
    ExtSectionMissing { file: String, subsection: &'static str, section: String },
    #[error("output too large: {what}")]
    TooLarge { what: String },
    #[error("linked BTF is invalid: {0}")]
    OutputBtf(BtfError),
}

impl LinkError {
    /// The errno the C API reports for this error.
    pub fn errno(&self) -> i32 {
        match self {
            LinkError::Io { source, .. } => crate::object::input::io_errno(source),
            LinkError::Object { source, .. } => source.errno(),
            LinkError::TooLarge { .. } => libc::E2BIG,
            LinkError::MissingBtf { .. } | LinkError::MissingSymbolBtf { .. } => libc::EINVAL,
            _ => libc::EINVAL,
        }
    }
}
