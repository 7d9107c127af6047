//! libbpf's map API (`bpf_map__*`) over [`crate::loader::Map`].
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::os::fd::{AsRawFd, BorrowedFd};

use super::guard::{c_path, call, CError, CResult};
use super::handles::check_map;
use super::object::{bpf_object, c_string, load_error};
use super::types::{__u32, __u64, bpf_map_type};
use crate::loader::{Map, Object, ObjectState};
use crate::object::MapType;

/// `struct bpf_map`: a handle into its object's map list.
#[allow(non_camel_case_types)]
pub struct bpf_map {
    obj: *mut bpf_object,
    index: usize,
    /// Cached C strings (callers keep the pointers): refreshed when the loader may change them.
    name: RefCell<CString>,
    pin_path: RefCell<Option<CString>>,
}

impl bpf_map {
    pub(crate) fn new(obj: *mut bpf_object, index: usize, m: &Map) -> bpf_map {
        let handle = bpf_map {
            obj,
            index,
            name: RefCell::new(CString::default()),
            pin_path: RefCell::new(None),
        };
        handle.refresh_from(m);
        handle
    }

    fn refresh_from(&self, m: &Map) {
        let name = c_string(m.name());
        if *self.name.borrow() != name {
            *self.name.borrow_mut() = name;
        }
        let path = m.pin_path().map(|p| c_string(&p.to_string_lossy()));
        if *self.pin_path.borrow() != path {
            *self.pin_path.borrow_mut() = path;
        }
    }

    /// Re-reads name and pin path after an operation that may change them.
    pub(crate) fn refresh_cache(&self, maps: &[Map]) {
        if let Some(m) = maps.get(self.index) {
            self.refresh_from(m);
        }
    }
}

/// A map handle of a live object (NULL, closed or foreign: `EINVAL`).
///
/// # Safety
/// No exclusive reference to the handle may be live for `'a`.
unsafe fn map_handle<'a>(map: *const bpf_map) -> CResult<&'a bpf_map> {
    check_map(map)?;
    // SAFETY: registered map handles are elements of a live object's map slice.
    Ok(unsafe { &*map })
}

/// The map handle, its object and its loader map.
///
/// # Safety
/// `map` NULL or a live handle (its object not closed).
unsafe fn parts<'a>(map: *const bpf_map) -> CResult<(&'a bpf_map, &'a Object, &'a Map)> {
    // SAFETY: caller's contract.
    let handle = unsafe { map_handle(map)? };
    // SAFETY: a live handle's object is live; `inner` is disjoint from the handle list.
    let object = unsafe { &*std::ptr::addr_of!((*handle.obj).inner) };
    let m = object.maps().get(handle.index).ok_or(CError::invalid("stale map handle"))?;
    Ok((handle, object, m))
}

/// Mutable access to the loader map; also says whether the object was loaded.
///
/// # Safety
/// As [`parts`]; no other reference into the object may be live.
unsafe fn map_mut<'a>(map: *mut bpf_map) -> CResult<(&'a bpf_map, &'a mut Map, bool)> {
    // SAFETY: caller's contract.
    let handle = unsafe { map_handle(map.cast_const())? };
    // SAFETY: as in parts.
    let object = unsafe { &mut *std::ptr::addr_of_mut!((*handle.obj).inner) };
    let loaded = object.state() != ObjectState::Opened;
    let m = object.maps_mut().get_mut(handle.index).ok_or(CError::invalid("stale map handle"))?;
    Ok((handle, m, loaded))
}

/// Runs a setter that libbpf refuses with `-EBUSY` once the map exists in the kernel.
///
/// # Safety
/// As [`map_mut`].
unsafe fn set_before_create(map: *mut bpf_map, f: impl FnOnce(&mut Map) -> Result<(), crate::loader::LoadError>) -> CResult<c_int> {
    // SAFETY: forwarded contract.
    let (_, m, _) = unsafe { map_mut(map)? };
    if m.fd().is_some() {
        return Err(CError::quiet(libc::EBUSY));
    }
    f(m).map_err(load_error)?;
    Ok(0)
}

/// The map's fd after load; -1 before (errno untouched, as in libbpf).
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__fd(map: *const bpf_map) -> c_int {
    call("bpf_map__fd", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        Ok(m.fd().map_or(-1, |fd| fd.as_raw_fd()))
    })
}

