//! The BTF fix-up pass: makes the object's BTF acceptable to the kernel, like libbpf does.
//!
//! - clang leaves DATASEC sizes and VAR offsets zero: they come from the ELF section sizes and
//!   symbol values; the kernel also wants DATASEC entries sorted by offset;
//! - the kernel refuses VARs and FUNCs with extern linkage: `.kconfig` VARs become allocated
//!   variables at their `.kconfig` offsets, `.ksyms` entries become 4-byte int variables
//!   (kfuncs are swapped for a `dummy_ksym` VAR and their FUNC turned global, with unnamed
//!   parameters named), and any other extern VAR/FUNC is made allocated/global.
use crate::btf::{Btf, BtfType, FuncLinkage, Kind, TypeId, TypeKind, VarLinkage, VarSecInfo};
use crate::object::{ObjectSpec, SymbolKind};

use super::error::LoadError;
use super::kconfig::KcfgSlot;

fn btf_err(object: &str, source: crate::btf::BtfError) -> LoadError {
    LoadError::Btf { object: object.to_string(), source }
}

/// A 4-byte INT to type fake variables with (added when the object has none).
fn int_type(btf: &mut Btf) -> TypeId {
    let found = btf.iter_types().find(|(_, t)| matches!(t.kind, TypeKind::Int { size: 4, bits: 32, .. })).map(|(id, _)| id);
    found.unwrap_or_else(|| {
        let name_off = btf.add_string("int");
        btf.add_type(BtfType { name_off, kind: TypeKind::Int { size: 4, encoding: crate::btf::INT_SIGNED, bit_offset: 0, bits: 32 } })
    })
}

/// Returns the kernel-ready copy of `btf`.
pub fn fixup_for_kernel(spec: &ObjectSpec, btf: &Btf, kconfig: &[KcfgSlot]) -> Result<Btf, LoadError> {
    let mut btf = btf.clone();
    let object = spec.name.as_str();
    let datasecs: Vec<TypeId> = btf.iter_types().filter(|(_, t)| t.kind() == Kind::Datasec).map(|(id, _)| id).collect();
    for id in datasecs {
        let name = btf.type_name(id).map_err(|e| btf_err(object, e))?.to_string();
        match name.as_str() {
            ".kconfig" => fix_kconfig(&mut btf, id, kconfig, object)?,
            ".ksyms" => fix_ksyms(&mut btf, id, object)?,
            _ => fix_datasec(&mut btf, id, &name, spec, object)?,
        }
    }
    allocate_remaining_externs(&mut btf, object)?;
    Ok(btf)
}

fn datasec_vars(btf: &Btf, id: TypeId, object: &str) -> Result<Vec<VarSecInfo>, LoadError> {
    match &btf.type_by_id(id).map_err(|e| btf_err(object, e))?.kind {
        TypeKind::Datasec { vars, .. } => Ok(vars.clone()),
        _ => Ok(Vec::new()),
    }
}

fn set_datasec(btf: &mut Btf, id: TypeId, new_size: u32, new_vars: Vec<VarSecInfo>, object: &str) -> Result<(), LoadError> {
    if let TypeKind::Datasec { size, vars } = &mut btf.type_mut(id).map_err(|e| btf_err(object, e))?.kind {
        *size = new_size;
        *vars = new_vars;
    }
    Ok(())
}

fn set_var_linkage(btf: &mut Btf, var: TypeId, new_type: Option<TypeId>, object: &str) -> Result<(), LoadError> {
    if let TypeKind::Var { type_id, linkage } = &mut btf.type_mut(var).map_err(|e| btf_err(object, e))?.kind {
        *linkage = VarLinkage::GlobalAllocated;
        if let Some(t) = new_type {
            *type_id = t;
        }
    }
    Ok(())
}

fn fix_kconfig(btf: &mut Btf, id: TypeId, slots: &[KcfgSlot], object: &str) -> Result<(), LoadError> {
    let mut vars = datasec_vars(btf, id, object)?;
    for vs in &mut vars {
        let name = btf.type_name(vs.type_id).map_err(|e| btf_err(object, e))?.to_string();
        let slot = slots.iter().find(|s| s.name == name).ok_or_else(|| LoadError::Extern {
            name: name.clone(),
            reason: "listed in the .kconfig DATASEC but not a .kconfig extern".into(),
        })?;
        vs.offset = slot.offset;
        vs.size = slot.size;
        set_var_linkage(btf, vs.type_id, None, object)?;
    }
    vars.sort_by_key(|v| v.offset);
    let size = slots.iter().map(|s| s.offset + s.size).max().unwrap_or(0);
    set_datasec(btf, id, size, vars, object)
}

