//! CO-RE relocation on real clang objects: against a fake "kernel" BTF (tests/bpf/core_target.bpf.c,
//! whose layouts fix the expected values: offsets below follow from that file's C layout rules)
//! and against the host's vmlinux BTF (checked against the kernel BTF's own member offsets).
mod common;

use bpflink::btf::{Btf, BtfExt, Kind, TypeKind};
use bpflink::loader::core::{
    self, kernel_target, load_target_btf, CandidateCache, CoreError, Patch, RelocFailure,
    RelocKind, RelocOutcome, Target, POISON_HELPER_ID,
};
use bpflink::object::{Insn, ObjectSpec};
use std::path::Path;
use std::sync::Arc;

/// Relocates every section of `obj` against `target`; returns (section, outcome) and the
/// patched instructions per section.
fn relocate_object(
    obj: &Path,
    target: &Target,
) -> Result<(Vec<(String, RelocOutcome)>, Vec<(String, Vec<Insn>)>), CoreError> {
    let spec = ObjectSpec::from_file(obj).expect("parse object");
    let local = Btf::parse(spec.btf_data.as_deref().expect(".BTF")).expect("local BTF");
    let ext =
        BtfExt::parse(spec.btf_ext_data.as_deref().expect(".BTF.ext"), &local).expect("BTF.ext");
    let mut cache = CandidateCache::default();
    let mut outcomes = Vec::new();
    let mut patched = Vec::new();
    for sec in ext.core_relo.iter().flat_map(|i| i.sections.iter()) {
        let mut insns = spec
            .section_by_name(&sec.sec_name)
            .expect("section")
            .insns
            .clone();
        let done = core::relocate_section(
            &local,
            target,
            &sec.sec_name,
            &sec.records,
            &mut insns,
            &mut cache,
        )?;
        outcomes.extend(done.into_iter().map(|o| (sec.sec_name.clone(), o)));
        patched.push((sec.sec_name.clone(), insns));
    }
    Ok((outcomes, patched))
}

fn custom_target() -> Arc<Target> {
    let path = common::compile_bpf("core_target");
    load_target_btf(Some(&path)).expect("custom target BTF from an ELF file")
}

fn find<'a>(
    outcomes: &'a [(String, RelocOutcome)],
    kind: RelocKind,
    access: &str,
) -> &'a RelocOutcome {
    outcomes
        .iter()
        .map(|(_, o)| o)
        .find(|o| o.kind == kind && o.access == access)
        .unwrap_or_else(|| {
            let all: Vec<_> = outcomes
                .iter()
                .map(|(_, o)| format!("{} {}", o.kind, o.access))
                .collect();
            panic!("no {kind} relocation for {access}; have {all:#?}")
        })
}

