//! libFuzzer entry point: see [`isobar_fuzz::sst_file`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| isobar_fuzz::sst_file(data));
