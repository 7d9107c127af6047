//! Access specs: a relocation's access string ("0:1:2") resolved against a BTF.
//!
//! The *raw* spec is every index of the string, including steps through anonymous members;
//! the *accessors* keep only what matters for matching: the root element, named members,
//! array indices and, for enum relocations, the enumerator.
use super::error::RelocFailure;
use super::kind::{RelocFamily, RelocKind};
use crate::btf::{Btf, BtfType, Kind, TypeId, TypeKind};

/// Deepest access libbpf accepts (`BPF_CORE_SPEC_MAX_LEN`).
pub const MAX_SPEC_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accessor<'b> {
    /// For a member: the struct/union holding it; for an array index: the element type; for an
    /// enumerator: the enum.
    pub type_id: TypeId,
    pub idx: u32,
    /// Member or enumerator name; `None` for array indices (and the root element).
    pub name: Option<&'b str>,
}

#[derive(Debug, Clone)]
pub struct Spec<'b> {
    pub btf: &'b Btf,
    pub root_type_id: TypeId,
    pub kind: RelocKind,
    pub raw: Vec<u32>,
    pub accessors: Vec<Accessor<'b>>,
    /// Offset of the accessed field from the start of the root pointer, in bits.
    pub bit_offset: u64,
}

impl<'b> Spec<'b> {
    pub fn empty(btf: &'b Btf, root_type_id: TypeId, kind: RelocKind) -> Spec<'b> {
        Spec {
            btf,
            root_type_id,
            kind,
            raw: Vec::new(),
            accessors: Vec::new(),
            bit_offset: 0,
        }
    }
}

fn bad(access: &str, reason: impl Into<String>) -> RelocFailure {
    RelocFailure::BadAccessString {
        access: access.to_string(),
        reason: reason.into(),
    }
}

/// Parses "0:1:2" into indices; rejects empty strings, empty or non-numeric parts.
fn parse_indices(access: &str) -> Result<Vec<u32>, RelocFailure> {
    if access.is_empty() {
        return Err(bad(access, "empty"));
    }
    let mut raw = Vec::new();
    for part in access.split(':') {
        if raw.len() == MAX_SPEC_LEN {
            return Err(bad(access, format!("more than {MAX_SPEC_LEN} accesses")));
        }
        let idx = part
            .parse::<u32>()
            .ok()
            .filter(|_| !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| bad(access, format!("'{part}' is not an index")))?;
        raw.push(idx);
    }
    Ok(raw)
}

pub(crate) fn local_err(e: crate::btf::BtfError) -> RelocFailure {
    RelocFailure::LocalBtf(e)
}

/// Members of a struct/union, `None` for other kinds.
pub fn members(t: &BtfType) -> Option<&[crate::btf::Member]> {
    match &t.kind {
        TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => Some(members),
        _ => None,
    }
}

/// Enumerators of an ENUM or ENUM64, `None` for other kinds.
pub fn enumerators(t: &BtfType) -> Option<&[crate::btf::Enumerator]> {
    match &t.kind {
        TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => Some(values),
        _ => None,
    }
}

/// `skip_mods_and_typedefs` returning the id and the type.
pub fn resolve(btf: &Btf, id: TypeId) -> Result<(TypeId, &BtfType), crate::btf::BtfError> {
    let id = btf.skip_mods_and_typedefs(id)?;
    Ok((id, btf.type_by_id(id)?))
}

/// An array is flexible if it has no elements and is the last member of the struct that the
/// previous named accessor points into.
pub fn is_flex_array(btf: &Btf, prev: Option<&Accessor>, nelems: u32) -> bool {
    let Some(prev) = prev else { return false };
    if prev.name.is_none() || nelems > 0 {
        return false;
    }
    btf.type_by_id(prev.type_id)
        .ok()
        .and_then(members)
        .is_some_and(|m| prev.idx as usize + 1 == m.len())
}

/// Resolves the local side of a relocation, validating the access string against the BTF.
pub fn parse_local<'b>(
    btf: &'b Btf,
    root_type_id: TypeId,
    kind: RelocKind,
    access: &str,
) -> Result<Spec<'b>, RelocFailure> {
    let mut spec = Spec::empty(btf, root_type_id, kind);
    if kind.family() == RelocFamily::Type {
        // Type relocations carry no field access: clang always emits "0".
        return if access == "0" {
            Ok(spec)
        } else {
            Err(bad(access, "type relocations must use \"0\""))
        };
    }
    spec.raw = parse_indices(access)?;
    let first = spec.raw.first().copied().unwrap_or(0);
    let (id, t) = resolve(btf, root_type_id).map_err(local_err)?;
    if kind.family() == RelocFamily::Enumval {
        let values = enumerators(t).ok_or_else(|| bad(access, "root type is not an enum"))?;
        let e = values
            .get(first as usize)
            .filter(|_| spec.raw.len() == 1)
            .ok_or_else(|| bad(access, format!("no enumerator #{first}")))?;
        spec.accessors.push(Accessor {
            type_id: id,
            idx: first,
            name: Some(btf.string_at(e.name_off).map_err(local_err)?),
        });
        return Ok(spec);
    }
    let size = btf.resolve_size(id).map_err(local_err)?;
    spec.accessors.push(Accessor {
        type_id: id,
        idx: first,
        name: None,
    });
    spec.bit_offset = u64::from(first) * u64::from(size) * 8;
    let mut cur = id;
    for pos in 1..spec.raw.len() {
        let idx = spec.raw[pos];
        let (id, t) = resolve(btf, cur).map_err(local_err)?;
        cur = match &t.kind {
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
                let m = members.get(idx as usize).ok_or_else(|| {
                    bad(access, format!("{} [{id}] has no member #{idx}", t.kind()))
                })?;
                spec.bit_offset += u64::from(m.bit_offset);
                if m.name_off != 0 {
                    let name = btf.string_at(m.name_off).map_err(local_err)?;
                    if name.is_empty() {
                        return Err(bad(
                            access,
                            format!("member #{idx} of [{id}] has an empty name"),
                        ));
                    }
                    spec.accessors.push(Accessor {
                        type_id: id,
                        idx,
                        name: Some(name),
                    });
                }
                m.type_id
            }
            TypeKind::Array { elem, nelems, .. } => {
                let (elem_id, _) = resolve(btf, *elem).map_err(local_err)?;
                let flex = is_flex_array(btf, spec.accessors.last(), *nelems);
                if !flex && idx >= *nelems {
                    return Err(bad(
                        access,
                        format!("index {idx} out of bounds of array [{id}] of {nelems}"),
                    ));
                }
                spec.accessors.push(Accessor {
                    type_id: elem_id,
                    idx,
                    name: None,
                });
                let elem_size = btf.resolve_size(elem_id).map_err(local_err)?;
                spec.bit_offset += u64::from(idx) * u64::from(elem_size) * 8;
                elem_id
            }
            _ => {
                return Err(bad(
                    access,
                    format!(
                        "access #{pos} reaches [{id}] of kind {}, not a struct, union or array",
                        t.kind()
                    ),
                ))
            }
        };
    }
    Ok(spec)
}

