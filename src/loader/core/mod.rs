//! CO-RE: compile-once-run-everywhere relocations, computed against a target BTF (the
//! running kernel's vmlinux BTF by default). Semantics follow libbpf's relo_core.c.
//!
//! API for the loader (keep stable):
//! - `kernel_btf() -> Result<Arc<Btf>, CoreError>`: `/sys/kernel/btf/vmlinux`, parsed once per
//!   process (later calls share the same `Arc`; a failure is retried on the next call).
//! - `load_target_btf(custom_path: Option<&Path>) -> Result<Arc<Target>, CoreError>`: the
//!   relocation target for an object: `btf_custom_path` (raw BTF or an ELF with `.BTF`), else
//!   the kernel's (`kernel_target()`, cached with its name index). `Target::btf()` gives the BTF.
//! - `CandidateCache::default()`: one per object load (keyed by *local* type id; libbpf narrows
//!   a type's candidates to those that matched earlier relocations, and so does this cache).
//! - `relocate_section(local, target, sec_name, relos, insns, cache)`: applies every record of
//!   one ELF section's `.BTF.ext` core_relo list to that section's instructions (`insns` indexed
//!   from the section start, `insn_off / 8`), before subprograms are appended/linked.
//!   `relocate_section_where(..., apply)` skips records whose instruction index fails `apply`
//!   (libbpf skips programs with autoload off and code of eliminated weak subprograms).
//!   Returns one `RelocOutcome` per applied record; unresolvable non-existence relocations are
//!   poisoned (call to helper `0xbad2310`, logged at debug level), never an error.
//! - `CoreError::errno()` for the C ABI.
//!
//! Not done here: kernel module BTF as extra candidates (libbpf searches them when vmlinux has
//! no candidate); the loader may pass module targets later through the same `Target` type.
use crate::btf::{Btf, CoreRelo, TypeId};
use crate::object::Insn;
use std::collections::HashMap;

mod calc;
mod error;
mod kind;
mod matching;
mod patch;
mod spec;
mod target;

pub use calc::RelocResult;
pub use error::{CoreError, RelocFailure};
pub use kind::{RelocFamily, RelocKind};
pub use patch::{Patch, POISON_HELPER_ID};
pub use target::{
    essential_name, kernel_btf, kernel_target, load_target_btf, parse_btf_file, Target,
    KERNEL_BTF_PATH,
};

/// Candidate target types per local type id, narrowed as relocations match (see module docs).
#[derive(Debug, Default)]
pub struct CandidateCache {
    by_local_id: HashMap<TypeId, Vec<TypeId>>,
}

/// What one relocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocOutcome {
    /// Index of the record in the section's core_relo list.
    pub relo_index: usize,
    /// Instruction index within the section.
    pub insn_index: usize,
    pub kind: RelocKind,
    pub local_type_id: TypeId,
    /// The first matching target type (`None`: no candidate matched).
    pub target_type_id: Option<TypeId>,
    /// The local access rendered as C, e.g. `struct task_struct::comm`.
    pub access: String,
    pub result: RelocResult,
    pub patch: Patch,
}

/// Applies all CO-RE relocations of one section. See the module docs.
pub fn relocate_section(
    local: &Btf,
    target: &Target,
    sec_name: &str,
    relos: &[CoreRelo],
    insns: &mut [Insn],
    cache: &mut CandidateCache,
) -> Result<Vec<RelocOutcome>, CoreError> {
    relocate_section_where(local, target, sec_name, relos, insns, cache, |_| true)
}

