//! Differential test of CO-RE relocation against the system libbpf: tests/ref/core_relo_dump.c
//! (built with -lbpf) opens and loads each object at debug print level; every instruction
//! libbpf patches or poisons must be patched or poisoned identically by bpflink, and vice versa.
//! Targets: the host kernel's BTF and the fake kernel of tests/bpf/core_target.bpf.c
//! (btf_custom_path). libbpf loads raw_tp programs on the host; only its relocation lines are
//! compared (the load result may differ for the custom target, whose layouts are fake).
mod common;

use bpflink::btf::{Btf, BtfExt};
use bpflink::loader::core::{self, load_target_btf, CandidateCache, Patch};
use bpflink::object::ObjectSpec;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (program name, relo index) -> what was done, in libbpf's words.
type Decisions = BTreeMap<(String, usize), Vec<String>>;

fn reference_tool() -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ref/core_relo_dump.c");
    let out = std::env::temp_dir().join(format!("bpflink-core_relo_dump-{}", std::process::id()));
    let status = Command::new("cc")
        .arg("-O1")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .arg("-lbpf")
        .status()
        .expect("running cc");
    assert!(status.success(), "building {}", src.display());
    out
}

/// Parses "prog 'P': relo #N: patched insn #K (CLASS) imm A -> B" and
/// "prog 'P': relo #N: substituting insn #K w/ invalid insn" lines.
fn libbpf_decisions(tool: &Path, obj: &Path, custom: Option<&Path>) -> Decisions {
    let mut cmd = Command::new(tool);
    cmd.arg(obj);
    if let Some(c) = custom {
        cmd.arg(c);
    }
    let out = cmd.output().expect("running core_relo_dump");
    assert!(
        out.status.success(),
        "core_relo_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut decisions = Decisions::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(rest) = line.split("prog '").nth(1) else {
            continue;
        };
        let Some((prog, rest)) = rest.split_once("': relo #") else {
            continue;
        };
        let Some((idx, what)) = rest.split_once(": ") else {
            continue;
        };
        let Ok(idx) = idx.parse::<usize>() else {
            continue;
        };
        let entry = if let Some(p) = what.strip_prefix("patched insn #") {
            p.to_string()
        } else if let Some(p) = what.strip_prefix("substituting insn #") {
            format!("{} poisoned", p.split(' ').next().unwrap_or(""))
        } else {
            continue;
        };
        decisions
            .entry((prog.to_string(), idx))
            .or_default()
            .push(entry);
    }
    decisions
}

/// The same decisions from bpflink, rendered in libbpf's words with program-relative indices.
fn bpflink_decisions(obj: &Path, custom: Option<&Path>) -> Decisions {
    let spec = ObjectSpec::from_file(obj).unwrap();
    let local = Btf::parse(spec.btf_data.as_deref().unwrap()).unwrap();
    let ext = BtfExt::parse(spec.btf_ext_data.as_deref().unwrap(), &local).unwrap();
    let target = load_target_btf(custom).unwrap();
    let mut cache = CandidateCache::default();
    let mut decisions = Decisions::new();
    for sec in ext.core_relo.iter().flat_map(|i| i.sections.iter()) {
        let mut insns = spec.section_by_name(&sec.sec_name).unwrap().insns.clone();
        let outcomes = core::relocate_section(
            &local,
            &target,
            &sec.sec_name,
            &sec.records,
            &mut insns,
            &mut cache,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", obj.display()));
        for o in outcomes {
            // The function holding the instruction, as libbpf names and counts it.
            let (name, start) = spec
                .programs
                .iter()
                .filter(|p| p.section_name == sec.sec_name)
                .map(|p| (p.name.clone(), p.offset / 8, p.insn_cnt))
                .find(|&(_, start, cnt)| (start..start + cnt).contains(&(o.insn_index as u64)))
                .map(|(n, s, _)| (n, s as usize))
                .expect("relocation inside a program");
            let k = o.insn_index - start;
            let mut lines = Vec::new();
            match o.patch {
                Patch::Imm { old, new } => {
                    lines.push(format!("{k} (ALU/ALU64) imm {} -> {new}", old as u64))
                }
                Patch::Off { old, new, mem_size } => {
                    lines.push(format!("{k} (LDX/ST/STX) off {} -> {new}", old as u64));
                    if let Some((a, b)) = mem_size {
                        lines.push(format!("{k} (LDX/ST/STX) mem_sz {a} -> {b}"));
                    }
                }
                Patch::Imm64 { old, new } => {
                    lines.push(format!("{k} (LDIMM64) imm64 {old} -> {new}"))
                }
                Patch::Poisoned => {
                    if spec.section_by_name(&sec.sec_name).unwrap().insns[o.insn_index]
                        .is_ld_imm64()
                    {
                        lines.push(format!("{} poisoned", k + 1));
                    }
                    lines.push(format!("{k} poisoned"));
                }
            }
            decisions.insert((name, o.relo_index), lines);
        }
    }
    decisions
}

fn compare(tool: &Path, obj: &Path, custom: Option<&Path>) -> usize {
    let theirs = libbpf_decisions(tool, obj, custom);
    let ours = bpflink_decisions(obj, custom);
    assert!(
        !theirs.is_empty(),
        "libbpf reported no CO-RE relocation for {}",
        obj.display()
    );
    let mut diffs = Vec::new();
    for key in theirs.keys().chain(ours.keys()) {
        if theirs.get(key) != ours.get(key) {
            diffs.push(format!(
                "{key:?}: libbpf {:?} bpflink {:?}",
                theirs.get(key),
                ours.get(key)
            ));
        }
    }
    diffs.dedup();
    assert!(
        diffs.is_empty(),
        "{} (target {:?}):\n{}",
        obj.display(),
        custom,
        diffs.join("\n")
    );
    theirs.len()
}

#[test]
fn patched_instructions_match_libbpf() {
    let tool = reference_tool();
    let target = common::compile_bpf("core_target");
    let mut compared = 0;
    for name in ["core_tp", "core_relos", "core_direct"] {
        let obj = common::compile_bpf(name);
        compared += compare(&tool, &obj, None);
        compared += compare(&tool, &obj, Some(&target));
    }
    println!("{compared} relocations identical to libbpf");
    std::fs::remove_file(&tool).ok();
}
