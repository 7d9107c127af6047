//! libbpf's `bpf.h` layer: one `bpf(2)` command per function, with libbpf 1.1's signatures,
//! opts structs and conventions.
//!
//! These functions pass the caller's raw pointers straight to the kernel (as libbpf does), so
//! the kernel, not this layer, checks key/value/buffer pointers (`EFAULT`). What libbpf checks
//! in user space is checked here too, with the same result: opts `sz` rules, log buffer
//! consistency, attempt counts. Failures return `-errno` and set `errno`; like libbpf's, they
//! are quiet unless an opts struct is malformed. New descriptors are kept above 2
//! (libbpf's `ensure_good_fd`), so a daemon that closed stdin does not get a BPF object on fd 0.
use std::ffi::{c_char, c_int, c_void};
use std::mem::{offset_of, size_of};

use super::guard::{call, out_ptr, CError, CResult};
use super::opts::read_opts;
use super::types::{
    __u32, __u64, bpf_attach_type, bpf_btf_info, bpf_insn, bpf_link_info, bpf_map_info, bpf_map_type, bpf_prog_info,
    bpf_prog_type, bpf_stats_type,
};
use crate::libbpf_opts;
use crate::store_opts_field;
use crate::sys::uapi::{self, bpf_cmd};
use crate::sys::{Attr, SysError};

/// All-zero defaults for opts structs (integers and pointers only, so zero is valid).
macro_rules! zeroed_default {
    ($($ty:ident),+) => {$(
        impl Default for $ty {
            fn default() -> Self {
                // SAFETY: the struct holds only integers and raw pointers; all-zero is valid.
                unsafe { std::mem::zeroed() }
            }
        }
    )+};
}

/// Options of [`bpf_map_create`] (libbpf 1.1 layout).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpf_map_create_opts {
    pub sz: usize,
    pub btf_fd: __u32,
    pub btf_key_type_id: __u32,
    pub btf_value_type_id: __u32,
    pub btf_vmlinux_value_type_id: __u32,
    pub inner_map_fd: __u32,
    pub map_flags: __u32,
    pub map_extra: __u64,
    pub numa_node: __u32,
    pub map_ifindex: __u32,
}
libbpf_opts!(bpf_map_create_opts {
    btf_fd,
    btf_key_type_id,
    btf_value_type_id,
    btf_vmlinux_value_type_id,
    inner_map_fd,
    map_flags,
    map_extra,
    numa_node,
    map_ifindex
});

/// Options of [`bpf_prog_load`] (libbpf 1.1 layout).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpf_prog_load_opts {
    pub sz: usize,
    /// How many times to try when the kernel answers `EAGAIN` (0 = libbpf's default, 5).
    pub attempts: c_int,
    pub expected_attach_type: bpf_attach_type,
    pub prog_btf_fd: __u32,
    pub prog_flags: __u32,
    pub prog_ifindex: __u32,
    pub kern_version: __u32,
    pub attach_btf_id: __u32,
    pub attach_prog_fd: __u32,
    pub attach_btf_obj_fd: __u32,
    pub fd_array: *const c_int,
    pub func_info: *const c_void,
    pub func_info_cnt: __u32,
    pub func_info_rec_size: __u32,
    pub line_info: *const c_void,
    pub line_info_cnt: __u32,
    pub line_info_rec_size: __u32,
    pub log_level: __u32,
    pub log_size: __u32,
    pub log_buf: *mut c_char,
}
libbpf_opts!(bpf_prog_load_opts {
    attempts,
    expected_attach_type,
    prog_btf_fd,
    prog_flags,
    prog_ifindex,
    kern_version,
    attach_btf_id,
    attach_prog_fd,
    attach_btf_obj_fd,
    fd_array,
    func_info,
    func_info_cnt,
    func_info_rec_size,
    line_info,
    line_info_cnt,
    line_info_rec_size,
    log_level,
    log_size,
    log_buf
});

/// Options of [`bpf_btf_load`] (libbpf 1.1 layout).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpf_btf_load_opts {
    pub sz: usize,
    pub log_buf: *mut c_char,
    pub log_level: __u32,
    pub log_size: __u32,
}
libbpf_opts!(bpf_btf_load_opts { log_buf, log_level, log_size });

/// Options of the batch map operations (libbpf 1.1 layout).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpf_map_batch_opts {
    pub sz: usize,
    pub elem_flags: __u64,
    pub flags: __u64,
}
libbpf_opts!(bpf_map_batch_opts { elem_flags, flags });

/// Options of [`bpf_obj_get_opts`] (libbpf 1.1 layout; 16 bytes with the trailing padding).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpf_obj_get_opts {
    pub sz: usize,
    pub file_flags: __u32,
}
libbpf_opts!(bpf_obj_get_opts { file_flags });

/// Options of the `bpf_*_get_fd_by_id_opts` functions (libbpf 1.1 layout).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bpf_get_fd_by_id_opts {
    pub sz: usize,
    pub open_flags: __u32,
}
libbpf_opts!(bpf_get_fd_by_id_opts { open_flags });

