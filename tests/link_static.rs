//! Static linker, host tests (no kernel): determinism, relink fixpoint, ELF resolution order
//! (B4), and the error messages for bad inputs. Behaviour after loading is compared with
//! bpftool/libbpf in tests/kernel_link.rs.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bpflink::linker::{link_buffers, link_files, LinkError};
use bpflink::object::{Binding, ObjectSpec};

const PAIRS: &[(&str, &str)] = &[
    ("link_funcs1", "link_funcs2"),
    ("link_vars1", "link_vars2"),
    ("link_maps1", "link_maps2"),
    ("link_static1", "link_static2"),
    ("link_core1", "link_core2"),
    ("link_b1_a", "link_b1_b"),
    ("link_b2_a", "link_b2_b"),
    ("link_b3_a", "link_b3_b"),
];

fn objs(names: &[&str]) -> Vec<PathBuf> {
    names.iter().map(|n| common::compile_bpf(n)).collect()
}

fn link_bytes(bytes: &[u8]) -> Vec<u8> {
    link_buffers(&[("relinked.o", bytes)]).expect("relinking a linked object")
}

#[test]
fn output_is_deterministic_and_independent_of_input_names() {
    for (a, b) in PAIRS {
        let paths = objs(&[a, b]);
        let first = link_files(&paths).unwrap_or_else(|e| panic!("{a}+{b}: {e}"));
        let second = link_files(&paths).unwrap();
        assert_eq!(first, second, "{a}+{b}: two links differ");
        let data: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let from_mem = link_buffers(&[("x.o", &data[0]), ("y.o", &data[1])]).unwrap();
        assert_eq!(first, from_mem, "{a}+{b}: linking from memory differs");
    }
}

#[test]
fn relinking_reaches_a_fixpoint_after_one_pass() {
    for (a, b) in PAIRS {
        let once = link_files(&objs(&[a, b])).unwrap();
        let twice = link_bytes(&once);
        let thrice = link_bytes(&twice);
        assert!(twice == thrice, "{a}+{b}: link(link(x)) != link(link(link(x)))");
    }
}

#[test]
fn every_corpus_object_links_alone_and_reaches_a_fixpoint() {
    let mut linked = 0;
    // Every project program must compile: an input that fails is a test failure, never skipped.
    let mut corpus: Vec<PathBuf> = common::bpf_program_names().iter().map(|n| common::compile_bpf(n)).collect();
    corpus.extend(common::xdp_tools_objects());
    for path in corpus {
        let once = link_files(&[&path]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let twice = link_bytes(&once);
        let thrice = link_bytes(&twice);
        assert!(twice == thrice, "{}: no fixpoint", path.display());
        // The relinked object still parses with the same programs and maps.
        let orig = ObjectSpec::from_file(&path).unwrap();
        let spec = ObjectSpec::from_bytes(&once, &orig.name).unwrap();
        let names = |s: &ObjectSpec| s.programs.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&orig), names(&spec), "{}: programs differ after linking", path.display());
        let maps = |s: &ObjectSpec| s.maps.iter().map(|m| (m.name.clone(), m.map_type, m.key_size, m.value_size, m.max_entries)).collect::<Vec<_>>();
        assert_eq!(maps(&orig), maps(&spec), "{}: maps differ after linking", path.display());
        linked += 1;
    }
    assert!(linked > 10, "corpus too small: {linked}");
}

/// B4: ELF semantics: weak definition, extern declaration and strong definition link in any
/// order and the strong definition wins (libbpf fails for some orders).
#[test]
fn weak_extern_strong_link_in_every_order() {
    let names = ["link_b4_weak", "link_b4_extern", "link_b4_strong"];
    let paths = objs(&names);
    let strong = ObjectSpec::from_file(&paths[2]).unwrap();
    let strong_size = strong.symbols.iter().find(|s| s.name == "b4_pick").unwrap().size;
    for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
        let ordered: Vec<&PathBuf> = order.iter().map(|&i| &paths[i]).collect();
        let out = link_files(&ordered).unwrap_or_else(|e| panic!("order {order:?}: {e}"));
        let spec = ObjectSpec::from_bytes(&out, "b4").unwrap();
        let sym = spec.symbols.iter().find(|s| s.name == "b4_pick").unwrap();
        assert_eq!(sym.binding, Binding::Global, "order {order:?}: the strong definition must win");
        assert_eq!(sym.size, strong_size, "order {order:?}: b4_pick must be the strong body");
        let bpftool = Command::new("bpftool").arg("gen").arg("object").arg(std::env::temp_dir().join("bpflink-b4.o")).args(&ordered).output();
        if let Ok(o) = bpftool {
            eprintln!("order {order:?}: bpftool gen object {}", if o.status.success() { "links" } else { "fails (libbpf B4)" });
        }
    }
}

