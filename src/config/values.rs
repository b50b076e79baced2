//! Value types of the config file that need more than a number or a string: byte sizes,
//! durations, the WAL sync policy and the log format. Each parses from the same text in the file
//! and in an environment variable, and prints back in a form it parses.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use isobar_storage::SyncPolicy;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Why a value could not be parsed; `expected` says what would have been accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}")]
pub struct ValueError {
    /// What the value should look like.
    pub expected: &'static str,
}

/// A size in bytes: an integer, or a number with a unit (`B`, `KiB`, `MiB`, `GiB`, `TiB`, or the
/// decimal `KB`, `MB`, `GB`, `TB`; case-insensitive), e.g. `64MiB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

const BYTE_SIZE: &str = "a byte size such as 1048576, 512KiB, 64MiB or 1GiB";

impl FromStr for ByteSize {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let err = ValueError { expected: BYTE_SIZE };
        let (number, unit) = split_number(s.trim()).ok_or(err.clone())?;
        let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" => 1 << 10,
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            "tib" => 1 << 40,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => return Err(err),
        };
        number.checked_mul(scale).map(ByteSize).ok_or(err)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 4] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        for (scale, unit) in UNITS {
            if self.0 >= scale && self.0.is_multiple_of(scale) {
                return write!(f, "{}{unit}", self.0 / scale);
            }
        }
        write!(f, "{}", self.0)
    }
}

impl ByteSize {
    /// The size as `usize`, saturating on 32-bit targets.
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

/// A duration: a whole number with a unit `ns`, `us`, `ms`, `s`, `m`, `h` or `d`, e.g. `100ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationValue(pub Duration);

const DURATION: &str = "a duration such as 500ms, 5s, 10m, 1h or 30d";

impl FromStr for DurationValue {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let err = ValueError { expected: DURATION };
        let (number, unit) = split_number(s.trim()).ok_or(err.clone())?;
        let nanos_per: u64 = match unit.trim() {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            _ => return Err(err),
        };
        let nanos = number.checked_mul(nanos_per).ok_or(err)?;
        Ok(DurationValue(Duration::from_nanos(nanos)))
    }
}

impl fmt::Display for DurationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u128, &str); 6] = [
            (86_400_000_000_000, "d"),
            (3_600_000_000_000, "h"),
            (60_000_000_000, "m"),
            (1_000_000_000, "s"),
            (1_000_000, "ms"),
            (1_000, "us"),
        ];
        let nanos = self.0.as_nanos();
        for (scale, unit) in UNITS {
            if nanos >= scale && nanos.is_multiple_of(scale) {
                return write!(f, "{}{unit}", nanos / scale);
            }
        }
        write!(f, "{nanos}ns")
    }
}

/// The WAL sync policy as written in config: `always`, `none`, or `interval:<duration>` (in the
/// file also the table `{ interval_ms = 100 }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncSetting(pub SyncPolicy);

const SYNC: &str = "always, none or interval:<duration> (e.g. interval:100ms)";

impl FromStr for SyncSetting {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "always" => return Ok(SyncSetting(SyncPolicy::Always)),
            "none" => return Ok(SyncSetting(SyncPolicy::None)),
            _ => {}
        }
        let interval = s.strip_prefix("interval:").ok_or(ValueError { expected: SYNC })?;
        let DurationValue(every) = interval.parse().map_err(|_| ValueError { expected: SYNC })?;
        if every.is_zero() {
            return Err(ValueError { expected: SYNC });
        }
        Ok(SyncSetting(SyncPolicy::Interval(every)))
    }
}

impl fmt::Display for SyncSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SyncPolicy::Always => f.write_str("always"),
            SyncPolicy::None => f.write_str("none"),
            SyncPolicy::Interval(every) => write!(f, "interval:{}", DurationValue(every)),
        }
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event (the default).
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            _ => Err(ValueError { expected: "human or json" }),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        })
    }
}

/// Whether human-readable log lines carry ANSI colour codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogColor {
    /// Colour only when standard error is a terminal and `NO_COLOR` is unset or empty (the
    /// default): a log file or a pipe to a collector gets plain text.
    #[default]
    Auto,
    /// Always colour (a terminal that `isatty` does not recognise, a viewer that renders ANSI).
    Always,
    /// Never colour.
    Never,
}

impl LogColor {
    /// Whether to colour, given whether standard error is a terminal and the value of
    /// `NO_COLOR` (<https://no-color.org>: set and non-empty turns colour off).
    pub fn enabled(self, stderr_is_terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            LogColor::Always => true,
            LogColor::Never => false,
            LogColor::Auto => stderr_is_terminal && no_color.is_none_or(str::is_empty),
        }
    }
}

impl FromStr for LogColor {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(LogColor::Auto),
            "always" => Ok(LogColor::Always),
            "never" => Ok(LogColor::Never),
            _ => Err(ValueError { expected: "auto, always or never" }),
        }
    }
}

impl fmt::Display for LogColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogColor::Auto => "auto",
            LogColor::Always => "always",
            LogColor::Never => "never",
        })
    }
}

/// Splits `12MiB` into `(12, "MiB")`; `None` when there is no leading integer or it overflows.
fn split_number(s: &str) -> Option<(u64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = s.split_at_checked(digits)?;
    Some((number.parse().ok()?, unit))
}

/// Serde for the string-typed values: serialized as their display text.
macro_rules! serde_as_text {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    };
}
serde_as_text!(DurationValue);
serde_as_text!(SyncSetting);
serde_as_text!(LogFormat);
serde_as_text!(LogColor);

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(1024) && self.0 > 0 {
            serializer.collect_str(self)
        } else {
            serializer.serialize_u64(self.0)
        }
    }
}

/// Accepts a string parsed with `FromStr`, or (when `int` is given) an integer.
struct TextVisitor<T> {
    expected: &'static str,
    int: Option<fn(u64) -> T>,
}

impl<T: FromStr<Err = ValueError>> de::Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(|e: ValueError| E::custom(format!("invalid value \"{v}\", {e}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        match (self.int, u64::try_from(v)) {
            (Some(make), Ok(v)) => Ok(make(v)),
            _ => Err(E::invalid_type(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        match self.int {
            Some(make) => Ok(make(v)),
            None => Err(E::invalid_type(de::Unexpected::Unsigned(v), &self)),
        }
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor { expected: BYTE_SIZE, int: Some(ByteSize) })
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor::<DurationValue> { expected: DURATION, int: None })
    }
}

impl<'de> Deserialize<'de> for LogColor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor::<LogColor> { expected: "auto, always or never", int: None })
    }
}

impl<'de> Deserialize<'de> for LogFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor::<LogFormat> { expected: "human or json", int: None })
    }
}

impl<'de> Deserialize<'de> for SyncSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The table form `{ interval_ms = N }`.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct IntervalTable {
            interval_ms: u64,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Table(IntervalTable),
        }
        let expected = "always, none, interval:<duration> or { interval_ms = N }";
        match Raw::deserialize(d).map_err(|_| de::Error::custom(format!("expected {expected}")))? {
            Raw::Text(s) => s.parse().map_err(|e: ValueError| de::Error::custom(format!("invalid value \"{s}\", {e}"))),
            Raw::Table(IntervalTable { interval_ms: 0 }) => Err(de::Error::custom("interval_ms must be at least 1")),
            Raw::Table(IntervalTable { interval_ms }) => {
                Ok(SyncSetting(SyncPolicy::Interval(Duration::from_millis(interval_ms))))
            }
        }
    }
}
