//! # isobar-benches
//!
//! The machinery behind Isobar's storage benchmarks (results in `benches/RESULTS.md`):
//!
//! | module | measures |
//! |---|---|
//! | [`ingest`] | in-process write throughput of pre-generated batches, peak RSS while writing |
//! | [`footprint`] | SSTable (and WAL) bytes per point, per family |
//! | [`scan`] | scan throughput through [`Db::scan`](isobar_storage::Db::scan), and page decode at the SSTable reader |
//! | [`pages`] | workload columns cut into SSTable-sized pages, for the encoding benchmarks |
//! | [`report`] | number formatting for the printed report |
//!
//! The `storage_bench` binary wires them together; `compaction_bench`, `encoding_sizes`,
//! `wal_throughput`, `query_bench` and `late_bench` (late rows into closed compaction windows)
//! are the other benchmark binaries (`src/bin/`); the criterion micro-benchmarks live in
//! `benches/benches/`. The workloads come from [`isobar_workload`], so every figure is over the
//! same deterministic data as the other benchmarks of the project; memory and CPU figures come
//! from [`isobar_testkit::procfs`] (the dev-only test kit: fine here, benchmarks are not shipped).

pub mod footprint;
pub mod ingest;
pub mod pages;
pub mod report;
pub mod scan;
