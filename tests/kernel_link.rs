//! Static linker vs libbpf's (`bpftool gen object`), loaded by the system libbpf in a separate
//! process (tests/ref/link_run.c): both outputs must load and behave identically (test-run
//! verdicts, map contents, skeleton-visible DATASEC offsets and bytes). For libbpf's bugs
//! B1–B3 the reference output is expected to be broken and ours to behave as the C source says.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn work_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpflink-kernel-link-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("ref")).unwrap();
    std::fs::create_dir_all(dir.join("ours")).unwrap();
    dir
}

fn runner() -> &'static Path {
    static RUNNER: OnceLock<PathBuf> = OnceLock::new();
    RUNNER.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ref/link_run.c");
        let out = work_dir().join("link_run");
        let status = Command::new("cc").arg("-O1").arg("-o").arg(&out).arg(&src).arg("-lbpf").status().expect("running cc");
        assert!(status.success(), "building {}", src.display());
        out
    })
}

/// Output of the reference runner on `obj`, or Err(exit status + stderr) if it failed.
fn run(obj: &Path) -> Result<String, String> {
    let out = Command::new(runner()).arg(obj).output().expect("running link_run");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr)))
    }
}

/// Links `names` with bpftool and with bpflink into files of the same name (map names derive
/// from it); returns (bpftool's output if bpftool succeeded, ours).
fn link_both(out_name: &str, names: &[&str]) -> (Option<PathBuf>, PathBuf) {
    let inputs: Vec<PathBuf> = names.iter().map(|n| common::compile_bpf(n)).collect();
    let dir = work_dir();
    let ref_out = dir.join("ref").join(format!("{out_name}.o"));
    let ours = dir.join("ours").join(format!("{out_name}.o"));
    let status = Command::new("bpftool").arg("gen").arg("object").arg(&ref_out).args(&inputs).output().expect("running bpftool");
    let bytes = bpflink::linker::link_files(&inputs).unwrap_or_else(|e| panic!("bpflink link {names:?}: {e}"));
    std::fs::write(&ours, bytes).unwrap();
    (status.status.success().then_some(ref_out), ours)
}

fn line_value<'a>(report: &'a str, prefix: &str) -> Option<&'a str> {
    report.lines().find_map(|l| l.trim_start().strip_prefix(prefix))
}

/// The bytes a skeleton sees for variable `var` (hex, from the DATASEC offset).
fn var_bytes<'a>(report: &'a str, var: &str) -> Option<&'a str> {
    report.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix(&format!("var {var} "))?;
        rest.split(" bytes ").nth(1)
    })
}

