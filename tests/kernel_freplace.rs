//! libbpf's explicit freplace API against the running kernel: `SEC("freplace/...")` programs,
//! `set_attach_target`, `attach_freplace` and BPF links. The target is an XDP program whose
//! verdict comes from a global placeholder (freplace_target.bpf.c: XDP_PASS for a full frame);
//! the extension (freplace_ext.bpf.c) returns XDP_DROP. `BPF_PROG_TEST_RUN` on the target shows
//! which code runs. Prototype mismatches are caught in user space (they run on any kernel);
//! everything that loads an EXT prints a loud SKIPPED line where the kernel refuses EXT (the
//! host), unless `BPFLINK_REQUIRE_KERNEL_FEATURES=1` (the guest runs) makes it a failure.
mod common;

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Mutex;

use bpflink::loader::{FreplaceTarget, Link, LoadError, Object, OpenOptions};
use bpflink::sys::{self, uapi, TestRun};

const XDP_DROP: u32 = uapi::xdp_action::XDP_DROP;
const XDP_PASS: u32 = uapi::xdp_action::XDP_PASS;

/// Tests count open fds; run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn open(name: &str) -> Object {
    Object::open_file(&common::compile_bpf(name), &OpenOptions::default()).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

fn load_target() -> Object {
    let mut obj = open("freplace_target");
    obj.load().unwrap_or_else(|e| panic!("load freplace_target: {e}\n{}", e.kernel_log()));
    obj
}

fn target_fd(target: &Object) -> std::os::fd::BorrowedFd<'_> {
    target.find_program("xdp_target").and_then(|p| p.fd()).expect("xdp_target loaded")
}

/// The target's verdict on a 64-byte frame.
fn verdict(target: &Object) -> u32 {
    let mut frame = vec![0u8; 64];
    frame[12] = 0x08;
    let mut out = vec![0u8; 512];
    sys::prog_test_run(target_fd(target), TestRun { data_in: &frame, data_out: Some(&mut out), repeat: 1, ..Default::default() })
        .expect("test run of the target")
        .retval
}

/// Reports a skipped test on stderr directly, so the line shows even when the harness
/// captures output of passing tests.
fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what} (set {}=1 to fail instead)", sys::REQUIRE_FEATURES_ENV);
}

/// Opens extension `name`, aims `program` at the target (function from the section name when
/// `func` is None) and loads it. None (after a SKIPPED line) when the kernel refuses EXT and
/// kernel features are not required.
fn load_ext(target: &Object, name: &str, program: &str, func: Option<&str>, test: &str) -> Option<Object> {
    let mut ext = open(name);
    ext.find_program_mut(program)
        .unwrap_or_else(|| panic!("{name} has no program {program}"))
        .set_attach_target(Some(target_fd(target)), func)
        .unwrap_or_else(|e| panic!("set_attach_target: {e}"));
    match ext.load() {
        Ok(()) => Some(ext),
        Err(e @ LoadError::ProgLoad { .. }) if !sys::feature_required() => {
            skipped(&format!("{test}: this kernel ({}) refuses to load BPF_PROG_TYPE_EXT: {e}", sys::kernel_release()));
            None
        }
        Err(e) => panic!("load {name}: {e}\n{}", e.kernel_log()),
    }
}

fn placeholder_of(target: &Object) -> FreplaceTarget<'_> {
    FreplaceTarget { prog_fd: target_fd(target), func_name: "placeholder" }
}

fn prog_id(fd: std::os::fd::BorrowedFd<'_>) -> u32 {
    sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(fd).expect("prog info").id
}

