//! BTF dedup: round trips on the corpus, N copies collapsing to one, hand-built graphs
//! (cycles, FWDs, enum forward declarations, same name with different layouts), differential
//! checks against the system libbpf's `btf__dedup` and `bpftool gen object`, and malformed input.
mod common;
#[path = "btf_dedup_helpers.rs"]
mod helpers;

use bpflink::btf::dedup::{dedup, dedup_owned, Deduped};
use bpflink::btf::*;
use helpers::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The test corpus (project programs, then xdp-tools objects), skipping project programs that
/// do not compile at the moment (other engineers' work in progress must not block these tests).
pub fn corpus_that_compiles() -> Vec<std::path::PathBuf> {
    let mut objs = Vec::new();
    for name in common::bpf_program_names() {
        match std::panic::catch_unwind(|| common::compile_bpf(&name)) {
            Ok(path) => objs.push(path),
            Err(_) => eprintln!("NOTE: tests/bpf/{name}.bpf.c does not compile; left out"),
        }
    }
    objs.extend(common::xdp_tools_objects());
    objs
}

/// `dedup`, after checking that `dedup_owned` (the linker's, which works in place) gives
/// exactly the same BTF and remap.
fn dd(btf: &Btf) -> Deduped {
    let out = dedup(btf).unwrap_or_else(|e| panic!("dedup failed: {e}"));
    let owned = dedup_owned(btf.clone()).unwrap_or_else(|e| panic!("dedup_owned failed: {e}"));
    assert!(owned.btf == out.btf, "dedup_owned's BTF differs from dedup's");
    assert_eq!(owned.remap, out.remap, "dedup_owned's remap differs from dedup's");
    out
}

fn dedup_objects() -> Vec<PathBuf> {
    ["dedup_a", "dedup_b", "dedup_c"]
        .iter()
        .map(|n| common::compile_bpf(n))
        .collect()
}

fn check_remap_consistent(input: &Btf, out: &Deduped) {
    assert_eq!(out.remap.len() as u32, input.type_count());
    assert_eq!(out.remap[0], 0, "void stays void");
    for (old, &new) in out.remap.iter().enumerate() {
        assert!(
            new < out.btf.type_count(),
            "remap[{old}] = {new} out of range"
        );
        let (a, b) = (
            input.type_by_id(old as u32).unwrap(),
            out.btf.type_by_id(new).unwrap(),
        );
        let fwd_resolved = a.kind() == Kind::Fwd && matches!(b.kind(), Kind::Struct | Kind::Union);
        let enum_fwd_resolved = matches!(a.kind(), Kind::Enum | Kind::Enum64)
            && matches!(b.kind(), Kind::Enum | Kind::Enum64);
        assert!(
            a.kind() == b.kind() || fwd_resolved || enum_fwd_resolved,
            "type {old} ({}) remapped to {new} ({})",
            a.kind(),
            b.kind()
        );
        assert_eq!(
            input.type_name(old as u32).unwrap(),
            out.btf.type_name(new).unwrap(),
            "type {old} remapped to a type of another name"
        );
    }
    out.btf.validate().expect("deduplicated BTF validates");
}

// ------------------------------------------------------------------------- (a) round trips

/// clang's BTF of one object is nearly deduplicated (it may repeat a FUNC_PROTO): dedup keeps
/// as many types as the system libbpf's `btf__dedup` does, every type maps to a structurally
/// identical one, the remap is a bijection whenever nothing was merged, and a second dedup is
/// byte-identical to the first.
#[test]
fn corpus_btf_is_a_fixpoint() {
    let mut checked = 0;
    let mut untouched = 0;
    for obj in corpus_that_compiles() {
        let btf = btf_of(&obj);
        let out = dd(&btf);
        check_remap_consistent(&btf, &out);
        let reference = libbpf_dedup(&btf, &format!("single{checked}"));
        assert_eq!(
            out.btf.type_count(),
            reference.type_count(),
            "{}: libbpf keeps a different number of types",
            obj.display()
        );
        let image: BTreeSet<_> = out.remap.iter().collect();
        assert_eq!(
            image.len() as u32,
            out.btf.type_count(),
            "{}: remap not onto",
            obj.display()
        );
        if out.btf.type_count() == btf.type_count() {
            untouched += 1;
        }
        for id in 1..btf.type_count() {
            assert_eq!(
                structural(&btf, id),
                structural(&out.btf, out.remap[id as usize]),
                "{}: type {id} changed",
                obj.display()
            );
        }
        let again = dd(&out.btf);
        assert_eq!(
            again.btf.to_bytes(),
            out.btf.to_bytes(),
            "{}: not a fixpoint",
            obj.display()
        );
        checked += 1;
    }
    eprintln!("{checked} corpus objects, {untouched} already fully deduplicated by clang");
    assert!(checked >= 10, "corpus too small: {checked}");
    assert!(
        untouched >= checked / 2,
        "clang output should mostly be deduplicated already"
    );
}

