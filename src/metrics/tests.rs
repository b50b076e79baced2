//! The exposition is well formed: every sample belongs to a family declared once with `# TYPE`
//! just before its contiguous samples, names and labels are valid, values parse, counters end
//! in `_total`, histograms have ordered buckets ending in `+Inf` equal to `_count`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use isobar_storage::{ColumnType, ColumnValues, Db, Options, SeriesWrite, SyncPolicy, TableSpec};

use super::requests::RequestMetrics;
use super::text::{Kind, TextWriter, format_float};
use super::{MAX_RPCS, render};

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// One parsed sample line: name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

fn parse_sample(line: &str) -> Result<Sample, String> {
    let (name_end, rest) = match line.find(['{', ' ']) {
        Some(i) => (i, &line[i..]),
        None => return Err(format!("no value: {line}")),
    };
    let name = line[..name_end].to_string();
    let mut labels = Vec::new();
    let mut rest = rest;
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '}' {
                end = Some(i);
                break;
            }
            let key_start = i;
            let mut key_end = i;
            for (j, c) in chars.by_ref() {
                if c == '=' {
                    key_end = j;
                    break;
                }
            }
            let key = body[key_start..key_end].to_string();
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label {key} value is not quoted: {line}"));
            }
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        other => return Err(format!("bad escape {other:?}: {line}")),
                    },
                    Some((_, '"')) => break,
                    Some((_, '\n')) | None => return Err(format!("unterminated label value: {line}")),
                    Some((_, c)) => value.push(c),
                }
            }
            if !valid_name(&key) || key.starts_with("__") {
                return Err(format!("bad label name {key:?}: {line}"));
            }
            labels.push((key, value));
            if chars.peek().map(|(_, c)| *c) == Some(',') {
                chars.next();
            }
        }
        let end = end.ok_or_else(|| format!("unterminated labels: {line}"))?;
        rest = &body[end + 1..];
    }
    let value = rest.strip_prefix(' ').ok_or_else(|| format!("no space before the value: {line}"))?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().map_err(|_| format!("bad value {v:?}: {line}"))?,
    };
    Ok((name, labels, value))
}

/// Checks the whole text; returns the declared families and their types.
pub(super) fn check_exposition(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let mut histogram: BTreeMap<Vec<(String, String)>, (f64, bool)> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or_else(|| format!("bad TYPE line: {line}"))?;
            if !valid_name(name) {
                return Err(format!("bad metric name {name:?}"));
            }
            if !["counter", "gauge", "histogram"].contains(&kind) {
                return Err(format!("bad type {kind}"));
            }
            if types.insert(name.to_string(), kind.to_string()).is_some() {
                return Err(format!("{name} declared twice"));
            }
            if kind == "counter" && !name.ends_with("_total") {
                return Err(format!("counter {name} does not end in _total"));
            }
            if histogram.values().any(|(_, inf)| !inf) {
                return Err("a histogram lacks its +Inf bucket".into());
            }
            histogram.clear();
            current = Some((name.to_string(), kind.to_string()));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            if types.contains_key(name) {
                return Err(format!("HELP of {name} after its TYPE"));
            }
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            return Err(format!("unexpected line {line:?}"));
        }
        let (name, mut labels, value) = parse_sample(line)?;
        let (family, kind) = current.as_ref().ok_or_else(|| format!("sample before any TYPE: {line}"))?;
        let suffix = name.strip_prefix(family.as_str()).ok_or_else(|| format!("{name} outside family {family}"))?;
        let allowed: &[&str] = if kind == "histogram" { &["_bucket", "_sum", "_count"] } else { &[""] };
        if !allowed.contains(&suffix) {
            return Err(format!("{name} does not belong to the {kind} {family}"));
        }
        if kind == "counter" && (value.is_nan() || value < 0.0) {
            return Err(format!("negative counter: {line}"));
        }
        if suffix == "_bucket" {
            let le = labels.iter().position(|(k, _)| k == "le").ok_or_else(|| format!("bucket without le: {line}"))?;
            let (_, bound) = labels.remove(le);
            let entry = histogram.entry(labels).or_insert((0.0, false));
            if value < entry.0 {
                return Err(format!("buckets not cumulative: {line}"));
            }
            entry.0 = value;
            entry.1 |= bound == "+Inf";
        } else if suffix == "_count" {
            let (last, inf) = histogram.get(&labels).copied().unwrap_or((f64::NAN, false));
            if !inf || last != value {
                return Err(format!("_count {value} differs from the +Inf bucket {last}: {line}"));
            }
        }
    }
    Ok(types)
}

