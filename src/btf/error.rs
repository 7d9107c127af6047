//! Errors of the BTF and `.BTF.ext` parsers, validator and lookups. Every variant says where the
//! problem is (type id, byte offset, sub-section, record index) and what is wrong.
use super::types::{Kind, TypeId};

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum BtfError {
    #[error("BTF type id {0} does not exist")]
    NoSuchType(TypeId),

    // ---- .BTF header and layout ----
    #[error("BTF header truncated: {len} bytes, need at least {need}")]
    TruncatedHeader { len: usize, need: usize },
    #[error("bad BTF magic {0:#06x} (expected 0xeb9f in either byte order)")]
    BadMagic(u16),
    #[error("unsupported BTF version {0} (only version 1 exists)")]
    UnsupportedVersion(u8),
    #[error("unsupported BTF header flags {0:#x}")]
    UnsupportedFlags(u8),
    #[error("BTF hdr_len {hdr_len} is invalid: {reason}")]
    BadHeaderLen { hdr_len: u32, reason: &'static str },
    #[error("BTF header byte {offset} (past the known fields) is {value:#04x}, must be zero")]
    HeaderTailNotZero { offset: usize, value: u8 },
    #[error("BTF {section} section at {off} (+{len} bytes) lies outside the {available} bytes after the header")]
    SectionOutOfBounds {
        section: &'static str,
        off: u32,
        len: u32,
        available: usize,
    },
    #[error("BTF type section (at {type_off}, {type_len} bytes) must end before the string section at {str_off}")]
    BadSectionLayout {
        type_off: u32,
        type_len: u32,
        str_off: u32,
    },
    #[error("BTF type section offset {0} is not 4-byte aligned")]
    MisalignedTypeSection(u32),

    // ---- type records ----
    #[error("BTF type {id} at byte {offset} of the type section is truncated: needs {need} bytes, {available} left")]
    TruncatedType {
        id: TypeId,
        offset: usize,
        need: usize,
        available: usize,
    },
    #[error("BTF type {id} at byte {offset} of the type section has unknown kind {kind}")]
    UnknownKind {
        id: TypeId,
        offset: usize,
        kind: u32,
    },
    #[error("BTF type {id} ({kind}) has vlen {vlen}, but this kind has no trailing records")]
    UnexpectedVlen { id: TypeId, kind: Kind, vlen: u32 },
    #[error("BTF type {id} ({kind}) has kind_flag set, which this kind does not define")]
    UnexpectedKindFlag { id: TypeId, kind: Kind },
    #[error("BTF type {id} ({kind}): its unused size/type field is {value}, must be 0")]
    UnusedFieldNotZero { id: TypeId, kind: Kind, value: u32 },
    #[error("BTF type {id} (INT): invalid int word {raw:#010x}: {reason}")]
    BadInt {
        id: TypeId,
        raw: u32,
        reason: &'static str,
    },
    #[error("BTF type {id} ({kind}): {reason}")]
    InvalidType {
        id: TypeId,
        kind: Kind,
        reason: String,
    },

    // ---- strings ----
    #[error("BTF string section is empty (it must hold at least the empty string)")]
    EmptyStrings,
    #[error("BTF string section must start with a NUL byte (the empty string)")]
    StringsNotStartingWithNul,
    #[error("BTF string section ({len} bytes) does not end with a NUL byte")]
    StringsNotNulTerminated { len: u32 },
    #[error("{at}: string offset {offset} is beyond the string section ({len} bytes)")]
    StringOffsetOutOfRange { at: String, offset: u32, len: u32 },
    #[error("{at}: the string at offset {offset} is not valid UTF-8")]
    StringNotUtf8 { at: String, offset: u32 },

    // ---- references between types ----
    #[error("BTF type {id} ({kind}) refers to type {target}, but only ids below {count} exist")]
    TypeIdOutOfRange {
        id: TypeId,
        kind: Kind,
        target: TypeId,
        count: u32,
    },
    #[error("BTF type {id} ({kind}) refers to type {target} ({found}), expected {expected}")]
    BadReferenceKind {
        id: TypeId,
        kind: Kind,
        target: TypeId,
        found: Kind,
        expected: &'static str,
    },
    #[error("BTF reference cycle through type {id} ({kind}): {reason}")]
    ReferenceCycle {
        id: TypeId,
        kind: Kind,
        reason: &'static str,
    },

    // ---- lookups ----
    #[error("BTF type {id} ({kind}) has no size")]
    NoSize { id: TypeId, kind: Kind },
    #[error("size of BTF type {id} overflows 32 bits")]
    SizeOverflow { id: TypeId },
    #[error("BTF type chain starting at type {id} is deeper than {depth} (cycle?)")]
    ChainTooDeep { id: TypeId, depth: u32 },
    #[error("BTF type {0} belongs to the base BTF and cannot be changed through split BTF")]
    BaseTypeImmutable(TypeId),
    #[error("appending BTF: {0}")]
    AppendUnsupported(&'static str),
    #[error("BTF type {id} ({kind}) cannot be encoded: {reason}")]
    NotEncodable {
        id: TypeId,
        kind: Kind,
        reason: String,
    },

    // ---- .BTF.ext ----
    #[error(".BTF.ext header truncated: {len} bytes, need at least {need}")]
    ExtTruncatedHeader { len: usize, need: usize },
    #[error("bad .BTF.ext magic {0:#06x}")]
    ExtBadMagic(u16),
    #[error("unsupported .BTF.ext version {0}")]
    ExtUnsupportedVersion(u8),
    #[error("unsupported .BTF.ext header flags {0:#x}")]
    ExtUnsupportedFlags(u8),
    #[error(".BTF.ext hdr_len {hdr_len} is invalid: {reason}")]
    ExtBadHeaderLen { hdr_len: u32, reason: &'static str },
    #[error(".BTF.ext header byte {offset} (past the known fields) is {value:#04x}, must be zero")]
    ExtHeaderTailNotZero { offset: usize, value: u8 },
    #[error(".BTF.ext {subsection} at {off} (+{len} bytes) lies outside the {available} bytes after the header")]
    ExtSubsectionOutOfBounds {
        subsection: &'static str,
        off: u32,
        len: u32,
        available: usize,
    },
    #[error(".BTF.ext {subsection} offset {off} is not 4-byte aligned")]
    ExtMisalignedSubsection { subsection: &'static str, off: u32 },
    #[error(".BTF.ext {subsection} truncated at byte {offset}: {what} needs {need} bytes, {available} left")]
    ExtTruncated {
        subsection: &'static str,
        offset: usize,
        what: &'static str,
        need: usize,
        available: usize,
    },
    #[error(".BTF.ext {subsection} record size {rec_size} is below the minimum {min}")]
    ExtRecordSizeTooSmall {
        subsection: &'static str,
        rec_size: u32,
        min: u32,
    },
    #[error(".BTF.ext {subsection} record size {rec_size} is not a multiple of 4")]
    ExtRecordSizeMisaligned {
        subsection: &'static str,
        rec_size: u32,
    },
    #[error(".BTF.ext {subsection} for section '{sec_name}' at byte {offset}: {count} records of {rec_size} bytes exceed the {available} bytes left")]
    ExtRecordCountOverflow {
        subsection: &'static str,
        sec_name: String,
        offset: usize,
        count: u32,
        rec_size: u32,
        available: usize,
    },
    #[error(".BTF.ext {subsection} for section '{sec_name}' at byte {offset} has no records")]
    ExtEmptySection {
        subsection: &'static str,
        sec_name: String,
        offset: usize,
    },
    #[error(".BTF.ext {subsection} for section '{sec_name}' record {index}: type id {type_id} does not exist (ids below {count})")]
    ExtTypeIdOutOfRange {
        subsection: &'static str,
        sec_name: String,
        index: usize,
        type_id: TypeId,
        count: u32,
    },
}
