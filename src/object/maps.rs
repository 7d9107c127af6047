//! Maps: BTF-defined maps in `.maps` (libbpf's `__uint`/`__type`/`__array` encodings), their
//! initial slots from `.rel.maps`, and the internal maps libbpf creates for global data.
use crate::btf::{Btf, Kind, Member, TypeId, TypeKind, VarLinkage};

use super::elf::RelSection;
use super::{
    DataSection, MapOrigin, MapSlot, MapSpec, MapType, ObjectError, Section, SectionKind, Symbol,
    SymbolKind, Variable,
};

/// `BPF_F_RDONLY_PROG`: programs may only read the map.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE`: user space may mmap the array (skeletons).
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
/// The kernel's limit on object names, including the terminating NUL.
const BPF_OBJ_NAME_LEN: usize = 16;
/// Largest global data section: the verifier refuses map value offsets from `BPF_MAX_VAR_OFF`
/// (1 << 29) on, so bytes beyond can't be used; a `.bss` declares its size without file bytes,
/// and its value memory is allocated at open.
pub const MAX_DATA_SECTION_SIZE: u32 = 1 << 29;
/// Slots of map-in-map and prog arrays are pointers.
const SLOT_SIZE: u64 = 8;

fn bad_map(map: &str, what: impl Into<String>) -> ObjectError {
    ObjectError::BadMap { map: map.to_string(), what: what.into() }
}

/// A map variable of `.maps` as BTF describes it.
struct MapVar<'b> {
    name: &'b str,
    offset: u32,
    size: u32,
    def: TypeId,
}

/// Parses every map variable of the `.maps` DATASEC, in DATASEC order (libbpf's order).
/// Extern map declarations are skipped here: they are reported as externs.
pub(crate) fn btf_maps(
    maps_section: &Section,
    btf: Option<&Btf>,
    rels: Option<&RelSection>,
    symbols: &[Symbol],
    sections: &[Section],
) -> Result<Vec<MapSpec>, ObjectError> {
    let btf = btf.ok_or_else(|| bad_map(".maps", "the .maps section needs BTF, and the object has none"))?;
    let datasec = btf
        .find_by_name_kind(".maps", Kind::Datasec)
        .ok_or_else(|| bad_map(".maps", "BTF has no DATASEC '.maps'"))?;
    let mut maps = Vec::new();
    let mut value_offsets = Vec::new();
    for var in map_vars(btf, datasec, maps_section, symbols)? {
        let def = skip(btf, var.def, var.name)?;
        let (mut map, values_off) = parse_map_def(btf, var.name, def, true)?;
        map.section_index = maps_section.index;
        map.section_offset = u64::from(var.offset);
        maps.push(map);
        value_offsets.push((var.offset, var.size, values_off));
    }
    if let Some(rels) = rels {
        add_initial_slots(&mut maps, &value_offsets, rels, symbols, sections, maps_section)?;
    }
    Ok(maps)
}

fn map_vars<'b>(btf: &'b Btf, datasec: TypeId, section: &Section, symbols: &[Symbol]) -> Result<Vec<MapVar<'b>>, ObjectError> {
    let TypeKind::Datasec { vars, .. } = &btf.type_by_id(datasec)?.kind else {
        return Err(bad_map(".maps", "'.maps' is not a DATASEC"));
    };
    let mut out = Vec::new();
    for (i, info) in vars.iter().enumerate() {
        let var = btf.type_by_id(info.type_id)?;
        let name = btf.string_at(var.name_off)?;
        let TypeKind::Var { type_id, linkage } = var.kind else {
            return Err(bad_map(name, format!("DATASEC entry #{i} is a {}, not a VAR", var.kind().as_str())));
        };
        if name.is_empty() {
            return Err(bad_map(".maps", format!("map #{i} has an empty name")));
        }
        if linkage == VarLinkage::GlobalExtern {
            continue;
        }
        let (offset, size) = fixed_up_placement(symbols, section, name, info.offset, info.size)
            .map_err(|what| bad_map(name, what))?;
        let end = u64::from(offset) + u64::from(size);
        if end > section.size {
            return Err(bad_map(
                name,
                format!("definition at offset {offset} size {size} lies outside .maps ({} bytes)", section.size),
            ));
        }
        out.push(MapVar { name, offset, size, def: type_id });
    }
    // libbpf sorts DATASEC entries by offset after fixing them up; maps follow that order.
    out.sort_by_key(|v| v.offset);
    Ok(out)
}

