//! Splitting typed or piped text into SQL statements: a statement ends at a `;` outside quotes
//! (`'...'`, `"..."`) and comments (`-- ...` to the end of the line, `/* ... */`), so a
//! statement can span lines and a `;` inside a string does not end it.

/// Collects text and hands out complete statements (trimmed, without the `;`).
#[derive(Debug, Default)]
pub struct Splitter {
    pending: String,
}

/// Where the scan is inside the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    Single,
    Double,
    LineComment,
    BlockComment,
}

impl Splitter {
    /// Adds `text`; the statements it completes.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.pending.push_str(text);
        let mut done = Vec::new();
        let mut state = State::Code;
        let mut start = 0;
        let mut chars = self.pending.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let next = chars.peek().map(|(_, n)| *n);
            state = match (state, c) {
                (State::Code, '\'') => State::Single,
                (State::Code, '"') => State::Double,
                (State::Code, '-') if next == Some('-') => State::LineComment,
                (State::Code, '/') if next == Some('*') => {
                    chars.next();
                    State::BlockComment
                }
                (State::Code, ';') => {
                    let statement = self.pending.get(start..at).unwrap_or_default().trim();
                    if !statement.is_empty() {
                        done.push(statement.to_owned());
                    }
                    start = at + 1;
                    State::Code
                }
                (State::Single, '\'') | (State::Double, '"') | (State::LineComment, '\n') => State::Code,
                (State::BlockComment, '*') if next == Some('/') => {
                    chars.next();
                    State::Code
                }
                (state, _) => state,
            };
        }
        self.pending.drain(..start);
        done
    }

    /// Whether text of an unfinished statement is waiting.
    pub fn is_pending(&self) -> bool {
        !self.pending.trim().is_empty()
    }

    /// The unfinished rest as a last statement (end of input), if any.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        let rest = rest.trim();
        (!rest.is_empty()).then(|| rest.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments_across_lines() {
        let mut s = Splitter::default();
        assert_eq!(s.push("SELECT 1;"), vec!["SELECT 1"]);
        assert!(!s.is_pending());
        assert!(s.push("SELECT 'a;b',\n").is_empty());
        assert!(s.is_pending());
        assert!(s.push("  \"x;y\" -- c;omment\n").is_empty());
        assert!(s.push("/* ; */ FROM t").is_empty());
        assert_eq!(
            s.push("; SELECT 2; SELECT"),
            vec!["SELECT 'a;b',\n  \"x;y\" -- c;omment\n/* ; */ FROM t", "SELECT 2"]
        );
        assert_eq!(s.finish(), Some("SELECT".to_owned()));
        assert_eq!(s.finish(), None);
        assert!(s.push(" ;; ").is_empty(), "empty statements are skipped");
    }
}
