//! The raw `bpf(2)` entry point and the attribute buffer it takes.
use std::ffi::c_long;
use std::os::fd::{FromRawFd, OwnedFd};

use super::error::SysError;
use super::fault;
use super::uapi::{self, bpf_cmd};

/// Bytes of attribute buffer handed to the kernel at most. Larger than the 6.1 `union bpf_attr`
/// so that fields later kernels appended (see [`uapi::newer`]) fit behind it.
pub const ATTR_BUF_SIZE: usize = 256;

const _: () = assert!(std::mem::size_of::<uapi::bpf_attr>() <= ATTR_BUF_SIZE);

/// `union bpf_attr` as the kernel reads it: the bindgen layout of the build machine's headers,
/// followed by zeroed room for fields that newer kernels added at the end of a command's struct.
#[repr(C)]
pub union Attr {
    attr: uapi::bpf_attr,
    bytes: [u8; ATTR_BUF_SIZE],
    // Keeps the 8-byte alignment the kernel's `__aligned_u64` fields assume.
    _align: [u64; ATTR_BUF_SIZE / 8],
}

impl Attr {
    /// An all-zero buffer. The kernel requires every byte a command does not use to be zero,
    /// padding included, so fields are written one by one into it (through [`Attr::get_mut`]),
    /// never copied in as whole structs whose padding bytes are undefined.
    pub fn zeroed() -> Self {
        Attr { bytes: [0; ATTR_BUF_SIZE] }
    }

    /// The 6.1-layout view, for reading output fields the kernel wrote back.
    pub fn get(&self) -> &uapi::bpf_attr {
        // SAFETY: every bit pattern is a valid `bpf_attr` (integers and integer arrays only).
        unsafe { &self.attr }
    }

    /// The 6.1-layout view, for setting a command's fields.
    pub fn get_mut(&mut self) -> &mut uapi::bpf_attr {
        // SAFETY: as for `get`; writes through it keep the byte view valid too.
        unsafe { &mut self.attr }
    }

    /// Writes a `u32` field that the build machine's headers lack, at its byte offset in
    /// `union bpf_attr` (offsets are defined in [`uapi::newer`]).
    pub fn set_u32(&mut self, offset: usize, value: u32) {
        self.set_bytes(offset, &value.to_ne_bytes());
    }

    /// Writes a `u64` field that the build machine's headers lack (see [`Attr::set_u32`]).
    pub fn set_u64(&mut self, offset: usize, value: u64) {
        self.set_bytes(offset, &value.to_ne_bytes());
    }

    /// Reads back a `u32` field that the build machine's headers lack.
    pub fn get_u32(&self, offset: usize) -> u32 {
        // SAFETY: every bit pattern is a valid byte array.
        let bytes = unsafe { &self.bytes };
        let mut out = [0u8; 4];
        if let Some(src) = bytes.get(offset..offset + 4) {
            out.copy_from_slice(src);
        }
        u32::from_ne_bytes(out)
    }

    fn set_bytes(&mut self, offset: usize, value: &[u8]) {
        // SAFETY: every bit pattern is a valid byte array; writing bytes keeps `attr` valid too.
        let bytes = unsafe { &mut self.bytes };
        // Offsets are compile-time constants from `uapi::newer`; an out-of-range one is a bug
        // in this module and is caught by its unit tests, so it is ignored rather than fatal.
        if let Some(dst) = bytes.get_mut(offset..offset + value.len()) {
            dst.copy_from_slice(value);
        }
    }
}

/// Issues `bpf(cmd, attr, size)` and returns the syscall's non-negative result.
/// Goes through [`fault`] injection when a test armed it (one atomic load otherwise).
///
/// `size` is the number of attribute bytes the command uses (the end of the last field set);
/// it is clamped to the buffer. The wrapper functions of this module are the safe interface.
///
/// # Safety
/// Every pointer stored in `attr` must be valid for what the kernel does with it for `cmd`:
/// readable for the length given next to it, or writable for the length the kernel writes.
pub unsafe fn bpf(cmd: bpf_cmd::Type, attr: &mut Attr, size: usize) -> Result<c_long, SysError> {
    if fault::enabled() {
        // SAFETY: forwarded to the caller.
        return fault::intercept(cmd, || unsafe { syscall(cmd, attr, size) });
    }
    // SAFETY: forwarded to the caller.
    unsafe { syscall(cmd, attr, size) }
}

/// The `bpf(2)` syscall itself (see [`bpf`]).
///
/// # Safety
/// As for [`bpf`].
unsafe fn syscall(cmd: bpf_cmd::Type, attr: &mut Attr, size: usize) -> Result<c_long, SysError> {
    let size = size.min(ATTR_BUF_SIZE);
    let attr_ptr: *mut Attr = attr;
    // SAFETY: `attr` points to `ATTR_BUF_SIZE` initialised bytes and `size` does not exceed
    // them; the pointers inside are the caller's responsibility.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd as c_long, attr_ptr, size as c_long) };
    if ret < 0 {
        return Err(SysError::last(cmd_name(cmd)));
    }
    Ok(ret)
}

