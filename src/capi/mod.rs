//! The C ABI: libbpf-compatible functions plus bpflink's own `bpflink_*` API.
//!
//! This layer converts and delegates; it holds no BPF logic. Conventions for every entry point:
//! - `#[no_mangle] pub (unsafe) extern "C" fn`, body wrapped in [`guard::call`] (panic guard,
//!   libbpf error conventions: NULL + errno for pointers, -errno + errno for ints);
//! - arguments checked with the helpers in [`guard`] (`c_str`, `c_path`, `handle_ref`, ...);
//! - opts structs read with [`opts::read_opts`] (libbpf's `sz` rules);
//! - diagnostics through [`print::log`], which any module of the crate may call;
//! - C types spelled as libbpf spells them via [`types`] (see `cbindgen.toml`);
//! - opaque handles (`struct bpf_object`, ...) are Rust structs without `#[repr(C)]`, handed out
//!   as `Box::into_raw` pointers; one file per libbpf area (`object.rs`, `program.rs`, `map.rs`,
//!   `bpf.rs` for the bpf.h layer, `btf.rs`).
//!
//! The symbols' version nodes (LIBBPF_x.y.z / BPFLINK_0.1) are assigned at link time by
//! `scripts/gen-version-script.py` from `scripts/libbpf-symbol-versions.txt`.
pub mod bpflink_api;
pub mod errors;
pub mod guard;
pub mod libbpf;
pub mod opts;
pub mod print;
pub mod system;
pub mod types;
