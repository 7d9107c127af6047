//! `Object::load`: the passes, in order, over the opened object.
//!
//! 1. resolve externs (nothing is created before every extern has a value);
//! 2. BTF fix-up and upload (refused BTF: warn and go on without it, like libbpf);
//! 3. CO-RE relocation of the code sections;
//! 4. maps: reuse pinned/reused maps, create the rest (inner map templates, BTF ids), write
//!    and freeze global data, map its fd over the skeleton memory, pin;
//! 5. map-in-map initial slots;
//! 6. per program: link, load (first without a log, then with one), keep the fd;
//! 7. prog-array initial slots.
//!
//! On failure everything created so far is closed, new pins are removed, and the object is
//! left in `LoadFailed`.
use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use crate::btf::{Btf, BtfExt, BtfShift, FuncInfo, Kind, LineInfo};
use crate::log::{log, Level};
use crate::object::{Insn, MapOrigin, MapType, ObjectSpec};
use crate::sys::{self, uapi, KernelLog, MapCreateAttr, ProgLoadAttr, SysError};

use super::error::{LoadError, LIBBPF_ERRNO_FORMAT};
use super::externs::{self, ExternContext, ExternValue, ResolvedExterns};
use super::kconfig::{self, KcfgSlot};
use super::link::{self, LinkContext};
use super::map::Map;
use super::program::Program;
use super::{attach, btf_fixup, dynlink, Object, ObjectState};

/// First verifier log buffer when the caller gave none; grown on `ENOSPC` up to the maximum.
const LOG_BUF_START: usize = 1 << 20;
const LOG_BUF_MAX: usize = 16 << 20;

pub(crate) fn load(obj: &mut Object) -> Result<(), LoadError> {
    if obj.state != ObjectState::Opened {
        return Err(LoadError::AlreadyLoaded { object: obj.name.clone() });
    }
    obj.state = ObjectState::LoadFailed;
    let result = dynlink::plan(obj).and_then(|plan| {
        let (code, externs) = run_passes(obj, &plan)?;
        dynlink::attach(obj, &plan)?;
        dynlink::register(obj, &plan, code, &externs)
    });
    match result {
        Ok(()) => {
            obj.state = ObjectState::Loaded;
            for p in obj.programs.iter_mut().chain(obj.dyn_extensions.iter_mut()) {
                p.loaded = true;
            }
            for m in &mut obj.maps {
                m.loaded = true;
            }
            Ok(())
        }
        Err(err) => {
            undo(obj);
            log(Level::Warn, &format!("object '{}': load failed: {err}", obj.name));
            Err(err)
        }
    }
}

/// Closes every fd the load created and removes the pins it made.
fn undo(obj: &mut Object) {
    // Links first: they hold the extension programs closed below.
    obj.dyn_edges.clear();
    crate::linker::dynamic::unregister(obj.dyn_token);
    obj.dyn_extensions.clear();
    obj.dyn_providers = None;
    for map in &mut obj.maps {
        if map.pinned && !map.reused {
            let _ = map.unpin(None);
        }
        map.fd = None;
        map.loaded = true;
        // libbpf's value memory stays a private, writable copy when a load fails.
        if let Some(region) = map.mmap.as_mut() {
            if let Err(e) = region.make_private() {
                log(Level::Warn, &format!("map '{}': keeping the value memory shared with the closed map: {e}", map.name));
            }
        }
    }
    for prog in &mut obj.programs {
        prog.fd = None;
        prog.loaded = true;
    }
    obj.btf_fd = None;
}

/// The passes; returns the CO-RE-relocated code sections and the extern values (kept in the
/// image other objects link against).
fn run_passes(obj: &mut Object, plan: &dynlink::Plan) -> Result<(HashMap<u32, Vec<Insn>>, ResolvedExterns), LoadError> {
    obj.dyn_providers = dynlink::open_providers(plan)?;
    let functions = dynlink::function_values(plan, obj.dyn_providers.as_ref());
    let (resolved, kconfig_slots) = resolve_externs(obj, &functions)?;
    let shifts = load_btf(obj, &kconfig_slots, dynlink::needs_imports(obj, plan))?;
    let section_insns = relocate_core(obj)?;
    create_maps(obj)?;
    fill_map_in_map_slots(obj)?;
    load_programs(obj, &resolved, &section_insns, &shifts)?;
    fill_prog_array_slots(obj)?;
    Ok((section_insns, resolved))
}

