//! Decoding and encoding of single BTF type records (`struct btf_type` plus its kind-specific
//! trailing data). Decoding rejects every bit the model cannot represent, so that a successful
//! decode always re-encodes to the same bytes.
use super::bytes::{Reader, Writer};
use super::error::BtfError;
use super::types::*;

/// Size of `struct btf_type`.
pub(crate) const TYPE_HEADER_SIZE: usize = 12;
/// `info` bits the format defines: vlen (0-15), kind (24-28), kind_flag (31).
const INFO_KNOWN_BITS: u32 = 0x9f00_ffff;
/// INT word bits the format defines: encoding (24-27), offset (16-23), bits (0-7).
const INT_KNOWN_BITS: u32 = 0x0fff_00ff;

/// The 32-bit words of a type section, read by byte offset: the section's bytes in their
/// byte order (parsing) or words already in native order (the linker's raw BTF).
pub(crate) trait TypeWords: Copy {
    fn u32(&self, off: usize) -> Option<u32>;
    /// Length of the section in bytes.
    fn byte_len(&self) -> usize;
}

impl TypeWords for Reader<'_> {
    #[inline]
    fn u32(&self, off: usize) -> Option<u32> {
        Reader::u32(self, off)
    }
    fn byte_len(&self) -> usize {
        self.data.len()
    }
}

/// A type section held as native-endian words; `byte_len` may exceed `4 * words.len()` by the
/// bytes of a partial last word (which no complete record can include).
#[derive(Clone, Copy)]
pub(crate) struct NativeWords<'a> {
    pub words: &'a [u32],
    pub byte_len: usize,
}

impl TypeWords for NativeWords<'_> {
    /// Records are whole words, so every offset read is a multiple of 4.
    #[inline]
    fn u32(&self, off: usize) -> Option<u32> {
        self.words.get(off / 4).copied()
    }
    fn byte_len(&self) -> usize {
        self.byte_len
    }
}

/// The fixed part of a record, checked.
pub(crate) struct RawHeader {
    pub name_off: u32,
    pub vlen: u32,
    pub kind: Kind,
    pub kind_flag: bool,
    pub size_or_type: u32,
    /// Encoded length in bytes, trailing data included.
    pub len: usize,
}

/// A decoded type record.
pub(crate) struct Decoded {
    pub ty: BtfType,
    /// Encoded length in bytes.
    pub len: usize,
    /// A DECL_TAG/TYPE_TAG with kind_flag set: its name is a whole `__attribute__` (kernel 6.14+).
    pub attribute_tag: bool,
}

/// Decodes the type record at `off` of the type section.
#[inline]
pub(crate) fn decode_type(r: impl TypeWords, off: usize, id: TypeId) -> Result<Decoded, BtfError> {
    let h = check_record(r, off, id)?;
    let kind = decode_body(r, off + TYPE_HEADER_SIZE, &h);
    let attribute_tag = h.kind_flag && matches!(h.kind, Kind::DeclTag | Kind::TypeTag);
    Ok(Decoded {
        ty: BtfType {
            name_off: h.name_off,
            kind,
        },
        len: h.len,
        attribute_tag,
    })
}

/// Checks the record at `off` against every rule of the encoding (known kind and bits,
/// complete trailing data, fields a kind does not use left zero) without decoding it.
#[inline]
pub(crate) fn check_record(r: impl TypeWords, off: usize, id: TypeId) -> Result<RawHeader, BtfError> {
    let available = r.byte_len().saturating_sub(off);
    let truncated = |need: usize| BtfError::TruncatedType {
        id,
        offset: off,
        need,
        available,
    };
    let (Some(name_off), Some(info), Some(size_or_type)) =
        (r.u32(off), r.u32(off + 4), r.u32(off + 8))
    else {
        return Err(truncated(TYPE_HEADER_SIZE));
    };
    let raw_kind = (info >> 24) & 0x1f;
    let kind = match Kind::from_raw(raw_kind) {
        Some(k) if k != Kind::Void => k,
        _ => {
            return Err(BtfError::UnknownKind {
                id,
                offset: off,
                kind: raw_kind,
            })
        }
    };
    if info & !INFO_KNOWN_BITS != 0 {
        return Err(BtfError::InvalidType {
            id,
            kind,
            reason: format!("reserved bits set in info word {info:#010x}"),
        });
    }
    let vlen = info & 0xffff;
    let len = TYPE_HEADER_SIZE + trailing_len(kind, vlen);
    if len > available {
        return Err(truncated(len));
    }
    let h = RawHeader {
        name_off,
        vlen,
        kind,
        kind_flag: info >> 31 != 0,
        size_or_type,
        len,
    };
    check_body(r, off + TYPE_HEADER_SIZE, id, &h)?;
    Ok(h)
}

