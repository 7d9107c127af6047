//! One input object, read once when it is added and reduced to what symbol resolution and the
//! output need: section headers, symbols, the relocations of linked sections, and its BTF
//! described in the merged numbering (see [`super::btf_append`]). Section contents go straight
//! into the layout and DWARF is never copied, so nothing of the file stays alive.
use std::collections::HashMap;

use crate::btf::{Btf, BtfExt, FuncLinkage, Kind, RawBtf, TypeId, TypeKind, VarLinkage, VarSecInfo};
use crate::object::{Endian, Section, SectionKind, Symbol};

use super::elf_in::{self, ElfIn, RelTable};
use super::layout::is_linked_section;
use super::LinkError;

/// An input object parsed but not yet merged: the ELF pieces and its own BTF (as records,
/// see [`RawBtf`]).
pub struct Parsed<'a> {
    pub elf: ElfIn<'a>,
    pub btf: Option<RawBtf<'a>>,
    pub ext: Option<BtfExt>,
}

/// A DATASEC of an input, with ids in the merged numbering.
#[derive(Debug, Clone)]
pub struct InDatasec {
    pub name: String,
    pub vars: Vec<VarSecInfo>,
}

#[derive(Debug)]
pub struct Input {
    /// The name the user gave (path or buffer name), used in every error message.
    pub file: String,
    pub endian: Endian,
    /// Section headers; contents are dropped once copied into the layout.
    pub sections: Vec<Section>,
    pub symbols: Vec<Symbol>,
    /// Relocation tables of the sections that are linked.
    pub relocs: Vec<RelTable>,
    pub has_btf: bool,
    /// Non-static FUNC/VAR ids (merged numbering) by name, in id order (a name may have a
    /// definition and an extern declaration in the same object).
    pub btf_globals: HashMap<String, Vec<TypeId>>,
    /// The DATASEC listing each VAR/FUNC id (merged numbering).
    pub datasec_of: HashMap<TypeId, String>,
    pub datasecs: Vec<InDatasec>,
}

/// Parses the ELF file and its BTF, checking what the later passes rely on.
pub fn parse<'a>(file: &str, data: &'a [u8]) -> Result<Parsed<'a>, LinkError> {
    let elf = elf_in::read(data, is_linked_section).map_err(|source| LinkError::Object { file: file.to_string(), source })?;
    let btf_err = |what: &str, source| LinkError::Btf { file: file.to_string(), what: what.to_string(), source };
    let raw = |kind| elf.sections.iter().find(|s| s.kind == kind).and_then(|s| elf.contents.get(s.index as usize).copied());
    let btf = raw(SectionKind::Btf).map(RawBtf::parse).transpose().map_err(|e| btf_err(".BTF", e))?;
    let ext = match (&btf, raw(SectionKind::BtfExt)) {
        (Some(btf), Some(data)) => Some(BtfExt::parse_raw(data, btf).map_err(|e| btf_err(".BTF.ext", e))?),
        _ => None,
    };
    let parsed = Parsed { elf, btf, ext };
    check_ext_sections(file, &parsed)?;
    Ok(parsed)
}

/// `.BTF.ext` records must describe sections the object has (we shift them by the section's
/// new base, so an unknown section would silently lose its records).
fn check_ext_sections(file: &str, p: &Parsed) -> Result<(), LinkError> {
    let Some(ext) = &p.ext else { return Ok(()) };
    let names = ext
        .func_info
        .iter()
        .flat_map(|i| i.sections.iter().map(|s| ("func_info", &s.sec_name)))
        .chain(ext.line_info.iter().flat_map(|i| i.sections.iter().map(|s| ("line_info", &s.sec_name))))
        .chain(ext.core_relo.iter().flat_map(|i| i.sections.iter().map(|s| ("core_relo", &s.sec_name))));
    for (subsection, name) in names {
        let found = p.elf.sections.iter().any(|s| &s.name == name && matches!(s.kind, SectionKind::Program | SectionKind::Text));
        if !found {
            return Err(LinkError::ExtSectionMissing { file: file.to_string(), subsection, section: name.clone() });
        }
    }
    Ok(())
}

impl Input {
    /// The reduced input: `map` takes the object's own type ids to merged ids.
    pub fn new(file: &str, parsed: Parsed, map: &[TypeId]) -> Input {
        let ElfIn { endian, sections, symbols, rels: relocs, .. } = parsed.elf;
        let mut input = Input {
            file: file.to_string(),
            endian,
            sections,
            symbols,
            relocs,
            has_btf: parsed.btf.is_some(),
            btf_globals: HashMap::new(),
            datasec_of: HashMap::new(),
            datasecs: Vec::new(),
        };
        if let Some(btf) = &parsed.btf {
            input.index_btf(btf, map);
        }
        input
    }

    fn index_btf(&mut self, btf: &RawBtf, map: &[TypeId]) {
        let to_merged = |id: TypeId| map.get(id as usize).copied().unwrap_or(0);
        let indexed = |id: &TypeId| matches!(btf.kind(*id), Kind::Func | Kind::Var | Kind::Datasec);
        for (id, t) in (1..btf.type_count()).filter(indexed).filter_map(|id| Some((id, btf.record(id)?))) {
            let non_static = match t.kind() {
                Kind::Func => FuncLinkage::from_raw(t.vlen() as u16) != FuncLinkage::Static,
                Kind::Var => VarLinkage::from_raw(t.var_linkage()) != VarLinkage::Static,
                Kind::Datasec => {
                    let name = btf.string_at(t.name_off()).unwrap_or_default().to_string();
                    let vars: Vec<VarSecInfo> = (0..t.vlen() as usize)
                        .map(|i| t.datasec_entry(i))
                        .map(|(type_id, offset, size)| VarSecInfo { type_id: to_merged(type_id), offset, size })
                        .collect();
                    for v in &vars {
                        self.datasec_of.entry(v.type_id).or_insert_with(|| name.clone());
                    }
                    self.datasecs.push(InDatasec { name, vars });
                    false
                }
                _ => false,
            };
            if non_static {
                let name = btf.string_at(t.name_off()).unwrap_or_default().to_string();
                self.btf_globals.entry(name).or_default().push(to_merged(id));
            }
        }
    }

    pub fn section(&self, index: u32) -> Option<&Section> {
        self.sections.get(index as usize)
    }

    pub fn section_by_name(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The BTF FUNC/VAR (merged id) describing global symbol `name`: for a definition the
    /// non-extern one, for an undefined symbol the extern one; otherwise whichever exists.
    pub fn btf_id_for(&self, merged: &Btf, name: &str, defined: bool) -> Option<TypeId> {
        if !self.has_btf {
            return None;
        }
        let ids = self.btf_globals.get(name)?;
        let is_extern = |id: &TypeId| match merged.type_by_id(*id).map(|t| &t.kind) {
            Ok(TypeKind::Func { linkage, .. }) => *linkage == FuncLinkage::Extern,
            Ok(TypeKind::Var { linkage, .. }) => *linkage == VarLinkage::GlobalExtern,
            _ => false,
        };
        ids.iter().find(|id| is_extern(id) != defined).or_else(|| ids.first()).copied()
    }
}