#[test]
fn every_kind_against_a_custom_target_follows_its_layout() {
    let target = custom_target();
    let (outcomes, _) =
        relocate_object(&common::compile_bpf("core_relos"), &target).expect("relocate");
    let val = |kind, access| {
        let o = find(&outcomes, kind, access);
        assert!(
            !matches!(o.patch, Patch::Poisoned),
            "{kind} {access} poisoned"
        );
        o.result.new_val
    };
    use RelocKind::*;
    // struct task_struct { long __state; char pad[40]; unsigned long flags; int tgid; long pid;
    //                      char comm[24]; struct mm_struct *mm; }  (104 bytes)
    assert_eq!(val(FieldByteOffset, "struct task_struct::pid"), 64);
    assert_eq!(val(FieldByteOffset, "struct task_struct::tgid"), 56);
    assert_eq!(val(FieldByteOffset, "struct task_struct::flags"), 48);
    assert_eq!(val(FieldByteOffset, "struct task_struct::comm[3]"), 75);
    assert_eq!(val(FieldByteSize, "struct task_struct::comm"), 24);
    assert_eq!(val(FieldByteSize, "struct task_struct::comm[3]"), 1);
    assert_eq!(val(FieldExists, "struct task_struct::tgid"), 1);
    assert_eq!(
        val(FieldExists, "struct task_struct::no_such_field_anywhere"),
        0
    );
    assert_eq!(val(FieldByteOffset, "struct task_struct::mm"), 96);
    // Flavors: ___new matches `__state`; ___old's `state` exists nowhere.
    assert_eq!(val(FieldByteOffset, "struct task_struct___new::__state"), 0);
    assert_eq!(val(FieldExists, "struct task_struct___old::state"), 0);
    // mm_struct { int pad[3]; struct { struct { int map_count; unsigned long task_size; }; }; }
    assert_eq!(val(FieldByteOffset, "struct mm_struct::map_count"), 16);
    assert_eq!(val(FieldByteOffset, "struct mm_struct::task_size"), 24);
    // sk_buff: len at 20; bitfields x:2, cloned:1, pkt_type:3 in a union at 24; mark at 32.
    assert_eq!(val(FieldByteOffset, "struct sk_buff::mark"), 32);
    assert_eq!(val(FieldSigned, "struct sk_buff::len"), 0);
    assert_eq!(val(FieldByteOffset, "struct sk_buff::cloned"), 24);
    assert_eq!(val(FieldByteSize, "struct sk_buff::cloned"), 1);
    assert_eq!(val(FieldLshiftU64, "struct sk_buff::cloned"), 64 - 3);
    assert_eq!(val(FieldRshiftU64, "struct sk_buff::cloned"), 63);
    assert_eq!(val(FieldLshiftU64, "struct sk_buff::pkt_type"), 64 - 6);
    assert_eq!(val(FieldRshiftU64, "struct sk_buff::pkt_type"), 61);
    // Types.
    assert_eq!(val(TypeExists, "struct task_struct"), 1);
    assert_eq!(val(TypeExists, "struct no_such_type_anywhere"), 0);
    assert_eq!(val(TypeExists, "typedef u32"), 1);
    assert_eq!(val(TypeSize, "struct task_struct"), 104);
    assert_eq!(val(TypeSize, "typedef u32"), 4);
    let targ_btf = target.btf();
    let targ_id = val(TypeIdTarget, "struct task_struct") as u32;
    assert_eq!(targ_btf.type_name(targ_id).unwrap(), "task_struct");
    assert_eq!(targ_btf.type_by_id(targ_id).unwrap().kind(), Kind::Struct);
    assert_eq!(
        val(TypeMatches, "struct task_struct___subset"),
        0,
        "unsigned int vs unsigned long flags"
    );
    assert_eq!(val(TypeMatches, "struct sk_buff"), 0, "bitfields vs union");
    // Enums: RINGBUF is 77 in the target, the fake value is absent.
    assert_eq!(
        val(
            EnumvalExists,
            "enum bpf_map_type___mine::BPF_MAP_TYPE_RINGBUF___mine"
        ),
        1
    );
    assert_eq!(
        val(
            EnumvalExists,
            "enum bpf_map_type___mine::BPF_MAP_TYPE_NO_SUCH_VALUE___mine"
        ),
        0
    );
    assert_eq!(
        val(
            EnumvalValue,
            "enum bpf_map_type___mine::BPF_MAP_TYPE_RINGBUF___mine"
        ),
        77
    );
}

#[test]
fn unresolvable_relocations_are_poisoned_and_existence_checks_are_not() {
    let (outcomes, patched) =
        relocate_object(&common::compile_bpf("core_relos"), &custom_target()).expect("relocate");
    let poisoned: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| o.patch == Patch::Poisoned)
        .collect();
    assert!(!poisoned.is_empty());
    for (sec, o) in &poisoned {
        assert!(
            !o.kind.is_existence_check(),
            "{} {} poisoned",
            o.kind,
            o.access
        );
        assert!(o.target_type_id.is_none() || o.result.fail_memsz_adjust);
        let insns = &patched.iter().find(|(s, _)| s == sec).unwrap().1;
        let insn = insns[o.insn_index];
        assert_eq!(
            (insn.code, insn.imm),
            (0x85, POISON_HELPER_ID),
            "{}",
            o.access
        );
    }
    // The read of the missing field and the ENUMVAL_VALUE of the missing enumerator (an
    // ld_imm64, both halves replaced) are among them.
    let missing = find(
        &outcomes,
        RelocKind::FieldByteOffset,
        "struct task_struct::no_such_field_anywhere",
    );
    assert_eq!(missing.patch, Patch::Poisoned);
    let (sec, enumval) = outcomes
        .iter()
        .find(|(_, o)| {
            o.kind == RelocKind::EnumvalValue && o.access.ends_with("NO_SUCH_VALUE___mine")
        })
        .unwrap();
    assert_eq!(enumval.patch, Patch::Poisoned);
    let insns = &patched.iter().find(|(s, _)| s == sec).unwrap().1;
    assert_eq!(insns[enumval.insn_index + 1].imm, POISON_HELPER_ID);
}

