//! libbpf's link API (`bpf_link__*`) over [`crate::loader::Link`].
//!
//! `struct bpf_link *` handles are `Box` pointers recorded in a registry of live links (the
//! same idea as [`super::handles`] for objects): a destroyed or made-up pointer is refused with
//! `EINVAL` and a sentence instead of being dereferenced, and destroying it twice is harmless.
use std::collections::HashSet;
use std::ffi::{c_char, c_int, CString};
use std::os::fd::{AsRawFd, BorrowedFd};

use parking_lot::Mutex;

use super::guard::{c_path, call, CError, CResult};
use super::object::load_error;
use super::program::bpf_program;
use crate::loader::Link;

/// `struct bpf_link`: an fd-based link and its pin path as a C string.
#[allow(non_camel_case_types)]
pub struct bpf_link {
    inner: Link,
    /// `bpf_link__pin_path`'s answer, rebuilt when the pin changes.
    pin_path: Option<CString>,
    /// `bpf_link__disconnect`: destroy leaves the attachment to whoever else holds it.
    disconnected: bool,
}

static LIVE_LINKS: Mutex<Option<HashSet<usize>>> = Mutex::new(None);

fn with_links<R>(f: impl FnOnce(&mut HashSet<usize>) -> R) -> R {
    f(LIVE_LINKS.lock().get_or_insert_with(HashSet::new))
}

/// Hands out a new link handle (registered as live).
pub(crate) fn new_link(inner: Link) -> *mut bpf_link {
    let pin_path = inner.pin_path().map(|p| super::object::c_string(&p.to_string_lossy()));
    let ptr = Box::into_raw(Box::new(bpf_link { inner, pin_path, disconnected: false }));
    with_links(|l| l.insert(ptr as usize));
    ptr
}

fn check_link(link: *const bpf_link) -> CResult<()> {
    if link.is_null() {
        return Err(CError::invalid("link is NULL"));
    }
    if !with_links(|l| l.contains(&(link as usize))) {
        return Err(CError::invalid(format!("{link:p} is not a live bpf_link (destroyed or never created)")));
    }
    Ok(())
}

/// # Safety
/// No other reference to the link may be live for `'a`.
unsafe fn link_mut<'a>(link: *mut bpf_link) -> CResult<&'a mut bpf_link> {
    check_link(link)?;
    // SAFETY: registered links are live Box allocations; exclusivity per the contract.
    Ok(unsafe { &mut *link })
}

/// # Safety
/// No exclusive reference to the link may be live for `'a`.
unsafe fn link_ref<'a>(link: *const bpf_link) -> CResult<&'a bpf_link> {
    check_link(link)?;
    // SAFETY: registered links are live Box allocations.
    Ok(unsafe { &*link })
}

impl bpf_link {
    fn sync_pin_path(&mut self) {
        self.pin_path = self.inner.pin_path().map(|p| super::object::c_string(&p.to_string_lossy()));
    }
}

/// The link's fd (`-EINVAL` for a bad handle, `-EBADF` once destroyed is impossible: destroy
/// frees the handle).
///
/// # Safety
/// `link` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__fd(link: *const bpf_link) -> c_int {
    call("bpf_link__fd", || {
        // SAFETY: caller's contract.
        let l = unsafe { link_ref(link)? };
        l.inner.fd().map(|fd| fd.as_raw_fd()).ok_or(CError::quiet(libc::EBADF))
    })
}

/// Closes the link (the attachment ends unless pinned or otherwise held) and frees the
/// handle. NULL is a no-op; an unknown pointer is logged and left alone.
///
/// # Safety
/// `link` NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__destroy(link: *mut bpf_link) -> c_int {
    call("bpf_link__destroy", || {
        if link.is_null() {
            return Ok(0);
        }
        check_link(link)?;
        with_links(|l| l.remove(&(link as usize)));
        // SAFETY: registered (now unregistered) Box allocation, freed exactly once here.
        let mut owned = unsafe { Box::from_raw(link) };
        if owned.disconnected {
            // For fd-based links detaching is closing the fd: like libbpf, a disconnected
            // link's fd stays open so the attachment outlives the handle.
            if let Some(fd) = owned.inner.take_fd() {
                let _ = std::os::fd::IntoRawFd::into_raw_fd(fd);
            }
            return Ok(0);
        }
        owned.inner.destroy().map_err(load_error)?;
        Ok(0)
    })
}

