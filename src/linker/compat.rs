//! Type compatibility of one global symbol as seen by two objects (each with its own BTF):
//! functions by prototype, variables by type, maps field by field.
//!
//! The rules follow what the BPF toolchain expects of C linkage: typedefs and modifiers are
//! looked through; structs, unions, enums and forward declarations must agree by name (and,
//! for `exact` comparisons such as map keys and values, member by member); integers, floats
//! and enums by size; pointers, arrays and prototypes structurally.
use crate::btf::{Btf, Member, TypeId, TypeKind};

/// Deep enough for any real type graph; bounds the recursion on hostile input.
const MAX_DEPTH: u32 = 32;

pub fn types_match(a: &Btf, a_id: TypeId, b: &Btf, b_id: TypeId, exact: bool) -> Result<(), String> {
    match_at(a, a_id, b, b_id, exact, 0)
}

fn name(btf: &Btf, off: u32) -> &str {
    btf.string_at(off).unwrap_or("")
}

fn match_at(a: &Btf, a_id: TypeId, b: &Btf, b_id: TypeId, exact: bool, depth: u32) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("type chain too deep".into());
    }
    let skip = |btf: &Btf, id| btf.skip_mods_and_typedefs(id).map_err(|e| e.to_string());
    let (a_id, b_id) = (skip(a, a_id)?, skip(b, b_id)?);
    let ta = a.type_by_id(a_id).map_err(|e| e.to_string())?;
    let tb = b.type_by_id(b_id).map_err(|e| e.to_string())?;
    let (na, nb) = (name(a, ta.name_off), name(b, tb.name_off));
    let is_fwd = |k: &TypeKind| matches!(k, TypeKind::Fwd { .. });
    if !exact && is_fwd(&ta.kind) != is_fwd(&tb.kind) {
        // A forward declaration matches the complete struct/union of the same name.
        if na != nb {
            return Err(format!("'{na}' vs '{nb}'"));
        }
        let fwd_ok = |fwd: &TypeKind, full: &TypeKind| match (fwd, full) {
            (TypeKind::Fwd { is_union }, TypeKind::Union { .. }) => *is_union,
            (TypeKind::Fwd { is_union }, TypeKind::Struct { .. }) => !*is_union,
            _ => false,
        };
        return if fwd_ok(&ta.kind, &tb.kind) || fwd_ok(&tb.kind, &ta.kind) {
            Ok(())
        } else {
            Err(format!("forward declaration '{na}' does not match a {} '{nb}'", tb.kind()))
        };
    }
    if ta.kind() != tb.kind() {
        return Err(format!("{} '{na}' vs {} '{nb}'", ta.kind(), tb.kind()));
    }
    let named = matches!(
        ta.kind,
        TypeKind::Struct { .. }
            | TypeKind::Union { .. }
            | TypeKind::Enum { .. }
            | TypeKind::Enum64 { .. }
            | TypeKind::Fwd { .. }
            | TypeKind::Func { .. }
            | TypeKind::Var { .. }
    );
    if named && na != nb {
        return Err(format!("{} '{na}' vs '{nb}'", ta.kind()));
    }
    let recurse = |x: TypeId, y: TypeId| match_at(a, x, b, y, exact, depth + 1);
    match (&ta.kind, &tb.kind) {
        (TypeKind::Int { size: s1, .. }, TypeKind::Int { size: s2, .. })
        | (TypeKind::Float { size: s1 }, TypeKind::Float { size: s2 })
        | (TypeKind::Enum { size: s1, .. }, TypeKind::Enum { size: s2, .. })
        | (TypeKind::Enum64 { size: s1, .. }, TypeKind::Enum64 { size: s2, .. }) => {
            if s1 == s2 {
                Ok(())
            } else {
                Err(format!("{} '{na}' is {s1} bytes vs {s2}", ta.kind()))
            }
        }
        (TypeKind::Struct { size: s1, members: m1, .. }, TypeKind::Struct { size: s2, members: m2, .. })
        | (TypeKind::Union { size: s1, members: m1, .. }, TypeKind::Union { size: s2, members: m2, .. }) => {
            if !exact {
                return Ok(());
            }
            if s1 != s2 || m1.len() != m2.len() {
                return Err(format!("{} '{na}' layout differs ({s1} vs {s2} bytes, {} vs {} members)", ta.kind(), m1.len(), m2.len()));
            }
            for (x, y) in m1.iter().zip(m2) {
                members_match(a, x, b, y)?;
                recurse(x.type_id, y.type_id).map_err(|e| format!("member '{}': {e}", name(a, x.name_off)))?;
            }
            Ok(())
        }
        (TypeKind::Array { elem: e1, nelems: n1, .. }, TypeKind::Array { elem: e2, nelems: n2, .. }) => {
            if n1 != n2 {
                return Err(format!("array of {n1} vs {n2} elements"));
            }
            recurse(*e1, *e2)
        }
        (TypeKind::Ptr { target: t1 }, TypeKind::Ptr { target: t2 }) => recurse(*t1, *t2),
        (TypeKind::FuncProto { ret: r1, params: p1 }, TypeKind::FuncProto { ret: r2, params: p2 }) => {
            if p1.len() != p2.len() {
                return Err(format!("{} vs {} parameters", p1.len(), p2.len()));
            }
            for (i, (x, y)) in p1.iter().zip(p2).enumerate() {
                recurse(x.type_id, y.type_id).map_err(|e| format!("parameter {i}: {e}"))?;
            }
            recurse(*r1, *r2).map_err(|e| format!("return type: {e}"))
        }
        (TypeKind::Func { proto: t1, .. }, TypeKind::Func { proto: t2, .. })
        | (TypeKind::Var { type_id: t1, .. }, TypeKind::Var { type_id: t2, .. }) => recurse(*t1, *t2),
        (TypeKind::Void, _) | (TypeKind::Fwd { .. }, _) => Ok(()),
        _ => Err(format!("unexpected {} '{na}'", ta.kind())),
    }
}

