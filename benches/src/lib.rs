//! # isobar-benches
//!
//! The machinery behind Isobar's storage benchmarks (results in `benches/RESULTS.md`):
//!
//! | module | measures |
//! |---|---|
//! | [`ingest`] | in-process write throughput of pre-generated batches, peak RSS while writing |
//! | [`footprint`] | SSTable (and WAL) bytes per point, per family |
//! | [`scan`] | scan throughput through [`Db::scan`](isobar_storage::Db::scan), and page decode at the SSTable reader |
//! | [`procfs`] | resident memory and CPU time of this process, from `/proc` |
//! | [`report`] | number formatting for the printed report |
//!
//! The `storage_bench` binary wires them together; the criterion micro-benchmarks live in
//! `benches/benches/`. The workloads come from [`isobar_workload`], so every figure is over the
//! same deterministic data as the other benchmarks of the project.

pub mod footprint;
pub mod ingest;
pub mod procfs;
pub mod report;
pub mod scan;
