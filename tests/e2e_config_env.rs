//! A misspelled `ISOBAR_*` variable refuses to start with the closest key as a suggestion
//! (a typo must not fall back to a default silently); the client's own variables are allowed;
//! `ISOBAR_UNKNOWN_ENV=warn` downgrades the refusal to a warning.

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

/// `isobar serve --print-config` with `env`: (success, stdout, stderr). Exits at once.
fn print_config(env: &[(&str, &str)]) -> (bool, String, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(BIN);
    command.args(["serve", "--print-config", "--data-dir"]).arg(tmp.path()).stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_misspelled_variable_refuses_to_start_and_names_the_key_it_resembles() {
    let (ok, _, stderr) = print_config(&[("ISOBAR_STORAGE_MEMTABLE_BUDGE", "1GiB")]);
    assert!(!ok, "refused");
    assert!(
        stderr.contains("ISOBAR_STORAGE_MEMTABLE_BUDGE")
            && stderr.contains("did you mean ISOBAR_STORAGE_MEMTABLE_BUDGET?"),
        "{stderr}"
    );

    let (ok, stdout, stderr) = print_config(&[("ISOBAR_ADDR", "http://127.0.0.1:1"), ("ISOBAR_TOKEN", "secret")]);
    assert!(ok, "the client's variables are allowed: {stderr}");
    assert!(stdout.contains("[server]"), "{stdout}");

    let (ok, _, stderr) = print_config(&[("ISOBAR_STORAGE_MEMTABLE_BUDGE", "1GiB"), ("ISOBAR_UNKNOWN_ENV", "warn")]);
    assert!(ok, "only a warning behind the switch: {stderr}");
}
