//! Kernel-facing tests of `bpflink::sys`: every test issues real `bpf(2)` commands and checks
//! the outcome against the kernel's own view (object info, ids) or bpftool.
//!
//! Tests run one at a time (a shared lock) so that each can check it leaks no file descriptor.
//! Features the host sandbox refuses (EXT programs) are skipped loudly there and required in
//! the guest kernel run (`BPFLINK_REQUIRE_KERNEL_FEATURES=1`).
mod common;

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use bpflink::sys::{
    self, insn::insn, uapi, BatchFlags, KernelLog, LinkCreateAttr, LinkExtra, MapCreateAttr, ObjKind, ProgAttachAttr,
    ProgLoadAttr, SysError, Target, TestRun,
};
use uapi::{bpf_attach_type as at, bpf_map_type as mt, bpf_prog_type as pt};

// ---------------------------------------------------------------------------------------------
// Harness: one test at a time, no fd leaks, skip policy for refused kernel features.

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the test lock and checks on drop that the test closed every fd it opened.
struct FdGuard {
    before: usize,
    _lock: MutexGuard<'static, ()>,
}

fn guard() -> FdGuard {
    let lock = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    FdGuard { before: open_fds(), _lock: lock }
}

impl Drop for FdGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_eq!(open_fds(), self.before, "the test leaked file descriptors");
        }
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("reading /proc/self/fd").count()
}

/// The skip policy for kernel features a sandboxed host refuses: returns true (skip) after a
/// loud note when the kernel refused with EPERM and the run does not require kernel features;
/// any other error, or any error in a run that requires them, fails the test.
fn refused_and_skipped(feature: &str, e: &SysError) -> bool {
    if e.is(libc::EPERM) && !sys::feature_required() {
        eprintln!("SKIPPED (host kernel refuses {feature}: EPERM) — runs in the guest kernel");
        return true;
    }
    false
}

fn kernel_at_least(major: u32, minor: u32) -> bool {
    sys::kernel_version().is_some_and(|v| v >= (major, minor))
}

// ---------------------------------------------------------------------------------------------
// Hand-assembled programs.

const BPF_LDX_MEM_W: u8 = (uapi::BPF_LDX | uapi::BPF_MEM | uapi::BPF_W) as u8;
const BPF_ALU64_ADD_K: u8 = (uapi::BPF_ALU64 | uapi::BPF_ADD | uapi::BPF_K) as u8;
const BPF_JMP_JGT_X: u8 = (uapi::BPF_JMP | uapi::BPF_JGT | uapi::BPF_X) as u8;
const XDP_DROP: u32 = uapi::xdp_action::XDP_DROP;
const XDP_PASS: u32 = uapi::xdp_action::XDP_PASS;
/// Packets at least this long are dropped by [`xdp_len_filter`].
const DROP_LEN: i32 = 100;

/// XDP: `return data + DROP_LEN > data_end ? XDP_PASS : XDP_DROP;`
fn xdp_len_filter() -> Vec<uapi::bpf_insn> {
    vec![
        insn(BPF_LDX_MEM_W, 2, 1, 0, 0), // r2 = ctx->data
        insn(BPF_LDX_MEM_W, 3, 1, 4, 0), // r3 = ctx->data_end
        sys::insn::mov64_imm(0, XDP_PASS as i32),
        insn(BPF_ALU64_ADD_K, 2, 0, 0, DROP_LEN),
        insn(BPF_JMP_JGT_X, 2, 3, 1, 0), // if r2 > r3 goto exit
        sys::insn::mov64_imm(0, XDP_DROP as i32),
        sys::insn::exit(),
    ]
}

/// `return imm;`
fn ret_imm(imm: i32) -> Vec<uapi::bpf_insn> {
    vec![sys::insn::mov64_imm(0, imm), sys::insn::exit()]
}

fn load(prog_type: pt::Type, insns: &[uapi::bpf_insn], name: &str) -> Result<OwnedFd, SysError> {
    sys::prog_load(&ProgLoadAttr { prog_type, insns, license: c"GPL", name, ..Default::default() }, None)
}

fn load_xdp(name: &str) -> OwnedFd {
    load(pt::BPF_PROG_TYPE_XDP, &xdp_len_filter(), name).expect("loading the XDP length filter")
}

fn run_xdp(prog: BorrowedFd<'_>, packet_len: usize) -> u32 {
    let packet = vec![0xabu8; packet_len];
    let mut out = vec![0u8; packet_len];
    let r = sys::prog_test_run(prog, TestRun { data_in: &packet, data_out: Some(&mut out), ..Default::default() })
        .expect("BPF_PROG_TEST_RUN");
    assert_eq!(r.data_size_out as usize, packet_len, "XDP_PASS/DROP leave the packet as it was");
    assert_eq!(out, packet);
    r.retval
}

fn prog_info(fd: BorrowedFd<'_>) -> uapi::bpf_prog_info {
    sys::obj_get_info_by_fd(fd).expect("prog info")
}

fn map_info(fd: BorrowedFd<'_>) -> uapi::bpf_map_info {
    sys::obj_get_info_by_fd(fd).expect("map info")
}

// ---------------------------------------------------------------------------------------------
// bpftool as the independent reference.

