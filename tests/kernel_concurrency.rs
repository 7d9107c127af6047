//! Concurrency: 8 threads for `BPFLINK_STRESS_SECONDS` (default 60) open objects (from files
//! and memory), load and run them, link objects statically and load the result, and
//! dynamically link against one shared, loaded rootlet (loading an object whose strong
//! definition replaces the rootlet's `__weak` placeholder, then closing it). The kernel allows
//! one replacement per placeholder at a time, so a thread may find it taken: that must be
//! `EBUSY` naming the current owner, never anything else. They also load callers of one shared,
//! loaded library (`extern int classify()`: the library's function is loaded once as an EXT
//! and linked into every caller's stub, so threads race on that shared EXT), run them and close
//! them. Afterwards no thread saw an error, the library's map counted every call, the fd count
//! is back where it was, every kernel object the threads created is freed (the shared EXT
//! too), and the dynamic-link registry holds only the rootlet and the library (nothing once they
//! are dropped too).
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bpflink::linker::{self, dynamic};
use bpflink::loader::{LoadError, Object, OpenOptions};
use bpflink::sys::{self, fault, uapi, ObjKind};
use common::kernel::{describe, open_fds, report, skipped, still_alive, xdp_verdict};

const THREADS: usize = 8;

fn duration() -> Duration {
    let seconds = std::env::var("BPFLINK_STRESS_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    Duration::from_secs(seconds)
}

/// Objects opened (not loaded) in the open-only step: the richest parsing work of the corpus.
const OPEN_ONLY: [&str; 4] = ["btf_kinds", "core_relos", "callbacks", "externs"];
/// Objects opened, loaded and run.
const LOADABLE: [(&str, &str); 2] = [("xdp_global_data", "xdp_len_filter"), ("map_in_map", "dispatch")];

#[derive(Default)]
struct Counters {
    opened: AtomicU64,
    loaded: AtomicU64,
    linked: AtomicU64,
    replaced: AtomicU64,
    busy: AtomicU64,
    /// Callers of the shared library loaded, run (both programs) and closed.
    called: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Inputs shared (read-only) by the threads.
struct Work {
    files: Vec<(String, std::path::PathBuf)>,
    link_inputs: Vec<(String, Vec<u8>)>,
    firewall: std::path::PathBuf,
    caller: std::path::PathBuf,
    /// The rootlet's program fd (raw: the rootlet outlives the threads).
    rootlet_prog: i32,
    dynamic: bool,
}

fn run_xdp(fd: std::os::fd::BorrowedFd<'_>) -> Result<u32, String> {
    xdp_verdict(fd).map_err(|e| e.to_string())
}

fn run_program(obj: &Object, name: &str) -> Result<u32, String> {
    let fd = obj.find_program(name).and_then(|p| p.fd()).ok_or_else(|| format!("{name} not loaded"))?;
    run_xdp(fd)
}

/// One step of a thread's rotation; Err describes an unexpected failure.
fn step(work: &Work, counters: &Counters, step: usize) -> Result<(), String> {
    let opts = OpenOptions::default();
    match step % 5 {
        0 => {
            for name in OPEN_ONLY {
                let path = &work.files.iter().find(|(n, _)| n == name).ok_or("missing object")?.1;
                Object::open_file(path, &opts).map_err(|e| format!("open {name}: {e}"))?;
                let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
                Object::open_mem(&bytes, &opts).map_err(|e| format!("open_mem {name}: {e}"))?;
                Counters::add(&counters.opened);
            }
        }
        1 => {
            for (name, prog) in LOADABLE {
                let path = &work.files.iter().find(|(n, _)| n == name).ok_or("missing object")?.1;
                let mut obj = Object::open_file(path, &opts).map_err(|e| format!("open {name}: {e}"))?;
                obj.load().map_err(|e| format!("load {name}: {e}"))?;
                run_program(&obj, prog)?;
                Counters::add(&counters.loaded);
            }
        }
        2 => {
            let refs: Vec<(&str, &[u8])> = work.link_inputs.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
            let linked = linker::link_buffers(&refs).map_err(|e| format!("static link: {e}"))?;
            let named = OpenOptions { object_name: Some("linked_funcs".into()), ..Default::default() };
            let mut obj = Object::open_mem(&linked, &named).map_err(|e| format!("open linked: {e}"))?;
            obj.load().map_err(|e| format!("load linked: {e}"))?;
            for prog in obj.programs().iter().filter(|p| p.autoload()) {
                run_program(&obj, prog.name())?;
            }
            Counters::add(&counters.linked);
        }
        3 if work.dynamic => replace_placeholder(work, counters)?,
        4 if work.dynamic => call_library(work, counters, step)?,
        _ => {}
    }
    Ok(())
}

/// Loads the replacement next to the shared rootlet: it replaces the placeholder (and the
/// rootlet runs it while the replacement lives), or another thread's replacement holds it.
fn replace_placeholder(work: &Work, counters: &Counters) -> Result<(), String> {
    let mut obj = Object::open_file(&work.firewall, &OpenOptions::default()).map_err(|e| format!("open firewall: {e}"))?;
    match obj.load() {
        Ok(()) => {
            // SAFETY: the rootlet (and its program fd) outlives every thread.
            let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(work.rootlet_prog) };
            let verdict = run_xdp(fd)?;
            if verdict != uapi::xdp_action::XDP_DROP {
                return Err(format!("the rootlet returned {verdict} while this thread's replacement was linked"));
            }
            Counters::add(&counters.replaced);
            Ok(())
        }
        Err(e) if e.errno() == libc::EBUSY && e.to_string().contains("already replaced by") => {
            Counters::add(&counters.busy);
            Ok(())
        }
        Err(e) => Err(format!("dynamic link: {e}")),
    }
}

/// Loads a caller of the shared library's `classify()` under a name of its own, checks that
/// both its programs run the library's code (PASS, and TX for PASS), and closes it.
fn call_library(work: &Work, counters: &Counters, step: usize) -> Result<(), String> {
    let opts = OpenOptions { object_name: Some(format!("caller_{step}")), ..Default::default() };
    let mut obj = Object::open_file(&work.caller, &opts).map_err(|e| format!("open caller: {e}"))?;
    obj.load().map_err(|e| format!("load caller: {e}"))?;
    for (prog, expected) in [("dyn_caller", uapi::xdp_action::XDP_PASS), ("dyn_caller2", uapi::xdp_action::XDP_TX)] {
        let fd = obj.find_program(prog).and_then(|p| p.fd()).ok_or("caller program not loaded")?;
        let verdict = run_xdp(fd)?;
        if verdict != expected {
            return Err(format!("{prog} returned {verdict}, expected {expected} from the library's classify()"));
        }
    }
    Counters::add(&counters.called);
    Ok(())
}

/// What a thread saw: unexpected errors, and the kernel objects it created.
struct Report {
    errors: Vec<String>,
    created: Vec<(ObjKind, u32)>,
}

/// A thread: steps until the deadline, recording the kernel objects it creates.
fn worker(index: usize, work: &Work, counters: &Counters, deadline: Instant) -> Report {
    let recording = fault::record();
    let mut errors = Vec::new();
    let mut n = index;
    while Instant::now() < deadline {
        if let Err(e) = step(work, counters, n) {
            errors.push(format!("thread {index} step {n}: {e}"));
        }
        n += 1;
    }
    Report { errors, created: recording.created() }
}

#[test]
fn eight_threads_open_load_link_and_replace_concurrently() {
    static SERIAL: Mutex<()> = Mutex::new(());
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut names: Vec<&str> = OPEN_ONLY.to_vec();
    names.extend(LOADABLE.iter().map(|(n, _)| *n));
    let files = names.iter().map(|n| (n.to_string(), common::compile_bpf(n))).collect();
    let link_inputs = ["link_funcs1", "link_funcs2"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(common::compile_bpf(n)).unwrap()))
        .collect();
    let mut rootlet = Object::open_file(&common::compile_bpf("dyn_rootlet"), &OpenOptions::default()).unwrap();
    rootlet.load().expect("loading the shared rootlet");
    let rootlet_prog = std::os::fd::AsRawFd::as_raw_fd(&rootlet.find_program("dyn_rootlet").and_then(|p| p.fd()).unwrap());
    let firewall = common::compile_bpf("dyn_firewall");
    let dynamic = match Object::open_file(&firewall, &OpenOptions::default()).unwrap().load() {
        Ok(()) => true,
        Err(e @ LoadError::ProgLoad { .. }) if !sys::feature_required() => {
            skipped(&format!("concurrent dynamic linking: this kernel ({}) refuses BPF_PROG_TYPE_EXT: {e}", sys::kernel_release()));
            false
        }
        Err(e) => panic!("loading the replacement: {e}"),
    };
    let library = dynamic.then(|| {
        let mut library = Object::open_file(&common::compile_bpf("dyn_classifier"), &OpenOptions::default()).unwrap();
        library.load().expect("loading the shared library");
        library
    });
    let caller = common::compile_bpf("dyn_caller");
    let work = Work { files, link_inputs, firewall, caller, rootlet_prog, dynamic };
    let counters = Counters::default();
    let fds = open_fds();
    let started = Instant::now();
    let deadline = started + duration();
    let reports: Vec<Report> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS).map(|i| s.spawn({
            let (work, counters) = (&work, &counters);
            move || worker(i, work, counters, deadline)
        })).collect();
        handles.into_iter().map(|h| h.join().expect("a worker thread panicked")).collect()
    });
    let elapsed = started.elapsed();
    let errors: Vec<&String> = reports.iter().flat_map(|r| &r.errors).collect();
    let created: Vec<(ObjKind, u32)> = reports.iter().flat_map(|r| r.created.iter().copied()).collect();
    let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
    report(&format!(
        "{THREADS} threads, {:.0} s: {} open-only rounds (x{} objects x2), {} load rounds (x{}), {} static links loaded, \
         {} dynamic replacements, {} found the placeholder taken (EBUSY), {} library callers loaded, run and closed; \
         {} kernel objects created",
        elapsed.as_secs_f64(),
        count(&counters.opened) / OPEN_ONLY.len() as u64,
        OPEN_ONLY.len(),
        count(&counters.loaded) / LOADABLE.len() as u64,
        LOADABLE.len(),
        count(&counters.linked),
        count(&counters.replaced),
        count(&counters.busy),
        count(&counters.called),
        created.len()
    ));
    assert!(errors.is_empty(), "{} errors, first ones:\n{}", errors.len(), errors.iter().take(10).map(|e| e.as_str()).collect::<Vec<_>>().join("\n"));
    assert!(count(&counters.loaded) > 0 && count(&counters.linked) > 0 && count(&counters.opened) > 0);
    assert!(!dynamic || count(&counters.replaced) > 0, "no thread ever replaced the placeholder");
    assert!(!dynamic || count(&counters.called) > 0, "no thread ever called into the library");
    assert_eq!(open_fds(), fds, "fd count after the threads");
    let alive: Vec<String> = still_alive(&created).into_iter().map(|(kind, id)| describe(kind, id)).collect();
    assert_eq!(alive, Vec::<String>::new(), "kernel objects the threads created are still alive");

    let dynamic::Graph { objects, edges } = dynamic::snapshot();
    assert_eq!(edges, [], "no replacement or call edge outlives its object");
    let mut registered: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
    registered.sort_unstable();
    let expected: &[&str] = if dynamic { &["dyn_classifier", "dyn_rootlet"] } else { &["dyn_rootlet"] };
    assert_eq!(registered, expected, "only the rootlet and the library are registered");
    assert_eq!(run_xdp(rootlet.find_program("dyn_rootlet").and_then(|p| p.fd()).unwrap()), Ok(uapi::xdp_action::XDP_PASS));
    if let Some(library) = &library {
        // Each caller ran both programs once on a PASS frame: two calls per caller.
        let calls = common::dynlink::counter(common::dynlink::map_id(library, "classify_calls"), uapi::xdp_action::XDP_PASS);
        assert_eq!(calls, 2 * count(&counters.called), "the library's own map counted every call of every caller");
    }
    drop((library, rootlet));
    assert!(dynamic::snapshot().objects.is_empty(), "the registry is empty once every object is closed");
}
