//! Parser tests: every value form, escapes, comments, errors with line numbers, a round trip
//! through a renderer, and arbitrary bytes.

use std::borrow::Cow;

use proptest::prelude::*;

use super::*;

fn parse_all(text: &str) -> Result<Vec<Line<'_>>, LineError> {
    let mut parser = Parser::new(text);
    let mut out = Vec::new();
    let mut line = Line::default();
    while parser.next_line(&mut line)? {
        out.push(line.clone());
    }
    Ok(out)
}

fn one(text: &str) -> Line<'_> {
    let mut lines = parse_all(text).expect("parses");
    assert_eq!(lines.len(), 1, "{text}");
    lines.remove(0)
}

fn error(text: &str) -> LineError {
    parse_all(text).expect_err("refused")
}

#[test]
fn a_full_line_has_every_part() {
    let l = one("weather,station=KSEA,region=west temp=11.5,n=3i,u=7u,ok=t,note=\"dry\" 1700000000000000000");
    assert_eq!(l.measurement, "weather");
    assert_eq!(l.tags, vec![(Cow::from("station"), Cow::from("KSEA")), (Cow::from("region"), Cow::from("west"))]);
    assert_eq!(
        l.fields,
        vec![
            (Cow::from("temp"), FieldValue::Float(11.5)),
            (Cow::from("n"), FieldValue::Integer(3)),
            (Cow::from("u"), FieldValue::Unsigned(7)),
            (Cow::from("ok"), FieldValue::Boolean(true)),
            (Cow::from("note"), FieldValue::String(Cow::from("dry"))),
        ]
    );
    assert_eq!(l.timestamp, Some(1_700_000_000_000_000_000));
    assert_eq!(l.number, 1);
}

#[test]
fn the_timestamp_and_tags_are_optional() {
    let l = one("m v=1");
    assert!(l.tags.is_empty());
    assert_eq!(l.timestamp, None);
    assert_eq!(one("m v=1 -5").timestamp, Some(-5));
    assert_eq!(one("m v=1   42  \r").timestamp, Some(42));
}

#[test]
fn every_boolean_spelling_is_accepted() {
    for (text, want) in [
        ("t", true),
        ("T", true),
        ("true", true),
        ("True", true),
        ("TRUE", true),
        ("f", false),
        ("F", false),
        ("false", false),
        ("False", false),
        ("FALSE", false),
    ] {
        assert_eq!(one(&format!("m b={text}")).fields[0].1, FieldValue::Boolean(want), "{text}");
    }
    assert!(matches!(error("m b=tRUE").kind, LineErrorKind::BadFieldValue { .. }));
}

#[test]
fn numbers_in_every_form() {
    assert_eq!(one("m v=-1.5e3").fields[0].1, FieldValue::Float(-1500.0));
    assert_eq!(one("m v=1").fields[0].1, FieldValue::Float(1.0));
    assert_eq!(one("m v=.5").fields[0].1, FieldValue::Float(0.5));
    assert_eq!(one("m v=-9223372036854775808i").fields[0].1, FieldValue::Integer(i64::MIN));
    assert_eq!(one("m v=18446744073709551615u").fields[0].1, FieldValue::Unsigned(u64::MAX));
    for bad in ["NaN", "inf", "-Infinity", "1.5i", "-1u", "9223372036854775808i", "12x", "1..2", "i", "u"] {
        let e = error(&format!("m v={bad}"));
        assert!(matches!(e.kind, LineErrorKind::BadFieldValue { .. }), "{bad}: {e}");
    }
}

