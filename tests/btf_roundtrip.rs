//! Parse → write of `.BTF` and `.BTF.ext` is byte-identical for every corpus object (project
//! programs in both byte orders, xdp-tools objects) and for the running kernel's vmlinux BTF.
mod common;

use bpflink::btf::{Btf, BtfExt, Endian, Kind};
use object::{Object, ObjectSection};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `.BTF` and `.BTF.ext` contents of an ELF object.
fn btf_sections(path: &Path) -> (Vec<u8>, Option<Vec<u8>>) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = object::File::parse(&*data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let section = |name: &str| {
        file.section_by_name(name)
            .map(|s| s.data().expect("section data").to_vec())
    };
    let btf = section(".BTF").unwrap_or_else(|| panic!("{} has no .BTF", path.display()));
    (btf, section(".BTF.ext"))
}

/// The project's programs compiled for big-endian BPF (`-target bpfeb`).
fn big_endian_objects() -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!("bpflink-btf-bpfeb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    common::bpf_program_names()
        .iter()
        .map(|name| {
            let src = common::bpf_source_dir().join(format!("{name}.bpf.c"));
            let out = dir.join(format!("{name}.{}.o", std::process::id()));
            let status = Command::new("clang-19")
                .args([
                    "-target",
                    "bpfeb",
                    "-O2",
                    "-g",
                    "-I/usr/include/x86_64-linux-gnu",
                    "-c",
                ])
                .arg(&src)
                .arg("-o")
                .arg(&out)
                .status()
                .expect("running clang-19");
            assert!(status.success(), "compiling {} for bpfeb", src.display());
            out
        })
        .collect()
}

fn assert_round_trip(path: &Path, expect_endian: Endian) {
    let (raw_btf, raw_ext) = btf_sections(path);
    let btf = Btf::parse(&raw_btf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(btf.endian(), expect_endian, "{}", path.display());
    assert!(
        btf.to_bytes() == raw_btf,
        "{}: .BTF round trip differs",
        path.display()
    );
    assert_eq!(btf.to_bytes_checked().unwrap(), raw_btf);
    let reparsed = Btf::parse(&btf.to_bytes()).unwrap();
    assert_eq!(reparsed, btf, "{}", path.display());
    if let Some(raw_ext) = raw_ext {
        let ext = BtfExt::parse(&raw_ext, &btf)
            .unwrap_or_else(|e| panic!("{} .BTF.ext: {e}", path.display()));
        assert_eq!(ext.endian, expect_endian);
        assert!(
            ext.to_bytes() == raw_ext,
            "{}: .BTF.ext round trip differs",
            path.display()
        );
        assert!(
            ext.func_info
                .as_ref()
                .is_some_and(|f| !f.sections.is_empty()),
            "{}: no func_info",
            path.display()
        );
        assert!(
            ext.line_info
                .as_ref()
                .is_some_and(|l| !l.sections.is_empty()),
            "{}: no line_info",
            path.display()
        );
    }
}

#[test]
fn round_trip_project_programs() {
    let objs = common::bpf_objects();
    assert!(objs.len() >= 6);
    for obj in objs {
        assert_round_trip(&obj, Endian::Little);
    }
}

#[test]
fn round_trip_xdp_tools_objects() {
    for obj in common::xdp_tools_objects() {
        assert_round_trip(&obj, Endian::Little);
    }
}

#[test]
fn round_trip_big_endian_objects() {
    let objs = big_endian_objects();
    for obj in &objs {
        assert_round_trip(obj, Endian::Big);
    }
    if let Some(dir) = objs.first().and_then(|o| o.parent()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Every BTF kind appears in at least one clang-built object of the corpus.
#[test]
fn corpus_covers_every_kind() {
    let mut seen = std::collections::BTreeSet::new();
    for obj in common::corpus() {
        let btf = Btf::parse(&btf_sections(&obj).0).unwrap();
        seen.extend(btf.types().iter().map(|t| t.kind()));
    }
    for raw in 0..20 {
        let kind = Kind::from_raw(raw).unwrap();
        assert!(seen.contains(&kind), "no corpus object has a {kind} type");
    }
}

/// CO-RE relocations are present (and round-tripped above) in the CO-RE test program.
#[test]
fn core_relocations_are_parsed() {
    let obj = common::compile_bpf("core_tp");
    let (raw_btf, raw_ext) = btf_sections(&obj);
    let btf = Btf::parse(&raw_btf).unwrap();
    let ext = BtfExt::parse(&raw_ext.unwrap(), &btf).unwrap();
    let core = ext.core_relo.expect("core_relo sub-section");
    let relos: Vec<_> = core
        .sections
        .iter()
        .flat_map(|s| s.records.iter())
        .collect();
    assert!(relos.len() >= 3, "{relos:?}");
    for r in relos {
        let target = btf.skip_mods_and_typedefs(r.type_id).unwrap();
        assert_eq!(btf.type_name(target).unwrap(), "task_struct");
        assert!(btf.string_at(r.access_str_off).unwrap().starts_with("0:"));
    }
}

/// The kernel's own BTF (pahole-generated, ~5 MiB) parses and writes back identically.
#[test]
fn round_trip_vmlinux() {
    let path = Path::new("/sys/kernel/btf/vmlinux");
    let Ok(raw) = std::fs::read(path) else {
        eprintln!("skipping: {} not readable", path.display());
        return;
    };
    let btf = Btf::parse(&raw).unwrap();
    assert!(btf.type_count() > 10_000);
    assert!(btf.to_bytes() == raw);
    let task = btf
        .find_by_name_kind("task_struct", Kind::Struct)
        .expect("task_struct");
    assert!(btf.resolve_size(task).unwrap() > 1000);
}
