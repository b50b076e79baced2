//! The producer side of a streamed read: runs on a blocking thread, encodes record batches as
//! Arrow IPC messages and hands them to the gRPC stream through a bounded channel.
//!
//! Memory is bounded by the channel (a few encoded batches) plus the batch being built. When the
//! client goes away the receiving stream is dropped, the next `blocking_send` fails and the
//! producer stops reading.

use std::sync::Arc;

use arrow_array::{Array, BooleanArray, RecordBatch, StringArray};
use arrow_select::filter::filter_record_batch;
use isobar_proto::v1::ArrowBatch;
use isobar_query::ipc::IpcEncoder;
use tokio::sync::mpsc;
use tonic::Status;

use super::status::QueryError;

/// Encoded batches buffered between the producer and the network.
pub const CHANNEL_BATCHES: usize = 3;

/// The sending half a producer writes to.
pub type Sink = mpsc::Sender<Result<ArrowBatch, Status>>;

/// Sends `schema`, then every batch of `batches` that `limit` lets through, then the
/// end-of-stream marker; an error ends the stream with its status. Returns when done or when
/// the receiver is gone.
pub fn produce<I>(sink: &Sink, schema: &arrow_schema::Schema, batches: I, mut limit: RowLimit)
where
    I: Iterator<Item = Result<RecordBatch, QueryError>>,
{
    let (mut encoder, first) = match IpcEncoder::new(schema) {
        Ok(x) => x,
        Err(e) => {
            let _ = sink.blocking_send(Err(QueryError::from(e).into()));
            return;
        }
    };
    if sink.blocking_send(Ok(first)).is_err() {
        return;
    }
    for batch in batches {
        if limit.exhausted() {
            break;
        }
        let message = batch.and_then(|b| limit.apply(&b)).and_then(|b| match b {
            Some(b) => encoder.encode(&b).map(Some).map_err(QueryError::from),
            None => Ok(None),
        });
        let sent = match message {
            Ok(None) => continue,
            Ok(Some(m)) => sink.blocking_send(Ok(m)),
            Err(e) => {
                let _ = sink.blocking_send(Err(e.into()));
                return;
            }
        };
        if sent.is_err() {
            tracing::debug!("read stopped: the client went away");
            return;
        }
    }
    let last = encoder.finish().map_err(|e| QueryError::from(e).into());
    let _ = sink.blocking_send(last);
}

/// Row limits applied to a stream of batches whose first column is the series key and whose
/// rows come grouped by series.
#[derive(Clone, Debug, Default)]
pub struct RowLimit {
    total: Option<u64>,
    per_series: Option<u64>,
    sent: u64,
    current: Option<Arc<str>>,
    in_current: u64,
}

impl RowLimit {
    /// At most `total` rows, and at most `per_series` of each series (`None`: no limit).
    pub fn new(total: Option<u64>, per_series: Option<u64>) -> Self {
        Self { total, per_series, ..Self::default() }
    }

    /// True when no more rows may be sent.
    pub fn exhausted(&self) -> bool {
        self.total.is_some_and(|t| self.sent >= t)
    }

    /// The rows of `batch` within the limits; `None` when none are.
    pub fn apply(&mut self, batch: &RecordBatch) -> Result<Option<RecordBatch>, QueryError> {
        let mut keep = Vec::with_capacity(batch.num_rows());
        let series = batch.column(0).as_any().downcast_ref::<StringArray>();
        for row in 0..batch.num_rows() {
            if let (Some(max), Some(keys)) = (self.per_series, series) {
                let key = keys.value(row);
                if self.current.as_deref() != Some(key) {
                    self.current = Some(Arc::from(key));
                    self.in_current = 0;
                }
                if self.in_current >= max {
                    keep.push(false);
                    continue;
                }
                self.in_current += 1;
            }
            if self.exhausted() {
                keep.push(false);
                continue;
            }
            self.sent += 1;
            keep.push(true);
        }
        if keep.iter().all(|k| *k) {
            return Ok((batch.num_rows() > 0).then(|| batch.clone()));
        }
        let filtered = filter_record_batch(batch, &BooleanArray::from(keep))
            .map_err(|e| QueryError::from(isobar_storage::Error::Arrow(e)))?;
        Ok((filtered.num_rows() > 0).then_some(filtered))
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::Int64Array;
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn batch(keys: &[&str]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("series", DataType::Utf8, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let values: Vec<i64> = (0..keys.len() as i64).collect();
        RecordBatch::try_new(
            schema,
            vec![Arc::new(StringArray::from(keys.to_vec())), Arc::new(Int64Array::from(values))],
        )
        .expect("batch")
    }

    fn keys(b: &RecordBatch) -> Vec<String> {
        let a = b.column(0).as_any().downcast_ref::<StringArray>().expect("utf8");
        (0..a.len()).map(|i| a.value(i).to_owned()).collect()
    }

    #[test]
    fn a_gone_client_stops_the_producer() {
        let (sink, rx) = mpsc::channel(CHANNEL_BATCHES);
        let pulled = std::sync::atomic::AtomicUsize::new(0);
        let source = (0..1000).map(|_| {
            pulled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(batch(&["a", "b"]))
        });
        drop(rx);
        produce(&sink, &batch(&[]).schema(), source, RowLimit::default());
        assert_eq!(
            pulled.load(std::sync::atomic::Ordering::Relaxed),
            0,
            "nothing is read once the schema cannot be sent"
        );

        let (sink, mut rx) = mpsc::channel::<Result<ArrowBatch, Status>>(CHANNEL_BATCHES);
        let pulled = std::sync::atomic::AtomicUsize::new(0);
        let reader = std::thread::spawn(move || {
            // Read the schema and two batches, then go away.
            for _ in 0..3 {
                rx.blocking_recv().expect("message").expect("ok");
            }
        });
        let source = (0..1000).map(|_| {
            pulled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(batch(&["a", "b"]))
        });
        produce(&sink, &batch(&[]).schema(), source, RowLimit::default());
        reader.join().expect("reader");
        let n = pulled.load(std::sync::atomic::Ordering::Relaxed);
        assert!(n <= 2 + CHANNEL_BATCHES + 1, "the producer read {n} batches for a client that took 2");
    }

    #[test]
    fn per_series_limit_spans_batches() {
        let mut limit = RowLimit::new(None, Some(2));
        let a = limit.apply(&batch(&["a", "a", "a", "b"])).expect("ok").expect("rows");
        assert_eq!(keys(&a), ["a", "a", "b"]);
        let b = limit.apply(&batch(&["b", "b", "c"])).expect("ok").expect("rows");
        assert_eq!(keys(&b), ["b", "c"]);
    }

    #[test]
    fn total_limit_stops_the_stream() {
        let mut limit = RowLimit::new(Some(3), Some(2));
        let a = limit.apply(&batch(&["a", "a", "a", "b", "b", "c"])).expect("ok").expect("rows");
        assert_eq!(keys(&a), ["a", "a", "b"]);
        assert!(limit.exhausted());
        assert!(limit.apply(&batch(&["d"])).expect("ok").is_none());
    }
}