fn bpftool_json(args: &[&str]) -> Option<serde_json::Value> {
    let out = Command::new("bpftool").arg("-j").args(args).output().expect("running bpftool");
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn bpftool_prog_names() -> Vec<String> {
    let list = bpftool_json(&["prog", "list"]).expect("bpftool prog list");
    list.as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Programs: load, test run, verifier log, info, ids.

#[test]
fn xdp_verdicts_depend_on_packet_length() {
    let _g = guard();
    let prog = load_xdp("blsys_len");
    assert_eq!(run_xdp(prog.as_fd(), 64), XDP_PASS);
    assert_eq!(run_xdp(prog.as_fd(), DROP_LEN as usize - 1), XDP_PASS);
    assert_eq!(run_xdp(prog.as_fd(), DROP_LEN as usize), XDP_DROP);
    assert_eq!(run_xdp(prog.as_fd(), 1500), XDP_DROP);

    // repeat runs the program many times; output too small for the packet is ENOSPC.
    let packet = [0u8; 64];
    let r = sys::prog_test_run(prog.as_fd(), TestRun { data_in: &packet, repeat: 1000, ..Default::default() }).unwrap();
    assert_eq!(r.retval, XDP_PASS);
    let mut small = [0u8; 16];
    let e = sys::prog_test_run(prog.as_fd(), TestRun { data_in: &packet, data_out: Some(&mut small), ..Default::default() })
        .unwrap_err();
    assert_eq!(e.errno(), libc::ENOSPC, "{e}");
    // XDP test runs need at least an Ethernet header.
    let e = sys::prog_test_run(prog.as_fd(), TestRun { data_in: &packet[..4], ..Default::default() }).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
}

#[test]
fn verifier_log_explains_a_rejected_program() {
    let _g = guard();
    // r0 = r5 reads a register nothing initialised.
    let bad = [sys::insn::mov64_reg(0, 5), sys::insn::exit()];
    let attr = ProgLoadAttr { prog_type: pt::BPF_PROG_TYPE_XDP, insns: &bad, license: c"GPL", ..Default::default() };
    let e = sys::prog_load(&attr, None).unwrap_err();
    assert_eq!(e.errno(), libc::EACCES, "{e}");
    assert_eq!(e.op, "BPF_PROG_LOAD");

    let mut buf = vec![0u8; 64 * 1024];
    let mut log = KernelLog::new(uapi::newer::BPF_LOG_LEVEL1, &mut buf);
    let e = sys::prog_load(&attr, Some(&mut log)).unwrap_err();
    assert_eq!(e.errno(), libc::EACCES);
    let text = log.text().into_owned();
    assert!(text.contains("R5 !read_ok"), "verifier log lacks the reason:\n{text}");
    if kernel_at_least(6, 4) {
        assert_eq!(log.true_size(), Some(text.len() as u32 + 1), "log_true_size counts the text and its NUL");
    }

    // A log buffer too small for the log: kernels before 6.4 reject sizes under 128 bytes
    // (EINVAL), later ones truncate the log and fail with ENOSPC.
    let mut tiny = [0u8; 16];
    let e = sys::prog_load(&attr, Some(&mut KernelLog::new(1, &mut tiny))).unwrap_err();
    assert!([libc::EINVAL, libc::ENOSPC].contains(&e.errno()), "{e}");

    // A good program with a log at level 1 loads, and the log of a successful load is kept.
    let good = ret_imm(XDP_PASS as i32);
    let attr = ProgLoadAttr { insns: &good, ..attr };
    let mut log = KernelLog::new(uapi::newer::BPF_LOG_LEVEL1 | uapi::newer::BPF_LOG_STATS, &mut buf);
    let _fd = sys::prog_load(&attr, Some(&mut log)).unwrap();
    assert!(log.text().contains("processed 2 insns"), "{}", log.text());
}

#[test]
fn program_info_and_ids_agree_with_bpftool() {
    let _g = guard();
    let prog = load_xdp("blsys_info");
    let info = prog_info(prog.as_fd());
    assert_eq!(sys::c_chars_to_string(&info.name), "blsys_info");
    assert_eq!(info.type_, pt::BPF_PROG_TYPE_XDP);
    assert_eq!(info.xlated_prog_len as usize, xdp_len_filter().len() * 8);
    assert!(info.id > 0);

    // The id walk finds it, and opening it by id gives the same program.
    assert!(sys::all_ids(ObjKind::Prog).unwrap().contains(&info.id));
    let again = sys::prog_get_fd_by_id(info.id).unwrap();
    assert_eq!(prog_info(again.as_fd()).id, info.id);

    let shown = bpftool_json(&["prog", "show", "id", &info.id.to_string()]).expect("bpftool prog show");
    assert_eq!(shown["name"], "blsys_info");
    assert_eq!(shown["type"], "xdp");
    assert_eq!(shown["bytes_xlated"], info.xlated_prog_len);

    // Names are cut to 15 bytes; forbidden characters are rejected by the kernel.
    let long = load_xdp("blsys_a_very_long_name");
    assert_eq!(sys::c_chars_to_string(&prog_info(long.as_fd()).name), "blsys_a_very_lo");
    let e = load(pt::BPF_PROG_TYPE_XDP, &xdp_len_filter(), "bad-name").unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    let ok = load(pt::BPF_PROG_TYPE_XDP, &xdp_len_filter(), &sys::sanitize_obj_name("bad-name")).unwrap();
    assert_eq!(sys::c_chars_to_string(&prog_info(ok.as_fd()).name), "bad_name");

    drop((prog, again, long, ok));
    let e = sys::prog_get_fd_by_id(info.id).unwrap_err();
    assert_eq!(e.errno(), libc::ENOENT, "the program is gone once its last fd is closed");
    assert!(bpftool_json(&["prog", "show", "id", &info.id.to_string()]).is_none());
}

#[test]
fn nothing_stays_loaded_after_fds_close() {
    let _g = guard();
    let ours = |names: &[String]| names.iter().filter(|n| n.starts_with("blsys_leak")).count();
    let before = ours(&bpftool_prog_names());
    let progs: Vec<OwnedFd> = (0..3).map(|i| load_xdp(&format!("blsys_leak{i}"))).collect();
    assert_eq!(ours(&bpftool_prog_names()), before + 3, "bpftool sees the loaded programs");
    drop(progs);
    assert_eq!(ours(&bpftool_prog_names()), before, "bpftool still lists programs after close");
}

#[test]
fn probes_match_what_loads() {
    let _g = guard();
    assert!(sys::probe_prog_type(pt::BPF_PROG_TYPE_XDP));
    assert!(sys::probe_prog_type(pt::BPF_PROG_TYPE_SOCKET_FILTER));
    assert!(sys::probe_prog_type(pt::BPF_PROG_TYPE_SCHED_CLS));
    assert!(!sys::probe_prog_type(9999), "an unknown program type is not supported");
    // EXT: the probe must agree with the real load attempted in `ext_program_replaces_a_global_function`.
    let ext = sys::probe_prog_type(pt::BPF_PROG_TYPE_EXT);
    let attr = ProgLoadAttr {
        prog_type: pt::BPF_PROG_TYPE_EXT,
        insns: &ret_imm(0),
        license: c"GPL",
        attach_btf_id: 1,
        ..Default::default()
    };
    let e = sys::prog_load(&attr, None).unwrap_err();
    assert_eq!(ext, e.errno() != libc::EPERM, "probe says {ext}, loading an EXT fails with {e}");
    if sys::feature_required() {
        assert!(ext, "BPF_PROG_TYPE_EXT must be supported in the guest kernel");
    }
}

// ---------------------------------------------------------------------------------------------
// Maps.

fn create_map(map_type: mt::Type, key_size: u32, value_size: u32, max_entries: u32, name: &str) -> OwnedFd {
    sys::map_create(&MapCreateAttr { map_type, key_size, value_size, max_entries, name, ..Default::default() })
        .unwrap_or_else(|e| panic!("creating map {name}: {e}"))
}

fn u32b(v: u32) -> [u8; 4] {
    v.to_ne_bytes()
}

fn u64b(v: u64) -> [u8; 8] {
    v.to_ne_bytes()
}

fn lookup_u64(map: BorrowedFd<'_>, key: u32) -> Result<u64, SysError> {
    let mut v = [0u8; 8];
    sys::map_lookup_elem(map, &u32b(key), &mut v, 0)?;
    Ok(u64::from_ne_bytes(v))
}

fn errno_of<T>(r: Result<T, SysError>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e.errno(),
    }
}

#[test]
fn array_map_round_trips() {
    let _g = guard();
    let map = create_map(mt::BPF_MAP_TYPE_ARRAY, 4, 8, 4, "blsys_array");
    let m = map.as_fd();
    assert_eq!(lookup_u64(m, 2).unwrap(), 0, "array elements start zeroed");
    sys::map_update_elem(m, &u32b(2), &u64b(0x1122_3344_5566_7788), uapi::BPF_ANY as u64).unwrap();
    assert_eq!(lookup_u64(m, 2).unwrap(), 0x1122_3344_5566_7788);
    assert_eq!(errno_of(lookup_u64(m, 4)), libc::ENOENT, "index past max_entries");
    assert_eq!(errno_of(sys::map_update_elem(m, &u32b(4), &u64b(1), 0)), libc::E2BIG);
    assert_eq!(errno_of(sys::map_update_elem(m, &u32b(1), &u64b(1), uapi::BPF_NOEXIST as u64)), libc::EEXIST);
    assert_eq!(errno_of(sys::map_delete_elem(m, &u32b(1), 0)), libc::EINVAL, "array elements can't be deleted");
    assert_eq!(errno_of(sys::map_update_elem(m, &u32b(1), &u64b(1), 0x1000)), libc::EINVAL, "unknown flags");

    // Iteration visits every index in order.
    let mut keys = Vec::new();
    let mut next = [0u8; 4];
    let mut prev: Option<[u8; 4]> = None;
    while sys::map_get_next_key(m, prev.as_ref().map(|k| &k[..]), &mut next).is_ok() {
        keys.push(u32::from_ne_bytes(next));
        prev = Some(next);
    }
    assert_eq!(keys, [0, 1, 2, 3]);

    // The wrapper refuses buffers smaller than the map's sizes instead of letting the kernel
    // write past them.
    let mut short = [0u8; 4];
    let e = sys::map_lookup_elem(m, &u32b(0), &mut short, 0).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    assert!(e.detail.is_some(), "{e}");
    assert!(sys::map_lookup_elem(m, &[0u8; 2], &mut [0u8; 8], 0).is_err());

    let info = map_info(m);
    assert_eq!((info.type_, info.key_size, info.value_size, info.max_entries), (mt::BPF_MAP_TYPE_ARRAY, 4, 8, 4));
    assert_eq!(sys::c_chars_to_string(&info.name), "blsys_array");

    // bpftool reads the same contents.
    let dump = bpftool_json(&["map", "dump", "id", &info.id.to_string()]).expect("bpftool map dump");
    let elem = &dump.as_array().unwrap()[2];
    let value: Vec<u8> = elem["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| u8::from_str_radix(b.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
        .collect();
    assert_eq!(value, u64b(0x1122_3344_5566_7788));

    // Frozen maps refuse updates from user space.
    sys::map_freeze(m).unwrap();
    assert_eq!(errno_of(sys::map_update_elem(m, &u32b(0), &u64b(1), 0)), libc::EPERM);
    assert_eq!(lookup_u64(m, 2).unwrap(), 0x1122_3344_5566_7788, "still readable");
}

#[test]
fn hash_map_round_trips_and_batches() {
    let _g = guard();
    let map = create_map(mt::BPF_MAP_TYPE_HASH, 4, 8, 64, "blsys_hash");
    let m = map.as_fd();
    assert_eq!(errno_of(lookup_u64(m, 7)), libc::ENOENT);
    assert_eq!(errno_of(sys::map_update_elem(m, &u32b(7), &u64b(70), uapi::BPF_EXIST as u64)), libc::ENOENT);
    sys::map_update_elem(m, &u32b(7), &u64b(70), uapi::BPF_NOEXIST as u64).unwrap();
    assert_eq!(errno_of(sys::map_update_elem(m, &u32b(7), &u64b(71), uapi::BPF_NOEXIST as u64)), libc::EEXIST);
    sys::map_update_elem(m, &u32b(7), &u64b(71), uapi::BPF_EXIST as u64).unwrap();
    assert_eq!(lookup_u64(m, 7).unwrap(), 71);
    sys::map_delete_elem(m, &u32b(7), 0).unwrap();
    assert_eq!(errno_of(sys::map_delete_elem(m, &u32b(7), 0)), libc::ENOENT);
    assert_eq!(errno_of(sys::map_get_next_key(m, None, &mut [0u8; 4])), libc::ENOENT, "empty map");

    // Batch update 40 elements, read them back in batches of 16, then delete in one batch.
    let keys: Vec<u32> = (100..140).collect();
    let key_bytes: Vec<u8> = keys.iter().flat_map(|k| u32b(*k)).collect();
    let value_bytes: Vec<u8> = keys.iter().flat_map(|k| u64b(u64::from(*k) * 3)).collect();
    assert_eq!(sys::map_update_batch(m, &key_bytes, &value_bytes, BatchFlags::default()).unwrap(), 40);

    let mut seen = std::collections::BTreeMap::new();
    let mut cursor: Option<[u8; 4]> = None;
    loop {
        let (mut kb, mut vb, mut out) = ([0u8; 16 * 4], [0u8; 16 * 8], [0u8; 4]);
        let r = sys::map_lookup_batch(m, cursor.as_ref().map(|c| &c[..]), &mut out, &mut kb, &mut vb, BatchFlags::default())
            .unwrap();
        for i in 0..r.count as usize {
            let k = u32::from_ne_bytes(kb[i * 4..i * 4 + 4].try_into().unwrap());
            let v = u64::from_ne_bytes(vb[i * 8..i * 8 + 8].try_into().unwrap());
            seen.insert(k, v);
        }
        if r.done {
            break;
        }
        cursor = Some(out);
    }
    assert_eq!(seen.len(), 40);
    assert!(seen.iter().all(|(k, v)| *v == u64::from(*k) * 3));

    // Plain iteration agrees with the batch walk.
    let mut iterated = Vec::new();
    let (mut prev, mut next): (Option<[u8; 4]>, [u8; 4]) = (None, [0; 4]);
    while sys::map_get_next_key(m, prev.as_ref().map(|k| &k[..]), &mut next).is_ok() {
        iterated.push(u32::from_ne_bytes(next));
        prev = Some(next);
    }
    iterated.sort();
    assert_eq!(iterated, keys);

    // lookup-and-delete batch takes the first 10 out.
    let (mut kb, mut vb, mut out) = ([0u8; 10 * 4], [0u8; 10 * 8], [0u8; 4]);
    let r = sys::map_lookup_and_delete_batch(m, None, &mut out, &mut kb, &mut vb, BatchFlags::default()).unwrap();
    assert!(r.count > 0 && r.count <= 10, "{r:?}");
    let taken = u32::from_ne_bytes(kb[..4].try_into().unwrap());
    assert_eq!(errno_of(lookup_u64(m, taken)), libc::ENOENT);

    let remaining: Vec<u8> = keys
        .iter()
        .filter(|k| lookup_u64(m, **k).is_ok())
        .flat_map(|k| u32b(*k))
        .collect();
    assert_eq!(remaining.len() / 4, 40 - r.count as usize);
    assert_eq!(sys::map_delete_batch(m, &remaining, BatchFlags::default()).unwrap() as usize, remaining.len() / 4);
    assert_eq!(errno_of(sys::map_get_next_key(m, None, &mut [0u8; 4])), libc::ENOENT, "all deleted");

    // Value buffers too small for the batch are refused before the syscall.
    let e = sys::map_update_batch(m, &key_bytes, &value_bytes[..8], BatchFlags::default()).unwrap_err();
    assert!(e.detail.is_some(), "{e}");
}

#[test]
fn percpu_map_has_one_slot_per_possible_cpu() {
    let _g = guard();
    let cpus = sys::possible_cpus().unwrap();
    let map = create_map(mt::BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2, "blsys_percpu");
    let m = map.as_fd();
    // Values are 4 bytes but each CPU's slot is 8-byte aligned.
    let mut values = vec![0u8; 8 * cpus];
    for cpu in 0..cpus {
        values[cpu * 8..cpu * 8 + 4].copy_from_slice(&u32b(1000 + cpu as u32));
    }
    sys::map_update_elem(m, &u32b(1), &values, 0).unwrap();
    let mut back = vec![0u8; 8 * cpus];
    sys::map_lookup_elem(m, &u32b(1), &mut back, 0).unwrap();
    for cpu in 0..cpus {
        assert_eq!(u32::from_ne_bytes(back[cpu * 8..cpu * 8 + 4].try_into().unwrap()), 1000 + cpu as u32);
    }
    // A buffer for one CPU only is refused.
    let e = sys::map_lookup_elem(m, &u32b(1), &mut [0u8; 8], 0);
    if cpus > 1 {
        assert!(e.unwrap_err().detail.is_some());
    }

    let hash = create_map(mt::BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 8, "blsys_pcpu_hash");
    sys::map_update_elem(hash.as_fd(), &u32b(5), &vec![7u8; 8 * cpus], 0).unwrap();
    let mut back = vec![0u8; 8 * cpus];
    sys::map_lookup_elem(hash.as_fd(), &u32b(5), &mut back, 0).unwrap();
    assert!(back.iter().all(|&b| b == 7));
}

#[test]
fn queue_map_pops_in_fifo_order() {
    let _g = guard();
    let q = create_map(mt::BPF_MAP_TYPE_QUEUE, 0, 4, 8, "blsys_queue");
    for v in [10u32, 20, 30] {
        sys::map_update_elem(q.as_fd(), &[], &u32b(v), 0).unwrap();
    }
    let mut popped = Vec::new();
    let mut v = [0u8; 4];
    while sys::map_lookup_and_delete_elem(q.as_fd(), None, &mut v, 0).is_ok() {
        popped.push(u32::from_ne_bytes(v));
    }
    assert_eq!(popped, [10, 20, 30]);
}

#[test]
fn bad_map_attributes_are_rejected() {
    let _g = guard();
    let attempt = |map_type, key_size, value_size, max_entries, map_flags| {
        sys::map_create(&MapCreateAttr { map_type, key_size, value_size, max_entries, map_flags, ..Default::default() })
    };
    let e = attempt(mt::BPF_MAP_TYPE_HASH, 0, 8, 4, 0).unwrap_err();
    assert_eq!((e.op, e.errno()), ("BPF_MAP_CREATE", libc::EINVAL));
    assert_eq!(errno_of(attempt(mt::BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0)), libc::EINVAL, "max_entries 0");
    assert_eq!(errno_of(attempt(mt::BPF_MAP_TYPE_ARRAY, 8, 8, 4, 0)), libc::EINVAL, "array keys are u32");
    assert_eq!(errno_of(attempt(mt::BPF_MAP_TYPE_HASH, 4, 8, 4, 1 << 30)), libc::EINVAL, "unknown flag");
    assert_eq!(errno_of(attempt(9999, 4, 8, 4, 0)), libc::EINVAL, "unknown map type");
    assert!(attempt(mt::BPF_MAP_TYPE_HASH, 4, 8, 4, uapi::BPF_F_NO_PREALLOC).is_ok());
}

// ---------------------------------------------------------------------------------------------
// BTF.

/// The raw `.BTF` section of a clang-built test object.
fn btf_section(object: &Path) -> Vec<u8> {
    use object::{Object, ObjectSection};
    let data = std::fs::read(object).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.section_by_name(".BTF").expect("object has .BTF").data().unwrap().to_vec()
}

/// The test object after libbpf's linker (`bpftool gen object`), which fills in the DATASEC
/// sizes and offsets clang leaves at zero and the kernel insists on.
fn linked_object(name: &str) -> PathBuf {
    let input = common::compile_bpf(name);
    let out = std::env::temp_dir().join(format!("blsys-{}-{name}.linked.o", std::process::id()));
    let status = Command::new("bpftool").args(["gen", "object"]).arg(&out).arg(&input).status().unwrap();
    assert!(status.success(), "bpftool gen object failed");
    out
}

#[test]
fn btf_blob_of_a_clang_object_loads() {
    let _g = guard();
    let linked = linked_object("xdp_global_data");
    let blob = btf_section(&linked);
    std::fs::remove_file(&linked).ok();

    let mut buf = vec![0u8; 1 << 16];
    let mut log = KernelLog::new(1, &mut buf);
    let btf = sys::btf_load(&blob, Some(&mut log)).unwrap_or_else(|e| panic!("{e}\n{}", log.text()));
    let info: uapi::bpf_btf_info = sys::obj_get_info_by_fd(btf.as_fd()).unwrap();
    assert_eq!(info.btf_size as usize, blob.len());
    assert_eq!(sys::btf_data(btf.as_fd()).unwrap(), blob, "the kernel hands back the blob it loaded");
    assert_eq!(sys::btf_name(btf.as_fd()).unwrap(), "");
    assert!(sys::all_ids(ObjKind::Btf).unwrap().contains(&info.id));
    let again = sys::btf_get_fd_by_id(info.id).unwrap();
    assert_eq!(sys::btf_data(again.as_fd()).unwrap(), blob);

    // bpftool decodes the loaded BTF into the same types as the object's.
    let loaded = bpftool_json(&["btf", "dump", "id", &info.id.to_string()]).unwrap();
    let names: Vec<&str> = loaded["types"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    for want in ["xdp_md", "xdp_len_filter", "count_verdict", "bucket_of", ".maps", ".rodata"] {
        assert!(names.contains(&want), "{want} missing from the loaded BTF");
    }
}

#[test]
fn corrupted_btf_is_rejected_with_a_log() {
    let _g = guard();
    // Raw clang output: DATASECs have size 0, which the kernel refuses.
    let raw = btf_section(&common::compile_bpf("xdp_global_data"));
    let mut buf = vec![0u8; 1 << 16];
    let mut log = KernelLog::new(1, &mut buf);
    let e = sys::btf_load(&raw, Some(&mut log)).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
    assert!(log.text().contains("DATASEC") || log.text().contains("size == 0"), "{}", log.text());

    // Bad magic.
    let mut bad = raw.clone();
    bad[0] ^= 0xff;
    let mut log = KernelLog::new(1, &mut buf);
    assert_eq!(sys::btf_load(&bad, Some(&mut log)).unwrap_err().errno(), libc::EINVAL);
    assert!(!log.text().is_empty(), "the kernel explains a bad header");

    // First type with an unknown kind (info word kind bits 24..28 = 31).
    let hdr_len = u32::from_ne_bytes(raw[4..8].try_into().unwrap()) as usize;
    let type_off = u32::from_ne_bytes(raw[8..12].try_into().unwrap()) as usize;
    let mut bad = raw.clone();
    bad[hdr_len + type_off + 7] = 0x1f;
    let mut log = KernelLog::new(1, &mut buf);
    assert_eq!(sys::btf_load(&bad, Some(&mut log)).unwrap_err().errno(), libc::EINVAL);
    assert!(!log.text().is_empty());

    // Truncated blob, no log requested.
    assert_eq!(sys::btf_load(&raw[..10], None).unwrap_err().errno(), libc::EINVAL);
}

/// A minimal hand-built BTF: the types an XDP program with one global function needs.
struct TestBtf {
    blob: Vec<u8>,
}

const BTF_INT: u32 = 1; // int
const BTF_U64: u32 = 2; // unsigned long long
const BTF_PTR_CTX: u32 = 4; // struct xdp_md *
const BTF_FUNC: u32 = 6; // int xdp_entry(struct xdp_md *ctx), global
const BTF_U32: u32 = 7; // unsigned int

impl TestBtf {
    fn new() -> Self {
        let mut strings = vec![0u8];
        let mut name = |s: &str| {
            let off = strings.len() as u32;
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
            off
        };
        let (int, ull, xdp_md, ctx, func, uint) =
            (name("int"), name("unsigned long long"), name("xdp_md"), name("ctx"), name("xdp_entry"), name("unsigned int"));
        let info = |kind: u32, vlen: u32| (kind << 24) | vlen;
        let mut types: Vec<u32> = Vec::new();
        types.extend([int, info(uapi::BTF_KIND_INT, 0), 4, (uapi::BTF_INT_SIGNED << 24) | 32]); // [1]
        types.extend([ull, info(uapi::BTF_KIND_INT, 0), 8, 64]); // [2]
        types.extend([xdp_md, info(uapi::BTF_KIND_STRUCT, 0), 24]); // [3] opaque
        types.extend([0, info(uapi::BTF_KIND_PTR, 0), 3]); // [4]
        types.extend([0, info(uapi::BTF_KIND_FUNC_PROTO, 1), BTF_INT, ctx, BTF_PTR_CTX]); // [5]
        types.extend([func, info(uapi::BTF_KIND_FUNC, uapi::btf_func_linkage::BTF_FUNC_GLOBAL), 5]); // [6]
        types.extend([uint, info(uapi::BTF_KIND_INT, 0), 4, 32]); // [7]
        let type_bytes: Vec<u8> = types.iter().flat_map(|w| w.to_ne_bytes()).collect();
        let mut blob = Vec::new();
        blob.extend((uapi::BTF_MAGIC as u16).to_ne_bytes());
        blob.extend([uapi::BTF_VERSION as u8, 0]);
        for word in [24, 0, type_bytes.len() as u32, type_bytes.len() as u32, strings.len() as u32] {
            blob.extend(word.to_ne_bytes());
        }
        blob.extend(type_bytes);
        blob.extend(strings);
        TestBtf { blob }
    }

    fn load(&self) -> OwnedFd {
        let mut buf = vec![0u8; 1 << 16];
        let mut log = KernelLog::new(1, &mut buf);
        sys::btf_load(&self.blob, Some(&mut log)).unwrap_or_else(|e| panic!("{e}\n{}", log.text()))
    }
}

/// One `bpf_func_info` record: the function at instruction 0 has BTF type `type_id`.
fn func_info_at_0(type_id: u32) -> Vec<u8> {
    let rec = uapi::bpf_func_info { insn_off: 0, type_id };
    [rec.insn_off.to_ne_bytes(), rec.type_id.to_ne_bytes()].concat()
}

#[test]
fn map_with_btf_key_and_value_types() {
    let _g = guard();
    let btf = TestBtf::new().load();
    let attr = MapCreateAttr {
        map_type: mt::BPF_MAP_TYPE_HASH,
        key_size: 4,
        value_size: 8,
        max_entries: 4,
        name: "blsys_btf_map",
        btf_fd: Some(btf.as_fd()),
        btf_key_type_id: BTF_U32,
        btf_value_type_id: BTF_U64,
        ..Default::default()
    };
    let map = sys::map_create(&attr).unwrap();
    let info = map_info(map.as_fd());
    let btf_info: uapi::bpf_btf_info = sys::obj_get_info_by_fd(btf.as_fd()).unwrap();
    assert_eq!((info.btf_id, info.btf_key_type_id, info.btf_value_type_id), (btf_info.id, BTF_U32, BTF_U64));

    sys::map_update_elem(map.as_fd(), &u32b(3), &u64b(42), 0).unwrap();
    // With BTF, bpftool prints the value formatted by type.
    let dump = bpftool_json(&["map", "dump", "id", &info.id.to_string()]).unwrap();
    assert_eq!(dump[0]["formatted"]["key"], 3);
    assert_eq!(dump[0]["formatted"]["value"], 42);

    // A value type whose size differs from value_size is rejected.
    let e = sys::map_create(&MapCreateAttr { btf_value_type_id: BTF_U32, ..attr }).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL);
    // The map keeps its BTF alive; its id stays valid after our BTF fd closes.
    drop(btf);
    let again = sys::btf_get_fd_by_id(info.btf_id).unwrap();
    assert_eq!(sys::btf_data(again.as_fd()).unwrap(), TestBtf::new().blob);
}

/// The target of freplace: XDP `xdp_entry` (global, BTF-described) returning XDP_PASS.
fn load_ext_target(btf: BorrowedFd<'_>, func_info: &[u8]) -> OwnedFd {
    let insns = ret_imm(XDP_PASS as i32);
    let attr = ProgLoadAttr {
        prog_type: pt::BPF_PROG_TYPE_XDP,
        insns: &insns,
        license: c"GPL",
        name: "blsys_target",
        prog_btf_fd: Some(btf),
        func_info,
        func_info_rec_size: sys::rec_size::<uapi::bpf_func_info>(),
        ..Default::default()
    };
    let mut buf = vec![0u8; 1 << 16];
    let mut log = KernelLog::new(1, &mut buf);
    sys::prog_load(&attr, Some(&mut log)).unwrap_or_else(|e| panic!("{e}\n{}", log.text()))
}

#[test]
fn ext_program_replaces_a_global_function() {
    let _g = guard();
    let btf = TestBtf::new().load();
    let func_info = func_info_at_0(BTF_FUNC);
    let target = load_ext_target(btf.as_fd(), &func_info);
    assert_eq!(run_xdp(target.as_fd(), 64), XDP_PASS);
    let target_info = prog_info(target.as_fd());
    assert_eq!(target_info.nr_func_info, 1);
    assert!(target_info.btf_id > 0);

    let insns = ret_imm(XDP_DROP as i32);
    let ext_attr = ProgLoadAttr {
        prog_type: pt::BPF_PROG_TYPE_EXT,
        insns: &insns,
        license: c"GPL",
        name: "blsys_ext",
        prog_btf_fd: Some(btf.as_fd()),
        func_info: &func_info,
        func_info_rec_size: sys::rec_size::<uapi::bpf_func_info>(),
        attach_prog_fd: Some(target.as_fd()),
        attach_btf_id: BTF_FUNC,
        ..Default::default()
    };
    let mut buf = vec![0u8; 1 << 16];
    let mut log = KernelLog::new(1, &mut buf);
    let ext = match sys::prog_load(&ext_attr, Some(&mut log)) {
        Ok(fd) => fd,
        Err(e) if refused_and_skipped("BPF_PROG_TYPE_EXT", &e) => return,
        Err(e) => panic!("{e}\n{}", log.text()),
    };
    assert_eq!(prog_info(ext.as_fd()).type_, pt::BPF_PROG_TYPE_EXT);

    // Attach with an explicit target (the form that lets one EXT serve many targets).
    let link = sys::link_create(&LinkCreateAttr {
        prog_fd: ext.as_fd(),
        target: Target::Fd(target.as_fd()),
        attach_type: 0,
        flags: 0,
        extra: LinkExtra::TargetBtfId(BTF_FUNC),
    })
    .expect("freplace link");
    assert_eq!(run_xdp(target.as_fd(), 64), XDP_DROP, "the extension runs instead of the original");
    let link_info: uapi::bpf_link_info = sys::obj_get_info_by_fd(link.as_fd()).unwrap();
    assert_eq!(link_info.type_, uapi::bpf_link_type::BPF_LINK_TYPE_TRACING);
    assert_eq!(link_info.prog_id, prog_info(ext.as_fd()).id);

    // A second link of the same function is refused while the first exists.
    let second = sys::link_create(&LinkCreateAttr {
        prog_fd: ext.as_fd(),
        target: Target::Fd(target.as_fd()),
        attach_type: 0,
        flags: 0,
        extra: LinkExtra::TargetBtfId(BTF_FUNC),
    });
    assert!(second.is_err(), "two extensions of one function");

    drop(link);
    assert_eq!(run_xdp(target.as_fd(), 64), XDP_PASS, "closing the link restores the original");
}

// ---------------------------------------------------------------------------------------------
// Pinning, links, attachment.

/// A private bpffs instance, unmounted and removed on drop.
struct PrivateBpffs {
    dir: PathBuf,
}

impl PrivateBpffs {
    fn mount() -> Self {
        let dir = std::env::temp_dir().join(format!("blsys-bpffs-{}", std::process::id()));
        assert!(sys::bpffs::ensure_mounted(&dir).expect("mounting bpffs"), "fresh directory");
        assert!(sys::bpffs::is_bpffs(&dir).unwrap());
        PrivateBpffs { dir }
    }
}

impl Drop for PrivateBpffs {
    fn drop(&mut self) {
        sys::bpffs::unmount(&self.dir).ok();
        std::fs::remove_dir(&self.dir).ok();
    }
}

#[test]
fn pin_and_get_on_bpffs() {
    let _g = guard();
    let fs = PrivateBpffs::mount();
    let prog = load_xdp("blsys_pinned");
    let map = create_map(mt::BPF_MAP_TYPE_ARRAY, 4, 8, 1, "blsys_pinned_m");
    let prog_path = fs.dir.join("prog");
    let map_path = fs.dir.join("map");
    sys::obj_pin(prog.as_fd(), &prog_path).unwrap();
    sys::obj_pin(map.as_fd(), &map_path).unwrap();
    assert_eq!(errno_of(sys::obj_pin(map.as_fd(), &map_path)), libc::EEXIST);
    let prog_id = prog_info(prog.as_fd()).id;
    let map_id = map_info(map.as_fd()).id;
    drop((prog, map));

    // The pins keep the objects alive.
    let prog = sys::obj_get(&prog_path, 0).unwrap();
    assert_eq!(prog_info(prog.as_fd()).id, prog_id);
    assert_eq!(run_xdp(prog.as_fd(), 200), XDP_DROP);
    let ro = sys::obj_get(&map_path, uapi::BPF_F_RDONLY).unwrap();
    assert_eq!(map_info(ro.as_fd()).id, map_id);
    assert_eq!(errno_of(sys::map_update_elem(ro.as_fd(), &u32b(0), &u64b(1), 0)), libc::EPERM, "read-only fd");
    let ro_by_id = sys::map_get_fd_by_id(map_id, uapi::BPF_F_RDONLY).unwrap();
    assert_eq!(errno_of(sys::map_update_elem(ro_by_id.as_fd(), &u32b(0), &u64b(1), 0)), libc::EPERM);

    assert_eq!(errno_of(sys::obj_get(&fs.dir.join("missing"), 0)), libc::ENOENT);
    let outside = std::env::temp_dir().join("blsys-not-bpffs");
    assert_ne!(errno_of(sys::obj_pin(prog.as_fd(), &outside)), 0, "pinning outside bpffs fails");

    std::fs::remove_file(&prog_path).unwrap();
    std::fs::remove_file(&map_path).unwrap();
    drop((prog, ro, ro_by_id));
    assert_eq!(errno_of(sys::prog_get_fd_by_id(prog_id)), libc::ENOENT, "unpinned and closed: gone");
}

#[test]
fn default_bpffs_gets_mounted() {
    let _g = guard();
    sys::bpffs::ensure_default_mounted().expect("mounting /sys/fs/bpf");
    assert!(sys::bpffs::is_bpffs(Path::new(sys::bpffs::DEFAULT_BPFFS)).unwrap());
    assert!(!sys::bpffs::ensure_default_mounted().unwrap(), "second call finds it mounted");
}

/// Runs `f` on a thread in a fresh network namespace (only `lo`, ifindex 1), so device
/// attachments never touch the host's interfaces.
fn in_private_netns(f: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: unshare affects only this thread's namespaces.
            assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0, "unshare(CLONE_NEWNET)");
            f();
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
    });
}

