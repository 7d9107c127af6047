//! The cross-process scope of dynamic linking (issue 5): `bpflink export` (another process)
//! exports a library and a rootlet under a bpffs directory; this process, with that directory
//! in its library path, calls the library's function and replaces the rootlet's placeholder.
//! Exports outlive their process (pins), and an exported caller's links are pinned too.
mod common;

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use bpflink::linker::dynamic::{self, Mechanism};
use bpflink::loader::{remove_export, LoadError};
use bpflink::sys::{self, uapi, ObjKind};
use common::dynlink::*;

/// A private bpffs for one test, unmounted when dropped.
struct Bpffs(PathBuf);

impl Bpffs {
    fn mount(name: &str) -> Bpffs {
        let path = std::env::temp_dir().join(format!("bpflink-{name}-{}", std::process::id()));
        sys::bpffs::ensure_mounted(&path).unwrap_or_else(|e| panic!("mounting bpffs at {}: {e}", path.display()));
        Bpffs(path)
    }
}

impl Drop for Bpffs {
    fn drop(&mut self) {
        let _ = sys::bpffs::unmount(&self.0);
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// `bpflink export --dir DIR OBJ...` in its own process, with DIR as its library path.
fn export_in_another_process(dir: &Path, objects: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpflink"));
    cmd.arg("export").arg("--dir").arg(dir).env(dynamic::LIBRARY_PATH_ENV, dir);
    for o in objects {
        cmd.arg(common::compile_bpf(o));
    }
    cmd.output().expect("running bpflink export")
}

fn pinned_prog(dir: &Path, export: &str, prog: &str) -> std::os::fd::OwnedFd {
    sys::obj_get(&dir.join(export).join(format!("prog_{prog}")), 0).expect("pinned program")
}

fn pinned_map_id(dir: &Path, export: &str, map: &str) -> u32 {
    let fd = sys::obj_get(&dir.join(export).join(format!("map_{map}")), 0).expect("pinned map");
    sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd.as_fd()).unwrap().id
}

#[test]
fn objects_exported_by_another_process_are_linked_against() {
    let _g = serial();
    let fs = Bpffs::mount("export");
    let dir = fs.0.join("libs");
    let out = export_in_another_process(&dir, &["dyn_classifier", "dyn_rootlet"]);
    assert!(out.status.success(), "bpflink export: {}", String::from_utf8_lossy(&out.stderr));
    let calls_map = pinned_map_id(&dir, "dyn_classifier", "classify_calls");
    let rootlet = pinned_prog(&dir, "dyn_rootlet", "dyn_rootlet");
    assert_eq!(verdict_of(rootlet.as_fd(), 0), XDP_PASS, "the exported rootlet outlived its process");

    // Without the directory in the library path, nothing is found.
    dynamic::set_library_path(Some(vec![]));
    let mut blind = open_named("dyn_caller", "blind_caller");
    assert!(matches!(blind.load(), Err(LoadError::UnresolvedFunctions { .. })));

    dynamic::set_library_path(Some(vec![dir.clone()]));
    let Some(caller) = load_dependent("dyn_caller", "caller", "cross-process call") else {
        dynamic::set_library_path(None);
        remove_export(&dir.join("dyn_classifier")).unwrap();
        remove_export(&dir.join("dyn_rootlet")).unwrap();
        return;
    };
    assert_eq!(verdict(&caller, "dyn_caller", 0xff), XDP_DROP, "the exported library's code runs");
    assert_eq!(counter(calls_map, XDP_DROP), 1, "in the exported library's map (shared across processes)");
    let edge = &caller.dynamic_edges()[0].edge;
    assert_eq!((edge.mechanism, edge.to.as_str()), (Mechanism::Stub, dir.join("dyn_classifier").to_str().unwrap()));

    let firewall = load_dependent("dyn_firewall", "firewall", "cross-process replace").expect("EXT loads here");
    assert_eq!(verdict_of(rootlet.as_fd(), 0), XDP_DROP, "the exported rootlet's placeholder is replaced");

    let system = bpflink::loader::system_graph(std::slice::from_ref(&dir));
    assert_eq!(system.objects.len(), 2, "{system:?}");
    let replaced = system.edges.iter().filter(|e| e.function == "dyn_placeholder" && e.to.ends_with("dyn_rootlet")).count();
    assert_eq!(replaced, 2, "the kernel's links show both rootlet programs replaced: {:#?}", system.edges);
    drop(firewall);
    assert_eq!(verdict_of(rootlet.as_fd(), 0), XDP_PASS);

    // Unexporting the library leaves this process's caller working (it holds what it uses).
    remove_export(&dir.join("dyn_classifier")).unwrap();
    assert_eq!(verdict(&caller, "dyn_caller", 0xff), XDP_DROP);
    assert_eq!(counter(calls_map, XDP_DROP), 2);
    drop(caller);
    assert!(gone(ObjKind::Map, calls_map), "the library's map goes with its last user");
    remove_export(&dir.join("dyn_rootlet")).unwrap();
    dynamic::set_library_path(None);
}

/// A caller exported by a process that then exits keeps calling the library (its links are
/// pinned); unexporting it restores its stubs.
#[test]
fn an_exported_callers_links_outlive_its_process() {
    let _g = serial();
    let fs = Bpffs::mount("export-links");
    let dir = fs.0.join("libs");
    let out = export_in_another_process(&dir, &["dyn_classifier", "dyn_caller"]);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("Operation not permitted") && !sys::feature_required() {
            skipped(&format!("exported caller: this kernel ({}) refuses BPF_PROG_TYPE_EXT", sys::kernel_release()));
            let _ = remove_export(&dir.join("dyn_classifier"));
            return;
        }
        panic!("bpflink export: {err}");
    }
    let caller = pinned_prog(&dir, "dyn_caller", "dyn_caller");
    assert_eq!(verdict_of(caller.as_fd(), 0xff), XDP_DROP, "the pinned links keep the call working");
    let links: Vec<_> = std::fs::read_dir(dir.join("dyn_caller")).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("link_")).collect();
    assert_eq!(links.len(), 2, "one pinned link per calling program");
    remove_export(&dir.join("dyn_caller")).unwrap();
    assert_eq!(verdict_of(caller.as_fd(), 0xff), XDP_ABORTED, "the stub (r0 = 0) is back once the links are gone");
    remove_export(&dir.join("dyn_classifier")).unwrap();
}
