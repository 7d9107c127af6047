//! Kernel interface: UAPI bindings and `bpf(2)` wrappers.
pub mod uapi;
