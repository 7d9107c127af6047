//! libbpf's library-wide functions: version, errors, logging, strict mode, CPU count.
use std::ffi::{c_char, c_int, c_long, c_void};

use super::errors::{error_text, ErrorText};
use super::guard::{call, errno, set_errno, CError};
use super::print::{libbpf_print_fn_t, set_print_fn};
use super::system;
use super::types::{__u32, libbpf_strict_mode};

/// The libbpf API version bpflink implements (opts layouts, semantics). Keep in sync with
/// `include/bpf/libbpf_version.h`; a C test checks they agree.
pub const LIBBPF_MAJOR: u32 = 1;
pub const LIBBPF_MINOR: u32 = 1;
const LIBBPF_VERSION_STRING: &std::ffi::CStr = c"v1.1";

/// Largest errno value libbpf's `IS_ERR` recognises in an error-encoded pointer.
const MAX_ERRNO: usize = 4095;

#[no_mangle]
pub extern "C" fn libbpf_major_version() -> __u32 {
    LIBBPF_MAJOR
}

#[no_mangle]
pub extern "C" fn libbpf_minor_version() -> __u32 {
    LIBBPF_MINOR
}

#[no_mangle]
pub extern "C" fn libbpf_version_string() -> *const c_char {
    LIBBPF_VERSION_STRING.as_ptr()
}

/// Installs a print callback and returns the previous one; NULL silences all output.
#[no_mangle]
pub extern "C" fn libbpf_set_print(print_fn: libbpf_print_fn_t) -> libbpf_print_fn_t {
    call("libbpf_set_print", || Ok(set_print_fn(print_fn)))
}

/// A no-op since libbpf 1.0, where strict mode became the only mode.
#[no_mangle]
pub extern "C" fn libbpf_set_strict_mode(mode: libbpf_strict_mode) -> c_int {
    let _ = mode;
    0
}

/// Error of a pointer returned by a libbpf API: 0 for a valid pointer, else `-errno`
/// (decoded from an error-encoded pointer, or the current errno for NULL).
#[no_mangle]
pub extern "C" fn libbpf_get_error(ptr: *const c_void) -> c_long {
    let addr = ptr as usize;
    if addr != 0 && addr < MAX_ERRNO.wrapping_neg() {
        return 0;
    }
    if addr != 0 {
        // An ERR_PTR: the address is -errno.
        set_errno((addr as isize).wrapping_neg() as c_int);
    }
    -c_long::from(errno())
}

/// Number of possible CPUs, or `-errno` if the kernel's CPU mask cannot be read.
#[no_mangle]
pub extern "C" fn libbpf_num_possible_cpus() -> c_int {
    call("libbpf_num_possible_cpus", system::num_possible_cpus)
}

/// Describes `err` (an errno value or a `LIBBPF_ERRNO__*` code, either sign) into `buf`.
///
/// Returns 0, or (as libbpf does) the positive error of `strerror_r` for unknown errno
/// values and truncation, `-ERANGE` if a libbpf message was truncated, `-ENOENT` for codes
/// past the libbpf range and `-EINVAL` for a NULL or empty buffer.
///
/// # Safety
/// `buf` must be NULL or point to `size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn libbpf_strerror(err: c_int, buf: *mut c_char, size: usize) -> c_int {
    call("libbpf_strerror", || {
        if buf.is_null() || size == 0 {
            return Err(CError::quiet(libc::EINVAL));
        }
        // SAFETY: buf points to size writable bytes (caller's contract).
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), size) };
        match error_text(err) {
            ErrorText::Errno(code) => {
                // SAFETY: out is a valid writable buffer of out.len() bytes.
                let rc = unsafe { libc::strerror_r(code, out.as_mut_ptr().cast(), out.len()) };
                // libbpf terminates the buffer's last byte whatever strerror_r did.
                if let Some(last) = out.last_mut() {
                    *last = 0;
                }
                Ok(rc)
            }
            ErrorText::Libbpf(message) => truncating_copy(message, out),
            ErrorText::Unknown(code) => {
                truncating_copy(&format!("Unknown libbpf error {code}"), out)?;
                Err(CError::quiet(libc::ENOENT))
            }
        }
    })
}

/// Copies `text` into `out` as a C string, truncating like snprintf; `-ERANGE` if truncated.
fn truncating_copy(text: &str, out: &mut [u8]) -> Result<c_int, CError> {
    let n = text.len().min(out.len().saturating_sub(1));
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
    if let Some(end) = out.get_mut(n) {
        *end = 0;
    }
    if n < text.len() {
        return Err(CError::quiet(libc::ERANGE));
    }
    Ok(0)
}
