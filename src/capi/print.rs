//! Delivery of diagnostics to libbpf's print callback (`libbpf_set_print`).
//!
//! The core reports through [`crate::log`]; this module installs the sink that hands each line
//! to the application's `libbpf_print_fn_t` (or to the default printer, which writes warnings
//! and info to stderr like libbpf's). Callbacks take a `va_list`, which stable Rust cannot
//! build, so the call goes through the C shim in `print_shim.c` with the format `"%s"`: a
//! message that contains `%` is printed verbatim, never interpreted as a format.
use std::ffi::{c_char, c_int, CString};
use std::sync::Once;

use parking_lot::Mutex;

/// Kept here so existing `crate::capi::print::{log, Level}` callers keep compiling.
pub use crate::log::{log, Level};

/// A C print callback. The real signature is
/// `int (*)(enum libbpf_print_level, const char *, va_list)`; Rust only stores the pointer
/// and hands it to the C shim, which calls it with the right signature.
pub type RawPrintFn = unsafe extern "C" fn();

/// `libbpf_print_fn_t` as it crosses the C ABI (NULL = printing disabled).
#[allow(non_camel_case_types)]
pub type libbpf_print_fn_t = Option<RawPrintFn>;

extern "C" {
    fn bpflink_shim_call_print(
        print_fn: RawPrintFn,
        level: c_int,
        fmt: *const c_char,
        ...
    ) -> c_int;
    fn bpflink_shim_default_print();
}

/// The installed callback. It starts as the default printer, which must be a genuine C
/// function so that `libbpf_set_print` can return it and callers can reinstall it.
static PRINT_FN: Mutex<Option<RawPrintFn>> =
    parking_lot::const_mutex(Some(bpflink_shim_default_print));

/// Routes [`crate::log`] output to the print callback. Called by every C entry point (through
/// the guard), so a C application's messages always reach its callback.
pub fn install_sink() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        crate::log::set_sink(Some(deliver));
    });
}

/// Installs `print_fn` and returns the previous callback (libbpf semantics; NULL disables).
pub fn set_print_fn(print_fn: libbpf_print_fn_t) -> libbpf_print_fn_t {
    install_sink();
    std::mem::replace(&mut *PRINT_FN.lock(), print_fn)
}

/// The sink: one formatted line to the callback.
fn deliver(level: Level, line: &str) {
    // Copy the pointer out so a callback that calls libbpf_set_print cannot deadlock.
    let Some(print_fn) = *PRINT_FN.lock() else {
        return;
    };
    let line = c_line(line);
    // SAFETY: print_fn is a C function with libbpf_print_fn_t's signature (the contract of
    // libbpf_set_print); the shim calls it with the format "%s" and one C string argument.
    unsafe {
        bpflink_shim_call_print(print_fn, level as c_int, c"%s".as_ptr(), line.as_ptr());
    }
}

/// The line as a C string; interior NUL bytes are escaped since a C string cannot carry them.
fn c_line(line: &str) -> CString {
    // The replace removes every NUL, so this cannot fail; fall back to an empty line.
    CString::new(line.replace('\0', "\\0")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_cannot_truncate_the_message() {
        assert_eq!(c_line("bpflink: a\0b\n").as_bytes(), b"bpflink: a\\0b\n");
    }
}
