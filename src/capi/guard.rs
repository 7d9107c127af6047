//! The one way into Rust from C: [`call`] runs an entry point's body under a panic guard and
//! turns its outcome into libbpf's error conventions.
//!
//! - int-returning APIs return `-errno` and set `errno`;
//! - pointer-returning APIs return NULL and set `errno`;
//! - a failure that deserves an explanation is logged through the print callback;
//! - a panic (a bug in bpflink) never unwinds into C: it is logged as an internal error and
//!   reported as `LIBBPF_ERRNO__INTERNAL`, the code libbpf uses for its own bugs.
//!
//! Entry points look like:
//! ```ignore
//! #[no_mangle]
//! pub unsafe extern "C" fn bpf_object__name(obj: *const bpf_object) -> *const c_char {
//!     call("bpf_object__name", || Ok(handle_ref(obj, "obj")?.name_ptr()))
//! }
//! ```
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_long, c_uint, c_void, CStr};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use super::print::{log, Level};

/// libbpf's `LIBBPF_ERRNO__INTERNAL` ("Internal error in libbpf").
pub const LIBBPF_ERRNO_INTERNAL: c_int = 4004;

/// A failure to report across the C ABI: the errno value, and a sentence for the print
/// callback when the failure is worth explaining (expected outcomes such as "no next key"
/// stay quiet, as in libbpf).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CError {
    pub errno: c_int,
    pub message: Option<String>,
}

impl CError {
    /// A failure that is reported only through the return value and errno.
    pub fn quiet(errno: c_int) -> CError {
        CError {
            errno,
            message: None,
        }
    }

    /// A failure that is also logged as a warning.
    pub fn new(errno: c_int, message: impl Into<String>) -> CError {
        CError {
            errno,
            message: Some(message.into()),
        }
    }

    /// `EINVAL` with an explanation: the usual answer to bad arguments.
    pub fn invalid(message: impl Into<String>) -> CError {
        CError::new(libc::EINVAL, message)
    }
}

impl From<crate::object::ObjectError> for CError {
    fn from(err: crate::object::ObjectError) -> CError {
        CError::new(err.errno(), err.to_string())
    }
}

pub type CResult<T> = Result<T, CError>;

/// How an entry point's return type expresses failure.
pub trait CReturn: Sized {
    /// The value returned to C when the call fails with `errno` (a positive errno value).
    fn failure(errno: c_int) -> Self;
}

impl CReturn for c_int {
    fn failure(errno: c_int) -> c_int {
        errno.saturating_neg()
    }
}

impl CReturn for c_long {
    fn failure(errno: c_int) -> c_long {
        -c_long::from(errno)
    }
}

impl<T> CReturn for *mut T {
    fn failure(_: c_int) -> *mut T {
        std::ptr::null_mut()
    }
}

impl<T> CReturn for *const T {
    fn failure(_: c_int) -> *const T {
        std::ptr::null()
    }
}

/// Getters that cannot report errors in libbpf (sizes, counts, flags) return 0 on failure.
impl CReturn for c_uint {
    fn failure(_: c_int) -> c_uint {
        0
    }
}

impl CReturn for usize {
    fn failure(_: c_int) -> usize {
        0
    }
}

impl CReturn for u64 {
    fn failure(_: c_int) -> u64 {
        0
    }
}

impl CReturn for bool {
    fn failure(_: c_int) -> bool {
        false
    }
}

/// Function pointers (`libbpf_set_print`'s result) are NULL on failure.
impl CReturn for Option<unsafe extern "C" fn()> {
    fn failure(_: c_int) -> Self {
        None
    }
}

impl CReturn for () {
    fn failure(_: c_int) {}
}

/// Runs the body of the C entry point `api` under the panic guard and converts its result.
pub fn call<R: CReturn>(api: &'static str, body: impl FnOnce() -> CResult<R>) -> R {
    install_panic_hook();
    super::print::install_sink();
    let outcome = {
        let _inside = GuardDepth::enter();
        panic::catch_unwind(AssertUnwindSafe(body))
    };
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => fail(api, err),
        Err(payload) => {
            let what = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| payload_text(&*payload));
            fail(
                api,
                CError::new(
                    LIBBPF_ERRNO_INTERNAL,
                    format!("internal error (a bug in bpflink): {what}"),
                ),
            )
        }
    }
}

fn fail<R: CReturn>(api: &str, err: CError) -> R {
    if let Some(message) = &err.message {
        log(Level::Warn, &format!("{api}: {message}"));
    }
    set_errno(err.errno);
    R::failure(err.errno)
}

/// Sets the calling thread's `errno`.
pub fn set_errno(value: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot, always valid.
    unsafe { *libc::__errno_location() = value }
}

/// Reads the calling thread's `errno`.
pub fn errno() -> c_int {
    // SAFETY: as in set_errno.
    unsafe { *libc::__errno_location() }
}