fn skip(btf: &Btf, id: TypeId, map: &str) -> Result<TypeId, ObjectError> {
    btf.skip_mods_and_typedefs(id).map_err(|err| bad_map(map, format!("type [{id}]: {err}")))
}

fn empty_map(name: &str, origin: MapOrigin) -> MapSpec {
    MapSpec {
        name: name.to_string(),
        real_name: name.to_string(),
        origin,
        section_index: 0,
        section_offset: 0,
        map_type: MapType(0),
        key_size: 0,
        value_size: 0,
        max_entries: 0,
        map_flags: 0,
        numa_node: 0,
        map_extra: 0,
        pinning: 0,
        key_type_id: None,
        value_type_id: None,
        inner: None,
        initial_slots: Vec::new(),
        readonly: false,
    }
}

/// Parses a map definition struct; returns the map and, for map-in-map and prog arrays, the
/// byte offset of the `values` member (where `.rel.maps` slots point).
fn parse_map_def(btf: &Btf, name: &str, def: TypeId, outer: bool) -> Result<(MapSpec, Option<u64>), ObjectError> {
    let TypeKind::Struct { members, .. } = &btf.type_by_id(def)?.kind else {
        return Err(bad_map(name, format!("definition type [{def}] is not a STRUCT")));
    };
    let origin = if outer { MapOrigin::Btf } else { MapOrigin::Inner };
    let mut map = empty_map(name, origin);
    let mut values_off = None;
    for (i, member) in members.iter().enumerate() {
        let field = btf.string_at(member.name_off)?;
        match field {
            "type" => map.map_type = MapType(int_field(btf, name, field, member)?),
            "max_entries" => map.max_entries = int_field(btf, name, field, member)?,
            "map_flags" => map.map_flags = int_field(btf, name, field, member)?,
            "numa_node" => map.numa_node = int_field(btf, name, field, member)?,
            "map_extra" => map.map_extra = u64::from(int_field(btf, name, field, member)?),
            "key_size" => set_size(&mut map.key_size, int_field(btf, name, field, member)?, name, "key")?,
            "value_size" => set_size(&mut map.value_size, int_field(btf, name, field, member)?, name, "value")?,
            "key" => {
                let (id, size) = pointee_and_size(btf, name, field, member)?;
                set_size(&mut map.key_size, size, name, "key")?;
                map.key_type_id = Some(id);
            }
            "value" => {
                let (id, size) = pointee_and_size(btf, name, field, member)?;
                set_size(&mut map.value_size, size, name, "value")?;
                map.value_type_id = Some(id);
            }
            "values" => {
                if !outer {
                    return Err(bad_map(name, "multi-level inner maps are not supported"));
                }
                if i + 1 != members.len() {
                    return Err(bad_map(name, "'values' must be the last member"));
                }
                map.inner = parse_values(btf, name, &map, member)?.map(Box::new);
                set_size(&mut map.value_size, 4, name, "value")?;
                values_off = Some(u64::from(member.bit_offset / 8));
            }
            "pinning" => {
                if !outer {
                    return Err(bad_map(name, "an inner map definition can't be pinned"));
                }
                let pinning = int_field(btf, name, field, member)?;
                if pinning > 1 {
                    return Err(bad_map(name, format!("invalid pinning value {pinning} (0 = none, 1 = by name)")));
                }
                map.pinning = pinning;
            }
            other => return Err(bad_map(name, format!("unknown field '{other}'"))),
        }
    }
    if map.map_type == MapType(0) {
        return Err(bad_map(name, "map type isn't specified"));
    }
    Ok((map, values_off))
}

fn set_size(slot: &mut u32, size: u32, map: &str, what: &str) -> Result<(), ObjectError> {
    if *slot != 0 && *slot != size {
        return Err(bad_map(map, format!("conflicting {what} size {} != {size}", *slot)));
    }
    *slot = size;
    Ok(())
}

