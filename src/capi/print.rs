//! Logging through libbpf's print callback (`libbpf_set_print`).
//!
//! Every module of the crate reports diagnostics with [`log`]; the message reaches the
//! application's `libbpf_print_fn_t` (or the default printer, which writes warnings and info
//! to stderr like libbpf's). Callbacks take a `va_list`, which stable Rust cannot build, so
//! the call goes through the C shim in `print_shim.c` with the format `"%s"`: a message that
//! contains `%` is printed verbatim, never interpreted as a format.
use std::ffi::{c_char, c_int, CString};

use parking_lot::Mutex;

/// libbpf's `enum libbpf_print_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    Warn = 0,
    Info = 1,
    Debug = 2,
}

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

/// Installs `print_fn` and returns the previous callback (libbpf semantics; NULL disables).
pub fn set_print_fn(print_fn: libbpf_print_fn_t) -> libbpf_print_fn_t {
    std::mem::replace(&mut *PRINT_FN.lock(), print_fn)
}

/// Sends one diagnostic line to the application's print callback.
///
/// The message is prefixed with `bpflink: ` and terminated with a newline (like libbpf's
/// `pr_warn`/`pr_info`/`pr_debug`), so callers pass a bare sentence. Interior NUL bytes
/// are replaced, since a C string cannot carry them.
pub fn log(level: Level, message: &str) {
    // Copy the pointer out so a callback that calls libbpf_set_print cannot deadlock.
    let Some(print_fn) = *PRINT_FN.lock() else {
        return;
    };
    let line = format_line(message);
    // SAFETY: print_fn is a C function with libbpf_print_fn_t's signature (the contract of
    // libbpf_set_print); the shim calls it with the format "%s" and one C string argument.
    unsafe {
        bpflink_shim_call_print(print_fn, level as c_int, c"%s".as_ptr(), line.as_ptr());
    }
}

/// `bpflink: <message>\n` as a C string.
fn format_line(message: &str) -> CString {
    let mut line = String::with_capacity(message.len() + 10);
    line.push_str("bpflink: ");
    line.push_str(&message.replace('\0', "\\0"));
    if !line.ends_with('\n') {
        line.push('\n');
    }
    // The replace above removed every NUL, so this cannot fail; fall back to an empty line.
    CString::new(line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_gets_prefix_and_single_newline() {
        assert_eq!(
            format_line("map x: bad size").as_bytes(),
            b"bpflink: map x: bad size\n"
        );
        assert_eq!(format_line("done\n").as_bytes(), b"bpflink: done\n");
    }

    #[test]
    fn nul_bytes_cannot_truncate_the_message() {
        assert_eq!(format_line("a\0b").as_bytes(), b"bpflink: a\\0b\n");
    }
}
