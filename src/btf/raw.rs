//! BTF kept as its encoded type records (native-endian words) and string section, checked by
//! the same rules as `Btf::parse` but never decoded into `BtfType`s.
//!
//! Why: the static linker reads every type of every input, and most are exact copies of types
//! it has already merged. Comparing and remapping records word by word costs a fraction of
//! decoding each one into the type model (with its vectors) first; only the types new to the
//! link are decoded (`decode_record`).
use std::borrow::Cow;
use std::ops::ControlFlow;

use super::bytes::{Endian, Writer};
use super::codec::{self, NativeWords};
use super::error::BtfError;
use super::types::{BtfType, Kind, TypeId};
use super::validate::{self, Contained, LinkStep, QuickNames, QuickVerdict, TypeSource, TypeView};
use super::{c_string, checked_str, split_sections, Btf};

/// Standalone BTF as records. Type 0 is `void` (an empty record).
#[derive(Debug, Clone)]
pub struct RawBtf<'a> {
    /// The records of types 1.. back to back: borrowed from the section when it is in the
    /// host's byte order and aligned (the usual case), converted otherwise.
    words: Cow<'a, [u32]>,
    /// `words[starts[id]..starts[id + 1]]` is the record of type `id`.
    starts: Vec<usize>,
    /// The kind of each type, decoded once (`Void` for type 0).
    kinds: Vec<Kind>,
    strings: Cow<'a, [u8]>,
    endian: Endian,
}

/// One record: `w[0]` the name offset, `w[1]` the info word, `w[2]` the size or type, then
/// the kind's trailing words. Empty for `void`.
#[derive(Debug, Clone, Copy)]
pub struct RawType<'r> {
    w: &'r [u32],
    /// Decoded from the info word once, as nearly every reader starts with it.
    kind: Kind,
}

/// What a word of a record refers to, for remapping it into another BTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A string offset.
    Name,
    /// A type id.
    Type,
}

impl Default for RawBtf<'static> {
    fn default() -> Self {
        RawBtf::new()
    }
}

impl RawBtf<'static> {
    /// An empty standalone BTF (only `void` and the empty string), little-endian.
    pub fn new() -> RawBtf<'static> {
        RawBtf {
            words: Cow::Owned(Vec::new()),
            starts: vec![0, 0],
            kinds: vec![Kind::Void],
            strings: Cow::Owned(vec![0]),
            endian: Endian::Little,
        }
    }
}

impl<'a> RawBtf<'a> {
    /// Parses and checks a standalone `.BTF` section exactly as `Btf::parse` does (same
    /// errors), borrowing its string section.
    pub fn parse(data: &'a [u8]) -> Result<RawBtf<'a>, BtfError> {
        let (h, type_bytes, strings) = split_sections(data, false)?;
        let words = native_words(type_bytes, h.endian);
        let (starts, kinds) = match index_records(&words, type_bytes.len()) {
            Some(index) => index,
            None => index_checked_records(&words, type_bytes.len())?,
        };
        let raw = RawBtf { words, starts, kinds, strings: Cow::Borrowed(strings), endian: h.endian };
        validate::validate(&raw)?;
        Ok(raw)
    }

    /// Number of types including `void` (valid ids are `0..type_count()`).
    pub fn type_count(&self) -> u32 {
        (self.starts.len() - 1) as u32
    }

    /// The id the next `push_record` returns.
    pub fn next_type_id(&self) -> TypeId {
        self.type_count()
    }

    /// The kind of type `id` (`Void` for ids out of range).
    #[inline]
    pub fn kind(&self, id: TypeId) -> Kind {
        self.kinds.get(id as usize).copied().unwrap_or(Kind::Void)
    }

    /// The words of type `id`'s record (see `RawType`).
    #[inline]
    pub fn record_words(&self, id: TypeId) -> Option<&[u32]> {
        let (start, end) = (*self.starts.get(id as usize)?, *self.starts.get(id as usize + 1)?);
        self.words.get(start..end)
    }

    #[inline]
    pub fn record(&self, id: TypeId) -> Option<RawType<'_>> {
        let (start, end) = (*self.starts.get(id as usize)?, *self.starts.get(id as usize + 1)?);
        Some(RawType { w: self.words.get(start..end)?, kind: *self.kinds.get(id as usize)? })
    }

