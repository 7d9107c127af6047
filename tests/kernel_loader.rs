//! The loader against the running kernel: every project program and xdp-tools object loads
//! (as system libbpf does), programs run on real packets, global data is read through the
//! skeleton memory, map-in-map and tail calls work, kconfig/pinning/autocreate/resize behave
//! like libbpf, failures name what failed and leak no fd.
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use bpflink::loader::{LoadError, Object, ObjectState, OpenOptions};
use bpflink::sys::{self, uapi, TestRun};

/// Tests count open fds; run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn obj_path(name: &str) -> PathBuf {
    common::compile_bpf(name)
}

fn open(name: &str) -> Object {
    Object::open_file(&obj_path(name), &OpenOptions::default()).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

fn load(name: &str) -> Object {
    let mut obj = open(name);
    obj.load().unwrap_or_else(|e| panic!("load {name}: {e}\n{}", e.kernel_log()));
    obj
}

/// An Ethernet frame of `len` bytes (IPv4 ethertype, zero payload).
fn packet(len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len.max(14)];
    p[12] = 0x08;
    p
}

fn run(obj: &Object, prog: &str, data: &[u8]) -> u32 {
    let p = obj.find_program(prog).unwrap_or_else(|| panic!("no program {prog}"));
    let fd = p.fd().unwrap_or_else(|| panic!("{prog} not loaded"));
    let mut out = vec![0u8; data.len() + 256];
    sys::prog_test_run(fd, TestRun { data_in: data, data_out: Some(&mut out), repeat: 1, ..Default::default() })
        .unwrap_or_else(|e| panic!("test run {prog}: {e}"))
        .retval
}

/// Reads a variable of a global data map through the skeleton memory.
fn read_var<const N: usize>(obj: &Object, section: &str, var: &str) -> [u8; N] {
    let ds = obj.spec().data_sections.iter().find(|d| d.name == section).unwrap_or_else(|| panic!("no section {section}"));
    let v = ds.variables.iter().find(|v| v.name == var).unwrap_or_else(|| panic!("no variable {var}"));
    let map = obj.find_map(section).unwrap();
    let (ptr, size) = map.initial_value().expect("data map has memory");
    assert!(v.offset as usize + N <= size);
    let mut out = [0u8; N];
    // SAFETY: within the mapped value, checked above.
    unsafe { std::ptr::copy_nonoverlapping(ptr.add(v.offset as usize), out.as_mut_ptr(), N) };
    out
}

fn u32_var(obj: &Object, section: &str, var: &str) -> u32 {
    u32::from_ne_bytes(read_var::<4>(obj, section, var))
}

fn u64_var(obj: &Object, section: &str, var: &str) -> u64 {
    u64::from_ne_bytes(read_var::<8>(obj, section, var))
}

fn lookup_u64(obj: &Object, map: &str, key: u32) -> u64 {
    let mut v = [0u8; 8];
    obj.find_map(map).unwrap().lookup_elem(&key.to_ne_bytes(), &mut v, 0).unwrap();
    u64::from_ne_bytes(v)
}

// ------------------------------------------------------------------------- corpus

#[test]
fn every_project_program_loads_exactly_when_libbpf_loads_it() {
    let _g = serial();
    let helper = libbpf_helper();
    // Both loaders pin LIBBPF_PIN_BY_NAME maps in a private bpffs, emptied after each load.
    let fs = Bpffs::new("corpus");
    let opts = OpenOptions { pin_root_path: Some(fs.0.clone()), ..Default::default() };
    let mut loaded = Vec::new();
    for path in common::bpf_objects() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let reference = libbpf_load(&helper, &path, &fs.0);
        let before = open_fds();
        let ours = {
            let mut obj = Object::open_file(&path, &opts).unwrap();
            let result = obj.load();
            clear_dir(&fs.0);
            if let (Ok(()), Some(theirs)) = (&result, &reference) {
                assert!(obj.btf().is_none() || obj.btf_fd().is_some(), "{name}: kernel refused the BTF: {}", obj.btf_log());
                for p in obj.programs() {
                    assert_eq!(p.fd().is_some(), p.autoload(), "{name}: {}", p.name());
                }
                assert_eq!(&our_insn_counts(&obj), theirs, "{name}: loaded programs and linked insn counts");
            }
            result
        };
        let reference = reference.is_some();
        assert_eq!(open_fds(), before, "{name}: fds leaked");
        if is_self_contained_library(&path) {
            // A bpflink extension: libbpf can't load an object without programs, bpflink loads
            // it as a library for dynamic linking (tests/kernel_dyncall.rs).
            assert!(!reference && ours.is_ok(), "{name}: a library: libbpf refuses ({reference}), bpflink loads ({ours:?})");
            continue;
        }
        assert_eq!(
            ours.is_ok(),
            reference,
            "{name}: libbpf loads: {reference}, bpflink: {:?}",
            ours.as_ref().err().map(|e| format!("{e}\n{}", e.kernel_log()))
        );
        if reference {
            loaded.push(name.split('.').next().unwrap().to_string());
        }
    }
    for must in ["xdp_global_data", "map_in_map", "callbacks", "core_tp", "loader_kconfig", "loader_pin"] {
        assert!(loaded.iter().any(|n| n == must), "{must} should load (loaded: {loaded:?})");
    }
}

