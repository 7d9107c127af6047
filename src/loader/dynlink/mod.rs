//! The dynamic linker's part of a load (issue 5), standard C style: a non-static function is
//! exported, `extern` imports, `__weak` marks a replaceable placeholder.
//!
//! Before the load passes, [`plan`] resolves against the objects this process loaded
//! ([`crate::linker::dynamic`], newest first): every extern function the object calls is
//! bound to the loaded object exporting it, and every strong definition matching a loaded
//! object's weak placeholder becomes an EXT program aimed at it. During the passes, calls to
//! bound functions become calls to a stub (ordinary programs) or imported code (extension
//! programs; the kernel refuses an extension of an extension), see [`super::link`]. After
//! them, [`attach`] links the replacements into every program holding the placeholder and the
//! providers' functions (each loaded once per program type as an EXT) into the callers'
//! stubs, and [`register`] offers the object's own placeholders and exports to later loads.
//!
//! Ownership is one-way: the dependent object owns the links and holds its providers' maps
//! and BTF; providers and targets track nothing. Dropping the dependent restores the
//! placeholders and stubs.
mod export;
mod ext;
mod plan;
mod system;
mod units;

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::sync::Arc;

use crate::btf::Kind;
use crate::linker::dynamic::{self, Edge, EdgeKind, ImageMap, LoadedObject, Mechanism, Placeholder, ProviderImage};
use crate::log::{log, Level};
use crate::object::Insn;
use crate::sys::{self, uapi};

use super::attach::Link;
use super::error::LoadError;
use super::externs::{ExternValue, ResolvedExterns};
use super::link::DynamicCalls;
use super::program::Program;
use super::Object;

pub(crate) use plan::{plan, ExtSlot, Plan};
pub(crate) use units::ImportSet;
pub use export::remove_export;
pub use system::system_graph;

/// A dependency this object realised in the kernel, with the link that keeps it (None for an
/// import: the code lives in the object's own program).
#[derive(Debug)]
pub struct DynamicEdge {
    pub link: Option<Link>,
    pub edge: Edge,
}

/// How a program's calls to other loaded objects are realised: extension and tracing
/// programs can't be extended (the kernel refuses "recursive" attachment), so they import.
pub(crate) fn calls_for(prog: &Program) -> DynamicCalls {
    use uapi::bpf_prog_type as pt;
    match prog.prog_type.0 {
        pt::BPF_PROG_TYPE_EXT | pt::BPF_PROG_TYPE_TRACING => DynamicCalls::Import,
        _ => DynamicCalls::Stub,
    }
}

/// The providers the load links against, opened (maps, BTF) as link units 1.. (unit 0 is the
/// object itself); None when the object calls no other object.
pub(crate) fn open_providers(plan: &Plan) -> Result<Option<ImportSet>, LoadError> {
    if plan.bindings.is_empty() {
        return Ok(None);
    }
    ImportSet::closure(plan.bindings.iter().map(|(_, image)| image), 1).map(Some)
}

/// Values of the object's extern functions for the extern pass: each bound to its provider's
/// link unit (for imports).
pub(crate) fn function_values(plan: &Plan, providers: Option<&ImportSet>) -> HashMap<String, ExternValue> {
    plan.bindings
        .iter()
        .map(|(name, image)| (name.clone(), ExternValue::Function { provider_unit: providers.and_then(|p| p.unit_of(image.token)) }))
        .collect()
}

/// Whether some program of the object will import code (so its BTF must hold the providers').
pub(crate) fn needs_imports(obj: &Object, plan: &Plan) -> bool {
    !plan.bindings.is_empty()
        && obj.programs.iter().filter(|p| p.autoload).chain(obj.dyn_extensions.iter()).any(|p| calls_for(p) == DynamicCalls::Import)
}

/// After the programs are loaded: links each replacement into every program containing its
/// placeholder, each provider's function into the stubs calling it, and records imports. The
/// links go into `obj.dyn_edges` (dropped with the object).
pub(crate) fn attach(obj: &mut Object, plan: &Plan) -> Result<(), LoadError> {
    for replacement in &plan.replacements {
        link_replacement(obj, replacement)?;
    }
    link_stubs(obj, plan)?;
    record_imports(obj, plan)
}

fn slot_program(obj: &Object, slot: ExtSlot) -> Option<&Program> {
    match slot {
        ExtSlot::Program(i) => obj.programs.get(i),
        ExtSlot::Extension(i) => obj.dyn_extensions.get(i),
    }
}

