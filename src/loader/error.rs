//! Errors of open and load. Each variant names the object part at fault (program, map, extern,
//! path) and what is wrong; [`LoadError::errno`] gives the errno the C ABI reports.
use crate::btf::BtfError;
use crate::object::ObjectError;
use crate::sys::SysError;

/// libbpf's `LIBBPF_ERRNO__FORMAT`: the object is malformed.
pub const LIBBPF_ERRNO_FORMAT: i32 = 4001;
/// libbpf's `LIBBPF_ERRNO__RELOC`: a relocation could not be applied.
pub const LIBBPF_ERRNO_RELOC: i32 = 4005;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Object(#[from] ObjectError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("object '{object}': BTF: {source}")]
    Btf { object: String, source: BtfError },
    #[error("object '{object}' was already loaded (or a load was attempted); it can't be loaded twice")]
    AlreadyLoaded { object: String },
    #[error("object '{object}' not yet loaded; load it first")]
    NotLoaded { object: String },
    #[error("{what} '{name}': can't be changed after the object is loaded")]
    Busy { what: &'static str, name: String },
    #[error("{what} '{name}': {reason}")]
    Invalid { what: &'static str, name: String, reason: String },
    #[error("object '{object}': unresolved externs: {}", names.join(", "))]
    UnresolvedExterns { object: String, names: Vec<String> },
    /// Extern functions no loaded object exports (dynamic linking), and the extern variables
    /// and maps of the object (only static linking resolves those).
    #[error("object '{object}': unresolved extern functions: {}; no loaded object exports them (objects looked at, newest first: [{}]); load the objects defining them first{}", quoted(names), looked_at.join(", "), also_unresolved(others))]
    UnresolvedFunctions { object: String, names: Vec<String>, others: Vec<String>, looked_at: Vec<String> },
    #[error("extern '{name}': {reason}")]
    Extern { name: String, reason: String },
    #[error("object '{object}': kernel refused the BTF: {source}{}", log_suffix(log))]
    BtfLoad { object: String, source: SysError, log: String },
    #[error("map '{map}': {op}: {source}")]
    Map { map: String, op: &'static str, source: SysError },
    #[error("map '{map}': {op} at {path}: {source}")]
    Pin { map: String, op: &'static str, path: String, source: SysError },
    #[error("map '{map}': can't reuse the map pinned at {path}: {what}")]
    PinnedMapMismatch { map: String, path: String, what: String },
    #[error("map '{map}': {op}: {source}")]
    Mmap { map: String, op: &'static str, source: std::io::Error },
    #[error("program '{program}': instruction {insn}: {what}")]
    Reloc { program: String, insn: usize, what: String },
    #[error("program '{program}': {what}")]
    Link { program: String, what: String },
    /// The BTF id a tracing/LSM/EXT program attaches to could not be found (errno as libbpf:
    /// `EINVAL` no target given, `ESRCH` not in kernel BTF, `ENOENT` not in the target program).
    #[error("program '{program}': attach target: {what}")]
    AttachTarget { program: String, what: String, errno: i32 },
    /// An extension's prototype doesn't fit the function it replaces (checked before the
    /// kernel sees the program; the kernel compares less, e.g. not struct sizes).
    #[error("program '{program}': can't replace '{target}' with '{extension}': {reason}")]
    Prototype { program: String, extension: String, target: String, reason: String },
    /// Attaching a loaded program failed; `hint` explains the errno where it has a known cause.
    #[error("program '{program}': failed to attach to {target}: {source}{hint}")]
    Attach { program: String, target: String, source: SysError, hint: &'static str },
    /// A kernel call of the dynamic linker failed (reopening a provider's or target's objects
    /// by id, reading ids and func_info).
    #[error("{what}: {source}")]
    Kernel { what: String, source: SysError },
    /// An operation on a BPF link (pin, open, detach, update) failed.
    #[error("link: {what}: {source}")]
    LinkOp { op: &'static str, what: String, source: SysError },
    /// `summary` already names the program.
    #[error("{summary}")]
    ProgLoad { program: String, source: SysError, summary: String, log: String },
    /// `program` is the section (or object) whose relocations failed.
    #[error("CO-RE: '{program}': {what}")]
    Core { program: String, what: String, errno: i32 },
}

fn also_unresolved(others: &[String]) -> String {
    if others.is_empty() {
        return String::new();
    }
    format!("; also unresolved: extern variables and maps {} (dynamic linking resolves functions; link the objects defining them statically)", quoted(others))
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

fn log_suffix(log: &str) -> String {
    match log.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(line) => format!(" (log: {})", line.trim()),
        None => String::new(),
    }
}

impl LoadError {
    /// For `map_err`: a failed kernel call of the dynamic linker, described by `what`.
    pub(crate) fn kernel(what: impl Into<String>) -> impl FnOnce(SysError) -> LoadError {
        let what = what.into();
        move |source| LoadError::Kernel { what, source }
    }

    /// The positive errno the C ABI reports for this error (libbpf's value where it has one).
    pub fn errno(&self) -> i32 {
        match self {
            LoadError::Object(ObjectError::Io { source, .. }) | LoadError::Io { source, .. } => {
                crate::object::input::io_errno(source)
            }
            LoadError::Object(_) => LIBBPF_ERRNO_FORMAT,
            LoadError::Btf { .. } => LIBBPF_ERRNO_FORMAT,
            LoadError::AlreadyLoaded { .. } | LoadError::Invalid { .. } | LoadError::PinnedMapMismatch { .. } => {
                libc::EINVAL
            }
            LoadError::Busy { .. } => libc::EBUSY,
            LoadError::NotLoaded { .. } => libc::ENOENT,
            LoadError::UnresolvedExterns { .. } | LoadError::UnresolvedFunctions { .. } => libc::ESRCH,
            LoadError::Extern { .. } | LoadError::Prototype { .. } => libc::EINVAL,
            LoadError::Attach { source, .. } | LoadError::LinkOp { source, .. } | LoadError::Kernel { source, .. } => source.errno(),
            LoadError::BtfLoad { source, .. }
            | LoadError::Map { source, .. }
            | LoadError::Pin { source, .. }
            | LoadError::ProgLoad { source, .. } => source.errno(),
            LoadError::Mmap { source, .. } => source.raw_os_error().unwrap_or(libc::ENOMEM),
            LoadError::Reloc { .. } | LoadError::Link { .. } => LIBBPF_ERRNO_RELOC,
            LoadError::Core { errno, .. } | LoadError::AttachTarget { errno, .. } => *errno,
        }
    }

    /// The kernel's log for BTF and program load failures (empty otherwise).
    pub fn kernel_log(&self) -> &str {
        match self {
            LoadError::BtfLoad { log, .. } | LoadError::ProgLoad { log, .. } => log,
            _ => "",
        }
    }
}