#[test]
fn unresolved_externs_fail_with_one_message_naming_them_all() {
    let _g = serial();
    let before = open_fds();
    let mut obj = open("externs");
    let err = obj.load().expect_err("externs.bpf.o must not load");
    let text = err.to_string();
    for name in ["ext_threshold", "ext_classify", "ext_stats"] {
        assert!(text.contains(name), "{text}");
    }
    assert_eq!(err.errno(), libc::ESRCH);
    assert_eq!(obj.state(), ObjectState::LoadFailed);
    assert!(matches!(obj.load(), Err(LoadError::AlreadyLoaded { .. })));
    drop(obj);
    assert_eq!(open_fds(), before);
}

/// An object without SEC() programs exporting functions, calling no other object's function.
fn is_self_contained_library(path: &Path) -> bool {
    let spec = bpflink::object::ObjectSpec::from_file(path).unwrap();
    spec.programs.is_empty() && !spec.exports.is_empty() && spec.externs.iter().all(|e| e.kind != bpflink::object::ExternKind::Function)
}

/// Loads `obj` with system libbpf in a separate process: None if it fails, else each loaded
/// program's name and instruction count after linking.
fn libbpf_load(helper: &Path, obj: &Path, pin_root: &Path) -> Option<Vec<(String, usize)>> {
    let out = Command::new(helper).arg(obj).arg(pin_root).output().expect("running the libbpf helper");
    clear_dir(pin_root);
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).unwrap();
    Some(
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(name, cnt)| (name.to_string(), cnt.parse().unwrap()))
            .collect(),
    )
}

/// Removes the pins a load left in a private bpffs.
fn clear_dir(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
}

/// Our loaded programs' names and instruction counts, libbpf's format.
fn our_insn_counts(obj: &Object) -> Vec<(String, usize)> {
    obj.programs().iter().filter(|p| p.fd().is_some()).map(|p| (p.name().to_string(), p.insn_cnt())).collect()
}

fn libbpf_helper() -> PathBuf {
    static HELPER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    HELPER.get_or_init(build_libbpf_helper).clone()
}

fn build_libbpf_helper() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpflink-loader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("libbpf_load.c");
    std::fs::write(
        &src,
        r#"#include <bpf/libbpf.h>
#include <stdio.h>
static int quiet(enum libbpf_print_level l, const char *f, va_list a) { return 0; }
int main(int argc, char **argv) {
    libbpf_set_print(quiet);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = argv[2]);
    struct bpf_object *o = bpf_object__open_file(argv[1], &opts);
    if (!o) return 2;
    int err = bpf_object__load(o);
    struct bpf_program *p;
    if (!err)
        bpf_object__for_each_program(p, o)
            if (bpf_program__fd(p) >= 0)
                printf("%s %zu\n", bpf_program__name(p), bpf_program__insn_cnt(p));
    bpf_object__close(o);
    return err ? 1 : 0;
}
"#,
    )
    .unwrap();
    let bin = dir.join("libbpf_load");
    let status = Command::new("cc").arg(&src).arg("-o").arg(&bin).arg("-lbpf").status().expect("cc");
    assert!(status.success(), "building the libbpf helper");
    bin
}

