//! Valid inputs for every target, built with the engine's own writers: the committed seeds
//! (`examples/make_corpus.rs` writes [`corpus`] to `corpus/<target>/`), and the fixed
//! material some targets start from (the SSTable [`sstable`] that `sst_mutated` edits, the
//! database of [`db_template`] that `wal_payload` opens, the catalog of [`catalog_specs`] that
//! `grpc_write` validates against).
//!
//! Failures here are harness failures (the engine refused to write a valid input) and panic
//! with a message saying so.

use std::fmt::Display;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use isobar_ingest::convert::batch_to_request;
use isobar_proto::v1::{Cell, Row, WriteRequest, cell};
use isobar_storage::encoding::{IntKind, encode_array, encode_ints};
use isobar_storage::sst::{ColumnSchema, SstWriter, SstWriterOptions};
use isobar_storage::wal::format::{SegmentHeader, decode_record, encode_record};
use isobar_storage::{
    ColumnType, ColumnValues, Db, Options, Run, SeriesSelector, SeriesWrite, SyncPolicy, TableChange, TableSpec,
    TimeRange, WriteBatch,
};
use prost::Message;

use crate::scratch;

/// One seed: target name, file name, bytes.
pub type Seed = (&'static str, String, Vec<u8>);

/// A database directory's manifest files, as `(relative path, bytes)`, and its last seq.
#[derive(Clone, Debug)]
pub struct DbTemplate {
    /// `CURRENT` and the manifest it names.
    pub files: Vec<(String, Vec<u8>)>,
    /// The manifest's last sequence number.
    pub last_seq: u64,
}

/// Every seed of every target.
pub fn corpus() -> Vec<Seed> {
    let mut out: Vec<Seed> = Vec::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| out.push((target, name.to_string(), bytes));
    add("sst_file", "valid", sstable());
    add("sst_file", "empty_table", sstable_empty());
    for (name, edits) in sst_edits() {
        add("sst_mutated", name, edits);
    }
    for (name, bytes) in wal_segments() {
        add("wal_segment", name, bytes);
    }
    for (i, payload) in wal_payloads().into_iter().enumerate() {
        add("wal_payload", &format!("write_{i}"), payload.clone());
        add("wal_payload_flush", &format!("write_{i}"), payload);
    }
    let manifests = manifests();
    for (name, bytes) in &manifests {
        add("manifest_file", name, bytes.clone());
        add("manifest_records", name, manifest_lines(bytes));
    }
    for (name, bytes) in encoded_columns() {
        add("encoding", name, bytes);
    }
    for (name, bytes) in write_requests() {
        add("grpc_write", name, bytes);
    }
    for (name, bytes) in line_protocol_bodies() {
        add("line_protocol", name, bytes);
    }
    for (name, bytes) in pg_conversations() {
        add("pg_frontend", name, bytes);
    }
    out
}

/// Seeds of `pg_frontend`: byte 0 is the state (1: before startup), then messages as clients
/// send them: a startup message and an `SSLRequest`, a password, a simple query with two
/// statements, and an extended-protocol round (Parse with a typed parameter, Bind with a binary
/// value, Describe, Execute, Sync) followed by Close and Terminate.
fn pg_conversations() -> Vec<(&'static str, Vec<u8>)> {
    use pgwire::messages::Message;
    use pgwire::messages::extendedquery::{Bind, Close, Describe, Execute, Parse, Sync};
    use pgwire::messages::simplequery::Query;
    use pgwire::messages::startup::{Password, SslRequest, Startup};
    use pgwire::messages::terminate::Terminate;

    fn with<M: Message>(mut out: Vec<u8>, message: &M) -> Vec<u8> {
        let mut buf = bytes::BytesMut::new();
        message.encode(&mut buf).expect("a seed message encodes");
        out.extend_from_slice(&buf);
        out
    }
    let mut startup = Startup::new();
    startup.parameters.insert("user".into(), "grafana".into());
    startup.parameters.insert("database".into(), "isobar".into());
    startup.parameters.insert("application_name".into(), "psql".into());
    let typed = Parse::new(Some("s1".into()), "SELECT series, ts FROM weather.env WHERE ts > $1".into(), vec![1184]);
    let value = bytes::Bytes::from(0i64.to_be_bytes().to_vec());
    let bind = Bind::new(Some("p1".into()), Some("s1".into()), vec![1], vec![Some(value), None], vec![1]);
    vec![
        ("startup", with(vec![1], &startup)),
        ("ssl_request", with(vec![1], &SslRequest::new())),
        ("password", with(vec![0], &Password::new("secret-token".into()))),
        ("simple_query", with(vec![0], &Query::new("SET application_name = 'x'; SELECT 1".into()))),
        (
            "extended_round",
            with(
                with(
                    with(
                        with(
                            with(with(with(vec![0], &typed), &bind), &Describe::new(b'P', Some("p1".into()))),
                            &Execute::new(Some("p1".into()), 100),
                        ),
                        &Sync::new(),
                    ),
                    &Close::new(b'S', Some("s1".into())),
                ),
                &Terminate::new(),
            ),
        ),
    ]
}

/// Seeds of `line_protocol`: byte 0 picks the precision (0 ns, 1 us, 2 ms, 3 s), the rest is a
/// body. Every feature of the syntax appears once: tags, escapes, every field type, quoted
/// strings with escapes and a newline, comments, `\r\n`, lines without a timestamp, a field
/// written twice, sparse fields across lines of one series, several measurements, and bodies
/// the mapper refuses (a type conflict, `NaN`, a bad table name).
fn line_protocol_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let bodies: [(&str, u8, &str); 8] = [
        (
            "weather",
            3,
            "weather,station=KSEA,region=us-west temp_c=11.5,ok=t,count=3i,seen=7u,note=\"dry\" 1700000000\n\
             weather,station=KSEA temp_c=11.7 1700000060\n",
        ),
        ("escapes", 0, "esc,host=a\\,b,k\\=x=v\\ w f\\,1=1,f\\ 2=\"q\\\"uote\\\\\" 1\n"),
        (
            "multiline_string",
            2,
            "logs,app=web msg=\"first\nsecond\" 1700000000000\n# a comment\n\r\nlogs msg=\"x\"\r\n",
        ),
        ("no_timestamp", 0, "cpu,host=h1 usage=0.5\ncpu,host=h2 usage=0.7,idle=99.0\n"),
        ("sparse_and_duplicate", 1, "m,s=1 a=1,b=2 10\nm,s=1 c=3i 11\nm,s=1 a=4,a=5 12\nn x=t\n"),
        ("type_conflict", 0, "m,s=1 a=1 1\nm,s=1 a=\"text\" 2\n"),
        ("nan", 0, "m a=NaN 1\n"),
        ("bad_table", 0, "9bad\\ name?,t=1 a=1 1\n"),
    ];
    bodies
        .into_iter()
        .map(|(name, precision, body)| {
            let mut bytes = vec![precision];
            bytes.extend_from_slice(body.as_bytes());
            (name, bytes)
        })
        .collect()
}

