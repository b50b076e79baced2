//! libFuzzer entry point: see [`isobar_fuzz::manifest_file`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| isobar_fuzz::manifest_file(data));