/// Options and results of [`bpf_prog_test_run_opts`] (libbpf 1.1 layout).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bpf_test_run_opts {
    pub sz: usize,
    pub data_in: *const c_void,
    pub data_out: *mut c_void,
    pub data_size_in: __u32,
    /// In: room in `data_out`; out: bytes the program's packet has after the run.
    pub data_size_out: __u32,
    pub ctx_in: *const c_void,
    pub ctx_out: *mut c_void,
    pub ctx_size_in: __u32,
    /// In: room in `ctx_out`; out: bytes of context written.
    pub ctx_size_out: __u32,
    /// Out: the program's return value.
    pub retval: __u32,
    pub repeat: c_int,
    /// Out: average run time per repetition in ns.
    pub duration: __u32,
    pub flags: __u32,
    pub cpu: __u32,
    pub batch_size: __u32,
}
libbpf_opts!(bpf_test_run_opts {
    data_in,
    data_out,
    data_size_in,
    data_size_out,
    ctx_in,
    ctx_out,
    ctx_size_in,
    ctx_size_out,
    retval,
    repeat,
    duration,
    flags,
    cpu,
    batch_size
});

zeroed_default!(bpf_prog_load_opts, bpf_btf_load_opts, bpf_test_run_opts);

/// libbpf's default number of `BPF_PROG_LOAD` attempts on `EAGAIN`.
const PROG_LOAD_ATTEMPTS: c_int = 5;
/// The verifier log levels the kernel knows (1 | 2 | 4).
const MAX_LOG_LEVEL: u32 = 1 | 2 | 4;

fn ptr_u64<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// `offsetofend` of a `u32` / `u64` field at `offset`.
const fn end_u32(offset: usize) -> usize {
    offset + size_of::<u32>()
}
const fn end_u64(offset: usize) -> usize {
    offset + size_of::<u64>()
}

fn quiet(err: SysError) -> CError {
    CError::quiet(err.errno())
}

/// Issues `cmd` and returns its non-negative result as an int.
///
/// # Safety
/// The pointers in `attr` must be valid for `cmd` (here: whatever the C caller passed, whose
/// validity is the caller's contract, as with libbpf).
unsafe fn sys_bpf(cmd: bpf_cmd::Type, attr: &mut Attr, size: usize) -> CResult<c_int> {
    // SAFETY: forwarded contract.
    let ret = unsafe { crate::sys::bpf(cmd, attr, size) }.map_err(quiet)?;
    Ok(c_int::try_from(ret).unwrap_or(c_int::MAX))
}

/// Issues a command that creates a file descriptor and keeps it above 2.
///
/// # Safety
/// As [`sys_bpf`].
unsafe fn sys_bpf_fd(cmd: bpf_cmd::Type, attr: &mut Attr, size: usize) -> CResult<c_int> {
    // SAFETY: forwarded contract.
    let fd = unsafe { sys_bpf(cmd, attr, size)? };
    ensure_good_fd(fd)
}

/// Moves `fd` above the standard streams if it landed on 0, 1 or 2 (libbpf does the same).
pub fn ensure_good_fd(fd: c_int) -> CResult<c_int> {
    if fd >= 3 {
        return Ok(fd);
    }
    // SAFETY: fd is a descriptor we own; F_DUPFD_CLOEXEC takes no pointer.
    let new_fd = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    let dup_errno = super::guard::errno();
    // SAFETY: fd is ours and no longer needed, whether the dup worked or not.
    unsafe { libc::close(fd) };
    if new_fd < 0 {
        return Err(CError::new(dup_errno, format!("failed to dup fd {fd} to an fd above 2")));
    }
    Ok(new_fd)
}

/// Copies a C name into a kernel object-name field (15 chars + NUL, truncated like strlcpy).
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
unsafe fn copy_obj_name(name: *const c_char, dst: &mut [c_char; 16]) {
    if name.is_null() {
        return;
    }
    // SAFETY: caller's contract.
    let bytes = unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes();
    for (d, &b) in dst.iter_mut().zip(bytes.iter().take(15)) {
        *d = b as c_char;
    }
}

/// Creates a map. Returns its fd or `-errno`.
///
/// # Safety
/// `map_name` NULL or a C string; `opts` NULL or a valid `bpf_map_create_opts` of `opts->sz` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_create(
    map_type: bpf_map_type,
    map_name: *const c_char,
    key_size: __u32,
    value_size: __u32,
    max_entries: __u32,
    opts: *const bpf_map_create_opts,
) -> c_int {
    call("bpf_map_create", || {
        // SAFETY: caller's contract.
        let o = unsafe { read_opts(opts)? };
        let mut attr = Attr::zeroed();
        // SAFETY: the union members hold integers only.
        let m = unsafe { &mut attr.get_mut().__bindgen_anon_1 };
        m.map_type = map_type;
        // SAFETY: caller's contract.
        unsafe { copy_obj_name(map_name, &mut m.map_name) };
        m.key_size = key_size;
        m.value_size = value_size;
        m.max_entries = max_entries;
        m.btf_fd = o.btf_fd;
        m.btf_key_type_id = o.btf_key_type_id;
        m.btf_value_type_id = o.btf_value_type_id;
        m.btf_vmlinux_value_type_id = o.btf_vmlinux_value_type_id;
        m.inner_map_fd = o.inner_map_fd;
        m.map_flags = o.map_flags;
        m.map_extra = o.map_extra;
        m.numa_node = o.numa_node;
        m.map_ifindex = o.map_ifindex;
        let size = end_u64(offset_of!(uapi::bpf_attr__bindgen_ty_1, map_extra));
        // SAFETY: no pointers in this command.
        unsafe { sys_bpf_fd(bpf_cmd::BPF_MAP_CREATE, &mut attr, size) }
    })
}

