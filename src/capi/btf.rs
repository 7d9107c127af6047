//! libbpf's `btf.h` basics over [`crate::btf`].
//!
//! C tools walk BTF through `const struct btf_type *` pointers and libbpf's inline helpers
//! (`btf_members(t)` reads the records right after the type), so a `struct btf` keeps the raw
//! blob in native byte order next to the parsed model, with the offset of every type record:
//! `btf__type_by_id` returns a pointer into that blob. Lookups that need understanding
//! (`find_by_name_kind`, `resolve_size`) use the model.
use std::ffi::{c_char, c_int, c_void};
#[cfg(test)]
use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use super::guard::{byte_slice, c_path, c_utf8, call, CError, CResult};
use super::handles::{self, btf_ref};
use super::types::{__s32, __s64, __u32, btf_type};
use crate::btf::{Btf, BtfError, Endian, Kind};

/// `struct btf`: an opaque BTF handle.
#[allow(non_camel_case_types)]
pub struct btf {
    model: Btf,
    /// Header, type section and string section, in native byte order.
    raw: Vec<u8>,
    /// Offset in `raw` of the record of type id `i + 1` (id 0, void, has no record).
    type_offsets: Vec<usize>,
    /// Offset in `raw` of the string section, and its length.
    strings: (usize, usize),
    /// The kernel object this BTF was loaded into, if any (`btf__fd`).
    fd: Option<OwnedFd>,
    /// The kernel copy of an object's BTF, owned by the object (-1 if none).
    borrowed_fd: c_int,
}

/// What `btf__type_by_id(btf, 0)` points at: libbpf's all-zero void type.
static VOID_TYPE: btf_type = btf_type {
    name_off: 0,
    info: 0,
    __bindgen_anon_1: crate::sys::uapi::btf_type__bindgen_ty_1 { size: 0 },
};

/// Size of `struct btf_type` (name_off, info, size/type).
const TYPE_HEADER: usize = 12;

fn btf_error(err: BtfError) -> CError {
    CError::new(libc::EINVAL, err.to_string())
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Bytes after the 12-byte header of a type record with this `info` word.
fn trailing_bytes(info: u32) -> Option<usize> {
    let vlen = (info & 0xffff) as usize;
    let kind = Kind::from_raw((info >> 24) & 0x1f)?;
    Some(match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => 4,
        Kind::Array => 12,
        Kind::Struct | Kind::Union | Kind::Datasec | Kind::Enum64 => vlen * 12,
        Kind::Enum | Kind::FuncProto => vlen * 8,
        _ => 0,
    })
}

impl btf {
    /// Wraps parsed BTF; the raw view is written from the model in native byte order (the
    /// model already validated it, so the walk below cannot fail on well-formed output).
    pub fn from_model(mut model: Btf, fd: Option<OwnedFd>) -> CResult<btf> {
        if model.base().is_some() {
            return Err(CError::new(libc::EOPNOTSUPP, "split BTF is not supported by the btf.h layer yet"));
        }
        model.set_endian(if cfg!(target_endian = "little") { Endian::Little } else { Endian::Big });
        let raw = model.to_bytes();
        let hdr_len = read_u32(&raw, 4).unwrap_or(0) as usize;
        let field = |at| read_u32(&raw, at).map(|v| v as usize).unwrap_or(0);
        let (type_off, type_len) = (hdr_len + field(8), field(12));
        let (str_off, str_len) = (hdr_len + field(16), field(20));
        let mut type_offsets = Vec::with_capacity(model.types().len().saturating_sub(1));
        let mut at = type_off;
        while at < type_off + type_len {
            type_offsets.push(at);
            let info = read_u32(&raw, at + 4)
                .ok_or_else(|| CError::new(libc::EINVAL, format!("BTF type record at byte {at} is truncated")))?;
            let extra = trailing_bytes(info)
                .ok_or_else(|| CError::new(libc::EINVAL, format!("BTF type record at byte {at} has an unknown kind")))?;
            at += TYPE_HEADER + extra;
        }
        Ok(btf { model, raw, type_offsets, strings: (str_off, str_len), fd, borrowed_fd: -1 })
    }

