#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| bpflink_fuzz::linker(data));
