//! Human-readable and JSON reports of an [`ObjectSpec`](crate::object::ObjectSpec), shared by
//! the `bpflink inspect` command, the C ABI and the Python package.
//!
//! The JSON report is `serde_json` of the spec itself (raw bytes and instructions left out),
//! so its field names are the spec's field names; see ARCHITECTURE.md ("inspect JSON").
use std::fmt::Write as _;

use crate::object::{MapSpec, ObjectSpec, RelocClass, SectionKind};

/// The report as indented text.
pub fn to_text(spec: &ObjectSpec) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_text(&mut out, spec);
    out
}

/// The report as a JSON value (stable field names, documented in ARCHITECTURE.md).
pub fn to_json(spec: &ObjectSpec) -> serde_json::Value {
    serde_json::to_value(spec).unwrap_or(serde_json::Value::Null)
}

fn write_text(out: &mut String, spec: &ObjectSpec) -> std::fmt::Result {
    writeln!(out, "object {} ({}-endian)", spec.name, label(&spec.endian))?;
    writeln!(out, "license: {}", spec.license.as_deref().unwrap_or("(none)"))?;
    if let Some(version) = spec.kernel_version {
        writeln!(out, "kernel version: {version:#x}")?;
    }
    write_btf(out, spec)?;
    write_sections(out, spec)?;
    write_programs(out, spec)?;
    write_subprograms(out, spec)?;
    write_maps(out, spec)?;
    write_data_sections(out, spec)?;
    write_externs(out, spec)?;
    write_list(out, "weak placeholders", &spec.weak_placeholders)?;
    write_list(out, "exports", &spec.exports)
}

fn write_btf(out: &mut String, spec: &ObjectSpec) -> std::fmt::Result {
    match &spec.btf {
        Some(b) => writeln!(
            out,
            "BTF: {} bytes, {} types ({} funcs, {} vars, {} datasecs)",
            b.size, b.type_count, b.func_count, b.var_count, b.datasec_count
        )?,
        None => writeln!(out, "BTF: none")?,
    }
    match &spec.btf_ext {
        Some(e) => writeln!(
            out,
            "BTF.ext: {} bytes, {} func_info, {} line_info, {} core_relo",
            e.size, e.func_info_count, e.line_info_count, e.core_relo_count
        ),
        None => writeln!(out, "BTF.ext: none"),
    }
}

fn write_sections(out: &mut String, spec: &ObjectSpec) -> std::fmt::Result {
    writeln!(out, "\nsections:")?;
    for s in spec.sections.iter().filter(|s| s.kind != SectionKind::Null) {
        writeln!(
            out,
            "  [{:2}] {:<24} {:<8} size {:<6} align {:<2} flags {:#x}{}",
            s.index,
            s.name,
            label(&s.kind),
            s.size,
            s.align,
            s.flags,
            if s.relocations.is_empty() { String::new() } else { format!(", {} relocations", s.relocations.len()) }
        )?;
        if matches!(s.kind, SectionKind::Program | SectionKind::Text) {
            for r in &s.relocations {
                writeln!(out, "         +{:<5} {:<18} {:<24} {}", r.offset, r.r_type.as_str(), r.symbol_name, reloc_text(&r.class))?;
            }
        }
    }
    Ok(())
}

fn reloc_text(class: &RelocClass) -> String {
    match class {
        RelocClass::MapRef { map } => format!("map {map}"),
        RelocClass::GlobalData { section } => format!("data in {section}"),
        RelocClass::SubprogCall { section } => format!("call into {section}"),
        RelocClass::FuncPointer { section } => format!("func pointer into {section}"),
        RelocClass::ExternRef { name, call } => format!("extern {} {name}", if *call { "call" } else { "ref" }),
        RelocClass::Data => "data".to_string(),
    }
}

fn write_programs(out: &mut String, spec: &ObjectSpec) -> std::fmt::Result {
    writeln!(out, "\nprograms:")?;
    for p in &spec.programs {
        writeln!(
            out,
            "  {} SEC(\"{}\"): type {}, attach {}{}{}, {} insns at +{}{}",
            p.name,
            p.section_name,
            p.prog_type,
            p.expected_attach_type,
            p.attach_target.as_ref().map(|t| format!(", target {t}")).unwrap_or_default(),
            if p.sleepable { ", sleepable" } else { "" },
            p.insn_cnt,
            p.offset,
            if p.autoload { "" } else { ", autoload off" }
        )?;
    }
    Ok(())
}

fn write_subprograms(out: &mut String, spec: &ObjectSpec) -> std::fmt::Result {
    writeln!(out, "\nsubprograms:")?;
    for s in &spec.subprograms {
        writeln!(
            out,
            "  {} in {}: {} insns at +{}, binding {}, visibility {}, linkage {}",
            s.name,
            s.section_name,
            s.insn_cnt,
            s.offset,
            label(&s.binding),
            label(&s.visibility),
            s.linkage.as_deref().unwrap_or("(no BTF)")
        )?;
    }
    Ok(())
}

fn write_map(out: &mut String, m: &MapSpec, indent: &str) -> std::fmt::Result {
    writeln!(
        out,
        "{indent}{} ({}): type {}, key {}, value {}, max_entries {}, flags {:#x}{}{}{}",
        m.name,
        m.real_name,
        m.map_type,
        m.key_size,
        m.value_size,
        m.max_entries,
        m.map_flags,
        if m.pinning != 0 { format!(", pinning {}", m.pinning) } else { String::new() },
        if m.numa_node != 0 { format!(", numa_node {}", m.numa_node) } else { String::new() },
        if m.map_extra != 0 { format!(", map_extra {:#x}", m.map_extra) } else { String::new() },
    )?;
    if let Some(inner) = &m.inner {
        write_map(out, inner, &format!("{indent}  inner: "))?;
    }
    for slot in &m.initial_slots {
        writeln!(out, "{indent}  [{}] = {}", slot.index, slot.target)?;
    }
    Ok(())
}

fn write_maps(out: &mut String, spec: &ObjectSpec) -> std::fmt::Result {
    writeln!(out, "\nmaps:")?;
    spec.maps.iter().try_for_each(|m| write_map(out, m, "  "))
}

fn write_data_sections(out: &mut String, spec: &ObjectSpec) -> std::fmt::Result {
    writeln!(out, "\ndata sections:")?;
    for d in &spec.data_sections {
        writeln!(out, "  {} ({} bytes, map {})", d.name, d.size, d.map_name)?;
        for v in &d.variables {
            writeln!(out, "    +{:<5} {} ({} bytes, {})", v.offset, v.name, v.size, v.linkage)?;
        }
    }
    Ok(())
}

fn write_externs(out: &mut String, spec: &ObjectSpec) -> std::fmt::Result {
    writeln!(out, "\nexterns:")?;
    for e in &spec.externs {
        writeln!(
            out,
            "  {} ({}{}){}",
            e.name,
            label(&e.kind),
            if e.weak { ", weak" } else { "" },
            e.btf_section.as_ref().map(|s| format!(" in {s}")).unwrap_or_default()
        )?;
    }
    Ok(())
}

fn write_list(out: &mut String, title: &str, items: &[String]) -> std::fmt::Result {
    writeln!(out, "\n{title}: {}", if items.is_empty() { "(none)".to_string() } else { items.join(", ") })
}

/// The snake_case name serde gives a plain enum value, so text and JSON reports agree.
fn label<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_string(),
    }
}
