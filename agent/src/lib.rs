//! # isobar-agent
//!
//! `isobar agent`: the edge forwarder. Sources (MQTT, tailed CSV / JSON-lines files, line
//! protocol on stdin or a local port, the built-in generators) feed a batcher; each batch becomes
//! one record of the durable on-disk [`queue`] with its producer sequence number; the
//! [`forward`]er streams the queue to the server over `ProducerStream` after a `Resume`, so every
//! batch is applied exactly once across restarts of the agent, the server and the link.
//!
//! ```text
//! sources ──► batcher ──► queue (segments + ack cursor) ──► forwarder ──► isobar serve
//!                ▲ back-pressure when full (block)            ▲ Resume, window, back-off
//! ```
//!
//! See `docs/agent.md` for the user's view.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod batcher;
pub mod cli;
pub mod config;
pub mod forward;
pub mod lp;
pub mod map;
pub mod metrics;
pub mod queue;
pub mod run;
pub mod source;