/// `__uint(name, N)` is `int (*name)[N]`: a pointer to an array whose element count is the value.
fn int_field(btf: &Btf, map: &str, field: &str, member: &Member) -> Result<u32, ObjectError> {
    let ptr = skip(btf, member.type_id, map)?;
    let TypeKind::Ptr { target } = btf.type_by_id(ptr)?.kind else {
        return Err(bad_map(map, format!("field '{field}': expected PTR, got {}", btf.type_by_id(ptr)?.kind().as_str())));
    };
    match btf.type_by_id(target)?.kind {
        TypeKind::Array { nelems, .. } => Ok(nelems),
        ref other => Err(bad_map(map, format!("field '{field}': expected PTR to ARRAY, got PTR to {}", kind_name(other)))),
    }
}

fn kind_name(kind: &TypeKind) -> &'static str {
    crate::btf::BtfType { name_off: 0, kind: kind.clone() }.kind().as_str()
}

/// `__type(name, T)` is `T *name`: the pointee is the key/value type.
fn pointee_and_size(btf: &Btf, map: &str, field: &str, member: &Member) -> Result<(TypeId, u32), ObjectError> {
    let TypeKind::Ptr { target } = btf.type_by_id(member.type_id)?.kind else {
        return Err(bad_map(map, format!("'{field}' is not a PTR")));
    };
    let size = btf
        .resolve_size(target)
        .map_err(|err| bad_map(map, format!("can't determine {field} size of type [{target}]: {err}")))?;
    Ok((target, size))
}

/// `__array(values, T)` is a zero-length array of pointers to T: an inner map definition for
/// map-in-map, a function prototype for prog arrays.
fn parse_values(btf: &Btf, name: &str, map: &MapSpec, member: &Member) -> Result<Option<MapSpec>, ObjectError> {
    let is_prog_array = map.map_type == MapType::PROG_ARRAY;
    if !map.map_type.is_map_in_map() && !is_prog_array {
        return Err(bad_map(name, "'values' is only valid for map-in-map and prog-array maps"));
    }
    let TypeKind::Array { elem, nelems, .. } = btf.type_by_id(member.type_id)?.kind else {
        return Err(bad_map(name, "'values' is not an array"));
    };
    if nelems != 0 {
        return Err(bad_map(name, format!("'values' array has {nelems} elements, expected a zero-sized array")));
    }
    let ptr = skip(btf, elem, name)?;
    let TypeKind::Ptr { target } = btf.type_by_id(ptr)?.kind else {
        return Err(bad_map(name, "'values' elements are not pointers"));
    };
    let pointee = skip(btf, target, name)?;
    let pointee_kind = btf.type_by_id(pointee)?.kind();
    if is_prog_array {
        if pointee_kind != Kind::FuncProto {
            return Err(bad_map(name, format!("prog-array values point to {}, not FUNC_PROTO", pointee_kind.as_str())));
        }
        return Ok(None);
    }
    if pointee_kind != Kind::Struct {
        return Err(bad_map(name, format!("inner map definition is a {}, not a STRUCT", pointee_kind.as_str())));
    }
    let inner_name = format!("{name}.inner");
    let (inner, _) = parse_map_def(btf, &inner_name, pointee, false)?;
    Ok(Some(inner))
}

/// `.rel.maps` entries fill the `values` array: slot = (offset - map offset - values offset) / 8.
fn add_initial_slots(
    maps: &mut [MapSpec],
    layout: &[(u32, u32, Option<u64>)],
    rels: &RelSection,
    symbols: &[Symbol],
    sections: &[Section],
    maps_section: &Section,
) -> Result<(), ObjectError> {
    for rel in &rels.entries {
        let bad = |what: String| ObjectError::BadReloc { rel_section: rels.index, index: rel.index, offset: rel.offset, what };
        let found = layout.iter().position(|&(off, size, _)| {
            rel.offset >= u64::from(off) && rel.offset < u64::from(off) + u64::from(size)
        });
        let Some(map_idx) = found else {
            return Err(bad("does not point into any map definition in .maps".into()));
        };
        let (map_off, _, values_off) = layout[map_idx];
        let map = &mut maps[map_idx];
        let values_off = values_off.ok_or_else(|| bad(format!("map '{}' has no 'values' member", map.name)))?;
        let rel_in_map = rel.offset - u64::from(map_off);
        if rel_in_map < values_off || (rel_in_map - values_off) % SLOT_SIZE != 0 {
            return Err(bad(format!("offset is not a slot of map '{}' values", map.name)));
        }
        let index = u32::try_from((rel_in_map - values_off) / SLOT_SIZE).map_err(|_| bad("slot index too large".into()))?;
        // check_rel validated the index.
        let sym = &symbols[rel.symbol as usize];
        check_slot_symbol(map, sym, sections, maps_section).map_err(bad)?;
        map.initial_slots.push(MapSlot { index, target: sym.name.clone() });
    }
    Ok(())
}