// ------------------------------------------------------------------------- (b) N copies

/// N concatenated copies of an object (without VARs and DATASECs, which dedup never merges)
/// collapse to exactly one copy: same count, same structural descriptions, and every copy of
/// a type maps to the same new id as the first copy's.
#[test]
fn n_copies_collapse_to_one() {
    const N: usize = 4;
    let mut objs = corpus_that_compiles();
    objs.extend(dedup_objects());
    for obj in objs {
        let one = concat_filtered(&[btf_of(&obj)], keep_non_data);
        let single = dd(&one);
        let copies: Vec<Btf> = (0..N).map(|_| one.clone()).collect();
        let all = concat(&copies);
        let merged = dd(&all);
        check_remap_consistent(&all, &merged);
        assert_eq!(
            merged.btf.type_count(),
            single.btf.type_count(),
            "{}: {N} copies did not collapse to one",
            obj.display()
        );
        assert_eq!(
            structural_multiset(&merged.btf),
            structural_multiset(&single.btf),
            "{}",
            obj.display()
        );
        let per_copy = one.type_count() - 1;
        for k in 1..N as u32 {
            for i in 1..one.type_count() {
                assert_eq!(
                    merged.remap[(k * per_copy + i) as usize],
                    merged.remap[i as usize],
                    "{}: copy {k} of type {i}",
                    obj.display()
                );
            }
        }
        // Determinism: a second run gives the same bytes.
        assert_eq!(dd(&all).btf.to_bytes(), merged.btf.to_bytes());
    }
}

// ------------------------------------------------------------------------- (c) hand-built graphs

/// A tiny BTF builder for the hand-written cases.
struct B(Btf);

impl B {
    fn new() -> Self {
        B(Btf::new())
    }
    fn add(&mut self, name: &str, kind: TypeKind) -> TypeId {
        let name_off = self.0.add_string(name);
        self.0.add_type(BtfType { name_off, kind })
    }
    fn int(&mut self) -> TypeId {
        self.add(
            "int",
            TypeKind::Int {
                size: 4,
                encoding: INT_SIGNED,
                bit_offset: 0,
                bits: 32,
            },
        )
    }
    fn long(&mut self) -> TypeId {
        self.add(
            "long",
            TypeKind::Int {
                size: 8,
                encoding: INT_SIGNED,
                bit_offset: 0,
                bits: 64,
            },
        )
    }
    fn ptr(&mut self, target: TypeId) -> TypeId {
        self.add("", TypeKind::Ptr { target })
    }
    fn fwd(&mut self, name: &str) -> TypeId {
        self.add(name, TypeKind::Fwd { is_union: false })
    }
    fn member(&mut self, name: &str, type_id: TypeId, bit_offset: u32) -> Member {
        Member {
            name_off: self.0.add_string(name),
            type_id,
            bit_offset,
            bitfield_size: 0,
        }
    }
    fn strukt(&mut self, name: &str, size: u32, members: Vec<Member>) -> TypeId {
        self.add(
            name,
            TypeKind::Struct {
                size,
                kind_flag: false,
                members,
            },
        )
    }
    /// Replaces the members of struct `id` (to close cycles after both ends exist).
    fn set_members(&mut self, id: TypeId, new: Vec<Member>) {
        if let TypeKind::Struct { members, .. } = &mut self.0.type_mut(id).unwrap().kind {
            *members = new;
        }
    }
    fn enumeration(&mut self, name: &str, size: u32, values: &[(&str, u64)]) -> TypeId {
        let values = values
            .iter()
            .map(|(n, v)| Enumerator {
                name_off: self.0.add_string(n),
                value: *v,
            })
            .collect();
        let kind = if size == 8 {
            TypeKind::Enum64 {
                size,
                signed: false,
                values,
            }
        } else {
            TypeKind::Enum {
                size,
                signed: false,
                values,
            }
        };
        self.add(name, kind)
    }
    fn var(&mut self, name: &str, type_id: TypeId) -> TypeId {
        self.add(
            name,
            TypeKind::Var {
                type_id,
                linkage: VarLinkage::GlobalAllocated,
            },
        )
    }
    fn done(self) -> Btf {
        self.0.validate().expect("hand-built BTF is valid");
        self.0
    }
}

