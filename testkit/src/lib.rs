//! # isobar-testkit
//!
//! What Isobar's integration tests (`tests/`, `query/tests/`) and benchmark harnesses
//! (`benches/`) share, so that each is written once:
//!
//! | module | gives |
//! |---|---|
//! | [`server`] | `isobar serve` as a child process on a free loopback port, waited for until it accepts connections, signalled by its PID only, killed on drop |
//! | [`files`] | the files below a directory |
//! | [`procfs`] | resident memory (current, peak), CPU time and load average from `/proc` |
//! | [`rows`] | Arrow record batches as comparable rows and typed columns |
//! | [`tmpfs`] | a small real file system (tmpfs) for disk-full tests, unmounted on drop |
//!
//! **Dev-only.** No production crate depends on this one: tests take it as a dev-dependency.
//! The benchmark load clients and harnesses under `benches/` take it as a normal dependency,
//! which is fine because they are never shipped.
//!
//! ```no_run
//! use isobar_testkit::server::ServerCommand;
//!
//! let data = tempfile::tempdir()?;
//! // In a test of the root package: `env!("CARGO_BIN_EXE_isobar")`.
//! let server = ServerCommand::new("target/debug/isobar", data.path()).env("ISOBAR_STORAGE_SYNC", "none").start()?;
//! println!("serving on {}, pid {}", server.url(), server.pid());
//! // Dropping `server` SIGKILLs it; `terminate` + `wait` stops it cleanly.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod files;
pub mod procfs;
pub mod rows;
pub mod server;
pub mod tmpfs;
