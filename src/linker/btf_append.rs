//! Appends each input's BTF to the link's merged BTF as soon as the input is added, folding
//! types that are exactly identical to ones already merged.
//!
//! Why: objects built from the same headers repeat most of their types, and the final dedup
//! costs time and memory in proportion to what it is given. Folding here keeps the merged BTF
//! close to the size of the output, so no input has to stay parsed until `finalize`.
//!
//! A type is folded only if its whole reference graph is acyclic and every type it refers to
//! was itself folded; it is then compared exactly (kind, names, sizes, merged ids it refers
//! to, attribute flag) with the merged types. Folding identical subgraphs never hides an
//! equivalence from the dedup that follows and keeps the first occurrence, so the result is
//! the one deduplicating everything at once gives. Never folded: FUNC and VAR (symbol
//! resolution needs each object's own), DATASEC (rebuilt at the end), attribute tags, and any
//! type on or above a reference cycle (left to dedup's graph comparison).
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::btf::{Btf, BtfError, BtfType, TypeId, TypeKind};

use super::LinkError;

/// Marks an input type that has no merged counterpart yet (and string offsets not yet mapped).
const NEW: TypeId = u32::MAX;
/// End of a hash chain.
const END: TypeId = u32::MAX;
/// Marks an input string found missing from the merged BTF by `StringMap::new`.
const ABSENT: u32 = u32::MAX - 1;
/// Candidates compared per lookup; past it a type is left to dedup (bounds the work crafted
/// hash collisions can cause).
const MAX_CHAIN: u32 = 64;

/// The merged BTF of the inputs added so far.
#[derive(Debug)]
pub struct MergedTypes {
    pub btf: Btf,
    fold: bool,
    /// Hash of a foldable merged type → the last merged id with that hash (chained by `next`).
    heads: HashMap<u64, TypeId, BuildHasherDefault<IdHasher>>,
    /// Per merged id: the previous id with the same hash, or END.
    next: Vec<TypeId>,
    /// Every merged string → its offset (a faster index than `Btf::find_string`'s, which
    /// every name of every input goes through).
    strings: HashMap<Box<[u8]>, u32, BuildHasherDefault<IdHasher>>,
    /// Reused buffer for the key of the input type being looked up (see `key_words`).
    scratch: Vec<u64>,
}

/// An input's types remapped into the merged numbering, not yet committed.
pub struct Staged {
    /// Input id → merged id (0 for DATASECs, which are rebuilt at the end).
    pub map: Vec<TypeId>,
    /// New types in id order, with their attribute flag and whether they may be folded into.
    types: Vec<(BtfType, bool, bool)>,
}

impl MergedTypes {
    /// `fold` off appends every type as is (for debugging with dedup switched off).
    pub fn new(fold: bool) -> MergedTypes {
        MergedTypes { btf: Btf::new(), fold, heads: HashMap::default(), next: vec![END], strings: HashMap::default(), scratch: Vec::new() }
    }

    /// The merged BTF, dropping the lookup indexes.
    pub fn into_btf(self) -> Btf {
        self.btf
    }

    /// Remaps `input` into the merged numbering. Only strings are added to the merged BTF here
    /// (harmless if the input is then rejected: dedup rebuilds the string table).
    pub fn stage(&mut self, file: &str, input: &Btf) -> Result<Staged, LinkError> {
        let btf_err = |source| LinkError::Btf { file: file.to_string(), what: ".BTF".into(), source };
        self.stage_types(input).map_err(|e| e.map_or_else(|| LinkError::TooLarge { what: "more than 2^32 BTF types".into() }, btf_err))
    }

    /// `Err(None)`: the merged BTF would need more than 2^32 ids.
    fn stage_types(&mut self, input: &Btf) -> Result<Staged, Option<BtfError>> {
        let count = input.type_count() as usize;
        let mut strings = StringMap::new(input, &self.strings);
        let folded = if self.fold { self.find_folded(input, &mut strings)? } else { vec![NEW; count] };
        let mut map = vec![0; count];
        let mut next_id = self.btf.next_type_id();
        for (id, t) in input.iter_types().skip(1) {
            map[id as usize] = match folded[id as usize] {
                NEW if matches!(t.kind, TypeKind::Datasec { .. }) => 0,
                NEW => {
                    let new = next_id;
                    next_id = next_id.checked_add(1).filter(|&n| n != NEW).ok_or_else(|| None)?;
                    new
                }
                merged => merged,
            };
        }
        let mut types = Vec::new();
        for (id, t) in input.iter_types().skip(1) {
            if folded[id as usize] != NEW || map[id as usize] == 0 {
                continue;
            }
            let nt = remap(t, &|tid| map.get(tid as usize).copied().unwrap_or(0), &mut |off| {
                strings.get(&mut self.btf, &mut self.strings, off)
            })?;
            let attribute = input.is_attribute_tag(id);
            let foldable = self.fold && foldable_kind(t) && !attribute;
            types.push((nt, attribute, foldable));
        }
        Ok(Staged { map, types })
    }

