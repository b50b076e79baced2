//! libFuzzer entry point: see [`isobar_fuzz::grpc_write`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| isobar_fuzz::grpc_write(data));