// ------------------------------------------------------------------------- pass 1: externs

fn resolve_externs(obj: &mut Object, functions: &HashMap<String, ExternValue>) -> Result<(ResolvedExterns, Vec<KcfgSlot>), LoadError> {
    let kconfig_slots = match &obj.btf {
        Some(btf) => kconfig::layout(&obj.spec.externs, btf)?,
        None => Vec::new(),
    };
    let kconfig_data = obj
        .maps
        .iter_mut()
        .find(|m| m.origin == MapOrigin::Kconfig && m.autocreate)
        .and_then(|m| m.mmap.as_mut())
        .and_then(|r| r.bytes_mut());
    let ctx = ExternContext {
        object: &obj.name,
        externs: &obj.spec.externs,
        btf: obj.btf.as_ref(),
        extra_kconfig: obj.opts.kconfig.as_deref(),
        kconfig_data,
    };
    let resolved = externs::resolve_externs(ctx, functions)?;
    Ok((resolved, kconfig_slots))
}

// ------------------------------------------------------------------------- pass 2: BTF

/// Uploads the fixed-up BTF; with `with_providers`, the providers' BTF is appended (imported
/// code's func_info/line_info refer to it) and their shifts returned.
fn load_btf(obj: &mut Object, kconfig_slots: &[KcfgSlot], with_providers: bool) -> Result<Vec<BtfShift>, LoadError> {
    let Some(btf) = &obj.btf else { return Ok(Vec::new()) };
    let mut fixed = btf_fixup::fixup_for_kernel(&obj.spec, btf, kconfig_slots)?;
    let shifts = match (&obj.dyn_providers, with_providers) {
        (Some(providers), true) => providers.append_btfs(&mut fixed)?,
        _ => Vec::new(),
    };
    let bytes = fixed.to_bytes_checked().map_err(|source| LoadError::Btf { object: obj.name.clone(), source })?;
    match sys::btf_load(&bytes, None) {
        Ok(fd) => {
            obj.btf_fd = Some(fd);
            Ok(shifts)
        }
        Err(first) => {
            let mut buf = vec![0u8; LOG_BUF_START];
            let mut klog = KernelLog::new(1, &mut buf);
            let source = match sys::btf_load(&bytes, Some(&mut klog)) {
                Ok(fd) => {
                    obj.btf_fd = Some(fd);
                    return Ok(shifts);
                }
                Err(e) => e,
            };
            let text = klog.text().into_owned();
            let err = LoadError::BtfLoad { object: obj.name.clone(), source, log: text.clone() };
            if needs_btf(obj) || !shifts.is_empty() {
                return Err(err);
            }
            log(Level::Warn, &format!("{err}; BTF is optional, continuing without it (first attempt: {first})"));
            obj.btf_log = text;
            Ok(Vec::new())
        }
    }
}

/// Whether the load can't go on without the object's BTF in the kernel: struct_ops, programs
/// that attach to BTF functions (extensions, tracing, LSM), calls into other objects (stubs are
/// BTF-described global functions), libraries (extensions of their functions need it).
fn needs_btf(obj: &Object) -> bool {
    use uapi::bpf_prog_type as pt;
    let btf_types = [pt::BPF_PROG_TYPE_STRUCT_OPS, pt::BPF_PROG_TYPE_EXT, pt::BPF_PROG_TYPE_TRACING, pt::BPF_PROG_TYPE_LSM];
    obj.programs.iter().filter(|p| p.autoload).chain(obj.dyn_extensions.iter()).any(|p| btf_types.contains(&p.prog_type.0))
        || obj.dyn_providers.is_some()
        || obj.programs.iter().any(|p| p.library)
}

// ------------------------------------------------------------------------- pass 3: CO-RE