/// The element commands: map fd, key, value-or-next-key, flags.
///
/// # Safety
/// `key` and `value` are handed to the kernel as they are (caller's contract, as in libbpf).
unsafe fn elem_cmd(cmd: bpf_cmd::Type, fd: c_int, key: *const c_void, value: *const c_void, flags: u64) -> CResult<c_int> {
    let mut attr = Attr::zeroed();
    // SAFETY: the union members hold integers only.
    let m = unsafe { &mut attr.get_mut().__bindgen_anon_2 };
    m.map_fd = fd as u32;
    m.key = ptr_u64(key);
    m.__bindgen_anon_1.value = ptr_u64(value);
    m.flags = flags;
    let size = end_u64(offset_of!(uapi::bpf_attr__bindgen_ty_2, flags));
    // SAFETY: forwarded contract.
    unsafe { sys_bpf(cmd, &mut attr, size) }
}

/// # Safety
/// `key`/`value` must be valid for the map's key and value sizes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_update_elem(fd: c_int, key: *const c_void, value: *const c_void, flags: __u64) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_update_elem", || unsafe { elem_cmd(bpf_cmd::BPF_MAP_UPDATE_ELEM, fd, key, value, flags) })
}

/// # Safety
/// `key`/`value` must be valid for the map's key and value sizes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_lookup_elem(fd: c_int, key: *const c_void, value: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_lookup_elem", || unsafe { elem_cmd(bpf_cmd::BPF_MAP_LOOKUP_ELEM, fd, key, value, 0) })
}

/// # Safety
/// `key`/`value` must be valid for the map's key and value sizes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_lookup_elem_flags(fd: c_int, key: *const c_void, value: *mut c_void, flags: __u64) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_lookup_elem_flags", || unsafe { elem_cmd(bpf_cmd::BPF_MAP_LOOKUP_ELEM, fd, key, value, flags) })
}

/// # Safety
/// `key`/`value` must be valid for the map's key and value sizes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_lookup_and_delete_elem(fd: c_int, key: *const c_void, value: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_lookup_and_delete_elem", || unsafe {
        elem_cmd(bpf_cmd::BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, key, value, 0)
    })
}

/// # Safety
/// `key`/`value` must be valid for the map's key and value sizes.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_lookup_and_delete_elem_flags(
    fd: c_int,
    key: *const c_void,
    value: *mut c_void,
    flags: __u64,
) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_lookup_and_delete_elem_flags", || unsafe {
        elem_cmd(bpf_cmd::BPF_MAP_LOOKUP_AND_DELETE_ELEM, fd, key, value, flags)
    })
}

/// # Safety
/// `key` must be valid for the map's key size.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_delete_elem(fd: c_int, key: *const c_void) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_delete_elem", || unsafe { elem_cmd(bpf_cmd::BPF_MAP_DELETE_ELEM, fd, key, std::ptr::null(), 0) })
}

/// # Safety
/// `key` must be valid for the map's key size.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_delete_elem_flags(fd: c_int, key: *const c_void, flags: __u64) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_delete_elem_flags", || unsafe {
        elem_cmd(bpf_cmd::BPF_MAP_DELETE_ELEM, fd, key, std::ptr::null(), flags)
    })
}

/// Writes the key after `key` (the first key when `key` is NULL); `-ENOENT` after the last.
///
/// # Safety
/// `key` NULL or valid for the key size; `next_key` writable for the key size.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_get_next_key(fd: c_int, key: *const c_void, next_key: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_get_next_key", || unsafe { elem_cmd(bpf_cmd::BPF_MAP_GET_NEXT_KEY, fd, key, next_key, 0) })
}

/// Makes the map read-only for user space.
#[no_mangle]
pub extern "C" fn bpf_map_freeze(fd: c_int) -> c_int {
    call("bpf_map_freeze", || {
        let mut attr = Attr::zeroed();
        attr.get_mut().__bindgen_anon_2.map_fd = fd as u32;
        let size = end_u32(offset_of!(uapi::bpf_attr__bindgen_ty_2, map_fd));
        // SAFETY: no pointers.
        unsafe { sys_bpf(bpf_cmd::BPF_MAP_FREEZE, &mut attr, size) }
    })
}

