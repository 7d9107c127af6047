//! Resolution, before anything is created: which loaded object provides each extern function
//! the object calls, and which weak placeholders of loaded objects the object's strong
//! definitions replace. Like a C dynamic linker: the newest loaded object wins, and every
//! unresolved symbol is reported at once with the objects looked at.
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use crate::linker::dynamic::{self, Placeholder, ProviderImage};
use crate::log::{log, Level};
use crate::btf::Kind;
use crate::object::{AttachType, Extern, ExternKind, ProgType};
use crate::sys::{self, uapi};

use super::super::attach;
use super::super::error::LoadError;
use super::super::program::Program;
use super::super::Object;
use super::export;

/// Where the EXT program of a replacement lives: the object's lone `.text` program (libbpf
/// lists it as a program, so its handle shows the extension), or an extension program the
/// load adds beside the object's SEC() programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExtSlot {
    Program(usize),
    Extension(usize),
}

/// A strong definition of this object chosen to replace a placeholder of a loaded object.
#[derive(Debug)]
pub(crate) struct Replacement {
    pub slot: ExtSlot,
    pub function: String,
    pub target_object: String,
    pub target_token: u64,
    pub placeholder: Placeholder,
}

/// What the dynamic linker decided for one load.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub replacements: Vec<Replacement>,
    /// Each extern function the object calls, with the loaded object providing it.
    pub bindings: Vec<(String, Arc<ProviderImage>)>,
}

impl Plan {
    pub fn provider(&self, function: &str) -> Option<&Arc<ProviderImage>> {
        self.bindings.iter().find(|(n, _)| n == function).map(|(_, image)| image)
    }
}

/// Resolves the object's extern functions and its replacements; turns the programs that
/// carry replacements into EXT programs aimed at the placeholders.
pub(crate) fn plan(obj: &mut Object) -> Result<Plan, LoadError> {
    let bindings = bind_extern_functions(obj)?;
    let legacy = lone_text_program(obj);
    let mut replacements = Vec::new();
    for function in obj.spec.exports.clone() {
        let found = dynamic::find_placeholder(&function, obj.dyn_token).or_else(|| export::find_exported_placeholder(&function));
        let Some((target_object, target_token, placeholder)) = found else { continue };
        let Some(target_fd) = first_live_program(&placeholder.prog_ids)? else {
            log(Level::Warn, &format!("'{function}': every program of '{target_object}' containing the placeholder is gone; not replaced"));
            continue;
        };
        check_replacement_prototype(obj, &function, target_fd.as_fd())?;
        let slot = match legacy.filter(|&i| obj.programs[i].name == function) {
            Some(index) => {
                aim_at_placeholder(&mut obj.programs[index], &function, target_fd);
                ExtSlot::Program(index)
            }
            None => {
                let mut ext = extension_program(obj, &function)?;
                aim_at_placeholder(&mut ext, &function, target_fd);
                obj.dyn_extensions.push(ext);
                ExtSlot::Extension(obj.dyn_extensions.len() - 1)
            }
        };
        replacements.push(Replacement { slot, function, target_object, target_token, placeholder });
    }
    let replaced = |index: usize| replacements.iter().any(|r| r.slot == ExtSlot::Program(index));
    if let Some(index) = legacy.filter(|&i| !replaced(i) && obj.spec.exports.contains(&obj.programs[i].name)) {
        // A library's functions are loaded when an object calls them, not on their own.
        let prog = &mut obj.programs[index];
        prog.autoload = false;
        prog.library = true;
    }
    if obj.spec.programs.is_empty() && replacements.is_empty() && !obj.spec.exports.is_empty() {
        log(Level::Info, &format!("object '{}': no SEC() program; loaded as a library exporting [{}]", obj.name, obj.spec.exports.join(", ")));
    }
    Ok(Plan { replacements, bindings })
}

/// Binds every extern function to the newest loaded object exporting it, after checking the
/// prototypes in user space; fails naming every unresolved one and the objects looked at.
fn bind_extern_functions(obj: &Object) -> Result<Vec<(String, Arc<ProviderImage>)>, LoadError> {
    let mut bindings = Vec::new();
    let mut missing = Vec::new();
    for ext in obj.spec.externs.iter().filter(|e| e.kind == ExternKind::Function) {
        match export::find_provider(&ext.name, obj.dyn_token) {
            Some(image) => {
                check_call_prototype(obj, ext, &image)?;
                log(Level::Debug, &format!("object '{}': '{}' bound to '{}'", obj.name, ext.name, image.object));
                bindings.push((ext.name.clone(), image));
            }
            None => missing.push(ext.name.clone()),
        }
    }
    if missing.is_empty() {
        return Ok(bindings);
    }
    let others = obj.spec.externs.iter().filter(|e| matches!(e.kind, ExternKind::Variable | ExternKind::Map)).map(|e| e.name.clone()).collect();
    Err(LoadError::UnresolvedFunctions { object: obj.name.clone(), names: missing, others, looked_at: export::looked_at(obj.dyn_token) })
}