#[test]
fn xdp_tools_objects_load_exactly_when_libbpf_loads_them() {
    let _g = serial();
    let helper = libbpf_helper();
    // Both loaders pin LIBBPF_PIN_BY_NAME maps in a private bpffs, emptied after each load.
    let fs = Bpffs::new("corpus");
    let opts = OpenOptions { pin_root_path: Some(fs.0.clone()), ..Default::default() };
    let mut loaded = 0;
    for path in common::xdp_tools_objects() {
        let reference = libbpf_load(&helper, &path, &fs.0);
        let before = open_fds();
        let ours = {
            let mut obj = Object::open_file(&path, &opts).unwrap();
            let result = obj.load();
            clear_dir(&fs.0);
            if let (Ok(()), Some(theirs)) = (&result, &reference) {
                assert_eq!(&our_insn_counts(&obj), theirs, "{}: loaded programs and linked insn counts", path.display());
            }
            result
        };
        let reference = reference.is_some();
        assert_eq!(open_fds(), before, "{}: fd leak", path.display());
        assert_eq!(ours.is_ok(), reference, "{}: libbpf loads: {reference}, bpflink: {:?}", path.display(), ours.err().map(|e| e.to_string()));
        loaded += usize::from(reference);
    }
    assert!(loaded >= 10, "only {loaded} xdp-tools objects load with libbpf");
}

// ------------------------------------------------------------------------- running programs

#[test]
fn global_data_maps_and_subprograms_work_on_real_packets() {
    let _g = serial();
    let mut obj = open("xdp_global_data");
    // Pointers taken before load stay valid after it (skeleton semantics).
    let (data_ptr, _) = obj.find_map(".data").unwrap().initial_value().unwrap();
    let drop_over = 200u32.to_ne_bytes();
    let rodata = obj.find_map_mut(".rodata").unwrap();
    let mut value = rodata.initial_value_bytes().unwrap().to_vec();
    value[..4].copy_from_slice(&drop_over);
    rodata.set_initial_value(&value).unwrap();
    obj.load().unwrap();
    assert_eq!(obj.find_map(".data").unwrap().initial_value().unwrap().0, data_ptr);
    assert_eq!(u32_var(&obj, ".data", "packets_seen"), 7);

    assert_eq!(run(&obj, "xdp_len_filter", &packet(60)), uapi::xdp_action::XDP_PASS);
    assert_eq!(run(&obj, "xdp_len_filter", &packet(300)), uapi::xdp_action::XDP_DROP);
    assert_eq!(run(&obj, "xdp_len_filter", &packet(100)), uapi::xdp_action::XDP_PASS);
    assert_eq!(u32_var(&obj, ".data", "packets_seen"), 10);
    assert_eq!(u64_var(&obj, ".bss", "bytes_seen"), 460);
    assert_eq!(u32_var(&obj, ".data.extra", "extra_counter"), 6);
    assert_eq!(u32_var(&obj, ".rodata", "drop_len_over"), 200);
    assert_eq!(lookup_u64(&obj, "verdict_counts", uapi::xdp_action::XDP_PASS), 2);
    assert_eq!(lookup_u64(&obj, "verdict_counts", uapi::xdp_action::XDP_DROP), 1);
    let mut v = [0u8; 4];
    obj.find_map("len_hist").unwrap().lookup_elem(&(300u32 / 64).to_ne_bytes(), &mut v, 0).unwrap();
    assert_eq!(u32::from_ne_bytes(v), 1);
    // The kernel sees the skeleton memory: writes through it change the program's view.
    // SAFETY: packets_seen is a u32 inside the writable .data mapping.
    let off = obj.spec().data_sections.iter().find(|d| d.name == ".data").unwrap().variables[0].offset as usize;
    unsafe { std::ptr::write_unaligned(data_ptr.add(off).cast::<u32>(), 1000) };
    run(&obj, "xdp_len_filter", &packet(60));
    assert_eq!(u32_var(&obj, ".data", "packets_seen"), 1001);
    // .rodata is frozen.
    let ro = obj.find_map(".rodata").unwrap();
    assert!(ro.update_elem(&0u32.to_ne_bytes(), ro.initial_value_bytes().unwrap(), 0).is_err());
    let info = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(ro.fd().unwrap()).unwrap();
    assert_ne!(info.map_flags & uapi::BPF_F_RDONLY_PROG, 0);
}

