//! # isobar
//!
//! The `isobar` binary's library: the server's configuration ([`config`]) and the command tree
//! ([`cli`]) of `isobar serve` and the client commands (tables, CSV import, scans, aggregates,
//! latest points, export, admin) plus `inspect` for SSTable files. `src/main.rs` only parses
//! the command line and runs [`cli::run`].
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod cli;
pub mod client;
pub mod config;
pub mod server;
