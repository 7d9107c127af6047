//! The error every `bpf(2)` wrapper returns: which command failed and the errno it failed with.
use std::fmt;

/// A failed `bpf(2)` command (or a request the wrapper refused before issuing it, because a
/// buffer was too small for what the kernel would write into it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SysError {
    /// The command, spelled like the UAPI constant, e.g. `"BPF_PROG_LOAD"`.
    pub op: &'static str,
    /// The positive errno value.
    pub errno: i32,
    /// Why the wrapper refused the request itself; `None` when the kernel returned the error.
    pub detail: Option<String>,
}

impl SysError {
    /// An error the kernel returned for `op`.
    pub fn new(op: &'static str, errno: i32) -> Self {
        SysError { op, errno, detail: None }
    }

    /// The error of the syscall that just failed (reads `errno`).
    pub(crate) fn last(op: &'static str) -> Self {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
        SysError::new(op, errno)
    }

    /// A request refused by the wrapper (never sent to the kernel): reported as `EINVAL`.
    pub(crate) fn invalid(op: &'static str, detail: impl Into<String>) -> Self {
        SysError { op, errno: libc::EINVAL, detail: Some(detail.into()) }
    }

    /// The positive errno value.
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// Whether the error is `errno`.
    pub fn is(&self, errno: i32) -> bool {
        self.errno == errno
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {} ({})", self.op, strerror(self.errno), errno_name(self.errno))?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail} (refused before calling the kernel)")?;
        }
        Ok(())
    }
}

impl From<SysError> for std::io::Error {
    fn from(e: SysError) -> Self {
        std::io::Error::new(std::io::Error::from_raw_os_error(e.errno).kind(), e)
    }
}

/// The C library's message for `errno`, plus the kernel-internal codes user space sees from
/// `bpf(2)` but libc has no text for.
fn strerror(errno: i32) -> String {
    match errno {
        ENOTSUPP => "Operation not supported by this kernel".to_string(),
        _ => {
            let text = std::io::Error::from_raw_os_error(errno).to_string();
            // std appends " (os error N)"; the symbolic name is printed separately.
            match text.rfind(" (os error") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            }
        }
    }
}

/// Kernel-internal `ENOTSUPP`, which leaks to user space from several BPF paths.
pub const ENOTSUPP: i32 = 524;

/// Symbolic name of the errno values `bpf(2)` commonly returns; `errno N` for others.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        ENOTSUPP => "ENOTSUPP",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_command_message_and_symbol() {
        let text = SysError::new("BPF_PROG_LOAD", libc::EPERM).to_string();
        assert_eq!(text, "BPF_PROG_LOAD failed: Operation not permitted (EPERM)");
    }

    #[test]
    fn display_of_kernel_internal_enotsupp_is_readable() {
        let text = SysError::new("BPF_LINK_CREATE", ENOTSUPP).to_string();
        assert!(text.contains("not supported") && text.contains("ENOTSUPP"), "{text}");
    }

    #[test]
    fn refused_requests_say_so() {
        let e = SysError::invalid("BPF_MAP_LOOKUP_ELEM", "value buffer too small");
        assert_eq!(e.errno(), libc::EINVAL);
        assert!(e.to_string().contains("value buffer too small"));
    }
}
