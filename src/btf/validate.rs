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

/// A fast check of name offsets: when the own string section is valid UTF-8 as a whole and
/// ends with a NUL, a name is valid iff its offset is in the own section and on a character
/// boundary (the bytes up to the next NUL are then valid UTF-8 too). Names it cannot vouch for
/// go through `check_names`, which gives the exact error.
struct QuickNames<'a> {
    own: &'a [u8],
    base_len: u32,
}

impl<'a> QuickNames<'a> {
    fn new(btf: &'a Btf) -> QuickNames<'a> {
        let usable = btf.strings.last() == Some(&0) && std::str::from_utf8(&btf.strings).is_ok();
        QuickNames { own: if usable { &btf.strings } else { &[] }, base_len: btf.base_strings_len() }
    }

    fn valid(&self, off: u32) -> bool {
        // 0x80..=0xBF are UTF-8 continuation bytes: not the start of a character.
        off.checked_sub(self.base_len)
            .and_then(|o| self.own.get(o as usize))
            .is_some_and(|&b| !(0x80..=0xbf).contains(&b))
    }

    fn all_valid(&self, t: &BtfType) -> bool {
        self.valid(t.name_off)
            && match &t.kind {
                TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
                    members.iter().all(|m| self.valid(m.name_off))
                }
                TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => {
                    values.iter().all(|v| self.valid(v.name_off))
                }
                TypeKind::FuncProto { params, .. } => params.iter().all(|p| self.valid(p.name_off)),
                _ => true,
            }
    }
}

impl Btf {
    /// Checks the own types: names, referenced ids, reference kinds and cycles. `parse` runs it;
    /// builders call it before writing.
    pub fn validate(&self) -> Result<(), BtfError> {
        let names = QuickNames::new(self);
        for (i, t) in self.types.iter().enumerate() {
            let id = self.first_id + i as u32;
            self.check_void_position(id, t)?;
            if !names.all_valid(t) {
                self.check_names(id, t)?;
            }
            self.check_reference_ranges(id, t)?;
            self.check_sizes(id, t)?;
        }
        for (i, t) in self.types.iter().enumerate() {
            self.check_reference_kinds(self.first_id + i as u32, t)?;
        }
        self.check_pointer_chain_cycles()?;
        self.check_containment_cycles()
    }

    fn check_void_position(&self, id: TypeId, t: &BtfType) -> Result<(), BtfError> {
        if t.kind() == Kind::Void && id != 0 {
            return Err(BtfError::InvalidType {
                id,
                kind: Kind::Void,
                reason: "only type 0 may be void".into(),
            });
        }
        Ok(())
    }

