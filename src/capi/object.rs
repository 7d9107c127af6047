//! libbpf's object API (`bpf_object__*`) over [`crate::loader::Object`].
//!
//! Handles: `struct bpf_object *` is a `Box<bpf_object>` that owns the loader's [`Object`] and
//! one `bpf_program` / `bpf_map` handle per program and map, created at open in boxed slices
//! that never change size, so handle pointers stay valid until `bpf_object__close`. Each
//! handle knows its object and index; C strings (names, paths) are cached in the handles
//! because C callers keep the returned pointers. Every handle is checked against the
//! registry of live handles ([`super::handles`]) before use, so a closed object is refused.
use std::ffi::{c_char, c_int, c_void, CString};
use std::path::PathBuf;

use super::btf::btf;
use super::guard::{byte_slice, c_path, c_utf8, call, CError, CResult};
use super::handles::{self, object_mut, object_ref};
use super::map::bpf_map;
use super::opts::read_opts;
use super::program::bpf_program;
use super::types::__u32;
use crate::libbpf_opts;
use crate::loader::{LoadError, Object, ObjectState, OpenOptions};

/// libbpf 1.1's `struct bpf_object_open_opts`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpf_object_open_opts {
    pub sz: usize,
    /// Object name override (default: the file name, or `<addr>-<size>` for memory).
    pub object_name: *const c_char,
    /// Accepted and ignored: bpflink parses map definitions the same way either way.
    pub relaxed_maps: bool,
    /// Directory of `LIBBPF_PIN_BY_NAME` maps (default /sys/fs/bpf).
    pub pin_root_path: *const c_char,
    /// Stub of a removed field (`attach_prog_fd`); keeps the layout.
    pub __unused_attach_prog_fd: __u32,
    /// Extra Kconfig text that overrides the system's configuration.
    pub kconfig: *const c_char,
    /// BTF used as the CO-RE target instead of the kernel's.
    pub btf_custom_path: *const c_char,
    /// Buffer for the kernel's logs (BTF and program loads) and its size.
    pub kernel_log_buf: *mut c_char,
    pub kernel_log_size: usize,
    pub kernel_log_level: __u32,
}
libbpf_opts!(bpf_object_open_opts {
    object_name,
    relaxed_maps,
    pin_root_path,
    __unused_attach_prog_fd,
    kconfig,
    btf_custom_path,
    kernel_log_buf,
    kernel_log_size,
    kernel_log_level
});

impl Default for bpf_object_open_opts {
    fn default() -> Self {
        // SAFETY: integers, a bool and raw pointers: all-zero is a valid value.
        unsafe { std::mem::zeroed() }
    }
}

/// `struct bpf_object`.
#[allow(non_camel_case_types)]
pub struct bpf_object {
    pub(crate) inner: Object,
    name: CString,
    pub(crate) programs: Box<[bpf_program]>,
    pub(crate) maps: Box<[bpf_map]>,
    /// The `struct btf` view of the object's BTF, built on first request (most tools never
    /// ask, and building it copies the whole BTF).
    btf: std::cell::OnceCell<Option<Box<btf>>>,
    /// The object-wide kernel log buffer from the open options.
    log_buf: *mut c_char,
    log_size: usize,
}

pub(crate) fn load_error(err: LoadError) -> CError {
    CError::new(err.errno(), err.to_string())
}

/// A C string for a Rust string (interior NULs, which ELF names cannot contain, are cut off).
pub(crate) fn c_string(s: &str) -> CString {
    let bytes = s.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap_or_default()
}

/// Optional C string option.
///
/// # Safety
/// `p` NULL or a C string.
unsafe fn opt_str(p: *const c_char, what: &str) -> CResult<Option<String>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: caller's contract.
    Ok(Some(unsafe { c_utf8(p, what)? }.to_owned()))
}

/// # Safety
/// `p` NULL or a C string.
unsafe fn opt_path(p: *const c_char, what: &str) -> CResult<Option<PathBuf>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: caller's contract.
    Ok(Some(unsafe { c_path(p, what)? }.to_path_buf()))
}

/// Validated open options: the loader's view plus the C log buffer.
struct CallerOpenOptions {
    loader: OpenOptions,
    log_buf: *mut c_char,
    log_size: usize,
}