#[test]
fn direct_loads_change_width_only_for_unsigned_ints_and_pointers() {
    let (outcomes, patched) =
        relocate_object(&common::compile_bpf("core_direct"), &custom_target()).expect("relocate");
    let insns = &patched[0].1;
    let flags = find(
        &outcomes,
        RelocKind::FieldByteOffset,
        "struct task_struct::flags",
    );
    // unsigned int -> unsigned long: the u32 load becomes a u64 load at the new offset.
    assert_eq!(
        flags.patch,
        Patch::Off {
            old: 0,
            new: 48,
            mem_size: Some((4, 8))
        }
    );
    assert_eq!(insns[flags.insn_index].code, 0x79, "LDX DW");
    // int -> long: a wider signed load cannot be expressed, so the load is poisoned.
    let pid = find(
        &outcomes,
        RelocKind::FieldByteOffset,
        "struct task_struct::pid",
    );
    assert_eq!(pid.patch, Patch::Poisoned);
    assert!(pid.result.fail_memsz_adjust);
    let mm = find(
        &outcomes,
        RelocKind::FieldByteOffset,
        "struct task_struct::mm",
    );
    assert_eq!(
        mm.patch,
        Patch::Off {
            old: 8,
            new: 96,
            mem_size: None
        }
    );
    let comm = find(
        &outcomes,
        RelocKind::FieldByteOffset,
        "struct task_struct::comm[2]",
    );
    assert_eq!(
        comm.patch,
        Patch::Off {
            old: 18,
            new: 74,
            mem_size: None
        }
    );
}

#[test]
fn relocations_against_the_host_kernel_use_its_member_offsets() {
    let target = kernel_target().expect("/sys/kernel/btf/vmlinux");
    let (outcomes, _) =
        relocate_object(&common::compile_bpf("core_relos"), &target).expect("relocate");
    let vmlinux = target.btf();
    let task = vmlinux
        .find_by_name_kind("task_struct", Kind::Struct)
        .unwrap();
    let TypeKind::Struct { members, size, .. } = &vmlinux.type_by_id(task).unwrap().kind else {
        panic!()
    };
    let member_off = |name: &str| {
        let m = members
            .iter()
            .find(|m| vmlinux.string_at(m.name_off).unwrap() == name)
            .unwrap();
        u64::from(m.bit_offset / 8)
    };
    let val = |kind, access| find(&outcomes, kind, access).result.new_val;
    assert_eq!(
        val(RelocKind::FieldByteOffset, "struct task_struct::pid"),
        member_off("pid")
    );
    assert_eq!(
        val(RelocKind::FieldByteOffset, "struct task_struct::comm[3]"),
        member_off("comm") + 3
    );
    assert_eq!(
        val(
            RelocKind::FieldByteOffset,
            "struct task_struct___new::__state"
        ),
        member_off("__state")
    );
    assert_eq!(
        val(RelocKind::TypeSize, "struct task_struct"),
        u64::from(*size)
    );
    assert_eq!(
        val(RelocKind::TypeIdTarget, "struct task_struct"),
        u64::from(task)
    );
    assert_eq!(
        val(RelocKind::TypeMatches, "struct task_struct___subset"),
        1
    );
    let ringbuf = vmlinux
        .find_by_name_kind("bpf_map_type", Kind::Enum)
        .unwrap();
    let TypeKind::Enum { values, .. } = &vmlinux.type_by_id(ringbuf).unwrap().kind else {
        panic!()
    };
    let rb = values
        .iter()
        .find(|e| vmlinux.string_at(e.name_off).unwrap() == "BPF_MAP_TYPE_RINGBUF")
        .unwrap();
    assert_eq!(
        val(
            RelocKind::EnumvalValue,
            "enum bpf_map_type___mine::BPF_MAP_TYPE_RINGBUF___mine"
        ),
        rb.value
    );
    // core_tp.bpf.o relocates too.
    relocate_object(&common::compile_bpf("core_tp"), &target).expect("core_tp relocates");
}