/// C spelling of a type's head: `struct task_struct`, `enum e`, `typedef u32`, `int`.
pub fn type_head(btf: &Btf, id: TypeId) -> String {
    let Ok(t) = btf.type_by_id(id) else {
        return format!("[{id}] (no such type)");
    };
    let name = btf.type_name(id).unwrap_or("");
    let name = if name.is_empty() { "<anon>" } else { name };
    match t.kind() {
        Kind::Struct => format!("struct {name}"),
        Kind::Union => format!("union {name}"),
        Kind::Enum | Kind::Enum64 => format!("enum {name}"),
        Kind::Typedef => format!("typedef {name}"),
        Kind::Fwd => format!("fwd {name}"),
        Kind::Int | Kind::Float => name.to_string(),
        other => format!("{other} {name}"),
    }
}

/// Renders the spec as C-like text: `struct task_struct::comm[2]`, `enum e::VAL`,
/// `struct foo`; the root index shows only when non-zero (`struct foo[1]::x`).
pub fn render(spec: &Spec) -> String {
    let mut out = type_head(spec.btf, spec.root_type_id);
    match spec.kind.family() {
        RelocFamily::Type => {}
        RelocFamily::Enumval => {
            if let Some(name) = spec.accessors.first().and_then(|a| a.name) {
                out.push_str("::");
                out.push_str(name);
            }
        }
        RelocFamily::Field => {
            let mut first_name = true;
            for (i, acc) in spec.accessors.iter().enumerate() {
                match acc.name {
                    Some(name) => {
                        out.push_str(if first_name { "::" } else { "." });
                        out.push_str(name);
                        first_name = false;
                    }
                    None if i > 0 || acc.idx > 0 => out.push_str(&format!("[{}]", acc.idx)),
                    None => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_indices;

    #[test]
    fn access_strings_parse_or_fail_precisely() {
        assert_eq!(parse_indices("0:1:2").unwrap(), vec![0, 1, 2]);
        assert_eq!(parse_indices("7").unwrap(), vec![7]);
        for bad in ["", ":1", "1:", "1::2", "a", "-1", "+1", "1 "] {
            assert!(parse_indices(bad).is_err(), "{bad:?} must be rejected");
        }
    }
}
