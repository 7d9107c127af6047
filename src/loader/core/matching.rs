//! Matching a local spec against one target candidate type (libbpf's relo_core.c semantics).
use super::error::RelocFailure;
use super::kind::{RelocFamily, RelocKind};
use super::spec::{enumerators, is_flex_array, members, resolve, Accessor, Spec, MAX_SPEC_LEN};
use super::target::essential_name;
use crate::btf::{Btf, BtfType, Kind, TypeId, TypeKind};

/// Recursion budget for type comparisons (libbpf uses 32 levels).
const MAX_DEPTH: u32 = 32;

fn targ_err(e: crate::btf::BtfError) -> RelocFailure {
    RelocFailure::TargetBtf(e)
}

/// Kinds that may stand for each other: equal kinds, or ENUM and ENUM64.
pub fn kinds_compatible(a: Kind, b: Kind) -> bool {
    let is_enum = |k| matches!(k, Kind::Enum | Kind::Enum64);
    a == b || (is_enum(a) && is_enum(b))
}

fn int_bit_offset(t: &BtfType) -> u8 {
    match t.kind {
        TypeKind::Int { bit_offset, .. } => bit_offset,
        _ => 0,
    }
}

fn name_of(btf: &Btf, name_off: u32) -> &str {
    btf.string_at(name_off).unwrap_or("")
}

/// Whether `local` and `targ` types are layout-compatible for TYPE_EXISTS/TYPE_SIZE/TYPE_ID
/// relocations (names of the roots were matched by the caller).
pub fn types_are_compat(
    local: &Btf,
    local_id: TypeId,
    targ: &Btf,
    targ_id: TypeId,
    level: u32,
) -> Result<bool, RelocFailure> {
    let (mut lid, mut tid) = (local_id, targ_id);
    let lk = local
        .type_by_id(lid)
        .map_err(super::spec::local_err)?
        .kind();
    let tk = targ.type_by_id(tid).map_err(targ_err)?.kind();
    if !kinds_compatible(lk, tk) {
        return Ok(false);
    }
    for _ in 0..MAX_DEPTH {
        let (_, lt) = resolve(local, lid).map_err(super::spec::local_err)?;
        let (_, tt) = resolve(targ, tid).map_err(targ_err)?;
        if !kinds_compatible(lt.kind(), tt.kind()) {
            return Ok(false);
        }
        match (&lt.kind, &tt.kind) {
            (TypeKind::Void, _)
            | (TypeKind::Struct { .. }, _)
            | (TypeKind::Union { .. }, _)
            | (TypeKind::Enum { .. }, _)
            | (TypeKind::Enum64 { .. }, _)
            | (TypeKind::Fwd { .. }, _) => return Ok(true),
            (TypeKind::Int { .. }, _) => {
                return Ok(int_bit_offset(lt) == 0 && int_bit_offset(tt) == 0)
            }
            (TypeKind::Ptr { target: l }, TypeKind::Ptr { target: t }) => {
                (lid, tid) = (*l, *t);
            }
            (TypeKind::Array { elem: l, .. }, TypeKind::Array { elem: t, .. }) => {
                (lid, tid) = (*l, *t);
            }
            (
                TypeKind::FuncProto {
                    ret: lr,
                    params: lp,
                },
                TypeKind::FuncProto {
                    ret: tr,
                    params: tp,
                },
            ) => {
                if lp.len() != tp.len() {
                    return Ok(false);
                }
                for (l, t) in lp.iter().zip(tp) {
                    if level == 0 {
                        return Err(RelocFailure::TooDeep);
                    }
                    let l = local
                        .skip_mods_and_typedefs(l.type_id)
                        .map_err(super::spec::local_err)?;
                    let t = targ.skip_mods_and_typedefs(t.type_id).map_err(targ_err)?;
                    if !types_are_compat(local, l, targ, t, level - 1)? {
                        return Ok(false);
                    }
                }
                (lid, tid) = (*lr, *tr);
            }
            _ => return Ok(false),
        }
    }
    Err(RelocFailure::TooDeep)
}

