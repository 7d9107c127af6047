//! Target BTF: the running kernel's (parsed once per process) or a custom file, with a
//! lazily built index from essential type name to type ids for candidate search.
use super::error::CoreError;
use crate::btf::{Btf, TypeId};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Where the kernel exposes its own BTF.
pub const KERNEL_BTF_PATH: &str = "/sys/kernel/btf/vmlinux";

/// A BTF that relocations are computed against.
///
/// The name index costs a pass over all types and 16 bytes per named type, so it is built on
/// the first candidate search, not at parse time: loads without CO-RE relocations never pay.
pub struct Target {
    btf: Arc<Btf>,
    /// (hash of essential name, type id) of every named type, sorted; ties keep id order, so
    /// candidates come out in ascending id order as libbpf visits them.
    by_essential_name: OnceLock<Vec<(u64, TypeId)>>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("btf", &self.btf)
            .field("indexed", &self.by_essential_name.get().is_some())
            .finish()
    }
}

impl Target {
    pub fn new(btf: Arc<Btf>) -> Target {
        Target {
            btf,
            by_essential_name: OnceLock::new(),
        }
    }

    pub fn btf(&self) -> &Arc<Btf> {
        &self.btf
    }

    /// Ids of all types whose essential name (flavor suffix stripped) is `essential`, ascending.
    pub fn types_named(&self, essential: &str) -> Vec<TypeId> {
        let index = self
            .by_essential_name
            .get_or_init(|| build_name_index(&self.btf));
        let hash = fnv1a(essential.as_bytes());
        let start = index.partition_point(|&(h, _)| h < hash);
        index
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&(h, _)| h == hash)
            .map(|&(_, id)| id)
            // A hash collision must not produce a candidate.
            .filter(|&id| {
                self.btf
                    .type_name(id)
                    .is_ok_and(|name| essential_name(name) == essential)
            })
            .collect()
    }

    /// Bytes held by the name index (0 until the first search), for measurements.
    pub fn index_bytes(&self) -> usize {
        self.by_essential_name
            .get()
            .map_or(0, |v| v.capacity() * std::mem::size_of::<(u64, TypeId)>())
    }
}

fn build_name_index(btf: &Btf) -> Vec<(u64, TypeId)> {
    let mut index: Vec<(u64, TypeId)> = btf
        .iter_types()
        .filter(|(_, t)| t.name_off != 0)
        .filter_map(|(id, _)| {
            let name = btf.type_name(id).ok()?;
            Some((fnv1a(essential_name(name).as_bytes()), id))
        })
        .collect();
    index.sort_unstable();
    index.shrink_to_fit();
    index
}

/// 64-bit FNV-1a: tiny, fast on short identifiers, deterministic across runs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The name without its `___flavor` suffix: the prefix before the last `X___Y` separator
/// (X and Y not underscores), as libbpf's `bpf_core_essential_name_len` defines it.
pub fn essential_name(name: &str) -> &str {
    let b = name.as_bytes();
    // A separator is 5 bytes wide (X, three underscores, Y); scan from the end.
    for i in (0..b.len().saturating_sub(4)).rev() {
        let is_sep = b[i] != b'_'
            && b.get(i + 1..i + 4) == Some(b"___".as_slice())
            && b.get(i + 4).is_some_and(|&c| c != b'_');
        if is_sep {
            return &name[..=i];
        }
    }
    name
}

static KERNEL: Mutex<Option<Arc<Target>>> = parking_lot::const_mutex(None);

/// The running kernel's BTF as a relocation target, parsed on first use and shared by the
/// whole process. A failure is not cached, so a later call retries.
pub fn kernel_target() -> Result<Arc<Target>, CoreError> {
    let mut slot = KERNEL.lock();
    if let Some(target) = slot.as_ref() {
        return Ok(target.clone());
    }
    let target = Arc::new(Target::new(Arc::new(parse_btf_file(Path::new(
        KERNEL_BTF_PATH,
    ))?)));
    *slot = Some(target.clone());
    Ok(target)
}

/// The running kernel's BTF (`/sys/kernel/btf/vmlinux`), parsed once per process.
pub fn kernel_btf() -> Result<Arc<Btf>, CoreError> {
    Ok(kernel_target()?.btf().clone())
}

/// The target for an object: `btf_custom_path` if given (a raw BTF file or an ELF file with a
/// `.BTF` section), else the running kernel's.
pub fn load_target_btf(custom_path: Option<&Path>) -> Result<Arc<Target>, CoreError> {
    match custom_path {
        None => kernel_target(),
        Some(path) => Ok(Arc::new(Target::new(Arc::new(parse_btf_file(path)?)))),
    }
}

/// Parses a raw BTF blob or the `.BTF` section of an ELF file.
pub fn parse_btf_file(path: &Path) -> Result<Btf, CoreError> {
    let data = crate::object::input::read_input_file(path).map_err(|source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let raw = if data.starts_with(b"\x7fELF") {
        btf_section_of_elf(&data, path)?
    } else {
        &data[..]
    };
    Btf::parse(raw).map_err(|source| CoreError::TargetBtf {
        path: path.to_path_buf(),
        source,
    })
}

fn btf_section_of_elf<'d>(data: &'d [u8], path: &Path) -> Result<&'d [u8], CoreError> {
    use object::{Object, ObjectSection};
    let elf_error = |reason: String| CoreError::TargetElf {
        path: PathBuf::from(path),
        reason,
    };
    let file = object::read::File::parse(data).map_err(|e| elf_error(e.to_string()))?;
    let section = file
        .section_by_name(".BTF")
        .ok_or_else(|| elf_error("no .BTF section".into()))?;
    section
        .data()
        .map_err(|e| elf_error(format!(".BTF section: {e}")))
}

#[cfg(test)]
mod tests {
    use super::essential_name;

    #[test]
    fn flavor_suffixes_are_stripped_like_libbpf() {
        assert_eq!(essential_name("task_struct___old"), "task_struct");
        assert_eq!(essential_name("a___b___c"), "a___b");
        assert_eq!(essential_name("task_struct"), "task_struct");
        // Separators need a non-underscore on both sides.
        assert_eq!(essential_name("a____b"), "a____b");
        assert_eq!(essential_name("___x"), "___x");
        assert_eq!(essential_name("x___"), "x___");
        assert_eq!(essential_name(""), "");
    }
}