    /// Every type but `void`, with its id.
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, RawType<'_>)> + '_ {
        (1..self.type_count()).filter_map(|id| self.record(id).map(|t| (id, t)))
    }

    pub fn strings(&self) -> &[u8] {
        &self.strings
    }

    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// The string at `offset`.
    pub fn string_at(&self, offset: u32) -> Result<&str, BtfError> {
        self.string_for(offset, || "BTF string lookup".to_string())
    }

    /// Appends a record as is (its words are checked when decoded by `to_btf`).
    pub fn push_record(&mut self, record: &[u32]) -> TypeId {
        let id = self.next_type_id();
        let words = self.words.to_mut();
        words.extend_from_slice(record);
        self.starts.push(words.len());
        self.kinds.push(kind_of_info(record.get(1).copied()));
        id
    }

    /// The types decoded into the model, with the same string section and byte order.
    pub fn to_btf(&self) -> Result<Btf, BtfError> {
        let mut btf = Btf::new();
        btf.set_endian(self.endian);
        btf.strings = self.strings.to_vec();
        btf.types.reserve(self.starts.len() - 1);
        let section = NativeWords { words: &self.words, byte_len: 4 * self.words.len() };
        for id in 1..self.type_count() {
            let decoded = codec::decode_type(section, 4 * self.starts[id as usize], id)?;
            if decoded.attribute_tag {
                btf.attribute_tags.insert(id);
            }
            btf.types.push(decoded.ty);
        }
        Ok(btf)
    }
}

/// The type a record of native-endian words describes (with the record's checks), and
/// whether it is an attribute tag; `id` names it in errors.
pub(crate) fn decode_record(record: &[u32], id: TypeId) -> Result<(BtfType, bool), BtfError> {
    let decoded = codec::decode_type(NativeWords { words: record, byte_len: 4 * record.len() }, 0, id)?;
    Ok((decoded.ty, decoded.attribute_tag))
}

impl Btf {
    /// Own type `id` as a record of native-endian words (as `RawBtf` keeps them).
    pub fn record_words(&self, id: TypeId) -> Result<Vec<u32>, BtfError> {
        let t = self.type_by_id(id)?;
        let mut w = Writer::new(if cfg!(target_endian = "little") { Endian::Little } else { Endian::Big });
        codec::encode_type(&mut w, t, self.is_attribute_tag(id));
        Ok(w.out.chunks_exact(4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect())
    }
}

/// The whole words of `bytes` in the host's byte order: the bytes themselves when their
/// order and alignment allow it, a converted copy otherwise.
fn native_words(bytes: &[u8], endian: Endian) -> Cow<'_, [u32]> {
    let whole = &bytes[..bytes.len() / 4 * 4];
    let host = if cfg!(target_endian = "little") { Endian::Little } else { Endian::Big };
    if endian == host {
        // SAFETY: every bit pattern is a valid u32; `align_to` puts in the middle part only
        // whole, aligned words of `whole`.
        let (head, middle, tail) = unsafe { whole.align_to::<u32>() };
        if head.is_empty() && tail.is_empty() {
            return Cow::Borrowed(middle);
        }
    }
    let word = |b: &[u8]| [b[0], b[1], b[2], b[3]];
    Cow::Owned(match endian {
        Endian::Little => whole.chunks_exact(4).map(|b| u32::from_le_bytes(word(b))).collect(),
        Endian::Big => whole.chunks_exact(4).map(|b| u32::from_be_bytes(word(b))).collect(),
    })
}

/// Where each record starts and its kind (see `RawBtf`), if every record obeys the encoding
/// rules.
fn index_records(words: &[u32], byte_len: usize) -> Option<(Vec<usize>, Vec<Kind>)> {
    if byte_len % 4 != 0 {
        return None;
    }
    let mut starts = Vec::with_capacity(words.len() / 3 + 2);
    let mut kinds = Vec::with_capacity(words.len() / 3 + 1);
    starts.extend([0, 0]);
    kinds.push(Kind::Void);
    let mut at = 0;
    while at < words.len() {
        let (kind, len) = codec::valid_record_words(words, at)?;
        at += len;
        starts.push(at);
        kinds.push(kind);
    }
    Some((starts, kinds))
}

