//! BTF deduplication: collapses structurally identical types (the static linker's last step).
//!
//! Contract: `dedup(&Btf) -> Result<Deduped, BtfError>` where `Deduped { btf: Btf, remap:
//! Vec<TypeId> }` and `remap[old_id]` is the id of the equivalent type in the new BTF.
//! `dedup_owned(Btf)` gives the same result, moving the kept types instead of copying them.
//!
//! Semantics follow current libbpf's `btf__dedup` (same canonical choices and order; typedefs
//! are deduplicated with structs, which lets cycles through typedefs work), in these phases:
//! 1. checks: standalone BTF, every name offset inside the string section, every referenced id
//!    in range (UTF-8 is checked for the names that reach the output);
//! 2. primitives (INT, FLOAT, FWD, ENUM, ENUM64): hashed and compared field by field; an enum
//!    forward declaration (`enum x;`, vlen 0) resolves to a full ENUM or ENUM64 of that name;
//! 3. structs, unions and typedefs: candidates with the same shallow shape (name, size, member
//!    names and offsets) are checked by a side-by-side walk of both type graphs that records a
//!    hypothetical canonical→candidate mapping, so cycles through pointers terminate and FWDs
//!    in either graph match the STRUCT/UNION they declare;
//! 4. every still unresolved FWD resolves to the unique canonical STRUCT/UNION of its name and kind;
//! 5. reference kinds (PTR, CONST, VOLATILE, RESTRICT, TYPE_TAG, FUNC, DECL_TAG, ARRAY,
//!    FUNC_PROTO) bottom-up, once what they refer to is canonical;
//! 6. VAR and DATASEC are never merged (as in libbpf), only remapped;
//! 7. compaction: canonical types keep their first-occurrence order, everything else is dropped
//!    and every reference is renumbered. Strings are rebuilt from the kept types only.
//!
//! Names are compared by content, or by offset when the string section is free of duplicates
//! (the usual case, detected up front). No phase recurses on input-controlled depth: graph
//! walks use explicit work lists, and the duplicate-tolerance check is depth- and budget-bound.
use super::error::BtfError;
use super::types::*;
use super::Btf;
use super::hash::{Prehashed, Seeded, SeededHasher};
use super::validate::TypeView;
use std::collections::HashMap;

/// The result of `dedup`: the new BTF and, for every input type id, its id in the new BTF.
#[derive(Debug, Clone)]
pub struct Deduped {
    pub btf: Btf,
    pub remap: Vec<TypeId>,
}

/// Deduplicates a standalone BTF (see the module documentation for the semantics).
pub fn dedup(btf: &Btf) -> Result<Deduped, BtfError> {
    let (plan, names_by_offset) = plan(btf)?;
    build(btf, names_by_offset, &plan, |id| btf.types().get(id).cloned())
}

/// Like `dedup`, consuming `btf`: the kept types are renamed and renumbered where they are,
/// so the input and the output are never both held (peak memory of a large link).
pub fn dedup_owned(mut btf: Btf) -> Result<Deduped, BtfError> {
    let (plan, names_by_offset) = plan(&btf)?;
    let mut src_names = Btf::new();
    src_names.strings = std::mem::take(&mut btf.strings);
    let mut out_names = Btf::new();
    let mut renamed = vec![NONE; src_names.strings.len()];
    let mut failed = None;
    let kept = |id: TypeId| plan.new_id.get(id as usize).is_some_and(|&new| new != NONE);
    btf.retain_types(kept, |t| {
        if failed.is_none() {
            failed = rename_into(&src_names, names_by_offset, t, &mut out_names, &mut renamed).err();
        }
        t.for_each_type_id_mut(|target| *target = plan.remap.get(*target as usize).copied().unwrap_or(0));
    });
    if let Some(err) = failed {
        return Err(err);
    }
    btf.strings = out_names.strings;
    // As a BTF built anew (see `build`): the 24-byte header, no string index.
    btf.hdr_len = super::BTF_HEADER_SIZE;
    btf.string_index = std::sync::OnceLock::new();
    Ok(Deduped { btf, remap: plan.remap })
}

/// Every phase but compaction; returns the kept types' new ids and the full remap.
fn plan(btf: &Btf) -> Result<(Plan, bool), BtfError> {
    let names_by_offset = check_input(btf)?;
    let mut d = Dedup::new(btf, names_by_offset);
    d.dedup_primitives();
    d.dedup_aggregates();
    d.resolve_unique_fwds();
    d.compress_mappings();
    d.dedup_references()?;
    Ok((d.plan(), names_by_offset))
}

/// Which types compaction keeps: `new_id[old]` (NONE if dropped) and `remap[old]`.
struct Plan {
    new_id: Vec<u32>,
    remap: Vec<TypeId>,
}

