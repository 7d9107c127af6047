//! Dynamic linking, capabilities 2 and 3 of issue 5: an object calling an `extern` function
//! that an object loaded earlier exports runs the provider's code, sharing its maps; chains of
//! libraries work at any depth; a replacement calling a function of the object it extends
//! imports that code (the kernel refuses an extension of an extension).
//!
//! dyn_classifier.bpf.c is a library (no SEC() program) exporting `classify`, counting calls
//! per verdict in its own map; dyn_caller.bpf.c has two XDP programs calling it. Verdicts come
//! from `BPF_PROG_TEST_RUN`, sharing from the library's map, lifetimes from kernel id lists.
//! Where the kernel refuses EXT (the host) the tests that need it print SKIPPED loudly;
//! prototype and resolution errors are checked in user space, so they run everywhere.
mod common;

use std::os::fd::AsFd;

use bpflink::linker::dynamic::{self, EdgeKind, Mechanism};
use bpflink::loader::{LoadError, Object};
use bpflink::sys::{uapi, ObjKind};
use common::dynlink::*;

const CALLERS: [&str; 2] = ["dyn_caller", "dyn_caller2"];

/// Verdicts of both caller programs for a frame starting with 0xff (classify: DROP) and one
/// starting with 0 (classify: PASS; the second program turns PASS into TX).
fn caller_verdicts(caller: &Object) -> [u32; 4] {
    [verdict(caller, CALLERS[0], 0xff), verdict(caller, CALLERS[1], 0xff), verdict(caller, CALLERS[0], 0), verdict(caller, CALLERS[1], 0)]
}

const CLASSIFIED: [u32; 4] = [XDP_DROP, XDP_DROP, XDP_PASS, XDP_TX];

fn calls(map: u32) -> (u64, u64) {
    (counter(map, XDP_DROP), counter(map, XDP_PASS))
}

#[test]
fn a_call_into_a_loaded_library_runs_its_code_and_shares_its_maps() {
    let _g = serial();
    let library = load_plain("dyn_classifier", "classifier");
    let map = map_id(&library, "classify_calls");
    let Some(first) = load_dependent("dyn_caller", "caller_a", "call into a library") else { return };
    assert_eq!(caller_verdicts(&first), CLASSIFIED, "both programs run the library's classify()");
    assert_eq!(calls(map), (2, 2), "the library's own map counts the calls: shared, not copied");

    let edges = first.dynamic_edges();
    assert_eq!(edges.len(), 2, "one edge per calling program: {edges:?}");
    let ext_id = edges[0].edge.ext_prog_id;
    let mut callers: Vec<u32> = CALLERS.iter().map(|p| prog_id(prog_fd(&first, p))).collect();
    let mut targets: Vec<u32> = edges.iter().map(|e| e.edge.target_prog_id).collect();
    callers.sort_unstable();
    targets.sort_unstable();
    assert_eq!(targets, callers, "linked into each caller's stub");
    for e in edges {
        assert_eq!((e.edge.kind, e.edge.mechanism), (EdgeKind::Call, Mechanism::Stub));
        assert_eq!((e.edge.from.as_str(), e.edge.to.as_str(), e.edge.function.as_str()), ("caller_a", "classifier", "classify"));
        assert_eq!(e.edge.ext_prog_id, ext_id, "one EXT program for every stub of one program type");
        let info = bpflink::sys::obj_get_info_by_fd::<uapi::bpf_link_info>(link_fd(e)).expect("link info");
        assert_eq!((info.id, info.prog_id), (e.edge.link_id, ext_id));
    }
    let ext_fd = bpflink::sys::prog_get_fd_by_id(ext_id).expect("the EXT lives");
    let ext_info = bpflink::sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(ext_fd.as_fd()).unwrap();
    assert_eq!(ext_info.type_, uapi::bpf_prog_type::BPF_PROG_TYPE_EXT);
    assert!(bpflink::sys::prog_map_ids(ext_fd.as_fd()).unwrap().contains(&map), "the EXT uses the library's map");
    drop(ext_fd);

    let Some(second) = load_dependent("dyn_caller", "caller_b", "second caller") else { return };
    assert_eq!(caller_verdicts(&second), CLASSIFIED);
    assert_eq!(calls(map), (4, 4), "calls from both callers land in the one map");
    assert!(second.dynamic_edges().iter().all(|e| e.edge.ext_prog_id == ext_id), "the second caller reuses the loaded EXT (verified once)");
    let graph = dynamic::snapshot();
    assert_eq!(graph.edges.iter().filter(|e| e.ext_prog_id == ext_id && e.mechanism == Mechanism::Stub).count(), 4);
    drop((first, second, library));
    assert!(gone(ObjKind::Prog, ext_id), "the EXT goes with its last link");
    assert!(gone(ObjKind::Map, map), "the library's map goes with the last program using it");
}

