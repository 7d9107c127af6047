//! Shared helpers for integration tests: compile the BPF test programs from source and list the
//! corpus of real objects.
#![allow(dead_code)]
pub mod dynlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Directory holding the BPF sources of the test corpus.
pub fn bpf_source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf")
}

/// Where compiled test objects go. `BPFLINK_BPF_OBJ_DIR` overrides it (the guest kernel run
/// sees the source tree read-only, so objects are compiled on the host beforehand).
fn object_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BPFLINK_BPF_OBJ_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bpf")
}

/// Compiles one BPF C source (`tests/bpf/NAME.bpf.c`) into `NAME.bpf.o`, unless it is up to date.
pub fn compile_bpf(name: &str) -> PathBuf {
    let src = bpf_source_dir().join(format!("{name}.bpf.c"));
    let dir = object_dir();
    let out = dir.join(format!("{name}.bpf.o"));
    if is_up_to_date(&out, &src) {
        return out;
    }
    std::fs::create_dir_all(&dir).expect("creating the BPF object directory");
    // Compile to a unique temporary name and rename, so concurrent test threads and binaries
    // never read a half-written object.
    static UNIQUE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let unique = UNIQUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("{name}.{}.{unique}.tmp.o", std::process::id()));
    let status = Command::new(clang())
        .args([
            "-target",
            "bpf",
            "-O2",
            "-g",
            "-I/usr/include/x86_64-linux-gnu",
            "-c",
        ])
        .arg(&src)
        .arg("-o")
        .arg(&tmp)
        .status()
        .unwrap_or_else(|e| panic!("running {}: {e} (run `make setup`)", clang()));
    assert!(status.success(), "compiling {} failed", src.display());
    std::fs::rename(&tmp, &out).expect("renaming compiled object");
    out
}

fn is_up_to_date(out: &Path, src: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(out), modified(src)) {
        (Some(o), Some(s)) => o >= s,
        _ => false,
    }
}

fn clang() -> String {
    std::env::var("BPF_CLANG").unwrap_or_else(|_| "clang-19".to_string())
}

/// Names (without `.bpf.c`) of every BPF test program in `tests/bpf`.
pub fn bpf_program_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(bpf_source_dir())
        .expect("reading tests/bpf")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".bpf.c")
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// Every project test program, compiled (once per test binary).
pub fn bpf_objects() -> Vec<PathBuf> {
    static OBJECTS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    OBJECTS
        .get_or_init(|| bpf_program_names().iter().map(|n| compile_bpf(n)).collect())
        .clone()
}

/// The BPF objects Debian's xdp-tools package ships (part of the corpus; installed by setup).
pub fn xdp_tools_objects() -> Vec<PathBuf> {
    let dir = Path::new("/usr/lib/x86_64-linux-gnu/bpf");
    let mut objs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (xdp-tools not installed? run `make setup`)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "o"))
        .collect();
    objs.sort();
    assert!(
        !objs.is_empty(),
        "no xdp-tools objects in {}",
        dir.display()
    );
    objs
}

/// The whole corpus: project programs then xdp-tools objects.
pub fn corpus() -> Vec<PathBuf> {
    let mut all = bpf_objects();
    all.extend(xdp_tools_objects());
    all
}
pub mod kernel;
