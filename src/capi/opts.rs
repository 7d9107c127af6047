//! libbpf's extensible "opts" structs: every one starts with `size_t sz`, the size of the
//! struct the caller was compiled against.
//!
//! Rules (libbpf's `OPTS_VALID` / `OPTS_HAS` / `OPTS_GET`):
//! - a NULL opts pointer means "all defaults";
//! - `sz` smaller than `size_t` is invalid (`-EINVAL`);
//! - `sz` larger than the end of the last field we know is accepted only if every byte past
//!   that end is zero (a newer caller may use a field we don't implement only by leaving it 0);
//!   otherwise `-EINVAL`;
//! - a field that does not lie entirely within `sz` (an older, smaller caller) takes its
//!   default, and is never read: the caller's allocation may end right at `sz`.
//!
//! An opts struct is declared `#[repr(C)]` in Rust (so cbindgen emits it) and registered with
//! [`libbpf_opts!`], which lists its fields in order:
//! ```ignore
//! libbpf_opts!(bpf_test_opts { a, b, c });
//! let opts = unsafe { read_opts(ptr) }?;          // a validated, defaulted copy
//! unsafe { store_opts_field!(ptr, bpf_test_opts, c, 42) };  // output fields, if within sz
//! ```
use std::mem::size_of;

use super::guard::{CError, CResult};

/// An opts struct whose layout matches libbpf's.
///
/// # Safety
/// `LAST_FIELD_END` must be the end offset of the struct's last field, and
/// `copy_fields_within` must read only fields that lie entirely within `sz` bytes.
pub unsafe trait LibbpfOpts: Sized + Default {
    /// The struct's C name, for error messages.
    const NAME: &'static str;
    /// `offsetofend(type, last_field)`: the bytes this version of the struct defines.
    const LAST_FIELD_END: usize;
    /// Copies into `self` each field that lies entirely within the first `sz` bytes of `src`.
    ///
    /// # Safety
    /// `src` must point to at least `sz` readable bytes.
    unsafe fn copy_fields_within(&mut self, src: *const Self, sz: usize);
}

/// Validates a caller's opts struct and returns a copy with defaults for absent fields.
///
/// # Safety
/// `src` must be NULL or point to at least `src->sz` readable bytes.
pub unsafe fn read_opts<T: LibbpfOpts>(src: *const T) -> CResult<T> {
    let mut opts = T::default();
    if src.is_null() {
        return Ok(opts);
    }
    // SAFETY: every opts struct starts with a size_t the caller initialised.
    let sz = unsafe { src.cast::<usize>().read_unaligned() };
    // SAFETY: forwarded contract: sz bytes are readable.
    unsafe { validate_size(src.cast::<u8>(), sz, T::LAST_FIELD_END, T::NAME)? };
    // SAFETY: as above.
    unsafe { opts.copy_fields_within(src, sz) };
    Ok(opts)
}

/// The size checks of [`read_opts`], separate so they can be tested on raw bytes.
///
/// # Safety
/// `base` must point to at least `sz` readable bytes.
unsafe fn validate_size(base: *const u8, sz: usize, known_end: usize, name: &str) -> CResult<()> {
    if sz < size_of::<usize>() {
        return Err(CError::invalid(format!(
            "{name}: sz ({sz}) is smaller than size_t"
        )));
    }
    if sz > known_end {
        // SAFETY: bytes [known_end, sz) are within the caller's sz readable bytes.
        let tail = unsafe { std::slice::from_raw_parts(base.add(known_end), sz - known_end) };
        if let Some(pos) = tail.iter().position(|&b| b != 0) {
            return Err(CError::invalid(format!(
                "{name}: sz ({sz}) is larger than the {known_end} bytes this bpflink knows, \
                 and byte {} of the unknown tail is not zero",
                known_end + pos
            )));
        }
    }
    Ok(())
}

/// Whether a field ending at `field_end` is present in a caller's struct of size `sz`.
pub fn field_present(field_end: usize, sz: usize) -> bool {
    field_end <= sz
}

/// Registers a `#[repr(C)]` opts struct (fields after `sz`, in declaration order) as
/// [`LibbpfOpts`]. The last listed field defines the struct's known size.
#[macro_export]
macro_rules! libbpf_opts {
    ($ty:ident { $($field:ident),+ $(,)? }) => {
        // SAFETY: the field list is the struct's own; each read is bounds-checked against sz.
        unsafe impl $crate::capi::opts::LibbpfOpts for $ty {
            const NAME: &'static str = stringify!($ty);
            const LAST_FIELD_END: usize = {
                let ends = [$( $crate::capi::opts::__field_end!($ty, $field) ),+];
                ends[ends.len() - 1]
            };
            unsafe fn copy_fields_within(&mut self, src: *const Self, sz: usize) {
                $(
                    if $crate::capi::opts::field_present($crate::capi::opts::__field_end!($ty, $field), sz) {
                        // SAFETY: the field lies within the sz readable bytes at src.
                        self.$field = unsafe {
                            ::std::ptr::addr_of!((*src).$field).read_unaligned()
                        };
                    }
                )+
            }
        }
    };
}

/// `offsetofend(ty, field)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __libbpf_opts_field_end {
    ($ty:ident, $field:ident) => {
        ::std::mem::offset_of!($ty, $field) + {
            const fn size_of_field<F>(_: fn(&$ty) -> &F) -> usize {
                ::std::mem::size_of::<F>()
            }
            size_of_field(|s: &$ty| &s.$field)
        }
    };
}
#[doc(hidden)]
pub use __libbpf_opts_field_end as __field_end;
pub use libbpf_opts;

