//! libbpf's error codes beyond errno (`enum libbpf_errno`, 4000 and up) and their messages.
use std::ffi::c_int;

/// First libbpf-specific error code (`__LIBBPF_ERRNO__START`).
pub const LIBBPF_ERRNO_START: c_int = 4000;

/// Message of each libbpf-specific code, indexed from [`LIBBPF_ERRNO_START`]. libbpf 1.x has
/// no text for `LIBBPF_ERRNO__LOAD` (4006); libbpf_strerror prints "(null)" for it, and so do we.
const MESSAGES: [Option<&str>; 14] = [
    Some("Something wrong in libelf"),
    Some("BPF object format invalid"),
    Some("'version' section incorrect or lost"),
    Some("Endian mismatch"),
    Some("Internal error in libbpf"),
    Some("Relocation failed"),
    None,
    Some("Kernel verifier blocks program loading"),
    Some("Program too big"),
    Some("Incorrect kernel version"),
    Some("Kernel doesn't support this program type"),
    Some("Wrong pid in netlink message"),
    Some("Invalid netlink sequence"),
    Some("Incorrect netlink message parsing"),
];

/// What `libbpf_strerror` says about a (positive) error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorText {
    /// An ordinary errno value: described by the C library.
    Errno(c_int),
    /// A libbpf-specific code with its message.
    Libbpf(&'static str),
    /// Beyond the libbpf range.
    Unknown(c_int),
}

/// Classifies `err` (sign ignored, as libbpf does).
pub fn error_text(err: c_int) -> ErrorText {
    // libbpf negates negative codes; INT_MIN stays negative and is treated as an errno value.
    let err = err.wrapping_abs();
    if err < LIBBPF_ERRNO_START {
        return ErrorText::Errno(err);
    }
    let index = usize::try_from(err - LIBBPF_ERRNO_START).unwrap_or(usize::MAX);
    match MESSAGES.get(index) {
        Some(text) => ErrorText::Libbpf(text.unwrap_or("(null)")),
        None => ErrorText::Unknown(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_ranges() {
        assert_eq!(error_text(-2), ErrorText::Errno(2));
        assert_eq!(
            error_text(4001),
            ErrorText::Libbpf("BPF object format invalid")
        );
        assert_eq!(
            error_text(-4013),
            ErrorText::Libbpf("Incorrect netlink message parsing")
        );
        assert_eq!(error_text(4014), ErrorText::Unknown(4014));
        assert_eq!(error_text(c_int::MIN), ErrorText::Errno(c_int::MIN));
    }

    #[test]
    fn internal_code_matches_the_guard() {
        assert_eq!(
            error_text(super::super::guard::LIBBPF_ERRNO_INTERNAL),
            ErrorText::Libbpf("Internal error in libbpf")
        );
    }
}
