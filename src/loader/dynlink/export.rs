//! The cross-process scope (opt-in): a loaded object exported under a bpffs directory can be
//! linked against by other processes whose library path ([`dynamic::library_path`], the
//! `BPFLINK_LIBRARY_PATH` environment variable or an API call) names that directory, after
//! the objects of their own process.
//!
//! An export of object NAME under DIR is the directory DIR/NAME holding pins only (bpffs holds
//! nothing else): `elf`, an array map with the object's ELF file (frozen); `map_<name>` for each
//! of its maps; `prog_<name>` for each of its loaded programs; `ext_<name>` for the extension
//! programs of its replacements, and `link_<n>_<kind>_<function>` for the links of its
//! dependencies (so they outlive the exporting process too). An importer parses the ELF,
//! relocates it (CO-RE) for the running kernel, loads its BTF, and uses the pinned maps and
//! programs by fd: the provider's maps are shared across processes, and placeholders of the
//! pinned programs can be replaced. Pins outlive the exporting process; `unexport` removes them.
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::btf::{Btf, BtfExt, Kind};
use crate::linker::dynamic::{self, ImageMap, Placeholder, ProviderImage};
use crate::log::{log, Level};
use crate::object::{ExternKind, ObjectSpec};
use crate::sys::{self, uapi, MapCreateAttr};

use super::super::btf_fixup;
use super::super::error::LoadError;
use super::super::externs::{self, ExternContext, ExternValue};
use super::super::kconfig;
use super::super::load::{relocate_code, CoreInput};
use super::super::map::{check_bpffs_path, make_parent_dir};
use super::super::{Object, ObjectState};
use super::raw_kernel_func_ids;

/// Bytes per entry of the `elf` map (its value size); entry 0 starts with the ELF's length.
const ELF_CHUNK: usize = 64 << 10;
/// Exports bigger than this are refused on import (a corrupt or hostile `elf` map).
const MAX_EXPORTED_ELF: usize = 256 << 20;
/// Dependencies of exported objects are resolved recursively up to this depth (cycles).
const MAX_IMPORT_DEPTH: usize = 16;
const ELF_PIN: &str = "elf";

fn pin_name(prefix: &str, name: &str) -> String {
    let clean: String = name.chars().map(|c| if c == '.' || c == '/' { '_' } else { c }).collect();
    format!("{prefix}_{clean}")
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
    move |source| LoadError::Io { path: path.display().to_string(), source }
}

fn pin_err(what: String, path: &Path) -> impl FnOnce(sys::SysError) -> LoadError + '_ {
    move |source| LoadError::Pin { map: what, op: "BPF_OBJ_PIN", path: path.display().to_string(), source }
}

impl Object {
    /// Exports the loaded object for other processes' dynamic linking, under `dir/<name>` on a
    /// bpffs (see the module documentation); returns that path. Fails with `EEXIST` if an
    /// export of that name exists. On failure nothing is left behind.
    pub fn export(&self, dir: &Path) -> Result<PathBuf, LoadError> {
        if self.state != ObjectState::Loaded {
            return Err(LoadError::NotLoaded { object: self.name.clone() });
        }
        let path = dir.join(&self.name);
        make_parent_dir(&path)?;
        check_bpffs_path("object", &self.name, &path)?;
        std::fs::create_dir(&path).map_err(io_err(&path))?;
        let result = self.write_export(&path);
        if result.is_err() {
            let _ = remove_export(&path);
        }
        result.map(|()| path)
    }

    fn write_export(&self, path: &Path) -> Result<(), LoadError> {
        let elf = elf_map(&self.elf, &self.name)?;
        let elf_path = path.join(ELF_PIN);
        sys::obj_pin(elf.as_fd(), &elf_path).map_err(pin_err("elf".into(), &elf_path))?;
        for map in &self.maps {
            let Some(fd) = map.fd() else { continue };
            let pin = path.join(pin_name("map", &map.name));
            sys::obj_pin(fd, &pin).map_err(pin_err(map.name.clone(), &pin))?;
        }
        for prog in &self.programs {
            let Some(fd) = prog.fd() else { continue };
            let pin = path.join(pin_name("prog", &prog.name));
            sys::obj_pin(fd, &pin).map_err(pin_err(prog.name.clone(), &pin))?;
        }
        for prog in &self.dyn_extensions {
            let Some(fd) = prog.fd() else { continue };
            let pin = path.join(pin_name("ext", &prog.name));
            sys::obj_pin(fd, &pin).map_err(pin_err(prog.name.clone(), &pin))?;
        }
        // The links of the object's dependencies: pinned, they outlive this process like the
        // rest of the export, and removing the export undoes them.
        for (i, edge) in self.dyn_edges.iter().enumerate() {
            let Some(fd) = edge.link.as_ref().and_then(|l| l.fd()) else { continue };
            let pin = path.join(format!("link_{i}_{}", pin_name(edge.edge.kind.as_str(), &edge.edge.function)));
            sys::obj_pin(fd, &pin).map_err(pin_err(edge.edge.function.clone(), &pin))?;
        }
        log(Level::Info, &format!("object '{}' exported at {}", self.name, path.display()));
        Ok(())
    }
}