/// Copies of the code sections' instructions, CO-RE relocated. Like libbpf, code of programs
/// that won't be loaded is left alone (a library's functions are relocated: other objects
/// load them).
fn relocate_core(obj: &Object) -> Result<HashMap<u32, Vec<Insn>>, LoadError> {
    let skipped: Vec<(u32, usize, usize)> = obj
        .programs
        .iter()
        .filter(|p| !p.autoload && !p.library)
        .map(|p| (p.section_index, p.insn_start, p.insn_start + p.own_insns.len()))
        .collect();
    let code = CoreInput { spec: &obj.spec, btf: obj.btf.as_ref(), btf_ext: obj.btf_ext.as_ref(), btf_custom_path: obj.opts.btf_custom_path.as_deref() };
    relocate_code(&code, |section, i| skipped.iter().any(|&(s, start, end)| s == section && (start..end).contains(&i)))
}

/// What CO-RE relocation of an object's code needs.
pub(super) struct CoreInput<'a> {
    pub spec: &'a ObjectSpec,
    pub btf: Option<&'a Btf>,
    pub btf_ext: Option<&'a BtfExt>,
    pub btf_custom_path: Option<&'a std::path::Path>,
}

/// Copies of the code sections' instructions, CO-RE relocated against the kernel's BTF (or the
/// custom one), except instructions `skip(section, index)` says to leave alone.
pub(super) fn relocate_code(code: &CoreInput<'_>, skip: impl Fn(u32, usize) -> bool) -> Result<HashMap<u32, Vec<Insn>>, LoadError> {
    let spec = code.spec;
    let mut sections: HashMap<u32, Vec<Insn>> = spec.sections.iter().filter(|s| !s.insns.is_empty()).map(|s| (s.index, s.insns.clone())).collect();
    let Some(relos) = code.btf_ext.and_then(|e| e.core_relo.as_ref()) else { return Ok(sections) };
    let Some(local) = code.btf else { return Ok(sections) };
    if relos.sections.iter().all(|s| s.records.is_empty()) {
        return Ok(sections);
    }
    let core_err = |section: &str, e: super::core::CoreError| LoadError::Core {
        program: section.to_string(),
        what: e.to_string(),
        errno: e.errno(),
    };
    let target = super::core::load_target_btf(code.btf_custom_path).map_err(|e| core_err(&spec.name, e))?;
    let mut cache = super::core::CandidateCache::default();
    for block in relos.sections.iter().filter(|s| !s.records.is_empty()) {
        let Some(section) = spec.section_by_name(&block.sec_name) else {
            return Err(LoadError::Core {
                program: block.sec_name.clone(),
                what: "CO-RE relocations for a section the object does not have".into(),
                errno: LIBBPF_ERRNO_FORMAT,
            });
        };
        let index = section.index;
        let Some(insns) = sections.get_mut(&index) else { continue };
        super::core::relocate_section_where(local, &target, &block.sec_name, &block.records, insns, &mut cache, |i| !skip(index, i))
            .map_err(|e| core_err(&block.sec_name, e))?;
    }
    Ok(sections)
}

// ------------------------------------------------------------------------- pass 4: maps

fn map_err<'m>(map: &'m str, op: &'static str) -> impl Fn(SysError) -> LoadError + 'm {
    move |source| LoadError::Map { map: map.to_string(), op, source }
}

fn create_maps(obj: &mut Object) -> Result<(), LoadError> {
    let btf_fd = obj.btf_fd.as_ref().map(|fd| fd.as_fd());
    for map in &mut obj.maps {
        if !map.autocreate {
            continue;
        }
        if map.pin_path.is_some() && !map.reused {
            reuse_pinned(map)?;
        }
        if !map.reused {
            let fd = create_map(map, btf_fd)?;
            map.fd = Some(fd);
        }
        if map.mmap.is_some() {
            populate_internal(map)?;
        }
        if let (Some(_), false) = (&map.pin_path, map.pinned) {
            map.pin(None)?;
        }
    }
    Ok(())
}

