//! A writer of the Prometheus text exposition format, version 0.0.4.
//!
//! ```text
//! # HELP isobar_flushes_total Memtable flushes since the server started.
//! # TYPE isobar_flushes_total counter
//! isobar_flushes_total 3
//! # HELP isobar_sstables SSTables per table and column family.
//! # TYPE isobar_sstables gauge
//! isobar_sstables{table="weather",family="env"} 2
//! # TYPE isobar_wal_sync_duration_seconds histogram
//! isobar_wal_sync_duration_seconds_bucket{le="0.0001"} 0
//! ...
//! isobar_wal_sync_duration_seconds_bucket{le="+Inf"} 7
//! isobar_wal_sync_duration_seconds_sum 0.0123
//! isobar_wal_sync_duration_seconds_count 7
//! ```
//!
//! Rules the writer keeps: every family is declared once (`# HELP`, `# TYPE`) right before its
//! samples, which are contiguous; label values escape `\`, `"` and newline, help text escapes
//! `\` and newline; integers print exactly, floats in Rust's shortest round-trip form, with
//! `+Inf`, `-Inf` and `NaN` spelled as Prometheus expects. Metric and label names are fixed in
//! the code (checked by the tests), never taken from data; only label values come from data.

use std::fmt::Write as _;

use isobar_storage::{HistogramSnapshot, LATENCY_BOUNDS_SECONDS};

/// The content type of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The type of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets on restart); the name ends in `_total`.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets, sum and count.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A sample value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// An exact count.
    Int(u64),
    /// Anything else.
    Float(f64),
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(v)
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(v as u64)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

/// Builds one exposition text.
#[derive(Debug, Default)]
pub struct TextWriter {
    out: String,
    /// The family whose samples are being written.
    current: String,
}

impl TextWriter {
    /// Declares the family `name` of `kind`; its samples follow.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        self.current.clear();
        self.current.push_str(name);
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// A sample of the current family with `labels`.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: impl Into<Value>) {
        let name = std::mem::take(&mut self.current);
        self.line(&name, "", labels, None, value.into());
        self.current = name;
    }

    /// Declares a family with a single unlabelled sample.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: impl Into<Value>) {
        self.family(name, kind, help);
        self.sample(&[], value);
    }

    /// The buckets, sum and count of a histogram sample of the current family.
    pub fn histogram(&mut self, labels: &[(&str, &str)], h: &HistogramSnapshot) {
        let name = std::mem::take(&mut self.current);
        for (bound, count) in LATENCY_BOUNDS_SECONDS.iter().zip(&h.cumulative) {
            let le = format_float(*bound);
            self.line(&name, "_bucket", labels, Some(&le), Value::Int(*count));
        }
        self.line(&name, "_bucket", labels, Some("+Inf"), Value::Int(h.count));
        self.line(&name, "_sum", labels, None, Value::Float(h.sum_seconds));
        self.line(&name, "_count", labels, None, Value::Int(h.count));
        self.current = name;
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.out
    }

    fn line(&mut self, name: &str, suffix: &str, labels: &[(&str, &str)], le: Option<&str>, value: Value) {
        self.out.push_str(name);
        self.out.push_str(suffix);
        let le = le.map(|v| ("le", v));
        let mut all = labels.iter().copied().chain(le).peekable();
        if all.peek().is_some() {
            self.out.push('{');
            for (i, (k, v)) in all.enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_label_value(v, &mut self.out);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        match value {
            Value::Int(v) => {
                let _ = write!(self.out, "{v}");
            }
            Value::Float(v) => self.out.push_str(&format_float(v)),
        }
        self.out.push('\n');
    }
}

/// A float as the format spells it.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn escape_label_value(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}