    /// Parses raw BTF bytes.
    pub fn from_bytes(data: &[u8], fd: Option<OwnedFd>) -> CResult<btf> {
        btf::from_model(Btf::parse(data).map_err(btf_error)?, fd)
    }

    pub fn model(&self) -> &Btf {
        &self.model
    }

    /// Type count including void (`btf__type_cnt`).
    pub fn type_cnt(&self) -> u32 {
        self.type_offsets.len() as u32 + 1
    }

    /// Pointer to the raw record of `id`, or `None` past the last type.
    pub fn type_ptr(&self, id: u32) -> Option<*const btf_type> {
        if id == 0 {
            return Some(&VOID_TYPE);
        }
        let off = *self.type_offsets.get(id as usize - 1)?;
        Some(self.raw.get(off..)?.as_ptr().cast())
    }

    /// Pointer to the NUL-terminated string at `offset` of the string section.
    pub fn str_ptr(&self, offset: u32) -> Option<*const c_char> {
        let (start, len) = self.strings;
        if offset as usize >= len {
            return None;
        }
        Some(self.raw.get(start + offset as usize..)?.as_ptr().cast())
    }

    pub fn raw_data(&self) -> &[u8] {
        &self.raw
    }

    pub fn fd(&self) -> c_int {
        self.fd.as_ref().map_or(self.borrowed_fd, |fd| fd.as_raw_fd())
    }

    /// Records the fd of the kernel's copy of this BTF, owned elsewhere (by the object).
    pub fn set_borrowed_fd(&mut self, fd: c_int) {
        self.borrowed_fd = fd;
    }
}

/// Hands a caller-owned BTF to C (freed with `btf__free`).
fn into_handle(b: btf) -> *mut btf {
    let raw = Box::into_raw(Box::new(b));
    handles::register_btf(raw);
    raw
}

/// Reads the BTF of a kernel object by fd.
fn btf_from_kernel_fd(fd: OwnedFd) -> CResult<btf> {
    let data = crate::sys::btf_data(fd.as_fd()).map_err(|e| CError::new(e.errno(), e.to_string()))?;
    // libbpf closes the fd after reading: the handle is not tied to the kernel object.
    drop(fd);
    btf::from_bytes(&data, None)
}

/// Loads the BTF object with kernel id `id` (not split: for module BTF use the split variant).
#[no_mangle]
pub extern "C" fn btf__load_from_kernel_by_id(id: __u32) -> *mut btf {
    call("btf__load_from_kernel_by_id", || {
        let fd = crate::sys::btf_get_fd_by_id(id).map_err(|e| CError::quiet(e.errno()))?;
        btf_from_kernel_fd(fd).map(into_handle)
    })
}

/// Where libbpf looks for the kernel's BTF, in order (`%1$s` = release).
const VMLINUX_BTF_PATHS: &[&str] = &[
    "/sys/kernel/btf/vmlinux",
    "/boot/vmlinux-{}",
    "/lib/modules/{}/vmlinux-{}",
    "/lib/modules/{}/build/vmlinux",
    "/usr/lib/modules/{}/kernel/vmlinux",
    "/usr/lib/debug/boot/vmlinux-{}",
    "/usr/lib/debug/boot/vmlinux-{}.debug",
    "/usr/lib/debug/lib/modules/{}/vmlinux",
];

/// Loads the running kernel's BTF (raw `/sys/kernel/btf/vmlinux`, or `.BTF` of a vmlinux ELF).
#[no_mangle]
pub extern "C" fn btf__load_vmlinux_btf() -> *mut btf {
    call("btf__load_vmlinux_btf", || {
        let release = crate::sys::kernel_release();
        for pattern in VMLINUX_BTF_PATHS {
            let path = pattern.replace("{}", &release);
            let Ok(data) = crate::object::input::read_input_file(std::path::Path::new(&path)) else { continue };
            return btf_from_file_bytes(&data, &path).map(into_handle);
        }
        Err(CError::new(libc::ESRCH, "failed to find valid kernel BTF"))
    })
}