/// Every order of closing the library and two callers: a caller works until it is closed,
/// whatever went before it (the library's code and map live on in the callers' links), and
/// nothing is left once all three are closed.
#[test]
fn closing_in_every_order_keeps_each_caller_working_until_it_goes() {
    let _g = serial();
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for order in orders {
        let library = load_plain("dyn_classifier", "classifier");
        let map = map_id(&library, "classify_calls");
        let Some(a) = load_dependent("dyn_caller", "caller_a", "close orders") else { return };
        let Some(b) = load_dependent("dyn_caller", "caller_b", "close orders") else { return };
        let ext_id = a.dynamic_edges()[0].edge.ext_prog_id;
        let mut ids: Vec<(ObjKind, u32)> = vec![(ObjKind::Prog, ext_id), (ObjKind::Map, map)];
        for obj in [&a, &b] {
            ids.extend(CALLERS.iter().map(|p| (ObjKind::Prog, prog_id(prog_fd(obj, p)))));
            ids.extend(obj.dynamic_edges().iter().map(|e| (ObjKind::Link, e.edge.link_id)));
        }
        let mut objects: Vec<Option<Object>> = vec![Some(library), Some(a), Some(b)];
        for (step, &index) in order.iter().enumerate() {
            objects[index] = None;
            let live_callers: Vec<&Object> = objects[1..].iter().flatten().collect();
            if live_callers.is_empty() {
                continue;
            }
            assert!(exists(ObjKind::Map, map), "order {order:?}: a caller keeps the library's map");
            let before = calls(map);
            for caller in &live_callers {
                assert_eq!(caller_verdicts(caller), CLASSIFIED, "order {order:?}, after step {step}");
            }
            assert_eq!(calls(map).0, before.0 + 2 * live_callers.len() as u64, "order {order:?}: still counted");
        }
        for (kind, id) in ids {
            assert!(gone(kind, id), "order {order:?}: {kind:?} id {id} outlived every object");
        }
        assert!(dynamic::snapshot().edges.is_empty(), "order {order:?}: the registry forgot every edge");
    }
}

#[test]
fn a_provider_closed_before_the_caller_loads_is_no_longer_found() {
    let _g = serial();
    let library = load_plain("dyn_classifier", "classifier");
    drop(library);
    let other = load_plain("dyn_rootlet", "bystander");
    let mut caller = open_named("dyn_caller", "caller_late");
    let err = caller.load().expect_err("the provider is gone");
    let msg = err.to_string();
    assert!(matches!(err, LoadError::UnresolvedFunctions { .. }), "{msg}");
    assert_eq!(err.errno(), libc::ESRCH);
    assert!(msg.contains("'classify'") && msg.contains("[bystander]"), "names the symbol and the objects looked at: {msg}");
    assert!(caller.programs().iter().all(|p| p.fd().is_none()), "nothing of the caller was loaded");
    drop(other);
}

#[test]
fn every_unresolved_function_is_listed_at_once() {
    let _g = serial();
    let mut caller = open_named("dyn_caller_many", "many");
    let msg = caller.load().expect_err("nothing provides them").to_string();
    assert!(msg.contains("unresolved extern functions: 'classify', 'chain_verdict'"), "{msg}");
    assert!(msg.contains("[]"), "no object was loaded to look at: {msg}");
}

