//! Differential test against bpftool (libbpf's parser): `bpftool -j btf dump file OBJ` lists
//! every type with its id, kind, name and kind-specific fields; our parse must agree on all of
//! them for every corpus object, the running kernel's BTF and split BTF.
mod common;

use bpflink::btf::*;
use object::{Object, ObjectSection};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn bpftool_types(args: &[&str]) -> Vec<Value> {
    let out = Command::new("bpftool")
        .arg("-j")
        .args(args)
        .output()
        .expect("running bpftool (run `make setup`)");
    assert!(
        out.status.success(),
        "bpftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
    match v.get_mut("types").map(Value::take) {
        Some(Value::Array(types)) => types,
        other => panic!("bpftool {args:?}: no types array: {other:?}"),
    }
}

fn name(btf: &Btf, off: u32) -> Value {
    match btf.string_at(off).unwrap() {
        "" => json!("(anon)"),
        s => json!(s),
    }
}

fn int_encoding(encoding: u8) -> &'static str {
    match encoding {
        0 => "(none)",
        INT_SIGNED => "SIGNED",
        INT_CHAR => "CHAR",
        INT_BOOL => "BOOL",
        _ => "UNKN",
    }
}

fn linkage_str(known: bool, s: &str) -> Value {
    json!(if known { s } else { "(unknown)" })
}

/// `is_enum32`: bpftool 7.1 prints an unsigned 32-bit enumerator through `(__u64)` of the
/// raw `__s32`, i.e. sign-extended (0xf0000000 shows as 18446744073441116160); mirror that.
fn enum_values(btf: &Btf, signed: bool, is_enum32: bool, values: &[Enumerator]) -> Value {
    let vals: Vec<Value> = values
        .iter()
        .map(|v| {
            let val = match (signed, is_enum32) {
                (true, _) => json!(v.value as i64),
                (false, true) => json!(v.value as u32 as i32 as i64 as u64),
                (false, false) => json!(v.value),
            };
            json!({"name": name(btf, v.name_off), "val": val})
        })
        .collect();
    json!(vals)
}

/// Our parse rendered the way bpftool's `dump_btf_type` renders a type in JSON.
fn as_bpftool_json(btf: &Btf, id: TypeId) -> Value {
    let t = btf.type_by_id(id).unwrap();
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("kind".into(), json!(t.kind().as_str()));
    m.insert("name".into(), name(btf, t.name_off));
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    match &t.kind {
        TypeKind::Void => {}
        TypeKind::Int {
            size,
            encoding,
            bit_offset,
            bits,
        } => {
            put("size", json!(size));
            put("bits_offset", json!(bit_offset));
            put("nr_bits", json!(bits));
            put("encoding", json!(int_encoding(*encoding)));
        }
        TypeKind::Ptr { target }
        | TypeKind::Typedef { target }
        | TypeKind::Volatile { target }
        | TypeKind::Const { target }
        | TypeKind::Restrict { target }
        | TypeKind::TypeTag { target } => put("type_id", json!(target)),
        TypeKind::Array {
            elem,
            index,
            nelems,
        } => {
            put("type_id", json!(elem));
            put("index_type_id", json!(index));
            put("nr_elems", json!(nelems));
        }
        TypeKind::Struct {
            size,
            kind_flag,
            members,
        }
        | TypeKind::Union {
            size,
            kind_flag,
            members,
        } => {
            put("size", json!(size));
            put("vlen", json!(members.len()));
            let ms: Vec<Value> = members
                .iter()
                .map(|mb| {
                    let mut o = json!({"name": name(btf, mb.name_off), "type_id": mb.type_id, "bits_offset": mb.bit_offset});
                    if *kind_flag && mb.bitfield_size != 0 {
                        o["bitfield_size"] = json!(mb.bitfield_size);
                    }
                    o
                })
                .collect();
            put("members", json!(ms));
        }
        TypeKind::Enum {
            size,
            signed,
            values,
        }
        | TypeKind::Enum64 {
            size,
            signed,
            values,
        } => {
            put(
                "encoding",
                json!(if *signed { "SIGNED" } else { "UNSIGNED" }),
            );
            put("size", json!(size));
            put("vlen", json!(values.len()));
            put(
                "values",
                enum_values(btf, *signed, t.kind() == Kind::Enum, values),
            );
        }
        TypeKind::Fwd { is_union } => put(
            "fwd_kind",
            json!(if *is_union { "union" } else { "struct" }),
        ),
        TypeKind::Func { proto, linkage } => {
            put("type_id", json!(proto));
            put(
                "linkage",
                linkage_str(
                    !matches!(linkage, FuncLinkage::Unknown(_)),
                    linkage.as_str(),
                ),
            );
        }
        TypeKind::FuncProto { ret, params } => {
            put("ret_type_id", json!(ret));
            put("vlen", json!(params.len()));
            let ps: Vec<Value> = params
                .iter()
                .map(|p| json!({"name": name(btf, p.name_off), "type_id": p.type_id}))
                .collect();
            put("params", json!(ps));
        }
        TypeKind::Var { type_id, linkage } => {
            put("type_id", json!(type_id));
            let s = match linkage {
                VarLinkage::GlobalExtern => "extern",
                other => other.as_str(),
            };
            put(
                "linkage",
                linkage_str(!matches!(linkage, VarLinkage::Unknown(_)), s),
            );
        }
        TypeKind::Datasec { size, vars } => {
            put("size", json!(size));
            put("vlen", json!(vars.len()));
            let vs: Vec<Value> = vars
                .iter()
                .map(|v| json!({"type_id": v.type_id, "offset": v.offset, "size": v.size}))
                .collect();
            put("vars", json!(vs));
        }
        TypeKind::Float { size } => put("size", json!(size)),
        TypeKind::DeclTag {
            target,
            component_idx,
        } => {
            put("type_id", json!(target));
            put("component_idx", json!(component_idx));
        }
    }
    Value::Object(m)
}

