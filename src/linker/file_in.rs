//! Reading input object files: only the parts the link reads (ELF and section headers,
//! section names, and the sections [`elf_in::read`] reads), with positioned reads into one
//! buffer reused for every input.
//!
//! Why not map the files: each page of a mapping costs a page fault when first touched (a few
//! microseconds each on virtual machines), plus the mapping and unmapping; an object's DWARF,
//! usually most of the file, is never needed. A link reads a few contiguous ranges per file.
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use crate::object::input::check_input_size;
use crate::object::Section;

use super::elf_in::{self, ReadStage};

/// Ranges closer than this are read in one call (fewer system calls for a few more bytes).
const MERGE_GAP: u64 = 4096;
/// Read first, before anything is known of the file: its start (the ELF header, and in
/// compilers' layout the code and data sections) and its end (the section headers, their
/// names and the symbol names). Most of what `elf_in` asks for then needs no further call.
const HEAD: u64 = 4096;
const TAIL: u64 = 8192;

/// A file's bytes as far as the link reads them, in a buffer kept from one file to the next.
#[derive(Debug, Default)]
pub struct FileReader {
    /// At least as long as the largest file so far; bytes not read are zero or left from an
    /// earlier file, and never looked at (`elf_in::read` exposes only what `ranges_read`
    /// asked for).
    buf: Vec<u8>,
}

impl FileReader {
    /// The parts of `file` that `elf_in::read(.., wanted)` reads, at their offsets in a buffer
    /// as long as the file.
    pub fn read(&mut self, file: &File, wanted: impl Fn(&Section) -> bool) -> std::io::Result<&[u8]> {
        let size = file.metadata()?.len();
        check_input_size(size)?;
        let len = usize::try_from(size).map_err(|_| std::io::Error::from_raw_os_error(libc::EFBIG))?;
        if self.buf.len() < len {
            // Zeroed by the allocator (fresh pages): only the parts read are ever touched.
            self.buf = vec![0; len];
        }
        let buf = &mut self.buf[..len];
        let mut have = merged(vec![0..HEAD, size.saturating_sub(TAIL)..size], size);
        for range in &have {
            file.read_exact_at(&mut buf[range.start as usize..range.end as usize], range.start)?;
        }
        for stage in ReadStage::ALL {
            let Some(ranges) = elf_in::ranges_read(buf, stage, &wanted) else { break };
            for range in merged(ranges, size) {
                if have.iter().any(|h| h.start <= range.start && range.end <= h.end) {
                    continue;
                }
                // In bounds: `merged` clamps every range to the file.
                file.read_exact_at(&mut buf[range.start as usize..range.end as usize], range.start)?;
                have.push(range);
            }
        }
        Ok(&self.buf[..len])
    }
}

/// `ranges` clamped to `0..len`, sorted, with overlapping or nearby ones joined.
fn merged(mut ranges: Vec<Range<u64>>, len: u64) -> Vec<Range<u64>> {
    ranges.iter_mut().for_each(|r| *r = r.start.min(len)..r.end.min(len));
    ranges.retain(|r| r.start < r.end);
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(MERGE_GAP) => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::merged;

    #[test]
    fn ranges_are_clamped_sorted_and_joined_when_close() {
        let ranges = vec![9000..9100, 0..64, 100..200, 20_000..30_000, 50..80];
        assert_eq!(merged(ranges, 25_000), vec![0..200, 9000..9100, 20_000..25_000]);
    }
}