/// Writes an output field of a caller's opts struct, if the caller's struct has it
/// (libbpf's `OPTS_SET`). Evaluates to whether it was written.
///
/// # Safety
/// `$ptr` must be NULL or point to at least `$ptr->sz` writable bytes.
#[macro_export]
macro_rules! store_opts_field {
    ($ptr:expr, $ty:ident, $field:ident, $value:expr) => {{
        let ptr: *mut $ty = $ptr;
        if ptr.is_null() {
            false
        } else {
            let sz = ptr.cast::<usize>().read_unaligned();
            if $crate::capi::opts::field_present($crate::capi::opts::__field_end!($ty, $field), sz)
            {
                ::std::ptr::addr_of_mut!((*ptr).$field).write_unaligned($value);
                true
            } else {
                false
            }
        }
    }};
}
pub use store_opts_field;

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like a libbpf opts struct: a bool followed by padding, then wider fields.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct bpf_test_opts {
        sz: usize,
        flag: bool,
        count: u32,
        value: u64,
        out: u32,
    }

    impl Default for bpf_test_opts {
        fn default() -> Self {
            bpf_test_opts {
                sz: 0,
                flag: false,
                count: 7,
                value: 99,
                out: 0,
            }
        }
    }

    libbpf_opts!(bpf_test_opts {
        flag,
        count,
        value,
        out
    });

    /// A caller's opts in a buffer of exactly `sz` bytes (so reading past sz would be caught
    /// by the bounds of the Vec under Miri/ASan, and by construction here).
    fn caller_bytes(full: &bpf_test_opts, sz: usize, extra_tail: &[u8]) -> Vec<u64> {
        let mut bytes = vec![0u8; sz.max(size_of::<bpf_test_opts>())];
        let src = unsafe {
            std::slice::from_raw_parts(
                (full as *const bpf_test_opts).cast::<u8>(),
                size_of::<bpf_test_opts>(),
            )
        };
        let n = sz.min(src.len());
        bytes[..n].copy_from_slice(&src[..n]);
        bytes[..8].copy_from_slice(&sz.to_ne_bytes());
        let known = bpf_test_opts::LAST_FIELD_END;
        for (i, b) in extra_tail.iter().enumerate() {
            if known + i < bytes.len() {
                bytes[known + i] = *b;
            }
        }
        // u64 storage keeps the struct aligned.
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                words.as_mut_ptr().cast::<u8>(),
                bytes.len(),
            )
        };
        words
    }

    fn read(words: &[u64]) -> CResult<bpf_test_opts> {
        unsafe { read_opts(words.as_ptr().cast::<bpf_test_opts>()) }
    }

    const FULL: bpf_test_opts = bpf_test_opts {
        sz: 0,
        flag: true,
        count: 3,
        value: 5,
        out: 1,
    };

    #[test]
    fn last_field_end_is_offsetofend_not_sizeof() {
        assert_eq!(bpf_test_opts::LAST_FIELD_END, 28);
        assert_eq!(size_of::<bpf_test_opts>(), 32);
    }

    #[test]
    fn null_means_defaults() {
        let opts = unsafe { read_opts::<bpf_test_opts>(std::ptr::null()) }.unwrap();
        assert_eq!(opts, bpf_test_opts::default());
    }

    #[test]
    fn full_size_reads_every_field() {
        let opts = read(&caller_bytes(&FULL, 32, &[])).unwrap();
        assert_eq!(
            (opts.flag, opts.count, opts.value, opts.out),
            (true, 3, 5, 1)
        );
    }

    #[test]
    fn smaller_caller_gets_defaults_for_missing_fields() {
        // sz 20 covers flag and count, and half of value: value must take its default.
        let opts = read(&caller_bytes(&FULL, 20, &[])).unwrap();
        assert_eq!(
            (opts.flag, opts.count, opts.value, opts.out),
            (true, 3, 99, 0)
        );
    }

    #[test]
    fn larger_caller_with_zero_tail_is_accepted() {
        assert!(read(&caller_bytes(&FULL, 48, &[])).is_ok());
    }

    #[test]
    fn nonzero_tail_is_rejected_even_in_trailing_padding() {
        let err = read(&caller_bytes(&FULL, 32, &[0, 0, 1])).unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
        assert!(err.message.unwrap().contains("byte 30"));
        assert!(read(&caller_bytes(&FULL, 48, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9])).is_err());
    }

    #[test]
    fn size_below_size_t_is_rejected() {
        let words = [4u64, 0, 0, 0];
        assert_eq!(read(&words).unwrap_err().errno, libc::EINVAL);
    }

    #[test]
    fn output_field_written_only_when_present() {
        let mut words = caller_bytes(&FULL, 32, &[]);
        let p = words.as_mut_ptr().cast::<bpf_test_opts>();
        assert!(unsafe { store_opts_field!(p, bpf_test_opts, out, 77) });
        assert_eq!(read(&words).unwrap().out, 77);
        let mut small = caller_bytes(&FULL, 24, &[]);
        let p = small.as_mut_ptr().cast::<bpf_test_opts>();
        assert!(!unsafe { store_opts_field!(p, bpf_test_opts, out, 77) });
        assert_eq!(small[3], 0);
    }
}
