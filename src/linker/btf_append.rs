//! Appends each input's BTF to the link's merged BTF as soon as the input is added, folding
//! types that are exactly identical to ones already merged.
//!
//! Why: objects built from the same headers repeat most of their types, and the final dedup
//! costs time and memory in proportion to what it is given. Folding here keeps the merged BTF
//! close to the size of the output, so no input has to stay parsed until `finalize`.
//!
//! Inputs and the merged BTF are kept as encoded records ([`RawBtf`]): an input type is
//! compared by remapping its record's string offsets and type ids into the merged numbering
//! and comparing the words with those of the merged candidates of the same hash. Nothing is
//! decoded into `BtfType`s until `finalize`.
//!
//! A type is folded only if its whole reference graph is acyclic and every type it refers to
//! was itself folded; it is then compared exactly (kind, names, sizes, merged ids it refers
//! to, flags) with the merged types. Folding identical subgraphs never hides an equivalence
//! from the dedup that follows and keeps the first occurrence, so the result is the one
//! deduplicating everything at once gives. Never folded: FUNC and VAR (symbol resolution needs
//! each object's own), DATASEC (rebuilt at the end), attribute tags, and any type on or above
//! a reference cycle (left to dedup's graph comparison).
use std::collections::HashMap;

use crate::btf::{Btf, BtfError, Kind, Prehashed, RawBtf, RawType, Seeded, SeededHasher, TypeId};

use super::LinkError;

/// Marks an input type that has no merged counterpart yet.
const NEW: TypeId = u32::MAX;
/// End of a hash chain.
const END: TypeId = u32::MAX;
/// An input string offset not looked up yet / looked up and found missing from the merged BTF.
const UNKNOWN: u32 = u32::MAX;
const ABSENT: u32 = u32::MAX - 1;
/// Candidates compared per lookup; past it a type is left to dedup (bounds the work hash
/// collisions can cause).
const MAX_CHAIN: u32 = 64;
/// `find_folded`'s marks of input types not settled yet (merged ids stay below them).
const UNSEEN: TypeId = u32::MAX - 1;
const ON_WALK: TypeId = u32::MAX - 2;

/// The merged BTF of the inputs added so far.
#[derive(Debug)]
pub struct MergedTypes {
    pub btf: RawBtf<'static>,
    fold: bool,
    /// Hash of a foldable merged record → the last merged id with that hash (chained by `next`).
    heads: HashMap<u64, TypeId, Prehashed>,
    /// Per merged id: the previous id with the same hash, or END.
    next: Vec<TypeId>,
    /// Per merged id: whether it is in the hash chains. Equal records are indexed once (the
    /// first), so a record found by any route is the one a hash lookup finds.
    indexed: Vec<bool>,
    strings: StringIndex,
    /// Buffers reused from one input to the next.
    scratch: Scratch,
}

#[derive(Debug, Default)]
struct Scratch {
    key: Vec<u32>,
    stack: Vec<(TypeId, bool)>,
    string_map: Vec<u32>,
}

/// An input's types remapped into the merged numbering, not yet committed.
pub struct Staged {
    /// Input id → merged id (0 for DATASECs, which are rebuilt at the end).
    pub map: Vec<TypeId>,
    /// The records of the new types, in id order, back to back.
    words: Vec<u32>,
    /// Per new type: its record's length in words and whether it may be folded into.
    records: Vec<(usize, bool)>,
}

impl MergedTypes {
    /// `fold` off appends every type as is (for debugging with dedup switched off).
    pub fn new(fold: bool) -> MergedTypes {
        MergedTypes {
            btf: RawBtf::new(),
            fold,
            heads: HashMap::default(),
            next: vec![END],
            indexed: vec![false],
            strings: StringIndex::default(),
            scratch: Scratch::default(),
        }
    }

    /// The merged BTF decoded into the type model.
    pub fn to_btf(&self) -> Result<Btf, LinkError> {
        self.btf.to_btf().map_err(LinkError::OutputBtf)
    }

    /// Remaps `input` into the merged numbering. Only strings are added to the merged BTF here
    /// (harmless if the input is then rejected: dedup rebuilds the string table).
    pub fn stage(&mut self, file: &str, input: &RawBtf) -> Result<Staged, LinkError> {
        let btf_err = |source| LinkError::Btf { file: file.to_string(), what: ".BTF".into(), source };
        self.stage_types(input).map_err(|e| e.map_or_else(|| LinkError::TooLarge { what: "more than 2^32 BTF types".into() }, btf_err))
    }

