//! Dynamic linking: the process-wide registry of loaded objects the loader resolves against.
//!
//! Resolution works like a C dynamic linker with the objects this process loaded as its
//! libraries (newest first): when an object is loaded,
//! - each strong global function it defines whose name is a weak placeholder of an already
//!   loaded object replaces that placeholder (freplace), in every loaded program containing it;
//! - each extern function it calls is bound to the newest loaded object exporting a strong
//!   global function of that name, whose code then runs for the call (see [`Mechanism`]).
//!
//! The loader ([`crate::loader`]) does the kernel work; this module only remembers what is
//! loaded ([`LoadedObject`], with the [`ProviderImage`] other objects link against) and what
//! was linked ([`Edge`]).
//!
//! Dependencies are one-way, as in the kernel: an extension's links hold its targets alive, a
//! caller holds what it calls; targets and providers don't track their dependents. So the
//! registry stores kernel **ids** and plain data, never fds: it keeps nothing alive, and a
//! kernel object is reopened by id only while linking. An object is registered when its load
//! succeeds and unregistered when it is dropped; the edges it owns go with it (its links close
//! with it, restoring the placeholders and stubs).
mod image;

pub use image::{ImageMap, ProviderImage};

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

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
    /// What other objects link against (None when the object exports nothing).
    pub image: Option<Arc<ProviderImage>>,
    /// Kernel ids of the object's loaded programs (for introspection).
    pub prog_ids: Vec<u32>,
}

/// What an edge does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A strong definition replaces a weak placeholder of a loaded program.
    Replace,
    /// A program calls a function of a loaded object.
    Call,
}

/// How an edge was realised in the kernel (no kernel lets a program call into another).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// The definition loaded once as an EXT program and linked with `BPF_LINK_CREATE` into
    /// the placeholder of each target program.
    Freplace,
    /// The caller got a global stub with the extern's prototype; the provider's function,
    /// loaded once per program type as an EXT program, is linked into every caller's stub.
    Stub,
    /// The caller is itself an extension (the kernel refuses an extension of an extension):
    /// the provider's code was copied into it, sharing the provider's maps by fd.
    Import,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Replace => "replace",
            EdgeKind::Call => "call",
        }
    }
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Freplace => "freplace",
            Mechanism::Stub => "stub+freplace",
            Mechanism::Import => "import",
        }
    }
}

/// One dependency: `from` depends on `to`. `from` owns the link (if any), and the edge goes
/// when `from` is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub kind: EdgeKind,
    pub mechanism: Mechanism,
    /// The function replaced or called.
    pub function: String,
    /// The dependent object: the replacing one, or the caller.
    pub from_token: u64,
    pub from: String,
    /// The object depended upon: the one whose placeholder is replaced, or the provider.
    pub to_token: u64,
    pub to: String,
    /// Kernel ids: the EXT program running the function, the program it is linked into (the
    /// placeholder's or the caller's), and the link; an import has no link (0) and its
    /// `ext_prog_id` is the caller's own (extension) program.
    pub ext_prog_id: u32,
    pub target_prog_id: u32,
    pub link_id: u32,
}

/// A provider's function loaded as an EXT program for callers of one program type: shared by
/// every caller of that type while it lives (its links keep it alive).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SharedExt {
    provider_token: u64,
    function: String,
    prog_type: u32,
    attach_type: u32,
    prog_id: u32,
}

#[derive(Default)]
struct Registry {
    /// Oldest first; searched newest first.
    objects: Vec<LoadedObject>,
    edges: Vec<Edge>,
    shared_exts: Vec<SharedExt>,
    /// Images of objects other processes exported, by export path and kernel id of their ELF
    /// map; weak, so an image lives only while objects linked against it do.
    imported: Vec<(PathBuf, u32, Weak<ProviderImage>)>,
    /// Set by [`set_library_path`]; otherwise the environment decides.
    library_path: Option<Vec<PathBuf>>,
}

