//! Time-bucket aggregates: [`aggregate`]; [`BucketStarts`], its buckets for callers that bucket
//! row by row.
//!
//! The plan (`plan.rs`) resolves the query against the catalog; every selected series is
//! answered in parallel on the rayon pool (`series.rs`), each family of a series either from
//! chunk statistics where they are exact (push-down) or by decoding; accumulators (`acc.rs`) are
//! merged across series in key order when grouping across series, and `output.rs` chooses the
//! rows, fills empty buckets and builds the record batches.

pub(crate) mod acc;
pub(crate) mod bucketing;
pub(crate) mod output;
pub(crate) mod plan;
pub(crate) mod series;

use std::sync::Arc;

use arrow_array::RecordBatch;
use isobar_storage::Snapshot;
use rayon::prelude::*;

use crate::error::Result;
use crate::queries::AggregateQuery;
use crate::queries::GroupBy;
pub use bucketing::BucketStarts;
use plan::Plan;
pub use series::PushDownStats;
use series::{Buckets, series_buckets};

/// Answers `q` over `snapshot`.
///
/// The answer has one row per (series, bucket) in series-key then time order (or per bucket
/// when grouping across series): `series` (utf8; null in every row when grouping across
/// series, so that the schema is the same either way), `ts` (the bucket start, timestamp ns
/// UTC; without buckets, the range start or, for a range without a start, the earliest time at
/// which an aggregated column has a value), then one nullable column per aggregation named by
/// its alias or `function(family.column)`. Types: `count` Int64; `sum`, `min`, `max`, `first`,
/// `last` the column's type; `avg`, `stddev` Float64. Buckets where no aggregated column has a
/// value are left out unless filled. At least one (possibly empty) batch is returned.
///
/// NaN and infinities (see `acc.rs`): `min` and `max` ignore NaN (NaN only when every value is
/// NaN); `sum` and `avg` are NaN when any value is; `stddev` is NaN when any value is NaN or
/// infinite.
pub fn aggregate(snapshot: &Snapshot, q: &AggregateQuery) -> Result<Vec<RecordBatch>> {
    aggregate_with_stats(snapshot, q).map(|(b, _)| b)
}

/// [`aggregate`], also telling how much was answered from chunk statistics.
pub fn aggregate_with_stats(snapshot: &Snapshot, q: &AggregateQuery) -> Result<(Vec<RecordBatch>, PushDownStats)> {
    let plan = Plan::new(snapshot, q)?;
    let mut series: Vec<Arc<str>> =
        plan.families.iter().flat_map(|f| snapshot.series_keys(&f.family, &plan.selector)).collect();
    series.sort_unstable();
    series.dedup();
    let per_series: Vec<(Buckets, PushDownStats)> =
        series.par_iter().map(|s| series_buckets(snapshot, &plan, s)).collect::<Result<_>>()?;
    let mut stats = PushDownStats::default();
    per_series.iter().for_each(|(_, s)| stats.add(*s));
    let groups: Vec<(Option<Arc<str>>, Buckets)> = match plan.group_by {
        GroupBy::Series => {
            series.into_iter().zip(per_series).map(|(s, (b, _))| (Some(s), b)).filter(|(_, b)| !b.is_empty()).collect()
        }
        GroupBy::None => {
            let mut all = Buckets::new();
            for (buckets, _) in per_series {
                for (k, state) in buckets {
                    match all.get_mut(&k) {
                        Some(s) => s.merge(&state),
                        None => {
                            all.insert(k, state);
                        }
                    }
                }
            }
            vec![(None, all)]
        }
    };
    Ok((output::build(&plan, &groups)?, stats))
}