/// Compaction: the kept types (taken by `take(old id)`) in first-occurrence order, renamed into
/// a fresh string section and renumbered. `src` supplies strings and attribute-tag flags.
fn build(
    src: &Btf,
    names_by_offset: bool,
    plan: &Plan,
    take: impl Fn(usize) -> Option<BtfType>,
) -> Result<Deduped, BtfError> {
    let mut out = Btf::new();
    out.set_endian(src.endian());
    // Input offset → output offset, indexed directly (names recur in every kept type, and a
    // table as long as the input's string section is cheaper than hashing each of them).
    let mut renamed = vec![NONE; src.strings().len()];
    for (id, &new) in plan.new_id.iter().enumerate().skip(1) {
        if new == NONE {
            continue;
        }
        let Some(mut copy) = take(id) else { continue };
        rename_into(src, names_by_offset, &mut copy, &mut out, &mut renamed)?;
        copy.for_each_type_id_mut(|target| {
            *target = plan.remap.get(*target as usize).copied().unwrap_or(0)
        });
        let added = out.add_type(copy);
        if src.is_attribute_tag(id as u32) {
            out.set_attribute_tag(added, true)?;
        }
    }
    Ok(Deduped {
        btf: out,
        remap: plan.remap.clone(),
    })
}

/// `map` value of a type no phase has looked at yet.
const UNPROCESSED: u32 = u32::MAX;
/// `map` value of a reference type whose targets are being resolved (a repeat visit is a cycle).
const IN_PROGRESS: u32 = u32::MAX - 1;
/// End of a candidate chain / empty hypothetical slot.
const NONE: u32 = u32::MAX;
/// Depth of the structural comparison used when the hypothetical map is contradicted; libbpf
/// uses the same bound.
const IDENTICAL_DEPTH: u32 = 16;
/// Most type pairs that comparison may visit (beyond any real duplicate's size).
const IDENTICAL_BUDGET: u32 = 4096;

static VOID: BtfType = BtfType {
    name_off: 0,
    kind: TypeKind::Void,
};

// ---------------------------------------------------------------------------------- checks

/// Checks what later phases rely on; returns whether names can be identified by offset.
fn check_input(btf: &Btf) -> Result<bool, BtfError> {
    if btf.first_type_id() != 0 || btf.base().is_some() {
        return Err(BtfError::InvalidType {
            id: btf.first_type_id(),
            kind: Kind::Void,
            reason: "dedup works on standalone BTF; split BTF is not supported".into(),
        });
    }
    let layout = StringLayout::of(btf.strings());
    let mut all_offsets_start_strings = true;
    let count = btf.type_count();
    for (i, t) in btf.types().iter().enumerate() {
        let id = i as TypeId;
        let kind = t.kind();
        if kind == Kind::Void && id != 0 {
            return Err(BtfError::InvalidType {
                id,
                kind,
                reason: "only type 0 may be void".into(),
            });
        }
        let mut unterminated = None;
        t.for_each_name_off(|off| {
            if !layout.is_terminated_at(off) {
                unterminated = unterminated.or(Some(off));
            }
            all_offsets_start_strings &= layout.starts_string(off);
        });
        if let Some(off) = unterminated {
            return Err(BtfError::StringOffsetOutOfRange {
                at: format!("dedup: BTF type {id} ({kind})"),
                offset: off,
                len: btf.strings().len() as u32,
            });
        }
        let mut bad = None;
        t.for_each_type_id(|target| {
            if target >= count && bad.is_none() {
                bad = Some(target);
            }
        });
        if let Some(target) = bad {
            return Err(BtfError::TypeIdOutOfRange {
                id,
                kind,
                target,
                count,
            });
        }
    }
    Ok(all_offsets_start_strings && layout.unique)
}

/// Where the strings of a string section start, and whether any string occurs twice. With
/// unique strings and every name offset at a string start, offsets identify names (the usual
/// case: clang, libbpf and `Btf::add_string` all deduplicate strings), which saves hashing and
/// comparing bytes.
struct StringLayout<'a> {
    strings: &'a [u8],
    starts: Vec<u64>,
    unique: bool,
}

impl<'a> StringLayout<'a> {
    fn of(strings: &'a [u8]) -> Self {
        let mut starts = vec![0u64; strings.len().div_ceil(64)];
        let mut seen: std::collections::HashSet<&[u8], Seeded> = Default::default();
        let mut unique = true;
        let mut off = 0usize;
        for piece in strings.split(|&b| b == 0) {
            if off >= strings.len() {
                break; // the empty piece after the final NUL
            }
            if let Some(word) = starts.get_mut(off / 64) {
                *word |= 1 << (off % 64);
            }
            unique &= seen.insert(piece);
            off += piece.len() + 1;
        }
        StringLayout {
            strings,
            starts,
            unique,
        }
    }

    /// A NUL follows `off` within the section.
    fn is_terminated_at(&self, off: u32) -> bool {
        (off as usize) < self.strings.len() && self.strings.last() == Some(&0)
    }

    fn starts_string(&self, off: u32) -> bool {
        let off = off as usize;
        self.starts
            .get(off / 64)
            .is_some_and(|word| word & (1 << (off % 64)) != 0)
    }
}

// ---------------------------------------------------------------------------------- hashing

