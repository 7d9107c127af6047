//! The C ABI of the static linker: libbpf's `bpf_linker__*` (libbpf.h, same signatures and
//! opts layouts) plus `bpflink_link_files_to_buf` for linking in memory.
//!
//! libbpf semantics kept: `new`/`new_fd` return NULL + errno on failure; `add_*` and
//! `finalize` return 0 or -errno; after a failed `add_*` the linker is unusable (further
//! calls fail with EINVAL), as in libbpf; `new_fd`/`add_fd` never close the caller's fd.
#![allow(non_camel_case_types)]
use std::ffi::{c_char, c_int, c_void};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::path::PathBuf;

use super::guard::{byte_slice, c_path, call, handle_mut, out_ptr, CError, CResult};
use super::opts::{read_opts, LibbpfOpts};
use crate::linker::{LinkError, Linker};
use crate::object::input::{io_errno, read_capped, read_input_file, MAX_INPUT_FILE_SIZE};

/// `struct bpf_linker_opts` (libbpf 1.x: only `sz`).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct bpf_linker_opts {
    pub sz: usize,
}

/// `struct bpf_linker_file_opts` (libbpf 1.x: only `sz`).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct bpf_linker_file_opts {
    pub sz: usize,
}

// SAFETY: both structs end right after `sz`; there is no field to copy.
unsafe impl LibbpfOpts for bpf_linker_opts {
    const NAME: &'static str = "bpf_linker_opts";
    const LAST_FIELD_END: usize = std::mem::size_of::<usize>();
    unsafe fn copy_fields_within(&mut self, _src: *const Self, _sz: usize) {}
}

// SAFETY: as above.
unsafe impl LibbpfOpts for bpf_linker_file_opts {
    const NAME: &'static str = "bpf_linker_file_opts";
    const LAST_FIELD_END: usize = std::mem::size_of::<usize>();
    unsafe fn copy_fields_within(&mut self, _src: *const Self, _sz: usize) {}
}

enum Output {
    Path(PathBuf),
    /// Borrowed: the caller keeps ownership.
    Fd(c_int),
}

/// The opaque `struct bpf_linker`.
pub struct bpf_linker {
    output: Output,
    linker: Linker,
    /// Set by a failed add (libbpf leaves the linker in an undefined state then).
    broken: bool,
    finalized: bool,
}

impl From<LinkError> for CError {
    fn from(err: LinkError) -> CError {
        CError::new(err.errno(), err.to_string())
    }
}

fn new_linker(output: Output) -> *mut bpf_linker {
    Box::into_raw(Box::new(bpf_linker { output, linker: Linker::new(), broken: false, finalized: false }))
}

/// # Safety
/// `filename` NULL or a C string; `opts` NULL or a `bpf_linker_opts` of `opts->sz` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_linker__new(filename: *const c_char, opts: *mut bpf_linker_opts) -> *mut bpf_linker {
    call("bpf_linker__new", || {
        // SAFETY: forwarded contract.
        let path = unsafe { c_path(filename, "filename")? };
        // SAFETY: forwarded contract.
        unsafe { read_opts(opts)? };
        Ok(new_linker(Output::Path(path.to_path_buf())))
    })
}

/// # Safety
/// `opts` NULL or a `bpf_linker_opts` of `opts->sz` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_linker__new_fd(fd: c_int, opts: *mut bpf_linker_opts) -> *mut bpf_linker {
    call("bpf_linker__new_fd", || {
        if fd < 0 {
            return Err(CError::invalid(format!("bpf_linker__new_fd: invalid fd {fd}")));
        }
        // SAFETY: forwarded contract.
        unsafe { read_opts(opts)? };
        Ok(new_linker(Output::Fd(fd)))
    })
}

fn usable(linker: &mut bpf_linker) -> CResult<&mut bpf_linker> {
    if linker.broken || linker.finalized {
        return Err(CError::invalid("bpf_linker: linker is finalized or failed earlier"));
    }
    Ok(linker)
}

fn add(linker: &mut bpf_linker, name: &str, data: &[u8]) -> CResult<c_int> {
    let linker = usable(linker)?;
    if let Err(err) = linker.linker.add_buf(name, data) {
        linker.broken = true;
        return Err(err.into());
    }
    Ok(0)
}

