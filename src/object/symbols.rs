//! Builds the [`ObjectSpec`] from the checked ELF pieces: programs and subprograms, relocation
//! classes, maps, data sections, externs, placeholders and exports.
use crate::btf::{Btf, BtfExt, ExtInfo, ExtRecord, FuncLinkage, Kind, TypeKind, VarLinkage};

use super::elf::{self, RawRel, RelSection};
use super::insn::INSN_SIZE;
use super::maps::{self, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG};
use super::sec_def::find_sec_def;
use super::{
    Binding, BtfExtSummary, BtfSummary, Endian, Extern, ExternKind, MapOrigin, MapSpec, MapType,
    ObjectError, ObjectSpec, Program, RelocClass, RelocType, Relocation, Section, SectionKind,
    Subprogram, Symbol, SymbolKind, Visibility,
};

pub(crate) fn build_spec(data: &[u8], name: &str) -> Result<ObjectSpec, ObjectError> {
    let elf::RawElf { endian, mut sections, symbols, rel_sections } = elf::parse(data)?;
    let btf_data = section_data(&sections, SectionKind::Btf);
    let btf_ext_data = section_data(&sections, SectionKind::BtfExt);
    let btf = btf_data.as_deref().map(Btf::parse).transpose()?;
    let btf_ext = btf_ext_data.as_deref().map(|d| btf_ext_summary(d, btf.as_ref(), &sections)).transpose()?;

    let license = read_license(&sections)?;
    let kernel_version = read_version(&sections, endian)?;
    let (programs, subprograms) = collect_functions(&sections, &symbols, btf.as_ref())?;

    let mut all_maps = Vec::new();
    if let Some(maps_section) = sections.iter().find(|s| s.kind == SectionKind::Maps) {
        let rels = rel_sections.iter().find(|r| r.target == maps_section.index);
        all_maps = maps::btf_maps(maps_section, btf.as_ref(), rels, &symbols, &sections)?;
    }
    let (data_maps, data_sections) = maps::data_maps(name, &sections, &symbols, btf.as_ref())?;
    all_maps.extend(data_maps);

    for rels in &rel_sections {
        let classified = classify_relocations(rels, &sections, &symbols, &all_maps)?;
        // `target` was validated to be an existing section.
        sections[rels.target as usize].relocations = classified;
    }
    let externs = collect_externs(&symbols, &sections, btf.as_ref())?;
    if let Some(kconfig) = kconfig_map(name, &externs, btf.as_ref(), &sections)? {
        all_maps.push(kconfig);
    }
    let weak_placeholders = global_functions(&subprograms, &symbols, Binding::Weak);
    let exports = exported_functions(&subprograms);
    Ok(ObjectSpec {
        name: name.to_string(),
        endian,
        btf: btf.as_ref().map(|b| btf_summary(b, btf_data.as_deref().unwrap_or_default())),
        btf_ext,
        sections,
        symbols,
        programs,
        subprograms,
        maps: all_maps,
        data_sections,
        license,
        kernel_version,
        externs,
        weak_placeholders,
        exports,
        btf_data,
        btf_ext_data,
    })
}

fn section_data(sections: &[Section], kind: SectionKind) -> Option<Vec<u8>> {
    sections.iter().find(|s| s.kind == kind).map(|s| s.data.clone())
}

/// The license is the section's bytes up to the first NUL (libbpf copies it the same way).
fn read_license(sections: &[Section]) -> Result<Option<String>, ObjectError> {
    let Some(section) = sections.iter().find(|s| s.kind == SectionKind::License) else {
        return Ok(None);
    };
    let text = section.data.split(|&b| b == 0).next().unwrap_or_default();
    let text = std::str::from_utf8(text)
        .map_err(|_| ObjectError::BadLicense { index: section.index, what: "license is not valid UTF-8" })?;
    Ok(Some(text.to_string()))
}

fn read_version(sections: &[Section], endian: Endian) -> Result<Option<u32>, ObjectError> {
    let Some(section) = sections.iter().find(|s| s.kind == SectionKind::Version) else {
        return Ok(None);
    };
    let bytes: [u8; 4] = section
        .data
        .as_slice()
        .try_into()
        .map_err(|_| ObjectError::BadVersion { index: section.index, size: section.size })?;
    Ok(Some(match endian {
        Endian::Little => u32::from_le_bytes(bytes),
        Endian::Big => u32::from_be_bytes(bytes),
    }))
}

