//! bpflink's own C API (`bpflink_*`, symbol version node `BPFLINK_0.1`).
use std::ffi::{c_char, c_int, CString};

use super::guard::{c_path, call};
use crate::object::ObjectSpec;

const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => panic!("package version contains a NUL byte"),
};

/// bpflink's own version, e.g. "0.1.0".
#[no_mangle]
pub extern "C" fn bpflink_version() -> *const c_char {
    VERSION.as_ptr()
}

/// Parses the BPF object at `path` and stores a JSON report of it (the same as
/// `bpflink inspect --json`) in `*json_out`, to be released with `bpflink_free_string`.
/// Returns 0, or `-errno` with `*json_out` left untouched.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `json_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpflink_inspect_json(
    path: *const c_char,
    json_out: *mut *mut c_char,
) -> c_int {
    call("bpflink_inspect_json", || {
        // SAFETY: forwarded contract.
        let path = unsafe { c_path(path, "path")? };
        let spec = ObjectSpec::from_file(path)?;
        super::dynlink::write_json(crate::inspect::to_json(&spec), json_out)
    })
}

/// Releases a string returned by a `bpflink_*` function. NULL is ignored.
///
/// # Safety
/// `s` must be NULL or a string from a `bpflink_*` function, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn bpflink_free_string(s: *mut c_char) {
    call("bpflink_free_string", || {
        if !s.is_null() {
            // SAFETY: s came from CString::into_raw in this library (caller's contract).
            drop(unsafe { CString::from_raw(s) });
        }
        Ok(())
    })
}
