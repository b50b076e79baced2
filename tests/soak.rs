//! The soak's CI profile: 200 concurrent gRPC streams (160 writing with `WriteStream`, 40
//! scanning) over 20 connections to the real server for 15 s, with a 4 MiB memtable budget
//! and 256 KiB of write requests in flight, so that back-pressure happens. Only back-pressure may fail a call; the memtables stay
//! within their budget (Admin Stats), the server's peak RSS within a bound derived from the
//! configuration (`SoakConfig::rss_bound_kib` explains it), and every acknowledged row is read
//! back at the end. Scanners check while the load runs that each series holds exactly a prefix
//! of what its writer sent, at least what was acknowledged before the scan.

use std::path::PathBuf;

use isobar_reliability::soak::{SoakConfig, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_streams_write_and_scan_within_the_memory_budget() {
    let config = SoakConfig::ci(PathBuf::from(env!("CARGO_BIN_EXE_isobar")));
    let report = run(&config).await.expect("the soak runs");
    for line in report.lines() {
        println!("{line}");
    }
    assert!(
        report.errors.is_empty(),
        "errors other than back-pressure: {:#?}",
        &report.errors[..report.errors.len().min(10)]
    );
    assert!(report.streams >= 200);
    assert!(report.write.count > 0 && report.scan.count > 0, "both writes and scans completed");
    assert!(
        report.max_memtable_bytes <= report.memtable_budget,
        "memtables held {} bytes, budget {}",
        report.max_memtable_bytes,
        report.memtable_budget
    );
    assert!(report.max_memtable_bytes > 0, "the Stats sampler saw the memtables");
    assert!(
        report.peak_rss_kib <= report.rss_bound_kib,
        "server peak RSS {} KiB over the bound {} KiB",
        report.peak_rss_kib,
        report.rss_bound_kib
    );
}