#[test]
fn the_checker_rejects_what_prometheus_rejects() {
    let good = "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\\\"\"} 1\n";
    assert!(check_exposition(good).is_ok());
    for bad in [
        "a_total 1\n",                                                                    // no TYPE
        "# TYPE a_total counter\nb_total 1\n",                                            // other family
        "# TYPE a counter\na 1\n",                                                        // counter without _total
        "# TYPE a gauge\na{k=\"v} 1\n",                                                   // unterminated
        "# TYPE a gauge\na one\n",                                                        // bad value
        "# TYPE a gauge\na 1\n# TYPE a gauge\na 2\n",                                     // declared twice
        "# TYPE 1a gauge\n1a 1\n",                                                        // bad name
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_count 2\n",                          // no +Inf
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",                       // count differs
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // not cumulative
    ] {
        assert!(check_exposition(bad).is_err(), "accepted: {bad}");
    }
}

#[test]
fn label_values_and_help_are_escaped() {
    let mut w = TextWriter::default();
    w.family("x", Kind::Gauge, "line one\nback\\slash");
    w.sample(&[("table", "we\"ird\\na\nme")], 1.5);
    let text = w.finish();
    assert!(text.contains("# HELP x line one\\nback\\\\slash\n"), "{text}");
    let types = check_exposition(&text).expect("well formed");
    assert_eq!(types["x"], "gauge");
    let sample = text.lines().last().expect("sample");
    let (_, labels, value) = parse_sample(sample).expect("parses");
    assert_eq!(labels, [("table".to_string(), "we\"ird\\na\nme".to_string())]);
    assert_eq!(value, 1.5);
}

#[test]
fn floats_are_spelled_as_prometheus_expects() {
    assert_eq!(format_float(f64::INFINITY), "+Inf");
    assert_eq!(format_float(f64::NEG_INFINITY), "-Inf");
    assert_eq!(format_float(f64::NAN), "NaN");
    assert_eq!(format_float(0.0001), "0.0001");
    assert_eq!(format_float(10.0), "10");
}

#[test]
fn a_full_exposition_of_a_live_database_is_well_formed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Options { sync: SyncPolicy::Always, ..Options::default() }).expect("opens");
    db.create_table(TableSpec::new("weather").family("env", &[("t", ColumnType::F64)])).expect("table");
    db.write(SeriesWrite::new("weather", "s", vec![1, 2]).column("env", "t", ColumnValues::F64(vec![1.0, 2.0])))
        .expect("write");
    db.flush().expect("flush");
    let requests = RequestMetrics::default();
    requests.rpc("/isobar.v1.Ingest/Write").record(0, Duration::from_millis(3));
    requests.rpc("/isobar.v1.Ingest/Write").record(3, Duration::from_millis(1));
    requests.rpc("/isobar.v1.Query/Scan").record(99, Duration::from_secs(20));
    let text = render(&db.metrics(), &requests);
    let types = check_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for (name, kind) in [
        ("isobar_ingest_points_total", "counter"),
        ("isobar_wal_sync_duration_seconds", "histogram"),
        ("isobar_grpc_request_duration_seconds", "histogram"),
        ("isobar_sstables", "gauge"),
    ] {
        assert_eq!(types.get(name).map(String::as_str), Some(kind), "{name}");
    }
    assert!(text.contains("isobar_ingest_points_total 2\n"), "{text}");
    assert!(text.contains("isobar_flushes_total 1\n"));
    assert!(text.contains("isobar_sstables{table=\"weather\",family=\"env\"} 1\n"));
    assert!(text.contains("isobar_grpc_requests_total{rpc=\"isobar.v1.Ingest/Write\",code=\"OK\"} 1\n"));
    assert!(text.contains("isobar_grpc_requests_total{rpc=\"isobar.v1.Ingest/Write\",code=\"INVALID_ARGUMENT\"} 1\n"));
    assert!(text.contains("isobar_grpc_requests_total{rpc=\"isobar.v1.Query/Scan\",code=\"UNKNOWN\"} 1\n"));
    assert!(
        text.contains("isobar_grpc_request_duration_seconds_bucket{rpc=\"isobar.v1.Query/Scan\",le=\"10\"} 0\n"),
        "20 s is above the last bound"
    );
    db.close().expect("close");
}

#[test]
fn rpc_labels_are_only_served_methods() {
    let requests = RequestMetrics::default();
    for i in 0..MAX_RPCS + 10 {
        requests.rpc(&format!("/junk.Service/M{i}")).record(12, Duration::ZERO);
    }
    requests.rpc("/grpc.health.v1.Health/Made_up_by_the_client").record(12, Duration::ZERO);
    requests.rpc("/isobar.v1.Ingest/Write").record(0, Duration::ZERO);
    requests.rpc("/grpc.health.v1.Health/Check").record(0, Duration::ZERO);
    let names: BTreeSet<String> = requests.snapshot().into_iter().map(|(n, _)| n).collect();
    let expected: BTreeSet<String> =
        ["other", "isobar.v1.Ingest/Write", "grpc.health.v1.Health/Check"].into_iter().map(String::from).collect();
    assert_eq!(names, expected, "client-chosen paths never become label values");
    let other = requests.snapshot().into_iter().find(|(n, _)| n == "other").expect("other").1;
    assert_eq!(other.codes, [("UNIMPLEMENTED", MAX_RPCS as u64 + 11)]);
}
