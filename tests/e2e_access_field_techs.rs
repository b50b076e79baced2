//! The access catalog through the real server and CLI (issue 21, "What must be shown"): an admin
//! creates the group `field-techs` with `add` on `weather`; a user in it writes and is refused
//! a scan, is granted `view` and scans, is removed from the group and is refused the next
//! write; the catalog survives a restart; secrets on the command line are refused.

use std::path::Path;
use std::process::{Command, Output};

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

fn cli(addr: &std::net::SocketAddr, token: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--addr")
        .arg(format!("http://{addr}"))
        .args(args)
        .env("ISOBAR_TOKEN", token)
        .output()
        .expect("client runs")
}

fn ok(addr: &std::net::SocketAddr, token: &str, args: &[&str]) -> String {
    let out = cli(addr, token, args);
    assert!(out.status.success(), "isobar {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

fn refused(addr: &std::net::SocketAddr, token: &str, args: &[&str], code: &str) -> String {
    let out = cli(addr, token, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && stderr.contains(code), "isobar {args:?} should fail with {code}: {stderr}");
    stderr
}

fn start(dir: &Path, config: &Path) -> isobar_testkit::server::ServerProcess {
    ServerCommand::new(BIN, dir.join("data")).arg("--config").arg(config).start().expect("serve starts")
}

#[test]
fn field_techs_write_are_refused_a_scan_get_view_and_lose_add_with_the_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (admin, entry) = generate("ops");
    let entry = entry.replace("[\"read\"]", "[\"admin\"]");
    let config = dir.path().join("isobar.toml");
    std::fs::write(&config, format!("[auth]\nenabled = true\n\n{entry}")).expect("config");
    let mut server = start(dir.path(), &config);
    let addr = server.addr();
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, "series,ts,env.temp:f64\ns1,2024-05-01T00:00:00Z,1.5\n").expect("csv");
    let csv = csv.to_str().expect("utf8");

    ok(&addr, &admin, &["table", "create", "weather", "--family", "env:temp=f64"]);
    ok(&addr, &admin, &["group", "create", "field-techs"]);
    ok(&addr, &admin, &["grant", "--group", "field-techs", "weather", "add"]);
    ok(&addr, &admin, &["user", "create", "tech1"]);
    ok(&addr, &admin, &["group", "add-member", "field-techs", "tech1"]);
    let secret = ok(&addr, &admin, &["token", "issue", "tech1", "laptop"]);
    let tech = secret.trim();
    assert!(tech.starts_with("isobar_") && !tech.contains('\n'), "only the secret on stdout: {secret:?}");

    let me = ok(&addr, tech, &["--format", "csv", "whoami"]);
    assert!(me.contains("tech1,catalog,laptop,,field-techs,weather=add"), "{me}");
    ok(&addr, tech, &["write", "--table", "weather", "--file", csv]);
    let denied = refused(&addr, tech, &["scan", "weather", "--all"], "PERMISSION_DENIED");
    assert!(denied.contains("view"), "{denied}");

    ok(&addr, &admin, &["grant", "--user", "tech1", "weather", "view"]);
    let rows = ok(&addr, tech, &["--format", "csv", "scan", "weather", "--all"]);
    assert!(rows.contains("s1,2024-05-01T00:00:00Z,1.5"), "{rows}");

    ok(&addr, &admin, &["group", "remove-member", "field-techs", "tech1"]);
    let denied = refused(&addr, tech, &["write", "--table", "weather", "--file", csv], "PERMISSION_DENIED");
    assert!(denied.contains("add"), "{denied}");

    // Users and the config file's tokens are listed; the file token cannot be changed.
    let users = ok(&addr, &admin, &["--format", "csv", "user", "list"]);
    assert!(users.contains("ops,config file,yes") && users.contains("tech1,catalog,yes"), "{users}");
    refused(&addr, &admin, &["user", "create", "ops"], "FAILED_PRECONDITION");
    // Refusals and changes are in the audit log.
    let audit = ok(&addr, &admin, &["--format", "csv", "audit"]);
    assert!(audit.contains("remove_member") && audit.contains("denied:"), "{audit}");

    // The catalog survives a restart: tech1 still views, still may not add.
    server.terminate().expect("SIGTERM sent");
    assert!(server.wait().expect("exits").success());
    let mut server = start(dir.path(), &config);
    let addr = server.addr();
    let rows = ok(&addr, tech, &["--format", "csv", "scan", "weather", "--all"]);
    assert!(rows.contains("s1,2024-05-01T00:00:00Z,1.5"), "{rows}");
    refused(&addr, tech, &["write", "--table", "weather", "--file", csv], "PERMISSION_DENIED");

    // Revoking the token and disabling take effect on the next call.
    ok(&addr, &admin, &["token", "revoke", "tech1", "laptop"]);
    refused(&addr, tech, &["whoami"], "UNAUTHENTICATED");
    server.terminate().expect("SIGTERM sent");
    assert!(server.wait().expect("exits").success());
}

#[test]
fn secrets_on_the_command_line_and_bad_input_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (admin, entry) = generate("ops");
    let entry = entry.replace("[\"read\"]", "[\"admin\"]");
    let config = dir.path().join("isobar.toml");
    std::fs::write(&config, format!("[auth]\nenabled = true\n\n{entry}")).expect("config");
    let mut server = start(dir.path(), &config);
    let addr = server.addr();

    let argv = refused(&addr, &admin, &["user", "create", "alice", "--password", "hunter2hunter2"], "--password");
    assert!(argv.contains("never taken as a command-line argument") && !argv.contains("hunter2"), "{argv}");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "correct horse battery\n").expect("pw");
    ok(&addr, &admin, &["user", "create", "alice", "--password-file", pw.to_str().expect("utf8")]);
    let bad = refused(&addr, &admin, &["user", "create", "9lives"], "INVALID_ARGUMENT");
    assert!(bad.contains("start with a letter"), "{bad}");
    let bad = refused(&addr, &admin, &["grant", "--user", "alice", "weather", "fly"], "INVALID_ARGUMENT");
    assert!(bad.contains("unknown permission \"fly\""), "{bad}");
    refused(&addr, &admin, &["grant", "--user", "nobody", "weather", "view"], "NOT_FOUND");
    let listed = ok(&addr, &admin, &["--format", "csv", "user", "describe", "alice"]);
    assert!(listed.contains("alice,catalog,yes") && !listed.contains("correct horse"), "{listed}");
    server.terminate().expect("SIGTERM sent");
    assert!(server.wait().expect("exits").success());
}
