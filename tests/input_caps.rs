//! No allocation sized by a field of the input beyond a fixed cap: sizes that would make
//! bpflink allocate gigabytes are refused with an error naming the field (the malformed
//! corpus covers a `.bss` of 1 TiB; file reads are capped by `object::input`).
mod common;

use std::time::Instant;

use bpflink::linker::Linker;
use bpflink::object::ObjectSpec;
use object::{Object as _, ObjectSection as _};

/// The file offset and length of section `name` of an object.
fn section_range(data: &[u8], name: &str) -> (usize, usize) {
    let file = object::File::parse(data).unwrap();
    let s = file.section_by_name(name).unwrap_or_else(|| panic!("no section {name}"));
    let (off, len) = s.file_range().unwrap();
    (off as usize, len as usize)
}

/// Section header of `name`: its `sh_addralign` field's file offset.
fn align_field(data: &[u8], name: &str) -> usize {
    let file = object::File::parse(data).unwrap();
    let index = file.section_by_name(name).unwrap().index().0;
    let shoff = u64::from_le_bytes(data[0x28..0x30].try_into().unwrap()) as usize;
    shoff + index * 64 + 48
}

#[test]
fn a_huge_section_alignment_is_refused_instead_of_padded() {
    let good = std::fs::read(common::compile_bpf("xdp_global_data")).unwrap();
    let mut bad = good.clone();
    let at = align_field(&bad, ".data");
    bad[at..at + 8].copy_from_slice(&(1u64 << 31).to_le_bytes());
    let started = Instant::now();
    let mut linker = Linker::new();
    linker.add_buf("first.o", &good).unwrap();
    let err = linker.add_buf("second.o", &bad).unwrap_err().to_string();
    assert!(err.contains("second.o: section '.data': alignment 2147483648"), "{err}");
    assert!(started.elapsed().as_secs() < 2, "refused without padding 2 GiB");
    linker.into_output().expect("the first input still links");
}

#[test]
fn kconfig_externs_bigger_than_a_map_value_are_refused() {
    let mut data = std::fs::read(common::compile_bpf("loader_kconfig")).unwrap();
    let (off, len) = section_range(&data, ".BTF");
    let word = |d: &[u8], at: usize| u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
    // The ARRAY record of `char CONFIG_DEFAULT_HOSTNAME[16]`: anonymous, kind 3, 16 elements.
    let array = (off..off + len - 24)
        .step_by(4)
        .find(|&at| word(&data, at) == 0 && word(&data, at + 4) == 3 << 24 && word(&data, at + 20) == 16)
        .expect("the 16-char array of the kconfig extern");
    data[array + 20..array + 24].copy_from_slice(&(1u32 << 30).to_le_bytes());
    let err = ObjectSpec::from_bytes(&data, "kconfig").unwrap_err().to_string();
    assert!(err.contains("map '.kconfig'") && err.contains("more than 536870912 bytes"), "{err}");
}

#[test]
fn object_files_over_the_input_cap_are_refused_by_every_reader() {
    use bpflink::object::input::MAX_INPUT_FILE_SIZE;
    // A sparse file: one byte past the cap costs no disk space.
    let dir = std::env::temp_dir().join(format!("bpflink-input-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.o");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_INPUT_FILE_SIZE + 1).unwrap();
    drop(file);
    let linked = Linker::new().add_file(&path).unwrap_err();
    let opened = bpflink::loader::Object::open_file(&path, &Default::default()).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!((linked.errno(), opened.errno()), (libc::EFBIG, libc::EFBIG), "linker: {linked}; loader: {opened}");
    assert!(linked.to_string().contains("larger than"), "{linked}");
}
