//! Text and JSON reports of a dynamic-linking graph ([`crate::linker::dynamic::Graph`]): the
//! objects, and the edges between them with their mechanism and kernel ids. The CLI
//! (`bpflink graph`), the C API (`bpflink_graph_json`) and Python share them.
use std::fmt::Write;

use serde_json::{json, Value};

use crate::linker::dynamic::{Edge, Graph, LoadedObject};

fn ids(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn object_json(o: &LoadedObject) -> Value {
    json!({
        "name": o.name,
        "prog_ids": o.prog_ids,
        "exports": o.exports,
        "placeholders": o.placeholders.iter().map(|p| json!({ "name": p.name, "prog_ids": p.prog_ids })).collect::<Vec<_>>(),
    })
}

fn edge_json(e: &Edge) -> Value {
    json!({
        "kind": e.kind.as_str(),
        "mechanism": e.mechanism.as_str(),
        "function": e.function,
        "from": e.from,
        "to": e.to,
        "ext_prog_id": e.ext_prog_id,
        "target_prog_id": e.target_prog_id,
        "link_id": e.link_id,
    })
}

/// `{"objects": [...], "edges": [...]}`.
pub fn to_json(graph: &Graph) -> Value {
    json!({
        "objects": graph.objects.iter().map(object_json).collect::<Vec<_>>(),
        "edges": graph.edges.iter().map(edge_json).collect::<Vec<_>>(),
    })
}

/// One edge as a line: `from --kind f--> to  [mechanism; ext prog, target prog, link]`.
fn edge_line(e: &Edge) -> String {
    let mut ids_text = Vec::new();
    if e.ext_prog_id != 0 {
        ids_text.push(format!("EXT prog {}", e.ext_prog_id));
    }
    if e.target_prog_id != 0 {
        ids_text.push(format!("into prog {}", e.target_prog_id));
    }
    if e.link_id != 0 {
        ids_text.push(format!("link {}", e.link_id));
    }
    if ids_text.is_empty() {
        ids_text.push("bound; realised when its functions are loaded".into());
    }
    format!("  {} --{} {}()--> {}   [{}; {}]", e.from, e.kind.as_str(), e.function, e.to, e.mechanism.as_str(), ids_text.join(", "))
}

/// A human report: one block per object, then one line per edge.
pub fn to_text(graph: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "objects:");
    if graph.objects.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for o in &graph.objects {
        let _ = writeln!(out, "  {}: programs [{}]", o.name, ids(&o.prog_ids));
        if !o.exports.is_empty() {
            let _ = writeln!(out, "    exports: {}", o.exports.join(", "));
        }
        for p in &o.placeholders {
            let _ = writeln!(out, "    weak placeholder {}: in programs [{}]", p.name, ids(&p.prog_ids));
        }
    }
    let _ = writeln!(out, "edges (from depends on to):");
    if graph.edges.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for e in &graph.edges {
        let _ = writeln!(out, "{}", edge_line(e));
    }
    out
}