/// Compiles a C source written by the test into a temporary object.
fn compile_src(name: &str, src: &str, debug: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpflink-link-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let c = dir.join(format!("{name}.bpf.c"));
    let o = dir.join(format!("{name}.bpf.o"));
    std::fs::write(&c, src).unwrap();
    let mut cmd = Command::new(std::env::var("BPF_CLANG").unwrap_or_else(|_| "clang-19".into()));
    cmd.args(["-target", "bpf", "-O2", "-I/usr/include/x86_64-linux-gnu", "-c"]);
    if debug {
        cmd.arg("-g");
    }
    let status = cmd.arg(&c).arg("-o").arg(&o).status().expect("running clang");
    assert!(status.success(), "compiling {name}");
    o
}

const HDR: &str = "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n";

fn prog(body: &str) -> String {
    format!("{HDR}{body}\nSEC(\"xdp\") int p_{}(struct xdp_md *c) {{ return use(); }}\n", body.len())
}

fn link_err(files: &[&Path]) -> (LinkError, String) {
    let err = link_files(files).expect_err("link must fail");
    let msg = err.to_string();
    (err, msg)
}

fn assert_names_both(msg: &str, a: &Path, b: &Path) {
    for p in [a, b] {
        assert!(msg.contains(&p.display().to_string()), "message must name {}: {msg}", p.display());
    }
}

#[test]
fn two_strong_definitions_conflict() {
    let a = compile_src("dup_a", &prog("__noinline int dup_fn(int x) { return x; }\nstatic int use(void) { return dup_fn(1); }"), true);
    let b = compile_src("dup_b", &prog("__noinline int dup_fn(int x) { return x + 1; }\nstatic int use(void) { return dup_fn(2); }"), true);
    let (err, msg) = link_err(&[&a, &b]);
    assert!(matches!(err, LinkError::DuplicateDefinition { .. }), "{msg}");
    assert!(msg.contains("'dup_fn'"), "{msg}");
    assert_names_both(&msg, &a, &b);
}

#[test]
fn function_prototype_mismatch_is_reported() {
    let a = compile_src("tm_a", &prog("extern int tm_fn(int x);\nstatic int use(void) { return tm_fn(1); }"), true);
    let b = compile_src("tm_b", &prog("__noinline int tm_fn(int x, int y) { return x + y; }\nstatic int use(void) { return tm_fn(1, 2); }"), true);
    let (err, msg) = link_err(&[&a, &b]);
    assert!(matches!(err, LinkError::TypeMismatch { .. }), "{msg}");
    assert!(msg.contains("'tm_fn'") && msg.contains("parameters"), "{msg}");
    assert_names_both(&msg, &a, &b);
}

#[test]
fn variable_type_mismatch_is_reported() {
    let a = compile_src("vm_a", &prog("extern long vm_var;\nstatic int use(void) { return vm_var; }"), true);
    let b = compile_src("vm_b", &prog("int vm_var = 1;\nstatic int use(void) { return vm_var; }"), true);
    let (err, msg) = link_err(&[&a, &b]);
    assert!(matches!(err, LinkError::TypeMismatch { .. }), "{msg}");
    assert!(msg.contains("'vm_var'"), "{msg}");
}

#[test]
fn function_variable_kind_mismatch_is_reported() {
    let a = compile_src("km_a", &prog("extern int km_sym(int);\nstatic int use(void) { return km_sym(1); }"), true);
    let b = compile_src("km_b", &prog("int km_sym = 1;\nstatic int use(void) { return km_sym; }"), true);
    let (err, msg) = link_err(&[&a, &b]);
    assert!(matches!(err, LinkError::KindMismatch { .. }), "{msg}");
}

const MAP: &str = "struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, int); __type(value, long); __uint(max_entries, N); }";

#[test]
fn map_definition_mismatch_names_the_field() {
    let a = compile_src(
        "mm_a",
        &prog(&format!("extern {} mm_map SEC(\".maps\");\nstatic int use(void) {{ int k = 0; return bpf_map_lookup_elem(&mm_map, &k) != 0; }}", MAP.replace('N', "4"))),
        true,
    );
    let b = compile_src(
        "mm_b",
        &prog(&format!("{} mm_map SEC(\".maps\");\nstatic int use(void) {{ int k = 0; return bpf_map_lookup_elem(&mm_map, &k) != 0; }}", MAP.replace('N', "8"))),
        true,
    );
    let (err, msg) = link_err(&[&a, &b]);
    assert!(matches!(err, LinkError::MapMismatch { .. }), "{msg}");
    assert!(msg.contains("max_entries"), "{msg}");
    assert_names_both(&msg, &a, &b);
    // A value type of another size is also caught.
    let c = compile_src(
        "mm_c",
        &prog(&format!("{} mm_map SEC(\".maps\");\nstatic int use(void) {{ int k = 0; return bpf_map_lookup_elem(&mm_map, &k) != 0; }}", MAP.replace('N', "4").replace("value, long", "value, int"))),
        true,
    );
    let (err, msg) = link_err(&[&a, &c]);
    assert!(matches!(err, LinkError::MapMismatch { .. }) && msg.contains("value_size"), "{msg}");
}

