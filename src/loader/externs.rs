//! The "resolve externs" pass: gives every extern of the object a value before any kernel
//! object is created. `.kconfig` values come from the options or the system's configuration,
//! `.ksyms` from vmlinux BTF and `/proc/kallsyms`; extern functions other loaded objects define
//! were bound by the dynamic linker before this pass ([`super::dynlink`]). Whatever stays
//! unresolved fails the load with one message naming all of it.
use std::collections::HashMap;
use std::sync::Arc;

use crate::btf::{Btf, Kind};
use crate::object::{Extern, ExternKind};

use super::error::LoadError;
use super::kconfig::{self, KcfgSlot};

/// What an extern resolves to. Plain values (no fds), so a loaded object's values can be
/// kept for linking its code into other programs later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternValue {
    /// A `.kconfig` value at this offset of the `.kconfig` map.
    Kconfig { offset: u32 },
    /// A typed kernel variable: BTF id in vmlinux (`BPF_PSEUDO_BTF_ID`).
    KsymBtf { btf_id: u32 },
    /// A typeless kernel symbol's address (0 for a missing weak one).
    KsymAddr(u64),
    /// A kernel function: FUNC id in vmlinux BTF.
    Kfunc { btf_id: u32 },
    /// A weak kfunc the kernel lacks: calls to it are poisoned (the verifier rejects them
    /// only if reachable).
    MissingKfunc,
    /// A function another loaded object defines (dynamic linking): called through a stub,
    /// or imported from link unit `provider_unit` where the program can't have stubs.
    Function { provider_unit: Option<usize> },
}

/// Every extern's value, by name.
#[derive(Debug, Default, Clone)]
pub struct ResolvedExterns {
    pub values: HashMap<String, ExternValue>,
}

/// The running kernel's BTF, parsed once per process (shared with CO-RE).
pub(crate) fn vmlinux_btf() -> Result<Arc<Btf>, String> {
    super::core::kernel_btf().map_err(|e| e.to_string())
}

/// Addresses of `/proc/kallsyms` for the wanted names (first occurrence wins, like libbpf).
fn kallsyms(wanted: &[&str]) -> Result<HashMap<String, u64>, String> {
    let text = std::fs::read_to_string("/proc/kallsyms").map_err(|e| format!("/proc/kallsyms: {e}"))?;
    let mut found = HashMap::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(addr), Some(_ty), Some(name)) = (parts.next(), parts.next(), parts.next()) else { continue };
        if wanted.contains(&name) && !found.contains_key(name) {
            if let Ok(addr) = u64::from_str_radix(addr, 16) {
                found.insert(name.to_string(), addr);
            }
        }
    }
    Ok(found)
}

/// Inputs of the pass.
pub struct ExternContext<'a> {
    pub object: &'a str,
    pub externs: &'a [Extern],
    pub btf: Option<&'a Btf>,
    /// `OpenOptions::kconfig`.
    pub extra_kconfig: Option<&'a str>,
    /// The `.kconfig` map's value memory, filled here.
    pub kconfig_data: Option<&'a mut [u8]>,
}

/// Resolves every extern or fails naming all unresolved ones. `functions` are the extern
/// functions the dynamic linker bound to other loaded objects.
pub fn resolve_externs(ctx: ExternContext<'_>, functions: &HashMap<String, ExternValue>) -> Result<ResolvedExterns, LoadError> {
    let mut out = ResolvedExterns::default();
    let mut unresolved = Vec::new();
    if let Some(btf) = ctx.btf {
        let slots = kconfig::layout(ctx.externs, btf)?;
        if !slots.is_empty() {
            let data = ctx.kconfig_data.ok_or_else(|| LoadError::Extern {
                name: slots[0].name.clone(),
                reason: "the object has no .kconfig map for it".into(),
            })?;
            fill_kconfig(&slots, ctx.extra_kconfig, data, &mut unresolved)?;
            for slot in slots {
                out.values.insert(slot.name.clone(), ExternValue::Kconfig { offset: slot.offset });
            }
        }
    }
    resolve_ksyms(ctx.externs, ctx.btf, &mut out, &mut unresolved)?;
    for ext in ctx.externs {
        if matches!(ext.kind, ExternKind::Kconfig | ExternKind::Ksym | ExternKind::Kfunc) {
            continue;
        }
        match functions.get(&ext.name) {
            Some(value) => {
                out.values.insert(ext.name.clone(), value.clone());
            }
            None => unresolved.push(ext.name.clone()),
        }
    }
    if !unresolved.is_empty() {
        return Err(LoadError::UnresolvedExterns { object: ctx.object.to_string(), names: unresolved });
    }
    Ok(out)
}

