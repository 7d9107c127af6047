//! Computing a relocation's expected local value and its target value from matched specs.
use super::error::RelocFailure;
use super::kind::{RelocFamily, RelocKind};
use super::spec::{enumerators, local_err, members, resolve, Spec};
use crate::btf::{Btf, BtfError, Kind, TypeId, TypeKind, INT_SIGNED};

/// The decision for one relocation, computed before touching the instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelocResult {
    /// Value the instruction is expected to hold (what the compiler computed locally).
    pub orig_val: u64,
    /// Value to write.
    pub new_val: u64,
    /// Nothing matched and a value is required: replace the instruction by an invalid call.
    pub poison: bool,
    /// Check the instruction holds `orig_val` before patching.
    pub validate: bool,
    /// Field sizes differ in a way a narrower/wider load cannot express safely.
    pub fail_memsz_adjust: bool,
    /// Field size behind a load/store, locally and in the target (0 when not a plain field).
    pub orig_sz: u32,
    pub new_sz: u32,
}

/// One side's field value plus what a memory access through it needs to know.
struct FieldValue {
    val: u64,
    size: u32,
    type_id: TypeId,
    validate: bool,
}

/// A side's outcome: a value, or a request to poison (no target where one is required).
enum Side<T> {
    Value(T),
    Poison,
}

fn btf_err(local: bool) -> impl Fn(BtfError) -> RelocFailure {
    move |e| {
        if local {
            local_err(e)
        } else {
            RelocFailure::TargetBtf(e)
        }
    }
}

/// Size of the innermost element of an array type (the type itself if not an array), as
/// loads through a field of array type move single elements.
fn element_size(btf: &Btf, id: TypeId) -> Result<(TypeId, u32), BtfError> {
    let (mut id, mut t) = resolve(btf, id)?;
    // Bounded: each step moves to a strictly inner array; BTF validation forbids cycles, but
    // stay finite regardless.
    for _ in 0..=btf.type_count() {
        let TypeKind::Array { elem, .. } = t.kind else {
            break;
        };
        (id, t) = resolve(btf, elem)?;
    }
    Ok((id, btf.resolve_size(id)?))
}

fn field_value(
    kind: RelocKind,
    spec: Option<&Spec>,
    local: bool,
) -> Result<Side<FieldValue>, RelocFailure> {
    let err = btf_err(local);
    if kind == RelocKind::FieldExists {
        return Ok(Side::Value(FieldValue {
            val: u64::from(spec.is_some()),
            size: 0,
            type_id: 0,
            validate: true,
        }));
    }
    let Some(spec) = spec else {
        return Ok(Side::Poison);
    };
    let btf = spec.btf;
    let Some(acc) = spec.accessors.last() else {
        return Err(RelocFailure::ArrayAccess(kind.as_str()));
    };
    if acc.name.is_none() {
        // An array element (or the root) is accessed: only offset and size make sense.
        let (elem_id, elem_size) = element_size(btf, acc.type_id).map_err(&err)?;
        let whole_size = btf.resolve_size(acc.type_id).map_err(&err)?;
        return match kind {
            RelocKind::FieldByteOffset => Ok(Side::Value(FieldValue {
                val: spec.bit_offset / 8,
                size: elem_size,
                type_id: elem_id,
                validate: true,
            })),
            RelocKind::FieldByteSize => Ok(Side::Value(FieldValue {
                val: u64::from(whole_size),
                size: 0,
                type_id: 0,
                validate: true,
            })),
            _ => Err(RelocFailure::ArrayAccess(kind.as_str())),
        };
    }
    let holder = btf.type_by_id(acc.type_id).map_err(&err)?;
    let member = members(holder)
        .and_then(|m| m.get(acc.idx as usize))
        .ok_or(RelocFailure::ArrayAccess(kind.as_str()))?;
    let (field_type_id, mt) = resolve(btf, member.type_id).map_err(&err)?;
    let bit_off = spec.bit_offset;
    let bitfield = member.bitfield_size > 0;
    let (byte_off, byte_sz, bit_sz) = if bitfield {
        bitfield_window(
            bit_off,
            u32::from(member.bitfield_size),
            scalar_size(btf, field_type_id).map_err(&err)?,
        )?
    } else {
        let sz = btf.resolve_size(field_type_id).map_err(&err)?;
        (bit_off / 8, sz, sz.saturating_mul(8))
    };
    // Bitfield offsets and sizes are ours to choose and may differ from the compiler's, so
    // only unambiguous kinds are validated against the instruction.
    let mut validate = !bitfield;
    let mut size = 0;
    let mut type_id = 0;
    let val = match kind {
        RelocKind::FieldByteOffset => {
            if !bitfield {
                (type_id, size) = element_size(btf, field_type_id).map_err(&err)?;
            }
            byte_off
        }
        RelocKind::FieldByteSize => u64::from(byte_sz),
        RelocKind::FieldSigned => {
            validate = true;
            u64::from(is_signed(&mt.kind))
        }
        RelocKind::FieldLshiftU64 => lshift_u64(bit_off, bit_sz, byte_off, byte_sz),
        RelocKind::FieldRshiftU64 => {
            validate = true;
            64u64.saturating_sub(u64::from(bit_sz))
        }
        _ => return Err(RelocFailure::UnknownKind(kind as u32)),
    };
    Ok(Side::Value(FieldValue {
        val,
        size,
        type_id,
        validate,
    }))
}

