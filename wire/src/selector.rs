//! Series selectors and time ranges between the wire and the engine.
//!
//! On the wire an unset selector is an error (never "every series"), and an unset end of a time
//! range is open; in the engine an open end is `i64::MIN` / `i64::MAX`
//! ([`TimeRange::ALL`](isobar_storage::TimeRange::ALL)).

use isobar_proto::v1 as pb;
use isobar_storage::{SeriesSelector, TimeRange};

/// A selector or time range the server cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The selector, or its `oneof`, is unset.
    #[error("the series selector is not set; use exact, prefix, range or all")]
    Missing,
    /// A time range that ends before it starts.
    #[error("time range [{from}, {to}) ends before it starts")]
    InvertedRange {
        /// Inclusive start sent.
        from: i64,
        /// Exclusive end sent.
        to: i64,
    },
}

/// The engine selector for a wire selector; unset is [`SelectorError::Missing`].
pub fn selector_from_proto(selector: Option<pb::SeriesSelector>) -> Result<SeriesSelector, SelectorError> {
    use pb::series_selector::Selector;
    match selector.and_then(|s| s.selector) {
        None => Err(SelectorError::Missing),
        Some(Selector::Exact(key)) => Ok(SeriesSelector::Exact(key)),
        Some(Selector::Prefix(prefix)) => Ok(SeriesSelector::Prefix(prefix)),
        Some(Selector::Range(r)) => Ok(SeriesSelector::Range { start: r.start, end: r.end }),
        Some(Selector::All(pb::AllSeries {})) => Ok(SeriesSelector::All),
    }
}

/// The wire selector for an engine selector.
pub fn selector_to_proto(selector: SeriesSelector) -> pb::SeriesSelector {
    use pb::series_selector::Selector;
    let selector = match selector {
        SeriesSelector::All => Selector::All(pb::AllSeries {}),
        SeriesSelector::Exact(key) => Selector::Exact(key),
        SeriesSelector::Prefix(prefix) => Selector::Prefix(prefix),
        SeriesSelector::Range { start, end } => Selector::Range(pb::KeyRange { start, end }),
    };
    pb::SeriesSelector { selector: Some(selector) }
}

/// The engine range for a wire range: unset ends are open, an unset range is all time. A range
/// with `from > to` is refused; `from == to` is a valid empty range.
pub fn time_range_from_proto(range: Option<pb::TimeRange>) -> Result<TimeRange, SelectorError> {
    let range = range.unwrap_or_default();
    let from = range.from_ns.unwrap_or(TimeRange::ALL.from);
    let to = range.to_ns.unwrap_or(TimeRange::ALL.to);
    if from > to {
        return Err(SelectorError::InvertedRange { from, to });
    }
    Ok(TimeRange::new(from, to))
}

/// The wire range for an engine range; `i64::MIN` and `i64::MAX` ends become unset (open).
pub fn time_range_to_proto(range: TimeRange) -> pb::TimeRange {
    pb::TimeRange {
        from_ns: (range.from != TimeRange::ALL.from).then_some(range.from),
        to_ns: (range.to != TimeRange::ALL.to).then_some(range.to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_round_trip() {
        let all = [
            SeriesSelector::All,
            SeriesSelector::Exact("truck_1".into()),
            SeriesSelector::Prefix("truck_".into()),
            SeriesSelector::Range { start: Some("a".into()), end: None },
            SeriesSelector::Range { start: None, end: Some("z".into()) },
        ];
        for selector in all {
            let wire = selector_to_proto(selector.clone());
            assert_eq!(selector_from_proto(Some(wire)), Ok(selector));
        }
    }

    #[test]
    fn unset_selector_is_refused_not_all() {
        assert_eq!(selector_from_proto(None), Err(SelectorError::Missing));
        let empty = pb::SeriesSelector { selector: None };
        assert_eq!(selector_from_proto(Some(empty)), Err(SelectorError::Missing));
    }

    #[test]
    fn time_ranges_open_where_unset() {
        assert_eq!(time_range_from_proto(None), Ok(TimeRange::ALL));
        let half = pb::TimeRange { from_ns: Some(5), to_ns: None };
        assert_eq!(time_range_from_proto(Some(half)), Ok(TimeRange::new(5, i64::MAX)));
        assert_eq!(time_range_to_proto(TimeRange::new(5, i64::MAX)), half);
        let closed = TimeRange::new(-3, 9);
        assert_eq!(time_range_from_proto(Some(time_range_to_proto(closed))), Ok(closed));
    }

    #[test]
    fn inverted_time_range_is_refused() {
        let bad = pb::TimeRange { from_ns: Some(10), to_ns: Some(9) };
        assert_eq!(time_range_from_proto(Some(bad)), Err(SelectorError::InvertedRange { from: 10, to: 9 }));
        let empty = pb::TimeRange { from_ns: Some(10), to_ns: Some(10) };
        assert_eq!(time_range_from_proto(Some(empty)), Ok(TimeRange::new(10, 10)));
    }
}