fn harness<T, E: Display>(what: &str, r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("fuzz harness: {what}: {e}"),
    }
}

/// The tables of the fixed catalog: `weather` (two families, every column type) and `fleet`
/// (dynamic columns).
pub fn catalog_specs() -> Vec<TableSpec> {
    vec![
        TableSpec::new("weather")
            .family("obs", &[("temperature", ColumnType::F64), ("pressure", ColumnType::I64)])
            .family("meta", &[("ok", ColumnType::Bool), ("note", ColumnType::String)]),
        TableSpec::new("fleet").family("m", &[("speed", ColumnType::I64)]).dynamic_columns(true),
    ]
}

fn sst_schema() -> Vec<ColumnSchema> {
    let col = |id, name: &str, ty| ColumnSchema { id, name: name.into(), ty };
    vec![
        col(0, "temperature", ColumnType::F64),
        col(1, "pressure", ColumnType::I64),
        col(2, "ok", ColumnType::Bool),
        col(3, "note", ColumnType::String),
    ]
}

/// A small valid SSTable: three series, every column type, nulls, a missing column, and pages
/// of 5 rows so that series span pages and pages hold several series.
pub fn sstable() -> Vec<u8> {
    let runs = [("station=KBOS", 0..4), ("station=KSEA", 4..10), ("station=PANC", 10..12)];
    write_sstable(runs.iter().map(|(series, rows)| {
        let rows: Vec<i64> = rows.clone().collect();
        let n = rows.len();
        let ts: Vec<i64> = rows.iter().map(|r| 1_700_000_000_000_000_000 + r * 60_000_000_000).collect();
        let f: ArrayRef =
            Arc::new(Float64Array::from_iter(rows.iter().map(|r| (r % 3 != 1).then_some(*r as f64 / 4.0))));
        let i: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| 1000 - r)));
        let b: ArrayRef = Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(r % 2 == 0))));
        let s: ArrayRef = Arc::new(StringArray::from_iter(rows.iter().map(|r| (r % 4 != 0).then(|| format!("n{r}")))));
        let mut columns = vec![(0, f), (1, i), (2, b), (3, s)];
        if series.ends_with("PANC") {
            columns.remove(1);
        }
        Run { series: (*series).into(), ts: ts.into(), seq: vec![7u64; n].into(), columns }
    }))
}

