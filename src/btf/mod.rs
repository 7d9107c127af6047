//! BTF: parse every kind, look types up, resolve sizes and write BTF back out.
//!
//! API contract (other modules rely on it; keep signatures stable):
//! - `Btf::parse(&[u8]) -> Result<Btf, BtfError>` parses a raw `.BTF` section (either byte order).
//! - `Btf::parse_split(&[u8], &Btf)` parses split BTF (kernel module / program BTF) on a base.
//! - `Btf::to_bytes(&self) -> Vec<u8>` writes it back (byte-identical for parsed input).
//! - `BtfExt::parse(&[u8], &Btf)` / `BtfExt::to_bytes` for `.BTF.ext`.
//!
//! Byte order: a parsed blob is written back in its own byte order; a new one is little-endian
//! (`set_endian` changes it). Layout: the writer puts types right after the header and strings
//! right after the types, as clang, pahole and libbpf do; parsing accepts any layout libbpf
//! accepts (types before strings, gaps allowed), so only such odd layouts change on a round trip.
//!
//! Split BTF: a split `Btf` keeps an `Arc` of its base. Its own type ids start at
//! `base.type_count()` and its own string offsets at the base's string section length; every
//! lookup (`type_by_id`, `string_at`, `find_by_name_kind`, ...) sees base and split together,
//! while `types()`, `strings()` and `to_bytes()` cover only the split's own part.
mod bytes;
mod codec;
mod concat;
pub mod dedup;
mod describe;
mod error;
mod ext;
mod hash;
mod raw;
pub mod types;
mod validate;

pub use bytes::Endian;
pub use concat::BtfShift;
pub use error::BtfError;
pub(crate) use hash::{Prehashed, Seeded, SeededHasher};
pub(crate) use raw::decode_record;
pub use raw::{RawBtf, RawType};
pub use ext::{
    BtfExt, CoreRelo, ExtInfo, ExtRecord, ExtSection, FuncInfo, LineInfo, RecordContext,
};
pub use types::*;

use bytes::{Reader, Writer, BTF_MAGIC};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

/// Size of `struct btf_header` as defined by version 1.
pub const BTF_HEADER_SIZE: u32 = 24;
/// Pointer size used by `resolve_size` (BPF is a 64-bit target).
pub const POINTER_SIZE: u32 = 8;
/// Maximum chain length `resolve_size` follows, as libbpf's `btf__resolve_size` does.
const MAX_RESOLVE_DEPTH: u32 = 32;

/// A parsed or built BTF blob.
///
/// Types are stored by id: `types()[i]` has id `first_type_id() + i`. For a standalone BTF
/// `first_type_id()` is 0 and `types()[0]` is `void`.
#[derive(Clone)]
pub struct Btf {
    types: Vec<BtfType>,
    strings: Vec<u8>,
    first_id: TypeId,
    endian: Endian,
    hdr_len: u32,
    base: Option<Arc<Btf>>,
    /// Own DECL_TAG/TYPE_TAG ids whose kind_flag is set (the name is a whole attribute, as
    /// kernels since 6.14 allow). Kept beside the types so the shared type model stays as is.
    attribute_tags: BTreeSet<TypeId>,
    /// Start offset of every own string, built on the first `add_string`/`find_string`, so
    /// that parsing alone (e.g. vmlinux BTF) never pays for it.
    string_index: OnceLock<HashMap<Box<[u8]>, u32>>,
}

impl PartialEq for Btf {
    fn eq(&self, other: &Self) -> bool {
        self.types == other.types
            && self.strings == other.strings
            && self.first_id == other.first_id
            && self.endian == other.endian
            && self.hdr_len == other.hdr_len
            && self.base == other.base
            && self.attribute_tags == other.attribute_tags
    }
}
impl Eq for Btf {}

impl std::fmt::Debug for Btf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf")
            .field("first_id", &self.first_id)
            .field("types", &self.types.len())
            .field("strings_len", &self.strings.len())
            .field("endian", &self.endian)
            .field("hdr_len", &self.hdr_len)
            .field("split", &self.base.is_some())
            .finish()
    }
}

impl Default for Btf {
    fn default() -> Self {
        Btf::new()
    }
}

/// The fields of `struct btf_header` after validation.
struct Header {
    endian: Endian,
    hdr_len: u32,
    type_off: u32,
    type_len: u32,
    str_off: u32,
    str_len: u32,
}