/// # Safety
/// `opts` NULL or a valid `bpf_object_open_opts` of `opts->sz` bytes whose strings are valid.
unsafe fn convert_open_opts(opts: *const bpf_object_open_opts) -> CResult<CallerOpenOptions> {
    // SAFETY: caller's contract.
    let o = unsafe { read_opts(opts)? };
    if o.kernel_log_size > u32::MAX as usize {
        return Err(CError::invalid("kernel_log_size is larger than 4 GiB"));
    }
    if o.kernel_log_size != 0 && o.kernel_log_buf.is_null() {
        return Err(CError::invalid("kernel_log_size is set but kernel_log_buf is NULL"));
    }
    // SAFETY: caller's contract for each string.
    let loader = unsafe {
        OpenOptions {
            object_name: opt_str(o.object_name, "object_name")?,
            pin_root_path: opt_path(o.pin_root_path, "pin_root_path")?,
            kconfig: opt_str(o.kconfig, "kconfig")?,
            btf_custom_path: opt_path(o.btf_custom_path, "btf_custom_path")?,
            kernel_log_level: o.kernel_log_level,
            kernel_log_size: (!o.kernel_log_buf.is_null()).then_some(o.kernel_log_size),
        }
    };
    Ok(CallerOpenOptions { loader, log_buf: o.kernel_log_buf, log_size: o.kernel_log_size })
}

/// Wraps an opened object into a C handle with its program and map handles.
fn into_handle(inner: Object, opts: &CallerOpenOptions) -> CResult<*mut bpf_object> {
    let raw = Box::into_raw(Box::new(bpf_object {
        name: c_string(inner.name()),
        inner,
        programs: Box::new([]),
        maps: Box::new([]),
        btf: std::cell::OnceCell::new(),
        log_buf: opts.log_buf,
        log_size: opts.log_size,
    }));
    // SAFETY: raw was just allocated and is exclusively ours until returned.
    let obj = unsafe { &mut *raw };
    obj.programs = obj.inner.programs().iter().enumerate().map(|(i, p)| bpf_program::new(raw, i, p)).collect();
    obj.maps = obj.inner.maps().iter().enumerate().map(|(i, m)| bpf_map::new(raw, i, m)).collect();
    handles::register_object(obj);
    Ok(raw)
}

/// Opens a BPF object file with default options.
///
/// # Safety
/// `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__open(path: *const c_char) -> *mut bpf_object {
    // SAFETY: forwarded contract.
    unsafe { bpf_object__open_file(path, std::ptr::null()) }
}

/// Opens a BPF object file.
///
/// # Safety
/// `path` NULL or a C string; `opts` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__open_file(
    path: *const c_char,
    opts: *const bpf_object_open_opts,
) -> *mut bpf_object {
    call("bpf_object__open_file", || {
        // SAFETY: caller's contract.
        let path = unsafe { c_path(path, "path")? };
        // SAFETY: caller's contract.
        let opts = unsafe { convert_open_opts(opts)? };
        let inner = Object::open_file(path, &opts.loader).map_err(load_error)?;
        into_handle(inner, &opts)
    })
}

/// Opens a BPF object from memory (the buffer may be freed after the call).
///
/// # Safety
/// `obj_buf` valid for `obj_buf_sz` bytes; `opts` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__open_mem(
    obj_buf: *const c_void,
    obj_buf_sz: usize,
    opts: *const bpf_object_open_opts,
) -> *mut bpf_object {
    call("bpf_object__open_mem", || {
        if obj_buf.is_null() || obj_buf_sz == 0 {
            return Err(CError::invalid("obj_buf is NULL or obj_buf_sz is 0"));
        }
        // SAFETY: caller's contract.
        let data = unsafe { byte_slice(obj_buf, obj_buf_sz, "obj_buf")? };
        // SAFETY: caller's contract.
        let opts = unsafe { convert_open_opts(opts)? };
        let inner = Object::open_mem(data, &opts.loader).map_err(load_error)?;
        into_handle(inner, &opts)
    })
}

impl bpf_object {
    /// Copies the kernel's logs into the caller's buffers after a load attempt: each program's
    /// log into its own buffer, and into the object-wide buffer the BTF log or the log of the
    /// program that failed (or the last one that logged), as the last load libbpf ran there.
    fn copy_logs_out(&mut self) {
        let mut object_log: &[u8] = self.inner.btf_log().as_bytes();
        for (handle, program) in self.programs.iter().zip(self.inner.programs()) {
            let log = program.kernel_log();
            if handle.has_log_buf() {
                handle.copy_log_out(log);
            } else if !log.is_empty() && log.first() != Some(&0) {
                object_log = log;
            }
        }
        if !self.log_buf.is_null() && self.log_size > 0 && !object_log.is_empty() {
            // SAFETY: log_buf holds log_size writable bytes (open options contract).
            let out = unsafe { std::slice::from_raw_parts_mut(self.log_buf.cast::<u8>(), self.log_size) };
            copy_c_text(object_log, out);
        }
    }

