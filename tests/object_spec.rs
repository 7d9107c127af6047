//! Spec properties that need no reference tool: determinism and byte-order independence.
mod common;

use std::process::Command;

use bpflink::object::{Endian, ObjectSpec};

#[test]
fn same_bytes_give_equal_specs() {
    for obj in common::corpus() {
        let data = std::fs::read(&obj).unwrap();
        assert_eq!(ObjectSpec::from_bytes(&data, "o").unwrap(), ObjectSpec::from_bytes(&data, "o").unwrap());
    }
}

/// The same source compiled for big-endian BPF must give the same programs, maps, relocation
/// classes and externs as the little-endian build.
#[test]
fn big_endian_objects_parse_like_little_endian_ones() {
    let src = common::bpf_source_dir().join("map_in_map.bpf.c");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("map_in_map.bpfeb.o");
    let status = Command::new("clang-19")
        .args(["-target", "bpfeb", "-O2", "-g", "-I/usr/include/x86_64-linux-gnu", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let be = ObjectSpec::from_file(&out).unwrap();
    let le_path = common::bpf_objects().into_iter().find(|p| p.ends_with("map_in_map.bpf.o")).unwrap();
    let le = ObjectSpec::from_file(&le_path).unwrap();
    assert_eq!(be.endian, Endian::Big);
    assert_eq!(le.endian, Endian::Little);
    assert_eq!(be.programs, le.programs);
    assert_eq!(be.maps, le.maps);
    assert_eq!(be.license, le.license);
    let insns = |s: &ObjectSpec| s.section_by_name("xdp").unwrap().insns.clone();
    assert_eq!(insns(&be), insns(&le));
    // DWARF embeds the compile command's paths, so debug-section relocations legitimately differ.
    let classes = |s: &ObjectSpec| {
        s.sections
            .iter()
            .filter(|x| !x.name.starts_with(".debug"))
            .flat_map(|x| x.relocations.iter().map(|r| (x.name.clone(), r.offset, r.class.clone())))
            .collect::<Vec<_>>()
    };
    assert_eq!(classes(&be), classes(&le));
}
