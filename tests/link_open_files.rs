//! `bpflink_object__open_files`: linking in memory and opening the result in one call, checked
//! against the object `bpftool gen object` writes for the same inputs, and its failures
//! (libbpf's convention: NULL + errno, never a crash).
mod common;

use std::collections::BTreeSet;
use std::ffi::{c_char, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;

use bpflink::capi::linker::bpflink_object__open_files;
use bpflink::capi::map::bpf_map__name;
use bpflink::capi::object::{
    bpf_object, bpf_object__close, bpf_object__name, bpf_object__next_map, bpf_object__next_program,
    bpf_object__open_file, bpf_object_open_opts,
};
use bpflink::capi::program::bpf_program__name;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn c_paths(paths: &[PathBuf]) -> Vec<CString> {
    paths.iter().map(|p| CString::new(p.to_str().expect("utf-8 path")).expect("no NUL")).collect()
}

fn open_files(paths: &[PathBuf], opts: *const bpf_object_open_opts) -> *mut bpf_object {
    let owned = c_paths(paths);
    let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    // SAFETY: ptrs holds ptrs.len() C strings alive for the call; opts NULL or valid.
    unsafe { bpflink_object__open_files(ptrs.as_ptr(), ptrs.len(), opts) }
}

fn cstr(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: the API returns C strings owned by the object, alive while it is open.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Program and map names of an open object.
fn contents(obj: *mut bpf_object) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut progs, mut maps) = (BTreeSet::new(), BTreeSet::new());
    // SAFETY: obj is an open object; iteration handles belong to it.
    unsafe {
        let mut p = bpf_object__next_program(obj, std::ptr::null_mut());
        while !p.is_null() {
            progs.insert(cstr(bpf_program__name(p)));
            p = bpf_object__next_program(obj, p);
        }
        let mut m = bpf_object__next_map(obj, std::ptr::null());
        while !m.is_null() {
            maps.insert(cstr(bpf_map__name(m)));
            m = bpf_object__next_map(obj, m);
        }
    }
    (progs, maps)
}

fn bpftool_link(inputs: &[PathBuf], out: &Path) {
    let status = Command::new("bpftool").arg("gen").arg("object").arg(out).args(inputs).status().expect("run bpftool");
    assert!(status.success(), "bpftool gen object failed");
}

/// Open options setting only `object_name`. `sz` ends right after that field: a Rust struct's
/// tail padding is not guaranteed zero (C callers memset), and libbpf's rule refuses a non-zero
/// unknown tail.
fn named_opts(name: &CStr) -> bpf_object_open_opts {
    let sz = std::mem::offset_of!(bpf_object_open_opts, object_name) + std::mem::size_of::<*const c_char>();
    bpf_object_open_opts { sz, object_name: name.as_ptr(), ..Default::default() }
}

#[test]
fn open_files_matches_the_object_bpftool_links() {
    let groups: &[&[&str]] = &[&["link_funcs1", "link_funcs2"], &["link_static1", "link_static2"], &["link_vars1", "link_vars2"]];
    for group in groups {
        let inputs: Vec<PathBuf> = group.iter().map(|n| common::compile_bpf(n)).collect();
        let reference = std::env::temp_dir().join(format!("bpflink-open-files-{}-{}.o", std::process::id(), group[0]));
        bpftool_link(&inputs, &reference);
        let path = CString::new(reference.to_str().unwrap()).unwrap();
        // Same object name, so that internal maps (named after the object) compare equal.
        let name = CString::new(group[0]).unwrap();
        let opts = named_opts(&name);
        // SAFETY: path and opts are valid for the call.
        let expected = unsafe { bpf_object__open_file(path.as_ptr(), &opts) };
        assert!(!expected.is_null(), "our open of bpftool's output failed for {group:?}: errno {}", errno());
        let linked = open_files(&inputs, std::ptr::null());
        assert!(!linked.is_null(), "bpflink_object__open_files failed for {group:?}: errno {}", errno());
        let (progs, maps) = contents(linked);
        assert!(!progs.is_empty(), "{group:?}: no programs");
        assert_eq!((progs, maps), contents(expected), "{group:?}: programs/maps differ from bpftool's link");
        // SAFETY: linked is open.
        assert_eq!(cstr(unsafe { bpf_object__name(linked) }), group[0], "named after the first file");
        // SAFETY: both open, closed once.
        unsafe {
            bpf_object__close(linked);
            bpf_object__close(expected);
        }
        let _ = std::fs::remove_file(&reference);
    }
}

#[test]
fn open_files_honours_object_name() {
    let inputs: Vec<PathBuf> = ["link_funcs1", "link_funcs2"].iter().map(|n| common::compile_bpf(n)).collect();
    let name = CString::new("combined").unwrap();
    let opts = named_opts(&name);
    let obj = open_files(&inputs, &opts);
    assert!(!obj.is_null());
    // SAFETY: obj is open; closed once.
    unsafe {
        assert_eq!(cstr(bpf_object__name(obj)), "combined");
        bpf_object__close(obj);
    }
}

#[test]
fn open_files_failures_return_null_and_errno() {
    let good = common::compile_bpf("link_funcs1");
    // NULL array / zero count.
    // SAFETY: NULL is allowed and rejected.
    assert!(unsafe { bpflink_object__open_files(std::ptr::null(), 1, std::ptr::null()) }.is_null());
    assert_eq!(errno(), libc::EINVAL);
    assert!(open_files(&[], std::ptr::null()).is_null());
    assert_eq!(errno(), libc::EINVAL);
    // A NULL entry.
    let ptrs = [std::ptr::null::<c_char>()];
    // SAFETY: one (NULL) entry.
    assert!(unsafe { bpflink_object__open_files(ptrs.as_ptr(), 1, std::ptr::null()) }.is_null());
    assert_eq!(errno(), libc::EINVAL);
    // A missing file.
    assert!(open_files(&[good.clone(), PathBuf::from("/nonexistent/x.bpf.o")], std::ptr::null()).is_null());
    assert_eq!(errno(), libc::ENOENT);
    // Options with an unknown non-zero tail: EINVAL like libbpf's OPTS_VALID, before linking.
    let mut big = [0u8; 512];
    big[..8].copy_from_slice(&512usize.to_ne_bytes());
    big[400] = 1;
    assert!(open_files(std::slice::from_ref(&good), big.as_ptr().cast()).is_null());
    assert_eq!(errno(), libc::EINVAL);
    // A link error (two strong definitions of the same function: link the same file twice).
    assert!(open_files(&[good.clone(), good], std::ptr::null()).is_null());
    assert_ne!(errno(), 0);
}
