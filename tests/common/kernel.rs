//! Helpers for kernel-facing tests that check nothing is left behind: open fds, kernel objects
//! by id, pins in a private bpffs, and the loud SKIPPED line for refused kernel features.
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::os::fd::BorrowedFd;

use bpflink::sys::{self, uapi, ObjKind, TestRun};

/// The kinds of kernel objects a load can create.
pub const OBJECT_KINDS: [ObjKind; 4] = [ObjKind::Prog, ObjKind::Map, ObjKind::Link, ObjKind::Btf];

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("reading /proc/self/fd").count()
}

/// The verdict of a loaded XDP program on a 64-byte IPv4 frame (`BPF_PROG_TEST_RUN`).
pub fn xdp_verdict(prog: BorrowedFd<'_>) -> Result<u32, sys::SysError> {
    let mut frame = vec![0u8; 64];
    frame[12] = 0x08;
    let mut out = vec![0u8; 512];
    sys::prog_test_run(prog, TestRun { data_in: &frame, data_out: Some(&mut out), repeat: 1, ..Default::default() }).map(|r| r.retval)
}

/// Prints the loud line that marks a test skipped for want of a kernel feature.
pub fn skipped(what: &str) {
    report(&format!("SKIPPED: {what} (set {}=1 to fail instead)", sys::REQUIRE_FEATURES_ENV));
}

/// A line for the test log even when the test passes (written to stderr directly, past the
/// test harness's output capture): what a robustness test measured.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The objects of `ids` the kernel still has, after waiting up to ten seconds for them to
/// go: the kernel frees programs, maps and BTF asynchronously once the last fd is closed
/// (maps that were inside a map-in-map only after an RCU-tasks-trace grace period: seconds).
/// Ids are listed, never opened: opening a prog array by id and closing it again schedules
/// the kernel's deferred clearing of the array, which holds a reference for a while.
pub fn still_alive(ids: &[(ObjKind, u32)]) -> Vec<(ObjKind, u32)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed: Vec<(ObjKind, Vec<u32>)> =
            OBJECT_KINDS.iter().map(|&kind| (kind, sys::all_ids(kind).expect("listing kernel object ids"))).collect();
        let alive: Vec<(ObjKind, u32)> = ids
            .iter()
            .copied()
            .filter(|&(kind, id)| listed.iter().any(|(k, list)| *k == kind && list.contains(&id)))
            .collect();
        if alive.is_empty() || Instant::now() > deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// "map 12 (ARRAY 'name')"-style description of a live object, for failure messages.
pub fn describe(kind: ObjKind, id: u32) -> String {
    use std::os::fd::AsFd;
    let Ok(fd) = sys::get_fd_by_id(kind, id, 0) else { return format!("{kind:?} {id} (gone)") };
    let fd = fd.as_fd();
    let detail = match kind {
        ObjKind::Map => sys::obj_get_info_by_fd::<uapi::bpf_map_info>(fd).map(|i| format!("type {} '{}'", i.type_, sys::c_chars_to_string(&i.name))),
        ObjKind::Prog => sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(fd).map(|i| format!("type {} '{}'", i.type_, sys::c_chars_to_string(&i.name))),
        ObjKind::Link => sys::obj_get_info_by_fd::<uapi::bpf_link_info>(fd).map(|i| format!("type {} prog {}", i.type_, i.prog_id)),
        ObjKind::Btf => sys::obj_get_info_by_fd::<uapi::bpf_btf_info>(fd).map(|i| format!("{} bytes", i.btf_size)),
    };
    format!("{kind:?} {id} ({})", detail.unwrap_or_else(|e| e.to_string()))
}


/// Every kernel object id of every kind, for before/after comparisons in a test that owns
/// the kernel (the guest runs test binaries one at a time).
pub fn all_objects() -> BTreeSet<(u8, u32)> {
    OBJECT_KINDS
        .iter()
        .enumerate()
        .flat_map(|(k, &kind)| sys::all_ids(kind).expect("listing kernel object ids").into_iter().map(move |id| (k as u8, id)))
        .collect()
}

/// A private bpffs mount for pins, unmounted on drop.
pub struct Bpffs(pub PathBuf);

impl Bpffs {
    pub fn new(tag: &str) -> Bpffs {
        let dir = std::env::temp_dir().join(format!("bpflink-bpffs-{tag}-{}", std::process::id()));
        sys::bpffs::ensure_mounted(&dir).expect("mounting a private bpffs");
        Bpffs(dir)
    }

    /// Names of the pins in it, sorted.
    pub fn pins(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("listing the bpffs")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        names.sort();
        names
    }
}

impl Drop for Bpffs {
    fn drop(&mut self) {
        let _ = sys::bpffs::unmount(&self.0);
        let _ = std::fs::remove_dir(&self.0);
    }
}