/// Bytes of kind-specific data after `struct btf_type`.
pub(crate) fn trailing_len(kind: Kind, vlen: u32) -> usize {
    let vlen = vlen as usize;
    match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => 4,
        Kind::Array => 12,
        Kind::Struct | Kind::Union | Kind::Enum64 | Kind::Datasec => 12 * vlen,
        Kind::Enum | Kind::FuncProto => 8 * vlen,
        _ => 0,
    }
}

/// The kind and length in words of the record at word `at` of `words` if it obeys every rule
/// `check_record` enforces; None if it breaks one (`check_record` then says which). The
/// fast path of parsing without decoding, where a type costs a few instructions.
#[inline]
pub(crate) fn valid_record_words(words: &[u32], at: usize) -> Option<(Kind, usize)> {
    let &[_, info, size_or_type, ..] = words.get(at..)? else { return None };
    if info & !INFO_KNOWN_BITS != 0 {
        return None;
    }
    let kind = Kind::from_raw((info >> 24) & 0x1f).filter(|&k| k != Kind::Void)?;
    let vlen = info & 0xffff;
    if (vlen != 0 && !uses_vlen(kind)) || (info >> 31 != 0 && !uses_kind_flag(kind)) {
        return None;
    }
    let len = (TYPE_HEADER_SIZE + trailing_len(kind, vlen)) / 4;
    if words.len() - at < len {
        return None;
    }
    let fits = match kind {
        Kind::Array | Kind::Fwd => size_or_type == 0,
        Kind::Int => check_int(0, size_or_type, words[at + 3]).is_ok(),
        _ => true,
    };
    fits.then_some((kind, len))
}

/// Kinds whose vlen field means something (entry count, or a FUNC's linkage).
fn uses_vlen(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::FuncProto | Kind::Datasec | Kind::Func
    )
}

/// Kinds whose kind_flag means something.
fn uses_kind_flag(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::DeclTag | Kind::TypeTag
    )
}

/// The rules of the header fields and the INT word (the rest of the trailing data is free).
fn check_body(r: impl TypeWords, body: usize, id: TypeId, h: &RawHeader) -> Result<(), BtfError> {
    let kind = h.kind;
    if !uses_vlen(kind) && h.vlen != 0 {
        return Err(BtfError::UnexpectedVlen {
            id,
            kind,
            vlen: h.vlen,
        });
    }
    if !uses_kind_flag(kind) && h.kind_flag {
        return Err(BtfError::UnexpectedKindFlag { id, kind });
    }
    match kind {
        Kind::Array | Kind::Fwd if h.size_or_type != 0 => Err(BtfError::UnusedFieldNotZero {
            id,
            kind,
            value: h.size_or_type,
        }),
        Kind::Int => check_int(id, h.size_or_type, r.u32(body).unwrap_or(0)),
        _ => Ok(()),
    }
}