/// struct a { struct b *b; int x; }; struct b { struct a *a; }; in one unit.
fn cyclic_unit(b_first: bool) -> Btf {
    let mut u = B::new();
    let int = u.int();
    let (a, b) = if b_first {
        let b = u.strukt("b", 8, vec![]);
        let a = u.strukt("a", 16, vec![]);
        (a, b)
    } else {
        let a = u.strukt("a", 16, vec![]);
        let b = u.strukt("b", 8, vec![]);
        (a, b)
    };
    let pa = u.ptr(a);
    let pb = u.ptr(b);
    let ma = vec![u.member("b", pb, 0), u.member("x", int, 64)];
    u.set_members(a, ma);
    let mb = vec![u.member("a", pa, 0)];
    u.set_members(b, mb);
    u.var("va", a);
    u.done()
}

fn count_kind(btf: &Btf, kind: Kind, name: &str) -> usize {
    (1..btf.type_count())
        .filter(|&id| {
            btf.type_by_id(id).unwrap().kind() == kind && btf.type_name(id).unwrap() == name
        })
        .count()
}

#[test]
fn cyclic_structs_across_inputs_merge() {
    let input = concat(&[cyclic_unit(false), cyclic_unit(true)]);
    let out = dd(&input);
    check_remap_consistent(&input, &out);
    assert_eq!(count_kind(&out.btf, Kind::Struct, "a"), 1);
    assert_eq!(count_kind(&out.btf, Kind::Struct, "b"), 1);
    assert_eq!(count_kind(&out.btf, Kind::Ptr, ""), 2);
    assert_eq!(
        count_kind(&out.btf, Kind::Var, "va"),
        2,
        "VARs are never merged"
    );
    // int, a, b, *a, *b, 2 vars
    assert_eq!(out.btf.type_count(), 1 + 7);
}

/// Unit 1 knows `struct b` only as a FWD; unit 2 defines it. Both `struct a` merge and the
/// FWD resolves to the full definition.
#[test]
fn fwd_in_graph_resolves_to_full_definition() {
    let mut u1 = B::new();
    let int = u1.int();
    let fb = u1.fwd("b");
    let pb = u1.ptr(fb);
    let m = vec![u1.member("b", pb, 0), u1.member("x", int, 64)];
    let a1 = u1.strukt("a", 16, m);
    u1.var("v1", a1);
    let u1 = u1.done();
    let u2 = cyclic_unit(false);
    for order in [[u1.clone(), u2.clone()], [u2, u1]] {
        let input = concat(&order);
        let out = dd(&input);
        check_remap_consistent(&input, &out);
        assert_eq!(count_kind(&out.btf, Kind::Fwd, "b"), 0);
        assert_eq!(count_kind(&out.btf, Kind::Struct, "a"), 1);
        assert_eq!(count_kind(&out.btf, Kind::Struct, "b"), 1);
        assert_eq!(count_kind(&out.btf, Kind::Ptr, ""), 2);
    }
}

/// A FWD that no struct graph reaches resolves to the unique definition of its name and kind;
/// with two different definitions, or only a union of that name, it stays a FWD.
#[test]
fn lone_fwd_resolution_needs_a_unique_match() {
    let def = |size: u32, long: bool| {
        let mut u = B::new();
        let t = if long { u.long() } else { u.int() };
        let m = vec![u.member("z", t, 0)];
        let s = u.strukt("foo", size, m);
        let p = u.ptr(s);
        u.var("def", p);
        u.done()
    };
    let decl = || {
        let mut u = B::new();
        let f = u.fwd("foo");
        let p = u.ptr(f);
        u.var("decl", p);
        u.done()
    };
    let out = dd(&concat(&[decl(), def(4, false)]));
    assert_eq!(count_kind(&out.btf, Kind::Fwd, "foo"), 0);
    assert_eq!(
        count_kind(&out.btf, Kind::Ptr, ""),
        1,
        "both pointers are one now"
    );

    let out = dd(&concat(&[decl(), def(4, false), def(8, true)]));
    assert_eq!(
        count_kind(&out.btf, Kind::Fwd, "foo"),
        1,
        "ambiguous: stays a FWD"
    );
    assert_eq!(count_kind(&out.btf, Kind::Struct, "foo"), 2);

    let mut u = B::new();
    let int = u.int();
    let m = vec![u.member("z", int, 0)];
    let un = u.add(
        "foo",
        TypeKind::Union {
            size: 4,
            kind_flag: false,
            members: m,
        },
    );
    u.var("un", un);
    let out = dd(&concat(&[decl(), u.done()]));
    assert_eq!(
        count_kind(&out.btf, Kind::Fwd, "foo"),
        1,
        "struct fwd never becomes a union"
    );
}