#[test]
fn tail_calls_and_map_in_map_slots_are_filled() {
    let _g = serial();
    let obj = load("map_in_map");
    assert!(obj.find_program("not_autoloaded").unwrap().fd().is_none());
    assert_eq!(run(&obj, "dispatch", &packet(60)), uapi::xdp_action::XDP_DROP, "slot 1 = tail_a");
    assert_eq!(run(&obj, "dispatch", &packet(200)), uapi::xdp_action::XDP_TX, "slot 3 = tail_b");
    assert_eq!(run(&obj, "dispatch", &packet(61)), uapi::xdp_action::XDP_DROP);
    // The inner maps were created from the template and placed in the outer map's slots.
    let mut id = [0u8; 4];
    let outer = obj.find_map("outer").unwrap();
    outer.lookup_elem(&0u32.to_ne_bytes(), &mut id, 0).unwrap();
    let inner_a = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(obj.find_map("inner_a").unwrap().fd().unwrap()).unwrap();
    assert_eq!(u32::from_ne_bytes(id), inner_a.id);
    let mut v = [0u8; 4];
    obj.find_map("inner_a").unwrap().lookup_elem(&0u32.to_ne_bytes(), &mut v, 0).unwrap();
    assert_eq!(u32::from_ne_bytes(v), 2, "two small packets counted in inner_a");
}

#[test]
fn callbacks_run_through_bpf_loop_and_for_each() {
    let _g = serial();
    let obj = load("callbacks");
    let fd = obj.find_program("tc_prog").unwrap().fd().unwrap();
    let r = sys::prog_test_run(fd, TestRun { data_in: &packet(64), repeat: 1, ..Default::default() }).unwrap();
    assert_eq!(r.retval, 0, "TC_ACT_OK");
    assert_eq!(u64_var(&obj, ".bss", "loop_sum"), 45, "sum of 0..10");
    assert_eq!(u64_var(&obj, ".bss", "elem_sum"), 28, "sum of keys 0..8 (values are 0)");
    obj.find_map("values").unwrap().update_elem(&2u32.to_ne_bytes(), &100u64.to_ne_bytes(), 0).unwrap();
    let fd = obj.find_program("socket_prog").unwrap().fd().unwrap();
    let r = sys::prog_test_run(fd, TestRun { data_in: &packet(64), repeat: 1, ..Default::default() }).unwrap();
    // A socket filter's test run sees the frame without its 14-byte Ethernet header.
    assert_eq!(r.retval, 64 - 14);
    assert_eq!(u64_var(&obj, ".bss", "loop_sum"), 45 + 6);
    assert_eq!(u64_var(&obj, ".bss", "elem_sum"), 28 + 128);
}

#[test]
fn ksyms_resolve_to_kernel_btf_ids_and_addresses() {
    let _g = serial();
    let fs = Bpffs::new("ksyms");
    if libbpf_load(&libbpf_helper(), &obj_path("loader_ksyms"), &fs.0).is_none() && !sys::feature_required() {
        // Some sandboxed kernels can't resolve ksym addresses ("ldimm64 failed to find the
        // address"); libbpf fails there too, and the corpus test checks we agree.
        println!("SKIPPED (this kernel refuses the ksym for system libbpf as well)");
        return;
    }
    let obj = load("loader_ksyms");
    assert_eq!(run(&obj, "ksym_prog", &packet(64)), uapi::xdp_action::XDP_PASS);
}

// ------------------------------------------------------------------------- kconfig

/// The running kernel's config as `zcat`/`cat` read it (an independent reader).
fn system_config() -> String {
    let release = sys::kernel_release();
    let boot = format!("/boot/config-{release}");
    if let Ok(text) = std::fs::read_to_string(&boot) {
        return text;
    }
    let out = Command::new("zcat").arg("/proc/config.gz").output().expect("zcat");
    String::from_utf8(out.stdout).unwrap()
}

fn config_value(config: &str, name: &str) -> Option<String> {
    config.lines().find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_string))
}