    /// `Err(None)`: the merged BTF would need more than 2^32 ids.
    fn stage_types(&mut self, input: &RawBtf) -> Result<Staged, Option<BtfError>> {
        let count = input.type_count() as usize;
        if self.heads.is_empty() {
            // Objects built from shared headers merge into a few times one object's types:
            // sized once for that, the indexes rarely grow (each growth rehashes them all).
            self.heads.reserve(2 * count);
            self.strings.by_hash.reserve(input.strings().len() / 8);
        }
        let mut strings = StringMap::new(input, &self.strings, &self.btf, std::mem::take(&mut self.scratch.string_map));
        let folded = if self.fold { self.find_folded(input, &mut strings) } else { vec![NEW; count] };
        let mut map = folded;
        let mut new_types = Vec::new();
        let mut next_id = self.btf.next_type_id();
        for id in 1..count as TypeId {
            let slot = &mut map[id as usize];
            if *slot != NEW {
                continue;
            }
            *slot = if input.kind(id) == Kind::Datasec {
                0
            } else {
                new_types.push(id);
                let new = next_id;
                next_id = next_id.checked_add(1).filter(|&n| n < ON_WALK).ok_or(None)?;
                new
            };
        }
        let mut staged = Staged { map, words: Vec::new(), records: Vec::new() };
        let MergedTypes { btf, strings: index, fold, .. } = self;
        for id in new_types {
            let Some(t) = input.record(id) else { continue };
            let start = staged.words.len();
            let map = &staged.map;
            let remapped = t.remap_into(
                &mut staged.words,
                |off| strings.get(btf, index, off),
                |tid| Some(map.get(tid as usize).copied().unwrap_or(0)),
            );
            if !remapped {
                // Parsing checked every name; kept as an error rather than a panic.
                return Err(Some(BtfError::StringOffsetOutOfRange { at: format!("linker: input BTF type {id}"), offset: t.name_off(), len: input.strings().len() as u32 }));
            }
            staged.records.push((staged.words.len() - start, *fold && foldable(t)));
        }
        self.scratch.string_map = strings.into_table();
        Ok(staged)
    }

    pub fn commit(&mut self, staged: Staged) {
        let mut at = 0;
        for (len, foldable) in staged.records {
            let record = &staged.words[at..at + len];
            at += len;
            let hash = hash_words(record);
            let index = foldable && self.find_hashed(record, hash) == NEW;
            let id = self.btf.push_record(record);
            let prev = if index { self.heads.insert(hash, id).unwrap_or(END) } else { END };
            self.next.push(prev);
            self.indexed.push(index);
        }
    }

    /// For every input type: the identical merged type, or NEW. Types are settled children
    /// first (depth first, with an explicit stack); a type reached again while on the walk
    /// closes a cycle and, with every type above it, stays NEW. The result does not depend on
    /// the order of the walk; roots are taken from the last id down because compilers emit a
    /// type before the types it refers to, so that most children are settled already.
    fn find_folded(&mut self, input: &RawBtf, strings: &mut StringMap) -> Vec<TypeId> {
        let count = input.type_count() as usize;
        let mut folded = vec![UNSEEN; count];
        folded[0] = 0;
        let mut stack = std::mem::take(&mut self.scratch.stack);
        for root in (1..count as TypeId).rev() {
            if folded[root as usize] != UNSEEN {
                continue;
            }
            let Some(t) = input.record(root) else { continue };
            if small_record_reference(t).is_some_and(|r| r.is_none_or(|c| is_settled(&folded, c))) {
                // The usual case (see above), settled without the walk's stack.
                let guess = neighbour_guess(root, &folded);
                folded[root as usize] = self.lookup(t, guess, &folded, strings);
                continue;
            }
            stack.push((root, false));
            while let Some((id, children_done)) = stack.pop() {
                let Some(t) = input.record(id) else { continue };
                if !children_done {
                    if folded[id as usize] != UNSEEN {
                        continue;
                    }
                    folded[id as usize] = ON_WALK;
                    let before = stack.len();
                    stack.push((id, true));
                    t.for_each_type_id(|c| {
                        if folded.get(c as usize) == Some(&UNSEEN) {
                            stack.push((c, false));
                        }
                    });
                    if stack.len() > before + 1 {
                        continue; // children to settle first
                    }
                    stack.pop(); // every child is settled already: settle it now
                }
                let guess = neighbour_guess(id, &folded);
                folded[id as usize] = self.lookup(t, guess, &folded, strings);
            }
        }
        self.scratch.stack = stack;
        folded
    }

