//! Appends each input's BTF to the link's merged BTF as soon as the input is added, folding
//! types that are exactly identical to ones already merged.
//!
//! Why: objects built from the same headers repeat most of their types, and the final dedup
//! costs time and memory in proportion to what it is given. Folding here keeps the merged BTF
//! close to the size of the output, so no input has to stay parsed until `finalize`.
//!
//! Inputs are kept as encoded records ([`RawBtf`]): an input type is compared by remapping
//! its record's string offsets and type ids into the merged numbering and comparing the words
//! with those of the merged candidates of the same hash. Only the types that are new to the
//! merged BTF are decoded into `BtfType`s, as they are added; the records of the short ones
//! are kept beside them for the comparisons (see `KEPT_RECORD_WORDS`).
//!
//! A type is folded only if its whole reference graph is acyclic and every type it refers to
//! was itself folded; it is then compared exactly (kind, names, sizes, merged ids it refers
//! to, flags) with the merged types. Folding identical subgraphs never hides an equivalence
//! from the dedup that follows and keeps the first occurrence, so the result is the one
//! deduplicating everything at once gives. Never folded: FUNC and VAR (symbol resolution needs
//! each object's own), DATASEC (rebuilt at the end), attribute tags, and any type on or above
//! a reference cycle (left to dedup's graph comparison).
use std::collections::HashMap;

use crate::btf::{Btf, BtfError, BtfType, Kind, Prehashed, RawBtf, RawType, Seeded, SeededHasher, TypeId};

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

/// Records longer than this are not kept beside the decoded merged type: the rare comparison
/// with one (after a hash match) encodes the type again. Large aggregates are mostly one
/// object's own (e.g. a struct listing all of its maps), and keeping their records would
/// double the memory the merged BTF takes.
const KEPT_RECORD_WORDS: usize = 64;

/// The merged BTF of the inputs added so far.
#[derive(Debug)]
pub struct MergedTypes {
    /// The merged types, decoded as they are added (the output is built from it).
    btf: Btf,
    /// The record of each merged type, in the merged numbering, for comparing (empty for
    /// records longer than `KEPT_RECORD_WORDS`).
    records: RawBtf<'static>,
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
    /// Per new type: its record's length in words, whether it may be folded into, and the
    /// type decoded (with whether it is an attribute tag).
    records: Vec<(usize, bool, BtfType, bool)>,
}

impl MergedTypes {
    /// `fold` off appends every type as is (for debugging with dedup switched off).
    pub fn new(fold: bool) -> MergedTypes {
        MergedTypes {
            btf: Btf::new(),
            records: RawBtf::new(),
            fold,
            heads: HashMap::default(),
            next: vec![END],
            indexed: vec![false],
            strings: StringIndex::default(),
            scratch: Scratch::default(),
        }
    }

    /// The merged BTF.
    pub fn btf(&self) -> &Btf {
        &self.btf
    }

