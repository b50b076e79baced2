//! Column references in requests: `family.column` or `family.*`.

use std::fmt;

use isobar_wire::shown::shown;

/// A column, or every column of a family, named in a request: parsed once, where the request
/// is made (from the wire in [`crate::request`], from JSON or TOML by serde, or with
/// [`str::parse`] in process), and resolved against the catalog by [`crate::resolve`].
/// Serialized as its text, `family.column` or `family.*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ColumnRef {
    /// Family name.
    pub family: String,
    /// Column name; `None` for `family.*`.
    pub column: Option<String>,
}

/// A column reference that is not `family.column` or `family.*`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("\"{text}\" is not family.column or family.*: {reason}")]
pub struct ColumnRefError {
    /// The reference (escaped, at most 128 characters).
    pub text: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl ColumnRef {
    /// Parses `family.column` or `family.*`. Names are checked against the catalog later, so
    /// only the shape is checked here: one dot, both sides non-empty.
    pub fn parse(text: &str) -> Result<Self, ColumnRefError> {
        let err = |reason| ColumnRefError { text: shown(text), reason };
        let (family, column) = text.split_once('.').ok_or_else(|| err("there is no '.'"))?;
        if family.is_empty() {
            return Err(err("the family name is empty"));
        }
        if column.is_empty() {
            return Err(err("the column name is empty"));
        }
        if column.contains('.') {
            return Err(err("there is more than one '.'"));
        }
        let column = (column != "*").then(|| column.to_owned());
        Ok(Self { family: family.to_owned(), column })
    }

    /// True for `family.*`.
    pub fn is_wildcard(&self) -> bool {
        self.column.is_none()
    }
}

impl std::str::FromStr for ColumnRef {
    type Err = ColumnRefError;

    fn from_str(text: &str) -> Result<Self, ColumnRefError> {
        Self::parse(text)
    }
}

impl TryFrom<String> for ColumnRef {
    type Error = ColumnRefError;

    fn try_from(text: String) -> Result<Self, ColumnRefError> {
        Self::parse(&text)
    }
}

impl From<ColumnRef> for String {
    fn from(column: ColumnRef) -> String {
        column.to_string()
    }
}

impl fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.family, self.column.as_deref().unwrap_or("*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_columns_and_wildcards() {
        let c = ColumnRef::parse("gps.lat").expect("valid");
        assert_eq!((c.family.as_str(), c.column.as_deref()), ("gps", Some("lat")));
        assert_eq!(c.to_string(), "gps.lat");
        let w = ColumnRef::parse("gps.*").expect("valid");
        assert!(w.is_wildcard());
        assert_eq!(w.to_string(), "gps.*");
    }

    #[test]
    fn serializes_as_its_text() {
        let c: ColumnRef = serde_json::from_str("\"gps.*\"").expect("valid");
        assert!(c.is_wildcard());
        assert_eq!(serde_json::to_string(&c).expect("serializes"), "\"gps.*\"");
        let err = serde_json::from_str::<ColumnRef>("\"lat\"").expect_err("no dot");
        assert!(err.to_string().contains("\"lat\" is not family.column or family.*"), "{err}");
    }

    #[test]
    fn refuses_other_shapes_with_a_reason() {
        for (text, reason) in [
            ("lat", "there is no '.'"),
            (".lat", "the family name is empty"),
            ("gps.", "the column name is empty"),
            ("a.b.c", "there is more than one '.'"),
        ] {
            assert_eq!(ColumnRef::parse(text), Err(ColumnRefError { text: text.into(), reason }));
        }
    }
}