/// The four batch commands. `*count` is in/out: the kernel's count is written back even on
/// failure (libbpf does so; `ENOENT` at the end of a lookup still reports the last elements).
///
/// # Safety
/// Buffers as the kernel needs them for `cmd` and `*count` elements; `count` NULL or writable.
#[allow(clippy::too_many_arguments)]
unsafe fn batch_cmd(
    cmd: bpf_cmd::Type,
    fd: c_int,
    in_batch: *const c_void,
    out_batch: *mut c_void,
    keys: *const c_void,
    values: *const c_void,
    count: *mut __u32,
    opts: *const bpf_map_batch_opts,
) -> CResult<c_int> {
    // SAFETY: caller's contract.
    let o = unsafe { read_opts(opts)? };
    let count = out_ptr(count, "count")?;
    let mut attr = Attr::zeroed();
    // SAFETY: the union members hold integers only.
    let b = unsafe { &mut attr.get_mut().batch };
    b.map_fd = fd as u32;
    b.in_batch = ptr_u64(in_batch);
    b.out_batch = ptr_u64(out_batch);
    b.keys = ptr_u64(keys);
    b.values = ptr_u64(values);
    // SAFETY: count is non-NULL and points to a __u32 (caller's contract).
    b.count = unsafe { count.read() };
    b.elem_flags = o.elem_flags;
    b.flags = o.flags;
    // SAFETY: forwarded contract.
    let result = unsafe { sys_bpf(cmd, &mut attr, size_of::<uapi::bpf_attr__bindgen_ty_3>()) };
    // SAFETY: as above; the kernel updated the count in our attr copy.
    unsafe { count.write(attr.get().batch.count) };
    result
}

/// # Safety
/// See libbpf's documentation: buffers for `*count` elements.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_delete_batch(
    fd: c_int,
    keys: *const c_void,
    count: *mut __u32,
    opts: *const bpf_map_batch_opts,
) -> c_int {
    call("bpf_map_delete_batch", || {
        let null = std::ptr::null_mut();
        // SAFETY: forwarded contract.
        unsafe { batch_cmd(bpf_cmd::BPF_MAP_DELETE_BATCH, fd, null, null, keys, null, count, opts) }
    })
}

/// # Safety
/// See libbpf's documentation: buffers for `*count` elements.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_lookup_batch(
    fd: c_int,
    in_batch: *mut c_void,
    out_batch: *mut c_void,
    keys: *mut c_void,
    values: *mut c_void,
    count: *mut __u32,
    opts: *const bpf_map_batch_opts,
) -> c_int {
    call("bpf_map_lookup_batch", || {
        // SAFETY: forwarded contract.
        unsafe { batch_cmd(bpf_cmd::BPF_MAP_LOOKUP_BATCH, fd, in_batch, out_batch, keys, values, count, opts) }
    })
}

/// # Safety
/// See libbpf's documentation: buffers for `*count` elements.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_lookup_and_delete_batch(
    fd: c_int,
    in_batch: *mut c_void,
    out_batch: *mut c_void,
    keys: *mut c_void,
    values: *mut c_void,
    count: *mut __u32,
    opts: *const bpf_map_batch_opts,
) -> c_int {
    call("bpf_map_lookup_and_delete_batch", || {
        // SAFETY: forwarded contract.
        unsafe {
            batch_cmd(bpf_cmd::BPF_MAP_LOOKUP_AND_DELETE_BATCH, fd, in_batch, out_batch, keys, values, count, opts)
        }
    })
}

/// # Safety
/// See libbpf's documentation: buffers for `*count` elements.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_update_batch(
    fd: c_int,
    keys: *const c_void,
    values: *const c_void,
    count: *mut __u32,
    opts: *const bpf_map_batch_opts,
) -> c_int {
    call("bpf_map_update_batch", || {
        let null = std::ptr::null_mut();
        // SAFETY: forwarded contract.
        unsafe { batch_cmd(bpf_cmd::BPF_MAP_UPDATE_BATCH, fd, null, null, keys, values, count, opts) }
    })
}

/// Checks the log settings of `bpf_prog_load_opts` as libbpf does.
fn check_prog_log(o: &bpf_prog_load_opts) -> CResult<()> {
    if o.log_buf.is_null() != (o.log_size == 0) {
        return Err(CError::quiet(libc::EINVAL));
    }
    if o.log_level > MAX_LOG_LEVEL || (o.log_level != 0 && o.log_buf.is_null()) {
        return Err(CError::quiet(libc::EINVAL));
    }
    Ok(())
}

