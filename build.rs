//! Generates Rust bindings for the kernel UAPI headers installed on the build machine and
//! compiles the tiny C shim that forwards `va_list` to libbpf-style print callbacks.
use std::{env, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src/sys/uapi_wrapper.h");
    println!("cargo:rerun-if-changed=src/capi/print_shim.c");

    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR set by cargo"));
    bindgen::Builder::default()
        .header("src/sys/uapi_wrapper.h")
        .allowlist_type("bpf_.*|btf_.*|sk_action|xdp_action|__sk_buff|xdp_md")
        .allowlist_var("BPF_.*|BTF_.*|XDP_.*")
        // Named enums become modules (`bpf_prog_type::BPF_PROG_TYPE_XDP`); anonymous ones
        // (`BPF_ANY`, `BTF_KIND_INT`, ...) stay plain constants.
        .constified_enum_module("bpf_.*|btf_.*|sk_action|xdp_action")
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .generate()
        .expect("bindgen over <linux/bpf.h> and <linux/btf.h> failed (is linux-libc-dev installed?)")
        .write_to_file(out.join("uapi.rs"))
        .expect("writing uapi.rs");

    cc::Build::new().file("src/capi/print_shim.c").warnings(true).compile("bpflink_print_shim");
}