/// Fills the `.kconfig` value: `LINUX_*` values computed here, then the options' text, then
/// the system configuration for what is still missing. Missing weak values stay zero.
fn fill_kconfig(slots: &[KcfgSlot], extra: Option<&str>, data: &mut [u8], unresolved: &mut Vec<String>) -> Result<(), LoadError> {
    let mut pending: Vec<&KcfgSlot> = Vec::new();
    for slot in slots {
        if slot.name.starts_with("LINUX_") {
            let value = kconfig::builtin_value(&slot.name);
            match value {
                Some(v) => kconfig::encode(slot, &v, data)?,
                None if slot.weak => {}
                None => {
                    return Err(LoadError::Extern { name: slot.name.clone(), reason: "unrecognized LINUX_* kconfig extern".into() })
                }
            }
        } else if slot.name.starts_with("CONFIG_") {
            pending.push(slot);
        } else {
            return Err(LoadError::Extern { name: slot.name.clone(), reason: "kconfig externs must start with CONFIG_ or LINUX_".into() });
        }
    }
    if pending.is_empty() {
        return Ok(());
    }
    if let Some(text) = extra {
        let values = kconfig::parse_config(text);
        let mut still_missing = Vec::new();
        for slot in pending {
            match values.get(&slot.name) {
                Some(v) => kconfig::encode(slot, v, data)?,
                None => still_missing.push(slot),
            }
        }
        pending = still_missing;
    }
    if pending.is_empty() {
        return Ok(());
    }
    let system = match kconfig::system_config() {
        Ok(values) => values,
        Err(reason) => {
            if pending.iter().all(|s| s.weak) {
                crate::log::log(crate::log::Level::Info, &format!("kconfig: {reason}; weak externs stay 0"));
                Arc::default()
            } else {
                return Err(LoadError::Extern { name: pending[0].name.clone(), reason });
            }
        }
    };
    for slot in pending {
        match system.get(&slot.name) {
            Some(v) => kconfig::encode(slot, v, data)?,
            None if slot.weak => {}
            None => unresolved.push(slot.name.clone()),
        }
    }
    Ok(())
}

fn resolve_ksyms(externs: &[Extern], btf: Option<&Btf>, out: &mut ResolvedExterns, unresolved: &mut Vec<String>) -> Result<(), LoadError> {
    let ksyms: Vec<&Extern> = externs.iter().filter(|e| matches!(e.kind, ExternKind::Ksym | ExternKind::Kfunc)).collect();
    if ksyms.is_empty() {
        return Ok(());
    }
    let typeless = |e: &Extern| -> bool {
        e.kind == ExternKind::Ksym
            && match (btf, e.btf_type_id) {
                (Some(b), Some(t)) => b.skip_mods_and_typedefs(t).map_or(true, |id| id == 0),
                _ => true,
            }
    };
    let needs_btf = ksyms.iter().any(|e| !typeless(e));
    let vmlinux = if needs_btf {
        Some(vmlinux_btf().map_err(|reason| LoadError::Extern { name: ksyms[0].name.clone(), reason })?)
    } else {
        None
    };
    let addr_names: Vec<&str> = ksyms.iter().filter(|e| typeless(e)).map(|e| e.name.as_str()).collect();
    let addrs = if addr_names.is_empty() {
        HashMap::new()
    } else {
        kallsyms(&addr_names).map_err(|reason| LoadError::Extern { name: addr_names[0].to_string(), reason })?
    };
    for ext in ksyms {
        let value = if typeless(ext) {
            addrs.get(&ext.name).copied().map(ExternValue::KsymAddr).or(ext.weak.then_some(ExternValue::KsymAddr(0)))
        } else {
            let kernel = vmlinux.as_deref();
            let kind = if ext.kind == ExternKind::Kfunc { Kind::Func } else { Kind::Var };
            match kernel.and_then(|k| k.find_by_name_kind(essential_name(&ext.name), kind)) {
                Some(id) if kind == Kind::Func => Some(ExternValue::Kfunc { btf_id: id }),
                Some(id) => Some(ExternValue::KsymBtf { btf_id: id }),
                None if ext.weak && kind == Kind::Func => Some(ExternValue::MissingKfunc),
                None if ext.weak => Some(ExternValue::KsymAddr(0)),
                None => None,
            }
        };
        match value {
            Some(v) => {
                out.values.insert(ext.name.clone(), v);
            }
            None => unresolved.push(ext.name.clone()),
        }
    }
    Ok(())
}

/// CO-RE "flavor" suffixes (`name___v2`) are ignored when matching kernel names.
fn essential_name(name: &str) -> &str {
    match name.find("___") {
        Some(i) => &name[..i],
        None => name,
    }
}