/// Same name, different layout (or different member types): kept apart.
#[test]
fn same_name_different_layout_kept_apart() {
    let unit = |long: bool, size: u32, off: u32| {
        let mut u = B::new();
        let t = if long { u.long() } else { u.int() };
        let m = vec![u.member("a", t, off)];
        let s = u.strukt("layout", size, m);
        u.var("v", s);
        u.done()
    };
    let out = dd(&concat(&[
        unit(false, 4, 0),
        unit(true, 8, 0),
        unit(false, 8, 32),
        unit(false, 4, 0),
    ]));
    assert_eq!(count_kind(&out.btf, Kind::Struct, "layout"), 3);
    // Same shallow shape, different member type (int vs long, both size 8 struct): apart.
    let out = dd(&concat(&[unit(false, 8, 0), unit(true, 8, 0)]));
    assert_eq!(count_kind(&out.btf, Kind::Struct, "layout"), 2);
}

/// `enum e;` (vlen 0) resolves to the full enum of its name, whichever comes first, and an
/// ENUM forward declaration also resolves to a full ENUM64. Full enums with different values
/// stay apart.
#[test]
fn enum_forward_declarations_resolve() {
    let unit = |size: u32, values: &[(&str, u64)]| {
        let mut u = B::new();
        let e = u.enumeration("e", size, values);
        let p = u.ptr(e);
        u.var("v", p);
        u.done()
    };
    let fwd = || unit(4, &[]);
    let full = || unit(4, &[("A", 1), ("B", 2)]);
    let full64 = || unit(8, &[("A", 1), ("BIG", 1 << 40)]);
    for input in [
        concat(&[fwd(), full()]),
        concat(&[full(), fwd()]),
        concat(&[fwd(), fwd(), full()]),
    ] {
        let out = dd(&input);
        check_remap_consistent(&input, &out);
        assert_eq!(count_kind(&out.btf, Kind::Enum, "e"), 1);
        assert_eq!(count_kind(&out.btf, Kind::Ptr, ""), 1);
    }
    let input = concat(&[fwd(), full64()]);
    let out = dd(&input);
    check_remap_consistent(&input, &out);
    assert_eq!(count_kind(&out.btf, Kind::Enum, "e"), 0);
    assert_eq!(count_kind(&out.btf, Kind::Enum64, "e"), 1);
    let out = dd(&concat(&[full(), unit(4, &[("A", 1), ("B", 3)])]));
    assert_eq!(count_kind(&out.btf, Kind::Enum, "e"), 2);
    let out = dd(&concat(&[full(), full64()]));
    assert_eq!(
        count_kind(&out.btf, Kind::Enum, "e") + count_kind(&out.btf, Kind::Enum64, "e"),
        2
    );
}

/// Reference types merge bottom-up; attribute tags differ from plain type tags; DECL_TAGs
/// merge with their target; FUNC linkage keeps functions apart.
#[test]
fn reference_kinds_merge_bottom_up() {
    let unit = |attr: bool, linkage: FuncLinkage| {
        let mut u = B::new();
        let int = u.int();
        let c = u.add("", TypeKind::Const { target: int });
        let v = u.add("", TypeKind::Volatile { target: c });
        let tag = u.add("user", TypeKind::TypeTag { target: v });
        u.0.set_attribute_tag(tag, attr).unwrap();
        let p = u.ptr(tag);
        let idx = u.int();
        let arr = u.add(
            "",
            TypeKind::Array {
                elem: p,
                index: idx,
                nelems: 3,
            },
        );
        let td = u.add("arr_t", TypeKind::Typedef { target: arr });
        let pn = u.0.add_string("x");
        let proto = u.add(
            "",
            TypeKind::FuncProto {
                ret: int,
                params: vec![Param {
                    name_off: pn,
                    type_id: td,
                }],
            },
        );
        let f = u.add("f", TypeKind::Func { proto, linkage });
        u.add(
            "tag",
            TypeKind::DeclTag {
                target: f,
                component_idx: 0,
            },
        );
        u.done()
    };
    let input = concat(&[
        unit(false, FuncLinkage::Global),
        unit(false, FuncLinkage::Global),
        unit(true, FuncLinkage::Global),
        unit(false, FuncLinkage::Static),
    ]);
    let out = dd(&input);
    check_remap_consistent(&input, &out);
    assert_eq!(count_kind(&out.btf, Kind::Int, "int"), 1);
    assert_eq!(count_kind(&out.btf, Kind::TypeTag, "user"), 2);
    assert_eq!(count_kind(&out.btf, Kind::Typedef, "arr_t"), 2);
    assert_eq!(count_kind(&out.btf, Kind::FuncProto, ""), 2);
    assert_eq!(count_kind(&out.btf, Kind::Func, "f"), 3);
    assert_eq!(count_kind(&out.btf, Kind::DeclTag, "tag"), 3);
    let attr_tags = (1..out.btf.type_count())
        .filter(|&id| out.btf.is_attribute_tag(id))
        .count();
    assert_eq!(attr_tags, 1);
}

