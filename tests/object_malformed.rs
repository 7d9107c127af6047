//! Corrupted copies of real objects: each corruption must give the precise error variant, and
//! no corruption may panic.
mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use bpflink::object::{ObjectError, ObjectSpec};

fn u16_at(d: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(d[o..o + 2].try_into().unwrap())
}
fn u64_at(d: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(d[o..o + 8].try_into().unwrap())
}
fn put_u32(d: &mut [u8], o: usize, v: u32) {
    d[o..o + 4].copy_from_slice(&v.to_le_bytes())
}
fn put_u64(d: &mut [u8], o: usize, v: u64) {
    d[o..o + 8].copy_from_slice(&v.to_le_bytes())
}

/// Byte offset of section header `i` (little-endian ELF64 layout).
fn shdr(d: &[u8], i: usize) -> usize {
    u64_at(d, 0x28) as usize + i * usize::from(u16_at(d, 0x3a))
}

fn original(name: &str) -> (Vec<u8>, ObjectSpec) {
    let path = common::bpf_objects().into_iter().find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(name)).unwrap();
    let data = std::fs::read(&path).unwrap();
    let spec = ObjectSpec::from_bytes(&data, name).unwrap();
    (data, spec)
}

fn parse(data: &[u8]) -> Result<ObjectSpec, ObjectError> {
    catch_unwind(AssertUnwindSafe(|| ObjectSpec::from_bytes(data, "x"))).expect("the parser panicked")
}

fn section_index(spec: &ObjectSpec, name: &str) -> usize {
    spec.section_by_name(name).unwrap().index as usize
}

#[test]
fn header_corruptions_name_the_field() {
    let (data, _) = original("xdp_global_data");
    assert!(matches!(parse(&data[..10]), Err(ObjectError::TooShort { size: 10 })));
    let mut d = data.clone();
    d[0] = 0;
    assert!(matches!(parse(&d), Err(ObjectError::BadMagic)));
    let mut d = data.clone();
    d[4] = 1;
    assert!(matches!(parse(&d), Err(ObjectError::WrongClass { class: 1 })));
    let mut d = data.clone();
    d[5] = 7;
    assert!(matches!(parse(&d), Err(ObjectError::BadEncoding { encoding: 7 })));
    let mut d = data.clone();
    d[16] = 2; // ET_EXEC
    assert!(matches!(parse(&d), Err(ObjectError::WrongType { e_type: 2 })));
    let mut d = data.clone();
    d[18] = 62; // EM_X86_64
    assert!(matches!(parse(&d), Err(ObjectError::WrongMachine { machine: 62 })));
    let mut d = data.clone();
    put_u64(&mut d, 0x28, u64::MAX - 10); // e_shoff
    assert!(matches!(parse(&d), Err(ObjectError::BadSectionTable { .. })));
}

#[test]
fn truncation_at_every_section_boundary_is_an_error() {
    for obj in common::corpus() {
        let data = std::fs::read(&obj).unwrap();
        let spec = parse(&data).unwrap();
        let mut cuts: Vec<usize> = vec![0, 63, 64];
        for s in spec.sections.iter().skip(1) {
            let off = u64_at(&data, shdr(&data, s.index as usize) + 24) as usize;
            cuts.extend([off, off + (s.size as usize) / 2]);
        }
        cuts.push(data.len() - 1);
        for cut in cuts.into_iter().filter(|&c| c < data.len()) {
            let err = parse(&data[..cut]).expect_err("truncated object accepted");
            // The section header table sits at the end of clang's objects, so any cut loses it.
            assert!(
                matches!(err, ObjectError::TooShort { .. } | ObjectError::BadSectionTable { .. } | ObjectError::SectionOutOfFile { .. }),
                "{} cut at {cut}: {err}",
                obj.display()
            );
        }
    }
}

#[test]
fn section_corruptions_name_the_section() {
    let (data, spec) = original("xdp_global_data");
    let xdp = section_index(&spec, "xdp");

    let mut d = data.clone();
    put_u32(&mut d, shdr(&data, xdp), 0xffff_fff0); // sh_name
    assert!(matches!(parse(&d), Err(ObjectError::BadSectionName { index, .. }) if index as usize == xdp));

    let mut d = data.clone();
    put_u64(&mut d, shdr(&data, xdp) + 24, 1 << 40); // sh_offset
    assert!(matches!(parse(&d), Err(ObjectError::SectionOutOfFile { index, .. }) if index as usize == xdp));

    let mut d = data.clone();
    put_u64(&mut d, shdr(&data, xdp) + 32, u64::MAX); // huge sh_size
    assert!(matches!(parse(&d), Err(ObjectError::SectionOutOfFile { index, .. }) if index as usize == xdp));

    let mut d = data.clone();
    let size = u64_at(&data, shdr(&data, xdp) + 32);
    put_u64(&mut d, shdr(&data, xdp) + 32, size - 4);
    assert!(matches!(parse(&d), Err(ObjectError::InsnSectionSize { index, .. }) if index as usize == xdp));

    let symtab = section_index(&spec, ".symtab");
    let mut d = data.clone();
    put_u64(&mut d, shdr(&data, symtab) + 56, 20); // sh_entsize
    assert!(matches!(parse(&d), Err(ObjectError::BadSection { index, .. }) if index as usize == symtab));
}

