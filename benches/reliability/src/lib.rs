//! Reliability harnesses that run against the real `isobar` server binary (issue #6):
//!
//! - [`crash`]: the SIGKILL crash loop. Writers ingest through gRPC under `sync = always` while
//!   flushes and compactions run; the server is killed at random moments and restarted, and every
//!   acknowledged write is checked, in-doubt requests must be all-or-nothing, and scans,
//!   aggregates and latest must agree. Binary: `isobar-crashloop`.
//! - [`soak`]: hundreds of concurrent gRPC streams writing and scanning at once under explicit
//!   memory budgets; counts back-pressure, samples memtable bytes and RSS, reports latency
//!   percentiles and checks every acknowledged write at the end. Binary: `isobar-soak`.
//! - [`rawh2`]: a minimal hand-written HTTP/2 client that can cut a gRPC message in half, for the
//!   disconnect tests.
//!
//! The short CI profiles run from the root package's tests (`tests/crash_loop.rs`,
//! `tests/soak.rs`), which pass `env!("CARGO_BIN_EXE_isobar")`.
//!
//! ```text
//! cargo build --release -p isobar -p isobar-reliability
//! target/release/isobar-crashloop --server-bin target/release/isobar --cycles 200 --seed 7
//! target/release/isobar-soak --server-bin target/release/isobar --duration 120s
//! ```

pub mod crash;
pub mod process;
pub mod rawh2;
pub mod rng;
pub mod soak;
pub mod wire;