/// A cycle through a typedef (legal in BTF, produced by Go) dedups without error.
#[test]
fn cycle_through_typedef() {
    let unit = || {
        let mut u = B::new();
        let s = u.strukt("list", 8, vec![]);
        let td = u.add("list_t", TypeKind::Typedef { target: s });
        let p = u.ptr(td);
        let m = vec![u.member("next", p, 0)];
        u.set_members(s, m);
        u.done()
    };
    let out = dd(&concat(&[unit(), unit(), unit()]));
    assert_eq!(out.btf.type_count(), 4);
}

// ------------------------------------------------------------------------- (d) differential

/// Builds (once) a small C program that runs the system libbpf's `btf__dedup` on a raw BTF
/// file and writes the result as raw BTF.
fn libbpf_dedup_tool() -> &'static Path {
    static TOOL: OnceLock<PathBuf> = OnceLock::new();
    TOOL.get_or_init(|| {
        let dir = scratch_dir("libbpf-tool");
        let src = dir.join("libbpf_btf_dedup.c");
        std::fs::write(
            &src,
            r#"#include <stdio.h>
#include <bpf/btf.h>
int main(int argc, char **argv)
{
	struct btf *btf;
	const void *raw;
	__u32 size;
	FILE *f;

	if (argc != 3)
		return 2;
	btf = btf__parse_raw(argv[1]);
	if (!btf) {
		perror("btf__parse_raw");
		return 1;
	}
	if (btf__dedup(btf, NULL)) {
		fprintf(stderr, "btf__dedup failed\n");
		return 1;
	}
	raw = btf__raw_data(btf, &size);
	f = fopen(argv[2], "wb");
	if (!f || fwrite(raw, 1, size, f) != size)
		return 1;
	fclose(f);
	btf__free(btf);
	return 0;
}
"#,
        )
        .unwrap();
        let bin = dir.join("libbpf_btf_dedup");
        let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .arg(&src)
            .arg("-o")
            .arg(&bin)
            .arg("-lbpf")
            .status()
            .expect("running cc");
        assert!(status.success(), "building the libbpf dedup tool failed");
        bin
    })
}

fn libbpf_dedup(input: &Btf, tag: &str) -> Btf {
    let dir = scratch_dir("libbpf-run");
    let inp = dir.join(format!("{tag}.in.btf"));
    let outp = dir.join(format!("{tag}.out.btf"));
    std::fs::write(&inp, input.to_bytes()).unwrap();
    let out = Command::new(libbpf_dedup_tool())
        .arg(&inp)
        .arg(&outp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "libbpf dedup of {tag}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Btf::parse(&std::fs::read(&outp).unwrap()).unwrap()
}

/// Whether (kind, name) is something libbpf 1.1 leaves unresolved that current libbpf (and we)
/// resolve: a struct/union FWD no graph reached, or an enum forward declaration. The types
/// referring to such a declaration (pointers, aggregates, prototypes) then merge too.
fn newer_resolution_may_drop(key: &(String, String)) -> bool {
    matches!(
        key.0.as_str(),
        "FWD"
            | "ENUM"
            | "ENUM64"
            | "PTR"
            | "CONST"
            | "VOLATILE"
            | "RESTRICT"
            | "ARRAY"
            | "FUNC_PROTO"
            | "STRUCT"
            | "UNION"
            | "TYPEDEF"
            | "TYPE_TAG"
    )
}

/// Declarations in libbpf 1.1's output that current semantics resolve: FWDs and enum fwds
/// (vlen 0) whose name has a full definition of a matching kind.
fn has_resolvable_declaration(reference: &Btf) -> bool {
    let full: BTreeSet<(bool, &str)> = (1..reference.type_count())
        .filter_map(|id| {
            let t = reference.type_by_id(id).unwrap();
            let name = reference.type_name(id).unwrap();
            match &t.kind {
                TypeKind::Struct { .. } => Some((false, name)),
                TypeKind::Union { .. } => Some((true, name)),
                TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. }
                    if !values.is_empty() =>
                {
                    Some((false, name))
                }
                _ => None,
            }
        })
        .collect();
    (1..reference.type_count()).any(|id| {
        let t = reference.type_by_id(id).unwrap();
        let name = reference.type_name(id).unwrap();
        match &t.kind {
            TypeKind::Fwd { is_union } => full.contains(&(*is_union, name)),
            TypeKind::Enum { values, .. } | TypeKind::Enum64 { values, .. } => {
                values.is_empty() && full.contains(&(false, name))
            }
            _ => false,
        }
    })
}