/// Removes an export (its pins and directory). The kernel objects go when nothing else holds
/// them; objects of other processes linked against it keep working. Returns once the export's
/// own links are gone (the kernel releases a link whose last pin goes asynchronously), so its
/// placeholders and stubs are restored when this returns.
pub fn remove_export(path: &Path) -> Result<(), LoadError> {
    if !path.join(ELF_PIN).exists() && path.read_dir().map_or(true, |mut d| d.next().is_some()) {
        return Err(LoadError::Invalid { what: "export", name: path.display().to_string(), reason: "not a bpflink export (no 'elf' pin)".into() });
    }
    let mut links = Vec::new();
    for entry in path.read_dir().map_err(io_err(path))? {
        let entry = entry.map_err(io_err(path))?;
        if entry.file_name().to_string_lossy().starts_with("link_") {
            links.extend(sys::obj_get(&entry.path(), 0).ok().and_then(|fd| sys::obj_get_info_by_fd::<uapi::bpf_link_info>(fd.as_fd()).ok()).map(|i| i.id));
        }
        std::fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
    }
    std::fs::remove_dir(path).map_err(io_err(path))?;
    wait_until_gone(&links);
    Ok(())
}

/// Waits (up to two seconds) until none of the links `ids` exists any more.
fn wait_until_gone(ids: &[u32]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while !ids.is_empty() && std::time::Instant::now() < deadline {
        let live = sys::all_ids(sys::ObjKind::Link).unwrap_or_default();
        if ids.iter().all(|id| !live.contains(id)) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A frozen array map holding `elf`: entry 0 begins with its length (u64), then the bytes.
fn elf_map(elf: &[u8], object: &str) -> Result<OwnedFd, LoadError> {
    let mut bytes = (elf.len() as u64).to_ne_bytes().to_vec();
    bytes.extend_from_slice(elf);
    let entries = bytes.len().div_ceil(ELF_CHUNK);
    bytes.resize(entries * ELF_CHUNK, 0);
    let map_err = |op: &'static str| move |source| LoadError::Map { map: format!("{object} (export)"), op, source };
    let attr = MapCreateAttr {
        map_type: uapi::bpf_map_type::BPF_MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: ELF_CHUNK as u32,
        max_entries: entries as u32,
        name: "bpflink_elf",
        ..Default::default()
    };
    let fd = sys::map_create(&attr).map_err(map_err("BPF_MAP_CREATE"))?;
    for (i, chunk) in bytes.chunks(ELF_CHUNK).enumerate() {
        sys::map_update_elem(fd.as_fd(), &(i as u32).to_ne_bytes(), chunk, 0).map_err(map_err("writing the ELF"))?;
    }
    sys::map_freeze(fd.as_fd()).map_err(map_err("BPF_MAP_FREEZE"))?;
    Ok(fd)
}

/// Reads back an `elf` map, refusing sizes that don't fit it.
fn read_elf_map(fd: &OwnedFd, path: &Path) -> Result<Vec<u8>, LoadError> {
    let bad = |reason: String| LoadError::Invalid { what: "export", name: path.display().to_string(), reason };
    let info = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd.as_fd()).map_err(|source| LoadError::Map { map: "elf".into(), op: "reading its info", source })?;
    if info.value_size as usize != ELF_CHUNK || info.key_size != 4 {
        return Err(bad(format!("its 'elf' map has key/value sizes {}/{}, not 4/{ELF_CHUNK}", info.key_size, info.value_size)));
    }
    let capacity = info.max_entries as usize * ELF_CHUNK;
    if capacity > MAX_EXPORTED_ELF + ELF_CHUNK {
        return Err(bad(format!("its 'elf' map holds {capacity} bytes, more than the {MAX_EXPORTED_ELF} accepted")));
    }
    let mut bytes = vec![0u8; capacity];
    for (i, chunk) in bytes.chunks_mut(ELF_CHUNK).enumerate() {
        sys::map_lookup_elem(fd.as_fd(), &(i as u32).to_ne_bytes(), chunk, 0).map_err(|source| LoadError::Map { map: "elf".into(), op: "reading the ELF", source })?;
    }
    let len = u64::from_ne_bytes(bytes[..8].try_into().unwrap_or_default()) as usize;
    if len > capacity - 8 {
        return Err(bad(format!("its 'elf' map says the ELF has {len} bytes, but holds {}", capacity - 8)));
    }
    bytes.truncate(len + 8);
    bytes.drain(..8);
    Ok(bytes)
}

/// The exports in `dir`, sorted by name.
pub(super) fn exports_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = dir.read_dir() else { return Vec::new() };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join(ELF_PIN).exists()).collect();
    paths.sort();
    paths
}

