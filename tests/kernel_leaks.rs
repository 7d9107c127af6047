//! Resources stay constant over many cycles: a thousand (by default) static-link + open +
//! load + run + close cycles, and as many dynamic-link cycles (a replacement loaded next to a
//! loaded rootlet, run, closed) leave the open fd count where it was and every kernel object they
//! created freed; the dynamic-link registry ends where it started.
mod common;

use std::sync::Mutex;
use std::time::Instant;

use bpflink::linker::{self, dynamic};
use bpflink::loader::{LoadError, Object, OpenOptions};
use bpflink::sys::{self, fault, uapi};
use common::kernel::{describe, open_fds, report, skipped, still_alive, xdp_verdict};

/// Cycles per test: `BPFLINK_LEAK_CYCLES`, default 1000.
fn cycles() -> usize {
    std::env::var("BPFLINK_LEAK_CYCLES").ok().and_then(|n| n.parse().ok()).unwrap_or(1000)
}

/// The tests count fds and use the process-wide registry: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn verdict(obj: &Object, prog: &str) -> u32 {
    let fd = obj.find_program(prog).and_then(|p| p.fd()).unwrap_or_else(|| panic!("{prog} not loaded"));
    xdp_verdict(fd).unwrap_or_else(|e| panic!("test run of {prog}: {e}"))
}

/// Runs `cycle` once to warm process-wide caches (vmlinux BTF, kconfig), then `cycles` times
/// while recording the kernel objects created; checks fds and objects afterwards.
fn check_cycles(what: &str, cycles: usize, mut cycle: impl FnMut(usize)) {
    cycle(0);
    let fds = open_fds();
    let recording = fault::record();
    let started = Instant::now();
    for i in 1..=cycles {
        cycle(i);
        if i % 100 == 0 {
            assert_eq!(open_fds(), fds, "{what}: fd count changed by cycle {i}");
        }
    }
    let elapsed = started.elapsed();
    let created = recording.created();
    drop(recording);
    assert_eq!(open_fds(), fds, "{what}: fd count changed");
    let alive: Vec<String> = still_alive(&created).into_iter().map(|(kind, id)| describe(kind, id)).collect();
    assert_eq!(alive, Vec::<String>::new(), "{what}: kernel objects left");
    report(&format!(
        "{what}: {cycles} cycles in {:.1} s, {} kernel objects created and freed, {fds} fds before and after",
        elapsed.as_secs_f64(),
        created.len()
    ));
}

#[test]
fn static_link_open_load_run_close_cycles_leak_nothing() {
    let _g = serial();
    let inputs: Vec<(String, Vec<u8>)> = ["link_funcs1", "link_funcs2"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(common::compile_bpf(n)).unwrap()))
        .collect();
    let refs: Vec<(&str, &[u8])> = inputs.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
    let opts = OpenOptions { object_name: Some("linked_funcs".into()), ..Default::default() };
    check_cycles("static link + load", cycles(), |i| {
        let linked = linker::link_buffers(&refs).unwrap_or_else(|e| panic!("cycle {i}: link: {e}"));
        let mut obj = Object::open_mem(&linked, &opts).unwrap_or_else(|e| panic!("cycle {i}: open: {e}"));
        obj.load().unwrap_or_else(|e| panic!("cycle {i}: load: {e}\n{}", e.kernel_log()));
        for prog in obj.programs().iter().filter(|p| p.autoload()) {
            verdict(&obj, prog.name());
        }
    });
}

#[test]
fn dynamic_link_cycles_leak_nothing() {
    let _g = serial();
    let mut rootlet = Object::open_file(&common::compile_bpf("dyn_rootlet"), &OpenOptions::default()).unwrap();
    rootlet.load().expect("loading the rootlet");
    let registered = dynamic::snapshot().objects.len();
    let firewall = common::compile_bpf("dyn_firewall");
    let probe = Object::open_file(&firewall, &OpenOptions::default()).unwrap().load();
    match probe {
        Ok(()) => {}
        Err(e @ LoadError::ProgLoad { .. }) if !sys::feature_required() => {
            return skipped(&format!("dynamic-link cycles: this kernel ({}) refuses BPF_PROG_TYPE_EXT: {e}", sys::kernel_release()));
        }
        Err(e) => panic!("loading the replacement: {e}"),
    }
    let (pass, drop_) = (uapi::xdp_action::XDP_PASS, uapi::xdp_action::XDP_DROP);
    check_cycles("dynamic link (freplace of a loaded placeholder)", cycles(), |i| {
        let mut obj = Object::open_file(&firewall, &OpenOptions::default()).unwrap();
        obj.load().unwrap_or_else(|e| panic!("cycle {i}: load: {e}"));
        assert_eq!(verdict(&rootlet, "dyn_rootlet"), drop_, "cycle {i}: the replacement runs");
        drop(obj);
        assert_eq!(verdict(&rootlet, "dyn_rootlet"), pass, "cycle {i}: the placeholder is back");
    });
    let dynamic::Graph { objects, edges } = dynamic::snapshot();
    assert_eq!((objects.len(), edges.len()), (registered, 0), "the registry is back where it started");
}
