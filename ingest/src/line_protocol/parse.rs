//! A parser of InfluxDB line protocol that borrows from the request body.
//!
//! ```text
//! weather,station=KSEA,region=us-west temp_c=11.5,ok=true,count=3i,note="dry" 1700000000000000000
//! └──────┘└──────────────────────────┘ └────────────────────────────────────┘ └─────────────────┘
//! measurement  tag set (optional)       field set (at least one)              timestamp (optional)
//! ```
//!
//! - Sections are separated by one or more spaces; lines by `\n` (a `\r` before it is ignored).
//!   Empty lines and lines whose first non-blank character is `#` are skipped.
//! - Escapes in the measurement, tag keys, tag values and field keys: a backslash before `,`,
//!   `=`, a space or another backslash stands for that character; a backslash before anything
//!   else is a literal backslash.
//! - Field values: `1.5`, `-2e3` (float); `3i` (integer); `7u` (unsigned); `t`, `T`, `true`,
//!   `True`, `TRUE`, `f`, `F`, `false`, `False`, `FALSE` (boolean); `"text"` (string, where `\"`
//!   and `\\` are escapes and a newline may appear inside the quotes). `NaN` and infinities are
//!   refused, as InfluxDB does.
//! - The timestamp is a signed integer in the request's precision; absent, the caller supplies
//!   the time of the request.
//!
//! Names and strings without escapes are borrowed from the body; the [`Line`] buffers are reused
//! from one line to the next, so parsing allocates only for escaped tokens. The parser never
//! panics, whatever the bytes: every position is checked (see the proptest in `parse/tests.rs`).

use std::borrow::Cow;

use super::error::{LineError, LineErrorKind};

/// A field value as written.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// A float (`1.5`).
    Float(f64),
    /// A signed integer (`3i`).
    Integer(i64),
    /// An unsigned integer (`7u`).
    Unsigned(u64),
    /// A boolean (`t`, `false`, ...).
    Boolean(bool),
    /// A string (`"text"`), unescaped.
    String(Cow<'a, str>),
}

/// One parsed line; its vectors are reused by [`Parser::next_line`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Line<'a> {
    /// 1-based number of the line in the body (the line the record starts on).
    pub number: usize,
    /// The measurement, unescaped.
    pub measurement: Cow<'a, str>,
    /// Tag `(key, value)` pairs in the order written, unescaped.
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Field `(key, value)` pairs in the order written.
    pub fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
    /// The timestamp as written (in the request's precision), if any.
    pub timestamp: Option<i64>,
}

/// Parses a body line by line.
#[derive(Clone, Debug)]
pub struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

/// Characters that end a measurement.
const MEASUREMENT_END: &[u8] = b", \n";
/// Characters that end a tag or field key.
const KEY_END: &[u8] = b"=, \n";
/// Characters that end a tag value or an unquoted field value.
const VALUE_END: &[u8] = b", \r\n";

impl<'a> Parser<'a> {
    /// A parser over `text`.
    pub fn new(text: &'a str) -> Self {
        Self { text, bytes: text.as_bytes(), pos: 0, line: 1 }
    }

    /// Parses the next record into `out`; `Ok(false)` when the body is exhausted.
    pub fn next_line(&mut self, out: &mut Line<'a>) -> Result<bool, LineError> {
        if !self.skip_blank_and_comments() {
            return Ok(false);
        }
        out.number = self.line;
        out.tags.clear();
        out.fields.clear();
        out.timestamp = None;
        let result = self.record(out);
        if result.is_err() {
            // Leave the parser at the next line so that a caller may go on (it normally stops).
            self.skip_to_next_line();
        }
        result.map(|()| true)
    }

    /// Skips blank lines and comments; `false` at the end of the body.
    fn skip_blank_and_comments(&mut self) -> bool {
        loop {
            match self.peek() {
                None => return false,
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                Some(b'#') => self.skip_to_next_line(),
                Some(_) => return true,
            }
        }
    }

