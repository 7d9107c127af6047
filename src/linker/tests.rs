//! Unit tests of the linker's rules on hand-built BTF (the end-to-end behaviour on clang-built
//! objects is tested in tests/link_static.rs and tests/kernel_link.rs).
use super::compat::{map_def, map_defs_match, types_match};
use crate::btf::{Btf, BtfType, Member, Param, TypeKind};

fn int(btf: &mut Btf, name: &str, size: u32) -> u32 {
    let name_off = btf.add_string(name);
    btf.add_type(BtfType { name_off, kind: TypeKind::Int { size, encoding: 1, bit_offset: 0, bits: (size * 8) as u8 } })
}

fn proto(btf: &mut Btf, ret: u32, params: &[u32]) -> u32 {
    let params = params.iter().map(|&t| Param { name_off: 0, type_id: t }).collect();
    btf.add_type(BtfType { name_off: 0, kind: TypeKind::FuncProto { ret, params } })
}

#[test]
fn prototypes_match_by_shape_and_int_size() {
    let mut a = Btf::new();
    let ia = int(&mut a, "int", 4);
    let pa = proto(&mut a, ia, &[ia, ia]);
    let mut b = Btf::new();
    let ib = int(&mut b, "unsigned int", 4);
    let lb = int(&mut b, "long", 8);
    let pb_ok = proto(&mut b, ib, &[ib, ib]);
    let pb_count = proto(&mut b, ib, &[ib]);
    let pb_size = proto(&mut b, ib, &[ib, lb]);
    assert!(types_match(&a, pa, &b, pb_ok, false).is_ok());
    assert!(types_match(&a, pa, &b, pb_count, false).unwrap_err().contains("parameters"));
    assert!(types_match(&a, pa, &b, pb_size, false).unwrap_err().contains("parameter 1"));
}

#[test]
fn structs_match_by_name_unless_exact() {
    let mut a = Btf::new();
    let i = int(&mut a, "int", 4);
    let s_name = a.add_string("s");
    let m = a.add_string("m");
    let s1 = a.add_type(BtfType { name_off: s_name, kind: TypeKind::Struct { size: 4, kind_flag: false, members: vec![Member { name_off: m, type_id: i, bit_offset: 0, bitfield_size: 0 }] } });
    let s2 = a.add_type(BtfType { name_off: s_name, kind: TypeKind::Struct { size: 8, kind_flag: false, members: vec![] } });
    let fwd = a.add_type(BtfType { name_off: s_name, kind: TypeKind::Fwd { is_union: false } });
    assert!(types_match(&a, s1, &a, s2, false).is_ok());
    assert!(types_match(&a, s1, &a, s2, true).is_err());
    assert!(types_match(&a, s1, &a, fwd, false).is_ok(), "a forward declaration matches its struct");
}

/// `__uint(name, N)` is `int (*name)[N]`.
fn uint_member(btf: &mut Btf, int_id: u32, idx: u32, name: &str, n: u32) -> Member {
    let arr = btf.add_type(BtfType { name_off: 0, kind: TypeKind::Array { elem: int_id, index: idx, nelems: n } });
    let ptr = btf.add_type(BtfType { name_off: 0, kind: TypeKind::Ptr { target: arr } });
    Member { name_off: btf.add_string(name), type_id: ptr, bit_offset: 0, bitfield_size: 0 }
}

fn map_struct(btf: &mut Btf, max_entries: u32, flags: u32) -> u32 {
    let i = int(btf, "int", 4);
    let idx = int(btf, "__ARRAY_SIZE_TYPE__", 4);
    let members = vec![
        uint_member(btf, i, idx, "type", 2),
        uint_member(btf, i, idx, "key_size", 4),
        uint_member(btf, i, idx, "value_size", 8),
        uint_member(btf, i, idx, "max_entries", max_entries),
        uint_member(btf, i, idx, "map_flags", flags),
    ];
    btf.add_type(BtfType { name_off: 0, kind: TypeKind::Struct { size: 40, kind_flag: false, members } })
}

#[test]
fn map_definitions_compare_field_by_field() {
    let mut a = Btf::new();
    let ma = map_struct(&mut a, 4, 0);
    let mut b = Btf::new();
    let same = map_struct(&mut b, 4, 0);
    let entries = map_struct(&mut b, 8, 0);
    let flags = map_struct(&mut b, 4, 1);
    let (da, dsame, dentries, dflags) = (map_def(&a, ma).unwrap(), map_def(&b, same).unwrap(), map_def(&b, entries).unwrap(), map_def(&b, flags).unwrap());
    assert_eq!(da.max_entries, 4);
    assert_eq!(da.value_size, Some(8));
    assert!(map_defs_match(&a, &da, &b, &dsame).is_ok());
    assert!(map_defs_match(&a, &da, &b, &dentries).unwrap_err().starts_with("max_entries"));
    assert!(map_defs_match(&a, &da, &b, &dflags).unwrap_err().starts_with("map_flags"));
}

#[test]
fn hostile_type_cycles_do_not_recurse_forever() {
    let mut a = Btf::new();
    // A pointer to itself (invalid BTF, but the comparison must terminate).
    let p = a.add_type(BtfType { name_off: 0, kind: TypeKind::Ptr { target: 1 } });
    assert!(types_match(&a, p, &a, p, false).is_err());
}

/// `link_files` reads only the parts of each file the link uses; the result and the first
/// error must be those of linking the whole files from memory.
#[test]
fn files_read_in_parts_link_like_whole_files_in_memory() {
    let dir = std::env::temp_dir().join(format!("bpflink-link-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = r#"
struct pair { int a; long b; struct pair *next; };
__attribute__((section(".data"))) struct pair p_NAME = { 1, 2, 0 };
__attribute__((section("xdp"), used)) int prog_NAME(void *ctx) { return p_NAME.a + (int)p_NAME.b; }
char lic_NAME[] __attribute__((section("license"), used)) = "GPL";
"#;
    let mut paths = Vec::new();
    for name in ["one", "two", "three"] {
        let c = dir.join(format!("{name}.c"));
        let o = dir.join(format!("{name}.o"));
        std::fs::write(&c, src.replace("NAME", name).replace(&format!("lic_{name}"), "_license")).unwrap();
        let status = std::process::Command::new("clang-19")
            .args(["-target", "bpf", "-O2", "-g", "-c"])
            .arg(&c)
            .arg("-o")
            .arg(&o)
            .status();
        match status {
            Ok(s) if s.success() => paths.push(o),
            _ => {
                eprintln!("SKIPPED: clang-19 cannot build BPF objects here");
                return;
            }
        }
    }
    let whole: Vec<(String, Vec<u8>)> = paths.iter().map(|p| (p.display().to_string(), std::fs::read(p).unwrap())).collect();
    let in_memory: Vec<(&str, &[u8])> = whole.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
    assert_eq!(super::link_files(&paths).unwrap(), super::link_buffers(&in_memory).unwrap());
    // Reversed, so that the buffer reused from file to file holds another file's bytes first.
    let reversed: Vec<_> = paths.iter().rev().cloned().collect();
    let reversed_in_memory: Vec<(&str, &[u8])> = in_memory.iter().rev().copied().collect();
    assert_eq!(super::link_files(&reversed).unwrap(), super::link_buffers(&reversed_in_memory).unwrap());
    let mut bad = paths.clone();
    bad.insert(1, dir.join("missing.o"));
    let err = super::link_files(&bad).unwrap_err().to_string();
    assert!(err.contains("missing.o"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
