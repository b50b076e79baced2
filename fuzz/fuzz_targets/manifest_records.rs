//! libFuzzer entry point: see [`isobar_fuzz::manifest_records`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| isobar_fuzz::manifest_records(data));
