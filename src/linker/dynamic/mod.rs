//! Dynamic linking: the process-wide registry of loaded objects the loader resolves against.
//!
//! Resolution works like a C dynamic linker with the objects this process loaded as its
//! libraries: when an object is loaded, each strong global function it defines whose name is
//! a weak placeholder of an already loaded object replaces that placeholder (freplace), in
//! every loaded program containing it. The loader ([`crate::loader`]) does the kernel work; this
//! module only remembers what is loaded.
//!
//! Dependencies are one-way, as in the kernel: an extension's links hold its targets alive;
//! targets don't track their extensions. So the registry stores kernel **prog ids**, never fds:
//! it keeps nothing alive, and a target is reopened by id only while resolving. An object is
//! registered when its load succeeds and unregistered when it is dropped; the edges it made are
//! forgotten with it (its links close with it, restoring the placeholders).
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A weak placeholder of a loaded object: its name and the kernel ids of the loaded programs
/// that contain it (a subprogram is linked into every entry program calling it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    pub prog_ids: Vec<u32>,
}

/// One loaded object as the registry sees it.
#[derive(Debug, Clone)]
pub struct LoadedObject {
    /// Identifies the loaded [`crate::loader::Object`] (names need not be unique).
    pub token: u64,
    pub name: String,
    pub placeholders: Vec<Placeholder>,
    /// Strong global functions the object defines.
    pub exports: Vec<String>,
}

/// How an edge was realised in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// The provider's function loaded once as an EXT program and linked with
    /// `BPF_LINK_CREATE` into the target's placeholder.
    Freplace,
}

/// A placeholder of a loaded program replaced by another object's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Token and name of the object whose definition replaced the placeholder (owns the link).
    pub provider_token: u64,
    pub provider: String,
    /// The object, program id and function replaced.
    pub target: String,
    pub target_prog_id: u32,
    pub function: String,
    pub ext_prog_id: u32,
    pub link_id: u32,
    pub mechanism: Mechanism,
}

#[derive(Default)]
struct Registry {
    /// Oldest first; searched newest first.
    objects: Vec<LoadedObject>,
    edges: Vec<Edge>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { objects: Vec::new(), edges: Vec::new() });
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A fresh token for an object (never 0, never reused).
pub fn new_token() -> u64 {
    NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)
}

/// Records a loaded object (replacing an earlier record with the same token).
pub fn register(object: LoadedObject) {
    let mut reg = REGISTRY.lock();
    reg.objects.retain(|o| o.token != object.token);
    reg.objects.push(object);
}

/// Forgets the object and the edges it provided (its links are closing with it); edges into
/// its programs stay listed while their providers live, since those links keep the programs.
pub fn unregister(token: u64) {
    let mut reg = REGISTRY.lock();
    reg.objects.retain(|o| o.token != token);
    reg.edges.retain(|e| e.provider_token != token);
}

/// The newest loaded object (other than `except`) with a placeholder named `name`: its name
/// and the placeholder's programs.
pub fn find_placeholder(name: &str, except: u64) -> Option<(String, Placeholder)> {
    let reg = REGISTRY.lock();
    reg.objects.iter().rev().filter(|o| o.token != except).find_map(|o| {
        o.placeholders.iter().find(|p| p.name == name && !p.prog_ids.is_empty()).map(|p| (o.name.clone(), p.clone()))
    })
}

pub fn record_edge(edge: Edge) {
    REGISTRY.lock().edges.push(edge);
}

/// The provider that currently replaces `function` in program `prog_id`, if this process
/// made that edge.
pub fn current_owner(prog_id: u32, function: &str) -> Option<Edge> {
    REGISTRY.lock().edges.iter().find(|e| e.target_prog_id == prog_id && e.function == function).cloned()
}

/// Snapshot of the registered objects (oldest first) and edges, for introspection.
pub fn snapshot() -> (Vec<LoadedObject>, Vec<Edge>) {
    let reg = REGISTRY.lock();
    (reg.objects.clone(), reg.edges.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(token: u64, name: &str, placeholder: &str, ids: Vec<u32>) -> LoadedObject {
        LoadedObject {
            token,
            name: name.into(),
            placeholders: vec![Placeholder { name: placeholder.into(), prog_ids: ids }],
            exports: vec![],
        }
    }

    #[test]
    fn newest_object_wins_and_unregister_forgets_edges() {
        let (a, b) = (new_token(), new_token());
        register(object(a, "old", "reg_test_ph", vec![1]));
        register(object(b, "new", "reg_test_ph", vec![2]));
        assert_eq!(find_placeholder("reg_test_ph", 0).map(|(n, p)| (n, p.prog_ids)), Some(("new".into(), vec![2])));
        assert_eq!(find_placeholder("reg_test_ph", b).map(|(n, _)| n), Some("old".into()));
        let c = new_token();
        record_edge(Edge {
            provider_token: c,
            provider: "fw".into(),
            target: "new".into(),
            target_prog_id: 2,
            function: "reg_test_ph".into(),
            ext_prog_id: 9,
            link_id: 7,
            mechanism: Mechanism::Freplace,
        });
        assert_eq!(current_owner(2, "reg_test_ph").map(|e| e.provider), Some("fw".into()));
        unregister(c);
        assert_eq!(current_owner(2, "reg_test_ph"), None);
        unregister(b);
        unregister(a);
        assert_eq!(find_placeholder("reg_test_ph", 0), None);
    }

    #[test]
    fn placeholders_in_no_program_are_not_candidates() {
        let a = new_token();
        register(object(a, "dead", "reg_test_dead", vec![]));
        assert_eq!(find_placeholder("reg_test_dead", 0), None);
        unregister(a);
    }
}