thread_local! {
    /// How many guarded calls are active on this thread (callbacks can nest them).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Where and why the last guarded panic happened, recorded by the hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

struct GuardDepth;

impl GuardDepth {
    fn enter() -> GuardDepth {
        DEPTH.with(|d| d.set(d.get().saturating_add(1)));
        GuardDepth
    }
}

impl Drop for GuardDepth {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Panics inside a guarded call are reported through the print callback, so the default
/// hook's stderr output is suppressed for them; panics elsewhere (e.g. in a Rust program
/// using the rlib) still reach the previous hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) == 0 {
                previous(info);
                return;
            }
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let text = format!("{}{location}", payload_text(info.payload()));
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
        }));
    });
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Argument checks shared by all entry points.
///
/// A non-NULL C string argument, as UTF-8 (`what` names the parameter in the error).
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives `'a`.
pub unsafe fn c_str<'a>(ptr: *const c_char, what: &str) -> CResult<&'a CStr> {
    if ptr.is_null() {
        return Err(CError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// A C string argument that must be UTF-8 (names, section names).
///
/// # Safety
/// As [`c_str`].
pub unsafe fn c_utf8<'a>(ptr: *const c_char, what: &str) -> CResult<&'a str> {
    // SAFETY: forwarded contract.
    let s = unsafe { c_str(ptr, what)? };
    s.to_str()
        .map_err(|_| CError::invalid(format!("{what} is not valid UTF-8")))
}

/// A filesystem path argument (any bytes but NUL).
///
/// # Safety
/// As [`c_str`].
pub unsafe fn c_path<'a>(ptr: *const c_char, what: &str) -> CResult<&'a std::path::Path> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: forwarded contract.
    let s = unsafe { c_str(ptr, what)? };
    Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(
        s.to_bytes(),
    )))
}

/// A shared reference to an opaque handle the library handed out earlier.
///
/// # Safety
/// `ptr` must be NULL or a live handle of type `T` created by this library.
pub unsafe fn handle_ref<'a, T>(ptr: *const T, what: &str) -> CResult<&'a T> {
    // SAFETY: per the caller's contract a non-NULL ptr is a live T.
    unsafe { ptr.as_ref() }.ok_or_else(|| CError::invalid(format!("{what} is NULL")))
}

/// An exclusive reference to an opaque handle the library handed out earlier.
///
/// # Safety
/// `ptr` must be NULL or a live handle of type `T` created by this library, not aliased for `'a`.
pub unsafe fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> CResult<&'a mut T> {
    // SAFETY: per the caller's contract a non-NULL ptr is a live, unaliased T.
    unsafe { ptr.as_mut() }.ok_or_else(|| CError::invalid(format!("{what} is NULL")))
}

/// A non-NULL out-parameter.
pub fn out_ptr<T>(ptr: *mut T, what: &str) -> CResult<*mut T> {
    if ptr.is_null() {
        return Err(CError::invalid(format!("{what} is NULL")));
    }
    Ok(ptr)
}

/// A readable byte buffer argument; NULL is accepted only when `len` is 0.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable bytes that outlive `'a`.
pub unsafe fn byte_slice<'a>(ptr: *const c_void, len: usize, what: &str) -> CResult<&'a [u8]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(CError::invalid(format!("{what} is NULL")))
        };
    }
    // SAFETY: per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_error_is_negative_errno_and_sets_errno() {
        set_errno(0);
        let rc: c_int = call("t", || Err(CError::quiet(libc::ENOENT)));
        assert_eq!(rc, -libc::ENOENT);
        assert_eq!(errno(), libc::ENOENT);
    }

    #[test]
    fn pointer_error_is_null_and_sets_errno() {
        set_errno(0);
        let p: *mut u8 = call("t", || Err(CError::quiet(libc::E2BIG)));
        assert!(p.is_null());
        assert_eq!(errno(), libc::E2BIG);
    }

    #[test]
    fn success_leaves_errno_alone() {
        set_errno(123);
        let rc: c_int = call("t", || Ok(7));
        assert_eq!((rc, errno()), (7, 123));
    }

    #[test]
    fn panic_becomes_internal_error() {
        let rc: c_int = call("t", || -> CResult<c_int> { panic!("boom") });
        assert_eq!(rc, -LIBBPF_ERRNO_INTERNAL);
        assert_eq!(errno(), LIBBPF_ERRNO_INTERNAL);
        let p: *const u8 = call("t", || -> CResult<*const u8> { todo!("not yet") });
        assert!(p.is_null());
    }

    #[test]
    fn null_arguments_are_rejected_with_their_name() {
        let err = unsafe { c_str(std::ptr::null(), "path") }.unwrap_err();
        assert_eq!(err, CError::invalid("path is NULL"));
        let err = unsafe { byte_slice(std::ptr::null(), 4, "buf") }.unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
        assert!(unsafe { byte_slice(std::ptr::null(), 0, "buf") }
            .unwrap()
            .is_empty());
    }

    #[test]
    fn non_utf8_name_is_rejected() {
        let bytes = b"\xff\xfe\0";
        let err = unsafe { c_utf8(bytes.as_ptr().cast(), "name") }.unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
        let path = unsafe { c_path(bytes.as_ptr().cast(), "path") }.unwrap();
        assert_eq!(path.as_os_str().len(), 2);
    }
}