/// Offset of symbol `i` in the file.
fn sym_at(data: &[u8], spec: &ObjectSpec, i: usize) -> usize {
    u64_at(data, shdr(data, section_index(spec, ".symtab")) + 24) as usize + i * 24
}

#[test]
fn symbol_corruptions_name_the_symbol() {
    let (data, spec) = original("xdp_global_data");
    let prog = spec.symbols.iter().find(|s| s.name == "xdp_len_filter").unwrap().index as usize;

    let mut d = data.clone();
    d[sym_at(&data, &spec, prog) + 6..][..2].copy_from_slice(&900u16.to_le_bytes());
    assert!(matches!(parse(&d), Err(ObjectError::SymbolSectionOutOfRange { index, section: 900, .. }) if index as usize == prog));

    let mut d = data.clone();
    put_u32(&mut d, sym_at(&data, &spec, prog), 0x00ff_ffff);
    assert!(matches!(parse(&d), Err(ObjectError::BadSymbolName { index, .. }) if index as usize == prog));

    let mut d = data.clone();
    put_u64(&mut d, sym_at(&data, &spec, prog) + 16, u64::MAX - 3);
    assert!(matches!(parse(&d), Err(ObjectError::SymbolOutOfSection { index, .. }) if index as usize == prog));
}

/// File offset of relocation `entry` in the relocation section for `target`.
fn rel_at(data: &[u8], spec: &ObjectSpec, target: &str, entry: usize) -> usize {
    let rel = spec.sections.iter().find(|s| s.name == format!(".rel{target}")).unwrap();
    u64_at(data, shdr(data, rel.index as usize) + 24) as usize + entry * 16
}

#[test]
fn relocation_corruptions_name_the_entry() {
    let (data, spec) = original("xdp_global_data");
    let relocs = &spec.section_by_name("xdp").unwrap().relocations;
    let map_ref = relocs.iter().position(|r| matches!(r.class, bpflink::object::RelocClass::MapRef { .. })).unwrap();
    let at = rel_at(&data, &spec, "xdp", map_ref);
    let info = u64_at(&data, at + 8);

    let mut d = data.clone();
    put_u64(&mut d, at + 8, (5000u64 << 32) | (info & 0xffff_ffff));
    assert!(matches!(parse(&d), Err(ObjectError::RelocSymbolOutOfRange { symbol: 5000, .. })));

    let mut d = data.clone();
    put_u64(&mut d, at, 1 << 20);
    assert!(matches!(parse(&d), Err(ObjectError::RelocOffsetOutOfRange { offset, .. }) if offset == 1 << 20));

    let mut d = data.clone();
    put_u64(&mut d, at, u64_at(&data, at) + 3);
    assert!(matches!(parse(&d), Err(ObjectError::RelocMisaligned { .. })));

    // ld_imm64 against the LICENSE object: neither a map, data nor code.
    let license = spec.symbols.iter().find(|s| s.name == "LICENSE").unwrap().index as u64;
    let mut d = data.clone();
    put_u64(&mut d, at + 8, (license << 32) | (info & 0xffff_ffff));
    let err = parse(&d).unwrap_err();
    assert!(matches!(err, ObjectError::BadReloc { .. }), "{err}");
    assert!(err.to_string().contains("LICENSE"), "{err}");

    // A call relocation against a data symbol.
    let call = relocs.iter().position(|r| matches!(r.class, bpflink::object::RelocClass::SubprogCall { .. })).unwrap();
    let at = rel_at(&data, &spec, "xdp", call);
    let data_sym = spec.symbols.iter().find(|s| s.name == "packets_seen").unwrap().index as u64;
    let mut d = data.clone();
    put_u64(&mut d, at + 8, (data_sym << 32) | (u64_at(&data, at + 8) & 0xffff_ffff));
    let err = parse(&d).unwrap_err();
    assert!(matches!(err, ObjectError::BadReloc { .. }) && err.to_string().contains("non-code"), "{err}");
}

#[test]
fn byte_flips_in_tables_never_panic() {
    for name in ["xdp_global_data", "map_in_map"] {
        let (data, spec) = original(name);
        let shdrs = shdr(&data, 0)..shdr(&data, spec.sections.len());
        let syms = sym_at(&data, &spec, 0)..sym_at(&data, &spec, spec.symbols.len());
        let btf = section_index(&spec, ".BTF");
        let btf_off = u64_at(&data, shdr(&data, btf) + 24) as usize;
        let btf_range = btf_off..btf_off + 256;
        for pos in (0..64).chain(shdrs).chain(syms).chain(btf_range) {
            for value in [0x00, 0xff, 0x7f] {
                let mut d = data.clone();
                d[pos] = value;
                let _ = parse(&d);
            }
        }
    }
}
