//! Reading the files users hand bpflink (objects, BTF, vmlinux images) with a size cap: a
//! special file (`/dev/zero`, a pipe) or a huge file is refused instead of being read until
//! memory runs out.
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The most bytes read from one input file: above any BPF object and any vmlinux image with
/// DWARF (whose `.BTF` CO-RE may read).
pub const MAX_INPUT_FILE_SIZE: u64 = 1 << 30;

/// The error inside the `io::Error` of a file over the cap.
#[derive(Debug, thiserror::Error)]
#[error("larger than {max} bytes, the most bpflink reads from one input file")]
pub struct InputTooLarge {
    pub max: u64,
}

/// The whole file, if it holds at most [`MAX_INPUT_FILE_SIZE`] bytes.
pub fn read_input_file(path: &Path) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    // A regular file's size is known up front; others are read up to the cap.
    check_input_size(file.metadata()?.len())?;
    read_capped(file, MAX_INPUT_FILE_SIZE)
}

/// Refuses an input file of `len` bytes if it is over [`MAX_INPUT_FILE_SIZE`] (for readers
/// that read only parts of a file, sized by its length).
pub fn check_input_size(len: u64) -> io::Result<()> {
    if len > MAX_INPUT_FILE_SIZE {
        return Err(too_large(MAX_INPUT_FILE_SIZE));
    }
    Ok(())
}

/// Everything `reader` yields, if it is at most `max` bytes.
pub fn read_capped(reader: impl Read, max: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(data)
}

fn too_large(max: u64) -> io::Error {
    io::Error::other(InputTooLarge { max })
}

/// The errno to report for an I/O error of reading an input: `EFBIG` for a file over the
/// cap, the OS error otherwise (`EIO` if there is none).
pub fn io_errno(e: &io::Error) -> i32 {
    if e.get_ref().is_some_and(|inner| inner.is::<InputTooLarge>()) {
        return libc::EFBIG;
    }
    e.raw_os_error().unwrap_or(libc::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_over_the_cap_are_refused_with_efbig() {
        assert_eq!(read_capped(&[1u8, 2, 3][..], 3).unwrap(), [1, 2, 3]);
        let err = read_capped(io::repeat(0), 1000).unwrap_err();
        assert_eq!(io_errno(&err), libc::EFBIG);
        assert!(err.to_string().contains("larger than 1000 bytes"), "{err}");
        let missing = read_input_file(Path::new("/nonexistent/x.o")).unwrap_err();
        assert_eq!(io_errno(&missing), libc::ENOENT);
    }

    #[test]
    fn special_files_are_read_up_to_the_cap_only() {
        let err = read_capped(File::open("/dev/zero").unwrap(), 1 << 20).unwrap_err();
        assert_eq!(io_errno(&err), libc::EFBIG);
    }
}