/// `relocate_section`, applying only records whose section instruction index passes `apply`.
pub fn relocate_section_where(
    local: &Btf,
    target: &Target,
    sec_name: &str,
    relos: &[CoreRelo],
    insns: &mut [Insn],
    cache: &mut CandidateCache,
    apply: impl Fn(usize) -> bool,
) -> Result<Vec<RelocOutcome>, CoreError> {
    let mut outcomes = Vec::with_capacity(relos.len());
    for (relo_index, relo) in relos.iter().enumerate() {
        let insn_index = (relo.insn_off / 8) as usize;
        if relo.insn_off % 8 == 0 && !apply(insn_index) {
            continue;
        }
        let outcome =
            relocate_one(local, target, relo_index, relo, insns, cache).map_err(|reason| {
                CoreError::Relo {
                    section: sec_name.to_string(),
                    relo: relo_index,
                    insn: insn_index,
                    kind: RelocKind::from_raw(relo.kind)
                        .map_or_else(|| format!("kind {}", relo.kind), |k| k.as_str().to_string()),
                    access: describe_access(local, relo),
                    reason: Box::new(reason),
                }
            })?;
        log_outcome(sec_name, &outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Renders a record's local access for messages, falling back to the raw access string.
fn describe_access(local: &Btf, relo: &CoreRelo) -> String {
    let access = local.string_at(relo.access_str_off).unwrap_or("?");
    let parsed = RelocKind::from_raw(relo.kind)
        .and_then(|kind| spec::parse_local(local, relo.type_id, kind, access).ok());
    match parsed {
        Some(s) => format!("{} (access {access})", spec::render(&s)),
        None => format!("{} (access {access})", spec::type_head(local, relo.type_id)),
    }
}

fn log_outcome(sec_name: &str, o: &RelocOutcome) {
    let what = match o.patch {
        Patch::Poisoned => {
            crate::log::debug(&format!(
                "sec '{sec_name}': CO-RE relo #{} ({}) for {}: no matching target, insn #{} poisoned",
                o.relo_index, o.kind, o.access, o.insn_index
            ));
            return;
        }
        Patch::Imm { old, new } => format!("imm {old} -> {new}"),
        Patch::Off { old, new, .. } => format!("off {old} -> {new}"),
        Patch::Imm64 { old, new } => format!("imm64 {old} -> {new}"),
    };
    crate::log::debug(&format!(
        "sec '{sec_name}': CO-RE relo #{} ({}) for {}: patched insn #{} {what}",
        o.relo_index, o.kind, o.access, o.insn_index
    ));
}

fn relocate_one(
    local: &Btf,
    target: &Target,
    relo_index: usize,
    relo: &CoreRelo,
    insns: &mut [Insn],
    cache: &mut CandidateCache,
) -> Result<RelocOutcome, RelocFailure> {
    let kind = RelocKind::from_raw(relo.kind).ok_or(RelocFailure::UnknownKind(relo.kind))?;
    if relo.insn_off % 8 != 0 {
        return Err(RelocFailure::MisalignedInsnOffset(relo.insn_off));
    }
    let insn_index = (relo.insn_off / 8) as usize;
    if insn_index >= insns.len() {
        return Err(RelocFailure::InsnOutOfRange { count: insns.len() });
    }
    let access = local
        .string_at(relo.access_str_off)
        .map_err(spec::local_err)?;
    let local_spec = spec::parse_local(local, relo.type_id, kind, access)?;
    let (result, target_type_id) = if kind == RelocKind::TypeIdLocal {
        (calc::calc_relo(kind, &local_spec, Some(&local_spec))?, None)
    } else {
        resolve_against_target(local, target, relo, &local_spec, cache)?
    };
    let patch = patch::patch_insn(insns, insn_index, &result)?;
    Ok(RelocOutcome {
        relo_index,
        insn_index,
        kind,
        local_type_id: relo.type_id,
        target_type_id,
        access: spec::render(&local_spec),
        result,
        patch,
    })
}

/// Candidate search and matching: every matching candidate must agree on the field offset and
/// on the result, otherwise the relocation is ambiguous.
fn resolve_against_target(
    local: &Btf,
    target: &Target,
    relo: &CoreRelo,
    local_spec: &spec::Spec,
    cache: &mut CandidateCache,
) -> Result<(RelocResult, Option<TypeId>), RelocFailure> {
    let local_name = local.type_name(relo.type_id).map_err(spec::local_err)?;
    if local_name.is_empty() {
        return Err(RelocFailure::AnonymousLocalType);
    }
    let candidates = cache
        .by_local_id
        .entry(relo.type_id)
        .or_insert_with(|| find_candidates(local, relo.type_id, local_name, target));
    let targ_btf = target.btf().as_ref();
    let mut first: Option<(RelocResult, spec::Spec, TypeId)> = None;
    let mut matched = Vec::new();
    for &cand_id in candidates.iter() {
        let Some(cand_spec) = matching::match_candidate(local_spec, targ_btf, cand_id)? else {
            continue;
        };
        let res = calc::calc_relo(local_spec.kind, local_spec, Some(&cand_spec))?;
        match &first {
            None => first = Some((res, cand_spec, cand_id)),
            Some((first_res, first_spec, _)) => {
                if cand_spec.bit_offset != first_spec.bit_offset {
                    return Err(RelocFailure::FieldOffsetAmbiguity {
                        first_bits: first_spec.bit_offset,
                        other_bits: cand_spec.bit_offset,
                    });
                }
                if res.poison != first_res.poison || res.new_val != first_res.new_val {
                    return Err(RelocFailure::DecisionAmbiguity {
                        first: format!(
                            "[{}] -> {}",
                            first.as_ref().map_or(0, |f| f.2),
                            first_res.new_val
                        ),
                        other: format!("[{cand_id}] -> {}", res.new_val),
                    });
                }
            }
        }
        matched.push(cand_id);
    }
    match first {
        Some((res, _, id)) => {
            // Later relocations of this type only consider candidates that matched so far.
            *candidates = matched;
            Ok((res, Some(id)))
        }
        None => Ok((calc::calc_relo(local_spec.kind, local_spec, None)?, None)),
    }
}

/// Target types with the local type's essential name and a compatible kind, ascending ids.
fn find_candidates(
    local: &Btf,
    local_id: TypeId,
    local_name: &str,
    target: &Target,
) -> Vec<TypeId> {
    let Ok(local_kind) = local.type_by_id(local_id).map(|t| t.kind()) else {
        return Vec::new();
    };
    let targ = target.btf();
    target
        .types_named(essential_name(local_name))
        .into_iter()
        .filter(|&id| {
            targ.type_by_id(id)
                .is_ok_and(|t| matching::kinds_compatible(local_kind, t.kind()))
        })
        .collect()
}