fn members_match(a: &Btf, x: &Member, b: &Btf, y: &Member) -> Result<(), String> {
    let (nx, ny) = (name(a, x.name_off), name(b, y.name_off));
    if nx != ny || x.bit_offset != y.bit_offset || x.bitfield_size != y.bitfield_size {
        return Err(format!("member '{nx}' at bit {} vs '{ny}' at bit {}", x.bit_offset, y.bit_offset));
    }
    Ok(())
}

/// A BTF-defined map's declared attributes (the `__uint`/`__type`/`__array` fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapDef {
    pub map_type: u32,
    pub key_size: Option<u32>,
    pub value_size: Option<u32>,
    pub key_type: Option<TypeId>,
    pub value_type: Option<TypeId>,
    pub max_entries: u32,
    pub map_flags: u32,
    pub numa_node: u32,
    pub pinning: u32,
    pub map_extra: u64,
    pub inner: Option<Box<MapDef>>,
}

/// Reads the map definition of the struct behind `var_type` (a `.maps` VAR's type).
pub fn map_def(btf: &Btf, var_type: TypeId) -> Result<MapDef, String> {
    map_def_at(btf, var_type, true)
}

fn map_def_at(btf: &Btf, id: TypeId, outer: bool) -> Result<MapDef, String> {
    let sid = btf.skip_mods_and_typedefs(id).map_err(|e| e.to_string())?;
    let t = btf.type_by_id(sid).map_err(|e| e.to_string())?;
    let TypeKind::Struct { members, .. } = &t.kind else {
        return Err(format!("type {sid} is a {}, not a struct", t.kind()));
    };
    let mut def = MapDef::default();
    for m in members {
        let field = name(btf, m.name_off);
        match field {
            "type" => def.map_type = int_field(btf, field, m.type_id)? as u32,
            "max_entries" => def.max_entries = int_field(btf, field, m.type_id)? as u32,
            "map_flags" => def.map_flags = int_field(btf, field, m.type_id)? as u32,
            "numa_node" => def.numa_node = int_field(btf, field, m.type_id)? as u32,
            "pinning" => def.pinning = int_field(btf, field, m.type_id)? as u32,
            "map_extra" => def.map_extra = int_field(btf, field, m.type_id)?,
            "key_size" => def.key_size = Some(int_field(btf, field, m.type_id)? as u32),
            "value_size" => def.value_size = Some(int_field(btf, field, m.type_id)? as u32),
            "key" | "value" => {
                let target = pointee(btf, field, m.type_id)?;
                let size = btf.resolve_size(target).map_err(|e| format!("'{field}': {e}"))?;
                if field == "key" {
                    def.key_type = Some(target);
                    def.key_size = Some(size);
                } else {
                    def.value_type = Some(target);
                    def.value_size = Some(size);
                }
            }
            "values" if outer => def.inner = inner_def(btf, m.type_id)?.map(Box::new),
            _ => {}
        }
    }
    Ok(def)
}