/// Functions in executable sections: non-static ones outside `.text` are programs, everything
/// else is a subprogram. Both are ordered by section index, then offset.
fn collect_functions(
    sections: &[Section],
    symbols: &[Symbol],
    btf: Option<&Btf>,
) -> Result<(Vec<Program>, Vec<Subprogram>), ObjectError> {
    let mut funcs: Vec<&Symbol> = symbols
        .iter()
        .filter(|s| s.kind == SymbolKind::Func && s.shndx != 0)
        .filter(|s| {
            sections.get(s.shndx as usize).is_some_and(|sec| matches!(sec.kind, SectionKind::Program | SectionKind::Text))
        })
        .collect();
    funcs.sort_by_key(|s| (s.shndx, s.value, s.index));
    let mut programs = Vec::new();
    let mut subprograms = Vec::new();
    for sym in funcs {
        let section = &sections[sym.shndx as usize];
        let is_program = section.kind == SectionKind::Program && sym.binding != Binding::Local;
        if is_program {
            programs.push(program(section, sym));
        } else {
            subprograms.push(subprogram(section, sym, btf));
        }
    }
    Ok((programs, subprograms))
}

fn program(section: &Section, sym: &Symbol) -> Program {
    let (autoload, sec_name) = match section.name.strip_prefix('?') {
        Some(rest) => (false, rest),
        None => (true, section.name.as_str()),
    };
    let def = find_sec_def(sec_name);
    Program {
        name: sym.name.clone(),
        section_name: sec_name.to_string(),
        section_index: section.index,
        offset: sym.value,
        insn_cnt: sym.size / INSN_SIZE as u64,
        prog_type: def.map(|d| d.prog_type).unwrap_or_default(),
        expected_attach_type: def.map(|d| d.expected_attach_type).unwrap_or_default(),
        attach_target: def.and_then(|d| d.attach_target(sec_name)).map(str::to_string),
        sec_def: def.map(|d| d.pattern.to_string()),
        sleepable: def.is_some_and(|d| d.sleepable()),
        autoload,
        binding: sym.binding,
        visibility: sym.visibility,
    }
}

fn subprogram(section: &Section, sym: &Symbol, btf: Option<&Btf>) -> Subprogram {
    let btf_func = btf.and_then(|b| {
        let id = b.find_by_name_kind(&sym.name, Kind::Func)?;
        match b.type_by_id(id).ok()?.kind {
            TypeKind::Func { linkage, .. } => Some((id, linkage)),
            _ => None,
        }
    });
    Subprogram {
        name: sym.name.clone(),
        section_name: section.name.clone(),
        section_index: section.index,
        offset: sym.value,
        insn_cnt: sym.size / INSN_SIZE as u64,
        binding: sym.binding,
        visibility: sym.visibility,
        linkage: btf_func.map(|(_, l)| l.as_str().to_string()),
        btf_id: btf_func.map(|(id, _)| id),
    }
}

fn classify_relocations(
    rels: &RelSection,
    sections: &[Section],
    symbols: &[Symbol],
    maps: &[MapSpec],
) -> Result<Vec<Relocation>, ObjectError> {
    let target = &sections[rels.target as usize];
    let is_code = matches!(target.kind, SectionKind::Program | SectionKind::Text);
    rels.entries
        .iter()
        .map(|rel| {
            let sym = &symbols[rel.symbol as usize];
            let class = if is_code { classify_code_reloc(rels, rel, target, sym, sections, maps)? } else { RelocClass::Data };
            Ok(Relocation {
                offset: rel.offset,
                symbol: rel.symbol,
                symbol_name: sym.name.clone(),
                r_type: RelocType::from_raw(rel.r_type),
                class,
            })
        })
        .collect()
}