/// # Safety
/// `linker` NULL or from `bpf_linker__new*`; `filename` NULL or a C string; `opts` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn bpf_linker__add_file(
    linker: *mut bpf_linker,
    filename: *const c_char,
    opts: *const bpf_linker_file_opts,
) -> c_int {
    call("bpf_linker__add_file", || {
        // SAFETY: forwarded contract.
        let linker = unsafe { handle_mut(linker, "linker")? };
        // SAFETY: forwarded contract.
        let path = unsafe { c_path(filename, "filename")? };
        // SAFETY: forwarded contract.
        unsafe { read_opts(opts)? };
        let data = read_input_file(path)
            .map_err(|e| CError::new(io_errno(&e), format!("{}: {e}", path.display())))?;
        add(linker, &path.display().to_string(), &data)
    })
}

/// Reads a whole file from a borrowed fd, from offset 0 (like libelf does), without closing it.
fn read_fd(fd: c_int) -> CResult<Vec<u8>> {
    if fd < 0 {
        return Err(CError::invalid(format!("invalid fd {fd}")));
    }
    // SAFETY: the fd stays owned by the caller: ManuallyDrop never closes it.
    let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    let io = |e: std::io::Error| CError::new(io_errno(&e), format!("fd {fd}: {e}"));
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    read_capped(&*file, MAX_INPUT_FILE_SIZE).map_err(io)
}

/// # Safety
/// `linker` NULL or from `bpf_linker__new*`; `opts` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn bpf_linker__add_fd(linker: *mut bpf_linker, fd: c_int, opts: *const bpf_linker_file_opts) -> c_int {
    call("bpf_linker__add_fd", || {
        // SAFETY: forwarded contract.
        let linker = unsafe { handle_mut(linker, "linker")? };
        // SAFETY: forwarded contract.
        unsafe { read_opts(opts)? };
        let data = read_fd(fd)?;
        add(linker, &format!("fd:{fd}"), &data)
    })
}

/// # Safety
/// `linker` NULL or from `bpf_linker__new*`; `buf` `buf_sz` readable bytes; `opts` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn bpf_linker__add_buf(
    linker: *mut bpf_linker,
    buf: *mut c_void,
    buf_sz: usize,
    opts: *const bpf_linker_file_opts,
) -> c_int {
    call("bpf_linker__add_buf", || {
        // SAFETY: forwarded contract.
        let linker = unsafe { handle_mut(linker, "linker")? };
        // SAFETY: forwarded contract.
        unsafe { read_opts(opts)? };
        // SAFETY: forwarded contract.
        let data = unsafe { byte_slice(buf, buf_sz, "buf")? };
        if data.is_empty() {
            return Err(CError::invalid("bpf_linker__add_buf: empty buffer"));
        }
        let name = format!("mem:{:p}+{buf_sz}", buf);
        add(linker, &name, data)
    })
}

/// # Safety
/// `linker` NULL or from `bpf_linker__new*`.
#[no_mangle]
pub unsafe extern "C" fn bpf_linker__finalize(linker: *mut bpf_linker) -> c_int {
    call("bpf_linker__finalize", || {
        // SAFETY: forwarded contract.
        let linker = usable(unsafe { handle_mut(linker, "linker")? })?;
        let bytes = linker.linker.finalize()?;
        let io = |what: String| move |e: std::io::Error| CError::new(e.raw_os_error().unwrap_or(libc::EIO), format!("{what}: {e}"));
        match &linker.output {
            Output::Path(path) => std::fs::write(path, &bytes).map_err(io(path.display().to_string()))?,
            Output::Fd(fd) => {
                // SAFETY: borrowed fd, never closed (ManuallyDrop).
                let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(*fd) });
                file.write_all(&bytes).map_err(io(format!("fd {fd}")))?;
            }
        }
        linker.finalized = true;
        Ok(0)
    })
}

/// # Safety
/// `linker` NULL or from `bpf_linker__new*`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn bpf_linker__free(linker: *mut bpf_linker) {
    call("bpf_linker__free", || {
        if !linker.is_null() {
            // SAFETY: linker came from Box::into_raw in this module (caller's contract).
            drop(unsafe { Box::from_raw(linker) });
        }
        Ok(())
    })
}

