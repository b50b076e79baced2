//! A client that disconnects in the middle of a `WriteStream` leaves no partial batch: each
//! message is applied whole or not at all. Messages the server received completely before the
//! disconnect are applied (the server writes each message as soon as it has arrived, so they
//! are already visible while the stream is still open); a message cut in half is never applied.

mod common;

use std::time::{Duration, Instant};

use isobar::client::Client;
use isobar_proto::v1 as pb;
use isobar_reliability::rawh2::RawCall;
use prost::Message;

/// Rows of message `m`: ts `m * 100 .. m * 100 + 40`, temp = ts.
fn message(series: &str, m: i64) -> pb::WriteRequest {
    let ts: Vec<i64> = (m * 100..m * 100 + 40).collect();
    let temp = ts.iter().map(|t| *t as f64).collect();
    common::one_batch("weather", series, ts, vec![common::f64_column("temp", temp)])
}

/// The ts of the rows of `series`, grouped by message.
async fn rows_per_message(client: &mut Client, series: &str) -> Vec<usize> {
    let request = pb::ScanRequest {
        table: "weather".into(),
        selector: common::exact(series),
        columns: vec!["env.temp".into()],
        ..Default::default()
    };
    let stream = client.query.scan(request).await.expect("scan").into_inner();
    let batches = isobar::client::collect(stream).await.expect("answer").1;
    let mut per = vec![0usize; 8];
    for (_, ts, temp) in common::rows_f64(&batches, "env.temp") {
        assert_eq!(temp, Some(ts as f64), "row {ts} holds its own value");
        per[(ts / 100) as usize] += 1;
    }
    per
}

/// Waits (at most 30 s) until the first `n` messages of `series` are visible.
async fn until_visible(client: &mut Client, series: &str, n: usize) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let per = rows_per_message(client, series).await;
        if per[..n].iter().all(|r| *r == 40) || Instant::now() > deadline {
            return per;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_cut_by_a_disconnect_is_never_applied() {
    let dir = tempfile::tempdir().expect("dir");
    let config = common::config(dir.path());
    let (running, mut client) = common::serve(&config).await;
    common::create_weather(&mut client).await;

    let mut raw = RawCall::open(running.addr(), "/isobar.v1.Ingest/WriteStream").await.expect("raw call");
    for m in 0..3 {
        raw.send(&message("cut", m).encode_to_vec()).await.expect("whole message");
    }
    let per = until_visible(&mut client, "cut", 3).await;
    assert_eq!(per[..3], [40, 40, 40], "complete messages are written while the stream is open");
    let last = message("cut", 3).encode_to_vec();
    raw.send_cut(&last, last.len() / 2).await.expect("half a message");
    raw.cut().await;

    // A graceful stop waits for every running call, so the handler has seen the disconnect.
    running.stop().await.expect("stop");
    let (running, mut client) = common::serve(&config).await;
    let per = rows_per_message(&mut client, "cut").await;
    assert_eq!(per[..4], [40, 40, 40, 0], "three whole messages written, the cut one not at all");
    running.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_write_stream_leaves_each_message_whole_or_absent() {
    let dir = tempfile::tempdir().expect("dir");
    let config = common::config(dir.path());
    let (running, mut client) = common::serve(&config).await;
    common::create_weather(&mut client).await;

    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut ingest = client.ingest.clone();
    let call = tokio::spawn(async move { ingest.write_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).await });
    for m in 0..2 {
        tx.send(message("cancel", m)).await.expect("queued");
    }
    let per = until_visible(&mut client, "cancel", 2).await;
    assert_eq!(per[..2], [40, 40], "complete messages are written while the stream is open");
    // A third message goes out and the call is cancelled at once (RST_STREAM): the message may
    // or may not have arrived whole, but it is never split.
    tx.send(message("cancel", 2)).await.expect("queued");
    call.abort();
    assert!(call.await.is_err_and(|e| e.is_cancelled()), "the call was cancelled, not completed");

    running.stop().await.expect("stop");
    let (running, mut client) = common::serve(&config).await;
    let per = rows_per_message(&mut client, "cancel").await;
    assert_eq!(per[..2], [40, 40], "the first two messages stay written");
    assert!(per[2] == 0 || per[2] == 40, "message 2 is all or nothing, found {} of 40 rows", per[2]);
    assert_eq!(per[3..], [0; 5], "nothing else was written");
    running.stop().await.expect("stop");
}