/// Raw BTF, or the `.BTF` section of an ELF file.
fn btf_from_file_bytes(data: &[u8], path: &str) -> CResult<btf> {
    if data.starts_with(b"\x7fELF") {
        let spec = crate::object::ObjectSpec::from_bytes(data, path)?;
        let raw = spec
            .btf_data
            .ok_or_else(|| CError::new(libc::ENOENT, format!("{path}: no .BTF section")))?;
        return btf::from_bytes(&raw, None);
    }
    btf::from_bytes(data, None).map_err(|e| CError::new(e.errno, format!("{path}: {}", e.message.unwrap_or_default())))
}

/// Parses raw BTF from memory.
///
/// # Safety
/// `data` must be valid for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn btf__new(data: *const c_void, size: __u32) -> *mut btf {
    call("btf__new", || {
        // SAFETY: caller's contract.
        let bytes = unsafe { byte_slice(data, size as usize, "data")? };
        btf::from_bytes(bytes, None).map(into_handle)
    })
}

/// Parses BTF from a raw BTF file or an ELF object's `.BTF` section (`btf_ext` must be NULL:
/// `.BTF.ext` is not exposed through this layer yet).
///
/// # Safety
/// `path` a C string; `btf_ext` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btf__parse(path: *const c_char, btf_ext: *mut *mut c_void) -> *mut btf {
    call("btf__parse", || {
        // SAFETY: caller's contract.
        let path = unsafe { c_path(path, "path")? };
        if !btf_ext.is_null() {
            // SAFETY: non-NULL and writable per the caller's contract.
            unsafe { btf_ext.write(std::ptr::null_mut()) };
        }
        let data = crate::object::input::read_input_file(path)
            .map_err(|e| CError::new(crate::object::input::io_errno(&e), format!("{}: {e}", path.display())))?;
        btf_from_file_bytes(&data, &path.display().to_string()).map(into_handle)
    })
}

/// Releases a BTF handle (and its kernel fd). NULL is ignored.
///
/// # Safety
/// `btf` NULL or any pointer: unknown, freed and object-owned handles are refused with a
/// message (see [`super::handles`]).
#[no_mangle]
pub unsafe extern "C" fn btf__free(btf: *mut btf) {
    call("btf__free", || {
        if btf.is_null() {
            return Ok(());
        }
        // Refuses (touching nothing) freed, unknown and object-owned handles.
        handles::unregister_btf(btf)?;
        // SAFETY: it was registered as caller-owned, so it is a live Box from into_handle.
        drop(unsafe { Box::from_raw(btf) });
        Ok(())
    })
}

/// # Safety
/// `btf` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn btf__type_cnt(btf: *const btf) -> __u32 {
    // SAFETY: caller's contract.
    call("btf__type_cnt", || Ok(unsafe { btf_ref(btf)? }.type_cnt()))
}

/// The raw record of type `type_id`; NULL and `EINVAL` past the last type.
///
/// # Safety
/// `btf` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn btf__type_by_id(btf: *const btf, type_id: __u32) -> *const btf_type {
    call("btf__type_by_id", || {
        // SAFETY: caller's contract.
        let b = unsafe { btf_ref(btf)? };
        b.type_ptr(type_id).ok_or(CError::quiet(libc::EINVAL))
    })
}

/// The string at `offset`; NULL and `EINVAL` past the string section.
///
/// # Safety
/// `btf` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn btf__str_by_offset(btf: *const btf, offset: __u32) -> *const c_char {
    call("btf__str_by_offset", || {
        // SAFETY: caller's contract.
        let b = unsafe { btf_ref(btf)? };
        b.str_ptr(offset).ok_or(CError::quiet(libc::EINVAL))
    })
}

