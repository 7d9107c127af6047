//! Automatic placeholder replacement at load (issue 5, capability 1), standard C style.
//!
//! An object loaded earlier by this process has `__weak __noinline int f(struct xdp_md *)`
//! called by its programs; an object loaded now defines a strong `int f(struct xdp_md *)` and
//! no SEC() program that calls it. Like a C dynamic linker, the load resolves the strong
//! definition against the placeholder: the function is loaded once as an EXT program aimed at
//! the placeholder (user-space prototype check first), then linked with `BPF_LINK_CREATE` into
//! every loaded program containing the placeholder (the kernel verifies it once and only
//! type-checks further targets). The new object owns the links: dropping it restores the
//! placeholders. A lone strong definition nothing has a placeholder for fails the load, like
//! libbpf fails an object without programs (the corpus test compares every test object's load
//! result with libbpf's), with a message naming the objects looked at.
//!
//! Scope: only the object's lone `.text` function (libbpf's "legacy" program of an object
//! without SEC() programs) is resolved this way; program handles are fixed at open, so
//! extensions can't be added for further functions at load.
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::btf::Kind;
use crate::linker::dynamic::{self, Edge, LoadedObject, Mechanism, Placeholder};
use crate::log::{log, Level};
use crate::object::{AttachType, ProgType};
use crate::sys::{self, uapi, LinkCreateAttr, LinkExtra, Target};

use super::attach::{self, Link};
use super::error::LoadError;
use super::Object;

/// A strong definition of this object chosen to replace a placeholder of a loaded object.
#[derive(Debug)]
pub(crate) struct Replacement {
    program: usize,
    target_object: String,
    placeholder: Placeholder,
}

/// A placeholder replaced by this object's definition: the link that keeps it replaced.
#[derive(Debug)]
pub struct DynamicEdge {
    pub link: Link,
    pub edge: Edge,
}

/// Before load: turns each lone strong definition matching a registered placeholder into an
/// EXT program aimed at it. A definition with no placeholder to replace fails the load, as
/// libbpf fails an object without programs, but saying what was looked for.
pub(crate) fn plan(obj: &mut Object) -> Result<Vec<Replacement>, LoadError> {
    let mut plans = Vec::new();
    for index in 0..obj.programs.len() {
        let Some(prog) = obj.programs.get(index) else { continue };
        let unresolved = prog.prog_type.0 == uapi::bpf_prog_type::BPF_PROG_TYPE_UNSPEC
            && prog.autoload
            && prog.section_name == ".text"
            && obj.spec.exports.contains(&prog.name);
        if !unresolved {
            continue;
        }
        let name = prog.name.clone();
        let found = dynamic::find_placeholder(&name, obj.dyn_token).and_then(|(target_object, placeholder)| {
            let fd = first_live_program(&placeholder.prog_ids)?;
            Some((Replacement { program: index, target_object, placeholder }, fd))
        });
        let Some((replacement, target_fd)) = found else {
            let (objects, _) = dynamic::snapshot();
            let looked_at: Vec<&str> = objects.iter().rev().map(|o| o.name.as_str()).collect();
            return Err(LoadError::Invalid {
                what: "program",
                name,
                reason: format!(
                    "missing BPF program type (no SEC()), and no loaded object has a reachable weak placeholder \
                     of that name to replace (loaded objects looked at, newest first: [{}]); \
                     load the object with the placeholder first",
                    looked_at.join(", ")
                ),
            });
        };
        let Some(prog) = obj.programs.get_mut(index) else { continue };
        prog.prog_type = ProgType(uapi::bpf_prog_type::BPF_PROG_TYPE_EXT);
        prog.expected_attach_type = AttachType::default();
        prog.attach_prog_fd = Some(target_fd);
        prog.attach_func_name = Some(name);
        plans.push(replacement);
    }
    Ok(plans)
}

/// An fd of the first program of `ids` still loaded (targets may have gone since they were
/// registered: the registry keeps ids, not programs).
fn first_live_program(ids: &[u32]) -> Option<OwnedFd> {
    ids.iter().find_map(|&id| sys::prog_get_fd_by_id(id).ok())
}

fn prog_id(fd: BorrowedFd<'_>) -> u32 {
    sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(fd).map_or(0, |i| i.id)
}

fn link_id(fd: BorrowedFd<'_>) -> u32 {
    sys::obj_get_info_by_fd::<uapi::bpf_link_info>(fd).map_or(0, |i| i.id)
}

