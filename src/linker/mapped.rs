//! A read-only private mapping of a whole file, unmapped on drop.
use std::fs::File;
use std::os::fd::AsRawFd;

pub struct Mapped {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapped {
    pub fn new(file: &File) -> std::io::Result<Mapped> {
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::from_raw_os_error(libc::EFBIG))?;
        if len == 0 {
            // mmap refuses empty mappings; an empty file is simply empty bytes.
            return Ok(Mapped { ptr: std::ptr::null_mut(), len: 0 });
        }
        // SAFETY: a fresh private read-only mapping of `len` bytes of an open file; the kernel
        // picks the address. It is only read through `bytes` and unmapped once, on drop.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Mapped { ptr, len })
    }

    /// The file's bytes. (As with any mapped file, truncating it while it is being linked
    /// would fault; object files being linked are not expected to change.)
    pub fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }

    /// Drops the pages read so far from this process's memory: the linker calls it once an
    /// input has been merged, while other inputs are still mapped. The mapping stays valid (a
    /// later read would fetch the unchanged file pages again).
    pub fn discard_pages(&self) {
        if self.len != 0 {
            // SAFETY: advice on exactly our own private read-only mapping; MADV_DONTNEED on a
            // private file mapping only drops cached pages, contents remain the file's.
            unsafe { libc::madvise(self.ptr, self.len, libc::MADV_DONTNEED) };
        }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: unmaps exactly the mapping created in `new`, once.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}
