//! The link graph as any process can see it: the objects exported under bpffs directories and
//! every extension link in the kernel (what `bpflink graph` prints). The registry of a process
//! knows its own objects exactly; this view is rebuilt from kernel ids, BTF and the exported
//! ELFs, so an edge's kind is inferred: a link into an exported object's weak placeholder is a
//! replacement, a link into a function the object declares `extern` is a call through a stub.
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use crate::btf::{Btf, Kind};
use crate::linker::dynamic::{Edge, EdgeKind, Graph, LoadedObject, Mechanism, Placeholder};
use crate::object::{ExternKind, ObjectSpec};
use crate::sys::{self, uapi, ObjKind};

use super::super::error::LoadError;
use super::export::{exported_spec, exports_in, pinned_ids};
use super::raw_kernel_func_ids;

/// One exported object with what the graph needs of it.
struct Export {
    object: LoadedObject,
    spec: ObjectSpec,
}

fn describe_export(path: &Path) -> Result<Export, LoadError> {
    let spec = exported_spec(path)?;
    let (prog_ids, _) = pinned_ids(path);
    let btf = spec.btf_data.as_deref().and_then(|d| Btf::parse(d).ok());
    let placeholders = spec
        .weak_placeholders
        .iter()
        .map(|name| {
            let func = btf.as_ref().and_then(|b| b.find_by_name_kind(name, Kind::Func));
            let holding = prog_ids
                .iter()
                .copied()
                .filter(|&id| {
                    let funcs = sys::prog_get_fd_by_id(id).ok().and_then(|fd| raw_kernel_func_ids(fd.as_fd()).ok());
                    matches!((func, funcs), (Some(f), Some(ids)) if ids.contains(&f))
                })
                .collect();
            Placeholder { name: name.clone(), prog_ids: holding }
        })
        .collect();
    let object = LoadedObject {
        token: 0,
        name: path.display().to_string(),
        placeholders,
        exports: spec.exports.clone(),
        image: None,
        prog_ids,
    };
    Ok(Export { object, spec })
}

/// Name of function `btf_id` in the BTF of loaded program `prog_id`.
fn function_of(prog_id: u32, btf_id: u32) -> Option<String> {
    let fd = sys::prog_get_fd_by_id(prog_id).ok()?;
    let info = sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(fd.as_fd()).ok()?;
    let btf_fd = sys::btf_get_fd_by_id(info.btf_id).ok()?;
    let btf = Btf::parse(&sys::btf_data(btf_fd.as_fd()).ok()?).ok()?;
    btf.type_name(btf_id).ok().map(str::to_string)
}

/// An extension link: (link id, EXT prog id, target prog id, target BTF FUNC id).
fn extension_links() -> Vec<(u32, u32, u32, u32)> {
    let ids = sys::all_ids(ObjKind::Link).unwrap_or_default();
    ids.into_iter()
        .filter_map(|id| {
            let fd = sys::link_get_fd_by_id(id).ok()?;
            let info = sys::obj_get_info_by_fd::<uapi::bpf_link_info>(fd.as_fd()).ok()?;
            if info.type_ != uapi::bpf_link_type::BPF_LINK_TYPE_TRACING {
                return None;
            }
            let prog = sys::prog_get_fd_by_id(info.prog_id).ok()?;
            let prog_info = sys::obj_get_info_by_fd::<uapi::bpf_prog_info>(prog.as_fd()).ok()?;
            if prog_info.type_ != uapi::bpf_prog_type::BPF_PROG_TYPE_EXT {
                return None;
            }
            // SAFETY: for a tracing link the kernel fills the `tracing` member of the union.
            let tracing = unsafe { info.__bindgen_anon_1.tracing };
            Some((info.id, info.prog_id, tracing.target_obj_id, tracing.target_btf_id))
        })
        .collect()
}

/// The graph of the exports in `dirs` and of every extension link in the kernel.
pub fn system_graph(dirs: &[PathBuf]) -> Graph {
    let exports: Vec<Export> = dirs.iter().flat_map(|d| exports_in(d)).filter_map(|p| describe_export(&p).ok()).collect();
    let owner = |prog_id: u32| exports.iter().find(|e| e.object.prog_ids.contains(&prog_id));
    let mut edges = Vec::new();
    for (link_id, ext_id, target_id, btf_id) in extension_links() {
        let function = function_of(target_id, btf_id).unwrap_or_else(|| format!("BTF id {btf_id}"));
        let target = owner(target_id);
        let target_name = target.map_or_else(|| format!("prog id {target_id}"), |e| e.object.name.clone());
        let ext_name = owner(ext_id).map(|e| e.object.name.clone());
        let called = target.is_some_and(|e| e.spec.externs.iter().any(|x| x.kind == ExternKind::Function && x.name == function));
        let (kind, mechanism, from, to) = if called {
            let provider = exports.iter().find(|e| e.spec.exports.contains(&function)).map(|e| e.object.name.clone());
            (EdgeKind::Call, Mechanism::Stub, target_name, provider.unwrap_or_else(|| format!("EXT prog id {ext_id}")))
        } else {
            // A weak placeholder, or any global function an explicit freplace program targets.
            (EdgeKind::Replace, Mechanism::Freplace, ext_name.unwrap_or_else(|| format!("EXT prog id {ext_id}")), target_name)
        };
        edges.push(Edge { kind, mechanism, function, from_token: 0, from, to_token: 0, to, ext_prog_id: ext_id, target_prog_id: target_id, link_id });
    }
    Graph { objects: exports.into_iter().map(|e| e.object).collect(), edges }
}