/// A valid SSTable with no rows.
fn sstable_empty() -> Vec<u8> {
    write_sstable(std::iter::empty())
}

fn write_sstable(runs: impl Iterator<Item = Run>) -> Vec<u8> {
    let dir = scratch::dir();
    let path = dir.path().join("seed.sst");
    let opts = SstWriterOptions { rows_per_page: 5, zstd_level: 3, parallel_encode: false };
    let mut w = harness("create the seed SSTable", SstWriter::create(&path, 1, sst_schema(), opts));
    for run in runs {
        harness("append to the seed SSTable", w.append(&run));
    }
    harness("finish the seed SSTable", w.finish());
    harness("read the seed SSTable", std::fs::read(&path))
}

/// Seeds of `sst_mutated`: no edit, checksums repaired with no edit, and a few edits.
fn sst_edits() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("identity", vec![0]),
        ("repaired_identity", vec![1]),
        ("flip_first_byte", vec![0, 0, 0, 0x01]),
        ("repaired_flip_meta_tail", vec![1, 70, 0x80, 0x20]),
        ("repaired_flip_data", vec![1, 9, 0, 0xff, 40, 0, 0x10]),
    ]
}

/// Seeds of `wal_segment`: a segment with records, two segments, a torn tail, a header alone.
fn wal_segments() -> Vec<(&'static str, Vec<u8>)> {
    let segment = |number, first: u64, records: &[&[u8]]| {
        let mut out = Vec::new();
        SegmentHeader { number, first_seq: first }.encode(&mut out);
        for (i, r) in records.iter().enumerate() {
            encode_record(&mut out, first + i as u64, r);
        }
        out
    };
    let one = segment(1, 1, &[b"first", b"", b"third record"]);
    let mut two = one.clone();
    two.extend(segment(2, 4, &[b"fourth", b"fifth"]));
    let mut torn = one.clone();
    torn.truncate(torn.len() - 5);
    vec![("one_segment", one), ("two_segments", two), ("torn_tail", torn), ("header_only", segment(1, 1, &[]))]
}

/// A database with the tables of [`catalog_specs`] and nothing else.
pub fn db_template() -> DbTemplate {
    let dir = scratch::dir();
    let db = harness("open the template database", Db::open(dir.path(), quiet_options()));
    for spec in catalog_specs() {
        harness("create a template table", db.create_table(spec));
    }
    harness("close the template database", db.close());
    let current = harness("read CURRENT", std::fs::read(dir.path().join("CURRENT")));
    let name = String::from_utf8_lossy(&current).trim().to_string();
    let manifest = harness("read the template manifest", std::fs::read(dir.path().join(&name)));
    let last_seq =
        harness("reopen the template manifest", isobar_storage::manifest::Manifest::create_or_open(dir.path()))
            .1
            .last_seq;
    DbTemplate { files: vec![("CURRENT".into(), current), (name, manifest)], last_seq }
}

fn quiet_options() -> Options {
    let mut opts = Options { sync: SyncPolicy::Always, ..Options::default() };
    opts.compaction.background = false;
    opts
}

