//! Whole-BTF checks run after decoding (and available to builders through `Btf::validate`):
//! string references, type id ranges, the kinds a reference must point to, and reference cycles.
//!
//! Cycles follow the kernel's resolution rules (`btf_resolve` in kernel/bpf/btf.c):
//! - a chain of pointers and modifiers/typedefs that loops back is invalid (nothing ends it);
//! - containment by value (struct/union members, array elements, modifiers, typedefs, vars and
//!   datasec entries) must not loop either (the type would be infinitely large).
//!
//! A loop that passes through a pointer *and* a struct/union/array/function prototype is how C
//! expresses linked structures, and is accepted.
use super::error::BtfError;
use super::types::*;
use super::Btf;

/// What the checks read of one type. Implemented by the decoded model (`&BtfType`) and by
/// encoded records (`raw::RawType`), so that both are held to the same rules by the same code.
pub(crate) trait TypeView: Copy {
    fn kind(self) -> Kind;
    fn name_off(self) -> u32;
    /// Every name offset of the type (its own, then those of its entries).
    fn for_each_name_off(self, f: impl FnMut(u32));
    /// Name offset of member, enumerator or parameter `i`; None past the last one and for
    /// kinds without named entries.
    fn entry_name(self, i: usize) -> Option<u32>;
    /// Number of members, enumerators, parameters or DATASEC entries.
    fn entry_count(self) -> usize;
    /// Every type id the type refers to, in encoding order.
    fn for_each_type_id(self, f: impl FnMut(TypeId));
    /// The one type a pointer, modifier, typedef, tag, FUNC or VAR refers to.
    fn referenced_type(self) -> Option<TypeId>;
    /// The `n`-th type contained by value (see the module comment).
    fn contained(self, n: usize) -> Option<TypeId>;
    /// The size field of INT, ENUM, ENUM64 and FLOAT.
    fn size(self) -> u32;
    /// Bit count of an INT.
    fn int_bits(self) -> u8;
    /// `component_idx` of a DECL_TAG.
    fn component_idx(self) -> i32;
}

/// A BTF whose own types can be checked: types by id (base types too, for split BTF) and
/// strings.
pub(crate) trait TypeSource {
    type View<'s>: TypeView
    where
        Self: 's;
    fn first_id(&self) -> TypeId;
    /// Number of own types (ids `first_id()..first_id() + own_count()`).
    fn own_count(&self) -> usize;
    /// Type `id` (base types too), if it exists.
    fn get(&self, id: TypeId) -> Option<Self::View<'_>>;
    fn view(&self, id: TypeId) -> Result<Self::View<'_>, BtfError> {
        self.get(id).ok_or(BtfError::NoSuchType(id))
    }
    fn own_strings(&self) -> &[u8];
    fn base_strings_len(&self) -> u32;
    /// The string at `offset`; `at` names the referrer for the error message.
    fn string_for(&self, offset: u32, at: impl Fn() -> String) -> Result<&str, BtfError>;
    fn type_count(&self) -> u32 {
        self.first_id() + self.own_count() as u32
    }

    /// What can be told without building errors: whether every own type passes the per-type
    /// checks (see `every_type_passes`) and whether reference cycles are impossible. A source
    /// may answer faster for the kinds it can check without the model.
    fn quick_verdict(&self, names: &QuickNames) -> QuickVerdict {
        QuickVerdict { types_pass: every_type_passes(self, names), acyclic: false }
    }

    /// For the pointer-chain check: where the own type in `slot` leads.
    fn link_step(&self, slot: usize) -> LinkStep {
        match self.get(self.first_id() + slot as u32) {
            Some(t) if t.kind() == Kind::Ptr || t.kind().is_modifier_or_typedef() => {
                LinkStep::Link(self.own_slot(t.referenced_type().unwrap_or(0)))
            }
            _ => LinkStep::NotLink,
        }
    }

    /// For the containment check: whether the own type in `slot` contains any type by value.
    fn contains_types(&self, slot: usize) -> bool {
        self.get(self.first_id() + slot as u32).is_some_and(|t| contains_types(t.kind()))
    }

    /// For the containment check: the `n`-th type the own type in `slot` contains by value.
    fn contained(&self, slot: usize, n: usize) -> Contained {
        match self.get(self.first_id() + slot as u32).and_then(|t| t.contained(n)) {
            Some(id) => Contained::Type(self.own_slot(id)),
            None => Contained::End,
        }
    }

    /// The slot of own type `id`, None for base types.
    fn own_slot(&self, id: TypeId) -> Option<usize> {
        id.checked_sub(self.first_id()).map(|s| s as usize).filter(|&s| s < self.own_count())
    }
}

