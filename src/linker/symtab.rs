//! Pass 3: the output symbol table and relocations.
//!
//! Symbol order (deterministic): the null symbol, one STT_SECTION symbol per output section,
//! the inputs' local symbols in input order, then one symbol per global name in order of first
//! appearance. Relocations are copied with offsets shifted and symbols renumbered; they are
//! never applied, except that a relocation in code against a section symbol encodes its
//! target's offset in the instruction's imm, which must follow the section's new base.
use object::elf;

use crate::object::{Binding, RelocType, SectionKind, SymbolKind, Visibility};

use super::input::Input;
use super::layout::Layout;
use super::resolve::{Resolution, SymTarget};
use super::LinkError;

/// BPF relocation types the `object` crate does not name.
const R_BPF_64_ABS64: u32 = 2;
const R_BPF_64_ABS32: u32 = 3;
const R_BPF_64_NODYLD32: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutSymbol {
    pub name: String,
    pub value: u64,
    pub size: u64,
    /// `STT_*`.
    pub kind: u8,
    /// `STB_*`.
    pub bind: u8,
    /// `STV_*`.
    pub vis: u8,
    /// Output section index (into `Layout::sections`), None if undefined.
    pub section: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutReloc {
    pub offset: u64,
    pub symbol: u32,
    pub r_type: u32,
}

#[derive(Debug, Default)]
pub struct Symtab {
    pub symbols: Vec<OutSymbol>,
    /// Index of the first non-local symbol (the symtab's sh_info).
    pub first_global: u32,
    /// Relocations per output section.
    pub relocs: Vec<Vec<OutReloc>>,
}

fn elf_kind(kind: SymbolKind) -> u8 {
    match kind {
        SymbolKind::Notype => elf::STT_NOTYPE,
        SymbolKind::Object => elf::STT_OBJECT,
        SymbolKind::Func => elf::STT_FUNC,
        SymbolKind::Section => elf::STT_SECTION,
        SymbolKind::File => elf::STT_FILE,
        SymbolKind::Other(k) => k,
    }
}

fn elf_vis(vis: Visibility) -> u8 {
    match vis {
        Visibility::Default => elf::STV_DEFAULT,
        Visibility::Internal => elf::STV_INTERNAL,
        Visibility::Hidden => elf::STV_HIDDEN,
        Visibility::Protected => elf::STV_PROTECTED,
    }
}

pub fn build(inputs: &[Input], layout: &mut Layout, res: &Resolution) -> Result<Symtab, LinkError> {
    let mut st = Symtab { symbols: vec![OutSymbol { name: String::new(), value: 0, size: 0, kind: 0, bind: 0, vis: 0, section: None }], ..Default::default() };
    for n in 0..layout.sections.len() {
        st.symbols.push(OutSymbol { name: String::new(), value: 0, size: 0, kind: elf::STT_SECTION, bind: elf::STB_LOCAL, vis: 0, section: Some(n) });
    }
    // sym_map[input][symbol] = output index (0 = none).
    let mut sym_map: Vec<Vec<u32>> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let mut map = vec![0u32; input.symbols.len()];
        for sym in &input.symbols {
            match res.targets[i].get(sym.index as usize) {
                Some(SymTarget::Section(out)) => map[sym.index as usize] = 1 + *out as u32,
                Some(SymTarget::Local) => {
                    let Some(p) = layout.placement(i, sym.shndx) else { continue };
                    map[sym.index as usize] = st.symbols.len() as u32;
                    st.symbols.push(OutSymbol {
                        name: sym.name.clone(),
                        value: sym.value + p.offset,
                        size: sym.size,
                        kind: elf_kind(sym.kind),
                        bind: elf::STB_LOCAL,
                        vis: elf_vis(sym.visibility),
                        section: Some(p.out),
                    });
                }
                _ => {}
            }
        }
        sym_map.push(map);
    }
    st.first_global = st.symbols.len() as u32;
    for g in &res.globals {
        let (section, value, size) = match g.def {
            Some((d, _)) => {
                let sym = &inputs[d.input].symbols[d.symbol as usize];
                let p = layout.placement(d.input, sym.shndx);
                (p.map(|p| p.out), sym.value + p.map_or(0, |p| p.offset), sym.size)
            }
            None => (None, 0, 0),
        };
        st.symbols.push(OutSymbol {
            name: g.name.clone(),
            value,
            size,
            kind: elf_kind(g.elf_kind),
            bind: if g.binding() == Binding::Weak { elf::STB_WEAK } else { elf::STB_GLOBAL },
            vis: if g.hidden { elf::STV_HIDDEN } else { elf::STV_DEFAULT },
            section,
        });
    }
    for (i, targets) in res.targets.iter().enumerate() {
        for (s, t) in targets.iter().enumerate() {
            if let SymTarget::Global(g) = t {
                sym_map[i][s] = st.first_global + *g as u32;
            }
        }
    }
    st.relocs = vec![Vec::new(); layout.sections.len()];
    for (i, input) in inputs.iter().enumerate() {
        copy_relocations(i, input, layout, res, &sym_map[i], &mut st.relocs)?;
    }
    Ok(st)
}

