//! Arrow IPC framing of read answers: one [`ArrowBatch`] message per gRPC stream item.
//!
//! The messages of one answer, concatenated, are one Arrow IPC stream (streaming format):
//!
//! ```text
//! message 0:       schema                          rows = 0
//! message 1..n:    one record batch each           rows = batch rows
//! message n+1:     end-of-stream marker (8 bytes)  rows = 0
//! ```
//!
//! No dictionary-encoded types are used, so a client may also decode any single batch message
//! by prepending message 0.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, Schema, SchemaRef};
use isobar_proto::v1::ArrowBatch;

/// An answer could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// Arrow failed to encode.
    #[error("cannot encode the answer as Arrow IPC: {0}")]
    Arrow(#[from] ArrowError),
    /// A record batch whose schema is not the stream's (a bug in the producer).
    #[error("record batch schema {got} is not the stream's schema {expected}")]
    SchemaMismatch {
        /// The stream's schema.
        expected: SchemaRef,
        /// The batch's schema.
        got: SchemaRef,
    },
}

/// Encodes one answer, message by message.
pub struct IpcEncoder {
    writer: StreamWriter<Vec<u8>>,
    schema: SchemaRef,
}

impl IpcEncoder {
    /// Starts an answer with `schema`; returns the encoder and message 0 (the schema).
    pub fn new(schema: &Schema) -> Result<(Self, ArrowBatch), IpcError> {
        let writer = StreamWriter::try_new(Vec::new(), schema)?;
        let mut encoder = Self { writer, schema: Arc::new(schema.clone()) };
        let first = encoder.take(0);
        Ok((encoder, first))
    }

    /// Encodes one record batch as one message.
    pub fn encode(&mut self, batch: &RecordBatch) -> Result<ArrowBatch, IpcError> {
        if batch.schema_ref().fields() != self.schema.fields() {
            return Err(IpcError::SchemaMismatch { expected: self.schema.clone(), got: batch.schema() });
        }
        self.writer.write(batch)?;
        Ok(self.take(batch.num_rows() as u64))
    }

    /// Ends the answer; returns the last message (the end-of-stream marker).
    pub fn finish(mut self) -> Result<ArrowBatch, IpcError> {
        self.writer.finish()?;
        Ok(self.take(0))
    }

    /// The bytes written since the last message.
    fn take(&mut self, rows: u64) -> ArrowBatch {
        ArrowBatch { ipc: std::mem::take(self.writer.get_mut()), rows }
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Float64Array, StringArray};
    use arrow_ipc::reader::StreamReader;
    use arrow_schema::{DataType, Field};

    use super::*;

    fn batch(schema: &Arc<Schema>, keys: &[&str], values: &[Option<f64>]) -> RecordBatch {
        RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(keys.to_vec())), Arc::new(Float64Array::from(values.to_vec()))],
        )
        .expect("valid batch")
    }

    fn decode(bytes: &[u8]) -> Vec<RecordBatch> {
        StreamReader::try_new(bytes, None).expect("stream").collect::<Result<_, _>>().expect("batches")
    }

    #[test]
    fn messages_concatenate_to_one_ipc_stream() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("series", DataType::Utf8, false),
            Field::new("env.t", DataType::Float64, true),
        ]));
        let b1 = batch(&schema, &["a", "b"], &[Some(1.0), None]);
        let b2 = batch(&schema, &["c"], &[Some(3.5)]);
        let (mut encoder, first) = IpcEncoder::new(&schema).expect("schema");
        let m1 = encoder.encode(&b1).expect("encodes");
        let m2 = encoder.encode(&b2).expect("encodes");
        let last = encoder.finish().expect("finishes");
        assert_eq!((first.rows, m1.rows, m2.rows, last.rows), (0, 2, 1, 0));
        assert_eq!(last.ipc, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], "end-of-stream marker");
        let stream: Vec<u8> = [&first, &m1, &m2, &last].iter().flat_map(|m| m.ipc.clone()).collect();
        assert_eq!(decode(&stream), [b1, b2.clone()]);
        // One batch on its own, after the schema message.
        let alone: Vec<u8> = [&first, &m2].iter().flat_map(|m| m.ipc.clone()).collect();
        assert_eq!(decode(&alone), [b2]);
    }

    #[test]
    fn a_batch_of_another_schema_is_an_error() {
        let schema = Schema::new(vec![Field::new("x", DataType::Float64, true)]);
        let other = Arc::new(Schema::new(vec![
            Field::new("series", DataType::Utf8, false),
            Field::new("env.t", DataType::Float64, true),
        ]));
        let (mut encoder, _) = IpcEncoder::new(&schema).expect("schema");
        let err = encoder.encode(&batch(&other, &["a"], &[None])).expect_err("mismatch");
        assert!(matches!(err, IpcError::SchemaMismatch { .. }), "{err}");
    }
}