#[test]
fn ambiguous_candidates_are_rejected_with_the_access_named() {
    // A target holding two flavors of mm_struct that disagree on map_count's offset.
    let dir = std::env::temp_dir().join(format!("bpflink-core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("ambig.bpf.c");
    std::fs::write(
        &src,
        "struct mm_struct { int map_count; unsigned long task_size; };\n\
         struct mm_struct___two { long pad; int map_count; unsigned long task_size; };\n\
         struct mm_struct a; struct mm_struct___two b;\n",
    )
    .unwrap();
    let obj = dir.join("ambig.bpf.o");
    let ok = std::process::Command::new("clang-19")
        .args(["-target", "bpf", "-O2", "-g", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let target = load_target_btf(Some(&obj)).unwrap();
    let err = relocate_object(&common::compile_bpf("core_relos"), &target).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, CoreError::Relo { reason, .. } if matches!(**reason, RelocFailure::FieldOffsetAmbiguity { .. })),
        "{msg}"
    );
    assert!(
        msg.contains("struct mm_struct::task_size") && msg.contains("raw_tp/sys_enter"),
        "{msg}"
    );
    assert_eq!(err.errno(), libc::EINVAL);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_records_fail_with_section_insn_and_reason() {
    let target = custom_target();
    let spec = ObjectSpec::from_file(&common::compile_bpf("core_tp")).unwrap();
    let local = Btf::parse(spec.btf_data.as_deref().unwrap()).unwrap();
    let ext = BtfExt::parse(spec.btf_ext_data.as_deref().unwrap(), &local).unwrap();
    let sec = &ext.core_relo.as_ref().unwrap().sections[0];
    let insns = spec.section_by_name(&sec.sec_name).unwrap().insns.clone();
    let mut cases: Vec<(bpflink::btf::CoreRelo, &str)> = Vec::new();
    let good = sec.records[0];
    let mut r = good;
    r.insn_off = 3;
    cases.push((r, "not a multiple of 8"));
    let mut r = good;
    r.insn_off = 8 * 100_000;
    cases.push((r, "outside the section"));
    let mut r = good;
    r.kind = 99;
    cases.push((r, "unknown relocation kind 99"));
    let mut r = good;
    r.kind = RelocKind::TypeSize as u32;
    cases.push((r, "type relocations must use \"0\""));
    // The instruction holds the member's offset, not its size.
    let mut r = good;
    r.kind = RelocKind::FieldByteSize as u32;
    cases.push((r, "expected the local value"));
    for (relo, why) in cases {
        let mut insns = insns.clone();
        let err = core::relocate_section(
            &local,
            &target,
            &sec.sec_name,
            &[relo],
            &mut insns,
            &mut CandidateCache::default(),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(why) && msg.contains(&sec.sec_name), "{msg}");
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Reports (does not tightly assert) what the kernel BTF costs: parse time, memory, index.
#[test]
fn kernel_btf_is_parsed_once_and_its_cost_reported() {
    let before = rss_kib();
    let t = std::time::Instant::now();
    let target = kernel_target().expect("kernel BTF");
    let parse = t.elapsed();
    let after_parse = rss_kib();
    let t = std::time::Instant::now();
    let cands = target.types_named("task_struct");
    let index = t.elapsed();
    let after_index = rss_kib();
    assert!(!cands.is_empty());
    println!(
        "kernel BTF: {} types; parse {:?}, RSS +{} KiB; name index {:?}, {} KiB (RSS +{} KiB)",
        target.btf().type_count(),
        parse,
        after_parse.saturating_sub(before),
        index,
        target.index_bytes() / 1024,
        after_index.saturating_sub(after_parse)
    );
    let again = kernel_target().unwrap();
    assert!(Arc::ptr_eq(&target, &again), "parsed once per process");
    assert!(Arc::ptr_eq(target.btf(), &core::kernel_btf().unwrap()));
    // Generous bound (debug builds, loaded CI): catches accidental quadratic work only.
    assert!(parse.as_secs() < 10 && index.as_secs() < 10);
}