/// `index_records`, or the exact error of the first record that breaks a rule.
fn index_checked_records(words: &[u32], byte_len: usize) -> Result<(Vec<usize>, Vec<Kind>), BtfError> {
    let section = NativeWords { words, byte_len };
    let (mut starts, mut kinds) = (vec![0, 0], vec![Kind::Void]);
    let mut off = 0;
    while off < byte_len {
        let id = (starts.len() - 1) as TypeId;
        let record = codec::check_record(section, off, id)?;
        off += record.len;
        starts.push(off / 4);
        kinds.push(record.kind);
    }
    Ok((starts, kinds))
}

/// The kind an info word gives (`Void` if none or unknown).
fn kind_of_info(info: Option<u32>) -> Kind {
    info.and_then(|info| Kind::from_raw((info >> 24) & 0x1f)).unwrap_or(Kind::Void)
}

impl<'r> RawType<'r> {
    #[inline]
    fn word(self, i: usize) -> u32 {
        self.w.get(i).copied().unwrap_or(0)
    }

    /// The record's words (empty for `void`).
    pub fn words(self) -> &'r [u32] {
        self.w
    }

    #[inline]
    pub fn kind(self) -> Kind {
        self.kind
    }

    /// Number of trailing entries, or the linkage of a FUNC.
    #[inline]
    pub fn vlen(self) -> u32 {
        self.word(1) & 0xffff
    }

    pub fn kind_flag(self) -> bool {
        self.word(1) >> 31 != 0
    }

    pub fn name_off(self) -> u32 {
        self.word(0)
    }

    pub fn size_or_type(self) -> u32 {
        self.word(2)
    }

    /// A DECL_TAG/TYPE_TAG whose name is a whole attribute (kind_flag set).
    pub fn is_attribute_tag(self) -> bool {
        self.kind_flag() && matches!(self.kind(), Kind::DeclTag | Kind::TypeTag)
    }

    /// The linkage word of a VAR.
    pub fn var_linkage(self) -> u32 {
        self.word(3)
    }

    /// Words per trailing entry and whether an entry starts with a name.
    fn entry_layout(self) -> Option<(usize, bool)> {
        match self.kind() {
            Kind::Struct | Kind::Union | Kind::Enum64 => Some((3, true)),
            Kind::Enum | Kind::FuncProto => Some((2, true)),
            Kind::Datasec => Some((3, false)),
            _ => None,
        }
    }

    /// The words of DATASEC entry `i`: (type id, offset, size).
    pub fn datasec_entry(self, i: usize) -> (TypeId, u32, u32) {
        let at = 3 + 3 * i;
        (self.word(at), self.word(at + 1), self.word(at + 2))
    }

    /// Calls `f` with the index of every word that holds a string offset or a type id, in
    /// record order.
    #[inline]
    pub fn for_each_slot(self, mut f: impl FnMut(usize, Slot)) {
        let _ = self.try_for_each_slot(|i, slot| {
            f(i, slot);
            ControlFlow::Continue(())
        });
    }

    /// `for_each_slot`, stopping as soon as `f` breaks.
    #[inline]
    pub fn try_for_each_slot(self, mut f: impl FnMut(usize, Slot) -> ControlFlow<()>) -> ControlFlow<()> {
        if self.w.is_empty() {
            return ControlFlow::Continue(());
        }
        f(0, Slot::Name)?;
        let entries = self.vlen() as usize;
        match self.kind() {
            kind if refers_in_header(kind) => f(2, Slot::Type),
            Kind::Array => {
                f(3, Slot::Type)?;
                f(4, Slot::Type)
            }
            Kind::Struct | Kind::Union => (0..entries).try_for_each(|i| {
                f(3 + 3 * i, Slot::Name)?;
                f(4 + 3 * i, Slot::Type)
            }),
            Kind::Enum => (0..entries).try_for_each(|i| f(3 + 2 * i, Slot::Name)),
            Kind::Enum64 => (0..entries).try_for_each(|i| f(3 + 3 * i, Slot::Name)),
            Kind::FuncProto => {
                f(2, Slot::Type)?;
                (0..entries).try_for_each(|i| {
                    f(3 + 2 * i, Slot::Name)?;
                    f(4 + 2 * i, Slot::Type)
                })
            }
            Kind::Datasec => (0..entries).try_for_each(|i| f(3 + 3 * i, Slot::Type)),
            _ => ControlFlow::Continue(()), // void, INT, FWD, FLOAT: no names but their own
        }
    }

    /// Appends the record to `out` with every string offset passed through `name` and every
    /// type id through `id`. Returns false (leaving a partly mapped record in `out`) as soon
    /// as either has no counterpart.
    #[inline]
    pub fn remap_into(
        self,
        out: &mut Vec<u32>,
        mut name: impl FnMut(u32) -> Option<u32>,
        mut id: impl FnMut(u32) -> Option<u32>,
    ) -> bool {
        let start = out.len();
        out.extend_from_slice(self.w);
        let record = &mut out[start..];
        if matches!(self.kind(), Kind::Struct | Kind::Union) {
            // The common large records: (name, type, offset) per member, remapped in one loop.
            let mut remap_members = || -> Option<()> {
                let (header, members) = record.split_at_mut(3.min(record.len()));
                header[0] = name(header[0])?;
                for member in members.chunks_exact_mut(3) {
                    member[0] = name(member[0])?;
                    member[1] = id(member[1])?;
                }
                Some(())
            };
            return remap_members().is_some();
        }
        let mapped = self.try_for_each_slot(|i, slot| {
            let Some(word) = record.get_mut(i) else { return ControlFlow::Break(()) };
            match if slot == Slot::Name { name(*word) } else { id(*word) } {
                Some(new) => {
                    *word = new;
                    ControlFlow::Continue(())
                }
                None => ControlFlow::Break(()),
            }
        });
        mapped.is_continue()
    }
}