#[test]
fn license_mismatch_is_reported() {
    let a = compile_src("lic_a", &prog("static int use(void) { return 1; }"), true);
    let b = compile_src("lic_b", &prog("static int use(void) { return 2; }").replace("\"GPL\"", "\"Dual BSD/GPL\""), true);
    let (err, msg) = link_err(&[&a, &b]);
    assert!(matches!(err, LinkError::SpecialSectionMismatch { .. }), "{msg}");
    assert!(msg.contains("license") && msg.contains("Dual BSD/GPL"), "{msg}");
}

#[test]
fn globals_without_btf_are_refused() {
    let a = compile_src("nobtf", &prog("int nobtf_var = 3;\nstatic int use(void) { return nobtf_var; }"), false);
    let (err, msg) = link_err(&[&a]);
    assert!(matches!(err, LinkError::MissingBtf { .. }), "{msg}");
    assert!(msg.contains(&a.display().to_string()), "{msg}");
}

#[test]
fn unknown_relocation_types_are_refused() {
    use object::read::elf::{ElfFile64, FileHeader, SectionHeader};
    let path = common::compile_bpf("link_funcs1");
    let mut data = std::fs::read(&path).unwrap();
    // Find the first relocation of the xdp section and change its type to 77.
    let (off, endian) = {
        let file = ElfFile64::<object::Endianness>::parse(&*data).unwrap();
        let endian = file.endian();
        let header = file.elf_header();
        let sections = header.sections(endian, &*data).unwrap();
        let rel = sections.iter().find(|s| sections.section_name(endian, s).unwrap() == b".relxdp").expect(".relxdp");
        (rel.sh_offset(endian) as usize, endian)
    };
    assert!(endian == object::Endianness::Little);
    data[off + 8..off + 12].copy_from_slice(&77u32.to_le_bytes());
    let two = std::fs::read(common::compile_bpf("link_funcs2")).unwrap();
    let err = link_buffers(&[("patched.o", &data), ("two.o", &two)]).expect_err("unknown relocation");
    let msg = err.to_string();
    assert!(matches!(err, LinkError::UnknownRelocation { r_type: 77, .. }), "{msg}");
    assert!(msg.contains("patched.o") && msg.contains("xdp"), "{msg}");
}

#[test]
fn non_bpf_or_empty_inputs_are_refused() {
    assert!(matches!(link_buffers(&[]), Err(LinkError::NoInputs)));
    let err = link_buffers(&[("garbage.o", b"not an elf file at all, just some bytes to fill the header up to 64...")]).unwrap_err();
    assert!(err.to_string().starts_with("garbage.o:"), "{err}");
}

/// Inputs are merged as they are added; a rejected input must leave no trace, so the link of
/// the accepted ones is byte-identical to linking only them.
#[test]
fn a_rejected_input_leaves_the_linker_unchanged() {
    use bpflink::linker::Linker;
    let paths = objs(&["link_funcs1", "link_funcs2"]);
    let expected = link_files(&paths).unwrap();
    let other_license = compile_src("lic_other", &prog("static int use(void) { return 2; }").replace("\"GPL\"", "\"Dual BSD/GPL\""), true);
    let mut linker = Linker::new();
    linker.add_file(&paths[0]).unwrap();
    assert!(linker.add_buf("garbage.o", b"\x7fELF but not really an object file at all, padded to 64 bytes...").is_err());
    let err = linker.add_file(&other_license).expect_err("license mismatch");
    assert!(matches!(err, LinkError::SpecialSectionMismatch { .. }), "{err}");
    linker.add_file(&paths[1]).unwrap();
    assert!(linker.finalize().unwrap() == expected, "a rejected input changed the output");
    assert!(linker.into_output().unwrap() == expected, "finalize and into_output differ");
}

/// The object at `path` with its `.BTF.ext` replaced by `ext`, appended at the end of the file
/// (the section header is pointed there).
fn with_btf_ext(path: &Path, ext: &[u8]) -> Vec<u8> {
    use object::read::elf::{ElfFile64, FileHeader};
    let mut data = std::fs::read(path).unwrap();
    let header_at = {
        let file = ElfFile64::<object::Endianness>::parse(&*data).unwrap();
        let (endian, header) = (file.endian(), file.elf_header());
        let sections = header.sections(endian, &*data).unwrap();
        let index = sections.iter().position(|s| sections.section_name(endian, s).unwrap() == b".BTF.ext").expect(".BTF.ext");
        header.e_shoff(endian) as usize + index * usize::from(header.e_shentsize(endian))
    };
    data.resize(data.len().next_multiple_of(8), 0);
    let (offset, size) = (data.len() as u64, ext.len() as u64);
    data.extend_from_slice(ext);
    data[header_at + 24..header_at + 32].copy_from_slice(&offset.to_le_bytes());
    data[header_at + 32..header_at + 40].copy_from_slice(&size.to_le_bytes());
    data
}