    pub fn commit(&mut self, staged: Staged) {
        for (t, attribute, foldable) in staged.types {
            let hash = foldable.then(|| {
                let mut h = IdHasher::default();
                // Cannot fail: merged strings map to themselves.
                let _ = key_words(&t, |id| id, |off| Ok(Some(off)), &mut |w| h.write_u64(w));
                h.finish()
            });
            let id = self.btf.add_type(t);
            if attribute {
                // Cannot fail: `id` was just added to this (standalone) BTF.
                let _ = self.btf.set_attribute_tag(id, true);
            }
            let prev = match hash {
                Some(h) => self.heads.insert(h, id).unwrap_or(END),
                None => END,
            };
            self.next.push(prev);
        }
    }

    /// For every input type: the identical merged type, or NEW.
    fn find_folded(&mut self, input: &Btf, strings: &mut StringMap) -> Result<Vec<TypeId>, BtfError> {
        let count = input.type_count() as usize;
        let mut folded = vec![NEW; count];
        folded[0] = 0;
        // 0 = not visited, 1 = on the current walk, 2 = done.
        let mut state = vec![0u8; count];
        state[0] = 2;
        let mut stack: Vec<(TypeId, bool)> = Vec::new();
        for root in 1..count as TypeId {
            if state[root as usize] != 0 {
                continue;
            }
            stack.push((root, false));
            while let Some((id, expanded)) = stack.pop() {
                if !expanded && state[id as usize] != 0 {
                    continue;
                }
                let t = input.type_by_id(id)?;
                if expanded {
                    folded[id as usize] = self.lookup(input, id, t, &folded, &state, strings)?;
                    state[id as usize] = 2;
                    continue;
                }
                state[id as usize] = 1;
                stack.push((id, true));
                t.for_each_type_id(|c| {
                    if state.get(c as usize) == Some(&0) {
                        stack.push((c, false));
                    }
                });
            }
        }
        Ok(folded)
    }

    /// The merged type identical to input type `id` whose references are all settled.
    fn lookup(&mut self, input: &Btf, id: TypeId, t: &BtfType, folded: &[TypeId], state: &[u8], strings: &mut StringMap) -> Result<TypeId, BtfError> {
        if !foldable_kind(t) || input.is_attribute_tag(id) {
            return Ok(NEW);
        }
        // The type is compared through its key (words naming it in the merged numbering), so
        // no remapped copy is built for the common case of a type already merged. A reference
        // still "on the walk" closes a cycle, one not folded or out of range has no merged id:
        // either way the type stays NEW.
        let all_folded = std::cell::Cell::new(true);
        let merged_id = |c: TypeId| {
            let f = if state.get(c as usize) == Some(&2) { folded.get(c as usize).copied().unwrap_or(NEW) } else { NEW };
            if f == NEW {
                all_folded.set(false);
            }
            f
        };
        let mut key = std::mem::take(&mut self.scratch);
        key.clear();
        let index = &self.strings;
        // Hashed as the words are produced, as `commit` hashes a merged type's words.
        let mut h = IdHasher::default();
        let known = key_words(t, merged_id, |off| strings.find(index, off), &mut |w| {
            key.push(w);
            h.write_u64(w);
        })?;
        let found = if known && all_folded.get() { self.find_key(&key, h.finish()) } else { NEW };
        self.scratch = key;
        Ok(found)
    }

    /// The merged id whose key is `key` (hashing to `hash`), or NEW.
    fn find_key(&self, key: &[u64], hash: u64) -> TypeId {
        let mut cand = self.heads.get(&hash).copied().unwrap_or(END);
        let mut steps = 0;
        while cand != END && steps < MAX_CHAIN {
            steps += 1;
            if let Ok(m) = self.btf.type_by_id(cand) {
                // The candidate's words are compared as they are produced (no copy).
                let (mut at, mut same) = (0usize, true);
                let _ = key_words(m, |id| id, |off| Ok(Some(off)), &mut |w| {
                    same &= key.get(at) == Some(&w);
                    at += 1;
                });
                if same && at == key.len() && !self.btf.is_attribute_tag(cand) {
                    return cand;
                }
            }
            cand = self.next.get(cand as usize).copied().unwrap_or(END);
        }
        NEW
    }
}

fn foldable_kind(t: &BtfType) -> bool {
    !matches!(t.kind, TypeKind::Void | TypeKind::Func { .. } | TypeKind::Var { .. } | TypeKind::Datasec { .. })
}

