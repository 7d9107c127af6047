//! The `bpflink` command line: help, version, text and JSON reports, errors.
mod common;

use std::process::{Command, Output};

use bpflink::object::ObjectSpec;

fn bpflink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpflink")).args(args).output().expect("running bpflink")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_and_version() {
    let help = bpflink(&["--help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("inspect [--json] OBJ..."));
    let version = bpflink(&["--version"]);
    assert!(version.status.success());
    assert_eq!(stdout(&version).trim(), format!("bpflink {}", env!("CARGO_PKG_VERSION")));
    let none = bpflink(&[]);
    assert_eq!(none.status.code(), Some(2));
    let unknown = bpflink(&["frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown command 'frobnicate'"));
}

#[test]
fn json_report_is_the_library_report() {
    for obj in common::corpus() {
        let out = bpflink(&["inspect", "--json", obj.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", obj.display(), stderr(&out));
        let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let spec = ObjectSpec::from_file(&obj).unwrap();
        assert_eq!(printed, bpflink::inspect::to_json(&spec), "{}", obj.display());
    }
}

#[test]
fn text_report_lists_every_function_symbol_and_map() {
    for obj in common::bpf_objects() {
        let out = bpflink(&["inspect", obj.to_str().unwrap()]);
        assert!(out.status.success());
        let text = stdout(&out);
        // Independent source: function symbols as llvm-readelf prints them.
        let readelf = Command::new("llvm-readelf-19").args(["--wide", "--symbols"]).arg(&obj).output().unwrap();
        for line in String::from_utf8_lossy(&readelf.stdout).lines().filter(|l| l.contains(" FUNC ")) {
            let name = line.split_whitespace().last().unwrap();
            if !line.contains(" UND ") {
                assert!(text.contains(&format!("  {name} ")), "{}: function {name} missing:\n{text}", obj.display());
            }
        }
        for section in ["programs:", "subprograms:", "maps:", "data sections:", "externs:", "weak placeholders:", "exports:", "license:"] {
            assert!(text.contains(section), "{section} missing");
        }
    }
}

#[test]
fn bad_inputs_exit_1_with_path_and_reason() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let not_elf = dir.join("not-elf.o");
    std::fs::write(&not_elf, b"this is not an ELF file at all, just text padding padding padding padding").unwrap();
    let out = bpflink(&["inspect", not_elf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).trim(), format!("bpflink: {}: not an ELF file (bad magic)", not_elf.display()));

    let missing = dir.join("does-not-exist.o");
    let out = bpflink(&["inspect", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with(&format!("bpflink: {}: ", missing.display())), "{}", stderr(&out));

    // One bad object among good ones: the good ones are still reported, the exit code is 1.
    let good = common::bpf_objects().remove(0);
    let out = bpflink(&["inspect", good.to_str().unwrap(), not_elf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("programs:"));
}