#[test]
fn freplace_replaces_the_placeholder_until_the_link_is_destroyed() {
    let _g = serial();
    let before = open_fds();
    {
        let target = load_target();
        assert_eq!(verdict(&target), XDP_PASS, "the placeholder's own verdict");
        let Some(ext) = load_ext(&target, "freplace_ext", "drop_all", Some("placeholder"), "freplace") else { return };
        let prog = ext.find_program("drop_all").unwrap();
        assert_eq!(prog.prog_type().0, uapi::bpf_prog_type::BPF_PROG_TYPE_EXT);
        assert_ne!(prog.attach_btf_id(), 0);
        assert_eq!(verdict(&target), XDP_PASS, "loading an extension doesn't attach it");

        // Without a target, the extension attaches where it was loaded (BPF_RAW_TRACEPOINT_OPEN).
        let link = ext.attach_freplace("drop_all", None).expect("attach_freplace to the load-time target");
        assert_eq!(verdict(&target), XDP_DROP, "the target runs the extension");
        drop(link);
        assert_eq!(verdict(&target), XDP_PASS, "dropping the link restores the placeholder");
        // The kernel forgets the load-time target after its first attachment.
        let err = ext.attach_freplace("drop_all", None).expect_err("load-time target used twice");
        assert_eq!(err.errno(), libc::EINVAL);
        assert!(err.to_string().contains("explicitly"), "{err}");

        let mut link = ext.attach_freplace("drop_all", Some(placeholder_of(&target))).expect("attach_freplace");
        assert_eq!(verdict(&target), XDP_DROP, "the target runs the extension");
        let info = sys::obj_get_info_by_fd::<uapi::bpf_link_info>(link.fd().unwrap()).expect("link info");
        assert_eq!(info.type_, uapi::bpf_link_type::BPF_LINK_TYPE_TRACING);
        assert_eq!(info.prog_id, prog_id(prog.fd().unwrap()), "the link runs the extension");
        link.destroy().expect("destroy");
        assert!(link.fd().is_none());
        assert_eq!(verdict(&target), XDP_PASS, "destroying the link restores the placeholder");
        // Attachments by LINK_CREATE can be repeated.
        let link = ext.attach_freplace("drop_all", Some(placeholder_of(&target))).expect("attach_freplace again");
        assert_eq!(verdict(&target), XDP_DROP);
        drop(link);
        assert_eq!(verdict(&target), XDP_PASS);
    }
    assert_eq!(open_fds(), before, "fds leaked");
}

#[test]
fn the_function_name_may_come_from_the_section() {
    let _g = serial();
    let before = open_fds();
    {
        let target = load_target();
        let Some(ext) = load_ext(&target, "freplace_ext", "drop_all", None, "freplace by section name") else { return };
        let link = ext.attach_freplace("drop_all", Some(placeholder_of(&target))).expect("attach_freplace");
        assert_eq!(verdict(&target), XDP_DROP);
        drop(link);
        assert_eq!(verdict(&target), XDP_PASS);
    }
    assert_eq!(open_fds(), before, "fds leaked");
}

/// Load an extension whose prototype doesn't fit: refused with both prototypes before any
/// program of the extension reaches the kernel (its verifier log stays empty).
fn assert_prototype_refused(name: &str, program: &str, expect_reason: &str, expect_ext_proto: &str) {
    let before = open_fds();
    {
        let target = load_target();
        let progs_before = sys::all_ids(sys::ObjKind::Prog).expect("prog ids");
        let mut ext = open(name);
        ext.find_program_mut(program).unwrap().set_attach_target(Some(target_fd(&target)), None).unwrap();
        let err = ext.load().expect_err("a mismatched prototype must be refused");
        let LoadError::Prototype { program: p, extension, target: t, reason } = &err else { panic!("{name}: unexpected error {err}") };
        assert_eq!(p, program);
        assert!(extension.contains(expect_ext_proto), "{name}: extension prototype '{extension}'");
        assert!(t.contains("placeholder(struct xdp_md *ctx)"), "{name}: target prototype '{t}'");
        assert!(reason.contains(expect_reason), "{name}: reason '{reason}'");
        assert_eq!(err.errno(), libc::EINVAL);
        let message = err.to_string();
        assert!(message.contains(extension) && message.contains(t), "{message}");
        let log = ext.find_program(program).unwrap().kernel_log();
        assert!(log.iter().all(|&b| b == 0), "{name}: the kernel saw the program: {}", String::from_utf8_lossy(log));
        let progs_after = sys::all_ids(sys::ObjKind::Prog).expect("prog ids");
        assert_eq!(progs_after, progs_before, "{name}: no program may be left loaded");
        assert_eq!(verdict(&target), XDP_PASS);
    }
    assert_eq!(open_fds(), before, "{name}: fds leaked");
}