/// The hash of a type's shape, under the process seed (see `super::hash`): names come from the
/// input, and with a fixed function crafted names could put every type in one candidate
/// chain. Candidates are compared exactly and taken in insertion order, so the seed never
/// changes the result.
#[derive(Clone, Copy)]
struct ShapeHash(SeededHasher);

impl ShapeHash {
    fn new(tag: u64) -> Self {
        ShapeHash(SeededHasher::default()).add(tag)
    }

    fn add(mut self, v: u64) -> Self {
        self.0.add(v);
        self
    }

    fn add_bytes(mut self, bytes: &[u8]) -> Self {
        self.0.add_bytes(bytes);
        self
    }

    fn finish(self) -> u64 {
        self.0.finish_word()
    }
}

/// Canonical candidates by shape hash. Each type is added at most once, so the chains live in
/// one `next` array indexed by type id instead of a vector per bucket.
struct CandidateTable {
    /// hash → (first, last) candidate of the chain, oldest first.
    chains: HashMap<u64, (u32, u32), Prehashed>,
    next: Vec<u32>,
}

impl CandidateTable {
    fn new(type_count: usize) -> Self {
        CandidateTable {
            chains: HashMap::default(),
            next: vec![NONE; type_count],
        }
    }

    fn first(&self, hash: u64) -> u32 {
        self.chains.get(&hash).map_or(NONE, |&(first, _)| first)
    }

    fn after(&self, id: u32) -> u32 {
        self.next.get(id as usize).copied().unwrap_or(NONE)
    }

    fn add(&mut self, hash: u64, id: u32) {
        match self.chains.get_mut(&hash) {
            Some((_, last)) => {
                if let Some(slot) = self.next.get_mut(*last as usize) {
                    *slot = id;
                }
                *last = id;
            }
            None => {
                self.chains.insert(hash, (id, id));
            }
        }
    }
}

// ---------------------------------------------------------------------------------- state

struct Dedup<'a> {
    btf: &'a Btf,
    types: &'a [BtfType],
    strings: &'a [u8],
    /// Equal name offsets mean equal names and vice versa (see `StringLayout`), so names are
    /// hashed and compared as offsets.
    names_by_offset: bool,
    /// Canonical representative of each type (possibly through a chain), or UNPROCESSED.
    map: Vec<u32>,
    /// During one graph equivalence check: canonical-graph id → candidate-graph id.
    hypot: Vec<u32>,
    hypot_list: Vec<u32>,
    /// Pairs (candidate-graph id, canonical-graph id) still to compare.
    work: Vec<(u32, u32)>,
    table: CandidateTable,
}

impl<'a> Dedup<'a> {
    fn new(btf: &'a Btf, names_by_offset: bool) -> Self {
        let types = btf.types();
        let map = types
            .iter()
            .enumerate()
            .map(|(id, t)| match t.kind() {
                // void, VARs and DATASECs are their own canonical types from the start.
                Kind::Void | Kind::Var | Kind::Datasec => id as u32,
                _ => UNPROCESSED,
            })
            .collect();
        Dedup {
            btf,
            types,
            strings: btf.strings(),
            names_by_offset,
            map,
            hypot: vec![NONE; types.len()],
            hypot_list: Vec::new(),
            work: Vec::new(),
            table: CandidateTable::new(types.len()),
        }
    }

