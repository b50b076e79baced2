//! JSON Lines records: one JSON object per line; the keys of the first object, in their order,
//! are the header.
//!
//! A value is a number (its JSON text), a string, a boolean (`true`, `false`) or null (an empty
//! field, as in CSV). A nested object or array is refused naming the line and the key, and so
//! is a key that the header lacks, unless `--map` is given: then, as with CSV, what is not
//! mapped is skipped. A missing key is null. Blank lines are skipped; lines are the file's.

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{FieldKind, Header, Records};
use crate::cli::import::error::{ImportError, Place};
use crate::cli::import::options::ImportOptions;

/// A UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The records of a JSON Lines file.
pub struct JsonlRecords<R: Read> {
    input: BufReader<R>,
    line: u64,
    skip_lines: usize,
    /// With `--map`: keys the header lacks are skipped instead of refused.
    lenient: bool,
    buf: Vec<u8>,
    /// The first object, read by `header` and returned by the first `next_record`.
    first: Option<(u64, Vec<(String, Value)>)>,
    names: Vec<String>,
    index: HashMap<String, usize>,
    header_line: u64,
    /// Which fields the import uses.
    used: Vec<bool>,
    /// The current object's fields, as text.
    texts: Vec<String>,
    seen: Vec<bool>,
}

impl<R: Read> JsonlRecords<R> {
    /// Reads `input` after `--skip-lines` lines.
    pub fn new(input: R, options: &ImportOptions) -> Result<Self, ImportError> {
        Ok(Self {
            input: BufReader::with_capacity(1 << 16, input),
            line: 0,
            skip_lines: options.skip_lines,
            lenient: !options.maps.is_empty(),
            buf: Vec::new(),
            first: None,
            names: Vec::new(),
            index: HashMap::new(),
            header_line: 0,
            used: Vec::new(),
            texts: Vec::new(),
            seen: Vec::new(),
        })
    }

    /// The next non-blank line, as bytes in `self.buf` without its line end; `false` at the end.
    fn read_line(&mut self) -> Result<bool, ImportError> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| ImportError::Io { line: self.line + 1, source })?;
            if n == 0 {
                return Ok(false);
            }
            self.line += 1;
            if self.line == 1 && self.buf.starts_with(BOM) {
                self.buf.drain(..BOM.len());
            }
            while self.buf.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                self.buf.pop();
            }
            if self.line as usize > self.skip_lines && !self.buf.iter().all(u8::is_ascii_whitespace) {
                return Ok(true);
            }
        }
    }

    /// The object on the current line.
    fn parse(&self) -> Result<Vec<(String, Value)>, ImportError> {
        let line = self.line;
        let mut de = serde_json::Deserializer::from_slice(&self.buf);
        let parsed = LineValue::deserialize(&mut de).and_then(|v| de.end().map(|()| v));
        match parsed {
            Ok(LineValue::Object(entries)) => Ok(entries),
            Ok(LineValue::Other(found)) => Err(ImportError::JsonNotObject { line, found }),
            Err(e) => {
                let text = e.to_string();
                let reason = text.rsplit_once(" at line ").map_or(text.as_str(), |(reason, _)| reason).to_owned();
                Err(ImportError::Json { line, column: e.column(), reason })
            }
        }
    }

    /// Puts an object's values into `record` in the header's order.
    fn fill(
        &mut self,
        line: u64,
        entries: Vec<(String, Value)>,
        record: &mut csv::StringRecord,
    ) -> Result<(), ImportError> {
        self.seen.iter_mut().for_each(|s| *s = false);
        self.texts.iter_mut().for_each(String::clear);
        for (key, value) in entries {
            let Some(&i) = self.index.get(&key) else {
                if self.lenient {
                    continue;
                }
                return Err(ImportError::JsonUnknownKey {
                    line,
                    key,
                    header_line: self.header_line,
                    header: self.names.join(", "),
                });
            };
            match self.seen.get_mut(i) {
                Some(seen) if *seen => return Err(ImportError::JsonDuplicateKey { line, key }),
                Some(seen) => *seen = true,
                None => continue,
            }
            if !self.used.get(i).copied().unwrap_or(false) {
                continue;
            }
            let Some(text) = self.texts.get_mut(i) else { continue };
            match value {
                Value::Null => {}
                Value::Bool(b) => text.push_str(if b { "true" } else { "false" }),
                Value::Number(n) => {
                    let _ = write!(text, "{n}");
                }
                Value::String(s) => *text = s,
                Value::Array(_) => return Err(ImportError::JsonNested { line, key, found: "an array" }),
                Value::Object(_) => return Err(ImportError::JsonNested { line, key, found: "an object" }),
            }
        }
        record.clear();
        for text in &self.texts {
            record.push_field(text);
        }
        Ok(())
    }
}

impl<R: Read> Records for JsonlRecords<R> {
    fn header(&mut self) -> Result<Header, ImportError> {
        if !self.read_line()? {
            return Err(ImportError::NoHeader { skipped: self.skip_lines });
        }
        let entries = self.parse()?;
        let line = self.line;
        for (i, (key, _)) in entries.iter().enumerate() {
            if self.index.insert(key.clone(), i).is_some() {
                return Err(ImportError::JsonDuplicateKey { line, key: key.clone() });
            }
        }
        self.names = entries.iter().map(|(k, _)| k.clone()).collect();
        self.header_line = line;
        let width = self.names.len();
        self.texts = vec![String::new(); width];
        self.seen = vec![false; width];
        self.used = vec![true; width];
        self.first = Some((line, entries));
        Ok(Header { names: self.names.clone(), at: Place::Line(line), kinds: vec![FieldKind::Text; width] })
    }

    fn select(&mut self, fields: &[usize]) -> Result<(), ImportError> {
        self.used.iter_mut().for_each(|u| *u = false);
        for &i in fields {
            if let Some(u) = self.used.get_mut(i) {
                *u = true;
            }
        }
        Ok(())
    }

    fn next_record(&mut self, record: &mut csv::StringRecord) -> Result<Option<Place>, ImportError> {
        let (line, entries) = match self.first.take() {
            Some(first) => first,
            None => {
                if !self.read_line()? {
                    return Ok(None);
                }
                (self.line, self.parse()?)
            }
        };
        self.fill(line, entries, record)?;
        Ok(Some(Place::Line(line)))
    }
}

/// One line's JSON: an object's entries in their order, or what else it is.
enum LineValue {
    Object(Vec<(String, Value)>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for LineValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LineVisitor)
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = LineValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LineValue, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            entries.push(entry);
        }
        Ok(LineValue::Object(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LineValue, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LineValue::Other("an array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<LineValue, E> {
        Ok(LineValue::Other("a string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<LineValue, E> {
        Ok(LineValue::Other("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<LineValue, E> {
        Ok(LineValue::Other("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<LineValue, E> {
        Ok(LineValue::Other("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<LineValue, E> {
        Ok(LineValue::Other("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<LineValue, E> {
        Ok(LineValue::Other("null"))
    }
}
