//! bpflink's dynamic-linking C API (`bpflink_*`, node `BPFLINK_0.1`). Loading objects with
//! `bpf_object__open_file` + `bpf_object__load` is all dynamic linking needs; these functions
//! add the cross-process scope (export, library path) and introspection (the link graph).
use std::ffi::{c_char, c_int, CString};
use std::path::PathBuf;

use super::guard::{c_path, c_utf8, call, out_ptr, CError};
use super::handles::object_ref;
use super::object::{bpf_object, load_error};
use crate::linker::dynamic;

/// Stores `value` as JSON text in `*json_out` (release with `bpflink_free_string`).
pub(crate) fn write_json(value: serde_json::Value, json_out: *mut *mut c_char) -> Result<c_int, CError> {
    let json_out = out_ptr(json_out, "json_out")?;
    let text = CString::new(value.to_string()).map_err(|_| CError::new(libc::EINVAL, "JSON report contains a NUL byte"))?;
    // SAFETY: json_out is non-NULL and writable (caller's contract).
    unsafe { json_out.write(text.into_raw()) };
    Ok(0)
}

/// Colon-separated directories to a list (empty entries ignored).
fn split_dirs(text: &str) -> Vec<PathBuf> {
    std::env::split_paths(text).filter(|p| !p.as_os_str().is_empty()).collect()
}

/// Sets the bpffs directories searched, after this process's objects, for objects other
/// processes exported (colon-separated, like `LD_LIBRARY_PATH`); NULL goes back to the
/// `BPFLINK_LIBRARY_PATH` environment variable. Returns 0 or `-errno`.
///
/// # Safety
/// `paths` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bpflink_set_library_path(paths: *const c_char) -> c_int {
    call("bpflink_set_library_path", || {
        let dirs = if paths.is_null() {
            None
        } else {
            // SAFETY: forwarded contract.
            Some(split_dirs(unsafe { c_utf8(paths, "paths")? }))
        };
        dynamic::set_library_path(dirs);
        Ok(0)
    })
}

/// Exports the loaded object under `dir/<object name>` on a bpffs (NULL: `/sys/fs/bpf/bpflink`)
/// for other processes' dynamic linking; the export outlives the process until
/// `bpflink_unexport`. Returns 0 or `-errno` (`-EEXIST` if that export exists, `-ENOENT` if the
/// object is not loaded).
///
/// # Safety
/// `obj` must be NULL or a live object handle; `dir` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bpflink_object__export(obj: *const bpf_object, dir: *const c_char) -> c_int {
    call("bpflink_object__export", || {
        // SAFETY: forwarded contract.
        let obj = unsafe { object_ref(obj)? };
        let dir = if dir.is_null() {
            PathBuf::from(dynamic::DEFAULT_EXPORT_DIR)
        } else {
            // SAFETY: forwarded contract.
            unsafe { c_path(dir, "dir")? }.to_path_buf()
        };
        obj.inner.export(&dir).map(|_| 0).map_err(load_error)
    })
}

/// Removes the export at `path` (its pins; links it held go, restoring placeholders).
/// Returns 0 or `-errno`.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bpflink_unexport(path: *const c_char) -> c_int {
    call("bpflink_unexport", || {
        // SAFETY: forwarded contract.
        let path = unsafe { c_path(path, "path")? };
        crate::loader::remove_export(path).map(|()| 0).map_err(load_error)
    })
}

/// The dynamic-linking graph of this process as JSON (`{"objects": [...], "edges": [...]}`:
/// each edge with kind `replace`/`call`, mechanism `freplace`/`stub+freplace`/`import`, the
/// function, both objects and the kernel prog/link ids), in `*json_out` (release with
/// `bpflink_free_string`). Returns 0 or `-errno`.
///
/// # Safety
/// `json_out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpflink_graph_json(json_out: *mut *mut c_char) -> c_int {
    call("bpflink_graph_json", || write_json(crate::graph::to_json(&dynamic::snapshot()), json_out))
}

/// The graph any process sees, as JSON like `bpflink_graph_json`: the exports under `dirs`
/// (colon-separated; NULL: the library path) and every extension link in the kernel.
///
/// # Safety
/// `dirs` must be NULL or a NUL-terminated string; `json_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpflink_system_graph_json(dirs: *const c_char, json_out: *mut *mut c_char) -> c_int {
    call("bpflink_system_graph_json", || {
        let dirs = if dirs.is_null() {
            dynamic::library_path()
        } else {
            // SAFETY: forwarded contract.
            split_dirs(unsafe { c_utf8(dirs, "dirs")? })
        };
        write_json(crate::graph::to_json(&crate::loader::system_graph(&dirs)), json_out)
    })
}