    fn ty(&self, id: u32) -> &'a BtfType {
        self.types.get(id as usize).unwrap_or(&VOID)
    }

    fn name(&self, off: u32) -> &'a [u8] {
        let rest = self.strings.get(off as usize..).unwrap_or(&[]);
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        &rest[..end]
    }

    fn same_name(&self, a: u32, b: u32) -> bool {
        a == b || (!self.names_by_offset && self.name(a) == self.name(b))
    }

    fn hash_name(&self, h: ShapeHash, off: u32) -> ShapeHash {
        if self.names_by_offset {
            h.add(u64::from(off))
        } else {
            h.add_bytes(self.name(off))
        }
    }

    fn map_of(&self, id: u32) -> u32 {
        self.map.get(id as usize).copied().unwrap_or(UNPROCESSED)
    }

    fn is_mapped(&self, id: u32) -> bool {
        self.map_of(id) < IN_PROGRESS
    }

    fn set_map(&mut self, id: u32, to: u32) {
        if let Some(slot) = self.map.get_mut(id as usize) {
            *slot = to;
        }
    }

    /// Follows the canonical chain; an unprocessed type stands for itself. The bound only
    /// guards against a broken invariant (chains are acyclic by construction).
    fn resolve(&self, mut id: u32) -> u32 {
        for _ in 0..=self.map.len() {
            let next = self.map_of(id);
            if next >= IN_PROGRESS || next == id {
                return id;
            }
            id = next;
        }
        id
    }

    /// A FWD already resolved to a STRUCT/UNION stands for that aggregate; anything else for itself.
    fn resolve_fwd(&self, id: u32) -> u32 {
        if self.ty(id).kind() != Kind::Fwd {
            return id;
        }
        let resolved = self.resolve(id);
        if self.ty(resolved).kind() == Kind::Fwd {
            id
        } else {
            resolved
        }
    }

    // ------------------------------------------------------------------ phase 2: primitives

    fn dedup_primitives(&mut self) {
        for id in 1..self.types.len() as u32 {
            let t = self.ty(id);
            match t.kind() {
                Kind::Int | Kind::Float | Kind::Fwd => self.dedup_exact_primitive(id, t),
                Kind::Enum | Kind::Enum64 => self.dedup_enum(id, t),
                _ => {}
            }
        }
    }

    /// INT, FLOAT and FWD: equal when name and every field are equal.
    fn dedup_exact_primitive(&mut self, id: u32, t: &BtfType) {
        let hash = self.primitive_hash(t);
        self.record_first_match(id, hash, |d, cand| {
            let c = d.ty(cand);
            c.kind == t.kind && d.same_name(c.name_off, t.name_off)
        });
    }

    fn primitive_hash(&self, t: &BtfType) -> u64 {
        let h = self.hash_name(ShapeHash::new(t.kind() as u64), t.name_off);
        match &t.kind {
            TypeKind::Int {
                size,
                encoding,
                bit_offset,
                bits,
            } => h
                .add(u64::from(*size))
                .add(u64::from(*encoding) << 16 | u64::from(*bit_offset) << 8 | u64::from(*bits)),
            TypeKind::Float { size } => h.add(u64::from(*size)),
            TypeKind::Fwd { is_union } => h.add(u64::from(*is_union)),
            _ => h,
        }
        .finish()
    }

    /// ENUM/ENUM64 are hashed by name only so that a forward declaration meets the full
    /// definitions of its name: a fwd maps onto the first compatible full enum, and a full enum
    /// taking over an earlier canonical fwd redirects that fwd to itself.
    fn dedup_enum(&mut self, id: u32, t: &BtfType) {
        let hash = self
            .hash_name(ShapeHash::new(Kind::Enum as u64), t.name_off)
            .finish();
        self.record_first_match(id, hash, |d, cand| {
            let c = d.ty(cand);
            if d.enums_equal(t, c) {
                return true;
            }
            if d.enums_compatible(t, c) {
                if is_enum_fwd(t) {
                    return true;
                }
                d.set_map(cand, id);
            }
            false
        });
    }

    fn enums_equal(&self, a: &BtfType, b: &BtfType) -> bool {
        let same_values = |x: &[Enumerator], y: &[Enumerator]| {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.value == q.value && self.same_name(p.name_off, q.name_off))
        };
        if !self.same_name(a.name_off, b.name_off) {
            return false;
        }
        match (&a.kind, &b.kind) {
            (
                TypeKind::Enum {
                    size: s1,
                    signed: g1,
                    values: v1,
                },
                TypeKind::Enum {
                    size: s2,
                    signed: g2,
                    values: v2,
                },
            )
            | (
                TypeKind::Enum64 {
                    size: s1,
                    signed: g1,
                    values: v1,
                },
                TypeKind::Enum64 {
                    size: s2,
                    signed: g2,
                    values: v2,
                },
            ) => s1 == s2 && g1 == g2 && same_values(v1, v2),
            _ => false,
        }
    }

    /// Equal, or one of them is a forward declaration of the other's name (size and ENUM vs
    /// ENUM64 are then ignored, as a fwd carries neither reliably).
    fn enums_compatible(&self, a: &BtfType, b: &BtfType) -> bool {
        if !is_enum_fwd(a) && !is_enum_fwd(b) {
            return self.enums_equal(a, b);
        }
        is_any_enum(a) && is_any_enum(b) && self.same_name(a.name_off, b.name_off)
    }

    /// Walks the candidates under `hash` in insertion order and records `id` as a duplicate of
    /// the first one `is_match` accepts, or as its own canonical when none does. `is_match` may
    /// update the map for candidates it passes over (enum fwd takeover needs that).
    fn record_first_match(
        &mut self,
        id: u32,
        hash: u64,
        mut is_match: impl FnMut(&mut Self, u32) -> bool,
    ) {
        let mut canonical = id;
        let mut cand = self.table.first(hash);
        while cand != NONE {
            if is_match(self, cand) {
                canonical = cand;
                break;
            }
            cand = self.table.after(cand);
        }
        self.record(id, canonical, hash);
    }

    /// Maps `id` to `canonical` and, if it is its own canonical, makes it a candidate.
    fn record(&mut self, id: u32, canonical: u32, hash: u64) {
        self.set_map(id, canonical);
        if canonical == id {
            self.table.add(hash, id);
        }
    }

    // ------------------------------------------------------------------ phase 3: aggregates

    fn dedup_aggregates(&mut self) {
        for id in 1..self.types.len() as u32 {
            if self.is_mapped(id) {
                continue;
            }
            let t = self.ty(id);
            if matches!(t.kind(), Kind::Struct | Kind::Union | Kind::Typedef) {
                self.dedup_aggregate(id, t);
            }
        }
    }

    fn dedup_aggregate(&mut self, id: u32, t: &BtfType) {
        let hash = self.aggregate_hash(t);
        self.record_first_match(id, hash, |d, cand| {
            // The shallow check also keeps a colliding FWD from becoming the candidate, which
            // could otherwise map a FWD and its STRUCT onto each other.
            if d.shallow_equal(t, d.ty(cand)) && d.is_equiv(id, cand) {
                d.merge_hypot();
                return true;
            }
            false
        });
    }

    /// Name, kind, size and member names/offsets; member types are left out because they are
    /// not canonical yet.
    fn aggregate_hash(&self, t: &BtfType) -> u64 {
        let h = self.hash_name(ShapeHash::new(t.kind() as u64), t.name_off);
        match &t.kind {
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
                let mut h = h
                    .add(u64::from(*size))
                    .add(u64::from(*kind_flag))
                    .add(members.len() as u64);
                for m in members {
                    h = self
                        .hash_name(h, m.name_off)
                        .add(u64::from(m.bit_offset) << 8 | u64::from(m.bitfield_size));
                }
                h
            }
            _ => h,
        }
        .finish()
    }

    /// Same kind, name and layout (member names, offsets, bitfield sizes), ignoring member types.
    fn shallow_equal(&self, a: &BtfType, b: &BtfType) -> bool {
        if !self.same_name(a.name_off, b.name_off) {
            return false;
        }
        match (&a.kind, &b.kind) {
            (TypeKind::Typedef { .. }, TypeKind::Typedef { .. }) => true,
            (
                TypeKind::Struct {
                    size: s1,
                    kind_flag: k1,
                    members: m1,
                },
                TypeKind::Struct {
                    size: s2,
                    kind_flag: k2,
                    members: m2,
                },
            )
            | (
                TypeKind::Union {
                    size: s1,
                    kind_flag: k1,
                    members: m1,
                },
                TypeKind::Union {
                    size: s2,
                    kind_flag: k2,
                    members: m2,
                },
            ) => {
                s1 == s2
                    && k1 == k2
                    && m1.len() == m2.len()
                    && m1.iter().zip(m2).all(|(x, y)| {
                        x.bit_offset == y.bit_offset
                            && x.bitfield_size == y.bitfield_size
                            && self.same_name(x.name_off, y.name_off)
                    })
            }
            _ => false,
        }
    }

    /// Whether the type graph rooted at `cand` (new) is equivalent to the one rooted at `canon`
    /// (an existing canonical type). Walks both graphs in lockstep, depth first, recording in
    /// `hypot` which candidate type each canonical-graph type stands for; meeting a recorded
    /// pair again (a cycle) is a match, a conflicting record is a mismatch.
    fn is_equiv(&mut self, cand: u32, canon: u32) -> bool {
        self.clear_hypot();
        self.work.clear();
        self.work.push((cand, canon));
        while let Some((cand, canon)) = self.work.pop() {
            if !self.equiv_step(cand, canon) {
                return false;
            }
        }
        true
    }

    fn clear_hypot(&mut self) {
        for &id in &self.hypot_list {
            if let Some(slot) = self.hypot.get_mut(id as usize) {
                *slot = NONE;
            }
        }
        self.hypot_list.clear();
    }

    /// Compares one pair and queues the pairs of referenced types (in reverse, so the stack
    /// visits them in declaration order like a recursive walk would).
    fn equiv_step(&mut self, cand: u32, canon: u32) -> bool {
        if self.resolve(cand) == self.resolve(canon) {
            return true;
        }
        let canon = self.resolve_fwd(canon);
        let recorded = self.hypot.get(canon as usize).copied().unwrap_or(NONE);
        if recorded != NONE {
            // Compilers sometimes emit duplicate copies of one type inside a single unit, so a
            // contradiction is forgiven when both candidates are structurally identical.
            return recorded == cand
                || self.identical(recorded, cand, IDENTICAL_DEPTH, &mut { IDENTICAL_BUDGET });
        }
        if let Some(slot) = self.hypot.get_mut(canon as usize) {
            *slot = cand;
            self.hypot_list.push(canon);
        }
        let (c, k) = (self.ty(cand), self.ty(canon));
        if !self.same_name(c.name_off, k.name_off) {
            return false;
        }
        let (ck, kk) = (c.kind(), k.kind());
        if ck != kk && (ck == Kind::Fwd || kk == Kind::Fwd) {
            return fwd_matches(c, k) || fwd_matches(k, c);
        }
        if ck != kk {
            return false;
        }
        // Leaf kinds decide alone; for the others a matching shell means their referenced
        // types must be compared next.
        let shells_match = match (&c.kind, &k.kind) {
            (TypeKind::Int { .. }, _) | (TypeKind::Float { .. }, _) | (TypeKind::Fwd { .. }, _) => {
                return c.kind == k.kind
            }
            (TypeKind::Enum { .. }, _) | (TypeKind::Enum64 { .. }, _) => {
                return self.enums_compatible(c, k)
            }
            (TypeKind::Struct { .. }, _) | (TypeKind::Union { .. }, _) => self.shallow_equal(c, k),
            (TypeKind::Array { nelems: n1, .. }, TypeKind::Array { nelems: n2, .. }) => n1 == n2,
            (TypeKind::FuncProto { params: p1, .. }, TypeKind::FuncProto { params: p2, .. }) => {
                p1.len() == p2.len()
                    && p1
                        .iter()
                        .zip(p2)
                        .all(|(x, y)| self.same_name(x.name_off, y.name_off))
            }
            (TypeKind::Func { linkage: l1, .. }, TypeKind::Func { linkage: l2, .. }) => l1 == l2,
            (TypeKind::TypeTag { .. }, _) => {
                self.btf.is_attribute_tag(cand) == self.btf.is_attribute_tag(canon)
            }
            (TypeKind::Ptr { .. }, _)
            | (TypeKind::Typedef { .. }, _)
            | (TypeKind::Const { .. }, _)
            | (TypeKind::Volatile { .. }, _)
            | (TypeKind::Restrict { .. }, _) => true,
            // VAR, DATASEC and DECL_TAG never sit inside an aggregate's type graph.
            _ => false,
        };
        if shells_match {
            self.queue_children(c, k);
        }
        shells_match
    }

    /// Queues (candidate, canonical) pairs of referenced types. An array's index type comes
    /// before its element type, as in the BTF encoding order libbpf walks.
    fn queue_children(&mut self, c: &BtfType, k: &BtfType) {
        let start = self.work.len();
        match (&c.kind, &k.kind) {
            (
                TypeKind::Array {
                    elem: e1,
                    index: i1,
                    ..
                },
                TypeKind::Array {
                    elem: e2,
                    index: i2,
                    ..
                },
            ) => {
                self.work.push((*i1, *i2));
                self.work.push((*e1, *e2));
            }
            _ => {
                // Shallow checks made both sides list the same number of targets.
                c.for_each_type_id(|id| self.work.push((id, NONE)));
                let mut i = start;
                k.for_each_type_id(|id| {
                    if let Some(pair) = self.work.get_mut(i) {
                        pair.1 = id;
                    }
                    i += 1;
                });
            }
        }
        self.work[start..].reverse();
    }

    /// Structural identity of two types of the candidate graph, to a bounded depth.
    /// `budget` bounds the pairs visited, as wide types could make the walk exponential.
    fn identical(&self, a: u32, b: u32, depth: u32, budget: &mut u32) -> bool {
        if a == b {
            return true;
        }
        if depth == 0 || *budget == 0 {
            return false;
        }
        *budget -= 1;
        let (x, y) = (self.ty(a), self.ty(b));
        if x.kind() != y.kind() || !self.same_name(x.name_off, y.name_off) {
            return false;
        }
        let mut same_ids = |this: &Self| {
            let mut ids = Vec::new();
            x.for_each_type_id(|id| ids.push(id));
            let mut ok = true;
            let mut i = 0;
            y.for_each_type_id(|id| {
                ok = ok
                    && ids
                        .get(i)
                        .is_some_and(|&other| this.identical(other, id, depth - 1, budget));
                i += 1;
            });
            ok && i == ids.len()
        };
        match (&x.kind, &y.kind) {
            (TypeKind::Void, _) => true,
            (TypeKind::Int { .. }, _) | (TypeKind::Float { .. }, _) | (TypeKind::Fwd { .. }, _) => {
                x.kind == y.kind
            }
            (TypeKind::Enum { .. }, _) | (TypeKind::Enum64 { .. }, _) => {
                self.enums_compatible(x, y)
            }
            (TypeKind::Struct { .. }, _) | (TypeKind::Union { .. }, _) => {
                self.shallow_equal(x, y) && same_ids(self)
            }
            (TypeKind::Array { nelems: n1, .. }, TypeKind::Array { nelems: n2, .. }) => {
                n1 == n2 && same_ids(self)
            }
            (TypeKind::FuncProto { params: p1, .. }, TypeKind::FuncProto { params: p2, .. }) => {
                p1.len() == p2.len()
                    && p1
                        .iter()
                        .zip(p2)
                        .all(|(m, n)| self.same_name(m.name_off, n.name_off))
                    && same_ids(self)
            }
            (TypeKind::Func { linkage: l1, .. }, TypeKind::Func { linkage: l2, .. }) => {
                l1 == l2 && same_ids(self)
            }
            (TypeKind::TypeTag { .. }, _) => {
                self.btf.is_attribute_tag(a) == self.btf.is_attribute_tag(b) && same_ids(self)
            }
            (TypeKind::Ptr { .. }, _)
            | (TypeKind::Typedef { .. }, _)
            | (TypeKind::Const { .. }, _)
            | (TypeKind::Volatile { .. }, _)
            | (TypeKind::Restrict { .. }, _) => same_ids(self),
            _ => false,
        }
    }

    /// After a successful equivalence check: FWDs on either side resolve to the aggregate they
    /// matched, and candidate-graph structs whose counterpart is already canonical are mapped
    /// right away (saving their own check later).
    fn merge_hypot(&mut self) {
        for i in 0..self.hypot_list.len() {
            let canon = self.hypot_list[i];
            let Some(&target) = self.hypot.get(canon as usize) else {
                continue;
            };
            let t_id = self.resolve(target);
            let c_id = self.resolve(canon);
            let t_kind = self.ty(t_id).kind();
            let c_kind = self.ty(c_id).kind();
            if t_kind != Kind::Fwd && c_kind == Kind::Fwd {
                self.set_map(c_id, t_id);
            }
            if t_kind == Kind::Fwd && c_kind != Kind::Fwd {
                self.set_map(t_id, c_id);
            }
            if matches!(t_kind, Kind::Struct | Kind::Union)
                && c_kind != Kind::Fwd
                && self.is_mapped(c_id)
                && !self.is_mapped(t_id)
            {
                self.set_map(t_id, c_id);
            }
        }
    }

    // ------------------------------------------------------------------ phase 4: lone FWDs

    /// A FWD that no graph comparison resolved maps to the canonical STRUCT/UNION of its name,
    /// if exactly one exists and its kind matches the FWD's.
    fn resolve_unique_fwds(&mut self) {
        let mut by_name: HashMap<&[u8], Option<u32>> = HashMap::new();
        for id in 1..self.types.len() as u32 {
            let t = self.ty(id);
            if matches!(t.kind(), Kind::Struct | Kind::Union) && self.map_of(id) == id {
                by_name
                    .entry(self.name(t.name_off))
                    .and_modify(|unique| *unique = None)
                    .or_insert(Some(id));
            }
        }
        for id in 1..self.types.len() as u32 {
            let t = self.ty(id);
            let TypeKind::Fwd { is_union } = t.kind else {
                continue;
            };
            if self.map_of(id) != id {
                continue;
            }
            let Some(&Some(target)) = by_name.get(self.name(t.name_off)) else {
                continue;
            };
            if (self.ty(target).kind() == Kind::Union) == is_union {
                self.set_map(id, target);
            }
        }
    }

    /// Points every mapped type straight at its final canonical type, so the reference phase
    /// resolves in one step.
    fn compress_mappings(&mut self) {
        for id in 0..self.map.len() as u32 {
            if self.is_mapped(id) {
                let to = self.resolve(id);
                self.set_map(id, to);
            }
        }
    }

    // ------------------------------------------------------------------ phase 5: references

    fn dedup_references(&mut self) -> Result<(), BtfError> {
        let mut stack: Vec<(u32, bool)> = Vec::new();
        for root in 1..self.types.len() as u32 {
            if self.is_mapped(root) {
                continue;
            }
            stack.push((root, false));
            while let Some((id, targets_done)) = stack.pop() {
                if targets_done {
                    self.dedup_reference(id);
                    continue;
                }
                match self.map_of(id) {
                    IN_PROGRESS => {
                        let kind = self.ty(id).kind();
                        return Err(BtfError::ReferenceCycle {
                            id,
                            kind,
                            reason: "pointers, modifiers, arrays or prototypes refer back to \
                                     themselves without a struct, union or typedef in between",
                        });
                    }
                    UNPROCESSED => {
                        self.set_map(id, IN_PROGRESS);
                        stack.push((id, true));
                        // Reversed so targets are finished in declaration order, which decides
                        // which of two equal types becomes canonical (the first, as in libbpf).
                        let first_target = stack.len();
                        self.ty(id).for_each_type_id(|target| {
                            if !self.is_mapped(target) {
                                stack.push((target, false));
                            }
                        });
                        stack[first_target..].reverse();
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Dedups one reference type whose targets are all canonical now.
    fn dedup_reference(&mut self, id: u32) {
        let t = self.ty(id);
        let hash = self.reference_hash(id, t);
        self.record_first_match(id, hash, |d, cand| d.references_equal(id, cand));
    }

    fn reference_hash(&self, id: u32, t: &BtfType) -> u64 {
        let mut h = self
            .hash_name(ShapeHash::new(t.kind() as u64 | 0x100), t.name_off)
            .add(u64::from(self.btf.is_attribute_tag(id)));
        match &t.kind {
            TypeKind::Array { nelems, .. } => h = h.add(u64::from(*nelems)),
            TypeKind::Func { linkage, .. } => h = h.add(u64::from(linkage.to_raw())),
            TypeKind::DeclTag { component_idx, .. } => h = h.add(*component_idx as u32 as u64),
            TypeKind::FuncProto { params, .. } => {
                for p in params {
                    h = self.hash_name(h, p.name_off);
                }
            }
            _ => {}
        }
        t.for_each_type_id(|target| h = h.add(u64::from(self.resolve(target))));
        h.finish()
    }

    /// Same kind, name and fields, and the same canonical targets.
    fn references_equal(&self, a: u32, b: u32) -> bool {
        let (x, y) = (self.ty(a), self.ty(b));
        if x.kind() != y.kind()
            || !self.same_name(x.name_off, y.name_off)
            || self.btf.is_attribute_tag(a) != self.btf.is_attribute_tag(b)
        {
            return false;
        }
        let fields_equal = match (&x.kind, &y.kind) {
            (TypeKind::Array { nelems: n1, .. }, TypeKind::Array { nelems: n2, .. }) => n1 == n2,
            (TypeKind::Func { linkage: l1, .. }, TypeKind::Func { linkage: l2, .. }) => l1 == l2,
            (
                TypeKind::DeclTag {
                    component_idx: c1, ..
                },
                TypeKind::DeclTag {
                    component_idx: c2, ..
                },
            ) => c1 == c2,
            (TypeKind::FuncProto { params: p1, .. }, TypeKind::FuncProto { params: p2, .. }) => {
                p1.len() == p2.len()
                    && p1
                        .iter()
                        .zip(p2)
                        .all(|(m, n)| self.same_name(m.name_off, n.name_off))
            }
            _ => true,
        };
        fields_equal && self.same_resolved_targets(x, y)
    }

    fn same_resolved_targets(&self, x: &BtfType, y: &BtfType) -> bool {
        let same = |a: TypeId, b: TypeId| self.resolve(a) == self.resolve(b);
        match (&x.kind, &y.kind) {
            (
                TypeKind::Array {
                    elem: e1,
                    index: i1,
                    ..
                },
                TypeKind::Array {
                    elem: e2,
                    index: i2,
                    ..
                },
            ) => same(*e1, *e2) && same(*i1, *i2),
            (
                TypeKind::FuncProto {
                    ret: r1,
                    params: p1,
                },
                TypeKind::FuncProto {
                    ret: r2,
                    params: p2,
                },
            ) => {
                same(*r1, *r2)
                    && p1.len() == p2.len()
                    && p1.iter().zip(p2).all(|(m, n)| same(m.type_id, n.type_id))
            }
            _ => match (x.referenced_type(), y.referenced_type()) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            },
        }
    }

    // ------------------------------------------------------------------ phase 7: compaction

    /// Emits canonical types in id order with fresh strings and renumbered references.
    fn plan(&self) -> Plan {
        let mut new_id = vec![NONE; self.types.len()];
        let mut next = 0u32;
        for id in 0..self.types.len() as u32 {
            if self.resolve(id) == id {
                new_id[id as usize] = next;
                next += 1;
            }
        }
        let remap: Vec<TypeId> = (0..self.types.len() as u32)
            .map(|id| new_id.get(self.resolve(id) as usize).copied().unwrap_or(0))
            .collect();
        Plan { new_id, remap }
    }

}

/// Re-creates every name of `t` (names in `src`) in `out`'s string section; `renamed` caches
/// input offset → output offset, as the same names recur in every kept type.
fn rename_into(
    src: &Btf,
    names_by_offset: bool,
    t: &mut BtfType,
    out: &mut Btf,
    renamed: &mut [u32],
) -> Result<(), BtfError> {
    let mut rename = |off: &mut u32| -> Result<(), BtfError> {
        let key = *off;
        *off = match renamed.get(key as usize).copied().filter(|&new| new != NONE) {
            Some(new) => new,
            None => {
                let name = src.string_at(key)?;
                // With names identified by offset the input's strings are unique, so a name
                // not renamed yet is not in `out` either (but the empty one, `out`'s 0):
                // no need to search `out` for it.
                let new = match (names_by_offset, name.is_empty()) {
                    (true, true) => 0,
                    (true, false) => out.append_new_string(name),
                    (false, _) => out.add_string(name),
                };
                if let Some(slot) = renamed.get_mut(key as usize) {
                    *slot = new;
                }
                new
            }
        };
        Ok(())
    };
    rename(&mut t.name_off)?;
    match &mut t.kind {
        TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
            members.iter_mut().try_for_each(|m| rename(&mut m.name_off))
        }
        TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => {
            values.iter_mut().try_for_each(|v| rename(&mut v.name_off))
        }
        TypeKind::FuncProto { params, .. } => {
            params.iter_mut().try_for_each(|p| rename(&mut p.name_off))
        }
        _ => Ok(()),
    }
}

fn is_any_enum(t: &BtfType) -> bool {
    matches!(t.kind, TypeKind::Enum { .. } | TypeKind::Enum64 { .. })
}

fn is_enum_fwd(t: &BtfType) -> bool {
    match &t.kind {
        TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => values.is_empty(),
        _ => false,
    }
}

/// Whether `fwd` is a FWD declaring `full`'s kind (struct or union).
fn fwd_matches(fwd: &BtfType, full: &BtfType) -> bool {
    match (&fwd.kind, full.kind()) {
        (TypeKind::Fwd { is_union }, Kind::Struct) => !is_union,
        (TypeKind::Fwd { is_union }, Kind::Union) => *is_union,
        _ => false,
    }
}