/// See `TypeSource::quick_verdict`.
pub(crate) struct QuickVerdict {
    pub types_pass: bool,
    /// True only if neither check of cycles can fail (false: unknown).
    pub acyclic: bool,
}

/// One step along a pointer/modifier/typedef chain.
pub(crate) enum LinkStep {
    /// The type is no link: the chain ends before it.
    NotLink,
    /// A link to the own type in this slot (None: to a base type or out of range).
    Link(Option<usize>),
}

/// One edge of the containment graph.
pub(crate) enum Contained {
    /// No more contained types.
    End,
    /// A contained type: the own type in this slot (None: a base type or out of range).
    Type(Option<usize>),
}

/// A fast check of name offsets: when the own string section is valid UTF-8 as a whole and
/// ends with a NUL, a name is valid iff its offset is in the own section and on a character
/// boundary (the bytes up to the next NUL are then valid UTF-8 too). Names it cannot vouch for
/// go through `check_names`, which gives the exact error.
pub(crate) struct QuickNames<'a> {
    own: &'a [u8],
    base_len: u32,
}

impl<'a> QuickNames<'a> {
    fn new<S: TypeSource>(src: &'a S) -> QuickNames<'a> {
        let strings = src.own_strings();
        let usable = strings.last() == Some(&0) && std::str::from_utf8(strings).is_ok();
        QuickNames { own: if usable { strings } else { &[] }, base_len: src.base_strings_len() }
    }

    #[inline]
    pub(crate) fn valid(&self, off: u32) -> bool {
        // 0x80..=0xBF are UTF-8 continuation bytes: not the start of a character.
        off.checked_sub(self.base_len)
            .and_then(|o| self.own.get(o as usize))
            .is_some_and(|&b| !(0x80..=0xbf).contains(&b))
    }

    pub(crate) fn all_valid(&self, t: impl TypeView) -> bool {
        let mut valid = true;
        t.for_each_name_off(|off| valid &= self.valid(off));
        valid
    }
}

impl Btf {
    /// Checks the own types: names, referenced ids, reference kinds and cycles. `parse` runs it;
    /// builders call it before writing.
    pub fn validate(&self) -> Result<(), BtfError> {
        validate(self)
    }
}

/// The checks of `Btf::validate`, for any source of types.
pub(crate) fn validate<S: TypeSource>(src: &S) -> Result<(), BtfError> {
    let names = QuickNames::new(src);
    let verdict = src.quick_verdict(&names);
    if !verdict.types_pass {
        check_types_in_order(src, &names)?;
    }
    if verdict.acyclic {
        return Ok(());
    }
    check_pointer_chain_cycles(src)?;
    check_containment_cycles(src)
}

fn own_ids<S: TypeSource>(src: &S) -> impl Iterator<Item = TypeId> + '_ {
    (0..src.own_count()).map(|i| src.first_id() + i as u32)
}

/// All the per-type checks of `check_types_in_order` in one pass over the types, without
/// building errors: the usual case, where there is nothing to report.
fn every_type_passes<S: TypeSource + ?Sized>(src: &S, names: &QuickNames) -> bool {
    let count = src.type_count();
    (0..src.own_count()).all(|i| {
        let id = src.first_id() + i as u32;
        src.get(id).is_some_and(|t| type_passes(src, names, count, id, t))
    })
}

