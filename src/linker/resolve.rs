//! Pass 2: symbol resolution.
//!
//! Rules (ELF semantics, see the module docs of `linker` for how they differ from libbpf):
//! - two strong (GLOBAL) definitions of one name conflict;
//! - a strong definition beats weak ones wherever they appear; among weak ones the first wins;
//! - an undefined reference (extern) never changes the strength of a definition;
//! - HIDDEN visibility anywhere makes the output symbol HIDDEN;
//! - every occurrence must agree with the chosen one in kind (function, variable, map) and in
//!   type (functions by prototype, variables by type, maps field by field).
use std::collections::HashMap;

use crate::btf::{Btf, TypeId, TypeKind};
use crate::object::{Binding, SectionKind, Symbol, SymbolKind, Visibility};

use super::compat::{map_def, map_defs_match, types_match};
use super::input::Input;
use super::layout::Layout;
use super::LinkError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalKind {
    Func,
    Var,
    Map,
}

impl GlobalKind {
    fn as_str(self) -> &'static str {
        match self {
            GlobalKind::Func => "function",
            GlobalKind::Var => "variable",
            GlobalKind::Map => "map",
        }
    }
}

/// One appearance of a global name in an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub input: usize,
    pub symbol: u32,
    pub btf_id: TypeId,
}

#[derive(Debug, Clone)]
pub struct Global {
    pub name: String,
    pub kind: GlobalKind,
    /// The chosen definition and whether it is weak.
    pub def: Option<(Occurrence, bool)>,
    pub first: Occurrence,
    /// Any undefined reference with GLOBAL binding (keeps an unresolved extern strong).
    pub strong_ref: bool,
    pub hidden: bool,
    /// ELF symbol type for the output (from the definition, else the first typed reference).
    pub elf_kind: SymbolKind,
}

impl Global {
    /// The occurrence whose BTF type represents the symbol in the output.
    pub fn representative(&self) -> Occurrence {
        self.def.map(|(d, _)| d).unwrap_or(self.first)
    }

    pub fn binding(&self) -> Binding {
        match self.def {
            Some((_, true)) => Binding::Weak,
            Some((_, false)) => Binding::Global,
            None if self.strong_ref => Binding::Global,
            None => Binding::Weak,
        }
    }
}

/// What an input symbol becomes in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymTarget {
    /// Not carried over (file symbols, symbols of dropped or deduplicated sections).
    Drop,
    /// A section symbol: becomes the output section's symbol.
    Section(usize),
    /// A local symbol, copied with its value shifted.
    Local,
    /// A global name: index into `Resolution::globals`.
    Global(usize),
}

#[derive(Debug, Default)]
pub struct Resolution {
    pub globals: Vec<Global>,
    by_name: HashMap<String, usize>,
    /// `targets[input][symbol index]`.
    pub targets: Vec<Vec<SymTarget>>,
}

impl Resolution {
    pub fn global(&self, name: &str) -> Option<&Global> {
        self.by_name.get(name).and_then(|&i| self.globals.get(i))
    }

    /// Whether symbol `symbol` of `input` is the definition chosen for its global name.
    pub fn is_chosen_definition(&self, input: usize, symbol: u32) -> bool {
        match self.targets.get(input).and_then(|t| t.get(symbol as usize)) {
            Some(SymTarget::Global(g)) => self.globals[*g]
                .def
                .is_some_and(|(d, _)| d.input == input && d.symbol == symbol),
            _ => false,
        }
    }
}

pub fn resolve(inputs: &[Input], layout: &Layout, merged: &Btf) -> Result<Resolution, LinkError> {
    let mut res = Resolution::default();
    for (i, input) in inputs.iter().enumerate() {
        let mut targets = Vec::with_capacity(input.symbols.len());
        for sym in &input.symbols {
            let target = if sym.index == 0 { SymTarget::Drop } else { classify(inputs, merged, i, sym, layout, &mut res)? };
            targets.push(target);
        }
        res.targets.push(targets);
    }
    Ok(res)
}

fn classify(inputs: &[Input], merged: &Btf, i: usize, sym: &Symbol, layout: &Layout, res: &mut Resolution) -> Result<SymTarget, LinkError> {
    let input = &inputs[i];
    let placement = if sym.shndx == 0 || sym.shndx >= u32::from(object::elf::SHN_LORESERVE) {
        None
    } else {
        layout.placement(i, sym.shndx)
    };
    let placed = placement.filter(|p| !p.deduped);
    match (sym.binding, sym.kind) {
        (_, SymbolKind::File) => Ok(SymTarget::Drop),
        (_, SymbolKind::Section) => Ok(placed.map_or(SymTarget::Drop, |p| SymTarget::Section(p.out))),
        (Binding::Local, _) => Ok(if placed.is_some() { SymTarget::Local } else { SymTarget::Drop }),
        (Binding::Global | Binding::Weak, _) => {
            let defined = sym.shndx != 0;
            if defined && placed.is_none() {
                if placement.is_some() || sym.shndx < u32::from(object::elf::SHN_LORESERVE) {
                    // license/version duplicates and symbols of dropped sections.
                    return Ok(SymTarget::Drop);
                }
                return Err(unsupported(input, sym, format!("section index {:#x} (absolute/common) is not supported", sym.shndx)));
            }
            add_global(inputs, merged, i, sym, defined, res).map(SymTarget::Global)
        }
        (Binding::Other(b), _) => Err(LinkError::UnsupportedBinding { file: input.file.clone(), symbol: sym.name.clone(), binding: b }),
    }
}

