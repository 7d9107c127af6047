//! Names the C header must spell exactly as libbpf's headers do.
//!
//! These aliases are excluded from cbindgen's output and renamed (see `cbindgen.toml`), so a
//! Rust parameter of type `bpf_prog_type` appears as `enum bpf_prog_type` in `bpflink.h`,
//! `__u64` stays `__u64` (libbpf uses it in pointers, where `uint64_t` would be a different
//! type), and kernel structs keep their `struct` tag. The definitions come from
//! `<linux/bpf.h>`, which `bpflink.h` includes. Add a kernel type here and to
//! `[export.rename]` before using it in an entry point.
#![allow(non_camel_case_types)]
use std::ffi::{c_int, c_uint};

pub type __u8 = u8;
pub type __u16 = u16;
pub type __u32 = u32;
pub type __u64 = u64;
pub type __s32 = i32;
pub type __s64 = i64;

// Kernel enums (`enum bpf_prog_type` etc.) are `unsigned int` in the C ABI. Rust takes them
// as plain integers: a C caller may pass any value, which a Rust enum could not hold.
pub type bpf_prog_type = c_uint;
pub type bpf_attach_type = c_uint;
pub type bpf_map_type = c_uint;
pub type bpf_link_type = c_uint;
pub type bpf_stats_type = c_uint;
pub type btf_func_linkage = c_uint;

// libbpf's own enums, declared in the header's preamble.
pub type libbpf_strict_mode = c_uint;
pub type libbpf_print_level = c_int;
pub type libbpf_pin_type = c_uint;

// Kernel structs, used behind pointers only.
pub use crate::sys::uapi::{
    bpf_btf_info, bpf_insn, bpf_link_info, bpf_map_info, bpf_prog_info, btf_type,
};
