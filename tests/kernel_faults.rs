//! Fault injection: a failure at each `bpf(2)` call of a load (BTF load, map create, pin,
//! initial values, freeze, prog load, slots, EXT load and link create of dynamic linking)
//! either falls back the way libbpf does, completing the load, or fails the load with the
//! injected errno and a message naming the failed command; either way, once the object is
//! dropped no fd, kernel object or pin of that load is left.
//!
//! Method: a clean load is recorded first ([`fault::record`]) to learn its calls; then for
//! every call index, the load is repeated with that call failing once (a transient error)
//! and with every later call of the same command failing (a persistent error).
mod common;

use std::path::PathBuf;
use std::sync::Mutex;

use bpflink::linker::dynamic;
use bpflink::loader::{LoadError, Object, ObjectState, OpenOptions};
use bpflink::sys::fault::{self, Call, Fault, Repeat};
use bpflink::sys::{self, uapi};
use common::kernel::{describe, open_fds, report, skipped, still_alive, xdp_verdict, Bpffs};

/// Tests count fds and use the process-wide dynamic-linking registry: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The errno injected: one the kernel really returns for these commands, and that no
/// fallback of the loader treats specially.
const INJECTED: i32 = libc::ENOMEM;

/// Commands whose failure the loader survives by design, like libbpf: the BTF is optional
/// (programs load without it); a map the kernel refuses with BTF types is created without
/// them; a program load that fails is retried once with a verifier log.
fn has_fallback(call: &Call, repeat: Repeat) -> bool {
    use uapi::bpf_cmd::*;
    match call.cmd {
        BPF_BTF_LOAD => true,
        BPF_MAP_CREATE | BPF_PROG_LOAD => repeat == Repeat::Once,
        _ => false,
    }
}

struct Scenario {
    object: PathBuf,
    opts: OpenOptions,
    /// The pin root of the object's maps, a private bpffs.
    bpffs: Option<Bpffs>,
}

impl Scenario {
    fn new(name: &str) -> Scenario {
        Scenario { object: common::compile_bpf(name), opts: OpenOptions::default(), bpffs: None }
    }

    fn with_pins(mut self, tag: &str) -> Scenario {
        let fs = Bpffs::new(tag);
        self.opts.pin_root_path = Some(fs.0.clone());
        self.bpffs = Some(fs);
        self
    }

    /// Removes the pins a successful load made (they outlive the object, as in libbpf).
    fn remove_pins_not_in(&self, before: &[String]) {
        let Some(fs) = &self.bpffs else { return };
        for pin in fs.pins().iter().filter(|p| !before.contains(p)) {
            std::fs::remove_file(fs.0.join(pin)).unwrap_or_else(|e| panic!("removing the pin {pin}: {e}"));
        }
    }

    fn open(&self) -> Object {
        Object::open_file(&self.object, &self.opts).unwrap_or_else(|e| panic!("open {}: {e}", self.object.display()))
    }

    fn pins(&self) -> Vec<String> {
        self.bpffs.as_ref().map(Bpffs::pins).unwrap_or_default()
    }

    /// The calls of a clean load, which must itself leave nothing behind once dropped.
    fn clean_calls(&self) -> Result<Vec<Call>, LoadError> {
        let pins = self.pins();
        let mut obj = self.open();
        let recording = fault::record();
        obj.load()?;
        let calls = recording.calls();
        drop(recording);
        drop(obj);
        self.remove_pins_not_in(&pins);
        let created: Vec<_> = calls.iter().filter_map(|c| c.created).collect();
        assert!(!created.is_empty(), "a load creates kernel objects");
        assert_eq!(still_alive(&created), [], "a dropped object's kernel objects are freed");
        Ok(calls)
    }
}

/// Where a fault was injected, for messages.
struct At<'a> {
    index: usize,
    call: &'a Call,
    repeat: Repeat,
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at call #{} ({:?})", self.call.name(), self.index, self.repeat)
    }
}

/// The fault that hits call `index` of `calls`: once, or that command from then on.
fn fault_at(calls: &[Call], index: usize, repeat: Repeat) -> Fault {
    let cmd = calls[index].cmd;
    let skip = calls[..index].iter().filter(|c| c.cmd == cmd).count() as u32;
    Fault { cmd: Some(cmd), skip, errno: INJECTED, repeat }
}

/// What a load with an injected fault did.
enum Outcome {
    Loaded,
    Failed(String),
}

