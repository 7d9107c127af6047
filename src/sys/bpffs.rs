//! The BPF filesystem, where objects are pinned.
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::uapi::BPF_FS_MAGIC;

/// Where bpffs is conventionally mounted.
pub const DEFAULT_BPFFS: &str = "/sys/fs/bpf";

/// Whether `path` is on a bpffs (its filesystem magic is `BPF_FS_MAGIC`).
pub fn is_bpffs(path: &Path) -> io::Result<bool> {
    let c = c_path(path)?;
    let mut st: libc::statfs = unsafe_zeroed_statfs();
    // SAFETY: `c` is NUL-terminated and `st` is a writable statfs.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_type as u64 == BPF_FS_MAGIC as u64)
}

/// Mounts a bpffs at `path` (creating the directory) unless one is mounted there already.
/// Returns whether this call mounted it. Needs CAP_SYS_ADMIN.
pub fn ensure_mounted(path: &Path) -> io::Result<bool> {
    if path.is_dir() && is_bpffs(path)? {
        return Ok(false);
    }
    std::fs::create_dir_all(path)?;
    let target = c_path(path)?;
    // SAFETY: all strings are NUL-terminated; no mount data is passed.
    let rc = unsafe { libc::mount(c"bpf".as_ptr(), target.as_ptr(), c"bpf".as_ptr(), 0, std::ptr::null()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(true)
}

/// Mounts bpffs at [`DEFAULT_BPFFS`] if it is not mounted (see [`ensure_mounted`]).
pub fn ensure_default_mounted() -> io::Result<bool> {
    ensure_mounted(Path::new(DEFAULT_BPFFS))
}

/// Unmounts the filesystem at `path` (e.g. a private bpffs a test mounted).
pub fn unmount(path: &Path) -> io::Result<()> {
    let c = c_path(path)?;
    // SAFETY: `c` is NUL-terminated.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn unsafe_zeroed_statfs() -> libc::statfs {
    // SAFETY: statfs is plain integers; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}