    fn check_names(&self, id: TypeId, t: &BtfType) -> Result<(), BtfError> {
        let kind = t.kind();
        self.string_for(t.name_off, || format!("BTF type {id} ({kind}) name"))?;
        let check = |what: &str, i: usize, off: u32| {
            self.string_for(off, || format!("BTF type {id} ({kind}) {what} {i} name"))
                .map(|_| ())
        };
        match &t.kind {
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => members
                .iter()
                .enumerate()
                .try_for_each(|(i, m)| check("member", i, m.name_off)),
            TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => values
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| check("enumerator", i, v.name_off)),
            TypeKind::FuncProto { params, .. } => params
                .iter()
                .enumerate()
                .try_for_each(|(i, p)| check("param", i, p.name_off)),
            _ => Ok(()),
        }
    }

    fn check_reference_ranges(&self, id: TypeId, t: &BtfType) -> Result<(), BtfError> {
        let count = self.type_count();
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

    fn check_sizes(&self, id: TypeId, t: &BtfType) -> Result<(), BtfError> {
        let invalid = |reason: String| {
            Err(BtfError::InvalidType {
                id,
                kind: t.kind(),
                reason,
            })
        };
        match &t.kind {
            TypeKind::Int { size, bits, .. } => {
                if !matches!(size, 1 | 2 | 4 | 8 | 16) {
                    return invalid(format!("int size {size} is not 1, 2, 4, 8 or 16"));
                }
                if *bits > 128 {
                    return invalid(format!("int has {bits} bits, more than 128"));
                }
            }
            // clang emits a forward-declared `enum x;` as an ENUM of size 0 with no values;
            // libbpf accepts it (and dedup resolves it to the full enum).
            TypeKind::Enum { size: 0, values, .. } | TypeKind::Enum64 { size: 0, values, .. }
                if values.is_empty() => {}
            TypeKind::Enum { size, .. } | TypeKind::Enum64 { size, .. }
                if !matches!(size, 1 | 2 | 4 | 8) =>
            {
                return invalid(format!("enum size {size} is not 1, 2, 4 or 8"));
            }
            TypeKind::Float { size } if !matches!(size, 2 | 4 | 8 | 12 | 16) => {
                return invalid(format!("float size {size} is not 2, 4, 8, 12 or 16"));
            }
            _ => {}
        }
        Ok(())
    }

    fn check_reference_kinds(&self, id: TypeId, t: &BtfType) -> Result<(), BtfError> {
        let kind = t.kind();
        let target_kind = |target: TypeId| self.type_by_id(target).map(|t| t.kind());
        let expect = |target: TypeId, ok: &dyn Fn(Kind) -> bool, expected: &'static str| {
            let found = target_kind(target)?;
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
        match &t.kind {
            TypeKind::Func { proto, .. } => {
                expect(*proto, &|k| k == Kind::FuncProto, "FUNC_PROTO")?;
            }
            TypeKind::Datasec { vars, .. } => {
                for v in vars {
                    expect(
                        v.type_id,
                        &|k| matches!(k, Kind::Var | Kind::Func),
                        "VAR or FUNC",
                    )?;
                }
            }
            TypeKind::DeclTag {
                target,
                component_idx,
            } => {
                let found = expect(
                    *target,
                    &|k| {
                        matches!(
                            k,
                            Kind::Struct | Kind::Union | Kind::Var | Kind::Func | Kind::Typedef
                        )
                    },
                    "STRUCT, UNION, VAR, FUNC or TYPEDEF",
                )?;
                self.check_decl_tag_component(id, *target, found, *component_idx)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `component_idx` is -1 (the whole target) or the index of a member or parameter.
    fn check_decl_tag_component(
        &self,
        id: TypeId,
        target: TypeId,
        found: Kind,
        idx: i32,
    ) -> Result<(), BtfError> {
        if idx == -1 {
            return Ok(());
        }
        let components = match &self.type_by_id(target)?.kind {
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
                Some(members.len())
            }
            TypeKind::Func { proto, .. } => match &self.type_by_id(*proto)?.kind {
                TypeKind::FuncProto { params, .. } => Some(params.len()),
                _ => None,
            },
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

    /// Own type `id`, or `None` for base types (validated with their own BTF) and bad ids.
    fn own(&self, id: TypeId) -> Option<&BtfType> {
        id.checked_sub(self.first_id)
            .and_then(|i| self.types.get(i as usize))
    }

    /// Pointer/modifier chains form a functional graph (one outgoing edge each), so a walk
    /// with three colours finds every loop in linear time.
    fn check_pointer_chain_cycles(&self) -> Result<(), BtfError> {
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let is_link = |t: &BtfType| t.kind() == Kind::Ptr || t.kind().is_modifier_or_typedef();
        let mut state = vec![NEW; self.types.len()];
        let mut path = Vec::new();
        for start in 0..self.types.len() {
            let mut cur = self.first_id + start as u32;
            while let Some(t) = self.own(cur).filter(|t| is_link(t)) {
                let slot = (cur - self.first_id) as usize;
                match state[slot] {
                    DONE => break,
                    ON_PATH => {
                        return Err(BtfError::ReferenceCycle {
                            id: cur,
                            kind: t.kind(),
                            reason: "a chain of pointers, modifiers and typedefs loops back to it",
                        })
                    }
                    _ => {}
                }
                state[slot] = ON_PATH;
                path.push(slot);
                cur = t.referenced_type().unwrap_or(0);
            }
            for slot in path.drain(..) {
                state[slot] = DONE;
            }
        }
        Ok(())
    }

    /// The `n`-th type contained by value in `t` (see the module comment).
    fn contained(t: &BtfType, n: usize) -> Option<TypeId> {
        match &t.kind {
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

    /// Iterative depth-first search (no recursion: chains in real BTF can be long).
    fn check_containment_cycles(&self) -> Result<(), BtfError> {
        const NEW: u8 = 0;
        const ON_STACK: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; self.types.len()];
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for root in 0..self.types.len() {
            if state[root] != NEW {
                continue;
            }
            state[root] = ON_STACK;
            stack.push((root, 0));
            while let Some((slot, edge)) = stack.last_mut() {
                let slot = *slot;
                let t = &self.types[slot];
                let Some(next) = Self::contained(t, *edge) else {
                    state[slot] = DONE;
                    stack.pop();
                    continue;
                };
                *edge += 1;
                let Some(next_slot) = next.checked_sub(self.first_id).map(|s| s as usize) else {
                    continue;
                };
                match state.get(next_slot) {
                    Some(&NEW) => {
                        state[next_slot] = ON_STACK;
                        stack.push((next_slot, 0));
                    }
                    Some(&ON_STACK) => {
                        return Err(BtfError::ReferenceCycle {
                            id: next,
                            kind: self.types[next_slot].kind(),
                            reason: "it contains itself by value (through members, array elements, modifiers or typedefs)",
                        })
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
