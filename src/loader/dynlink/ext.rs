//! Extension programs and their links: a replacement's EXT linked into every program holding
//! the placeholder, and a provider's function loaded as an EXT and linked into callers' stubs.
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::btf::Btf;
use crate::linker::dynamic::{self, Edge, EdgeKind, Mechanism, ProviderImage};
use crate::log::{log, Level};
use crate::object::ProgType;
use crate::sys::{self, uapi, LinkCreateAttr, LinkExtra, Target};

use super::super::attach::{self, Link};
use super::super::error::LoadError;
use super::super::link::{self, DynamicCalls, Import, Stub};
use super::super::load::load_program;
use super::super::program::Program;
use super::units::ImportSet;

/// Loading a provider's function for a program type happens once: callers loading in
/// parallel wait here instead of each verifying the same function.
static PROVIDER_EXT_LOADS: Mutex<()> = Mutex::new(());

/// The kernel id of a loaded program (the registry and the graph name programs by id).
pub(crate) fn prog_id(fd: BorrowedFd<'_>) -> Result<u32, LoadError> {
    sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(fd).map(|i| i.id).map_err(LoadError::kernel("reading the kernel id of a program"))
}

/// The kernel id of a link.
pub(crate) fn link_id(link: &Link) -> Result<u32, LoadError> {
    let fd = link.fd().ok_or_else(|| LoadError::Invalid { what: "link", name: String::new(), reason: "destroyed".into() })?;
    sys::obj_get_info_by_fd::<uapi::bpf_link_info>(fd).map(|i| i.id).map_err(LoadError::kernel("reading the kernel id of a link"))
}

/// `BPF_LINK_CREATE` of the EXT `ext` into the function with BTF id `btf_id` of program
/// `target`; `describe_target` names the target in errors, `EBUSY` gets a hint.
pub(crate) fn link_ext(ext: BorrowedFd<'_>, target: BorrowedFd<'_>, btf_id: u32, program: &str, describe_target: impl FnOnce(bool) -> String) -> Result<Link, LoadError> {
    let attr = LinkCreateAttr { prog_fd: ext, target: Target::Fd(target), attach_type: 0, flags: 0, extra: LinkExtra::TargetBtfId(btf_id) };
    let link = sys::link_create(&attr).map_err(|source| {
        let busy = source.is(libc::EBUSY);
        LoadError::Attach {
            program: program.to_string(),
            target: describe_target(busy),
            hint: if busy { attach::EBUSY_HINT } else { "" },
            source,
        }
    })?;
    Ok(Link::new(link))
}

/// Links the replacement EXT `ext` into `function` of the loaded program `target` (id
/// `target_id` of `target_object`), after a user-space prototype check; `EBUSY` names the
/// current owner.
pub(crate) fn link_replacement(ext_prog: &Program, ext_btf: Option<&Btf>, target: BorrowedFd<'_>, target_id: u32, target_object: &str) -> Result<Link, LoadError> {
    let name = ext_prog.name.as_str();
    let ext = ext_prog.fd().ok_or_else(|| LoadError::Invalid { what: "program", name: name.into(), reason: "not loaded".into() })?;
    let func = attach::find_target_func(target, name).map_err(|(errno, what)| LoadError::AttachTarget { program: name.to_string(), what, errno })?;
    if let Some((btf, id)) = ext_btf.and_then(|b| attach::ext_func_id(b, name).map(|id| (b, id))) {
        attach::check_prototypes(btf, id, &func.btf, func.id).map_err(|reason| attach::prototype_error(name, btf, id, &func, reason))?;
    }
    link_ext(ext, target, func.id, name, |busy| {
        let owner = if busy { dynamic::current_owner(target_id, name) } else { None };
        match owner {
            Some(e) => format!("'{name}' of '{target_object}' (prog id {target_id}), already replaced by '{}' (link id {})", e.from, e.link_id),
            None => format!("'{name}' of '{target_object}' (prog id {target_id})"),
        }
    })
}