const LO_IFINDEX: u32 = 1;

#[test]
fn xdp_link_create_update_detach() {
    let _g = guard();
    in_private_netns(|| {
        let a = load_xdp("blsys_link_a");
        let b = load(pt::BPF_PROG_TYPE_XDP, &ret_imm(XDP_PASS as i32), "blsys_link_b").unwrap();
        let xdp_link = |prog: BorrowedFd<'_>| {
            sys::link_create(&LinkCreateAttr {
                prog_fd: prog,
                target: Target::Ifindex(LO_IFINDEX),
                attach_type: at::BPF_XDP,
                flags: uapi::XDP_FLAGS_SKB_MODE,
                extra: LinkExtra::None,
            })
        };
        let link = xdp_link(a.as_fd()).expect("XDP link on lo");
        let info: uapi::bpf_link_info = sys::obj_get_info_by_fd(link.as_fd()).unwrap();
        assert_eq!(info.type_, uapi::bpf_link_type::BPF_LINK_TYPE_XDP);
        assert_eq!(info.prog_id, prog_info(a.as_fd()).id);
        // SAFETY: reading the XDP member of the info union of an XDP link.
        assert_eq!(unsafe { info.__bindgen_anon_1.xdp.ifindex }, LO_IFINDEX);
        assert!(sys::all_ids(ObjKind::Link).unwrap().contains(&info.id));
        let by_id = sys::link_get_fd_by_id(info.id).unwrap();

        assert_eq!(errno_of(xdp_link(b.as_fd())), libc::EBUSY, "one XDP link per device and mode");

        // Swap programs; a stale expected program is refused.
        assert_eq!(errno_of(sys::link_update(link.as_fd(), b.as_fd(), Some(b.as_fd()))), libc::EPERM);
        sys::link_update(link.as_fd(), b.as_fd(), Some(a.as_fd())).unwrap();
        let info: uapi::bpf_link_info = sys::obj_get_info_by_fd(link.as_fd()).unwrap();
        assert_eq!(info.prog_id, prog_info(b.as_fd()).id);

        sys::link_detach(link.as_fd()).unwrap();
        let again = xdp_link(a.as_fd()).expect("the device is free after detach");
        drop((link, by_id, again));
    });
}

