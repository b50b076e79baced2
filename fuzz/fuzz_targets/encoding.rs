//! libFuzzer entry point: see [`isobar_fuzz::encoding`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| isobar_fuzz::encoding(data));