/// Ours must equal the reference, except that where the reference (libbpf 1.1) left a
/// resolvable declaration, ours may have fewer declarations and types built on them.
fn assert_matches_reference(
    ours: &BTreeMap<(String, String), usize>,
    reference: &BTreeMap<(String, String), usize>,
    reference_has_declarations: bool,
    what: &str,
) -> bool {
    if ours == reference {
        return true;
    }
    assert!(
        reference_has_declarations,
        "{what}: differs from libbpf with no forward declaration to explain it:\nours {ours:?}\nlibbpf {reference:?}"
    );
    for (key, &n) in ours {
        let r = reference.get(key).copied().unwrap_or(0);
        assert!(n <= r, "{what}: we have {n} of {key:?}, libbpf {r}");
    }
    for (key, &r) in reference {
        let n = ours.get(key).copied().unwrap_or(0);
        assert!(
            n == r || newer_resolution_may_drop(key),
            "{what}: we have {n} of {key:?}, libbpf {r}"
        );
    }
    false
}

/// Our dedup of the concatenated BTF of pairs of objects against the system libbpf's
/// `btf__dedup` of exactly the same bytes, compared as multisets of structural descriptions.
#[test]
fn differential_against_system_libbpf_dedup() {
    let mut objs = dedup_objects();
    objs.extend(corpus_that_compiles());
    let mut exact = 0;
    let mut pairs = 0;
    for (i, a) in objs.iter().enumerate() {
        // Each object with its successor (wrapping) and with itself: ~2 pairs per object.
        for b in [&objs[(i + 1) % objs.len()], a] {
            let input = concat(&[btf_of(a), btf_of(b)]);
            let ours = dd(&input);
            check_remap_consistent(&input, &ours);
            let theirs = libbpf_dedup(&input, &format!("pair{i}"));
            let what = format!("{} + {}", a.display(), b.display());
            let same = assert_matches_reference(
                &kind_names(&ours.btf),
                &kind_names(&theirs),
                has_resolvable_declaration(&theirs),
                &what,
            );
            if same {
                assert_eq!(
                    structural_multiset(&ours.btf),
                    structural_multiset(&theirs),
                    "{what}"
                );
                // Same canonical choices: the same types in the same order.
                for id in 1..theirs.type_count() {
                    assert_eq!(
                        structural(&ours.btf, id),
                        structural(&theirs, id),
                        "{what}: type {id}"
                    );
                }
                exact += 1;
            }
            pairs += 1;
        }
    }
    eprintln!("differential vs libbpf btf__dedup: {pairs} pairs, {exact} identical");
    assert!(
        exact * 2 >= pairs,
        "too few exact matches: {exact} of {pairs}"
    );
}

fn bpftool_gen_object(inputs: &[&Path], out: &Path) -> bool {
    Command::new("bpftool")
        .args(["gen", "object"])
        .arg(out)
        .args(inputs)
        .output()
        .expect("running bpftool")
        .status
        .success()
}