    /// Points the BTF handle at the kernel's copy once loaded.
    fn refresh_btf_fd(&mut self) {
        let fd = self.kernel_btf_fd();
        if let Some(Some(b)) = self.btf.get_mut() {
            b.set_borrowed_fd(fd);
        }
    }

    fn kernel_btf_fd(&self) -> c_int {
        use std::os::fd::AsRawFd;
        self.inner.btf_fd().map_or(-1, |fd| fd.as_raw_fd())
    }

    /// The `struct btf` handle, created on first use; None without BTF.
    fn btf_handle(&self) -> Option<&btf> {
        self.btf
            .get_or_init(|| {
                let model = self.inner.btf()?.clone();
                let mut handle = match btf::from_model(model, None) {
                    Ok(handle) => handle,
                    Err(err) => {
                        crate::log::warn(&format!(
                            "object '{}': BTF view: {}",
                            self.inner.name(),
                            err.message.unwrap_or_default()
                        ));
                        return None;
                    }
                };
                handle.set_borrowed_fd(self.kernel_btf_fd());
                Some(Box::new(handle))
            })
            .as_deref()
    }

    pub(crate) fn is_loaded(&self) -> bool {
        self.inner.state() != ObjectState::Opened
    }
}

/// Copies NUL-terminated text into `out`, truncating and always terminating.
pub(crate) fn copy_c_text(text: &[u8], out: &mut [u8]) {
    let text = &text[..text.iter().position(|&b| b == 0).unwrap_or(text.len())];
    let n = text.len().min(out.len().saturating_sub(1));
    out[..n].copy_from_slice(&text[..n]);
    if let Some(end) = out.get_mut(n) {
        *end = 0;
    }
}

/// Loads the object's maps and programs into the kernel. A second attempt fails with
/// `-EINVAL`, like libbpf's (whether or not the first succeeded).
///
/// # Safety
/// `obj` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__load(obj: *mut bpf_object) -> c_int {
    call("bpf_object__load", || {
        // SAFETY: caller's contract.
        let obj = unsafe { object_mut(obj)? };
        if obj.is_loaded() {
            return Err(CError::invalid(format!("object '{}': load can't be attempted twice", obj.inner.name())));
        }
        for (handle, program) in obj.programs.iter().zip(obj.inner.programs_mut()) {
            handle.apply_log_settings(program);
        }
        let result = obj.inner.load();
        obj.copy_logs_out();
        obj.refresh_btf_fd();
        for map in obj.maps.iter() {
            map.refresh_cache(obj.inner.maps());
        }
        result.map_err(|e| {
            let mut err = load_error(e);
            err.message = err.message.map(|m| format!("{m}\nfailed to load object '{}'", obj.inner.name()));
            err
        })?;
        Ok(0)
    })
}

/// Closes the object: every fd it owns, and all its program and map handles. NULL is a no-op.
///
/// # Safety
/// `obj` NULL or a live handle, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__close(obj: *mut bpf_object) {
    call("bpf_object__close", || {
        if obj.is_null() {
            return Ok(());
        }
        if !handles::unregister_object(obj) {
            return Err(CError::invalid(format!(
                "{obj:p} is not a live bpf_object (closed or never opened); ignored"
            )));
        }
        // SAFETY: it was registered, so it is a live Box from into_handle, now forgotten.
        drop(unsafe { Box::from_raw(obj) });
        Ok(())
    })
}

/// # Safety
/// `obj` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__name(obj: *const bpf_object) -> *const c_char {
    // SAFETY: caller's contract.
    call("bpf_object__name", || Ok(unsafe { object_ref(obj)? }.name.as_ptr()))
}

/// The object's BTF (owned by the object), or NULL if it has none.
///
/// # Safety
/// `obj` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__btf(obj: *const bpf_object) -> *mut btf {
    call("bpf_object__btf", || {
        if obj.is_null() {
            return Ok(std::ptr::null_mut());
        }
        // SAFETY: caller's contract.
        let obj_ref = unsafe { object_ref(obj)? };
        let Some(view) = obj_ref.btf_handle() else { return Ok(std::ptr::null_mut()) };
        handles::register_object_btf(obj, view);
        Ok((view as *const btf).cast_mut())
    })
}