/// Loads `scenario` with the fault of `at` and checks the invariants; `verify` runs on the
/// loaded object when the load survived the fault.
fn load_with_fault(scenario: &Scenario, calls: &[Call], at: &At<'_>, verify: &dyn Fn(&Object)) -> Outcome {
    let fds = open_fds();
    let pins = scenario.pins();
    let mut obj = scenario.open();
    let recording = fault::record();
    let injection = fault::inject(fault_at(calls, at.index, at.repeat));
    let result = obj.load();
    let hits = injection.hits();
    let made = recording.created();
    drop(injection);
    drop(recording);
    assert!(hits > 0, "{at}: the load did not make the call the clean load made");
    let outcome = match result {
        Ok(()) => {
            assert!(has_fallback(at.call, at.repeat), "{at}: the load succeeded although this failure has no fallback");
            assert_eq!(obj.state(), ObjectState::Loaded);
            verify(&obj);
            Outcome::Loaded
        }
        Err(err) => {
            let text = err.to_string();
            assert_eq!(err.errno(), INJECTED, "{at}: the load failed with another errno: {text}");
            assert!(text.contains(at.call.name()), "{at}: the error does not name the failed command: {text}");
            assert_eq!(obj.state(), ObjectState::LoadFailed);
            assert!(obj.programs().iter().all(|p| p.fd().is_none()), "{at}: a program fd survived the failed load");
            assert!(obj.maps().iter().all(|m| m.fd().is_none()), "{at}: a map fd survived the failed load");
            assert_eq!(scenario.pins(), pins, "{at}: the failed load left pins");
            Outcome::Failed(text)
        }
    };
    drop(obj);
    scenario.remove_pins_not_in(&pins);
    assert_eq!(open_fds(), fds, "{at}: fds leaked");
    let alive: Vec<String> = still_alive(&made).into_iter().map(|(kind, id)| describe(kind, id)).collect();
    assert_eq!(alive, Vec::<String>::new(), "{at}: kernel objects of the load are still alive");
    assert_eq!(scenario.pins(), pins, "{at}: pins changed");
    outcome
}

/// Injects a fault at every call of a clean load, once and persistently; returns the number of
/// loads that failed and that fell back.
fn fail_every_call(scenario: &Scenario, verify: &dyn Fn(&Object)) -> (usize, usize) {
    let calls = scenario.clean_calls().unwrap_or_else(|e| panic!("clean load of {}: {e}", scenario.object.display()));
    let (mut failed, mut survived) = (0, 0);
    for index in 0..calls.len() {
        for repeat in [Repeat::Once, Repeat::Always] {
            let at = At { index, call: &calls[index], repeat };
            match load_with_fault(scenario, &calls, &at, verify) {
                Outcome::Loaded => {
                    survived += 1;
                    println!("fault {at}: load completed through its fallback");
                }
                Outcome::Failed(text) => {
                    failed += 1;
                    println!("fault {at}: {text}");
                }
            }
        }
    }
    report(&format!(
        "fault injection, {}: {} calls, {failed} faulted loads failed cleanly, {survived} fell back",
        scenario.object.display(),
        calls.len()
    ));
    (failed, survived)
}

fn run_xdp(obj: &Object, prog: &str) -> u32 {
    let fd = obj.find_program(prog).and_then(|p| p.fd()).unwrap_or_else(|| panic!("{prog} not loaded"));
    xdp_verdict(fd).unwrap_or_else(|e| panic!("test run of {prog}: {e}"))
}

fn all_programs_loaded(obj: &Object) {
    for p in obj.programs().iter().filter(|p| p.autoload()) {
        assert!(p.fd().is_some(), "program {} has no fd after a successful load", p.name());
    }
}

#[test]
fn global_data_btf_and_frozen_rodata() {
    let _g = serial();
    let (failed, survived) = fail_every_call(&Scenario::new("xdp_global_data"), &|obj| {
        all_programs_loaded(obj);
        run_xdp(obj, "xdp_len_filter");
    });
    assert!(failed > 10 && survived > 0);
}

#[test]
fn map_in_map_inner_maps_and_prog_array_slots() {
    let _g = serial();
    let (failed, survived) = fail_every_call(&Scenario::new("map_in_map"), &|obj| {
        all_programs_loaded(obj);
        assert_eq!(run_xdp(obj, "dispatch"), uapi::xdp_action::XDP_DROP, "tail call through the filled slots");
    });
    assert!(failed > 10 && survived > 0);
}