/// `bpftool gen object OUT A.o B.o` links and dedups; our dedup of concat(A, B) must agree on
/// the (kind, name) multiset, VARs and DATASECs aside (the linker merges DATASECs and keeps
/// one `license` variable before dedup; choosing VARs is the linker's job, not dedup's).
#[test]
fn differential_against_bpftool_gen_object() {
    let dir = scratch_dir("gen-object");
    let mut inputs: Vec<Vec<PathBuf>> = vec![dedup_objects()];
    let d = dedup_objects();
    inputs.push(vec![d[0].clone(), d[1].clone()]);
    inputs.push(vec![d[1].clone(), d[2].clone()]);
    let corpus = corpus_that_compiles();
    for w in corpus.windows(2) {
        inputs.push(w.to_vec());
    }
    for obj in &corpus {
        inputs.push(vec![obj.clone(), d[0].clone()]);
    }
    let (mut linked, mut exact) = (0, 0);
    for (i, set) in inputs.iter().enumerate() {
        let parts: Vec<Btf> = set.iter().map(|p| btf_of(p)).collect();
        if parts.iter().any(has_externs) {
            continue; // the linker replaces extern declarations by definitions first
        }
        let out = dir.join(format!("linked{i}.o"));
        let refs: Vec<&Path> = set.iter().map(|p| p.as_path()).collect();
        if !bpftool_gen_object(&refs, &out) {
            continue; // e.g. two strong definitions of one symbol: nothing to compare
        }
        linked += 1;
        let ours = dd(&concat_filtered(&parts, |t| t.kind() != Kind::Datasec));
        let mut ours = kind_names(&ours.btf);
        ours.retain(|(kind, _), _| kind != "VAR");
        let mut reference = bpftool_kind_names(&out);
        reference.retain(|(kind, _), _| kind != "DATASEC" && kind != "VAR");
        let what = format!("{set:?}");
        if assert_matches_reference(
            &ours,
            &reference,
            has_resolvable_declaration(&btf_of(&out)),
            &what,
        ) {
            exact += 1;
        }
    }
    eprintln!("differential vs bpftool gen object: {linked} linked sets, {exact} identical");
    assert!(linked >= 10, "bpftool linked only {linked} sets");
    assert!(
        exact * 2 >= linked,
        "too few exact matches: {exact} of {linked}"
    );
}

/// The three dedup_* programs linked: every shared struct exists once, the FWD `struct peer`
/// of dedup_b and the FWD `struct opaque` of dedup_a resolve, and the two `struct layout`s
/// stay apart.
#[test]
fn dedup_programs_resolve_declarations() {
    let parts: Vec<Btf> = dedup_objects().iter().map(|p| btf_of(p)).collect();
    let input = concat(&parts);
    let out = dd(&input);
    check_remap_consistent(&input, &out);
    let b = &out.btf;
    for name in ["node", "peer", "table", "opaque"] {
        assert_eq!(count_kind(b, Kind::Struct, name), 1, "struct {name}");
    }
    assert_eq!(count_kind(b, Kind::Fwd, "peer"), 0);
    assert_eq!(count_kind(b, Kind::Fwd, "opaque"), 0);
    assert_eq!(count_kind(b, Kind::Struct, "layout"), 2);
    assert_eq!(count_kind(b, Kind::Union, "scalar"), 1);
    assert_eq!(count_kind(b, Kind::Typedef, "peer_t"), 1);
    assert_eq!(count_kind(b, Kind::Typedef, "visit_fn"), 1);
    assert_eq!(count_kind(b, Kind::Enum, "fwd_enum"), 1);
    assert_eq!(count_kind(b, Kind::Enum64, "wide"), 1);
    assert_eq!(count_kind(b, Kind::Enum, "color"), 1);
}

/// clang-built enum forward declarations (`enum e;` gives ENUM size 0 vlen 0) resolve to the
/// full ENUM / ENUM64 of another unit, and libbpf's `btf__dedup` agrees apart from what
/// libbpf 1.1 does not resolve yet.
#[test]
fn clang_enum_forward_declarations_resolve() {
    let dir = scratch_dir("enum-fwd");
    let compile = |name: &str, src: &str| {
        let c = dir.join(format!("{name}.bpf.c"));
        let o = dir.join(format!("{name}.bpf.o"));
        std::fs::write(&c, src).unwrap();
        let ok = Command::new("clang-19")
            .args(["-target", "bpf", "-O2", "-g", "-c"])
            .arg(&c)
            .arg("-o")
            .arg(&o)
            .status()
            .unwrap()
            .success();
        assert!(ok, "compiling {name}");
        btf_of(&o)
    };
    let decl = compile("decl", "enum e; enum w; enum e *pe; enum w *pw;\n");
    let full = compile(
        "full",
        "enum e { A = 1, B }; enum w { S = 1, BIG = 0x100000000ULL };\n\
         enum e ve; enum w vw; enum e *pe2; enum w *pw2;\n",
    );
    let input = concat(&[decl, full]);
    let out = dd(&input);
    check_remap_consistent(&input, &out);
    assert_eq!(count_kind(&out.btf, Kind::Enum, "e"), 1);
    assert_eq!(
        count_kind(&out.btf, Kind::Enum, "w"),
        0,
        "ENUM fwd resolved to the ENUM64"
    );
    assert_eq!(count_kind(&out.btf, Kind::Enum64, "w"), 1);
    assert_eq!(count_kind(&out.btf, Kind::Ptr, ""), 2);
}