#[test]
fn tcx_link_on_new_kernels() {
    let _g = guard();
    if !kernel_at_least(6, 6) {
        eprintln!("SKIPPED tcx links: kernel {} predates 6.6", sys::kernel_release());
        return;
    }
    in_private_netns(|| {
        let prog = load(pt::BPF_PROG_TYPE_SCHED_CLS, &ret_imm(0), "blsys_tcx").unwrap();
        let link = sys::link_create(&LinkCreateAttr {
            prog_fd: prog.as_fd(),
            target: Target::Ifindex(LO_IFINDEX),
            attach_type: uapi::newer::BPF_TCX_INGRESS,
            flags: 0,
            extra: LinkExtra::Mprog { relative_fd_or_id: 0, expected_revision: 0 },
        })
        .expect("tcx link");
        let info: uapi::bpf_link_info = sys::obj_get_info_by_fd(link.as_fd()).unwrap();
        assert_eq!(info.type_, uapi::newer::BPF_LINK_TYPE_TCX);
        // A wrong expected revision is refused (ESTALE).
        let second = load(pt::BPF_PROG_TYPE_SCHED_CLS, &ret_imm(0), "blsys_tcx2").unwrap();
        let e = sys::link_create(&LinkCreateAttr {
            prog_fd: second.as_fd(),
            target: Target::Ifindex(LO_IFINDEX),
            attach_type: uapi::newer::BPF_TCX_INGRESS,
            flags: 0,
            extra: LinkExtra::Mprog { relative_fd_or_id: 0, expected_revision: 1000 },
        })
        .unwrap_err();
        assert_eq!(e.errno(), libc::ESTALE, "{e}");
    });
}