    /// The merged type identical to input type `t` whose references are all settled, or NEW.
    /// `guess` is compared first: inputs built from the same headers repeat runs of types in
    /// the same order, so the merged type after the one the previous input type folded into
    /// is usually the one (and comparing it costs no hashing and no random memory access).
    #[inline(always)]
    fn lookup(&mut self, t: RawType, guess: Option<TypeId>, folded: &[TypeId], strings: &mut StringMap) -> TypeId {
        if !foldable(t) {
            return NEW;
        }
        // A reference still on the walk closes a cycle; one not folded has no merged id; a
        // name missing from the merged strings has no merged type either: the type stays NEW.
        let merged_id = |c: TypeId| folded.get(c as usize).copied().filter(|&f| f < ON_WALK);
        let index = &self.strings;
        let merged = &self.btf;
        if let Some(key) = small_key(t, |off| strings.find(merged, index, off), merged_id) {
            return match key {
                Some(key) => self.find_guessed(&key, guess),
                None => NEW,
            };
        }
        let mut key = std::mem::take(&mut self.scratch.key);
        key.clear();
        let found = if t.remap_into(&mut key, |off| strings.find(merged, index, off), merged_id) {
            self.find_guessed(&key, guess)
        } else {
            NEW
        };
        self.scratch.key = key;
        found
    }

    /// The merged id whose record is `key`, trying `guess` first.
    #[inline(always)]
    fn find_guessed(&self, key: &[u32], guess: Option<TypeId>) -> TypeId {
        match guess {
            Some(g) if self.is_indexed_record(g, key) => g,
            _ => self.find_record(key),
        }
    }

    /// Whether merged type `id` is indexed and its record is `key`.
    #[inline(always)]
    fn is_indexed_record(&self, id: TypeId, key: &[u32]) -> bool {
        self.indexed.get(id as usize) == Some(&true) && self.btf.record_words(id).is_some_and(|m| same_bytes(m, key))
    }

    /// The merged id whose record is `key`, or NEW.
    fn find_record(&self, key: &[u32]) -> TypeId {
        self.find_hashed(key, hash_words(key))
    }

    /// `find_record` with the key's hash.
    fn find_hashed(&self, key: &[u32], hash: u64) -> TypeId {
        let mut cand = self.heads.get(&hash).copied().unwrap_or(END);
        let mut steps = 0;
        while cand != END && steps < MAX_CHAIN {
            steps += 1;
            if self.btf.record(cand).is_some_and(|m| same_bytes(m.words(), key)) {
                return cand;
            }
            cand = self.next.get(cand as usize).copied().unwrap_or(END);
        }
        NEW
    }
}

/// The remapped record (as `RawType::remap_into` gives it) of a type whose record is its
/// three header words: the most common kinds, done without a buffer. None if the type has
/// another shape; Some(None) if a name or type has no counterpart.
#[inline]
fn small_key(t: RawType, name: impl FnOnce(u32) -> Option<u32>, id: impl FnOnce(u32) -> Option<u32>) -> Option<Option<[u32; 3]>> {
    let reference = small_record_reference(t)?;
    let &[name_off, info, size_or_type] = t.words() else { return None };
    let last = if reference.is_some() { id(size_or_type) } else { Some(size_or_type) };
    Some(name(name_off).zip(last).map(|(name, last)| [name, info, last]))
}

/// Whether input type `id` is settled (folded, or known to stay NEW).
#[inline]
fn is_settled(folded: &[TypeId], id: TypeId) -> bool {
    folded.get(id as usize).is_some_and(|&f| f != UNSEEN && f != ON_WALK)
}

/// For a type whose record is its three header words (see `small_key`): its one reference,
/// if any. None for other shapes.
#[inline]
fn small_record_reference(t: RawType) -> Option<Option<TypeId>> {
    let &[_, _, size_or_type] = t.words() else { return None };
    match t.kind() {
        Kind::Ptr | Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => Some(Some(size_or_type)),
        Kind::Fwd | Kind::Float => Some(None),
        _ => None,
    }
}