fn sample_writes() -> Vec<WriteBatch> {
    let t0 = 1_700_000_000_000_000_000i64;
    let ts = |n: i64| (0..n).map(|i| t0 + i * 1_000_000_000).collect::<Vec<_>>();
    let mut dense = WriteBatch::new();
    dense.push(
        SeriesWrite::new("weather", "station=KSEA", ts(3))
            .column("obs", "temperature", ColumnValues::F64(vec![11.5, f64::NAN, -0.0]))
            .column("obs", "pressure", ColumnValues::I64(vec![1013, 1012, i64::MIN])),
    );
    let mut sparse = WriteBatch::new();
    sparse.push(
        SeriesWrite::new("weather", "station=KBOS", ts(4))
            .sparse_column(
                "meta",
                "ok",
                ColumnValues::Bool(vec![true, false, true, false]),
                vec![true, true, false, true],
            )
            .sparse_column(
                "meta",
                "note",
                ColumnValues::String(vec!["calm".into(), String::new(), "ü".into(), "gust".into()]),
                vec![true, false, true, true],
            ),
    );
    sparse.push(SeriesWrite::new("fleet", "truck_7", ts(2)).column("m", "speed", ColumnValues::I64(vec![40, 41])));
    let mut dynamic = WriteBatch::new();
    dynamic.push(
        SeriesWrite::new("fleet", "truck_8", ts(2)).column("m", "speed", ColumnValues::I64(vec![1, 2])).column(
            "m",
            "heading",
            ColumnValues::F64(vec![90.0, 91.5]),
        ),
    );
    vec![dense, sparse, dynamic]
}

/// Payloads of real WAL records: [`sample_writes`] written through a database opened on
/// [`db_template`]'s files.
fn wal_payloads() -> Vec<Vec<u8>> {
    let template = db_template();
    let dir = scratch::dir();
    for (name, bytes) in &template.files {
        scratch::write(&dir.path().join(name), bytes);
    }
    let db = harness("open the seed database", Db::open(dir.path(), quiet_options()));
    for batch in sample_writes() {
        harness("write a seed batch", db.write(batch));
    }
    let payloads = wal_records(&dir.path().join("wal"));
    harness("close the seed database", db.close());
    payloads
}

/// The payloads of every record in the WAL directory `dir`.
fn wal_records(dir: &Path) -> Vec<Vec<u8>> {
    let mut names: Vec<_> = harness("list the seed WAL", std::fs::read_dir(dir))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for path in names {
        let bytes = harness("read a seed WAL segment", std::fs::read(&path));
        let mut pos = isobar_storage::wal::format::SEGMENT_HEADER_LEN;
        while let Ok(record) = decode_record(&bytes, pos) {
            out.push(record.payload.to_vec());
            pos = record.end;
        }
    }
    out
}

/// Real manifest files: the log of a database that created, altered and dropped tables, wrote,
/// flushed and deleted; and the same state rotated into a snapshot.
fn manifests() -> Vec<(&'static str, Vec<u8>)> {
    let dir = scratch::dir();
    let db = harness("open the manifest seed database", Db::open(dir.path(), quiet_options()));
    for spec in catalog_specs() {
        harness("create a seed table", db.create_table(spec));
    }
    for batch in sample_writes() {
        harness("write a seed batch", db.write(batch));
    }
    harness("flush the seed database", db.flush());
    let change = TableChange::SetTtl { family: Some("meta".into()), ttl_ns: Some(86_400_000_000_000) };
    harness("alter a seed table", db.alter_table("weather", change));
    let range = TimeRange::new(0, 1_700_000_001_000_000_000);
    harness("delete from a seed table", db.delete("weather", None, SeriesSelector::Prefix("station=K".into()), range));
    harness("create a seed table", db.create_table(TableSpec::new("scratch").family("f", &[("x", ColumnType::Bool)])));
    harness("drop a seed table", db.drop_table("scratch"));
    harness("close the manifest seed database", db.close());
    let log = read_live_manifest(dir.path());
    let (mut manifest, state) =
        harness("reopen the seed manifest", isobar_storage::manifest::Manifest::create_or_open(dir.path()));
    harness("rotate the seed manifest", manifest.rotate(&state));
    drop(manifest);
    let snapshot = read_live_manifest(dir.path());
    vec![("log", log), ("snapshot", snapshot)]
}

