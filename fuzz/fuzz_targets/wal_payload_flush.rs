//! libFuzzer entry point: see [`isobar_fuzz::wal_payload_flush`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| isobar_fuzz::wal_payload_flush(data));
