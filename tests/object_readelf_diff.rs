//! Differential test against llvm-readelf: sections, symbols and relocations of every corpus
//! object must match what `llvm-readelf-19 --sections --symbols --relocations` prints.
mod common;

use std::path::Path;
use std::process::Command;

use bpflink::object::{Binding, ObjectSpec, SymbolKind, Visibility};

fn readelf(obj: &Path) -> String {
    let tool = std::env::var("LLVM_READELF").unwrap_or_else(|_| "llvm-readelf-19".into());
    let out = Command::new(&tool)
        .args(["--wide", "--sections", "--symbols", "--relocations"])
        .arg(obj)
        .output()
        .unwrap_or_else(|e| panic!("running {tool}: {e}"));
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad hex {s:?}"))
}

/// (index, name, type, size, entsize, link, info, align) from the section table.
type SectionRow = (u32, String, String, u64, u64, u32, u32, u64);

fn sections(text: &str) -> Vec<SectionRow> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix('[') else { continue };
        let Some((idx, rest)) = rest.split_once(']') else { continue };
        let Ok(idx) = idx.trim().parse::<u32>() else { continue };
        let t: Vec<&str> = rest.split_whitespace().collect();
        // Name Type Address Off Size ES [Flg] Lk Inf Al; the null section has no name.
        let t = if idx == 0 { [vec![""], t].concat() } else { t };
        let n = t.len();
        out.push((idx, t[0].to_string(), t[1].to_string(), hex(t[4]), hex(t[5]), t[n - 3].parse().unwrap(), t[n - 2].parse().unwrap(), t[n - 1].parse().unwrap()));
    }
    out
}

fn sh_type_name(t: u32) -> String {
    match t {
        0 => "NULL".into(),
        1 => "PROGBITS".into(),
        2 => "SYMTAB".into(),
        3 => "STRTAB".into(),
        8 => "NOBITS".into(),
        9 => "REL".into(),
        0x6fff4c03 => "LLVM_ADDRSIG".into(),
        other => format!("{other:#x}"),
    }
}

fn check_sections(spec: &ObjectSpec, text: &str) {
    let expected = sections(text);
    assert_eq!(expected.len(), spec.sections.len(), "section count");
    for (idx, name, ty, size, es, lk, inf, al) in expected {
        let s = &spec.sections[idx as usize];
        let ours = (s.index, s.name.clone(), sh_type_name(s.sh_type), s.size, s.entsize, s.link, s.info, s.align);
        assert_eq!(ours, (idx, name, ty, size, es, lk, inf, al), "section {idx}");
    }
}

fn check_symbols(spec: &ObjectSpec, text: &str) {
    let mut seen = 0;
    let in_symtab = text.split("Symbol table '.symtab'").nth(1).expect("symbol table");
    for line in in_symtab.lines().skip(2) {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() < 7 || !t[0].ends_with(':') {
            break;
        }
        let idx: usize = t[0].trim_end_matches(':').parse().unwrap();
        let sym = &spec.symbols[idx];
        let kind = match sym.kind {
            SymbolKind::Notype => "NOTYPE",
            SymbolKind::Object => "OBJECT",
            SymbolKind::Func => "FUNC",
            SymbolKind::Section => "SECTION",
            SymbolKind::File => "FILE",
            SymbolKind::Other(_) => "?",
        };
        let bind = match sym.binding {
            Binding::Local => "LOCAL",
            Binding::Global => "GLOBAL",
            Binding::Weak => "WEAK",
            Binding::Other(_) => "?",
        };
        let vis = match sym.visibility {
            Visibility::Default => "DEFAULT",
            Visibility::Hidden => "HIDDEN",
            Visibility::Internal => "INTERNAL",
            Visibility::Protected => "PROTECTED",
        };
        let ndx = match sym.shndx {
            0 => "UND".to_string(),
            0xfff1 => "ABS".to_string(),
            0xfff2 => "COM".to_string(),
            n => n.to_string(),
        };
        assert_eq!((hex(t[1]), t[2].parse::<u64>().unwrap(), t[3], t[4], t[5], t[6]), (sym.value, sym.size, kind, bind, vis, ndx.as_str()), "symbol {idx}");
        // llvm-readelf prints section names for section symbols; other names must match.
        if sym.kind != SymbolKind::Section {
            assert_eq!(t.get(7).copied().unwrap_or(""), sym.name, "symbol {idx} name");
        }
        seen += 1;
    }
    assert_eq!(seen, spec.symbols.len(), "symbol count");
}

fn check_relocations(spec: &ObjectSpec, text: &str) {
    let mut checked_sections = 0;
    for block in text.split("Relocation section '").skip(1) {
        let rel_name = block.split('\'').next().unwrap();
        let rel_section = spec.sections.iter().find(|s| s.name == rel_name).expect("rel section");
        let target = &spec.sections[rel_section.info as usize];
        let rows: Vec<(u64, u32, String)> = block
            .lines()
            .skip(2)
            .map_while(|l| {
                let t: Vec<&str> = l.split_whitespace().collect();
                (t.len() >= 3 && t[0].len() == 16).then(|| (hex(t[0]), (hex(t[1]) >> 32) as u32, t[2].to_string()))
            })
            .collect();
        let ours: Vec<(u64, u32, String)> =
            target.relocations.iter().map(|r| (r.offset, r.symbol, r.r_type.as_str().to_string())).collect();
        assert_eq!(ours, rows, "relocations of {} ({rel_name})", target.name);
        checked_sections += 1;
    }
    let ours = spec.sections.iter().filter(|s| !s.relocations.is_empty()).count();
    assert_eq!(ours, checked_sections, "number of sections with relocations");
}

#[test]
fn sections_symbols_and_relocations_match_llvm_readelf() {
    let corpus = common::corpus();
    for obj in &corpus {
        let spec = ObjectSpec::from_file(obj).unwrap_or_else(|e| panic!("{}: {e}", obj.display()));
        let text = readelf(obj);
        check_sections(&spec, &text);
        check_symbols(&spec, &text);
        check_relocations(&spec, &text);
    }
    assert!(corpus.len() >= 15);
}
