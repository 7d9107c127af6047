//! bpflink: a libbpf-compatible BPF loader that adds static and dynamic linking of BPF programs.
//!
//! Layers, each in its own module (see ARCHITECTURE.md):
//! - [`btf`]: the BTF and `.BTF.ext` model, parser and writer (plain data).
//! - [`object`]: a BPF ELF relocatable object parsed into a plain, deterministic spec.
//! - [`sys`]: thin wrappers over the `bpf(2)` syscall and the kernel UAPI bindings.
//! - [`loader`]: open/load of objects into the kernel (passes over the spec, then syscalls).
//! - [`linker`]: the static linker (several objects into one) and the dynamic-linking registry.
//! - [`capi`]: the C ABI (libbpf-compatible plus `bpflink_*`), a thin panic-guarded layer.
//! - [`inspect`]: human and JSON reports of an object spec; [`graph`]: of a dynamic-linking graph.

pub mod btf;
pub mod capi;
pub mod graph;
pub mod inspect;
pub mod linker;
pub mod loader;
pub mod log;
pub mod object;
pub mod sys;
