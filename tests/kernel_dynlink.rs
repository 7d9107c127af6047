//! Dynamic linking (issue 5), standard C style, with no API call beyond open + load:
//! 1. loading an object whose strong global function matches a weak placeholder of an object
//!    this process already loaded replaces the placeholder (freplace);
//! 2. loading an object that calls an `extern` function a loaded object exports runs the
//!    provider's code, sharing its maps (stub + EXT, or imported code in extensions);
//! 3. chains of libraries.
//!
//! dyn_rootlet.bpf.c: two XDP programs whose verdict comes from
//! `__weak int dyn_placeholder(struct xdp_md *)` (XDP_PASS on a full frame);
//! dyn_firewall.bpf.c: plain C, a strong `dyn_placeholder` returning XDP_DROP, no SEC().
//! `BPF_PROG_TEST_RUN` on the rootlet's programs shows which code runs; kernel prog/link id
//! lists show what exists. Everything that loads an EXT prints a loud SKIPPED line where the
//! kernel refuses EXT (the host), unless `BPFLINK_REQUIRE_KERNEL_FEATURES=1` (the guest runs).
mod common;

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Mutex;

use bpflink::linker::dynamic::{self, EdgeKind, Mechanism};
use bpflink::loader::{LoadError, Object};
use bpflink::sys::{self, uapi, ObjKind, TestRun};
use common::dynlink::*;

const ROOTLET_PROGRAMS: [&str; 2] = ["dyn_rootlet", "dyn_rootlet2"];

fn load_rootlet() -> Object {
    load_plain("dyn_rootlet", "dyn_rootlet")
}

/// The verdicts of the rootlet's programs on a full frame.
fn verdicts(rootlet: &Object) -> Vec<u32> {
    ROOTLET_PROGRAMS.iter().map(|p| verdict(rootlet, p, 0)).collect()
}

fn load_provider(file: &str, name: &str, test: &str) -> Option<Object> {
    load_dependent(file, name, test)
}

#[test]
fn loading_a_strong_definition_replaces_the_placeholder_in_every_program_until_dropped() {
    let _g = serial();
    let rootlet = load_rootlet();
    assert_eq!(verdicts(&rootlet), [XDP_PASS, XDP_PASS]);
    let Some(firewall) = load_provider("dyn_firewall", "dyn_firewall", "replace placeholder") else { return };
    assert_eq!(verdicts(&rootlet), [XDP_DROP, XDP_DROP], "both programs run the firewall's definition");

    let edges = firewall.dynamic_edges();
    assert!(edges.iter().all(|e| e.edge.kind == EdgeKind::Replace && e.edge.mechanism == Mechanism::Freplace));
    let mut targets: Vec<u32> = edges.iter().map(|e| e.edge.target_prog_id).collect();
    targets.sort_unstable();
    let mut expected: Vec<u32> = ROOTLET_PROGRAMS.iter().map(|p| prog_id(prog_fd(&rootlet, p))).collect();
    expected.sort_unstable();
    assert_eq!(targets, expected, "one edge per rootlet program");
    let ext_id = prog_id(prog_fd(&firewall, "dyn_placeholder"));
    let link_ids: Vec<u32> = edges.iter().map(|e| e.edge.link_id).collect();
    for e in edges {
        assert_eq!(e.edge.ext_prog_id, ext_id, "one EXT program, loaded once, linked into every target");
        assert_eq!((e.edge.function.as_str(), e.edge.to.as_str(), e.edge.from.as_str()), ("dyn_placeholder", "dyn_rootlet", "dyn_firewall"));
        let info = sys::obj_get_info_by_fd::<uapi::bpf_link_info>(link_fd(e)).expect("link info");
        assert_eq!((info.id, info.prog_id), (e.edge.link_id, ext_id), "the kernel's view of the link");
    }
    let ext_info = sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(prog_fd(&firewall, "dyn_placeholder")).unwrap();
    assert_eq!(ext_info.type_, uapi::bpf_prog_type::BPF_PROG_TYPE_EXT);
    let listed = dynamic::snapshot().edges;
    assert_eq!(listed.iter().filter(|e| e.ext_prog_id == ext_id).count(), 2, "the registry lists both edges");

    drop(firewall);
    assert_eq!(verdicts(&rootlet), [XDP_PASS, XDP_PASS], "dropping the provider restores the placeholder");
    assert!(gone(ObjKind::Prog, ext_id), "EXT prog id {ext_id} still exists after the drop");
    for id in link_ids {
        assert!(gone(ObjKind::Link, id), "link id {id} still exists after the drop");
    }
    assert!(dynamic::snapshot().edges.iter().all(|e| e.ext_prog_id != ext_id));
}

