//! libbpf's program API (`bpf_program__*`) over [`crate::loader::Program`].
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::os::fd::AsRawFd;

use super::guard::{c_path, call, CError, CResult};
use super::handles::check_program;
use super::object::{bpf_object, c_string, copy_c_text, load_error};
use super::types::{__u32, bpf_attach_type, bpf_insn, bpf_prog_type};
use crate::loader::{Object, Program};
use crate::object::{AttachType, Insn, ProgType};

/// `struct bpf_program`: a handle into its object's program list.
#[allow(non_camel_case_types)]
pub struct bpf_program {
    obj: *mut bpf_object,
    index: usize,
    name: CString,
    section_name: CString,
    /// The caller's verifier log buffer (`bpf_program__set_log_buf`).
    log_buf: *mut c_char,
    log_size: usize,
    /// `struct bpf_insn` copies of the instructions, for `bpf_program__insns` (whose pointer
    /// the caller keeps): rebuilt when the instructions change (at load).
    insns: RefCell<Vec<bpf_insn>>,
}

impl bpf_program {
    pub(crate) fn new(obj: *mut bpf_object, index: usize, p: &Program) -> bpf_program {
        bpf_program {
            obj,
            index,
            name: c_string(p.name()),
            section_name: c_string(p.section_name()),
            log_buf: std::ptr::null_mut(),
            log_size: 0,
            insns: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn name_cstr(&self) -> &CStr {
        &self.name
    }

    pub(crate) fn has_log_buf(&self) -> bool {
        !self.log_buf.is_null() && self.log_size > 0
    }

    /// Tells the loader about the caller's log buffer before load.
    pub(crate) fn apply_log_settings(&self, program: &mut Program) {
        let size = self.has_log_buf().then_some(self.log_size);
        // Cannot fail: the object is not loaded yet (checked by the caller).
        let _ = program.set_log_size(size);
    }

    /// Copies the kernel's log into the caller's buffer after load.
    pub(crate) fn copy_log_out(&self, log: &[u8]) {
        if !self.has_log_buf() {
            return;
        }
        // SAFETY: log_buf holds log_size writable bytes (bpf_program__set_log_buf's contract).
        let out = unsafe { std::slice::from_raw_parts_mut(self.log_buf.cast::<u8>(), self.log_size) };
        copy_c_text(log, out);
    }
}

/// A program handle of a live object (NULL, closed or foreign: `EINVAL`).
///
/// # Safety
/// No exclusive reference to the handle may be live for `'a`.
unsafe fn program_handle<'a>(prog: *const bpf_program) -> CResult<&'a bpf_program> {
    check_program(prog)?;
    // SAFETY: registered program handles are elements of a live object's program slice.
    Ok(unsafe { &*prog })
}

/// As [`program_handle`], exclusive.
///
/// # Safety
/// No other reference to the handle may be live for `'a`.
unsafe fn program_handle_mut<'a>(prog: *mut bpf_program) -> CResult<&'a mut bpf_program> {
    check_program(prog)?;
    // SAFETY: as in program_handle; exclusivity per the contract.
    Ok(unsafe { &mut *prog })
}

/// The program handle and its loader program.
///
/// # Safety
/// `prog` NULL or a live handle (its object not closed).
unsafe fn parts<'a>(prog: *const bpf_program) -> CResult<(&'a bpf_program, &'a Object, &'a Program)> {
    // SAFETY: caller's contract.
    let handle = unsafe { program_handle(prog)? };
    // SAFETY: a live handle's object is live; `inner` is a field disjoint from the handle list.
    let object = unsafe { &*std::ptr::addr_of!((*handle.obj).inner) };
    let program = object.programs().get(handle.index).ok_or(CError::invalid("stale program handle"))?;
    Ok((handle, object, program))
}

/// Mutable access to the loader program, for setters.
///
/// # Safety
/// As [`parts`]; no other reference into the object may be live.
unsafe fn program_mut<'a>(prog: *mut bpf_program) -> CResult<(&'a mut bpf_program, &'a mut Program, bool)> {
    // SAFETY: caller's contract.
    let handle = unsafe { program_handle_mut(prog)? };
    // SAFETY: as in parts; the handle and `inner` are disjoint fields of the object.
    let object = unsafe { &mut *std::ptr::addr_of_mut!((*handle.obj).inner) };
    let loaded = object.state() != crate::loader::ObjectState::Opened;
    let program = object.programs_mut().get_mut(handle.index).ok_or(CError::invalid("stale program handle"))?;
    Ok((handle, program, loaded))
}

