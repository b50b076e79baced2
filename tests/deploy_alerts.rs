//! The shipped alert rules are valid and each has a runbook: `promtool check rules
//! deploy/alerts.yml` accepts them (Debian's `prometheus` package; under `CI` a missing promtool
//! fails the test), `deploy/prometheus.yml` loads them, every alert names a `runbook` section of
//! `docs/operations.md` that exists and is listed in its alert table, and every metric an alert
//! queries is one the server exports (documented in `docs/metrics.md`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The GitHub-style anchor of a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn alert_rules_pass_promtool_and_each_has_a_runbook() {
    let rules = root().join("deploy/alerts.yml");
    let text = std::fs::read_to_string(&rules).expect("deploy/alerts.yml");
    match Command::new("promtool").arg("check").arg("rules").arg(&rules).output() {
        Ok(out) => assert!(
            out.status.success(),
            "promtool check rules: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "promtool is missing ({e}); install Debian's prometheus");
            println!("SKIPPED the promtool check: promtool not found ({e})");
        }
    }
    let prometheus = std::fs::read_to_string(root().join("deploy/prometheus.yml")).expect("prometheus.yml");
    assert!(
        prometheus.contains("rule_files:") && prometheus.contains("- alerts.yml"),
        "prometheus.yml loads the rules"
    );

    let operations = std::fs::read_to_string(root().join("docs/operations.md")).expect("operations.md");
    let anchors: Vec<String> = operations
        .lines()
        .filter_map(|l| l.strip_prefix("## ").or_else(|| l.strip_prefix("### ")))
        .map(anchor)
        .collect();
    let alerts: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).collect();
    let runbooks: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("runbook: \"docs/operations.md#"))
        .map(|r| r.trim_end_matches('"'))
        .collect();
    assert!(alerts.len() >= 5, "{alerts:?}");
    assert_eq!(alerts.len(), runbooks.len(), "every alert has a runbook annotation");
    for (alert, runbook) in alerts.iter().zip(&runbooks) {
        assert!(anchors.iter().any(|a| a == runbook), "{alert}: no section #{runbook} in docs/operations.md");
        assert!(operations.contains(&format!("`{alert}`")), "{alert} is not in the alert table of operations.md");
    }
    for required in ["read-only", "disk-full", "memory", "wal-backlog"] {
        assert!(runbooks.contains(&required), "an alert with the {required} runbook");
    }

    let metrics = std::fs::read_to_string(root().join("docs/metrics.md")).expect("metrics.md");
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if (word.starts_with("isobar_") || word.starts_with("process_")) && word.len() > 8 {
            assert!(metrics.contains(&format!("`{word}`")), "alerts query {word}, which docs/metrics.md does not list");
        }
    }
}