/// `int (*name)[N]` encodes N; `__ulong` uses an enum whose (only) value is the number.
fn int_field(btf: &Btf, field: &str, id: TypeId) -> Result<u64, String> {
    let t = btf.type_by_id(id).map_err(|e| e.to_string())?;
    match &t.kind {
        TypeKind::Ptr { target } => match &btf.type_by_id(*target).map_err(|e| e.to_string())?.kind {
            TypeKind::Array { nelems, .. } => Ok(u64::from(*nelems)),
            other => Err(format!("'{field}' points to {other:?}, not an array")),
        },
        TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => {
            values.first().map(|v| v.value).ok_or_else(|| format!("'{field}' enum has no value"))
        }
        _ => Err(format!("'{field}' is a {}, not an encoded integer", t.kind())),
    }
}

fn pointee(btf: &Btf, field: &str, id: TypeId) -> Result<TypeId, String> {
    match &btf.type_by_id(id).map_err(|e| e.to_string())?.kind {
        TypeKind::Ptr { target } => Ok(*target),
        _ => Err(format!("'{field}' is not a pointer")),
    }
}

/// The inner map of a map-in-map (`__array(values, struct {...})`); prog arrays declare
/// function-pointer values and have none.
fn inner_def(btf: &Btf, id: TypeId) -> Result<Option<MapDef>, String> {
    let t = btf.type_by_id(id).map_err(|e| e.to_string())?;
    let TypeKind::Array { elem, .. } = &t.kind else {
        return Err("'values' is not an array".into());
    };
    let ptr = btf.type_by_id(*elem).map_err(|e| e.to_string())?;
    let TypeKind::Ptr { target } = &ptr.kind else {
        return Err("'values' elements are not pointers".into());
    };
    let sid = btf.skip_mods_and_typedefs(*target).map_err(|e| e.to_string())?;
    match &btf.type_by_id(sid).map_err(|e| e.to_string())?.kind {
        TypeKind::Struct { .. } => map_def_at(btf, sid, false).map(Some),
        _ => Ok(None),
    }
}

/// Compares two map definitions field by field; the error names the first differing field.
pub fn map_defs_match(a: &Btf, x: &MapDef, b: &Btf, y: &MapDef) -> Result<(), String> {
    let differ = |field: &str, p: &dyn std::fmt::Debug, q: &dyn std::fmt::Debug| Err(format!("{field} {p:?} vs {q:?}"));
    if x.map_type != y.map_type {
        return differ("type", &x.map_type, &y.map_type);
    }
    if x.key_size != y.key_size {
        return differ("key_size", &x.key_size, &y.key_size);
    }
    if x.value_size != y.value_size {
        return differ("value_size", &x.value_size, &y.value_size);
    }
    for (field, p, q) in [("key type", x.key_type, y.key_type), ("value type", x.value_type, y.value_type)] {
        match (p, q) {
            (Some(p), Some(q)) => types_match(a, p, b, q, true).map_err(|e| format!("{field}: {e}"))?,
            (None, None) => {}
            _ => return Err(format!("{field} declared in only one of them")),
        }
    }
    if x.max_entries != y.max_entries {
        return differ("max_entries", &x.max_entries, &y.max_entries);
    }
    if x.map_flags != y.map_flags {
        return differ("map_flags", &x.map_flags, &y.map_flags);
    }
    if x.numa_node != y.numa_node {
        return differ("numa_node", &x.numa_node, &y.numa_node);
    }
    if x.pinning != y.pinning {
        return differ("pinning", &x.pinning, &y.pinning);
    }
    if x.map_extra != y.map_extra {
        return differ("map_extra", &x.map_extra, &y.map_extra);
    }
    match (&x.inner, &y.inner) {
        (Some(p), Some(q)) => map_defs_match(a, p, b, q).map_err(|e| format!("inner map: {e}")),
        (None, None) => Ok(()),
        _ => Err("inner map declared in only one of them".into()),
    }
}