/// libbpf's setters answer `-EBUSY` once the object was loaded (set_autoload: `-EINVAL`).
fn refuse_if_loaded(loaded: bool, errno: c_int) -> CResult<()> {
    if loaded {
        return Err(CError::quiet(errno));
    }
    Ok(())
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__name(prog: *const bpf_program) -> *const c_char {
    // SAFETY: caller's contract.
    call("bpf_program__name", || Ok(unsafe { program_handle(prog)? }.name.as_ptr()))
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__section_name(prog: *const bpf_program) -> *const c_char {
    // SAFETY: caller's contract.
    call("bpf_program__section_name", || Ok(unsafe { program_handle(prog)? }.section_name.as_ptr()))
}

/// The program's fd after load; `-ENOENT` if it was not loaded.
///
/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__fd(prog: *const bpf_program) -> c_int {
    call("bpf_program__fd", || {
        // SAFETY: caller's contract.
        let (_, _, p) = unsafe { parts(prog)? };
        p.fd().map(|fd| fd.as_raw_fd()).ok_or(CError::quiet(libc::ENOENT))
    })
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__type(prog: *const bpf_program) -> bpf_prog_type {
    // SAFETY: caller's contract.
    call("bpf_program__type", || Ok(unsafe { parts(prog)? }.2.prog_type().0))
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__set_type(prog: *mut bpf_program, type_: bpf_prog_type) -> c_int {
    call("bpf_program__set_type", || {
        // SAFETY: caller's contract.
        let (_, p, loaded) = unsafe { program_mut(prog)? };
        refuse_if_loaded(loaded, libc::EBUSY)?;
        p.set_type(ProgType(type_)).map_err(load_error)?;
        Ok(0)
    })
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__expected_attach_type(prog: *const bpf_program) -> bpf_attach_type {
    // SAFETY: caller's contract.
    call("bpf_program__expected_attach_type", || Ok(unsafe { parts(prog)? }.2.expected_attach_type().0))
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__set_expected_attach_type(prog: *mut bpf_program, type_: bpf_attach_type) -> c_int {
    call("bpf_program__set_expected_attach_type", || {
        // SAFETY: caller's contract.
        let (_, p, loaded) = unsafe { program_mut(prog)? };
        refuse_if_loaded(loaded, libc::EBUSY)?;
        p.set_expected_attach_type(AttachType(type_)).map_err(load_error)?;
        Ok(0)
    })
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__autoload(prog: *const bpf_program) -> bool {
    // SAFETY: caller's contract.
    call("bpf_program__autoload", || Ok(unsafe { parts(prog)? }.2.autoload()))
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__set_autoload(prog: *mut bpf_program, autoload: bool) -> c_int {
    call("bpf_program__set_autoload", || {
        // SAFETY: caller's contract.
        let (_, p, loaded) = unsafe { program_mut(prog)? };
        refuse_if_loaded(loaded, libc::EINVAL)?;
        p.set_autoload(autoload).map_err(load_error)?;
        Ok(0)
    })
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__flags(prog: *const bpf_program) -> __u32 {
    // SAFETY: caller's contract.
    call("bpf_program__flags", || Ok(unsafe { parts(prog)? }.2.flags()))
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__set_flags(prog: *mut bpf_program, flags: __u32) -> c_int {
    call("bpf_program__set_flags", || {
        // SAFETY: caller's contract.
        let (_, p, loaded) = unsafe { program_mut(prog)? };
        refuse_if_loaded(loaded, libc::EBUSY)?;
        p.set_flags(flags).map_err(load_error)?;
        Ok(0)
    })
}

/// Instruction count: the program's own before load, with subprograms appended after.
///
/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__insn_cnt(prog: *const bpf_program) -> usize {
    // SAFETY: caller's contract.
    call("bpf_program__insn_cnt", || Ok(unsafe { parts(prog)? }.2.insn_cnt()))
}

fn to_bpf_insn(i: &Insn) -> bpf_insn {
    let off = i.off.to_le_bytes();
    let imm = i.imm.to_le_bytes();
    crate::sys::insn::from_bytes([
        i.code,
        (i.dst_reg & 0x0f) | (i.src_reg << 4),
        off[0],
        off[1],
        imm[0],
        imm[1],
        imm[2],
        imm[3],
    ])
}

/// The instructions (see [`bpf_program__insn_cnt`]); valid until the object is loaded or closed.
///
/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__insns(prog: *const bpf_program) -> *const bpf_insn {
    call("bpf_program__insns", || {
        // SAFETY: caller's contract.
        let (handle, _, p) = unsafe { parts(prog)? };
        let fresh: Vec<bpf_insn> = p.insns().iter().map(to_bpf_insn).collect();
        let mut cache = handle.insns.borrow_mut();
        let same = cache.len() == fresh.len()
            && cache.iter().zip(&fresh).all(|(a, b)| crate::sys::insn::to_bytes(a) == crate::sys::insn::to_bytes(b));
        if !same {
            *cache = fresh;
        }
        Ok(cache.as_ptr())
    })
}

/// Sets the network device for offloaded programs (no-op result, as libbpf's `void` API).
///
/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__set_ifindex(prog: *mut bpf_program, ifindex: __u32) {
    call("bpf_program__set_ifindex", || {
        // SAFETY: caller's contract.
        let (_, p, _) = unsafe { program_mut(prog)? };
        p.set_ifindex(ifindex).map_err(load_error)
    })
}

/// Pins the loaded program at `path` (on a bpffs).
///
/// # Safety
/// `prog` NULL or a live handle; `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__pin(prog: *mut bpf_program, path: *const c_char) -> c_int {
    call("bpf_program__pin", || {
        // SAFETY: caller's contract.
        let (handle, _, p) = unsafe { parts(prog)? };
        if p.fd().is_none() {
            return Err(CError::invalid(format!(
                "prog '{}': can't pin program that wasn't loaded",
                handle.name.to_string_lossy()
            )));
        }
        // SAFETY: caller's contract.
        let path = unsafe { c_path(path, "path")? };
        p.pin(path).map_err(load_error)?;
        Ok(0)
    })
}

/// Removes the pin at `path`.
///
/// # Safety
/// `prog` NULL or a live handle; `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__unpin(prog: *mut bpf_program, path: *const c_char) -> c_int {
    call("bpf_program__unpin", || {
        // SAFETY: caller's contract.
        let (handle, _, p) = unsafe { parts(prog)? };
        if p.fd().is_none() {
            return Err(CError::invalid(format!(
                "prog '{}': can't unpin program that wasn't loaded",
                handle.name.to_string_lossy()
            )));
        }
        // SAFETY: caller's contract.
        let path = unsafe { c_path(path, "path")? };
        p.unpin(path).map_err(load_error)?;
        Ok(0)
    })
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__log_level(prog: *const bpf_program) -> __u32 {
    // SAFETY: caller's contract.
    call("bpf_program__log_level", || Ok(unsafe { parts(prog)? }.2.log_level()))
}

/// # Safety
/// `prog` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__set_log_level(prog: *mut bpf_program, log_level: __u32) -> c_int {
    call("bpf_program__set_log_level", || {
        // SAFETY: caller's contract.
        let (_, p, loaded) = unsafe { program_mut(prog)? };
        refuse_if_loaded(loaded, libc::EBUSY)?;
        p.set_log_level(log_level).map_err(load_error)?;
        Ok(0)
    })
}

/// The caller's log buffer and its size (`*log_size`), as set by `bpf_program__set_log_buf`.
///
/// # Safety
/// `prog` NULL or a live handle; `log_size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__log_buf(prog: *const bpf_program, log_size: *mut usize) -> *const c_char {
    call("bpf_program__log_buf", || {
        // SAFETY: caller's contract.
        let handle = unsafe { program_handle(prog)? };
        let log_size = super::guard::out_ptr(log_size, "log_size")?;
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe { log_size.write(handle.log_size) };
        Ok(handle.log_buf.cast_const())
    })
}

/// Gives the program a buffer for the verifier's log (filled at load).
///
/// # Safety
/// `prog` NULL or a live handle; `log_buf` NULL or `log_size` writable bytes that outlive the load.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__set_log_buf(prog: *mut bpf_program, log_buf: *mut c_char, log_size: usize) -> c_int {
    call("bpf_program__set_log_buf", || {
        // libbpf 1.1 returns these errors without setting errno.
        if log_size != 0 && log_buf.is_null() {
            return Ok(-libc::EINVAL);
        }
        if log_size > u32::MAX as usize {
            return Ok(-libc::EINVAL);
        }
        // SAFETY: caller's contract.
        let (handle, _, loaded) = unsafe { program_mut(prog)? };
        if loaded {
            return Ok(-libc::EBUSY);
        }
        handle.log_buf = log_buf;
        handle.log_size = log_size;
        Ok(0)
    })
}

/// The fd of a loaded program (libbpf: `-EINVAL` and a warning when it wasn't loaded).
///
/// # Safety
/// `prog` NULL or a live handle.
pub(crate) unsafe fn loaded_fd(prog: *const bpf_program) -> CResult<std::os::fd::RawFd> {
    // SAFETY: caller's contract.
    let (handle, _, p) = unsafe { parts(prog)? };
    p.fd().map(|fd| fd.as_raw_fd()).ok_or_else(|| {
        CError::invalid(format!("prog '{}': can't use BPF program without FD (was it loaded?)", handle.name.to_string_lossy()))
    })
}

/// Sets the target of an EXT/fentry/fexit program before load: a loaded program
/// (`attach_prog_fd` > 0) and/or a function name (looked up now, like libbpf).
///
/// # Safety
/// `prog` NULL or a live handle; `attach_func_name` NULL or a C string; `attach_prog_fd` 0 or
/// an fd the caller keeps open during the call.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__set_attach_target(
    prog: *mut bpf_program,
    attach_prog_fd: c_int,
    attach_func_name: *const c_char,
) -> c_int {
    call("bpf_program__set_attach_target", || {
        if attach_prog_fd < 0 {
            return Err(CError::quiet(libc::EINVAL));
        }
        // SAFETY: caller's contract.
        let (_, p, loaded) = unsafe { program_mut(prog)? };
        refuse_if_loaded(loaded, libc::EINVAL)?;
        let name = if attach_func_name.is_null() {
            None
        } else {
            // SAFETY: caller's contract.
            Some(unsafe { super::guard::c_utf8(attach_func_name, "attach_func_name")? })
        };
        if attach_prog_fd == 0 && name.is_none() {
            return Err(CError::quiet(libc::EINVAL));
        }
        // SAFETY: the caller keeps attach_prog_fd open for the call; the loader duplicates it.
        let fd = (attach_prog_fd > 0).then(|| unsafe { std::os::fd::BorrowedFd::borrow_raw(attach_prog_fd) });
        p.set_attach_target(fd, name).map_err(load_error)?;
        Ok(0)
    })
}

/// Attaches a loaded EXT program to function `attach_func_name` of the program `target_fd`
/// (or, with 0 and NULL, to the target given at load).
///
/// # Safety
/// `prog` NULL or a live handle; `attach_func_name` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_program__attach_freplace(
    prog: *const bpf_program,
    target_fd: c_int,
    attach_func_name: *const c_char,
) -> *mut super::link::bpf_link {
    call("bpf_program__attach_freplace", || {
        // SAFETY: caller's contract.
        let (handle, object, p) = unsafe { parts(prog)? };
        if (target_fd != 0) == attach_func_name.is_null() {
            return Err(CError::invalid(format!(
                "prog '{}': supply none or both of target_fd and attach_func_name",
                handle.name.to_string_lossy()
            )));
        }
        if target_fd < 0 {
            return Err(CError::invalid(format!("prog '{}': invalid target_fd {target_fd}", handle.name.to_string_lossy())));
        }
        let target = if target_fd == 0 {
            None
        } else {
            // SAFETY: caller's contract.
            let func_name = unsafe { super::guard::c_utf8(attach_func_name, "attach_func_name")? };
            // SAFETY: the caller keeps target_fd open for the call.
            let prog_fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(target_fd) };
            Some(crate::loader::FreplaceTarget { prog_fd, func_name })
        };
        let link = object.attach_freplace(p.name(), target).map_err(load_error)?;
        Ok(super::link::new_link(link))
    })
}