fn parse_header(data: &[u8]) -> Result<Header, BtfError> {
    let need = BTF_HEADER_SIZE as usize;
    if data.len() < need {
        return Err(BtfError::TruncatedHeader {
            len: data.len(),
            need,
        });
    }
    let magic = [data[0], data[1]];
    let endian = Endian::from_magic(magic).ok_or(BtfError::BadMagic(u16::from_le_bytes(magic)))?;
    let r = Reader::new(data, endian);
    let field = |off: usize| r.u32(off).unwrap_or(0);
    let version = data[2];
    let flags = data[3];
    if version != 1 {
        return Err(BtfError::UnsupportedVersion(version));
    }
    if flags != 0 {
        return Err(BtfError::UnsupportedFlags(flags));
    }
    let h = Header {
        endian,
        hdr_len: field(4),
        type_off: field(8),
        type_len: field(12),
        str_off: field(16),
        str_len: field(20),
    };
    if h.hdr_len < BTF_HEADER_SIZE {
        return Err(BtfError::BadHeaderLen {
            hdr_len: h.hdr_len,
            reason: "smaller than the 24-byte version 1 header",
        });
    }
    let hdr_end = h.hdr_len as usize;
    let tail = data.get(need..hdr_end).ok_or(BtfError::BadHeaderLen {
        hdr_len: h.hdr_len,
        reason: "larger than the data",
    })?;
    if let Some(pos) = tail.iter().position(|&b| b != 0) {
        return Err(BtfError::HeaderTailNotZero {
            offset: need + pos,
            value: tail[pos],
        });
    }
    let available = data.len() - hdr_end;
    for (section, off, len) in [
        ("type", h.type_off, h.type_len),
        ("string", h.str_off, h.str_len),
    ] {
        if u64::from(off) + u64::from(len) > available as u64 {
            return Err(BtfError::SectionOutOfBounds {
                section,
                off,
                len,
                available,
            });
        }
    }
    if h.type_off % 4 != 0 {
        return Err(BtfError::MisalignedTypeSection(h.type_off));
    }
    if u64::from(h.type_off) + u64::from(h.type_len) > u64::from(h.str_off) {
        return Err(BtfError::BadSectionLayout {
            type_off: h.type_off,
            type_len: h.type_len,
            str_off: h.str_off,
        });
    }
    Ok(h)
}

fn check_string_section(strings: &[u8], split: bool) -> Result<(), BtfError> {
    match (strings.first(), strings.last()) {
        (None, _) if split => Ok(()),
        (None, _) => Err(BtfError::EmptyStrings),
        (Some(&first), _) if first != 0 && !split => Err(BtfError::StringsNotStartingWithNul),
        (_, Some(&last)) if last != 0 => Err(BtfError::StringsNotNulTerminated {
            len: strings.len() as u32,
        }),
        _ => Ok(()),
    }
}

/// The checked header, type section and string section of a `.BTF` blob.
fn split_sections(data: &[u8], split: bool) -> Result<(Header, &[u8], &[u8]), BtfError> {
    let h = parse_header(data)?;
    let payload = &data[h.hdr_len as usize..];
    let section = |off: u32, len: u32| {
        payload
            .get(off as usize..off as usize + len as usize)
            .unwrap_or(&[])
    };
    let type_bytes = section(h.type_off, h.type_len);
    let strings = section(h.str_off, h.str_len);
    check_string_section(strings, split)?;
    Ok((h, type_bytes, strings))
}

/// `bytes`, the string found at `offset` (None: out of range or unterminated), as text;
/// `strings_len` is the length of the string space and `at` names the referrer, for errors.
fn checked_str(bytes: Option<&[u8]>, offset: u32, strings_len: u32, at: impl Fn() -> String) -> Result<&str, BtfError> {
    let bytes = bytes.ok_or_else(|| BtfError::StringOffsetOutOfRange {
        at: at(),
        offset,
        len: strings_len,
    })?;
    std::str::from_utf8(bytes).map_err(|_| BtfError::StringNotUtf8 { at: at(), offset })
}

