//! Linkers: `static` combines several BPF ELF objects into one in user space (the job of
//! libbpf's `bpf_linker` / `bpftool gen object`).
//!
//! API: [`link_buffers`] / [`link_files`] link in one call; [`Linker`] collects inputs one by
//! one (`add_buf`, `add_file`) and `finalize`s into the bytes of one relocatable ELF object.
//!
//! Inputs are streamed: each object is read, merged and dropped when it is added, so memory
//! stays near the size of the output whatever the number of inputs.
//! 1. [`file_in`] reads only the parts of a file the link uses; [`input`] / [`elf_in`]: read
//!    the object (ET_REL, EM_BPF, 64-bit, one byte order) and its BTF, kept as encoded records
//!    ([`crate::btf::RawBtf`]); [`layout`]: append its sections to same-named ones (each part
//!    aligned, the output keeping the maximum alignment), `license`/`version` kept once (must
//!    be identical), DWARF dropped; [`btf_append`]: append its BTF records to the merged ones,
//!    folding types identical to ones already there; `.BTF.ext` records collected with shifted
//!    offsets.
//! 2. At `finalize`: [`resolve`] global names (below);
//! 3. [`symtab`]: output symbols, relocations copied with shifted offsets (never applied);
//!    in code, relocations against section symbols get their imm rebased;
//! 4. [`btf_merge`]: the merged records decoded once, representatives of global names kept,
//!    DATASECs rebuilt from the chosen definitions, BTF deduplicated and `.BTF.ext` remapped;
//! 5. [`write`]: the ELF file, deterministic byte for byte.
//!
//! # Symbol resolution (ELF semantics)
//! Two strong definitions conflict; a strong definition beats any weak one; among weak
//! definitions the first one wins; the losing bodies stay in their section (unreferenced) and
//! every reference, including calls from the weak definition's own object, goes to the winner.
//! HIDDEN visibility anywhere makes the symbol HIDDEN. Externs resolve against definitions of
//! the same kind and compatible type (functions by prototype, variables by type, maps field by
//! field including the inner map); `.kconfig`/`.ksyms` and unresolved externs are carried
//! through for the loader.
//!
//! Differences from libbpf's linker (deliberate; B1–B3 are tested in `tests/kernel_link.rs`,
//! B4 in `tests/link_static.rs`):
//! - B1: an extern map declared in an earlier object than its definition does not leave a stale
//!   offset in the `.maps` DATASEC: DATASECs are rebuilt from the chosen definitions only.
//! - B2: a weak variable followed by a strong one in the same section: the DATASEC entry is the
//!   strong definition's (the one the symbol points to).
//! - B3: a weak initialised variable in `.data` overridden by a strong one in `.bss` links, and
//!   the variable lives in `.bss` as the strong definition says.
//! - B4: an extern declaration never changes the strength of a definition. libbpf turns a weak
//!   definition strong when a GLOBAL extern declaration of the name was seen, so "weak def,
//!   extern decl, strong def" fails in libbpf in some input orders; here every order links,
//!   and the strong definition wins, as with `ld` for ELF objects.
pub mod btf_append;
pub mod btf_merge;
pub mod compat;
pub mod dynamic;
pub mod elf_in;
mod error;
mod file_in;
pub mod input;
pub mod layout;
pub mod resolve;
pub mod symtab;
pub mod write;

pub use error::LinkError;

use std::path::Path;

use crate::btf::Btf;

use btf_append::MergedTypes;
use btf_merge::PendingExt;
use file_in::FileReader;
use input::Input;
use layout::{is_linked_section, Layout};

/// Options of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkOptions {
    /// Deduplicate the merged BTF (on by default; off only for debugging the linker).
    pub dedup_btf: bool,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions { dedup_btf: true }
    }
}

/// Collects input objects and links them.
#[derive(Debug)]
pub struct Linker {
    inputs: Vec<Input>,
    options: LinkOptions,
    layout: Layout,
    types: MergedTypes,
    ext: PendingExt,
    reader: FileReader,
}

impl Default for Linker {
    fn default() -> Self {
        Linker::with_options(LinkOptions::default())
    }
}

impl Linker {
    pub fn new() -> Linker {
        Linker::default()
    }

    pub fn with_options(options: LinkOptions) -> Linker {
        Linker {
            inputs: Vec::new(),
            options,
            layout: Layout::default(),
            types: MergedTypes::new(options.dedup_btf),
            ext: PendingExt::default(),
            reader: FileReader::default(),
        }
    }

    /// Adds an object from memory; `name` identifies it in error messages. The object is
    /// checked and merged now, so errors in one input are reported when it is added, and a
    /// rejected input leaves the linker as it was.
    pub fn add_buf(&mut self, name: &str, data: &[u8]) -> Result<(), LinkError> {
        let parsed = input::parse(name, data)?;
        self.add_parsed(name, parsed)
    }

