//! Helpers of the dynamic-linking kernel tests: open/load by name, verdicts of test runs,
//! kernel id checks, and the loud skip where the kernel refuses BPF_PROG_TYPE_EXT.
use std::os::fd::BorrowedFd;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bpflink::loader::{DynamicEdge, LoadError, Object, OpenOptions};
use bpflink::sys::{self, uapi, ObjKind, TestRun};

pub const XDP_ABORTED: u32 = uapi::xdp_action::XDP_ABORTED;
pub const XDP_DROP: u32 = uapi::xdp_action::XDP_DROP;
pub const XDP_PASS: u32 = uapi::xdp_action::XDP_PASS;
pub const XDP_TX: u32 = uapi::xdp_action::XDP_TX;

/// The registry is process-wide: one test at a time, so no test sees another's objects.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn open_named(file: &str, name: &str) -> Object {
    let opts = OpenOptions { object_name: Some(name.to_string()), ..Default::default() };
    Object::open_file(&super::compile_bpf(file), &opts).unwrap_or_else(|e| panic!("open {file}: {e}"))
}

/// Opens and loads an object that needs no extension program (a library, a rootlet).
pub fn load_plain(file: &str, name: &str) -> Object {
    let mut obj = open_named(file, name);
    obj.load().unwrap_or_else(|e| panic!("load {file} as {name}: {e}\n{}", e.kernel_log()));
    obj
}

pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what} (set {}=1 to fail instead)", sys::REQUIRE_FEATURES_ENV);
}

/// Loads `file` as object `name` where loading creates extension programs. None (after a
/// loud SKIPPED line) when the kernel refuses EXT and kernel features are not required.
pub fn load_dependent(file: &str, name: &str, test: &str) -> Option<Object> {
    let mut obj = open_named(file, name);
    match obj.load() {
        Ok(()) => Some(obj),
        Err(e @ LoadError::ProgLoad { .. }) if !sys::feature_required() && e.errno() == libc::EPERM => {
            skipped(&format!("{test}: this kernel ({}) refuses to load BPF_PROG_TYPE_EXT: {e}", sys::kernel_release()));
            None
        }
        Err(e) => panic!("load {file} as {name}: {e}\n{}", e.kernel_log()),
    }
}

pub fn prog_fd<'a>(obj: &'a Object, name: &str) -> BorrowedFd<'a> {
    obj.find_program(name).and_then(|p| p.fd()).unwrap_or_else(|| panic!("{name} not loaded"))
}

pub fn prog_id(fd: BorrowedFd<'_>) -> u32 {
    sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(fd).expect("prog info").id
}

pub fn link_fd(e: &DynamicEdge) -> BorrowedFd<'_> {
    e.link.as_ref().and_then(|l| l.fd()).expect("the edge has a live link")
}

/// A 64-byte frame whose first byte is `first` (IPv4 ethertype).
pub fn frame(first: u8) -> Vec<u8> {
    let mut frame = vec![0u8; 64];
    frame[0] = first;
    frame[12] = 0x08;
    frame
}

/// The verdict of the program behind `fd` on a frame starting with `first`.
pub fn verdict_of(fd: BorrowedFd<'_>, first: u8) -> u32 {
    let data = frame(first);
    let mut out = vec![0u8; 512];
    sys::prog_test_run(fd, TestRun { data_in: &data, data_out: Some(&mut out), repeat: 1, ..Default::default() }).expect("test run").retval
}

pub fn verdict(obj: &Object, program: &str, first: u8) -> u32 {
    verdict_of(prog_fd(obj, program), first)
}

/// Waits (briefly) for kernel object `id` to be freed: ids go when the last reference drops.
pub fn gone(kind: ObjKind, id: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if !sys::all_ids(kind).expect("listing ids").contains(&id) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn exists(kind: ObjKind, id: u32) -> bool {
    sys::all_ids(kind).expect("listing ids").contains(&id)
}

/// The u64 at index `key` of the array map with kernel id `map_id`.
pub fn counter(map_id: u32, key: u32) -> u64 {
    let fd = sys::map_get_fd_by_id(map_id, 0).expect("map by id");
    let mut value = [0u8; 8];
    sys::map_lookup_elem(std::os::fd::AsFd::as_fd(&fd), &key.to_ne_bytes(), &mut value, 0).expect("lookup");
    u64::from_ne_bytes(value)
}

/// Kernel id of map `name` of a loaded object.
pub fn map_id(obj: &Object, name: &str) -> u32 {
    let fd = obj.find_map(name).and_then(|m| m.fd()).unwrap_or_else(|| panic!("map {name} not created"));
    sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd).expect("map info").id
}