/// The extension keeps its target alive; the target does not keep the extension: dropping
/// the rootlet first leaves the firewall working (its links hold the rootlet's programs).
#[test]
fn dropping_the_target_first_leaves_the_extension_holding_it() {
    let _g = serial();
    let rootlet = load_rootlet();
    let ids: Vec<u32> = ROOTLET_PROGRAMS.iter().map(|p| prog_id(prog_fd(&rootlet, p))).collect();
    let Some(firewall) = load_provider("dyn_firewall", "dyn_firewall", "target dropped first") else { return };
    drop(rootlet);
    let live = sys::all_ids(ObjKind::Prog).unwrap();
    assert!(ids.iter().all(|id| live.contains(id)), "the links keep the rootlet programs {ids:?} alive");
    let fd = sys::prog_get_fd_by_id(ids[0]).unwrap();
    let mut frame = vec![0u8; 64];
    frame[12] = 0x08;
    let run = sys::prog_test_run(fd.as_fd(), TestRun { data_in: &frame, repeat: 1, ..Default::default() }).unwrap();
    assert_eq!(run.retval, XDP_DROP, "the detached-from-everything rootlet still runs the extension");
    drop(fd);
    drop(firewall);
    for id in ids {
        assert!(gone(ObjKind::Prog, id), "rootlet prog id {id} outlived both objects");
    }
}

/// Prototype mismatches are caught in user space, before the kernel sees the extension, so
/// this runs on any kernel.
#[test]
fn a_mismatched_prototype_fails_naming_both_prototypes() {
    let _g = serial();
    let rootlet = load_rootlet();
    let mut bad = open_named("dyn_firewall_badproto", "dyn_firewall_badproto");
    let err = bad.load().expect_err("a two-argument definition can't replace a one-argument placeholder");
    let msg = err.to_string();
    assert!(matches!(err, LoadError::Prototype { .. }), "{msg}");
    assert!(msg.contains("int dyn_placeholder(struct xdp_md *ctx)"), "target prototype missing: {msg}");
    assert!(msg.contains("int verdict"), "extension prototype missing: {msg}");
    assert!(msg.contains("2 argument(s), the target 1"), "{msg}");
    assert_eq!(err.errno(), libc::EINVAL);
    assert_eq!(verdicts(&rootlet), [XDP_PASS, XDP_PASS]);
}

/// With no placeholder loaded anywhere, an object whose only function is a strong definition
/// is a library: it loads (its function is not a program of its own; it is loaded when an
/// object calls it), replaces nothing, and is offered to later callers. Closing it leaves
/// nothing in the kernel.
#[test]
fn a_definition_without_a_placeholder_loads_as_a_library() {
    let _g = serial();
    let before = sys::all_ids(ObjKind::Prog).unwrap();
    let mut firewall = open_named("dyn_firewall", "dyn_firewall");
    firewall.load().unwrap_or_else(|e| panic!("a library loads: {e}"));
    assert!(firewall.dynamic_edges().is_empty(), "nothing to replace");
    let prog = firewall.find_program("dyn_placeholder").expect("libbpf's view: the lone function is a program");
    assert!(prog.fd().is_none() && !prog.autoload(), "a library function is not loaded on its own");
    let listed = dynamic::snapshot();
    let me = listed.objects.iter().find(|o| o.name == "dyn_firewall").expect("registered");
    assert_eq!(me.exports, ["dyn_placeholder"]);
    assert!(me.image.is_some(), "offered to callers");
    drop(firewall);
    assert!(dynamic::snapshot().objects.iter().all(|o| o.name != "dyn_firewall"));
    let after = sys::all_ids(ObjKind::Prog).unwrap();
    assert!(after.iter().all(|id| before.contains(id)), "programs left behind: {before:?} -> {after:?}");
}