fn is_signed(kind: &TypeKind) -> bool {
    match kind {
        TypeKind::Enum { signed, .. } | TypeKind::Enum64 { signed, .. } => *signed,
        TypeKind::Int { encoding, .. } => encoding & INT_SIGNED != 0,
        _ => false,
    }
}

/// Size of an int/enum underlying a bitfield.
fn scalar_size(btf: &Btf, id: TypeId) -> Result<u32, BtfError> {
    btf.resolve_size(id)
}

/// The smallest naturally aligned load (starting at the type's size, doubling up to 8 bytes)
/// that covers a bitfield: (byte offset, load size, bit size).
fn bitfield_window(
    bit_off: u64,
    bit_sz: u32,
    type_size: u32,
) -> Result<(u64, u32, u32), RelocFailure> {
    let too_wide = RelocFailure::BitfieldTooWide {
        bit_offset: bit_off,
        bit_size: bit_sz,
    };
    let mut byte_sz = type_size.max(1);
    let mut byte_off = bit_off / 8 / u64::from(byte_sz) * u64::from(byte_sz);
    while bit_off + u64::from(bit_sz) - byte_off * 8 > u64::from(byte_sz) * 8 {
        if byte_sz >= 8 {
            return Err(too_wide);
        }
        byte_sz *= 2;
        byte_off = bit_off / 8 / u64::from(byte_sz) * u64::from(byte_sz);
    }
    Ok((byte_off, byte_sz, bit_sz))
}

/// Left shift that moves the field's top bit to bit 63 of a u64 loaded at `byte_off`.
fn lshift_u64(bit_off: u64, bit_sz: u32, byte_off: u64, byte_sz: u32) -> u64 {
    let within = bit_off - byte_off * 8;
    if cfg!(target_endian = "little") {
        64u64.wrapping_sub(within + u64::from(bit_sz))
    } else {
        (8 - u64::from(byte_sz)) * 8 + within
    }
}

fn type_value(
    kind: RelocKind,
    spec: Option<&Spec>,
    local: bool,
) -> Result<(u64, bool), RelocFailure> {
    let Some(spec) = spec else {
        // Type relocations yield 0 when the type is missing.
        return Ok((0, true));
    };
    Ok(match kind {
        // Type ids in instructions go stale when objects are linked: never validated.
        RelocKind::TypeIdTarget | RelocKind::TypeIdLocal => (u64::from(spec.root_type_id), false),
        RelocKind::TypeExists | RelocKind::TypeMatches => (1, true),
        RelocKind::TypeSize => (
            u64::from(
                spec.btf
                    .resolve_size(spec.root_type_id)
                    .map_err(btf_err(local))?,
            ),
            true,
        ),
        _ => return Err(RelocFailure::UnknownKind(kind as u32)),
    })
}