/// `.BTF.ext` of the object at `path`, its func_info and line_info records widened by 4 bytes
/// as a newer compiler may write them, the extra bytes of each record telling `tag` and the
/// record apart.
fn widened_btf_ext(path: &Path, tag: u8) -> Vec<u8> {
    use bpflink::btf::{Btf, BtfExt};
    use object::{Object, ObjectSection};
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let section = |name: &str| file.section_by_name(name).unwrap().data().unwrap().to_vec();
    let btf = Btf::parse(&section(".BTF")).unwrap();
    let mut ext = BtfExt::parse(&section(".BTF.ext"), &btf).unwrap();
    let mut counter = 0u8;
    let mut widen = |rec_size: &mut u32, records_per_section: Vec<usize>, tails: Vec<&mut Vec<u8>>| {
        *rec_size += 4;
        for (n, tail) in records_per_section.into_iter().zip(tails) {
            *tail = (0..n).flat_map(|_| {
                counter += 1;
                [tag, counter, 0xa5, 0x5a]
            }).collect();
        }
    };
    let fi = ext.func_info.as_mut().expect("func_info");
    widen(&mut fi.rec_size, fi.sections.iter().map(|s| s.records.len()).collect(), fi.sections.iter_mut().map(|s| &mut s.tails).collect());
    let li = ext.line_info.as_mut().expect("line_info");
    widen(&mut li.rec_size, li.sections.iter().map(|s| s.records.len()).collect(), li.sections.iter_mut().map(|s| &mut s.tails).collect());
    ext.to_bytes()
}

/// (func_info record size, line_info record size, the extra bytes of every record, sorted).
fn ext_record_layout(object: &[u8]) -> (u32, u32, Vec<Vec<u8>>) {
    use bpflink::btf::{Btf, BtfExt};
    use object::{Object, ObjectSection};
    let file = object::File::parse(object).unwrap();
    let section = |name: &str| file.section_by_name(name).unwrap().data().unwrap().to_vec();
    let btf = Btf::parse(&section(".BTF")).unwrap();
    let ext = BtfExt::parse(&section(".BTF.ext"), &btf).unwrap();
    let (fi, li) = (ext.func_info.unwrap(), ext.line_info.unwrap());
    let mut tails: Vec<Vec<u8>> = Vec::new();
    for (rec_size, min, all) in [
        (fi.rec_size, 8, fi.sections.iter().map(|s| s.tails.clone()).collect::<Vec<_>>()),
        (li.rec_size, 16, li.sections.iter().map(|s| s.tails.clone()).collect()),
    ] {
        let extra = (rec_size - min) as usize;
        if extra > 0 {
            tails.extend(all.iter().flat_map(|t| t.chunks(extra).map(<[u8]>::to_vec).collect::<Vec<_>>()));
        }
    }
    tails.sort();
    (fi.rec_size, li.rec_size, tails)
}

/// Newer compilers may write larger `.BTF.ext` records; when every input agrees on the size
/// the output keeps it and each record keeps its extra bytes (relinking too); inputs that
/// disagree give the minimum size.
#[test]
fn btf_ext_record_size_is_kept_when_the_inputs_agree() {
    let paths = objs(&["link_funcs1", "link_funcs2"]);
    let wide: Vec<Vec<u8>> = paths.iter().zip([1u8, 2]).map(|(p, tag)| with_btf_ext(p, &widened_btf_ext(p, tag))).collect();
    let inputs_tails: Vec<Vec<u8>> = {
        let mut all: Vec<Vec<u8>> = wide.iter().flat_map(|w| ext_record_layout(w).2).collect();
        all.sort();
        all
    };
    let out = link_buffers(&[("a.o", &wide[0]), ("b.o", &wide[1])]).unwrap();
    assert_eq!(ext_record_layout(&out), (12, 20, inputs_tails.clone()));
    let relinked = link_bytes(&out);
    assert_eq!(ext_record_layout(&relinked), (12, 20, inputs_tails));
    assert!(link_bytes(&relinked) == relinked, "relinking is a fixpoint");

    let plain = std::fs::read(&paths[1]).unwrap();
    let mixed = link_buffers(&[("a.o", &wide[0]), ("b.o", &plain)]).unwrap();
    assert_eq!(ext_record_layout(&mixed), (8, 16, vec![]));
}