/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__name(map: *const bpf_map) -> *const c_char {
    call("bpf_map__name", || {
        // SAFETY: caller's contract.
        if map.is_null() {
            return Ok(std::ptr::null());
        }
        // SAFETY: caller's contract.
        let handle = unsafe { map_handle(map)? };
        Ok(handle.name.borrow().as_ptr())
    })
}

/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__type(map: *const bpf_map) -> bpf_map_type {
    call("bpf_map__type", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        Ok(m.map_type().0)
    })
}

/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__key_size(map: *const bpf_map) -> __u32 {
    call("bpf_map__key_size", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        Ok(m.key_size())
    })
}

/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__value_size(map: *const bpf_map) -> __u32 {
    call("bpf_map__value_size", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        Ok(m.value_size())
    })
}

/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__max_entries(map: *const bpf_map) -> __u32 {
    call("bpf_map__max_entries", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        Ok(m.max_entries())
    })
}

/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__map_flags(map: *const bpf_map) -> __u32 {
    call("bpf_map__map_flags", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        Ok(m.map_flags())
    })
}

/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__is_pinned(map: *const bpf_map) -> bool {
    call("bpf_map__is_pinned", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        Ok(m.is_pinned())
    })
}

/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__autocreate(map: *const bpf_map) -> bool {
    call("bpf_map__autocreate", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        Ok(m.autocreate())
    })
}

/// Fails with `-EBUSY` once the map was created.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_type(map: *mut bpf_map, type_: bpf_map_type) -> c_int {
    // SAFETY: caller's contract.
    call("bpf_map__set_type", || unsafe { set_before_create(map, |m| m.set_type(MapType(type_))) })
}

/// Fails with `-EBUSY` once the map was created.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_key_size(map: *mut bpf_map, size: __u32) -> c_int {
    // SAFETY: caller's contract.
    call("bpf_map__set_key_size", || unsafe { set_before_create(map, |m| m.set_key_size(size)) })
}

/// Fails with `-EBUSY` once the map was created.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_value_size(map: *mut bpf_map, size: __u32) -> c_int {
    // SAFETY: caller's contract.
    call("bpf_map__set_value_size", || unsafe { set_before_create(map, |m| m.set_value_size(size)) })
}

/// Fails with `-EBUSY` once the map was created.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_map_flags(map: *mut bpf_map, flags: __u32) -> c_int {
    // SAFETY: caller's contract.
    call("bpf_map__set_map_flags", || unsafe { set_before_create(map, |m| m.set_map_flags(flags)) })
}

/// Fails with `-EBUSY` once the map was created.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_ifindex(map: *mut bpf_map, ifindex: __u32) -> c_int {
    // SAFETY: caller's contract.
    call("bpf_map__set_ifindex", || unsafe { set_before_create(map, |m| m.set_ifindex(ifindex)) })
}

/// Fails with `-EBUSY` once the object was loaded.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_max_entries(map: *mut bpf_map, max_entries: __u32) -> c_int {
    call("bpf_map__set_max_entries", || {
        // SAFETY: caller's contract.
        let (_, m, loaded) = unsafe { map_mut(map)? };
        if loaded {
            return Err(CError::quiet(libc::EBUSY));
        }
        m.set_max_entries(max_entries).map_err(load_error)?;
        Ok(0)
    })
}

/// Fails with `-EBUSY` once the object was loaded.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_autocreate(map: *mut bpf_map, autocreate: bool) -> c_int {
    call("bpf_map__set_autocreate", || {
        // SAFETY: caller's contract.
        let (_, m, loaded) = unsafe { map_mut(map)? };
        if loaded {
            return Err(CError::quiet(libc::EBUSY));
        }
        m.set_autocreate(autocreate).map_err(load_error)?;
        Ok(0)
    })
}