/// The prototype check runs in user space before anything of the caller is loaded, so this
/// runs on any kernel.
#[test]
fn a_mismatched_extern_declaration_fails_naming_both_prototypes() {
    let _g = serial();
    let _library = load_plain("dyn_classifier", "classifier");
    let before = bpflink::sys::all_ids(ObjKind::Prog).unwrap();
    let mut bad = open_named("dyn_caller_badproto", "bad_caller");
    let err = bad.load().expect_err("the declaration doesn't fit the definition");
    let msg = err.to_string();
    assert!(matches!(err, LoadError::Prototype { .. }), "{msg}");
    assert_eq!(err.errno(), libc::EINVAL);
    assert!(msg.contains("int classify(struct xdp_md *ctx) (defined by 'classifier')"), "definition missing: {msg}");
    assert!(msg.contains("int classify(struct xdp_md *") && msg.contains("declared extern by 'bad_caller'"), "declaration missing: {msg}");
    assert!(msg.contains("the extension takes 1 argument(s), the target 2"), "{msg}");
    assert_eq!(bpflink::sys::all_ids(ObjKind::Prog).unwrap(), before, "no program was loaded");
}

/// top -> mid -> base, each a library calling the next; a program calls top. The caller's stub
/// gets top's function as an EXT, into which mid's and base's code is imported (an EXT can't be
/// extended), each sharing its own library's map.
#[test]
fn a_chain_of_three_libraries_runs_every_level() {
    let _g = serial();
    let base = load_plain("dyn_chain_base", "chain_base");
    let mid = load_plain("dyn_chain_mid", "chain_mid");
    let top = load_plain("dyn_chain_top", "chain_top");
    let (base_map, mid_map) = (map_id(&base, "base_calls"), map_id(&mid, "mid_calls"));
    let Some(caller) = load_dependent("dyn_chain_caller", "chain_caller", "library chain") else { return };
    assert_eq!(verdict(&caller, "dyn_chain_caller", 0xff), XDP_DROP, "base says 0xff, mid drops it");
    assert_eq!(verdict(&caller, "dyn_chain_caller", 0x01), XDP_TX, "mid passes, top turns PASS into TX");
    assert_eq!((counter(base_map, 0), counter(mid_map, 0)), (2, 2), "each level counted in its own map");

    let stub = &caller.dynamic_edges()[0].edge;
    assert_eq!((stub.mechanism, stub.to.as_str(), stub.function.as_str()), (Mechanism::Stub, "chain_top", "chain_verdict"));
    let graph = dynamic::snapshot();
    let imported = |from: &str, to: &str, f: &str| {
        graph.edges.iter().any(|e| e.mechanism == Mechanism::Import && e.from == from && e.to == to && e.function == f && e.ext_prog_id == stub.ext_prog_id)
    };
    assert!(imported("chain_top", "chain_mid", "chain_decide"), "{:#?}", graph.edges);
    assert!(imported("chain_mid", "chain_base", "chain_parse"), "{:#?}", graph.edges);

    let ext_id = stub.ext_prog_id;
    drop((base, mid, top));
    assert_eq!(verdict(&caller, "dyn_chain_caller", 0xff), XDP_DROP, "the libraries' code lives on in the caller's link");
    assert_eq!(counter(base_map, 0), 3);
    drop(caller);
    assert!(gone(ObjKind::Prog, ext_id) && gone(ObjKind::Map, base_map) && gone(ObjKind::Map, mid_map));
}

/// The 2019 thread's scenario in one step: the firewall replaces the rootlet's placeholder and
/// calls the rootlet's exported parser. The replacement is an extension, so the parser's code
/// is imported into it, sharing the rootlet's map.
#[test]
fn a_replacement_calling_its_targets_parser_imports_it() {
    let _g = serial();
    let rootlet = load_plain("dyn_seed_rootlet", "seed_rootlet");
    let parsed = map_id(&rootlet, "seed_parsed");
    assert_eq!(verdict(&rootlet, "seed_rootlet", 0xff), XDP_PASS);
    assert_eq!(counter(parsed, 0), 1);
    let Some(firewall) = load_dependent("dyn_seed_firewall", "seed_firewall", "replacement calling its target") else { return };
    assert_eq!(verdict(&rootlet, "seed_rootlet", 0xff), XDP_DROP, "the firewall decides");
    assert_eq!(verdict(&rootlet, "seed_rootlet", 0x01), XDP_PASS);
    assert_eq!(counter(parsed, 0), 5, "two packets, each parsed by the rootlet and by the firewall's imported copy");
    let kinds: Vec<(EdgeKind, Mechanism)> = firewall.dynamic_edges().iter().map(|e| (e.edge.kind, e.edge.mechanism)).collect();
    assert!(kinds.contains(&(EdgeKind::Replace, Mechanism::Freplace)) && kinds.contains(&(EdgeKind::Call, Mechanism::Import)), "{kinds:?}");
    let import = firewall.dynamic_edges().iter().find(|e| e.edge.mechanism == Mechanism::Import).unwrap();
    assert!(import.link.is_none() && import.edge.to == "seed_rootlet" && import.edge.function == "seed_parse");
    drop(firewall);
    assert_eq!(verdict(&rootlet, "seed_rootlet", 0xff), XDP_PASS, "closing the firewall restores the placeholder");
}

