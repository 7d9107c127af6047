//! The loader: turns an [`ObjectSpec`](crate::object::ObjectSpec) into kernel objects.
//!
//! Open is pure (no syscalls): it builds an [`Object`] with one [`Program`] and one [`Map`] per
//! spec entry, whose settings users may change before load. Load runs explicit passes (see
//! ARCHITECTURE.md): BTF fix-up and upload, map creation (inner maps, global data with mmapped
//! initial values, pinning/reuse), extern resolution (.kconfig, .ksyms), CO-RE relocation
//! ([`core`]), per-program linking (subprograms appended, calls and ld_imm64 rewritten,
//! func_info/line_info rebased), program load (retry with a verifier log on failure), then
//! map slots (prog arrays, map-in-map) and freezing of read-only maps.
//!
//! API contract (the C ABI and later the dynamic linker build on it; keep it stable):
//! - `Object::open_file(&Path, &OpenOptions) -> Result<Object, LoadError>`
//! - `Object::open_mem(&[u8], &OpenOptions) -> Result<Object, LoadError>`
//! - `Object::load(&mut self) -> Result<(), LoadError>` (once; a second call is `EINVAL`-like)
//! - `Object::{name, programs, programs_mut, maps, maps_mut, find_program, find_map, btf,
//!   pin_maps, unpin_maps}`; `Program` and `Map` expose getters/setters matching libbpf's
//!   `bpf_program__*` / `bpf_map__*` (setters fail once loaded).
//! - `Program` and `Map` values live in `Vec`s that never grow or shrink after open, so the C
//!   layer may hand out pointers to them as handles for the object's lifetime.
//! - `LoadError::errno()` gives the errno the C ABI reports.
//!
//! Dynamic linking ([`crate::linker::dynamic`], `dynlink/`): a load resolves the object's
//! extern functions and its strong definitions of other loaded objects' weak placeholders
//! (calls through stubs or imported code, replacements through extension programs; see
//! `dynlink/mod.rs`), and registers what it offers (placeholders, exports, its image). The
//! object owns the links it made (`Object::dynamic_edges`); dropping it restores placeholders
//! and stubs and unregisters it. `Object::export` offers it to other processes.
//!
//! `Map::initial_value` is the skeleton memory (stable across load); `Program::kernel_log`
//! holds the verifier log for callers that gave a log buffer.
pub mod core;

mod attach;
mod btf_fixup;
mod dynlink;
mod error;
mod externs;
mod inflate;
mod kconfig;
mod link;
mod load;
mod map;
mod mmap;
mod program;

pub use attach::{check_prototypes, FreplaceTarget, Link};
pub use dynlink::{remove_export, system_graph, DynamicEdge};
pub use error::{LoadError, LIBBPF_ERRNO_FORMAT, LIBBPF_ERRNO_RELOC};
pub use externs::ExternValue;
pub use kconfig::linux_kernel_version;
pub use map::{Map, PIN_BY_NAME};
pub use program::Program;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::btf::{Btf, BtfExt};
use crate::object::{object_name_for_path, MapOrigin, ObjectSpec};

/// libbpf's `bpf_object_open_opts`, as Rust data (the C layer converts).
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Overrides the name derived from the file name (or buffer address for `open_mem`).
    pub object_name: Option<String>,
    /// Directory for `LIBBPF_PIN_BY_NAME` maps (default `/sys/fs/bpf`).
    pub pin_root_path: Option<PathBuf>,
    /// Extra Kconfig text (`CONFIG_X=y` lines) consulted before the system's configuration.
    pub kconfig: Option<String>,
    /// BTF file used as the CO-RE target instead of the kernel's.
    pub btf_custom_path: Option<PathBuf>,
    /// Default verifier log level for every program (0 = log only on failure).
    pub kernel_log_level: u32,
    /// Size of the caller's object-wide log buffer, if one was given.
    pub kernel_log_size: Option<usize>,
}

/// libbpf treats a lone `.text` function of an object without SEC() programs as a program
/// (with no program type, so loading it fails like in libbpf).
fn legacy_text_program(spec: &ObjectSpec) -> Option<crate::object::Program> {
    if !spec.programs.is_empty() {
        return None;
    }
    let mut text = spec.subprograms.iter().filter(|s| s.section_name == ".text");
    let only = text.next()?;
    if text.next().is_some() {
        return None;
    }
    Some(crate::object::Program::from_function(only))
}

/// Where an object is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectState {
    Opened,
    Loaded,
    /// A load was attempted and failed; everything it created is closed. libbpf refuses to
    /// load such an object again.
    LoadFailed,
}

