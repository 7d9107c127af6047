//! `resolve_size` against two independent references: the sizes clang's BPF backend writes
//! into DATASEC entries, and the C front end's `sizeof` of every named struct, union, typedef
//! and global variable of the project's programs (checked with `_Static_assert`s compiled
//! against the program's own source).
mod common;

use bpflink::btf::*;
use object::{Object, ObjectSection};
use std::fmt::Write;
use std::path::Path;
use std::process::Command;

fn parse_btf(path: &Path) -> Btf {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    Btf::parse(file.section_by_name(".BTF").unwrap().data().unwrap()).unwrap()
}

#[test]
fn var_sizes_match_datasec_entries() {
    let mut checked = 0;
    for obj in common::corpus() {
        let btf = parse_btf(&obj);
        for t in btf.types() {
            let TypeKind::Datasec { vars, .. } = &t.kind else {
                continue;
            };
            for v in vars {
                let var = btf.type_by_id(v.type_id).unwrap();
                let TypeKind::Var { linkage, .. } = var.kind else {
                    continue;
                };
                match btf.resolve_size(v.type_id) {
                    // An initialised flexible array (`__array(values, ...)` of a map-in-map
                    // with initial slots) makes the variable longer than its type.
                    Ok(size) if ends_with_flexible_array(&btf, v.type_id) => {
                        assert!(
                            v.size >= size && (v.size - size) % POINTER_SIZE == 0,
                            "{}",
                            obj.display()
                        )
                    }
                    Ok(size) => assert_eq!(
                        size,
                        v.size,
                        "{}: {}",
                        obj.display(),
                        btf.describe(v.type_id)
                    ),
                    // `extern const void sym __ksym`: clang records 1 byte, void has no size.
                    Err(BtfError::NoSize {
                        kind: Kind::Void, ..
                    }) => assert_eq!(linkage, VarLinkage::GlobalExtern),
                    Err(e) => panic!("{}: {}: {e}", obj.display(), btf.describe(v.type_id)),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} vars checked");
}

fn ends_with_flexible_array(btf: &Btf, var: TypeId) -> bool {
    let Ok(TypeKind::Var { type_id, .. }) = btf.type_by_id(var).map(|t| &t.kind) else {
        return false;
    };
    let Ok(target) = btf.skip_mods_and_typedefs(*type_id) else {
        return false;
    };
    let Ok(TypeKind::Struct { members, .. }) = btf.type_by_id(target).map(|t| &t.kind) else {
        return false;
    };
    members.last().is_some_and(|m| {
        matches!(
            btf.type_by_id(m.type_id).map(|t| &t.kind),
            Ok(TypeKind::Array { nelems: 0, .. })
        )
    })
}

/// `_Static_assert`s of our sizes for everything named in the object's BTF.
fn size_assertions(btf: &Btf) -> (String, usize) {
    let mut out = String::new();
    let mut n = 0;
    let mut seen = std::collections::BTreeSet::new();
    for (id, t) in btf.iter_types() {
        let name = btf.type_name(id).unwrap();
        if name.is_empty() || name.starts_with("__ARRAY_SIZE_TYPE__") {
            continue;
        }
        let expr = match t.kind() {
            Kind::Struct => format!("struct {name}"),
            Kind::Union => format!("union {name}"),
            Kind::Typedef | Kind::Var => name.to_string(),
            _ => continue,
        };
        let Ok(size) = btf.resolve_size(id) else {
            continue;
        };
        if seen.insert(expr.clone()) {
            writeln!(
                out,
                "_Static_assert(sizeof({expr}) == {size}, \"size of {expr}\");"
            )
            .unwrap();
            n += 1;
        }
    }
    (out, n)
}

#[test]
fn sizes_match_the_c_compiler() {
    let dir = std::env::temp_dir().join(format!("bpflink-btf-sizes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut total = 0;
    for name in common::bpf_program_names() {
        let btf = parse_btf(&common::compile_bpf(&name));
        let (asserts, n) = size_assertions(&btf);
        let src = common::bpf_source_dir().join(format!("{name}.bpf.c"));
        let check = dir.join(format!("{name}.sizes.c"));
        std::fs::write(&check, format!("#include \"{}\"\n{asserts}", src.display())).unwrap();
        let out = Command::new("clang-19")
            .args([
                "-target",
                "bpf",
                "-fsyntax-only",
                "-w",
                "-I/usr/include/x86_64-linux-gnu",
            ])
            .arg(&check)
            .output()
            .expect("running clang-19");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        total += n;
    }
    assert!(total > 40, "only {total} sizes checked");
    let _ = std::fs::remove_dir_all(&dir);
}
