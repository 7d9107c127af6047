//! The memory behind a global data map's value (libbpf's `map->mmaped`).
//!
//! At open it is an anonymous private mapping holding the section's initial bytes; at load the
//! map's fd is mapped with `MAP_FIXED` over the same address, so pointers users took before
//! load (skeletons do) keep working and now see the live map.
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

/// One page-aligned mapping, unmapped on drop.
#[derive(Debug)]
pub struct MmapRegion {
    ptr: NonNull<u8>,
    /// Mapped length (a multiple of the page size).
    len: usize,
    /// Bytes of it that are the map value(s).
    used: usize,
    writable: bool,
    /// Mapped over a map's fd (`map_fd_in_place`) rather than anonymous.
    shared: bool,
}

// SAFETY: the region is plain memory owned by this value; access goes through &self/&mut self.
unsafe impl Send for MmapRegion {}
// SAFETY: shared access only reads.
unsafe impl Sync for MmapRegion {}

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
}

/// libbpf's `bpf_map_mmap_sz`: each value rounded to 8 bytes, times the entries, whole pages.
pub fn mmap_size(value_size: u32, max_entries: u32) -> usize {
    let bytes = (value_size as usize).next_multiple_of(8).saturating_mul(max_entries.max(1) as usize);
    bytes.max(1).next_multiple_of(page_size())
}

impl MmapRegion {
    /// A zeroed anonymous region for `used` bytes of values, `mapped` bytes long.
    pub fn anonymous(used: usize, mapped: usize) -> io::Result<MmapRegion> {
        let len = mapped.max(used).max(1).next_multiple_of(page_size());
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap returned NULL"))?;
        Ok(MmapRegion { ptr, len, used, writable: true, shared: false })
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Bytes holding the value(s).
    pub fn size(&self) -> usize {
        self.used
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the region is mapped readable for `len >= used` bytes while self lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.used) }
    }

    /// The value bytes, writable while the region is still anonymous (before load).
    pub fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        // SAFETY: mapped writable for `used` bytes; exclusively borrowed through &mut self.
        self.writable.then(|| unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.used) })
    }

    /// Overwrites the start of the value bytes; fails once the region is mapped read-only.
    pub fn write(&mut self, offset: usize, data: &[u8]) -> io::Result<()> {
        if !self.writable {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
        let end = offset.checked_add(data.len()).filter(|&e| e <= self.used);
        if end.is_none() {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: bounds checked above; the region is writable.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len()) };
        Ok(())
    }

    /// Maps `fd` (a mmapable map) over this region at the same address.
    pub fn map_fd_in_place(&mut self, fd: BorrowedFd<'_>, writable: bool) -> io::Result<()> {
        let prot = if writable { libc::PROT_READ | libc::PROT_WRITE } else { libc::PROT_READ };
        // SAFETY: MAP_FIXED replaces our own mapping of exactly `len` bytes at `ptr`.
        let ptr = unsafe {
            libc::mmap(self.ptr.as_ptr().cast(), self.len, prot, libc::MAP_SHARED | libc::MAP_FIXED, fd.as_raw_fd(), 0)
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        self.writable = writable;
        self.shared = true;
        Ok(())
    }

    /// Replaces a map's shared mapping with a private writable copy at the same address (after
    /// a failed load, when the map's fd is closed); a no-op while still anonymous.
    pub fn make_private(&mut self) -> io::Result<()> {
        if !self.shared {
            return Ok(());
        }
        let copy = self.bytes().to_vec();
        // SAFETY: MAP_FIXED replaces our own mapping of exactly `len` bytes at `ptr`.
        let ptr = unsafe {
            libc::mmap(
                self.ptr.as_ptr().cast(),
                self.len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        self.shared = false;
        self.writable = true;
        self.write(0, &copy)
    }

    /// A new anonymous region for `used` bytes with the old contents copied (truncated or
    /// zero-extended), like libbpf's `bpf_map_mmap_resize`. The address changes.
    pub fn resized(&self, used: usize, mapped: usize) -> io::Result<MmapRegion> {
        let mut new = MmapRegion::anonymous(used, mapped)?;
        let keep = self.used.min(used);
        new.write(0, &self.bytes()[..keep])?;
        Ok(new)
    }
}

impl Drop for MmapRegion {
    fn drop(&mut self) {
        // SAFETY: we own this mapping of `len` bytes.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}