/// Loads a program. With `log_buf` set and `log_level` 0, a failed load is retried once with
/// log level 1 so the buffer explains the failure (libbpf's behaviour).
///
/// # Safety
/// `prog_name`/`license` NULL or C strings; `insns` valid for `insn_cnt` instructions; `opts`
/// NULL or valid, with the buffers it points to valid for their counts and sizes.
#[no_mangle]
pub unsafe extern "C" fn bpf_prog_load(
    prog_type: bpf_prog_type,
    prog_name: *const c_char,
    license: *const c_char,
    insns: *const bpf_insn,
    insn_cnt: usize,
    opts: *const bpf_prog_load_opts,
) -> c_int {
    call("bpf_prog_load", || {
        // SAFETY: caller's contract.
        let o = unsafe { read_opts(opts)? };
        if o.attempts < 0 {
            return Err(CError::quiet(libc::EINVAL));
        }
        let attempts = if o.attempts == 0 { PROG_LOAD_ATTEMPTS } else { o.attempts };
        let insn_cnt = u32::try_from(insn_cnt).map_err(|_| CError::quiet(libc::E2BIG))?;
        if o.attach_prog_fd != 0 && o.attach_btf_obj_fd != 0 {
            return Err(CError::quiet(libc::EINVAL));
        }
        check_prog_log(&o)?;
        let mut attr = Attr::zeroed();
        {
            // SAFETY: the union members hold integers only.
            let p = unsafe { &mut attr.get_mut().__bindgen_anon_3 };
            p.prog_type = prog_type;
            p.expected_attach_type = o.expected_attach_type;
            p.prog_btf_fd = o.prog_btf_fd;
            p.prog_flags = o.prog_flags;
            p.prog_ifindex = o.prog_ifindex;
            p.kern_version = o.kern_version;
            // SAFETY: caller's contract.
            unsafe { copy_obj_name(prog_name, &mut p.prog_name) };
            p.license = ptr_u64(license);
            p.insns = ptr_u64(insns);
            p.insn_cnt = insn_cnt;
            p.attach_btf_id = o.attach_btf_id;
            // attach_prog_fd and attach_btf_obj_fd share one field; at most one is set.
            p.__bindgen_anon_1.attach_prog_fd = o.attach_prog_fd.max(o.attach_btf_obj_fd);
            p.func_info_rec_size = o.func_info_rec_size;
            p.func_info = ptr_u64(o.func_info);
            p.func_info_cnt = o.func_info_cnt;
            p.line_info_rec_size = o.line_info_rec_size;
            p.line_info = ptr_u64(o.line_info);
            p.line_info_cnt = o.line_info_cnt;
            p.fd_array = ptr_u64(o.fd_array);
            if o.log_level != 0 {
                p.log_buf = ptr_u64(o.log_buf);
                p.log_size = o.log_size;
                p.log_level = o.log_level;
            }
        }
        // SAFETY: caller's contract for every pointer stored above.
        let first = unsafe { prog_load_attempts(&mut attr, attempts) };
        match first {
            Err(_) if o.log_level == 0 && !o.log_buf.is_null() => {
                {
                    // SAFETY: as above.
                    let p = unsafe { &mut attr.get_mut().__bindgen_anon_3 };
                    p.log_buf = ptr_u64(o.log_buf);
                    p.log_size = o.log_size;
                    p.log_level = 1;
                }
                // SAFETY: as above; log_buf holds log_size bytes (caller's contract).
                unsafe { prog_load_attempts(&mut attr, attempts) }
            }
            other => other,
        }
    })
}

/// `BPF_PROG_LOAD`, retried while the kernel answers `EAGAIN`, at most `attempts` times.
///
/// # Safety
/// As [`sys_bpf`].
unsafe fn prog_load_attempts(attr: &mut Attr, attempts: c_int) -> CResult<c_int> {
    let size = end_u64(offset_of!(uapi::bpf_attr__bindgen_ty_4, fd_array));
    let mut left = attempts;
    loop {
        // SAFETY: forwarded contract.
        match unsafe { sys_bpf_fd(bpf_cmd::BPF_PROG_LOAD, attr, size) } {
            Err(e) if e.errno == libc::EAGAIN && left > 1 => left -= 1,
            other => return other,
        }
    }
}

/// Loads raw BTF. Same log retry rule as [`bpf_prog_load`].
///
/// # Safety
/// `btf_data` valid for `btf_size` bytes; `opts` NULL or valid, its log buffer `log_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn bpf_btf_load(btf_data: *const c_void, btf_size: usize, opts: *const bpf_btf_load_opts) -> c_int {
    call("bpf_btf_load", || {
        // SAFETY: caller's contract.
        let o = unsafe { read_opts(opts)? };
        if o.log_size != 0 && o.log_buf.is_null() {
            return Err(CError::quiet(libc::EINVAL));
        }
        let mut attr = Attr::zeroed();
        {
            // SAFETY: the union members hold integers only.
            let b = unsafe { &mut attr.get_mut().__bindgen_anon_7 };
            b.btf = ptr_u64(btf_data);
            // The kernel field is 32 bits; a larger blob is cut, and the kernel rejects it.
            b.btf_size = u32::try_from(btf_size).unwrap_or(u32::MAX);
            if o.log_level != 0 {
                b.btf_log_buf = ptr_u64(o.log_buf);
                b.btf_log_size = o.log_size;
                b.btf_log_level = o.log_level;
            }
        }
        let size = end_u32(offset_of!(uapi::bpf_attr__bindgen_ty_12, btf_log_level));
        // SAFETY: caller's contract for the data and log buffers.
        let first = unsafe { sys_bpf_fd(bpf_cmd::BPF_BTF_LOAD, &mut attr, size) };
        match first {
            Err(_) if !o.log_buf.is_null() && o.log_level == 0 => {
                {
                    // SAFETY: as above.
                    let b = unsafe { &mut attr.get_mut().__bindgen_anon_7 };
                    b.btf_log_buf = ptr_u64(o.log_buf);
                    b.btf_log_size = o.log_size;
                    b.btf_log_level = 1;
                }
                // SAFETY: as above.
                unsafe { sys_bpf_fd(bpf_cmd::BPF_BTF_LOAD, &mut attr, size) }
            }
            other => other,
        }
    })
}