fn read_live_manifest(dir: &Path) -> Vec<u8> {
    let current = harness("read CURRENT", std::fs::read_to_string(dir.join("CURRENT")));
    harness("read the live manifest", std::fs::read(dir.join(current.trim())))
}

/// The payloads of a manifest file's records, one per line (the input form of
/// `manifest_records`).
pub fn manifest_lines(file: &[u8]) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut rest = file;
    while let [a, b, c, d, _, _, _, _, tail @ ..] = rest {
        let len = u32::from_le_bytes([*a, *b, *c, *d]) as usize;
        let Some(payload) = tail.get(..len) else { break };
        lines.push(payload);
        rest = &tail[len..];
    }
    lines.join(&b'\n')
}

/// Seeds of `encoding`: each column type with nulls, and integers, in the target's input form.
fn encoded_columns() -> Vec<(&'static str, Vec<u8>)> {
    let frame = |pick: u8, n: usize, body: Vec<u8>| {
        let mut out = vec![pick];
        out.extend_from_slice(&(n as u32).to_le_bytes());
        out.extend(body);
        out
    };
    let array = |a: ArrayRef| {
        let mut out = Vec::new();
        harness("encode a seed column", encode_array(a.as_ref(), &mut out, 3));
        out
    };
    let f: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.5), None, Some(f64::NAN), Some(-0.0)]));
    let i: ArrayRef = Arc::new(Int64Array::from(vec![Some(i64::MIN), Some(0), None, Some(i64::MAX)]));
    let b: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), None, Some(false), Some(true)]));
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some(""), Some("ünïcode")]));
    let mut ts = Vec::new();
    let steps: Vec<i64> = (0..16).map(|k| 1_700_000_000_000_000_000 + k * 1_000_000_000 + k % 3).collect();
    encode_ints(&steps, IntKind::Timestamp, &mut ts, 3);
    let mut seq = Vec::new();
    encode_ints(&[1, 2, 2, 3, 9, 100], IntKind::Sequence, &mut seq, 3);
    vec![
        ("f64", frame(0, 4, array(f))),
        ("i64", frame(1, 4, array(i))),
        ("bool", frame(2, 4, array(b))),
        ("string", frame(3, 4, array(s))),
        ("ints_timestamps", frame(4, 16, ts)),
        ("ints_sequence", frame(4, 6, seq)),
    ]
}

/// Seeds of `grpc_write`: columnar batches (every type, validity bitmaps, a new dynamic
/// column), row-oriented points, and a request the catalog refuses.
fn write_requests() -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let names = ["dense", "sparse", "dynamic_column"];
    for (name, batch) in names.into_iter().zip(sample_writes()) {
        out.push((name, batch_to_request(batch).encode_to_vec()));
    }
    let cell = |family: &str, column: &str, value| Cell {
        family: family.into(),
        column: column.into(),
        value: Some(value),
        null: false,
    };
    let rows = WriteRequest {
        batches: Vec::new(),
        rows: vec![
            Row {
                table: "weather".into(),
                series: "station=KSEA".into(),
                ts: 1_700_000_000_000_000_000,
                cells: vec![
                    cell("obs", "temperature", cell::Value::F64Value(11.5)),
                    cell("meta", "ok", cell::Value::BoolValue(true)),
                ],
            },
            Row {
                table: "weather".into(),
                series: "station=KSEA".into(),
                ts: 1_700_000_001_000_000_000,
                cells: vec![cell("meta", "note", cell::Value::StringValue("gust".into()))],
            },
            Row {
                table: "fleet".into(),
                series: "truck_9".into(),
                ts: 1_700_000_000_000_000_000,
                cells: vec![cell("m", "speed", cell::Value::I64Value(-3))],
            },
        ],
        ..Default::default()
    };
    out.push(("rows", rows.encode_to_vec()));
    let wrong_type = WriteRequest {
        batches: Vec::new(),
        rows: vec![Row {
            table: "weather".into(),
            series: "station=KSEA".into(),
            ts: 1,
            cells: vec![cell("obs", "temperature", cell::Value::StringValue("warm".into()))],
        }],
        ..Default::default()
    };
    out.push(("wrong_type", wrong_type.encode_to_vec()));
    out
}
