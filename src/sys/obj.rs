//! Object commands: pinning on bpffs and walking/opening objects by id.
use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::error::SysError;
use super::raw::{attr_size, bpf, bpf_fd, cmd_name, member, Attr};
use super::uapi::{self, bpf_cmd};

/// `BPF_OBJ_PIN`: pins the object behind `fd` at `path` on a bpffs.
pub fn obj_pin(fd: BorrowedFd<'_>, path: &Path) -> Result<(), SysError> {
    let path = c_path(bpf_cmd::BPF_OBJ_PIN, path)?;
    let mut buf = Attr::zeroed();
    let o = member!(buf, __bindgen_anon_4);
    o.pathname = path.as_ptr() as u64;
    o.bpf_fd = fd.as_raw_fd() as u32;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_5, file_flags);
    // SAFETY: `pathname` is a NUL-terminated string that outlives the call.
    unsafe { bpf(bpf_cmd::BPF_OBJ_PIN, &mut buf, size) }.map(drop)
}

/// `BPF_OBJ_GET`: opens the object pinned at `path`; `file_flags` is 0, `BPF_F_RDONLY` or
/// `BPF_F_WRONLY`.
pub fn obj_get(path: &Path, file_flags: u32) -> Result<OwnedFd, SysError> {
    let path = c_path(bpf_cmd::BPF_OBJ_GET, path)?;
    let mut buf = Attr::zeroed();
    let o = member!(buf, __bindgen_anon_4);
    o.pathname = path.as_ptr() as u64;
    o.file_flags = file_flags;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_5, file_flags);
    // SAFETY: `pathname` is a NUL-terminated string that outlives the call.
    unsafe { bpf_fd(bpf_cmd::BPF_OBJ_GET, &mut buf, size) }
}

fn c_path(cmd: bpf_cmd::Type, path: &Path) -> Result<CString, SysError> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| SysError::invalid(cmd_name(cmd), format!("path {} contains a NUL byte", path.display())))
}

/// The kinds of kernel objects that have ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjKind {
    Prog,
    Map,
    Link,
    Btf,
}

impl ObjKind {
    fn next_id_cmd(self) -> bpf_cmd::Type {
        match self {
            ObjKind::Prog => bpf_cmd::BPF_PROG_GET_NEXT_ID,
            ObjKind::Map => bpf_cmd::BPF_MAP_GET_NEXT_ID,
            ObjKind::Link => bpf_cmd::BPF_LINK_GET_NEXT_ID,
            ObjKind::Btf => bpf_cmd::BPF_BTF_GET_NEXT_ID,
        }
    }

    fn fd_by_id_cmd(self) -> bpf_cmd::Type {
        match self {
            ObjKind::Prog => bpf_cmd::BPF_PROG_GET_FD_BY_ID,
            ObjKind::Map => bpf_cmd::BPF_MAP_GET_FD_BY_ID,
            ObjKind::Link => bpf_cmd::BPF_LINK_GET_FD_BY_ID,
            ObjKind::Btf => bpf_cmd::BPF_BTF_GET_FD_BY_ID,
        }
    }
}

/// `BPF_{PROG,MAP,LINK,BTF}_GET_NEXT_ID`: the smallest id above `start_id` (0 starts the walk);
/// `None` past the last object.
pub fn get_next_id(kind: ObjKind, start_id: u32) -> Result<Option<u32>, SysError> {
    let mut attr = Attr::zeroed();
    member!(attr, __bindgen_anon_6).__bindgen_anon_1.start_id = start_id;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_8, open_flags);
    // SAFETY: no pointers.
    match unsafe { bpf(kind.next_id_cmd(), &mut attr, size) } {
        // SAFETY: plain integers.
        Ok(_) => Ok(Some(unsafe { attr.get().__bindgen_anon_6.next_id })),
        Err(e) if e.is(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every id of one kind of object, ascending (a snapshot: objects come and go meanwhile).
pub fn all_ids(kind: ObjKind) -> Result<Vec<u32>, SysError> {
    let mut ids = Vec::new();
    let mut id = 0;
    while let Some(next) = get_next_id(kind, id)? {
        ids.push(next);
        id = next;
    }
    Ok(ids)
}

/// `BPF_{PROG,MAP,LINK,BTF}_GET_FD_BY_ID`: opens an object by id (`ENOENT` if gone).
/// `open_flags` (`BPF_F_RDONLY`/`BPF_F_WRONLY`) applies to maps only and must be 0 otherwise.
pub fn get_fd_by_id(kind: ObjKind, id: u32, open_flags: u32) -> Result<OwnedFd, SysError> {
    let mut buf = Attr::zeroed();
    let g = member!(buf, __bindgen_anon_6);
    g.__bindgen_anon_1.start_id = id;
    g.open_flags = open_flags;
    let size = attr_size!(uapi::bpf_attr__bindgen_ty_8, open_flags);
    // SAFETY: no pointers.
    unsafe { bpf_fd(kind.fd_by_id_cmd(), &mut buf, size) }
}

/// `BPF_PROG_GET_NEXT_ID`.
pub fn prog_get_next_id(start_id: u32) -> Result<Option<u32>, SysError> {
    get_next_id(ObjKind::Prog, start_id)
}

/// `BPF_MAP_GET_NEXT_ID`.
pub fn map_get_next_id(start_id: u32) -> Result<Option<u32>, SysError> {
    get_next_id(ObjKind::Map, start_id)
}

/// `BPF_LINK_GET_NEXT_ID`.
pub fn link_get_next_id(start_id: u32) -> Result<Option<u32>, SysError> {
    get_next_id(ObjKind::Link, start_id)
}

/// `BPF_BTF_GET_NEXT_ID`.
pub fn btf_get_next_id(start_id: u32) -> Result<Option<u32>, SysError> {
    get_next_id(ObjKind::Btf, start_id)
}

/// `BPF_PROG_GET_FD_BY_ID`.
pub fn prog_get_fd_by_id(id: u32) -> Result<OwnedFd, SysError> {
    get_fd_by_id(ObjKind::Prog, id, 0)
}

/// `BPF_MAP_GET_FD_BY_ID`.
pub fn map_get_fd_by_id(id: u32, open_flags: u32) -> Result<OwnedFd, SysError> {
    get_fd_by_id(ObjKind::Map, id, open_flags)
}

/// `BPF_LINK_GET_FD_BY_ID`.
pub fn link_get_fd_by_id(id: u32) -> Result<OwnedFd, SysError> {
    get_fd_by_id(ObjKind::Link, id, 0)
}

/// `BPF_BTF_GET_FD_BY_ID`.
pub fn btf_get_fd_by_id(id: u32) -> Result<OwnedFd, SysError> {
    get_fd_by_id(ObjKind::Btf, id, 0)
}