/// Passes to `out` words that identify `t` exactly once `ids` and `strs` have put its type ids
/// and string offsets in the merged numbering: two types have equal words iff they are equal
/// (kind and vector lengths are part of the words). Returns false, after a partial sequence, if
/// `strs` finds a string with no merged counterpart (then no merged type can be identical).
fn key_words(
    t: &BtfType,
    ids: impl Fn(TypeId) -> TypeId,
    mut strs: impl FnMut(u32) -> Result<Option<u32>, BtfError>,
    out: &mut impl FnMut(u64),
) -> Result<bool, BtfError> {
    let pair = |hi: u32, lo: u32| (u64::from(hi) << 32) | u64::from(lo);
    macro_rules! name {
        ($off:expr) => {
            match strs($off)? {
                Some(m) => m,
                None => return Ok(false),
            }
        };
    }
    out(pair(t.kind() as u32, name!(t.name_off)));
    match &t.kind {
        TypeKind::Void => {}
        TypeKind::Int { size, encoding, bit_offset, bits } => {
            out(pair(*size, u32::from(*encoding) << 16 | u32::from(*bit_offset) << 8 | u32::from(*bits)))
        }
        TypeKind::Ptr { target }
        | TypeKind::Typedef { target }
        | TypeKind::Volatile { target }
        | TypeKind::Const { target }
        | TypeKind::Restrict { target }
        | TypeKind::TypeTag { target } => out(u64::from(ids(*target))),
        TypeKind::Array { elem, index, nelems } => {
            out(pair(ids(*elem), ids(*index)));
            out(u64::from(*nelems));
        }
        TypeKind::Struct { size, kind_flag, members } | TypeKind::Union { size, kind_flag, members } => {
            out(pair(*size, u32::from(*kind_flag)));
            out(members.len() as u64);
            for m in members {
                out(pair(name!(m.name_off), ids(m.type_id)));
                out(pair(m.bit_offset, u32::from(m.bitfield_size)));
            }
        }
        TypeKind::Enum { size, signed, values } | TypeKind::Enum64 { size, signed, values } => {
            out(pair(*size, u32::from(*signed)));
            out(values.len() as u64);
            for v in values {
                out(u64::from(name!(v.name_off)));
                out(v.value);
            }
        }
        TypeKind::Fwd { is_union } => out(u64::from(*is_union)),
        TypeKind::Func { proto, linkage } => out(pair(ids(*proto), u32::from(linkage.to_raw()))),
        TypeKind::FuncProto { ret, params } => {
            out(u64::from(ids(*ret)));
            out(params.len() as u64);
            for p in params {
                out(pair(name!(p.name_off), ids(p.type_id)));
            }
        }
        TypeKind::Var { type_id, linkage } => out(pair(ids(*type_id), linkage.to_raw())),
        TypeKind::Datasec { size, vars } => {
            out(u64::from(*size));
            out(vars.len() as u64);
            for v in vars {
                out(pair(ids(v.type_id), v.offset));
                out(u64::from(v.size));
            }
        }
        TypeKind::Float { size } => out(u64::from(*size)),
        TypeKind::DeclTag { target, component_idx } => out(pair(ids(*target), *component_idx as u32)),
    }
    Ok(true)
}

fn remap(t: &BtfType, ids: &dyn Fn(TypeId) -> TypeId, strs: &mut dyn FnMut(u32) -> Result<u32, BtfError>) -> Result<BtfType, BtfError> {
    let mut nt = t.clone();
    nt.for_each_type_id_mut(|tid| *tid = ids(*tid));
    nt.name_off = strs(nt.name_off)?;
    match &mut nt.kind {
        TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
            for m in members {
                m.name_off = strs(m.name_off)?;
            }
        }
        TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => {
            for v in values {
                v.name_off = strs(v.name_off)?;
            }
        }
        TypeKind::FuncProto { params, .. } => {
            for p in params {
                p.name_off = strs(p.name_off)?;
            }
        }
        _ => {}
    }
    Ok(nt)
}

type StrIndex = HashMap<Box<[u8]>, u32, BuildHasherDefault<IdHasher>>;

/// Input string offset → merged string offset, each string looked up once per input.
/// Indexed directly by offset (a table as long as the input's string section, which the
/// input already occupies), so a repeated name costs one array read.
struct StringMap<'a> {
    input: &'a Btf,
    map: Vec<u32>,
}