/// Links the objects at `paths[0..n]` in memory; on success stores a malloc'ed buffer with the
/// linked ELF object in `*buf` (release it with `bpflink_free_buf`) and its size in `*size`.
/// Returns 0 or -errno (the reason goes to the print callback).
///
/// # Safety
/// `paths` NULL or `n` C-string pointers; `buf`, `size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpflink_link_files_to_buf(
    paths: *const *const c_char,
    n: usize,
    buf: *mut *mut c_void,
    size: *mut usize,
) -> c_int {
    call("bpflink_link_files_to_buf", || {
        let buf = out_ptr(buf, "buf")?;
        let size = out_ptr(size, "size")?;
        // SAFETY: caller's contract.
        let files = unsafe { input_paths(paths, n, "bpflink_link_files_to_buf")? };
        let bytes = crate::linker::link_files(&files)?;
        // malloc so that C callers may also free() it.
        // SAFETY: plain allocation; checked for NULL below.
        let mem = unsafe { libc::malloc(bytes.len().max(1)) }.cast::<u8>();
        if mem.is_null() {
            return Err(CError::new(libc::ENOMEM, "bpflink_link_files_to_buf: out of memory"));
        }
        // SAFETY: mem has bytes.len() writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), mem, bytes.len()) };
        // SAFETY: out pointers are non-NULL and writable (caller's contract).
        unsafe {
            buf.write(mem.cast());
            size.write(bytes.len());
        }
        Ok(0)
    })
}

/// Releases a buffer from `bpflink_link_files_to_buf`. NULL is ignored.
///
/// # Safety
/// `buf` NULL or a buffer from `bpflink_link_files_to_buf`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn bpflink_free_buf(buf: *mut c_void) {
    call("bpflink_free_buf", || {
        // SAFETY: buf came from malloc in bpflink_link_files_to_buf (caller's contract).
        unsafe { libc::free(buf) };
        Ok(())
    })
}

/// Links the object files `paths[0..n]` in memory (as `bpflink link` would, nothing is
/// written) and opens the result as one object, as `bpf_object__open_file` opens a file.
/// The object is named after the first file (like libbpf names an opened file) unless
/// `opts->object_name` is set. Returns NULL with errno set on failure (bad options or paths:
/// EINVAL; link errors: their errno, the reason naming the symbol and files goes to the print
/// callback).
///
/// # Safety
/// `paths` NULL or `n` pointers, each NULL or a C string; `opts` NULL or a valid
/// `bpf_object_open_opts` of `opts->sz` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpflink_object__open_files(
    paths: *const *const c_char,
    n: usize,
    opts: *const crate::capi::object::bpf_object_open_opts,
) -> *mut crate::capi::object::bpf_object {
    call("bpflink_object__open_files", || {
        // SAFETY: caller's contract.
        let files = unsafe { input_paths(paths, n, "bpflink_object__open_files")? };
        let name = object_name_of(&files[0]);
        // SAFETY: caller's contract.
        unsafe { crate::capi::object::open_linked(opts, &name, || Ok(crate::linker::link_files(&files)?)) }
    })
}

/// The paths of a C array of `n` strings (at least one).
///
/// # Safety
/// `paths` NULL or `n` pointers, each NULL or a C string.
unsafe fn input_paths(paths: *const *const c_char, n: usize, api: &str) -> CResult<Vec<PathBuf>> {
    if paths.is_null() || n == 0 {
        return Err(CError::invalid(format!("{api}: no input paths")));
    }
    let mut files = Vec::with_capacity(n.min(4096));
    for i in 0..n {
        // SAFETY: paths has n readable entries (caller's contract).
        let p = unsafe { *paths.add(i) };
        // SAFETY: each entry NULL or a C string (caller's contract).
        files.push(unsafe { c_path(p, "paths[i]")? }.to_path_buf());
    }
    Ok(files)
}

/// libbpf's object name for a path: the file name up to its first '.'.
fn object_name_of(path: &std::path::Path) -> String {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    file.split('.').next().unwrap_or_default().to_string()
}