/// What libbpf's `bpf_program__record_reloc` would make of a relocation in code.
fn classify_code_reloc(
    rels: &RelSection,
    rel: &RawRel,
    target: &Section,
    sym: &Symbol,
    sections: &[Section],
    maps: &[MapSpec],
) -> Result<RelocClass, ObjectError> {
    let bad = |what: String| ObjectError::BadReloc { rel_section: rels.index, index: rel.index, offset: rel.offset, what };
    if rel.offset % INSN_SIZE as u64 != 0 {
        return Err(ObjectError::RelocMisaligned { rel_section: rels.index, index: rel.index, offset: rel.offset, target: target.index });
    }
    let insn_idx = (rel.offset / INSN_SIZE as u64) as usize;
    let insn = target.insns.get(insn_idx).ok_or_else(|| bad("no instruction at this offset".into()))?;
    if insn.is_ld_imm64() && insn_idx + 1 >= target.insns.len() {
        return Err(ObjectError::TruncatedLdImm64 { section: target.index, name: target.name.clone(), insn: insn_idx });
    }
    if !insn.is_ld_imm64() && !insn.is_call() {
        return Err(bad(format!("instruction opcode {:#04x} is neither ld_imm64 nor call", insn.code)));
    }
    if sym.is_undefined() {
        return Ok(RelocClass::ExternRef { name: sym.name.clone(), call: insn.is_call() });
    }
    let sym_section = sections
        .get(sym.shndx as usize)
        .ok_or_else(|| bad(format!("symbol '{}' has no section (st_shndx {:#x})", sym.name, sym.shndx)))?;
    let sym_is_code = matches!(sym_section.kind, SectionKind::Program | SectionKind::Text);
    if insn.is_call() {
        if !insn.is_pseudo_call() {
            return Err(bad(format!("call with src_reg {} is not a BPF-to-BPF call", insn.src_reg)));
        }
        if !sym_is_code {
            return Err(bad(format!("call target '{}' is in non-code section {}", sym.name, sym_section.name)));
        }
        return Ok(RelocClass::SubprogCall { section: sym_section.name.clone() });
    }
    if sym_is_code {
        return Ok(RelocClass::FuncPointer { section: sym_section.name.clone() });
    }
    if insn.is_pseudo_func() {
        return Err(bad(format!("function pointer to '{}' in non-code section {}", sym.name, sym_section.name)));
    }
    match sym_section.kind {
        SectionKind::Maps => {
            if sym.kind == SymbolKind::Func {
                return Err(bad(format!("map reference through FUNC symbol '{}'", sym.name)));
            }
            let map = maps
                .iter()
                .find(|m| m.origin == MapOrigin::Btf && m.section_offset == sym.value)
                .ok_or_else(|| bad(format!("no map at offset {} of .maps (symbol '{}')", sym.value, sym.name)))?;
            Ok(RelocClass::MapRef { map: map.name.clone() })
        }
        SectionKind::Data | SectionKind::Rodata | SectionKind::Bss => {
            if sym.kind == SymbolKind::Func {
                return Err(bad(format!("data reference through FUNC symbol '{}'", sym.name)));
            }
            Ok(RelocClass::GlobalData { section: sym_section.name.clone() })
        }
        _ => Err(bad(format!(
            "ld_imm64 of '{}' in section {} which is neither a map, data nor code section",
            sym.name, sym_section.name
        ))),
    }
}

/// libbpf's extern symbols: undefined, global or weak, STT_NOTYPE, with a name.
fn is_extern_symbol(sym: &Symbol) -> bool {
    sym.is_undefined() && matches!(sym.binding, Binding::Global | Binding::Weak) && sym.kind == SymbolKind::Notype && !sym.name.is_empty()
}