fn check_slot_symbol(map: &MapSpec, sym: &Symbol, sections: &[Section], maps_section: &Section) -> Result<(), String> {
    let section_kind = sections.get(sym.shndx as usize).map(|s| s.kind);
    if map.map_type == MapType::PROG_ARRAY {
        let in_prog_section = section_kind == Some(SectionKind::Program);
        if sym.kind != SymbolKind::Func || !in_prog_section {
            return Err(format!("prog-array slot refers to '{}', which is not a program", sym.name));
        }
    } else if sym.shndx != maps_section.index || sym.kind != SymbolKind::Object {
        return Err(format!("map-in-map slot refers to '{}', which is not a map in .maps", sym.name));
    }
    Ok(())
}

/// libbpf's internal map name: as much of the object name as fits before the section name
/// (whose first 7+ characters are reserved), 15 characters in all; custom `.data.x`-style
/// sections drop the object name; characters the kernel refuses become `_`.
pub fn internal_map_name(obj_name: &str, real_name: &str) -> String {
    let obj = &obj_name.as_bytes()[..obj_name.len().min(BPF_OBJ_NAME_LEN - 1)];
    let real = real_name.as_bytes();
    let sfx_len = real.len().clamp(7, BPF_OBJ_NAME_LEN - 1);
    let custom = real.get(1..).is_some_and(|rest| rest.contains(&b'.'));
    let pfx_len = if custom { 0 } else { (BPF_OBJ_NAME_LEN - sfx_len - 1).min(obj.len()) };
    let mut name: Vec<u8> = obj[..pfx_len].to_vec();
    name.extend_from_slice(&real[..real.len().min(sfx_len)]);
    name.iter().map(|&b| if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' { b as char } else { '_' }).collect()
}

/// Global data sections become single-entry ARRAY maps whose value is the section.
pub(crate) fn data_maps(obj_name: &str, sections: &[Section], symbols: &[Symbol], btf: Option<&Btf>) -> Result<(Vec<MapSpec>, Vec<DataSection>), ObjectError> {
    let mut maps = Vec::new();
    let mut datas = Vec::new();
    for section in sections {
        if !matches!(section.kind, SectionKind::Data | SectionKind::Rodata | SectionKind::Bss) || section.size == 0 {
            continue;
        }
        let value_size = u32::try_from(section.size).ok().filter(|&size| size <= MAX_DATA_SECTION_SIZE).ok_or_else(|| {
            bad_map(
                &section.name,
                format!(
                    "section size {} exceeds {MAX_DATA_SECTION_SIZE} bytes, the most a BPF program can address in a map value",
                    section.size
                ),
            )
        })?;
        let datasec = btf.and_then(|b| b.find_by_name_kind(&section.name, Kind::Datasec));
        let variables = match (btf, datasec) {
            (Some(btf), Some(id)) => datasec_variables(btf, id, section, symbols)?,
            _ => Vec::new(),
        };
        let readonly = section.kind == SectionKind::Rodata;
        let mut map = empty_map(&internal_map_name(obj_name, &section.name), MapOrigin::Data);
        map.real_name = section.name.clone();
        map.section_index = section.index;
        map.map_type = MapType::ARRAY;
        map.key_size = 4;
        map.value_size = value_size;
        map.max_entries = 1;
        map.map_flags = if readonly { BPF_F_RDONLY_PROG } else { 0 };
        if variables.iter().any(|v| v.linkage != "static") {
            map.map_flags |= BPF_F_MMAPABLE;
        }
        map.value_type_id = datasec;
        map.readonly = readonly;
        datas.push(DataSection {
            section_index: section.index,
            name: section.name.clone(),
            kind: section.kind,
            size: section.size,
            map_name: map.name.clone(),
            variables,
        });
        maps.push(map);
    }
    Ok((maps, datas))
}

/// The ELF symbol defining variable `name` in `section`.
fn var_symbol<'s>(symbols: &'s [Symbol], section: &Section, name: &str) -> Option<&'s Symbol> {
    symbols
        .iter()
        .find(|s| s.shndx == section.index && s.name == name && matches!(s.kind, SymbolKind::Object | SymbolKind::Notype))
}

