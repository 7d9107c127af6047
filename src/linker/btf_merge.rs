//! Pass 4: the output's BTF and `.BTF.ext`.
//!
//! - Every input's types were appended to the merged BTF when it was added (see
//!   [`super::btf_append`]), its `.BTF.ext` records collected ([`collect_ext`]).
//! - The merged BTF is copied without the FUNC/VAR of a global name that does not represent
//!   it: all declarations and losing weak definitions of a name are mapped onto the one
//!   FUNC/VAR of the chosen definition (or, for an unresolved extern, of its first declaration).
//! - DATASECs are rebuilt per output section from the inputs' entries: static variables at
//!   their shifted offsets, global variables only from the chosen definition, at that
//!   definition's symbol offset in the merged section (libbpf's bugs B1–B3 all come from
//!   keeping a stale or losing entry here). Sections with no ELF counterpart (`.kconfig`,
//!   `.ksyms`) list each extern once.
//! - `.BTF.ext` records are shifted by their section's new base; ids and strings are remapped.
//! - Finally the BTF is deduplicated (one switchable step) and `.BTF.ext` follows its remap.
use std::collections::{HashMap, HashSet};

use crate::btf::{
    dedup, Btf, BtfExt, BtfType, CoreRelo, ExtInfo, ExtRecord, ExtSection, FuncInfo, LineInfo, Prehashed, RawBtf,
    SeededHasher, TypeId, TypeKind, VarLinkage, VarSecInfo,
};

use super::input::Input;
use super::layout::Layout;
use super::resolve::{Resolution, SymTarget};
use super::LinkError;

/// The merged BTF and `.BTF.ext`.
pub struct MergedBtf {
    pub btf: Btf,
    pub ext: Option<BtfExt>,
}

/// `.BTF.ext` records with ids in the merged (pre-dedup) numbering and strings by value, so
/// that compaction and dedup may renumber types and rebuild the string table freely. Collected
/// as each input is added.
#[derive(Default, Debug, Clone)]
pub struct PendingExt {
    func: Pending<FuncInfo>,
    /// (insn_off, file name, line text, line_col).
    line: Pending<(u32, String, String, u32)>,
    /// (insn_off, type id, access string, kind).
    core: Pending<(u32, TypeId, String, u32)>,
    has_core: bool,
    any: bool,
}

impl PendingExt {
    pub fn append(&mut self, other: PendingExt) {
        self.func.append(other.func);
        self.line.append(other.line);
        self.core.append(other.core);
        self.has_core |= other.has_core;
        self.any |= other.any;
    }
}

/// The records of one sub-section, each with its output section index, and the bytes each
/// record has past the fields bpflink knows (newer compilers may write larger records). The
/// output keeps the inputs' record size, with those bytes, when all inputs agree on it;
/// otherwise it uses the minimum size.
#[derive(Debug, Clone)]
struct Pending<T> {
    records: Vec<(usize, T)>,
    /// `rec_size - minimum` bytes per record, concatenated in record order.
    tails: Vec<u8>,
    rec_size: RecordSize,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending { records: Vec::new(), tails: Vec::new(), rec_size: RecordSize::Unset }
    }
}

/// The record size of one sub-section over the inputs that have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordSize {
    Unset,
    Same(u32),
    Mixed,
}

impl RecordSize {
    fn and(self, other: RecordSize) -> RecordSize {
        match (self, other) {
            (RecordSize::Unset, x) | (x, RecordSize::Unset) => x,
            (RecordSize::Same(a), RecordSize::Same(b)) if a == b => self,
            _ => RecordSize::Mixed,
        }
    }
}

impl<T> Pending<T> {
    fn append(&mut self, other: Pending<T>) {
        self.records.extend(other.records);
        self.tails.extend(other.tails);
        self.rec_size = self.rec_size.and(other.rec_size);
    }

