//! The `isobar` binary with authentication: `auth hash-token` makes the config entry, `serve`
//! enforces it, client commands send the token from `$ISOBAR_TOKEN` or `--token-file`, and the
//! JSON log carries the call's span fields (rpc, peer, principal) but never the secret.

use std::io::Write;
use std::process::{Command, Stdio};

use isobar_testkit::server::ServerCommand;

const BIN: &str = env!("CARGO_BIN_EXE_isobar");

/// `isobar auth hash-token --generate --name NAME`: the secret and the config entry.
fn generate(name: &str) -> (String, String) {
    let out = Command::new(BIN).args(["auth", "hash-token", "--generate", "--name", name]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let secret = text.lines().find(|l| l.starts_with("isobar_")).expect("secret printed").to_owned();
    let entry: String =
        text.lines().skip_while(|l| !l.starts_with("[[auth.tokens]]")).map(|l| format!("{l}\n")).collect();
    (secret, entry)
}

#[test]
fn hash_token_reads_the_secret_from_stdin() {
    let mut child = Command::new(BIN)
        .args(["auth", "hash-token", "--name", "agent"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(b"test\n").expect("write");
    let out = child.wait_with_output().expect("waits");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(text.contains("sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""), "{text}");
    assert!(!text.contains("test\n") && text.contains("name = \"agent\""), "{text}");
}

#[test]
fn tokens_from_env_or_file_are_enforced_and_json_logs_carry_span_fields_but_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (secret, entry) = generate("ops");
    let entry = entry.replace("[\"read\"]", "[\"admin\"]");
    let config = dir.path().join("isobar.toml");
    std::fs::write(&config, format!("[auth]\nenabled = true\n\n{entry}")).expect("config");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{secret}\n")).expect("token file");
    let log = dir.path().join("server.log");
    let mut server = ServerCommand::new(BIN, dir.path().join("data"))
        .arg("--config")
        .arg(&config)
        .env("ISOBAR_LOG_FORMAT", "json")
        .env("ISOBAR_LOG_LEVEL", "debug,h2=info,hyper=info,tower=info,isobar_storage=info")
        .log_file(&log)
        .start()
        .expect("serve starts");
    let addr = server.addr();
    let client = |args: &[&str], token: Option<&str>| {
        let mut command = Command::new(BIN);
        command.arg("--addr").arg(format!("http://{addr}")).args(args).env_remove("ISOBAR_TOKEN");
        if let Some(token) = token {
            command.env("ISOBAR_TOKEN", token);
        }
        command.output().expect("client runs")
    };
    let create = ["table", "create", "weather", "--family", "env:temp=f64"];
    let refused = client(&create, None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("UNAUTHENTICATED"), "{refused:?}");
    let wrong = client(&create, Some("isobar_not-the-secret"));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("UNAUTHENTICATED"), "{wrong:?}");
    let created = client(&create, Some(&secret));
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let token_file = token_file.to_str().expect("utf8 path");
    let listed = client(&["--token-file", token_file, "table", "list"], None);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("weather"));

    server.terminate().expect("SIGTERM sent");
    assert!(server.wait().expect("exits").success());
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains(&secret), "the secret is never logged");
    assert!(!text.contains("not-the-secret"), "nor a wrong one");
    let lines: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("JSON line {l}: {e}"))).collect();
    // Flat JSON: the event's and the span's fields sit at the top level (no `fields`/`span`).
    for line in &lines {
        assert!(line.get("fields").is_none() && line.get("span").is_none() && line.get("spans").is_none(), "{line}");
    }
    let refusal = lines
        .iter()
        .find(|l| l["message"].as_str().is_some_and(|m| m.contains("not authenticated")))
        .expect("refusal logged");
    assert_eq!(refusal["level"], "WARN");
    assert_eq!(refusal["rpc"], "isobar.v1.Admin/CreateTable");
    assert!(refusal["peer"].as_str().is_some_and(|p| p.starts_with("127.0.0.1:")), "{refusal}");
    let finished: Vec<&serde_json::Value> = lines.iter().filter(|l| l["message"] == "call finished").collect();
    let ok_create = finished
        .iter()
        .find(|l| l["rpc"] == "isobar.v1.Admin/CreateTable" && l["code"] == "OK")
        .expect("successful create logged");
    assert_eq!(ok_create["principal"], "ops");
    assert!(ok_create["duration_ms"].as_f64().is_some(), "{ok_create}");
    assert!(
        finished.iter().any(|l| l["rpc"] == "isobar.v1.Admin/ListTables" && l["principal"] == "ops"),
        "{finished:?}"
    );
    assert!(finished.iter().any(|l| l["code"] == "Unauthenticated"), "{finished:?}");
}
