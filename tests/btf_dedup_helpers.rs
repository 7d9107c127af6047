//! Helpers shared by the BTF dedup tests (included with `#[path]`; as a test binary of its own
//! it has no tests).
#![allow(dead_code)]

use bpflink::btf::*;
use object::{Object, ObjectSection};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The `.BTF` section of an ELF object, parsed.
pub fn btf_of(path: &Path) -> Btf {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = object::File::parse(&*data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let section = file
        .section_by_name(".BTF")
        .unwrap_or_else(|| panic!("{} has no .BTF", path.display()));
    Btf::parse(section.data().expect("section data"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Which types of each input `concat_filtered` keeps.
pub type Keep = fn(&BtfType) -> bool;

pub fn keep_all(_: &BtfType) -> bool {
    true
}

/// Drops what a linker rebuilds itself (DATASECs) and what dedup never merges (VARs), so
/// that N copies of one object must collapse to exactly one copy.
pub fn keep_non_data(t: &BtfType) -> bool {
    !matches!(t.kind(), Kind::Var | Kind::Datasec)
}

/// Appends all inputs into one standalone BTF, shifting type ids and re-adding names.
pub fn concat(parts: &[Btf]) -> Btf {
    concat_filtered(parts, keep_all)
}

/// `concat`, keeping only the types `keep` accepts; references to dropped types (and
/// DECL_TAGs on them) are dropped too, or become `void` where the reference must stay.
pub fn concat_filtered(parts: &[Btf], keep: Keep) -> Btf {
    let mut out = Btf::new();
    for part in parts {
        append(&mut out, part, keep);
    }
    out
}

fn append(out: &mut Btf, part: &Btf, keep: Keep) {
    let types = part.types();
    let mut kept: Vec<bool> = types.iter().map(keep).collect();
    kept[0] = false;
    // A DECL_TAG on a dropped type has nothing left to annotate.
    for (i, t) in types.iter().enumerate() {
        if let TypeKind::DeclTag { target, .. } = t.kind {
            if !kept[target as usize] {
                kept[i] = false;
            }
        }
    }
    let mut new_id = vec![0u32; types.len()];
    let mut next = out.next_type_id();
    for (i, &k) in kept.iter().enumerate() {
        if k {
            new_id[i] = next;
            next += 1;
        }
    }
    for (i, t) in types.iter().enumerate() {
        if !kept[i] {
            continue;
        }
        let mut t = t.clone();
        let name = |off: u32, out: &mut Btf| out.add_string(part.string_at(off).unwrap());
        t.name_off = name(t.name_off, out);
        match &mut t.kind {
            TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
                for m in members {
                    m.name_off = name(m.name_off, out);
                }
            }
            TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => {
                for v in values {
                    v.name_off = name(v.name_off, out);
                }
            }
            TypeKind::FuncProto { params, .. } => {
                for p in params {
                    p.name_off = name(p.name_off, out);
                }
            }
            TypeKind::Datasec { vars, .. } => vars.retain(|v| kept[v.type_id as usize]),
            _ => {}
        }
        t.for_each_type_id_mut(|id| *id = new_id[*id as usize]);
        let id = out.add_type(t);
        if part.is_attribute_tag(i as u32) {
            out.set_attribute_tag(id, true).unwrap();
        }
    }
}

/// An id-independent, structural description of type `id`: kind, name, layout and, one level
/// deep, the C description of every referenced type.
pub fn structural(btf: &Btf, id: TypeId) -> String {
    let t = btf.type_by_id(id).unwrap();
    let name = |off: u32| btf.string_at(off).unwrap().to_string();
    let mut s = format!("{} '{}'", t.kind(), name(t.name_off));
    match &t.kind {
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
            s += &format!(" size={size} kflag={kind_flag} {{");
            for m in members {
                s += &format!(
                    " {}@{}:{}={};",
                    name(m.name_off),
                    m.bit_offset,
                    m.bitfield_size,
                    btf.describe(m.type_id)
                );
            }
            s += " }";
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
            s += &format!(" size={size} signed={signed} {{");
            for v in values {
                s += &format!(" {}={};", name(v.name_off), v.value);
            }
            s += " }";
        }
        TypeKind::FuncProto { params, .. } => {
            s += &format!(" {}", btf.describe(id));
            for p in params {
                s += &format!(" {}", name(p.name_off));
            }
        }
        TypeKind::Datasec { size, vars } => {
            s += &format!(" size={size}");
            for v in vars {
                s += &format!(" {}@{}+{}", btf.describe(v.type_id), v.offset, v.size);
            }
        }
        _ => {
            // Debug of the payload with every type id blanked: only the id-free fields remain.
            let mut blank = t.clone();
            blank.for_each_type_id_mut(|id| *id = 0);
            s += &format!(" {:?}", blank.kind);
            s += &format!(" -> {}", btf.describe(id));
            t.for_each_type_id(|target| s += &format!(" [{}]", btf.describe(target)));
        }
    }
    s
}

/// Multiset of the structural descriptions of all types.
pub fn structural_multiset(btf: &Btf) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for id in 1..btf.type_count() {
        *m.entry(structural(btf, id)).or_insert(0) += 1;
    }
    m
}

/// Multiset of (kind, name) over all types, with bpftool's spelling of anonymous names.
pub fn kind_names(btf: &Btf) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for id in 1..btf.type_count() {
        let t = btf.type_by_id(id).unwrap();
        let name = match btf.string_at(t.name_off).unwrap() {
            "" => "(anon)".to_string(),
            n => n.to_string(),
        };
        *m.entry((t.kind().as_str().to_string(), name)).or_insert(0) += 1;
    }
    m
}

/// (kind, name) multiset of `bpftool -j btf dump file PATH`.
pub fn bpftool_kind_names(path: &Path) -> BTreeMap<(String, String), usize> {
    let out = Command::new("bpftool")
        .args(["-j", "btf", "dump", "file"])
        .arg(path)
        .output()
        .expect("running bpftool");
    assert!(
        out.status.success(),
        "bpftool btf dump {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
    let mut m = BTreeMap::new();
    for t in v["types"].as_array().expect("types array") {
        let kind = t["kind"].as_str().unwrap().to_string();
        let name = t["name"].as_str().unwrap().to_string();
        *m.entry((kind, name)).or_insert(0) += 1;
    }
    m
}

/// A scratch directory under the system temp dir, unique to this process and `tag`.
pub fn scratch_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bpflink-dedup-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether the object declares extern functions or variables (a linker resolves those against
/// other objects before dedup, so its BTF is not simply the concatenation).
pub fn has_externs(btf: &Btf) -> bool {
    btf.types().iter().any(|t| {
        matches!(
            t.kind,
            TypeKind::Func {
                linkage: FuncLinkage::Extern,
                ..
            } | TypeKind::Var {
                linkage: VarLinkage::GlobalExtern,
                ..
            }
        )
    })
}
