//! Opening objects (no syscalls): programs and maps as libbpf builds them, the skeleton memory
//! of global data compared with the ELF sections as llvm-objcopy extracts them, settings
//! before load, and bad input.
mod common;

use std::path::Path;
use std::process::Command;

use bpflink::loader::{LoadError, Object, ObjectState, OpenOptions, LIBBPF_ERRNO_FORMAT};
use bpflink::object::MapType;

fn open(name: &str) -> Object {
    Object::open_file(&common::compile_bpf(name), &OpenOptions::default()).unwrap()
}

/// A section's bytes as llvm-objcopy dumps them (independent ELF reader).
fn objcopy_section(obj: &Path, section: &str) -> Vec<u8> {
    let out = std::env::temp_dir().join(format!("bpflink-open-{}-{}", std::process::id(), section.trim_start_matches('.')));
    let status = Command::new("llvm-objcopy-19")
        .arg(format!("--dump-section={section}={}", out.display()))
        .arg(obj)
        .arg(std::env::temp_dir().join(format!("bpflink-open-{}-discard.o", std::process::id())))
        .status()
        .unwrap();
    assert!(status.success());
    let data = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    data
}

/// A section's size as llvm-readelf reports it.
fn readelf_section_size(obj: &Path, section: &str) -> usize {
    let out = Command::new("llvm-readelf-19").args(["-S", "-W"]).arg(obj).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().find(|l| l.split_whitespace().nth(2) == Some(section) || l.split_whitespace().nth(1) == Some(section)).unwrap();
    let fields: Vec<&str> = line.split(']').nth(1).unwrap().split_whitespace().collect();
    usize::from_str_radix(fields[4], 16).unwrap()
}

#[test]
fn global_data_memory_holds_the_section_bytes() {
    let path = common::compile_bpf("xdp_global_data");
    let obj = Object::open_file(&path, &OpenOptions::default()).unwrap();
    for section in [".data", ".rodata", ".data.extra"] {
        let map = obj.find_map(section).unwrap();
        assert_eq!(map.initial_value_bytes().unwrap(), objcopy_section(&path, section).as_slice(), "{section}");
        assert!(map.is_internal());
        assert_eq!((map.map_type(), map.max_entries(), map.key_size()), (MapType::ARRAY, 1, 4));
    }
    let bss = obj.find_map(".bss").unwrap();
    assert_eq!(bss.initial_value_bytes().unwrap().len(), readelf_section_size(&path, ".bss"));
    assert!(bss.initial_value_bytes().unwrap().iter().all(|&b| b == 0));
    assert!(obj.find_map("verdict_counts").unwrap().initial_value().is_none());
    assert_eq!(obj.state(), ObjectState::Opened);
    // libbpf's internal names carry the object name.
    assert_eq!(obj.find_map(".rodata").unwrap().name(), "xdp_glob.rodata");
}

#[test]
fn programs_and_maps_follow_the_spec() {
    let obj = open("map_in_map");
    let names: Vec<&str> = obj.programs().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["tail_a", "tail_b", "dispatch", "not_autoloaded"]);
    assert!(!obj.find_program("not_autoloaded").unwrap().autoload());
    assert_eq!(obj.find_program("dispatch").unwrap().section_name(), "xdp");
    let outer = obj.find_map("outer").unwrap();
    assert_eq!(outer.map_type(), MapType::ARRAY_OF_MAPS);
    assert_eq!(outer.inner_map().unwrap().map_type(), MapType::ARRAY);
    assert_eq!(outer.initial_slots().len(), 2);
    assert_eq!(obj.find_map("jump_table").unwrap().initial_slots().len(), 2);
    for p in obj.programs() {
        assert!(p.fd().is_none());
    }
}

#[test]
fn settings_change_before_load() {
    let mut obj = open("xdp_global_data");
    let map = obj.find_map_mut("len_hist").unwrap();
    map.set_max_entries(7).unwrap();
    map.set_map_flags(0).unwrap();
    assert_eq!((map.max_entries(), map.map_flags()), (7, 0));

    let data = obj.find_map_mut(".data").unwrap();
    let before = data.initial_value_bytes().unwrap().to_vec();
    assert!(matches!(data.set_initial_value(&[1, 2, 3]), Err(LoadError::Invalid { .. })));
    data.set_value_size(64).unwrap();
    let after = data.initial_value_bytes().unwrap();
    assert_eq!(&after[..before.len()], before.as_slice(), "resizing keeps the value");
    assert!(after[before.len()..].iter().all(|&b| b == 0));
    assert!(data.set_max_entries(2).is_err(), "data maps have one entry");

    let prog = obj.find_program_mut("xdp_len_filter").unwrap();
    prog.set_autoload(false).unwrap();
    prog.set_log_level(2).unwrap();
    assert_eq!(prog.log_level(), 2);
}

#[test]
fn options_name_the_object_and_pin_paths() {
    let path = common::compile_bpf("loader_pin");
    let opts = OpenOptions { object_name: Some("renamed".into()), pin_root_path: Some("/tmp/pins".into()), ..Default::default() };
    let obj = Object::open_file(&path, &opts).unwrap();
    assert_eq!(obj.name(), "renamed");
    assert_eq!(obj.find_map("shared_counts").unwrap().pin_path(), Some(Path::new("/tmp/pins/shared_counts")));

    let bytes = std::fs::read(common::compile_bpf("xdp_global_data")).unwrap();
    let obj = Object::open_mem(&bytes, &OpenOptions::default()).unwrap();
    assert_eq!(obj.name(), format!("{:x}-{:x}", bytes.as_ptr() as usize, bytes.len()));
}

#[test]
fn a_lone_text_function_is_a_program_without_type() {
    let obj = open("link_b4_strong");
    let p = obj.find_program("b4_pick").unwrap();
    assert_eq!(p.section_name(), ".text");
    assert_eq!(p.prog_type().0, 0);
}

#[test]
fn bad_input_is_a_format_error() {
    let err = Object::open_mem(b"definitely not an ELF object, just some bytes....................", &OpenOptions::default()).unwrap_err();
    assert_eq!(err.errno(), LIBBPF_ERRNO_FORMAT);
    let err = Object::open_file(Path::new("/nonexistent/x.bpf.o"), &OpenOptions::default()).unwrap_err();
    assert_eq!(err.errno(), libc::ENOENT);
}