/// One extension per function: a second provider fails with EBUSY, naming the first.
#[test]
fn a_second_replacement_fails_with_ebusy_naming_the_current_owner() {
    let _g = serial();
    let rootlet = load_rootlet();
    let Some(first) = load_provider("dyn_firewall", "first_fw", "EBUSY") else { return };
    let mut second = open_named("dyn_firewall", "second_fw");
    let err = second.load().expect_err("the placeholder is already replaced");
    let msg = err.to_string();
    assert_eq!(err.errno(), libc::EBUSY, "{msg}");
    assert!(msg.contains("already replaced by 'first_fw'"), "owner not named: {msg}");
    assert!(second.dynamic_edges().is_empty(), "the failed load keeps no link");
    assert_eq!(verdicts(&rootlet), [XDP_DROP, XDP_DROP], "the first replacement stays");
    drop(first);
    assert_eq!(verdicts(&rootlet), [XDP_PASS, XDP_PASS]);
}

// ------------------------------------------------------------------------- the C ABI

mod capi {
    pub use bpflink::capi::object::*;
    pub use bpflink::capi::program::*;
}

/// The same through libbpf's C functions: bpf_object__open_file + bpf_object__load replace
/// the placeholder; bpf_object__close restores it.
#[test]
fn c_abi_open_load_close_replaces_and_restores() {
    let _g = serial();
    let rootlet = load_rootlet();
    let path = CString::new(common::compile_bpf("dyn_firewall").to_str().unwrap()).unwrap();
    // SAFETY: valid C strings and handles from this library throughout.
    unsafe {
        let obj = capi::bpf_object__open_file(path.as_ptr(), std::ptr::null());
        assert!(!obj.is_null());
        let err = capi::bpf_object__load(obj);
        if err != 0 {
            assert!(!sys::feature_required(), "bpf_object__load of the firewall failed: {err}");
            skipped(&format!("C ABI dynamic link: this kernel ({}) refuses BPF_PROG_TYPE_EXT ({err})", sys::kernel_release()));
            capi::bpf_object__close(obj);
            return;
        }
        let prog = capi::bpf_object__find_program_by_name(obj, c"dyn_placeholder".as_ptr());
        assert!(!prog.is_null());
        let fd = capi::bpf_program__fd(prog);
        assert!(fd > 0);
        let ext_id = prog_id(BorrowedFd::borrow_raw(fd));
        assert_eq!(verdicts(&rootlet), [XDP_DROP, XDP_DROP]);
        capi::bpf_object__close(obj);
        assert_eq!(verdicts(&rootlet), [XDP_PASS, XDP_PASS]);
        assert!(gone(ObjKind::Prog, ext_id), "EXT prog id {ext_id} outlived bpf_object__close");
    }
}

// ------------------------------------------------------------------------- dead placeholders

static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn collect(_: bpflink::log::Level, line: &str) {
    LOGGED.lock().unwrap_or_else(|e| e.into_inner()).push(line.to_string());
}

/// Since 6.8 the verifier drops a global function no path reaches (here: a call gated on a
/// frozen zero constant); the loader warns that the placeholder can't be replaced, and a
/// definition loaded afterwards finds nothing to replace. Older kernels keep the function.
#[test]
fn an_unreachable_placeholder_is_reported_and_not_offered() {
    let _g = serial();
    LOGGED.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let previous = bpflink::log::set_sink(Some(collect));
    let mut gated = open_named("dyn_rootlet_gated", "dyn_rootlet_gated");
    let loaded = gated.load();
    bpflink::log::set_sink(previous);
    loaded.unwrap_or_else(|e| panic!("load dyn_rootlet_gated: {e}\n{}", e.kernel_log()));
    let warned = LOGGED.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|l| {
        l.contains("placeholder 'dyn_placeholder' is unreachable in program 'dyn_gated'")
    });
    let drops_dead_globals = sys::kernel_version().is_some_and(|v| v >= (6, 8));
    assert_eq!(warned, drops_dead_globals, "kernel {}: warning expected iff 6.8+", sys::kernel_release());
    if drops_dead_globals {
        let mut firewall = open_named("dyn_firewall", "dyn_firewall");
        firewall.load().unwrap_or_else(|e| panic!("loads as a library: {e}"));
        assert!(firewall.dynamic_edges().is_empty(), "a dropped placeholder is not a candidate");
    } else if let Some(firewall) = load_provider("dyn_firewall", "dyn_firewall", "reachable gated placeholder") {
        assert_eq!(firewall.dynamic_edges().len(), 1, "the kernel kept the placeholder: it is replaced");
    }
}