impl RawType<'_> {
    /// Calls `f` on every type id the record refers to, in record order.
    #[inline]
    pub fn for_each_type_id(self, mut f: impl FnMut(TypeId)) {
        self.for_each_slot(|i, slot| {
            if slot == Slot::Type {
                f(self.word(i));
            }
        });
    }
}

impl TypeView for RawType<'_> {
    fn kind(self) -> Kind {
        RawType::kind(self)
    }
    fn name_off(self) -> u32 {
        self.word(0)
    }
    fn for_each_name_off(self, mut f: impl FnMut(u32)) {
        self.for_each_slot(|i, slot| {
            if slot == Slot::Name {
                f(self.word(i));
            }
        });
    }
    fn entry_name(self, i: usize) -> Option<u32> {
        match self.entry_layout() {
            Some((stride, true)) if i < self.vlen() as usize => Some(self.word(3 + stride * i)),
            _ => None,
        }
    }
    fn entry_count(self) -> usize {
        self.entry_layout().map_or(0, |_| self.vlen() as usize)
    }
    fn for_each_type_id(self, f: impl FnMut(TypeId)) {
        RawType::for_each_type_id(self, f)
    }
    fn referenced_type(self) -> Option<TypeId> {
        refers_in_header(self.kind()).then(|| self.word(2))
    }
    fn contained(self, n: usize) -> Option<TypeId> {
        match self.kind() {
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag | Kind::Var => {
                (n == 0).then(|| self.word(2))
            }
            Kind::Array => (n == 0).then(|| self.word(3)),
            Kind::Struct | Kind::Union => (n < self.vlen() as usize).then(|| self.word(4 + 3 * n)),
            Kind::Datasec => (n < self.vlen() as usize).then(|| self.word(3 + 3 * n)),
            _ => None,
        }
    }
    fn size(self) -> u32 {
        match self.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => self.word(2),
            _ => 0,
        }
    }
    fn int_bits(self) -> u8 {
        match self.kind() {
            Kind::Int => (self.word(3) & 0xff) as u8,
            _ => 0,
        }
    }
    fn component_idx(self) -> i32 {
        match self.kind() {
            Kind::DeclTag => self.word(3) as i32,
            _ => -1,
        }
    }
}