#[test]
fn escapes_in_names_and_strings() {
    let l = one(r#"my\ meas\,x,tag\ key\=1=a\,b\=c\ d\\ field\ k\=y="say \"hi\" \\ \n",v=1"#);
    assert_eq!(l.measurement, "my meas,x");
    assert_eq!(l.tags, vec![(Cow::from("tag key=1"), Cow::from(r"a,b=c d\"))]);
    assert_eq!(l.fields[0], (Cow::from("field k=y"), FieldValue::String(Cow::from(r#"say "hi" \ \n"#))));
    // Only escaped tokens are copied.
    assert!(matches!(one("m,a=b v=\"x\"").measurement, Cow::Borrowed(_)));
}

#[test]
fn strings_may_hold_separators_and_newlines() {
    let lines = parse_all("m s=\"a, b=c\nd\" 5\nm v=2\n").expect("parses");
    assert_eq!(lines[0].fields[0].1, FieldValue::String(Cow::from("a, b=c\nd")));
    assert_eq!(lines[0].timestamp, Some(5));
    assert_eq!(lines[1].number, 3);
}

#[test]
fn blank_lines_and_comments_are_skipped_and_counted() {
    let lines = parse_all("# header\n\n  \nm v=1\r\n# c\nm v=2").expect("parses");
    assert_eq!(lines.iter().map(|l| l.number).collect::<Vec<_>>(), vec![4, 6]);
    assert!(parse_all("").expect("empty").is_empty());
}

#[test]
fn errors_name_the_line_and_the_problem() {
    let e = error("m v=1\nm v=2\nm,host v=3\n");
    assert_eq!(e.line, 3);
    assert!(e.to_string().starts_with("line 3: tag \"host\" has no value"), "{e}");
    assert_eq!(error("m").kind, LineErrorKind::MissingFields);
    assert_eq!(error("m ").kind, LineErrorKind::MissingFields);
    assert_eq!(error(",a=b v=1").kind, LineErrorKind::MissingMeasurement);
    assert_eq!(error("m =1").kind, LineErrorKind::EmptyFieldKey);
    assert_eq!(error("m,=x v=1").kind, LineErrorKind::EmptyTagKey);
    assert!(matches!(error("m v").kind, LineErrorKind::FieldWithoutValue { .. }));
    assert!(matches!(error("m v=").kind, LineErrorKind::BadFieldValue { .. }));
    assert!(matches!(error("m v=\"abc").kind, LineErrorKind::UnterminatedString { .. }));
    assert!(matches!(error("m v=1 12.5").kind, LineErrorKind::BadTimestamp { .. }));
    assert!(matches!(error("m v=1 12 13").kind, LineErrorKind::TrailingText { .. }));
    assert!(matches!(error("m v=\"a\"b").kind, LineErrorKind::TrailingText { .. }));
}

/// Renders a line the way a client library does (escaping what needs escaping).
fn render(
    measurement: &str,
    tags: &[(String, String)],
    fields: &[(String, FieldValue<'_>)],
    ts: Option<i64>,
) -> String {
    let esc = |s: &str, specials: &[char]| {
        let mut out = String::new();
        for c in s.chars() {
            if specials.contains(&c) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    };
    let mut out = esc(measurement, &[',', ' ', '\\']);
    for (k, v) in tags {
        out.push_str(&format!(",{}={}", esc(k, &[',', '=', ' ', '\\']), esc(v, &[',', '=', ' ', '\\'])));
    }
    for (i, (k, v)) in fields.iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        out.push_str(&esc(k, &[',', '=', ' ', '\\']));
        out.push('=');
        match v {
            FieldValue::Float(f) => out.push_str(&format!("{f:?}")),
            FieldValue::Integer(i) => out.push_str(&format!("{i}i")),
            FieldValue::Unsigned(u) => out.push_str(&format!("{u}u")),
            FieldValue::Boolean(b) => out.push_str(if *b { "true" } else { "F" }),
            FieldValue::String(s) => out.push_str(&format!("\"{}\"", esc(s, &['"', '\\']))),
        }
    }
    if let Some(ts) = ts {
        out.push_str(&format!(" {ts}"));
    }
    out
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_ ,=\\\\\u{e9}]{0,12}"
}

fn field_value() -> impl Strategy<Value = FieldValue<'static>> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        "[ -~\n\u{e9}]{0,16}".prop_map(|s| FieldValue::String(Cow::Owned(s))),
    ]
}

proptest! {
    #[test]
    fn rendered_lines_parse_back(
        lines in proptest::collection::vec(
            (name(), proptest::collection::vec((name(), name()), 0..4),
             proptest::collection::vec((name(), field_value()), 1..5), proptest::option::of(any::<i64>())),
            1..5),
    ) {
        let text: String = lines.iter().map(|(m, t, f, ts)| render(m, t, f, *ts) + "\n").collect();
        let parsed = parse_all(&text).map_err(|e| TestCaseError::fail(format!("{e} in {text:?}")))?;
        prop_assert_eq!(parsed.len(), lines.len());
        for (got, (m, t, f, ts)) in parsed.iter().zip(&lines) {
            prop_assert_eq!(&*got.measurement, m.as_str());
            let tags: Vec<(String, String)> = got.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            prop_assert_eq!(&tags, t);
            let fields: Vec<(String, FieldValue<'_>)> = got.fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            prop_assert_eq!(&fields, f);
            prop_assert_eq!(got.timestamp, *ts);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let mut parser = Parser::new(&text);
        let mut line = Line::default();
        let mut n = 0;
        // Each call consumes at least one line, so this ends.
        while let Ok(true) | Err(_) = parser.next_line(&mut line) {
            n += 1;
            prop_assert!(n <= bytes.len() + 1, "the parser made no progress");
        }
    }

    #[test]
    fn line_protocol_shaped_text_never_panics(text in "[a-z,= \"\\\\\n0-9.tiu#-]{0,200}") {
        let mut parser = Parser::new(&text);
        let mut line = Line::default();
        let mut n = 0;
        while let Ok(true) | Err(_) = parser.next_line(&mut line) {
            n += 1;
            prop_assert!(n <= text.len() + 1, "the parser made no progress");
        }
    }
}