/// The value memory of a global data map (`.data`, `.rodata`, `.bss`, `.kconfig`) and its size
/// in `*psize`: the initial value before load, the live map memory after. NULL for other maps.
///
/// # Safety
/// `map` NULL or a live handle; `psize` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__initial_value(map: *mut bpf_map, psize: *mut usize) -> *mut c_void {
    call("bpf_map__initial_value", || {
        // SAFETY: caller's contract.
        let (_, _, m) = unsafe { parts(map)? };
        let Some((ptr, size)) = m.initial_value() else { return Ok(std::ptr::null_mut()) };
        let psize = super::guard::out_ptr(psize, "psize")?;
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { psize.write(size) };
        Ok(ptr.cast())
    })
}

/// Replaces the initial value of a global data map before load; `size` must be the value size.
///
/// # Safety
/// `map` NULL or a live handle; `data` valid for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_initial_value(map: *mut bpf_map, data: *const c_void, size: usize) -> c_int {
    call("bpf_map__set_initial_value", || {
        // SAFETY: caller's contract.
        let (_, m, _) = unsafe { map_mut(map)? };
        let kconfig = *m.origin() == crate::object::MapOrigin::Kconfig;
        if m.fd().is_some() || kconfig || m.initial_value().is_none() || size != m.value_size() as usize {
            return Err(CError::quiet(libc::EINVAL));
        }
        // SAFETY: caller's contract.
        let bytes = unsafe { super::guard::byte_slice(data, size, "data")? };
        m.set_initial_value(bytes).map_err(|e| CError::new(libc::EINVAL, e.to_string()))?;
        Ok(0)
    })
}

/// The path the map is (or will be) pinned at, or NULL.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__pin_path(map: *const bpf_map) -> *const c_char {
    call("bpf_map__pin_path", || {
        // SAFETY: caller's contract.
        let (handle, _, m) = unsafe { parts(map)? };
        handle.refresh_from(m);
        let path = handle.pin_path.borrow();
        Ok(path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()))
    })
}

/// Sets (or with NULL clears) the pin path used at load and by `bpf_map__pin(map, NULL)`.
///
/// # Safety
/// `map` NULL or a live handle; `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__set_pin_path(map: *mut bpf_map, path: *const c_char) -> c_int {
    call("bpf_map__set_pin_path", || {
        // SAFETY: caller's contract.
        let (handle, m, _) = unsafe { map_mut(map)? };
        // SAFETY: caller's contract.
        let path = if path.is_null() { None } else { Some(unsafe { c_path(path, "path")? }) };
        m.set_pin_path(path).map_err(load_error)?;
        handle.refresh_from(m);
        Ok(0)
    })
}

/// Pins the created map at `path` (or its pin path with NULL).
///
/// # Safety
/// `map` NULL or a live handle; `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__pin(map: *mut bpf_map, path: *const c_char) -> c_int {
    call("bpf_map__pin", || {
        // SAFETY: caller's contract.
        let (handle, m, _) = unsafe { map_mut(map)? };
        // SAFETY: caller's contract.
        let path = if path.is_null() { None } else { Some(unsafe { c_path(path, "path")? }) };
        let result = m.pin(path).map_err(load_error);
        handle.refresh_from(m);
        result.map(|()| 0)
    })
}

/// Removes the map's pin at `path` (or its pin path with NULL).
///
/// # Safety
/// `map` NULL or a live handle; `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__unpin(map: *mut bpf_map, path: *const c_char) -> c_int {
    call("bpf_map__unpin", || {
        // SAFETY: caller's contract.
        let (handle, m, _) = unsafe { map_mut(map)? };
        // SAFETY: caller's contract.
        let path = if path.is_null() { None } else { Some(unsafe { c_path(path, "path")? }) };
        let result = m.unpin(path).map_err(load_error);
        handle.refresh_from(m);
        result.map(|()| 0)
    })
}

/// Makes the map use an existing kernel map (`fd` is duplicated) instead of creating one.
///
/// # Safety
/// `map` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__reuse_fd(map: *mut bpf_map, fd: c_int) -> c_int {
    call("bpf_map__reuse_fd", || {
        if fd < 0 {
            return Err(CError::quiet(libc::EBADF));
        }
        // SAFETY: caller's contract.
        let (handle, m, _) = unsafe { map_mut(map)? };
        // SAFETY: fd is a non-negative descriptor the caller owns for the duration of the call;
        // the loader duplicates it and keeps only its own copy.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let result = m.reuse_fd(borrowed).map_err(load_error);
        handle.refresh_from(m);
        result.map(|()| 0)
    })
}