/// Where input type `id` probably folds: next to where a settled neighbour folded.
#[inline]
fn neighbour_guess(id: TypeId, folded: &[TypeId]) -> Option<TypeId> {
    let folded_at = |n: usize| folded.get(n).copied().filter(|&f| f != 0 && f < ON_WALK);
    let id = id as usize;
    folded_at(id.wrapping_sub(1)).map(|f| f + 1).or_else(|| folded_at(id + 1).map(|f| f - 1))
}

/// Kinds that may be folded into an identical merged type (see the module comment).
fn foldable(t: RawType) -> bool {
    !matches!(t.kind(), Kind::Void | Kind::Func | Kind::Var | Kind::Datasec) && !t.is_attribute_tag()
}

/// The hash of a record's words, two per step.
fn hash_words(words: &[u32]) -> u64 {
    let mut h = SeededHasher::default();
    let mut pairs = words.chunks_exact(2);
    for p in &mut pairs {
        h.add(u64::from(p[0]) | u64::from(p[1]) << 32);
    }
    if let [last] = pairs.remainder() {
        h.add(u64::from(*last));
    }
    h.add(words.len() as u64);
    h.finish_word()
}

/// Every merged string but the empty one (at 0) → its offset.
///
/// Keyed by the string's seeded hash; the rare string whose hash an earlier, different string
/// already took is kept in `collided`, by content.
#[derive(Debug, Default)]
struct StringIndex {
    by_hash: HashMap<u64, u32, Prehashed>,
    collided: HashMap<Box<[u8]>, u32, Seeded>,
}

impl StringIndex {
    fn get(&self, merged: &RawBtf, bytes: &[u8], hash: u64) -> Option<u32> {
        let off = *self.by_hash.get(&hash)?;
        if string_is_at(merged.strings(), off, bytes) {
            Some(off)
        } else {
            self.collided.get(bytes).copied()
        }
    }

    fn insert(&mut self, bytes: &[u8], hash: u64, off: u32) {
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(off);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(bytes.into(), off);
            }
        }
    }
}

/// The length of the string at `off` of `strings` (up to its NUL or the end), and whether
/// `other` holds the same NUL-terminated string at `at`: one pass over the bytes, eight at a
/// time while both sides have eight left.
#[inline]
fn measure_and_compare(strings: &[u8], off: usize, other: &[u8], at: usize) -> (usize, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let rest = strings.get(off..).unwrap_or(&[]);
    let other = other.get(at..).unwrap_or(&[]);
    let word = |bytes: &[u8], i: usize| bytes.get(i..i + 8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
    let mut i = 0;
    while let (Some(a), Some(b)) = (word(rest, i), word(other, i)) {
        // The lowest byte this flags is the first NUL (higher flags may be false).
        let zeros = a.wrapping_sub(ONES) & !a & HIGHS;
        if zeros != 0 {
            let nul = (zeros.trailing_zeros() / 8) as usize;
            let upto_nul = u64::MAX >> (8 * (7 - nul));
            return (i + nul, (a ^ b) & upto_nul == 0);
        }
        if a != b {
            let len = rest[i..].iter().position(|&c| c == 0).map_or(rest.len(), |n| i + n);
            return (len, false);
        }
        i += 8;
    }
    let mut same = true;
    for (j, &c) in rest[i..].iter().enumerate() {
        same &= other.get(i + j) == Some(&c);
        if c == 0 {
            return (i + j, same);
        }
    }
    (rest.len(), false)
}

/// Whether the NUL-terminated string at `off` of `strings` is `bytes`.
#[inline]
fn string_is_at(strings: &[u8], off: u32, bytes: &[u8]) -> bool {
    let at = off as usize;
    strings.get(at..at + bytes.len() + 1).is_some_and(|s| s[bytes.len()] == 0 && same_bytes(&s[..bytes.len()], bytes))
}

/// `a == b` for the short slices of names and records, without a call to `memcmp`.
#[inline]
fn same_bytes<T: PartialEq + Copy>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Input string offset → merged string offset, each string looked up once per input.
/// Indexed directly by offset (a table as long as the input's string section, reused from one
/// input to the next), so a repeated name costs one array read.
struct StringMap<'a> {
    input: &'a RawBtf<'a>,
    map: Vec<u32>,
}