/// Adopts the map pinned at the pin path if it exists and matches (libbpf's
/// `bpf_object__reuse_map`); a missing pin is not an error.
fn reuse_pinned(map: &mut Map) -> Result<(), LoadError> {
    let Some(path) = map.pin_path.clone() else { return Ok(()) };
    let fd = match sys::obj_get(&path, 0) {
        Ok(fd) => fd,
        Err(e) if e.is(libc::ENOENT) => return Ok(()),
        Err(source) => {
            return Err(LoadError::Pin { map: map.name.clone(), op: "BPF_OBJ_GET", path: path.display().to_string(), source })
        }
    };
    let info = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd.as_fd()).map_err(map_err(&map.name, "reading the pinned map's info"))?;
    let mismatch = [
        ("type", info.type_, map.map_type.0),
        ("key_size", info.key_size, map.key_size),
        ("value_size", info.value_size, map.value_size),
        ("max_entries", info.max_entries, map.max_entries),
        ("map_flags", info.map_flags, map.map_flags),
    ]
    .into_iter()
    .filter(|(_, pinned, ours)| pinned != ours)
    .map(|(what, pinned, ours)| format!("{what} {pinned} (pinned) != {ours}"))
    .chain((info.map_extra != map.map_extra).then(|| format!("map_extra {} (pinned) != {}", info.map_extra, map.map_extra)))
    .collect::<Vec<_>>();
    if !mismatch.is_empty() {
        return Err(LoadError::PinnedMapMismatch { map: map.name.clone(), path: path.display().to_string(), what: mismatch.join(", ") });
    }
    map.fd = Some(fd);
    map.reused = true;
    map.pinned = true;
    Ok(())
}

/// Map types whose values are kernel objects or that have no value type: libbpf creates them
/// without BTF key/value types (the kernel refuses those).
fn takes_btf_types(map_type: MapType) -> bool {
    use uapi::bpf_map_type as mt;
    !matches!(
        map_type.0,
        mt::BPF_MAP_TYPE_PERF_EVENT_ARRAY
            | mt::BPF_MAP_TYPE_CGROUP_ARRAY
            | mt::BPF_MAP_TYPE_STACK_TRACE
            | mt::BPF_MAP_TYPE_ARRAY_OF_MAPS
            | mt::BPF_MAP_TYPE_HASH_OF_MAPS
            | mt::BPF_MAP_TYPE_DEVMAP
            | mt::BPF_MAP_TYPE_DEVMAP_HASH
            | mt::BPF_MAP_TYPE_CPUMAP
            | mt::BPF_MAP_TYPE_XSKMAP
            | mt::BPF_MAP_TYPE_SOCKMAP
            | mt::BPF_MAP_TYPE_SOCKHASH
            | mt::BPF_MAP_TYPE_QUEUE
            | mt::BPF_MAP_TYPE_STACK
    )
}

fn create_attr<'a>(map: &'a Map, btf_fd: Option<BorrowedFd<'a>>, inner: Option<BorrowedFd<'a>>) -> MapCreateAttr<'a> {
    let with_btf = btf_fd.is_some() && map.btf_value_type_id != 0 && takes_btf_types(map.map_type);
    MapCreateAttr {
        map_type: map.map_type.0,
        key_size: map.key_size,
        value_size: map.value_size,
        max_entries: map.max_entries,
        map_flags: map.map_flags,
        name: &map.name,
        btf_fd: if with_btf { btf_fd } else { None },
        btf_key_type_id: if with_btf { map.btf_key_type_id } else { 0 },
        btf_value_type_id: if with_btf { map.btf_value_type_id } else { 0 },
        inner_map_fd: inner,
        map_extra: map.map_extra,
        ifindex: map.ifindex,
        numa_node: map.numa_node,
        ..Default::default()
    }
}

/// Creates a map (its inner map template first); retries without BTF ids if the kernel
/// refuses them, like libbpf.
fn create_map(map: &Map, btf_fd: Option<BorrowedFd<'_>>) -> Result<OwnedFd, LoadError> {
    let inner_fd = match &map.inner {
        Some(inner) => Some(create_map(inner, btf_fd)?),
        None => None,
    };
    let inner = inner_fd.as_ref().map(|fd| fd.as_fd());
    let mut attr = create_attr(map, btf_fd, inner);
    match sys::map_create(&attr) {
        Ok(fd) => Ok(fd),
        Err(first) if attr.btf_fd.is_some() => {
            attr.btf_fd = None;
            attr.btf_key_type_id = 0;
            attr.btf_value_type_id = 0;
            let fd = sys::map_create(&attr).map_err(map_err(&map.name, "BPF_MAP_CREATE"))?;
            log(Level::Warn, &format!("map '{}': the kernel refused its BTF ({first}); created without BTF", map.name));
            Ok(fd)
        }
        Err(source) => Err(LoadError::Map { map: map.name.clone(), op: "BPF_MAP_CREATE", source }),
    }
}

