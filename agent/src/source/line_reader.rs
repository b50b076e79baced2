//! Lines from a byte stream with a bound on what one line may hold in memory. A peer that sends
//! megabytes without a newline costs at most `max` bytes: past it the line is dropped while the
//! rest of it is read and discarded up to the next newline, then reading goes on.

use std::io::{BufRead, BufReader, Read};

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes, without its newline.
    Text(Vec<u8>),
    /// A line longer than the limit, dropped; `bytes` is its length (without newline).
    TooLong {
        /// Length of the dropped line.
        bytes: usize,
    },
}

/// A bounded line reader.
pub struct LineReader<R> {
    inner: BufReader<R>,
    max: usize,
    line: Vec<u8>,
    /// Bytes of an over-long line seen so far (its bytes are not kept).
    dropping: Option<usize>,
    peak: usize,
}

impl<R: Read> LineReader<R> {
    /// Reads `inner` with lines of at most `max` bytes.
    pub fn new(inner: R, max: usize) -> Self {
        Self { inner: BufReader::new(inner), max, line: Vec::new(), dropping: None, peak: 0 }
    }

    /// Whether nothing read from the stream is waiting in the buffer.
    pub fn buffer_is_empty(&self) -> bool {
        self.inner.buffer().is_empty()
    }

    /// The most bytes of one line held at any time (never above the limit).
    pub fn peak_line_bytes(&self) -> usize {
        self.peak
    }

    /// The next line, `None` at the end of the stream.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                if let Some(bytes) = self.dropping.take() {
                    return Ok(Some(Line::TooLong { bytes }));
                }
                if self.line.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(Line::Text(std::mem::take(&mut self.line))));
            }
            let newline = buf.iter().position(|&b| b == b'\n');
            let part = buf.get(..newline.unwrap_or(buf.len())).unwrap_or_default();
            let taken = part.len() + usize::from(newline.is_some());
            match self.dropping.as_mut() {
                Some(bytes) => *bytes += part.len(),
                None if self.line.len() + part.len() > self.max => {
                    self.dropping = Some(self.line.len() + part.len());
                    self.line = Vec::new();
                }
                None => {
                    self.line.extend_from_slice(part);
                    self.peak = self.peak.max(self.line.len());
                }
            }
            self.inner.consume(taken);
            if newline.is_some() {
                if let Some(bytes) = self.dropping.take() {
                    return Ok(Some(Line::TooLong { bytes }));
                }
                return Ok(Some(Line::Text(std::mem::take(&mut self.line))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn megabytes_without_newline_never_buffer_more_than_the_limit() {
        let max = 64 << 10;
        let flood = std::io::repeat(b'a').take(8 << 20);
        let mut reader = LineReader::new(flood.chain(&b"\nm v=1 1\n"[..]), max);
        assert_eq!(reader.next_line().expect("reads"), Some(Line::TooLong { bytes: 8 << 20 }));
        assert_eq!(reader.next_line().expect("reads"), Some(Line::Text(b"m v=1 1".to_vec())));
        assert_eq!(reader.next_line().expect("reads"), None);
        assert!(reader.peak_line_bytes() <= max, "held {} bytes of one line", reader.peak_line_bytes());
    }

    #[test]
    fn lines_up_to_the_limit_pass_and_a_last_line_needs_no_newline() {
        let mut reader = LineReader::new(&b"abcd\nabcde\nxy"[..], 4);
        assert_eq!(reader.next_line().expect("reads"), Some(Line::Text(b"abcd".to_vec())));
        assert_eq!(reader.next_line().expect("reads"), Some(Line::TooLong { bytes: 5 }));
        assert_eq!(reader.next_line().expect("reads"), Some(Line::Text(b"xy".to_vec())));
        assert_eq!(reader.next_line().expect("reads"), None);
        let mut tail = LineReader::new(&b"toolong"[..], 4);
        assert_eq!(tail.next_line().expect("reads"), Some(Line::TooLong { bytes: 7 }));
    }
}