/// Builds the payload of a record `check_record` accepted.
fn decode_body(r: impl TypeWords, body: usize, h: &RawHeader) -> TypeKind {
    // Every read below is within the record's length, checked by `check_record`; `word`
    // only guards against arithmetic mistakes without panicking.
    let word = |at: usize| r.u32(at).unwrap_or(0);
    let target = h.size_or_type;
    match h.kind {
        Kind::Void => TypeKind::Void,
        Kind::Int => {
            let (encoding, bit_offset, bits) = int_fields(word(body));
            TypeKind::Int {
                size: h.size_or_type,
                encoding,
                bit_offset,
                bits,
            }
        }
        Kind::Ptr => TypeKind::Ptr { target },
        Kind::Typedef => TypeKind::Typedef { target },
        Kind::Volatile => TypeKind::Volatile { target },
        Kind::Const => TypeKind::Const { target },
        Kind::Restrict => TypeKind::Restrict { target },
        Kind::TypeTag => TypeKind::TypeTag { target },
        Kind::Array => TypeKind::Array {
            elem: word(body),
            index: word(body + 4),
            nelems: word(body + 8),
        },
        Kind::Struct | Kind::Union => {
            let members = (0..h.vlen as usize)
                .map(|i| decode_member(word, body + 12 * i, h.kind_flag))
                .collect();
            let size = h.size_or_type;
            if h.kind == Kind::Struct {
                TypeKind::Struct {
                    size,
                    kind_flag: h.kind_flag,
                    members,
                }
            } else {
                TypeKind::Union {
                    size,
                    kind_flag: h.kind_flag,
                    members,
                }
            }
        }
        Kind::Enum => {
            let values = (0..h.vlen as usize)
                .map(|i| {
                    let raw = word(body + 8 * i + 4);
                    let value = if h.kind_flag {
                        raw as i32 as i64 as u64
                    } else {
                        u64::from(raw)
                    };
                    Enumerator {
                        name_off: word(body + 8 * i),
                        value,
                    }
                })
                .collect();
            TypeKind::Enum {
                size: h.size_or_type,
                signed: h.kind_flag,
                values,
            }
        }
        Kind::Enum64 => {
            let values = (0..h.vlen as usize)
                .map(|i| {
                    let at = body + 12 * i;
                    let value = u64::from(word(at + 4)) | (u64::from(word(at + 8)) << 32);
                    Enumerator {
                        name_off: word(at),
                        value,
                    }
                })
                .collect();
            TypeKind::Enum64 {
                size: h.size_or_type,
                signed: h.kind_flag,
                values,
            }
        }
        Kind::Fwd => TypeKind::Fwd {
            is_union: h.kind_flag,
        },
        Kind::Func => TypeKind::Func {
            proto: target,
            linkage: FuncLinkage::from_raw(h.vlen as u16),
        },
        Kind::FuncProto => {
            let params = (0..h.vlen as usize)
                .map(|i| Param {
                    name_off: word(body + 8 * i),
                    type_id: word(body + 8 * i + 4),
                })
                .collect();
            TypeKind::FuncProto {
                ret: target,
                params,
            }
        }
        Kind::Var => TypeKind::Var {
            type_id: target,
            linkage: VarLinkage::from_raw(word(body)),
        },
        Kind::Datasec => {
            let vars = (0..h.vlen as usize)
                .map(|i| {
                    let at = body + 12 * i;
                    VarSecInfo {
                        type_id: word(at),
                        offset: word(at + 4),
                        size: word(at + 8),
                    }
                })
                .collect();
            TypeKind::Datasec {
                size: h.size_or_type,
                vars,
            }
        }
        Kind::Float => TypeKind::Float {
            size: h.size_or_type,
        },
        Kind::DeclTag => TypeKind::DeclTag {
            target,
            component_idx: word(body) as i32,
        },
    }
}

/// Encoding, bit offset and bit count of an INT word.
fn int_fields(raw: u32) -> (u8, u8, u8) {
    (((raw >> 24) & 0x0f) as u8, ((raw >> 16) & 0xff) as u8, (raw & 0xff) as u8)
}

fn check_int(id: TypeId, size: u32, raw: u32) -> Result<(), BtfError> {
    if raw & !INT_KNOWN_BITS != 0 {
        return Err(BtfError::BadInt {
            id,
            raw,
            reason: "reserved bits set",
        });
    }
    let (encoding, bit_offset, bits) = int_fields(raw);
    if encoding.count_ones() > 1 {
        return Err(BtfError::BadInt {
            id,
            raw,
            reason: "more than one of SIGNED, CHAR, BOOL",
        });
    }
    if encoding & !(INT_SIGNED | INT_CHAR | INT_BOOL) != 0 {
        return Err(BtfError::BadInt {
            id,
            raw,
            reason: "unknown encoding bit",
        });
    }
    if u64::from(bit_offset) + u64::from(bits) > u64::from(size) * 8 {
        return Err(BtfError::BadInt {
            id,
            raw,
            reason: "offset + bits exceed the int's size",
        });
    }
    Ok(())
}

fn decode_member(word: impl Fn(usize) -> u32, at: usize, kind_flag: bool) -> Member {
    let offset = word(at + 8);
    let (bit_offset, bitfield_size) = if kind_flag {
        (offset & 0x00ff_ffff, (offset >> 24) as u8)
    } else {
        (offset, 0)
    };
    Member {
        name_off: word(at),
        type_id: word(at + 4),
        bit_offset,
        bitfield_size,
    }
}

/// Checks that `t` fits the binary format (vlen, bitfield encodings); `encode_type` truncates
/// silently what does not fit, so writers that care call this first.
pub(crate) fn check_encodable(id: TypeId, t: &BtfType) -> Result<(), BtfError> {
    let kind = t.kind();
    let bad = |reason: String| Err(BtfError::NotEncodable { id, kind, reason });
    let vlen = vlen_of(t);
    if vlen > 0xffff {
        return bad(format!("{vlen} trailing records exceed the 16-bit vlen"));
    }
    match &t.kind {
        TypeKind::Struct {
            kind_flag, members, ..
        }
        | TypeKind::Union {
            kind_flag, members, ..
        } => {
            for (i, m) in members.iter().enumerate() {
                if *kind_flag && m.bit_offset > 0x00ff_ffff {
                    return bad(format!(
                        "member {i} bit offset {} exceeds 24 bits",
                        m.bit_offset
                    ));
                }
                if !*kind_flag && m.bitfield_size != 0 {
                    return bad(format!("member {i} is a bitfield but kind_flag is clear"));
                }
            }
        }
        TypeKind::Int { encoding, .. } if *encoding > 0x0f => {
            return bad(format!("encoding {encoding:#x} exceeds 4 bits"));
        }
        _ => {}
    }
    Ok(())
}

