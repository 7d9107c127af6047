//! `BPF_OBJ_GET_INFO_BY_FD` for programs, maps, links and BTF objects.
//!
//! The kernel fills `min(its struct size, ours)` bytes and leaves the rest as we passed it, so a
//! kernel older or newer than the headers is handled by zero-initialising the struct.
use std::os::fd::{AsRawFd, BorrowedFd};

use super::error::SysError;
use super::raw::{attr_size, bpf, member, Attr};
use super::uapi::{self, bpf_cmd};

mod sealed {
    pub trait Sealed {}
}

/// An info struct of `BPF_OBJ_GET_INFO_BY_FD`. Implemented for the four UAPI info structs only:
/// zero-initialised, none of them asks the kernel to write through a pointer.
pub trait ObjInfo: sealed::Sealed + Default + Copy {}

macro_rules! obj_info {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl ObjInfo for $t {}
    )*};
}
obj_info!(uapi::bpf_prog_info, uapi::bpf_map_info, uapi::bpf_link_info, uapi::bpf_btf_info);

/// `BPF_OBJ_GET_INFO_BY_FD`: the info of the program, map, link or BTF object behind `fd`
/// (`EINVAL` if `T` is the wrong kind for it). Array fields (map ids, instructions, names
/// behind pointers) are not fetched; see [`prog_map_ids`] and [`btf_data`].
pub fn obj_get_info_by_fd<T: ObjInfo>(fd: BorrowedFd<'_>) -> Result<T, SysError> {
    let mut info = T::default();
    let mut len = std::mem::size_of::<T>() as u32;
    // SAFETY: `info` is writable for `len` bytes and, zero-initialised, holds no pointers.
    unsafe { obj_get_info_by_fd_raw(fd, (&mut info as *mut T).cast(), &mut len)? };
    Ok(info)
}

/// `BPF_OBJ_GET_INFO_BY_FD` into a caller-provided buffer of `*len` bytes; on return `*len`
/// holds the bytes the kernel filled. For the C ABI, whose callers pass pointers inside `info`.
///
/// # Safety
/// `info` must be writable for `*len` bytes, and every pointer/length pair inside it must be
/// valid for the kernel to write.
pub unsafe fn obj_get_info_by_fd_raw(fd: BorrowedFd<'_>, info: *mut u8, len: &mut u32) -> Result<(), SysError> {
    let mut attr = Attr::zeroed();
    let i = member!(attr, info);
    i.bpf_fd = fd.as_raw_fd() as u32;
    i.info_len = *len;
    i.info = info as u64;
    // SAFETY: forwarded to the caller.
    unsafe { bpf(bpf_cmd::BPF_OBJ_GET_INFO_BY_FD, &mut attr, attr_size!(uapi::bpf_attr__bindgen_ty_9, info))? };
    // SAFETY: the `info` member is plain integers.
    *len = unsafe { attr.get().info.info_len };
    Ok(())
}

/// Ids of the maps a loaded program uses (`bpf_prog_info.map_ids`).
pub fn prog_map_ids(prog: BorrowedFd<'_>) -> Result<Vec<u32>, SysError> {
    let count = obj_get_info_by_fd::<uapi::bpf_prog_info>(prog)?.nr_map_ids;
    let mut ids = vec![0u32; count as usize];
    let mut info = uapi::bpf_prog_info { nr_map_ids: count, map_ids: ids.as_mut_ptr() as u64, ..Default::default() };
    let mut len = std::mem::size_of_val(&info) as u32;
    // SAFETY: `map_ids` points to `count` writable u32s; no other pointer is set.
    unsafe { obj_get_info_by_fd_raw(prog, (&mut info as *mut uapi::bpf_prog_info).cast(), &mut len)? };
    // Maps can't be added to a loaded program, but never trust a count that grew.
    ids.truncate(info.nr_map_ids.min(count) as usize);
    Ok(ids)
}

/// The raw BTF blob (header, types, strings) of a loaded BTF object.
pub fn btf_data(btf: BorrowedFd<'_>) -> Result<Vec<u8>, SysError> {
    let size = obj_get_info_by_fd::<uapi::bpf_btf_info>(btf)?.btf_size;
    let mut data = vec![0u8; size as usize];
    let mut info = uapi::bpf_btf_info { btf: data.as_mut_ptr() as u64, btf_size: size, ..Default::default() };
    let mut len = std::mem::size_of_val(&info) as u32;
    // SAFETY: `btf` points to `size` writable bytes; no other pointer is set.
    unsafe { obj_get_info_by_fd_raw(btf, (&mut info as *mut uapi::bpf_btf_info).cast(), &mut len)? };
    Ok(data)
}

/// The name of a loaded BTF object (`"vmlinux"`, a module name, or empty for user-loaded BTF).
pub fn btf_name(btf: BorrowedFd<'_>) -> Result<String, SysError> {
    let mut name = [0u8; 64];
    let mut info = uapi::bpf_btf_info {
        name: name.as_mut_ptr() as u64,
        name_len: name.len() as u32,
        ..Default::default()
    };
    let mut len = std::mem::size_of_val(&info) as u32;
    // SAFETY: `name` points to `name_len` writable bytes; no other pointer is set.
    unsafe { obj_get_info_by_fd_raw(btf, (&mut info as *mut uapi::bpf_btf_info).cast(), &mut len)? };
    Ok(c_chars_to_string(&name))
}

/// A NUL-terminated name from a fixed-size kernel buffer (`prog_info.name` and the like).
pub fn c_chars_to_string<C: Copy + Into<i16>>(chars: &[C]) -> String {
    let bytes: Vec<u8> = chars.iter().map(|&c| c.into() as u8).take_while(|&b| b != 0).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
