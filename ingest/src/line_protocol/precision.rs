//! The unit of line-protocol timestamps (`precision` query parameter).

/// Timestamp unit of a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Nanoseconds (`ns`, `n`; the default).
    #[default]
    Nanoseconds,
    /// Microseconds (`us`, `u`, `µs`).
    Microseconds,
    /// Milliseconds (`ms`).
    Milliseconds,
    /// Seconds (`s`).
    Seconds,
}

impl Precision {
    /// Parses the v1 (`n`, `u`, `ms`, `s`) and v2 (`ns`, `us`, `ms`, `s`) spellings.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "ns" | "n" => Precision::Nanoseconds,
            "us" | "u" | "µs" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            _ => return None,
        })
    }

    /// Nanoseconds per unit.
    pub fn factor(self) -> i64 {
        match self {
            Precision::Nanoseconds => 1,
            Precision::Microseconds => 1_000,
            Precision::Milliseconds => 1_000_000,
            Precision::Seconds => 1_000_000_000,
        }
    }

    /// `ts` in nanoseconds; `None` on overflow.
    pub fn to_nanos(self, ts: i64) -> Option<i64> {
        ts.checked_mul(self.factor())
    }

    /// The v2 name (`ns`, `us`, `ms`, `s`).
    pub fn name(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "ns",
            Precision::Microseconds => "us",
            Precision::Milliseconds => "ms",
            Precision::Seconds => "s",
        }
    }
}