#[test]
fn raw_tracepoint_open_and_stats() {
    let _g = guard();
    let prog = load(pt::BPF_PROG_TYPE_RAW_TRACEPOINT, &ret_imm(0), "blsys_rawtp").unwrap();
    let link = sys::raw_tracepoint_open(Some(c"sys_enter"), prog.as_fd()).expect("raw tracepoint");
    let info: uapi::bpf_link_info = sys::obj_get_info_by_fd(link.as_fd()).unwrap();
    assert_eq!(info.type_, uapi::bpf_link_type::BPF_LINK_TYPE_RAW_TRACEPOINT);
    let e = sys::raw_tracepoint_open(Some(c"no_such_tracepoint"), prog.as_fd()).unwrap_err();
    assert_eq!(e.errno(), libc::ENOENT);
    drop(link);

    // With run-time statistics on, test runs are counted.
    let stats = sys::enable_stats(uapi::bpf_stats_type::BPF_STATS_RUN_TIME).expect("BPF_ENABLE_STATS");
    let xdp = load_xdp("blsys_stats");
    let packet = [0u8; 64];
    sys::prog_test_run(xdp.as_fd(), TestRun { data_in: &packet, repeat: 10, ..Default::default() }).unwrap();
    let info = prog_info(xdp.as_fd());
    assert!(info.run_cnt >= 10, "run_cnt {}", info.run_cnt);
    drop(stats);
}