#[test]
fn pinned_maps_are_unpinned_when_the_load_fails() {
    let _g = serial();
    let scenario = Scenario::new("loader_pin").with_pins("faults-pin");
    let before = scenario.pins();
    let (failed, _) = fail_every_call(&scenario, &all_programs_loaded);
    assert!(failed >= 3);
    assert_eq!(scenario.pins(), before);
}

#[test]
fn a_reused_pin_survives_a_failed_load() {
    let _g = serial();
    let scenario = Scenario::new("loader_pin").with_pins("faults-reuse");
    let mut owner = scenario.open();
    let before = scenario.pins();
    owner.load().expect("loading the object that pins the map");
    let pinned = scenario.pins();
    assert!(pinned.len() == before.len() + 1 && pinned.iter().any(|p| p == "shared_counts"));
    let (failed, _) = fail_every_call(&scenario, &|obj| {
        all_programs_loaded(obj);
        assert!(obj.find_map("shared_counts").is_some_and(|m| m.is_reused()));
    });
    assert!(failed >= 3);
    assert_eq!(scenario.pins(), pinned, "the pin of the first object stays");
}

/// Dynamic linking: the faults hit the EXT load, the target lookups and BPF_LINK_CREATE of
/// loading a replacement next to a loaded rootlet; afterwards the placeholder is intact.
#[test]
fn a_failed_replacement_leaves_the_placeholder_intact() {
    let _g = serial();
    let mut rootlet = Scenario::new("dyn_rootlet").open();
    rootlet.load().expect("loading the rootlet");
    let pass = uapi::xdp_action::XDP_PASS;
    let scenario = Scenario::new("dyn_firewall");
    let calls = match scenario.clean_calls() {
        Ok(calls) => calls,
        Err(e @ LoadError::ProgLoad { .. }) if !sys::feature_required() => {
            return skipped(&format!("dynamic-linking faults: this kernel ({}) refuses BPF_PROG_TYPE_EXT: {e}", sys::kernel_release()));
        }
        Err(e) => panic!("clean load of the replacement: {e}"),
    };
    assert!(calls.iter().any(|c| c.cmd == uapi::bpf_cmd::BPF_LINK_CREATE), "the replacement is linked with BPF_LINK_CREATE");
    let (failed, _) = fail_every_call(&scenario, &|obj| {
        assert_eq!(obj.dynamic_edges().len(), 2, "the replacement is linked into both rootlet programs");
        assert_eq!(run_xdp(&rootlet, "dyn_rootlet"), uapi::xdp_action::XDP_DROP);
    });
    assert!(failed > 0);
    assert_eq!(run_xdp(&rootlet, "dyn_rootlet"), pass, "the placeholder runs again");
    let dynamic::Graph { objects, edges } = dynamic::snapshot();
    assert_eq!(edges, [], "no edge is left registered");
    assert_eq!(objects.len(), 1, "only the rootlet is registered");
}

/// Dynamic linking, calls: the faults hit the caller's BTF and program loads, the library's
/// map and BTF reopened by id, the EXT load of the library's function and the links into the
/// stubs; afterwards nothing of the caller is left and the library is intact.
#[test]
fn a_failed_call_link_leaves_nothing_behind() {
    let _g = serial();
    let mut library = Scenario::new("dyn_classifier").open();
    library.load().expect("loading the library");
    let scenario = Scenario::new("dyn_caller");
    match scenario.clean_calls() {
        Ok(calls) => assert!(calls.iter().any(|c| c.cmd == uapi::bpf_cmd::BPF_LINK_CREATE), "the calls are linked with BPF_LINK_CREATE"),
        Err(e @ LoadError::ProgLoad { .. }) if !sys::feature_required() => {
            return skipped(&format!("dynamic-linking faults: this kernel ({}) refuses BPF_PROG_TYPE_EXT: {e}", sys::kernel_release()));
        }
        Err(e) => panic!("clean load of the caller: {e}"),
    }
    let (failed, _) = fail_every_call(&scenario, &|obj| {
        assert_eq!(obj.dynamic_edges().len(), 2, "the library's function is linked into both callers");
        assert_eq!(run_xdp(obj, "dyn_caller2"), uapi::xdp_action::XDP_TX, "the library's classify() runs (the bare stub would drop)");
    });
    assert!(failed > 10);
    let dynamic::Graph { objects, edges } = dynamic::snapshot();
    assert_eq!(edges, [], "no edge is left registered");
    assert_eq!(objects.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["dyn_classifier"], "only the library is registered");
}