fn fix_ksyms(btf: &mut Btf, id: TypeId, object: &str) -> Result<(), LoadError> {
    let mut vars = datasec_vars(btf, id, object)?;
    let int = int_type(btf);
    let has_func = vars.iter().any(|vs| btf.type_by_id(vs.type_id).is_ok_and(|t| t.kind() == Kind::Func));
    let dummy = if has_func {
        let name_off = btf.add_string("dummy_ksym");
        Some((btf.add_type(BtfType { name_off, kind: TypeKind::Var { type_id: int, linkage: VarLinkage::GlobalAllocated } }), name_off))
    } else {
        None
    };
    for (i, vs) in vars.iter_mut().enumerate() {
        let is_func = btf.type_by_id(vs.type_id).map_err(|e| btf_err(object, e))?.kind() == Kind::Func;
        if let (true, Some((dummy_id, dummy_name))) = (is_func, dummy) {
            make_func_global(btf, vs.type_id, dummy_name, object)?;
            vs.type_id = dummy_id;
        } else {
            set_var_linkage(btf, vs.type_id, Some(int), object)?;
        }
        vs.offset = (i * 4) as u32;
        vs.size = 4;
    }
    let size = (vars.len() * 4) as u32;
    set_datasec(btf, id, size, vars, object)
}

/// Turns an extern FUNC global and names its unnamed parameters (the kernel wants names).
fn make_func_global(btf: &mut Btf, func: TypeId, param_name: u32, object: &str) -> Result<(), LoadError> {
    let proto = match &mut btf.type_mut(func).map_err(|e| btf_err(object, e))?.kind {
        TypeKind::Func { proto, linkage } => {
            *linkage = FuncLinkage::Global;
            *proto
        }
        _ => return Ok(()),
    };
    if let Ok(t) = btf.type_mut(proto) {
        if let TypeKind::FuncProto { params, .. } = &mut t.kind {
            for p in params.iter_mut().filter(|p| p.type_id != 0 && p.name_off == 0) {
                p.name_off = param_name;
            }
        }
    }
    Ok(())
}

/// Sizes from the ELF section, offsets from the symbols, entries sorted by offset.
fn fix_datasec(btf: &mut Btf, id: TypeId, name: &str, spec: &ObjectSpec, object: &str) -> Result<(), LoadError> {
    let Some(section) = spec.section_by_name(name) else {
        // DATASECs of externs-only sections (e.g. `.maps` externs): nothing to place.
        return Ok(());
    };
    let mut vars = datasec_vars(btf, id, object)?;
    for vs in &mut vars {
        let var_name = btf.type_name(vs.type_id).map_err(|e| btf_err(object, e))?.to_string();
        let sym = spec.symbols.iter().find(|s| {
            s.shndx == section.index && s.name == var_name && matches!(s.kind, SymbolKind::Object | SymbolKind::Notype)
        });
        if let Some(sym) = sym {
            vs.offset = u32::try_from(sym.value).map_err(|_| LoadError::Invalid {
                what: "variable",
                name: var_name.clone(),
                reason: format!("offset {} in {name} does not fit 32 bits", sym.value),
            })?;
            if vs.size == 0 {
                vs.size = u32::try_from(sym.size).unwrap_or(0);
            }
        }
    }
    vars.sort_by_key(|v| v.offset);
    let size = u32::try_from(section.size).map_err(|_| LoadError::Invalid {
        what: "section",
        name: name.to_string(),
        reason: format!("size {} does not fit 32 bits", section.size),
    })?;
    set_datasec(btf, id, size, vars, object)
}

/// Extern VARs and FUNCs outside `.kconfig`/`.ksyms` (resolved from other objects, or not
/// referenced at all) are described as allocated/global so the kernel accepts the BTF.
fn allocate_remaining_externs(btf: &mut Btf, object: &str) -> Result<(), LoadError> {
    let mut extern_funcs = Vec::new();
    for (i, t) in btf.types_mut().iter_mut().enumerate() {
        match &mut t.kind {
            TypeKind::Var { linkage, .. } if *linkage == VarLinkage::GlobalExtern => *linkage = VarLinkage::GlobalAllocated,
            TypeKind::Func { linkage, .. } if *linkage == FuncLinkage::Extern => extern_funcs.push(i),
            _ => {}
        }
    }
    if extern_funcs.is_empty() {
        return Ok(());
    }
    let arg_name = btf.add_string("arg");
    let first = btf.first_type_id();
    for i in extern_funcs {
        make_func_global(btf, first + i as TypeId, arg_name, object)?;
    }
    Ok(())
}
