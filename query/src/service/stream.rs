//! The producer side of a streamed read: runs on a blocking thread, encodes record batches as
//! Arrow IPC messages and hands them to the gRPC stream through a bounded channel.
//!
//! Memory is bounded by the channel (a few encoded batches) plus the batch being built. When the
//! client goes away the receiving stream is dropped, the next `blocking_send` fails and the
//! producer stops reading.

use arrow_array::RecordBatch;
use isobar_proto::v1::ArrowBatch;
use isobar_wire::ipc::IpcEncoder;
use tokio::sync::mpsc;
use tonic::Status;

use crate::status::ReadError;

/// Encoded batches buffered between the producer and the network.
pub const CHANNEL_BATCHES: usize = 3;

/// The sending half a producer writes to.
pub type Sink = mpsc::Sender<Result<ArrowBatch, Status>>;

/// Sends `schema`, then every non-empty batch of `batches`, then the end-of-stream marker; an error ends
/// the stream with its status. Returns when done or when the receiver is gone.
pub fn produce<I>(sink: &Sink, schema: &arrow_schema::Schema, batches: I)
where
    I: Iterator<Item = Result<RecordBatch, ReadError>>,
{
    let (mut encoder, first) = match IpcEncoder::new(schema) {
        Ok(x) => x,
        Err(e) => {
            let _ = sink.blocking_send(Err(ReadError::from(e).into()));
            return;
        }
    };
    if sink.blocking_send(Ok(first)).is_err() {
        return;
    }
    for batch in batches {
        let message = match batch {
            // An empty batch carries nothing a client needs: no message for it.
            Ok(b) if b.num_rows() == 0 => continue,
            Ok(b) => encoder.encode(&b).map_err(ReadError::from),
            Err(e) => Err(e),
        };
        let sent = match message {
            Ok(m) => sink.blocking_send(Ok(m)),
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
    let last = encoder.finish().map_err(|e| ReadError::from(e).into());
    let _ = sink.blocking_send(last);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};
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

    #[test]
    fn a_gone_client_stops_the_producer() {
        let (sink, rx) = mpsc::channel(CHANNEL_BATCHES);
        let pulled = std::sync::atomic::AtomicUsize::new(0);
        let source = (0..1000).map(|_| {
            pulled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(batch(&["a", "b"]))
        });
        drop(rx);
        produce(&sink, &batch(&[]).schema(), source);
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
        produce(&sink, &batch(&[]).schema(), source);
        reader.join().expect("reader");
        let n = pulled.load(std::sync::atomic::Ordering::Relaxed);
        assert!(n <= 2 + CHANNEL_BATCHES + 1, "the producer read {n} batches for a client that took 2");
    }
}