    /// Adds the records of one input sub-section whose section `place` knows; `convert` gives
    /// a record's pending form from the record and its section's new base.
    fn collect<R: ExtRecord>(
        &mut self,
        info: &ExtInfo<R>,
        place: impl Fn(&str) -> Option<(usize, u32)>,
        mut convert: impl FnMut(&R, u32) -> Result<T, LinkError>,
    ) -> Result<(), LinkError> {
        self.rec_size = self.rec_size.and(RecordSize::Same(info.rec_size));
        let tail_len = info.rec_size.saturating_sub(R::min_size()) as usize;
        for s in &info.sections {
            let Some((out, base)) = place(&s.sec_name) else { continue };
            for (i, r) in s.records.iter().enumerate() {
                self.records.push((out, convert(r, base)?));
                match s.tails.get(i * tail_len..(i + 1) * tail_len) {
                    Some(tail) => self.tails.extend_from_slice(tail),
                    None => self.tails.resize(self.tails.len() + tail_len, 0),
                }
            }
        }
        Ok(())
    }

    /// The same records in another form (record sizes and extra bytes kept).
    fn map<U>(&self, f: impl FnMut(&T) -> U) -> Pending<U> {
        let mut f = f;
        let records = self.records.iter().map(|(o, r)| (*o, f(r))).collect();
        Pending { records, tails: self.tails.clone(), rec_size: self.rec_size }
    }
}

impl<R: ExtRecord> Pending<R> {
    /// The output sub-section: records grouped by output section (in output section order,
    /// records in input order).
    fn group(&self, btf: &mut Btf, strings: &mut StringFinder, layout: &Layout) -> ExtInfo<R> {
        let mut info = ExtInfo::new();
        let tail_len = match self.rec_size {
            RecordSize::Same(size) if size > R::min_size() => {
                info.rec_size = size;
                (size - R::min_size()) as usize
            }
            _ => 0,
        };
        for (n, s) in layout.sections.iter().enumerate() {
            let mut records = Vec::new();
            let mut tails = Vec::new();
            for (i, (_, r)) in self.records.iter().enumerate().filter(|(_, (o, _))| *o == n) {
                records.push(r.clone());
                tails.extend_from_slice(self.tails.get(i * tail_len..(i + 1) * tail_len).unwrap_or(&[]));
            }
            if records.is_empty() {
                continue;
            }
            let sec_name_off = strings.add(btf, &s.name);
            info.sections.push(ExtSection { sec_name_off, sec_name: s.name.clone(), records, tails });
        }
        info
    }
}

/// `merged` is consumed: the types kept are moved, not copied, and what remains is freed
/// before dedup runs, which keeps the peak memory of a large link down.
pub fn merge(
    inputs: &[Input],
    layout: &Layout,
    res: &Resolution,
    mut merged: Btf,
    ext: &PendingExt,
    dedup_types: bool,
) -> Result<Option<MergedBtf>, LinkError> {
    if !inputs.iter().any(|i| i.has_btf) {
        return Ok(None);
    }
    let (kept, map) = representatives(inputs, res, &merged);
    let datasecs = rebuilt_datasecs(inputs, layout, res, &merged, &map)?;
    merged.retain_types(|id| kept[id as usize], |t| t.for_each_type_id_mut(|tid| *tid = map.get(*tid as usize).copied().unwrap_or(0)));
    let mut out = merged;
    add_datasecs(&mut out, datasecs);
    let (btf, remap) = if dedup_types {
        let d = dedup::dedup_owned(out).map_err(LinkError::OutputBtf)?;
        (d.btf, d.remap)
    } else {
        let n = out.type_count();
        (out, (0..n).collect())
    };
    finish(btf, &map, remap, ext, layout)
}

/// What happens to one merged FUNC/VAR of a global name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Keep,
    /// Dropped with its symbol (e.g. LICENSE of a second object).
    Skip,
    /// Replaced by the representative FUNC/VAR of its global name.
    Replaced(TypeId),
}

