//! The fuzz targets' bodies, shared with the regression test `tests/fuzz_regressions.rs`
//! (which includes this file as a module and replays every kept crashing input).
//!
//! Besides "no panic, no memory error" (libFuzzer with AddressSanitizer), each target checks
//! invariants that hold for any input:
//! - `object_open`: the object model, `Object::open_mem`, `Object::open_file` and the C API's
//!   `bpf_object__open_mem` agree on accepting the bytes; a refusal through C follows libbpf's
//!   convention (NULL, errno set, a message logged) and is never an internal error;
//! - `btf`: accepted BTF writes back to bytes that parse again and write back identically;
//!   every type can be described and sized; deduplication of it gives BTF that parses;
//! - `btf_ext`: accepted `.BTF.ext` writes back to bytes that parse again identically;
//! - `linker`: a link of accepted inputs yields an object the object model opens.
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;

use bpflink::btf::{dedup, Btf, BtfExt};
use bpflink::capi;
use bpflink::linker::Linker;
use bpflink::loader::{Object, OpenOptions};
use bpflink::object::ObjectSpec;

/// Most inputs a link target combines.
const MAX_LINK_INPUTS: usize = 4;

/// Splits `data` into at most `max` chunks, each a little-endian `u32` length followed by
/// that many bytes (a length past the end takes the rest). The seed files are written in this
/// format by `scripts/fuzz-seeds.py`.
pub fn chunks(mut data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while out.len() < max && data.len() >= 4 {
        let len = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let rest = &data[4..];
        let (chunk, tail) = rest.split_at(len.min(rest.len()));
        out.push(chunk);
        data = tail;
    }
    out
}

/// Object open through every entry point; see the module documentation.
pub fn object_open(data: &[u8]) {
    if let Ok(spec) = ObjectSpec::from_bytes(data, "fuzz") {
        let _ = bpflink::inspect::to_text(&spec);
        let _ = bpflink::inspect::to_json(&spec);
    }
    let opts = OpenOptions { object_name: Some("fuzz".into()), ..Default::default() };
    let from_mem = Object::open_mem(data, &opts).map(|obj| walk(&obj));
    let from_file = with_temp_file(data, |path| Object::open_file(path, &opts).map(|obj| walk(&obj)));
    let verdict = |r: &Result<usize, bpflink::loader::LoadError>| r.as_ref().map(|n| *n).map_err(|e| e.to_string());
    assert_eq!(verdict(&from_mem), verdict(&from_file), "open_mem and open_file disagree");
    let c_accepts = open_through_c(data);
    assert_eq!(c_accepts, from_mem.is_ok(), "the C API and Object::open_mem disagree");
}

/// Touches everything an opened object exposes (names, instructions, data map memory);
/// returns a count so the result can be compared between entry points.
fn walk(obj: &Object) -> usize {
    let mut n = 0;
    for p in obj.programs() {
        n += p.name().len() + p.insns().len();
    }
    for m in obj.maps() {
        n += m.name().len() + m.value_size() as usize;
        // The first and last byte: a .bss may be hundreds of MiB of untouched memory.
        if let Some(bytes) = m.initial_value_bytes() {
            n += usize::from(bytes.first().copied().unwrap_or(0)) + usize::from(bytes.last().copied().unwrap_or(0));
        }
    }
    n
}

thread_local! {
    static C_MESSAGES: Cell<usize> = const { Cell::new(0) };
}

/// A print callback that only counts messages (the `va_list` argument is not read).
unsafe extern "C" fn count_message(_level: c_int, _format: *const c_char, _args: *mut c_void) -> c_int {
    C_MESSAGES.with(|c| c.set(c.get() + 1));
    0
}