/// Whether a local field type and a target field type are compatible (FIELD relocations).
fn fields_are_compat(
    local: &Btf,
    local_id: TypeId,
    targ: &Btf,
    targ_id: TypeId,
) -> Result<bool, RelocFailure> {
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..MAX_DEPTH {
        let (_, lt) = resolve(local, lid).map_err(super::spec::local_err)?;
        let (_, tt) = resolve(targ, tid).map_err(targ_err)?;
        let composite = |k: Kind| matches!(k, Kind::Struct | Kind::Union);
        if composite(lt.kind()) && composite(tt.kind()) {
            return Ok(true);
        }
        if !kinds_compatible(lt.kind(), tt.kind()) {
            return Ok(false);
        }
        match (&lt.kind, &tt.kind) {
            (TypeKind::Ptr { .. }, _) | (TypeKind::Float { .. }, _) => return Ok(true),
            (TypeKind::Fwd { .. }, _)
            | (TypeKind::Enum { .. }, _)
            | (TypeKind::Enum64 { .. }, _) => {
                let ln = essential_name(name_of(local, lt.name_off));
                let tn = essential_name(name_of(targ, tt.name_off));
                // Either side anonymous, or equal names once flavors are dropped.
                return Ok(ln.is_empty() || tn.is_empty() || ln == tn);
            }
            (TypeKind::Int { .. }, _) => {
                return Ok(int_bit_offset(lt) == 0 && int_bit_offset(tt) == 0)
            }
            (TypeKind::Array { elem: l, .. }, TypeKind::Array { elem: t, .. }) => {
                (lid, tid) = (*l, *t);
            }
            _ => return Ok(false),
        }
    }
    Err(RelocFailure::TooDeep)
}

/// Finds the target member named like the local accessor's member, descending into anonymous
/// members; pushes the raw indices walked and the accessor on success. Returns the member's
/// type id.
fn match_member<'t>(
    local: &Btf,
    local_acc: &Accessor,
    targ: &'t Btf,
    targ_id: TypeId,
    spec: &mut Spec<'t>,
    depth: u32,
) -> Result<Option<TypeId>, RelocFailure> {
    if depth == 0 {
        return Err(RelocFailure::TooDeep);
    }
    let (targ_id, targ_t) = resolve(targ, targ_id).map_err(targ_err)?;
    let Some(targ_members) = members(targ_t) else {
        return Ok(None);
    };
    let local_t = local
        .type_by_id(local_acc.type_id)
        .map_err(super::spec::local_err)?;
    let local_member = members(local_t)
        .and_then(|m| m.get(local_acc.idx as usize))
        .ok_or(RelocFailure::LocalBtf(crate::btf::BtfError::NoSuchType(
            local_acc.type_id,
        )))?;
    let local_name = local_acc.name.unwrap_or("");
    for (i, m) in targ_members.iter().enumerate() {
        if spec.raw.len() == MAX_SPEC_LEN {
            return Err(RelocFailure::TooDeep);
        }
        // Speculatively take this member; undone below if it is not the one.
        spec.bit_offset += u64::from(m.bit_offset);
        spec.raw.push(i as u32);
        let targ_name = name_of(targ, m.name_off);
        if targ_name.is_empty() {
            if let Some(found) = match_member(local, local_acc, targ, m.type_id, spec, depth - 1)? {
                return Ok(Some(found));
            }
        } else if targ_name == local_name {
            if !fields_are_compat(local, local_member.type_id, targ, m.type_id)? {
                spec.bit_offset -= u64::from(m.bit_offset);
                spec.raw.pop();
                return Ok(None);
            }
            spec.accessors.push(Accessor {
                type_id: targ_id,
                idx: i as u32,
                name: Some(targ_name),
            });
            return Ok(Some(m.type_id));
        }
        spec.bit_offset -= u64::from(m.bit_offset);
        spec.raw.pop();
    }
    Ok(None)
}