/// An object with its own SEC() program and a strong definition of a loaded placeholder: the
/// load adds an extension program for the replacement; the object's programs are unchanged.
#[test]
fn an_object_with_programs_can_also_replace_a_placeholder() {
    let _g = serial();
    let rootlet = load_plain("dyn_rootlet", "dyn_rootlet");
    assert_eq!(verdict(&rootlet, "dyn_rootlet", 0), XDP_PASS);
    let Some(fw) = load_dependent("dyn_fw_with_prog", "fw_with_prog", "object with programs replacing") else { return };
    assert_eq!(verdict(&rootlet, "dyn_rootlet", 0), XDP_DROP, "the placeholder is replaced");
    assert_eq!(verdict(&rootlet, "dyn_rootlet2", 0), XDP_DROP);
    assert_eq!(verdict(&fw, "fw_own_prog", 0), XDP_TX, "the object's own program calls its own definition");
    assert_eq!(fw.programs().len(), 1, "the extension is not one of the object's programs");
    assert_eq!(fw.dynamic_edges().len(), 2);
    drop(fw);
    assert_eq!(verdict(&rootlet, "dyn_rootlet", 0), XDP_PASS);
}

/// The registry is empty when every object is closed (no test above leaks an entry).
#[test]
fn the_registry_forgets_closed_objects() {
    let _g = serial();
    let library = load_plain("dyn_classifier", "classifier");
    assert!(dynamic::snapshot().objects.iter().any(|o| o.name == "classifier"));
    drop(library);
    let graph = dynamic::snapshot();
    assert!(graph.objects.is_empty() && graph.edges.is_empty(), "{graph:?}");
}

/// A library's CO-RE relocations are applied to the code its callers run.
#[test]
fn a_library_function_is_co_re_relocated_for_its_callers() {
    let _g = serial();
    let vmlinux = bpflink::loader::core::kernel_btf().expect("vmlinux BTF");
    let task = vmlinux.find_by_name_kind("task_struct", bpflink::btf::Kind::Struct).expect("task_struct");
    let bpflink::btf::TypeKind::Struct { members, .. } = &vmlinux.type_by_id(task).unwrap().kind else { panic!("not a struct") };
    let pid = members.iter().find(|m| vmlinux.string_at(m.name_off).ok() == Some("pid")).expect("task_struct.pid");
    let expected = pid.bit_offset / 8;
    assert_ne!(expected, 0, "the local definition's offset must differ from the kernel's for this test to mean anything");
    let _library = load_plain("dyn_core_lib", "core_lib");
    let Some(caller) = load_dependent("dyn_core_caller", "core_caller", "CO-RE library") else { return };
    assert_eq!(verdict(&caller, "dyn_core_caller", 0), expected, "the relocated offset of task_struct.pid");
}

/// A call the verifier proves unreachable (6.8+ drops the stub) loads and links nothing; on
/// older kernels the stub stays and the library's function is linked into it.
#[test]
fn an_unreachable_call_loads_without_a_link() {
    let _g = serial();
    let _library = load_plain("dyn_classifier", "classifier");
    let Some(caller) = load_dependent("dyn_caller_gated", "gated_caller", "unreachable call") else { return };
    assert_eq!(verdict(&caller, "dyn_caller_gated", 0xff), XDP_PASS);
    let drops_dead_globals = bpflink::sys::kernel_version().is_some_and(|v| v >= (6, 8));
    let links = caller.dynamic_edges().iter().filter(|e| e.link.is_some()).count();
    assert_eq!(links, if drops_dead_globals { 0 } else { 1 }, "kernel {}", bpflink::sys::kernel_release());
}