    fn skip_to_next_line(&mut self) {
        while let Some(b) = self.peek() {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
                return;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, line: usize, kind: LineErrorKind) -> LineError {
        LineError { line, kind }
    }

    /// Parses one record starting at the current position.
    fn record(&mut self, out: &mut Line<'a>) -> Result<(), LineError> {
        let line = out.number;
        let measurement = self.token(MEASUREMENT_END);
        if measurement.is_empty() {
            return Err(self.error(line, LineErrorKind::MissingMeasurement));
        }
        out.measurement = unescape_name(measurement);
        while self.peek() == Some(b',') {
            self.pos += 1;
            let key = self.token(KEY_END);
            if key.is_empty() {
                return Err(self.error(line, LineErrorKind::EmptyTagKey));
            }
            if self.peek() != Some(b'=') {
                return Err(self.error(line, LineErrorKind::TagWithoutValue { key: shorten(key) }));
            }
            self.pos += 1;
            let value = self.token(VALUE_END);
            if value.is_empty() {
                return Err(self.error(line, LineErrorKind::TagWithoutValue { key: shorten(key) }));
            }
            out.tags.push((unescape_name(key), unescape_name(value)));
        }
        if !self.skip_spaces() {
            return Err(self.error(line, LineErrorKind::MissingFields));
        }
        loop {
            let key = self.token(KEY_END);
            if key.is_empty() {
                return Err(self.error(line, LineErrorKind::EmptyFieldKey));
            }
            if self.peek() != Some(b'=') {
                return Err(self.error(line, LineErrorKind::FieldWithoutValue { key: shorten(key) }));
            }
            self.pos += 1;
            let value = if self.peek() == Some(b'"') {
                self.string_value(line, key)?
            } else {
                let raw = self.token(VALUE_END);
                scalar(raw).ok_or_else(|| {
                    self.error(line, LineErrorKind::BadFieldValue { key: shorten(key), value: shorten(raw) })
                })?
            };
            out.fields.push((unescape_name(key), value));
            match self.peek() {
                Some(b',') => self.pos += 1,
                _ => break,
            }
        }
        if self.skip_spaces() {
            let raw = self.token(b" \t\r\n");
            let ts =
                raw.parse::<i64>().map_err(|_| self.error(line, LineErrorKind::BadTimestamp { text: shorten(raw) }))?;
            out.timestamp = Some(ts);
        }
        while let Some(b' ' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
        match self.peek() {
            None => Ok(()),
            Some(b'\n') => {
                self.pos += 1;
                self.line += 1;
                Ok(())
            }
            Some(_) => {
                let rest = self.token(b"\n");
                Err(self.error(line, LineErrorKind::TrailingText { text: shorten(rest) }))
            }
        }
    }

    /// Skips spaces; `true` when at least one was skipped and the line goes on.
    fn skip_spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        self.pos > start && !matches!(self.peek(), None | Some(b'\n' | b'\r'))
    }

    /// The raw text up to (not including) the first unescaped byte of `end`, or the end of the
    /// body. A backslash keeps the byte after it (unless that is a newline) inside the token.
    fn token(&mut self, end: &[u8]) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b'\\' {
                match self.bytes.get(self.pos + 1) {
                    Some(b'\n') | None => self.pos += 1,
                    Some(_) => self.pos += 2,
                }
                continue;
            }
            if end.contains(&b) {
                break;
            }
            self.pos += 1;
        }
        // Both ends are at ASCII bytes or the end of the text, hence on character boundaries;
        // `get` keeps that an invariant the compiler checks rather than a panic.
        self.text.get(start..self.pos).unwrap_or("")
    }

    /// A quoted string value, the opening quote at the current position.
    fn string_value(&mut self, line: usize, key: &str) -> Result<FieldValue<'a>, LineError> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => return Err(self.error(line, LineErrorKind::UnterminatedString { key: shorten(key) })),
                Some(b'\\') => {
                    escaped = true;
                    self.pos += if matches!(self.bytes.get(self.pos + 1), Some(b'"' | b'\\')) { 2 } else { 1 };
                }
                Some(b'"') => break,
                Some(b) => {
                    if b == b'\n' {
                        self.line += 1;
                    }
                    self.pos += 1;
                }
            }
        }
        let raw = self.text.get(start..self.pos).unwrap_or("");
        self.pos += 1;
        if !matches!(self.peek(), None | Some(b',' | b' ' | b'\n' | b'\r')) {
            let rest = self.token(VALUE_END);
            return Err(self.error(line, LineErrorKind::TrailingText { text: shorten(rest) }));
        }
        Ok(FieldValue::String(if escaped { Cow::Owned(unescape(raw, b"\"\\")) } else { Cow::Borrowed(raw) }))
    }
}

/// An unquoted field value: a number, integer, unsigned or boolean.
fn scalar(raw: &str) -> Option<FieldValue<'static>> {
    let bytes = raw.as_bytes();
    match bytes.last()? {
        b'i' => return raw.get(..raw.len() - 1)?.parse().ok().map(FieldValue::Integer),
        b'u' => return raw.get(..raw.len() - 1)?.parse().ok().map(FieldValue::Unsigned),
        _ => {}
    }
    match raw {
        "t" | "T" | "true" | "True" | "TRUE" => return Some(FieldValue::Boolean(true)),
        "f" | "F" | "false" | "False" | "FALSE" => return Some(FieldValue::Boolean(false)),
        _ => {}
    }
    // Only digits, signs, points and exponents: Rust's float parser would also take "inf"/"NaN".
    if !bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
        return None;
    }
    raw.parse::<f64>().ok().filter(|f| f.is_finite()).map(FieldValue::Float)
}

/// A measurement, key or tag value with its escapes resolved.
fn unescape_name(raw: &str) -> Cow<'_, str> {
    if raw.as_bytes().contains(&b'\\') { Cow::Owned(unescape(raw, b",= \\")) } else { Cow::Borrowed(raw) }
}

/// `raw` with every backslash before a byte of `escapable` removed.
fn unescape(raw: &str, escapable: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && next.is_ascii()
            && escapable.contains(&(next as u8))
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// `text` cut to at most 64 characters for an error message.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}...", text.get(..cut).unwrap_or("")),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