/// Marks the link so that destroy won't detach it (for fd-based links the attachment then
/// lives on only through pins or other fds, as in libbpf).
///
/// # Safety
/// `link` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__disconnect(link: *mut bpf_link) {
    call("bpf_link__disconnect", || {
        // SAFETY: caller's contract.
        unsafe { link_mut(link)? }.disconnected = true;
        Ok(())
    })
}

/// `BPF_LINK_DETACH`: ends the attachment; the handle stays valid until destroyed.
///
/// # Safety
/// `link` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__detach(link: *mut bpf_link) -> c_int {
    call("bpf_link__detach", || {
        // SAFETY: caller's contract.
        let l = unsafe { link_ref(link)? };
        l.inner.detach().map_err(|e| CError::quiet(e.errno()))?;
        Ok(0)
    })
}

/// Pins the link at `path` (on a bpffs); `-EBUSY` when already pinned.
///
/// # Safety
/// `link` NULL or a live handle; `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__pin(link: *mut bpf_link, path: *const c_char) -> c_int {
    call("bpf_link__pin", || {
        // SAFETY: caller's contract.
        let l = unsafe { link_mut(link)? };
        // SAFETY: caller's contract.
        let path = unsafe { c_path(path, "path")? };
        if l.inner.pin_path().is_some() {
            return Err(CError::quiet(libc::EBUSY));
        }
        let result = l.inner.pin(path).map_err(load_error);
        l.sync_pin_path();
        result.map(|()| 0)
    })
}

/// Removes the link's pin (`-EINVAL` when it has none).
///
/// # Safety
/// `link` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__unpin(link: *mut bpf_link) -> c_int {
    call("bpf_link__unpin", || {
        // SAFETY: caller's contract.
        let l = unsafe { link_mut(link)? };
        if l.inner.pin_path().is_none() {
            return Err(CError::quiet(libc::EINVAL));
        }
        let result = l.inner.unpin().map_err(load_error);
        l.sync_pin_path();
        result.map(|()| 0)
    })
}

/// The path the link is pinned at, or NULL.
///
/// # Safety
/// `link` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__pin_path(link: *const bpf_link) -> *const c_char {
    call("bpf_link__pin_path", || {
        // SAFETY: caller's contract.
        let l = unsafe { link_ref(link)? };
        Ok(l.pin_path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()))
    })
}

/// Opens the link pinned at `path`.
///
/// # Safety
/// `path` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__open(path: *const c_char) -> *mut bpf_link {
    call("bpf_link__open", || {
        // SAFETY: caller's contract.
        let path = unsafe { c_path(path, "path")? };
        let link = Link::open(path).map_err(load_error)?;
        Ok(new_link(link))
    })
}

/// `BPF_LINK_UPDATE`: the link runs `prog` from now on. freplace links don't support it: the
/// kernel's error is returned.
///
/// # Safety
/// `link` NULL or a live handle; `prog` NULL or a live program handle.
#[no_mangle]
pub unsafe extern "C" fn bpf_link__update_program(link: *mut bpf_link, prog: *mut bpf_program) -> c_int {
    call("bpf_link__update_program", || {
        // SAFETY: caller's contract.
        let l = unsafe { link_ref(link)? };
        // SAFETY: caller's contract.
        let prog_fd = unsafe { super::program::loaded_fd(prog)? };
        // SAFETY: the fd belongs to the live program for the duration of this call.
        let prog_fd = unsafe { BorrowedFd::borrow_raw(prog_fd) };
        l.inner.update_program(prog_fd).map_err(|e| CError::quiet(e.errno()))?;
        Ok(0)
    })
}