/// The kernel fd of the object's BTF after load, or -1.
///
/// # Safety
/// `obj` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__btf_fd(obj: *const bpf_object) -> c_int {
    call("bpf_object__btf_fd", || {
        use std::os::fd::AsRawFd;
        if obj.is_null() {
            return Ok(-1);
        }
        // SAFETY: caller's contract.
        let obj = unsafe { object_ref(obj)? };
        Ok(obj.inner.btf_fd().map_or(-1, |fd| fd.as_raw_fd()))
    })
}

/// The kernel version of the object's `version` section; without one, the running kernel's
/// (libbpf fills it in at open).
///
/// # Safety
/// `obj` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__kversion(obj: *const bpf_object) -> std::ffi::c_uint {
    // SAFETY: caller's contract.
    call("bpf_object__kversion", || {
        if obj.is_null() {
            return Ok(0);
        }
        // SAFETY: caller's contract.
        let obj = unsafe { object_ref(obj)? };
        Ok(obj.inner.spec().kernel_version.unwrap_or_else(crate::loader::linux_kernel_version))
    })
}

/// # Safety
/// `obj` NULL or a live handle; `name` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__find_program_by_name(
    obj: *const bpf_object,
    name: *const c_char,
) -> *mut bpf_program {
    call("bpf_object__find_program_by_name", || {
        // SAFETY: caller's contract.
        let obj = unsafe { object_ref(obj)? };
        // SAFETY: caller's contract.
        let name = unsafe { super::guard::c_str(name, "name")? };
        obj.programs
            .iter()
            .find(|p| p.name_cstr() == name)
            .map(|p| (p as *const bpf_program).cast_mut())
            .ok_or(CError::quiet(libc::ENOENT))
    })
}

/// Index of `handle` in `handles`, or `EINVAL` if it belongs to another object.
fn index_in<T>(handles: &[T], handle: *const T, what: &str) -> CResult<usize> {
    let start = handles.as_ptr() as usize;
    let addr = handle as usize;
    let size = std::mem::size_of::<T>().max(1);
    let offset = addr.wrapping_sub(start);
    if addr < start || offset % size != 0 || offset / size >= handles.len() {
        return Err(CError::invalid(format!("{what} handle doesn't belong to this object")));
    }
    Ok(offset / size)
}

/// The neighbour of `from` (or the first/last with NULL), walking forward or backward.
fn step<T>(handles: &[T], from: *const T, forward: bool, what: &str) -> CResult<*mut T> {
    let next = if from.is_null() {
        if forward { Some(0) } else { handles.len().checked_sub(1) }
    } else {
        let i = index_in(handles, from, what)?;
        if forward { Some(i + 1) } else { i.checked_sub(1) }
    };
    Ok(next.and_then(|i| handles.get(i)).map_or(std::ptr::null_mut(), |h| (h as *const T).cast_mut()))
}

/// The program after `prev` (the first with NULL); NULL at the end.
///
/// # Safety
/// `obj` NULL or a live handle; `prev` NULL or a program handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__next_program(obj: *const bpf_object, prev: *mut bpf_program) -> *mut bpf_program {
    call("bpf_object__next_program", || {
        // SAFETY: caller's contract.
        let obj = unsafe { object_ref(obj)? };
        step(&obj.programs, prev, true, "program")
    })
}

/// The program before `next` (the last with NULL); NULL at the start.
///
/// # Safety
/// `obj` NULL or a live handle; `next` NULL or a program handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__prev_program(obj: *const bpf_object, next: *mut bpf_program) -> *mut bpf_program {
    call("bpf_object__prev_program", || {
        // SAFETY: caller's contract.
        let obj = unsafe { object_ref(obj)? };
        step(&obj.programs, next, false, "program")
    })
}

/// The map after `prev` (the first with NULL); NULL at the end.
///
/// # Safety
/// `obj` NULL or a live handle; `prev` NULL or a map handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__next_map(obj: *const bpf_object, prev: *const bpf_map) -> *mut bpf_map {
    call("bpf_object__next_map", || {
        // SAFETY: caller's contract.
        let obj = unsafe { object_ref(obj)? };
        step(&obj.maps, prev, true, "map")
    })
}

/// The map before `next` (the last with NULL); NULL at the start.
///
/// # Safety
/// `obj` NULL or a live handle; `next` NULL or a map handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__prev_map(obj: *const bpf_object, next: *const bpf_map) -> *mut bpf_map {
    call("bpf_object__prev_map", || {
        // SAFETY: caller's contract.
        let obj = unsafe { object_ref(obj)? };
        step(&obj.maps, next, false, "map")
    })
}