/// After the programs are loaded: links each EXT into every program containing its
/// placeholder. The links go into `obj.dyn_edges` (dropped with the object).
pub(crate) fn attach(obj: &mut Object, plans: &[Replacement]) -> Result<(), LoadError> {
    for plan in plans {
        let Some(prog) = obj.programs.get(plan.program) else { continue };
        let Some(ext_fd) = prog.fd() else { continue };
        let ext_id = prog_id(ext_fd);
        let function = prog.name.clone();
        let mut edges = Vec::new();
        for &target_id in &plan.placeholder.prog_ids {
            let Ok(target_fd) = sys::prog_get_fd_by_id(target_id) else {
                log(Level::Warn, &format!("'{function}': program id {target_id} of '{}' is gone; not replaced there", plan.target_object));
                continue;
            };
            let link = link_one(obj, plan.program, target_fd.as_fd(), target_id, &plan.target_object)?;
            let edge = Edge {
                provider_token: obj.dyn_token,
                provider: obj.name.clone(),
                target: plan.target_object.clone(),
                target_prog_id: target_id,
                function: function.clone(),
                ext_prog_id: ext_id,
                link_id: link.fd().map_or(0, link_id),
                mechanism: Mechanism::Freplace,
            };
            log(
                Level::Info,
                &format!(
                    "replaced {} in {} (prog id {}) with {}'s definition (EXT prog id {}), link id {}",
                    edge.function, edge.target, edge.target_prog_id, edge.provider, edge.ext_prog_id, edge.link_id
                ),
            );
            dynamic::record_edge(edge.clone());
            edges.push(DynamicEdge { link, edge });
        }
        obj.dyn_edges.extend(edges);
    }
    Ok(())
}

/// `BPF_LINK_CREATE` of the EXT program `program` into `function` of the loaded program
/// `target`, after a user-space prototype check; `EBUSY` names the current owner.
fn link_one(obj: &Object, program: usize, target: BorrowedFd<'_>, target_id: u32, target_object: &str) -> Result<Link, LoadError> {
    let Some(prog) = obj.programs.get(program) else {
        return Err(LoadError::Invalid { what: "program", name: String::new(), reason: "program index out of range".into() });
    };
    let name = prog.name.as_str();
    let ext_fd = prog.fd().ok_or_else(|| LoadError::Invalid { what: "program", name: name.into(), reason: "not loaded".into() })?;
    let func = attach::find_target_func(target, name).map_err(|(errno, what)| LoadError::AttachTarget {
        program: name.to_string(),
        what,
        errno,
    })?;
    if let Some((ext, ext_id)) = obj.btf.as_ref().and_then(|b| attach::ext_func_id(b, name).map(|id| (b, id))) {
        attach::check_prototypes(ext, ext_id, &func.btf, func.id).map_err(|reason| attach::prototype_error(name, ext, ext_id, &func, reason))?;
    }
    let attr = LinkCreateAttr {
        prog_fd: ext_fd,
        target: Target::Fd(target),
        attach_type: 0,
        flags: 0,
        extra: LinkExtra::TargetBtfId(func.id),
    };
    let link = sys::link_create(&attr).map_err(|source| {
        let owner = if source.is(libc::EBUSY) { dynamic::current_owner(target_id, name) } else { None };
        LoadError::Attach {
            program: name.to_string(),
            target: match owner {
                Some(e) => format!(
                    "'{name}' of '{target_object}' (prog id {target_id}), already replaced by '{}' (link id {})",
                    e.provider, e.link_id
                ),
                None => format!("'{name}' of '{target_object}' (prog id {target_id})"),
            },
            hint: if source.is(libc::EBUSY) { attach::EBUSY_HINT } else { "" },
            source,
        }
    })?;
    Ok(Link::new(link))
}

/// After a successful load: records the object's placeholders (the loaded programs that
/// contain each, warning about ones the verifier dropped as unreachable) and exports.
pub(crate) fn register(obj: &Object) {
    let mut placeholders = Vec::new();
    for name in &obj.spec.weak_placeholders {
        let func_id = obj.btf.as_ref().and_then(|b| b.find_by_name_kind(name, Kind::Func));
        let mut prog_ids = Vec::new();
        for prog in obj.programs.iter().filter(|p| p.linked_funcs.iter().any(|f| f == name)) {
            let Some(fd) = prog.fd() else { continue };
            if let (Some(id), Ok(kernel_funcs)) = (func_id, kernel_func_ids(fd)) {
                if !kernel_funcs.contains(&id) {
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
            prog_ids.push(prog_id(fd));
        }
        placeholders.push(Placeholder { name: name.clone(), prog_ids });
    }
    dynamic::register(LoadedObject {
        token: obj.dyn_token,
        name: obj.name.clone(),
        placeholders,
        exports: obj.spec.exports.clone(),
    });
}

/// BTF type ids of the functions the kernel kept in a loaded program (its func_info).
fn kernel_func_ids(prog: BorrowedFd<'_>) -> Result<Vec<u32>, sys::SysError> {
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
