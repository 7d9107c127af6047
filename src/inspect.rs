//! Human-readable and JSON reports of an [`ObjectSpec`](crate::object::ObjectSpec), shared by
//! the `bpflink inspect` command, the C ABI and the Python package.
use crate::object::ObjectSpec;

/// The report as indented text.
pub fn to_text(_spec: &ObjectSpec) -> String {
    todo!("inspect text")
}

/// The report as a JSON value (stable field names, documented in ARCHITECTURE.md).
pub fn to_json(_spec: &ObjectSpec) -> serde_json::Value {
    todo!("inspect json")
}