/// The exports in the library path, in search order.
fn exports_in_library_path() -> Vec<PathBuf> {
    dynamic::library_path().iter().flat_map(|dir| exports_in(dir)).collect()
}

/// Kernel ids of the programs (`prog_*`, `ext_*`) and maps (`map_*`) pinned in an export.
pub(super) fn pinned_ids(path: &Path) -> (Vec<u32>, Vec<u32>) {
    let (mut progs, mut maps) = (Vec::new(), Vec::new());
    let Ok(entries) = path.read_dir() else { return (progs, maps) };
    let mut names: Vec<String> = entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    for name in names {
        let Ok(fd) = sys::obj_get(&path.join(&name), 0) else { continue };
        if name.starts_with("prog_") || name.starts_with("ext_") {
            progs.extend(sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(fd.as_fd()).ok().map(|i| i.id));
        } else if name.starts_with("map_") {
            maps.extend(sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd.as_fd()).ok().map(|i| i.id));
        }
    }
    (progs, maps)
}

/// The newest object of this process exporting `function`, else the first export in the
/// library path that does. Errors of broken exports are logged and skipped.
pub(crate) fn find_provider(function: &str, except: u64) -> Option<Arc<ProviderImage>> {
    dynamic::find_provider(function, except).or_else(|| find_exported(function, 0))
}

fn find_exported(function: &str, depth: usize) -> Option<Arc<ProviderImage>> {
    exports_in_library_path().into_iter().find_map(|path| {
        // Only the export that has the function is imported (its BTF loaded, its code relocated).
        let spec = exported_spec(&path).map_err(|e| log(Level::Warn, &format!("skipping the export at {}: {e}", path.display()))).ok()?;
        if !spec.exports.iter().any(|e| e == function) {
            return None;
        }
        import(&path, depth).map_err(|e| log(Level::Warn, &format!("skipping the export at {}: {e}", path.display()))).ok()
    })
}

/// The parsed ELF of the export at `path`.
pub(super) fn exported_spec(path: &Path) -> Result<ObjectSpec, LoadError> {
    let elf_fd = open_elf_pin(path)?;
    Ok(ObjectSpec::from_bytes(&read_elf_map(&elf_fd, path)?, &export_name(path))?)
}

fn open_elf_pin(path: &Path) -> Result<OwnedFd, LoadError> {
    let pin = path.join(ELF_PIN);
    sys::obj_get(&pin, 0).map_err(|source| LoadError::Pin { map: "elf".into(), op: "BPF_OBJ_GET", path: pin.display().to_string(), source })
}

/// Names of what resolution looks at, in order: this process's objects, then the exports.
pub(crate) fn looked_at(except: u64) -> Vec<String> {
    let mut names = dynamic::object_names(except);
    names.extend(exports_in_library_path().iter().map(|p| p.display().to_string()));
    names
}

/// What the library path offers for placeholder `function`: the export's name, token and the
/// pinned programs the kernel kept it in.
pub(crate) fn find_exported_placeholder(function: &str) -> Option<(String, u64, Placeholder)> {
    exports_in_library_path().into_iter().find_map(|path| {
        let spec = exported_spec(&path).ok()?;
        if !spec.weak_placeholders.iter().any(|p| p == function) {
            return None;
        }
        let btf = Btf::parse(spec.btf_data.as_deref()?).ok()?;
        let func = btf.find_by_name_kind(function, Kind::Func)?;
        let prog_ids: Vec<u32> = spec
            .programs
            .iter()
            .filter_map(|p| sys::obj_get(&path.join(pin_name("prog", &p.name)), 0).ok())
            .filter(|fd| raw_kernel_func_ids(fd.as_fd()).is_ok_and(|ids| ids.contains(&func)))
            .filter_map(|fd| sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(fd.as_fd()).ok().map(|i| i.id))
            .collect();
        (!prog_ids.is_empty()).then(|| (path.display().to_string(), 0, Placeholder { name: function.to_string(), prog_ids }))
    })
}

