//! libFuzzer entry point: see [`isobar_fuzz::line_protocol`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| isobar_fuzz::line_protocol(data));