/// Clang leaves DATASEC sizes and VAR offsets zero; like libbpf, take them from the ELF
/// symbol of the same name (linked objects already carry the right values, which agree).
fn fixed_up_placement(symbols: &[Symbol], section: &Section, name: &str, offset: u32, size: u32) -> Result<(u32, u32), String> {
    let Some(sym) = var_symbol(symbols, section, name) else {
        return Ok((offset, size));
    };
    let offset = u32::try_from(sym.value).map_err(|_| format!("symbol offset {} does not fit 32 bits", sym.value))?;
    let size = if size == 0 { u32::try_from(sym.size).map_err(|_| format!("symbol size {} does not fit 32 bits", sym.size))? } else { size };
    Ok((offset, size))
}

/// The VARs a DATASEC places, with offsets fixed up from ELF symbols, sorted by offset.
/// Hidden or internal global variables count as static, as in libbpf.
pub(crate) fn datasec_variables(btf: &Btf, datasec: TypeId, section: &Section, symbols: &[Symbol]) -> Result<Vec<Variable>, ObjectError> {
    let TypeKind::Datasec { vars, .. } = &btf.type_by_id(datasec)?.kind else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for info in vars {
        let var = btf.type_by_id(info.type_id)?;
        let mut linkage = match var.kind {
            TypeKind::Var { linkage, .. } => linkage,
            // A DATASEC may list FUNCs (`.ksyms` kfuncs); they are not variables.
            _ => continue,
        };
        let name = btf.string_at(var.name_off)?;
        let (offset, size) = fixed_up_placement(symbols, section, name, info.offset, info.size)
            .map_err(|what| bad_map(&section.name, format!("variable '{name}': {what}")))?;
        let hidden = var_symbol(symbols, section, name)
            .is_some_and(|s| matches!(s.visibility, super::Visibility::Hidden | super::Visibility::Internal));
        if hidden && linkage == VarLinkage::GlobalAllocated {
            linkage = VarLinkage::Static;
        }
        out.push(Variable { name: name.to_string(), offset, size, linkage: linkage.as_str().to_string(), btf_id: info.type_id });
    }
    out.sort_by_key(|v| v.offset);
    Ok(out)
}

/// libbpf's `btf__align_of` for the types `__kconfig` externs may have.
pub(crate) fn align_of(btf: &Btf, id: TypeId, depth: u32) -> Result<u32, ObjectError> {
    if depth > 32 {
        return Err(ObjectError::Btf(crate::btf::BtfError::ChainTooDeep { id, depth }));
    }
    let id = btf.skip_mods_and_typedefs(id)?;
    Ok(match &btf.type_by_id(id)?.kind {
        TypeKind::Int { size, .. } | TypeKind::Enum { size, .. } | TypeKind::Enum64 { size, .. } | TypeKind::Float { size } => (*size).clamp(1, 8),
        TypeKind::Ptr { .. } => 8,
        TypeKind::Array { elem, .. } => align_of(btf, *elem, depth + 1)?,
        TypeKind::Struct { members, .. } | TypeKind::Union { members, .. } => {
            let mut align = 1;
            for m in members {
                align = align.max(align_of(btf, m.type_id, depth + 1)?);
            }
            align
        }
        _ => 1,
    })
}

#[cfg(test)]
mod tests {
    use super::internal_map_name;

    #[test]
    fn internal_names_follow_libbpf() {
        // The examples libbpf's internal_map_name() documents.
        assert_eq!(internal_map_name("my_object_name", ".rodata"), "my_objec.rodata");
        assert_eq!(internal_map_name("my_object_name", ".bss"), "my_objec.bss");
        assert_eq!(internal_map_name("my_object_name", ".kconfig"), "my_obje.kconfig");
        assert_eq!(internal_map_name("my_object_name", ".rodata.abracadabra"), ".rodata.abracad");
        assert_eq!(internal_map_name("xdp-dispatcher", ".rodata"), "xdp_disp.rodata");
    }
}
