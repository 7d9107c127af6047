//! The BPF ELF object model: a relocatable BPF object parsed into plain, deterministic data.
//!
//! API contract (other modules rely on it; keep signatures stable):
//! - `ObjectSpec::from_bytes(&[u8], name: &str) -> Result<ObjectSpec, ObjectError>`
//! - `ObjectSpec::from_file(&Path) -> Result<ObjectSpec, ObjectError>`
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Other(String),
}

impl ObjectError {
    /// The errno the C ABI reports for this error (libbpf reports -EINVAL for malformed objects).
    pub fn errno(&self) -> i32 {
        match self {
            ObjectError::Io { source, .. } => source.raw_os_error().unwrap_or(libc::EIO),
            ObjectError::Other(_) => libc::EINVAL,
        }
    }
}

/// A parsed BPF object.
#[derive(Debug, Clone)]
pub struct ObjectSpec {
    pub name: String,
}

impl ObjectSpec {
    pub fn from_bytes(_data: &[u8], _name: &str) -> Result<ObjectSpec, ObjectError> {
        todo!("object parser")
    }
    pub fn from_file(path: &Path) -> Result<ObjectSpec, ObjectError> {
        let data = std::fs::read(path)
            .map_err(|source| ObjectError::Io { path: path.display().to_string(), source })?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("object");
        // libbpf names objects after the file name without `.o` / `.bpf.o`.
        let name = name.strip_suffix(".bpf").unwrap_or(name);
        ObjectSpec::from_bytes(&data, name)
    }
}