/// Issues a command that returns a new file descriptor and takes ownership of it.
///
/// # Safety
/// As for [`bpf`].
pub(crate) unsafe fn bpf_fd(cmd: bpf_cmd::Type, attr: &mut Attr, size: usize) -> Result<OwnedFd, SysError> {
    // SAFETY: forwarded to the caller.
    let ret = unsafe { bpf(cmd, attr, size)? };
    let fd = i32::try_from(ret).map_err(|_| SysError::invalid(cmd_name(cmd), "kernel returned an out-of-range fd"))?;
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `&mut` to one command's member of the zeroed attribute buffer `$buf`.
macro_rules! member {
    ($buf:expr, $field:ident) => {{
        let attr = $buf.get_mut();
        // SAFETY: every member of `union bpf_attr` is plain integers; any bit pattern is valid.
        unsafe { &mut attr.$field }
    }};
}
pub(crate) use member;

/// `offsetofend(T, field)`: the attribute size that covers a command's fields up to `field`.
macro_rules! attr_size {
    ($ty:ty, $($field:tt).+) => {{
        let probe = <$ty>::default();
        std::mem::offset_of!($ty, $($field).+) + std::mem::size_of_val(&probe.$($field).+)
    }};
}
pub(crate) use attr_size;

/// The UAPI name of a command, used in error messages.
pub fn cmd_name(cmd: bpf_cmd::Type) -> &'static str {
    use bpf_cmd::*;
    match cmd {
        BPF_MAP_CREATE => "BPF_MAP_CREATE",
        BPF_MAP_LOOKUP_ELEM => "BPF_MAP_LOOKUP_ELEM",
        BPF_MAP_UPDATE_ELEM => "BPF_MAP_UPDATE_ELEM",
        BPF_MAP_DELETE_ELEM => "BPF_MAP_DELETE_ELEM",
        BPF_MAP_GET_NEXT_KEY => "BPF_MAP_GET_NEXT_KEY",
        BPF_PROG_LOAD => "BPF_PROG_LOAD",
        BPF_OBJ_PIN => "BPF_OBJ_PIN",
        BPF_OBJ_GET => "BPF_OBJ_GET",
        BPF_PROG_ATTACH => "BPF_PROG_ATTACH",
        BPF_PROG_DETACH => "BPF_PROG_DETACH",
        BPF_PROG_TEST_RUN => "BPF_PROG_TEST_RUN",
        BPF_PROG_GET_NEXT_ID => "BPF_PROG_GET_NEXT_ID",
        BPF_MAP_GET_NEXT_ID => "BPF_MAP_GET_NEXT_ID",
        BPF_PROG_GET_FD_BY_ID => "BPF_PROG_GET_FD_BY_ID",
        BPF_MAP_GET_FD_BY_ID => "BPF_MAP_GET_FD_BY_ID",
        BPF_OBJ_GET_INFO_BY_FD => "BPF_OBJ_GET_INFO_BY_FD",
        BPF_PROG_QUERY => "BPF_PROG_QUERY",
        BPF_RAW_TRACEPOINT_OPEN => "BPF_RAW_TRACEPOINT_OPEN",
        BPF_BTF_LOAD => "BPF_BTF_LOAD",
        BPF_BTF_GET_FD_BY_ID => "BPF_BTF_GET_FD_BY_ID",
        BPF_TASK_FD_QUERY => "BPF_TASK_FD_QUERY",
        BPF_MAP_LOOKUP_AND_DELETE_ELEM => "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
        BPF_MAP_FREEZE => "BPF_MAP_FREEZE",
        BPF_BTF_GET_NEXT_ID => "BPF_BTF_GET_NEXT_ID",
        BPF_MAP_LOOKUP_BATCH => "BPF_MAP_LOOKUP_BATCH",
        BPF_MAP_LOOKUP_AND_DELETE_BATCH => "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
        BPF_MAP_UPDATE_BATCH => "BPF_MAP_UPDATE_BATCH",
        BPF_MAP_DELETE_BATCH => "BPF_MAP_DELETE_BATCH",
        BPF_LINK_CREATE => "BPF_LINK_CREATE",
        BPF_LINK_UPDATE => "BPF_LINK_UPDATE",
        BPF_LINK_GET_FD_BY_ID => "BPF_LINK_GET_FD_BY_ID",
        BPF_LINK_GET_NEXT_ID => "BPF_LINK_GET_NEXT_ID",
        BPF_ENABLE_STATS => "BPF_ENABLE_STATS",
        BPF_ITER_CREATE => "BPF_ITER_CREATE",
        BPF_LINK_DETACH => "BPF_LINK_DETACH",
        BPF_PROG_BIND_MAP => "BPF_PROG_BIND_MAP",
        uapi::newer::BPF_TOKEN_CREATE => "BPF_TOKEN_CREATE",
        _ => "BPF_(unknown command)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_keeps_unused_bytes_zero() {
        let a = Attr::zeroed();
        // SAFETY: reading the byte view of a fully initialised union.
        assert!(unsafe { a.bytes }.iter().all(|&b| b == 0));
    }

    #[test]
    fn newer_fields_round_trip_through_the_buffer() {
        let mut a = Attr::zeroed();
        a.set_u32(140, 0xdead_beef);
        assert_eq!(a.get_u32(140), 0xdead_beef);
        assert_eq!(a.get_u32(ATTR_BUF_SIZE), 0, "out-of-range reads yield zero");
    }
}