#[test]
fn kconfig_values_come_from_the_system_configuration() {
    let _g = serial();
    let obj = load("loader_kconfig");
    run(&obj, "read_kconfig", &packet(64));
    let config = system_config();
    let (maj, min) = sys::kernel_version().unwrap();
    let kv = u32_var(&obj, ".bss", "kernel_version");
    assert_eq!((kv >> 16, (kv >> 8) & 0xff), (maj, min));
    assert_eq!(u32_var(&obj, ".bss", "bpf_enabled"), 1);
    let hz: i32 = config_value(&config, "CONFIG_HZ").unwrap().parse().unwrap();
    assert_eq!(u32_var(&obj, ".bss", "hz") as i32, hz);
    let tun = match config_value(&config, "CONFIG_TUN").as_deref() {
        Some("y") => 1,
        Some("m") => 2,
        _ => 0,
    };
    assert_eq!(u32_var(&obj, ".bss", "tun"), tun);
    let host = config_value(&config, "CONFIG_DEFAULT_HOSTNAME").unwrap_or_default();
    let host = host.trim_matches('"');
    let got = read_var::<16>(&obj, ".bss", "hostname");
    assert_eq!(&got[..host.len()], host.as_bytes());
    assert_eq!(u32_var(&obj, ".bss", "missing"), 0, "missing weak extern is 0");
}

#[test]
fn kconfig_option_text_overrides_the_system() {
    let _g = serial();
    let opts = OpenOptions { kconfig: Some("CONFIG_HZ=1000\nCONFIG_TUN=m\nCONFIG_BPF=n\n".into()), ..Default::default() };
    let mut obj = Object::open_file(&obj_path("loader_kconfig"), &opts).unwrap();
    obj.load().unwrap();
    run(&obj, "read_kconfig", &packet(64));
    assert_eq!(u32_var(&obj, ".bss", "hz"), 1000);
    assert_eq!(u32_var(&obj, ".bss", "tun"), 2);
    assert_eq!(u32_var(&obj, ".bss", "bpf_enabled"), 0);
    // The .kconfig map is frozen and read-only for programs.
    let kc = obj.maps().iter().find(|m| m.real_name() == ".kconfig").unwrap();
    assert!(kc.update_elem(&0u32.to_ne_bytes(), kc.initial_value_bytes().unwrap(), 0).is_err());

    let bad = OpenOptions { kconfig: Some("CONFIG_HZ=\"text\"\n".into()), ..Default::default() };
    let mut obj = Object::open_file(&obj_path("loader_kconfig"), &bad).unwrap();
    let err = obj.load().unwrap_err();
    assert!(err.to_string().contains("CONFIG_HZ"), "{err}");
}

// ------------------------------------------------------------------------- pinning, reuse

struct Bpffs(PathBuf);

impl Bpffs {
    fn new(tag: &str) -> Bpffs {
        let dir = std::env::temp_dir().join(format!("bpflink-bpffs-{tag}-{}", std::process::id()));
        sys::bpffs::ensure_mounted(&dir).expect("mounting a private bpffs");
        Bpffs(dir)
    }
}