static REGISTRY: Mutex<Registry> =
    Mutex::new(Registry { objects: Vec::new(), edges: Vec::new(), shared_exts: Vec::new(), imported: Vec::new(), library_path: None });

/// Where `bpflink export` puts exports unless told otherwise.
pub const DEFAULT_EXPORT_DIR: &str = "/sys/fs/bpf/bpflink";

/// The environment variable naming bpffs directories searched, after the objects of this
/// process, for objects other processes exported (colon-separated, like `LD_LIBRARY_PATH`).
pub const LIBRARY_PATH_ENV: &str = "BPFLINK_LIBRARY_PATH";

/// Sets the directories searched for exported objects (None: back to [`LIBRARY_PATH_ENV`]).
pub fn set_library_path(dirs: Option<Vec<PathBuf>>) {
    REGISTRY.lock().library_path = dirs;
}

/// The directories searched for exported objects, in order.
pub fn library_path() -> Vec<PathBuf> {
    if let Some(dirs) = REGISTRY.lock().library_path.clone() {
        return dirs;
    }
    std::env::var_os(LIBRARY_PATH_ENV)
        .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
        .unwrap_or_default()
}

/// The image of the exported object at `path` whose ELF map has kernel id `elf_map_id`, if
/// some object of this process still links against it.
pub fn imported_image(path: &std::path::Path, elf_map_id: u32) -> Option<Arc<ProviderImage>> {
    let mut reg = REGISTRY.lock();
    reg.imported.retain(|(_, _, weak)| weak.strong_count() > 0);
    reg.imported.iter().find(|(p, id, _)| p == path && *id == elf_map_id).and_then(|(_, _, weak)| weak.upgrade())
}

/// Remembers the image of an exported object (weakly) so dependents loaded later share it.
pub fn remember_imported(path: PathBuf, elf_map_id: u32, image: &Arc<ProviderImage>) {
    let mut reg = REGISTRY.lock();
    reg.imported.retain(|(_, _, weak)| weak.strong_count() > 0);
    reg.imported.push((path, elf_map_id, Arc::downgrade(image)));
}
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

/// Forgets the object, the edges it owns (its links are closing with it) and the EXT programs
/// of its functions offered for sharing (new callers can't bind to it any more); edges into it
/// stay listed while their owners live, since those keep what they use alive.
pub fn unregister(token: u64) {
    let mut reg = REGISTRY.lock();
    reg.objects.retain(|o| o.token != token);
    reg.edges.retain(|e| e.from_token != token);
    reg.shared_exts.retain(|x| x.provider_token != token);
}

/// Names of the registered objects other than `except`, newest first (for error messages).
pub fn object_names(except: u64) -> Vec<String> {
    REGISTRY.lock().objects.iter().rev().filter(|o| o.token != except).map(|o| o.name.clone()).collect()
}

/// The newest loaded object (other than `except`) with a placeholder named `name`: its name,
/// token and the placeholder's programs.
pub fn find_placeholder(name: &str, except: u64) -> Option<(String, u64, Placeholder)> {
    let reg = REGISTRY.lock();
    reg.objects.iter().rev().filter(|o| o.token != except).find_map(|o| {
        o.placeholders
            .iter()
            .find(|p| p.name == name && !p.prog_ids.is_empty())
            .map(|p| (o.name.clone(), o.token, p.clone()))
    })
}

/// The newest loaded object (other than `except`) exporting a strong global function `name`.
pub fn find_provider(name: &str, except: u64) -> Option<Arc<ProviderImage>> {
    let reg = REGISTRY.lock();
    reg.objects.iter().rev().filter(|o| o.token != except).find_map(|o| o.image.as_ref().filter(|i| i.exports(name)).cloned())
}

pub fn record_edge(edge: Edge) {
    REGISTRY.lock().edges.push(edge);
}

/// The replacement currently linked into `function` of program `prog_id`, if this process
/// made it.
pub fn current_owner(prog_id: u32, function: &str) -> Option<Edge> {
    REGISTRY
        .lock()
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::Replace && e.target_prog_id == prog_id && e.function == function)
        .cloned()
}