fn enumval_value(
    kind: RelocKind,
    spec: Option<&Spec>,
    local: bool,
) -> Result<Side<u64>, RelocFailure> {
    let Some(spec) = spec else {
        return Ok(match kind {
            RelocKind::EnumvalExists => Side::Value(0),
            _ => Side::Poison,
        });
    };
    if kind == RelocKind::EnumvalExists {
        return Ok(Side::Value(1));
    }
    let acc = spec
        .accessors
        .first()
        .ok_or(RelocFailure::ArrayAccess(kind.as_str()))?;
    let t = spec.btf.type_by_id(acc.type_id).map_err(btf_err(local))?;
    let e = enumerators(t)
        .and_then(|v| v.get(acc.idx as usize))
        .ok_or(RelocFailure::ArrayAccess(kind.as_str()))?;
    // 32-bit enumerators are read as signed and widened, as libbpf does, whatever the enum's
    // signedness; ENUM64 values are taken as stored.
    let val = match t.kind() {
        Kind::Enum => e.value as u32 as i32 as i64 as u64,
        _ => e.value,
    };
    Ok(Side::Value(val))
}

/// Computes the relocation's result for `local` against `targ` (`None`: no candidate matched).
pub fn calc_relo(
    kind: RelocKind,
    local: &Spec,
    targ: Option<&Spec>,
) -> Result<RelocResult, RelocFailure> {
    let mut res = RelocResult::default();
    match kind.family() {
        RelocFamily::Field => {
            let (Side::Value(l), t) = (
                field_value(kind, Some(local), true)?,
                field_value(kind, targ, false)?,
            ) else {
                res.poison = true;
                return Ok(res);
            };
            let Side::Value(t) = t else {
                res.poison = true;
                return Ok(res);
            };
            res.orig_val = l.val;
            res.new_val = t.val;
            res.validate = l.validate;
            res.orig_sz = l.size;
            res.new_sz = t.size;
            if l.size != t.size {
                res.fail_memsz_adjust =
                    !size_change_is_safe(local.btf, l.type_id, targ.map(|s| s.btf), t.type_id);
            }
        }
        RelocFamily::Type => {
            let (orig, validate) = type_value(kind, Some(local), true)?;
            let (new, _) = type_value(kind, targ, false)?;
            res.orig_val = orig;
            res.new_val = new;
            res.validate = validate;
        }
        RelocFamily::Enumval => {
            let l = enumval_value(kind, Some(local), true)?;
            let t = enumval_value(kind, targ, false)?;
            match (l, t) {
                (Side::Value(l), Side::Value(t)) => {
                    res.orig_val = l;
                    res.new_val = t;
                    res.validate = true;
                }
                _ => res.poison = true,
            }
        }
    }
    Ok(res)
}

/// A load/store may change width only for pointers (kernel pointers may be 32-bit) and
/// unsigned integers (zero extension keeps the value).
fn size_change_is_safe(local: &Btf, local_id: TypeId, targ: Option<&Btf>, targ_id: TypeId) -> bool {
    let (Ok(l), Some(Ok(t))) = (
        local.type_by_id(local_id),
        targ.map(|b| b.type_by_id(targ_id)),
    ) else {
        return false;
    };
    match (&l.kind, &t.kind) {
        (TypeKind::Ptr { .. }, TypeKind::Ptr { .. }) => true,
        (TypeKind::Int { encoding: le, .. }, TypeKind::Int { encoding: te, .. }) => {
            *le != INT_SIGNED && *te != INT_SIGNED
        }
        _ => false,
    }
}