fn unsupported(input: &Input, sym: &Symbol, what: String) -> LinkError {
    LinkError::UnsupportedSymbol { file: input.file.clone(), symbol: sym.name.clone(), what }
}

fn add_global(inputs: &[Input], merged: &Btf, i: usize, sym: &Symbol, defined: bool, res: &mut Resolution) -> Result<usize, LinkError> {
    let input = &inputs[i];
    if !matches!(sym.visibility, Visibility::Default | Visibility::Hidden) {
        return Err(LinkError::UnsupportedVisibility {
            file: input.file.clone(),
            symbol: sym.name.clone(),
            visibility: format!("{:?}", sym.visibility).to_lowercase(),
        });
    }
    if !input.has_btf {
        return Err(LinkError::MissingBtf { file: input.file.clone(), symbol: sym.name.clone() });
    }
    let btf_id = input
        .btf_id_for(merged, &sym.name, defined)
        .ok_or_else(|| LinkError::MissingSymbolBtf { file: input.file.clone(), symbol: sym.name.clone() })?;
    let kind = global_kind(input, merged, sym, btf_id);
    let occ = Occurrence { input: i, symbol: sym.index, btf_id };
    let weak = sym.binding == Binding::Weak;
    let Some(&g) = res.by_name.get(&sym.name) else {
        res.globals.push(Global {
            name: sym.name.clone(),
            kind,
            def: defined.then_some((occ, weak)),
            first: occ,
            strong_ref: !defined && !weak,
            hidden: sym.visibility == Visibility::Hidden,
            elf_kind: sym.kind,
        });
        res.by_name.insert(sym.name.clone(), res.globals.len() - 1);
        return Ok(res.globals.len() - 1);
    };
    let global = &mut res.globals[g];
    let reference = global.representative();
    let ref_file = &inputs[reference.input].file;
    if global.kind != kind {
        return Err(LinkError::KindMismatch {
            symbol: sym.name.clone(),
            first_file: ref_file.clone(),
            first_kind: global.kind.as_str(),
            second_file: input.file.clone(),
            second_kind: kind.as_str(),
        });
    }
    check_types(inputs, merged, &global.name, kind, reference, occ)?;
    global.hidden |= sym.visibility == Visibility::Hidden;
    if !defined {
        global.strong_ref |= !weak;
        if global.elf_kind == SymbolKind::Notype {
            global.elf_kind = sym.kind;
        }
        return Ok(g);
    }
    match global.def {
        None => {
            global.def = Some((occ, weak));
            global.elf_kind = sym.kind;
        }
        Some((_, false)) if !weak => {
            return Err(LinkError::DuplicateDefinition {
                symbol: sym.name.clone(),
                first_file: ref_file.clone(),
                second_file: input.file.clone(),
            })
        }
        Some((_, true)) if !weak => {
            global.def = Some((occ, false));
            global.elf_kind = sym.kind;
        }
        // Strong beats weak; among weak definitions the first one stays.
        Some(_) => {}
    }
    Ok(g)
}

fn global_kind(input: &Input, btf: &Btf, sym: &Symbol, btf_id: TypeId) -> GlobalKind {
    if sym.shndx != 0 {
        return match input.section(sym.shndx).map(|s| s.kind) {
            Some(SectionKind::Program | SectionKind::Text) => GlobalKind::Func,
            Some(SectionKind::Maps) => GlobalKind::Map,
            _ => GlobalKind::Var,
        };
    }
    match btf.type_by_id(btf_id).map(|t| &t.kind) {
        Ok(TypeKind::Func { .. }) => GlobalKind::Func,
        _ if input.datasec_of.get(&btf_id).is_some_and(|s| s == ".maps") => GlobalKind::Map,
        _ => GlobalKind::Var,
    }
}

/// Both occurrences' types live in the merged BTF (each object's types were appended with
/// their structure intact), so they are compared there.
fn check_types(inputs: &[Input], merged: &Btf, name: &str, kind: GlobalKind, a: Occurrence, b: Occurrence) -> Result<(), LinkError> {
    let (ia, ib) = (&inputs[a.input], &inputs[b.input]);
    let (ba, bb) = (merged, merged);
    if kind == GlobalKind::Map {
        let def = |input: &Input, btf: &Btf, id: TypeId| {
            let var_type = btf.type_by_id(id).ok().and_then(|t| t.referenced_type()).unwrap_or(0);
            map_def(btf, var_type).map_err(|reason| LinkError::BadMapDefinition {
                file: input.file.clone(),
                symbol: name.to_string(),
                reason,
            })
        };
        let (da, db) = (def(ia, ba, a.btf_id)?, def(ib, bb, b.btf_id)?);
        return map_defs_match(ba, &da, bb, &db).map_err(|reason| LinkError::MapMismatch {
            symbol: name.to_string(),
            first_file: ia.file.clone(),
            second_file: ib.file.clone(),
            reason,
        });
    }
    types_match(ba, a.btf_id, bb, b.btf_id, false).map_err(|reason| LinkError::TypeMismatch {
        symbol: name.to_string(),
        first_file: ia.file.clone(),
        second_file: ib.file.clone(),
        reason,
    })
}