    /// The merged BTF, dropping the indexes.
    pub fn into_btf(self) -> Btf {
        self.btf
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
        let mut strings = StringMap::new(input, &self.strings, self.btf.strings(), std::mem::take(&mut self.scratch.string_map));
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
            let record = &staged.words[start..];
            let (decoded, attribute_tag) = crate::btf::decode_record(record, map[id as usize]).map_err(Some)?;
            staged.records.push((record.len(), *fold && foldable(t), decoded, attribute_tag));
        }
        self.scratch.string_map = strings.into_table();
        Ok(staged)
    }

    pub fn commit(&mut self, staged: Staged) {
        let mut at = 0;
        for (len, foldable, decoded, attribute_tag) in staged.records {
            let record = &staged.words[at..at + len];
            at += len;
            let hash = hash_words(record);
            let index = foldable && self.find_hashed(record, hash) == NEW;
            let id = self.btf.add_type(decoded);
            if attribute_tag {
                // Cannot fail: decoding marks DECL_TAG/TYPE_TAG only.
                let _ = self.btf.set_attribute_tag(id, true);
            }
            self.records.push_record(if record.len() <= KEPT_RECORD_WORDS { record } else { &[] });
            let prev = if index { self.heads.insert(hash, id).unwrap_or(END) } else { END };
            self.next.push(prev);
            self.indexed.push(index);
        }
    }

    /// For every input type: the identical merged type, or NEW. A type is settled once all
    /// it refers to is; a type reached again while on the walk closes a cycle and, with every
    /// type above it, stays NEW. The result does not depend on the order in which types are
    /// settled. Compilers emit a type before the types it refers to, so going from the last
    /// id down settles most types at once; the walk (depth first, with an explicit stack)
    /// settles the rest.
    fn find_folded(&mut self, input: &RawBtf, strings: &mut StringMap) -> Vec<TypeId> {
        let count = input.type_count() as usize;
        let mut folded = vec![UNSEEN; count];
        folded[0] = 0;
        // First, every type whose references are settled already, from the last id down (the
        // usual case); the others (VARs, DATASECs and FUNCs, which refer back to what came
        // before them, and anything on a cycle) wait for the walk, so that it does not settle
        // through its stack what this loop settles cheaply.
        let mut waiting = Vec::new();
        for root in (1..count as TypeId).rev() {
            let Some(t) = input.record(root) else { continue };
            if let Some(f) = self.fold_small(t, root, &folded, strings) {
                folded[root as usize] = f;
            } else if references_settled(t, &folded) {
                let guess = neighbour_guess(root, &folded);
                folded[root as usize] = self.lookup(t, guess, &folded, strings);
            } else {
                waiting.push(root);
            }
        }
        let mut stack = std::mem::take(&mut self.scratch.stack);
        for root in waiting {
            if folded[root as usize] != UNSEEN {
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

    /// What `lookup` answers for a type whose record is its three header words (pointers,
    /// modifiers, typedefs, FWDs, floats: most types) once its one reference is settled;
    /// None for other types and unsettled references (those take the walk). Written out
    /// rather than through `lookup`'s general remapping: it runs for almost every input type.
    #[inline(always)]
    fn fold_small(&self, t: RawType, id: TypeId, folded: &[TypeId], strings: &mut StringMap) -> Option<TypeId> {
        let &[name_off, info, size_or_type] = t.words() else { return None };
        let last = match t.kind() {
            Kind::Ptr | Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                let target = *folded.get(size_or_type as usize)?;
                if target == UNSEEN || target == ON_WALK {
                    return None;
                }
                if target == NEW || t.is_attribute_tag() {
                    return Some(NEW);
                }
                target
            }
            Kind::Fwd | Kind::Float => size_or_type,
            _ => return None,
        };
        let Some(name) = strings.find(self.btf.strings(), &self.strings, name_off) else { return Some(NEW) };
        Some(self.find_guessed(&[name, info, last], neighbour_guess(id, folded)))
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
        let merged = self.btf.strings();
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
        self.indexed.get(id as usize) == Some(&true) && self.record_is(id, key)
    }

    /// Whether merged type `id`'s record is `key`.
    #[inline(always)]
    fn record_is(&self, id: TypeId, key: &[u32]) -> bool {
        match self.records.record_words(id) {
            Some(kept) if !kept.is_empty() => same_bytes(kept, key),
            _ => key.len() > KEPT_RECORD_WORDS && self.btf.record_words(id).is_ok_and(|words| words == key),
        }
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
            if self.record_is(cand, key) {
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

/// Whether every type `t` refers to is settled (folded, or known to stay NEW).
fn references_settled(t: RawType, folded: &[TypeId]) -> bool {
    let mut settled = true;
    t.for_each_type_id(|c| settled &= folded.get(c as usize).is_some_and(|&f| f != UNSEEN && f != ON_WALK));
    settled
}

/// Where input type `id` probably folds: next to where a settled neighbour folded.
#[inline]
fn neighbour_guess(id: TypeId, folded: &[TypeId]) -> Option<TypeId> {
    let folded_at = |n: usize| folded.get(n).copied().filter(|&f| f != 0 && f < ON_WALK);
    let id = id as usize;
    // Types are settled from the last id down, so the next id is usually the settled one.
    folded_at(id + 1).map(|f| f - 1).or_else(|| folded_at(id.wrapping_sub(1)).map(|f| f + 1))
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
    /// `merged` is the merged string section.
    fn get(&self, merged: &[u8], bytes: &[u8], hash: u64) -> Option<u32> {
        let off = *self.by_hash.get(&hash)?;
        if string_is_at(merged, off, bytes) {
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

/// The little-endian word of the 8 bytes at `at`, if there are 8.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes.get(at..at + 8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
}

/// How many leading bytes `a` and `b` have in common (eight compared at a time).
#[inline]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut i = 0;
    while let (Some(x), Some(y)) = (word_at(a, i), word_at(b, i)) {
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i.min(a.len())..].iter().zip(b.get(i..).unwrap_or_default()).take_while(|(x, y)| x == y).count()
}

/// The length of the string at `at` of `strings`: up to its NUL, or to the end if none.
#[inline]
fn string_len(strings: &[u8], at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = at;
    while let Some(w) = word_at(strings, i) {
        // The lowest byte this flags is the first NUL (higher flags may be false).
        let zeros = w.wrapping_sub(ONES) & !w & HIGHS;
        if zeros != 0 {
            return i - at + (zeros.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let rest = strings.get(i..).unwrap_or_default();
    i - at + rest.iter().position(|&b| b == 0).unwrap_or(rest.len())
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
    /// each is hashed once at most, where looking names up as types use them would hash again
    /// the ones not merged yet (and pay a scan for the NUL per lookup).
    ///
    /// Inputs built from the same headers list most of their strings in the same order as
    /// the merged section (which holds every string once): while the bytes of both agree from
    /// the string matched last, every input string maps to the merged string at the same
    /// distance, without hashing. Only a string where they part is looked up by content.
    fn new(input: &'a RawBtf<'a>, index: &StringIndex, merged_strings: &[u8], mut map: Vec<u32>) -> StringMap<'a> {
        let strings = input.strings();
        map.clear();
        map.resize(strings.len(), UNKNOWN);
        let (mut off, mut guess) = (0usize, 0usize);
        while off < strings.len() {
            let run = common_prefix(&strings[off..], merged_strings.get(guess..).unwrap_or_default());
            // Strings wholly inside the run; an empty one only at 0 (the merged section has
            // its one empty string there).
            let mut at = off;
            let mut len = string_len(strings, at);
            while at + len < off + run && (len != 0 || at == 0) {
                map[at] = (guess + (at - off)) as u32;
                at += len + 1;
                len = string_len(strings, at);
            }
            if at >= strings.len() {
                break;
            }
            let piece = &strings[at..at + len];
            map[at] = match index.get(merged_strings, piece, SeededHasher::of_bytes(piece)) {
                Some(m) => {
                    guess = m as usize + len + 1;
                    m
                }
                None => {
                    // New to the merged section: the next string may continue the run.
                    guess += at - off;
                    ABSENT
                }
            };
            off = at + len + 1;
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
    fn get(&mut self, merged: &mut Btf, index: &mut StringIndex, off: u32) -> Option<u32> {
        if off == 0 {
            return Some(0);
        }
        if let Some(m) = self.known(off) {
            return Some(m);
        }
        let bytes = self.bytes(off)?;
        let hash = SeededHasher::of_bytes(bytes);
        let m = match index.get(merged.strings(), bytes, hash) {
            Some(m) => m,
            None if bytes.is_empty() => 0,
            None => {
                // Parsing checked that names are UTF-8.
                let m = merged.append_new_string(std::str::from_utf8(bytes).ok()?);
                index.insert(bytes, hash, m);
                m
            }
        };
        self.remember(off, m);
        Some(m)
    }

    /// The merged offset of the input's string at `off`, if the merged BTF has it.
    /// `merged` is the merged string section.
    fn find(&mut self, merged: &[u8], index: &StringIndex, off: u32) -> Option<u32> {
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
    use super::{common_prefix, string_len, MergedTypes};
    use crate::btf::{Btf, BtfType, Member, RawBtf, TypeKind};

    /// BTF with an int and a struct of `members` int members (ids 1 and 2).
    fn struct_btf(members: u32) -> Vec<u8> {
        let mut btf = Btf::new();
        let int_name = btf.add_string("int");
        let int = btf.add_type(BtfType { name_off: int_name, kind: TypeKind::Int { size: 4, encoding: 1, bit_offset: 0, bits: 32 } });
        let members = (0..members)
            .map(|i| Member { name_off: btf.add_string(&format!("m{i}")), type_id: int, bit_offset: 32 * i, bitfield_size: 0 })
            .collect();
        let name_off = btf.add_string("big");
        btf.add_type(BtfType { name_off, kind: TypeKind::Struct { size: 4 * 40, kind_flag: false, members } });
        btf.to_bytes()
    }

    /// Records too long to be kept beside their merged type are still folded (compared with
    /// the merged type encoded again), as the short ones are.
    #[test]
    fn identical_types_fold_whatever_their_length() {
        for members in [3, 40] {
            let bytes = struct_btf(members);
            let input = RawBtf::parse(&bytes).unwrap();
            let mut merged = MergedTypes::new(true);
            let first = merged.stage("a.o", &input).unwrap();
            let first_map = first.map.clone();
            merged.commit(first);
            let second = merged.stage("b.o", &input).unwrap();
            assert_eq!(second.map, first_map, "{members} members: the second copy folds into the first");
            merged.commit(second);
            assert_eq!(merged.btf().type_count(), 3, "{members} members");
        }
    }

    /// Against the obvious byte-by-byte answers, around the 8-byte steps and the ends.
    #[test]
    fn word_at_a_time_scans_agree_with_bytewise() {
        let text = b"abcdefgh\0abcdefg\0\0abcdefghijklmnop\0xy\0z";
        for at in 0..=text.len() {
            let rest = &text[at..];
            assert_eq!(string_len(text, at), rest.iter().position(|&b| b == 0).unwrap_or(rest.len()), "string_len at {at}");
            for other_at in 0..=text.len() {
                let other = &text[other_at..];
                let expected = rest.iter().zip(other).take_while(|(x, y)| x == y).count();
                assert_eq!(common_prefix(rest, other), expected, "common_prefix {at} {other_at}");
            }
        }
    }
}
