//! Differential test against the system libbpf: tests/ref/libbpf_dump.c opens every corpus
//! object with `bpf_object__open_file` (no load) in a separate process and prints programs and
//! maps; bpflink's inspect JSON must agree on every field libbpf exposes after open.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bpflink::object::ObjectSpec;
use serde_json::{json, Value};

fn build_dumper() -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("libbpf_dump");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ref/libbpf_dump.c");
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-Wall", "-Wextra", "-Werror", "-O1"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .arg("-lbpf")
        .status()
        .expect("running cc (is libbpf-dev installed?)");
    assert!(status.success(), "building {} failed", src.display());
    out
}

/// libbpf's view, or None when libbpf cannot open the object.
fn libbpf_view(dumper: &Path, obj: &Path) -> Option<Value> {
    let out = Command::new(dumper).arg(obj).output().expect("running libbpf_dump");
    if out.status.code() == Some(3) {
        eprintln!(
            "!!! SKIPPED {}: system libbpf cannot open it: {}",
            obj.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    assert!(out.status.success(), "libbpf_dump {} failed: {}", obj.display(), String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).expect("libbpf_dump prints JSON"))
}

fn pick(v: &Value, fields: &[&str]) -> Value {
    Value::Object(fields.iter().map(|f| (f.to_string(), v.get(*f).cloned().unwrap_or(Value::Null))).collect())
}

/// The same subset of bpflink's report.
fn bpflink_view(obj: &Path) -> Value {
    let spec = ObjectSpec::from_file(obj).unwrap_or_else(|e| panic!("bpflink rejects {}: {e}", obj.display()));
    let report = bpflink::inspect::to_json(&spec);
    let programs: Vec<Value> = libbpf_program_list(&report)
        .iter()
        .map(|p| pick(p, &["name", "section_name", "prog_type", "expected_attach_type", "autoload", "insn_cnt"]))
        .collect();
    let maps: Vec<Value> = report["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| pick(m, &["name", "map_type", "key_size", "value_size", "max_entries", "map_flags"]))
        .collect();
    json!({ "name": report["name"], "programs": programs, "maps": maps })
}

/// The functions libbpf lists as programs. libbpf 1.1 also lists the only function of an
/// object that has no SEC() program, even in `.text` (a legacy rule the loader reproduces in
/// `loader::legacy_text_program`); inspect keeps reporting such a function as a subprogram.
fn libbpf_program_list(report: &Value) -> Vec<Value> {
    let programs = report["programs"].as_array().unwrap();
    let subprograms = report["subprograms"].as_array().unwrap();
    if programs.is_empty() && subprograms.len() == 1 && subprograms[0]["section_name"] == ".text" {
        let lone = &subprograms[0];
        return vec![json!({
            "name": lone["name"], "section_name": ".text", "prog_type": "unspec",
            "expected_attach_type": "cgroup_inet_ingress", "autoload": true, "insn_cnt": lone["insn_cnt"],
        })];
    }
    programs.clone()
}

#[test]
fn programs_and_maps_match_system_libbpf() {
    let dumper = build_dumper();
    let (mut compared, mut skipped) = (0, 0);
    for obj in common::corpus() {
        let Some(expected) = libbpf_view(&dumper, &obj) else {
            skipped += 1;
            continue;
        };
        assert_eq!(bpflink_view(&obj), expected, "bpflink and libbpf disagree on {}", obj.display());
        compared += 1;
    }
    eprintln!("compared {compared} objects with libbpf, skipped {skipped}");
    assert!(compared >= 10, "too few objects compared ({compared})");
}