/// Global data: value written (unless the map was reused), read-only maps frozen, and the
/// map's memory mapped over the skeleton region when mmapable.
fn populate_internal(map: &mut Map) -> Result<(), LoadError> {
    let fd = map.fd.as_ref().ok_or_else(|| LoadError::Invalid { what: "map", name: map.name.clone(), reason: "no fd".into() })?;
    let region = map.mmap.as_mut().ok_or_else(|| LoadError::Invalid { what: "map", name: map.name.clone(), reason: "no value memory".into() })?;
    if !map.reused {
        sys::map_update_elem(fd.as_fd(), &0u32.to_ne_bytes(), region.bytes(), 0).map_err(map_err(&map.name, "writing the initial value"))?;
        if map.readonly {
            sys::map_freeze(fd.as_fd()).map_err(map_err(&map.name, "BPF_MAP_FREEZE"))?;
        }
    }
    if map.map_flags & uapi::BPF_F_MMAPABLE != 0 {
        let writable = map.map_flags & uapi::BPF_F_RDONLY_PROG == 0;
        region
            .map_fd_in_place(fd.as_fd(), writable)
            .map_err(|source| LoadError::Mmap { map: map.name.clone(), op: "mmap of the map over its initial value", source })?;
    }
    // A map the kernel can't mmap keeps its private copy of the initial value: libbpf's
    // bpf_map__initial_value still returns it after load.
    Ok(())
}

// ------------------------------------------------------------------------- pass 5: slots

fn fill_map_in_map_slots(obj: &Object) -> Result<(), LoadError> {
    for map in obj.maps.iter().filter(|m| m.map_type.is_map_in_map() && !m.initial_slots.is_empty() && !m.reused) {
        let Some(fd) = map.fd() else { continue };
        for slot in &map.initial_slots {
            let target = obj.maps.iter().find(|m| m.real_name == slot.target || m.name == slot.target);
            let target_fd = target.and_then(|t| t.fd()).ok_or_else(|| LoadError::Invalid {
                what: "map",
                name: map.name.clone(),
                reason: format!("slot [{}] refers to map '{}', which was not created", slot.index, slot.target),
            })?;
            let value = (target_fd.as_raw_fd() as u32).to_ne_bytes();
            sys::map_update_elem(fd, &slot.index.to_ne_bytes(), &value, 0).map_err(map_err(&map.name, "filling a map-in-map slot"))?;
        }
    }
    Ok(())
}