/// An opened (and possibly loaded) BPF object.
#[derive(Debug)]
pub struct Object {
    /// Shared with the dynamic-linking registry's image of the object once loaded.
    pub(crate) spec: Arc<ObjectSpec>,
    /// The ELF as opened (exporting the object for other processes stores it in bpffs).
    pub(crate) elf: Arc<[u8]>,
    pub(crate) name: String,
    pub(crate) opts: OpenOptions,
    pub(crate) btf: Option<Btf>,
    pub(crate) btf_ext: Option<BtfExt>,
    pub(crate) programs: Vec<Program>,
    pub(crate) maps: Vec<Map>,
    pub(crate) btf_fd: Option<OwnedFd>,
    /// BTF upload log, when the kernel refused the BTF.
    pub(crate) btf_log: String,
    pub(crate) state: ObjectState,
    /// Identifies this object in the dynamic-linking registry ([`crate::linker::dynamic`]).
    pub(crate) dyn_token: u64,
    /// Dependencies this object realised (replacements, calls into other objects), with the
    /// links that keep them; dropping the links restores placeholders and stubs.
    pub(crate) dyn_edges: Vec<DynamicEdge>,
    /// Extension programs the load added for strong definitions replacing placeholders of
    /// other objects (beside the object's own programs, whose handles are fixed at open).
    pub(crate) dyn_extensions: Vec<Program>,
    /// The providers this object links against (their maps and BTF held open).
    pub(crate) dyn_providers: Option<dynlink::ImportSet>,
}

impl Drop for Object {
    /// Takes the object out of the dynamic-linking registry; its links then close with it.
    fn drop(&mut self) {
        crate::linker::dynamic::unregister(self.dyn_token);
    }
}

impl Object {
    /// Opens an object file; the name defaults to the file name without `.o`/`.bpf.o`.
    pub fn open_file(path: &Path, opts: &OpenOptions) -> Result<Object, LoadError> {
        let data = crate::object::input::read_input_file(path).map_err(|source| LoadError::Io { path: path.display().to_string(), source })?;
        let name = opts.object_name.clone().unwrap_or_else(|| object_name_for_path(path));
        Object::open_named(&data, name, opts)
    }

    /// Opens an object from memory; without `object_name` the name is libbpf's
    /// `<buffer address>-<size>` in hex.
    pub fn open_mem(data: &[u8], opts: &OpenOptions) -> Result<Object, LoadError> {
        let name = opts.object_name.clone().unwrap_or_else(|| format!("{:x}-{:x}", data.as_ptr() as usize, data.len()));
        Object::open_named(data, name, opts)
    }

    fn open_named(data: &[u8], name: String, opts: &OpenOptions) -> Result<Object, LoadError> {
        let spec = ObjectSpec::from_bytes(data, &name)?;
        let btf = spec
            .btf_data
            .as_deref()
            .map(Btf::parse)
            .transpose()
            .map_err(|source| LoadError::Btf { object: name.clone(), source })?;
        let btf_ext = match (&btf, spec.btf_ext_data.as_deref()) {
            (Some(b), Some(d)) => Some(BtfExt::parse(d, b).map_err(|source| LoadError::Btf { object: name.clone(), source })?),
            _ => None,
        };
        let mut programs = Vec::with_capacity(spec.programs.len());
        for p in spec.programs.iter().chain(legacy_text_program(&spec).as_ref()) {
            let insns = spec.section(p.section_index).map_or(&[][..], |s| s.insns.as_slice());
            programs.push(Program::from_spec(p, insns, opts.kernel_log_level, opts.kernel_log_size)?);
        }
        let pin_root = opts.pin_root_path.clone().unwrap_or_else(|| PathBuf::from(crate::sys::bpffs::DEFAULT_BPFFS));
        let mut maps = Vec::with_capacity(spec.maps.len());
        for m in &spec.maps {
            let data = match m.origin {
                MapOrigin::Data => spec.section(m.section_index).map(|s| s.data.as_slice()),
                _ => None,
            };
            let mut map = Map::from_spec(m, data)?;
            if m.pinning == PIN_BY_NAME {
                map.pin_path = Some(pin_root.join(&map.name));
            }
            maps.push(map);
        }
        Ok(Object {
            spec: Arc::new(spec),
            elf: Arc::from(data),
            name,
            opts: opts.clone(),
            btf,
            btf_ext,
            programs,
            maps,
            btf_fd: None,
            btf_log: String::new(),
            state: ObjectState::Opened,
            dyn_token: crate::linker::dynamic::new_token(),
            dyn_edges: Vec::new(),
            dyn_extensions: Vec::new(),
            dyn_providers: None,
        })
    }