/// Compares every type bpftool lists (ids `first..`) with ours; returns how many were compared.
fn compare(btf: &Btf, reference: &[Value], what: &str) -> usize {
    let own = btf.type_count() - btf.first_type_id().max(1);
    assert_eq!(
        reference.len() as u32,
        own,
        "{what}: type count differs from bpftool"
    );
    for expected in reference {
        let id = expected["id"].as_u64().expect("id") as TypeId;
        let ours = as_bpftool_json(btf, id);
        assert_eq!(&ours, expected, "{what}: type {id} differs from bpftool");
    }
    reference.len()
}

fn section_btf(path: &Path) -> Vec<u8> {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let section = file.section_by_name(".BTF").expect(".BTF");
    section.data().unwrap().to_vec()
}

#[test]
fn every_corpus_type_matches_bpftool() {
    let mut compared = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for obj in common::corpus() {
        let btf = Btf::parse(&section_btf(&obj)).unwrap();
        let reference = bpftool_types(&["btf", "dump", "file", obj.to_str().unwrap()]);
        compared += compare(&btf, &reference, &obj.display().to_string());
        kinds.extend(btf.types().iter().map(|t| t.kind()));
    }
    assert!(compared > 500, "only {compared} types compared");
    assert_eq!(kinds.len(), 20, "kinds compared: {kinds:?}");
}

#[test]
fn vmlinux_types_match_bpftool() {
    let path = "/sys/kernel/btf/vmlinux";
    let Ok(raw) = std::fs::read(path) else {
        eprintln!("skipping: {path} not readable");
        return;
    };
    let btf = Btf::parse(&raw).unwrap();
    let reference = bpftool_types(&["btf", "dump", "file", path]);
    compare(&btf, &reference, path);
}

/// Split BTF written by us on top of a real object's BTF, read back by bpftool with `-B`.
#[test]
fn split_btf_matches_bpftool() {
    let obj = common::compile_bpf("btf_kinds");
    let raw_base = section_btf(&obj);
    let base = Arc::new(Btf::parse(&raw_base).unwrap());
    let holder = base.find_by_name_kind("holder", Kind::Struct).unwrap();
    let int = base.find_by_name_kind("int", Kind::Int).unwrap();

    let mut split = Btf::new_split(base.clone());
    assert_eq!(split.next_type_id(), base.type_count());
    let ptr = split.add_type(BtfType {
        name_off: 0,
        kind: TypeKind::Ptr { target: holder },
    });
    let x = split.add_string("x");
    let holder_name = split.add_string("holder");
    assert_eq!(
        holder_name,
        base.type_by_id(holder).unwrap().name_off,
        "base strings are reused"
    );
    let new_name = split.add_string("module_struct");
    let s = split.add_type(BtfType {
        name_off: new_name,
        kind: TypeKind::Struct {
            size: 16,
            kind_flag: false,
            members: vec![
                Member {
                    name_off: x,
                    type_id: ptr,
                    bit_offset: 0,
                    bitfield_size: 0,
                },
                Member {
                    name_off: holder_name,
                    type_id: int,
                    bit_offset: 64,
                    bitfield_size: 0,
                },
            ],
        },
    });
    split.validate().unwrap();
    let raw_split = split.to_bytes_checked().unwrap();

    let reparsed = Btf::parse_split_arc(&raw_split, base.clone()).unwrap();
    assert_eq!(reparsed, split);
    assert_eq!(reparsed.to_bytes(), raw_split);
    assert_eq!(
        reparsed.find_by_name_kind("module_struct", Kind::Struct),
        Some(s)
    );
    assert_eq!(
        reparsed.find_by_name_kind("holder", Kind::Struct),
        Some(holder)
    );
    assert_eq!(reparsed.describe(ptr), "struct holder *");

    let dir = std::env::temp_dir().join(format!("bpflink-btf-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (base_file, split_file) = (dir.join("base.btf"), dir.join("split.btf"));
    std::fs::write(&base_file, &raw_base).unwrap();
    std::fs::write(&split_file, &raw_split).unwrap();
    let reference = bpftool_types(&[
        "-B",
        base_file.to_str().unwrap(),
        "btf",
        "dump",
        "file",
        split_file.to_str().unwrap(),
    ]);
    let own: Vec<Value> = reference
        .into_iter()
        .filter(|t| t["id"].as_u64().unwrap() >= base.type_count() as u64)
        .collect();
    assert_eq!(compare(&reparsed, &own, "split"), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