/// Matches `local` against candidate `targ_id`; `Ok(None)` when the candidate does not fit.
pub fn match_candidate<'t>(
    local: &Spec,
    targ: &'t Btf,
    targ_id: TypeId,
) -> Result<Option<Spec<'t>>, RelocFailure> {
    let spec = Spec::empty(targ, targ_id, local.kind);
    match local.kind.family() {
        RelocFamily::Type => {
            let matched = if local.kind == RelocKind::TypeMatches {
                types_match(
                    local.btf,
                    local.root_type_id,
                    targ,
                    targ_id,
                    false,
                    MAX_DEPTH,
                )?
            } else {
                types_are_compat(local.btf, local.root_type_id, targ, targ_id, MAX_DEPTH)?
            };
            Ok(matched.then_some(spec))
        }
        RelocFamily::Enumval => match_enumerator(local, spec),
        RelocFamily::Field => match_field(local, spec),
    }
}

fn match_enumerator<'t>(
    local: &Spec,
    mut spec: Spec<'t>,
) -> Result<Option<Spec<'t>>, RelocFailure> {
    let targ = spec.btf;
    let (targ_id, t) = resolve(targ, spec.root_type_id).map_err(targ_err)?;
    let Some(values) = enumerators(t) else {
        return Ok(None);
    };
    let local_name = essential_name(local.accessors.first().and_then(|a| a.name).unwrap_or(""));
    for (i, e) in values.iter().enumerate() {
        let name = name_of(targ, e.name_off);
        if essential_name(name) == local_name {
            spec.accessors.push(Accessor {
                type_id: targ_id,
                idx: i as u32,
                name: Some(name),
            });
            spec.raw.push(i as u32);
            return Ok(Some(spec));
        }
    }
    Ok(None)
}

fn match_field<'t>(local: &Spec, mut spec: Spec<'t>) -> Result<Option<Spec<'t>>, RelocFailure> {
    let targ = spec.btf;
    let mut targ_id = spec.root_type_id;
    for (i, local_acc) in local.accessors.iter().enumerate() {
        let (id, targ_t) = resolve(targ, targ_id).map_err(targ_err)?;
        targ_id = id;
        if local_acc.name.is_some() {
            match match_member(local.btf, local_acc, targ, targ_id, &mut spec, MAX_DEPTH)? {
                Some(next) => targ_id = next,
                None => return Ok(None),
            }
            continue;
        }
        // The root accessor indexes the root type itself; later ones index an array.
        if i > 0 {
            let TypeKind::Array { elem, nelems, .. } = targ_t.kind else {
                return Ok(None);
            };
            let flex = is_flex_array(targ, spec.accessors.last(), nelems);
            if !flex && local_acc.idx >= nelems {
                return Ok(None);
            }
            targ_id = targ.skip_mods_and_typedefs(elem).map_err(targ_err)?;
        }
        if spec.raw.len() == MAX_SPEC_LEN {
            return Err(RelocFailure::TooDeep);
        }
        spec.accessors.push(Accessor {
            type_id: targ_id,
            idx: local_acc.idx,
            name: None,
        });
        spec.raw.push(local_acc.idx);
        let size = targ.resolve_size(targ_id).map_err(targ_err)?;
        spec.bit_offset += u64::from(local_acc.idx) * u64::from(size) * 8;
    }
    Ok(Some(spec))
}

/// Whether two names match once flavors are dropped; an anonymous target only matches an
/// anonymous local.
fn names_match(local: &Btf, local_off: u32, targ: &Btf, targ_off: u32) -> bool {
    let (l, t) = (name_of(local, local_off), name_of(targ, targ_off));
    if t.is_empty() {
        return l.is_empty();
    }
    essential_name(l) == essential_name(t)
}

fn enums_match(local: &Btf, lt: &BtfType, targ: &Btf, tt: &BtfType) -> bool {
    let size = |t: &BtfType| match t.kind {
        TypeKind::Enum { size, .. } | TypeKind::Enum64 { size, .. } => size,
        _ => 0,
    };
    let (Some(lv), Some(tv)) = (enumerators(lt), enumerators(tt)) else {
        return false;
    };
    size(lt) == size(tt)
        && lv.len() <= tv.len()
        && lv.iter().all(|l| {
            tv.iter()
                .any(|t| names_match(local, l.name_off, targ, t.name_off))
        })
}