fn fate(input_idx: usize, input: &Input, name: &str, id: TypeId, res: &Resolution) -> Fate {
    match res.global(name) {
        Some(g) => {
            let rep = g.representative();
            if rep.input == input_idx && rep.btf_id == id {
                Fate::Keep
            } else {
                Fate::Replaced(rep.btf_id)
            }
        }
        None => {
            // A global whose symbol was dropped disappears with it; one without any symbol
            // (an unused declaration) is kept.
            let dropped = input.symbols.iter().zip(&res.targets[input_idx]).any(|(s, t)| s.name == name && *t == SymTarget::Drop);
            if dropped {
                Fate::Skip
            } else {
                Fate::Keep
            }
        }
    }
}

/// Which merged types stay: all but the FUNC/VARs that do not represent their global name.
/// All declarations and losing weak definitions of a name become the one FUNC/VAR of the
/// chosen definition (or, for an unresolved extern, of its first declaration). Returns, per
/// merged id, whether it stays, and its id once the others are dropped (0 for dropped types,
/// the representative's for replaced ones).
fn representatives(inputs: &[Input], res: &Resolution, merged: &Btf) -> (Vec<bool>, Vec<TypeId>) {
    let count = merged.type_count() as usize;
    let mut fates = vec![Fate::Keep; count];
    for (i, input) in inputs.iter().enumerate() {
        for (name, ids) in &input.btf_globals {
            for &id in ids {
                if let Some(f) = fates.get_mut(id as usize) {
                    *f = fate(i, input, name, id, res);
                }
            }
        }
    }
    let mut map = vec![0; count];
    let mut next = 1;
    for (id, f) in fates.iter().enumerate().skip(1) {
        if *f == Fate::Keep {
            map[id] = next;
            next += 1;
        }
    }
    for (id, f) in fates.iter().enumerate() {
        if let Fate::Replaced(rep) = f {
            map[id] = map.get(*rep as usize).copied().unwrap_or(0);
        }
    }
    (fates.iter().map(|f| *f == Fate::Keep).collect(), map)
}

/// One DATASEC being rebuilt.
struct NewDatasec {
    name: String,
    /// Output section, None for sections without ELF counterpart (.kconfig, .ksyms).
    out: Option<usize>,
    vars: Vec<VarSecInfo>,
    seen: HashSet<TypeId>,
}

/// A DATASEC of the output: name, size and entries (ids in the new numbering).
struct OutDatasec {
    name: String,
    size: u32,
    vars: Vec<VarSecInfo>,
}

