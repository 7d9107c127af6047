//! Errors of the CO-RE pass: where (section, relocation, instruction, access) and why.
use crate::btf::BtfError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("reading target BTF '{}': {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing target BTF '{}': {source}", path.display())]
    TargetBtf { path: PathBuf, source: BtfError },
    #[error("target BTF '{}': {reason}", path.display())]
    TargetElf { path: PathBuf, reason: String },
    /// One relocation failed; `access` renders the local access as C (`struct task_struct::comm`).
    #[error("section '{section}': CO-RE relocation #{relo} ({kind}) at insn #{insn} for {access}: {reason}")]
    Relo {
        section: String,
        relo: usize,
        insn: usize,
        kind: String,
        access: String,
        /// Boxed to keep `Result<_, CoreError>` small.
        reason: Box<RelocFailure>,
    },
}

impl CoreError {
    /// The errno the C ABI reports, following libbpf's choices for the same failures.
    pub fn errno(&self) -> i32 {
        match self {
            CoreError::Io { source, .. } => crate::object::input::io_errno(source),
            CoreError::TargetBtf { .. } | CoreError::TargetElf { .. } => libc::EINVAL,
            CoreError::Relo { reason, .. } => reason.errno(),
        }
    }
}

/// Why one relocation could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum RelocFailure {
    #[error("unknown relocation kind {0}")]
    UnknownKind(u32),
    #[error("insn_off {0} is not a multiple of 8")]
    MisalignedInsnOffset(u32),
    #[error("instruction is outside the section's {count} instructions")]
    InsnOutOfRange { count: usize },
    #[error("local BTF: {0}")]
    LocalBtf(BtfError),
    #[error("target BTF: {0}")]
    TargetBtf(BtfError),
    #[error("invalid access string '{access}': {reason}")]
    BadAccessString { access: String, reason: String },
    #[error("anonymous local types have no candidates to search")]
    AnonymousLocalType,
    #[error("candidates disagree on the field offset: {first_bits} bits vs {other_bits} bits")]
    FieldOffsetAmbiguity { first_bits: u64, other_bits: u64 },
    #[error("candidates disagree on the result: {first} vs {other}")]
    DecisionAmbiguity { first: String, other: String },
    #[error("{0} cannot be applied to an array element access")]
    ArrayAccess(&'static str),
    #[error("bitfield at bit {bit_offset} of {bit_size} bits cannot be read with a 64-bit load")]
    BitfieldTooWide { bit_offset: u64, bit_size: u32 },
    #[error("type nesting too deep or cyclic while comparing types")]
    TooDeep,
    #[error("{class} instruction holds {got}, expected the local value {expected} (-> {new})")]
    UnexpectedValue {
        class: &'static str,
        got: i64,
        expected: u64,
        new: u64,
    },
    #[error("new offset {0} does not fit the 16-bit instruction offset")]
    OffsetTooBig(u64),
    #[error("memory access of {got} bytes, but the field is {expected} bytes")]
    UnexpectedMemSize { got: u32, expected: u32 },
    #[error("no load/store size for a {0}-byte field")]
    InvalidNewMemSize(u32),
    #[error("ld_imm64 has an unexpected form (pseudo source, offset or second half set)")]
    BadLdImm64Form,
    #[error("ld_imm64 is missing its second half")]
    TruncatedLdImm64,
    #[error("ALU instruction does not use an immediate operand (code {0:#04x})")]
    AluNotImmediate(u8),
    #[error("cannot relocate instruction code {0:#04x}")]
    UnsupportedInsn(u8),
}

impl RelocFailure {
    pub fn errno(&self) -> i32 {
        match self {
            RelocFailure::OffsetTooBig(_) => libc::ERANGE,
            RelocFailure::BitfieldTooWide { .. } | RelocFailure::TooDeep => libc::E2BIG,
            RelocFailure::AnonymousLocalType | RelocFailure::UnknownKind(_) => libc::EOPNOTSUPP,
            _ => libc::EINVAL,
        }
    }
}
