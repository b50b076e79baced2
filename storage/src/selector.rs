//! Series selectors and time ranges: which rows a scan, delete or export addresses.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

/// Which series an operation addresses. Keys are compared bytewise.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesSelector {
    /// Every series of the table.
    All,
    /// Exactly one series.
    Exact(String),
    /// Every series whose key starts with the prefix.
    Prefix(String),
    /// Every series with `start <= key < end`; `None` leaves that side open.
    Range {
        /// Inclusive lower bound.
        start: Option<String>,
        /// Exclusive upper bound.
        end: Option<String>,
    },
}

impl SeriesSelector {
    /// True when `key` is selected.
    pub fn matches(&self, key: &str) -> bool {
        match self {
            SeriesSelector::All => true,
            SeriesSelector::Exact(k) => key == k,
            SeriesSelector::Prefix(p) => key.starts_with(p.as_str()),
            SeriesSelector::Range { start, end } => {
                start.as_deref().is_none_or(|s| key >= s) && end.as_deref().is_none_or(|e| key < e)
            }
        }
    }

    /// The smallest key range `(lower, upper)` that contains every selected key, for seeking in
    /// sorted indexes.
    pub fn key_bounds(&self) -> (Bound<&str>, Bound<&str>) {
        match self {
            SeriesSelector::All => (Bound::Unbounded, Bound::Unbounded),
            SeriesSelector::Exact(k) => (Bound::Included(k), Bound::Included(k)),
            SeriesSelector::Prefix(p) if p.is_empty() => (Bound::Unbounded, Bound::Unbounded),
            SeriesSelector::Prefix(p) => (Bound::Included(p), Bound::Unbounded),
            SeriesSelector::Range { start, end } => (
                start.as_deref().map_or(Bound::Unbounded, Bound::Included),
                end.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
            ),
        }
    }

    /// True once `key` (visited in ascending order) is past every key this selector can match.
    pub fn is_past(&self, key: &str) -> bool {
        match self {
            SeriesSelector::All => false,
            SeriesSelector::Exact(k) => key > k.as_str(),
            SeriesSelector::Prefix(p) => key > p.as_str() && !key.starts_with(p.as_str()),
            SeriesSelector::Range { end, .. } => end.as_deref().is_some_and(|e| key >= e),
        }
    }

    /// The one key this selector names, if it is exact.
    pub fn exact(&self) -> Option<&str> {
        match self {
            SeriesSelector::Exact(k) => Some(k),
            _ => None,
        }
    }
}

/// A half-open time range `[from, to)` in nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeRange {
    /// Inclusive start.
    pub from: i64,
    /// Exclusive end.
    pub to: i64,
}

impl TimeRange {
    /// Every representable time.
    pub const ALL: TimeRange = TimeRange { from: i64::MIN, to: i64::MAX };

    /// `[from, to)`.
    pub fn new(from: i64, to: i64) -> Self {
        Self { from, to }
    }

    /// True when `ts` lies in the range.
    pub fn contains(&self, ts: i64) -> bool {
        ts >= self.from && ts < self.to
    }

    /// True when the closed interval `[min, max]` has a point in the range.
    pub fn overlaps(&self, min: i64, max: i64) -> bool {
        min < self.to && max >= self.from
    }

    /// True when the closed interval `[min, max]` lies wholly inside the range.
    pub fn covers(&self, min: i64, max: i64) -> bool {
        min >= self.from && max < self.to
    }

    /// True when the range holds no time at all.
    pub fn is_empty(&self) -> bool {
        self.from >= self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_what_they_say() {
        let range = SeriesSelector::Range { start: Some("b".into()), end: Some("d".into()) };
        assert!(range.matches("b") && range.matches("c9") && !range.matches("d") && !range.matches("a"));
        let prefix = SeriesSelector::Prefix("truck_1".into());
        assert!(prefix.matches("truck_12") && !prefix.matches("truck_2"));
        assert!(prefix.is_past("truck_2") && !prefix.is_past("truck_0") && !prefix.is_past("truck_19"));
        assert!(SeriesSelector::Exact("a".into()).is_past("b"));
    }

    #[test]
    fn ranges_are_half_open() {
        let r = TimeRange::new(10, 20);
        assert!(r.contains(10) && !r.contains(20));
        assert!(r.overlaps(19, 30) && !r.overlaps(20, 30) && r.overlaps(0, 10) && !r.overlaps(0, 9));
        assert!(r.covers(10, 19) && !r.covers(10, 20));
    }
}