/// The output's DATASECs, from the inputs' entries (`merged` in the merged numbering, `map`
/// to the new one).
fn rebuilt_datasecs(inputs: &[Input], layout: &Layout, res: &Resolution, merged: &Btf, map: &[TypeId]) -> Result<Vec<OutDatasec>, LinkError> {
    let mut secs: Vec<NewDatasec> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // Real sections first, in output order, so the layout decides the DATASEC order.
    for (n, s) in layout.sections.iter().enumerate() {
        index.insert(s.name.clone(), secs.len());
        secs.push(NewDatasec { name: s.name.clone(), out: Some(n), vars: Vec::new(), seen: HashSet::new() });
    }
    let mut used = vec![false; secs.len()];
    for (i, input) in inputs.iter().enumerate() {
        for ds in &input.datasecs {
            let (name, vars) = (&ds.name, &ds.vars);
            let slot = *index.entry(name.clone()).or_insert_with(|| {
                secs.push(NewDatasec { name: name.clone(), out: None, vars: Vec::new(), seen: HashSet::new() });
                used.push(false);
                secs.len() - 1
            });
            used[slot] = true;
            let section = input.section_by_name(name);
            let placement = section.and_then(|s| layout.placement(i, s.index));
            if placement.is_some_and(|p| p.deduped) {
                continue;
            }
            let in_elf_section = secs[slot].out.is_some();
            if in_elf_section && placement.is_none() {
                // Only extern declarations (e.g. an extern map in an object without `.maps`).
                continue;
            }
            for v in vars {
                let base = if in_elf_section { placement.map(|p| p.offset) } else { None };
                if let Some(entry) = datasec_entry(i, input, merged, v, base, res, map) {
                    let sec = &mut secs[slot];
                    if in_elf_section || sec.seen.insert(entry.type_id) {
                        sec.vars.push(entry);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (sec, used) in secs.into_iter().zip(used) {
        if !used {
            continue;
        }
        let mut vars = sec.vars;
        let size = match sec.out {
            Some(o) => {
                vars.sort_by_key(|v| v.offset);
                u32::try_from(layout.sections[o].size).map_err(|_| LinkError::TooLarge { what: format!("section '{}'", sec.name) })?
            }
            None => 0,
        };
        out.push(OutDatasec { name: sec.name, size, vars });
    }
    Ok(out)
}

fn add_datasecs(out: &mut Btf, datasecs: Vec<OutDatasec>) {
    let mut strings = StringFinder::of(out);
    for OutDatasec { name, size, vars } in datasecs {
        let name_off = strings.add(out, &name);
        out.add_type(BtfType { name_off, kind: TypeKind::Datasec { size, vars } });
    }
}

/// The rebuilt entry for one input DATASEC entry, or None if it does not belong in the output.
fn datasec_entry(
    i: usize,
    input: &Input,
    btf: &Btf,
    v: &VarSecInfo,
    base: Option<u64>,
    res: &Resolution,
    map: &[TypeId],
) -> Option<VarSecInfo> {
    let t = btf.type_by_id(v.type_id).ok()?;
    let new_id = map.get(v.type_id as usize).copied().filter(|&id| id != 0)?;
    let linkage = match &t.kind {
        TypeKind::Var { linkage, .. } => *linkage,
        // FUNCs appear only in extern sections (.ksyms).
        _ => return base.is_none().then_some(VarSecInfo { type_id: new_id, offset: v.offset, size: v.size }),
    };
    let Some(base) = base else {
        // Extern-only section: offsets are assigned by the loader.
        return Some(VarSecInfo { type_id: new_id, offset: v.offset, size: v.size });
    };
    let offset = match linkage {
        VarLinkage::Static => u64::from(v.offset),
        VarLinkage::GlobalExtern => return None,
        _ => {
            let name = btf.string_at(t.name_off).ok()?;
            let section = input.section_by_name(btf_section_name(input, v.type_id)?)?;
            let sym = input.symbols.iter().find(|s| s.name == name && s.shndx == section.index && s.binding != crate::object::Binding::Local)?;
            if !res.is_chosen_definition(i, sym.index) {
                return None;
            }
            sym.value
        }
    };
    let offset = u32::try_from(offset.checked_add(base)?).ok()?;
    Some(VarSecInfo { type_id: new_id, offset, size: v.size })
}

fn btf_section_name(input: &Input, id: TypeId) -> Option<&str> {
    input.datasec_of.get(&id).map(String::as_str)
}

/// The `.BTF.ext` records of one input being added: `map` takes its type ids to merged ids,
/// `placement(section name)` gives the output section and base of one of its sections.
pub fn collect_ext(
    file: &str,
    btf: &RawBtf,
    ext: &BtfExt,
    map: &[TypeId],
    place: impl Fn(&str) -> Option<(usize, u32)>,
) -> Result<PendingExt, LinkError> {
    let mut p = PendingExt { any: true, has_core: ext.core_relo.is_some(), ..PendingExt::default() };
    let map = |id: TypeId| map.get(id as usize).copied().unwrap_or(0);
    let btf_err = |what: &str| {
        let what = format!(".BTF.ext {what}");
        move |source| LinkError::Btf { file: file.to_string(), what, source }
    };
    let string = |off: u32, what: &str| btf.string_at(off).map(str::to_string).map_err(btf_err(what));
    let shifted =
        |off: u32, base: u32| off.checked_add(base).ok_or_else(|| LinkError::TooLarge { what: "instruction offset in .BTF.ext".into() });
    if let Some(info) = &ext.func_info {
        p.func.collect(info, &place, |r, base| Ok(FuncInfo { insn_off: shifted(r.insn_off, base)?, type_id: map(r.type_id) }))?;
    }
    if let Some(info) = &ext.line_info {
        p.line.collect(info, &place, |r, base| {
            let file = string(r.file_name_off, "line_info file name")?;
            let line = string(r.line_off, "line_info line")?;
            Ok((shifted(r.insn_off, base)?, file, line, r.line_col))
        })?;
    }
    if let Some(info) = &ext.core_relo {
        p.core.collect(info, &place, |r, base| {
            let access = string(r.access_str_off, "core_relo access string")?;
            Ok((shifted(r.insn_off, base)?, map(r.type_id), access, r.kind))
        })?;
    }
    Ok(p)
}

/// `map` takes merged ids to the compacted BTF's, `remap` those to the deduplicated one's.
fn finish(mut btf: Btf, map: &[TypeId], remap: Vec<TypeId>, p: &PendingExt, layout: &Layout) -> Result<Option<MergedBtf>, LinkError> {
    let re = |id: TypeId| map.get(id as usize).and_then(|&c| remap.get(c as usize)).copied().unwrap_or(0);
    let mut strings = StringFinder::of(&btf);
    let func = p.func.map(|r| FuncInfo { insn_off: r.insn_off, type_id: re(r.type_id) });
    let line = p.line.map(|(insn_off, file, line, line_col)| {
        let file_name_off = strings.add(&mut btf, file);
        let line_off = strings.add(&mut btf, line);
        LineInfo { insn_off: *insn_off, file_name_off, line_off, line_col: *line_col }
    });
    let core = p.core.map(|(insn_off, type_id, access, kind)| {
        let access_str_off = strings.add(&mut btf, access);
        CoreRelo { insn_off: *insn_off, type_id: re(*type_id), access_str_off, kind: *kind }
    });
    let ext = p.any.then(|| {
        let mut ext = BtfExt::new();
        ext.endian = btf.endian();
        let f = func.group(&mut btf, &mut strings, layout);
        let l = line.group(&mut btf, &mut strings, layout);
        let c = core.group(&mut btf, &mut strings, layout);
        ext.func_info = (!f.sections.is_empty()).then_some(f);
        ext.line_info = (!l.sections.is_empty()).then_some(l);
        ext.core_relo = (p.has_core && !c.sections.is_empty()).then_some(c);
        ext
    });
    Ok(Some(MergedBtf { btf, ext }))
}

/// `Btf::add_string` for a few strings added to a large BTF: `add_string` first indexes every
/// string of the BTF with a keyed hash and a copy of each; this keeps only a fast hash of each
/// string → its first offset, and checks the bytes on a hit (a collision takes the exact path).
struct StringFinder {
    first: HashMap<u64, u32, Prehashed>,
}

impl StringFinder {
    fn of(btf: &Btf) -> StringFinder {
        let mut first = HashMap::default();
        if btf.base().is_none() {
            let strings = btf.strings();
            // Sized once: growing a table of every string of a large BTF rehashes it repeatedly.
            first.reserve(strings.iter().filter(|&&b| b == 0).count());
            let mut off = 0usize;
            for piece in strings.split(|&b| b == 0) {
                if off >= strings.len() {
                    break; // the empty piece after the final NUL
                }
                first.entry(SeededHasher::of_bytes(piece)).or_insert(off as u32);
                off += piece.len() + 1;
            }
        }
        StringFinder { first }
    }

    /// What `btf.add_string(s)` returns, `btf` being the BTF given to `of` plus what was added
    /// through `self`.
    fn add(&mut self, btf: &mut Btf, s: &str) -> u32 {
        // As `add_string`: a string ends at its first NUL.
        let s = s.split('\0').next().unwrap_or("");
        if btf.base().is_some() {
            return btf.add_string(s);
        }
        let h = SeededHasher::of_bytes(s.as_bytes());
        match self.first.get(&h) {
            Some(&off) if btf.string_at(off).is_ok_and(|found| found == s) => off,
            Some(_) => btf.add_string(s),
            None => {
                let off = btf.append_new_string(s);
                self.first.insert(h, off);
                off
            }
        }
    }
}