/// Type `id` passes every per-type check.
#[inline]
pub(crate) fn type_passes<S: TypeSource + ?Sized>(src: &S, names: &QuickNames, count: u32, id: TypeId, t: S::View<'_>) -> bool {
    check_void_position(id, t).is_ok()
        && names.all_valid(t)
        && check_reference_ranges(count, id, t).is_ok()
        && check_sizes(id, t).is_ok()
        && check_reference_kinds(src, id, t).is_ok()
}

/// The per-type checks with their exact errors, in the order that decides which error is
/// reported first.
fn check_types_in_order<S: TypeSource>(src: &S, names: &QuickNames) -> Result<(), BtfError> {
    for id in own_ids(src) {
        let t = src.view(id)?;
        check_void_position(id, t)?;
        if !names.all_valid(t) {
            check_names(src, id, t)?;
        }
        check_reference_ranges(src.type_count(), id, t)?;
        check_sizes(id, t)?;
    }
    for id in own_ids(src) {
        check_reference_kinds(src, id, src.view(id)?)?;
    }
    Ok(())
}

fn check_void_position(id: TypeId, t: impl TypeView) -> Result<(), BtfError> {
    if t.kind() == Kind::Void && id != 0 {
        return Err(BtfError::InvalidType {
            id,
            kind: Kind::Void,
            reason: "only type 0 may be void".into(),
        });
    }
    Ok(())
}

fn check_names<S: TypeSource>(src: &S, id: TypeId, t: impl TypeView) -> Result<(), BtfError> {
    let kind = t.kind();
    src.string_for(t.name_off(), || format!("BTF type {id} ({kind}) name"))?;
    let what = match kind {
        Kind::Struct | Kind::Union => "member",
        Kind::Enum | Kind::Enum64 => "enumerator",
        _ => "param",
    };
    for (i, off) in (0..).map_while(|i| t.entry_name(i).map(|off| (i, off))) {
        src.string_for(off, || format!("BTF type {id} ({kind}) {what} {i} name"))?;
    }
    Ok(())
}

fn check_reference_ranges(count: u32, id: TypeId, t: impl TypeView) -> Result<(), BtfError> {
    let mut bad = None;
    t.for_each_type_id(|target| {
        if target >= count && bad.is_none() {
            bad = Some(target);
        }
    });
    match bad {
        Some(target) => Err(BtfError::TypeIdOutOfRange {
            id,
            kind: t.kind(),
            target,
            count,
        }),
        None => Ok(()),
    }
}

fn check_sizes(id: TypeId, t: impl TypeView) -> Result<(), BtfError> {
    let invalid = |reason: String| {
        Err(BtfError::InvalidType {
            id,
            kind: t.kind(),
            reason,
        })
    };
    let size = t.size();
    match t.kind() {
        Kind::Int => {
            if !matches!(size, 1 | 2 | 4 | 8 | 16) {
                return invalid(format!("int size {size} is not 1, 2, 4, 8 or 16"));
            }
            let bits = t.int_bits();
            if bits > 128 {
                return invalid(format!("int has {bits} bits, more than 128"));
            }
        }
        // clang emits a forward-declared `enum x;` as an ENUM of size 0 with no values;
        // libbpf accepts it (and dedup resolves it to the full enum).
        Kind::Enum | Kind::Enum64 if size == 0 && t.entry_count() == 0 => {}
        Kind::Enum | Kind::Enum64 if !matches!(size, 1 | 2 | 4 | 8) => {
            return invalid(format!("enum size {size} is not 1, 2, 4 or 8"));
        }
        Kind::Float if !matches!(size, 2 | 4 | 8 | 12 | 16) => {
            return invalid(format!("float size {size} is not 2, 4, 8, 12 or 16"));
        }
        _ => {}
    }
    Ok(())
}

