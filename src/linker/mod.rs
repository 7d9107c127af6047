//! Linkers: `static` combines several BPF ELF objects into one in user space (the job of
//! libbpf's `bpf_linker` / `bpftool gen object`).
//!
//! API: [`link_buffers`] / [`link_files`] link in one call; [`Linker`] collects inputs one by
//! one (`add_buf`, `add_file`) and `finalize`s into the bytes of one relocatable ELF object.
//!
//! Inputs are streamed: each object is read, merged and dropped when it is added, so memory
//! stays near the size of the output whatever the number of inputs.
//! 1. [`input`] / [`elf_in`]: read the object (ET_REL, EM_BPF, 64-bit, one byte order) and its
//!    BTF, kept as encoded records ([`crate::btf::RawBtf`]); [`layout`]: append its sections
//!    to same-named ones (each part aligned, the output keeping the maximum alignment),
//!    `license`/`version` kept once (must be identical), DWARF dropped; [`btf_append`]: append
//!    its BTF records to the merged ones, folding types identical to ones already there;
//!    `.BTF.ext` records collected with shifted offsets.
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
pub mod input;
pub mod layout;
mod mapped;
pub mod resolve;
pub mod symtab;
pub mod write;

pub use error::LinkError;

use std::path::Path;

use crate::btf::Btf;

use btf_append::MergedTypes;
use btf_merge::PendingExt;
use input::Input;
use layout::Layout;

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
        }
    }

    /// Adds an object from memory; `name` identifies it in error messages. The object is
    /// checked and merged now, so errors in one input are reported when it is added, and a
    /// rejected input leaves the linker as it was.
    pub fn add_buf(&mut self, name: &str, data: &[u8]) -> Result<(), LinkError> {
        let parsed = input::parse(name, data)?;
        self.add_parsed(name, parsed)
    }

    /// Merges an input already parsed (possibly on another thread, see [`link_files`]).
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

    /// Adds an object file. The file is mapped rather than read: only the sections the link
    /// uses are ever touched (not the DWARF, usually most of the file).
    pub fn add_file(&mut self, path: &Path) -> Result<(), LinkError> {
        let io = |source| LinkError::Io { path: path.display().to_string(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        let map = mapped::Mapped::new(&file).map_err(io)?;
        self.add_buf(&path.display().to_string(), map.bytes())
    }

    /// Links the inputs added so far into one ELF object.
    pub fn finalize(&self) -> Result<Vec<u8>, LinkError> {
        let merged = self.types.to_btf()?;
        link(&self.inputs, self.layout.clone(), merged, &self.ext, self.options)
    }

    /// Like `finalize`, consuming the linker so that the merged records and their indexes
    /// are freed as soon as they are decoded (lower peak memory for large links).
    pub fn into_output(self) -> Result<Vec<u8>, LinkError> {
        let Linker { inputs, options, layout, types, ext } = self;
        let merged = types.to_btf()?;
        drop(types);
        link(&inputs, layout, merged, &ext, options)
    }
}

fn link(inputs: &[Input], mut layout: Layout, merged: Btf, ext: &PendingExt, options: LinkOptions) -> Result<Vec<u8>, LinkError> {
    let first = inputs.first().ok_or(LinkError::NoInputs)?;
    let resolution = resolve::resolve(inputs, &layout, &merged)?;
    let symtab = symtab::build(inputs, &mut layout, &resolution)?;
    let out = btf_merge::merge(inputs, &layout, &resolution, merged, ext, options.dedup_btf)?;
    let (btf, ext) = match out {
        Some(m) => {
            let btf = m.btf.to_bytes_checked().map_err(LinkError::OutputBtf)?;
            (Some(btf), m.ext.map(|e| e.to_bytes()))
        }
        None => (None, None),
    };
    write::write(first.endian, &layout.sections, &symtab, btf, ext)
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
///
/// Parsing an input (ELF reading, BTF decoding and validation) needs nothing from the link,
/// so when a core is free it runs on a second thread one file ahead of the merge: the link
/// then costs about the larger of the two rather than their sum. When no core is free the
/// hand-offs only add latency (measured on 2 busy cores: 64 inputs linked ~8% slower than one
/// by one), so the inputs are then added one by one. Errors are reported for the first failing
/// input in order either way.
pub fn link_files<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<u8>, LinkError> {
    if paths.len() < 2 || !spare_core() {
        link_files_in_turn(paths)
    } else {
        link_files_parsing_ahead(paths)
    }
}

fn link_files_in_turn<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<u8>, LinkError> {
    let mut linker = Linker::new();
    for p in paths {
        linker.add_file(p.as_ref())?;
    }
    linker.into_output()
}

fn link_files_parsing_ahead<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<u8>, LinkError> {
    let names: Vec<String> = paths.iter().map(|p| p.as_ref().display().to_string()).collect();
    // Mapped up front (cheap: nothing is read yet); an I/O error is kept for its turn.
    let mut maps: Vec<Option<mapped::Mapped>> = Vec::with_capacity(paths.len());
    let mut open_errors: Vec<Option<std::io::Error>> = Vec::with_capacity(paths.len());
    for p in paths {
        let (map, err) = match std::fs::File::open(p.as_ref()).and_then(|f| mapped::Mapped::new(&f)) {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e)),
        };
        maps.push(map);
        open_errors.push(err);
    }
    let mut linker = Linker::new();
    std::thread::scope(|scope| -> Result<(), LinkError> {
        // A rendezvous channel: the parser is at most one input ahead, bounding memory.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<input::Parsed<'_>, LinkError>>(0);
        let bytes: Vec<Option<&[u8]>> = maps.iter().map(|m| m.as_ref().map(|m| m.bytes())).collect();
        let names_ref = &names;
        scope.spawn(move || {
            for ((name, data), err) in names_ref.iter().zip(bytes).zip(open_errors) {
                let parsed = match (data, err) {
                    (Some(data), _) => input::parse(name, data),
                    (None, Some(source)) => Err(LinkError::Io { path: name.clone(), source }),
                    (None, None) => Err(LinkError::Io { path: name.clone(), source: std::io::Error::from_raw_os_error(libc::EIO) }),
                };
                let failed = parsed.is_err();
                if tx.send(parsed).is_err() || failed {
                    return;
                }
            }
        });
        for (name, map) in names.iter().zip(&maps) {
            // The parser sends one result per input until the first error, which ends the link.
            let parsed = rx.recv().map_err(|_| LinkError::NoInputs)??;
            linker.add_parsed(name, parsed)?;
            // Nothing of the input's bytes is used past its merge (keeps peak RSS to the
            // inputs in flight, as when each file is unmapped after its turn).
            if let Some(map) = map {
                map.discard_pages();
            }
        }
        Ok(())
    })?;
    linker.into_output()
}

/// Whether a second core looks free for parsing ahead: more than one core, and a one-minute
/// load average leaving at least one of them idle (unknown load: assume free).
fn spare_core() -> bool {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        return false;
    }
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|l| l.parse::<f64>().ok()));
    load.is_none_or(|l| l < (cores - 1) as f64)
}

#[cfg(test)]
mod tests;
