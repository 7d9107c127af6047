//! Large-input dedup: 64 generated BTF blobs of ~3000 types each (many shared structs with
//! pointer cycles, FWDs completed elsewhere, some unique structs). Checks the result and
//! reports dedup time and peak heap (a counting allocator) in the test output.
//!
//! With `BPFLINK_DEDUP_BENCH_DIR=DIR` (objects made by `bench/dedup_gen_large.py DIR`) it also
//! dedups the BTF of those clang-built objects and compares with `bpftool gen object`'s wall
//! time and peak RSS on the same files. Run it in release mode for meaningful numbers:
//!     BPFLINK_DEDUP_BENCH_DIR=/tmp/big cargo test --release --test btf_dedup_large -- --nocapture
mod common;
#[path = "btf_dedup_helpers.rs"]
mod helpers;

use bpflink::btf::dedup::dedup;
use bpflink::btf::*;
use helpers::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Tracks live and peak heap bytes of the whole test binary.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap growth above the level at the start, while `f` runs.
fn measure<T>(f: impl FnOnce() -> T) -> (T, f64, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let r = f();
    let secs = start.elapsed().as_secs_f64();
    (r, secs, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

const OBJECTS: usize = 64;
const SHARED: u32 = 900;
const UNIQUE: u32 = 40;

/// One generated "object": ints, typedefs, enums, SHARED structs each with pointers to two
/// others (cycles) and an array, some declared only (FWD) in odd objects, and UNIQUE structs
/// named after the object. Every struct gets a pointer type, and all of them hang off one
/// object-specific root struct.
fn generated_object(k: usize) -> Btf {
    let mut b = Btf::new();
    let add = |b: &mut Btf, name: &str, kind: TypeKind| {
        let name_off = b.add_string(name);
        b.add_type(BtfType { name_off, kind })
    };
    let int = add(
        &mut b,
        "int",
        TypeKind::Int {
            size: 4,
            encoding: INT_SIGNED,
            bit_offset: 0,
            bits: 32,
        },
    );
    let u64_t = add(
        &mut b,
        "unsigned long long",
        TypeKind::Int {
            size: 8,
            encoding: 0,
            bit_offset: 0,
            bits: 64,
        },
    );
    let typedefs: Vec<TypeId> = (0..50)
        .map(|t| {
            add(
                &mut b,
                &format!("t{t}_t"),
                TypeKind::Typedef {
                    target: if t % 2 == 0 { int } else { u64_t },
                },
            )
        })
        .collect();
    let enums: Vec<TypeId> = (0..40u32)
        .map(|e| {
            let values = (0..3 + e % 4)
                .map(|v| Enumerator {
                    name_off: b.add_string(&format!("E{e}_{v}")),
                    value: v as u64,
                })
                .collect();
            add(
                &mut b,
                &format!("e{e}"),
                TypeKind::Enum {
                    size: 4,
                    signed: false,
                    values,
                },
            )
        })
        .collect();
    let idx = add(
        &mut b,
        "__ARRAY_SIZE_TYPE__",
        TypeKind::Int {
            size: 4,
            encoding: 0,
            bit_offset: 0,
            bits: 32,
        },
    );
    // Structs first with empty members, so members can point anywhere (cycles).
    let opaque_here = |i: u32| i % 25 == 7 && k % 2 == 1;
    let structs: Vec<TypeId> = (0..SHARED)
        .map(|i| {
            if opaque_here(i) {
                add(&mut b, &format!("s{i}"), TypeKind::Fwd { is_union: false })
            } else {
                add(
                    &mut b,
                    &format!("s{i}"),
                    TypeKind::Struct {
                        size: 40,
                        kind_flag: false,
                        members: vec![],
                    },
                )
            }
        })
        .collect();
    let ptrs: Vec<TypeId> = structs
        .iter()
        .map(|&s| add(&mut b, "", TypeKind::Ptr { target: s }))
        .collect();
    for i in 0..SHARED {
        if opaque_here(i) {
            continue;
        }
        let arr = add(
            &mut b,
            "",
            TypeKind::Array {
                elem: int,
                index: idx,
                nelems: 1 + i % 5,
            },
        );
        let names = ["next", "peer", "f0", "kind", "arr"];
        let types = [
            ptrs[((i * 7 + 1) % SHARED) as usize],
            ptrs[((i * 13 + 5) % SHARED) as usize],
            typedefs[(i % 50) as usize],
            enums[(i % 40) as usize],
            arr,
        ];
        let members = names
            .iter()
            .zip(types)
            .enumerate()
            .map(|(m, (n, t))| Member {
                name_off: b.add_string(n),
                type_id: t,
                bit_offset: m as u32 * 64,
                bitfield_size: 0,
            })
            .collect::<Vec<_>>();
        if let TypeKind::Struct { members: slot, .. } =
            &mut b.type_mut(structs[i as usize]).unwrap().kind
        {
            *slot = members;
        }
    }
    let mut root_members = Vec::new();
    for (i, &p) in ptrs.iter().enumerate() {
        root_members.push(Member {
            name_off: b.add_string(&format!("p{i}")),
            type_id: p,
            bit_offset: i as u32 * 64,
            bitfield_size: 0,
        });
    }
    for u in 0..UNIQUE {
        let val = b.add_string("val");
        let s = add(
            &mut b,
            &format!("o{k}_u{u}"),
            TypeKind::Struct {
                size: 8,
                kind_flag: false,
                members: vec![Member {
                    name_off: val,
                    type_id: u64_t,
                    bit_offset: 0,
                    bitfield_size: 0,
                }],
            },
        );
        let p = add(&mut b, "", TypeKind::Ptr { target: s });
        let off = (SHARED + u) * 64;
        root_members.push(Member {
            name_off: b.add_string(&format!("u{u}")),
            type_id: p,
            bit_offset: off,
            bitfield_size: 0,
        });
    }
    let size = (SHARED + UNIQUE) * 8;
    let root = add(
        &mut b,
        &format!("all_{k}"),
        TypeKind::Struct {
            size,
            kind_flag: false,
            members: root_members,
        },
    );
    let proto = add(
        &mut b,
        "",
        TypeKind::FuncProto {
            ret: int,
            params: vec![Param {
                name_off: 0,
                type_id: root,
            }],
        },
    );
    add(
        &mut b,
        &format!("prog_{k}"),
        TypeKind::Func {
            proto,
            linkage: FuncLinkage::Global,
        },
    );
    b.validate().expect("generated BTF is valid");
    b
}

#[test]
fn generated_64_objects_dedup() {
    let parts: Vec<Btf> = (0..OBJECTS).map(generated_object).collect();
    let per_object = parts[1].type_count() - 1;
    let input = concat(&parts);
    drop(parts);
    let (out, secs, peak) = measure(|| dedup(&input).expect("dedup"));
    eprintln!(
        "generated input: {OBJECTS} objects x {per_object} types = {} types -> {} types; \
         dedup {:.1} ms, peak extra heap {:.1} MiB",
        input.type_count(),
        out.btf.type_count(),
        secs * 1e3,
        peak as f64 / (1 << 20) as f64
    );
    // Expected: one copy of everything shared (FWDs resolved to the full structs of the even
    // objects), plus per object its UNIQUE structs and pointers, root struct, proto and func.
    let b = &out.btf;
    let count = |kind: Kind| {
        (1..b.type_count())
            .filter(|&id| b.type_by_id(id).unwrap().kind() == kind)
            .count() as u32
    };
    assert_eq!(count(Kind::Fwd), 0, "every FWD resolves");
    assert_eq!(count(Kind::Struct), SHARED + OBJECTS as u32 * (UNIQUE + 1));
    assert_eq!(count(Kind::Ptr), SHARED + OBJECTS as u32 * UNIQUE);
    assert_eq!(count(Kind::Array), 5);
    assert_eq!(count(Kind::Enum), 40);
    assert_eq!(count(Kind::Typedef), 50);
    assert_eq!(count(Kind::Int), 3);
    assert_eq!(count(Kind::FuncProto), OBJECTS as u32);
    assert_eq!(count(Kind::Func), OBJECTS as u32);
    // Every copy of shared struct s{i} maps to the one output struct of that name.
    for (old, &new) in out.remap.iter().enumerate() {
        let t = input.type_by_id(old as u32).unwrap();
        if matches!(t.kind(), Kind::Struct | Kind::Fwd) {
            assert_eq!(
                input.type_name(old as u32).unwrap(),
                b.type_name(new).unwrap()
            );
            assert_eq!(b.type_by_id(new).unwrap().kind(), Kind::Struct);
        }
    }
}

/// Runs `cmd` to completion: (success, wall seconds, peak RSS bytes of the largest child this
/// process has waited for, which here are only these runs).
fn run_with_rusage(cmd: &mut std::process::Command) -> (bool, f64, u64) {
    let start = Instant::now();
    let status = cmd.status().expect("spawning");
    let secs = start.elapsed().as_secs_f64();
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(r, 0, "getrusage");
    (status.success(), secs, usage.ru_maxrss as u64 * 1024)
}

/// Dedup of the clang-built benchmark objects vs `bpftool gen object` (link + dedup) on the
/// same files; informative numbers, plus a check that the type counts agree with bpftool up
/// to the declarations libbpf 1.1 leaves unresolved.
#[test]
fn clang_built_benchmark_vs_bpftool() {
    let Some(dir) = std::env::var_os("BPFLINK_DEDUP_BENCH_DIR") else {
        eprintln!("NOTE: set BPFLINK_DEDUP_BENCH_DIR (see bench/dedup_gen_large.py) for the bpftool comparison");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut objs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    objs.sort();
    assert!(!objs.is_empty(), "no *.bpf.o in {}", dir.display());
    let linked = scratch_dir("bench").join("linked.o");
    let mut best_bpftool = (f64::MAX, 0u64);
    for _ in 0..3 {
        let (ok, secs, rss) = run_with_rusage(
            std::process::Command::new("bpftool")
                .args(["gen", "object"])
                .arg(&linked)
                .args(&objs),
        );
        assert!(ok, "bpftool gen object failed");
        best_bpftool = (best_bpftool.0.min(secs), best_bpftool.1.max(rss));
    }
    let (parts, read_secs, read_peak) =
        measure(|| objs.iter().map(|p| btf_of(p)).collect::<Vec<Btf>>());
    let (input, concat_secs, concat_peak) = measure(|| concat_filtered(&parts, keep_non_data));
    let mut best = (f64::MAX, 0usize);
    let mut out = None;
    let runs: usize = std::env::var("BPFLINK_DEDUP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    for _ in 0..runs {
        let (o, secs, peak) = measure(|| dedup(&input).expect("dedup"));
        best = (best.0.min(secs), best.1.max(peak));
        out = Some(o);
    }
    let out = out.unwrap();
    eprintln!(
        "{} objects, {} types -> {} types\n  bpftool gen object (read+link+dedup+write): {:.1} ms, peak RSS {:.1} MiB\n  \
         bpflink: read+parse BTF {:.1} ms ({:.1} MiB heap), concat {:.1} ms ({:.1} MiB), dedup {:.1} ms ({:.1} MiB extra heap)\n  \
         dedup / bpftool time: {:.2}",
        objs.len(),
        input.type_count(),
        out.btf.type_count(),
        best_bpftool.0 * 1e3,
        best_bpftool.1 as f64 / (1 << 20) as f64,
        read_secs * 1e3,
        read_peak as f64 / (1 << 20) as f64,
        concat_secs * 1e3,
        concat_peak as f64 / (1 << 20) as f64,
        best.0 * 1e3,
        best.1 as f64 / (1 << 20) as f64,
        best.0 / best_bpftool.0,
    );
    let mut reference = bpftool_kind_names(&linked);
    reference.retain(|(kind, _), _| kind != "DATASEC" && kind != "VAR");
    let ours = kind_names(&out.btf);
    for (key, &n) in &ours {
        let r = reference.get(key).copied().unwrap_or(0);
        assert!(n <= r, "we have {n} of {key:?}, bpftool {r}");
    }
}