/// The EXT program running `image`'s `function` for callers of `caller`'s program type: the one already loaded for that type if it
/// still lives, otherwise loaded now (verified once) against this caller and offered to the
/// next ones. The prototypes were compared when the call was bound.
pub(crate) fn provider_ext(image: &Arc<ProviderImage>, function: &str, caller: &Program, stub: &Stub) -> Result<OwnedFd, LoadError> {
    let (prog_type, attach_type) = (caller.prog_type.0, caller.expected_attach_type.0);
    let _serial = PROVIDER_EXT_LOADS.lock();
    let shared = dynamic::shared_ext(image.token, function, prog_type, attach_type).map(super::plan::live_program).transpose()?.flatten();
    if let Some(fd) = shared {
        return Ok(fd);
    }
    let caller_fd = caller.fd().ok_or_else(|| LoadError::Invalid { what: "program", name: caller.name.clone(), reason: "not loaded".into() })?;
    let fd = load_provider_function(image, function, caller_fd, stub.btf_id)?;
    let id = prog_id(fd.as_fd())?;
    dynamic::offer_shared_ext(image.token, function, prog_type, attach_type, id);
    log(
        Level::Info,
        &format!("loaded '{}' of '{}' as EXT prog id {id} for callers of program type {prog_type} (verified once, shared)", function, image.object),
    );
    Ok(fd)
}

/// Links `function` of `image` (and what it imports from the providers it was bound to) and
/// loads it as an EXT program aimed at BTF FUNC `target_btf_id` of program `target`.
fn load_provider_function(image: &Arc<ProviderImage>, function: &str, target: BorrowedFd<'_>, target_btf_id: u32) -> Result<OwnedFd, LoadError> {
    let spec = &image.spec;
    let sub = spec.subprograms.iter().find(|s| s.name == function).ok_or_else(|| LoadError::Link {
        program: function.to_string(),
        what: format!("'{function}' is not a function of '{}'", image.object),
    })?;
    let insns = spec.section(sub.section_index).map_or(&[][..], |s| s.insns.as_slice());
    let mut prog = Program::for_function(sub, insns, 0, None)?;
    prog.prog_type = ProgType(uapi::bpf_prog_type::BPF_PROG_TYPE_EXT);
    prog.attach_prog_fd = Some(target.try_clone_to_owned().map_err(|e| LoadError::Io { path: "dup of the caller's fd".into(), source: e })?);
    prog.attach_btf_id = target_btf_id;
    let units = ImportSet::closure([image], 0)?;
    // With imports the program needs a BTF holding every unit's types; otherwise the
    // provider's own loaded BTF serves.
    let merged = if units.units.len() > 1 {
        let mut btf = Btf::new();
        let shifts = units.append_btfs(&mut btf)?;
        let bytes = btf.to_bytes_checked().map_err(|source| LoadError::Btf { object: image.object.clone(), source })?;
        let fd = sys::btf_load(&bytes, None).map_err(|source| LoadError::BtfLoad { object: image.object.clone(), source, log: String::new() })?;
        Some((fd, shifts))
    } else {
        None
    };
    let shifts = merged.as_ref().map_or(&[][..], |(_, s)| s.as_slice());
    let contexts = units.contexts(shifts);
    let start = (sub.offset / 8) as usize;
    let linked = link::link_program(&contexts, DynamicCalls::Import, function, sub.section_index, start)?;
    let btf_fd = match &merged {
        Some((fd, _)) => fd.as_fd(),
        None => units.btf_fd(0).ok_or_else(|| LoadError::Invalid { what: "object", name: image.object.clone(), reason: "no BTF".into() })?,
    };
    let license = std::ffi::CString::new(spec.license.clone().unwrap_or_default()).unwrap_or_default();
    let fd = load_program(&mut prog, &linked.insns, &linked.func_info, &linked.line_info, Some(btf_fd), &license, spec.kernel_version.unwrap_or(0), target_btf_id)?;
    record_provider_imports(image, &units, &linked.imports, prog_id(fd.as_fd())?);
    Ok(fd)
}

/// Edges for the code a provider's EXT imported: from the unit whose code calls it (the
/// provider or one of its dependencies) to the unit defining it. Owned by the provider.
fn record_provider_imports(image: &ProviderImage, units: &ImportSet, imports: &[Import], ext_id: u32) {
    for import in imports {
        let (Some(caller), Some(dep)) = (units.image(import.caller_unit), units.image(import.unit)) else { continue };
        dynamic::record_edge(Edge {
            kind: EdgeKind::Call,
            mechanism: Mechanism::Import,
            function: import.function.clone(),
            from_token: image.token,
            from: caller.object.clone(),
            to_token: dep.token,
            to: dep.object.clone(),
            ext_prog_id: ext_id,
            target_prog_id: 0,
            link_id: 0,
        });
    }
}
