//! Replays every input the fuzz targets (fuzz/fuzz_targets, `scripts/fuzz.sh`) ever crashed
//! on, kept in tests/fuzz-regressions/TARGET/, through the same target bodies
//! (fuzz/src/lib.rs): each must now pass the target's checks without panicking.
#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use std::path::Path;

/// Runs `target` on every kept input of `dir`; returns how many there were.
fn replay(dir: &str, target: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions").join(dir);
    let Ok(entries) = std::fs::read_dir(&dir) else { return 0 };
    let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let outcome = std::panic::catch_unwind(|| target(&data));
        assert!(outcome.is_ok(), "{} fails again", file.display());
    }
    files.len()
}

#[test]
fn object_open_inputs() {
    replay("object_open", harness::object_open);
}

#[test]
fn btf_inputs() {
    replay("btf", harness::btf);
}

#[test]
fn btf_ext_inputs() {
    replay("btf_ext", harness::btf_ext);
}

#[test]
fn linker_inputs() {
    assert!(replay("linker", harness::linker) > 0, "the kept linker inputs are found");
}