fn composites_match(
    local: &Btf,
    lt: &BtfType,
    targ: &Btf,
    tt: &BtfType,
    behind_ptr: bool,
    level: u32,
) -> Result<bool, RelocFailure> {
    let (Some(lm), Some(tm)) = (members(lt), members(tt)) else {
        return Ok(false);
    };
    if lm.len() > tm.len() {
        return Ok(false);
    }
    for l in lm {
        let mut matched = false;
        for t in tm {
            if !names_match(local, l.name_off, targ, t.name_off) {
                continue;
            }
            if types_match(
                local,
                l.type_id,
                targ,
                t.type_id,
                behind_ptr,
                level.saturating_sub(1),
            )? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}

fn fwd_is_union(t: &BtfType) -> bool {
    matches!(t.kind, TypeKind::Fwd { is_union: true })
}

/// TYPE_MATCHES: a stricter, recursive comparison (libbpf's `__bpf_core_types_match`).
pub fn types_match(
    local: &Btf,
    local_id: TypeId,
    targ: &Btf,
    targ_id: TypeId,
    mut behind_ptr: bool,
    level: u32,
) -> Result<bool, RelocFailure> {
    if level == 0 {
        return Err(RelocFailure::TooDeep);
    }
    let (mut lid, mut tid) = (local_id, targ_id);
    for _ in 0..MAX_DEPTH {
        let (_, lt) = resolve(local, lid).map_err(super::spec::local_err)?;
        let (_, tt) = resolve(targ, tid).map_err(targ_err)?;
        if !names_match(local, lt.name_off, targ, tt.name_off) {
            return Ok(false);
        }
        let (lk, tk) = (lt.kind(), tt.kind());
        match &lt.kind {
            TypeKind::Void => return Ok(lk == tk),
            TypeKind::Fwd { is_union } => {
                return Ok(match (behind_ptr, tk) {
                    (_, Kind::Fwd) => *is_union == fwd_is_union(tt),
                    (true, Kind::Struct) => !is_union,
                    (true, Kind::Union) => *is_union,
                    _ => false,
                })
            }
            TypeKind::Enum { .. } | TypeKind::Enum64 { .. } => {
                return Ok(
                    matches!(tk, Kind::Enum | Kind::Enum64) && enums_match(local, lt, targ, tt)
                )
            }
            TypeKind::Struct { .. } | TypeKind::Union { .. } => {
                if behind_ptr {
                    return Ok(
                        lk == tk || (tk == Kind::Fwd && (lk == Kind::Union) == fwd_is_union(tt))
                    );
                }
                return if lk == tk {
                    composites_match(local, lt, targ, tt, behind_ptr, level)
                } else {
                    Ok(false)
                };
            }
            TypeKind::Int {
                size: ls,
                encoding: le,
                ..
            } => {
                return Ok(match tt.kind {
                    TypeKind::Int {
                        size: ts,
                        encoding: te,
                        ..
                    } => {
                        *ls == ts && (le & crate::btf::INT_SIGNED) == (te & crate::btf::INT_SIGNED)
                    }
                    _ => false,
                })
            }
            TypeKind::Ptr { target: l } => {
                let TypeKind::Ptr { target: t } = tt.kind else {
                    return Ok(false);
                };
                behind_ptr = true;
                (lid, tid) = (*l, t);
            }
            TypeKind::Array {
                elem: l,
                nelems: ln,
                ..
            } => {
                let TypeKind::Array {
                    elem: t,
                    nelems: tn,
                    ..
                } = tt.kind
                else {
                    return Ok(false);
                };
                if *ln != tn {
                    return Ok(false);
                }
                (lid, tid) = (*l, t);
            }
            TypeKind::FuncProto {
                ret: lr,
                params: lp,
            } => {
                let TypeKind::FuncProto {
                    ret: tr,
                    params: tp,
                } = &tt.kind
                else {
                    return Ok(false);
                };
                if lp.len() != tp.len() {
                    return Ok(false);
                }
                for (l, t) in lp.iter().zip(tp) {
                    if !types_match(local, l.type_id, targ, t.type_id, behind_ptr, level - 1)? {
                        return Ok(false);
                    }
                }
                (lid, tid) = (*lr, *tr);
            }
            _ => return Ok(false),
        }
    }
    Err(RelocFailure::TooDeep)
}