fn link_replacement(obj: &mut Object, plan: &plan::Replacement) -> Result<(), LoadError> {
    let Some(prog) = slot_program(obj, plan.slot) else { return Ok(()) };
    let Some(ext_fd) = prog.fd() else { return Ok(()) };
    let ext_id = ext::prog_id(ext_fd)?;
    let mut edges = Vec::new();
    for &target_id in &plan.placeholder.prog_ids {
        let Some(target_fd) = plan::live_program(target_id)? else {
            log(Level::Warn, &format!("'{}': program id {target_id} of '{}' is gone; not replaced there", plan.function, plan.target_object));
            continue;
        };
        let link = ext::link_replacement(prog, obj.btf.as_ref(), target_fd.as_fd(), target_id, &plan.target_object)?;
        let edge = Edge {
            kind: EdgeKind::Replace,
            mechanism: Mechanism::Freplace,
            function: plan.function.clone(),
            from_token: obj.dyn_token,
            from: obj.name.clone(),
            to_token: plan.target_token,
            to: plan.target_object.clone(),
            ext_prog_id: ext_id,
            target_prog_id: target_id,
            link_id: ext::link_id(&link)?,
        };
        log(
            Level::Info,
            &format!(
                "replaced {} in {} (prog id {}) with {}'s definition (EXT prog id {}), link id {}",
                edge.function, edge.to, edge.target_prog_id, edge.from, edge.ext_prog_id, edge.link_id
            ),
        );
        dynamic::record_edge(edge.clone());
        edges.push(DynamicEdge { link: Some(link), edge });
    }
    obj.dyn_edges.extend(edges);
    Ok(())
}

/// Links the provider's function into every stub of every loaded program of the object.
fn link_stubs(obj: &mut Object, plan: &Plan) -> Result<(), LoadError> {
    let mut edges = Vec::new();
    for prog in obj.programs.iter().filter(|p| !p.stubs.is_empty()) {
        let Some(prog_fd) = prog.fd() else { continue };
        let caller_id = ext::prog_id(prog_fd)?;
        let kept = kernel_func_ids(prog_fd)?;
        for stub in &prog.stubs {
            if !kept.contains(&stub.btf_id) {
                // Since 6.8 the verifier drops global functions no path reaches.
                log(Level::Info, &format!("program '{}': its call to '{}' is unreachable (the verifier dropped the stub); nothing to link", prog.name, stub.name));
                continue;
            }
            let image = plan.provider(&stub.name).ok_or_else(|| LoadError::Link {
                program: prog.name.clone(),
                what: format!("stub '{}' has no provider", stub.name),
            })?;
            let ext_fd = ext::provider_ext(image, &stub.name, prog, stub)?;
            let link = ext::link_ext(ext_fd.as_fd(), prog_fd, stub.btf_id, &stub.name, |_| {
                format!("the stub for '{}' in program '{}' (prog id {caller_id})", stub.name, prog.name)
            })?;
            let edge = call_edge(obj, image, &stub.name, Mechanism::Stub, ext::prog_id(ext_fd.as_fd())?, caller_id, ext::link_id(&link)?);
            log(
                Level::Info,
                &format!(
                    "linked {}'s {} (EXT prog id {}) into program {} of {} (prog id {}), link id {}",
                    edge.to, edge.function, edge.ext_prog_id, prog.name, edge.from, caller_id, edge.link_id
                ),
            );
            dynamic::record_edge(edge.clone());
            edges.push(DynamicEdge { link: Some(link), edge });
        }
    }
    obj.dyn_edges.extend(edges);
    Ok(())
}

fn call_edge(obj: &Object, provider: &ProviderImage, function: &str, mechanism: Mechanism, ext_prog_id: u32, target_prog_id: u32, link_id: u32) -> Edge {
    Edge {
        kind: EdgeKind::Call,
        mechanism,
        function: function.to_string(),
        from_token: obj.dyn_token,
        from: obj.name.clone(),
        to_token: provider.token,
        to: provider.object.clone(),
        ext_prog_id,
        target_prog_id,
        link_id,
    }
}

/// Edges for code imported into the object's own extension programs; a binding no loaded
/// program realised (a library's: imported when its functions are loaded for a caller) is
/// listed with no kernel ids.
fn record_imports(obj: &mut Object, plan: &Plan) -> Result<(), LoadError> {
    let Some(providers) = obj.dyn_providers.as_ref() else { return Ok(()) };
    let mut edges = Vec::new();
    for prog in obj.programs.iter().chain(obj.dyn_extensions.iter()) {
        let Some(fd) = prog.fd() else { continue };
        for import in &prog.imports {
            let Some(image) = providers.image(import.unit) else { continue };
            let mut edge = call_edge(obj, image, &import.function, Mechanism::Import, ext::prog_id(fd)?, 0, 0);
            if let Some(caller) = providers.image(import.caller_unit) {
                // Imported for code this program imported from another provider.
                edge.from = caller.object.clone();
            }
            edges.push(edge);
        }
    }
    let realised = |name: &str, edges: &[Edge]| obj.dyn_edges.iter().any(|e| e.edge.function == name) || edges.iter().any(|e| e.function == name);
    for (name, image) in &plan.bindings {
        if !realised(name, &edges) {
            edges.push(call_edge(obj, image, name, Mechanism::Import, 0, 0, 0));
        }
    }
    for edge in edges {
        dynamic::record_edge(edge.clone());
        obj.dyn_edges.push(DynamicEdge { link: None, edge });
    }
    Ok(())
}