/// The bytes from `off` up to (excluding) the next NUL, or `None` if there is no NUL.
fn c_string(bytes: &[u8], off: usize) -> Option<&[u8]> {
    let rest = bytes.get(off..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    rest.get(..end)
}

impl Btf {
    // ------------------------------------------------------------------ construction

    /// An empty standalone BTF: only `void` and the empty string.
    pub fn new() -> Btf {
        Btf {
            types: vec![BtfType {
                name_off: 0,
                kind: TypeKind::Void,
            }],
            strings: vec![0],
            first_id: 0,
            endian: Endian::Little,
            hdr_len: BTF_HEADER_SIZE,
            base: None,
            attribute_tags: BTreeSet::new(),
            string_index: OnceLock::new(),
        }
    }

    /// An empty split BTF on top of `base`: ids continue after the base's types.
    pub fn new_split(base: Arc<Btf>) -> Btf {
        Btf {
            types: Vec::new(),
            strings: Vec::new(),
            first_id: base.type_count(),
            endian: base.endian,
            hdr_len: BTF_HEADER_SIZE,
            base: Some(base),
            attribute_tags: BTreeSet::new(),
            string_index: OnceLock::new(),
        }
    }

    /// An empty BTF (same base, if any) whose string section starts as a copy of `other`'s:
    /// types copied from `other` keep their name offsets, so a type list can be rebuilt
    /// without re-adding every name (the static linker's compaction).
    pub fn new_with_strings_of(other: &Btf) -> Btf {
        let mut btf = match &other.base {
            Some(base) => Btf::new_split(base.clone()),
            None => Btf::new(),
        };
        btf.strings = other.strings.clone();
        btf.endian = other.endian;
        btf
    }

    /// Parses and validates a raw `.BTF` section.
    pub fn parse(data: &[u8]) -> Result<Btf, BtfError> {
        Self::parse_on(data, None)
    }

    /// Parses split BTF whose types and strings continue those of `base` (copied into an `Arc`;
    /// use `parse_split_arc` to share a big base such as vmlinux between many splits).
    pub fn parse_split(data: &[u8], base: &Btf) -> Result<Btf, BtfError> {
        Self::parse_on(data, Some(Arc::new(base.clone())))
    }

    /// Like `parse_split`, sharing the base.
    pub fn parse_split_arc(data: &[u8], base: Arc<Btf>) -> Result<Btf, BtfError> {
        Self::parse_on(data, Some(base))
    }

    fn parse_on(data: &[u8], base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        let (h, type_bytes, strings) = split_sections(data, base.is_some())?;
        let mut btf = match base {
            Some(base) => Btf::new_split(base),
            None => Btf::new(),
        };
        btf.endian = h.endian;
        btf.hdr_len = h.hdr_len;
        btf.strings = strings.to_vec();
        btf.types
            .reserve(type_bytes.len() / codec::TYPE_HEADER_SIZE);
        let r = Reader::new(type_bytes, h.endian);
        let mut off = 0;
        while off < type_bytes.len() {
            let decoded = codec::decode_type(r, off, btf.next_type_id())?;
            if decoded.attribute_tag {
                btf.attribute_tags.insert(btf.next_type_id());
            }
            btf.types.push(decoded.ty);
            off += decoded.len;
        }
        btf.validate()?;
        Ok(btf)
    }

    /// Appends `s` (which must contain no NUL) without looking for an identical string: for
    /// callers that keep their own index of this BTF's strings (the static linker), so the
    /// string is neither hashed twice nor stored in two indexes. A string index built later
    /// covers it; one already built is kept up to date.
    pub fn append_new_string(&mut self, s: &str) -> u32 {
        let s = s.split('\0').next().unwrap_or("");
        let off = self.base_strings_len() + self.strings.len() as u32;
        let own_off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        if let Some(index) = self.string_index.get_mut() {
            index.entry(s.as_bytes().into()).or_insert(own_off);
        }
        off
    }

    /// Appends a string (up to its first NUL) and returns its offset; an identical string
    /// already present (in the base too) is reused.
    pub fn add_string(&mut self, s: &str) -> u32 {
        let s = s.split('\0').next().unwrap_or("");
        if let Some(off) = self.find_string(s) {
            return off;
        }
        let off = self.base_strings_len() + self.strings.len() as u32;
        let own_off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        if let Some(index) = self.string_index.get_mut() {
            index.insert(s.as_bytes().into(), own_off);
        }
        off
    }

    /// Appends a type and returns its id. Nothing is checked here; call `validate` once done.
    pub fn add_type(&mut self, t: BtfType) -> TypeId {
        let id = self.next_type_id();
        self.types.push(t);
        id
    }

    /// The id the next `add_type` returns.
    pub fn next_type_id(&self) -> TypeId {
        self.first_id + self.types.len() as u32
    }

    /// Mutable access to an own type (not one of the base's).
    pub fn type_mut(&mut self, id: TypeId) -> Result<&mut BtfType, BtfError> {
        if id < self.first_id {
            return Err(BtfError::BaseTypeImmutable(id));
        }
        self.types
            .get_mut((id - self.first_id) as usize)
            .ok_or(BtfError::NoSuchType(id))
    }

    /// Own types; `types()[i]` has id `first_type_id() + i`.
    pub fn types(&self) -> &[BtfType] {
        &self.types
    }

    /// Keeps the own types for which `keep(id)` holds, in order and renumbered consecutively
    /// (attribute-tag marks follow their types), calling `fix` on each one kept (e.g. to
    /// renumber its references). Done in place: no second type vector is ever allocated.
    pub fn retain_types(&mut self, mut keep: impl FnMut(TypeId) -> bool, mut fix: impl FnMut(&mut BtfType)) {
        let first = self.first_id;
        let tags = std::mem::take(&mut self.attribute_tags);
        let mut kept = 0usize;
        for i in 0..self.types.len() {
            let id = first + i as u32;
            // Type 0 of a standalone BTF is void and stays.
            if !(id == 0 || keep(id)) {
                continue;
            }
            self.types.swap(kept, i);
            fix(&mut self.types[kept]);
            if tags.contains(&id) {
                self.attribute_tags.insert(first + kept as u32);
            }
            kept += 1;
        }
        self.types.truncate(kept);
    }

    /// Own types, mutable (e.g. to remap type ids or string offsets).
    pub fn types_mut(&mut self) -> &mut [BtfType] {
        &mut self.types
    }

    /// Own string section (for split BTF, offsets into it start at the base's string length).
    pub fn strings(&self) -> &[u8] {
        &self.strings
    }

    /// Id of `types()[0]`: 0 for standalone BTF, the base's type count for split BTF.
    pub fn first_type_id(&self) -> TypeId {
        self.first_id
    }

    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// Every type id with its type, base types first.
    pub fn iter_types(&self) -> impl Iterator<Item = (TypeId, &BtfType)> + '_ {
        let base: Box<dyn Iterator<Item = (TypeId, &BtfType)>> = match &self.base {
            Some(b) => Box::new(b.iter_types()),
            None => Box::new(std::iter::empty()),
        };
        base.chain(
            self.types
                .iter()
                .enumerate()
                .map(move |(i, t)| (self.first_id + i as u32, t)),
        )
    }

    /// Whether DECL_TAG/TYPE_TAG `id` has kind_flag set, i.e. its name is a whole attribute
    /// (`__attribute__((...))` text) rather than a `btf_decl_tag`/`btf_type_tag` argument.
    pub fn is_attribute_tag(&self, id: TypeId) -> bool {
        match &self.base {
            Some(base) if id < self.first_id => base.is_attribute_tag(id),
            _ => self.attribute_tags.contains(&id),
        }
    }

    /// Marks or unmarks own tag `id` as an attribute tag (see `is_attribute_tag`).
    pub fn set_attribute_tag(&mut self, id: TypeId, attribute: bool) -> Result<(), BtfError> {
        let kind = self.type_mut(id)?.kind();
        if !matches!(kind, Kind::DeclTag | Kind::TypeTag) {
            return Err(BtfError::InvalidType {
                id,
                kind,
                reason: "only DECL_TAG and TYPE_TAG can be attribute tags".into(),
            });
        }
        if attribute {
            self.attribute_tags.insert(id);
        } else {
            self.attribute_tags.remove(&id);
        }
        Ok(())
    }

    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Chooses the byte order `to_bytes` writes.
    pub fn set_endian(&mut self, endian: Endian) {
        self.endian = endian;
    }

    /// `hdr_len` written by `to_bytes` (the parsed value; bytes past the 24-byte header are zero).
    pub fn header_len(&self) -> u32 {
        self.hdr_len
    }

    // ------------------------------------------------------------------ writing

    /// Writes the own part as a raw `.BTF` section in `endian()` byte order. Values that do not
    /// fit the format (see `to_bytes_checked`) are truncated.
    pub fn to_bytes(&self) -> Vec<u8> {
        // One buffer of the exact size: large BTF (a static link's output) is then never held
        // twice nor over-allocated while being written.
        let mut out = Vec::with_capacity(self.encoded_size());
        self.write_to(&mut out);
        out
    }

    /// Size in bytes of what `to_bytes` writes.
    pub fn encoded_size(&self) -> usize {
        self.hdr_len as usize + self.types_len() + self.strings.len()
    }

    fn types_len(&self) -> usize {
        self.types.iter().map(codec::encoded_len).sum()
    }

    /// Appends what `to_bytes` returns to `out` (e.g. straight into an ELF file being
    /// assembled in memory, without a copy of the section in between).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut w = Writer { out: std::mem::take(out), endian: self.endian };
        w.out.reserve(self.encoded_size());
        let done: std::io::Result<()> = self.encode_header_and_types(&mut w, |_| Ok(()));
        debug_assert!(done.is_ok(), "keeping everything in memory cannot fail");
        w.out.extend_from_slice(&self.strings);
        *out = w.out;
    }

    /// Writes what `to_bytes` returns to `sink` in pieces of about 64 KiB, so that a large BTF
    /// (a static link's output) is never held encoded in memory.
    pub fn write_into(&self, sink: &mut impl std::io::Write) -> std::io::Result<()> {
        const PIECE: usize = 64 * 1024;
        let mut w = Writer::new(self.endian);
        w.out.reserve(PIECE + 4096);
        self.encode_header_and_types(&mut w, |buf| {
            if buf.len() >= PIECE {
                sink.write_all(buf)?;
                buf.clear();
            }
            Ok(())
        })?;
        sink.write_all(&w.out)?;
        sink.write_all(&self.strings)
    }

    /// Appends the header and the type records to `w`, offering the buffer to `drain` after
    /// each record (to write it out and clear it, or to leave it growing).
    fn encode_header_and_types(
        &self,
        w: &mut Writer,
        mut drain: impl FnMut(&mut Vec<u8>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let types_len = self.types_len();
        let start = w.out.len();
        w.u16(BTF_MAGIC);
        w.u8(1);
        w.u8(0);
        w.u32(self.hdr_len);
        w.u32(0);
        w.u32(types_len as u32);
        w.u32(types_len as u32);
        w.u32(self.strings.len() as u32);
        w.out.resize(start + self.hdr_len as usize, 0);
        for (i, t) in self.types.iter().enumerate() {
            let attribute_tag = self.attribute_tags.contains(&(self.first_id + i as u32));
            codec::encode_type(w, t, attribute_tag);
            drain(&mut w.out)?;
        }
        Ok(())
    }

    /// `to_bytes`, after checking every type fits the binary format.
    pub fn to_bytes_checked(&self) -> Result<Vec<u8>, BtfError> {
        self.check_encodable()?;
        Ok(self.to_bytes())
    }

    /// Checks that every type fits the binary format (`to_bytes` would truncate otherwise).
    pub fn check_encodable(&self) -> Result<(), BtfError> {
        for (i, t) in self.types.iter().enumerate() {
            codec::check_encodable(self.first_id + i as u32, t)?;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ lookups

    /// Number of types including `void` and the base's (valid ids are `0..type_count()`).
    pub fn type_count(&self) -> u32 {
        self.first_id + self.types.len() as u32
    }

    pub fn type_by_id(&self, id: TypeId) -> Result<&BtfType, BtfError> {
        if id < self.first_id {
            return match &self.base {
                Some(base) => base.type_by_id(id),
                None => Err(BtfError::NoSuchType(id)),
            };
        }
        self.types
            .get((id - self.first_id) as usize)
            .ok_or(BtfError::NoSuchType(id))
    }

    /// Total string length of the base chain (0 for standalone BTF).
    fn base_strings_len(&self) -> u32 {
        self.base.as_ref().map_or(0, |b| b.strings_len())
    }

    /// Length of the string space seen by this BTF (base strings plus own).
    pub fn strings_len(&self) -> u32 {
        self.base_strings_len() + self.strings.len() as u32
    }

    /// The raw bytes of the string at `offset`: `None` if out of range or unterminated.
    fn string_bytes(&self, offset: u32) -> Option<&[u8]> {
        let base_len = self.base_strings_len();
        match &self.base {
            Some(base) if offset < base_len => base.string_bytes(offset),
            _ => c_string(&self.strings, (offset - base_len) as usize),
        }
    }

    /// The string at `offset`; `at` names the referrer for the error message.
    pub(crate) fn string_for(
        &self,
        offset: u32,
        at: impl Fn() -> String,
    ) -> Result<&str, BtfError> {
        checked_str(self.string_bytes(offset), offset, self.strings_len(), at)
    }

    /// The string at `offset` of the string section (base strings first for split BTF).
    pub fn string_at(&self, offset: u32) -> Result<&str, BtfError> {
        self.string_for(offset, || "BTF string lookup".to_string())
    }

    /// Offset of an existing string equal to `s` (base first), like libbpf's `btf__find_str`.
    pub fn find_string(&self, s: &str) -> Option<u32> {
        if let Some(off) = self.base.as_ref().and_then(|b| b.find_string(s)) {
            return Some(off);
        }
        let own = self
            .string_index
            .get_or_init(|| self.build_string_index())
            .get(s.as_bytes())?;
        Some(self.base_strings_len() + own)
    }

    fn build_string_index(&self) -> HashMap<Box<[u8]>, u32> {
        let mut index = HashMap::new();
        let mut off = 0usize;
        for piece in self.strings.split(|&b| b == 0) {
            // The piece after the final NUL is not a string.
            if off + piece.len() < self.strings.len() {
                index.entry(piece.into()).or_insert(off as u32);
            }
            off += piece.len() + 1;
        }
        index
    }

    /// The name of type `id` ("" for anonymous types).
    pub fn type_name(&self, id: TypeId) -> Result<&str, BtfError> {
        let t = self.type_by_id(id)?;
        self.string_for(t.name_off, || format!("BTF type {id} ({}) name", t.kind()))
    }

    /// First type with this name and kind (base types first), like `btf__find_by_name_kind`.
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<TypeId> {
        if let Some(id) = self
            .base
            .as_ref()
            .and_then(|b| b.find_by_name_kind(name, kind))
        {
            return Some(id);
        }
        let pos = self.types.iter().position(|t| {
            t.kind() == kind && self.string_bytes(t.name_off) == Some(name.as_bytes())
        })?;
        Some(self.first_id + pos as u32)
    }

    /// Follows typedefs and const/volatile/restrict/type_tag modifiers.
    pub fn skip_mods_and_typedefs(&self, id: TypeId) -> Result<TypeId, BtfError> {
        let mut cur = id;
        // A valid chain visits each type at most once.
        for _ in 0..=self.type_count() {
            let t = self.type_by_id(cur)?;
            if !t.kind().is_modifier_or_typedef() {
                return Ok(cur);
            }
            cur = t.referenced_type().unwrap_or(0);
        }
        Err(BtfError::ChainTooDeep {
            id,
            depth: self.type_count(),
        })
    }

    /// Size in bytes of type `id`, like libbpf's `btf__resolve_size`: modifiers, typedefs,
    /// vars and decl tags are followed, arrays multiply (overflow is an error), pointers are 8
    /// bytes; void, functions, prototypes and forward declarations have no size.
    pub fn resolve_size(&self, id: TypeId) -> Result<u32, BtfError> {
        let mut nelems: u32 = 1;
        let mut cur = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.type_by_id(cur)?;
            let size = match &t.kind {
                TypeKind::Int { size, .. }
                | TypeKind::Struct { size, .. }
                | TypeKind::Union { size, .. }
                | TypeKind::Enum { size, .. }
                | TypeKind::Enum64 { size, .. }
                | TypeKind::Datasec { size, .. }
                | TypeKind::Float { size } => *size,
                TypeKind::Ptr { .. } => POINTER_SIZE,
                TypeKind::Typedef { target }
                | TypeKind::Volatile { target }
                | TypeKind::Const { target }
                | TypeKind::Restrict { target }
                | TypeKind::TypeTag { target }
                | TypeKind::DeclTag { target, .. }
                | TypeKind::Var {
                    type_id: target, ..
                } => {
                    cur = *target;
                    continue;
                }
                TypeKind::Array {
                    elem, nelems: n, ..
                } => {
                    nelems = nelems
                        .checked_mul(*n)
                        .ok_or(BtfError::SizeOverflow { id })?;
                    cur = *elem;
                    continue;
                }
                TypeKind::Void
                | TypeKind::Fwd { .. }
                | TypeKind::Func { .. }
                | TypeKind::FuncProto { .. } => {
                    return Err(BtfError::NoSize {
                        id: cur,
                        kind: t.kind(),
                    })
                }
            };
            return nelems
                .checked_mul(size)
                .ok_or(BtfError::SizeOverflow { id });
        }
        Err(BtfError::ChainTooDeep {
            id,
            depth: MAX_RESOLVE_DEPTH,
        })
    }
}

#[cfg(test)]
mod tests;