fn collect_externs(symbols: &[Symbol], sections: &[Section], btf: Option<&Btf>) -> Result<Vec<Extern>, ObjectError> {
    let called: Vec<&str> = sections
        .iter()
        .flat_map(|s| &s.relocations)
        .filter_map(|r| match &r.class {
            RelocClass::ExternRef { name, call: true } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    symbols
        .iter()
        .filter(|s| is_extern_symbol(s))
        .map(|sym| {
            let mut ext = Extern {
                name: sym.name.clone(),
                kind: if called.contains(&sym.name.as_str()) { ExternKind::Function } else { ExternKind::Variable },
                weak: sym.binding == Binding::Weak,
                symbol: sym.index,
                btf_id: None,
                btf_type_id: None,
                btf_section: None,
            };
            if let Some(btf) = btf {
                describe_extern_with_btf(btf, &mut ext)?;
            }
            Ok(ext)
        })
        .collect()
}

/// Finds the extern's FUNC/VAR and the DATASEC listing it, which decide what it is.
fn describe_extern_with_btf(btf: &Btf, ext: &mut Extern) -> Result<(), ObjectError> {
    let bad = |what: String| ObjectError::BadExtern { name: ext.name.clone(), what };
    let id = [Kind::Var, Kind::Func]
        .into_iter()
        .filter_map(|k| btf.find_by_name_kind(&ext.name, k))
        .find(|&id| is_extern_linkage(btf, id))
        .ok_or_else(|| bad("no BTF VAR or FUNC with extern linkage describes it".into()))?;
    let ty = btf.type_by_id(id)?;
    let is_func = ty.kind() == Kind::Func;
    ext.btf_id = Some(id);
    ext.btf_type_id = ty.referenced_type();
    ext.btf_section = datasec_of(btf, id)?;
    ext.kind = match (is_func, ext.btf_section.as_deref()) {
        (true, Some(".ksyms")) => ExternKind::Kfunc,
        (true, _) => ExternKind::Function,
        (false, Some(".ksyms")) => ExternKind::Ksym,
        (false, Some(".kconfig")) => ExternKind::Kconfig,
        (false, Some(".maps")) => ExternKind::Map,
        (false, _) => ExternKind::Variable,
    };
    if ext.kind == ExternKind::Kconfig && is_func {
        return Err(bad("functions can't be __kconfig externs".into()));
    }
    Ok(())
}

fn is_extern_linkage(btf: &Btf, id: u32) -> bool {
    match btf.type_by_id(id).map(|t| &t.kind) {
        Ok(TypeKind::Var { linkage, .. }) => *linkage == VarLinkage::GlobalExtern,
        Ok(TypeKind::Func { linkage, .. }) => *linkage == FuncLinkage::Extern,
        _ => false,
    }
}

fn datasec_of(btf: &Btf, id: u32) -> Result<Option<String>, ObjectError> {
    for candidate in 1..btf.type_count() {
        let ty = btf.type_by_id(candidate)?;
        if let TypeKind::Datasec { vars, .. } = &ty.kind {
            if vars.iter().any(|v| v.type_id == id) {
                return Ok(Some(btf.string_at(ty.name_off)?.to_string()));
            }
        }
    }
    Ok(None)
}

/// The `.kconfig` map libbpf synthesises: externs sorted by alignment (descending), size, name,
/// each placed at the next offset aligned for its type.
fn kconfig_map(obj_name: &str, externs: &[Extern], btf: Option<&Btf>, sections: &[Section]) -> Result<Option<MapSpec>, ObjectError> {
    let Some(btf) = btf else { return Ok(None) };
    let mut layout = Vec::new();
    for ext in externs.iter().filter(|e| e.kind == ExternKind::Kconfig) {
        let ty = ext.btf_type_id.unwrap_or_default();
        let size = btf
            .resolve_size(ty)
            .map_err(|err| ObjectError::BadExtern { name: ext.name.clone(), what: format!("size of type [{ty}]: {err}") })?;
        layout.push((maps::align_of(btf, ty, 0)?, size, ext.name.as_str()));
    }
    if layout.is_empty() {
        return Ok(None);
    }
    layout.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    let mut end: u64 = 0;
    for (align, size, _) in &layout {
        end = end.div_ceil(u64::from(*align)) * u64::from(*align) + u64::from(*size);
    }
    let symtab = sections.iter().find(|s| s.kind == SectionKind::Symtab).map(|s| s.index).unwrap_or_default();
    let datasec = btf.find_by_name_kind(".kconfig", Kind::Datasec);
    let name = maps::internal_map_name(obj_name, ".kconfig");
    let mut flags = BPF_F_RDONLY_PROG;
    if datasec.is_some() {
        flags |= BPF_F_MMAPABLE;
    }
    Ok(Some(MapSpec {
        real_name: ".kconfig".to_string(),
        origin: MapOrigin::Kconfig,
        section_index: symtab,
        section_offset: 0,
        map_type: MapType::ARRAY,
        key_size: 4,
        value_size: kconfig_size(end)?,
        max_entries: 1,
        map_flags: flags,
        numa_node: 0,
        map_extra: 0,
        pinning: 0,
        key_type_id: None,
        value_type_id: datasec,
        inner: None,
        initial_slots: Vec::new(),
        readonly: true,
        name,
    }))
}

/// The `.kconfig` map's value size: its memory is allocated at open, like a data section's.
fn kconfig_size(end: u64) -> Result<u32, ObjectError> {
    u32::try_from(end).ok().filter(|&size| size <= maps::MAX_DATA_SECTION_SIZE).ok_or_else(|| ObjectError::BadMap {
        map: ".kconfig".into(),
        what: format!("the externs need {end} bytes, more than {} bytes a BPF program can address", maps::MAX_DATA_SECTION_SIZE),
    })
}

fn global_functions(subprograms: &[Subprogram], _symbols: &[Symbol], binding: Binding) -> Vec<String> {
    subprograms.iter().filter(|s| s.binding == binding).map(|s| s.name.clone()).collect()
}

/// Strong, visible global subprograms (BTF linkage global when BTF says): the functions
/// another object may call or replace.
fn exported_functions(subprograms: &[Subprogram]) -> Vec<String> {
    subprograms
        .iter()
        .filter(|s| s.binding == Binding::Global)
        .filter(|s| matches!(s.visibility, Visibility::Default | Visibility::Protected))
        .filter(|s| s.linkage.as_deref().map_or(true, |l| l == "global"))
        .map(|s| s.name.clone())
        .collect()
}

fn btf_summary(btf: &Btf, raw: &[u8]) -> BtfSummary {
    let count = |kind: Kind| (1..btf.type_count()).filter(|&id| btf.type_by_id(id).is_ok_and(|t| t.kind() == kind)).count() as u32;
    BtfSummary {
        size: raw.len() as u64,
        type_count: btf.type_count().saturating_sub(1),
        func_count: count(Kind::Func),
        var_count: count(Kind::Var),
        datasec_count: count(Kind::Datasec),
    }
}

/// `.BTF.ext` without `.BTF` is meaningless (its section names live in the BTF strings).
fn btf_ext_summary(data: &[u8], btf: Option<&Btf>, sections: &[Section]) -> Result<BtfExtSummary, ObjectError> {
    let btf = btf.ok_or(ObjectError::BtfExtWithoutBtf)?;
    let ext = BtfExt::parse(data, btf).map_err(ObjectError::BtfExt)?;
    check_ext_records(&ext.func_info, sections)?;
    check_ext_records(&ext.line_info, sections)?;
    check_ext_records(&ext.core_relo, sections)?;
    fn records<R>(info: &Option<ExtInfo<R>>) -> u64 {
        info.as_ref().map_or(0, |i| i.sections.iter().map(|s| s.records.len() as u64).sum())
    }
    Ok(BtfExtSummary {
        size: data.len() as u64,
        func_info_count: records(&ext.func_info),
        line_info_count: records(&ext.line_info),
        core_relo_count: records(&ext.core_relo),
    })
}

/// Every block of a `.BTF.ext` sub-section describes a code section of the object, and every
/// record an instruction inside it: the loader indexes instructions by these offsets.
fn check_ext_records<R: ExtRecord>(info: &Option<ExtInfo<R>>, sections: &[Section]) -> Result<(), ObjectError> {
    let Some(info) = info else { return Ok(()) };
    for block in &info.sections {
        let bad = |record: Option<usize>, what: String| ObjectError::BtfExtRecord {
            subsection: R::SUBSECTION,
            sec_name: block.sec_name.clone(),
            record: record.map(|i| format!(" record {i}")).unwrap_or_default(),
            what,
        };
        let section = sections
            .iter()
            .find(|s| s.name == block.sec_name && matches!(s.kind, SectionKind::Program | SectionKind::Text))
            .ok_or_else(|| bad(None, "the object has no code section of that name".into()))?;
        for (index, record) in block.records.iter().enumerate() {
            let offset = u64::from(record.insn_off());
            if offset >= section.size {
                let what = format!("instruction offset {offset} is outside the section ({} bytes)", section.size);
                return Err(bad(Some(index), what));
            }
            if offset % INSN_SIZE as u64 != 0 {
                return Err(bad(Some(index), format!("instruction offset {offset} is not a multiple of {INSN_SIZE}")));
            }
        }
    }
    Ok(())
}