fn fill_prog_array_slots(obj: &Object) -> Result<(), LoadError> {
    for map in obj.maps.iter().filter(|m| m.map_type == MapType::PROG_ARRAY && !m.initial_slots.is_empty()) {
        let Some(fd) = map.fd() else { continue };
        for slot in &map.initial_slots {
            let prog = obj.programs.iter().find(|p| p.name == slot.target);
            let prog_fd = prog.and_then(|p| p.fd()).ok_or_else(|| LoadError::Invalid {
                what: "map",
                name: map.name.clone(),
                reason: format!("slot [{}] refers to program '{}', which was not loaded", slot.index, slot.target),
            })?;
            let value = (prog_fd.as_raw_fd() as u32).to_ne_bytes();
            sys::map_update_elem(fd, &slot.index.to_ne_bytes(), &value, 0).map_err(map_err(&map.name, "filling a prog-array slot"))?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------- pass 6: programs

fn load_programs(obj: &mut Object, resolved: &ResolvedExterns, section_insns: &HashMap<u32, Vec<Insn>>, shifts: &[BtfShift]) -> Result<(), LoadError> {
    let spec = &obj.spec;
    let mut own = LinkContext::new(spec, section_insns, resolved, 0);
    own.btf_ext = if obj.btf_fd.is_some() { obj.btf_ext.as_ref() } else { None };
    for map in &obj.maps {
        own.add_map(&map.name, &map.real_name, &map.origin, map.fd().map(|fd| fd.as_raw_fd()));
    }
    let mut units = vec![own];
    if let Some(providers) = &obj.dyn_providers {
        units.extend(providers.contexts(shifts));
    }
    let license = CString::new(spec.license.clone().unwrap_or_default()).unwrap_or_default();
    let kern_version = spec.kernel_version.unwrap_or(0);
    let btf_fd = obj.btf_fd.as_ref().map(|fd| fd.as_fd());
    let ext_btf = obj.btf.as_ref();
    // Like libbpf, every program is linked before any is loaded, so a failed load still
    // leaves each program's linked instructions visible (bpf_program__insns/insn_cnt).
    let programs = obj.programs.iter_mut().filter(|p| p.autoload).chain(obj.dyn_extensions.iter_mut());
    let mut linked_all = Vec::new();
    for prog in programs {
        let mut linked = link::link_program(&units, dynlink::calls_for(prog), &prog.name, prog.section_index, prog.insn_start)?;
        prog.linked_insns = std::mem::take(&mut linked.insns);
        prog.stubs = std::mem::take(&mut linked.stubs);
        prog.imports = std::mem::take(&mut linked.imports);
        linked_all.push((prog, linked));
    }
    for (prog, linked) in linked_all {
        if prog.prog_type.0 == uapi::bpf_prog_type::BPF_PROG_TYPE_UNSPEC {
            return Err(LoadError::Invalid {
                what: "program",
                name: prog.name.clone(),
                reason: format!("missing BPF program type, check ELF section name '{}'", prog.section_name),
            });
        }
        let attach_btf_id = resolve_attach_btf_id(prog, ext_btf)?;
        prog.linked_funcs = linked_function_names(ext_btf, &linked.func_info);
        let insns = std::mem::take(&mut prog.linked_insns);
        let result = load_program(prog, &insns, &linked.func_info, &linked.line_info, btf_fd, &license, kern_version, attach_btf_id);
        prog.linked_insns = insns;
        prog.attach_btf_id = attach_btf_id;
        prog.fd = Some(result?);
    }
    Ok(())
}

/// Names of the BTF functions a linked program contains (one func_info record each).
fn linked_function_names(btf: Option<&Btf>, func_info: &[FuncInfo]) -> Vec<String> {
    let Some(btf) = btf else { return Vec::new() };
    func_info.iter().filter_map(|f| btf.type_name(f.type_id).ok()).map(str::to_string).collect()
}

/// BTF id of the attach target of tracing/LSM/EXT programs: a FUNC of the target program's
/// BTF (EXT, or with `set_attach_target(prog_fd, ..)`), else a vmlinux type named after the
/// section's target with libbpf's prefixes. Errors carry libbpf's errno for the same case.
pub(super) fn resolve_attach_btf_id(prog: &Program, ext_btf: Option<&Btf>) -> Result<u32, LoadError> {
    use uapi::bpf_attach_type as at;
    use uapi::bpf_prog_type as pt;
    if prog.attach_btf_id != 0 || !matches!(prog.prog_type.0, pt::BPF_PROG_TYPE_TRACING | pt::BPF_PROG_TYPE_LSM | pt::BPF_PROG_TYPE_EXT) {
        return Ok(prog.attach_btf_id);
    }
    let fail = |errno: i32, what: String| LoadError::AttachTarget { program: prog.name.clone(), what, errno };
    let Some(name) = prog.attach_func_name.clone().or_else(|| prog.attach_target.clone()) else {
        return Err(fail(libc::EINVAL, "no BTF-based attach target is specified, use bpf_program__set_attach_target()".into()));
    };
    if let Some(target) = &prog.attach_prog_fd {
        let func = attach::find_target_func(target.as_fd(), &name).map_err(|(errno, what)| fail(errno, what))?;
        if prog.prog_type.0 == pt::BPF_PROG_TYPE_EXT {
            check_extension_prototype(prog, ext_btf, &func)?;
        }
        return Ok(func.id);
    }
    if prog.prog_type.0 == pt::BPF_PROG_TYPE_EXT {
        return Err(fail(libc::EINVAL, "attach program FD is not set (freplace needs set_attach_target)".into()));
    }
    let vmlinux = externs::vmlinux_btf().map_err(|e| fail(libc::ESRCH, format!("vmlinux BTF: {e}")))?;
    let (full, kind) = match prog.expected_attach_type.0 {
        at::BPF_TRACE_RAW_TP => (format!("btf_trace_{name}"), Kind::Typedef),
        at::BPF_LSM_MAC | at::BPF_LSM_CGROUP => (format!("bpf_lsm_{name}"), Kind::Func),
        at::BPF_TRACE_ITER => (format!("bpf_iter_{name}"), Kind::Func),
        _ => (name.clone(), Kind::Func),
    };
    vmlinux
        .find_by_name_kind(&full, kind)
        .ok_or_else(|| fail(libc::ESRCH, format!("failed to find kernel BTF type ID of '{full}'")))
}

/// An extension must fit the function it replaces; checked here so that a mismatch is
/// reported with both prototypes instead of a verifier log line (or not at all: the kernel
/// doesn't compare struct sizes). Without BTF for the extension the kernel refuses it anyway.
fn check_extension_prototype(prog: &Program, ext_btf: Option<&Btf>, target: &attach::TargetFunc) -> Result<(), LoadError> {
    let Some(ext) = ext_btf else { return Ok(()) };
    let Some(ext_id) = attach::ext_func_id(ext, &prog.name) else { return Ok(()) };
    attach::check_prototypes(ext, ext_id, &target.btf, target.id)
        .map_err(|reason| attach::prototype_error(&prog.name, ext, ext_id, target, reason))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn load_program(
    prog: &mut Program,
    insns: &[Insn],
    func_info: &[FuncInfo],
    line_info: &[LineInfo],
    btf_fd: Option<BorrowedFd<'_>>,
    license: &CString,
    kern_version: u32,
    attach_btf_id: u32,
) -> Result<OwnedFd, LoadError> {
    let kernel_insns = link::to_kernel_insns(insns);
    let func_info_bytes = if btf_fd.is_some() { link::func_info_bytes(func_info) } else { Vec::new() };
    let line_info_bytes = if btf_fd.is_some() { link::line_info_bytes(line_info) } else { Vec::new() };
    let name = sys::sanitize_obj_name(&prog.name);
    let attr = ProgLoadAttr {
        prog_type: prog.prog_type.0,
        expected_attach_type: prog.expected_attach_type.0,
        insns: &kernel_insns,
        license,
        kern_version,
        prog_flags: prog.flags,
        name: &name,
        ifindex: prog.ifindex,
        prog_btf_fd: btf_fd,
        func_info: &func_info_bytes,
        func_info_rec_size: 8,
        line_info: &line_info_bytes,
        line_info_rec_size: 16,
        attach_btf_id,
        attach_prog_fd: prog.attach_prog_fd.as_ref().map(|fd| fd.as_fd()),
        ..Default::default()
    };
    // The caller's buffer size is fixed; our own buffer grows on ENOSPC.
    let own_buffer = prog.log_size.is_none();
    let mut level = prog.log_level;
    let mut size = prog.log_size.unwrap_or(LOG_BUF_START).max(128);
    loop {
        if level == 0 {
            match sys::prog_load(&attr, None) {
                Ok(fd) => return Ok(fd),
                Err(_) => {
                    level = 1;
                    continue;
                }
            }
        }
        let mut buf = vec![0u8; size];
        let mut klog = KernelLog::new(level, &mut buf);
        let result = sys::prog_load(&attr, Some(&mut klog));
        let text = klog.text().into_owned();
        prog.log = text.clone().into_bytes();
        prog.log.push(0);
        match result {
            Ok(fd) => return Ok(fd),
            Err(e) if e.is(libc::ENOSPC) && own_buffer && size < LOG_BUF_MAX => size *= 4,
            Err(source) => {
                let summary = summarize(&prog.name, &source, &text);
                log(Level::Warn, &summary);
                if own_buffer && !text.is_empty() {
                    log(Level::Warn, &format!("prog '{}': -- BEGIN PROG LOAD LOG --\n{text}-- END PROG LOAD LOG --", prog.name));
                }
                return Err(LoadError::ProgLoad { program: prog.name.clone(), source, summary, log: text });
            }
        }
    }
}

/// One line: the program, the errno, and the last line of the log that says something (the
/// verifier ends with statistics lines).
fn summarize(program: &str, source: &SysError, log: &str) -> String {
    let reason = log
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| {
            !l.is_empty()
                && !l.starts_with("processed ")
                && !l.starts_with("verification time")
                && !l.starts_with("stack depth")
                && !l.starts_with("-- END")
        })
        .unwrap_or("(no verifier log)");
    format!("program '{program}': {source}: {reason}")
}