impl<'a> StringMap<'a> {
    /// Looks every string of the input up in `index` in one pass over the string section:
    /// each is hashed once, where looking names up as types use them would hash again the
    /// ones not merged yet (and pay a scan for the NUL per lookup).
    ///
    /// Inputs built from the same headers list most of their strings in the same order, so
    /// the merged string after the one the previous input string matched is compared first:
    /// merged strings are unique, so an equal one there is the one the index would give.
    fn new(input: &'a RawBtf<'a>, index: &StringIndex, merged: &RawBtf, mut map: Vec<u32>) -> StringMap<'a> {
        let strings = input.strings();
        let merged_strings = merged.strings();
        map.clear();
        map.resize(strings.len(), UNKNOWN);
        let mut off = 0usize;
        let mut guess = 0usize;
        while off < strings.len() {
            let (len, at_guess) = measure_and_compare(strings, off, merged_strings, guess);
            let piece = &strings[off..off + len];
            let found = if at_guess && len != 0 {
                Some(guess as u32)
            } else {
                index.get(merged, piece, SeededHasher::of_bytes(piece))
            };
            map[off] = match found {
                Some(m) => {
                    guess = m as usize + len + 1;
                    m
                }
                None => ABSENT,
            };
            off += len + 1;
        }
        StringMap { input, map }
    }

    fn into_table(self) -> Vec<u32> {
        self.map
    }

    /// The merged offset of the string at `off`, if looked up already and found.
    fn known(&self, off: u32) -> Option<u32> {
        self.map.get(off as usize).copied().filter(|&m| m < ABSENT)
    }

    fn remember(&mut self, off: u32, merged: u32) {
        if let Some(slot) = self.map.get_mut(off as usize) {
            *slot = merged;
        }
    }

    /// The input's string at `off` as bytes (None if `off` does not lie in the section).
    fn bytes(&self, off: u32) -> Option<&'a [u8]> {
        let rest = self.input.strings().get(off as usize..)?;
        Some(&rest[..rest.iter().position(|&b| b == 0)?])
    }

    /// The merged offset of the input's string at `off`, appending the string to `merged` if
    /// it is not there yet.
    fn get(&mut self, merged: &mut RawBtf, index: &mut StringIndex, off: u32) -> Option<u32> {
        if off == 0 {
            return Some(0);
        }
        if let Some(m) = self.known(off) {
            return Some(m);
        }
        let bytes = self.bytes(off)?;
        let hash = SeededHasher::of_bytes(bytes);
        let m = match index.get(merged, bytes, hash) {
            Some(m) => m,
            None if bytes.is_empty() => 0,
            None => {
                let m = merged.append_string(bytes);
                index.insert(bytes, hash, m);
                m
            }
        };
        self.remember(off, m);
        Some(m)
    }

    /// The merged offset of the input's string at `off`, if the merged BTF has it.
    fn find(&mut self, merged: &RawBtf, index: &StringIndex, off: u32) -> Option<u32> {
        if off == 0 {
            return Some(0);
        }
        match self.map.get(off as usize).copied() {
            Some(m) if m < ABSENT => Some(m),
            // Looked up when the map was built, and `find` runs before anything is added.
            Some(ABSENT) => None,
            _ => {
                let bytes = self.bytes(off)?;
                let found = index.get(merged, bytes, SeededHasher::of_bytes(bytes));
                if let Some(m) = found {
                    self.remember(off, m);
                }
                found
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::measure_and_compare;

    /// Against the obvious byte-by-byte answer, for strings around the 8-byte steps, equal or
    /// differing before, at or after the NUL, and near the ends of both buffers.
    #[test]
    fn measuring_and_comparing_strings_agrees_with_bytewise() {
        let names = ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnopq", "abcdefgX", "abcdefghXjk"];
        for x in names {
            for y in names {
                for pad in [0usize, 3, 8, 20] {
                    let mut strings = vec![b'#'; pad];
                    strings.extend_from_slice(x.as_bytes());
                    strings.push(0);
                    let mut other = vec![b'$'; pad / 2];
                    other.extend_from_slice(y.as_bytes());
                    other.push(0);
                    let tails: [&[u8]; 2] = [b"", b"zzzzzzzzzzzz\0"];
                    for tail in tails {
                        let mut o = other.clone();
                        o.extend_from_slice(tail);
                        let mut s = strings.clone();
                        s.extend_from_slice(tail);
                        assert_eq!(measure_and_compare(&s, pad, &o, pad / 2), (x.len(), x == y), "{x:?} vs {y:?}, pad {pad}");
                    }
                }
            }
        }
        // A string at the very end without its NUL (never in checked BTF): whole rest, unequal.
        assert_eq!(measure_and_compare(b"abc", 0, b"abc\0", 0), (3, false));
    }
}