fn vlen_of(t: &BtfType) -> usize {
    match &t.kind {
        TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => members.len(),
        TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => values.len(),
        TypeKind::FuncProto { params, .. } => params.len(),
        TypeKind::Datasec { vars, .. } => vars.len(),
        TypeKind::Func { linkage, .. } => linkage.to_raw() as usize,
        _ => 0,
    }
}

/// Bytes `encode_type` writes for `t`.
pub(crate) fn encoded_len(t: &BtfType) -> usize {
    match t.kind() {
        Kind::Void => 0,
        kind => TYPE_HEADER_SIZE + trailing_len(kind, vlen_of(t) as u32),
    }
}

fn info_word(kind: Kind, vlen: usize, kind_flag: bool) -> u32 {
    ((kind_flag as u32) << 31) | ((kind as u32) << 24) | (vlen as u32 & 0xffff)
}

/// Appends the binary encoding of `t` (no-op for `void`, which has no record).
/// `attribute_tag` sets kind_flag on a DECL_TAG/TYPE_TAG.
pub(crate) fn encode_type(w: &mut Writer, t: &BtfType, attribute_tag: bool) {
    let kind = t.kind();
    if kind == Kind::Void {
        return;
    }
    let vlen = vlen_of(t);
    let mut header = |kind_flag: bool, size_or_type: u32| {
        w.u32(t.name_off);
        w.u32(info_word(kind, vlen, kind_flag));
        w.u32(size_or_type);
    };
    match &t.kind {
        TypeKind::Void => {}
        TypeKind::Int {
            size,
            encoding,
            bit_offset,
            bits,
        } => {
            header(false, *size);
            w.u32(
                (u32::from(*encoding & 0x0f) << 24)
                    | (u32::from(*bit_offset) << 16)
                    | u32::from(*bits),
            );
        }
        TypeKind::Ptr { target }
        | TypeKind::Typedef { target }
        | TypeKind::Volatile { target }
        | TypeKind::Const { target }
        | TypeKind::Restrict { target } => header(false, *target),
        TypeKind::TypeTag { target } => header(attribute_tag, *target),
        TypeKind::Array {
            elem,
            index,
            nelems,
        } => {
            header(false, 0);
            w.u32(*elem);
            w.u32(*index);
            w.u32(*nelems);
        }
        TypeKind::Struct {
            size,
            kind_flag,
            members,
        }
        | TypeKind::Union {
            size,
            kind_flag,
            members,
        } => {
            header(*kind_flag, *size);
            for m in members {
                w.u32(m.name_off);
                w.u32(m.type_id);
                let offset = if *kind_flag {
                    (u32::from(m.bitfield_size) << 24) | (m.bit_offset & 0x00ff_ffff)
                } else {
                    m.bit_offset
                };
                w.u32(offset);
            }
        }
        TypeKind::Enum {
            size,
            signed,
            values,
        } => {
            header(*signed, *size);
            for v in values {
                w.u32(v.name_off);
                w.u32(v.value as u32);
            }
        }
        TypeKind::Enum64 {
            size,
            signed,
            values,
        } => {
            header(*signed, *size);
            for v in values {
                w.u32(v.name_off);
                w.u32(v.value as u32);
                w.u32((v.value >> 32) as u32);
            }
        }
        TypeKind::Fwd { is_union } => header(*is_union, 0),
        TypeKind::Func { proto, .. } => header(false, *proto),
        TypeKind::FuncProto { ret, params } => {
            header(false, *ret);
            for p in params {
                w.u32(p.name_off);
                w.u32(p.type_id);
            }
        }
        TypeKind::Var { type_id, linkage } => {
            header(false, *type_id);
            w.u32(linkage.to_raw());
        }
        TypeKind::Datasec { size, vars } => {
            header(false, *size);
            for v in vars {
                w.u32(v.type_id);
                w.u32(v.offset);
                w.u32(v.size);
            }
        }
        TypeKind::Float { size } => header(false, *size),
        TypeKind::DeclTag {
            target,
            component_idx,
        } => {
            header(attribute_tag, *target);
            w.u32(*component_idx as u32);
        }
    }
}
