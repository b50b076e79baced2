//! # isobar
//!
//! The `isobar` binary's library:
//!
//! - [`server`]: the gRPC server (`Ingest` from `isobar-ingest`, `Query` from `isobar-query`,
//!   `Admin`, health, reflection) over one database, with graceful shutdown; it wires services,
//!   authentication, metrics and config. [`server::start`] is what `isobar serve` and the
//!   end-to-end tests run.
//! - [`http`]: the InfluxDB line-protocol HTTP front end (`[line_protocol]`, off by default).
//! - [`client`]: a thin client over the generated stubs, with Arrow IPC decoding of answers.
//! - [`auth`]: bearer tokens, permissions per table, independent of the front end.
//! - [`config`]: the TOML file plus `ISOBAR_*` environment variables.
//! - [`snapshots`]: the snapshot directory behind `Admin/CreateSnapshot` and friends (online
//!   backups), with the snapshot-name rule.
//! - [`metrics`]: the Prometheus endpoint (engine and gRPC request metrics) on its own port.
//! - [`cli`]: the command tree of `isobar serve` and the client commands (tables, CSV import and
//!   generated load, scans, aggregates, latest points, export, admin, snapshots, health) plus
//!   the offline `inspect`, `admin verify` and `restore`. `src/main.rs` only parses the command line and runs
//!   [`cli::run`].
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod http;
pub mod metrics;
pub mod net;
pub mod server;
pub mod snapshots;