/// After a successful load: records the object's placeholders (the loaded programs that
/// contain each, warning about ones the verifier dropped as unreachable), its exports and
/// the image other objects link against.
pub(crate) fn register(obj: &mut Object, plan: &Plan, code: HashMap<u32, Vec<Insn>>, externs: &ResolvedExterns) -> Result<(), LoadError> {
    let placeholders = obj.spec.weak_placeholders.iter().map(|name| placeholder(obj, name)).collect::<Result<_, _>>()?;
    let image = provider_image(obj, plan, code, externs)?.map(Arc::new);
    let prog_ids = obj.programs.iter().chain(obj.dyn_extensions.iter()).filter_map(|p| p.fd()).map(ext::prog_id).collect::<Result<_, _>>()?;
    dynamic::register(LoadedObject {
        token: obj.dyn_token,
        name: obj.name.clone(),
        placeholders,
        exports: obj.spec.exports.clone(),
        image,
        prog_ids,
    });
    Ok(())
}

fn placeholder(obj: &Object, name: &str) -> Result<Placeholder, LoadError> {
    let func_id = obj.btf.as_ref().and_then(|b| b.find_by_name_kind(name, Kind::Func));
    let mut prog_ids = Vec::new();
    for prog in obj.programs.iter().filter(|p| p.linked_funcs.iter().any(|f| f == name)) {
        let Some(fd) = prog.fd() else { continue };
        if let Some(id) = func_id {
            if !kernel_func_ids(fd)?.contains(&id) {
                log(
                    Level::Warn,
                    &format!(
                        "object '{}': placeholder '{name}' is unreachable in program '{}' and was dropped by the verifier; \
                         it can't be replaced there (call it unconditionally to keep it)",
                        obj.name, prog.name
                    ),
                );
                continue;
            }
        }
        prog_ids.push(ext::prog_id(fd)?);
    }
    Ok(Placeholder { name: name.to_string(), prog_ids })
}

/// What later objects link against, when the object exports functions and its BTF is in the
/// kernel (extensions need it).
fn provider_image(obj: &Object, plan: &Plan, code: HashMap<u32, Vec<Insn>>, externs: &ResolvedExterns) -> Result<Option<ProviderImage>, LoadError> {
    if obj.spec.exports.is_empty() {
        return Ok(None);
    }
    let (Some(btf), Some(btf_fd)) = (obj.btf.as_ref(), obj.btf_fd.as_ref()) else {
        log(Level::Warn, &format!("object '{}': its functions can't be offered to other objects without BTF in the kernel", obj.name));
        return Ok(None);
    };
    let btf_id = sys::obj_get_info_by_fd::<uapi::bpf_btf_info>(btf_fd.as_fd()).map_err(LoadError::kernel("reading the object's BTF id"))?.id;
    let mut maps = Vec::new();
    for m in &obj.maps {
        let Some(fd) = m.fd() else { continue };
        let id = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd).map_err(LoadError::kernel(format!("reading the id of map '{}'", m.name)))?.id;
        maps.push(ImageMap { name: m.name.clone(), real_name: m.real_name.clone(), origin: m.origin.clone(), id });
    }
    let externs = externs.values.iter().filter(|(_, v)| !matches!(v, ExternValue::Function { .. })).map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(Some(ProviderImage {
        token: obj.dyn_token,
        object: obj.name.clone(),
        spec: obj.spec.clone(),
        code: Arc::new(code),
        btf: Arc::new(btf.clone()),
        btf_ext: obj.btf_ext.clone().map(Arc::new),
        btf_id,
        maps,
        externs,
        deps: plan.bindings.clone(),
        keepalive: Vec::new(),
    }))
}

/// BTF type ids of the functions the kernel kept in a loaded program (its func_info).
fn kernel_func_ids(prog: std::os::fd::BorrowedFd<'_>) -> Result<Vec<u32>, LoadError> {
    raw_kernel_func_ids(prog).map_err(LoadError::kernel("reading a program's func_info"))
}

fn raw_kernel_func_ids(prog: std::os::fd::BorrowedFd<'_>) -> Result<Vec<u32>, sys::SysError> {
    let info = sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(prog)?;
    let count = info.nr_func_info.min(4096);
    let mut records = vec![[0u32; 2]; count as usize];
    let mut query = uapi::bpf_prog_info {
        nr_func_info: count,
        func_info_rec_size: 8,
        func_info: records.as_mut_ptr() as u64,
        ..Default::default()
    };
    let mut len = std::mem::size_of_val(&query) as u32;
    // SAFETY: `func_info` points to `count` writable 8-byte records; no other pointer is set.
    unsafe { sys::obj_get_info_by_fd_raw(prog, (&mut query as *mut uapi::bpf_prog_info).cast(), &mut len)? };
    records.truncate(query.nr_func_info.min(count) as usize);
    Ok(records.iter().map(|r| r[1]).collect())
}
