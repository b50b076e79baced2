//! libFuzzer entry point: see [`isobar_fuzz::pg_frontend`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| isobar_fuzz::pg_frontend(data));
