//! End to end: idempotent producers over gRPC. `ProducerStream` pipelines many batches and
//! answers each once, in order; `Resume` tells a producer where to continue after the server
//! restarts; duplicates are acknowledged and not applied; bad producer ids are refused; two
//! racing streams of one producer apply each seq once.

mod common;

use common::*;
use isobar_proto::v1 as pb;
use tokio_stream::StreamExt;
use tonic::Code;

const T0: i64 = 1_700_000_000_000_000_000;

/// Batch `seq` of `producer`: one row at T0 + seq with temp = `temp`.
fn batch(producer: &str, seq: u64, temp: f64) -> pb::WriteRequest {
    let mut r = one_batch("weather", "station=P", vec![T0 + seq as i64], vec![f64_column("temp", vec![temp])]);
    r.producer_id = producer.into();
    r.producer_seq = seq;
    r
}

/// Sends `requests` on one ProducerStream and collects the answers (or the error ending it).
async fn stream(
    client: &mut isobar::client::Client,
    requests: Vec<pb::WriteRequest>,
) -> (Vec<pb::WriteResponse>, Option<tonic::Status>) {
    let mut acks =
        client.ingest.producer_stream(tokio_stream::iter(requests)).await.expect("stream opens").into_inner();
    let mut out = Vec::new();
    while let Some(item) = acks.next().await {
        match item {
            Ok(ack) => out.push(ack),
            Err(status) => return (out, Some(status)),
        }
    }
    (out, None)
}

async fn resume(client: &mut isobar::client::Client, id: &str) -> pb::ResumeResponse {
    client.ingest.resume(pb::ResumeRequest { producer_id: id.into() }).await.expect("resume").into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_stream_is_acknowledged_per_message_in_order_and_resumes_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let (running, mut client) = serve(&config).await;
    create_weather(&mut client).await;
    assert_eq!(resume(&mut client, "gw-1").await, pb::ResumeResponse { applied_seq: 0, known: false });

    let (acks, error) = stream(&mut client, (1..=50).map(|seq| batch("gw-1", seq, seq as f64)).collect()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(acks.len(), 50, "one answer per message");
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(ack.producer_applied_seq, i as u64 + 1, "answers in message order");
        assert!(!ack.duplicate);
        assert_eq!((ack.rows, ack.points, ack.messages), (1, 1, 1));
        assert_eq!(ack.durability, pb::Durability::Synced as i32);
    }
    assert!(acks.windows(2).all(|w| w[0].sequence < w[1].sequence));

    // A real shutdown and a restart on the same directory.
    running.stop().await.expect("clean stop");
    let (running, mut client) = serve(&config).await;
    assert_eq!(resume(&mut client, "gw-1").await, pb::ResumeResponse { applied_seq: 50, known: true });

    // The producer re-sends its last few (their answers were "lost") with other content, then
    // continues: the re-sent ones are duplicates and change nothing.
    let requests = (48..=55).map(|seq| batch("gw-1", seq, -(seq as f64))).collect();
    let (acks, error) = stream(&mut client, requests).await;
    assert!(error.is_none(), "{error:?}");
    let dup: Vec<bool> = acks.iter().map(|a| a.duplicate).collect();
    assert_eq!(dup, [true, true, true, false, false, false, false, false]);
    assert_eq!(acks[0].producer_applied_seq, 50);
    assert_eq!((acks[0].rows, acks[0].points, acks[0].sequence), (0, 0, 0));
    assert_eq!(acks[7].producer_applied_seq, 55);

    // A unary write takes part too.
    let ack = client.ingest.write(batch("gw-1", 50, 0.0)).await.expect("write").into_inner();
    assert!(ack.duplicate && ack.producer_applied_seq == 55);

    let rows = rows_f64(&scan_all(&mut client, "weather", &["env.temp"]).await, "env.temp");
    assert_eq!(rows.len(), 55);
    for (_, ts, temp) in rows {
        let seq = (ts - T0) as f64;
        let want = if seq <= 50.0 { seq } else { -seq };
        assert_eq!(temp, Some(want), "seq {seq}");
    }
    assert_eq!(resume(&mut client, "gw-1").await.applied_seq, 55);
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_producer_ids_and_seqs_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(dir.path())).await;
    create_weather(&mut client).await;
    for (id, seq) in [("has space", 1), (&*"x".repeat(129), 1), ("gw/1", 1), ("gw-1", 0), ("", 5)] {
        let status = client.ingest.write(batch(id, seq, 1.0)).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{id:?} {seq}: {status:?}");
    }
    let status = client.ingest.resume(pb::ResumeRequest { producer_id: "a b".into() }).await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("producer id"), "{}", status.message());

    // On a stream, the bad message ends the call after the answers of the good ones.
    let (acks, error) =
        stream(&mut client, vec![batch("ok", 1, 1.0), batch("bad id", 2, 2.0), batch("ok", 3, 3.0)]).await;
    assert_eq!(acks.len(), 1);
    let error = error.expect("the stream ends with the error");
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(error.message().starts_with("message 1:"), "{}", error.message());
    assert_eq!(resume(&mut client, "ok").await.applied_seq, 1, "nothing after the bad message was applied");
    assert_eq!(row_count(&scan_all(&mut client, "weather", &["env.temp"]).await), 1);
    running.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_streams_of_one_producer_apply_each_seq_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, mut client) = serve(&config(dir.path())).await;
    create_weather(&mut client).await;
    let mut other = client.clone();
    // Both streams send seqs 1..=100 of the same producer with different content.
    let a = stream(&mut client, (1..=100).map(|seq| batch("twin", seq, 1.0)).collect());
    let b = stream(&mut other, (1..=100).map(|seq| batch("twin", seq, 2.0)).collect());
    let ((acks_a, err_a), (acks_b, err_b)) = tokio::join!(a, b);
    assert!(err_a.is_none() && err_b.is_none(), "{err_a:?} {err_b:?}");
    assert_eq!((acks_a.len(), acks_b.len()), (100, 100));
    let applied_a = acks_a.iter().filter(|a| !a.duplicate).count();
    let applied_b = acks_b.iter().filter(|a| !a.duplicate).count();
    let rows = row_count(&scan_all(&mut client, "weather", &["env.temp"]).await);
    assert_eq!(applied_a + applied_b, rows, "every applied message wrote its own row, none twice");
    assert!(rows <= 100);
    assert_eq!(resume(&mut client, "twin").await.applied_seq, 100);
    running.stop().await.expect("clean stop");
}