/// Same as [`btf__str_by_offset`] (libbpf keeps both names).
///
/// # Safety
/// `btf` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn btf__name_by_offset(btf: *const btf, offset: __u32) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { btf__str_by_offset(btf, offset) }
}

/// Id of the first type named `type_name` of kind `kind` (`BTF_KIND_*`); `-ENOENT` if none.
/// `"void"` with kind 0 is type 0, as in libbpf.
///
/// # Safety
/// `btf` NULL or a live handle; `type_name` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn btf__find_by_name_kind(btf: *const btf, type_name: *const c_char, kind: __u32) -> __s32 {
    call("btf__find_by_name_kind", || {
        // SAFETY: caller's contract.
        let b = unsafe { btf_ref(btf)? };
        // SAFETY: caller's contract.
        let name = unsafe { c_utf8(type_name, "type_name")? };
        if kind == 0 && name == "void" {
            return Ok(0);
        }
        let kind = Kind::from_raw(kind).ok_or(CError::quiet(libc::ENOENT))?;
        let id = b.model.find_by_name_kind(name, kind).ok_or(CError::quiet(libc::ENOENT))?;
        Ok(id as __s32)
    })
}

/// Size in bytes of type `type_id` (typedefs and modifiers followed, arrays multiplied).
///
/// # Safety
/// `btf` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn btf__resolve_size(btf: *const btf, type_id: __u32) -> __s64 {
    call("btf__resolve_size", || {
        // SAFETY: caller's contract.
        let b = unsafe { btf_ref(btf)? };
        match b.model.resolve_size(type_id) {
            Ok(size) => Ok(__s64::from(size)),
            Err(BtfError::SizeOverflow { .. }) => Err(CError::quiet(libc::E2BIG)),
            Err(_) => Err(CError::quiet(libc::EINVAL)),
        }
    })
}

/// The kernel fd of this BTF, or -1 if it was not loaded into the kernel.
///
/// # Safety
/// `btf` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn btf__fd(btf: *const btf) -> c_int {
    // SAFETY: caller's contract.
    call("btf__fd", || Ok(unsafe { btf_ref(btf)? }.fd()))
}

/// The raw BTF bytes (native byte order) and their size.
///
/// # Safety
/// `btf` NULL or a live handle; `size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn btf__raw_data(btf: *const btf, size: *mut __u32) -> *const c_void {
    call("btf__raw_data", || {
        // SAFETY: caller's contract.
        let b = unsafe { btf_ref(btf)? };
        let size = super::guard::out_ptr(size, "size")?;
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { size.write(b.raw.len() as u32) };
        Ok(b.raw.as_ptr().cast())
    })
}

/// For tests: the string at a C pointer.
#[cfg(test)]
fn c_string(p: *const c_char) -> String {
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made BTF: int, struct { int a; int b[2]; }, array.
    fn sample() -> Vec<u8> {
        let mut model = Btf::new();
        let int_name = model.add_string("int");
        model.add_type(crate::btf::BtfType {
            name_off: int_name,
            kind: crate::btf::TypeKind::Int { size: 4, encoding: 1, bit_offset: 0, bits: 32 },
        });
        model.to_bytes()
    }

    #[test]
    fn type_pointers_are_raw_records() {
        let data = sample();
        let b = btf::from_bytes(&data, None).unwrap();
        assert_eq!(b.type_cnt(), 2);
        let t = unsafe { &*b.type_ptr(1).unwrap() };
        assert_eq!(t.info >> 24, 1, "BTF_KIND_INT");
        assert_eq!(c_string(b.str_ptr(t.name_off).unwrap()), "int");
        assert!(b.type_ptr(2).is_none());
        assert_eq!(unsafe { (*b.type_ptr(0).unwrap()).info }, 0);
    }
}