#[test]
fn legacy_attach_to_a_sockmap_and_bind_map() {
    let _g = guard();
    let sockmap = create_map(mt::BPF_MAP_TYPE_SOCKMAP, 4, 4, 2, "blsys_sockmap");
    let verdict = load(pt::BPF_PROG_TYPE_SK_SKB, &ret_imm(uapi::sk_action::SK_PASS as i32), "blsys_verdict").unwrap();
    let attach = ProgAttachAttr {
        prog_fd: verdict.as_fd(),
        target: Target::Fd(sockmap.as_fd()),
        attach_type: at::BPF_SK_SKB_STREAM_VERDICT,
        flags: 0,
        replace_prog_fd: None,
        relative_fd_or_id: 0,
        expected_revision: 0,
    };
    sys::prog_attach(&attach).unwrap();
    let other = load(pt::BPF_PROG_TYPE_SK_SKB, &ret_imm(uapi::sk_action::SK_DROP as i32), "blsys_verdict2").unwrap();
    let e = sys::prog_detach(Some(other.as_fd()), Target::Fd(sockmap.as_fd()), at::BPF_SK_SKB_STREAM_VERDICT).unwrap_err();
    assert_eq!(e.errno(), libc::ENOENT, "detaching a program that is not attached");
    sys::prog_detach(Some(verdict.as_fd()), Target::Fd(sockmap.as_fd()), at::BPF_SK_SKB_STREAM_VERDICT).unwrap();
    let e = sys::prog_detach(Some(verdict.as_fd()), Target::Fd(sockmap.as_fd()), at::BPF_SK_SKB_STREAM_VERDICT).unwrap_err();
    assert_eq!(e.errno(), libc::ENOENT, "already detached");

    // prog_bind_map makes the program hold the map.
    let xdp = load_xdp("blsys_bind");
    let extra = create_map(mt::BPF_MAP_TYPE_ARRAY, 4, 4, 1, "blsys_bound");
    assert!(sys::prog_map_ids(xdp.as_fd()).unwrap().is_empty());
    sys::prog_bind_map(xdp.as_fd(), extra.as_fd()).unwrap();
    assert_eq!(sys::prog_map_ids(xdp.as_fd()).unwrap(), [map_info(extra.as_fd()).id]);
}

/// Sanity check of the helper the guest runner relies on.
#[test]
fn feature_policy_reads_the_environment() {
    let _g = guard();
    let required = std::env::var(sys::REQUIRE_FEATURES_ENV).is_ok_and(|v| v == "1");
    assert_eq!(sys::feature_required(), required);
    let e = SysError::new("BPF_PROG_LOAD", libc::EPERM);
    assert_eq!(refused_and_skipped("nothing (skip-policy self-test)", &e), !required);
    assert!(!refused_and_skipped("nothing (skip-policy self-test)", &SysError::new("BPF_PROG_LOAD", libc::EINVAL)));
}