fn export_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The image of the export at `path`, shared with other dependents of this process while any
/// holds it; built (parsed, CO-RE relocated, BTF loaded, pinned maps opened) otherwise.
pub(crate) fn import(path: &Path, depth: usize) -> Result<Arc<ProviderImage>, LoadError> {
    let elf_fd = open_elf_pin(path)?;
    let elf_id = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(elf_fd.as_fd()).map_or(0, |i| i.id);
    if let Some(image) = dynamic::imported_image(path, elf_id) {
        return Ok(image);
    }
    if depth > MAX_IMPORT_DEPTH {
        return Err(LoadError::Invalid { what: "export", name: path.display().to_string(), reason: format!("dependencies nest deeper than {MAX_IMPORT_DEPTH} (a cycle?)") });
    }
    let image = Arc::new(build_image(path, &elf_fd, depth)?);
    dynamic::remember_imported(path.to_path_buf(), elf_id, &image);
    log(Level::Info, &format!("imported '{}' exported at {}", image.object, path.display()));
    Ok(image)
}

fn build_image(path: &Path, elf_fd: &OwnedFd, depth: usize) -> Result<ProviderImage, LoadError> {
    let object = path.display().to_string();
    let spec = ObjectSpec::from_bytes(&read_elf_map(elf_fd, path)?, &export_name(path))?;
    let btf_err = |source| LoadError::Btf { object: object.clone(), source };
    let btf = Btf::parse(spec.btf_data.as_deref().ok_or_else(|| LoadError::Invalid {
        what: "export",
        name: object.clone(),
        reason: "the exported object has no BTF".into(),
    })?)
    .map_err(btf_err)?;
    let btf_ext = spec.btf_ext_data.as_deref().map(|d| BtfExt::parse(d, &btf)).transpose().map_err(btf_err)?;
    let mut keepalive = Vec::new();
    let mut maps = Vec::new();
    for m in &spec.maps {
        let Ok(fd) = sys::obj_get(&path.join(pin_name("map", &m.name)), 0) else { continue };
        let id = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd.as_fd()).map_or(0, |i| i.id);
        maps.push(ImageMap { name: m.name.clone(), real_name: m.real_name.clone(), origin: m.origin.clone(), id });
        keepalive.push(fd);
    }
    let deps = import_deps(&spec, &object, depth)?;
    let slots = kconfig::layout(&spec.externs, &btf)?;
    let mut kconfig_scratch = vec![0u8; slots.iter().map(|s| (s.offset + s.size) as usize).max().unwrap_or(0)];
    let functions = deps.iter().map(|(name, _)| (name.clone(), ExternValue::Function { provider_unit: None })).collect();
    let ctx = ExternContext { object: &object, externs: &spec.externs, btf: Some(&btf), extra_kconfig: None, kconfig_data: Some(&mut kconfig_scratch) };
    let resolved = externs::resolve_externs(ctx, &functions)?;
    let fixed = btf_fixup::fixup_for_kernel(&spec, &btf, &slots)?;
    let bytes = fixed.to_bytes_checked().map_err(|source| LoadError::Btf { object: object.clone(), source })?;
    let btf_fd = sys::btf_load(&bytes, None).map_err(|source| LoadError::BtfLoad { object: object.clone(), source, log: String::new() })?;
    let btf_id = sys::obj_get_info_by_fd::<uapi::bpf_btf_info>(btf_fd.as_fd()).map_or(0, |i| i.id);
    keepalive.push(btf_fd);
    let code = relocate_code(&CoreInput { spec: &spec, btf: Some(&btf), btf_ext: btf_ext.as_ref(), btf_custom_path: None }, |_, _| false)?;
    Ok(ProviderImage {
        token: dynamic::new_token(),
        object,
        spec: Arc::new(spec),
        code: Arc::new(code),
        btf: Arc::new(btf),
        btf_ext: btf_ext.map(Arc::new),
        btf_id,
        maps,
        externs: resolved.values.into_iter().filter(|(_, v)| !matches!(v, ExternValue::Function { .. })).collect(),
        deps,
        keepalive,
    })
}

/// The providers of an exported object's extern functions: objects of this process, then the
/// library path.
fn import_deps(spec: &ObjectSpec, object: &str, depth: usize) -> Result<Vec<(String, Arc<ProviderImage>)>, LoadError> {
    let mut deps = Vec::new();
    let mut missing = Vec::new();
    for ext in spec.externs.iter().filter(|e| e.kind == ExternKind::Function) {
        match dynamic::find_provider(&ext.name, 0).or_else(|| find_exported(&ext.name, depth + 1)) {
            Some(image) => deps.push((ext.name.clone(), image)),
            None => missing.push(ext.name.clone()),
        }
    }
    if missing.is_empty() {
        return Ok(deps);
    }
    Err(LoadError::UnresolvedFunctions { object: object.to_string(), names: missing, others: Vec::new(), looked_at: looked_at(0) })
}