// ------------------------------------------------------------------------- (e) malformed input

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    // Reference out of range.
    let mut u = B::new();
    u.ptr(7);
    assert!(matches!(
        dedup(&u.0),
        Err(BtfError::TypeIdOutOfRange { target: 7, .. })
    ));
    // Bad name offset.
    let mut u = B::new();
    u.0.add_type(BtfType {
        name_off: 9999,
        kind: TypeKind::Fwd { is_union: false },
    });
    assert!(matches!(
        dedup(&u.0),
        Err(BtfError::StringOffsetOutOfRange { .. })
    ));
    // A pointer cycle without an aggregate.
    let mut u = B::new();
    u.add("", TypeKind::Const { target: 2 });
    u.add("", TypeKind::Ptr { target: 1 });
    assert!(matches!(dedup(&u.0), Err(BtfError::ReferenceCycle { .. })));
    // A self-referencing array.
    let mut u = B::new();
    u.add(
        "",
        TypeKind::Array {
            elem: 1,
            index: 1,
            nelems: 1,
        },
    );
    assert!(dedup(&u.0).is_err());
    // void in the middle.
    let mut u = B::new();
    u.add("", TypeKind::Void);
    assert!(dedup(&u.0).is_err());
    // Split BTF.
    let base = std::sync::Arc::new(cyclic_unit(false));
    let split = Btf::new_split(base);
    assert!(dedup(&split).is_err());
    // A very long modifier chain: handled without recursion.
    let mut u = B::new();
    let mut prev = u.int();
    for _ in 0..200_000 {
        prev = u.add("", TypeKind::Const { target: prev });
    }
    let out = dd(&concat(&[u.0.clone(), u.0]));
    assert_eq!(out.btf.type_count(), 200_002);
}

/// Random, mostly nonsensical type graphs (ids in range): dedup returns Ok or Err, never
/// panics, and a successful result is consistent.
#[test]
fn random_graphs_never_panic() {
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut rnd = move |n: u32| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % u64::from(n.max(1))) as u32
    };
    for _round in 0..300 {
        let mut u = B::new();
        let names = ["", "a", "b", "int", "x"];
        let count = 2 + rnd(30);
        for _ in 0..count {
            let name = names[rnd(names.len() as u32) as usize];
            let target = rnd(count + 1);
            let kind = match rnd(12) {
                0 => TypeKind::Int {
                    size: 4,
                    encoding: 0,
                    bit_offset: 0,
                    bits: 32,
                },
                1 => TypeKind::Ptr { target },
                2 => TypeKind::Const { target },
                3 => TypeKind::Typedef { target },
                4 => TypeKind::Fwd {
                    is_union: rnd(2) == 1,
                },
                5 => TypeKind::Array {
                    elem: target,
                    index: rnd(count + 1),
                    nelems: rnd(3),
                },
                6 | 7 => {
                    let members = (0..rnd(3))
                        .map(|i| Member {
                            name_off: u.0.add_string(names[rnd(5) as usize]),
                            type_id: rnd(count + 1),
                            bit_offset: i * 32,
                            bitfield_size: 0,
                        })
                        .collect();
                    if rnd(2) == 0 {
                        TypeKind::Struct {
                            size: 8,
                            kind_flag: false,
                            members,
                        }
                    } else {
                        TypeKind::Union {
                            size: 8,
                            kind_flag: false,
                            members,
                        }
                    }
                }
                8 => TypeKind::FuncProto {
                    ret: target,
                    params: vec![Param {
                        name_off: 0,
                        type_id: rnd(count + 1),
                    }],
                },
                9 => TypeKind::Func {
                    proto: target,
                    linkage: FuncLinkage::Global,
                },
                10 => TypeKind::Enum {
                    size: 4,
                    signed: false,
                    values: vec![],
                },
                _ => TypeKind::DeclTag {
                    target,
                    component_idx: -1,
                },
            };
            u.add(name, kind);
        }
        let input = concat(&[u.0.clone(), u.0]);
        if let Ok(out) = dedup(&input) {
            assert_eq!(out.remap.len() as u32, input.type_count());
            assert!(out.remap.iter().all(|&id| id < out.btf.type_count()));
        }
    }
}