    /// Loads everything into the kernel (once). On failure everything created is closed and
    /// the object stays in [`ObjectState::LoadFailed`].
    pub fn load(&mut self) -> Result<(), LoadError> {
        load::load(self)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn state(&self) -> ObjectState {
        self.state
    }
    pub fn spec(&self) -> &ObjectSpec {
        &self.spec
    }
    pub fn options(&self) -> &OpenOptions {
        &self.opts
    }
    pub fn programs(&self) -> &[Program] {
        &self.programs
    }
    pub fn programs_mut(&mut self) -> &mut [Program] {
        &mut self.programs
    }
    pub fn maps(&self) -> &[Map] {
        &self.maps
    }
    pub fn maps_mut(&mut self) -> &mut [Map] {
        &mut self.maps
    }
    pub fn find_program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name == name)
    }
    pub fn find_program_mut(&mut self, name: &str) -> Option<&mut Program> {
        self.programs.iter_mut().find(|p| p.name == name)
    }
    /// By name, or for global data by section name too (libbpf's `bpf_object__find_map_by_name`
    /// accepts ".rodata" etc.).
    pub fn find_map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name == name).or_else(|| self.maps.iter().find(|m| m.is_internal() && m.real_name == name))
    }
    pub fn find_map_mut(&mut self, name: &str) -> Option<&mut Map> {
        let idx = self
            .maps
            .iter()
            .position(|m| m.name == name)
            .or_else(|| self.maps.iter().position(|m| m.is_internal() && m.real_name == name))?;
        self.maps.get_mut(idx)
    }
    /// The object's BTF as parsed at open.
    pub fn btf(&self) -> Option<&Btf> {
        self.btf.as_ref()
    }
    /// The fd of the BTF loaded into the kernel (None if absent or refused).
    pub fn btf_fd(&self) -> Option<BorrowedFd<'_>> {
        self.btf_fd.as_ref().map(|fd| fd.as_fd())
    }
    /// The kernel's BTF checker log when the BTF was refused (load continued without BTF).
    pub fn btf_log(&self) -> &str {
        &self.btf_log
    }
    /// Placeholders of other loaded objects that this object's strong definitions replaced
    /// at load (see [`crate::linker::dynamic`]), with the links that hold them.
    pub fn dynamic_edges(&self) -> &[DynamicEdge] {
        &self.dyn_edges
    }
    /// The kernel version from the `version` section (libbpf's `bpf_object__kversion`).
    pub fn kernel_version(&self) -> u32 {
        self.spec.kernel_version.unwrap_or(0)
    }

    /// Pins every autocreate map at `dir/<name>` (dots replaced, like libbpf), or with `None`
    /// at its own pin path (maps without one are skipped). On failure the maps before it with
    /// a pin path are unpinned. Refused (`ENOENT`) before a load was attempted.
    pub fn pin_maps(&mut self, dir: Option<&Path>) -> Result<(), LoadError> {
        if self.state == ObjectState::Opened {
            return Err(LoadError::NotLoaded { object: self.name.clone() });
        }
        for i in 0..self.maps.len() {
            let map = &mut self.maps[i];
            if !map.autocreate {
                continue;
            }
            let path = match dir {
                Some(d) => Some(map_pin_path_in(d, &map.name)),
                None if map.pin_path.is_none() => continue,
                None => None,
            };
            if let Err(e) = map.pin(path.as_deref()) {
                for earlier in self.maps[..i].iter_mut().rev().filter(|m| m.pin_path.is_some()) {
                    let _ = earlier.unpin(None);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Unpins every map from `dir/<name>`, or with `None` from its own pin path (maps without
    /// one are skipped); stops at the first failure.
    pub fn unpin_maps(&mut self, dir: Option<&Path>) -> Result<(), LoadError> {
        for map in &mut self.maps {
            let path = match dir {
                Some(d) => Some(map_pin_path_in(d, &map.name)),
                None if map.pin_path.is_none() => continue,
                None => None,
            };
            map.unpin(path.as_deref())?;
        }
        Ok(())
    }
}

/// `dir/name` with every '.' replaced by '_' (bpffs refuses dots; libbpf sanitizes the whole
/// path, directory included).
fn map_pin_path_in(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let mut bytes = dir.as_os_str().as_bytes().to_vec();
    bytes.push(b'/');
    bytes.extend_from_slice(name.as_bytes());
    for b in &mut bytes {
        if *b == b'.' {
            *b = b'_';
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}
