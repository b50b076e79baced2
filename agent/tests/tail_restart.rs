//! Tailing CSV and JSON-lines files across an agent restart: lines appended before, during and
//! after the restart are each queued exactly once (no loss, no duplicate), including a partly
//! written last line and a truncated (rewritten) file.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use isobar_agent::config::{AgentConfig, BatchConfig, SourceConfig};
use isobar_agent::metrics::Metrics;
use isobar_agent::queue::{Queue, QueueOptions};
use isobar_agent::source::{self, Ctx};
use isobar_proto::v1::{WriteRequest, cell::Value};
use prost::Message;

/// One agent "process": a source thread and the batcher over the queue in `dir`.
struct Agent {
    stop: Arc<AtomicBool>,
    queue: Arc<Queue>,
    source: std::thread::JoinHandle<()>,
    batcher: std::thread::JoinHandle<()>,
}

fn start(dir: &Path, config: &SourceConfig) -> Agent {
    let queue = Arc::new(Queue::open(dir, QueueOptions::default()).expect("queue"));
    let stop = Arc::new(AtomicBool::new(false));
    let metrics = Arc::new(Metrics::default());
    let (tx, rx) = std::sync::mpsc::sync_channel(4);
    let ctx = Ctx {
        name: config.name(),
        sink: tx,
        stop: Arc::clone(&stop),
        queue: Arc::clone(&queue),
        metrics: Arc::clone(&metrics),
    };
    let source = source::spawn(config.clone(), ctx, "p").expect("spawn");
    let batch = BatchConfig { max_rows: 3, max_bytes: 1 << 20, max_delay_ms: 20 };
    let q = Arc::clone(&queue);
    let batcher =
        std::thread::spawn(move || isobar_agent::batcher::run(rx, q, batch, metrics, Arc::default()).expect("batcher"));
    Agent { stop, queue, source, batcher }
}

impl Agent {
    /// Stops the source and waits until the batcher queued everything it was handed and the
    /// source thread ended: it holds the queue, whose `LOCK` a restart in this process would
    /// otherwise find still taken (on a loaded machine the thread notices the stop late).
    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.batcher.join().expect("batcher joins");
        self.source.join().expect("source joins");
        drop(self.queue);
    }
}

/// Every queued row: series -> list of (ts, temp).
fn queued(dir: &Path) -> BTreeMap<i64, Vec<f64>> {
    let queue = Queue::open(dir, QueueOptions::default()).expect("queue");
    let mut out: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    let mut after = 0;
    while let Some(r) = queue.next_after(after, Duration::ZERO).expect("read") {
        after = r.seq;
        for row in WriteRequest::decode(r.request.as_slice()).expect("decodes").rows {
            let temp = row.cells.iter().find(|c| c.column == "temp").and_then(|c| c.value.clone());
            let Some(Value::F64Value(t)) = temp else { panic!("row without temp: {row:?}") };
            out.entry(row.ts).or_default().push(t);
        }
    }
    out
}

fn wait_for(dir_rows: impl Fn() -> usize, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while dir_rows() < n {
        assert!(Instant::now() < deadline, "rows did not arrive in 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().create(true).append(true).open(path).expect("open");
    f.write_all(text.as_bytes()).expect("append");
}

fn source_config(kind: &str, path: &Path) -> SourceConfig {
    let text = format!(
        "[[source]]\ntype = \"{kind}\"\nname = \"s\"\npath = \"{}\"\ntable = \"t\"\nseries = \"s1\"\nts_unit = \"s\"\npoll_ms = 10\n",
        path.display()
    );
    AgentConfig::parse(&text).expect("config").source.remove(0)
}

fn run_case(kind: &str, line: fn(i64) -> String, header: &str) {
    let tmp = tempfile::tempdir().expect("tmp");
    let (qdir, file) = (tmp.path().join("q"), tmp.path().join(format!("in.{kind}")));
    append(&file, header);
    for i in 0..10 {
        append(&file, &line(i));
    }
    let config = source_config(kind, &file);
    let agent = start(&qdir, &config);
    let q = Arc::clone(&agent.queue);
    wait_for(|| rows_in(&q), 10);
    drop(q);
    // Appended while the agent is up, then a half-written line at the moment of the "crash".
    for i in 10..15 {
        append(&file, &line(i));
    }
    let q = Arc::clone(&agent.queue);
    wait_for(|| rows_in(&q), 15);
    drop(q);
    let partial = line(15);
    append(&file, &partial[..partial.len() / 2]);
    agent.stop();
    append(&file, &partial[partial.len() / 2..]);
    for i in 16..20 {
        append(&file, &line(i));
    }
    let agent = start(&qdir, &config);
    let q = Arc::clone(&agent.queue);
    wait_for(|| rows_in(&q), 20);
    drop(q);
    agent.stop();
    let rows = queued(&qdir);
    assert_eq!(rows.len(), 20, "every line once: {rows:?}");
    for (i, (ts, temps)) in rows.iter().enumerate() {
        assert_eq!(*ts, i as i64 * 1_000_000_000);
        assert_eq!(temps, &vec![i as f64 + 0.5], "line {i} exactly once");
    }
}

/// Rows queued so far (reads the whole queue: the files are small).
fn rows_in(q: &Queue) -> usize {
    let mut after = 0;
    let mut n = 0;
    while let Some(r) = q.next_after(after, Duration::ZERO).expect("read") {
        after = r.seq;
        n += WriteRequest::decode(r.request.as_slice()).expect("decodes").rows.len();
    }
    n
}

#[test]
fn csv_tail_survives_a_restart_without_loss_or_duplicates() {
    run_case("csv", |i| format!("{i},{}.5\n", i), "ts,temp\n");
}

#[test]
fn jsonl_tail_survives_a_restart_without_loss_or_duplicates() {
    run_case("jsonl", |i| format!("{{\"ts\": {i}, \"temp\": {i}.5}}\n"), "");
}

#[test]
fn truncated_file_is_read_again_from_its_start() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (qdir, file) = (tmp.path().join("q"), tmp.path().join("in.jsonl"));
    for i in 0..5 {
        append(&file, &format!("{{\"ts\": {i}, \"temp\": {i}.5}}\n"));
    }
    let config = source_config("jsonl", &file);
    let agent = start(&qdir, &config);
    let q = Arc::clone(&agent.queue);
    wait_for(|| rows_in(&q), 5);
    // Truncate and write two new (shorter) lines: both must be read.
    std::fs::write(&file, "{\"ts\": 100, \"temp\": 1.5}\n").expect("truncate");
    wait_for(|| rows_in(&q), 6);
    drop(q);
    agent.stop();
    let rows = queued(&qdir);
    assert_eq!(rows.len(), 6);
    assert_eq!(rows.get(&100_000_000_000), Some(&vec![1.5]));
}