/// `bpf_object__open_mem`, then a walk over programs and maps and `bpf_object__close`.
/// Returns whether the object was accepted.
fn open_through_c(data: &[u8]) -> bool {
    let counter: unsafe extern "C" fn(c_int, *const c_char, *mut c_void) -> c_int = count_message;
    // SAFETY: the C shim calls the callback with libbpf's print signature, which this function
    // has (the va_list travels as a pointer on the supported ABIs and is never read).
    let print: capi::print::RawPrintFn = unsafe { std::mem::transmute(counter) };
    capi::libbpf::libbpf_set_print(Some(print));
    if data.is_empty() {
        return false;
    }
    C_MESSAGES.with(|c| c.set(0));
    // SAFETY: `data` is valid for its length; NULL opts are allowed.
    let obj = unsafe { capi::object::bpf_object__open_mem(data.as_ptr().cast(), data.len(), std::ptr::null()) };
    if obj.is_null() {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        assert!(errno > 0, "bpf_object__open_mem returned NULL without setting errno");
        assert_ne!(errno, capi::guard::LIBBPF_ERRNO_INTERNAL, "bpf_object__open_mem hit an internal error (a caught panic)");
        assert!(C_MESSAGES.with(Cell::get) > 0, "bpf_object__open_mem failed without a message");
        return false;
    }
    // SAFETY: `obj` is a live object handle; program and map handles come from it.
    unsafe {
        let mut prog = capi::object::bpf_object__next_program(obj, std::ptr::null_mut());
        while !prog.is_null() {
            assert!(!capi::program::bpf_program__name(prog).is_null());
            let _ = capi::program::bpf_program__insn_cnt(prog);
            prog = capi::object::bpf_object__next_program(obj, prog);
        }
        let mut map = capi::object::bpf_object__next_map(obj, std::ptr::null());
        while !map.is_null() {
            assert!(!capi::map::bpf_map__name(map).is_null());
            let mut size = 0usize;
            let _ = capi::map::bpf_map__initial_value(map, &mut size);
            map = capi::object::bpf_object__next_map(obj, map);
        }
        capi::object::bpf_object__close(obj);
    }
    true
}

/// Runs `f` on a file holding `data` (one file per thread, rewritten each time).
fn with_temp_file<R>(data: &[u8], f: impl FnOnce(&std::path::Path) -> R) -> R {
    thread_local! {
        static PATH: PathBuf = std::env::temp_dir().join(format!(
            "bpflink-fuzz-{}-{:?}.o",
            std::process::id(),
            std::thread::current().id()
        ));
    }
    PATH.with(|path| {
        std::fs::write(path, data).expect("writing the temporary object file");
        f(path)
    })
}

/// Raw `.BTF` parsing, writing, lookups and deduplication; see the module documentation.
pub fn btf(data: &[u8]) {
    let Ok(btf) = Btf::parse(data) else { return };
    let bytes = btf.to_bytes();
    let again = Btf::parse(&bytes).unwrap_or_else(|e| panic!("written BTF does not parse again: {e}"));
    assert_eq!(again.to_bytes(), bytes, "writing parsed BTF is not a fixpoint");
    for id in 1..btf.type_count() {
        let _ = btf.describe(id);
        let _ = btf.resolve_size(id);
        let _ = btf.skip_mods_and_typedefs(id);
        if let Ok(name) = btf.type_name(id) {
            if let Ok(ty) = btf.type_by_id(id) {
                let _ = btf.find_by_name_kind(name, ty.kind());
            }
        }
    }
    if let Ok(deduped) = dedup::dedup(&btf) {
        assert_eq!(deduped.remap.len(), btf.type_count() as usize, "dedup remaps every type");
        let out = deduped.btf.to_bytes_checked().unwrap_or_else(|e| panic!("deduplicated BTF can't be written: {e}"));
        Btf::parse(&out).unwrap_or_else(|e| panic!("deduplicated BTF does not parse: {e}"));
    }
}

/// `.BTF.ext` parsing against the BTF it refers to: input is two chunks (see [`chunks`]),
/// the `.BTF` then the `.BTF.ext`.
pub fn btf_ext(data: &[u8]) {
    let parts = chunks(data, 2);
    let (Some(btf), Some(ext)) = (parts.first(), parts.get(1)) else { return };
    let Ok(btf) = Btf::parse(btf) else { return };
    let Ok(parsed) = BtfExt::parse(ext, &btf) else { return };
    let bytes = parsed.to_bytes();
    let again = BtfExt::parse(&bytes, &btf).unwrap_or_else(|e| panic!("written .BTF.ext does not parse again: {e}"));
    assert_eq!(again.to_bytes(), bytes, "writing parsed .BTF.ext is not a fixpoint");
}

/// A static link of up to four inputs (see [`chunks`]), each added with `add_buf`; rejected
/// inputs are skipped like a caller would. When every accepted input is a valid object (the
/// object model opens it), the linked object must be valid too.
pub fn linker(data: &[u8]) {
    let mut linker = Linker::new();
    let mut accepted = 0;
    let mut all_valid = true;
    for (i, input) in chunks(data, MAX_LINK_INPUTS).into_iter().enumerate() {
        if linker.add_buf(&format!("input{i}.o"), input).is_ok() {
            accepted += 1;
            all_valid &= ObjectSpec::from_bytes(input, "input").is_ok();
        }
    }
    if accepted == 0 {
        return;
    }
    if let Ok(out) = linker.into_output() {
        let linked = ObjectSpec::from_bytes(&out, "linked");
        if all_valid {
            linked.unwrap_or_else(|e| panic!("linking valid objects gave an object that does not open: {e}"));
        }
    }
}