/// Runs a program on test input; results are written back into `opts` (if its `sz` has room).
///
/// # Safety
/// `opts` must be a valid `bpf_test_run_opts` of `opts->sz` writable bytes (NULL is `-EINVAL`
/// in effect, since the kernel needs input), with the buffers it names valid for their sizes.
#[no_mangle]
pub unsafe extern "C" fn bpf_prog_test_run_opts(prog_fd: c_int, opts: *mut bpf_test_run_opts) -> c_int {
    call("bpf_prog_test_run_opts", || {
        // SAFETY: caller's contract.
        let o = unsafe { read_opts(opts.cast_const())? };
        let mut attr = Attr::zeroed();
        {
            // SAFETY: the union members hold integers only.
            let t = unsafe { &mut attr.get_mut().test };
            t.prog_fd = prog_fd as u32;
            t.batch_size = o.batch_size;
            t.cpu = o.cpu;
            t.flags = o.flags;
            t.repeat = o.repeat as u32;
            t.duration = o.duration;
            t.ctx_size_in = o.ctx_size_in;
            t.ctx_size_out = o.ctx_size_out;
            t.data_size_in = o.data_size_in;
            t.data_size_out = o.data_size_out;
            t.ctx_in = ptr_u64(o.ctx_in);
            t.ctx_out = ptr_u64(o.ctx_out);
            t.data_in = ptr_u64(o.data_in);
            t.data_out = ptr_u64(o.data_out);
        }
        // SAFETY: caller's contract for the buffers.
        let result = unsafe { sys_bpf(bpf_cmd::BPF_PROG_TEST_RUN, &mut attr, size_of::<uapi::bpf_attr__bindgen_ty_7>()) };
        let t = attr.get().test;
        // SAFETY: opts is NULL or sz writable bytes; the macro writes only fields within sz.
        unsafe {
            store_opts_field!(opts, bpf_test_run_opts, data_size_out, t.data_size_out);
            store_opts_field!(opts, bpf_test_run_opts, ctx_size_out, t.ctx_size_out);
            store_opts_field!(opts, bpf_test_run_opts, duration, t.duration);
            store_opts_field!(opts, bpf_test_run_opts, retval, t.retval);
        }
        result
    })
}

/// Pins the object behind `fd` at `pathname` (on a bpffs).
///
/// # Safety
/// `pathname` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_obj_pin(fd: c_int, pathname: *const c_char) -> c_int {
    call("bpf_obj_pin", || {
        let mut attr = Attr::zeroed();
        // SAFETY: the union members hold integers only.
        let o = unsafe { &mut attr.get_mut().__bindgen_anon_4 };
        o.pathname = ptr_u64(pathname);
        o.bpf_fd = fd as u32;
        let size = end_u32(offset_of!(uapi::bpf_attr__bindgen_ty_5, file_flags));
        // SAFETY: pathname is a C string or NULL (the kernel answers EFAULT).
        unsafe { sys_bpf(bpf_cmd::BPF_OBJ_PIN, &mut attr, size) }
    })
}

/// Opens the pinned object at `pathname`.
///
/// # Safety
/// `pathname` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_obj_get(pathname: *const c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { bpf_obj_get_opts(pathname, std::ptr::null()) }
}

/// # Safety
/// `pathname` NULL or a C string; `opts` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn bpf_obj_get_opts(pathname: *const c_char, opts: *const bpf_obj_get_opts) -> c_int {
    call("bpf_obj_get_opts", || {
        // SAFETY: caller's contract.
        let opts = unsafe { read_opts(opts)? };
        let mut attr = Attr::zeroed();
        // SAFETY: the union members hold integers only.
        let o = unsafe { &mut attr.get_mut().__bindgen_anon_4 };
        o.pathname = ptr_u64(pathname);
        o.file_flags = opts.file_flags;
        let size = end_u32(offset_of!(uapi::bpf_attr__bindgen_ty_5, file_flags));
        // SAFETY: as in bpf_obj_pin.
        unsafe { sys_bpf_fd(bpf_cmd::BPF_OBJ_GET, &mut attr, size) }
    })
}

/// Size of the `*_GET_NEXT_ID` / `*_GET_FD_BY_ID` attributes (up to `open_flags`).
const ID_ATTR_SIZE: usize = end_u32(offset_of!(uapi::bpf_attr__bindgen_ty_8, open_flags));

fn get_next_id(cmd: bpf_cmd::Type, start_id: __u32, next_id: *mut __u32) -> CResult<c_int> {
    let next_id = out_ptr(next_id, "next_id")?;
    let mut attr = Attr::zeroed();
    attr.get_mut().__bindgen_anon_6.__bindgen_anon_1.start_id = start_id;
    // SAFETY: no pointers.
    let ret = unsafe { sys_bpf(cmd, &mut attr, ID_ATTR_SIZE)? };
    // SAFETY: next_id is non-NULL and writable (caller's contract).
    unsafe { next_id.write(attr.get().__bindgen_anon_6.next_id) };
    Ok(ret)
}

/// # Safety
/// `next_id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpf_prog_get_next_id(start_id: __u32, next_id: *mut __u32) -> c_int {
    call("bpf_prog_get_next_id", || get_next_id(bpf_cmd::BPF_PROG_GET_NEXT_ID, start_id, next_id))
}

/// # Safety
/// `next_id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_get_next_id(start_id: __u32, next_id: *mut __u32) -> c_int {
    call("bpf_map_get_next_id", || get_next_id(bpf_cmd::BPF_MAP_GET_NEXT_ID, start_id, next_id))
}

