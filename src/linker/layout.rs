//! Pass 1: section layout. Same-named sections are concatenated in input order, each input's
//! part aligned to its own alignment (the output keeps the maximum); `license` and `version`
//! are kept once and must be identical; DWARF, relocation tables, symbol/string tables and
//! the BTF sections (rebuilt later) are not copied.
use object::elf;

use crate::object::{Section, SectionKind};

use super::LinkError;

/// A section of the output object.
#[derive(Debug, Clone)]
pub struct OutSection {
    pub name: String,
    pub kind: SectionKind,
    pub sh_type: u32,
    pub flags: u64,
    pub entsize: u64,
    pub align: u64,
    pub size: u64,
    /// Contents (empty for SHT_NOBITS).
    pub data: Vec<u8>,
    /// The input that created it (for error messages).
    pub first_file: String,
}

impl OutSection {
    pub fn is_code(&self) -> bool {
        matches!(self.kind, SectionKind::Program | SectionKind::Text)
    }
}

/// Where an input section went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub out: usize,
    pub offset: u64,
    /// A duplicate `license`/`version`: its bytes were not appended and its symbols are dropped.
    pub deduped: bool,
}

#[derive(Debug, Default, Clone)]
pub struct Layout {
    pub sections: Vec<OutSection>,
    /// `placements[input][section index]`.
    pub placements: Vec<Vec<Option<Placement>>>,
}

impl Layout {
    pub fn placement(&self, input: usize, section: u32) -> Option<Placement> {
        self.placements.get(input)?.get(section as usize).copied().flatten()
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.sections.iter().position(|s| s.name == name)
    }
}

/// Sections whose contents are copied into the output.
pub fn is_linked_section(s: &Section) -> bool {
    let content = matches!(s.sh_type, elf::SHT_PROGBITS | elf::SHT_NOBITS);
    let rebuilt_or_dropped = matches!(
        s.kind,
        SectionKind::Null | SectionKind::Symtab | SectionKind::Strtab | SectionKind::Rel | SectionKind::Btf | SectionKind::BtfExt
    );
    content && !rebuilt_or_dropped && !s.name.starts_with(".debug") && !s.name.starts_with(".llvm")
}

impl Layout {
    /// Appends the linked sections of the next input (`contents[i]` are section `i`'s bytes),
    /// then runs `then` on the new layout; if either fails the layout is left as it was, so a
    /// rejected input leaves no trace.
    pub fn add<T>(
        &mut self,
        file: &str,
        sections: &[Section],
        contents: &[&[u8]],
        then: impl FnOnce(&Layout) -> Result<T, LinkError>,
    ) -> Result<T, LinkError> {
        let before: Vec<(u64, u64, usize)> = self.sections.iter().map(|s| (s.size, s.align, s.data.len())).collect();
        let inputs_before = self.placements.len();
        let result = self.place_all(file, sections, contents).and_then(|()| then(self));
        if result.is_err() {
            self.placements.truncate(inputs_before);
            self.sections.truncate(before.len());
            for (s, &(size, align, len)) in self.sections.iter_mut().zip(&before) {
                (s.size, s.align) = (size, align);
                s.data.truncate(len);
            }
        }
        result
    }

    fn place_all(&mut self, file: &str, sections: &[Section], contents: &[&[u8]]) -> Result<(), LinkError> {
        let mut placed = vec![None; sections.len()];
        for section in sections.iter().filter(|s| is_linked_section(s)) {
            let data = contents.get(section.index as usize).copied().unwrap_or_default();
            placed[section.index as usize] = Some(place(self, file, section, data)?);
        }
        self.placements.push(placed);
        Ok(())
    }
}

/// Largest section alignment accepted: each input's part of a section is padded to its
/// alignment, so a huge one (up to 2^63 in the ELF header) would allocate gigabytes of padding.
pub const MAX_SECTION_ALIGN: u64 = 1 << 16;

fn place(layout: &mut Layout, file: &str, section: &Section, data: &[u8]) -> Result<Placement, LinkError> {
    let align = section.align.max(1);
    if !align.is_power_of_two() || align > MAX_SECTION_ALIGN {
        return Err(LinkError::BadAlignment { file: file.to_string(), section: section.name.clone(), align });
    }
    let Some(out) = layout.find(&section.name) else {
        layout.sections.push(OutSection {
            name: section.name.clone(),
            kind: section.kind,
            sh_type: section.sh_type,
            flags: section.flags,
            entsize: section.entsize,
            align,
            size: section.size,
            data: data.to_vec(),
            first_file: file.to_string(),
        });
        return Ok(Placement { out: layout.sections.len() - 1, offset: 0, deduped: false });
    };
    let dst = &mut layout.sections[out];
    check_compatible(dst, file, section)?;
    if matches!(section.kind, SectionKind::License | SectionKind::Version) {
        if dst.data != data {
            return Err(LinkError::SpecialSectionMismatch {
                section: section.name.clone(),
                first_file: dst.first_file.clone(),
                file: file.to_string(),
                first: printable(&dst.data),
                second: printable(data),
            });
        }
        return Ok(Placement { out, offset: 0, deduped: true });
    }
    let too_large = || LinkError::TooLarge { what: format!("section '{}' exceeds 4 GiB", section.name) };
    let offset = dst.size.checked_next_multiple_of(align).ok_or_else(too_large)?;
    let end = offset.checked_add(section.size).filter(|&e| e <= u64::from(u32::MAX)).ok_or_else(too_large)?;
    if dst.sh_type != elf::SHT_NOBITS {
        // Both sizes are bounded by the input files' sizes (checked when reading the ELF).
        dst.data.resize(offset as usize, 0);
        dst.data.extend_from_slice(data);
    }
    dst.size = end;
    dst.align = dst.align.max(align);
    Ok(Placement { out, offset, deduped: false })
}

fn check_compatible(dst: &OutSection, file: &str, section: &Section) -> Result<(), LinkError> {
    let reason = if dst.sh_type != section.sh_type {
        format!("section type {} vs {}", dst.sh_type, section.sh_type)
    } else if dst.flags != section.flags {
        format!("section flags {:#x} vs {:#x}", dst.flags, section.flags)
    } else if dst.entsize != section.entsize {
        format!("entry size {} vs {}", dst.entsize, section.entsize)
    } else {
        return Ok(());
    };
    Err(LinkError::SectionMismatch {
        section: section.name.clone(),
        first_file: dst.first_file.clone(),
        file: file.to_string(),
        reason,
    })
}

/// Section contents for an error message: text up to the first NUL, or hex.
fn printable(data: &[u8]) -> String {
    let text = data.split(|&b| b == 0).next().unwrap_or_default();
    match std::str::from_utf8(text) {
        Ok(s) if text.len() + 1 >= data.len() => s.to_string(),
        _ => data.iter().map(|b| format!("{b:02x}")).collect(),
    }
}