    /// Merges an input just parsed.
    fn add_parsed(&mut self, name: &str, parsed: input::Parsed<'_>) -> Result<(), LinkError> {
        if let Some(first) = self.inputs.first() {
            if first.endian != parsed.elf.endian {
                return Err(LinkError::ByteOrderMismatch { file: name.to_string(), first_file: first.file.clone() });
            }
        }
        let staged = parsed.btf.as_ref().map(|btf| self.types.stage(name, btf)).transpose()?;
        let index = self.inputs.len();
        let ext = self.layout.add(name, &parsed.elf.sections, &parsed.elf.contents, |layout| {
            let (Some(btf), Some(ext), Some(staged)) = (&parsed.btf, &parsed.ext, &staged) else { return Ok(None) };
            let place = |sec: &str| -> Option<(usize, u32)> {
                let s = parsed.elf.sections.iter().find(|s| s.name == sec)?;
                let p = layout.placement(index, s.index)?;
                Some((p.out, u32::try_from(p.offset).ok()?))
            };
            btf_merge::collect_ext(name, btf, ext, &staged.map, place).map(Some)
        })?;
        // Nothing below fails: the input is accepted.
        let map = match staged {
            Some(mut staged) => {
                let map = std::mem::take(&mut staged.map);
                self.types.commit(staged);
                map
            }
            None => Vec::new(),
        };
        if let Some(ext) = ext {
            self.ext.append(ext);
        }
        self.inputs.push(Input::new(name, parsed, &map));
        Ok(())
    }

    /// Adds an object file. Only the parts the link uses are read (not the DWARF, usually
    /// most of the file), into a buffer reused for every file (see [`file_in`]).
    pub fn add_file(&mut self, path: &Path) -> Result<(), LinkError> {
        let io = |source| LinkError::Io { path: path.display().to_string(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut reader = std::mem::take(&mut self.reader);
        let added = match reader.read(&file, is_linked_section) {
            Ok(data) => self.add_buf(&path.display().to_string(), data),
            Err(source) => Err(io(source)),
        };
        self.reader = reader;
        added
    }

    /// Links the inputs added so far into one ELF object.
    pub fn finalize(&self) -> Result<Vec<u8>, LinkError> {
        let merged = self.types.btf().clone();
        link(&self.inputs, self.layout.clone(), merged, &self.ext, self.options, |out| Ok(out.to_bytes()))
    }

    /// Like `finalize`, consuming the linker so that the merged BTF is not copied and its
    /// indexes are freed first (lower peak memory for large links).
    pub fn into_output(self) -> Result<Vec<u8>, LinkError> {
        self.link_consuming(|out| Ok(out.to_bytes()))
    }

    /// Like `into_output`, writing the object to the file at `path` as it is produced
    /// (never held whole in memory). The file is created only once the link has succeeded.
    pub fn write_output(self, path: &Path) -> Result<(), LinkError> {
        let io = |source| LinkError::Io { path: path.display().to_string(), source };
        self.link_consuming(|out| {
            let mut file = std::io::BufWriter::with_capacity(64 * 1024, std::fs::File::create(path).map_err(io)?);
            out.write_into(&mut file).and_then(|()| std::io::Write::flush(&mut file)).map_err(io)
        })
    }

    fn link_consuming<T>(self, emit: impl FnOnce(&write::Output) -> Result<T, LinkError>) -> Result<T, LinkError> {
        let Linker { inputs, options, layout, types, ext, .. } = self;
        link(&inputs, layout, types.into_btf(), &ext, options, emit)
    }
}

/// Links the inputs into the output object and hands it to `emit`.
fn link<T>(
    inputs: &[Input],
    mut layout: Layout,
    merged: Btf,
    ext: &PendingExt,
    options: LinkOptions,
    emit: impl FnOnce(&write::Output) -> Result<T, LinkError>,
) -> Result<T, LinkError> {
    let first = inputs.first().ok_or(LinkError::NoInputs)?;
    let resolution = resolve::resolve(inputs, &layout, &merged)?;
    let symtab = symtab::build(inputs, &mut layout, &resolution)?;
    let out = btf_merge::merge(inputs, &layout, &resolution, merged, ext, options.dedup_btf)?;
    let (btf, ext) = match &out {
        Some(m) => {
            m.btf.check_encodable().map_err(LinkError::OutputBtf)?;
            (Some(&m.btf), m.ext.as_ref().map(|e| e.to_bytes()))
        }
        None => (None, None),
    };
    emit(&write::prepare(first.endian, &layout.sections, &symtab, btf, ext)?)
}

/// Links objects given as `(name, bytes)` pairs, in order.
pub fn link_buffers(inputs: &[(&str, &[u8])]) -> Result<Vec<u8>, LinkError> {
    let mut linker = Linker::new();
    for (name, data) in inputs {
        linker.add_buf(name, data)?;
    }
    linker.into_output()
}

/// Links object files, in order.
pub fn link_files<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<u8>, LinkError> {
    linker_of_files(paths)?.into_output()
}

/// Links object files, in order, into the file at `out` (see [`Linker::write_output`]).
pub fn link_files_to_path<P: AsRef<Path>>(paths: &[P], out: &Path) -> Result<(), LinkError> {
    linker_of_files(paths)?.write_output(out)
}

fn linker_of_files<P: AsRef<Path>>(paths: &[P]) -> Result<Linker, LinkError> {
    let mut linker = Linker::new();
    for p in paths {
        linker.add_file(p.as_ref())?;
    }
    Ok(linker)
}

#[cfg(test)]
mod tests;