/// # Safety
/// `next_id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpf_btf_get_next_id(start_id: __u32, next_id: *mut __u32) -> c_int {
    call("bpf_btf_get_next_id", || get_next_id(bpf_cmd::BPF_BTF_GET_NEXT_ID, start_id, next_id))
}

/// # Safety
/// `next_id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpf_link_get_next_id(start_id: __u32, next_id: *mut __u32) -> c_int {
    call("bpf_link_get_next_id", || get_next_id(bpf_cmd::BPF_LINK_GET_NEXT_ID, start_id, next_id))
}

/// # Safety
/// `opts` NULL or valid.
unsafe fn get_fd_by_id(cmd: bpf_cmd::Type, id: __u32, opts: *const bpf_get_fd_by_id_opts) -> CResult<c_int> {
    // SAFETY: caller's contract.
    let o = unsafe { read_opts(opts)? };
    let mut attr = Attr::zeroed();
    // SAFETY: the union members hold integers only.
    let a = unsafe { &mut attr.get_mut().__bindgen_anon_6 };
    a.__bindgen_anon_1.prog_id = id;
    a.open_flags = o.open_flags;
    // SAFETY: no pointers.
    unsafe { sys_bpf_fd(cmd, &mut attr, ID_ATTR_SIZE) }
}

/// Opens the prog with kernel id `id`.
#[no_mangle]
pub extern "C" fn bpf_prog_get_fd_by_id(id: __u32) -> c_int {
    // SAFETY: NULL opts.
    call("bpf_prog_get_fd_by_id", || unsafe { get_fd_by_id(bpf_cmd::BPF_PROG_GET_FD_BY_ID, id, std::ptr::null()) })
}

/// # Safety
/// `opts` NULL or a valid `bpf_get_fd_by_id_opts`.
#[no_mangle]
pub unsafe extern "C" fn bpf_prog_get_fd_by_id_opts(id: __u32, opts: *const bpf_get_fd_by_id_opts) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_prog_get_fd_by_id_opts", || unsafe { get_fd_by_id(bpf_cmd::BPF_PROG_GET_FD_BY_ID, id, opts) })
}

/// Opens the map with kernel id `id`.
#[no_mangle]
pub extern "C" fn bpf_map_get_fd_by_id(id: __u32) -> c_int {
    // SAFETY: NULL opts.
    call("bpf_map_get_fd_by_id", || unsafe { get_fd_by_id(bpf_cmd::BPF_MAP_GET_FD_BY_ID, id, std::ptr::null()) })
}

/// # Safety
/// `opts` NULL or a valid `bpf_get_fd_by_id_opts`.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_get_fd_by_id_opts(id: __u32, opts: *const bpf_get_fd_by_id_opts) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_get_fd_by_id_opts", || unsafe { get_fd_by_id(bpf_cmd::BPF_MAP_GET_FD_BY_ID, id, opts) })
}

/// Opens the btf with kernel id `id`.
#[no_mangle]
pub extern "C" fn bpf_btf_get_fd_by_id(id: __u32) -> c_int {
    // SAFETY: NULL opts.
    call("bpf_btf_get_fd_by_id", || unsafe { get_fd_by_id(bpf_cmd::BPF_BTF_GET_FD_BY_ID, id, std::ptr::null()) })
}

/// # Safety
/// `opts` NULL or a valid `bpf_get_fd_by_id_opts`.
#[no_mangle]
pub unsafe extern "C" fn bpf_btf_get_fd_by_id_opts(id: __u32, opts: *const bpf_get_fd_by_id_opts) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_btf_get_fd_by_id_opts", || unsafe { get_fd_by_id(bpf_cmd::BPF_BTF_GET_FD_BY_ID, id, opts) })
}

/// Opens the link with kernel id `id`.
#[no_mangle]
pub extern "C" fn bpf_link_get_fd_by_id(id: __u32) -> c_int {
    // SAFETY: NULL opts.
    call("bpf_link_get_fd_by_id", || unsafe { get_fd_by_id(bpf_cmd::BPF_LINK_GET_FD_BY_ID, id, std::ptr::null()) })
}

/// # Safety
/// `opts` NULL or a valid `bpf_get_fd_by_id_opts`.
#[no_mangle]
pub unsafe extern "C" fn bpf_link_get_fd_by_id_opts(id: __u32, opts: *const bpf_get_fd_by_id_opts) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_link_get_fd_by_id_opts", || unsafe { get_fd_by_id(bpf_cmd::BPF_LINK_GET_FD_BY_ID, id, opts) })
}

/// Fills `info` (up to `*info_len` bytes) and sets `*info_len` to the bytes the kernel wrote.
///
/// # Safety
/// `info` writable for `*info_len` bytes; `info_len` NULL or a valid `__u32`.
#[no_mangle]
pub unsafe extern "C" fn bpf_obj_get_info_by_fd(bpf_fd: c_int, info: *mut c_void, info_len: *mut __u32) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_obj_get_info_by_fd", || unsafe { get_info(bpf_fd, info, info_len) })
}

