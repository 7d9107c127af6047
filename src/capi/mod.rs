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
//! Handle safety ([`handles`]): every `bpf_object`, `bpf_program`, `bpf_map` and `btf` pointer
//! is looked up in a process-wide registry of live handles before it is dereferenced. A closed
//! object, a handle of a closed object, a freed BTF, or any pointer this library never handed
//! out is refused with libbpf's convention for invalid arguments (`EINVAL`: NULL, `-EINVAL`, or
//! 0 / false for getters that cannot report errors; errno set) and a sentence such as
//! `bpf_object__load: 0x... is not a live bpf_object (closed or never opened)` through the
//! print callback. `bpf_object__close` and `btf__free` of such a pointer log and return without
//! touching memory (so double close is harmless); `btf__free` also refuses the BTF an object
//! owns (`bpf_object__btf`); NULL stays a silent no-op. Limits: an address freed and then reused
//! by a new object of the same kind is indistinguishable from the old handle, and the check is
//! not a lock: closing an object while another thread uses it is still the caller's bug.
//!
//! The symbols' version nodes (LIBBPF_x.y.z / BPFLINK_0.1) are assigned at link time by
//! `scripts/gen-version-script.py` from `scripts/libbpf-symbol-versions.txt`.
pub mod bpf;
pub mod bpflink_api;
pub mod btf;
pub mod dynlink;
pub mod errors;
pub mod guard;
pub mod handles;
pub mod libbpf;
pub mod link;
pub mod linker;
pub mod map;
pub mod object;
pub mod opts;
pub mod print;
pub mod program;
pub mod system;
pub mod types;