impl Drop for Bpffs {
    fn drop(&mut self) {
        let _ = sys::bpffs::unmount(&self.0);
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn map_id(map: &bpflink::loader::Map) -> u32 {
    sys::obj_get_info_by_fd::<uapi::bpf_map_info>(map.fd().unwrap()).unwrap().id
}

#[test]
fn pinned_by_name_maps_are_reused_across_objects() {
    let _g = serial();
    let fs = Bpffs::new("pin");
    let opts = OpenOptions { pin_root_path: Some(fs.0.clone()), ..Default::default() };
    let mut first = Object::open_file(&obj_path("loader_pin"), &opts).unwrap();
    assert_eq!(first.find_map("shared_counts").unwrap().pin_path(), Some(fs.0.join("shared_counts").as_path()));
    first.load().unwrap();
    assert!(fs.0.join("shared_counts").exists());
    assert!(first.find_map("shared_counts").unwrap().is_pinned());
    let mut second = Object::open_file(&obj_path("loader_pin"), &opts).unwrap();
    second.load().unwrap();
    assert!(second.find_map("shared_counts").unwrap().is_reused());
    assert_eq!(map_id(first.find_map("shared_counts").unwrap()), map_id(second.find_map("shared_counts").unwrap()));
    run(&first, "count_packets", &packet(64));
    run(&second, "count_packets", &packet(64));
    assert_eq!(lookup_u64(&first, "shared_counts", 0), 2);

    // An incompatible definition can't reuse the pin.
    let before = open_fds();
    let mut third = Object::open_file(&obj_path("loader_pin"), &opts).unwrap();
    third.find_map_mut("shared_counts").unwrap().set_max_entries(8).unwrap();
    let err = third.load().unwrap_err();
    assert!(matches!(err, LoadError::PinnedMapMismatch { .. }), "{err}");
    assert!(err.to_string().contains("max_entries"), "{err}");
    drop(third);
    assert_eq!(open_fds(), before);

    first.unpin_maps(None).unwrap();
    assert!(!fs.0.join("shared_counts").exists());
}

#[test]
fn reuse_fd_adopts_an_existing_map() {
    let _g = serial();
    let provider = load("xdp_global_data");
    let mut user = open("xdp_global_data");
    let fd = provider.find_map("verdict_counts").unwrap().fd().unwrap();
    user.find_map_mut("verdict_counts").unwrap().reuse_fd(fd).unwrap();
    user.load().unwrap();
    run(&user, "xdp_len_filter", &packet(60));
    assert_eq!(lookup_u64(&provider, "verdict_counts", uapi::xdp_action::XDP_PASS), 1);
}

// ------------------------------------------------------------------------- settings

#[test]
fn autocreate_off_fails_the_programs_using_the_map() {
    let _g = serial();
    let before = open_fds();
    let mut obj = open("xdp_global_data");
    obj.find_map_mut("len_hist").unwrap().set_autocreate(false).unwrap();
    let err = obj.load().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("len_hist") && text.contains("autocreate"), "{text}");
    drop(obj);
    assert_eq!(open_fds(), before);

    // A map nobody uses may be skipped.
    let mut obj = open("map_in_map");
    obj.find_program_mut("not_autoloaded").unwrap().set_autoload(false).unwrap();
    obj.load().unwrap();
}

#[test]
fn maps_can_be_resized_before_load() {
    let _g = serial();
    let mut obj = open("xdp_global_data");
    obj.find_map_mut("len_hist").unwrap().set_max_entries(1024).unwrap();
    obj.find_map_mut(".bss").unwrap().set_value_size(4096).unwrap();
    let (ptr, size) = obj.find_map(".bss").unwrap().initial_value().unwrap();
    assert_eq!(size, 4096);
    obj.load().unwrap();
    let info = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(obj.find_map("len_hist").unwrap().fd().unwrap()).unwrap();
    assert_eq!(info.max_entries, 1024);
    let bss = obj.find_map(".bss").unwrap();
    let info = sys::obj_get_info_by_fd::<uapi::bpf_map_info>(bss.fd().unwrap()).unwrap();
    assert_eq!(info.value_size, 4096);
    assert_eq!(bss.initial_value().unwrap().0, ptr);
    run(&obj, "xdp_len_filter", &packet(80));
    assert_eq!(u64_var(&obj, ".bss", "bytes_seen"), 80);
    assert!(matches!(obj.find_map_mut("len_hist").unwrap().set_max_entries(1), Err(LoadError::Busy { .. })));
}

#[test]
fn verifier_failures_report_the_log_and_close_everything() {
    let _g = serial();
    let before = open_fds();
    let mut obj = open("loader_bad");
    let err = obj.load().unwrap_err();
    let LoadError::ProgLoad { program, summary, log, .. } = &err else { panic!("{err}") };
    assert_eq!(program, "unchecked_read");
    assert!(log.contains("invalid access to packet"), "{log}");
    assert!(summary.contains("unchecked_read") && summary.contains("EACCES"), "{summary}");
    let last = log.lines().rev().find(|l| !l.is_empty() && !l.starts_with("processed ")).unwrap();
    assert!(summary.contains(last.trim()), "{summary}");
    assert_eq!(err.errno(), libc::EACCES);
    assert!(obj.find_program("good_prog").unwrap().fd().is_none(), "loaded programs are closed again");
    drop(obj);
    assert_eq!(open_fds(), before);

    // With the bad program's autoload off, the rest loads; a caller log level gives a log.
    let mut obj = open("loader_bad");
    obj.find_program_mut("unchecked_read").unwrap().set_autoload(false).unwrap();
    obj.find_program_mut("good_prog").unwrap().set_log_level(1).unwrap();
    obj.load().unwrap();
    let log = String::from_utf8_lossy(obj.find_program("good_prog").unwrap().kernel_log()).to_string();
    assert!(log.contains("processed"), "{log}");
}