/// The id of the EXT program of `provider`'s `function` loaded for callers of this program
/// type, if one was offered for sharing (it may have been freed since: reopen by id).
pub fn shared_ext(provider: u64, function: &str, prog_type: u32, attach_type: u32) -> Option<u32> {
    REGISTRY
        .lock()
        .shared_exts
        .iter()
        .rev()
        .find(|x| x.provider_token == provider && x.function == function && x.prog_type == prog_type && x.attach_type == attach_type)
        .map(|x| x.prog_id)
}

/// Offers an EXT program of `provider`'s `function` to later callers of the same program type,
/// if `provider` is still registered.
pub fn offer_shared_ext(provider: u64, function: &str, prog_type: u32, attach_type: u32, prog_id: u32) {
    let mut reg = REGISTRY.lock();
    let live = reg.objects.iter().any(|o| o.token == provider)
        || reg.imported.iter().any(|(_, _, weak)| weak.upgrade().is_some_and(|i| i.token == provider));
    if !live {
        return;
    }
    // Entries of imported images that are gone can't be found again: drop them.
    let tokens: Vec<u64> = reg
        .objects
        .iter()
        .map(|o| o.token)
        .chain(reg.imported.iter().filter_map(|(_, _, weak)| weak.upgrade().map(|i| i.token)))
        .collect();
    reg.shared_exts.retain(|x| tokens.contains(&x.provider_token));
    reg.shared_exts.retain(|x| !(x.provider_token == provider && x.function == function && x.prog_type == prog_type && x.attach_type == attach_type));
    reg.shared_exts.push(SharedExt { provider_token: provider, function: function.to_string(), prog_type, attach_type, prog_id });
}

/// The registered objects (oldest first) and edges, for introspection.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub objects: Vec<LoadedObject>,
    pub edges: Vec<Edge>,
}

/// Snapshot of the registered objects and edges, for introspection.
pub fn snapshot() -> Graph {
    let reg = REGISTRY.lock();
    Graph { objects: reg.objects.clone(), edges: reg.edges.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(token: u64, name: &str, placeholder: &str, ids: Vec<u32>) -> LoadedObject {
        LoadedObject {
            token,
            name: name.into(),
            placeholders: vec![Placeholder { name: placeholder.into(), prog_ids: ids.clone() }],
            exports: vec![],
            image: None,
            prog_ids: ids,
        }
    }

    #[test]
    fn newest_object_wins_and_unregister_forgets_edges() {
        let (a, b) = (new_token(), new_token());
        register(object(a, "old", "reg_test_ph", vec![1]));
        register(object(b, "new", "reg_test_ph", vec![2]));
        assert_eq!(find_placeholder("reg_test_ph", 0).map(|(n, _, p)| (n, p.prog_ids)), Some(("new".into(), vec![2])));
        assert_eq!(find_placeholder("reg_test_ph", b).map(|(n, _, _)| n), Some("old".into()));
        let c = new_token();
        register(object(c, "fw", "unrelated", vec![]));
        record_edge(Edge {
            kind: EdgeKind::Replace,
            mechanism: Mechanism::Freplace,
            function: "reg_test_ph".into(),
            from_token: c,
            from: "fw".into(),
            to_token: b,
            to: "new".into(),
            ext_prog_id: 9,
            target_prog_id: 2,
            link_id: 7,
        });
        offer_shared_ext(c, "f", 6, 0, 11);
        assert_eq!(shared_ext(c, "f", 6, 0), Some(11));
        assert_eq!(shared_ext(c, "f", 3, 0), None, "shared per program type");
        assert_eq!(current_owner(2, "reg_test_ph").map(|e| e.from), Some("fw".into()));
        unregister(c);
        assert_eq!(current_owner(2, "reg_test_ph"), None);
        assert_eq!(shared_ext(c, "f", 6, 0), None, "an unregistered provider offers nothing");
        offer_shared_ext(c, "f", 6, 0, 12);
        assert_eq!(shared_ext(c, "f", 6, 0), None, "nor can it offer after it is gone");
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