/// `[value, value + size)` of weak definitions that lost, per input section: relocations in
/// them (e.g. the initial slots of a losing weak prog array) must not survive.
fn losing_ranges(i: usize, input: &Input, res: &Resolution) -> Vec<(u32, u64, u64)> {
    input
        .symbols
        .iter()
        .filter(|s| s.shndx != 0 && matches!(res.targets[i].get(s.index as usize), Some(SymTarget::Global(_))))
        .filter(|s| !res.is_chosen_definition(i, s.index))
        .map(|s| (s.shndx, s.value, s.value.saturating_add(s.size)))
        .collect()
}

fn copy_relocations(
    i: usize,
    input: &Input,
    layout: &mut Layout,
    res: &Resolution,
    sym_map: &[u32],
    out: &mut [Vec<OutReloc>],
) -> Result<(), LinkError> {
    let losers = losing_ranges(i, input, res);
    for table in &input.relocs {
        let Some(section) = input.section(table.target) else { continue };
        let Some(p) = layout.placement(i, section.index).filter(|p| !p.deduped) else { continue };
        let in_code = matches!(section.kind, SectionKind::Program | SectionKind::Text);
        for (k, rel) in table.entries.iter().enumerate() {
            let bad = |what: String| LinkError::BadRelocation {
                file: input.file.clone(),
                section: section.name.clone(),
                index: k,
                offset: rel.offset,
                what,
            };
            let r_type = match RelocType::from_raw(rel.r_type) {
                RelocType::Unknown(raw) => {
                    return Err(LinkError::UnknownRelocation {
                        file: input.file.clone(),
                        section: section.name.clone(),
                        index: k,
                        offset: rel.offset,
                        r_type: raw,
                    })
                }
                RelocType::None => elf::R_BPF_NONE,
                RelocType::R64_64 => elf::R_BPF_64_64,
                RelocType::Abs64 => R_BPF_64_ABS64,
                RelocType::Abs32 => R_BPF_64_ABS32,
                RelocType::NoDyld32 => R_BPF_64_NODYLD32,
                RelocType::R64_32 => elf::R_BPF_64_32,
            };
            if !in_code && losers.iter().any(|&(sh, start, end)| sh == section.index && (start..end).contains(&rel.offset)) {
                continue;
            }
            let sym = input.symbols.get(rel.symbol as usize).ok_or_else(|| bad(format!("symbol {} does not exist", rel.symbol)))?;
            let out_sym = sym_map.get(rel.symbol as usize).copied().unwrap_or(0);
            if out_sym == 0 && rel.symbol != 0 {
                return Err(bad(format!("symbol '{}' refers to a section that is not linked", sym.name)));
            }
            let offset = rel.offset + p.offset;
            if sym.kind == SymbolKind::Section {
                if !in_code {
                    return Err(bad(format!("relocation against section symbol of '{}' outside code is not supported", section_name(input, sym.shndx))));
                }
                let target = layout.placement(i, sym.shndx).ok_or_else(|| bad("section symbol of a section that is not linked".into()))?;
                rebase_imm(&mut layout.sections[p.out].data, offset, target.offset, input.endian).map_err(bad)?;
            }
            out[p.out].push(OutReloc { offset, symbol: out_sym, r_type });
        }
    }
    Ok(())
}

fn section_name(input: &Input, index: u32) -> &str {
    input.section(index).map_or("?", |s| s.name.as_str())
}

/// Adds the referenced section's new base to the imm of the instruction at `offset`: calls
/// count in instructions, everything else (ld_imm64 of data) in bytes.
fn rebase_imm(code: &mut [u8], offset: u64, base: u64, endian: crate::object::Endian) -> Result<(), String> {
    let at = usize::try_from(offset).map_err(|_| "offset out of range".to_string())?;
    let insn = code.get_mut(at..at + 8).ok_or_else(|| "no instruction at this offset".to_string())?;
    let delta = if insn[0] == crate::object::insn::CALL { base / 8 } else { base };
    let delta = i32::try_from(delta).map_err(|_| format!("section base {base} does not fit an imm"))?;
    let raw: [u8; 4] = [insn[4], insn[5], insn[6], insn[7]];
    let imm = match endian {
        crate::object::Endian::Little => i32::from_le_bytes(raw),
        crate::object::Endian::Big => i32::from_be_bytes(raw),
    };
    let imm = imm.checked_add(delta).ok_or_else(|| "imm overflows after rebasing".to_string())?;
    let bytes = match endian {
        crate::object::Endian::Little => imm.to_le_bytes(),
        crate::object::Endian::Big => imm.to_be_bytes(),
    };
    insn[4..8].copy_from_slice(&bytes);
    Ok(())
}