fn check_reference_kinds<S: TypeSource + ?Sized>(src: &S, id: TypeId, t: impl TypeView) -> Result<(), BtfError> {
    let kind = t.kind();
    let expect = |target: TypeId, ok: &dyn Fn(Kind) -> bool, expected: &'static str| {
        let found = src.view(target)?.kind();
        if ok(found) {
            Ok(found)
        } else {
            Err(BtfError::BadReferenceKind {
                id,
                kind,
                target,
                found,
                expected,
            })
        }
    };
    match kind {
        Kind::Func => {
            expect(t.referenced_type().unwrap_or(0), &|k| k == Kind::FuncProto, "FUNC_PROTO")?;
        }
        Kind::Datasec => {
            let mut result = Ok(());
            t.for_each_type_id(|var| {
                if result.is_ok() {
                    result = expect(var, &|k| matches!(k, Kind::Var | Kind::Func), "VAR or FUNC").map(|_| ());
                }
            });
            result?;
        }
        Kind::DeclTag => {
            let target = t.referenced_type().unwrap_or(0);
            let found = expect(
                target,
                &|k| matches!(k, Kind::Struct | Kind::Union | Kind::Var | Kind::Func | Kind::Typedef),
                "STRUCT, UNION, VAR, FUNC or TYPEDEF",
            )?;
            check_decl_tag_component(src, id, target, found, t.component_idx())?;
        }
        _ => {}
    }
    Ok(())
}

/// `component_idx` is -1 (the whole target) or the index of a member or parameter.
fn check_decl_tag_component<S: TypeSource + ?Sized>(
    src: &S,
    id: TypeId,
    target: TypeId,
    found: Kind,
    idx: i32,
) -> Result<(), BtfError> {
    if idx == -1 {
        return Ok(());
    }
    let t = src.view(target)?;
    let components = match t.kind() {
        Kind::Struct | Kind::Union => Some(t.entry_count()),
        Kind::Func => {
            let proto = src.view(t.referenced_type().unwrap_or(0))?;
            (proto.kind() == Kind::FuncProto).then(|| proto.entry_count())
        }
        _ => None,
    };
    match components {
        Some(n) if idx >= 0 && (idx as usize) < n => Ok(()),
        _ => Err(BtfError::InvalidType {
            id,
            kind: Kind::DeclTag,
            reason: format!("component_idx {idx} is not -1 or a member/parameter index of type {target} ({found})"),
        }),
    }
}

/// Pointer/modifier chains form a functional graph (one outgoing edge each), so a walk
/// with three colours finds every loop in linear time.
fn check_pointer_chain_cycles<S: TypeSource>(src: &S) -> Result<(), BtfError> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; src.own_count()];
    let mut path = Vec::new();
    for start in 0..src.own_count() {
        let mut cur = Some(start);
        while let Some(slot) = cur {
            let LinkStep::Link(next) = src.link_step(slot) else { break };
            match state[slot] {
                DONE => break,
                ON_PATH => return Err(cycle_error(src, slot, "a chain of pointers, modifiers and typedefs loops back to it")),
                _ => {}
            }
            state[slot] = ON_PATH;
            path.push(slot);
            cur = next;
        }
        for slot in path.drain(..) {
            state[slot] = DONE;
        }
    }
    Ok(())
}

fn cycle_error<S: TypeSource>(src: &S, slot: usize, reason: &'static str) -> BtfError {
    let id = src.first_id() + slot as u32;
    let kind = src.get(id).map_or(Kind::Void, |t| t.kind());
    BtfError::ReferenceCycle { id, kind, reason }
}

/// Whether a type of this kind contains other types by value (see `TypeView::contained`).
pub(crate) fn contains_types(kind: Kind) -> bool {
    kind.is_modifier_or_typedef() || matches!(kind, Kind::Var | Kind::Array | Kind::Struct | Kind::Union | Kind::Datasec)
}