/// # Safety
/// As [`bpf_obj_get_info_by_fd`].
unsafe fn get_info(bpf_fd: c_int, info: *mut c_void, info_len: *mut __u32) -> CResult<c_int> {
    let info_len = out_ptr(info_len, "info_len")?;
    let mut attr = Attr::zeroed();
    {
        // SAFETY: the union members hold integers only.
        let i = unsafe { &mut attr.get_mut().info };
        i.bpf_fd = bpf_fd as u32;
        // SAFETY: info_len is non-NULL (checked) and readable (caller's contract).
        i.info_len = unsafe { info_len.read() };
        i.info = ptr_u64(info);
    }
    // SAFETY: the kernel writes at most info_len bytes to info (caller's contract).
    let ret = unsafe { sys_bpf(bpf_cmd::BPF_OBJ_GET_INFO_BY_FD, &mut attr, size_of::<uapi::bpf_attr__bindgen_ty_9>())? };
    // SAFETY: as above.
    unsafe { info_len.write(attr.get().info.info_len) };
    Ok(ret)
}

/// [`bpf_obj_get_info_by_fd`] typed for a prog.
///
/// # Safety
/// `info` writable for `*info_len` bytes; `info_len` NULL or a valid `__u32`.
#[no_mangle]
pub unsafe extern "C" fn bpf_prog_get_info_by_fd(fd: c_int, info: *mut bpf_prog_info, info_len: *mut __u32) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_prog_get_info_by_fd", || unsafe { get_info(fd, info.cast(), info_len) })
}

/// [`bpf_obj_get_info_by_fd`] typed for a map.
///
/// # Safety
/// `info` writable for `*info_len` bytes; `info_len` NULL or a valid `__u32`.
#[no_mangle]
pub unsafe extern "C" fn bpf_map_get_info_by_fd(fd: c_int, info: *mut bpf_map_info, info_len: *mut __u32) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_map_get_info_by_fd", || unsafe { get_info(fd, info.cast(), info_len) })
}

/// [`bpf_obj_get_info_by_fd`] typed for a btf.
///
/// # Safety
/// `info` writable for `*info_len` bytes; `info_len` NULL or a valid `__u32`.
#[no_mangle]
pub unsafe extern "C" fn bpf_btf_get_info_by_fd(fd: c_int, info: *mut bpf_btf_info, info_len: *mut __u32) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_btf_get_info_by_fd", || unsafe { get_info(fd, info.cast(), info_len) })
}

/// [`bpf_obj_get_info_by_fd`] typed for a link.
///
/// # Safety
/// `info` writable for `*info_len` bytes; `info_len` NULL or a valid `__u32`.
#[no_mangle]
pub unsafe extern "C" fn bpf_link_get_info_by_fd(fd: c_int, info: *mut bpf_link_info, info_len: *mut __u32) -> c_int {
    // SAFETY: forwarded contract.
    call("bpf_link_get_info_by_fd", || unsafe { get_info(fd, info.cast(), info_len) })
}

/// Enables kernel-wide statistics of `type_` until the returned fd is closed.
#[no_mangle]
pub extern "C" fn bpf_enable_stats(type_: bpf_stats_type) -> c_int {
    call("bpf_enable_stats", || {
        let mut attr = Attr::zeroed();
        attr.get_mut().enable_stats.type_ = type_;
        // SAFETY: no pointers.
        unsafe { sys_bpf_fd(bpf_cmd::BPF_ENABLE_STATS, &mut attr, size_of::<uapi::bpf_attr__bindgen_ty_17>()) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::opts::LibbpfOpts;

    // offsetofend(type, last_field) of libbpf 1.1.2 (gcc on /usr/include/bpf/bpf.h, x86-64);
    // capi-tests/layout.c compares every field offset against the system headers.
    #[test]
    fn opts_layouts_match_libbpf_1_1() {
        assert_eq!(bpf_map_create_opts::LAST_FIELD_END, 48);
        assert_eq!(bpf_prog_load_opts::LAST_FIELD_END, 104);
        assert_eq!(bpf_btf_load_opts::LAST_FIELD_END, 24);
        assert_eq!(bpf_map_batch_opts::LAST_FIELD_END, 24);
        assert_eq!(bpf_test_run_opts::LAST_FIELD_END, 80);
        assert_eq!(size_of::<bpf_obj_get_opts>(), 16);
        assert_eq!(size_of::<bpf_get_fd_by_id_opts>(), 16);
    }

    #[test]
    fn inconsistent_log_settings_are_rejected() {
        let mut buf = [0 as c_char; 16];
        let mut o = bpf_prog_load_opts::default();
        o.log_size = 16;
        assert!(check_prog_log(&o).is_err(), "size without buffer");
        o.log_buf = buf.as_mut_ptr();
        assert!(check_prog_log(&o).is_ok());
        o.log_level = 8;
        assert!(check_prog_log(&o).is_err(), "unknown level");
    }

    #[test]
    fn long_names_are_truncated_to_15_chars() {
        let mut dst = [0 as c_char; 16];
        unsafe { copy_obj_name(c"a_very_long_map_name".as_ptr(), &mut dst) };
        let s = unsafe { std::ffi::CStr::from_ptr(dst.as_ptr()) };
        assert_eq!(s.to_bytes(), b"a_very_long_map");
    }
}