fn le32(v: i32) -> String {
    v.to_le_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn assert_same_behaviour(name: &str, names: &[&str]) -> String {
    let (reference, ours) = link_both(name, names);
    let reference = reference.unwrap_or_else(|| panic!("bpftool gen object failed on {names:?}"));
    let want = run(&reference).unwrap_or_else(|e| panic!("libbpf cannot load bpftool's {name}: {e}"));
    let got = run(&ours).unwrap_or_else(|e| panic!("libbpf cannot load bpflink's {name}: {e}"));
    assert_eq!(want, got, "{name}: bpftool's and bpflink's objects behave differently");
    got
}

#[test]
fn linked_functions_behave_like_bpftool() {
    let r = assert_same_behaviour("link_funcs", &["link_funcs1", "link_funcs2"]);
    // From the C sources: strong pick_weak (x + 100), first weak first_weak (x + 11), each
    // object's own static local_twice.
    assert_eq!(var_bytes(&r, "funcs1_pick"), Some(le32(110).as_str()), "{r}");
    assert_eq!(var_bytes(&r, "funcs1_first"), Some(le32(12).as_str()), "{r}");
    assert_eq!(var_bytes(&r, "funcs2_first"), Some(le32(13).as_str()), "{r}");
    assert_eq!(var_bytes(&r, "funcs1_local"), Some(le32(10).as_str()), "{r}");
    assert_eq!(var_bytes(&r, "funcs2_local"), Some(le32(15).as_str()), "{r}");
    assert_eq!(var_bytes(&r, "funcs1_sum"), Some(le32(5).as_str()), "{r}");
}

#[test]
fn linked_variables_behave_like_bpftool() {
    let r = assert_same_behaviour("link_vars", &["link_vars1", "link_vars2"]);
    // vars_bss1 1 (after +1), data1 1, rodata1 11, bss2 0 (xdp_vars2 runs later), data2 2,
    // rodata2 22, bss_weak 0, data_weak 10, rodata_weak 100 (first weak).
    assert_eq!(var_bytes(&r, "vars_sum1"), Some(le32(1 + 1 + 11 + 2 + 22 + 10 + 100).as_str()), "{r}");
}

#[test]
fn static_symbols_with_the_same_name_stay_separate() {
    let r = assert_same_behaviour("link_static", &["link_static1", "link_static2"]);
    assert_eq!(var_bytes(&r, "static_out1"), Some(le32(20 * 2 + 1).as_str()), "{r}");
    assert_eq!(var_bytes(&r, "static_out2"), Some(le32(30 * 3 + 1 + 1).as_str()), "{r}");
}

#[test]
fn core_relocations_of_both_objects_survive() {
    let r = assert_same_behaviour("link_core", &["link_core1", "link_core2"]);
    // struct xdp_md: data_end at 4, rx_queue_index at 16, 24 bytes (kernel UAPI).
    assert_eq!(var_bytes(&r, "core_out1"), Some(le32(401).as_str()), "{r}");
    assert_eq!(var_bytes(&r, "core_out2"), Some(le32(16 + 24 * 1000).as_str()), "{r}");
}

#[test]
fn maps_across_objects_are_shared() {
    let (reference, ours) = link_both("link_maps", &["link_maps1", "link_maps2"]);
    let got = run(&ours).unwrap_or_else(|e| panic!("libbpf cannot load bpflink's link_maps: {e}"));
    match reference.map(|r| run(&r)) {
        Some(Ok(want)) => assert_eq!(want, got, "link_maps: behaviour differs from bpftool's"),
        other => eprintln!("note: bpftool's link_maps does not load ({other:?}); checking against the C source only"),
    }
    // xdp_maps1 writes the inner map and counts key 1; xdp_maps2 reads 41 back through the
    // outer map and tail-calls xdp_tail_target (XDP_TX) from the prog array's initial slot.
    assert_eq!(line_value(&got, "prog xdp_maps2 retval "), Some("3"), "{got}");
    assert!(got.contains("01000000 => 0100000000000000") && got.contains("02000000 => 0700000000000000"), "{got}");
    assert!(got.contains("00000000 => 29000000"), "inner map slot not shared: {got}");
    assert!(got.contains("00000000 => 0500000000000000") && got.contains("01000000 => 0900000000000000"), "weak map not shared: {got}");
}

/// B1: extern map declared before its definition: libbpf's output does not open.
#[test]
fn b1_extern_map_declared_before_definition() {
    let (reference, ours) = link_both("link_b1", &["link_b1_a", "link_b1_b"]);
    let libbpf_broken = reference.map_or(true, |r| run(&r).is_err());
    assert!(libbpf_broken, "libbpf's B1 reproducer unexpectedly works");
    let got = run(&ours).unwrap_or_else(|e| panic!("bpflink's link_b1 does not load: {e}"));
    // xdp_b1_a stores 1234 in slot 0, xdp_b1_b copies it + 1 into slot 1: the map is shared.
    assert!(got.contains("00000000 => d204000000000000") && got.contains("01000000 => d304000000000000"), "{got}");
}

/// B2: weak then strong variable in one section: the DATASEC must point at the strong one.
#[test]
fn b2_weak_then_strong_variable_in_one_section() {
    let (reference, ours) = link_both("link_b2", &["link_b2_a", "link_b2_b"]);
    let got = run(&ours).unwrap_or_else(|e| panic!("bpflink's link_b2 does not load: {e}"));
    // xdp_b2_a sees the strong 7; xdp_b2_b then increments it to 8.
    assert_eq!(var_bytes(&got, "b2_seen_a"), Some(le32(7).as_str()), "{got}");
    assert_eq!(var_bytes(&got, "b2_x"), Some(le32(8).as_str()), "skeleton view of b2_x: {got}");
    if let Some(r) = reference {
        let want = run(&r).unwrap_or_default();
        assert_ne!(var_bytes(&want, "b2_x"), Some(le32(8).as_str()), "libbpf's B2 reproducer unexpectedly works: {want}");
    }
}

/// B3: weak initialised `.data` variable overridden by a strong `.bss` one.
#[test]
fn b3_weak_data_overridden_by_strong_bss() {
    let (reference, ours) = link_both("link_b3", &["link_b3_a", "link_b3_b"]);
    let libbpf_broken = reference.map_or(true, |r| run(&r).map_or(true, |out| var_bytes(&out, "b3_seen") != Some(le32(0).as_str())));
    assert!(libbpf_broken, "libbpf's B3 reproducer unexpectedly works");
    let got = run(&ours).unwrap_or_else(|e| panic!("bpflink's link_b3 does not load: {e}"));
    assert_eq!(var_bytes(&got, "b3_seen"), Some(le32(0).as_str()), "{got}");
    assert_eq!(var_bytes(&got, "b3_pad_b"), Some(le32(1).as_str()), "{got}");
    let bss = got.split("map link_b3.bss").nth(1).unwrap_or_default();
    assert!(bss.contains("var b3_x off"), "b3_x must live in .bss: {got}");
}

/// B4: every input order loads and runs the strong definition.
#[test]
fn b4_every_order_runs_the_strong_definition() {
    let names = ["link_b4_weak", "link_b4_extern", "link_b4_strong"];
    for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
        let ordered: Vec<&str> = order.iter().map(|&i| names[i]).collect();
        let (_, ours) = link_both("link_b4", &ordered);
        let got = run(&ours).unwrap_or_else(|e| panic!("order {ordered:?}: {e}"));
        assert_eq!(var_bytes(&got, "b4_weak_seen"), Some(le32(1010).as_str()), "order {ordered:?}: {got}");
        assert_eq!(var_bytes(&got, "b4_extern_seen"), Some(le32(1020).as_str()), "order {ordered:?}: {got}");
    }
}