/// libbpf's checks before element operations: the map exists, and the buffer sizes the caller
/// states match the map (per-CPU maps: one 8-byte-aligned value per possible CPU).
fn validate_map_op(m: &Map, name: &str, key_sz: usize, value_sz: Option<usize>) -> CResult<c_int> {
    let fd = m.fd().map(|fd| fd.as_raw_fd()).filter(|&fd| fd > 0).ok_or(CError::quiet(libc::ENOENT))?;
    if m.key_size() as usize != key_sz {
        return Err(CError::invalid(format!(
            "map '{name}': unexpected key size {key_sz} provided, expected {}",
            m.key_size()
        )));
    }
    let Some(value_sz) = value_sz else { return Ok(fd) };
    if crate::sys::is_per_cpu(m.map_type().0) {
        let cpus = super::system::num_possible_cpus()? as usize;
        let elem = (m.value_size() as usize).div_ceil(8) * 8;
        if value_sz != cpus * elem {
            return Err(CError::invalid(format!(
                "map '{name}': unexpected value size {value_sz} provided for per-CPU map, expected {cpus} * {elem} = {}",
                cpus * elem
            )));
        }
    } else if m.value_size() as usize != value_sz {
        return Err(CError::invalid(format!(
            "map '{name}': unexpected value size {value_sz} provided, expected {}",
            m.value_size()
        )));
    }
    Ok(fd)
}

/// # Safety
/// `map` NULL or a live handle.
unsafe fn checked_fd(map: *const bpf_map, key_sz: usize, value_sz: Option<usize>) -> CResult<c_int> {
    // SAFETY: caller's contract.
    let (handle, _, m) = unsafe { parts(map)? };
    validate_map_op(m, &handle.name.borrow().to_string_lossy(), key_sz, value_sz)
}

/// # Safety
/// `map` NULL or a live handle; `key`/`value` valid for the sizes given.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__lookup_elem(
    map: *const bpf_map,
    key: *const c_void,
    key_sz: usize,
    value: *mut c_void,
    value_sz: usize,
    flags: __u64,
) -> c_int {
    call("bpf_map__lookup_elem", || {
        // SAFETY: caller's contract.
        let fd = unsafe { checked_fd(map, key_sz, Some(value_sz))? };
        // SAFETY: sizes checked against the map above.
        Ok(unsafe { super::bpf::bpf_map_lookup_elem_flags(fd, key, value, flags) })
    })
}

/// # Safety
/// `map` NULL or a live handle; `key`/`value` valid for the sizes given.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__update_elem(
    map: *const bpf_map,
    key: *const c_void,
    key_sz: usize,
    value: *const c_void,
    value_sz: usize,
    flags: __u64,
) -> c_int {
    call("bpf_map__update_elem", || {
        // SAFETY: caller's contract.
        let fd = unsafe { checked_fd(map, key_sz, Some(value_sz))? };
        // SAFETY: sizes checked against the map above.
        Ok(unsafe { super::bpf::bpf_map_update_elem(fd, key, value, flags) })
    })
}

/// # Safety
/// `map` NULL or a live handle; `key` valid for `key_sz` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__delete_elem(map: *const bpf_map, key: *const c_void, key_sz: usize, flags: __u64) -> c_int {
    call("bpf_map__delete_elem", || {
        // SAFETY: caller's contract.
        let fd = unsafe { checked_fd(map, key_sz, None)? };
        // SAFETY: size checked against the map above.
        Ok(unsafe { super::bpf::bpf_map_delete_elem_flags(fd, key, flags) })
    })
}

/// # Safety
/// `map` NULL or a live handle; `cur_key` NULL or valid, `next_key` writable, for `key_sz` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map__get_next_key(
    map: *const bpf_map,
    cur_key: *const c_void,
    next_key: *mut c_void,
    key_sz: usize,
) -> c_int {
    call("bpf_map__get_next_key", || {
        // SAFETY: caller's contract.
        let fd = unsafe { checked_fd(map, key_sz, None)? };
        // SAFETY: size checked against the map above.
        Ok(unsafe { super::bpf::bpf_map_get_next_key(fd, cur_key, next_key) })
    })
}