#[test]
fn argument_count_mismatch_is_refused_in_user_space() {
    let _g = serial();
    assert_prototype_refused("freplace_badargs", "two_args", "takes 2 argument(s), the target 1", "two_args(struct xdp_md *ctx, int extra)");
}

#[test]
fn struct_size_mismatch_is_refused_in_user_space() {
    let _g = serial();
    assert_prototype_refused("freplace_badsize", "small_ctx", "of 8 bytes in the extension but of", "small_ctx(struct xdp_md *ctx)");
}

#[test]
fn a_second_replacement_of_one_function_is_ebusy_explained() {
    let _g = serial();
    let before = open_fds();
    {
        let target = load_target();
        let Some(first) = load_ext(&target, "freplace_ext", "drop_all", Some("placeholder"), "freplace EBUSY") else { return };
        let second = load_ext(&target, "freplace_ext", "drop_all", Some("placeholder"), "freplace EBUSY").expect("EXT loaded once already");
        let mut link = first.attach_freplace("drop_all", Some(placeholder_of(&target))).expect("first attach");
        let err = second.attach_freplace("drop_all", Some(placeholder_of(&target))).expect_err("two replacements of one function");
        assert_eq!(err.errno(), libc::EBUSY, "{err}");
        let message = err.to_string();
        assert!(message.contains("already replaced by another extension") && message.contains("'placeholder'"), "{message}");
        assert_eq!(verdict(&target), XDP_DROP, "the first replacement stays");
        link.destroy().unwrap();
        let link2 = second.attach_freplace("drop_all", Some(placeholder_of(&target))).expect("attach once the first link is gone");
        assert_eq!(verdict(&target), XDP_DROP);
        drop(link2);
        assert_eq!(verdict(&target), XDP_PASS);
    }
    assert_eq!(open_fds(), before, "fds leaked");
}

struct Bpffs(PathBuf);

