//! What a loaded object offers to objects loaded after it: its code and the kernel ids of what
//! that code uses. Plain data: an image of an object of this process keeps no kernel object
//! alive (the registry may hold it without creating a dependency); whoever links against it
//! reopens the maps and BTF by id and holds them ([`crate::loader`] keeps them in the
//! dependent object). An image of an object exported by another process (found through the
//! library path) holds the fds it opened: only its dependents hold such an image.
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use crate::btf::{Btf, BtfExt};
use crate::loader::ExternValue;
use crate::object::{Insn, MapOrigin, ObjectSpec};

/// A map of a loaded object, by kernel id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageMap {
    /// libbpf's name (relocations against BTF-defined maps use it).
    pub name: String,
    /// The ELF-level name: the section name for global data.
    pub real_name: String,
    pub origin: MapOrigin,
    pub id: u32,
}

/// A loaded object's code as other objects link against it.
#[derive(Debug)]
pub struct ProviderImage {
    /// The registry token of the object (never 0).
    pub token: u64,
    /// The object's name.
    pub object: String,
    pub spec: Arc<ObjectSpec>,
    /// Code sections after CO-RE relocation against the running kernel, by section index.
    pub code: Arc<HashMap<u32, Vec<Insn>>>,
    /// The object's BTF as parsed (for prototypes) and its `.BTF.ext` (func/line info).
    pub btf: Arc<Btf>,
    pub btf_ext: Option<Arc<BtfExt>>,
    /// Kernel id of the BTF the object loaded (fixed up; its type ids equal `btf`'s).
    pub btf_id: u32,
    pub maps: Vec<ImageMap>,
    /// Values of the object's kernel externs (`.kconfig` offsets, `.ksyms` ids/addresses).
    pub externs: HashMap<String, ExternValue>,
    /// The providers the object's own extern functions were bound to when it loaded.
    pub deps: Vec<(String, Arc<ProviderImage>)>,
    /// For an object exported by another process: the fds this process opened for it (its
    /// BTF as loaded here, its pinned maps). Empty for objects of this process.
    pub keepalive: Vec<OwnedFd>,
}

impl ProviderImage {
    /// Whether the object defines a strong global function `name` others may call.
    pub fn exports(&self, name: &str) -> bool {
        self.spec.exports.iter().any(|e| e == name)
    }

    /// The provider bound to the object's extern function `name`.
    pub fn dependency(&self, name: &str) -> Option<&Arc<ProviderImage>> {
        self.deps.iter().find(|(n, _)| n == name).map(|(_, image)| image)
    }
}