/// The provider's definition must fit the caller's `extern` declaration (the stub's
/// prototype): compared like an extension against its target, both prototypes named.
fn check_call_prototype(obj: &Object, ext: &Extern, image: &ProviderImage) -> Result<(), LoadError> {
    let name = ext.name.as_str();
    let declared = obj.btf.as_ref().zip(ext.btf_id);
    let Some((btf, declared)) = declared else {
        return Err(LoadError::Extern { name: name.to_string(), reason: "calling a function of another object needs BTF (compile with -g)".into() });
    };
    let defined = image.btf.find_by_name_kind(name, Kind::Func).ok_or_else(|| LoadError::Extern {
        name: name.to_string(),
        reason: format!("provider '{}' has no BTF description of it", image.object),
    })?;
    attach::check_prototypes(&image.btf, defined, btf, declared).map_err(|reason| LoadError::Prototype {
        program: obj.name.clone(),
        extension: format!("{} (defined by '{}')", image.btf.describe(defined), image.object),
        target: format!("{} (declared extern by '{}')", btf.describe(declared), obj.name),
        reason,
    })
}

/// The definition must fit the placeholder: checked before anything of the object is loaded.
fn check_replacement_prototype(obj: &Object, function: &str, target: BorrowedFd<'_>) -> Result<(), LoadError> {
    let target_func = attach::find_target_func(target, function).map_err(|(errno, what)| LoadError::AttachTarget {
        program: function.to_string(),
        what,
        errno,
    })?;
    let Some((btf, id)) = obj.btf.as_ref().and_then(|b| attach::ext_func_id(b, function).map(|id| (b, id))) else {
        return Err(LoadError::Extern { name: function.to_string(), reason: "replacing a placeholder needs BTF (compile with -g)".into() });
    };
    attach::check_prototypes(btf, id, &target_func.btf, target_func.id).map_err(|reason| attach::prototype_error(function, btf, id, &target_func, reason))
}

/// The object's lone `.text` program (libbpf's program of an object without SEC() programs).
fn lone_text_program(obj: &Object) -> Option<usize> {
    obj.programs.iter().position(|p| p.prog_type.0 == uapi::bpf_prog_type::BPF_PROG_TYPE_UNSPEC && p.section_name == ".text" && p.autoload)
}

/// A program for the object's global function `function`, to be loaded as an extension.
fn extension_program(obj: &Object, function: &str) -> Result<Program, LoadError> {
    let sub = obj.spec.subprograms.iter().find(|s| s.name == function).ok_or_else(|| LoadError::Invalid {
        what: "function",
        name: function.to_string(),
        reason: "exported but not found among the object's functions".into(),
    })?;
    let insns = obj.spec.section(sub.section_index).map_or(&[][..], |s| s.insns.as_slice());
    Program::for_function(sub, insns, obj.opts.kernel_log_level, obj.opts.kernel_log_size)
}

fn aim_at_placeholder(prog: &mut Program, function: &str, target: OwnedFd) {
    prog.prog_type = ProgType(uapi::bpf_prog_type::BPF_PROG_TYPE_EXT);
    prog.expected_attach_type = AttachType::default();
    prog.attach_prog_fd = Some(target);
    prog.attach_func_name = Some(function.to_string());
}

/// An fd of the first program of `ids` still loaded (targets may have gone since they were
/// registered: the registry keeps ids, not programs).
fn first_live_program(ids: &[u32]) -> Result<Option<OwnedFd>, LoadError> {
    for &id in ids {
        if let Some(fd) = live_program(id)? {
            return Ok(Some(fd));
        }
    }
    Ok(None)
}

/// The program with kernel id `id`, or None if it is gone (`ENOENT`); any other failure is
/// an error, not a reason to link fewer programs.
pub(crate) fn live_program(id: u32) -> Result<Option<OwnedFd>, LoadError> {
    match sys::prog_get_fd_by_id(id) {
        Ok(fd) => Ok(Some(fd)),
        Err(e) if e.is(libc::ENOENT) => Ok(None),
        Err(source) => Err(LoadError::Kernel { what: format!("reopening program id {id}"), source }),
    }
}