impl Bpffs {
    fn new(tag: &str) -> Bpffs {
        let dir = std::env::temp_dir().join(format!("bpflink-freplace-{tag}-{}", std::process::id()));
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

#[test]
fn links_pin_open_update_detach_like_libbpf() {
    let _g = serial();
    let before = open_fds();
    {
        let target = load_target();
        let Some(ext) = load_ext(&target, "freplace_ext", "drop_all", Some("placeholder"), "freplace link ops") else { return };
        let fs = Bpffs::new("link");
        let path = fs.0.join("sub").join("link");
        let mut link = ext.attach_freplace("drop_all", Some(placeholder_of(&target))).unwrap();
        link.pin(&path).expect("pin");
        assert_eq!(link.pin_path(), Some(path.as_path()));
        let again = link.pin(&path).expect_err("pinned twice");
        assert_eq!(again.errno(), libc::EBUSY);
        let link_id = sys::obj_get_info_by_fd::<uapi::bpf_link_info>(link.fd().unwrap()).unwrap().id;
        link.destroy().unwrap();
        assert_eq!(verdict(&target), XDP_DROP, "the pin keeps the attachment");

        let mut opened = Link::open(&path).expect("open the pinned link");
        assert_eq!(opened.pin_path(), Some(path.as_path()));
        assert_eq!(sys::obj_get_info_by_fd::<uapi::bpf_link_info>(opened.fd().unwrap()).unwrap().id, link_id);
        let err = opened.update_program(target_fd(&target)).expect_err("freplace links can't swap programs");
        assert!(matches!(err, LoadError::LinkOp { .. }), "{err}");
        assert!(err.errno() > 0 && err.errno() != libc::EBADF, "the kernel's errno: {err}");
        assert_eq!(verdict(&target), XDP_DROP, "a refused update changes nothing");
        opened.unpin().expect("unpin");
        assert!(!path.exists());
        assert_eq!(opened.unpin().expect_err("unpin twice").errno(), libc::EINVAL);

        match opened.detach() {
            Ok(()) => assert_eq!(verdict(&target), XDP_PASS, "detach ends the attachment"),
            // Tracing (freplace) links have no detach operation in 6.1 and 6.12: EOPNOTSUPP.
            Err(e) if e.errno() == libc::EOPNOTSUPP => {
                println!("note: this kernel can't detach freplace links ({e})");
                assert_eq!(verdict(&target), XDP_DROP);
            }
            Err(e) => panic!("detach: {e}"),
        }
        opened.destroy().unwrap();
        assert_eq!(verdict(&target), XDP_PASS, "closing the last reference detaches");
        let _ = std::fs::remove_dir(fs.0.join("sub"));
    }
    assert_eq!(open_fds(), before, "fds leaked");
}

#[test]
fn bad_attach_requests_are_refused_like_libbpf() {
    let _g = serial();
    let before = open_fds();
    {
        let target = load_target();
        let err = target.attach_freplace("xdp_target", Some(placeholder_of(&target))).expect_err("XDP is not EXT");
        assert_eq!(err.errno(), libc::EINVAL);
        assert!(err.to_string().contains("only BPF_PROG_TYPE_EXT"), "{err}");

        let mut ext = open("freplace_ext");
        let prog = ext.find_program_mut("drop_all").unwrap();
        let err = prog.set_attach_target(Some(target_fd(&target)), Some("no_such_function")).expect_err("unknown function");
        assert_eq!(err.errno(), libc::ENOENT, "libbpf's errno: {err}");
        assert!(err.to_string().contains("no_such_function"), "{err}");
        let err = ext.attach_freplace("drop_all", Some(placeholder_of(&target))).expect_err("not loaded");
        assert!(err.to_string().contains("before loaded"), "{err}");

        // No target at all: refused by load, naming the call to make.
        let mut ext = open("freplace_ext");
        let err = ext.load().expect_err("EXT without a target program");
        assert!(err.to_string().contains("set_attach_target"), "{err}");
    }
    assert_eq!(open_fds(), before, "fds leaked");
}

// ------------------------------------------------------------------------- the C ABI

mod capi {
    pub use bpflink::capi::link::*;
    pub use bpflink::capi::object::*;
    pub use bpflink::capi::program::*;
}

/// The same flow through the libbpf C functions: set_attach_target, attach_freplace,
/// bpf_link__fd/pin/pin_path/unpin/destroy, update_program's error, argument checks.
#[test]
fn c_abi_freplace_flow() {
    let _g = serial();
    let before = open_fds();
    {
        let target = load_target();
        let path = CString::new(common::compile_bpf("freplace_ext").to_str().unwrap()).unwrap();
        // SAFETY: valid C strings and handles from this library throughout.
        unsafe {
            let obj = capi::bpf_object__open_file(path.as_ptr(), std::ptr::null());
            assert!(!obj.is_null());
            let prog = capi::bpf_object__find_program_by_name(obj, c"drop_all".as_ptr());
            assert!(!prog.is_null());
            let tfd = target_fd(&target).as_raw_fd();
            assert_eq!(capi::bpf_program__set_attach_target(prog, -1, std::ptr::null()), -libc::EINVAL);
            assert_eq!(capi::bpf_program__set_attach_target(prog, tfd, c"nope".as_ptr()), -libc::ENOENT);
            assert_eq!(capi::bpf_program__set_attach_target(prog, tfd, c"placeholder".as_ptr()), 0);
            let err = capi::bpf_object__load(obj);
            if err != 0 {
                assert!(!sys::feature_required(), "bpf_object__load of the EXT failed: {err}");
                skipped(&format!("C ABI freplace: this kernel ({}) refuses BPF_PROG_TYPE_EXT ({err})", sys::kernel_release()));
                capi::bpf_object__close(obj);
                return;
            }
            assert!(capi::bpf_program__attach_freplace(prog, tfd, std::ptr::null()).is_null(), "fd without name");
            let link = capi::bpf_program__attach_freplace(prog, tfd, c"placeholder".as_ptr());
            assert!(!link.is_null());
            assert!(capi::bpf_link__fd(link) > 0);
            assert_eq!(verdict(&target), XDP_DROP);
            assert!(capi::bpf_link__pin_path(link).is_null());
            assert_eq!(capi::bpf_link__unpin(link), -libc::EINVAL);
            let fs = Bpffs::new("capi");
            let pin = CString::new(fs.0.join("l").to_str().unwrap()).unwrap();
            assert_eq!(capi::bpf_link__pin(link, pin.as_ptr()), 0);
            assert_eq!(std::ffi::CStr::from_ptr(capi::bpf_link__pin_path(link)), pin.as_c_str());
            assert_eq!(capi::bpf_link__pin(link, pin.as_ptr()), -libc::EBUSY);
            let opened = capi::bpf_link__open(pin.as_ptr());
            assert!(!opened.is_null());
            assert!(capi::bpf_link__update_program(opened, prog) < 0, "freplace links can't be updated");
            assert_eq!(capi::bpf_link__destroy(opened), 0);
            assert_eq!(capi::bpf_link__unpin(link), 0);
            assert_eq!(verdict(&target), XDP_DROP);
            assert_eq!(capi::bpf_link__destroy(link), 0);
            assert_eq!(verdict(&target), XDP_PASS);
            // A destroyed handle is refused, not dereferenced.
            assert_eq!(capi::bpf_link__fd(link), -libc::EINVAL);
            assert_eq!(capi::bpf_link__destroy(link), -libc::EINVAL);
            capi::bpf_object__close(obj);
        }
    }
    assert_eq!(open_fds(), before, "fds leaked");
}

// ------------------------------------------------------------------------- against libbpf

/// The newest static library cargo built next to this test binary (the one this test links).
fn bpflink_static_lib() -> Option<PathBuf> {
    let deps = std::env::current_exe().ok()?.parent()?.to_path_buf();
    std::fs::read_dir(deps)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libbpflink-") && n.ends_with(".a")))
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}

/// Builds capi-tests/test_freplace.c against the system libbpf (`ours == false`) or bpflink.
fn build_transcript_tool(ours: bool, out: &std::path::Path) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cc = std::process::Command::new("cc");
    cc.args(["-std=gnu11", "-O1", "-o"]).arg(out);
    if ours {
        let lib = bpflink_static_lib().expect("libbpflink-*.a next to the test binary");
        cc.arg("-I").arg(root.join("include")).arg(root.join("capi-tests/test_freplace.c")).arg(lib);
        cc.args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl"]);
    } else {
        cc.arg(root.join("capi-tests/test_freplace.c")).arg("-lbpf");
    }
    let result = cc.output().expect("running cc");
    assert!(result.status.success(), "building test_freplace ({}): {}", if ours { "bpflink" } else { "libbpf" }, String::from_utf8_lossy(&result.stderr));
}

/// The same C program, built against the system libbpf and against bpflink, must print the
/// same transcript (return values, errnos, verdicts, fd leaks).
#[test]
fn c_transcript_matches_system_libbpf() {
    let _g = serial();
    let dir = std::env::temp_dir().join(format!("bpflink-freplace-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fs = Bpffs::new("transcript");
    let (reference, ours) = (dir.join("test_freplace.libbpf"), dir.join("test_freplace.bpflink"));
    build_transcript_tool(false, &reference);
    build_transcript_tool(true, &ours);
    let run = |tool: &std::path::Path| {
        let out = std::process::Command::new(tool)
            .arg(common::compile_bpf("freplace_target"))
            .arg(common::compile_bpf("freplace_ext"))
            .arg(&fs.0)
            .output()
            .expect("running test_freplace");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ref_ok, want, ref_err) = run(&reference);
    if !want.contains("load ext = ok") && !sys::feature_required() {
        skipped(&format!("C transcript: this kernel ({}) refuses BPF_PROG_TYPE_EXT for libbpf too", sys::kernel_release()));
        return;
    }
    assert!(ref_ok, "system libbpf run failed: {ref_err}\n{want}");
    let (ok, got, err) = run(&ours);
    assert!(ok, "bpflink run failed: {err}\n{got}");
    println!("transcript (libbpf and bpflink):\n{want}");
    assert_eq!(got, want, "bpflink's transcript differs from libbpf's");
    assert!(want.contains("second freplace of placeholder = NULL (errno 16)"), "{want}");
    assert!(want.contains("fds leaked 0"), "{want}");
    let _ = std::fs::remove_dir_all(&dir);
}
