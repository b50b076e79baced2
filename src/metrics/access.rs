//! What the metrics endpoint asks of a scraper and what it tells it (issue 20, finding 10).
//!
//! - **Who may scrape**: with `[auth]` on, any configured token (`Authorization: Bearer <secret>`),
//!   whatever its grants: metrics are operational counters, not table data, so a dedicated token
//!   with no grants is enough for Prometheus. Unless `metrics.allow_anonymous` is true. With
//!   `[auth]` off, everyone who reaches the port; `isobar serve` refuses a non-loopback
//!   `metrics.listen` then, unless `metrics.allow_anonymous` or `--insecure`.
//! - **What a scrape shows**: table and family names only with `metrics.table_labels`; otherwise
//!   the per-family gauges are summed into one series labelled `table="*",family="*"` (`*`
//!   cannot be a table name), so dashboards that `sum` keep working and names stay private.

use isobar_storage::{EngineMetrics, FamilyStats};

use crate::auth::Authenticator;
use crate::config::Config;

/// The label value of the aggregate series.
pub const ALL: &str = "*";

/// The endpoint's access rules, from `[metrics]` and `[auth]`.
#[derive(Clone, Debug)]
pub struct Access {
    /// The tokens a scrape must present; `None` when scrapes need none.
    tokens: Option<Authenticator>,
    /// `metrics.table_labels`.
    table_labels: bool,
}

/// Why a scrape was refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}; send Authorization: Bearer <secret> of any configured token (or set metrics.allow_anonymous = true)")]
pub struct Refused(String);

impl Access {
    /// The rules `config` sets, with the server's live tokens (config file and access catalog).
    pub fn new(config: &Config, tokens: &Authenticator) -> Self {
        let tokens = (config.auth.enabled && !config.metrics.allow_anonymous).then(|| tokens.clone());
        Self { tokens, table_labels: config.metrics.table_labels }
    }

    /// The rules `config` sets, with the config file's tokens only.
    pub fn from_config(config: &Config) -> Self {
        Self::new(config, &Authenticator::from_config(&config.auth))
    }

    /// Checks the `Authorization` header of a scrape.
    pub fn check(&self, headers: &http::HeaderMap) -> Result<(), Refused> {
        let Some(tokens) = &self.tokens else {
            return Ok(());
        };
        let header = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::trim);
        let secret = header.and_then(|h| ["Bearer ", "bearer "].iter().find_map(|scheme| h.strip_prefix(scheme)));
        let Some(secret) = secret else {
            return Err(Refused("no bearer token".into()));
        };
        tokens.authenticate(secret.trim()).map(|_| ()).map_err(|e| Refused(e.to_string()))
    }

    /// `metrics` as this endpoint may show it: per-family series summed into one unless
    /// `metrics.table_labels` is on.
    pub fn redact(&self, mut metrics: EngineMetrics) -> EngineMetrics {
        if !self.table_labels {
            metrics.stats.families = aggregate(&metrics.stats.families);
        }
        metrics
    }
}

/// One family whose numbers are the sums over `families` (none when there are none, so an empty
/// database shows no per-family series, as with labels on).
fn aggregate(families: &[FamilyStats]) -> Vec<FamilyStats> {
    if families.is_empty() {
        return Vec::new();
    }
    let mut all = FamilyStats { table: ALL.to_owned(), family: ALL.to_owned(), ..FamilyStats::default() };
    for f in families {
        all.files += f.files;
        all.file_bytes += f.file_bytes;
        all.file_rows += f.file_rows;
        all.memtable_series += f.memtable_series;
        all.memtable_bytes += f.memtable_bytes;
        all.frozen_memtable_bytes += f.frozen_memtable_bytes;
        all.frozen_memtables += f.frozen_memtables;
        all.windows += f.windows;
        all.bad_files += f.bad_files;
        all.pending_compaction_bytes += f.pending_compaction_bytes;
    }
    vec![all]
}