impl TypeSource for RawBtf<'_> {
    type View<'s>
        = RawType<'s>
    where
        Self: 's;
    fn first_id(&self) -> TypeId {
        0
    }
    fn own_count(&self) -> usize {
        self.starts.len() - 1
    }
    fn get(&self, id: TypeId) -> Option<RawType<'_>> {
        self.record(id)
    }
    fn own_strings(&self) -> &[u8] {
        &self.strings
    }
    fn base_strings_len(&self) -> u32 {
        0
    }
    fn string_for(&self, offset: u32, at: impl Fn() -> String) -> Result<&str, BtfError> {
        checked_str(c_string(&self.strings, offset as usize), offset, self.strings.len() as u32, at)
    }

    /// Pointers, modifiers, typedefs and FWDs (most types of real BTF) need only a valid
    /// name and an existing target; they are checked here without the generic checks' calls.
    ///
    /// Cycles: a loop of links, or of types containing each other, must have an edge from a
    /// type to one with a lower or equal id. Compilers emit a type before the types it refers
    /// to, so usually the only such edges come from VARs and DATASECs (emitted last); those
    /// are on no loop when nothing but DATASECs refers to VARs and nothing refers to
    /// DATASECs. When that holds and there is no other such edge, neither cycle check can
    /// fail and both are skipped.
    fn quick_verdict(&self, names: &QuickNames) -> QuickVerdict {
        let count = self.type_count();
        let mut maybe_cyclic = false;
        let types_pass = self.kinds.iter().enumerate().all(|(id, &kind)| {
            let at = self.starts[id];
            if is_link(kind) {
                let target = self.words[at + 2];
                let to = self.kind(target);
                maybe_cyclic |= target as usize <= id && is_link(to);
                if kind != Kind::Ptr {
                    maybe_cyclic |= may_close_containment_loop(id, kind, target, to);
                }
                return names.valid(self.words[at]) && target < count;
            }
            if kind == Kind::Fwd {
                return names.valid(self.words[at]);
            }
            let Some(t) = self.record(id as TypeId) else { return false };
            if matches!(kind, Kind::Struct | Kind::Union) {
                // Only names and member types to check (the big types of real BTF: one pass).
                let mut passes = names.valid(t.name_off());
                for member in t.words().get(3..).unwrap_or_default().chunks_exact(3) {
                    let (name, member_type) = (member[0], member[1]);
                    passes &= names.valid(name) && member_type < count;
                    maybe_cyclic |= may_close_containment_loop(id, kind, member_type, self.kind(member_type));
                }
                return passes;
            }
            if validate::contains_types(kind) {
                // All the ids a container refers to (an array's index type too: more edges
                // than containment has can only make the answer "maybe").
                t.for_each_type_id(|c| maybe_cyclic |= may_close_containment_loop(id, kind, c, self.kind(c)));
            }
            validate::type_passes(self, names, count, id as TypeId, t)
        });
        QuickVerdict { types_pass, acyclic: types_pass && !maybe_cyclic }
    }

    fn link_step(&self, slot: usize) -> LinkStep {
        if !is_link(self.kinds[slot]) {
            return LinkStep::NotLink;
        }
        let target = self.words[self.starts[slot] + 2] as usize;
        LinkStep::Link(Some(target).filter(|&s| s < self.kinds.len()))
    }

    fn contains_types(&self, slot: usize) -> bool {
        validate::contains_types(self.kinds[slot])
    }

    fn contained(&self, slot: usize, n: usize) -> Contained {
        let t = RawType { w: &self.words[self.starts[slot]..self.starts[slot + 1]], kind: self.kinds[slot] };
        match t.contained(n) {
            Some(id) => Contained::Type(Some(id as usize).filter(|&s| s < self.kinds.len())),
            None => Contained::End,
        }
    }
}

/// Whether the containment edge from type `id` (of `kind`) to type `to` (of `to_kind`) could
/// be part of a containment loop, as far as `quick_verdict` can tell (see there).
fn may_close_containment_loop(id: usize, kind: Kind, to: TypeId, to_kind: Kind) -> bool {
    if !validate::contains_types(to_kind) {
        return false;
    }
    match (kind, to_kind) {
        (_, Kind::Datasec) => true,
        (Kind::Datasec, Kind::Var) => false,
        (_, Kind::Var) => true,
        (Kind::Var | Kind::Datasec, _) => false,
        _ => to as usize <= id,
    }
}

/// Kinds that refer to one type, in the header's size-or-type word.
fn refers_in_header(kind: Kind) -> bool {
    is_link(kind) || matches!(kind, Kind::DeclTag | Kind::Func | Kind::Var)
}

/// Kinds that only point to, qualify or rename another type.
fn is_link(kind: Kind) -> bool {
    kind == Kind::Ptr || kind.is_modifier_or_typedef()
}