/// Iterative depth-first search (no recursion: chains in real BTF can be long). Types that
/// contain nothing (pointers, ints, ...) end every path at once and are never stacked.
fn check_containment_cycles<S: TypeSource>(src: &S) -> Result<(), BtfError> {
    const NEW: u8 = 0;
    const ON_STACK: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; src.own_count()];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..src.own_count() {
        if state[root] != NEW {
            continue;
        }
        if !src.contains_types(root) {
            state[root] = DONE;
            continue;
        }
        state[root] = ON_STACK;
        stack.push((root, 0));
        while let Some((slot, edge)) = stack.last_mut() {
            let Contained::Type(next) = src.contained(*slot, *edge) else {
                state[*slot] = DONE;
                stack.pop();
                continue;
            };
            *edge += 1;
            let Some(next) = next else { continue };
            match state[next] {
                NEW if src.contains_types(next) => {
                    state[next] = ON_STACK;
                    stack.push((next, 0));
                }
                NEW => state[next] = DONE,
                ON_STACK => {
                    return Err(cycle_error(
                        src,
                        next,
                        "it contains itself by value (through members, array elements, modifiers or typedefs)",
                    ))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

impl TypeView for &BtfType {
    fn kind(self) -> Kind {
        BtfType::kind(self)
    }
    fn name_off(self) -> u32 {
        self.name_off
    }
    fn for_each_name_off(self, mut f: impl FnMut(u32)) {
        f(self.name_off);
        match &self.kind {
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => members.iter().for_each(|m| f(m.name_off)),
            TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => values.iter().for_each(|v| f(v.name_off)),
            TypeKind::FuncProto { params, .. } => params.iter().for_each(|p| f(p.name_off)),
            _ => {}
        }
    }
    fn entry_name(self, i: usize) -> Option<u32> {
        match &self.kind {
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => members.get(i).map(|m| m.name_off),
            TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => values.get(i).map(|v| v.name_off),
            TypeKind::FuncProto { params, .. } => params.get(i).map(|p| p.name_off),
            _ => None,
        }
    }
    fn entry_count(self) -> usize {
        match &self.kind {
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => members.len(),
            TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => values.len(),
            TypeKind::FuncProto { params, .. } => params.len(),
            TypeKind::Datasec { vars, .. } => vars.len(),
            _ => 0,
        }
    }
    fn for_each_type_id(self, f: impl FnMut(TypeId)) {
        BtfType::for_each_type_id(self, f)
    }
    fn referenced_type(self) -> Option<TypeId> {
        BtfType::referenced_type(self)
    }
    fn contained(self, n: usize) -> Option<TypeId> {
        match &self.kind {
            TypeKind::Typedef { target }
            | TypeKind::Volatile { target }
            | TypeKind::Const { target }
            | TypeKind::Restrict { target }
            | TypeKind::TypeTag { target }
            | TypeKind::Var {
                type_id: target, ..
            } => (n == 0).then_some(*target),
            TypeKind::Array { elem, .. } => (n == 0).then_some(*elem),
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
                members.get(n).map(|m| m.type_id)
            }
            TypeKind::Datasec { vars, .. } => vars.get(n).map(|v| v.type_id),
            _ => None,
        }
    }
    fn size(self) -> u32 {
        match &self.kind {
            TypeKind::Int { size, .. }
            | TypeKind::Enum { size, .. }
            | TypeKind::Enum64 { size, .. }
            | TypeKind::Float { size } => *size,
            _ => 0,
        }
    }
    fn int_bits(self) -> u8 {
        match &self.kind {
            TypeKind::Int { bits, .. } => *bits,
            _ => 0,
        }
    }
    fn component_idx(self) -> i32 {
        match &self.kind {
            TypeKind::DeclTag { component_idx, .. } => *component_idx,
            _ => -1,
        }
    }
}

impl TypeSource for Btf {
    type View<'s> = &'s BtfType;
    fn first_id(&self) -> TypeId {
        self.first_id
    }
    fn own_count(&self) -> usize {
        self.types.len()
    }
    fn get(&self, id: TypeId) -> Option<&BtfType> {
        match id.checked_sub(self.first_id) {
            Some(own) => self.types.get(own as usize),
            None => self.base.as_deref().and_then(|b| b.get(id)),
        }
    }
    fn own_strings(&self) -> &[u8] {
        &self.strings
    }
    fn base_strings_len(&self) -> u32 {
        Btf::base_strings_len(self)
    }
    fn string_for(&self, offset: u32, at: impl Fn() -> String) -> Result<&str, BtfError> {
        Btf::string_for(self, offset, at)
    }
}