/// The map called `name`; global data maps also answer to their section name (".rodata").
///
/// # Safety
/// `obj` NULL or a live handle; `name` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__find_map_by_name(obj: *const bpf_object, name: *const c_char) -> *mut bpf_map {
    call("bpf_object__find_map_by_name", || {
        // SAFETY: caller's contract.
        let obj = unsafe { object_ref(obj)? };
        // SAFETY: caller's contract.
        let name = unsafe { c_utf8(name, "name")? };
        let found = obj.inner.find_map(name).ok_or(CError::quiet(libc::ENOENT))?;
        let index = obj
            .inner
            .maps()
            .iter()
            .position(|m| std::ptr::eq(m, found))
            .ok_or(CError::quiet(libc::ENOENT))?;
        obj.maps.get(index).map(|h| (h as *const bpf_map).cast_mut()).ok_or(CError::quiet(libc::ENOENT))
    })
}

/// Pins every map under `path/<map name>`, or at each map's own pin path with NULL.
///
/// # Safety
/// `obj` NULL or a live handle; `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__pin_maps(obj: *mut bpf_object, path: *const c_char) -> c_int {
    call("bpf_object__pin_maps", || {
        if obj.is_null() {
            return Err(CError::quiet(libc::ENOENT));
        }
        // SAFETY: caller's contract.
        let obj = unsafe { object_mut(obj)? };
        // SAFETY: caller's contract.
        let dir = unsafe { opt_path(path, "path")? };
        let result = obj.inner.pin_maps(dir.as_deref()).map_err(load_error);
        for map in obj.maps.iter() {
            map.refresh_cache(obj.inner.maps());
        }
        result.map(|()| 0)
    })
}

/// Unpins every map from `path/<map name>`, or from each map's own pin path with NULL.
///
/// # Safety
/// `obj` NULL or a live handle; `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_object__unpin_maps(obj: *mut bpf_object, path: *const c_char) -> c_int {
    call("bpf_object__unpin_maps", || {
        if obj.is_null() {
            return Err(CError::quiet(libc::ENOENT));
        }
        // SAFETY: caller's contract.
        let obj = unsafe { object_mut(obj)? };
        // SAFETY: caller's contract.
        let dir = unsafe { opt_path(path, "path")? };
        let result = obj.inner.unpin_maps(dir.as_deref()).map_err(load_error);
        for map in obj.maps.iter() {
            map.refresh_cache(obj.inner.maps());
        }
        result.map(|()| 0)
    })
}

// ---- For the linker's C API (capi/linker.rs, owned by the linker): opening an object that
// was linked in memory, with the same options handling as `bpf_object__open_mem`.

/// Validates `opts`, then opens the bytes `link` produces as an object handle named
/// `default_name` unless `opts->object_name` is set. The options are checked first so that
/// bad options fail before any linking work.
///
/// # Safety
/// `opts` NULL or a valid `bpf_object_open_opts` of `opts->sz` bytes.
pub(crate) unsafe fn open_linked(
    opts: *const bpf_object_open_opts,
    default_name: &str,
    link: impl FnOnce() -> CResult<Vec<u8>>,
) -> CResult<*mut bpf_object> {
    // SAFETY: caller's contract.
    let mut opts = unsafe { convert_open_opts(opts)? };
    opts.loader.object_name.get_or_insert_with(|| default_name.to_string());
    let bytes = link()?;
    let inner = Object::open_mem(&bytes, &opts.loader).map_err(load_error)?;
    into_handle(inner, &opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::opts::LibbpfOpts;

    #[test]
    fn open_opts_layout_matches_libbpf_1_1() {
        // offsetofend(kernel_log_level) and sizeof in libbpf 1.1.2's libbpf.h (x86-64);
        // capi-tests/diff/layout.c checks every field against the system header.
        assert_eq!(bpf_object_open_opts::LAST_FIELD_END, 76);
        assert_eq!(std::mem::size_of::<bpf_object_open_opts>(), 80);
    }

    #[test]
    fn foreign_handles_are_rejected() {
        let a = [1u64, 2, 3];
        let b = [4u64];
        assert_eq!(index_in(&a, &a[2], "x").unwrap(), 2);
        assert!(index_in(&a, &b[0], "x").is_err());
        assert!(step(&a, &a[2], true, "x").unwrap().is_null());
        assert_eq!(step(&a, std::ptr::null(), false, "x").unwrap(), (&a[2] as *const u64).cast_mut());
    }
}