impl<'a> StringMap<'a> {
    /// Looks every string of the input up in `index` in one pass over the string section:
    /// each is hashed once, where looking names up as types use them would hash again the
    /// ones not merged yet (and pay a scan for the NUL per lookup).
    fn new(input: &'a Btf, index: &StrIndex) -> StringMap<'a> {
        let strings = input.strings();
        let mut map = vec![NEW; strings.len()];
        let mut off = 0usize;
        for piece in strings.split(|&b| b == 0) {
            if off >= strings.len() {
                break; // the empty piece after the final NUL
            }
            if let Some(slot) = map.get_mut(off) {
                *slot = index.get(piece).copied().filter(|&m| m < ABSENT).unwrap_or(ABSENT);
            }
            off += piece.len() + 1;
        }
        StringMap { input, map }
    }

    /// The merged offset of the string at `off`, if looked up already and found.
    fn known(&self, off: u32) -> Option<u32> {
        self.map.get(off as usize).copied().filter(|&m| m < ABSENT)
    }

    /// The string at `off` was not in the merged BTF when the map was built (and `find` runs
    /// before anything is added, so it still is not).
    fn absent(&self, off: u32) -> bool {
        self.map.get(off as usize) == Some(&ABSENT)
    }

    fn remember(&mut self, off: u32, merged: u32) {
        if let Some(slot) = self.map.get_mut(off as usize) {
            if merged < ABSENT {
                *slot = merged;
            }
        }
    }

    /// The input's string at `off` as bytes (parsing checked names are UTF-8; only strings
    /// new to the merged BTF are converted, in `get`).
    fn bytes(&self, off: u32) -> Result<&'a [u8], BtfError> {
        let strings = self.input.strings();
        let out_of_range = || BtfError::StringOffsetOutOfRange { at: "linker: input BTF".into(), offset: off, len: strings.len() as u32 };
        let rest = strings.get(off as usize..).ok_or_else(out_of_range)?;
        let end = rest.iter().position(|&b| b == 0).ok_or_else(out_of_range)?;
        Ok(&rest[..end])
    }

    fn get(&mut self, merged: &mut Btf, index: &mut StrIndex, off: u32) -> Result<u32, BtfError> {
        if off == 0 {
            return Ok(0);
        }
        if let Some(m) = self.known(off) {
            return Ok(m);
        }
        let bytes = self.bytes(off)?;
        let m = match index.get(bytes) {
            Some(&m) => m,
            None => {
                let s = std::str::from_utf8(bytes).map_err(|_| BtfError::StringNotUtf8 { at: "linker: input BTF".into(), offset: off })?;
                // `index` holds every merged string but the empty one, which is at 0.
                let m = if s.is_empty() { 0 } else { merged.append_new_string(s) };
                index.insert(bytes.into(), m);
                m
            }
        };
        self.remember(off, m);
        Ok(m)
    }

    fn find(&mut self, index: &StrIndex, off: u32) -> Result<Option<u32>, BtfError> {
        if off == 0 {
            return Ok(Some(0));
        }
        if let Some(m) = self.known(off) {
            return Ok(Some(m));
        }
        if self.absent(off) {
            return Ok(None);
        }
        let found = index.get(self.bytes(off)?).copied();
        if let Some(m) = found {
            self.remember(off, m);
        }
        Ok(found)
    }
}

/// The 1..=7 bytes of `tail` as a little-endian word, zero-extended, read with at most two
/// loads whose overlap repeats the same bytes at the same places.
fn tail_word(tail: &[u8]) -> u64 {
    let n = tail.len();
    let u32_at = |at: usize| tail.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let byte_at = |at: usize| tail.get(at).map_or(0, |&b| u64::from(b));
    match n {
        0 => 0,
        1..=3 => byte_at(0) | byte_at(n / 2) << (8 * (n / 2)) | byte_at(n - 1) << (8 * (n - 1)),
        4..=7 => u64::from(u32_at(0)) | u64::from(u32_at(n - 4)) << (8 * (n - 4)),
        _ => tail.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    }
}

/// A fast multiplicative hasher for small integer keys (the keys are ours, not an attacker's
/// choice of hash-flooding input: collisions only cost chain steps, each compared exactly).
#[derive(Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits depending on the low bits of the input only, and
        // hash tables pick buckets from the low bits: fold the well-mixed high half into them
        // (a bijection, so equal hashes stay exactly the equal ones).
        self.0 ^ (self.0 >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        // Whole words are read directly and the tail with at most two loads, so that no call
        // to memcpy is made per chunk (names are short: this runs for every name of every input).
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            self.write_u64(u64::from_le_bytes(word));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            self.write_u64(tail_word(tail));
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

#[cfg(test)]
mod hasher_tests {
    use super::tail_word;

    #[test]
    fn tail_word_is_the_little_endian_value_of_the_bytes() {
        let bytes = [0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
        for n in 0..=bytes.len() {
            let expected = bytes[..n].iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            assert_eq!(tail_word(&bytes[..n]), expected, "{n} bytes");
        }
    }
}
